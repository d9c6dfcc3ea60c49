//! The matcher: what one event or one timer does to a key's runs of one pattern —
//! reactions, new runs, completions under `after match`, cooldowns, and the timer that
//! keeps the earliest deadline.

use super::run::{Ctx, DeadlineKind, Reaction, Run};
use super::*;

impl Core {
    pub(super) fn push_pattern(
        &mut self,
        p: usize,
        st: &mut PatState,
        key: &Value,
        event: &Arc<Event>,
        seq: u64,
        world: &dyn World,
    ) -> bool {
        if st.runs.is_empty() && !self.plan.patterns[p].steps[0].types.contains(&event.ty) {
            return false;
        }
        let plan = self.plan.clone();
        let pattern = &plan.patterns[p];
        let mut changed = false;
        let ctx = Ctx {
            plan: &plan,
            pattern,
            key,
            world,
            max_group: self.cfg.max_group_len,
        };
        let tracing = self.tracing(p, key);
        let mut completed: Vec<usize> = Vec::new();
        let mut i = 0;
        while i < st.runs.len() {
            let reaction = st.runs[i].react(&ctx, event, seq);
            if tracing {
                self.note(
                    p,
                    TraceEvent::Reacted {
                        run: st.runs[i].id,
                        at: event_ref(event),
                        reaction,
                        step: StepId(st.runs[i].step),
                        count: st.runs[i].count,
                    },
                );
            }
            self.stats.reactions += 1;
            changed |= reaction != Reaction::PassedOver;
            match reaction {
                Reaction::Negated | Reaction::BrokenContiguity => {
                    if reaction == Reaction::Negated {
                        self.stats.runs_negated += 1;
                    } else {
                        self.stats.runs_broken += 1;
                    }
                    st.runs.remove(i);
                    continue;
                }
                Reaction::GroupCapped => self.stats.group_capped += 1,
                _ => {}
            }
            if st.runs[i].is_complete(pattern) {
                completed.push(i);
            }
            i += 1;
        }
        if pattern.steps[0].types.contains(&event.ty)
            && Run::fits(&ctx, &[], &pattern.steps[0], event)
        {
            changed = true;
            if st.runs.len() >= self.cfg.max_runs_per_key {
                self.stats.runs_refused += 1;
                if tracing {
                    self.note(
                        p,
                        TraceEvent::Refused {
                            at: event_ref(event),
                        },
                    );
                }
            } else {
                let id = self.next_run;
                self.next_run += 1;
                let run = Run::start(id, pattern, event, seq);
                self.stats.runs_started += 1;
                if tracing {
                    self.note(
                        p,
                        TraceEvent::Started {
                            run: id,
                            at: event_ref(event),
                        },
                    );
                }
                if run.is_complete(pattern) {
                    completed.push(st.runs.len());
                }
                if st.runs.capacity() == 0 {
                    // Most keys have one run at a time: do not reserve room for four.
                    st.runs.reserve_exact(1);
                }
                st.runs.push(run);
            }
        }
        if !completed.is_empty() {
            self.complete(p, st, key, &completed, None, world);
        }
        changed
    }

    /// Runs `completed` (indices into `st.runs`, in start order) completed together: at
    /// the event being processed (`at: None`, ts of their last event) or at a timer.
    pub(super) fn complete(
        &mut self,
        p: usize,
        st: &mut PatState,
        key: &Value,
        completed: &[usize],
        at: Option<i64>,
        world: &dyn World,
    ) {
        let keep_all = self.plan.patterns[p].keep_all;
        let tracing = self.tracing(p, key);
        let mut done: Vec<Run> = Vec::with_capacity(completed.len());
        for &i in completed.iter().rev() {
            done.push(st.runs.remove(i));
        }
        done.reverse();
        if !keep_all {
            // The earliest-started run is the match; every other run, complete or not,
            // is discarded.
            let mut discarded = done.split_off(1);
            discarded.append(&mut st.runs);
            self.stats.runs_discarded += discarded.len() as u64;
            if tracing {
                for r in &discarded {
                    self.note(p, TraceEvent::Discarded { run: r.id });
                }
            }
        }
        for run in done {
            self.stats.matches += 1;
            let ts = at.unwrap_or(run.last_ts);
            if st.cooldown_until.is_some_and(|c| ts < c) {
                self.stats.cooldown_dropped += 1;
                if tracing {
                    self.note(p, TraceEvent::CooledDown { run: run.id, ts });
                }
                continue;
            }
            if let Some(d) = self.plan.patterns[p].cooldown_ms {
                st.cooldown_until = Some(ts.saturating_add(d as i64));
            }
            if tracing {
                self.note(p, TraceEvent::Matched { run: run.id, ts });
            }
            let seq = self.next_output;
            self.next_output += 1;
            let out = emit::render(&self.plan, world, p, key, &run, ts, seq);
            self.stats.emitted += 1;
            self.outputs.push(out);
        }
    }

    /// Keeps a timer entry per (key, pattern) at or before the earliest time something
    /// is due. When the due time moves later, the earlier entry stays: it fires, finds
    /// nothing due and sets the next one, which keeps the heap small.
    pub(super) fn schedule(
        &mut self,
        gi: usize,
        slot: usize,
        p: usize,
        key: &Value,
        st: &mut PatState,
    ) {
        let pattern = &self.plan.patterns[p];
        let due = if st.runs.is_empty() {
            st.cooldown_until
        } else {
            st.runs
                .iter()
                .filter_map(|r| r.deadline(pattern))
                .map(|d| d.0)
                .min()
        };
        self.set_timer(TimerClass::Pattern, gi, slot, key, &mut st.timer, due);
    }

    /// Makes sure a timer entry of `class` for (key, slot) exists at or before `due`;
    /// `timer` is the time of the entry already set, if any.
    pub(super) fn set_timer(
        &mut self,
        class: TimerClass,
        gi: usize,
        slot: usize,
        key: &Value,
        timer: &mut Option<i64>,
        due: Option<i64>,
    ) {
        match (due, *timer) {
            (None, _) => {}
            (Some(due), Some(set)) if set <= due => {}
            (Some(due), _) => {
                *timer = Some(due);
                self.next_timer += 1;
                self.timers.push(Reverse(Timer {
                    due,
                    class,
                    order: self.next_timer,
                    group: gi as u32,
                    slot: slot as u32,
                    key: key.clone(),
                }));
            }
        }
    }

    pub(super) fn fire_pattern(
        &mut self,
        p: usize,
        st: &mut PatState,
        key: &Value,
        due: i64,
        world: &dyn World,
    ) {
        let plan = self.plan.clone();
        let pattern = &plan.patterns[p];
        let tracing = self.tracing(p, key);
        let mut completed = Vec::new();
        let mut i = 0;
        while i < st.runs.len() {
            match st.runs[i].deadline(pattern) {
                Some((t, DeadlineKind::Die)) if t <= due => {
                    self.stats.runs_expired += 1;
                    if tracing {
                        self.note(
                            p,
                            TraceEvent::Expired {
                                run: st.runs[i].id,
                                ts: t,
                                step: StepId(st.runs[i].step),
                            },
                        );
                    }
                    st.runs.remove(i);
                    continue;
                }
                Some((t, DeadlineKind::Complete)) if t <= due => completed.push(i),
                _ => {}
            }
            i += 1;
        }
        if !completed.is_empty() {
            self.complete(p, st, key, &completed, Some(due), world);
        }
        if st.cooldown_until.is_some_and(|c| c <= due) {
            st.cooldown_until = None;
        }
    }

    pub(super) fn tracing(&self, p: usize, key: &Value) -> bool {
        self.trace
            .as_ref()
            .is_some_and(|t| t.patterns.contains(&p) && &t.key == key)
    }

    pub(super) fn note(&mut self, p: usize, e: TraceEvent) {
        if let Some(t) = &mut self.trace {
            t.events.push((p, e));
        }
    }
}

pub(super) fn event_ref(e: &Event) -> EventRef {
    EventRef {
        ts: e.ts,
        ty: e.ty,
        input: e.input,
        offset: e.offset,
    }
}
