//! Quality on the real corpus built by shared/corpora (skipped when absent):
//! connected components against exact truth, and star clusters removing only
//! documents alike the kept one.
//! Set NEARDUP_DEV_CORPUS to the path of dev_neardup.jsonl to run it.

use crate::*;

/// The dev corpus named by NEARDUP_DEV_CORPUS, or `None` with a message
/// saying why the test is skipped.
fn dev_corpus() -> Option<String> {
    let Ok(path) = std::env::var("NEARDUP_DEV_CORPUS") else {
        eprintln!("skipped: set NEARDUP_DEV_CORPUS to dev_neardup.jsonl (see ../shared/corpora/README.md)");
        return None;
    };
    if !std::path::Path::new(&path).exists() {
        eprintln!("skipped: {path} does not exist (build it with ../shared/corpora)");
        return None;
    }
    Some(path)
}

#[test]
fn quality_on_the_real_corpus() {
    let Some(path) = dev_corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    assert!(run(&["truth", &path, "-o", s(&truth)]).status.success());
    for (verify, min_doc_precision) in [("estimate", 0.99), ("exact", 1.0)] {
        let cl = dir.path().join(format!("{verify}.jsonl"));
        let args =
            ["dedup", &path, "--verify", verify, "--cluster", "components", "--clusters", s(&cl), "-q"];
        assert!(run(&args).status.success());
        let out = run(&["score", "--clusters", s(&cl), "--truth", s(&truth), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = |k: &str| v[k].as_f64().unwrap();
        assert!(f("closure_f1") >= 0.98, "{verify}: {v}");
        assert!(f("doc_precision") >= min_doc_precision, "{verify}: {v}");
        assert!(f("doc_recall") >= 0.99, "{verify}: {v}");
    }
}

/// With star clusters (the default), every document removed from the real
/// corpus is at or above the threshold to the document kept in its place,
/// by exact Jaccard (a pair of the exact truth).
#[test]
fn star_clusters_remove_only_documents_alike_the_kept_one() {
    let Some(path) = dev_corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    assert!(run(&["truth", &path, "-o", s(&truth)]).status.success());
    let alike: std::collections::HashSet<(String, String)> = std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let (a, b) = (v["a"].as_str().unwrap().to_owned(), v["b"].as_str().unwrap().to_owned());
            [(a.clone(), b.clone()), (b, a)]
        })
        .collect();
    for verify in ["estimate", "exact"] {
        let cl = dir.path().join(format!("star-{verify}.jsonl"));
        assert!(run(&["dedup", &path, "--verify", verify, "--clusters", s(&cl), "-q"]).status.success());
        let rows = clusters(&std::fs::read_to_string(&cl).unwrap());
        let removed: Vec<_> = rows.iter().filter(|(id, c, _)| id != c).collect();
        let below: Vec<_> =
            removed.iter().filter(|(id, c, _)| !alike.contains(&(id.clone(), c.clone()))).collect();
        assert!(removed.len() > 4000, "{verify}: {} removed", removed.len());
        assert!(
            below.is_empty(),
            "{verify}: {} removed below the threshold, e.g. {:?}",
            below.len(),
            &below[..3.min(below.len())]
        );
    }
}
