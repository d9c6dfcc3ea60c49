//! `nudge compile --format json`: every pattern's NFA with names resolved, in the stable
//! format documented in `docs/compile-format.md`.

use super::expr_fmt::ExprFmt;
use super::graph::{self, Deadline, Edge, Nfa, Node};
use super::{labels, reach, states};
use crate::plan::{PatternPlan, Plan, StepId};
use petgraph::graph::NodeIndex;
use serde::Serialize;

/// The version of the json format; bumped on any change that is not an added key.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc {
    format: &'static str,
    version: u32,
    patterns: Vec<PatternJson>,
}

#[derive(Serialize)]
struct PatternJson {
    name: String,
    key: String,
    window_ms: Option<u64>,
    cooldown_ms: Option<u64>,
    after_match: &'static str,
    guards: Vec<GuardJson>,
    states: Vec<StateJson>,
    edges: Vec<EdgeJson>,
    table: Vec<RowJson>,
    emit: EmitJson,
}

#[derive(Serialize)]
struct GuardJson {
    id: u32,
    text: String,
    types: Vec<String>,
    #[serde(rename = "where")]
    cond: Option<String>,
    /// The step it stands before; `null` for a trailing negation.
    before: Option<u32>,
    within_ms: Option<u64>,
}

#[derive(Serialize)]
struct StateJson {
    id: String,
    kind: &'static str,
    #[serde(flatten)]
    step: Option<StepJson>,
}

#[derive(Serialize)]
struct StepJson {
    step: u32,
    text: String,
    types: Vec<String>,
    min: u32,
    max: Option<u32>,
    next: bool,
    binding: Option<String>,
    group: bool,
    #[serde(rename = "where")]
    cond: Option<String>,
    within_ms: Option<u64>,
    accepting: bool,
    completes_at_min: bool,
    never_matches: bool,
    deadlines: Vec<DeadlineJson>,
}

#[derive(Serialize)]
struct DeadlineJson {
    kind: &'static str,
    /// The time the deadline counts from: `prev`, `last` or `first`.
    from: &'static str,
    ms: Option<u64>,
    step: Option<u32>,
}

#[derive(Serialize)]
struct EdgeJson {
    from: String,
    to: String,
    kind: &'static str,
    label: String,
    guard: Option<u32>,
    live: bool,
}

#[derive(Serialize)]
struct RowJson {
    step: u32,
    advance: Vec<u32>,
    guards: Vec<u32>,
    accepting: bool,
    strict: bool,
    deadline_below_min_ms: Option<u64>,
    deadline_at_min_ms: Option<u64>,
}

#[derive(Serialize)]
struct EmitJson {
    into: Option<String>,
    fields: Vec<FieldJson>,
}

#[derive(Serialize)]
struct FieldJson {
    name: String,
    expr: String,
}

/// The json document, pretty-printed, keys in a fixed order.
pub fn to_json(plan: &Plan) -> String {
    let doc = Doc {
        format: "nudge-nfa",
        version: FORMAT_VERSION,
        patterns: plan.patterns.iter().map(|p| pattern(plan, p)).collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain structs serialize");
    s.push('\n');
    s
}

fn pattern(plan: &Plan, p: &PatternPlan) -> PatternJson {
    let nfa = graph::build(p);
    let fmt = ExprFmt { plan, pattern: p };
    let type_names = |ts: &[crate::plan::TypeId]| {
        ts.iter()
            .map(|t| plan.events[t.index()].name.clone())
            .collect()
    };
    let trailing_within = p.trailing.as_ref().and_then(|t| t.within_ms);
    let guards = (0..p.guards.len() as u32)
        .map(|g| {
            let guard = &p.guards[g as usize];
            let trailing = guard.before.index() == p.steps.len();
            GuardJson {
                id: g,
                text: labels::guard(plan, p, g),
                types: type_names(&guard.types),
                cond: guard.cond.as_ref().map(|e| fmt.expr(e)),
                before: (!trailing).then_some(guard.before.0),
                within_ms: if trailing { trailing_within } else { None },
            }
        })
        .collect();
    let never = reach::never_match(p, &nfa);
    let nodes = labels::states_in_order(&nfa);
    let states = nodes
        .iter()
        .map(|&n| state(plan, p, &nfa, n, &never))
        .collect();
    let mut edges = Vec::new();
    for &n in &nodes {
        for (e, to) in nfa.out_edges(n) {
            edges.push(EdgeJson {
                from: labels::state_name(&nfa, n),
                to: labels::state_name(&nfa, to),
                kind: e.kind(),
                label: labels::edge(plan, p, &nfa, n, &e),
                guard: match e {
                    Edge::Kill { guard } => guard,
                    _ => None,
                },
                live: reach::is_live(p, &nfa, n, &e),
            });
        }
    }
    let table = states::flatten(p, &nfa)
        .into_iter()
        .map(|s| RowJson {
            step: s.step.0,
            advance: s.advance.iter().map(|a| a.0).collect(),
            guards: s.guards,
            accepting: s.accepting,
            strict: s.strict,
            deadline_below_min_ms: s.deadline_below_min,
            deadline_at_min_ms: s.deadline_at_min,
        })
        .collect();
    PatternJson {
        name: p.name.clone(),
        key: plan.fields[p.key.index()].clone(),
        window_ms: p.window_ms,
        cooldown_ms: p.cooldown_ms,
        after_match: if p.keep_all { "keep_all" } else { "skip" },
        guards,
        states,
        edges,
        table,
        emit: EmitJson {
            into: p.emit.into.clone(),
            fields: (p.emit.fields.iter())
                .map(|(name, e)| FieldJson {
                    name: name.clone(),
                    expr: fmt.expr(e),
                })
                .collect(),
        },
    }
}

fn state(plan: &Plan, p: &PatternPlan, nfa: &Nfa, n: NodeIndex, never: &[StepId]) -> StateJson {
    let (kind, step) = match &nfa.graph[n] {
        Node::Start => ("start", None),
        Node::Accept => ("accept", None),
        Node::Dead => ("dead", None),
        Node::Step { step, deadlines } => {
            let s = &p.steps[step.index()];
            let binding = s.binding.map(|b| &p.bindings[b.index()]);
            let step_json = StepJson {
                step: step.0,
                text: labels::step(plan, p, *step),
                types: s
                    .types
                    .iter()
                    .map(|t| plan.events[t.index()].name.clone())
                    .collect(),
                min: s.min,
                max: s.max,
                next: s.strict,
                binding: binding.map(|b| b.name.clone()),
                group: binding.is_some_and(|b| b.group),
                cond: s
                    .cond
                    .as_ref()
                    .map(|e| ExprFmt { plan, pattern: p }.expr(e)),
                within_ms: s.within_ms,
                accepting: nfa.accepting(n),
                completes_at_min: reach::completes_at_min(nfa, n),
                never_matches: never.contains(step),
                deadlines: deadlines.iter().map(|d| deadline(p, d)).collect(),
            };
            ("step", Some(step_json))
        }
    };
    StateJson {
        id: labels::state_name(nfa, n),
        kind,
        step,
    }
}

fn deadline(p: &PatternPlan, d: &Deadline) -> DeadlineJson {
    let (kind, from, ms, step) = match *d {
        Deadline::BelowMin(ms) => ("below_min", "prev", Some(ms), None),
        Deadline::AtMin { ms, step } => ("at_min", "last", Some(ms), Some(step.0)),
        Deadline::Window(ms) => ("window", "first", Some(ms), None),
        Deadline::Completes(Some(ms)) => ("completes", "last", Some(ms), None),
        Deadline::Completes(None) => ("completes", "first", p.window_ms, None),
    };
    DeadlineJson {
        kind,
        from,
        ms,
        step,
    }
}
