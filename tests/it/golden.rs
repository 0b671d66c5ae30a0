//! Golden fixtures for what neardup writes to disk, beyond the index file
//! (tests/it/index.rs): the stage files of `sign`, `link` and `components`
//! (footer metadata and every row), stage files of the current format made
//! by an earlier build (still read by today's `link`), and the work
//! directory `dedup --max-memory` leaves behind for a rerun. All run on the
//! committed corpus `tests/fixtures/golden/corpus.jsonl` (made by
//! `make_corpus.py` there), on 1 and 2 threads, whose results must agree.
//! Hash values, tokens, shingles and signatures are pinned by the unit tests
//! `golden_hash_values` (src/hash.rs) and `golden_signatures`
//! (src/sketch.rs) against `hash.json` and `sketch.json` in the same
//! directory.
//!
//! A deliberate change re-blesses the fixtures with
//! `NEARDUP_BLESS=1 cargo test --release golden` (and, for a layout change,
//! a bumped format version); review the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, UNIX_EPOCH};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};

use crate::*;

const REBLESS: &str = "NEARDUP_BLESS=1 cargo test --release golden";

/// The modification time every test input gets (2023-11-14T22:13:20Z): it
/// is recorded in stage footers and names the spill work directory.
const FIXED_MTIME: Duration = Duration::from_secs(1_700_000_000);

/// Thread counts every golden run is made on: the files must not depend
/// on them.
const THREADS: [&str; 2] = ["1", "2"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
}

fn blessing() -> bool {
    std::env::var_os("NEARDUP_BLESS").is_some()
}

fn hex(h: u64) -> Value {
    Value::String(format!("{h:#018x}"))
}

fn hex_bytes(b: &[u8]) -> Value {
    Value::String(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// `v` as fixture text: objects and arrays of rows one entry a line, so
/// that a diff names the entry that changed; the rest compact.
fn pretty(v: &Value) -> String {
    fn go(v: &Value, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent + 1);
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, x)) in m.iter().enumerate() {
                    out.push_str(&format!("{pad}{}: ", Value::String(k.clone())));
                    go(x, indent + 1, out);
                    out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
            Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_array() || x.is_object()) => {
                out.push_str("[\n");
                for (i, x) in a.iter().enumerate() {
                    out.push_str(&pad);
                    go(x, indent + 1, out);
                    out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
            }
            _ => out.push_str(&v.to_string()),
        }
    }
    let mut out = String::new();
    go(v, 0, &mut out);
    out.push('\n');
    out
}

fn load(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `fresh` must equal the fixture `name` (under tests/fixtures/golden);
/// `bless` writes the fixture first. `what` names the run, `why` says what
/// a change means.
fn check(name: &str, fresh: &Value, bless: bool, what: &str, why: &str) {
    let path = fixtures().join(name);
    if bless {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, pretty(fresh)).unwrap();
    }
    let Some(want) = load(&path) else {
        panic!("{}: missing golden fixture; write it with `{REBLESS}`", path.display())
    };
    if &want != fresh {
        let (a, b) = (pretty(&want), pretty(fresh));
        let (n, (was, now)) = a
            .lines()
            .chain(std::iter::repeat(""))
            .zip(b.lines().chain(std::iter::repeat("")))
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .unwrap_or((0, ("", "")));
        let cut = |s: &str| s.chars().take(300).collect::<String>();
        panic!(
            "{} ({what}): the output drifted from the golden fixture (first difference at line {}):\n  \
             fixture: {}\n  now:     {}\n{why}\nIf the change is intended, re-bless with `{REBLESS}`, review \
             the diff and commit the fixtures.",
            path.display(),
            n + 1,
            cut(was),
            cut(now),
        );
    }
}

/// Write `bytes` as `dir/name` (line ends as committed: a checkout that
/// made them CRLF is undone) with the fixed modification time.
fn input(dir: &Path, name: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_modified(UNIX_EPOCH + FIXED_MTIME).unwrap();
}

/// The committed corpus, as `dir/corpus.jsonl`.
fn corpus(dir: &Path) {
    input(dir, "corpus.jsonl", &std::fs::read(fixtures().join("corpus.jsonl")).unwrap());
}

/// Run `neardup ARGS` in `dir` (inputs named relative to it, as the stage
/// footers and work directory names record them).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().expect("run neardup")
}

fn ok_in(dir: &Path, args: &[&str]) {
    let o = run_in(dir, args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A stage file as a fixture: its schema, its `neardup.*` footer values
/// (verbatim: the fingerprint is a hash of the parameters' text) and every
/// row (binary cells as hex of their bytes, hashes in hex).
fn stage_file(path: &Path) -> Value {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let b = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let mut footer = Map::new();
    for kv in b.metadata().file_metadata().key_value_metadata().into_iter().flatten() {
        if kv.key.starts_with("neardup.") {
            footer.insert(kv.key.clone(), kv.value.clone().map_or(Value::Null, Value::String));
        }
    }
    let schema: Vec<Value> = b
        .schema()
        .fields()
        .iter()
        .map(|f| json!([f.name(), f.data_type().to_string(), f.is_nullable()]))
        .collect();
    let mut rows = Vec::new();
    for batch in b.build().unwrap() {
        let batch = batch.unwrap();
        let fields = batch.schema();
        for r in 0..batch.num_rows() {
            let row: Vec<Value> = batch
                .columns()
                .iter()
                .zip(fields.fields())
                .map(|(c, f)| match f.data_type() {
                    DataType::UInt64 if f.name().ends_with("hash") => {
                        hex(c.as_primitive::<UInt64Type>().value(r))
                    }
                    DataType::UInt64 => json!(c.as_primitive::<UInt64Type>().value(r)),
                    DataType::UInt32 => json!(c.as_primitive::<UInt32Type>().value(r)),
                    DataType::Utf8 => json!(c.as_string::<i32>().value(r)),
                    DataType::Float64 => json!(c.as_primitive::<Float64Type>().value(r)),
                    DataType::Binary => hex_bytes(c.as_binary::<i32>().value(r)),
                    t => panic!("{}: a column of type {t}", path.display()),
                })
                .collect();
            rows.push(Value::Array(row));
        }
    }
    json!({"schema": schema, "footer": footer, "rows": rows})
}

/// The stage files made in `dir` by the runs of [`stages_in`], each with
/// its fixture.
const STAGE_FILES: [(&str, &str); 5] = [
    ("signed/docs-000000.parquet", "stages/sign-docs.json"),
    ("signed/bands-000000.parquet", "stages/sign-bands.json"),
    ("linked/edges.parquet", "stages/link.json"),
    ("linked-texts/edges.parquet", "stages/link-texts.json"),
    ("components/components.parquet", "stages/components.json"),
];

/// `sign`, `link` (without and with the texts) and `components` over the
/// corpus in `dir`.
fn stages_in(dir: &Path, threads: &str) {
    ok_in(dir, &["sign", "corpus.jsonl", "-o", "signed", "-q", "--threads", threads]);
    ok_in(dir, &["link", "signed", "-o", "linked", "-q", "--threads", threads]);
    ok_in(
        dir,
        &["link", "signed", "-o", "linked-texts", "--texts", "corpus.jsonl", "-q", "--threads", threads],
    );
    ok_in(dir, &["components", "linked", "-o", "components", "-q"]);
}

/// The stage files pinned: footers (stage, fingerprint, parameters, shard
/// list with the input's fixed size and time) and every row of the docs,
/// bands, edges and components tables, the same on 1 and 2 threads.
/// Beyond the fixtures, the files are the same bytes on 1 and 2 threads
/// (their bytes are not pinned: the Parquet writer names its own version in
/// the footer).
#[test]
fn golden_stage_files() {
    let mut first: Vec<Vec<u8>> = Vec::new();
    for (i, threads) in THREADS.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        corpus(dir.path());
        stages_in(dir.path(), threads);
        for (n, (file, fixture)) in STAGE_FILES.into_iter().enumerate() {
            let bytes = std::fs::read(dir.path().join(file)).unwrap();
            if i == 0 {
                first.push(bytes);
            } else {
                assert!(bytes == first[n], "{file}: other bytes on {threads} threads than on {}", THREADS[0]);
            }
            check(
                fixture,
                &stage_file(&dir.path().join(file)),
                blessing() && i == 0,
                &format!("{file}, --threads {threads}"),
                "The stage files are a contract between machines: a change to their layout or footer \
                 needs a new STAGE_FORMAT_VERSION (a change of rows is a change of results).",
            );
        }
    }
}

/// Stage files of the current format signed by an earlier build
/// (`tests/fixtures/golden/stages-vN/`, kept as they were written: blessing
/// adds the directory of a new format version and never rewrites the
/// signed files of one, only the edges expected from them) are read by
/// today's `link` and `components`, with the expected edges; files of other
/// versions are refused with a message naming the version.
#[test]
fn golden_stage_files_of_earlier_builds_are_still_read() {
    let version = neardup::stages::STAGE_FORMAT_VERSION;
    let current = fixtures().join(format!("stages-v{version}"));
    if blessing() && !current.exists() {
        let dir = tempfile::tempdir().unwrap();
        corpus(dir.path());
        ok_in(dir.path(), &["sign", "corpus.jsonl", "-o", "signed", "-q"]);
        std::fs::create_dir_all(&current).unwrap();
        // the edges expected from them are written below
        for f in ["docs-000000.parquet", "bands-000000.parquet"] {
            std::fs::copy(dir.path().join("signed").join(f), current.join(f)).unwrap();
        }
    }
    assert!(
        current.join("docs-000000.parquet").exists(),
        "{}: no stage files of format {version}; a new format version writes them with `{REBLESS}`",
        current.display()
    );
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("stages-v"))
        .collect();
    dirs.sort();
    for signed in dirs {
        let name = signed.file_name().unwrap().to_string_lossy().into_owned();
        let v: u32 = name["stages-v".len()..].parse().unwrap_or_else(|_| panic!("{name}: not stages-vN"));
        let dir = tempfile::tempdir().unwrap();
        corpus(dir.path());
        let linked = dir.path().join("linked");
        let o = run_in(dir.path(), &["link", s(&signed), "-o", s(&linked), "-q"]);
        let err = String::from_utf8_lossy(&o.stderr);
        if v != version {
            assert_eq!(o.status.code(), Some(2), "{name}: {err}");
            assert!(err.contains(&format!("stage format version {v}")), "{name}: {err}");
            continue;
        }
        assert!(o.status.success(), "{name}: today's link refuses files of its own format: {err}");
        let texts = dir.path().join("linked-texts");
        ok_in(dir.path(), &["link", s(&signed), "-o", s(&texts), "--texts", "corpus.jsonl", "-q"]);
        for (made, kept) in [(&linked, "edges.json"), (&texts, "edges-texts.json")] {
            let got = stage_file(&made.join("edges.parquet"));
            if blessing() {
                std::fs::write(signed.join(kept), pretty(&got)).unwrap();
            }
            let want = load(&signed.join(kept)).unwrap_or_else(|| panic!("{name}/{kept} is missing"));
            assert!(
                got == want,
                "{name}: today's link gives other edges than {kept} from the files signed then: a change \
                 of results, or of how stage files are read. If it is intended, re-bless {kept} with \
                 `{REBLESS}` (the signed files themselves are never rewritten) and review the diff."
            );
        }
        ok_in(dir.path(), &["components", "linked", "-o", "components", "-q"]);
    }
}

/// Replace every `*_time` duration (`{"secs", "nanos"}`) in `v` by a
/// placeholder: timings are the only part of a checkpoint that may differ
/// between runs.
fn without_timings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k.ends_with("_time") {
                    assert!(x["secs"].is_u64() && x["nanos"].is_u64(), "{k}: not a duration: {x}");
                    *x = json!("<duration>");
                } else {
                    without_timings(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(without_timings),
        _ => {}
    }
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap())
}

fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap())
}

/// Run `dedup --max-memory 64K` on `dir/corpus.jsonl` into a full disk,
/// which keeps the work directory; it as a fixture: its name, every file's
/// length and xxh3 (the JSON checkpoints whole, without their timings),
/// and, when `decode`, the binary files decoded.
fn work_directory(dir: &Path, threads: &str, decode: bool) -> Value {
    let o = run_in(
        dir,
        &[
            "dedup",
            "corpus.jsonl",
            "-o",
            "/dev/full",
            "--max-memory",
            "64K",
            "--spill-dir",
            "spill",
            "-q",
            "--threads",
            threads,
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the finished work is kept in"), "{err}");
    let mut work: Vec<PathBuf> =
        std::fs::read_dir(dir.join("spill")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(work.len(), 1, "{work:?}");
    let work = work.remove(0);
    let mut names: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut files = Map::new();
    let mut out = Map::new();
    out.insert("work_dir".into(), json!(work.file_name().unwrap().to_string_lossy()));
    for name in &names {
        let bytes = std::fs::read(work.join(name)).unwrap();
        if name.ends_with(".json") {
            let mut v: Value = serde_json::from_slice(&bytes).unwrap();
            without_timings(&mut v);
            files.insert(name.clone(), json!("pinned whole, under its name"));
            out.insert(name.clone(), v);
            continue;
        }
        files.insert(
            name.clone(),
            json!({"bytes": bytes.len(), "xxh3": hex(xxhash_rust::xxh3::xxh3_64(&bytes))}),
        );
        if !decode {
            continue;
        }
        let decoded = match name.as_str() {
            // per document: samples, id end, source, start, end
            "tables.bin" => bytes
                .chunks_exact(32)
                .map(|r| {
                    json!([
                        le_u32(&r[..4]),
                        le_u64(&r[4..12]),
                        le_u32(&r[12..16]),
                        le_u64(&r[16..24]),
                        le_u64(&r[24..])
                    ])
                })
                .collect(),
            "reps.bin" => bytes.chunks_exact(4).map(|r| json!(le_u32(r))).collect(),
            "sims.bin" => bytes.chunks_exact(8).map(|r| json!(f64::from_bits(le_u64(r)))).collect(),
            "ids.bin" => json!(String::from_utf8_lossy(&bytes)),
            // band key, document
            n if n.starts_with("run-") => {
                bytes.chunks_exact(12).map(|r| json!([hex(le_u64(&r[..8])), le_u32(&r[8..])])).collect()
            }
            _ => continue,
        };
        out.insert(format!("{name} decoded"), decoded);
    }
    out.insert("files".into(), Value::Object(files));
    Value::Object(out)
}

/// A corpus big enough for several sorted runs at 64K (more than 65536
/// band keys a run): 8000 documents of words from the committed corpus,
/// every fifth an edit of an earlier one. Deterministic.
fn corpus_for_runs() -> String {
    let base = std::fs::read_to_string(fixtures().join("corpus.jsonl")).unwrap();
    let mut words: Vec<String> = base
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(|v| {
            v["text"].as_str().unwrap_or("").split_whitespace().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    words.sort();
    words.dedup();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut docs: Vec<String> = Vec::new();
    let mut out = String::new();
    for i in 0..8000 {
        let text = if i % 5 == 4 {
            let mut w: Vec<String> =
                docs[(next() % i as u64) as usize].split(' ').map(str::to_owned).collect();
            let k = (next() % w.len() as u64) as usize;
            w[k] = format!("edit{i}");
            w.join(" ")
        } else {
            let len = 30 + (next() % 30) as usize;
            (0..len)
                .map(|_| words[(next() % words.len() as u64) as usize].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&json!({"id": format!("g{i}"), "text": text}).to_string());
        out.push('\n');
        docs.push(text);
    }
    out
}

/// The checkpoints of `dedup --max-memory` pinned: the work directory's
/// name, read.json and clusters.json (timings aside), tables.bin, reps.bin,
/// sims.bin, ids.bin, sigs.bin and the sorted runs, for the committed corpus
/// (one run, decoded) and for one of several runs (digests), the same on 1
/// and 2 threads.
#[test]
fn golden_spill_work_directory() {
    if !Path::new("/dev/full").exists() {
        eprintln!("golden_spill_work_directory: skipped, no /dev/full here to make the output fail");
        return;
    }
    let runs = corpus_for_runs();
    for (i, threads) in THREADS.into_iter().enumerate() {
        for (fixture, decode) in [("spill/corpus.json", true), ("spill/runs.json", false)] {
            let dir = tempfile::tempdir().unwrap();
            if decode {
                corpus(dir.path());
            } else {
                input(dir.path(), "corpus.jsonl", runs.as_bytes());
            }
            let got = work_directory(dir.path(), threads, decode);
            if !decode {
                let n = got["files"].as_object().unwrap().keys().filter(|k| k.starts_with("run-")).count();
                assert!(n >= 2, "{n} runs: the corpus should spill several");
            }
            check(
                fixture,
                &got,
                blessing() && i == 0,
                &format!("dedup --max-memory 64K, --threads {threads}"),
                "The work directory is what a rerun resumes from: a change to its files needs a new \
                 CHECKPOINT_VERSION (src/spill.rs), and its name decides whether a rerun finds it.",
            );
        }
    }
}
