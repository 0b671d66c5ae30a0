//! WARC/WET reader: any bytes as a `.warc` file, and the same bytes behind a
//! valid WARC record (so that the fuzzer also explores later records).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::read_both_ways("in.warc", data);
    let text = b"a few words of text to make a document here";
    let mut with_head = format!(
        "WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Target-URI: u\r\nContent-Length: {}\r\n\r\n",
        text.len()
    )
    .into_bytes();
    with_head.extend_from_slice(text);
    with_head.extend_from_slice(b"\r\n\r\n");
    with_head.extend_from_slice(data);
    common::read_both_ways("in2.wet", &with_head);
});
