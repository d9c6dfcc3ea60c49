//! Every file in `tests/syntax/` is a program that must not parse. Its first line names
//! the expected code and position (`# E001 4:3`); the rendered messages of all files are
//! kept in one snapshot, so a change of wording shows up in review. Adding a case is
//! adding a file.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use nudge_grammar::{parse_file, FileId, Sources};

#[test]
fn syntax_error_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/syntax");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nudge"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());

    let mut failures = Vec::new();
    let mut all = String::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy();
        let expected = text.lines().next().unwrap().trim_start_matches('#').trim();
        let diag = match parse_file(FileId(0), &text) {
            Ok(_) => {
                failures.push(format!("{name}: parsed, expected {expected}"));
                continue;
            }
            Err(d) => d,
        };
        let mut sources = Sources::new();
        let file = sources.add(name.to_string(), text.clone());
        let (line, col) = sources.line_col(file, diag.span().start);
        let got = format!("{} {line}:{col}", diag.code);
        if got != expected {
            failures.push(format!(
                "{name}: expected {expected}, got {got}: {}",
                diag.message
            ));
        }
        writeln!(all, "--- {name}\n{}", common::render(&text, &diag)).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    insta::assert_snapshot!(all);
}
