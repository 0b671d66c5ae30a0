//! `neardup report` and `dedup --report`: a self-contained page with its
//! plots, escaped hostile text, errors naming file and line, and (when
//! chromium is installed) the page rendered in a headless browser with no
//! script error.

use std::path::Path;
use std::process::Command;

use super::{data, run, s};

/// The plots' titles (as `report/page.rs` names them).
const TITLES: [&str; 4] = [
    "Similarity of members to their representative",
    "Cluster sizes",
    "Probability of becoming a candidate pair",
    "Duplicates per source",
];

/// A small corpus with a hostile document and its near-copy.
fn hostile_corpus(dir: &Path) -> std::path::PathBuf {
    let body = "<script>alert(1)</script> the quick brown fox jumps over the lazy dog and runs far away \
                into the green hills where nobody can find it again before the night falls on the town";
    let mut text = String::new();
    text.push_str(&serde_json::json!({"id": "evil/<b>1</b>", "text": body}).to_string());
    text.push('\n');
    text.push_str(&serde_json::json!({"id": "evil/2", "text": format!("{body} today")}).to_string());
    text.push('\n');
    text.push_str(
        &serde_json::json!({"id": "calm/3", "text": "a different document about nothing at all"}).to_string(),
    );
    text.push('\n');
    let p = dir.join("hostile.jsonl");
    std::fs::write(&p, text).unwrap();
    p
}

/// Check what every page must be: self-contained, with its plots.
fn check_page(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100.min(html.len())]);
    for bad in ["src=\"http", "href=\"http", "src='http", "href='http", "url(http", "@import", "<link"] {
        assert!(!html.contains(bad), "the page refers outside itself: {bad}");
    }
    assert!(html.contains("<svg"), "no inline SVG");
    for t in TITLES {
        assert!(html.contains(t), "no plot titled {t:?}");
    }
    assert!(html.contains("P(0.8) = "), "the S-curve does not print the probability at the threshold");
    assert!(html.len() < 5_000_000, "page of {} bytes", html.len());
    // the chains counted from the clusters file are the summary's
    let at = html.find(" clusters hold a member below the threshold").expect("no chains paragraph");
    let counted = html[..at].rsplit('>').next().unwrap();
    let from_summary = html[at..].split("</code>: ").nth(1).unwrap().split(')').next().unwrap();
    assert_eq!(counted, from_summary, "chains counted vs the summary's chained_clusters");
}

#[test]
fn report_of_dedup_outputs_and_dedup_report_are_the_same_page() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_corpus(dir.path());
    let (c, sj, page) = (dir.path().join("c.jsonl"), dir.path().join("s.json"), dir.path().join("r.html"));
    let direct = dir.path().join("direct.html");
    let out = run(&[
        "dedup",
        s(&input),
        "--clusters",
        s(&c),
        "--summary-json",
        s(&sj),
        "--report",
        s(&direct),
        "-q",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        run(&["report", "--clusters", s(&c), "--summary", s(&sj), "--inputs", s(&input), "-o", s(&page)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for p in [&page, &direct] {
        let html = std::fs::read_to_string(p).unwrap();
        check_page(&html);
        assert!(!html.contains("<script>alert"), "hostile text is not escaped");
        let unmarked = html.replace("<mark>", "").replace("</mark>", "");
        assert!(unmarked.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the hostile text is not shown");
        assert!(html.contains("evil/&lt;b&gt;1&lt;/b&gt;"), "the hostile id is not shown escaped");
        assert!(html.contains("<mark>"), "no shared passage is marked");
        assert!(!html.contains("text not found"), "a sampled id was not found in the inputs");
        assert_eq!(html.matches("<script>").count(), 1, "one inline script only");
    }
    // the same code made both: the same page but for the names of the files it came from
    let body = |p: &Path| {
        let html = std::fs::read_to_string(p).unwrap();
        html[html.find("<h2>Summary</h2>").unwrap()..].to_owned()
    };
    assert_eq!(body(&page), body(&direct));
    browser_check(&page);
    // no temporary clusters file is left next to the report
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 5, "{left:?}");
}

#[test]
fn report_without_clusters_flag_and_of_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("gen.jsonl");
    let out = run(&["gen", s(&data("seed-article.txt")), "--size", "2M", "-o", s(&corpus)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = dir.path().join("gen.html");
    let out = run(&["dedup", s(&corpus), "--report", s(&page), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    check_page(&html);
    assert!(html.contains("<mark>"), "no shared passage is marked");
    assert!(!html.contains("text not found"), "a sampled id was not found in the inputs");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "a temporary file was left");
    browser_check(&page);
    // Parquet clusters: the report reads a temporary JSON-lines copy, removed after
    let (c, again) = (dir.path().join("c.parquet"), dir.path().join("again.html"));
    let out = run(&["dedup", s(&corpus), "--clusters", s(&c), "--report", s(&again), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body = |p: &Path| {
        let html = std::fs::read_to_string(p).unwrap();
        html[html.find("<h2>Plots</h2>").unwrap()..].to_owned()
    };
    assert_eq!(body(&page), body(&again));
    let mut left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["again.html", "c.parquet", "gen.html", "gen.jsonl"]);
}

#[test]
fn report_of_the_small_corpus_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let small = data("small.jsonl");
    let (c, sj, page) =
        (dir.path().join("c.jsonl"), dir.path().join("s.json"), dir.path().join("small.html"));
    let out = run(&["dedup", s(&small), "--clusters", s(&c), "--summary-json", s(&sj), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let passages = dir.path().join("p.jsonl");
    let out = run(&["passages", s(&small), "-o", s(&passages), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&[
        "report",
        "--clusters",
        s(&c),
        "--summary",
        s(&sj),
        "--passages",
        s(&passages),
        "--by",
        "file",
        "--inputs",
        s(&small),
        "-o",
        s(&page),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    check_page(&html);
    assert!(html.contains("Repeated passages"));
    browser_check(&page);
}

#[test]
fn report_errors_name_the_file_and_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (c, sj, page) = (dir.path().join("c.jsonl"), dir.path().join("s.json"), dir.path().join("r.html"));
    std::fs::write(&sj, r#"{"params":{"threshold":0.8,"bands":16,"rows":8}}"#).unwrap();
    std::fs::write(&c, "{\"id\":\"a\",\"cluster\":\"a\",\"similarity\":1.0}\n{\"id\":\"b\",\"cluster\"\n")
        .unwrap();
    let report =
        |c: &Path, sj: &Path| run(&["report", "--clusters", s(c), "--summary", s(sj), "-o", s(&page)]);
    let out = report(&c, &sj);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("c.jsonl:2: not a clusters row"), "{err}");
    assert!(!page.exists(), "a page was written from a bad clusters file");
    let out = report(&dir.path().join("missing.jsonl"), &sj);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("missing.jsonl"), "{err}");
    std::fs::write(&c, "{\"id\":\"a\",\"cluster\":\"a\",\"similarity\":1.0}\n").unwrap();
    std::fs::write(&sj, r#"{"params":{}}"#).unwrap();
    let out = report(&c, &sj);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("s.json: missing number field `params.threshold`"), "{err}");
    std::fs::write(&sj, "{not json").unwrap();
    let out = report(&c, &sj);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("s.json: invalid JSON"), "{err}");
}

/// Whether `chromium` runs here.
fn chromium() -> bool {
    Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Render `page` in headless chromium: a screenshot that is not blank, the
/// script's mark in the DOM, and no uncaught script error. Without chromium
/// the test fails unless NEARDUP_NO_BROWSER=1 says to skip this part.
fn browser_check(page: &Path) {
    if !chromium() {
        if std::env::var("NEARDUP_NO_BROWSER").as_deref() == Ok("1") {
            eprintln!("skipped: chromium not installed (NEARDUP_NO_BROWSER=1)");
            return;
        }
        panic!("chromium is not installed: apt-get install -y chromium, or set NEARDUP_NO_BROWSER=1 to skip");
    }
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("shot.png");
    let base = |cmd: &mut Command| {
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
            .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut cmd = Command::new("chromium");
    base(&mut cmd);
    let out = cmd
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,4000", "--enable-logging=stderr", "--v=0"])
        .arg(&url)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("Uncaught"), "a script error in the page: {log}");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a blank screenshot of {} bytes", png.len());
    let mut cmd = Command::new("chromium");
    base(&mut cmd);
    let out = cmd.arg("--dump-dom").arg(&url).output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(!dom.contains("<script>alert"), "a document's script became part of the page");
    assert!(
        dom.contains("data-ok=\"4\""),
        "the page's script did not run or did not see 4 plots: {}",
        &dom[..dom.len().min(300)]
    );
}

/// Without an id field documents are FILE:LINE: the report finds their
/// texts by those ids and groups them by file.
#[test]
fn report_finds_file_line_ids_and_groups_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = super::synthetic_corpus(60);
    let no_ids: String = corpus
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}\n\n", serde_json::json!({"text": v["text"]}))
        })
        .collect();
    let input = dir.path().join("noid.jsonl");
    std::fs::write(&input, no_ids).unwrap();
    let (c, sj, page) = (dir.path().join("c.jsonl"), dir.path().join("s.json"), dir.path().join("r.html"));
    let out = run(&["dedup", s(&input), "--clusters", s(&c), "--summary-json", s(&sj), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let clusters = std::fs::read_to_string(&c).unwrap();
    assert!(clusters.contains(":3\""), "ids are not FILE:LINE with blank lines counted: {clusters}");
    let out = run(&[
        "report",
        "--clusters",
        s(&c),
        "--summary",
        s(&sj),
        "--by",
        "file",
        "--inputs",
        s(&input),
        "-o",
        s(&page),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    check_page(&html);
    assert!(html.contains("<mark>"), "no shared passage is marked");
    assert!(!html.contains("text not found"), "a FILE:LINE id was not found in the inputs");
    assert!(
        html.contains("noid.jsonl</text>") && html.contains("noid.jsonl: "),
        "documents are not grouped by their file"
    );
}
