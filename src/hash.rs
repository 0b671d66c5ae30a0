//! The one place that owns hashing: token hashes, shingle hashes, the
//! per-seed permutations of sketches and seed expansion.
//!
//! Everything here is stable across runs, platforms and releases: it is what
//! makes signatures comparable and persisted files meaningful. Never use
//! `std::hash::Hash` or a randomly seeded hasher for any of it.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Multiplier of the polynomial that rolls token hashes into shingle hashes
/// (an odd 64-bit constant, so each position is a bijection mod 2^64).
const ROLL_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash of one normalized token (or one character, for character shingles).
#[inline]
pub(crate) fn token_hash(token: &[u8]) -> u64 {
    xxh3_64(token)
}

/// The finalizer of every shingle hash: the rolled polynomial with the
/// window length folded in. It is not avalanched: the polynomial of random
/// 64-bit token hashes already makes distinct shingles collide with
/// probability about 2^-64, and every consumer that needs avalanche (the
/// sketch's per-seed permutation) mixes anyway, so mixing here would be paid
/// twice per shingle.
#[inline]
pub(crate) fn finish_shingle(rolled: u64, len: usize) -> u64 {
    rolled ^ (len as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// Rolling polynomial over a window of token hashes:
/// `H = t0*B^(n-1) + t1*B^(n-2) + ... + t(n-1)`, updated in O(1) per step.
#[derive(Debug, Clone)]
pub(crate) struct Roller {
    /// `B^(n-1)`, to remove the outgoing token.
    top: u64,
    acc: u64,
}

impl Roller {
    /// A roller over windows of `n` hashes.
    pub(crate) fn new(n: usize) -> Roller {
        let mut top = 1u64;
        for _ in 1..n {
            top = top.wrapping_mul(ROLL_BASE);
        }
        Roller { top, acc: 0 }
    }

    /// Add a hash to the window (before it is full).
    #[inline]
    pub(crate) fn push(&mut self, h: u64) {
        self.acc = self.acc.wrapping_mul(ROLL_BASE).wrapping_add(h);
    }

    /// Slide the full window one step: drop `out`, add `h`.
    #[inline]
    pub(crate) fn roll(&mut self, out: u64, h: u64) {
        self.acc = self.acc.wrapping_sub(out.wrapping_mul(self.top)).wrapping_mul(ROLL_BASE).wrapping_add(h);
    }

    /// The finished hash of the current window of `len` hashes.
    #[inline]
    pub(crate) fn value(&self, len: usize) -> u64 {
        finish_shingle(self.acc, len)
    }
}

/// A strong 64-bit mixer (the MurmurHash3 finalizer), a bijection.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// Expand a user seed into a stream of 64-bit values (SplitMix64). The
/// stream is part of the sketch format: do not change it.
#[derive(Debug, Clone)]
pub(crate) struct SeedStream(u64);

impl SeedStream {
    /// A stream for `seed` and a purpose tag, so that different uses of the
    /// same seed are independent.
    pub(crate) fn new(seed: u64, purpose: u64) -> SeedStream {
        SeedStream(xxh3_64_with_seed(&purpose.to_le_bytes(), seed))
    }

    /// The next value.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Hash of a band of signature values, keyed by the band number so that
/// equal values in different bands never share a bucket.
#[inline]
pub(crate) fn band_hash(band: u32, values: &[u32]) -> u64 {
    let mut bytes = [0u8; 4 * 64];
    if values.len() <= 64 {
        for (chunk, v) in bytes.chunks_exact_mut(4).zip(values) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        xxh3_64_with_seed(&bytes[..4 * values.len()], u64::from(band))
    } else {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        xxh3_64_with_seed(&raw, u64::from(band))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(hs: &[u64]) -> u64 {
        let mut acc = 0u64;
        for &h in hs {
            acc = acc.wrapping_mul(ROLL_BASE).wrapping_add(h);
        }
        finish_shingle(acc, hs.len())
    }

    #[test]
    fn rolling_equals_direct_polynomial() {
        let hs: Vec<u64> = (0..20u64).map(|i| token_hash(&i.to_le_bytes())).collect();
        let n = 5;
        let mut r = Roller::new(n);
        for &h in &hs[..n] {
            r.push(h);
        }
        assert_eq!(r.value(n), direct(&hs[..n]));
        for i in n..hs.len() {
            r.roll(hs[i - n], hs[i]);
            assert_eq!(r.value(n), direct(&hs[i + 1 - n..=i]), "window ending {i}");
        }
    }

    #[test]
    fn order_matters() {
        let a = token_hash(b"a");
        let b = token_hash(b"b");
        assert_ne!(direct(&[a, b]), direct(&[b, a]));
    }

    #[test]
    fn pinned_values() {
        // These pin the hash stream: a change here breaks persisted sketches.
        assert_eq!(token_hash(b""), 0x2d06800538d394c2);
        assert_eq!(mix64(1), 0xb456bcfc34c2cb2c);
        let mut s = SeedStream::new(0, 0);
        let first = s.next_u64();
        assert_eq!(first, SeedStream::new(0, 0).next_u64());
        assert_ne!(first, SeedStream::new(1, 0).next_u64());
        assert_ne!(first, SeedStream::new(0, 1).next_u64());
    }

    #[test]
    fn band_hash_depends_on_band_and_values() {
        assert_ne!(band_hash(0, &[1, 2]), band_hash(1, &[1, 2]));
        assert_ne!(band_hash(0, &[1, 2]), band_hash(0, &[2, 1]));
        let long: Vec<u32> = (0..100).collect();
        assert_eq!(band_hash(3, &long), band_hash(3, &long));
    }
}
