//! Compressed inputs: gzip and zstd shards give the clusters of the plain
//! file; truncated or corrupt ones are reported with name and offset while
//! the other inputs are still processed.

use std::io::Write;

use crate::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn cluster_lines(args: &[&str]) -> (std::process::Output, Vec<(String, String, f64)>) {
    let out = run(args);
    let got = clusters(&String::from_utf8_lossy(&out.stdout));
    (out, got)
}

#[test]
fn gzip_and_zstd_give_the_plain_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(3000);
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, &corpus).unwrap();
    // two gzip members back to back, as concatenated shards are
    let half = corpus[..corpus.len() / 2].rfind('\n').unwrap() + 1;
    let mut gz = gzip(&corpus.as_bytes()[..half]);
    gz.extend(gzip(&corpus.as_bytes()[half..]));
    let gz_path = dir.path().join("c.jsonl.gz");
    std::fs::write(&gz_path, gz).unwrap();
    let zst_path = dir.path().join("c.jsonl.zst");
    std::fs::write(&zst_path, zstd(corpus.as_bytes())).unwrap();
    // no telling extension: the magic bytes say zstd, the content says JSONL
    let anon = dir.path().join("shard-0001");
    std::fs::write(&anon, zstd(corpus.as_bytes())).unwrap();
    let (_, want) = cluster_lines(&["dedup", s(&plain), "--clusters", "-", "-q"]);
    assert_eq!(want.len(), 3000);
    assert!(want.iter().filter(|c| c.0 != c.1).count() > 100);
    for p in [&gz_path, &zst_path, &anon] {
        for threads in ["1", "2"] {
            let (out, got) = cluster_lines(&["dedup", s(p), "--clusters", "-", "-q", "--threads", threads]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(got, want, "{}", p.display());
        }
    }
    // the deduplicated corpus keeps the compression its name asks for
    let (plain_out, zst_out) = (dir.path().join("out.jsonl"), dir.path().join("out.jsonl.zst"));
    assert!(run(&["dedup", s(&plain), "-o", s(&plain_out), "-q"]).status.success());
    assert!(run(&["dedup", s(&zst_path), "-o", s(&zst_out), "-q"]).status.success());
    let back = zstd::decode_all(&std::fs::read(&zst_out).unwrap()[..]).unwrap();
    assert_eq!(back, std::fs::read(&plain_out).unwrap());
    // standard input, gzip-compressed
    let out = run_stdin(&["dedup", "-", "--clusters", "-", "-q"], &gzip(corpus.as_bytes()));
    assert_eq!(clusters(&String::from_utf8_lossy(&out.stdout)), want);
}

#[test]
fn truncated_or_corrupt_files_are_reported_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(3000);
    let full = gzip(corpus.as_bytes());
    let trunc = dir.path().join("t.jsonl.gz");
    std::fs::write(&trunc, &full[..full.len() / 2]).unwrap();
    let mut z = zstd(corpus.as_bytes());
    let at = z.len() / 3;
    z[at] ^= 0xff;
    let corrupt = dir.path().join("c.jsonl.zst");
    std::fs::write(&corrupt, &z).unwrap();
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, "{\"id\":\"g1\",\"text\":\"a sentence that is only in the good file here\"}\n")
        .unwrap();
    let out_path = dir.path().join("clusters.jsonl");
    let out = run(&["dedup", s(&trunc), s(&corrupt), s(&good), "--clusters", s(&out_path)]);
    assert_eq!(out.status.code(), Some(2), "an input failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:", s(&trunc)))
            && err.contains("truncated or corrupt gzip data near compressed byte"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:", s(&corrupt))) && err.contains("zstd data near compressed byte"),
        "{err}"
    );
    assert!(err.contains("2 inputs could not be read to the end"), "{err}");
    // the records before each failure, and the whole good file, are clustered
    let got = clusters(&std::fs::read_to_string(&out_path).unwrap());
    assert!(got.iter().any(|c| c.0 == "g1"));
    let from_trunc = got.iter().filter(|c| c.0.starts_with('d')).count();
    assert!(from_trunc > 1000 && from_trunc < 6000, "{from_trunc}");
    // --strict stops at the first failure and writes nothing
    let strict_out = dir.path().join("strict.jsonl");
    let out = run(&["dedup", s(&good), s(&trunc), "--clusters", s(&strict_out), "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!strict_out.exists());
    // a .gz that is not gzip at all
    let fake = dir.path().join("fake.jsonl.gz");
    std::fs::write(&fake, "{\"id\":\"x\",\"text\":\"plain text\"}\n").unwrap();
    let out = run(&["dedup", s(&fake), "--clusters", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fake.jsonl.gz"));
}

/// A quoted glob pattern is expanded (sorted), and a pattern that matches
/// nothing is a usage error naming it.
#[test]
fn glob_patterns_are_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(400);
    let lines: Vec<&str> = corpus.lines().collect();
    for (i, chunk) in lines.chunks(100).enumerate() {
        let body = chunk.join("\n") + "\n";
        std::fs::write(dir.path().join(format!("shard-{i}.jsonl.gz")), gzip(body.as_bytes())).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not a shard").unwrap();
    let whole = dir.path().join("whole.jsonl");
    std::fs::write(&whole, &corpus).unwrap();
    let pattern = format!("{}/shard-*.jsonl.gz", s(dir.path()));
    let (out, got) = cluster_lines(&["dedup", &pattern, "--clusters", "-", "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, want) = cluster_lines(&["dedup", s(&whole), "--clusters", "-", "-q"]);
    assert_eq!(got, want);
    let out = run(&["dedup", &format!("{}/nothing-*.jsonl", s(dir.path())), "--clusters", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no file"));
}
