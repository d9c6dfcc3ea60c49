//! Event schemas and `input`: field numbering ([`FieldId`]), slots, and input defaults.

use super::names::Kind;
use super::suggest::did_you_mean;
use super::types::Ty;
use super::Checker;
use crate::plan::{EventPlan, FieldId, InputPlan, Pseudo, SchemaField, TypeId};
use nudge_grammar::ast::{self, Decl, FieldDecl, FieldType};
use nudge_grammar::{Diagnostic, Span};
use std::collections::HashMap;

/// Default `idle` of `input` (LANGUAGE.md §2).
const DEFAULT_IDLE_MS: u64 = 30_000;

/// The event types of the program and the numbering of their fields.
#[derive(Debug)]
pub(crate) struct Schema {
    /// Every field name once; `FieldId` indexes it.
    pub fields: Vec<String>,
    field_ids: HashMap<String, FieldId>,
    /// Event types in program order; `TypeId` indexes it.
    pub events: Vec<EventPlan>,
    type_ids: HashMap<String, TypeId>,
    pub input: InputPlan,
    /// Where the input `key` is written, for labels.
    pub input_key_span: Option<Span>,
}

impl Default for Schema {
    fn default() -> Schema {
        Schema {
            fields: Vec::new(),
            field_ids: HashMap::new(),
            events: Vec::new(),
            type_ids: HashMap::new(),
            input: InputPlan {
                type_field: "type".into(),
                time_field: "ts".into(),
                time_seconds: false,
                lateness_ms: 0,
                idle_ms: DEFAULT_IDLE_MS,
                key: None,
            },
            input_key_span: None,
        }
    }
}

impl Schema {
    /// The event type with this exact name.
    pub(crate) fn type_id(&self, name: &str) -> Option<TypeId> {
        self.type_ids.get(name).copied()
    }

    /// The id of a field that some event type declares.
    pub(crate) fn field_id(&self, name: &str) -> Option<FieldId> {
        self.field_ids.get(name).copied()
    }

    /// The name of an event type.
    pub(crate) fn type_name(&self, ty: TypeId) -> &str {
        &self.events[ty.index()].name
    }

    /// The declared type of `name` in event type `ty`, if it declares it.
    pub(crate) fn field_of(&self, ty: TypeId, name: &str) -> Option<(FieldId, FieldType)> {
        let id = self.field_id(name)?;
        let event = &self.events[ty.index()];
        event.fields.iter().find(|f| f.id == id).map(|f| (id, f.ty))
    }

    /// The field's type over these event types (joined), with the types that declare it.
    pub(crate) fn field_over(
        &self,
        types: &[TypeId],
        name: &str,
    ) -> (Option<FieldId>, Ty, Vec<TypeId>) {
        let mut ty: Option<Ty> = None;
        let mut declaring = Vec::new();
        for &t in types {
            if let Some((_, ft)) = self.field_of(t, name) {
                let fty = Ty::of_field(ft);
                ty = Some(ty.map_or(fty.clone(), |t: Ty| t.join(&fty)));
                declaring.push(t);
            }
        }
        (self.field_id(name), ty.unwrap_or(Ty::Any), declaring)
    }

    /// The type of a field over every event type that declares it.
    pub(crate) fn field_ty_anywhere(&self, name: &str) -> Ty {
        let all: Vec<TypeId> = (0..self.events.len() as u32).map(TypeId).collect();
        self.field_over(&all, name).1
    }

    /// The field names of these types (for suggestions), without repeats.
    pub(crate) fn field_names(&self, types: &[TypeId]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for &t in types {
            for f in &self.events[t.index()].fields {
                if !out.contains(&f.name.as_str()) {
                    out.push(&f.name);
                }
            }
        }
        out
    }

    /// Every declared type name, in program order.
    pub(crate) fn type_names(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.name.as_str()).collect()
    }
}

/// The pseudo-field of this name (`type`, `ts`, `source`), with its type.
pub(crate) fn pseudo(name: &str) -> Option<(Pseudo, Ty)> {
    match name {
        "type" => Some((Pseudo::Type, Ty::Str)),
        "ts" => Some((Pseudo::Ts, Ty::Int)),
        "source" => Some((Pseudo::Source, Ty::Str)),
        _ => None,
    }
}

/// The pseudo-field names, for suggestions.
pub(crate) const PSEUDO_NAMES: [&str; 3] = ["type", "ts", "source"];

impl Checker<'_> {
    /// Builds the schema: event types, their fields (E110 for repeats), then `input`.
    pub(crate) fn build_schema(&mut self) {
        let decls = self.decls();
        for &(_, decl) in &decls {
            if let Decl::Event(event) = decl {
                self.add_event(event);
            }
        }
        let n = self.schema.fields.len();
        for event in &mut self.schema.events {
            let mut slot_of = vec![None; n];
            for (slot, f) in event.fields.iter().enumerate() {
                slot_of[f.id.index()] = Some(slot as u32);
            }
            event.slot_of = slot_of;
        }
        for &(_, decl) in &decls {
            if let Decl::Input(input) = decl {
                self.add_input(input);
            }
        }
    }

    fn add_event(&mut self, event: &ast::EventDecl) {
        let id = TypeId(self.schema.events.len() as u32);
        self.schema.type_ids.insert(event.name.text.clone(), id);
        let mut fields = Vec::new();
        for f in unique_fields(&event.fields, &mut self.diags, "event type") {
            let fid = match self.schema.field_ids.get(&f.name.text) {
                Some(&fid) => fid,
                None => {
                    let fid = FieldId(self.schema.fields.len() as u32);
                    self.schema.fields.push(f.name.text.clone());
                    self.schema.field_ids.insert(f.name.text.clone(), fid);
                    fid
                }
            };
            fields.push(SchemaField {
                name: f.name.text.clone(),
                id: fid,
                ty: f.ty,
            });
        }
        self.schema.events.push(EventPlan {
            name: event.name.text.clone(),
            fields,
            slot_of: Vec::new(),
        });
    }

    fn add_input(&mut self, input: &ast::InputDecl) {
        let plan = &mut self.schema.input;
        if let Some(name) = &input.type_field {
            plan.type_field = name.text.clone();
        }
        if let Some(time) = &input.time_field {
            plan.time_field = time.name.text.clone();
            plan.time_seconds = time.seconds.is_some();
        }
        if let Some(d) = input.lateness {
            plan.lateness_ms = d.ms;
        }
        if let Some(d) = input.idle {
            self.positive(d, "`idle`");
            self.schema.input.idle_ms = d.ms;
        }
        if let Some(key) = &input.key {
            self.schema.input.key = self.key_field(key);
            self.schema.input_key_span = Some(key.span);
        }
    }

    /// Resolves an event type name (E102 with "did you mean").
    pub(crate) fn resolve_type(&mut self, name: &ast::Name) -> Option<TypeId> {
        if let Some(id) = self.schema.type_id(&name.text) {
            return Some(id);
        }
        let mut d = Diagnostic::error(
            "E102",
            format!("there is no event type `{}`", name.text),
            name.span,
            "unknown event type",
        );
        let types = self.schema.type_names();
        d = match did_you_mean(&name.text, types) {
            Some(help) => d.with_help(help),
            None => match self.names.get(&name.text) {
                Some(e) if e.kind != Kind::Event => d.with_help(format!(
                    "`{}` is {}, not an event type",
                    name.text,
                    e.kind.a()
                )),
                _ => d.with_help(format!("declare it with `event {} {{ ... }}`", name.text)),
            },
        };
        self.diags.push(d);
        None
    }

    /// Resolves a partition key field: a field at least one event type declares (E103).
    pub(crate) fn key_field(&mut self, name: &ast::Name) -> Option<FieldId> {
        if let Some(id) = self.schema.field_id(&name.text) {
            return Some(id);
        }
        let mut d = Diagnostic::error(
            "E103",
            format!("no event type has a field `{}` to use as a key", name.text),
            name.span,
            "unknown field",
        );
        let all: Vec<&str> = self.schema.fields.iter().map(String::as_str).collect();
        if let Some(help) = did_you_mean(&name.text, all) {
            d = d.with_help(help);
        }
        self.diags.push(d);
        None
    }
}

/// The fields of a schema without repeats; a repeated name is E110 (pointing at both).
pub(crate) fn unique_fields<'f>(
    fields: &'f [FieldDecl],
    diags: &mut Vec<Diagnostic>,
    what: &str,
) -> Vec<&'f FieldDecl> {
    let mut out: Vec<&FieldDecl> = Vec::new();
    for f in fields {
        if let Some(first) = out.iter().find(|g| g.name.text == f.name.text) {
            diags.push(
                Diagnostic::error(
                    "E110",
                    format!(
                        "the field `{}` is declared twice in this {what}",
                        f.name.text
                    ),
                    f.name.span,
                    "declared again here",
                )
                .with_label(first.name.span, "first declared here")
                .with_help("remove one of them"),
            );
        } else {
            out.push(f);
        }
    }
    out
}

/// A partition key as resolved for a pattern, session or profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keyed {
    /// The key field; `None` when missing or unknown (already reported).
    pub field: Option<FieldId>,
    /// Where the key is set: the `per` name, or the input's `key`.
    pub span: Option<Span>,
}

impl Checker<'_> {
    /// The key of a declaration: its `per`, else the input `key`, else E501 at `head`.
    pub(crate) fn decl_key(&mut self, per: Option<&ast::Name>, head: Span, what: &str) -> Keyed {
        if let Some(per) = per {
            return Keyed {
                field: self.key_field(per),
                span: Some(per.span),
            };
        }
        if self.schema.input_key_span.is_some() {
            return Keyed {
                field: self.schema.input.key,
                span: self.schema.input_key_span,
            };
        }
        self.diags.push(
            Diagnostic::error(
                "E501",
                format!("{what} has no partition key"),
                head,
                "no `per` here and no `key` in `input`",
            )
            .with_help("add `per user_id` (or another field) to it, or `key user_id` to the `input` declaration"),
        );
        Keyed::default()
    }
}
