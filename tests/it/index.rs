use std::path::Path;

use crate::*;

/// For the same documents in the same order, the index's verdicts agree with
/// `neardup dedup`'s clusters: a new page is its cluster's representative, a
/// near-duplicate names the representative (data/small.jsonl has no chains).
#[test]
fn index_verdicts_agree_with_dedup_clusters() {
    let input = data("small.jsonl");
    let out = run(&["dedup", s(&input), "--clusters", "-", "-q"]);
    let clusters = clusters(&String::from_utf8(out.stdout).unwrap());
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&input).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let index = neardup::Index::new(&neardup::DedupBuilder::new().params().unwrap(), None).unwrap();
    for (rec, (id, rep, _)) in records.iter().zip(&clusters) {
        let verdict = index.insert(id, rec["text"].as_str().unwrap());
        match verdict {
            neardup::Verdict::New => assert_eq!(id, rep, "{id}"),
            neardup::Verdict::Duplicate { of, similarity, .. } => {
                assert_eq!(&of, rep, "{id}");
                assert!(similarity >= 0.8);
            }
            v => panic!("{id}: {v:?}"),
        }
    }
    assert_eq!(index.len(), clusters.len());
}

/// The index built from `data/small.jsonl`, inserted in file order.
fn small_index(compact: bool) -> (neardup::Index, Vec<(String, String)>) {
    let records: Vec<(String, String)> = std::fs::read_to_string(data("small.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = v["id"].as_str().map_or_else(|| format!("line{}", n + 1), str::to_owned);
            (id, v["text"].as_str().unwrap().to_owned())
        })
        .collect();
    let params = neardup::DedupBuilder::new().params().unwrap();
    let index =
        if compact { neardup::Index::new_compact(&params, None) } else { neardup::Index::new(&params, None) }
            .unwrap();
    for (id, text) in &records {
        index.insert(id, text);
    }
    (index, records)
}

/// The saved-index format is pinned by golden files: an index built today
/// from the shipped corpus saves to the same bytes, and the golden files open
/// and answer. A deliberate format change bumps Index::FORMAT_VERSION and
/// re-blesses them with `NEARDUP_BLESS=1 cargo test --release golden`.
#[test]
fn saved_index_format_matches_the_golden_files() {
    assert_eq!(neardup::Index::FORMAT_VERSION, 2, "a new format version needs new golden files");
    let dir = tempfile::tempdir().unwrap();
    for (compact, name) in [(false, "small-v2.ndx"), (true, "small-v2-compact.ndx")] {
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let (index, records) = small_index(compact);
        let fresh = dir.path().join(name);
        index.save(&fresh).unwrap();
        if std::env::var_os("NEARDUP_BLESS").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::copy(&fresh, &golden).unwrap();
        }
        let bytes = std::fs::read(&golden).expect("golden index file (NEARDUP_BLESS=1 writes it)");
        assert!(std::fs::read(&fresh).unwrap() == bytes, "{name}: the saved format changed");
        let opened = neardup::Index::open(&golden).unwrap();
        assert_eq!(opened.len(), records.len());
        assert_eq!(opened.is_compact(), compact);
        for (id, text) in &records {
            assert!(opened.contains(id));
            assert_eq!(opened.query(text), index.query(text), "{id}");
        }
    }
}

/// Files of format version 1 (no fingerprint sets) still open: every
/// record is found, itself first, and pages added to them are verified as
/// that version did (the estimate, or the small sets it kept); saved again,
/// they are version 2 files without fingerprints.
#[test]
fn format_1_index_files_still_open() {
    let dir = tempfile::tempdir().unwrap();
    for (compact, name) in [(false, "small-v1.ndx"), (true, "small-v1-compact.ndx")] {
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let (fresh, records) = small_index(compact);
        let old = neardup::Index::open(&golden).unwrap();
        assert_eq!((old.len(), old.is_compact()), (records.len(), compact));
        for (id, text) in &records {
            assert!(old.contains(id));
            let found = old.query(text);
            if text.split_whitespace().count() >= 5 {
                assert_eq!(found[0].similarity, 1.0, "{id}");
                assert!(found.iter().any(|m| &m.id == id), "{id}");
            }
        }
        let page = format!("{} and one more sentence at its end", records[0].1);
        assert_eq!(old.insert("grown", &page), fresh.insert("grown", &page));
        let resaved = dir.path().join(name);
        old.save(&resaved).unwrap();
        let bytes = std::fs::read(&resaved).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
        assert_eq!(neardup::Index::open(&resaved).unwrap().len(), records.len() + 1);
    }
}

/// `index build` of two halves through `index add` gives the same file as
/// one `index build` of the whole, and `index query` of the corpus finds every
/// record (itself, at similarity 1) without changing the index.
#[test]
fn cli_build_add_query_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> =
        std::fs::read_to_string(data("small.jsonl")).unwrap().lines().map(str::to_owned).collect();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(&a, lines[..9].join("\n") + "\n").unwrap();
    std::fs::write(&b, lines[9..].join("\n") + "\n").unwrap();
    let whole = dir.path().join("whole.ndx");
    let out = run(&["index", "build", s(&a), s(&b), "-o", s(&whole), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let grown = dir.path().join("grown.ndx");
    assert!(run(&["index", "build", s(&a), "-o", s(&grown), "-q"]).status.success());
    let verdicts = dir.path().join("v.jsonl");
    let out = run(&["index", "add", s(&grown), s(&b), "--verdicts", s(&verdicts), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&whole).unwrap(), std::fs::read(&grown).unwrap());
    let v: Vec<serde_json::Value> = std::fs::read_to_string(&verdicts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), lines.len() - 9);
    assert!(v.iter().all(|v| v.get("matches").is_none()));
    // with --all, a duplicate lists every earlier match, its best first
    let all = dir.path().join("all.jsonl");
    let again = dir.path().join("again.ndx");
    let out = run(&["index", "build", s(&a), s(&b), "-o", s(&again), "--verdicts", s(&all), "--all", "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: Vec<serde_json::Value> =
        std::fs::read_to_string(&all).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(all.iter().any(|v| v["verdict"] == "duplicate"));
    for v in &all {
        match v["verdict"].as_str() {
            Some("duplicate") => {
                let m = v["matches"].as_array().unwrap();
                assert_eq!((&m[0]["id"], &m[0]["similarity"]), (&v["of"], &v["similarity"]), "{v}");
            }
            _ => assert!(v.get("matches").is_none(), "{v}"),
        }
    }
    // adding the same records again: every one already indexed
    let out = run(&["index", "add", s(&grown), s(&b), "--verdicts", "-", "-q"]);
    assert!(String::from_utf8_lossy(&out.stdout).lines().all(|l| l.contains(r#""verdict":"exists""#)));

    let before = std::fs::read(&whole).unwrap();
    let out = run_stdin(&["index", "query", s(&whole), "-q"], lines.join("\n").as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), lines.len());
    for (line, ans) in lines.iter().zip(&answers) {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        if rec["text"].as_str().unwrap().split_whitespace().count() < 5 {
            continue; // no shingles: matches nothing
        }
        assert_eq!(ans["verdict"], "duplicate", "{ans}");
        assert_eq!(ans["similarity"], 1.0, "{ans}");
    }
    assert_eq!(std::fs::read(&whole).unwrap(), before, "query must not change the index");

    // a truncated input: what could be read is added and saved, and the exit
    // code says the rest was not (for query too)
    let cut = dir.path().join("cut.jsonl.zst");
    let zst = zstd::encode_all(std::fs::read(&b).unwrap().as_slice(), 3).unwrap();
    std::fs::write(&cut, &zst[..zst.len() * 2 / 3]).unwrap();
    let partial = dir.path().join("partial.ndx");
    let out = run(&["index", "build", s(&a), s(&cut), "-o", s(&partial)]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut.jsonl.zst"));
    assert!(partial.exists());
    let out = run(&["index", "query", s(&partial), s(&cut), "-q"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_refuses_damaged_or_foreign_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let idx = dir.path().join("i.ndx");
    assert!(run(&["index", "build", s(&data("small.jsonl")), "-o", s(&idx), "-q"]).status.success());
    let mut bytes = std::fs::read(&idx).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&idx, &bytes).unwrap();
    let out = run(&["index", "query", s(&idx), s(&data("small.jsonl"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("i.ndx") && err.contains("truncated"), "{err}");
    let out = run(&["index", "add", s(&data("small.jsonl")), s(&data("seed-article.txt"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a neardup index"));
    // an index may not be written over one of its inputs
    let copy = dir.path().join("c.jsonl");
    std::fs::copy(data("small.jsonl"), &copy).unwrap();
    let out = run(&["index", "build", s(&copy), "-o", s(&copy)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(data("small.jsonl")).unwrap());
}
