//! Patterns: steps, negations (guards), bindings, conditions and `emit` compiled into a
//! [`PatternPlan`] (without its state table, which the NFA lowering derives).

use super::expr::{twice, Binding, Place, Scope};
use super::projection::project;
use super::Checker;
use crate::plan::*;
use nudge_grammar::ast::{self, Link, PatternDecl};
use nudge_grammar::{Diagnostic, Span};

/// Emit field names every record already has.
const RESERVED_EMIT: [&str; 3] = ["rule", "key", "ts"];

impl Checker<'_> {
    /// Compiles every pattern, in program order.
    pub(crate) fn build_patterns(&mut self) -> Vec<PatternPlan> {
        self.all_patterns()
            .into_iter()
            .map(|p| self.pattern(p))
            .collect()
    }

    fn pattern(&mut self, p: &PatternDecl) -> PatternPlan {
        let head = Span {
            end: p.name.span.end,
            ..p.span
        };
        let shape = self.check_structure(p);
        let key = self.decl_key(
            p.per.as_ref(),
            head,
            &format!("the pattern `{}`", p.name.text),
        );
        let step_types: Vec<Vec<(TypeId, Span)>> = p
            .steps
            .iter()
            .map(|s| {
                let mut types: Vec<(TypeId, Span)> = Vec::new();
                for n in &s.types {
                    if let Some(t) = self.resolve_type(n) {
                        if !types.iter().any(|(u, _)| *u == t) {
                            types.push((t, n.span));
                        }
                    }
                }
                types
            })
            .collect();
        let known: Vec<bool> = p
            .steps
            .iter()
            .map(|s| {
                s.types
                    .iter()
                    .all(|n| self.schema.type_id(&n.text).is_some())
            })
            .collect();
        let ids = |i: usize| -> Vec<TypeId> { step_types[i].iter().map(|&(t, _)| t).collect() };
        let positive: Vec<usize> = (0..p.steps.len())
            .filter(|&i| !p.steps[i].is_negation())
            .collect();
        let bindings = self.bindings(p, &step_types, &known);

        let mut steps = Vec::new();
        let mut guards = Vec::new();
        let mut trailing = None;
        for (i, s) in p.steps.iter().enumerate() {
            let types = ids(i);
            let sc = Scope {
                place: Place::Where(i),
                current: &types,
                current_names: &step_types[i],
                bindings: &bindings,
                key: &key,
                known: known[i],
            };
            let cond = s.where_.as_ref().map(|w| self.condition(&sc, w));
            if s.is_negation() {
                guards.push(GuardPlan {
                    types,
                    cond,
                    before: StepId(steps.len() as u32),
                });
                if i == shape.trailing_from {
                    trailing = Some(TrailingPlan {
                        within_ms: s.within.map(|d| d.ms),
                    });
                }
            } else {
                let (min, max) = s.quant.map_or((1, Some(1)), |q| (q.min, q.max));
                steps.push(StepPlan {
                    types,
                    min,
                    max,
                    strict: s.link == Link::ThenNext,
                    binding: bindings.iter().find(|b| b.step == i).map(|b| b.id),
                    cond,
                    within_ms: s.within.map(|d| d.ms),
                    reads: Projection::default(),
                });
            }
        }

        let mut emit_types: Vec<TypeId> = positive.iter().flat_map(|&i| ids(i)).collect();
        emit_types.sort();
        emit_types.dedup();
        let sc = Scope {
            place: Place::Emit,
            current: &emit_types,
            current_names: &[],
            bindings: &bindings,
            key: &key,
            known: positive.iter().all(|&i| known[i]),
        };
        let emit = self.emit(&p.emit, &sc);

        let binding_plans: Vec<BindingPlan> = bindings
            .iter()
            .map(|b| BindingPlan {
                name: b.name.clone(),
                step: StepId(positive.iter().position(|&i| i == b.step).unwrap_or(0) as u32),
                group: b.group,
            })
            .collect();
        project(
            &mut steps,
            &binding_plans,
            &guards,
            &emit,
            &self.schema.events,
        );
        self.pattern_warnings(p, head);

        let mut types: Vec<TypeId> = (0..p.steps.len()).flat_map(ids).collect();
        types.sort();
        types.dedup();
        PatternPlan {
            name: p.name.text.clone(),
            place: self.place(|d| matches!(d, ast::Decl::Pattern(q) if std::ptr::eq(q, p))),
            key: key.field.unwrap_or(FieldId(0)),
            steps,
            guards,
            trailing,
            window_ms: p.window.map(|d| d.ms),
            cooldown_ms: p.cooldown.map(|d| d.ms),
            keep_all: p.after_match.is_some_and(|a| a.keep_all),
            bindings: binding_plans,
            emit,
            states: Vec::new(),
            types,
        }
    }

    /// The `as` names of positive steps (E106 repeats, E107 names of declarations).
    fn bindings(
        &mut self,
        p: &PatternDecl,
        step_types: &[Vec<(TypeId, Span)>],
        known: &[bool],
    ) -> Vec<Binding> {
        let mut out: Vec<Binding> = Vec::new();
        for (i, s) in p.steps.iter().enumerate() {
            let Some(alias) = s.alias.as_ref().filter(|_| !s.is_negation()) else {
                continue;
            };
            if let Some(first) = out.iter().find(|b| b.name == alias.text) {
                self.diags.push(
                    Diagnostic::error(
                        "E106",
                        format!("two steps of this pattern are named `{}`", alias.text),
                        alias.span,
                        "named again here",
                    )
                    .with_label(first.span, "first named here")
                    .with_help("give each step its own name"),
                );
                continue;
            }
            if let Some(e) = self
                .names
                .get(&alias.text)
                .filter(|e| e.kind.is_value())
                .cloned()
            {
                self.names.mark_used(&e.name);
                self.diags.push(
                    Diagnostic::error(
                        "E107",
                        format!(
                            "the step name `{}` is already the name of {}",
                            alias.text,
                            e.kind.a()
                        ),
                        alias.span,
                        "same name as a declaration",
                    )
                    .with_label(e.span, format!("the {} is declared here", e.kind.word()))
                    .with_help("choose another step name"),
                );
            }
            out.push(Binding {
                name: alias.text.clone(),
                id: BindingId(out.len() as u32),
                step: i,
                group: s.quant.is_some(),
                types: step_types[i].iter().map(|&(t, _)| t).collect(),
                known: known[i],
                span: alias.span,
            });
        }
        out
    }

    /// A step's `where`: an expression that must be a condition (E407).
    fn condition(&mut self, sc: &Scope, w: &ast::Expr) -> Expr {
        let t = self.expr(sc, w);
        if !t.ty.may_be_bool() {
            self.diags.push(
                Diagnostic::error(
                    "E407",
                    format!(
                        "a `where` must be a condition (true or false), but this is {}",
                        t.ty.describe()
                    ),
                    w.span,
                    "not a condition",
                )
                .with_help(
                    "compare it with something, like `price > 10` or `category == \"shoes\"`",
                ),
            );
        }
        t.expr
    }

    /// `emit [into "NAME"] { ... }` (E301, E110, E411).
    fn emit(&mut self, emit: &ast::Emit, sc: &Scope) -> EmitPlan {
        let mut fields = Vec::new();
        for (i, (name, value)) in emit.fields.iter().enumerate() {
            if RESERVED_EMIT.contains(&name.text.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        "E301",
                        format!("`{}` cannot be an emit field: every record already has `rule`, `key` and `ts`", name.text),
                        name.span,
                        "reserved name",
                    )
                    .with_help(format!("rename it, e.g. `{}_value`", name.text)),
                );
            }
            if let Some((first, _)) = emit.fields[..i].iter().find(|(n, _)| n.text == name.text) {
                self.diags.push(twice(name, first.span, "emit field"));
            }
            let t = self.expr(sc, value);
            self.nested_model_calls(name, value);
            fields.push((name.text.clone(), t.expr));
        }
        EmitPlan {
            into: emit.into.as_ref().map(|s| s.value.clone()),
            fields,
        }
    }
}
