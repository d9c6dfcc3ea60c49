//! The one diagnostic type of nudge: parse errors, check errors and warnings.
//!
//! A diagnostic is data (a stable code, a message, labelled spans, a help line); it is
//! rendered in one place only, by the command line. Codes are listed with their meaning
//! in `docs/diagnostics.md`; a code is never reused for another meaning.

use crate::span::Span;

/// Error or warning. Errors stop a program from running; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// A span with a short message under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A finding about a program.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable code: `E…` for errors, `W…` for warnings.
    pub code: &'static str,
    pub severity: Severity,
    /// One sentence a marketer understands.
    pub message: String,
    /// The primary label first (its span is the diagnostic's position).
    pub labels: Vec<Label>,
    /// A suggestion, shown as `help: ...`.
    pub help: Option<String>,
    /// Extra facts, shown as `note: ...`.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with a primary span and its label.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning with a primary span and its label.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The primary span (the first label's).
    pub fn span(&self) -> Span {
        self.labels[0].span
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
