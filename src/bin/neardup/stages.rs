//! `neardup sign | link | components | filter`: the deduplication stages as
//! separate commands over Parquet files, for running shards on many
//! machines (see `neardup::stages`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use neardup::stages;

use super::{
    Failure, InputArgs, Meter, ParamArgs, error_text, input_failure, inputs_complete, print_bad_records,
    protected, read_options, with_progress,
};

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    params: ParamArgs,
    /// Directory for docs-SHARD.parquet and bands-SHARD.parquet (created if missing; shards already
    /// signed there from the same input with the same parameters are kept).
    #[arg(short, long)]
    output: PathBuf,
    /// Shard number of the first input (the others follow in order): give each machine's inputs
    /// their own range, in corpus order.
    #[arg(long, default_value_t = 0)]
    first_shard: u32,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct LinkArgs {
    /// The directory `sign` wrote (every docs-*.parquet and bands-*.parquet in it).
    bands: PathBuf,
    /// Directory for edges.parquet.
    #[arg(short, long)]
    output: PathBuf,
    /// The signed shards, in shard order: doubtful pairs are then settled by exact Jaccard of the
    /// texts, as dedup does (without them, by the signature estimate).
    #[arg(long, num_args = 1..)]
    texts: Vec<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct ComponentsArgs {
    /// The directory `link` wrote (every *.parquet file in it).
    edges: PathBuf,
    /// Directory for components.parquet.
    #[arg(short, long)]
    output: PathBuf,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct FilterArgs {
    /// The shard to filter, as it was signed.
    shard: PathBuf,
    /// The directory `components` wrote.
    #[arg(long)]
    components: PathBuf,
    /// Where to write the shard's kept records (its format; compressed as the name says).
    #[arg(short, long)]
    output: PathBuf,
    /// The shard's number when signed (default: the signed shard of the same name).
    #[arg(long)]
    shard_number: Option<u32>,
    /// Print no summary.
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn sign(args: SignArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let dedup = args.params.builder(&args.input.read).build()?;
    let inputs = neardup::io::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    neardup::io::check_outputs(&[&args.output], &protected(&args.input.inputs, &inputs))?;
    let report = with_progress(&inputs, args.quiet, |progress| {
        stages::sign(&dedup, &inputs, args.first_shard, &args.output, progress)
    })?;
    print_bad_records(&report.bad, args.quiet);
    if !args.quiet {
        let docs: u64 = report.shards.iter().map(|s| s.docs).sum();
        eprintln!(
            "signed {} shards ({} reused), {docs} documents, fingerprint {} in {:.2} s",
            report.shards.len(),
            report.reused.len(),
            stages::StageParams::of(&dedup).fingerprint(),
            start.elapsed().as_secs_f64()
        );
    }
    inputs_complete(&report.failed)
}

pub(crate) fn link(args: LinkArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let mut inputs = args.texts.clone();
    inputs.push(args.bands.clone());
    neardup::io::check_outputs(&[&args.output.join("edges.parquet")], &inputs)?;
    let meter = Meter::new(args.quiet);
    let r = stages::link(&args.bands, &args.output, args.threads, &args.texts, &meter.progress())
        .with_context(|| format!("linking {}", args.bands.display()))?;
    meter.finish();
    if !args.quiet {
        eprintln!(
            "linked {} documents: {} band keys, {} candidate pairs, {} linked ({} doubtful settled), {} edges in \
             {:.2} s",
            r.documents,
            r.band_keys,
            r.candidate_pairs,
            r.linked_pairs,
            r.exact_checks,
            r.edges,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub(crate) fn components(args: ComponentsArgs) -> Result<(), Failure> {
    let start = Instant::now();
    neardup::io::check_outputs(
        &[&args.output.join("components.parquet")],
        std::slice::from_ref(&args.edges),
    )?;
    let r = stages::components(&args.edges, &args.output)
        .with_context(|| format!("joining the edges in {}", args.edges.display()))?;
    if !args.quiet {
        eprintln!(
            "{} edges: {} clusters of {} documents, {} duplicates to remove, in {:.2} s",
            r.edges,
            r.clusters,
            r.clustered,
            r.duplicates,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub(crate) fn filter(args: FilterArgs) -> Result<(), Failure> {
    let start = Instant::now();
    neardup::io::check_outputs(&[&args.output], &[args.shard.clone(), args.components.clone()])?;
    let r = stages::filter(&args.shard, args.shard_number, &args.components, &args.output).map_err(|e| {
        // the library asks for the number the shard was signed with: name the flag that gives it
        let hint = matches!(&e, neardup::Error::InvalidParameter(m) if m.contains("no signed shard"));
        let mut f =
            Failure::from(anyhow::Error::from(e).context(format!("filtering {}", args.shard.display())));
        if hint {
            f.error = anyhow::anyhow!("{} (--shard-number)", error_text(&f.error));
        }
        f
    })?;
    print_bad_records(&r.bad, args.quiet);
    if !args.quiet {
        eprintln!(
            "shard {}: {} documents, {} removed, {} kept, in {:.2} s",
            r.shard,
            r.documents,
            r.removed,
            r.documents - r.removed,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
