//! Passage token precision and recall against the naive truth, on a corpus.
//!
//!     NEARDUP_BENCH_CORPUS=dev_neardup.jsonl cargo bench --bench passage_recall [-- MIN_WORDS]
//!
//! Reads every record's text, finds passages within documents and
//! corpus-wide (`PassageFinder`, the library `neardup passages` runs), and
//! scores them against `eval::repeated_tokens` (every run of at least
//! MIN_WORDS normalized words, default 8, that occurs earlier: compared by
//! its tokens' text, no hashing). Prints one line per scope. Without the
//! variable it says so and does nothing (so `cargo bench` passes without a
//! corpus).

use neardup::eval::{repeated_tokens, score_passages};
use neardup::io::{Format, ReadOptions, expand_inputs, for_each_record};
use neardup::{PassageBuilder, Scope};

fn main() {
    let Ok(path) = std::env::var("NEARDUP_BENCH_CORPUS") else {
        eprintln!("passage_recall: skipped; set NEARDUP_BENCH_CORPUS to a JSONL corpus");
        return;
    };
    let min_words: usize =
        std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(PassageBuilder::DEFAULT_MIN_WORDS);
    let inputs = expand_inputs(&[path.clone().into()], Format::Auto).expect("inputs");
    let mut texts: Vec<String> = Vec::new();
    for_each_record(&inputs, &ReadOptions::default(), false, &mut |_, t| texts.push(t.to_owned()), &|_| {})
        .expect("read");
    for scope in [Scope::Within, Scope::Corpus] {
        let finder = PassageBuilder::new().min_words(min_words).scope(scope).build().expect("finder");
        let t = std::time::Instant::now();
        let found = finder.find_texts(&texts);
        let seconds = t.elapsed().as_secs_f64();
        let none: Option<&[String]> = None;
        let truth = repeated_tokens(&texts, min_words, scope, none);
        let s = score_passages(&texts, &found, &truth);
        println!(
            "{path} {scope:?} min_words {min_words}: {} passages in {seconds:.2} s; token precision {:.4}, recall {:.4} \
             ({} tokens in both, {} found only, {} missed)",
            found.len(),
            s.precision(),
            s.recall(),
            s.both,
            s.found_only,
            s.truth_only
        );
    }
}
