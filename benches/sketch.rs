//! OPH and classic MinHash sketching of ready shingle sets.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neardup::sketch::{ShingleKind, Shingler, SketchKind, SketchParams, Sketcher};

mod common;

fn sketch(c: &mut Criterion) {
    let docs = common::documents(4 << 20);
    let mut g = c.benchmark_group("sketch");
    g.throughput(Throughput::Bytes(common::bytes(&docs)));
    let mut sh = Shingler::new(ShingleKind::Word(5));
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| sh.shingle_set(d)).collect();
    for kind in [SketchKind::Oph, SketchKind::MinHash] {
        let sk = Sketcher::new(SketchParams {
            kind,
            num_perm: 128,
            seed: 0,
            shingle: ShingleKind::Word(5),
            version: neardup::sketch::SKETCH_FORMAT_VERSION,
        });
        // known answer: a set and itself estimate 1.0, whatever the order
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

criterion_group!(benches, sketch);
criterion_main!(benches);
