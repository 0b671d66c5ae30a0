//! The deduplication steps on one batch of values at a time, for engines
//! that schedule the work and shuffle between the steps themselves (the
//! Spark driver of the Python package): sign texts, walk a large bucket's
//! pivots, judge candidate pairs, settle doubtful ones from their texts, the
//! similarity to a representative, and union-find over edges.
//!
//! Each step is the one `dedup` and the stage commands run: the same
//! normalization, sketch and band keys, the same pivot walk of large
//! buckets, the same likeness rule and exact Jaccard. An engine that pairs
//! every bucket's members as [`BucketWalk`] does (all pairs of a bucket of at
//! most [`ALL_PAIRS_MAX`] members, the pivot walk of a larger one in id
//! order), links the pairs that
//! [`Kernel::judge`] calls sure and the doubtful ones whose
//! [`Kernel::jaccard`] reaches the threshold, and takes connected
//! components gets the clusters of `dedup`.
//!
//! A signature travels as a blob: the parameters' fingerprint (8 bytes, so
//! that a step given signatures made with other parameters refuses them),
//! then the slots, little-endian.

use rayon::prelude::*;

use crate::dedup::{Dedup, Verify};
use crate::error::{Error, Result};
use crate::io::InputFile;
use crate::io::StreamReport;
use crate::lsh::{self, Likeness, Pivots};
use crate::pipeline::cluster::UnionFind;
use crate::pipeline::verify::Rule;
use crate::shingle::{Shingler, jaccard};
use crate::stages::StageParams;

pub use crate::lsh::ALL_PAIRS_MAX;

/// Bytes of a signature blob before its slots: the fingerprint.
pub const BLOB_HEADER: usize = 8;

/// A pair's verdict from its signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Judgement {
    /// Clearly below the threshold (or an empty document): not linked.
    No,
    /// Too close to the threshold to trust the estimate: settle it with
    /// [`Kernel::jaccard`] of the two texts.
    Doubtful,
    /// Clearly at or above the threshold: linked.
    Sure,
}

/// One batch of signed documents: per document its samples (0: no
/// shingles, and no band keys), its signature blob and its band keys.
#[derive(Debug, Default, Clone)]
pub struct SignedBatch {
    /// Independent samples of each signature.
    pub samples: Vec<u32>,
    /// The blobs, one after the other, [`Kernel::blob_len`] bytes each.
    pub blobs: Vec<u8>,
    /// The band keys, [`Kernel::bands`] per document (zeros for a document
    /// without shingles, which is in no bucket).
    pub band_keys: Vec<u64>,
}

/// The steps, for one set of parameters.
#[derive(Debug)]
pub struct Kernel {
    dedup: Dedup,
    params: StageParams,
    fingerprint: String,
    tag: u64,
    num_perm: usize,
}

impl Kernel {
    /// The steps of `dedup` (its parameters; texts are given, so how inputs
    /// are read does not matter).
    pub fn new(dedup: Dedup) -> Kernel {
        let params = StageParams::of(&dedup);
        let fingerprint = params.fingerprint();
        let tag = xxhash_rust::xxh3::xxh3_64(fingerprint.as_bytes());
        let num_perm = dedup.params().sketch.num_perm as usize;
        Kernel { dedup, params, fingerprint, tag, num_perm }
    }

    /// The parameters' fingerprint, as the stage files record it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The parameters, as the stage files record them.
    pub fn stage_params(&self) -> &StageParams {
        &self.params
    }

    /// Bands per signature.
    pub fn bands(&self) -> usize {
        self.dedup.lsh_params().bands as usize
    }

    /// Bytes of one signature blob.
    pub fn blob_len(&self) -> usize {
        BLOB_HEADER + 4 * self.num_perm
    }

    /// True when every candidate is verified from the texts.
    pub fn exact(&self) -> bool {
        self.dedup.verify_mode() == Verify::Exact
    }

    /// Sign `texts` in parallel (`None`: no text, signed as an empty
    /// document).
    pub fn sign(&self, texts: &[Option<&str>]) -> SignedBatch {
        let (k, b) = (self.num_perm, self.bands());
        let lsh = self.dedup.lsh_params();
        let signed: Vec<(u32, Vec<u32>)> = self.dedup.install_pool(|| {
            texts
                .par_iter()
                .map(|t| match t {
                    Some(t) => {
                        let s = self.dedup.sketch_text(t);
                        (s.samples, s.sig)
                    }
                    None => (0, vec![0; k]),
                })
                .collect()
        });
        let mut out = SignedBatch {
            samples: Vec::with_capacity(texts.len()),
            blobs: Vec::with_capacity(texts.len() * self.blob_len()),
            band_keys: Vec::with_capacity(texts.len() * b),
        };
        for (samples, sig) in signed {
            out.samples.push(samples);
            out.blobs.extend(self.tag.to_le_bytes());
            out.blobs.extend(sig.iter().flat_map(|v| v.to_le_bytes()));
            if samples > 0 {
                out.band_keys.extend(lsh::band_keys(lsh, &sig));
            } else {
                out.band_keys.extend(std::iter::repeat_n(0, b));
            }
        }
        out
    }

    /// The slots of a signature blob; an error when it was made with other
    /// parameters or is not a signature.
    pub fn slots(&self, blob: &[u8]) -> Result<Vec<u32>> {
        if blob.len() != self.blob_len() {
            return Err(Error::Incompatible(format!(
                "a signature of {} bytes where the parameters {} make {}",
                blob.len(),
                self.fingerprint,
                self.blob_len()
            )));
        }
        let tag = u64::from_le_bytes(blob[..BLOB_HEADER].try_into().expect("8 bytes"));
        if tag != self.tag {
            return Err(Error::Incompatible(format!(
                "signatures made with other parameters than {}; sign again with the same parameters",
                self.fingerprint
            )));
        }
        Ok(crate::io::le_u32s(&blob[BLOB_HEADER..]).collect())
    }

    /// The verdict on a pair from its signatures and samples, as `dedup`
    /// judges a candidate.
    pub fn judge(&self, a: &[u8], samples_a: u32, b: &[u8], samples_b: u32) -> Result<Judgement> {
        let (x, y) = (self.slots(a)?, self.slots(b)?);
        Ok(match self.rule().likeness_of(&x, &y, samples_a.min(samples_b)) {
            Likeness::Surely => Judgement::Sure,
            Likeness::Maybe => Judgement::Doubtful,
            Likeness::No => Judgement::No,
        })
    }

    /// Half-width of the band around the threshold inside which an
    /// estimate from `samples` independent slots is not trusted, as `dedup`
    /// draws it: [`Kernel::judge`] calls a pair doubtful when its estimate
    /// is within this distance of the threshold (three standard errors of
    /// an estimate at the threshold, plus two slots).
    pub fn doubt(&self, samples: u32) -> f64 {
        self.rule().doubt(samples)
    }

    /// Read the records of `inputs` as `dedup` reads them (the read options
    /// and strictness of the [`Dedup`] the kernel was made from), calling
    /// `record(id, text)` for each in input order; nothing is kept, so
    /// memory does not grow with the inputs. Returns the records that could
    /// not be used and the inputs that could not be read to their end; with
    /// strict reading the first bad record is an error.
    pub fn read_records(
        &self,
        inputs: &[InputFile],
        record: &mut (dyn FnMut(&str, &str) + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<StreamReport> {
        let (opts, strict) = (self.dedup.read_options(), self.dedup.is_strict());
        self.dedup.install_pool(|| crate::io::for_each_record(inputs, opts, strict, record, progress))
    }

    /// The signature estimate of a pair's Jaccard similarity (0 when either
    /// has no shingles).
    pub fn estimate(&self, a: &[u8], samples_a: u32, b: &[u8], samples_b: u32) -> Result<f64> {
        let (x, y) = (self.slots(a)?, self.slots(b)?);
        if samples_a == 0 || samples_b == 0 {
            return Ok(0.0);
        }
        Ok(crate::sketch::estimate(&x, &y))
    }

    /// Exact Jaccard similarity of two texts' shingle sets.
    pub fn jaccard(&self, a: &str, b: &str) -> f64 {
        let mut sh = Shingler::new(self.rule().shingle);
        let (x, y) = (sh.shingle_set(a), sh.shingle_set(b));
        if x.is_empty() || y.is_empty() {
            return 0.0;
        }
        jaccard(&x, &y)
    }

    /// Exact Jaccard of many pairs of texts, in parallel.
    pub fn jaccard_many(&self, pairs: &[(&str, &str)]) -> Vec<f64> {
        self.dedup.install_pool(|| pairs.par_iter().map(|&(a, b)| self.jaccard(a, b)).collect())
    }

    /// True when a pair is linked at this similarity.
    pub fn reaches(&self, similarity: f64) -> bool {
        similarity >= self.dedup.threshold()
    }

    fn rule(&self) -> Rule {
        self.dedup.rule()
    }
}

/// The candidate pairs of one bucket, its members given one at a time in
/// id order (the bucket is never held whole): all pairs while it has at
/// most [`ALL_PAIRS_MAX`] members, then the pivot walk of `dedup` over the
/// whole bucket. [`BucketWalk::finish`] ends a bucket; the walk can then
/// take the next.
#[derive(Debug, Default)]
pub struct BucketWalk {
    /// The first members, while the bucket may still be small.
    members: Vec<Member>,
    pivots: Option<Pivots<Member>>,
}

#[derive(Debug, Clone)]
struct Member {
    doc: u64,
    slots: Vec<u32>,
    samples: u32,
}

impl BucketWalk {
    /// The next member (ids ascending), with `kernel`'s parameters: the
    /// pairs `(earlier, later)` it settles now go to `pairs`.
    pub fn push(
        &mut self,
        kernel: &Kernel,
        doc: u64,
        blob: &[u8],
        samples: u32,
        pairs: &mut Vec<(u64, u64)>,
    ) -> Result<()> {
        let m = Member { doc, slots: kernel.slots(blob)?, samples };
        if let Some(p) = &mut self.pivots {
            return walk(kernel, p, m, pairs);
        }
        self.members.push(m);
        if self.members.len() > ALL_PAIRS_MAX {
            // a large bucket: the walk over every member from the first
            let mut p = Pivots::default();
            for m in std::mem::take(&mut self.members) {
                walk(kernel, &mut p, m, pairs)?;
            }
            self.pivots = Some(p);
        }
        Ok(())
    }

    /// End the bucket: the pairs of a small one go to `pairs`.
    pub fn finish(&mut self, pairs: &mut Vec<(u64, u64)>) {
        for (i, a) in self.members.iter().enumerate() {
            for b in &self.members[i + 1..] {
                pairs.push((a.doc, b.doc));
            }
        }
        self.members.clear();
        self.pivots = None;
    }
}

fn walk(k: &Kernel, p: &mut Pivots<Member>, m: Member, pairs: &mut Vec<(u64, u64)>) -> Result<()> {
    let rule = k.rule();
    let mut judge = |a: &Member, b: &Member| -> Result<Likeness> {
        let samples = a.samples.min(b.samples);
        if samples == 0 {
            return Ok(Likeness::No);
        }
        Ok(rule.likeness_of(&a.slots, &b.slots, samples))
    };
    p.push(m, &mut judge, &mut |a, b| pairs.push((a.doc, b.doc)))
}

/// Connected components of `edges` (any ids): the ids in clusters of two or
/// more, ascending, and each one's representative, the smallest id of its
/// component.
pub fn components(edges: &[(u64, u64)]) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut ids: Vec<u64> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.par_sort_unstable();
    ids.dedup();
    if ids.len() >= u32::MAX as usize {
        return Err(Error::Unsupported("more than 2^32 documents in the edges for one machine".into()));
    }
    let dense = |x: u64| ids.binary_search(&x).map_or(0, |i| i as u32);
    let mut uf = UnionFind::new(ids.len());
    for &(a, b) in edges {
        uf.union(dense(a), dense(b));
    }
    // ids are sorted, so the smallest dense number is the smallest id
    let reps = uf.representatives().into_iter().map(|r| ids[r as usize]).collect();
    Ok((ids, reps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DedupBuilder;

    fn kernel() -> Kernel {
        Kernel::new(DedupBuilder::new().threads(1).build().unwrap())
    }

    fn text(seed: u64, words: usize) -> String {
        (0..words)
            .map(|i| format!("w{}", (seed.wrapping_mul(7919) + i as u64 * 31) % 5003))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_signature_from_other_parameters_is_refused() {
        let (a, b) = (kernel(), Kernel::new(DedupBuilder::new().threshold(0.7).threads(1).build().unwrap()));
        assert_ne!(a.fingerprint(), b.fingerprint());
        let t = text(1, 50);
        let sa = a.sign(&[Some(&t)]);
        let sb = b.sign(&[Some(&t)]);
        assert!(a.judge(&sa.blobs, sa.samples[0], &sa.blobs, sa.samples[0]).is_ok());
        let e = a.judge(&sa.blobs, sa.samples[0], &sb.blobs, sb.samples[0]).unwrap_err();
        assert!(matches!(e, Error::Incompatible(_)), "{e}");
        assert!(a.slots(&sa.blobs[1..]).is_err());
    }

    #[test]
    fn signing_gives_the_band_keys_of_dedup_and_none_for_no_text() {
        let k = kernel();
        let t = text(3, 80);
        let s = k.sign(&[Some(&t), None, Some("")]);
        assert_eq!(s.samples.len(), 3);
        assert!(s.samples[0] > 0 && s.samples[1] == 0 && s.samples[2] == 0);
        let sig = k.slots(&s.blobs[..k.blob_len()]).unwrap();
        let want: Vec<u64> = lsh::band_keys(k.dedup.lsh_params(), &sig).collect();
        assert_eq!(&s.band_keys[..k.bands()], &want[..]);
        assert!(s.band_keys[k.bands()..].iter().all(|&x| x == 0));
        assert_eq!(k.judge(&s.blobs[..k.blob_len()], 0, &s.blobs[..k.blob_len()], 0).unwrap(), Judgement::No);
    }

    #[test]
    fn the_bucket_walk_pairs_as_dedup_does() {
        let k = kernel();
        // a bucket of copies and near-copies of a few texts, larger than
        // ALL_PAIRS_MAX, and a small one
        for n in [5usize, ALL_PAIRS_MAX, ALL_PAIRS_MAX + 1, 300] {
            let texts: Vec<String> = (0..n).map(|i| text((i % 4) as u64, 60 + i % 3)).collect();
            let refs: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
            let s = k.sign(&refs);
            let bl = k.blob_len();
            let mut got = Vec::new();
            let mut w = BucketWalk::default();
            for d in 0..n {
                w.push(&k, d as u64 * 3, &s.blobs[d * bl..(d + 1) * bl], s.samples[d], &mut got).unwrap();
            }
            w.finish(&mut got);
            got.sort_unstable();
            let members: Vec<(u64, u32)> = (0..n as u32).map(|d| (0, d)).collect();
            let rule = k.rule();
            let sig = |d: u32| k.slots(&s.blobs[d as usize * bl..(d as usize + 1) * bl]).unwrap();
            let mut judge = |a: u32, b: u32| -> Result<Likeness> {
                Ok(rule.likeness_of(&sig(a), &sig(b), s.samples[a as usize].min(s.samples[b as usize])))
            };
            let mut want: Vec<(u64, u64)> = lsh::bucket_pairs(&members, &mut judge)
                .unwrap()
                .into_iter()
                .map(|(a, b)| (u64::from(a) * 3, u64::from(b) * 3))
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "bucket of {n}");
            if n > ALL_PAIRS_MAX {
                assert!(got.len() < n * (n - 1) / 2, "a large bucket is walked, not paired all");
            }
        }
    }

    #[test]
    fn components_link_to_the_smallest_id() {
        let (ids, reps) = components(&[(9, 4), (4, 7), (20, 30), (7, 9)]).unwrap();
        assert_eq!(ids, vec![4, 7, 9, 20, 30]);
        assert_eq!(reps, vec![4, 4, 4, 20, 20]);
    }

    #[test]
    fn doubt_is_the_rule_of_dedup() {
        let k = kernel();
        let want = 3.0 * (0.8f64 * 0.2 / 100.0).sqrt() + 2.0 / 100.0;
        assert!((k.doubt(100) - want).abs() < 1e-12);
        assert!(k.doubt(1000) < k.doubt(100));
    }

    #[test]
    fn records_are_read_in_input_order_with_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        std::fs::write(&path, "{\"id\":\"a\",\"text\":\"one two\"}\n{\"text\":\"three\"}\nnot json\n")
            .unwrap();
        let inputs = crate::io::expand_inputs(std::slice::from_ref(&path), crate::io::Format::Auto).unwrap();
        let mut got = Vec::new();
        let report =
            kernel().read_records(&inputs, &mut |id, t| got.push((id.to_owned(), t.to_owned())), &|_| {});
        let report = report.unwrap();
        let line2 = format!("{}:2", path.display());
        assert_eq!(got, vec![("a".to_owned(), "one two".to_owned()), (line2, "three".to_owned())]);
        assert_eq!(report.bad.len(), 1);
    }

    #[test]
    fn jaccard_is_exact() {
        let k = kernel();
        let a = text(5, 40);
        assert_eq!(k.jaccard(&a, &a), 1.0);
        assert_eq!(k.jaccard(&a, ""), 0.0);
        let b = text(5, 44);
        let j = k.jaccard(&a, &b);
        // 36 of a's 5-word shingles, 40 of b's
        assert!((j - 36.0 / 40.0).abs() < 1e-12, "{j}");
    }
}
