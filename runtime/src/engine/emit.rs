//! Rendering a match as its output record (LANGUAGE.md §4 "Emit").

use super::output::{Output, PendingCall};
use super::run::Run;
use crate::eval::{eval, Scope, World};
use crate::value::{write_json_str, Value};
use nudge_compiler::plan::{Expr, Plan};
use std::fmt::Write as _;
use std::sync::Arc;

/// The record of run `run` of pattern `p`, completed at `ts`: `rule`, `key`, `ts`, then
/// the emit fields in the order written. Bare names read the run's last taken event. A
/// model field is left out of the JSON and carried as a [`PendingCall`].
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
    let mut pending = Vec::new();
    for (name, expr) in &pattern.emit.fields {
        json.push_str(", ");
        write_json_str(&mut json, name);
        json.push_str(": ");
        match expr {
            // The whole value of the field (E411): the runner makes the call and writes
            // the reply here.
            Expr::Model(model, arg) => pending.push(PendingCall {
                field: Arc::from(name.as_str()),
                at: json.len(),
                model: *model,
                arg: eval(arg, &scope),
            }),
            _ => eval(expr, &scope).write_json(&mut json, plan),
        }
    }
    json.push('}');
    let id = format!(
        "{}:{}:{}:{}-{}:{}-{}",
        pattern.name, key_json, ts, run.origin.0, run.origin.1, run.last.input, run.last.offset
    );
    Output {
        ts,
        place: pattern.place,
        key: key_json,
        seq,
        into: pattern.emit.into.as_deref().map(Arc::from),
        id,
        json,
        pending,
    }
}
