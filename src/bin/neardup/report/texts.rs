//! The texts of a few documents, looked up by id in one streaming pass over
//! the inputs (the library's reader: every format, the ids `dedup` gives),
//! and the word 5-grams two texts share.

use std::collections::{HashMap, HashSet};

use neardup::io::{InputFile, ReadOptions};

/// Notes kept about inputs that were not searched.
const NOTES: usize = 20;

/// Texts found, by id, and the inputs that could not be searched.
#[derive(Default)]
pub(crate) struct Found {
    /// The texts, by id.
    pub texts: HashMap<String, String>,
    /// Why some inputs were not searched (standard input).
    pub notes: Vec<String>,
}

impl Found {
    /// Add a note, up to [`NOTES`] of them.
    fn note(&mut self, note: String) {
        if self.notes.len() < NOTES {
            self.notes.push(note);
        }
    }
}

/// Look up the texts of `wanted` in `inputs` (the first record of each id).
pub(crate) fn lookup(
    inputs: &[InputFile],
    opts: &ReadOptions,
    wanted: &HashSet<String>,
) -> anyhow::Result<Found> {
    let mut found = Found::default();
    if wanted.is_empty() {
        return Ok(found);
    }
    let files: Vec<InputFile> = inputs.iter().filter(|i| i.path.is_some()).cloned().collect();
    if files.len() < inputs.len() {
        found.note("standard input cannot be read again: its texts are not shown".into());
    }
    let mut texts = HashMap::new();
    neardup::io::for_each_record(
        &files,
        opts,
        false,
        &mut |id, text| {
            if wanted.contains(id) && !texts.contains_key(id) {
                texts.insert(id.to_owned(), text.to_owned());
            }
        },
        &|_| {},
    )?;
    found.texts = texts;
    Ok(found)
}

/// Word 5-grams: what two texts must share to be highlighted.
const GRAM: usize = 5;

/// The words of `text`: byte spans of maximal runs of alphanumeric
/// characters, with a hash of each word lowercased.
fn words(text: &str) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut word = String::new();
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            word.extend(c.to_lowercase());
        } else if let Some(s) = start.take() {
            out.push((s, i, xxhash_rust::xxh3::xxh3_64(word.as_bytes())));
            word.clear();
        }
    }
    out
}

/// The hash of the 5-gram of word hashes `w` (rolling over the words'
/// hashes, so that word boundaries count).
fn gram(w: &[(usize, usize, u64)]) -> u64 {
    let mut bytes = [0u8; 8 * GRAM];
    for (k, (_, _, h)) in w.iter().enumerate() {
        bytes[8 * k..8 * k + 8].copy_from_slice(&h.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Byte ranges of `a` covered by a word 5-gram that `b` also holds, merged
/// into maximal runs.
pub(crate) fn shared_runs(a: &str, b: &str) -> Vec<(usize, usize)> {
    let (wa, wb) = (words(a), words(b));
    let grams_b: HashSet<u64> = wb.windows(GRAM).map(gram).collect();
    let mut covered = vec![false; wa.len()];
    for (i, w) in wa.windows(GRAM).enumerate() {
        if grams_b.contains(&gram(w)) {
            covered[i..i + GRAM].iter_mut().for_each(|c| *c = true);
        }
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut prev_covered = false;
    for (k, &(s, e, _)) in wa.iter().enumerate() {
        match (covered[k], prev_covered, runs.last_mut()) {
            (true, true, Some(last)) => last.1 = e,
            (true, _, _) => runs.push((s, e)),
            _ => {}
        }
        prev_covered = covered[k];
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_runs_cover_common_five_grams_only() {
        let a = "Intro here. the quick brown fox jumps over, and then stop";
        let b = "THE quick Brown fox jumps over the lazy dog";
        let runs = shared_runs(a, b);
        assert_eq!(runs.len(), 1);
        assert_eq!(&a[runs[0].0..runs[0].1], "the quick brown fox jumps over");
        assert!(shared_runs("a b c d", "a b c d").is_empty());
    }
}
