//! The engine's keyed state as data: taken for checkpoints and live reloads, restored
//! into a fresh engine of the same or of a newer program.
//!
//! A snapshot names what it holds instead of numbering it: per pattern and per keyed
//! operator (session, profile) its name and the fingerprint of its compiled form
//! ([`nudge_compiler::diff`]), and per key group the key field's name. Restoring keeps
//! the state of every pattern and operator whose fingerprint is unchanged in the new
//! program and drops the rest (a changed rule starts fresh; a removed one loses its
//! state). The fingerprints include the event schema, so a program whose event
//! declarations changed restores nothing: the bound events' layouts would not fit.
//!
//! Pending timers are not stored as such: every state knows the time of its own timer
//! entry, and the snapshot keeps the entries' creation order so that timers due at the
//! same instant fire in the same order after a restore.

use super::{Engine, KeyState, PatState, Timer, TimerClass};
use crate::operators::{KeyedOp, KeyedSlot};
use crate::value::Value;
use nudge_compiler::diff;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// The keyed state of one engine.
#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    /// [`diff::schema_fingerprint`] of the program that took it.
    pub schema: u64,
    patterns: Vec<Held<PatState>>,
    ops: Vec<Held<KeyedSlot>>,
    /// Per key group (by key field name): each key's event sequence number.
    seqs: Vec<(String, Vec<(Value, u64)>)>,
    next_run: u64,
    next_output: u64,
}

/// The per-key states of one pattern or keyed operator.
#[derive(Serialize, Deserialize)]
struct Held<S> {
    /// `pattern NAME`, `session NAME` or `profile NAME`.
    name: String,
    fingerprint: u64,
    /// (key, state, the creation order of its pending timer entry).
    keys: Vec<(Value, S, Option<u64>)>,
}

/// What a restore kept and dropped, by `pattern NAME` / `session NAME` / `profile NAME`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    pub kept: Vec<String>,
    /// In the snapshot but changed or gone in the new program: their state is dropped.
    pub dropped: Vec<String>,
    /// Keys whose state was restored.
    pub keys: usize,
}

/// Where each (name, fingerprint) lives in an engine: (group, slot).
type Places = FxHashMap<(String, u64), (usize, usize)>;

/// The place of a held state in the restoring engine, or `None` (reported as dropped
/// when it held something) when it changed or is gone.
#[allow(clippy::type_complexity)]
fn locate<S>(
    held: Held<S>,
    places: &Places,
    compatible: bool,
    report: &mut Restored,
) -> Option<(usize, usize, Vec<(Value, S, Option<u64>)>)> {
    let at = places.get(&(held.name.clone(), held.fingerprint));
    match at.filter(|_| compatible) {
        Some(&(gi, slot)) => {
            report.kept.push(held.name);
            Some((gi, slot, held.keys))
        }
        None => {
            if !held.keys.is_empty() {
                report.dropped.push(held.name);
            }
            None
        }
    }
}

fn op_name(op: KeyedOp, plan: &nudge_compiler::plan::Plan) -> (String, u64) {
    match op {
        KeyedOp::Session(id) => (
            format!("session {}", plan.sessions[id.index()].name),
            diff::session_fingerprint(plan, id.index()),
        ),
        KeyedOp::Profile(id) => (
            format!("profile {}", plan.profiles[id.index()].name),
            diff::profile_fingerprint(plan, id.index()),
        ),
    }
}

impl Engine {
    /// Takes the keyed state (runs, cooldowns, sessions, profiles, timers). Outputs not
    /// yet taken are not part of it: take them first.
    pub fn snapshot(&self) -> Snapshot {
        let plan = &*self.core.plan;
        // The live timer entries' creation order, by what they are for.
        let mut orders: FxHashMap<(TimerClass, u32, u32, &Value, i64), u64> = FxHashMap::default();
        for Reverse(t) in self.core.timers.iter() {
            orders.insert((t.class, t.group, t.slot, &t.key, t.due), t.order);
        }
        let mut patterns = Vec::new();
        let mut ops = Vec::new();
        let mut seqs = Vec::new();
        for (gi, group) in self.groups.iter().enumerate() {
            let gi = gi as u32;
            for (slot, &p) in group.patterns.iter().enumerate() {
                let mut keys = Vec::new();
                for (key, ks) in &group.keys {
                    for (s, st) in &ks.pats {
                        if *s as usize == slot {
                            let order = st.timer.and_then(|due| {
                                orders
                                    .get(&(TimerClass::Pattern, gi, *s, key, due))
                                    .copied()
                            });
                            keys.push((key.clone(), st.clone(), order));
                        }
                    }
                }
                patterns.push(Held {
                    name: format!("pattern {}", plan.patterns[p].name),
                    fingerprint: diff::pattern_fingerprint(plan, p),
                    keys,
                });
            }
            for (slot, &op) in group.ops.iter().enumerate() {
                let mut keys = Vec::new();
                for (key, ks) in &group.keys {
                    if let Some(state) = &ks.ops[slot] {
                        let order = state.timer.and_then(|due| {
                            orders
                                .get(&(TimerClass::Operator, gi, slot as u32, key, due))
                                .copied()
                        });
                        keys.push((key.clone(), state.clone(), order));
                    }
                }
                let (name, fingerprint) = op_name(op, plan);
                ops.push(Held {
                    name,
                    fingerprint,
                    keys,
                });
            }
            seqs.push((
                plan.fields[group.field.index()].clone(),
                group
                    .keys
                    .iter()
                    .map(|(k, ks)| (k.clone(), ks.seq))
                    .collect(),
            ));
        }
        Snapshot {
            schema: diff::schema_fingerprint(plan),
            patterns,
            ops,
            seqs,
            next_run: self.core.next_run,
            next_output: self.core.next_output,
        }
    }

    /// Puts a snapshot's state into this engine, which must hold none yet: the state of
    /// every pattern and keyed operator whose compiled form is unchanged is kept, and
    /// their timers are set again. The counters ([`Stats`]) stay this engine's: they
    /// count the work done here.
    pub fn restore(&mut self, snap: Snapshot) -> Restored {
        let plan = self.core.plan.clone();
        let mut report = Restored::default();
        let mut timers: Vec<(i64, TimerClass, u64, u32, u32, Value)> = Vec::new();
        self.core.next_run = self.core.next_run.max(snap.next_run);
        self.core.next_output = self.core.next_output.max(snap.next_output);
        // Where each name lives in this engine: (group, slot).
        let mut pattern_at = Places::default();
        let mut op_at = Places::default();
        for (gi, group) in self.groups.iter().enumerate() {
            for (slot, &p) in group.patterns.iter().enumerate() {
                let name = format!("pattern {}", plan.patterns[p].name);
                pattern_at.insert((name, diff::pattern_fingerprint(&plan, p)), (gi, slot));
            }
            for (slot, &op) in group.ops.iter().enumerate() {
                op_at.insert(op_name(op, &plan), (gi, slot));
            }
        }
        let compatible = snap.schema == diff::schema_fingerprint(&plan);
        for held in snap.patterns {
            let Some((gi, slot, keys)) = locate(held, &pattern_at, compatible, &mut report) else {
                continue;
            };
            let group = &mut self.groups[gi];
            let nops = group.ops.len();
            for (key, st, order) in keys {
                if let (Some(due), Some(order)) = (st.timer, order) {
                    let (g, s) = (gi as u32, slot as u32);
                    timers.push((due, TimerClass::Pattern, order, g, s, key.clone()));
                }
                let ks = group.keys.entry(key).or_insert_with(|| KeyState::new(nops));
                let at = ks.pats.partition_point(|(s, _)| (*s as usize) < slot);
                ks.pats.insert(at, (slot as u32, st));
            }
        }
        for held in snap.ops {
            let Some((gi, slot, keys)) = locate(held, &op_at, compatible, &mut report) else {
                continue;
            };
            let group = &mut self.groups[gi];
            let nops = group.ops.len();
            for (key, state, order) in keys {
                if let (Some(due), Some(order)) = (state.timer, order) {
                    let (g, s) = (gi as u32, slot as u32);
                    timers.push((due, TimerClass::Operator, order, g, s, key.clone()));
                }
                let ks = group.keys.entry(key).or_insert_with(|| KeyState::new(nops));
                ks.ops[slot] = Some(state);
            }
        }
        if compatible {
            for (field, keys) in snap.seqs {
                let Some(group) = self
                    .groups
                    .iter_mut()
                    .find(|g| plan.fields[g.field.index()] == field)
                else {
                    continue;
                };
                for (key, seq) in keys {
                    if let Some(ks) = group.keys.get_mut(&key) {
                        ks.seq = seq;
                    }
                }
            }
        }
        // Timers again, in their old firing order.
        timers.sort_by_key(|t| (t.0, t.1, t.2));
        for (due, class, _, group, slot, key) in timers {
            let order = self.core.next_timer;
            self.core.next_timer += 1;
            self.core.timers.push(Reverse(Timer {
                due,
                class,
                order,
                group,
                slot,
                key,
            }));
        }
        report.keys = self.groups.iter().map(|g| g.keys.len()).sum();
        report
    }
}
