//! Loading and compiling a program for a subcommand, with its diagnostics printed.

use super::render;
use nudge_compiler::plan::Plan;
use nudge_compiler::{compile, load::load_paths};
use std::path::PathBuf;

/// A compiled program ready to run, or the exit code to stop with.
// One per command: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    Ready(Plan),
    /// The program has errors (already printed): exit 1.
    Failed,
}

/// Reads, compiles and prints diagnostics; warnings are printed too unless `quiet`.
pub fn load(paths: &[PathBuf], quiet: bool) -> anyhow::Result<Loaded> {
    let sources = load_paths(paths)?;
    if sources.is_empty() {
        anyhow::bail!("no *.nudge files found in {}", show(paths));
    }
    let compiled = compile(&sources);
    if compiled.has_errors() {
        render::eprint_all(&sources, &compiled.diagnostics);
        return Ok(Loaded::Failed);
    }
    if !quiet && !compiled.diagnostics.is_empty() {
        render::eprint_all(&sources, &compiled.diagnostics);
    }
    let plan = compiled.plan.expect("no errors, so a plan");
    Ok(Loaded::Ready(plan))
}

fn show(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
