//! Readers and writers: input formats, memory maps and streams, atomic outputs.

pub(crate) mod input;
pub(crate) mod json;
pub(crate) mod load;
pub(crate) mod output;
pub(crate) mod parquet;
pub(crate) mod warc;

pub use input::{Compression, Format, InputFile, ReadOptions, expand_inputs};
pub use load::{StreamReport, read_texts};
pub use output::{AtomicFile, OutputFormat};
