//! nudge-compiler: from a parsed program to the Plan the runtime executes.
//!
//! The pipeline is `pattern file → AST → checked program → Plan (NFAs) → engine`. This
//! crate owns the middle: it binds every name (declarations, event types, fields, step
//! bindings), checks types and the placement rules of the language, collects every
//! diagnostic of the program in one pass, and lowers each pattern to an NFA (a petgraph
//! graph, checked and exportable as text, dot, mermaid or json) flattened into the
//! [`plan::Plan`].

pub mod plan;


