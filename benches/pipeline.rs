//! Criterion benches of the pipeline's stages, on text derived
//! deterministically from data/seed-article.txt. Each asserts a known answer
//! so that a fast wrong result cannot pass.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::{
    DedupBuilder, ShingleKind, Shingler, SketchKind, SketchParams, Sketcher, Tokenizer, UnionFind,
};

/// About `target` bytes of text: the seed article's paragraphs, each copy
/// with a numbered word so that documents differ.
fn documents(target: usize) -> Vec<String> {
    let seed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
    let paras: Vec<&str> = seed.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut docs = Vec::new();
    let mut size = 0;
    let mut i = 0usize;
    while size < target {
        let d = format!("{} doc{i} {}", paras[i % paras.len()], paras[(i * 7 + 3) % paras.len()]);
        size += d.len();
        docs.push(d);
        i += 1;
    }
    docs
}

fn bytes(docs: &[String]) -> u64 {
    docs.iter().map(|d| d.len() as u64).sum()
}

fn normalize(c: &mut Criterion) {
    let docs = documents(4 << 20);
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Bytes(bytes(&docs)));
    let mut tk = Tokenizer::new();
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

fn sketch(c: &mut Criterion) {
    let docs = documents(4 << 20);
    let mut g = c.benchmark_group("sketch");
    g.throughput(Throughput::Bytes(bytes(&docs)));
    let mut sh = Shingler::new(ShingleKind::Word(5));
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| sh.shingle_set(d)).collect();
    for kind in [SketchKind::Oph, SketchKind::MinHash] {
        let sk = Sketcher::new(SketchParams {
            kind,
            num_perm: 128,
            seed: 0,
            shingle: ShingleKind::Word(5),
            version: neardup::SKETCH_FORMAT_VERSION,
        });
        // known answer: a set and itself estimate 1.0
        let s = sk.signature(sets[0].iter().copied());
        assert_eq!(s.jaccard(&sk.signature(sets[0].iter().rev().copied())).unwrap(), 1.0);
        let mut out = vec![0u32; 128];
        g.bench_function(format!("{kind}_128"), |b| {
            b.iter(|| {
                let mut x = 0u32;
                for set in &sets {
                    sk.sketch_into(set.iter().copied(), &mut out);
                    x ^= out[0];
                }
                x
            })
        });
    }
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let mut docs = documents(8 << 20);
    // plant 100 exact copies: known answer
    for i in 0..100 {
        let copy = docs[i * 10].clone();
        docs.push(copy);
    }
    let mut g = c.benchmark_group("dedup");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes(&docs)));
    let dedup = DedupBuilder::new().build().unwrap();
    let c0 = dedup.cluster_texts(&docs);
    let n = docs.len();
    for i in 0..100 {
        assert_eq!(c0.representatives()[n - 100 + i] as usize, c0.representatives()[i * 10] as usize);
    }
    g.bench_function("cluster_texts", |b| b.iter(|| dedup.cluster_texts(black_box(&docs)).stats.duplicates));
    g.finish();
}

fn union_find(c: &mut Criterion) {
    let n = 1_000_000u32;
    let edges: Vec<(u32, u32)> = (0..n).map(|i| (i, (i.wrapping_mul(2_654_435_761) >> 8) % n)).collect();
    let mut g = c.benchmark_group("cluster");
    g.throughput(Throughput::Elements(u64::from(n)));
    g.bench_function("union_find_1m", |b| {
        b.iter(|| {
            let mut uf = UnionFind::new(n as usize);
            for &(a, b2) in &edges {
                uf.union(a, b2);
            }
            let reps = uf.representatives();
            assert_eq!(reps[0], 0);
            reps.len()
        })
    });
    g.finish();
}

criterion_group!(benches, normalize, sketch, end_to_end, union_find);
criterion_main!(benches);
