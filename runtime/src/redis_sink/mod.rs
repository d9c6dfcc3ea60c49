//! `sink redis` (LANGUAGE.md §8): keeps one Redis hash per profile key current.
//!
//! `engine outbox → ProfileSink::offer → backlog (coalesced by key, bounded) → writer
//! thread → pipelined MULTI/HSET/HDEL/EXEC`. The engine stays synchronous: the runner
//! drains its [`ProfileUpdate`]s between batches and offers them here, which only takes a
//! lock. One writer thread owns a plain (sync) connection and writes up to
//! [`RedisConfig::batch_keys`] hashes per round trip, each key's latest state only. A
//! failed write (Redis down, a timeout) is retried with exponential backoff, capped; while
//! Redis is away matching goes on and the backlog absorbs the updates, one entry per key.
//! [`RedisSink::finish`] waits, at most a given time, for the backlog to be written.

mod backlog;
mod encode;

pub use backlog::{Backlog, Offered};
pub use encode::{field_text, hash_name, HashWrite};

use crate::engine::ProfileUpdate;
use crate::runner::ProfileSink;
use nudge_compiler::plan::Plan;
use redis::RetryMethod;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://HOST:PORT[/DB]` (`--redis`).
    pub url: String,
    /// Distinct keys waiting at most; a new key's update beyond it is dropped (counted).
    pub max_backlog_keys: usize,
    /// Hashes per pipeline (one round trip).
    pub batch_keys: usize,
    /// The first wait after a failed write; doubled after each further failure.
    pub backoff_min: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// Connect, read and write timeout of one attempt.
    pub io_timeout: Duration,
    /// Print outages and recoveries on stderr.
    pub log: bool,
}

impl RedisConfig {
    pub const DEFAULT_MAX_BACKLOG_KEYS: usize = 1_000_000;

    pub fn new(url: &str) -> RedisConfig {
        RedisConfig {
            url: url.to_string(),
            max_backlog_keys: Self::DEFAULT_MAX_BACKLOG_KEYS,
            batch_keys: 2048,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            io_timeout: Duration::from_secs(5),
            log: true,
        }
    }
}

/// What the sink did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Profile updates offered (one per event that updated a profile with a sink).
    pub updates: u64,
    /// Updates replaced by a newer one of their key before they were written.
    pub coalesced: u64,
    /// Hashes written (a key once per pipeline).
    pub writes: u64,
    /// Pipelines written.
    pub batches: u64,
    /// Failed attempts (connect or pipeline), each followed by a wait and a retry.
    pub retries: u64,
    /// Updates lost because the backlog held `max_backlog_keys` other keys.
    pub dropped: u64,
    /// Hashes Redis refused for good (e.g. the key holds a string): not retried.
    pub rejected: u64,
    /// Keys not written when [`RedisSink::finish`]'s time ran out.
    pub unwritten: u64,
    /// Keys not written yet (waiting, or in the pipeline being written).
    pub backlog: u64,
    /// The last error Redis or the connection gave.
    pub last_error: Option<String>,
}

/// The sink could not start.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("bad Redis URL `{url}`: {source}")]
    Url {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("cannot start the Redis writer thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The profile sink of a run: offered updates go to Redis from a writer thread.
pub struct RedisSink {
    shared: Arc<Shared>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer when updates arrive or the sink closes.
    work: Condvar,
    /// Ends the writer's backoff wait early when the sink closes.
    closed: Condvar,
}

struct State {
    backlog: Backlog,
    stats: RedisStats,
    /// Set by `finish`: write what is left until then, then stop.
    deadline: Option<Instant>,
}

impl fmt::Debug for RedisSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSink").finish_non_exhaustive()
    }
}

impl RedisSink {
    /// Starts the writer thread. Does not connect yet: a Redis that is down at the start
    /// is an outage like any other.
    pub fn start(plan: Arc<Plan>, cfg: RedisConfig) -> Result<Arc<RedisSink>, RedisError> {
        let client = redis::Client::open(cfg.url.as_str()).map_err(|source| RedisError::Url {
            url: cfg.url.clone(),
            source,
        })?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                backlog: Backlog::new(cfg.max_backlog_keys),
                stats: RedisStats::default(),
                deadline: None,
            }),
            work: Condvar::new(),
            closed: Condvar::new(),
        });
        let writer = Writer {
            shared: shared.clone(),
            plan,
            client,
            cfg,
            con: None,
        };
        let handle = thread::Builder::new()
            .name("nudge-redis".into())
            .spawn(move || writer.run())?;
        Ok(Arc::new(RedisSink {
            shared,
            writer: Mutex::new(Some(handle)),
        }))
    }

    /// The counters so far.
    pub fn stats(&self) -> RedisStats {
        let st = self.shared.lock();
        let mut s = st.stats.clone();
        s.backlog = st.backlog.unwritten() as u64;
        s
    }

    /// Writes what is waiting, for at most `timeout`, stops the writer and returns the
    /// counters; keys still waiting then are counted in `unwritten`.
    pub fn finish(&self, timeout: Duration) -> RedisStats {
        self.close(Instant::now() + timeout);
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        self.stats()
    }

    fn close(&self, deadline: Instant) {
        let mut st = self.shared.lock();
        st.deadline = Some(st.deadline.map_or(deadline, |d| d.min(deadline)));
        self.shared.work.notify_all();
        self.shared.closed.notify_all();
    }
}

impl Drop for RedisSink {
    /// Without [`RedisSink::finish`], the writer stops at once (after its current
    /// attempt); nothing is waited for.
    fn drop(&mut self) {
        self.close(Instant::now());
    }
}

impl ProfileSink for RedisSink {
    fn unwritten(&self, partition: i32, release: bool) -> Vec<ProfileUpdate> {
        let mut st = self.shared.lock();
        let unwritten = st.backlog.unwritten_where(|u| u.partition == partition);
        if release {
            st.backlog.forget_where(|u| u.partition == partition);
        }
        unwritten
    }

    fn offer(&self, updates: Vec<ProfileUpdate>) {
        if updates.is_empty() {
            return;
        }
        let mut st = self.shared.lock();
        for u in updates {
            st.stats.updates += 1;
            match st.backlog.offer(u) {
                Offered::Queued => {}
                Offered::Coalesced => st.stats.coalesced += 1,
                Offered::Dropped => st.stats.dropped += 1,
            }
        }
        drop(st);
        self.shared.work.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writer thread.
struct Writer {
    shared: Arc<Shared>,
    plan: Arc<Plan>,
    client: redis::Client,
    cfg: RedisConfig,
    con: Option<redis::Connection>,
}

impl Writer {
    fn run(mut self) {
        let mut backoff = self.cfg.backoff_min;
        let mut failing_since: Option<(Instant, u64)> = None;
        while let Some(batch) = self.next_batch() {
            let n = batch.len();
            let mut pipe = redis::pipe();
            pipe.atomic();
            for u in &batch {
                let w = HashWrite::of(u, &self.plan);
                pipe.cmd("HSET").arg(&w.name).arg(&w.set).ignore();
                if !w.delete.is_empty() {
                    pipe.cmd("HDEL").arg(&w.name).arg(&w.delete).ignore();
                }
            }
            loop {
                let result = self.connection().and_then(|c| pipe.query::<()>(c));
                let mut st = self.shared.lock();
                match result {
                    Ok(()) => {
                        st.backlog.written(n);
                        st.stats.writes += n as u64;
                        st.stats.batches += 1;
                        if let Some((since, retries)) = failing_since.take() {
                            self.say(format_args!(
                                "written again after {:.1} s and {} retries",
                                since.elapsed().as_secs_f64(),
                                st.stats.retries - retries
                            ));
                        }
                        backoff = self.cfg.backoff_min;
                        break;
                    }
                    Err(e) if !retryable(&e) => {
                        st.backlog.written(n);
                        st.stats.rejected += n as u64;
                        st.stats.last_error = Some(e.to_string());
                        drop(st);
                        self.say(format_args!("{n} hashes refused, not retried: {e}"));
                        break;
                    }
                    Err(e) => {
                        self.con = None;
                        st.stats.retries += 1;
                        st.stats.last_error = Some(e.to_string());
                        if failing_since.is_none() {
                            failing_since = Some((Instant::now(), st.stats.retries - 1));
                            self.say(format_args!(
                                "{e}; retrying with backoff, matching goes on ({} keys waiting)",
                                st.backlog.waiting() + n
                            ));
                        }
                        let now = Instant::now();
                        if st.deadline.is_some_and(|d| now >= d) {
                            // Keys with a newer update waiting are counted with those.
                            let lost = batch.iter().filter(|u| !st.backlog.has_newer(u)).count();
                            st.backlog.written(n);
                            st.stats.unwritten += lost as u64;
                            break;
                        }
                        let wait = st
                            .deadline
                            .map_or(backoff, |d| backoff.min(d.saturating_duration_since(now)));
                        drop(
                            self.shared
                                .closed
                                .wait_timeout(st, wait)
                                .unwrap_or_else(|e| e.into_inner()),
                        );
                        backoff = (backoff * 2).min(self.cfg.backoff_max);
                    }
                }
            }
        }
    }

    /// The next keys to write; `None` when the sink is closed and nothing is left to
    /// write (or its time ran out: what waits is counted as unwritten).
    fn next_batch(&self) -> Option<Vec<ProfileUpdate>> {
        let mut st = self.shared.lock();
        loop {
            if let Some(deadline) = st.deadline {
                if st.backlog.is_empty() {
                    return None;
                }
                if Instant::now() >= deadline {
                    let left = st.backlog.waiting();
                    st.backlog.take(left);
                    st.backlog.written(left);
                    st.stats.unwritten += left as u64;
                    return None;
                }
            }
            if !st.backlog.is_empty() {
                return Some(st.backlog.take(self.cfg.batch_keys.max(1)));
            }
            st = self.shared.work.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn connection(&mut self) -> redis::RedisResult<&mut redis::Connection> {
        if self.con.is_none() {
            let con = self
                .client
                .get_connection_with_timeout(self.cfg.io_timeout)?;
            con.set_read_timeout(Some(self.cfg.io_timeout))?;
            con.set_write_timeout(Some(self.cfg.io_timeout))?;
            self.con = Some(con);
        }
        Ok(self.con.as_mut().expect("connected"))
    }

    fn say(&self, msg: fmt::Arguments<'_>) {
        if self.cfg.log {
            crate::info!("redis", "redis {}: {msg}", self.cfg.url);
        }
    }
}

/// Whether a failed write may succeed later: connection trouble, timeouts, a server
/// loading its data or failing over. A command Redis refuses (a key of another type)
/// is not retried.
fn retryable(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.kind() == redis::ErrorKind::ReadOnly
        || !matches!(e.retry_method(), RetryMethod::NoRetry)
}
