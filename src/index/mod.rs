//! An incremental near-duplicate index for crawlers: "have I already seen
//! this page, or one almost like it?", answered from many threads at once.
//!
//! Same normalization, shingles, sketch, LSH and threshold as [`Dedup`], built
//! with the same builder. Band buckets live in sharded locks; documents in a
//! read-write-locked table of flat arrays; ids in their own map, so that every
//! insert lands exactly once. Every candidate is verified, not only the
//! best: [`Verdict::Duplicate`] lists every earlier document at or above the
//! threshold. Verification is `dedup`'s rule: under [`Verify::Exact`] the
//! exact Jaccard of the kept shingle sets; under [`Verify::Estimate`] the
//! signature estimate when it is clearly above or below the threshold, and
//! in the band of doubt around it the Jaccard of the two documents'
//! fingerprint sets (`prints.rs`: 32 bits a shingle, kept for every
//! document), since an index has no texts to re-read.
//!
//! A compact index ([`Index::new_compact`]) keeps 16 bits of each signature
//! slot and no sets: about a fifth of the memory of a 5 KB page's, every
//! pair verified by the estimate alone. [`Index::save`] and [`Index::open`]
//! persist either kind (see `store.rs` for the format).
//!
//! [`Verify::Exact`]: crate::Verify::Exact
//! [`Verify::Estimate`]: crate::Verify::Estimate

mod prints;
mod store;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::dedup::Dedup;
use crate::error::Result;
use crate::io::load::{StreamReport, stream};
use crate::io::{InputFile, ReadOptions};
use crate::lsh::{self, Likeness};
use crate::params::Params;
use crate::pipeline::signatures::Sketched;
use crate::pipeline::verify::Rule;
use crate::shingle::jaccard;
use crate::sketch::estimate;
use prints::{Prints, fingerprint, jaccard_to, set_of};

pub(crate) use store::INDEX_FORMAT_VERSION;

/// Band-bucket shards (a power of two).
const SHARDS: usize = 64;

/// A bucket keeps at most this many documents. Boilerplate pages land in the
/// same buckets by the thousand; one of them is enough to recognize the next
/// copy, and the cap keeps an insert's cost bounded. A page whose only
/// matches are beyond the cap of every band they share is missed.
const BUCKET_CAP: usize = 64;

/// Marks a bucket value that indexes [`Shard::many`] instead of naming its
/// one member.
const MANY: u32 = 1 << 31;

/// The most documents an index holds (bucket values keep one bit for
/// [`MANY`]).
const MAX_DOCS: usize = MANY as usize;

/// The shard of a band key: its top bits.
fn shard_of(key: u64) -> usize {
    (key >> 58) as usize % SHARDS
}

/// What [`Index::insert`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// No indexed document is at or above the threshold; the page was added.
    New,
    /// The page was added; it is a near-duplicate of an earlier document
    /// (the most similar one; the earliest on ties).
    Duplicate {
        /// The earlier document's id.
        of: String,
        /// Its Jaccard similarity to the page.
        similarity: f64,
        /// Every earlier document at or above the threshold, best first
        /// (earliest on ties): `of` and `similarity` are the first's. The
        /// page's cluster is the connected component these links make: a
        /// page may be alike two earlier documents that are not alike each
        /// other, and only this list says that both have a near-duplicate.
        matches: Vec<Match>,
    },
    /// A document with this id is already indexed; nothing was added.
    Exists,
}

/// One indexed document at or above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Its id.
    pub id: String,
    /// Its Jaccard similarity to the query.
    pub similarity: f64,
}

/// Hashes a key that is already a uniform 64-bit hash (band keys, id
/// hashes) with one folded multiply, so that every output bit depends on
/// every input bit (the shard takes the top bits; the table the rest).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b) ^ self.0.rotate_left(8));
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        let p = u128::from(x ^ self.0) * 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// One shard of the band buckets, keyed by the low 32 bits of the band key
/// (the shard is chosen by its top bits). Two band keys that agree on those
/// 38 bits share a bucket: a spurious candidate, rejected by verification,
/// about once per 7 x 10^10 keys indexed. Most buckets have one member,
/// stored inline; a bucket that grows moves to `many`.
#[derive(Default)]
struct Shard {
    heads: KeyMap<u32, u32>,
    many: Vec<Vec<u32>>,
}

impl Shard {
    fn for_each_member(&self, key: u32, mut f: impl FnMut(u32)) {
        match self.heads.get(&key) {
            None => {}
            Some(&v) if v & MANY == 0 => f(v),
            Some(&v) => self.many[(v & !MANY) as usize].iter().for_each(|&d| f(d)),
        }
    }

    fn add(&mut self, key: u32, doc: u32) {
        match self.heads.get_mut(&key) {
            None => {
                self.heads.insert(key, doc);
            }
            Some(v) if *v & MANY == 0 => {
                let list = vec![*v, doc];
                *v = MANY | self.many.len() as u32;
                self.many.push(list);
            }
            Some(v) => {
                let list = &mut self.many[(*v & !MANY) as usize];
                if list.len() < BUCKET_CAP {
                    list.push(doc);
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.heads.capacity() * (std::mem::size_of::<(u32, u32)>() + 1)
            + self.many.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.many.iter().map(|m| m.capacity() * 4).sum::<usize>()
    }
}

/// A page as the index verifies it: its sketch, and its fingerprints (in
/// text order) when the index keeps them.
struct Page {
    s: Sketched,
    prints: Option<Vec<u32>>,
}

/// The set of a page's fingerprints, sorted when first needed.
type OwnSet = std::cell::OnceCell<Vec<u32>>;

/// Signature slots: all 32 bits, or the low 16 in a compact index.
#[derive(Debug, Clone, PartialEq)]
enum Sigs {
    Full(Vec<u32>),
    Compact(Vec<u16>),
}

/// The indexed documents, as flat arrays numbered in insertion order.
#[derive(Debug, Clone, PartialEq)]
struct Docs {
    num_perm: usize,
    /// Ids, concatenated; `id_ends[d]` is where document `d`'s id ends.
    id_bytes: String,
    id_ends: Vec<u64>,
    samples: Vec<u32>,
    sigs: Sigs,
    /// Shingle sets kept for exact verification: every document's under
    /// [`Verify::Exact`](crate::Verify::Exact); small documents' in an
    /// index without fingerprints (one saved by format version 1).
    sets: HashMap<u32, Box<[u64]>>,
    /// Every document's fingerprint set, to settle doubtful pairs: kept by
    /// a full (not compact) index under
    /// [`Verify::Estimate`](crate::Verify::Estimate).
    prints: Option<Prints>,
}

impl Docs {
    fn new(num_perm: usize, compact: bool, prints: bool) -> Docs {
        Docs {
            num_perm,
            id_bytes: String::new(),
            id_ends: Vec::new(),
            samples: Vec::new(),
            sigs: if compact { Sigs::Compact(Vec::new()) } else { Sigs::Full(Vec::new()) },
            sets: HashMap::new(),
            prints: (prints && !compact).then(Prints::default),
        }
    }

    fn len(&self) -> usize {
        self.samples.len()
    }

    fn id(&self, d: u32) -> &str {
        let d = d as usize;
        let start = if d == 0 { 0 } else { self.id_ends[d - 1] as usize };
        &self.id_bytes[start..self.id_ends[d] as usize]
    }

    fn push(&mut self, id: &str, page: &Page) {
        let (n, s) = (self.len() as u32, &page.s);
        self.id_bytes.push_str(id);
        self.id_ends.push(self.id_bytes.len() as u64);
        self.samples.push(s.samples);
        match &mut self.sigs {
            Sigs::Full(v) => v.extend_from_slice(&s.sig),
            Sigs::Compact(v) => v.extend(s.sig.iter().map(|&x| x as u16)),
        }
        if let Some(kept) = &mut self.prints {
            // every set, however small, is among the fingerprints
            kept.push(page.prints.as_deref().unwrap_or_default());
        } else if let (Sigs::Full(_), Some(set)) = (&self.sigs, s.set.as_deref().or(s.small.as_deref())) {
            // a compact index keeps no sets
            self.sets.insert(n, set.into());
        }
    }

    /// Jaccard similarity of document `d` to a page if it is at or above
    /// the threshold, else `None`: exact when both shingle sets are kept;
    /// else the signature estimate, unless both fingerprint sets are kept
    /// and the estimate is too close to the threshold to trust (then the
    /// fingerprints decide, as `dedup`'s texts do).
    fn verify(&self, d: u32, page: &Page, sorted: &OwnSet, rule: &Rule) -> Option<f64> {
        let s = &page.s;
        let at_least = |sim: f64| (sim >= rule.threshold).then_some(sim);
        let own_set = s.set.as_deref().or(s.small.as_deref());
        if let (Some(a), Some(b)) = (own_set, self.sets.get(&d)) {
            return at_least(jaccard(a, b));
        }
        let (k, i) = (self.num_perm, d as usize);
        let theirs = match &self.sigs {
            Sigs::Full(v) => &v[i * k..(i + 1) * k],
            Sigs::Compact(v) => return at_least(estimate16(&s.sig, &v[i * k..(i + 1) * k])),
        };
        let (Some(kept), Some(own)) = (&self.prints, &page.prints) else {
            return at_least(estimate(&s.sig, theirs));
        };
        match rule.likeness_of(&s.sig, theirs, s.samples.min(self.samples[i])) {
            Likeness::Surely => Some(estimate(&s.sig, theirs)),
            Likeness::Maybe => at_least(jaccard_to(sorted.get_or_init(|| set_of(own)), kept.get(d))),
            Likeness::No => None,
        }
    }

    fn heap_bytes(&self) -> usize {
        let sigs = match &self.sigs {
            Sigs::Full(v) => v.capacity() * 4,
            Sigs::Compact(v) => v.capacity() * 2,
        };
        self.id_bytes.capacity()
            + self.id_ends.capacity() * 8
            + self.samples.capacity() * 4
            + sigs
            + self.sets.capacity() * (std::mem::size_of::<(u32, Box<[u64]>)>() + 1)
            + self.sets.values().map(|s| s.len() * 8).sum::<usize>()
            + self.prints.as_ref().map_or(0, Prints::heap_bytes)
    }
}

/// Jaccard estimate from full slots against slots cut to 16 bits: unequal
/// slots agree on their low 16 bits with probability 2^-16, which is taken
/// out of the fraction of agreeing slots.
fn estimate16(full: &[u32], low: &[u16]) -> f64 {
    let same = full.iter().zip(low).filter(|&(&x, &y)| x as u16 == y).count();
    let p = same as f64 / full.len().max(1) as f64;
    let chance = 1.0 / 65536.0;
    ((p - chance) / (1.0 - chance)).clamp(0.0, 1.0)
}

/// Document numbers by a 32-bit hash of their id. Ids that share a hash are
/// told apart by comparing the id itself; the later one goes to `collided`
/// (at a million ids, about 120 of them).
#[derive(Default)]
struct Ids {
    by_hash: KeyMap<u32, u32>,
    collided: HashMap<Box<str>, u32>,
}

impl Ids {
    fn find(&self, id: &str, docs: &Docs) -> Option<u32> {
        match self.by_hash.get(&id_hash(id)) {
            Some(&d) if docs.id(d) == id => Some(d),
            Some(_) => self.collided.get(id).copied(),
            None => None,
        }
    }

    /// Record a document whose id [`Ids::find`] did not find.
    fn add(&mut self, id: &str, d: u32) {
        let h = id_hash(id);
        if let std::collections::hash_map::Entry::Vacant(e) = self.by_hash.entry(h) {
            e.insert(d);
        } else {
            self.collided.insert(id.into(), d);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.by_hash.capacity() * (std::mem::size_of::<(u32, u32)>() + 1)
            + self.collided.keys().map(|k| k.len() + 24).sum::<usize>()
    }
}

fn id_hash(id: &str) -> u32 {
    xxh3_64(id.as_bytes()) as u32
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// The incremental index. `Send + Sync`: share it with `Arc` and call
/// everything through `&self`.
///
/// ```
/// use neardup::{DedupBuilder, Index, Verdict};
///
/// let index = Index::new(&DedupBuilder::new().threshold(0.8).params()?, None)?;
/// let page = "the quick brown fox jumps over the lazy dog near the river bank today";
/// assert_eq!(index.insert("https://a.example/1", page), Verdict::New);
/// match index.insert("https://b.example/2", &format!("{page}!")) {
///     Verdict::Duplicate { of, similarity, .. } => {
///         assert_eq!(of, "https://a.example/1");
///         assert_eq!(similarity, 1.0);
///     }
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(index.len(), 2);
/// # Ok::<(), neardup::Error>(())
/// ```
pub struct Index {
    dedup: Dedup,
    rule: Rule,
    /// Whether pages' fingerprint sets are made (and kept).
    prints: bool,
    shards: Vec<Mutex<Shard>>,
    docs: RwLock<Docs>,
    ids: Mutex<Ids>,
    /// Inserts hold it shared from start to end; [`Index::save`] holds it
    /// exclusively, so that it sees no half-linked document.
    gate: RwLock<()>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("len", &self.len()).field("compact", &self.is_compact()).finish()
    }
}

impl Index {
    /// Version of the saved-index format written by this build.
    pub const FORMAT_VERSION: u32 = INDEX_FORMAT_VERSION;

    /// An empty index with these parameters (threshold, shingles, sketch,
    /// banding, verification); `threads` sizes the pool that
    /// [`Index::insert_batch`] sketches on (`None`: rayon's global pool).
    pub fn new(params: &Params, threads: Option<usize>) -> Result<Index> {
        Index::with_docs(params, threads, false)
    }

    /// An empty compact index: 16 bits kept of each signature slot and no
    /// shingle sets, so every pair is verified by the signature estimate
    /// (whose error from the cut slots is below 2^-16).
    pub fn new_compact(params: &Params, threads: Option<usize>) -> Result<Index> {
        Index::with_docs(params, threads, true)
    }

    fn with_docs(params: &Params, threads: Option<usize>, compact: bool) -> Result<Index> {
        let dedup = Index::dedup_of(params, threads)?;
        let prints = params.verify == crate::Verify::Estimate;
        let docs = Docs::new(params.sketch.num_perm as usize, compact, prints);
        Ok(Index::from_parts(dedup, docs, (0..SHARDS).map(|_| Shard::default()).collect()))
    }

    /// The sketcher, banding and pool an index works with.
    fn dedup_of(params: &Params, threads: Option<usize>) -> Result<Dedup> {
        let b = params.builder();
        match threads {
            Some(t) => b.threads(t),
            None => b,
        }
        .build()
    }

    fn from_parts(dedup: Dedup, docs: Docs, shards: Vec<Shard>) -> Index {
        let mut ids = Ids::default();
        ids.by_hash.reserve(docs.len());
        for d in 0..docs.len() as u32 {
            ids.add(docs.id(d), d);
        }
        Index {
            rule: dedup.rule(),
            prints: docs.prints.is_some(),
            dedup,
            shards: shards.into_iter().map(Mutex::new).collect(),
            docs: RwLock::new(docs),
            ids: Mutex::new(ids),
            gate: RwLock::new(()),
        }
    }

    /// The parameters this index was built with.
    pub fn params(&self) -> &Params {
        self.dedup.params()
    }

    /// True for an index made by [`Index::new_compact`].
    pub fn is_compact(&self) -> bool {
        matches!(read(&self.docs).sigs, Sigs::Compact(_))
    }

    /// Number of indexed documents.
    pub fn len(&self) -> usize {
        read(&self.docs).len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a document with this id is indexed.
    pub fn contains(&self, id: &str) -> bool {
        let ids = lock(&self.ids);
        ids.find(id, &read(&self.docs)).is_some()
    }

    /// Bytes of heap held by the index's tables (capacities, not lengths;
    /// allocator overhead not counted).
    pub fn heap_bytes(&self) -> usize {
        let shards: usize = self.shards.iter().map(|s| lock(s).heap_bytes()).sum();
        shards + read(&self.docs).heap_bytes() + lock(&self.ids).heap_bytes()
    }

    fn keys(&self, sig: &[u32]) -> Vec<u64> {
        let mut v = Vec::new();
        lsh::push_band_keys(self.dedup.lsh_params(), sig, 0, &mut v);
        v.into_iter().map(|(k, _)| k).collect()
    }

    /// The shard of a band key, and the key within the shard.
    fn shard(&self, key: u64) -> (&Mutex<Shard>, u32) {
        (&self.shards[shard_of(key)], key as u32)
    }

    /// Sketch a page, with its fingerprint set when the index keeps them.
    fn sketch(&self, text: &str) -> Page {
        if !self.prints {
            return Page { s: self.dedup.sketch_text(text), prints: None };
        }
        // about one shingle per 6 bytes of text
        let mut prints = Vec::with_capacity(text.len() / 5);
        let s = self.dedup.sketch_text_with(text, |h| prints.push(fingerprint(h)));
        Page { s, prints: Some(prints) }
    }

    /// Indexed documents (numbers below `limit`) at or above the threshold
    /// to the page, best first (earliest on ties).
    fn matches(&self, page: &Page, keys: &[u64], limit: u32) -> Vec<(u32, f64)> {
        if page.s.samples == 0 {
            return Vec::new();
        }
        let mut cands: Vec<u32> = Vec::new();
        for &k in keys {
            let (shard, k) = self.shard(k);
            lock(shard).for_each_member(k, |d| {
                if d < limit {
                    cands.push(d)
                }
            });
        }
        cands.sort_unstable();
        cands.dedup();
        let docs = read(&self.docs);
        let own_set = OwnSet::new();
        let mut out: Vec<(u32, f64)> = cands
            .into_iter()
            .filter(|&d| docs.samples[d as usize] > 0)
            .filter_map(|d| Some((d, docs.verify(d, page, &own_set, &self.rule)?)))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Add a page and say whether it near-duplicates an earlier one.
    /// Inserting an id that is already indexed adds nothing and returns
    /// [`Verdict::Exists`]. Two near-duplicates inserted at the same moment
    /// from two threads may both be [`Verdict::New`]; each is indexed once.
    ///
    /// # Panics
    /// When the index already holds 2^31 documents.
    pub fn insert(&self, id: &str, text: &str) -> Verdict {
        self.insert_page(id, &self.sketch(text))
    }

    /// Insert many pages, sketched in parallel on the index's thread pool
    /// and added in order, so the verdicts are those of calling
    /// [`Index::insert`] on each in turn.
    pub fn insert_batch<I: AsRef<str> + Sync, T: AsRef<str> + Sync>(&self, pages: &[(I, T)]) -> Vec<Verdict> {
        let sketched: Vec<Page> =
            self.dedup.install_pool(|| pages.par_iter().map(|(_, t)| self.sketch(t.as_ref())).collect());
        pages.iter().zip(&sketched).map(|((id, _), p)| self.insert_page(id.as_ref(), p)).collect()
    }

    fn insert_page(&self, id: &str, page: &Page) -> Verdict {
        let _gate = read(&self.gate);
        let keys = self.keys(&page.s.sig);
        let n = {
            let mut ids = lock(&self.ids);
            let mut docs = write(&self.docs);
            if ids.find(id, &docs).is_some() {
                return Verdict::Exists;
            }
            assert!(docs.len() < MAX_DOCS, "the index is full ({MAX_DOCS} documents)");
            let n = docs.len() as u32;
            docs.push(id, page);
            ids.add(id, n);
            n
        };
        let found = self.matches(page, &keys, n);
        if page.s.samples > 0 {
            for &k in &keys {
                let (shard, k) = self.shard(k);
                lock(shard).add(k, n);
            }
        }
        match found.first() {
            None => Verdict::New,
            Some(&(_, similarity)) => {
                let matches = self.named(found);
                Verdict::Duplicate { of: matches[0].id.clone(), similarity, matches }
            }
        }
    }

    /// Documents by number as [`Match`]es.
    fn named(&self, found: Vec<(u32, f64)>) -> Vec<Match> {
        let docs = read(&self.docs);
        found.into_iter().map(|(d, similarity)| Match { id: docs.id(d).to_owned(), similarity }).collect()
    }

    /// Insert every record of `inputs`, in input order (sketched in parallel
    /// on the index's pool), calling `verdict(id, &verdict)` for each. Returns
    /// the records that could not be used and the inputs that could not be
    /// read to their end; with `strict` the first bad record is an error and
    /// nothing after it is inserted.
    pub fn insert_inputs(
        &self,
        inputs: &[InputFile],
        opts: &ReadOptions,
        strict: bool,
        verdict: &mut (dyn FnMut(&str, &Verdict) + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<StreamReport> {
        let sketch = |text: &str| self.sketch(text);
        let mut consume = |id: &str, p: Page| verdict(id, &self.insert_page(id, &p));
        self.dedup.install_pool(|| stream(inputs, opts, strict, &sketch, &mut consume, progress))
    }

    /// Query every record of `inputs` (in parallel on the index's pool),
    /// calling `found(id, &matches)` in input order. Adds nothing.
    pub fn query_inputs(
        &self,
        inputs: &[InputFile],
        opts: &ReadOptions,
        strict: bool,
        found: &mut (dyn FnMut(&str, &[Match]) + Send),
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<StreamReport> {
        let query = |text: &str| self.query(text);
        let mut consume = |id: &str, m: Vec<Match>| found(id, &m);
        self.dedup.install_pool(|| stream(inputs, opts, strict, &query, &mut consume, progress))
    }

    /// Every indexed document at or above the threshold to `text`, best
    /// first. Adds nothing.
    pub fn query(&self, text: &str) -> Vec<Match> {
        let page = self.sketch(text);
        let keys = self.keys(&page.s.sig);
        self.named(self.matches(&page, &keys, u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::DedupBuilder;
    use std::sync::Arc;

    pub(super) const A: &str = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the door of the old house by the river bank";

    #[test]
    fn insert_query_contains() {
        for compact in [false, true] {
            let params = DedupBuilder::new().params().unwrap();
            let index =
                if compact { Index::new_compact(&params, None) } else { Index::new(&params, None) }.unwrap();
            assert_eq!(index.is_compact(), compact);
            assert!(index.is_empty());
            assert_eq!(index.insert("a", A), Verdict::New);
            let b = A.replace("river bank", "river bank today");
            match index.insert("b", &b) {
                Verdict::Duplicate { of, similarity, .. } => {
                    assert_eq!(of, "a");
                    assert!((0.8..1.0).contains(&similarity));
                }
                v => panic!("{v:?}"),
            }
            assert_eq!(index.insert("a", "anything"), Verdict::Exists);
            assert_eq!(index.insert("c", "something else entirely, nothing alike at all"), Verdict::New);
            assert_eq!(index.insert("e", ""), Verdict::New);
            assert_eq!(index.insert("f", ""), Verdict::New);
            assert!(index.contains("b") && !index.contains("z"));
            assert_eq!(index.len(), 5);
            let q = index.query(A);
            assert_eq!(q.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
            assert_eq!(q[0].similarity, 1.0);
            assert_eq!(index.len(), 5);
        }
    }

    #[test]
    fn batch_insert_gives_the_verdicts_of_single_inserts() {
        let pages: Vec<(String, String)> = (0..40)
            .map(|i| (format!("p{}", i % 35), format!("{A} variant {} {}", i % 9, "extra ".repeat(i % 4))))
            .collect();
        let one = Index::new(&DedupBuilder::new().params().unwrap(), None).unwrap();
        let singles: Vec<Verdict> = pages.iter().map(|(id, t)| one.insert(id, t)).collect();
        let batch = Index::new(&DedupBuilder::new().params().unwrap(), Some(2)).unwrap();
        assert_eq!(batch.insert_batch(&pages), singles);
        assert!(singles.iter().any(|v| matches!(v, Verdict::Duplicate { .. })));
        assert_eq!(singles.iter().filter(|v| **v == Verdict::Exists).count(), 5);
    }

    #[test]
    fn ids_with_colliding_hashes_are_told_apart() {
        // force a collision by adding an id under another id's hash
        let docs = {
            let mut d = Docs::new(4, false, true);
            let s = Sketched { sig: vec![1, 2, 3, 4], samples: 4, set: None, small: None };
            let page = Page { s, prints: Some(vec![1, 2]) };
            d.push("first", &page);
            d.push("second", &page);
            d
        };
        let mut ids = Ids::default();
        ids.by_hash.insert(id_hash("second"), 0); // "first" squats on second's hash
        ids.add("second", 1);
        assert_eq!(ids.find("second", &docs), Some(1));
        assert_eq!(ids.find("third", &docs), None);
    }

    #[test]
    fn compact_estimate_removes_chance_agreement() {
        let full: Vec<u32> = (0..128u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        let same: Vec<u16> = full.iter().map(|&x| x as u16).collect();
        assert_eq!(estimate16(&full, &same), 1.0);
        let none: Vec<u16> = full.iter().map(|&x| (x as u16).wrapping_add(1)).collect();
        assert_eq!(estimate16(&full, &none), 0.0);
        let half: Vec<u16> = same.iter().enumerate().map(|(i, &x)| if i % 2 == 0 { x } else { !x }).collect();
        assert!((estimate16(&full, &half) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn buckets_keep_at_most_the_cap() {
        let mut shard = Shard::default();
        for d in 0..100 {
            shard.add(7, d);
        }
        shard.add(8, 5);
        let mut seen = Vec::new();
        shard.for_each_member(7, |d| seen.push(d));
        assert_eq!(seen, (0..BUCKET_CAP as u32).collect::<Vec<_>>());
        seen.clear();
        shard.for_each_member(8, |d| seen.push(d));
        assert_eq!(seen, [5]);
    }

    /// Eight threads insert at once: every insert lands exactly once, and an
    /// id raced by several threads is added by exactly one of them.
    #[test]
    fn concurrent_inserts_are_neither_lost_nor_duplicated() {
        let index = Arc::new(Index::new(&DedupBuilder::new().params().unwrap(), None).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let index = Arc::clone(&index);
                std::thread::spawn(move || {
                    let mut added = 0;
                    for i in 0..300 {
                        let text = format!("{A} thread {t} page {i} {}", "word ".repeat(i % 7));
                        if index.insert(&format!("t{t}-{i}"), &text) != Verdict::Exists {
                            added += 1;
                        }
                        // one shared id raced by every thread
                        if index.insert(&format!("shared-{i}"), A) != Verdict::Exists {
                            added += 1;
                        }
                    }
                    added
                })
            })
            .collect();
        let added: usize = threads.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(added, 8 * 300 + 300);
        assert_eq!(index.len(), 8 * 300 + 300);
        for t in 0..8 {
            for i in 0..300 {
                assert!(index.contains(&format!("t{t}-{i}")));
            }
        }
    }

    /// Words `from..to` of a fixed stream of distinct words.
    fn words(from: usize, to: usize) -> String {
        (from..to)
            .map(|i| format!("w{}", crate::hash::mix64(i as u64) % 1_000_000))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Oracle: pages large enough to keep no small set, in pairs whose exact
    /// Jaccard lies all around the threshold (where the estimate of 128
    /// slots errs often). The index's verdict on the second of a pair is
    /// exactly whether its exact Jaccard reaches the threshold.
    #[test]
    fn doubtful_pairs_are_settled_by_the_exact_jaccard() {
        let params = DedupBuilder::new().params().unwrap();
        let mut shingler = crate::shingle::Shingler::new(params.sketch.shingle);
        let (mut doubtful, mut verdicts) = (0, [0, 0]);
        for p in 0..60usize {
            let index = Index::new(&params, None).unwrap();
            let base = 1000 * p;
            let a = words(base, base + 400);
            // replace a run of words: 5-gram Jaccard from about 0.72 to 0.91
            let cut = 20 + p;
            let b = format!(
                "{} {} {}",
                words(base, base + 200),
                words(base + 500, base + 500 + cut / 2),
                words(base + 200 + cut, base + 400)
            );
            let exact = crate::shingle::jaccard(&shingler.shingle_set(&a), &shingler.shingle_set(&b));
            assert_eq!(index.insert("a", &a), Verdict::New);
            let rule = index.rule;
            let (sa, sb) = (index.dedup.sketch_text(&a), index.dedup.sketch_text(&b));
            assert!(sa.small.is_none() && sb.small.is_none());
            if rule.likeness_of(&sa.sig, &sb.sig, sa.samples.min(sb.samples)) == Likeness::Maybe {
                doubtful += 1;
            }
            let v = index.insert("b", &b);
            match &v {
                Verdict::Duplicate { of, similarity, matches } => {
                    assert!(exact >= 0.8, "{p}: {exact} {v:?}");
                    assert_eq!((of.as_str(), matches.len()), ("a", 1));
                    assert!(*similarity >= 0.8);
                    verdicts[1] += 1;
                }
                Verdict::New => {
                    assert!(exact < 0.8, "{p}: {exact}");
                    verdicts[0] += 1;
                }
                v => panic!("{v:?}"),
            }
        }
        // the test means something: both answers, and many doubtful pairs
        assert!(verdicts[0] > 5 && verdicts[1] > 5 && doubtful > 20, "{verdicts:?} {doubtful}");
    }

    /// A page alike two earlier pages that are not alike each other names
    /// both: its matches are what a query made just before it would find.
    #[test]
    fn a_duplicate_lists_every_earlier_match() {
        for compact in [false, true] {
            let params = DedupBuilder::new().params().unwrap();
            let index =
                if compact { Index::new_compact(&params, None) } else { Index::new(&params, None) }.unwrap();
            // Jaccard a~b and b~c about 0.86, a~c about 0.74
            let (a, c, b) = (words(0, 400), words(60, 460), words(30, 430));
            assert_eq!(index.insert("a", &a), Verdict::New);
            assert_eq!(index.insert("c", &c), Verdict::New);
            let before = index.query(&b);
            match index.insert("b", &b) {
                Verdict::Duplicate { of, similarity, matches } => {
                    let mut ids: Vec<&str> = matches.iter().map(|m| m.id.as_str()).collect();
                    assert_eq!((of.as_str(), similarity), (ids[0], matches[0].similarity));
                    assert_eq!(matches, before);
                    ids.sort_unstable();
                    if !compact {
                        assert_eq!(ids, ["a", "c"]);
                    }
                }
                v => panic!("{v:?}"),
            }
        }
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn index_is_send_and_sync() {
        assert_send_sync::<Index>();
    }
}
