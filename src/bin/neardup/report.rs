//! `neardup report`: one self-contained HTML page about a dedup run, made
//! from its saved outputs (the clusters file, the summary JSON, optionally
//! the passages file and the inputs for excerpts).
//!
//! Memory and the page's size are bounded whatever the corpus: the clusters
//! file is streamed once into counters, histograms, a few top-K heaps and
//! samples chosen by a hash of the ids ([`stats`]); only the sampled
//! documents' texts are looked up, in one pass over the inputs ([`texts`]);
//! the plots are inline SVG drawn here ([`svg`]) and the page holds no
//! reference to anything outside it ([`page`]).
//!
//! `neardup dedup --report` calls [`make`], the same code.

mod page;
mod stats;
mod svg;
mod texts;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use neardup::io::{InputFile, ReadOptions};

use super::{EXIT_INPUT, Failure, ReadArgs, input_failure, protected, read_options, write_file};

#[derive(Args)]
pub(crate) struct ReportArgs {
    /// The clusters file of the run (`neardup dedup --clusters`, JSON lines).
    #[arg(long)]
    clusters: PathBuf,
    /// The summary of the run (`neardup dedup --summary-json`).
    #[arg(long)]
    summary: PathBuf,
    /// The passages of the corpus (`neardup passages --output`, JSON lines), to list the longest.
    #[arg(long)]
    passages: Option<PathBuf>,
    /// How documents are grouped into sources: `prefix` (the id up to its first `/`) or `file`
    /// (the id up to its last `:`, as in FILE:LINE ids).
    #[arg(long, value_enum, default_value_t = Grouping::Prefix)]
    by: Grouping,
    /// The inputs of the run, to show the texts of the sampled documents side by side.
    #[arg(long, num_args = 1..)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// Where to write the HTML page.
    #[arg(short, long)]
    output: PathBuf,
}

/// How documents are grouped into sources for the duplicates-per-source plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Grouping {
    /// The id up to its first `/` (a site or a shard).
    Prefix,
    /// The id up to its last `:` (the file of a FILE:LINE id).
    File,
}

impl Grouping {
    /// The source of the document `id`; `None` when the id has no such part.
    fn source(self, id: &str) -> Option<&str> {
        match self {
            Grouping::Prefix => id.split_once('/').map(|(p, _)| p),
            Grouping::File => id.rsplit_once(':').map(|(f, _)| f),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Grouping::Prefix => "id prefix up to the first /",
            Grouping::File => "file (id up to the last :)",
        }
    }
}

/// What a report is made from.
pub(crate) struct Sources<'a> {
    /// The clusters file (JSON lines of id, cluster, similarity).
    pub clusters: &'a Path,
    /// What to call the clusters file on the page.
    pub clusters_name: &'a str,
    /// The run's summary, as `--summary-json` writes it.
    pub summary: &'a serde_json::Value,
    /// Where the summary came from, for the page.
    pub summary_name: &'a str,
    /// The passages file, if any.
    pub passages: Option<&'a Path>,
    /// How to group documents into sources.
    pub by: Grouping,
    /// The inputs for excerpts (may be empty) and how to read them.
    pub inputs: &'a [InputFile],
    /// How the inputs are read.
    pub opts: &'a ReadOptions,
}

/// What [`make`] wrote, for the caller to print.
pub(crate) struct Made {
    /// Bytes of the page.
    pub bytes: usize,
    /// Documents in the clusters file.
    pub documents: u64,
}

/// Make the page from `src` and write it to `to` (a staging path; `target`
/// names it in errors).
pub(crate) fn make(src: &Sources<'_>, to: &Path, target: &Path) -> Result<Made, Failure> {
    let threshold = number(src.summary, &["params", "threshold"], src.summary_name)?;
    let stats = stats::Stats::read(src.clusters, threshold, src.by).map_err(input)?;
    let passages = match src.passages {
        Some(p) => Some(stats::Passages::read(p).map_err(input)?),
        None => None,
    };
    let wanted = stats.wanted_ids();
    let found = texts::lookup(src.inputs, src.opts, &wanted).map_err(input)?;
    let html = page::render(&page::Page { src, stats: &stats, passages: passages.as_ref(), texts: &found });
    write_file(to, html.as_bytes()).with_context(|| format!("writing the report to {}", target.display()))?;
    Ok(Made { bytes: html.len(), documents: stats.documents })
}

/// A number of the summary at `path` (as `params.threshold`), or an error
/// naming the file and the field.
fn number(summary: &serde_json::Value, path: &[&str], name: &str) -> Result<f64, Failure> {
    path.iter().try_fold(summary, |v, k| v.get(k)).and_then(serde_json::Value::as_f64).ok_or_else(|| {
        Failure {
            code: EXIT_INPUT,
            error: anyhow::anyhow!("{name}: missing number field `{}`", path.join(".")),
        }
    })
}

/// A bad or unreadable input of the report: exit code 2.
fn input(error: anyhow::Error) -> Failure {
    Failure { code: EXIT_INPUT, error }
}

/// Read the summary JSON at `path`.
fn read_summary(path: &Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))
        .map_err(input)?;
    serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display())).map_err(input)
}

pub(crate) fn run(args: ReportArgs) -> Result<(), Failure> {
    let opts = read_options(&args.read);
    let inputs = neardup::io::expand_inputs(&args.inputs, opts.format).map_err(input_failure)?;
    let mut protect = protected(&args.inputs, &inputs);
    protect.extend([args.clusters.clone(), args.summary.clone()]);
    protect.extend(args.passages.clone());
    let mut outs = neardup::io::OutputSet::new(&protect);
    let to = outs.stage(&args.output)?;
    let summary = read_summary(&args.summary)?;
    let summary_name = args.summary.display().to_string();
    let clusters_name = args.clusters.display().to_string();
    let src = Sources {
        clusters: &args.clusters,
        clusters_name: &clusters_name,
        summary: &summary,
        summary_name: &summary_name,
        passages: args.passages.as_deref(),
        by: args.by,
        inputs: &inputs,
        opts: &opts,
    };
    let made = make(&src, &to, &args.output)?;
    outs.commit()?;
    eprintln!(
        "neardup report: {} documents, {:.1} KB written to {}",
        made.documents,
        made.bytes as f64 / 1e3,
        args.output.display()
    );
    Ok(())
}
