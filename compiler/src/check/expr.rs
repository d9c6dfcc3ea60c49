//! Expressions: name resolution (LANGUAGE.md §5 order), typing, compilation to [`Expr`].
//! Member and index access live in `access.rs`, calls in `calls.rs` and `builtins.rs`.

use super::names::{Entry, Kind};
use super::schema::{pseudo, Keyed, PSEUDO_NAMES};
use super::suggest::did_you_mean;
use super::types::{binary, unary, OpError, Ty};
use super::Checker;
use crate::plan::{BindingId, Const, Expr, Pseudo, TypeId};
use nudge_grammar::ast::{self, ExprKind, Lit};
use nudge_grammar::{Diagnostic, Span};

/// Where an expression stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The `where` of the step (or negation) at this position of the chain.
    Where(usize),
    /// The pattern's `emit`.
    Emit,
}

/// A step binding (`as x`) as expressions see it.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub name: String,
    pub id: BindingId,
    /// Position of the step in the chain (negations included).
    pub step: usize,
    pub group: bool,
    pub types: Vec<TypeId>,
    /// Every type name of the step resolved (otherwise field reads are not checked:
    /// the unknown type is already reported).
    pub known: bool,
    pub span: Span,
}

/// What names mean at one place of a pattern.
pub(crate) struct Scope<'s> {
    pub place: Place,
    /// The current event's types: the step's own (in a `where`), or every positive
    /// step's (in `emit`, where bare fields read the match's last taken event).
    pub current: &'s [TypeId],
    /// The step's type names as written, for labels (empty in `emit`).
    pub current_names: &'s [(TypeId, Span)],
    pub bindings: &'s [Binding],
    /// The pattern's partition key.
    pub key: &'s Keyed,
    /// Every type of `current` resolved (otherwise unknown fields are not reported).
    pub known: bool,
}

/// A compiled expression with its type.
pub(crate) struct Typed {
    pub expr: Expr,
    pub ty: Ty,
}

impl Typed {
    pub(crate) fn new(expr: Expr, ty: Ty) -> Typed {
        Typed { expr, ty }
    }

    /// The result of an expression that failed to check (already reported).
    pub(crate) fn error() -> Typed {
        Typed::new(Expr::Const(Const::Null), Ty::Any)
    }
}

/// How a binding relates to the place that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rel {
    Earlier,
    Own,
    Later,
}

/// What a bare name denotes, in the order of LANGUAGE.md §5.
pub(crate) enum Found<'s> {
    Binding(&'s Binding, Rel),
    Decl(Entry),
    Key,
    Pseudo(Pseudo, Ty),
    /// Nothing above: a field of the current event, if anything.
    Field,
}

impl<'a> Checker<'a> {
    /// Resolves a bare name.
    pub(crate) fn lookup<'s>(&self, sc: &Scope<'s>, name: &str) -> Found<'s> {
        if let Some(b) = sc.bindings.iter().find(|b| b.name == name) {
            let rel = match sc.place {
                Place::Emit => Rel::Earlier,
                Place::Where(i) if b.step < i => Rel::Earlier,
                Place::Where(i) if b.step == i => Rel::Own,
                Place::Where(_) => Rel::Later,
            };
            return Found::Binding(b, rel);
        }
        if let Some(e) = self.names.get(name).filter(|e| e.kind.is_value()) {
            return Found::Decl(e.clone());
        }
        if name == "key" {
            return Found::Key;
        }
        if let Some((p, ty)) = pseudo(name) {
            return Found::Pseudo(p, ty);
        }
        Found::Field
    }

    /// Compiles and types an expression, reporting every problem in it.
    pub(crate) fn expr(&mut self, sc: &Scope, e: &ast::Expr) -> Typed {
        match &e.kind {
            ExprKind::Lit(lit) => literal(lit),
            ExprKind::Name(n) => self.bare_name(sc, n),
            ExprKind::Field(base, name) => self.member(sc, base, name),
            ExprKind::Index(base, idx) => self.index(sc, base, idx, e.span),
            ExprKind::Call(callee, args) => self.call(sc, callee, args, e.span),
            ExprKind::Unary(op, inner) => {
                let t = self.expr(sc, inner);
                match unary(*op, &t.ty) {
                    Ok(ty) => Typed::new(Expr::Unary(*op, Box::new(t.expr)), ty),
                    Err(err) => {
                        self.op_error(err, e.span, &[(inner.span, &t.ty)]);
                        Typed::error()
                    }
                }
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.expr(sc, l);
                let rt = self.expr(sc, r);
                match binary(*op, &lt.ty, &rt.ty) {
                    Ok(ty) => {
                        Typed::new(Expr::Binary(*op, Box::new(lt.expr), Box::new(rt.expr)), ty)
                    }
                    Err(err) => {
                        self.op_error(err, e.span, &[(l.span, &lt.ty), (r.span, &rt.ty)]);
                        Typed::error()
                    }
                }
            }
            ExprKind::List(items) => {
                let mut elem: Option<Ty> = None;
                let mut out = Vec::new();
                for item in items {
                    let t = self.expr(sc, item);
                    elem = Some(elem.map_or(t.ty.clone(), |e: Ty| e.join(&t.ty)));
                    out.push(t.expr);
                }
                Typed::new(Expr::List(out), Ty::List(Box::new(elem.unwrap_or(Ty::Any))))
            }
            ExprKind::Record(fields) => {
                let mut out: Vec<(String, Expr)> = Vec::new();
                let mut tys = Vec::new();
                for (i, (name, value)) in fields.iter().enumerate() {
                    if let Some((first, _)) = fields[..i].iter().find(|(n, _)| n.text == name.text)
                    {
                        self.diags.push(twice(name, first.span, "key"));
                    }
                    let t = self.expr(sc, value);
                    tys.push((name.text.clone(), t.ty));
                    out.push((name.text.clone(), t.expr));
                }
                Typed::new(Expr::Record(out), Ty::Record(Some(tys)))
            }
        }
    }

    fn op_error(&mut self, err: OpError, span: Span, operands: &[(Span, &Ty)]) {
        let label = err.label();
        let mut d = Diagnostic::error(err.code, err.message, span, label);
        for &(s, ty) in operands {
            if !ty.is_open() {
                d = d.with_label(s, format!("this is {}", ty.describe()));
            }
        }
        if let Some(help) = err.help {
            d = d.with_help(help);
        }
        self.diags.push(d);
    }

    fn bare_name(&mut self, sc: &Scope, n: &ast::Name) -> Typed {
        match self.lookup(sc, &n.text) {
            Found::Binding(b, Rel::Earlier) => {
                let ty = if !b.known {
                    Ty::Any
                } else if b.group {
                    Ty::Group(b.types.clone())
                } else {
                    Ty::Event(b.types.clone())
                };
                Typed::new(Expr::Bound(b.id), ty)
            }
            Found::Binding(b, rel) => self.misused_binding(b, rel, n.span, true),
            Found::Decl(e) => {
                self.not_a_value(&e, n.span);
                Typed::error()
            }
            Found::Key => {
                let ty = match sc.key.field {
                    Some(f) => self
                        .schema
                        .field_ty_anywhere(&self.schema.fields[f.index()].clone()),
                    None => Ty::Any,
                };
                Typed::new(Expr::Key, ty)
            }
            Found::Pseudo(p, ty) => Typed::new(Expr::Pseudo(p), ty),
            Found::Field => self.current_field(sc, n),
        }
    }

    /// Reports a binding named where it cannot be read (E105, E209, E112).
    pub(crate) fn misused_binding(
        &mut self,
        b: &Binding,
        rel: Rel,
        span: Span,
        whole: bool,
    ) -> Typed {
        let d = match rel {
            Rel::Later => Diagnostic::error(
                "E105",
                format!(
                    "`{}` is a later step: a condition can only read steps before it",
                    b.name
                ),
                span,
                "not matched yet at this point",
            )
            .with_label(b.span, "bound here, later in the pattern")
            .with_help("move this condition to the later step's `where`"),
            _ if b.group => Diagnostic::error(
                "E209",
                format!(
                    "a step with a quantifier cannot read its own name `{}` in its `where`",
                    b.name
                ),
                span,
                "this step's own group",
            )
            .with_label(b.span, "bound here")
            .with_help("write the field name alone to test each event, like `price > 10`"),
            _ => {
                debug_assert!(whole);
                Diagnostic::error(
                    "E112",
                    format!(
                        "`{}` is this step's own event: in its `where` only its fields can be read",
                        b.name
                    ),
                    span,
                    "the event being tested",
                )
                .with_help(format!(
                    "read a field of it, like `{}.price`, or write the field name alone",
                    b.name
                ))
            }
        };
        self.diags.push(d);
        Typed::error()
    }

    /// A bare field of the current event (the candidate in a `where`, the last taken event
    /// in `emit`): E103 when no type declares it, E211 when a `where` type lacks it.
    pub(crate) fn current_field(&mut self, sc: &Scope, n: &ast::Name) -> Typed {
        let (id, ty, declaring) = self.schema.field_over(sc.current, &n.text);
        let Some(id) = id.filter(|_| !declaring.is_empty()) else {
            if sc.known {
                self.unknown_field(sc, n);
            }
            return Typed::error();
        };
        if sc.known && matches!(sc.place, Place::Where(_)) && declaring.len() < sc.current.len() {
            let mut d = Diagnostic::error(
                "E211",
                format!("not every event type of this step has a field `{}`", n.text),
                n.span,
                "missing from some of the step's types",
            )
            .with_help("split the step, or test only fields every type declares");
            for &(t, span) in sc
                .current_names
                .iter()
                .filter(|(t, _)| !declaring.contains(t))
            {
                let tn = self.schema.type_name(t);
                d = d.with_label(span, format!("`{tn}` has no field `{}`", n.text));
            }
            self.diags.push(d);
        }
        Typed::new(Expr::Field(id), ty)
    }

    fn unknown_field(&mut self, sc: &Scope, n: &ast::Name) {
        let types: Vec<&str> = sc
            .current
            .iter()
            .map(|&t| self.schema.type_name(t))
            .collect();
        let message = match (sc.place, types.as_slice()) {
            (Place::Emit, _) => format!(
                "no event type matched by this pattern has a field `{}`",
                n.text
            ),
            (_, [one]) => format!("`{one}` has no field `{}`", n.text),
            _ => format!("none of {} has a field `{}`", quoted(&types), n.text),
        };
        let mut d = Diagnostic::error("E103", message, n.span, "unknown field");
        let mut cands = self.schema.field_names(sc.current);
        cands.extend(PSEUDO_NAMES);
        cands.extend(sc.bindings.iter().map(|b| b.name.as_str()));
        cands.extend(
            self.names
                .entries
                .iter()
                .filter(|e| e.kind.is_value())
                .map(|e| e.name.as_str()),
        );
        if let Some(help) = did_you_mean(&n.text, cands) {
            d = d.with_help(help);
        } else if self.schema.type_id(&n.text).is_some() {
            d = d.with_help(format!(
                "`{}` is an event type; name its step with `as` to read its event",
                n.text
            ));
        }
        self.diags.push(d);
    }

    /// E104: a name that is nothing at all, used as a value's base (`cartt.price`).
    pub(crate) fn unknown_name(&mut self, sc: &Scope, n: &ast::Name) {
        let mut d = Diagnostic::error(
            "E104",
            format!("`{}` is not a step name, a declaration or a field", n.text),
            n.span,
            "unknown name",
        );
        let mut cands: Vec<&str> = sc.bindings.iter().map(|b| b.name.as_str()).collect();
        cands.extend(
            self.names
                .entries
                .iter()
                .filter(|e| e.kind.is_value())
                .map(|e| e.name.as_str()),
        );
        cands.extend(self.schema.field_names(sc.current));
        d = match did_you_mean(&n.text, cands) {
            Some(help) => d.with_help(help),
            None => d.with_help("name a step with `as` to read its event later"),
        };
        self.diags.push(d);
    }

    /// E109: a declaration named where a value is needed (it counts as a use, so no
    /// W004 adds to the error).
    pub(crate) fn not_a_value(&mut self, e: &Entry, span: Span) {
        self.names.mark_used(&e.name);
        self.diags.push(
            Diagnostic::error(
                "E109",
                format!(
                    "`{}` is {}, which cannot be used this way",
                    e.name,
                    e.kind.a()
                ),
                span,
                e.kind.a(),
            )
            .with_label(e.span, "declared here")
            .with_help(usage(e)),
        );
    }
}

/// The typed constant of a literal.
fn literal(lit: &Lit) -> Typed {
    let ty = match lit {
        Lit::Str(_) => Ty::Str,
        Lit::Int(_) | Lit::Duration(_) => Ty::Int,
        Lit::Float(_) => Ty::Float,
        Lit::Bool(_) => Ty::Bool,
        Lit::Null => Ty::Null,
    };
    Typed::new(Expr::Const(super::enrich::lit_const(lit)), ty)
}

/// How a declaration of this kind is used in expressions.
pub(crate) fn usage(e: &Entry) -> String {
    let n = &e.name;
    match e.kind {
        Kind::Table => {
            format!("look a row up by its key: `{n}[product_id]` or `{n}[product_id].name`")
        }
        Kind::Vectors => format!("use it as `similar({n}, product_id, 10)`"),
        Kind::Model => format!("call it in `emit`: `{n}(...)`"),
        Kind::Session => format!("read `{n}.items`, `{n}.count` or `{n}.start`"),
        Kind::Covisit => format!("use it as `recommend({n}, items, 10)`"),
        Kind::Trending => format!("read `{n}.items` or `{n}.score(product_id)`"),
        Kind::Profile => format!("read one of its features: `{n}.FEATURE`"),
        Kind::Event | Kind::Pattern => "it is not a value".to_string(),
    }
}

/// E110 for a name written twice.
pub(crate) fn twice(name: &ast::Name, first: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "E110",
        format!("the {what} `{}` is written twice", name.text),
        name.span,
        "written again here",
    )
    .with_label(first, "first written here")
    .with_help("remove one of them")
}

pub(crate) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// "`A`, `B` or `C`".
pub(crate) fn quoted(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match q.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}
