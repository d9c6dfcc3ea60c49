//! The decoder against an oracle built on `serde_json::Value` and the rules of §3 and §10,
//! on random and randomly damaged lines.

use super::*;
use crate::time::parse_time_json;
use crate::value::Value;
use nudge_compiler::plan::Plan;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value as Json;

const SCHEMA: &str = r#"
input
  type field type
  time field ts
event VIEW { user_id: string, price: float, qty: int, flag: bool, tags: list }
event "add-to-cart" { user_id: string, "ty\"pe": string, qty: int }
"#;

fn plan() -> Arc<Plan> {
    let compiled = nudge_compiler::compile_str("diff.nudge", SCHEMA);
    Arc::new(compiled.plan.expect("a plan"))
}

/// What the decoder should answer, the slow and obvious way.
fn oracle(plan: &Plan, line: &str) -> Decoded {
    let src: Arc<str> = Arc::from("s");
    let dead = |reason| Decoded::Dead(DeadLetter::new(reason, &src, 0, line.as_bytes()));
    if line.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return Decoded::Blank;
    }
    let Ok(Json::Object(obj)) = serde_json::from_str::<Json>(line) else {
        return dead(DeadReason::InvalidJson);
    };
    let Some(Json::String(name)) = obj.get(&plan.input.type_field) else {
        return dead(DeadReason::MissingType);
    };
    let Some(ty) = plan.type_id(name) else {
        return Decoded::Ignored;
    };
    let ts = match obj.get(&plan.input.time_field) {
        None | Some(Json::Null) => return dead(DeadReason::MissingTime),
        Some(t) => match parse_time_json(t, plan.input.time_seconds) {
            Some(ts) => ts,
            None => return dead(DeadReason::InvalidTime),
        },
    };
    let mut values = Vec::new();
    for f in &plan.events[ty.index()].fields {
        let v = match (f.ty.as_str(), obj.get(&f.name)) {
            (_, None | Some(Json::Null)) => Some(Value::Null),
            ("string", Some(Json::String(s))) => Some(Value::str(s)),
            ("int", Some(Json::Number(n))) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Some(Value::Int(i)),
                (None, Some(f)) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.2e18 => {
                    Some(Value::Int(f as i64))
                }
                _ => None,
            },
            ("float", Some(Json::Number(n))) => n.as_f64().map(Value::Float),
            ("bool", Some(Json::Bool(b))) => Some(Value::Bool(*b)),
            ("list", Some(v @ Json::Array(_))) => Some(Value::from_json(v)),
            _ => None,
        };
        match v {
            Some(v) => values.push(v),
            None => return dead(DeadReason::WrongType),
        }
    }
    Decoded::Event(Event {
        ty,
        ts,
        source: src.clone(),
        offset: 0,
        input: 0,
        values: values.into_boxed_slice(),
    })
}

/// Equal, except that floats may differ in their last bits (serde_json's default float
/// parser is not always correctly rounded; the decoder's is).
fn same(a: &Decoded, b: &Decoded) -> bool {
    fn value(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
            }
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| value(a, b))
            }
            (Value::Record(x), Value::Record(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(a, b)| a.0 == b.0 && value(&a.1, &b.1))
            }
            _ => a == b && std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
    match (a, b) {
        (Decoded::Event(x), Decoded::Event(y)) => {
            (x.ty, x.ts) == (y.ty, y.ts)
                && x.values.len() == y.values.len()
                && x.values
                    .iter()
                    .zip(y.values.iter())
                    .all(|(a, b)| value(a, b))
        }
        _ => a == b,
    }
}

fn check(plan: &Arc<Plan>, decoder: &mut Decoder, line: &str) -> Result<(), TestCaseError> {
    // serde_json::Value rejects lone surrogate escapes even where the decoder skips them.
    if line.to_ascii_lowercase().contains("\\ud") {
        return Ok(());
    }
    let got = decoder.decode_json_line(line.as_bytes(), &Arc::from("s"), 0, 0);
    let want = oracle(plan, line);
    prop_assert!(
        same(&got, &want),
        "line {line:?}\n got  {got:?}\n want {want:?}"
    );
    Ok(())
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        (-1e6f64..1e6).prop_map(Json::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Json::from),
        Just(Json::from(3.0)),
        "[a-z0-9 \"\\\\/\u{0}-\u{1f}é€😀]{0,8}".prop_map(Json::String),
        prop_oneof![
            Just("VIEW"),
            Just("add-to-cart"),
            Just("PAGE"),
            Just("2026-11-27T10:00:00Z"),
            Just("2026-11-27 10:00:00.5 UTC"),
        ]
        .prop_map(Json::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type"),
        Just("ts"),
        Just("user_id"),
        Just("price"),
        Just("qty"),
        Just("flag"),
        Just("tags"),
        Just("ty\"pe"),
        Just("other"),
    ]
    .prop_map(String::from)
}

/// A record: type and time most of the time, then a few members, written out with
/// random spacing, sometimes with a key written twice.
fn record() -> BoxedStrategy<String> {
    let ty = prop_oneof![
        4 => prop_oneof![Just("VIEW"), Just("add-to-cart")].prop_map(Json::from),
        1 => json_value(),
    ];
    let ts = prop_oneof![
        3 => (0i64..2_000_000_000_000).prop_map(Json::from),
        1 => json_value(),
    ];
    (
        prop::option::weighted(0.9, ty),
        prop::option::weighted(0.9, ts),
        prop::collection::vec((key(), json_value()), 0..6),
        any::<bool>(),
    )
        .prop_map(|(ty, ts, members, spaced)| {
            let mut parts = Vec::new();
            if let Some(ty) = ty {
                parts.push(("type".to_string(), ty));
            }
            parts.extend(members);
            if let Some(ts) = ts {
                parts.push(("ts".to_string(), ts));
            }
            let (sep, colon) = if spaced { (", ", ": ") } else { (",", ":") };
            let body: Vec<String> = parts
                .iter()
                .map(|(k, v)| format!("{}{colon}{}", Json::from(k.as_str()), v))
                .collect();
            format!("{{{}}}", body.join(sep))
        })
        .boxed()
}

/// Damage: delete, insert or replace a few characters.
fn damaged() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '0', '-', '.', 'e', 'n', 't', 'u', 'x',
            '\u{1}', 'é',
        ]),
    );
    (record(), prop::collection::vec(edit, 1..4)).prop_map(|(line, edits)| {
        let mut chars: Vec<char> = line.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 if i < chars.len() => {
                    chars.remove(i);
                }
                1 if i < chars.len() => chars[i] = c,
                _ => chars.insert(i, c),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn decoder_agrees_with_the_oracle(line in record()) {
        let plan = plan();
        check(&plan, &mut Decoder::new(plan.clone()), &line)?;
    }

    #[test]
    fn decoder_agrees_on_damaged_lines(line in damaged()) {
        let plan = plan();
        check(&plan, &mut Decoder::new(plan.clone()), &line)?;
    }

    #[test]
    fn any_json_value_in_a_list_field(v in json_value()) {
        let plan = plan();
        let line = format!(r#"{{"type": "VIEW", "ts": 1, "tags": [{v}], "other": {v}}}"#);
        check(&plan, &mut Decoder::new(plan.clone()), &line)?;
    }
}

#[test]
fn one_decoder_for_many_lines() {
    // Reuse of the scratch state across lines: same answers as fresh decoders.
    let plan = plan();
    let mut decoder = Decoder::new(plan.clone());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..4000 {
        let line = if i % 2 == 0 {
            record()
        } else {
            damaged().boxed()
        };
        let line = line.new_tree(&mut runner).unwrap().current();
        check(&plan, &mut decoder, &line).unwrap();
        seen.insert(match oracle(&plan, &line) {
            Decoded::Event(_) => "event",
            Decoded::Blank => "blank",
            Decoded::Ignored => "ignored",
            Decoded::Dead(d) => d.reason.as_str(),
        });
    }
    // The random lines reach every outcome.
    let all = [
        "event",
        "ignored",
        "invalid_json",
        "invalid_time",
        "missing_time",
    ];
    let all = all.into_iter().chain(["missing_type", "wrong_type"]);
    assert!(all.into_iter().all(|o| seen.contains(o)), "{seen:?}");
}

#[test]
fn numbers_and_nesting_edges() {
    let plan = plan();
    let mut decoder = Decoder::new(plan.clone());
    for n in [
        "0",
        "-0",
        "1",
        "-1",
        "0.0",
        "-0.0",
        "1e2",
        "1E+2",
        "1e-2",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "-123456789012345678901",
        "1e308",
        "1e309",
        "-1e309",
        "1e-400",
        "01",
        "1.",
        ".1",
        "1e",
        "+1",
        "--1",
        "1.5e3",
        "4.9e-324",
        "0.1e1",
        "1_0",
        "0x10",
        "Infinity",
        "NaN",
    ] {
        for field in ["qty", "price", "ts", "other"] {
            let line = format!(r#"{{"type": "VIEW", "ts": 1, "{field}": {n}}}"#);
            check(&plan, &mut decoder, &line).unwrap();
        }
    }
    for depth in [1, 2, 120, 125, 126, 127, 128, 129, 200] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for field in ["tags", "other"] {
            let line = format!(r#"{{"type": "VIEW", "ts": 1, "{field}": {nested}}}"#);
            check(&plan, &mut decoder, &line).unwrap();
        }
        let nested = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let line = format!(r#"{{"type": "VIEW", "ts": 1, "other": {nested}}}"#);
        check(&plan, &mut decoder, &line).unwrap();
    }
}
