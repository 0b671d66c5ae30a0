use crate::*;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_records_are_reported_with_file_and_line_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.jsonl");
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"id\":\"ok1\",\"text\":\"one two three four five six\"}\n");
    data.extend_from_slice(b"{\"id\":\"broken\",\"text\":\n");
    data.extend_from_slice(b"{\"id\":\"nofield\"}\n");
    data.extend_from_slice(b"{\"id\":\"utf8\",\"text\":\"bad \xff byte\"}\n");
    data.extend_from_slice(b"{\"id\":\"empty\",\"text\":\"\"}\n");
    data.extend_from_slice(b"{\"id\":\"ok2\",\"text\":\"one two three four five six\"}\n");
    std::fs::write(&p, &data).unwrap();
    let bad_path = dir.path().join("bad-records.jsonl");
    let out = run(&["dedup", s(&p), "--clusters", "-", "--bad-records", s(&bad_path)]);
    assert!(out.status.success());
    let err = stderr(&out);
    let name = s(&p);
    assert!(err.contains(&format!("{name}:2: invalid JSON")), "{err}");
    assert!(err.contains(&format!("{name}:3: missing field `text`")), "{err}");
    assert!(err.contains(&format!("{name}:4: invalid JSON")), "{err}");
    assert!(err.contains("3 bad records skipped, 1 empty"), "{err}");
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    let ids: Vec<(&str, &str)> = got.iter().map(|g| (g.0.as_str(), g.1.as_str())).collect();
    assert_eq!(ids, [("ok1", "ok1"), ("empty", "empty"), ("ok2", "ok1")]);
    let bad: Vec<serde_json::Value> = std::fs::read_to_string(&bad_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(bad.iter().map(|b| b["line"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3, 4]);

    let out = run(&["dedup", s(&p), "--strict", "--clusters", s(&dir.path().join("x.jsonl"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("{name}:2: invalid JSON")));
    assert!(!dir.path().join("x.jsonl").exists(), "no output on failure");
}

#[test]
fn empty_documents_are_never_duplicates() {
    let out = run_stdin(
        &["dedup", "-", "--clusters", "-", "-q"],
        b"{\"id\":\"a\",\"text\":\"\"}\n{\"id\":\"b\",\"text\":\"\"}\n{\"id\":\"c\",\"text\":\"!!! ...\"}\n",
    );
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    assert!(got.iter().all(|(id, c, s)| id == c && *s == 1.0), "{got:?}");
}

#[test]
fn one_enormous_line_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.jsonl");
    let words: String = (0..13_000_000u32).map(|i| format!("w{} ", i % 1_000_003)).collect();
    assert!(words.len() > 100_000_000);
    let mut data = serde_json::json!({"id": "big", "text": words}).to_string();
    data.push('\n');
    data.push_str(&serde_json::json!({"id": "small", "text": "just a few words here"}).to_string());
    std::fs::write(&p, data).unwrap();
    for mmap in [true, false] {
        let mut args = vec!["dedup", s(&p), "--clusters", "-", "-q"];
        if !mmap {
            args.push("--no-mmap");
        }
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let got = clusters(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, "big");
    }
}

#[test]
fn directory_of_mixed_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("a.jsonl"), "{\"id\":\"j1\",\"text\":\"alpha beta gamma delta epsilon\"}\n")
        .unwrap();
    std::fs::write(d.join("b.txt"), "alpha beta gamma delta epsilon").unwrap();
    std::fs::write(d.join("sub/c.bin"), [0u8, 159, 146, 150, 255]).unwrap();
    let out = run(&["dedup", s(d), "--clusters", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("c.bin:1: invalid UTF-8"), "{err}");
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].1, "j1", "the text file duplicates the JSONL record");
}

#[test]
fn unreadable_paths_are_clear_errors() {
    let out = run(&["dedup", "/nonexistent/neardup-input.jsonl", "--clusters", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/neardup-input.jsonl"), "{}", stderr(&out));
}

#[test]
fn wrong_parameters_are_usage_errors() {
    let input = data("small.jsonl");
    let cases: &[&[&str]] = &[
        &["--threshold", "0"],
        &["--threshold", "1.5"],
        &["--ngram", "0"],
        &["--bands", "20", "--rows", "7"],
        &["--num-perm", "0"],
        &["--threads", "0"],
        &["--bands", "4"],
    ];
    for extra in cases {
        let out = run(&[&["dedup", s(&input)][..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("error"), "{extra:?}");
    }
}

#[test]
fn far_banding_is_warned_about() {
    let out = run(&["dedup", s(&data("small.jsonl")), "--bands", "64", "--rows", "2", "-q"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("warning: bands x rows = 64 x 2"), "{}", stderr(&out));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A UTF-8 byte-order mark starting a file is not part of its first record:
/// plain, compressed or piped, the records are used and copied without it.
#[test]
fn byte_order_marks_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let records = "{\"id\":\"a\",\"text\":\"one two three four five six\"}\n\
                   {\"id\":\"b\",\"text\":\"seven eight nine ten eleven twelve\"}\n";
    let data = [&b"\xef\xbb\xbf"[..], records.as_bytes()].concat();
    let plain = dir.path().join("bom.jsonl");
    std::fs::write(&plain, &data).unwrap();
    let gz = dir.path().join("bom.jsonl.gz");
    std::fs::write(&gz, gzip(&data)).unwrap();
    for (p, extra) in [(&plain, None), (&plain, Some("--no-mmap")), (&gz, None)] {
        let kept = dir.path().join(format!("kept-{}.jsonl", extra.is_some() as u8));
        let _ = std::fs::remove_file(&kept);
        let mut args = vec!["dedup", s(p), "--clusters", "-", "-o", s(&kept)];
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains(" 0 bad records skipped"), "{p:?}: {}", stderr(&out));
        let ids: Vec<String> =
            clusters(&String::from_utf8(out.stdout).unwrap()).into_iter().map(|c| c.0).collect();
        assert_eq!(ids, ["a", "b"], "{p:?}");
        // the kept records are the input's bytes, without the mark
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), records, "{p:?}");
    }
    let out = run_stdin(&["dedup", "-", "--clusters", "-"], &data);
    assert!(out.status.success() && stderr(&out).contains(" 0 bad records skipped"), "{}", stderr(&out));
    assert_eq!(clusters(&String::from_utf8(out.stdout).unwrap()).len(), 2);
}

/// Python's json.dumps writes lone surrogates (`"\ud800"`): the record is
/// kept, the surrogate read as U+FFFD.
#[test]
fn lone_surrogates_do_not_reject_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("surrogates.jsonl");
    std::fs::write(
        &p,
        "{\"id\":\"a\",\"text\":\"one two three four five six \\ud800\"}\n\
         {\"id\":\"b\\udc00\",\"text\":\"one two three four five six \\ufffd\"}\n",
    )
    .unwrap();
    let out = run(&["dedup", s(&p), "--clusters", "-", "--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, "b\u{fffd}");
    assert_eq!(got[1].1, "a", "the replaced text is the same text: {got:?}");
    assert_eq!(got[1].2, 1.0);
}

/// Ids: strings as they are, numbers in decimal, booleans as `true` /
/// `false`, null or absent as FILE:LINE; objects and arrays are bad records.
#[test]
fn ids_of_other_json_types() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ids.jsonl");
    std::fs::write(
        &p,
        "{\"id\":true,\"text\":\"alpha beta\"}\n{\"id\":{\"x\":1},\"text\":\"gamma\"}\n\
         {\"id\":null,\"text\":\"delta\"}\n{\"id\":[2],\"text\":\"epsilon\"}\n{\"id\":1.5,\"text\":\"zeta\"}\n",
    )
    .unwrap();
    let out = run(&["dedup", s(&p), "--clusters", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2: field `id` is an object", s(&p))), "{err}");
    assert!(err.contains(&format!("{}:4: field `id` is an array", s(&p))), "{err}");
    let ids: Vec<String> =
        clusters(&String::from_utf8(out.stdout).unwrap()).into_iter().map(|c| c.0).collect();
    assert_eq!(ids, ["true".to_owned(), format!("{}:3", s(&p)), "1.5".to_owned()]);
}

/// A record holding its text field twice: the first value is the text, for
/// finding passages and for stripping them alike.
#[test]
fn strip_with_a_duplicated_text_field() {
    let dir = tempfile::tempdir().unwrap();
    let article = std::fs::read_to_string(data("seed-article.txt")).unwrap();
    let first = serde_json::json!({"id": "a", "text": article}).to_string();
    let copy_text = serde_json::to_string(&format!("Intro line here. {}", &article[1001..2238])).unwrap();
    let copy = format!(r#"{{"id":"b","text":{copy_text},"text":"short"}}"#);
    let input = dir.path().join("dup.jsonl");
    std::fs::write(&input, format!("{first}\n{copy}\n")).unwrap();
    let stripped = dir.path().join("out.jsonl");
    let out = run(&["passages", s(&input), "-o", "-", "--strip", s(&stripped), "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = std::fs::read_to_string(&stripped).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines[1], r#"{"id":"b","text":"Intro line here. ","text":"short"}"#);
}

/// A symbolic link loop inside a walked directory is skipped; the other
/// files are read.
#[cfg(unix)]
#[test]
fn symlink_loops_in_a_walked_directory_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/a.jsonl"), "{\"id\":\"a\",\"text\":\"alpha beta gamma\"}\n").unwrap();
    std::os::unix::fs::symlink(d, d.join("sub/to-top")).unwrap();
    std::os::unix::fs::symlink("loop", d.join("sub/loop")).unwrap();
    let out = run(&["dedup", s(d), "--clusters", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got.len(), 1, "{got:?}");
}
