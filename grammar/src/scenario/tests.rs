//! Tests of the scenario parser: every line form, and the message of every kind of bad
//! line.

use super::*;
use crate::span::Sources;

fn parse(text: &str) -> Scenario {
    match parse_scenario(FileId(0), text) {
        Ok(s) => s,
        Err(e) => panic!("{text}\n{e:#?}"),
    }
}

/// The errors of a bad scenario, as `CODE line:col message`.
fn errors(text: &str) -> Vec<String> {
    let mut sources = Sources::new();
    let file = sources.add("t.scenario", text);
    let errs = parse_scenario(file, text).expect_err("should fail");
    errs.iter()
        .map(|d| {
            let (line, col) = sources.line_col(file, d.span().start);
            format!("{} {line}:{col} {}", d.code, d.message)
        })
        .collect()
}

fn one_error(text: &str) -> String {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs[0].clone()
}

fn kinds(ev: &EventLine) -> Vec<(String, ValueKind)> {
    ev.fields
        .iter()
        .map(|f| (f.name.text.clone(), f.value.kind.clone()))
        .collect()
}

fn word(s: &str) -> ValueKind {
    ValueKind::Word(s.into())
}

fn num(s: &str) -> ValueKind {
    ValueKind::Number(s.into())
}

#[test]
fn blank_and_comment_lines_are_nothing() {
    let s = parse("\n   \n# a comment\n  # indented\r\n\t\n");
    assert_eq!(s, Scenario::default());
}

#[test]
fn only_lines_collect_rule_names() {
    let s = parse("only cart_abandonment checkout_rescue\nonly high_intent, search_rescue # c\n");
    let names: Vec<_> = s.only.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        names,
        [
            "cart_abandonment",
            "checkout_rescue",
            "high_intent",
            "search_rescue"
        ]
    );
    assert_eq!(s.only[0].span.range(), 5..21);
}

#[test]
fn start_keeps_its_text() {
    let s = parse("start 2026-11-27T10:00:00Z   # Black Friday\n");
    let start = s.start.unwrap();
    assert_eq!(start.text, "2026-11-27T10:00:00Z");
    assert_eq!(start.span.range(), 6..26);
    let s = parse("start 2026-11-27 10:00:00 UTC\n");
    assert_eq!(s.start.unwrap().text, "2026-11-27 10:00:00 UTC");
}

#[test]
fn times_after_and_clock() {
    let s = parse("+0s A\n+15m A\n+1h30m A\n+1s250ms A\n+2d A\n10:05 A\n9:05:30 A\n");
    let times: Vec<_> = s.events.iter().map(|e| e.time.kind).collect();
    assert_eq!(
        times,
        [
            TimeKind::After(0),
            TimeKind::After(900_000),
            TimeKind::After(5_400_000),
            TimeKind::After(1_250),
            TimeKind::After(172_800_000),
            TimeKind::Clock(36_300_000),
            TimeKind::Clock(32_730_000),
        ]
    );
    assert_eq!(s.events[1].line, 2);
}

#[test]
fn until_takes_either_time() {
    assert_eq!(
        parse("until +1h\n").until.unwrap().kind,
        TimeKind::After(3_600_000)
    );
    assert_eq!(
        parse("until 11:30 # then stop\n").until.unwrap().kind,
        TimeKind::Clock(41_400_000)
    );
}

#[test]
fn event_lines_with_every_kind_of_value() {
    let s = parse(
        "+5m VIEW user_id=u1 price=49 total=-19.99 big=1e3 ok=true no=false gone=null \
         category=\"running shoes\" query=red,shoes tags=[a, \"b c\", 3, [x]] \
         rec={ score: 0.5, \"my-label\": vip, } \"product-id\"=p1 # comment\n",
    );
    let ev = &s.events[0];
    assert_eq!(ev.ty.text, "VIEW");
    assert_eq!(
        kinds(ev),
        [
            ("user_id".into(), word("u1")),
            ("price".into(), num("49")),
            ("total".into(), num("-19.99")),
            ("big".into(), num("1e3")),
            ("ok".into(), ValueKind::Bool(true)),
            ("no".into(), ValueKind::Bool(false)),
            ("gone".into(), ValueKind::Null),
            ("category".into(), ValueKind::Text("running shoes".into())),
            ("query".into(), word("red,shoes")),
            ("tags".into(), {
                let ValueKind::List(items) = &ev.fields[9].value.kind else {
                    panic!("a list")
                };
                let kinds: Vec<_> = items.iter().map(|v| v.kind.clone()).collect();
                assert_eq!(
                    kinds[..3],
                    [word("a"), ValueKind::Text("b c".into()), num("3")]
                );
                assert!(matches!(&kinds[3], ValueKind::List(inner) if inner.len() == 1));
                ev.fields[9].value.kind.clone()
            }),
            ("rec".into(), {
                let ValueKind::Record(fields) = &ev.fields[10].value.kind else {
                    panic!("a record")
                };
                assert_eq!(fields[0].0.text, "score");
                assert_eq!(fields[0].1.kind, num("0.5"));
                assert_eq!(fields[1].0.text, "my-label");
                assert_eq!(fields[1].1.kind, word("vip"));
                ev.fields[10].value.kind.clone()
            }),
            ("product-id".into(), word("p1")),
        ]
    );
    // The line's span ends at its last field, before the comment.
    let text = "+5m VIEW user_id=u1   # c\n";
    let s = parse(text);
    assert_eq!(&text[s.events[0].span.range()], "+5m VIEW user_id=u1");
}

#[test]
fn escapes_and_quoted_type_names() {
    let s = parse("+0s \"add-to-cart\" note=\"say \\\"hi\\\"\\n\\t\\\\\" q=\"# not a comment\"\n");
    let ev = &s.events[0];
    assert_eq!(ev.ty.text, "add-to-cart");
    assert!(ev.ty.quoted);
    assert_eq!(
        ev.fields[0].value.kind,
        ValueKind::Text("say \"hi\"\n\t\\".into())
    );
    assert_eq!(
        ev.fields[1].value.kind,
        ValueKind::Text("# not a comment".into())
    );
}

#[test]
fn an_event_with_no_fields_and_a_hash_after_a_word() {
    let s = parse("+1m PING\n+1m VIEW sku=A#1\n");
    assert!(s.events[0].fields.is_empty());
    // `#` outside quotes starts a comment, as in pattern files.
    assert_eq!(kinds(&s.events[1]), [("sku".into(), word("A"))]);
}

#[test]
fn model_stand_ins() {
    let s = parse("model ranker returns [\"p3\", \"p1\"]\nmodel scorer returns { score: 0.9 }\nmodel x returns null\n");
    assert_eq!(s.stand_ins.len(), 3);
    assert_eq!(s.stand_ins[0].model.text, "ranker");
    assert!(matches!(&s.stand_ins[0].value.kind, ValueKind::List(l) if l.len() == 2));
    assert!(matches!(&s.stand_ins[1].value.kind, ValueKind::Record(r) if r.len() == 1));
    assert_eq!(s.stand_ins[2].value.kind, ValueKind::Null);
}

#[test]
fn a_whole_scenario() {
    let s = parse(
        "# patterns/cart_abandonment.scenario\n\
         only cart_abandonment\n\
         start 2026-11-27T10:00:00Z\n\
         +0s   ADD_TO_CART user_id=u1 product_id=p1 price=19.99 qty=1\n\
         +5m   VIEW        user_id=u1 product_id=p2 category=\"running shoes\" price=49\n\
         +20m  PURCHASE    user_id=u2 order_id=o1 total=19.99\n\
         until +1h\n",
    );
    assert_eq!(s.only.len(), 1);
    assert!(s.start.is_some());
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.events[2].line, 6);
    assert_eq!(s.until.unwrap().kind, TimeKind::After(3_600_000));
}

#[test]
fn bad_line_starts() {
    assert_eq!(
        one_error("VIEW user_id=u1\n"),
        "S001 1:1 a line starts with a time, or with `only`, `start`, `until` or `model`"
    );
    assert_eq!(
        one_error("  unitl +1h\n"),
        "S001 1:3 a line starts with a time, or with `only`, `start`, `until` or `model`"
    );
    assert_eq!(
        one_error("5m VIEW\n"),
        "S001 1:1 expected a time such as +5m or 14:30"
    );
    assert_eq!(
        one_error("+5x VIEW\n"),
        "S001 1:2 expected a duration after `+`"
    );
    assert_eq!(
        one_error("+5mins VIEW\n"),
        "S001 1:2 expected a duration after `+`"
    );
}

#[test]
fn bad_times() {
    assert_eq!(
        one_error("+30m1h VIEW\n"),
        "S002 1:2 the parts of the duration `30m1h` are out of order"
    );
    assert_eq!(
        one_error("25:00 VIEW\n"),
        "S002 1:1 there is no time of day `25:00`"
    );
    assert_eq!(
        one_error("10:61:00 VIEW\n"),
        "S002 1:1 there is no time of day `10:61:00`"
    );
    assert_eq!(
        one_error("+99999999999999999999d VIEW\n"),
        "S002 1:2 the duration `99999999999999999999d` is too long"
    );
    assert_eq!(
        one_error("until\n"),
        "S001 1:6 expected a time after `until`"
    );
    assert_eq!(
        one_error("until tomorrow\n"),
        "S001 1:7 expected a time after `until`"
    );
    assert_eq!(
        one_error("start   # nothing\n"),
        "S001 1:9 expected a start time after `start`"
    );
}

#[test]
fn bad_event_lines() {
    assert_eq!(
        one_error("+5m\n"),
        "S001 1:4 expected an event type after the time"
    );
    assert_eq!(
        one_error("+5m =x\n"),
        "S001 1:5 expected an event type after the time"
    );
    assert_eq!(
        one_error("+5m VIEW user_id\n"),
        "S001 1:17 expected `=` and a value after `user_id`"
    );
    assert_eq!(
        one_error("+5m VIEW user_id = u1\n"),
        "S001 1:17 expected `=` and a value after `user_id`"
    );
    assert_eq!(
        one_error("+5m VIEW user_id=\n"),
        "S001 1:18 expected a value after `user_id=`"
    );
    assert_eq!(
        one_error("+5m VIEW =u1\n"),
        "S001 1:10 expected a field such as user_id=u1"
    );
    assert_eq!(
        one_error("+5m VIEW user_id=\"u1 price=4\n"),
        "S003 1:18 this text is not closed on its line"
    );
    assert_eq!(
        one_error("+5m VIEW note=\"a\\qb\"\n"),
        "S002 1:17 unknown escape `\\q` in a text"
    );
    assert_eq!(
        one_error("+5m VIEW a=\"x\"b\n"),
        "S001 1:15 expected a blank before the next field"
    );
}

#[test]
fn bad_lists_records_and_models() {
    assert_eq!(
        one_error("+5m VIEW tags=[a, b\n"),
        "S001 1:20 this list is not closed on its line"
    );
    assert_eq!(
        one_error("+5m VIEW tags=[a b]\n"),
        "S001 1:18 expected `,` or `]` in the list"
    );
    assert_eq!(
        one_error("+5m VIEW tags=[a, ,]\n"),
        "S001 1:19 expected a value or `]` in the list"
    );
    assert_eq!(
        one_error("model ranker returns { a 1 }\n"),
        "S001 1:26 expected `:` after the field name"
    );
    assert_eq!(
        one_error("model ranker [1]\n"),
        "S001 1:14 expected `returns` after the model's name"
    );
    assert_eq!(
        one_error("model ranker returns\n"),
        "S001 1:21 expected the model's reply after `returns`"
    );
    assert_eq!(
        one_error("model\n"),
        "S001 1:6 expected the model's name after `model`"
    );
    assert_eq!(
        one_error("only\n"),
        "S001 1:5 expected the name of a rule after `only`"
    );
    assert_eq!(
        one_error("until +1h later\n"),
        "S001 1:11 unexpected text at the end of the line"
    );
}

#[test]
fn lines_out_of_place() {
    assert_eq!(
        one_error("start 2026-11-27\nstart 2026-11-28\n"),
        "S004 2:7 a second `start` line"
    );
    assert_eq!(
        one_error("+0s VIEW\nstart 2026-11-27\n"),
        "S004 2:7 `start` comes after an event line"
    );
    assert_eq!(
        one_error("until +1h\nuntil +2h\n"),
        "S004 2:7 a second `until` line"
    );
    assert_eq!(
        one_error("until +1h\n+5m VIEW\n"),
        "S004 2:1 an event line after `until`"
    );
    assert_eq!(
        one_error("model m returns 1\nmodel m returns 2\n"),
        "S004 2:7 a second stand-in for the model `m`"
    );
}

#[test]
fn every_bad_line_is_reported() {
    let errs = errors("VIEW\n+0s VIEW ok=1\n+1x VIEW\nuntil\n");
    let codes: Vec<_> = errs.iter().map(|e| &e[..8]).collect();
    assert_eq!(codes, ["S001 1:1", "S001 3:2", "S001 4:6"]);
}
