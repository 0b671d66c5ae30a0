//! A crawler loop sharing one `neardup::Index` across worker threads.
//!
//! Four workers "fetch" pages from a shared frontier (here the records of a
//! JSONL file, by default `data/small.jsonl`), ask the index whether each page
//! near-duplicates one already kept, and keep only the new ones. At the end
//! the index is saved, so the next crawl starts from everything seen before.
//!
//! ```text
//! cargo run --release --example crawler [-- CORPUS.jsonl [INDEX_OUT]]
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use neardup::{DedupBuilder, Index, Verdict};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let corpus =
        args.next().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/small.jsonl").into());
    let out = args.next();

    // The frontier: (url, page text) in crawl order.
    let mut frontier = Vec::new();
    for (n, line) in std::fs::read_to_string(&corpus)?.lines().enumerate() {
        let rec: serde_json::Value = serde_json::from_str(line)?;
        let url = match &rec["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => format!("{corpus}:{}", n + 1),
            other => other.to_string(),
        };
        frontier.push((url, rec["text"].as_str().unwrap_or_default().to_owned()));
    }

    // One index for every worker: all of its methods take &self.
    let index = Arc::new(Index::new(&DedupBuilder::new().threshold(0.8).params()?, None)?);
    let next = Arc::new(AtomicUsize::new(0));
    let kept = Arc::new(Mutex::new(Vec::new()));
    let frontier = Arc::new(frontier);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (index, next, kept, frontier) =
                (Arc::clone(&index), Arc::clone(&next), Arc::clone(&kept), Arc::clone(&frontier));
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((url, page)) = frontier.get(i) else { break };
                    match index.insert(url, page) {
                        Verdict::New => kept.lock().unwrap().push(url.clone()),
                        Verdict::Duplicate { of, similarity, .. } => {
                            println!("skip {url}: near-duplicate of {of} (Jaccard {similarity:.3})")
                        }
                        Verdict::Exists => println!("skip {url}: already crawled"),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    let kept = kept.lock().unwrap();
    println!("kept {} of {} pages; the index holds {}", kept.len(), frontier.len(), index.len());
    if let Some(path) = out {
        index.save(&path)?;
        println!("saved the index to {path}");
    }
    Ok(())
}
