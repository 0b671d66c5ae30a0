//! Text in every script: documents written without spaces between words are
//! deduplicated like any other, in dedup, truth, passages and the index; and
//! the multilingual corpus built from Debian's translated manual pages
//! (benches/multilingual; skipped with a message where they are absent) is
//! clustered with document precision and recall of at least 0.99 in every
//! language.

use crate::*;

/// Two Chinese news paragraphs that differ by one two-character word, and an
/// unrelated one.
const ZH_A: &str = "新华社北京十二月一日电国务院总理今天在人民大会堂会见了来访的外国代表团双方就进一步加强经济合作\
                    扩大贸易往来深化人文交流等问题深入交换了意见并签署了多项合作文件";
const ZH_B: &str = "新华社北京十二月一日电国务院总理昨天在人民大会堂会见了来访的外国代表团双方就进一步加强经济合作\
                    扩大贸易往来深化人文交流等问题深入交换了意见并签署了多项合作文件";
const ZH_OTHER: &str = "今年冬天北方地区气温偏低多地出现降雪天气交通部门提醒广大司机朋友注意行车安全合理安排出行时间\
                        铁路部门也增开了多趟列车以满足旅客出行需求";
/// Thai and Japanese, the same way.
const TH_A: &str = "กรุงเทพมหานครเป็นเมืองหลวงและนครที่มีประชากรมากที่สุดของประเทศไทยเป็นศูนย์กลางการปกครอง\
                    การศึกษาการคมนาคมขนส่งการเงินการธนาคารการพาณิชย์การสื่อสารและความเจริญของประเทศ";
const TH_B: &str = "กรุงเทพมหานครเป็นเมืองหลวงและนครที่มีประชากรมากที่สุดของประเทศไทยเป็นศูนย์กลางการปกครอง\
                    การศึกษาการคมนาคมขนส่งการเงินการธนาคารการค้าการสื่อสารและความเจริญของประเทศ";
const JA_A: &str = "東京都は日本の首都であり、政治、経済、文化の中心地として多くの人々が暮らしている。\
                    毎年世界中から観光客が訪れ、伝統的な寺社と近代的な高層ビルが共存する街並みを楽しんでいる。";
const JA_B: &str = "東京都は日本の首都であり、政治、経済、文化の中心地として多くの人々が暮らしている。\
                    毎年世界中から旅行者が訪れ、伝統的な寺社と近代的な高層ビルが共存する街並みを楽しんでいる。";

fn corpus(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("scripts.jsonl");
    let lines: Vec<String> = [
        ("zh-a", ZH_A),
        ("zh-b", ZH_B),
        ("zh-other", ZH_OTHER),
        ("th-a", TH_A),
        ("th-b", TH_B),
        ("ja-a", JA_A),
        ("ja-b", JA_B),
    ]
    .iter()
    .map(|(id, text)| serde_json::json!({"id": id, "text": text}).to_string())
    .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The example: one changed two-character word does not hide a
/// near-duplicate; dedup (in memory, spilled, verified exactly) and truth
/// agree.
#[test]
fn documents_without_spaces_are_near_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path());
    let truth = dir.path().join("truth.jsonl");
    assert!(run(&["truth", s(&input), "-o", s(&truth)]).status.success());
    let mut pairs: Vec<(String, String)> = std::fs::read_to_string(&truth)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["a"].as_str().unwrap().to_owned(), v["b"].as_str().unwrap().to_owned())
        })
        .collect();
    pairs.sort();
    let expect = [("ja-a", "ja-b"), ("th-a", "th-b"), ("zh-a", "zh-b")];
    assert_eq!(pairs, expect.map(|(a, b)| (a.to_owned(), b.to_owned())));
    for extra in [&[][..], &["--max-memory", "1M"], &["--verify", "exact"]] {
        let kept = dir.path().join("kept.jsonl");
        let mut args = vec!["dedup", s(&input), "-o", s(&kept), "-q"];
        args.extend_from_slice(extra);
        assert!(run(&args).status.success(), "{extra:?}");
        let ids: Vec<String> = std::fs::read_to_string(&kept)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["zh-a", "zh-other", "th-a", "ja-a"], "{extra:?}");
    }
}

/// Passages find a sentence repeated inside Chinese text, with spans that
/// cover only it (not the whole unspaced paragraph).
#[test]
fn passages_in_text_without_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = "国务院总理今天在人民大会堂会见了来访的外国代表团";
    let a = format!("今年冬天北方地区气温偏低。{sentence}。多地出现降雪天气。");
    let b = format!("铁路部门也增开了多趟列车。{sentence}。以满足旅客出行需求。");
    let input = dir.path().join("p.jsonl");
    let lines = [("a", &a), ("b", &b)].map(|(id, t)| serde_json::json!({"id": id, "text": t}).to_string());
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("passages.jsonl");
    let o = run(&["passages", s(&input), "--min-words", "9", "-o", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let found: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!found.is_empty(), "no passage found");
    for p in &found {
        let text = p["text"].as_str().unwrap_or_default();
        assert!(text.contains(sentence) && text.chars().count() <= sentence.chars().count() + 4, "{p}");
    }
}

/// Every language of the corpus built from Debian's translated manual pages
/// and message catalogs, with planted edited copies: document precision and
/// recall of connected components at least 0.99 against exact truth, and no
/// star cluster removing a document not alike the one kept.
#[test]
fn multilingual_corpus_per_language() {
    let packages = ["manpages-zh", "manpages-ja", "manpages-de", "manpages-fr", "manpages-ru"];
    if let Some(p) = packages.iter().find(|p| !std::path::Path::new(&format!("/usr/share/doc/{p}")).is_dir())
    {
        eprintln!("skipped: {p} is not installed (apt-get install {})", packages.join(" "));
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("multi.jsonl");
    let build = std::process::Command::new("python3")
        .args([&format!("{root}/benches/multilingual/build.py"), s(&corpus), "--per-lang", "600"])
        .output()
        .expect("python3");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let langs = String::from_utf8_lossy(&build.stderr);
    for lang in ["en", "de", "fr", "ru", "zh", "ja"] {
        assert!(langs.contains(&format!("{lang}: 600 documents")), "{langs}");
    }
    let score = std::process::Command::new("python3")
        .args([
            &format!("{root}/benches/multilingual/run.py"),
            s(&corpus),
            "--bin",
            env!("CARGO_BIN_EXE_neardup"),
            "--min",
            "0.99",
        ])
        .output()
        .unwrap();
    assert!(
        score.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&score.stdout),
        String::from_utf8_lossy(&score.stderr)
    );
}
