//! The writes waiting for Redis, coalesced by key and bounded by distinct keys.
//!
//! Only the latest update of a key is kept: a hash holds a key's latest features, so an
//! older update that was not written yet is worth nothing once a newer one exists. The
//! bound counts distinct keys waiting (and those being written); an update of a key that
//! is not waiting when the bound is reached is dropped and counted, so a key is never
//! dropped while the backlog has room.

use crate::engine::ProfileUpdate;
use crate::value::Value;
use nudge_compiler::plan::ProfileId;
use rustc_hash::FxHashMap;

/// What became of an offered update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// The key was not waiting: it is now.
    Queued,
    /// The key was waiting: its older update was replaced.
    Coalesced,
    /// The bound was reached and the key was not waiting: the update is lost.
    Dropped,
}

/// Updates waiting to be written, one per (profile, key).
#[derive(Debug)]
pub struct Backlog {
    pending: FxHashMap<(ProfileId, Value), ProfileUpdate>,
    max_keys: usize,
    /// Updates taken by the writer and not yet written, in the order taken.
    in_flight: Vec<ProfileUpdate>,
}

impl Backlog {
    /// A backlog of at most `max_keys` distinct keys (at least 1).
    pub fn new(max_keys: usize) -> Backlog {
        Backlog {
            pending: FxHashMap::default(),
            max_keys: max_keys.max(1),
            in_flight: Vec::new(),
        }
    }

    pub fn offer(&mut self, update: ProfileUpdate) -> Offered {
        let id = (update.profile, update.key.clone());
        if let Some(old) = self.pending.get_mut(&id) {
            *old = update;
            return Offered::Coalesced;
        }
        if self.pending.len() + self.in_flight.len() >= self.max_keys {
            return Offered::Dropped;
        }
        self.pending.insert(id, update);
        Offered::Queued
    }

    /// Takes up to `n` waiting keys for writing; they count against the bound until
    /// [`Backlog::written`].
    pub fn take(&mut self, n: usize) -> Vec<ProfileUpdate> {
        let batch: Vec<ProfileUpdate> = if self.pending.len() <= n {
            std::mem::take(&mut self.pending).into_values().collect()
        } else {
            let ids: Vec<(ProfileId, Value)> = self.pending.keys().take(n).cloned().collect();
            ids.iter()
                .filter_map(|id| self.pending.remove(id))
                .collect()
        };
        self.in_flight.extend(batch.iter().cloned());
        batch
    }

    /// The writer is done with `n` taken keys (written, or given up).
    pub fn written(&mut self, n: usize) {
        let n = n.min(self.in_flight.len());
        self.in_flight.drain(..n);
    }

    /// Copies of the updates not written yet (being written, then waiting) that `keep`
    /// selects: offered again in this order, the newest of a key wins.
    pub fn unwritten_where(&self, keep: impl Fn(&ProfileUpdate) -> bool) -> Vec<ProfileUpdate> {
        self.in_flight
            .iter()
            .chain(self.pending.values())
            .filter(|u| keep(u))
            .cloned()
            .collect()
    }

    /// Drops the waiting updates that `forget` selects (not those being written).
    pub fn forget_where(&mut self, forget: impl Fn(&ProfileUpdate) -> bool) {
        self.pending.retain(|_, u| !forget(u));
    }

    /// Keys waiting (not counting those being written).
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// Whether a newer update of `u`'s key is waiting.
    pub fn has_newer(&self, u: &ProfileUpdate) -> bool {
        self.pending.contains_key(&(u.profile, u.key.clone()))
    }

    /// Keys not written yet: waiting, or being written.
    pub fn unwritten(&self) -> usize {
        self.pending.len() + self.in_flight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(key: &str, ts: i64) -> ProfileUpdate {
        ProfileUpdate {
            profile: ProfileId(0),
            key: Value::str(key),
            ts,
            features: vec![Value::Int(ts)].into(),
            partition: 0,
        }
    }

    #[test]
    fn the_latest_update_of_a_key_wins() {
        let mut b = Backlog::new(10);
        assert_eq!(b.offer(update("u1", 1)), Offered::Queued);
        assert_eq!(b.offer(update("u1", 2)), Offered::Coalesced);
        assert_eq!(b.offer(update("u2", 3)), Offered::Queued);
        let mut batch = b.take(10);
        batch.sort_by_key(|u| u.ts);
        assert_eq!(batch, [update("u1", 2), update("u2", 3)]);
        assert!(b.is_empty());
    }

    #[test]
    fn the_bound_counts_keys_being_written_and_drops_only_new_keys() {
        let mut b = Backlog::new(2);
        b.offer(update("u1", 1));
        b.offer(update("u2", 2));
        assert_eq!(b.offer(update("u3", 3)), Offered::Dropped);
        assert_eq!(b.offer(update("u2", 4)), Offered::Coalesced);
        let batch = b.take(1);
        assert_eq!(batch.len(), 1);
        // One taken, one waiting: still full until the writer is done.
        assert_eq!(b.offer(update("u3", 5)), Offered::Dropped);
        b.written(1);
        assert_eq!(b.offer(update("u3", 6)), Offered::Queued);
        assert_eq!(b.waiting(), 2);
    }
}
