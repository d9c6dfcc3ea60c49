//! The ceiling of a consume-and-produce loop for this client (rdkafka) and a broker: what
//! nudge's Kafka mode is compared with in benches/kafka.sh.
//!
//! ```text
//! cargo run --release -p nudge-runtime --example kafka_ceiling -- BROKERS INPUT OUTPUT N [KEY=VALUE...]
//! ```
//!
//! A `BaseConsumer` in a fresh group reads INPUT from `earliest` (the consumer settings of
//! nudge's Kafka mode: no auto commit, `session.timeout.ms=6000`, `fetch.wait.max.ms=10`)
//! and a `BaseProducer` (`linger.ms=5`, as nudge's sink) writes each record's payload
//! unchanged, with the same key, to OUTPUT, until N records were read; then it flushes.
//! `KEY=VALUE` arguments are librdkafka properties for both clients, applied last.
//!
//! Prints one line on stdout, timed from the creation of the clients (group join
//! included) to the end of the flush:
//!
//! ```text
//! ceiling: 5000000 records in 12.3 s = 406,000 rec/s (first record at 3.1 s, all read at 12.2 s, 0 failed)
//! ```

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Counts failed deliveries.
#[derive(Default)]
struct Failures(AtomicU64);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: kafka_ceiling BROKERS INPUT OUTPUT N [KEY=VALUE...]");
        return ExitCode::from(2);
    }
    let (brokers, input, output) = (&args[0], &args[1], &args[2]);
    let Ok(n) = args[3].replace([',', '_'], "").parse::<u64>() else {
        eprintln!("kafka_ceiling: N must be a number, not `{}`", args[3]);
        return ExitCode::from(2);
    };
    let mut properties = Vec::new();
    for p in &args[4..] {
        match p.split_once('=') {
            Some((k, v)) => properties.push((k.to_string(), v.to_string())),
            None => {
                eprintln!("kafka_ceiling: `{p}` is not KEY=VALUE");
                return ExitCode::from(2);
            }
        }
    }
    match run(brokers, input, output, n, &properties) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kafka_ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    brokers: &str,
    input: &str,
    output: &str,
    n: u64,
    properties: &[(String, String)],
) -> Result<(), KafkaError> {
    let start = Instant::now();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("kafka-ceiling-{}-{nanos}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "6000")
        .set("fetch.wait.max.ms", "10");
    let mut p = ClientConfig::new();
    p.set("bootstrap.servers", brokers).set("linger.ms", "5");
    for (k, v) in properties {
        c.set(k, v);
        p.set(k, v);
    }
    let consumer: BaseConsumer = c.create()?;
    let producer: BaseProducer<Failures> = p.create_with_context(Failures::default())?;
    consumer.subscribe(&[input])?;

    let mut read: u64 = 0;
    let mut first = None;
    while read < n {
        let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
            producer.poll(Duration::ZERO);
            continue;
        };
        let msg = match polled {
            Ok(m) => m,
            Err(e) => {
                eprintln!("kafka_ceiling: consumer: {e}");
                continue;
            }
        };
        first.get_or_insert_with(|| start.elapsed());
        read += 1;
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(output);
        if let Some(payload) = msg.payload() {
            record = record.payload(payload);
        }
        if let Some(key) = msg.key() {
            record = record.key(key);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e),
            }
        }
        if read & 1023 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    let all_read = start.elapsed();
    producer.flush(Duration::from_secs(300))?;
    let secs = start.elapsed().as_secs_f64();
    let failed = producer.context().0.load(Ordering::Relaxed);
    println!(
        "ceiling: {read} records in {secs:.2} s = {} rec/s (first record at {:.2} s, all read at {:.2} s, {failed} failed)",
        thousands(read as f64 / secs),
        first.unwrap_or_default().as_secs_f64(),
        all_read.as_secs_f64(),
    );
    if failed > 0 {
        return Err(KafkaError::MessageProduction(RDKafkaErrorCode::Fail));
    }
    Ok(())
}

/// 406000.4 → "406,000".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
