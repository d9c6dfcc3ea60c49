//! Records the engine emits, with the keys that put them in file order.

use std::cmp::Ordering;
use std::sync::Arc;

/// One emitted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The record's `ts` (epoch ms).
    pub ts: i64,
    /// The emitting declaration's place in the program.
    pub place: u32,
    /// The key as JSON text (empty for operator records without a key).
    pub key: String,
    /// Completion order within the shard (so within the key).
    pub seq: u64,
    /// `into "NAME"`; `None` for the main output.
    pub into: Option<Arc<str>>,
    /// A deterministic id: rule, key and the input positions that completed it.
    pub id: String,
    /// The record as one line of JSON.
    pub json: String,
}

impl Output {
    /// File order (LANGUAGE.md §9.1): ts, then program place, then key, then completion
    /// order.
    pub fn file_order(&self, other: &Output) -> Ordering {
        (self.ts, self.place, &self.key, self.seq).cmp(&(
            other.ts,
            other.place,
            &other.key,
            other.seq,
        ))
    }
}

impl PartialOrd for Output {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Output {
    fn cmp(&self, other: &Self) -> Ordering {
        self.file_order(other)
            .then_with(|| self.json.cmp(&other.json))
    }
}
