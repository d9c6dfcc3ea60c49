//! Sharing repeated field strings: one allocation for every `"web"`, `"running shoes"`.
//!
//! Allocating the strings an event keeps is most of the cost of decoding it. Yet many
//! fields take few distinct values (a channel, a category, a popular product). Each
//! string field has a small direct-mapped cache of recent values; a value found there is
//! shared (an `Arc` clone), any other is allocated and takes its place. A field whose
//! values rarely repeat (a user id, an order id) is noticed by its hit rate and left
//! alone for a while, so it pays almost nothing. Sharing never changes a value: only
//! how many copies of it exist.

use std::sync::Arc;

/// Entries per field (a power of two).
const ENTRIES: usize = 512;
/// Lookups per measuring round.
const ROUND: u32 = 4096;
/// A field with fewer hits than this in a round is not cached for [`PAUSE`] strings.
const MIN_HITS: u32 = ROUND / 8;
const PAUSE: u32 = 1 << 16;

/// The caches of every field, indexed by `FieldId`.
pub(super) struct Interner {
    fields: Vec<FieldCache>,
}

struct FieldCache {
    /// Allocated on first use.
    entries: Vec<Option<Arc<str>>>,
    lookups: u32,
    hits: u32,
    /// Strings left to allocate without looking, while paused.
    paused: u32,
}

impl Interner {
    pub(super) fn new(fields: usize) -> Interner {
        Interner {
            fields: (0..fields)
                .map(|_| FieldCache {
                    entries: Vec::new(),
                    lookups: 0,
                    hits: 0,
                    paused: 0,
                })
                .collect(),
        }
    }

    /// `s` as a shared string for field `field`.
    #[inline]
    pub(super) fn get(&mut self, field: usize, s: &str) -> Arc<str> {
        match self.fields.get_mut(field) {
            Some(cache) => cache.get(s),
            None => Arc::from(s),
        }
    }
}

impl FieldCache {
    #[inline]
    fn get(&mut self, s: &str) -> Arc<str> {
        if self.paused > 0 {
            self.paused -= 1;
            return Arc::from(s);
        }
        if !self.entries.is_empty() {
            let slot = slot_of(s.as_bytes());
            if let Some(a) = &self.entries[slot] {
                if same_bytes(a.as_bytes(), s.as_bytes()) {
                    self.hits += 1;
                    let shared = a.clone();
                    self.count_lookup();
                    return shared;
                }
            }
        }
        self.miss(s)
    }

    #[inline(never)]
    fn miss(&mut self, s: &str) -> Arc<str> {
        if self.entries.is_empty() {
            self.entries = vec![None; ENTRIES];
        }
        let a: Arc<str> = Arc::from(s);
        self.entries[slot_of(s.as_bytes())] = Some(a.clone());
        self.count_lookup();
        a
    }

    #[inline]
    fn count_lookup(&mut self) {
        self.lookups += 1;
        if self.lookups == ROUND {
            if self.hits < MIN_HITS {
                self.paused = PAUSE;
                self.entries = Vec::new();
            }
            self.lookups = 0;
            self.hits = 0;
        }
    }
}

/// Byte equality, without a call to `memcmp` for the short strings of most fields.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    let (a_head, a_tail) = head_tail(a);
    let (b_head, b_tail) = head_tail(b);
    a_head == b_head && a_tail == b_tail
}

/// The first and the last (up to) eight bytes of `b`, as numbers: together they cover a
/// string of up to 16 bytes.
#[inline]
pub(super) fn head_tail(b: &[u8]) -> (u64, u64) {
    if b.len() >= 8 {
        (load8(&b[..8]), load8(&b[b.len() - 8..]))
    } else {
        let w = short_word(b);
        (w, w)
    }
}

#[inline]
fn load8(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("eight bytes"))
}

/// Fewer than eight bytes as a number (little-endian), without a `memcpy` call.
#[inline]
fn short_word(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        // Two overlapping loads; the overlap holds the same bytes in both.
        let lo = u64::from(u32::from_le_bytes(b[..4].try_into().expect("four bytes")));
        let hi = u64::from(u32::from_le_bytes(
            b[n - 4..].try_into().expect("four bytes"),
        ));
        lo | hi << ((n - 4) * 8)
    } else if n > 0 {
        let (first, mid, last) = (u64::from(b[0]), u64::from(b[n / 2]), u64::from(b[n - 1]));
        first | mid << (8 * (n / 2)) | last << (8 * (n - 1))
    } else {
        0
    }
}

/// The cache slot of a string: a hash of its length and its first, middle and last
/// eight bytes.
#[inline]
fn slot_of(b: &[u8]) -> usize {
    let (head, tail) = head_tail(b);
    let mut h = (head ^ tail.rotate_left(23)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if b.len() > 16 {
        let mid = b.len() / 2 - 4;
        h = (h ^ load8(&b[mid..mid + 8])).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    h ^= b.len() as u64;
    (h.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> (64 - ENTRIES.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_values_share_one_allocation() {
        let mut i = Interner::new(2);
        let a = i.get(0, "running shoes");
        let b = i.get(0, "running shoes");
        assert!(Arc::ptr_eq(&a, &b));
        let c = i.get(1, "running shoes");
        assert!(!Arc::ptr_eq(&a, &c), "fields have their own caches");
        assert_eq!(&*i.get(0, "sneakers"), "sneakers");
        assert_eq!(&*i.get(5, "no such field"), "no such field");
        for s in [
            "",
            "a",
            "exactly16bytes!!",
            "a string longer than sixteen bytes",
        ] {
            let x = i.get(0, s);
            assert_eq!(&*x, s);
            assert!(Arc::ptr_eq(&x, &i.get(0, s)));
        }
    }

    #[test]
    fn values_that_never_repeat_pause_the_cache() {
        let mut i = Interner::new(1);
        for n in 0..ROUND {
            assert_eq!(&*i.get(0, &format!("u{n:07}")), format!("u{n:07}"));
        }
        assert_eq!(i.fields[0].paused, PAUSE);
        assert!(same_bytes(b"abc", b"abc") && !same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"abcd") && !same_bytes(b"", b"a"));
        let long = b"0123456789abcdefXY";
        assert!(same_bytes(long, long) && !same_bytes(long, b"0123456789abcdefXZ"));
        assert!(i.fields[0].entries.is_empty());
        let a = i.get(0, "web");
        let b = i.get(0, "web");
        assert!(!Arc::ptr_eq(&a, &b), "paused");
    }

    #[test]
    fn short_words_are_little_endian() {
        for n in 0..8 {
            let b: Vec<u8> = (1..=n as u8).collect();
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&b);
            assert_eq!(short_word(&b), u64::from_le_bytes(w), "{n}");
        }
        let (h, t) = head_tail(b"0123456789");
        assert_eq!((h, t), (load8(b"01234567"), load8(b"23456789")));
    }

    #[test]
    fn slots_spread() {
        let mut used = std::collections::HashSet::new();
        for n in 0..ENTRIES {
            used.insert(slot_of(format!("p{n:05}").as_bytes()));
        }
        assert!(used.len() > ENTRIES / 2, "{}", used.len());
    }
}
