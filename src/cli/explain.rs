//! `nudge explain`: the story of every run of a rule for one key, event by event.

use super::load::{load, Loaded};
use super::run::open_input;
use nudge_compiler::nfa::fmt_duration;
use nudge_compiler::plan::{Plan, StepId};
use nudge_runtime::engine::{EventRef, Reaction, TraceEvent};
use nudge_runtime::runner::{self, RunOptions, Sink, Summary};
use nudge_runtime::time::format_rfc3339;
use nudge_runtime::value::Value;
use nudge_runtime::world::Resources;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub fn explain(
    paths: &[PathBuf],
    input: &Path,
    key: &str,
    rule: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let Loaded::Ready(plan) = load(paths, true)? else {
        return Ok(ExitCode::from(1));
    };
    let patterns: Vec<usize> = match rule {
        None => (0..plan.patterns.len()).collect(),
        Some(name) => match plan.patterns.iter().position(|p| p.name == name) {
            Some(i) => vec![i],
            None => {
                let names: Vec<&str> = plan.patterns.iter().map(|p| p.name.as_str()).collect();
                anyhow::bail!("no rule `{name}`; the rules are: {}", names.join(", "));
            }
        },
    };
    // A key given on the command line is text; match numbers too when it is one.
    let key_value = match key.parse::<i64>() {
        Ok(i) if key_is_int(&plan, &patterns) => Value::Int(i),
        _ => Value::str(key),
    };
    let (resources, _) = Resources::load(&plan)?;
    let opts = RunOptions {
        trace: Some((patterns.clone(), key_value)),
        ..RunOptions::default()
    };
    let mut sink = Collect::default();
    let plan = Arc::new(plan);
    let summary = runner::run(
        plan.clone(),
        Arc::new(resources),
        vec![open_input(&input.display().to_string())?],
        &opts,
        &mut sink,
    )?;
    let trace = summary.trace.expect("tracing was asked for");
    let key_json = {
        let mut s = String::new();
        trace.key.write_json(&mut s, &plan);
        s
    };
    for &p in &patterns {
        let pattern = &plan.patterns[p];
        println!("rule {} for key {key}:", pattern.name);
        // Runs are numbered 1, 2, ... in the order they started for this key.
        let mut numbers: Vec<u64> = Vec::new();
        let lines: Vec<String> = trace
            .events
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, e)| describe(&plan, p, &renumber(e, &mut numbers)))
            .collect();
        if lines.is_empty() {
            println!("  no run started: no event of this key fitted the first step");
        }
        for line in lines {
            println!("  {line}");
        }
        let mine: Vec<&String> = sink
            .records
            .iter()
            .filter(|r| r.0 == p && r.1 == key_json)
            .map(|r| &r.2)
            .collect();
        println!("  records emitted: {}", mine.len());
        for r in mine {
            println!("    {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn key_is_int(plan: &Plan, patterns: &[usize]) -> bool {
    patterns.iter().any(|&p| {
        let key = plan.patterns[p].key;
        plan.events.iter().any(|e| {
            e.fields
                .iter()
                .any(|f| f.id == key && f.ty == nudge_compiler::plan::FieldType::Int)
        })
    })
}

fn at(plan: &Plan, e: &EventRef) -> String {
    format!(
        "{}  line {:<5} {}",
        format_rfc3339(e.ts),
        e.offset + 1,
        plan.events[e.ty.index()].name
    )
}

fn step_name(plan: &Plan, p: usize, step: StepId) -> String {
    let s = &plan.patterns[p].steps[step.index()];
    let types: Vec<&str> = s
        .types
        .iter()
        .map(|t| plan.events[t.index()].name.as_str())
        .collect();
    format!("step {} ({})", step.0 + 1, types.join(" or "))
}

fn describe(plan: &Plan, p: usize, e: &TraceEvent) -> String {
    match e {
        TraceEvent::Started { run, at: ev } => format!("{}: run #{run} started", at(plan, ev)),
        TraceEvent::Reacted {
            run,
            at: ev,
            reaction,
            step,
            count,
        } => {
            let what = match reaction {
                Reaction::PassedOver => {
                    "passed over (does not fit the step it waits for)".to_string()
                }
                Reaction::Accumulated => {
                    format!("taken into {} ({count} so far)", step_name(plan, p, *step))
                }
                Reaction::Advanced => format!("advanced to {}", step_name(plan, p, *step)),
                Reaction::Negated => "killed by a negation (`then not`)".to_string(),
                Reaction::BrokenContiguity => {
                    "killed: `then next` needed this to be the next step's event".to_string()
                }
                Reaction::GroupCapped => "not taken: the group is at its length cap".to_string(),
            };
            format!("{}: run #{run} {what}", at(plan, ev))
        }
        TraceEvent::Expired { run, ts, step } => {
            let pattern = &plan.patterns[p];
            let why = match pattern.window_ms {
                Some(w) => format!(
                    "a deadline passed (`within` of the step, or `window {}`)",
                    fmt_duration(w)
                ),
                None => "the step's `within` deadline passed".to_string(),
            };
            format!(
                "{}: run #{run} died waiting in {}: {why}",
                format_rfc3339(*ts),
                step_name(plan, p, *step)
            )
        }
        TraceEvent::Discarded { run } => {
            format!("run #{run} discarded: another run matched (after match skip)")
        }
        TraceEvent::CooledDown { run, ts } => format!(
            "{}: run #{run} completed but the cooldown dropped it",
            format_rfc3339(*ts)
        ),
        TraceEvent::Matched { run, ts } => {
            format!(
                "{}: run #{run} matched: a record is emitted",
                format_rfc3339(*ts)
            )
        }
        TraceEvent::Refused { at: ev } => format!(
            "{}: a new run was refused: too many runs for this key (--max-runs-per-key)",
            at(plan, ev)
        ),
    }
}

/// The trace event with its run numbered by start order for this key.
fn renumber(e: &TraceEvent, numbers: &mut Vec<u64>) -> TraceEvent {
    let mut number = |id: u64| match numbers.iter().position(|&n| n == id) {
        Some(i) => i as u64 + 1,
        None => {
            numbers.push(id);
            numbers.len() as u64
        }
    };
    let mut e = e.clone();
    match &mut e {
        TraceEvent::Started { run, .. }
        | TraceEvent::Reacted { run, .. }
        | TraceEvent::Expired { run, .. }
        | TraceEvent::Discarded { run }
        | TraceEvent::CooledDown { run, .. }
        | TraceEvent::Matched { run, .. } => *run = number(*run),
        TraceEvent::Refused { .. } => {}
    }
    e
}

/// Keeps the records (pattern place, key JSON, record JSON) of the replay.
#[derive(Default)]
struct Collect {
    records: Vec<(usize, String, String)>,
}

impl Sink for Collect {
    fn record(&mut self, out: &nudge_runtime::engine::Output) -> io::Result<()> {
        self.records
            .push((out.place as usize, out.key.clone(), out.json.clone()));
        Ok(())
    }

    fn dead_letter(&mut self, _dead: &nudge_runtime::decode::DeadLetter) -> io::Result<()> {
        Ok(())
    }

    fn progress(&mut self, _summary: &Summary) {}
}
