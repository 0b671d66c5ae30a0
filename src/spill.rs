//! Deduplication in bounded memory: what does not have to stay in memory
//! goes to a spill directory, so memory grows with the number of documents
//! (about 40 bytes each) and not with the text.
//!
//! read (streamed) + sketch, in parallel per record; in input order:
//!   signature -> `sigs.bin` (read back by position), id -> `ids.bin`,
//!   band keys -> a buffer, sorted and written as a run when full,
//!   decompressed records of compressed or piped inputs -> `records-N.bin`
//! runs -> k-way merge -> buckets -> the same pairs as in memory -> union-find
//!   (a pair already inside one cluster is skipped: it changes nothing)
//! doubtful pairs -> settled exactly from the re-read texts, as in memory.
//!
//! The clusters are those of the in-memory path: the same buckets in the same
//! member order, the same verdict for every pair, and components do not
//! depend on the order pairs are linked in. Counters of pairs differ.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::dedup::{ClusterWriter, Dedup, Verify};
use crate::error::{BadRecord, Error, Result};
use crate::io::input::{Compression, Format, Outcome, read_input_with, record_text, stamp};
use crate::io::load::{end_input, group_ranges};
use crate::io::{AtomicFile, InputFile, OutputFormat, ReadOptions, le_u32s, le_u64s};
use crate::lsh;
use crate::pipeline;
use crate::pipeline::bucket::{BatchFn, Buckets};
use crate::pipeline::cluster::{ClusterStats, Clustering};
use crate::pipeline::signatures::Signatures;
use crate::pipeline::verify::{Plan, TextSource};

/// Bytes of one band key in a run file: key u64, document u32.
const KEY_BYTES: usize = 12;
/// Read buffer of each run during the merge.
const RUN_BUFFER: usize = 1 << 20;
/// Pairs judged together (in parallel) while merging.
const PAIR_BATCH: usize = 1 << 16;
/// Signatures kept between lookups (pivots of large buckets, representatives).
const SIG_CACHE: usize = 1 << 16;
/// Doubtful pairs (8 bytes each) are held up to an eighth of the memory
/// budget, then settled. Settling early changes no cluster: a pair is linked
/// exactly when its exact Jaccard reaches the threshold, and skipped only
/// when already inside one cluster.
fn doubtful_cap(max_memory: u64) -> usize {
    ((max_memory / 64) as usize).max(4096)
}

/// A directory of spill files, removed when dropped unless kept.
#[derive(Debug)]
struct SpillDir(PathBuf, bool);

impl Drop for SpillDir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Version of the checkpoint files in a spill directory.
const CHECKPOINT_VERSION: u32 = 2;

/// What the read phase left, saved as `read.json` (with `tables.bin`) once
/// it is complete, so that a rerun with the same spill directory starts
/// from there.
#[derive(serde::Serialize, serde::Deserialize)]
struct ReadCheckpoint {
    version: u32,
    docs: usize,
    /// Per input: the spill copy its records are re-read from (a file name
    /// in the spill directory), and its resolved format.
    sources: Vec<(Option<String>, Format)>,
    bad: Vec<BadRecord>,
    failed: Vec<String>,
    input_bytes: u64,
    text_bytes: u64,
    runs: usize,
    spill_bytes: u64,
    read_time: Duration,
}

/// The clustering, saved as `clusters.json` (with `reps.bin`).
#[derive(serde::Serialize, serde::Deserialize)]
struct ClusterCheckpoint {
    version: u32,
    docs: usize,
    stats: ClusterStats,
}

/// Write `bytes` to `dir/name` atomically.
fn save(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create_raw(&dir.join(name), &[])?;
    f.write_all(bytes)?;
    f.commit()
}

/// The JSON checkpoint `dir/name`, if it is there and of this version.
fn load_checkpoint<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if v.get("version")?.as_u64()? != u64::from(CHECKPOINT_VERSION) {
        return None;
    }
    serde_json::from_value(v).ok()
}

/// Bytes of one document's row in `tables.bin`: samples, id end, source,
/// start, end.
const ROW: usize = 4 + 8 + 4 + 8 + 8;

/// The read checkpoint in `dir`, when it is complete and fits `inputs`.
fn valid_checkpoint(dir: &Path, inputs: &[InputFile]) -> Option<ReadCheckpoint> {
    let ck: ReadCheckpoint = load_checkpoint(dir, "read.json")?;
    let len = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len()).ok();
    let ok = len("tables.bin") == Some((ck.docs * ROW) as u64)
        && ck.sources.len() == inputs.len()
        && (0..ck.runs).all(|i| dir.join(format!("run-{i:05}.bin")).exists())
        && ck.sources.iter().all(|(copy, _)| copy.as_ref().is_none_or(|c| dir.join(c).exists()))
        && len("sigs.bin").is_some()
        && len("ids.bin").is_some();
    ok.then_some(ck)
}

/// Whether process `pid` is alive.
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Where document `d`'s record bytes are: a source file and a byte range.
#[derive(Debug, Clone, Copy)]
struct Place {
    source: u32,
    start: u64,
    end: u64,
}

/// A corpus read and clustered in bounded memory; its outputs are written
/// from the spill files and the inputs.
#[derive(Debug)]
pub struct SpilledCorpus {
    dir: SpillDir,
    num_perm: usize,
    samples: Vec<u32>,
    sigs: File,
    sig_path: PathBuf,
    ids: File,
    id_path: PathBuf,
    id_ends: Vec<u64>,
    places: Vec<Place>,
    /// Files records can be re-read from (the input, or its spill copy), with
    /// the input's format.
    sources: Vec<(File, Format)>,
    input_paths: Vec<PathBuf>,
    inputs: Vec<InputFile>,
    opts: ReadOptions,
    bad: Vec<BadRecord>,
    failed: Vec<String>,
    input_bytes: u64,
    text_bytes: u64,
    read_time: Duration,
    /// The clusters.
    clustering: Clustering,
    /// Bytes written to the spill directory.
    pub spill_bytes: u64,
    /// Sorted runs of band keys written.
    pub runs: usize,
    /// What a previous, interrupted run with the same spill directory had
    /// finished and this one reused: 0 nothing, 1 reading (signatures, ids,
    /// sorted runs), 2 reading and clustering.
    pub resumed: u8,
}

/// A file of the spill directory, created.
fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>)> {
    let p = dir.join(name);
    let f = File::create(&p).map_err(|e| Error::io(&p, e))?;
    Ok((p, BufWriter::with_capacity(1 << 20, f)))
}

fn reopen(p: &Path) -> Result<File> {
    File::open(p).map_err(|e| Error::io(p, e))
}

/// Open a file that is read at random positions: the kernel is told not to
/// read ahead, which would otherwise turn every 512-byte lookup into a
/// 128 KB read and push the useful pages out of the cache.
fn open_random(p: &Path) -> Result<File> {
    let f = reopen(p)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: posix_fadvise only reads its integer arguments; the
        // descriptor is open for the call's duration. Advice is a hint: its
        // failure changes nothing but speed.
        let _ = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM) };
    }
    Ok(f)
}

impl Dedup {
    /// Read and cluster `inputs` keeping about `max_memory` bytes of band
    /// keys in memory at a time; everything else that grows with the corpus
    /// but the per-document tables goes to a fresh directory inside
    /// `spill_dir` (removed when the result is dropped). Gives the clusters
    /// of [`Dedup::read`] + [`Dedup::cluster`]. `--verify exact` is not
    /// supported here (it keeps every shingle set in memory).
    pub fn read_spilled(
        &self,
        inputs: &[InputFile],
        spill_dir: &Path,
        max_memory: u64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<SpilledCorpus> {
        if self.verify_mode() == Verify::Exact {
            return Err(Error::param("--max-memory works with --verify estimate only"));
        }
        let start = Instant::now();
        let (dir, resume) = self.work_dir(inputs, spill_dir)?;
        let k = self.sketch_params().num_perm as usize;
        let lsh = self.lsh_params();
        // a band key takes 16 bytes in the buffer; half the budget for it,
        // the rest for sorting, the tables and the readers' blocks
        let run_cap = ((max_memory / 2) / 16).max(1 << 16) as usize;
        let mut opts = self.read_options().clone();
        opts.mmap = false; // mapped pages would count against the budget
        let (sig_path, id_path) = (dir.0.join("sigs.bin"), dir.0.join("ids.bin"));
        if resume.is_none() {
            // empty, for the readers opened below; written once they are
            for p in [&sig_path, &id_path] {
                File::create(p).map_err(|e| Error::io(p, e))?;
            }
        }
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(run_cap.min(1 << 24));
        let mut run_paths: Vec<PathBuf> = Vec::new();
        let mut spill_bytes = 0u64;
        let mut c = SpilledCorpus {
            num_perm: k,
            samples: Vec::new(),
            sigs: open_random(&sig_path)?,
            sig_path: sig_path.clone(),
            ids: open_random(&id_path)?,
            id_path: id_path.clone(),
            id_ends: Vec::new(),
            places: Vec::new(),
            sources: Vec::new(),
            input_paths: inputs.iter().filter_map(|i| i.path.clone()).collect(),
            inputs: inputs.to_vec(),
            opts: self.read_options().clone(),
            bad: Vec::new(),
            failed: Vec::new(),
            input_bytes: 0,
            text_bytes: 0,
            read_time: Duration::ZERO,
            clustering: Clustering::from_parts(Vec::new(), Vec::new(), ClusterStats::default()),
            spill_bytes: 0,
            runs: 0,
            resumed: 0,
            dir,
        };
        if let Some(ck) = resume {
            let runs = c.restore(ck, inputs)?;
            self.cluster_or_restore(&mut c, &runs, max_memory)?;
            return Ok(c);
        }
        let (_, mut sig_w) = create(&c.dir.0, "sigs.bin")?;
        let (_, mut id_w) = create(&c.dir.0, "ids.bin")?;
        let write_run =
            |keys: &mut Vec<(u64, u32)>, runs: &mut Vec<PathBuf>, bytes: &mut u64| -> Result<()> {
                keys.par_sort_unstable();
                keys.dedup();
                let (p, mut w) = create(&c.dir.0, &format!("run-{:05}.bin", runs.len()))?;
                let io = |e| Error::io(&p, e);
                for &(key, d) in keys.iter() {
                    w.write_all(&key.to_le_bytes()).map_err(io)?;
                    w.write_all(&d.to_le_bytes()).map_err(io)?;
                }
                w.flush().map_err(io)?;
                *bytes += (keys.len() * KEY_BYTES) as u64;
                runs.push(p);
                keys.clear();
                Ok(())
            };
        let mut done = 0u64;
        let mut copies: Vec<Option<String>> = Vec::new();
        let mut sig_bytes = Vec::with_capacity(4 * k);
        for (fi, input) in inputs.iter().enumerate() {
            // records are re-read from the input itself when it is a plain
            // file, else from a copy of its decompressed bytes
            let copy = match (&input.path, input.compression) {
                // a Parquet record is its text, an offset in no file
                (Some(_), Compression::None) if input.format != Format::Parquet => None,
                _ => Some(create(&c.dir.0, &format!("records-{fi:05}.bin"))?),
            };
            let mut copy_w = copy.as_ref().map(|(p, _)| p.clone()).zip(copy.map(|(_, w)| w));
            let from = c.bad.len();
            let failure: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
            let fail = |e: Error| {
                if let Ok(mut f) = failure.lock() {
                    f.get_or_insert(e);
                }
            };
            let sketch = |text: &str| self.sketch_text(text);
            let retained = self.install_pool(|| {
                read_input_with(
                    input,
                    &opts,
                    false,
                    &sketch,
                    &mut |o, bytes| {
                        done += bytes;
                        progress(done);
                        match o {
                            Outcome::Doc(r) => {
                                let d = c.samples.len() as u32;
                                let s = r.value;
                                sig_bytes.clear();
                                sig_bytes.extend(s.sig.iter().flat_map(|v| v.to_le_bytes()));
                                let res =
                                    sig_w.write_all(&sig_bytes).and_then(|_| id_w.write_all(r.id.as_bytes()));
                                if let Err(e) = res {
                                    fail(Error::io(&sig_path, e));
                                }
                                c.id_ends.push(c.id_ends.last().copied().unwrap_or(0) + r.id.len() as u64);
                                c.samples.push(s.samples);
                                c.places.push(Place { source: fi as u32, start: r.start, end: r.end });
                                c.text_bytes += r.text_len;
                                if s.samples > 0 {
                                    lsh::push_band_keys(lsh, &s.sig, d, &mut keys);
                                }
                                if keys.len() >= run_cap && failure.lock().is_ok_and(|f| f.is_none()) {
                                    if let Err(e) = write_run(&mut keys, &mut run_paths, &mut spill_bytes) {
                                        fail(e);
                                    }
                                }
                            }
                            Outcome::Bad(b) => c.bad.push(b),
                        }
                    },
                    &mut |block| {
                        if let Some((p, w)) = copy_w.as_mut() {
                            if let Err(e) = w.write_all(block) {
                                fail(Error::io(&*p, e));
                            }
                        }
                    },
                )
            })?;
            if let Some(e) = failure.into_inner().ok().flatten() {
                return Err(e);
            }
            end_input(input, &retained, self.is_strict(), &c.bad[from..], &mut c.failed)?;
            c.input_bytes += retained.len;
            copies.push(
                copy_w.as_ref().and_then(|(p, _)| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
            );
            let source = match copy_w {
                Some((p, mut w)) => {
                    w.flush().map_err(|e| Error::io(&p, e))?;
                    spill_bytes += retained.len;
                    open_random(&p)?
                }
                None => open_random(input.path.as_deref().unwrap_or(Path::new("-")))?,
            };
            c.sources.push((source, retained.format));
        }
        sig_w.flush().map_err(|e| Error::io(&sig_path, e))?;
        id_w.flush().map_err(|e| Error::io(&id_path, e))?;
        drop((sig_w, id_w));
        if !keys.is_empty() || run_paths.is_empty() {
            write_run(&mut keys, &mut run_paths, &mut spill_bytes)?;
        }
        drop(keys);
        spill_bytes += (c.samples.len() * 4 * k) as u64 + c.id_ends.last().copied().unwrap_or(0);
        c.read_time = start.elapsed();
        c.spill_bytes = spill_bytes;
        c.runs = run_paths.len();
        c.save_read(&copies)?;
        self.cluster_or_restore(&mut c, &run_paths, max_memory)?;
        Ok(c)
    }

    /// The work directory inside `spill_dir`: named after the parameters
    /// and the inputs (name, size, time), so that a rerun over the same
    /// inputs finds what an interrupted run finished (the read checkpoint,
    /// when it is complete; else the directory starts empty). Standard input
    /// gets a fresh directory each time.
    fn work_dir(&self, inputs: &[InputFile], spill_dir: &Path) -> Result<(SpillDir, Option<ReadCheckpoint>)> {
        std::fs::create_dir_all(spill_dir).map_err(|e| Error::io(spill_dir, e))?;
        if inputs.iter().any(|i| i.path.is_none()) {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir =
                SpillDir(spill_dir.join(format!("neardup-spill-{}-{nanos}", std::process::id())), false);
            std::fs::create_dir(&dir.0).map_err(|e| Error::io(&dir.0, e))?;
            return Ok((dir, None));
        }
        let mut key = crate::stages::StageParams::of(self).fingerprint();
        for i in inputs {
            let (len, mtime) = stamp(i);
            key.push_str(&format!("\0{}\0{len}\0{mtime}", i.name));
        }
        let path =
            spill_dir.join(format!("neardup-spill-{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())));
        let lock = path.join("lock");
        if let Ok(pid) = std::fs::read_to_string(&lock) {
            if let Ok(pid) = pid.trim().parse::<u32>() {
                if pid != std::process::id() && alive(pid) {
                    return Err(Error::param(format!(
                        "{} is in use by neardup process {pid} (same inputs and parameters)",
                        path.display()
                    )));
                }
            }
        }
        let resume = valid_checkpoint(&path, inputs);
        if resume.is_none() {
            // nothing usable finished there: start clean
            let _ = std::fs::remove_dir_all(&path);
        }
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&lock, std::process::id().to_string()).map_err(|e| Error::io(&lock, e))?;
        Ok((SpillDir(path, false), resume))
    }

    /// Cluster, or take the clusters a previous run saved.
    fn cluster_or_restore(&self, c: &mut SpilledCorpus, runs: &[PathBuf], max_memory: u64) -> Result<()> {
        if let Some(ck) = load_checkpoint::<ClusterCheckpoint>(&c.dir.0, "clusters.json") {
            let reps = std::fs::read(c.dir.0.join("reps.bin")).ok();
            let sims = std::fs::read(c.dir.0.join("sims.bin")).ok();
            let n = c.samples.len();
            if let (Some(reps), Some(sims)) = (reps, sims) {
                if ck.docs == n && reps.len() == 4 * n && sims.len() == 8 * n {
                    let sims = le_u64s(&sims).map(f64::from_bits).collect();
                    c.clustering = Clustering::from_parts(le_u32s(&reps).collect(), sims, ck.stats);
                    c.resumed = 2;
                    return Ok(());
                }
            }
        }
        c.clustering = self.install_pool(|| c.cluster(self, runs, max_memory))?;
        let reps: Vec<u8> = c.clustering.representatives().iter().flat_map(|r| r.to_le_bytes()).collect();
        save(&c.dir.0, "reps.bin", &reps)?;
        let sims: Vec<u8> =
            c.clustering.similarities().iter().flat_map(|s| s.to_bits().to_le_bytes()).collect();
        save(&c.dir.0, "sims.bin", &sims)?;
        let ck = ClusterCheckpoint {
            version: CHECKPOINT_VERSION,
            docs: c.samples.len(),
            stats: c.clustering.stats.clone(),
        };
        save(&c.dir.0, "clusters.json", &serde_json::to_vec(&ck).unwrap_or_default())
    }
}

/// Band keys of all runs, in (key, doc) order.
struct Merge {
    runs: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(u64, u32, usize)>>,
}

impl Merge {
    fn open(paths: &[PathBuf]) -> Result<Merge> {
        let mut m = Merge { runs: Vec::new(), heap: BinaryHeap::new() };
        for (i, p) in paths.iter().enumerate() {
            m.runs.push(BufReader::with_capacity(RUN_BUFFER, reopen(p)?));
            m.advance(i).map_err(|e| Error::io(p, e))?;
        }
        Ok(m)
    }

    fn advance(&mut self, i: usize) -> std::io::Result<()> {
        let mut b = [0u8; KEY_BYTES];
        match self.runs[i].read_exact(&mut b) {
            Ok(()) => {
                let key = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
                let d = u32::from_le_bytes(b[8..].try_into().unwrap_or_default());
                self.heap.push(Reverse((key, d, i)));
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn next(&mut self) -> std::io::Result<Option<(u64, u32)>> {
        let Some(Reverse((key, d, i))) = self.heap.pop() else { return Ok(None) };
        self.advance(i)?;
        Ok(Some((key, d)))
    }
}

/// The buckets of the sorted runs, merged: batches of about
/// [`PAIR_BATCH`] members.
struct MergedRuns<'a> {
    merge: Merge,
    dir: &'a Path,
}

impl Buckets for MergedRuns<'_> {
    fn for_each_batch(&mut self, f: &mut BatchFn<'_>) -> Result<()> {
        let mut keys: Vec<(u64, u32)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut bucket_start = 0;
        let mut last: Option<(u64, u32)> = None;
        let flush = |keys: &mut Vec<(u64, u32)>, ends: &mut Vec<usize>, f: &mut BatchFn<'_>| {
            let mut from = 0;
            let buckets: Vec<&[(u64, u32)]> = ends
                .iter()
                .map(|&e| {
                    let b = &keys[from..e];
                    from = e;
                    b
                })
                .collect();
            f(&buckets)?;
            keys.clear();
            ends.clear();
            Ok(())
        };
        loop {
            let next = self.merge.next().map_err(|e| Error::io(self.dir, e))?;
            if next.is_some() && next == last {
                continue; // the same key of the same document in two runs
            }
            last = next;
            // the bucket being gathered ends where the key changes
            if next.is_none_or(|(key, _)| keys.get(bucket_start).is_some_and(|b| b.0 != key)) {
                if keys.len() - bucket_start > 1 {
                    ends.push(keys.len());
                } else {
                    keys.truncate(bucket_start);
                }
                if keys.len() >= PAIR_BATCH || next.is_none() {
                    flush(&mut keys, &mut ends, f)?;
                }
                bucket_start = keys.len();
            }
            match next {
                Some(kd) => keys.push(kd),
                None => return Ok(()),
            }
        }
    }
}

impl Signatures for SpilledCorpus {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn num_perm(&self) -> usize {
        self.num_perm
    }

    fn samples(&self, d: u32) -> u32 {
        self.samples[d as usize]
    }

    fn sig(&self, d: u32) -> Result<Cow<'_, [u32]>> {
        self.sig_range(d..d + 1)
    }

    fn sig_range(&self, docs: std::ops::Range<u32>) -> Result<Cow<'_, [u32]>> {
        let k = self.num_perm as u64;
        let mut bytes = vec![0u8; (docs.end - docs.start) as usize * 4 * k as usize];
        // the file was written by this run: a short read is a lost disk
        self.sigs
            .read_exact_at(&mut bytes, u64::from(docs.start) * 4 * k)
            .map_err(|e| Error::io(&self.sig_path, e))?;
        Ok(Cow::Owned(le_u32s(&bytes).collect()))
    }

    fn set(&self, _: u32) -> Option<&[u64]> {
        None
    }

    fn exact(&self) -> bool {
        false
    }
}

impl TextSource for SpilledCorpus {
    fn text(&self, d: u32) -> Result<Option<Cow<'_, str>>> {
        self.record_text(d).map(|t| Some(Cow::Owned(t)))
    }
}

impl SpilledCorpus {
    /// Keep the spill directory when this is dropped (after a failure to
    /// write an output, so that a rerun with the same spill directory
    /// reuses the finished work); returns its path.
    pub fn keep_spill_dir(&mut self) -> &Path {
        self.dir.1 = true;
        &self.dir.0
    }

    /// Save the read phase's tables and counters (the checkpoint a rerun
    /// starts from).
    fn save_read(&self, copies: &[Option<String>]) -> Result<()> {
        let mut t = Vec::with_capacity(self.samples.len() * 32);
        for (i, &s) in self.samples.iter().enumerate() {
            let p = self.places[i];
            t.extend(s.to_le_bytes());
            t.extend(self.id_ends[i].to_le_bytes());
            t.extend(p.source.to_le_bytes());
            t.extend(p.start.to_le_bytes());
            t.extend(p.end.to_le_bytes());
        }
        save(&self.dir.0, "tables.bin", &t)?;
        let ck = ReadCheckpoint {
            version: CHECKPOINT_VERSION,
            docs: self.samples.len(),
            sources: copies.iter().cloned().zip(self.sources.iter().map(|s| s.1)).collect(),
            bad: self.bad.clone(),
            failed: self.failed.clone(),
            input_bytes: self.input_bytes,
            text_bytes: self.text_bytes,
            runs: self.runs,
            spill_bytes: self.spill_bytes,
            read_time: self.read_time,
        };
        save(&self.dir.0, "read.json", &serde_json::to_vec(&ck).unwrap_or_default())
    }

    /// Take up a saved read phase (checked by [`valid_checkpoint`]); gives
    /// the run files.
    fn restore(&mut self, ck: ReadCheckpoint, inputs: &[InputFile]) -> Result<Vec<PathBuf>> {
        let tables = std::fs::read(self.dir.0.join("tables.bin")).map_err(|e| Error::io(&self.dir.0, e))?;
        let runs: Vec<PathBuf> = (0..ck.runs).map(|i| self.dir.0.join(format!("run-{i:05}.bin"))).collect();
        for row in tables.chunks_exact(ROW) {
            let u32_at = |i: usize| u32::from_le_bytes([row[i], row[i + 1], row[i + 2], row[i + 3]]);
            let u64_at = |i: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&row[i..i + 8]);
                u64::from_le_bytes(w)
            };
            self.samples.push(u32_at(0));
            self.id_ends.push(u64_at(4));
            self.places.push(Place { source: u32_at(12), start: u64_at(16), end: u64_at(24) });
        }
        for ((copy, format), input) in ck.sources.into_iter().zip(inputs) {
            let file = match copy {
                Some(name) => open_random(&self.dir.0.join(name))?,
                None => open_random(input.path.as_deref().unwrap_or(Path::new("-")))?,
            };
            self.sources.push((file, format));
        }
        self.bad = ck.bad;
        self.failed = ck.failed;
        self.input_bytes = ck.input_bytes;
        self.text_bytes = ck.text_bytes;
        self.runs = ck.runs;
        self.spill_bytes = ck.spill_bytes;
        self.read_time = ck.read_time;
        self.resumed = 1;
        Ok(runs)
    }

    /// Merge the runs into buckets, verify their pairs (skipping pairs
    /// already inside one cluster, settling doubtful ones whenever they fill
    /// an eighth of the budget) and cluster: the pipeline of the in-memory
    /// path over spilled storage.
    fn cluster(&self, dedup: &Dedup, runs: &[PathBuf], max_memory: u64) -> Result<Clustering> {
        let plan = Plan { doubtful_cap: doubtful_cap(max_memory), skip_joined: true };
        let mut buckets = MergedRuns { merge: Merge::open(runs)?, dir: &self.dir.0 };
        pipeline::run(&dedup.rule(), self, &mut buckets, self, plan)
    }

    /// The text of document `d`, re-read from its source.
    fn record_text(&self, d: u32) -> Result<String> {
        let p = self.places[d as usize];
        let (file, format) = &self.sources[p.source as usize];
        let mut bytes = vec![0u8; (p.end - p.start) as usize];
        let name = || self.inputs[p.source as usize].name.clone();
        file.read_exact_at(&mut bytes, p.start).map_err(|e| Error::io(name(), e))?;
        match record_text(*format, &self.opts, &bytes) {
            Some(t) => Ok(t.into_owned()),
            None => Err(Error::param(format!(
                "{}: the record at byte {} no longer parses: the input changed while it was read",
                name(),
                p.start
            ))),
        }
    }

    /// The id of document `d`.
    fn id(&self, d: u32) -> Result<String> {
        let d = d as usize;
        let start = if d == 0 { 0 } else { self.id_ends[d - 1] };
        let mut bytes = vec![0u8; (self.id_ends[d] - start) as usize];
        self.ids.read_exact_at(&mut bytes, start).map_err(|e| Error::io(&self.id_path, e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Representative of every document (the smallest index of its cluster).
    pub fn representatives(&self) -> &[u32] {
        self.clustering.representatives()
    }

    /// Counters of the clustering.
    pub fn stats(&self) -> &ClusterStats {
        &self.clustering.stats
    }

    /// Records that could not be used.
    pub fn bad_records(&self) -> &[BadRecord] {
        &self.bad
    }

    /// Inputs that could not be read to their end.
    pub fn failed_inputs(&self) -> &[String] {
        &self.failed
    }

    /// Documents with no shingles.
    pub fn empty_documents(&self) -> usize {
        self.samples.iter().filter(|&&s| s == 0).count()
    }

    /// Bytes of input read.
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes
    }

    /// Bytes of document text.
    pub fn text_bytes(&self) -> u64 {
        self.text_bytes
    }

    /// Time spent reading, sketching and spilling.
    pub fn read_time(&self) -> Duration {
        self.read_time
    }

    /// Write one row per document: id, cluster (representative id),
    /// similarity to it, as [`Corpus::write_clusters`](crate::Corpus::write_clusters) does.
    pub fn write_clusters(&self, path: &Path, format: OutputFormat) -> Result<()> {
        let mut out = ClusterWriter::create(path, &self.input_paths, format)?;
        let mut ids = BufReader::with_capacity(1 << 20, reopen(&self.id_path)?);
        let mut rep_ids: HashMap<u32, String> = HashMap::new();
        let mut id = Vec::new();
        let (reps, sims) = (self.clustering.representatives(), self.clustering.similarities());
        for d in 0..self.samples.len() {
            let start = if d == 0 { 0 } else { self.id_ends[d - 1] };
            id.resize((self.id_ends[d] - start) as usize, 0);
            ids.read_exact(&mut id).map_err(|e| Error::io(&self.id_path, e))?;
            let id = String::from_utf8_lossy(&id);
            if rep_ids.len() > SIG_CACHE {
                rep_ids.clear();
            }
            let rep = reps[d];
            let rep_id = if rep as usize == d {
                id.to_string()
            } else {
                match rep_ids.get(&rep) {
                    Some(r) => r.clone(),
                    None => {
                        let r = self.id(rep)?;
                        rep_ids.insert(rep, r.clone());
                        r
                    }
                }
            };
            out.push(&id, &rep_id, sims[d])?;
        }
        out.commit()
    }

    /// Write the kept records (each cluster's representative), copied byte
    /// for byte from the inputs, into one file.
    pub fn write_deduplicated(&self, path: &Path) -> Result<()> {
        if self.sources.iter().any(|(_, f)| *f == Format::Parquet) {
            return self.write_parquet(path);
        }
        if self.sources.iter().any(|(_, f)| *f == Format::Text) {
            return Err(Error::param(
                "--max-memory writes line- or record-based outputs only, not one file per document",
            ));
        }
        let mut out = AtomicFile::create(path, &self.input_paths)?;
        let mut bytes = Vec::new();
        for (d, &rep) in self.clustering.representatives().iter().enumerate() {
            if rep as usize != d {
                continue;
            }
            let p = self.places[d];
            bytes.resize((p.end - p.start) as usize, 0);
            let (file, _) = &self.sources[p.source as usize];
            file.read_exact_at(&mut bytes, p.start).map_err(|e| Error::io(&self.dir.0, e))?;
            out.write_all(&bytes)?;
            if bytes.last() != Some(&b'\n') {
                out.write_all(b"\n")?;
            }
        }
        out.commit()
    }

    /// The kept rows of Parquet inputs, in their schema (all inputs must be
    /// Parquet).
    fn write_parquet(&self, path: &Path) -> Result<()> {
        if self.sources.iter().any(|(_, f)| *f != Format::Parquet) {
            return Err(Error::param(
                "cannot write one output for a mix of Parquet and other inputs; deduplicate them separately",
            ));
        }
        let ranges = group_ranges(&self.places, self.inputs.len(), |p| p.source as usize);
        let record = |d: usize| -> Option<Option<Cow<'_, [u8]>>> {
            if !self.clustering.is_kept(d) {
                return None;
            }
            let p = self.places[d];
            let mut bytes = vec![0u8; (p.end - p.start) as usize];
            let (file, _) = &self.sources[p.source as usize];
            Some(file.read_exact_at(&mut bytes, p.start).ok().map(|_| Cow::Owned(bytes)))
        };
        crate::io::parquet::write_kept(&self.inputs, &ranges, &self.opts, path, &self.input_paths, &record)
    }
}
