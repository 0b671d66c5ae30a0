//! `neardup index build | add | query | info`: the incremental index on
//! disk, so that a pipeline can check each new crawl against everything seen
//! before.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use neardup::io::AtomicFile;
use neardup::{Index, Match, Verdict};

use super::{
    Failure, InputArgs, ParamArgs, ReadArgs, input_failure, inputs_complete, print_bad_records, protected,
    read_options, stage, with_progress,
};

#[derive(Subcommand)]
pub(crate) enum IndexCommand {
    /// Build an index from corpora (records inserted in input order).
    Build(BuildArgs),
    /// Add corpora to an index; it is saved in place (atomically) unless -o is given.
    Add(AddArgs),
    /// Check records against an index without adding them: one verdict per record, as JSON lines.
    Query(QueryArgs),
    /// Print an index's parameters and size.
    Info {
        /// The index file.
        index: PathBuf,
    },
}

#[derive(Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    params: ParamArgs,
    /// Where to write the index.
    #[arg(short, long)]
    output: PathBuf,
    /// Keep 16 bits of each signature slot and no shingle sets (about half the memory; every pair
    /// verified by the estimate).
    #[arg(long)]
    compact: bool,
    /// Write one verdict per record (id, verdict, of, similarity) as JSON lines.
    #[arg(long)]
    verdicts: Option<PathBuf>,
    /// In the verdicts, list every earlier document at or above the threshold, not only the best.
    #[arg(long)]
    all: bool,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct AddArgs {
    /// The index to add to.
    index: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Write the grown index here instead of replacing INDEX.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Write one verdict per record (id, verdict, of, similarity) as JSON lines.
    #[arg(long)]
    verdicts: Option<PathBuf>,
    /// In the verdicts, list every earlier document at or above the threshold, not only the best.
    #[arg(long)]
    all: bool,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct QueryArgs {
    /// The index to check against.
    index: PathBuf,
    /// Records to check (files or directories); `-` (default) reads standard input.
    #[arg(default_value = "-")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// Where to write the verdicts; `-` (default) is standard output.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    /// List every indexed document at or above the threshold, not only the best.
    #[arg(long)]
    all: bool,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(cmd: IndexCommand) -> Result<(), Failure> {
    match cmd {
        IndexCommand::Build(a) => {
            let params = a.params.builder(&a.input.read).params()?;
            let threads = a.input.read.threads;
            let index =
                if a.compact { Index::new_compact(&params, threads) } else { Index::new(&params, threads) }?;
            grow(&index, None, &a.input, &a.output, a.verdicts.as_deref(), a.all, a.quiet)
        }
        IndexCommand::Add(a) => {
            let index = open(&a.index, a.input.read.threads)?;
            let out = a.output.as_ref().unwrap_or(&a.index);
            grow(&index, Some(&a.index), &a.input, out, a.verdicts.as_deref(), a.all, a.quiet)
        }
        IndexCommand::Query(a) => query(a),
        IndexCommand::Info { index } => {
            let index = open(&index, None)?;
            let d = index.params();
            let (p, lsh) = (&d.sketch, d.lsh);
            println!("documents     {}", index.len());
            println!("compact       {}", index.is_compact());
            println!("threshold     {}", d.threshold);
            println!("shingles      {}", p.shingle);
            println!("sketch        {} x {} (seed {})", p.kind, p.num_perm, p.seed);
            println!("bands x rows  {} x {}", lsh.bands, lsh.rows);
            println!("verify        {}", format!("{:?}", d.verify).to_lowercase());
            println!("heap          {}", mb(index.heap_bytes()));
            Ok(())
        }
    }
}

fn open(path: &Path, threads: Option<usize>) -> Result<Index, Failure> {
    Index::open_with_threads(path, threads).map_err(input_failure)
}

/// One verdict as a JSON line.
#[derive(serde::Serialize)]
struct Line<'a> {
    id: &'a str,
    /// `new`, `duplicate` or `exists`.
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    of: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    similarity: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matches: Option<Vec<MatchLine<'a>>>,
}

#[derive(serde::Serialize)]
struct MatchLine<'a> {
    id: &'a str,
    similarity: f64,
}

/// `{"id", "verdict", "of", "similarity"}`, plus `"matches"` when given.
fn verdict_line(id: &str, verdict: &Verdict, matches: Option<&[Match]>) -> String {
    let (verdict, of, similarity) = match verdict {
        Verdict::New => ("new", None, None),
        Verdict::Duplicate { of, similarity, .. } => ("duplicate", Some(of.as_str()), Some(*similarity)),
        _ => ("exists", None, None),
    };
    let matches =
        matches.map(|m| m.iter().map(|m| MatchLine { id: &m.id, similarity: m.similarity }).collect());
    let mut line = serde_json::to_string(&Line { id, verdict, of, similarity, matches })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    line.push('\n');
    line
}

/// Counts of verdicts, for the summary.
#[derive(Default)]
struct Tally {
    new: u64,
    duplicate: u64,
    exists: u64,
}

impl Tally {
    fn add(&mut self, v: &Verdict) {
        match v {
            Verdict::New => self.new += 1,
            Verdict::Duplicate { .. } => self.duplicate += 1,
            _ => self.exists += 1,
        }
    }
}

/// Insert `input` into `index` (read from `index_file`, if any), then save
/// it to `out`.
fn grow(
    index: &Index,
    index_file: Option<&Path>,
    input: &InputArgs,
    out: &Path,
    verdicts: Option<&Path>,
    all: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&input.read);
    let files = neardup::io::expand_inputs(&input.inputs, opts.format).map_err(input_failure)?;
    // the outputs are checked before anything is read (the index may
    // replace itself, the verdicts may not), and appear together
    if let Some(v) = verdicts {
        neardup::io::check_outputs(&[v], &index_file.map(Path::to_path_buf).into_iter().collect::<Vec<_>>())?;
    }
    let mut outs = neardup::io::OutputSet::new(&protected(&input.inputs, &files));
    let out_to = outs.stage(out)?;
    let verdicts_to = stage(&mut outs, verdicts)?;
    let mut sink = verdicts_to.as_deref().map(|p| AtomicFile::create(p, &[])).transpose()?;
    let mut tally = Tally::default();
    let mut write_err: Option<neardup::Error> = None;
    let before = index.len();
    let report = with_progress(&files, quiet, |progress| {
        index.insert_inputs(
            &files,
            &opts,
            input.read.strict,
            &mut |id, v| {
                tally.add(v);
                if let (Some(f), None) = (sink.as_mut(), &write_err) {
                    let matches = match v {
                        Verdict::Duplicate { matches, .. } if all => Some(&matches[..]),
                        _ => None,
                    };
                    if let Err(e) = f.write_all(verdict_line(id, v, matches).as_bytes()) {
                        write_err = Some(e);
                    }
                }
            },
            progress,
        )
    })?;
    if let Some(e) = write_err {
        return Err(anyhow::Error::from(e).context("writing verdicts").into());
    }
    let bad = &report.bad;
    print_bad_records(bad, quiet);
    if let Some(f) = sink {
        f.commit().context("writing verdicts")?;
    }
    index.save(&out_to).with_context(|| format!("saving the index to {}", out.display()))?;
    outs.commit()?;
    if !quiet {
        let secs = start.elapsed().as_secs_f64();
        let records = tally.new + tally.duplicate + tally.exists;
        eprintln!(
            "neardup: {records} records: {} new, {} near-duplicates, {} already indexed; {} bad\n\
             neardup: index {} has {} documents (was {before}); heap {}; {secs:.2} s",
            tally.new,
            tally.duplicate,
            tally.exists,
            bad.len(),
            out.display(),
            index.len(),
            mb(index.heap_bytes()),
        );
    }
    // what could be read is indexed and saved; the exit code says the rest
    // was not
    inputs_complete(&report.failed)
}

fn query(a: QueryArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let index = open(&a.index, a.read.threads)?;
    let opts = read_options(&a.read);
    let files = neardup::io::expand_inputs(&a.inputs, opts.format).map_err(input_failure)?;
    let mut protect = protected(&a.inputs, &files);
    protect.push(a.index.clone());
    neardup::io::check_outputs(&[&a.output], &protect)?;
    let mut out = AtomicFile::create(&a.output, &protect)?;
    let mut tally = Tally::default();
    let mut write_err: Option<neardup::Error> = None;
    let report = with_progress(&files, a.quiet, |progress| {
        index.query_inputs(
            &files,
            &opts,
            a.read.strict,
            &mut |id, matches| {
                let v = match matches.first() {
                    None => Verdict::New,
                    Some(m) => Verdict::Duplicate {
                        of: m.id.clone(),
                        similarity: m.similarity,
                        matches: matches.to_vec(),
                    },
                };
                tally.add(&v);
                if write_err.is_none() {
                    let line = verdict_line(id, &v, a.all.then_some(matches));
                    if let Err(e) = out.write_all(line.as_bytes()) {
                        write_err = Some(e);
                    }
                }
            },
            progress,
        )
    })?;
    if let Some(e) = write_err {
        return Err(anyhow::Error::from(e).context("writing verdicts").into());
    }
    out.commit()?;
    let bad = &report.bad;
    print_bad_records(bad, a.quiet);
    if !a.quiet {
        eprintln!(
            "neardup: {} records checked against {} documents: {} near-duplicates, {} new; {} bad; {:.2} s",
            tally.new + tally.duplicate,
            index.len(),
            tally.duplicate,
            tally.new,
            bad.len(),
            start.elapsed().as_secs_f64()
        );
    }
    inputs_complete(&report.failed)
}

fn mb(bytes: usize) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}
