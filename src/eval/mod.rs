//! Quality measurement: exact ground truth (of near-duplicate pairs and of
//! repeated passages), scores of a clustering against
//! it, the readers of the files `neardup truth` and `neardup dedup
//! --clusters` write, and the generator of corpora with planted
//! near-duplicates.
//!
//! ```
//! use neardup::eval::{score, similar_pairs};
//!
//! // three documents' sorted shingle sets: 0 and 1 share 3 of 4 shingles
//! let sets = vec![vec![1, 2, 3], vec![1, 2, 3, 4], vec![7, 8, 9]];
//! let truth = similar_pairs(&sets, 0.7);
//! assert_eq!(truth.len(), 1);
//! let pairs: Vec<(u32, u32)> = truth.iter().map(|p| (p.a, p.b)).collect();
//! // a clustering that put 0 and 1 together and 2 alone is perfect
//! let s = score(&[0, 0, 2], &pairs);
//! assert_eq!(s.pair_f1, 1.0);
//! ```

mod passages;
mod read;
mod score;
mod synth;
mod truth;

pub use passages::{TokenScores, repeated_tokens, score_passages};
pub use read::{ClusterLabels, TruthRecord, read_clusters, read_truth};
pub use score::{Scores, score};
pub use synth::{Mutation, Style, SynthOptions, SynthStats, generate, paragraphs};
pub use truth::{TruthPair, similar_pairs, similar_pairs_with_progress};
