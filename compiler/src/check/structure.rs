//! Placement rules of a pattern's chain (LANGUAGE.md §4, §4.1): where negations,
//! quantifiers and `within` may stand (E201–E208, E210, E212, E214).

use super::Checker;
use nudge_grammar::ast::{Link, PatternDecl, Step};
use nudge_grammar::{Diagnostic, Span};

/// Facts about a chain that later stages need.
pub(crate) struct Shape {
    /// Position of the first negation after the last positive step (the trailing
    /// negation), or the chain's length when it ends in a positive step.
    pub trailing_from: usize,
}

/// The `not TYPES` part of a negation, for labels.
fn negation_span(s: &Step) -> Span {
    let start = s.not.unwrap_or(s.span);
    s.types.last().map_or(start, |t| start.to(t.span))
}

impl Checker<'_> {
    /// Checks where each clause of the chain stands; reports and goes on.
    pub(crate) fn check_structure(&mut self, p: &PatternDecl) -> Shape {
        let n = p.steps.len();
        let trailing_from = p
            .steps
            .iter()
            .rposition(|s| !s.is_negation())
            .map_or(n, |i| i + 1);
        if let Some(w) = p.window {
            self.positive(w, "a `window`");
        }
        for (i, s) in p.steps.iter().enumerate() {
            if let Some(q) = s.quant {
                if q.max == Some(0) || q.max.is_some_and(|m| q.min > m) {
                    self.diags.push(
                        Diagnostic::error(
                            "E207",
                            "this quantifier can never be satisfied",
                            q.span,
                            match q.max {
                                Some(0) => "at most zero events".to_string(),
                                Some(m) => format!("at least {} but at most {m}", q.min),
                                None => String::new(),
                            },
                        )
                        .with_help("write `{n,m}` with n ≤ m and m ≥ 1, e.g. `{2,5}`"),
                    );
                }
            }
            if s.is_negation() {
                self.negation(p, s, i, trailing_from);
            } else if i == 0 {
                self.first_step(s);
            }
            if let Some(d) = s.within {
                if i > 0 {
                    self.positive(d, "`within`");
                }
            }
        }
        Shape { trailing_from }
    }

    fn first_step(&mut self, s: &Step) {
        if let Some(d) = s.within {
            self.diags.push(
                Diagnostic::error(
                    "E208",
                    "the first step cannot have a `within`: there is no earlier event to count from",
                    d.span,
                    "`within` on the first step",
                )
                .with_help("to bound the whole match in time, add `window` to the pattern"),
            );
        }
        if let Some(q) = s.quant.filter(|q| q.min == 0) {
            self.diags.push(
                Diagnostic::error(
                    "E206",
                    "the first step must take at least one event",
                    q.span,
                    "may take no event",
                )
                .with_help("use `+` or `{1,...}` on the first step"),
            );
        }
    }

    fn negation(&mut self, p: &PatternDecl, s: &Step, i: usize, trailing_from: usize) {
        if i == 0 {
            self.diags.push(
                Diagnostic::error(
                    "E201",
                    "a pattern cannot start with `not`: absence is only watched after something happened",
                    negation_span(s),
                    "negation as the first step",
                )
                .with_help("start with what the shopper does, e.g. `when ADD_TO_CART then not PURCHASE within 1h`"),
            );
        }
        if s.link == Link::ThenNext {
            self.diags.push(
                Diagnostic::error(
                    "E210",
                    "`then next` cannot be used with `not`",
                    s.link_span,
                    "strict contiguity on a negation",
                )
                .with_help("write `then not ...`; to require the very next event, put `then next` on a positive step"),
            );
        }
        if let Some(alias) = &s.alias {
            self.diags.push(
                Diagnostic::error(
                    "E204",
                    "a negation cannot be named with `as`: it matches no event",
                    alias.span,
                    "name on a negation",
                )
                .with_help("remove `as ...`"),
            );
        }
        if let Some(q) = s.quant {
            self.diags.push(
                Diagnostic::error(
                    "E214",
                    "a negation cannot have a quantifier",
                    q.span,
                    "quantifier on a negation",
                )
                .with_help(
                    "a single matching event already breaks the pattern: remove the quantifier",
                ),
            );
        }
        if i == 0 {
            return;
        }
        if i < trailing_from {
            if let Some(d) = s.within {
                self.diags.push(
                    Diagnostic::error(
                        "E205",
                        "a negation in the middle of a pattern cannot have a `within`",
                        d.span,
                        "`within` on a middle negation",
                    )
                    .with_help("put the `within` on the step after the negation"),
                );
            }
        } else if i == trailing_from {
            if s.within.is_none() && p.window.is_none() {
                self.diags.push(
                    Diagnostic::error(
                        "E202",
                        "a pattern that ends with `not` needs a deadline",
                        negation_span(s),
                        "no `within` here and no `window` on the pattern",
                    )
                    .with_help("add `within 15m` (or another duration) to this step, or a `window` to the pattern"),
                );
            }
        } else {
            let first = &p.steps[trailing_from];
            self.diags.push(
                Diagnostic::error(
                    "E203",
                    "only one negation can end a pattern",
                    negation_span(s),
                    "second negation at the end",
                )
                .with_label(
                    negation_span(first),
                    "the pattern already ends with this negation",
                )
                .with_help("combine them into one: `then not (A or B) within D`"),
            );
        }
    }
}
