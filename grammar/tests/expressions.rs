//! Expressions (LANGUAGE.md §5): precedence, postfix forms, literals, reserved words.

mod common;

use common::expr;
use nudge_grammar::ast::{ExprKind, Lit};
use nudge_grammar::{parse_expr, FileId};

#[test]
fn precedence_loosest_first() {
    assert_eq!(
        expr("a or b and not c == 1 + 2 * -3"),
        "(or a (and b (not (== c (+ 1 (* 2 (neg 3)))))))"
    );
    assert_eq!(expr("a and b or c"), "(or (and a b) c)");
    assert_eq!(expr("not a and b"), "(and (not a) b)");
    assert_eq!(expr("not not a"), "(not (not a))");
    assert_eq!(expr("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(expr("1 / 2 % 3 * 4"), "(* (% (/ 1 2) 3) 4)");
    assert_eq!(expr("-a.b"), "(neg (. a b))");
    assert_eq!(expr("- 2 * 3"), "(* (neg 2) 3)");
    assert_eq!(expr("a - -b"), "(- a (neg b))");
    assert_eq!(expr("(a or b) and c"), "(and (or a b) c)");
    assert_eq!(expr("a + b < c * d"), "(< (+ a b) (* c d))");
}

#[test]
fn comparisons_and_membership() {
    assert_eq!(expr("a == b"), "(== a b)");
    assert_eq!(expr("a != b"), "(!= a b)");
    assert_eq!(expr("a <= b"), "(<= a b)");
    assert_eq!(expr("a >= b"), "(>= a b)");
    assert_eq!(expr("a < b"), "(< a b)");
    assert_eq!(expr("a > b"), "(> a b)");
    assert_eq!(expr("x in hot.items"), "(in x (. hot items))");
    assert_eq!(expr("x not in l and y"), "(and (not in x l) y)");
    assert_eq!(expr("not x in l"), "(not (in x l))");
    assert_eq!(expr("x not   # comment\n in l"), "(not in x l)");
}

#[test]
fn postfix_forms() {
    assert_eq!(expr("hot.score(x)"), "(call (. hot score) x)");
    assert_eq!(expr("lower(x)"), "(call lower x)");
    assert_eq!(expr("f()"), "(call f)");
    assert_eq!(expr("f(a, b,)"), "(call f a b)");
    assert_eq!(
        expr("products[cart.product_id].name"),
        "(. ([] products (. cart product_id)) name)"
    );
    assert_eq!(expr("cart.\"product-id\""), "(. cart \"product-id\")");
    assert_eq!(expr("cart.type"), "(. cart type)");
    assert_eq!(expr("g.and"), "(. g and)");
    assert_eq!(
        expr("similar(item_vecs, cart.product_id, 5)[0]"),
        "([] (call similar item_vecs (. cart product_id) 5) 0)"
    );
    assert_eq!(
        expr("hour_of_day(ts, \"Europe/Berlin\")"),
        "(call hour_of_day ts \"Europe/Berlin\")"
    );
}

#[test]
fn literals() {
    assert_eq!(expr("\"a\\\"b\\\\c\\nd\\te\""), "\"a\\\"b\\\\c\\nd\\te\"");
    assert_eq!(expr("42"), "42");
    assert_eq!(expr("9223372036854775807"), "9223372036854775807");
    assert_eq!(expr("2.5"), "2.5");
    assert_eq!(expr("1e3"), "1000.0");
    assert_eq!(expr("1.5E-1"), "0.15");
    assert_eq!(expr("true"), "true");
    assert_eq!(expr("false"), "false");
    assert_eq!(expr("null"), "null");
    assert_eq!(expr("[1, \"x\", [],]"), "[1 \"x\" []]");
    assert_eq!(expr("{ a: 1, \"b-c\": \"x\", }"), "{a: 1, \"b-c\": \"x\"}");
    assert_eq!(expr("{}"), "{}");
}

#[test]
fn durations_are_milliseconds() {
    let ms = |text: &str| match parse_expr(FileId(0), text).unwrap().kind {
        ExprKind::Lit(Lit::Duration(ms)) => ms,
        other => panic!("{text}: not a duration: {other:?}"),
    };
    assert_eq!(ms("1h30m"), 5_400_000);
    assert_eq!(ms("1s500ms"), 1_500);
    assert_eq!(ms("90s"), 90_000);
    assert_eq!(ms("1m30s"), 90_000);
    assert_eq!(ms("250ms"), 250);
    assert_eq!(ms("15m"), 900_000);
    assert_eq!(ms("2h"), 7_200_000);
    assert_eq!(ms("7d"), 604_800_000);
    assert_eq!(ms("0s"), 0);
    assert_eq!(ms("1d2h3m4s5ms"), 93_784_005);
    assert_eq!(
        expr("ts - cart.ts > 10m"),
        "(> (- ts (. cart ts)) 600000ms)"
    );
}

#[test]
fn keywords_are_whole_words() {
    assert_eq!(expr("notified"), "notified");
    assert_eq!(expr("not notified"), "(not notified)");
    assert_eq!(expr("order or orders"), "(or order orders)");
    assert_eq!(expr("android and index"), "(and android index)");
    assert_eq!(expr("nullable == truely"), "(== nullable truely)");
    assert_eq!(expr("inventory in input"), "(in inventory input)");
}

#[test]
fn clause_words_are_names_in_expressions() {
    // Only `and or not in true false null` are reserved in expressions (LANGUAGE.md §5).
    assert_eq!(expr("window > 2"), "(> window 2)");
    assert_eq!(
        expr("type == \"VIEW\" and key != source"),
        "(and (== type \"VIEW\") (!= key source))"
    );
    assert_eq!(expr("then + within"), "(+ then within)");
}

#[test]
fn reserved_words_are_not_names() {
    for text in [
        "and",
        "or",
        "in",
        "true + 1 == false.x or",
        "x == not",
        "null.in",
    ] {
        let result = parse_expr(FileId(0), text);
        // Either an error, or the word was read as what it is (a literal / operator).
        if let Ok(e) = result {
            assert!(
                !matches!(e.kind, ExprKind::Name(_)),
                "{text} read as a name"
            );
        }
    }
    assert!(parse_expr(FileId(0), "and").is_err());
    assert!(parse_expr(FileId(0), "x in").is_err());
}

#[test]
fn spans_cover_the_expression() {
    let text = "  a + b.c  ";
    let e = parse_expr(FileId(3), text).unwrap();
    assert_eq!(&text[e.span.range()], "a + b.c");
    assert_eq!(e.span.file, FileId(3));
    let text = "(1 + 2) * f(x)";
    let e = parse_expr(FileId(0), text).unwrap();
    assert_eq!(&text[e.span.range()], text);
    let ExprKind::Binary(_, lhs, rhs) = &e.kind else {
        panic!("not binary")
    };
    assert_eq!(&text[lhs.span.range()], "(1 + 2)");
    assert_eq!(&text[rhs.span.range()], "f(x)");
}
