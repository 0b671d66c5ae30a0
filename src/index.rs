//! An incremental near-duplicate index for crawlers: "have I already seen
//! this page, or one almost like it?", answered from many threads at once.
//!
//! Same normalization, shingles, sketch, LSH and threshold as [`Dedup`], built
//! with the same builder. Band buckets live in sharded locks; documents in a
//! read-write-locked table; ids in their own map, so that every insert lands
//! exactly once. Verification: exact Jaccard when both documents keep their
//! shingle sets (every document under [`Verify::Exact`], small documents
//! under [`Verify::Estimate`]), else the signature estimate.
//!
//! [`Verify::Exact`]: crate::Verify::Exact
//! [`Verify::Estimate`]: crate::Verify::Estimate

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use crate::dedup::{Dedup, Sketched};
use crate::lsh;
use crate::shingle::{Shingler, jaccard};
use crate::sketch::estimate;

/// Band-bucket shards (a power of two).
const SHARDS: usize = 64;

/// A bucket keeps at most this many documents. Boilerplate pages land in the
/// same buckets by the thousand; one of them is enough to recognize the next
/// copy, and the cap keeps an insert's cost bounded. A page whose only
/// matches are beyond the cap of every band they share is missed.
const BUCKET_CAP: usize = 64;

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

struct Entry {
    id: String,
    sig: Box<[u32]>,
    samples: u32,
    set: Option<Box<[u64]>>,
}

/// The incremental index. `Send + Sync`: share it with `Arc` and call
/// everything through `&self`.
pub struct Index {
    dedup: Dedup,
    shards: Vec<Mutex<HashMap<u64, Vec<u32>>>>,
    docs: RwLock<Vec<Entry>>,
    ids: Mutex<HashMap<String, u32>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("len", &self.len()).finish()
    }
}

impl Index {
    /// An empty index with the parameters of `dedup` (threshold, shingles,
    /// sketch, banding, verification).
    pub fn new(dedup: Dedup) -> Index {
        Index {
            dedup,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            docs: RwLock::new(Vec::new()),
            ids: Mutex::new(HashMap::new()),
        }
    }

    /// Number of indexed documents.
    pub fn len(&self) -> usize {
        self.docs.read().map_or(0, |d| d.len())
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a document with this id is indexed.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.lock().is_ok_and(|ids| ids.contains_key(id))
    }

    fn sketch(&self, text: &str) -> Sketched {
        let mut sh = Shingler::new(self.dedup.sketch_params().shingle);
        self.dedup.sketch_one(&mut sh, text)
    }

    fn keys(&self, sig: &[u32]) -> Vec<u64> {
        let mut v = Vec::new();
        lsh::push_band_keys(self.dedup.lsh_params(), sig, 0, &mut v);
        v.into_iter().map(|(k, _)| k).collect()
    }

    fn shard(&self, key: u64) -> &Mutex<HashMap<u64, Vec<u32>>> {
        &self.shards[(key >> 58) as usize % SHARDS]
    }

    /// Indexed documents (numbers below `limit`) at or above the threshold
    /// to `s`, best first (earliest on ties).
    fn matches(&self, s: &Sketched, keys: &[u64], limit: u32) -> Vec<(u32, f64)> {
        if s.samples == 0 {
            return Vec::new();
        }
        let mut cands: Vec<u32> = Vec::new();
        for &k in keys {
            if let Ok(shard) = self.shard(k).lock() {
                if let Some(members) = shard.get(&k) {
                    cands.extend(members.iter().copied().filter(|&d| d < limit));
                }
            }
        }
        cands.sort_unstable();
        cands.dedup();
        let Ok(docs) = self.docs.read() else { return Vec::new() };
        let own_set = s.set.as_deref().or(s.small.as_deref());
        let threshold = self.dedup.threshold();
        let mut out: Vec<(u32, f64)> = cands
            .into_iter()
            .filter_map(|d| {
                let e = &docs[d as usize];
                if e.samples == 0 {
                    return None;
                }
                let sim = match (own_set, e.set.as_deref()) {
                    (Some(a), Some(b)) => jaccard(a, b),
                    _ => estimate(&s.sig, &e.sig),
                };
                (sim >= threshold).then_some((d, sim))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Add a page and say whether it near-duplicates an earlier one.
    /// Inserting an id that is already indexed adds nothing and returns
    /// [`Verdict::Exists`]. Two near-duplicates inserted at the same moment
    /// from two threads may both be [`Verdict::New`]; each is indexed once.
    pub fn insert(&self, id: &str, text: &str) -> Verdict {
        let s = self.sketch(text);
        let keys = self.keys(&s.sig);
        let n = {
            let Ok(mut ids) = self.ids.lock() else { return Verdict::Exists };
            if ids.contains_key(id) {
                return Verdict::Exists;
            }
            let Ok(mut docs) = self.docs.write() else { return Verdict::Exists };
            let n = docs.len() as u32;
            docs.push(Entry {
                id: id.to_owned(),
                sig: s.sig.clone().into_boxed_slice(),
                samples: s.samples,
                set: s.set.clone().map(Vec::into_boxed_slice).or_else(|| s.small.clone()),
            });
            ids.insert(id.to_owned(), n);
            n
        };
        let best = self.matches(&s, &keys, n).into_iter().next();
        if s.samples > 0 {
            for &k in &keys {
                if let Ok(mut shard) = self.shard(k).lock() {
                    let members = shard.entry(k).or_default();
                    if members.len() < BUCKET_CAP {
                        members.push(n);
                    }
                }
            }
        }
        match best {
            None => Verdict::New,
            Some((d, similarity)) => {
                let of = self.docs.read().map(|docs| docs[d as usize].id.clone()).unwrap_or_default();
                Verdict::Duplicate { of, similarity }
            }
        }
    }

    /// Every indexed document at or above the threshold to `text`, best
    /// first. Adds nothing.
    pub fn query(&self, text: &str) -> Vec<Match> {
        let s = self.sketch(text);
        let keys = self.keys(&s.sig);
        let matches = self.matches(&s, &keys, u32::MAX);
        let Ok(docs) = self.docs.read() else { return Vec::new() };
        matches
            .into_iter()
            .map(|(d, similarity)| Match { id: docs[d as usize].id.clone(), similarity })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::DedupBuilder;
    use std::sync::Arc;

    const A: &str = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the door of the old house by the river bank";

    #[test]
    fn insert_query_contains() {
        let index = Index::new(DedupBuilder::new().build().unwrap());
        assert!(index.is_empty());
        assert_eq!(index.insert("a", A), Verdict::New);
        let b = A.replace("river bank", "river bank today");
        match index.insert("b", &b) {
            Verdict::Duplicate { of, similarity } => {
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

    /// Eight threads insert at once: every insert lands exactly once, and an
    /// id raced by several threads is added by exactly one of them.
    #[test]
    fn concurrent_inserts_are_neither_lost_nor_duplicated() {
        let index = Arc::new(Index::new(DedupBuilder::new().build().unwrap()));
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

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn index_is_send_and_sync() {
        assert_send_sync::<Index>();
    }
}
