//! neardup finds text that was said twice: near-duplicate documents in
//! corpora of scraped text.
//!
//! Documents are normalized (NFKC, lowercase, punctuation deleted), cut into
//! word or character shingles, sketched with one-permutation MinHash,
//! bucketed by LSH bands, verified against a Jaccard threshold and grouped
//! into clusters with union-find. See `ARCHITECTURE.md` for the data flow.
//!
//! ```
//! use neardup::DedupBuilder;
//!
//! let a = "the quick brown fox jumps over the lazy dog near the river bank today";
//! let b = "The quick brown fox jumps over the lazy dog near the river bank, today!";
//! let c = "an entirely different sentence about something else altogether";
//! let dedup = DedupBuilder::new().threshold(0.8).build()?;
//! let clusters = dedup.cluster_texts(&[a, b, c])?;
//! // b normalizes to the same shingles as a: it joins a's cluster
//! assert_eq!(clusters.representatives(), &[0, 0, 2]);
//! assert!(clusters.is_kept(0) && !clusters.is_kept(1));
//! # Ok::<(), neardup::Error>(())
//! ```
#![deny(missing_docs)]

mod dedup;
mod error;
mod eval;
mod hash;
mod index;
mod io;
mod lsh;
mod normalize;
mod params;
mod passage;
mod pipeline;
mod pool;
mod report;
mod shingle;
mod sketch;
mod spill;
pub mod stages;

pub use crate::dedup::{Corpus, Dedup, DedupBuilder, Resumed, Verify};
pub use crate::error::{BadRecord, Error, Result};
pub use crate::eval::{
    ClusterLabels, Mutation, Scores, SynthOptions, SynthStats, TruthPair, TruthRecord, generate, paragraphs,
    read_clusters, read_truth, score, similar_pairs,
};
pub use crate::index::{INDEX_FORMAT_VERSION, Index, Match, Verdict};
pub use crate::io::{
    AtomicFile, Compression, Format, InputFile, OutputFormat, OutputSet, ReadOptions, StreamReport,
    check_outputs, expand_inputs, read_texts,
};
pub use crate::lsh::LshParams;
pub use crate::normalize::{Token, Tokenizer};
pub use crate::params::{PARAMS_VERSION, Params};
pub use crate::passage::{DEFAULT_MIN_WORDS, Passage, PassageBuilder, PassageFinder, Scope};
pub use crate::pipeline::cluster::{ClusterStats, Clustering, UnionFind};
pub use crate::report::{ParamSummary, PassageSummary, PassageTimings, SpillSummary, Summary, Timings};
pub use crate::shingle::{Shingle, ShingleKind, Shingler, jaccard};
pub use crate::sketch::{SKETCH_FORMAT_VERSION, Signature, SketchKind, SketchParams, Sketcher};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Dedup>();
        assert_send_sync::<DedupBuilder>();
        assert_send_sync::<Corpus>();
        assert_send_sync::<Clustering>();
        assert_send_sync::<Sketcher>();
        assert_send_sync::<Signature>();
        assert_send_sync::<Shingler>();
        assert_send_sync::<Error>();
        assert_send_sync::<Summary>();
        assert_send_sync::<UnionFind>();
    }
}
