//! Python bindings of neardup: `Index`, `dedup` and `passages`.
//!
//! A thin layer: arguments are checked and converted here, the work is the
//! core crate's (which knows nothing of Python), and every call that scans
//! text runs with the interpreter detached (the GIL released), so other
//! Python threads run meanwhile. Errors become `ValueError` (bad arguments,
//! an id inserted twice) or `OSError` (files, damaged index files).

mod arrow;
mod kernel;

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use neardup::sketch::{ShingleKind, SketchKind};
use neardup::{DedupBuilder, PassageBuilder, Scope, Verdict, Verify};

/// A core error as the Python exception it deserves.
fn to_py(e: neardup::Error) -> PyErr {
    match e {
        neardup::Error::Io { .. }
        | neardup::Error::Corrupt { .. }
        | neardup::Error::Busy { .. }
        | neardup::Error::WouldOverwriteInput(_) => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// The near-duplicate parameters shared by `Index` and `dedup`.
#[allow(clippy::too_many_arguments)]
fn builder(
    threshold: f64,
    ngram: u32,
    num_perm: u32,
    char_ngram: Option<u32>,
    seed: u64,
    sketch: &str,
    verify: &str,
    bands: Option<u32>,
    rows: Option<u32>,
    threads: Option<usize>,
) -> PyResult<DedupBuilder> {
    let mut b = DedupBuilder::new()
        .threshold(threshold)
        .shingle(match char_ngram {
            Some(n) => ShingleKind::Char(n),
            None => ShingleKind::Word(ngram),
        })
        .num_perm(num_perm)
        .seed(seed)
        .sketch(match sketch {
            "oph" => SketchKind::Oph,
            "minhash" => SketchKind::MinHash,
            other => {
                return Err(PyValueError::new_err(format!(
                    "sketch must be 'oph' or 'minhash', got {other:?}"
                )));
            }
        })
        .verify(match verify {
            "estimate" => Verify::Estimate,
            "exact" => Verify::Exact,
            other => {
                return Err(PyValueError::new_err(format!(
                    "verify must be 'estimate' or 'exact', got {other:?}"
                )));
            }
        });
    match (bands, rows) {
        (Some(bands), Some(rows)) => b = b.banding(bands, rows),
        (None, None) => {}
        _ => return Err(PyValueError::new_err("bands and rows go together")),
    }
    if let Some(t) = threads {
        b = b.threads(t);
    }
    Ok(b)
}

/// An incremental near-duplicate index: insert pages one at a time (from
/// many threads if you like) and learn whether each near-duplicates an
/// earlier one.
///
/// Same normalization, shingles, sketch, LSH and verification as
/// `neardup.dedup` and the `neardup` command line.
#[pyclass(module = "neardup._neardup", name = "Index", frozen)]
struct PyIndex {
    inner: neardup::Index,
}

#[pymethods]
impl PyIndex {
    #[new]
    #[pyo3(signature = (threshold=0.8, ngram=5, num_perm=128, *, char_ngram=None, seed=0, sketch="oph",
                        verify="estimate", bands=None, rows=None, compact=false, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        threshold: f64,
        ngram: u32,
        num_perm: u32,
        char_ngram: Option<u32>,
        seed: u64,
        sketch: &str,
        verify: &str,
        bands: Option<u32>,
        rows: Option<u32>,
        compact: bool,
        threads: Option<usize>,
    ) -> PyResult<PyIndex> {
        let params =
            builder(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows, threads)?
                .params()
                .map_err(to_py)?;
        let inner = if compact {
            neardup::Index::new_compact(&params, threads)
        } else {
            neardup::Index::new(&params, threads)
        }
        .map_err(to_py)?;
        Ok(PyIndex { inner })
    }

    /// Add a page. Returns None when it is new, or (earlier_id, similarity)
    /// for the most similar earlier page at or above the threshold. Raises
    /// ValueError when `id` is already indexed (nothing is added).
    fn insert(&self, py: Python<'_>, id: &str, text: &str) -> PyResult<Option<(String, f64)>> {
        let verdict = py.detach(|| self.inner.insert(id, text));
        verdict_to_py(id, verdict)
    }

    /// Add many (id, text) pages: sketched in parallel, added in order.
    /// Returns what `insert` would have returned for each; an id already
    /// indexed raises ValueError after the pages before it were added.
    fn insert_many(
        &self,
        py: Python<'_>,
        pages: Vec<(String, String)>,
    ) -> PyResult<Vec<Option<(String, f64)>>> {
        let verdicts = py.detach(|| self.inner.insert_batch(&pages));
        pages.iter().zip(verdicts).map(|((id, _), v)| verdict_to_py(id, v)).collect()
    }

    /// For benchmarks: insert (id, text) pages one call at a time, as
    /// `insert` does, and return the nanoseconds each call took inside Rust
    /// (the Python call overhead is the difference to timing `insert`).
    fn _timed_insert_many(&self, py: Python<'_>, pages: Vec<(String, String)>) -> Vec<u64> {
        py.detach(|| {
            pages
                .iter()
                .map(|(id, text)| {
                    let t = std::time::Instant::now();
                    std::hint::black_box(self.inner.insert(id, text));
                    t.elapsed().as_nanos() as u64
                })
                .collect()
        })
    }

    /// Every indexed page at or above the threshold to `text`, as
    /// (id, similarity), best first. Adds nothing.
    fn query(&self, py: Python<'_>, text: &str) -> Vec<(String, f64)> {
        py.detach(|| self.inner.query(text)).into_iter().map(|m| (m.id, m.similarity)).collect()
    }

    fn __contains__(&self, id: &str) -> bool {
        self.inner.contains(id)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "neardup.Index(threshold={}, len={}, compact={})",
            self.inner.params().threshold,
            self.inner.len(),
            if self.inner.is_compact() { "True" } else { "False" }
        )
    }

    /// Write the index to `path` (atomically: a crash leaves the old file).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(to_py)
    }

    /// Open an index written by `save`. Raises OSError for a missing,
    /// truncated, corrupted or newer-format file.
    #[staticmethod]
    #[pyo3(signature = (path, *, threads=None))]
    fn load(py: Python<'_>, path: PathBuf, threads: Option<usize>) -> PyResult<PyIndex> {
        let inner = py.detach(|| neardup::Index::open_with_threads(&path, threads)).map_err(to_py)?;
        Ok(PyIndex { inner })
    }

    /// The Jaccard threshold.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.params().threshold
    }

    /// True for a compact index.
    #[getter]
    fn compact(&self) -> bool {
        self.inner.is_compact()
    }

    /// Bytes of heap held by the index's tables.
    #[getter]
    fn heap_bytes(&self) -> usize {
        self.inner.heap_bytes()
    }
}

fn verdict_to_py(id: &str, v: Verdict) -> PyResult<Option<(String, f64)>> {
    match v {
        Verdict::New => Ok(None),
        Verdict::Duplicate { of, similarity, .. } => Ok(Some((of, similarity))),
        _ => Err(PyValueError::new_err(format!("id {id:?} is already indexed"))),
    }
}

/// `b` with the cluster mode and keep policy named in Python.
fn shaped(b: DedupBuilder, cluster: &str, keep: &str) -> PyResult<DedupBuilder> {
    let mode = match cluster {
        "star" => neardup::ClusterMode::Star,
        "components" => neardup::ClusterMode::Components,
        other => {
            return Err(PyValueError::new_err(format!(
                "cluster must be 'star' or 'components', got {other:?}"
            )));
        }
    };
    let keep: neardup::Keep = keep.parse().map_err(to_py)?;
    Ok(b.cluster(mode).keep(keep))
}

/// Cluster `texts`: one label per text, the position of its cluster's
/// representative (the earliest text of the cluster), so `labels[i] == i`
/// marks the texts to keep.
#[pyfunction]
#[pyo3(signature = (texts, threshold=0.8, ngram=5, num_perm=128, *, char_ngram=None, seed=0, sketch="oph",
                    verify="estimate", bands=None, rows=None, threads=None, cluster="star", keep="first"))]
#[allow(clippy::too_many_arguments)]
fn dedup(
    py: Python<'_>,
    texts: Vec<String>,
    threshold: f64,
    ngram: u32,
    num_perm: u32,
    char_ngram: Option<u32>,
    seed: u64,
    sketch: &str,
    verify: &str,
    bands: Option<u32>,
    rows: Option<u32>,
    threads: Option<usize>,
    cluster: &str,
    keep: &str,
) -> PyResult<Vec<usize>> {
    let b = builder(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows, threads)?;
    let d = shaped(b, cluster, keep)?.build().map_err(to_py)?;
    let clustering = py.detach(|| d.cluster_texts(&texts)).map_err(to_py)?;
    Ok(clustering.representatives().iter().map(|&r| r as usize).collect())
}

/// `dedup` over column `column` of Arrow data (see `neardup.dedup`): a
/// batch of `cluster` (the row of each row's representative) and
/// `similarity` (null for a null text, which is a bad record and its own
/// cluster), and the number of null texts.
#[pyfunction]
#[pyo3(signature = (data, column, threshold=0.8, ngram=5, num_perm=128, *, char_ngram=None, seed=0,
                    sketch="oph", verify="estimate", bands=None, rows=None, threads=None, cluster="star",
                    keep="first"))]
#[allow(clippy::too_many_arguments)]
fn _dedup_arrow(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    column: &str,
    threshold: f64,
    ngram: u32,
    num_perm: u32,
    char_ngram: Option<u32>,
    seed: u64,
    sketch: &str,
    verify: &str,
    bands: Option<u32>,
    rows: Option<u32>,
    threads: Option<usize>,
    cluster: &str,
    keep: &str,
) -> PyResult<(arrow::PyBatch, usize)> {
    let b = builder(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows, threads)?;
    let d = shaped(b, cluster, keep)?.build().map_err(to_py)?;
    let (_, batches) = arrow::import_batches(data)?;
    let mut texts: Vec<Option<&str>> = Vec::new();
    for b in &batches {
        texts.extend(arrow::strings(arrow::column(b, column)?, column)?);
    }
    let bad = texts.iter().filter(|t| t.is_none()).count();
    let plain: Vec<&str> = texts.iter().map(|t| t.unwrap_or("")).collect();
    let clustering = py.detach(|| d.cluster_texts(&plain)).map_err(to_py)?;
    let reps: Vec<i64> = clustering.representatives().iter().map(|&r| i64::from(r)).collect();
    let sims: Float64Array =
        clustering.similarities().iter().zip(&texts).map(|(&s, t)| t.map(|_| s)).collect();
    let columns: Vec<(&str, ArrayRef)> =
        vec![("cluster", Arc::new(Int64Array::from(reps))), ("similarity", Arc::new(sims))];
    Ok((arrow::PyBatch::new(columns)?, bad))
}

/// `passages` over column `column` of Arrow data (see `neardup.passages`):
/// a batch of `doc`, `start`, `end`, `words`, `source_doc`, `source_start`,
/// `source_end` (character offsets), and the number of null texts (read as
/// empty).
#[pyfunction]
#[pyo3(signature = (data, column, *, against=None, against_column=None, min_words=8, within=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn _passages_arrow(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    column: &str,
    against: Option<&Bound<'_, PyAny>>,
    against_column: Option<&str>,
    min_words: usize,
    within: bool,
    threads: Option<usize>,
) -> PyResult<(arrow::PyBatch, usize)> {
    if within && against.is_some() {
        return Err(PyValueError::new_err("within and against exclude each other"));
    }
    let mut b =
        PassageBuilder::new().min_words(min_words).scope(if within { Scope::Within } else { Scope::Corpus });
    if let Some(t) = threads {
        b = b.threads(t);
    }
    let finder = b.build().map_err(to_py)?;
    let read = |obj: &Bound<'_, PyAny>, col: &str| -> PyResult<Vec<arrow_array::RecordBatch>> {
        Ok(arrow::import_batches(obj)?.1).and_then(|bs| {
            for b in &bs {
                arrow::column(b, col)?;
            }
            Ok(bs)
        })
    };
    let batches = read(data, column)?;
    let ref_col = against_column.unwrap_or(column);
    let ref_batches = match against {
        Some(obj) => Some(read(obj, ref_col)?),
        None => None,
    };
    let mut texts: Vec<&str> = Vec::new();
    let mut bad = 0;
    for b in &batches {
        for t in arrow::strings(arrow::column(b, column)?, column)? {
            bad += usize::from(t.is_none());
            texts.push(t.unwrap_or(""));
        }
    }
    let mut refs: Vec<&str> = Vec::new();
    for b in ref_batches.iter().flatten() {
        for t in arrow::strings(arrow::column(b, ref_col)?, ref_col)? {
            bad += usize::from(t.is_none());
            refs.push(t.unwrap_or(""));
        }
    }
    let found = py.detach(|| match ref_batches {
        Some(_) => finder.find_against(&texts, &refs),
        None => finder.find_texts(&texts),
    });
    let sources: &[&str] = if against.is_some() { &refs } else { &texts };
    let (tx, sx): (Vec<CharOffsets>, Vec<CharOffsets>) = (
        texts.iter().map(|t| CharOffsets::new(t)).collect(),
        sources.iter().map(|t| CharOffsets::new(t)).collect(),
    );
    let mut cols: [Vec<i64>; 7] = Default::default();
    for p in &found {
        let (t, s) = (&tx[p.doc as usize], &sx[p.source_doc as usize]);
        for (c, v) in cols.iter_mut().zip([
            p.doc as usize,
            t.at(p.start),
            t.at(p.end),
            p.words,
            p.source_doc as usize,
            s.at(p.source_start),
            s.at(p.source_end),
        ]) {
            c.push(v as i64);
        }
    }
    let names = ["doc", "start", "end", "words", "source_doc", "source_start", "source_end"];
    let columns: Vec<(&str, ArrayRef)> =
        names.into_iter().zip(cols).map(|(n, c)| (n, Arc::new(Int64Array::from(c)) as ArrayRef)).collect();
    Ok((arrow::PyBatch::new(columns)?, bad))
}

/// Byte offset -> character offset, for one text (free for ASCII text).
struct CharOffsets<'a> {
    text: &'a str,
    ascii: bool,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> CharOffsets<'a> {
        CharOffsets { text, ascii: text.is_ascii() }
    }

    fn at(&self, byte: usize) -> usize {
        if self.ascii { byte } else { self.text[..byte].chars().count() }
    }
}

/// Repeated passages of `texts`: each a dict with `doc`, `start`, `end`
/// (character offsets of the repeat), `words`, and `source_doc`,
/// `source_start`, `source_end` (its earlier occurrence; with `against`,
/// `source_doc` indexes `against`).
#[pyfunction]
#[pyo3(signature = (texts, *, against=None, min_words=8, within=false, threads=None))]
fn passages(
    py: Python<'_>,
    texts: Vec<String>,
    against: Option<Vec<String>>,
    min_words: usize,
    within: bool,
    threads: Option<usize>,
) -> PyResult<Vec<Py<pyo3::types::PyDict>>> {
    if within && against.is_some() {
        return Err(PyValueError::new_err("within and against exclude each other"));
    }
    let mut b =
        PassageBuilder::new().min_words(min_words).scope(if within { Scope::Within } else { Scope::Corpus });
    if let Some(t) = threads {
        b = b.threads(t);
    }
    let finder = b.build().map_err(to_py)?;
    let found = py.detach(|| match &against {
        Some(refs) => finder.find_against(&texts, refs),
        None => finder.find_texts(&texts),
    });
    let sources: &[String] = against.as_deref().unwrap_or(&texts);
    let texts: Vec<CharOffsets> = texts.iter().map(|t| CharOffsets::new(t)).collect();
    let sources: Vec<CharOffsets> = sources.iter().map(|t| CharOffsets::new(t)).collect();
    found
        .iter()
        .map(|p| {
            let (text, source) = (&texts[p.doc as usize], &sources[p.source_doc as usize]);
            let d = pyo3::types::PyDict::new(py);
            d.set_item("doc", p.doc)?;
            d.set_item("start", text.at(p.start))?;
            d.set_item("end", text.at(p.end))?;
            d.set_item("words", p.words)?;
            d.set_item("source_doc", p.source_doc)?;
            d.set_item("source_start", source.at(p.source_start))?;
            d.set_item("source_end", source.at(p.source_end))?;
            Ok(d.unbind())
        })
        .collect()
}

/// The compiled core of the `neardup` package.
#[pymodule]
fn _neardup(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIndex>()?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_function(wrap_pyfunction!(passages, m)?)?;
    m.add_function(wrap_pyfunction!(_dedup_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(_passages_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(kernel::components, m)?)?;
    m.add_class::<kernel::PyKernel>()?;
    m.add_class::<kernel::PyBucketWalker>()?;
    m.add_class::<arrow::PyBatch>()?;
    m.add("INDEX_FORMAT_VERSION", neardup::Index::FORMAT_VERSION)?;
    Ok(())
}
