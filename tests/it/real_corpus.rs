//! Quality on the real corpus built by shared/corpora (skipped when absent).
//! Set NEARDUP_DEV_CORPUS to the path of dev_neardup.jsonl to run it.

use crate::*;

#[test]
fn quality_on_the_real_corpus() {
    let Ok(path) = std::env::var("NEARDUP_DEV_CORPUS") else {
        eprintln!("skipped: set NEARDUP_DEV_CORPUS to dev_neardup.jsonl (see ../shared/corpora/README.md)");
        return;
    };
    if !std::path::Path::new(&path).exists() {
        eprintln!("skipped: {path} does not exist (build it with ../shared/corpora)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    assert!(run(&["truth", &path, "-o", s(&truth)]).status.success());
    for (verify, min_doc_precision) in [("estimate", 0.99), ("exact", 1.0)] {
        let cl = dir.path().join(format!("{verify}.jsonl"));
        assert!(run(&["dedup", &path, "--verify", verify, "--clusters", s(&cl), "-q"]).status.success());
        let out = run(&["score", "--clusters", s(&cl), "--truth", s(&truth), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = |k: &str| v[k].as_f64().unwrap();
        assert!(f("closure_f1") >= 0.98, "{verify}: {v}");
        assert!(f("doc_precision") >= min_doc_precision, "{verify}: {v}");
        assert!(f("doc_recall") >= 0.99, "{verify}: {v}");
    }
}
