//! The `neardup` command-line tool: a client of the library that maps flags
//! onto builders and prints.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use neardup::{DedupBuilder, Format, ReadOptions, ShingleKind, SketchKind, Summary, Verify};

#[path = "cli/index.rs"]
mod index_cmd;
#[path = "cli/stages.rs"]
mod stages_cmd;

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
    Dedup(DedupArgs),
    /// Find repeated passages: inside a document, across a corpus, or against a reference set.
    Passages(PassagesArgs),
    /// Exact ground truth: every pair of documents with shingle-set Jaccard >= threshold.
    Truth(TruthArgs),
    /// Generate a deterministic corpus with planted near-duplicates from real seed text.
    Gen(GenArgs),
    /// Score clusters against ground truth: pair, closure and document precision/recall.
    Score(ScoreArgs),
    /// An incremental near-duplicate index on disk: build it, add to it, query it.
    #[command(subcommand)]
    Index(index_cmd::IndexCommand),
    /// Stage 1 of 4 for many machines: sketch input shards into band keys and signatures (Parquet).
    Sign(stages_cmd::SignArgs),
    /// Stage 2: band keys -> verified edges (doc_id, root_id), every document to the smallest id it
    /// is linked to.
    Link(stages_cmd::LinkArgs),
    /// Stage 3: edges -> components (doc_id, cluster_id) by union-find.
    Components(stages_cmd::ComponentsArgs),
    /// Stage 4: one shard + the components -> the shard's kept records.
    Filter(stages_cmd::FilterArgs),
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

#[derive(Args)]
struct PassagesArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Minimum passage length in normalized words (repeats this long are always found).
    #[arg(long, default_value_t = neardup::DEFAULT_MIN_WORDS)]
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

#[derive(Args)]
struct TruthArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    shingle: ShingleArgs,
    /// Jaccard similarity at or above which a pair is reported.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Where to write the pairs (JSONL: a, b, jaccard); `-` for standard output.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    /// Run even when the memory estimate exceeds the memory available.
    #[arg(long)]
    force: bool,
}

/// Bytes of memory `truth` needs per input byte, measured: shingle sets
/// (8 bytes per shingle, about one shingle per 6 input bytes), the sort of
/// all shingles, ranks and the prefix index peak at about 6 bytes per input
/// byte on real text; 8 leaves room.
const TRUTH_BYTES_PER_INPUT_BYTE: u64 = 8;

/// MemAvailable from /proc/meminfo (Linux; None elsewhere).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

#[derive(Args)]
struct GenArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Size of the corpus to write (bytes; K, M, G suffixes are powers of 1024).
    #[arg(long, default_value = "100M", value_parser = parse_size)]
    size: u64,
    /// Where to write the corpus (JSONL: id, text).
    #[arg(short, long)]
    output: PathBuf,
    /// Where to write the planted near-duplicates (JSONL: id, of, mutation, strength).
    #[arg(long)]
    planted: Option<PathBuf>,
    /// Fraction of documents that are planted near-duplicates.
    #[arg(long, default_value_t = 0.3)]
    dup_rate: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
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
struct ScoreArgs {
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
    fn format(&self) -> neardup::OutputFormat {
        match self.output_format {
            TableFormatArg::Auto => neardup::OutputFormat::Auto,
            TableFormatArg::Jsonl => neardup::OutputFormat::Jsonl,
            TableFormatArg::Parquet => neardup::OutputFormat::Parquet,
        }
    }
}

#[derive(Args)]
struct DedupArgs {
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
        Command::Dedup(args) => run_dedup(args),
        Command::Passages(args) => run_passages(args),
        Command::Truth(args) => run_truth(args),
        Command::Score(args) => run_score(args),
        Command::Gen(args) => run_gen(args),
        Command::Index(cmd) => index_cmd::run(cmd),
        Command::Sign(args) => stages_cmd::sign(args),
        Command::Link(args) => stages_cmd::link(args),
        Command::Components(args) => stages_cmd::components(args),
        Command::Filter(args) => stages_cmd::filter(args),
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

fn run_dedup(args: DedupArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let builder = args.params.builder(&args.input.read);
    let dedup = builder.build()?;
    let inputs = neardup::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let (outs, to) = DedupOutputs::stage(&args, &inputs)?;
    let spill_dir = args.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let mut corpus = with_progress(&inputs, args.quiet, |progress| match args.max_memory {
        Some(max) => dedup.read_spilled(&inputs, &spill_dir, max, progress),
        None => dedup.read(&inputs, args.output.is_some(), progress),
    })?;
    print_bad_records(corpus.bad_records(), args.quiet);
    let clustering = dedup.cluster(&corpus)?;
    if !args.quiet && corpus.resumed() != neardup::Resumed::Nothing {
        let what = if corpus.resumed() == neardup::Resumed::Reading {
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
    let summary = Summary::new(&dedup, &corpus, &clustering, t_write.elapsed(), start.elapsed());
    let summary = finish_summary(summary, args.summary_json.as_deref().zip(to.summary_json.as_deref()))?;
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
/// [`neardup::OutputSet`]).
struct DedupOutputs {
    clusters: Option<PathBuf>,
    output: Option<PathBuf>,
    bad_records: Option<PathBuf>,
    summary_json: Option<PathBuf>,
}

impl DedupOutputs {
    /// Stage every output of `args`, before anything is read: one that would
    /// replace an input fails the run at once.
    fn stage(
        args: &DedupArgs,
        inputs: &[neardup::InputFile],
    ) -> Result<(neardup::OutputSet, DedupOutputs), Failure> {
        let mut set = neardup::OutputSet::new(&protected(&args.input.inputs, inputs));
        let to = DedupOutputs {
            clusters: stage(&mut set, args.clusters.as_deref())?,
            output: stage(&mut set, args.output.as_deref())?,
            bad_records: stage(&mut set, args.bad_records.as_deref())?,
            summary_json: stage(&mut set, args.summary_json.as_deref())?,
        };
        Ok((set, to))
    }
}

/// The paths outputs must not replace: the inputs as given (directories
/// too) and the files they expand to.
fn protected(given: &[PathBuf], files: &[neardup::InputFile]) -> Vec<PathBuf> {
    let given = given.iter().filter(|p| p.as_os_str() != "-").cloned();
    given.chain(files.iter().filter_map(|f| f.path.clone())).collect()
}

/// Stage `path` in `set`, if given: where to write it until the set is
/// committed.
fn stage(set: &mut neardup::OutputSet, path: Option<&Path>) -> Result<Option<PathBuf>, Failure> {
    Ok(path.map(|p| set.stage(p)).transpose()?)
}

/// Every skipped bad record as a JSON line, written to `to` (the staging
/// path of `target`, so it was checked against the inputs).
fn write_bad_records(to: &Path, target: &Path, bad: &[neardup::BadRecord]) -> Result<(), Failure> {
    let write = || -> anyhow::Result<()> {
        let mut f = neardup::AtomicFile::create(to, &[])?;
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

/// Write `bytes` to a new file at `to` (the staging path of an output, so
/// it was checked against the inputs).
fn write_file(to: &Path, bytes: &[u8]) -> neardup::Result<()> {
    let mut f = neardup::AtomicFile::create(to, &[])?;
    f.write_all(bytes)?;
    f.commit()
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
    inputs: &[neardup::InputFile],
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
fn input_size(inputs: &[neardup::InputFile]) -> u64 {
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

/// Peak resident set size of this process (Linux; `None` elsewhere).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn run_truth(args: TruthArgs) -> Result<(), Failure> {
    let opts = read_options(&args.input.read);
    let mut builder = DedupBuilder::new()
        .threshold(args.threshold)
        .shingle(args.shingle.kind())
        .verify(Verify::Exact)
        .strict(args.input.read.strict)
        .read_options(opts.clone());
    if let Some(t) = args.input.read.threads {
        builder = builder.threads(t);
    }
    let dedup = builder.build()?;
    let inputs = neardup::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    neardup::check_outputs(&[&args.output], &protected(&args.input.inputs, &inputs))?;
    let size = input_size(&inputs);
    let need = size.saturating_mul(TRUTH_BYTES_PER_INPUT_BYTE);
    if let Some(avail) = available_memory() {
        if need > avail && !args.force {
            return Err(Failure {
                code: EXIT_INPUT,
                error: anyhow::anyhow!(
                    "exact ground truth of {:.1} MB of input needs about {:.1} GB of memory and {:.1} GB is available; \
                     run it on a sample (it is practical up to a few million documents of a few KB on this kind of \
                     machine) or pass --force to try anyway",
                    size as f64 / 1e6,
                    need as f64 / 1e9,
                    avail as f64 / 1e9
                ),
            });
        }
    }
    let start = Instant::now();
    let corpus = dedup.read(&inputs, false, &|_| {}).map_err(input_failure)?;
    print_bad_records(corpus.bad_records(), false);
    let sets = corpus.shingle_sets().context("shingle sets were not kept")?;
    let pairs = dedup.install_pool(|| neardup::similar_pairs(sets, args.threshold));
    let mut out = neardup::AtomicFile::create(&args.output, &args.input.inputs)?;
    let mut line = String::new();
    for p in &pairs {
        line.clear();
        line.push_str("{\"a\":");
        line.push_str(&serde_json::to_string(&*corpus.id(p.a as usize)?).context("encoding an id")?);
        line.push_str(",\"b\":");
        line.push_str(&serde_json::to_string(&*corpus.id(p.b as usize)?).context("encoding an id")?);
        line.push_str(&format!(",\"jaccard\":{}}}\n", p.jaccard));
        out.write_all(line.as_bytes())?;
    }
    out.commit()?;
    eprintln!(
        "neardup truth: {} documents, {} pairs with Jaccard >= {} in {:.2} s",
        corpus.len(),
        pairs.len(),
        args.threshold,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Read a JSONL file into values, naming the file and line on error.
fn read_jsonl(path: &std::path::Path) -> Result<Vec<serde_json::Value>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input_failure(neardup::Error::Io { path: path.to_path_buf(), source: e }))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| Failure {
            code: EXIT_INPUT,
            error: anyhow::anyhow!("{}:{}: invalid JSON: {e}", path.display(), i + 1),
        })?;
        out.push(v);
    }
    Ok(out)
}

fn field<'a>(
    v: &'a serde_json::Value,
    key: &str,
    path: &std::path::Path,
    i: usize,
) -> Result<&'a str, Failure> {
    v.get(key).and_then(|x| x.as_str()).ok_or_else(|| Failure {
        code: EXIT_INPUT,
        error: anyhow::anyhow!("{}: record {}: missing string field `{key}`", path.display(), i + 1),
    })
}

fn run_score(args: ScoreArgs) -> Result<(), Failure> {
    let clusters = read_jsonl(&args.clusters)?;
    let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut cluster_of_label: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut labels = Vec::with_capacity(clusters.len());
    for (i, v) in clusters.iter().enumerate() {
        let id = field(v, "id", &args.clusters, i)?;
        let c = field(v, "cluster", &args.clusters, i)?;
        if index.insert(id.to_owned(), i as u32).is_some() {
            return Err(Failure {
                code: EXIT_INPUT,
                error: anyhow::anyhow!("{}: record {}: duplicate id {id:?}", args.clusters.display(), i + 1),
            });
        }
        let next = cluster_of_label.len() as u32;
        labels.push(*cluster_of_label.entry(c.to_owned()).or_insert(next));
    }
    let truth = read_jsonl(&args.truth)?;
    let mut pairs = Vec::with_capacity(truth.len());
    for (i, v) in truth.iter().enumerate() {
        let j = v.get("jaccard").and_then(|x| x.as_f64()).unwrap_or(1.0);
        if j < args.threshold {
            continue;
        }
        let get = |key| -> Result<u32, Failure> {
            let id = field(v, key, &args.truth, i)?;
            index.get(id).copied().ok_or_else(|| Failure {
                code: EXIT_INPUT,
                error: anyhow::anyhow!(
                    "{}: record {}: id {id:?} is not in {}",
                    args.truth.display(),
                    i + 1,
                    args.clusters.display()
                ),
            })
        };
        pairs.push((get("a")?, get("b")?));
    }
    let s = neardup::score(&labels, &pairs);
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

fn run_passages(args: PassagesArgs) -> Result<(), Failure> {
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
    let inputs = neardup::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let references = if args.against.is_empty() {
        None
    } else {
        Some(neardup::expand_inputs(&args.against, opts.format).map_err(input_failure)?)
    };
    // every output is checked against the inputs and the references before
    // anything is read, and they appear together when all are written
    let mut protect = protected(&args.input.inputs, &inputs);
    protect.extend(protected(&args.against, references.as_deref().unwrap_or_default()));
    let mut outs = neardup::OutputSet::new(&protect);
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
    let total_s = start.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "documents": run.documents(),
        "bad_records": run.bad_records().len(),
        "documents_with_passages": run.documents_with_passages(),
        "passages": run.passages().len(),
        "input_bytes": run.input_bytes(),
        "text_bytes": run.text_bytes(),
        "flagged_bytes": run.flagged_bytes(),
        "flagged_fraction": if run.text_bytes() > 0 { run.flagged_bytes() as f64 / run.text_bytes() as f64 } else { 0.0 },
        "fingerprints": run.fingerprints(),
        "index_bytes_per_input_mb": if run.input_bytes() > 0 { run.fingerprints() as f64 * 12.0 / (run.input_bytes() as f64 / 1e6) } else { 0.0 },
        "min_words": finder.min_words(),
        "kgram": finder.kgram(),
        "window": finder.window(),
        "seconds": {"read_fingerprint": run.read_seconds, "match": run.match_seconds,
                    "write": t_write.elapsed().as_secs_f64(), "total": total_s},
        "mb_per_s": if total_s > 0.0 { run.input_bytes() as f64 / 1e6 / total_s } else { 0.0 },
        "threads": finder.threads(),
        "peak_rss_bytes": peak_rss(),
    });
    if let (Some(p), Some(to)) = (&args.summary_json, &summary_to) {
        let mut text = serde_json::to_string_pretty(&summary).context("encoding the summary")?;
        text.push('\n');
        write_file(to, text.as_bytes()).with_context(|| format!("writing the summary to {}", p.display()))?;
    }
    outs.commit()?;
    if !args.quiet {
        eprintln!(
            "documents        {} ({:.1} MB; {} bad records skipped)",
            run.documents(),
            run.input_bytes() as f64 / 1e6,
            run.bad_records().len()
        );
        eprintln!(
            "passages         {} in {} documents; {} bytes flagged ({:.2}% of the text)",
            run.passages().len(),
            run.documents_with_passages(),
            run.flagged_bytes(),
            summary["flagged_fraction"].as_f64().unwrap_or(0.0) * 100.0
        );
        eprintln!(
            "parameters       min words {}, fingerprints of {}-grams, window {}: {} fingerprints indexed ({:.0} KB per input MB)",
            finder.min_words(),
            finder.kgram(),
            finder.window(),
            run.fingerprints(),
            summary["index_bytes_per_input_mb"].as_f64().unwrap_or(0.0) / 1e3
        );
        eprintln!(
            "time             {:.3} s total: read+fingerprint {:.3}, match {:.3}; {:.1} MB/s on {} thread{}{}",
            total_s,
            run.read_seconds,
            run.match_seconds,
            summary["mb_per_s"].as_f64().unwrap_or(0.0),
            finder.threads(),
            if finder.threads() == 1 { "" } else { "s" },
            peak_rss().map(|r| format!(", peak memory {:.1} MB", r as f64 / 1e6)).unwrap_or_default()
        );
    }
    inputs_complete(&run.failed_inputs())
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

fn run_gen(args: GenArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let inputs = neardup::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let mut outs = neardup::OutputSet::new(&protected(&args.input.inputs, &inputs));
    let corpus_to = outs.stage(&args.output)?;
    let planted_to = stage(&mut outs, args.planted.as_deref())?;
    let (texts, bad) = neardup::read_texts(&inputs, &opts).map_err(input_failure)?;
    print_bad_records(&bad, false);
    let paras = neardup::paragraphs(texts.iter().map(String::as_str));
    drop(texts);
    let mut gen_opts = neardup::SynthOptions::default();
    gen_opts.target_bytes = args.size;
    gen_opts.dup_rate = args.dup_rate;
    gen_opts.seed = args.seed;
    let written = || -> anyhow::Result<neardup::SynthStats> {
        let mut corpus = neardup::AtomicFile::create(&corpus_to, &[])?;
        let mut planted = planted_to.as_deref().map(|p| neardup::AtomicFile::create(p, &[])).transpose()?;
        let stats = match planted.as_mut() {
            Some(p) => neardup::generate(&paras, &gen_opts, &mut corpus, p)?,
            None => neardup::generate(&paras, &gen_opts, &mut corpus, &mut std::io::sink())?,
        };
        corpus.commit()?;
        if let Some(p) = planted {
            p.commit()?;
        }
        Ok(stats)
    };
    let stats = written().with_context(|| format!("generating {}", args.output.display()))?;
    outs.commit()?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "neardup gen: {} documents ({} planted near-duplicates), {:.1} MB from {} seed paragraphs in {:.1} s ({:.0} MB/s)",
        stats.documents,
        stats.planted,
        stats.bytes as f64 / 1e6,
        paras.len(),
        secs,
        stats.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}
