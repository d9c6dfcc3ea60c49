//! nudge-grammar: from pattern-file text to a spanned syntax tree.
//!
//! The whole pipeline is `pattern file → AST → checked program → Plan (NFAs) → engine`;
//! this crate is its first step. [`parse_file`] turns one `*.nudge` file into an
//! [`ast::File`] with a [`Span`] on every node (pest's pairs never leave this crate), or
//! into a [`Diagnostic`] that says in plain words what was expected. The crate also owns
//! the [`Diagnostic`] type every later stage reports with, and the parser of
//! `*.scenario` files (written with nom).

pub mod ast;
pub mod diagnostic;
mod expected;
mod parser;
pub mod scenario;
pub mod span;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use parser::{parse_expr, parse_file};
pub use scenario::parse_scenario;
pub use span::{FileId, SourceFile, Sources, Span};
