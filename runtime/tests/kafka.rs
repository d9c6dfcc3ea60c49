//! Kafka mode against a real broker (tansu in CI): `NUDGE_TEST_BROKERS=HOST:PORT`.
//!
//! Without the variable the tests skip with a message, or fail when `CI` is set. Each
//! test makes its own topics, produces events, runs the live loop in-process until its
//! records are out, stops it as a signal would, and reads the topics back with a fresh
//! consumer, comparing with `nudge run` over the same events as a file.

mod common;

use nudge_runtime::gen::{generate, GenConfig};
use nudge_runtime::kafka::{self, KafkaConfig, Metrics, Stop};
use nudge_runtime::redis_sink::{RedisConfig, RedisSink};
use nudge_runtime::runner::ProfileSink;
use nudge_runtime::runner::{RunOptions, Summary};
use nudge_runtime::world::Resources;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The broker, or `None` (skip) outside CI.
fn brokers() -> Option<String> {
    match std::env::var("NUDGE_TEST_BROKERS") {
        Ok(b) if !b.is_empty() => Some(b),
        _ if std::env::var_os("CI").is_some() => {
            panic!("NUDGE_TEST_BROKERS is not set in CI: start the broker (.ci/test does)")
        }
        _ => {
            eprintln!("skipped: NUDGE_TEST_BROKERS is not set (run .ci/test to start a broker)");
            None
        }
    }
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// Client settings that suit tansu (a fast group join, short fetch waits).
const PROPERTIES: &[(&str, &str)] = &[("session.timeout.ms", "6000"), ("fetch.wait.max.ms", "10")];

fn create_topics(brokers: &str, topics: &[(&str, i32)]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(t, p)| NewTopic::new(t, *p, TopicReplication::Fixed(1)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = rt
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .expect("create topics");
    for r in results {
        r.expect("topic created");
    }
}

/// Produces `(partition, key, value)` records in order and waits for them.
fn produce(brokers: &str, topic: &str, records: &[(Option<i32>, Option<String>, String)]) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for (partition, key, value) in records {
        let mut rec: BaseRecord<'_, str, str> = BaseRecord::to(topic).payload(value);
        if let Some(k) = key {
            rec = rec.key(k);
        }
        if let Some(p) = partition {
            rec = rec.partition(*p);
        }
        let mut rec = rec;
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
}

/// One record read back: key, value, `nudge-id` header.
type Read = (Option<String>, String, Option<String>);

/// Reads `topic` from the start until `want` records came and none for a moment after
/// (or the deadline passes).
fn read_topic(brokers: &str, topic: &str, want: usize, deadline: Duration) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .set("fetch.wait.max.ms", "10")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let start = Instant::now();
    let mut last = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < deadline {
        if out.len() >= want && last.elapsed() > Duration::from_millis(1500) {
            break;
        }
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
            let value = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
            let id = m.headers().and_then(|h| {
                h.iter()
                    .find(|h| h.key == "nudge-id")
                    .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
            });
            out.push((key, value, id));
            last = Instant::now();
        }
    }
    out
}

/// A live run in a thread, stopped like a signal stops it.
struct Running {
    stop: Stop,
    metrics: Arc<Metrics>,
    handle: thread::JoinHandle<Result<Summary, kafka::Error>>,
}

fn start(program: &str, cfg: KafkaConfig) -> Running {
    start_with(program, cfg, RunOptions::default())
}

/// Run options that drive a process's tasks on two threads.
fn two_threads() -> RunOptions {
    RunOptions {
        shards: 2,
        ..RunOptions::default()
    }
}

fn start_with(program: &str, cfg: KafkaConfig, opts: RunOptions) -> Running {
    let plan = Arc::new(common::plan(program));
    let (resources, _) = Resources::load(&plan).expect("resources");
    let stop = Stop::new();
    let metrics = Arc::new(Metrics::default());
    let (s, m) = (stop.clone(), metrics.clone());
    let handle = thread::spawn(move || {
        kafka::run(
            plan,
            Arc::new(resources),
            &opts,
            &cfg,
            &s,
            &kafka::Reloads::new(),
            m,
        )
    });
    Running {
        stop,
        metrics,
        handle,
    }
}

impl Running {
    fn finish(self) -> Summary {
        self.stop.stop();
        self.handle.join().expect("no panic").expect("run ok")
    }
}

fn config(brokers: &str, topics: &[&str], output: &str, dead: &str, group: &str) -> KafkaConfig {
    let mut cfg = KafkaConfig::new(brokers, topics, output, dead, group);
    cfg.properties = PROPERTIES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    cfg
}

const SHOP: &str = r#"
input
  type field type
  time field ts
  lateness 5s
  idle 2s
  key user_id
event SEARCH      { user_id: string, channel: string, query: string }
event VIEW        { user_id: string, channel: string, product_id: string, category: string, price: float }
event ADD_TO_CART { user_id: string, channel: string, product_id: string, category: string, price: float, qty: int }
event PURCHASE    { user_id: string, channel: string, order_id: string, product_id: string, category: string, total: float }
event TICK        { user_id: string }

pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  cooldown 1h
  emit { user_id: cart.user_id, product_id: cart.product_id, price: cart.price }

pattern viewed_then_carted
  when VIEW as seen
  then ADD_TO_CART as cart where product_id == seen.product_id within 10m
  emit into "NAMED" { user_id: seen.user_id, product_id: cart.product_id, qty: cart.qty }
"#;

fn multiset<I: IntoIterator<Item = String>>(items: I) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_insert(0) += 1;
    }
    m
}

/// The entries whose counts differ between two multisets (at most 10), for messages.
fn differences(a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>) -> String {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {:?} vs {:?}", a.get(k), b.get(k)))
        .collect();
    format!(
        "{} differ (kafka vs file):\n{}",
        diffs.len(),
        diffs[..diffs.len().min(10)].join("\n")
    )
}

fn user_of(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get("user_id")?.as_str().map(str::to_string)
}

/// Generated shop traffic: records keyed by user, one late tick per partition (an hour
/// after the last event, so every timer comes due in both modes without the idle rule),
/// the program, and what file mode gives over the same events.
struct Traffic {
    program: String,
    records: Vec<(Option<i32>, Option<String>, String)>,
    ticks: Vec<(Option<i32>, Option<String>, String)>,
    file: common::Collected,
}

fn shop_traffic(named: &str) -> Traffic {
    shop_traffic_for(&SHOP.replace("NAMED", named))
}

/// [`shop_traffic`] for another program over the same event types.
fn shop_traffic_for(program: &str) -> Traffic {
    let program = program.to_string();
    let mut text = Vec::new();
    let cfg = GenConfig {
        users: 300,
        events: 4000,
        seed: 7,
        ..GenConfig::default()
    };
    let stats = generate(&cfg, &mut text).expect("gen");
    let text = String::from_utf8(text).unwrap();
    let records = text
        .lines()
        .map(|l| (None, user_of(l), l.to_string()))
        .collect();
    let tick_ts = stats.last_ts + 3_600_000;
    let ticks: Vec<String> = (0..4)
        .map(|p| format!(r#"{{"type": "TICK", "ts": {tick_ts}, "user_id": "tick{p}"}}"#))
        .collect();
    let file_text = format!("{text}{}\n", ticks.join("\n"));
    let file = common::run_inputs(&program, &[&file_text], &RunOptions::default());
    assert!(file.dead.is_empty(), "{:?}", file.dead);
    assert!(
        file.records.len() > 20,
        "few records: {}",
        file.records.len()
    );
    assert!(!file.named.is_empty());
    let ticks = ticks
        .into_iter()
        .enumerate()
        .map(|(p, t)| (Some(p as i32), None, t))
        .collect();
    Traffic {
        program,
        records,
        ticks,
        file,
    }
}

/// Produces generated shop traffic to `input`; returns the program and what file mode
/// gives over the same events.
fn produce_shop_traffic(brokers: &str, input: &str, named: &str) -> (String, common::Collected) {
    let t = shop_traffic(named);
    produce(brokers, input, &t.records);
    produce(brokers, input, &t.ticks);
    (t.program, t.file)
}

/// Waits (60 s at most) until `ok` holds for 2 s on end.
fn settle(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut since = None;
    loop {
        if ok() {
            let s = *since.get_or_insert_with(Instant::now);
            if s.elapsed() > Duration::from_secs(2) {
                return;
            }
        } else {
            since = None;
        }
        assert!(Instant::now() < deadline, "{what} did not happen");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Checks records read back against file mode: same multiset, keyed, unique ids.
fn assert_same_as_file(main: &[Read], into: &[Read], file: &common::Collected) {
    assert_eq!(
        multiset(main.iter().map(|r| r.1.clone())),
        multiset(file.records.iter().cloned()),
        "main output differs from file mode"
    );
    assert_eq!(
        multiset(into.iter().map(|r| r.1.clone())),
        multiset(file.named.iter().map(|r| r.1.clone())),
        "`into` output differs from file mode"
    );
    for (key, value, id) in main.iter().chain(into) {
        let user = user_of(value).unwrap();
        assert_eq!(
            key.as_deref(),
            Some(format!("\"{user}\"").as_str()),
            "key of {value}"
        );
        assert!(
            id.as_deref().is_some_and(|i| i.contains(&user)),
            "id of {value}"
        );
    }
    let ids = multiset(main.iter().chain(into).filter_map(|r| r.2.clone()));
    assert!(ids.values().all(|n| *n == 1), "ids are not unique");
}

/// New topics for a shop test: the input (4 partitions), the output, the output of
/// `into "NAMED"` and the dead letters.
fn shop_topics(brokers: &str) -> (String, String, String, String) {
    let input = unique("events");
    let (output, named, dead) = (unique("out"), unique("named"), unique("dead"));
    create_topics(
        brokers,
        &[(&input, 4), (&output, 1), (&named, 1), (&dead, 1)],
    );
    (input, output, named, dead)
}

/// (a) Generated shop traffic on four partitions, keyed by user: the same records as
/// `nudge run` over the same events as a file; every record keyed and with an id. The
/// four tasks' engines run on two threads (`--shards 2`).
#[test]
fn generated_traffic_gives_the_same_records_as_file_mode() {
    let Some(brokers) = brokers() else { return };
    let (input, output, named, dead) = shop_topics(&brokers);
    let (program, file) = produce_shop_traffic(&brokers, &input, &named);

    let run = start_with(
        &program,
        config(&brokers, &[&input], &output, &dead, &unique("group")),
        two_threads(),
    );
    let main = read_topic(
        &brokers,
        &output,
        file.records.len(),
        Duration::from_secs(90),
    );
    let into = read_topic(&brokers, &named, file.named.len(), Duration::from_secs(30));
    let metrics = run.metrics.render();
    let summary = run.finish();
    assert!(metrics.contains("nudge_records_out_total "), "{metrics}");
    assert_eq!(summary.accepted, file.summary.accepted);
    assert_same_as_file(&main, &into, &file);
    assert!(read_topic(&brokers, &dead, 0, Duration::from_secs(3)).is_empty());
}

/// (c) Scale-out: three processes of one group share the four partitions and give,
/// together, the records one process gives.
#[test]
fn three_processes_in_one_group_give_the_same_records() {
    let Some(brokers) = brokers() else { return };
    let (input, output, named, dead) = shop_topics(&brokers);
    let program = SHOP.replace("NAMED", &named);
    let group = unique("group");
    let cfg = config(&brokers, &[&input], &output, &dead, &group);
    let runs = [
        start(&program, cfg.clone()),
        start(&program, cfg.clone()),
        start(&program, cfg),
    ];
    let assigned = |r: &Running| r.metrics.partitions_assigned.load(Ordering::Relaxed);
    settle("the group's settling", || {
        runs.iter().all(|r| assigned(r) > 0) && runs.iter().map(assigned).sum::<u64>() == 4
    });
    let (_, file) = produce_shop_traffic(&brokers, &input, &named);
    let main = read_topic(
        &brokers,
        &output,
        file.records.len(),
        Duration::from_secs(90),
    );
    let into = read_topic(&brokers, &named, file.named.len(), Duration::from_secs(30));
    let summaries: Vec<Summary> = runs.into_iter().map(Running::finish).collect();
    assert!(
        summaries.iter().all(|s| s.accepted > 0),
        "every process worked"
    );
    assert_eq!(
        summaries.iter().map(|s| s.accepted).sum::<u64>(),
        file.summary.accepted
    );
    assert_same_as_file(&main, &into, &file);
}

/// (b) Bad and late records go to the dead-letter topic as in file mode (source: the
/// topic, offset: the Kafka offset), and the run goes on.
#[test]
fn bad_records_go_to_the_dead_letter_topic_and_the_run_goes_on() {
    let Some(brokers) = brokers() else { return };
    let input = unique("events");
    let (output, dead) = (unique("out"), unique("dead"));
    create_topics(&brokers, &[(&input, 4), (&output, 1), (&dead, 1)]);
    let program = SHOP.replace("NAMED", &unique("named"));
    let lines = [
        r#"{"type": "ADD_TO_CART", "ts": 1000, "user_id": "u1", "product_id": "p1", "price": 10.0, "qty": 1}"#,
        r#"not json at all"#,
        r#"{"ts": 2000, "user_id": "u1"}"#,
        r#"{"type": "VIEW", "user_id": "u2"}"#,
        r#"{"type": "VIEW", "ts": "yesterday", "user_id": "u2"}"#,
        r#"{"type": "VIEW", "ts": 3000, "user_id": "u2", "price": "cheap"}"#,
        r#"{"type": "ADD_TO_CART", "ts": 60000, "user_id": "u2", "product_id": "p2", "price": 5.0, "qty": 2}"#,
        r#"{"type": "ADD_TO_CART", "ts": 4000, "user_id": "u3", "product_id": "p3", "price": 1.0, "qty": 1}"#,
        r#"{"type": "UNKNOWN", "ts": 5000}"#,
        r#"{"type": "TICK", "ts": 99000000, "user_id": "t"}"#,
    ];
    // All on partition 0, so that offsets are line numbers; the file is named like the
    // topic, so that `source` is the same.
    let records: Vec<_> = lines
        .iter()
        .map(|l| (Some(0), None, l.to_string()))
        .collect();
    produce(&brokers, &input, &records);
    let file_text = lines.join("\n") + "\n";
    let file = {
        let plan = Arc::new(common::plan(&program));
        let (resources, _) = Resources::load(&plan).unwrap();
        let mut out = common::Collected::default();
        let inputs = vec![nudge_runtime::runner::Input {
            source: Arc::from(input.as_str()),
            reader: Box::new(std::io::Cursor::new(file_text.into_bytes())),
            csv: false,
        }];
        nudge_runtime::runner::run(
            plan,
            Arc::new(resources),
            inputs,
            &RunOptions::default(),
            &mut out,
        )
        .unwrap();
        out
    };
    assert_eq!(file.dead.len(), 6, "{:?}", file.dead);
    assert_eq!(file.records.len(), 2, "{:?}", file.records);

    // Partitions 1..3 stay empty: the idle rule lets the watermark go on without them.
    let run = start(
        &program,
        config(&brokers, &[&input], &output, &dead, &unique("group")),
    );
    let got_dead = read_topic(&brokers, &dead, file.dead.len(), Duration::from_secs(60));
    let got = read_topic(
        &brokers,
        &output,
        file.records.len(),
        Duration::from_secs(60),
    );
    let summary = run.finish();
    assert_eq!(
        got_dead.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        file.dead,
        "dead letters differ from file mode"
    );
    assert_eq!(
        multiset(got.iter().map(|r| r.1.clone())),
        multiset(file.records.iter().cloned())
    );
    assert_eq!(summary.ignored, 1);
    assert_eq!(summary.dead_total(), 6);
}

/// The idle rule: with no more events, a quiet partition's watermark moves by wall-clock
/// time, so an abandonment fires without any later event.
#[test]
fn idle_partitions_let_abandonment_timers_fire() {
    let Some(brokers) = brokers() else { return };
    let input = unique("events");
    let (output, dead) = (unique("out"), unique("dead"));
    create_topics(&brokers, &[(&input, 4), (&output, 1), (&dead, 1)]);
    let program = r#"
input
  lateness 1s
  idle 500ms
  key user_id
event ADD_TO_CART { user_id: string, product_id: string }
event PURCHASE    { user_id: string }
pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 2s
  emit { user_id: cart.user_id, product_id: cart.product_id }
"#;
    let run = start(
        program,
        config(&brokers, &[&input], &output, &dead, &unique("group")),
    );
    let line = r#"{"type": "ADD_TO_CART", "ts": 1000000, "user_id": "u9", "product_id": "p9"}"#;
    produce(
        &brokers,
        &input,
        &[(Some(2), Some("u9".into()), line.to_string())],
    );
    let started = Instant::now();
    let got = read_topic(&brokers, &output, 1, Duration::from_secs(60));
    let metrics = run.metrics.render();
    run.finish();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].1,
        r#"{"rule": "cart_abandonment", "key": "u9", "ts": 1002000, "user_id": "u9", "product_id": "p9"}"#
    );
    assert_eq!(got[0].0.as_deref(), Some("\"u9\""));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(metrics.contains("nudge_partitions_assigned 4"), "{metrics}");
}

/// (d) Rebalance: a second process joins in mid-stream. The first checkpoints every
/// partition when they are revoked; the second restores the two it gets and goes on:
/// carts added before the move still give their abandonment records after it, and
/// together they give exactly the records of one process over a file. Both drive their
/// tasks on two threads, so the revoke waits for the engine threads' work.
#[test]
fn a_process_joining_mid_stream_takes_partitions_with_their_state() {
    let Some(brokers) = brokers() else { return };
    let (input, output, named, dead) = shop_topics(&brokers);
    let t = shop_traffic(&named);
    let cfg = config(&brokers, &[&input], &output, &dead, &unique("group"));
    let a = start_with(&t.program, cfg.clone(), two_threads());
    let half = t.records.len() / 2;
    produce(&brokers, &input, &t.records[..half]);
    let events = |r: &Running| r.metrics.events_in.load(Ordering::Relaxed);
    settle("reading the first half", || events(&a) == half as u64);

    let b = start_with(&t.program, cfg, two_threads());
    let assigned = |r: &Running| r.metrics.partitions_assigned.load(Ordering::Relaxed);
    settle("the group's settling", || {
        assigned(&a) == 2 && assigned(&b) == 2
    });
    assert!(
        b.metrics.keys_restored.load(Ordering::Relaxed) > 0,
        "the joining process restored no state"
    );
    produce(&brokers, &input, &t.records[half..]);
    produce(&brokers, &input, &t.ticks);
    let main = read_topic(
        &brokers,
        &output,
        t.file.records.len(),
        Duration::from_secs(90),
    );
    let into = read_topic(
        &brokers,
        &named,
        t.file.named.len(),
        Duration::from_secs(30),
    );
    let (sa, sb) = (a.finish(), b.finish());
    assert!(sb.records > 0, "the joining process wrote nothing");
    assert_eq!(sa.accepted + sb.accepted, t.file.summary.accepted);
    assert_same_as_file(&main, &into, &t.file);
}

/// (#7) Profile writes Redis has not taken travel in the checkpoint: a process whose
/// Redis is unreachable stops with its updates unwritten; the next owner of the
/// partition, with a working Redis, writes them without any new event.
#[test]
fn unwritten_profile_writes_travel_in_the_checkpoint() {
    let Some(brokers) = brokers() else { return };
    let redis_url = match std::env::var("NUDGE_TEST_REDIS") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var_os("CI").is_some() => panic!("NUDGE_TEST_REDIS is not set in CI"),
        _ => return eprintln!("skipped: NUDGE_TEST_REDIS is not set"),
    };
    let input = unique("events");
    let (output, dead) = (unique("out"), unique("dead"));
    create_topics(&brokers, &[(&input, 2), (&output, 1), (&dead, 1)]);
    let hash = unique("nudge-test:ckpt");
    let program = format!(
        r#"
input
  lateness 0s
  idle 300ms
  key user_id
event VIEW {{ user_id: string, category: string }}
profile customer
  per user_id
  features {{ views: count(VIEW), last_category: last(VIEW.category) }}
  sink redis "{hash}:{{key}}"
"#
    );
    let plan = Arc::new(common::plan(&program));
    let cfg = config(&brokers, &[&input], &output, &dead, &unique("group"));
    let views: Vec<_> = ["shoes", "bags", "hats"]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let line = format!(
                r#"{{"type": "VIEW", "ts": {}, "user_id": "u1", "category": "{c}"}}"#,
                1_000_000 + i as i64 * 1000
            );
            (Some(0), Some("u1".to_string()), line)
        })
        .collect();
    produce(&brokers, &input, &views);

    // Redis down (nothing listens on port 1): the writes wait in the backlog.
    let down = RedisSink::start(plan.clone(), RedisConfig::new("redis://127.0.0.1:1")).unwrap();
    let opts = RunOptions {
        profile_sink: Some(down.clone() as Arc<dyn ProfileSink>),
        ..RunOptions::default()
    };
    let first = start_with(&program, cfg.clone(), opts);
    settle("the views' processing", || {
        first.metrics.events_in.load(Ordering::Relaxed) == 3 && down.stats().updates == 3
    });
    first.finish();
    let stats = down.finish(Duration::from_millis(100));
    assert_eq!(stats.writes, 0, "{stats:?}");

    // Redis up: the restored checkpoint's writes go out.
    let up = RedisSink::start(plan.clone(), RedisConfig::new(&redis_url)).unwrap();
    let opts = RunOptions {
        profile_sink: Some(up.clone() as Arc<dyn ProfileSink>),
        ..RunOptions::default()
    };
    let second = start_with(&program, cfg, opts);
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    let name = format!("{hash}:u1");
    let deadline = Instant::now() + Duration::from_secs(60);
    let got: HashMap<String, String> = loop {
        let h: HashMap<String, String> = redis::Commands::hgetall(&mut con, &name).unwrap();
        if !h.is_empty() || Instant::now() > deadline {
            break h;
        }
        thread::sleep(Duration::from_millis(100));
    };
    second.finish();
    up.finish(Duration::from_secs(5));
    assert_eq!(got.get("views").map(String::as_str), Some("3"), "{got:?}");
    assert_eq!(
        got.get("last_category").map(String::as_str),
        Some("hats"),
        "{got:?}"
    );
    let _: () = redis::Commands::del(&mut con, &name).unwrap();
}

/// Global operators: trending (with `emit`) and covisit read by patterns.
const GLOBALS: &str = r#"
trending hot
  of VIEW, ADD_TO_CART weight 3, PURCHASE weight 5
  by product_id
  over 10m every 1m
  top 20
  emit into "TRENDS"

session browsing
  of VIEW, ADD_TO_CART
  gap 30m
  items product_id last 20

covisit also_viewed from browsing
  refresh 1m
  keep 100 per item

pattern hot_view
  when VIEW as seen where product_id in hot.items and hot.score(product_id) >= 5
  cooldown 30m
  emit { user_id: seen.user_id, product_id: seen.product_id, score: hot.score(seen.product_id) }

pattern more_like_this
  when VIEW{3}
  window 10m
  cooldown 30m
  emit { user_id: user_id, picks: recommend(also_viewed, browsing.items, 5) }
"#;

/// (e) The broadcast of global operators: three processes, each owning some partitions,
/// see the trending scores and co-visits of the whole group, and give together exactly
/// the records of one process over a file (trending windows written once).
#[test]
fn three_processes_share_global_operators() {
    let Some(brokers) = brokers() else { return };
    let input = unique("events");
    let (output, named, trends, dead) = (
        unique("out"),
        unique("named"),
        unique("trends"),
        unique("dead"),
    );
    create_topics(
        &brokers,
        &[
            (&input, 4),
            (&output, 1),
            (&named, 1),
            (&trends, 1),
            (&dead, 1),
        ],
    );
    let program = format!(
        "{}{}",
        SHOP.replace("NAMED", &named),
        GLOBALS.replace("TRENDS", &trends)
    );
    let t = shop_traffic_for(&program);
    let file_trends: Vec<String> = t
        .file
        .named
        .iter()
        .filter(|(n, _)| *n == trends)
        .map(|(_, r)| r.clone())
        .collect();
    let file_named: Vec<String> = t
        .file
        .named
        .iter()
        .filter(|(n, _)| *n == named)
        .map(|(_, r)| r.clone())
        .collect();
    assert!(!file_trends.is_empty());
    assert!(
        t.file.records.iter().any(|r| r.contains("hot_view"))
            && t.file.records.iter().any(|r| r.contains("more_like_this")),
        "the global operators' rules fire in file mode"
    );
    // The process given two partitions drives their tasks on two threads.
    let cfg = config(&brokers, &[&input], &output, &dead, &unique("group"));
    let runs = [
        start_with(&t.program, cfg.clone(), two_threads()),
        start_with(&t.program, cfg.clone(), two_threads()),
        start_with(&t.program, cfg, two_threads()),
    ];
    let assigned = |r: &Running| r.metrics.partitions_assigned.load(Ordering::Relaxed);
    settle("the group's settling", || {
        runs.iter().all(|r| assigned(r) > 0) && runs.iter().map(assigned).sum::<u64>() == 4
    });
    produce(&brokers, &input, &t.records);
    produce(&brokers, &input, &t.ticks);
    let main = read_topic(
        &brokers,
        &output,
        t.file.records.len(),
        Duration::from_secs(120),
    );
    let into = read_topic(&brokers, &named, file_named.len(), Duration::from_secs(30));
    let trend_records = read_topic(
        &brokers,
        &trends,
        file_trends.len(),
        Duration::from_secs(30),
    );
    for r in runs {
        r.finish();
    }
    for (what, kafka, file) in [
        (
            "main output",
            multiset(main.iter().map(|r| r.1.clone())),
            multiset(t.file.records.iter().cloned()),
        ),
        (
            "`into`",
            multiset(into.iter().map(|r| r.1.clone())),
            multiset(file_named),
        ),
        (
            "trending windows",
            multiset(trend_records.iter().map(|r| r.1.clone())),
            multiset(file_trends),
        ),
    ] {
        assert!(kafka == file, "{what}: {}", differences(&kafka, &file));
    }
}
