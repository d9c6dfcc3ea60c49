//! `nudge run --brokers ...` as a process against a real broker (`NUDGE_TEST_BROKERS`):
//! flags, metrics, SIGTERM (flush, commit, exit 0) and the committed offsets. Skips with
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
use std::process::{Command, Stdio};
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
  then not PURCHASE within 1000h
  emit { user_id: cart.user_id }
"#;

/// The binary runs as a service: records out, metrics served, SIGTERM → exit 0 with
/// offsets committed up to the first event a pending run still needs.
#[test]
fn nudge_run_on_kafka_stops_on_sigterm_and_commits() {
    let Some(brokers) = brokers() else { return };
    let (input, output, dead, group) = (
        unique("events"),
        unique("out"),
        unique("dead"),
        unique("group"),
    );
    create_topics(&brokers, &[(&input, 4), (&output, 1), (&dead, 1)]);
    let dir = std::env::temp_dir().join(unique("nudge-kafka-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.nudge"), PROGRAM).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("run")
        .arg(&dir)
        .args([
            "--brokers",
            &brokers,
            "--topic",
            &input,
            "--output-topic",
            &output,
        ])
        .args(["--dead-letter-topic", &dead, "--group", &group])
        .args(["--kafka-property", "session.timeout.ms=6000"])
        .args(["--kafka-property", "fetch.wait.max.ms=10"])
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nudge starts");

    // Partition 2: a purchase of another user (offset 0), then a cart (offset 1).
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    for line in [
        r#"{"type": "PURCHASE", "ts": 1000000, "user_id": "u7"}"#,
        r#"{"type": "ADD_TO_CART", "ts": 1000100, "user_id": "u9", "product_id": "p9"}"#,
    ] {
        producer
            .send(
                BaseRecord::<str, str>::to(&input)
                    .payload(line)
                    .partition(2),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
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
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    for line in [
        "nudge_events_in_total 2",
        "nudge_records_out_total 1",
        "nudge_runs_alive 1",
        "nudge_partitions_assigned 4",
    ] {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }

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
    assert!(stderr.contains("offsets committed"), "{stderr}");

    // The slow run started at offset 1 is pending: a replay must start there.
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
    assert_eq!(p2.offset(), Offset::Offset(1));
    let _ = std::fs::remove_dir_all(&dir);
}
