//! Repeated passages: maximal spans of at least `min_words` normalized words
//! that also occur earlier, in the same document, in an earlier document, or
//! in a reference set.
//!
//! Winnowing (Schleimer, Wilkerson, Aiken 2003): every document's token
//! k-grams are hashed and, in each window of `w` consecutive k-gram hashes,
//! the minimum is kept as a fingerprint. Any repeat of `w + k - 1 =
//! min_words` tokens shares at least one fingerprint with its earlier
//! occurrence, while only about `2 / (w + 1)` of the k-grams are indexed.
//! Shared fingerprints seed matches; each seed is confirmed on the tokens
//! themselves (so no hash collision is ever reported), extended to a maximal
//! span, and mapped back to byte offsets of whole whitespace-delimited chunks
//! (so a span never splits a word or a UTF-8 character).

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

/// Size of the token k-grams that are fingerprinted (at most `min_words`).
const KGRAM: usize = 5;

/// At most this many earlier occurrences of one fingerprint are tried as
/// sources (the earliest ones), so that boilerplate repeated a million times
/// costs linear time.
const MAX_SOURCES: usize = 2;

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
        if self.min_words < 2 {
            return Err(Error::param(format!("min_words must be at least 2, got {}", self.min_words)));
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

/// A document's normalized tokens: their text in one arena, and the byte
/// span of the chunk each came from.
#[derive(Debug, Default)]
struct Tokens {
    /// The normalized tokens' bytes, back to back.
    arena: Vec<u8>,
    /// End of each token in the arena (its start is the previous end).
    ends: Vec<usize>,
    /// Byte span of the chunk each token came from.
    spans: Vec<(usize, usize)>,
}

impl Tokens {
    fn of(tk: &mut Tokenizer, text: &str) -> Tokens {
        let mut t = Tokens {
            arena: Vec::with_capacity(text.len()),
            ends: Vec::with_capacity(text.len() / 5),
            spans: Vec::with_capacity(text.len() / 5),
        };
        tk.for_each_token(text, |tok, s, e| {
            t.arena.extend_from_slice(tok.as_bytes());
            t.ends.push(t.arena.len());
            t.spans.push((s, e));
        });
        t
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes of memory held.
    fn weight(&self) -> usize {
        self.arena.capacity() + self.ends.capacity() * 8 + self.spans.capacity() * 16
    }

    fn word(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    /// Byte span of tokens `i..j`.
    fn bytes(&self, i: usize, j: usize) -> (usize, usize) {
        (self.spans[i].0, self.spans[j - 1].1)
    }
}

/// A fast hasher for the small integer keys of this module's maps (keys are
/// document numbers and offsets, not attacker-chosen strings).
#[derive(Default, Clone, Copy)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        crate::hash::mix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0.rotate_left(32) ^ u64::from(v)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(32) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
}

type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// Tokenized source documents shared by all workers, so that a text many
/// documents copy (a license, a footer) is tokenized once, not once per
/// copy. First in, first out within a byte budget; it changes only speed,
/// never results.
struct TokenCache {
    budget: usize,
    inner: std::sync::Mutex<CacheState>,
}

/// The cached documents, their insertion order and the bytes they hold.
#[derive(Default)]
struct CacheState {
    map: IntMap<u32, std::sync::Arc<Tokens>>,
    order: std::collections::VecDeque<u32>,
    used: usize,
}

impl TokenCache {
    fn new(budget: usize) -> TokenCache {
        TokenCache { budget, inner: std::sync::Mutex::new(CacheState::default()) }
    }

    fn get(&self, d: u32, tk: &mut Tokenizer, texts: &(impl Texts + ?Sized)) -> std::sync::Arc<Tokens> {
        if let Some(t) = self.inner.lock().ok().and_then(|g| g.map.get(&d).cloned()) {
            return t;
        }
        let t = std::sync::Arc::new(texts.text(d as usize).map(|t| Tokens::of(tk, &t)).unwrap_or_default());
        if let Ok(mut g) = self.inner.lock() {
            let g = &mut *g;
            if let std::collections::hash_map::Entry::Vacant(slot) = g.map.entry(d) {
                g.used += t.weight();
                slot.insert(t.clone());
                g.order.push_back(d);
                while g.used > self.budget {
                    let Some(old) = g.order.pop_front() else { break };
                    if let Some(x) = g.map.remove(&old) {
                        g.used -= x.weight();
                    }
                }
            }
        }
        t
    }
}

/// Memory the shared token cache may hold.
const TOKEN_CACHE_BYTES: usize = 256 << 20;

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

    /// Winnowed fingerprints of one text: `(hash, token position)`, the hash
    /// cut to 32 bits (every match is confirmed on the tokens anyway).
    pub(crate) fn fingerprints(&self, tk: &mut Tokenizer, text: &str) -> Vec<(u32, u32)> {
        let mut hashes: Vec<u64> = Vec::new();
        tk.for_each_token(text, |t, _, _| hashes.push(token_hash(t.as_bytes())));
        if hashes.len() < self.min_words {
            return Vec::new();
        }
        let k = self.k;
        let mut roller = Roller::new(k);
        let mut grams: Vec<u64> = Vec::with_capacity(hashes.len() + 1 - k);
        for (i, &h) in hashes.iter().enumerate() {
            if i < k {
                roller.push(h);
            } else {
                roller.roll(hashes[i - k], h);
            }
            if i + 1 >= k {
                // avalanche: the rolled polynomial is not mixed
                grams.push(crate::hash::mix64(roller.value(k)));
            }
        }
        winnow(&grams, self.w)
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
                    self.find(&both, fps, n_ref)
                }
                None => self.find(&LoadedTexts { loaded: &loaded, opts: &self.read }, fps, 0),
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
            let fps: Vec<Vec<(u32, u32)>> = texts
                .par_iter()
                .map_init(Tokenizer::new, |tk, t| self.fingerprints(tk, t.as_ref()))
                .collect();
            self.find(texts, fps, 0).0
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
            let mut fps: Vec<Vec<(u32, u32)>> = references
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
            self.find(&both, fps, references.len()).0
        })
    }

    /// The core: `fps[d]` are the fingerprints of document `d` of `texts`;
    /// the first `n_ref` documents are references (sources only). Passage
    /// indexes are shifted so that searched documents count from 0 and
    /// reference sources index the references.
    pub(crate) fn find(
        &self,
        texts: &(impl Texts + ?Sized),
        fps: Vec<Vec<(u32, u32)>>,
        n_ref: usize,
    ) -> (Vec<Passage>, usize) {
        // the index: every fingerprint with its place, grouped by hash in
        // (document, position) order
        let mut index: Vec<(u32, u32, u32)> = fps
            .into_par_iter()
            .enumerate()
            .flat_map_iter(|(d, v)| v.into_iter().map(move |(h, p)| (h, d as u32, p)))
            .collect();
        // stable by hash: entries were made in (document, position) order
        radix_sort_by_hash(&mut index);
        let indexed = index.len();
        // runs of one fingerprint hash, two occurrences or more
        let groups: Vec<&[(u32, u32, u32)]> =
            index.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1).collect();
        let k = self.k as u32;
        let n_ref = n_ref as u32;
        let scope = self.scope;
        // seeds: (copy doc, copy pos, source doc, source pos)
        let seeds: Vec<(u32, u32, u32, u32)> = groups
            .par_iter()
            .flat_map_iter(|g| {
                let mut out = Vec::new();
                for (x, &(_, d, p)) in g.iter().enumerate() {
                    if d < n_ref {
                        continue;
                    }
                    for &(_, sd, sp) in g[..x].iter().take(MAX_SOURCES) {
                        let allowed = if n_ref > 0 {
                            sd < n_ref
                        } else {
                            match scope {
                                Scope::Corpus => sd < d || sp + k <= p,
                                Scope::Within => sd == d && sp + k <= p,
                            }
                        };
                        if allowed {
                            out.push((d, p, sd, sp));
                        }
                    }
                }
                out.into_iter()
            })
            .collect();
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
        let seeds = grouped;
        let bounds: Vec<(usize, usize)> =
            (0..n_docs).filter(|&d| start[d + 1] > start[d]).map(|d| (start[d], start[d + 1])).collect();
        let cache = TokenCache::new(TOKEN_CACHE_BYTES);
        let mut passages: Vec<Passage> = bounds
            .par_iter()
            .map_init(Tokenizer::new, |tk, &(s, e)| self.extend_doc(tk, texts, &cache, &seeds[s..e], n_ref))
            .flatten_iter()
            .collect();
        passages.par_sort_unstable();
        (passages, indexed)
    }

    /// Confirm and extend the seeds of one copy document; keep maximal spans.
    fn extend_doc(
        &self,
        tk: &mut Tokenizer,
        texts: &(impl Texts + ?Sized),
        cache: &TokenCache,
        seeds: &[(u32, u32, u32, u32)],
        n_ref: u32,
    ) -> Vec<Passage> {
        let d = seeds[0].0;
        let Some(text) = texts.text(d as usize) else { return Vec::new() };
        let copy = Tokens::of(tk, &text);
        let mut sources: IntMap<u32, std::sync::Arc<Tokens>> = IntMap::default();
        // (copy start, copy end, source doc, source start, source end) in tokens
        let mut spans: Vec<(usize, usize, u32, usize, usize)> = Vec::new();
        // Every seed on one alignment (source document, source - copy
        // offset) inside a span already found on that alignment would extend
        // to that same maximal span: skip it. Seeds come sorted by copy
        // position, so the last span per alignment is all that is needed.
        let mut reach: IntMap<(u32, i64), usize> = IntMap::default();
        let mut order: Vec<&(u32, u32, u32, u32)> = seeds.iter().collect();
        order.sort_unstable_by_key(|s| (s.1, s.2, s.3));
        order.dedup();
        for &&(_, p, sd, sp) in &order {
            let align = (sd, i64::from(sp) - i64::from(p));
            if reach.get(&align).is_some_and(|&end| (p as usize) < end) {
                continue;
            }
            let src: &Tokens =
                if sd == d { &copy } else { sources.entry(sd).or_insert_with(|| cache.get(sd, tk, texts)) };
            if let Some(span) = self.extend(&copy, p as usize, src, sp as usize, sd == d) {
                reach.insert(align, span.1);
                spans.push((span.0, span.1, sd, span.2, span.3));
            }
        }
        // one span per copy extent (the earliest source), then drop spans
        // inside another
        spans.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3))
        });
        spans.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        let mut kept: Vec<(usize, usize, u32, usize, usize)> = Vec::new();
        let mut reach = 0usize;
        for s in spans {
            if !kept.is_empty() && s.1 <= reach {
                continue; // inside an earlier, longer span
            }
            reach = reach.max(s.1);
            kept.push(s);
        }
        kept.into_iter()
            .map(|(c0, c1, sd, s0, s1)| {
                let (start, end) = copy.bytes(c0, c1);
                let src: &Tokens = if sd == d { &copy } else { &sources[&sd] };
                let (source_start, source_end) = src.bytes(s0, s1);
                Passage {
                    doc: d - n_ref,
                    start,
                    end,
                    words: c1 - c0,
                    source_doc: sd,
                    source_start,
                    source_end,
                }
            })
            .collect()
    }

    /// Confirm the k-gram at `p` (copy) equals the one at `sp` (source) on
    /// the tokens, then extend both ways while tokens agree (and, within one
    /// document, while the source stays before the copy). Returns token
    /// ranges `(c0, c1, s0, s1)` when at least `min_words` long.
    fn extend(
        &self,
        copy: &Tokens,
        p: usize,
        src: &Tokens,
        sp: usize,
        same: bool,
    ) -> Option<(usize, usize, usize, usize)> {
        let k = self.k;
        if p + k > copy.len() || sp + k > src.len() || (same && sp >= p) {
            return None;
        }
        if (0..k).any(|i| copy.word(p + i) != src.word(sp + i)) {
            return None; // a hash collision, not a repeat
        }
        // within one document the source must end before the copy starts
        let max_len = if same { p - sp } else { usize::MAX };
        let (mut c0, mut s0, mut c1, mut s1) = (p, sp, p + k, sp + k);
        if c1 - c0 > max_len {
            return None;
        }
        while c0 > 0 && s0 > 0 && c1 - c0 < max_len && copy.word(c0 - 1) == src.word(s0 - 1) {
            c0 -= 1;
            s0 -= 1;
        }
        while c1 < copy.len() && s1 < src.len() && c1 - c0 < max_len && copy.word(c1) == src.word(s1) {
            c1 += 1;
            s1 += 1;
        }
        (c1 - c0 >= self.min_words).then_some((c0, c1, s0, s1))
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
fn radix_sort_by_hash(v: &mut Vec<(u32, u32, u32)>) {
    let mut tmp = vec![(0u32, 0u32, 0u32); v.len()];
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
/// minimum (the rightmost on ties), recording a position once.
fn winnow(grams: &[u64], w: usize) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    if grams.is_empty() {
        return out;
    }
    let w = w.max(1).min(grams.len());
    let mut last: Option<usize> = None;
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
            if last != Some(m) {
                out.push(((grams[m] >> 32) as u32, m as u32));
                last = Some(m);
            }
        }
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
        let mut v: Vec<(u32, u32, u32)> =
            (0..10_000).map(|i| ((s.next_u64() % 500) as u32 * 0x0101_0101, i, 0)).collect();
        let mut want = v.clone();
        want.sort_by_key(|e| e.0);
        radix_sort_by_hash(&mut v);
        assert_eq!(v, want);
    }

    #[test]
    fn winnowing_picks_window_minima() {
        let g = [5u64 << 32, 3 << 32, 3 << 32, 9 << 32, 1 << 32, 7 << 32];
        // windows of 3: [5,3,3]->2 (rightmost), [3,3,9]->2, [3,9,1]->4, [9,1,7]->4
        assert_eq!(winnow(&g, 3), vec![(3, 2), (1, 4)]);
        // every window holds a selected position
        let sel: Vec<u32> = winnow(&g, 3).iter().map(|x| x.1).collect();
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

        /// Documents with no repeated 8-word run report nothing.
        #[test]
        fn no_repeats_no_passages(n in 1usize..4, len in 0usize..80) {
            let texts: Vec<String> = (0..n).map(|d| (0..len).map(|i| format!("d{d}w{i}")).collect::<Vec<_>>().join(" ")).collect();
            prop_assert!(PassageBuilder::new().build().unwrap().find_texts(&texts).is_empty());
        }
    }
}
