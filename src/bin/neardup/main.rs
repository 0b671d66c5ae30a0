//! The `neardup` command-line tool: a client of the library that maps flags
//! onto builders and prints.

//!
//! One file per subcommand: `dedup`, `passages`, `truth`, `score`, `report`,
//! `gen`, `index` (build, add, query, info), `stages` (sign, link,
//! components, filter), `params` (the LSH S-curve of bandings) and
//! `explain` (why two documents are or are not near-duplicates). This file
//! holds the command line, the exit codes and what the
//! subcommands share: input and parameter flags, output staging, the
//! progress bar, bad-record printing and the peak RSS.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use neardup::io::{Format, ReadOptions};
use neardup::sketch::{ShingleKind, SketchKind};
use neardup::{DedupBuilder, Verify};

mod dedup;
mod explain;
mod r#gen;
mod index;
mod params;
mod passages;
mod report;
mod score;
mod stages;
mod truth;

/// Exit codes.
const EXIT_INTERNAL: u8 = 1;
const EXIT_INPUT: u8 = 2;
const EXIT_BUSY: u8 = 3;

#[derive(Parser)]
#[command(
    name = "neardup",
    version,
    about = "Find text that was said twice: near-duplicate documents in scraped corpora."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find near-duplicate documents and write clusters and a deduplicated corpus.
    Dedup(dedup::DedupArgs),
    /// Find repeated passages: inside a document, across a corpus, or against a reference set.
    Passages(passages::PassagesArgs),
    /// Exact ground truth: every pair of documents with shingle-set Jaccard >= threshold.
    Truth(truth::TruthArgs),
    /// Generate a deterministic corpus with planted near-duplicates from real seed text.
    Gen(r#gen::GenArgs),
    /// An HTML report of a dedup run from its clusters and summary: plots, largest clusters,
    /// borderline pairs side by side, chains.
    Report(report::ReportArgs),
    /// Score clusters against ground truth: pair, closure and document precision/recall.
    Score(score::ScoreArgs),
    /// An incremental near-duplicate index on disk: build it, add to it, query it.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// The LSH S-curve of the banding chosen from a threshold, next to a few others.
    Params(params::ParamsArgs),
    /// Why two documents are, or are not, near-duplicates under a run's parameters.
    Explain(explain::ExplainArgs),
    /// Stage 1 of 4 for many machines: sketch input shards into band keys and signatures (Parquet).
    Sign(stages::SignArgs),
    /// Stage 2: band keys -> verified edges (doc_id, root_id), every document to the smallest id it
    /// is linked to.
    Link(stages::LinkArgs),
    /// Stage 3: edges -> components (doc_id, cluster_id) by union-find.
    Components(stages::ComponentsArgs),
    /// Stage 4: one shard + the components -> the shard's kept records.
    Filter(stages::FilterArgs),
}

#[derive(Args)]
struct ShingleArgs {
    /// Word n-gram size of shingles.
    #[arg(long, default_value_t = 5, conflicts_with = "char_ngram")]
    ngram: u32,
    /// Use character n-grams of this size instead of word n-grams.
    #[arg(long)]
    char_ngram: Option<u32>,
}

impl ShingleArgs {
    fn kind(&self) -> ShingleKind {
        match self.char_ngram {
            Some(n) => ShingleKind::Char(n),
            None => ShingleKind::Word(self.ngram),
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| format!("not a size: {s:?} (try 100M, 1G, 10G)"))?;
    if n.is_nan() || n < 0.0 {
        return Err(format!("not a size: {s:?}"));
    }
    Ok((n * mult as f64) as u64)
}

#[derive(Args)]
struct InputArgs {
    /// Input files or directories (walked recursively); `-` reads standard input.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args)]
struct ReadArgs {
    /// Input format: by extension (.jsonl/.ndjson/.json are JSONL, .warc/.wet WARC, others text;
    /// .gz/.zst compression is seen through) or content when auto.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// JSON field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// JSON field holding the document id (else FILE:LINE).
    #[arg(long, default_value = "id")]
    id_field: String,
    /// Read files as streams instead of memory-mapping them (same output).
    #[arg(long)]
    no_mmap: bool,
    /// Fail (exit 2) on the first bad record instead of reporting and skipping it.
    #[arg(long)]
    strict: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct TableArgs {
    /// Format of the clusters or passages table: by extension (.parquet is Parquet, else JSON
    /// lines) when auto.
    #[arg(long, value_enum, default_value_t = TableFormatArg::Auto)]
    output_format: TableFormatArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormatArg {
    Auto,
    Jsonl,
    Parquet,
}

impl TableArgs {
    fn format(&self) -> neardup::io::OutputFormat {
        match self.output_format {
            TableFormatArg::Auto => neardup::io::OutputFormat::Auto,
            TableFormatArg::Jsonl => neardup::io::OutputFormat::Jsonl,
            TableFormatArg::Parquet => neardup::io::OutputFormat::Parquet,
        }
    }
}

/// The near-duplicate parameters shared by `dedup` and `index build`.
#[derive(Args)]
struct ParamArgs {
    #[command(flatten)]
    shingle: ShingleArgs,
    /// Jaccard similarity at or above which documents are near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Sketch algorithm.
    #[arg(long, value_enum, default_value_t = SketchArg::Oph)]
    sketch: SketchArg,
    /// Signature size.
    #[arg(long, default_value_t = 128)]
    num_perm: u32,
    /// Seed of the sketch hash functions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// LSH bands (with --rows; default: chosen from the threshold).
    #[arg(long, requires = "rows")]
    bands: Option<u32>,
    /// LSH rows per band (with --bands).
    #[arg(long, requires = "bands")]
    rows: Option<u32>,
    /// How candidate pairs are verified.
    #[arg(long, value_enum, default_value_t = VerifyArg::Estimate)]
    verify: VerifyArg,
    /// How clusters are made: star (a document is removed only when it reaches the threshold to the
    /// kept one; chains are cut) or components (connected components: chains A~B~C are one cluster).
    #[arg(long, value_enum, default_value_t = ClusterArg::Star)]
    cluster: ClusterArg,
    /// Which document of a cluster is kept: first (input order), longest, shortest, max:FIELD or
    /// min:FIELD (a numeric or timestamp JSON field, Parquet column or WARC header such as
    /// WARC-Date); ties and documents without the field go by input order.
    #[arg(long, default_value = "first", value_parser = parse_keep)]
    keep: neardup::Keep,
}

fn parse_keep(s: &str) -> Result<neardup::Keep, String> {
    s.parse().map_err(|e: neardup::Error| e.to_string())
}

#[derive(Clone, Copy, ValueEnum)]
enum ClusterArg {
    Star,
    Components,
}

impl ParamArgs {
    /// A builder with these parameters and the read options of `read`.
    fn builder(&self, read: &ReadArgs) -> DedupBuilder {
        let mut builder = DedupBuilder::new()
            .threshold(self.threshold)
            .shingle(self.shingle.kind())
            .sketch(match self.sketch {
                SketchArg::Oph => SketchKind::Oph,
                SketchArg::Minhash => SketchKind::MinHash,
            })
            .num_perm(self.num_perm)
            .seed(self.seed)
            .verify(match self.verify {
                VerifyArg::Estimate => Verify::Estimate,
                VerifyArg::Exact => Verify::Exact,
            })
            .cluster(match self.cluster {
                ClusterArg::Star => neardup::ClusterMode::Star,
                ClusterArg::Components => neardup::ClusterMode::Components,
            })
            .keep(self.keep.clone())
            .strict(read.strict)
            .read_options(read_options(read));
        if let (Some(b), Some(r)) = (self.bands, self.rows) {
            builder = builder.banding(b, r);
        }
        if let Some(t) = read.threads {
            builder = builder.threads(t);
        }
        builder
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Auto,
    Jsonl,
    Text,
    Lines,
    Warc,
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
enum SketchArg {
    Oph,
    Minhash,
}

#[derive(Clone, Copy, ValueEnum)]
enum VerifyArg {
    Estimate,
    Exact,
}

/// An error with the exit code it deserves.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        let error = e.into();
        let code = match error.downcast_ref::<neardup::Error>() {
            Some(
                neardup::Error::InvalidParameter(_)
                | neardup::Error::BadRecord(_)
                | neardup::Error::WouldOverwriteInput(_)
                | neardup::Error::Unsupported(_)
                | neardup::Error::Corrupt { .. },
            ) => EXIT_INPUT,
            Some(neardup::Error::Busy { .. }) => EXIT_BUSY,
            _ => EXIT_INTERNAL,
        };
        Failure { code, error }
    }
}

fn input_failure(e: neardup::Error) -> Failure {
    Failure { code: EXIT_INPUT, error: e.into() }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dedup(args) => dedup::run(args),
        Command::Passages(args) => passages::run(args),
        Command::Truth(args) => truth::run(args),
        Command::Score(args) => score::run(args),
        Command::Report(args) => report::run(args),
        Command::Gen(args) => r#gen::run(args),
        Command::Index(cmd) => index::run(cmd),
        Command::Params(args) => params::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sign(args) => stages::sign(args),
        Command::Link(args) => stages::link(args),
        Command::Components(args) => stages::components(args),
        Command::Filter(args) => stages::filter(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if is_broken_pipe(&f.error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("neardup: error: {}", error_text(&f.error));
            ExitCode::from(f.code)
        }
    }
}

/// The error and its causes, as `{:#}` prints them, but without a cause
/// that the text before it already ends with (the library's I/O errors
/// print their cause after the file's name).
fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn read_options(a: &ReadArgs) -> ReadOptions {
    let mut opts = ReadOptions::default();
    opts.format = match a.format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Text => Format::Text,
        FormatArg::Lines => Format::Lines,
        FormatArg::Warc => Format::Warc,
        FormatArg::Parquet => Format::Parquet,
    };
    opts.text_field = a.text_field.clone();
    opts.id_field = Some(a.id_field.clone());
    opts.mmap = !a.no_mmap;
    opts
}

/// The paths outputs must not replace: the inputs as given (directories
/// too) and the files they expand to.
fn protected(given: &[PathBuf], files: &[neardup::io::InputFile]) -> Vec<PathBuf> {
    let given = given.iter().filter(|p| p.as_os_str() != "-").cloned();
    given.chain(files.iter().filter_map(|f| f.path.clone())).collect()
}

/// Stage `path` in `set`, if given: where to write it until the set is
/// committed.
fn stage(set: &mut neardup::io::OutputSet, path: Option<&Path>) -> Result<Option<PathBuf>, Failure> {
    Ok(path.map(|p| set.stage(p)).transpose()?)
}

/// Write `bytes` to a new file at `to` (the staging path of an output, so
/// it was checked against the inputs).
fn write_file(to: &Path, bytes: &[u8]) -> neardup::Result<()> {
    let mut f = neardup::io::AtomicFile::create(to, &[])?;
    f.write_all(bytes)?;
    f.commit()
}

fn print_bad_records(bad: &[neardup::BadRecord], quiet: bool) {
    const SHOWN: usize = 10;
    if quiet || bad.is_empty() {
        return;
    }
    for b in bad.iter().take(SHOWN) {
        eprintln!("neardup: skipped bad record {b}");
    }
    if bad.len() > SHOWN {
        eprintln!("neardup: ... and {} more bad records (see --bad-records)", bad.len() - SHOWN);
    }
}

/// Run a read of `inputs` with a progress bar on a terminal; input errors
/// (unreadable files, bad records under `--strict`) exit with code 2.
fn with_progress<T>(
    inputs: &[neardup::io::InputFile],
    quiet: bool,
    read: impl FnOnce(&(dyn Fn(u64) + Sync)) -> neardup::Result<T>,
) -> Result<T, Failure> {
    let total = input_size(inputs);
    let bar = progress_bar(total, quiet);
    let out = read(&|done| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    })
    .map_err(|e| match e {
        neardup::Error::Io { .. } | neardup::Error::BadRecord(_) => input_failure(e),
        other => other.into(),
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    out
}

/// Bytes of the input files (standard input counts nothing).
fn input_size(inputs: &[neardup::io::InputFile]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| i.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn progress_bar(total: u64, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    let style =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The progress of the steps after reading, on a terminal: one bar per
/// step (its name, a count, a rate and an ETA), each cleared when the next
/// begins; nothing when stderr is not a terminal or with `--quiet`.
#[derive(Clone, Default)]
struct Meter {
    bar: Option<std::sync::Arc<std::sync::Mutex<Option<PhaseBar>>>>,
}

/// The bar of one step, with the step's name.
type PhaseBar = (&'static str, indicatif::ProgressBar);

impl Meter {
    fn new(quiet: bool) -> Meter {
        if quiet || !std::io::stderr().is_terminal() {
            return Meter::default();
        }
        Meter { bar: Some(Default::default()) }
    }

    /// What the library reports to.
    fn progress(&self) -> neardup::ProgressFn {
        let meter = self.clone();
        match self.bar {
            Some(_) => neardup::ProgressFn::new(move |p| meter.show(p)),
            None => neardup::ProgressFn::default(),
        }
    }

    fn show(&self, p: &neardup::Progress) {
        let Some(cell) = &self.bar else { return };
        let Ok(mut slot) = cell.lock() else { return };
        if slot.as_ref().is_none_or(|(phase, _)| *phase != p.phase) {
            if let Some((_, old)) = slot.take() {
                old.finish_and_clear();
            }
            let bar = indicatif::ProgressBar::new(p.total);
            let template = "{prefix:>10} {bar:30} {human_pos}/{human_len} {msg} {per_sec} eta {eta}";
            let style = indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(p.phase);
            bar.set_message(p.unit);
            bar.tick();
            *slot = Some((p.phase, bar));
        }
        if let Some((_, bar)) = slot.as_ref() {
            if bar.length() != Some(p.total) {
                bar.set_length(p.total);
            }
            bar.set_position(p.done);
        }
    }

    /// Clear the last bar.
    fn finish(&self) {
        if let Some(cell) = &self.bar {
            if let Some((_, bar)) = cell.lock().ok().and_then(|mut s| s.take()) {
                bar.finish_and_clear();
            }
        }
    }
}

/// Peak resident set size of this process (Linux; `None` elsewhere).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Exit code 2 when some input could not be read to its end: its records
/// before the failure were used and the outputs are complete for them, but
/// the run did not see everything.
fn inputs_complete(failed: &[String]) -> Result<(), Failure> {
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure {
        code: EXIT_INPUT,
        error: anyhow::anyhow!(
            "{} input{} could not be read to the end (see the bad records): {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        ),
    })
}
