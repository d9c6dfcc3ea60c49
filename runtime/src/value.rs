//! Run-time values: what fields hold and expressions compute.

use crate::event::Event;
use nudge_compiler::plan::Const;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A value. Cheap to clone: strings, lists, records and events are shared.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<Vec<Value>>),
    /// Fields in order (emit records, table rows, model replies).
    Record(Arc<Vec<(Arc<str>, Value)>>),
    /// A whole event (a bound step), printed as `{type, ts, declared fields...}`.
    Event(Arc<Event>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Truthiness for `and`, `or`, `not`, `where`: only `true` is true.
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// A number as f64 (ints widen), or `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Converts a compile-time constant.
    pub fn from_const(c: &Const) -> Value {
        match c {
            Const::Null => Value::Null,
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(i) => Value::Int(*i),
            Const::Float(f) => Value::Float(*f),
            Const::Str(s) => Value::Str(s.clone()),
            Const::List(items) => Value::list(items.iter().map(Value::from_const).collect()),
            Const::Record(fields) => Value::Record(Arc::new(
                fields
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_const(v)))
                    .collect(),
            )),
        }
    }

    /// Converts parsed JSON (model replies, table cells of JSON lines).
    pub fn from_json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => Value::Record(Arc::new(
                fields
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Appends the value as JSON text (LANGUAGE.md §4.1 "Output values": integers bare,
    /// floats always with a fraction in shortest round-trip form, events as objects).
    pub fn write_json(&self, out: &mut String, plan: &nudge_compiler::plan::Plan) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_float(out, *f),
            Value::Str(s) => write_json_str(out, s),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_json(out, plan);
                }
                out.push(']');
            }
            Value::Record(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_json_str(out, k);
                    out.push_str(": ");
                    v.write_json(out, plan);
                }
                out.push('}');
            }
            Value::Event(e) => e.write_json(out, plan),
        }
    }
}

/// Writes a float with a fraction (`49.0`), shortest round-trip; non-finite as null.
pub fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let mut buf = ryu_like(f);
    if !buf.contains(['.', 'e', 'E']) {
        buf.push_str(".0");
    }
    out.push_str(&buf);
}

fn ryu_like(f: f64) -> String {
    // Rust's `{}` for f64 is the shortest representation that round-trips.
    let s = format!("{f}");
    if s.len() > 24 {
        // Very large or small magnitudes: exponent form keeps it short.
        format!("{f:e}")
    } else {
        s
    }
}

/// Writes a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl PartialEq for Value {
    /// Equality of `==`: ints and floats compare by number; null equals null.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b
            }
            // Decoded strings are interned: equal ones are mostly one allocation.
            (Value::Str(a), Value::Str(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Record(a), Value::Record(b)) => a == b,
            (Value::Event(a), Value::Event(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    /// Consistent with `==` for the values used as keys (strings, ints, bools); an
    /// integral float hashes like the int.
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    (*f as i64).hash(state)
                } else {
                    f.to_bits().hash(state)
                }
            }
            Value::Str(s) => s.hash(state),
            Value::List(items) => items.hash(state),
            Value::Record(fields) => fields.len().hash(state),
            Value::Event(e) => (Arc::as_ptr(e) as usize).hash(state),
        }
    }
}
