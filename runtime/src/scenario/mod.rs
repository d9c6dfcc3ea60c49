//! Scenario tests (LANGUAGE.md §12): a scenario's timeline through the real runner, and
//! the readable snapshot of what came out.
//!
//! `*.scenario text → Scenario (grammar) → Prepared (checked against the Plan) → JSON
//! lines → runner::run → records and dead letters → snapshot text`.
//!
//! The events go through the same decoding, watermark, lateness and engine as
//! production data: each event line becomes one JSON line, in arrival order. Events
//! with a `source=NAME` field come from an input of that name, the others from the input
//! [`DEFAULT_SOURCE`]; every input holds one line per event of the scenario (blank where
//! the event belongs to another input) and the runner reads one line of each input per
//! turn, so the arrival order across inputs is exactly the scenario's. Model calls are
//! answered by the scenario's stand-ins ([`crate::models::StandIn`]); a call of a model
//! without one fails the scenario (S201), unless `only` leaves out every rule that calls
//! that model.

mod render;
mod resolve;
mod typed;

#[cfg(test)]
mod tests;

pub use render::{relative, snapshot};
pub use resolve::prepare;

use crate::decode::DeadLetter;
use crate::engine::Output;
use crate::eval::World;
use crate::models::StandIn;
use crate::runner::{self, Input, RunOptions, Sink, Summary};
use crate::value::Value;
use nudge_compiler::plan::Plan;
use nudge_grammar::{parse_scenario, Diagnostic, FileId, Span};
use std::io;
use std::sync::Arc;

/// The `source` of events that do not say `source=NAME`.
pub const DEFAULT_SOURCE: &str = "scenario";

/// A scenario checked against its program, ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `start` in epoch ms (default 0, 1970-01-01T00:00:00Z).
    pub start: i64,
    /// `until` in epoch ms.
    pub until: Option<i64>,
    /// The rules whose records are kept (`None`: all).
    pub only: Option<Vec<String>>,
    /// The models whose calls are shown and need a stand-in: those the kept rules call
    /// (`None`: all).
    pub models: Option<Vec<String>>,
    /// The events in arrival order.
    pub arrivals: Vec<Arrival>,
    /// Input names, in order of first appearance; [`Arrival::input`] indexes it.
    pub sources: Vec<Arc<str>>,
    /// Model replies by model name.
    pub stand_ins: Vec<(String, Value)>,
}

/// One event of the timeline.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Its 1-based line in the scenario file.
    pub line: usize,
    /// The line as written, from its time to its last field.
    pub text: String,
    /// Event time, epoch ms.
    pub ts: i64,
    /// Index into [`Prepared::sources`].
    pub input: usize,
    /// The JSON line the runner reads.
    pub json: String,
}

/// What a run of a scenario produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Records in file order (only those of the `only` rules, when given).
    pub records: Vec<Output>,
    /// Dead letters in arrival order; `offset` is the index of the arrival.
    pub dead: Vec<DeadLetter>,
    /// Model calls in call order: the model's name and the argument as JSON.
    pub calls: Vec<(String, String)>,
    /// Models called that have no stand-in, in the order of their first call.
    pub missing: Vec<String>,
    /// The runner's counts (events read, dead letters, engine counters).
    pub summary: Summary,
}

/// Why a scenario has no snapshot.
#[derive(Debug)]
pub enum Failure {
    /// The scenario is wrong (parse errors, unknown names, a missing stand-in).
    Invalid(Vec<Diagnostic>),
    /// Reading failed (never for in-memory inputs; kept for the runner's signature).
    Io(io::Error),
}

/// Parses, checks and runs the scenario `text` (the file `file` of the caller's
/// `Sources`, for the diagnostics' spans), and renders its snapshot.
pub fn snapshot_of(
    plan: &Arc<Plan>,
    world: &Arc<dyn World + Send + Sync>,
    file: FileId,
    text: &str,
) -> Result<String, Failure> {
    let scenario = parse_scenario(file, text).map_err(Failure::Invalid)?;
    let prepared = prepare(plan, &scenario, text).map_err(Failure::Invalid)?;
    let outcome = run(plan.clone(), world.clone(), &prepared).map_err(Failure::Io)?;
    if !outcome.missing.is_empty() {
        let last = last_line(file, text);
        return Err(Failure::Invalid(
            outcome
                .missing
                .iter()
                .map(|m| missing_stand_in(m, last))
                .collect(),
        ));
    }
    Ok(snapshot(&prepared, &outcome))
}

/// S201: a rule called a model the scenario gives no reply for.
fn missing_stand_in(model: &str, last: Span) -> Diagnostic {
    Diagnostic::error(
        "S201",
        format!("a rule calls the model `{model}`, and this scenario has no stand-in for it"),
        last,
        format!("the scenario ends without a `model {model} returns ...` line"),
    )
    .with_help(format!(
        "add a line such as `model {model} returns [\"p1\", \"p2\"]`: scenarios never call the network"
    ))
}

/// The span of the last line with text (where a missing line would go).
fn last_line(file: FileId, text: &str) -> Span {
    let end = text.trim_end().len();
    let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    Span::new(file, start, end)
}

/// Runs a prepared scenario through [`runner::run`] (one shard, one line per input per
/// turn, the scenario's stand-ins as the model caller).
pub fn run(
    plan: Arc<Plan>,
    world: Arc<dyn World + Send + Sync>,
    p: &Prepared,
) -> io::Result<Outcome> {
    let inputs = p
        .sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let mut text = String::new();
            for a in &p.arrivals {
                if a.input == i {
                    text.push_str(&a.json);
                }
                text.push('\n');
            }
            Input {
                source: source.clone(),
                reader: Box::new(io::Cursor::new(text.into_bytes())),
                csv: false,
            }
        })
        .collect();
    let stand_in = Arc::new(StandIn::new(p.stand_ins.iter().cloned()));
    let opts = RunOptions {
        until: p.until,
        shards: 1,
        read_batch: 1,
        models: Some(stand_in.clone()),
        ..RunOptions::default()
    };
    let mut sink = Collect {
        only: p.only.as_deref(),
        records: Vec::new(),
        dead: Vec::new(),
    };
    let summary = runner::run(plan.clone(), world, inputs, &opts, &mut sink)?;
    let watched = |model: &String| !matches!(&p.models, Some(m) if !m.contains(model));
    let calls = stand_in
        .calls()
        .into_iter()
        .filter(|(model, _)| watched(model))
        .map(|(model, arg)| {
            let mut json = String::new();
            arg.write_json(&mut json, &plan);
            (model, json)
        })
        .collect();
    Ok(Outcome {
        records: sink.records,
        dead: sink.dead,
        calls,
        missing: stand_in.missing().into_iter().filter(watched).collect(),
        summary,
    })
}

/// Keeps records (of the `only` rules) and dead letters in memory.
struct Collect<'a> {
    only: Option<&'a [String]>,
    records: Vec<Output>,
    dead: Vec<DeadLetter>,
}

impl Sink for Collect<'_> {
    fn record(&mut self, out: &Output) -> io::Result<()> {
        let keep = match self.only {
            None => true,
            Some(rules) => render::rule_of(&out.json).is_some_and(|r| rules.contains(&r)),
        };
        if keep {
            self.records.push(out.clone());
        }
        Ok(())
    }

    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()> {
        self.dead.push(dead.clone());
        Ok(())
    }
}
