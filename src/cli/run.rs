//! `nudge run`: run a program over files or stdin, or as a service on Kafka (`--brokers`).

use super::load::{load, Loaded};
use super::reload;
use anyhow::Context;
use clap::Args;
use nudge_compiler::plan::Plan;
use nudge_runtime::decode::DeadLetter;
use nudge_runtime::engine::{EngineConfig, Output};
use nudge_runtime::kafka::{self, serve_metrics, KafkaConfig, Metrics, Reloads, Stop};
use nudge_runtime::models::{HttpCaller, ModelCaller};
use nudge_runtime::redis_sink::{RedisConfig, RedisSink};
use nudge_runtime::runner::{self, Input, ProfileSink, RunOptions, Sink, Summary};
use nudge_runtime::world::Resources;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `*.nudge` files and directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Take the Kafka, Redis and engine settings from this TOML file (default:
    /// `./nudge.toml` when it exists); flags win over the file. See "Settings file" in
    /// docs/operations.md.
    #[arg(long, value_name = "FILE")]
    #[allow(dead_code)] // read from the matches, before parsing (cli/config.rs)
    config: Option<PathBuf>,
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
    /// Engine shards (threads), fed by key hash; on Kafka, the threads that drive the
    /// tasks' engines.
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// In-flight runs per key per pattern before new runs are refused.
    #[arg(long, default_value_t = EngineConfig::default().max_runs_per_key)]
    max_runs_per_key: usize,
    /// Read, decode and order the input but match nothing (benchmark baseline).
    #[arg(long, hide = true)]
    decode_only: bool,
    /// Events per quantified step before a group stops growing.
    #[arg(long, default_value_t = EngineConfig::default().max_group_len)]
    max_group_len: usize,
    /// Kafka mode: the brokers (`HOST:PORT[,HOST:PORT...]`); runs until SIGINT/SIGTERM.
    #[arg(
        long,
        conflicts_with_all = ["inputs", "output", "dead_letter", "until"],
        requires_all = ["topics", "output_topic", "dead_letter_topic", "group"]
    )]
    brokers: Option<String>,
    /// Kafka mode: an input topic (each partition is an input); repeat for several.
    #[arg(long = "topic", requires = "brokers")]
    topics: Vec<String>,
    /// Kafka mode: the main output topic (`into "NAME"` goes to the topic NAME).
    #[arg(long, requires = "brokers")]
    output_topic: Option<String>,
    /// Kafka mode: the topic for bad and late records.
    #[arg(long, requires = "brokers")]
    dead_letter_topic: Option<String>,
    /// Kafka mode: the consumer group (processes of one group share the partitions).
    #[arg(long, requires = "brokers")]
    group: Option<String>,
    /// Kafka mode: a directory for checkpoints (also written to the topic
    /// `GROUP.checkpoints`, which another machine restores from).
    #[arg(long, requires = "brokers")]
    state_dir: Option<PathBuf>,
    /// Kafka mode: how often every owned partition is checkpointed and its offsets
    /// committed (`10s`, `500ms`, `2m`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_wait, requires = "brokers")]
    checkpoint_interval: Duration,
    /// Kafka mode: commit records, checkpoints and offsets in one transaction per
    /// checkpoint (exactly once for `read_committed` readers; the brokers must support
    /// transactions). Without it: at least once, repeats carrying the same `nudge-id`.
    #[arg(long, requires = "brokers")]
    exactly_once: bool,
    /// Kafka mode: a librdkafka property for every client (e.g. `security.protocol=SASL_SSL`);
    /// repeat for several.
    #[arg(long = "kafka-property", value_name = "KEY=VALUE", requires = "brokers", value_parser = parse_property)]
    kafka_properties: Vec<(String, String)>,
    /// Keep the hashes of profiles with `sink redis` current on this server
    /// (`redis://HOST:PORT[/DB]`); without it, profiles live in memory only.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Distinct keys waiting for Redis at most (while it is slow or down); updates of
    /// further keys are dropped and counted.
    #[arg(long, value_name = "KEYS", default_value_t = RedisConfig::DEFAULT_MAX_BACKLOG_KEYS, requires = "redis")]
    redis_max_backlog: usize,
    /// At the end of a run, how long to wait for the Redis backlog to be written
    /// (`30s`, `500ms`, `2m`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_wait, requires = "redis")]
    redis_drain_timeout: Duration,
    /// How service messages go to stderr: `text` (`nudge: ...` lines) or `json` (one
    /// object per line: ts, level, component, msg).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Kafka mode: serve Prometheus metrics on this address (`GET /metrics`).
    #[arg(long, value_name = "HOST:PORT", requires = "brokers")]
    metrics_addr: Option<String>,
}

/// `30s`, `500ms`, `2m`, or a number of seconds.
fn parse_wait(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s or 500ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("`{s}` is not a duration like 30s or 500ms")),
    }
}

/// Starts the Redis sink when `--redis` is given and some profile has `sink redis`;
/// says once on stderr when one of them is off.
fn start_redis(args: &RunArgs, plan: &Arc<Plan>) -> anyhow::Result<Option<Arc<RedisSink>>> {
    let sinks: Vec<&str> = plan
        .profiles
        .iter()
        .filter(|p| p.sink_redis.is_some())
        .map(|p| p.name.as_str())
        .collect();
    match (&args.redis, sinks.is_empty()) {
        (None, true) => Ok(None),
        (None, false) => {
            nudge_runtime::info!(
                "run",
                "no --redis given: the Redis sink of profile {} is off (profiles are kept in memory only)",
                sinks.join(", ")
            );
            Ok(None)
        }
        (Some(_), true) => {
            nudge_runtime::info!(
                "run",
                "--redis: no profile has `sink redis`; nothing will be written"
            );
            Ok(None)
        }
        (Some(url), false) => {
            let cfg = RedisConfig {
                max_backlog_keys: args.redis_max_backlog.max(1),
                ..RedisConfig::new(url)
            };
            Ok(Some(RedisSink::start(plan.clone(), cfg)?))
        }
    }
}

/// Waits for the Redis backlog and says what the sink did.
fn finish_redis(sink: Option<Arc<RedisSink>>, wait: Duration) {
    let Some(sink) = sink else {
        return;
    };
    let s = sink.finish(wait);
    nudge_runtime::info!(
        "redis",
        "redis: {} profile updates, {} hashes written in {} pipelines, {} coalesced, {} retries, {} dropped (backlog full), {} refused, {} not written",
        s.updates, s.writes, s.batches, s.coalesced, s.retries, s.dropped, s.rejected, s.unwritten
    );
    if s.dropped + s.rejected + s.unwritten > 0 {
        nudge_runtime::warn!(
            "redis",
            "redis: some hashes are not current{}",
            s.last_error
                .map_or_else(String::new, |e| format!(" (last error: {e})"))
        );
    }
}

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    nudge_runtime::log::set_json(args.log_format == LogFormat::Json);
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
        nudge_runtime::warn!("run", "skipped bad line of a table or vectors file: {row}");
    }
    // Model calls go over HTTP; a program without models starts no client.
    let models: Option<Arc<dyn ModelCaller>> = if plan.models.is_empty() {
        None
    } else {
        Some(Arc::new(
            HttpCaller::new(&plan).context("cannot start the model client")?,
        ))
    };
    let plan = Arc::new(plan);
    let redis = start_redis(&args, &plan)?;
    let profile_sink = redis.clone().map(|r| r as Arc<dyn ProfileSink>);
    // One set of options for both modes (`--until` is refused with `--brokers`; Kafka
    // mode has no decode-only pass).
    let opts = RunOptions {
        until,
        shards: args.shards.max(1),
        engine: EngineConfig {
            max_runs_per_key: args.max_runs_per_key.max(1),
            max_group_len: args.max_group_len.max(1),
        },
        decode_only: args.decode_only,
        models,
        profile_sink,
        ..RunOptions::default()
    };
    if args.brokers.is_some() {
        let code = run_kafka(&args, plan, resources, &opts);
        finish_redis(redis, args.redis_drain_timeout);
        return code;
    }
    let mut inputs = Vec::new();
    for name in &args.inputs {
        inputs.push(open_input(name)?);
    }
    let mut sink = FileSink::new(&args.output, args.dead_letter.as_deref())?;
    let summary = runner::run(plan, Arc::new(resources), inputs, &opts, &mut sink)?;
    sink.finish()?;
    sink.print_summary(&summary);
    finish_redis(redis, args.redis_drain_timeout);
    Ok(ExitCode::SUCCESS)
}

/// Kafka mode: runs until SIGINT/SIGTERM, then flushes, commits and exits 0.
fn run_kafka(
    args: &RunArgs,
    plan: Arc<Plan>,
    resources: Resources,
    opts: &RunOptions,
) -> anyhow::Result<ExitCode> {
    let required = |v: &Option<String>| v.clone().unwrap_or_default();
    let cfg = KafkaConfig {
        brokers: required(&args.brokers),
        topics: args.topics.clone(),
        output_topic: required(&args.output_topic),
        dead_letter_topic: required(&args.dead_letter_topic),
        group: required(&args.group),
        properties: args.kafka_properties.clone(),
        state_dir: args.state_dir.clone(),
        checkpoint_interval: args.checkpoint_interval,
        exactly_once: args.exactly_once,
        ..KafkaConfig::new("", &[], "", "", "")
    };
    warn_on_key_mismatch(&plan);
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = &args.metrics_addr {
        let bound = serve_metrics(addr, metrics.clone())
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        nudge_runtime::info!("run", "metrics on http://{bound}/metrics");
    }
    let stop = Stop::new();
    kafka::stop_on_signals(stop.clone()).context("cannot handle signals")?;
    let reloads = Reloads::new();
    reload::watch(
        args.paths.clone(),
        plan.clone(),
        reloads.clone(),
        metrics.clone(),
        opts.profile_sink.is_some(),
    )
    .context("cannot watch the pattern files")?;
    nudge_runtime::info!(
        "run",
        "consuming {} as group {}, {}, engines on {} (stop with Ctrl-C or SIGTERM)",
        cfg.topics.join(", "),
        cfg.group,
        if cfg.exactly_once {
            "exactly once (transactions)"
        } else {
            "at least once"
        },
        match opts.shards {
            1 => "1 thread".to_string(),
            n => format!("{n} threads"),
        }
    );
    let started = Instant::now();
    let s = kafka::run(
        plan,
        Arc::new(resources),
        opts,
        &cfg,
        &stop,
        &reloads,
        metrics,
    )?;
    nudge_runtime::info!(
        "run",
        "stopped after {:.1} s: {} records read, {} events, {} ignored, {} dead letters, {} records out; checkpointed and committed",
        started.elapsed().as_secs_f64(),
        s.read,
        s.accepted,
        s.ignored,
        s.dead_total(),
        s.records
    );
    Ok(ExitCode::SUCCESS)
}

/// Kafka partitions by the record key: a pattern keyed on another field than the
/// input's `key` sees its keys spread over partitions (and processes).
fn warn_on_key_mismatch(plan: &nudge_compiler::plan::Plan) {
    let Some(key) = plan.input.key else {
        return;
    };
    for p in &plan.patterns {
        if p.key != key {
            nudge_runtime::warn!(
                "run",
                "warning: pattern `{}` is keyed by `{}`, not by the input key `{}`: the input topics must be partitioned by the pattern's key, or its events spread over partitions and processes",
                p.name, plan.fields[p.key.0 as usize], plan.fields[key.0 as usize]
            );
        }
    }
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
            "nudge: runs started {}, expired {}, negated {}, broken by `then next` {}, discarded after a match {}; {} run-event reactions",
            e.runs_started, e.runs_expired, e.runs_negated, e.runs_broken, e.runs_discarded, e.reactions
        );
        for m in &s.models {
            eprintln!(
                "nudge: model {}: {} calls, {} ok, {} timeouts, {} errors, {} bad JSON (the failed ones got the fallback)",
                m.name, m.calls, m.ok, m.timeouts, m.errors, m.bad_json
            );
        }
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
