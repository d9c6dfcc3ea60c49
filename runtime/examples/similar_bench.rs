//! `similar()` throughput on 100,000 random vectors of dimension 64.
//!
//! ```text
//! cargo run --release -p nudge-runtime --example similar_bench [ITEMS] [DIM] [QUERIES]
//! ```
//!
//! Prints the load time and queries per second of `similar(v, x, 20)`: computed afresh
//! (a full exact scan per query) and answered from the per-(item, k) memo.

use nudge_runtime::value::Value;
use nudge_runtime::vectors::Vectors;
use std::fmt::Write as _;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let items = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(64);
    let queries = args.get(2).copied().unwrap_or(500);
    let k = 20;

    // SplitMix64: deterministic random components in [-1, 1).
    let mut state = 0x5EED_u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut text = String::with_capacity(items * dim * 10);
    for i in 0..items {
        let _ = write!(text, "{{\"id\": \"p{i:06}\", \"vector\": [");
        for d in 0..dim {
            let x = (next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
            let _ = write!(text, "{}{x:.5}", if d > 0 { ", " } else { "" });
        }
        text.push_str("]}\n");
    }

    let t = Instant::now();
    let (vecs, bad) = Vectors::parse("id", "bench", &text);
    assert!(bad.is_empty());
    println!(
        "loaded {} vectors of dimension {} in {:.2} s",
        vecs.len(),
        vecs.dim(),
        t.elapsed().as_secs_f64()
    );

    let ids: Vec<Value> = (0..queries)
        .map(|_| Value::str(&format!("p{:06}", next() as usize % items)))
        .collect();

    let t = Instant::now();
    let mut found = 0;
    for id in &ids {
        if let Value::List(l) = vecs.similar_uncached(id, k) {
            found += l.len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(found, queries * k);
    println!(
        "similar(k = {k}) without the memo: {:.0} queries/s ({:.2} ms per query, {queries} queries)",
        queries as f64 / secs,
        secs * 1000.0 / queries as f64
    );

    for id in &ids {
        vecs.similar(id, k);
    }
    let rounds = 2_000;
    let t = Instant::now();
    for _ in 0..rounds {
        for id in &ids {
            std::hint::black_box(vecs.similar(id, k));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "similar(k = {k}) from the memo:    {:.0} queries/s",
        (rounds * queries) as f64 / secs
    );
}
