//! A decoded event: its type, time, input and declared fields in fixed slots.

use crate::value::{write_json_str, Value};
use nudge_compiler::plan::{FieldId, Plan, Pseudo, TypeId};
use std::sync::Arc;

/// One accepted event. Fields are in the slots of its type's schema
/// ([`nudge_compiler::plan::EventPlan::fields`] order); a missing field is `Null`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub ty: TypeId,
    /// Event time, epoch milliseconds.
    pub ts: i64,
    /// The input it came from (the file's stem, `stdin`, or the Kafka topic).
    pub source: Arc<str>,
    /// Position in its input (0-based line of a file, Kafka offset).
    pub offset: u64,
    /// Index of its input among the run's inputs (ties in ts are broken by input, then
    /// offset).
    pub input: u32,
    pub values: Box<[Value]>,
}

impl Event {
    /// The value of a field by id; `Null` when this type does not declare it.
    #[inline]
    pub fn field<'a>(&'a self, plan: &Plan, field: FieldId) -> &'a Value {
        static NULL: Value = Value::Null;
        match plan.events[self.ty.index()].slot(field) {
            Some(slot) => &self.values[slot],
            None => &NULL,
        }
    }

    /// A pseudo-field's value.
    pub fn pseudo(&self, plan: &Plan, p: Pseudo) -> Value {
        match p {
            Pseudo::Type => Value::str(&plan.events[self.ty.index()].name),
            Pseudo::Ts => Value::Int(self.ts),
            Pseudo::Source => Value::Str(self.source.clone()),
        }
    }

    /// Writes the event as JSON: `type`, `ts`, then its declared fields in declaration
    /// order, nulls kept (LANGUAGE.md §4.1).
    pub fn write_json(&self, out: &mut String, plan: &Plan) {
        let schema = &plan.events[self.ty.index()];
        out.push_str("{\"type\": ");
        write_json_str(out, &schema.name);
        out.push_str(", \"ts\": ");
        out.push_str(&self.ts.to_string());
        for (field, value) in schema.fields.iter().zip(self.values.iter()) {
            out.push_str(", ");
            write_json_str(out, &field.name);
            out.push_str(": ");
            value.write_json(out, plan);
        }
        out.push('}');
    }
}
