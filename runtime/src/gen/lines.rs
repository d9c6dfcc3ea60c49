//! Writing the generator's lines: JSON built by hand (fast, compact, fields in schema
//! order), and what each line is, for the counts.

use super::catalog;
use crate::decode::DeadReason;

/// What a written line is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Search(i64),
    View(i64),
    Cart(i64),
    /// A purchase line; `true` for the first line of its order.
    Purchase(i64, bool),
    Late,
    Bad(DeadReason),
}

/// The lines of one step: their text and, per line, where it ends and what it is.
#[derive(Default)]
pub(super) struct Lines {
    pub(super) text: Vec<u8>,
    pub(super) marks: Vec<(usize, Kind)>,
}

impl Lines {
    pub(super) fn end(&mut self, kind: Kind) {
        self.text.push(b'\n');
        self.marks.push((self.text.len(), kind));
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.marks.clear();
    }
}

/// `line` with the value of `"key":` (a scalar: up to the next `,` or `}`) replaced.
pub(super) fn replace_value(line: &str, key: &str, value: &str) -> String {
    let pat = format!("\"{key}\":");
    let Some(at) = line.find(&pat) else {
        return line.to_string();
    };
    let from = at + pat.len();
    let to = from + line[from..].find([',', '}']).unwrap_or(line.len() - from);
    format!("{}{}{}", &line[..from], value, &line[to..])
}

/// `{"type":"T","ts":N,"user_id":"u0000001","channel":"web"` (no closing brace).
pub(super) fn line_head(out: &mut Vec<u8>, ty: &str, ts: i64, user: u32, channel: &str) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"ts\":");
    if ts < 0 {
        out.push(b'-');
    }
    push_u64(out, ts.unsigned_abs());
    out.extend_from_slice(b",\"user_id\":\"u");
    push_padded(out, u64::from(user) + 1, 7);
    out.extend_from_slice(b"\",\"channel\":\"");
    out.extend_from_slice(channel.as_bytes());
    out.push(b'"');
}

/// `,"product_id":"p00001","category":"...","price":12.99`
pub(super) fn push_product(out: &mut Vec<u8>, product: u32, category: usize, price_cents: u64) {
    out.extend_from_slice(b",\"product_id\":\"p");
    push_padded(out, u64::from(product), 5);
    out.extend_from_slice(b"\",\"category\":\"");
    out.extend_from_slice(catalog::category_name(category).as_bytes());
    out.extend_from_slice(b"\",\"price\":");
    push_cents(out, price_cents);
}

pub(super) fn push_cents(out: &mut Vec<u8>, cents: u64) {
    push_u64(out, cents / 100);
    out.push(b'.');
    push_padded(out, cents % 100, 2);
}

pub(super) fn push_u64(out: &mut Vec<u8>, n: u64) {
    push_padded(out, n, 1);
}

/// `n` in decimal, zero-padded to at least `width` digits.
pub(super) fn push_padded(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n > 0 || digits.len() - i < width {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[i..]);
}
