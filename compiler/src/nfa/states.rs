//! Flattens a pattern's NFA graph into the runtime's state table, one [`StatePlan`] per
//! positive step (the index is the [`StepId`]).

use super::graph::{self, Deadline, Edge, Nfa};
use crate::plan::{PatternPlan, Plan, StatePlan, StepId};

/// The state table of a pattern, built from its NFA graph.
///
/// For step `i` (LANGUAGE.md §4.1): `advance` is `i+1` and the steps after it while the
/// ones passed by are optional, nearest first; `guards` are the negations standing
/// between `i` and an advance target, plus the trailing ones when `accepting` (every
/// later step optional); `strict` when every advance target is `then next`; the
/// deadlines are the step's own `within` (under its minimum) and the nearest required
/// step's `within` (at its minimum).
pub fn lower(pattern: &PatternPlan) -> Vec<StatePlan> {
    flatten(pattern, &graph::build(pattern))
}

/// Fills `states` of every pattern of the plan.
pub fn lower_plan(plan: &mut Plan) {
    for pattern in &mut plan.patterns {
        pattern.states = lower(pattern);
    }
}

/// Reads the state table off a built graph.
pub fn flatten(pattern: &PatternPlan, nfa: &Nfa) -> Vec<StatePlan> {
    (0..pattern.steps.len())
        .map(|i| {
            let step = StepId(i as u32);
            let out = nfa.out_edges(nfa.steps[i]);
            let mut advance: Vec<StepId> = out
                .iter()
                .filter_map(|(e, _)| match e {
                    Edge::Proceed { step } => Some(*step),
                    _ => None,
                })
                .collect();
            advance.sort();
            let mut guards: Vec<u32> = out
                .iter()
                .filter_map(|(e, _)| match e {
                    Edge::Kill { guard } => *guard,
                    _ => None,
                })
                .collect();
            guards.sort();
            let accepting = nfa.accepting(nfa.steps[i]);
            let strict =
                !advance.is_empty() && advance.iter().all(|a| pattern.steps[a.index()].strict);
            let deadlines = nfa.deadlines(step);
            StatePlan {
                step,
                advance,
                guards,
                accepting,
                strict,
                deadline_below_min: deadlines.iter().find_map(|d| match d {
                    Deadline::BelowMin(ms) => Some(*ms),
                    _ => None,
                }),
                deadline_at_min: deadlines.iter().find_map(|d| match d {
                    Deadline::AtMin { ms, .. } => Some(*ms),
                    _ => None,
                }),
            }
        })
        .collect()
}
