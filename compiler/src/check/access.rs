//! Reading parts of values: `x.f` (bindings, operators, records, events) and `x[i]`
//! (table rows, list and group elements).

use super::expr::{quoted, strings, Binding, Found, Rel, Scope, Typed};
use super::names::{Entry, Kind};
use super::schema::{pseudo, Keyed, PSEUDO_NAMES};
use super::suggest::did_you_mean;
use super::types::{binary, Ty};
use super::Checker;
use crate::plan::{Expr, ProfileId, SessionAttr, SessionId, TableId, TrendingId, TypeId};
use nudge_grammar::ast::{self, ExprKind};
use nudge_grammar::{Diagnostic, Span};

impl Checker<'_> {
    /// `base.name`.
    pub(crate) fn member(&mut self, sc: &Scope, base: &ast::Expr, name: &ast::Name) -> Typed {
        if let ExprKind::Name(bn) = &base.kind {
            match self.lookup(sc, &bn.text) {
                Found::Binding(b, Rel::Earlier) => return self.binding_field(b, name),
                Found::Binding(b, Rel::Own) if !b.group => {
                    return match pseudo(&name.text) {
                        Some((p, ty)) => Typed::new(Expr::Pseudo(p), ty),
                        None => self.current_field(sc, name),
                    };
                }
                Found::Binding(b, rel) => return self.misused_binding(b, rel, bn.span, false),
                Found::Decl(e) => return self.decl_member(sc, &e, bn, name),
                Found::Field if self.schema.field_id(&bn.text).is_none() => {
                    self.unknown_name(sc, bn);
                    return Typed::error();
                }
                _ => {}
            }
        }
        let t = self.expr(sc, base);
        self.value_member(t, base.span, name)
    }

    /// `x.f` of an earlier step: its field, or the list of its group's values.
    fn binding_field(&mut self, b: &Binding, name: &ast::Name) -> Typed {
        if let Some((p, ty)) = pseudo(&name.text) {
            return match b.group {
                true => Typed::new(Expr::GroupPseudo(b.id, p), Ty::List(Box::new(ty))),
                false => Typed::new(Expr::BoundPseudo(b.id, p), ty),
            };
        }
        let (id, ty, declaring) = self.schema.field_over(&b.types, &name.text);
        match id.filter(|_| !declaring.is_empty()) {
            Some(id) if b.group => Typed::new(Expr::GroupField(b.id, id), Ty::List(Box::new(ty))),
            Some(id) => Typed::new(Expr::BoundField(b.id, id), ty),
            None => {
                if b.known {
                    self.no_such_field(&b.types, name, Some(b));
                }
                Typed::error()
            }
        }
    }

    /// E103 for `.name` on events of these types.
    fn no_such_field(&mut self, types: &[TypeId], name: &ast::Name, b: Option<&Binding>) {
        let tn: Vec<&str> = types.iter().map(|&t| self.schema.type_name(t)).collect();
        let whose = match b {
            Some(b) => format!("`{}` ({})", b.name, tn.join(" or ")),
            None => quoted(&tn),
        };
        let mut d = Diagnostic::error(
            "E103",
            format!("{whose} has no field `{}`", name.text),
            name.span,
            "unknown field",
        );
        let mut cands = self.schema.field_names(types);
        cands.extend(PSEUDO_NAMES);
        if let Some(help) = did_you_mean(&name.text, cands) {
            d = d.with_help(help);
        }
        if let Some(b) = b {
            d = d.with_label(b.span, "bound here");
        }
        self.diags.push(d);
    }

    /// `.name` of a computed value.
    fn value_member(&mut self, t: Typed, base_span: Span, name: &ast::Name) -> Typed {
        let member =
            |t: Typed, ty| Typed::new(Expr::Member(Box::new(t.expr), name.text.clone()), ty);
        match &t.ty {
            Ty::Event(types) => {
                if let Some((_, ty)) = pseudo(&name.text) {
                    return member(t, ty);
                }
                let (id, ty, declaring) = self.schema.field_over(types, &name.text);
                if id.is_none() || declaring.is_empty() {
                    let types = types.clone();
                    self.no_such_field(&types, name, None);
                    return Typed::error();
                }
                member(t, ty)
            }
            Ty::Record(Some(cols)) => match cols.iter().find(|(c, _)| *c == name.text) {
                Some((_, ty)) => {
                    let ty = ty.clone();
                    member(t, ty)
                }
                None => {
                    let mut d = Diagnostic::error(
                        "E103",
                        format!("this record has no field `{}`", name.text),
                        name.span,
                        "unknown field",
                    );
                    if let Some(help) =
                        did_you_mean(&name.text, cols.iter().map(|(c, _)| c.as_str()))
                    {
                        d = d.with_help(help);
                    }
                    self.diags.push(d);
                    Typed::error()
                }
            },
            Ty::Record(None) | Ty::Any | Ty::Null => member(t, Ty::Any),
            ty => {
                let mut d = Diagnostic::error(
                    "E408",
                    format!(
                        "{} has no fields, so `.{}` cannot be read",
                        ty.describe(),
                        name.text
                    ),
                    name.span,
                    "no such field",
                )
                .with_label(base_span, format!("this is {}", ty.describe()));
                if matches!(ty, Ty::Group(_)) {
                    d = d.with_help(
                        "read a field of a step's group from its name, like `cart.price`",
                    );
                }
                self.diags.push(d);
                Typed::error()
            }
        }
    }

    /// `browsing.items`, `hot.items`, `customer.views_1h`, ...
    fn decl_member(&mut self, sc: &Scope, e: &Entry, bn: &ast::Name, name: &ast::Name) -> Typed {
        let span = bn.span.to(name.span);
        let i = e.index as usize;
        let (members, found): (Vec<String>, Option<Typed>) = match e.kind {
            Kind::Session => {
                let items = self.ops.session_items[i].clone();
                let id = SessionId(e.index);
                let t = match name.text.as_str() {
                    "items" => Some(Typed::new(Expr::Session(id, SessionAttr::Items), items)),
                    "count" => Some(Typed::new(Expr::Session(id, SessionAttr::Count), Ty::Int)),
                    "start" => Some(Typed::new(Expr::Session(id, SessionAttr::Start), Ty::Int)),
                    _ => None,
                };
                let key = self.ops.session_keys[i].clone();
                self.same_key(sc, &key, e, span);
                (strings(&["items", "count", "start"]), t)
            }
            Kind::Trending => {
                let t = match name.text.as_str() {
                    "items" => Some(Typed::new(
                        Expr::TrendingItems(TrendingId(e.index)),
                        Ty::list_any(),
                    )),
                    "score" => {
                        self.diags.push(
                            Diagnostic::error(
                                "E404",
                                format!("`{}.score` needs the item to score", e.name),
                                span,
                                "no item given",
                            )
                            .with_help(format!("write `{}.score(product_id)`", e.name)),
                        );
                        Some(Typed::error())
                    }
                    _ => None,
                };
                (strings(&["items", "score"]), t)
            }
            Kind::Profile => {
                let features = &self.ops.profiles[i].features;
                let pos = features.iter().position(|f| f.name == name.text);
                let t = pos.map(|f| {
                    let ty = self.ops.feature_tys[i][f].clone();
                    Typed::new(Expr::Profile(ProfileId(e.index), f as u32), ty)
                });
                let names = features.iter().map(|f| f.name.clone()).collect();
                let key = self.ops.profile_keys[i].clone();
                self.same_key(sc, &key, e, span);
                (names, t)
            }
            _ => {
                self.not_a_value(e, bn.span);
                return Typed::error();
            }
        };
        self.names.mark_used(&e.name);
        match found {
            Some(t) => t,
            None => {
                let mut d = Diagnostic::error(
                    "E103",
                    format!("the {} `{}` has no `{}`", e.kind.word(), e.name, name.text),
                    name.span,
                    "unknown member",
                );
                let members: Vec<&str> = members.iter().map(String::as_str).collect();
                d = match did_you_mean(&name.text, members.iter().copied()) {
                    Some(help) => d.with_help(help),
                    None => d.with_help(format!("it has {}", quoted(&members))),
                };
                self.diags.push(d);
                Typed::error()
            }
        }
    }

    /// E502: a session or profile kept per another key than the pattern's.
    fn same_key(&mut self, sc: &Scope, key: &Keyed, e: &Entry, span: Span) {
        let (Some(theirs), Some(ours)) = (key.field, sc.key.field) else {
            return;
        };
        if theirs == ours {
            return;
        }
        let (tn, on) = (
            &self.schema.fields[theirs.index()],
            &self.schema.fields[ours.index()],
        );
        let mut d = Diagnostic::error(
            "E502",
            format!(
                "the {} `{}` is kept per `{tn}`, but this pattern is keyed by `{on}`",
                e.kind.word(),
                e.name
            ),
            span,
            format!("read per `{on}` here"),
        )
        .with_help(format!(
            "key the pattern with `per {tn}`, or give the {} the pattern's key",
            e.kind.word()
        ));
        if let Some(s) = key.span {
            d = d.with_label(s, format!("`{}` is keyed by `{tn}` here", e.name));
        }
        if let Some(s) = sc.key.span {
            d = d.with_label(s, format!("the pattern is keyed by `{on}` here"));
        }
        self.diags.push(d);
    }

    /// `base[idx]`: a table lookup, or an element of a list or group.
    pub(crate) fn index(
        &mut self,
        sc: &Scope,
        base: &ast::Expr,
        idx: &ast::Expr,
        span: Span,
    ) -> Typed {
        if let ExprKind::Name(bn) = &base.kind {
            match self.lookup(sc, &bn.text) {
                Found::Decl(e) if e.kind == Kind::Table => {
                    self.names.mark_used(&e.name);
                    let key_t = self.expr(sc, idx);
                    let i = e.index as usize;
                    let cols = self.ops.table_cols[i].clone();
                    let key_ty = &cols
                        .get(self.ops.tables[i].key)
                        .map_or(Ty::Any, |c| c.1.clone());
                    if binary(ast::BinOp::Eq, key_ty, &key_t.ty).is_err() {
                        self.diags.push(
                            Diagnostic::error(
                                "E401",
                                format!(
                                    "the table `{}` is keyed by {}, but this is {}",
                                    e.name,
                                    key_ty.describe(),
                                    key_t.ty.describe()
                                ),
                                idx.span,
                                "wrong kind of key",
                            )
                            .with_label(e.span, "the table is declared here"),
                        );
                    }
                    let row = Expr::TableRow(TableId(e.index), Box::new(key_t.expr));
                    return Typed::new(row, Ty::Record(Some(cols)));
                }
                Found::Decl(e) => {
                    self.not_a_value(&e, bn.span);
                    return Typed::error();
                }
                Found::Field if self.schema.field_id(&bn.text).is_none() => {
                    self.unknown_name(sc, bn);
                    return Typed::error();
                }
                _ => {}
            }
        }
        let b = self.expr(sc, base);
        let i = self.expr(sc, idx);
        let ty = match &b.ty {
            Ty::List(elem) => (**elem).clone(),
            Ty::Group(types) => Ty::Event(types.clone()),
            Ty::Record(_) | Ty::Any | Ty::Null => Ty::Any,
            ty => {
                self.diags.push(
                    Diagnostic::error(
                        "E408",
                        format!("{} cannot be indexed with `[...]`", ty.describe()),
                        span,
                        "not a list or record",
                    )
                    .with_label(base.span, format!("this is {}", ty.describe())),
                );
                return Typed::error();
            }
        };
        Typed::new(Expr::Index(Box::new(b.expr), Box::new(i.expr)), ty)
    }
}
