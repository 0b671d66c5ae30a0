//! Reading JSONL end to end: memory map, parallel parse, sketching.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::{DedupBuilder, Format, ReadOptions};

mod common;

fn read(c: &mut Criterion) {
    let docs = common::documents(16 << 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.jsonl");
    let jsonl: String = docs
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}\n", serde_json::json!({"id": i, "text": t})))
        .collect();
    std::fs::write(&path, &jsonl).unwrap();
    let inputs = neardup::expand_inputs(&[path], Format::Auto).unwrap();
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(jsonl.len() as u64));
    for mmap in [true, false] {
        let mut opts = ReadOptions::default();
        opts.mmap = mmap;
        let dedup = DedupBuilder::new().read_options(opts).build().unwrap();
        // known answer: every record is a document
        assert_eq!(dedup.read(&inputs, false, &|_| {}).unwrap().len(), docs.len());
        g.bench_function(if mmap { "jsonl_mmap_sketch" } else { "jsonl_stream_sketch" }, |b| {
            b.iter(|| dedup.read(&inputs, false, &|_| {}).unwrap().len())
        });
    }
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
