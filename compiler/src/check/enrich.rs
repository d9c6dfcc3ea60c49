//! Enrichment declarations: `table`, `vectors` and `model` (LANGUAGE.md §6).

use super::schema::unique_fields;
use super::suggest::did_you_mean;
use super::types::Ty;
use super::Checker;
use crate::plan::{Const, ModelPlan, TablePlan, VectorsPlan};
use nudge_grammar::ast::{self, Decl, ExprKind, Lit, UnOp};
use nudge_grammar::{Diagnostic, FileId};
use std::path::{Path, PathBuf};

/// Default `timeout` of a model.
const DEFAULT_TIMEOUT_MS: u64 = 1000;
/// Default `concurrency` of a model.
const DEFAULT_CONCURRENCY: u32 = 64;

impl Checker<'_> {
    /// Builds the plans of every `table`, `vectors` and `model`, in program order.
    pub(crate) fn build_enrichment(&mut self) {
        for (file, decl) in self.decls() {
            match decl {
                Decl::Table(t) => self.add_table(file, t),
                Decl::Vectors(v) => {
                    let path = self.data_path(file, &v.from.value);
                    self.ops.vectors.push(VectorsPlan {
                        name: v.name.text.clone(),
                        path,
                        key: v.key.text.clone(),
                    });
                }
                Decl::Model(m) => self.add_model(m),
                _ => {}
            }
        }
    }

    /// A data file's path, relative to the folder of the file that names it.
    fn data_path(&self, file: FileId, path: &str) -> PathBuf {
        let declaring = Path::new(&self.sources.get(file).path);
        declaring.parent().unwrap_or(Path::new("")).join(path)
    }

    fn add_table(&mut self, file: FileId, t: &ast::TableDecl) {
        let columns = unique_fields(&t.fields, &mut self.diags, "table");
        let key = match columns.iter().position(|c| c.name.text == t.key.text) {
            Some(i) => i,
            None => {
                let mut d = Diagnostic::error(
                    "E103",
                    format!(
                        "the table `{}` has no column `{}` to use as its key",
                        t.name.text, t.key.text
                    ),
                    t.key.span,
                    "not a column of this table",
                );
                let names = columns.iter().map(|c| c.name.text.as_str());
                if let Some(help) = did_you_mean(&t.key.text, names) {
                    d = d.with_help(help);
                }
                self.diags.push(d);
                0
            }
        };
        self.ops.table_cols.push(
            columns
                .iter()
                .map(|c| (c.name.text.clone(), Ty::of_field(c.ty)))
                .collect(),
        );
        let path = self.data_path(file, &t.from.value);
        self.ops.tables.push(TablePlan {
            name: t.name.text.clone(),
            path,
            columns: columns
                .iter()
                .map(|c| (c.name.text.clone(), c.ty.as_str().to_string()))
                .collect(),
            key,
        });
    }

    fn add_model(&mut self, m: &ast::ModelDecl) {
        let timeout_ms = match m.timeout {
            Some(d) => {
                self.positive(d, "a model's `timeout`");
                d.ms
            }
            None => DEFAULT_TIMEOUT_MS,
        };
        let concurrency = match m.concurrency {
            Some(c) => self.at_least_one(c, "a model's `concurrency`"),
            None => DEFAULT_CONCURRENCY,
        };
        let fallback = match &m.fallback {
            Some(e) => self.constant(e),
            None => Const::Null,
        };
        self.ops.models.push(ModelPlan {
            name: m.name.text.clone(),
            url: m.url.value.clone(),
            timeout_ms,
            concurrency,
            fallback,
        });
    }

    /// A constant value (a model's `fallback`): literals, lists and records of them (E410).
    fn constant(&mut self, e: &ast::Expr) -> Const {
        match &e.kind {
            ExprKind::Lit(lit) => lit_const(lit),
            ExprKind::Unary(UnOp::Neg, inner) => match &inner.kind {
                ExprKind::Lit(Lit::Int(i)) => Const::Int(-i),
                ExprKind::Lit(Lit::Float(f)) => Const::Float(-f),
                _ => self.not_constant(e),
            },
            ExprKind::List(items) => Const::List(items.iter().map(|i| self.constant(i)).collect()),
            ExprKind::Record(fields) => Const::Record(
                fields
                    .iter()
                    .map(|(n, v)| (n.text.clone(), self.constant(v)))
                    .collect(),
            ),
            _ => self.not_constant(e),
        }
    }

    fn not_constant(&mut self, e: &ast::Expr) -> Const {
        self.diags.push(
            Diagnostic::error(
                "E410",
                "a model's `fallback` must be a fixed value",
                e.span,
                "not a fixed value",
            )
            .with_help("write a literal such as `[]`, `null`, `0` or `{ score: 0 }`"),
        );
        Const::Null
    }
}

/// The constant of a literal (a duration is its milliseconds).
pub(crate) fn lit_const(lit: &Lit) -> Const {
    match lit {
        Lit::Str(s) => Const::Str(s.as_str().into()),
        Lit::Int(i) => Const::Int(*i),
        Lit::Float(f) => Const::Float(*f),
        Lit::Bool(b) => Const::Bool(*b),
        Lit::Null => Const::Null,
        Lit::Duration(ms) => Const::Int(i64::try_from(*ms).unwrap_or(i64::MAX)),
    }
}
