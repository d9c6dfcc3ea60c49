//! The read-only world expressions see: tables and vectors now, operators as they are
//! added. Model calls are not part of it: emit hands them to the runner as pending calls
//! (see [`crate::models`]).

use crate::eval::World;
use crate::table::{Table, TableError};
use crate::value::Value;
use crate::vectors::{Vectors, VectorsError};
use nudge_compiler::plan::{Plan, TableId, VectorsId};

/// Tables and vectors of a program, loaded once before the run.
pub struct Resources {
    tables: Vec<Table>,
    vectors: Vec<Vectors>,
}

/// A table or vectors file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Vectors(#[from] VectorsError),
}

impl Resources {
    /// Loads every table and vectors file of the plan; returns the resources and the bad
    /// rows and lines skipped (`file:line: why`).
    pub fn load(plan: &Plan) -> Result<(Resources, Vec<String>), LoadError> {
        let mut tables = Vec::new();
        let mut bad = Vec::new();
        for t in &plan.tables {
            let (table, mut rows) = Table::load(t)?;
            bad.append(&mut rows);
            tables.push(table);
        }
        let mut vectors = Vec::new();
        for v in &plan.vectors {
            let (vecs, mut lines) = Vectors::load(v)?;
            bad.append(&mut lines);
            vectors.push(vecs);
        }
        Ok((Resources { tables, vectors }, bad))
    }
}

impl World for Resources {
    fn table_row(&self, table: TableId, key: &Value) -> Value {
        self.tables[table.index()].get(key)
    }

    fn similar(&self, vectors: VectorsId, item: &Value, k: usize) -> Value {
        self.vectors[vectors.index()].similar(item, k)
    }
}
