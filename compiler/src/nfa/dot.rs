//! `nudge compile --format dot`: every pattern's NFA as one Graphviz `digraph`, a
//! `cluster_<pattern>` subgraph per pattern (render with `dot -Tsvg`).

use super::graph::{self, Edge, Node};
use super::{labels, reach};
use crate::plan::{PatternPlan, Plan};
use std::fmt::Write;

/// The Graphviz document.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::from("digraph nudge {\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  graph [fontname=\"Helvetica\"];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (i, p) in plan.patterns.iter().enumerate() {
        pattern(&mut out, plan, i, p);
    }
    out.push_str("}\n");
    out
}

fn pattern(out: &mut String, plan: &Plan, index: usize, p: &PatternPlan) {
    let nfa = graph::build(p);
    let never = reach::never_match(p, &nfa);
    let id = |n| quoted(&format!("p{index}.{}", labels::state_name(&nfa, n)));
    let _ = writeln!(
        out,
        "  subgraph {} {{",
        quoted(&format!("cluster_{}", p.name))
    );
    let title = format!("pattern {} ({})", p.name, labels::settings(plan, p));
    let _ = writeln!(out, "    label={};", quoted(&title));
    for n in labels::states_in_order(&nfa) {
        let (label, attrs) = match &nfa.graph[n] {
            Node::Start => ("start".to_string(), "shape=circle"),
            Node::Accept => ("accept".to_string(), "shape=doublecircle"),
            Node::Dead => ("dead".to_string(), "shape=octagon, color=gray40"),
            Node::Step { step, deadlines } => {
                let mut lines = vec![format!("s{}", step.0), labels::step(plan, p, *step)];
                lines.extend(
                    deadlines
                        .iter()
                        .filter_map(|d| labels::deadline(p, *step, d)),
                );
                if never.contains(step) {
                    lines.push("never matches".to_string());
                }
                let attrs = if nfa.accepting(n) {
                    "shape=box, style=\"rounded,bold\""
                } else {
                    "shape=box, style=rounded"
                };
                (lines.join("\n"), attrs)
            }
        };
        let _ = writeln!(out, "    {} [label={}, {attrs}];", id(n), quoted(&label));
    }
    for n in labels::states_in_order(&nfa) {
        for (e, to) in nfa.out_edges(n) {
            let label = format!("{}: {}", e.kind(), labels::edge(plan, p, &nfa, n, &e));
            let mut style = match e {
                Edge::Kill { .. } => ", color=red3, fontcolor=red3",
                Edge::Ignore { .. } => ", color=gray50, fontcolor=gray40",
                _ => "",
            }
            .to_string();
            if !reach::is_live(p, &nfa, n, &e) {
                style.push_str(", style=dashed");
            }
            let _ = writeln!(
                out,
                "    {} -> {} [label={}{style}];",
                id(n),
                id(to),
                quoted(&label)
            );
        }
    }
    out.push_str("  }\n");
}

/// A double-quoted dot string; newlines become centred line breaks.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
