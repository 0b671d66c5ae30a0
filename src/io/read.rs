//! The one dispatcher over the per-format readers: Parquet inputs are read
//! by row group (`io::parquet`), every other format as mapped or streamed
//! bytes cut into records (`io::input`).

use crate::error::Result;
use crate::io::record::{Format, InputFile, Outcome, ReadOptions, Retained};

/// Read one input, calling `f(text)` in parallel for every document and
/// `sink` in input order with every outcome, and handing `on_block` every
/// streamed block of whole records after it is parsed (memory-mapped inputs
/// are not streamed). Returns the input's bytes when `keep` is set.
pub(crate) fn read_input_with<T: Send>(
    input: &InputFile,
    opts: &ReadOptions,
    keep: bool,
    f: &(impl Fn(&str) -> T + Sync),
    sink: &mut impl FnMut(Outcome<T>, u64),
    on_block: &mut dyn FnMut(&[u8]),
) -> Result<Retained> {
    if input.format == Format::Parquet {
        crate::io::parquet::read(input, opts, keep, f, sink, on_block)
    } else {
        crate::io::input::read_records(input, opts, keep, f, sink, on_block)
    }
}
