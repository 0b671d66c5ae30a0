//! Scoring clusters against ground truth: pair-level, transitive-closure and
//! document-level precision and recall.

use std::collections::HashMap;

use crate::pipeline::cluster::UnionFind;

/// Precision, recall and F1 at three levels.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Scores {
    /// Predicted pairs (same cluster) that are true pairs.
    pub pair_precision: f64,
    /// True pairs that are predicted.
    pub pair_recall: f64,
    /// Harmonic mean of the two.
    pub pair_f1: f64,
    /// Predicted pairs inside one connected component of the true pairs.
    pub closure_precision: f64,
    /// Pairs of the true pairs' transitive closure that are predicted.
    pub closure_recall: f64,
    /// Harmonic mean of the two.
    pub closure_f1: f64,
    /// Documents predicted as duplicates (cluster of 2 or more) that have a
    /// true partner.
    pub doc_precision: f64,
    /// Documents with a true partner that are predicted as duplicates.
    pub doc_recall: f64,
    /// Harmonic mean of the two.
    pub doc_f1: f64,
    /// Documents scored.
    pub documents: u64,
    /// Predicted pairs.
    pub predicted_pairs: u64,
    /// True pairs.
    pub true_pairs: u64,
    /// Pairs of the true pairs' transitive closure.
    pub closure_pairs: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
}

fn pairs_in(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Score `clusters[d]` (any label per document; equal labels = one cluster)
/// against `truth` (pairs of document indexes that are true near-duplicates).
pub fn score(clusters: &[u32], truth: &[(u32, u32)]) -> Scores {
    let n = clusters.len();
    let mut size: HashMap<u32, u64> = HashMap::new();
    for &c in clusters {
        *size.entry(c).or_default() += 1;
    }
    let predicted: u64 = size.values().map(|&s| pairs_in(s)).sum();
    let true_pairs = truth.len() as u64;
    let hit = truth.iter().filter(|&&(a, b)| clusters[a as usize] == clusters[b as usize]).count() as u64;

    let mut uf = UnionFind::new(n);
    let mut has_partner = vec![false; n];
    for &(a, b) in truth {
        uf.union(a, b);
        has_partner[a as usize] = true;
        has_partner[b as usize] = true;
    }
    let comp: Vec<u32> = (0..n as u32).map(|d| uf.find(d)).collect();
    let mut comp_size: HashMap<u32, u64> = HashMap::new();
    let mut cell: HashMap<(u32, u32), u64> = HashMap::new();
    for d in 0..n {
        *comp_size.entry(comp[d]).or_default() += 1;
        *cell.entry((clusters[d], comp[d])).or_default() += 1;
    }
    let closure: u64 = comp_size.values().map(|&s| pairs_in(s)).sum();
    let both: u64 = cell.values().map(|&s| pairs_in(s)).sum();

    let predicted_dup: Vec<bool> = clusters.iter().map(|c| size[c] >= 2).collect();
    let pd = predicted_dup.iter().filter(|&&x| x).count() as u64;
    let td = has_partner.iter().filter(|&&x| x).count() as u64;
    let tp = (0..n).filter(|&d| predicted_dup[d] && has_partner[d]).count() as u64;

    let (pp, pr) = (ratio(hit, predicted), ratio(hit, true_pairs));
    let (cp, cr) = (ratio(both, predicted), ratio(both, closure));
    let (dp, dr) = (ratio(tp, pd), ratio(tp, td));
    Scores {
        pair_precision: pp,
        pair_recall: pr,
        pair_f1: f1(pp, pr),
        closure_precision: cp,
        closure_recall: cr,
        closure_f1: f1(cp, cr),
        doc_precision: dp,
        doc_recall: dr,
        doc_f1: f1(dp, dr),
        documents: n as u64,
        predicted_pairs: predicted,
        true_pairs,
        closure_pairs: closure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-checked fixture. Documents 0..6; truth: 0~1, 1~2 (a chain), 4~5.
    /// Prediction: {0,1}, {2,3}, {4}, {5}.
    #[test]
    fn hand_checked() {
        let s = score(&[0, 0, 2, 2, 4, 5], &[(0, 1), (1, 2), (4, 5)]);
        // predicted pairs: (0,1), (2,3); true: (0,1), (1,2), (4,5)
        assert_eq!((s.predicted_pairs, s.true_pairs), (2, 3));
        assert_eq!(s.pair_precision, 0.5);
        assert_eq!(s.pair_recall, 1.0 / 3.0);
        // closure: {0,1,2} gives 3 pairs, {4,5} gives 1
        assert_eq!(s.closure_pairs, 4);
        assert_eq!(s.closure_precision, 0.5);
        assert_eq!(s.closure_recall, 0.25);
        // docs with a partner: 0,1,2,4,5; predicted dups: 0,1,2,3
        assert_eq!(s.doc_precision, 0.75);
        assert_eq!(s.doc_recall, 0.6);
    }

    #[test]
    fn perfect() {
        let s = score(&[0, 0, 0, 3], &[(0, 1), (1, 2)]);
        assert_eq!(s.pair_precision, 2.0 / 3.0);
        assert_eq!((s.closure_f1, s.doc_f1), (1.0, 1.0));
    }
}
