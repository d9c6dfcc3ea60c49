//! Every example code block of LANGUAGE.md parses, with the AST the text says.

mod common;

use common::sexp;
use nudge_grammar::ast::*;
use nudge_grammar::{parse_file, FileId};

fn parse(text: &str) -> File {
    match parse_file(FileId(0), text) {
        Ok(f) => f,
        Err(d) => panic!("did not parse:\n{}", common::render(text, &d)),
    }
}

fn pattern(text: &str) -> PatternDecl {
    let file = parse(text);
    match file.decls.into_iter().next() {
        Some(Decl::Pattern(p)) => p,
        other => panic!("not a pattern: {other:?}"),
    }
}

/// The types of a step as written (`A`, `(A or "b")`).
fn types(step: &Step) -> String {
    let names: Vec<String> = step
        .types
        .iter()
        .map(|n| {
            if n.quoted {
                format!("{:?}", n.text)
            } else {
                n.text.clone()
            }
        })
        .collect();
    names.join("|")
}

const SCHEMA: &str = r#"
# patterns/schema.nudge
input
  type field type          # which JSON field holds the event type
  time field ts            # epoch ms, RFC 3339, or "YYYY-MM-DD HH:MM:SS UTC"
  lateness 5s              # events may arrive up to 5 s out of order
  key user_id              # default partition key of patterns

event VIEW        { user_id: string, product_id: string, category: string, price: float }
event ADD_TO_CART { user_id: string, product_id: string, price: float, qty: int }
event PURCHASE    { user_id: string, order_id: string, total: float }

table products { product_id: string, name: string, price: float }
  from "data/products.csv"
  key product_id

# patterns/cart_abandonment.nudge
pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  cooldown 24h
  emit {
    user_id: cart.user_id,
    product_id: cart.product_id,
    name: products[cart.product_id].name,
    offer: "COMEBACK10",
  }
"#;

#[test]
fn section_1_schema_and_cart_abandonment() {
    let file = parse(SCHEMA);
    let kinds: Vec<&str> = file.decls.iter().map(|d| d.keyword()).collect();
    assert_eq!(
        kinds,
        ["input", "event", "event", "event", "table", "pattern"]
    );

    let Decl::Input(input) = &file.decls[0] else {
        unreachable!()
    };
    assert_eq!(input.type_field.as_ref().unwrap().text, "type");
    assert_eq!(input.time_field.as_ref().unwrap().name.text, "ts");
    assert!(input.time_field.as_ref().unwrap().seconds.is_none());
    assert_eq!(input.lateness.unwrap().ms, 5_000);
    assert!(input.idle.is_none());
    assert_eq!(input.key.as_ref().unwrap().text, "user_id");

    let Decl::Event(cart) = &file.decls[2] else {
        unreachable!()
    };
    assert_eq!(cart.name.text, "ADD_TO_CART");
    let fields: Vec<(&str, FieldType)> = cart
        .fields
        .iter()
        .map(|f| (f.name.text.as_str(), f.ty))
        .collect();
    assert_eq!(
        fields,
        [
            ("user_id", FieldType::String),
            ("product_id", FieldType::String),
            ("price", FieldType::Float),
            ("qty", FieldType::Int)
        ]
    );

    let Decl::Table(products) = &file.decls[4] else {
        unreachable!()
    };
    assert_eq!(products.name.text, "products");
    assert_eq!(products.fields.len(), 3);
    assert_eq!(products.from.value, "data/products.csv");
    assert_eq!(products.key.text, "product_id");

    let Decl::Pattern(p) = &file.decls[5] else {
        unreachable!()
    };
    assert_eq!(p.name.text, "cart_abandonment");
    assert_eq!(p.steps.len(), 2);
    assert_eq!(p.steps[0].link, Link::When);
    assert_eq!(p.steps[0].alias.as_ref().unwrap().text, "cart");
    assert!(p.steps[1].is_negation());
    assert_eq!(p.steps[1].link, Link::Then);
    assert_eq!(types(&p.steps[1]), "PURCHASE");
    assert_eq!(p.steps[1].within.unwrap().ms, 15 * 60_000);
    assert_eq!(p.cooldown.unwrap().ms, 24 * 3_600_000);
    assert!(p.window.is_none() && p.after_match.is_none() && p.emit.into.is_none());
    let emit: Vec<String> = p
        .emit
        .fields
        .iter()
        .map(|(n, e)| format!("{}={}", n.text, sexp(e)))
        .collect();
    assert_eq!(
        emit,
        [
            "user_id=(. cart user_id)",
            "product_id=(. cart product_id)",
            "name=(. ([] products (. cart product_id)) name)",
            "offer=\"COMEBACK10\""
        ]
    );

    // Spans point at the text.
    assert_eq!(
        &SCHEMA[p.steps[1].span.range()],
        "then not PURCHASE within 15m"
    );
    assert_eq!(&SCHEMA[p.steps[1].link_span.range()], "then");
    assert_eq!(&SCHEMA[p.steps[1].not.unwrap().range()], "not");
    assert!(SCHEMA[p.span.range()].starts_with("pattern cart_abandonment"));
    assert!(SCHEMA[p.span.range()].ends_with('}'));
}

#[test]
fn section_2_input_every_clause() {
    let file =
        parse("input type field kind time field at seconds lateness 1s idle 30s key shopper");
    let Decl::Input(i) = &file.decls[0] else {
        unreachable!()
    };
    assert_eq!(i.type_field.as_ref().unwrap().text, "kind");
    let time = i.time_field.as_ref().unwrap();
    assert_eq!(time.name.text, "at");
    assert!(time.seconds.is_some());
    assert_eq!(i.idle.unwrap().ms, 30_000);
    // An input with no clause takes the defaults.
    let file = parse("input event A {}");
    assert_eq!(file.decls.len(), 2);
}

#[test]
fn section_4_pattern_form_with_every_clause() {
    let p = pattern(
        r#"
        pattern every_clause
          per user_id
          when (VIEW or "add-to-cart") {2,5} as views where price > 10 and category != "x"
          then next ADD_TO_CART+ as carts within 10m
          then not PURCHASE where total > 0
          then PURCHASE? as p
          window 1h
          cooldown 24h
          after match keep all
          emit into "offers" { user: key, n: count(views), first: first(views).product_id, }
        "#,
    );
    assert_eq!(p.per.as_ref().unwrap().text, "user_id");
    assert_eq!(p.steps.len(), 4);
    let s = &p.steps;
    assert_eq!(types(&s[0]), "VIEW|\"add-to-cart\"");
    assert_eq!(s[0].quant.map(|q| (q.min, q.max)), Some((2, Some(5))));
    assert_eq!(
        sexp(s[0].where_.as_ref().unwrap()),
        "(and (> price 10) (!= category \"x\"))"
    );
    assert_eq!(s[1].link, Link::ThenNext);
    assert_eq!(s[1].quant.map(|q| (q.min, q.max)), Some((1, None)));
    assert_eq!(s[1].within.unwrap().ms, 600_000);
    assert!(s[2].is_negation() && s[2].where_.is_some());
    assert_eq!(s[3].quant.map(|q| (q.min, q.max)), Some((0, Some(1))));
    assert_eq!(p.window.unwrap().ms, 3_600_000);
    assert!(p.after_match.unwrap().keep_all);
    assert_eq!(p.emit.into.as_ref().unwrap().value, "offers");
    assert_eq!(p.emit.fields.len(), 3);
}

#[test]
fn section_4_quantifiers() {
    let q = |quant: &str| {
        let p = pattern(&format!("pattern q when A then B{quant} emit {{}}"));
        p.steps[1].quant.map(|q| (q.min, q.max))
    };
    assert_eq!(q(""), None);
    assert_eq!(q("{3}"), Some((3, Some(3))));
    assert_eq!(q("{ 2 , }"), Some((2, None)));
    assert_eq!(q("{2,4}"), Some((2, Some(4))));
    assert_eq!(q("+"), Some((1, None)));
    assert_eq!(q(" *"), Some((0, None)));
    assert_eq!(q("?"), Some((0, Some(1))));
    // Permissive: the checker reports these (E207).
    assert_eq!(q("{0}"), Some((0, Some(0))));
    assert_eq!(q("{3,1}"), Some((3, Some(1))));
}

#[test]
fn section_4_forms_the_checker_rejects_still_parse() {
    // E201, E204, E208, E210: `when not`, `as` on a negation, `within` on the first
    // step, `then next not`, a quantified negation.
    let p = pattern(
        "pattern odd when not A as a within 5m then next not B+ as b within 1m emit { x: 1 }",
    );
    assert!(p.steps[0].is_negation());
    assert_eq!(p.steps[0].alias.as_ref().unwrap().text, "a");
    assert!(p.steps[0].within.is_some());
    assert_eq!(p.steps[1].link, Link::ThenNext);
    assert!(p.steps[1].is_negation());
    assert!(p.steps[1].quant.is_some());
}

#[test]
fn section_4_fine_point_examples() {
    for text in [
        "pattern a2 when A then A within 1h emit {}",
        "pattern mid when A then not B then C within 1h emit {}",
        "pattern grow when A+ then next B window 1h emit {}",
        "pattern two when A{2} then not B then C window 1h emit {}",
        "pattern last when A then B{1,3} as bs window 1h emit { n: count(bs) }",
        "pattern skip when A then B after match skip emit {}",
    ] {
        parse(text);
    }
}

#[test]
fn section_6_enrichment() {
    let file = parse(
        r#"
table products { product_id: string, name: string, category: string, price: float }
  from "data/products.csv"        # CSV with a header, or JSON lines; path relative to this file
  key product_id
vectors item_vecs from "data/item_vectors.jsonl" key product_id   # {"product_id":..,"vector":[..]}
model ranker
  url "http://127.0.0.1:8080/rank"   # POST the argument as JSON, the JSON reply is the value
  timeout 200ms
  concurrency 64
  fallback []                        # value on timeout, error status or bad JSON (counted)
"#,
    );
    let Decl::Vectors(v) = &file.decls[1] else {
        unreachable!()
    };
    assert_eq!(v.name.text, "item_vecs");
    assert_eq!(v.from.value, "data/item_vectors.jsonl");
    assert_eq!(v.key.text, "product_id");
    let Decl::Model(m) = &file.decls[2] else {
        unreachable!()
    };
    assert_eq!(m.url.value, "http://127.0.0.1:8080/rank");
    assert_eq!(m.timeout.unwrap().ms, 200);
    assert_eq!(m.concurrency.unwrap().value, 64);
    assert_eq!(sexp(m.fallback.as_ref().unwrap()), "[]");
    let file = parse("model bare url \"http://x\" pattern p when A emit { r: bare(A) }");
    let Decl::Model(m) = &file.decls[0] else {
        unreachable!()
    };
    assert!(m.timeout.is_none() && m.concurrency.is_none() && m.fallback.is_none());
}

const SECTION_7: &str = r#"
session browsing
  per user_id
  of VIEW, ADD_TO_CART          # event types that belong to sessions (default: all)
  gap 30m                         # a session ends after 30 min without its events
  items product_id last 20        # remember the last 20 distinct values of this field
covisit also_viewed from browsing # item-item co-occurrence learned online from sessions
  refresh 1m                    # readers see the counts as of the last multiple of this
  keep 100 per item             # co-counts kept per item (lowest count, then highest id, go)
trending hot
  of VIEW, ADD_TO_CART weight 3, PURCHASE weight 5   # weight defaults to 1
  by product_id
  over 10m every 1m
  top 20
  emit into "NAME"            # also publish each window's list
"#;

#[test]
fn section_7_behaviour_operators() {
    let file = parse(SECTION_7);
    let Decl::Session(s) = &file.decls[0] else {
        unreachable!()
    };
    assert_eq!(s.per.as_ref().unwrap().text, "user_id");
    let of: Vec<&str> = s.of.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(of, ["VIEW", "ADD_TO_CART"]);
    assert_eq!(s.gap.ms, 1_800_000);
    assert_eq!(s.items.text, "product_id");
    assert_eq!(s.last.value, 20);
    let Decl::Covisit(c) = &file.decls[1] else {
        unreachable!()
    };
    assert_eq!(c.from.text, "browsing");
    assert_eq!(c.refresh.unwrap().ms, 60_000);
    assert_eq!(c.keep.unwrap().value, 100);
    let Decl::Trending(t) = &file.decls[2] else {
        unreachable!()
    };
    let of: Vec<(&str, Option<f64>)> =
        t.of.iter()
            .map(|w| (w.ty.text.as_str(), w.weight.map(|(x, _)| x)))
            .collect();
    assert_eq!(
        of,
        [
            ("VIEW", None),
            ("ADD_TO_CART", Some(3.0)),
            ("PURCHASE", Some(5.0))
        ]
    );
    assert_eq!(t.by.text, "product_id");
    assert_eq!((t.over.ms, t.every.ms, t.top.value), (600_000, 60_000, 20));
    assert_eq!(
        t.emit.as_ref().unwrap().into.as_ref().unwrap().value,
        "NAME"
    );
}

#[test]
fn section_7_without_optional_clauses() {
    let file = parse(
        "session browsing gap 30m items product_id last 20
         covisit also_viewed from browsing
         trending hot of VIEW weight 0.5 by product_id over 10m every 1m top 20 emit
         trending cold of VIEW by product_id over 10m every 1m top 20",
    );
    let Decl::Session(s) = &file.decls[0] else {
        unreachable!()
    };
    assert!(s.per.is_none() && s.of.is_empty());
    let Decl::Covisit(c) = &file.decls[1] else {
        unreachable!()
    };
    assert!(c.refresh.is_none() && c.keep.is_none());
    let Decl::Trending(t) = &file.decls[2] else {
        unreachable!()
    };
    assert_eq!(t.of[0].weight.map(|(x, _)| x), Some(0.5));
    assert!(t.emit.as_ref().unwrap().into.is_none());
    let Decl::Trending(t) = &file.decls[3] else {
        unreachable!()
    };
    assert!(t.emit.is_none());
}

#[test]
fn section_8_profile() {
    let file = parse(
        r#"
profile customer
  per user_id
  features {
    last_category: last(VIEW.category),
    views_1h:      count(VIEW) over 1h,
    spend_30d:     sum(PURCHASE.total) over 30d,
    channels_7d:   count_distinct(source) over 7d,
  }
  sink redis "customer:{key}"   # keep a Redis hash per key current
"#,
    );
    let Decl::Profile(p) = &file.decls[0] else {
        unreachable!()
    };
    assert_eq!(p.per.as_ref().unwrap().text, "user_id");
    assert_eq!(p.sink_redis.as_ref().unwrap().value, "customer:{key}");
    let features: Vec<String> = p
        .features
        .iter()
        .map(|f| {
            format!(
                "{}={}({}{}){}",
                f.name.text,
                f.agg.text,
                f.arg.text,
                f.arg_field
                    .as_ref()
                    .map_or(String::new(), |x| format!(".{}", x.text)),
                f.over
                    .map_or(String::new(), |d| format!(" over {}ms", d.ms))
            )
        })
        .collect();
    assert_eq!(
        features,
        [
            "last_category=last(VIEW.category)",
            "views_1h=count(VIEW) over 3600000ms",
            "spend_30d=sum(PURCHASE.total) over 2592000000ms",
            "channels_7d=count_distinct(source) over 604800000ms",
        ]
    );
    let file = parse("profile c features { n: count(\"not\".\"a-b\") }");
    let Decl::Profile(p) = &file.decls[0] else {
        unreachable!()
    };
    assert!(p.per.is_none() && p.sink_redis.is_none());
    assert!(p.features[0].arg.quoted);
    assert_eq!(p.features[0].arg_field.as_ref().unwrap().text, "a-b");
}

#[test]
fn quoted_names() {
    let p = pattern(
        r#"pattern q when "add-to-cart" as c then "then" where c."product-id" == "x\"y" emit { "out-field": c."product-id" }"#,
    );
    let first = &p.steps[0].types[0];
    assert_eq!((first.text.as_str(), first.quoted), ("add-to-cart", true));
    let second = &p.steps[1].types[0];
    assert_eq!((second.text.as_str(), second.quoted), ("then", true));
    assert_eq!(
        sexp(p.steps[1].where_.as_ref().unwrap()),
        "(== (. c \"product-id\") \"x\\\"y\")"
    );
    assert!(p.emit.fields[0].0.quoted);
    let file =
        parse(r#"event "add-to-cart" { "product-id": string } input type field "event-type""#);
    let Decl::Event(e) = &file.decls[0] else {
        unreachable!()
    };
    assert!(e.name.quoted && e.fields[0].name.quoted);
}

#[test]
fn keyword_boundaries() {
    // `notified`, `thenx`, `windowed` are names, not keywords.
    let p = pattern(
        "pattern notified_again when notified as n then nothing where notified > 0 then nextday \
         emit { whenever: n.within }",
    );
    assert_eq!(types(&p.steps[0]), "notified");
    assert!(!p.steps[1].is_negation());
    assert_eq!(types(&p.steps[1]), "nothing");
    assert_eq!(p.steps[2].link, Link::Then);
    assert_eq!(types(&p.steps[2]), "nextday");
    assert_eq!(sexp(&p.emit.fields[0].1), "(. n within)");
    // A field may be named like any keyword: `type field type`.
    parse("input type field type time field time key key");
    parse("event E { type: string, when: int, emit: float, and: bool, in: list }");
}

#[test]
fn where_ends_at_the_next_clause() {
    let p = pattern(
        "pattern w when A as a where a.x > 1 within 5m then B where x in [1, 2] then not C \
         where window == then window 1h emit { e: emit }",
    );
    assert_eq!(sexp(p.steps[0].where_.as_ref().unwrap()), "(> (. a x) 1)");
    assert!(p.steps[0].within.is_some());
    assert_eq!(sexp(p.steps[1].where_.as_ref().unwrap()), "(in x [1 2])");
    assert_eq!(
        sexp(p.steps[2].where_.as_ref().unwrap()),
        "(== window then)"
    );
    assert_eq!(p.window.unwrap().ms, 3_600_000);
    assert_eq!(sexp(&p.emit.fields[0].1), "emit");
}

#[test]
fn comments_and_empty_files() {
    assert!(parse("").decls.is_empty());
    assert!(parse("  # only a comment\n\n# another").decls.is_empty());
    parse("pattern p # trailing\n when A # x\n emit {} # end");
}

#[test]
fn spans_carry_the_file_id() {
    let f = parse_file(FileId(7), "event A { x: int }").unwrap();
    let Decl::Event(e) = &f.decls[0] else {
        unreachable!()
    };
    assert_eq!(e.span.file, FileId(7));
    assert_eq!(e.name.span.file, FileId(7));
    assert_eq!(e.fields[0].ty_span.range(), 13..16);
}

#[test]
fn spans_end_at_the_last_token() {
    // Absent optional clauses and comments after a declaration are not part of it.
    let text = "input lateness 5s   # late\n\npattern p\n  when A as a   # first\n  emit { }  \n";
    let file = parse(text);
    assert_eq!(&text[file.decls[0].span().range()], "input lateness 5s");
    let Decl::Pattern(p) = &file.decls[1] else {
        unreachable!()
    };
    assert_eq!(&text[p.steps[0].span.range()], "when A as a");
    assert_eq!(&text[p.emit.span.range()], "emit { }");
    assert!(text[p.span.range()].ends_with("emit { }"));
}

#[test]
fn byte_order_mark_is_skipped() {
    let text = "\u{FEFF}event A { x: int }";
    let file = parse(text);
    assert_eq!(&text[file.decls[0].span().range()], "event A { x: int }");
}
