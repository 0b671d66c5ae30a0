//! Text normalization and word tokenization.
//!
//! The default tokenization (the one every quality figure assumes): NFKC,
//! lowercase, delete every character that is neither a word character
//! (Unicode alphanumeric or `_`) nor whitespace, split on whitespace. So
//! `U.S.` becomes `us` and `don't` becomes `dont`.
//!
//! Each token remembers the byte span of the whitespace-delimited chunk of
//! the original text it came from, punctuation included, so that anything
//! found on tokens maps back to the raw bytes.
//!
//! Plain ASCII never pays for Unicode: a chunk is only NFKC-normalized when
//! it contains a non-ASCII byte, and a chunk that is already lowercase word
//! characters is passed on without a copy.

use unicode_normalization::UnicodeNormalization;

const SPACE: u8 = 0;
/// `a-z`, `0-9`, `_`: kept as is.
const KEEP: u8 = 1;
/// `A-Z`: kept, lowercased.
const UPPER: u8 = 2;
/// ASCII punctuation and controls: deleted.
const DROP: u8 = 3;
/// First or later byte of a multi-byte UTF-8 character.
const WIDE: u8 = 4;

static CLASS: [u8; 256] = build_class();

const fn build_class() -> [u8; 256] {
    let mut t = [DROP; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b >= 0x80 {
            WIDE
        } else if b == b' ' || (b >= 0x09 && b <= 0x0d) {
            // the ASCII members of Unicode White_Space (char::is_whitespace)
            SPACE
        } else if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' {
            KEEP
        } else if b.is_ascii_uppercase() {
            UPPER
        } else {
            DROP
        };
        i += 1;
    }
    t
}

/// Whether `c` survives normalization as part of a word.
#[inline]
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The word tokenizer. Cheap to create; holds only scratch space.
#[derive(Debug, Default, Clone)]
pub struct Tokenizer {
    buf: String,
    nfkc: String,
    masks: Masks,
}

/// ASCII byte -> its normalized form: lowercase for letters, itself for
/// digits and `_`, 0 for bytes that are deleted.
static ASCII_FOLD: [u8; 256] = build_fold();

const fn build_fold() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = match CLASS[i] {
            KEEP => b,
            UPPER => b.to_ascii_lowercase(),
            _ => 0,
        };
        i += 1;
    }
    t
}

/// One bit per byte of the text, 64 bytes a word, for three classes: ASCII
/// whitespace, kept-as-is word bytes (`a-z0-9_`), and non-ASCII bytes. With
/// them a token's bounds and cleanliness are found a word at a time instead
/// of a branch per byte.
#[derive(Debug, Default, Clone)]
struct Masks {
    /// `[ws, keep, wide]` per 64-byte block.
    words: Vec<[u64; 3]>,
}

impl Masks {
    const WS: usize = 0;
    const KEEP: usize = 1;
    const WIDE: usize = 2;

    fn compute(&mut self, bytes: &[u8]) {
        self.words.clear();
        self.words.reserve(bytes.len().div_ceil(64));
        let mut blocks = bytes.chunks_exact(64);
        for block in &mut blocks {
            self.words.push(classify64(block));
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            let mut last = [0u64; 3];
            for (j, &b) in tail.iter().enumerate() {
                let c = CLASS[b as usize];
                last[0] |= u64::from(c == SPACE) << j;
                last[1] |= u64::from(c == KEEP) << j;
                last[2] |= u64::from(c == WIDE) << j;
            }
            self.words.push(last);
        }
    }

    /// First position in `from..n` whose bit of class `k` is set.
    fn next_set(&self, k: usize, from: usize, n: usize) -> Option<usize> {
        self.next(k, from, n, false)
    }

    /// First position in `from..n` whose bit of class `k` is clear.
    fn next_clear(&self, k: usize, from: usize, n: usize) -> Option<usize> {
        self.next(k, from, n, true)
    }

    fn next(&self, k: usize, from: usize, n: usize, invert: bool) -> Option<usize> {
        let mut w = from / 64;
        let mut bits = self.words.get(w)?[k] ^ if invert { u64::MAX } else { 0 };
        bits &= u64::MAX << (from % 64);
        loop {
            if bits != 0 {
                let pos = w * 64 + bits.trailing_zeros() as usize;
                return (pos < n).then_some(pos);
            }
            w += 1;
            if w * 64 >= n {
                return None;
            }
            bits = self.words.get(w)?[k] ^ if invert { u64::MAX } else { 0 };
        }
    }

    /// Whether any bit of class `k` is set in `start..end`.
    fn any(&self, k: usize, start: usize, end: usize) -> bool {
        self.next_set(k, start, end).is_some()
    }

    /// Whether every bit of class `k` is set in `start..end`.
    fn all(&self, k: usize, start: usize, end: usize) -> bool {
        self.next_clear(k, start, end).is_none()
    }
}

/// The three class masks of one 64-byte block.
#[cfg(target_arch = "x86_64")]
fn classify64(block: &[u8]) -> [u64; 3] {
    use std::arch::x86_64::*;
    let mut out = [0u64; 3];
    for (q, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics
        // are always available; the unaligned load reads exactly the 16
        // bytes of `chunk`.
        let (ws, keep, wide) = unsafe {
            let x = _mm_loadu_si128(chunk.as_ptr().cast());
            let in_range = |lo: i8, width: i8| {
                // (x - lo) as unsigned <= width - 1
                let t = _mm_sub_epi8(x, _mm_set1_epi8(lo));
                _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(width - 1)), t)
            };
            let space = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(b' ' as i8)), in_range(0x09, 5));
            let keep = _mm_or_si128(
                _mm_or_si128(in_range(b'a' as i8, 26), in_range(b'0' as i8, 10)),
                _mm_cmpeq_epi8(x, _mm_set1_epi8(b'_' as i8)),
            );
            (_mm_movemask_epi8(space) as u16, _mm_movemask_epi8(keep) as u16, _mm_movemask_epi8(x) as u16)
        };
        out[0] |= u64::from(ws) << (16 * q);
        out[1] |= u64::from(keep) << (16 * q);
        out[2] |= u64::from(wide) << (16 * q);
    }
    out
}

/// The three class masks of one 64-byte block.
#[cfg(not(target_arch = "x86_64"))]
fn classify64(block: &[u8]) -> [u64; 3] {
    let mut out = [0u64; 3];
    for (j, &b) in block.iter().enumerate() {
        let c = CLASS[b as usize];
        out[0] |= u64::from(c == SPACE) << j;
        out[1] |= u64::from(c == KEEP) << j;
        out[2] |= u64::from(c == WIDE) << j;
    }
    out
}

impl Tokenizer {
    /// A new tokenizer.
    pub fn new() -> Tokenizer {
        Tokenizer::default()
    }

    /// Call `f(token, start, end)` for every normalized token of `text`, in
    /// order, where `text[start..end]` is the whitespace-delimited chunk the
    /// token came from. One chunk gives at most one token, except where NFKC
    /// turns a character into whitespace (then its tokens share the span).
    pub fn for_each_token(&mut self, text: &str, mut f: impl FnMut(&str, usize, usize)) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut masks = std::mem::take(&mut self.masks);
        masks.compute(bytes);
        let mut i = 0;
        // each chunk: a maximal run of bytes that are not ASCII whitespace
        while let Some(start) = masks.next_clear(Masks::WS, i, n) {
            let end = masks.next_set(Masks::WS, start, n).unwrap_or(n);
            i = end;
            if masks.any(Masks::WIDE, start, end) {
                // non-ASCII: Unicode whitespace may split it; NFKC applies
                self.scalar_tokens(&text[start..end], start, &mut f);
            } else if masks.all(Masks::KEEP, start, end) {
                f(&text[start..end], start, end);
            } else {
                // ASCII with capitals or punctuation: lowercase, drop the rest
                self.buf.clear();
                for &b in &bytes[start..end] {
                    let m = ASCII_FOLD[b as usize];
                    if m != 0 {
                        self.buf.push(char::from(m));
                    }
                }
                if !self.buf.is_empty() {
                    f(&self.buf, start, end);
                }
            }
        }
        self.masks = masks;
    }

    /// The byte-at-a-time tokenizer, over `text` that starts at byte `base`
    /// of the document: the reference behaviour, used for chunks that hold
    /// non-ASCII characters (Unicode whitespace may split them).
    fn scalar_tokens(&mut self, text: &str, base: usize, f: &mut impl FnMut(&str, usize, usize)) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            let c = CLASS[bytes[i] as usize];
            if c == SPACE {
                i += 1;
                continue;
            }
            if c == WIDE {
                let ch = char_at(text, i);
                if ch.is_whitespace() {
                    i += ch.len_utf8();
                    continue;
                }
            }
            let start = i;
            let mut clean = true;
            let mut wide = false;
            while i < n {
                match CLASS[bytes[i] as usize] {
                    KEEP => i += 1,
                    SPACE => break,
                    WIDE => {
                        let ch = char_at(text, i);
                        if ch.is_whitespace() {
                            break;
                        }
                        wide = true;
                        i += ch.len_utf8();
                    }
                    _ => {
                        clean = false;
                        i += 1;
                    }
                }
            }
            let chunk = &text[start..i];
            if wide {
                self.unicode_chunk(chunk, base + start, base + i, f);
            } else if clean {
                f(chunk, base + start, base + i);
            } else {
                self.buf.clear();
                for &b in chunk.as_bytes() {
                    match CLASS[b as usize] {
                        KEEP => self.buf.push(b as char),
                        UPPER => self.buf.push(b.to_ascii_lowercase() as char),
                        _ => {}
                    }
                }
                if !self.buf.is_empty() {
                    f(&self.buf, base + start, base + i);
                }
            }
        }
    }

    /// The slow path for a chunk holding non-ASCII characters.
    #[cold]
    fn unicode_chunk(
        &mut self,
        chunk: &str,
        start: usize,
        end: usize,
        f: &mut impl FnMut(&str, usize, usize),
    ) {
        self.nfkc.clear();
        self.nfkc.extend(chunk.nfkc());
        self.buf.clear();
        for ch in self.nfkc.chars() {
            if ch.is_whitespace() {
                if !self.buf.is_empty() {
                    f(&self.buf, start, end);
                    self.buf.clear();
                }
                continue;
            }
            for lc in ch.to_lowercase() {
                if is_word_char(lc) {
                    self.buf.push(lc);
                }
            }
        }
        if !self.buf.is_empty() {
            f(&self.buf, start, end);
        }
    }

    /// The normalized tokens of `text`, with their spans (convenience for
    /// tests and callers that want them collected).
    pub fn tokens(&mut self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        self.for_each_token(text, |t, s, e| out.push(Token { text: t.to_owned(), start: s, end: e }));
        out
    }
}

#[inline]
fn char_at(text: &str, i: usize) -> char {
    // `i` is always on a character boundary: the scanner only advances by
    // whole ASCII bytes or whole characters.
    text[i..].chars().next().unwrap_or(' ')
}

/// A normalized token and the byte span of the chunk it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The normalized token.
    pub text: String,
    /// Start of the original chunk (byte offset).
    pub start: usize,
    /// End of the original chunk (byte offset, exclusive).
    pub end: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        Tokenizer::new().tokens(text).into_iter().map(|t| t.text).collect()
    }

    /// The naive definition, for every input: NFKC the whole text,
    /// lowercase, delete non-word non-space characters, split.
    fn naive(text: &str) -> Vec<String> {
        let nfkc: String = text.nfkc().collect();
        let lower: String = nfkc.chars().flat_map(|c| c.to_lowercase()).collect();
        let kept: String = lower.chars().filter(|&c| c.is_whitespace() || is_word_char(c)).collect();
        kept.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn spec_examples() {
        assert_eq!(words("The U.S. don't"), ["the", "us", "dont"]);
        assert_eq!(words("  a\t\tb\nc  "), ["a", "b", "c"]);
        assert_eq!(words("snake_case x-y ..."), ["snake_case", "xy"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("—"), Vec::<String>::new());
    }

    #[test]
    fn unicode_is_folded() {
        assert_eq!(words("ÉCOLE Straße"), ["école", "straße"]);
        // NFKC: the ligature and full-width letters become plain letters
        assert_eq!(words("ﬁne ＡＢＣ"), ["fine", "abc"]);
        // no-break space and ideographic space split words
        assert_eq!(words("a\u{a0}b\u{3000}c"), ["a", "b", "c"]);
        // punctuation inside a word is deleted, not a split
        assert_eq!(words("nations—including"), ["nationsincluding"]);
    }

    #[test]
    fn spans_cover_the_chunk_with_punctuation() {
        let text = "Hello, U.S. world.";
        let toks = Tokenizer::new().tokens(text);
        let spans: Vec<&str> = toks.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(spans, ["Hello,", "U.S.", "world."]);
        let text = "Ünïcode—dash  ok";
        let toks = Tokenizer::new().tokens(text);
        assert_eq!(&text[toks[0].start..toks[0].end], "Ünïcode—dash");
    }

    /// Spans by the byte-at-a-time reference tokenizer.
    fn scalar(text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        Tokenizer::new().scalar_tokens(text, 0, &mut |t: &str, s, e| {
            out.push(Token { text: t.to_owned(), start: s, end: e })
        });
        out
    }

    #[test]
    fn block_boundaries() {
        for len in [1usize, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200] {
            for pad in 0..3 {
                let text = format!("{}{} Tail, x", " ".repeat(pad), "a".repeat(len));
                assert_eq!(Tokenizer::new().tokens(&text), scalar(&text), "{len} {pad}");
                let text = format!("{}Ab-{}é z", " ".repeat(pad), "b".repeat(len));
                assert_eq!(Tokenizer::new().tokens(&text), scalar(&text), "{len} {pad}");
            }
        }
    }

    proptest! {
        #[test]
        fn masked_path_matches_scalar(text in "(?s)[a-zA-Z0-9 _.,'\n\t\x0b\x0c\r\x00\x1f\x7f\u{a0}é\u{2003}-]{0,300}") {
            prop_assert_eq!(Tokenizer::new().tokens(&text), scalar(&text));
        }

        #[test]
        fn fast_path_matches_naive(text in "(?s)[a-zA-Z0-9 _.,'\n\t\u{a0}éÉß\u{fb01}\u{2014}\u{ff21}\u{3000}\u{301}-]{0,80}") {
            prop_assert_eq!(words(&text), naive(&text));
        }

        #[test]
        fn any_string_matches_naive(text in any::<String>()) {
            prop_assert_eq!(words(&text), naive(&text));
        }

        #[test]
        fn spans_are_char_boundaries_in_order(text in any::<String>()) {
            let toks = Tokenizer::new().tokens(&text);
            let mut last = 0;
            for t in &toks {
                prop_assert!(t.start >= last && t.start < t.end && t.end <= text.len());
                prop_assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                last = t.start;
            }
        }
    }
}
