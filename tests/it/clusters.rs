//! Star clusters and keep policies: chains are cut so that no document is
//! removed unless it reaches the threshold to the kept one; the kept
//! document follows the policy (first, longest, shortest, max/min of a
//! field), the same in memory, in bounded memory and through the stages.

use std::collections::HashMap;
use std::path::Path;

use crate::*;

/// 300 distinct words from a seed.
fn words(seed: u64) -> Vec<String> {
    (0..300u64).map(|i| format!("w{}x{}", seed, i.wrapping_mul(2_654_435_761) % 100_003)).collect()
}

/// `base` with the words at `at` replaced (each replacement, 5 or more
/// words from the others, changes 5 word 5-grams).
fn edit(base: &[String], at: &[usize], tag: &str) -> Vec<String> {
    let mut w = base.to_vec();
    for &i in at {
        w[i] = format!("{tag}{i}");
    }
    w
}

/// A chain A~B~C~D: each is the one before with 4 words replaced (Jaccard
/// 0.87 of word 5-grams), two steps apart are below 0.8 (0.76).
fn chain() -> Vec<(String, String)> {
    let a = words(1);
    let b = edit(&a, &[20, 60, 100, 140], "b");
    let c = edit(&b, &[160, 180, 200, 220], "c");
    let d = edit(&c, &[240, 255, 270, 285], "d");
    let other = words(2);
    [("a", a), ("other", other), ("b", b), ("c", c), ("d", d)]
        .into_iter()
        .map(|(id, w)| (id.to_owned(), w.join(" ")))
        .collect()
}

fn jsonl(docs: &[(String, String)]) -> String {
    docs.iter().map(|(id, t)| serde_json::json!({"id": id, "text": t}).to_string() + "\n").collect()
}

/// Exact Jaccard of two texts' word 5-gram sets (what `truth` computes).
fn exact(dir: &Path, docs: &[(String, String)], threshold: f64) -> HashMap<(String, String), f64> {
    let corpus = dir.join("for-truth.jsonl");
    std::fs::write(&corpus, jsonl(docs)).unwrap();
    let truth = dir.join("truth.jsonl");
    let o = run(&["truth", s(&corpus), "-o", s(&truth), "--threshold", &threshold.to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let (a, b) = (v["a"].as_str().unwrap().to_owned(), v["b"].as_str().unwrap().to_owned());
            ((a.clone().min(b.clone()), a.max(b)), v["jaccard"].as_f64().unwrap())
        })
        .collect()
}

fn dedup_clusters(corpus: &Path, extra: &[&str]) -> Vec<(String, String, f64)> {
    let mut args = vec!["dedup", s(corpus), "--clusters", "-", "-q"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    clusters(&String::from_utf8(o.stdout).unwrap())
}

fn cluster_of(rows: &[(String, String, f64)]) -> HashMap<String, String> {
    rows.iter().map(|(id, c, _)| (id.clone(), c.clone())).collect()
}

#[test]
fn star_clusters_cut_chains_and_components_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let docs = chain();
    let corpus = dir.path().join("chain.jsonl");
    std::fs::write(&corpus, jsonl(&docs)).unwrap();
    let alike = exact(dir.path(), &docs, 0.8);
    let pair = |a: &str, b: &str| alike.contains_key(&(a.min(b).to_owned(), a.max(b).to_owned()));
    // the chain as built: neighbours alike, the ends apart
    assert!(pair("a", "b") && pair("b", "c") && pair("c", "d"), "{alike:?}");
    assert!(!pair("a", "c") && !pair("b", "d") && !pair("a", "d"), "{alike:?}");
    for verify in ["estimate", "exact"] {
        let comp = cluster_of(&dedup_clusters(&corpus, &["--cluster", "components", "--verify", verify]));
        for id in ["a", "b", "c", "d"] {
            assert_eq!(comp[id], "a", "components, {verify}: {comp:?}");
        }
        let rows = dedup_clusters(&corpus, &["--verify", verify]);
        let star = cluster_of(&rows);
        // every removed document is alike the kept one; the chain's far end
        // starts a star of its own
        for (id, rep, sim) in &rows {
            if id != rep {
                assert!(pair(id, rep), "star, {verify}: {id} removed for {rep}, not alike: {rows:?}");
                assert!(*sim >= 0.8, "{rows:?}");
            }
        }
        // a keeps b; c, below the threshold to a, starts a star and keeps d
        for (id, want) in [("a", "a"), ("b", "a"), ("c", "c"), ("d", "c"), ("other", "other")] {
            assert_eq!(star[id], want, "star, {verify}: {rows:?}");
        }
    }
}

/// Three copies of one text that differ in length and fields, and an
/// unrelated document.
fn family() -> String {
    let base = words(5).join(" ");
    let rows = [
        serde_json::json!({"id": "mid", "text": format!("{base} tail one two"), "ts": "2024-03-01T00:00:00Z", "q": 5}),
        serde_json::json!({"id": "short", "text": base.clone(), "ts": "2024-05-01", "q": 1}),
        serde_json::json!({"id": "other", "text": words(6).join(" "), "ts": "2030-01-01", "q": 0}),
        serde_json::json!({"id": "long", "text": format!("{base} tail one two three four"), "ts": "2023-12-31T23:00:00-02:00", "q": 5}),
        serde_json::json!({"id": "nofield", "text": format!("{base} tail"), "q": "n/a"}),
    ];
    rows.iter().map(|r| r.to_string() + "\n").collect()
}

#[test]
fn keep_policies_keep_the_document_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("family.jsonl");
    std::fs::write(&corpus, family()).unwrap();
    for (keep, want) in [
        ("first", "mid"),
        ("longest", "long"),
        ("shortest", "short"),
        ("max:ts", "short"),
        ("min:ts", "long"),
        // a tie (5 and 5) goes to the earlier; "n/a" is no number and comes last
        ("max:q", "mid"),
        ("min:q", "short"),
    ] {
        for mode in ["star", "components"] {
            let rows = dedup_clusters(&corpus, &["--keep", keep, "--cluster", mode]);
            let c = cluster_of(&rows);
            for id in ["mid", "short", "long", "nofield"] {
                assert_eq!(c[id], want, "--keep {keep} --cluster {mode}: {rows:?}");
            }
            assert_eq!(c["other"], "other");
        }
    }
    // the deduplicated corpus holds the kept record
    let out = dir.path().join("kept.jsonl");
    let o = run(&["dedup", s(&corpus), "--keep", "max:ts", "-o", s(&out), "-q"]);
    assert!(o.status.success());
    let kept = std::fs::read_to_string(&out).unwrap();
    assert!(kept.contains("\"id\":\"short\"") && !kept.contains("\"id\":\"mid\""), "{kept}");
    // the summary counts the documents without the field
    let o = run(&["dedup", s(&corpus), "--keep", "max:ts"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 documents without the keep field"), "{err}");
    // and warns, even when quiet (a misspelt field would leave every document without it)
    let o = run(&["dedup", s(&corpus), "--keep", "max:crawl_date", "-q"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("warning: 5 of 5 documents have no number or timestamp"),
        "{err}"
    );
}

#[test]
fn keep_policies_are_the_same_in_memory_spilled_and_in_stages() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("family.jsonl");
    // many families, so that spilling and stages have work
    let mut text = String::new();
    for f in 0..40u64 {
        let base = words(100 + f).join(" ");
        for (i, extra) in ["", " one", " one two", " one two three"].iter().enumerate() {
            let ts = format!("2024-0{}-1{}", 1 + (f + i as u64 * 3) % 9, f % 10);
            text.push_str(
                &serde_json::json!({"id": format!("f{f}-{i}"), "text": format!("{base}{extra}"), "ts": ts})
                    .to_string(),
            );
            text.push('\n');
        }
    }
    std::fs::write(&corpus, &text).unwrap();
    for keep in ["longest", "max:ts", "min:ts"] {
        let mem = dedup_clusters(&corpus, &["--keep", keep]);
        let spill_dir = dir.path().join("spill");
        std::fs::create_dir_all(&spill_dir).unwrap();
        let spilled =
            dedup_clusters(&corpus, &["--keep", keep, "--max-memory", "1M", "--spill-dir", s(&spill_dir)]);
        assert_eq!(mem, spilled, "--keep {keep}: in memory and spilled differ");
        // stages: sign, link, components, filter keep the same records
        let signed = dir.path().join(format!("signed-{}", keep.replace(':', "-")));
        let linked = dir.path().join(format!("linked-{}", keep.replace(':', "-")));
        let comps = dir.path().join(format!("comps-{}", keep.replace(':', "-")));
        let kept = dir.path().join(format!("kept-{}.jsonl", keep.replace(':', "-")));
        for args in [
            vec!["sign", s(&corpus), "-o", s(&signed), "--keep", keep, "-q"],
            vec!["link", s(&signed), "-o", s(&linked), "--texts", s(&corpus), "-q"],
            vec!["components", s(&linked), "-o", s(&comps), "-q"],
            vec!["filter", s(&corpus), "--components", s(&comps), "-o", s(&kept), "-q"],
        ] {
            let o = run(&args);
            assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let want: Vec<&str> = mem.iter().filter(|(id, c, _)| id == c).map(|(id, _, _)| id.as_str()).collect();
        let got: Vec<String> = std::fs::read_to_string(&kept)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want, "--keep {keep}: the stages keep other records than dedup");
        assert!(want.len() < 160 && want.len() >= 40, "{want:?}");
    }
}

/// `max:WARC-Date` keeps the newest capture of a WET page; `max:FIELD` and
/// `min:FIELD` read Parquet columns of numbers and timestamps.
#[test]
fn keep_policies_read_warc_headers_and_parquet_columns() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampSecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    let dir = tempfile::tempdir().unwrap();
    let base = words(7).join(" ");
    let texts = [format!("{base} a"), format!("{base} b"), format!("{base} c"), words(8).join(" ")];
    let dates =
        ["2023-05-01T00:00:00Z", "2024-01-09T10:00:00Z", "2022-12-31T23:59:59Z", "2025-01-01T00:00:00Z"];
    let mut wet = Vec::new();
    for (i, (t, d)) in texts.iter().zip(dates).enumerate() {
        let head = format!(
            "WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://x/{i}\r\nWARC-Date: {d}\r\n\
             WARC-Record-ID: <urn:uuid:{i}>\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            t.len()
        );
        wet.extend_from_slice(head.as_bytes());
        wet.extend_from_slice(t.as_bytes());
        wet.extend_from_slice(b"\r\n\r\n");
    }
    let wet_path = dir.path().join("pages.wet");
    std::fs::write(&wet_path, &wet).unwrap();
    for (keep, want) in
        [("max:WARC-Date", "http://x/1"), ("min:warc-date", "http://x/2"), ("first", "http://x/0")]
    {
        let c = cluster_of(&dedup_clusters(&wet_path, &["--keep", keep]));
        for i in 0..3 {
            assert_eq!(c[&format!("http://x/{i}")], want, "--keep {keep}: {c:?}");
        }
        assert_eq!(c["http://x/3"], "http://x/3");
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("score", DataType::Float64, true),
        Field::new("crawled", DataType::Timestamp(TimeUnit::Second, None), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["p0", "p1", "p2", "p3"])),
        Arc::new(StringArray::from(texts.iter().map(String::as_str).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(vec![Some(0.5), None, Some(0.9), Some(0.1)])),
        Arc::new(TimestampSecondArray::from(vec![Some(300), Some(100), Some(200), None])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let pq = dir.path().join("pages.parquet");
    let mut w =
        ::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&pq).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    for (keep, want) in
        [("max:score", "p2"), ("min:score", "p0"), ("max:crawled", "p0"), ("min:crawled", "p1")]
    {
        let c = cluster_of(&dedup_clusters(&pq, &["--keep", keep]));
        for i in 0..3 {
            assert_eq!(c[&format!("p{i}")], want, "--keep {keep}: {c:?}");
        }
    }
}
