//! Records the engine emits, with the keys that put them in file order.

use crate::value::Value;
use nudge_compiler::plan::{ModelId, Plan};
use std::cmp::Ordering;
use std::sync::Arc;

/// One emitted record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// The record as one line of JSON. While `pending` is not empty, the values of the
    /// model fields are missing from it (each call says where its reply goes).
    pub json: String,
    /// Model calls whose replies the record waits for (`ranked: ranker({...})`), in
    /// field order; empty for a complete record.
    pub pending: Vec<PendingCall>,
}

/// A model call of an emit field: the argument was evaluated when the match completed
/// (operators as of that time); the reply, or the model's fallback, becomes the value
/// of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCall {
    /// The emit field the reply fills.
    pub field: Arc<str>,
    /// Where the reply's JSON text goes in [`Output::json`] (a byte offset).
    pub at: usize,
    pub model: ModelId,
    /// The argument, POSTed as JSON.
    pub arg: Value,
}

impl Output {
    /// Whether the record still waits for model replies.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Writes the replies (one per pending call, in order) into the record, which is
    /// then complete.
    pub fn resolve(&mut self, replies: &[Value], plan: &Plan) {
        debug_assert_eq!(replies.len(), self.pending.len());
        // From the last call back, so that the earlier offsets stay valid.
        for (call, reply) in self.pending.iter().zip(replies).rev() {
            let mut text = String::new();
            reply.write_json(&mut text, plan);
            self.json.insert_str(call.at, &text);
        }
        self.pending.clear();
    }
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
