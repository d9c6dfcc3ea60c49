//! Behaviour operators: `session`, `covisit`, `trending` (LANGUAGE.md §7) and `profile` (§8).

use super::names::{decl_head, Kind};
use super::schema::{pseudo, Keyed, PSEUDO_NAMES};
use super::suggest::{closest, did_you_mean};
use super::types::Ty;
use super::Checker;
use crate::plan::*;
use nudge_grammar::ast::{self, Decl};
use nudge_grammar::{Diagnostic, Span};

/// Default `refresh` of a covisit.
const DEFAULT_REFRESH_MS: u64 = 60_000;
/// Default `keep N per item` of a covisit.
const DEFAULT_KEEP: u32 = 100;

/// The operator plans built so far, with what expressions need to know about them.
#[derive(Debug, Default)]
pub(crate) struct Ops {
    pub tables: Vec<TablePlan>,
    /// Each table's columns with their types.
    pub table_cols: Vec<Vec<(String, Ty)>>,
    pub vectors: Vec<VectorsPlan>,
    pub models: Vec<ModelPlan>,
    pub sessions: Vec<SessionPlan>,
    pub session_keys: Vec<Keyed>,
    /// The type of each session's `items` list.
    pub session_items: Vec<Ty>,
    pub covisits: Vec<CovisitPlan>,
    pub trendings: Vec<TrendingPlan>,
    pub profiles: Vec<ProfilePlan>,
    pub profile_keys: Vec<Keyed>,
    /// Each profile's feature types, in feature order.
    pub feature_tys: Vec<Vec<Ty>>,
}

/// Aggregates of profile features, by name.
const AGGS: [(&str, Agg); 8] = [
    ("count", Agg::Count),
    ("sum", Agg::Sum),
    ("avg", Agg::Avg),
    ("min", Agg::Min),
    ("max", Agg::Max),
    ("last", Agg::Last),
    ("first", Agg::First),
    ("count_distinct", Agg::CountDistinct),
];

impl Checker<'_> {
    /// Builds the plans of every session, covisit, trending and profile, in program order.
    pub(crate) fn build_operators(&mut self) {
        for (_, decl) in self.decls() {
            match decl {
                Decl::Session(s) => self.add_session(decl, s),
                Decl::Covisit(c) => self.add_covisit(c),
                Decl::Trending(t) => self.add_trending(t),
                Decl::Profile(p) => self.add_profile(decl, p),
                _ => {}
            }
        }
    }

    /// Resolves a list of event type names, skipping unknown ones (reported).
    fn types_of(&mut self, names: &[ast::Name]) -> Vec<(TypeId, Span)> {
        names
            .iter()
            .filter_map(|n| self.resolve_type(n).map(|t| (t, n.span)))
            .collect()
    }

    fn add_session(&mut self, decl: &Decl, s: &ast::SessionDecl) {
        let what = format!("the session `{}`", s.name.text);
        let key = self.decl_key(s.per.as_ref(), decl_head(decl, None), &what);
        let of = if s.of.is_empty() {
            (0..self.schema.events.len() as u32)
                .map(|t| (TypeId(t), s.name.span))
                .collect()
        } else {
            self.types_of(&s.of)
        };
        let types: Vec<TypeId> = of.iter().map(|&(t, _)| t).collect();
        self.positive(s.gap, "a session's `gap`");
        let last = self.at_least_one(s.last, "`last`");
        let (items, ty, declaring) = self.schema.field_over(&types, &s.items.text);
        let all_known = s.of.is_empty() || types.len() == s.of.len();
        if declaring.is_empty() && all_known {
            let mut d = Diagnostic::error(
                "E103",
                format!(
                    "none of the session's event types has a field `{}`",
                    s.items.text
                ),
                s.items.span,
                "unknown field",
            );
            if let Some(help) = did_you_mean(&s.items.text, self.schema.field_names(&types)) {
                d = d.with_help(help);
            }
            self.diags.push(d);
        } else if !s.of.is_empty() && declaring.len() < types.len() {
            let mut d = Diagnostic::error(
                "E602",
                format!(
                    "the session's `items` field `{}` is missing from some of its event types",
                    s.items.text
                ),
                s.items.span,
                "not declared by every `of` type",
            )
            .with_help("remove those types from `of`, or declare the field in them");
            for &(t, span) in of.iter().filter(|(t, _)| !declaring.contains(t)) {
                let name = self.schema.type_name(t);
                d = d.with_label(span, format!("`{name}` has no field `{}`", s.items.text));
            }
            self.diags.push(d);
        }
        self.ops.sessions.push(SessionPlan {
            name: s.name.text.clone(),
            key: key.field.unwrap_or(FieldId(0)),
            of: types,
            gap_ms: s.gap.ms,
            items: items.unwrap_or(FieldId(0)),
            last,
        });
        self.ops.session_keys.push(key);
        self.ops.session_items.push(Ty::List(Box::new(ty)));
    }

    fn add_covisit(&mut self, c: &ast::CovisitDecl) {
        let session = match self.names.get(&c.from.text) {
            Some(e) if e.kind == Kind::Session => Some(e.index),
            Some(e) => {
                let d = Diagnostic::error(
                    "E109",
                    format!(
                        "a covisit learns from a session, but `{}` is {}",
                        c.from.text,
                        e.kind.a()
                    ),
                    c.from.span,
                    "not a session",
                )
                .with_label(e.span, format!("`{}` is declared here", c.from.text));
                self.diags.push(d);
                None
            }
            None => {
                let mut d = Diagnostic::error(
                    "E111",
                    format!("there is no session `{}`", c.from.text),
                    c.from.span,
                    "unknown session",
                );
                let sessions = self.names.names_of(&[Kind::Session]);
                d = match did_you_mean(&c.from.text, sessions) {
                    Some(help) => d.with_help(help),
                    None => {
                        d.with_help("declare one with `session NAME gap 30m items FIELD last 20`")
                    }
                };
                self.diags.push(d);
                None
            }
        };
        self.names.mark_used(&c.from.text);
        let refresh_ms = match c.refresh {
            Some(d) => {
                self.positive(d, "a covisit's `refresh`");
                d.ms
            }
            None => DEFAULT_REFRESH_MS,
        };
        let keep = match c.keep {
            Some(k) => self.at_least_one(k, "`keep`"),
            None => DEFAULT_KEEP,
        };
        self.ops.covisits.push(CovisitPlan {
            name: c.name.text.clone(),
            session: SessionId(session.unwrap_or(0)),
            refresh_ms,
            keep,
        });
    }

    fn add_trending(&mut self, t: &ast::TrendingDecl) {
        let mut of = Vec::new();
        for w in &t.of {
            if let Some(id) = self.resolve_type(&w.ty) {
                of.push((id, w.weight.map_or(1.0, |(w, _)| w)));
            }
        }
        let types: Vec<TypeId> = of.iter().map(|&(t, _)| t).collect();
        let (by, _, declaring) = self.schema.field_over(&types, &t.by.text);
        if declaring.is_empty() && types.len() == t.of.len() {
            let mut d = Diagnostic::error(
                "E103",
                format!(
                    "none of the event types of `{}` has a field `{}`",
                    t.name.text, t.by.text
                ),
                t.by.span,
                "unknown field",
            );
            if let Some(help) = did_you_mean(&t.by.text, self.schema.field_names(&types)) {
                d = d.with_help(help);
            }
            self.diags.push(d);
        }
        let over_ok = self.positive(t.over, "a trending's `over`");
        let every_ok = self.positive(t.every, "a trending's `every`");
        if over_ok && every_ok && t.over.ms / t.every.ms * t.every.ms != t.over.ms {
            self.diags.push(
                Diagnostic::error(
                    "E601",
                    "a trending's `over` must be a whole number of `every` periods",
                    t.over.span,
                    "not a multiple of `every`",
                )
                .with_label(t.every.span, "the period")
                .with_help("for example `over 10m every 1m`, or `over 1h every 5m`"),
            );
        }
        let top = self.at_least_one(t.top, "`top`");
        self.ops.trendings.push(TrendingPlan {
            name: t.name.text.clone(),
            place: self.place(|d| matches!(d, Decl::Trending(u) if std::ptr::eq(u, t))),
            of,
            by: by.unwrap_or(FieldId(0)),
            over_ms: t.over.ms,
            every_ms: t.every.ms,
            top,
            emit: t
                .emit
                .as_ref()
                .map(|e| e.into.as_ref().map(|s| s.value.clone())),
        });
    }

    fn add_profile(&mut self, decl: &Decl, p: &ast::ProfileDecl) {
        let what = format!("the profile `{}`", p.name.text);
        let key = self.decl_key(p.per.as_ref(), decl_head(decl, None), &what);
        let mut features = Vec::new();
        let mut tys = Vec::new();
        for (i, f) in p.features.iter().enumerate() {
            if let Some(first) = p.features[..i].iter().find(|g| g.name.text == f.name.text) {
                self.diags.push(
                    Diagnostic::error(
                        "E110",
                        format!("the feature `{}` is declared twice", f.name.text),
                        f.name.span,
                        "declared again here",
                    )
                    .with_label(first.name.span, "first declared here"),
                );
            }
            if let Some(over) = f.over {
                self.positive(over, "a feature's `over`");
            }
            let (plan, ty) = self.feature(f);
            features.push(plan);
            tys.push(ty);
        }
        self.ops.profiles.push(ProfilePlan {
            name: p.name.text.clone(),
            key: key.field.unwrap_or(FieldId(0)),
            features,
            sink_redis: p.sink_redis.as_ref().map(|s| s.value.clone()),
        });
        self.ops.profile_keys.push(key);
        self.ops.feature_tys.push(tys);
    }

    /// One feature: its aggregate, what it reads, and the type of its value.
    fn feature(&mut self, f: &ast::Feature) -> (FeaturePlan, Ty) {
        let agg = AGGS.iter().find(|(n, _)| *n == f.agg.text).map(|&(_, a)| a);
        if agg.is_none() {
            let mut d = Diagnostic::error(
                "E603",
                format!("`{}` is not a profile aggregate", f.agg.text),
                f.agg.span,
                "unknown aggregate",
            );
            d = match did_you_mean(&f.agg.text, AGGS.iter().map(|(n, _)| *n)) {
                Some(help) => d.with_help(help),
                None => {
                    d.with_help("use one of count, sum, avg, min, max, first, last, count_distinct")
                }
            };
            self.diags.push(d);
        }
        let (of, value, vty) = self.feature_arg(f);
        let arg_span = f
            .arg_field
            .as_ref()
            .map_or(f.arg.span, |n| f.arg.span.to(n.span));
        let known = agg.is_some();
        let agg = agg.unwrap_or(Agg::Count);
        let name = AGGS.iter().find(|(_, a)| *a == agg).map_or("", |(n, _)| *n);
        let whole_type = of.is_some() && value.is_none() && f.arg_field.is_none();
        let problem = match agg {
            _ if !known => None,
            Agg::Count => None,
            _ if whole_type => Some((
                "whole events".to_string(),
                format!("`{name}` needs a field of the events, like `{name}(PURCHASE.total)`; `count(TYPE)` counts events"),
            )),
            Agg::Sum | Agg::Avg if !vty.may_be_number() => Some((
                format!("{}s", vty.describe().trim_start_matches("a ")),
                format!("`{name}` needs numbers; use `count`, `last` or `count_distinct` for other values"),
            )),
            Agg::Min | Agg::Max if !(vty.may_be_number() || vty == Ty::Str) => Some((
                format!("{}s", vty.describe().trim_start_matches("a ")),
                format!("`{name}` needs numbers or strings"),
            )),
            _ => None,
        };
        if let Some((what, help)) = problem {
            self.diags.push(
                Diagnostic::error(
                    "E603",
                    format!("`{name}` cannot aggregate {what}"),
                    arg_span,
                    "does not fit the aggregate",
                )
                .with_help(help),
            );
        }
        let ty = match agg {
            Agg::Count | Agg::CountDistinct => Ty::Int,
            Agg::Avg => Ty::Float,
            Agg::Sum if vty == Ty::Int => Ty::Int,
            Agg::Sum => Ty::Float,
            _ => vty,
        };
        let plan = FeaturePlan {
            name: f.name.text.clone(),
            agg,
            of,
            value,
            over_ms: f.over.map(|d| d.ms),
        };
        (plan, ty)
    }

    /// Resolves `TYPE`, `TYPE.field`, or a field / pseudo-field of all events.
    fn feature_arg(&mut self, f: &ast::Feature) -> (Option<TypeId>, Option<Operand>, Ty) {
        if let Some(field) = &f.arg_field {
            let Some(t) = self.resolve_type(&f.arg) else {
                return (None, None, Ty::Any);
            };
            if let Some((p, ty)) = pseudo(&field.text) {
                return (Some(t), Some(Operand::Pseudo(p)), ty);
            }
            if let Some((id, ft)) = self.schema.field_of(t, &field.text) {
                return (Some(t), Some(Operand::Field(id)), Ty::of_field(ft));
            }
            let mut d = Diagnostic::error(
                "E103",
                format!("`{}` has no field `{}`", f.arg.text, field.text),
                field.span,
                "unknown field",
            );
            let mut names = self.schema.field_names(&[t]);
            names.extend(PSEUDO_NAMES);
            if let Some(help) = did_you_mean(&field.text, names) {
                d = d.with_help(help);
            }
            self.diags.push(d);
            return (Some(t), None, Ty::Any);
        }
        if let Some(t) = self.schema.type_id(&f.arg.text) {
            return (Some(t), None, Ty::Any);
        }
        if let Some((p, ty)) = pseudo(&f.arg.text) {
            return (None, Some(Operand::Pseudo(p)), ty);
        }
        if let Some(id) = self.schema.field_id(&f.arg.text) {
            return (
                None,
                Some(Operand::Field(id)),
                self.schema.field_ty_anywhere(&f.arg.text),
            );
        }
        // A name close to an event type was meant as one (E102); otherwise as a field.
        let types = self.schema.type_names();
        let (code, label, help) = match closest(&f.arg.text, types) {
            Some(t) => (
                "E102",
                "unknown event type",
                Some(format!("did you mean `{t}`?")),
            ),
            None => {
                let mut names: Vec<&str> = self.schema.fields.iter().map(String::as_str).collect();
                names.extend(PSEUDO_NAMES);
                ("E103", "unknown field", did_you_mean(&f.arg.text, names))
            }
        };
        let mut d = Diagnostic::error(
            code,
            format!("`{}` is neither an event type nor a field", f.arg.text),
            f.arg.span,
            label,
        );
        if let Some(help) = help {
            d = d.with_help(help);
        }
        self.diags.push(d);
        (None, None, Ty::Any)
    }
}
