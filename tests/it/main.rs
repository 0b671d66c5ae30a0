//! Integration tests: the built binary on fixtures, bad inputs, and oracle
//! comparisons (mmap vs stream, 1 vs N threads, estimate vs exact).

mod bad_input;
mod cli;
mod clusters;
mod compressed;
mod explain;
mod golden;
mod index;
mod many_files;
mod oracle;
mod params;
mod parquet_io;
mod passages;
mod real_corpus;
mod report;
mod scripts;
mod spill;
mod stages;
mod warc;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The built `neardup` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neardup"))
}

/// Run `neardup ARGS` and return its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run neardup")
}

/// Run with `input` on standard input.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn neardup");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait neardup");
    writer.join().unwrap();
    out
}

/// A file of the shipped data/ folder.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Parse clusters JSONL into (id, cluster, similarity).
pub fn clusters(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["cluster"].as_str().unwrap().to_owned(),
                v["similarity"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A deterministic corpus of `n` documents drawn from the seed article's
/// words, with every fifth document a light edit of an earlier one.
pub fn synthetic_corpus(n: usize) -> String {
    let seed = std::fs::read_to_string(data("seed-article.txt")).unwrap();
    let words: Vec<&str> = seed.split_whitespace().collect();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut docs: Vec<String> = Vec::with_capacity(n);
    let mut out = String::new();
    for i in 0..n {
        let text = if i % 5 == 4 {
            let base = &docs[(next() % i as u64) as usize];
            let mut w: Vec<String> = base.split(' ').map(str::to_owned).collect();
            let k = (next() % w.len() as u64) as usize;
            w[k] = format!("edit{i}");
            w.join(" ")
        } else {
            let len = 40 + (next() % 200) as usize;
            (0..len).map(|_| words[(next() % words.len() as u64) as usize]).collect::<Vec<_>>().join(" ")
        };
        out.push_str(&serde_json::json!({"id": format!("d{i}"), "text": text}).to_string());
        out.push('\n');
        docs.push(text);
    }
    out
}
