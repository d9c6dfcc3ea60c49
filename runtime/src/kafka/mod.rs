//! Kafka mode: `nudge run --brokers ...` as a streaming service on a consumer group.
//!
//! The data path: consumer (`source.rs`) → decode → reorder (one input per topic
//! partition, the idle rule) → global stage (with the broadcast of `globals.rs`) → the
//! tasks' engines (on the threads of `crew.rs`) → merger → producer (`sink.rs`). The
//! live loop (`live.rs`) is the only place with a clock: it moves idle partitions'
//! watermarks by wall-clock time (LANGUAGE.md §2 `idle`, §9); the engine stays
//! synchronous and deterministic.
//!
//! A task (partition P of every input topic) is the unit of state: checkpointed with
//! the offsets it reflects (`checkpoint.rs`) every few seconds, on revoke and on stop,
//! restored wherever the partition goes next. Delivery is at least once, with a
//! deterministic `nudge-id` on every record, or exactly once with transactions
//! (`--exactly-once`); docs/operations.md says which guarantees hold where.

mod checkpoint;
mod crew;
mod globals;
mod live;
mod metrics;
mod sink;
mod source;

pub use live::run;
pub use metrics::{serve_metrics, Metrics};

use crate::eval::World;
use crate::models::ModelCaller;
use nudge_compiler::plan::Plan;
use rdkafka::error::KafkaError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// Where and how to run on Kafka.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, `HOST:PORT[,HOST:PORT...]`.
    pub brokers: String,
    /// Input topics; each partition is an input.
    pub topics: Vec<String>,
    /// The main output; `into "NAME"` goes to the topic NAME.
    pub output_topic: String,
    pub dead_letter_topic: String,
    /// The consumer group: processes with the same group share the partitions.
    pub group: String,
    /// librdkafka properties for every client (consumer and producer), applied last
    /// (SASL, TLS, timeouts...).
    pub properties: Vec<(String, String)>,
    /// How long the loop waits for records before it moves the clock (idle rule).
    pub tick: Duration,
    /// Where checkpoints are written besides the checkpoint topic.
    pub state_dir: Option<PathBuf>,
    /// How often every owned task is checkpointed (and its offsets committed).
    pub checkpoint_interval: Duration,
    /// Commit outputs, checkpoints and consumer offsets in one transaction per
    /// checkpoint (the brokers must support transactions).
    pub exactly_once: bool,
}

impl KafkaConfig {
    /// A configuration with no extra properties and a 20 ms tick.
    pub fn new(brokers: &str, topics: &[&str], output: &str, dead: &str, group: &str) -> Self {
        KafkaConfig {
            brokers: brokers.to_string(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            output_topic: output.to_string(),
            dead_letter_topic: dead.to_string(),
            group: group.to_string(),
            properties: Vec::new(),
            tick: Duration::from_millis(20),
            state_dir: None,
            checkpoint_interval: Duration::from_secs(10),
            exactly_once: false,
        }
    }
}

/// A new program for a running [`run`] (live reload): swapped in between two polls.
pub struct Reload {
    pub plan: Arc<Plan>,
    pub world: Arc<dyn World + Send + Sync>,
    /// The model client of the new program (`None`: no models, or calls answered by
    /// their fallbacks).
    pub models: Option<Arc<dyn ModelCaller>>,
}

/// Hands a [`Reload`] to a running [`run`]; the newest one offered wins. Cloned freely
/// (the file watcher holds one).
#[derive(Clone, Default)]
pub struct Reloads(Arc<Mutex<Option<Reload>>>);

impl Reloads {
    pub fn new() -> Reloads {
        Reloads::default()
    }

    /// Offers a new program; it replaces one not yet taken.
    pub fn offer(&self, reload: Reload) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(reload);
    }

    /// The program waiting to be swapped in, if any.
    pub fn take(&self) -> Option<Reload> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Asks a running [`run`] to stop: it flushes, commits and returns. Cloned freely (a
/// signal handler holds one).
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Requests the stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a Kafka run failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("input topic `{0}` does not exist or has no partitions")]
    NoTopic(String),
    #[error("{failed} output records were not acknowledged by the broker; offsets not committed")]
    Undelivered { failed: u64 },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Requests `stop` on SIGINT or SIGTERM (from a small background thread running tokio's
/// signal handling). A second signal is left to the default action, so a stuck stop can
/// still be interrupted.
pub fn stop_on_signals(stop: Stop) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Register before returning, so that no early signal is missed.
    let mut term = rt.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    })?;
    std::thread::Builder::new()
        .name("nudge-signals".into())
        .spawn(move || {
            rt.block_on(async {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            });
            stop.stop();
        })?;
    Ok(())
}

/// Calls `look(true)` on every SIGHUP and `look(false)` every `every`, from a background
/// thread (the live reload's file watcher). SIGHUP is registered before this returns.
pub fn on_hangup_or_every(
    every: Duration,
    mut look: impl FnMut(bool) + Send + 'static,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut hup = rt.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    })?;
    std::thread::Builder::new()
        .name("nudge-reload".into())
        .spawn(move || {
            rt.block_on(async {
                loop {
                    let forced = tokio::select! {
                        _ = hup.recv() => true,
                        _ = tokio::time::sleep(every) => false,
                    };
                    look(forced);
                }
            })
        })?;
    Ok(())
}
