//! Building the file and its schema declarations: `input`, `event`, `table`, `vectors`,
//! `model` (LANGUAGE.md §2, §3, §6).

use pest::iterators::Pair;

use super::order::Order;
use super::{expr, kids, last_kid, operator, pattern, Ctx, Rule};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

type Res<T> = Result<T, Diagnostic>;

/// A whole file (`file` or `file_loose`).
pub(super) fn file(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<File> {
    let mut decls = Vec::new();
    for p in pair.into_inner() {
        let decl = match p.as_rule() {
            Rule::input_decl | Rule::input_loose => Decl::Input(input(ctx, p)?),
            Rule::event_decl => Decl::Event(event(ctx, p)?),
            Rule::table_decl | Rule::table_loose => Decl::Table(table(ctx, p)?),
            Rule::vectors_decl | Rule::vectors_loose => Decl::Vectors(vectors(ctx, p)?),
            Rule::model_decl | Rule::model_loose => Decl::Model(model(ctx, p)?),
            Rule::session_decl | Rule::session_loose => Decl::Session(operator::session(ctx, p)?),
            Rule::covisit_decl | Rule::covisit_loose => Decl::Covisit(operator::covisit(ctx, p)?),
            Rule::trending_decl | Rule::trending_loose => {
                Decl::Trending(operator::trending(ctx, p)?)
            }
            Rule::profile_decl | Rule::profile_loose => Decl::Profile(operator::profile(ctx, p)?),
            Rule::pattern_decl | Rule::pattern_loose => Decl::Pattern(pattern::pattern(ctx, p)?),
            Rule::EOI => continue,
            r => unreachable!("not a declaration: {r:?}"),
        };
        decls.push(decl);
    }
    Ok(File { decls })
}

fn input(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<InputDecl> {
    const PLACES: &[&str] = &["type field", "time field", "lateness", "idle", "key"];
    let mut order = Order::new("`input`", PLACES);
    let mut d = InputDecl {
        span: ctx.span(&pair),
        type_field: None,
        time_field: None,
        lateness: None,
        idle: None,
        key: None,
    };
    for p in kids(pair).skip(1) {
        let span = ctx.span(&p);
        match p.as_rule() {
            Rule::type_field_clause => {
                order.see("type field", span, false)?;
                d.type_field = Some(ctx.name(last_kid(p))?);
            }
            Rule::time_field_clause => {
                order.see("time field", span, false)?;
                let mut name = None;
                let mut seconds = None;
                for q in kids(p) {
                    match q.as_rule() {
                        Rule::field_name => name = Some(ctx.name(q)?),
                        Rule::kw_seconds => seconds = Some(ctx.span(&q)),
                        _ => {}
                    }
                }
                let name = name.expect("time field has a name");
                d.time_field = Some(TimeField { name, seconds });
            }
            Rule::lateness_clause => {
                order.see("lateness", span, false)?;
                d.lateness = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::idle_clause => {
                order.see("idle", span, false)?;
                d.idle = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::key_clause => {
                order.see("key", span, false)?;
                d.key = Some(ctx.name(last_kid(p))?);
            }
            r => unreachable!("input clause {r:?}"),
        }
    }
    Ok(d)
}

fn event(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<EventDecl> {
    let span = ctx.span(&pair);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("event name"))?;
    let fields = schema(ctx, it.next().expect("event schema"))?;
    Ok(EventDecl { span, name, fields })
}

/// `{ field: TYPE, ... }`
fn schema(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<Vec<FieldDecl>> {
    kids(pair)
        .map(|f| {
            let mut it = kids(f);
            let name = ctx.name(it.next().expect("field name"))?;
            let ty_pair = it.next().expect("field type");
            let ty = match ty_pair.as_str() {
                "string" => FieldType::String,
                "int" => FieldType::Int,
                "float" => FieldType::Float,
                "bool" => FieldType::Bool,
                "list" => FieldType::List,
                t => unreachable!("field type {t}"),
            };
            Ok(FieldDecl {
                name,
                ty,
                ty_span: ctx.span(&ty_pair),
            })
        })
        .collect()
}

fn table(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<TableDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a `table`", &["from", "key"]);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("table name"))?;
    let fields = schema(ctx, it.next().expect("table schema"))?;
    let (mut from, mut key) = (None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::from_clause => {
                order.see("from", at, false)?;
                from = Some(ctx.str_lit(&last_kid(p))?);
            }
            Rule::key_clause => {
                order.see("key", at, false)?;
                key = Some(ctx.name(last_kid(p))?);
            }
            r => unreachable!("table clause {r:?}"),
        }
    }
    Ok(TableDecl {
        span,
        name,
        fields,
        from: from.ok_or_else(|| ctx.missing("`from`", span))?,
        key: key.ok_or_else(|| ctx.missing("`key`", span))?,
    })
}

fn vectors(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<VectorsDecl> {
    let span = ctx.span(&pair);
    let mut order = Order::new("a `vectors` declaration", &["from", "key"]);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("vectors name"))?;
    let (mut from, mut key) = (None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::from_clause => {
                order.see("from", at, false)?;
                from = Some(ctx.str_lit(&last_kid(p))?);
            }
            Rule::key_clause => {
                order.see("key", at, false)?;
                key = Some(ctx.name(last_kid(p))?);
            }
            r => unreachable!("vectors clause {r:?}"),
        }
    }
    Ok(VectorsDecl {
        span,
        name,
        from: from.ok_or_else(|| ctx.missing("`from`", span))?,
        key: key.ok_or_else(|| ctx.missing("`key`", span))?,
    })
}

fn model(ctx: &Ctx<'_>, pair: Pair<'_, Rule>) -> Res<ModelDecl> {
    const PLACES: &[&str] = &["url", "timeout", "concurrency", "fallback"];
    let span = ctx.span(&pair);
    let mut order = Order::new("a `model`", PLACES);
    let mut it = kids(pair).skip(1);
    let name = ctx.name(it.next().expect("model name"))?;
    let mut url = None;
    let (mut timeout, mut concurrency, mut fallback) = (None, None, None);
    for p in it {
        let at = ctx.span(&p);
        match p.as_rule() {
            Rule::url_clause => {
                order.see("url", at, false)?;
                url = Some(ctx.str_lit(&last_kid(p))?);
            }
            Rule::timeout_clause => {
                order.see("timeout", at, false)?;
                timeout = Some(ctx.duration(&last_kid(p))?);
            }
            Rule::concurrency_clause => {
                order.see("concurrency", at, false)?;
                concurrency = Some(ctx.count(&last_kid(p))?);
            }
            Rule::fallback_clause => {
                order.see("fallback", at, false)?;
                fallback = Some(expr::expr(ctx, last_kid(p))?);
            }
            r => unreachable!("model clause {r:?}"),
        }
    }
    Ok(ModelDecl {
        span,
        name,
        url: url.ok_or_else(|| ctx.missing("`url`", span))?,
        timeout,
        concurrency,
        fallback,
    })
}
