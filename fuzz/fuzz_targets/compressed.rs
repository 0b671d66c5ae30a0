//! gzip and zstd readers: the input as a compressed stream (mostly invalid),
//! and the input compressed for real then cut or damaged where the first
//! bytes say.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::read_both_ways("raw.jsonl.gz", data);
    common::read_both_ways("raw.jsonl.zst", data);
    if data.len() < 4 {
        return;
    }
    let (ctl, body) = data.split_at(4);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body).unwrap();
    let mut packed = if ctl[0] % 2 == 0 { gz.finish().unwrap() } else { zstd::encode_all(body, 1).unwrap() };
    let at = u16::from_le_bytes([ctl[1], ctl[2]]) as usize;
    match ctl[3] % 3 {
        0 => packed.truncate(at.min(packed.len())),
        1 if !packed.is_empty() => {
            let i = at % packed.len();
            packed[i] ^= ctl[3] | 1;
        }
        _ => {}
    }
    let name = if ctl[0] % 2 == 0 { "cut.jsonl.gz" } else { "cut.jsonl.zst" };
    common::read_both_ways(name, &packed);
});
