//! The consumer side: the group consumer, its rebalance handling, and which input each
//! topic partition is.

use super::{Error, KafkaConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What the live loop does when the group moves partitions; called from inside a poll,
/// before the consumer starts or after it stops fetching them.
pub trait Rebalancer: Send + Sync {
    /// Partitions given to this process: prepares their state and returns, per
    /// partition, the offset to read from (`None`: the group's committed offset).
    fn assigned(&self, consumer: &GroupConsumer, parts: &[(String, i32)]) -> Vec<Option<u64>>;
    /// Partitions taken away: their state is checkpointed and let go.
    fn revoked(&self, consumer: &GroupConsumer, parts: &[(String, i32)]);
}

/// Consumer context: hands rebalances to the live loop's [`Rebalancer`] synchronously,
/// so that a partition's checkpoint is written before another process can get it, and
/// a restored partition is read from its checkpoint's offsets.
#[derive(Default)]
pub struct Notes {
    handler: OnceLock<Arc<dyn Rebalancer>>,
}

impl Notes {
    /// Sets the handler (once, before subscribing).
    pub fn set_handler(&self, handler: Arc<dyn Rebalancer>) {
        let _ = self.handler.set(handler);
    }
}

impl ClientContext for Notes {}

impl ConsumerContext for Notes {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let parts = list(tpl);
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Some(h) = self.handler.get() {
                    let starts = h.assigned(consumer, &parts);
                    for ((topic, partition), start) in parts.iter().zip(starts) {
                        if let Some(offset) = start {
                            let _ = tpl.set_partition_offset(
                                topic,
                                *partition,
                                Offset::Offset(offset as i64),
                            );
                        }
                    }
                }
                if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if let Some(h) = self.handler.get() {
                    h.revoked(consumer, &parts);
                }
                if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                crate::warn!(
                    "kafka",
                    "kafka: rebalance error: {:?}",
                    RDKafkaErrorCode::from(other)
                );
                if let (Some(h), Ok(owned)) = (self.handler.get(), consumer.assignment()) {
                    h.revoked(consumer, &list(&owned));
                }
                consumer.unassign()
            }
        };
        if let Err(e) = result {
            crate::warn!("kafka", "kafka: cannot apply a rebalance: {e}");
        }
    }
}

fn list(tpl: &TopicPartitionList) -> Vec<(String, i32)> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

/// The group consumer: manual commits, `earliest` when the group has no offset.
pub type GroupConsumer = BaseConsumer<Notes>;

/// Settings shared by every client: the brokers, then the user's properties.
pub fn client_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers);
    c
}

/// Applies the user's properties (last, so they win).
pub fn with_properties(mut c: ClientConfig, cfg: &KafkaConfig) -> ClientConfig {
    for (k, v) in &cfg.properties {
        c.set(k, v);
    }
    c
}

/// Creates the consumer of the group (not yet subscribed).
pub fn consumer(cfg: &KafkaConfig) -> Result<Arc<GroupConsumer>, Error> {
    let mut c = client_config(cfg);
    c.set("group.id", &cfg.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // Partition P of every input topic must go to the same process (one task, one
        // checkpoint): the range assignor does that for co-partitioned topics.
        .set("partition.assignment.strategy", "range")
        // Small fetches per partition keep the partitions in step: the watermark is
        // their minimum, so a burst from one partition only waits in the reorder
        // buffer (benchmark: 0.75 of the ceiling instead of 0.67 for cart abandonment).
        .set("max.partition.fetch.bytes", "65536");
    let consumer: GroupConsumer = with_properties(c, cfg).create_with_context(Notes::default())?;
    Ok(Arc::new(consumer))
}

/// Input numbering: the partitions of the first topic, then those of the next... so
/// that an input (and so a record's `nudge-id`) is the same in every process.
#[derive(Debug, Clone)]
pub struct Partitions {
    /// Per topic: its first input and its partition count.
    topics: HashMap<String, (u32, u32)>,
    /// Per input: its topic (the `source` of its events) and partition.
    inputs: Vec<(Arc<str>, i32)>,
}

impl Partitions {
    /// Reads the partition counts of `topics` from the brokers.
    pub fn fetch(consumer: &GroupConsumer, topics: &[String]) -> Result<Partitions, Error> {
        let mut map = HashMap::new();
        let mut inputs = Vec::new();
        for topic in topics {
            let meta = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            let count = meta
                .topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none())
                .map_or(0, |t| t.partitions().len());
            if count == 0 {
                return Err(Error::NoTopic(topic.clone()));
            }
            map.insert(topic.clone(), (inputs.len() as u32, count as u32));
            let source: Arc<str> = Arc::from(topic.as_str());
            inputs.extend((0..count as i32).map(|p| (source.clone(), p)));
        }
        Ok(Partitions {
            topics: map,
            inputs,
        })
    }

    /// The input of a topic partition; `None` for a partition added after the start.
    pub fn input(&self, topic: &str, partition: i32) -> Option<u32> {
        let (base, count) = *self.topics.get(topic)?;
        (partition >= 0 && (partition as u32) < count).then(|| base + partition as u32)
    }

    /// Number of inputs.
    /// The inputs of task `partition`: partition `partition` of each topic that has it.
    pub fn inputs_of(&self, partition: i32) -> Vec<u32> {
        (0..self.inputs.len() as u32)
            .filter(|&i| self.inputs[i as usize].1 == partition)
            .collect()
    }

    /// The number of partition numbers (tasks): the most partitions of any topic.
    pub fn tasks(&self) -> usize {
        self.inputs
            .iter()
            .map(|(_, p)| *p as usize + 1)
            .max()
            .unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// The topic (`source`) and partition of an input.
    pub fn of(&self, input: u32) -> (&Arc<str>, i32) {
        let (t, p) = &self.inputs[input as usize];
        (t, *p)
    }
}
