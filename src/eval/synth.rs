//! A deterministic generator of realistic corpora with planted
//! near-duplicates, for scale runs and quality checks.
//!
//! Documents are built from real text the caller supplies (paragraphs of a
//! seed corpus, never random letters): each new document is either an
//! original (a random run of seed paragraphs) or, with probability
//! `dup_rate`, a mutation of a recent original: word edits, insertions,
//! deletions, a repeated paragraph (as in the seed article), truncation or
//! reordering of paragraphs. Output is streamed: memory holds the seed
//! paragraphs and a bounded window of recent originals.

use std::io::Write;

use crate::error::{Error, Result};
use crate::hash::SeedStream;

/// How a planted near-duplicate was made from its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mutation {
    /// Some words replaced by other words of the seed vocabulary.
    Edit,
    /// Some words inserted.
    Insert,
    /// Some words deleted.
    Delete,
    /// One paragraph repeated at the end (the seed article's fault).
    RepeatParagraph,
    /// The tail cut off.
    Truncate,
    /// Two paragraphs swapped.
    Reorder,
}

/// Generator options.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SynthOptions {
    /// Stop once this many bytes of JSONL are written.
    pub target_bytes: u64,
    /// Fraction of documents that are planted near-duplicates.
    pub dup_rate: f64,
    /// Seed of the generator.
    pub seed: u64,
    /// Paragraphs per original document (inclusive range).
    pub paragraphs: (usize, usize),
    /// Fraction of words touched by an edit, insert or delete mutation
    /// (inclusive range, drawn per document).
    pub strength: (f64, f64),
}

impl Default for SynthOptions {
    fn default() -> SynthOptions {
        SynthOptions {
            target_bytes: 100 << 20,
            dup_rate: 0.3,
            seed: 42,
            paragraphs: (2, 8),
            strength: (0.01, 0.15),
        }
    }
}

/// What a generation run produced.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct SynthStats {
    /// Documents written.
    pub documents: u64,
    /// Of which planted near-duplicates.
    pub planted: u64,
    /// Bytes of JSONL written.
    pub bytes: u64,
}

/// Recent originals kept as mutation sources.
const WINDOW: usize = 4096;

/// Split seed texts into paragraphs (non-empty lines or blank-line blocks of
/// at least 5 words).
pub fn paragraphs<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for t in texts {
        for p in t.split("\n\n").flat_map(|b| if b.len() > 2000 { b.split('\n').collect() } else { vec![b] })
        {
            let p = p.trim();
            if p.split_whitespace().count() >= 5 {
                out.push(p.to_owned());
            }
        }
    }
    out
}

/// Generate a corpus from `seed_paragraphs` into `corpus` (JSONL: `id`,
/// `text`), writing one line per planted near-duplicate into `planted`
/// (`id`, `of`, `mutation`, `strength`).
pub fn generate(
    seed_paragraphs: &[String],
    opts: &SynthOptions,
    corpus: &mut impl Write,
    planted: &mut impl Write,
) -> Result<SynthStats> {
    if seed_paragraphs.is_empty() {
        return Err(Error::param("the seed text has no paragraph of 5 words or more"));
    }
    if !(0.0..=1.0).contains(&opts.dup_rate) {
        return Err(Error::param(format!("dup_rate must be in [0, 1], got {}", opts.dup_rate)));
    }
    let (pmin, pmax) = opts.paragraphs;
    if pmin == 0 || pmax < pmin {
        return Err(Error::param("paragraph range must be 1 <= min <= max"));
    }
    let vocab: Vec<&str> = seed_paragraphs.iter().flat_map(|p| p.split_whitespace()).take(1 << 20).collect();
    let mut rng = SeedStream::new(opts.seed, 0x5e17);
    let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut recent: Vec<(u64, Vec<String>)> = Vec::with_capacity(WINDOW);
    let mut stats = SynthStats::default();
    // an AtomicFile's error names its file
    let io = |e: std::io::Error| crate::io::output::output_error(e, "<generated corpus>");
    let io_planted = |e: std::io::Error| crate::io::output::output_error(e, "<planted pairs>");
    let mut line = String::new();
    while stats.bytes < opts.target_bytes {
        let id = stats.documents;
        let pick = |u: f64, n: usize| ((u * n as f64) as usize).min(n - 1);
        let (paras, origin) = if !recent.is_empty() && unit() < opts.dup_rate {
            let (of, base) = &recent[pick(unit(), recent.len())];
            let kind = [
                Mutation::Edit,
                Mutation::Insert,
                Mutation::Delete,
                Mutation::RepeatParagraph,
                Mutation::Truncate,
                Mutation::Reorder,
            ][pick(unit(), 6)];
            let strength = opts.strength.0 + unit() * (opts.strength.1 - opts.strength.0);
            let paras = mutate(base, kind, strength, &vocab, &mut unit);
            (paras, Some((*of, kind, strength)))
        } else {
            let n = pmin + pick(unit(), pmax - pmin + 1);
            let start = pick(unit(), seed_paragraphs.len());
            let paras: Vec<String> =
                (0..n).map(|i| seed_paragraphs[(start + i * 7919) % seed_paragraphs.len()].clone()).collect();
            (paras, None)
        };
        let text = paras.join("\n\n");
        line.clear();
        line.push_str(&serde_json::json!({"id": format!("g{id}"), "text": text}).to_string());
        line.push('\n');
        corpus.write_all(line.as_bytes()).map_err(io)?;
        stats.bytes += line.len() as u64;
        stats.documents += 1;
        match origin {
            Some((of, kind, strength)) => {
                stats.planted += 1;
                let rec = serde_json::json!({"id": format!("g{id}"), "of": format!("g{of}"), "mutation": kind, "strength": strength});
                writeln!(planted, "{rec}").map_err(io_planted)?;
            }
            None => {
                if recent.len() < WINDOW {
                    recent.push((id, paras));
                } else {
                    let slot = pick(unit(), WINDOW);
                    recent[slot] = (id, paras);
                }
            }
        }
    }
    Ok(stats)
}

fn mutate(
    base: &[String],
    kind: Mutation,
    strength: f64,
    vocab: &[&str],
    unit: &mut impl FnMut() -> f64,
) -> Vec<String> {
    let pick = |u: f64, n: usize| ((u * n as f64) as usize).min(n.max(1) - 1);
    match kind {
        Mutation::RepeatParagraph => {
            let mut v = base.to_vec();
            v.push(base[pick(unit(), base.len())].clone());
            v
        }
        Mutation::Reorder => {
            let mut v = base.to_vec();
            if v.len() >= 2 {
                let (a, b) = (pick(unit(), v.len()), pick(unit(), v.len()));
                v.swap(a, b);
            }
            v
        }
        Mutation::Truncate => {
            let words: Vec<&str> = base.iter().flat_map(|p| p.split_whitespace()).collect();
            let keep = ((words.len() as f64) * (1.0 - strength)).ceil() as usize;
            vec![words[..keep.max(1).min(words.len())].join(" ")]
        }
        Mutation::Edit | Mutation::Insert | Mutation::Delete => base
            .iter()
            .map(|p| {
                let mut out: Vec<&str> = Vec::new();
                for w in p.split_whitespace() {
                    if unit() < strength {
                        match kind {
                            Mutation::Edit => out.push(vocab[pick(unit(), vocab.len())]),
                            Mutation::Insert => {
                                out.push(w);
                                out.push(vocab[pick(unit(), vocab.len())]);
                            }
                            _ => {}
                        }
                    } else {
                        out.push(w);
                    }
                }
                out.join(" ")
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Vec<String> {
        let t =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
        paragraphs([t.as_str()])
    }

    #[test]
    fn deterministic_and_sized() {
        let opts = SynthOptions { target_bytes: 200_000, ..SynthOptions::default() };
        let run = || {
            let (mut c, mut p) = (Vec::new(), Vec::new());
            let s = generate(&seed(), &opts, &mut c, &mut p).unwrap();
            (c, p, s.documents, s.planted)
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.0.len() >= 200_000 && a.0.len() < 220_000);
        let planted = String::from_utf8(a.1).unwrap();
        assert_eq!(planted.lines().count() as u64, a.3);
        assert!(a.3 > a.2 / 5 && a.3 < a.2 / 2, "{} of {}", a.3, a.2);
        // every line is a JSON record with real words from the seed text
        for l in String::from_utf8(a.0).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["text"].as_str().unwrap().split_whitespace().count() >= 5);
        }
    }

    #[test]
    fn planted_duplicates_are_near_duplicates() {
        use crate::shingle::{ShingleKind, Shingler, jaccard};
        let opts = SynthOptions { target_bytes: 300_000, strength: (0.01, 0.03), ..SynthOptions::default() };
        let (mut c, mut p) = (Vec::new(), Vec::new());
        generate(&seed(), &opts, &mut c, &mut p).unwrap();
        let texts: std::collections::HashMap<String, String> = String::from_utf8(c)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_owned(), v["text"].as_str().unwrap().to_owned())
            })
            .collect();
        let mut sh = Shingler::new(ShingleKind::Word(5));
        let mut high = 0;
        let mut total = 0;
        for l in String::from_utf8(p).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let a = sh.shingle_set(&texts[v["id"].as_str().unwrap()]);
            let b = sh.shingle_set(&texts[v["of"].as_str().unwrap()]);
            total += 1;
            if jaccard(&a, &b) >= 0.5 {
                high += 1;
            }
        }
        assert!(total > 20);
        assert!(high * 10 >= total * 8, "{high} of {total}");
    }

    #[test]
    fn bad_parameters() {
        let (mut c, mut p) = (Vec::new(), Vec::new());
        assert!(generate(&[], &SynthOptions::default(), &mut c, &mut p).is_err());
        let o = SynthOptions { dup_rate: 2.0, ..SynthOptions::default() };
        assert!(generate(&seed(), &o, &mut c, &mut p).is_err());
    }
}
