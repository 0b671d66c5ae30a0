//! Index latency percentiles, throughput and memory: the figures criterion
//! does not give (it reports means). Run with
//!
//! ```text
//! NEARDUP_DEV_CORPUS=dev_neardup.jsonl NEARDUP_BENCH_INDEX_DOCS=1000000 \
//!     cargo bench --bench index_latency
//! ```
//!
//! For each of the normal and the compact index: build it with N pages of
//! about 5 KB (see `common::Pages`), then on one thread time 20,000 inserts of
//! fresh pages and 20,000 queries of indexed pages, one call at a time
//! (p50 / p99 / mean); then insert 2 x 10,000 fresh pages from two threads
//! at once (pages per second); save and open it (seconds, file size); and
//! report heap and RSS bytes per document.

use std::time::Instant;

use neardup::{DedupBuilder, Index, Verdict};

mod common;

const CALLS: u64 = 20_000;
const CHUNK: u64 = 10_000;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn percentiles(mut ns: Vec<u64>) -> String {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1e3;
    format!("p50 {:>7.1} µs   p99 {:>7.1} µs   mean {:>7.1} µs", at(0.5), at(0.99), mean)
}

fn run(pages: &common::Pages, n: u64, compact: bool) {
    let params = DedupBuilder::new().params().unwrap();
    let rss0 = rss();
    let index =
        if compact { Index::new_compact(&params, Some(2)) } else { Index::new(&params, Some(2)) }.unwrap();
    let t = Instant::now();
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        let batch: Vec<(String, String)> = (start..end).map(|i| (format!("p{i}"), pages.page(i))).collect();
        index.insert_batch(&batch);
        start = end;
    }
    let build = t.elapsed().as_secs_f64();
    let rss1 = rss();
    let kind = if compact { "compact" } else { "normal" };
    println!("{kind} index, {n} pages indexed in {build:.1} s (2 threads, insert_batch)");
    println!(
        "  memory per document: heap {:.0} B, RSS {:.0} B",
        index.heap_bytes() as f64 / n as f64,
        rss1.saturating_sub(rss0) as f64 / n as f64
    );
    // known answer: an indexed page finds itself
    assert_eq!(index.query(&pages.page(0))[0].id, "p0");

    let fresh: Vec<String> = (0..CALLS).map(|i| pages.page(n + i)).collect();
    let mut ins = Vec::with_capacity(CALLS as usize);
    let mut dups = 0;
    for (i, p) in fresh.iter().enumerate() {
        let id = format!("new{i}");
        let t = Instant::now();
        let v = index.insert(&id, p);
        ins.push(t.elapsed().as_nanos() as u64);
        dups += usize::from(matches!(v, Verdict::Duplicate { .. }));
    }
    println!("  insert, 1 thread:  {}   ({dups} of {CALLS} near-duplicates)", percentiles(ins));
    let probes: Vec<String> = (0..CALLS).map(|i| pages.page((i * 7919) % n)).collect();
    let mut qs = Vec::with_capacity(CALLS as usize);
    for p in &probes {
        let t = Instant::now();
        std::hint::black_box(index.query(p));
        qs.push(t.elapsed().as_nanos() as u64);
    }
    println!("  query, 1 thread:   {}", percentiles(qs));

    let dir = std::env::temp_dir().join(format!("neardup-bench-{}.ndx", std::process::id()));
    let t = Instant::now();
    index.save(&dir).unwrap();
    let save = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&dir).map_or(0, |m| m.len());
    let t = Instant::now();
    let opened = Index::open(&dir).unwrap();
    let open = t.elapsed().as_secs_f64();
    assert_eq!(opened.len(), index.len());
    drop(opened);
    let _ = std::fs::remove_file(&dir);
    println!("  save {save:.2} s, open {open:.2} s, file {:.0} MB", size as f64 / 1e6);

    let per = CALLS / 2;
    let fresh: Vec<String> = (0..2 * per).map(|i| pages.page(n + CALLS + i)).collect();
    let bytes: usize = fresh.iter().map(String::len).sum();
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..2 {
            let (index, fresh) = (&index, &fresh);
            s.spawn(move || {
                let mine = (w * per as usize)..((w + 1) * per as usize);
                for (i, page) in mine.clone().zip(&fresh[mine]) {
                    index.insert(&format!("par{i}"), page);
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  insert, 2 threads: {:.0} pages/s ({:.1} MB/s)",
        2.0 * per as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter argument selects nothing here
    let n: u64 =
        std::env::var("NEARDUP_BENCH_INDEX_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let pages = common::Pages::new();
    println!("pages: about 5 KB each, from {}", pages.source);
    // NEARDUP_BENCH_INDEX_MODE=normal|compact runs one (RSS per document is
    // only meaningful for the first index a process builds)
    let mode = std::env::var("NEARDUP_BENCH_INDEX_MODE").unwrap_or_default();
    for compact in [false, true] {
        if mode.is_empty() || mode == if compact { "compact" } else { "normal" } {
            run(&pages, n, compact);
        }
    }
}
