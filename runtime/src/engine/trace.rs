//! The story of one key's runs, recorded for `nudge explain`.

use super::run::Reaction;
use crate::value::Value;
use nudge_compiler::plan::{StepId, TypeId};

/// What happened to a run, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceEvent {
    /// An event started run `run`.
    Started { run: u64, at: EventRef },
    /// An event reached run `run`; after it the run is in `step` with `count` events there.
    Reacted {
        run: u64,
        at: EventRef,
        reaction: Reaction,
        step: StepId,
        count: u32,
    },
    /// A deadline (step `within`, `window`) passed while the run waited in `step`.
    Expired { run: u64, ts: i64, step: StepId },
    /// Discarded because another run matched (`after match skip`).
    Discarded { run: u64 },
    /// Completed, but a cooldown dropped the record.
    CooledDown { run: u64, ts: i64 },
    /// Completed and emitted.
    Matched { run: u64, ts: i64 },
    /// A new run was refused: the runs-per-key cap was hit.
    Refused { at: EventRef },
}

/// The event a trace line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef {
    pub ts: i64,
    pub ty: TypeId,
    pub input: u32,
    pub offset: u64,
}

/// The recorded story of the traced patterns for one key.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The traced patterns (indices into the plan).
    pub patterns: Vec<usize>,
    pub key: Value,
    /// (pattern, what happened), in order.
    pub events: Vec<(usize, TraceEvent)>,
}

impl Trace {
    pub fn new(patterns: Vec<usize>, key: Value) -> Trace {
        Trace {
            patterns,
            key,
            events: Vec::new(),
        }
    }
}
