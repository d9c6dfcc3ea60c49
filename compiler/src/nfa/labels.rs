//! The words every export shares: durations, step and negation descriptions, edge and
//! deadline labels, state names.

use super::expr_fmt::{name, ExprFmt};
use super::graph::{Deadline, Edge, Nfa, Node};
use crate::plan::{PatternPlan, Plan, StepId, TypeId};
use petgraph::graph::NodeIndex;

/// A duration as the language writes it: `250ms`, `15m`, `1h30m`, `24h`; whole numbers
/// of days from two days up as `7d`; zero as `0s`.
pub fn fmt_duration(ms: u64) -> String {
    const DAY: u64 = 86_400_000;
    if ms == 0 {
        return "0s".to_string();
    }
    let (days, below_a_day) = (ms / DAY, ms % DAY);
    if below_a_day == 0 && days >= 2 {
        return format!("{days}d");
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, suffix) in [(3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")] {
        if rest >= unit {
            out.push_str(&format!("{}{suffix}", rest / unit));
            rest %= unit;
        }
    }
    out
}

/// The words reserved as bare event type names (LANGUAGE.md §1).
const RESERVED_TYPES: &[&str] = &[
    "when", "then", "next", "not", "as", "where", "within", "window", "cooldown", "after", "emit",
    "or",
];

/// An event type name as written (quoted when it is not a plain identifier).
pub fn type_name(plan: &Plan, t: TypeId) -> String {
    let n = &plan.events[t.index()].name;
    if RESERVED_TYPES.contains(&n.as_str()) {
        super::expr_fmt::quote(n)
    } else {
        name(n)
    }
}

/// `A` or `(A or B)`.
pub fn types(plan: &Plan, ts: &[TypeId]) -> String {
    let names: Vec<String> = ts.iter().map(|&t| type_name(plan, t)).collect();
    match names.len() {
        1 => names[0].clone(),
        _ => format!("({})", names.join(" or ")),
    }
}

/// A quantifier as written; empty for a plain single-event step.
pub fn quant(min: u32, max: Option<u32>, group: bool) -> String {
    match (min, max) {
        (1, Some(1)) if !group => String::new(),
        (1, None) => "+".to_string(),
        (0, None) => "*".to_string(),
        (0, Some(1)) => "?".to_string(),
        (n, None) => format!("{{{n},}}"),
        (n, Some(m)) if n == m => format!("{{{n}}}"),
        (n, Some(m)) => format!("{{{n},{m}}}"),
    }
}

/// The step as written: `next (A or B){2,} as x where ... within 15m`.
pub fn step(plan: &Plan, p: &PatternPlan, i: StepId) -> String {
    let s = &p.steps[i.index()];
    let binding = s.binding.map(|b| &p.bindings[b.index()]);
    let group = binding.is_some_and(|b| b.group);
    let mut out = String::new();
    if s.strict {
        out.push_str("next ");
    }
    out.push_str(&types(plan, &s.types));
    out.push_str(&quant(s.min, s.max, group));
    if let Some(b) = binding {
        out.push_str(&format!(" as {}", b.name));
    }
    out.push_str(&test_suffix(plan, p, s.cond.as_ref(), s.within_ms));
    out
}

/// The event test of a step (types, `where`, `within`), as edge labels show it.
fn step_test(plan: &Plan, p: &PatternPlan, i: StepId) -> String {
    let s = &p.steps[i.index()];
    types(plan, &s.types) + &test_suffix(plan, p, s.cond.as_ref(), s.within_ms)
}

fn test_suffix(
    plan: &Plan,
    p: &PatternPlan,
    cond: Option<&crate::plan::Expr>,
    within: Option<u64>,
) -> String {
    let mut out = String::new();
    if let Some(e) = cond {
        out.push_str(" where ");
        out.push_str(&ExprFmt { plan, pattern: p }.expr(e));
    }
    if let Some(ms) = within {
        out.push_str(&format!(" within {}", fmt_duration(ms)));
    }
    out
}

/// The negation as written: `not PURCHASE where total > 0`.
pub fn guard(plan: &Plan, p: &PatternPlan, g: u32) -> String {
    let guard = &p.guards[g as usize];
    let mut out = format!("not {}", types(plan, &guard.types));
    out.push_str(&test_suffix(plan, p, guard.cond.as_ref(), None));
    if guard.before.index() == p.steps.len() {
        if let Some(ms) = p.trailing.as_ref().and_then(|t| t.within_ms) {
            out.push_str(&format!(" within {}", fmt_duration(ms)));
        }
    }
    out
}

/// A state's short name: `start`, `s0`, `s1`, ..., `accept`, `dead`.
pub fn state_name(nfa: &Nfa, n: NodeIndex) -> String {
    match &nfa.graph[n] {
        Node::Start => "start".to_string(),
        Node::Step { step, .. } => format!("s{}", step.0),
        Node::Accept => "accept".to_string(),
        Node::Dead => "dead".to_string(),
    }
}

/// The states in export order: start, the steps, accept, dead.
pub fn states_in_order(nfa: &Nfa) -> Vec<NodeIndex> {
    let mut out = vec![nfa.start];
    out.extend(&nfa.steps);
    out.push(nfa.accept);
    out.extend(nfa.dead);
    out
}

/// What an edge of `source` does, in a few words.
pub fn edge(plan: &Plan, p: &PatternPlan, nfa: &Nfa, source: NodeIndex, e: &Edge) -> String {
    let src_min = nfa.step_of(source).map_or(0, |s| p.steps[s.index()].min);
    let at_min = |s: String| match src_min {
        0 | 1 => s,
        m => format!("{s}, c >= {m}"),
    };
    match *e {
        Edge::Take { step } if nfa.step_of(source) == Some(step) => {
            let mut s = step_test(plan, p, step);
            if let Some(m) = p.steps[step.index()].max {
                s.push_str(&format!(", c < {m}"));
            }
            s
        }
        Edge::Take { step } => step_test(plan, p, step),
        Edge::Proceed { step } => at_min(step_test(plan, p, step)),
        Edge::Complete { timed: false } => at_min("complete".to_string()),
        Edge::Complete { timed: true } => {
            at_min(match p.trailing.as_ref().and_then(|t| t.within_ms) {
                Some(ms) => format!("complete at last + {}", fmt_duration(ms)),
                None => "complete at window end".to_string(),
            })
        }
        Edge::Ignore { below_min: false } => "other events".to_string(),
        Edge::Ignore { below_min: true } => format!("other events, c < {src_min}"),
        Edge::Kill { guard: Some(g) } => at_min(guard(plan, p, g)),
        Edge::Kill { guard: None } => at_min("any other event".to_string()),
    }
}

/// A deadline in words; `None` when it never applies (a minimum of one is reached on
/// entering the state, so "under the minimum" never happens there).
pub fn deadline(p: &PatternPlan, step: StepId, d: &Deadline) -> Option<String> {
    let min = p.steps[step.index()].min;
    Some(match *d {
        Deadline::BelowMin(_) if min <= 1 => return None,
        Deadline::BelowMin(ms) => format!("dies at prev + {} while c < {min}", fmt_duration(ms)),
        Deadline::AtMin { ms, step } => {
            format!(
                "dies at last + {} (within of s{})",
                fmt_duration(ms),
                step.0
            )
        }
        Deadline::Window(ms) => format!("dies at first + {} (window)", fmt_duration(ms)),
        Deadline::Completes(Some(ms)) => format!("completes at last + {}", fmt_duration(ms)),
        Deadline::Completes(None) => match p.window_ms {
            Some(ms) => format!("completes at first + {} (window end)", fmt_duration(ms)),
            None => "completes at the window's end".to_string(),
        },
    })
}

/// The pattern's settings: `per user_id, window 1h, cooldown 24h, after match skip`.
pub fn settings(plan: &Plan, p: &PatternPlan) -> String {
    let mut parts = vec![format!("per {}", name(&plan.fields[p.key.index()]))];
    if let Some(ms) = p.window_ms {
        parts.push(format!("window {}", fmt_duration(ms)));
    }
    if let Some(ms) = p.cooldown_ms {
        parts.push(format!("cooldown {}", fmt_duration(ms)));
    }
    parts.push(
        if p.keep_all {
            "after match keep all"
        } else {
            "after match skip"
        }
        .to_string(),
    );
    parts.join(", ")
}
