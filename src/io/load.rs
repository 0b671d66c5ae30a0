//! Loading a whole corpus: every input read in order, a function applied to
//! every document's text in parallel, documents and bad records collected in
//! input order, and the input bytes kept so that records can be re-read or
//! copied later. Shared by deduplication and passage finding.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{BadRecord, Error, Result};
use crate::io::read::read_input_with;
use crate::io::record::{Outcome, Record, Retained};
use crate::io::rewrite::{RecordSource, record_text};
use crate::io::{Format, InputFile, ReadOptions};

/// Where each read document's record is and what it is called, packed:
/// places in one vector, ids in one string (about 30 bytes a document
/// beside its id, where a `String` each cost twice that).
#[derive(Debug, Default)]
pub(crate) struct Docs {
    places: Vec<Place>,
    ids: String,
    id_ends: Vec<usize>,
}

/// A document's record: its input (index into [`Loaded::inputs`]) and the
/// byte range of the whole record in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub file: u32,
    pub start: u64,
    pub end: u64,
}

impl Docs {
    pub(crate) fn push(&mut self, id: &str, place: Place) {
        self.places.push(place);
        self.ids.push_str(id);
        self.id_ends.push(self.ids.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.places.len()
    }

    /// Document `d`'s place, if there is such a document.
    pub(crate) fn place(&self, d: usize) -> Option<Place> {
        self.places.get(d).copied()
    }

    /// Document `d`'s id (`d` < `len()`).
    pub(crate) fn id(&self, d: usize) -> &str {
        let start = if d == 0 { 0 } else { self.id_ends[d - 1] };
        &self.ids[start..self.id_ends[d]]
    }
}

/// A loaded corpus, without the per-document values.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub inputs: Vec<InputFile>,
    pub retained: Vec<Retained>,
    pub docs: Docs,
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
    /// Every document's keep preference, in input order, when the read
    /// options name a keep policy (see [`ReadOptions`]); else empty.
    #[serde(skip)]
    pub prefs: Vec<f64>,
    /// Documents without a usable value of the keep policy's field.
    #[serde(default)]
    pub keep_missing: u64,
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
        let (prefs, missing) = (&mut tally.prefs, &mut tally.keep_missing);
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
                        if let Some(keep) = &opts.keep {
                            if keep.field().is_some() && r.key.is_none() {
                                *missing += 1;
                            }
                            prefs.push(keep.preference(r.text_len, r.key));
                        }
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
    pub fn record(&self, d: usize) -> Option<&[u8]> {
        let doc = self.docs.place(d)?;
        let retained = &self.retained[doc.file as usize];
        (!retained.blocks.is_empty()).then(|| retained.slice(doc.start, doc.end))
    }

    /// The text of document `d`, re-read from its record.
    pub fn text(&self, d: usize, opts: &ReadOptions) -> Option<Cow<'_, str>> {
        let format = self.retained[self.docs.place(d)?.file as usize].format;
        record_text(format, opts, self.record(d)?)
    }

    /// Write a corpus of records through [`crate::io::rewrite::write_records`].
    pub fn write_records<'a>(
        &'a self,
        path: &Path,
        record: impl Fn(usize) -> Option<Result<Cow<'a, [u8]>>>,
    ) -> Result<()> {
        crate::io::rewrite::write_records(self, path, record)
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
        self.docs.places[d].file as usize
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
        (0..self.docs.len()).try_for_each(|d| f(d, self.docs.id(d)))
    }

    fn id(&self, d: usize) -> Result<Cow<'_, str>> {
        Ok(Cow::Borrowed(self.docs.id(d)))
    }
}

/// Read `inputs` in order, computing `f(text)` for every document in
/// parallel (on the caller's rayon pool). `keep` keeps the bytes of streamed
/// inputs (and of mapped ones). With `strict`, the first bad record
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
            self.loaded.docs.push(&r.id, Place { file: input as u32, start: r.start, end: r.end });
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

/// Read `inputs` as `dedup` reads them (the same records, ids, bad records
/// and failed inputs), calling `record(id, text)` for every usable record
/// in input order; nothing is kept, so memory does not grow with the
/// inputs (texts are decoded in parallel on the caller's rayon pool, a
/// block at a time). With `strict` the first bad record is the error.
pub fn for_each_record(
    inputs: &[InputFile],
    opts: &ReadOptions,
    strict: bool,
    record: &mut (dyn FnMut(&str, &str) + Send),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<StreamReport> {
    let copy = |text: &str| text.to_owned();
    let mut consume = |id: &str, text: String| record(id, &text);
    stream(inputs, opts, strict, &copy, &mut consume, progress)
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
