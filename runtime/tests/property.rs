//! Property: for random programs of the pattern subset and random event streams, the
//! records do not depend on how the input is read (batch size) nor on `--shards`, nor
//! on a checkpoint taken and restored in the middle.

mod common;

use common::*;
use nudge_compiler::plan::Plan;
use nudge_runtime::decode::{Decoded, Decoder};
use nudge_runtime::engine::{Engine, EngineConfig, ShardId, Snapshot};
use nudge_runtime::eval::World;
use nudge_runtime::runner::RunOptions;
use nudge_runtime::world::Resources;
use proptest::prelude::*;
use std::sync::Arc;

/// One random step: (type, quantifier, has where, within seconds).
fn step() -> impl Strategy<Value = (usize, usize, bool, Option<u32>)> {
    (
        0..3usize,
        0..6usize,
        any::<bool>(),
        prop::option::of(1..40u32),
    )
}

/// A random valid pattern of the subset, as text.
fn pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(step(), 1..4),
        prop::option::of(0..3usize), // middle negation type (before the last step)
        prop::option::of((0..3usize, 5..60u32)), // trailing negation (type, within)
        prop::option::of(10..120u32), // window
        prop::option::of(1..30u32),  // cooldown
        any::<bool>(),               // keep all
        any::<bool>(),               // then next on step 2
    )
        .prop_map(
            |(steps, middle, trailing, window, cooldown, keep_all, next)| {
                let types = ["A", "B", "C"];
                let quants = ["", "+", "{2}", "{1,3}", "?", "{2,}"];
                let mut s = String::from("pattern p\n");
                for (i, (t, q, w, within)) in steps.iter().enumerate() {
                    let q = if i == 0 && (*q == 4) { 0 } else { *q };
                    if i > 0 && i == steps.len() - 1 {
                        if let Some(m) = middle {
                            s.push_str(&format!("  then not {}\n", types[m]));
                        }
                    }
                    let link = match i {
                        0 => "when".to_string(),
                        1 if next => "then next".to_string(),
                        _ => "then".to_string(),
                    };
                    s.push_str(&format!("  {link} {}{} as s{i}", types[*t], quants[q]));
                    if *w {
                        s.push_str(" where n > 2");
                    }
                    if i > 0 {
                        if let Some(d) = within {
                            s.push_str(&format!(" within {d}s"));
                        }
                    }
                    s.push('\n');
                }
                if let Some((t, d)) = trailing {
                    s.push_str(&format!("  then not {} within {d}s\n", types[t]));
                }
                // Every pattern gets a deadline so runs end.
                s.push_str(&format!("  window {}s\n", window.unwrap_or(90)));
                if let Some(c) = cooldown {
                    s.push_str(&format!("  cooldown {c}s\n"));
                }
                if keep_all {
                    s.push_str("  after match keep all\n");
                }
                s.push_str("  emit { n: n, k: key }\n");
                s
            },
        )
}

/// A random stream: (type, user, gap in seconds, n).
fn events() -> impl Strategy<Value = String> {
    prop::collection::vec((0..4usize, 0..3usize, 0..8u32, 0..6i64), 1..120).prop_map(|evs| {
        let types = ["A", "B", "C", "X"];
        let mut ts = 0u32;
        let mut out = String::new();
        for (t, u, gap, n) in evs {
            ts += gap;
            out.push_str(&format!("{} u{u} {ts} {n}\n", types[t]));
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn records_do_not_depend_on_batching_or_shards(p in pattern(), evs in events()) {
        let program = format!("{SCHEMA}\n{p}");
        let compiled = nudge_compiler::compile_str("p.nudge", &program);
        prop_assume!(!compiled.has_errors());
        let input = jsonl(&evs);
        let base = run_inputs(&program, &[&input], &RunOptions::default());
        for (read_batch, shards) in [(1, 1), (7, 1), (64, 2), (3, 3)] {
            let opts = RunOptions { read_batch, shards, ..RunOptions::default() };
            let other = run_inputs(&program, &[&input], &opts);
            prop_assert_eq!(&base.records, &other.records, "batch {} shards {}\n{}", read_batch, shards, program);
        }
    }
}

/// A profile with windowed and all-time features (keyed state with operator timers),
/// read by the emit of every random pattern.
const PROFILE: &str = r#"
profile prof
  per user_id
  features {
    c: count(A) over 30s,
    s: sum(B.n) over 1m,
    d: count_distinct(n) over 20s,
    l: last(n),
    f: first(ts),
  }
"#;

/// Runs the engine over `events`, stopping after `cut` events to take a snapshot,
/// encode it, decode it and restore it into a fresh engine, which goes on. The JSON of
/// every record, in order.
fn records_with_restart(plan: &Arc<Plan>, events: &str, cut: Option<usize>) -> Vec<String> {
    let (resources, _) = Resources::load(plan).expect("resources");
    let world: Arc<dyn World + Send + Sync> = Arc::new(resources);
    let fresh = || {
        Engine::new(
            plan.clone(),
            world.clone(),
            EngineConfig::default(),
            ShardId::SOLE,
        )
    };
    let mut engine = fresh();
    let mut decoder = Decoder::new(plan.clone());
    let source: Arc<str> = Arc::from("in0");
    let mut out = Vec::new();
    for (i, line) in events.lines().enumerate() {
        if cut == Some(i) {
            out.extend(engine.take_outputs());
            let bytes = postcard::to_stdvec(&engine.snapshot()).expect("encode");
            let snap: Snapshot = postcard::from_bytes(&bytes).expect("decode");
            engine = fresh();
            let restored = engine.restore(snap);
            assert!(restored.dropped.is_empty(), "{restored:?}");
        }
        if let Decoded::Event(e) = decoder.decode_json_line(line.as_bytes(), &source, 0, i as u64) {
            engine.push(Arc::new(e));
        }
    }
    engine.advance_to(i64::MAX);
    out.extend(engine.take_outputs());
    out.into_iter().map(|o| o.json).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// A checkpoint taken anywhere and restored into a new engine changes no record:
    /// runs, cooldowns, timers (and their order), profiles and counters all come back.
    #[test]
    fn snapshot_and_restore_change_nothing(p in pattern(), evs in events(), cut in 0..120usize) {
        let p = p.replace("emit { n: n, k: key }", "emit { n: n, k: key, c: prof.c, s: prof.s, d: prof.d, l: prof.l, f: prof.f }");
        let program = format!("{SCHEMA}\n{PROFILE}\n{p}");
        let compiled = nudge_compiler::compile_str("p.nudge", &program);
        prop_assume!(!compiled.has_errors());
        let plan = Arc::new(compiled.plan.expect("plan"));
        let input = jsonl(&evs);
        let whole = records_with_restart(&plan, &input, None);
        let cut = cut % input.lines().count().max(1);
        let restarted = records_with_restart(&plan, &input, Some(cut));
        prop_assert_eq!(&whole, &restarted, "cut at {}\n{}", cut, program);
    }
}
