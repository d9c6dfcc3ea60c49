//! The snapshot of a scenario: what came out, in a form a marketer can read and review.
//!
//! ```text
//! start 2026-11-27T10:00:00Z
//! +15m  cart_abandonment  key="u1"  user_id="u1" product_id="p00007" offer="COMEBACK10"
//! +20m  model_scoring into recommendations  key="u1"  ranked=["p00012", "p00031"]
//! model ranker called with {"user": "u1", "candidates": ["p00012", "p00031"]}
//! dead letter (late) from line 7: 09:59 PURCHASE user_id=u1 order_id=o1 total=19.99
//! ```
//!
//! The first line is the start. Then one line per record, in file order (§9.1): its time
//! after the start, the rule (and `into` output), the key, then the record's own fields
//! in the order the rule writes them, each `name=value` with the value as in the JSON
//! record (texts quoted, floats with a fraction). Then one line per model call, in call
//! order, with the argument the model was sent (the stand-in's reply is in the record;
//! calls of every rule are listed, `only` or not). Then one line per dead letter, in
//! arrival order: its reason and the scenario line it came from. `no records` stands for
//! none. Line per line, so a changed record is a changed line in a diff.

use super::{Outcome, Prepared};
use crate::time::format_rfc3339;
use std::fmt::Write as _;

/// The snapshot text of a run (ends with a newline).
pub fn snapshot(p: &Prepared, o: &Outcome) -> String {
    let mut out = format!("start {}\n", format_rfc3339(p.start));
    if o.records.is_empty() {
        out.push_str("no records\n");
    }
    for r in &o.records {
        record_line(&mut out, &r.json, r.into.as_deref(), r.ts - p.start);
    }
    for (model, arg) in &o.calls {
        let _ = writeln!(out, "model {model} called with {arg}");
    }
    for d in &o.dead {
        let from = usize::try_from(d.offset)
            .ok()
            .and_then(|i| p.arrivals.get(i));
        match from {
            Some(a) => {
                let _ = writeln!(
                    out,
                    "dead letter ({}) from line {}: {}",
                    d.reason, a.line, a.text
                );
            }
            None => {
                let _ = writeln!(out, "dead letter ({}): {}", d.reason, d.raw);
            }
        }
    }
    out
}

/// `+15m`, `+1h05m10s`, `+0s`, `-2m`, `+1s250ms`: a time after (or before) the start,
/// from the largest unit to the smallest that is not zero; units after the first have
/// two digits (three for ms).
///
/// ```
/// use nudge_runtime::scenario::relative;
/// assert_eq!(relative(900_000), "+15m");
/// assert_eq!(relative(3_910_000), "+1h05m10s");
/// assert_eq!(relative(0), "+0s");
/// assert_eq!(relative(-120_000), "-2m");
/// assert_eq!(relative(1_250), "+1s250ms");
/// assert_eq!(relative(86_400_000 + 300_000), "+1d00h05m");
/// ```
pub fn relative(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let mut rest = ms.unsigned_abs();
    if rest == 0 {
        return "+0s".into();
    }
    let units: [(&str, u64, usize); 5] = [
        ("d", 86_400_000, 2),
        ("h", 3_600_000, 2),
        ("m", 60_000, 2),
        ("s", 1_000, 2),
        ("ms", 1, 3),
    ];
    let mut parts: Vec<(u64, &str, usize)> = Vec::new();
    for (unit, size, width) in units {
        parts.push((rest / size, unit, width));
        rest %= size;
    }
    let first = parts.iter().position(|p| p.0 > 0).expect("not zero");
    let last = parts.iter().rposition(|p| p.0 > 0).expect("not zero");
    let mut out = String::from(sign);
    for (i, (n, unit, width)) in parts[first..=last].iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "{n}{unit}");
        } else {
            let _ = write!(out, "{n:0width$}{unit}");
        }
    }
    out
}

/// One record line: time, rule, `into`, key, then `name=value` per field.
fn record_line(out: &mut String, json: &str, into: Option<&str>, after_start: i64) {
    let fields = split_object(json);
    let raw = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    out.push_str(&relative(after_start));
    out.push_str("  ");
    out.push_str(&rule_of(json).unwrap_or_default());
    if let Some(into) = into {
        let _ = write!(out, " into {into}");
    }
    if let Some(key) = raw("key") {
        let _ = write!(out, "  key={key}");
    }
    out.push(' ');
    for (name, value) in &fields {
        if matches!(name.as_str(), "rule" | "key" | "ts") {
            continue;
        }
        out.push(' ');
        if is_ident(name) {
            out.push_str(name);
        } else {
            crate::value::write_json_str(out, name);
        }
        out.push('=');
        out.push_str(value);
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out.push('\n');
}

/// The `rule` of a record's JSON.
pub(super) fn rule_of(json: &str) -> Option<String> {
    split_object(json)
        .into_iter()
        .find(|(n, _)| n == "rule")
        .and_then(|(_, v)| serde_json::from_str::<String>(v).ok())
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The members of a JSON object as (name, value text as written), in order. The text is
/// the runtime's own output, so it is well-formed; anything else gives what it can.
fn split_object(json: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let Some(body) = json
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
    else {
        return out;
    };
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let key_len = scan_value(rest);
        let (key, after) = rest.split_at(key_len);
        let Ok(name) = serde_json::from_str::<String>(key) else {
            return out;
        };
        let Some(after) = after.trim_start().strip_prefix(':') else {
            return out;
        };
        let after = after.trim_start();
        let len = scan_value(after);
        out.push((name, after[..len].trim_end()));
        rest = after[len..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    out
}

/// The length of the JSON value (or key) at the start of `s`: up to a `,` or `:` outside
/// strings and brackets, or the end.
fn scan_value(s: &str) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    in_string = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' | ':' if depth == 0 => return i,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_records() {
        let json = r#"{"rule": "r", "key": "u,1", "ts": 5, "a b": [1, {"x": "]"}], "n": 49.0, "s": "q\"uote"}"#;
        let f = split_object(json);
        let names: Vec<_> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["rule", "key", "ts", "a b", "n", "s"]);
        assert_eq!(f[1].1, "\"u,1\"");
        assert_eq!(f[3].1, r#"[1, {"x": "]"}]"#);
        assert_eq!(f[4].1, "49.0");
        assert_eq!(f[5].1, r#""q\"uote""#);
        assert_eq!(rule_of(json).as_deref(), Some("r"));
    }

    #[test]
    fn record_lines() {
        let mut out = String::new();
        record_line(
            &mut out,
            r#"{"rule": "cart", "key": "u1", "ts": 900000, "user_id": "u1", "a b": 1}"#,
            None,
            900_000,
        );
        record_line(
            &mut out,
            r#"{"rule": "hot", "ts": 60000, "items": []}"#,
            Some("trending"),
            60_000,
        );
        assert_eq!(
            out,
            "+15m  cart  key=\"u1\"  user_id=\"u1\" \"a b\"=1\n+1m  hot into trending  items=[]\n"
        );
    }
}
