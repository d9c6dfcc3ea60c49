//! The broadcast of global operators (DESIGN.md): trending and covisit must see every
//! event of the group, not only those of the partitions one process owns.
//!
//! Every process publishes the events the global operators read, as it accepts them, to
//! the topic `GROUP.globals` (one partition), followed by **marks**: "task P has
//! published every event below time W" (W is the owner's watermark: an event below it
//! would be late). Every process reads the whole topic and feeds its own global stage
//! from it: events wait until the group's global watermark (the minimum mark over all
//! tasks) passes them and are released in (ts, input, offset) order, exactly the order
//! one process owning every partition would use. So every process's trending and covisit
//! hold the same state at the same event time as one process would, and the engines,
//! which only run below that watermark, read the same snapshots.
//!
//! A task restored from a checkpoint reads again from the checkpoint's offsets and
//! publishes those events again: an event below the global watermark is dropped (it
//! was released already), and one still waiting is kept once (by input and offset). A
//! restarted process reads the topic from its start to rebuild the windows.

use super::checkpoint::create_topic;
use super::sink::send_waiting;
use super::source::{client_config, with_properties};
use super::{Error, KafkaConfig};
use crate::event::Event;
use crate::reorder::{Pending, MIN_WATERMARK};
use nudge_compiler::plan::Plan;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

/// Records read from the topic per call of [`GlobalLog::poll`].
const POLL_MAX: usize = 8192;

/// One record of the topic: written with a borrowed event (`Entry<&Event>`, no copy),
/// read as an owned one (`Entry<Event>`); serde encodes both alike.
#[derive(Serialize, Deserialize)]
enum Entry<E> {
    Event(E),
    /// (task, watermark)
    Mark(i32, i64),
}

/// The process's side of the broadcast.
pub struct GlobalLog {
    topic: String,
    producer: ThreadedProducer<DefaultProducerContext>,
    consumer: BaseConsumer,
    /// Per event type: whether a global operator reads it.
    wanted: Vec<bool>,
    /// Per task: the latest mark read (a new owner restored from an older checkpoint
    /// may mark lower than the last; what was released stays released).
    marks: Vec<i64>,
    /// Per owned task: the last mark sent.
    sent: FxHashMap<i32, i64>,
    waiting: BinaryHeap<Reverse<Pending>>,
    /// (input, offset) of the waiting events.
    held: FxHashSet<(u32, u64)>,
    /// The global watermark events were released below.
    released: i64,
}

impl GlobalLog {
    /// Opens the broadcast for a group whose inputs have `tasks` partition numbers, or
    /// `None` when the program has no global operator.
    pub fn open(cfg: &KafkaConfig, plan: &Plan, tasks: usize) -> Result<Option<GlobalLog>, Error> {
        if plan.trendings.is_empty() && plan.covisits.is_empty() {
            return Ok(None);
        }
        let topic = format!("{}.globals", cfg.group);
        create_topic(cfg, &topic, "delete")?;
        let mut c = client_config(cfg);
        c.set("linger.ms", "2").set("enable.idempotence", "true");
        let producer = with_properties(c, cfg).create()?;
        let mut c = client_config(cfg);
        c.set("group.id", format!("{}.globals-reader", cfg.group))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        let consumer: BaseConsumer = with_properties(c, cfg).create()?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        Ok(Some(GlobalLog {
            topic,
            producer,
            consumer,
            wanted: wanted_types(plan),
            marks: vec![MIN_WATERMARK; tasks],
            sent: FxHashMap::default(),
            waiting: BinaryHeap::new(),
            held: FxHashSet::default(),
            released: MIN_WATERMARK,
        }))
    }

    /// A reloaded program: publishes the event types its global operators read.
    pub fn reread(&mut self, plan: &Plan) {
        self.wanted = wanted_types(plan);
    }

    /// Publishes an accepted event if a global operator reads it.
    pub fn publish(&self, event: &Event) -> Result<(), Error> {
        if !self.wanted.get(event.ty.index()).copied().unwrap_or(false) {
            return Ok(());
        }
        self.send(&Entry::Event(event))
    }

    /// Publishes the marks of the owned tasks: every event they accepted below `wm` is
    /// published.
    pub fn mark(&mut self, owned: impl Iterator<Item = i32>, wm: i64) -> Result<(), Error> {
        for task in owned {
            if self.sent.get(&task) == Some(&wm) {
                continue;
            }
            self.send(&Entry::<&Event>::Mark(task, wm))?;
            self.sent.insert(task, wm);
        }
        Ok(())
    }

    /// Forgets what was sent for a task let go (its next owner marks it).
    pub fn release(&mut self, task: i32) {
        self.sent.remove(&task);
    }

    fn send(&self, entry: &Entry<&Event>) -> Result<(), Error> {
        let bytes = postcard::to_stdvec(entry)
            .map_err(|e| Error::Checkpoint(format!("encoding a global event: {e}")))?;
        let record: BaseRecord<'_, (), [u8]> =
            BaseRecord::to(&self.topic).payload(&bytes[..]).partition(0);
        Ok(send_waiting(&self.producer, record)?)
    }

    /// Reads what the topic has (without waiting).
    pub fn poll(&mut self) -> Result<(), Error> {
        for _ in 0..POLL_MAX {
            let msg = match self.consumer.poll(Duration::ZERO) {
                None => return Ok(()),
                Some(Err(KafkaError::PartitionEOF(_))) => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(m)) => m,
            };
            let Some(bytes) = msg.payload() else {
                continue;
            };
            match postcard::from_bytes::<Entry<Event>>(bytes) {
                Ok(Entry::Mark(task, wm)) => {
                    if let Some(m) = self.marks.get_mut(task as usize) {
                        *m = wm;
                    }
                }
                Ok(Entry::Event(event)) => {
                    let id = (event.input, event.offset);
                    if event.ts < self.released || !self.held.insert(id) {
                        continue; // Published again after a restore: seen already.
                    }
                    self.waiting.push(Reverse(Pending::new(Arc::new(event))));
                }
                Err(e) => crate::warn!("kafka", "{}: an unreadable record: {e}", self.topic),
            }
        }
        Ok(())
    }

    /// The smallest mark of the tasks not in `owned`, if they all have one.
    pub fn others_watermark(&self, owned: &[i32]) -> Option<i64> {
        let others = (0..self.marks.len() as i32).filter(|t| !owned.contains(t));
        let min = others.map(|t| self.marks[t as usize]).min()?;
        (min > MIN_WATERMARK).then_some(min)
    }

    /// The group's global watermark: the smallest mark over all tasks (never below
    /// what was released already).
    pub fn watermark(&self) -> i64 {
        let min = self.marks.iter().copied().min().unwrap_or(MIN_WATERMARK);
        min.max(self.released)
    }

    /// The next event below the global watermark, in order.
    pub fn pop_ready(&mut self) -> Option<Arc<Event>> {
        let g = self.watermark();
        self.released = g;
        match self.waiting.peek() {
            Some(Reverse(w)) if w.ts() < g => {
                let Reverse(w) = self.waiting.pop()?;
                let event = w.into_event();
                self.held.remove(&(event.input, event.offset));
                Some(event)
            }
            _ => None,
        }
    }
}

/// Per event type: whether a trending counts it or a covisit's session takes it.
fn wanted_types(plan: &Plan) -> Vec<bool> {
    let mut wanted = vec![false; plan.events.len()];
    for t in &plan.trendings {
        for (ty, _) in &t.of {
            wanted[ty.index()] = true;
        }
    }
    for c in &plan.covisits {
        for ty in &plan.sessions[c.session.index()].of {
            wanted[ty.index()] = true;
        }
    }
    wanted
}
