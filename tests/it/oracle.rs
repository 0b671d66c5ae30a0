use std::path::Path;

use crate::*;

fn clusters_of(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// mmap vs streamed file vs stdin, 1 thread vs 2: byte-identical output.
#[test]
fn mmap_stream_stdin_and_threads_agree() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(3000);
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, &corpus).unwrap();
    for verify in ["estimate", "exact"] {
        let base = ["dedup", s(&path), "--clusters", "-", "-q", "--verify", verify];
        let mapped = clusters_of(&[&base[..], &["--threads", "1"]].concat());
        assert!(String::from_utf8_lossy(&mapped).lines().count() == 3000);
        assert_eq!(clusters_of(&[&base[..], &["--threads", "2"]].concat()), mapped);
        assert_eq!(clusters_of(&[&base[..], &["--threads", "4", "--no-mmap"]].concat()), mapped);
        let out = run_stdin(&["dedup", "-", "--clusters", "-", "-q", "--verify", verify], corpus.as_bytes());
        // ids are the same; only FILE:LINE ids would differ, and all have ids
        assert_eq!(out.stdout, mapped);
    }
}

/// The estimate mode finds the clusters that exact verification finds on
/// the synthetic corpus (its planted edits are far above the threshold).
#[test]
fn estimate_agrees_with_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, synthetic_corpus(2000)).unwrap();
    let reps = |v: &str| {
        clusters(
            &String::from_utf8(clusters_of(&["dedup", s(&path), "--clusters", "-", "-q", "--verify", v]))
                .unwrap(),
        )
        .into_iter()
        .map(|c| c.1)
        .collect::<Vec<_>>()
    };
    let exact = reps("exact");
    assert_eq!(reps("estimate"), exact);
    // every fifth document is a one-word edit of an earlier one; edits of
    // the shortest documents fall below 0.8, the rest are duplicates
    let dups = exact.iter().enumerate().filter(|(i, r)| **r != format!("d{i}")).count();
    assert!((300..=400).contains(&dups), "{dups}");
}

/// Clusters agree with the exact ground truth computed by `neardup truth`
/// (connected components of the true pairs) under exact verification and
/// `--cluster components`; star clusters remove only documents alike the
/// kept one (document precision 1) and never more than components do.
#[test]
fn exact_clusters_match_truth_components() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, synthetic_corpus(1500)).unwrap();
    let cl = dir.path().join("cl.jsonl");
    let truth = dir.path().join("truth.jsonl");
    let args =
        ["dedup", s(&path), "--clusters", s(&cl), "--verify", "exact", "--cluster", "components", "-q"];
    assert!(run(&args).status.success());
    assert!(run(&["truth", s(&path), "-o", s(&truth)]).status.success());
    let out = run(&["score", "--clusters", s(&cl), "--truth", s(&truth), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["closure_precision"], 1.0);
    assert_eq!(v["closure_recall"], 1.0);
    assert_eq!(v["doc_precision"], 1.0);
    assert_eq!(v["doc_recall"], 1.0);
    assert!(v["true_pairs"].as_u64().unwrap() >= 300);
    let star = dir.path().join("star.jsonl");
    assert!(run(&["dedup", s(&path), "--clusters", s(&star), "--verify", "exact", "-q"]).status.success());
    let out = run(&["score", "--clusters", s(&star), "--truth", s(&truth), "--json"]);
    let w: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(w["doc_precision"], 1.0, "{w}");
    let removed =
        |p: &Path| clusters(&std::fs::read_to_string(p).unwrap()).iter().filter(|(id, c, _)| id != c).count();
    assert!(removed(&star) <= removed(&cl) && removed(&star) * 10 >= removed(&cl) * 9, "{w}");
}
