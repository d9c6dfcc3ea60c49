//! The global stage: operators that see every event of the program (`trending`,
//! `covisit`), and how the engines read them.
//!
//! The runner feeds [`Global`] every released event, in release order, *before* it routes
//! the event to a shard, and advances it to each watermark before the shards. At every
//! boundary of its period (`every`, `refresh`) a global operator publishes an immutable
//! snapshot into a [`Timeline`]. An engine at event or timer time t reads the snapshot
//! with the greatest boundary b ≤ t through its [`GlobalReader`], even when the global
//! stage is already further ahead; so what a pattern sees depends only on t, never on
//! sharding or batching. Snapshots no engine can need any more are pruned.
//!
//! Why the reader's cache is sound: when an engine is at time t, the global stage has
//! seen every event with ts < t (it is fed first) or has been advanced past t (timers
//! fire only up to a watermark it was advanced to first), so every boundary ≤ t is
//! published. The snapshot found for t is then valid until the next one published, or,
//! if none is yet, until the next multiple of the period after t.

use super::{Covisit, CovisitCounts, Cx, Operator, Trending, TrendingWindow};
use crate::engine::Output;
use crate::event::Event;
use nudge_compiler::plan::Plan;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Snapshots of one global operator by boundary time, oldest first.
#[derive(Debug)]
pub struct Timeline<T> {
    entries: VecDeque<(i64, Arc<T>)>,
}

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline {
            entries: VecDeque::new(),
        }
    }
}

impl<T> Timeline<T> {
    /// Publishes the snapshot valid from `at` (later than every earlier one).
    pub fn publish(&mut self, at: i64, snapshot: Arc<T>) {
        debug_assert!(self.entries.back().is_none_or(|(b, _)| *b < at));
        self.entries.push_back((at, snapshot));
    }

    /// The snapshot with the greatest time ≤ t (with its time), and the time of the next
    /// snapshot if it is published.
    pub fn at(&self, t: i64) -> (Option<(i64, Arc<T>)>, Option<i64>) {
        let i = self.entries.partition_point(|(b, _)| *b <= t);
        let found = i
            .checked_sub(1)
            .map(|j| (self.entries[j].0, self.entries[j].1.clone()));
        (found, self.entries.get(i).map(|(b, _)| *b))
    }

    /// Drops the snapshots that no reader at time ≥ t can need (all before the one in
    /// force at t).
    pub fn prune(&mut self, t: i64) {
        while self.entries.len() > 1 && self.entries[1].0 <= t {
            self.entries.pop_front();
        }
    }

    /// Snapshots kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A timeline shared between the global stage (writer) and the engines (readers).
pub type Shared<T> = Arc<Mutex<Timeline<T>>>;

pub(super) fn lock<T>(m: &Mutex<Timeline<T>>) -> MutexGuard<'_, Timeline<T>> {
    // A panicking writer leaves a consistent timeline (publish is one push).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Everything the global stage has published: one timeline per trending and per
/// covisit, in plan order.
#[derive(Debug, Default)]
pub struct Published {
    trendings: Vec<(Shared<TrendingWindow>, i64)>,
    covisits: Vec<(Shared<CovisitCounts>, i64)>,
}

impl Published {
    /// Drops snapshots that no engine at time ≥ t can need; call it with the time every
    /// engine has reached.
    pub fn prune(&self, t: i64) {
        for (tl, _) in &self.trendings {
            lock(tl).prune(t);
        }
        for (tl, _) in &self.covisits {
            lock(tl).prune(t);
        }
    }

    /// Snapshots kept, over all operators.
    pub fn snapshots(&self) -> usize {
        let t: usize = self.trendings.iter().map(|(tl, _)| lock(tl).len()).sum();
        let c: usize = self.covisits.iter().map(|(tl, _)| lock(tl).len()).sum();
        t + c
    }
}

/// The global stage: every trending and covisit of the program.
pub struct Global {
    plan: Arc<Plan>,
    trendings: Vec<Trending>,
    covisits: Vec<Covisit>,
    published: Arc<Published>,
}

impl Global {
    pub fn new(plan: Arc<Plan>) -> Global {
        let trendings: Vec<Trending> = (0..plan.trendings.len())
            .map(|i| Trending::new(&plan, i))
            .collect();
        let covisits: Vec<Covisit> = plan.covisits.iter().map(Covisit::new).collect();
        let published = Arc::new(Published {
            trendings: trendings
                .iter()
                .zip(&plan.trendings)
                .map(|(t, p)| (t.timeline(), period(p.every_ms)))
                .collect(),
            covisits: covisits
                .iter()
                .zip(&plan.covisits)
                .map(|(c, p)| (c.timeline(), period(p.refresh_ms)))
                .collect(),
        });
        Global {
            plan,
            trendings,
            covisits,
            published,
        }
    }

    /// The snapshots, for the engines' readers.
    pub fn published(&self) -> &Arc<Published> {
        &self.published
    }

    /// Whether the program has no global operator (then the stage does nothing).
    pub fn is_idle(&self) -> bool {
        self.trendings.is_empty() && self.covisits.is_empty()
    }

    /// One released event, before any shard sees it.
    pub fn push(&mut self, event: &Event) {
        let plan = &*self.plan;
        for (id, t) in self.trendings.iter_mut().enumerate() {
            t.on_event(Cx { plan, id }, event);
        }
        for (id, c) in self.covisits.iter_mut().enumerate() {
            c.on_event(Cx { plan, id }, event);
        }
    }

    /// Event time reached `t`: publishes every boundary ≤ t (and, with `emit`, writes
    /// the windows that closed). `i64::MAX` closes every window that holds anything.
    pub fn advance_to(&mut self, t: i64) {
        let plan = &*self.plan;
        for (id, tr) in self.trendings.iter_mut().enumerate() {
            tr.on_watermark(Cx { plan, id }, t);
        }
        for (id, c) in self.covisits.iter_mut().enumerate() {
            c.on_watermark(Cx { plan, id }, t);
        }
    }

    /// Takes the records written so far (trending `emit`).
    pub fn take_outputs(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        for t in &mut self.trendings {
            t.drain_outputs_into(&mut out);
        }
        out
    }
}

fn period(ms: u64) -> i64 {
    ms.clamp(1, i64::MAX as u64) as i64
}

/// One engine's view of the published snapshots, cached for its current time.
#[derive(Debug)]
pub struct GlobalReader {
    published: Arc<Published>,
    trendings: Vec<Cached<TrendingWindow>>,
    covisits: Vec<Cached<CovisitCounts>>,
}

/// The snapshot in force over `[from, until)`.
#[derive(Debug)]
struct Cached<T> {
    from: i64,
    until: i64,
    snapshot: Option<Arc<T>>,
}

impl<T> Cached<T> {
    fn stale() -> Self {
        Cached {
            from: i64::MAX,
            until: i64::MIN,
            snapshot: None,
        }
    }

    fn sync(&mut self, timeline: &Mutex<Timeline<T>>, period: i64, t: i64) {
        if self.from <= t && t < self.until {
            return;
        }
        let (found, next) = lock(timeline).at(t);
        let next_boundary = t
            .div_euclid(period)
            .saturating_add(1)
            .saturating_mul(period);
        self.until = next.unwrap_or(next_boundary);
        (self.from, self.snapshot) = match found {
            Some((b, s)) => (b, Some(s)),
            None => (i64::MIN, None),
        };
    }
}

impl GlobalReader {
    pub fn new(published: Arc<Published>) -> GlobalReader {
        GlobalReader {
            trendings: published
                .trendings
                .iter()
                .map(|_| Cached::stale())
                .collect(),
            covisits: published.covisits.iter().map(|_| Cached::stale()).collect(),
            published,
        }
    }

    /// Makes the snapshots in force at `t` current (cheap while t stays in one period).
    pub fn sync(&mut self, t: i64) {
        for (c, (tl, period)) in self.trendings.iter_mut().zip(&self.published.trendings) {
            c.sync(tl, *period, t);
        }
        for (c, (tl, period)) in self.covisits.iter_mut().zip(&self.published.covisits) {
            c.sync(tl, *period, t);
        }
    }

    /// The window in force at the last synced time (none before the first window).
    pub fn trending(&self, id: usize) -> Option<&TrendingWindow> {
        self.trendings.get(id).and_then(|c| c.snapshot.as_deref())
    }

    /// The co-counts in force at the last synced time.
    pub fn covisit(&self, id: usize) -> Option<&CovisitCounts> {
        self.covisits.get(id).and_then(|c| c.snapshot.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn plan() -> Arc<Plan> {
        let program = "input key user_id\n\
            event VIEW { user_id: string, product_id: string }\n\
            session s gap 1m items product_id last 5\n\
            covisit cv from s refresh 10s\n\
            trending hot of VIEW by product_id over 20s every 10s top 3\n";
        let compiled = nudge_compiler::compile_str("p.nudge", program);
        Arc::new(compiled.plan.expect("valid"))
    }

    fn view(user: &str, product: &str, ts: i64) -> Event {
        Event {
            ty: nudge_compiler::plan::TypeId(0),
            ts,
            source: Arc::from("in"),
            offset: 0,
            input: 0,
            values: vec![Value::str(user), Value::str(product)].into(),
        }
    }

    #[test]
    fn snapshots_are_read_by_time_and_pruned_behind_every_reader() {
        let plan = plan();
        let mut g = Global::new(plan.clone());
        let mut reader = GlobalReader::new(g.published().clone());
        g.push(&view("u1", "a", 1_000));
        g.push(&view("u1", "b", 2_000));
        g.push(&view("u2", "a", 15_000));
        g.advance_to(45_000);
        // Trending windows end at 10 s, 20 s, 30 s (20 s: a, b, a), 40 s (a); covisit
        // published once, at 10 s.
        reader.sync(9_999);
        assert!(reader.trending(0).is_none() && reader.covisit(0).is_none());
        reader.sync(20_000);
        assert_eq!(
            reader.trending(0).unwrap().score(&Value::str("a")),
            Value::Int(2)
        );
        assert_eq!(
            reader
                .covisit(0)
                .unwrap()
                .count(&Value::str("a"), &Value::str("b")),
            1
        );
        reader.sync(40_000);
        assert_eq!(
            reader.trending(0).unwrap().score(&Value::str("b")),
            Value::Int(0)
        );
        assert_eq!(g.published().snapshots(), 5);
        g.published().prune(40_000);
        assert_eq!(g.published().snapshots(), 2);
        // The sessions end at their gap.
        assert_eq!(g.covisits[0].sessions(), 2);
        g.advance_to(75_000);
        assert_eq!(g.covisits[0].sessions(), 0);
    }

    #[test]
    fn timeline_finds_the_latest_at_or_before() {
        let mut tl = Timeline::default();
        tl.publish(60, Arc::new("a"));
        tl.publish(180, Arc::new("b"));
        assert!(tl.at(59).0.is_none());
        assert_eq!(tl.at(59).1, Some(60));
        assert_eq!(*tl.at(60).0.unwrap().1, "a");
        assert_eq!(*tl.at(179).0.unwrap().1, "a");
        assert_eq!(tl.at(179).1, Some(180));
        assert_eq!(*tl.at(180).0.unwrap().1, "b");
        tl.prune(179);
        assert_eq!(tl.len(), 2);
        tl.prune(180);
        assert_eq!(tl.len(), 1);
        assert_eq!(*tl.at(500).0.unwrap().1, "b");
    }
}
