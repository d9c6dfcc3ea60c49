//! Every example in the user's docs is checked: ```nudge blocks compile without errors,
//! ```nudge-error blocks fail with the code on their first line, ```scenario blocks parse
//! as scenario files. A block that declares its own `event`s is a whole program; any
//! other block is checked with `patterns/schema.nudge`.

use nudge_compiler::{compile, Severity, Sources};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (fence info, first line number, text) of each fenced block.
fn blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    current = Some((info.trim().to_string(), i + 2, String::new()));
                }
            }
            Some((_, _, text)) => {
                if trimmed.starts_with("```") {
                    out.push(current.take().unwrap());
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    out
}

fn check_block(doc: &str, line: usize, text: &str) -> Vec<nudge_compiler::Diagnostic> {
    let mut sources = Sources::new();
    let standalone = text
        .lines()
        .any(|l| l.trim_start().starts_with("event ") || l.trim_start().starts_with("input"));
    if !standalone {
        let schema = root().join("patterns/schema.nudge");
        sources.add(
            "patterns/schema.nudge",
            std::fs::read_to_string(schema).unwrap(),
        );
    }
    // The block stands in patterns/ so that relative data paths resolve as they do there.
    sources.add(format!("patterns/{doc}-line{line}.nudge"), text);
    compile(&sources).diagnostics
}

fn check_doc(doc: &str) -> usize {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut checked = 0;
    for (info, line, block) in blocks(&text) {
        let name = doc.replace('/', "_");
        match info.as_str() {
            "nudge" => {
                let errors: Vec<_> = check_block(&name, line, &block)
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error)
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{doc}:{line}: example does not compile:\n{block}\n{errors:#?}"
                );
                checked += 1;
            }
            "nudge-error" => {
                let code = block
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("# expect: "))
                    .unwrap_or_else(|| panic!("{doc}:{line}: first line must be `# expect: CODE`"))
                    .trim()
                    .to_string();
                let found = check_block(&name, line, &block);
                assert!(
                    found.iter().any(|d| d.code == code),
                    "{doc}:{line}: expected {code}, got {found:#?}\n{block}"
                );
                checked += 1;
            }
            "scenario" => {
                let parsed = nudge_grammar::parse_scenario(nudge_grammar::FileId(0), &block);
                assert!(
                    parsed.is_ok(),
                    "{doc}:{line}: scenario does not parse:\n{block}\n{parsed:#?}"
                );
                checked += 1;
            }
            _ => {}
        }
    }
    checked
}

#[test]
fn language_guide_examples_check() {
    assert!(check_doc("docs/language.md") >= 20);
}

#[test]
fn testing_guide_examples_check() {
    assert!(check_doc("docs/testing-rules.md") >= 3);
}

#[test]
fn readme_examples_check() {
    assert!(check_doc("README.md") >= 1);
}
