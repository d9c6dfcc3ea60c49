//! The command line: argument definitions and dispatch to the subcommands.

mod check;
mod compile;
mod config;
mod explain;
mod gen;
mod load;
mod reload;
mod render;
mod run;
mod scenarios;

use clap::{Parser, Subcommand, ValueEnum};
pub use config::parse;
use std::path::PathBuf;
use std::process::ExitCode;

/// nudge: a pattern language and streaming runtime for real-time e-commerce marketing.
#[derive(Debug, Parser)]
#[command(name = "nudge", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check pattern files: print errors and warnings (exit 0 clean or warnings, 1 errors).
    Check {
        /// `*.nudge` files and directories (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show the compiled NFAs.
    Compile {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Tell, event by event, why a rule did or did not fire for one key.
    Explain {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The input file (JSON lines, or CSV with a header when it ends in .csv).
        #[arg(long)]
        input: PathBuf,
        /// The key to follow (its value, as in the events).
        #[arg(long)]
        key: String,
        /// The rule (pattern name); default: every pattern.
        #[arg(long)]
        rule: Option<String>,
    },
    /// Run the program over events.
    Run(Box<run::RunArgs>),
    /// Generate realistic shop traffic as JSON lines.
    Gen(gen::GenArgs),
    /// Run scenarios (`*.scenario`) and compare what comes out with their snapshots
    /// (exit 0 all pass, 1 failures).
    Test {
        /// Folders (every `*.scenario` under one runs against every `*.nudge` under it)
        /// or `*.scenario` files (run against the `*.nudge` files of their folder).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Accept what the scenarios give now: write every snapshot.
        #[arg(long)]
        accept: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Dot,
    Mermaid,
    Json,
}

/// Runs the chosen subcommand; `Err` is an I/O or usage problem (exit 2).
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { paths } => check::check(&paths),
        Command::Compile { paths, format } => compile::compile(&paths, format),
        Command::Explain {
            paths,
            input,
            key,
            rule,
        } => explain::explain(&paths, &input, &key, rule.as_deref()),
        Command::Run(args) => run::run(*args),
        Command::Gen(args) => gen::gen(args),
        Command::Test { paths, accept } => scenarios::test(&paths, accept),
    }
}
