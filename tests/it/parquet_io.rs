//! Parquet inputs and outputs: a Parquet copy of a corpus gives the JSONL's
//! clusters (any string type, many row groups, extra columns); Parquet in
//! gives Parquet out with the same schema; clusters and passages as Parquet
//! hold the JSONL's rows; bad rows and damaged files are reported.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ::parquet::file::properties::WriterProperties;
use arrow_array::{Array, ArrayRef, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray};
use arrow_schema::{DataType, Field, Schema};

use crate::*;

/// One row of a test file: id, text (None: null), a number.
type Row = (String, Option<String>, i64);

/// The rows of a JSONL corpus of `{"id", "text"}` records.
fn rows_of(jsonl: &str) -> Vec<Row> {
    jsonl
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_owned(), v["text"].as_str().map(str::to_owned), i as i64)
        })
        .collect()
}

/// Write `rows` as Parquet: columns `id`, `text` (of type `text_type`),
/// `n`; `group` rows per row group.
fn write_parquet(path: &Path, rows: &[Row], text_type: &DataType, group: usize) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", text_type.clone(), true),
        Field::new("n", DataType::Int64, false),
    ]));
    let texts = rows.iter().map(|r| r.1.as_deref());
    let text: ArrayRef = match text_type {
        DataType::LargeUtf8 => Arc::new(texts.collect::<LargeStringArray>()),
        DataType::Utf8View => Arc::new(texts.collect::<StringViewArray>()),
        _ => Arc::new(texts.collect::<StringArray>()),
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(rows.iter().map(|r| Some(r.0.as_str())).collect::<StringArray>()),
            text,
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .set_compression(::parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Every row of a Parquet file, with its schema.
fn read_parquet(path: &Path) -> (Arc<Schema>, Vec<RecordBatch>) {
    let b = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = b.schema().clone();
    (schema, b.build().unwrap().map(Result::unwrap).collect())
}

/// The string column `name` of all batches.
fn strings(batches: &[RecordBatch], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let col = b.column_by_name(name).unwrap();
        let col = arrow_array::cast::AsArray::as_string::<i32>(col);
        out.extend((0..col.len()).map(|i| col.value(i).to_owned()));
    }
    out
}

fn cluster_rows(args: &[&str]) -> Vec<(String, String, f64)> {
    let out = run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    clusters(&String::from_utf8_lossy(&out.stdout))
}

#[test]
fn parquet_copies_give_the_jsonl_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(3000);
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, &corpus).unwrap();
    let want = cluster_rows(&["dedup", s(&plain), "--clusters", "-", "-q"]);
    assert!(want.iter().filter(|c| c.0 != c.1).count() > 100);
    let rows = rows_of(&corpus);
    for (i, t) in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View].iter().enumerate() {
        // many row groups, and no telling extension for one of them
        let p = dir.path().join(if i == 2 { "shard-0002".to_owned() } else { format!("c{i}.parquet") });
        write_parquet(&p, &rows, t, 700);
        for threads in ["1", "2"] {
            let got = cluster_rows(&["dedup", s(&p), "--clusters", "-", "-q", "--threads", threads]);
            assert_eq!(got, want, "{t} on {threads} threads");
        }
        let spilled = cluster_rows(&["dedup", s(&p), "--clusters", "-", "-q", "--max-memory", "64K"]);
        assert_eq!(spilled, want, "{t} with --max-memory");
    }
    // two Parquet shards are one corpus, as two JSONL shards are
    let half = rows.len() / 2;
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    write_parquet(&a, &rows[..half], &DataType::Utf8, 1000);
    write_parquet(&b, &rows[half..], &DataType::Utf8, 1000);
    assert_eq!(cluster_rows(&["dedup", s(&a), s(&b), "--clusters", "-", "-q"]), want);
}

#[test]
fn parquet_in_gives_parquet_out_with_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(1500);
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, &corpus).unwrap();
    let pq = dir.path().join("c.parquet");
    let rows = rows_of(&corpus);
    write_parquet(&pq, &rows, &DataType::LargeUtf8, 400);
    let (jsonl_out, pq_out, spill_out) =
        (dir.path().join("o.jsonl"), dir.path().join("o.parquet"), dir.path().join("s.parquet"));
    for (input, out, extra) in
        [(&plain, &jsonl_out, None), (&pq, &pq_out, None), (&pq, &spill_out, Some("1M"))]
    {
        let mut args = vec!["dedup", s(input), "-o", s(out), "-q"];
        if let Some(m) = extra {
            args.extend(["--max-memory", m]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let kept: Vec<String> =
        rows_of(&std::fs::read_to_string(&jsonl_out).unwrap()).into_iter().map(|r| r.0).collect();
    assert!(kept.len() < rows.len() && kept.len() > rows.len() / 2);
    let (in_schema, _) = read_parquet(&pq);
    for out in [&pq_out, &spill_out] {
        let (schema, batches) = read_parquet(out);
        assert_eq!(schema.fields(), in_schema.fields());
        assert_eq!(strings(&batches, "id"), kept);
        // the other columns come along with their rows
        let n: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column_by_name("n")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        let want_n: Vec<i64> = kept.iter().map(|id| id[1..].parse().unwrap()).collect();
        assert_eq!(n, want_n);
    }
}

#[test]
fn clusters_and_passages_as_parquet_hold_the_jsonl_rows() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(800);
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, &corpus).unwrap();
    let want = cluster_rows(&["dedup", s(&plain), "--clusters", "-", "-q"]);
    let (by_ext, forced) = (dir.path().join("c.parquet"), dir.path().join("clusters.out"));
    let o = run(&["dedup", s(&plain), "--clusters", s(&by_ext), "-q"]);
    assert!(o.status.success());
    let o = run(&["dedup", s(&plain), "--clusters", s(&forced), "--output-format", "parquet", "-q"]);
    assert!(o.status.success());
    for p in [&by_ext, &forced] {
        let (_, batches) = read_parquet(p);
        let sims: Vec<f64> = batches
            .iter()
            .flat_map(|b| {
                let c = b.column_by_name("similarity").unwrap();
                arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float64Type>(c)
                    .values()
                    .to_vec()
            })
            .collect();
        let got: Vec<(String, String, f64)> = strings(&batches, "id")
            .into_iter()
            .zip(strings(&batches, "cluster"))
            .zip(sims)
            .map(|((a, b), c)| (a, b, c))
            .collect();
        assert_eq!(got, want);
    }
    // passages: the same records, and stripping a Parquet corpus keeps its
    // schema and rewrites only the text
    let pq = dir.path().join("in.parquet");
    write_parquet(&pq, &rows_of(&corpus), &DataType::Utf8, 300);
    let json_lines = run(&["passages", s(&plain), "-q"]);
    let want: Vec<serde_json::Value> = String::from_utf8_lossy(&json_lines.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!want.is_empty());
    let (pp, strip_json, strip_pq) =
        (dir.path().join("p.parquet"), dir.path().join("s.jsonl"), dir.path().join("s.parquet"));
    assert!(run(&["passages", s(&pq), "-o", s(&pp), "--strip", s(&strip_pq), "-q"]).status.success());
    assert!(
        run(&["passages", s(&plain), "-o", "/dev/null", "--strip", s(&strip_json), "-q"]).status.success()
    );
    let (_, batches) = read_parquet(&pp);
    assert_eq!(
        strings(&batches, "doc"),
        want.iter().map(|v| v["doc"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    );
    assert_eq!(
        strings(&batches, "text"),
        want.iter().map(|v| v["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    );
    let (schema, batches) = read_parquet(&strip_pq);
    assert_eq!(schema.fields().len(), 3);
    let stripped: Vec<Option<String>> =
        rows_of(&std::fs::read_to_string(&strip_json).unwrap()).into_iter().map(|r| r.1).collect();
    assert_eq!(strings(&batches, "text").into_iter().map(Some).collect::<Vec<_>>(), stripped);
}

#[test]
fn bad_rows_and_damaged_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(300);
    let mut rows = rows_of(&corpus);
    rows[41].1 = None;
    let pq = dir.path().join("c.parquet");
    write_parquet(&pq, &rows, &DataType::Utf8, 100);
    let o = run(&["dedup", s(&pq), "--clusters", "-"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("c.parquet:42: field `text` is null"), "{err}");
    assert_eq!(clusters(&String::from_utf8_lossy(&o.stdout)).len(), 299);
    // --strict stops at it
    let o = run(&["dedup", s(&pq), "--clusters", "-", "-q", "--strict"]);
    assert!(!o.status.success() && o.stdout.is_empty());
    // no such column: the file is named, the columns listed; other inputs
    // are still read and the exit code says an input failed
    let other = dir.path().join("ok.jsonl");
    std::fs::write(&other, &corpus).unwrap();
    let o = run(&["dedup", s(&pq), s(&other), "--text-field", "body", "--clusters", "-"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no column `body` (columns: id, text, n)"), "{err}");
    // the library's reason names no command-line flag
    assert!(!err.contains("--text-field"), "{err}");
    assert_eq!(o.status.code(), Some(2));
    // a truncated file: reported by name, the other input still read
    let bytes = std::fs::read(&pq).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&["dedup", s(&cut), s(&other), "--clusters", "-"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cut.parquet") && err.contains("not a readable Parquet file"), "{err}");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(clusters(&String::from_utf8_lossy(&o.stdout)).len(), 300);
    // a corrupt page inside: the row group is reported, the others are read
    let mut bad = bytes.clone();
    let mid = bad.len() / 3;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, &bad).unwrap();
    let o = run(&["dedup", s(&corrupt), "--clusters", "-"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("corrupt.parquet"), "{err}");
    let read = clusters(&String::from_utf8_lossy(&o.stdout)).len();
    assert!(read > 0 && read < 300, "{read} rows read");
    // a compressed Parquet file is refused with a reason
    let gz = dir.path().join("c.parquet.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, &bytes).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let o = run(&["dedup", s(&gz), "-q"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("Parquet compresses its own pages"));
    assert!(!o.status.success());
    // Parquet and JSONL cannot share one output file
    let o = run(&["dedup", s(&pq), s(&other), "-o", s(&dir.path().join("mixed.jsonl")), "-q"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("mix of Parquet and other inputs"));
    assert!(!dir.path().join("mixed.jsonl").exists());
}

#[test]
fn a_damaged_input_writes_no_rows_and_the_others_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = synthetic_corpus(600);
    let rows = rows_of(&corpus);
    let good = dir.path().join("good.parquet");
    write_parquet(&good, &rows, &DataType::Utf8, 200);
    // no text column: the same rows with the text under another name
    let nocol = dir.path().join("nocol.parquet");
    {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("body", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(rows.iter().map(|r| Some(format!("x{}", r.0))).collect::<StringArray>()),
                Arc::new(rows.iter().map(|r| r.1.as_deref()).collect::<StringArray>()),
            ],
        )
        .unwrap();
        let mut w = ArrowWriter::try_new(File::create(&nocol).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    // a truncated footer
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 20]).unwrap();
    // what the good input alone gives
    let alone = |cmd: &str, out: &Path, extra: &[&str]| {
        let mut args = vec![cmd, s(&good), if cmd == "dedup" { "-o" } else { "--strip" }, s(out), "-q"];
        if cmd == "passages" {
            args.extend(["-o", "/dev/null"]);
        }
        args.extend(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        read_parquet(out)
    };
    let spill = dir.path().join("spill");
    for (cmd, extra) in [
        ("dedup", vec![]),
        ("dedup", vec!["--max-memory", "1M", "--spill-dir", s(&spill)]),
        ("passages", vec![]),
    ] {
        let want = alone(cmd, &dir.path().join("want.parquet"), &extra);
        assert!(!want.1.is_empty());
        for damaged in [&nocol, &cut] {
            // damaged first: the output's schema is the first readable input's
            let out = dir.path().join("out.parquet");
            let mut args = vec![cmd, s(damaged), s(&good)];
            if cmd == "dedup" {
                args.extend(["-o", s(&out)]);
            } else {
                args.extend(["--strip", s(&out), "-o", "/dev/null"]);
            }
            args.extend(&extra);
            let o = run(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {extra:?} {}: {err}", damaged.display());
            let name = damaged.file_name().unwrap().to_str().unwrap();
            assert!(
                err.contains(&format!("could not be read to the end (see the bad records): {}", s(damaged))),
                "{err}"
            );
            assert!(err.contains(name), "{err}");
            let (schema, batches) = read_parquet(&out);
            assert_eq!(schema.fields(), want.0.fields(), "{cmd} {extra:?} {name}");
            assert_eq!(strings(&batches, "id"), strings(&want.1, "id"), "{cmd} {extra:?} {name}");
            assert_eq!(strings(&batches, "text"), strings(&want.1, "text"), "{cmd} {extra:?} {name}");
            std::fs::remove_file(&out).unwrap();
        }
    }
    // nothing readable at all: no schema to write, a usage error
    let out = dir.path().join("none.parquet");
    let o = run(&["dedup", s(&cut), s(&nocol), "-o", s(&out), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists());
}
