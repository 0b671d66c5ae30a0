//! `neardup gen`: a synthetic corpus with planted near-duplicates.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::{
    Failure, InputArgs, Meter, input_failure, parse_size, print_bad_records, protected, read_options, stage,
};

#[derive(Args)]
pub(crate) struct GenArgs {
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
    /// How originals are made: `markov` (new text from a word-level Markov
    /// model of the seed, with site boilerplate: like a crawl at any size) or
    /// `paragraphs` (runs of seed paragraphs, which overlap more as the
    /// corpus grows: a stress test).
    #[arg(long, value_enum, default_value_t = StyleArg::Markov)]
    style: StyleArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StyleArg {
    Markov,
    Paragraphs,
}

pub(crate) fn run(args: GenArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let opts = read_options(&args.input.read);
    let inputs = neardup::io::expand_inputs(&args.input.inputs, opts.format).map_err(input_failure)?;
    let mut outs = neardup::io::OutputSet::new(&protected(&args.input.inputs, &inputs));
    let corpus_to = outs.stage(&args.output)?;
    let planted_to = stage(&mut outs, args.planted.as_deref())?;
    let (texts, bad) = neardup::io::read_texts(&inputs, &opts).map_err(input_failure)?;
    print_bad_records(&bad, false);
    let paras = neardup::eval::paragraphs(texts.iter().map(String::as_str));
    drop(texts);
    let mut gen_opts = neardup::eval::SynthOptions::default();
    gen_opts.target_bytes = args.size;
    gen_opts.dup_rate = args.dup_rate;
    gen_opts.seed = args.seed;
    gen_opts.style = match args.style {
        StyleArg::Markov => neardup::eval::Style::Markov,
        StyleArg::Paragraphs => neardup::eval::Style::Paragraphs,
    };
    let meter = Meter::new(false);
    let progress = meter.progress();
    let written = || -> anyhow::Result<neardup::eval::SynthStats> {
        let file = neardup::io::AtomicFile::create(&corpus_to, &[])?;
        let mut corpus = Counted { inner: file, written: 0, target: args.size, progress: &progress };
        let mut planted =
            planted_to.as_deref().map(|p| neardup::io::AtomicFile::create(p, &[])).transpose()?;
        let stats = match planted.as_mut() {
            Some(p) => neardup::eval::generate(&paras, &gen_opts, &mut corpus, p)?,
            None => neardup::eval::generate(&paras, &gen_opts, &mut corpus, &mut std::io::sink())?,
        };
        corpus.inner.commit()?;
        if let Some(p) = planted {
            p.commit()?;
        }
        Ok(stats)
    };
    let stats = written().with_context(|| format!("generating {}", args.output.display()))?;
    meter.finish();
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

/// A writer that reports the bytes written toward the corpus size (phase
/// `gen`).
struct Counted<'a, W> {
    inner: W,
    written: u64,
    target: u64,
    progress: &'a neardup::ProgressFn,
}

impl<W: std::io::Write> std::io::Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let before = self.written >> 20;
        self.written += n as u64;
        if self.written >> 20 != before {
            self.progress.report("gen", self.written.min(self.target), self.target, "bytes");
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
