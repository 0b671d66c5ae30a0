//! Normalizing + shingling throughput.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::sketch::{ShingleKind, Shingler, Tokenizer};

mod common;

fn normalize(c: &mut Criterion) {
    let docs = common::documents(4 << 20);
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Bytes(common::bytes(&docs)));
    let mut tk = Tokenizer::new();
    // known answer: the tokenizer agrees with a plain split on this ASCII text
    let mut count = 0usize;
    tk.for_each_token(&docs[0], |_, _, _| count += 1);
    let words = docs[0].split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
    assert_eq!(count, words);
    g.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                tk.for_each_token(black_box(d), |_, _, _| n += 1);
            }
            n
        })
    });
    let mut sh = Shingler::new(ShingleKind::Word(5));
    let mut shingles = 0usize;
    sh.for_each_hash(&docs[0], |_| shingles += 1);
    assert_eq!(shingles, words.saturating_sub(4).max(1));
    g.bench_function("shingle_word5", |b| {
        b.iter(|| {
            let mut x = 0u64;
            for d in &docs {
                sh.for_each_hash(black_box(d), |h| x ^= h);
            }
            x
        })
    });
    g.finish();
}

criterion_group!(benches, normalize);
criterion_main!(benches);
