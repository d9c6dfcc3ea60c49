//! `session` (LANGUAGE.md §7): per key, a maximal run of its events with gaps `< gap`,
//! remembering the last n distinct values of its `items` field, most recent first.
//!
//! The engine keeps one [`SessionState`] per key in that key's state: an event updates
//! it before the key's patterns see the event, and the gap timer (at last event + gap)
//! frees it. The global stage keeps its own sessions for each `covisit` that learns
//! from one ([`super::Covisit`]), with the same [`SessionState::add`].

use super::{Cx, Operator};
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::{SessionAttr, SessionPlan};

/// One key's current session. `Default` is "no session" (nothing seen yet).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionState {
    /// Distinct item values, most recent first (at most the plan's `last`).
    items: Vec<Value>,
    /// Events of the session.
    count: u64,
    /// Ts of its first event.
    start: i64,
    /// Ts of its last event.
    last_ts: i64,
}

impl SessionState {
    /// The time the session ends: its last event + `gap` (none before its first event).
    pub fn end(&self, plan: &SessionPlan) -> Option<i64> {
        (self.count > 0).then(|| self.last_ts.saturating_add(gap(plan)))
    }

    /// Whether the session is empty at time `t`: never started, or ended at or before
    /// `t` (an event at exactly last + gap starts a new session).
    pub fn is_over(&self, plan: &SessionPlan, t: i64) -> bool {
        self.end(plan).is_none_or(|end| t >= end)
    }

    /// Adds one event of the session at `ts` whose `items` field is `item` (a session
    /// that is over starts anew). Returns true when `item` is a new distinct value of
    /// the list: it is then `items()[0]`, and the oldest value beyond `last` is gone.
    /// A value already in the list moves to the front; a null item adds no value.
    pub fn add(&mut self, plan: &SessionPlan, ts: i64, item: &Value) -> bool {
        if self.is_over(plan, ts) {
            self.items.clear();
            self.count = 0;
            self.start = ts;
        }
        self.count += 1;
        self.last_ts = ts;
        if item.is_null() {
            return false;
        }
        match self.items.iter().position(|v| v == item) {
            Some(i) => {
                self.items[..=i].rotate_right(1);
                false
            }
            None => {
                self.items.insert(0, item.clone());
                self.items.truncate(plan.last.max(1) as usize);
                true
            }
        }
    }

    /// The distinct item values, most recent first.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// `browsing.items` / `.count` / `.start` at time `t`; after the gap the session is
    /// empty: `[]`, `0`, `null`.
    pub fn read(&self, plan: &SessionPlan, attr: SessionAttr, t: i64) -> Value {
        if self.is_over(plan, t) {
            return SessionState::empty(attr);
        }
        match attr {
            SessionAttr::Items => Value::list(self.items.clone()),
            SessionAttr::Count => Value::Int(self.count.min(i64::MAX as u64) as i64),
            SessionAttr::Start => Value::Int(self.start),
        }
    }

    /// What a key without a session reads.
    pub fn empty(attr: SessionAttr) -> Value {
        match attr {
            SessionAttr::Items => Value::list(Vec::new()),
            SessionAttr::Count => Value::Int(0),
            SessionAttr::Start => Value::Null,
        }
    }
}

fn gap(plan: &SessionPlan) -> i64 {
    plan.gap_ms.min(i64::MAX as u64) as i64
}

impl Operator for SessionState {
    fn on_event(&mut self, cx: Cx<'_>, event: &Event) {
        let plan = &cx.plan.sessions[cx.id];
        self.add(plan, event.ts, event.field(cx.plan, plan.items));
    }

    /// The session ends at its gap; then it holds nothing.
    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        !self.is_over(&cx.plan.sessions[cx.id], t)
    }

    fn next_due(&self, cx: Cx<'_>) -> Option<i64> {
        self.end(&cx.plan.sessions[cx.id])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nudge_compiler::plan::{FieldId, SessionPlan};

    fn plan(last: u32) -> SessionPlan {
        SessionPlan {
            name: "s".into(),
            key: FieldId(0),
            of: vec![],
            gap_ms: 100,
            items: FieldId(1),
            last,
        }
    }

    fn ids(s: &SessionState) -> Vec<&str> {
        s.items().iter().map(|v| v.as_str().unwrap()).collect()
    }

    #[test]
    fn distinct_items_most_recent_first_capped() {
        let p = plan(3);
        let mut s = SessionState::default();
        for (ts, item) in [(0, "a"), (1, "b"), (2, "c"), (3, "d")] {
            assert!(s.add(&p, ts, &Value::str(item)));
        }
        assert_eq!(ids(&s), ["d", "c", "b"]);
        // Re-viewing moves to the front and is not a new item.
        assert!(!s.add(&p, 4, &Value::str("b")));
        assert_eq!(ids(&s), ["b", "d", "c"]);
        // An evicted value comes back as new.
        assert!(s.add(&p, 5, &Value::str("a")));
        assert_eq!(ids(&s), ["a", "b", "d"]);
        // A null item counts the event but adds nothing.
        assert!(!s.add(&p, 6, &Value::Null));
        assert_eq!(s.read(&p, SessionAttr::Count, 6), Value::Int(7));
    }

    #[test]
    fn the_gap_is_half_open() {
        let p = plan(5);
        let mut s = SessionState::default();
        s.add(&p, 0, &Value::str("a"));
        s.add(&p, 99, &Value::str("b"));
        assert_eq!(s.read(&p, SessionAttr::Start, 198), Value::Int(0));
        assert_eq!(s.read(&p, SessionAttr::Start, 199), Value::Null);
        assert!(s.add(&p, 199, &Value::str("a")));
        assert_eq!(ids(&s), ["a"]);
        assert_eq!(s.read(&p, SessionAttr::Start, 199), Value::Int(199));
        assert_eq!(s.read(&p, SessionAttr::Count, 199), Value::Int(1));
    }
}
