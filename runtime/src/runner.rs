//! The bounded runner: files (or stdin) in, records and dead letters out.
//!
//! `read → decode → reorder (watermark, late) → global operators → shard by key → engines
//! → ordered output`. Every released event goes first to the global stage (trending,
//! covisit; [`crate::operators::Global`]), which publishes snapshots the engines read by
//! time. With one shard the engine runs inline; with more, each shard is an engine on its
//! own thread, fed by key hash, and outputs (with trending `emit` records) are merged back
//! into file order (§9.1) as the watermark passes them.

use crate::decode::{CsvDecoder, DeadLetter, DeadReason, Decoded, Decoder};
use crate::engine::{shard_of, Engine, EngineConfig, Output, ProfileUpdate, ShardId, Stats};
use crate::eval::World;
use crate::event::Event;
use crate::models::{Calls, ModelCaller, ModelStats, StandIn};
use crate::operators::{Global, Published};
use crate::reorder::{Reorder, MAX_WATERMARK};
use nudge_compiler::plan::{FieldId, Plan};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufRead};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// One input: a name (its `source`), a reader, and its format.
pub struct Input {
    /// The file's stem, or `stdin`.
    pub source: Arc<str>,
    pub reader: Box<dyn BufRead + Send>,
    /// CSV with a header row (else JSON lines).
    pub csv: bool,
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--until`: stop event time here.
    pub until: Option<i64>,
    /// Number of engine shards (0 or 1: inline).
    pub shards: usize,
    pub engine: EngineConfig,
    /// Read, decode and order the events but run no engine (for the benchmark's
    /// decode-only figure).
    pub decode_only: bool,
    /// Records read from each input per turn (0: 64). Outputs never depend on it.
    pub read_batch: usize,
    /// Record the story of these patterns for this key (`nudge explain`; one shard).
    pub trace: Option<(Vec<usize>, crate::value::Value)>,
    /// Makes the model calls of emitted records ([`crate::models::HttpCaller`] for real
    /// calls, [`crate::models::StandIn`] in tests). `None`: no network; every call gets
    /// its model's fallback (counted as an error).
    pub models: Option<Arc<dyn ModelCaller>>,
    /// Where profile updates go (`sink redis`: [`crate::redis_sink::RedisSink`]). `None`:
    /// profiles live in memory only and the engines collect no updates.
    pub profile_sink: Option<Arc<dyn ProfileSink>>,
}

/// Takes the profile updates of profiles with a `sink`, from any engine thread. It must
/// not block for long: the runner calls it between batches.
pub trait ProfileSink: Send + Sync + std::fmt::Debug {
    /// Updates in processing order per key (a later one of a key supersedes an earlier).
    fn offer(&self, updates: Vec<ProfileUpdate>);
    /// The updates from `partition` (see [`ProfileUpdate::partition`]) not written
    /// yet, for a checkpoint to carry (Kafka mode). With `release`, the waiting ones
    /// are also dropped here: the partition's next owner writes them.
    fn unwritten(&self, _partition: i32, _release: bool) -> Vec<ProfileUpdate> {
        Vec::new()
    }
}

/// Where records and dead letters go.
pub trait Sink {
    /// One record, in file order.
    fn record(&mut self, out: &Output) -> io::Result<()>;
    /// One dead letter, in arrival order.
    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()>;
    /// Progress, called every few thousand records read.
    fn progress(&mut self, _summary: &Summary) {}
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Non-blank records read.
    pub read: u64,
    pub accepted: u64,
    /// Records of undeclared types.
    pub ignored: u64,
    /// Dead letters per reason (in [`DeadReason::ALL`] order).
    pub dead: Vec<(DeadReason, u64)>,
    /// Events at or after `--until`.
    pub after_until: u64,
    pub records: u64,
    pub engine: Stats,
    /// The recorded story, when [`RunOptions::trace`] asked for one.
    pub trace: Option<crate::engine::Trace>,
    /// Model calls per model, in program order.
    pub models: Vec<ModelStats>,
}

impl Summary {
    pub(crate) fn count_dead(&mut self, reason: DeadReason) {
        match self.dead.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.dead.push((reason, 1)),
        }
    }

    /// All dead letters.
    pub fn dead_total(&self) -> u64 {
        self.dead.iter().map(|(_, n)| n).sum()
    }
}

/// Runs `plan` over bounded inputs to the end (or to `--until`).
pub fn run(
    plan: Arc<Plan>,
    world: Arc<dyn World + Send + Sync>,
    inputs: Vec<Input>,
    opts: &RunOptions,
    sink: &mut dyn Sink,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut global = Global::new(plan.clone());
    let mut shards = Shards::new(&plan, &world, opts, global.published());
    let mut reorder = Reorder::new(inputs.len(), plan.input.lateness_ms);
    let mut readers: Vec<Reader> = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| Reader::new(plan.clone(), i as u32, input))
        .collect();
    let mut merger = Merger::new(&plan, opts);
    let mut active = readers.len();
    let mut line = Vec::with_capacity(256);
    let read_batch = if opts.read_batch == 0 {
        64
    } else {
        opts.read_batch
    };
    while active > 0 {
        for reader in readers.iter_mut() {
            if reader.done {
                continue;
            }
            // A few records per input per turn keeps inputs moving together.
            for _ in 0..read_batch {
                match reader.next(&mut line)? {
                    None => {
                        reader.done = true;
                        active -= 1;
                        reorder.end_input(reader.input);
                        break;
                    }
                    Some(Decoded::Blank) => {}
                    Some(Decoded::Ignored) => {
                        summary.read += 1;
                        summary.ignored += 1;
                    }
                    Some(Decoded::Dead(dead)) => {
                        summary.read += 1;
                        summary.count_dead(dead.reason);
                        sink.dead_letter(&dead)?;
                    }
                    Some(Decoded::Event(event)) => {
                        summary.read += 1;
                        if opts.until.is_some_and(|u| event.ts >= u) {
                            summary.after_until += 1;
                            continue;
                        }
                        let raw_offset = event.offset;
                        match reorder.offer(Arc::new(event)) {
                            Ok(()) => summary.accepted += 1,
                            Err(late) => {
                                let dead = DeadLetter {
                                    reason: DeadReason::Late,
                                    source: late.source.clone(),
                                    offset: raw_offset,
                                    raw: String::from_utf8_lossy(trim_eol(&line)).into_owned(),
                                };
                                summary.count_dead(DeadReason::Late);
                                sink.dead_letter(&dead)?;
                            }
                        }
                    }
                }
            }
        }
        let wm = reorder.watermark();
        let wm = opts.until.map_or(wm, |u| wm.min(u));
        while let Some(event) = reorder.pop_ready(wm) {
            if !opts.decode_only {
                global.push(&event);
                shards.push(event);
            }
        }
        shards.offer_profile_updates(opts.profile_sink.as_deref());
        if wm > i64::MIN && active > 0 {
            // The global stage reaches the watermark before any engine does.
            global.advance_to(wm);
            merger.add(global.take_outputs());
            let done = shards.advance_to(wm, &mut merger);
            global.published().prune(done);
            merger.flush_below(done, sink, &mut summary)?;
        }
        if summary.read % 65_536 < 64 {
            sink.progress(&summary);
        }
    }
    let end = opts.until.unwrap_or(MAX_WATERMARK);
    while let Some(event) = reorder.pop_ready(MAX_WATERMARK) {
        if !opts.decode_only {
            global.push(&event);
            shards.push(event);
        }
    }
    global.advance_to(end);
    merger.add(global.take_outputs());
    shards.offer_profile_updates(opts.profile_sink.as_deref());
    (summary.engine, summary.trace) = shards.finish(end, &mut merger);
    merger.flush_below(MAX_WATERMARK, sink, &mut summary)?;
    summary.models = merger.model_stats();
    sink.progress(&summary);
    Ok(summary)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\n' || line[end - 1] == b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// Reads and decodes one input, line by line.
struct Reader {
    input: u32,
    source: Arc<str>,
    reader: Box<dyn BufRead + Send>,
    json: Decoder,
    csv: Option<CsvDecoder>,
    is_csv: bool,
    /// 0-based physical line of the next line.
    line_no: u64,
    done: bool,
}

impl Reader {
    fn new(plan: Arc<Plan>, input: u32, spec: Input) -> Reader {
        Reader {
            input,
            source: spec.source,
            reader: spec.reader,
            json: Decoder::new(plan),
            csv: None,
            is_csv: spec.csv,
            line_no: 0,
            done: false,
        }
    }

    /// The next decoded record; `None` at the end of the input.
    fn next(&mut self, line: &mut Vec<u8>) -> io::Result<Option<Decoded>> {
        loop {
            line.clear();
            if self.reader.read_until(b'\n', line)? == 0 {
                // A CSV record left open by an unclosed quote is decoded as it stands.
                let rest = self
                    .csv
                    .as_mut()
                    .and_then(|csv| csv.finish(&self.source, self.input));
                return Ok(rest);
            }
            let offset = self.line_no;
            self.line_no += 1;
            let text = trim_eol(line);
            if !self.is_csv {
                return Ok(Some(self.json.decode_json_line(
                    text,
                    &self.source,
                    self.input,
                    offset,
                )));
            }
            match &mut self.csv {
                None => {
                    self.csv = Some(CsvDecoder::new(self.json.plan().clone(), text));
                    return Ok(Some(Decoded::Blank));
                }
                // A quoted cell may span lines: the record is decoded at its last line.
                Some(csv) => {
                    if let Some(d) = csv.decode_csv_line(text, &self.source, self.input, offset) {
                        return Ok(Some(d));
                    }
                }
            }
        }
    }
}

/// Outputs waiting for the watermark to pass them, and for their model calls, flushed in
/// file order: a record whose calls are unanswered holds back every record after it.
pub(crate) struct Merger {
    pending: BinaryHeap<Reverse<Waiting>>,
    /// The model calls of pending records (`None`: the program has no model).
    calls: Option<Calls>,
}

/// A record in the merger, with the ticket of its model calls.
struct Waiting {
    out: Output,
    ticket: Option<u64>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.out == other.out
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.out.cmp(&other.out)
    }
}

/// Model calls in flight before the runner stops to wait for replies.
const MAX_CALLS_IN_FLIGHT: usize = 4096;
/// How long one wait for a model reply lasts before the runner looks again.
const REPLY_WAIT: Duration = Duration::from_millis(50);

impl Merger {
    pub(crate) fn new(plan: &Arc<Plan>, opts: &RunOptions) -> Merger {
        let calls = (!plan.models.is_empty()).then(|| {
            let caller = opts
                .models
                .clone()
                .unwrap_or_else(|| Arc::new(StandIn::default()));
            Calls::new(plan.clone(), caller)
        });
        Merger {
            pending: BinaryHeap::new(),
            calls,
        }
    }

    /// Takes records in and starts their model calls.
    pub(crate) fn add(&mut self, outs: Vec<Output>) {
        for out in outs {
            let ticket = match &mut self.calls {
                Some(calls) if out.is_pending() => Some(calls.start(&out)),
                _ => None,
            };
            self.pending.push(Reverse(Waiting { out, ticket }));
        }
    }

    /// Writes every pending record with `ts < watermark` (all of them at +infinity) whose
    /// model calls are answered, stopping at the first that is not. At +infinity it waits
    /// for the replies.
    pub(crate) fn flush_below(
        &mut self,
        watermark: i64,
        sink: &mut dyn Sink,
        summary: &mut Summary,
    ) -> io::Result<()> {
        let end = watermark == MAX_WATERMARK;
        if let Some(calls) = &mut self.calls {
            calls.collect(None);
            while calls.in_flight() > MAX_CALLS_IN_FLIGHT {
                calls.collect(Some(REPLY_WAIT));
            }
        }
        while let Some(Reverse(top)) = self.pending.peek() {
            if top.out.ts >= watermark && !end {
                break;
            }
            if let (Some(ticket), Some(calls)) = (top.ticket, &mut self.calls) {
                if !calls.is_done(ticket) {
                    if !end {
                        break;
                    }
                    calls.collect(Some(REPLY_WAIT));
                    continue;
                }
            }
            let Reverse(mut w) = self.pending.pop().expect("peeked");
            if let (Some(ticket), Some(calls)) = (w.ticket, &mut self.calls) {
                calls.finish(ticket, &mut w.out);
            }
            summary.records += 1;
            sink.record(&w.out)?;
        }
        Ok(())
    }

    /// The model counters (empty without models).
    pub(crate) fn model_stats(&self) -> Vec<ModelStats> {
        self.calls.as_ref().map_or_else(Vec::new, Calls::stats)
    }
}

/// Messages to a shard thread.
enum ToShard {
    Events(Vec<Arc<Event>>),
    Advance(i64),
    /// Fire timers up to this time, report the counters and stop.
    Finish(i64),
}

/// The engines: one inline, or one per thread.
enum Shards {
    Inline(Box<Engine>),
    Threads {
        key_fields: Vec<FieldId>,
        plan: Arc<Plan>,
        senders: Vec<mpsc::SyncSender<ToShard>>,
        batches: Vec<Vec<Arc<Event>>>,
        replies: mpsc::Receiver<Reply>,
        handles: Vec<thread::JoinHandle<()>>,
        /// The last time the shards were asked to advance to.
        asked: i64,
        /// Per shard, the time it has reported reaching.
        acked: Vec<i64>,
        /// Events routed since the last advance request.
        since_ask: usize,
    },
}

/// A shard's answer: its index, outputs, final counters (on finish), time reached.
type Reply = (usize, Vec<Output>, Option<Stats>, i64);

const BATCH: usize = 1024;

impl Shards {
    fn new(
        plan: &Arc<Plan>,
        world: &Arc<dyn World + Send + Sync>,
        opts: &RunOptions,
        published: &Arc<Published>,
    ) -> Shards {
        let n = opts.shards.max(1);
        if n == 1 || opts.trace.is_some() {
            let mut engine = Engine::new(plan.clone(), world.clone(), opts.engine, ShardId::SOLE);
            engine.read_globals(published.clone());
            if opts.profile_sink.is_some() {
                engine.collect_profile_updates();
            }
            if let Some((patterns, key)) = &opts.trace {
                engine.trace(patterns.clone(), key.clone());
            }
            return Shards::Inline(Box::new(engine));
        }
        let key_fields = crate::engine::key_fields(plan);
        let (reply_tx, replies) = mpsc::channel();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for index in 0..n {
            let (tx, rx) = mpsc::sync_channel::<ToShard>(64);
            let mut engine = Engine::new(
                plan.clone(),
                world.clone(),
                opts.engine,
                ShardId {
                    index: index as u32,
                    count: n as u32,
                },
            );
            engine.read_globals(published.clone());
            let profile_sink = opts.profile_sink.clone();
            if profile_sink.is_some() {
                engine.collect_profile_updates();
            }
            let reply_tx = reply_tx.clone();
            handles.push(thread::spawn(move || {
                for msg in rx {
                    match msg {
                        ToShard::Events(events) => {
                            for e in events {
                                engine.push(e);
                            }
                            // Updates come from events only, so the shard offers them
                            // after each batch, before any later batch's.
                            if let Some(sink) = &profile_sink {
                                sink.offer(engine.take_profile_updates());
                            }
                        }
                        ToShard::Advance(t) => {
                            engine.advance_to(t);
                            let _ = reply_tx.send((index, engine.take_outputs(), None, t));
                        }
                        ToShard::Finish(t) => {
                            engine.advance_to(t);
                            let stats = engine.stats().clone();
                            let _ = reply_tx.send((index, engine.take_outputs(), Some(stats), t));
                            return;
                        }
                    }
                }
            }));
            senders.push(tx);
        }
        Shards::Threads {
            key_fields,
            plan: plan.clone(),
            batches: vec![Vec::with_capacity(BATCH); n],
            senders,
            replies,
            handles,
            asked: i64::MIN,
            acked: vec![i64::MIN; n],
            since_ask: 0,
        }
    }

    fn push(&mut self, event: Arc<Event>) {
        match self {
            Shards::Inline(engine) => engine.push(event),
            Shards::Threads {
                key_fields,
                plan,
                senders,
                batches,
                since_ask,
                ..
            } => {
                *since_ask += 1;
                let n = senders.len() as u32;
                let mut sent = 0u64;
                for f in key_fields.iter() {
                    let key = event.field(plan, *f);
                    let s = if key.is_null() { 0 } else { shard_of(key, n) };
                    if sent & (1 << s) == 0 {
                        sent |= 1 << s;
                        batches[s as usize].push(event.clone());
                    }
                }
                if batches.iter().any(|b| b.len() >= BATCH) {
                    Shards::flush_batches(senders, batches);
                }
            }
        }
    }

    fn flush_batches(senders: &[mpsc::SyncSender<ToShard>], batches: &mut [Vec<Arc<Event>>]) {
        for (s, batch) in batches.iter_mut().enumerate() {
            if !batch.is_empty() {
                let _ = senders[s].send(ToShard::Events(std::mem::take(batch)));
            }
        }
    }

    /// Offers the inline engine's profile updates to the sink (shard threads offer
    /// their own after each batch).
    fn offer_profile_updates(&mut self, sink: Option<&dyn ProfileSink>) {
        if let (Shards::Inline(engine), Some(sink)) = (self, sink) {
            sink.offer(engine.take_profile_updates());
        }
    }

    /// Lets the engines fire timers up to `t`; returns the time up to which every
    /// engine has caught up (its outputs below it are all in the merger).
    fn advance_to(&mut self, t: i64, merger: &mut Merger) -> i64 {
        match self {
            Shards::Inline(engine) => {
                engine.advance_to(t);
                merger.add(engine.take_outputs());
                t
            }
            Shards::Threads {
                senders,
                batches,
                replies,
                asked,
                acked,
                since_ask,
                ..
            } => {
                // Ask again only every few thousand events, so that the shards are
                // not stopped for every few events.
                if t > *asked && *since_ask >= 8 * BATCH {
                    *asked = t;
                    *since_ask = 0;
                    Shards::flush_batches(senders, batches);
                    for s in senders.iter() {
                        let _ = s.send(ToShard::Advance(t));
                    }
                }
                while let Ok((s, outs, _, at)) = replies.try_recv() {
                    merger.add(outs);
                    acked[s] = acked[s].max(at);
                }
                acked.iter().copied().min().unwrap_or(i64::MIN)
            }
        }
    }

    fn finish(self, end: i64, merger: &mut Merger) -> (Stats, Option<crate::engine::Trace>) {
        match self {
            Shards::Inline(mut engine) => {
                engine.advance_to(end);
                merger.add(engine.take_outputs());
                (engine.stats().clone(), engine.take_trace())
            }
            Shards::Threads {
                senders,
                mut batches,
                replies,
                handles,
                ..
            } => {
                Shards::flush_batches(&senders, &mut batches);
                for s in senders.iter() {
                    let _ = s.send(ToShard::Finish(end));
                }
                let mut stats = Stats::default();
                let mut finished = 0;
                while finished < senders.len() {
                    let Ok((_, outs, last, _)) = replies.recv() else {
                        break;
                    };
                    merger.add(outs);
                    if let Some(s) = last {
                        stats.add(&s);
                        finished += 1;
                    }
                }
                for h in handles {
                    let _ = h.join();
                }
                (stats, None)
            }
        }
    }
}
