//! NFA lowering: each pattern's chain of steps becomes a petgraph NFA, which is checked,
//! exported (text, dot, mermaid, json) and flattened into the runtime's state table.
//!
//! `PatternPlan` (steps, negations) → [`graph::build`] (fragments patched together,
//! Thompson-style) → [`Nfa`] → [`states::flatten`] → `Vec<StatePlan>`. The semantics are
//! LANGUAGE.md §4 and §4.1; `docs/compile-format.md` describes the exports.

pub mod dot;
pub mod expr_fmt;
pub mod graph;
pub mod json;
pub mod labels;
pub mod mermaid;
pub mod reach;
pub mod states;
pub mod text;

#[cfg(test)]
mod tests;

pub use dot::to_dot;
pub use graph::{build, Deadline, Edge, Nfa, Node};
pub use json::to_json;
pub use labels::fmt_duration;
pub use mermaid::to_mermaid;
pub use states::{lower, lower_plan};
pub use text::to_text;

use crate::plan::{PatternPlan, StepId};

/// The steps of a pattern that can never match (warning W003, "this step can never
/// match"), in step order: no run can take an event of them and go on to complete.
/// `A then B?` gives B: the run completes with A.
pub fn never_match(pattern: &PatternPlan) -> Vec<StepId> {
    reach::never_match(pattern, &graph::build(pattern))
}
