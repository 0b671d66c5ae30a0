//! Shared by the fuzz targets: write the input where the readers will find
//! it, read it through the public API both ways (memory map and stream), and
//! check what must hold whatever the bytes are.

use std::path::PathBuf;
use std::sync::OnceLock;

use neardup::io::ReadOptions;
use neardup::{Dedup, DedupBuilder};

/// A file in /dev/shm (or the temp dir) private to this fuzzing process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("neardup-fuzz-{}-{name}", std::process::id()))
}

/// One deduplicator per read mode, built once (a thread pool each).
fn dedup(mmap: bool) -> &'static Dedup {
    static MAPPED: OnceLock<Dedup> = OnceLock::new();
    static STREAMED: OnceLock<Dedup> = OnceLock::new();
    let cell = if mmap { &MAPPED } else { &STREAMED };
    cell.get_or_init(|| {
        let mut opts = ReadOptions::default();
        opts.mmap = mmap;
        DedupBuilder::new().threads(1).read_options(opts).build().unwrap()
    })
}

/// Read `bytes` as the file `name` (its extension picks format and
/// compression): never a panic; mmap and streamed reads agree.
pub fn read_both_ways(name: &str, bytes: &[u8]) {
    let path = scratch(name);
    std::fs::write(&path, bytes).unwrap();
    let mut results = Vec::new();
    for mmap in [true, false] {
        let dedup = dedup(mmap);
        let inputs = neardup::io::expand_inputs(&[path.clone()], neardup::io::Format::Auto).unwrap();
        match dedup.read(&inputs, true, &|_| {}) {
            Ok(corpus) => {
                let clustering = dedup.cluster(&corpus);
                let ids: Vec<String> = (0..corpus.len()).map(|i| corpus.id(i).to_owned()).collect();
                results.push(Some((ids, clustering.representatives().to_vec(), corpus.bad_records().len())));
            }
            Err(_) => results.push(None),
        }
    }
    assert_eq!(results[0], results[1], "mmap and stream disagree on {name}");
    let _ = std::fs::remove_file(&path);
}

/// Read `bytes` as the file `name` and write its kept records beside it:
/// never a panic (an error is fine).
#[allow(dead_code)]
pub fn write_kept(name: &str, bytes: &[u8]) {
    let path = scratch(name);
    let out = scratch(&format!("out-{name}"));
    std::fs::write(&path, bytes).unwrap();
    let dedup = dedup(true);
    let inputs = neardup::io::expand_inputs(&[path.clone()], neardup::io::Format::Auto).unwrap();
    if let Ok(corpus) = dedup.read(&inputs, true, &|_| {}) {
        let clustering = dedup.cluster(&corpus);
        let _ = corpus.write_deduplicated(&clustering, &out);
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&out);
}
