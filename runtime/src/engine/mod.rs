//! The synchronous, deterministic pattern engine of one shard.
//!
//! `push(event)` and `advance_to(watermark)` go in, [`Output`]s come out; no clocks, no
//! I/O. Events must be pushed in processing order (ts, then arrival); the engine fires
//! every timer due at or before an event's ts before it processes the event
//! (LANGUAGE.md §9). State is kept per key group (the patterns and keyed operators
//! sharing a key field), per key: per pattern the in-flight runs, the cooldown end and the
//! pending timer; per keyed operator (session, profile) its state, which an event updates
//! before the key's patterns see it. A key with no runs, no cooldown, no session and no
//! profile holds no memory. Expressions read the operators through an
//! [`operators::View`](crate::operators::View) at their evaluation time; operator timers
//! due at T fire before pattern timers due at T (§9.1).

mod emit;
mod matcher;
mod output;
mod run;
mod snapshot;
pub mod trace;
mod updates;

pub use output::{Output, PendingCall};
pub use run::{DeadlineKind, Reaction, Run};
pub use snapshot::{Restored, Snapshot};
pub use trace::{EventRef, Trace, TraceEvent};
pub use updates::ProfileUpdate;

use crate::eval::World;
use crate::event::Event;
use crate::operators::{Env, KeyedOp, KeyedSlot, KeyedState, Operator, Published};
use crate::value::Value;
use nudge_compiler::plan::{FieldId, Plan, StepId};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Limits of one engine; hitting one is counted in [`Stats`], never silent.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// In-flight runs per key per pattern; a further run is refused.
    pub max_runs_per_key: usize,
    /// Events per quantified step of a run; a further event is not taken.
    pub max_group_len: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_runs_per_key: 1024,
            max_group_len: 1024,
        }
    }
}

/// Counters of one engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub events: u64,
    pub matches: u64,
    pub emitted: u64,
    pub cooldown_dropped: u64,
    /// Events skipped by patterns because their key field was missing or null.
    pub key_missing: u64,
    pub runs_started: u64,
    pub runs_refused: u64,
    pub group_capped: u64,
    pub runs_expired: u64,
    pub runs_negated: u64,
    pub runs_broken: u64,
    pub runs_discarded: u64,
    /// Times an event reached an in-flight run (the matching work done).
    pub reactions: u64,
}

impl Stats {
    /// Adds another shard's counters.
    pub fn add(&mut self, o: &Stats) {
        self.events += o.events;
        self.matches += o.matches;
        self.emitted += o.emitted;
        self.cooldown_dropped += o.cooldown_dropped;
        self.key_missing += o.key_missing;
        self.runs_started += o.runs_started;
        self.runs_refused += o.runs_refused;
        self.group_capped += o.group_capped;
        self.runs_expired += o.runs_expired;
        self.runs_negated += o.runs_negated;
        self.runs_broken += o.runs_broken;
        self.runs_discarded += o.runs_discarded;
        self.reactions += o.reactions;
    }
}

/// The patterns and keyed operators that share a key field, and their per-key state.
struct KeyGroup {
    field: FieldId,
    /// Pattern indices, in program order.
    patterns: Vec<usize>,
    /// The keyed operators (sessions, profiles) on this field.
    ops: Vec<KeyedOp>,
    /// Per event type: the indices into `ops` of the operators it updates.
    op_types: Vec<Vec<u32>>,
    /// Per event type: whether it can start a run of some pattern of the group.
    starts: Vec<bool>,
    /// Per event type: whether some pattern of the group names it.
    relevant: Vec<bool>,
    keys: FxHashMap<Value, KeyState>,
}

impl KeyGroup {
    fn new(field: FieldId, ntypes: usize) -> KeyGroup {
        KeyGroup {
            field,
            patterns: Vec::new(),
            ops: Vec::new(),
            op_types: vec![Vec::new(); ntypes],
            starts: vec![false; ntypes],
            relevant: vec![false; ntypes],
            keys: FxHashMap::default(),
        }
    }
}

struct KeyState {
    /// Events of this key seen since the state was created (for `then next`).
    seq: u64,
    /// The states of the group's patterns that hold something, as (slot in the group's
    /// `patterns`, state), in slot order: most keys have one busy pattern at a time.
    pats: Vec<(u32, PatState)>,
    /// Parallel to the group's `ops`; `None` while an operator holds nothing for the key.
    ops: Vec<Option<KeyedSlot>>,
}

impl KeyState {
    fn new(nops: usize) -> KeyState {
        KeyState {
            seq: 0,
            pats: Vec::new(),
            ops: (0..nops).map(|_| None).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.pats.iter().all(|(_, st)| st.is_empty()) && self.ops.iter().all(Option::is_none)
    }
}

#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
struct PatState {
    runs: Vec<Run>,
    cooldown_until: Option<i64>,
    /// The time of this state's pending timer entry, if any.
    timer: Option<i64>,
}

impl PatState {
    fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.cooldown_until.is_none()
    }
}

/// A pending timer of one (key, pattern) or (key, keyed operator); stale when the
/// state's `timer` moved on.
struct Timer {
    due: i64,
    /// Operator timers fire before pattern timers due at the same time (§9.1).
    class: TimerClass,
    /// Creation order: unique, so timers due together fire in the order they were set.
    order: u64,
    group: u32,
    /// Index into the group's `patterns` or `ops`, by `class`.
    slot: u32,
    key: Value,
}

/// What a timer is for; the order of the variants is the firing order at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TimerClass {
    /// A session gap or a profile's last window end.
    Operator,
    /// A run deadline, trailing negation or cooldown end.
    Pattern,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.class, self.order) == (other.due, other.class, other.order)
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.class, self.order).cmp(&(other.due, other.class, other.order))
    }
}

/// Which keys a shard owns.
#[derive(Debug, Clone, Copy)]
pub struct ShardId {
    pub index: u32,
    pub count: u32,
}

impl ShardId {
    pub const SOLE: ShardId = ShardId { index: 0, count: 1 };

    /// Whether this shard owns `key`.
    pub fn owns(self, key: &Value) -> bool {
        self.count <= 1 || shard_of(key, self.count) == self.index
    }
}

/// The shard of a key among `count` shards (a fixed, portable hash).
pub fn shard_of(key: &Value, count: u32) -> u32 {
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    (h.finish() % count as u64) as u32
}

/// The key fields an event must be routed by so that every shard gets the events of its
/// keys: those of the patterns and of the keyed operators (sessions, profiles), sorted.
pub fn key_fields(plan: &Plan) -> Vec<FieldId> {
    let mut fields: Vec<FieldId> = plan.patterns.iter().map(|p| p.key).collect();
    fields.extend(plan.sessions.iter().map(|s| s.key));
    fields.extend(plan.profiles.iter().map(|p| p.key));
    fields.sort();
    fields.dedup();
    fields.retain(|f| {
        plan.patterns.iter().any(|p| p.key == *f) || !KeyedOp::keyed_on(plan, *f).is_empty()
    });
    fields
}

/// One shard's engine.
pub struct Engine {
    shard: ShardId,
    groups: Vec<KeyGroup>,
    core: Core,
    /// Resources and global operator snapshots, read through a view.
    env: Env,
}

/// Everything of the engine except the keyed state, so that a key's state can be
/// borrowed from the groups while the matcher updates counters, timers and outputs.
struct Core {
    plan: Arc<Plan>,
    cfg: EngineConfig,
    timers: BinaryHeap<Reverse<Timer>>,
    next_run: u64,
    next_timer: u64,
    next_output: u64,
    outputs: Vec<Output>,
    stats: Stats,
    trace: Option<Trace>,
    /// Profile updates for sinks, when collected.
    profile_updates: Option<Vec<ProfileUpdate>>,
}

impl Engine {
    pub fn new(
        plan: Arc<Plan>,
        world: Arc<dyn World + Send + Sync>,
        cfg: EngineConfig,
        shard: ShardId,
    ) -> Engine {
        let mut groups: Vec<KeyGroup> = Vec::new();
        let ntypes = plan.events.len();
        for (p, pattern) in plan.patterns.iter().enumerate() {
            let gi = match groups.iter().position(|g| g.field == pattern.key) {
                Some(i) => i,
                None => {
                    groups.push(KeyGroup::new(pattern.key, ntypes));
                    groups.len() - 1
                }
            };
            let g = &mut groups[gi];
            g.patterns.push(p);
            for t in &pattern.steps[0].types {
                g.starts[t.index()] = true;
            }
            for t in &pattern.types {
                g.relevant[t.index()] = true;
            }
        }
        // Keyed operators join the group of their key field (a new one if no pattern
        // uses it).
        for field in key_fields(&plan) {
            let ops = KeyedOp::keyed_on(&plan, field);
            if ops.is_empty() {
                continue;
            }
            let gi = match groups.iter().position(|g| g.field == field) {
                Some(i) => i,
                None => {
                    groups.push(KeyGroup::new(field, ntypes));
                    groups.len() - 1
                }
            };
            let g = &mut groups[gi];
            for (t, wants) in g.op_types.iter_mut().enumerate() {
                for (i, op) in ops.iter().enumerate() {
                    if op.wants(&plan, nudge_compiler::plan::TypeId(t as u32)) {
                        wants.push(i as u32);
                    }
                }
            }
            g.ops = ops;
        }
        let env = Env::new(plan.clone(), world, Arc::new(Published::default()));
        Engine {
            shard,
            groups,
            env,
            core: Core {
                plan,
                cfg,
                timers: BinaryHeap::new(),
                next_run: 0,
                next_timer: 0,
                next_output: 0,
                outputs: Vec::new(),
                stats: Stats::default(),
                trace: None,
                profile_updates: None,
            },
        }
    }

    /// Reads the global operators (trending, covisit) from what this global stage
    /// publishes; without it they read as empty.
    pub fn read_globals(&mut self, published: Arc<Published>) {
        self.env = Env::new(
            self.core.plan.clone(),
            self.env.resources.clone(),
            published,
        );
    }

    /// Records the story of every run of `patterns` for `key` (for `nudge explain`).
    pub fn trace(&mut self, patterns: Vec<usize>, key: Value) {
        self.core.trace = Some(Trace::new(patterns, key));
    }

    /// From now on, keeps a [`ProfileUpdate`] for each event that updates a profile
    /// with a `sink`, for [`Engine::take_profile_updates`].
    pub fn collect_profile_updates(&mut self) {
        self.core.profile_updates.get_or_insert_with(Vec::new);
    }

    /// Takes the profile updates collected so far (in processing order per key).
    pub fn take_profile_updates(&mut self) -> Vec<ProfileUpdate> {
        self.core
            .profile_updates
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The recorded story, if tracing.
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.core.trace.take()
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.core.plan
    }

    pub fn stats(&self) -> &Stats {
        &self.core.stats
    }

    /// Runs alive in this shard.
    pub fn runs_alive(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| g.keys.values())
            .flat_map(|k| k.pats.iter())
            .map(|(_, p)| p.runs.len())
            .sum()
    }

    /// Keys holding state in this shard.
    pub fn keys_alive(&self) -> usize {
        self.groups.iter().map(|g| g.keys.len()).sum()
    }

    /// Takes the records emitted so far (in completion order).
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.core.outputs)
    }

    /// Moves emitted records into `out`.
    pub fn drain_outputs_into(&mut self, out: &mut Vec<Output>) {
        out.append(&mut self.core.outputs);
    }

    /// Fires every timer due at or before `t` (the watermark), in time order.
    pub fn advance_to(&mut self, t: i64) {
        while let Some(Reverse(top)) = self.core.timers.peek() {
            if top.due > t {
                break;
            }
            let Reverse(timer) = self.core.timers.pop().expect("peeked");
            self.fire(timer);
        }
    }

    /// Processes one event. Timers due at or before its ts fire first.
    pub fn push(&mut self, event: Arc<Event>) {
        self.advance_to(event.ts);
        self.core.stats.events += 1;
        self.env.sync(event.ts);
        for gi in 0..self.groups.len() {
            self.push_group(gi, &event);
        }
    }

    fn push_group(&mut self, gi: usize, event: &Arc<Event>) {
        let Engine {
            shard,
            groups,
            core,
            env,
        } = self;
        let group = &mut groups[gi];
        let key = event.field(&core.plan, group.field);
        if key.is_null() {
            // Counted once, by the shard that receives key-less events.
            if group.relevant[event.ty.index()] && shard.index == 0 {
                core.stats.key_missing += 1;
            }
            return;
        }
        if !shard.owns(key) {
            return;
        }
        let op_slots = &group.op_types[event.ty.index()];
        let ks = match group.keys.get_mut(key) {
            Some(ks) => ks,
            None => {
                if !group.starts[event.ty.index()] && op_slots.is_empty() {
                    return;
                }
                let nops = group.ops.len();
                group
                    .keys
                    .entry(key.clone())
                    .or_insert_with(|| KeyState::new(nops))
            }
        };
        ks.seq += 1;
        let seq = ks.seq;
        // Sessions and profiles see the event before the key's patterns do.
        let plan = &*env.plan;
        for &i in op_slots {
            let op = group.ops[i as usize];
            let cx = op.cx(plan);
            let slot = ks.ops[i as usize].get_or_insert_with(|| KeyedSlot {
                state: op.start(plan),
                timer: None,
            });
            slot.state.on_event(cx, event);
            if let (Some(outbox), KeyedOp::Profile(id), KeyedState::Profile(state)) =
                (&mut core.profile_updates, op, &slot.state)
            {
                let profile = &plan.profiles[id.index()];
                if profile.sink_redis.is_some() {
                    let features = (0..profile.features.len())
                        .map(|f| state.read(plan, profile, f, event.ts))
                        .collect();
                    outbox.push(ProfileUpdate {
                        profile: id,
                        key: key.clone(),
                        ts: event.ts,
                        features,
                        partition: 0,
                    });
                }
            }
            let due = slot.state.next_due(cx);
            core.set_timer(
                TimerClass::Operator,
                gi,
                i as usize,
                key,
                &mut slot.timer,
                due,
            );
        }
        let view = env.view(&group.ops, &ks.ops, event.ts);
        let mut j = 0;
        for (slot, &p) in group.patterns.iter().enumerate() {
            let held = ks.pats.get(j).is_some_and(|(s, _)| *s as usize == slot);
            if !held {
                // A pattern with nothing for this key only wakes up for its first step.
                if !core.plan.patterns[p].steps[0].types.contains(&event.ty) {
                    continue;
                }
                ks.pats.insert(j, (slot as u32, PatState::default()));
            }
            let st = &mut ks.pats[j].1;
            // Deadlines move only when a run changed.
            if core.push_pattern(p, st, key, event, seq, &view) {
                core.schedule(gi, slot, p, key, st);
            }
            if st.is_empty() {
                ks.pats.remove(j);
            } else {
                j += 1;
            }
        }
        if ks.is_empty() {
            group.keys.remove(key);
        }
    }

    fn fire(&mut self, timer: Timer) {
        let gi = timer.group as usize;
        let slot = timer.slot as usize;
        let Engine {
            groups, core, env, ..
        } = self;
        let group = &mut groups[gi];
        let Some(ks) = group.keys.get_mut(&timer.key) else {
            return;
        };
        match timer.class {
            TimerClass::Operator => {
                let Some(op_slot) = ks.ops[slot].as_mut() else {
                    return;
                };
                if op_slot.timer != Some(timer.due) {
                    return;
                }
                op_slot.timer = None;
                let cx = group.ops[slot].cx(&env.plan);
                if op_slot.state.on_watermark(cx, timer.due) {
                    let due = op_slot.state.next_due(cx);
                    core.set_timer(
                        TimerClass::Operator,
                        gi,
                        slot,
                        &timer.key,
                        &mut op_slot.timer,
                        due,
                    );
                } else {
                    ks.ops[slot] = None;
                }
            }
            TimerClass::Pattern => {
                let Some(j) = ks.pats.iter().position(|(s, _)| *s as usize == slot) else {
                    return;
                };
                let st = &mut ks.pats[j].1;
                if st.timer != Some(timer.due) {
                    return;
                }
                st.timer = None;
                env.sync(timer.due);
                let view = env.view(&group.ops, &ks.ops, timer.due);
                let p = group.patterns[slot];
                core.fire_pattern(p, st, &timer.key, timer.due, &view);
                core.schedule(gi, slot, p, &timer.key, st);
                if st.is_empty() {
                    ks.pats.remove(j);
                }
            }
        }
        if ks.is_empty() {
            group.keys.remove(&timer.key);
        }
    }
}
