//! The ceiling: the least work any near-duplicate engine must do on a JSONL
//! corpus, so that throughput figures can be given as a fraction of a limit
//! measured on the same machine. Run with
//!
//! ```text
//! NEARDUP_BENCH_CORPUS=dev_neardup.jsonl cargo bench --bench ceiling
//! ```
//!
//! Memory-map the file; in each line take the raw bytes of the `"text"`
//! value (escapes skipped, not decoded); split them on ASCII whitespace;
//! xxh3-64 each token; roll the token hashes into word 5-gram hashes; feed
//! these into one-permutation hashing with 128 slots (the top 7 bits pick the
//! slot, which keeps the minimum of the other 57; no densification). Timed on
//! 1 thread and on all of them (line chunks of about 4 MB), 5 runs each,
//! median; and the same without the hashing (map + find the text + split), so
//! each layer's share of the time shows. A checksum of the signatures, the
//! same on every thread count, keeps the work from being optimized away.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use memchr::memmem::Finder;
use memmap2::Mmap;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

const RUNS: usize = 5;
const CHUNK: usize = 4 << 20;
const GRAM: usize = 5;
const SLOTS: usize = 128;

/// The raw bytes of the string value of the first key `"text"` in a JSON
/// line, escapes skipped but not decoded; `None` if there is none.
fn text<'a>(line: &'a [u8], key: &Finder) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(i) = key.find(&line[from..]) {
        let at = from + i;
        from = at + key.needle().len();
        // inside a string every quote is escaped: after a backslash it is no key
        if at > 0 && line[at - 1] == b'\\' {
            continue;
        }
        let Some(rest) = line[from..].trim_ascii_start().strip_prefix(b":") else { continue };
        let Some(value) = rest.trim_ascii_start().strip_prefix(b"\"") else { continue };
        let mut end = 0;
        while let Some(j) = value.get(end..).and_then(|v| memchr::memchr2(b'"', b'\\', v)) {
            end += j;
            if value[end] == b'"' {
                return Some(&value[..end]);
            }
            end += 2;
        }
        return None;
    }
    None
}

fn tokens(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(u8::is_ascii_whitespace).filter(|t| !t.is_empty())
}

/// Lower `sig` to the one-permutation signature of the text's word 5-grams
/// (a text of fewer words gives one hash of them all).
fn sketch(text: &[u8], sig: &mut [u64; SLOTS]) {
    let mut oph = |h: u64| {
        let slot = (h >> 57) as usize;
        sig[slot] = sig[slot].min(h & (u64::MAX >> 7));
    };
    // cyclic polynomial over token hashes: XOR of the last 5, rotated by age
    let mut ring = [0u64; GRAM];
    let (mut h, mut n) = (0u64, 0usize);
    for token in tokens(text) {
        let t = xxh3_64(token);
        let old = &mut ring[n % GRAM];
        h = h.rotate_left(1) ^ t ^ old.rotate_left(GRAM as u32);
        *old = t;
        n += 1;
        if n >= GRAM {
            oph(h);
        }
    }
    if (1..GRAM).contains(&n) {
        oph(h);
    }
}

/// Texts found and a checksum: of the signatures if `hash`, else the token count.
fn scan(chunk: &[u8], hash: bool) -> (u64, u64) {
    let key = Finder::new(b"\"text\"");
    let (mut texts, mut sum) = (0u64, 0u64);
    let mut rest = chunk;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        let Some(t) = text(line, &key) else { continue };
        texts += 1;
        if hash {
            let mut sig = [u64::MAX; SLOTS];
            sketch(t, &mut sig);
            sum = sum.wrapping_add(sig.iter().fold(0, |a, &v| a.rotate_left(7) ^ v));
        } else {
            sum += tokens(t).count() as u64;
        }
    }
    (texts, sum)
}

/// Map the file and scan it in line chunks on the current rayon pool.
fn run(path: &Path, hash: bool) -> (u64, u64) {
    let file = File::open(path).unwrap();
    // SAFETY: the map is read-only and private to this process. If another
    // process truncates the file while we read it the OS may deliver SIGBUS,
    // the documented risk of memory-mapped input (as in src/io/input.rs).
    let map = unsafe { Mmap::map(&file) }.unwrap();
    let _ = map.advise(memmap2::Advice::Sequential);
    let mut chunks = Vec::new();
    let mut rest = &map[..];
    while !rest.is_empty() {
        let cut = match rest.get(CHUNK..) {
            Some(tail) => memchr::memchr(b'\n', tail).map_or(rest.len(), |i| CHUNK + i + 1),
            None => rest.len(),
        };
        let (chunk, tail) = rest.split_at(cut);
        chunks.push(chunk);
        rest = tail;
    }
    chunks.par_iter().map(|c| scan(c, hash)).reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)))
}

fn main() {
    // known answer: the key `a "text` is not `text`; escapes stay raw
    let line = br#"{"a \"text": "no", "text" : "one \"two\" \\", "n": 1}"#;
    assert_eq!(text(line, &Finder::new(b"\"text\"")), Some(&br#"one \"two\" \\"#[..]));
    // `cargo bench` passes --bench; a filter argument selects nothing here
    let Some(path) = std::env::var_os("NEARDUP_BENCH_CORPUS") else {
        println!("ceiling: skipped, NEARDUP_BENCH_CORPUS is not set; run it with");
        println!("  NEARDUP_BENCH_CORPUS=corpus.jsonl cargo bench --bench ceiling");
        return;
    };
    let path = Path::new(&path);
    let mb = std::fs::metadata(path).unwrap().len() as f64 / 1e6;
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if all > 1 { vec![1, all] } else { vec![1] };
    println!("corpus: {} ({mb:.1} MB); median of {RUNS} runs", path.display());
    for (name, hash) in [("map + find text + split", false), ("ceiling (+ xxh3, 5-grams, OPH 128)", true)] {
        let mut answers = Vec::new();
        for &n in &threads {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
            let mut secs = Vec::new();
            for _ in 0..RUNS {
                let t = Instant::now();
                answers.push(pool.install(|| run(path, hash)));
                secs.push(t.elapsed().as_secs_f64());
            }
            secs.sort_by(f64::total_cmp);
            let s = secs[RUNS / 2];
            println!(
                "{name:<36} {n} thread{}: {s:.3} s, {:>6.0} MB/s",
                if n == 1 { " " } else { "s" },
                mb / s
            );
        }
        // known answer: every run and thread count agrees
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "runs disagree: {answers:?}");
        let (texts, sum) = answers[0];
        let what = if hash { format!("checksum {sum:016x}") } else { format!("{sum} tokens") };
        println!("{:<36} {texts} texts, {what}", "");
    }
}
