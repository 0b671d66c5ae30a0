//! `neardup truth`: exact ground truth pairs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use neardup::{DedupBuilder, Verify};

use super::{
    EXIT_INPUT, Failure, InputArgs, Meter, ShingleArgs, input_failure, input_size, print_bad_records,
    protected, read_options, with_progress,
};

#[derive(Args)]
pub(crate) struct TruthArgs {
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

pub(crate) fn run(args: TruthArgs) -> Result<(), Failure> {
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
    let inputs = neardup::io::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    neardup::io::check_outputs(&[&args.output], &protected(&args.input.inputs, &inputs))?;
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
    let corpus = with_progress(&inputs, false, |progress| dedup.read(&inputs, false, progress))?;
    print_bad_records(corpus.bad_records(), false);
    let sets = corpus.shingle_sets().context("shingle sets were not kept")?;
    let meter = Meter::new(false);
    let pairs = dedup
        .install_pool(|| neardup::eval::similar_pairs_with_progress(sets, args.threshold, &meter.progress()));
    meter.finish();
    let mut out = neardup::io::AtomicFile::create(&args.output, &args.input.inputs)?;
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
