//! The stage commands (sign, link, components, filter) over shards signed
//! separately, as machines would: the kept records are those of `dedup` over
//! the same shards; mismatched parameters and foreign shards are refused;
//! a rerun reuses the shards already signed.

use std::path::{Path, PathBuf};

use crate::*;

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Three shards of one corpus: plain, zstd, plain.
fn shards(dir: &Path, n: usize) -> Vec<PathBuf> {
    let corpus = synthetic_corpus(n);
    let lines: Vec<&str> = corpus.lines().collect();
    let third = lines.len() / 3;
    let parts = [&lines[..third], &lines[third..2 * third], &lines[2 * third..]];
    let names = ["a.jsonl", "b.jsonl.zst", "c.jsonl"];
    names
        .iter()
        .zip(parts)
        .map(|(name, part)| {
            let p = dir.join(name);
            let text = part.join("\n") + "\n";
            let bytes = if name.ends_with(".zst") {
                zstd::encode_all(text.as_bytes(), 3).unwrap()
            } else {
                text.into_bytes()
            };
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

fn read_plain(p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    if p.to_string_lossy().ends_with(".zst") { zstd::decode_all(&bytes[..]).unwrap() } else { bytes }
}

/// Run the four stages over `shards` (signed on two "machines") with
/// `extra` parameters; the kept records of every shard, concatenated.
fn staged(dir: &Path, shards: &[PathBuf], extra: &[&str], texts: bool) -> Vec<u8> {
    let (bands, edges, comps) = (dir.join("bands"), dir.join("edges"), dir.join("comps"));
    let mut first = vec!["sign", s(&shards[0]), s(&shards[1]), "-o", s(&bands), "-q"];
    first.extend(extra);
    ok(&first);
    let mut second = vec!["sign", s(&shards[2]), "-o", s(&bands), "--first-shard", "2", "-q"];
    second.extend(extra);
    ok(&second);
    let mut link = vec!["link", s(&bands), "-o", s(&edges), "-q"];
    if texts {
        link.push("--texts");
        link.extend(shards.iter().map(|p| s(p)));
    }
    ok(&link);
    ok(&["components", s(&edges), "-o", s(&comps), "-q"]);
    let mut kept = Vec::new();
    for (i, shard) in shards.iter().enumerate() {
        let name = shard.file_name().unwrap().to_string_lossy();
        let out = dir.join(format!("kept-{name}"));
        ok(&["filter", s(shard), "--components", s(&comps), "-o", s(&out), "-q"]);
        // and by number, to the same bytes
        let again = dir.join(format!("again-{name}"));
        ok(&[
            "filter",
            s(shard),
            "--components",
            s(&comps),
            "-o",
            s(&again),
            "--shard-number",
            &i.to_string(),
            "-q",
        ]);
        assert_eq!(read_plain(&out), read_plain(&again));
        kept.extend(read_plain(&out));
    }
    for d in [bands, edges, comps] {
        std::fs::remove_dir_all(d).unwrap();
    }
    kept
}

#[test]
fn stages_keep_what_dedup_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let shards = shards(dir.path(), 2400);
    for (extra, texts) in
        [(&[][..], true), (&["--verify", "exact"][..], false), (&["--threshold", "0.6"][..], true)]
    {
        let want = dir.path().join("dedup.jsonl");
        let mut args = vec!["dedup"];
        args.extend(shards.iter().map(|p| s(p)));
        args.extend(["-o", s(&want), "-q"]);
        args.extend(extra);
        ok(&args);
        let want = std::fs::read(&want).unwrap();
        let got = staged(dir.path(), &shards, extra, texts);
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{extra:?}");
        assert!(want.iter().filter(|&&b| b == b'\n').count() < 2300);
    }
}

#[test]
fn stages_refuse_mismatches_and_reuse_signed_shards() {
    let dir = tempfile::tempdir().unwrap();
    let shards = shards(dir.path(), 600);
    let bands = dir.path().join("bands");
    let err = ok(&["sign", s(&shards[0]), s(&shards[1]), "-o", s(&bands)]);
    assert!(err.contains("signed 2 shards (0 reused)"), "{err}");
    // a rerun keeps what is there
    let err = ok(&["sign", s(&shards[0]), s(&shards[1]), "-o", s(&bands)]);
    assert!(err.contains("signed 2 shards (2 reused)"), "{err}");
    // other parameters in the same directory: link refuses
    ok(&["sign", s(&shards[2]), "-o", s(&bands), "--first-shard", "2", "--threshold", "0.7", "-q"]);
    let o = run(&["link", s(&bands), "-o", s(&dir.path().join("edges"))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("parameter fingerprints differ") && err.contains("threshold 0.7"), "{err}");
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("edges").join("edges.parquet").exists());
    // signed again with the right parameters, the shard is replaced
    let err = ok(&["sign", s(&shards[2]), "-o", s(&bands), "--first-shard", "2"]);
    assert!(err.contains("(0 reused)"), "{err}");
    let (edges, comps) = (dir.path().join("edges"), dir.path().join("comps"));
    ok(&["link", s(&bands), "-o", s(&edges), "-q"]);
    // a stage given the wrong directory says so
    let o = run(&["components", s(&bands), "-o", s(&comps)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("where a `link` file was expected"));
    ok(&["components", s(&edges), "-o", s(&comps), "-q"]);
    // a shard that was not signed, or has changed, is refused
    let other = dir.path().join("other.jsonl");
    std::fs::write(&other, &read_plain(&shards[0])[..2000]).unwrap();
    let out = dir.path().join("out.jsonl");
    for args in [
        vec!["filter", s(&other), "--components", s(&comps), "-o", s(&out)],
        vec!["filter", s(&other), "--components", s(&comps), "-o", s(&out), "--shard-number", "0"],
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--shard-number") || err.contains("not the"), "{err}");
        assert!(!out.exists());
    }
    // a shard with docs but no band keys would lose its duplicates: refused
    let b1 = bands.join("bands-000001.parquet");
    let saved = std::fs::read(&b1).unwrap();
    std::fs::remove_file(&b1).unwrap();
    let o = run(&["link", s(&bands), "-o", s(&edges)]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("shards 1 have a docs file or a bands file but not both")
    );
    std::fs::write(&b1, saved).unwrap();
    // a truncated shard is signed (what could be read) but never reused
    let cut = dir.path().join("cut.jsonl.zst");
    let whole = std::fs::read(&shards[1]).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let cut_dir = dir.path().join("cut-bands");
    for _ in 0..2 {
        let o = run(&["sign", s(&cut), "-o", s(&cut_dir)]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("(0 reused)"));
    }
    // link with texts that are not the signed shards
    let o =
        run(&["link", s(&bands), "-o", s(&edges), "--texts", s(&shards[0]), s(&shards[2]), s(&shards[1])]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the"), "{}", String::from_utf8_lossy(&o.stderr));
}
