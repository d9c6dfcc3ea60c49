//! `nudge run --brokers ...` as a process against a real broker (`NUDGE_TEST_BROKERS`):
//! flags, metrics, SIGTERM (flush, checkpoint, commit, exit 0), restore elsewhere. Skips with
//! a message without the variable, fails when `CI` is set.

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

fn create_topics(brokers: &str, topics: &[(&str, i32)]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|(t, p)| NewTopic::new(t, *p, TopicReplication::Fixed(1)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for r in rt
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .unwrap()
    {
        r.expect("topic created");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

const PROGRAM: &str = r#"
input
  lateness 1s
  idle 500ms
  key user_id
event ADD_TO_CART { user_id: string, product_id: string }
event PURCHASE    { user_id: string }
pattern quick_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 2s
  emit { user_id: cart.user_id }
pattern slow_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 300s
  emit { user_id: cart.user_id }
"#;

/// One test's topics (the input with its partitions, an output, dead letters), its
/// group, and a folder holding its rules in `rules/shop.nudge` (removed when dropped).
struct Fixture {
    input: String,
    output: String,
    dead: String,
    group: String,
    dir: std::path::PathBuf,
    rules: std::path::PathBuf,
}

impl Fixture {
    fn new(brokers: &str, name: &str, partitions: i32, program: &str) -> Fixture {
        let dir = std::env::temp_dir().join(unique(&format!("nudge-kafka-{name}")));
        let fx = Fixture {
            input: unique("events"),
            output: unique("out"),
            dead: unique("dead"),
            group: unique("group"),
            rules: dir.join("rules"),
            dir,
        };
        create_topics(
            brokers,
            &[(&fx.input, partitions), (&fx.output, 1), (&fx.dead, 1)],
        );
        std::fs::create_dir_all(&fx.rules).unwrap();
        std::fs::write(fx.file(), program).unwrap();
        fx
    }

    fn topics(&self) -> (&str, &str, &str, &str) {
        (&self.input, &self.output, &self.dead, &self.group)
    }

    fn file(&self) -> std::path::PathBuf {
        self.rules.join("shop.nudge")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The offset `group` has committed for `partition` of `topic`.
fn committed(brokers: &str, group: &str, topic: &str, partition: i32) -> Offset {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let committed = reader
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    committed.find_partition(topic, partition).unwrap().offset()
}

/// Starts `nudge run DIR` on Kafka with the test's topics, metrics on `port`, and its
/// checkpoints in `state`.
fn start_nudge(
    brokers: &str,
    dir: &std::path::Path,
    state: &std::path::Path,
    topics: (&str, &str, &str, &str),
    port: u16,
) -> Child {
    start_nudge_with(brokers, dir, state, topics, port, &[])
}

/// [`start_nudge`] with more flags.
fn start_nudge_with(
    brokers: &str,
    dir: &std::path::Path,
    state: &std::path::Path,
    (input, output, dead, group): (&str, &str, &str, &str),
    port: u16,
    more: &[&str],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("run")
        .arg(dir)
        .args([
            "--brokers",
            brokers,
            "--topic",
            input,
            "--output-topic",
            output,
        ])
        .args(["--dead-letter-topic", dead, "--group", group])
        .arg("--state-dir")
        .arg(state)
        .args(["--kafka-property", "session.timeout.ms=6000"])
        .args(["--kafka-property", "fetch.wait.max.ms=10"])
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .args(more)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nudge starts")
}

/// Sends SIGTERM and waits (30 s at most) for the exit; returns the status and stderr.
fn terminate(mut child: Child) -> (Option<i32>, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nudge did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (exit.code(), stderr)
}

/// Kills the child if a test fails while it runs.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Produces `(partition, key, value)` records in order and waits for them.
fn produce_records(brokers: &str, topic: &str, records: &[(Option<i32>, Option<String>, String)]) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for (partition, key, value) in records {
        let mut rec: BaseRecord<'_, str, str> = BaseRecord::to(topic).payload(value);
        if let Some(k) = key {
            rec = rec.key(k);
        }
        if let Some(p) = partition {
            rec = rec.partition(*p);
        }
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, back)) => {
                    rec = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

fn produce(brokers: &str, topic: &str, partition: i32, lines: &[&str]) {
    let records: Vec<_> = lines
        .iter()
        .map(|l| (Some(partition), None, l.to_string()))
        .collect();
    produce_records(brokers, topic, &records);
}

/// A consumer in a group of its own, reading `topic` from its start.
fn reader_of(brokers: &str, topic: &str) -> BaseConsumer {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    reader.subscribe(&[topic]).unwrap();
    reader
}

/// Reads `topic` from the start until `n` records arrived (60 s at most).
fn read_records(brokers: &str, topic: &str, n: usize) -> Vec<String> {
    let reader = reader_of(brokers, topic);
    let start = Instant::now();
    let mut got = Vec::new();
    while got.len() < n && start.elapsed() < Duration::from_secs(60) {
        if let Some(Ok(m)) = reader.poll(Duration::from_millis(100)) {
            got.push(String::from_utf8_lossy(m.payload().unwrap()).into_owned());
        }
    }
    got
}

/// The binary runs as a service: records out, metrics served; SIGTERM → a checkpoint
/// (file and topic), offsets committed, exit 0. A second process with an empty state
/// directory restores the partition from the checkpoint topic: a run started before the
/// stop completes after it.
#[test]
fn nudge_run_on_kafka_checkpoints_on_sigterm_and_restores_elsewhere() {
    let Some(brokers) = brokers() else { return };
    let fx = Fixture::new(&brokers, "cli", 4, PROGRAM);
    let topics = fx.topics();
    let (input, output, group) = (fx.input.clone(), fx.output.clone(), fx.group.clone());
    let dir = fx.dir.clone();
    let (state1, state2) = (dir.join("state-1"), dir.join("state-2"));
    let port = free_port();
    let mut first = Running(Some(start_nudge(
        &brokers, &fx.rules, &state1, topics, port,
    )));

    // Partition 2: a purchase of another user (offset 0), then a cart (offset 1).
    produce(
        &brokers,
        &input,
        2,
        &[
            r#"{"type": "PURCHASE", "ts": 1000000, "user_id": "u7"}"#,
            r#"{"type": "ADD_TO_CART", "ts": 1000100, "user_id": "u9", "product_id": "p9"}"#,
        ],
    );
    let got = read_records(&brokers, &output, 1);
    assert_eq!(
        got,
        [r#"{"rule": "quick_abandonment", "key": "u9", "ts": 1002100, "user_id": "u9"}"#]
    );
    let want = [
        "nudge_events_in_total 2",
        "nudge_records_out_total 1",
        "nudge_runs_alive 1",
        "nudge_partitions_assigned 4",
        "# TYPE nudge_checkpoint_age_seconds gauge",
        r#"nudge_rule_records_out_total{rule="quick_abandonment"} 1"#,
    ];
    // Gauges are refreshed a few times a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let m = http_get(port);
        if want.iter().all(|l| m.contains(l)) || Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    for line in want {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }

    let (code, stderr) = terminate(first.0.take().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("checkpointed and committed"), "{stderr}");
    assert!(
        state1.join(&group).join("task-2.ckpt").is_file(),
        "no checkpoint file in {}",
        state1.display()
    );

    // The checkpoint holds the pending slow run: the offsets are committed past it.
    assert_eq!(committed(&brokers, &group, &input, 2), Offset::Offset(2));

    // Another "machine" (an empty state directory) takes over from the topic; a later
    // event moves the watermark past the slow run's deadline.
    let second = Running(Some(start_nudge(
        &brokers,
        &dir,
        &state2,
        topics,
        free_port(),
    )));
    produce(
        &brokers,
        &input,
        2,
        &[r#"{"type": "PURCHASE", "ts": 1400000, "user_id": "u7"}"#],
    );
    let got = read_records(&brokers, &output, 2);
    let mut second = second;
    let (code, stderr) = terminate(second.0.take().unwrap());
    assert_eq!(
        got,
        [
            r#"{"rule": "quick_abandonment", "key": "u9", "ts": 1002100, "user_id": "u9"}"#,
            r#"{"rule": "slow_abandonment", "key": "u9", "ts": 1300100, "user_id": "u9"}"#,
        ],
        "{stderr}"
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("task 2: restored checkpoint 1 (1 keys"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The value of a metric on the endpoint at `port`, if served.
fn metric(port: u16, name: &str) -> Option<u64> {
    let text = TcpStream::connect(("127.0.0.1", port))
        .ok()
        .map(|_| http_get(port))?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|v| v.max(0) as u64)
}

/// Waits (90 s at most) until `ok` holds.
fn wait_for(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const CRASH_PROGRAM: &str = r#"
input
  lateness 5s
  idle 2s
  key user_id
event VIEW        { user_id: string, product_id: string }
event ADD_TO_CART { user_id: string, product_id: string }
event PURCHASE    { user_id: string }
event TICK        { user_id: string }
pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  cooldown 1h
  emit { user_id: cart.user_id, product_id: cart.product_id }
pattern viewed_then_carted
  when VIEW as seen
  then ADD_TO_CART as cart where product_id == seen.product_id within 10m
  emit { user_id: seen.user_id, product_id: cart.product_id }
"#;

/// Reads every record of `topic` with its `nudge-id` until `n` distinct ids came and
/// none for 3 s (repeats do not count: they may come before the last records).
fn read_with_ids(brokers: &str, topic: &str, n: usize) -> Vec<(String, String)> {
    let reader = reader_of(brokers, topic);
    let start = Instant::now();
    let mut last = Instant::now();
    let mut got = Vec::new();
    let mut ids = std::collections::HashSet::new();
    while start.elapsed() < Duration::from_secs(180) {
        if ids.len() >= n && last.elapsed() > Duration::from_secs(3) {
            break;
        }
        if let Some(Ok(m)) = reader.poll(Duration::from_millis(100)) {
            let id = m
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "nudge-id"))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            ids.insert(id.clone());
            got.push((
                id,
                String::from_utf8_lossy(m.payload().unwrap()).into_owned(),
            ));
            last = Instant::now();
        }
    }
    got
}

/// Crash: `kill -9` after the first half of the traffic was read and checkpointed (and
/// records went out since), the second half arrives, the process starts again (with
/// its tasks on two threads): no record is missing, and a record written twice has the
/// same `nudge-id` both times.
#[test]
fn a_crash_loses_no_record_and_repeats_only_with_the_same_id() {
    crash_in_mid_stream(false);
}

/// The same with `--exactly-once`: records, checkpoints and offsets go in transactions.
/// (The test broker delivers aborted records even to `read_committed` readers, so the
/// repeats of an aborted transaction are seen here; on Kafka they are not.)
#[test]
fn a_crash_with_transactions_loses_no_record() {
    crash_in_mid_stream(true);
}

fn crash_in_mid_stream(exactly_once: bool) {
    let Some(brokers) = brokers() else { return };
    let mode: &[&str] = if exactly_once {
        &["--exactly-once"]
    } else {
        &[]
    };
    let fx = Fixture::new(&brokers, "crash", 4, CRASH_PROGRAM);
    let topics = fx.topics();
    let (input, output) = (fx.input.clone(), fx.output.clone());
    let (dir, rules) = (fx.dir.clone(), fx.rules.clone());
    let nudge = env!("CARGO_BIN_EXE_nudge");

    // The traffic, and what file mode gives over it (ticks an hour after the end on
    // every partition, so every timer comes due without the idle rule).
    let gen = Command::new(nudge)
        .args(["gen", "--users", "200", "--events", "6000", "--seed", "11"])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let text = String::from_utf8(gen.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let last_ts = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["ts"].as_i64())
        .max()
        .unwrap();
    let ticks: Vec<String> = (0..4)
        .map(|p| {
            format!(
                r#"{{"type": "TICK", "ts": {}, "user_id": "tick{p}"}}"#,
                last_ts + 3_600_000
            )
        })
        .collect();
    let events_file = dir.join("events.jsonl");
    std::fs::write(&events_file, format!("{text}{}\n", ticks.join("\n"))).unwrap();
    let expected_file = dir.join("expected.jsonl");
    let file_run = Command::new(nudge)
        .arg("run")
        .arg(&rules)
        .arg("--input")
        .arg(&events_file)
        .arg("--output")
        .arg(&expected_file)
        .output()
        .unwrap();
    assert!(file_run.status.success(), "{file_run:?}");
    let expected: Vec<String> = std::fs::read_to_string(&expected_file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(expected.len() > 50, "few records: {}", expected.len());

    let keyed = |ls: &[&str]| -> Vec<(Option<i32>, Option<String>, String)> {
        ls.iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let user = v["user_id"].as_str().map(str::to_string);
                (None, user, l.to_string())
            })
            .collect()
    };
    let half = lines.len() / 2;
    produce_records(&brokers, &input, &keyed(&lines[..half]));

    let state = dir.join("state");
    let port = free_port();
    let mut first = Running(Some(start_nudge_with(
        &brokers,
        &rules,
        &state,
        topics,
        port,
        &[&["--checkpoint-interval", "300ms"], mode].concat(),
    )));
    wait_for("the first half read", || {
        metric(port, "nudge_records_in_total") == Some(half as u64)
    });
    // Two rounds of checkpoints after the first half, then more records out.
    wait_for("checkpoints", || {
        metric(port, "nudge_checkpoints_total").is_some_and(|n| n >= 12)
    });
    let mut child = first.0.take().unwrap();
    child.kill().unwrap(); // SIGKILL: no flush, no final checkpoint.
    child.wait().unwrap();

    produce_records(&brokers, &input, &keyed(&lines[half..]));
    let tick_records: Vec<_> = ticks
        .iter()
        .enumerate()
        .map(|(p, t)| (Some(p as i32), None, t.clone()))
        .collect();
    produce_records(&brokers, &input, &tick_records);
    let second = Running(Some(start_nudge_with(
        &brokers,
        &rules,
        &state,
        topics,
        free_port(),
        &[&["--checkpoint-interval", "1s", "--shards", "2"], mode].concat(),
    )));
    let got = read_with_ids(&brokers, &output, expected.len());
    let mut second = second;
    let (code, stderr) = terminate(second.0.take().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("restored checkpoint"), "{stderr}");
    let delivery = if exactly_once {
        "exactly once (transactions)"
    } else {
        "at least once"
    };
    assert!(stderr.contains(delivery), "{stderr}");
    assert!(stderr.contains("engines on 2 threads"), "{stderr}");

    // Repeats carry the same id and value; without them, the records of file mode.
    let mut by_id: std::collections::BTreeMap<&str, &str> = Default::default();
    for (id, value) in &got {
        assert!(!id.is_empty(), "no id on {value}");
        if let Some(other) = by_id.insert(id, value) {
            assert_eq!(other, value, "one id, two records");
        }
    }
    let mut deduped: Vec<&str> = by_id.values().copied().collect();
    let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
    deduped.sort_unstable();
    want.sort_unstable();
    assert_eq!(
        deduped,
        want,
        "records lost or changed by the crash: {} read, {} distinct, {} expected\n\
         the restarted process said:\n{stderr}",
        got.len(),
        by_id.len(),
        expected.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Live reload: a rule added while running gives records; an unchanged rule keeps its
/// pending timer across the swap; a broken edit is refused and the program before it
/// goes on. The engines run on two threads, so the swap waits for their work first.
#[test]
fn a_rule_edited_while_running_is_swapped_in_and_a_broken_edit_is_refused() {
    let Some(brokers) = brokers() else { return };
    let fx = Fixture::new(&brokers, "reload", 4, PROGRAM);
    let topics = fx.topics();
    let (input, output) = (fx.input.clone(), fx.output.clone());
    let (dir, rules) = (fx.dir.clone(), fx.rules.clone());
    let file = fx.file();
    let port = free_port();
    let mut run = Running(Some(start_nudge_with(
        &brokers,
        &rules,
        &dir.join("state"),
        topics,
        port,
        &["--shards", "2"],
    )));
    produce(
        &brokers,
        &input,
        2,
        &[
            r#"{"type": "PURCHASE", "ts": 1000000, "user_id": "u7"}"#,
            r#"{"type": "ADD_TO_CART", "ts": 1000100, "user_id": "u9", "product_id": "p9"}"#,
        ],
    );
    assert_eq!(read_records(&brokers, &output, 1).len(), 1);

    // A new rule: swapped in; slow_abandonment is unchanged and keeps u9's timer.
    let reminder = "\npattern cart_reminder\n  when ADD_TO_CART as cart\n  then not PURCHASE within 100s\n  emit { user_id: cart.user_id }\n";
    std::fs::write(&file, format!("{PROGRAM}{reminder}")).unwrap();
    wait_for("the reload", || {
        metric(port, "nudge_reloads_total") == Some(1)
    });
    produce(
        &brokers,
        &input,
        2,
        // Ahead of the idle rule's wall-clock advance (a second per second).
        &[r#"{"type": "ADD_TO_CART", "ts": 1100000, "user_id": "u8", "product_id": "p8"}"#],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(port, "nudge_events_in_total") != Some(3) {
        if Instant::now() > deadline {
            let m = http_get(port);
            let (_, stderr) = terminate(run.0.take().unwrap());
            panic!("u8's cart not read:\n{m}\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // A broken edit: refused, the program with the reminder goes on.
    std::fs::write(
        &file,
        format!("{PROGRAM}{reminder}pattern broken\n  when NOPE\n"),
    )
    .unwrap();
    wait_for("the refusal", || {
        metric(port, "nudge_reloads_refused_total") == Some(1)
    });
    produce(
        &brokers,
        &input,
        2,
        &[r#"{"type": "PURCHASE", "ts": 2000000, "user_id": "u7"}"#],
    );
    let got = read_records(&brokers, &output, 5);
    let (code, stderr) = terminate(run.0.take().unwrap());
    let mut got = got;
    got.sort();
    let mut want = vec![
        r#"{"rule": "quick_abandonment", "key": "u9", "ts": 1002100, "user_id": "u9"}"#,
        r#"{"rule": "quick_abandonment", "key": "u8", "ts": 1102000, "user_id": "u8"}"#,
        r#"{"rule": "cart_reminder", "key": "u8", "ts": 1200000, "user_id": "u8"}"#,
        r#"{"rule": "slow_abandonment", "key": "u9", "ts": 1300100, "user_id": "u9"}"#,
        r#"{"rule": "slow_abandonment", "key": "u8", "ts": 1400000, "user_id": "u8"}"#,
    ];
    want.sort();
    assert_eq!(got, want, "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("reload (files changed): patterns: added cart_reminder"),
        "{stderr}"
    );
    assert!(
        stderr.contains("reload (files changed) refused"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Kafka settings from a settings file (`--config`), librdkafka properties included,
/// and a `--group` flag that wins over the file's: the service reads, writes, serves
/// metrics and commits for the flag's group.
#[test]
fn nudge_run_on_kafka_from_a_settings_file() {
    let Some(brokers) = brokers() else { return };
    let (input, output, dead, group) = (
        unique("events"),
        unique("out"),
        unique("dead"),
        unique("group"),
    );
    create_topics(&brokers, &[(&input, 1), (&output, 1), (&dead, 1)]);
    let dir = std::env::temp_dir().join(unique("nudge-kafka-settings"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.nudge"), PROGRAM).unwrap();
    let port = free_port();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        format!(
            r#"[kafka]
brokers = "{brokers}"
topics = ["{input}"]
output-topic = "{output}"
dead-letter-topic = "{dead}"
group = "{group}-from-the-file"
metrics-addr = "127.0.0.1:{port}"
[kafka.properties]
"session.timeout.ms" = 6000
"fetch.wait.max.ms" = "10"
"#
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("run")
        .arg(dir.join("shop.nudge"))
        .arg("--config")
        .arg(&settings)
        .args(["--group", &group]) // the flag wins over the file
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nudge starts");

    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let cart = r#"{"type": "ADD_TO_CART", "ts": 1000100, "user_id": "u9", "product_id": "p9"}"#;
    producer
        .send(BaseRecord::<str, str>::to(&input).payload(cart))
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();

    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    reader.subscribe(&[&output]).unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    while got.is_empty() && start.elapsed() < Duration::from_secs(60) {
        if let Some(Ok(m)) = reader.poll(Duration::from_millis(100)) {
            got.push(String::from_utf8_lossy(m.payload().unwrap()).into_owned());
        }
    }
    assert_eq!(
        got,
        [r#"{"rule": "quick_abandonment", "key": "u9", "ts": 1002100, "user_id": "u9"}"#]
    );
    let metrics = http_get(port);
    assert!(metrics.contains("nudge_partitions_assigned 1"), "{metrics}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "nudge did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert!(stderr.contains("settings from"), "{stderr}");
    assert!(stderr.contains(&format!("as group {group}")), "{stderr}");

    // Committed by the flag's group (not the file's).
    // The pending run is in the checkpoint: committed past the cart.
    assert_eq!(committed(&brokers, &group, &input, 0), Offset::Offset(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reload that changes the event declarations: events waiting for the watermark are
/// decoded again under the new declarations (with the fields the old ones kept: a field
/// new in the program reads as null for them), and none is lost.
#[test]
fn a_reload_that_changes_the_events_keeps_the_waiting_ones() {
    let Some(brokers) = brokers() else { return };
    let v1 = "input\n  lateness 10m\n  idle 1h\n  key user_id\nevent VIEW { user_id: string }\npattern seen\n  when VIEW as v\n  emit { user_id: v.user_id }\n";
    let fx = Fixture::new(&brokers, "reschema", 1, v1);
    let topics = fx.topics();
    let (input, output) = (fx.input.clone(), fx.output.clone());
    let (dir, rules) = (fx.dir.clone(), fx.rules.clone());
    let file = fx.file();
    let v2 = "input\n  lateness 10m\n  idle 1h\n  key user_id\nevent VIEW { user_id: string, product_id: string }\npattern seen\n  when VIEW as v\n  emit { user_id: v.user_id, product_id: v.product_id }\n";
    let port = free_port();
    let mut run = Running(Some(start_nudge(
        &brokers,
        &rules,
        &dir.join("state"),
        topics,
        port,
    )));
    produce(
        &brokers,
        &input,
        0,
        &[r#"{"type": "VIEW", "ts": 1000000, "user_id": "u1", "product_id": "p1"}"#],
    );
    wait_for("the view waiting", || {
        metric(port, "nudge_events_buffered") == Some(1)
    });
    std::fs::write(&file, v2).unwrap();
    wait_for("the reload", || {
        metric(port, "nudge_reloads_total") == Some(1)
    });
    // Ten minutes of lateness: this one releases the first.
    produce(
        &brokers,
        &input,
        0,
        &[r#"{"type": "VIEW", "ts": 3000000, "user_id": "u2", "product_id": "p2"}"#],
    );
    let got = read_records(&brokers, &output, 1);
    let (code, stderr) = terminate(run.0.take().unwrap());
    assert_eq!(
        got,
        [r#"{"rule": "seen", "key": "u1", "ts": 1000000, "user_id": "u1", "product_id": null}"#],
        "{stderr}"
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("schema changed"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
