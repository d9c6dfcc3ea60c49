//! nudge-compiler: from a parsed program to the Plan the runtime executes.
//!
//! The pipeline is `pattern file → AST → checked program → Plan (NFAs) → engine`. This
//! crate owns the middle: it binds every name (declarations, event types, fields, step
//! bindings), checks types and the placement rules of the language, collects every
//! diagnostic of the program in one pass ([`check`]), and lowers each pattern to an NFA
//! (a petgraph graph, checked and exportable as text, dot, mermaid or json) flattened
//! into the [`plan::Plan`] ([`nfa`]). [`diff`] compares two plans, so a running service
//! can swap programs or restore an older program's checkpoint and keep the state of what
//! did not change.

pub mod check;
pub mod diff;
pub mod load;
pub mod nfa;
pub mod plan;

pub use nudge_grammar::{Diagnostic, Severity, Sources, Span};

/// The result of compiling a program: the plan when there are no errors, and every
/// diagnostic (errors and warnings) sorted by position.
#[derive(Debug)]
pub struct Compiled {
    pub plan: Option<plan::Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    /// Whether some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, checks and lowers every file of `sources`.
pub fn compile(sources: &Sources) -> Compiled {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    for (id, file) in sources.iter() {
        match nudge_grammar::parse_file(id, &file.text) {
            Ok(ast) => files.push((id, ast)),
            Err(d) => diagnostics.push(d),
        }
    }
    let parsed_all = diagnostics.is_empty();
    let (plan, mut found) = check::check(sources, &files);
    diagnostics.append(&mut found);
    let plan = plan.filter(|_| parsed_all).map(|mut plan| {
        nfa::lower_plan(&mut plan);
        plan
    });
    diagnostics.sort_by_key(|d| {
        let s = d.span();
        (s.file, s.start, s.end)
    });
    Compiled { plan, diagnostics }
}

/// Compiles one program given as text (for tests and examples).
pub fn compile_str(path: &str, text: &str) -> Compiled {
    let mut sources = Sources::new();
    sources.add(path, text);
    compile(&sources)
}
