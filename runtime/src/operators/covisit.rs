//! `covisit` (LANGUAGE.md §7): item-item co-occurrence learned online from sessions,
//! across all keys, and `recommend(covisit, items, k)`.
//!
//! The global stage keeps its own sessions of the covisit's `session` declaration (one per
//! key, freed at the gap). When a session gains a new distinct item j, every other item i
//! in its list (after j is added and the oldest evicted) gets one co-count with j, both
//! ways. Each item keeps at most `keep` co-counts: past that, the lowest count goes, and
//! among equal counts the highest id. A value that was evicted from the session's list
//! and comes back is a new distinct item again.
//!
//! Readers at time t see the counts learned from events with `ts < b`, b the greatest
//! multiple of `refresh` ≤ t: at each boundary with changes, the table of rows is
//! published as a [`CovisitCounts`] snapshot. Rows are shared between snapshots and
//! copied on the first write after a publication, so a snapshot costs one pointer per
//! item plus the rows that changed.

use super::global::{lock, Shared, Timeline};
use super::{id_order, ranked, Cx, Operator, SessionState};
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::CovisitPlan;
use rustc_hash::FxHashMap;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

/// One item's co-counts: other item → count.
type Row = FxHashMap<Value, u32>;

/// Published co-counts, read by `recommend`.
#[derive(Debug, Default)]
pub struct CovisitCounts {
    rows: FxHashMap<Value, Arc<Row>>,
}

impl CovisitCounts {
    /// The co-count of `a` with `b` (0 when absent or evicted from `a`'s row).
    pub fn count(&self, a: &Value, b: &Value) -> u32 {
        self.rows
            .get(a)
            .and_then(|r| r.get(b))
            .copied()
            .unwrap_or(0)
    }

    /// `recommend(covisit, items, k)`: every other item scored by the sum of its
    /// co-counts with the distinct values of `items`, without the items themselves and
    /// items scoring 0; the top k ids, score descending, then id ascending.
    pub fn recommend(&self, items: &Value, k: usize) -> Value {
        let given: &[Value] = match items {
            Value::List(l) => l,
            _ => &[],
        };
        let mut seen: Vec<&Value> = Vec::with_capacity(given.len());
        let mut scores: FxHashMap<&Value, u64> = FxHashMap::default();
        for i in given {
            if seen.contains(&i) {
                continue;
            }
            seen.push(i);
            if let Some(row) = self.rows.get(i) {
                for (j, c) in row.iter() {
                    *scores.entry(j).or_insert(0) += u64::from(*c);
                }
            }
        }
        let mut ranked_ids: Vec<(Value, u64)> = scores
            .into_iter()
            .filter(|(j, s)| *s > 0 && !seen.contains(j))
            .map(|(j, s)| (j.clone(), s))
            .collect();
        ranked_ids.sort_unstable_by(ranked);
        ranked_ids.truncate(k);
        Value::list(ranked_ids.into_iter().map(|(j, _)| j).collect())
    }
}

/// A session of the global stage, with its pending expiry.
struct Tracked {
    session: SessionState,
    /// The time of its entry in the expiry heap, if any.
    timer: Option<i64>,
}

/// An expiry entry; stale when the session moved on (it is then re-armed).
struct Expiry {
    due: i64,
    order: u64,
    key: Value,
}

impl PartialEq for Expiry {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.order) == (o.due, o.order)
    }
}
impl Eq for Expiry {}
impl PartialOrd for Expiry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Expiry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.due, self.order).cmp(&(o.due, o.order))
    }
}

/// The running state of one `covisit` declaration.
pub struct Covisit {
    sessions: FxHashMap<Value, Tracked>,
    expiry: BinaryHeap<Reverse<Expiry>>,
    next_order: u64,
    rows: FxHashMap<Value, Arc<Row>>,
    /// Whether rows changed since the last publication.
    dirty: bool,
    /// The last boundary reached (`i64::MIN`: none yet).
    done: i64,
    timeline: Shared<CovisitCounts>,
}

impl Covisit {
    pub fn new(_plan: &CovisitPlan) -> Covisit {
        Covisit {
            sessions: FxHashMap::default(),
            expiry: BinaryHeap::new(),
            next_order: 0,
            rows: FxHashMap::default(),
            dirty: false,
            done: i64::MIN,
            timeline: Arc::new(Mutex::new(Timeline::default())),
        }
    }

    /// The timeline its snapshots are published to.
    pub fn timeline(&self) -> Shared<CovisitCounts> {
        self.timeline.clone()
    }

    /// Sessions the stage keeps for learning.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Publishes the counts at the greatest boundary ≤ t (if they changed since the
    /// last one), and ends the sessions whose gap passed.
    fn reach(&mut self, cx: Cx<'_>, t: i64) {
        let p = &cx.plan.covisits[cx.id];
        let refresh = p.refresh_ms.clamp(1, i64::MAX as u64) as i64;
        let b = t.div_euclid(refresh).saturating_mul(refresh);
        if b > self.done {
            if self.dirty {
                let snapshot = CovisitCounts {
                    rows: self.rows.clone(),
                };
                lock(&self.timeline).publish(b, Arc::new(snapshot));
                self.dirty = false;
            }
            self.done = b;
        }
        let session = &cx.plan.sessions[p.session.index()];
        while self.expiry.peek().is_some_and(|Reverse(e)| e.due <= t) {
            let Reverse(e) = self.expiry.pop().expect("peeked");
            let Some(tracked) = self.sessions.get_mut(&e.key) else {
                continue;
            };
            if tracked.timer != Some(e.due) {
                continue;
            }
            tracked.timer = None;
            match tracked.session.end(session) {
                Some(end) if end > e.due => {
                    tracked.timer = Some(end);
                    self.next_order += 1;
                    self.expiry.push(Reverse(Expiry {
                        due: end,
                        order: self.next_order,
                        key: e.key,
                    }));
                }
                _ => {
                    self.sessions.remove(&e.key);
                }
            }
        }
    }

    /// One more co-count of `a` with `b`, within `keep`.
    fn bump(rows: &mut FxHashMap<Value, Arc<Row>>, keep: usize, a: &Value, b: &Value) {
        let row = match rows.get_mut(a) {
            Some(r) => r,
            None => rows.entry(a.clone()).or_default(),
        };
        let row = Arc::make_mut(row);
        match row.get_mut(b) {
            Some(c) => *c = c.saturating_add(1),
            None => {
                row.insert(b.clone(), 1);
                if row.len() > keep {
                    // Lowest count goes first; among equal counts, the highest id.
                    let worst = row
                        .iter()
                        .min_by(|x, y| x.1.cmp(y.1).then_with(|| id_order(y.0, x.0)))
                        .map(|(v, _)| v.clone())
                        .expect("a full row");
                    row.remove(&worst);
                }
            }
        }
    }
}

impl Operator for Covisit {
    fn on_event(&mut self, cx: Cx<'_>, event: &Event) {
        self.reach(cx, event.ts);
        let p = &cx.plan.covisits[cx.id];
        let session = &cx.plan.sessions[p.session.index()];
        if !session.of.contains(&event.ty) {
            return;
        }
        let key = event.field(cx.plan, session.key);
        if key.is_null() {
            return;
        }
        let tracked = match self.sessions.get_mut(key) {
            Some(t) => t,
            None => self.sessions.entry(key.clone()).or_insert(Tracked {
                session: SessionState::default(),
                timer: None,
            }),
        };
        let item = event.field(cx.plan, session.items);
        if tracked.session.add(session, event.ts, item) {
            let items = tracked.session.items();
            let (j, others) = items.split_first().expect("just added");
            for i in others {
                Covisit::bump(&mut self.rows, p.keep as usize, i, j);
                Covisit::bump(&mut self.rows, p.keep as usize, j, i);
            }
            self.dirty |= !others.is_empty();
        }
        if tracked.timer.is_none() {
            if let Some(end) = tracked.session.end(session) {
                tracked.timer = Some(end);
                self.next_order += 1;
                self.expiry.push(Reverse(Expiry {
                    due: end,
                    order: self.next_order,
                    key: key.clone(),
                }));
            }
        }
    }

    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        self.reach(cx, t);
        true
    }
}
