//! Live rule reload (Kafka mode): on SIGHUP, or when the pattern files change (looked at
//! twice a second), the program is compiled again. A valid program is handed to the live
//! loop, which swaps it in (see `nudge_runtime::kafka::Reload`); a program with errors
//! is refused with its diagnostics and the old one keeps running. Every attempt is
//! logged with what changed.

use super::render;
use nudge_compiler::diff::ProgramDiff;
use nudge_compiler::load::load_paths;
use nudge_compiler::plan::Plan;
use nudge_compiler::{compile, diff};
use nudge_grammar::span::Sources;
use nudge_runtime::kafka::{self, Metrics, Reload, Reloads};
use nudge_runtime::models::{HttpCaller, ModelCaller};
use nudge_runtime::world::Resources;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often the pattern files are read to see whether they changed.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// What the watcher compares and needs.
struct Watcher {
    paths: Vec<PathBuf>,
    /// The program running now.
    current: Arc<Plan>,
    /// A hash of the pattern files' names and texts as last compiled.
    files: Option<u64>,
    reloads: Reloads,
    metrics: Arc<Metrics>,
    /// Whether profiles are written to Redis: a reload may then not change them.
    redis: bool,
}

/// Starts the watcher thread. SIGHUP is registered before this returns.
pub fn watch(
    paths: Vec<PathBuf>,
    current: Arc<Plan>,
    reloads: Reloads,
    metrics: Arc<Metrics>,
    redis: bool,
) -> std::io::Result<()> {
    let mut w = Watcher {
        files: files_hash(&load_paths(&paths)),
        paths,
        current,
        reloads,
        metrics,
        redis,
    };
    kafka::on_hangup_or_every(LOOK_EVERY, move |forced| w.look(forced))
}

/// A hash of the names and texts of the program's files (`None` if they cannot be read).
fn files_hash(sources: &std::io::Result<Sources>) -> Option<u64> {
    let sources = sources.as_ref().ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (_, file) in sources.iter() {
        file.path.hash(&mut h);
        file.text.hash(&mut h);
    }
    Some(h.finish())
}

/// Compiles the loaded files; on errors prints them and says why there is no program.
fn compile_sources(sources: std::io::Result<Sources>) -> Result<Plan, String> {
    let sources = match sources {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => return Err("no *.nudge files found".into()),
        Err(e) => return Err(e.to_string()),
    };
    let compiled = compile(&sources);
    if compiled.has_errors() {
        render::eprint_all(&sources, &compiled.diagnostics);
        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(format!("{errors} error(s) above"));
    }
    compiled.plan.ok_or_else(|| "no program".into())
}

impl Watcher {
    /// Compiles again if forced (SIGHUP) or if the files changed.
    fn look(&mut self, forced: bool) {
        let sources = load_paths(&self.paths);
        let now = files_hash(&sources);
        if !forced && now == self.files {
            return;
        }
        self.files = now;
        let why = if forced { "SIGHUP" } else { "files changed" };
        match compile_sources(sources) {
            Ok(plan) => {
                let changes = ProgramDiff::between(&self.current, &plan);
                if changes.is_empty() {
                    nudge_runtime::info!("reload", "reload ({why}): no change");
                    return;
                }
                if let Err(e) = self.refuse_redis_changes(&plan) {
                    self.refuse(why, &e);
                    return;
                }
                let (resources, bad_rows) = match Resources::load(&plan) {
                    Ok(r) => r,
                    Err(e) => return self.refuse(why, &e.to_string()),
                };
                for row in bad_rows {
                    nudge_runtime::warn!(
                        "reload",
                        "skipped bad line of a table or vectors file: {row}"
                    );
                }
                let models: Option<Arc<dyn ModelCaller>> = if plan.models.is_empty() {
                    None
                } else {
                    match HttpCaller::new(&plan) {
                        Ok(c) => Some(Arc::new(c)),
                        Err(e) => return self.refuse(why, &format!("model client: {e}")),
                    }
                };
                nudge_runtime::info!("reload", "reload ({why}): {changes}");
                let plan = Arc::new(plan);
                self.current = plan.clone();
                self.reloads.offer(Reload {
                    plan,
                    world: Arc::new(resources),
                    models,
                });
            }
            Err(reason) => self.refuse(why, &reason),
        }
    }

    fn refuse(&self, why: &str, reason: &str) {
        nudge_runtime::warn!(
            "reload",
            "reload ({why}) refused: {reason}; the running program goes on"
        );
        self.metrics.reloads_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Redis hashes are written from updates queued under the running program's
    /// profile layout; a reload may not change the profiles that have a `sink` (a
    /// restart applies such a change).
    fn refuse_redis_changes(&self, new: &Plan) -> Result<(), String> {
        if !self.redis {
            return Ok(());
        }
        let sinks = |plan: &Plan| -> Vec<(String, u64)> {
            (0..plan.profiles.len())
                .filter(|&i| plan.profiles[i].sink_redis.is_some())
                .map(|i| {
                    (
                        plan.profiles[i].name.clone(),
                        diff::profile_fingerprint(plan, i),
                    )
                })
                .collect()
        };
        let positions =
            |plan: &Plan| -> Vec<String> { plan.profiles.iter().map(|p| p.name.clone()).collect() };
        if sinks(&self.current) != sinks(new) || positions(&self.current) != positions(new) {
            return Err(
                "it changes a profile written to Redis (restart nudge to apply that)".into(),
            );
        }
        Ok(())
    }
}
