//! Passage finding: fingerprints, index, confirmation.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::PassageBuilder;

mod common;

fn passages(c: &mut Criterion) {
    let docs = common::documents(8 << 20);
    let finder = PassageBuilder::new().build().unwrap();
    let seed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
    // known answer: the seed article's two repeats
    assert_eq!(finder.find_texts(&[seed.as_str()]).len(), 2);
    let mut g = c.benchmark_group("passage");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(common::bytes(&docs)));
    g.bench_function("find_texts", |b| b.iter(|| finder.find_texts(&docs).len()));
    g.finish();
}

criterion_group!(benches, passages);
criterion_main!(benches);
