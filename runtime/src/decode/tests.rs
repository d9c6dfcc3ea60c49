//! Decoder tests: every dead-letter reason, every time form, conversions, CSV quoting.

use super::*;
use crate::value::Value;
use nudge_compiler::plan::Plan;

const SCHEMA: &str = r#"
input
  type field type
  time field ts
  key user_id
event VIEW { user_id: string, product_id: string, price: float, qty: int, flag: bool, tags: list }
event "add-to-cart" { user_id: string, "product-id": string, qty: int }
"#;

fn plan_of(text: &str) -> Arc<Plan> {
    let compiled = nudge_compiler::compile_str("test.nudge", text);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Arc::new(compiled.plan.expect("a plan"))
}

fn plan() -> Arc<Plan> {
    plan_of(SCHEMA)
}

fn src() -> Arc<str> {
    Arc::from("events")
}

fn decode_with(plan: &Arc<Plan>, line: &str) -> Decoded {
    Decoder::new(plan.clone()).decode_json_line(line.as_bytes(), &src(), 2, 7)
}

fn decode(line: &str) -> Decoded {
    decode_with(&plan(), line)
}

fn event(line: &str) -> Event {
    match decode(line) {
        Decoded::Event(e) => e,
        other => panic!("{line}: {other:?}"),
    }
}

fn reason(line: &str) -> DeadReason {
    match decode(line) {
        Decoded::Dead(d) => {
            assert_eq!(d.raw, line.trim_end_matches(['\n', '\r']));
            assert_eq!(d.offset, 7);
            d.reason
        }
        other => panic!("{line}: {other:?}"),
    }
}

fn s(x: &str) -> Value {
    Value::str(x)
}

#[test]
fn decodes_fields_into_slots() {
    let e = event(
        r#"{"qty": 2, "price": 19.99, "extra": {"a": [1, 2]}, "user_id": "u1", "ts": 1000, "type": "VIEW", "product_id": "p1", "flag": true, "tags": ["a", 1, 2.5, null, {"k": "v"}]}"#,
    );
    assert_eq!(e.ty, plan().type_id("VIEW").unwrap());
    assert_eq!(e.ts, 1000);
    assert_eq!(&*e.source, "events");
    assert_eq!((e.input, e.offset), (2, 7));
    let rec = Value::Record(Arc::new(vec![(Arc::from("k"), s("v"))]));
    let tags = Value::list(vec![
        s("a"),
        Value::Int(1),
        Value::Float(2.5),
        Value::Null,
        rec,
    ]);
    assert_eq!(
        &*e.values,
        &[
            s("u1"),
            s("p1"),
            Value::Float(19.99),
            Value::Int(2),
            Value::Bool(true),
            tags
        ]
    );
}

#[test]
fn lists_match_value_from_json() {
    let json =
        r#"[1, -2, 18446744073709551615, 1.5, "x\n", [true, null], {"b": 1, "a": 2, "b": 3}]"#;
    let e = event(&format!(r#"{{"type": "VIEW", "ts": 0, "tags": {json}}}"#));
    let expected = Value::from_json(&serde_json::from_str(json).unwrap());
    assert_eq!(e.values[5], expected);
    match &e.values[5] {
        Value::List(items) => assert!(matches!(items[2], Value::Float(_))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_and_null_fields_are_null() {
    let e = event(r#"{"type": "VIEW", "ts": 5, "user_id": null, "price": null}"#);
    assert!(e.values.iter().all(Value::is_null), "{:?}", e.values);
}

#[test]
fn numbers_widen_and_narrow() {
    let e = event(r#"{"type": "VIEW", "ts": 5, "price": 20, "qty": 3.0}"#);
    assert_eq!(e.values[2], Value::Float(20.0));
    assert!(matches!(e.values[2], Value::Float(_)));
    assert!(matches!(e.values[3], Value::Int(3)));
    let e = event(r#"{"type": "VIEW", "ts": 5, "qty": 1e3, "price": 18446744073709551615}"#);
    assert!(matches!(e.values[3], Value::Int(1000)));
    assert_eq!(e.values[2], Value::Float(18446744073709551615.0));
    let e = event(r#"{"type": "VIEW", "ts": 5, "qty": -4}"#);
    assert!(matches!(e.values[3], Value::Int(-4)));
}

#[test]
fn wrong_types() {
    for line in [
        r#"{"type": "VIEW", "ts": 5, "price": "19.99"}"#,
        r#"{"type": "VIEW", "ts": 5, "qty": 1.5}"#,
        r#"{"type": "VIEW", "ts": 5, "qty": 18446744073709551615}"#,
        r#"{"type": "VIEW", "ts": 5, "qty": "2"}"#,
        r#"{"type": "VIEW", "ts": 5, "user_id": 12}"#,
        r#"{"type": "VIEW", "ts": 5, "user_id": ["u1"]}"#,
        r#"{"type": "VIEW", "ts": 5, "user_id": {"id": "u1"}}"#,
        r#"{"type": "VIEW", "ts": 5, "flag": 1}"#,
        r#"{"type": "VIEW", "ts": 5, "flag": "true"}"#,
        r#"{"type": "VIEW", "ts": 5, "tags": "a,b"}"#,
        r#"{"type": "VIEW", "ts": 5, "tags": {"a": 1}}"#,
        r#"{"type": "VIEW", "ts": 5, "price": true}"#,
    ] {
        assert_eq!(reason(line), DeadReason::WrongType, "{line}");
    }
}

#[test]
fn invalid_json() {
    for line in [
        "not json",
        r#"{"type": "VIEW", "ts": 5"#,
        r#"{"type": "VIEW", "ts": 5} trailing"#,
        r#"{"type": "VIEW", "ts": 5}{}"#,
        r#"["VIEW", 5]"#,
        r#""VIEW""#,
        "42",
        "null",
        r#"{"type": "VIEW", "ts": 05}"#,
        r#"{"type": "VIEW", "ts": 5,}"#,
        r#"{'type': 'VIEW'}"#,
        r#"{"type": "VIEW", "ts": NaN}"#,
        r#"{"type": "VIEW", "ts": 5, "user_id": "\x"}"#,
    ] {
        assert_eq!(reason(line), DeadReason::InvalidJson, "{line}");
    }
    // Invalid UTF-8 inside a string.
    let mut line = br#"{"type": "VIEW", "ts": 5, "user_id": "u"#.to_vec();
    line.extend_from_slice(&[0xff, b'"', b'}']);
    match Decoder::new(plan()).decode_json_line(&line, &src(), 0, 0) {
        Decoded::Dead(d) => {
            assert_eq!(d.reason, DeadReason::InvalidJson);
            assert!(d.raw.contains('\u{fffd}'));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_type() {
    for line in [
        r#"{"ts": 5, "user_id": "u1"}"#,
        r#"{"type": null, "ts": 5}"#,
        r#"{"type": 3, "ts": 5}"#,
        r#"{"type": ["VIEW"], "ts": 5}"#,
        r#"{"type": {"name": "VIEW"}}"#,
        r#"{}"#,
    ] {
        assert_eq!(reason(line), DeadReason::MissingType, "{line}");
    }
}

#[test]
fn undeclared_types_are_ignored_before_other_checks() {
    for line in [
        r#"{"type": "PAGE_PING", "ts": 5}"#,
        r#"{"type": "PAGE_PING"}"#,
        r#"{"type": "PAGE_PING", "ts": "yesterday", "qty": "x"}"#,
        r#"{"type": "view", "ts": 5}"#,
        r#"{"type": "", "ts": 5}"#,
    ] {
        assert_eq!(decode(line), Decoded::Ignored, "{line}");
    }
}

#[test]
fn missing_and_invalid_time() {
    assert_eq!(reason(r#"{"type": "VIEW"}"#), DeadReason::MissingTime);
    assert_eq!(
        reason(r#"{"type": "VIEW", "ts": null}"#),
        DeadReason::MissingTime
    );
    for line in [
        r#"{"type": "VIEW", "ts": 1.5}"#,
        r#"{"type": "VIEW", "ts": 1795773600000.0}"#,
        r#"{"type": "VIEW", "ts": 1.7e12}"#,
        r#"{"type": "VIEW", "ts": 18446744073709551615}"#,
        r#"{"type": "VIEW", "ts": "yesterday"}"#,
        r#"{"type": "VIEW", "ts": "1795773600000"}"#,
        r#"{"type": "VIEW", "ts": true}"#,
        r#"{"type": "VIEW", "ts": [1]}"#,
        r#"{"type": "VIEW", "ts": {}}"#,
    ] {
        assert_eq!(reason(line), DeadReason::InvalidTime, "{line}");
    }
    // The time is checked before the fields.
    assert_eq!(
        reason(r#"{"type": "VIEW", "qty": "x", "ts": "x"}"#),
        DeadReason::InvalidTime
    );
}

#[test]
fn every_time_form() {
    const T: i64 = 1_795_773_600_000;
    for (ts, want) in [
        ("1795773600000", T),
        ("-1", -1),
        (r#""2026-11-27T10:00:00Z""#, T),
        (r#""2026-11-27T10:00:00.250Z""#, T + 250),
        (r#""2026-11-27T11:00:00+01:00""#, T),
        (r#""2026-11-27 10:00:00""#, T),
        (r#""2026-11-27 10:00:00.5 UTC""#, T + 500),
        (r#""2026-11-27T10:00:00\u005a""#, T),
    ] {
        let e = event(&format!(r#"{{"type": "VIEW", "ts": {ts}}}"#));
        assert_eq!(e.ts, want, "{ts}");
    }
}

#[test]
fn epoch_seconds() {
    let plan = plan_of(&SCHEMA.replace("time field ts", "time field ts seconds"));
    let get = |line: &str| decode_with(&plan, line);
    match get(r#"{"type": "VIEW", "ts": 1795773600}"#) {
        Decoded::Event(e) => assert_eq!(e.ts, 1_795_773_600_000),
        other => panic!("{other:?}"),
    }
    match get(r#"{"type": "VIEW", "ts": "2026-11-27T10:00:00Z"}"#) {
        Decoded::Event(e) => assert_eq!(e.ts, 1_795_773_600_000),
        other => panic!("{other:?}"),
    }
    match get(r#"{"type": "VIEW", "ts": 9223372036854775807}"#) {
        Decoded::Dead(d) => assert_eq!(d.reason, DeadReason::InvalidTime),
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_type_and_time_fields() {
    let text = SCHEMA
        .replace("type field type", "type field \"event-name\"")
        .replace("time field ts", "time field qty");
    let plan = plan_of(&text);
    // `qty` is both the time field and a declared field.
    match decode_with(&plan, r#"{"event-name": "VIEW", "qty": 42, "type": "x"}"#) {
        Decoded::Event(e) => {
            assert_eq!(e.ts, 42);
            assert_eq!(e.values[3], Value::Int(42));
        }
        other => panic!("{other:?}"),
    }
    match decode_with(&plan, r#"{"type": "VIEW", "qty": 42}"#) {
        Decoded::Dead(d) => assert_eq!(d.reason, DeadReason::MissingType),
        other => panic!("{other:?}"),
    }
}

#[test]
fn quoted_names_and_escapes() {
    let e = event(
        r#"{"type": "add-to-cart", "ts": 1, "product-id": "p\"1\"", "user_id": "\u00fc\n\ud83d\ude00"}"#,
    );
    assert_eq!(e.ty, plan().type_id("add-to-cart").unwrap());
    assert_eq!(&*e.values, &[s("ü\n😀"), s("p\"1\""), Value::Null]);
    // An escaped key still matches.
    let e = event(r#"{"\u0074ype": "VIEW", "t\u0073": 3, "user\u005fid": "\u0075\u0031"}"#);
    assert_eq!((e.ts, &e.values[0]), (3, &s("u1")));
    // Escaped type names.
    let e = event(r#"{"type": "add\u002dto-cart", "ts": 1}"#);
    assert_eq!(e.ty, plan().type_id("add-to-cart").unwrap());
}

#[test]
fn unicode_passes_through() {
    let e = event(r#"{"type": "VIEW", "ts": 1, "user_id": "Zoë 🛒 東京", "product_id": "ß"}"#);
    assert_eq!(&e.values[..2], &[s("Zoë 🛒 東京"), s("ß")]);
}

#[test]
fn duplicate_keys_last_wins() {
    let e = event(r#"{"type": "VIEW", "ts": 1, "qty": 1, "qty": 2, "ts": 9}"#);
    assert_eq!((e.ts, &e.values[3]), (9, &Value::Int(2)));
}

#[test]
fn blank_lines_and_line_ends() {
    let plan = plan();
    let mut d = Decoder::new(plan);
    for line in ["", " ", "\t \r\n", "\n"] {
        assert_eq!(
            d.decode_json_line(line.as_bytes(), &src(), 0, 0),
            Decoded::Blank
        );
    }
    match d.decode_json_line(b"{\"type\": \"VIEW\", \"ts\": 1}\r\n", &src(), 0, 0) {
        Decoded::Event(e) => assert_eq!(e.ts, 1),
        other => panic!("{other:?}"),
    }
    match d.decode_json_line(b"{\"type\": \"VIEW\"}\r\n", &src(), 0, 0) {
        Decoded::Dead(dl) => assert_eq!(dl.raw, r#"{"type": "VIEW"}"#),
        other => panic!("{other:?}"),
    }
}

#[test]
fn decoder_reuse_does_not_leak_values() {
    let mut d = Decoder::new(plan());
    let first = d.decode_json_line(
        br#"{"type": "VIEW", "ts": 1, "user_id": "u1", "tags": [1], "qty": 2}"#,
        &src(),
        0,
        0,
    );
    assert!(matches!(first, Decoded::Event(_)));
    // A failed parse in the middle leaves scratch values behind; they must not leak.
    let bad = d.decode_json_line(br#"{"type": "VIEW", "ts": 1, "qty": 3, "#, &src(), 0, 1);
    assert!(matches!(bad, Decoded::Dead(_)));
    match d.decode_json_line(br#"{"type": "VIEW", "ts": 2}"#, &src(), 0, 2) {
        Decoded::Event(e) => assert!(e.values.iter().all(Value::is_null), "{:?}", e.values),
        other => panic!("{other:?}"),
    }
}

#[test]
fn dead_letter_json() {
    let d = DeadLetter::new(
        DeadReason::WrongType,
        &Arc::from("shop \"eu\""),
        12,
        b"{\"qty\": \"x\"}\t\n",
    );
    assert_eq!(
        d.to_json(),
        r#"{"reason": "wrong_type", "source": "shop \"eu\"", "offset": 12, "raw": "{\"qty\": \"x\"}\t"}"#
    );
    let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(v["raw"], "{\"qty\": \"x\"}\t");
    let names: Vec<_> = DeadReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        names,
        [
            "invalid_json",
            "missing_type",
            "missing_time",
            "invalid_time",
            "wrong_type",
            "late"
        ]
    );
}

// ---- CSV ----

fn csv_lines(plan: &Arc<Plan>, text: &str) -> Vec<Decoded> {
    let mut lines = text.split_inclusive('\n');
    let mut d = CsvDecoder::new(plan.clone(), lines.next().unwrap().as_bytes());
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if let Some(r) = d.decode_csv_line(line.as_bytes(), &src(), 1, i as u64 + 1) {
            out.push(r);
        }
    }
    out.extend(d.finish(&src(), 1));
    out
}

fn csv_event(r: &Decoded) -> &Event {
    match r {
        Decoded::Event(e) => e,
        other => panic!("{other:?}"),
    }
}

fn csv_reason(r: &Decoded) -> DeadReason {
    match r {
        Decoded::Dead(d) => d.reason,
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_cells_typed_by_schema() {
    let text = "\u{feff}ts,type,user_id,price,qty,flag,tags,product_id,other\n\
        1000,VIEW,u1,19.99,3,true,\"[1, \"\"a\"\"]\",p1,zzz\n\
        2026-11-27T10:00:00Z,VIEW,u2,20,3.0,false,[],,\n\
        1000,VIEW,,,,,,,\n\
        1000,VIEW,u3\n";
    let out = csv_lines(&plan(), text);
    assert_eq!(out.len(), 4);
    let e = csv_event(&out[0]);
    assert_eq!((e.ts, e.offset, e.input), (1000, 1, 1));
    assert_eq!(
        &*e.values,
        &[
            s("u1"),
            s("p1"),
            Value::Float(19.99),
            Value::Int(3),
            Value::Bool(true),
            Value::list(vec![Value::Int(1), s("a")]),
        ]
    );
    let e = csv_event(&out[1]);
    assert_eq!(e.ts, 1_795_773_600_000);
    assert!(matches!(e.values[2], Value::Float(f) if f == 20.0));
    assert!(matches!(e.values[3], Value::Int(3)));
    assert_eq!(e.values[4], Value::Bool(false));
    assert_eq!(e.values[5], Value::list(vec![]));
    assert!(e.values[1].is_null());
    assert!(csv_event(&out[2]).values.iter().all(Value::is_null));
    let e = csv_event(&out[3]);
    assert_eq!(e.values[0], s("u3"));
    assert!(e.values[1..].iter().all(Value::is_null));
}

#[test]
fn csv_quoting_commas_quotes_and_newlines() {
    let text = "type,ts,user_id,product_id\n\
        VIEW,1,\"Doe, Jane\",\"5\"\" screen\"\n\
        \n\
        VIEW,2,\"two\n\
        lines, \"\"quoted\"\"\",p2\n\
        VIEW,3,\"ü\",p3\r\n\
        VIEW,4,\"never closed,p4\n";
    let out = csv_lines(&plan(), text);
    assert_eq!(out.len(), 5, "{out:?}");
    let e = csv_event(&out[0]);
    assert_eq!(
        (e.offset, &e.values[0], &e.values[1]),
        (1, &s("Doe, Jane"), &s("5\" screen"))
    );
    assert_eq!(out[1], Decoded::Blank);
    let e = csv_event(&out[2]);
    assert_eq!(e.offset, 3);
    assert_eq!(e.values[0], s("two\nlines, \"quoted\""));
    assert_eq!(e.values[1], s("p2"));
    let e = csv_event(&out[3]);
    assert_eq!((e.offset, e.ts, &e.values[0]), (5, 3, &s("ü")));
    // An unclosed quote runs to the end of the input.
    let e = csv_event(&out[4]);
    assert_eq!((e.offset, &e.values[0]), (6, &s("never closed,p4\n")));
}

#[test]
fn csv_dead_letters() {
    let text = "type,ts,qty,flag,tags,price\n\
        VIEW,1,x,,,\n\
        VIEW,1,1.5,,,\n\
        VIEW,1,,yes,,\n\
        VIEW,1,,,{},\n\
        VIEW,1,,,[1,,\n\
        VIEW,1,,,,inf\n\
        VIEW,1,,,,NaN\n\
        VIEW,,,,,\n\
        VIEW,yesterday,,,,\n\
        VIEW,1e3,,,,\n\
        ,1,,,,\n\
        PAGE_PING,x,x,x,x,x\n\
        \"add-to-cart\",5,7,,,\n";
    let out = csv_lines(&plan(), text);
    let reasons: Vec<_> = out[..11].iter().map(csv_reason).collect();
    use DeadReason::*;
    assert_eq!(
        reasons,
        [
            WrongType,
            WrongType,
            WrongType,
            WrongType,
            WrongType,
            WrongType,
            WrongType,
            MissingTime,
            InvalidTime,
            InvalidTime,
            MissingType
        ]
    );
    match &out[0] {
        Decoded::Dead(d) => {
            assert_eq!((d.offset, d.raw.as_str()), (1, "VIEW,1,x,,,"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out[11], Decoded::Ignored);
    let e = csv_event(&out[12]);
    assert_eq!(&*e.values, &[Value::Null, Value::Null, Value::Int(7)]);
}

#[test]
fn csv_seconds_and_fractions() {
    let plan = plan_of(&SCHEMA.replace("time field ts", "time field ts seconds"));
    let out = csv_lines(&plan, "type,ts\nVIEW,1795773600.25\nVIEW,1795773600\n");
    assert_eq!(csv_event(&out[0]).ts, 1_795_773_600_250);
    assert_eq!(csv_event(&out[1]).ts, 1_795_773_600_000);
}

#[test]
fn csv_not_utf8_and_whole_records() {
    let plan = plan();
    let mut d = CsvDecoder::new(plan, b"type,ts,user_id\r\n");
    assert_eq!(d.columns(), ["type", "ts", "user_id"]);
    match d.decode_csv_record(b"VIEW,1,\xff\r\n", &src(), 0, 4) {
        Decoded::Dead(dl) => assert_eq!((dl.reason, dl.offset), (DeadReason::InvalidJson, 4)),
        other => panic!("{other:?}"),
    }
    match d.decode_csv_record(b"VIEW,1,\"a\nb\"", &src(), 0, 5) {
        Decoded::Event(e) => assert_eq!(e.values[0], s("a\nb")),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.decode_csv_record(b"  \r\n", &src(), 0, 6), Decoded::Blank);
    // A header without the type column: every record lacks a type.
    let mut d = CsvDecoder::new(plan_of(SCHEMA), b"ts,user_id");
    match d.decode_csv_record(b"1,u1", &src(), 0, 1) {
        Decoded::Dead(dl) => assert_eq!(dl.reason, DeadReason::MissingType),
        other => panic!("{other:?}"),
    }
}
