//! `nudge check`: print every error and warning of a program.

use super::render;
use nudge_compiler::{compile, load::load_paths};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn check(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let sources = load_paths(paths)?;
    if sources.is_empty() {
        anyhow::bail!("no *.nudge files found");
    }
    let compiled = compile(&sources);
    render::eprint_all(&sources, &compiled.diagnostics);
    if compiled.has_errors() {
        return Ok(ExitCode::from(1));
    }
    let n = compiled.plan.as_ref().map_or(0, |p| p.patterns.len());
    eprintln!(
        "ok: {} file{}, {} pattern{}",
        sources.len(),
        plural(sources.len()),
        n,
        plural(n)
    );
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
