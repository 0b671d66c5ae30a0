//! MinHash-style sketches of shingle sets.
//!
//! The default is one-permutation hashing (OPH) with optimal densification
//! (Shrivastava 2017): one hash per shingle picks a bin and a value, each
//! bin keeps its minimum, and empty bins borrow the value of a non-empty bin
//! chosen by a fixed, per-bin probe sequence, so that two sketches collide
//! in a slot with probability equal to the Jaccard similarity of the sets.
//! Classic MinHash (`k` independent hash functions, as datasketch) is kept as
//! an option. Signatures carry the parameters that made them.
//!
//! The module also gathers what a signature is made from: the word
//! [`Tokenizer`], [`Shingler`] and the exact [`jaccard`] of shingle sets,
//! and the LSH banding ([`LshParams`]) that turns signatures into
//! candidate pairs.
//!
//! ```
//! use neardup::sketch::{ShingleKind, Shingler, SketchKind, SketchParams, Sketcher, SKETCH_FORMAT_VERSION};
//!
//! let mut shingler = Shingler::new(ShingleKind::Word(3));
//! let params = SketchParams {
//!     kind: SketchKind::Oph,
//!     num_perm: 64,
//!     seed: 0,
//!     shingle: ShingleKind::Word(3),
//!     version: SKETCH_FORMAT_VERSION,
//! };
//! let sketcher = Sketcher::new(params);
//! let a = sketcher.signature(shingler.shingle_set("the quick brown fox jumps over the lazy dog"));
//! let b = sketcher.signature(shingler.shingle_set("the quick brown fox jumps over the lazy cat"));
//! assert_eq!(a.jaccard(&a)?, 1.0);
//! assert!(a.jaccard(&b)? < 1.0);
//! # Ok::<(), neardup::Error>(())
//! ```

pub use crate::lsh::LshParams;
pub use crate::normalize::{Token, Tokenizer};
pub use crate::shingle::{Shingle, ShingleKind, Shingler, jaccard};

use crate::error::{Error, Result};
use crate::hash::{SeedStream, mix64};

/// The version of the sketch definition. Bump it whenever a change to hashing,
/// shingling or sketching changes signature values.
pub const SKETCH_FORMAT_VERSION: u32 = 2;

/// How a signature is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SketchKind {
    /// One-permutation hashing with optimal densification.
    #[default]
    Oph,
    /// Classic MinHash with one hash function per slot.
    MinHash,
}

impl std::fmt::Display for SketchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SketchKind::Oph => "oph",
            SketchKind::MinHash => "minhash",
        })
    }
}

/// Everything that determines a signature's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SketchParams {
    /// Sketch algorithm.
    pub kind: SketchKind,
    /// Number of slots.
    pub num_perm: u32,
    /// Seed of the hash functions.
    pub seed: u64,
    /// How the text was shingled.
    pub shingle: ShingleKind,
    /// [`SKETCH_FORMAT_VERSION`] at the time the signature was made.
    pub version: u32,
}

impl SketchParams {
    /// Check that signatures made with `self` and `other` can be compared.
    pub fn check_compatible(&self, other: &SketchParams) -> Result<()> {
        if self == other { Ok(()) } else { Err(Error::Incompatible(format!("{self:?} vs {other:?}"))) }
    }
}

/// A document's signature and the parameters that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    params: SketchParams,
    values: Vec<u32>,
    empty: bool,
}

impl Signature {
    /// The parameters it was made with.
    pub fn params(&self) -> &SketchParams {
        &self.params
    }

    /// The slot values.
    pub fn values(&self) -> &[u32] {
        &self.values
    }

    /// True when the text had no shingles (an empty document is nobody's
    /// near-duplicate).
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Estimated Jaccard similarity, or an error if the two were made with
    /// different parameters.
    pub fn jaccard(&self, other: &Signature) -> Result<f64> {
        self.params.check_compatible(&other.params)?;
        if self.empty || other.empty {
            return Ok(0.0);
        }
        Ok(estimate(&self.values, &other.values))
    }
}

/// Fraction of equal slots: the Jaccard estimate of two signatures made with
/// the same parameters.
#[inline]
pub(crate) fn estimate(a: &[u32], b: &[u32]) -> f64 {
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len().max(1) as f64
}

/// An OPH sketch in progress: feed it shingle hashes, then [`finish`].
///
/// [`finish`]: OphAccumulator::finish
#[derive(Debug)]
pub struct OphAccumulator<'a> {
    sketcher: &'a Sketcher,
    out: &'a mut [u32],
    filled: [u64; 4],
    filled_big: Vec<u64>,
}

impl<'a> OphAccumulator<'a> {
    fn new(sketcher: &'a Sketcher, out: &'a mut [u32]) -> OphAccumulator<'a> {
        out.fill(u32::MAX);
        let words = out.len().div_ceil(64);
        let filled_big = if words > 4 { vec![0; words] } else { Vec::new() };
        OphAccumulator { sketcher, out, filled: [0; 4], filled_big }
    }

    /// Add one shingle hash.
    #[inline]
    pub fn update(&mut self, h: u64) {
        let x = mix64(h ^ self.sketcher.key);
        let bin = (((x >> 32) * self.out.len() as u64) >> 32) as usize;
        let v = x as u32;
        if self.filled_big.is_empty() {
            self.filled[bin / 64] |= 1 << (bin % 64);
        } else {
            self.filled_big[bin / 64] |= 1 << (bin % 64);
        }
        if v < self.out[bin] {
            self.out[bin] = v;
        }
    }

    /// Densify; returns the independent samples (0 when nothing was added).
    pub fn finish(self) -> usize {
        let filled = if self.filled_big.is_empty() { &self.filled[..] } else { &self.filled_big[..] };
        self.sketcher.densify(self.out, filled)
    }
}

/// Densification probes precomputed per bin.
const PROBES: usize = 8;

/// Computes signatures. Immutable and cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Sketcher {
    params: SketchParams,
    /// OPH: key mixed into every shingle hash; MinHash: unused.
    key: u64,
    /// OPH: key of the densification probe sequence.
    probe_key: u64,
    /// OPH: the first [`PROBES`] probes of every bin.
    probes: Vec<u16>,
    /// MinHash: `(a, b)` of each slot's hash `(a*x + b) >> 32`, `a` odd.
    coeffs: Vec<(u64, u64)>,
}

impl Sketcher {
    /// A sketcher for `params` (`num_perm` >= 1; builders check).
    pub fn new(params: SketchParams) -> Sketcher {
        let mut seeds = SeedStream::new(params.seed, 0x5eed_0001);
        let key = seeds.next_u64();
        let probe_key = seeds.next_u64();
        let coeffs = match params.kind {
            SketchKind::Oph => Vec::new(),
            SketchKind::MinHash => {
                let mut s = SeedStream::new(params.seed, 0x5eed_0002);
                (0..params.num_perm).map(|_| (s.next_u64() | 1, s.next_u64())).collect()
            }
        };
        let mut sk = Sketcher { params, key, probe_key, coeffs, probes: Vec::new() };
        let k = u64::from(params.num_perm);
        if params.kind == SketchKind::Oph && k <= u64::from(u16::MAX) {
            sk.probes = (0..params.num_perm as usize)
                .flat_map(|i| (1..=PROBES as u64).map(move |a| (i, a)))
                .map(|(i, a)| sk.probe(i, a, k) as u16)
                .collect();
        }
        sk
    }

    /// The parameters.
    pub fn params(&self) -> &SketchParams {
        &self.params
    }

    /// Sketch a set of shingle hashes (duplicates allowed) into `out`
    /// (`num_perm` slots). Returns the number of independent samples the
    /// signature holds: the bins filled before densification for OPH (fewer
    /// than `num_perm` for small sets), `num_perm` for MinHash, and 0, leaving
    /// `out` all `u32::MAX`, when there were no shingles.
    pub fn sketch_into(&self, hashes: impl IntoIterator<Item = u64>, out: &mut [u32]) -> usize {
        out.fill(u32::MAX);
        match self.params.kind {
            SketchKind::Oph => self.oph(hashes, out),
            SketchKind::MinHash => {
                let mut any = false;
                for h in hashes {
                    any = true;
                    for (slot, &(a, b)) in out.iter_mut().zip(&self.coeffs) {
                        let v = (a.wrapping_mul(h).wrapping_add(b) >> 32) as u32;
                        *slot = (*slot).min(v);
                    }
                }
                if any { out.len() } else { 0 }
            }
        }
    }

    fn oph(&self, hashes: impl IntoIterator<Item = u64>, out: &mut [u32]) -> usize {
        let mut acc = OphAccumulator::new(self, out);
        for h in hashes {
            acc.update(h);
        }
        acc.finish()
    }

    /// Start an OPH sketch fed one shingle hash at a time (no intermediate
    /// list of hashes). Only for [`SketchKind::Oph`]; `out` has `num_perm`
    /// slots.
    pub fn oph_accumulator<'a>(&'a self, out: &'a mut [u32]) -> OphAccumulator<'a> {
        OphAccumulator::new(self, out)
    }

    /// Fill the empty bins of an OPH sketch (`filled` marks the others).
    fn densify(&self, out: &mut [u32], filled: &[u64]) -> usize {
        let k = out.len() as u64;
        let any = filled.iter().any(|&w| w != 0);
        if !any {
            out.fill(u32::MAX);
            return 0;
        }
        let samples = filled.iter().map(|w| w.count_ones() as usize).sum();
        let is_filled = |i: usize| filled[i / 64] & (1 << (i % 64)) != 0;
        for i in 0..out.len() {
            if is_filled(i) {
                continue;
            }
            // Optimal densification: probe bins with a hash of (bin, attempt)
            // until a non-empty one is found; its value is borrowed. The
            // first probes of every bin are precomputed.
            let table = self.probes.get(i * PROBES..(i + 1) * PROBES).unwrap_or(&[]);
            if let Some(&j) = table.iter().find(|&&j| is_filled(j as usize)) {
                out[i] = out[j as usize];
                continue;
            }
            let mut attempt = table.len() as u64 + 1;
            loop {
                let j = self.probe(i, attempt, k);
                if is_filled(j) {
                    out[i] = out[j];
                    break;
                }
                attempt += 1;
            }
        }
        samples
    }

    /// The bin that empty bin `i` probes at `attempt` (1-based).
    #[inline]
    fn probe(&self, i: usize, attempt: u64, k: u64) -> usize {
        let p = mix64(self.probe_key ^ ((i as u64) << 32 | attempt));
        (((p >> 32) * k) >> 32) as usize
    }

    /// Sketch into a new [`Signature`].
    pub fn signature(&self, hashes: impl IntoIterator<Item = u64>) -> Signature {
        let mut values = vec![0; self.params.num_perm as usize];
        let samples = self.sketch_into(hashes, &mut values);
        Signature { params: self.params, values, empty: samples == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::jaccard;

    fn params(kind: SketchKind, num_perm: u32, seed: u64) -> SketchParams {
        SketchParams { kind, num_perm, seed, shingle: ShingleKind::Word(5), version: SKETCH_FORMAT_VERSION }
    }

    /// Two sets with a given overlap, from a deterministic stream.
    fn sets(n: usize, shared: usize, seed: u64) -> (Vec<u64>, Vec<u64>) {
        let mut s = SeedStream::new(seed, 99);
        let common: Vec<u64> = (0..shared).map(|_| s.next_u64()).collect();
        let mut a = common.clone();
        let mut b = common;
        a.extend((0..n - shared).map(|_| s.next_u64()));
        b.extend((0..n - shared).map(|_| s.next_u64()));
        a.sort_unstable();
        b.sort_unstable();
        (a, b)
    }

    /// The estimate is within a few standard errors of exact Jaccard, for
    /// both kinds, over many random pairs (oracle test).
    #[test]
    fn estimate_tracks_exact_jaccard() {
        for kind in [SketchKind::Oph, SketchKind::MinHash] {
            let sk = Sketcher::new(params(kind, 128, 7));
            let mut sq_err = 0.0;
            let trials = 200;
            for t in 0..trials {
                let n = 50 + (t * 37) % 400;
                let shared = (t * 13) % n;
                let (a, b) = sets(n, shared, t as u64);
                let j = jaccard(&a, &b);
                let est = sk.signature(a.iter().copied()).jaccard(&sk.signature(b.iter().copied())).unwrap();
                let sd = (j * (1.0 - j) / 128.0).sqrt();
                assert!((est - j).abs() <= 5.0 * sd + 0.02, "{kind}: est {est} exact {j}");
                sq_err += (est - j).powi(2);
            }
            let rmse = (sq_err / trials as f64).sqrt();
            // 128 slots: the standard error is at most 0.044 (at J = 0.5)
            assert!(rmse < 0.05, "{kind}: rmse {rmse}");
        }
    }

    #[test]
    fn identical_sets_give_identical_signatures() {
        let sk = Sketcher::new(params(SketchKind::Oph, 64, 1));
        let (a, _) = sets(3, 0, 5); // fewer shingles than bins: densified
        let s1 = sk.signature(a.iter().copied());
        let s2 = sk.signature(a.iter().rev().copied());
        assert_eq!(s1, s2);
        assert_eq!(s1.jaccard(&s2).unwrap(), 1.0);
        assert!(s1.values().iter().all(|&v| v != u32::MAX));
    }

    #[test]
    fn empty_and_incompatible() {
        let sk = Sketcher::new(params(SketchKind::Oph, 64, 1));
        let e = sk.signature(std::iter::empty());
        assert!(e.is_empty());
        assert_eq!(e.jaccard(&e).unwrap(), 0.0);
        let other = Sketcher::new(params(SketchKind::Oph, 64, 2)).signature([1u64]);
        assert!(matches!(sk.signature([1u64]).jaccard(&other), Err(Error::Incompatible(_))));
    }

    #[test]
    fn seeds_change_values() {
        let a = Sketcher::new(params(SketchKind::MinHash, 16, 1)).signature([1u64, 2, 3]);
        let b = Sketcher::new(params(SketchKind::MinHash, 16, 2)).signature([1u64, 2, 3]);
        assert_ne!(a.values(), b.values());
    }

    /// The pipeline from text to signature against
    /// `tests/fixtures/golden/sketch.json`: normalized tokens, their hashes,
    /// word and character shingle hashes, and whole signatures (OPH with the
    /// default parameters, classic MinHash, and a densified OPH of a few
    /// shingles). Signatures are saved in indexes, stage files and spill
    /// files: a change needs a new SKETCH_FORMAT_VERSION (blessing refuses
    /// otherwise).
    #[test]
    fn golden_signatures() {
        use crate::hash::golden::{self, hex};
        use crate::hash::token_hash;
        use crate::normalize::Tokenizer;
        use crate::shingle::Shingler;
        use serde_json::{Value, json};
        const TEXT: &str = "The lighthouse keeper climbed the spiral stairs every evening at dusk, carrying a \
                            can of oil and a rag for the lens. Ships passing the headland relied on the beam \
                            — Café « Phare » ﬁxed it in 1904, for 12½ FRANCS!";
        const MULTILINGUAL: [&str; 6] = [
            "北京时间2024年，“新华社”报道：今天天气很好。",
            "東京の天気は晴れ、カタカナ・ﾊﾝｶｸも。",
            "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
            "Москва — столица России; «Привет»!",
            "Straße l’homme don’t x‐y nations—including",
            "한국어는 띄어쓰기를 합니다",
        ];
        let tokens: Vec<String> = Tokenizer::new().tokens(TEXT).into_iter().map(|t| t.text).collect();
        let shingles = |kind: ShingleKind, text: &str| -> Vec<u64> {
            let mut v = Vec::new();
            Shingler::new(kind).for_each_hash(text, |h| v.push(h));
            v
        };
        let signature = |p: SketchParams, hashes: &[u64]| -> Value {
            let sk = Sketcher::new(p);
            let mut values = vec![0u32; p.num_perm as usize];
            let samples = sk.sketch_into(hashes.iter().copied(), &mut values);
            if p.kind == SketchKind::Oph {
                // the streaming accumulator dedup uses gives the same
                let mut streamed = vec![0u32; p.num_perm as usize];
                let mut acc = sk.oph_accumulator(&mut streamed);
                hashes.iter().for_each(|&h| acc.update(h));
                assert_eq!(acc.finish(), samples);
                assert_eq!(streamed, values);
            }
            json!({"params": p, "samples": samples, "values": values})
        };
        let word5 = shingles(ShingleKind::Word(5), TEXT);
        let default = crate::DedupBuilder::new().params().unwrap().sketch;
        assert_eq!(default, params(SketchKind::Oph, 128, 0));
        let few =
            shingles(ShingleKind::Word(5), "Only a few shingles here: one two three four five six seven.");
        let fresh = json!({
            "sketch_format_version": SKETCH_FORMAT_VERSION,
            "text": TEXT,
            "tokens": tokens,
            "token_hashes": tokens.iter().map(|t| hex(token_hash(t.as_bytes()))).collect::<Vec<_>>(),
            "word_5_shingles": word5.iter().map(|&h| hex(h)).collect::<Vec<_>>(),
            "word_5_shingles of \"Only three words.\"":
                shingles(ShingleKind::Word(5), "Only three words.").into_iter().map(hex).collect::<Vec<_>>(),
            "tokens of scripts with and without spaces": MULTILINGUAL
                .iter()
                .map(|t| Tokenizer::new().tokens(t).into_iter().map(|t| t.text).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            "char_4_shingles of \"Café ﬁne!\"":
                shingles(ShingleKind::Char(4), "Café ﬁne!").into_iter().map(hex).collect::<Vec<_>>(),
            "signature oph, default parameters": signature(default, &word5),
            "signature minhash 128, seed 0": signature(params(SketchKind::MinHash, 128, 0), &word5),
            "signature oph 128, seed 42, of a few shingles (densified)":
                signature(params(SketchKind::Oph, 128, 42), &few),
            "signature oph 64, seed 1, of no shingles": signature(params(SketchKind::Oph, 64, 1), &[]),
        });
        golden::check_format(
            "sketch.json",
            &fresh,
            "Tokens, shingles and signatures are the sketch format: a change breaks every saved \
             signature, index and stage file, so it needs a new SKETCH_FORMAT_VERSION.",
        );
    }
}
