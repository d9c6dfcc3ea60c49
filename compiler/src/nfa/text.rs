//! `nudge compile --format text`: each pattern's NFA as an indented listing of states,
//! their edges and deadlines.

use super::expr_fmt::{name, quote, ExprFmt};
use super::graph::{self, Node};
use super::{labels, reach};
use crate::plan::{PatternPlan, Plan};
use std::fmt::Write;

/// Every pattern's NFA, one block per pattern, blank lines between.
///
/// ```text
/// pattern cart_abandonment  (per user_id, cooldown 24h, after match skip)
///   start
///     take     ADD_TO_CART → s0
///   s0  ADD_TO_CART as cart  [accepting]
///     ignore   other events → s0
///     kill     not PURCHASE within 15m → dead
///     proceed  complete at last + 15m → accept
///     deadline completes at last + 15m
///   ...
/// ```
pub fn to_text(plan: &Plan) -> String {
    let blocks: Vec<String> = plan.patterns.iter().map(|p| pattern(plan, p)).collect();
    blocks.join("\n")
}

fn pattern(plan: &Plan, p: &PatternPlan) -> String {
    let nfa = graph::build(p);
    let never = reach::never_match(p, &nfa);
    let mut out = String::new();
    let _ = writeln!(out, "pattern {}  ({})", p.name, labels::settings(plan, p));
    for n in labels::states_in_order(&nfa) {
        let head = match &nfa.graph[n] {
            Node::Step { step, .. } => {
                let mut flags = Vec::new();
                if reach::completes_at_min(&nfa, n) {
                    flags.push("completes at its minimum");
                } else if nfa.accepting(n) {
                    flags.push("accepting");
                }
                if never.contains(step) {
                    flags.push("never matches");
                }
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", flags.join(", "))
                };
                format!("s{}  {}{flags}", step.0, labels::step(plan, p, *step))
            }
            _ => labels::state_name(&nfa, n),
        };
        let _ = writeln!(out, "  {head}");
        for (e, to) in nfa.out_edges(n) {
            let label = labels::edge(plan, p, &nfa, n, &e);
            let never = if reach::is_live(p, &nfa, n, &e) {
                ""
            } else {
                "  (never: the run completes first)"
            };
            let to = labels::state_name(&nfa, to);
            let _ = writeln!(out, "    {:<8} {label} → {to}{never}", e.kind());
        }
        if let Some(step) = nfa.step_of(n) {
            for d in nfa.deadlines(step) {
                if let Some(d) = labels::deadline(p, step, d) {
                    let _ = writeln!(out, "    deadline {d}");
                }
            }
        }
    }
    let into = match &p.emit.into {
        Some(into) => format!(" into {}", quote(into)),
        None => String::new(),
    };
    let _ = writeln!(out, "  emit{into} {{");
    let fmt = ExprFmt { plan, pattern: p };
    for (field, e) in &p.emit.fields {
        let _ = writeln!(out, "    {}: {},", name(field), fmt.expr(e));
    }
    let _ = writeln!(out, "  }}");
    out
}
