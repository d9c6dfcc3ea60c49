//! From pattern-file text to the spanned AST: runs the pest grammar (`nudge.pest`) and
//! builds [`ast`] nodes from its pairs, which never leave this module.
//!
//! The file is parsed with the strict grammar (clauses in the order of LANGUAGE.md). When
//! that fails, the permissive grammar (`file_loose`) is tried: if it succeeds, the failure
//! was a clause out of order or repeated, and the builder reports E004 at that clause.
//! Otherwise the strict grammar's failure becomes a plain-words E001 (see
//! [`crate::expected`]), or E003 when it sits on a string that is not closed.

mod decl;
mod expr;
pub(crate) mod lex;
mod literal;
mod operator;
mod order;
mod pattern;

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use crate::ast::{self, Name};
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

#[derive(Parser)]
#[grammar = "nudge.pest"]
struct NudgeParser;

/// Parses one pattern file.
///
/// Returns the file's declarations in order, or the first syntax error: E001 (something
/// other than what the language allows), E002 (a bad literal), E003 (a string not closed
/// on its line) or E004 (a clause out of order or repeated). Spans are byte offsets into
/// `text`, tagged with `file`.
///
/// ```
/// use nudge_grammar::{parse_file, FileId};
/// let file = parse_file(FileId(0), "pattern p when A then B within 5m emit { n: 1 }").unwrap();
/// assert_eq!(file.decls.len(), 1);
/// ```
pub fn parse_file(file: FileId, text: &str) -> Result<ast::File, Diagnostic> {
    check_nesting(file, text)?;
    match NudgeParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let ctx = Ctx::new(file, None);
            decl::file(&ctx, pairs.next().expect("the file rule matched"))
        }
        Err(err) => {
            let strict = syntax_error(file, text, err);
            if strict.code != "E001" {
                return Err(strict);
            }
            let Ok(mut pairs) = NudgeParser::parse(Rule::file_loose, text) else {
                return Err(strict);
            };
            let ctx = Ctx::new(file, Some(&strict));
            // The loose tree parses, so the strict failure was about clause order; the
            // builder finds it (E004). Should it not, the strict error stands.
            match decl::file(&ctx, pairs.next().expect("the file rule matched")) {
                Ok(_) => Err(strict),
                Err(diag) => Err(diag),
            }
        }
    }
}

/// Parses a lone expression (LANGUAGE.md §5), as written after `where` or in `emit`.
///
/// ```
/// use nudge_grammar::{ast::{BinOp, ExprKind}, parse_expr, FileId};
/// let e = parse_expr(FileId(0), "ts - cart.ts > 10m").unwrap();
/// assert!(matches!(e.kind, ExprKind::Binary(BinOp::Gt, _, _)));
/// ```
pub fn parse_expr(file: FileId, text: &str) -> Result<ast::Expr, Diagnostic> {
    check_nesting(file, text)?;
    let mut pairs =
        NudgeParser::parse(Rule::expr_only, text).map_err(|e| syntax_error(file, text, e))?;
    let ctx = Ctx::new(file, None);
    let expr_only = pairs.next().expect("the expr_only rule matched");
    let inner = expr_only
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .expect("expr_only holds an expression");
    expr::expr(&ctx, inner)
}

/// Refuses brackets nested deeper than [`lex::MAX_NESTING`] (E001).
fn check_nesting(file: FileId, text: &str) -> Result<(), Diagnostic> {
    match lex::too_deep(text) {
        Some(at) => Err(Diagnostic::error(
            "E001",
            format!(
                "brackets are nested too deeply (more than {} levels)",
                lex::MAX_NESTING
            ),
            Span::new(file, at, at + 1),
            "too deep here",
        )
        .with_help("split the expression into simpler parts")),
        None => Ok(()),
    }
}

/// Turns a pest failure into E003 (when it stops on an unclosed string) or E001.
fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    if let Some((start, end)) = lex::unterminated_string(text) {
        if start <= pos {
            return Diagnostic::error(
                "E003",
                "this text is not closed: a string must end with `\"` on the same line",
                Span::new(file, start, end),
                "the string starts here",
            )
            .with_help("add the closing `\"` before the end of the line");
        }
    }
    let positives = match err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    crate::expected::syntax_error(file, text, pos, &positives)
}

/// What the AST builders share: the file and (when building from the
/// permissive grammar) the strict grammar's error to fall back on.
struct Ctx<'t> {
    file: FileId,
    strict_error: Option<&'t Diagnostic>,
}

impl<'t> Ctx<'t> {
    fn new(file: FileId, strict_error: Option<&'t Diagnostic>) -> Ctx<'t> {
        Ctx { file, strict_error }
    }

    /// The span of a pair, from its first to its last token (pest's own span of a rule
    /// that ends with an absent optional part takes in the blanks before it).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        Span::new(self.file, pair.as_span().start(), token_end(pair))
    }

    /// The error for a required clause that the permissive grammar let through: the
    /// strict grammar's error, which says what was expected where.
    fn missing(&self, what: &str, at: Span) -> Diagnostic {
        match self.strict_error {
            Some(diag) => diag.clone(),
            None => Diagnostic::error("E001", format!("expected {what}"), at, "missing here"),
        }
    }

    /// A name from a `type_name`, `field_name`, `arg_name`, `decl_name`, `alias` or
    /// `agg_name` pair (or directly from an identifier or quoted pair).
    fn name(&self, pair: Pair<'_, Rule>) -> Result<Name, Diagnostic> {
        let span = self.span(&pair);
        let inner = match pair.as_rule() {
            Rule::type_name | Rule::field_name | Rule::arg_name => {
                pair.into_inner().next().expect("a name holds one token")
            }
            _ => pair,
        };
        if inner.as_rule() == Rule::quoted {
            Ok(Name {
                text: literal::unescape(self, &inner)?,
                span,
                quoted: true,
            })
        } else {
            Ok(Name {
                text: inner.as_str().to_string(),
                span,
                quoted: false,
            })
        }
    }

    /// A duration literal.
    fn duration(&self, pair: &Pair<'_, Rule>) -> Result<ast::Duration, Diagnostic> {
        let span = self.span(pair);
        Ok(ast::Duration {
            ms: literal::duration_ms(pair.as_str(), span)?,
            span,
        })
    }

    /// A string literal.
    fn str_lit(&self, pair: &Pair<'_, Rule>) -> Result<ast::StrLit, Diagnostic> {
        Ok(ast::StrLit {
            value: literal::unescape(self, pair)?,
            span: self.span(pair),
        })
    }

    /// An unsigned count (`top 20`).
    fn count(&self, pair: &Pair<'_, Rule>) -> Result<ast::Count, Diagnostic> {
        let span = self.span(pair);
        Ok(ast::Count {
            value: literal::unsigned(pair.as_str(), u64::MAX, span)?,
            span,
        })
    }
}

/// The children of a pair, without punctuation (which only matters to error messages).
fn kids<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::lbrace
                | Rule::rbrace
                | Rule::lparen
                | Rule::rparen
                | Rule::lbrack
                | Rule::rbrack
                | Rule::comma
                | Rule::colon
                | Rule::dot
        )
    })
}

/// The pair after a clause's keyword(s): `kw_gap ~ duration` gives the duration.
fn last_kid<'i>(pair: Pair<'i, Rule>) -> Pair<'i, Rule> {
    kids(pair).last().expect("a clause has a value")
}

/// Where the last token of a pair ends: every token is a rule, so the deepest last
/// child ends exactly there.
fn token_end(pair: &Pair<'_, Rule>) -> usize {
    match pair.clone().into_inner().last() {
        Some(last) => token_end(&last),
        None => pair.as_span().end(),
    }
}
