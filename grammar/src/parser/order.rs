//! Clause order inside a declaration or a step (E004): each clause has a place in the
//! order LANGUAGE.md shows; a clause written after a later one, or written twice, is
//! reported with both places.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Watches the clauses of one declaration (or step) as they are read.
pub(super) struct Order {
    /// What holds the clauses, for messages: "a pattern", "a step", ...
    what: &'static str,
    /// Every clause in its place, as written in messages (`after match`).
    places: &'static [&'static str],
    /// The clauses seen so far: (place, span).
    seen: Vec<(usize, Span)>,
}

impl Order {
    pub(super) fn new(what: &'static str, places: &'static [&'static str]) -> Order {
        Order {
            what,
            places,
            seen: Vec::new(),
        }
    }

    /// Records the clause `name` (one of `places`) at `span`. `repeatable` clauses (a
    /// pattern's `then` steps) may be written several times in a row.
    pub(super) fn see(
        &mut self,
        name: &str,
        span: Span,
        repeatable: bool,
    ) -> Result<(), Diagnostic> {
        let place = self
            .places
            .iter()
            .position(|p| *p == name)
            .expect("every clause has a place");
        if !repeatable {
            if let Some(&(_, first)) = self.seen.iter().find(|(p, _)| *p == place) {
                return Err(Diagnostic::error(
                    "E004",
                    format!("`{name}` is written twice in {}", self.what),
                    span,
                    "written again here",
                )
                .with_label(first, "first written here")
                .with_help(if name == "when" {
                    "a pattern has one `when` step: write the next steps with `then`".to_string()
                } else {
                    format!("keep one `{name}`")
                }));
            }
        }
        if let Some(&(later, at)) = self.seen.iter().find(|(p, _)| *p > place) {
            return Err(Diagnostic::error(
                "E004",
                format!(
                    "`{name}` must come before `{}` in {}",
                    self.places[later], self.what
                ),
                span,
                format!("move this before `{}`", self.places[later]),
            )
            .with_label(at, format!("`{}` is written here", self.places[later]))
            .with_help(format!("the order is: {}", self.list())));
        }
        self.seen.push((place, span));
        Ok(())
    }

    fn list(&self) -> String {
        self.places
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
