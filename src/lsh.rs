//! Locality-sensitive hashing: banding of signatures into bucket keys, the
//! choice of bands x rows from a threshold, and candidate pairs from buckets.

use crate::error::{Error, Result};
use crate::hash::band_hash;

/// Buckets up to this size emit all their pairs. Larger buckets (boilerplate
/// shared by many documents) are linked through pivots instead, so their
/// cost is linear in their size (see `bucket_pairs`).
pub const ALL_PAIRS_MAX: usize = 64;

/// At most this many pivots are kept per large bucket.
pub(crate) const MAX_PIVOTS: usize = 32;

/// A banding: `bands` bands of `rows` slots each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LshParams {
    /// Number of bands.
    pub bands: u32,
    /// Slots per band.
    pub rows: u32,
}

impl LshParams {
    /// Check against the signature size.
    pub fn validate(&self, num_perm: u32) -> Result<()> {
        if self.bands == 0 || self.rows == 0 {
            return Err(Error::param("bands and rows must be at least 1"));
        }
        if u64::from(self.bands) * u64::from(self.rows) > u64::from(num_perm) {
            return Err(Error::param(format!(
                "bands x rows = {} x {} = {} exceeds num_perm = {num_perm}",
                self.bands,
                self.rows,
                u64::from(self.bands) * u64::from(self.rows)
            )));
        }
        Ok(())
    }

    /// Probability that a pair of Jaccard similarity `s` shares a bucket:
    /// the S-curve `1 - (1 - s^r)^b`.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The similarity at which the S-curve crosses 1/2.
    pub fn midpoint(&self) -> f64 {
        (1.0 - 0.5f64.powf(1.0 / f64::from(self.bands))).powf(1.0 / f64::from(self.rows))
    }

    /// The banding that minimizes `fp_weight * FP + fn_weight * FN`, where FP
    /// is the area under the S-curve below `threshold` and FN the area above
    /// it (the rule datasketch uses), over all `bands * rows <= num_perm`.
    pub fn optimal(threshold: f64, num_perm: u32, fp_weight: f64, fn_weight: f64) -> LshParams {
        let mut best = (f64::INFINITY, LshParams { bands: 1, rows: num_perm.max(1) });
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let p = LshParams { bands, rows };
                let fp = integrate(|s| p.probability(s), 0.0, threshold);
                let fn_ = integrate(|s| 1.0 - p.probability(s), threshold, 1.0);
                let err = fp_weight * fp + fn_weight * fn_;
                if err < best.0 - 1e-12 {
                    best = (err, p);
                }
            }
        }
        best.1
    }
}

/// Simpson's rule with a fixed number of steps.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const STEPS: usize = 256;
    let h = (b - a) / STEPS as f64;
    let mut sum = f(a) + f(b);
    for i in 1..STEPS {
        let x = a + h * i as f64;
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    sum * h / 3.0
}

/// Append the band keys of one signature, as `(key, doc)`, to `out`.
pub(crate) fn push_band_keys(params: LshParams, sig: &[u32], doc: u32, out: &mut Vec<(u64, u32)>) {
    out.extend(band_keys(params, sig).map(|key| (key, doc)));
}

/// The band keys of one signature, band by band.
pub(crate) fn band_keys(params: LshParams, sig: &[u32]) -> impl Iterator<Item = u64> + '_ {
    let r = params.rows as usize;
    (0..params.bands).map(move |b| band_hash(b, &sig[b as usize * r..(b as usize + 1) * r]))
}

/// How alike two bucket members look from their signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Likeness {
    /// Clearly below the threshold.
    No,
    /// Too close to the threshold to tell.
    Maybe,
    /// Clearly at or above the threshold.
    Surely,
}

/// The pairs one bucket contributes (members sorted by doc).
///
/// A bucket of up to [`ALL_PAIRS_MAX`] members gives all its pairs. A larger
/// one is walked in id order: the first member is a pivot; each later member
/// is paired with every pivot (of the first [`MAX_PIVOTS`]) that `judge`
/// does not rule out, and becomes a pivot itself unless one of them is
/// surely similar to it. So a bucket of a million copies of one boilerplate
/// text costs a million checks, not half a trillion pairs, and a bucket
/// mixing a few distinct texts still links each member to its own kind.
/// When a bucket holds more distinct kinds than `MAX_PIVOTS`, members unlike
/// all pivots get no pair from it (other bands usually pair them).
pub(crate) fn bucket_pairs<E>(
    members: &[(u64, u32)],
    judge: &mut dyn FnMut(u32, u32) -> Result<Likeness, E>,
) -> Result<Vec<(u32, u32)>, E> {
    let judge = &mut |a: &u32, b: &u32| judge(*a, *b);
    let m = members.len();
    let mut v = Vec::new();
    if m <= ALL_PAIRS_MAX {
        for x in 0..m {
            for y in x + 1..m {
                v.push((members[x].1, members[y].1));
            }
        }
        return Ok(v);
    }
    let mut pivots = Pivots::default();
    for &(_, d) in members {
        pivots.push(d, judge, &mut |p, d| v.push((*p, *d)))?;
    }
    Ok(v)
}

/// The pivot walk of a large bucket (see [`bucket_pairs`]), one member at a
/// time in id order, so that a bucket can be streamed rather than held.
/// `T` is whatever `judge` needs of a member.
#[derive(Debug)]
pub(crate) struct Pivots<T> {
    pivots: Vec<T>,
}

impl<T> Default for Pivots<T> {
    fn default() -> Self {
        Pivots { pivots: Vec::new() }
    }
}

impl<T> Pivots<T> {
    /// The next member: `pair(pivot, d)` for every pivot `judge` does not
    /// rule out; `d` becomes a pivot unless it is surely like one of them
    /// (while there are fewer than [`MAX_PIVOTS`]).
    pub(crate) fn push<E>(
        &mut self,
        d: T,
        judge: &mut dyn FnMut(&T, &T) -> Result<Likeness, E>,
        pair: &mut dyn FnMut(&T, &T),
    ) -> Result<(), E> {
        let mut linked = false;
        for p in &self.pivots {
            match judge(p, &d)? {
                Likeness::Surely => {
                    pair(p, &d);
                    linked = true;
                }
                Likeness::Maybe => pair(p, &d),
                Likeness::No => {}
            }
        }
        if !linked && self.pivots.len() < MAX_PIVOTS {
            self.pivots.push(d);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_curve_and_midpoint() {
        let p = LshParams { bands: 20, rows: 5 };
        assert!(p.probability(0.0) == 0.0 && p.probability(1.0) == 1.0);
        let m = p.midpoint();
        assert!((p.probability(m) - 0.5).abs() < 1e-9);
        assert!(p.probability(0.8) > p.probability(0.5));
    }

    #[test]
    fn optimal_matches_datasketch_rule() {
        let p = LshParams::optimal(0.5, 128, 0.5, 0.5);
        assert!(p.bands * p.rows <= 128);
        assert!((p.midpoint() - 0.5).abs() < 0.1, "{p:?}");
        let q = LshParams::optimal(0.8, 128, 0.5, 0.5);
        assert!((q.midpoint() - 0.8).abs() < 0.1, "{q:?}");
        // weighting false negatives more moves the curve left
        let r = LshParams::optimal(0.8, 128, 0.1, 0.9);
        assert!(r.midpoint() < q.midpoint());
    }

    #[test]
    fn validate_rejects_oversized() {
        assert!(LshParams { bands: 20, rows: 7 }.validate(128).is_err());
        assert!(LshParams { bands: 0, rows: 7 }.validate(128).is_err());
        assert!(LshParams { bands: 16, rows: 8 }.validate(128).is_ok());
    }

    /// Candidate pairs of `keys` as the in-memory pipeline forms them.
    fn candidates(mut keys: Vec<(u64, u32)>, judge: &dyn Fn(u32, u32) -> Likeness) -> Vec<(u32, u32)> {
        keys.sort_unstable();
        keys.dedup();
        let mut pairs: Vec<(u32, u32)> = keys
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() > 1)
            .flat_map(|g| bucket_pairs::<()>(g, &mut |a, b| Ok(judge(a, b))).unwrap_or_default())
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Oracle: the candidate pairs are exactly the pairs that share a band
    /// key (brute force), when buckets are small.
    #[test]
    fn candidates_match_brute_force() {
        let params = LshParams { bands: 4, rows: 2 };
        let mut s = crate::hash::SeedStream::new(3, 3);
        let sigs: Vec<Vec<u32>> =
            (0..200).map(|_| (0..8).map(|_| (s.next_u64() % 3) as u32).collect()).collect();
        let mut keys = Vec::new();
        for (d, sig) in sigs.iter().enumerate() {
            push_band_keys(params, sig, d as u32, &mut keys);
        }
        let mut got = candidates(keys.clone(), &|_, _| Likeness::Surely);
        let mut brute = Vec::new();
        for a in 0..sigs.len() {
            for b in a + 1..sigs.len() {
                if (0..4).any(|band| sigs[a][band * 2..band * 2 + 2] == sigs[b][band * 2..band * 2 + 2]) {
                    brute.push((a as u32, b as u32));
                }
            }
        }
        // with 9 possible band values and 200 docs buckets are large, so
        // candidates are a subset linking the same components (every
        // member pairs with the first pivot); check that every candidate is
        // a true collision and that components agree.
        got.sort_unstable();
        assert!(got.iter().all(|p| brute.binary_search(p).is_ok()));
        let comp = |pairs: &[(u32, u32)]| {
            let mut uf = crate::pipeline::cluster::UnionFind::new(sigs.len());
            for &(a, b) in pairs {
                uf.union(a, b);
            }
            (0..sigs.len() as u32).map(|d| uf.find(d)).collect::<Vec<_>>()
        };
        let (c1, c2) = (comp(&got), comp(&brute));
        for a in 0..sigs.len() {
            for b in 0..sigs.len() {
                assert_eq!(c1[a] == c1[b], c2[a] == c2[b]);
            }
        }
    }

    #[test]
    fn small_buckets_give_all_pairs() {
        let keys = vec![(1, 5), (1, 2), (1, 9), (2, 3), (7, 3), (7, 4)];
        assert_eq!(candidates(keys, &|_, _| Likeness::No), vec![(2, 5), (2, 9), (3, 4), (5, 9)]);
    }

    #[test]
    fn big_buckets_are_linear() {
        let keys: Vec<(u64, u32)> = (0..10_000).map(|d| (42, d)).collect();
        let pairs = candidates(keys, &|_, _| Likeness::Surely);
        assert_eq!(pairs.len(), 9_999);
        assert!(pairs.contains(&(0, 9_999)));
    }

    /// A large bucket mixing two kinds (even and odd ids) pairs each member
    /// with the first member of its own kind.
    #[test]
    fn big_buckets_link_each_kind() {
        let keys: Vec<(u64, u32)> = (0..1_000).map(|d| (7, d)).collect();
        let pairs = candidates(keys, &|a, b| if a % 2 == b % 2 { Likeness::Surely } else { Likeness::No });
        assert_eq!(pairs.len(), 998);
        assert!(pairs.iter().all(|&(a, b)| a == b % 2 && a < b));
    }
}
