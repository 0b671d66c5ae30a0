//! `neardup dedup`: near-duplicate documents, clusters and a deduplicated corpus.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use neardup::Summary;

use super::{
    Failure, InputArgs, Meter, ParamArgs, TableArgs, input_failure, inputs_complete, parse_size, peak_rss,
    print_bad_records, protected, read_options, stage, with_progress, write_file,
};

#[derive(Args)]
pub(crate) struct DedupArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    params: ParamArgs,
    /// Write one row per document: id, cluster (representative id), similarity; JSON lines, or
    /// Parquet when the path ends in .parquet.
    #[arg(long)]
    clusters: Option<PathBuf>,
    #[command(flatten)]
    table: TableArgs,
    /// Write the deduplicated corpus (records copied byte for byte).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Write the summary as JSON.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Write an HTML report of the run (as `neardup report` makes it from the clusters, the
    /// summary and the inputs).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write every skipped bad record (file, line, reason) as JSON lines.
    #[arg(long)]
    bad_records: Option<PathBuf>,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
    /// Keep memory near SIZE (K, M, G): signatures, ids and sorted runs of band keys go to
    /// --spill-dir, records are re-read from the inputs. Same clusters.
    #[arg(long, value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Where --max-memory writes its spill files (a fresh directory inside, removed at the end).
    #[arg(long, requires = "max_memory")]
    spill_dir: Option<PathBuf>,
}

pub(crate) fn run(args: DedupArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let meter = Meter::new(args.quiet);
    let builder = args.params.builder(&args.input.read).progress(meter.progress());
    let dedup = builder.build()?;
    let inputs = neardup::io::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let (outs, to) = DedupOutputs::stage(&args, &inputs)?;
    let spill_dir = args.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let mut corpus = with_progress(&inputs, args.quiet, |progress| match args.max_memory {
        Some(max) => dedup.read_spilled(&inputs, &spill_dir, max, progress),
        None => dedup.read(&inputs, args.output.is_some(), progress),
    })?;
    print_bad_records(corpus.bad_records(), args.quiet);
    let clustering = dedup.cluster(&corpus)?;
    if !args.quiet && corpus.resumed() != neardup::report::Resumed::Nothing {
        let what = if corpus.resumed() == neardup::report::Resumed::Reading {
            "reading and sketching"
        } else {
            "reading, sketching and clustering"
        };
        eprintln!("neardup: resumed: {what} reused from an earlier run in {}", spill_dir.display());
    }

    let t_write = Instant::now();
    let written = (|| -> anyhow::Result<()> {
        if let (Some(p), Some(to)) = (&args.clusters, &to.clusters) {
            corpus
                .write_clusters(&clustering, to, args.table.format())
                .with_context(|| format!("writing clusters to {}", p.display()))?;
        }
        if let (Some(p), Some(to)) = (&args.output, &to.output) {
            corpus
                .write_deduplicated(&clustering, to)
                .with_context(|| format!("writing output to {}", p.display()))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        // the clusters are done: a rerun with the same --spill-dir starts from them
        return Err(match corpus.keep_spill_dir() {
            Some(kept) => {
                e.context(format!("the finished work is kept in {}; rerun to reuse it", kept.display()))
            }
            None => e,
        }
        .into());
    }
    if let (Some(p), Some(to)) = (&args.bad_records, &to.bad_records) {
        write_bad_records(to, p, corpus.bad_records())?;
    }
    meter.finish();
    let summary = Summary::new(&dedup, &corpus, &clustering, t_write.elapsed(), start.elapsed());
    let summary = finish_summary(summary, args.summary_json.as_deref().zip(to.summary_json.as_deref()))?;
    if let (Some(target), Some(report_to)) = (&args.report, &to.report) {
        let run =
            Run { corpus: &corpus, clustering: &clustering, summary: &summary, inputs: &inputs, opts: &opts };
        write_report(&run, &args, &to, report_to, target)?;
    }
    // every output was written: they appear together
    outs.commit()?;
    let mut err = std::io::stderr().lock();
    for w in summary.warnings() {
        writeln!(err, "neardup: warning: {w}")?;
    }
    if !args.quiet {
        err.write_all(summary.to_text().as_bytes())?;
    }
    inputs_complete(corpus.failed_inputs())
}

/// Where the outputs of `dedup` are written until they are all done (see
/// [`neardup::io::OutputSet`]).
struct DedupOutputs {
    clusters: Option<PathBuf>,
    output: Option<PathBuf>,
    bad_records: Option<PathBuf>,
    summary_json: Option<PathBuf>,
    report: Option<PathBuf>,
}

impl DedupOutputs {
    /// Stage every output of `args`, before anything is read: one that would
    /// replace an input fails the run at once.
    fn stage(
        args: &DedupArgs,
        inputs: &[neardup::io::InputFile],
    ) -> Result<(neardup::io::OutputSet, DedupOutputs), Failure> {
        let mut set = neardup::io::OutputSet::new(&protected(&args.input.inputs, inputs));
        let to = DedupOutputs {
            clusters: stage(&mut set, args.clusters.as_deref())?,
            output: stage(&mut set, args.output.as_deref())?,
            bad_records: stage(&mut set, args.bad_records.as_deref())?,
            summary_json: stage(&mut set, args.summary_json.as_deref())?,
            report: stage(&mut set, args.report.as_deref())?,
        };
        Ok((set, to))
    }
}

/// Every skipped bad record as a JSON line, written to `to` (the staging
/// path of `target`, so it was checked against the inputs).
fn write_bad_records(to: &Path, target: &Path, bad: &[neardup::BadRecord]) -> Result<(), Failure> {
    let write = || -> anyhow::Result<()> {
        let mut f = neardup::io::AtomicFile::create(to, &[])?;
        for b in bad {
            let line = serde_json::to_string(b).context("encoding a bad record")?;
            f.write_all(line.as_bytes())?;
            f.write_all(b"\n")?;
        }
        Ok(f.commit()?)
    };
    write().with_context(|| format!("writing bad records to {}", target.display()))?;
    Ok(())
}

/// Add the peak RSS and write `--summary-json`: `json` is the target and
/// where to write it until the outputs are committed.
fn finish_summary(mut summary: Summary, json: Option<(&Path, &Path)>) -> Result<Summary, Failure> {
    summary.peak_rss_bytes = peak_rss();
    if let Some((target, to)) = json {
        let mut text = serde_json::to_string_pretty(&summary).context("encoding the summary")?;
        text.push('\n');
        write_file(to, text.as_bytes())
            .with_context(|| format!("writing the summary to {}", target.display()))?;
    }
    Ok(summary)
}

/// What `--report` is made from.
struct Run<'a> {
    corpus: &'a neardup::Corpus,
    clustering: &'a neardup::Clustering,
    summary: &'a Summary,
    inputs: &'a [neardup::io::InputFile],
    opts: &'a neardup::io::ReadOptions,
}

/// A temporary file removed when dropped.
struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Write `--report` through the code of `neardup report`: from the staged
/// clusters file when it is JSON lines, else from a temporary one next to
/// the report.
fn write_report(
    run: &Run<'_>,
    args: &DedupArgs,
    to: &DedupOutputs,
    report_to: &Path,
    target: &Path,
) -> Result<(), Failure> {
    let jsonl = |p: &Path| match args.table.format() {
        neardup::io::OutputFormat::Jsonl => true,
        neardup::io::OutputFormat::Parquet => false,
        _ => !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")),
    };
    let mut temporary = None;
    let clusters = match (&args.clusters, &to.clusters) {
        (Some(p), Some(staged)) if jsonl(p) => staged.clone(),
        _ => {
            let mut name = report_to.as_os_str().to_owned();
            name.push(".clusters.jsonl");
            let path = PathBuf::from(name);
            let tmp = temporary.insert(Temporary(path.clone()));
            run.corpus
                .write_clusters(run.clustering, &tmp.0, neardup::io::OutputFormat::Jsonl)
                .with_context(|| format!("writing the clusters of the report to {}", path.display()))?;
            path
        }
    };
    let summary = serde_json::to_value(run.summary).context("encoding the summary")?;
    let clusters_name = match &args.clusters {
        Some(p) if jsonl(p) => p.display().to_string(),
        _ => "the clusters of this run".to_string(),
    };
    let src = super::report::Sources {
        clusters: &clusters,
        clusters_name: &clusters_name,
        summary: &summary,
        summary_name: "this run",
        passages: None,
        by: super::report::Grouping::Prefix,
        inputs: run.inputs,
        opts: run.opts,
    };
    super::report::make(&src, report_to, target)?;
    drop(temporary);
    Ok(())
}
