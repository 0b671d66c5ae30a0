//! Shared bench data: text derived deterministically from the shipped seed
//! article, so every bench runs on a fresh clone without downloads.

#![allow(dead_code)]

/// About `target` bytes of documents built from `neardup gen`'s generator
/// over the seed article's paragraphs (planted near-duplicates included).
pub fn documents(target: u64) -> Vec<String> {
    let seed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
    let paras = neardup::eval::paragraphs([seed.as_str()]);
    let mut opts = neardup::eval::SynthOptions::default();
    opts.target_bytes = target;
    let (mut corpus, mut planted) = (Vec::new(), Vec::new());
    neardup::eval::generate(&paras, &opts, &mut corpus, &mut planted).unwrap();
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

/// Web-page-like texts of about 5 KB: page `i` strings together paragraphs
/// picked by a hash of `i`. The paragraphs come from the real corpus at
/// `NEARDUP_DEV_CORPUS` when it is set (realistic pages that share some
/// paragraphs, as boilerplate does), else from generated documents.
pub struct Pages {
    paras: Vec<String>,
    /// Where the paragraphs came from, for the report.
    pub source: String,
}

impl Pages {
    pub fn new() -> Pages {
        match std::env::var("NEARDUP_DEV_CORPUS") {
            Ok(path) => {
                let inputs =
                    neardup::io::expand_inputs(&[path.clone().into()], neardup::io::Format::Auto).unwrap();
                let (texts, _) =
                    neardup::io::read_texts(&inputs, &neardup::io::ReadOptions::default()).unwrap();
                let paras = neardup::eval::paragraphs(texts.iter().map(String::as_str));
                Pages { source: format!("{} paragraphs of {path}", paras.len()), paras }
            }
            Err(_) => {
                let docs = documents(8 << 20);
                let paras = neardup::eval::paragraphs(docs.iter().map(String::as_str));
                Pages { source: format!("{} paragraphs of generated text", paras.len()), paras }
            }
        }
    }

    /// Page `i` (deterministic).
    pub fn page(&self, i: u64) -> String {
        let mut out = String::with_capacity(5200);
        let mut j = 0u64;
        while out.len() < 5000 {
            let h = splitmix(i.wrapping_mul(0x1_0000_0001).wrapping_add(j));
            out.push_str(&self.paras[(h % self.paras.len() as u64) as usize]);
            out.push_str("\n\n");
            j += 1;
        }
        out
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
