//! `dedup --max-memory`: the bounded-memory path gives the in-memory path's
//! outputs byte for byte, with several sorted runs, on any thread count, from
//! plain and compressed inputs, and removes its spill files.

use crate::*;

#[test]
fn bounded_memory_gives_the_in_memory_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(12_000);
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, &corpus).unwrap();
    let zst = dir.path().join("c.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(corpus.as_bytes(), 3).unwrap()).unwrap();
    let (want_c, want_o) = (dir.path().join("want.clusters"), dir.path().join("want.jsonl"));
    let out = run(&["dedup", s(&plain), "--clusters", s(&want_c), "-o", s(&want_o), "-q"]);
    assert!(out.status.success());
    let want_clusters = std::fs::read(&want_c).unwrap();
    assert!(clusters(&String::from_utf8_lossy(&want_clusters)).iter().filter(|c| c.0 != c.1).count() > 1000);
    let spill = dir.path().join("spill");
    for input in [&plain, &zst] {
        // 64K also holds so few doubtful pairs that they are settled in many
        // steps while the runs are merged
        for (threads, budget) in [("1", "64K"), ("2", "1M")] {
            let (c, o, sum) = (dir.path().join("c.out"), dir.path().join("o.out"), dir.path().join("s.json"));
            let out = run(&[
                "dedup",
                s(input),
                "--clusters",
                s(&c),
                "-o",
                s(&o),
                "--summary-json",
                s(&sum),
                "-q",
                "--max-memory",
                budget,
                "--spill-dir",
                s(&spill),
                "--threads",
                threads,
            ]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(std::fs::read(&c).unwrap() == want_clusters, "{} on {threads} threads", input.display());
            assert_eq!(std::fs::read(&o).unwrap(), std::fs::read(&want_o).unwrap());
            let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&sum).unwrap()).unwrap();
            assert!(summary["spill"]["runs"].as_u64().unwrap() >= 3, "{summary}");
            assert!(summary["spill"]["bytes"].as_u64().unwrap() > 0);
            // the spill files are gone
            assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
        }
    }
    // exact verification keeps every set in memory: refused, with a reason
    let out = run(&["dedup", s(&plain), "--max-memory", "1M", "--verify", "exact", "--clusters", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--verify estimate only"));
}
