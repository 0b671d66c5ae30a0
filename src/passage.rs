//! Repeated passages: maximal spans of at least `min_words` normalized words
//! that also occur earlier, in the same document, in an earlier document, or
//! in a reference set.
//!
//! Winnowing (Schleimer, Wilkerson, Aiken 2003): every document's token
//! k-grams are hashed and, in each window of `w = min_words - k + 1`
//! consecutive k-gram hashes, the minimum is kept as a fingerprint. Two equal
//! runs of `min_words` tokens hold the same k-grams, so the same one is the
//! minimum in both, at the same offset: the run and its earlier occurrence
//! share a fingerprint, while only about `2 / (w + 1)` of the k-grams are
//! indexed.
//!
//! Seeds are exact: the occurrences of one fingerprint are told apart by the
//! hash of each run of `min_words` tokens around it (one per offset of the
//! fingerprint in the run), and every run takes the earliest allowed run
//! equal to it as its source. So a repeat is found whatever else shares its
//! fingerprint (a common phrase in a thousand documents, or the same
//! sentence earlier in other documents when looking within one), and every
//! seed is a repeat, not a guess.
//!
//! Matching runs on what the read kept of each document (32-bit token hashes
//! and their spans), never tokenizing again: each copy document's seeds, in
//! order, are extended both ways while the tokens agree, a seed inside what
//! is already reported skipped and a span never reaching back past the one
//! before it, so any document costs time linear in its length (a text made
//! of one block repeated a thousand times included). Each passage is then
//! confirmed on the text (the same bytes, or the same tokens), so a hash
//! collision is never reported; spans map back to byte offsets of whole
//! whitespace-delimited chunks (so a span never splits a word or a UTF-8
//! character).

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::hash::{Roller, token_hash};
use crate::io::load::{Loaded, load};
use crate::io::rewrite::RecordSource;
use crate::io::table::{Cell, Kind, Table};
use crate::io::{AtomicFile, InputFile, OutputFormat, ReadOptions};
use crate::normalize::Tokenizer;
use crate::pool::Pool;

/// Default minimum length of a reported passage, in words. Eight words is a
/// sentence-sized repeat: long enough that ordinary phrases ("as a result of
/// the") do not count, short enough for titles and headlines (the seed
/// article's repeated title has nine).
pub(crate) const DEFAULT_MIN_WORDS: usize = 8;

/// The longest minimum passage length (a fingerprint records the offsets of
/// its runs in 16 bits).
const MAX_MIN_WORDS: usize = 60_000;

/// Size of the token k-grams that are fingerprinted (at most `min_words`).
const KGRAM: usize = 5;

/// Where sources may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Scope {
    /// Earlier in the same document or in any earlier document.
    #[default]
    Corpus,
    /// Earlier in the same document only.
    Within,
}

/// One repeated span, with the earlier occurrence it copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Passage {
    /// The document holding the repeat (index among the searched documents).
    pub doc: u32,
    /// Byte range of the repeat in that document's text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Length in normalized words.
    pub words: usize,
    /// The document of the earlier occurrence (index among the searched
    /// documents, or among the references when searching against them).
    pub source_doc: u32,
    /// Byte range of the earlier occurrence.
    pub source_start: usize,
    /// End of the earlier occurrence (exclusive).
    pub source_end: usize,
}

/// Builds a [`PassageFinder`].
#[derive(Debug, Clone)]
pub struct PassageBuilder {
    min_words: usize,
    scope: Scope,
    threads: Option<usize>,
    read: ReadOptions,
    strict: bool,
}

impl Default for PassageBuilder {
    fn default() -> PassageBuilder {
        PassageBuilder {
            min_words: DEFAULT_MIN_WORDS,
            scope: Scope::Corpus,
            threads: None,
            read: ReadOptions::default(),
            strict: false,
        }
    }
}

impl PassageBuilder {
    /// Default minimum length of a reported passage, in words (eight: a
    /// sentence-sized repeat).
    pub const DEFAULT_MIN_WORDS: usize = DEFAULT_MIN_WORDS;

    /// A builder with the documented defaults.
    pub fn new() -> PassageBuilder {
        PassageBuilder::default()
    }

    /// Minimum passage length in words (at least 2). By default,
    /// [`PassageBuilder::DEFAULT_MIN_WORDS`].
    pub fn min_words(mut self, n: usize) -> Self {
        self.min_words = n;
        self
    }

    /// Where sources may be. By default, [`Scope::Corpus`].
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Worker threads. By default, rayon's global pool.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// How inputs are read. By default, [`ReadOptions::default`].
    pub fn read_options(mut self, opts: ReadOptions) -> Self {
        self.read = opts;
        self
    }

    /// Fail on the first bad record instead of reporting and skipping it.
    /// By default, false.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Check the parameters and build.
    pub fn build(self) -> Result<PassageFinder> {
        if self.read.text_field.is_empty() {
            return Err(Error::param("the text field name is empty"));
        }
        if !(2..=MAX_MIN_WORDS).contains(&self.min_words) {
            return Err(Error::param(format!(
                "min_words must be from 2 to {MAX_MIN_WORDS}, got {}",
                self.min_words
            )));
        }
        let pool = Pool::new(self.threads)?;
        let k = KGRAM.min(self.min_words);
        Ok(PassageFinder {
            min_words: self.min_words,
            k,
            w: self.min_words - k + 1,
            scope: self.scope,
            pool,
            read: self.read,
            strict: self.strict,
        })
    }
}

/// Finds repeated passages. Thread-safe; reusable.
#[derive(Debug, Clone)]
pub struct PassageFinder {
    min_words: usize,
    k: usize,
    w: usize,
    scope: Scope,
    pool: Pool,
    read: ReadOptions,
    strict: bool,
}

/// The result of [`PassageFinder::find_files`]: the documents read, the
/// passages found, and what it took.
#[derive(Debug)]
pub struct PassageRun {
    loaded: Loaded,
    references: Option<Loaded>,
    passages: Vec<Passage>,
    fingerprints: usize,
    read_opts: ReadOptions,
    /// Seconds reading and fingerprinting.
    pub read_seconds: f64,
    /// Seconds matching, confirming and extending.
    pub match_seconds: f64,
}

/// A loaded corpus as a text source.
struct LoadedTexts<'a> {
    loaded: &'a Loaded,
    opts: &'a ReadOptions,
}

impl Texts for LoadedTexts<'_> {
    fn count(&self) -> usize {
        self.loaded.docs.len()
    }
    fn text(&self, d: usize) -> Option<Cow<'_, str>> {
        self.loaded.text(d, self.opts)
    }
}

/// What the finder keeps of one document from the read: its tokens' 32-bit
/// hashes and spans, and its winnowed fingerprints. Matching runs on these
/// alone; the text is read again only to confirm the passages found.
#[derive(Debug, Default)]
pub(crate) struct DocTokens {
    /// 32-bit hash of each normalized token.
    hashes: Vec<u32>,
    /// Byte span of the original text each token came from.
    spans: Vec<(usize, usize)>,
    /// Winnowed k-gram fingerprints.
    fps: Vec<Fp>,
}

/// A fingerprint: its hash (cut to 32 bits), its token position, and the
/// offsets in it of the runs of `min_words` tokens whose least k-gram it is
/// (`lo << 16 | hi`, both inclusive: the runs starting `hi` down to `lo`
/// tokens before it). Equal runs have the same least k-gram at the same
/// offset, wherever they are, so a run is looked for through that one
/// fingerprint only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Fp {
    hash: u32,
    pos: u32,
    offsets: u32,
}

impl DocTokens {
    fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Byte span of tokens `i..j`.
    fn bytes(&self, i: usize, j: usize) -> (usize, usize) {
        (self.spans[i].0, self.spans[j - 1].1)
    }
}

/// The hash of a run of token hashes (seeds compare runs by it; every seed
/// is then checked token by token).
fn run_hash(tokens: &[u32]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for &t in tokens {
        h = (h.rotate_left(29) ^ u64::from(t)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    crate::hash::mix64(h)
}

/// The normalized tokens of a text, back to back, with where each ends: two
/// texts have the same tokens when these are equal.
fn token_texts(tk: &mut Tokenizer, text: &str, arena: &mut String, ends: &mut Vec<usize>) {
    arena.clear();
    ends.clear();
    tk.for_each_token(text, |t, _, _| {
        arena.push_str(t);
        ends.push(arena.len());
    });
}

/// A text source for the finder: document `d`'s text, if available.
pub(crate) trait Texts: Sync {
    fn count(&self) -> usize;
    fn text(&self, d: usize) -> Option<Cow<'_, str>>;
}

impl<S: AsRef<str> + Sync> Texts for [S] {
    fn count(&self) -> usize {
        self.len()
    }
    fn text(&self, d: usize) -> Option<Cow<'_, str>> {
        self.get(d).map(|t| Cow::Borrowed(t.as_ref()))
    }
}

impl PassageFinder {
    /// Minimum passage length in words.
    pub fn min_words(&self) -> usize {
        self.min_words
    }

    /// The fingerprint window (k-grams per window).
    pub fn window(&self) -> usize {
        self.w
    }

    /// The k-gram size.
    pub fn kgram(&self) -> usize {
        self.k
    }

    /// Worker threads this finder runs on.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// What matching keeps of one text: its tokens' hashes and spans, and
    /// its winnowed fingerprints `(hash, token position)`, the hash cut to
    /// 32 bits (every seed is checked on the tokens anyway). A text with
    /// fewer than `min_words` tokens can hold no passage: nothing is kept.
    pub(crate) fn fingerprints(&self, tk: &mut Tokenizer, text: &str) -> DocTokens {
        let mut full: Vec<u64> = Vec::with_capacity(text.len() / 6 + 8);
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(text.len() / 6 + 8);
        tk.for_each_token(text, |t, s, e| {
            full.push(token_hash(t.as_bytes()));
            spans.push((s, e));
        });
        if full.len() < self.min_words {
            return DocTokens::default();
        }
        let k = self.k;
        let mut roller = Roller::new(k);
        let mut grams: Vec<u64> = Vec::with_capacity(full.len() + 1 - k);
        for (i, &h) in full.iter().enumerate() {
            if i < k {
                roller.push(h);
            } else {
                roller.roll(full[i - k], h);
            }
            if i + 1 >= k {
                // avalanche: the rolled polynomial is not mixed
                grams.push(crate::hash::mix64(roller.value(k)));
            }
        }
        let fps = winnow(&grams, self.w);
        DocTokens { hashes: full.iter().map(|&h| (h ^ (h >> 32)) as u32).collect(), spans, fps }
    }

    /// Read `inputs` (and `references`, when checking against them) and find
    /// their passages. `progress` is called with the bytes read so far.
    pub fn find_files(
        &self,
        inputs: &[InputFile],
        references: Option<&[InputFile]>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<PassageRun> {
        self.pool.install(|| {
            let start = std::time::Instant::now();
            let fp = |text: &str| {
                thread_local! {
                    static TK: std::cell::RefCell<Tokenizer> = std::cell::RefCell::new(Tokenizer::new());
                }
                TK.with(|tk| self.fingerprints(&mut tk.borrow_mut(), text))
            };
            let (refs, mut fps) = match references {
                Some(r) => {
                    let (l, v) = load(r, &self.read, true, self.strict, &fp, &|_| {})?;
                    (Some(l), v)
                }
                None => (None, Vec::new()),
            };
            let (loaded, v) = load(inputs, &self.read, true, self.strict, &fp, progress)?;
            fps.extend(v);
            let read_seconds = start.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let n_ref = refs.as_ref().map_or(0, |r| r.docs.len());
            let (passages, fingerprints) = match &refs {
                Some(r) => {
                    let both = LoadedChain {
                        first: LoadedTexts { loaded: r, opts: &self.read },
                        second: LoadedTexts { loaded: &loaded, opts: &self.read },
                    };
                    self.find(&both, fps, Some(n_ref))
                }
                None => self.find(&LoadedTexts { loaded: &loaded, opts: &self.read }, fps, None),
            };
            Ok(PassageRun {
                loaded,
                references: refs,
                passages,
                fingerprints,
                read_opts: self.read.clone(),
                read_seconds,
                match_seconds: t.elapsed().as_secs_f64(),
            })
        })
    }

    /// Find the passages of in-memory texts (index = input order).
    pub fn find_texts<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Passage> {
        self.pool.install(|| {
            let fps: Vec<DocTokens> = texts
                .par_iter()
                .map_init(Tokenizer::new, |tk, t| self.fingerprints(tk, t.as_ref()))
                .collect();
            self.find(texts, fps, None).0
        })
    }

    /// Find the passages of `texts` that occur in `references` (a test set
    /// checked against a training corpus, or the reverse). `source_doc` of
    /// each passage indexes `references`.
    pub fn find_against<S: AsRef<str> + Sync, R: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        references: &[R],
    ) -> Vec<Passage> {
        self.pool.install(|| {
            let mut fps: Vec<DocTokens> = references
                .par_iter()
                .map_init(Tokenizer::new, |tk, t| self.fingerprints(tk, t.as_ref()))
                .collect();
            fps.extend(
                texts
                    .par_iter()
                    .map_init(Tokenizer::new, |tk, t| self.fingerprints(tk, t.as_ref()))
                    .collect::<Vec<_>>(),
            );
            let both = Chain { first: references, second: texts };
            self.find(&both, fps, Some(references.len())).0
        })
    }

    /// The core: `docs[d]` is what the read kept of document `d` of
    /// `texts`; with `refs`, the first that many documents are references
    /// (the only sources, and never searched).
    /// Passage indexes are shifted so that searched documents count from 0
    /// and reference sources index the references.
    pub(crate) fn find(
        &self,
        texts: &(impl Texts + ?Sized),
        docs: Vec<DocTokens>,
        refs: Option<usize>,
    ) -> (Vec<Passage>, usize) {
        // the index: every fingerprint with its place, grouped by hash in
        // (document, position) order
        let mut index: Vec<Entry> = docs
            .par_iter()
            .enumerate()
            .flat_map_iter(|(d, t)| t.fps.iter().map(move |f| (f.hash, d as u32, f.pos, f.offsets)))
            .collect();
        // stable by hash: entries were made in (document, position) order
        radix_sort_by_hash(&mut index);
        let indexed = index.len();
        // runs of one fingerprint hash, two occurrences or more
        let groups: Vec<&[Entry]> = index.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1).collect();
        let n_ref = refs.unwrap_or(0) as u32;
        let against = refs.is_some();
        let seeds: Vec<Seed> = groups
            .par_iter()
            .fold(
                || (Vec::new(), Vec::new()),
                |(mut out, mut runs), g| {
                    self.group_seeds(g, &docs, n_ref, against, &mut runs, &mut out);
                    (out, runs)
                },
            )
            .map(|(out, _)| out)
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            });
        drop(index);
        // group seeds by copy document (counting sort: stable, linear)
        let n_docs = texts.count();
        let mut start = vec![0usize; n_docs + 1];
        for s in &seeds {
            start[s.0 as usize + 1] += 1;
        }
        for i in 0..n_docs {
            start[i + 1] += start[i];
        }
        let mut grouped = vec![(0u32, 0u32, 0u32, 0u32); seeds.len()];
        let mut next = start.clone();
        for s in seeds {
            grouped[next[s.0 as usize]] = s;
            next[s.0 as usize] += 1;
        }
        // one part per copy document: the seeds are grouped by it now
        let parts: Vec<&mut [Seed]> = grouped.chunk_by_mut(|a, b| a.0 == b.0).collect();
        let cache = SourceCache::new(SOURCE_CACHE_BYTES);
        let mut passages: Vec<Passage> = parts
            .into_par_iter()
            .map_init(Confirm::default, |c, part| self.extend_doc(c, texts, &cache, &docs, part, n_ref))
            .flatten_iter()
            .collect();
        passages.par_sort_unstable();
        (passages, indexed)
    }

    /// The seeds of one fingerprint's occurrences: for each offset `a` of the
    /// fingerprint in a run of `min_words` tokens it is the least k-gram of,
    /// the runs starting `a` tokens before the occurrences, grouped by their
    /// tokens; each takes the earliest run of its group that it may copy (in
    /// an earlier document or earlier and apart in its own; within its own
    /// document only; in the references only).
    fn group_seeds(
        &self,
        g: &[Entry],
        docs: &[DocTokens],
        n_ref: u32,
        against: bool,
        runs: &mut Vec<(u64, u32, u32)>,
        out: &mut Vec<Seed>,
    ) {
        let mw = self.min_words;
        let (lo, hi) = g.iter().fold((u32::MAX, 0), |(lo, hi), e| (lo.min(e.3 >> 16), hi.max(e.3 & 0xffff)));
        for a in lo..=hi {
            runs.clear();
            for &(_, d, p, offsets) in g {
                if (offsets >> 16..=offsets & 0xffff).contains(&a) {
                    let q = (p - a) as usize;
                    let t = &docs[d as usize].hashes;
                    runs.push((
                        if g.len() <= SMALL_GROUP { 0 } else { run_hash(&t[q..q + mw]) },
                        d,
                        q as u32,
                    ));
                }
            }
            if runs.len() < 2 {
                continue;
            }
            if g.len() <= SMALL_GROUP {
                // few occurrences: compare the runs themselves, in (document,
                // position) order, each with the earlier ones
                let run = |x: &(u64, u32, u32)| &docs[x.1 as usize].hashes[x.2 as usize..x.2 as usize + mw];
                for (i, x) in runs.iter().enumerate().skip(1) {
                    let first = runs[..i].iter().find(|y| run(y) == run(x));
                    let doc_first = runs[..i].iter().find(|y| y.1 == x.1 && run(y) == run(x));
                    if let Some(src) = self.source(first, doc_first, x, n_ref, against) {
                        out.push(src);
                    }
                }
                continue;
            }
            runs.sort_unstable();
            for run in runs.chunk_by(|x, y| x.0 == y.0).filter(|r| r.len() > 1) {
                let mut doc_first = &run[0];
                for x in &run[1..] {
                    if x.1 != doc_first.1 {
                        doc_first = x;
                    }
                    let same_doc = (doc_first != x).then_some(doc_first);
                    if let Some(src) = self.source(Some(&run[0]), same_doc, x, n_ref, against) {
                        out.push(src);
                    }
                }
            }
        }
    }

    /// The seed of run `x` given the earliest equal run before it (`first`)
    /// and the earliest before it in its own document (`doc_first`), if it
    /// may copy one.
    fn source(
        &self,
        first: Option<&(u64, u32, u32)>,
        doc_first: Option<&(u64, u32, u32)>,
        x: &(u64, u32, u32),
        n_ref: u32,
        against: bool,
    ) -> Option<Seed> {
        if x.1 < n_ref {
            return None; // references are sources only
        }
        let src = match (against, self.scope) {
            (true, _) => first.filter(|f| f.1 < n_ref)?,
            (false, Scope::Corpus) => first?,
            (false, Scope::Within) => doc_first?,
        };
        // the source ends before the copy starts
        (src.1 < x.1 || src.2 as usize + self.min_words <= x.2 as usize).then_some((x.1, x.2, src.1, src.2))
    }

    /// Extend the seeds of one copy document in order, skipping those inside
    /// what is already reported, and confirm each span on the text.
    fn extend_doc(
        &self,
        confirm: &mut Confirm,
        texts: &(impl Texts + ?Sized),
        cache: &SourceCache,
        docs: &[DocTokens],
        seeds: &mut [Seed],
        n_ref: u32,
    ) -> Vec<Passage> {
        let mw = self.min_words;
        let d = seeds[0].0;
        let copy = &docs[d as usize];
        seeds.sort_unstable();
        // (copy start, copy end, source doc, source start, source end) in tokens
        let mut spans: Vec<(usize, usize, u32, usize, usize)> = Vec::new();
        // copy tokens before this are inside a span found
        let mut covered = 0usize;
        let mut last: Option<(u32, u32, u32)> = None;
        for &(_, q, sd, sq) in seeds.iter() {
            if last == Some((q, sd, sq)) {
                continue;
            }
            last = Some((q, sd, sq));
            let q = q as usize;
            if q + mw <= covered {
                continue;
            }
            let src = &docs[sd as usize];
            if let Some((c0, c1, s0, s1)) = self.extend(copy, q, src, sq as usize, sd == d, covered) {
                // a span from the same start as the last one, but longer
                if spans.last().is_some_and(|l| l.0 == c0) {
                    spans.pop();
                }
                covered = c1;
                spans.push((c0, c1, sd, s0, s1));
            }
        }
        if spans.is_empty() {
            return Vec::new();
        }
        let Some(text) = texts.text(d as usize) else { return Vec::new() };
        let mut sources: Vec<(u32, std::sync::Arc<str>)> = Vec::new();
        let mut out = Vec::with_capacity(spans.len());
        for (c0, c1, sd, s0, s1) in spans {
            let (start, end) = copy.bytes(c0, c1);
            let (source_start, source_end) = docs[sd as usize].bytes(s0, s1);
            let source: &str = if sd == d {
                &text
            } else {
                let i = match sources.iter().position(|s| s.0 == sd) {
                    Some(i) => i,
                    None => {
                        let Some(t) = cache.get(sd, texts) else { continue };
                        sources.push((sd, t));
                        sources.len() - 1
                    }
                };
                &sources[i].1
            };
            if confirm.same(&text[start..end], &source[source_start..source_end], c1 - c0) {
                out.push(Passage {
                    doc: d - n_ref,
                    start,
                    end,
                    words: c1 - c0,
                    source_doc: sd,
                    source_start,
                    source_end,
                });
            }
        }
        out
    }

    /// Check that the run of `min_words` tokens at `q` (copy) equals the one
    /// at `sq` (source), then extend both ways while tokens agree: back no
    /// further than `floor` (what is reported already), and, within one
    /// document, while the source stays before the copy. Returns token
    /// ranges `(c0, c1, s0, s1)`.
    fn extend(
        &self,
        copy: &DocTokens,
        q: usize,
        src: &DocTokens,
        sq: usize,
        same: bool,
        floor: usize,
    ) -> Option<(usize, usize, usize, usize)> {
        let mw = self.min_words;
        if q + mw > copy.len() || sq + mw > src.len() || (same && sq >= q) {
            return None;
        }
        // within one document the source must end before the copy starts
        let max_len = if same { q - sq } else { usize::MAX };
        if mw > max_len || copy.hashes[q..q + mw] != src.hashes[sq..sq + mw] {
            return None; // overlapping, or a hash collision
        }
        let (a, b) = (&copy.hashes, &src.hashes);
        let (mut c0, mut s0, mut c1, mut s1) = (q, sq, q + mw, sq + mw);
        while c0 > floor && s0 > 0 && c1 - c0 < max_len && a[c0 - 1] == b[s0 - 1] {
            c0 -= 1;
            s0 -= 1;
        }
        while c1 < a.len() && s1 < b.len() && c1 - c0 < max_len && a[c1] == b[s1] {
            c1 += 1;
            s1 += 1;
        }
        Some((c0, c1, s0, s1))
    }
}

/// Whether two byte strings are equal but for the ASCII whitespace between
/// their words (a run of it on one side for a run on the other): then they
/// hold the same tokens.
fn same_but_spacing(x: &[u8], y: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    loop {
        match (x.get(i), y.get(j)) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.is_ascii_whitespace() && b.is_ascii_whitespace() => {
                while x.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                while y.get(j).is_some_and(u8::is_ascii_whitespace) {
                    j += 1;
                }
            }
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            _ => return false,
        }
    }
}

/// A seed: (copy document, copy run start, source document, source run
/// start), runs of `min_words` tokens with equal hashes.
type Seed = (u32, u32, u32, u32);

/// A fingerprint in the index: (hash, document, position, offsets).
type Entry = (u32, u32, u32, u32);

/// Groups of at most this many occurrences of a fingerprint compare their
/// runs directly instead of hashing and sorting them.
const SMALL_GROUP: usize = 8;

/// Source texts shared by all workers, so that a text many documents copy
/// (a license, a footer) is read once, not once per copy. First in, first
/// out within a byte budget; it changes only speed, never results.
struct SourceCache {
    budget: usize,
    inner: std::sync::Mutex<CacheState>,
}

/// The cached texts, their insertion order and the bytes they hold.
#[derive(Default)]
struct CacheState {
    map: HashMap<u32, std::sync::Arc<str>>,
    order: std::collections::VecDeque<u32>,
    used: usize,
}

/// Memory the shared source cache may hold.
const SOURCE_CACHE_BYTES: usize = 256 << 20;

impl SourceCache {
    fn new(budget: usize) -> SourceCache {
        SourceCache { budget, inner: std::sync::Mutex::new(CacheState::default()) }
    }

    fn get(&self, d: u32, texts: &(impl Texts + ?Sized)) -> Option<std::sync::Arc<str>> {
        if let Some(t) = self.inner.lock().ok().and_then(|g| g.map.get(&d).cloned()) {
            return Some(t);
        }
        let t: std::sync::Arc<str> = texts.text(d as usize)?.into();
        if let Ok(mut g) = self.inner.lock() {
            let g = &mut *g;
            if let std::collections::hash_map::Entry::Vacant(slot) = g.map.entry(d) {
                g.used += t.len();
                slot.insert(t.clone());
                g.order.push_back(d);
                while g.used > self.budget {
                    let Some(old) = g.order.pop_front() else { break };
                    if let Some(x) = g.map.remove(&old) {
                        g.used -= x.len();
                    }
                }
            }
        }
        Some(t)
    }
}

/// Scratch space for confirming passages on the text.
#[derive(Default)]
struct Confirm {
    tk: Tokenizer,
    a: (String, Vec<usize>),
    b: (String, Vec<usize>),
}

impl Confirm {
    /// Whether two spans hold the same `n` normalized tokens: the same
    /// bytes, or `n` tokens that are equal when compared. (A span may hold a
    /// token more at an end, where NFKC made two words of one piece of text
    /// and the span takes the whole piece.)
    fn same(&mut self, x: &str, y: &str, n: usize) -> bool {
        if x == y || same_but_spacing(x.as_bytes(), y.as_bytes()) {
            return true;
        }
        token_texts(&mut self.tk, x, &mut self.a.0, &mut self.a.1);
        token_texts(&mut self.tk, y, &mut self.b.0, &mut self.b.1);
        fn word(t: &(String, Vec<usize>), i: usize) -> &str {
            let start = if i == 0 { 0 } else { t.1[i - 1] };
            &t.0[start..t.1[i]]
        }
        let (la, lb) = (self.a.1.len(), self.b.1.len());
        if la < n || lb < n {
            return false;
        }
        (0..=la - n)
            .any(|i| (0..=lb - n).any(|j| (0..n).all(|k| word(&self.a, i + k) == word(&self.b, j + k))))
    }
}

/// Two text lists as one (references first).
struct Chain<'a, R, S> {
    first: &'a [R],
    second: &'a [S],
}

impl<R: AsRef<str> + Sync, S: AsRef<str> + Sync> Texts for Chain<'_, R, S> {
    fn count(&self) -> usize {
        self.first.len() + self.second.len()
    }
    fn text(&self, d: usize) -> Option<Cow<'_, str>> {
        if d < self.first.len() { self.first.text(d) } else { self.second.text(d - self.first.len()) }
    }
}

/// Two loaded corpora as one (references first).
struct LoadedChain<'a> {
    first: LoadedTexts<'a>,
    second: LoadedTexts<'a>,
}

impl Texts for LoadedChain<'_> {
    fn count(&self) -> usize {
        self.first.count() + self.second.count()
    }
    fn text(&self, d: usize) -> Option<Cow<'_, str>> {
        let n = self.first.count();
        if d < n { self.first.text(d) } else { self.second.text(d - n) }
    }
}

impl PassageRun {
    /// The passages, sorted by document and start.
    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// Fingerprints held in the index (12 bytes each).
    pub fn fingerprints(&self) -> usize {
        self.fingerprints
    }

    /// Documents searched (bad records excluded).
    pub fn documents(&self) -> usize {
        self.loaded.docs.len()
    }

    /// The id of searched document `d`.
    pub fn id(&self, d: usize) -> &str {
        self.loaded.docs.id(d)
    }

    /// The id of a passage's source document.
    pub fn source_id(&self, p: &Passage) -> &str {
        match &self.references {
            Some(r) => r.docs.id(p.source_doc as usize),
            None => self.loaded.docs.id(p.source_doc as usize),
        }
    }

    /// Records that could not be used (inputs, then references).
    pub fn bad_records(&self) -> Vec<crate::error::BadRecord> {
        let mut v = self.loaded.tally.bad.clone();
        if let Some(r) = &self.references {
            v.extend(r.tally.bad.iter().cloned());
        }
        v
    }

    /// Inputs and references that could not be read to their end (each also
    /// among [`PassageRun::bad_records`], with its offset).
    pub fn failed_inputs(&self) -> Vec<String> {
        let mut v = self.loaded.tally.failed.clone();
        if let Some(r) = &self.references {
            v.extend(r.tally.failed.iter().cloned());
        }
        v
    }

    /// Bytes of input read (references excluded).
    pub fn input_bytes(&self) -> u64 {
        self.loaded.tally.input_bytes
    }

    /// Bytes of document text searched.
    pub fn text_bytes(&self) -> u64 {
        self.loaded.tally.text_bytes
    }

    /// Bytes of text inside reported passages (overlaps counted once).
    pub fn flagged_bytes(&self) -> u64 {
        let mut total = 0u64;
        for (_, spans) in self.by_doc() {
            total += merged(spans).iter().map(|&(s, e)| (e - s) as u64).sum::<u64>();
        }
        total
    }

    /// Documents with at least one passage.
    pub fn documents_with_passages(&self) -> usize {
        self.by_doc().count()
    }

    fn by_doc(&self) -> impl Iterator<Item = (u32, &[Passage])> {
        self.passages.chunk_by(|a, b| a.doc == b.doc).map(|c| (c[0].doc, c))
    }

    /// Write one JSON line per passage: `doc`, `start`, `end`, `words`,
    /// `source_doc`, `source_start`, `source_end` and `text` (the span, cut
    /// to 200 characters). Offsets index the document's text as the input
    /// holds it (for JSONL, the UTF-8 of the decoded text field). The same
    /// columns in Parquet (see [`OutputFormat`]).
    pub fn write_passages(&self, path: &std::path::Path, format: OutputFormat) -> Result<()> {
        let mut protect = self.loaded.input_paths();
        if let Some(r) = &self.references {
            protect.extend(r.input_paths());
        }
        if format.is_parquet(path) {
            return self.write_passages_parquet(path, &protect);
        }
        let mut out = AtomicFile::create(path, &protect)?;
        self.for_each_record(|rec| {
            let line = serde_json::to_string(&rec)
                .map_err(|e| Error::Internal(format!("encoding a passage: {e}")))?;
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")
        })?;
        out.commit()
    }

    fn write_passages_parquet(&self, path: &std::path::Path, protect: &[std::path::PathBuf]) -> Result<()> {
        let fields = [
            ("doc", Kind::Str),
            ("start", Kind::U64),
            ("end", Kind::U64),
            ("words", Kind::U64),
            ("source_doc", Kind::Str),
            ("source_start", Kind::U64),
            ("source_end", Kind::U64),
            ("text", Kind::Str),
        ];
        let mut out = Table::create(path, protect, &fields)?;
        self.for_each_record(|r| {
            out.push(&[
                Cell::Str(r.doc),
                Cell::U64(r.start as u64),
                Cell::U64(r.end as u64),
                Cell::U64(r.words as u64),
                Cell::Str(r.source_doc),
                Cell::U64(r.source_start as u64),
                Cell::U64(r.source_end as u64),
                Cell::Str(r.text),
            ])
        })?;
        out.commit()
    }

    /// Call `f` with every passage's output record, in order.
    fn for_each_record(&self, mut f: impl FnMut(PassageRecord<'_>) -> Result<()>) -> Result<()> {
        let mut current: Option<(u32, Option<Cow<'_, str>>)> = None;
        for p in &self.passages {
            if current.as_ref().map(|c| c.0) != Some(p.doc) {
                current = Some((p.doc, self.loaded.text(p.doc as usize, &self.read_opts)));
            }
            let text = current
                .as_ref()
                .and_then(|c| c.1.as_deref())
                .and_then(|t| t.get(p.start..p.end))
                .unwrap_or("");
            let excerpt: String = text.chars().take(200).collect();
            let rec = PassageRecord {
                doc: self.id(p.doc as usize),
                start: p.start,
                end: p.end,
                words: p.words,
                source_doc: self.source_id(p),
                source_start: p.source_start,
                source_end: p.source_end,
                text: &excerpt,
            };
            f(rec)?;
        }
        Ok(())
    }

    /// Write the corpus with every reported span removed from its document
    /// (the earlier occurrence is kept), records otherwise unchanged: JSONL
    /// records keep every other field byte for byte; text and lines lose
    /// exactly the span bytes.
    pub fn write_stripped(&self, path: &std::path::Path) -> Result<()> {
        let spans: HashMap<u32, Vec<(usize, usize)>> = self.by_doc().map(|(d, ps)| (d, merged(ps))).collect();
        let loaded = &self.loaded;
        loaded.write_records(path, |d| {
            Some(match spans.get(&(d as u32)) {
                Some(cut) => crate::io::rewrite::stripped(loaded, d, cut),
                None => RecordSource::record(loaded, d),
            })
        })
    }
}

/// One output line of `write_passages`, fields in this order.
#[derive(serde::Serialize)]
struct PassageRecord<'a> {
    doc: &'a str,
    start: usize,
    end: usize,
    words: usize,
    source_doc: &'a str,
    source_start: usize,
    source_end: usize,
    text: &'a str,
}

/// Byte ranges of a document's passages, merged where they overlap.
fn merged(ps: &[Passage]) -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = ps.iter().map(|p| (p.start, p.end)).collect();
    v.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Stable LSD radix sort of index entries by their 32-bit hash.
fn radix_sort_by_hash(v: &mut Vec<Entry>) {
    let mut tmp = vec![(0u32, 0u32, 0u32, 0u32); v.len()];
    for shift in [0u32, 8, 16, 24] {
        let mut count = [0usize; 257];
        for e in v.iter() {
            count[((e.0 >> shift) & 0xff) as usize + 1] += 1;
        }
        for i in 0..256 {
            count[i + 1] += count[i];
        }
        for e in v.iter() {
            let b = ((e.0 >> shift) & 0xff) as usize;
            tmp[count[b]] = *e;
            count[b] += 1;
        }
        std::mem::swap(v, &mut tmp);
    }
}

/// Robust winnowing: in each window of `w` consecutive hashes keep the
/// minimum (the rightmost on ties), recording a position once, with the
/// offsets of the windows it is the minimum of (contiguous: the windows
/// starting from `pos - hi` to `pos - lo`).
fn winnow(grams: &[u64], w: usize) -> Vec<Fp> {
    let mut out: Vec<Fp> = Vec::with_capacity(grams.len() * 2 / (w + 1) + 1);
    if grams.is_empty() {
        return out;
    }
    let w = w.max(1).min(grams.len());
    // the current minimum and the first window it is the minimum of
    let mut last: Option<(usize, usize)> = None;
    let emit = |out: &mut Vec<Fp>, m: usize, first: usize, end: usize| {
        let (hi, lo) = ((m - first) as u32, (m - end) as u32);
        out.push(Fp { hash: (grams[m] >> 32) as u32, pos: m as u32, offsets: lo << 16 | hi });
    };
    // monotonic deque of positions with increasing hashes
    let mut dq: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for i in 0..grams.len() {
        while let Some(&b) = dq.back() {
            if grams[b] >= grams[i] {
                dq.pop_back();
            } else {
                break;
            }
        }
        dq.push_back(i);
        if i + 1 >= w {
            while let Some(&f) = dq.front() {
                if f + w <= i {
                    dq.pop_front();
                } else {
                    break;
                }
            }
            let m = dq[0];
            let q = i + 1 - w;
            match last {
                Some((lm, _)) if lm == m => {}
                Some((lm, first)) => {
                    emit(&mut out, lm, first, q - 1);
                    last = Some((m, q));
                }
                None => last = Some((m, q)),
            }
        }
    }
    if let Some((m, first)) = last {
        emit(&mut out, m, first, grams.len() - w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn radix_sort_is_a_stable_sort_by_hash() {
        let mut s = crate::hash::SeedStream::new(1, 2);
        let mut v: Vec<Entry> =
            (0..10_000).map(|i| ((s.next_u64() % 500) as u32 * 0x0101_0101, i, 0, 0)).collect();
        let mut want = v.clone();
        want.sort_by_key(|e| e.0);
        radix_sort_by_hash(&mut v);
        assert_eq!(v, want);
    }

    #[test]
    fn winnowing_picks_window_minima() {
        let g = [5u64 << 32, 3 << 32, 3 << 32, 9 << 32, 1 << 32, 7 << 32];
        // windows of 3: [5,3,3]->2 (rightmost), [3,3,9]->2, [3,9,1]->4, [9,1,7]->4
        // position 2 is the minimum of the windows starting at 0 and 1
        // (offsets 2 and 1), position 4 of those at 2 and 3 (offsets 2, 1)
        let got: Vec<(u32, u32, u32)> = winnow(&g, 3).iter().map(|f| (f.hash, f.pos, f.offsets)).collect();
        assert_eq!(got, vec![(3, 2, 1 << 16 | 2), (1, 4, 1 << 16 | 2)]);
        // every window holds a selected position
        let sel: Vec<u32> = winnow(&g, 3).iter().map(|x| x.pos).collect();
        for s in 0..=g.len() - 3 {
            assert!(sel.iter().any(|&p| (p as usize) >= s && (p as usize) < s + 3));
        }
    }

    #[test]
    fn seed_article() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/seed-article.txt")).unwrap();
        let f = PassageBuilder::new().build().unwrap();
        let got = f.find_texts(&[text.as_str()]);
        let spans: Vec<(usize, usize, usize, usize)> =
            got.iter().map(|p| (p.start, p.end, p.source_start, p.source_end)).collect();
        assert_eq!(spans, vec![(320, 391, 247, 318), (2239, 3476, 1001, 2238)]);
        assert_eq!(got[0].words, 9);
        assert!(f.find_texts(&[text.as_str()]) == got);
    }

    #[test]
    fn within_and_against() {
        let a = "one two three four five six seven eight nine ten";
        let b = format!("prefix words here {a} and suffix");
        let f = PassageBuilder::new().build().unwrap();
        let got = f.find_texts(&[a, b.as_str()]);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].doc, got[0].source_doc, got[0].words), (1, 0, 10));
        assert_eq!(&b[got[0].start..got[0].end], a);
        let within = PassageBuilder::new().scope(Scope::Within).build().unwrap();
        assert!(within.find_texts(&[a, b.as_str()]).is_empty());
        let against = f.find_against(&[b.as_str()], &[a]);
        assert_eq!(against.len(), 1);
        assert_eq!((against[0].doc, against[0].source_doc), (0, 0));
    }

    /// A copy made of two adjacent passages from two sources gives two
    /// spans; a copy of one contiguous source, even when it was pasted as two
    /// overlapping pieces, gives one.
    #[test]
    fn adjacent_and_overlapping_copies() {
        let p1: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
        let p2: Vec<String> = (0..10).map(|i| format!("b{i}")).collect();
        let d0 = format!("intro {}", p1.join(" "));
        let d1 = format!("{} outro", p2.join(" "));
        let d2 = format!("x {} {} y", p1.join(" "), p2.join(" "));
        let f = PassageBuilder::new().build().unwrap();
        let got = f.find_texts(&[d0.as_str(), d1.as_str(), d2.as_str()]);
        let spans: Vec<(u32, &str, u32)> =
            got.iter().map(|p| (p.doc, &d2[p.start..p.end], p.source_doc)).collect();
        assert_eq!(spans, vec![(2, p1.join(" ").as_str(), 0), (2, p2.join(" ").as_str(), 1)]);
        // one source [w0..w29]; the copy repeats w0..w19 and w10..w29
        // back to back: two copies of overlapping source pieces
        let w: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let src = w.join(" ");
        let copy = format!("{} {}", w[..20].join(" "), w[10..].join(" "));
        let got = f.find_texts(&[src.as_str(), copy.as_str()]);
        let spans: Vec<&str> = got.iter().map(|p| &copy[p.start..p.end]).collect();
        assert_eq!(spans, vec![w[..20].join(" "), w[10..].join(" ")]);
        // the same contiguous source copied whole is one span
        let got = f.find_texts(&[src.as_str(), format!("z {src} z").as_str()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].words, 30);
    }

    /// Random documents over a small vocabulary.
    fn doc_strategy() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                Just("alpha"),
                Just("Beta,"),
                Just("gamma"),
                Just("delta."),
                Just("x"),
                Just("ÉCOLE")
            ]
            .prop_map(str::to_owned),
            0..60,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Planted copies of at least min_words words are found, with their
        /// exact extents (or inside a longer reported repeat), within and
        /// across documents.
        #[test]
        fn planted_copies_are_found(
            docs in proptest::collection::vec(doc_strategy(), 1..5),
            plants in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 8usize..20, any::<prop::sample::Index>()), 1..4),
        ) {
            // plants: a source appended to doc `src`, a copy inserted into a
            // later (or the same) doc at a random place of its original words
            // (after the source when it is the same doc); unique words make
            // each plant's source the only one
            let mut tails: Vec<Vec<String>> = vec![Vec::new(); docs.len()];
            let mut inserts: Vec<Vec<(usize, Vec<String>)>> = vec![Vec::new(); docs.len()];
            let mut planted = Vec::new();
            for (n, (from, to, len, at)) in plants.into_iter().enumerate() {
                let src = from.index(docs.len());
                let dst = to.index(docs.len()).max(src);
                let passage: Vec<String> = (0..len).map(|i| format!("p{n}w{i}")).collect();
                tails[src].extend(passage.iter().cloned());
                if dst == src {
                    tails[dst].push(format!("sep{n}"));
                    tails[dst].extend(passage.iter().cloned());
                } else {
                    inserts[dst].push((at.index(docs[dst].len() + 1), passage.clone()));
                }
                planted.push((dst, passage));
            }
            let docs: Vec<Vec<String>> = docs
                .into_iter()
                .enumerate()
                .map(|(d, base)| {
                    let mut ins = std::mem::take(&mut inserts[d]);
                    ins.sort_by_key(|x| x.0);
                    let mut out = Vec::new();
                    let mut it = ins.into_iter().peekable();
                    for (i, w) in base.into_iter().enumerate() {
                        while let Some((_, p)) = it.next_if(|x| x.0 == i) {
                            out.push(format!("gap{i}"));
                            out.extend(p);
                        }
                        out.push(w);
                    }
                    for (_, p) in it {
                        out.push("gapend".to_owned());
                        out.extend(p);
                    }
                    out.extend(std::mem::take(&mut tails[d]));
                    out
                })
                .collect();
            let texts: Vec<String> = docs.iter().map(|d| d.join(" ")).collect();
            let f = PassageBuilder::new().build().unwrap();
            let got = f.find_texts(&texts);
            for (dst, passage) in &planted {
                let needle = passage.join(" ");
                let at = texts[*dst].rfind(&needle).unwrap();
                prop_assert!(
                    got.iter().any(|p| p.doc as usize == *dst && p.start <= at && p.end >= at + needle.len()),
                    "planted {needle} in doc {dst} not found: {got:?}"
                );
            }
            // every reported passage is a real repeat of its source
            let mut tk = Tokenizer::new();
            for p in &got {
                let a: Vec<String> = tk.tokens(&texts[p.doc as usize][p.start..p.end]).into_iter().map(|t| t.text).collect();
                let b: Vec<String> = tk.tokens(&texts[p.source_doc as usize][p.source_start..p.source_end]).into_iter().map(|t| t.text).collect();
                prop_assert_eq!(&a, &b);
                prop_assert!(a.len() >= 8);
                prop_assert!(p.source_doc < p.doc || (p.source_doc == p.doc && p.source_end <= p.start));
            }
        }

        /// Exactly the tokens the naive truth flags are in passages (token
        /// precision and recall 1), within, corpus-wide and against
        /// references: on texts from a tiny vocabulary (repeats everywhere,
        /// overlapping and periodic), with planted repeats that other
        /// documents share, and blocks repeated many times.
        #[test]
        fn passages_are_exactly_the_naive_repeats(
            docs in proptest::collection::vec(proptest::collection::vec(0usize..4, 0..120), 1..6),
            plants in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 2usize..12, 1usize..5), 0..4),
            min_words in 2usize..10,
        ) {
            let vocab = ["a", "B.", "c,", "dé"];
            let mut docs: Vec<Vec<String>> =
                docs.into_iter().map(|d| d.into_iter().map(|i| vocab[i].to_owned()).collect()).collect();
            // a block of another document, repeated `times` times into this one
            for (from, to, len, times) in plants {
                let src = from.index(docs.len());
                let block: Vec<String> = docs[src].iter().take(len).cloned().collect();
                let dst = to.index(docs.len());
                for _ in 0..times {
                    docs[dst].extend(block.iter().cloned());
                }
            }
            let texts: Vec<String> = docs.iter().map(|d| d.join(" ")).collect();
            let none: Option<&[String]> = None;
            for scope in [Scope::Corpus, Scope::Within] {
                let f = PassageBuilder::new().min_words(min_words).scope(scope).build().unwrap();
                let got = f.find_texts(&texts);
                let truth = crate::eval::repeated_tokens(&texts, min_words, scope, none);
                let score = crate::eval::score_passages(&texts, &got, &truth);
                prop_assert_eq!((score.found_only, score.truth_only), (0, 0), "{:?} {:?} {:?}", scope, score, got);
            }
            let (refs, rest) = texts.split_at(texts.len() / 2);
            let f = PassageBuilder::new().min_words(min_words).build().unwrap();
            let got = f.find_against(rest, refs);
            let truth = crate::eval::repeated_tokens(rest, min_words, Scope::Corpus, Some(refs));
            let score = crate::eval::score_passages(rest, &got, &truth);
            prop_assert_eq!((score.found_only, score.truth_only), (0, 0), "against: {:?} {:?}", score, got);
        }

        /// Documents with no repeated 8-word run report nothing.
        #[test]
        fn no_repeats_no_passages(n in 1usize..4, len in 0usize..80) {
            let texts: Vec<String> = (0..n).map(|d| (0..len).map(|i| format!("d{d}w{i}")).collect::<Vec<_>>().join(" ")).collect();
            prop_assert!(PassageBuilder::new().build().unwrap().find_texts(&texts).is_empty());
        }
    }
}
