//! `neardup score`: clusters against ground truth.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{Failure, input_failure};

#[derive(Args)]
pub(crate) struct ScoreArgs {
    /// Clusters JSONL as written by `neardup dedup --clusters` (id, cluster).
    #[arg(long)]
    clusters: PathBuf,
    /// Ground-truth pairs as written by `neardup truth` (a, b, jaccard).
    #[arg(long)]
    truth: PathBuf,
    /// Only truth pairs at or above this Jaccard count.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ScoreArgs) -> Result<(), Failure> {
    let clusters = neardup::eval::read_clusters(&args.clusters).map_err(input_failure)?;
    let truth = neardup::eval::read_truth(&args.truth).map_err(input_failure)?;
    let pairs = clusters.pairs(&truth, args.threshold, &args.truth).map_err(input_failure)?;
    let labels = clusters.labels();
    let s = neardup::eval::score(labels, &pairs);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&s).context("encoding scores")?)?;
    } else {
        writeln!(out, "{:<10} {:>9} {:>9} {:>9}", "level", "precision", "recall", "F1")?;
        writeln!(out, "{:<10} {:>9.4} {:>9.4} {:>9.4}", "pair", s.pair_precision, s.pair_recall, s.pair_f1)?;
        writeln!(
            out,
            "{:<10} {:>9.4} {:>9.4} {:>9.4}",
            "closure", s.closure_precision, s.closure_recall, s.closure_f1
        )?;
        writeln!(out, "{:<10} {:>9.4} {:>9.4} {:>9.4}", "document", s.doc_precision, s.doc_recall, s.doc_f1)?;
        writeln!(
            out,
            "{} documents; {} predicted pairs, {} true pairs, {} in the true pairs' closure",
            s.documents, s.predicted_pairs, s.true_pairs, s.closure_pairs
        )?;
    }
    Ok(())
}
