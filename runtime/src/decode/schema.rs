//! The lookup tables both decoders share, built once from the Plan.

use super::intern::head_tail;
use nudge_compiler::plan::{FieldId, Plan, TypeId};

/// A declared field type, as the decoders need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Int,
    Float,
    Bool,
    List,
}

impl Kind {
    pub(super) fn of(ty: &str) -> Kind {
        match ty {
            "string" => Kind::Str,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "list" => Kind::List,
            other => unreachable!("unknown field type {other:?} in the plan"),
        }
    }
}

/// Exact byte-string lookup for a handful of names, faster than hashing for the few
/// short keys a schema has: names are bucketed by length, and within a bucket compared
/// by their first and last eight bytes (which cover a name of up to 16 bytes) before
/// the rest.
#[derive(Debug, Clone)]
pub(super) struct NameTable<T> {
    by_len: Vec<Vec<Entry<T>>>,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    head: u64,
    tail: u64,
    name: Box<[u8]>,
    value: T,
}

impl<T: Copy> NameTable<T> {
    pub(super) fn new() -> Self {
        NameTable { by_len: Vec::new() }
    }

    /// Adds a name; the first value given for a name stays.
    pub(super) fn insert(&mut self, name: &str, value: T) {
        if self.get(name.as_bytes()).is_some() {
            return;
        }
        let name = name.as_bytes();
        if self.by_len.len() <= name.len() {
            self.by_len.resize_with(name.len() + 1, Vec::new);
        }
        let (head, tail) = head_tail(name);
        self.by_len[name.len()].push(Entry {
            head,
            tail,
            name: name.into(),
            value,
        });
    }

    #[inline]
    pub(super) fn get(&self, name: &[u8]) -> Option<T> {
        let bucket = self.by_len.get(name.len())?;
        if bucket.is_empty() {
            return None;
        }
        let (head, tail) = head_tail(name);
        bucket
            .iter()
            .find(|e| e.head == head && e.tail == tail && (name.len() <= 16 || *e.name == *name))
            .map(|e| e.value)
    }
}

/// The event types and their fields.
#[derive(Debug, Clone)]
pub(super) struct Schema {
    pub(super) types: NameTable<TypeId>,
    /// Per type, its declared fields in slot order.
    pub(super) fields: Vec<Vec<(FieldId, Kind)>>,
    /// Integer times are epoch seconds.
    pub(super) seconds: bool,
}

impl Schema {
    pub(super) fn new(plan: &Plan) -> Schema {
        let mut types = NameTable::new();
        for (i, e) in plan.events.iter().enumerate() {
            types.insert(&e.name, TypeId(i as u32));
        }
        let fields = plan
            .events
            .iter()
            .map(|e| {
                e.fields
                    .iter()
                    .map(|f| (f.id, Kind::of(f.ty.as_str())))
                    .collect()
            })
            .collect();
        Schema {
            types,
            fields,
            seconds: plan.input.time_seconds,
        }
    }
}

/// A float with an integral value that fits an `i64` (`3.0`, `1e3`), as an int.
#[inline]
pub(super) fn integral(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every f64 below it in magnitude fits an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && f.abs() < LIMIT).then_some(f as i64)
}
