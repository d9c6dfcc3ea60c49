//! Scenario files (`*.scenario`, LANGUAGE.md §12): snapshot tests a marketer writes.
//!
//! A scenario is a short timeline of events, one per line, with optional `only`,
//! `start`, `until` and `model NAME returns VALUE` lines and `#` comments:
//!
//! ```text
//! only cart_abandonment                 # keep only these rules' records
//! start 2026-11-27T10:00:00Z
//! +0s   ADD_TO_CART user_id=u1 product_id=p1 price=19.99 qty=1
//! 10:05 VIEW        user_id=u1 category="running shoes" price=49
//! until +1h
//! ```
//!
//! [`parse_scenario`] (written with nom, line by line) turns the text into a [`Scenario`]
//! with a [`Span`] on every part, or into a diagnostic for every bad line (codes `S001`
//! to `S004`, see `docs/diagnostics.md`). What the names and values mean (event types,
//! fields, rules, models) is checked against the compiled program by the runtime's
//! scenario runner.

mod lex;
mod line;
mod value;

#[cfg(test)]
mod tests;

pub use crate::ast::Name;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use line::Line;

/// A parsed scenario file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    /// `only` names, from every `only` line in order (empty: keep every record).
    pub only: Vec<Name>,
    /// `start`, if given.
    pub start: Option<Start>,
    /// The event lines in arrival order.
    pub events: Vec<EventLine>,
    /// `until`, if given.
    pub until: Option<Time>,
    /// `model NAME returns VALUE` lines.
    pub stand_ins: Vec<StandIn>,
}

/// `start TIME`: the time as written (read by the runner: any time form of §2, or a
/// date alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The time as written, trimmed.
    pub text: String,
    /// Where the time is written.
    pub span: Span,
}

/// A time of an event line or of `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    /// `+D` or a clock time.
    pub kind: TimeKind,
    /// Where the time is written.
    pub span: Span,
}

/// How a time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// `+D`: milliseconds after the line before (for `until`: after the start).
    After(u64),
    /// `HH:MM[:SS]`: milliseconds after midnight (UTC) of the start's date.
    Clock(u64),
}

/// `TIME TYPE field=value ...`: one event, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The line from its time to its last field (no comment).
    pub span: Span,
    /// When the event happened.
    pub time: Time,
    /// The event type.
    pub ty: Name,
    /// The fields as written, in order.
    pub fields: Vec<Field>,
}

/// `name=value` (`source=NAME` sets the pseudo-field `source`).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name (an identifier or a quoted name).
    pub name: Name,
    /// Its value as written.
    pub value: Value,
    /// From the name to the end of the value.
    pub span: Span,
}

/// `model NAME returns VALUE`: the model's reply to every call in this scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct StandIn {
    /// The model's name.
    pub model: Name,
    /// Its reply.
    pub value: Value,
    /// The whole line.
    pub span: Span,
}

/// A value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What was written.
    pub kind: ValueKind,
    /// Where.
    pub span: Span,
}

/// The kinds of values. Numbers and words keep their text: the event's schema decides
/// what they become (`session=0` is the text "0" where `session` is a string).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `19.99`, `-3`, `1e3`, as written.
    Number(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `"running shoes"` (escapes resolved).
    Text(String),
    /// A bare word such as `u1` or `red-shoes`.
    Word(String),
    /// `[a, b]`.
    List(Vec<Value>),
    /// `{ a: 1, b: x }`.
    Record(Vec<(Name, Value)>),
}

/// Parses a scenario file; on failure, one diagnostic per bad line (and per line out
/// of place), in file order.
///
/// ```
/// use nudge_grammar::{parse_scenario, FileId};
/// let s = parse_scenario(FileId(0), "+0s VIEW user_id=u1 price=49\nuntil +1h\n").unwrap();
/// assert_eq!(s.events.len(), 1);
/// assert!(s.until.is_some());
/// ```
pub fn parse_scenario(file: FileId, text: &str) -> Result<Scenario, Vec<Diagnostic>> {
    let cx = lex::Ctx { file, text };
    let mut scenario = Scenario::default();
    let mut errors = Vec::new();
    let mut first_event: Option<Span> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let parsed = match line::line(&cx, index + 1, raw) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(fail) => {
                errors.push(fail.into_diagnostic(file, text));
                continue;
            }
        };
        if let Err(d) = place(&mut scenario, parsed, &mut first_event) {
            errors.push(d);
        }
    }
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(errors)
    }
}

/// Adds a line to the scenario, checking where it stands (S004).
fn place(s: &mut Scenario, line: Line, first_event: &mut Option<Span>) -> Result<(), Diagnostic> {
    match line {
        Line::Only(mut names) => s.only.append(&mut names),
        Line::Start(start) => {
            if let Some(before) = &s.start {
                return Err(
                    out_of_place(start.span, "a second `start` line", "a second start")
                        .with_label(before.span, "the first `start` is here"),
                );
            }
            if let Some(ev) = first_event {
                return Err(out_of_place(
                    start.span,
                    "`start` comes after an event line",
                    "after the first event",
                )
                .with_label(*ev, "the first event is here")
                .with_help("put `start` above the first event line: the times count from it"));
            }
            s.start = Some(start);
        }
        Line::Until(t) => {
            if let Some(before) = &s.until {
                return Err(
                    out_of_place(t.span, "a second `until` line", "a second until")
                        .with_label(before.span, "the first `until` is here"),
                );
            }
            s.until = Some(t);
        }
        Line::Model(stand_in) => {
            if let Some(before) = s
                .stand_ins
                .iter()
                .find(|m| m.model.text == stand_in.model.text)
            {
                return Err(out_of_place(
                    stand_in.model.span,
                    format!("a second stand-in for the model `{}`", stand_in.model.text),
                    "a second stand-in",
                )
                .with_label(before.model.span, "the first one is here")
                .with_help("a model gives one reply per scenario: keep one line"));
            }
            s.stand_ins.push(stand_in);
        }
        Line::Event(ev) => {
            if let Some(until) = &s.until {
                return Err(
                    out_of_place(ev.span, "an event line after `until`", "after until")
                        .with_label(until.span, "`until` is here")
                        .with_help("`until` ends the timeline: move it below the last event"),
                );
            }
            first_event.get_or_insert(ev.span);
            s.events.push(ev);
        }
    }
    Ok(())
}

fn out_of_place(span: Span, message: impl Into<String>, label: &str) -> Diagnostic {
    Diagnostic::error("S004", message, span, label)
}
