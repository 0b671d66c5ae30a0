//! Batch near-duplicate detection: the pipeline from inputs to clusters.
//!
//! read -> normalize -> shingle -> sketch (in parallel, per record) ->
//! band keys -> candidate pairs -> verify -> union-find -> representatives.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bitvec::bitvec;
use rayon::prelude::*;

use crate::cluster::UnionFind;
use crate::error::{BadRecord, Error, Result};
use crate::io::load::{Loaded, load_into};
use crate::io::parquet::{Cell, Kind, Table};
use crate::io::{AtomicFile, InputFile, OutputFormat, ReadOptions};
use crate::lsh::{self, Likeness, LshParams};
use crate::pool::Pool;
use crate::shingle::{ShingleKind, Shingler, jaccard};
use crate::sketch::{SKETCH_FORMAT_VERSION, SketchKind, SketchParams, Sketcher, estimate};

/// How candidate pairs are checked against the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verify {
    /// The signatures' Jaccard estimate (fast; keeps no shingle sets). A
    /// pair whose estimate is within three standard errors of the threshold
    /// is settled by exact Jaccard of the two texts, re-read from the input.
    #[default]
    Estimate,
    /// Exact Jaccard of the shingle sets (keeps every document's set).
    Exact,
}

/// Builds a [`Dedup`].
#[derive(Debug, Clone)]
pub struct DedupBuilder {
    threshold: f64,
    shingle: ShingleKind,
    sketch: SketchKind,
    num_perm: u32,
    seed: u64,
    banding: Option<LshParams>,
    weights: (f64, f64),
    verify: Verify,
    threads: Option<usize>,
    read: ReadOptions,
    strict: bool,
}

impl Default for DedupBuilder {
    fn default() -> DedupBuilder {
        DedupBuilder {
            threshold: 0.8,
            shingle: ShingleKind::default(),
            sketch: SketchKind::default(),
            num_perm: 128,
            seed: 0,
            banding: None,
            weights: (0.02, 0.98),
            verify: Verify::default(),
            threads: None,
            read: ReadOptions::default(),
            strict: false,
        }
    }
}

impl DedupBuilder {
    /// A builder with the documented defaults.
    pub fn new() -> DedupBuilder {
        DedupBuilder::default()
    }

    /// Jaccard similarity at or above which two documents are
    /// near-duplicates, in (0, 1]. By default, 0.8.
    pub fn threshold(mut self, t: f64) -> Self {
        self.threshold = t;
        self
    }

    /// What shingles are made of. By default, word 5-grams.
    pub fn shingle(mut self, kind: ShingleKind) -> Self {
        self.shingle = kind;
        self
    }

    /// The sketch algorithm. By default, [`SketchKind::Oph`].
    pub fn sketch(mut self, kind: SketchKind) -> Self {
        self.sketch = kind;
        self
    }

    /// Signature size. By default, 128.
    pub fn num_perm(mut self, n: u32) -> Self {
        self.num_perm = n;
        self
    }

    /// Seed of the sketch's hash functions. By default, 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Set bands x rows by hand. By default, chosen from the threshold by
    /// minimizing the weighted false-positive and false-negative areas.
    pub fn banding(mut self, bands: u32, rows: u32) -> Self {
        self.banding = Some(LshParams { bands, rows });
        self
    }

    /// Weights of false positives and false negatives in the choice of bands
    /// x rows. Every candidate is verified, so a false positive costs only a
    /// check while a false negative loses a duplicate. By default, 0.02 and
    /// 0.98 (17 x 7 at threshold 0.8 and 128 slots: a pair at the threshold
    /// is a candidate with probability 0.98).
    pub fn weights(mut self, fp: f64, fn_: f64) -> Self {
        self.weights = (fp, fn_);
        self
    }

    /// How candidates are verified. By default, [`Verify::Estimate`]: the
    /// signature estimate, with pairs too close to the threshold to trust
    /// settled exactly.
    pub fn verify(mut self, v: Verify) -> Self {
        self.verify = v;
        self
    }

    /// Worker threads. By default, rayon's global pool (all cores).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// How inputs are read. By default, [`ReadOptions::default`].
    pub fn read_options(mut self, opts: ReadOptions) -> Self {
        self.read = opts;
        self
    }

    /// Fail on the first bad record instead of reporting and skipping it.
    /// By default, false.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Check the parameters and build.
    pub fn build(self) -> Result<Dedup> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::param(format!("threshold must be in (0, 1], got {}", self.threshold)));
        }
        if self.shingle.size() == 0 {
            return Err(Error::param("n-gram size must be at least 1"));
        }
        if self.num_perm == 0 {
            return Err(Error::param("num_perm must be at least 1"));
        }
        let (fp, fn_) = self.weights;
        if !(fp >= 0.0 && fn_ >= 0.0 && fp + fn_ > 0.0) {
            return Err(Error::param("LSH weights must be non-negative and not both zero"));
        }
        let lsh = match self.banding {
            Some(b) => {
                b.validate(self.num_perm)?;
                b
            }
            None => LshParams::optimal(self.threshold, self.num_perm, fp, fn_),
        };
        if self.read.text_field.is_empty() {
            return Err(Error::param("the text field name is empty"));
        }
        let pool = Pool::new(self.threads)?;
        let params = SketchParams {
            kind: self.sketch,
            num_perm: self.num_perm,
            seed: self.seed,
            shingle: self.shingle,
            version: SKETCH_FORMAT_VERSION,
        };
        Ok(Dedup {
            threshold: self.threshold,
            verify: self.verify,
            sketcher: Sketcher::new(params),
            lsh,
            lsh_chosen: self.banding.is_none(),
            read: self.read,
            strict: self.strict,
            pool,
        })
    }
}

/// A configured batch deduplicator. See the crate docs for an example.
#[derive(Debug, Clone)]
pub struct Dedup {
    threshold: f64,
    verify: Verify,
    sketcher: Sketcher,
    lsh: LshParams,
    lsh_chosen: bool,
    read: ReadOptions,
    strict: bool,
    pool: Pool,
}

/// The documents of a corpus, sketched and ready to cluster.
#[derive(Debug)]
pub struct Corpus {
    loaded: Loaded,
    sketches: Sketches,
    read_time: Duration,
}

/// Signatures (flat, `num_perm` per document), the number of independent
/// samples in each (0 for an empty document), and the shingle sets when
/// verification is exact.
#[derive(Debug, Default)]
pub(crate) struct Sketches {
    num_perm: usize,
    sigs: Vec<u32>,
    samples: Vec<u32>,
    sets: Option<Vec<Vec<u64>>>,
    /// Estimate mode: the shingle set of each small document.
    small: Vec<Option<Box<[u64]>>>,
}

impl Sketches {
    fn new(num_perm: usize, exact: bool, capacity: usize) -> Sketches {
        Sketches {
            num_perm,
            sigs: Vec::with_capacity(num_perm * capacity),
            samples: Vec::with_capacity(capacity),
            sets: exact.then(Vec::new),
            small: Vec::with_capacity(capacity),
        }
    }

    fn push(&mut self, s: Sketched) {
        self.sigs.extend_from_slice(&s.sig);
        self.samples.push(s.samples);
        self.small.push(s.small);
        if let (Some(sets), Some(set)) = (self.sets.as_mut(), s.set) {
            sets.push(set);
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
        Sketches { num_perm, sigs, samples, sets, small }
    }

    pub(crate) fn sig(&self, d: u32) -> &[u32] {
        let k = self.num_perm;
        &self.sigs[d as usize * k..(d as usize + 1) * k]
    }

    fn is_empty_doc(&self, d: u32) -> bool {
        self.samples[d as usize] == 0
    }

    fn len(&self) -> usize {
        self.samples.len()
    }
}

/// What one document turned into while reading.
pub(crate) struct Sketched {
    pub(crate) sig: Vec<u32>,
    pub(crate) samples: u32,
    pub(crate) set: Option<Vec<u64>>,
    pub(crate) small: Option<Box<[u64]>>,
}

/// In estimate mode, a document with at most this many distinct shingles
/// keeps its shingle set (no bigger than its signature), so that its doubtful
/// pairs are settled without re-reading its text.
const SMALL_SET_MAX: usize = 128;

/// The sorted, unique set of `hashes` if it has at most [`SMALL_SET_MAX`]
/// elements (`hashes` holds every shingle of the document, or more than
/// `2 * SMALL_SET_MAX` of them when it was cut short).
fn small_set(mut hashes: Vec<u64>) -> Option<Box<[u64]>> {
    if hashes.is_empty() || hashes.len() > 2 * SMALL_SET_MAX {
        return None;
    }
    hashes.sort_unstable();
    hashes.dedup();
    (hashes.len() <= SMALL_SET_MAX).then(|| hashes.into_boxed_slice())
}

/// Bytes of re-read shingle sets kept between rounds of exact checks.
const SET_CACHE_BYTES: usize = 256 << 20;

/// Gives back a document's text by index, for the exact re-check of pairs
/// whose estimate is too close to the threshold to trust.
pub(crate) trait TextSource: Sync {
    fn text(&self, d: u32) -> Option<std::borrow::Cow<'_, str>>;
}

impl<S: AsRef<str> + Sync> TextSource for [S] {
    fn text(&self, d: u32) -> Option<std::borrow::Cow<'_, str>> {
        self.get(d as usize).map(|t| std::borrow::Cow::Borrowed(t.as_ref()))
    }
}

/// Reads through a loaded corpus's retained input bytes (none: no text, the
/// estimate decides).
pub(crate) struct LoadedText<'a> {
    pub(crate) loaded: Option<&'a Loaded>,
    pub(crate) opts: &'a ReadOptions,
}

impl TextSource for LoadedText<'_> {
    fn text(&self, d: u32) -> Option<std::borrow::Cow<'_, str>> {
        self.loaded?.text(d as usize, self.opts)
    }
}

impl Corpus {
    /// Number of documents (bad records excluded).
    pub fn len(&self) -> usize {
        self.loaded.docs.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.loaded.docs.is_empty()
    }

    /// The id of document `i` (input order).
    pub fn id(&self, i: usize) -> &str {
        &self.loaded.docs[i].id
    }

    /// The records that could not be used, in input order.
    pub fn bad_records(&self) -> &[BadRecord] {
        &self.loaded.bad
    }

    /// Inputs that could not be read to their end (truncated or corrupt
    /// compressed files, read errors). The records before the failure were
    /// used; each failure is also among [`Corpus::bad_records`], with its
    /// offset.
    pub fn failed_inputs(&self) -> &[String] {
        &self.loaded.failed
    }

    /// Documents with no shingles (never anybody's duplicate).
    pub fn empty_documents(&self) -> usize {
        self.sketches.samples.iter().filter(|&&s| s == 0).count()
    }

    /// Bytes of input read.
    pub fn input_bytes(&self) -> u64 {
        self.loaded.input_bytes
    }

    /// Bytes of document text.
    pub fn text_bytes(&self) -> u64 {
        self.loaded.text_bytes
    }

    /// Every document's shingle set (sorted, unique hashes), kept when
    /// verification is [`Verify::Exact`].
    pub fn shingle_sets(&self) -> Option<&[Vec<u64>]> {
        self.sketches.sets.as_deref()
    }

    /// Time spent reading, normalizing, shingling and sketching.
    pub fn read_time(&self) -> Duration {
        self.read_time
    }

    /// Write one row per document, in input order: `id`, `cluster` (the
    /// representative's id), `similarity` (to the representative); JSON
    /// lines, or Parquet (see [`OutputFormat`]).
    pub fn write_clusters(&self, clustering: &Clustering, path: &Path, format: OutputFormat) -> Result<()> {
        let mut out = ClusterWriter::create(path, &self.loaded.input_paths(), format)?;
        for (i, doc) in self.loaded.docs.iter().enumerate() {
            let rep = &self.loaded.docs[clustering.reps[i] as usize].id;
            out.push(&doc.id, rep, clustering.similarity[i])?;
        }
        out.commit()
    }

    /// Write the deduplicated corpus: the records of representatives and
    /// singletons, copied byte for byte from the input. Line-based inputs
    /// give one file; whole-file (text) inputs give a directory of copies.
    pub fn write_deduplicated(&self, clustering: &Clustering, path: &Path) -> Result<()> {
        self.loaded
            .write_records(path, |d| clustering.is_kept(d).then(|| self.loaded.record(d).map(Cow::Borrowed)))
    }
}

/// The clusters output, one row per document: JSON lines
/// `{"id", "cluster", "similarity"}` or the same columns in Parquet.
#[allow(clippy::large_enum_variant)] // one per run
pub(crate) enum ClusterWriter {
    Jsonl(AtomicFile, String),
    Parquet(Table),
}

impl ClusterWriter {
    pub(crate) fn create(path: &Path, protect: &[PathBuf], format: OutputFormat) -> Result<ClusterWriter> {
        Ok(if format.is_parquet(path) {
            let fields = [("id", Kind::Str), ("cluster", Kind::Str), ("similarity", Kind::F64)];
            ClusterWriter::Parquet(Table::create(path, protect, &fields)?)
        } else {
            ClusterWriter::Jsonl(AtomicFile::create(path, protect)?, String::new())
        })
    }

    pub(crate) fn push(&mut self, id: &str, cluster: &str, similarity: f64) -> Result<()> {
        match self {
            ClusterWriter::Jsonl(out, line) => {
                line.clear();
                line.push_str("{\"id\":");
                push_json_str(line, id);
                line.push_str(",\"cluster\":");
                push_json_str(line, cluster);
                line.push_str(",\"similarity\":");
                line.push_str(&format_sim(similarity));
                line.push_str("}\n");
                out.write_all(line.as_bytes())
            }
            ClusterWriter::Parquet(t) => t.push(&[Cell::Str(id), Cell::Str(cluster), Cell::F64(similarity)]),
        }
    }

    pub(crate) fn commit(self) -> Result<()> {
        match self {
            ClusterWriter::Jsonl(out, _) => out.commit(),
            ClusterWriter::Parquet(t) => t.commit(),
        }
    }
}

/// A similarity as written to outputs: shortest round-trip decimal.
fn format_sim(s: f64) -> String {
    if s == 1.0 { "1.0".into() } else { format!("{s}") }
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping (one small allocation per id; encoding a str
    // cannot fail)
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// The clusters of a corpus.
#[derive(Debug, Clone)]
pub struct Clustering {
    reps: Vec<u32>,
    similarity: Vec<f64>,
    /// Counters of the run.
    pub stats: ClusterStats,
}

/// Counters and timings of clustering.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Distinct candidate pairs from LSH buckets.
    pub candidate_pairs: u64,
    /// Candidate pairs verified at or above the threshold and linked.
    pub verified_pairs: u64,
    /// Pairs whose estimate was too close to the threshold to trust, settled
    /// by exact Jaccard of the re-read texts.
    pub exact_checks: u64,
    /// Clusters with two or more documents.
    pub clusters: u64,
    /// Documents that are not their cluster's representative.
    pub duplicates: u64,
    /// Size of the largest cluster.
    pub largest_cluster: u64,
    /// Clusters holding a member below the threshold to its representative
    /// (joined through a chain A~B, B~C).
    pub chained_clusters: u64,
    /// Time computing band keys and candidate pairs.
    pub candidates_time: Duration,
    /// Time verifying candidates.
    pub verify_time: Duration,
    /// Time in union-find and similarity to representatives.
    pub cluster_time: Duration,
}

impl Clustering {
    /// The representative (input index) of each document.
    pub fn representatives(&self) -> &[u32] {
        &self.reps
    }

    /// Each document's similarity to its representative (1.0 for itself):
    /// exact Jaccard in [`Verify::Exact`] mode, the signature estimate in
    /// [`Verify::Estimate`] mode. A member of a chain (A~B, B~C) may be
    /// below the threshold to its representative.
    pub fn similarities(&self) -> &[f64] {
        &self.similarity
    }

    /// Whether document `i` is kept (a representative or a singleton).
    pub fn is_kept(&self, i: usize) -> bool {
        self.reps[i] as usize == i
    }
}

impl Dedup {
    /// The threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The sketch parameters.
    pub fn sketch_params(&self) -> &SketchParams {
        self.sketcher.params()
    }

    /// The banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.lsh
    }

    /// True when the banding was chosen from the threshold.
    pub fn lsh_chosen(&self) -> bool {
        self.lsh_chosen
    }

    /// The verification mode.
    pub fn verify_mode(&self) -> Verify {
        self.verify
    }

    /// How inputs are read.
    pub(crate) fn read_options(&self) -> &ReadOptions {
        &self.read
    }

    /// Whether a bad record stops the run.
    pub(crate) fn is_strict(&self) -> bool {
        self.strict
    }

    /// Worker threads this deduplicator runs on.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// Run `f` on this deduplicator's thread pool (the global pool when no
    /// thread count was set).
    pub fn install_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Sketch one text with this thread's cached shingler.
    pub(crate) fn sketch_text(&self, text: &str) -> Sketched {
        thread_local! {
            static SHINGLER: std::cell::RefCell<Option<Shingler>> = const { std::cell::RefCell::new(None) };
        }
        let shingle = self.sketcher.params().shingle;
        SHINGLER.with(|cell| {
            let mut slot = cell.borrow_mut();
            let sh = match slot.as_mut() {
                Some(s) if s.kind() == shingle => s,
                _ => slot.insert(Shingler::new(shingle)),
            };
            self.sketch_one(sh, text)
        })
    }

    pub(crate) fn sketch_one(&self, shingler: &mut Shingler, text: &str) -> Sketched {
        let k = self.sketcher.params().num_perm as usize;
        let mut sig = vec![0u32; k];
        match self.verify {
            Verify::Estimate if self.sketcher.params().kind == SketchKind::Oph => {
                let mut acc = self.sketcher.oph_accumulator(&mut sig);
                let mut count = 0usize;
                shingler.for_each_hash(text, |h| {
                    acc.update(h);
                    count += 1;
                });
                let samples = acc.finish() as u32;
                // a small document is shingled again to keep its set: cheaper
                // than collecting the hashes of every document in the hot loop
                let small = if count <= 2 * SMALL_SET_MAX {
                    let mut few = Vec::with_capacity(count);
                    shingler.for_each_hash(text, |h| few.push(h));
                    small_set(few)
                } else {
                    None
                };
                Sketched { sig, samples, set: None, small }
            }
            Verify::Estimate => {
                let mut hashes = Vec::new();
                shingler.for_each_hash(text, |h| hashes.push(h));
                let samples = self.sketcher.sketch_into(hashes.iter().copied(), &mut sig) as u32;
                Sketched { sig, samples, set: None, small: small_set(hashes) }
            }
            Verify::Exact => {
                let set = shingler.shingle_set(text);
                let samples = self.sketcher.sketch_into(set.iter().copied(), &mut sig) as u32;
                Sketched { sig, samples, set: Some(set), small: None }
            }
        }
    }

    /// Read and sketch `inputs`. `keep_records` keeps the input bytes so that
    /// [`Corpus::write_deduplicated`] can copy records. Memory-mapped files
    /// are always kept (it is free); in [`Verify::Estimate`] mode streamed
    /// input is kept too, to re-check pairs whose estimate is close to the
    /// threshold. `progress` is called with the bytes read so far.
    pub fn read(
        &self,
        inputs: &[InputFile],
        keep_records: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Corpus> {
        let start = Instant::now();
        let k = self.sketcher.params().num_perm as usize;
        let sketch = |text: &str| self.sketch_text(text);
        let keep = keep_records || self.verify == Verify::Estimate;
        let mut sketches = Sketches::new(k, self.verify == Verify::Exact, 0);
        let loaded = self.pool.install(|| {
            load_into(inputs, &self.read, keep, self.strict, &sketch, &mut |v| sketches.push(v), progress)
        })?;
        let mut corpus = Corpus { loaded, sketches, read_time: Duration::ZERO };
        corpus.read_time = start.elapsed();
        Ok(corpus)
    }

    /// Cluster a read corpus.
    pub fn cluster(&self, corpus: &Corpus) -> Clustering {
        let source = LoadedText { loaded: Some(&corpus.loaded), opts: &self.read };
        self.pool.install(|| self.cluster_sketches(&corpus.sketches, &source))
    }

    /// Cluster in-memory texts (index = input order).
    pub fn cluster_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Clustering {
        self.pool.install(|| {
            let shingle = self.sketcher.params().shingle;
            let sketched: Vec<Sketched> = texts
                .par_iter()
                .map_init(|| Shingler::new(shingle), |sh, t| self.sketch_one(sh, t.as_ref()))
                .collect();
            let k = self.sketcher.params().num_perm as usize;
            let mut sk = Sketches::new(k, self.verify == Verify::Exact, texts.len());
            for s in sketched {
                sk.push(s);
            }
            self.cluster_sketches(&sk, texts)
        })
    }

    /// Half-width of the band around the threshold inside which a
    /// signature estimate is not trusted: three standard errors of an
    /// estimate from `samples` independent slots, plus two slots.
    pub(crate) fn doubt(&self, samples: u32) -> f64 {
        let k = f64::from(samples.max(1));
        let t = self.threshold;
        3.0 * (t * (1.0 - t) / k).sqrt() + 2.0 / k
    }

    /// The similarity of a pair from what was kept: exact Jaccard of the
    /// sets in exact mode, else the signature estimate.
    fn kept_similarity(&self, sk: &Sketches, a: u32, b: u32) -> f64 {
        if sk.is_empty_doc(a) || sk.is_empty_doc(b) {
            return 0.0;
        }
        match &sk.sets {
            Some(sets) => jaccard(&sets[a as usize], &sets[b as usize]),
            None => estimate(sk.sig(a), sk.sig(b)),
        }
    }

    /// How far a pair's estimate can be trusted.
    pub(crate) fn likeness(&self, sk: &Sketches, a: u32, b: u32) -> Likeness {
        let samples = sk.samples[a as usize].min(sk.samples[b as usize]);
        self.likeness_of(sk.sig(a), sk.sig(b), samples)
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

    /// Link the verified candidate pairs into `uf`; returns (linked pairs,
    /// exact re-checks). Exact mode: every pair by exact Jaccard of the kept
    /// sets. Estimate mode: pairs whose estimate is clearly above the
    /// threshold are linked, clearly below are dropped; the doubtful rest
    /// that would join two different clusters is settled by exact Jaccard of
    /// the two texts, re-shingled from the input (a doubtful pair inside one
    /// cluster changes nothing and costs nothing).
    pub(crate) fn link(
        &self,
        sk: &Sketches,
        src: &(impl TextSource + ?Sized),
        pairs: &[(u32, u32)],
        uf: &mut UnionFind,
    ) -> (u64, u64) {
        if sk.sets.is_some() {
            let ok: Vec<bool> =
                pairs.par_iter().map(|&(a, b)| self.kept_similarity(sk, a, b) >= self.threshold).collect();
            let mut linked = 0;
            for (&(a, b), ok) in pairs.iter().zip(ok) {
                if ok {
                    uf.union(a, b);
                    linked += 1;
                }
            }
            return (linked, 0);
        }
        let verdicts: Vec<Likeness> = pairs.par_iter().map(|&(a, b)| self.likeness(sk, a, b)).collect();
        let mut linked = 0;
        for (&(a, b), v) in pairs.iter().zip(&verdicts) {
            if *v == Likeness::Surely {
                uf.union(a, b);
                linked += 1;
            }
        }
        // candidate pairs come sorted by (a, b)
        let doubtful: Vec<(u32, u32)> =
            pairs.iter().zip(&verdicts).filter(|&(_, v)| *v == Likeness::Maybe).map(|(&p, _)| p).collect();
        let shingle = self.sketcher.params().shingle;
        let small = |d: u32| sk.small[d as usize].as_deref();
        let text = |d: u32| src.text(d);
        let est = |a: u32, b: u32| estimate(sk.sig(a), sk.sig(b));
        let (more, checked) = self.settle_doubtful(&doubtful, uf, shingle, &small, &text, &est);
        (linked + more, checked)
    }

    /// Settle doubtful pairs (sorted by (a, b), so that re-reading the texts
    /// walks the input forward and the set cache hits) by exact Jaccard of
    /// their shingle sets: `small(d)` when kept, else re-shingled from
    /// `text(d)`; `est` decides when a text is unavailable. Fixed-size rounds:
    /// after each round the pairs that now fall inside one cluster are
    /// skipped. Round size does not depend on the thread count, so the result
    /// is the same on 1 thread or N. Returns (linked pairs, checked pairs).
    pub(crate) fn settle_doubtful<'t>(
        &self,
        doubtful: &[(u32, u32)],
        uf: &mut UnionFind,
        shingle: ShingleKind,
        small: &(dyn Fn(u32) -> Option<&'t [u64]> + Sync),
        text: &(dyn Fn(u32) -> Option<Cow<'t, str>> + Sync),
        est: &(dyn Fn(u32, u32) -> f64 + Sync),
    ) -> (u64, u64) {
        const ROUND: usize = 1024;
        let mut sets: std::collections::HashMap<u32, Option<Vec<u64>>> = std::collections::HashMap::new();
        let (mut linked, mut checked) = (0u64, 0u64);
        let mut cached_bytes = 0usize;
        let mut rest = doubtful;
        while !rest.is_empty() {
            let mut round: Vec<(u32, u32)> = Vec::with_capacity(ROUND);
            while round.len() < ROUND {
                let Some((&(a, b), tail)) = rest.split_first() else { break };
                rest = tail;
                if uf.find(a) != uf.find(b) {
                    round.push((a, b));
                }
            }
            // the sets of earlier rounds are a cache: bounded, it changes
            // only speed
            if cached_bytes > SET_CACHE_BYTES {
                sets.clear();
                cached_bytes = 0;
            }
            let mut need: Vec<u32> = round
                .iter()
                .flat_map(|&(a, b)| [a, b])
                .filter(|&d| small(d).is_none() && !sets.contains_key(&d))
                .collect();
            need.sort_unstable();
            need.dedup();
            let fresh: Vec<Option<Vec<u64>>> = need
                .par_iter()
                .map_init(|| Shingler::new(shingle), |sh, &d| text(d).map(|t| sh.shingle_set(&t)))
                .collect();
            cached_bytes += fresh.iter().map(|s| s.as_ref().map_or(0, |v| v.len() * 8 + 32)).sum::<usize>();
            sets.extend(need.into_iter().zip(fresh));
            let set_of = |d: u32| -> Option<&[u64]> {
                match small(d) {
                    Some(small) => Some(small),
                    None => sets.get(&d).and_then(|s| s.as_deref()),
                }
            };
            let ok: Vec<bool> = round
                .par_iter()
                .map(|&(a, b)| match (set_of(a), set_of(b)) {
                    (Some(x), Some(y)) => jaccard(x, y) >= self.threshold,
                    // text unavailable: the estimate decides
                    _ => est(a, b) >= self.threshold,
                })
                .collect();
            checked += round.len() as u64;
            for (&(a, b), ok) in round.iter().zip(ok) {
                if ok {
                    uf.union(a, b);
                    linked += 1;
                }
            }
        }
        (linked, checked)
    }

    fn cluster_sketches(&self, sk: &Sketches, src: &(impl TextSource + ?Sized)) -> Clustering {
        let n = sk.len();
        let mut stats = ClusterStats::default();
        let t0 = Instant::now();
        let lsh = self.lsh;
        const CHUNK: usize = 4096;
        let keys: Vec<(u64, u32)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .flat_map_iter(|c| {
                let mut v = Vec::with_capacity(CHUNK * lsh.bands as usize);
                for d in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if !sk.is_empty_doc(d as u32) {
                        lsh::push_band_keys(lsh, sk.sig(d as u32), d as u32, &mut v);
                    }
                }
                v
            })
            .collect();
        // in large buckets, a member pairs with a pivot unless the estimate
        // is clearly below the threshold
        let pairs = lsh::candidates(keys, &|a, b| self.likeness(sk, a, b));
        stats.candidate_pairs = pairs.len() as u64;
        stats.candidates_time = t0.elapsed();

        let t1 = Instant::now();
        let mut uf = UnionFind::new(n);
        let (linked, checked) = self.link(sk, src, &pairs, &mut uf);
        stats.verified_pairs = linked;
        stats.exact_checks = checked;
        stats.verify_time = t1.elapsed();

        let t2 = Instant::now();
        let reps = uf.representatives();
        let similarity: Vec<f64> = (0..n as u32)
            .into_par_iter()
            .map(|d| {
                let r = reps[d as usize];
                if r == d { 1.0 } else { self.kept_similarity(sk, r, d) }
            })
            .collect();
        let mut size = vec![0u32; n];
        let mut chained = bitvec![0; n];
        for d in 0..n {
            let r = reps[d] as usize;
            size[r] += 1;
            if similarity[d] < self.threshold {
                chained.set(r, true);
            }
        }
        stats.clusters = size.iter().filter(|&&s| s >= 2).count() as u64;
        stats.duplicates = (0..n).filter(|&d| reps[d] as usize != d).count() as u64;
        stats.largest_cluster = size.iter().copied().max().unwrap_or(0) as u64;
        stats.chained_clusters = chained.count_ones() as u64;
        stats.cluster_time = t2.elapsed();
        Clustering { reps, similarity, stats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the door of the old house by the river";

    #[test]
    fn builder_rejects_bad_parameters() {
        assert!(DedupBuilder::new().threshold(0.0).build().is_err());
        assert!(DedupBuilder::new().threshold(1.5).build().is_err());
        assert!(DedupBuilder::new().threshold(f64::NAN).build().is_err());
        assert!(DedupBuilder::new().shingle(ShingleKind::Word(0)).build().is_err());
        assert!(DedupBuilder::new().num_perm(0).build().is_err());
        assert!(DedupBuilder::new().banding(20, 7).build().is_err());
        assert!(DedupBuilder::new().threads(0).build().is_err());
        assert!(DedupBuilder::new().threshold(1.0).build().is_ok());
    }

    #[test]
    fn near_duplicates_cluster_and_empty_documents_never_do() {
        let edited = BASE.replace("lazy", "sleepy");
        let texts = vec![
            BASE.to_string(),
            "something else entirely, unrelated words here".into(),
            edited,
            String::new(),
            String::new(),
            "...".into(),
        ];
        for verify in [Verify::Estimate, Verify::Exact] {
            let d = DedupBuilder::new().threshold(0.5).verify(verify).build().unwrap();
            let c = d.cluster_texts(&texts);
            assert_eq!(c.representatives(), &[0, 1, 0, 3, 4, 5], "{verify:?}");
            assert_eq!(c.stats.clusters, 1);
            assert_eq!(c.stats.duplicates, 1);
            assert!(c.similarities()[2] >= 0.5 && c.similarities()[2] < 1.0);
        }
    }

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

    #[test]
    fn exact_similarity_is_exact() {
        let edited = BASE.replace("lazy", "sleepy");
        let d = DedupBuilder::new().threshold(0.5).verify(Verify::Exact).build().unwrap();
        let c = d.cluster_texts(&[BASE, edited.as_str()]);
        let mut sh = Shingler::new(ShingleKind::Word(5));
        let j = jaccard(&sh.shingle_set(BASE), &sh.shingle_set(&edited));
        assert_eq!(c.similarities()[1], j);
    }
}
