//! Checking and decoding literals: string escapes, numbers and durations (E002).

use pest::iterators::Pair;

use super::{Ctx, Rule};
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// The text of a `string` or `quoted` pair, without quotes, escapes resolved.
pub(super) fn unescape(ctx: &Ctx<'_>, pair: &Pair<'_, Rule>) -> Result<String, Diagnostic> {
    let raw = pair.as_str();
    let start = pair.as_span().start();
    let body = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (j, e) = chars
            .next()
            .expect("the grammar allows no `\\` before the quote");
        match e {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            _ => {
                let at = start + 1 + i;
                let span = Span::new(ctx.file, at, start + 1 + j + e.len_utf8());
                return Err(Diagnostic::error(
                    "E002",
                    format!("unknown escape `\\{e}` in a string"),
                    span,
                    "not an escape nudge knows",
                )
                .with_help(
                    "the escapes are \\\" (quote), \\\\ (backslash), \\n (new line) and \\t (tab)",
                ));
            }
        }
    }
    Ok(out)
}

/// Milliseconds of a duration such as `1h30m`: units largest first, each at most once.
pub(super) fn duration_ms(text: &str, span: Span) -> Result<u64, Diagnostic> {
    const UNITS: [(&str, u64); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let too_long = || {
        Diagnostic::error("E002", "this duration is too long", span, "too long")
            .with_help("durations go up to about 213 million days")
    };
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (num, after) = rest.split_at(digits);
        let unit_len = if after.starts_with("ms") { 2 } else { 1 };
        let (unit, after) = after.split_at(unit_len);
        let rank = UNITS
            .iter()
            .position(|(u, _)| *u == unit)
            .expect("the grammar only lets known units through");
        if last_rank.is_some_and(|last| rank <= last) {
            return Err(Diagnostic::error(
                "E002",
                format!("the parts of the duration `{text}` are out of order"),
                span,
                "units must go from largest to smallest, each once",
            )
            .with_help(
                "write the largest unit first, each unit once: 1h30m, 1s500ms, or just 90s",
            ));
        }
        last_rank = Some(rank);
        let n: u64 = num.parse().map_err(|_| too_long())?;
        let part = n.checked_mul(UNITS[rank].1).ok_or_else(too_long)?;
        total = total.checked_add(part).ok_or_else(too_long)?;
        rest = after;
    }
    Ok(total)
}

/// A decimal integer that must fit in `max`.
pub(super) fn unsigned(text: &str, max: u64, span: Span) -> Result<u64, Diagnostic> {
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(too_large(span, max)),
    }
}

/// An integer literal of an expression (an `i64`).
pub(super) fn int(text: &str, span: Span) -> Result<i64, Diagnostic> {
    text.parse::<i64>()
        .map_err(|_| too_large(span, i64::MAX as u64))
}

/// A float literal; it must be finite.
pub(super) fn float(text: &str, span: Span) -> Result<f64, Diagnostic> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(
            Diagnostic::error("E002", "this number is too large", span, "too large")
                .with_help("a number must fit in a 64-bit float"),
        ),
    }
}

fn too_large(span: Span, max: u64) -> Diagnostic {
    Diagnostic::error(
        "E002",
        "this number is too large",
        span,
        format!("the largest allowed here is {max}"),
    )
}
