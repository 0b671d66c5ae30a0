//! Exact ground truth: every pair of documents whose shingle sets have
//! Jaccard similarity at or above a threshold, found without comparing all
//! pairs (prefix filtering over a global rare-first token order, with a size
//! filter), each candidate verified by exact set intersection.
//!
//! Prefix filtering: order every set's tokens rarest first; for `J(x, y) >=
//! t` the first `|x| - ceil(t |x|) + 1` tokens of `x` and the corresponding
//! prefix of `y` must share a token. Only prefix tokens are indexed.

use rayon::prelude::*;

use crate::progress::ProgressFn;

use crate::shingle::sorted_jaccard;

/// One verified pair: document indexes `a < b` and their exact Jaccard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthPair {
    /// The earlier document (input index).
    pub a: u32,
    /// The later document.
    pub b: u32,
    /// Exact Jaccard similarity of their shingle sets.
    pub jaccard: f64,
}

/// All pairs of `sets` (each sorted and deduplicated shingle hashes) with
/// Jaccard >= `threshold`, sorted by `(a, b)`. Empty sets pair with nothing.
pub fn similar_pairs(sets: &[Vec<u64>], threshold: f64) -> Vec<TruthPair> {
    similar_pairs_with_progress(sets, threshold, &ProgressFn::default())
}

/// [`similar_pairs`], reporting the documents compared (phase `truth`).
pub fn similar_pairs_with_progress(
    sets: &[Vec<u64>],
    threshold: f64,
    progress: &ProgressFn,
) -> Vec<TruthPair> {
    // global token frequencies
    let mut all: Vec<u64> = sets.par_iter().flat_map_iter(|s| s.iter().copied()).collect();
    all.par_sort_unstable();
    let mut uniq: Vec<(u64, u32)> = Vec::new();
    for &h in &all {
        match uniq.last_mut() {
            Some((last, c)) if *last == h => *c += 1,
            _ => uniq.push((h, 1)),
        }
    }
    drop(all);
    // rank tokens rarest first (ties by hash): rank_of[i] for uniq[i]
    let mut order: Vec<u32> = (0..uniq.len() as u32).collect();
    order.par_sort_unstable_by_key(|&i| (uniq[i as usize].1, uniq[i as usize].0));
    let mut rank_of = vec![0u32; uniq.len()];
    for (r, &i) in order.iter().enumerate() {
        rank_of[i as usize] = r as u32;
    }
    drop(order);
    let ranked: Vec<Vec<u32>> = sets
        .par_iter()
        .map(|s| {
            let mut r: Vec<u32> =
                s.iter().map(|h| rank_of[uniq.binary_search_by_key(h, |&(x, _)| x).unwrap_or(0)]).collect();
            r.sort_unstable();
            r
        })
        .collect();
    drop(uniq);
    drop(rank_of);
    // ceil/floor with a little slack so that rounding never shrinks a bound
    let ceil = |x: f64| (x - 1e-9).ceil() as usize;
    let prefix = |len: usize| len - ceil(threshold * len as f64) + 1;
    // inverted index over prefix tokens: (token, doc), grouped by token
    let mut postings: Vec<(u32, u32)> = ranked
        .par_iter()
        .enumerate()
        .flat_map_iter(|(d, r)| {
            let p = if r.is_empty() { 0 } else { prefix(r.len()).min(r.len()) };
            r[..p].iter().map(move |&t| (t, d as u32))
        })
        .collect();
    postings.par_sort_unstable();
    let ranked = &ranked;
    let (done, total) = (std::sync::atomic::AtomicU64::new(0), ranked.len() as u64);
    let mut pairs: Vec<TruthPair> = (0..ranked.len())
        .into_par_iter()
        .flat_map_iter(|x| {
            let seen = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if seen % 1024 == 0 || seen == total {
                progress.report("truth", seen, total, "docs");
            }
            let rx: &[u32] = &ranked[x];
            let mut cands: Vec<u32> = Vec::new();
            if !rx.is_empty() {
                let p = prefix(rx.len()).min(rx.len());
                let min_len = ceil(threshold * rx.len() as f64);
                let max_len = (rx.len() as f64 / threshold + 1e-9).floor() as usize;
                for &t in &rx[..p] {
                    let lo = postings.partition_point(|&(tok, _)| tok < t);
                    for &(tok, y) in &postings[lo..] {
                        if tok != t || y as usize >= x {
                            break;
                        }
                        let ly = ranked[y as usize].len();
                        if ly >= min_len && ly <= max_len {
                            cands.push(y);
                        }
                    }
                }
                cands.sort_unstable();
                cands.dedup();
            }
            cands.into_iter().filter_map(move |y| {
                let j = sorted_jaccard(&ranked[y as usize], rx);
                (j >= threshold).then_some(TruthPair { a: y, b: x as u32, jaccard: j })
            })
        })
        .collect();
    pairs.par_sort_unstable_by_key(|p| (p.a, p.b));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::jaccard;
    use proptest::prelude::*;

    fn naive(sets: &[Vec<u64>], t: f64) -> Vec<(u32, u32, f64)> {
        let mut v = Vec::new();
        for a in 0..sets.len() {
            for b in a + 1..sets.len() {
                let j = jaccard(&sets[a], &sets[b]);
                if !sets[a].is_empty() && j >= t {
                    v.push((a as u32, b as u32, j));
                }
            }
        }
        v
    }

    proptest! {
        /// Oracle: prefix filtering finds exactly the naive all-pairs answer.
        #[test]
        fn matches_all_pairs(raw in proptest::collection::vec(proptest::collection::btree_set(0u64..40, 0..25), 0..40),
                             t in 0.3f64..1.0) {
            let sets: Vec<Vec<u64>> = raw.into_iter().map(|s| s.into_iter().collect()).collect();
            let got: Vec<(u32, u32, f64)> = similar_pairs(&sets, t).into_iter().map(|p| (p.a, p.b, p.jaccard)).collect();
            prop_assert_eq!(got, naive(&sets, t));
        }
    }
}
