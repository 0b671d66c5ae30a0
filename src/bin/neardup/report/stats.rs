//! One streaming pass over a clusters file into bounded statistics:
//! counters, a similarity histogram, cluster sizes (one counter per cluster
//! that has duplicates), the largest clusters, and deterministic samples of
//! borderline and chained members.

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, bail};

use super::Grouping;

/// Bins of the similarity histogram over [0, 1].
pub(crate) const BINS: usize = 100;
/// Clusters followed with their names and members while streaming; the
/// largest [`LARGEST`] of them are shown.
const TRACKED: usize = 64;
/// Largest clusters shown.
pub(crate) const LARGEST: usize = 10;
/// Members kept per followed cluster (the least similar ones).
const MEMBERS: usize = 5;
/// Borderline pairs kept (similarity closest to the threshold).
const BORDERLINE: usize = 8;
/// Chained members kept (the least similar ones below the threshold).
const CHAINS: usize = 20;
/// Distinct sources counted one by one; the rest are counted together.
const SOURCES: usize = 10_000;
/// Ids and names are cut to this many bytes on the page.
pub(crate) const ID_BYTES: usize = 200;

/// A stable hash for deterministic samples and tie-breaks (the same on
/// every run and machine).
fn hash(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// `s`, cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One row of the clusters file.
#[derive(serde::Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    cluster: std::borrow::Cow<'a, str>,
    similarity: f64,
}

/// A member and its representative.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pair {
    /// The representative's id.
    pub rep: String,
    /// The member's id.
    pub member: String,
    /// The member's similarity to the representative, as bits (for `Ord`).
    sim_bits: u64,
}

impl Pair {
    fn new(rep: &str, member: &str, similarity: f64) -> Pair {
        Pair {
            rep: cut(rep, ID_BYTES).to_owned(),
            member: cut(member, ID_BYTES).to_owned(),
            sim_bits: similarity.to_bits(),
        }
    }

    /// The member's similarity to the representative.
    pub(crate) fn similarity(&self) -> f64 {
        f64::from_bits(self.sim_bits)
    }
}

/// The `k` items with the smallest keys seen, ties broken by a hash: a
/// bounded, deterministic sample.
pub(crate) struct Smallest<T> {
    k: usize,
    heap: BinaryHeap<(u64, u64, T)>,
}

impl<T: Ord> Smallest<T> {
    fn new(k: usize) -> Smallest<T> {
        Smallest { k, heap: BinaryHeap::new() }
    }

    /// Offer `item` with `key` (a non-negative number) and tie-break `tie`.
    fn offer(&mut self, key: f64, tie: u64, item: impl FnOnce() -> T) {
        let key = key.max(0.0).to_bits();
        if self.heap.len() == self.k {
            match self.heap.peek() {
                Some(top) if (key, tie) < (top.0, top.1) => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push((key, tie, item()));
    }

    /// The items, smallest key first.
    pub(crate) fn sorted(&self) -> Vec<&T> {
        let mut v: Vec<&(u64, u64, T)> = self.heap.iter().collect();
        v.sort_by_key(|e| (e.0, e.1));
        v.into_iter().map(|e| &e.2).collect()
    }
}

/// A cluster followed while it is among the [`TRACKED`] largest so far.
pub(crate) struct Tracked {
    /// The representative's id.
    pub rep: String,
    /// Members seen (all but the representative).
    pub members: u64,
    /// The least similar members seen while followed.
    pub sample: Smallest<Pair>,
}

/// Documents and duplicates of one source.
#[derive(Default, Clone, Copy)]
pub(crate) struct Counts {
    /// Documents.
    pub docs: u64,
    /// Documents that are not their cluster's representative.
    pub dups: u64,
}

/// The statistics of a clusters file.
pub(crate) struct Stats {
    /// Rows (documents).
    pub documents: u64,
    /// Rows that are their cluster's representative.
    pub representatives: u64,
    /// Rows that are not (duplicates).
    pub members: u64,
    /// Similarity histogram of members: bin `i` holds [i/BINS, (i+1)/BINS).
    pub similarity_bins: [u64; BINS],
    /// Smallest member similarity.
    pub min_similarity: f64,
    /// Members below the threshold to their representative.
    pub below: u64,
    /// Clusters with a member below the threshold.
    pub chained: u64,
    /// The threshold the run used.
    pub threshold: f64,
    /// Members per cluster with duplicates, by a hash of the representative.
    sizes: HashMap<u64, u64>,
    /// Clusters followed while streaming, by a hash of the representative.
    tracked: HashMap<u64, Tracked>,
    /// A lower bound of the smallest followed cluster's members.
    floor: u64,
    /// Members closest to the threshold.
    pub borderline: Smallest<Pair>,
    /// The least similar members below the threshold.
    pub chains: Smallest<Pair>,
    /// Counts per source (the first [`SOURCES`] seen).
    sources: HashMap<String, Counts>,
    /// Documents with no source part in their id.
    pub no_source: Counts,
    /// Documents of sources past the first [`SOURCES`].
    pub other_sources: Counts,
    /// How sources were found.
    pub by: Grouping,
}

impl Stats {
    /// Stream the clusters file at `path`; errors name the file and line.
    pub(crate) fn read(path: &Path, threshold: f64, by: Grouping) -> anyhow::Result<Stats> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            bail!(
                "{}: Parquet clusters are not read by the report yet; write them as JSON lines",
                path.display()
            );
        }
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut stats = Stats::new(threshold, by);
        let mut chained = HashSet::new();
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let n =
                reader.read_until(b'\n', &mut line).with_context(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row: Row<'_> = serde_json::from_slice(&line).with_context(|| {
                format!("{}:{number}: not a clusters row (id, cluster, similarity)", path.display())
            })?;
            stats.add(&row, &mut chained);
        }
        stats.chained = chained.len() as u64;
        Ok(stats)
    }

    fn new(threshold: f64, by: Grouping) -> Stats {
        Stats {
            documents: 0,
            representatives: 0,
            members: 0,
            similarity_bins: [0; BINS],
            min_similarity: 1.0,
            below: 0,
            chained: 0,
            threshold,
            sizes: HashMap::new(),
            tracked: HashMap::new(),
            floor: 0,
            borderline: Smallest::new(BORDERLINE),
            chains: Smallest::new(CHAINS),
            sources: HashMap::new(),
            no_source: Counts::default(),
            other_sources: Counts::default(),
            by,
        }
    }

    fn add(&mut self, row: &Row<'_>, chained: &mut HashSet<u64>) {
        self.documents += 1;
        let is_rep = row.id == row.cluster;
        self.count_source(&row.id, is_rep);
        if is_rep {
            self.representatives += 1;
            return;
        }
        self.members += 1;
        let s = row.similarity;
        let bin = ((s * BINS as f64) as usize).min(BINS - 1);
        self.similarity_bins[bin] += 1;
        self.min_similarity = self.min_similarity.min(s);
        let cluster = hash(&row.cluster);
        let tie = hash(&row.id);
        if s < self.threshold {
            self.below += 1;
            chained.insert(cluster);
            self.chains.offer(s, tie, || Pair::new(&row.cluster, &row.id, s));
        }
        self.borderline.offer((s - self.threshold).abs(), tie, || Pair::new(&row.cluster, &row.id, s));
        let members = self.sizes.entry(cluster).or_insert(0);
        *members += 1;
        let members = *members;
        self.follow(cluster, members, row);
    }

    /// Follow the cluster of `row` if it is among the largest so far.
    fn follow(&mut self, cluster: u64, members: u64, row: &Row<'_>) {
        let s = row.similarity;
        let tie = hash(&row.id);
        if let Some(t) = self.tracked.get_mut(&cluster) {
            t.members = members;
            t.sample.offer(s, tie, || Pair::new(&row.cluster, &row.id, s));
            return;
        }
        if self.tracked.len() == TRACKED {
            if members <= self.floor {
                return;
            }
            // the smallest followed cluster (ties: the larger hash goes)
            let least = self.tracked.iter().map(|(h, t)| (t.members, std::cmp::Reverse(*h))).min();
            let Some((least, std::cmp::Reverse(smallest))) = least else {
                return;
            };
            if least >= members {
                self.floor = least;
                return;
            }
            self.tracked.remove(&smallest);
        }
        let mut sample = Smallest::new(MEMBERS);
        sample.offer(s, tie, || Pair::new(&row.cluster, &row.id, s));
        self.tracked
            .insert(cluster, Tracked { rep: cut(&row.cluster, ID_BYTES).to_owned(), members, sample });
        if self.tracked.len() == TRACKED {
            self.floor = self.tracked.values().map(|t| t.members).min().unwrap_or(0);
        }
    }

    fn count_source(&mut self, id: &str, is_rep: bool) {
        let src = self.by.source(id).map(|s| cut(s, ID_BYTES));
        if let Some(src) = src.filter(|s| !self.sources.contains_key(*s) && self.sources.len() < SOURCES) {
            self.sources.insert(src.to_owned(), Counts::default());
        }
        let counts = match src {
            None => &mut self.no_source,
            Some(src) => self.sources.get_mut(src).unwrap_or(&mut self.other_sources),
        };
        counts.docs += 1;
        counts.dups += u64::from(!is_rep);
    }

    /// Clusters by size (documents, the representative included): (size,
    /// clusters), smallest size first; singletons included.
    pub(crate) fn size_distribution(&self) -> Vec<(u64, u64)> {
        let mut by_size: BTreeMap<u64, u64> = BTreeMap::new();
        for &m in self.sizes.values() {
            *by_size.entry(m + 1).or_insert(0) += 1;
        }
        let singletons = self.representatives.saturating_sub(self.sizes.len() as u64);
        if singletons > 0 {
            by_size.insert(1, singletons);
        }
        by_size.into_iter().collect()
    }

    /// Clusters with at least one duplicate.
    pub(crate) fn clusters_with_duplicates(&self) -> u64 {
        self.sizes.len() as u64
    }

    /// The largest clusters followed, largest first (ties by representative id).
    pub(crate) fn largest(&self) -> Vec<&Tracked> {
        let mut v: Vec<&Tracked> = self.tracked.values().collect();
        v.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.rep.cmp(&b.rep)));
        v.truncate(LARGEST);
        v
    }

    /// The sources with the most duplicates, at most `k`, most first.
    pub(crate) fn top_sources(&self, k: usize) -> Vec<(&str, Counts)> {
        let mut v: Vec<(&str, Counts)> = self.sources.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        v.sort_by(|a, b| {
            b.1.dups.cmp(&a.1.dups).then_with(|| b.1.docs.cmp(&a.1.docs)).then_with(|| a.0.cmp(b.0))
        });
        v.truncate(k);
        v
    }

    /// Distinct sources counted one by one.
    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// The pairs whose texts are shown side by side.
    pub(crate) fn shown_pairs(&self) -> Vec<&Pair> {
        let mut v = self.borderline.sorted();
        v.extend(self.chains.sorted().into_iter().take(SHOWN_CHAINS));
        v.extend(
            self.largest().into_iter().take(SHOWN_LARGEST).filter_map(|t| t.sample.sorted().first().copied()),
        );
        v
    }

    /// The ids whose texts the page shows.
    pub(crate) fn wanted_ids(&self) -> HashSet<String> {
        self.shown_pairs().into_iter().flat_map(|p| [p.rep.clone(), p.member.clone()]).collect()
    }
}

/// Chained pairs shown side by side.
pub(crate) const SHOWN_CHAINS: usize = 4;
/// Largest clusters shown side by side (representative and least similar member).
pub(crate) const SHOWN_LARGEST: usize = 3;

/// The passages file: counts and the longest passages.
pub(crate) struct Passages {
    /// Passages.
    pub count: u64,
    /// Words in them.
    pub words: u64,
    /// The longest passages.
    pub longest: Smallest<PassageRow>,
}

/// One passage as shown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PassageRow {
    /// The document holding the repeat.
    pub doc: String,
    /// Where it occurs first.
    pub source_doc: String,
    /// Its length in words.
    pub words: u64,
    /// Its excerpt.
    pub text: String,
}

/// One row of a passages file.
#[derive(serde::Deserialize)]
struct PassageLine<'a> {
    #[serde(borrow)]
    doc: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    source_doc: std::borrow::Cow<'a, str>,
    words: u64,
    #[serde(borrow, default)]
    text: std::borrow::Cow<'a, str>,
}

/// Passages listed.
const PASSAGES: usize = 10;
/// Bytes of a passage's excerpt shown.
const PASSAGE_BYTES: usize = 300;

impl Passages {
    /// Stream the passages file at `path`; errors name the file and line.
    pub(crate) fn read(path: &Path) -> anyhow::Result<Passages> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            bail!(
                "{}: Parquet passages are not read by the report yet; write them as JSON lines",
                path.display()
            );
        }
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut out = Passages { count: 0, words: 0, longest: Smallest::new(PASSAGES) };
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).with_context(|| format!("reading {}", path.display()))?
                == 0
            {
                break;
            }
            number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let p: PassageLine<'_> = serde_json::from_slice(&line).with_context(|| {
                format!("{}:{number}: not a passages row (doc, source_doc, words, text)", path.display())
            })?;
            out.count += 1;
            out.words += p.words;
            // the longest first: the key is smaller for more words
            let key = 1.0 / (1.0 + p.words as f64);
            out.longest.offer(key, hash(&p.doc) ^ number, || PassageRow {
                doc: cut(&p.doc, ID_BYTES).to_owned(),
                source_doc: cut(&p.source_doc, ID_BYTES).to_owned(),
                words: p.words,
                text: cut(&p.text, PASSAGE_BYTES).to_owned(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_keeps_the_k_smallest_with_ties_by_hash() {
        let mut s = Smallest::new(2);
        for (i, k) in [0.5, 0.1, 0.3, 0.1].iter().enumerate() {
            s.offer(*k, i as u64, || i);
        }
        assert_eq!(s.sorted(), vec![&1, &3]);
    }

    #[test]
    fn stats_count_sizes_chains_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let rows = [
            ("a/1", "a/1", 1.0),
            ("a/2", "a/1", 0.9),
            ("b/3", "a/1", 0.7),
            ("b/4", "b/4", 1.0),
            ("b/5", "b/5", 1.0),
            ("b/6", "b/5", 0.85),
        ];
        let text: String = rows
            .iter()
            .map(|(i, c, s)| format!("{{\"id\":\"{i}\",\"cluster\":\"{c}\",\"similarity\":{s}}}\n"))
            .collect();
        std::fs::write(&p, text).unwrap();
        let st = Stats::read(&p, 0.8, Grouping::Prefix).unwrap();
        assert_eq!((st.documents, st.representatives, st.members, st.below, st.chained), (6, 3, 3, 1, 1));
        assert_eq!(st.size_distribution(), vec![(1, 1), (2, 1), (3, 1)]);
        let largest = st.largest();
        assert_eq!((largest[0].rep.as_str(), largest[0].members), ("a/1", 2));
        assert_eq!(st.chains.sorted()[0].member, "b/3");
        let top = st.top_sources(5);
        assert_eq!((top[0].0, top[0].1.docs, top[0].1.dups), ("b", 4, 2));
        std::fs::write(&p, "{\"id\":\"x\",\"cluster\":\"x\",\"similarity\":1}\n{\"id\":\"y\"}\n").unwrap();
        let e = format!("{:#}", Stats::read(&p, 0.8, Grouping::Prefix).err().unwrap());
        assert!(e.contains("c.jsonl:2: not a clusters row"), "{e}");
    }
}
