//! A crawl stored one page per file: tens of thousands of inputs are read
//! without holding a memory map or a descriptor for each.

use crate::*;

/// `n` text files of one short page each in `dir/pages`, every tenth a copy
/// of the one before it.
fn pages(dir: &Path, n: usize) -> PathBuf {
    let pages = dir.join("pages");
    std::fs::create_dir(&pages).unwrap();
    for i in 0..n {
        let k = if i % 10 == 9 { i - 1 } else { i };
        let text = format!("page {k} of the crawl says {} and then something else about {k}\n", k * 7919);
        std::fs::write(pages.join(format!("{i:06}.txt")), text).unwrap();
    }
    pages
}

/// More files than the kernel's default limit on maps per process (65,530):
/// each was mapped and held until the end of the run.
#[test]
fn a_directory_of_more_files_than_maps_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let n = 66_000;
    let pages = pages(dir.path(), n);
    let out = run(&["dedup", s(&pages), "--clusters", "-", "-q", "--threshold", "0.9"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = clusters(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(c.len(), n);
    assert_eq!(c.iter().filter(|c| c.0 != c.1).count(), n / 10);
}

/// Under a low limit on open files, bounded-memory runs re-read records
/// from a few descriptors at a time (each input's was held to the end).
#[cfg(unix)]
#[test]
fn bounded_memory_holds_few_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let pages = pages(dir.path(), 600);
    let jsonl = dir.path().join("jsonl");
    std::fs::create_dir(&jsonl).unwrap();
    // line-based inputs, so that -o writes one file of kept records
    for e in std::fs::read_dir(&pages).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        std::fs::write(
            jsonl.join(format!("{name}.jsonl")),
            format!("{}\n", serde_json::json!({"id": name, "text": text})),
        )
        .unwrap();
    }
    let (want, got) = (dir.path().join("want.jsonl"), dir.path().join("got.jsonl"));
    let out = run(&["dedup", s(&jsonl), "-o", s(&want), "-q", "--threshold", "0.9"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let spill = dir.path().join("spill");
    let script = format!(
        "ulimit -n 64 && exec \"$0\" dedup {} -o {} -q --threshold 0.9 --max-memory 1M --spill-dir {}",
        s(&jsonl),
        s(&got),
        s(&spill)
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_neardup")])
        .output()
        .expect("run sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let kept = std::fs::read(&got).unwrap();
    assert_eq!(kept, std::fs::read(&want).unwrap());
    assert_eq!(String::from_utf8_lossy(&kept).lines().count(), 540);
}
