//! Which edges a run can ever use, and which steps can never match (warning W003).
//!
//! A run that completes as soon as its step has its minimum (an accepting state with no
//! trailing negation) never waits in that state at its minimum, so the edges it would use
//! there are never taken: `A then B?` completes with A, and B can never take an event.

use super::graph::{Edge, Nfa, Node};
use crate::plan::{PatternPlan, StepId};
use petgraph::graph::{EdgeReference, NodeIndex};
use petgraph::visit::{Dfs, EdgeFiltered, EdgeRef, Reversed, Walker};

/// Whether a run waiting in `node` completes the moment the step has its minimum.
pub fn completes_at_min(nfa: &Nfa, node: NodeIndex) -> bool {
    nfa.out_edges(node)
        .iter()
        .any(|(e, _)| *e == Edge::Complete { timed: false })
}

/// Whether a run can ever use this edge of `source`. Edges of an immediately completing
/// state are live only while it is under its minimum (its `take` loop when min ≥ 2, its
/// below-minimum `ignore`) or when they complete the run.
pub fn is_live(p: &PatternPlan, nfa: &Nfa, source: NodeIndex, edge: &Edge) -> bool {
    if !completes_at_min(nfa, source) {
        return true;
    }
    match edge {
        Edge::Complete { .. } | Edge::Ignore { below_min: true } => true,
        Edge::Take { step } => p.steps[step.index()].min > 1,
        _ => false,
    }
}

/// The steps no run can ever take an event of and complete: not reachable from the start
/// state along live edges, or with no live path on to the accept state. In step order.
pub fn never_match(p: &PatternPlan, nfa: &Nfa) -> Vec<StepId> {
    let live = |e: EdgeReference<'_, Edge>| {
        matches!(
            e.weight(),
            Edge::Take { .. } | Edge::Proceed { .. } | Edge::Complete { .. }
        ) && is_live(p, nfa, e.source(), e.weight())
    };
    let g = EdgeFiltered::from_fn(&nfa.graph, live);
    let forward: Vec<NodeIndex> = Dfs::new(&g, nfa.start).iter(&g).collect();
    let back = Reversed(&g);
    let backward: Vec<NodeIndex> = Dfs::new(back, nfa.accept).iter(back).collect();
    nfa.steps
        .iter()
        .filter(|n| !forward.contains(n) || !backward.contains(n))
        .map(|&n| match nfa.graph[n] {
            Node::Step { step, .. } => step,
            _ => unreachable!("steps holds step states"),
        })
        .collect()
}
