//! The live loop: polls the group consumer, decodes, orders by per-partition watermarks
//! (moving idle partitions by wall-clock time), drives the global stage and the engine,
//! and produces what the watermark has passed; on stop, flushes and commits.

use super::sink::KafkaSink;
use super::source::{self, Change, GroupConsumer, Partitions};
use super::{Error, KafkaConfig, Metrics, Stop};
use crate::decode::{DeadLetter, DeadReason, Decoded, Decoder};
use crate::engine::{Engine, ShardId};
use crate::eval::World;
use crate::operators::Global;
use crate::reorder::{Reorder, MAX_WATERMARK, MIN_WATERMARK};
use crate::runner::{Merger, ProfileSink, RunOptions, Sink, Summary};
use nudge_compiler::plan::Plan;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Records polled before the loop moves the clock.
const POLL_BATCH: usize = 4096;

/// Runs `plan` on Kafka until `stop` is requested, then produces every finished record,
/// waits for the brokers' acknowledgements, commits and returns what the run did.
///
/// One engine (`opts.shards` is not used yet); scale out with more processes in the
/// group.
pub fn run(
    plan: Arc<Plan>,
    world: Arc<dyn World + Send + Sync>,
    opts: &RunOptions,
    cfg: &KafkaConfig,
    stop: &Stop,
    metrics: Arc<Metrics>,
) -> Result<Summary, Error> {
    let consumer = source::consumer(cfg)?;
    let parts = Partitions::fetch(&consumer, &cfg.topics)?;
    let topics: Vec<&str> = cfg.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let mut sink = KafkaSink::new(cfg, metrics.clone())?;
    let mut live = Live::new(plan, world, opts, parts, metrics);
    while !stop.is_stopped() {
        let mut timeout = cfg.tick;
        for _ in 0..POLL_BATCH {
            let polled = consumer.poll(timeout);
            live.apply(consumer.context().take(), Instant::now());
            match polled {
                None => break,
                Some(Err(e)) => {
                    eprintln!("nudge: kafka: {e}");
                    break;
                }
                Some(Ok(msg)) => {
                    let offset = msg.offset().max(0) as u64;
                    live.record(
                        msg.topic(),
                        msg.partition(),
                        offset,
                        msg.payload(),
                        &mut sink,
                    )?;
                    timeout = Duration::ZERO;
                }
            }
        }
        live.tick(Instant::now(), &mut sink)?;
    }
    live.finish(&mut sink)?;
    sink.flush()?;
    live.commit(&consumer)?;
    consumer.unsubscribe();
    Ok(live.summary)
}

/// Per input partition: ownership, progress and quiet time.
#[derive(Debug, Clone)]
struct Part {
    assigned: bool,
    /// The offset after the last record read (records before it are replays).
    next_offset: Option<u64>,
    /// Whether it has delivered an event since this process started.
    seen: bool,
    /// When it last delivered an event (or was assigned).
    quiet_since: Instant,
    /// The idle advance given to its watermark since then, in ms.
    idle_applied: i64,
}

struct Live {
    reorder: Reorder,
    global: Global,
    engine: Engine,
    merger: Merger,
    decoder: Decoder,
    parts: Partitions,
    state: Vec<Part>,
    idle: Duration,
    /// The watermark the engine has been advanced to.
    clock: i64,
    summary: Summary,
    metrics: Arc<Metrics>,
    /// Where profile updates go (`sink redis`), drained each tick.
    profile_sink: Option<Arc<dyn ProfileSink>>,
}

impl Live {
    fn new(
        plan: Arc<Plan>,
        world: Arc<dyn World + Send + Sync>,
        opts: &RunOptions,
        parts: Partitions,
        metrics: Arc<Metrics>,
    ) -> Live {
        let global = Global::new(plan.clone());
        let mut engine = Engine::new(plan.clone(), world, opts.engine, ShardId::SOLE);
        engine.read_globals(global.published().clone());
        if opts.profile_sink.is_some() {
            engine.collect_profile_updates();
        }
        let mut reorder = Reorder::new(parts.len(), plan.input.lateness_ms);
        for input in 0..parts.len() {
            reorder.set_active(input as u32, false);
        }
        let now = Instant::now();
        Live {
            reorder,
            global,
            engine,
            merger: Merger::new(&plan, opts),
            decoder: Decoder::new(plan.clone()),
            state: vec![
                Part {
                    assigned: false,
                    next_offset: None,
                    seen: false,
                    quiet_since: now,
                    idle_applied: 0,
                };
                parts.len()
            ],
            parts,
            idle: Duration::from_millis(plan.input.idle_ms),
            clock: MIN_WATERMARK,
            summary: Summary::default(),
            metrics,
            profile_sink: opts.profile_sink.clone(),
        }
    }

    /// Applies rebalances: an assigned partition counts in the watermark (until it
    /// proves idle without an event); a revoked one stops counting. The state its
    /// events built stays (checkpoints that move it are not implemented yet).
    fn apply(&mut self, changes: Vec<Change>, now: Instant) {
        for change in changes {
            let (list, assigned) = match change {
                Change::Assigned(l) => (l, true),
                Change::Revoked(l) => (l, false),
            };
            for (topic, partition) in list {
                if let Some(input) = self.parts.input(&topic, partition) {
                    let part = &mut self.state[input as usize];
                    part.assigned = assigned;
                    part.quiet_since = now;
                    part.idle_applied = 0;
                    self.reorder.set_active(input, assigned);
                }
            }
        }
        let owned = self.state.iter().filter(|p| p.assigned).count();
        self.metrics
            .partitions_assigned
            .store(owned as u64, Ordering::Relaxed);
    }

    /// One record of an input topic.
    fn record(
        &mut self,
        topic: &str,
        partition: i32,
        offset: u64,
        payload: Option<&[u8]>,
        sink: &mut KafkaSink,
    ) -> Result<(), Error> {
        let Some(input) = self.parts.input(topic, partition) else {
            // A partition added after the start: its input number is unknown here.
            return Ok(());
        };
        let part = &mut self.state[input as usize];
        if part.next_offset.is_some_and(|next| offset < next) {
            return Ok(()); // Read again after a rebalance: already processed here.
        }
        part.next_offset = Some(offset + 1);
        let Some(payload) = payload else {
            return Ok(());
        };
        let source = self.parts.of(input).0.clone();
        let decoded = self
            .decoder
            .decode_json_line(payload, &source, input, offset);
        if !matches!(decoded, Decoded::Blank) {
            self.summary.read += 1;
            self.metrics.records_in.fetch_add(1, Ordering::Relaxed);
        }
        match decoded {
            Decoded::Blank => {}
            Decoded::Ignored => {
                self.summary.ignored += 1;
                self.metrics.ignored.fetch_add(1, Ordering::Relaxed);
            }
            Decoded::Dead(dead) => {
                self.summary.count_dead(dead.reason);
                sink.dead_letter(&dead)?;
            }
            Decoded::Event(event) => match self.reorder.offer(Arc::new(event)) {
                Ok(()) => {
                    self.summary.accepted += 1;
                    self.metrics.events_in.fetch_add(1, Ordering::Relaxed);
                    let part = &mut self.state[input as usize];
                    part.seen = true;
                    part.quiet_since = Instant::now();
                    part.idle_applied = 0;
                    if part.assigned {
                        self.reorder.set_active(input, true);
                    }
                }
                Err(_late) => {
                    let dead = DeadLetter::new(DeadReason::Late, &source, offset, payload);
                    self.summary.count_dead(DeadReason::Late);
                    sink.dead_letter(&dead)?;
                }
            },
        }
        Ok(())
    }

    /// Moves the clock: idle partitions' watermarks advance by the wall-clock time past
    /// their `idle`, an assigned partition that has delivered nothing for `idle` stops
    /// holding the watermark back; released events go to the global stage and the
    /// engine; records below the watermark go out.
    fn tick(&mut self, now: Instant, sink: &mut KafkaSink) -> Result<(), Error> {
        for (i, part) in self.state.iter_mut().enumerate() {
            if !part.assigned {
                continue;
            }
            let quiet = now.saturating_duration_since(part.quiet_since);
            if quiet < self.idle {
                continue;
            }
            if part.seen {
                let total = (quiet - self.idle).as_millis().min(i64::MAX as u128) as i64;
                self.reorder
                    .idle_advance(i as u32, total - part.idle_applied);
                part.idle_applied = total;
            } else {
                self.reorder.set_active(i as u32, false);
            }
        }
        if self.reorder.any_active() {
            let wm = self.reorder.watermark();
            while let Some(event) = self.reorder.pop_ready(wm) {
                self.global.push(&event);
                self.engine.push(event);
            }
            if let Some(sink) = &self.profile_sink {
                sink.offer(self.engine.take_profile_updates());
            }
            if wm > self.clock && wm != MAX_WATERMARK {
                self.clock = wm;
                self.global.advance_to(wm);
                self.merger.add(self.global.take_outputs());
                self.engine.advance_to(wm);
                self.global.published().prune(wm);
            }
        }
        self.merger.add(self.engine.take_outputs());
        self.merger
            .flush_below(self.clock, sink, &mut self.summary)?;
        self.update_metrics();
        Ok(())
    }

    /// On stop: every finished record goes out (timers not yet due stay pending; their
    /// events are not committed).
    fn finish(&mut self, sink: &mut KafkaSink) -> Result<(), Error> {
        self.merger.add(self.global.take_outputs());
        self.merger.add(self.engine.take_outputs());
        self.merger
            .flush_below(MAX_WATERMARK, sink, &mut self.summary)?;
        self.summary.engine = self.engine.stats().clone();
        self.summary.models = self.merger.model_stats();
        self.update_metrics();
        Ok(())
    }

    /// Commits, per owned partition, the offset of the first event that pending state
    /// may still need: one waiting in the reorder buffer, or the first event of a run
    /// in flight; else the offset after the last record read.
    fn commit(&self, consumer: &GroupConsumer) -> Result<(), Error> {
        let buffered = self.reorder.buffered_min_offsets();
        let origins = self.engine.run_origins(self.parts.len());
        let mut tpl = TopicPartitionList::new();
        for (i, part) in self.state.iter().enumerate() {
            let Some(next) = part.next_offset else {
                continue;
            };
            if !part.assigned {
                continue;
            }
            let at = [Some(next), buffered[i], origins[i]]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next);
            let (topic, partition) = self.parts.of(i as u32);
            tpl.add_partition_offset(topic, partition, Offset::Offset(at as i64))?;
        }
        if tpl.count() > 0 {
            consumer.commit(&tpl, CommitMode::Sync)?;
        }
        Ok(())
    }

    fn update_metrics(&self) {
        let m = &self.metrics;
        m.runs_alive
            .store(self.engine.runs_alive() as u64, Ordering::Relaxed);
        m.keys_alive
            .store(self.engine.keys_alive() as u64, Ordering::Relaxed);
        m.events_buffered
            .store(self.reorder.buffered() as u64, Ordering::Relaxed);
        if self.clock > MIN_WATERMARK {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            m.watermark_ms.store(self.clock, Ordering::Relaxed);
            m.watermark_lag_ms
                .store(now_ms.saturating_sub(self.clock), Ordering::Relaxed);
        }
    }
}
