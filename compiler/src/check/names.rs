//! The program's declaration table: one global namespace (E101), at most one `input` (E108).

use nudge_grammar::ast::{self, Decl};
use nudge_grammar::{Diagnostic, FileId, Span};
use std::collections::{HashMap, HashSet};

/// What a declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Event,
    Table,
    Vectors,
    Model,
    Session,
    Covisit,
    Trending,
    Profile,
    Pattern,
}

impl Kind {
    fn of(decl: &Decl) -> Option<Kind> {
        Some(match decl {
            Decl::Input(_) => return None,
            Decl::Event(_) => Kind::Event,
            Decl::Table(_) => Kind::Table,
            Decl::Vectors(_) => Kind::Vectors,
            Decl::Model(_) => Kind::Model,
            Decl::Session(_) => Kind::Session,
            Decl::Covisit(_) => Kind::Covisit,
            Decl::Trending(_) => Kind::Trending,
            Decl::Profile(_) => Kind::Profile,
            Decl::Pattern(_) => Kind::Pattern,
        })
    }

    /// The declaring keyword, for messages ("`products` is a table").
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Event => "event type",
            Kind::Table => "table",
            Kind::Vectors => "vectors declaration",
            Kind::Model => "model",
            Kind::Session => "session",
            Kind::Covisit => "covisit",
            Kind::Trending => "trending",
            Kind::Profile => "profile",
            Kind::Pattern => "pattern",
        }
    }

    /// The word with its article ("a table", "an event type"), for messages.
    pub(crate) fn a(self) -> String {
        match self {
            Kind::Event => "an event type".to_string(),
            k => format!("a {}", k.word()),
        }
    }

    /// Whether a bare name in an expression can denote a declaration of this kind
    /// (event types and patterns are not values).
    pub(crate) fn is_value(self) -> bool {
        !matches!(self, Kind::Event | Kind::Pattern)
    }
}

/// One declared name.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub kind: Kind,
    /// Index among the declarations of its kind, in program order: the plan id.
    pub index: u32,
    /// The name as written in the declaration.
    pub span: Span,
    /// Whether some pattern or operator reads it (for W004).
    pub used: bool,
}

/// Every declared name of the program.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    /// `(file position, declaration position)` of declarations that repeat an earlier
    /// name (or a second `input`); later stages skip them.
    pub dup: HashSet<(usize, usize)>,
}

impl Names {
    /// Collects the names of all files in program order, reporting E101 and E108.
    pub(crate) fn collect(files: &[(FileId, ast::File)], diags: &mut Vec<Diagnostic>) -> Names {
        let mut names = Names::default();
        let mut counts: HashMap<&'static str, u32> = HashMap::new();
        let mut input: Option<Span> = None;
        for (fi, (_, file)) in files.iter().enumerate() {
            for (di, decl) in file.decls.iter().enumerate() {
                let Some(kind) = Kind::of(decl) else {
                    let span = decl_head(decl, None);
                    if let Some(first) = input {
                        diags.push(
                            Diagnostic::error(
                                "E108",
                                "a program can have only one `input` declaration",
                                span,
                                "second `input`",
                            )
                            .with_label(first, "first `input` here")
                            .with_help("merge the two into one `input` declaration"),
                        );
                        names.dup.insert((fi, di));
                    } else {
                        input = Some(span);
                    }
                    continue;
                };
                let name = decl.name().expect("named declaration");
                if let Some(&first) = names.by_name.get(&name.text) {
                    let first = &names.entries[first];
                    diags.push(
                        Diagnostic::error(
                            "E101",
                            format!("the name `{}` is declared twice", name.text),
                            name.span,
                            format!("declared again here (as {})", kind.a()),
                        )
                        .with_label(
                            first.span,
                            format!("first declared here (as {})", first.kind.a()),
                        )
                        .with_help(
                            "names are shared by every file of the program: rename one of them",
                        ),
                    );
                    names.dup.insert((fi, di));
                    continue;
                }
                let count = counts.entry(kind.word()).or_default();
                names.by_name.insert(name.text.clone(), names.entries.len());
                names.entries.push(Entry {
                    name: name.text.clone(),
                    kind,
                    index: *count,
                    span: name.span,
                    used: false,
                });
                *count += 1;
            }
        }
        names
    }

    /// The declaration with this name.
    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// Records that something reads this declaration.
    pub(crate) fn mark_used(&mut self, name: &str) {
        if let Some(&i) = self.by_name.get(name) {
            self.entries[i].used = true;
        }
    }

    /// The names of declarations of the given kinds, in program order (for suggestions).
    pub(crate) fn names_of(&self, kinds: &[Kind]) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| e.name.as_str())
            .collect()
    }
}

/// The span of a declaration's head: from its keyword to the end of its name (the keyword
/// alone for `input`), for labels that should not cover the whole body.
pub(crate) fn decl_head(decl: &Decl, name: Option<&ast::Name>) -> Span {
    let span = decl.span();
    match name.or(decl.name()) {
        Some(n) => Span {
            end: n.span.end,
            ..span
        },
        None => Span {
            end: span.start + decl.keyword().len() as u32,
            ..span
        },
    }
}
