//! Shared bench data: text derived deterministically from the shipped seed
//! article, so every bench runs on a fresh clone without downloads.

#![allow(dead_code)]

/// About `target` bytes of documents built from `neardup gen`'s generator
/// over the seed article's paragraphs (planted near-duplicates included).
pub fn documents(target: u64) -> Vec<String> {
    let seed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
    let paras = neardup::paragraphs([seed.as_str()]);
    let mut opts = neardup::SynthOptions::default();
    opts.target_bytes = target;
    let (mut corpus, mut planted) = (Vec::new(), Vec::new());
    neardup::generate(&paras, &opts, &mut corpus, &mut planted).unwrap();
    String::from_utf8(corpus)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Total bytes of `docs`.
pub fn bytes(docs: &[String]) -> u64 {
    docs.iter().map(|d| d.len() as u64).sum()
}

/// Write `docs` as JSONL (`id`, `text`) into `dir`; returns the path and the
/// file's size.
pub fn write_jsonl(docs: &[String], dir: &std::path::Path) -> (std::path::PathBuf, u64) {
    let path = dir.join("bench.jsonl");
    let jsonl: String = docs
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}\n", serde_json::json!({"id": i, "text": t})))
        .collect();
    std::fs::write(&path, &jsonl).unwrap();
    (path, jsonl.len() as u64)
}
