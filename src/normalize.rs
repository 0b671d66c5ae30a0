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
                self.unicode_chunk(chunk, start, i, &mut f);
            } else if clean {
                f(chunk, start, i);
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
                    f(&self.buf, start, i);
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

    proptest! {
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
