//! The checker: from parsed files to a [`Plan`] plus every diagnostic of the program.
//!
//! `AST → names (one global namespace) → schema (event types, fields, input) →
//! enrichment and behaviour operators → patterns (structure, bindings, typed expressions,
//! projection) → warnings`. Every stage reports into one list and goes on, so one run of
//! [`check`] reports all errors of a program; the [`Plan`] is produced only when there
//! are none. Pattern state tables (`PatternPlan::states`) are left empty here: the NFA
//! lowering fills them.

mod access;
mod builtins;
mod calls;
mod enrich;
mod expr;
mod names;
mod operators;
mod pattern;
mod projection;
mod schema;
mod structure;
pub mod suggest;
mod types;
mod warnings;

#[cfg(test)]
mod tests;

use crate::plan::Plan;
use names::Names;
use nudge_grammar::ast::{self, Decl};
use nudge_grammar::{Diagnostic, FileId, Sources};
use operators::Ops;
use schema::Schema;

/// Checks a whole program and compiles it to a [`Plan`].
///
/// `files` are the parsed files in program order (sorted path order). Returns the plan
/// (`Some` if and only if there is no error) and every diagnostic, errors and warnings,
/// sorted by file and position. Paths of `table` and `vectors` files are resolved
/// relative to the folder of the file that declares them.
pub fn check(sources: &Sources, files: &[(FileId, ast::File)]) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let names = Names::collect(files, &mut diags);
    let mut ck = Checker {
        sources,
        files,
        diags,
        names,
        schema: Schema::default(),
        ops: Ops::default(),
    };
    ck.build_schema();
    ck.build_enrichment();
    ck.build_operators();
    let patterns = ck.build_patterns();
    ck.unused_warnings();

    let Checker {
        mut diags,
        schema,
        ops,
        ..
    } = ck;
    diags.sort_by_key(|d| {
        let s = d.span();
        (s.file, s.start, s.end)
    });
    if diags.iter().any(Diagnostic::is_error) {
        return (None, diags);
    }
    let plan = Plan {
        input: schema.input,
        fields: schema.fields,
        events: schema.events,
        tables: ops.tables,
        vectors: ops.vectors,
        models: ops.models,
        sessions: ops.sessions,
        covisits: ops.covisits,
        trendings: ops.trendings,
        profiles: ops.profiles,
        patterns,
    };
    (Some(plan), diags)
}

/// The state of one check: the program, what is known so far, and the findings.
pub(crate) struct Checker<'a> {
    sources: &'a Sources,
    files: &'a [(FileId, ast::File)],
    diags: Vec<Diagnostic>,
    names: Names,
    schema: Schema,
    ops: Ops,
}

impl<'a> Checker<'a> {
    /// Every declaration in program order, without those that repeat an earlier name.
    fn decls(&self) -> Vec<(FileId, &'a Decl)> {
        let files = self.files;
        let mut out = Vec::new();
        for (fi, (file, parsed)) in files.iter().enumerate() {
            for (di, decl) in parsed.decls.iter().enumerate() {
                if !self.names.dup.contains(&(fi, di)) {
                    out.push((*file, decl));
                }
            }
        }
        out
    }

    /// The place of the first declaration that `is` picks: its index among all
    /// declarations of the program, files in path order (LANGUAGE.md §9.1).
    fn place(&self, is: impl Fn(&Decl) -> bool) -> u32 {
        self.files
            .iter()
            .flat_map(|(_, f)| f.decls.iter())
            .position(is)
            .unwrap_or(0) as u32
    }

    /// Every `pattern` in program order, repeats of a name included (they are checked too).
    fn all_patterns(&self) -> Vec<&'a ast::PatternDecl> {
        let files = self.files;
        files
            .iter()
            .flat_map(|(_, f)| f.decls.iter())
            .filter_map(|d| match d {
                Decl::Pattern(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    /// Reports E212 when a duration that must be positive is zero; true when it is fine.
    fn positive(&mut self, d: ast::Duration, what: &str) -> bool {
        if d.ms > 0 {
            return true;
        }
        self.diags.push(
            Diagnostic::error(
                "E212",
                format!("{what} must be longer than zero"),
                d.span,
                "zero duration",
            )
            .with_help("write a positive duration such as `30s` or `15m`"),
        );
        false
    }

    /// Reports E213 when a count that must be at least one is zero.
    fn at_least_one(&mut self, c: ast::Count, what: &str) -> u32 {
        if c.value == 0 {
            self.diags.push(Diagnostic::error(
                "E213",
                format!("{what} must be at least 1"),
                c.span,
                "zero",
            ));
        }
        u32::try_from(c.value).unwrap_or(u32::MAX)
    }
}
