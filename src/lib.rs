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
//!
//! # Modules
//!
//! The main types are at the crate root: [`DedupBuilder`] / [`Dedup`] (a
//! corpus in, a [`Clustering`] out), [`Index`] (one page at a time, a
//! [`Verdict`] each), [`PassageBuilder`] / [`PassageFinder`] (repeated
//! spans), [`Summary`], [`Error`] and [`Result`]. The rest lives in
//! modules:
//!
//! - [`sketch`]: the building blocks of a signature: the tokenizer,
//!   shingles, MinHash/OPH sketches with their parameters, LSH banding.
//! - [`io`]: input files, formats and read options; atomic outputs, output
//!   sets checked against the inputs.
//! - [`report`]: what runs report: [`Summary`]'s parts, cluster
//!   statistics, the passages summary.
//! - [`cluster`]: the union-find behind clusters.
//! - [`eval`]: quality measurement: exact ground truth, scores, the readers
//!   of truth and clusters files, the synthetic-corpus generator.
//! - [`stages`]: deduplication as four steps over Parquet files, for many
//!   machines.
#![deny(missing_docs)]

mod dedup;
mod error;
pub mod eval;
mod hash;
mod index;
pub mod io;
pub mod kernel;
mod lsh;
mod normalize;
mod params;
mod passage;
mod pipeline;
mod pool;
mod progress;
pub mod report;
mod shingle;
pub mod sketch;
mod spill;
pub mod stages;

pub use crate::dedup::{Corpus, Dedup, DedupBuilder, Verify};
pub use crate::error::{BadRecord, Error, Result};
pub use crate::index::{Index, Match, Verdict};
pub use crate::params::Params;
pub use crate::passage::{Passage, PassageBuilder, PassageFinder, PassageRun, Scope};
pub use crate::pipeline::cluster::{ClusterMode, Clustering, Keep};
pub use crate::progress::{Progress, ProgressFn};
pub use crate::report::Summary;

/// Clusters from pairs: the union-find every clustering is made with.
pub mod cluster {
    pub use crate::pipeline::cluster::UnionFind;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::{Shingler, Signature, Sketcher};

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
        assert_send_sync::<Verify>();
        assert_send_sync::<Params>();
        assert_send_sync::<Index>();
        assert_send_sync::<Verdict>();
        assert_send_sync::<Match>();
        assert_send_sync::<PassageBuilder>();
        assert_send_sync::<PassageFinder>();
        assert_send_sync::<Passage>();
        assert_send_sync::<PassageRun>();
        assert_send_sync::<Scope>();
        assert_send_sync::<BadRecord>();
        assert_send_sync::<cluster::UnionFind>();
        assert_send_sync::<sketch::SketchKind>();
        assert_send_sync::<sketch::SketchParams>();
        assert_send_sync::<sketch::OphAccumulator<'static>>();
        assert_send_sync::<sketch::ShingleKind>();
        assert_send_sync::<sketch::Shingle>();
        assert_send_sync::<sketch::Tokenizer>();
        assert_send_sync::<sketch::Token>();
        assert_send_sync::<sketch::LshParams>();
        assert_send_sync::<io::InputFile>();
        assert_send_sync::<io::Format>();
        assert_send_sync::<io::Compression>();
        assert_send_sync::<io::ReadOptions>();
        assert_send_sync::<io::AtomicFile>();
        assert_send_sync::<io::OutputFormat>();
        assert_send_sync::<io::OutputSet>();
        assert_send_sync::<io::StreamReport>();
        assert_send_sync::<report::ParamSummary>();
        assert_send_sync::<report::SpillSummary>();
        assert_send_sync::<report::Timings>();
        assert_send_sync::<report::ClusterStats>();
        assert_send_sync::<report::Resumed>();
        assert_send_sync::<report::PassageSummary>();
        assert_send_sync::<report::PassageTimings>();
        assert_send_sync::<eval::TruthPair>();
        assert_send_sync::<eval::Scores>();
        assert_send_sync::<eval::SynthOptions>();
        assert_send_sync::<eval::SynthStats>();
        assert_send_sync::<eval::Mutation>();
        assert_send_sync::<eval::TruthRecord>();
        assert_send_sync::<eval::ClusterLabels>();
        assert_send_sync::<stages::StageParams>();
        assert_send_sync::<stages::ShardInfo>();
        assert_send_sync::<stages::SignReport>();
        assert_send_sync::<stages::LinkReport>();
        assert_send_sync::<stages::ComponentsReport>();
        assert_send_sync::<stages::FilterReport>();
    }
}
