//! Loading a whole corpus: every input read in order, a function applied to
//! every document's text in parallel, documents and bad records collected in
//! input order, and the input bytes kept so that records can be re-read or
//! copied later. Shared by deduplication and passage finding.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{BadRecord, Error, Result};
use crate::io::input::{Outcome, Record, Retained, read_input_with, record_text};
use crate::io::{AtomicFile, Format, InputFile, ReadOptions};

/// Where one document came from.
#[derive(Debug)]
pub(crate) struct DocInfo {
    pub id: String,
    /// Index into [`Loaded::inputs`].
    pub file: u32,
    /// Byte range of the whole record in its input.
    pub start: u64,
    pub end: u64,
}

/// A loaded corpus, without the per-document values.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub inputs: Vec<InputFile>,
    pub retained: Vec<Retained>,
    pub docs: Vec<DocInfo>,
    /// Bad records, failed inputs, bytes read.
    pub tally: Tally,
    /// How the inputs were read (to read them again).
    pub opts: ReadOptions,
}

/// What reading left to report, the same for every reader.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Tally {
    /// Records that could not be used, in input order.
    pub bad: Vec<BadRecord>,
    /// Names of the inputs that could not be read to their end (truncated or
    /// corrupt; each also has a bad record with the offset).
    pub failed: Vec<String>,
    /// Bytes of input read.
    pub input_bytes: u64,
    /// Bytes of document text.
    pub text_bytes: u64,
}

/// What a reader hands every document, every streamed block and every
/// finished input to, in input order.
pub(crate) trait Sink<T> {
    /// A usable record of input `input`.
    fn doc(&mut self, input: usize, rec: Record<T>) -> Result<()>;
    /// A streamed block of whole records of input `input`, after its
    /// records were handed over (memory-mapped inputs are not streamed).
    fn block(&mut self, _input: usize, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Input `input` was read; its bytes, when they were kept.
    fn end(&mut self, _input: usize, _retained: Retained) -> Result<()> {
        Ok(())
    }
}

/// Read `inputs` in order, computing `f(text)` for every document in
/// parallel (on the caller's rayon pool) and handing the results to `sink`
/// in input order: the one reader loop behind loading, streaming, spilling
/// and signing. Bad records are collected; with `strict`, the first one is
/// the error (and nothing after it is handed over). The first error of the
/// sink stops the input and is returned. `keep` keeps the bytes of streamed
/// inputs (memory maps are always kept). `progress` gets the bytes read.
pub(crate) fn read_all<T: Send>(
    inputs: &[InputFile],
    opts: &ReadOptions,
    keep: bool,
    strict: bool,
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl Sink<T>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tally> {
    let mut tally = Tally::default();
    let mut done = 0u64;
    for (fi, input) in inputs.iter().enumerate() {
        let from = tally.bad.len();
        let failure: std::cell::RefCell<Option<Error>> = std::cell::RefCell::new(None);
        let shared = std::cell::RefCell::new(&mut *sink);
        let (bad, text_bytes) = (&mut tally.bad, &mut tally.text_bytes);
        let retained = read_input_with(
            input,
            opts,
            keep,
            f,
            &mut |o, bytes| {
                done += bytes;
                match o {
                    // with strict, nothing after the first bad record is used
                    Outcome::Doc(r) if failure.borrow().is_none() && !(strict && bad.len() > from) => {
                        *text_bytes += r.text_len;
                        if let Err(e) = shared.borrow_mut().doc(fi, r) {
                            failure.borrow_mut().get_or_insert(e);
                        }
                    }
                    Outcome::Doc(_) => {}
                    Outcome::Bad(b) => bad.push(b),
                }
                progress(done);
            },
            &mut |block| {
                if failure.borrow().is_none() {
                    if let Err(e) = shared.borrow_mut().block(fi, block) {
                        failure.borrow_mut().get_or_insert(e);
                    }
                }
            },
        )?;
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        end_input(input, &retained, strict, &tally.bad[from..], &mut tally.failed)?;
        tally.input_bytes += retained.len;
        sink.end(fi, retained)?;
    }
    Ok(tally)
}

impl Loaded {
    /// The bytes of document `d`'s record, if its input was kept.
    pub(crate) fn record(&self, d: usize) -> Option<&[u8]> {
        let doc = self.docs.get(d)?;
        let retained = &self.retained[doc.file as usize];
        (!retained.blocks.is_empty()).then(|| retained.slice(doc.start, doc.end))
    }

    /// The text of document `d`, re-read from its record.
    pub(crate) fn text(&self, d: usize, opts: &ReadOptions) -> Option<Cow<'_, str>> {
        let format = self.retained[self.docs.get(d)?.file as usize].format;
        record_text(format, opts, self.record(d)?)
    }

    /// Write a corpus of records through [`write_records`].
    pub(crate) fn write_records<'a>(
        &'a self,
        path: &Path,
        record: impl Fn(usize) -> Option<Result<Cow<'a, [u8]>>>,
    ) -> Result<()> {
        write_records(self, path, record)
    }

    /// The format of document `d`'s input (resolved).
    pub(crate) fn format(&self, d: usize) -> Format {
        self.retained[self.docs[d].file as usize].format
    }
}

/// Where the records of a read corpus can be read again: the loaded inputs,
/// or the inputs and their copies in a work directory. Documents are
/// numbered in input order.
pub(crate) trait RecordSource: Sync {
    /// The inputs.
    fn inputs(&self) -> &[InputFile];
    /// How they were read.
    fn opts(&self) -> &ReadOptions;
    /// Number of documents.
    fn len(&self) -> usize;
    /// The input document `d` came from.
    fn input_of(&self, d: usize) -> usize;
    /// The resolved format of input `input`.
    fn format_of(&self, input: usize) -> Format;
    /// The bytes of document `d`'s record.
    fn record(&self, d: usize) -> Result<Cow<'_, [u8]>>;

    /// The documents of each input, as ranges of document numbers.
    fn doc_ranges(&self) -> Vec<std::ops::Range<usize>> {
        let n = self.len();
        let mut at = 0;
        (0..self.inputs().len())
            .map(|i| {
                // documents are in input order: the first past input `i`
                let (mut lo, mut hi) = (at, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if self.input_of(mid) <= i { lo = mid + 1 } else { hi = mid }
                }
                let r = at..lo;
                at = lo;
                r
            })
            .collect()
    }

    /// Paths of the inputs (outputs must not replace them).
    fn input_paths(&self) -> Vec<PathBuf> {
        self.inputs().iter().filter_map(|i| i.path.clone()).collect()
    }
}

/// The ids of a read corpus, wherever they are kept.
pub(crate) trait Ids {
    /// Call `f(d, id)` for every document, in order.
    fn for_each_id(&self, f: &mut dyn FnMut(usize, &str) -> Result<()>) -> Result<()>;
    /// The id of document `d`.
    fn id(&self, d: usize) -> Result<Cow<'_, str>>;
}

impl RecordSource for Loaded {
    fn inputs(&self) -> &[InputFile] {
        &self.inputs
    }

    fn opts(&self) -> &ReadOptions {
        &self.opts
    }

    fn len(&self) -> usize {
        self.docs.len()
    }

    fn input_of(&self, d: usize) -> usize {
        self.docs[d].file as usize
    }

    fn format_of(&self, input: usize) -> Format {
        self.retained[input].format
    }

    fn record(&self, d: usize) -> Result<Cow<'_, [u8]>> {
        Loaded::record(self, d).map(Cow::Borrowed).ok_or_else(|| {
            Error::Internal("the input records were not kept, so they cannot be read again".into())
        })
    }
}

impl Ids for Loaded {
    fn for_each_id(&self, f: &mut dyn FnMut(usize, &str) -> Result<()>) -> Result<()> {
        self.docs.iter().enumerate().try_for_each(|(d, doc)| f(d, &doc.id))
    }

    fn id(&self, d: usize) -> Result<Cow<'_, str>> {
        Ok(Cow::Borrowed(&self.docs[d].id))
    }
}

/// Write a corpus of records: `record(d)` gives each document's bytes
/// (`None` drops it). Line-based inputs give one file (a missing final
/// newline is added); whole-file (text) inputs give a directory of files
/// named after them; Parquet inputs give one Parquet file of the kept rows,
/// in the inputs' schema.
pub(crate) fn write_records<'a, R: RecordSource + ?Sized>(
    src: &'a R,
    path: &Path,
    record: impl Fn(usize) -> Option<Result<Cow<'a, [u8]>>>,
) -> Result<()> {
    let inputs = src.inputs();
    let formats: Vec<Format> = (0..inputs.len()).map(|i| src.format_of(i)).collect();
    let protect = src.input_paths();
    let parquet = formats.iter().filter(|&&f| f == Format::Parquet).count();
    if parquet > 0 {
        if parquet < inputs.len() {
            return Err(Error::Unsupported(
                "one output for a mix of Parquet and other inputs; deduplicate them separately".into(),
            ));
        }
        // the Parquet writer takes records or nothing: keep the first error
        let failure: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
        let adapted = |d: usize| -> Option<Option<Cow<'a, [u8]>>> {
            match record(d)? {
                Ok(bytes) => Some(Some(bytes)),
                Err(e) => {
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert(e);
                    }
                    Some(None)
                }
            }
        };
        let written =
            crate::io::parquet::write_kept(inputs, &src.doc_ranges(), src.opts(), path, &protect, &adapted);
        if let Some(e) = failure.into_inner().ok().flatten() {
            return Err(e);
        }
        return written;
    }
    let text = formats.iter().filter(|&&f| f == Format::Text || f == Format::Auto).count();
    if text > 0 && text < inputs.len() {
        return Err(Error::Unsupported(
            "one output for a mix of whole-file (text) and line-based inputs".into(),
        ));
    }
    if text == 0 {
        let mut out = AtomicFile::create(path, &protect)?;
        for d in 0..src.len() {
            let Some(bytes) = record(d) else { continue };
            let bytes = bytes?;
            out.write_all(&bytes)?;
            if bytes.last() != Some(&b'\n') {
                out.write_all(b"\n")?;
            }
        }
        return out.commit();
    }
    // a directory of files, built beside the target and renamed
    if path.exists() {
        return Err(Error::param(format!("output directory {} already exists", path.display())));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.neardup-tmp-{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        for d in 0..src.len() {
            let Some(bytes) = record(d) else { continue };
            let bytes = bytes?;
            let target = tmp.join(relative_name(&inputs[src.input_of(d)].name));
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&target, &bytes).map_err(|e| Error::io(&target, e))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
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

/// Read `inputs` in order, computing `f(text)` for every document in
/// parallel (on the caller's rayon pool). `keep` keeps the bytes of streamed
/// inputs (memory maps are always kept). With `strict`, the first bad record
/// is an error.
pub(crate) fn load<T: Send>(
    inputs: &[InputFile],
    opts: &ReadOptions,
    keep: bool,
    strict: bool,
    f: &(impl Fn(&str) -> T + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Loaded, Vec<T>)> {
    let mut values = Vec::new();
    let loaded = load_into(inputs, opts, keep, strict, f, &mut |v| values.push(v), progress)?;
    Ok((loaded, values))
}

/// As [`load`], handing each document's value to `consume` in input order
/// as soon as its block is parsed (so the values need not all be held).
pub(crate) fn load_into<T: Send>(
    inputs: &[InputFile],
    opts: &ReadOptions,
    keep: bool,
    strict: bool,
    f: &(impl Fn(&str) -> T + Sync),
    consume: &mut impl FnMut(T),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Loaded> {
    struct Collect<'a, C> {
        loaded: Loaded,
        consume: &'a mut C,
    }
    impl<T, C: FnMut(T)> Sink<T> for Collect<'_, C> {
        fn doc(&mut self, input: usize, r: Record<T>) -> Result<()> {
            self.loaded.docs.push(DocInfo { id: r.id, file: input as u32, start: r.start, end: r.end });
            (self.consume)(r.value);
            Ok(())
        }
        fn end(&mut self, _: usize, retained: Retained) -> Result<()> {
            self.loaded.retained.push(retained);
            Ok(())
        }
    }
    let loaded = Loaded { inputs: inputs.to_vec(), opts: opts.clone(), ..Loaded::default() };
    let mut into = Collect { loaded, consume };
    let tally = read_all(inputs, opts, keep, strict, f, &mut into, progress)?;
    into.loaded.tally = tally;
    Ok(into.loaded)
}

/// What streaming inputs left to report.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct StreamReport {
    /// Records that could not be used.
    pub bad: Vec<BadRecord>,
    /// Inputs that could not be read to their end (truncated or corrupt;
    /// each also has a bad record with the offset).
    pub failed: Vec<String>,
}

/// Stream `inputs` without keeping them: `f(text)` runs in parallel (on the
/// caller's rayon pool) and `consume(id, value)` in input order, block by
/// block, so memory does not grow with the corpus. Returns the bad records
/// and failed inputs; with `strict`, the first bad record is an error.
pub(crate) fn stream<T: Send>(
    inputs: &[InputFile],
    opts: &ReadOptions,
    strict: bool,
    f: &(impl Fn(&str) -> T + Sync),
    consume: &mut impl FnMut(&str, T),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<StreamReport> {
    struct Consume<'a, C>(&'a mut C);
    impl<T, C: FnMut(&str, T)> Sink<T> for Consume<'_, C> {
        fn doc(&mut self, _: usize, r: Record<T>) -> Result<()> {
            (self.0)(&r.id, r.value);
            Ok(())
        }
    }
    let tally = read_all(inputs, opts, false, strict, f, &mut Consume(consume), progress)?;
    Ok(StreamReport { bad: tally.bad, failed: tally.failed })
}

/// What every reader does after an input: with `strict`, the first of the
/// input's bad records (`bad`) is the error; an input that could not be read
/// to its end joins `failed`.
pub(crate) fn end_input(
    input: &InputFile,
    retained: &Retained,
    strict: bool,
    bad: &[BadRecord],
    failed: &mut Vec<String>,
) -> Result<()> {
    if let (true, Some(b)) = (strict, bad.first()) {
        return Err(Error::BadRecord(b.clone()));
    }
    if retained.failed {
        failed.push(input.name.clone());
    }
    Ok(())
}

/// Read the texts of `inputs` (for tools that need the texts themselves,
/// such as the corpus generator), with the records that could not be used.
pub fn read_texts(inputs: &[InputFile], opts: &ReadOptions) -> Result<(Vec<String>, Vec<BadRecord>)> {
    let (loaded, texts) = load(inputs, opts, false, false, &|t: &str| t.to_owned(), &|_| {})?;
    Ok((texts, loaded.tally.bad))
}
