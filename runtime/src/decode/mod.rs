//! Decoding: input records (JSON lines, CSV rows) to [`Event`]s or dead letters.
//!
//! This is the `decode` box of `source → decode → reorder → shard → engine`: each record
//! becomes an [`Event`] with its type id, its time in epoch ms and its declared fields in
//! the slots of the type's schema, or a [`DeadLetter`] saying why not (LANGUAGE.md §3,
//! §10, §11). Nothing after this step looks a field up by name.
//!
//! The checks, in order (the first that fails decides):
//! 1. the record is a JSON object (`invalid_json`); a blank line is [`Decoded::Blank`];
//! 2. the type field is a string (`missing_type`); a type the program does not declare is
//!    [`Decoded::Ignored`], whatever else is wrong with the record;
//! 3. the time field is present and not `null` (`missing_time`), and is an integer (epoch
//!    ms, or epoch s with `seconds`) or a string form of §2 (`invalid_time`);
//! 4. each declared field is `null`, absent, or of its declared type (`wrong_type`).
//!
//! Field conversions (JSON): an integer is accepted for a `float` field (stored as a
//! float); a number with an integral value (`3.0`, `1e3`) is accepted for an `int` field
//! (stored as an int), any other fraction is `wrong_type`; a `list` field takes a JSON
//! array, its elements converted like [`Value::from_json`]. When a key appears twice in an
//! object, the last one counts. A time must be a JSON integer: `1.7e12` is `invalid_time`.
//!
//! CSV ([`CsvDecoder`]): cells are typed by the schema, an empty cell is `null`; a record
//! that is not UTF-8 text is `invalid_json` (the one way a CSV record cannot be read).

mod csv;
mod intern;
mod json;
mod scan;
mod schema;

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

pub use self::csv::{typed_cell, CsvDecoder};
pub use self::json::Decoder;

use crate::event::Event;
use crate::value::write_json_str;
use std::fmt;
use std::sync::Arc;

/// What one input record decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// An accepted event.
    Event(Event),
    /// A blank (or whitespace-only) line: skipped, not counted.
    Blank,
    /// A record whose type the program does not declare: counted by the caller.
    Ignored,
    /// A bad record.
    Dead(DeadLetter),
}

/// Why a record went to the dead letters (LANGUAGE.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadReason {
    /// Not JSON, or not a JSON object (for CSV: not UTF-8 text).
    InvalidJson,
    /// The type field is absent, `null` or not a string.
    MissingType,
    /// The time field is absent or `null`.
    MissingTime,
    /// The time is neither an integer nor one of the string forms.
    InvalidTime,
    /// A declared field holds a value of another type.
    WrongType,
    /// The event arrived below its input's watermark (decided by the reorder stage).
    Late,
}

impl DeadReason {
    /// Every reason, in the order above.
    pub const ALL: [DeadReason; 6] = [
        DeadReason::InvalidJson,
        DeadReason::MissingType,
        DeadReason::MissingTime,
        DeadReason::InvalidTime,
        DeadReason::WrongType,
        DeadReason::Late,
    ];

    /// The reason as written in a dead letter (`invalid_json`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadReason::InvalidJson => "invalid_json",
            DeadReason::MissingType => "missing_type",
            DeadReason::MissingTime => "missing_time",
            DeadReason::InvalidTime => "invalid_time",
            DeadReason::WrongType => "wrong_type",
            DeadReason::Late => "late",
        }
    }
}

impl fmt::Display for DeadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bad record, as written to the dead letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub reason: DeadReason,
    /// The input's name (`source`).
    pub source: Arc<str>,
    /// The 0-based line of a file (a CSV record's first physical line), the Kafka offset.
    pub offset: u64,
    /// The record as read, without its line end (invalid UTF-8 replaced by U+FFFD).
    pub raw: String,
}

impl DeadLetter {
    /// A dead letter for the record `raw` (its line end, if any, is dropped).
    pub fn new(reason: DeadReason, source: &Arc<str>, offset: u64, raw: &[u8]) -> DeadLetter {
        DeadLetter {
            reason,
            source: source.clone(),
            offset,
            raw: String::from_utf8_lossy(trim_line_end(raw)).into_owned(),
        }
    }

    /// `{"reason": ..., "source": ..., "offset": ..., "raw": ...}`; `raw` is the record as
    /// a JSON string.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.raw.len() + 64);
        out.push_str("{\"reason\": \"");
        out.push_str(self.reason.as_str());
        out.push_str("\", \"source\": ");
        write_json_str(&mut out, &self.source);
        out.push_str(", \"offset\": ");
        out.push_str(&self.offset.to_string());
        out.push_str(", \"raw\": ");
        write_json_str(&mut out, &self.raw);
        out.push('}');
        out
    }
}

/// The line without its trailing `\n` / `\r\n`.
fn trim_line_end(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line
}

/// A line of nothing but JSON whitespace.
#[inline]
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}
