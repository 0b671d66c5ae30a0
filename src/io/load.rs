//! Loading a whole corpus: every input read in order, a function applied to
//! every document's text in parallel, documents and bad records collected in
//! input order, and the input bytes kept so that records can be re-read or
//! copied later. Shared by deduplication and passage finding.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{BadRecord, Error, Result};
use crate::io::input::{Outcome, Retained, read_input, record_text};
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
    pub bad: Vec<BadRecord>,
    /// Names of the inputs that could not be read to their end (truncated or
    /// corrupt; each also has a bad record with the offset).
    pub failed: Vec<String>,
    pub input_bytes: u64,
    pub text_bytes: u64,
    /// How the inputs were read (to read them again).
    pub opts: ReadOptions,
}

impl Loaded {
    /// The bytes of document `d`'s record, if its input was kept.
    pub fn record(&self, d: usize) -> Option<&[u8]> {
        let doc = self.docs.get(d)?;
        let retained = &self.retained[doc.file as usize];
        (!retained.blocks.is_empty()).then(|| retained.slice(doc.start, doc.end))
    }

    /// The text of document `d`, re-read from its record.
    pub fn text(&self, d: usize, opts: &ReadOptions) -> Option<Cow<'_, str>> {
        let format = self.retained[self.docs.get(d)?.file as usize].format;
        record_text(format, opts, self.record(d)?)
    }

    /// Write a corpus of records: `record(d)` gives each document's bytes
    /// (`None` drops it; a record whose input was not kept is an error).
    /// Line-based inputs give one file (a missing final newline is added);
    /// whole-file (text) inputs give a directory of files named after them.
    pub fn write_records<'a>(
        &'a self,
        path: &Path,
        record: impl Fn(usize) -> Option<Option<Cow<'a, [u8]>>>,
    ) -> Result<()> {
        let parquet = self.retained.iter().filter(|r| r.format == Format::Parquet).count();
        if parquet > 0 {
            if parquet < self.inputs.len() {
                return Err(Error::param(
                    "cannot write one output for a mix of Parquet and other inputs; deduplicate them separately",
                ));
            }
            return crate::io::parquet::write_kept(
                &self.inputs,
                &self.doc_ranges(),
                &self.opts,
                path,
                &self.input_paths(),
                &record,
            );
        }
        let text = self.inputs.iter().filter(|i| i.format == Format::Text).count();
        if text > 0 && text < self.inputs.len() {
            return Err(Error::param(
                "cannot write one output for a mix of whole-file (text) and line-based inputs",
            ));
        }
        let missing = || Error::param("the input records were not kept, so they cannot be written");
        if text == 0 {
            let mut out = AtomicFile::create(path, &self.input_paths())?;
            for d in 0..self.docs.len() {
                let Some(bytes) = record(d) else { continue };
                let bytes = bytes.ok_or_else(missing)?;
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
            for d in 0..self.docs.len() {
                let Some(bytes) = record(d) else { continue };
                let bytes = bytes.ok_or_else(missing)?;
                let target = tmp.join(relative_name(&self.inputs[self.docs[d].file as usize].name));
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

    /// The documents of each input, as ranges of document numbers.
    pub fn doc_ranges(&self) -> Vec<std::ops::Range<usize>> {
        group_ranges(&self.docs, self.inputs.len(), |d| d.file as usize)
    }

    /// The format of document `d`'s input (resolved).
    pub fn format(&self, d: usize) -> Format {
        self.retained[self.docs[d].file as usize].format
    }

    /// Paths of the inputs (outputs must not replace them).
    pub fn input_paths(&self) -> Vec<PathBuf> {
        self.inputs.iter().filter_map(|i| i.path.clone()).collect()
    }
}

/// The ranges of `items` (in input order) that belong to each of `inputs`
/// inputs, `input(item)` naming an item's input.
pub(crate) fn group_ranges<T>(
    items: &[T],
    inputs: usize,
    input: impl Fn(&T) -> usize,
) -> Vec<std::ops::Range<usize>> {
    let mut at = 0;
    (0..inputs)
        .map(|i| {
            let n = items[at..].partition_point(|x| input(x) == i);
            at += n;
            at - n..at
        })
        .collect()
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
    let mut loaded = Loaded { inputs: inputs.to_vec(), opts: opts.clone(), ..Loaded::default() };
    let mut done = 0u64;
    for (fi, input) in inputs.iter().enumerate() {
        let from = loaded.bad.len();
        let retained = read_input(input, opts, keep, f, &mut |o, bytes| {
            done += bytes;
            match o {
                Outcome::Doc(r) => {
                    loaded.text_bytes += r.text_len;
                    loaded.docs.push(DocInfo { id: r.id, file: fi as u32, start: r.start, end: r.end });
                    consume(r.value);
                }
                Outcome::Bad(b) => loaded.bad.push(b),
            }
            progress(done);
        })?;
        end_input(input, &retained, strict, &loaded.bad[from..], &mut loaded.failed)?;
        loaded.input_bytes += retained.len;
        loaded.retained.push(retained);
    }
    Ok(loaded)
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
    let mut report = StreamReport::default();
    let bad = &mut report.bad;
    let mut done = 0u64;
    for input in inputs {
        let from = bad.len();
        let retained = read_input(input, opts, false, f, &mut |o, bytes| {
            done += bytes;
            match o {
                // with strict, nothing after the first bad record is used
                Outcome::Doc(r) if !(strict && bad.len() > from) => consume(&r.id, r.value),
                Outcome::Doc(_) => {}
                Outcome::Bad(b) => bad.push(b),
            }
            progress(done);
        })?;
        end_input(input, &retained, strict, &bad[from..], &mut report.failed)?;
    }
    Ok(report)
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
    Ok((texts, loaded.bad))
}
