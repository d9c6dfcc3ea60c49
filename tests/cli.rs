//! End-to-end tests of the `nudge` command: exit codes, compile snapshots of every file in
//! `patterns/`, rendered diagnostics of every invalid program, `run` over the bundled
//! example, `explain` and `gen`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn nudge(args: &[&str]) -> Output {
    nudge_in(&root(), args)
}

/// `nudge` run in `dir` (where a `nudge.toml` may be).
fn nudge_in(dir: &Path, args: &[&str]) -> Output {
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
fn check_patterns_is_clean() {
    let o = nudge(&["check", "patterns/"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning["), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(nudge(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(nudge(&["check"]).status.code(), Some(2));
    assert_eq!(
        nudge(&["run", "patterns/", "--shards", "many"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        nudge(&["compile", "patterns/", "--format", "png"])
            .status
            .code(),
        Some(2)
    );
    let missing = nudge(&["check", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/dir"),
        "{}",
        stderr(&missing)
    );
    let input = nudge(&["run", "patterns/", "--input", "no/such/file.jsonl"]);
    assert_eq!(input.status.code(), Some(2));
}

/// Every pattern file compiled together with the shared schema, as text and as dot.
#[test]
fn compile_snapshots_of_every_pattern_file() {
    insta::glob!("../patterns", "*.nudge", |path| {
        if path.file_name().is_some_and(|n| n == "schema.nudge") {
            return;
        }
        let rel = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let text = nudge(&["compile", "patterns/schema.nudge", &rel, "--format", "text"]);
        assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
        insta::assert_snapshot!("text", stdout(&text));
        let dot = nudge(&["compile", "patterns/schema.nudge", &rel, "--format", "dot"]);
        assert_eq!(dot.status.code(), Some(0), "{}", stderr(&dot));
        insta::assert_snapshot!("dot", stdout(&dot));
    });
}

/// `nudge compile patterns/ --format dot | dot -Tsvg` renders (Graphviz is installed by
/// the test command; a missing `dot` fails this test).
#[test]
fn dot_output_renders_with_graphviz() {
    let o = nudge(&["compile", "patterns/", "--format", "dot"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` must be installed (see .ci/test)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&o.stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

#[test]
fn json_and_mermaid_formats() {
    let o = nudge(&["compile", "patterns/", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v["patterns"].as_array().is_some_and(|p| p.len() >= 8));
    let m = nudge(&["compile", "patterns/", "--format", "mermaid"]);
    assert_eq!(m.status.code(), Some(0));
    assert!(stdout(&m).contains("flowchart"));
}

/// The first line of each file in `tests/invalid/` says `# expect: CODE at LINE:COL`
/// (several, comma-separated, when the file shows errors reported in one pass).
fn expectations(text: &str) -> Vec<(String, String)> {
    let first = text.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("first line must be `# expect: CODE at L:C`: {first}"));
    rest.split(',')
        .map(|one| {
            let (code, at) = one.split_once(" at ").expect("CODE at L:C");
            (code.trim().to_string(), at.trim().to_string())
        })
        .collect()
}

/// Every invalid program fails (exit 1, or 0 for warnings) with its stated code at its
/// stated position; the rendered diagnostics are snapshotted.
#[test]
fn invalid_programs_fail_with_their_stated_code_and_position() {
    insta::glob!("invalid", "*.nudge", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = expectations(&text);
        let rel = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let o = nudge(&["check", &rel]);
        let err = stderr(&o);
        let any_error = expected.iter().any(|(code, _)| code.starts_with('E'));
        assert_eq!(
            o.status.code(),
            Some(if any_error { 1 } else { 0 }),
            "{rel}\n{err}"
        );
        for (code, at) in &expected {
            let header = format!("[{code}]");
            let position = format!(",-[{rel}:{at}]");
            let found = err
                .lines()
                .zip(err.lines().skip(1))
                .any(|(a, b)| a.starts_with(&header) && b.trim() == position);
            assert!(found, "{rel}: expected {code} at {at}, got:\n{err}");
        }
        insta::assert_snapshot!(err);
    });
}

#[test]
fn run_the_bundled_example() {
    let dir = tempdir("run_example");
    let out = dir.join("out.jsonl");
    let dead = dir.join("dead.jsonl");
    let o = nudge(&[
        "run",
        "patterns/",
        "--input",
        "examples/events.jsonl",
        "--output",
        out.to_str().unwrap(),
        "--dead-letter",
        dead.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let records = std::fs::read_to_string(&out).unwrap();
    assert!(records.lines().count() > 10, "{records}");
    insta::assert_snapshot!("example_records", records);
    insta::assert_snapshot!(
        "example_dead_letters",
        std::fs::read_to_string(&dead).unwrap()
    );
    // `into "NAME"` writes NAME.jsonl beside the output.
    let named: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out.jsonl" && n != "dead.jsonl")
        .collect();
    assert!(!named.is_empty());

    // Byte-identical across runs and shard counts.
    for shards in ["1", "2", "4"] {
        let again = dir.join(format!("again{shards}.jsonl"));
        let o = nudge(&[
            "run",
            "patterns/",
            "--input",
            "examples/events.jsonl",
            "--output",
            again.to_str().unwrap(),
            "--shards",
            shards,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            std::fs::read_to_string(&again).unwrap(),
            records,
            "--shards {shards}"
        );
    }
}

#[test]
fn run_reads_stdin_and_csv() {
    let dir = tempdir("csv");
    let csv = dir.join("shop.csv");
    std::fs::write(
        &csv,
        "type,ts,user_id,product_id,category,price,qty\n\
         ADD_TO_CART,2026-11-27T10:00:00Z,u1,p00001,running shoes,19.99,1\n\
         VIEW,2026-11-27T10:01:00Z,u1,p00002,running shoes,49,\n",
    )
    .unwrap();
    let o = nudge(&["run", "patterns/", "--input", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"rule\": \"cart_abandonment\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explain_tells_the_story_of_a_key() {
    let o = nudge(&[
        "explain",
        "patterns/",
        "--input",
        "examples/events.jsonl",
        "--key",
        "u01",
        "--rule",
        "cart_abandonment",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("started"), "{text}");
    insta::assert_snapshot!(text);
    let bad = nudge(&[
        "explain",
        "patterns/",
        "--input",
        "examples/events.jsonl",
        "--key",
        "u01",
        "--rule",
        "nope",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn gen_is_deterministic_and_runs() {
    let a = nudge(&["gen", "--events", "2000", "--seed", "7"]);
    let b = nudge(&["gen", "--events", "2000", "--seed", "7"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(stdout(&a).lines().count(), 2000);
    let dir = tempdir("gen");
    let file = dir.join("gen.jsonl");
    std::fs::write(&file, &a.stdout).unwrap();
    let dead = dir.join("dead.jsonl");
    let o = nudge(&[
        "run",
        "patterns/",
        "--input",
        file.to_str().unwrap(),
        "--output",
        dir.join("out.jsonl").to_str().unwrap(),
        "--dead-letter",
        dead.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    assert!(out.contains("cart_abandonment"), "{}", stderr(&o));
}

/// `./nudge.toml` (or `--config FILE`) supplies run's settings; a typed flag wins.
#[test]
fn run_takes_settings_from_nudge_toml() {
    let dir = tempdir("settings");
    let patterns = root().join("patterns");
    let events = root().join("examples/events.jsonl");
    let (patterns, events) = (patterns.to_str().unwrap(), events.to_str().unwrap());
    let out = dir.join("out.jsonl");
    let run = [
        "run",
        patterns,
        "--input",
        events,
        "--output",
        out.to_str().unwrap(),
    ];
    let caps = "runs refused (--max-runs-per-key)";

    // Without a file, the bundled example hits no cap.
    let plain = nudge_in(&dir, &run);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert!(!stderr(&plain).contains(caps), "{}", stderr(&plain));

    std::fs::write(dir.join("nudge.toml"), "[run]\nmax-runs-per-key = 1\n").unwrap();
    let o = nudge_in(&dir, &run);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nudge: settings from nudge.toml: --max-runs-per-key"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains(caps), "{}", stderr(&o));

    // The flag beats the file.
    let flag = nudge_in(&dir, &[&run[..], &["--max-runs-per-key", "1024"]].concat());
    assert_eq!(flag.status.code(), Some(0), "{}", stderr(&flag));
    assert!(!stderr(&flag).contains(caps), "{}", stderr(&flag));
    assert!(
        !stderr(&flag).contains("settings from"),
        "{}",
        stderr(&flag)
    );

    // `--config FILE` instead of ./nudge.toml: a Redis sink with nothing listening ends
    // with its summary after the drain timeout (without the URL it says it is off).
    let redis = dir.join("redis.toml");
    std::fs::write(
        &redis,
        "[redis]\nurl = \"redis://127.0.0.1:1\"\ndrain-timeout = \"200ms\"\n",
    )
    .unwrap();
    let o = nudge_in(
        &dir,
        &[&run[..], &["--config", redis.to_str().unwrap()]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("nudge: redis: 171 profile updates"), "{err}");
    assert!(!err.contains("no --redis given"), "{err}");
    assert!(!err.contains(caps), "--config replaces ./nudge.toml: {err}");
}

/// A bad settings file is a usage error (exit 2) that names the file.
#[test]
fn bad_settings_files_exit_2() {
    let dir = tempdir("bad_settings");
    let patterns = root().join("patterns");
    let patterns = patterns.to_str().unwrap();

    std::fs::write(
        dir.join("nudge.toml"),
        "[kafka]\nbrokerz = \"127.0.0.1:9092\"\n",
    )
    .unwrap();
    let o = nudge_in(&dir, &["run", patterns]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("nudge.toml") && err.contains("unknown field `brokerz`"),
        "{err}"
    );

    let o = nudge_in(&dir, &["run", patterns, "--config", "missing.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.toml"), "{}", stderr(&o));

    // Kafka mode from the file still cannot go with `--input`; the error names the file.
    std::fs::write(
        dir.join("kafka.toml"),
        "[kafka]\nbrokers = \"127.0.0.1:1\"\ntopics = [\"events\"]\n\
         output-topic = \"out\"\ndead-letter-topic = \"dead\"\ngroup = \"g\"\n",
    )
    .unwrap();
    let events = root().join("examples/events.jsonl");
    let o = nudge_in(
        &dir,
        &[
            "run",
            patterns,
            "--config",
            "kafka.toml",
            "--input",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("'--brokers <BROKERS>' cannot be used with '--input"),
        "{err}"
    );
    assert!(
        err.contains("from the settings file kafka.toml: [kafka] brokers"),
        "{err}"
    );
    // A typed Kafka flag does not need a typed `--brokers` when the file has one.
    let o = nudge_in(
        &dir,
        &[
            "run",
            patterns,
            "--config",
            "kafka.toml",
            "--group",
            "mine",
            "--input",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("'--brokers <BROKERS>' cannot be used with '--input"),
        "{}",
        stderr(&o)
    );

    // A value is checked as the flag's would be.
    std::fs::write(
        dir.join("wait.toml"),
        "[redis]\nurl = \"redis://127.0.0.1:1\"\ndrain-timeout = \"soon\"\n",
    )
    .unwrap();
    let o = nudge_in(&dir, &["run", patterns, "--config", "wait.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("invalid value 'soon' for '--redis-drain-timeout"),
        "{err}"
    );
    assert!(err.contains("[redis] drain-timeout"), "{err}");
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `--log-format json`: service messages are one JSON object per line.
#[test]
fn run_logs_as_json_lines() {
    let dir = tempdir("json-logs");
    let patterns = root().join("patterns");
    let events = root().join("examples/events.jsonl");
    let out = dir.join("out.jsonl");
    let o = nudge_in(
        &dir,
        &[
            "run",
            patterns.to_str().unwrap(),
            "--input",
            events.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--log-format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // customer_360 has `sink redis` and no --redis is given: said once, as JSON.
    let line = stderr(&o)
        .lines()
        .find(|l| l.contains("no --redis given"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no line about Redis in\n{}", stderr(&o)));
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(v["level"], "info");
    assert_eq!(v["component"], "run");
    assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
    assert!(v["msg"].as_str().unwrap().starts_with("no --redis given"));
}
