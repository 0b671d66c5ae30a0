//! The run summary: counts, parameters, the S-curve, timings, throughput;
//! printed for humans and serialized as JSON.

pub use crate::dedup::Resumed;
pub use crate::pipeline::cluster::ClusterStats;

use std::fmt::Write as _;
use std::time::Duration;

use crate::dedup::{Corpus, Dedup, Verify};
use crate::passage::{PassageFinder, PassageRun};
use crate::pipeline::cluster::{ClusterMode, Clustering};
use crate::shingle::ShingleKind;
use crate::sketch::SketchKind;

/// Parameters of a run, as reported.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct ParamSummary {
    /// Similarity threshold.
    pub threshold: f64,
    /// Shingle kind and size.
    pub shingle: ShingleKind,
    /// Sketch algorithm.
    pub sketch: SketchKind,
    /// Signature size.
    pub num_perm: u32,
    /// Sketch seed.
    pub seed: u64,
    /// LSH bands.
    pub bands: u32,
    /// LSH rows per band.
    pub rows: u32,
    /// True when bands x rows were chosen from the threshold.
    pub bands_chosen: bool,
    /// Probability that a pair exactly at the threshold shares a bucket.
    pub p_at_threshold: f64,
    /// Similarity where the S-curve crosses 1/2.
    pub s_curve_midpoint: f64,
    /// Verification mode.
    pub verify: Verify,
    /// How clusters are made.
    pub cluster: ClusterMode,
    /// Which document of a cluster is kept (`first`, `longest`,
    /// `shortest`, `max:FIELD`, `min:FIELD`).
    pub keep: String,
}

/// Seconds spent per stage.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Timings {
    /// Reading, normalizing, shingling and sketching.
    pub read_sketch: f64,
    /// Band keys and candidate pairs.
    pub candidates: f64,
    /// Verification of candidates.
    pub verify: f64,
    /// Union-find and similarities to representatives.
    pub cluster: f64,
    /// Writing outputs.
    pub write: f64,
    /// Wall time of the whole run.
    pub total: f64,
}

/// Everything a run reports.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Documents read (bad records excluded).
    pub documents: u64,
    /// Records skipped as unusable.
    pub bad_records: u64,
    /// Documents without any shingle.
    pub empty_documents: u64,
    /// Bytes of input.
    pub input_bytes: u64,
    /// Bytes of document text.
    pub text_bytes: u64,
    /// Documents removed as near-duplicates.
    pub duplicates: u64,
    /// Clusters of two or more documents.
    pub clusters: u64,
    /// Size of the largest cluster.
    pub largest_cluster: u64,
    /// Clusters with a member below the threshold to its representative.
    pub chained_clusters: u64,
    /// Star clusters: connected components of verified pairs split into
    /// more than one star (chains cut).
    pub split_components: u64,
    /// Star clusters: rounds run.
    pub star_rounds: u32,
    /// Star clusters: members still without a kept document when the
    /// rounds ran out, kept as they are.
    pub star_unsettled: u64,
    /// Documents without a usable value of the keep policy's field (kept
    /// last).
    pub keep_missing: u64,
    /// Candidate pairs from LSH.
    pub candidate_pairs: u64,
    /// Candidate pairs at or above the threshold.
    pub verified_pairs: u64,
    /// Pairs settled by exact Jaccard because their estimate was too close
    /// to the threshold.
    pub exact_checks: u64,
    /// Parameters.
    pub params: ParamSummary,
    /// Stage timings.
    pub seconds: Timings,
    /// Input megabytes (10^6 bytes) per second of wall time.
    pub mb_per_s: f64,
    /// Worker threads.
    pub threads: usize,
    /// Peak resident memory, when the caller measured it.
    pub peak_rss_bytes: Option<u64>,
    /// What a bounded-memory run wrote to its spill directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spill: Option<SpillSummary>,
}

/// Spill files of a bounded-memory run.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct SpillSummary {
    /// Bytes written to the spill directory.
    pub bytes: u64,
    /// Sorted runs of band keys.
    pub runs: u64,
}

impl Summary {
    /// The summary of a finished run, in memory or in bounded memory;
    /// `write` and `total` are the caller's timings of writing and of the
    /// whole run.
    pub fn new(
        dedup: &Dedup,
        corpus: &Corpus,
        clustering: &Clustering,
        write: Duration,
        total: Duration,
    ) -> Summary {
        let lsh = dedup.lsh_params();
        let sp = dedup.sketch_params();
        let st = &clustering.stats;
        let total_s = total.as_secs_f64();
        Summary {
            documents: corpus.len() as u64,
            bad_records: corpus.bad_records().len() as u64,
            empty_documents: corpus.empty_documents() as u64,
            input_bytes: corpus.input_bytes(),
            text_bytes: corpus.text_bytes(),
            duplicates: st.duplicates,
            clusters: st.clusters,
            largest_cluster: st.largest_cluster,
            chained_clusters: st.chained_clusters,
            split_components: st.split_components,
            star_rounds: st.star_rounds,
            star_unsettled: st.star_unsettled,
            keep_missing: corpus.keep_missing(),
            candidate_pairs: st.candidate_pairs,
            verified_pairs: st.verified_pairs,
            exact_checks: st.exact_checks,
            params: ParamSummary {
                threshold: dedup.threshold(),
                shingle: sp.shingle,
                sketch: sp.kind,
                num_perm: sp.num_perm,
                seed: sp.seed,
                bands: lsh.bands,
                rows: lsh.rows,
                bands_chosen: dedup.lsh_chosen(),
                p_at_threshold: lsh.probability(dedup.threshold()),
                s_curve_midpoint: lsh.midpoint(),
                verify: dedup.verify_mode(),
                cluster: dedup.params().cluster,
                keep: dedup.params().keep.to_string(),
            },
            seconds: Timings {
                read_sketch: corpus.read_time().as_secs_f64(),
                candidates: st.candidates_time.as_secs_f64(),
                verify: st.verify_time.as_secs_f64(),
                cluster: st.cluster_time.as_secs_f64(),
                write: write.as_secs_f64(),
                total: total_s,
            },
            mb_per_s: if total_s > 0.0 { corpus.input_bytes() as f64 / 1e6 / total_s } else { 0.0 },
            threads: dedup.threads(),
            peak_rss_bytes: None,
            spill: corpus.spill(),
        }
    }

    /// Warnings a user should see: a hand-set banding whose S-curve
    /// misses pairs at the threshold or floods the candidates, and
    /// documents without a usable value of the keep policy's field.
    pub fn warnings(&self) -> Vec<String> {
        let p = &self.params;
        let mut w = Vec::new();
        // every candidate is verified, so a midpoint below the threshold
        // costs checks (the banding chosen at 0.8 has it at 0.63); one that
        // misses pairs at the threshold loses duplicates
        let misses = p.p_at_threshold < 0.9;
        let floods = p.s_curve_midpoint < p.threshold - 0.3;
        if !p.bands_chosen && (misses || floods) {
            w.push(format!(
                "bands x rows = {} x {} puts the S-curve midpoint at {:.2}, far from the threshold {}: \
                 pairs near the threshold will be {}; `neardup params --threshold {} --num-perm {} --bands {} \
                 --rows {}` compares it with the banding chosen from the threshold",
                p.bands,
                p.rows,
                p.s_curve_midpoint,
                p.threshold,
                if misses {
                    format!("missed (P(candidate | J = {}) = {:.3})", p.threshold, p.p_at_threshold)
                } else {
                    "over-generated (slower)".into()
                },
                p.threshold,
                p.num_perm,
                p.bands,
                p.rows
            ));
        }
        if self.keep_missing > 0 {
            w.push(format!(
                "{} of {} documents have no number or timestamp for the keep policy `{}`: they are kept only \
                 where no other member of their cluster has one",
                self.keep_missing, self.documents, p.keep
            ));
        }
        w
    }

    /// The human-readable summary.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let p = &self.params;
        let mb = self.input_bytes as f64 / 1e6;
        let _ = writeln!(
            s,
            "documents        {} ({:.1} MB; {} bad records skipped, {} empty)",
            self.documents, mb, self.bad_records, self.empty_documents
        );
        let _ = writeln!(
            s,
            "duplicates       {} removed, {} kept, in {} clusters (largest {}, {} with a member below the threshold to its representative)",
            self.duplicates,
            self.documents - self.duplicates,
            self.clusters,
            self.largest_cluster,
            self.chained_clusters
        );
        let _ = writeln!(
            s,
            "clusters         {}, keep {}{}{}",
            match p.cluster {
                ClusterMode::Star => "star (every removed document is alike the one kept)",
                _ => "connected components (chains joined)",
            },
            p.keep,
            if p.cluster == ClusterMode::Star && self.split_components > 0 {
                format!(
                    "; {} chains cut into stars in {} rounds{}",
                    self.split_components,
                    self.star_rounds,
                    if self.star_unsettled > 0 {
                        format!(" ({} members left when the rounds ran out, kept)", self.star_unsettled)
                    } else {
                        String::new()
                    }
                )
            } else {
                String::new()
            },
            if self.keep_missing > 0 {
                format!("; {} documents without the keep field, kept last", self.keep_missing)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "pairs            {} candidates, {} verified ({} settled exactly: estimate too close to the threshold)",
            self.candidate_pairs, self.verified_pairs, self.exact_checks
        );
        let _ = writeln!(
            s,
            "parameters       threshold {}, {}, {} x {}, seed {}, verify {}",
            p.threshold,
            p.shingle,
            p.sketch,
            p.num_perm,
            p.seed,
            verify_name(p.verify)
        );
        let _ = writeln!(
            s,
            "LSH              {} bands x {} rows ({}); P(candidate | J = {}) = {:.3}, S-curve midpoint {:.3}",
            p.bands,
            p.rows,
            if p.bands_chosen { "chosen from the threshold" } else { "set by hand" },
            p.threshold,
            p.p_at_threshold,
            p.s_curve_midpoint
        );
        let t = &self.seconds;
        let _ = writeln!(
            s,
            "time             {:.3} s total: read+sketch {:.3}, candidates {:.3}, verify {:.3}, cluster {:.3}, write {:.3}",
            t.total, t.read_sketch, t.candidates, t.verify, t.cluster, t.write
        );
        let _ = write!(
            s,
            "throughput       {:.1} MB/s on {} thread{}",
            self.mb_per_s,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        );
        if let Some(rss) = self.peak_rss_bytes {
            let _ = write!(s, ", peak memory {:.1} MB", rss as f64 / 1e6);
        }
        if let Some(sp) = &self.spill {
            let _ = write!(
                s,
                "\nspill            {:.1} MB in the spill directory, {} sorted runs of band keys",
                sp.bytes as f64 / 1e6,
                sp.runs
            );
        }
        s.push('\n');
        s
    }
}

/// Everything a passages run reports (JSON keys in alphabetical order).
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct PassageSummary {
    /// Records skipped as unusable.
    pub bad_records: u64,
    /// Documents read (bad records excluded).
    pub documents: u64,
    /// Documents with at least one repeated passage.
    pub documents_with_passages: u64,
    /// Fingerprints in the index.
    pub fingerprints: u64,
    /// Bytes of text inside repeated passages.
    pub flagged_bytes: u64,
    /// `flagged_bytes` over `text_bytes` (0 without text).
    pub flagged_fraction: f64,
    /// Bytes of fingerprint index per input megabyte (10^6 bytes).
    pub index_bytes_per_input_mb: f64,
    /// Bytes of input.
    pub input_bytes: u64,
    /// Token k-gram length of the fingerprints.
    pub kgram: usize,
    /// Input megabytes (10^6 bytes) per second of wall time.
    pub mb_per_s: f64,
    /// Minimum passage length in normalized words.
    pub min_words: usize,
    /// Repeated passages found.
    pub passages: u64,
    /// Peak resident memory, when the caller measured it.
    pub peak_rss_bytes: Option<u64>,
    /// Stage timings.
    pub seconds: PassageTimings,
    /// Bytes of document text.
    pub text_bytes: u64,
    /// Worker threads.
    pub threads: usize,
    /// Winnowing window.
    pub window: usize,
}

/// Seconds spent per stage of a passages run.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[non_exhaustive]
pub struct PassageTimings {
    /// Seeds, confirmation and extension.
    #[serde(rename = "match")]
    pub matching: f64,
    /// Reading, normalizing and fingerprinting.
    pub read_fingerprint: f64,
    /// Wall time of the whole run (up to the writing of the summary).
    pub total: f64,
    /// Writing outputs.
    pub write: f64,
}

impl PassageSummary {
    /// The summary of a finished passages run; `write` and `total` are the
    /// caller's timings of writing and of the whole run.
    pub fn new(finder: &PassageFinder, run: &PassageRun, write: Duration, total: Duration) -> PassageSummary {
        let total_s = total.as_secs_f64();
        let (input, text, flagged) = (run.input_bytes(), run.text_bytes(), run.flagged_bytes());
        PassageSummary {
            bad_records: run.bad_records().len() as u64,
            documents: run.documents() as u64,
            documents_with_passages: run.documents_with_passages() as u64,
            fingerprints: run.fingerprints() as u64,
            flagged_bytes: flagged,
            flagged_fraction: if text > 0 { flagged as f64 / text as f64 } else { 0.0 },
            index_bytes_per_input_mb: if input > 0 {
                run.fingerprints() as f64 * 12.0 / (input as f64 / 1e6)
            } else {
                0.0
            },
            input_bytes: input,
            kgram: finder.kgram(),
            mb_per_s: if total_s > 0.0 { input as f64 / 1e6 / total_s } else { 0.0 },
            min_words: finder.min_words(),
            passages: run.passages().len() as u64,
            peak_rss_bytes: None,
            seconds: PassageTimings {
                matching: run.match_seconds,
                read_fingerprint: run.read_seconds,
                total: total_s,
                write: write.as_secs_f64(),
            },
            text_bytes: text,
            threads: finder.threads(),
            window: finder.window(),
        }
    }

    /// The human-readable summary.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "documents        {} ({:.1} MB; {} bad records skipped)",
            self.documents,
            self.input_bytes as f64 / 1e6,
            self.bad_records
        );
        let _ = writeln!(
            s,
            "passages         {} in {} documents; {} bytes flagged ({:.2}% of the text)",
            self.passages,
            self.documents_with_passages,
            self.flagged_bytes,
            self.flagged_fraction * 100.0
        );
        let _ = writeln!(
            s,
            "parameters       min words {}, fingerprints of {}-grams, window {}: {} fingerprints indexed ({:.0} KB per input MB)",
            self.min_words,
            self.kgram,
            self.window,
            self.fingerprints,
            self.index_bytes_per_input_mb / 1e3
        );
        let t = &self.seconds;
        let _ = writeln!(
            s,
            "time             {:.3} s total: read+fingerprint {:.3}, match {:.3}; {:.1} MB/s on {} thread{}{}",
            t.total,
            t.read_fingerprint,
            t.matching,
            self.mb_per_s,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.peak_rss_bytes
                .map(|r| format!(", peak memory {:.1} MB", r as f64 / 1e6))
                .unwrap_or_default()
        );
        s
    }
}

/// A verification mode as the summary prints it: the name `--verify` and
/// the JSON summary use.
fn verify_name(v: Verify) -> &'static str {
    match v {
        Verify::Estimate => "estimate",
        Verify::Exact => "exact",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_print_as_their_serialized_names() {
        for v in [Verify::Estimate, Verify::Exact] {
            assert_eq!(serde_json::to_value(v).unwrap(), verify_name(v));
        }
    }
}
