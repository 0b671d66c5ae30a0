//! Shingling: word n-grams or character n-grams of the normalized text,
//! hashed by rolling over token hashes (never by joining strings).

use crate::hash::{Roller, token_hash};
use crate::normalize::{Tokenizer, is_unspaced};

/// What a shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShingleKind {
    /// `n` consecutive normalized words.
    Word(u32),
    /// `n` consecutive characters of the normalized text (words joined by
    /// one space, except two characters of a script written without spaces).
    Char(u32),
}

impl ShingleKind {
    /// The n-gram size.
    pub fn size(self) -> usize {
        match self {
            ShingleKind::Word(n) | ShingleKind::Char(n) => n as usize,
        }
    }
}

impl Default for ShingleKind {
    /// Word 5-grams.
    fn default() -> ShingleKind {
        ShingleKind::Word(5)
    }
}

impl std::fmt::Display for ShingleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShingleKind::Word(n) => write!(f, "word {n}-grams"),
            ShingleKind::Char(n) => write!(f, "char {n}-grams"),
        }
    }
}

/// A shingle's hash and the byte span of the original text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shingle {
    /// The shingle's 64-bit hash.
    pub hash: u64,
    /// Start of the first chunk it covers (byte offset in the original text).
    pub start: usize,
    /// End of the last chunk it covers (exclusive).
    pub end: usize,
}

/// Turns text into shingles. Holds scratch space; one per thread.
#[derive(Debug, Clone)]
pub struct Shingler {
    kind: ShingleKind,
    tokenizer: Tokenizer,
    /// Ring of (hash, start, end) of the current window.
    window: Vec<(u64, usize, usize)>,
}

impl Shingler {
    /// A shingler for `kind` (size must be at least 1; the builders check).
    pub fn new(kind: ShingleKind) -> Shingler {
        Shingler { kind, tokenizer: Tokenizer::new(), window: Vec::new() }
    }

    /// The shingle kind.
    pub fn kind(&self) -> ShingleKind {
        self.kind
    }

    /// Call `f` with every shingle of `text`, in order. A text with fewer
    /// units than the n-gram size, but at least one, has exactly one shingle
    /// of all its units; a text with none has no shingles.
    pub fn for_each(&mut self, text: &str, mut f: impl FnMut(Shingle)) {
        let n = self.kind.size().max(1);
        let mut roller = Roller::new(n);
        let window = &mut self.window;
        window.clear();
        let mut count = 0usize;
        // ring position of the oldest unit once the window is full
        let mut slot = 0usize;
        let mut unit = |h: u64, s: usize, e: usize| {
            if count < n {
                roller.push(h);
                window.push((h, s, e));
                count += 1;
                if count == n {
                    f(Shingle { hash: roller.value(n), start: window[0].1, end: e });
                }
            } else {
                let (out, _, _) = window[slot];
                roller.roll(out, h);
                window[slot] = (h, s, e);
                count += 1;
                slot += 1;
                if slot == n {
                    slot = 0;
                }
                f(Shingle { hash: roller.value(n), start: window[slot].1, end: e });
            }
        };
        match self.kind {
            ShingleKind::Word(_) => {
                self.tokenizer.for_each_token(text, |tok, s, e| unit(token_hash(tok.as_bytes()), s, e));
            }
            ShingleKind::Char(_) => {
                let mut first = true;
                let mut after_unspaced = false;
                self.tokenizer.for_each_token(text, |tok, s, e| {
                    // characters of scripts without spaces are words of their
                    // own, and are joined without one
                    let unspaced = tok.chars().next().is_some_and(is_unspaced);
                    let joined = unspaced && after_unspaced;
                    if !first && !joined {
                        // the single space that joins words
                        unit(char_hash(' '), s, s);
                    }
                    first = false;
                    after_unspaced = unspaced;
                    for ch in tok.chars() {
                        unit(char_hash(ch), s, e);
                    }
                });
            }
        }
        if count > 0 && count < n {
            let first = window[0];
            let last = window[count - 1];
            f(Shingle { hash: roller.value(count), start: first.1, end: last.2 });
        }
    }

    /// Call `f` with every shingle hash of `text`, in order: the same hashes
    /// as [`Shingler::for_each`], without the spans (the sketching hot path).
    pub fn for_each_hash(&mut self, text: &str, mut f: impl FnMut(u64)) {
        let ShingleKind::Word(n) = self.kind else {
            return self.for_each(text, |s| f(s.hash));
        };
        let n = (n as usize).max(1);
        let mut roller = Roller::new(n);
        let mut ring = [0u64; 16];
        if n > ring.len() {
            return self.for_each(text, |s| f(s.hash));
        }
        let mut count = 0usize;
        let mut slot = 0usize;
        self.tokenizer.for_each_token(text, |tok, _, _| {
            let h = token_hash(tok.as_bytes());
            if count < n {
                roller.push(h);
                ring[count] = h;
                count += 1;
                if count == n {
                    f(roller.value(n));
                }
            } else {
                roller.roll(ring[slot], h);
                ring[slot] = h;
                slot += 1;
                if slot == n {
                    slot = 0;
                }
                f(roller.value(n));
            }
        });
        if count > 0 && count < n {
            f(roller.value(count));
        }
    }

    /// The shingle hashes of `text`, sorted and deduplicated: the shingle
    /// set that exact Jaccard is computed on.
    pub fn shingle_set(&mut self, text: &str) -> Vec<u64> {
        let mut v = Vec::new();
        self.for_each_hash(text, |h| v.push(h));
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[inline]
fn char_hash(c: char) -> u64 {
    token_hash(&u32::from(c).to_le_bytes())
}

/// Exact Jaccard similarity of two sorted, deduplicated sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    sorted_jaccard(a, b)
}

/// Jaccard similarity of two sorted, deduplicated slices of any ordered
/// type (0 when both are empty).
pub(crate) fn sorted_jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Tokenizer;
    use proptest::prelude::*;

    fn hashes(kind: ShingleKind, text: &str) -> Vec<u64> {
        let mut v = Vec::new();
        Shingler::new(kind).for_each(text, |s| v.push(s.hash));
        v
    }

    #[test]
    fn counts() {
        let w = |n| ShingleKind::Word(n);
        assert_eq!(hashes(w(5), "").len(), 0);
        assert_eq!(hashes(w(5), "...").len(), 0);
        assert_eq!(hashes(w(5), "one two").len(), 1);
        assert_eq!(hashes(w(5), "a b c d e").len(), 1);
        assert_eq!(hashes(w(2), "a b c d e").len(), 4);
        assert_eq!(hashes(ShingleKind::Char(3), "ab cd").len(), 3);
        // no space is made up between characters of a script without spaces
        assert_eq!(hashes(ShingleKind::Char(3), "今天天气"), hashes(ShingleKind::Char(3), "今天 天气"));
        assert_eq!(hashes(ShingleKind::Char(3), "今天天气").len(), 2);
    }

    #[test]
    fn normalization_is_applied() {
        let k = ShingleKind::Word(3);
        assert_eq!(hashes(k, "The U.S. government, today"), hashes(k, "the us government today"));
        assert_ne!(hashes(k, "ab c d"), hashes(k, "a bc d"));
    }

    #[test]
    fn spans_cover_words() {
        let text = "Alpha, beta gamma. Delta";
        let mut spans = Vec::new();
        Shingler::new(ShingleKind::Word(2)).for_each(text, |s| spans.push(&text[s.start..s.end]));
        assert_eq!(spans, ["Alpha, beta", "beta gamma.", "gamma. Delta"]);
    }

    #[test]
    fn jaccard_basics() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
    }

    proptest! {
        /// The span-free fast path gives the same hashes as the full one.
        #[test]
        fn fast_path_matches_spans_path(text in "[a-zA-Z .,é]{0,200}", n in 1u32..8) {
            for kind in [ShingleKind::Word(n), ShingleKind::Char(n)] {
                let mut fast = Vec::new();
                Shingler::new(kind).for_each_hash(&text, |h| fast.push(h));
                prop_assert_eq!(fast, hashes(kind, &text));
            }
        }

        /// Shingle hashes equal the hash of each window computed from scratch.
        #[test]
        fn word_shingles_match_naive(words in proptest::collection::vec("[a-c]{1,2}", 0..30), n in 1u32..6) {
            let text = words.join(" ");
            let toks: Vec<u64> = Tokenizer::new().tokens(&text).iter().map(|t| token_hash(t.text.as_bytes())).collect();
            let expect: Vec<u64> = if toks.is_empty() {
                vec![]
            } else if toks.len() < n as usize {
                let mut r = Roller::new(toks.len());
                toks.iter().for_each(|&h| r.push(h));
                vec![r.value(toks.len())]
            } else {
                toks.windows(n as usize).map(|w| {
                    let mut r = Roller::new(w.len());
                    w.iter().for_each(|&h| r.push(h));
                    r.value(w.len())
                }).collect()
            };
            prop_assert_eq!(hashes(ShingleKind::Word(n), &text), expect);
        }
    }
}
