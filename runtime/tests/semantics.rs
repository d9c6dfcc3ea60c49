//! One test per semantic rule of LANGUAGE.md §4, §4.1 and §9: tiny programs, tiny event
//! lists, the exact records expected.

mod common;

use common::*;
use nudge_runtime::runner::RunOptions;

const ABANDON: &str = r#"
pattern abandon
  when A as cart
  then not B within 15m
  emit { n: cart.n }
"#;

#[test]
fn trailing_negation_completes_at_the_deadline() {
    let c = run_events(ABANDON, "A u1 0 1\nX u1 60");
    assert_eq!(times(&c), vec![900.0]);
    assert_eq!(field(&c, "n"), vec![serde_json::json!(1)]);
}

#[test]
fn purchase_before_the_deadline_prevents_the_record() {
    let c = run_events(ABANDON, "A u1 0\nB u1 899.999");
    assert!(c.records.is_empty(), "{:?}", c.records);
}

#[test]
fn purchase_at_exactly_the_deadline_is_outside_it() {
    let c = run_events(ABANDON, "A u1 0\nB u1 900");
    assert_eq!(times(&c), vec![900.0]);
}

#[test]
fn negation_only_counts_for_the_same_key() {
    let c = run_events(ABANDON, "A u1 0\nB u2 10");
    assert_eq!(times(&c), vec![900.0]);
}

#[test]
fn three_carts_under_skip_give_one_record() {
    let c = run_events(ABANDON, "A u1 0 1\nA u1 60 2\nA u1 120 3");
    assert_eq!(times(&c), vec![900.0]);
    assert_eq!(field(&c, "n"), vec![serde_json::json!(1)]);
}

#[test]
fn three_carts_under_keep_all_give_three_records() {
    let p = r#"
pattern abandon
  when A as cart
  then not B within 15m
  after match keep all
  emit { n: cart.n }
"#;
    let c = run_events(p, "A u1 0 1\nA u1 60 2\nA u1 120 3");
    assert_eq!(times(&c), vec![900.0, 960.0, 1020.0]);
}

#[test]
fn cooldown_drops_matches_until_it_ends() {
    let p = r#"
pattern once
  when A
  cooldown 10m
  emit { n: n }
"#;
    let c = run_events(p, "A u1 0 1\nA u2 10 5\nA u1 300 2\nA u1 599 3\nA u1 600 4");
    assert_eq!(
        field(&c, "n"),
        vec![
            serde_json::json!(1),
            serde_json::json!(5),
            serde_json::json!(4)
        ]
    );
    assert_eq!(c.summary.engine.cooldown_dropped, 2);
}

#[test]
fn a_match_dropped_by_cooldown_still_discards_other_runs() {
    let p = r#"
pattern pair
  when A as a
  then B within 1h
  cooldown 1h
  emit { a: a.n, b: n }
"#;
    // (A1,B2) emits at 10; A3 and A4 start runs; B5 completes A3's run, dropped by the
    // cooldown, and discards A4's run: B6 then finds no run.
    let c = run_events(
        p,
        "A u1 0 1\nB u1 10 2\nA u1 20 3\nA u1 30 4\nB u1 40 5\nB u1 50 6",
    );
    assert_eq!(c.records.len(), 1);
    assert_eq!(c.summary.engine.cooldown_dropped, 1);
    assert_eq!(c.summary.engine.runs_discarded, 1);
}

#[test]
fn skip_never_reuses_events() {
    let p = r#"
pattern pair
  when A as first
  then A as second within 1h
  emit { a: first.n, b: second.n }
"#;
    let c = run_events(p, "A u1 0 0\nA u1 1 1\nA u1 2 2\nA u1 3 3");
    assert_eq!(
        field(&c, "a"),
        vec![serde_json::json!(0), serde_json::json!(2)]
    );
    assert_eq!(
        field(&c, "b"),
        vec![serde_json::json!(1), serde_json::json!(3)]
    );
}

#[test]
fn keep_all_reuses_events() {
    let p = r#"
pattern pair
  when A as first
  then A as second within 1h
  after match keep all
  emit { a: first.n, b: second.n }
"#;
    let c = run_events(p, "A u1 0 0\nA u1 1 1\nA u1 2 2\nA u1 3 3");
    assert_eq!(
        field(&c, "a"),
        vec![
            serde_json::json!(0),
            serde_json::json!(1),
            serde_json::json!(2)
        ]
    );
}

#[test]
fn then_next_is_broken_by_another_event() {
    let p = r#"
pattern straight
  when A
  then next B within 1h
  emit { n: n }
"#;
    assert_eq!(run_events(p, "A u1 0\nB u1 1 7").records.len(), 1);
    assert!(run_events(p, "A u1 0\nX u1 1\nB u1 2").records.is_empty());
    // Another key's event does not break it.
    assert_eq!(run_events(p, "A u1 0\nX u2 1\nB u1 2").records.len(), 1);
}

#[test]
fn then_next_after_a_growing_step() {
    let p = r#"
pattern grow
  when A+ as as_
  then next B within 1h
  emit { k: count(as_) }
"#;
    let c = run_events(p, "A u1 0\nA u1 1\nB u1 2");
    assert_eq!(field(&c, "k"), vec![serde_json::json!(2)]);
    assert!(run_events(p, "A u1 0\nX u1 1\nB u1 2").records.is_empty());
}

#[test]
fn at_least_two_then_the_same_type() {
    let p = r#"
pattern views
  when A{2,} as vs
  then A as last within 1h
  emit { k: count(vs), last: last.n }
"#;
    assert!(run_events(p, "A u1 0 0\nA u1 1 1").records.is_empty());
    let c = run_events(p, "A u1 0 0\nA u1 1 1\nA u1 2 2");
    assert_eq!(field(&c, "k"), vec![serde_json::json!(2)]);
    assert_eq!(field(&c, "last"), vec![serde_json::json!(2)]);
}

#[test]
fn quantifier_bounds_accumulate_until_the_next_step() {
    let p = r#"
pattern ab
  when A{1,3} as xs
  then B within 1h
  emit { k: count(xs) }
"#;
    let c = run_events(p, "A u1 0\nA u1 1\nX u1 2\nA u1 3\nA u1 4\nB u1 5");
    // The first run takes three A's (its maximum); the fourth A is passed over by it.
    assert_eq!(field(&c, "k"), vec![serde_json::json!(3)]);
}

#[test]
fn middle_negation_kills_the_run() {
    let p = r#"
pattern no_b
  when A
  then not B
  then C within 1h
  emit { n: n }
"#;
    assert!(run_events(p, "A u1 0\nB u1 1\nC u1 2").records.is_empty());
    assert_eq!(run_events(p, "A u1 0\nX u1 1\nC u1 2").records.len(), 1);
}

#[test]
fn middle_negation_is_watched_only_once_the_step_has_its_minimum() {
    let p = r#"
pattern two_then_c
  when A{2} as xs
  then not B
  then C within 1h
  emit { n: n }
"#;
    assert_eq!(
        run_events(p, "A u1 0\nB u1 1\nA u1 2\nC u1 3")
            .records
            .len(),
        1
    );
    assert!(run_events(p, "A u1 0\nA u1 1\nB u1 2\nC u1 3")
        .records
        .is_empty());
}

#[test]
fn an_event_fitting_negation_and_step_counts_as_negation() {
    let p = r#"
pattern same
  when A
  then not B where n == 1
  then B within 1h
  emit { n: n }
"#;
    assert!(run_events(p, "A u1 0\nB u1 1 1").records.is_empty());
    assert_eq!(run_events(p, "A u1 0\nB u1 1 2").records.len(), 1);
}

#[test]
fn window_expiry_kills_the_run() {
    let p = r#"
pattern ab
  when A
  then B
  window 10m
  emit { n: n }
"#;
    assert!(run_events(p, "A u1 0\nB u1 600").records.is_empty());
    assert_eq!(run_events(p, "A u1 0\nB u1 599").records.len(), 1);
}

#[test]
fn step_within_is_relative_to_the_previous_step() {
    let p = r#"
pattern abc
  when A
  then B within 10s
  then C within 10s
  emit { n: n }
"#;
    assert_eq!(run_events(p, "A u1 0\nB u1 9\nC u1 18").records.len(), 1);
    assert!(run_events(p, "A u1 0\nB u1 9\nC u1 19").records.is_empty());
    assert!(run_events(p, "A u1 0\nB u1 10\nC u1 11").records.is_empty());
}

#[test]
fn a_growing_step_moves_the_trailing_deadline() {
    let p = r#"
pattern quiet
  when A+ as xs
  then not B within 10m
  emit { k: count(xs) }
"#;
    let c = run_events(p, "A u1 0\nA u1 300");
    assert_eq!(times(&c), vec![900.0]);
    assert_eq!(field(&c, "k"), vec![serde_json::json!(2)]);
}

#[test]
fn trailing_within_and_window_together() {
    let p = r#"
pattern quiet
  when A
  then C within 1h
  then not B within 10m
  window 20m
  emit { n: n }
"#;
    // C at 5m: deadline 15m ≤ window end 20m: completes at 15m.
    assert_eq!(times(&run_events(p, "A u1 0\nC u1 300")), vec![900.0]);
    // C at 15m: deadline 25m > 20m: dies at the window's end.
    assert!(run_events(p, "A u1 0\nC u1 900").records.is_empty());
}

#[test]
fn trailing_negation_without_within_uses_the_window() {
    let p = r#"
pattern quiet
  when A
  then not B
  window 10m
  emit { n: n }
"#;
    assert_eq!(times(&run_events(p, "A u1 0")), vec![600.0]);
    assert!(run_events(p, "A u1 0\nB u1 599").records.is_empty());
}

#[test]
fn final_bounded_step_completes_at_its_minimum() {
    let p = r#"
pattern ab
  when A
  then B{1,3} as bs within 1h
  emit { k: count(bs) }
"#;
    let c = run_events(p, "A u1 0\nB u1 1\nB u1 2");
    assert_eq!(field(&c, "k"), vec![serde_json::json!(1)]);
}

#[test]
fn equal_timestamps_keep_arrival_order() {
    let p = r#"
pattern ab
  when A
  then next B within 1h
  emit { n: n }
"#;
    assert_eq!(run_events(p, "A u1 5\nB u1 5").records.len(), 1);
    assert!(run_events(p, "B u1 5\nA u1 5").records.is_empty());
}

#[test]
fn out_of_order_within_lateness_is_reordered() {
    let p = r#"
input
  type field type
  time field ts
  lateness 5s
  key user_id
event A { user_id: string, n: int }
event B { user_id: string, n: int }
pattern ab
  when A
  then next B within 1h
  emit { n: n }
"#;
    // B (ts 2) arrives before A (ts 1) but within the lateness: processed A then B.
    let events = "{\"type\":\"B\",\"user_id\":\"u\",\"ts\":2000}\n{\"type\":\"A\",\"user_id\":\"u\",\"ts\":1000}\n";
    let c = run_inputs(p, &[events], &RunOptions::default());
    assert_eq!(c.records.len(), 1);
    assert!(c.dead.is_empty());
}

#[test]
fn a_late_event_goes_to_dead_letters_and_changes_nothing() {
    let c = run_events(ABANDON, "A u1 100\nA u1 0\nB u1 50");
    // With lateness 0, the A at 0 and the B at 50 arrive below the watermark (100).
    assert_eq!(c.dead.len(), 2);
    assert!(c.dead[0].contains("\"reason\": \"late\""), "{}", c.dead[0]);
    assert!(c.dead[0].contains("\"offset\": 1"), "{}", c.dead[0]);
    assert_eq!(times(&c), vec![1000.0]);
}

#[test]
fn the_drain_fires_every_pending_timer() {
    let c = run_events(ABANDON, "A u1 0\nA u2 10\nA u3 20");
    assert_eq!(times(&c), vec![900.0, 910.0, 920.0]);
}

#[test]
fn until_stops_event_time() {
    let opts = RunOptions {
        until: Some(910_000),
        ..RunOptions::default()
    };
    // u1's deadline (900 s) is before --until; u2's (910 s) is at it: both fire.
    // u3's (1000 s) is after; the A at 950 s is at or after --until: ignored.
    let c = run_events_with(ABANDON, "A u1 0\nA u2 10\nA u3 100\nA u4 950", &opts);
    assert_eq!(times(&c), vec![900.0, 910.0]);
    assert_eq!(c.summary.after_until, 1);
}

#[test]
fn simultaneous_completions_emit_the_earliest_started_run() {
    let p = r#"
pattern ab
  when A as a
  then B within 1h
  emit { a: a.n }
"#;
    let c = run_events(p, "A u1 0 1\nA u1 1 2\nB u1 2");
    assert_eq!(field(&c, "a"), vec![serde_json::json!(1)]);
}

#[test]
fn events_without_a_key_are_skipped_and_counted() {
    let c = run_events(ABANDON, "A - 0\nA u1 10");
    assert_eq!(c.records.len(), 1);
    assert_eq!(c.summary.engine.key_missing, 1);
}

#[test]
fn emit_writes_events_groups_and_typed_values() {
    let p = r#"
pattern show
  when A as a
  then B{2} as bs within 1h
  emit { first: a, group: bs, half: a.n / 2, whole: 49.0, total: sum(bs.n), label: "x" + "y" }
"#;
    let c = run_events(p, "A u1 1 3\nB u1 2 4\nB u1 3 5");
    assert_eq!(
        c.records,
        vec![
            "{\"rule\": \"show\", \"key\": \"u1\", \"ts\": 3000, \"first\": {\"type\": \"A\", \"ts\": 1000, \"user_id\": \"u1\", \"n\": 3}, \"group\": [{\"type\": \"B\", \"ts\": 2000, \"user_id\": \"u1\", \"n\": 4}, {\"type\": \"B\", \"ts\": 3000, \"user_id\": \"u1\", \"n\": 5}], \"half\": 1.5, \"whole\": 49.0, \"total\": 9, \"label\": \"xy\"}"
        ]
    );
}

#[test]
fn outputs_are_in_file_order() {
    let p = r#"
pattern first
  when A
  emit { n: n }
pattern second
  when A
  emit { n: n }
"#;
    let c = run_events(p, "A u2 0 1\nA u1 0 2\nA u1 1 3");
    let keys: Vec<(String, String)> = c
        .records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            (
                v["rule"].as_str().unwrap().to_string(),
                v["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("first".into(), "u1".into()),
            ("first".into(), "u2".into()),
            ("second".into(), "u1".into()),
            ("second".into(), "u2".into()),
            ("first".into(), "u1".into()),
            ("second".into(), "u1".into()),
        ]
    );
}

#[test]
fn the_run_cap_refuses_new_runs_and_counts() {
    let opts = RunOptions {
        engine: nudge_runtime::engine::EngineConfig {
            max_runs_per_key: 2,
            max_group_len: 1024,
        },
        ..RunOptions::default()
    };
    let c = run_events_with(
        r#"
pattern ab
  when A
  then B within 1h
  after match keep all
  emit { n: n }
"#,
        "A u1 0\nA u1 1\nA u1 2\nB u1 3",
        &opts,
    );
    assert_eq!(c.records.len(), 2);
    assert_eq!(c.summary.engine.runs_refused, 1);
}

#[test]
fn several_inputs_merge_by_event_time() {
    let p = format!("{SCHEMA}\npattern ab\n  when A\n  then next B within 1h\n  emit {{ n: n }}\n");
    let a = jsonl("A u1 1\nX u1 10");
    let b = jsonl("B u1 2");
    let c = run_inputs(&p, &[&a, &b], &RunOptions::default());
    assert_eq!(c.records.len(), 1);
}

#[test]
fn shards_give_the_same_records() {
    let p = format!("{SCHEMA}\n{ABANDON}");
    let mut events = String::new();
    for i in 0..2000 {
        let user = format!("u{}", i % 97);
        let ty = if i % 7 == 0 { "B" } else { "A" };
        events.push_str(&format!("{ty} {user} {} {i}\n", i * 3));
    }
    let input = jsonl(&events);
    let one = run_inputs(&p, &[&input], &RunOptions::default());
    for shards in [2, 3, 4] {
        let opts = RunOptions {
            shards,
            ..RunOptions::default()
        };
        let many = run_inputs(&p, &[&input], &opts);
        assert_eq!(one.records, many.records, "{shards} shards");
    }
    assert!(!one.records.is_empty());
}
