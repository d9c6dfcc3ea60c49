//! What expressions read in an engine: the program's static resources and the
//! operators' state as of the evaluation time.
//!
//! [`Env`] is the part an engine owns beside its keyed state: the resources (tables,
//! vectors, models) and the reader of the global operators' snapshots. A [`View`] joins
//! it with one key's keyed operator states at one time t — the candidate event's ts in a
//! `where`, the completion time in `emit` — and is the [`World`] the evaluator sees.

use super::trending::score_value;
use super::{GlobalReader, KeyedOp, KeyedState, ProfileState, Published, SessionState};
use crate::eval::World;
use crate::value::Value;
use nudge_compiler::plan::{
    CovisitId, Plan, ProfileId, SessionAttr, SessionId, TableId, TrendingId, VectorsId,
};
use std::sync::Arc;

/// A keyed operator's state for one key, with the time of its pending timer entry.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyedSlot {
    pub state: KeyedState,
    pub timer: Option<i64>,
}

/// An engine's surroundings: resources and global snapshots.
pub struct Env {
    pub plan: Arc<Plan>,
    pub resources: Arc<dyn World + Send + Sync>,
    pub globals: GlobalReader,
}

impl Env {
    pub fn new(
        plan: Arc<Plan>,
        resources: Arc<dyn World + Send + Sync>,
        published: Arc<Published>,
    ) -> Env {
        Env {
            plan,
            resources,
            globals: GlobalReader::new(published),
        }
    }

    /// Makes the global snapshots in force at `t` current.
    pub fn sync(&mut self, t: i64) {
        self.globals.sync(t);
    }

    /// The world of one key (its keyed `states`, parallel to its group's `ops`) at `t`.
    /// Call [`Env::sync`] with `t` first.
    pub fn view<'a>(
        &'a self,
        ops: &'a [KeyedOp],
        states: &'a [Option<KeyedSlot>],
        t: i64,
    ) -> View<'a> {
        View {
            env: self,
            ops,
            states,
            t,
        }
    }
}

/// The [`World`] of one key at one time.
pub struct View<'a> {
    env: &'a Env,
    ops: &'a [KeyedOp],
    states: &'a [Option<KeyedSlot>],
    t: i64,
}

impl View<'_> {
    fn state(&self, op: KeyedOp) -> Option<&KeyedState> {
        let i = self.ops.iter().position(|o| *o == op)?;
        self.states.get(i)?.as_ref().map(|s| &s.state)
    }
}

impl World for View<'_> {
    fn table_row(&self, table: TableId, key: &Value) -> Value {
        self.env.resources.table_row(table, key)
    }

    fn session(&self, session: SessionId, attr: SessionAttr, _key: &Value) -> Value {
        let plan = &self.env.plan.sessions[session.index()];
        match self.state(KeyedOp::Session(session)) {
            Some(KeyedState::Session(s)) => s.read(plan, attr, self.t),
            _ => SessionState::empty(attr),
        }
    }

    fn trending_items(&self, trending: TrendingId) -> Value {
        match self.env.globals.trending(trending.index()) {
            Some(w) => w.items(),
            None => Value::list(Vec::new()),
        }
    }

    fn trending_score(&self, trending: TrendingId, item: &Value) -> Value {
        match self.env.globals.trending(trending.index()) {
            Some(w) => w.score(item),
            None => {
                let p = &self.env.plan.trendings[trending.index()];
                score_value(0.0, p.of.iter().all(|&(_, w)| w.fract() == 0.0))
            }
        }
    }

    fn profile(&self, profile: ProfileId, feature: u32, _key: &Value) -> Value {
        let plan = &*self.env.plan;
        let p = &plan.profiles[profile.index()];
        match self.state(KeyedOp::Profile(profile)) {
            Some(KeyedState::Profile(s)) => s.read(plan, p, feature as usize, self.t),
            _ => ProfileState::empty(plan, p, feature as usize),
        }
    }

    fn similar(&self, vectors: VectorsId, item: &Value, k: usize) -> Value {
        self.env.resources.similar(vectors, item, k)
    }

    fn recommend(&self, covisit: CovisitId, items: &Value, k: usize) -> Value {
        match self.env.globals.covisit(covisit.index()) {
            Some(c) => c.recommend(items, k),
            None => Value::list(Vec::new()),
        }
    }
}
