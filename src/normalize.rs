//! Text normalization and word tokenization.
//!
//! The default tokenization (the one every quality figure assumes), for text
//! in any script:
//!
//! 1. NFKC, then lowercase.
//! 2. Whitespace separates words.
//! 3. Word characters (Unicode alphanumeric, `_`) make words. In the scripts
//!    written without spaces between words (Han, Hiragana, Katakana, Thai,
//!    Lao, Khmer, Myanmar, Yi and the like) every character, with the
//!    combining marks that follow it, is a word of its own, so that word
//!    n-grams are character n-grams there.
//! 4. ASCII punctuation and symbols are deleted, so `U.S.` becomes `us`,
//!    `don't` `dont` and `x-y` `xy`; so are the characters Unicode's word
//!    boundaries (UAX #29) never break a word at: apostrophes (`’`), middle
//!    dots, hyphens (U+2010, U+2011), Hebrew geresh and gershayim, soft
//!    hyphens and the invisible format characters (joiners, direction marks).
//!    Combining marks that are not alphanumeric are deleted inside words.
//! 5. Every other character (Unicode punctuation and symbols such as `—`,
//!    `“`, `、`, `。`, `«`, emoji; the zero-width space) separates words.
//!
//! Each token remembers the byte span of the original text it came from,
//! punctuation included, so that anything found on tokens maps back to the
//! raw bytes: an ASCII chunk (a run of bytes between whitespace) is one
//! token's span; the tokens of a chunk with other characters tile it.
//!
//! Plain ASCII never pays for Unicode: a chunk is only NFKC-normalized when
//! it contains a non-ASCII byte, and a chunk that is already lowercase word
//! characters is passed on without a copy.

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization};

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

/// What a character of normalized, lowercased text does to the words
/// around it (rules 2 to 5 of the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Whitespace: ends a word.
    Space,
    /// Part of a word.
    Word,
    /// A word of its own (a character of a script without spaces).
    Unspaced,
    /// A combining mark: joins an unspaced character before it, else is a
    /// word character when alphanumeric, else is deleted.
    Mark,
    /// Deleted, and the word goes on.
    Glue,
    /// Deleted, and ends a word.
    Break,
}

#[inline]
fn role(c: char) -> Role {
    if c.is_ascii() {
        return match CLASS[c as usize] {
            SPACE => Role::Space,
            KEEP | UPPER => Role::Word,
            _ => Role::Glue,
        };
    }
    if c.is_whitespace() {
        Role::Space
    } else if is_combining_mark(c) {
        Role::Mark
    } else if c.is_alphanumeric() {
        if is_unspaced(c) { Role::Unspaced } else { Role::Word }
    } else if is_glue(c) {
        Role::Glue
    } else {
        Role::Break
    }
}

/// Whether `c` belongs to a script written without spaces between words,
/// where each character is a word (rule 3).
#[inline]
pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(u32::from(c),
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x1950..=0x19FF // Tai Le, New Tai Lue, Khmer symbols
        | 0x1A20..=0x1AAF // Tai Tham
        | 0x1B00..=0x1B7F // Balinese
        | 0x2E80..=0x2FDF // CJK and Kangxi radicals
        | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3031..=0x3035 | 0x3038..=0x303C // ideographic marks
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3100..=0x312F | 0x31A0..=0x31BF // Bopomofo
        | 0x31F0..=0x31FF // Katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xA000..=0xA4CF // Yi
        | 0xA980..=0xA9FF // Javanese, Myanmar extension B
        | 0xAA60..=0xAADF // Myanmar extension A, Tai Viet
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x1B000..=0x1B2FF // Kana supplement and extensions, Nushu
        | 0x20000..=0x323AF // CJK extensions B to H
    )
}

/// The characters deleted without ending a word besides ASCII punctuation
/// (rule 4): those UAX #29 lets a word run through (MidLetter, MidNumLet,
/// Format) and the hyphens that are ASCII `-` in other clothes.
#[inline]
fn is_glue(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{00B7}' | '\u{0387}' | '\u{055F}' | '\u{05F3}' | '\u{05F4}' | '\u{061C}'
        | '\u{200C}'..='\u{200F}' | '\u{2010}' | '\u{2011}' | '\u{2018}' | '\u{2019}' | '\u{201B}'
        | '\u{2024}' | '\u{2027}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FE13}' | '\u{FE52}' | '\u{FE55}' | '\u{FEFF}'
    )
}

/// Whether NFKC never reaches back across the start of `c`: a starter
/// whose quick check is Yes. A chunk cut before such characters normalizes
/// piece by piece to what it normalizes to whole.
#[inline]
fn is_stable(c: char) -> bool {
    c.is_ascii()
        || (canonical_combining_class(c) == 0
            && unicode_normalization::is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes)
}

/// The words of one Unicode chunk, built character by character from its
/// normalized, lowercased text by the characters' roles.
struct Words {
    /// The word being built, where its span starts, and where the piece its
    /// last character came from ends (its span reaches at least there).
    cur: String,
    cur_start: usize,
    cur_last_end: usize,
    /// Whether `cur` is one unspaced character (and its marks).
    cur_unspaced: bool,
    /// The last word finished: its span ends where the next one starts.
    done: String,
    done_start: usize,
    done_last_end: usize,
    has_done: bool,
    /// Where the chunk starts: the first word's span starts there.
    chunk_start: usize,
}

impl Words {
    fn new(chunk_start: usize, mut cur: String, mut done: String) -> Words {
        cur.clear();
        done.clear();
        Words {
            cur,
            cur_start: chunk_start,
            cur_last_end: chunk_start,
            cur_unspaced: false,
            done,
            done_start: 0,
            done_last_end: 0,
            has_done: false,
            chunk_start,
        }
    }

    /// One character, from the piece of the chunk at bytes `at..piece_end`.
    #[inline]
    fn push(&mut self, c: char, (at, piece_end): (usize, usize), f: &mut impl FnMut(&str, usize, usize)) {
        let at = (at, piece_end);
        match role(c) {
            Role::Space | Role::Break => self.end_word(f),
            Role::Glue => {}
            Role::Word => self.word_char(c, at, f),
            Role::Unspaced => self.unspaced(c, at, f),
            Role::Mark if self.cur_unspaced => {
                self.cur.push(c);
                self.cur_last_end = at.1;
            }
            Role::Mark if c.is_alphanumeric() => {
                if is_unspaced(c) {
                    self.unspaced(c, at, f)
                } else {
                    self.word_char(c, at, f)
                }
            }
            Role::Mark => {}
        }
    }

    fn word_char(&mut self, c: char, at: (usize, usize), f: &mut impl FnMut(&str, usize, usize)) {
        if self.cur_unspaced {
            self.end_word(f);
        }
        self.begin(at);
        self.cur.push(c);
        self.cur_last_end = at.1;
    }

    fn unspaced(&mut self, c: char, at: (usize, usize), f: &mut impl FnMut(&str, usize, usize)) {
        self.end_word(f);
        self.begin(at);
        self.cur.push(c);
        self.cur_last_end = at.1;
        self.cur_unspaced = true;
    }

    fn begin(&mut self, (at, _): (usize, usize)) {
        if self.cur.is_empty() {
            self.cur_start = if self.has_done { at } else { self.chunk_start };
        }
    }

    /// Ends the word being built: the one finished before it is handed on,
    /// its span ending where this one's starts, or where the piece its last
    /// character came from ends if that is later (a piece NFKC made more
    /// than one word of is shared by their spans).
    fn end_word(&mut self, f: &mut impl FnMut(&str, usize, usize)) {
        self.cur_unspaced = false;
        if self.cur.is_empty() {
            return;
        }
        if self.has_done {
            f(&self.done, self.done_start, self.cur_start.max(self.done_last_end));
        }
        std::mem::swap(&mut self.done, &mut self.cur);
        self.cur.clear();
        self.done_start = self.cur_start;
        self.done_last_end = self.cur_last_end;
        self.has_done = true;
    }

    /// Hands on the last word, its span ending at `end`; gives back the
    /// buffers.
    fn finish(mut self, end: usize, f: &mut impl FnMut(&str, usize, usize)) -> (String, String) {
        self.end_word(f);
        if self.has_done {
            f(&self.done, self.done_start, end.max(self.done_last_end));
        }
        (self.cur, self.done)
    }
}

/// The word tokenizer. Cheap to create; holds only scratch space.
#[derive(Debug, Default, Clone)]
pub struct Tokenizer {
    buf: String,
    /// The finished token of a Unicode chunk waiting for its span's end.
    done: String,
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

    /// The slow path for a chunk holding non-ASCII characters (and no
    /// Unicode whitespace), starting at byte `start` of the document.
    ///
    /// The chunk is cut where NFKC cannot reach across (before a starter
    /// whose NFKC quick check is Yes), so each piece is normalized on its own
    /// and a token's span is known in the original bytes: the spans of a
    /// chunk's tokens tile it, the first starting at the chunk's start, each
    /// ending where the next begins and the last at the chunk's end.
    #[cold]
    fn unicode_chunk(
        &mut self,
        chunk: &str,
        start: usize,
        end: usize,
        f: &mut impl FnMut(&str, usize, usize),
    ) {
        let mut words = Words::new(start, std::mem::take(&mut self.buf), std::mem::take(&mut self.done));
        let mut piece = 0;
        for (i, c) in chunk.char_indices() {
            if i > piece && is_stable(c) {
                self.piece(&chunk[piece..i], start + piece, &mut words, f);
                piece = i;
            }
        }
        self.piece(&chunk[piece..], start + piece, &mut words, f);
        let (buf, done) = words.finish(end, f);
        self.buf = buf;
        self.done = done;
    }

    /// One normalization piece of a chunk, at byte `at` of the document.
    fn piece(&mut self, piece: &str, at: usize, words: &mut Words, f: &mut impl FnMut(&str, usize, usize)) {
        let normal = if unicode_normalization::is_nfkc_quick(piece.chars()) == IsNormalized::Yes {
            piece
        } else {
            self.nfkc.clear();
            self.nfkc.extend(piece.nfkc());
            &self.nfkc
        };
        for ch in normal.chars() {
            for lc in ch.to_lowercase() {
                words.push(lc, (at, at + piece.len()), f);
            }
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
    /// lowercase, then words by the roles of the characters, one at a time.
    fn naive(text: &str) -> Vec<String> {
        let lower: String = text.nfkc().flat_map(char::to_lowercase).collect();
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut unspaced = false;
        let end = |cur: &mut String, out: &mut Vec<String>| {
            if !cur.is_empty() {
                out.push(std::mem::take(cur));
            }
        };
        for c in lower.chars() {
            let r = role(c);
            if r == Role::Mark && unspaced {
                cur.push(c);
                continue;
            }
            let word = r == Role::Word || (r == Role::Mark && c.is_alphanumeric() && !is_unspaced(c));
            let alone = r == Role::Unspaced || (r == Role::Mark && c.is_alphanumeric() && is_unspaced(c));
            if matches!(r, Role::Space | Role::Break) || alone || (word && unspaced) {
                end(&mut cur, &mut out);
                unspaced = false;
            }
            if word || alone {
                cur.push(c);
                unspaced = alone;
            }
        }
        end(&mut cur, &mut out);
        out
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
    }

    #[test]
    fn unicode_punctuation_separates_words_and_apostrophes_do_not() {
        assert_eq!(words("nations—including"), ["nations", "including"]);
        assert_eq!(words("«Bonjour»,“quoted”…"), ["bonjour", "quoted"]);
        assert_eq!(words("don’t l’homme x‐y"), ["dont", "lhomme", "xy"]);
        assert_eq!(words("a\u{200b}b a\u{200d}b a\u{ad}b"), ["a", "b", "ab", "ab"]);
        assert_eq!(words("Ünïcode—dash"), ["ünïcode", "dash"]);
    }

    #[test]
    fn scripts_without_spaces_are_one_word_a_character() {
        assert_eq!(words("今天天气很好。"), ["今", "天", "天", "气", "很", "好"]);
        assert_eq!(words("使用Linux系统2024年"), ["使", "用", "linux", "系", "统", "2024", "年"]);
        // full-width punctuation (NFKC makes it ASCII) and kana
        assert_eq!(
            words("東京，カタカナ・ひらがな"),
            ["東", "京", "カ", "タ", "カ", "ナ", "ひ", "ら", "が", "な"]
        );
        // half-width katakana and its voiced mark compose under NFKC
        assert_eq!(words("ｶﾞｷ"), ["ガ", "キ"]);
        // Thai: tone and vowel marks stay with the consonant before them
        assert_eq!(words("ไม่ไม้"), ["ไ", "ม่", "ไ", "ม้"]);
        assert_ne!(words("ไม่"), words("ไม้"));
        // Korean is written with spaces: words stay words
        assert_eq!(words("한국어 텍스트"), ["한국어", "텍스트"]);
    }

    /// The original text of each token's span.
    fn spans(text: &str) -> Vec<&str> {
        Tokenizer::new().tokens(text).iter().map(|t| &text[t.start..t.end]).collect()
    }

    #[test]
    fn spans_cover_the_chunk_with_punctuation() {
        let text = "Hello, U.S. world.";
        assert_eq!(spans(text), ["Hello,", "U.S.", "world."]);
        let text = "Ünïcode—dash  ok";
        assert_eq!(spans(text), ["Ünïcode—", "dash", "ok"]);
        // the tokens of a chunk without spaces tile it
        let text = "「東京」は，ガ";
        assert_eq!(spans(text), ["「東", "京」", "は，", "ガ"]);
        // where NFKC makes two words of one piece (a letter, or a comma,
        // and the half-width kana after it normalize together), they share
        // its span
        let text = "PARTYﾒS";
        assert_eq!(spans(text), ["PARTYﾒ", "Yﾒ", "S"]);
        let text = "は，ｶﾞ";
        assert_eq!(spans(text), ["は，ｶﾞ", "は，ｶﾞ"]);
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

        #[test]
        fn mixed_scripts_match_naive(text in "(?s)[a-zA-Z .,'\u{a0}é\u{301}\u{2014}\u{2019}\u{200b}\u{200d}今天气，。「」かカｶﾞ・ไม่้한국\u{ff21}]{0,80}") {
            prop_assert_eq!(words(&text), naive(&text));
            let toks = Tokenizer::new().tokens(&text);
            let mut last = 0;
            for t in &toks {
                prop_assert!(t.start >= last && t.start < t.end, "{:?}", toks);
                last = t.start;
            }
        }
    }
}
