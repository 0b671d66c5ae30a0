//! `neardup explain` on texts with known answers.

use crate::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

/// `n` distinct words starting at `from`: `w{from} w{from+1} ...`.
fn words(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")
}

/// A JSONL corpus of `(id, text)` in `dir`.
fn corpus(dir: &Path, docs: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("corpus.jsonl");
    let lines: String =
        docs.iter().map(|(id, text)| format!("{}\n", serde_json::json!({"id": id, "text": text}))).collect();
    std::fs::write(&path, lines).unwrap();
    path
}

#[test]
fn explain_counts_shingles_of_a_known_jaccard() {
    // A: w0..w19 (16 five-word shingles); B: w0..w15 and four new words
    // (16 shingles, 12 of them A's): J = 12 / 20
    let (a, b) = (words(0, 20), format!("{} {}", words(0, 16), words(100, 4)));
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), &[("x", "unrelated filler text"), ("a", &a), ("b", &b)]);
    let v = json(&run(&["explain", s(&input), "a", "b", "--json"]));
    let sh = &v["shingles"];
    assert_eq!((sh["a"].as_u64(), sh["b"].as_u64(), sh["shared"].as_u64()), (Some(16), Some(16), Some(12)));
    assert!((sh["jaccard"].as_f64().unwrap() - 0.6).abs() < 1e-12);
    assert_eq!(sh["examples"].as_array().unwrap().len(), 10);
    assert_eq!(sh["examples"][0], "w0 w1 w2 w3 w4");
    assert_eq!(v["a"]["words"], 20);
    // the standard error at J = 0.6 from the fewer samples
    let k = v["sketch"]["samples"].as_f64().unwrap();
    assert!((v["sketch"]["standard_error"].as_f64().unwrap() - (0.6 * 0.4 / k).sqrt()).abs() < 1e-12);
    let d = 3.0 * (0.8f64 * 0.2 / k).sqrt() + 2.0 / k;
    assert!((v["sketch"]["doubt"].as_f64().unwrap() - d).abs() < 1e-12);
    let p = 1.0 - (1.0 - 0.6f64.powi(7)).powi(17);
    assert!((v["lsh"]["p_candidate"].as_f64().unwrap() - p).abs() < 1e-12);
    // the shared run: 16 words at the start of both
    let passages = v["passages"].as_array().unwrap();
    assert_eq!(passages.len(), 1, "{passages:?}");
    assert_eq!((passages[0]["words"].as_u64(), passages[0]["a_word"].as_u64()), (Some(16), Some(0)));
    assert_eq!(v["decision"]["linked"], false);
    // the same in words
    let out = run(&["explain", s(&input), "a", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("A 16, B 16, shared 12 of 20: exact Jaccard 0.600"), "{text}");
    assert!(text.contains("A words 0-16 = B words 0-16 (16 words)"), "{text}");
    assert!(text.contains("decision    not linked"), "{text}");
}

#[test]
fn explain_identical_texts_collide_in_every_band() {
    // long enough to fill every slot: with fewer samples even an estimate
    // of 1 is within the doubt band and settled exactly
    let a = words(0, 1000);
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), &[("a", &a), ("b", &a.to_uppercase())]);
    let v = json(&run(&["explain", s(&input), "a", "b", "--json"]));
    assert_eq!(v["shingles"]["jaccard"], 1.0);
    assert_eq!(v["sketch"]["estimate"], 1.0);
    assert_eq!(v["sketch"]["standard_error"], 0.0);
    assert_eq!(v["sketch"]["samples"], 128);
    assert_eq!(v["sketch"]["judgement"], "sure");
    let collided: Vec<u64> =
        v["lsh"]["collided"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    assert_eq!(collided, (0..17).collect::<Vec<u64>>());
    assert_eq!(v["lsh"]["p_candidate"], 1.0);
    assert_eq!(
        (v["decision"]["linked"].as_bool(), v["decision"]["how"].as_str()),
        (Some(true), Some("estimate_sure"))
    );
    // a short copy: too few samples to trust even an estimate of 1
    let short = words(0, 30);
    let input = corpus(dir.path(), &[("a", &short), ("b", &short)]);
    let v = json(&run(&["explain", s(&input), "a", "b", "--json"]));
    assert_eq!(v["sketch"]["judgement"], "doubtful");
    assert_eq!(
        (v["decision"]["linked"].as_bool(), v["decision"]["how"].as_str()),
        (Some(true), Some("settled_exactly"))
    );
    // verify exact checks the sets
    let v = json(&run(&["explain", s(&input), "a", "b", "--json", "--verify", "exact"]));
    assert_eq!(
        (v["decision"]["linked"].as_bool(), v["decision"]["how"].as_str()),
        (Some(true), Some("exact"))
    );
}

#[test]
fn explain_disjoint_texts_share_no_band() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    std::fs::write(&a, words(0, 50)).unwrap();
    std::fs::write(&b, words(1000, 50)).unwrap();
    let v = json(&run(&["explain", "--text", s(&a), s(&b), "--json"]));
    assert_eq!(v["shingles"]["jaccard"], 0.0);
    assert_eq!(v["shingles"]["shared"], 0);
    assert_eq!(v["lsh"]["collided"].as_array().unwrap().len(), 0);
    assert_eq!(v["lsh"]["p_candidate"], 0.0);
    assert_eq!(v["passages"].as_array().unwrap().len(), 0);
    assert_eq!(
        (v["decision"]["candidate"].as_bool(), v["decision"]["how"].as_str()),
        (Some(false), Some("not_a_candidate"))
    );
}

#[test]
fn explain_names_a_missing_id() {
    let input = data("small.jsonl");
    let out = run(&["explain", s(&input), "p5", "no-such-doc"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("\"no-such-doc\""), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let out = run(&["explain", s(&input), "p5", "p5", "--clusters", "/no/such/clusters.jsonl"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/no/such/clusters.jsonl"), "{}", stderr(&out));
}

#[test]
fn explain_says_what_a_run_removed() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("small.jsonl");
    let clusters = dir.path().join("clusters.jsonl");
    let out = run(&["dedup", s(&input), "--clusters", s(&clusters), "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let args = ["explain", s(&input), "p5", "p5-one-word-changed", "--clusters", s(&clusters)];
    let v = json(&run(&[&args[..], &["--json"]].concat()));
    let c = &v["clusters"];
    assert_eq!(c["same_cluster"], true);
    assert_eq!((c["a"]["kept"].as_bool(), c["a"]["cluster_size"].as_u64()), (Some(true), Some(2)));
    assert_eq!((c["b"]["kept"].as_bool(), c["b"]["cluster"].as_str()), (Some(false), Some("p5")));
    assert_eq!(v["decision"]["linked"], true);
    assert!((v["shingles"]["jaccard"].as_f64().unwrap() - 0.851).abs() < 0.001);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"p5\": kept: representative of a cluster of 2"), "{text}");
    assert!(text.contains("\"p5-one-word-changed\": removed: similarity"), "{text}");
    assert!(text.contains("to representative p5"), "{text}");
    // about 0.5 alike: each kept in a cluster of its own
    let v = json(&run(&[
        "explain",
        s(&input),
        "p6",
        "p6-four-words-changed",
        "--clusters",
        s(&clusters),
        "--json",
    ]));
    assert_eq!(v["clusters"]["same_cluster"], false);
    assert_eq!(v["clusters"]["b"]["why"], "kept: a cluster of its own");
    assert!(v["clusters"]["reason"].as_str().unwrap().starts_with("in different clusters"));
}

#[test]
fn explain_empty_documents_are_nobodys_duplicates() {
    let input = data("small.jsonl");
    let v = json(&run(&["explain", s(&input), "empty", "blank", "--json"]));
    assert_eq!((v["sketch"]["samples"].as_u64(), v["decision"]["how"].as_str()), (Some(0), Some("empty")));
    assert_eq!(v["lsh"]["collided"].as_array().unwrap().len(), 0);
    let out = run(&["explain", s(&input), "empty", "blank"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("sketch      no samples"));
}
