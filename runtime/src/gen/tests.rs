//! Generator tests: determinism, funnel rates, order, bad and late lines.

use super::*;
use crate::decode::{Decoded, Decoder};
use std::collections::HashMap;
use std::sync::Arc;

fn gen(cfg: &GenConfig) -> (Vec<u8>, GenStats) {
    let mut out = Vec::new();
    let stats = generate(cfg, &mut out).unwrap();
    (out, stats)
}

fn cfg(events: u64, seed: u64) -> GenConfig {
    GenConfig {
        events,
        seed,
        ..GenConfig::default()
    }
}

fn schema_plan() -> Arc<nudge_compiler::plan::Plan> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../patterns/schema.nudge");
    let text = std::fs::read_to_string(path).unwrap();
    let compiled = nudge_compiler::compile_str(path, &text);
    Arc::new(compiled.plan.expect("patterns/schema.nudge compiles"))
}

fn json(line: &[u8]) -> serde_json::Value {
    serde_json::from_slice(line).unwrap()
}

#[test]
fn same_seed_same_bytes() {
    let (a, sa) = gen(&cfg(20_000, 7));
    let (b, sb) = gen(&cfg(20_000, 7));
    let (c, _) = gen(&cfg(20_000, 8));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_ne!(a, c);
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 20_000);
    assert_eq!(sa.lines, 20_000);
}

#[test]
fn writes_exactly_the_lines_asked_for() {
    for n in [0, 1, 2, 3, 17, 1000] {
        let (out, stats) = gen(&GenConfig {
            bad_share: 0.3,
            late_share: 0.2,
            ..cfg(n, 3)
        });
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, n);
        assert_eq!(stats.lines, n);
    }
}

#[test]
fn funnel_rates_look_like_a_shop() {
    let (_, s) = gen(&cfg(300_000, 11));
    let cart_rate = s.carts as f64 / s.views as f64;
    let order_rate = s.orders as f64 / s.carted_sessions as f64;
    assert!((0.08..=0.12).contains(&cart_rate), "{cart_rate} {s:?}");
    assert!((0.55..=0.65).contains(&order_rate), "{order_rate} {s:?}");
    let per_session = (s.views + s.searches + s.carts) as f64 / s.sessions as f64;
    assert!((4.0..=12.0).contains(&per_session), "{per_session} {s:?}");
    assert!(s.searches > s.sessions / 5, "{s:?}");
    assert!(s.purchases >= s.orders);
    assert_eq!(
        s.lines,
        s.searches + s.views + s.carts + s.purchases + s.late + s.bad_total()
    );
}

#[test]
fn lines_are_sorted_within_the_jitter_and_users_keep_their_order() {
    let (out, s) = gen(&cfg(100_000, 5));
    let mut max = i64::MIN;
    let mut last_of_user: HashMap<String, i64> = HashMap::new();
    let mut views: HashMap<String, u64> = HashMap::new();
    let mut session_gaps = 0;
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v = json(line);
        let ts = v["ts"].as_i64().unwrap();
        assert!(ts >= max.saturating_sub(MAX_JITTER_MS), "{ts} after {max}");
        max = max.max(ts);
        let user = v["user_id"].as_str().unwrap().to_string();
        assert!(user.starts_with('u') && user.len() == 8, "{user}");
        if let Some(prev) = last_of_user.insert(user, ts) {
            let gap = ts - prev;
            assert!(gap >= 0, "a user's events are in order");
            // Within a session steps are < 30 min apart, sessions >= 33 min.
            assert!(!(30 * 60_000..33 * 60_000).contains(&gap), "{gap}");
            session_gaps += u64::from(gap >= 30 * 60_000);
        }
        if v["type"] == "VIEW" {
            let p = v["product_id"].as_str().unwrap();
            assert!(p.starts_with('p') && p.len() == 6, "{p}");
            *views.entry(p.to_string()).or_default() += 1;
        }
    }
    assert!(s.first_ts <= s.last_ts);
    assert!(session_gaps > 0, "some users come back");
    // Zipf: the most viewed product is far above the median one.
    let mut counts: Vec<u64> = views.into_values().collect();
    counts.sort_unstable();
    assert!(
        counts[counts.len() - 1] > 10 * counts[counts.len() / 2],
        "{counts:?}"
    );
}

#[test]
fn orders_share_an_id_and_sum_their_lines() {
    let (out, _) = gen(&cfg(50_000, 9));
    // Per user: what is in the cart of the current session (product → amount).
    let mut carts: HashMap<String, HashMap<String, f64>> = HashMap::new();
    let mut last_seen: HashMap<String, i64> = HashMap::new();
    let mut orders: HashMap<String, (String, i64)> = HashMap::new();
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v = json(line);
        let user = v["user_id"].as_str().unwrap().to_string();
        let ts = v["ts"].as_i64().unwrap();
        if last_seen
            .insert(user.clone(), ts)
            .is_some_and(|t| ts - t >= 30 * 60_000)
        {
            carts.remove(&user);
        }
        let cart = carts.entry(user.clone()).or_default();
        match v["type"].as_str().unwrap() {
            "ADD_TO_CART" => {
                let amount = v["price"].as_f64().unwrap() * v["qty"].as_f64().unwrap();
                let p = v["product_id"].as_str().unwrap().to_string();
                *cart.entry(p).or_default() += amount;
            }
            "PURCHASE" => {
                let order = v["order_id"].as_str().unwrap().to_string();
                let first = orders.entry(order).or_insert((user.clone(), ts));
                assert_eq!(*first, (user.clone(), ts), "one order: one user, one ts");
                let p = v["product_id"].as_str().unwrap();
                let total = v["total"].as_f64().unwrap();
                let carted = cart.remove(p).expect("bought what was carted");
                assert!((carted - total).abs() < 0.005, "{carted} {total}");
            }
            _ => {}
        }
    }
    assert!(orders.len() > 50);
}

#[test]
fn bad_and_late_lines_decode_as_counted() {
    let cfg = GenConfig {
        bad_share: 0.05,
        late_share: 0.02,
        ..cfg(100_000, 13)
    };
    let (out, s) = gen(&cfg);
    let bad = s.bad_total() as f64 / s.lines as f64;
    let late = s.late as f64 / s.lines as f64;
    assert!((0.045..=0.055).contains(&bad), "{bad}");
    assert!((0.017..=0.023).contains(&late), "{late}");
    assert_eq!(s.bad.len(), 5, "{:?}", s.bad);

    let plan = schema_plan();
    let lateness = plan.input.lateness_ms as i64;
    let mut decoder = Decoder::new(plan);
    let source: Arc<str> = Arc::from("gen");
    let mut dead: BTreeMap<DeadReason, u64> = BTreeMap::new();
    let (mut max, mut late, mut events) = (i64::MIN, 0, 0);
    for (i, line) in out.split(|&b| b == b'\n').enumerate() {
        match decoder.decode_json_line(line, &source, 0, i as u64) {
            Decoded::Event(e) => {
                // The reorder stage's rule: below the input's watermark is late.
                if max != i64::MIN && e.ts < max - lateness {
                    late += 1;
                } else {
                    events += 1;
                    max = max.max(e.ts);
                }
            }
            Decoded::Dead(d) => *dead.entry(d.reason).or_default() += 1,
            Decoded::Blank => assert!(line.is_empty()),
            Decoded::Ignored => panic!("undeclared type"),
        }
    }
    assert_eq!(dead, s.bad);
    assert_eq!(late, s.late);
    assert_eq!(events, s.searches + s.views + s.carts + s.purchases);
}

#[test]
fn evenings_are_busier_than_nights() {
    let (out, _) = gen(&GenConfig {
        users: 2_000,
        ..cfg(60_000, 2)
    });
    let mut by_hour = [0u64; 24];
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let ts = json(line)["ts"].as_i64().unwrap();
        by_hour[crate::time::hour_of_day(ts, Some("Europe/Berlin")).unwrap() as usize] += 1;
    }
    assert!(by_hour[20] > 4 * by_hour[4], "{by_hour:?}");
    assert!(by_hour[12] > 2 * by_hour[3], "{by_hour:?}");
}

#[test]
fn few_users_still_get_sessions_hours_apart() {
    let (out, s) = gen(&GenConfig {
        users: 3,
        ..cfg(2_000, 1)
    });
    assert_eq!(s.lines, 2_000);
    let users: std::collections::BTreeSet<_> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| json(l)["user_id"].as_str().unwrap().to_string())
        .collect();
    assert!(users.len() <= 3);
    assert!(s.last_ts - s.first_ts > 24 * 3_600_000, "{s:?}");
}

/// Nanoseconds this thread has run on a CPU (Linux), so that a busy machine does not
/// skew the numbers; wall time elsewhere.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs `f`, returning seconds of CPU time (or wall time where unavailable).
fn timed(f: impl FnOnce()) -> f64 {
    let (cpu, wall) = (cpu_ns(), std::time::Instant::now());
    f();
    match (cpu, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall.elapsed().as_secs_f64(),
    }
}

/// `cargo test -p nudge-runtime --release --lib -- --ignored throughput --nocapture`
#[test]
#[ignore]
fn throughput() {
    let cfg = GenConfig {
        users: 200_000,
        products: 5_000,
        events: 2_000_000,
        ..GenConfig::default()
    };
    let mut out = Vec::new();
    let secs = timed(|| {
        generate(&cfg, &mut out).unwrap();
    });
    println!(
        "gen: {} lines, {:.1} MB in {secs:.2} s of CPU: {:.2} M lines/s",
        cfg.events,
        out.len() as f64 / 1e6,
        cfg.events as f64 / secs / 1e6
    );
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let secs = timed(|| {
        for line in &lines {
            serde_json::from_slice::<serde::de::IgnoredAny>(line).unwrap();
        }
    });
    println!(
        "baseline: serde_json validation only: {:.2} M lines/s",
        lines.len() as f64 / secs / 1e6
    );
    let secs = timed(|| {
        for line in &lines {
            serde_json::from_slice::<serde_json::Value>(line).unwrap();
        }
    });
    println!(
        "baseline: serde_json::Value: {:.2} M lines/s",
        lines.len() as f64 / secs / 1e6
    );
    let mut decoder = Decoder::new(schema_plan());
    let source: Arc<str> = Arc::from("gen");
    for round in 0..3 {
        let mut n = 0u64;
        let secs = timed(|| {
            for (i, line) in lines.iter().enumerate() {
                if let Decoded::Event(e) = decoder.decode_json_line(line, &source, 0, i as u64) {
                    n += e.values.len() as u64;
                }
            }
        });
        println!(
            "decode round {round}: {} lines in {secs:.2} s of CPU: {:.2} M events/s, {:.0} MB/s ({n} values)",
            lines.len(),
            lines.len() as f64 / secs / 1e6,
            out.len() as f64 / secs / 1e6
        );
    }
}
