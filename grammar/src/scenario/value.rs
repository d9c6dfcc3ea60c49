//! Values in scenario lines: numbers, `true`, `false`, `null`, quoted texts, bare words,
//! lists `[a, b]` and records `{ a: 1 }`.

use nom::character::complete::char;

use super::lex::{blanks, expect, name, string, Ctx, Fail, PResult};
use super::{Value, ValueKind};

/// Characters that end a bare word inside a list or a record.
const INNER_STOPS: &[char] = &[',', ']', '}'];

/// A value. `inner` is set inside lists and records, where `,`, `]` and `}` end a bare
/// word; outside, only a blank, `#` or `"` does (`query=shoes,red` is one word).
pub(super) fn value<'a>(cx: &Ctx<'a>, i: &'a str, inner: bool) -> PResult<'a, Value> {
    let (rest, kind) = match i.chars().next() {
        Some('"') => {
            let (rest, s) = string(i)?;
            (rest, ValueKind::Text(s))
        }
        Some('[') => list(cx, i)?,
        Some('{') => record(cx, i)?,
        _ => {
            let stops = |c: char| {
                c.is_whitespace() || c == '#' || c == '"' || (inner && INNER_STOPS.contains(&c))
            };
            let len = i.find(stops).unwrap_or(i.len());
            if len == 0 {
                return Err(nom::Err::Error(Fail::syntax(
                    i,
                    "expected a value",
                    "a value goes here",
                )));
            }
            let (word, rest) = i.split_at(len);
            (rest, classify(word))
        }
    };
    Ok((
        rest,
        Value {
            kind,
            span: cx.span(i, rest),
        },
    ))
}

/// A bare token: a literal word, a number, or a word (a string).
fn classify(word: &str) -> ValueKind {
    match word {
        "true" => ValueKind::Bool(true),
        "false" => ValueKind::Bool(false),
        "null" => ValueKind::Null,
        _ if is_number(word) => ValueKind::Number(word.to_string()),
        _ => ValueKind::Word(word.to_string()),
    }
}

/// `-?digits(.digits)?([eE][+-]?digits)?`
fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// `[` values separated by `,` (a trailing comma is allowed) `]`.
fn list<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, ValueKind> {
    let (mut rest, _) = char('[')(i)?;
    let mut items = Vec::new();
    loop {
        (rest, _) = blanks(rest)?;
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((after, ValueKind::List(items)));
        }
        let (after, item) = expect(
            |s| value(cx, s, true),
            |at| {
                Fail::syntax(
                    at,
                    "expected a value or `]` in the list",
                    "expected a value",
                )
                .with_help("a list is written [1, 2, \"three\"] on one line")
            },
        )(rest)?;
        items.push(item);
        (rest, _) = blanks(after)?;
        rest = separator(rest, ']', "list")?;
    }
}

/// `{` `name: value` pairs separated by `,` (a trailing comma is allowed) `}`.
fn record<'a>(cx: &Ctx<'a>, i: &'a str) -> PResult<'a, ValueKind> {
    let (mut rest, _) = char('{')(i)?;
    let mut fields = Vec::new();
    loop {
        (rest, _) = blanks(rest)?;
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((after, ValueKind::Record(fields)));
        }
        let (after, key) = expect(
            |s| name(cx, s),
            |at| {
                Fail::syntax(
                    at,
                    "expected a field name or `}` in the record",
                    "expected a name",
                )
                .with_help("a record is written { score: 0.9, label: \"vip\" } on one line")
            },
        )(rest)?;
        let (after, _) = blanks(after)?;
        let (after, _) = expect(char(':'), |at| {
            Fail::syntax(at, "expected `:` after the field name", "expected `:`")
                .with_help("a record is written { score: 0.9, label: \"vip\" } on one line")
        })(after)?;
        let (after, _) = blanks(after)?;
        let (after, v) = expect(
            |s| value(cx, s, true),
            |at| Fail::syntax(at, "expected a value after `:`", "expected a value"),
        )(after)?;
        fields.push((key, v));
        (rest, _) = blanks(after)?;
        rest = separator(rest, '}', "record")?;
    }
}

/// After an item: `,` (then more, or the closer), or the closer itself (left in place).
fn separator<'a>(rest: &'a str, close: char, what: &str) -> Result<&'a str, nom::Err<Fail<'a>>> {
    if let Some(after) = rest.strip_prefix(',') {
        return Ok(after);
    }
    if rest.starts_with(close) {
        return Ok(rest);
    }
    let fail = if rest.is_empty() || rest.starts_with('#') {
        Fail::syntax(
            rest,
            format!("this {what} is not closed on its line"),
            format!("expected `,` or `{close}`"),
        )
        .with_help(format!("end the {what} with `{close}` on the same line"))
    } else {
        Fail::syntax(
            rest,
            format!("expected `,` or `{close}` in the {what}"),
            format!("expected `,` or `{close}`"),
        )
    };
    Err(nom::Err::Failure(fail))
}

#[cfg(test)]
mod tests {
    use super::is_number;

    #[test]
    fn numbers() {
        for n in ["0", "-1", "19.99", "1e3", "2.5E-2", "007"] {
            assert!(is_number(n), "{n}");
        }
        for w in ["", "-", "1.", ".5", "1e", "u1", "1x", "+1", "1.2.3"] {
            assert!(!is_number(w), "{w}");
        }
    }
}
