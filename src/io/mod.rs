//! Readers and writers: input formats, memory maps and streams, atomic outputs.

//!
//! Layers, each importing only those above it: `record` (the shared types; a
//! leaf) -> `json`, `warc` (record formats) -> `input` (paths; text, JSONL and
//! WARC inputs, mapped or streamed), `parquet` (Parquet inputs), `output`
//! (atomic files) -> `table` (Parquet tables) -> `read` (the one dispatcher
//! over the readers) -> `load` (the one read loop and its sinks) -> `rewrite`
//! (records read again and written back).

pub(crate) mod input;
pub(crate) mod json;
pub(crate) mod load;
pub(crate) mod output;
pub(crate) mod parquet;
pub(crate) mod read;
pub(crate) mod record;
pub(crate) mod rewrite;
pub(crate) mod table;
pub(crate) mod warc;

pub use input::expand_inputs;
pub use load::{StreamReport, for_each_record, read_texts};
pub use output::{AtomicFile, OutputFormat, OutputSet, check_outputs};
pub use record::{Compression, Format, InputFile, ReadOptions};

/// The little-endian `u32`s of `bytes` (a trailing partial word is ignored).
pub(crate) fn le_u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// The little-endian `u64`s of `bytes` (a trailing partial word is ignored).
pub(crate) fn le_u64s(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
}
