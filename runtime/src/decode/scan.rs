//! A JSON scanner for the decoder's hot path: one pass over a line, no tree built.
//!
//! It reads RFC 8259 JSON the way `serde_json` does (the tests compare the two on random
//! input): the same grammar, nesting up to 128 levels, numbers as `i64`, `u64` or `f64`
//! (an integer too large for both is a float; a float out of range is an error), strings
//! that must decode to UTF-8 (a lone surrogate escape is an error, except inside a value
//! that is skipped, where only the grammar is checked). The caller has checked that the
//! whole line is UTF-8, so strings need no further check.
//!
//! Values the caller does not keep are skipped without being built; strings it keeps are
//! handed back as a range of the line when they hold no escape, and unescaped into a
//! scratch buffer otherwise.

use crate::value::Value;
use std::sync::Arc;

/// The line is not JSON (or not the JSON expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bad;

pub(super) type Scan<T> = Result<T, Bad>;

/// The most arrays and objects open at once (as in `serde_json`).
const MAX_OPEN: u32 = 127;

/// A string read: a range of the line (no escapes), or of the scratch text (unescaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Str {
    Line(u32, u32),
    Text(u32, u32),
}

/// A number read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Num {
    Int(i64),
    /// Above `i64::MAX`.
    Big(u64),
    Float(f64),
}

/// A cursor over one line of JSON text.
pub(super) struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Bytes that end the fast scan of a string: `"`, `\` and control characters.
static STOPS: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    /// The text of a string read from this line.
    #[inline]
    pub(super) fn line_str(&self, a: u32, b: u32) -> &'a str {
        &self.text[a as usize..b as usize]
    }

    /// Skips whitespace; returns the next byte, if any.
    #[inline]
    pub(super) fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Skips whitespace and the byte `c`, which must come next.
    #[inline]
    pub(super) fn eat(&mut self, c: u8) -> Scan<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// Whether only whitespace is left.
    pub(super) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// After `{` or `,` of an object: `"key"` and its `:`; the key goes to `scratch`
    /// when it has escapes.
    #[inline]
    pub(super) fn key<'s>(&mut self, scratch: &'s mut String) -> Scan<&'s str>
    where
        'a: 's,
    {
        self.eat(b'"')?;
        scratch.clear();
        let key = match self.string(scratch)? {
            Str::Line(a, b) => self.line_str(a, b),
            Str::Text(a, b) => &scratch[a as usize..b as usize],
        };
        self.eat(b':')?;
        Ok(key)
    }

    /// After a member of an object: `Some(())` on `,` (another member follows), `None` on
    /// the closing `}`.
    #[inline]
    pub(super) fn next_member(&mut self) -> Scan<Option<()>> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(Some(()))
            }
            Some(b'}') => {
                self.i += 1;
                Ok(None)
            }
            _ => Err(Bad),
        }
    }

    /// After the opening `"`: the string, unescaped into `out` if it has escapes.
    #[inline]
    pub(super) fn string(&mut self, out: &mut String) -> Scan<Str> {
        let start = self.i;
        self.i = stop_at(self.b, self.i);
        if self.b.get(self.i) == Some(&b'"') {
            self.i += 1;
            return Ok(Str::Line(start as u32, (self.i - 1) as u32));
        }
        self.string_escaped(start, out)
    }

    #[cold]
    fn string_escaped(&mut self, start: usize, out: &mut String) -> Scan<Str> {
        let from = out.len();
        let mut run = start;
        loop {
            self.i = stop_at(self.b, self.i);
            let c = *self.b.get(self.i).ok_or(Bad)?;
            out.push_str(&self.text[run..self.i]);
            self.i += 1;
            match c {
                b'"' => return Ok(Str::Text(from as u32, out.len() as u32)),
                b'\\' => out.push(self.escape()?),
                _ => return Err(Bad),
            }
            run = self.i;
        }
    }

    /// After a `\`: the escaped character.
    fn escape(&mut self) -> Scan<char> {
        let c = *self.b.get(self.i).ok_or(Bad)?;
        self.i += 1;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                            return Err(Bad);
                        }
                        self.i += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(Bad);
                        }
                        0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Bad),
                    _ => u32::from(hi),
                };
                char::from_u32(code).ok_or(Bad)?
            }
            _ => return Err(Bad),
        })
    }

    fn hex4(&mut self) -> Scan<u16> {
        let digits = self.b.get(self.i..self.i + 4).ok_or(Bad)?;
        let mut n = 0u16;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(Bad)?;
            n = n * 16 + v as u16;
        }
        self.i += 4;
        Ok(n)
    }

    /// After the opening `"` of a string that is not kept: checks its grammar only.
    fn skip_string(&mut self) -> Scan<()> {
        loop {
            self.i = stop_at(self.b, self.i);
            let c = *self.b.get(self.i).ok_or(Bad)?;
            self.i += 1;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or(Bad)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.hex4()?;
                        }
                        _ => return Err(Bad),
                    }
                }
                _ => return Err(Bad),
            }
        }
    }

    /// A number (the cursor is on its first byte).
    #[inline]
    pub(super) fn number(&mut self) -> Scan<Num> {
        let start = self.i;
        let neg = self.b[self.i] == b'-';
        if neg {
            self.i += 1;
        }
        let digits = self.i;
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(Bad),
        }
        let mut float = false;
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            self.digits()?;
            float = true;
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
            float = true;
        }
        if !float && self.i - digits <= 19 {
            // At most 19 digits fit a u64 without overflow.
            let mut v = 0u64;
            for &d in &self.b[digits..self.i] {
                v = v * 10 + u64::from(d - b'0');
            }
            return Ok(if !neg {
                i64::try_from(v).map_or(Num::Big(v), Num::Int)
            } else if v == 0 {
                // `-0` is a float, as in serde_json.
                Num::Float(-0.0)
            } else if v <= 1 << 63 {
                Num::Int((v as i64).wrapping_neg())
            } else {
                Num::Float(-(v as f64))
            });
        }
        if !float {
            // 20 digits or more: a u64 if it fits, else a float (as serde_json does).
            if let (false, Ok(v)) = (neg, self.text[digits..self.i].parse::<u64>()) {
                return Ok(Num::Big(v));
            }
        }
        let f: f64 = self.text[start..self.i].parse().map_err(|_| Bad)?;
        if f.is_finite() {
            Ok(Num::Float(f))
        } else {
            Err(Bad)
        }
    }

    /// One or more digits.
    fn digits(&mut self) -> Scan<()> {
        let from = self.i;
        while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        if self.i == from {
            Err(Bad)
        } else {
            Ok(())
        }
    }

    /// `true`, `false` or `null` (the cursor is on its first byte).
    pub(super) fn word(&mut self, word: &[u8]) -> Scan<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// Skips any value, checking its grammar; `depth` containers are open around it.
    pub(super) fn skip_value(&mut self, depth: u32) -> Scan<()> {
        match self.peek().ok_or(Bad)? {
            b'"' => {
                self.i += 1;
                self.skip_string()
            }
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'[' => {
                self.i += 1;
                self.nest(depth)?;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(Bad),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                self.nest(depth)?;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.eat(b'"')?;
                    self.skip_string()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    if self.next_member()?.is_none() {
                        return Ok(());
                    }
                }
            }
            _ => Err(Bad),
        }
    }

    /// Checks that one more container may open when `open` are open already.
    fn nest(&self, open: u32) -> Scan<()> {
        if open >= MAX_OPEN {
            Err(Bad)
        } else {
            Ok(())
        }
    }

    /// Any value as a [`Value`], converted like [`Value::from_json`]; `depth` containers
    /// are open around it.
    pub(super) fn value(&mut self, depth: u32, scratch: &mut String) -> Scan<Value> {
        Ok(match self.peek().ok_or(Bad)? {
            b'"' => {
                self.i += 1;
                scratch.clear();
                match self.string(scratch)? {
                    Str::Line(a, b) => Value::str(self.line_str(a, b)),
                    Str::Text(a, b) => Value::str(&scratch[a as usize..b as usize]),
                }
            }
            b'-' | b'0'..=b'9' => match self.number()? {
                Num::Int(i) => Value::Int(i),
                Num::Big(u) => Value::Float(u as f64),
                Num::Float(f) => Value::Float(f),
            },
            b't' => self.word(b"true").map(|_| Value::Bool(true))?,
            b'f' => self.word(b"false").map(|_| Value::Bool(false))?,
            b'n' => self.word(b"null").map(|_| Value::Null)?,
            b'[' => self.list(depth, scratch)?,
            b'{' => {
                self.i += 1;
                self.nest(depth)?;
                let mut fields: Vec<(Arc<str>, Value)> = Vec::new();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        let key: Arc<str> = Arc::from(self.key(scratch)?);
                        let value = self.value(depth + 1, scratch)?;
                        // As in a JSON map: a repeated key keeps its place, takes the value.
                        match fields.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => fields.push((key, value)),
                        }
                        if self.next_member()?.is_none() {
                            break;
                        }
                    }
                }
                Value::Record(Arc::new(fields))
            }
            _ => return Err(Bad),
        })
    }

    /// An array as a [`Value::List`] (the cursor is on `[`).
    pub(super) fn list(&mut self, depth: u32, scratch: &mut String) -> Scan<Value> {
        self.eat(b'[')?;
        self.nest(depth)?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::list(items));
        }
        loop {
            items.push(self.value(depth + 1, scratch)?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::list(items));
                }
                _ => return Err(Bad),
            }
        }
    }
}

/// The index of the first `"`, `\\` or control character of `b` at or after `i` (or
/// `b.len()`), eight bytes at a time.
#[inline]
fn stop_at(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte's high bit is set where it is zero after the xor (or below 0x20); the
        // lowest set bit is exact, higher ones may be false alarms.
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
        let stops = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS);
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if STOPS[c as usize] {
            break;
        }
        i += 1;
    }
    i
}

/// Parses `text` as one JSON array (a CSV `list` cell).
pub(super) fn parse_list(text: &str) -> Option<Value> {
    let mut cur = Cursor::new(text);
    if cur.peek() != Some(b'[') {
        return None;
    }
    let list = cur.list(0, &mut String::new()).ok()?;
    cur.at_end().then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_at_finds_the_first_stop() {
        let naive = |b: &[u8], i: usize| {
            (i..b.len())
                .find(|&j| STOPS[b[j] as usize])
                .unwrap_or(b.len())
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, 0x00, b' ',
        ];
        let mut state = 12345u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 58) as usize;
            let b: Vec<u8> = (0..len)
                .map(|k| {
                    let r = (state >> (k % 50)) as usize ^ (k * 7);
                    if r % 5 < 1 {
                        alphabet[r % alphabet.len()]
                    } else {
                        b'x'
                    }
                })
                .collect();
            for i in 0..=len {
                assert_eq!(stop_at(&b, i), naive(&b, i), "{b:?} from {i}");
            }
        }
    }
}
