//! One run of a pattern: where it stands in the automaton and what it has bound.
//!
//! A run sits in a state (a positive step) with a counter of the events it took there.
//! [`Run::react`] decides what one event does to it — the whole of LANGUAGE.md §4's
//! step logic — and [`Run::deadline`] says when a timer must look at it again.

use crate::eval::{holds, Bound, Scope, World};
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::{PatternPlan, Plan, StepId, StepPlan};
use std::sync::Arc;

/// What a run's timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// The run still needs an event and dies.
    Die,
    /// A trailing negation held: the run completes.
    Complete,
}

/// One in-flight partial match.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Run {
    /// Start order within the shard (earlier-started runs have smaller ids).
    pub id: u64,
    /// The state (positive step) it is in.
    pub step: u32,
    /// Events taken in the current step.
    pub count: u32,
    pub first_ts: i64,
    /// The ts of the last event taken before the current step began.
    pub prev_ts: i64,
    pub last_ts: i64,
    /// The key's event sequence number of the last taken event (for `then next`).
    pub last_seq: u64,
    pub bindings: Vec<Bound>,
    /// The last taken event (what bare names in `emit` read).
    pub last: Arc<Event>,
    /// (input, offset) of the first taken event, for the output id.
    pub origin: (u32, u64),
}

/// What one event did to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Not taken; the run waits on.
    PassedOver,
    /// Taken into the current step (a growing step).
    Accumulated,
    /// Taken as the first event of a later step.
    Advanced,
    /// Killed by a negation.
    Negated,
    /// Killed by strict contiguity (`then next`).
    BrokenContiguity,
    /// Refused to grow: the group-length cap was hit.
    GroupCapped,
}

/// Shared inputs of [`Run::react`].
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    pub pattern: &'a PatternPlan,
    pub key: &'a Value,
    pub world: &'a dyn World,
    pub max_group: usize,
}

impl Run {
    /// Starts a run on an event that satisfies the first step.
    pub fn start(id: u64, pattern: &PatternPlan, event: &Arc<Event>, seq: u64) -> Run {
        let mut run = Run {
            id,
            step: 0,
            count: 0,
            first_ts: event.ts,
            prev_ts: event.ts,
            last_ts: event.ts,
            last_seq: seq,
            bindings: vec![Bound::None; pattern.bindings.len()],
            last: event.clone(),
            origin: (event.input, event.offset),
        };
        run.take(pattern, StepId(0), event, seq);
        run
    }

    /// Whether `event` satisfies step `step`'s types and `where` for this run (the first
    /// step's check uses an empty run).
    pub fn fits(ctx: &Ctx, bindings: &[Bound], step: &StepPlan, event: &Event) -> bool {
        if !step.types.contains(&event.ty) {
            return false;
        }
        match &step.cond {
            None => true,
            Some(cond) => holds(
                cond,
                &Scope {
                    plan: ctx.plan,
                    current: Some(event),
                    bindings,
                    own: if step.min == 1 && step.max == Some(1) {
                        step.binding
                            .filter(|b| !ctx.pattern.bindings[b.index()].group)
                    } else {
                        None
                    },
                    key: ctx.key,
                    world: ctx.world,
                },
            ),
        }
    }

    fn step_plan<'p>(&self, pattern: &'p PatternPlan) -> &'p StepPlan {
        &pattern.steps[self.step as usize]
    }

    /// Whether the current step has its minimum.
    pub fn at_min(&self, pattern: &PatternPlan) -> bool {
        self.count >= self.step_plan(pattern).min
    }

    /// Whether the run is complete now (no trailing negation, accepting state reached).
    pub fn is_complete(&self, pattern: &PatternPlan) -> bool {
        pattern.trailing.is_none()
            && self.at_min(pattern)
            && pattern.states[self.step as usize].accepting
    }

    fn in_window(&self, pattern: &PatternPlan, ts: i64) -> bool {
        pattern
            .window_ms
            .is_none_or(|w| ts < self.first_ts.saturating_add(w as i64))
    }

    /// Applies one event of this run's key (`seq` is its place among the key's events).
    pub fn react(&mut self, ctx: &Ctx, event: &Arc<Event>, seq: u64) -> Reaction {
        let pattern = ctx.pattern;
        let state = &pattern.states[self.step as usize];
        let at_min = self.at_min(pattern);
        let relevant = pattern.types.binary_search(&event.ty).is_ok();
        if at_min && relevant {
            for &g in &state.guards {
                let guard = &pattern.guards[g as usize];
                if guard.types.contains(&event.ty)
                    && guard.cond.as_ref().is_none_or(|c| {
                        holds(
                            c,
                            &Scope {
                                plan: ctx.plan,
                                current: Some(event),
                                bindings: &self.bindings,
                                own: None,
                                key: ctx.key,
                                world: ctx.world,
                            },
                        )
                    })
                {
                    return Reaction::Negated;
                }
            }
        }
        if relevant && self.in_window(pattern, event.ts) {
            if at_min {
                for &target in &state.advance {
                    let step = &pattern.steps[target.index()];
                    let contiguous = !step.strict || seq == self.last_seq + 1;
                    let in_time = step
                        .within_ms
                        .is_none_or(|d| event.ts < self.last_ts.saturating_add(d as i64));
                    if contiguous && in_time && Run::fits(ctx, &self.bindings, step, event) {
                        self.prev_ts = self.last_ts;
                        self.step = target.0;
                        self.count = 0;
                        self.take(pattern, target, event, seq);
                        return Reaction::Advanced;
                    }
                }
            }
            let step = self.step_plan(pattern);
            let can_grow = step.max.is_none_or(|m| self.count < m);
            let in_time = step
                .within_ms
                .is_none_or(|d| event.ts < self.prev_ts.saturating_add(d as i64));
            if can_grow && in_time && Run::fits(ctx, &self.bindings, step, event) {
                if self.count as usize >= ctx.max_group {
                    return Reaction::GroupCapped;
                }
                self.take(pattern, StepId(self.step), event, seq);
                return Reaction::Accumulated;
            }
        }
        if at_min && state.strict {
            return Reaction::BrokenContiguity;
        }
        Reaction::PassedOver
    }

    fn take(&mut self, pattern: &PatternPlan, step: StepId, event: &Arc<Event>, seq: u64) {
        self.count += 1;
        self.last_ts = event.ts;
        self.last_seq = seq;
        self.last = event.clone();
        if let Some(b) = pattern.steps[step.index()].binding {
            let slot = &mut self.bindings[b.index()];
            if pattern.bindings[b.index()].group {
                match slot {
                    Bound::Group(g) => g.push(event.clone()),
                    _ => *slot = Bound::Group(vec![event.clone()]),
                }
            } else {
                *slot = Bound::One(event.clone());
            }
        }
    }

    /// When a timer must look at this run, and what it does then; `None` when only an
    /// event can move it.
    pub fn deadline(&self, pattern: &PatternPlan) -> Option<(i64, DeadlineKind)> {
        let state = &pattern.states[self.step as usize];
        let window_end = pattern
            .window_ms
            .map(|w| self.first_ts.saturating_add(w as i64));
        let mut best: Option<(i64, DeadlineKind)> = None;
        let mut offer = |t: i64, kind: DeadlineKind| {
            best = match best {
                None => Some((t, kind)),
                Some((bt, _)) if t < bt => Some((t, kind)),
                Some((bt, DeadlineKind::Die)) if t == bt && kind == DeadlineKind::Complete => {
                    Some((t, kind))
                }
                keep => keep,
            };
        };
        if !self.at_min(pattern) {
            if let Some(d) = state.deadline_below_min {
                offer(self.prev_ts.saturating_add(d as i64), DeadlineKind::Die);
            }
        } else if state.accepting {
            if let Some(trailing) = &pattern.trailing {
                match (trailing.within_ms, window_end) {
                    (Some(d), we) => {
                        let t = self.last_ts.saturating_add(d as i64);
                        if we.is_none_or(|we| t <= we) {
                            offer(t, DeadlineKind::Complete);
                        }
                    }
                    (None, Some(we)) => offer(we, DeadlineKind::Complete),
                    (None, None) => {}
                }
            }
        } else if let Some(d) = state.deadline_at_min {
            offer(self.last_ts.saturating_add(d as i64), DeadlineKind::Die);
        }
        if let Some(we) = window_end {
            offer(we, DeadlineKind::Die);
        }
        best
    }
}
