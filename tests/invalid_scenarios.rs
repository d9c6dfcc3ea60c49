//! Every scenario under `tests/invalid_scenarios/` fails as its first line says, against
//! the program in `patterns/`: `# expect: S102 at 2:23` (several separated by commas).
//! Every scenario code of `docs/diagnostics.md` has at least one such file.

use nudge_compiler::{compile, load::load_paths, Sources};
use nudge_runtime::eval::World;
use nudge_runtime::scenario::{snapshot_of, Failure};
use nudge_runtime::world::Resources;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

const CODES: &str = include_str!("../docs/diagnostics.md");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(code, "line:col")` pairs of the first line.
fn expectations(name: &str, text: &str) -> Vec<(String, String)> {
    let first = text.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{name}: first line must be `# expect: CODE at L:C`"));
    rest.split(',')
        .map(|one| {
            let (code, at) = one.split_once(" at ").expect("CODE at L:C");
            (code.trim().to_string(), at.trim().to_string())
        })
        .collect()
}

#[test]
fn invalid_scenarios_fail_with_their_stated_code_and_position() {
    let sources = load_paths(&[root().join("patterns")]).unwrap();
    let compiled = compile(&sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = Arc::new(compiled.plan.unwrap());
    let world: Arc<dyn World + Send + Sync> = Arc::new(Resources::load(&plan).unwrap().0);
    let mut stated = BTreeSet::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/invalid_scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut sources = Sources::new();
        let file = sources.add(name.clone(), text.clone());
        let found = match snapshot_of(&plan, &world, file, &text) {
            Err(Failure::Invalid(d)) => d,
            Err(Failure::Io(e)) => panic!("{name}: {e}"),
            Ok(body) => panic!("{name}: expected errors, got\n{body}"),
        };
        let found: Vec<(String, String)> = found
            .iter()
            .map(|d| {
                let (l, c) = sources.line_col(file, d.span().start);
                (d.code.to_string(), format!("{l}:{c}"))
            })
            .collect();
        for e in expectations(&name, &text) {
            assert!(found.contains(&e), "{name}: expected {e:?}, got {found:?}");
            stated.insert(e.0);
        }
    }
    let listed: BTreeSet<String> = CODES
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| c.len() == 4 && c.starts_with('S'))
        .map(str::to_string)
        .collect();
    assert_eq!(
        listed, stated,
        "scenario codes in docs/diagnostics.md vs tested"
    );
}
