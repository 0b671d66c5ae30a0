//! Verification: the likeness rule that judges a candidate pair from its
//! signatures, and the [`Linker`] that links sure pairs, holds doubtful ones
//! and settles them by exact Jaccard of their shingle sets. Every storage
//! (memory, spill files, stage files) verifies through this one module.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::rewrite::RecordSource;
use crate::io::rewrite::record_text;
use crate::lsh::Likeness;
use crate::pipeline::cluster::{ClusterStats, UnionFind};
use crate::pipeline::signatures::Signatures;
use crate::progress::ProgressFn;
use crate::shingle::{ShingleKind, Shingler, jaccard};
use crate::sketch::estimate;

/// Documents read and shingled together when doubtful pairs are settled;
/// the size does not depend on the thread count, so results are the same on
/// 1 thread or N.
const ROUND: usize = 1024;

/// Candidate pairs judged together, their signatures read while the
/// previous chunk is judged.
const PAIR_CHUNK: usize = 4096;

/// Gives back a document's text by number, for the exact check of pairs
/// whose estimate is too close to the threshold to trust. `Ok(None)`: no
/// text is kept (the estimate decides); an error: the text could not be
/// read back, which stops the run.
pub(crate) trait TextSource: Sync {
    fn text(&self, d: u32) -> Result<Option<Cow<'_, str>>>;
    /// A hint that the texts of `docs` are read soon (see
    /// [`RecordSource::prefetch`]).
    fn prefetch(&self, _docs: &[u32]) {}
}

impl<S: AsRef<str> + Sync> TextSource for [S] {
    fn text(&self, d: u32) -> Result<Option<Cow<'_, str>>> {
        Ok(self.get(d as usize).map(|t| Cow::Borrowed(t.as_ref())))
    }
}

/// The texts of re-read records (`None`: no records, the estimate
/// decides). A record that no longer parses means its input changed while
/// it was read: an error.
pub(crate) struct RecordTexts<'a, R: ?Sized>(pub(crate) Option<&'a R>);

impl<R: RecordSource + ?Sized> TextSource for RecordTexts<'_, R> {
    fn prefetch(&self, docs: &[u32]) {
        if let Some(src) = self.0 {
            src.prefetch(docs);
        }
    }

    fn text(&self, d: u32) -> Result<Option<Cow<'_, str>>> {
        let Some(src) = self.0 else { return Ok(None) };
        let d = d as usize;
        let input = src.input_of(d);
        let record = src.record(d)?;
        let changed = || Error::Corrupt {
            path: src.inputs()[input].name.clone().into(),
            reason: format!("document {} no longer parses: the input changed while it was read", d + 1),
        };
        Ok(Some(match record {
            Cow::Borrowed(bytes) => {
                record_text(src.format_of(input), src.opts(), bytes).ok_or_else(changed)?
            }
            Cow::Owned(bytes) => Cow::Owned(
                record_text(src.format_of(input), src.opts(), &bytes).ok_or_else(changed)?.into_owned(),
            ),
        }))
    }
}

/// The likeness rule: a threshold, and how far an estimate is trusted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rule {
    pub(crate) threshold: f64,
    /// How texts are shingled, to settle doubtful pairs from their texts.
    pub(crate) shingle: ShingleKind,
}

impl Rule {
    /// Half-width of the band around the threshold inside which a
    /// signature estimate is not trusted: three standard errors of an
    /// estimate from `samples` independent slots, plus two slots.
    pub(crate) fn doubt(&self, samples: u32) -> f64 {
        let k = f64::from(samples.max(1));
        let t = self.threshold;
        3.0 * (t * (1.0 - t) / k).sqrt() + 2.0 / k
    }

    /// How far the estimate of two signatures can be trusted, given the
    /// fewer of their independent samples (0: an empty document).
    pub(crate) fn likeness_of(&self, a: &[u32], b: &[u32], samples: u32) -> Likeness {
        if samples == 0 {
            return Likeness::No;
        }
        let (est, doubt) = (estimate(a, b), self.doubt(samples));
        if est >= self.threshold + doubt {
            Likeness::Surely
        } else if est > self.threshold - doubt {
            Likeness::Maybe
        } else {
            Likeness::No
        }
    }

    /// The likeness of documents `a` and `b`.
    pub(crate) fn likeness(&self, sigs: &(impl Signatures + ?Sized), a: u32, b: u32) -> Result<Likeness> {
        let samples = sigs.samples(a).min(sigs.samples(b));
        if samples == 0 {
            return Ok(Likeness::No);
        }
        Ok(self.likeness_of(&sigs.sig(a)?, &sigs.sig(b)?, samples))
    }

    /// The similarity of a pair from what was kept: exact Jaccard of the
    /// sets in exact mode, else the signature estimate (0 for an empty
    /// document).
    pub(crate) fn kept_similarity(&self, sigs: &(impl Signatures + ?Sized), a: u32, b: u32) -> Result<f64> {
        if sigs.samples(a) == 0 || sigs.samples(b) == 0 {
            return Ok(0.0);
        }
        if sigs.exact() {
            if let (Some(x), Some(y)) = (sigs.set(a), sigs.set(b)) {
                return Ok(jaccard(x, y));
            }
        }
        Ok(estimate(&sigs.sig(a)?, &sigs.sig(b)?))
    }
}

/// When doubtful pairs are settled and which pairs are judged at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Settle the doubtful pairs whenever this many are held (they are
    /// always settled at the end). Settling early changes no cluster: a
    /// pair is linked exactly when its exact Jaccard reaches the threshold,
    /// and skipped only when already inside one cluster.
    pub(crate) doubtful_cap: usize,
    /// Skip candidate pairs already inside one cluster before judging them
    /// (worth it when reading a signature costs a disk read, or when a pair
    /// comes in several batches).
    pub(crate) skip_joined: bool,
    /// Bytes of shingle sets kept while doubtful pairs are settled.
    pub(crate) set_bytes: usize,
}

impl Plan {
    /// Everything in memory: skip pairs already joined (buckets come a band
    /// at a time), settle once at the end.
    pub(crate) const IN_MEMORY: Plan =
        Plan { doubtful_cap: usize::MAX, skip_joined: true, set_bytes: 128 << 20 };
}

/// Links verified candidate pairs into clusters. Exact mode: a pair is
/// linked when the exact Jaccard of the kept sets reaches the threshold.
/// Estimate mode: pairs whose estimate is clearly above the threshold are
/// linked, clearly below are dropped; the doubtful rest that would join two
/// different clusters is settled by exact Jaccard of the two shingle sets
/// (kept, or re-shingled from the texts; the estimate decides when no text
/// is kept).
pub(crate) struct Linker<'a, S: Signatures + ?Sized, T: TextSource + ?Sized> {
    rule: Rule,
    sigs: &'a S,
    texts: &'a T,
    plan: Plan,
    uf: UnionFind,
    doubtful: Vec<(u32, u32)>,
    stats: ClusterStats,
    progress: &'a ProgressFn,
}

impl<'a, S: Signatures + ?Sized, T: TextSource + ?Sized> Linker<'a, S, T> {
    pub(crate) fn new(rule: Rule, sigs: &'a S, texts: &'a T, plan: Plan, progress: &'a ProgressFn) -> Self {
        let uf = UnionFind::new(sigs.len());
        let stats = ClusterStats::default();
        Linker { rule, sigs, texts, plan, uf, doubtful: Vec::new(), stats, progress }
    }

    /// Verify a batch of candidate pairs (sorted, unique).
    pub(crate) fn push(&mut self, pairs: &mut Vec<(u32, u32)>) -> Result<()> {
        let t = Instant::now();
        if self.plan.skip_joined {
            let uf = &mut self.uf;
            pairs.retain(|&(a, b)| uf.find(a) != uf.find(b));
        }
        self.stats.candidate_pairs += pairs.len() as u64;
        let (rule, sigs) = (self.rule, self.sigs);
        if sigs.exact() {
            let ok: Vec<bool> = pairs
                .par_iter()
                .map(|&(a, b)| Ok(rule.kept_similarity(sigs, a, b)? >= rule.threshold))
                .collect::<Result<_>>()?;
            for (&(a, b), ok) in pairs.iter().zip(ok) {
                if ok {
                    self.uf.union(a, b);
                    self.stats.verified_pairs += 1;
                }
            }
        } else {
            // in chunks, the next chunk's signatures read while this one is judged
            let chunks: Vec<&[(u32, u32)]> = pairs.chunks(PAIR_CHUNK).collect();
            let docs = |c: &[(u32, u32)]| -> Vec<u32> { c.iter().flat_map(|&(a, b)| [a, b]).collect() };
            if let Some(first) = chunks.first() {
                sigs.prefetch(&docs(first));
            }
            let mut verdicts: Vec<Likeness> = Vec::with_capacity(pairs.len());
            for (i, chunk) in chunks.iter().enumerate() {
                if let Some(next) = chunks.get(i + 1) {
                    sigs.prefetch(&docs(next));
                }
                let v: Vec<Likeness> =
                    chunk.par_iter().map(|&(a, b)| rule.likeness(sigs, a, b)).collect::<Result<_>>()?;
                verdicts.extend(v);
            }
            for (&(a, b), v) in pairs.iter().zip(verdicts) {
                match v {
                    Likeness::Surely => {
                        self.uf.union(a, b);
                        self.stats.verified_pairs += 1;
                    }
                    Likeness::Maybe => self.doubtful.push((a, b)),
                    Likeness::No => {}
                }
            }
        }
        pairs.clear();
        self.stats.verify_time += t.elapsed();
        if self.doubtful.len() >= self.plan.doubtful_cap {
            self.settle()?;
        }
        Ok(())
    }

    /// Settle what is still doubtful; the clusters and the counters.
    pub(crate) fn finish(mut self) -> Result<(UnionFind, ClusterStats)> {
        self.settle()?;
        Ok((self.uf, self.stats))
    }

    /// Settle the doubtful pairs held so far (see [`settle`]), linking those
    /// that reach the threshold; a pair already inside one cluster is
    /// skipped.
    fn settle(&mut self) -> Result<()> {
        let t = Instant::now();
        let pending = std::mem::take(&mut self.doubtful);
        let (rule, uf, stats) = (self.rule, &mut self.uf, &mut self.stats);
        let cell = std::cell::RefCell::new(uf);
        stats.exact_checks += settle(
            rule,
            self.sigs,
            self.texts,
            self.plan.set_bytes,
            pending,
            self.progress,
            &mut |a, b| {
                let mut uf = cell.borrow_mut();
                uf.find(a) == uf.find(b)
            },
            &mut |a, b, sim| {
                if sim >= rule.threshold {
                    cell.borrow_mut().union(a, b);
                    stats.verified_pairs += 1;
                }
            },
        )?;
        self.stats.verify_time += t.elapsed();
        Ok(())
    }
}

/// Settle `pairs` (each with its earlier document first) by the exact
/// Jaccard of their shingle sets, in sweeps over their documents in document
/// order: texts are read forward (the input in file order), never at random.
/// A sweep keeps the shingle set of a document while a later partner is
/// still to come, within `set_bytes`; the pairs whose earlier set did not
/// fit are left to the next sweep. `skip(a, b)` drops a pair just before it
/// is checked (it may change as pairs are settled); `settled(a, b, sim)`
/// gets every checked pair's similarity (the estimate when no text is kept),
/// in a deterministic order. Returns the number of checked pairs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn settle(
    rule: Rule,
    sigs: &(impl Signatures + ?Sized),
    texts: &(impl TextSource + ?Sized),
    set_bytes: usize,
    mut pending: Vec<(u32, u32)>,
    progress: &ProgressFn,
    skip: &mut dyn FnMut(u32, u32) -> bool,
    settled: &mut dyn FnMut(u32, u32, f64),
) -> Result<u64> {
    let mut checked = 0;
    while !pending.is_empty() {
        pending = sweep(rule, sigs, texts, set_bytes, pending, progress, skip, settled, &mut checked)?;
    }
    Ok(checked)
}

/// One sweep (see [`settle`]); returns the pairs left over.
#[allow(clippy::too_many_arguments)]
fn sweep(
    rule: Rule,
    sigs: &(impl Signatures + ?Sized),
    texts: &(impl TextSource + ?Sized),
    budget: usize,
    mut pairs: Vec<(u32, u32)>,
    progress: &ProgressFn,
    skip: &mut dyn FnMut(u32, u32) -> bool,
    settled: &mut dyn FnMut(u32, u32, f64),
    checked: &mut u64,
) -> Result<Vec<(u32, u32)>> {
    // by the later document: when it is read, its partners are behind
    pairs.par_sort_unstable_by_key(|&(a, b)| (b, a));
    pairs.dedup();
    // the last later partner of each earlier document
    let mut last: HashMap<u32, u32> = HashMap::new();
    for &(a, b) in &pairs {
        let e = last.entry(a).or_insert(b);
        *e = (*e).max(b);
    }
    let mut docs: Vec<u32> =
        pairs.iter().flat_map(|&(a, b)| [a, b]).filter(|&d| sigs.set(d).is_none()).collect();
    docs.par_sort_unstable();
    docs.dedup();
    let mut kept: HashMap<u32, Option<Vec<u64>>> = HashMap::new();
    let mut kept_bytes = 0usize;
    let mut expiry: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
    let mut left = Vec::new();
    let mut rest = &pairs[..];
    let set_bytes = |s: &Option<Vec<u64>>| s.as_ref().map_or(0, |v| v.len() * 8 + 48);
    // a pair whose later document kept its set (nothing to read) comes
    // with the chunk that reaches past it; with nothing to read at all,
    // one empty chunk takes every pair
    let chunks: Vec<&[u32]> = if docs.is_empty() { vec![&[]] } else { docs.chunks(ROUND).collect() };
    let n = chunks.len();
    texts.prefetch(chunks[0]);
    for (i, &chunk) in chunks.iter().enumerate() {
        let through = if i + 1 == n { u32::MAX } else { chunk[chunk.len() - 1] };
        progress.report("settle", (i * ROUND) as u64, docs.len() as u64, "docs");
        // the next chunk's reads go on while this one is shingled
        if let Some(next) = chunks.get(i + 1) {
            texts.prefetch(next);
        }
        // this chunk's texts, read in document order
        let fresh: Vec<Option<Vec<u64>>> = chunk
            .par_iter()
            .map_init(|| Shingler::new(rule.shingle), |sh, &d| Ok(texts.text(d)?.map(|t| sh.shingle_set(&t))))
            .collect::<Result<_>>()?;
        let split = rest.partition_point(|&(_, b)| b <= through);
        let (now, later) = rest.split_at(split);
        rest = later;
        // this chunk's sets are looked up by position in the sorted chunk
        let set_of = |d: u32| -> Option<Option<&[u64]>> {
            if let Some(s) = sigs.set(d) {
                return Some(Some(s));
            }
            match chunk.binary_search(&d) {
                Ok(i) => Some(fresh[i].as_deref()),
                Err(_) => kept.get(&d).map(|s| s.as_deref()),
            }
        };
        let mut round = Vec::with_capacity(now.len());
        for &(a, b) in now {
            if skip(a, b) {
                continue;
            }
            if set_of(a).is_some() {
                round.push((a, b));
            } else {
                left.push((a, b));
            }
        }
        let sims: Vec<f64> = round
            .par_iter()
            .map(|&(a, b)| match (set_of(a).flatten(), set_of(b).flatten()) {
                (Some(x), Some(y)) => Ok(jaccard(x, y)),
                // no text: the estimate decides
                _ => Ok(estimate(&sigs.sig(a)?, &sigs.sig(b)?)),
            })
            .collect::<Result<_>>()?;
        *checked += round.len() as u64;
        for (&(a, b), sim) in round.iter().zip(sims) {
            settled(a, b, sim);
        }
        // drop the sets no later document needs, in order of their last
        // partners (a scan of every kept set per chunk would be
        // quadratic when many small sets fit)
        while let Some(&Reverse((l, d))) = expiry.peek() {
            if l > through {
                break;
            }
            expiry.pop();
            if let Some(s) = kept.remove(&d) {
                kept_bytes -= set_bytes(&s);
            }
        }
        // keep what a later document still needs, within the budget
        // (always one set, so that every sweep settles something), in
        // chunk order: which sets fit must not depend on a hash order
        for (&d, s) in chunk.iter().zip(fresh) {
            if last.get(&d).is_some_and(|&l| l > through)
                && (kept.is_empty() || kept_bytes + set_bytes(&s) <= budget)
            {
                kept_bytes += set_bytes(&s);
                expiry.push(Reverse((last[&d], d)));
                kept.insert(d, s);
            }
        }
    }
    progress.report("settle", docs.len() as u64, docs.len() as u64, "docs");
    Ok(left)
}
