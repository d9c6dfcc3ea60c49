//! `sink redis` throughput against a local `redis-server`.
//!
//! ```text
//! cargo run --release -p nudge-runtime --example redis_bench -- redis://127.0.0.1:6379 [CUSTOMERS]
//! ```
//!
//! 1. Writes: one update for each of CUSTOMERS (default 1,000,000) customers with 5
//!    features, offered to the sink at once; hashes written per second until the backlog
//!    is empty (pipelines of `batch_keys` MULTI/HSET/EXEC).
//! 2. Events: the file runner over 1,000,000 events of 100,000 shoppers, with one pattern
//!    only, then with a 5-feature profile and its Redis sink too.
//!
//! The hashes are written under `nudge-bench:` and deleted afterwards (not in step 2).

use nudge_compiler::plan::{Plan, ProfileId};
use nudge_runtime::decode::DeadLetter;
use nudge_runtime::engine::{Output, ProfileUpdate};
use nudge_runtime::redis_sink::{RedisConfig, RedisSink};
use nudge_runtime::runner::{self, Input, ProfileSink, RunOptions, Sink};
use nudge_runtime::value::Value;
use nudge_runtime::world::Resources;
use std::io::{self, Cursor};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "input\n  type field type\n  time field ts\n  key user_id\n\
    event VIEW { user_id: string, category: string, price: float }\n\
    event PURCHASE { user_id: string, total: float }\n\
    pattern two_views\n  when VIEW as a\n  then VIEW where category == a.category within 10m\n  emit { category: a.category }\n";

const PROFILE: &str = "profile customer\n  per user_id\n  features {\n\
    last_category: last(VIEW.category),\n    views_1h: count(VIEW) over 1h,\n\
    spend_30d: sum(PURCHASE.total) over 30d,\n    biggest: max(PURCHASE.total),\n\
    first_seen: first(ts),\n  }\n  sink redis \"nudge-bench:{key}\"\n";

fn plan(text: &str) -> Arc<Plan> {
    Arc::new(
        nudge_compiler::compile_str("bench.nudge", text)
            .plan
            .expect("valid"),
    )
}

struct Null;

impl Sink for Null {
    fn record(&mut self, _: &Output) -> io::Result<()> {
        Ok(())
    }
    fn dead_letter(&mut self, _: &DeadLetter) -> io::Result<()> {
        Ok(())
    }
}

fn events(n: usize, users: usize) -> Vec<u8> {
    let mut out = String::with_capacity(n * 90);
    let cats = ["shoes", "bags", "socks", "jackets", "watches"];
    for i in 0..n {
        let ts = 1_800_000_000_000i64 + i as i64 * 50;
        let u = (i * 7919) % users;
        if i % 10 == 0 {
            out.push_str(&format!(
                "{{\"type\":\"PURCHASE\",\"ts\":{ts},\"user_id\":\"u{u}\",\"total\":{}.5}}\n",
                i % 300
            ));
        } else {
            out.push_str(&format!(
                "{{\"type\":\"VIEW\",\"ts\":{ts},\"user_id\":\"u{u}\",\"category\":\"{}\",\"price\":19.9}}\n",
                cats[i % 5]
            ));
        }
    }
    out.into_bytes()
}

fn run_events(plan: Arc<Plan>, data: &[u8], sink: Option<Arc<dyn ProfileSink>>) -> f64 {
    let opts = RunOptions {
        profile_sink: sink,
        ..RunOptions::default()
    };
    let input = Input {
        source: Arc::from("bench"),
        reader: Box::new(Cursor::new(data.to_vec())),
        csv: false,
    };
    let resources = Resources::load(&plan).expect("resources").0;
    let started = Instant::now();
    let s = runner::run(plan, Arc::new(resources), vec![input], &opts, &mut Null).expect("run");
    s.accepted as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_string());
    let customers: usize = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a count"));

    // 1. Hashes written per second.
    let with_profile = plan(&format!("{SCHEMA}{PROFILE}"));
    let sink = RedisSink::start(with_profile.clone(), RedisConfig::new(&url)).expect("sink");
    let started = Instant::now();
    for chunk in (0..customers).collect::<Vec<_>>().chunks(4096) {
        let updates = chunk
            .iter()
            .map(|&c| ProfileUpdate {
                profile: ProfileId(0),
                key: Value::str(&format!("c{c}")),
                ts: 1_800_000_000_000 + c as i64,
                features: vec![
                    Value::str("running shoes"),
                    Value::Int((c % 17) as i64),
                    Value::Float(c as f64 * 0.25),
                    Value::Float(99.5),
                    Value::Int(1_799_000_000_000),
                ]
                .into(),
                partition: 0,
            })
            .collect();
        sink.offer(updates);
    }
    let stats = sink.finish(Duration::from_secs(600));
    let secs = started.elapsed().as_secs_f64();
    println!(
        "redis writes: {} hashes (5 features + updated_ts) in {:.2} s = {:.0} hashes/s, {} pipelines, {} retries, {} not written",
        stats.writes,
        secs,
        stats.writes as f64 / secs,
        stats.batches,
        stats.retries,
        stats.unwritten
    );
    let mut con = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .expect("connect");
    for chunk in (0..customers).collect::<Vec<_>>().chunks(10_000) {
        let keys: Vec<String> = chunk.iter().map(|c| format!("nudge-bench:c{c}")).collect();
        let _: () = redis::cmd("DEL").arg(&keys).query(&mut con).expect("DEL");
    }

    // 2. Events per second through the runner.
    let data = events(1_000_000, 100_000);
    let patterns = run_events(plan(SCHEMA), &data, None);
    let profile_memory = run_events(with_profile.clone(), &data, None);
    let sink = RedisSink::start(with_profile.clone(), RedisConfig::new(&url)).expect("sink");
    let started = Instant::now();
    let profile_redis = run_events(with_profile, &data, Some(sink.clone()));
    let stats = sink.finish(Duration::from_secs(600));
    let total = started.elapsed().as_secs_f64();
    println!("events/s, 1,000,000 events of 100,000 shoppers:");
    println!("  pattern only:                      {patterns:.0}");
    println!("  pattern + 5-feature profile:       {profile_memory:.0}");
    println!(
        "  + sink redis (run only):           {profile_redis:.0}; with the final drain {:.0} ({} hashes written, {} coalesced)",
        1e6 / total,
        stats.writes,
        stats.coalesced
    );
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("nudge-bench:*")
            .arg("COUNT")
            .arg(10_000)
            .query(&mut con)
            .expect("SCAN");
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(&keys).query(&mut con).expect("DEL");
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}
