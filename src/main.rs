//! `nudge`: check, compile, run and test pattern programs.
//!
//! The pipeline is `pattern file → AST → checked program → Plan (NFAs) → engine`; this
//! binary is its front door. Each subcommand lives in its own module under `cli/`; the
//! diagnostics of every stage are rendered here and nowhere else.

mod cli;

use std::process::ExitCode;

/// The engine allocates and frees small objects per event (runs, bindings, values,
/// records); mimalloc's per-thread free lists serve that faster than the system
/// allocator and keep the engine threads from contending (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match cli::parse().and_then(cli::dispatch) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nudge: {e:#}");
            ExitCode::from(2)
        }
    }
}
