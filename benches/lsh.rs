//! Banding + linking + verification: clustering sketched documents.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::DedupBuilder;
use neardup::io::Format;

mod common;

fn lsh(c: &mut Criterion) {
    let mut docs = common::documents(8 << 20);
    // plant 100 exact copies: a known answer
    let n0 = docs.len();
    for i in 0..100 {
        let copy = docs[i * 10].clone();
        docs.push(copy);
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, size) = common::write_jsonl(&docs, dir.path());
    let inputs = neardup::io::expand_inputs(&[path], Format::Auto).unwrap();
    let dedup = DedupBuilder::new().build().unwrap();
    let corpus = dedup.read(&inputs, false, &|_| {}).unwrap();
    let clusters = dedup.cluster(&corpus).unwrap();
    for i in 0..100 {
        let reps = clusters.representatives();
        assert_eq!(reps[n0 + i], reps[i * 10]);
    }
    let mut g = c.benchmark_group("lsh");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(size));
    g.bench_function("band_link_verify_cluster", |b| {
        b.iter(|| dedup.cluster(&corpus).unwrap().stats.duplicates)
    });
    g.finish();
}

criterion_group!(benches, lsh);
criterion_main!(benches);
