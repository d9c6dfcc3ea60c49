//! The JSON-lines decoder: one pass over each object, no `serde_json::Value`.
//!
//! A serde visitor walks the object once. Each key is looked up in a small table of the
//! names that matter (the type field, the time field, every declared field name of any
//! type); the values of those keys are kept as [`Raw`] scalars in a reusable scratch
//! array (strings copied into one reusable buffer), every other value is skipped without
//! being built. The type may come last, so the fields are converted only once the object
//! has ended and the type is known. Only what the event keeps is allocated: its slots and
//! its strings.

use super::schema::{integral, Kind, NameTable, Schema};
use super::{is_blank, trim_line_end, DeadLetter, DeadReason, Decoded};
use crate::event::Event;
use crate::time::{parse_time_str, time_from_int};
use crate::value::Value;
use nudge_compiler::plan::Plan;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::sync::Arc;

/// Decodes JSON lines into events of a [`Plan`]'s schemas. Keep one per input and reuse
/// it: it holds the scratch buffers.
///
/// ```ignore
/// let mut decoder = Decoder::new(plan);
/// match decoder.decode_json_line(br#"{"type": "VIEW", "ts": 0}"#, &source, 0, 0) {
///     Decoded::Event(e) => { /* ... */ }
///     Decoded::Dead(d) => println!("{}", d.to_json()),
///     Decoded::Blank | Decoded::Ignored => {}
/// }
/// ```
pub struct Decoder {
    plan: Arc<Plan>,
    schema: Schema,
    /// Key name → scratch index. Indices `0..plan.fields.len()` are the `FieldId`s; the
    /// type and time fields get their own unless a declared field has the same name.
    keys: NameTable<u32>,
    type_key: usize,
    time_key: usize,
    scratch: Scratch,
}

/// The values of the keys that matter, for the line being decoded.
struct Scratch {
    values: Vec<Raw>,
    /// Indices set by this line (reset before the next one).
    touched: Vec<u32>,
    /// The text of every string value kept, back to back.
    text: String,
}

/// A JSON value kept until the type is known.
#[derive(Debug, Clone, Default)]
enum Raw {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    /// A non-negative integer above `i64::MAX`.
    Big(u64),
    Float(f64),
    /// A string, as a range of [`Scratch::text`].
    Str(u32, u32),
    List(Value),
    Object,
}

impl Decoder {
    pub fn new(plan: Arc<Plan>) -> Decoder {
        let schema = Schema::new(&plan);
        let mut keys = NameTable::new();
        for (i, name) in plan.fields.iter().enumerate() {
            keys.insert(name, i as u32);
        }
        let mut next = plan.fields.len() as u32;
        let mut key_of = |name: &str| match keys.get(name.as_bytes()) {
            Some(k) => k as usize,
            None => {
                keys.insert(name, next);
                next += 1;
                next as usize - 1
            }
        };
        let type_key = key_of(&plan.input.type_field);
        let time_key = key_of(&plan.input.time_field);
        let scratch = Scratch {
            values: vec![Raw::Absent; next as usize],
            touched: Vec::with_capacity(16),
            text: String::with_capacity(256),
        };
        Decoder {
            plan,
            schema,
            keys,
            type_key,
            time_key,
            scratch,
        }
    }

    /// The plan this decoder was made for.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Decodes one line (with or without its line end). `source`, `input` and `offset`
    /// are stored in the event or the dead letter.
    pub fn decode_json_line(
        &mut self,
        line: &[u8],
        source: &Arc<str>,
        input: u32,
        offset: u64,
    ) -> Decoded {
        if is_blank(line) {
            return Decoded::Blank;
        }
        let dead = |reason| Decoded::Dead(DeadLetter::new(reason, source, offset, line));
        self.scratch.reset();
        if !self.scratch.read(&self.keys, line) {
            return dead(DeadReason::InvalidJson);
        }
        let values = &self.scratch.values;
        let text = self.scratch.text.as_str();
        let ty = match values[self.type_key] {
            Raw::Str(a, b) => match self
                .schema
                .types
                .get(&text.as_bytes()[a as usize..b as usize])
            {
                Some(ty) => ty,
                None => return Decoded::Ignored,
            },
            _ => return dead(DeadReason::MissingType),
        };
        let seconds = self.schema.seconds;
        let ts = match values[self.time_key] {
            Raw::Absent | Raw::Null => return dead(DeadReason::MissingTime),
            Raw::Int(i) => time_from_int(i, seconds),
            Raw::Str(a, b) => parse_time_str(&text[a as usize..b as usize]),
            _ => None,
        };
        let Some(ts) = ts else {
            return dead(DeadReason::InvalidTime);
        };
        let fields = &self.schema.fields[ty.index()];
        let mut slots = Vec::with_capacity(fields.len());
        for &(id, kind) in fields {
            match convert(&values[id.index()], kind, text) {
                Some(v) => slots.push(v),
                None => return dead(DeadReason::WrongType),
            }
        }
        Decoded::Event(Event {
            ty,
            ts,
            source: source.clone(),
            offset,
            input,
            values: slots.into_boxed_slice(),
        })
    }
}

/// A kept value as a field of `kind`: `None` when it is of another type.
#[inline]
fn convert(raw: &Raw, kind: Kind, text: &str) -> Option<Value> {
    Some(match (kind, raw) {
        (_, Raw::Absent | Raw::Null) => Value::Null,
        (Kind::Str, Raw::Str(a, b)) => Value::Str(Arc::from(&text[*a as usize..*b as usize])),
        (Kind::Int, Raw::Int(i)) => Value::Int(*i),
        (Kind::Int, Raw::Float(f)) => Value::Int(integral(*f)?),
        (Kind::Float, Raw::Float(f)) => Value::Float(*f),
        (Kind::Float, Raw::Int(i)) => Value::Float(*i as f64),
        (Kind::Float, Raw::Big(u)) => Value::Float(*u as f64),
        (Kind::Bool, Raw::Bool(b)) => Value::Bool(*b),
        (Kind::List, Raw::List(v)) => v.clone(),
        _ => return None,
    })
}

impl Scratch {
    fn reset(&mut self) {
        for &k in &self.touched {
            self.values[k as usize] = Raw::Absent;
        }
        self.touched.clear();
        self.text.clear();
    }

    /// Parses the line as one JSON object, keeping the values of the keys in `keys`.
    fn read(&mut self, keys: &NameTable<u32>, line: &[u8]) -> bool {
        // One UTF-8 check of the whole line spares serde_json one per string.
        let Ok(text) = std::str::from_utf8(trim_line_end(line)) else {
            return false;
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = ObjectSeed {
            keys,
            scratch: self,
        };
        seed.deserialize(&mut de).is_ok() && de.end().is_ok()
    }
}

/// The top-level object.
struct ObjectSeed<'a> {
    keys: &'a NameTable<u32>,
    scratch: &'a mut Scratch,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ObjectSeed { keys, scratch } = self;
        while let Some(key) = map.next_key_seed(KeySeed(keys))? {
            match key {
                Some(k) => {
                    let raw = map.next_value_seed(RawSeed(&mut scratch.text))?;
                    scratch.values[k as usize] = raw;
                    scratch.touched.push(k);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key: its scratch index, or `None` for a key nobody reads.
struct KeySeed<'a>(&'a NameTable<u32>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<u32>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<u32>, E> {
        Ok(self.0.get(key.as_bytes()))
    }
}

/// A value kept as [`Raw`]; strings are appended to the scratch text.
struct RawSeed<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for RawSeed<'_> {
    type Value = Raw;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawSeed<'_> {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Raw, E> {
        Ok(Raw::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Raw, E> {
        Ok(i64::try_from(u).map_or(Raw::Big(u), Raw::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Raw, E> {
        Ok(Raw::Float(f))
    }

    #[inline]
    fn visit_str<E>(self, s: &str) -> Result<Raw, E> {
        let start = self.0.len() as u32;
        self.0.push_str(s);
        Ok(Raw::Str(start, self.0.len() as u32))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Raw, A::Error> {
        ValueSeed.visit_seq(seq).map(Raw::List)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Object)
    }
}

/// Any JSON value as a [`Value`], converted like [`Value::from_json`] (without building a
/// `serde_json::Value` first).
pub(super) struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            items.push(v);
        }
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields: Vec<(Arc<str>, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(ValueSeed)?;
            // As in a JSON map: a repeated key keeps its first place and its last value.
            match fields.iter_mut().find(|(k, _)| **k == *key) {
                Some(slot) => slot.1 = value,
                None => fields.push((Arc::from(key), value)),
            }
        }
        Ok(Value::Record(Arc::new(fields)))
    }
}
