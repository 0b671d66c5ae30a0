//! JSONL reader: any bytes as a `.jsonl` file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::read_both_ways("in.jsonl", data);
});
