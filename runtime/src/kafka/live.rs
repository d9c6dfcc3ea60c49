//! The live loop: polls the group consumer, decodes, orders by per-partition watermarks
//! (moving idle partitions by wall-clock time), drives the global stage and one engine
//! per task, produces what the watermark has passed, and checkpoints.
//!
//! A task is a partition number P: partition P of every input topic. Input topics are
//! keyed by the pattern key with the same partition count (co-partitioned), so a key's
//! events are all in one task, and the range assignor gives a task's partitions to one
//! process. Each task has its own engine, so that its state can be checkpointed, moved to
//! another process and restored without touching the other tasks. One watermark (the
//! minimum over the owned partitions) drives them all; with `--shards N` their engines
//! run on N worker threads (`crew.rs`) while this loop reads on.

use super::checkpoint::{now_ms, Checkpoint, Store};
use super::crew::{Crew, Done, Slot, Task};
use super::globals::GlobalLog;
use super::sink::KafkaSink;
use super::source::{self, GroupConsumer, Partitions, Rebalancer};
use super::{Error, KafkaConfig, Metrics, Reload, Reloads, Stop};
use crate::decode::{DeadLetter, DeadReason, Decoded, Decoder};
use crate::engine::{Engine, ShardId, Stats};
use crate::eval::World;
use crate::operators::Global;
use crate::reorder::{Reorder, MAX_WATERMARK, MIN_WATERMARK};
use crate::runner::{Merger, ProfileSink, RunOptions, Summary};
use nudge_compiler::diff::ProgramDiff;
use nudge_compiler::plan::Plan;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Records polled before the loop moves the clock.
const POLL_BATCH: usize = 4096;

/// Runs `plan` on Kafka until `stop` is requested, then checkpoints every owned task
/// (after producing every finished record and waiting for the brokers' acknowledgements),
/// commits and returns what the run did.
pub fn run(
    plan: Arc<Plan>,
    world: Arc<dyn World + Send + Sync>,
    opts: &RunOptions,
    cfg: &KafkaConfig,
    stop: &Stop,
    reloads: &Reloads,
    metrics: Arc<Metrics>,
) -> Result<Summary, Error> {
    let consumer = source::consumer(cfg)?;
    let parts = Partitions::fetch(&consumer, &cfg.topics)?;
    let store = Store::open(cfg)?;
    let globals = GlobalLog::open(cfg, &plan, parts.tasks())?;
    let mut sink = KafkaSink::new(cfg, metrics.clone())?;
    sink.name_rules(&plan);
    let mut live = Live::new(plan, world, opts, parts, metrics, sink, store)?;
    live.globals = globals;
    let live = Arc::new(Shared(Mutex::new(live)));
    consumer.context().set_handler(live.clone());
    let topics: Vec<&str> = cfg.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let mut next_checkpoint = Instant::now() + cfg.checkpoint_interval;
    while !stop.is_stopped() {
        let mut timeout = cfg.tick;
        for _ in 0..POLL_BATCH {
            // No lock across the poll: a rebalance handled inside it takes the lock.
            match consumer.poll(timeout) {
                None => break,
                Some(Err(e)) => {
                    crate::info!("kafka", "kafka: {e}");
                    break;
                }
                Some(Ok(msg)) => {
                    let offset = msg.offset().max(0) as u64;
                    live.lock()
                        .record(msg.topic(), msg.partition(), offset, msg.payload())?;
                    timeout = Duration::ZERO;
                }
            }
        }
        let mut l = live.lock();
        if let Some(e) = l.failure.take() {
            return Err(e);
        }
        if let Some(reload) = reloads.take() {
            l.swap(reload)?;
        }
        l.tick(Instant::now())?;
        if Instant::now() >= next_checkpoint {
            let owned: Vec<i32> = l.tasks.keys().copied().collect();
            l.checkpoint(&consumer, &owned, false)?;
            next_checkpoint = Instant::now() + cfg.checkpoint_interval;
        }
    }
    let summary = {
        let mut l = live.lock();
        let owned: Vec<i32> = l.tasks.keys().copied().collect();
        l.checkpoint(&consumer, &owned, true)?;
        l.summary()
    };
    consumer.unsubscribe();
    Ok(summary)
}

/// The live state, shared with the consumer's rebalance handling.
struct Shared(Mutex<Live>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Live> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Rebalancer for Shared {
    fn assigned(&self, _consumer: &GroupConsumer, parts: &[(String, i32)]) -> Vec<Option<u64>> {
        let mut live = self.lock();
        match live.assign(parts) {
            Ok(starts) => starts,
            Err(e) => {
                live.failure.get_or_insert(e);
                vec![None; parts.len()]
            }
        }
    }

    fn revoked(&self, consumer: &GroupConsumer, parts: &[(String, i32)]) {
        let mut live = self.lock();
        let mut tasks: Vec<i32> = parts.iter().map(|(_, p)| *p).collect();
        tasks.sort_unstable();
        tasks.dedup();
        tasks.retain(|t| live.tasks.contains_key(t));
        if let Err(e) = live.checkpoint(consumer, &tasks, true) {
            live.failure.get_or_insert(e);
        }
    }
}

/// Per input partition: ownership, progress and quiet time.
#[derive(Debug, Clone)]
struct Part {
    assigned: bool,
    /// The offset after the last record read (records before it are replays).
    next_offset: Option<u64>,
    /// Whether it has delivered an event since it was assigned.
    seen: bool,
    /// When it last delivered an event (or was assigned).
    quiet_since: Instant,
    /// The idle advance given to its watermark since then, in ms.
    idle_applied: i64,
}

struct Live {
    plan: Arc<Plan>,
    world: Arc<dyn World + Send + Sync>,
    opts: RunOptions,
    reorder: Reorder,
    global: Global,
    tasks: BTreeMap<i32, Slot>,
    /// The engine threads the tasks run on.
    crew: Crew,
    merger: Merger,
    decoder: Decoder,
    parts: Partitions,
    state: Vec<Part>,
    idle: Duration,
    /// The watermark the engines have been advanced to.
    clock: i64,
    summary: Summary,
    /// Counters of the engines of tasks let go.
    retired: Stats,
    metrics: Arc<Metrics>,
    sink: KafkaSink,
    store: Store,
    /// Where profile updates go (`sink redis`), drained each tick.
    profile_sink: Option<Arc<dyn ProfileSink>>,
    /// An error met inside a rebalance, returned by the loop.
    failure: Option<Error>,
    /// Per profile of the running program, its fingerprint (checkpoints carry them).
    profile_prints: Vec<u64>,
    /// When the runs in flight were last counted (for the gauge).
    runs_counted: Instant,
    /// The broadcast of global operators across the group (programs with trending or
    /// covisit).
    globals: Option<GlobalLog>,
}

impl Live {
    fn new(
        plan: Arc<Plan>,
        world: Arc<dyn World + Send + Sync>,
        opts: &RunOptions,
        parts: Partitions,
        metrics: Arc<Metrics>,
        sink: KafkaSink,
        store: Store,
    ) -> Result<Live, Error> {
        let mut reorder = Reorder::new(parts.len(), plan.input.lateness_ms);
        for input in 0..parts.len() {
            reorder.set_active(input as u32, false);
        }
        let now = Instant::now();
        Ok(Live {
            global: Global::new(plan.clone()),
            reorder,
            tasks: BTreeMap::new(),
            crew: Crew::new(opts.shards)?,
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
            retired: Stats::default(),
            metrics,
            sink,
            store,
            profile_sink: opts.profile_sink.clone(),
            failure: None,
            runs_counted: now,
            profile_prints: profile_prints(&plan),
            globals: None,
            plan,
            world,
            opts: opts.clone(),
        })
    }

    fn new_engine(&self) -> Engine {
        let mut engine = Engine::new(
            self.plan.clone(),
            self.world.clone(),
            self.opts.engine,
            ShardId::SOLE,
        );
        engine.read_globals(self.global.published().clone());
        if self.profile_sink.is_some() {
            engine.collect_profile_updates();
        }
        engine
    }

    /// Partitions given to this process: each new task starts from its newest
    /// checkpoint (state, waiting events, clocks, unwritten profiles) or empty. Returns
    /// per partition the offset to read from.
    fn assign(&mut self, list: &[(String, i32)]) -> Result<Vec<Option<u64>>, Error> {
        let now = Instant::now();
        let mut fresh: Vec<i32> = list
            .iter()
            .map(|(_, p)| *p)
            .filter(|p| !self.tasks.contains_key(p))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        let mut found = self.store.load(&fresh)?;
        for &p in &fresh {
            let mut engine = self.new_engine();
            let mut seq = 0;
            if let Some(cp) = found.remove(&p) {
                seq = cp.seq;
                let restored = engine.restore(cp.engine);
                self.metrics
                    .keys_restored
                    .fetch_add(restored.keys as u64, Ordering::Relaxed);
                crate::info!(
                    "checkpoint",
                    "task {p}: restored checkpoint {} ({} keys, taken {} ms ago){}",
                    cp.seq,
                    restored.keys,
                    now_ms().saturating_sub(cp.taken_ms),
                    if restored.dropped.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; changed since, starting fresh: {}",
                            restored.dropped.join(", ")
                        )
                    }
                );
                for (topic, offset) in cp.offsets {
                    if let Some(input) = self.parts.input(&topic, p) {
                        self.state[input as usize].next_offset = Some(offset);
                    }
                }
                for (topic, max_ts) in cp.clocks {
                    if let Some(input) = self.parts.input(&topic, p) {
                        self.reorder.restore_max_ts(input, max_ts);
                    }
                }
                for mut event in cp.buffered {
                    if let Some(input) = self.parts.input(&event.source, p) {
                        event.input = input;
                        self.reorder.restore_event(Arc::new(event));
                    }
                }
                if let Some(sink) = &self.profile_sink {
                    // Only writes of profiles this program has unchanged (same place).
                    let mut writes = cp.profiles;
                    writes.retain(|u| {
                        let i = u.profile.index();
                        i < self.profile_prints.len()
                            && cp.profile_fingerprints.get(i) == Some(&self.profile_prints[i])
                    });
                    sink.offer(writes);
                }
            }
            let slot = self.crew.place(&self.tasks, Task { engine, seq });
            self.tasks.insert(p, slot);
        }
        let mut starts = Vec::with_capacity(list.len());
        for (topic, p) in list {
            let Some(input) = self.parts.input(topic, *p) else {
                starts.push(None);
                continue;
            };
            let part = &mut self.state[input as usize];
            part.assigned = true;
            part.seen = false;
            part.quiet_since = now;
            part.idle_applied = 0;
            self.reorder.set_active(input, true);
            starts.push(part.next_offset);
        }
        self.update_metrics();
        Ok(starts)
    }

    /// One record of an input topic.
    fn record(
        &mut self,
        topic: &str,
        partition: i32,
        offset: u64,
        payload: Option<&[u8]>,
    ) -> Result<(), Error> {
        let Some(input) = self.parts.input(topic, partition) else {
            // A partition added after the start: its input number is unknown here.
            return Ok(());
        };
        let part = &mut self.state[input as usize];
        if !part.assigned || part.next_offset.is_some_and(|next| offset < next) {
            return Ok(()); // Not ours any more, or already reflected in the state.
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
                crate::runner::Sink::dead_letter(&mut self.sink, &dead)?;
            }
            Decoded::Event(event) => match self.offer(event) {
                Ok(()) => {
                    self.summary.accepted += 1;
                    self.metrics.events_in.fetch_add(1, Ordering::Relaxed);
                    let part = &mut self.state[input as usize];
                    part.seen = true;
                    part.quiet_since = Instant::now();
                    part.idle_applied = 0;
                    self.reorder.set_active(input, true);
                }
                Err(_late) => {
                    let dead = DeadLetter::new(DeadReason::Late, &source, offset, payload);
                    self.summary.count_dead(DeadReason::Late);
                    crate::runner::Sink::dead_letter(&mut self.sink, &dead)?;
                }
            },
        }
        Ok(())
    }

    /// Offers an accepted-looking event to the reorder stage, publishing it first to
    /// the global operators' broadcast unless it is late.
    fn offer(&mut self, event: crate::event::Event) -> Result<(), Arc<crate::event::Event>> {
        if let Some(g) = &self.globals {
            if !self.reorder.is_late(event.input, event.ts) {
                if let Err(e) = g.publish(&event) {
                    self.failure.get_or_insert(e);
                }
            }
        }
        self.reorder.offer(Arc::new(event))
    }

    /// Moves the clock: idle partitions' watermarks advance by the wall-clock time past
    /// their `idle`, an assigned partition that has delivered nothing for `idle` stops
    /// holding the watermark back; released events go to the global stage and their
    /// task's engine; records below the watermark go out.
    fn tick(&mut self, now: Instant) -> Result<(), Error> {
        for (i, part) in self.state.iter_mut().enumerate() {
            if !part.assigned {
                continue;
            }
            let quiet = now.saturating_duration_since(part.quiet_since);
            if quiet < self.idle {
                continue;
            }
            if part.seen || self.reorder.max_ts(i as u32).is_some() {
                let total = (quiet - self.idle).as_millis().min(i64::MAX as u128) as i64;
                self.reorder
                    .idle_advance(i as u32, total - part.idle_applied);
                part.idle_applied = total;
            } else {
                self.reorder.set_active(i as u32, false);
            }
        }
        let active = self.reorder.any_active();
        let mut wm = if active {
            self.reorder.watermark()
        } else {
            MIN_WATERMARK
        };
        if let Some(g) = &mut self.globals {
            // Every owned task has published its events below `wm`; the global stage
            // takes the group's events below the group's watermark, and the engines
            // go no further than it. A process whose partitions are all idle follows
            // the others' marks instead, so that it holds nobody back.
            let owned: Vec<i32> = self.tasks.keys().copied().collect();
            let mark = if active {
                Some(wm)
            } else {
                g.others_watermark(&owned)
            };
            if let Some(m) = mark.filter(|m| *m > MIN_WATERMARK && *m < MAX_WATERMARK) {
                g.mark(owned.into_iter(), m)?;
            }
            g.poll()?;
            while let Some(event) = g.pop_ready() {
                self.global.push(&event);
            }
            wm = wm.min(g.watermark());
        }
        if active && wm > MIN_WATERMARK {
            // The global stage goes first (engines read its snapshots by time), then
            // the tasks' engines, in parallel with `--shards` threads.
            while let Some(event) = self.reorder.pop_ready(wm) {
                if self.globals.is_none() {
                    self.global.push(&event);
                }
                let task = self.parts.of(event.input).1;
                if let Some(task) = self.tasks.get_mut(&task) {
                    task.pending.push(event);
                }
            }
            let advance = (wm > self.clock && wm != MAX_WATERMARK).then_some(wm);
            if let Some(wm) = advance {
                self.clock = wm;
                self.global.advance_to(wm);
            }
            // Counting runs walks every key: four times a second is enough for a gauge.
            let count_runs = self.runs_counted.elapsed() >= Duration::from_millis(250);
            if count_runs {
                self.runs_counted = Instant::now();
            }
            self.crew
                .dispatch(&mut self.tasks, advance, self.clock, count_runs);
        }
        let done = self.crew.collect();
        self.take_done(done)?;
        // Snapshots of the global operators are kept until every engine is past them.
        let safe = self.crew.safe(self.clock);
        self.global.published().prune(safe);
        self.merger
            .flush_below(safe, &mut self.sink, &mut self.summary)?;
        self.update_metrics();
        Ok(())
    }

    /// Takes what the engines finished (records, profile updates, gauges), and the
    /// global stage's records.
    fn take_done(&mut self, done: Done) -> Result<(), Error> {
        if let Some(failed) = done.failed {
            return Err(Error::Engine(failed));
        }
        let global = self.global.take_outputs();
        // With the broadcast, every process computes the same trending windows: the
        // owner of task 0 writes their records.
        if self.globals.is_none() || self.tasks.contains_key(&0) {
            self.merger.add(global);
        }
        self.merger.add(done.outputs);
        if let Some(sink) = &self.profile_sink {
            sink.offer(done.profiles);
        }
        for (p, keys, runs) in done.gauges {
            if let Some(slot) = self.tasks.get_mut(&p) {
                slot.keys = keys;
                if let Some(runs) = runs {
                    slot.runs = runs;
                }
            }
        }
        Ok(())
    }

    /// Waits for every engine to finish what it was sent, and takes it.
    fn settle(&mut self) -> Result<(), Error> {
        let done = self.crew.settle();
        self.take_done(done)
    }

    /// Checkpoints `tasks`: every finished record goes out and is acknowledged (so the
    /// state never claims a record the brokers do not have), then each task's state,
    /// waiting events, clocks and unwritten profiles are saved with the offsets they
    /// reflect, and those offsets are committed. With `release` the tasks are let go
    /// (a revoke, or the stop): their engines are dropped.
    fn checkpoint(
        &mut self,
        consumer: &GroupConsumer,
        tasks: &[i32],
        release: bool,
    ) -> Result<(), Error> {
        if tasks.is_empty() {
            return Ok(());
        }
        self.settle()?;
        self.merger
            .flush_below(MAX_WATERMARK, &mut self.sink, &mut self.summary)?;
        if !self.sink.transactional() {
            self.sink.flush()?;
        }
        let mut cps = Vec::new();
        let mut commit = TopicPartitionList::new();
        let mut waiting = self.reorder.buffered_by_input();
        for &p in tasks {
            let Some(slot) = self.tasks.get(&p) else {
                continue;
            };
            let mut cp = {
                let task = slot.lock();
                Checkpoint::new(p, task.seq + 1, task.engine.snapshot())
            };
            for input in self.parts.inputs_of(p) {
                let part = &self.state[input as usize];
                let Some(next) = part.next_offset.filter(|_| part.assigned) else {
                    continue;
                };
                let topic = self.parts.of(input).0.to_string();
                commit.add_partition_offset(&topic, p, Offset::Offset(next as i64))?;
                cp.clocks.push((topic.clone(), self.reorder.max_ts(input)));
                cp.offsets.push((topic, next));
                cp.buffered.extend(
                    std::mem::take(&mut waiting[input as usize])
                        .into_iter()
                        .map(|e| (*e).clone()),
                );
            }
            if let Some(sink) = &self.profile_sink {
                cp.profiles = sink.unwritten(p, release);
                cp.profile_fingerprints = self.profile_prints.clone();
            }
            cps.push(cp);
        }
        let encoded = Store::encode(&cps)?;
        self.store.send(&encoded, &self.sink)?;
        if self.sink.transactional() {
            // Records, checkpoints and offsets become visible together, or not at all.
            let group = consumer
                .group_metadata()
                .ok_or_else(|| Error::Checkpoint("the consumer has no group metadata".into()))?;
            self.sink.commit_transaction(&commit, &group)?;
            self.store.write_files(&encoded)?;
        } else {
            self.sink.flush()?;
            self.store.write_files(&encoded)?;
            if commit.count() > 0 {
                // A commit can fail once the partitions are gone; the checkpoint has
                // them.
                if let Err(e) = consumer.commit(&commit, CommitMode::Sync) {
                    crate::info!("kafka", "kafka: commit after checkpoint: {e}");
                }
            }
        }
        for cp in &cps {
            if let Some(slot) = self.tasks.get(&cp.task) {
                slot.lock().seq = cp.seq;
            }
        }
        self.metrics
            .checkpoint_ms
            .store(now_ms(), Ordering::Relaxed);
        self.metrics
            .checkpoints
            .fetch_add(cps.len() as u64, Ordering::Relaxed);
        if release {
            for &p in tasks {
                if let Some(slot) = self.tasks.remove(&p) {
                    self.retired.add(slot.lock().engine.stats());
                }
                if let Some(g) = &mut self.globals {
                    g.release(p);
                }
                let inputs = self.parts.inputs_of(p);
                self.reorder.remove_inputs(&inputs);
                for input in inputs {
                    let part = &mut self.state[input as usize];
                    part.assigned = false;
                    part.next_offset = None;
                    self.reorder.set_active(input, false);
                }
            }
            self.update_metrics();
        }
        Ok(())
    }

    /// Swaps a new program in (live reload): every finished record of the old program
    /// goes out, then each task's engine is rebuilt from a snapshot of the old one, so
    /// rules whose compiled form is unchanged keep their runs and timers, changed ones
    /// start fresh and removed ones lose theirs. The global operators keep their state
    /// when they and the event declarations are unchanged. Events waiting for the
    /// watermark are kept, decoded again under the new declarations if those changed.
    fn swap(&mut self, reload: Reload) -> Result<(), Error> {
        let Reload {
            plan,
            world,
            models,
        } = reload;
        self.settle()?;
        self.merger
            .flush_below(MAX_WATERMARK, &mut self.sink, &mut self.summary)?;
        let old = std::mem::replace(&mut self.plan, plan.clone());
        self.world = world;
        self.opts.models = models;
        self.profile_prints = profile_prints(&plan);
        let changes = ProgramDiff::between(&old, &plan);
        let same_schema = !changes.schema_changed;
        let same_globals = same_schema
            && [&changes.sessions, &changes.covisits, &changes.trendings]
                .iter()
                .all(|c| c.is_empty());
        if !same_globals {
            let retired = self.global.take_outputs();
            self.merger.add(retired);
            self.global = Global::new(plan.clone());
            if let Some(g) = &mut self.globals {
                g.reread(&plan);
            }
        }
        self.merger = Merger::new(&plan, &self.opts);
        self.sink.name_rules(&plan);
        self.decoder = Decoder::new(plan.clone());
        if !same_schema {
            self.reorder.set_lateness(plan.input.lateness_ms);
            self.idle = Duration::from_millis(plan.input.idle_ms);
            for event in self.reorder.take_all() {
                let line = reencode(&event, &old, &plan);
                if let Decoded::Event(e) = self.decoder.decode_json_line(
                    line.as_bytes(),
                    &event.source,
                    event.input,
                    event.offset,
                ) {
                    self.reorder.restore_event(Arc::new(e));
                }
            }
        }
        let mut kept = 0;
        let tasks: Vec<i32> = self.tasks.keys().copied().collect();
        for p in tasks {
            let mut engine = self.new_engine();
            let mut task = self.tasks[&p].lock();
            let restored = engine.restore(task.engine.snapshot());
            kept += restored.keys;
            self.retired.add(task.engine.stats());
            task.engine = engine;
        }
        crate::info!(
            "reload",
            "reload: swapped in; {kept} keys kept their state{}",
            if same_globals {
                ""
            } else {
                "; trending and covisit start fresh"
            }
        );
        self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
        self.update_metrics();
        Ok(())
    }

    fn summary(&mut self) -> Summary {
        let mut engine = self.retired.clone();
        for slot in self.tasks.values() {
            engine.add(slot.lock().engine.stats());
        }
        self.summary.engine = engine;
        self.summary.models = self.merger.model_stats();
        self.summary.clone()
    }

    fn update_metrics(&mut self) {
        self.sink.report_rules();
        let m = &self.metrics;
        // As the engines last reported them (runs are counted four times a second).
        let (keys, runs) = self
            .tasks
            .values()
            .fold((0, 0), |(k, r), s| (k + s.keys, r + s.runs));
        m.runs_alive.store(runs as u64, Ordering::Relaxed);
        m.keys_alive.store(keys as u64, Ordering::Relaxed);
        m.events_buffered
            .store(self.reorder.buffered() as u64, Ordering::Relaxed);
        let owned = self.state.iter().filter(|p| p.assigned).count();
        m.partitions_assigned.store(owned as u64, Ordering::Relaxed);
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

/// An event as a JSON line of `new`'s input format (type and time fields of `new`, the
/// time as RFC 3339 with milliseconds), for decoding again after a reload.
fn reencode(event: &crate::event::Event, old: &Plan, new: &Plan) -> String {
    let schema = &old.events[event.ty.index()];
    let mut out = String::from("{");
    crate::value::write_json_str(&mut out, &new.input.type_field);
    out.push_str(": ");
    crate::value::write_json_str(&mut out, &schema.name);
    out.push_str(", ");
    crate::value::write_json_str(&mut out, &new.input.time_field);
    out.push_str(": ");
    crate::value::write_json_str(&mut out, &crate::time::format_rfc3339(event.ts));
    for (field, value) in schema.fields.iter().zip(event.values.iter()) {
        if field.name == new.input.type_field || field.name == new.input.time_field {
            continue;
        }
        out.push_str(", ");
        crate::value::write_json_str(&mut out, &field.name);
        out.push_str(": ");
        value.write_json(&mut out, old);
    }
    out.push('}');
    out
}

/// The fingerprint of every profile of `plan`, in order.
fn profile_prints(plan: &Plan) -> Vec<u64> {
    (0..plan.profiles.len())
        .map(|i| nudge_compiler::diff::profile_fingerprint(plan, i))
        .collect()
}
