//! The read-only world expressions see: tables now, operators as they are added.

use crate::eval::World;
use crate::table::{Table, TableError};
use crate::value::Value;
use nudge_compiler::plan::{ModelId, Plan, TableId};

/// Tables and models of a program, loaded once before the run.
pub struct Resources {
    tables: Vec<Table>,
    fallbacks: Vec<Value>,
}

impl Resources {
    /// Loads every table of the plan; returns the resources and the bad rows skipped.
    pub fn load(plan: &Plan) -> Result<(Resources, Vec<String>), TableError> {
        let mut tables = Vec::new();
        let mut bad = Vec::new();
        for t in &plan.tables {
            let (table, mut rows) = Table::load(t)?;
            bad.append(&mut rows);
            tables.push(table);
        }
        let fallbacks = plan
            .models
            .iter()
            .map(|m| Value::from_const(&m.fallback))
            .collect();
        Ok((Resources { tables, fallbacks }, bad))
    }
}

impl World for Resources {
    fn table_row(&self, table: TableId, key: &Value) -> Value {
        self.tables[table.index()].get(key)
    }

    fn model(&self, model: ModelId, _arg: Value) -> Value {
        // Remote model calls are made by the asynchronous emit stage; inside the
        // synchronous engine a model reads as its fallback.
        self.fallbacks[model.index()].clone()
    }
}
