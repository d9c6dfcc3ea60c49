//! The consumer side: the group consumer, its rebalance notes, and which input each
//! topic partition is.

use super::{Error, KafkaConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A change of this process's partitions, noted during a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Assigned(Vec<(String, i32)>),
    Revoked(Vec<(String, i32)>),
}

/// Consumer context: notes rebalances for the live loop to apply after the poll.
#[derive(Default)]
pub struct Notes {
    changes: Mutex<Vec<Change>>,
}

impl Notes {
    /// The changes since the last call, in order.
    pub fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.changes.lock().expect("notes lock"))
    }
}

impl ClientContext for Notes {}

impl ConsumerContext for Notes {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let change = match rebalance {
            Rebalance::Assign(tpl) => Change::Assigned(list(tpl)),
            Rebalance::Revoke(tpl) => Change::Revoked(list(tpl)),
            Rebalance::Error(_) => return,
        };
        self.changes.lock().expect("notes lock").push(change);
    }
}

fn list(tpl: &rdkafka::TopicPartitionList) -> Vec<(String, i32)> {
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
        .set("enable.partition.eof", "false");
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
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// The topic (`source`) and partition of an input.
    pub fn of(&self, input: u32) -> (&Arc<str>, i32) {
        let (t, p) = &self.inputs[input as usize];
        (t, *p)
    }
}
