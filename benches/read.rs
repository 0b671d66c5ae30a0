//! Reading JSONL end to end: memory map, parallel parse, sketching.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::DedupBuilder;
use neardup::io::{Format, ReadOptions};

mod common;

fn read(c: &mut Criterion) {
    let docs = common::documents(16 << 20);
    let dir = tempfile::tempdir().unwrap();
    let (path, size) = common::write_jsonl(&docs, dir.path());
    let inputs = neardup::io::expand_inputs(&[path], Format::Auto).unwrap();
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size));
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
