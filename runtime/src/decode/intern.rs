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
        if self.entries.is_empty() {
            self.entries = vec![None; ENTRIES];
        }
        self.lookups += 1;
        let slot = &mut self.entries[slot_of(s.as_bytes())];
        let shared = match slot {
            Some(a) if **a == *s => {
                self.hits += 1;
                a.clone()
            }
            _ => {
                let a: Arc<str> = Arc::from(s);
                *slot = Some(a.clone());
                a
            }
        };
        if self.lookups == ROUND {
            if self.hits < MIN_HITS {
                self.paused = PAUSE;
                self.entries = Vec::new();
            }
            self.lookups = 0;
            self.hits = 0;
        }
        shared
    }
}

/// The cache slot of a string: a hash of its length and its first, middle and last
/// eight bytes.
#[inline]
fn slot_of(b: &[u8]) -> usize {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let n = b.len().min(8);
    let mid = b.len() / 2 - b.len().min(16) / 4;
    let mut h = word(&b[..n]);
    h = (h ^ word(&b[b.len() - n..]).rotate_left(23)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if b.len() > 16 {
        h = (h ^ word(&b[mid..mid + 8])).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
        assert!(i.fields[0].entries.is_empty());
        let a = i.get(0, "web");
        let b = i.get(0, "web");
        assert!(!Arc::ptr_eq(&a, &b), "paused");
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
