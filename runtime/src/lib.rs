//! nudge-runtime: the engine that runs a compiled Plan over events.
//!
//! The pipeline is `pattern file → AST → checked program → Plan (NFAs) → engine`; this
//! crate is the last step. [`engine::Engine`] is synchronous and deterministic: events and
//! watermarks in, records out. Around it: decoding of input records into [`event::Event`]s
//! (slots, not names), the watermark and reorder stage, expression evaluation, tables and
//! operators, and the file runner.

pub mod decode;
pub mod engine;
pub mod eval;
pub mod event;
pub mod gen;
pub mod kafka;
pub mod log;
pub mod models;
pub mod operators;
pub mod redis_sink;
pub mod reorder;
pub mod runner;
pub mod scenario;
pub mod table;
pub mod time;
pub mod value;
pub mod vectors;
pub mod world;
