//! Records read again and rewritten: the text of a record from its bytes,
//! a record with spans cut from its text (every format keeps its other
//! bytes), and a corpus of kept or rewritten records written in the inputs'
//! format. Callers (dedup, passages, the stages) know no file format.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::json::parse_record;
use crate::io::output::AtomicFile;
use crate::io::record::{Format, InputFile, ReadOptions};
use crate::io::warc;

/// The text of one record, re-read from its bytes (as returned in
/// [`Record::start`]..[`Record::end`]). `None` if it no longer parses.
pub(crate) fn record_text<'a>(format: Format, opts: &ReadOptions, rec: &'a [u8]) -> Option<Cow<'a, str>> {
    if matches!(format, Format::Text | Format::Auto | Format::Parquet) {
        // a Parquet record is its text
        return std::str::from_utf8(rec).ok().map(Cow::Borrowed);
    }
    if format == Format::Warc {
        return warc::record(rec).and_then(|h| warc::record_text(rec, &h).ok().flatten());
    }
    let mut body = rec.strip_suffix(b"\n").unwrap_or(rec);
    body = body.strip_suffix(b"\r").unwrap_or(body);
    match format {
        Format::Lines => std::str::from_utf8(body).ok().map(Cow::Borrowed),
        _ => parse_record(body, &opts.text_field, None, None).ok()?.text?.ok(),
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
    /// A hint that the records of `docs` are read soon: a source on disk
    /// starts their reads now, all at once (a disk serves a deep queue of
    /// reads several times faster than one read at a time). It changes
    /// nothing but speed.
    fn prefetch(&self, _docs: &[u32]) {}

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

/// Document `d`'s record with the byte ranges `cut` of its text removed,
/// in its input's format (see [`strip_record`]).
pub(crate) fn stripped<'a, R: RecordSource + ?Sized>(
    src: &'a R,
    d: usize,
    cut: &[(usize, usize)],
) -> Result<Cow<'a, [u8]>> {
    let input = src.input_of(d);
    let record = src.record(d)?;
    strip_record(src.format_of(input), src.opts(), &record, cut).map(Cow::Owned).ok_or_else(|| {
        Error::Corrupt {
            path: src.inputs()[input].name.clone().into(),
            reason: format!("document {} no longer parses: the input changed while it was read", d + 1),
        }
    })
}

/// `text` without the byte ranges `cut` (sorted, disjoint, on chunk bounds).
fn cut_text(text: &str, cut: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e) in cut {
        out.push_str(&text[at..s]);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// One record with the ranges `cut` removed from its text.
fn strip_record(
    format: Format,
    opts: &ReadOptions,
    record: &[u8],
    cut: &[(usize, usize)],
) -> Option<Vec<u8>> {
    let newline = record.strip_suffix(b"\n").map_or(0, |_| 1);
    let body = &record[..record.len() - newline];
    let crlf = body.strip_suffix(b"\r").map_or(0, |_| 1);
    let body = &body[..body.len() - crlf];
    let mut out = match format {
        // a Parquet record is its text; the writer puts it back in its row
        Format::Text | Format::Auto | Format::Parquet => {
            return Some(cut_text(std::str::from_utf8(record).ok()?, cut).into_bytes());
        }
        Format::Lines => cut_text(std::str::from_utf8(body).ok()?, cut).into_bytes(),
        Format::Warc => {
            // the spans index the extracted text: the record becomes a
            // conversion record of what is left
            let text = record_text(format, opts, record)?;
            return crate::io::warc::as_conversion(record, &cut_text(&text, cut));
        }
        _ => {
            let (text, at) = crate::io::json::raw_field(body, &opts.text_field)?;
            let new = serde_json::to_string(&cut_text(&text, cut)).ok()?;
            let mut v = Vec::with_capacity(body.len());
            v.extend_from_slice(&body[..at.start]);
            v.extend_from_slice(new.as_bytes());
            v.extend_from_slice(&body[at.end..]);
            v
        }
    };
    out.extend_from_slice(&record[record.len() - newline - crlf..]);
    Some(out)
}
