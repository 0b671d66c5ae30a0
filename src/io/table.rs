//! Flat Parquet tables written row by row, atomically (the clusters and
//! passages outputs, the stage files), and read back batch by batch with
//! their footer metadata. Apart from reading Parquet inputs (`io::parquet`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::io::output::AtomicFile;
use crate::io::record::parquet_err;

/// The type of a [`Table`] column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Str,
    U64,
    U32,
    F64,
    Bin,
}

/// One cell of a [`Table`] row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Str(&'a str),
    U64(u64),
    U32(u32),
    F64(f64),
    Bin(&'a [u8]),
}

enum Column {
    Str(StringBuilder),
    U64(UInt64Builder),
    U32(UInt32Builder),
    F64(Float64Builder),
    Bin(BinaryBuilder),
}

/// Rows per batch a [`Table`] hands to the writer (and reads back).
const TABLE_ROWS: usize = 64 * 1024;

/// A flat Parquet table written row by row (zstd pages), atomically: the
/// file appears at its path on [`Table::commit`] only.
pub(crate) struct Table {
    path: PathBuf,
    writer: ArrowWriter<AtomicFile>,
    schema: SchemaRef,
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// Start a table of `fields` at `path`; `protect` are paths that must
    /// not be replaced.
    pub(crate) fn create(path: &Path, protect: &[PathBuf], fields: &[(&str, Kind)]) -> Result<Table> {
        let schema = Arc::new(Schema::new(
            fields
                .iter()
                .map(|&(name, kind)| {
                    let t = match kind {
                        Kind::Str => DataType::Utf8,
                        Kind::U64 => DataType::UInt64,
                        Kind::U32 => DataType::UInt32,
                        Kind::Bin => DataType::Binary,
                        Kind::F64 => DataType::Float64,
                    };
                    Field::new(name, t, false)
                })
                .collect::<Vec<_>>(),
        ));
        let props = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
            .set_max_row_group_row_count(Some(1 << 20))
            // a row group is buffered until written: bound it for wide rows
            // (signatures)
            .set_max_row_group_bytes(Some(64 << 20))
            .build();
        let file = AtomicFile::create_raw(path, protect)?;
        let writer =
            ArrowWriter::try_new(file, Arc::clone(&schema), Some(props)).map_err(|e| parquet_err(path, e))?;
        let columns = fields
            .iter()
            .map(|&(_, kind)| match kind {
                Kind::Str => Column::Str(StringBuilder::new()),
                Kind::U64 => Column::U64(UInt64Builder::new()),
                Kind::U32 => Column::U32(UInt32Builder::new()),
                Kind::Bin => Column::Bin(BinaryBuilder::new()),
                Kind::F64 => Column::F64(Float64Builder::new()),
            })
            .collect();
        Ok(Table { path: path.to_path_buf(), writer, schema, columns, rows: 0 })
    }

    /// Add one row, its cells in the order of the fields.
    pub(crate) fn push(&mut self, row: &[Cell<'_>]) -> Result<()> {
        for (col, cell) in self.columns.iter_mut().zip(row) {
            match (col, *cell) {
                (Column::Str(b), Cell::Str(v)) => b.append_value(v),
                (Column::U64(b), Cell::U64(v)) => b.append_value(v),
                (Column::U32(b), Cell::U32(v)) => b.append_value(v),
                (Column::Bin(b), Cell::Bin(v)) => b.append_value(v),
                (Column::F64(b), Cell::F64(v)) => b.append_value(v),
                _ => {
                    return Err(Error::Internal(format!(
                        "{}: a cell of the wrong type",
                        self.path.display()
                    )));
                }
            }
        }
        self.rows += 1;
        if self.rows >= TABLE_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Str(b) => Arc::new(b.finish()),
                    Column::U64(b) => Arc::new(b.finish()),
                    Column::U32(b) => Arc::new(b.finish()),
                    Column::Bin(b) => Arc::new(b.finish()),
                    Column::F64(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), cols).map_err(|e| parquet_err(&self.path, e))?;
        self.writer.write(&batch).map_err(|e| parquet_err(&self.path, e))?;
        self.rows = 0;
        Ok(())
    }

    /// Write the footer and move the file into place.
    pub(crate) fn commit(self) -> Result<()> {
        self.commit_with(&[])
    }

    /// As [`Table::commit`], with key-value `metadata` in the footer.
    pub(crate) fn commit_with(mut self, metadata: &[(&str, String)]) -> Result<()> {
        self.flush()?;
        for (k, v) in metadata {
            self.writer.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                (*k).to_owned(),
                v.clone(),
            ));
        }
        let path = self.path;
        self.writer.into_inner().map_err(|e| parquet_err(&path, e))?.commit()
    }
}

/// The key-value metadata in a Parquet file's footer.
pub(crate) fn table_metadata(path: &Path) -> Result<std::collections::HashMap<String, String>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| parquet_err(path, format!("not a readable Parquet file: {e}")))?;
    let kv = meta.metadata().file_metadata().key_value_metadata();
    Ok(kv.into_iter().flatten().filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?))).collect())
}

/// Call `f` with every batch of a Parquet file, in order; `columns` must be
/// there with the given types.
pub(crate) fn for_each_batch(
    path: &Path,
    columns: &[(&str, DataType)],
    mut f: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| parquet_err(path, format!("not a readable Parquet file: {e}")))?;
    for (name, t) in columns {
        match b.schema().field_with_name(name) {
            Ok(field) if field.data_type() == t => {}
            Ok(field) => {
                return Err(parquet_err(path, format!("column `{name}` is {}, not {t}", field.data_type())));
            }
            Err(_) => return Err(parquet_err(path, format!("no column `{name}`"))),
        }
    }
    let reader = b.with_batch_size(TABLE_ROWS).build().map_err(|e| parquet_err(path, e))?;
    for batch in reader {
        f(&batch.map_err(|e| parquet_err(path, e))?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_refuses_links_of_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.parquet");
        std::fs::write(&input, "x").unwrap();
        let (hard, soft) = (dir.path().join("hard.parquet"), dir.path().join("soft.parquet"));
        std::fs::hard_link(&input, &hard).unwrap();
        std::os::unix::fs::symlink(&input, &soft).unwrap();
        let fields = [("doc_id", Kind::U64)];
        for target in [&input, &hard, &soft] {
            assert!(
                matches!(
                    Table::create(target, std::slice::from_ref(&input), &fields),
                    Err(Error::WouldOverwriteInput(_))
                ),
                "{}",
                target.display()
            );
        }
        let out = dir.path().join("out.parquet");
        let mut t = Table::create(&out, std::slice::from_ref(&input), &fields).unwrap();
        t.push(&[Cell::U64(7)]).unwrap();
        t.commit().unwrap();
        assert_eq!(std::fs::read(&input).unwrap(), b"x");
        assert!(out.exists());
    }
}
