//! Produces a file of JSON lines to a Kafka topic, one record per line, keyed by a field
//! (so that a key's events land in one partition, as nudge's Kafka mode needs).
//!
//! ```text
//! cargo run --release -p nudge-runtime --example kafka_produce -- BROKERS TOPIC FILE [KEY_FIELD] [KEY=VALUE...]
//! ```
//!
//! KEY_FIELD (default `user_id`) names the top-level field whose value is the record key
//! (a string as it is, another JSON value as its text); a line without it, or that is not
//! a JSON object, gets no key. `KEY=VALUE` arguments are librdkafka properties, applied
//! last. Blank lines are skipped. Prints the count, the seconds and the rate on stdout,
//! and exits non-zero if the broker did not acknowledge every record.

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// Reads one top-level field of a JSON object, skipping the others without building them.
struct Field<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if found.is_none() && key == self.0 {
                found = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s),
                    other => Some(other.to_string()),
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

fn key_of(line: &[u8], field: &str) -> Option<String> {
    let mut d = serde_json::Deserializer::from_slice(line);
    Field(field).deserialize(&mut d).ok().flatten()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: kafka_produce BROKERS TOPIC FILE [KEY_FIELD] [KEY=VALUE...]");
        return ExitCode::from(2);
    }
    let (brokers, topic, path) = (&args[0], &args[1], &args[2]);
    let mut rest = &args[3..];
    let field = match rest.first() {
        Some(f) if !f.contains('=') => {
            rest = &rest[1..];
            f.as_str()
        }
        _ => "user_id",
    };
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .set("batch.num.messages", "100000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576");
    for p in rest {
        match p.split_once('=') {
            Some((k, v)) => config.set(k, v),
            None => {
                eprintln!("kafka_produce: `{p}` is not KEY=VALUE");
                return ExitCode::from(2);
            }
        };
    }
    let producer: BaseProducer<Failures> = match config.create_with_context(Failures::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("kafka_produce: {e}");
            return ExitCode::FAILURE;
        }
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("kafka_produce: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let start = Instant::now();
    let mut line = Vec::with_capacity(1024);
    let mut sent: u64 = 0;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("kafka_produce: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let key = key_of(text, field);
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).payload(text);
        if let Some(k) = &key {
            record = record.key(k.as_bytes());
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => {
                    eprintln!("kafka_produce: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        sent += 1;
        if sent & 1023 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    if let Err(e) = producer.flush(Duration::from_secs(300)) {
        eprintln!("kafka_produce: flush: {e}");
        return ExitCode::FAILURE;
    }
    let secs = start.elapsed().as_secs_f64();
    let failed = producer.context().0.load(Ordering::Relaxed);
    println!(
        "produced: {sent} records in {secs:.1} s = {} rec/s ({failed} failed)",
        thousands(sent as f64 / secs)
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
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
