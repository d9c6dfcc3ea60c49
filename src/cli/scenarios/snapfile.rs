//! Snapshot files: `NAME.scenario` → `NAME.snap` beside it, in insta's file format, so
//! that `nudge test` and `cargo insta review` read and write the same files.
//!
//! ```text
//! ---
//! source: nudge test
//! input_file: cart_abandonment.scenario
//! ---
//! start 2026-11-27T10:00:00Z
//! +15m  cart_abandonment  key="u1"  ...
//! ```
//!
//! The header (between the `---` lines) says what wrote the file; only the body after it
//! is compared, with trailing blanks ignored (as insta does). Accepting keeps a header
//! that is already there. A snapshot not accepted yet is `NAME.snap.new`.

use std::path::{Path, PathBuf};

/// `NAME.snap` beside `NAME.scenario`.
pub fn snap_path(scenario: &Path) -> PathBuf {
    scenario.with_extension("snap")
}

/// `NAME.snap.new` beside `NAME.scenario`: a snapshot waiting to be accepted.
pub fn new_path(scenario: &Path) -> PathBuf {
    scenario.with_extension("snap.new")
}

/// The header of a snapshot file (with its `---` lines) and its body.
pub fn split(file: &str) -> (Option<&str>, &str) {
    let Some(rest) = file.strip_prefix("---\n") else {
        return (None, file);
    };
    let mut at = 4;
    for line in rest.split_inclusive('\n') {
        at += line.len();
        if line.trim_end() == "---" {
            return (Some(&file[..at]), &file[at..]);
        }
    }
    (None, file)
}

/// Whether two bodies are the same snapshot (line ends and trailing blanks aside).
pub fn same(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// The body as compared and shown: `\n` line ends, no trailing blanks.
pub fn normalize(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

/// The text of a snapshot file: `header` (or nudge's own) and the body.
pub fn render(header: Option<&str>, scenario: &Path, body: &str) -> String {
    let header = match header {
        Some(h) => h.to_string(),
        None => {
            let name = scenario
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            format!("---\nsource: nudge test\ninput_file: {name}\n---\n")
        }
    };
    format!("{header}{}\n", normalize(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let path = Path::new("patterns/a.scenario");
        let text = render(None, path, "start x\nno records\n\n");
        assert_eq!(
            text,
            "---\nsource: nudge test\ninput_file: a.scenario\n---\nstart x\nno records\n"
        );
        let (header, body) = split(&text);
        assert_eq!(
            header,
            Some("---\nsource: nudge test\ninput_file: a.scenario\n---\n")
        );
        assert!(same(body, "start x\r\nno records"));
        assert_eq!(render(header, path, body), text);
    }

    #[test]
    fn files_without_a_header_are_all_body() {
        assert_eq!(split("start x\n"), (None, "start x\n"));
        assert_eq!(split("---\nno end"), (None, "---\nno end"));
        assert_eq!(snap_path(Path::new("a/b.scenario")), Path::new("a/b.snap"));
        assert_eq!(
            new_path(Path::new("a/b.scenario")),
            Path::new("a/b.snap.new")
        );
    }
}
