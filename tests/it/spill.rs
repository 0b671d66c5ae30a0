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
    assert!(String::from_utf8_lossy(&out.stderr).contains("verifies by estimate only"));
}

#[test]
fn a_rerun_reuses_the_finished_work_and_a_full_disk_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, synthetic_corpus(3000)).unwrap();
    let want = dir.path().join("want.jsonl");
    assert!(run(&["dedup", s(&plain), "-o", s(&want), "-q"]).status.success());
    let want = std::fs::read(&want).unwrap();
    // a full disk: the error names the file, nothing is left half-written
    let o = run(&["dedup", s(&plain), "-o", "/dev/full"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/full") && err.contains("No space left on device"), "{err}");
    // with --max-memory the finished work is kept for the rerun
    let spill = dir.path().join("spill");
    let spilled =
        |out: &str| run(&["dedup", s(&plain), "-o", out, "--max-memory", "256K", "--spill-dir", s(&spill)]);
    let o = spilled("/dev/full");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the finished work is kept in"), "{err}");
    let work = std::fs::read_dir(&spill).unwrap().next().unwrap().unwrap().path();
    assert!(work.join("clusters.json").exists() && work.join("read.json").exists());
    let out = dir.path().join("out.jsonl");
    // clusters lost (as if killed while clustering): reading is reused
    std::fs::remove_file(work.join("clusters.json")).unwrap();
    let o = spilled("/dev/full");
    assert!(String::from_utf8_lossy(&o.stderr).contains("resumed: reading and sketching reused"));
    let o = spilled(s(&out));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("resumed: reading, sketching and clustering reused"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), want);
    // done: the work directory is gone, and a fresh run gives the same
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
    std::fs::remove_file(&out).unwrap();
    let o = spilled(s(&out));
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("resumed"));
    assert_eq!(std::fs::read(&out).unwrap(), want);
    // a changed input is not mistaken for the old one
    let o = spilled("/dev/full");
    assert_eq!(o.status.code(), Some(1));
    std::fs::write(&plain, synthetic_corpus(2000)).unwrap();
    let o = spilled(s(&out));
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("resumed"));
}
