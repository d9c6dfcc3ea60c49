//! `table` declarations (LANGUAGE.md §6): CSV with a header or JSON lines, cells typed by
//! the declaration, lookups by key (null when missing), bad rows reported with file and
//! line and skipped.

mod common;

use nudge_compiler::plan::TablePlan;
use nudge_runtime::runner::RunOptions;
use nudge_runtime::table::{Table, TableError};
use nudge_runtime::value::Value;
use serde_json::json;
use std::path::PathBuf;

/// A folder under the system temp dir, removed when dropped (also when a test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("nudge-tables-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sku: string, qty: int, price: float, sale: bool, tags: list`, keyed by `sku`.
fn plan_for(path: PathBuf) -> TablePlan {
    TablePlan {
        name: "stock".into(),
        path,
        columns: [
            ("sku", "string"),
            ("qty", "int"),
            ("price", "float"),
            ("sale", "bool"),
            ("tags", "list"),
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect(),
        key: 0,
    }
}

/// A row as JSON text (so that ints and floats are told apart).
fn row(table: &Table, key: &str) -> serde_json::Value {
    let plan = common::plan(&format!(
        "{}\npattern p when A emit {{ n: n }}",
        common::SCHEMA
    ));
    let mut s = String::new();
    table.get(&Value::str(key)).write_json(&mut s, &plan);
    serde_json::from_str(&s).expect("json")
}

#[test]
fn csv_cells_are_typed_by_the_declaration() {
    let dir = TempDir::new("typed-csv");
    let path = dir.file(
        "stock.csv",
        "sku,qty,price,sale,tags,ignored\n\
         a,3,19.99,true,\"[\"\"x\"\", 1]\",zzz\n\
         b,4.0,5,false,[],\n\
         c,,,,,\n",
    );
    let (table, bad) = Table::load(&plan_for(path)).expect("loads");
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(table.len(), 3);
    assert_eq!(
        row(&table, "a"),
        json!({"sku": "a", "qty": 3, "price": 19.99, "sale": true, "tags": ["x", 1]})
    );
    // `4.0` is an int; `5` is a float written 5.0.
    let b = table.get(&Value::str("b"));
    let Value::Record(fields) = &b else {
        panic!("{b:?}")
    };
    assert_eq!(fields[1].1, Value::Int(4));
    assert!(matches!(fields[1].1, Value::Int(4)));
    assert!(matches!(fields[2].1, Value::Float(f) if f == 5.0));
    assert!(matches!(fields[3].1, Value::Bool(false)));
    // Empty cells are null.
    assert_eq!(
        row(&table, "c"),
        json!({"sku": "c", "qty": null, "price": null, "sale": null, "tags": null})
    );
}

#[test]
fn quoted_csv_cells_keep_commas_quotes_and_newlines() {
    let dir = TempDir::new("quoted-csv");
    let path = dir.file(
        "stock.csv",
        "sku,qty,price,sale,tags\n\
         \"a,1\",1,1.5,true,[]\n\
         \"say \"\"hi\"\"\",2,2.5,false,[]\n\
         \"two\nlines\",3,3.5,true,[]\n\
         d,x,4.5,true,[]\n",
    );
    let (table, bad) = Table::load(&plan_for(path.clone())).expect("loads");
    assert_eq!(table.len(), 3);
    assert_eq!(row(&table, "a,1")["qty"], json!(1));
    assert_eq!(row(&table, "say \"hi\"")["qty"], json!(2));
    assert_eq!(row(&table, "two\nlines")["qty"], json!(3));
    // The record after a two-line cell starts on physical line 6.
    assert_eq!(
        bad,
        [format!(
            "{}:6: column `qty`: `x` is not a int",
            path.display()
        )]
    );
}

#[test]
fn bad_csv_rows_are_reported_with_file_and_line_and_skipped() {
    let dir = TempDir::new("bad-csv");
    let path = dir.file(
        "stock.csv",
        "sku,qty,price,sale,tags\n\
         a,1,1.0,true,[]\n\
         b,1.5,1.0,true,[]\n\
         c,1,cheap,true,[]\n\
         d,1,1.0,yes,[]\n\
         e,1,1.0,true,{}\n\
         f,1,1.0,true,[1]\n",
    );
    let (table, bad) = Table::load(&plan_for(path.clone())).expect("loads");
    let p = path.display();
    assert_eq!(
        bad,
        [
            format!("{p}:3: column `qty`: `1.5` is not a int"),
            format!("{p}:4: column `price`: `cheap` is not a float"),
            format!("{p}:5: column `sale`: `yes` is not a bool"),
            format!("{p}:6: column `tags`: `{{}}` is not a list"),
        ]
    );
    assert_eq!(table.len(), 2);
    assert_eq!(table.get(&Value::str("b")), Value::Null);
}

#[test]
fn json_lines_tables_are_typed_and_bad_lines_reported() {
    let dir = TempDir::new("jsonl");
    let path = dir.file(
        "stock.jsonl",
        "{\"sku\": \"a\", \"qty\": 3, \"price\": 2, \"sale\": true, \"tags\": [\"x\"]}\n\
         \n\
         {\"sku\": \"b\", \"qty\": 4.0, \"price\": 2.5, \"extra\": 1}\n\
         [1, 2]\n\
         {\"sku\": \"c\", \"qty\": \"3\"}\n\
         {\"sku\": \"d\", \"sale\": \"no\"}\n\
         {\"sku\": \"e\", \"qty\": 1.5}\n\
         {\"sku\": null, \"qty\": 1}\n\
         {\"sku\": \"f\", \"tags\": \"x\"}\n",
    );
    let (table, bad) = Table::load(&plan_for(path.clone())).expect("loads");
    let p = path.display();
    assert_eq!(
        bad,
        [
            format!("{p}:4: not a JSON object"),
            format!("{p}:5: field `qty`: \"3\" is not a int"),
            format!("{p}:6: field `sale`: \"no\" is not a bool"),
            format!("{p}:7: field `qty`: 1.5 is not a int"),
            format!("{p}:9: field `tags`: \"x\" is not a list"),
        ]
    );
    assert_eq!(
        row(&table, "a"),
        json!({"sku": "a", "qty": 3, "price": 2.0, "sale": true, "tags": ["x"]})
    );
    assert_eq!(
        row(&table, "b"),
        json!({"sku": "b", "qty": 4, "price": 2.5, "sale": null, "tags": null})
    );
    // A row without a key cannot be looked up; it is left out.
    assert_eq!(table.len(), 2);
}

#[test]
fn an_unreadable_table_is_an_error() {
    let err = Table::load(&plan_for(PathBuf::from("/nonexistent/nudge/stock.csv")))
        .expect_err("an error");
    assert!(matches!(err, TableError::Unreadable { .. }));
    assert!(
        err.to_string().contains("cannot read table `stock`"),
        "{err}"
    );
}

#[test]
fn lookups_in_a_program_give_null_for_missing_keys() {
    let dir = TempDir::new("program");
    let path = dir.file(
        "products.csv",
        "product_id,name,price\n\
         p1,\"Shoe, red\",49.9\n\
         p2,Sock,4\n",
    );
    let program = format!(
        r#"
input key user_id
event VIEW {{ user_id: string, product_id: string }}
table products {{ product_id: string, name: string, price: float }}
  from "{}"
  key product_id
pattern viewed
  when VIEW
  emit {{
    name: products[product_id].name,
    price: products[product_id].price,
    row: products[product_id],
    known: products[product_id] != null,
  }}
"#,
        path.display()
    );
    let events = "{\"type\": \"VIEW\", \"user_id\": \"u1\", \"product_id\": \"p1\", \"ts\": 1000}\n\
                  {\"type\": \"VIEW\", \"user_id\": \"u1\", \"product_id\": \"p9\", \"ts\": 2000}\n\
                  {\"type\": \"VIEW\", \"user_id\": \"u1\", \"ts\": 3000}\n\
                  {\"type\": \"VIEW\", \"user_id\": \"u1\", \"product_id\": \"p2\", \"ts\": 4000}\n";
    let c = common::run_inputs(&program, &[events], &RunOptions::default());
    assert_eq!(
        c.records,
        [
            r#"{"rule": "viewed", "key": "u1", "ts": 1000, "name": "Shoe, red", "price": 49.9, "row": {"product_id": "p1", "name": "Shoe, red", "price": 49.9}, "known": true}"#,
            r#"{"rule": "viewed", "key": "u1", "ts": 2000, "name": null, "price": null, "row": null, "known": false}"#,
            r#"{"rule": "viewed", "key": "u1", "ts": 3000, "name": null, "price": null, "row": null, "known": false}"#,
            r#"{"rule": "viewed", "key": "u1", "ts": 4000, "name": "Sock", "price": 4.0, "row": {"product_id": "p2", "name": "Sock", "price": 4.0}, "known": true}"#,
        ]
    );
}
