//! `nudge compile`: the compiled NFAs as text, dot, mermaid or json.

use super::load::{load, Loaded};
use super::Format;
use nudge_compiler::nfa;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn compile(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let Loaded::Ready(plan) = load(paths, false)? else {
        return Ok(ExitCode::from(1));
    };
    let out = match format {
        Format::Text => nfa::to_text(&plan),
        Format::Dot => nfa::to_dot(&plan),
        Format::Mermaid => nfa::to_mermaid(&plan),
        Format::Json => nfa::to_json(&plan),
    };
    print!("{out}");
    if !out.ends_with('\n') {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
