use crate::*;

/// The known answers of data/small.jsonl (see data/README.md).
fn expected_small() -> Vec<(&'static str, &'static str)> {
    vec![
        ("article", "article"),
        ("article-without-repeats", "article"),
        ("p0", "p0"),
        ("p3", "p3"),
        ("p4", "p4"),
        ("p4-recased", "p4"),
        ("p5", "p5"),
        ("p5-one-word-changed", "p5"),
        ("p6", "p6"),
        ("p6-four-words-changed", "p6-four-words-changed"),
        ("p7", "p7"),
        ("p7-truncated", "p7"),
        ("empty", "empty"),
        ("blank", "blank"),
        ("__LINE15__", "__LINE15__"),
        ("42", "42"),
        ("unrelated-1", "unrelated-1"),
        ("unrelated-2", "unrelated-2"),
    ]
}

#[test]
fn small_corpus_known_answers_in_both_verify_modes() {
    let input = data("small.jsonl");
    let line15 = format!("{}:15", s(&input));
    for verify in ["estimate", "exact"] {
        let out = run(&["dedup", s(&input), "--clusters", "-", "--verify", verify, "-q"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got = clusters(&String::from_utf8(out.stdout).unwrap());
        let want: Vec<(String, String)> = expected_small()
            .into_iter()
            .map(|(a, b)| (a.replace("__LINE15__", &line15), b.replace("__LINE15__", &line15)))
            .collect();
        let got_pairs: Vec<(String, String)> = got.iter().map(|(a, b, _)| (a.clone(), b.clone())).collect();
        assert_eq!(got_pairs, want, "verify {verify}");
        for (id, rep, sim) in &got {
            if id == rep {
                assert_eq!(*sim, 1.0);
            } else {
                assert!(*sim >= 0.8 && *sim <= 1.0, "{id}: {sim}");
            }
        }
    }
}

#[test]
fn output_keeps_representatives_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let input = data("small.jsonl");
    let out_path = dir.path().join("dedup.jsonl");
    let summary = dir.path().join("summary.json");
    let out = run(&["dedup", s(&input), "--output", s(&out_path), "--summary-json", s(&summary)]);
    assert!(out.status.success());
    let original = std::fs::read_to_string(&input).unwrap();
    let kept = std::fs::read_to_string(&out_path).unwrap();
    let removed = ["article-without-repeats", "p4-recased", "p5-one-word-changed", "p7-truncated"];
    let want: String = original
        .lines()
        .filter(|l| !removed.iter().any(|r| l.starts_with(&format!("{{\"id\": \"{r}\""))))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept, want);
    assert_eq!(kept.lines().count(), 14);
    let sum: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(sum["documents"], 18);
    assert_eq!(sum["duplicates"], 4);
    assert_eq!(sum["clusters"], 4);
    assert_eq!(sum["empty_documents"], 2);
    assert!(sum["params"]["bands"].as_u64().unwrap() * sum["params"]["rows"].as_u64().unwrap() <= 128);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("4 removed, 14 kept"), "{stderr}");
    assert!(stderr.contains("bands x"), "{stderr}");
}

#[test]
fn text_files_are_one_document_each_and_output_is_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let article = std::fs::read_to_string(data("seed-article.txt")).unwrap();
    std::fs::write(docs.join("a.txt"), &article).unwrap();
    std::fs::write(docs.join("b.txt"), article.replace("Trump", "the")).unwrap();
    std::fs::write(docs.join("c.txt"), "a different text entirely").unwrap();
    let out_dir = dir.path().join("kept");
    let out = run(&["dedup", s(&docs), "--clusters", "-", "--output", s(&out_dir), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    let a = docs.join("a.txt");
    assert_eq!(got[1].1, s(&a));
    let kept: Vec<_> = walk(&out_dir);
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().any(|p| p.ends_with("a.txt")) && kept.iter().any(|p| p.ends_with("c.txt")));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn lines_format_and_char_shingles() {
    let input = b"the cat sat on the mat today\nthe cat sat on the mat today!\nsomething else\n";
    let out =
        run_stdin(&["dedup", "-", "--format", "lines", "--char-ngram", "4", "--clusters", "-", "-q"], input);
    assert!(out.status.success());
    let got = clusters(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got.iter().map(|g| g.1.as_str()).collect::<Vec<_>>(), ["-:1", "-:1", "-:3"]);
}

#[test]
fn refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::copy(data("small.jsonl"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = run(&["dedup", s(&input), "--output", s(&input)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn library_and_cli_agree() {
    let texts: Vec<String> = std::fs::read_to_string(data("small.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
        .collect();
    let dedup = neardup::DedupBuilder::new().build().unwrap();
    let lib = dedup.cluster_texts(&texts).unwrap();
    let out = run(&["dedup", s(&data("small.jsonl")), "--clusters", "-", "-q"]);
    let cli = clusters(&String::from_utf8(out.stdout).unwrap());
    let ids: Vec<&str> = cli.iter().map(|c| c.0.as_str()).collect();
    for (i, &rep) in lib.representatives().iter().enumerate() {
        assert_eq!(cli[i].1, ids[rep as usize]);
    }
}

#[test]
fn gen_is_deterministic_and_lists_its_plants() {
    let dir = tempfile::tempdir().unwrap();
    let seed = data("seed-article.txt");
    let run_gen = |name: &str| {
        let out = dir.path().join(format!("{name}.jsonl"));
        let planted = dir.path().join(format!("{name}.planted.jsonl"));
        let o =
            run(&["gen", s(&seed), "--size", "200K", "-o", s(&out), "--planted", s(&planted), "--seed", "7"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (std::fs::read(&out).unwrap(), std::fs::read_to_string(&planted).unwrap())
    };
    let (a, pa) = run_gen("a");
    let (b, pb) = run_gen("b");
    assert_eq!((&a, &pa), (&b, &pb));
    assert!(a.len() >= 200 * 1024);
    let ids: std::collections::HashSet<String> = String::from_utf8(a)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(pa.lines().count() > 10);
    for l in pa.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(ids.contains(v["id"].as_str().unwrap()) && ids.contains(v["of"].as_str().unwrap()));
    }
    let bad = run(&["gen", s(&seed), "--size", "lots", "-o", s(&dir.path().join("x.jsonl"))]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A copy of data/small.jsonl with a bad record at its end: a run that reads
/// it says so on stderr ("skipped bad record").
fn input_with_a_bad_record(dir: &std::path::Path) -> std::path::PathBuf {
    let input = dir.join("in.jsonl");
    let mut text = std::fs::read_to_string(data("small.jsonl")).unwrap();
    text.push_str("not json\n");
    std::fs::write(&input, text).unwrap();
    input
}

#[test]
fn outputs_naming_an_input_fail_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_with_a_bad_record(dir.path());
    let before = std::fs::read(&input).unwrap();
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    let sym = dir.path().join("sym.jsonl");
    std::os::unix::fs::symlink(&input, &sym).unwrap();
    let (inp, c) = (s(&input).to_owned(), dir.path().join("c.jsonl"));
    let small = data("small.jsonl");
    for target in [&input, &link, &sym] {
        let t = s(target);
        let runs: Vec<Vec<&str>> = vec![
            vec!["dedup", &inp, "--clusters", s(&c), "-o", t],
            vec!["dedup", &inp, "--clusters", t],
            vec!["dedup", &inp, "--clusters", s(&c), "--summary-json", t],
            vec!["dedup", &inp, "--clusters", s(&c), "--bad-records", t],
            vec!["dedup", &inp, "--clusters", s(&c), "-o", t, "--max-memory", "1M"],
            vec!["passages", &inp, "-o", s(&c), "--strip", t],
            vec!["passages", &inp, "-o", t],
            vec!["passages", s(&small), "--against", &inp, "-o", s(&c), "--summary-json", t],
            vec!["truth", &inp, "-o", t],
            vec!["gen", &inp, "--size", "10K", "-o", s(&c), "--planted", t],
            vec!["index", "build", &inp, "-o", s(&c), "--verdicts", t],
            vec!["index", "build", &inp, "-o", t],
        ];
        for args in runs {
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("refusing to overwrite input file") && err.contains(t), "{args:?}: {err}");
            // nothing was read and nothing was written
            assert!(!err.contains("skipped bad record"), "{args:?}: {err}");
            assert!(!c.exists(), "{args:?} wrote {}", c.display());
            assert_eq!(std::fs::read(&input).unwrap(), before, "{args:?}");
        }
    }
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (std::fs::metadata(&input).unwrap(), std::fs::metadata(&link).unwrap());
    assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "the hard link was replaced");
    assert!(std::fs::symlink_metadata(&sym).unwrap().file_type().is_symlink());
    // the index commands check against the index and the records they read
    let idx = dir.path().join("i.ndx");
    assert!(run(&["index", "build", s(&data("small.jsonl")), "-o", s(&idx), "-q"]).status.success());
    let idx_link = dir.path().join("i-link.ndx");
    std::fs::hard_link(&idx, &idx_link).unwrap();
    for args in [
        vec!["index", "query", s(&idx), &inp, "-o", s(&idx_link)],
        vec!["index", "query", s(&idx), &inp, "-o", s(&link)],
        vec!["index", "add", s(&idx), &inp, "--verdicts", s(&idx_link)],
        vec!["index", "add", s(&idx), &inp, "-o", s(&link)],
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("refusing to overwrite input file"), "{args:?}: {err}");
        assert!(!err.contains("skipped bad record"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn stage_outputs_naming_an_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = input_with_a_bad_record(dir.path());
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    let (signed, edges, comps) =
        (dir.path().join("signed"), dir.path().join("edges"), dir.path().join("comps"));
    assert!(run(&["sign", s(&input), "-o", s(&signed), "-q"]).status.success());
    assert!(run(&["link", s(&signed), "-o", s(&edges), "-q"]).status.success());
    assert!(run(&["components", s(&edges), "-o", s(&comps), "-q"]).status.success());
    let before = std::fs::read(&input).unwrap();
    for args in [
        vec!["filter", s(&input), "--components", s(&comps), "-o", s(&link)],
        vec!["filter", s(&input), "--components", s(&comps), "-o", s(&input)],
        vec!["sign", s(&input), "-o", s(&link)],
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("refusing to overwrite input file"), "{args:?}: {err}");
        assert!(!err.contains("skipped bad record"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// Files of `dir` (names), sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_full_disk_names_the_file_and_commits_no_output_of_the_run() {
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipping: no /dev/full");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let (c, o, sum, bad) =
        (out_dir.join("c.jsonl"), out_dir.join("o.jsonl"), out_dir.join("s.json"), out_dir.join("b.jsonl"));
    // an input with a bad record, so that --bad-records is not empty
    let small = input_with_a_bad_record(dir.path());
    let spill = dir.path().join("spill");
    // the corpus generator names the file it could not write
    for size in ["1K", "300K"] {
        let o = run(&[
            "gen",
            s(&data("seed-article.txt")),
            "--size",
            size,
            "-o",
            "/dev/full",
            "--planted",
            s(&c),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("/dev/full") && err.contains("No space left"), "{err}");
        // the cause is said once
        assert_eq!(err.matches("No space left").count(), 1, "{err}");
        assert_eq!(names_in(&out_dir), Vec::<String>::new(), "gen --size {size}");
    }
    // one failed output: none of the others appears, and no temporary file
    // is left behind
    let runs: Vec<Vec<&str>> = vec![
        vec!["dedup", s(&small), "--clusters", s(&c), "-o", "/dev/full"],
        vec!["dedup", s(&small), "--clusters", "/dev/full", "-o", s(&o)],
        vec![
            "dedup",
            s(&small),
            "--clusters",
            s(&c),
            "-o",
            s(&o),
            "--bad-records",
            s(&bad),
            "--summary-json",
            "/dev/full",
        ],
        vec![
            "dedup",
            s(&small),
            "--clusters",
            s(&c),
            "--bad-records",
            "/dev/full",
            "--summary-json",
            s(&sum),
        ],
        vec![
            "dedup",
            s(&small),
            "--clusters",
            s(&c),
            "-o",
            "/dev/full",
            "--max-memory",
            "1M",
            "--spill-dir",
            s(&spill),
        ],
        vec![
            "dedup",
            s(&small),
            "--clusters",
            s(&c),
            "--summary-json",
            "/dev/full",
            "--max-memory",
            "1M",
            "--spill-dir",
            s(&spill),
        ],
        vec!["passages", s(&small), "-o", s(&c), "--strip", "/dev/full"],
        vec!["passages", s(&small), "-o", "/dev/full", "--strip", s(&o)],
        vec!["passages", s(&small), "-o", s(&c), "--strip", s(&o), "--summary-json", "/dev/full"],
        vec!["index", "build", s(&small), "-o", s(&o), "--verdicts", "/dev/full"],
    ];
    for args in runs {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("/dev/full"), "{args:?}: {err}");
        assert_eq!(names_in(&out_dir), Vec::<String>::new(), "{args:?}");
    }
    // and when every output can be written, they all are
    let out = run(&["dedup", s(&small), "--clusters", s(&c), "-o", s(&o), "--summary-json", s(&sum), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(names_in(&out_dir), ["c.jsonl", "o.jsonl", "s.json"]);
}

#[test]
fn the_summary_prints_the_verify_mode_in_lower_case() {
    for verify in ["estimate", "exact"] {
        let out = run(&["dedup", s(&data("small.jsonl")), "--verify", verify]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(&format!(", verify {verify}\n")), "{err}");
    }
}

/// Every long step shows its progress on a terminal (checked in a
/// pseudo-terminal made by `script`), and nothing of it when stderr is not
/// one.
#[test]
fn long_steps_show_progress_on_a_terminal_only() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    std::fs::write(&corpus, synthetic_corpus(3000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_neardup");
    let in_pty = |args: &str| -> String {
        let o = std::process::Command::new("script")
            .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{args}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = in_pty("dedup c.jsonl --clusters cl.jsonl -o kept.jsonl");
    for step in ["candidates", "keys", "star", "write", "docs", "eta"] {
        assert!(shown.contains(step), "dedup shows no {step:?} on a terminal: {shown}");
    }
    let shown = in_pty("dedup c.jsonl --max-memory 1M --clusters cl2.jsonl");
    assert!(shown.contains("candidates") && shown.contains("eta"), "{shown}");
    let shown = in_pty("truth c.jsonl -o t.jsonl");
    assert!(shown.contains("truth") && shown.contains("eta"), "{shown}");
    let shown = in_pty("gen c.jsonl --size 2M -o g.jsonl");
    assert!(shown.contains("gen") && shown.contains("eta"), "{shown}");
    let shown = in_pty("sign c.jsonl -o signed -q");
    assert!(!shown.contains("eta"), "--quiet shows progress: {shown}");
    let shown = in_pty("sign c.jsonl -o signed2");
    assert!(shown.contains("eta"), "sign shows no progress: {shown}");
    let shown = in_pty("link signed2 -o linked --texts c.jsonl");
    assert!(shown.contains("candidates") && shown.contains("eta"), "link shows no progress: {shown}");
    // not a terminal: no bar
    let o = run(&["dedup", s(&corpus), "--clusters", s(&dir.path().join("cl3.jsonl"))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !err.contains("eta") && !err.contains('\r'), "{err}");
}
