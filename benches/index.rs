//! Index insert and query latency (means) for 5 KB pages with many documents
//! already indexed (NEARDUP_BENCH_INDEX_DOCS, default 100,000), on one thread.
//! Pages are strung together from paragraphs of NEARDUP_DEV_CORPUS when set
//! (see `common::Pages`). Percentiles, throughput and memory: the
//! `index_latency` bench.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use neardup::{DedupBuilder, Index, Verdict};

mod common;

fn index(c: &mut Criterion) {
    let n: usize =
        std::env::var("NEARDUP_BENCH_INDEX_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let maker = common::Pages::new();
    let pages: Vec<String> = (0..n as u64 + 1000).map(|i| maker.page(i)).collect();
    let index = pool.install(|| {
        let index = Index::new(&DedupBuilder::new().params().unwrap(), Some(1)).unwrap();
        for (i, p) in pages[..n].iter().enumerate() {
            index.insert(&format!("p{i}"), p);
        }
        index
    });
    // known answer: an indexed page queried again finds itself
    assert_eq!(index.query(&pages[0])[0].id, "p0");
    assert_eq!(index.insert("p0", &pages[0]), Verdict::Exists);
    let fresh = &pages[n..];
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("index");
    g.bench_function(format!("insert_5kb_with_{n}_indexed"), |b| {
        b.iter(|| {
            let i = next.fetch_add(1, Ordering::Relaxed) as usize;
            let text = &fresh[i % fresh.len()];
            black_box(index.insert(&format!("new{i}"), text))
        })
    });
    g.bench_function(format!("query_5kb_with_{n}_indexed"), |b| {
        let mut i = 0usize;
        b.iter(|| {
            i += 1;
            black_box(index.query(&pages[i % n]).len())
        })
    });
    g.finish();
}

criterion_group!(benches, index);
criterion_main!(benches);
