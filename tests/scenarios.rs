//! Scenarios: every `*.scenario` under `patterns/` through insta (so `cargo insta review`
//! works on them), and `nudge test` itself on folders in temp dirs: passing, failing with
//! a diff, a missing snapshot, `--accept`, bad scenarios and usage errors.
//!
//! The insta test and `nudge test` share the snapshot files (`NAME.snap` beside
//! `NAME.scenario`, insta's format) and the function that renders them
//! ([`nudge_runtime::scenario::snapshot_of`]), so they always agree.

use nudge_compiler::{compile, load::load_paths, Sources};
use nudge_runtime::eval::World;
use nudge_runtime::scenario::{snapshot_of, Failure};
use nudge_runtime::world::Resources;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn pattern_scenarios_match_their_snapshots() {
    let sources = load_paths(&[root().join("patterns")]).unwrap();
    let compiled = compile(&sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = Arc::new(compiled.plan.unwrap());
    let world: Arc<dyn World + Send + Sync> = Arc::new(Resources::load(&plan).unwrap().0);
    insta::glob!("../patterns", "**/*.scenario", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut sources = Sources::new();
        let file = sources.add(path.display().to_string(), text.clone());
        let body = match snapshot_of(&plan, &world, file, &text) {
            Ok(body) => body,
            Err(Failure::Invalid(d)) => panic!("{}: {d:#?}", path.display()),
            Err(Failure::Io(e)) => panic!("{}: {e}", path.display()),
        };
        let name = path.file_stem().unwrap().to_str().unwrap();
        insta::with_settings!({
            snapshot_path => path.parent().unwrap(),
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, body);
        });
    });
}

/// Every pattern file has a scenario where it fires and one where it must not.
#[test]
fn every_pattern_file_has_scenarios() {
    let dir = root().join("patterns");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.extension() != Some(std::ffi::OsStr::new("nudge")) || stem == "schema" {
            continue;
        }
        let scenarios: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&stem) && n.ends_with(".scenario"))
            .collect();
        assert!(scenarios.len() >= 2, "{stem}: {scenarios:?}");
    }
}

fn nudge(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("nudge runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn nudge_test_passes_on_patterns() {
    let o = nudge(&root(), &["test", "patterns/"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    let count = std::fs::read_dir(root().join("patterns"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "scenario")
        })
        .count();
    assert_eq!(
        out.lines().last(),
        Some(format!("{count} passed, 0 failed").as_str())
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const RULES: &str = "
input
  lateness 5s
  key user_id
event ADD_TO_CART { user_id: string, product_id: string, price: float }
event PURCHASE { user_id: string, total: float }

pattern cart_abandonment
  when ADD_TO_CART as cart
  then not PURCHASE within 15m
  emit { product_id: cart.product_id, price: cart.price }
";

const FIRES: &str = "\
start 2026-11-27T10:00:00Z
10:00  ADD_TO_CART user_id=u1 product_id=p1 price=19.99
10:02  ADD_TO_CART user_id=u2 product_id=p2 price=5
10:03  PURCHASE    user_id=u2 total=5
10:20  ADD_TO_CART user_id=u3 product_id=p3 price=7.5
";

const SNAP: &str = "\
start 2026-11-27T10:00:00Z
+15m  cart_abandonment  key=\"u1\"  product_id=\"p1\" price=19.99
+35m  cart_abandonment  key=\"u3\"  product_id=\"p3\" price=7.5
";

/// A folder with the rules, one scenario and its accepted snapshot.
fn shop(name: &str) -> PathBuf {
    let dir = tempdir(name);
    std::fs::write(dir.join("rules.nudge"), RULES).unwrap();
    std::fs::write(dir.join("cart.scenario"), FIRES).unwrap();
    std::fs::write(
        dir.join("cart.snap"),
        format!("---\nsource: nudge test\ninput_file: cart.scenario\n---\n{SNAP}"),
    )
    .unwrap();
    dir
}

#[test]
fn a_passing_scenario() {
    let dir = shop("scenario_pass");
    let o = nudge(&dir, &["test", "."]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "ok ./cart.scenario\n1 passed, 0 failed\n");
    // A scenario file named alone runs against the rules of its folder.
    let o = nudge(&dir, &["test", "cart.scenario"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn a_changed_event_fails_with_a_diff_of_exactly_that_record() {
    let dir = shop("scenario_fail");
    let changed = FIRES.replace("product_id=p3 price=7.5", "product_id=p3 price=8");
    std::fs::write(dir.join("cart.scenario"), changed).unwrap();
    let o = nudge(&dir, &["test", "."]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let diff: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  - ") || l.starts_with("  + "))
        .collect();
    assert_eq!(
        diff,
        [
            "  - +35m  cart_abandonment  key=\"u3\"  product_id=\"p3\" price=7.5",
            "  + +35m  cart_abandonment  key=\"u3\"  product_id=\"p3\" price=8.0",
        ],
        "{out}"
    );
    assert!(
        out.starts_with("FAILED ./cart.scenario: not what the snapshot says"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));
    // The snapshot is untouched; this run's is waiting beside it.
    assert!(std::fs::read_to_string(dir.join("cart.snap"))
        .unwrap()
        .ends_with(SNAP));
    let pending = std::fs::read_to_string(dir.join("cart.snap.new")).unwrap();
    assert!(pending.contains("price=8.0"), "{pending}");
}

#[test]
fn the_patterns_folder_shows_exactly_the_changed_record() {
    let dir = tempdir("scenario_patterns");
    let patterns = dir.join("patterns");
    let examples = dir.join("examples");
    std::fs::create_dir_all(&patterns).unwrap();
    std::fs::create_dir_all(&examples).unwrap();
    for entry in std::fs::read_dir(root().join("patterns")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.ends_with(".nudge") || name.starts_with("cart_abandonment.") {
            std::fs::copy(&path, patterns.join(&name)).unwrap();
        }
    }
    for data in ["products.csv", "item_vectors.jsonl"] {
        std::fs::copy(root().join("examples").join(data), examples.join(data)).unwrap();
    }
    let scenario = patterns.join("cart_abandonment.scenario");
    let text = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(
        &scenario,
        text.replacen("product_id=p00007", "product_id=p00005", 1),
    )
    .unwrap();
    let o = nudge(&dir, &["test", "patterns"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let changes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  - ") || l.starts_with("  + "))
        .collect();
    assert_eq!(changes.len(), 2, "{out}");
    assert!(changes[0].contains("product_id=\"p00007\" name=\"Tidewater Road Racer, navy\""));
    assert!(changes[1].contains("product_id=\"p00005\" name=\"Tidewater Road Racer, black\""));
}

#[test]
fn a_missing_snapshot_is_written_as_new_and_fails_until_accepted() {
    let dir = shop("scenario_new");
    std::fs::remove_file(dir.join("cart.snap")).unwrap();
    let o = nudge(&dir, &["test", "."]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAILED ./cart.scenario: no snapshot yet"),
        "{out}"
    );
    assert!(out.contains("  + +15m  cart_abandonment"), "{out}");
    let pending = std::fs::read_to_string(dir.join("cart.snap.new")).unwrap();
    assert!(pending.ends_with(SNAP), "{pending}");
    // Still failing on the next run: a pending snapshot is not an accepted one.
    assert_eq!(nudge(&dir, &["test", "."]).status.code(), Some(1));
}

#[test]
fn accept_writes_every_snapshot() {
    let dir = shop("scenario_accept");
    std::fs::remove_file(dir.join("cart.snap")).unwrap();
    std::fs::write(
        dir.join("other.scenario"),
        "10:00 PURCHASE user_id=u1 total=1\n",
    )
    .unwrap();
    assert_eq!(nudge(&dir, &["test", "."]).status.code(), Some(1));
    let o = nudge(&dir, &["test", ".", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "accepted ./cart.scenario\naccepted ./other.scenario\n2 passed, 0 failed\n"
    );
    assert!(!dir.join("cart.snap.new").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("cart.snap")).unwrap(),
        format!("---\nsource: nudge test\ninput_file: cart.scenario\n---\n{SNAP}")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("other.snap")).unwrap(),
        "---\nsource: nudge test\ninput_file: other.scenario\n---\n\
         start 1970-01-01T00:00:00Z\nno records\n"
    );
    let o = nudge(&dir, &["test", "."]);
    assert_eq!(
        stdout(&o),
        "ok ./cart.scenario\nok ./other.scenario\n2 passed, 0 failed\n"
    );
}

#[test]
fn a_bad_scenario_fails_with_diagnostics() {
    let dir = shop("scenario_bad");
    std::fs::write(
        dir.join("bad.scenario"),
        "10:00 ADD_TO_CRT user_id=u1\n+5x PURCHASE user_id=u1\n",
    )
    .unwrap();
    let o = nudge(&dir, &["test", "."]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("[S001] Error: expected a duration after `+`"),
        "{err}"
    );
    assert!(err.contains(",-[./bad.scenario:2:2]"), "{err}");
    assert!(
        out.contains("FAILED ./bad.scenario: the scenario has errors (above)"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
    std::fs::write(dir.join("bad.scenario"), "10:00 ADD_TO_CRT user_id=u1\n").unwrap();
    let err = stderr(&nudge(&dir, &["test", "."]));
    assert!(
        err.contains("[S101] Error: there is no event type `ADD_TO_CRT`"),
        "{err}"
    );
    assert!(err.contains("did you mean `ADD_TO_CART`?"), "{err}");
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = shop("scenario_usage");
    for args in [
        vec!["test"],
        vec!["test", "no/such/dir"],
        vec!["test", "rules.nudge"],
    ] {
        let o = nudge(&dir, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = nudge(&dir, &["test", "empty"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no *.scenario files under empty"),
        "{}",
        stderr(&o)
    );
}
