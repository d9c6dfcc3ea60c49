//! Small scans over the raw text that the grammar cannot express well: finding a string
//! that is not closed on its line (E003), and the token at an error position.

/// The first string that is not closed on its line: `(start of the quote, end of line)`.
///
/// Comments are skipped, so a `"` inside a comment does not count, and a `#` inside a
/// string does not start a comment (as in the grammar).
pub(crate) fn unterminated_string(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') | Some(b'\r') => return Some((start, i)),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            if matches!(bytes.get(i + 1), None | Some(b'\n') | Some(b'\r')) {
                                return Some((start, i + 1));
                            }
                            i += 2;
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// How deeply `(`, `[` and `{` may nest. Deeper programs are refused before parsing, so
/// that neither the parser nor the later passes that walk the tree run out of stack.
pub(crate) const MAX_NESTING: usize = 64;

/// The position of the first bracket nested deeper than [`MAX_NESTING`], if any
/// (brackets in strings and comments do not count).
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte range of the token starting at or after `pos` (after blanks and comments);
/// when there is none, an empty range after the last character that is not blank.
pub(crate) fn token_at(text: &str, pos: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut i = pos.min(bytes.len());
    // Skip blanks and comments: pest reports the position before them at times.
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else {
            break;
        }
    }
    if i >= bytes.len() {
        // At the end: point just after the last word, not at a blank last line.
        let end = text.trim_end().len();
        return (end, end);
    }
    let start = i;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let end = match bytes[i] {
        b if word(b) => {
            while i < bytes.len()
                && (word(bytes[i]) || (bytes[start].is_ascii_digit() && bytes[i] == b'.'))
            {
                i += 1;
            }
            i
        }
        b'"' => {
            i += 1;
            while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                i += if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    2
                } else {
                    1
                };
            }
            (i + 1).min(bytes.len())
        }
        b'=' | b'!' | b'<' | b'>' if bytes.get(i + 1) == Some(&b'=') => i + 2,
        _ => {
            // One character, whole (it may be more than one byte).
            let c = text[i..].chars().next().expect("not at the end");
            i + c.len_utf8()
        }
    };
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unclosed_strings() {
        assert_eq!(unterminated_string("a \"b\" c"), None);
        assert_eq!(unterminated_string("# \"x\n\"ok\""), None);
        assert_eq!(unterminated_string("x \"abc\ny"), Some((2, 6)));
        assert_eq!(unterminated_string("\"a\\"), Some((0, 3)));
        assert_eq!(unterminated_string("\"a # b"), Some((0, 6)));
    }

    #[test]
    fn nesting() {
        assert_eq!(too_deep("[[]] \"((((\" # ((("), None);
        let deep = "(".repeat(MAX_NESTING + 1);
        assert_eq!(too_deep(&deep), Some(MAX_NESTING));
    }

    #[test]
    fn tokens() {
        assert_eq!(token_at("  windw 5m", 0), (2, 7));
        assert_eq!(token_at("a <= b", 2), (2, 4));
        assert_eq!(token_at("1.5x", 0), (0, 4));
        assert_eq!(token_at("\"a b\" c", 0), (0, 5));
        assert_eq!(token_at("x # c\n", 1), (5, 5));
        assert_eq!(token_at("x\n\n", 1), (1, 1));
        assert_eq!(token_at("é", 0), (0, 2));
    }
}
