//! `nudge run`: run a program over files or stdin (Kafka mode: planned).

use super::load::{load, Loaded};
use anyhow::Context;
use clap::Args;
use nudge_runtime::decode::DeadLetter;
use nudge_runtime::engine::{EngineConfig, Output};
use nudge_runtime::runner::{self, Input, RunOptions, Sink, Summary};
use nudge_runtime::world::Resources;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `*.nudge` files and directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// An input file (JSON lines, or CSV with a header when it ends in .csv), or `-`
    /// for stdin; repeat for several inputs.
    #[arg(long = "input", default_value = "-")]
    inputs: Vec<String>,
    /// The main output file, or `-` for stdout.
    #[arg(long, default_value = "-")]
    output: String,
    /// Where bad records go (JSON lines); default: counted only.
    #[arg(long)]
    dead_letter: Option<PathBuf>,
    /// Stop event time here (epoch ms, RFC 3339, or `YYYY-MM-DD HH:MM:SS`).
    #[arg(long)]
    until: Option<String>,
    /// Engine shards (threads), fed by key hash.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// In-flight runs per key per pattern before new runs are refused.
    #[arg(long, default_value_t = EngineConfig::default().max_runs_per_key)]
    max_runs_per_key: usize,
    /// Events per quantified step before a group stops growing.
    #[arg(long, default_value_t = EngineConfig::default().max_group_len)]
    max_group_len: usize,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let Loaded::Ready(plan) = load(&args.paths, true)? else {
        return Ok(ExitCode::from(1));
    };
    let until = match &args.until {
        None => None,
        Some(t) => Some(
            nudge_runtime::time::parse_time_str(t)
                .or_else(|| t.parse::<i64>().ok())
                .with_context(|| format!("--until: `{t}` is not a time"))?,
        ),
    };
    let (resources, bad_rows) = Resources::load(&plan)?;
    for row in bad_rows {
        eprintln!("nudge: skipped table row: {row}");
    }
    let mut inputs = Vec::new();
    for name in &args.inputs {
        inputs.push(open_input(name)?);
    }
    let opts = RunOptions {
        until,
        shards: args.shards.max(1),
        engine: EngineConfig {
            max_runs_per_key: args.max_runs_per_key.max(1),
            max_group_len: args.max_group_len.max(1),
        },
        ..RunOptions::default()
    };
    let mut sink = FileSink::new(&args.output, args.dead_letter.as_deref())?;
    let summary = runner::run(
        Arc::new(plan),
        Arc::new(resources),
        inputs,
        &opts,
        &mut sink,
    )?;
    sink.finish()?;
    sink.print_summary(&summary);
    Ok(ExitCode::SUCCESS)
}

/// Opens `-` (stdin) or a file; the `source` is the file's stem.
pub fn open_input(name: &str) -> anyhow::Result<Input> {
    if name == "-" {
        return Ok(Input {
            source: Arc::from("stdin"),
            reader: Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
            csv: false,
        });
    }
    let path = Path::new(name);
    let file = File::open(path).with_context(|| format!("cannot open input {name}"))?;
    let stem = path
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Input {
        source: Arc::from(stem.as_str()),
        reader: Box::new(BufReader::with_capacity(1 << 16, file)),
        csv: path.extension().is_some_and(|e| e == "csv"),
    })
}

/// File-mode outputs: the main output, `NAME.jsonl` beside it for `into "NAME"`, and
/// the dead-letter file.
struct FileSink {
    main: Box<dyn Write>,
    dir: PathBuf,
    named: BTreeMap<Arc<str>, BufWriter<File>>,
    dead: Option<BufWriter<File>>,
    started: Instant,
    progress: bool,
}

impl FileSink {
    fn new(output: &str, dead_letter: Option<&Path>) -> anyhow::Result<FileSink> {
        let (main, dir): (Box<dyn Write>, PathBuf) = if output == "-" {
            (Box::new(BufWriter::new(io::stdout())), PathBuf::from("."))
        } else {
            let path = Path::new(output);
            let file =
                File::create(path).with_context(|| format!("cannot create output {output}"))?;
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (Box::new(BufWriter::new(file)), dir)
        };
        let dead = match dead_letter {
            None => None,
            Some(p) => Some(BufWriter::new(File::create(p).with_context(|| {
                format!("cannot create dead-letter file {}", p.display())
            })?)),
        };
        Ok(FileSink {
            main,
            dir,
            named: BTreeMap::new(),
            dead,
            started: Instant::now(),
            progress: io::stderr().is_terminal(),
        })
    }

    fn finish(&mut self) -> io::Result<()> {
        self.main.flush()?;
        for w in self.named.values_mut() {
            w.flush()?;
        }
        if let Some(d) = &mut self.dead {
            d.flush()?;
        }
        Ok(())
    }

    fn print_summary(&self, s: &Summary) {
        if self.progress {
            eprint!("\r\x1b[K");
        }
        let secs = self.started.elapsed().as_secs_f64();
        let dead: Vec<String> = s
            .dead
            .iter()
            .map(|(r, n)| format!("{} {}", n, r.as_str()))
            .collect();
        eprintln!(
            "nudge: {} records read, {} events, {} ignored (undeclared type), {} dead letters{}, {} records out, {:.0} events/s",
            s.read,
            s.accepted,
            s.ignored,
            s.dead_total(),
            if dead.is_empty() { String::new() } else { format!(" ({})", dead.join(", ")) },
            s.records,
            s.read as f64 / secs.max(1e-9),
        );
        let e = &s.engine;
        if s.after_until > 0 {
            eprintln!(
                "nudge: {} events at or after --until ignored",
                s.after_until
            );
        }
        eprintln!(
            "nudge: matches {}, emitted {}, dropped by cooldown {}, key missing {}",
            e.matches, e.emitted, e.cooldown_dropped, e.key_missing
        );
        eprintln!(
            "nudge: runs started {}, expired {}, negated {}, broken by `then next` {}, discarded after a match {}",
            e.runs_started, e.runs_expired, e.runs_negated, e.runs_broken, e.runs_discarded
        );
        if e.runs_refused > 0 || e.group_capped > 0 {
            eprintln!(
                "nudge: caps hit: {} runs refused (--max-runs-per-key), {} events not added to full groups (--max-group-len)",
                e.runs_refused, e.group_capped
            );
        }
    }
}

impl Sink for FileSink {
    fn record(&mut self, out: &Output) -> io::Result<()> {
        let w: &mut dyn Write = match &out.into {
            None => &mut self.main,
            Some(name) => {
                if !self.named.contains_key(name) {
                    let path = self.dir.join(format!("{name}.jsonl"));
                    let file = File::create(&path)?;
                    self.named.insert(name.clone(), BufWriter::new(file));
                }
                self.named.get_mut(name).expect("inserted")
            }
        };
        w.write_all(out.json.as_bytes())?;
        w.write_all(b"\n")
    }

    fn dead_letter(&mut self, dead: &DeadLetter) -> io::Result<()> {
        if let Some(d) = &mut self.dead {
            d.write_all(dead.to_json().as_bytes())?;
            d.write_all(b"\n")?;
        }
        Ok(())
    }

    fn progress(&mut self, s: &Summary) {
        if self.progress {
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r\x1b[K{} events, {:.0} events/s, {} records, {} dead letters",
                s.read,
                s.read as f64 / secs,
                s.records,
                s.dead_total()
            );
        }
    }
}
