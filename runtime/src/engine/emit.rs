//! Rendering a match as its output record (LANGUAGE.md §4 "Emit").

use super::output::Output;
use super::run::Run;
use crate::eval::{eval, Scope, World};
use crate::value::{write_json_str, Value};
use nudge_compiler::plan::Plan;
use std::fmt::Write as _;
use std::sync::Arc;

/// The record of run `run` of pattern `p`, completed at `ts`: `rule`, `key`, `ts`, then
/// the emit fields in the order written. Bare names read the run's last taken event.
pub fn render(
    plan: &Plan,
    world: &dyn World,
    p: usize,
    key: &Value,
    run: &Run,
    ts: i64,
    seq: u64,
) -> Output {
    let pattern = &plan.patterns[p];
    let scope = Scope {
        plan,
        current: Some(&run.last),
        bindings: &run.bindings,
        own: None,
        key,
        world,
    };
    let mut key_json = String::new();
    key.write_json(&mut key_json, plan);
    let mut json = String::with_capacity(128);
    json.push_str("{\"rule\": ");
    write_json_str(&mut json, &pattern.name);
    let _ = write!(json, ", \"key\": {key_json}, \"ts\": {ts}");
    for (name, expr) in &pattern.emit.fields {
        json.push_str(", ");
        write_json_str(&mut json, name);
        json.push_str(": ");
        eval(expr, &scope).write_json(&mut json, plan);
    }
    json.push('}');
    let id = format!(
        "{}:{}:{}:{}-{}:{}-{}",
        pattern.name, key_json, ts, run.origin.0, run.origin.1, run.last.input, run.last.offset
    );
    Output {
        ts,
        place: p as u32,
        key: key_json,
        seq,
        into: pattern.emit.into.as_deref().map(Arc::from),
        id,
        json,
    }
}
