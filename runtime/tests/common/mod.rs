//! Test harness: compile a program from text and run it over JSON lines.

#![allow(dead_code)]

use nudge_runtime::decode::DeadLetter;
use nudge_runtime::engine::Output;
use nudge_runtime::runner::{self, Input, RunOptions, Sink, Summary};
use nudge_runtime::world::Resources;
use std::io::{self, Cursor};
use std::sync::Arc;

/// The schema most tests share.
pub const SCHEMA: &str = r#"
input
  type field type
  time field ts
  key user_id
event A { user_id: string, n: int }
event B { user_id: string, n: int }
event C { user_id: string, n: int }
event X { user_id: string, n: int }
"#;

/// What a run wrote.
#[derive(Debug, Default)]
pub struct Collected {
    pub records: Vec<String>,
    pub named: Vec<(String, String)>,
    pub dead: Vec<String>,
    pub summary: Summary,
}

impl Sink for Collected {
    fn record(&mut self, out: &Output) -> io::Result<()> {
        match &out.into {
            None => self.records.push(out.json.clone()),
            Some(n) => self.named.push((n.to_string(), out.json.clone())),
        }
        Ok(())
    }

    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()> {
        self.dead.push(dead.to_json());
        Ok(())
    }
}

/// Compiles `program` (panicking with its diagnostics on error).
pub fn plan(program: &str) -> nudge_compiler::plan::Plan {
    let compiled = nudge_compiler::compile_str("test.nudge", program);
    if compiled.has_errors() {
        panic!("program has errors: {:#?}", compiled.diagnostics);
    }
    compiled.plan.expect("a plan")
}

/// Runs `program` over several inputs (each a JSON-lines text) with options.
pub fn run_inputs(program: &str, inputs: &[&str], opts: &RunOptions) -> Collected {
    let plan = Arc::new(plan(program));
    let (resources, _) = Resources::load(&plan).expect("tables load");
    let inputs = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| Input {
            source: Arc::from(format!("in{i}").as_str()),
            reader: Box::new(Cursor::new(text.to_string().into_bytes())),
            csv: false,
        })
        .collect();
    let mut out = Collected::default();
    let summary = runner::run(plan, Arc::new(resources), inputs, opts, &mut out).expect("run");
    out.summary = summary;
    out
}

/// Runs `SCHEMA + pattern` over compact event lines `TYPE USER TS [N]` (ts in seconds).
pub fn run_events(pattern: &str, events: &str) -> Collected {
    run_events_with(pattern, events, &RunOptions::default())
}

pub fn run_events_with(pattern: &str, events: &str, opts: &RunOptions) -> Collected {
    let program = format!("{SCHEMA}\n{pattern}");
    run_inputs(&program, &[&jsonl(events)], opts)
}

/// `A u1 10 [n]` lines to JSON lines (ts in seconds → ms).
pub fn jsonl(events: &str) -> String {
    let mut out = String::new();
    for line in events.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let ts: f64 = parts[2].parse().expect("ts");
        let n = parts.get(3).map_or("null".to_string(), |s| s.to_string());
        let user = if parts[1] == "-" {
            "null".to_string()
        } else {
            format!("\"{}\"", parts[1])
        };
        out.push_str(&format!(
            "{{\"type\": \"{}\", \"user_id\": {}, \"ts\": {}, \"n\": {}}}\n",
            parts[0],
            user,
            (ts * 1000.0) as i64,
            n
        ));
    }
    out
}

/// The `ts` of each record, in seconds.
pub fn times(c: &Collected) -> Vec<f64> {
    c.records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).expect("json");
            v["ts"].as_i64().expect("ts") as f64 / 1000.0
        })
        .collect()
}

/// A field of each record.
pub fn field(c: &Collected, name: &str) -> Vec<serde_json::Value> {
    c.records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).expect("json");
            v[name].clone()
        })
        .collect()
}
