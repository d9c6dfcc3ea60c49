//! `table` declarations: rows loaded once from CSV or JSON lines, looked up by key.

use crate::decode::typed_cell;
use crate::value::Value;
use nudge_compiler::plan::TablePlan;
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::Arc;

/// A loaded table.
#[derive(Debug, Default)]
pub struct Table {
    rows: FxHashMap<Value, Value>,
}

/// A problem loading a table: unreadable file (fatal) or a bad row (reported, skipped).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("cannot read table `{table}` from {path}: {message}")]
    Unreadable {
        table: String,
        path: String,
        message: String,
    },
}

impl Table {
    /// Loads a table; bad rows are skipped and described in the returned list
    /// (`file:line: why`).
    pub fn load(plan: &TablePlan) -> Result<(Table, Vec<String>), TableError> {
        let path = plan.path.display().to_string();
        let text = std::fs::read_to_string(&plan.path).map_err(|e| TableError::Unreadable {
            table: plan.name.clone(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        let is_csv = plan.path.extension().is_some_and(|e| e == "csv");
        let mut table = Table::default();
        let mut bad = Vec::new();
        if is_csv {
            load_csv(plan, &path, &text, &mut table, &mut bad);
        } else {
            load_jsonl(plan, &path, &text, &mut table, &mut bad);
        }
        Ok((table, bad))
    }

    /// The row whose key equals `key` (a record in column order), or null.
    pub fn get(&self, key: &Value) -> Value {
        self.rows.get(key).cloned().unwrap_or(Value::Null)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn insert(&mut self, plan: &TablePlan, values: Vec<Value>) {
        let key = values[plan.key].clone();
        if key.is_null() {
            return;
        }
        let record = plan
            .columns
            .iter()
            .map(|(name, _)| Arc::from(name.as_str()))
            .zip(values)
            .collect();
        self.rows.insert(key, Value::Record(Arc::new(record)));
    }
}

/// Types one CSV cell by its column type, as event cells are typed.
fn csv_cell(cell: &str, ty: &str) -> Result<Value, String> {
    typed_cell(cell, ty).ok_or_else(|| format!("`{cell}` is not a {ty}"))
}

fn json_cell(v: Option<&serde_json::Value>, ty: &str) -> Result<Value, String> {
    use serde_json::Value as J;
    let Some(v) = v else { return Ok(Value::Null) };
    match (ty, v) {
        (_, J::Null) => Ok(Value::Null),
        ("string", J::String(s)) => Ok(Value::str(s)),
        ("int", J::Number(n)) if n.is_i64() => Ok(Value::Int(n.as_i64().unwrap_or(0))),
        // As in events, an integral float is an int (`3.0`).
        ("int", J::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::Int(f as i64)),
            _ => Err(format!("{v} is not a {ty}")),
        },
        ("float", J::Number(n)) => Ok(Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        ("bool", J::Bool(b)) => Ok(Value::Bool(*b)),
        ("list", J::Array(_)) => Ok(Value::from_json(v)),
        _ => Err(format!("{v} is not a {ty}")),
    }
}

fn load_csv(plan: &TablePlan, path: &str, text: &str, table: &mut Table, bad: &mut Vec<String>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            bad.push(format!("{path}:1: bad header: {e}"));
            return;
        }
    };
    let columns: Vec<Option<usize>> = plan
        .columns
        .iter()
        .map(|(name, _)| header.iter().position(|h| h == name))
        .collect();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad.push(format!("{path}:{line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let mut values = Vec::with_capacity(columns.len());
        let mut error = None;
        for ((name, ty), at) in plan.columns.iter().zip(&columns) {
            let cell = at.and_then(|i| record.get(i)).unwrap_or("");
            match csv_cell(cell, ty) {
                Ok(v) => values.push(v),
                Err(why) => {
                    error = Some(format!("{path}:{line}: column `{name}`: {why}"));
                    break;
                }
            }
        }
        match error {
            Some(e) => bad.push(e),
            None => table.insert(plan, values),
        }
    }
}

fn load_jsonl(plan: &TablePlan, path: &str, text: &str, table: &mut Table, bad: &mut Vec<String>) {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let obj = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => {
                bad.push(format!("{path}:{}: not a JSON object", i + 1));
                continue;
            }
        };
        let mut values = Vec::with_capacity(plan.columns.len());
        let mut error = None;
        for (name, ty) in &plan.columns {
            match json_cell(obj.get(name), ty) {
                Ok(v) => values.push(v),
                Err(why) => {
                    error = Some(format!("{path}:{}: field `{name}`: {why}", i + 1));
                    break;
                }
            }
        }
        match error {
            Some(e) => bad.push(e),
            None => table.insert(plan, values),
        }
    }
}

/// Whether a path names a CSV file.
pub fn is_csv(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "csv")
}
