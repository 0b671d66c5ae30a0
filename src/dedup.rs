//! Batch near-duplicate detection: the pipeline from inputs to clusters.
//!
//! read -> normalize -> shingle -> sketch (in parallel, per record) ->
//! band keys -> candidate pairs -> verify -> union-find -> representatives.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::{BadRecord, Error, Result};
use crate::io::load::{Ids, Loaded, Tally, load_into};
use crate::io::rewrite::RecordSource;
use crate::io::rewrite::write_records;
use crate::io::table::{Cell, Kind, Table};
use crate::io::{AtomicFile, InputFile, OutputFormat, ReadOptions};
use crate::lsh::LshParams;
use crate::params::{PARAMS_VERSION, Params};
use crate::pipeline;
use crate::pipeline::bucket::BandKeys;
use crate::pipeline::cluster::{ClusterMode, Clustering, Keep, Shape};
use crate::pipeline::signatures::{SMALL_SET_MAX, Sketched, Sketches, small_set};
use crate::pipeline::verify::{Plan, RecordTexts, Rule, TextSource};
use crate::pool::Pool;
use crate::progress::ProgressFn;
use crate::report::SpillSummary;
use crate::shingle::{ShingleKind, Shingler};
use crate::sketch::{SKETCH_FORMAT_VERSION, SketchKind, SketchParams, Sketcher};
use crate::spill::Spilled;

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
    cluster: ClusterMode,
    keep: Keep,
    threads: Option<usize>,
    read: ReadOptions,
    strict: bool,
    progress: ProgressFn,
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
            cluster: ClusterMode::default(),
            keep: Keep::default(),
            threads: None,
            read: ReadOptions::default(),
            strict: false,
            progress: ProgressFn::default(),
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

    /// How clusters are made of the verified pairs. By default,
    /// [`ClusterMode::Star`]: a document is removed only when it reaches
    /// the threshold to the document that is kept.
    pub fn cluster(mut self, mode: ClusterMode) -> Self {
        self.cluster = mode;
        self
    }

    /// Which document of a cluster is kept. By default, [`Keep::First`]:
    /// the first in input order.
    pub fn keep(mut self, keep: Keep) -> Self {
        self.keep = keep;
        self
    }

    /// Where the long steps after reading (bucketing, settling, star
    /// clusters, writing) report their progress. By default, nowhere.
    pub fn progress(mut self, progress: ProgressFn) -> Self {
        self.progress = progress;
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

    /// Check the parameters and give them as a [`Params`] (what an
    /// [`Index`](crate::Index) is made from).
    pub fn params(&self) -> Result<Params> {
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
        let sketch = SketchParams {
            kind: self.sketch,
            num_perm: self.num_perm,
            seed: self.seed,
            shingle: self.shingle,
            version: SKETCH_FORMAT_VERSION,
        };
        if self.keep.field().is_some_and(str::is_empty) {
            return Err(Error::param("the keep policy's field name is empty"));
        }
        Ok(Params {
            version: PARAMS_VERSION,
            threshold: self.threshold,
            sketch,
            lsh,
            verify: self.verify,
            cluster: self.cluster,
            keep: self.keep.clone(),
        })
    }

    /// Check the parameters and build.
    pub fn build(self) -> Result<Dedup> {
        let params = self.params()?;
        if self.read.text_field.is_empty() {
            return Err(Error::param("the text field name is empty"));
        }
        let pool = Pool::new(self.threads)?;
        let mut read = self.read;
        read.keep = (params.keep != Keep::First).then(|| params.keep.clone());
        Ok(Dedup {
            sketcher: Sketcher::new(params.sketch),
            params,
            lsh_chosen: self.banding.is_none(),
            read,
            strict: self.strict,
            pool,
            progress: self.progress,
        })
    }
}

/// A configured batch deduplicator. See the crate docs for an example.
#[derive(Debug, Clone)]
pub struct Dedup {
    params: Params,
    sketcher: Sketcher,
    lsh_chosen: bool,
    read: ReadOptions,
    strict: bool,
    pool: Pool,
    progress: ProgressFn,
}

/// The documents of a corpus, sketched and ready to cluster: in memory
/// ([`Dedup::read`]) or in a work directory ([`Dedup::read_spilled`]).
#[derive(Debug)]
pub struct Corpus {
    store: Store,
    tally: Tally,
    empty: usize,
    read_time: Duration,
    /// Where writing reports its progress (the deduplicator's).
    progress: ProgressFn,
}

/// Where a corpus's signatures, ids and records are kept.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per corpus
enum Store {
    Memory { loaded: Loaded, sketches: Sketches },
    Spilled(Spilled),
}

/// What a bounded-memory run reused from an earlier, interrupted run with
/// the same inputs, parameters and spill directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resumed {
    /// Nothing: everything was done by this run.
    Nothing,
    /// Reading and sketching (signatures, ids, sorted runs of band keys).
    Reading,
    /// Reading, sketching and clustering.
    Clustering,
}

impl Corpus {
    pub(crate) fn spilled(s: Spilled, tally: Tally, read_time: Duration, progress: ProgressFn) -> Corpus {
        Corpus { empty: s.empty_documents(), store: Store::Spilled(s), tally, read_time, progress }
    }

    fn records(&self) -> &dyn RecordSource {
        match &self.store {
            Store::Memory { loaded, .. } => loaded,
            Store::Spilled(s) => s,
        }
    }

    fn ids(&self) -> &dyn Ids {
        match &self.store {
            Store::Memory { loaded, .. } => loaded,
            Store::Spilled(s) => s,
        }
    }

    /// Number of documents (bad records excluded).
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of document `i` (input order).
    pub fn id(&self, i: usize) -> Result<Cow<'_, str>> {
        self.ids().id(i)
    }

    /// Documents without a usable value of the keep policy's field (a
    /// number or a timestamp): they are kept last.
    pub fn keep_missing(&self) -> u64 {
        self.tally.keep_missing
    }

    /// The records that could not be used, in input order.
    pub fn bad_records(&self) -> &[BadRecord] {
        &self.tally.bad
    }

    /// Inputs that could not be read to their end (truncated or corrupt
    /// compressed files, read errors). The records before the failure were
    /// used; each failure is also among [`Corpus::bad_records`], with its
    /// offset.
    pub fn failed_inputs(&self) -> &[String] {
        &self.tally.failed
    }

    /// Documents with no shingles (never anybody's duplicate).
    pub fn empty_documents(&self) -> usize {
        self.empty
    }

    /// Bytes of input read.
    pub fn input_bytes(&self) -> u64 {
        self.tally.input_bytes
    }

    /// Bytes of document text.
    pub fn text_bytes(&self) -> u64 {
        self.tally.text_bytes
    }

    /// Every document's shingle set (sorted, unique hashes), kept in memory
    /// when verification is [`Verify::Exact`].
    pub fn shingle_sets(&self) -> Option<&[Vec<u64>]> {
        match &self.store {
            Store::Memory { sketches, .. } => sketches.sets(),
            Store::Spilled(_) => None,
        }
    }

    /// Time spent reading, normalizing, shingling and sketching (in the run
    /// that did it, when it was resumed).
    pub fn read_time(&self) -> Duration {
        self.read_time
    }

    /// What a bounded-memory run wrote to its work directory (`None` in
    /// memory).
    pub fn spill(&self) -> Option<SpillSummary> {
        match &self.store {
            Store::Memory { .. } => None,
            Store::Spilled(s) => Some(SpillSummary { bytes: s.spill_bytes, runs: s.runs() as u64 }),
        }
    }

    /// What this run reused from an earlier, interrupted one.
    pub fn resumed(&self) -> Resumed {
        match &self.store {
            Store::Spilled(s) if s.resumed() == 2 => Resumed::Clustering,
            Store::Spilled(s) if s.resumed() == 1 => Resumed::Reading,
            _ => Resumed::Nothing,
        }
    }

    /// Keep the work directory of a bounded-memory run when this corpus is
    /// dropped (after a failure to write an output, so that a rerun with
    /// the same spill directory reuses the finished work); its path.
    pub fn keep_spill_dir(&mut self) -> Option<&Path> {
        match &mut self.store {
            Store::Memory { .. } => None,
            Store::Spilled(s) => Some(s.keep()),
        }
    }

    /// Write one row per document, in input order: `id`, `cluster` (the
    /// representative's id), `similarity` (to the representative); JSON
    /// lines, or Parquet (see [`OutputFormat`]).
    pub fn write_clusters(&self, clustering: &Clustering, path: &Path, format: OutputFormat) -> Result<()> {
        let mut out = ClusterWriter::create(path, &self.records().input_paths(), format)?;
        let ids = self.ids();
        let (reps, sims) = (clustering.representatives(), clustering.similarities());
        // representatives' ids, looked up once per cluster (a bounded cache)
        let mut rep_ids: HashMap<u32, String> = HashMap::new();
        let n = reps.len() as u64;
        ids.for_each_id(&mut |d, id| {
            if d % 4096 == 0 {
                self.progress.report("write", d as u64, n, "docs");
            }
            let rep = reps[d];
            if rep as usize == d {
                return out.push(id, id, sims[d]);
            }
            if rep_ids.len() > REP_ID_CACHE {
                rep_ids.clear();
            }
            if let std::collections::hash_map::Entry::Vacant(e) = rep_ids.entry(rep) {
                e.insert(ids.id(rep as usize)?.into_owned());
            }
            out.push(id, &rep_ids[&rep], sims[d])
        })?;
        out.commit()
    }

    /// Write the deduplicated corpus: the records of representatives and
    /// singletons, copied byte for byte from the input. Line-based inputs
    /// give one file; whole-file (text) inputs give a directory of copies;
    /// Parquet inputs give the kept rows in their schema.
    pub fn write_deduplicated(&self, clustering: &Clustering, path: &Path) -> Result<()> {
        let records = self.records();
        let n = records.len() as u64;
        write_records(records, path, |d| {
            if d % 4096 == 0 {
                self.progress.report("write", d as u64, n, "docs");
            }
            clustering.is_kept(d).then(|| records.record(d))
        })
    }
}

/// Representatives' ids kept while writing the clusters.
const REP_ID_CACHE: usize = 1 << 16;

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

impl Dedup {
    /// The parameters that decide its results.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The threshold.
    pub fn threshold(&self) -> f64 {
        self.params.threshold
    }

    /// The sketch parameters.
    pub fn sketch_params(&self) -> &SketchParams {
        self.sketcher.params()
    }

    /// The banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.params.lsh
    }

    /// True when the banding was chosen from the threshold.
    pub fn lsh_chosen(&self) -> bool {
        self.lsh_chosen
    }

    /// The verification mode.
    pub fn verify_mode(&self) -> Verify {
        self.params.verify
    }

    /// How inputs are read.
    pub(crate) fn read_options(&self) -> &ReadOptions {
        &self.read
    }

    /// Where the long steps report their progress.
    pub(crate) fn progress(&self) -> &ProgressFn {
        &self.progress
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
        self.sketch_text_with(text, |_| {})
    }

    /// [`Dedup::sketch_text`], calling `each` with every shingle hash on the
    /// way (in text order, repeats included): what the index keeps
    /// fingerprints of.
    pub(crate) fn sketch_text_with(&self, text: &str, each: impl FnMut(u64)) -> Sketched {
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
            self.sketch_one_with(sh, text, each)
        })
    }

    pub(crate) fn sketch_one(&self, shingler: &mut Shingler, text: &str) -> Sketched {
        self.sketch_one_with(shingler, text, |_| {})
    }

    /// [`Dedup::sketch_one`], calling `each` with every shingle hash on the
    /// way (in text order, repeats included).
    fn sketch_one_with(&self, shingler: &mut Shingler, text: &str, mut each: impl FnMut(u64)) -> Sketched {
        let k = self.sketcher.params().num_perm as usize;
        let mut sig = vec![0u32; k];
        match self.params.verify {
            Verify::Estimate if self.sketcher.params().kind == SketchKind::Oph => {
                let mut acc = self.sketcher.oph_accumulator(&mut sig);
                let mut count = 0usize;
                shingler.for_each_hash(text, |h| {
                    acc.update(h);
                    count += 1;
                    each(h);
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
                hashes.iter().for_each(|&h| each(h));
                let samples = self.sketcher.sketch_into(hashes.iter().copied(), &mut sig) as u32;
                Sketched { sig, samples, set: None, small: small_set(hashes) }
            }
            Verify::Exact => {
                let set = shingler.shingle_set(text);
                set.iter().for_each(|&h| each(h));
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
        let keep = keep_records || self.params.verify == Verify::Estimate;
        let mut sketches = Sketches::new(k, self.params.verify == Verify::Exact, 0);
        let mut loaded = self.pool.install(|| {
            load_into(inputs, &self.read, keep, self.strict, &sketch, &mut |v| sketches.push(v), progress)
        })?;
        let tally = std::mem::take(&mut loaded.tally);
        let empty = sketches.empty_documents();
        Ok(Corpus {
            store: Store::Memory { loaded, sketches },
            tally,
            empty,
            read_time: start.elapsed(),
            progress: self.progress.clone(),
        })
    }

    /// Cluster a read corpus.
    pub fn cluster(&self, corpus: &Corpus) -> Result<Clustering> {
        match &corpus.store {
            Store::Memory { loaded, sketches } => self.pool.install(|| {
                self.cluster_in_memory(sketches, &RecordTexts(Some(loaded)), &corpus.tally.prefs)
            }),
            Store::Spilled(s) => s.cluster(self, &corpus.tally.prefs),
        }
    }

    /// Cluster in-memory texts (index = input order).
    pub fn cluster_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Clustering> {
        self.pool.install(|| {
            let shingle = self.sketcher.params().shingle;
            let sketched: Vec<Sketched> = texts
                .par_iter()
                .map_init(|| Shingler::new(shingle), |sh, t| self.sketch_one(sh, t.as_ref()))
                .collect();
            let k = self.sketcher.params().num_perm as usize;
            let mut sk = Sketches::new(k, self.params.verify == Verify::Exact, texts.len());
            for s in sketched {
                sk.push(s);
            }
            let prefs: Vec<f64> = match &self.params.keep {
                Keep::First => Vec::new(),
                keep @ (Keep::Longest | Keep::Shortest) => {
                    texts.iter().map(|t| keep.preference(t.as_ref().len() as u64, None)).collect()
                }
                keep => {
                    return Err(Error::Unsupported(format!(
                        "keep {keep}: texts alone have no fields; read records (JSONL, Parquet, WARC) instead"
                    )));
                }
            };
            self.cluster_in_memory(&sk, texts, &prefs)
        })
    }

    /// The likeness rule of this deduplicator.
    pub(crate) fn rule(&self) -> Rule {
        Rule { threshold: self.params.threshold, shingle: self.sketcher.params().shingle }
    }

    /// How the clusters are shaped, given every document's keep preference
    /// (empty: the first is kept) and the bytes of sets star clustering may
    /// keep while it settles members from their texts.
    pub(crate) fn shape<'a>(&self, prefs: &'a [f64], set_bytes: usize) -> Shape<'a> {
        Shape { mode: self.params.cluster, prefs: (!prefs.is_empty()).then_some(prefs), set_bytes }
    }

    /// Bucket, verify and cluster signatures held in memory.
    pub(crate) fn cluster_in_memory(
        &self,
        sk: &Sketches,
        texts: &(impl TextSource + ?Sized),
        prefs: &[f64],
    ) -> Result<Clustering> {
        self.cluster_with_plan(sk, texts, prefs, Plan::IN_MEMORY)
    }

    /// As [`Dedup::cluster_in_memory`], with another plan.
    fn cluster_with_plan(
        &self,
        sk: &Sketches,
        texts: &(impl TextSource + ?Sized),
        prefs: &[f64],
        plan: Plan,
    ) -> Result<Clustering> {
        let mut keys = BandKeys { lsh: self.params.lsh, sigs: sk };
        let shape = self.shape(prefs, plan.set_bytes);
        pipeline::run(&self.rule(), sk, &mut keys, texts, plan, shape, &self.progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::jaccard;

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
            let c = d.cluster_texts(&texts).unwrap();
            assert_eq!(c.representatives(), &[0, 1, 0, 3, 4, 5], "{verify:?}");
            assert_eq!(c.stats.clusters, 1);
            assert_eq!(c.stats.duplicates, 1);
            assert!(c.similarities()[2] >= 0.5 && c.similarities()[2] < 1.0);
        }
    }

    /// 1,500 pairs of documents (more than one chunk of a sweep), an
    /// original and a variant with 0 to 10 of
    /// its 400 words replaced, shuffled over the corpus: many pairs near the
    /// threshold, too long to keep their sets, each linked by itself alone.
    fn families() -> (Vec<String>, Vec<u64>) {
        let mut rng = crate::hash::SeedStream::new(3, 3);
        let mut docs = Vec::new();
        for f in 0..1500u64 {
            let words: Vec<String> = (0..400).map(|_| format!("w{}", rng.next_u64() % 5000)).collect();
            let mut variant = words.clone();
            for _ in 0..(f % 6) * 2 {
                let at = (rng.next_u64() % 400) as usize;
                variant[at] = format!("x{f}{}", rng.next_u64() % 1000);
            }
            docs.push((rng.next_u64(), f, words.join(" ")));
            docs.push((rng.next_u64(), f, variant.join(" ")));
        }
        docs.sort();
        docs.into_iter().map(|(_, f, t)| (t, f)).unzip()
    }

    #[test]
    fn settling_in_many_small_sweeps_changes_no_cluster() {
        let (texts, family) = families();
        let d = DedupBuilder::new().threshold(0.8).build().unwrap();
        let whole = d.cluster_texts(&texts).unwrap();
        assert!(whole.stats.exact_checks > 20, "{:?}", whole.stats);
        assert!(whole.stats.duplicates > 500, "{:?}", whole.stats);
        let shingle = d.sketcher.params().shingle;
        let mut sk = Sketches::new(d.sketcher.params().num_perm as usize, false, texts.len());
        let mut sh = Shingler::new(shingle);
        for t in &texts {
            sk.push(d.sketch_one(&mut sh, t));
        }
        // room for one set: a sweep settles the pairs of one earlier document
        let tight = Plan { set_bytes: 1, ..Plan::IN_MEMORY };
        let swept = d.cluster_with_plan(&sk, texts.as_slice(), &[], tight).unwrap();
        assert_eq!(swept.representatives(), whole.representatives());
        assert_eq!(swept.similarities(), whole.similarities());
        // and against exact Jaccard: every removed document is alike its
        // representative, and LSH misses few alike pairs (documents of
        // different families share no shingle)
        let sets: Vec<Vec<u64>> = texts.iter().map(|t| sh.shingle_set(t)).collect();
        let reps = whole.representatives();
        let (mut alike, mut missed) = (0, 0);
        for i in 0..texts.len() {
            let r = reps[i] as usize;
            if r != i {
                assert!(jaccard(&sets[i], &sets[r]) >= 0.8, "{i} is not alike {r}");
            }
            for j in (i + 1..texts.len()).filter(|&j| family[j] == family[i]) {
                if jaccard(&sets[i], &sets[j]) >= 0.8 {
                    alike += 1;
                    missed += usize::from(reps[i] != reps[j]);
                }
            }
        }
        assert!(missed * 20 <= alike, "{missed} of {alike} alike pairs missed");
    }

    #[test]
    fn exact_similarity_is_exact() {
        let edited = BASE.replace("lazy", "sleepy");
        let d = DedupBuilder::new().threshold(0.5).verify(Verify::Exact).build().unwrap();
        let c = d.cluster_texts(&[BASE, edited.as_str()]).unwrap();
        let mut sh = Shingler::new(ShingleKind::Word(5));
        let j = jaccard(&sh.shingle_set(BASE), &sh.shingle_set(&edited));
        assert_eq!(c.similarities()[1], j);
    }
}
