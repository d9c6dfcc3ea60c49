//! LANGUAGE.md §7 (`session`, `covisit`, `trending`) and §8 (`profile`), case by case:
//! tiny programs, tiny event lists, the exact values read or written.

mod common;

use common::*;
use nudge_runtime::runner::RunOptions;
use serde_json::{json, Value as Json};

/// The shop schema of these tests.
const SHOP: &str = r#"
input
  type field type
  time field ts
  key user_id
event VIEW { user_id: string, product_id: string, channel: string, price: float, qty: int }
event CART { user_id: string, product_id: string, channel: string, price: float, qty: int }
event BUY  { user_id: string, order_id: string, product_id: string, total: float, qty: int }
event X    { user_id: string, n: int }
"#;

/// `TYPE USER SECONDS [field=value ...]` lines to JSON lines (`-` user: null; a value
/// that parses as JSON stays a number, anything else is a string).
fn shop(lines: &str) -> String {
    let mut out = String::new();
    for line in lines.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("type".into(), json!(parts[0]));
        let user = if parts[1] == "-" {
            Json::Null
        } else {
            json!(parts[1])
        };
        obj.insert("user_id".into(), user);
        let secs: f64 = parts[2].parse().expect("seconds");
        obj.insert("ts".into(), json!((secs * 1000.0).round() as i64));
        for kv in &parts[3..] {
            let (k, v) = kv.split_once('=').expect("field=value");
            let v = serde_json::from_str(v).unwrap_or_else(|_| json!(v));
            obj.insert(k.into(), v);
        }
        out.push_str(&Json::Object(obj).to_string());
        out.push('\n');
    }
    out
}

fn run(program: &str, events: &str) -> Collected {
    run_with(program, events, &RunOptions::default())
}

fn run_with(program: &str, events: &str, opts: &RunOptions) -> Collected {
    run_inputs(&format!("{SHOP}\n{program}"), &[&shop(events)], opts)
}

/// The records as JSON values (main output).
fn records(c: &Collected) -> Vec<Json> {
    c.records
        .iter()
        .map(|r| serde_json::from_str(r).expect("json"))
        .collect()
}

/// One field of every main-output record.
fn col(c: &Collected, name: &str) -> Vec<Json> {
    records(c).iter().map(|r| r[name].clone()).collect()
}

/// The records written `into` `name`.
fn named(c: &Collected, name: &str) -> Vec<Json> {
    c.named
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, r)| serde_json::from_str(r).expect("json"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// session

const BROWSING: &str = r#"
session browsing
  of VIEW
  gap 30m
  items product_id last 3
pattern look
  when VIEW
  emit { items: browsing.items, count: browsing.count, start: browsing.start }
"#;

#[test]
fn session_items_are_distinct_most_recent_first_and_capped() {
    let c = run(
        BROWSING,
        "VIEW u1 0 product_id=p1\nVIEW u1 10 product_id=p2\nVIEW u1 20 product_id=p1\n\
         VIEW u1 30 product_id=p3\nVIEW u1 40 product_id=p4",
    );
    assert_eq!(
        col(&c, "items"),
        vec![
            json!(["p1"]),
            json!(["p2", "p1"]),
            json!(["p1", "p2"]), // re-viewed: moves to the front
            json!(["p3", "p1", "p2"]),
            json!(["p4", "p3", "p1"]), // the oldest goes
        ]
    );
    assert_eq!(
        col(&c, "count"),
        vec![json!(1), json!(2), json!(3), json!(4), json!(5)]
    );
    assert_eq!(col(&c, "start"), vec![json!(0); 5]);
}

#[test]
fn an_event_at_exactly_the_gap_starts_a_new_session() {
    let c = run(
        BROWSING,
        "VIEW u1 0 product_id=p1\nVIEW u1 1799.999 product_id=p2\nVIEW u1 3599.999 product_id=p3",
    );
    // 1799.999 - 0 < 30m: same session; 3599.999 - 1799.999 = 30m exactly: a new one.
    assert_eq!(col(&c, "count"), vec![json!(1), json!(2), json!(1)]);
    assert_eq!(col(&c, "start"), vec![json!(0), json!(0), json!(3_599_999)]);
    assert_eq!(col(&c, "items")[2], json!(["p3"]));
}

#[test]
fn sessions_are_per_key_and_only_of_their_types() {
    let c = run(
        BROWSING,
        "VIEW u1 0 product_id=p1\nCART u1 5 product_id=p9\nVIEW u2 6 product_id=p2\n\
         VIEW u1 10 product_id=p3",
    );
    assert_eq!(
        col(&c, "items"),
        vec![json!(["p1"]), json!(["p2"]), json!(["p3", "p1"])]
    );
    assert_eq!(col(&c, "count"), vec![json!(1), json!(1), json!(2)]);
}

#[test]
fn a_session_read_after_its_gap_is_empty() {
    let p = |within: &str| {
        format!(
            r#"
session browsing
  of VIEW
  gap 30m
  items product_id last 3
pattern later
  when VIEW
  then not X within {within}
  emit {{ items: browsing.items, count: browsing.count, start: browsing.start }}
"#
        )
    };
    let before = run(&p("29m"), "VIEW u1 0 product_id=p1");
    assert_eq!(records(&before)[0]["items"], json!(["p1"]));
    assert_eq!(records(&before)[0]["count"], json!(1));
    // At exactly last + gap the session has ended (its timer fires first, §9.1).
    for within in ["30m", "31m"] {
        let after = run(&p(within), "VIEW u1 0 product_id=p1");
        let r = &records(&after)[0];
        assert_eq!(
            (&r["items"], &r["count"], &r["start"]),
            (&json!([]), &json!(0), &Json::Null),
            "within {within}"
        );
    }
}

#[test]
fn null_items_count_but_add_nothing_and_null_keys_are_skipped() {
    let c = run(
        BROWSING,
        "VIEW u1 0 product_id=p1\nVIEW u1 1\nVIEW - 2 product_id=p5\nVIEW u1 3 product_id=p2",
    );
    assert_eq!(
        col(&c, "items"),
        vec![json!(["p1"]), json!(["p1"]), json!(["p2", "p1"])]
    );
    assert_eq!(col(&c, "count"), vec![json!(1), json!(2), json!(3)]);
}

// ---------------------------------------------------------------------------------------
// covisit and recommend

fn covisit(keep: u32, ask: &str) -> String {
    format!(
        r#"
session browsing
  of VIEW
  gap 30m
  items product_id last 20
covisit also from browsing
  refresh 1m
  keep {keep} per item
pattern ask
  when X
  emit {{ r: recommend(also, {ask}, 10) }}
"#
    )
}

#[test]
fn co_counts_are_symmetric_and_ties_go_by_id() {
    let views = "VIEW u1 0 product_id=p2\nVIEW u1 1 product_id=p1\nVIEW u1 2 product_id=p3\n";
    for (ask, want) in [
        (r#"["p1"]"#, json!(["p2", "p3"])),
        (r#"["p2"]"#, json!(["p1", "p3"])),
        (r#"["p3"]"#, json!(["p1", "p2"])),
    ] {
        let c = run(&covisit(100, ask), &format!("{views}X u9 60"));
        assert_eq!(col(&c, "r"), vec![want], "{ask}");
    }
}

#[test]
fn recommend_drops_the_given_items_and_unrelated_ones() {
    let views = "VIEW u1 0 product_id=p1\nVIEW u1 1 product_id=p2\nVIEW u1 2 product_id=p3\n\
                 VIEW u2 3 product_id=p8\nVIEW u2 4 product_id=p9\n";
    let c = run(
        &covisit(100, r#"["p1", "p2", "p1"]"#),
        &format!("{views}X u9 60"),
    );
    // p3 co-occurs with both (score 2); p8, p9 never with them (score 0: dropped).
    assert_eq!(col(&c, "r"), vec![json!(["p3"])]);
    let c = run(&covisit(100, r#"["zz"]"#), &format!("{views}X u9 60"));
    assert_eq!(col(&c, "r"), vec![json!([])]);
}

#[test]
fn a_reviewed_item_is_not_a_new_co_visit() {
    // p2 once with p1 (u1 re-views p1: no new count); p3 twice (u2 and u3).
    let views = "VIEW u1 0 product_id=p1\nVIEW u1 1 product_id=p2\nVIEW u1 2 product_id=p1\n\
                 VIEW u2 3 product_id=p1\nVIEW u2 4 product_id=p3\n\
                 VIEW u3 5 product_id=p3\nVIEW u3 6 product_id=p1\n";
    let c = run(&covisit(100, r#"["p1"]"#), &format!("{views}X u9 60"));
    assert_eq!(col(&c, "r"), vec![json!(["p3", "p2"])]);
}

#[test]
fn co_visits_stay_within_one_session() {
    // Another key, and the same key after the gap: no co-count.
    let views = "VIEW u1 0 product_id=p1\nVIEW u2 1 product_id=p2\nVIEW u1 1800 product_id=p3\n";
    let c = run(&covisit(100, r#"["p1"]"#), &format!("{views}X u9 1860"));
    assert_eq!(col(&c, "r"), vec![json!([])]);
}

#[test]
fn readers_see_counts_as_of_the_last_refresh() {
    let events = "VIEW u1 0 product_id=p1\nVIEW u1 30 product_id=p2\nX u9 59.999\n\
                  VIEW u1 60 product_id=p3\nX u9 60\nX u9 119.999\nX u9 120";
    let c = run(&covisit(100, r#"["p1"]"#), events);
    assert_eq!(
        col(&c, "r"),
        vec![
            json!([]),     // b = 0: nothing learned before it
            json!(["p2"]), // b = 60s: ts < 60s, not the view at 60s
            json!(["p2"]),
            json!(["p2", "p3"]), // b = 120s
        ]
    );
}

#[test]
fn keep_drops_the_lowest_count_then_the_highest_id() {
    // a with b, c, d (one each): keep 2 drops d. Then a with c again: c = 2.
    let views = "VIEW u1 0 product_id=a\nVIEW u1 1 product_id=b\nVIEW u1 2 product_id=c\n\
                 VIEW u1 3 product_id=d\nVIEW u2 4 product_id=c\nVIEW u2 5 product_id=a\n";
    let c = run(&covisit(2, r#"["a"]"#), &format!("{views}X u9 60"));
    assert_eq!(col(&c, "r"), vec![json!(["c", "b"])]);
    // d's row: a, b, c once each; c (highest id) went.
    let c = run(&covisit(2, r#"["d"]"#), &format!("{views}X u9 60"));
    assert_eq!(col(&c, "r"), vec![json!(["a", "b"])]);
}

#[test]
fn more_like_this_reads_the_session_and_the_covisit_together() {
    let p = r#"
session browsing
  of VIEW
  gap 30m
  items product_id last 20
covisit also from browsing
pattern more
  when VIEW{2}
  emit { seen: browsing.items, picks: recommend(also, browsing.items, 2) }
"#;
    let c = run(
        p,
        "VIEW u1 0 product_id=p1\nVIEW u1 1 product_id=p2\nVIEW u1 2 product_id=p3\n\
         VIEW u2 100 product_id=p9\nVIEW u2 101 product_id=p1",
    );
    assert_eq!(
        col(&c, "seen"),
        vec![json!(["p2", "p1"]), json!(["p1", "p9"])]
    );
    // u1 at 1s: nothing published yet; u2 at 101s: counts as of 60s.
    assert_eq!(col(&c, "picks"), vec![json!([]), json!(["p2", "p3"])]);
}

// ---------------------------------------------------------------------------------------
// trending

fn trending(decl_extra: &str, pattern: &str) -> String {
    format!(
        r#"
trending hot
  of VIEW, CART weight 3, BUY weight 5
  by product_id
  over 2m every 1m
  top 3
  {decl_extra}
{pattern}
"#
    )
}

const WATCH: &str = r#"
pattern watch
  when X
  emit { items: hot.items, p1: hot.score("p1"), p3: hot.score("p3"), zz: hot.score("zz") }
"#;

#[test]
fn windows_hold_b_minus_over_up_to_b() {
    let events = "VIEW u1 0 product_id=p1\nVIEW u2 59.999 product_id=p2\n\
                  VIEW u3 60 product_id=p3\nVIEW u1 119.999 product_id=p1";
    let c = run(&trending("emit into \"hot\"", ""), events);
    assert_eq!(
        named(&c, "hot"),
        vec![
            json!({"rule": "hot", "ts": 60000, "items": [{"id": "p1", "score": 1}, {"id": "p2", "score": 1}]}),
            json!({"rule": "hot", "ts": 120000, "items": [
                {"id": "p1", "score": 2}, {"id": "p2", "score": 1}, {"id": "p3", "score": 1}]}),
            json!({"rule": "hot", "ts": 180000, "items": [{"id": "p1", "score": 1}, {"id": "p3", "score": 1}]}),
            // The window ending at 240 s is empty: no record.
        ]
    );
}

#[test]
fn a_pattern_sees_the_window_with_the_greatest_end_at_or_before_its_time() {
    let events = "VIEW u1 0 product_id=p1\nVIEW u2 59.999 product_id=p2\nX u1 59.999\n\
                  VIEW u3 60 product_id=p3\nX u1 60\nVIEW u1 119.999 product_id=p1\n\
                  X u1 119.999\nX u1 120\nX u1 250";
    let c = run(&trending("", WATCH), events);
    assert_eq!(
        col(&c, "items"),
        vec![
            json!([]),
            json!(["p1", "p2"]),
            json!(["p1", "p2"]),
            json!(["p1", "p2", "p3"]),
            json!([]),
        ]
    );
    assert_eq!(
        col(&c, "p1"),
        vec![json!(0), json!(1), json!(1), json!(2), json!(0)]
    );
    assert_eq!(
        col(&c, "p3"),
        vec![json!(0), json!(0), json!(0), json!(1), json!(0)]
    );
    assert_eq!(col(&c, "zz"), vec![json!(0); 5]);
}

#[test]
fn weights_ties_and_scores_outside_the_top() {
    // p1: 1 + 5 = 6; p2: 3 + 3 = 6; p3: 1; p0: 5; p4: 1. Top 3: p1, p2 (6, by id), p0.
    let events = "VIEW u1 0 product_id=p1\nBUY u1 1 product_id=p1\nCART u2 2 product_id=p2\n\
                  CART u3 3 product_id=p2\nVIEW u4 4 product_id=p3\nBUY u5 5 product_id=p0\n\
                  VIEW u6 6 product_id=p4\nVIEW u7 7\nX u1 60";
    let c = run(&trending("", WATCH), events);
    assert_eq!(col(&c, "items"), vec![json!(["p1", "p2", "p0"])]);
    assert_eq!(col(&c, "p1"), vec![json!(6)]);
    // p3 is outside the top 3 and still has its score.
    assert_eq!(col(&c, "p3"), vec![json!(1)]);
}

#[test]
fn fractional_weights_give_float_scores() {
    let p = r#"
trending hot
  of VIEW weight 0.5, BUY weight 2
  by product_id
  over 1m every 1m
  top 5
  emit
pattern watch
  when X
  emit { s: hot.score("p1"), none: hot.score("zz") }
"#;
    let c = run(
        p,
        "VIEW u1 0 product_id=p1\nBUY u1 1 product_id=p1\nX u1 60",
    );
    let recs = records(&c);
    assert_eq!(
        recs[0],
        json!({"rule": "hot", "ts": 60000, "items": [{"id": "p1", "score": 2.5}]})
    );
    assert!(c.records[1].contains("\"none\": 0.0"), "{}", c.records[1]);
    assert_eq!(recs[1]["s"], json!(2.5));
}

#[test]
fn records_of_one_instant_follow_the_declaration_order() {
    let pattern = "pattern seen\n  when VIEW where ts == 60000\n  emit { p: product_id }\n";
    let events = "VIEW u1 0 product_id=p1\nVIEW u1 60 product_id=p2";
    // Trending declared first: its record comes first at 60 s.
    let c = run(&trending("emit", pattern), events);
    let rules = [json!("hot"), json!("seen"), json!("hot"), json!("hot")];
    assert_eq!(col(&c, "rule"), rules);
    let times = [json!(60000), json!(60000), json!(120000), json!(180000)];
    assert_eq!(col(&c, "ts"), times);
    // Pattern declared first.
    let program = format!("{pattern}\n{}", trending("emit", ""));
    let c = run(&program, events);
    let rules = [json!("seen"), json!("hot"), json!("hot"), json!("hot")];
    assert_eq!(col(&c, "rule"), rules);
}

#[test]
fn trending_boost_fires_on_a_hot_product_without_a_cart() {
    let p = r#"
trending hot
  of VIEW, CART weight 3
  by product_id
  over 10m every 1m
  top 20
pattern boost
  when VIEW as seen where product_id in hot.items and hot.score(product_id) >= 4
  then not CART where product_id == seen.product_id within 10m
  emit { product_id: seen.product_id, score: hot.score(seen.product_id) }
"#;
    let events = "CART u1 0 product_id=p1\nVIEW u2 10 product_id=p1\nVIEW u3 20 product_id=p2\n\
                  VIEW u4 70 product_id=p1\nVIEW u5 80 product_id=p2";
    let c = run(p, events);
    // At 70 s p1 scores 4 (window ending at 60 s); p2 scores 1. Emitted 10 min later,
    // with the score of the window ending then (p1's 70 s view only).
    assert_eq!(
        records(&c),
        vec![json!({"rule": "boost", "key": "u4", "ts": 670000, "product_id": "p1", "score": 1})]
    );
}

// ---------------------------------------------------------------------------------------
// profile

const CUSTOMER: &str = r#"
profile customer
  features {
    views:     count(VIEW),
    spend:     sum(BUY.total),
    pieces:    sum(BUY.qty),
    avg_price: avg(VIEW.price),
    cheapest:  min(VIEW.price),
    dearest:   max(VIEW.price),
    last_ch:   last(channel),
    first_ch:  first(channel),
    channels:  count_distinct(channel),
    sources:   count_distinct(source),
    first_ts:  first(ts),
    with_ch:   count(channel),
    views_1h:  count(VIEW) over 1h,
    spend_1h:  sum(BUY.total) over 1h,
    pieces_1h: sum(BUY.qty) over 1h,
    avg_1h:    avg(VIEW.price) over 1h,
    min_1h:    min(VIEW.price) over 1h,
    max_1h:    max(VIEW.price) over 1h,
    last_1h:   last(channel) over 1h,
    first_1h:  first(channel) over 1h,
    chans_1h:  count_distinct(channel) over 1h,
  }
pattern look
  when X
  emit {
    views: customer.views, spend: customer.spend, pieces: customer.pieces,
    avg_price: customer.avg_price, cheapest: customer.cheapest, dearest: customer.dearest,
    last_ch: customer.last_ch, first_ch: customer.first_ch, channels: customer.channels,
    sources: customer.sources, first_ts: customer.first_ts, with_ch: customer.with_ch,
    views_1h: customer.views_1h, spend_1h: customer.spend_1h, pieces_1h: customer.pieces_1h,
    avg_1h: customer.avg_1h, min_1h: customer.min_1h, max_1h: customer.max_1h,
    last_1h: customer.last_1h, first_1h: customer.first_1h, chans_1h: customer.chans_1h,
  }
"#;

fn without_head(r: &Json) -> Json {
    let mut r = r.clone();
    let o = r.as_object_mut().expect("object");
    for k in ["rule", "key", "ts"] {
        o.remove(k);
    }
    r
}

#[test]
fn every_aggregate_all_time_and_windowed() {
    let events = "VIEW u1 0 channel=web price=10\nVIEW u1 10 channel=app price=30\n\
                  VIEW u1 20 price=20\nBUY u1 30 total=49.5 qty=2\nBUY u1 40 total=0.5 qty=1\n\
                  X u1 50";
    let c = run(CUSTOMER, events);
    let want = json!({
        "views": 3, "spend": 50.0, "pieces": 3, "avg_price": 20.0, "cheapest": 10.0,
        "dearest": 30.0, "last_ch": "app", "first_ch": "web", "channels": 2, "sources": 1,
        "first_ts": 0, "with_ch": 2,
        "views_1h": 3, "spend_1h": 50.0, "pieces_1h": 3, "avg_1h": 20.0, "min_1h": 10.0,
        "max_1h": 30.0, "last_1h": "app", "first_1h": "web", "chans_1h": 2,
    });
    assert_eq!(without_head(&records(&c)[0]), want);
}

#[test]
fn an_empty_profile_reads_zero_or_null() {
    let c = run(CUSTOMER, "X u1 0");
    let want = json!({
        "views": 0, "spend": 0.0, "pieces": 0, "avg_price": null, "cheapest": null,
        "dearest": null, "last_ch": null, "first_ch": null, "channels": 0, "sources": 1,
        "first_ts": 0, "with_ch": 0,
        "views_1h": 0, "spend_1h": 0.0, "pieces_1h": 0, "avg_1h": null, "min_1h": null,
        "max_1h": null, "last_1h": null, "first_1h": null, "chans_1h": 0,
    });
    assert_eq!(without_head(&records(&c)[0]), want);
}

#[test]
fn windows_are_60_buckets_ending_with_the_current_one() {
    // over 1h at 10:30:20 holds events from 09:31:00 on (buckets of one minute).
    let t = |h: f64, m: f64, s: f64| h * 3600.0 + m * 60.0 + s;
    let events = format!(
        "VIEW u1 {} channel=a price=1\nVIEW u1 {} channel=b price=2\n\
         X u1 {}\nX u1 {}\nX u1 {}",
        t(9.0, 30.0, 59.999),
        t(9.0, 31.0, 0.0),
        t(10.0, 30.0, 20.0),
        t(10.0, 30.0, 59.999),
        t(10.0, 31.0, 0.0),
    );
    let c = run(CUSTOMER, &events);
    assert_eq!(col(&c, "views_1h"), vec![json!(1), json!(1), json!(0)]);
    assert_eq!(
        col(&c, "first_1h"),
        vec![json!("b"), json!("b"), Json::Null]
    );
    assert_eq!(col(&c, "chans_1h"), vec![json!(1), json!(1), json!(0)]);
    assert_eq!(col(&c, "min_1h"), vec![json!(2.0), json!(2.0), Json::Null]);
    assert_eq!(col(&c, "views"), vec![json!(2); 3]);
}

#[test]
fn pseudo_fields_and_several_inputs() {
    let program = format!("{SHOP}\n{CUSTOMER}");
    let a = shop("VIEW u1 0 channel=web\nX u1 20");
    let b = shop("VIEW u1 10 channel=web");
    let c = run_inputs(&program, &[&a, &b], &RunOptions::default());
    assert_eq!(col(&c, "sources"), vec![json!(2)]);
    assert_eq!(col(&c, "channels"), vec![json!(1)]);
}

#[test]
fn a_profile_is_updated_before_the_patterns_see_the_event() {
    let p = r#"
profile customer
  features { spend: sum(BUY.total) over 1h }
pattern big
  when BUY where customer.spend >= 100
  emit { spend: customer.spend }
"#;
    let c = run(
        p,
        "BUY u1 0 total=60\nBUY u1 10 total=40\nBUY u2 20 total=99",
    );
    assert_eq!(
        records(&c),
        vec![json!({"rule": "big", "key": "u1", "ts": 10000, "spend": 100.0})]
    );
}

// ---------------------------------------------------------------------------------------
// every operator together, any number of shards

const ALL: &str = r#"
session browsing
  of VIEW, CART
  gap 2m
  items product_id last 3
covisit also from browsing
  refresh 30s
  keep 3 per item
trending hot
  of VIEW, CART weight 3, BUY weight 5
  by product_id
  over 2m every 30s
  top 2
  emit into "hot"
profile customer
  features {
    views: count(VIEW) over 5m,
    spend: sum(BUY.total),
    chans: count_distinct(channel) over 2m,
  }
pattern more
  when VIEW{2}
  window 3m
  emit { seen: browsing.items, n: browsing.count, picks: recommend(also, browsing.items, 3) }
pattern boost
  when VIEW as v where product_id in hot.items
  then not CART where product_id == v.product_id within 1m
  emit { p: v.product_id, s: hot.score(v.product_id), views: customer.views, chans: customer.chans }
pattern spender
  when BUY where customer.spend > 50
  emit { spend: customer.spend, items: browsing.items }
"#;

/// A shop stream with `n` events among 5 users and 6 products, over about an hour.
fn stream(seed: u64, n: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let mut ts = 0.0;
    let mut out = String::new();
    for _ in 0..n {
        ts += next(40) as f64;
        let user = format!("u{}", next(5));
        let product = format!("p{}", next(6));
        let channel = ["web", "app"][next(2) as usize];
        let line = match next(6) {
            0..=2 => format!("VIEW {user} {ts} product_id={product} channel={channel}"),
            3 => format!("CART {user} {ts} product_id={product} channel={channel}"),
            4 => format!("BUY {user} {ts} product_id={product} total={}", next(80)),
            _ => format!("X {user} {ts}"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn every_operator_gives_the_same_records_with_1_2_and_3_shards() {
    for seed in 0..12 {
        let events = stream(seed, 300);
        let base = run(ALL, &events);
        assert!(!base.records.is_empty() && !base.named.is_empty());
        for (shards, read_batch) in [(1, 1), (2, 7), (3, 64), (3, 1)] {
            let opts = RunOptions {
                shards,
                read_batch,
                ..RunOptions::default()
            };
            let other = run_with(ALL, &events, &opts);
            assert_eq!(base.records, other.records, "seed {seed} shards {shards}");
            assert_eq!(base.named, other.named, "seed {seed} shards {shards}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// memory: keyed state is freed when nothing can read it any more

mod memory {
    use super::SHOP;
    use nudge_compiler::plan::Plan;
    use nudge_runtime::engine::{Engine, EngineConfig, ShardId};
    use nudge_runtime::event::Event;
    use nudge_runtime::value::Value;
    use nudge_runtime::world::Resources;
    use std::sync::Arc;

    fn engine(program: &str) -> Engine {
        let plan = Arc::new(common_plan(&format!("{SHOP}\n{program}")));
        let (resources, _) = Resources::load(&plan).expect("no tables");
        Engine::new(
            plan,
            Arc::new(resources),
            EngineConfig::default(),
            ShardId::SOLE,
        )
    }

    fn common_plan(text: &str) -> Plan {
        super::plan(text)
    }

    /// A VIEW of `user` at `ts` ms (fields in schema order).
    fn view(plan: &Plan, user: &str, ts: i64) -> Arc<Event> {
        let ty = plan.type_id("VIEW").expect("VIEW");
        let mut values = vec![Value::Null; plan.events[ty.index()].fields.len()];
        values[0] = Value::str(user);
        values[1] = Value::str("p1");
        values[2] = Value::str("web");
        Arc::new(Event {
            ty,
            ts,
            source: Arc::from("in"),
            offset: 0,
            input: 0,
            values: values.into(),
        })
    }

    #[test]
    fn a_session_is_freed_at_its_gap() {
        let mut e = engine(
            "session s of VIEW gap 30m items product_id last 5\n\
             pattern p when VIEW where s.count > 99 emit { n: s.count }\n",
        );
        let plan = e.plan().clone();
        e.push(view(&plan, "u1", 0));
        e.push(view(&plan, "u1", 60_000));
        assert_eq!(e.keys_alive(), 1);
        e.advance_to(60_000 + 1_800_000 - 1);
        assert_eq!(e.keys_alive(), 1);
        e.advance_to(60_000 + 1_800_000);
        assert_eq!(e.keys_alive(), 0);
    }

    #[test]
    fn a_windowed_profile_is_freed_when_its_windows_are_empty() {
        let read = "pattern p when VIEW where c.n > 99 emit { n: c.n }\n";
        let mut e = engine(&format!(
            "profile c features {{ n: count(VIEW) over 1h }}\n{read}"
        ));
        let plan = e.plan().clone();
        e.push(view(&plan, "u1", 90_000)); // bucket 1 (one minute each)
        e.advance_to(61 * 60_000 - 1);
        assert_eq!(e.keys_alive(), 1);
        e.advance_to(61 * 60_000);
        assert_eq!(e.keys_alive(), 0);
        // A profile that holds nothing (a null value only) is freed at once.
        let mut e = engine(&format!(
            "profile c features {{ n: count(VIEW.price) }}\n{read}"
        ));
        e.push(view(&plan, "u1", 90_000));
        e.advance_to(90_000);
        assert_eq!(e.keys_alive(), 0);
        // An all-time feature keeps the profile.
        let mut e = engine(&format!(
            "profile c features {{ n: count(VIEW) over 1h, f: first(ts) }}\n{read}"
        ));
        e.push(view(&plan, "u1", 90_000));
        e.advance_to(i64::MAX);
        assert_eq!(e.keys_alive(), 1);
    }

    #[test]
    fn operators_no_pattern_reads_are_not_kept() {
        let mut e = engine(
            "session s of VIEW gap 30m items product_id last 5\n\
             profile c features { n: count(VIEW) }\n\
             pattern p when X emit { n: n }\n",
        );
        let plan = e.plan().clone();
        e.push(view(&plan, "u1", 0));
        assert_eq!(e.keys_alive(), 0);
    }
}
