//! Clusters: connected components of verified pairs (union-find), their
//! representatives, similarities to them and the counters of the run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bitvec::bitvec;
use rayon::prelude::*;

use crate::error::Result;
use crate::lsh::Likeness;
use crate::pipeline::signatures::Signatures;
use crate::pipeline::verify::{Rule, TextSource};
use crate::progress::ProgressFn;

/// Union-find over dense ids, with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    /// The root of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Merge the sets of `a` and `b`; true if they were separate.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// For every element, its cluster's representative: the smallest id in
    /// its set (the first document in input order).
    pub fn representatives(&mut self) -> Vec<u32> {
        let n = self.len();
        let mut rep_of_root = vec![u32::MAX; n];
        let mut reps = Vec::with_capacity(n);
        for x in 0..n as u32 {
            let r = self.find(x) as usize;
            if rep_of_root[r] == u32::MAX {
                rep_of_root[r] = x;
            }
            reps.push(rep_of_root[r]);
        }
        reps
    }

    /// [`UnionFind::representatives`], in the memory the sets already take:
    /// every element's representative, and a free array of the same length
    /// (what held the sizes).
    pub(crate) fn into_representatives(mut self) -> (Vec<u32>, Vec<u32>) {
        let n = self.len() as u32;
        // every element points at its root; finding later ones only halves
        // paths, so earlier ones stay on their roots
        for x in 0..n {
            let r = self.find(x);
            self.parent[x as usize] = r;
        }
        let mut first = self.size;
        first.fill(u32::MAX);
        for x in 0..n as usize {
            let r = self.parent[x] as usize;
            if first[r] == u32::MAX {
                first[r] = x as u32;
            }
            self.parent[x] = first[r];
        }
        (self.parent, first)
    }
}

/// The clusters of a corpus.
#[derive(Debug, Clone)]
pub struct Clustering {
    reps: Vec<u32>,
    similarity: Vec<f64>,
    /// Counters of the run.
    pub stats: ClusterStats,
}

/// Counters and timings of clustering.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Candidate pairs from LSH buckets that were judged.
    pub candidate_pairs: u64,
    /// Candidate pairs verified at or above the threshold and linked.
    pub verified_pairs: u64,
    /// Pairs whose estimate was too close to the threshold to trust, settled
    /// by exact Jaccard of the re-read texts.
    pub exact_checks: u64,
    /// Clusters with two or more documents.
    pub clusters: u64,
    /// Documents that are not their cluster's representative.
    pub duplicates: u64,
    /// Size of the largest cluster.
    pub largest_cluster: u64,
    /// Clusters holding a member below the threshold to its representative
    /// (joined through a chain A~B, B~C): none with star clusters, unless a
    /// text could not be checked.
    pub chained_clusters: u64,
    /// Star clusters: connected components of verified pairs that were
    /// split into more than one star (their chains were cut).
    pub split_components: u64,
    /// Star clusters: rounds run (the most stars one component held).
    pub star_rounds: u32,
    /// Star clusters: members still without a representative after 1,024
    /// rounds, kept.
    pub star_unsettled: u64,
    /// Time computing band keys and candidate pairs.
    pub candidates_time: Duration,
    /// Time verifying candidates.
    pub verify_time: Duration,
    /// Time in union-find and similarity to representatives.
    pub cluster_time: Duration,
}

impl Clustering {
    /// The representative (input index) of each document.
    pub fn representatives(&self) -> &[u32] {
        &self.reps
    }

    /// Each document's similarity to its representative (1.0 for itself):
    /// exact Jaccard in [`Verify::Exact`](crate::Verify::Exact) mode, the
    /// signature estimate in [`Verify::Estimate`](crate::Verify::Estimate)
    /// mode. With [`ClusterMode::Components`], a member of a chain (A~B,
    /// B~C) may be below the threshold to its representative; with
    /// [`ClusterMode::Star`] none is.
    pub fn similarities(&self) -> &[f64] {
        &self.similarity
    }

    /// Whether document `i` is kept (a representative or a singleton).
    pub fn is_kept(&self, i: usize) -> bool {
        self.reps[i] as usize == i
    }

    /// Taken up from saved representatives and similarities.
    pub(crate) fn from_parts(reps: Vec<u32>, similarity: Vec<f64>, stats: ClusterStats) -> Clustering {
        Clustering { reps, similarity, stats }
    }
}

/// Documents whose similarities to their representatives are computed
/// together (their signatures read in one piece).
const SIMILARITY_CHUNK: u32 = 1 << 14;

/// Rounds of star clustering after which the members of a chain still
/// without a representative are kept as they are (each its own cluster):
/// a round settles every member of a component that reaches the round's
/// representative, so a component needs one round per star it holds.
pub(crate) const STAR_ROUNDS_MAX: u32 = 1024;

/// How clusters are made from the verified pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClusterMode {
    /// Star clusters: in every connected component of verified pairs the
    /// kept document (see [`Keep`]) takes every member at or above the
    /// threshold to it; the members below it form stars of their own, the
    /// next kept one chosen among them the same way, round by round. No
    /// document is removed unless it is alike the document that is kept.
    #[default]
    Star,
    /// Connected components: a chain A~B, B~C is one cluster even when A and
    /// C are far apart, and only the kept document of it remains.
    Components,
}

impl std::fmt::Display for ClusterMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClusterMode::Star => "star",
            ClusterMode::Components => "components",
        })
    }
}

/// Which document of a cluster is kept (its representative). Ties, and
/// documents without the field, go by input order: the earliest is kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Keep {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest text (bytes of UTF-8).
    Longest,
    /// The one with the shortest text.
    Shortest,
    /// The one with the largest value of a numeric or timestamp field (a
    /// JSON field, a Parquet column, a WARC header such as `WARC-Date`):
    /// the newest crawl, the highest quality score. Documents without it,
    /// or with a value that is neither a number nor a timestamp, come last.
    Max(String),
    /// The one with the smallest value of a field (see [`Keep::Max`]).
    Min(String),
}

impl Keep {
    /// The field this policy reads, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Keep::Max(f) | Keep::Min(f) => Some(f),
            _ => None,
        }
    }

    /// A document's preference: lower is kept first; `f64::INFINITY` for
    /// a document without the field. `text_len` is its text's length in
    /// bytes, `value` its field's value.
    pub(crate) fn preference(&self, text_len: u64, value: Option<f64>) -> f64 {
        let or_last = |v: Option<f64>| v.filter(|v| v.is_finite()).unwrap_or(f64::INFINITY);
        match self {
            Keep::First => 0.0,
            Keep::Longest => -(text_len as f64),
            Keep::Shortest => text_len as f64,
            Keep::Max(_) => or_last(value.map(|v| -v)),
            Keep::Min(_) => or_last(value),
        }
    }
}

impl std::fmt::Display for Keep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Keep::First => f.write_str("first"),
            Keep::Longest => f.write_str("longest"),
            Keep::Shortest => f.write_str("shortest"),
            Keep::Max(field) => write!(f, "max:{field}"),
            Keep::Min(field) => write!(f, "min:{field}"),
        }
    }
}

impl std::str::FromStr for Keep {
    type Err = crate::Error;

    /// `first`, `longest`, `shortest`, `max:FIELD` or `min:FIELD`.
    fn from_str(s: &str) -> Result<Keep> {
        let field = |f: &str| -> Result<String> {
            if f.is_empty() {
                return Err(crate::Error::param(format!("keep policy {s:?} names no field")));
            }
            Ok(f.to_owned())
        };
        Ok(match s {
            "first" => Keep::First,
            "longest" => Keep::Longest,
            "shortest" => Keep::Shortest,
            _ => match s.split_once(':') {
                Some(("max", f)) => Keep::Max(field(f)?),
                Some(("min", f)) => Keep::Min(field(f)?),
                _ => {
                    return Err(crate::Error::param(format!(
                        "unknown keep policy {s:?} (first, longest, shortest, max:FIELD or min:FIELD)"
                    )));
                }
            },
        })
    }
}

/// How [`finish`] makes clusters of the linked documents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape<'a> {
    pub(crate) mode: ClusterMode,
    /// Every document's preference ([`Keep::preference`]); `None`: the
    /// first in input order is kept.
    pub(crate) prefs: Option<&'a [f64]>,
    /// Bytes of shingle sets kept while star members near the threshold are
    /// settled from their texts.
    pub(crate) set_bytes: usize,
}

impl Shape<'_> {
    /// Whether `a` is kept before `b`.
    fn before(&self, a: u32, b: u32) -> bool {
        match self.prefs {
            None => a < b,
            Some(p) => {
                let (x, y) = (p[a as usize], p[b as usize]);
                x < y || (x == y && a < b)
            }
        }
    }
}

/// The clustering `uf` holds, shaped by `shape`: representatives, every
/// document's similarity to its representative, and the cluster counters
/// added to `stats`.
pub(crate) fn finish(
    uf: UnionFind,
    rule: &Rule,
    sigs: &(impl Signatures + ?Sized),
    texts: &(impl TextSource + ?Sized),
    shape: Shape<'_>,
    mut stats: ClusterStats,
    progress: &ProgressFn,
) -> Result<Clustering> {
    let t = Instant::now();
    let n = sigs.len();
    if shape.prefs.is_some_and(|p| p.len() != n) {
        return Err(crate::Error::Internal("a keep preference is missing for some document".into()));
    }
    // per document at the peak: a component, a representative and a similarity
    let (comp, mut best) = uf.into_representatives();
    // every component's kept document: the smallest member, or the one preferred
    for (d, &c) in comp.iter().enumerate() {
        // a component's smallest member comes first
        if d as u32 == c || shape.before(d as u32, best[c as usize]) {
            best[c as usize] = d as u32;
        }
    }
    let (reps, similarity) = match shape.mode {
        ClusterMode::Components => {
            let reps: Vec<u32> = comp.iter().map(|&c| best[c as usize]).collect();
            drop(best);
            let sims = similarities(rule, sigs, &reps)?;
            (reps, sims)
        }
        ClusterMode::Star => {
            drop(best);
            star(rule, sigs, texts, shape, &comp, &mut stats, progress)?
        }
    };
    drop(comp);
    let mut size = vec![0u32; n];
    for &r in &reps {
        size[r as usize] += 1;
    }
    stats.clusters = size.iter().filter(|&&s| s >= 2).count() as u64;
    stats.duplicates = (0..n).filter(|&d| reps[d] as usize != d).count() as u64;
    stats.largest_cluster = size.iter().copied().max().unwrap_or(0) as u64;
    drop(size);
    let mut chained = bitvec![0; n];
    for d in 0..n {
        if similarity[d] < rule.threshold {
            chained.set(reps[d] as usize, true);
        }
    }
    stats.chained_clusters = chained.count_ones() as u64;
    stats.cluster_time = t.elapsed();
    Ok(Clustering { reps, similarity, stats })
}

/// Every document's similarity to its representative `reps[d]`, from the
/// signatures (or the kept sets).
fn similarities(rule: &Rule, sigs: &(impl Signatures + ?Sized), reps: &[u32]) -> Result<Vec<f64>> {
    let n = reps.len();
    let k = sigs.num_perm();
    let mut similarity = Vec::with_capacity(n);
    for c in 0..(n as u32).div_ceil(SIMILARITY_CHUNK) {
        let (lo, hi) = (c * SIMILARITY_CHUNK, ((c + 1) * SIMILARITY_CHUNK).min(n as u32));
        let flat = sigs.sig_range(lo..hi)?;
        let chunk: Vec<f64> = (lo..hi)
            .into_par_iter()
            .map(|d| {
                let r = reps[d as usize];
                if r == d {
                    return Ok(1.0);
                }
                if sigs.exact() || !(lo..hi).contains(&r) || sigs.samples(r) == 0 || sigs.samples(d) == 0 {
                    return rule.kept_similarity(sigs, r, d);
                }
                let sig = |x: u32| &flat[(x - lo) as usize * k..(x - lo + 1) as usize * k];
                Ok(crate::sketch::estimate(sig(r), sig(d)))
            })
            .collect::<Result<_>>()?;
        similarity.extend(chunk);
    }
    Ok(similarity)
}

/// How a star member compares with its round's representative.
enum Against {
    /// At or above the threshold, with this similarity.
    Alike(f64),
    /// Too close to the threshold to tell from the signatures.
    Doubtful,
    /// Doubtful, and settled from held sets: this exact Jaccard.
    Settled(f64),
    /// Below it.
    Apart,
}

/// Star clusters inside the components `comp` (every document's smallest
/// fellow member): round by round, each component's preferred document
/// still without a cluster takes every such member at or above the
/// threshold to it (members too close to tell from their signatures are
/// settled by exact Jaccard of their texts). Representatives and
/// similarities.
fn star(
    rule: &Rule,
    sigs: &(impl Signatures + ?Sized),
    texts: &(impl TextSource + ?Sized),
    shape: Shape<'_>,
    comp: &[u32],
    stats: &mut ClusterStats,
    progress: &ProgressFn,
) -> Result<(Vec<u32>, Vec<f64>)> {
    const NONE: u32 = u32::MAX;
    let n = comp.len();
    let mut size = vec![0u32; n];
    for &c in comp {
        size[c as usize] += 1;
    }
    let mut reps: Vec<u32> = (0..n as u32).collect();
    let mut similarity = vec![1.0f64; n];
    let mut active: Vec<u32> = (0..n as u32).filter(|&d| size[comp[d as usize] as usize] >= 2).collect();
    for &d in &active {
        reps[d as usize] = NONE;
    }
    // the components split into more than one star
    let mut split = bitvec![0; n];
    // this round's representative of each component (by its smallest member)
    let mut center = size;
    center.fill(NONE);
    let mut sets: Option<HashMap<u32, Vec<u64>>> = None;
    let mut round = 0;
    let clustered = active.len() as u64;
    while !active.is_empty() {
        progress.report("star", clustered - active.len() as u64, clustered, "docs");
        if round == STAR_ROUNDS_MAX {
            // kept as they are: never removed without a check
            for &d in &active {
                reps[d as usize] = d;
            }
            stats.star_unsettled += active.len() as u64;
            break;
        }
        round += 1;
        for &d in &active {
            let c = comp[d as usize] as usize;
            if center[c] == NONE || shape.before(d, center[c]) {
                center[c] = d;
            }
        }
        if round > 1 {
            for &d in &active {
                split.set(comp[d as usize] as usize, true);
            }
        }
        // once few members are left (the chains of a few large components),
        // their sets are read once and settle the doubtful members of every
        // later round without a sweep (the same decisions: only where the
        // sets come from differs)
        if sets.is_none() && round > 1 && active.len() <= SETS_ACTIVE_MAX && !sigs.exact() {
            sets = held_sets(rule, texts, &active, shape.set_bytes)?;
        }
        let mut doubtful = Vec::new();
        for chunk in active.chunks(SIMILARITY_CHUNK as usize) {
            let mut wanted: Vec<u32> =
                chunk.iter().flat_map(|&d| [d, center[comp[d as usize] as usize]]).collect();
            wanted.sort_unstable();
            wanted.dedup();
            sigs.prefetch(&wanted);
            let judged: Vec<Against> = chunk
                .par_iter()
                .map(|&d| {
                    let c = center[comp[d as usize] as usize];
                    if c == d {
                        return Ok(Against::Alike(1.0));
                    }
                    Ok(match (against(rule, sigs, c, d)?, &sets) {
                        (Against::Doubtful, Some(held)) => {
                            Against::Settled(crate::shingle::jaccard(&held[&c], &held[&d]))
                        }
                        (j, _) => j,
                    })
                })
                .collect::<Result<_>>()?;
            for (&d, j) in chunk.iter().zip(judged) {
                let c = center[comp[d as usize] as usize];
                match j {
                    Against::Alike(s) => {
                        reps[d as usize] = c;
                        similarity[d as usize] = s;
                    }
                    Against::Settled(s) => {
                        stats.exact_checks += 1;
                        if s >= rule.threshold {
                            reps[d as usize] = c;
                            similarity[d as usize] = s;
                        }
                    }
                    Against::Doubtful => doubtful.push((c.min(d), c.max(d))),
                    Against::Apart => {}
                }
            }
        }
        let threshold = rule.threshold;
        stats.exact_checks += crate::pipeline::verify::settle(
            *rule,
            sigs,
            texts,
            shape.set_bytes,
            doubtful,
            &ProgressFn::default(),
            &mut |_, _| false,
            &mut |a, b, sim| {
                let c = center[comp[a as usize] as usize];
                let d = if c == a { b } else { a };
                if sim >= threshold {
                    reps[d as usize] = c;
                    similarity[d as usize] = sim;
                }
            },
        )?;
        for &d in &active {
            center[comp[d as usize] as usize] = NONE;
        }
        active.retain(|&d| reps[d as usize] == NONE);
    }
    stats.star_rounds = round;
    stats.split_components = split.count_ones() as u64;
    Ok((reps, similarity))
}

/// Star members left at most this many: their shingle sets are held (see
/// [`held_sets`]).
const SETS_ACTIVE_MAX: usize = 1 << 14;

/// The shingle sets of `docs` (ascending), re-read from their texts, when
/// there are texts and the sets fit in `budget` bytes.
fn held_sets(
    rule: &Rule,
    texts: &(impl TextSource + ?Sized),
    docs: &[u32],
    budget: usize,
) -> Result<Option<HashMap<u32, Vec<u64>>>> {
    let mut held = HashMap::with_capacity(docs.len());
    let mut bytes = 0usize;
    for chunk in docs.chunks(1024) {
        texts.prefetch(chunk);
        let sets: Vec<Option<Vec<u64>>> = chunk
            .par_iter()
            .map_init(
                || crate::shingle::Shingler::new(rule.shingle),
                |sh, &d| Ok(texts.text(d)?.map(|t| sh.shingle_set(&t))),
            )
            .collect::<Result<_>>()?;
        for (&d, set) in chunk.iter().zip(sets) {
            let Some(set) = set else { return Ok(None) };
            bytes += set.len() * 8 + 48;
            if bytes > budget {
                return Ok(None);
            }
            held.insert(d, set);
        }
    }
    Ok(Some(held))
}

/// Member `d` against representative `c`: exact Jaccard of the kept sets in
/// exact mode, else the signatures' estimate and how far it is trusted.
fn against(rule: &Rule, sigs: &(impl Signatures + ?Sized), c: u32, d: u32) -> Result<Against> {
    let samples = sigs.samples(c).min(sigs.samples(d));
    if samples == 0 {
        return Ok(Against::Apart);
    }
    // the kept sets of small documents are only where a doubtful pair's
    // sets come from (as in linking): every storage decides alike
    if sigs.exact() {
        let s = rule.kept_similarity(sigs, c, d)?;
        return Ok(if s >= rule.threshold { Against::Alike(s) } else { Against::Apart });
    }
    let (a, b) = (sigs.sig(c)?, sigs.sig(d)?);
    Ok(match rule.likeness_of(&a, &b, samples) {
        Likeness::Surely => Against::Alike(crate::sketch::estimate(&a, &b)),
        Likeness::Maybe => Against::Doubtful,
        Likeness::No => Against::Apart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Components by breadth-first search: the oracle.
    fn bfs_reps(n: usize, edges: &[(u32, u32)]) -> Vec<u32> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in edges {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        let mut rep = vec![u32::MAX; n];
        for s in 0..n {
            if rep[s] != u32::MAX {
                continue;
            }
            let mut queue = std::collections::VecDeque::from([s as u32]);
            rep[s] = s as u32;
            while let Some(x) = queue.pop_front() {
                for &y in &adj[x as usize] {
                    if rep[y as usize] == u32::MAX {
                        rep[y as usize] = s as u32;
                        queue.push_back(y);
                    }
                }
            }
        }
        rep
    }

    #[test]
    fn chain_is_one_cluster() {
        let mut uf = UnionFind::new(5);
        assert!(uf.union(3, 4));
        assert!(uf.union(4, 1));
        assert!(!uf.union(1, 3));
        assert_eq!(uf.representatives(), vec![0, 1, 2, 1, 1]);
    }

    proptest! {
        #[test]
        fn matches_bfs(n in 1usize..60, raw in proptest::collection::vec((0u32..60, 0u32..60), 0..120)) {
            let edges: Vec<(u32, u32)> = raw.into_iter().map(|(a, b)| (a % n as u32, b % n as u32)).collect();
            let mut uf = UnionFind::new(n);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            let want = bfs_reps(n, &edges);
            prop_assert_eq!(uf.clone().representatives(), want.clone());
            prop_assert_eq!(uf.into_representatives().0, want);
        }
    }
}
