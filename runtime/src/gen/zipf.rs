//! A Zipf law over ranks as an alias table (Walker, Vose): one random number a draw.

use rand::RngExt;

/// Ranks `0..n` with P(rank k) proportional to `1 / (k + 1)^s`.
pub(super) struct ZipfTable {
    /// Per column: the threshold below which the column keeps its own rank, out of 2^32.
    keep: Vec<u64>,
    alias: Vec<u32>,
}

impl ZipfTable {
    pub(super) fn new(n: usize, s: f64) -> ZipfTable {
        let n = n.max(1);
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut keep = vec![1u64 << 32; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = (scaled[s] * 4_294_967_296.0) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        ZipfTable { keep, alias }
    }

    /// A rank, 0 the most likely.
    #[inline]
    pub(super) fn sample(&self, rng: &mut impl RngExt) -> usize {
        let r: u64 = rng.random();
        let column = (((r >> 32) * self.keep.len() as u64) >> 32) as usize;
        if (r & 0xFFFF_FFFF) < self.keep[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn frequencies_follow_the_law() {
        let table = ZipfTable::new(100, 1.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0u32; 100];
        let draws = 1_000_000;
        for _ in 0..draws {
            counts[table.sample(&mut rng)] += 1;
        }
        let h: f64 = (1..=100).map(|k| 1.0 / k as f64).sum();
        for (k, &c) in counts.iter().enumerate() {
            let want = draws as f64 / ((k + 1) as f64 * h);
            let tolerance = 5.0 * want.sqrt() + 5.0;
            assert!(
                (c as f64 - want).abs() < tolerance,
                "rank {k}: {c} vs {want}"
            );
        }
        let one = ZipfTable::new(1, 1.07);
        assert_eq!(one.sample(&mut rng), 0);
    }
}
