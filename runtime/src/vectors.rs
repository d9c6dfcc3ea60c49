//! `vectors` declarations and `similar(vectors, x, k)` (LANGUAGE.md §6).
//!
//! Item vectors are loaded once from JSON lines (`{"product_id": "p1", "vector": [..]}`),
//! normalised to unit length and kept in one contiguous row-major `f64` matrix. A query
//! scans every row with a dot product (eight independent `f64` sums, which the compiler
//! turns into SIMD) and keeps the best k in a bounded heap: exact, not approximate.
//! Results are memoised per (item, k), since the vectors never change during a run.
//!
//! Ranking: cosine similarity descending, then id ascending; the item itself is left out;
//! an unknown item gives `[]`.
//!
//! ```
//! use nudge_runtime::vectors::Vectors;
//! use nudge_runtime::value::Value;
//! let text = "{\"id\": \"a\", \"vector\": [1, 0]}\n\
//!             {\"id\": \"b\", \"vector\": [1, 1]}\n\
//!             {\"id\": \"c\", \"vector\": [0, 1]}\n";
//! let (vecs, bad) = Vectors::parse("id", "mem.jsonl", text);
//! assert!(bad.is_empty());
//! assert_eq!(vecs.similar(&Value::str("a"), 2), Value::list(vec![Value::str("b"), Value::str("c")]));
//! ```

use crate::value::Value;
use nudge_compiler::plan::VectorsPlan;
use rustc_hash::FxHashMap;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Mutex;

/// Memoised results kept at most; the cache is emptied when it is full (results never
/// depend on it).
const CACHE_CAP: usize = 1 << 16;

/// A vectors file that cannot be read at all (bad lines are reported, not fatal).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot read vectors `{name}` from {path}: {message}")]
pub struct VectorsError {
    pub name: String,
    pub path: String,
    pub message: String,
}

/// The loaded vectors of one declaration.
pub struct Vectors {
    dim: usize,
    /// Row → item id.
    ids: Vec<Value>,
    /// Row → the id's place in ascending id order (the tie-break).
    rank: Vec<u32>,
    /// Item id → row.
    rows: FxHashMap<Value, u32>,
    /// `ids.len() × dim` unit vectors, row-major.
    data: Vec<f64>,
    cache: Mutex<FxHashMap<(u32, u32), Value>>,
}

impl std::fmt::Debug for Vectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vectors")
            .field("items", &self.ids.len())
            .field("dim", &self.dim)
            .finish()
    }
}

impl Vectors {
    /// Loads a declaration's file; bad lines are skipped and described in the returned
    /// list (`file:line: why`).
    pub fn load(plan: &VectorsPlan) -> Result<(Vectors, Vec<String>), VectorsError> {
        let path = plan.path.display().to_string();
        let text = std::fs::read_to_string(&plan.path).map_err(|e| VectorsError {
            name: plan.name.clone(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Vectors::parse(&plan.key, &path, &text))
    }

    /// Parses JSON lines whose id is in field `key` and whose vector is in `vector`.
    /// A line is bad (reported with `path:line`, skipped) when it is not a JSON object,
    /// its id is missing or not a string or integer, its id repeats an earlier line's
    /// (the first is kept), its vector is missing, empty, not all numbers, of another
    /// dimension than the first good line's, or has no direction (all zeros).
    pub fn parse(key: &str, path: &str, text: &str) -> (Vectors, Vec<String>) {
        let mut ids: Vec<Value> = Vec::new();
        let mut rows: FxHashMap<Value, u32> = FxHashMap::default();
        let mut data: Vec<f64> = Vec::new();
        let mut dim = 0usize;
        let mut bad = Vec::new();
        let mut raw: Vec<f64> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_no = i + 1;
            let why = match parse_line(line, key, &mut raw) {
                Err(why) => why,
                Ok(id) if rows.contains_key(&id) => "the id repeats an earlier line's".into(),
                Ok(_) if dim != 0 && raw.len() != dim => {
                    format!("{} dimensions, the first vector has {dim}", raw.len())
                }
                Ok(_) if !normalise(&mut raw) => "the vector has no direction (all zeros)".into(),
                Ok(id) => {
                    dim = raw.len();
                    rows.insert(id.clone(), ids.len() as u32);
                    ids.push(id);
                    data.extend_from_slice(&raw);
                    continue;
                }
            };
            bad.push(format!("{path}:{line_no}: {why}"));
        }
        let mut order: Vec<u32> = (0..ids.len() as u32).collect();
        order.sort_by(|&a, &b| id_order(&ids[a as usize], &ids[b as usize]));
        let mut rank = vec![0u32; ids.len()];
        for (r, &row) in order.iter().enumerate() {
            rank[row as usize] = r as u32;
        }
        let vectors = Vectors {
            dim,
            ids,
            rank,
            rows,
            data,
            cache: Mutex::new(FxHashMap::default()),
        };
        (vectors, bad)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The dimension (0 when empty).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `similar(vectors, item, k)`: the ids of the k items most similar to `item`, as a
    /// list, best first; `[]` for an unknown item. Memoised.
    pub fn similar(&self, item: &Value, k: usize) -> Value {
        let Some(&row) = self.rows.get(item) else {
            return Value::list(Vec::new());
        };
        let k = k.min(self.ids.len().saturating_sub(1));
        let memo = (row, k as u32);
        if let Some(v) = self.cache.lock().expect("cache lock").get(&memo) {
            return v.clone();
        }
        let result = self.similar_uncached(item, k);
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= CACHE_CAP {
            cache.clear();
        }
        cache.insert(memo, result.clone());
        result
    }

    /// As [`Vectors::similar`], computed afresh (no memo): for benchmarks.
    pub fn similar_uncached(&self, item: &Value, k: usize) -> Value {
        let Some(&row) = self.rows.get(item) else {
            return Value::list(Vec::new());
        };
        let ids = self
            .top_k(row as usize, k)
            .into_iter()
            .map(|r| self.ids[r].clone())
            .collect();
        Value::list(ids)
    }

    /// The rows of the k best items for `row`, best first.
    fn top_k(&self, row: usize, k: usize) -> Vec<usize> {
        if k == 0 {
            return Vec::new();
        }
        let dim = self.dim;
        let x = &self.data[row * dim..(row + 1) * dim];
        // A min-heap of the best k so far: its top is the worst of them.
        let mut heap: BinaryHeap<Reverse<Candidate>> = BinaryHeap::with_capacity(k + 1);
        for (r, y) in self.data.chunks_exact(dim).enumerate() {
            if r == row {
                continue;
            }
            let c = Candidate {
                sim: dot(x, y),
                rank: self.rank[r],
                row: r as u32,
            };
            if heap.len() < k {
                heap.push(Reverse(c));
            } else if let Some(mut worst) = heap.peek_mut() {
                if c > worst.0 {
                    *worst = Reverse(c);
                }
            }
        }
        let mut best: Vec<Candidate> = heap.into_iter().map(|Reverse(c)| c).collect();
        best.sort_by(|a, b| b.cmp(a));
        best.into_iter().map(|c| c.row as usize).collect()
    }
}

/// One scored item; greater is better (higher similarity, then lower id).
#[derive(Clone, Copy)]
struct Candidate {
    sim: f64,
    rank: u32,
    row: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sim
            .total_cmp(&other.sim)
            .then_with(|| other.rank.cmp(&self.rank))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The dot product in `f64`, as eight running sums combined pairwise: a fixed order of
/// additions (so every run gives the same bits) that vectorises.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ta.iter().zip(tb) {
        tail += x * y;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// Scales `v` to unit length; false when it has no direction.
fn normalise(v: &mut [f64]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return false;
    }
    for x in v.iter_mut() {
        *x /= norm;
    }
    true
}

/// Reads one line's id and vector (into `raw`); `Err` says why the line is bad.
fn parse_line(line: &str, key: &str, raw: &mut Vec<f64>) -> Result<Value, String> {
    let obj = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(o)) => o,
        _ => return Err("not a JSON object".into()),
    };
    let id = match obj.get(key) {
        Some(serde_json::Value::String(s)) => Value::str(s),
        Some(serde_json::Value::Number(n)) if n.is_i64() => Value::Int(n.as_i64().unwrap_or(0)),
        Some(v) => return Err(format!("the id `{key}` is {v}, not a string or integer")),
        None => return Err(format!("no id field `{key}`")),
    };
    let Some(serde_json::Value::Array(items)) = obj.get("vector") else {
        return Err("no `vector` list".into());
    };
    if items.is_empty() {
        return Err("the vector is empty".into());
    }
    raw.clear();
    for item in items {
        match item.as_f64() {
            Some(x) if x.is_finite() => raw.push(x),
            _ => return Err(format!("`{item}` in the vector is not a number")),
        }
    }
    Ok(id)
}

/// Ascending id order: integers by value, strings by their bytes, integers first.
fn id_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Int(_), _) => Ordering::Less,
        (_, Value::Int(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}
