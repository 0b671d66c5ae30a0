//! Reading inputs: paths and directories, formats, memory maps and streams,
//! and the parallel parse of records into documents.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::Mmap;
use rayon::prelude::*;

use crate::error::{BadRecord, Error, Result};
use crate::io::json::parse_record;
use crate::io::record::{
    BLOCK, Bytes, Compression, Format, InputFile, Outcome, ReadOptions, Record, Retained, key_value,
};
use crate::io::warc;

/// Expand the command-line inputs (files, directories walked recursively in
/// sorted order, glob patterns such as `shards/*.jsonl.zst` in sorted order,
/// `-` for standard input) into a list of input files.
///
/// Walking follows symbolic links, but skips a link that leads nowhere
/// (dangling, or a loop of links) and a directory it has already walked
/// (a link to an ancestor, or a second way to one directory), so that it
/// always ends and lists every file once. A path given by itself that
/// cannot be opened is an error naming it; a listed file that cannot be read
/// is one when it is read.
pub fn expand_inputs(inputs: &[PathBuf], format: Format) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.as_os_str() == "-" {
            out.push(InputFile { path: None, name: "-".into(), format, compression: Compression::None });
            continue;
        }
        let pattern = p.to_string_lossy();
        if !p.exists() && pattern.contains(['*', '?', '[']) {
            // a glob pattern the shell did not expand (quoted, or too many files)
            let bad = |e: String| Error::param(format!("input pattern {pattern:?}: {e}"));
            let mut matches: Vec<PathBuf> = glob::glob(&pattern)
                .map_err(|e| bad(e.to_string()))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if matches.is_empty() {
                return Err(bad("matches no file".into()));
            }
            matches.sort();
            for m in matches {
                add_path(&m, format, &mut out)?;
            }
            continue;
        }
        add_path(p, format, &mut out)?;
    }
    Ok(out)
}

/// A file, or a directory walked recursively.
fn add_path(p: &Path, format: Format, out: &mut Vec<InputFile>) -> Result<()> {
    let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
    if meta.is_dir() {
        let mut walked = std::collections::HashSet::new();
        walked.insert(p.canonicalize().map_err(|e| Error::io(p, e))?);
        walk(p, format, out, &mut walked)
    } else {
        out.push(file_input(p.to_path_buf(), format));
        Ok(())
    }
}

/// The files under `dir`, skipping directories whose canonical path is in
/// `walked` (and adding those it walks).
fn walk(
    dir: &Path,
    format: Format,
    out: &mut Vec<InputFile>,
    walked: &mut std::collections::HashSet<PathBuf>,
) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|err| Error::io(dir, err)))
        .collect::<Result<_>>()?;
    entries.sort();
    for p in entries {
        let meta = match std::fs::metadata(&p) {
            Ok(meta) => meta,
            // a dangling link, or a loop of links: nothing to read
            Err(_) if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) => continue,
            Err(e) => return Err(Error::io(&p, e)),
        };
        if meta.is_dir() {
            if walked.insert(p.canonicalize().map_err(|e| Error::io(&p, e))?) {
                walk(&p, format, out, walked)?;
            }
        } else if meta.is_file() {
            out.push(file_input(p, format));
        }
    }
    Ok(())
}

fn file_input(path: PathBuf, format: Format) -> InputFile {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (by_name, inner) = Compression::from_name(&name);
    let mut head = [0u8; 4];
    let head = match File::open(&path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => &head[..n],
        Err(_) => &[][..], // reported when the file is read
    };
    // the magic bytes win; a compressed extension without them is still
    // decompressed, so that a damaged file is reported as such
    let compression = match Compression::from_magic(head) {
        Compression::None => by_name,
        c => c,
    };
    let format = match format {
        Format::Auto if head.starts_with(b"PAR1") => Format::Parquet,
        Format::Auto => {
            match Path::new(inner)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
                Some("warc" | "wet") => Format::Warc,
                Some("parquet" | "pq") => Format::Parquet,
                Some("txt" | "text" | "md" | "html" | "htm") => Format::Text,
                _ if compression != Compression::None => Format::Auto,
                _ => Format::Text,
            }
        }
        f => f,
    };
    InputFile { name: path.to_string_lossy().into_owned(), path: Some(path), format, compression }
}

/// Size and modification time (nanoseconds since the epoch) of an input:
/// what tells a rerun whether it changed (zeros for standard input).
pub(crate) fn stamp(input: &InputFile) -> (u64, i64) {
    let meta = input.path.as_deref().and_then(|p| std::fs::metadata(p).ok());
    meta.map_or((0, 0), |m| (m.len(), mtime_nanos(&m)))
}

/// The modification time in nanoseconds since the epoch.
#[cfg(unix)]
fn mtime_nanos(m: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    m.mtime().saturating_mul(1_000_000_000).saturating_add(m.mtime_nsec())
}

#[cfg(not(unix))]
fn mtime_nanos(m: &std::fs::Metadata) -> i64 {
    portable_mtime_nanos(m)
}

/// The modification time in nanoseconds since the epoch (negative before
/// it) from the portable API; 0 where the platform does not keep one.
#[cfg(any(not(unix), test))]
fn portable_mtime_nanos(m: &std::fs::Metadata) -> i64 {
    let nanos = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    match m.modified().map(|t| t.duration_since(std::time::UNIX_EPOCH)) {
        Ok(Ok(after)) => nanos(after),
        Ok(Err(before)) => -nanos(before.duration()),
        Err(_) => 0,
    }
}

/// Files at least this large are memory-mapped; smaller ones are read whole
/// (a directory of pages would otherwise hold a map per page).
const MAP_MIN: u64 = if cfg!(test) { 1 << 10 } else { 1 << 20 };

/// Target size of the pieces a block is cut into for parallel parsing.
const PIECE: usize = if cfg!(test) { 4 << 10 } else { 512 << 10 };

/// Read one line-, record- or file-based input (every format but Parquet):
/// see [`crate::io::read::read_input_with`].
pub(crate) fn read_records<T: Send>(
    input: &InputFile,
    opts: &ReadOptions,
    keep: bool,
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl FnMut(Outcome<T>, u64),
    on_block: &mut dyn FnMut(&[u8]),
) -> Result<Retained> {
    if input.format == Format::Parquet {
        return Err(crate::error::Error::Internal("a Parquet input reached the text reader".into()));
    }
    let mut retained = Retained { format: input.format, ..Retained::default() };
    let compressed = Arc::new(AtomicU64::new(0));
    let mut stdin_compression = Compression::None;
    let reader: Box<dyn Read + Send> = match &input.path {
        Some(p) => {
            let file = File::open(p).map_err(|e| Error::io(p, e))?;
            let len = file.metadata().map_err(|e| Error::io(p, e))?.len();
            if opts.mmap && len > 0 && input.compression == Compression::None {
                let bytes = if len < MAP_MIN {
                    // a small file is read whole: a map per file would run
                    // into the kernel's limit on maps in a directory of pages
                    let mut v = Vec::with_capacity(len as usize);
                    (&file).read_to_end(&mut v).map_err(|e| Error::io(p, e))?;
                    Bytes::Owned(v)
                } else {
                    // SAFETY: the map is read-only and private to this
                    // process. If another process truncates the file while we
                    // read it the OS may deliver SIGBUS; that is the
                    // documented risk of memory-mapped input, shared by every
                    // mmap-based tool.
                    let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(p, e))?;
                    let _ = map.advise(memmap2::Advice::Sequential);
                    Bytes::Map(map)
                };
                drop(file);
                let len = bytes.len() as u64;
                // windows of about one block, cut after a newline, so that
                // the parsed values in flight stay bounded
                let mut at = 0usize;
                let mut line = 0u64;
                let replaced = &mut retained.replaced_surrogates;
                while at < bytes.len() || (at == 0 && bytes.is_empty()) {
                    if input.format == Format::Warc {
                        // the records of about one block, decided on all
                        // the bytes there are
                        let scan = warc::scan(&bytes[at..], true, false, BLOCK);
                        // with all the bytes there, every scan moves on
                        debug_assert!(scan.end > 0);
                        let end = at + scan.end;
                        line +=
                            parse_warc(input, opts, &bytes[at..end], at as u64, line, &scan.items, f, sink);
                        at = end;
                        continue;
                    }
                    let end = if input.format == Format::Text || bytes.len() - at <= BLOCK {
                        bytes.len()
                    } else {
                        memchr::memchr(b'\n', &bytes[at + BLOCK..])
                            .map_or(bytes.len(), |i| at + BLOCK + i + 1)
                    };
                    let data = &bytes[at..end];
                    line += parse_block(input, input.format, opts, data, at as u64, line, f, sink, replaced);
                    at = end;
                    if bytes.is_empty() {
                        break;
                    }
                }
                retained.len = len;
                // a map or a buffer is held only when asked for: a corpus of
                // many files must not hold them all
                if keep {
                    retained.blocks.push((0, bytes));
                }
                return Ok(retained);
            }
            let counted = Counting { inner: file, count: Arc::clone(&compressed) };
            decoder(counted, input.compression).map_err(|e| Error::io(p, e))?
        }
        None => {
            // standard input: compressed when its magic bytes say so
            let mut stdin = std::io::stdin();
            let mut head = Vec::with_capacity(4);
            (&mut stdin).take(4).read_to_end(&mut head).map_err(|e| Error::io("-", e))?;
            stdin_compression = Compression::from_magic(&head);
            let counted =
                Counting { inner: std::io::Cursor::new(head).chain(stdin), count: Arc::clone(&compressed) };
            decoder(counted, stdin_compression).map_err(|e| Error::io("-", e))?
        }
    };
    // Streamed: a reader thread cuts blocks (decompressing them) while this
    // one parses the previous block.
    let mut blocks = Blocks::new(reader, input.format);
    let mut format = input.format;
    let mut offset = 0u64;
    let mut line = 0u64;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Block>(1);
        scope.spawn(move || {
            for b in blocks.by_ref() {
                if tx.send(b).is_err() {
                    break;
                }
            }
        });
        for block in rx {
            match block {
                Block::Data { bytes, format: resolved, records } => {
                    format = resolved;
                    let bytes = Bytes::Owned(bytes);
                    line += if format == Format::Warc {
                        parse_warc(input, opts, &bytes, offset, line, &records, f, sink)
                    } else {
                        let replaced = &mut retained.replaced_surrogates;
                        parse_block(input, format, opts, &bytes, offset, line, f, sink, replaced)
                    };
                    on_block(&bytes);
                    let len = bytes.len() as u64;
                    if keep {
                        retained.blocks.push((offset, bytes));
                    }
                    offset += len;
                }
                Block::Failed { error, dropped } => {
                    retained.failed = true;
                    let what = match input.compression.max(stdin_compression) {
                        Compression::None => "read error".to_owned(),
                        c => format!(
                            "truncated or corrupt {} data near compressed byte {}",
                            if c == Compression::Gzip { "gzip" } else { "zstd" },
                            compressed.load(Ordering::Relaxed)
                        ),
                    };
                    let reason = format!(
                        "{what} (after {} bytes of content): {error}; {dropped} bytes of an incomplete record \
                         dropped, the rest of the file not read",
                        offset + dropped as u64
                    );
                    sink(Outcome::Bad(BadRecord { file: input.name.clone(), line: line + 1, reason }), 0);
                }
            }
        }
    });
    retained.len = offset;
    retained.format = format;
    Ok(retained)
}

/// A reader that decompresses `r`.
fn decoder<R: Read + Send + 'static>(r: R, c: Compression) -> std::io::Result<Box<dyn Read + Send>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(r))),
        Compression::Zstd => Box::new(zstd::Decoder::new(r)?),
    })
}

/// Counts the bytes read from a file (the compressed offset, for messages).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the block reader hands over.
enum Block {
    /// Whole lines (or, for `Text`, the whole file), in the resolved format;
    /// for WARC, what the bytes hold (records, bad records), as found when
    /// they were cut.
    Data { bytes: Vec<u8>, format: Format, records: Vec<warc::Item> },
    /// Reading failed; `dropped` bytes of an incomplete record were lost.
    Failed { error: std::io::Error, dropped: usize },
}

/// Cuts a stream into blocks of whole lines of about [`BLOCK`] bytes (whole
/// files for `Text`; for WARC, of the records [`warc::scan`] can decide, so a
/// block may end inside a bad record), resolving `Auto` from the first bytes.
/// A read error ends it: the complete lines read before it come first, then
/// the failure.
struct Blocks {
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    format: Format,
    read: u64,
    failure: Option<Block>,
    done: bool,
    /// WARC: the carried bytes continue a bad record.
    resyncing: bool,
    /// WARC: how many bytes the carry should grow to before it is scanned
    /// again (a record longer than a block), 0 when unknown.
    need: usize,
}

impl Blocks {
    fn new(reader: Box<dyn Read + Send>, format: Format) -> Blocks {
        Blocks {
            reader,
            carry: Vec::new(),
            format,
            read: 0,
            failure: None,
            done: false,
            resyncing: false,
            need: 0,
        }
    }

    /// WARC: the items of `buf` and where they end, or `None` when nothing
    /// can be decided before more is read.
    fn scan_warc(&mut self, buf: &[u8], eof: bool) -> Option<(usize, Vec<warc::Item>)> {
        let scan = warc::scan(buf, eof, self.resyncing, usize::MAX);
        if scan.end == 0 && !eof {
            self.need = scan.need;
            return None;
        }
        debug_assert!(!eof || scan.end == buf.len());
        self.resyncing = scan.resyncing;
        self.need = scan.need.saturating_sub(scan.end);
        Some((scan.end, scan.items))
    }
}

impl Iterator for Blocks {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        if let Some(f) = self.failure.take() {
            return Some(f);
        }
        if self.done {
            return None;
        }
        loop {
            let mut buf = std::mem::take(&mut self.carry);
            // a long WARC record: grow towards its end, at most doubling, so
            // that it is scanned a few times and not once per block
            let more = if self.need > buf.len() {
                (self.need - buf.len()).clamp(BLOCK, BLOCK.max(buf.len()))
            } else {
                BLOCK
            };
            let want = buf.len() + more;
            let before = buf.len();
            let result = fill(&mut *self.reader, &mut buf, want);
            self.read += (buf.len() - before) as u64;
            if self.format == Format::Auto && (!buf.is_empty() || !matches!(result, Ok(false))) {
                self.format = sniff(&buf);
            }
            let eof = match result {
                Ok(eof) => eof,
                Err(error) => {
                    self.done = true;
                    let (cut, records) = match self.format {
                        Format::Text => (0, Vec::new()),
                        Format::Warc => self.scan_warc(&buf, false).unwrap_or_default(),
                        _ => (memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1), Vec::new()),
                    };
                    self.failure = Some(Block::Failed { error, dropped: buf.len() - cut });
                    if cut == 0 {
                        return self.failure.take();
                    }
                    buf.truncate(cut);
                    return Some(Block::Data { bytes: buf, format: self.format, records });
                }
            };
            if self.format == Format::Text && !eof {
                self.carry = buf;
                continue;
            }
            if self.format == Format::Warc {
                let Some((cut, records)) = self.scan_warc(&buf, eof) else {
                    // nothing decided yet (a record longer than a block)
                    self.carry = buf;
                    continue;
                };
                self.carry = buf[cut..].to_vec();
                buf.truncate(cut);
                self.done = eof;
                return Some(Block::Data { bytes: buf, format: self.format, records });
            }
            let last = memchr::memrchr(b'\n', &buf).map(|i| i + 1);
            let cut = if eof {
                buf.len()
            } else {
                match last {
                    Some(c) => c,
                    None => {
                        // one line (or record) longer than a block: keep reading
                        self.carry = buf;
                        continue;
                    }
                }
            };
            self.carry = buf[cut..].to_vec();
            buf.truncate(cut);
            self.done = eof;
            return Some(Block::Data { bytes: buf, format: self.format, records: Vec::new() });
        }
    }
}

/// Read until `buf` holds `want` bytes or the stream ends (returns true).
/// On an error, the bytes read before it stay in `buf`.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let need = want.saturating_sub(buf.len());
    buf.reserve(need);
    // read_to_end fills the spare capacity without zeroing it first
    let got = r.take(need as u64).read_to_end(buf)?;
    Ok(got < need)
}

fn sniff(buf: &[u8]) -> Format {
    let buf = &buf[bom_len(buf)..];
    let start = buf.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(buf.len());
    match &buf[start..] {
        [b'{', ..] => Format::Jsonl,
        rest if rest.starts_with(b"WARC/") => Format::Warc,
        _ => Format::Text,
    }
}

/// The length of the UTF-8 byte-order mark `data` starts with (0 or 3).
fn bom_len(data: &[u8]) -> usize {
    if data.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 }
}

/// Parse one block (whole lines, or a whole file for `Text`; not WARC), in
/// parallel pieces, feeding outcomes to `sink` in order. Returns the lines
/// consumed; counts lone surrogates replaced in kept records in `replaced`.
/// A UTF-8 byte-order mark starting the input (`offset` 0) is skipped: it is
/// in no record, and records keep their offsets in the file.
#[allow(clippy::too_many_arguments)]
fn parse_block<T: Send>(
    input: &InputFile,
    format: Format,
    opts: &ReadOptions,
    data: &[u8],
    offset: u64,
    first_line: u64,
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl FnMut(Outcome<T>, u64),
    replaced: &mut u64,
) -> u64 {
    debug_assert!(format != Format::Warc, "WARC blocks are parsed by parse_warc");
    let skip = if offset == 0 { bom_len(data) } else { 0 };
    let (data, offset) = (&data[skip..], offset + skip as u64);
    if format == Format::Text || format == Format::Auto {
        let outcome = whole_file(input, data, offset, f);
        sink(outcome, data.len() as u64);
        return 1;
    }
    // cut into pieces at line ends
    let mut bounds = vec![0usize];
    let mut pos = 0;
    while pos + PIECE < data.len() {
        match memchr::memchr(b'\n', &data[pos + PIECE..]) {
            Some(i) => {
                pos = pos + PIECE + i + 1;
                if pos < data.len() {
                    bounds.push(pos);
                }
            }
            None => break,
        }
    }
    bounds.push(data.len());
    let pieces: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let counts: Vec<u64> =
        pieces.par_iter().map(|&(s, e)| memchr::memchr_iter(b'\n', &data[s..e]).count() as u64).collect();
    let mut starts = Vec::with_capacity(pieces.len());
    let mut acc = first_line;
    for c in &counts {
        starts.push(acc);
        acc += c;
    }
    let results: Vec<(Vec<Outcome<T>>, u64)> = pieces
        .par_iter()
        .zip(starts.par_iter())
        .map(|(&(s, e), &l0)| parse_lines(input, format, opts, &data[s..e], offset + s as u64, l0, f))
        .collect();
    for (piece, n) in results {
        *replaced += n;
        for o in piece {
            let bytes = match &o {
                Outcome::Doc(r) => r.end - r.start,
                Outcome::Bad(_) => 0,
            };
            sink(o, bytes);
        }
    }
    // a last line without a newline still counts as a line
    let tail = data.last().is_some_and(|&b| b != b'\n') as u64;
    acc - first_line + tail
}

/// Parse a block of WARC records, `items` as [`warc::scan`] found them in
/// `data` (the bytes at `offset` of the input): texts in parallel. Records
/// that are not documents are skipped; a malformed record is a bad record
/// (numbered from the start of the file). Returns the items consumed.
#[allow(clippy::too_many_arguments)]
fn parse_warc<T: Send>(
    input: &InputFile,
    opts: &ReadOptions,
    data: &[u8],
    offset: u64,
    first_record: u64,
    items: &[warc::Item],
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl FnMut(Outcome<T>, u64),
) -> u64 {
    let key_field = opts.keep.as_ref().and_then(|k| k.field());
    let outcomes: Vec<Option<Outcome<T>>> = items
        .par_iter()
        .enumerate()
        .map(|(i, item)| {
            let number = first_record + i as u64 + 1;
            let bad = |reason: String| {
                Some(Outcome::Bad(BadRecord { file: input.name.clone(), line: number, reason }))
            };
            match *item {
                warc::Item::Bad { at, ref reason } => bad(format!("{reason} at byte {}", offset + at as u64)),
                warc::Item::Truncated { at } => bad(format!(
                    "truncated WARC record at byte {} (its header or block is cut short)",
                    offset + at as u64
                )),
                warc::Item::Record { start, end } => {
                    let rec = &data[start..end];
                    let h = warc::record(rec)?;
                    match warc::record_text(rec, &h) {
                        Ok(Some(text)) => Some(Outcome::Doc(Record {
                            id: h.id().unwrap_or_else(|| format!("{}:{number}", input.name)),
                            start: offset + start as u64,
                            end: offset + end as u64,
                            text_len: text.len() as u64,
                            key: key_field.and_then(|k| h.field(rec, k)).and_then(key_value),
                            value: f(&text),
                        })),
                        Ok(None) => None,
                        Err(reason) => bad(reason),
                    }
                }
            }
        })
        .collect();
    for o in outcomes.into_iter().flatten() {
        let bytes = match &o {
            Outcome::Doc(r) => r.end - r.start,
            Outcome::Bad(_) => 0,
        };
        sink(o, bytes);
    }
    items.len() as u64
}

/// A whole file's document: `data`, at `offset` in the file (after a
/// byte-order mark).
fn whole_file<T>(input: &InputFile, data: &[u8], offset: u64, f: &impl Fn(&str) -> T) -> Outcome<T> {
    match std::str::from_utf8(data) {
        Ok(text) => Outcome::Doc(Record {
            id: input.name.clone(),
            start: offset,
            end: offset + data.len() as u64,
            text_len: data.len() as u64,
            key: None,
            value: f(text),
        }),
        Err(e) => {
            let at = e.valid_up_to();
            let line = memchr::memchr_iter(b'\n', &data[..at]).count() as u64 + 1;
            Outcome::Bad(BadRecord {
                file: input.name.clone(),
                line,
                reason: format!("invalid UTF-8 at byte {}", offset + at as u64),
            })
        }
    }
}

/// The records of whole lines: the outcomes, and how many lone surrogates
/// the kept records had replaced.
fn parse_lines<T>(
    input: &InputFile,
    format: Format,
    opts: &ReadOptions,
    data: &[u8],
    offset: u64,
    first_line: u64,
    f: &impl Fn(&str) -> T,
) -> (Vec<Outcome<T>>, u64) {
    let mut out = Vec::new();
    let mut replaced = 0u64;
    let mut start = 0usize;
    let mut line = first_line;
    while start < data.len() {
        let nl = memchr::memchr(b'\n', &data[start..]).map(|i| start + i);
        let end = nl.map_or(data.len(), |i| i + 1);
        line += 1;
        let mut body = &data[start..nl.unwrap_or(data.len())];
        if let [rest @ .., b'\r'] = body {
            body = rest;
        }
        let rec_start = offset + start as u64;
        let rec_end = offset + end as u64;
        let bad = |reason: String| BadRecord { file: input.name.clone(), line, reason };
        match format {
            Format::Lines => match std::str::from_utf8(body) {
                Ok(text) => out.push(Outcome::Doc(Record {
                    id: format!("{}:{line}", input.name),
                    start: rec_start,
                    end: rec_end,
                    text_len: text.len() as u64,
                    key: None,
                    value: f(text),
                })),
                Err(e) => out.push(Outcome::Bad(bad(format!(
                    "invalid UTF-8 at byte {} of the line",
                    e.valid_up_to()
                )))),
            },
            _ => {
                if body.iter().all(u8::is_ascii_whitespace) {
                    start = end;
                    continue;
                }
                let key_field = opts.keep.as_ref().and_then(|k| k.field());
                match parse_record(body, &opts.text_field, opts.id_field.as_deref(), key_field) {
                    Err(reason) => out.push(Outcome::Bad(bad(reason))),
                    Ok(fields) => match fields.text {
                        None => out.push(Outcome::Bad(bad(format!("missing field `{}`", opts.text_field)))),
                        Some(Err(kind)) => out.push(Outcome::Bad(bad(format!(
                            "field `{}` is {kind}, not a string",
                            opts.text_field
                        )))),
                        Some(Ok(text)) => {
                            let id = match fields.id {
                                Some(Ok(id)) => Cow::into_owned(id),
                                Some(Err(kind)) => {
                                    let field = opts.id_field.as_deref().unwrap_or_default();
                                    out.push(Outcome::Bad(bad(format!(
                                        "field `{field}` is {kind}, not a string, number or boolean"
                                    ))));
                                    start = end;
                                    continue;
                                }
                                None => format!("{}:{line}", input.name),
                            };
                            replaced += u64::from(fields.replaced);
                            out.push(Outcome::Doc(Record {
                                id,
                                start: rec_start,
                                end: rec_end,
                                text_len: text.len() as u64,
                                key: fields.key,
                                value: f(&text),
                            }))
                        }
                    },
                }
            }
        }
        start = end;
    }
    (out, replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], format: Format, mmap: bool) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.jsonl");
        std::fs::write(&p, data).unwrap();
        let input = InputFile { path: Some(p), name: "in".into(), format, compression: Compression::None };
        let opts = ReadOptions { mmap, ..ReadOptions::default() };
        let mut got = Vec::new();
        let kept = read_records(
            &input,
            &opts,
            true,
            &|t: &str| t.to_owned(),
            &mut |o, _| {
                got.push(match o {
                    Outcome::Doc(r) => format!("{}[{},{}):{}", r.id, r.start, r.end, r.value),
                    Outcome::Bad(b) => format!("BAD {b}"),
                })
            },
            &mut |_| {},
        )
        .unwrap();
        // records map back to the bytes they came from
        if let Some((_, b)) = kept.blocks.first() {
            assert_eq!(&b[..], &data[..b.len()]);
        }
        got
    }

    #[test]
    fn jsonl_records_and_bad_ones() {
        let data = b"{\"id\":\"a\",\"text\":\"x\"}\n\n{\"text\":\"y\"}\r\n{bad\n{\"id\":1}\n{\"text\":\"\xff\"}\n{\"text\":3}";
        let got = read_all(data, Format::Jsonl, true);
        assert_eq!(got[0], "a[0,22):x");
        assert_eq!(got[1], "in:3[23,37):y");
        assert!(got[2].starts_with("BAD in:4: invalid JSON"), "{}", got[2]);
        assert_eq!(got[3], "BAD in:5: missing field `text`");
        assert!(got[4].starts_with("BAD in:6: invalid JSON"), "{}", got[4]);
        assert_eq!(got[5], "BAD in:7: field `text` is a number, not a string");
        assert_eq!(got.len(), 6);
        assert_eq!(read_all(data, Format::Jsonl, false), got);
    }

    #[test]
    fn lines_and_text() {
        let data = b"one\n\nthree\xff\nfour";
        let got = read_all(data, Format::Lines, true);
        assert_eq!(
            got,
            [
                "in:1[0,4):one",
                "in:2[4,5):",
                "BAD in:3: invalid UTF-8 at byte 5 of the line",
                "in:4[12,16):four"
            ]
        );
        assert_eq!(read_all(data, Format::Lines, false), got);
        let got = read_all(b"a\nb\xffc", Format::Text, true);
        assert_eq!(got, ["BAD in:2: invalid UTF-8 at byte 3"]);
        assert_eq!(read_all(b"", Format::Text, true), ["in[0,0):"]);
    }

    #[test]
    fn many_pieces_keep_line_numbers() {
        let mut data = Vec::new();
        for i in 0..40_000 {
            data.extend_from_slice(format!("{{\"text\":\"{}\"}}\n", "w ".repeat(i % 50)).as_bytes());
        }
        let got = read_all(&data, Format::Jsonl, true);
        assert_eq!(got.len(), 40_000);
        assert!(got[39_999].starts_with("in:40000["));
        assert_eq!(read_all(&data, Format::Jsonl, false), got);
    }

    /// Read both ways (memory map and stream); they must agree.
    fn read_both(data: &[u8], format: Format) -> Vec<String> {
        let got = read_all(data, format, true);
        assert_eq!(read_all(data, format, false), got, "the stream and the map differ");
        got
    }

    /// A WET conversion record.
    fn wet(uri: &str, text: &str) -> Vec<u8> {
        format!(
            "WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Target-URI: {uri}\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\n\r\n{text}\r\n\r\n",
            text.len()
        )
        .into_bytes()
    }

    /// `rec` with its Content-Length set to `len`.
    fn with_length(rec: &[u8], len: usize) -> Vec<u8> {
        let text = String::from_utf8(rec.to_vec()).unwrap();
        let at = text.find("Content-Length: ").unwrap() + 16;
        let end = at + text[at..].find('\r').unwrap();
        format!("{}{len}{}", &text[..at], &text[end..]).into_bytes()
    }

    /// The documents' ids, and `BAD` for bad records.
    fn ids(got: &[String]) -> Vec<&str> {
        got.iter().map(|g| if g.starts_with("BAD ") { "BAD" } else { g.split('[').next().unwrap() }).collect()
    }

    #[test]
    fn warc_length_past_the_following_records_loses_only_that_record() {
        let recs: Vec<Vec<u8>> = (0..6).map(|i| wet(&format!("u{i}"), &format!("text {i}"))).collect();
        let next = recs[2].len();
        // record 2 claims: far more than the input holds; a length that ends
        // inside the next record; one that ends exactly where record 4 starts
        for len in [999_999_999, 6 + next / 2, 6 + 4 + next] {
            let mut data = recs[0].clone();
            data.extend(with_length(&recs[1], len));
            for r in &recs[2..] {
                data.extend(r);
            }
            let got = read_both(&data, Format::Warc);
            assert_eq!(ids(&got), ["u0", "BAD", "u2", "u3", "u4", "u5"], "{len}: {got:?}");
            assert!(got[1].starts_with(&format!("BAD in:2: Content-Length {len} ")), "{got:?}");
            assert!(!got[1].contains("truncated"), "{got:?}");
            // only a record cut by the end of the input is truncated
            data.truncate(data.len() - 5);
            let got = read_both(&data, Format::Warc);
            assert_eq!(ids(&got), ["u0", "BAD", "u2", "u3", "u4", "BAD"], "{len}: {got:?}");
            assert!(got[5].starts_with("BAD in:6: truncated WARC record"), "{got:?}");
        }
        // over many streamed blocks: every record after the bad one is read
        let mut data = recs[0].clone();
        data.extend(with_length(&recs[1], 1 << 40));
        for i in 0..3000 {
            data.extend(wet(&format!("v{i}"), &format!("some text of record {i}")));
        }
        assert!(data.len() > 4 * BLOCK);
        let got = read_both(&data, Format::Warc);
        assert_eq!(got.len(), 3002);
        assert_eq!(ids(&got)[..3], ["u0", "BAD", "v0"]);
        assert!(got[3001].starts_with("v2999["), "{}", got[3001]);
    }

    /// Block sizes the stream reader cuts `data` into.
    fn block_sizes(data: Vec<u8>, format: Format) -> Vec<usize> {
        Blocks::new(Box::new(std::io::Cursor::new(data)), format)
            .map(|b| match b {
                Block::Data { bytes, .. } => bytes.len(),
                Block::Failed { error, .. } => panic!("{error}"),
            })
            .collect()
    }

    #[test]
    fn streamed_warc_blocks_stay_bounded_after_bad_records() {
        // a record claiming far more than the input holds, then a long stretch
        // of garbage, each followed by many good records
        let mut data = with_length(&wet("u", "t"), 1 << 40);
        let mut want = 1;
        for part in 0..2 {
            for i in 0..2000 {
                data.extend(wet(&format!("p{part}-{i}"), &format!("some text of record {i}")));
                want += 1;
            }
            if part == 0 {
                data.extend(std::iter::repeat_n(b'g', 5 * BLOCK));
                want += 1;
            }
        }
        let sizes = block_sizes(data.clone(), Format::Warc);
        assert_eq!(sizes.iter().sum::<usize>(), data.len());
        assert!(sizes.iter().all(|&s| s <= 3 * BLOCK), "{sizes:?}");
        let got = read_both(&data, Format::Warc);
        assert_eq!(got.len(), want);
        assert_eq!(got.iter().filter(|g| g.starts_with("BAD")).count(), 2, "{:?}", &got[..3]);
    }

    #[test]
    fn warc_records_glued_to_garbage_are_found() {
        // garbage before the first record, on the same line
        let mut data = b"junk at the start ".to_vec();
        data.extend(wet("u0", "zero"));
        // garbage glued to the next record's WARC/1.1 line
        data.extend(b"garbage");
        data.extend(wet("u1", "one"));
        // binary garbage, a WARC/1.1 inside it that starts no valid header,
        // then a record glued to it
        data.extend(b"\x00\x01\xff junk WARC/1.1\r\nnot a header\r\n\r\nmore junk ");
        data.extend(wet("u2", "two"));
        data.extend(wet("u3", "three"));
        let got = read_both(&data, Format::Warc);
        assert_eq!(ids(&got), ["BAD", "u0", "BAD", "u1", "BAD", "u2", "u3"], "{got:?}");
        assert!(got[0].starts_with("BAD in:1: not a WARC record"), "{got:?}");
        // records keep their exact place
        let at = data.len() - wet("u3", "three").len();
        assert_eq!(got[6], format!("u3[{at},{}):three", data.len()));
    }

    #[test]
    fn byte_order_mark_is_not_part_of_the_first_record() {
        let bom = b"\xef\xbb\xbf";
        let data = [&bom[..], b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}\n"].concat();
        assert_eq!(read_both(&data, Format::Jsonl), ["a[3,25):x", "b[25,47):y"]);
        let data = [&bom[..], b"one\n\xef\xbb\xbftwo"].concat();
        // only the mark that starts the file is skipped
        assert_eq!(read_both(&data, Format::Lines), ["in:1[3,7):one", "in:2[7,13):\u{feff}two"]);
        let data = [&bom[..], "é text".as_bytes()].concat();
        assert_eq!(read_both(&data, Format::Text), ["in[3,10):é text"]);
        let data = [&bom[..], &wet("u", "t")[..]].concat();
        assert_eq!(read_both(&data, Format::Warc), [format!("u[3,{}):t", data.len())]);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let first = br#"{"id":"a\udc00","text":"x\ud800y"}"#;
        let second = br#"{"id":"b","text":"\ud83d\ude00 \\ud800"}"#;
        let data = [&first[..], b"\n", &second[..], b"\n"].concat();
        let got = read_both(&data, Format::Jsonl);
        let n = first.len() + 1;
        assert_eq!(
            got,
            [format!("a\u{fffd}[0,{n}):x\u{fffd}y"), format!("b[{n},{}):\u{1f600} \\ud800", data.len())]
        );
        // counted, per input
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, &data).unwrap();
        for mmap in [true, false] {
            let input = InputFile {
                path: Some(p.clone()),
                name: "s".into(),
                format: Format::Jsonl,
                compression: Compression::None,
            };
            let opts = ReadOptions { mmap, ..ReadOptions::default() };
            let kept =
                read_records(&input, &opts, false, &|t: &str| t.len(), &mut |_, _| {}, &mut |_| {}).unwrap();
            assert_eq!(kept.replaced_surrogates, 2);
        }
    }

    #[test]
    fn ids_of_every_json_type() {
        let data = br#"{"id":"s","text":"a"}
{"id":12,"text":"b"}
{"id":true,"text":"c"}
{"id":null,"text":"d"}
{"text":"e"}
{"id":{"k":1},"text":"f"}
{"id":[1],"text":"g"}
{"id":false,"text":"h"}
"#;
        let got = read_both(data, Format::Jsonl);
        assert_eq!(ids(&got), ["s", "12", "true", "in:4", "in:5", "BAD", "BAD", "false"], "{got:?}");
        assert_eq!(got[5], "BAD in:6: field `id` is an object, not a string, number or boolean");
        assert_eq!(got[6], "BAD in:7: field `id` is an array, not a string, number or boolean");
    }

    #[cfg(unix)]
    #[test]
    fn walking_skips_symlink_loops_and_dangling_links() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::write(d.join("a.jsonl"), "{}\n").unwrap();
        std::fs::write(d.join("sub/deeper/b.txt"), "x").unwrap();
        symlink(d, d.join("sub/deeper/up")).unwrap(); // to an ancestor
        symlink("self", d.join("sub/self")).unwrap(); // a loop of one link
        symlink("missing", d.join("sub/dangling")).unwrap();
        let got = expand_inputs(&[d.to_path_buf()], Format::Auto).unwrap();
        let names: Vec<PathBuf> =
            got.iter().map(|i| i.path.as_ref().unwrap().strip_prefix(d).unwrap().to_owned()).collect();
        assert_eq!(names, [PathBuf::from("a.jsonl"), PathBuf::from("sub/deeper/b.txt")]);
        // the walk through a symlink to a directory outside is still followed
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("c.txt"), "y").unwrap();
        symlink(other.path(), d.join("sub/outside")).unwrap();
        let got = expand_inputs(&[d.to_path_buf()], Format::Auto).unwrap();
        assert_eq!(got.len(), 3);
        assert!(got[2].name.ends_with("sub/outside/c.txt"), "{:?}", got[2]);
    }

    /// The portable modification time (what other platforms use) is the
    /// Unix one.
    #[cfg(unix)]
    #[test]
    fn portable_mtime_agrees_with_unix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.txt");
        std::fs::write(&p, "x").unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        assert!(portable_mtime_nanos(&meta) > 1_500_000_000_000_000_000);
        assert_eq!(portable_mtime_nanos(&meta), mtime_nanos(&meta));
        let input = InputFile {
            path: Some(p),
            name: "f".into(),
            format: Format::Text,
            compression: Compression::None,
        };
        assert_eq!(stamp(&input), (1, mtime_nanos(&meta)));
    }

    #[test]
    fn a_file_that_cannot_be_read_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jsonl"), "{\"text\":\"x\"}\n").unwrap();
        std::fs::write(dir.path().join("b.jsonl"), "{\"text\":\"y\"}\n").unwrap();
        let inputs = expand_inputs(&[dir.path().to_path_buf()], Format::Auto).unwrap();
        assert_eq!(inputs.len(), 2);
        std::fs::remove_file(dir.path().join("b.jsonl")).unwrap();
        let opts = ReadOptions::default();
        let f = |t: &str| t.len();
        assert!(read_records(&inputs[0], &opts, false, &f, &mut |_, _| {}, &mut |_| {}).is_ok());
        let err = read_records(&inputs[1], &opts, false, &f, &mut |_, _| {}, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("b.jsonl"), "{err}");
    }
}
