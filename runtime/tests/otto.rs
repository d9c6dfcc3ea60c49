//! The real OTTO events through a cart-abandonment program, against counts derived
//! independently here.

mod common;

use nudge_runtime::runner::RunOptions;
use std::path::Path;

const DEADLINE_MS: i64 = 15 * 60 * 1000;

/// Cart abandonment under `after match skip`, computed directly: per session, the
/// earliest pending cart completes 15 minutes later unless an order comes first; a
/// completion or an order ends every pending run.
fn expected(events: &[(String, i64, String, String)]) -> Vec<(i64, String, String)> {
    let mut sessions: std::collections::BTreeMap<&str, Vec<&(String, i64, String, String)>> =
        Default::default();
    for e in events {
        sessions.entry(e.2.as_str()).or_default().push(e);
    }
    let mut out = Vec::new();
    for (session, evs) in sessions {
        let mut pending: Option<(i64, &str)> = None;
        for (ty, ts, _, aid) in evs.iter().map(|e| (&e.0, e.1, &e.2, &e.3)) {
            if let Some((start, cart)) = pending {
                if ts >= start + DEADLINE_MS {
                    out.push((start + DEADLINE_MS, session.to_string(), cart.to_string()));
                    pending = None;
                }
            }
            match ty.as_str() {
                "orders" => pending = None,
                "carts" if pending.is_none() => pending = Some((ts, aid)),
                _ => {}
            }
        }
        if let Some((start, cart)) = pending {
            out.push((start + DEADLINE_MS, session.to_string(), cart.to_string()));
        }
    }
    out.sort();
    out
}

#[test]
fn otto_cart_abandonment_matches_an_independent_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/otto");
    let program = std::fs::read_to_string(root.join("otto.nudge")).unwrap();
    let data = std::fs::read_to_string(root.join("otto_sample.jsonl")).unwrap();
    let events: Vec<(String, i64, String, String)> = data
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["type"].as_str().unwrap().to_string(),
                v["ts"].as_i64().unwrap(),
                v["session"].as_str().unwrap().to_string(),
                v["aid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(events.len(), 862);
    assert_eq!(events.iter().filter(|e| e.0 == "carts").count(), 52);

    let c = common::run_inputs(&program, &[&data], &RunOptions::default());
    assert!(c.dead.is_empty(), "{:?}", c.dead);
    let mut got: Vec<(i64, String, String)> = c
        .records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            (
                v["ts"].as_i64().unwrap(),
                v["key"].as_str().unwrap().to_string(),
                v["aid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = expected(&events);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

/// The customer-360 variant for the OTTO schema (`examples/otto/otto_360.nudge`): every
/// profile value in its records equals a direct count over the real events, as of the
/// record's time (§8: `over D` holds the 60 buckets of D/60 ending with the current one).
#[test]
fn otto_profile_values_match_direct_counts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/otto");
    let program = std::fs::read_to_string(root.join("otto_360.nudge")).unwrap();
    let data = std::fs::read_to_string(root.join("otto_sample.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = data
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let c = common::run_inputs(&program, &[&data], &RunOptions::default());
    assert!(c.records.len() >= 5, "{:?}", c.records);
    for r in &c.records {
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        let t = v["ts"].as_i64().unwrap();
        let session = v["key"].as_str().unwrap();
        // Events of the session already processed at time t: ts < t.
        let seen: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["session"] == session && e["ts"].as_i64().unwrap() < t)
            .collect();
        let window_start = |d: i64| {
            let bucket = d / 60;
            (t / bucket) * bucket - 59 * bucket
        };
        let clicks_1h = seen
            .iter()
            .filter(|e| {
                e["type"] == "clicks" && e["ts"].as_i64().unwrap() >= window_start(3_600_000)
            })
            .count();
        let carts = seen.iter().filter(|e| e["type"] == "carts").count();
        let mut items: Vec<&str> = seen
            .iter()
            .filter(|e| e["ts"].as_i64().unwrap() >= window_start(86_400_000))
            .map(|e| e["aid"].as_str().unwrap())
            .collect();
        items.sort();
        items.dedup();
        assert_eq!(v["clicks_1h"], clicks_1h as i64, "{r}");
        assert_eq!(v["carts_total"], carts as i64, "{r}");
        assert_eq!(v["items_24h"], items.len() as i64, "{r}");
    }
}
