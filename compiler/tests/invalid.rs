//! Every program under `tests/invalid/` fails (or warns) as its first line says.
//!
//! The first line of each file reads `# expect: E102 at 5:8` (several expectations are
//! separated by commas): each stated code must be reported with its primary label at that
//! line and column (1-based, columns in characters). The file is parsed and checked
//! alone; all its diagnostics are also snapshotted, rendered plainly by [`render`].

use nudge_compiler::check::check;
use nudge_grammar::{parse_file, Diagnostic, Severity, Sources};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/invalid");
const CODES: &str = include_str!("../../docs/diagnostics.md");

/// One stated expectation.
#[derive(Debug, PartialEq)]
struct Expect {
    code: String,
    line: usize,
    col: usize,
}

fn parse_expectations(path: &Path, text: &str) -> Vec<Expect> {
    let first = text.lines().next().unwrap_or("");
    let rest = first.strip_prefix("# expect:").unwrap_or_else(|| {
        panic!(
            "{}: first line must be `# expect: CODE at L:C`",
            path.display()
        )
    });
    rest.split(',')
        .map(|one| {
            let (code, at) = one
                .trim()
                .split_once(" at ")
                .unwrap_or_else(|| panic!("{}: bad expectation `{one}`", path.display()));
            let (line, col) = at.trim().split_once(':').expect("L:C");
            Expect {
                code: code.trim().to_string(),
                line: line.parse().expect("line"),
                col: col.parse().expect("column"),
            }
        })
        .collect()
}

/// Parses and checks one file alone: a parse error is the only diagnostic.
fn diagnose(name: &str, text: &str) -> (Sources, Vec<Diagnostic>) {
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let diags = match parse_file(id, text) {
        Err(d) => vec![d],
        Ok(file) => {
            let (plan, diags) = check(&sources, &[(id, file)]);
            assert_eq!(
                plan.is_some(),
                !diags.iter().any(Diagnostic::is_error),
                "{name}: a plan must come exactly when there is no error"
            );
            diags
        }
    };
    (sources, diags)
}

/// A plain, deterministic rendering of diagnostics (the CLI has the real renderer).
fn render(sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out += &format!("{sev}[{}]: {}\n", d.code, d.message);
        for (i, label) in d.labels.iter().enumerate() {
            let file = &sources.get(label.span.file).path;
            let (l1, c1) = sources.line_col(label.span.file, label.span.start);
            let (l2, c2) = sources.line_col(label.span.file, label.span.end);
            let text = &sources.get(label.span.file).text[label.span.range()];
            let arrow = if i == 0 { "-->" } else { "   " };
            out += &format!(
                "  {arrow} {file}:{l1}:{c1}-{l2}:{c2} `{text}`: {}\n",
                label.message
            );
        }
        if let Some(help) = &d.help {
            out += &format!("  help: {help}\n");
        }
        for note in &d.notes {
            out += &format!("  note: {note}\n");
        }
    }
    out
}

fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("tests/invalid")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nudge"))
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_programs_report_what_they_state() {
    let files = files();
    assert!(files.len() >= 60, "only {} invalid programs", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).expect("read");
        let expects = parse_expectations(path, &text);
        let (sources, diags) = diagnose(&name, &text);
        let found: Vec<Expect> = diags
            .iter()
            .map(|d| {
                let (line, col) = sources.line_col(d.span().file, d.span().start);
                Expect {
                    code: d.code.to_string(),
                    line,
                    col,
                }
            })
            .collect();
        for e in &expects {
            if !found.contains(e) {
                failures.push(format!(
                    "{name}: expected {} at {}:{}, got {:?}",
                    e.code,
                    e.line,
                    e.col,
                    found
                        .iter()
                        .map(|f| format!("{} at {}:{}", f.code, f.line, f.col))
                        .collect::<Vec<_>>()
                ));
            }
        }
        if expects.iter().all(|e| e.code.starts_with('W')) && diags.iter().any(Diagnostic::is_error)
        {
            failures.push(format!("{name}: states only warnings but has errors"));
        }
        let stem = name.trim_end_matches(".nudge");
        insta::with_settings!({ input_file => path, omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/invalid" }, {
            insta::assert_snapshot!(stem, render(&sources, &diags));
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_in_the_table_has_an_invalid_program() {
    let mut stated = BTreeSet::new();
    for path in files() {
        let text = std::fs::read_to_string(&path).expect("read");
        for e in parse_expectations(&path, &text) {
            stated.insert(e.code);
        }
    }
    let listed: BTreeSet<String> = CODES
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| c.len() == 4 && (c.starts_with('E') || c.starts_with('W')))
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = listed.difference(&stated).collect();
    assert!(
        missing.is_empty(),
        "codes without an invalid program: {missing:?}"
    );
    let unlisted: Vec<&String> = stated.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "codes stated but not in docs/diagnostics.md: {unlisted:?}"
    );
}
