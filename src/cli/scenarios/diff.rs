//! A line diff between the accepted snapshot and this run's, for a failing scenario.

use similar::{ChangeTag, TextDiff};
use std::fmt::Write as _;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The changed lines with two lines of context around each change, `-` for the accepted
/// snapshot, `+` for this run, `...` between distant changes; indented by two blanks.
/// With `color`, removed lines are red, added ones green and context dim.
pub fn diff(old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for (i, group) in diff.grouped_ops(2).iter().enumerate() {
        if i > 0 {
            out.push_str("  ...\n");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (sign, paint) = match change.tag() {
                    ChangeTag::Delete => ('-', RED),
                    ChangeTag::Insert => ('+', GREEN),
                    ChangeTag::Equal => (' ', DIM),
                };
                let line = change.value().trim_end_matches(['\n', '\r']);
                if color {
                    let _ = writeln!(out, "  {paint}{sign} {line}{RESET}");
                } else {
                    let _ = writeln!(out, "  {sign} {line}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn shows_only_the_changed_lines_with_context() {
        let old = "0\n1\na\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "0\n1\na\nB\nc\nd\ne\nf\ng\nh\nI\n";
        assert_eq!(
            diff(old, new, false),
            "    1\n    a\n  - b\n  + B\n    c\n    d\n  ...\n    g\n    h\n  - i\n  + I\n"
        );
        assert_eq!(diff(old, old, false), "");
        let colored = diff("x\n", "y\n", true);
        assert!(colored.contains("\x1b[31m- x\x1b[0m"), "{colored:?}");
        assert!(colored.contains("\x1b[32m+ y\x1b[0m"), "{colored:?}");
    }
}
