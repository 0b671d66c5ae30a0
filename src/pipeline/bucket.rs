//! Bucketing: band keys grouped into buckets, wherever they are kept (sorted
//! in memory, or merged from sorted runs on disk), and the candidate pairs a
//! batch of buckets gives.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::lsh::{self, Likeness, LshParams};
use crate::pipeline::signatures::Signatures;
use crate::pipeline::verify::Rule;

/// One bucket: the `(key, doc)` band keys of its members.
pub(crate) type Bucket<'a> = &'a [(u64, u32)];

/// What a batch of buckets is handed to, with how many band keys are
/// behind it so far and in all (0: unknown).
pub(crate) type BatchFn<'f> = dyn FnMut(&[Bucket<'_>], (u64, u64)) -> Result<()> + 'f;

/// A source of buckets: runs of band keys `(key, doc)` with one key and two
/// members or more, members in document order, buckets in key order.
pub(crate) trait Buckets {
    /// Call `f` with successive batches of buckets.
    fn for_each_batch(&mut self, f: &mut BatchFn<'_>) -> Result<()>;
}

/// Band keys in memory, sorted at once: one batch of every bucket (the
/// `link` stage, whose keys come from the bands files).
pub(crate) struct SortedKeys(pub(crate) Vec<(u64, u32)>);

/// The buckets of signatures in memory, one band at a time: a batch per
/// band, so that only one band's keys (16 bytes a document) are held, not
/// every band's. A pair that collides in several bands comes in several
/// batches; the linker skips it once its documents are joined.
pub(crate) struct BandKeys<'a, S: Signatures + ?Sized> {
    pub(crate) lsh: LshParams,
    pub(crate) sigs: &'a S,
}

impl<S: Signatures + ?Sized> Buckets for BandKeys<'_, S> {
    fn for_each_batch(&mut self, f: &mut BatchFn<'_>) -> Result<()> {
        const CHUNK: u32 = 4096;
        let (sigs, lsh) = (self.sigs, self.lsh);
        let n = sigs.len() as u32;
        let (k, r) = (sigs.num_perm(), lsh.rows as usize);
        let mut keys: Vec<(u64, u32)> = Vec::new();
        for band in 0..lsh.bands {
            let failure: Mutex<Option<Error>> = Mutex::new(None);
            let lo_slot = band as usize * r;
            keys.clear();
            keys.par_extend((0..n.div_ceil(CHUNK)).into_par_iter().flat_map_iter(|c| {
                let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                let mut v = Vec::with_capacity((hi - lo) as usize);
                match sigs.sig_range(lo..hi) {
                    Ok(flat) => {
                        for d in lo..hi {
                            if sigs.samples(d) > 0 {
                                let at = (d - lo) as usize * k + lo_slot;
                                v.push((crate::hash::band_hash(band, &flat[at..at + r]), d));
                            }
                        }
                    }
                    Err(e) => keep_first(&failure, e),
                }
                v
            }));
            first_error(failure)?;
            keys.par_sort_unstable();
            let buckets: Vec<&[(u64, u32)]> =
                keys.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1).collect();
            let done = u64::from(band + 1) * u64::from(n);
            f(&buckets, (done, u64::from(lsh.bands) * u64::from(n)))?;
        }
        Ok(())
    }
}

impl Buckets for SortedKeys {
    fn for_each_batch(&mut self, f: &mut BatchFn<'_>) -> Result<()> {
        let keys = &mut self.0;
        keys.par_sort_unstable();
        keys.dedup();
        let buckets: Vec<&[(u64, u32)]> = keys.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1).collect();
        let n = keys.len() as u64;
        f(&buckets, (n, n))
    }
}

/// The candidate pairs of a batch of buckets, sorted and unique: all pairs
/// of small buckets, pivots for large ones ([`lsh::bucket_pairs`]), judged
/// by `rule` from `sigs`.
pub(crate) fn batch_pairs(
    rule: &Rule,
    sigs: &(impl Signatures + ?Sized),
    buckets: &[&[(u64, u32)]],
) -> Result<Vec<(u32, u32)>> {
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let mut pairs: Vec<(u32, u32)> = buckets
        .par_iter()
        .flat_map_iter(|members| {
            // a large bucket compares its pivots with every member: keep
            // their signatures (a bounded cache, for spilled signatures)
            let mut cache: HashMap<u32, Cow<'_, [u32]>> = HashMap::new();
            let mut judge = |a: u32, b: u32| -> Result<Likeness> {
                let samples = sigs.samples(a).min(sigs.samples(b));
                if samples == 0 {
                    return Ok(Likeness::No);
                }
                if cache.len() > 2 * lsh::MAX_PIVOTS {
                    cache.clear();
                }
                for d in [a, b] {
                    if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(d) {
                        e.insert(sigs.sig(d)?);
                    }
                }
                Ok(rule.likeness_of(&cache[&a], &cache[&b], samples))
            };
            lsh::bucket_pairs(members, &mut judge).unwrap_or_else(|e| {
                keep_first(&failure, e);
                Vec::new()
            })
        })
        .collect();
    first_error(failure)?;
    pairs.par_sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

/// Keep the first error of parallel work.
fn keep_first(failure: &Mutex<Option<Error>>, e: Error) {
    if let Ok(mut f) = failure.lock() {
        f.get_or_insert(e);
    }
}

/// The error parallel work kept, if any.
fn first_error(failure: Mutex<Option<Error>>) -> Result<()> {
    match failure.into_inner() {
        Ok(Some(e)) => Err(e),
        Ok(None) => Ok(()),
        Err(_) => Err(Error::Internal("a worker thread panicked".into())),
    }
}
