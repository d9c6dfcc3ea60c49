//! Helpers shared by the grammar tests: a compact S-expression form of expressions and a
//! one-screen rendering of diagnostics for snapshots.
#![allow(dead_code)]

use nudge_grammar::ast::{Expr, ExprKind, Lit, Name, UnOp};
use nudge_grammar::{parse_expr, parse_file, Diagnostic, FileId, Sources};

/// `a or b and not c` → `(or a (and b (not c)))`; quoted names keep their quotes.
pub fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Lit(lit) => match lit {
            Lit::Str(s) => format!("{s:?}"),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => format!("{f:?}"),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "null".to_string(),
            Lit::Duration(ms) => format!("{ms}ms"),
        },
        ExprKind::Name(n) => name(n),
        ExprKind::Field(x, f) => format!("(. {} {})", sexp(x), name(f)),
        ExprKind::Index(x, i) => format!("([] {} {})", sexp(x), sexp(i)),
        ExprKind::Call(f, args) => {
            let mut s = format!("(call {}", sexp(f));
            for a in args {
                s.push(' ');
                s.push_str(&sexp(a));
            }
            s + ")"
        }
        ExprKind::Unary(UnOp::Not, x) => format!("(not {})", sexp(x)),
        ExprKind::Unary(UnOp::Neg, x) => format!("(neg {})", sexp(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.as_str(), sexp(a), sexp(b)),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sexp).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Record(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(n, v)| format!("{}: {}", name(n), sexp(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn name(n: &Name) -> String {
    if n.quoted {
        format!("{:?}", n.text)
    } else {
        n.text.clone()
    }
}

/// The S-expression of a lone expression; panics with the diagnostic on error.
pub fn expr(text: &str) -> String {
    match parse_expr(FileId(0), text) {
        Ok(e) => sexp(&e),
        Err(d) => panic!("{text:?} did not parse: {}", render(text, &d)),
    }
}

/// A diagnostic as a few lines: `CODE line:col message`, labels with their text, help.
pub fn render(text: &str, d: &Diagnostic) -> String {
    let mut sources = Sources::new();
    let file = sources.add("test.nudge", text);
    let (line, col) = sources.line_col(file, d.span().start);
    let mut out = format!("{} {line}:{col} {}", d.code, d.message);
    for l in &d.labels {
        let snippet = &text[l.span.range()];
        out.push_str(&format!("\n  [{snippet}] {}", l.message));
    }
    if let Some(h) = &d.help {
        out.push_str(&format!("\n  help: {h}"));
    }
    out
}

/// The rendered error of a program that must not parse.
pub fn error(text: &str) -> String {
    match parse_file(FileId(0), text) {
        Ok(_) => panic!("{text:?} parsed, but an error was expected"),
        Err(d) => render(text, &d),
    }
}
