//! Union-find over a million documents.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::cluster::UnionFind;

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
            // known answer: representatives are the smallest member
            assert_eq!(reps[0], 0);
            assert!(reps.iter().enumerate().all(|(i, &r)| r as usize <= i));
            reps.len()
        })
    });
    g.finish();
}

criterion_group!(benches, union_find);
criterion_main!(benches);
