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
//! multiple of `refresh` ≤ t: at each boundary with changes, the rows are published as a
//! [`CovisitCounts`] snapshot. Items are interned to dense ids; rows are shared between
//! snapshots and copied (plain integers) on the first write after a publication, so a
//! snapshot costs one pointer per item plus the rows that changed. Each row keeps its
//! count-1 entries sorted by id, so `keep` evicts in O(log keep) comparisons.

use super::global::{lock, Shared, Timeline};
use super::{id_order, top_k, Cx, Operator, SessionState};
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::CovisitPlan;
use rustc_hash::FxHashMap;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

/// The items seen, interned: value ↔ dense id.
#[derive(Debug, Default, Clone)]
struct Items {
    ids: FxHashMap<Value, u32>,
    names: Vec<Value>,
    /// Per id, for a string: its first 8 bytes as a big-endian number, zero-padded. Two
    /// different prefixes order two strings as their bytes do, so most comparisons in
    /// [`Row::place`] never load the strings.
    prefixes: Vec<Option<u64>>,
}

/// The order key of a string's first 8 bytes (see [`Items::prefixes`]).
fn prefix(v: &Value) -> Option<u64> {
    let s = v.as_str()?.as_bytes();
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s[..n]);
    Some(u64::from_be_bytes(b))
}

impl Items {
    fn id(&self, v: &Value) -> Option<u32> {
        self.ids.get(v).copied()
    }

    fn name(&self, id: u32) -> &Value {
        &self.names[id as usize]
    }

    /// `a` before `b` in id order.
    fn order(&self, a: u32, b: u32) -> Ordering {
        if let (Some(x), Some(y)) = (self.prefixes[a as usize], self.prefixes[b as usize]) {
            if x != y {
                return x.cmp(&y);
            }
        }
        id_order(self.name(a), self.name(b))
    }
}

/// One item's co-counts.
#[derive(Debug, Default, Clone)]
struct Row {
    /// Other item → count.
    counts: FxHashMap<u32, u32>,
    /// The items with count 1, in id order: the last one is the first to go.
    ones: Vec<u32>,
}

impl Row {
    fn place(&self, items: &Items, id: u32) -> Result<usize, usize> {
        self.ones.binary_search_by(|x| items.order(*x, id))
    }

    /// One more co-count with `other`, within `keep` entries.
    fn bump(&mut self, items: &Items, keep: usize, other: u32) {
        match self.counts.get_mut(&other) {
            Some(c) => {
                let was_one = *c == 1;
                *c = c.saturating_add(1);
                if was_one {
                    match self.place(items, other) {
                        Ok(i) if self.ones[i] == other => {
                            self.ones.remove(i);
                        }
                        _ => self.ones.retain(|x| *x != other),
                    }
                }
            }
            None => {
                self.counts.insert(other, 1);
                let (Ok(i) | Err(i)) = self.place(items, other);
                self.ones.insert(i, other);
                if self.counts.len() > keep {
                    // The new entry has count 1, so the lowest count is 1: of those,
                    // the highest id goes.
                    if let Some(worst) = self.ones.pop() {
                        self.counts.remove(&worst);
                    }
                }
            }
        }
    }
}

/// Published co-counts, read by `recommend`.
#[derive(Debug, Default)]
pub struct CovisitCounts {
    items: Arc<Items>,
    /// By item id; `None`: no co-count yet.
    rows: Vec<Option<Arc<Row>>>,
}

impl CovisitCounts {
    /// The co-count of `a` with `b` (0 when absent or evicted from `a`'s row).
    pub fn count(&self, a: &Value, b: &Value) -> u32 {
        let (Some(a), Some(b)) = (self.items.id(a), self.items.id(b)) else {
            return 0;
        };
        self.row(a)
            .and_then(|r| r.counts.get(&b))
            .copied()
            .unwrap_or(0)
    }

    fn row(&self, id: u32) -> Option<&Row> {
        self.rows.get(id as usize)?.as_deref()
    }

    /// `recommend(covisit, items, k)`: every other item scored by the sum of its
    /// co-counts with the distinct values of `items`, without the items themselves and
    /// items scoring 0; the top k ids, score descending, then id ascending.
    pub fn recommend(&self, items: &Value, k: usize) -> Value {
        let given: &[Value] = match items {
            Value::List(l) => l,
            _ => &[],
        };
        let mut seen: Vec<u32> = Vec::with_capacity(given.len());
        let mut scores: FxHashMap<u32, u64> = FxHashMap::default();
        for id in given.iter().filter_map(|v| self.items.id(v)) {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(row) = self.row(id) {
                for (j, c) in &row.counts {
                    *scores.entry(*j).or_insert(0) += u64::from(*c);
                }
            }
        }
        let mut ranked: Vec<(u32, u64)> = scores
            .into_iter()
            .filter(|(j, s)| *s > 0 && !seen.contains(j))
            .collect();
        let by_rank =
            |a: &(u32, u64), b: &(u32, u64)| b.1.cmp(&a.1).then_with(|| self.items.order(a.0, b.0));
        top_k(&mut ranked, k, by_rank);
        Value::list(
            ranked
                .into_iter()
                .map(|(j, _)| self.items.name(j).clone())
                .collect(),
        )
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
    /// Shared with the snapshots; copied when an item is added after a publication.
    items: Arc<Items>,
    /// By item id.
    rows: Vec<Option<Arc<Row>>>,
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
            items: Arc::default(),
            rows: Vec::new(),
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
                    items: self.items.clone(),
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
}

/// The id of an item, interned on first sight (with an empty row).
fn intern(items: &mut Arc<Items>, rows: &mut Vec<Option<Arc<Row>>>, v: &Value) -> u32 {
    if let Some(id) = items.id(v) {
        return id;
    }
    let items = Arc::make_mut(items);
    let id = items.names.len() as u32;
    items.names.push(v.clone());
    items.prefixes.push(prefix(v));
    items.ids.insert(v.clone(), id);
    rows.push(None);
    id
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
        if tracked.session.add(session, event.ts, item) && tracked.session.items().len() > 1 {
            let Covisit {
                items, rows, dirty, ..
            } = self;
            let (j, others) = tracked.session.items().split_first().expect("just added");
            let j = intern(items, rows, j);
            let keep = p.keep as usize;
            for i in others {
                let i = intern(items, rows, i);
                for (x, y) in [(i, j), (j, i)] {
                    let row = rows[x as usize].get_or_insert_with(Arc::default);
                    Arc::make_mut(row).bump(items, keep, y);
                }
            }
            *dirty = true;
        }
        if tracked.timer.is_none() {
            tracked.timer = tracked.session.end(session);
            let Some(end) = tracked.timer else {
                return;
            };
            self.next_order += 1;
            self.expiry.push(Reverse(Expiry {
                due: end,
                order: self.next_order,
                key: key.clone(),
            }));
        }
    }

    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        self.reach(cx, t);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_order_agrees_with_the_id_order() {
        let values: Vec<Value> = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefgz",
            "é",
            "e",
            "p00164",
            "p1",
            "p10",
            "P1",
        ]
        .into_iter()
        .map(Value::str)
        .chain([Value::Int(7), Value::Int(-1), Value::Float(2.5)])
        .collect();
        let mut items = Arc::default();
        let mut rows = Vec::new();
        let ids: Vec<u32> = values
            .iter()
            .map(|v| intern(&mut items, &mut rows, v))
            .collect();
        for (a, va) in ids.iter().zip(&values) {
            for (b, vb) in ids.iter().zip(&values) {
                assert_eq!(items.order(*a, *b), id_order(va, vb), "{va:?} vs {vb:?}");
            }
        }
    }
}
