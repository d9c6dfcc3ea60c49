//! Building expressions (LANGUAGE.md §5) with pest's Pratt parser.
//!
//! Precedence, loosest first: `or`; `and`; prefix `not`; `== != < <= > >= in not in`;
//! `+ -`; `* / %`; prefix `-`; postfix `.field`, `[index]`, `(args)`.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::lex::MAX_NESTING;
use super::{kids, literal, Ctx, Rule};
use crate::ast::{BinOp, Expr, ExprKind, Lit, Name, UnOp};
use crate::diagnostic::Diagnostic;
use crate::span::Span;

type Res<T> = Result<T, Diagnostic>;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    use Assoc::Left;
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Left))
        .op(Op::infix(Rule::op_and, Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Left)
            | Op::infix(Rule::op_ne, Left)
            | Op::infix(Rule::op_lt, Left)
            | Op::infix(Rule::op_le, Left)
            | Op::infix(Rule::op_gt, Left)
            | Op::infix(Rule::op_ge, Left)
            | Op::infix(Rule::op_in, Left)
            | Op::infix(Rule::op_not_in, Left))
        .op(Op::infix(Rule::op_add, Left) | Op::infix(Rule::op_sub, Left))
        .op(Op::infix(Rule::op_mul, Left)
            | Op::infix(Rule::op_div, Left)
            | Op::infix(Rule::op_rem, Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field_access) | Op::postfix(Rule::index) | Op::postfix(Rule::call))
});

/// How deep an expression tree may be. Longer chains (`a + b + c + ...`) and deeper
/// nesting are refused (E001), so that walking or dropping a tree never runs out of stack.
pub(crate) const MAX_EXPR_DEPTH: usize = 200;

/// An expression under construction, with the depth of its tree.
type Built = Res<(Expr, usize)>;

/// An `expr` pair.
pub(super) fn expr(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Expr> {
    Ok(expr_depth(ctx, pair)?.0)
}

fn expr_depth(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Built {
    debug_assert_eq!(pair.as_rule(), Rule::expr);
    check_prefix_runs(ctx, &pair)?;
    PRATT
        .map_primary(|p| primary(ctx, p))
        .map_prefix(|op, rhs| {
            let (rhs, depth) = rhs?;
            let un = match op.as_rule() {
                Rule::op_not => UnOp::Not,
                Rule::op_neg => UnOp::Neg,
                r => unreachable!("prefix {r:?}"),
            };
            let span = ctx.span(&op).to(rhs.span);
            node(
                ExprKind::Unary(un, Box::new(rhs)),
                span,
                depth,
                ctx.span(&op),
            )
        })
        .map_infix(|lhs, op, rhs| {
            let ((lhs, l), (rhs, r)) = (lhs?, rhs?);
            let span = lhs.span.to(rhs.span);
            let at = ctx.span(&op);
            let kind = ExprKind::Binary(bin_op(op.as_rule()), Box::new(lhs), Box::new(rhs));
            node(kind, span, l.max(r), at)
        })
        .map_postfix(|lhs, op| postfix(ctx, lhs?, op))
        .parse(pair.into_inner())
}

/// A node over children at most `depth` deep; refused past [`MAX_EXPR_DEPTH`], pointing
/// at the operator `at`.
fn node(kind: ExprKind, span: Span, depth: usize, at: Span) -> Built {
    if depth >= MAX_EXPR_DEPTH {
        return Err(Diagnostic::error(
            "E001",
            format!("this expression is too long: more than {MAX_EXPR_DEPTH} operations deep"),
            at,
            "too long here",
        )
        .with_help("split it into simpler parts"));
    }
    Ok((Expr { kind, span }, depth + 1))
}

/// Refuses more than [`MAX_NESTING`] prefix operators in a row (`- - - x`), which the
/// Pratt parser would nest as deeply as brackets.
fn check_prefix_runs(ctx: &Ctx<'_>, pair: &Pair<'_, Rule>) -> Res<()> {
    let mut run = 0;
    for p in pair.clone().into_inner() {
        if matches!(p.as_rule(), Rule::op_not | Rule::op_neg) {
            run += 1;
            if run > MAX_NESTING {
                return Err(Diagnostic::error(
                    "E001",
                    format!("more than {MAX_NESTING} `-` or `not` in a row"),
                    ctx.span(&p),
                    "too many here",
                ));
            }
        } else {
            run = 0;
        }
    }
    Ok(())
}

fn bin_op(rule: Rule) -> BinOp {
    match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_in => BinOp::In,
        Rule::op_not_in => BinOp::NotIn,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        Rule::op_rem => BinOp::Rem,
        r => unreachable!("infix {r:?}"),
    }
}

/// `.field`, `[index]` or `(args)` applied to `lhs`.
fn postfix(ctx: &Ctx<'_>, (lhs, depth): (Expr, usize), op: Pair<'_, Rule>) -> Built {
    let at = ctx.span(&op);
    let span = lhs.span.to(at);
    match op.as_rule() {
        Rule::field_access => {
            let field = ctx.name(kids(op).next().expect("a field name"))?;
            node(ExprKind::Field(Box::new(lhs), field), span, depth, at)
        }
        Rule::index => {
            let (index, d) = expr_depth(ctx, kids(op).next().expect("an index"))?;
            node(
                ExprKind::Index(Box::new(lhs), Box::new(index)),
                span,
                depth.max(d),
                at,
            )
        }
        Rule::call => {
            if !matches!(lhs.kind, ExprKind::Name(_) | ExprKind::Field(..)) {
                let paren = op.as_span().start();
                return Err(Diagnostic::error(
                    "E001",
                    "expected an operator, found `(`",
                    Span::new(ctx.file, paren, paren + 1),
                    "only a function can be called",
                )
                .with_help(
                    "a call is written after a name, such as `lower(x)` or `hot.score(x)`",
                ));
            }
            let (args, d) = exprs(ctx, kids(op))?;
            node(ExprKind::Call(Box::new(lhs), args), span, depth.max(d), at)
        }
        r => unreachable!("postfix {r:?}"),
    }
}

/// Several expressions and the depth of the deepest.
fn exprs<'i>(
    ctx: &Ctx<'_>,
    pairs: impl Iterator<Item = Pair<'i, Rule>>,
) -> Res<(Vec<Expr>, usize)> {
    let mut depth = 0;
    let mut out = Vec::new();
    for p in pairs {
        let (e, d) = expr_depth(ctx, p)?;
        depth = depth.max(d);
        out.push(e);
    }
    Ok((out, depth))
}

/// A `primary` pair: a literal, a name, `( expr )`, a list or a record.
fn primary(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Built {
    let inner = pair.into_inner().next().expect("a primary holds one item");
    let span = ctx.span(&inner);
    let text = inner.as_str();
    let kind = match inner.as_rule() {
        Rule::duration => ExprKind::Lit(Lit::Duration(literal::duration_ms(text, span)?)),
        Rule::float => ExprKind::Lit(Lit::Float(literal::float(text, span)?)),
        Rule::integer => ExprKind::Lit(Lit::Int(literal::int(text, span)?)),
        Rule::string => ExprKind::Lit(Lit::Str(literal::unescape(ctx, &inner)?)),
        Rule::lit_true => ExprKind::Lit(Lit::Bool(true)),
        Rule::lit_false => ExprKind::Lit(Lit::Bool(false)),
        Rule::lit_null => ExprKind::Lit(Lit::Null),
        Rule::name_expr => ExprKind::Name(Name {
            text: text.to_string(),
            span,
            quoted: false,
        }),
        Rule::paren => {
            // No node for parentheses: the inner expression, spanning them.
            let (e, depth) = expr_depth(ctx, kids(inner).next().expect("an expression"))?;
            return Ok((Expr { kind: e.kind, span }, depth));
        }
        Rule::list => {
            let (items, depth) = exprs(ctx, kids(inner))?;
            return node(ExprKind::List(items), span, depth, span);
        }
        Rule::record => {
            let (fields, depth) = fields_depth(ctx, inner)?;
            return node(ExprKind::Record(fields), span, depth, span);
        }
        r => unreachable!("primary {r:?}"),
    };
    Ok((Expr { kind, span }, 1))
}

/// The `field: expr` pairs of a `record` or `emit_fields` pair, in order.
pub(super) fn record_fields(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Vec<(Name, Expr)>> {
    Ok(fields_depth(ctx, pair)?.0)
}

fn fields_depth(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<(Vec<(Name, Expr)>, usize)> {
    let mut depth = 0;
    let mut out = Vec::new();
    for f in kids(pair) {
        let mut it = kids(f);
        let name = ctx.name(it.next().expect("a field name"))?;
        let (value, d) = expr_depth(ctx, it.next().expect("a field value"))?;
        depth = depth.max(d);
        out.push((name, value));
    }
    Ok((out, depth))
}
