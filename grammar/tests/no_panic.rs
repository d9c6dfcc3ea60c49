//! `parse_file` never panics, and its errors are well formed: spans inside the text on
//! character boundaries, plain words (no grammar rule names) in the message.

use nudge_grammar::{parse_expr, parse_file, Diagnostic, FileId};
use proptest::prelude::*;

const VOCABULARY: &[&str] = &[
    "input",
    "event",
    "table",
    "vectors",
    "model",
    "session",
    "covisit",
    "trending",
    "profile",
    "pattern",
    "type",
    "field",
    "time",
    "seconds",
    "lateness",
    "idle",
    "key",
    "from",
    "url",
    "timeout",
    "concurrency",
    "fallback",
    "per",
    "of",
    "gap",
    "items",
    "last",
    "refresh",
    "keep",
    "item",
    "weight",
    "by",
    "over",
    "every",
    "top",
    "emit",
    "into",
    "features",
    "sink",
    "redis",
    "when",
    "then",
    "next",
    "not",
    "or",
    "and",
    "in",
    "as",
    "where",
    "within",
    "window",
    "cooldown",
    "after",
    "match",
    "skip",
    "all",
    "true",
    "false",
    "null",
    "string",
    "int",
    "float",
    "bool",
    "list",
    "A",
    "B",
    "VIEW",
    "x",
    "cart",
    "notified",
    "count",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ".",
    "+",
    "-",
    "*",
    "/",
    "%",
    "?",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "15m",
    "1h30m",
    "30m1h",
    "0s",
    "250ms",
    "7d",
    "15",
    "2.5",
    "1e999",
    "99999999999999999999",
    "\"x\"",
    "\"add-to-cart\"",
    "\"a\\q\"",
    "\"open",
    "\"\"",
    "# comment\n",
    "\n",
    "{2}",
    "{1,3}",
    "{2,}",
    "é",
    "\t",
];

fn soup() -> impl Strategy<Value = String> {
    let token = proptest::sample::select(VOCABULARY);
    let sep = proptest::sample::select(&[" ", " ", "\n", ""][..]);
    proptest::collection::vec((token, sep), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
}

const VALID: &[&str] = &[
    r#"input type field type time field ts seconds lateness 5s idle 30s key user_id
event VIEW { user_id: string, product_id: string, price: float }
table products { product_id: string, name: string } from "data/p.csv" key product_id
vectors item_vecs from "v.jsonl" key product_id
model ranker url "http://x" timeout 200ms concurrency 64 fallback []"#,
    r#"pattern cart_abandonment
  per user_id
  when ADD_TO_CART as cart where cart.price > 10 and not (cart.qty in [1, 2])
  then next VIEW{1,3} as views within 10m
  then not PURCHASE where total >= cart.price
  then ("add-to-cart" or VIEW)+ as more
  window 1h cooldown 24h after match keep all
  emit into "out" {
    user_id: cart.user_id, n: count(views), name: products[cart.product_id].name,
    score: hot.score(cart.product_id) * -2 + 1.5 % 3, rec: { a: [1, "x"], },
  }"#,
    r#"session browsing per user_id of VIEW, ADD_TO_CART gap 30m items product_id last 20
covisit also_viewed from browsing refresh 1m keep 100 per item
trending hot of VIEW, ADD_TO_CART weight 3, PURCHASE weight 0.5 by product_id
  over 10m every 1m top 20 emit into "hot"
profile customer per user_id features {
  last_category: last(VIEW.category), views_1h: count(VIEW) over 1h,
} sink redis "customer:{key}""#,
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..12usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), proptest::sample::select(VOCABULARY))
            .prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<usize>(), 1..30usize).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

/// The nearest character boundary at or before `i` (mod the length).
fn boundary(text: &str, i: usize) -> usize {
    let mut i = i % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut s = text.to_string();
    match *m {
        Mutation::Delete(a, n) => {
            let a = boundary(&s, a);
            let b = boundary(&s, (a + n).min(s.len()));
            s.replace_range(a..b.max(a), "");
        }
        Mutation::Insert(a, t) => {
            let a = boundary(&s, a);
            s.insert_str(a, &format!(" {t} "));
        }
        Mutation::Duplicate(a, n) => {
            let a = boundary(&s, a);
            let b = boundary(&s, (a + n).min(s.len())).max(a);
            let piece = s[a..b].to_string();
            s.insert_str(b, &piece);
        }
        Mutation::Swap(a, b) => {
            // Swap two words.
            let words: Vec<&str> = s.split(' ').collect();
            if words.len() > 1 {
                let (i, j) = (a % words.len(), b % words.len());
                let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                words.swap(i, j);
                s = words.join(" ");
            }
        }
    }
    s
}

fn check(text: &str, result: Result<(), Diagnostic>) -> Result<(), TestCaseError> {
    let Err(d) = result else { return Ok(()) };
    prop_assert!(
        matches!(d.code, "E001" | "E002" | "E003" | "E004"),
        "code {}",
        d.code
    );
    prop_assert!(!d.labels.is_empty());
    for l in &d.labels {
        let r = l.span.range();
        prop_assert!(
            r.start <= r.end && r.end <= text.len(),
            "span {r:?} outside the text"
        );
        prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
    }
    let m = &d.message;
    prop_assert!(
        m.starts_with(|c: char| c.is_ascii_lowercase() || c == '`'),
        "message {m}"
    );
    for bad in [
        "kw_",
        "_clause",
        "_decl",
        "Rule",
        "EOI",
        "op_",
        "something else",
    ] {
        prop_assert!(!m.contains(bad), "message {m:?} for {text:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in soup()) {
        check(&text, parse_file(FileId(0), &text).map(drop))?;
        check(&text, parse_expr(FileId(0), &text).map(drop))?;
    }

    #[test]
    fn mutated_programs_never_panic(
        base in proptest::sample::select(VALID),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let text = mutations.iter().fold(base.to_string(), |t, m| apply(&t, m));
        check(&text, parse_file(FileId(0), &text).map(drop))?;
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,60}") {
        check(&text, parse_file(FileId(0), &text).map(drop))?;
    }
}

#[test]
fn valid_bases_parse() {
    for text in VALID {
        if let Err(d) = parse_file(FileId(0), text) {
            panic!("{}: {:?}", d.message, &text[d.span().range()]);
        }
    }
}
