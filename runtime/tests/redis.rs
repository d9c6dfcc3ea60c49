//! `sink redis` against a real `redis-server` (LANGUAGE.md §8).
//!
//! The server comes from `.ci/test`: `NUDGE_TEST_REDIS` (a running server) and
//! `NUDGE_TEST_REDIS_SERVER` (the binary, for the outage test, which starts and kills
//! its own). Without them the tests fail under `CI` and are skipped (with a message)
//! elsewhere. Feature semantics are tested in `operators.rs`; here: the hash layout, the
//! value encoding, and what an outage does.

use nudge_runtime::decode::DeadLetter;
use nudge_runtime::engine::Output;
use nudge_runtime::redis_sink::{RedisConfig, RedisSink, RedisStats};
use nudge_runtime::runner::{self, Input, ProfileSink, RunOptions, Sink, Summary};
use nudge_runtime::world::Resources;
use redis::Commands;
use std::collections::HashMap;
use std::io::{self, BufRead, Cursor, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An environment variable the tests need; `None` (after saying so) when it is missing
/// outside CI.
fn needed(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set: run the tests through .ci/test, which starts redis-server")
        }
        _ => {
            eprintln!("SKIPPED: {var} is not set (run through .ci/test to test against Redis)");
            None
        }
    }
}

/// A run-unique prefix, so that tests sharing a server do not see each other's hashes.
fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("nudge-test:{test}:{}:{nanos}", std::process::id())
}

fn program(profile: &str, patterns: &str) -> Arc<nudge_compiler::plan::Plan> {
    let text = format!(
        "input\n  type field type\n  time field ts\n  key user_id\n\
         event VIEW {{ user_id: string, category: string, price: float }}\n\
         event PURCHASE {{ user_id: string, total: float, qty: int }}\n\
         event SEARCH {{ user_id: string, query: string }}\n{profile}\n{patterns}\n"
    );
    let compiled = nudge_compiler::compile_str("redis_test.nudge", &text);
    Arc::new(
        compiled
            .plan
            .unwrap_or_else(|| panic!("invalid program:\n{text}")),
    )
}

/// Records and dead letters, shared with the test thread while the run goes on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<String>>>);

impl Sink for Shared {
    fn record(&mut self, out: &Output) -> io::Result<()> {
        self.0.lock().unwrap().push(out.json.clone());
        Ok(())
    }
    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()> {
        panic!("unexpected dead letter {}", dead.to_json())
    }
}

fn hash(con: &mut redis::Connection, name: &str) -> HashMap<String, String> {
    con.hgetall(name).expect("HGETALL")
}

fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn sink_config(url: &str) -> RedisConfig {
    RedisConfig {
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        io_timeout: Duration::from_secs(2),
        ..RedisConfig::new(url)
    }
}

const T: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

#[test]
fn each_key_hash_holds_every_feature_and_updated_ts() {
    let Some(url) = needed("NUDGE_TEST_REDIS") else {
        return;
    };
    let p = prefix("contents");
    let plan = program(
        &format!(
            "profile shopper\n  per user_id\n  features {{\n\
             last_category: last(VIEW.category),\n\
             recent_category: last(VIEW.category) over 1h,\n\
             views: count(VIEW),\n\
             spend: sum(PURCHASE.total),\n\
             pieces: sum(PURCHASE.qty),\n\
             avg_price: avg(VIEW.price),\n\
             biggest: max(PURCHASE.total),\n\
             kinds_7d: count_distinct(type) over 7d,\n\
             first_seen: first(ts),\n\
             }}\n  sink redis \"{p}:{{key}}\"\n"
        ),
        "",
    );
    let lines = [
        format!(r#"{{"type":"VIEW","ts":{T},"user_id":"u1","category":"shoes","price":100.0}}"#),
        format!(
            r#"{{"type":"VIEW","ts":{},"user_id":"u1","category":"bags","price":50.5}}"#,
            T + MIN
        ),
        format!(
            r#"{{"type":"PURCHASE","ts":{},"user_id":"u2","total":10,"qty":1}}"#,
            T + MIN
        ),
        format!(
            r#"{{"type":"PURCHASE","ts":{},"user_id":"u1","total":80.25,"qty":2}}"#,
            T + 2 * MIN
        ),
        format!(
            r#"{{"type":"SEARCH","ts":{},"user_id":"u1","query":"belt"}}"#,
            T + 180 * MIN
        ),
    ];
    let sink = RedisSink::start(plan.clone(), sink_config(&url)).expect("sink");
    let opts = RunOptions {
        profile_sink: Some(sink.clone() as Arc<dyn ProfileSink>),
        ..RunOptions::default()
    };
    let input = Input {
        source: Arc::from("events"),
        reader: Box::new(Cursor::new(lines.join("\n").into_bytes())),
        csv: false,
    };
    let resources = Resources::load(&plan).expect("resources").0;
    runner::run(
        plan,
        Arc::new(resources),
        vec![input],
        &opts,
        &mut Shared::default(),
    )
    .expect("run");
    let stats = sink.finish(Duration::from_secs(10));
    assert_eq!(
        (
            stats.updates,
            stats.dropped,
            stats.unwritten,
            stats.rejected
        ),
        (5, 0, 0, 0),
        "{stats:?}"
    );

    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    // u1's last event is the SEARCH three hours on: the 1h `last` is null again, so
    // its field is gone; floats keep their fraction, ints are bare.
    assert_eq!(
        hash(&mut con, &format!("{p}:u1")),
        fields(&[
            ("last_category", "bags"),
            ("views", "2"),
            ("spend", "80.25"),
            ("pieces", "2"),
            ("avg_price", "75.25"),
            ("biggest", "80.25"),
            ("kinds_7d", "3"),
            ("first_seen", &T.to_string()),
            ("updated_ts", &(T + 180 * MIN).to_string()),
        ])
    );
    // A shopper who only bought: no category, no average price (null: no field).
    assert_eq!(
        hash(&mut con, &format!("{p}:u2")),
        fields(&[
            ("views", "0"),
            ("spend", "10.0"),
            ("pieces", "1"),
            ("biggest", "10.0"),
            ("kinds_7d", "1"),
            ("first_seen", &(T + MIN).to_string()),
            ("updated_ts", &(T + MIN).to_string()),
        ])
    );
    let _: () = con
        .del(&[format!("{p}:u1"), format!("{p}:u2")])
        .expect("DEL");
}

/// A `redis-server` of the test's own, killed when dropped (even when the test fails).
struct RedisServer {
    child: Child,
}

impl RedisServer {
    fn start(binary: &str, port: u16) -> RedisServer {
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let server = RedisServer { child };
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client
            .get_connection_with_timeout(Duration::from_millis(200))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "redis-server did not come up on {port}"
            );
            thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An input the test writes to line by line while the run reads it.
struct ChannelInput {
    rx: mpsc::Receiver<String>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChannelInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChannelInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.buf.len() {
            // The end of the input when the test hangs up.
            if let Ok(line) = self.rx.recv() {
                self.buf = (line + "\n").into_bytes();
                self.pos = 0;
            }
        }
        Ok(&self.buf[self.pos..])
    }
    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

/// Polls `cond` until it holds, or fails the test after `secs` seconds.
fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The final state the test expects per key: (views, last category, spend, last ts).
type Expected = HashMap<String, (u64, String, f64, i64)>;

#[test]
fn an_outage_loses_nothing_and_matching_goes_on() {
    let Some(binary) = needed("NUDGE_TEST_REDIS_SERVER") else {
        return;
    };
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let server = RedisServer::start(&binary, port);
    let p = prefix("outage");
    let plan = program(
        &format!(
            "profile shopper\n  per user_id\n  features {{\n\
             views: count(VIEW),\n\
             last_category: last(VIEW.category),\n\
             spend: sum(PURCHASE.total),\n\
             }}\n  sink redis \"{p}:{{key}}\"\n"
        ),
        "pattern seen\n  when VIEW as v\n  emit { views: shopper.views }\n",
    );
    let sink = RedisSink::start(plan.clone(), sink_config(&url)).expect("sink");
    let (tx, rx) = mpsc::channel::<String>();
    let records = Shared::default();
    let run = {
        let (plan, sink, mut records) = (plan.clone(), sink.clone(), records.clone());
        thread::spawn(move || -> Summary {
            let opts = RunOptions {
                profile_sink: Some(sink as Arc<dyn ProfileSink>),
                // One record per turn: the run keeps up with the test's writes.
                read_batch: 1,
                ..RunOptions::default()
            };
            let input = Input {
                source: Arc::from("events"),
                reader: Box::new(ChannelInput {
                    rx,
                    buf: Vec::new(),
                    pos: 0,
                }),
                csv: false,
            };
            let resources = Resources::load(&plan).expect("resources").0;
            runner::run(plan, Arc::new(resources), vec![input], &opts, &mut records).expect("run")
        })
    };
    let mut expected: Expected = HashMap::new();
    let mut ts = T;
    let mut send = |key: usize, purchase: bool| {
        ts += 1000;
        let user = format!("u{key}");
        let e = expected
            .entry(user.clone())
            .or_insert((0, String::new(), 0.0, 0));
        let line = if purchase {
            e.2 += 12.5;
            format!(r#"{{"type":"PURCHASE","ts":{ts},"user_id":"{user}","total":12.5,"qty":1}}"#)
        } else {
            e.0 += 1;
            e.1 = format!("c{}", ts % 7);
            format!(
                r#"{{"type":"VIEW","ts":{ts},"user_id":"{user}","category":"{}","price":9.5}}"#,
                e.1
            )
        };
        e.3 = ts;
        tx.send(line).expect("the run reads");
    };

    // Before: 50 shoppers, written.
    for i in 0..200 {
        send(i % 50, i % 5 == 0);
    }
    wait_for("the first writes", 20, || {
        let s = sink.stats();
        s.writes >= 50 && s.backlog == 0
    });
    let seen_before = records.0.lock().unwrap().len();

    // Redis goes away; events keep coming (50 more shoppers among them) and records
    // keep coming out.
    drop(server);
    for i in 0..300 {
        send(i % 100, i % 7 == 0);
    }
    wait_for("records during the outage", 20, || {
        records.0.lock().unwrap().len() > seen_before + 100
    });
    wait_for("failed writes", 20, || sink.stats().retries >= 2);
    let during: RedisStats = sink.stats();
    assert!(during.backlog > 0, "{during:?}");

    // Redis comes back on the same port (empty: no persistence), the run ends.
    let _server = RedisServer::start(&binary, port);
    send(0, false);
    drop(tx);
    let summary = run.join().expect("the run");
    let stats = sink.finish(Duration::from_secs(30));
    assert_eq!(summary.accepted, 501);
    assert_eq!(
        records.0.lock().unwrap().len() as u64,
        summary.engine.emitted
    );
    assert!(stats.retries >= 2, "{stats:?}");
    assert_eq!(
        (
            stats.updates,
            stats.dropped,
            stats.unwritten,
            stats.rejected
        ),
        (501, 0, 0, 0),
        "{stats:?}"
    );

    // Every shopper's hash holds their final features.
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(expected.len(), 100);
    for (user, (views, category, spend, last)) in &expected {
        let mut want = vec![
            ("views", views.to_string()),
            ("spend", format!("{spend:?}")),
            ("updated_ts", last.to_string()),
        ];
        if *views > 0 {
            want.push(("last_category", category.clone()));
        }
        let want: HashMap<String, String> =
            want.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
        assert_eq!(hash(&mut con, &format!("{p}:{user}")), want, "{user}");
    }
}
