//! Building `pattern` declarations and their steps (LANGUAGE.md §4).

use pest::iterators::Pair;

use super::order::Order;
use super::{expr, kids, last_kid, literal, Ctx, Rule};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

type Res<T> = Result<T, Diagnostic>;

const PLACES: &[&str] = &[
    "per",
    "when",
    "then",
    "window",
    "cooldown",
    "after match",
    "emit",
];
const STEP_PLACES: &[&str] = &["quantifier", "as", "where", "within"];

/// `pattern NAME ...` (strict or loose).
pub(super) fn pattern(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<PatternDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a pattern", PLACES);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("pattern name"))?;
    let mut per = None;
    let mut steps = Vec::new();
    let (mut window, mut cooldown, mut after_match, mut emit) = (None, None, None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::per_clause => {
                order.see("per", at, false)?;
                per = Some(ctx.name(last_kid(p))?);
            }
            Rule::when_step | Rule::when_step_loose => {
                order.see("when", at, false)?;
                steps.push(step(ctx, p)?);
            }
            Rule::then_step | Rule::then_step_loose => {
                order.see("then", at, true)?;
                steps.push(step(ctx, p)?);
            }
            Rule::window_clause => {
                order.see("window", at, false)?;
                window = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::cooldown_clause => {
                order.see("cooldown", at, false)?;
                cooldown = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::after_clause => {
                order.see("after match", at, false)?;
                let keep_all = kids(p).any(|q| q.as_rule() == Rule::kw_keep);
                after_match = Some(AfterMatch { span: at, keep_all });
            }
            Rule::emit_clause => {
                order.see("emit", at, false)?;
                emit = Some(emit_clause(ctx, p)?);
            }
            r => unreachable!("pattern clause {r:?}"),
        }
    }
    if !matches!(steps.first(), Some(s) if s.link == Link::When) {
        return Err(ctx.missing("`when`", span));
    }
    Ok(PatternDecl {
        span,
        name,
        per,
        steps,
        window,
        cooldown,
        after_match,
        emit: emit.ok_or_else(|| ctx.missing("`emit`", span))?,
    })
}

/// `when STEP`, `then [next] [not] STEP` (strict or loose).
fn step(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Step> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a step", STEP_PLACES);
    let mut s = Step {
        span,
        link: Link::When,
        link_span: span,
        not: None,
        types: Vec::new(),
        quant: None,
        alias: None,
        where_: None,
        within: None,
    };
    for p in kids(pair) {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::kw_when => (s.link, s.link_span) = (Link::When, at),
            Rule::kw_then => (s.link, s.link_span) = (Link::Then, at),
            Rule::kw_next => (s.link, s.link_span) = (Link::ThenNext, s.link_span.to(at)),
            Rule::kw_not => s.not = Some(at),
            Rule::types => {
                s.types = kids(p)
                    .filter(|q| q.as_rule() == Rule::type_name)
                    .map(|q| ctx.name(q))
                    .collect::<Res<_>>()?;
            }
            Rule::quant => {
                order.see("quantifier", at, false)?;
                s.quant = Some(quant(ctx, p)?);
            }
            Rule::as_clause => {
                order.see("as", at, false)?;
                s.alias = Some(ctx.name(last_kid(p))?);
            }
            Rule::where_clause => {
                order.see("where", at, false)?;
                s.where_ = Some(expr::expr(ctx, last_kid(p))?);
            }
            Rule::within_clause => {
                order.see("within", at, false)?;
                s.within = Some(ctx.duration(&last_kid(p))?);
            }
            r => unreachable!("step part {r:?}"),
        }
    }
    Ok(s)
}

/// `{n}`, `{n,}`, `{n,m}`, `+`, `*`, `?`
fn quant(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Quant> {
    let span = ctx.span(&pair);
    let max = u32::MAX as u64;
    let number = |p: &Pair<'_, Rule>| -> Res<u32> {
        Ok(literal::unsigned(p.as_str(), max, ctx.span(p))? as u32)
    };
    let (min, max) = match pair.as_str() {
        "+" => (1, None),
        "*" => (0, None),
        "?" => (0, Some(1)),
        _ => {
            let parts: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
            let min = number(&parts[1])?;
            let has_comma = parts.iter().any(|p| p.as_rule() == Rule::comma);
            let upper = parts.iter().skip(2).find(|p| p.as_rule() == Rule::count);
            match (has_comma, upper) {
                (false, _) => (min, Some(min)),
                (true, None) => (min, None),
                (true, Some(u)) => (min, Some(number(u)?)),
            }
        }
    };
    Ok(Quant { span, min, max })
}

/// `emit [into "NAME"] { field: EXPR, ... }`
fn emit_clause(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Emit> {
    let span = ctx.span(&pair);
    let mut into = None;
    let mut fields = Vec::new();
    for p in kids(pair) {
        match p.as_rule() {
            Rule::string => into = Some(ctx.str_lit(&p)?),
            Rule::emit_fields => fields = expr::record_fields(ctx, p)?,
            _ => {}
        }
    }
    Ok(Emit { span, into, fields })
}
