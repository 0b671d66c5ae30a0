//! Every document's shingle set as 32-bit fingerprints, kept so that a pair
//! whose signature estimate is too close to the threshold to trust is
//! settled by its Jaccard similarity, as `dedup` settles it from the texts
//! (which an index does not keep).
//!
//! A fingerprint is the top 32 bits of a shingle's 64-bit hash. Two
//! distinct shingles of a pair share one with probability 2^-32 per pair of
//! them: for two 5 KB pages (about 850 shingles each) one spurious shared
//! shingle in about 6,000 pairs, which moves their Jaccard by about 1/1,000.
//!
//! A document's fingerprints are kept as its text gives them (repeats
//! included): 4 bytes a shingle, half of what the 64-bit hashes take.
//! Sorting them costs about a fifth of sketching the page (4 µs for 5 KB),
//! so it is left to the pairs that need it, which are few: a page has
//! candidates only when something like it is indexed, and a candidate needs
//! its set only when the estimate is doubtful.

/// The fingerprint of a shingle hash.
pub(crate) fn fingerprint(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// Fingerprints, concatenated in document order; `ends[d]` is where
/// document `d`'s end.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Prints {
    pub(crate) values: Vec<u32>,
    pub(crate) ends: Vec<u64>,
}

impl Prints {
    /// Document `d`'s fingerprints, in text order.
    pub(crate) fn get(&self, d: u32) -> &[u32] {
        let d = d as usize;
        let start = if d == 0 { 0 } else { self.ends[d - 1] as usize };
        &self.values[start..self.ends[d] as usize]
    }

    /// Append the next document's fingerprints.
    pub(crate) fn push(&mut self, prints: &[u32]) {
        self.values.extend_from_slice(prints);
        self.ends.push(self.values.len() as u64);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.values.capacity() * 4 + self.ends.capacity() * 8
    }

    /// Check what a saved file held: the fingerprints of `n` documents.
    pub(crate) fn check(&self, n: usize) -> std::result::Result<(), String> {
        if self.ends.len() != n {
            return Err(format!("fingerprints of {} documents for {n} documents", self.ends.len()));
        }
        let mut start = 0u64;
        for (d, &end) in self.ends.iter().enumerate() {
            if end < start || end > self.values.len() as u64 {
                return Err(format!("fingerprints of document {d} end out of order"));
            }
            start = end;
        }
        if start != self.values.len() as u64 {
            return Err("fingerprints after the last set".into());
        }
        Ok(())
    }
}

/// The set of `prints` (sorted, no repeats).
pub(crate) fn set_of(prints: &[u32]) -> Vec<u32> {
    let mut v = prints.to_vec();
    sort_unique(&mut v, &mut Vec::new());
    v
}

/// Jaccard similarity of a set (sorted, no repeats) to the set of
/// `prints`, sorted in this thread's scratch space.
pub(crate) fn jaccard_to(set: &[u32], prints: &[u32]) -> f64 {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Vec<u32>, Vec<u32>)> =
            const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    SCRATCH.with(|cell| {
        let (v, scratch) = &mut *cell.borrow_mut();
        v.clear();
        v.extend_from_slice(prints);
        sort_unique(v, scratch);
        crate::shingle::sorted_jaccard(set, v)
    })
}

/// Sort `v` and drop its repeats, in time linear in its length for hashes:
/// values are scattered by their top bits into about as many buckets as
/// there are values, then insertion-sorted (each moves within its bucket).
/// Values that are not spread out (the insertion sort moves them too far)
/// fall back to a comparison sort, so no input takes more than n log n.
pub(crate) fn sort_unique(v: &mut Vec<u32>, scratch: &mut Vec<u32>) {
    let n = v.len();
    if n <= 32 {
        v.sort_unstable();
        v.dedup();
        return;
    }
    let bits = usize::BITS - (n - 1).leading_zeros(); // 2^bits >= n
    let shift = 32 - bits;
    let mut starts = vec![0u32; (1 << bits) + 1];
    for &x in v.iter() {
        starts[(x >> shift) as usize + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    scratch.clear();
    scratch.resize(n, 0);
    for &x in v.iter() {
        let b = (x >> shift) as usize;
        scratch[starts[b] as usize] = x;
        starts[b] += 1;
    }
    std::mem::swap(v, scratch);
    let (mut moves, limit) = (0usize, 8 * n);
    for i in 1..n {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
        moves += i - j;
        if moves > limit {
            v.sort_unstable();
            break;
        }
    }
    v.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(v: &[u32]) -> Vec<u32> {
        let mut w = v.to_vec();
        w.sort_unstable();
        w.dedup();
        w
    }

    #[test]
    fn sorts_spread_out_and_clumped_values() {
        let mut scratch = Vec::new();
        let spread: Vec<u32> = (0..5000u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        // repeats, and values that all land in one bucket (the fallback)
        let clumped: Vec<u32> = (0..5000u32).map(|i| (i * 7919) % 3000).collect();
        let mut doubled = spread.clone();
        doubled.extend(spread.iter().rev());
        for v in [spread, clumped, doubled, vec![u32::MAX; 100], vec![]] {
            let mut got = v.clone();
            sort_unique(&mut got, &mut scratch);
            assert_eq!(got, naive(&v));
        }
    }

    #[test]
    fn sets_are_stored_and_checked() {
        let mut p = Prints::default();
        p.push(&[1, 5, 9]);
        p.push(&[]);
        p.push(&[2]);
        assert_eq!((p.get(0), p.get(1), p.get(2)), (&[1, 5, 9][..], &[][..], &[2][..]));
        assert_eq!(p.check(3), Ok(()));
        assert!(p.check(2).is_err());
        p.ends[1] = 9;
        assert!(p.check(3).unwrap_err().contains("out of order"));
    }

    #[test]
    fn jaccard_of_fingerprints_in_any_order() {
        let a = set_of(&[9, 1, 5, 1, 7]);
        assert_eq!(a, [1, 5, 7, 9]);
        assert_eq!(jaccard_to(&a, &[7, 5, 9, 9, 2, 1, 5]), 0.8);
        assert_eq!(jaccard_to(&a, &[]), 0.0);
    }

    proptest! {
        #[test]
        fn sort_unique_is_sort_then_dedup(v in proptest::collection::vec(any::<u32>(), 0..600), small in any::<bool>()) {
            let v: Vec<u32> = if small { v.iter().map(|x| x % 64).collect() } else { v };
            let mut got = v.clone();
            sort_unique(&mut got, &mut Vec::new());
            prop_assert_eq!(got, naive(&v));
        }
    }
}
