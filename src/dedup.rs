//! Batch near-duplicate detection: the pipeline from inputs to clusters.
//!
//! read -> normalize -> shingle -> sketch (in parallel, per record) ->
//! band keys -> candidate pairs -> verify -> union-find -> representatives.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitvec::prelude::*;
use rayon::prelude::*;

use crate::cluster::UnionFind;
use crate::error::{BadRecord, Error, Result};
use crate::io::input::{Outcome, Retained, read_input};
use crate::io::{AtomicFile, Format, InputFile, ReadOptions};
use crate::lsh::{self, LshParams};
use crate::shingle::{ShingleKind, Shingler, jaccard};
use crate::sketch::{SKETCH_FORMAT_VERSION, SketchKind, SketchParams, Sketcher, estimate};

/// How candidate pairs are checked against the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verify {
    /// The signatures' Jaccard estimate (fast; keeps no shingle sets).
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
            weights: (0.5, 0.5),
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
    /// x rows. By default, 0.5 and 0.5.
    pub fn weights(mut self, fp: f64, fn_: f64) -> Self {
        self.weights = (fp, fn_);
        self
    }

    /// How candidates are verified. By default, [`Verify::Estimate`].
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
        let pool = match self.threads {
            Some(0) => return Err(Error::param("threads must be at least 1")),
            Some(n) => Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::param(format!("cannot start {n} threads: {e}")))?,
            )),
            None => None,
        };
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
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// The documents of a corpus, sketched and ready to cluster.
#[derive(Debug)]
pub struct Corpus {
    inputs: Vec<InputFile>,
    retained: Vec<Retained>,
    docs: Vec<DocInfo>,
    sketches: Sketches,
    bad: Vec<BadRecord>,
    input_bytes: u64,
    text_bytes: u64,
    read_time: Duration,
}

#[derive(Debug)]
struct DocInfo {
    id: String,
    file: u32,
    start: u64,
    end: u64,
}

/// Signatures (flat, `num_perm` per document), which documents are empty,
/// and the shingle sets when verification is exact.
#[derive(Debug, Default)]
struct Sketches {
    num_perm: usize,
    sigs: Vec<u32>,
    empty: BitVec,
    sets: Option<Vec<Vec<u64>>>,
}

impl Sketches {
    fn sig(&self, d: u32) -> &[u32] {
        let k = self.num_perm;
        &self.sigs[d as usize * k..(d as usize + 1) * k]
    }

    fn len(&self) -> usize {
        self.empty.len()
    }
}

/// What one document turned into while reading.
struct Sketched {
    sig: Vec<u32>,
    nonempty: bool,
    set: Option<Vec<u64>>,
}

impl Corpus {
    /// Number of documents (bad records excluded).
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The id of document `i` (input order).
    pub fn id(&self, i: usize) -> &str {
        &self.docs[i].id
    }

    /// The records that could not be used, in input order.
    pub fn bad_records(&self) -> &[BadRecord] {
        &self.bad
    }

    /// Documents with no shingles (never anybody's duplicate).
    pub fn empty_documents(&self) -> usize {
        self.sketches.empty.count_ones()
    }

    /// Bytes of input read.
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes
    }

    /// Bytes of document text.
    pub fn text_bytes(&self) -> u64 {
        self.text_bytes
    }

    /// Time spent reading, normalizing, shingling and sketching.
    pub fn read_time(&self) -> Duration {
        self.read_time
    }

    /// Write one JSON line per document, in input order:
    /// `{"id", "cluster" (the representative's id), "similarity"}`.
    pub fn write_clusters(&self, clustering: &Clustering, path: &Path) -> Result<()> {
        let mut out = AtomicFile::create(path, &self.input_paths())?;
        let mut line = String::new();
        for (i, doc) in self.docs.iter().enumerate() {
            line.clear();
            line.push_str("{\"id\":");
            push_json_str(&mut line, &doc.id);
            line.push_str(",\"cluster\":");
            push_json_str(&mut line, &self.docs[clustering.reps[i] as usize].id);
            line.push_str(",\"similarity\":");
            line.push_str(&format_sim(clustering.similarity[i]));
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
        }
        out.commit()
    }

    /// Write the deduplicated corpus: the records of representatives and
    /// singletons, copied byte for byte from the input. Line-based inputs
    /// give one file; whole-file (text) inputs give a directory of copies.
    pub fn write_deduplicated(&self, clustering: &Clustering, path: &Path) -> Result<()> {
        let text = self.inputs.iter().filter(|i| i.format == Format::Text).count();
        if text > 0 && text < self.inputs.len() {
            return Err(Error::param(
                "cannot write one deduplicated output for a mix of whole-file (text) and line-based inputs",
            ));
        }
        let kept = (0..self.docs.len()).filter(|&i| clustering.reps[i] as usize == i);
        if text == 0 {
            let mut out = AtomicFile::create(path, &self.input_paths())?;
            for i in kept {
                let d = &self.docs[i];
                let bytes = self.retained[d.file as usize].slice(d.start, d.end);
                out.write_all(bytes)?;
                if bytes.last() != Some(&b'\n') {
                    out.write_all(b"\n")?;
                }
            }
            return out.commit();
        }
        // a directory of kept files, built beside the target and renamed
        if path.exists() {
            return Err(Error::param(format!("output directory {} already exists", path.display())));
        }
        let tmp = sibling_tmp(path);
        let result = (|| {
            for i in kept {
                let d = &self.docs[i];
                let rel = relative_name(&self.inputs[d.file as usize].name);
                let target = tmp.join(rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                let bytes = self.retained[d.file as usize].slice(d.start, d.end);
                std::fs::write(&target, bytes).map_err(|e| Error::io(&target, e))?;
            }
            std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }

    fn input_paths(&self) -> Vec<PathBuf> {
        self.inputs.iter().filter_map(|i| i.path.clone()).collect()
    }
}

fn sibling_tmp(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.neardup-tmp-{}", std::process::id()))
}

/// An input name as a relative path inside an output directory.
fn relative_name(name: &str) -> PathBuf {
    Path::new(name)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(PathBuf::from(s)),
            std::path::Component::ParentDir => Some(PathBuf::from("_")),
            _ => None,
        })
        .collect()
}

/// A similarity as written to outputs: shortest round-trip decimal.
fn format_sim(s: f64) -> String {
    if s == 1.0 { "1.0".into() } else { format!("{s}") }
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping, without an intermediate allocation per call
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
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Distinct candidate pairs from LSH buckets.
    pub candidate_pairs: u64,
    /// Candidate pairs at or above the threshold.
    pub verified_pairs: u64,
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

    /// Each document's similarity to its representative (1.0 for itself).
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

    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }

    fn sketch_one(&self, shingler: &mut Shingler, text: &str) -> Sketched {
        let k = self.sketcher.params().num_perm as usize;
        let mut sig = vec![0u32; k];
        match self.verify {
            Verify::Estimate => {
                let mut hashes = Vec::new();
                shingler.for_each(text, |s| hashes.push(s.hash));
                let nonempty = self.sketcher.sketch_into(hashes, &mut sig);
                Sketched { sig, nonempty, set: None }
            }
            Verify::Exact => {
                let set = shingler.shingle_set(text);
                let nonempty = self.sketcher.sketch_into(set.iter().copied(), &mut sig);
                Sketched { sig, nonempty, set: Some(set) }
            }
        }
    }

    /// Read and sketch `inputs`. `keep_records` keeps the input bytes so that
    /// [`Corpus::write_deduplicated`] can copy records (free for memory-mapped
    /// files). `progress` is called with the bytes read so far.
    pub fn read(
        &self,
        inputs: &[InputFile],
        keep_records: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Corpus> {
        let start = Instant::now();
        let k = self.sketcher.params().num_perm as usize;
        let mut corpus = Corpus {
            inputs: inputs.to_vec(),
            retained: Vec::new(),
            docs: Vec::new(),
            sketches: Sketches {
                num_perm: k,
                sets: (self.verify == Verify::Exact).then(Vec::new),
                ..Default::default()
            },
            bad: Vec::new(),
            input_bytes: 0,
            text_bytes: 0,
            read_time: Duration::ZERO,
        };
        let shingle = self.sketcher.params().shingle;
        let sketch = |text: &str| {
            thread_local! {
                static SHINGLER: std::cell::RefCell<Option<Shingler>> = const { std::cell::RefCell::new(None) };
            }
            SHINGLER.with(|cell| {
                let mut slot = cell.borrow_mut();
                let sh = match slot.as_mut() {
                    Some(s) if s.kind() == shingle => s,
                    _ => slot.insert(Shingler::new(shingle)),
                };
                self.sketch_one(sh, text)
            })
        };
        let mut done = 0u64;
        for (fi, input) in inputs.iter().enumerate() {
            let mut first_bad: Option<BadRecord> = None;
            let retained = self.install(|| {
                read_input(input, &self.read, keep_records, &sketch, &mut |o, bytes| {
                    done += bytes;
                    match o {
                        Outcome::Doc(r) => {
                            corpus.text_bytes += r.text_len;
                            corpus.docs.push(DocInfo {
                                id: r.id,
                                file: fi as u32,
                                start: r.start,
                                end: r.end,
                            });
                            corpus.sketches.sigs.extend_from_slice(&r.value.sig);
                            corpus.sketches.empty.push(!r.value.nonempty);
                            if let (Some(sets), Some(set)) = (corpus.sketches.sets.as_mut(), r.value.set) {
                                sets.push(set);
                            }
                        }
                        Outcome::Bad(b) => {
                            if first_bad.is_none() {
                                first_bad = Some(b.clone());
                            }
                            corpus.bad.push(b);
                        }
                    }
                    progress(done);
                })
            })?;
            if self.strict {
                if let Some(b) = first_bad {
                    return Err(Error::BadRecord(b));
                }
            }
            corpus.input_bytes += retained.len;
            corpus.retained.push(retained);
        }
        debug_assert_eq!(corpus.sketches.sigs.len(), corpus.docs.len() * k);
        corpus.read_time = start.elapsed();
        Ok(corpus)
    }

    /// Cluster a read corpus.
    pub fn cluster(&self, corpus: &Corpus) -> Clustering {
        self.install(|| self.cluster_sketches(&corpus.sketches))
    }

    /// Cluster in-memory texts (index = input order).
    pub fn cluster_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Clustering {
        self.install(|| {
            let shingle = self.sketcher.params().shingle;
            let sketched: Vec<Sketched> = texts
                .par_iter()
                .map_init(|| Shingler::new(shingle), |sh, t| self.sketch_one(sh, t.as_ref()))
                .collect();
            let k = self.sketcher.params().num_perm as usize;
            let mut sk = Sketches {
                num_perm: k,
                sigs: Vec::with_capacity(k * texts.len()),
                empty: BitVec::with_capacity(texts.len()),
                sets: (self.verify == Verify::Exact).then(Vec::new),
            };
            for s in sketched {
                sk.sigs.extend_from_slice(&s.sig);
                sk.empty.push(!s.nonempty);
                if let (Some(sets), Some(set)) = (sk.sets.as_mut(), s.set) {
                    sets.push(set);
                }
            }
            self.cluster_sketches(&sk)
        })
    }

    fn similarity(&self, sk: &Sketches, a: u32, b: u32) -> f64 {
        if sk.empty[a as usize] || sk.empty[b as usize] {
            return 0.0;
        }
        match &sk.sets {
            Some(sets) => jaccard(&sets[a as usize], &sets[b as usize]),
            None => estimate(sk.sig(a), sk.sig(b)),
        }
    }

    fn cluster_sketches(&self, sk: &Sketches) -> Clustering {
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
                    if !sk.empty[d] {
                        lsh::push_band_keys(lsh, sk.sig(d as u32), d as u32, &mut v);
                    }
                }
                v
            })
            .collect();
        let pairs = lsh::candidates(keys);
        stats.candidate_pairs = pairs.len() as u64;
        stats.candidates_time = t0.elapsed();

        let t1 = Instant::now();
        let verified: Vec<(u32, u32)> =
            pairs.into_par_iter().filter(|&(a, b)| self.similarity(sk, a, b) >= self.threshold).collect();
        stats.verified_pairs = verified.len() as u64;
        stats.verify_time = t1.elapsed();

        let t2 = Instant::now();
        let mut uf = UnionFind::new(n);
        for &(a, b) in &verified {
            uf.union(a, b);
        }
        let reps = uf.representatives();
        let similarity: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|d| if reps[d] as usize == d { 1.0 } else { self.similarity(sk, d as u32, reps[d]) })
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
    fn exact_similarity_is_exact() {
        let edited = BASE.replace("lazy", "sleepy");
        let d = DedupBuilder::new().threshold(0.5).verify(Verify::Exact).build().unwrap();
        let c = d.cluster_texts(&[BASE, edited.as_str()]);
        let mut sh = Shingler::new(ShingleKind::Word(5));
        let j = jaccard(&sh.shingle_set(BASE), &sh.shingle_set(&edited));
        assert_eq!(c.similarities()[1], j);
    }
}
