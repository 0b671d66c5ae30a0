//! Clusters: connected components of verified pairs (union-find), their
//! representatives, similarities to them and the counters of the run.

use std::time::{Duration, Instant};

use bitvec::bitvec;
use rayon::prelude::*;

use crate::error::Result;
use crate::pipeline::signatures::Signatures;
use crate::pipeline::verify::Rule;

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
    /// (joined through a chain A~B, B~C).
    pub chained_clusters: u64,
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
    /// mode. A member of a chain (A~B, B~C) may be below the threshold to
    /// its representative.
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

/// The clustering `uf` holds: representatives (the smallest member), every
/// document's similarity to its representative, and the cluster counters
/// added to `stats`.
pub(crate) fn finish(
    uf: UnionFind,
    rule: &Rule,
    sigs: &(impl Signatures + ?Sized),
    mut stats: ClusterStats,
) -> Result<Clustering> {
    let t = Instant::now();
    let n = sigs.len();
    // per document at the peak: a representative and a similarity
    let (reps, mut size) = uf.into_representatives();
    size.fill(0);
    for &r in &reps {
        size[r as usize] += 1;
    }
    stats.clusters = size.iter().filter(|&&s| s >= 2).count() as u64;
    stats.duplicates = (0..n).filter(|&d| reps[d] as usize != d).count() as u64;
    stats.largest_cluster = size.iter().copied().max().unwrap_or(0) as u64;
    drop(size);
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
                if sigs.exact() || r < lo || sigs.samples(r) == 0 || sigs.samples(d) == 0 {
                    return rule.kept_similarity(sigs, r, d);
                }
                let sig = |x: u32| &flat[(x - lo) as usize * k..(x - lo + 1) as usize * k];
                Ok(crate::sketch::estimate(sig(r), sig(d)))
            })
            .collect::<Result<_>>()?;
        similarity.extend(chunk);
    }
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
