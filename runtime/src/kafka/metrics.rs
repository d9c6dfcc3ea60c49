//! Counters of a Kafka run and a tiny HTTP endpoint serving them as Prometheus text.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What a running service has done, updated by the live loop and the sink.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Records read from the input topics (blank ones excepted).
    pub records_in: AtomicU64,
    /// Accepted events.
    pub events_in: AtomicU64,
    /// Records of undeclared types.
    pub ignored: AtomicU64,
    /// Records produced to the output topics.
    pub records_out: AtomicU64,
    /// Dead letters produced (late ones included).
    pub dead_letters: AtomicU64,
    pub late: AtomicU64,
    /// Wall-clock ms since the epoch minus the program's watermark (0 before one).
    pub watermark_lag_ms: AtomicI64,
    pub watermark_ms: AtomicI64,
    pub runs_alive: AtomicU64,
    pub keys_alive: AtomicU64,
    pub partitions_assigned: AtomicU64,
    /// Events waiting in the reorder buffer for the watermark.
    pub events_buffered: AtomicU64,
    /// Wall-clock time of the last checkpoint, epoch ms (0 before the first).
    pub checkpoint_ms: AtomicI64,
    /// Checkpoints written (one per task each time).
    pub checkpoints: AtomicU64,
    /// Keys whose state came from a checkpoint when a partition was assigned.
    pub keys_restored: AtomicU64,
    /// Live reloads: applied, and refused because the new program had errors.
    pub reloads: AtomicU64,
    pub reloads_refused: AtomicU64,
    /// Records produced per rule (pattern or trending `emit`).
    pub by_rule: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Counts `n` more records of `rule`.
    pub fn records_of(&self, rule: &str, n: u64) {
        let mut m = self.by_rule.lock().unwrap_or_else(|e| e.into_inner());
        match m.get_mut(rule) {
            Some(total) => *total += n,
            None => {
                m.insert(rule.to_string(), n);
            }
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every counter and gauge.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut one = |name: &str, kind: &str, help: &str, value: i64| {
            out.push_str(&format!(
                "# HELP nudge_{name} {help}\n# TYPE nudge_{name} {kind}\nnudge_{name} {value}\n"
            ));
        };
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed) as i64;
        one(
            "records_in_total",
            "counter",
            "Records read from the input topics.",
            get(&self.records_in),
        );
        one(
            "events_in_total",
            "counter",
            "Accepted events.",
            get(&self.events_in),
        );
        one(
            "ignored_total",
            "counter",
            "Records of undeclared event types.",
            get(&self.ignored),
        );
        one(
            "records_out_total",
            "counter",
            "Records produced to the output topics.",
            get(&self.records_out),
        );
        one(
            "dead_letters_total",
            "counter",
            "Bad records sent to the dead-letter topic.",
            get(&self.dead_letters),
        );
        one(
            "late_total",
            "counter",
            "Events that arrived below their partition's watermark.",
            get(&self.late),
        );
        one(
            "watermark_lag_ms",
            "gauge",
            "Wall-clock time minus the program's watermark, in ms.",
            self.watermark_lag_ms.load(Ordering::Relaxed),
        );
        one(
            "watermark_ms",
            "gauge",
            "The program's watermark (epoch ms).",
            self.watermark_ms.load(Ordering::Relaxed),
        );
        one(
            "runs_alive",
            "gauge",
            "Pattern runs in flight.",
            get(&self.runs_alive),
        );
        one(
            "keys_alive",
            "gauge",
            "Keys holding state.",
            get(&self.keys_alive),
        );
        one(
            "partitions_assigned",
            "gauge",
            "Input partitions this process owns.",
            get(&self.partitions_assigned),
        );
        one(
            "events_buffered",
            "gauge",
            "Events waiting for the watermark.",
            get(&self.events_buffered),
        );
        let last = self.checkpoint_ms.load(Ordering::Relaxed);
        let age = if last == 0 {
            -1
        } else {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            (now - last).max(0) / 1000
        };
        one(
            "checkpoint_age_seconds",
            "gauge",
            "Seconds since the last checkpoint (-1 before the first).",
            age,
        );
        one(
            "checkpoints_total",
            "counter",
            "Task checkpoints written.",
            get(&self.checkpoints),
        );
        one(
            "keys_restored_total",
            "counter",
            "Keys restored from checkpoints on assignment.",
            get(&self.keys_restored),
        );
        one(
            "reloads_total",
            "counter",
            "Programs reloaded and swapped in.",
            get(&self.reloads),
        );
        one(
            "reloads_refused_total",
            "counter",
            "Reloads refused because the new program had errors.",
            get(&self.reloads_refused),
        );
        out.push_str("# HELP nudge_rule_records_out_total Records produced, per rule.\n");
        out.push_str("# TYPE nudge_rule_records_out_total counter\n");
        for (rule, n) in self
            .by_rule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            out.push_str(&format!(
                "nudge_rule_records_out_total{{rule=\"{}\"}} {n}\n",
                rule.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        out
    }
}

/// Serves `GET /metrics` (any path, in fact) on `addr` from a background thread; returns
/// the bound address (port 0 picks a free one).
pub fn serve_metrics(addr: &str, metrics: Arc<Metrics>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    thread::Builder::new()
        .name("nudge-metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                // Read the request head; its content does not matter.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = metrics.render();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
            }
        })?;
    Ok(local)
}
