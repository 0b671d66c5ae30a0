//! `neardup passages`: repeated passages and the stripped corpus.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::{
    Failure, InputArgs, TableArgs, input_failure, inputs_complete, peak_rss, print_bad_records, protected,
    read_options, stage, with_progress, write_file,
};

#[derive(Args)]
pub(crate) struct PassagesArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Minimum passage length in normalized words (repeats this long are always found).
    #[arg(long, default_value_t = neardup::PassageBuilder::DEFAULT_MIN_WORDS)]
    min_words: usize,
    /// Look for repeats inside each document only.
    #[arg(long, conflicts_with = "against")]
    within: bool,
    /// Report spans of the inputs that occur in these reference files (contamination checks).
    #[arg(long, num_args = 1..)]
    against: Vec<PathBuf>,
    /// Where to write one JSON line per passage (Parquet when it ends in .parquet); `-` (default) is
    /// standard output.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    #[command(flatten)]
    table: TableArgs,
    /// Write the corpus with every repeated span removed (first occurrences kept).
    #[arg(long)]
    strip: Option<PathBuf>,
    /// Write the summary as JSON.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: PassagesArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let mut builder = neardup::PassageBuilder::new()
        .min_words(args.min_words)
        .scope(if args.within { neardup::Scope::Within } else { neardup::Scope::Corpus })
        .read_options(opts.clone())
        .strict(args.input.read.strict);
    if let Some(t) = args.input.read.threads {
        builder = builder.threads(t);
    }
    let finder = builder.build()?;
    let inputs = neardup::io::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let references = if args.against.is_empty() {
        None
    } else {
        Some(neardup::io::expand_inputs(&args.against, opts.format).map_err(input_failure)?)
    };
    // every output is checked against the inputs and the references before
    // anything is read, and they appear together when all are written
    let mut protect = protected(&args.input.inputs, &inputs);
    protect.extend(protected(&args.against, references.as_deref().unwrap_or_default()));
    let mut outs = neardup::io::OutputSet::new(&protect);
    let passages_to = outs.stage(&args.output)?;
    let strip_to = stage(&mut outs, args.strip.as_deref())?;
    let summary_to = stage(&mut outs, args.summary_json.as_deref())?;
    let run = with_progress(&inputs, args.quiet, |progress| {
        finder.find_files(&inputs, references.as_deref(), progress)
    })?;
    print_bad_records(&run.bad_records(), args.quiet);
    let t_write = Instant::now();
    run.write_passages(&passages_to, args.table.format())
        .with_context(|| format!("writing passages to {}", args.output.display()))?;
    if let (Some(p), Some(to)) = (&args.strip, &strip_to) {
        run.write_stripped(to).with_context(|| format!("writing the stripped corpus to {}", p.display()))?;
    }
    let total = start.elapsed();
    let mut summary = neardup::report::PassageSummary::new(&finder, &run, t_write.elapsed(), total);
    summary.peak_rss_bytes = peak_rss();
    if let (Some(p), Some(to)) = (&args.summary_json, &summary_to) {
        let mut text = serde_json::to_string_pretty(&summary).context("encoding the summary")?;
        text.push('\n');
        write_file(to, text.as_bytes()).with_context(|| format!("writing the summary to {}", p.display()))?;
    }
    outs.commit()?;
    if !args.quiet {
        summary.peak_rss_bytes = peak_rss();
        eprint!("{}", summary.to_text());
    }
    inputs_complete(&run.failed_inputs())
}
