//! Function calls: built-ins (LANGUAGE.md §5), `similar`, `recommend`, `hot.score(x)` and
//! model calls, with arity (E404) and argument types (E405).

use super::builtins::{Arg, BUILTINS};
use super::expr::{usage, Place, Scope, Typed};
use super::names::{Entry, Kind};
use super::suggest::did_you_mean;
use super::types::Ty;
use super::Checker;
use crate::plan::{CovisitId, Expr, ModelId, TrendingId, VectorsId};
use nudge_grammar::ast::{self, ExprKind};
use nudge_grammar::{Diagnostic, Span};

impl Checker<'_> {
    /// `callee(args)`.
    pub(crate) fn call(
        &mut self,
        sc: &Scope,
        callee: &ast::Expr,
        args: &[ast::Expr],
        span: Span,
    ) -> Typed {
        match &callee.kind {
            ExprKind::Name(n) => {
                if let Some(e) = self
                    .names
                    .get(&n.text)
                    .filter(|e| e.kind == Kind::Model)
                    .cloned()
                {
                    return self.model_call(sc, &e, args, span);
                }
                match n.text.as_str() {
                    "similar" => return self.similar(sc, n, args, span),
                    "recommend" => return self.recommend(sc, n, args, span),
                    _ => {}
                }
                if let Some(&(name, f, lo, hi)) = BUILTINS.iter().find(|b| b.0 == n.text) {
                    let args = self.args(sc, args);
                    if !self.arity(name, args.len(), lo, hi, span) {
                        return Typed::error();
                    }
                    let ty = self.builtin_type(name, f, &args);
                    let exprs = args.into_iter().map(|a| a.t.expr).collect();
                    return Typed::new(Expr::Call(f, exprs), ty);
                }
                self.args(sc, args);
                match self
                    .names
                    .get(&n.text)
                    .filter(|e| e.kind.is_value())
                    .cloned()
                {
                    Some(e) => self.not_a_value(&e, n.span),
                    None => {
                        let d = self.unknown_function(&n.text, n.span);
                        self.diags.push(d);
                    }
                }
                Typed::error()
            }
            ExprKind::Field(base, member) => {
                let entry = match &base.kind {
                    ExprKind::Name(bn) => self.names.get(&bn.text).cloned(),
                    _ => None,
                };
                if let Some(e) = entry
                    .as_ref()
                    .filter(|e| e.kind == Kind::Trending && member.text == "score")
                {
                    return self.trending_score(sc, e, args, span);
                }
                self.args(sc, args);
                match entry {
                    Some(e) if e.kind == Kind::Trending => {
                        let d = Diagnostic::error(
                            "E403",
                            format!("the trending `{}` has no function `{}`", e.name, member.text),
                            member.span,
                            "unknown function",
                        )
                        .with_help(format!("its only function is `{}.score(item)`", e.name));
                        self.diags.push(d);
                    }
                    _ => self.diags.push(
                        Diagnostic::error("E403", "this is not a function", callee.span, "cannot be called")
                            .with_help("functions are built-ins such as `lower(x)`, models, and `hot.score(x)`"),
                    ),
                }
                Typed::error()
            }
            _ => {
                self.args(sc, args);
                self.diags.push(Diagnostic::error(
                    "E403",
                    "only a function name can be called",
                    callee.span,
                    "not a function",
                ));
                Typed::error()
            }
        }
    }

    fn args(&mut self, sc: &Scope, args: &[ast::Expr]) -> Vec<Arg> {
        let mut out = Vec::new();
        for a in args {
            let t = self.expr(sc, a);
            out.push(Arg { t, span: a.span });
        }
        out
    }

    fn unknown_function(&self, name: &str, span: Span) -> Diagnostic {
        let mut cands: Vec<&str> = BUILTINS.iter().map(|b| b.0).collect();
        cands.extend(["similar", "recommend"]);
        cands.extend(self.names.names_of(&[Kind::Model]));
        let d = Diagnostic::error(
            "E403",
            format!("there is no function `{name}`"),
            span,
            "unknown function",
        );
        match did_you_mean(name, cands) {
            Some(help) => d.with_help(help),
            None => d.with_note("functions: count sum avg min max count_distinct first last len take unique lower upper contains starts_with abs round least greatest hour_of_day day_of_week similar recommend, and declared models"),
        }
    }

    /// E404 unless `lo <= n <= hi`.
    fn arity(&mut self, name: &str, n: usize, lo: usize, hi: usize, span: Span) -> bool {
        if (lo..=hi).contains(&n) {
            return true;
        }
        let want = match (lo, hi) {
            (1, 1) => "1 argument".to_string(),
            (a, b) if a == b => format!("{a} arguments"),
            (a, b) => format!("{a} or {b} arguments"),
        };
        self.diags.push(Diagnostic::error(
            "E404",
            format!(
                "`{name}` takes {want}, but {n} {} given",
                if n == 1 { "was" } else { "were" }
            ),
            span,
            format!("expects {want}"),
        ));
        false
    }

    /// The declaration a call's first argument names (`similar(item_vecs, ...)`), E109 if it
    /// names something else.
    fn decl_arg(&mut self, sc: &Scope, func: &str, arg: &ast::Expr, kind: Kind) -> Option<u32> {
        let found = match &arg.kind {
            ExprKind::Name(n) => self.names.get(&n.text).cloned(),
            _ => None,
        };
        if let Some(e) = found.as_ref().filter(|e| e.kind == kind) {
            self.names.mark_used(&e.name);
            return Some(e.index);
        }
        let mut d = Diagnostic::error(
            "E109",
            format!("the first argument of `{func}` must name {}", kind.a()),
            arg.span,
            match &found {
                Some(e) => format!("this is {}", e.kind.a()),
                None => format!("not {}", kind.a()),
            },
        );
        let text = match &arg.kind {
            ExprKind::Name(n) => n.text.clone(),
            _ => String::new(),
        };
        if let Some(help) = did_you_mean(&text, self.names.names_of(&[kind])) {
            d = d.with_help(help);
        } else if let Some(e) = &found {
            d = d.with_label(e.span, "declared here").with_help(usage(e));
        }
        if let Some(e) = &found {
            self.names.mark_used(&e.name);
        }
        self.diags.push(d);
        if found.is_none() {
            self.expr(sc, arg);
        }
        None
    }

    /// The arguments of a call with the wrong number of them: checked for their own
    /// mistakes, the leading declaration name accepted as it is.
    fn args_after_arity(&mut self, sc: &Scope, args: &[ast::Expr], kind: Kind) {
        let named = match args.first().map(|a| &a.kind) {
            Some(ExprKind::Name(n)) => self.names.get(&n.text).filter(|e| e.kind == kind).cloned(),
            _ => None,
        };
        match named {
            Some(e) => {
                self.names.mark_used(&e.name);
                self.args(sc, &args[1..]);
            }
            None => {
                self.args(sc, args);
            }
        }
    }

    /// `similar(vectors, x, k)`.
    fn similar(&mut self, sc: &Scope, n: &ast::Name, args: &[ast::Expr], span: Span) -> Typed {
        if !self.arity(&n.text, args.len(), 3, 3, span) {
            self.args_after_arity(sc, args, Kind::Vectors);
            return Typed::error();
        }
        let id = self.decl_arg(sc, "similar", &args[0], Kind::Vectors);
        let rest = self.args(sc, &args[1..]);
        let x_ok = rest[0].t.ty.may_be_str() || rest[0].t.ty == Ty::Int;
        self.need("similar", &rest[0], x_ok, "an item id", None);
        self.need(
            "similar",
            &rest[1],
            rest[1].t.ty == Ty::Int,
            "a whole number of items",
            None,
        );
        let Some(id) = id else { return Typed::error() };
        let mut it = rest.into_iter();
        let (x, k) = (it.next().unwrap().t.expr, it.next().unwrap().t.expr);
        Typed::new(
            Expr::Similar(VectorsId(id), Box::new(x), Box::new(k)),
            Ty::list_any(),
        )
    }

    /// `recommend(covisit, items, k)`.
    fn recommend(&mut self, sc: &Scope, n: &ast::Name, args: &[ast::Expr], span: Span) -> Typed {
        if !self.arity(&n.text, args.len(), 3, 3, span) {
            self.args_after_arity(sc, args, Kind::Covisit);
            return Typed::error();
        }
        let id = self.decl_arg(sc, "recommend", &args[0], Kind::Covisit);
        let rest = self.args(sc, &args[1..]);
        self.need(
            "recommend",
            &rest[0],
            matches!(rest[0].t.ty, Ty::List(_)),
            "a list of item ids",
            None,
        );
        self.need(
            "recommend",
            &rest[1],
            rest[1].t.ty == Ty::Int,
            "a whole number of items",
            None,
        );
        let Some(id) = id else { return Typed::error() };
        let mut it = rest.into_iter();
        let (items, k) = (it.next().unwrap().t.expr, it.next().unwrap().t.expr);
        Typed::new(
            Expr::Recommend(CovisitId(id), Box::new(items), Box::new(k)),
            Ty::list_any(),
        )
    }

    /// `hot.score(x)`.
    fn trending_score(&mut self, sc: &Scope, e: &Entry, args: &[ast::Expr], span: Span) -> Typed {
        self.names.mark_used(&e.name);
        let args = self.args(sc, args);
        if !self.arity(&format!("{}.score", e.name), args.len(), 1, 1, span) {
            return Typed::error();
        }
        let x = args.into_iter().next().unwrap().t;
        Typed::new(
            Expr::TrendingScore(TrendingId(e.index), Box::new(x.expr)),
            Ty::Float,
        )
    }

    /// E411: a model call must be the whole value of an emit field (`ranked: ranker(x)`),
    /// so that the engine can hand the call to the runner and fill the field with the
    /// reply; a call anywhere inside that value, or inside its argument, is reported.
    pub(crate) fn nested_model_calls(&mut self, field: &ast::Name, value: &ast::Expr) {
        let inner: &[ast::Expr] = match &value.kind {
            ExprKind::Call(callee, args) if self.model_named(callee).is_some() => args,
            _ => std::slice::from_ref(value),
        };
        let mut found = Vec::new();
        for e in inner {
            self.find_model_calls(e, &mut found);
        }
        for (name, span) in found {
            self.diags.push(
                Diagnostic::error(
                    "E411",
                    format!("the model `{name}` must be the whole value of an emit field"),
                    span,
                    "model call inside an expression",
                )
                .with_label(field.span, "the field")
                .with_help(format!(
                    "give the call a field of its own, e.g. `{name}_reply: {name}(...)`; the reply (or the fallback) is the field's value"
                )),
            );
        }
    }

    /// The model a callee names, if it names one.
    fn model_named(&self, callee: &ast::Expr) -> Option<String> {
        match &callee.kind {
            ExprKind::Name(n) => self
                .names
                .get(&n.text)
                .filter(|e| e.kind == Kind::Model)
                .map(|e| e.name.clone()),
            _ => None,
        }
    }

    /// Every model call in `e` (its name and span).
    fn find_model_calls(&self, e: &ast::Expr, found: &mut Vec<(String, Span)>) {
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Name(_) => {}
            ExprKind::Field(base, _) | ExprKind::Unary(_, base) => {
                self.find_model_calls(base, found)
            }
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.find_model_calls(a, found);
                self.find_model_calls(b, found);
            }
            ExprKind::Call(callee, args) => {
                if let Some(name) = self.model_named(callee) {
                    found.push((name, e.span));
                }
                self.find_model_calls(callee, found);
                for a in args {
                    self.find_model_calls(a, found);
                }
            }
            ExprKind::List(items) => {
                for a in items {
                    self.find_model_calls(a, found);
                }
            }
            ExprKind::Record(fields) => {
                for (_, a) in fields {
                    self.find_model_calls(a, found);
                }
            }
        }
    }

    /// `model(arg)`: only in `emit` (E406).
    fn model_call(&mut self, sc: &Scope, e: &Entry, args: &[ast::Expr], span: Span) -> Typed {
        self.names.mark_used(&e.name);
        let args = self.args(sc, args);
        if !self.arity(&e.name, args.len(), 1, 1, span) {
            return Typed::error();
        }
        if let Place::Where(_) = sc.place {
            self.diags.push(
                Diagnostic::error(
                    "E406",
                    format!("the model `{}` can only be called in `emit`", e.name),
                    span,
                    "model call in a condition",
                )
                .with_label(e.span, "declared here")
                .with_help("matching must not wait for the network: call models only to fill emitted fields"),
            );
            return Typed::error();
        }
        let arg = args.into_iter().next().unwrap().t.expr;
        Typed::new(Expr::Model(ModelId(e.index), Box::new(arg)), Ty::Any)
    }
}
