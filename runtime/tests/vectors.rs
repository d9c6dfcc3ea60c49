//! `vectors` and `similar(vectors, x, k)` (LANGUAGE.md §6): exact top-k by cosine
//! similarity, ties by id, x left out, `[]` for an unknown x; bad lines reported.

mod common;

use nudge_runtime::runner::RunOptions;
use nudge_runtime::value::Value;
use nudge_runtime::vectors::Vectors;
use std::path::PathBuf;

/// A deterministic pseudo-random source (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` items of dimension `dim` with small integer components; about a quarter are
/// exact or scaled (×2, ×4) copies of an earlier item, so that many similarities tie.
/// Lines are written in a shuffled order, so the tie-break by id is not the file order.
fn tied_items(n: usize, dim: usize, seed: u64) -> Vec<(String, Vec<f64>)> {
    let mut rng = Rng(seed);
    let mut items: Vec<(String, Vec<f64>)> = Vec::new();
    for i in 0..n {
        let v: Vec<f64> = if i > 4 && rng.below(4) == 0 {
            let (_, base) = &items[rng.below(items.len() as u64) as usize];
            let scale = [1.0, 2.0, 4.0][rng.below(3) as usize];
            base.iter().map(|x| x * scale).collect()
        } else {
            loop {
                let v: Vec<f64> = (0..dim).map(|_| rng.below(7) as f64 - 3.0).collect();
                if v.iter().any(|x| *x != 0.0) {
                    break v;
                }
            }
        };
        items.push((format!("i{i:04}"), v));
    }
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
    items
}

fn jsonl(items: &[(String, Vec<f64>)]) -> String {
    items
        .iter()
        .map(|(id, v)| format!("{}\n", serde_json::json!({"item": id, "vector": v})))
        .collect()
}

/// Cosine similarity from the definition, on the raw vectors.
fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// A vector scaled to unit length; copies up to a power-of-two scale give the same bits.
fn unit(v: &[f64]) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

fn ids(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| i.as_str().expect("string id").to_string())
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// Two similarities this close are the same number computed in another order.
const EPS: f64 = 1e-12;

/// Checks `got` against brute force: the right length, x left out, best first, ties by
/// id, and nothing left out that beats the last one taken.
fn check_against_brute_force(items: &[(String, Vec<f64>)], x: usize, k: usize, got: &[String]) {
    let (xid, xv) = &items[x];
    let sim = |id: &str| {
        let (_, v) = items.iter().find(|(i, _)| i == id).expect("known id");
        cosine(xv, v)
    };
    assert_eq!(got.len(), k.min(items.len() - 1), "length for {xid}, k {k}");
    assert!(!got.contains(xid), "{xid} is in its own result");
    let mut seen = got.to_vec();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), got.len(), "an id repeats: {got:?}");
    let unit = |id: &str| unit(&items.iter().find(|(i, _)| i == id).expect("known id").1);
    // Whether `a` must come before `b`: a clearly higher similarity, or the same
    // direction (an exact tie) and the lower id. Two similarities within EPS of each
    // other from different directions may differ in their last bits either way.
    let beats = |a: &str, b: &str| {
        let (sa, sb) = (sim(a), sim(b));
        if (sa - sb).abs() > EPS {
            sa > sb
        } else {
            unit(a) == unit(b) && a < b
        }
    };
    let may_precede = |a: &str, b: &str| !beats(b, a);
    for w in got.windows(2) {
        assert!(
            may_precede(&w[0], &w[1]),
            "{} before {} for {xid}",
            w[0],
            w[1]
        );
    }
    if let Some(last) = got.last() {
        for (id, _) in items {
            if id != xid && !got.contains(id) {
                assert!(!beats(id, last), "{id} left out but beats {last} for {xid}");
            }
        }
    }
}

#[test]
fn similar_agrees_with_brute_force_ties_included() {
    let items = tied_items(240, 8, 7);
    let (vecs, bad) = Vectors::parse("item", "mem.jsonl", &jsonl(&items));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!((vecs.len(), vecs.dim()), (240, 8));
    let mut exact_ties = 0;
    for x in 0..items.len() {
        for k in [1, 3, 10, 40] {
            let got = ids(&vecs.similar(&Value::str(&items[x].0), k));
            check_against_brute_force(&items, x, k, &got);
            // Ties broken by id: copies (up to scale) come out in id order.
            let row = |id: &String| &items.iter().find(|(i, _)| i == id).unwrap().1;
            for w in got.windows(2) {
                let (a, b) = (row(&w[0]), row(&w[1]));
                if unit(a) == unit(b) {
                    exact_ties += 1;
                    assert!(w[0] < w[1], "{} before {} for {}", w[0], w[1], items[x].0);
                }
            }
        }
    }
    assert!(exact_ties > 100, "the data should tie often: {exact_ties}");
}

#[test]
fn similar_agrees_with_brute_force_on_float_vectors() {
    let mut rng = Rng(42);
    let items: Vec<(String, Vec<f64>)> = (0..400)
        .map(|i| {
            let v = (0..64)
                .map(|_| (rng.next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                .collect();
            (format!("p{:05}", (i * 7919) % 400), v)
        })
        .collect();
    let (vecs, bad) = Vectors::parse("item", "mem.jsonl", &jsonl(&items));
    assert!(bad.is_empty(), "{bad:?}");
    for x in (0..items.len()).step_by(7) {
        let got = ids(&vecs.similar(&Value::str(&items[x].0), 20));
        check_against_brute_force(&items, x, 20, &got);
        assert_eq!(
            vecs.similar_uncached(&Value::str(&items[x].0), 20),
            vecs.similar(&Value::str(&items[x].0), 20),
            "the memo gives what a fresh query gives"
        );
    }
}

#[test]
fn unknown_item_gives_an_empty_list() {
    let (vecs, _) = Vectors::parse("item", "mem.jsonl", &jsonl(&tied_items(10, 4, 1)));
    assert_eq!(vecs.similar(&Value::str("nope"), 3), Value::list(vec![]));
    assert_eq!(vecs.similar(&Value::Null, 3), Value::list(vec![]));
    assert_eq!(vecs.similar(&Value::Int(1), 3), Value::list(vec![]));
}

#[test]
fn k_larger_than_the_items_gives_all_others() {
    let items = tied_items(12, 4, 3);
    let (vecs, _) = Vectors::parse("item", "mem.jsonl", &jsonl(&items));
    for x in 0..items.len() {
        let got = ids(&vecs.similar(&Value::str(&items[x].0), 1000));
        assert_eq!(got.len(), 11);
        check_against_brute_force(&items, x, 1000, &got);
    }
    assert_eq!(
        vecs.similar(&Value::str(&items[0].0), 0),
        Value::list(vec![])
    );
}

#[test]
fn the_item_itself_is_left_out_even_with_copies() {
    let text = r#"{"item": "a", "vector": [1, 0]}
{"item": "b", "vector": [2, 0]}
{"item": "c", "vector": [0, 1]}
{"item": "d", "vector": [-1, 0]}
"#;
    let (vecs, _) = Vectors::parse("item", "mem.jsonl", text);
    assert_eq!(ids(&vecs.similar(&Value::str("b"), 3)), ["a", "c", "d"]);
    assert_eq!(ids(&vecs.similar(&Value::str("a"), 1)), ["b"]);
    assert_eq!(ids(&vecs.similar(&Value::str("c"), 3)), ["a", "b", "d"]);
}

#[test]
fn integer_ids_rank_by_number() {
    let text = r#"{"id": 10, "vector": [1, 1]}
{"id": 9, "vector": [1, 1]}
{"id": 100, "vector": [1, 1]}
{"id": 1, "vector": [1, 0]}
"#;
    let (vecs, bad) = Vectors::parse("id", "mem.jsonl", text);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(
        vecs.similar(&Value::Int(1), 3),
        Value::list(vec![Value::Int(9), Value::Int(10), Value::Int(100)])
    );
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_skipped() {
    let text = "{\"item\": \"a\", \"vector\": [1, 0, 0]}\n\
                not json\n\
                {\"vector\": [1, 0, 0]}\n\
                {\"item\": \"b\", \"vector\": [1, 0]}\n\
                \n\
                {\"item\": \"a\", \"vector\": [0, 1, 0]}\n\
                {\"item\": \"c\", \"vector\": [0, 0, 0]}\n\
                {\"item\": \"d\", \"vector\": [1, \"x\", 0]}\n\
                {\"item\": true, \"vector\": [1, 0, 0]}\n\
                {\"item\": \"e\", \"vector\": []}\n\
                {\"item\": \"f\"}\n\
                {\"item\": \"g\", \"vector\": [0, 1, 1]}\n";
    let (vecs, bad) = Vectors::parse("item", "data/v.jsonl", text);
    let lines: Vec<&str> = bad.iter().map(|b| b.split(": ").next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "data/v.jsonl:2",
            "data/v.jsonl:3",
            "data/v.jsonl:4",
            "data/v.jsonl:6",
            "data/v.jsonl:7",
            "data/v.jsonl:8",
            "data/v.jsonl:9",
            "data/v.jsonl:10",
            "data/v.jsonl:11",
        ],
        "{bad:#?}"
    );
    assert!(
        bad[2].contains("2 dimensions, the first vector has 3"),
        "{}",
        bad[2]
    );
    assert!(bad[3].contains("repeats"), "{}", bad[3]);
    assert_eq!(vecs.len(), 2);
    assert_eq!(ids(&vecs.similar(&Value::str("a"), 5)), ["g"]);
}

/// A folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("nudge-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn similar_in_a_program_reads_the_declared_file() {
    let dir = TempDir::new("vectors-program");
    let path = dir.0.join("vecs.jsonl");
    std::fs::write(
        &path,
        "{\"product_id\": \"p1\", \"vector\": [1, 0]}\n\
         {\"product_id\": \"p2\", \"vector\": [0.9, 0.1]}\n\
         {\"product_id\": \"p3\", \"vector\": [0, 1]}\n\
         {\"product_id\": \"p4\", \"vector\": [1]}\n",
    )
    .unwrap();
    let program = format!(
        r#"
input key user_id
event VIEW {{ user_id: string, product_id: string }}
vectors item_vecs from "{}" key product_id
pattern like_this
  when VIEW
  emit {{ like: similar(item_vecs, product_id, 2) }}
"#,
        path.display()
    );
    let plan = common::plan(&program);
    let (_, bad) = nudge_runtime::world::Resources::load(&plan).expect("loads");
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].starts_with(&format!("{}:4: ", path.display())),
        "{bad:?}"
    );
    let events = "{\"type\": \"VIEW\", \"user_id\": \"u1\", \"product_id\": \"p1\", \"ts\": 1000}\n\
                  {\"type\": \"VIEW\", \"user_id\": \"u1\", \"product_id\": \"p9\", \"ts\": 2000}\n";
    let c = common::run_inputs(&program, &[events], &RunOptions::default());
    assert_eq!(
        common::field(&c, "like"),
        [serde_json::json!(["p2", "p3"]), serde_json::json!([])]
    );
}

#[test]
fn an_unreadable_vectors_file_is_an_error() {
    let program = r#"
input key user_id
event VIEW { user_id: string, product_id: string }
vectors item_vecs from "/nonexistent/nudge/vecs.jsonl" key product_id
pattern like_this
  when VIEW
  emit { like: similar(item_vecs, product_id, 2) }
"#;
    let plan = common::plan(program);
    let err = nudge_runtime::world::Resources::load(&plan)
        .err()
        .expect("an error");
    assert!(
        err.to_string().contains("cannot read vectors `item_vecs`"),
        "{err}"
    );
}
