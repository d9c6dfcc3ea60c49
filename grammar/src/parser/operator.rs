//! Building behaviour operators and profiles: `session`, `covisit`, `trending`, `profile`
//! (LANGUAGE.md §7, §8).

use pest::iterators::Pair;

use super::order::Order;
use super::{kids, last_kid, literal, Ctx, Rule};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

type Res<T> = Result<T, Diagnostic>;

pub(super) fn session(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<SessionDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a `session`", &["per", "of", "gap", "items"]);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("session name"))?;
    let (mut per, mut of, mut gap, mut items) = (None, Vec::new(), None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::per_clause => {
                order.see("per", at, false)?;
                per = Some(ctx.name(last_kid(p))?);
            }
            Rule::of_clause => {
                order.see("of", at, false)?;
                of = kids(p).skip(1).map(|t| ctx.name(t)).collect::<Res<_>>()?;
            }
            Rule::gap_clause => {
                order.see("gap", at, false)?;
                gap = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::items_clause => {
                order.see("items", at, false)?;
                let mut q = kids(p).skip(1);
                let field = ctx.name(q.next().expect("items field"))?;
                let last = ctx.count(&q.nth(1).expect("items count"))?;
                items = Some((field, last));
            }
            r => unreachable!("session clause {r:?}"),
        }
    }
    let (items, last) = items.ok_or_else(|| ctx.missing("`items`", span))?;
    Ok(SessionDecl {
        span,
        name,
        per,
        of,
        gap: gap.ok_or_else(|| ctx.missing("`gap`", span))?,
        items,
        last,
    })
}

pub(super) fn covisit(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<CovisitDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a `covisit`", &["from", "refresh", "keep"]);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("covisit name"))?;
    let (mut from, mut refresh, mut keep) = (None, None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::covisit_from => {
                order.see("from", at, false)?;
                from = Some(ctx.name(last_kid(p))?);
            }
            Rule::refresh_clause => {
                order.see("refresh", at, false)?;
                refresh = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::keep_clause => {
                order.see("keep", at, false)?;
                keep = Some(ctx.count(&kids(p).nth(1).expect("keep count"))?);
            }
            r => unreachable!("covisit clause {r:?}"),
        }
    }
    Ok(CovisitDecl {
        span,
        name,
        from: from.ok_or_else(|| ctx.missing("`from`", span))?,
        refresh,
        keep,
    })
}

pub(super) fn trending(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<TrendingDecl> {
    const PLACES: &[&str] = &["of", "by", "over", "every", "top", "emit"];
    let span = ctx.span(&pair);
    let mut order = Order::new("a `trending`", PLACES);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("trending name"))?;
    let mut of = None;
    let (mut by, mut over, mut every, mut top, mut emit) = (None, None, None, None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::trending_of => {
                order.see("of", at, false)?;
                of = Some(
                    kids(p)
                        .skip(1)
                        .map(|w| weighted_type(ctx, w))
                        .collect::<Res<Vec<_>>>()?,
                );
            }
            Rule::by_clause => {
                order.see("by", at, false)?;
                by = Some(ctx.name(last_kid(p))?);
            }
            Rule::over_clause => {
                order.see("over", at, false)?;
                over = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::every_clause => {
                order.see("every", at, false)?;
                every = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::top_clause => {
                order.see("top", at, false)?;
                top = Some(ctx.count(&last_kid(p))?);
            }
            Rule::trending_emit => {
                order.see("emit", at, false)?;
                let into = kids(p)
                    .find(|q| q.as_rule() == Rule::string)
                    .map(|q| ctx.str_lit(&q))
                    .transpose()?;
                emit = Some(TrendingEmit { span: at, into });
            }
            r => unreachable!("trending clause {r:?}"),
        }
    }
    Ok(TrendingDecl {
        span,
        name,
        of: of.ok_or_else(|| ctx.missing("`of`", span))?,
        by: by.ok_or_else(|| ctx.missing("`by`", span))?,
        over: over.ok_or_else(|| ctx.missing("`over`", span))?,
        every: every.ok_or_else(|| ctx.missing("`every`", span))?,
        top: top.ok_or_else(|| ctx.missing("`top`", span))?,
        emit,
    })
}

/// `TYPE [weight W]`
fn weighted_type(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<WeightedType> {
    let mut it = kids(pair);
    let ty = ctx.name(it.next().expect("weighted type"))?;
    let weight = match it.nth(1) {
        Some(number) => {
            let span = ctx.span(&number);
            Some((literal::float(number.as_str(), span)?, span))
        }
        None => None,
    };
    Ok(WeightedType { ty, weight })
}

pub(super) fn profile(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<ProfileDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a `profile`", &["per", "features", "sink"]);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("profile name"))?;
    let (mut per, mut features, mut sink_redis) = (None, None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::per_clause => {
                order.see("per", at, false)?;
                per = Some(ctx.name(last_kid(p))?);
            }
            Rule::features_clause => {
                order.see("features", at, false)?;
                features = Some(
                    kids(p)
                        .skip(1)
                        .map(|f| feature(ctx, f))
                        .collect::<Res<Vec<_>>>()?,
                );
            }
            Rule::sink_clause => {
                order.see("sink", at, false)?;
                sink_redis = Some(ctx.str_lit(&last_kid(p))?);
            }
            r => unreachable!("profile clause {r:?}"),
        }
    }
    Ok(ProfileDecl {
        span,
        name,
        per,
        features: features.ok_or_else(|| ctx.missing("`features`", span))?,
        sink_redis,
    })
}

/// `name: agg(ARG) [over D]`
fn feature(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Feature> {
    let span = ctx.span(&pair);
    let mut it = kids(pair);
    let name = ctx.name(it.next().expect("feature name"))?;
    let agg = ctx.name(it.next().expect("feature aggregate"))?;
    let mut arg_parts = kids(it.next().expect("feature argument"));
    let arg = ctx.name(arg_parts.next().expect("argument name"))?;
    let arg_field = arg_parts.next().map(|f| ctx.name(f)).transpose()?;
    let over = match it.nth(1) {
        Some(d) => Some(ctx.duration(&d)?),
        None => None,
    };
    Ok(Feature {
        span,
        name,
        agg,
        arg,
        arg_field,
        over,
    })
}
