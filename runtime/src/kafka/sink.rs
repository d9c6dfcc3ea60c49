//! The producer side: records to the output topics, dead letters to theirs, and the
//! count of what the brokers acknowledged.

use super::checkpoint::CHUNK;
use super::source::{client_config, with_properties};
use super::{Error, KafkaConfig, Metrics};
use crate::decode::DeadLetter;
use crate::engine::Output;
use crate::runner::Sink;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders, ToBytes};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use rdkafka::TopicPartitionList;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts deliveries: acknowledged and failed.
#[derive(Default)]
pub struct Acks {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Writes records and dead letters to Kafka (implements the runner's [`Sink`]).
pub struct KafkaSink {
    producer: ThreadedProducer<Acks>,
    output_topic: String,
    dead_letter_topic: String,
    metrics: Arc<Metrics>,
    transactional: bool,
    /// Per rule, by its place in the program: its name and the records written since
    /// the counts were last reported to the metrics.
    rules: rustc_hash::FxHashMap<u32, (String, u64)>,
    /// Exactly-once mode with a state dir: the locked file whose id this process's
    /// transactions carry (held while the producer lives).
    _instance: Option<File>,
}

/// Sends a record, waiting while the producer's queue is full (the brokers are slower
/// than the loop: that is back-pressure, not an error).
pub(super) fn send_waiting<C, K, P>(
    producer: &ThreadedProducer<C>,
    mut record: BaseRecord<'_, K, P>,
) -> Result<(), KafkaError>
where
    C: ProducerContext<DeliveryOpaque = ()>,
    K: ToBytes + ?Sized,
    P: ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// The `transactional.id` of this process, and the lock that keeps it this process's.
///
/// The id must be the same when a process starts again after a crash: its first call
/// (`init_transactions`) then fences the dead process's producer and aborts the
/// transaction it left open. A transaction left open blocks every `read_committed`
/// reader of the partitions it wrote to, until the broker aborts it after
/// `transaction.timeout.ms`. With a state dir, the id is stored there, in the first
/// of `DIR/GROUP/instance-N` that no running process holds locked (processes that share
/// a state dir get different ids; a restarted one takes its old one back). Without a
/// state dir, the id is new for every process. Zombies that come back are fenced by the
/// group generation either way (KIP-447).
fn transactional_id(cfg: &KafkaConfig) -> Result<(String, Option<File>), Error> {
    let fresh = || {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}.nudge.{:x}.{nanos:x}", cfg.group, std::process::id())
    };
    let Some(dir) = &cfg.state_dir else {
        return Ok((fresh(), None));
    };
    let dir = dir.join(&cfg.group);
    std::fs::create_dir_all(&dir)?;
    let mut n = 0;
    loop {
        let path = dir.join(format!("instance-{n}"));
        n += 1;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
        let mut id = String::new();
        file.read_to_string(&mut id)?;
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok((id, Some(file)));
        }
        let id = fresh();
        file.write_all(format!("{id}\n").as_bytes())?;
        file.sync_all()?;
        return Ok((id, Some(file)));
    }
}

/// How long a transaction call may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

impl KafkaSink {
    /// The producer of every output: records, dead letters and checkpoints. With
    /// `cfg.exactly_once` it is transactional and a transaction is open from the start.
    pub fn new(cfg: &KafkaConfig, metrics: Arc<Metrics>) -> Result<KafkaSink, Error> {
        let mut c = client_config(cfg);
        c.set("linger.ms", "5")
            .set("message.max.bytes", (CHUNK + 64 * 1024).to_string());
        let mut instance = None;
        if cfg.exactly_once {
            let (id, lock) = transactional_id(cfg)?;
            c.set("transactional.id", id);
            instance = lock;
        }
        let producer: ThreadedProducer<Acks> =
            with_properties(c, cfg).create_with_context(Acks::default())?;
        if cfg.exactly_once {
            producer.init_transactions(TXN_TIMEOUT)?;
            producer.begin_transaction()?;
        }
        Ok(KafkaSink {
            producer,
            output_topic: cfg.output_topic.clone(),
            dead_letter_topic: cfg.dead_letter_topic.clone(),
            metrics,
            transactional: cfg.exactly_once,
            rules: Default::default(),
            _instance: instance,
        })
    }

    /// Names the rules of `plan` for the per-rule counts (at the start and on reloads).
    pub fn name_rules(&mut self, plan: &nudge_compiler::plan::Plan) {
        self.report_rules();
        self.rules = plan
            .patterns
            .iter()
            .map(|p| (p.place, (p.name.clone(), 0)))
            .chain(
                plan.trendings
                    .iter()
                    .map(|t| (t.place, (t.name.clone(), 0))),
            )
            .collect();
    }

    /// Adds the per-rule counts to the metrics (a few times a second, not per record).
    pub fn report_rules(&mut self) {
        for (name, n) in self.rules.values_mut() {
            if *n > 0 {
                self.metrics.records_of(name, std::mem::take(n));
            }
        }
    }

    /// Whether outputs, checkpoints and offsets are committed in transactions.
    pub fn transactional(&self) -> bool {
        self.transactional
    }

    /// Sends one raw record to partition `partition` of `topic` (checkpoints; `None`
    /// is a tombstone).
    pub fn send_bytes(
        &self,
        topic: &str,
        partition: i32,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<(), Error> {
        let mut record: BaseRecord<'_, str, [u8]> =
            BaseRecord::to(topic).key(key).partition(partition);
        if let Some(v) = value {
            record = record.payload(v);
        }
        Ok(send_waiting(&self.producer, record)?)
    }

    /// Exactly-once mode: commits the open transaction (every record sent since the
    /// last commit, with the checkpoints) together with the consumer offsets, then opens
    /// the next. An error aborts it: nothing of it becomes visible, and the process
    /// stops (a restart resumes from the last committed checkpoint).
    pub fn commit_transaction(
        &self,
        offsets: &TopicPartitionList,
        group: &ConsumerGroupMetadata,
    ) -> Result<(), Error> {
        let sent = if offsets.count() > 0 {
            self.producer
                .send_offsets_to_transaction(offsets, group, TXN_TIMEOUT)
        } else {
            Ok(())
        };
        let done = sent.and_then(|()| self.producer.commit_transaction(TXN_TIMEOUT));
        if let Err(e) = done {
            let _ = self.producer.abort_transaction(TXN_TIMEOUT);
            return Err(e.into());
        }
        self.producer.begin_transaction()?;
        Ok(())
    }

    /// Sends one record, waiting while the producer's queue is full.
    fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        value: &str,
        id: Option<&str>,
    ) -> io::Result<()> {
        let mut record: BaseRecord<'_, str, str> = BaseRecord::to(topic).payload(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(id) = id {
            record = record.headers(OwnedHeaders::new().insert(Header {
                key: "nudge-id",
                value: Some(id),
            }));
        }
        send_waiting(&self.producer, record).map_err(io::Error::other)
    }

    /// Waits until every record sent is acknowledged (or failed); errs if any failed.
    pub fn flush(&self) -> Result<(), Error> {
        self.producer.flush(Duration::from_secs(60))?;
        match self.producer.context().failed.load(Ordering::Relaxed) {
            0 => Ok(()),
            failed => Err(Error::Undelivered { failed }),
        }
    }
}

impl Sink for KafkaSink {
    fn record(&mut self, out: &Output) -> io::Result<()> {
        let topic = out.into.as_deref().unwrap_or(&self.output_topic);
        let key = (!out.key.is_empty()).then_some(out.key.as_str());
        self.send(topic, key, &out.json, Some(&out.id))?;
        self.metrics.records_out.fetch_add(1, Ordering::Relaxed);
        if let Some((_, n)) = self.rules.get_mut(&out.place) {
            *n += 1;
        }
        Ok(())
    }

    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()> {
        self.send(&self.dead_letter_topic, None, &dead.to_json(), None)?;
        self.metrics.dead_letters.fetch_add(1, Ordering::Relaxed);
        if dead.reason == crate::decode::DeadReason::Late {
            self.metrics.late.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path) -> KafkaConfig {
        let mut cfg = KafkaConfig::new("127.0.0.1:9", &["in"], "out", "dead", "shop");
        cfg.state_dir = Some(dir.to_path_buf());
        cfg.exactly_once = true;
        cfg
    }

    #[test]
    fn a_restarted_process_takes_its_transactional_id_back() {
        let dir = std::env::temp_dir().join(format!("nudge-txn-id-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = config(&dir);
        let (first, lock) = transactional_id(&cfg).unwrap();
        assert!(first.starts_with("shop.nudge."), "{first}");
        // A second process beside it gets its own id.
        let (second, second_lock) = transactional_id(&cfg).unwrap();
        assert_ne!(first, second);
        // The first one stops (or dies: the lock goes with the process) and starts again.
        drop(lock);
        let (again, _lock) = transactional_id(&cfg).unwrap();
        assert_eq!(again, first);
        drop(second_lock);
        // Without a state dir every process has a new id.
        let none = KafkaConfig {
            state_dir: None,
            ..cfg.clone()
        };
        assert_ne!(
            transactional_id(&none).unwrap().0,
            transactional_id(&none).unwrap().0
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
