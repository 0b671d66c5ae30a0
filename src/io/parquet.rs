//! Parquet: documents from a text column, read row group by row group, and
//! the Parquet outputs: kept rows in the input's own schema, and flat tables
//! (clusters, passages, stage files) written through [`Table`].
//!
//! A Parquet input is turned into the same shape as a streamed text input:
//! its documents' texts, concatenated, are the input's "bytes", and a
//! record's range is its text. Everything that re-reads records (exact
//! checks, spilling, passages) works unchanged; writing kept records goes
//! back to the file and filters its rows, so every other column survives.

use std::borrow::Cow;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::BooleanBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, LargeBinaryArray, LargeStringArray,
    RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::error::{BadRecord, Error, Result};
use crate::io::output::AtomicFile;
use crate::io::record::{
    BLOCK, Bytes, Compression, Format, InputFile, Outcome, ReadOptions, Record, Retained, key_value,
    parquet_err,
};

/// Rows decoded per batch.
const BATCH_ROWS: usize = 8192;

/// An open Parquet input: its metadata and the text and id columns.
struct Source {
    file: File,
    meta: ArrowReaderMetadata,
    text: String,
    /// The id column, when the file has one.
    id: Option<String>,
    /// The keep policy's column, when the file has one.
    key: Option<String>,
    /// The projection that reads just those columns.
    mask: ProjectionMask,
}

fn open(path: &Path, opts: &ReadOptions) -> std::result::Result<Source, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let schema = meta.schema();
    let names = || schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ");
    let text_idx = schema
        .index_of(&opts.text_field)
        .map_err(|_| format!("no column `{}` (columns: {}) for the text", opts.text_field, names()))?;
    let text_type = schema.field(text_idx).data_type();
    if !is_text_type(text_type) {
        return Err(format!("column `{}` is {text_type}, not a string", opts.text_field));
    }
    let id_idx = opts.id_field.as_deref().and_then(|f| schema.index_of(f).ok());
    if let Some(i) = id_idx {
        let t = schema.field(i).data_type();
        if !is_text_type(t) && !is_integer_type(t) {
            return Err(format!(
                "column `{}` is {t}; ids must be strings or integers",
                schema.field(i).name()
            ));
        }
    }
    // the keep policy's column, when the file has it (rows without it come last)
    let key_idx = opts.keep.as_ref().and_then(|k| k.field()).and_then(|f| schema.index_of(f).ok());
    let mask =
        ProjectionMask::roots(meta.parquet_schema(), [Some(text_idx), id_idx, key_idx].into_iter().flatten());
    Ok(Source {
        file,
        text: opts.text_field.clone(),
        id: id_idx.map(|i| schema.field(i).name().clone()),
        key: key_idx.map(|i| schema.field(i).name().clone()),
        meta,
        mask,
    })
}

/// The batches of row group `rg` (the columns of `mask`, else all), and why
/// decoding stopped early. A panic inside the decoder (a malformed file can
/// cause one) is caught and loses the row group, the same way for reading
/// and for writing kept rows.
fn decode(
    src: &Source,
    path: &Path,
    rg: usize,
    mask: Option<&ProjectionMask>,
) -> Result<(Vec<RecordBatch>, Option<String>)> {
    let file = src.file.try_clone().map_err(|e| Error::io(path, e))?;
    let run = || {
        let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, src.meta.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(BATCH_ROWS);
        if let Some(m) = mask {
            b = b.with_projection(m.clone());
        }
        let mut out = Vec::new();
        let reader = match b.build() {
            Ok(r) => r,
            Err(e) => return (out, Some(e.to_string())),
        };
        for batch in reader {
            match batch {
                Ok(b) => out.push(b),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
        (out, None)
    };
    Ok(std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|_| (Vec::new(), Some("the Parquet decoder failed on this row group".into()))))
}

fn is_text_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

fn is_integer_type(t: &DataType) -> bool {
    matches!(t, DataType::Int32 | DataType::Int64 | DataType::UInt32 | DataType::UInt64)
}

/// The text of row `i`: `Ok(None)` when null, `Err` when not UTF-8.
fn text_at(col: &dyn Array, i: usize) -> std::result::Result<Option<&str>, String> {
    if col.is_null(i) {
        return Ok(None);
    }
    let bytes: &[u8] = match col.data_type() {
        DataType::Utf8 => return Ok(Some(col.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => return Ok(Some(col.as_string::<i64>().value(i))),
        DataType::Utf8View => return Ok(Some(col.as_string_view().value(i))),
        DataType::Binary => col.as_binary::<i32>().value(i),
        DataType::LargeBinary => col.as_binary::<i64>().value(i),
        DataType::BinaryView => col.as_binary_view().value(i),
        t => return Err(format!("a {t} column holds no text")),
    };
    std::str::from_utf8(bytes).map(Some).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
}

/// The id of row `i`, `None` when null.
fn id_at(col: &dyn Array, i: usize) -> Option<String> {
    if col.is_null(i) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Int32 => col.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::UInt32 => col.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::UInt64 => col.as_primitive::<UInt64Type>().value(i).to_string(),
        _ => text_at(col, i).ok()??.to_owned(),
    })
}

/// The keep value of row `i`: a number, a timestamp (as seconds since the
/// epoch), or a string that reads as one; `None` when null or neither.
fn key_at(col: &dyn Array, i: usize) -> Option<f64> {
    use arrow_array::types::{
        Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, TimestampMicrosecondType,
        TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    };
    use arrow_schema::TimeUnit;
    if col.is_null(i) {
        return None;
    }
    let v = match col.data_type() {
        DataType::Float64 => col.as_primitive::<Float64Type>().value(i),
        DataType::Float32 => f64::from(col.as_primitive::<Float32Type>().value(i)),
        DataType::Int8 => f64::from(col.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => f64::from(col.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => f64::from(col.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(i) as f64,
        DataType::UInt8 => f64::from(col.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => f64::from(col.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => f64::from(col.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => col.as_primitive::<UInt64Type>().value(i) as f64,
        DataType::Date32 => f64::from(col.as_primitive::<Date32Type>().value(i)) * 86_400.0,
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => col.as_primitive::<TimestampSecondType>().value(i) as f64,
            TimeUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().value(i) as f64 / 1e3,
            TimeUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().value(i) as f64 / 1e6,
            TimeUnit::Nanosecond => col.as_primitive::<TimestampNanosecondType>().value(i) as f64 / 1e9,
        },
        DataType::Boolean => f64::from(u8::from(col.as_boolean().value(i))),
        _ => return text_at(col, i).ok()?.and_then(key_value),
    };
    v.is_finite().then_some(v)
}

/// Whether a row is a document, by the one rule reading and writing share.
fn row_is_doc(col: &dyn Array, i: usize) -> bool {
    matches!(text_at(col, i), Ok(Some(_)))
}

/// Why a row is not a document.
fn row_problem(text_field: &str, col: &dyn Array, i: usize) -> String {
    match text_at(col, i) {
        Ok(None) => format!("field `{text_field}` is null"),
        Err(e) => format!("field `{text_field}`: {e}"),
        Ok(Some(_)) => String::new(),
    }
}

fn check_plain(input: &InputFile, path: &Path) -> Result<()> {
    if input.compression != Compression::None {
        return Err(Error::param(format!(
            "{}: a compressed Parquet file cannot be read; Parquet compresses its own pages, so decompress it first",
            path.display()
        )));
    }
    Ok(())
}

/// One row waiting for its block to be sketched.
enum Pending {
    Doc { id: String, text: Range<usize>, key: Option<f64> },
    Bad(BadRecord),
}

/// Read a Parquet input: rows in order, row group by row group, texts
/// sketched in parallel blocks of about [`BLOCK`] bytes. A file that cannot
/// be opened, or a row group that cannot be decoded, is a bad record and
/// marks the input failed; the other row groups are still read.
pub(crate) fn read<T: Send>(
    input: &InputFile,
    opts: &ReadOptions,
    keep: bool,
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl FnMut(Outcome<T>, u64),
    on_block: &mut dyn FnMut(&[u8]),
) -> Result<Retained> {
    let path = input.path.as_deref().ok_or_else(|| {
        Error::Unsupported("Parquet from standard input (it is read from its footer); name the file".into())
    })?;
    check_plain(input, path)?;
    let mut retained = Retained { format: Format::Parquet, ..Retained::default() };
    let bad = |line: u64, reason: String| BadRecord { file: input.name.clone(), line, reason };
    let opened = std::panic::catch_unwind(|| open(path, opts))
        .unwrap_or_else(|_| Err("not a readable Parquet file: the reader failed on its footer".into()));
    let src = match opened {
        Ok(s) => s,
        Err(reason) => {
            // the file as a whole (line 0)
            retained.failed = true;
            sink(Outcome::Bad(bad(0, reason)), 0);
            return Ok(retained);
        }
    };
    let mut out = Blocker { block: Vec::new(), pending: Vec::new(), offset: 0 };
    let mut first_row = 0u64;
    let groups = src.meta.metadata().num_row_groups();
    // a decoder thread decompresses the next row group while this one
    // sketches the current one
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let src = &src;
        scope.spawn(move || {
            for rg in 0..groups {
                if tx.send((rg, decode(src, path, rg, Some(&src.mask)))).is_err() {
                    break;
                }
            }
        });
        for (rg, decoded) in rx {
            let rows = src.meta.metadata().row_group(rg).num_rows() as u64;
            let mut row = first_row;
            let (batches, mut failure) = decoded?;
            for batch in batches {
                let text = batch.column_by_name(&src.text).map(Arc::clone);
                let id = src.id.as_deref().and_then(|n| batch.column_by_name(n)).map(Arc::clone);
                let key = src.key.as_deref().and_then(|n| batch.column_by_name(n)).map(Arc::clone);
                let Some(text) = text else {
                    failure = Some(format!("column `{}` missing from the batch", src.text));
                    break;
                };
                for i in 0..batch.num_rows() {
                    row += 1;
                    match text_at(&text, i) {
                        Ok(Some(t)) => {
                            let id = id
                                .as_ref()
                                .and_then(|c| id_at(c, i))
                                .unwrap_or_else(|| format!("{}:{row}", input.name));
                            let start = out.block.len();
                            out.block.extend_from_slice(t.as_bytes());
                            let key = key.as_ref().and_then(|c| key_at(c, i));
                            out.pending.push(Pending::Doc { id, text: start..out.block.len(), key });
                        }
                        _ => out.pending.push(Pending::Bad(bad(row, row_problem(&src.text, &text, i)))),
                    }
                    if out.block.len() >= BLOCK {
                        out.flush(keep, f, sink, on_block, &mut retained);
                    }
                }
            }
            if let Some(e) = failure {
                retained.failed = true;
                let reason = format!(
                    "row group {rg} (rows {}..={}) could not be decoded after row {row}: {e}; its remaining \
                     rows skipped",
                    first_row + 1,
                    first_row + rows
                );
                out.pending.push(Pending::Bad(bad(row + 1, reason)));
            }
            first_row += rows;
        }
        Ok(())
    })?;
    out.flush(keep, f, sink, on_block, &mut retained);
    retained.len = out.offset;
    Ok(retained)
}

/// Gathers rows into blocks of text.
struct Blocker {
    block: Vec<u8>,
    pending: Vec<Pending>,
    /// Offset of `block` in the input's text stream.
    offset: u64,
}

impl Blocker {
    fn flush<T: Send>(
        &mut self,
        keep: bool,
        f: &(impl Fn(&str) -> T + Sync),
        sink: &mut impl FnMut(Outcome<T>, u64),
        on_block: &mut dyn FnMut(&[u8]),
        retained: &mut Retained,
    ) {
        if self.pending.is_empty() {
            return;
        }
        let block = std::mem::take(&mut self.block);
        let values: Vec<Option<T>> = self
            .pending
            .par_iter()
            .map(|p| match p {
                // valid UTF-8: checked when the row was added
                Pending::Doc { text, .. } => std::str::from_utf8(&block[text.clone()]).ok().map(f),
                Pending::Bad(_) => None,
            })
            .collect();
        for (p, value) in self.pending.drain(..).zip(values) {
            match (p, value) {
                (Pending::Doc { id, text, key }, Some(value)) => {
                    let len = (text.end - text.start) as u64;
                    sink(
                        Outcome::Doc(Record {
                            id,
                            start: self.offset + text.start as u64,
                            end: self.offset + text.end as u64,
                            text_len: len,
                            key,
                            value,
                        }),
                        len,
                    );
                }
                (Pending::Bad(b), _) => sink(Outcome::Bad(b), 0),
                (Pending::Doc { .. }, None) => {}
            }
        }
        on_block(&block);
        let len = block.len() as u64;
        if keep {
            retained.blocks.push((self.offset, Bytes::Owned(block)));
        }
        self.offset += len;
    }
}

/// Write the kept rows of Parquet `inputs` into one Parquet file with the
/// first readable input's schema (every input must have the same columns)
/// and its compression codec; an input that could not be opened when read
/// (it has no documents) is skipped. `docs[i]` is the range of document numbers of input
/// `i`, in row order; `record(d)` is `None` to drop document `d`, `Some`
/// with its text (the record bytes) to keep it: a different text replaces
/// the row's text (stripped passages). Rows that were not documents (null
/// text) are dropped, as bad records are from other formats.
pub(crate) fn write_kept<'a>(
    inputs: &[InputFile],
    docs: &[Range<usize>],
    opts: &ReadOptions,
    path: &Path,
    protect: &[PathBuf],
    record: &dyn Fn(usize) -> Option<Option<Cow<'a, [u8]>>>,
) -> Result<()> {
    let missing = || Error::Internal("the input records were not kept, so they cannot be written".into());
    let mut writer: Option<(ArrowWriter<AtomicFile>, SchemaRef, String)> = None;
    for (input, range) in inputs.iter().zip(docs) {
        let src_path =
            input.path.as_deref().ok_or_else(|| Error::Internal("a Parquet input without a path".into()))?;
        let opened = std::panic::catch_unwind(|| open(src_path, opts))
            .unwrap_or_else(|_| Err("not a readable Parquet file: the reader failed on its footer".into()));
        let src = match opened {
            Ok(s) => s,
            // a damaged input (no such column, an unreadable footer) was
            // reported when it was read and gave no documents: it gives no
            // rows, and the other inputs are written
            Err(_) if range.is_empty() => continue,
            Err(reason) => return Err(parquet_err(src_path, reason)),
        };
        let schema = src.meta.schema().clone();
        if writer.is_none() {
            let md = src.meta.metadata();
            let codec = if md.num_row_groups() > 0 && md.row_group(0).num_columns() > 0 {
                md.row_group(0).column(0).compression()
            } else {
                parquet::basic::Compression::SNAPPY
            };
            let props = WriterProperties::builder().set_compression(codec).build();
            let file = AtomicFile::create_raw(path, protect)?;
            let w = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))
                .map_err(|e| parquet_err(path, e))?;
            writer = Some((w, schema.clone(), input.name.clone()));
        }
        let Some((w, out_schema, first)) = writer.as_mut() else { unreachable!("set above") };
        if out_schema.fields() != schema.fields() {
            return Err(Error::param(format!(
                "cannot write one Parquet output from inputs with different columns: {first} and {}",
                input.name
            )));
        }
        let text_idx = schema.index_of(&src.text).map_err(|e| parquet_err(src_path, e))?;
        let mut d = range.start;
        for rg in 0..src.meta.metadata().num_row_groups() {
            // a row group that failed to decode when read is skipped the
            // same way here (its rows up to the error were documents)
            let (batches, _) = decode(&src, src_path, rg, None)?;
            for batch in batches {
                let text = &Arc::clone(batch.column(text_idx));
                let mut keep = BooleanBuilder::with_capacity(batch.num_rows());
                let mut replaced: Vec<Option<Vec<u8>>> = Vec::new();
                for i in 0..batch.num_rows() {
                    if !row_is_doc(text, i) {
                        keep.append_value(false);
                        continue;
                    }
                    if d >= range.end {
                        return Err(parquet_err(src_path, "the file has more rows than when it was read"));
                    }
                    match record(d) {
                        None => keep.append_value(false),
                        Some(bytes) => {
                            let bytes = bytes.ok_or_else(missing)?;
                            keep.append_value(true);
                            let same =
                                text_at(text, i).ok().flatten().is_some_and(|t| t.as_bytes() == &*bytes);
                            if !same {
                                replaced.resize(i, None);
                                replaced.push(Some(bytes.into_owned()));
                            }
                        }
                    }
                    d += 1;
                }
                let mut batch = batch;
                if !replaced.is_empty() {
                    replaced.resize(batch.num_rows(), None);
                    let col = replace_texts(text, &replaced);
                    let mut cols = batch.columns().to_vec();
                    cols[text_idx] = col;
                    batch = RecordBatch::try_new(batch.schema(), cols).map_err(|e| parquet_err(path, e))?;
                }
                let mask: BooleanArray = keep.finish();
                let kept = arrow_select::filter::filter_record_batch(&batch, &mask)
                    .map_err(|e| parquet_err(path, e))?;
                if kept.num_rows() > 0 {
                    w.write(&kept).map_err(|e| parquet_err(path, e))?;
                }
            }
        }
        if d != range.end {
            return Err(parquet_err(src_path, "the file has fewer rows than when it was read"));
        }
    }
    let Some((w, _, _)) = writer else {
        return Err(Error::param(
            "no Parquet input could be read, so there is no schema to write the kept rows with",
        ));
    };
    w.into_inner().map_err(|e| parquet_err(path, e))?.commit()
}

/// `col` with the rows in `new` replaced (same type; the texts are UTF-8).
fn replace_texts(col: &ArrayRef, new: &[Option<Vec<u8>>]) -> ArrayRef {
    let rows = (0..col.len()).map(|i| match &new[i] {
        Some(b) => Some(String::from_utf8_lossy(b).into_owned()),
        None => text_at(col, i).ok().flatten().map(str::to_owned),
    });
    let rows: Vec<Option<String>> = rows.collect();
    let strs = rows.iter().map(|r| r.as_deref());
    let bytes = rows.iter().map(|r| r.as_deref().map(str::as_bytes));
    match col.data_type() {
        DataType::LargeUtf8 => Arc::new(strs.collect::<LargeStringArray>()),
        DataType::Utf8View => Arc::new(strs.collect::<StringViewArray>()),
        DataType::Binary => Arc::new(bytes.collect::<BinaryArray>()),
        DataType::LargeBinary => Arc::new(bytes.collect::<LargeBinaryArray>()),
        DataType::BinaryView => Arc::new(bytes.collect::<BinaryViewArray>()),
        _ => Arc::new(strs.collect::<StringArray>()),
    }
}
