//! The forms of one scenario line: `only`, `start`, `until`, `model ... returns`, and
//! event lines (`TIME TYPE field=value ...`); blank and comment lines are nothing.

use nom::character::complete::char;

use super::lex::{at_end, blanks, blanks1, expect, keyword, name, time, Ctx, Fail, PResult};
use super::value::value;
use super::{EventLine, Field, Name, StandIn, Start, Time};
use crate::span::Span;

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Line {
    Only(Vec<Name>),
    Start(Start),
    Until(Time),
    Model(StandIn),
    Event(EventLine),
}

/// Parses one line (without its line end); `None` for a blank or comment line.
pub(super) fn line<'a>(cx: &Ctx<'a>, number: usize, i: &'a str) -> Result<Option<Line>, Fail<'a>> {
    let (body, _) = blanks(i).map_err(unwrap)?;
    if at_end(body) {
        return Ok(None);
    }
    let parsed = match body.chars().next() {
        Some('+' | '0'..='9') => event(cx, number, body).map(|(r, e)| (r, Line::Event(e))),
        _ => keyword_line(cx, body),
    };
    let (rest, line) = parsed.map_err(unwrap)?;
    end(rest)?;
    Ok(Some(line))
}

fn unwrap(e: nom::Err<Fail<'_>>) -> Fail<'_> {
    match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => f,
        nom::Err::Incomplete(_) => unreachable!("complete parsers only"),
    }
}

/// Nothing but blanks and a comment may follow.
fn end(rest: &str) -> Result<(), Fail<'_>> {
    if at_end(rest) {
        return Ok(());
    }
    let at = rest.trim_start_matches([' ', '\t']);
    Err(Fail::syntax(
        at,
        "unexpected text at the end of the line",
        "not expected here",
    )
    .with_help("a comment starts with `#`; text with spaces goes in quotes: \"running shoes\""))
}

fn keyword_line<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, Line> {
    if let Ok((rest, _)) = keyword("only")(i) {
        return only(cx, rest);
    }
    if let Ok((rest, _)) = keyword("start")(i) {
        return start(cx, rest);
    }
    if let Ok((rest, _)) = keyword("until")(i) {
        let (rest, _) = blanks(rest)?;
        let (rest, t) = expect(
            |s| time(cx, s),
            |at| {
                Fail::syntax(at, "expected a time after `until`", "expected +D or HH:MM")
                    .with_help("`until +1h` stops one hour after the start; `until 11:30` at 11:30 on the start's date")
            },
        )(rest)?;
        return Ok((rest, Line::Until(t)));
    }
    if let Ok((rest, _)) = keyword("model")(i) {
        return model(cx, i, rest);
    }
    Err(nom::Err::Failure(
        Fail::syntax(
            i,
            "a line starts with a time, or with `only`, `start`, `until` or `model`",
            "expected a time such as +5m or 14:30",
        )
        .with_help(
            "an event line starts with its time: `+5m VIEW user_id=u1` or `14:30 VIEW user_id=u1`",
        ),
    ))
}

/// `only NAME ...` (names separated by blanks or commas).
fn only<'a>(cx: &Ctx<'a>, mut rest: &'a str) -> PResult<'a, Line> {
    let mut names = Vec::new();
    loop {
        (rest, _) = blanks(rest)?;
        if !names.is_empty() {
            if let Some(after) = rest.strip_prefix(',') {
                (rest, _) = blanks(after)?;
            } else if at_end(rest) {
                return Ok((rest, Line::Only(names)));
            }
        }
        let (after, n) = expect(
            |s| name(cx, s),
            |at| {
                Fail::syntax(
                    at,
                    "expected the name of a rule after `only`",
                    "expected a rule name",
                )
                .with_help("`only cart_abandonment checkout_rescue` keeps those rules' records")
            },
        )(rest)?;
        names.push(n);
        rest = after;
    }
}

/// `start TIME`: the rest of the line (before a comment) is the time, read later.
fn start<'a>(cx: &Ctx<'a>, rest: &'a str) -> PResult<'a, Line> {
    let (rest, _) = blanks(rest)?;
    let text_len = rest.find('#').unwrap_or(rest.len());
    let text = rest[..text_len].trim_end();
    if text.is_empty() {
        return Err(nom::Err::Failure(
            Fail::syntax(
                rest,
                "expected a start time after `start`",
                "expected a time",
            )
            .with_help("for example `start 2026-11-27T10:00:00Z` or `start 2026-11-27`"),
        ));
    }
    let after = &rest[text.len()..];
    Ok((
        after,
        Line::Start(Start {
            text: text.to_string(),
            span: cx.span(rest, after),
        }),
    ))
}

/// `model NAME returns VALUE`.
fn model<'a>(cx: &Ctx<'a>, line: &'a str, rest: &'a str) -> PResult<'a, Line> {
    let help = "a stand-in is written `model ranker returns [\"p1\", \"p2\"]`";
    let (rest, _) = expect(blanks1, |at| {
        Fail::syntax(
            at,
            "expected the model's name after `model`",
            "expected a name",
        )
        .with_help(help)
    })(rest)?;
    let (rest, model) = expect(
        |s| name(cx, s),
        |at| {
            Fail::syntax(
                at,
                "expected the model's name after `model`",
                "expected a name",
            )
            .with_help(help)
        },
    )(rest)?;
    let (rest, _) = blanks(rest)?;
    let (rest, _) = expect(keyword("returns"), |at| {
        Fail::syntax(
            at,
            "expected `returns` after the model's name",
            "expected `returns`",
        )
        .with_help(help)
    })(rest)?;
    let (rest, _) = blanks(rest)?;
    let (rest, v) = expect(
        |s| value(cx, s, false),
        |at| {
            Fail::syntax(
                at,
                "expected the model's reply after `returns`",
                "expected a value",
            )
            .with_help(help)
        },
    )(rest)?;
    Ok((
        rest,
        Line::Model(StandIn {
            model,
            value: v,
            span: cx.span(line, rest),
        }),
    ))
}

/// `TIME TYPE field=value ...`.
fn event<'a>(cx: &Ctx<'a>, number: usize, i: &'a str) -> PResult<'a, EventLine> {
    let (rest, t) = expect(
        |s| time(cx, s),
        |at| {
            Fail::syntax(at, "expected a time such as +5m or 14:30", "not a time")
                .with_help("`+5m` is five minutes after the line before; `14:30` is the clock time on the start's date")
        },
    )(i)?;
    let (rest, _) = expect(blanks1, |at| {
        Fail::syntax(
            at,
            "expected an event type after the time",
            "expected a blank, then an event type",
        )
    })(rest)?;
    let (mut rest, ty) = expect(
        |s| name(cx, s),
        |at| {
            Fail::syntax(
                at,
                "expected an event type after the time",
                "expected an event type",
            )
            .with_help("for example `+5m VIEW user_id=u1 price=49`")
        },
    )(rest)?;
    let mut fields = Vec::new();
    loop {
        if at_end(rest) {
            break;
        }
        let (after, _) = expect(blanks1, |at| {
            Fail::syntax(
                at,
                "expected a blank before the next field",
                "expected a blank",
            )
        })(rest)?;
        if at_end(after) {
            rest = after;
            break;
        }
        let (after, f) = field(cx, after)?;
        fields.push(f);
        rest = after;
    }
    Ok((
        rest,
        EventLine {
            line: number,
            span: cx.span(i, rest.trim_end_matches([' ', '\t'])),
            time: t,
            ty,
            fields,
        },
    ))
}

/// `name=value`.
fn field<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, Field> {
    let help =
        "fields are written name=value, without blanks: user_id=u1 category=\"running shoes\"";
    let (rest, n) = expect(
        |s| name(cx, s),
        |at| {
            Fail::syntax(
                at,
                "expected a field such as user_id=u1",
                "expected a field name",
            )
            .with_help(help)
        },
    )(i)?;
    let (rest, _) = expect(char('='), |at| {
        Fail::syntax(
            at,
            format!("expected `=` and a value after `{}`", n.text),
            "expected `=`",
        )
        .with_help(help)
    })(rest)?;
    let (rest, v) = expect(
        |s| value(cx, s, false),
        |at| {
            Fail::syntax(
                at,
                format!("expected a value after `{}=`", n.text),
                "expected a value",
            )
            .with_help("write null for no value, and \"\" for an empty text")
        },
    )(rest)?;
    Ok((
        rest,
        Field {
            span: Span::to(n.span, v.span),
            name: n,
            value: v,
        },
    ))
}
