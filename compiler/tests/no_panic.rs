//! The checker and the NFA lowering never panic: the seed programs of `patterns/`,
//! mutated at random (tokens dropped, duplicated, swapped, replaced by other tokens of
//! the language), always compile to a plan or to diagnostics whose spans lie inside the
//! text.

use nudge_compiler::{compile, Sources};
use proptest::prelude::*;
use std::path::Path;

/// Every file of `patterns/` (the schema first), as (path, text).
fn seeds() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../patterns");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nudge"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect()
}

/// Tokens that make mutations likely to reach the checker rather than the parser.
const TOKENS: &[&str] = &[
    "VIEW",
    "PURCHASE",
    "ADD_TO_CART",
    "SEARCH",
    "user_id",
    "product_id",
    "category",
    "price",
    "total",
    "cart",
    "views",
    "browsing",
    "hot",
    "customer",
    "products",
    "key",
    "ts",
    "type",
    "source",
    "count(",
    "sum(",
    "len(",
    "similar(",
    "recommend(",
    "ranker(",
    "not",
    "and",
    "or",
    "in",
    "==",
    "<",
    "+",
    "*",
    "/",
    "%",
    "-",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "+",
    "?",
    "*",
    "{2,}",
    "{0}",
    "{3,1}",
    "as",
    "where",
    "within",
    "then",
    "next",
    "when",
    "window",
    "cooldown",
    "emit",
    "into",
    "\"x\"",
    "1",
    "0s",
    "15m",
    "1.5",
    "null",
    "true",
];

#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Replace(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
    ]
}

/// Applies mutations to the whitespace-separated words of `text`.
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    for m in mutations {
        let n = words.len().max(1);
        match *m {
            Mutation::Drop(i) if !words.is_empty() => {
                words.remove(i % n);
            }
            Mutation::Duplicate(i) if !words.is_empty() => {
                let w = words[i % n].clone();
                words.insert(i % n, w);
            }
            Mutation::Swap(a, b) if !words.is_empty() => words.swap(a % n, b % n),
            Mutation::Replace(a, t) if !words.is_empty() => {
                words[a % n] = TOKENS[t % TOKENS.len()].to_string();
            }
            _ => {}
        }
    }
    words.join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn mutated_programs_never_panic(
        which in 1usize..64,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        let (schema_path, schema) = &seeds[seeds.iter().position(|(p, _)| p.ends_with("schema.nudge")).unwrap()];
        let (path, text) = &seeds[which % seeds.len()];
        let mut sources = Sources::new();
        sources.add(schema_path.clone(), schema.clone());
        let mutated = mutate(text, &mutations);
        let id = sources.add(path.clone(), mutated.clone());
        let compiled = compile(&sources);
        for d in &compiled.diagnostics {
            for label in &d.labels {
                let len = sources.get(label.span.file).text.len() as u32;
                prop_assert!(label.span.start <= label.span.end && label.span.end <= len, "{d:?}");
            }
        }
        if compiled.diagnostics.iter().all(|d| !d.is_error()) {
            prop_assert!(compiled.plan.is_some());
        }
        let _ = id;
    }
}
