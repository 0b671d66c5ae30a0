use crate::*;

fn passages(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The founding example: exactly two passages, the repeated title and the
/// repeated three-paragraph block as one span, with exact byte offsets.
#[test]
fn seed_article_reports_exactly_its_two_repeats() {
    let seed = data("seed-article.txt");
    let got = passages(&run(&["passages", s(&seed), "-q"]));
    let spans: Vec<(u64, u64, u64, u64)> = got
        .iter()
        .map(|p| {
            let f = |k: &str| p[k].as_u64().unwrap();
            (f("start"), f("end"), f("source_start"), f("source_end"))
        })
        .collect();
    assert_eq!(spans, [(320, 391, 247, 318), (2239, 3476, 1001, 2238)]);
    let text = std::fs::read_to_string(&seed).unwrap();
    assert_eq!(got[0]["text"], text[320..391]);
    assert_eq!(got[0]["words"], 9);
    assert_eq!(got[1]["text"].as_str().unwrap().chars().count(), 200);
    assert!(got.iter().all(|p| p["doc"] == s(&seed) && p["source_doc"] == s(&seed)));
}

#[test]
fn strip_keeps_first_occurrences_and_other_fields() {
    let dir = tempfile::tempdir().unwrap();
    let article = std::fs::read_to_string(data("seed-article.txt")).unwrap();
    let input = dir.path().join("in.jsonl");
    let first = serde_json::json!({"id": "a", "meta": {"x": [1, 2.50]}, "text": article}).to_string();
    // key order and spacing of this record must survive stripping
    let copy_text = serde_json::to_string(&format!("Intro line here. {}", &article[1001..2238])).unwrap();
    let copy = format!(r#"{{"text" : {copy_text}, "id": "b"}}"#);
    std::fs::write(&input, format!("{first}\n{copy}\n")).unwrap();
    let stripped = dir.path().join("out.jsonl");
    let out = run(&["passages", s(&input), "--strip", s(&stripped), "-q"]);
    let got = passages(&out);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2]["doc"], "b");
    assert_eq!(got[2]["source_doc"], "a");
    let lines: Vec<String> = std::fs::read_to_string(&stripped).unwrap().lines().map(str::to_owned).collect();
    let a: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let mut want_a = article.clone();
    want_a.replace_range(2239..3476, "");
    want_a.replace_range(320..391, "");
    assert_eq!(a["text"], want_a);
    // every other byte of the record is unchanged
    assert!(lines[0].starts_with(r#"{"id":"a","meta":{"x":[1,2.5]},"text":""#), "{}", lines[0]);
    let b: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(b["text"], "Intro line here. ");
    assert_eq!(lines[1], r#"{"text" : "Intro line here. ", "id": "b"}"#);
}

#[test]
fn within_and_against() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = "the quick brown fox jumps over the lazy dog near the old river bank";
    let corpus = dir.path().join("train.jsonl");
    let test_set = dir.path().join("test.jsonl");
    std::fs::write(
        &corpus,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "t1", "text": format!("Training text. {sentence}. More.")}),
            serde_json::json!({"id": "t2", "text": format!("Other words. {sentence}!")})
        ),
    )
    .unwrap();
    std::fs::write(
        &test_set,
        format!("{}\n", serde_json::json!({"id": "q1", "text": format!("Q: {sentence}?")})),
    )
    .unwrap();
    // corpus-wide: t2 repeats t1
    let got = passages(&run(&["passages", s(&corpus), "-q"]));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0]["doc"].as_str(), got[0]["source_doc"].as_str()), (Some("t2"), Some("t1")));
    // within: nothing repeats inside a document
    assert!(passages(&run(&["passages", s(&corpus), "--within", "-q"])).is_empty());
    // against: the test question is contaminated by the training corpus
    let got = passages(&run(&["passages", s(&test_set), "--against", s(&corpus), "-q"]));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0]["doc"].as_str(), got[0]["source_doc"].as_str()), (Some("q1"), Some("t1")));
    assert_eq!(got[0]["words"], 14);
    let text = format!("Q: {sentence}?");
    let (a, b) = (got[0]["start"].as_u64().unwrap() as usize, got[0]["end"].as_u64().unwrap() as usize);
    assert_eq!(&text[a..b], format!("{sentence}?"));
}

#[test]
fn passages_are_deterministic_across_threads_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, synthetic_corpus(2000)).unwrap();
    let one = run(&["passages", s(&path), "--threads", "1", "-q"]);
    let two = run(&["passages", s(&path), "--threads", "2", "--no-mmap", "-q"]);
    assert!(one.status.success());
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn passages_bad_input_and_parameters() {
    let out = run(&["passages", s(&data("seed-article.txt")), "--min-words", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run_stdin(&["passages", "-", "--format", "jsonl", "--strict"], b"{\"text\": 1}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-:1: field `text` is a number"));
}
