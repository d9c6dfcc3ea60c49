//! The JSON-lines decoder: one pass over each object, no tree built.
//!
//! The [`scan`](super::scan) cursor walks the object once. Each key is looked up in a
//! small table of the names that matter (the type field, the time field, every declared
//! field name of any type); the values of those keys are kept as [`Raw`] scalars in a
//! reusable scratch array (strings as ranges of the line), every other value is skipped
//! without being built. The type may come last, so the fields are converted only once the
//! object has ended and the type is known. Only what the event keeps is allocated: its
//! slots and its strings (and repeated strings share one allocation: see
//! [`intern`](super::intern)).

use super::intern::Interner;
use super::scan::{Bad, Cursor, Num, Scan, Str};
use super::schema::{integral, Kind, NameTable, Schema};
use super::{is_blank, trim_line_end, DeadLetter, DeadReason, Decoded};
use crate::event::Event;
use crate::time::{parse_time_str, time_from_int};
use crate::value::Value;
use nudge_compiler::plan::Plan;
use std::sync::Arc;

/// Decodes JSON lines into events of a [`Plan`]'s schemas. Keep one per input and reuse
/// it: it holds the scratch buffers.
///
/// ```
/// use nudge_runtime::decode::{DeadReason, Decoded, Decoder};
/// use std::sync::Arc;
///
/// let program = "event VIEW { user_id: string, price: float }";
/// let plan = nudge_compiler::compile_str("shop.nudge", program).plan.unwrap();
/// let mut decoder = Decoder::new(Arc::new(plan));
/// let source: Arc<str> = Arc::from("events");
///
/// let line = br#"{"type": "VIEW", "ts": "2026-11-27T10:00:00Z", "price": 49}"#;
/// let Decoded::Event(e) = decoder.decode_json_line(line, &source, 0, 0) else { panic!() };
/// assert_eq!(e.ts, 1_795_773_600_000);
/// assert_eq!(e.values[1].as_f64(), Some(49.0));
///
/// let line = br#"{"type": "VIEW", "ts": 0, "price": "49"}"#;
/// let Decoded::Dead(d) = decoder.decode_json_line(line, &source, 0, 1) else { panic!() };
/// assert_eq!(d.reason, DeadReason::WrongType);
/// assert_eq!(
///     d.to_json(),
///     r#"{"reason": "wrong_type", "source": "events", "offset": 1, "raw": "{\"type\": \"VIEW\", \"ts\": 0, \"price\": \"49\"}"}"#
/// );
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
    interner: Interner,
}

/// The values of the keys that matter, for the line being decoded.
struct Scratch {
    values: Vec<Raw>,
    /// Indices set by this line (reset before the next one).
    touched: Vec<u32>,
    /// Kept strings that had escapes, unescaped, back to back.
    text: String,
    /// An escaped key, unescaped.
    key: String,
    /// Kept lists (rare: kept out of line so that [`Raw`] stays small).
    lists: Vec<Value>,
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
    Str(Str),
    /// A list, as an index into [`Scratch::lists`].
    List(u32),
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
            key: String::new(),
            lists: Vec::new(),
        };
        Decoder {
            interner: Interner::new(plan.fields.len()),
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
        // One UTF-8 check of the whole line; strings need none after it.
        let Ok(text) = std::str::from_utf8(trim_line_end(line)) else {
            return dead(DeadReason::InvalidJson);
        };
        self.scratch.reset();
        let mut cur = Cursor::new(text);
        if self.scratch.read(&self.keys, &mut cur).is_err() {
            return dead(DeadReason::InvalidJson);
        }
        let values = &self.scratch.values;
        let str_of = |s: Str| match s {
            Str::Line(a, b) => cur.line_str(a, b),
            Str::Text(a, b) => &self.scratch.text[a as usize..b as usize],
        };
        let ty = match values[self.type_key] {
            Raw::Str(s) => match self.schema.types.get(str_of(s).as_bytes()) {
                Some(ty) => ty,
                None => return Decoded::Ignored,
            },
            _ => return dead(DeadReason::MissingType),
        };
        let ts = match values[self.time_key] {
            Raw::Absent | Raw::Null => return dead(DeadReason::MissingTime),
            Raw::Int(i) => time_from_int(i, self.schema.seconds),
            Raw::Str(s) => parse_time_str(str_of(s)),
            _ => None,
        };
        let Some(ts) = ts else {
            return dead(DeadReason::InvalidTime);
        };
        let fields = &self.schema.fields[ty.index()];
        let mut slots = Vec::with_capacity(fields.len());
        for &(id, kind) in fields {
            let value = match (kind, &values[id.index()]) {
                (Kind::Str, Raw::Str(s)) => {
                    Some(Value::Str(self.interner.get(id.index(), str_of(*s))))
                }
                (_, raw) => convert(raw, kind, &self.scratch.lists),
            };
            match value {
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

/// A kept value (other than a string) as a field of `kind`: `None` when it is of another
/// type.
#[inline]
fn convert(raw: &Raw, kind: Kind, lists: &[Value]) -> Option<Value> {
    Some(match (kind, raw) {
        (_, Raw::Absent | Raw::Null) => Value::Null,
        (Kind::Int, Raw::Int(i)) => Value::Int(*i),
        (Kind::Int, Raw::Float(f)) => Value::Int(integral(*f)?),
        (Kind::Float, Raw::Float(f)) => Value::Float(*f),
        (Kind::Float, Raw::Int(i)) => Value::Float(*i as f64),
        (Kind::Float, Raw::Big(u)) => Value::Float(*u as f64),
        (Kind::Bool, Raw::Bool(b)) => Value::Bool(*b),
        (Kind::List, Raw::List(i)) => lists[*i as usize].clone(),
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
        self.lists.clear();
    }

    /// Reads the line as one JSON object, keeping the values of the keys in `keys`.
    fn read(&mut self, keys: &NameTable<u32>, cur: &mut Cursor) -> Scan<()> {
        cur.eat(b'{')?;
        if cur.peek() == Some(b'}') {
            cur.eat(b'}')?;
        } else {
            loop {
                let slot = keys.get(cur.key(&mut self.key)?.as_bytes());
                match slot {
                    Some(k) => {
                        let raw = self.raw(cur)?;
                        self.values[k as usize] = raw;
                        self.touched.push(k);
                    }
                    None => cur.skip_value(1)?,
                }
                if cur.next_member()?.is_none() {
                    break;
                }
            }
        }
        if cur.at_end() {
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// A member's value, kept.
    #[inline]
    fn raw(&mut self, cur: &mut Cursor) -> Scan<Raw> {
        Ok(match cur.peek().ok_or(Bad)? {
            b'"' => {
                cur.eat(b'"')?;
                Raw::Str(cur.string(&mut self.text)?)
            }
            b'-' | b'0'..=b'9' => match cur.number()? {
                Num::Int(i) => Raw::Int(i),
                Num::Big(u) => Raw::Big(u),
                Num::Float(f) => Raw::Float(f),
            },
            b't' => cur.word(b"true").map(|_| Raw::Bool(true))?,
            b'f' => cur.word(b"false").map(|_| Raw::Bool(false))?,
            b'n' => cur.word(b"null").map(|_| Raw::Null)?,
            b'[' => {
                self.lists.push(cur.list(1, &mut self.key)?);
                Raw::List(self.lists.len() as u32 - 1)
            }
            b'{' => cur.skip_value(1).map(|_| Raw::Object)?,
            _ => return Err(Bad),
        })
    }
}
