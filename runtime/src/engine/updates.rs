//! The profile outbox: what a `sink` needs to keep a key's profile current elsewhere.
//!
//! The engine stays synchronous and does no I/O: when asked to
//! ([`Engine::collect_profile_updates`](super::Engine::collect_profile_updates)), it
//! appends one [`ProfileUpdate`] per event that updates a profile with a `sink`, and the
//! runner drains them ([`Engine::take_profile_updates`](super::Engine::take_profile_updates))
//! to the sink between batches.

use crate::value::Value;
use nudge_compiler::plan::ProfileId;

/// A key's profile right after one of its events.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileUpdate {
    pub profile: ProfileId,
    pub key: Value,
    /// The event's ts (epoch ms): the time the features are read at.
    pub ts: i64,
    /// Every feature, in declaration order, as patterns would read it at `ts`.
    pub features: Box<[Value]>,
    /// Kafka mode: the input partition number (the task) whose events made it, so that
    /// its checkpoint can carry it while unwritten; 0 elsewhere.
    pub partition: i32,
}
