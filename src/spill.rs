//! Bounded-memory storage for the pipeline (`dedup --max-memory`): what
//! does not have to stay in memory goes to a work directory, so memory grows
//! with the number of documents (2 bytes each while reading, at most 14
//! while clustering and writing) and not with the text.
//!
//! read (streamed) + sketch, in parallel per record; in input order:
//!   signature -> `sigs.bin` (read back by position), id -> `ids.bin`,
//!   samples, id end and record place -> a row of `tables.bin` (read back by
//!   position; only the samples stay in memory),
//!   band keys -> a buffer, sorted and written as a run when full,
//!   decompressed records of compressed or piped inputs -> `records-N.bin`
//! runs -> k-way merge -> buckets -> [`pipeline::run`], as in memory.
//!
//! The clusters are those of the in-memory path: the same buckets in the same
//! member order, the same verdict for every pair, and components do not
//! depend on the order pairs are linked in. Counters of pairs differ.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::dedup::{Corpus, Dedup, Verify};
use crate::error::{Error, Result};
use crate::io::input::stamp;
use crate::io::load::{Ids, Sink, Tally, read_all};
use crate::io::record::{Compression, Format, Record, Retained};
use crate::io::rewrite::RecordSource;
use crate::io::{AtomicFile, InputFile, ReadOptions, le_u32s};
use crate::lsh::{self, LshParams};
use crate::pipeline;
use crate::pipeline::bucket::{BatchFn, Buckets};
use crate::pipeline::cluster::{ClusterStats, Clustering};
use crate::pipeline::signatures::{Signatures, Sketched};
use crate::pipeline::verify::{Plan, RecordTexts};

/// Bytes of one band key in a run file: key u64, document u32.
const KEY_BYTES: usize = 12;
/// Read buffer of each run during the merge.
const RUN_BUFFER: usize = 1 << 20;
/// Bucket members gathered into one batch of candidate pairs.
const PAIR_BATCH: usize = 1 << 16;
/// Doubtful pairs (8 bytes each) are held up to an eighth of the memory
/// budget, then settled.
fn doubtful_cap(max_memory: u64) -> usize {
    ((max_memory / 64) as usize).max(4096)
}

/// Version of the checkpoint files in a work directory.
const CHECKPOINT_VERSION: u32 = 2;

/// A work directory, locked while it is in use, removed when dropped unless
/// kept.
#[derive(Debug)]
struct WorkDir {
    path: PathBuf,
    keep: bool,
    /// Holds the lock (released when closed, also when the process dies).
    _lock: File,
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Take the lock of work directory `dir`: an exclusive lock on `dir/lock`,
/// which the system releases when the holder exits however it exits.
fn lock(dir: &Path) -> Result<File> {
    let path = dir.join("lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock only reads its integer arguments; the descriptor is
        // open for the call's duration.
        let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == std::io::ErrorKind::WouldBlock {
                Error::Busy {
                    path: dir.to_path_buf(),
                    reason: "in use by another neardup run with the same inputs and parameters".into(),
                }
            } else {
                Error::io(&path, e)
            });
        }
    }
    Ok(f)
}

/// What the read phase left, saved as `read.json` (with `tables.bin`) once
/// it is complete and every file it names is synced, so that a rerun with
/// the same spill directory starts from there.
#[derive(serde::Serialize, serde::Deserialize)]
struct ReadCheckpoint {
    version: u32,
    docs: usize,
    /// Per input: the copy its records are re-read from (a file name in the
    /// work directory) with its length, and its resolved format.
    sources: Vec<(Option<(String, u64)>, Format)>,
    tally: Tally,
    /// Length of every run file.
    runs: Vec<u64>,
    /// Lengths of `sigs.bin` and `ids.bin`.
    sig_bytes: u64,
    id_bytes: u64,
    spill_bytes: u64,
    read_time: Duration,
}

/// The clustering, saved as `clusters.json` (with `reps.bin`, `sims.bin`).
#[derive(serde::Serialize, serde::Deserialize)]
struct ClusterCheckpoint {
    version: u32,
    docs: usize,
    stats: ClusterStats,
}

/// Write `bytes` to `dir/name` atomically (synced, then renamed).
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

/// Bytes of one document's row in `tables.bin`: samples u32, id end u64,
/// source u32, start u64, end u64 (little-endian).
const ROW: usize = 4 + 8 + 4 + 8 + 8;
/// Rows of `tables.bin` read at once (a page).
const TABLE_BLOCK: usize = 128;
/// Blocks of rows kept in memory (256 KB).
const TABLE_CACHE: usize = 64;

/// One document's row of `tables.bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    samples: u32,
    /// Where the document's id ends in `ids.bin` (it starts where the
    /// previous one ends).
    id_end: u64,
    place: Place,
}

/// `N` bytes of `b` from `at` (`b` is a whole row).
fn bytes_at<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

impl Row {
    fn encode(&self) -> [u8; ROW] {
        let mut b = [0; ROW];
        b[..4].copy_from_slice(&self.samples.to_le_bytes());
        b[4..12].copy_from_slice(&self.id_end.to_le_bytes());
        b[12..16].copy_from_slice(&self.place.source.to_le_bytes());
        b[16..24].copy_from_slice(&self.place.start.to_le_bytes());
        b[24..].copy_from_slice(&self.place.end.to_le_bytes());
        b
    }

    /// The row in `b` (exactly [`ROW`] bytes).
    fn decode(b: &[u8]) -> Row {
        Row {
            samples: u32::from_le_bytes(bytes_at(b, 0)),
            id_end: u64::from_le_bytes(bytes_at(b, 4)),
            place: Place {
                source: u32::from_le_bytes(bytes_at(b, 12)),
                start: u64::from_le_bytes(bytes_at(b, 16)),
                end: u64::from_le_bytes(bytes_at(b, 24)),
            },
        }
    }
}

/// `tables.bin` written a row per document as documents arrive.
struct TableWriter {
    path: PathBuf,
    w: BufWriter<File>,
    rows: usize,
    id_end: u64,
}

impl TableWriter {
    fn create(dir: &Path) -> Result<TableWriter> {
        let (path, w) = create(dir, "tables.bin")?;
        Ok(TableWriter { path, w, rows: 0, id_end: 0 })
    }

    fn push(&mut self, samples: u32, id_len: usize, place: Place) -> Result<()> {
        self.id_end += id_len as u64;
        let row = Row { samples, id_end: self.id_end, place };
        self.w.write_all(&row.encode()).map_err(|e| Error::io(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    /// Flush and sync; the rows written and the bytes of ids they cover.
    fn finish(self) -> Result<(usize, u64)> {
        finish_file(&self.path, self.w)?;
        Ok((self.rows, self.id_end))
    }
}

/// `tables.bin` read by position: a row is read with its block of
/// [`TABLE_BLOCK`] rows, and the last [`TABLE_CACHE`] blocks read are kept
/// (writing outputs walks the rows in order).
#[derive(Debug)]
struct Table {
    file: File,
    path: PathBuf,
    rows: usize,
    /// The most recently used first.
    cache: std::sync::Mutex<Vec<(usize, std::sync::Arc<[u8]>)>>,
}

impl Table {
    /// Open `path`, which must hold exactly `rows` rows.
    fn open(path: &Path, rows: usize) -> Result<Table> {
        let file = open_random(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        check_rows(path, len, rows)?;
        Ok(Table { file, path: path.to_path_buf(), rows, cache: std::sync::Mutex::new(Vec::new()) })
    }

    fn corrupt(&self, reason: String) -> Error {
        Error::Corrupt { path: self.path.clone(), reason }
    }

    fn row(&self, d: usize) -> Result<Row> {
        if d >= self.rows {
            return Err(self.corrupt(format!("no row {d}: the table has {} rows", self.rows)));
        }
        let block = self.block(d / TABLE_BLOCK)?;
        let at = (d % TABLE_BLOCK) * ROW;
        Ok(Row::decode(&block[at..at + ROW]))
    }

    fn block(&self, b: usize) -> Result<std::sync::Arc<[u8]>> {
        let poisoned = || Error::Internal("a reader thread panicked".into());
        {
            let mut cache = self.cache.lock().map_err(|_| poisoned())?;
            if let Some(at) = cache.iter().position(|(i, _)| *i == b) {
                let hit = cache.remove(at);
                cache.insert(0, hit);
                return Ok(std::sync::Arc::clone(&cache[0].1));
            }
        }
        // read outside the lock: other threads' hits need not wait
        let (lo, hi) = (b * TABLE_BLOCK, ((b + 1) * TABLE_BLOCK).min(self.rows));
        let mut bytes = vec![0u8; (hi - lo) * ROW];
        read_at(&self.file, &mut bytes, (lo * ROW) as u64).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.corrupt(format!("shorter than its {} rows", self.rows))
            } else {
                Error::io(&self.path, e)
            }
        })?;
        let block: std::sync::Arc<[u8]> = bytes.into();
        let mut cache = self.cache.lock().map_err(|_| poisoned())?;
        cache.insert(0, (b, std::sync::Arc::clone(&block)));
        cache.truncate(TABLE_CACHE);
        Ok(block)
    }

    /// Start reading the blocks of `docs`' rows that are not cached.
    fn prefetch(&self, docs: &[u32]) {
        let Ok(cache) = self.cache.lock() else { return };
        let mut last = usize::MAX;
        for &d in docs {
            let b = d as usize / TABLE_BLOCK;
            if b == last || d as usize >= self.rows {
                continue;
            }
            last = b;
            if !cache.iter().any(|(i, _)| *i == b) {
                let (lo, hi) = (b * TABLE_BLOCK, ((b + 1) * TABLE_BLOCK).min(self.rows));
                will_need(&self.file, (lo * ROW) as u64, ((hi - lo) * ROW) as u64);
            }
        }
    }

    /// Where document `d`'s id is in `ids.bin`.
    fn id_span(&self, d: usize) -> Result<(u64, u64)> {
        let start = if d == 0 { 0 } else { self.row(d - 1)?.id_end };
        let end = self.row(d)?.id_end;
        if end < start {
            return Err(self.corrupt(format!("row {d}: the id ends before it starts")));
        }
        Ok((start, end))
    }

    /// Every row in order, through a fresh descriptor read front to back.
    fn rows(&self) -> Result<RowReader> {
        let r = BufReader::with_capacity(1 << 16, reopen(&self.path)?);
        Ok(RowReader { r, path: self.path.clone(), left: self.rows })
    }
}

/// An error unless a table of `len` bytes holds exactly `rows` rows.
fn check_rows(path: &Path, len: u64, rows: usize) -> Result<()> {
    if len != (rows * ROW) as u64 {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{len} bytes where {rows} rows of {ROW} bytes were written"),
        });
    }
    Ok(())
}

/// The rows of `tables.bin`, front to back.
struct RowReader {
    r: BufReader<File>,
    path: PathBuf,
    left: usize,
}

impl RowReader {
    fn next(&mut self) -> Result<Option<Row>> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut b = [0u8; ROW];
        self.r.read_exact(&mut b).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::Corrupt { path: self.path.clone(), reason: "shorter than its rows".into() }
            } else {
                Error::io(&self.path, e)
            }
        })?;
        self.left -= 1;
        Ok(Some(Row::decode(&b)))
    }
}

/// Every document's number of independent samples: the one per-document
/// table kept in memory (it is read for every judged pair). Two bytes a
/// document, as a count never exceeds the signature size; four when
/// signatures have more than 65535 slots.
#[derive(Debug)]
enum Samples {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Samples {
    fn new(num_perm: usize) -> Samples {
        if num_perm <= usize::from(u16::MAX) {
            Samples::Narrow(Vec::new())
        } else {
            Samples::Wide(Vec::new())
        }
    }

    /// Append `s`, which is at most the signature size this was made for.
    fn push(&mut self, s: u32) {
        match self {
            Samples::Narrow(v) => v.push(s as u16),
            Samples::Wide(v) => v.push(s),
        }
    }

    fn get(&self, d: usize) -> u32 {
        match self {
            Samples::Narrow(v) => u32::from(v[d]),
            Samples::Wide(v) => v[d],
        }
    }

    fn len(&self) -> usize {
        match self {
            Samples::Narrow(v) => v.len(),
            Samples::Wide(v) => v.len(),
        }
    }

    fn zeros(&self) -> usize {
        match self {
            Samples::Narrow(v) => v.iter().filter(|&&s| s == 0).count(),
            Samples::Wide(v) => v.iter().filter(|&&s| s == 0).count(),
        }
    }
}

/// Where each input's documents end (document numbers), from the input of
/// every document in order: `ends[i]` was set to one past the last
/// document of input `i`, or left 0 when it had none.
fn fill_ends(ends: &mut [usize]) {
    for i in 1..ends.len() {
        ends[i] = ends[i].max(ends[i - 1]);
    }
}

fn run_name(i: usize) -> String {
    format!("run-{i:05}.bin")
}

/// The read checkpoint in `dir`, when it is complete, fits `inputs` and
/// every file it names has the length it had when it was saved (a crash
/// after the checkpoint cannot leave a file short unnoticed).
fn valid_checkpoint(dir: &Path, inputs: &[InputFile], num_perm: usize) -> Option<ReadCheckpoint> {
    let ck: ReadCheckpoint = load_checkpoint(dir, "read.json")?;
    let len = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len()).ok();
    let ok = len("tables.bin") == Some((ck.docs * ROW) as u64)
        && ck.sources.len() == inputs.len()
        && ck.runs.iter().enumerate().all(|(i, &n)| len(&run_name(i)) == Some(n))
        && ck.sources.iter().all(|(copy, _)| copy.as_ref().is_none_or(|(c, n)| len(c) == Some(*n)))
        && ck.sig_bytes == (ck.docs * 4 * num_perm) as u64
        && len("sigs.bin") == Some(ck.sig_bytes)
        && len("ids.bin") == Some(ck.id_bytes);
    ok.then_some(ck)
}

/// Where document `d`'s record bytes are: a source file and a byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    source: u32,
    start: u64,
    end: u64,
}

/// A file of the work directory, created.
fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>)> {
    let p = dir.join(name);
    let f = File::create(&p).map_err(|e| Error::io(&p, e))?;
    Ok((p, BufWriter::with_capacity(1 << 20, f)))
}

/// Flush a written file of the work directory and sync it to disk.
fn finish_file(p: &Path, w: BufWriter<File>) -> Result<()> {
    let f = w.into_inner().map_err(|e| Error::io(p, e.into_error()))?;
    f.sync_all().map_err(|e| Error::io(p, e))
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

/// Start reading `len` bytes at `offset` into the page cache, without
/// waiting for them: a hint, whose failure changes nothing but speed.
fn will_need(f: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
            return;
        };
        // SAFETY: as in `open_random`.
        let _ = unsafe { libc::posix_fadvise(f.as_raw_fd(), offset, len, libc::POSIX_FADV_WILLNEED) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (f, offset, len);
}

/// Read `buf.len()` bytes at `offset`.
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(f, &mut buf[done..], offset + done as u64)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Descriptors of record sources kept open at once.
const OPEN_SOURCES: usize = 16;

/// The files records are re-read from, opened when a record is needed and
/// kept open a few at a time (a directory of thousands of inputs must not
/// hold a descriptor each).
#[derive(Debug, Default)]
struct Sources {
    paths: Vec<PathBuf>,
    /// The most recently used first.
    open: std::sync::Mutex<Vec<(usize, std::sync::Arc<File>)>>,
}

impl Sources {
    fn file(&self, i: usize) -> Result<std::sync::Arc<File>> {
        let mut open = self.open.lock().map_err(|_| Error::Internal("a reader thread panicked".into()))?;
        if let Some(at) = open.iter().position(|(j, _)| *j == i) {
            let hit = open.remove(at);
            open.insert(0, hit);
        } else {
            open.insert(0, (i, std::sync::Arc::new(open_random(&self.paths[i])?)));
            open.truncate(OPEN_SOURCES);
        }
        Ok(std::sync::Arc::clone(&open[0].1))
    }
}

/// A corpus kept in a work directory: signatures and ids in files read back
/// by position, records re-read from the inputs or their copies, band keys
/// in sorted runs, every document's id end and record place in
/// `tables.bin` read by position. Per document in memory: its samples.
#[derive(Debug)]
pub(crate) struct Spilled {
    dir: WorkDir,
    num_perm: usize,
    samples: Samples,
    sigs: File,
    sig_path: PathBuf,
    ids: File,
    id_path: PathBuf,
    /// Bytes of `ids.bin`.
    id_bytes: u64,
    table: Table,
    /// One past the last document of each input.
    input_ends: Vec<usize>,
    /// Files records are re-read from (the input, or its copy).
    sources: Sources,
    inputs: Vec<InputFile>,
    opts: ReadOptions,
    runs: Vec<PathBuf>,
    /// What the read checkpoint records of the sources and runs.
    copies: Vec<(Option<(String, u64)>, Format)>,
    run_lens: Vec<u64>,
    max_memory: u64,
    /// Bytes written to the work directory.
    pub(crate) spill_bytes: u64,
    /// What an interrupted earlier run had finished and this one reused: 0
    /// nothing, 1 reading (signatures, ids, sorted runs), 2 clustering too.
    resumed: AtomicU8,
}

/// The read phase's sink: every document's signature, id and band keys to
/// the work directory, the blocks of inputs that cannot be re-read to
/// copies.
struct SpillSink<'a> {
    dir: &'a Path,
    lsh: LshParams,
    run_cap: usize,
    keys: Vec<(u64, u32)>,
    runs: Vec<(PathBuf, u64)>,
    sig_w: BufWriter<File>,
    id_w: BufWriter<File>,
    sig_bytes: Vec<u8>,
    num_perm: usize,
    samples: Samples,
    table: TableWriter,
    input_ends: Vec<usize>,
    /// The copy being written: input number, path, writer, bytes.
    copy: Option<(usize, PathBuf, BufWriter<File>, u64)>,
    sources: Vec<(Option<(String, u64)>, Format)>,
    inputs: &'a [InputFile],
    copied_bytes: u64,
}

impl SpillSink<'_> {
    /// Records of `input` are re-read from the input itself when it is a
    /// plain file, else from a copy of its decompressed bytes.
    fn needs_copy(input: &InputFile) -> bool {
        // a Parquet record is its text, an offset in no file
        !(input.path.is_some() && input.compression == Compression::None && input.format != Format::Parquet)
    }

    fn copy_for(&mut self, fi: usize) -> Result<Option<&mut BufWriter<File>>> {
        if !Self::needs_copy(&self.inputs[fi]) {
            return Ok(None);
        }
        if self.copy.as_ref().is_none_or(|c| c.0 != fi) {
            let (p, w) = create(self.dir, &format!("records-{fi:05}.bin"))?;
            self.copy = Some((fi, p, w, 0));
        }
        Ok(self.copy.as_mut().map(|c| &mut c.2))
    }

    fn write_run(&mut self) -> Result<()> {
        self.keys.par_sort_unstable();
        self.keys.dedup();
        let (p, mut w) = create(self.dir, &run_name(self.runs.len()))?;
        for &(key, d) in &self.keys {
            w.write_all(&key.to_le_bytes())
                .and_then(|_| w.write_all(&d.to_le_bytes()))
                .map_err(|e| Error::io(&p, e))?;
        }
        finish_file(&p, w)?;
        self.runs.push((p, (self.keys.len() * KEY_BYTES) as u64));
        self.keys.clear();
        Ok(())
    }
}

impl Sink<Sketched> for SpillSink<'_> {
    fn doc(&mut self, fi: usize, r: Record<Sketched>) -> Result<()> {
        let d = self.samples.len() as u32;
        let s = r.value;
        self.sig_bytes.clear();
        self.sig_bytes.extend(s.sig.iter().flat_map(|v| v.to_le_bytes()));
        self.sig_w.write_all(&self.sig_bytes).map_err(|e| Error::io(self.dir.join("sigs.bin"), e))?;
        self.id_w.write_all(r.id.as_bytes()).map_err(|e| Error::io(self.dir.join("ids.bin"), e))?;
        if s.samples as usize > self.num_perm {
            return Err(Error::Internal(format!(
                "{} samples in a signature of {}",
                s.samples, self.num_perm
            )));
        }
        self.samples.push(s.samples);
        self.table.push(s.samples, r.id.len(), Place { source: fi as u32, start: r.start, end: r.end })?;
        if let Some(e) = self.input_ends.get_mut(fi) {
            *e = d as usize + 1;
        }
        if s.samples > 0 {
            lsh::push_band_keys(self.lsh, &s.sig, d, &mut self.keys);
        }
        if self.keys.len() >= self.run_cap {
            self.write_run()?;
        }
        Ok(())
    }

    fn block(&mut self, fi: usize, bytes: &[u8]) -> Result<()> {
        let dir = self.dir;
        if let Some(w) = self.copy_for(fi)? {
            w.write_all(bytes).map_err(|e| Error::io(dir.join(format!("records-{fi:05}.bin")), e))?;
            if let Some(c) = self.copy.as_mut() {
                c.3 += bytes.len() as u64;
            }
        }
        Ok(())
    }

    fn end(&mut self, fi: usize, retained: Retained) -> Result<()> {
        self.copy_for(fi)?;
        let source = match self.copy.take() {
            Some((_, p, w, len)) => {
                finish_file(&p, w)?;
                self.copied_bytes += len;
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                Some((name, len))
            }
            None => None,
        };
        self.sources.push((source, retained.format));
        Ok(())
    }
}

impl Dedup {
    /// Read and sketch `inputs` in bounded memory: about `max_memory` bytes
    /// of band keys are held at a time; everything else that grows with the
    /// corpus but the per-document tables goes to a work directory inside
    /// `spill_dir`, named after the parameters and the inputs (removed when
    /// the corpus is dropped, unless kept). A rerun over the same inputs
    /// with the same `spill_dir` reuses what an interrupted run finished.
    /// [`Dedup::cluster`] then gives the clusters of the in-memory path.
    /// Exact verification is not supported here (it keeps every shingle set
    /// in memory).
    pub fn read_spilled(
        &self,
        inputs: &[InputFile],
        spill_dir: &Path,
        max_memory: u64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Corpus> {
        if self.verify_mode() == Verify::Exact {
            return Err(Error::Unsupported(
                "bounded-memory deduplication verifies by estimate only (exact verification keeps every \
                 shingle set in memory)"
                    .into(),
            ));
        }
        let start = Instant::now();
        let k = self.sketch_params().num_perm as usize;
        let (dir, resume) = self.work_dir(inputs, spill_dir, k)?;
        let (sig_path, id_path) = (dir.path.join("sigs.bin"), dir.path.join("ids.bin"));
        let table_path = dir.path.join("tables.bin");
        if resume.is_none() {
            // empty, for the readers opened below; written once they are
            for p in [&sig_path, &id_path, &table_path] {
                File::create(p).map_err(|e| Error::io(p, e))?;
            }
        }
        let mut s = Spilled {
            num_perm: k,
            samples: Samples::new(k),
            sigs: open_random(&sig_path)?,
            sig_path,
            ids: open_random(&id_path)?,
            id_path,
            id_bytes: 0,
            table: Table::open(&table_path, resume.as_ref().map_or(0, |ck| ck.docs))?,
            input_ends: Vec::new(),
            sources: Sources::default(),
            inputs: inputs.to_vec(),
            opts: self.read_options().clone(),
            runs: Vec::new(),
            copies: Vec::new(),
            run_lens: Vec::new(),
            max_memory,
            spill_bytes: 0,
            resumed: AtomicU8::new(0),
            dir,
        };
        let (tally, read_time) = match resume {
            Some(ck) => s.restore(ck)?,
            None => {
                let tally = self.spill_read(&mut s, progress)?;
                let read_time = start.elapsed();
                s.save_read(&tally, read_time)?;
                (tally, read_time)
            }
        };
        Ok(Corpus::spilled(s, tally, read_time, self.progress().clone()))
    }

    /// The read phase: stream, sketch and spill every input.
    fn spill_read(&self, s: &mut Spilled, progress: &(dyn Fn(u64) + Sync)) -> Result<Tally> {
        // a band key takes 16 bytes in the buffer; half the budget for it,
        // the rest for sorting, the tables and the readers' blocks
        let run_cap = ((s.max_memory / 2) / 16).max(1 << 16) as usize;
        let mut opts = self.read_options().clone();
        opts.mmap = false; // mapped pages would count against the budget
        let (_, sig_w) = create(&s.dir.path, "sigs.bin")?;
        let (_, id_w) = create(&s.dir.path, "ids.bin")?;
        let mut sink = SpillSink {
            dir: &s.dir.path,
            lsh: self.lsh_params(),
            run_cap,
            // a document's keys are pushed before the buffer is checked: room
            // for one more document's, so that it is never grown (a doubled
            // buffer would hold twice the budget while it is copied)
            keys: Vec::with_capacity(run_cap + self.lsh_params().bands as usize),
            runs: Vec::new(),
            sig_w,
            id_w,
            sig_bytes: Vec::with_capacity(4 * s.num_perm),
            num_perm: s.num_perm,
            samples: Samples::new(s.num_perm),
            table: TableWriter::create(&s.dir.path)?,
            input_ends: vec![0; s.inputs.len()],
            copy: None,
            sources: Vec::new(),
            inputs: &s.inputs,
            copied_bytes: 0,
        };
        let sketch = |text: &str| self.sketch_text(text);
        let tally = self.install_pool(|| {
            read_all(&s.inputs, &opts, false, self.is_strict(), &sketch, &mut sink, progress)
        })?;
        if !sink.keys.is_empty() || sink.runs.is_empty() {
            sink.write_run()?;
        }
        let SpillSink { sig_w, id_w, samples, table, mut input_ends, runs, sources, copied_bytes, .. } = sink;
        finish_file(&s.sig_path, sig_w)?;
        finish_file(&s.id_path, id_w)?;
        let (rows, id_bytes) = table.finish()?;
        s.table = Table::open(&s.dir.path.join("tables.bin"), rows)?;
        s.samples = samples;
        s.id_bytes = id_bytes;
        fill_ends(&mut input_ends);
        s.input_ends = input_ends;
        s.spill_bytes = copied_bytes
            + runs.iter().map(|r| r.1).sum::<u64>()
            + (s.samples.len() * 4 * s.num_perm) as u64
            + s.id_bytes;
        s.runs = runs.iter().map(|r| r.0.clone()).collect();
        s.copies = sources;
        s.run_lens = runs.iter().map(|r| r.1).collect();
        s.open_sources()?;
        Ok(tally)
    }

    /// The work directory inside `spill_dir`: named after the parameters
    /// and the inputs (name, size, time), so that a rerun over the same
    /// inputs finds what an interrupted run finished (the read checkpoint,
    /// when it is complete; else the directory starts empty). Standard input
    /// gets a fresh directory each time.
    fn work_dir(
        &self,
        inputs: &[InputFile],
        spill_dir: &Path,
        num_perm: usize,
    ) -> Result<(WorkDir, Option<ReadCheckpoint>)> {
        std::fs::create_dir_all(spill_dir).map_err(|e| Error::io(spill_dir, e))?;
        if inputs.iter().any(|i| i.path.is_none()) {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let path = spill_dir.join(format!("neardup-spill-{}-{nanos}", std::process::id()));
            std::fs::create_dir(&path).map_err(|e| Error::io(&path, e))?;
            let lock = lock(&path)?;
            return Ok((WorkDir { path, keep: false, _lock: lock }, None));
        }
        let mut key = crate::stages::StageParams::of(self).fingerprint();
        for i in inputs {
            let (len, mtime) = stamp(i);
            key.push_str(&format!("\0{}\0{len}\0{mtime}", i.name));
        }
        let path =
            spill_dir.join(format!("neardup-spill-{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes())));
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        let lock = lock(&path)?;
        let resume = valid_checkpoint(&path, inputs, num_perm);
        if resume.is_none() {
            // nothing usable finished there: start clean (the lock stays)
            let entries = std::fs::read_dir(&path).map_err(|e| Error::io(&path, e))?;
            for e in entries.flatten() {
                if e.file_name() != "lock" {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok((WorkDir { path, keep: false, _lock: lock }, resume))
    }
}

impl Spilled {
    /// Name the files records are re-read from (opened when needed).
    fn open_sources(&mut self) -> Result<()> {
        let paths = self.copies.iter().zip(&self.inputs).map(|((copy, _), input)| match copy {
            Some((name, _)) => self.dir.path.join(name),
            None => input.path.clone().unwrap_or_else(|| PathBuf::from("-")),
        });
        self.sources = Sources { paths: paths.collect(), open: std::sync::Mutex::new(Vec::new()) };
        Ok(())
    }

    /// Save the read phase's counters (the checkpoint a rerun starts
    /// from); every file it names, `tables.bin` too, was synced when
    /// written.
    fn save_read(&self, tally: &Tally, read_time: Duration) -> Result<()> {
        let ck = ReadCheckpoint {
            version: CHECKPOINT_VERSION,
            docs: self.samples.len(),
            sources: self.copies.clone(),
            tally: tally.clone(),
            runs: self.run_lens.clone(),
            sig_bytes: (self.samples.len() * 4 * self.num_perm) as u64,
            id_bytes: self.id_bytes,
            spill_bytes: self.spill_bytes,
            read_time,
        };
        // the keep preferences, when there are any: synced before the checkpoint names them
        if !tally.prefs.is_empty() {
            let mut prefs = AtomicFile::create_raw(&self.dir.path.join("prefs.bin"), &[])?;
            for p in &tally.prefs {
                prefs.write_all(&p.to_bits().to_le_bytes())?;
            }
            prefs.commit()?;
        }
        let json =
            serde_json::to_vec(&ck).map_err(|e| Error::Internal(format!("encoding a checkpoint: {e}")))?;
        save(&self.dir.path, "read.json", &json)
    }

    /// Take up a saved read phase (checked by [`valid_checkpoint`]).
    fn restore(&mut self, ck: ReadCheckpoint) -> Result<(Tally, Duration)> {
        // the samples into memory, the rest stays in the table
        let mut rows = self.table.rows()?;
        let mut ends = vec![0; self.inputs.len()];
        let mut d = 0;
        while let Some(row) = rows.next()? {
            let source = row.place.source as usize;
            if row.samples as usize > self.num_perm || source >= ends.len() {
                return Err(self.table.corrupt(format!("row {d} does not fit the checkpoint")));
            }
            self.samples.push(row.samples);
            ends[source] = d + 1;
            self.id_bytes = row.id_end;
            d += 1;
        }
        if self.id_bytes != ck.id_bytes {
            return Err(self.table.corrupt(format!("its ids end at {}, not {}", self.id_bytes, ck.id_bytes)));
        }
        fill_ends(&mut ends);
        self.input_ends = ends;
        self.runs = (0..ck.runs.len()).map(|i| self.dir.path.join(run_name(i))).collect();
        self.run_lens = ck.runs;
        self.copies = ck.sources;
        self.spill_bytes = ck.spill_bytes;
        self.open_sources()?;
        let mut tally = ck.tally;
        if self.opts.keep.is_some() {
            let path = self.dir.path.join("prefs.bin");
            tally.prefs =
                load_values(&path, d, |b| f64::from_bits(u64::from_le_bytes(b))).ok_or_else(|| {
                    Error::Corrupt { path, reason: format!("it does not hold {d} keep preferences") }
                })?;
        }
        self.resumed.store(1, Ordering::Relaxed);
        Ok((tally, ck.read_time))
    }

    /// What an earlier, interrupted run had finished and this one reused.
    pub(crate) fn resumed(&self) -> u8 {
        self.resumed.load(Ordering::Relaxed)
    }

    /// Sorted runs of band keys written.
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Keep the work directory when this is dropped; its path.
    pub(crate) fn keep(&mut self) -> &Path {
        self.dir.keep = true;
        &self.dir.path
    }

    /// Merge the runs into buckets and run the pipeline over them (pairs
    /// already inside one cluster skipped, doubtful ones settled whenever
    /// they fill an eighth of the budget), or take the clusters a previous
    /// run saved; the clusters are saved as a checkpoint.
    pub(crate) fn cluster(&self, dedup: &Dedup, prefs: &[f64]) -> Result<Clustering> {
        let dir = &self.dir.path;
        let n = self.samples.len();
        if let Some(ck) = load_checkpoint::<ClusterCheckpoint>(dir, "clusters.json") {
            let reps = (ck.docs == n).then(|| load_values(&dir.join("reps.bin"), n, u32::from_le_bytes));
            let sims = || load_values(&dir.join("sims.bin"), n, |b| f64::from_bits(u64::from_le_bytes(b)));
            if let Some(Some(reps)) = reps {
                if let Some(sims) = sims() {
                    self.resumed.store(2, Ordering::Relaxed);
                    return Ok(Clustering::from_parts(reps, sims, ck.stats));
                }
            }
        }
        let plan = Plan {
            doubtful_cap: doubtful_cap(self.max_memory),
            skip_joined: true,
            set_bytes: (self.max_memory / 2) as usize,
        };
        let total = self.run_lens.iter().sum::<u64>() / KEY_BYTES as u64;
        let mut buckets = MergedRuns { merge: Merge::open(&self.runs)?, dir, total };
        let texts = RecordTexts(Some(self));
        let shape = dedup.shape(prefs, plan.set_bytes);
        let progress = dedup.progress();
        let c = dedup.install_pool(|| {
            pipeline::run(&dedup.rule(), self, &mut buckets, &texts, plan, shape, progress)
        })?;
        let mut reps = AtomicFile::create_raw(&dir.join("reps.bin"), &[])?;
        for r in c.representatives() {
            reps.write_all(&r.to_le_bytes())?;
        }
        reps.commit()?;
        let mut sims = AtomicFile::create_raw(&dir.join("sims.bin"), &[])?;
        for s in c.similarities() {
            sims.write_all(&s.to_bits().to_le_bytes())?;
        }
        sims.commit()?;
        let ck = ClusterCheckpoint { version: CHECKPOINT_VERSION, docs: n, stats: c.stats.clone() };
        let json =
            serde_json::to_vec(&ck).map_err(|e| Error::Internal(format!("encoding a checkpoint: {e}")))?;
        save(dir, "clusters.json", &json)?;
        Ok(c)
    }

    /// Documents with no shingles.
    pub(crate) fn empty_documents(&self) -> usize {
        self.samples.zeros()
    }
}

impl Signatures for Spilled {
    fn len(&self) -> usize {
        self.samples.len()
    }

    fn num_perm(&self) -> usize {
        self.num_perm
    }

    fn samples(&self, d: u32) -> u32 {
        self.samples.get(d as usize)
    }

    fn sig_range(&self, docs: std::ops::Range<u32>) -> Result<Cow<'_, [u32]>> {
        let k = self.num_perm as u64;
        let mut bytes = vec![0u8; (docs.end - docs.start) as usize * 4 * k as usize];
        read_at(&self.sigs, &mut bytes, u64::from(docs.start) * 4 * k)
            .map_err(|e| Error::io(&self.sig_path, e))?;
        Ok(Cow::Owned(le_u32s(&bytes).collect()))
    }

    fn prefetch(&self, docs: &[u32]) {
        let bytes = 4 * self.num_perm as u64;
        for &d in docs {
            will_need(&self.sigs, u64::from(d) * bytes, bytes);
        }
    }

    fn set(&self, _: u32) -> Option<&[u64]> {
        None
    }

    fn exact(&self) -> bool {
        false
    }
}

impl RecordSource for Spilled {
    fn inputs(&self) -> &[InputFile] {
        &self.inputs
    }

    fn opts(&self) -> &ReadOptions {
        &self.opts
    }

    fn len(&self) -> usize {
        self.samples.len()
    }

    fn input_of(&self, d: usize) -> usize {
        // documents are in input order
        self.input_ends.partition_point(|&end| end <= d)
    }

    fn format_of(&self, input: usize) -> Format {
        self.copies[input].1
    }

    fn record(&self, d: usize) -> Result<Cow<'_, [u8]>> {
        let p = self.table.row(d)?.place;
        let len = p.end.checked_sub(p.start).filter(|_| (p.source as usize) < self.inputs.len());
        let Some(len) = len else {
            return Err(self.table.corrupt(format!("row {d}: no record at {}..{}", p.start, p.end)));
        };
        let mut bytes = vec![0u8; len as usize];
        let file = self.sources.file(p.source as usize)?;
        read_at(&file, &mut bytes, p.start)
            .map_err(|e| Error::io(&self.inputs[p.source as usize].name, e))?;
        Ok(Cow::Owned(bytes))
    }

    fn prefetch(&self, docs: &[u32]) {
        // the rows first, so that reading them does not wait for each
        self.table.prefetch(docs);
        for &d in docs {
            // a row or a file that cannot be read fails its read later
            let Ok(p) = self.table.row(d as usize).map(|r| r.place) else { continue };
            let Ok(file) = self.sources.file(p.source as usize) else { continue };
            will_need(&file, p.start, p.end.saturating_sub(p.start));
        }
    }
}

impl Ids for Spilled {
    fn for_each_id(&self, f: &mut dyn FnMut(usize, &str) -> Result<()>) -> Result<()> {
        // a fresh descriptor: read front to back, with read-ahead
        let mut r = BufReader::with_capacity(1 << 20, reopen(&self.id_path)?);
        let mut rows = self.table.rows()?;
        let mut id = Vec::new();
        let (mut d, mut start) = (0, 0);
        while let Some(row) = rows.next()? {
            let Some(len) = row.id_end.checked_sub(start) else {
                return Err(self.table.corrupt(format!("row {d}: the id ends before it starts")));
            };
            id.resize(len as usize, 0);
            r.read_exact(&mut id).map_err(|e| Error::io(&self.id_path, e))?;
            f(d, &String::from_utf8_lossy(&id))?;
            (d, start) = (d + 1, row.id_end);
        }
        Ok(())
    }

    fn id(&self, d: usize) -> Result<Cow<'_, str>> {
        let (start, end) = self.table.id_span(d)?;
        let mut bytes = vec![0u8; (end - start) as usize];
        read_at(&self.ids, &mut bytes, start).map_err(|e| Error::io(&self.id_path, e))?;
        Ok(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// The `n` values of `N` bytes in `path`, when it holds exactly them (a
/// checkpoint that cannot be read is redone, not an error).
fn load_values<const N: usize, T>(path: &Path, n: usize, decode: fn([u8; N]) -> T) -> Option<Vec<T>> {
    let f = File::open(path).ok()?;
    if f.metadata().ok()?.len() != (n * N) as u64 {
        return None;
    }
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut values = Vec::with_capacity(n);
    let mut b = [0u8; N];
    for _ in 0..n {
        r.read_exact(&mut b).ok()?;
        values.push(decode(b));
    }
    Some(values)
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

struct MergedRuns<'a> {
    merge: Merge,
    dir: &'a Path,
    /// Band keys in all the runs.
    total: u64,
}

impl Buckets for MergedRuns<'_> {
    fn for_each_batch(&mut self, f: &mut BatchFn<'_>) -> Result<()> {
        let mut keys: Vec<(u64, u32)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut bucket_start = 0;
        let mut last: Option<(u64, u32)> = None;
        let total = self.total;
        let mut read = 0u64;
        let flush = |keys: &mut Vec<(u64, u32)>, ends: &mut Vec<usize>, f: &mut BatchFn<'_>, read: u64| {
            let mut from = 0;
            let buckets: Vec<&[(u64, u32)]> = ends
                .iter()
                .map(|&e| {
                    let b = &keys[from..e];
                    from = e;
                    b
                })
                .collect();
            f(&buckets, (read, total))?;
            keys.clear();
            ends.clear();
            Ok(())
        };
        loop {
            let next = self.merge.next().map_err(|e| Error::io(self.dir, e))?;
            read += 1;
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
                    flush(&mut keys, &mut ends, f, read.min(total))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_work_directory_has_one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        match lock(dir.path()) {
            Err(Error::Busy { path, .. }) => assert_eq!(path, dir.path()),
            other => panic!("a second holder: {other:?}"),
        }
        drop(first);
        assert!(lock(dir.path()).is_ok());
    }

    #[test]
    fn the_table_reads_back_its_rows_and_a_short_one_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let n = 3 * TABLE_BLOCK + 5;
        let place = |d: usize| Place { source: (d / 100) as u32, start: 7 * d as u64, end: 7 * d as u64 + 5 };
        let mut w = TableWriter::create(dir.path()).unwrap();
        for d in 0..n {
            w.push((d % 129) as u32, d % 4, place(d)).unwrap();
        }
        let (rows, id_bytes) = w.finish().unwrap();
        let want_ends: Vec<u64> =
            (0..n).scan(0, |e, d| Some(*e + (d % 4) as u64).inspect(|&x| *e = x)).collect();
        assert_eq!((rows, id_bytes), (n, want_ends[n - 1]));
        let path = dir.path().join("tables.bin");
        let t = Table::open(&path, n).unwrap();
        // by position, in any order, and front to back
        for d in (0..n).rev().chain(0..n) {
            let row = t.row(d).unwrap();
            assert_eq!(row, Row { samples: (d % 129) as u32, id_end: want_ends[d], place: place(d) });
            let start = if d == 0 { 0 } else { want_ends[d - 1] };
            assert_eq!(t.id_span(d).unwrap(), (start, want_ends[d]));
        }
        let mut r = t.rows().unwrap();
        for d in 0..n {
            assert_eq!(r.next().unwrap().unwrap().place, place(d));
        }
        assert!(r.next().unwrap().is_none());
        assert!(matches!(t.row(n), Err(Error::Corrupt { .. })));
        // a table of other length than its rows is not opened, and one cut
        // short after it was opened is corrupt where it is read
        assert!(matches!(Table::open(&path, n + 1), Err(Error::Corrupt { path: p, .. }) if p == path));
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - ROW]).unwrap();
        assert!(matches!(Table::open(&path, n), Err(Error::Corrupt { .. })));
        let t = Table::open(&path, n - 1).unwrap();
        std::fs::write(&path, &full[..TABLE_BLOCK * ROW]).unwrap();
        assert!(t.row(0).is_ok());
        assert!(matches!(t.row(2 * TABLE_BLOCK), Err(Error::Corrupt { .. })));
        let mut r = t.rows().unwrap();
        let read = std::iter::from_fn(|| r.next().transpose()).collect::<Result<Vec<_>>>();
        assert!(matches!(read, Err(Error::Corrupt { .. })));
    }

    #[test]
    fn samples_take_two_bytes_up_to_65535_slots() {
        for (k, narrow) in [(128, true), (65535, true), (65536, false)] {
            let mut s = Samples::new(k);
            assert_eq!(matches!(s, Samples::Narrow(_)), narrow);
            for v in [0, 1, k as u32] {
                s.push(v);
            }
            assert_eq!((s.get(0), s.get(1), s.get(2), s.len(), s.zeros()), (0, 1, k as u32, 3, 1));
        }
    }

    #[test]
    fn inputs_without_documents_end_where_the_previous_one_did() {
        let mut ends = vec![0, 3, 0, 0, 7, 0];
        fill_ends(&mut ends);
        assert_eq!(ends, [0, 3, 3, 3, 7, 7]);
    }

    #[test]
    fn a_checkpoint_whose_files_changed_length_is_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let input = InputFile {
            path: Some(d.join("in.jsonl")),
            name: "in.jsonl".into(),
            format: Format::Jsonl,
            compression: Compression::None,
        };
        let ck = ReadCheckpoint {
            version: CHECKPOINT_VERSION,
            docs: 2,
            sources: vec![(None, Format::Jsonl)],
            tally: Tally::default(),
            runs: vec![24],
            sig_bytes: 2 * 4 * 4,
            id_bytes: 3,
            spill_bytes: 0,
            read_time: Duration::ZERO,
        };
        save(d, "read.json", &serde_json::to_vec(&ck).unwrap()).unwrap();
        save(d, "tables.bin", &[0; 2 * ROW]).unwrap();
        save(d, &run_name(0), &[0; 24]).unwrap();
        save(d, "sigs.bin", &[0; 32]).unwrap();
        save(d, "ids.bin", b"a:b").unwrap();
        assert!(valid_checkpoint(d, std::slice::from_ref(&input), 4).is_some());
        // a file cut short after the checkpoint (a crash before it reached
        // the disk) makes the checkpoint unusable
        for (name, len) in [("sigs.bin", 31), (&run_name(0)[..], 12), ("ids.bin", 2)] {
            let full = std::fs::read(d.join(name)).unwrap();
            std::fs::write(d.join(name), &full[..len]).unwrap();
            assert!(valid_checkpoint(d, std::slice::from_ref(&input), 4).is_none(), "{name}");
            std::fs::write(d.join(name), &full).unwrap();
        }
        assert!(valid_checkpoint(d, std::slice::from_ref(&input), 4).is_some());
        // another signature size: not this run's files
        assert!(valid_checkpoint(d, std::slice::from_ref(&input), 8).is_none());
    }
}
