//! Parquet reader: any bytes as a `.parquet` file, and a valid file (three
//! row groups, a null text, zstd pages) with bytes changed where the input
//! says, read and then written back as kept rows: never a panic, and both
//! read modes agree.
#![no_main]

use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use libfuzzer_sys::fuzz_target;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

#[path = "common.rs"]
mod common;

fn valid() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("text", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let texts: Vec<Option<String>> = (0..30)
            .map(|i| (i != 7).then(|| format!("the quick brown fox number {} jumps over the lazy dog", i % 9)))
            .collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new((0..30).map(|i| Some(format!("d{i}"))).collect::<StringArray>()),
            Arc::new(texts.iter().map(|t| t.as_deref()).collect::<StringArray>()),
            Arc::new(Int64Array::from_iter_values(0..30)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
            .build();
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        out
    })
}

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts even on panics that are caught; the
    // Parquet decoder panics on some malformed files and neardup catches
    // those (a bad record). Uncaught panics still abort: libfuzzer-sys
    // aborts when the target unwinds.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    common::read_both_ways("in.parquet", data);
    let mut file = valid().to_vec();
    for c in data.chunks_exact(3) {
        let at = u16::from_le_bytes([c[0], c[1]]) as usize % file.len();
        file[at] ^= c[2];
    }
    common::read_both_ways("in2.parquet", &file);
    common::write_kept("in3.parquet", &file);
});
