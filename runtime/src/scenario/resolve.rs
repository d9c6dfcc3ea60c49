//! Checking a parsed scenario against the compiled program and turning it into what
//! the runner reads: event times, JSON lines in arrival order, inputs, stand-ins.

use super::typed;
use super::{Arrival, Prepared, DEFAULT_SOURCE};
use crate::time::parse_time_str;
use crate::value::write_json_str;
use nudge_compiler::check::suggest::did_you_mean;
use nudge_compiler::plan::{Expr, Plan};
use nudge_grammar::scenario::{EventLine, Scenario, Start, Time, TimeKind, ValueKind};
use nudge_grammar::{Diagnostic, Span};
use std::sync::Arc;

const MS_PER_DAY: i64 = 86_400_000;

/// Checks `s` against `plan` (S002, S101–S106); every problem is reported.
pub fn prepare(plan: &Plan, s: &Scenario, text: &str) -> Result<Prepared, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let start = match &s.start {
        None => 0,
        Some(st) => start_ms(st).unwrap_or_else(|d| {
            errors.push(d);
            0
        }),
    };
    let day = start.div_euclid(MS_PER_DAY) * MS_PER_DAY;
    let only = rules(plan, s, &mut errors);
    let models = only.as_ref().map(|rules| models_called(plan, rules));
    let mut stand_ins = Vec::new();
    for m in &s.stand_ins {
        if !plan.models.iter().any(|p| p.name == m.model.text) {
            let d = Diagnostic::error(
                "S105",
                format!("there is no model `{}` in the program", m.model.text),
                m.model.span,
                "unknown model",
            );
            errors.push(help(
                d,
                &m.model.text,
                plan.models.iter().map(|p| p.name.as_str()),
            ));
            continue;
        }
        match typed::value(&m.value) {
            Ok(v) => stand_ins.push((m.model.text.clone(), v)),
            Err(d) => errors.push(d),
        }
    }
    let mut arrivals = Vec::new();
    let mut sources: Vec<Arc<str>> = Vec::new();
    let mut prev = start;
    for ev in &s.events {
        let ts = at(ev.time, prev, day);
        prev = ts;
        match event_json(plan, ev, ts) {
            Ok((json, source)) => {
                let input = match sources.iter().position(|s| **s == *source) {
                    Some(i) => i,
                    None => {
                        sources.push(Arc::from(source.as_str()));
                        sources.len() - 1
                    }
                };
                arrivals.push(Arrival {
                    line: ev.line,
                    text: single_blanks(&text[ev.span.range()]),
                    ts,
                    input,
                    json,
                });
            }
            Err(mut ds) => errors.append(&mut ds),
        }
    }
    let until = s.until.map(|t| at(t, start, day));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Prepared {
        start,
        until,
        only,
        models,
        arrivals,
        sources,
        stand_ins,
    })
}

/// The time of a line: `+D` after `prev`, or a clock time on the day starting at `day`.
fn at(t: Time, prev: i64, day: i64) -> i64 {
    match t.kind {
        TimeKind::After(ms) => prev.saturating_add(ms.min(i64::MAX as u64) as i64),
        TimeKind::Clock(ms) => day + ms as i64,
    }
}

/// `start`: a time form of §2, a date alone (midnight UTC), or epoch milliseconds.
fn start_ms(st: &Start) -> Result<i64, Diagnostic> {
    let t = st.text.as_str();
    let date = |d: &str| parse_time_str(&format!("{d}T00:00:00Z")).filter(|_| d.len() == 10);
    parse_time_str(t)
        .or_else(|| date(t))
        .or_else(|| t.parse::<i64>().ok())
        .ok_or_else(|| {
            Diagnostic::error(
                "S002",
                format!("`{t}` is not a start time nudge can read"),
                st.span,
                "not a time",
            )
            .with_help("write 2026-11-27T10:00:00Z, 2026-11-27 10:00:00 UTC, or a date: 2026-11-27")
        })
}

/// The `only` names, checked (S104); `None` when there are none.
fn rules(plan: &Plan, s: &Scenario, errors: &mut Vec<Diagnostic>) -> Option<Vec<String>> {
    if s.only.is_empty() {
        return None;
    }
    // Rules are patterns, and trending operators that publish their lists.
    let known: Vec<&str> = plan
        .patterns
        .iter()
        .map(|p| p.name.as_str())
        .chain(
            plan.trendings
                .iter()
                .filter(|t| t.emit.is_some())
                .map(|t| t.name.as_str()),
        )
        .collect();
    for n in &s.only {
        if !known.contains(&n.text.as_str()) {
            let d = Diagnostic::error(
                "S104",
                format!("there is no rule `{}` in the program", n.text),
                n.span,
                "unknown rule",
            );
            errors.push(help(d, &n.text, known.iter().copied()));
        }
    }
    Some(s.only.iter().map(|n| n.text.clone()).collect())
}

/// The models the emits of these rules call.
fn models_called(plan: &Plan, rules: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for p in plan.patterns.iter().filter(|p| rules.contains(&p.name)) {
        for (_, e) in &p.emit.fields {
            if let Expr::Model(id, _) = e {
                names.push(plan.models[id.index()].name.clone());
            }
        }
    }
    names
}

/// The line with each run of blanks outside quotes made one blank, so that lining up
/// columns in a scenario does not change its snapshot.
fn single_blanks(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut quoted, mut escaped) = (false, false);
    for c in line.chars() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ' ' || c == '\t' {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The JSON line of an event and the name of its input (S101–S103, S106).
fn event_json(plan: &Plan, ev: &EventLine, ts: i64) -> Result<(String, String), Vec<Diagnostic>> {
    let Some(ty) = plan.type_id(&ev.ty.text) else {
        let d = Diagnostic::error(
            "S101",
            format!("there is no event type `{}` in the program", ev.ty.text),
            ev.ty.span,
            "unknown event type",
        );
        return Err(vec![help(
            d,
            &ev.ty.text,
            plan.events.iter().map(|e| e.name.as_str()),
        )]);
    };
    let schema = &plan.events[ty.index()];
    let input = &plan.input;
    let mut json = String::from("{");
    write_json_str(&mut json, &input.type_field);
    json.push_str(": ");
    write_json_str(&mut json, &schema.name);
    json.push_str(", ");
    write_json_str(&mut json, &input.time_field);
    json.push_str(": ");
    write_json_str(&mut json, &crate::time::format_rfc3339(ts));
    let mut source = DEFAULT_SOURCE.to_string();
    let mut errors = Vec::new();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for f in &ev.fields {
        let name = f.name.text.as_str();
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            errors.push(
                Diagnostic::error(
                    "S103",
                    format!("the field `{name}` is written twice in this line"),
                    f.name.span,
                    "written again",
                )
                .with_label(*first, "first written here"),
            );
            continue;
        }
        seen.push((name, f.name.span));
        if name == "source" {
            match &f.value.kind {
                ValueKind::Word(t) | ValueKind::Text(t) | ValueKind::Number(t) => {
                    source = t.clone();
                }
                _ => errors.push(
                    Diagnostic::error(
                        "S106",
                        "`source` names the input the event came from",
                        f.value.span,
                        "not a name",
                    )
                    .with_help("write a word, such as source=app or source=\"mail-clicks\""),
                ),
            }
            continue;
        }
        if name == input.type_field || name == input.time_field {
            let what = if name == input.type_field {
                "type comes from the word after the time"
            } else {
                "time comes from the start of the line"
            };
            errors.push(Diagnostic::error(
                "S103",
                format!("`{name}` cannot be written in a line: the event's {what}"),
                f.span,
                "remove this",
            ));
            continue;
        }
        let Some(field) = schema.fields.iter().find(|sf| sf.name == name) else {
            let d = Diagnostic::error(
                "S102",
                format!("the event type `{}` has no field `{name}`", schema.name),
                f.name.span,
                "unknown field",
            );
            let names = schema.fields.iter().map(|sf| sf.name.as_str());
            errors.push(help(d, name, names.chain(["source"])));
            continue;
        };
        json.push_str(", ");
        write_json_str(&mut json, name);
        json.push_str(": ");
        if let Err(d) = typed::field_json(&f.value, field.ty, &mut json) {
            errors.push(d);
        }
    }
    json.push('}');
    if errors.is_empty() {
        Ok((json, source))
    } else {
        Err(errors)
    }
}

/// Adds "did you mean" to a diagnostic about an unknown name, when a close one exists.
fn help<'a>(d: Diagnostic, name: &str, known: impl IntoIterator<Item = &'a str>) -> Diagnostic {
    match did_you_mean(name, known) {
        Some(h) => d.with_help(h),
        None => d,
    }
}
