//! Readers of the evaluation files: ground-truth pairs (`neardup truth`:
//! JSON lines of `a`, `b`, `jaccard`) and clusters (`neardup dedup
//! --clusters`: JSON lines of `id`, `cluster`). Every error names the file
//! and the line.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{BadRecord, Error, Result};

/// One ground-truth pair as read: two document ids and their Jaccard.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TruthRecord {
    /// The earlier document's id.
    pub a: String,
    /// The later document's id.
    pub b: String,
    /// Their exact Jaccard similarity (1 when the line gives none).
    pub jaccard: f64,
    /// 1-based line of the record in its file.
    pub line: u64,
}

/// A clustering as read from a clusters file: document ids in file order,
/// each with a dense cluster label (labels numbered in order of first
/// appearance).
#[derive(Debug, Clone, Default)]
pub struct ClusterLabels {
    ids: Vec<String>,
    labels: Vec<u32>,
    index: HashMap<String, u32>,
    path: String,
}

impl ClusterLabels {
    /// Document ids, in file order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The cluster label of every document, in file order (what
    /// [`score`](crate::eval::score) takes).
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The document number of `id`, if the file lists it.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The truth pairs at or above `threshold` as pairs of document
    /// numbers, for [`score`](crate::eval::score); `truth_file` names the
    /// truth file in errors. An id that is not in the clusters file is a
    /// [`Error::BadRecord`].
    pub fn pairs(&self, truth: &[TruthRecord], threshold: f64, truth_file: &Path) -> Result<Vec<(u32, u32)>> {
        let mut pairs = Vec::with_capacity(truth.len());
        for t in truth.iter().filter(|t| t.jaccard >= threshold) {
            let get = |id: &str| {
                self.index_of(id)
                    .ok_or_else(|| bad(truth_file, t.line, format!("id {id:?} is not in {}", self.path)))
            };
            pairs.push((get(&t.a)?, get(&t.b)?));
        }
        Ok(pairs)
    }
}

fn bad(path: &Path, line: u64, reason: String) -> Error {
    Error::BadRecord(BadRecord { file: path.display().to_string(), line, reason })
}

/// The JSON objects of a JSON-lines file with their 1-based lines (blank
/// lines skipped).
fn read_jsonl(path: &Path) -> Result<Vec<(u64, serde_json::Value)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(path, i as u64 + 1, format!("invalid JSON: {e}")))?;
        out.push((i as u64 + 1, v));
    }
    Ok(out)
}

fn field<'a>(v: &'a serde_json::Value, key: &str, path: &Path, line: u64) -> Result<&'a str> {
    v.get(key)
        .and_then(|x| x.as_str())
        .ok_or_else(|| bad(path, line, format!("missing string field `{key}`")))
}

/// Read a clusters file (JSON lines with string fields `id` and `cluster`).
/// A line that is not JSON, lacks a field or repeats an id is a
/// [`Error::BadRecord`] naming the file and line.
pub fn read_clusters(path: &Path) -> Result<ClusterLabels> {
    let records = read_jsonl(path)?;
    let mut out = ClusterLabels { path: path.display().to_string(), ..ClusterLabels::default() };
    let mut label_of: HashMap<String, u32> = HashMap::new();
    for (line, v) in &records {
        let id = field(v, "id", path, *line)?;
        let c = field(v, "cluster", path, *line)?;
        if out.index.insert(id.to_owned(), out.ids.len() as u32).is_some() {
            return Err(bad(path, *line, format!("duplicate id {id:?}")));
        }
        out.ids.push(id.to_owned());
        let next = label_of.len() as u32;
        out.labels.push(*label_of.entry(c.to_owned()).or_insert(next));
    }
    Ok(out)
}

/// Read a ground-truth file (JSON lines with string fields `a` and `b` and
/// a number `jaccard`, 1 when missing). A line that is not JSON or lacks an
/// id is a [`Error::BadRecord`] naming the file and line.
pub fn read_truth(path: &Path) -> Result<Vec<TruthRecord>> {
    read_jsonl(path)?
        .iter()
        .map(|(line, v)| {
            Ok(TruthRecord {
                a: field(v, "a", path, *line)?.to_owned(),
                b: field(v, "b", path, *line)?.to_owned(),
                jaccard: v.get("jaccard").and_then(|x| x.as_f64()).unwrap_or(1.0),
                line: *line,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clusters_and_truth_with_lines_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let clusters = dir.path().join("c.jsonl");
        std::fs::write(&clusters, "{\"id\":\"x\",\"cluster\":\"x\"}\n\n{\"id\":\"y\",\"cluster\":\"x\"}\n{\"id\":\"z\",\"cluster\":\"z\"}\n").unwrap();
        let c = read_clusters(&clusters).unwrap();
        assert_eq!(c.labels(), &[0, 0, 1]);
        assert_eq!(c.index_of("z"), Some(2));
        let truth = dir.path().join("t.jsonl");
        std::fs::write(
            &truth,
            "{\"a\":\"x\",\"b\":\"y\",\"jaccard\":0.9}\n{\"a\":\"x\",\"b\":\"z\",\"jaccard\":0.5}\n",
        )
        .unwrap();
        let t = read_truth(&truth).unwrap();
        assert_eq!(c.pairs(&t, 0.8, &truth).unwrap(), vec![(0, 1)]);
        std::fs::write(&truth, "{\"a\":\"x\",\"b\":\"w\"}\n").unwrap();
        let t = read_truth(&truth).unwrap();
        let e = c.pairs(&t, 0.8, &truth).unwrap_err().to_string();
        assert!(e.ends_with(&format!("t.jsonl:1: id \"w\" is not in {}", clusters.display())), "{e}");
        std::fs::write(&truth, "{\"a\":\"x\"}\n").unwrap();
        let e = read_truth(&truth).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:1: missing string field `b`"), "{e}");
        std::fs::write(&clusters, "{\"id\":\"x\",\"cluster\":\"x\"}\n{\"id\":\"x\",\"cluster\":\"x\"}\n")
            .unwrap();
        let e = read_clusters(&clusters).unwrap_err().to_string();
        assert!(e.contains("c.jsonl:2: duplicate id \"x\""), "{e}");
    }
}
