//! `nudge run --brokers ...` as a process against a real broker (`NUDGE_TEST_BROKERS`):
//! flags, metrics, SIGTERM (flush, checkpoint, commit, exit 0), restore elsewhere. Skips with
//! a message without the variable, fails when `CI` is set.

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
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

/// Starts `nudge run DIR` on Kafka with the test's topics, metrics on `port`, and its
/// checkpoints in `state`.
fn start_nudge(
    brokers: &str,
    dir: &std::path::Path,
    state: &std::path::Path,
    (input, output, dead, group): (&str, &str, &str, &str),
    port: u16,
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

fn produce(brokers: &str, topic: &str, partition: i32, lines: &[&str]) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    for line in lines {
        producer
            .send(
                BaseRecord::<str, str>::to(topic)
                    .payload(line)
                    .partition(partition),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// Reads `topic` from the start until `n` records arrived (60 s at most).
fn read_records(brokers: &str, topic: &str, n: usize) -> Vec<String> {
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    reader.subscribe(&[topic]).unwrap();
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
    let (input, output, dead, group) = (
        unique("events"),
        unique("out"),
        unique("dead"),
        unique("group"),
    );
    let topics = (&*input, &*output, &*dead, &*group);
    create_topics(&brokers, &[(&input, 4), (&output, 1), (&dead, 1)]);
    let dir = std::env::temp_dir().join(unique("nudge-kafka-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.nudge"), PROGRAM).unwrap();
    let (state1, state2) = (dir.join("state-1"), dir.join("state-2"));
    let port = free_port();
    let mut first = Running(Some(start_nudge(&brokers, &dir, &state1, topics, port)));

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
    let metrics = http_get(port);
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    for line in [
        "nudge_events_in_total 2",
        "nudge_records_out_total 1",
        "nudge_runs_alive 1",
        "nudge_partitions_assigned 4",
        "# TYPE nudge_checkpoint_age_seconds gauge",
    ] {
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
    let group_reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", &group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&input, 2);
    let committed = group_reader
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    let p2 = committed.find_partition(&input, 2).unwrap();
    assert_eq!(p2.offset(), Offset::Offset(2));

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
