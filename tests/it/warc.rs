//! WARC and WET inputs (Common Crawl layouts, built by
//! tests/fixtures/warc/make.py from data/small.jsonl): the same clusters as
//! the plain JSONL, whether plain, gzip per record, or zstd.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/warc").join(name)
}

/// data/small.jsonl with the ids make.py gives documents that have none.
fn jsonl_with_fixture_ids(dir: &Path) -> PathBuf {
    let lines: Vec<String> = std::fs::read_to_string(data("small.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
        .map(|(n, l)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = match &v["id"] {
                serde_json::Value::Null => format!("doc-{}", n + 1),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            v["id"] = id.into();
            v.to_string()
        })
        .collect();
    let p = dir.join("small.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// Each record gzip-compressed on its own, as Common Crawl ships WARC files.
fn gzip_per_record(warc: &[u8]) -> Vec<u8> {
    let text = warc;
    let mut starts: Vec<usize> = memchr::memmem::find_iter(text, b"WARC/1.1\r\n").collect();
    starts.push(text.len());
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&text[w[0]..w[1]]).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn cluster_list(args: &[&str]) -> Vec<(String, String, f64)> {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    clusters(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn wet_and_warc_give_the_jsonl_clusters_plain_gzip_and_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let want = cluster_list(&["dedup", s(&jsonl_with_fixture_ids(dir.path())), "--clusters", "-", "-q"]);
    assert_eq!(want.iter().filter(|c| c.0 != c.1).count(), 4);
    for name in ["small.wet", "small.warc"] {
        let raw = std::fs::read(fixture(name)).unwrap();
        let gz = dir.path().join(format!("{name}.gz"));
        std::fs::write(&gz, gzip_per_record(&raw)).unwrap();
        let zst = dir.path().join(format!("{name}.zst"));
        std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
        for p in [fixture(name), gz, zst] {
            for extra in [&[][..], &["--no-mmap"][..], &["--threads", "1"][..]] {
                let mut args = vec!["dedup", s(&p), "--clusters", "-", "-q"];
                args.extend(extra);
                assert_eq!(cluster_list(&args), want, "{} {extra:?}", p.display());
            }
        }
    }
}

/// The deduplicated output of a WARC file is WARC: the kept records copied
/// byte for byte, readable again.
#[test]
fn deduplicated_warc_is_warc() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept.warc");
    assert!(run(&["dedup", s(&fixture("small.warc")), "-o", s(&out), "-q"]).status.success());
    let kept = std::fs::read(&out).unwrap();
    let raw = std::fs::read(fixture("small.warc")).unwrap();
    assert_eq!(memchr::memmem::find_iter(&kept, b"WARC-Type: response").count(), 14);
    // the kept records are byte-for-byte copies of input records
    let mut starts: Vec<usize> = memchr::memmem::find_iter(&kept, b"WARC/1.1\r\n").collect();
    starts.push(kept.len());
    for w in starts.windows(2) {
        let rec = &kept[w[0]..w[1]];
        assert!(memchr::memmem::find(&raw, rec).is_some(), "{}", String::from_utf8_lossy(&rec[..200]));
    }
    let again = cluster_list(&["dedup", s(&out), "--clusters", "-", "-q"]);
    assert_eq!(again.len(), 14);
    assert!(again.iter().all(|c| c.0 == c.1));
}

#[test]
fn truncated_and_malformed_warc_records_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(fixture("small.wet")).unwrap();
    // damage the header of the fourth record, and cut the file inside the last
    let starts: Vec<usize> = memchr::memmem::find_iter(&raw, b"WARC/1.1\r\n").collect();
    let mut bad = raw.clone();
    bad[starts[3]..starts[3] + 4].copy_from_slice(b"HTTP");
    bad.truncate(raw.len() - 40);
    let p = dir.path().join("damaged.wet");
    std::fs::write(&p, &bad).unwrap();
    let out = run(&["dedup", s(&p), "--clusters", "-"]);
    assert!(out.status.success(), "bad records are reported and skipped");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4: not a WARC record", s(&p))), "{err}");
    assert!(err.contains("truncated WARC record"), "{err}");
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    // 18 documents less the damaged one and the cut one
    assert_eq!(got.len(), 16, "{got:?}");
    let strict = run(&["dedup", s(&p), "--clusters", "-", "--strict"]);
    assert_eq!(strict.status.code(), Some(2));
}

/// `passages --strip` on WARC: records with repeats become conversion records
/// of the text left, the others are copied; nothing repeats afterwards.
#[test]
fn stripping_warc_leaves_no_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = dir.path().join("stripped.warc");
    let out = run(&["passages", s(&fixture("small.warc")), "-o", "-", "--strip", s(&stripped), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 5);
    let again = run(&["passages", s(&stripped), "-o", "-", "-q"]);
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout).lines().count(), 0);
    let kept = cluster_list(&["dedup", s(&stripped), "--clusters", "-", "-q"]);
    assert_eq!(kept.len(), 18, "every document is still there");
}

/// `small.wet` with the Content-Length of its fourth record replaced.
fn with_fourth_length(raw: &[u8], len: impl Fn(usize) -> usize) -> Vec<u8> {
    let starts: Vec<usize> = memchr::memmem::find_iter(raw, b"WARC/1.1\r\n").collect();
    let head = memchr::memmem::find(&raw[starts[3]..], b"Content-Length: ").unwrap() + starts[3] + 16;
    let end = head + memchr::memchr(b'\r', &raw[head..]).unwrap();
    let old: usize = std::str::from_utf8(&raw[head..end]).unwrap().parse().unwrap();
    [&raw[..head], len(old).to_string().as_bytes(), &raw[end..]].concat()
}

/// A record whose Content-Length runs past the records after it is a bad
/// record; reading resumes at the next record, mapped, streamed, compressed
/// or piped.
#[test]
fn a_content_length_past_the_following_records_loses_only_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(fixture("small.wet")).unwrap();
    let lengths: [&dyn Fn(usize) -> usize; 2] = [&|_| 99_999_999, &|l| l + 300];
    for (n, len) in lengths.into_iter().enumerate() {
        let bad = with_fourth_length(&raw, len);
        let p = dir.path().join(format!("long-{n}.wet"));
        std::fs::write(&p, &bad).unwrap();
        let zst = dir.path().join(format!("long-{n}.wet.zst"));
        std::fs::write(&zst, zstd::encode_all(&bad[..], 3).unwrap()).unwrap();
        let cases: [(Vec<&str>, Option<&[u8]>); 4] = [
            (vec![s(&p)], None),
            (vec![s(&p), "--no-mmap"], None),
            (vec![s(&zst)], None),
            (vec!["-", "--format", "warc"], Some(&bad[..])),
        ];
        for (args, stdin) in cases {
            let args = [&["dedup"][..], &args, &["--clusters", "-"]].concat();
            let out = match stdin {
                Some(data) => run_stdin(&args, data),
                None => run(&args),
            };
            assert!(out.status.success(), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(":4: Content-Length"), "{args:?}: {err}");
            assert!(!err.contains("truncated"), "{args:?}: {err}");
            let got = clusters(&String::from_utf8(out.stdout).unwrap());
            assert_eq!(got.len(), 17, "{args:?}: only the damaged record is lost");
        }
    }
}

/// Garbage glued to a record's `WARC/1.1` line (not at a line start) is a
/// bad record; the record after it is found.
#[test]
fn records_glued_to_garbage_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(fixture("small.wet")).unwrap();
    let starts: Vec<usize> = memchr::memmem::find_iter(&raw, b"WARC/1.1\r\n").collect();
    let damaged =
        [&raw[..starts[5]], b"garbage", &raw[starts[5]..starts[9]], b"\x00\xff junk", &raw[starts[9]..]]
            .concat();
    let p = dir.path().join("glued.wet");
    std::fs::write(&p, &damaged).unwrap();
    let gz = dir.path().join("glued.wet.gz");
    std::fs::write(&gz, gzip_per_record(&damaged)).unwrap();
    for args in [vec![s(&p)], vec![s(&p), "--no-mmap"], vec![s(&gz)]] {
        let args = [&["dedup"][..], &args, &["--clusters", "-"]].concat();
        let out = run(&args);
        assert!(out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("2 bad records skipped"), "{args:?}: {err}");
        let got = clusters(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(got.len(), 18, "{args:?}: every document is still there");
    }
}
