//! `nudge test`: runs scenarios (`*.scenario`) and compares them with their snapshots.
//!
//! For each folder named, every scenario under it runs against the program made of every
//! `*.nudge` under it; a scenario file named alone runs against the `*.nudge` files of its
//! folder. A scenario passes when its snapshot (made by
//! [`nudge_runtime::scenario::snapshot_of`], the function the project's own insta test
//! uses) equals the accepted `NAME.snap` beside it. A mismatch prints a line diff and
//! writes `NAME.snap.new`; a missing snapshot is written as `NAME.snap.new` and fails
//! until accepted; `--accept` writes every `NAME.snap`. The last line is `N passed, M
//! failed`. Exit 0 when all pass, 1 on failures or bad scenarios, 2 on usage or I/O
//! errors.

mod diff;
mod snapfile;

use super::render;
use anyhow::{bail, Context};
use nudge_compiler::load::load_paths;
use nudge_compiler::plan::Plan;
use nudge_compiler::{compile, Sources};
use nudge_runtime::eval::World;
use nudge_runtime::scenario::{snapshot_of, Failure};
use nudge_runtime::world::Resources;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Counts of one `nudge test`.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// How a scenario is reported.
struct Report {
    accept: bool,
    color: bool,
}

/// `nudge test PATHS... [--accept]`: runs and reports every scenario, then `N passed, M
/// failed`; `Err` is a usage or I/O problem (exit 2).
pub fn test(paths: &[PathBuf], accept: bool) -> anyhow::Result<ExitCode> {
    let groups = groups(paths)?;
    let report = Report {
        accept,
        color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut tally = Tally::default();
    let mut out = io::stdout().lock();
    for (dir, scenarios) in &groups {
        let Some((plan, world)) = program(dir)? else {
            for s in scenarios {
                writeln!(out, "FAILED {}: the rules have errors (above)", s.display())?;
                tally.failed += 1;
            }
            continue;
        };
        for s in scenarios {
            let passed = report.one(&mut out, &plan, &world, s)?;
            if passed {
                tally.passed += 1;
            } else {
                tally.failed += 1;
            }
        }
    }
    writeln!(out, "{} passed, {} failed", tally.passed, tally.failed)?;
    out.flush()?;
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The scenarios to run, by the folder whose rules they run against.
fn groups(paths: &[PathBuf]) -> anyhow::Result<BTreeMap<PathBuf, Vec<PathBuf>>> {
    let mut groups: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found)?;
            if found.is_empty() {
                bail!("no *.scenario files under {}", path.display());
            }
            groups.entry(path.clone()).or_default().extend(found);
        } else if path.extension().is_some_and(|e| e == "scenario") {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            groups.entry(dir).or_default().push(path.clone());
        } else {
            bail!(
                "{}: `nudge test` takes folders and *.scenario files",
                path.display()
            );
        }
    }
    for scenarios in groups.values_mut() {
        scenarios.sort();
        scenarios.dedup();
    }
    Ok(groups)
}

/// Every `*.scenario` under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "scenario") {
            out.push(path);
        }
    }
    Ok(())
}

type Program = (Arc<Plan>, Arc<dyn World + Send + Sync>);

/// The compiled rules under `dir` and their tables; `None` when they have errors (then
/// printed).
fn program(dir: &Path) -> anyhow::Result<Option<Program>> {
    let sources = load_paths(&[dir.to_path_buf()])?;
    if sources.is_empty() {
        bail!("no *.nudge files found in {}", dir.display());
    }
    let compiled = compile(&sources);
    if compiled.has_errors() {
        render::eprint_all(&sources, &compiled.diagnostics);
        return Ok(None);
    }
    let plan = compiled.plan.expect("no errors, so a plan");
    let (resources, bad_rows) = Resources::load(&plan)?;
    for row in bad_rows {
        eprintln!("nudge: skipped table row: {row}");
    }
    Ok(Some((Arc::new(plan), Arc::new(resources))))
}

impl Report {
    /// Runs one scenario and reports it; whether it passed.
    fn one(
        &self,
        out: &mut dyn Write,
        plan: &Arc<Plan>,
        world: &Arc<dyn World + Send + Sync>,
        path: &Path,
    ) -> anyhow::Result<bool> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut sources = Sources::new();
        let file = sources.add(path.display().to_string(), text.clone());
        let body = match snapshot_of(plan, world, file, &text) {
            Ok(body) => body,
            Err(Failure::Invalid(diagnostics)) => {
                out.flush()?;
                render::eprint_all(&sources, &diagnostics);
                writeln!(
                    out,
                    "FAILED {}: the scenario has errors (above)",
                    path.display()
                )?;
                return Ok(false);
            }
            Err(Failure::Io(e)) => return Err(e).context(format!("running {}", path.display())),
        };
        let snap = snapfile::snap_path(path);
        let new = snapfile::new_path(path);
        let existing = match std::fs::read_to_string(&snap) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).context(format!("cannot read {}", snap.display())),
        };
        let (header, accepted) = match &existing {
            Some(t) => {
                let (h, b) = snapfile::split(t);
                (h, Some(b))
            }
            None => (None, None),
        };
        let matches = accepted.is_some_and(|a| snapfile::same(a, &body));
        if self.accept {
            if !matches {
                write(&snap, &snapfile::render(header, path, &body))?;
                writeln!(out, "accepted {}", path.display())?;
            } else {
                writeln!(out, "ok {}", path.display())?;
            }
            remove_stale(&new)?;
            return Ok(true);
        }
        if matches {
            remove_stale(&new)?;
            writeln!(out, "ok {}", path.display())?;
            return Ok(true);
        }
        write(&new, &snapfile::render(header, path, &body))?;
        let now = snapfile::normalize(&body) + "\n";
        match accepted {
            None => {
                writeln!(
                    out,
                    "FAILED {}: no snapshot yet; this run gives:",
                    path.display()
                )?;
                out.write_all(diff::diff("", &now, self.color).as_bytes())?;
            }
            Some(a) => {
                let before = snapfile::normalize(a) + "\n";
                writeln!(
                    out,
                    "FAILED {}: not what the snapshot says (- snapshot, + this run):",
                    path.display()
                )?;
                out.write_all(diff::diff(&before, &now, self.color).as_bytes())?;
            }
        }
        writeln!(
            out,
            "  wrote {}; if this run is right, accept it with `nudge test --accept {}`",
            new.display(),
            path.display()
        )?;
        Ok(false)
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes a `.snap.new` left from an earlier failing run.
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).context(format!("cannot remove {}", path.display())),
    }
}
