//! Behaviour operators (LANGUAGE.md §7, §8): `session`, `covisit`, `trending`, `profile`.
//!
//! Every operator is one small [`Operator`]: it requires [`Operator::on_event`] and may
//! use the watermark, timer and checkpoint hooks. Two kinds live in two places:
//!
//! - **Keyed** operators ([`SessionState`], [`ProfileState`]) keep one state per key of
//!   their key field, inside the engine's per-key state ([`KeyedState`]). The engine
//!   updates them with an event *before* the key's patterns see it, and fires their
//!   timers (session gaps, profile expiry) before pattern timers of the same instant.
//! - **Global** operators ([`Trending`], [`Covisit`]) see every event, in the runner's
//!   release order, in one [`Global`] stage in front of the shards. At each boundary of
//!   their period they publish an immutable snapshot; engines read the snapshot for their
//!   own event or timer time through a [`GlobalReader`], so results never depend on the
//!   number of shards.
//!
//! Expressions read both through a [`View`]: the program's static resources (tables,
//! vectors, models) plus the operators' state as of the evaluation time.

mod covisit;
mod global;
mod profile;
mod session;
mod trending;
mod view;

pub use covisit::{Covisit, CovisitCounts};
pub use global::{Global, GlobalReader, Published};
pub use profile::ProfileState;
pub use session::SessionState;
pub use trending::{Trending, TrendingWindow};
pub use view::{Env, KeyedSlot, View};

use crate::eval::compare;
use crate::event::Event;
use crate::value::Value;
use nudge_compiler::plan::{Expr, FieldId, Plan, ProfileId, SessionId, TypeId};
use std::cmp::Ordering;

/// What an operator is told besides the event: the plan and its own index in the plan's
/// list of its kind (`plan.sessions[id]`, `plan.trendings[id]`, ...).
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub plan: &'a Plan,
    pub id: usize,
}

/// One operator: events in, state updated; everything else is optional.
///
/// ```
/// use nudge_compiler::plan::TypeId;
/// use nudge_runtime::event::Event;
/// use nudge_runtime::operators::{Cx, Operator, SessionState};
/// use nudge_runtime::value::Value;
/// use std::sync::Arc;
///
/// let program = "input key user_id\n\
///                event VIEW { user_id: string, product_id: string }\n\
///                session browsing gap 30m items product_id last 20\n";
/// let plan = nudge_compiler::compile_str("p.nudge", program).plan.expect("valid");
/// let view = |ts: i64, product: &str| Event {
///     ty: TypeId(0),
///     ts,
///     source: Arc::from("in"),
///     offset: 0,
///     input: 0,
///     values: vec![Value::str("u1"), Value::str(product)].into(),
/// };
/// let cx = Cx { plan: &plan, id: 0 };
/// let mut session = SessionState::default();
/// session.on_event(cx, &view(0, "p1")); // the one required method
/// session.on_event(cx, &view(60_000, "p2"));
/// assert_eq!(session.items(), &[Value::str("p2"), Value::str("p1")]);
/// // Optional hooks: the session asks for a timer at its gap, and is empty then.
/// assert_eq!(session.next_due(cx), Some(60_000 + 30 * 60_000));
/// assert!(!session.on_watermark(cx, 60_000 + 30 * 60_000));
/// ```
pub trait Operator {
    /// Applies one event: one of its key's (keyed operators) or any event of the program
    /// (global operators), in processing order (ts, then arrival).
    fn on_event(&mut self, cx: Cx<'_>, event: &Event);

    /// Event time reached `t` (a timer due or the watermark): does what is due at or
    /// before `t`. Returns whether the state still holds anything; a keyed state that
    /// returns false is freed. Default: nothing is ever due.
    fn on_watermark(&mut self, _cx: Cx<'_>, _t: i64) -> bool {
        true
    }

    /// The earliest time [`Operator::on_watermark`] has something to do. Default: never.
    fn next_due(&self, _cx: Cx<'_>) -> Option<i64> {
        None
    }

    /// The state as bytes for a checkpoint. Default: none (checkpoints are planned; an
    /// operator without one starts empty after a restore).
    fn checkpoint(&self, _cx: Cx<'_>) -> Option<Vec<u8>> {
        None
    }
}

/// A keyed operator of a key group: which declaration it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyedOp {
    Session(SessionId),
    Profile(ProfileId),
}

impl KeyedOp {
    /// The keyed operators the engine keeps for key field `field`: sessions, then
    /// profiles, in program order. Only those a pattern reads (and profiles with a
    /// `sink`, which must stay current): a session that only a covisit learns from
    /// lives in the global stage alone.
    pub fn keyed_on(plan: &Plan, field: FieldId) -> Vec<KeyedOp> {
        let mut read = Vec::new();
        for p in &plan.patterns {
            let conds = p.steps.iter().filter_map(|s| s.cond.as_ref());
            let guards = p.guards.iter().filter_map(|g| g.cond.as_ref());
            let emits = p.emit.fields.iter().map(|(_, e)| e);
            for e in conds.chain(guards).chain(emits) {
                e.walk(&mut |e| match e {
                    Expr::Session(id, _) => read.push(KeyedOp::Session(*id)),
                    Expr::Profile(id, _) => read.push(KeyedOp::Profile(*id)),
                    _ => {}
                });
            }
        }
        let sessions = plan.sessions.iter().enumerate();
        let profiles = plan.profiles.iter().enumerate();
        sessions
            .filter(|(_, s)| s.key == field)
            .map(|(i, _)| KeyedOp::Session(SessionId(i as u32)))
            .chain(
                profiles
                    .filter(|(_, p)| p.key == field)
                    .map(|(i, _)| KeyedOp::Profile(ProfileId(i as u32))),
            )
            .filter(|op| {
                read.contains(op)
                    || matches!(op, KeyedOp::Profile(p) if plan.profiles[p.index()].sink_redis.is_some())
            })
            .collect()
    }

    /// Whether events of type `ty` update this operator.
    pub fn wants(self, plan: &Plan, ty: TypeId) -> bool {
        match self {
            KeyedOp::Session(s) => plan.sessions[s.index()].of.contains(&ty),
            KeyedOp::Profile(p) => plan.profiles[p.index()]
                .features
                .iter()
                .any(|f| f.of.is_none_or(|t| t == ty)),
        }
    }

    /// The context its state is called with.
    pub fn cx(self, plan: &Plan) -> Cx<'_> {
        let id = match self {
            KeyedOp::Session(s) => s.index(),
            KeyedOp::Profile(p) => p.index(),
        };
        Cx { plan, id }
    }

    /// A fresh state for a key (before its first event).
    pub fn start(self, plan: &Plan) -> KeyedState {
        match self {
            KeyedOp::Session(_) => KeyedState::Session(SessionState::default()),
            KeyedOp::Profile(p) => {
                KeyedState::Profile(ProfileState::new(&plan.profiles[p.index()]))
            }
        }
    }
}

/// One key's state of one keyed operator.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum KeyedState {
    Session(SessionState),
    Profile(ProfileState),
}

impl Operator for KeyedState {
    fn on_event(&mut self, cx: Cx<'_>, event: &Event) {
        match self {
            KeyedState::Session(s) => s.on_event(cx, event),
            KeyedState::Profile(p) => p.on_event(cx, event),
        }
    }

    fn on_watermark(&mut self, cx: Cx<'_>, t: i64) -> bool {
        match self {
            KeyedState::Session(s) => s.on_watermark(cx, t),
            KeyedState::Profile(p) => p.on_watermark(cx, t),
        }
    }

    fn next_due(&self, cx: Cx<'_>) -> Option<i64> {
        match self {
            KeyedState::Session(s) => s.next_due(cx),
            KeyedState::Profile(p) => p.next_due(cx),
        }
    }
}

/// The order of item ids in operator results ("then id ascending"): numbers by value,
/// strings by their bytes; values of different kinds by kind (null, bool, number,
/// string, other).
pub fn id_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            _ => 4,
        }
    }
    match compare(a, b) {
        Some(o) => o,
        None => rank(a).cmp(&rank(b)),
    }
}

/// `a` before `b` in a ranked list: higher score first, then lower id.
pub fn ranked<S: PartialOrd>(a: &(Value, S), b: &(Value, S)) -> Ordering {
    b.1.partial_cmp(&a.1)
        .unwrap_or(Ordering::Equal)
        .then_with(|| id_order(&a.0, &b.0))
}

/// Keeps the first `k` of `items` in `order`, sorted (a selection, then a sort of k).
pub fn top_k<T>(items: &mut Vec<T>, k: usize, mut order: impl FnMut(&T, &T) -> Ordering) {
    if k == 0 {
        items.clear();
        return;
    }
    if items.len() > k {
        items.select_nth_unstable_by(k - 1, &mut order);
        items.truncate(k);
    }
    items.sort_unstable_by(order);
}
