//! Warnings (LANGUAGE.md §11): unbounded steps (W001), runs that can wait forever (W002),
//! steps that can never take an event (W003), unused declarations (W004).

use super::names::Kind;
use super::Checker;
use nudge_grammar::ast::PatternDecl;
use nudge_grammar::{Diagnostic, Span};

impl Checker<'_> {
    /// W001, W002 and W003 for one pattern; `head` is `pattern NAME`.
    pub(crate) fn pattern_warnings(&mut self, p: &PatternDecl, head: Span) {
        let positive: Vec<usize> = (0..p.steps.len())
            .filter(|&i| !p.steps[i].is_negation())
            .collect();
        let Some(&last) = positive.last() else {
            return;
        };
        for &i in &positive[..positive.len() - 1] {
            let s = &p.steps[i];
            let Some(q) = s.quant.filter(|q| q.max.is_none() && (i > 0 || q.min > 0)) else {
                continue;
            };
            if s.within.is_none() && p.window.is_none() {
                self.diags.push(
                    Diagnostic::warning(
                        "W001",
                        "this step can take events without limit, and nothing bounds it in time",
                        q.span,
                        "no upper bound",
                    )
                    .with_help("give it an upper bound (`{1,5}`), a `within` on the step, or a `window` to the pattern"),
                );
            }
        }
        // A chain ending in a negation without a deadline is E202 already.
        let ends_in_negation = p.steps.last().is_some_and(|s| s.is_negation());
        let no_within = p.steps.iter().all(|s| s.within.is_none());
        if p.steps.len() >= 2 && !ends_in_negation && p.window.is_none() && no_within {
            self.diags.push(
                Diagnostic::warning(
                    "W002",
                    "runs of this pattern can wait forever: no step has a `within` and there is no `window`",
                    head,
                    "no time limit",
                )
                .with_help("add `within D` to a step after the first, or `window D` to the pattern"),
            );
        }
        if last + 1 == p.steps.len() {
            let optional_tail = positive
                .iter()
                .rev()
                .take_while(|&&i| i > 0 && p.steps[i].quant.is_some_and(|q| q.min == 0))
                .filter(|&&i| p.steps[i].quant.is_some_and(|q| q.max != Some(0)));
            let mut tail: Vec<usize> = optional_tail.copied().collect();
            tail.reverse();
            for i in tail {
                let q = p.steps[i].quant.expect("optional step");
                self.diags.push(
                    Diagnostic::warning(
                        "W003",
                        "this step can never take an event: the match completes with the step before it",
                        q.span,
                        "optional last step",
                    )
                    .with_help("remove it, or make it required (`+` or `{1,...}` instead of `*` or `?`)"),
                );
            }
        }
    }

    /// W004 for every table, vectors, model, session, covisit, profile and trending that
    /// nothing reads (a profile with a sink and a trending with `emit` are used).
    pub(crate) fn unused_warnings(&mut self) {
        let mut found = Vec::new();
        for e in self.names.entries.iter().filter(|e| !e.used) {
            let i = e.index as usize;
            let unused = match e.kind {
                Kind::Table | Kind::Vectors | Kind::Model | Kind::Session | Kind::Covisit => true,
                Kind::Trending => self.ops.trendings[i].emit.is_none(),
                Kind::Profile => self.ops.profiles[i].sink_redis.is_none(),
                Kind::Event | Kind::Pattern => false,
            };
            if unused {
                let help = match e.kind {
                    Kind::Trending => format!(
                        "read `{}.items` in a pattern, add `emit`, or remove it",
                        e.name
                    ),
                    Kind::Profile => format!(
                        "read its features (`{}.FEATURE`), add a `sink`, or remove it",
                        e.name
                    ),
                    _ => format!("{}, or remove it", super::expr::usage(e)),
                };
                found.push(
                    Diagnostic::warning(
                        "W004",
                        format!("the {} `{}` is never used", e.kind.word(), e.name),
                        e.span,
                        "declared here, read nowhere",
                    )
                    .with_help(help),
                );
            }
        }
        self.diags.extend(found);
    }
}
