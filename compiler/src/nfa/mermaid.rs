//! `nudge compile --format mermaid`: every pattern's NFA as one Mermaid `flowchart LR`,
//! a subgraph per pattern (paste it into a ```` ```mermaid ```` block of a Markdown file).

use super::graph::{self, Edge, Node};
use super::{labels, reach};
use crate::plan::{PatternPlan, Plan};
use std::fmt::Write;

/// The Mermaid document.
pub fn to_mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut links = Links::default();
    for (i, p) in plan.patterns.iter().enumerate() {
        pattern(&mut out, &mut links, plan, i, p);
    }
    if !links.kills.is_empty() {
        let kills: Vec<String> = links.kills.iter().map(|k| k.to_string()).collect();
        let _ = writeln!(out, "  linkStyle {} stroke:red,color:red", kills.join(","));
    }
    out
}

/// Links are numbered across the document, for `linkStyle`.
#[derive(Default)]
struct Links {
    count: usize,
    kills: Vec<usize>,
}

fn pattern(out: &mut String, links: &mut Links, plan: &Plan, index: usize, p: &PatternPlan) {
    let nfa = graph::build(p);
    let never = reach::never_match(p, &nfa);
    let id = |n| format!("p{index}_{}", labels::state_name(&nfa, n));
    let title = format!("pattern {} ({})", p.name, labels::settings(plan, p));
    let _ = writeln!(out, "  subgraph p{index} [{}]", quoted(&title));
    out.push_str("    direction LR\n");
    for n in labels::states_in_order(&nfa) {
        let node = match &nfa.graph[n] {
            Node::Start => format!("(({}))", quoted("start")),
            Node::Accept => format!("((({})))", quoted("accept")),
            Node::Dead => format!("{{{{{}}}}}", quoted("dead")),
            Node::Step { step, deadlines } => {
                let mut lines = vec![format!("s{}: {}", step.0, labels::step(plan, p, *step))];
                lines.extend(
                    deadlines
                        .iter()
                        .filter_map(|d| labels::deadline(p, *step, d)),
                );
                if never.contains(step) {
                    lines.push("never matches".to_string());
                }
                let text: Vec<String> = lines.iter().map(|l| escape(l)).collect();
                format!("(\"{}\")", text.join("<br/>"))
            }
        };
        let _ = writeln!(out, "    {}{node}", id(n));
    }
    for n in labels::states_in_order(&nfa) {
        for (e, to) in nfa.out_edges(n) {
            let label = format!("{}: {}", e.kind(), labels::edge(plan, p, &nfa, n, &e));
            let arrow = if !reach::is_live(p, &nfa, n, &e) || matches!(e, Edge::Ignore { .. }) {
                "-.->"
            } else {
                "-->"
            };
            let _ = writeln!(out, "    {} {arrow}|{}| {}", id(n), quoted(&label), id(to));
            if matches!(e, Edge::Kill { .. }) {
                links.kills.push(links.count);
            }
            links.count += 1;
        }
    }
    out.push_str("  end\n");
}

/// A double-quoted Mermaid label.
fn quoted(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// Mermaid entity codes for the characters its parser or HTML labels would take as
/// syntax (`"`, `<`, `>`, `#`, `&`, `|`, braces and brackets are safe inside quotes).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}
