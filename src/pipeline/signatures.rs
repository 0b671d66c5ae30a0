//! What sketching leaves per document, and where it is kept: signatures,
//! their number of independent samples, and shingle sets (every document's
//! when verification is exact, small documents' otherwise).

use std::borrow::Cow;
use std::ops::Range;

use crate::error::Result;

/// What one document turned into while reading.
#[derive(Debug)]
pub(crate) struct Sketched {
    pub(crate) sig: Vec<u32>,
    pub(crate) samples: u32,
    pub(crate) set: Option<Vec<u64>>,
    pub(crate) small: Option<Box<[u64]>>,
}

/// In estimate mode, a document with at most this many distinct shingles
/// keeps its shingle set (no bigger than its signature), so that its doubtful
/// pairs are settled without re-reading its text.
pub(crate) const SMALL_SET_MAX: usize = 128;

/// The sorted, unique set of `hashes` if it has at most [`SMALL_SET_MAX`]
/// elements (`hashes` holds every shingle of the document, or more than
/// `2 * SMALL_SET_MAX` of them when it was cut short).
pub(crate) fn small_set(mut hashes: Vec<u64>) -> Option<Box<[u64]>> {
    if hashes.is_empty() || hashes.len() > 2 * SMALL_SET_MAX {
        return None;
    }
    hashes.sort_unstable();
    hashes.dedup();
    (hashes.len() <= SMALL_SET_MAX).then(|| hashes.into_boxed_slice())
}

/// The signatures of a corpus, by dense document number, wherever they are
/// kept (in memory, or in a spill file read back by position). A failed
/// read is an error, never a made-up signature.
pub(crate) trait Signatures: Sync {
    /// Number of documents.
    fn len(&self) -> usize;
    /// Slots per signature.
    fn num_perm(&self) -> usize;
    /// Independent samples in document `d`'s signature (0: no shingles).
    fn samples(&self, d: u32) -> u32;
    /// The signatures of documents `docs`, one after the other.
    fn sig_range(&self, docs: Range<u32>) -> Result<Cow<'_, [u32]>>;
    /// Document `d`'s signature.
    fn sig(&self, d: u32) -> Result<Cow<'_, [u32]>> {
        self.sig_range(d..d + 1)
    }
    /// Document `d`'s shingle set, when it was kept.
    fn set(&self, d: u32) -> Option<&[u64]>;
    /// True when every document's set is kept (exact verification).
    fn exact(&self) -> bool;
    /// A hint that the signatures of `docs` are read soon: signatures on
    /// disk start their reads now, all at once. It changes nothing but speed.
    fn prefetch(&self, _docs: &[u32]) {}
}

/// Signatures in memory (flat, `num_perm` per document), with their samples
/// and the kept shingle sets.
#[derive(Debug, Default)]
pub(crate) struct Sketches {
    num_perm: usize,
    sigs: Vec<u32>,
    samples: Vec<u32>,
    /// Exact mode: every document's set.
    sets: Option<Vec<Vec<u64>>>,
    /// Estimate mode: the shingle set of each small document.
    small: Vec<Option<Box<[u64]>>>,
}

impl Sketches {
    pub(crate) fn new(num_perm: usize, exact: bool, capacity: usize) -> Sketches {
        Sketches {
            num_perm,
            sigs: Vec::with_capacity(num_perm * capacity),
            samples: Vec::with_capacity(capacity),
            sets: exact.then(Vec::new),
            small: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn push(&mut self, s: Sketched) {
        self.sigs.extend_from_slice(&s.sig);
        self.samples.push(s.samples);
        if let Some(sets) = self.sets.as_mut() {
            sets.push(s.set.unwrap_or_default());
            self.small.push(None);
        } else {
            self.small.push(s.small);
        }
    }

    /// Signatures and samples read back (the `link` stage): `sets` when
    /// verification is exact (every document's set), else `small` (the sets
    /// small documents kept).
    pub(crate) fn from_parts(
        num_perm: usize,
        sigs: Vec<u32>,
        samples: Vec<u32>,
        sets: Option<Vec<Vec<u64>>>,
        small: Vec<Option<Box<[u64]>>>,
    ) -> Sketches {
        let small = if sets.is_some() { vec![None; samples.len()] } else { small };
        Sketches { num_perm, sigs, samples, sets, small }
    }

    /// Every document's shingle set, when verification is exact.
    pub(crate) fn sets(&self) -> Option<&[Vec<u64>]> {
        self.sets.as_deref()
    }

    /// Documents with no shingles.
    pub(crate) fn empty_documents(&self) -> usize {
        self.samples.iter().filter(|&&s| s == 0).count()
    }
}

impl Signatures for Sketches {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn num_perm(&self) -> usize {
        self.num_perm
    }

    fn samples(&self, d: u32) -> u32 {
        self.samples[d as usize]
    }

    fn sig_range(&self, docs: Range<u32>) -> Result<Cow<'_, [u32]>> {
        let k = self.num_perm;
        Ok(Cow::Borrowed(&self.sigs[docs.start as usize * k..docs.end as usize * k]))
    }

    fn set(&self, d: u32) -> Option<&[u64]> {
        match &self.sets {
            Some(sets) => Some(&sets[d as usize]),
            None => self.small[d as usize].as_deref(),
        }
    }

    fn exact(&self) -> bool {
        self.sets.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sets_are_kept_only_when_small() {
        assert_eq!(small_set(vec![3, 1, 3, 2]).as_deref(), Some(&[1u64, 2, 3][..]));
        assert!(small_set(Vec::new()).is_none());
        assert!(small_set((0..=SMALL_SET_MAX as u64).collect()).is_none());
        // duplicates do not count against the limit
        let mut dup: Vec<u64> = (0..SMALL_SET_MAX as u64).collect();
        dup.extend(0..10);
        assert_eq!(small_set(dup).map(|s| s.len()), Some(SMALL_SET_MAX));
        assert!(small_set((0..(2 * SMALL_SET_MAX + 1) as u64).map(|i| i % 3).collect()).is_none());
    }
}
