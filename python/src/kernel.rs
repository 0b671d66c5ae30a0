//! The core's batch steps (`neardup::kernel`) on Arrow batches, for
//! `neardup.spark`: each method takes a record batch (any object with the
//! Arrow PyCapsule interface), works with the GIL released, and returns an
//! [`PyBatch`].

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::{ArrayRef, BinaryArray, Float64Array, Int8Array, Int32Array, Int64Array, RecordBatch};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use neardup::kernel::{self, BucketWalk, Judgement, Kernel};

use crate::arrow::{PyBatch, binaries, column, import_batches, ints, strings};
use crate::{builder, to_py};

/// One record batch from `obj` (a stream of several is joined).
fn one_batch(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    let (schema, batches) = import_batches(obj)?;
    if batches.len() == 1 {
        return Ok(batches.into_iter().next().expect("one"));
    }
    arrow_select::concat::concat_batches(&schema, &batches)
        .map_err(|e| PyValueError::new_err(format!("Arrow data: {e}")))
}

fn i64s(v: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

/// The signature blobs and samples of columns `sig` and `samples`.
fn sig_columns<'a>(b: &'a RecordBatch, sig: &str, samples: &str) -> PyResult<(Vec<&'a [u8]>, Vec<u32>)> {
    let blobs = binaries(column(b, sig)?, sig)?
        .into_iter()
        .map(|x| x.ok_or_else(|| PyValueError::new_err(format!("column {sig:?} holds a null"))))
        .collect::<PyResult<_>>()?;
    let samples = ints(column(b, samples)?, samples)?.into_iter().map(|v| v.max(0) as u32).collect();
    Ok((blobs, samples))
}

/// Candidate pairs with both signatures: columns `a`, `b`, `sig_a`,
/// `samples_a`, `sig_b`, `samples_b`.
struct Pairs<'a> {
    a_ids: Vec<i64>,
    b_ids: Vec<i64>,
    sa: Vec<&'a [u8]>,
    na: Vec<u32>,
    sb: Vec<&'a [u8]>,
    nb: Vec<u32>,
}

impl<'a> Pairs<'a> {
    fn of(b: &'a RecordBatch) -> PyResult<Pairs<'a>> {
        let (a_ids, b_ids) = (ints(column(b, "a")?, "a")?, ints(column(b, "b")?, "b")?);
        let (sa, na) = sig_columns(b, "sig_a", "samples_a")?;
        let (sb, nb) = sig_columns(b, "sig_b", "samples_b")?;
        Ok(Pairs { a_ids, b_ids, sa, na, sb, nb })
    }
}

/// The deduplication steps for one set of parameters (the same as
/// `neardup.dedup` and the command line take).
#[pyclass(module = "neardup._neardup", name = "Kernel", frozen)]
pub(crate) struct PyKernel {
    inner: Arc<Kernel>,
}

#[pymethods]
impl PyKernel {
    #[new]
    #[pyo3(signature = (threshold=0.8, ngram=5, num_perm=128, *, char_ngram=None, seed=0, sketch="oph",
                        verify="estimate", bands=None, rows=None, threads=None))]
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
        threads: Option<usize>,
    ) -> PyResult<PyKernel> {
        // the kernel runs single steps; neardup.spark makes stars of its own
        let d = builder(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows, threads)?
            .cluster(neardup::ClusterMode::Components)
            .build()
            .map_err(to_py)?;
        Ok(PyKernel { inner: Arc::new(Kernel::new(d)) })
    }

    /// The parameters' fingerprint (as the stage files record it).
    #[getter]
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    /// The parameters as JSON (as the stage files record them).
    #[getter]
    fn params_json(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.stage_params()).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Bands per signature.
    #[getter]
    fn bands(&self) -> usize {
        self.inner.bands()
    }

    /// True when every candidate is verified from the texts.
    #[getter]
    fn exact(&self) -> bool {
        self.inner.exact()
    }

    /// Buckets up to this size give all their pairs; larger ones are walked.
    #[getter]
    fn all_pairs_max(&self) -> usize {
        kernel::ALL_PAIRS_MAX
    }

    /// Sign column `text` of `batch`: `samples` (int32; -1 for a null text,
    /// a bad record), `signature` (binary) and `bands` (list of int64, one
    /// key per band; empty for a document without shingles), in row order.
    fn sign(&self, py: Python<'_>, batch: &Bound<'_, PyAny>, text: &str) -> PyResult<PyBatch> {
        let b = one_batch(batch)?;
        let texts = strings(column(&b, text)?, text)?;
        let k = &self.inner;
        let signed = py.detach(|| k.sign(&texts));
        let nb = k.bands();
        let samples: Vec<i32> = texts
            .iter()
            .zip(&signed.samples)
            .map(|(t, &s)| if t.is_none() { -1 } else { s as i32 })
            .collect();
        let blob = k.blob_len();
        let sigs = BinaryArray::from_iter_values(signed.blobs.chunks(blob));
        let mut bands =
            ListBuilder::with_capacity(Int64Builder::with_capacity(texts.len() * nb), texts.len());
        for (d, &s) in samples.iter().enumerate() {
            if s > 0 {
                for &key in &signed.band_keys[d * nb..(d + 1) * nb] {
                    bands.values().append_value(key as i64);
                }
            }
            bands.append(true);
        }
        PyBatch::new(vec![
            ("samples", Arc::new(Int32Array::from(samples))),
            ("signature", Arc::new(sigs)),
            ("bands", Arc::new(bands.finish())),
        ])
    }

    /// Judge candidate pairs from columns `a`, `b`, `sig_a`, `samples_a`,
    /// `sig_b`, `samples_b`: `a`, `b` and `verdict` (int8: 0 not linked, 1
    /// doubtful, settle from the texts, 2 linked).
    fn judge(&self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<PyBatch> {
        let b = one_batch(batch)?;
        let Pairs { a_ids, b_ids, sa, na, sb, nb } = Pairs::of(&b)?;
        let k = &self.inner;
        let verdicts = py
            .detach(|| {
                (0..a_ids.len())
                    .map(|i| {
                        Ok(match k.judge(sa[i], na[i], sb[i], nb[i])? {
                            Judgement::Sure => 2,
                            Judgement::Doubtful => 1,
                            _ => 0,
                        })
                    })
                    .collect::<neardup::Result<Vec<i8>>>()
            })
            .map_err(to_py)?;
        PyBatch::new(vec![
            ("a", i64s(a_ids)),
            ("b", i64s(b_ids)),
            ("verdict", Arc::new(Int8Array::from(verdicts))),
        ])
    }

    /// Exact Jaccard of the texts in columns `text_a` and `text_b`: `a`,
    /// `b`, `similarity` (float64) and `linked` (int8: 1 at or above the
    /// threshold).
    fn jaccard(&self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<PyBatch> {
        let b = one_batch(batch)?;
        let (a_ids, b_ids) = (ints(column(&b, "a")?, "a")?, ints(column(&b, "b")?, "b")?);
        let (ta, tb) = (strings(column(&b, "text_a")?, "text_a")?, strings(column(&b, "text_b")?, "text_b")?);
        let k = &self.inner;
        let pairs: Vec<(&str, &str)> =
            ta.iter().zip(&tb).map(|(x, y)| (x.unwrap_or(""), y.unwrap_or(""))).collect();
        let sims = py.detach(|| k.jaccard_many(&pairs));
        let linked: Vec<i8> = sims.iter().map(|&s| i8::from(k.reaches(s))).collect();
        PyBatch::new(vec![
            ("a", i64s(a_ids)),
            ("b", i64s(b_ids)),
            ("similarity", Arc::new(Float64Array::from(sims))),
            ("linked", Arc::new(Int8Array::from(linked))),
        ])
    }

    /// The signature estimate of each pair (columns as for `judge`): `a`,
    /// `b`, `similarity`.
    fn estimate(&self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<PyBatch> {
        let b = one_batch(batch)?;
        let Pairs { a_ids, b_ids, sa, na, sb, nb } = Pairs::of(&b)?;
        let k = &self.inner;
        let sims = py
            .detach(|| {
                (0..a_ids.len())
                    .map(|i| k.estimate(sa[i], na[i], sb[i], nb[i]))
                    .collect::<neardup::Result<Vec<f64>>>()
            })
            .map_err(to_py)?;
        PyBatch::new(vec![
            ("a", i64s(a_ids)),
            ("b", i64s(b_ids)),
            ("similarity", Arc::new(Float64Array::from(sims))),
        ])
    }

    /// A walk over buckets streamed in (band_id, band_hash, doc_id) order.
    fn bucket_walker(&self) -> PyBucketWalker {
        PyBucketWalker { kernel: Arc::clone(&self.inner), key: None, walk: BucketWalk::default() }
    }
}

/// Candidate pairs of buckets whose members come sorted by bucket, then id,
/// in batches with columns `band_id`, `band_hash`, `doc_id`, `signature`,
/// `samples`; a bucket may span batches. `push` returns the pairs settled so
/// far (`a`, `b`), `finish` those of the last bucket.
#[pyclass(module = "neardup._neardup", name = "BucketWalker")]
pub(crate) struct PyBucketWalker {
    kernel: Arc<Kernel>,
    key: Option<(i64, i64)>,
    walk: BucketWalk,
}

#[pymethods]
impl PyBucketWalker {
    fn push(&mut self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<PyBatch> {
        let b = one_batch(batch)?;
        let (band, hash) =
            (ints(column(&b, "band_id")?, "band_id")?, ints(column(&b, "band_hash")?, "band_hash")?);
        let docs = ints(column(&b, "doc_id")?, "doc_id")?;
        let (sigs, samples) = sig_columns(&b, "signature", "samples")?;
        let (k, key, walk) = (&self.kernel, &mut self.key, &mut self.walk);
        let pairs = py.detach(|| -> PyResult<Vec<(u64, u64)>> {
            let mut pairs = Vec::new();
            for i in 0..docs.len() {
                let this = (band[i], hash[i]);
                match *key {
                    Some(prev) if prev == this => {}
                    Some(prev) if prev > this => {
                        return Err(PyValueError::new_err("bucket members are not sorted by bucket"));
                    }
                    _ => {
                        walk.finish(&mut pairs);
                        *key = Some(this);
                    }
                }
                walk.push(k, docs[i] as u64, sigs[i], samples[i], &mut pairs).map_err(to_py)?;
            }
            Ok(pairs)
        })?;
        pairs_batch(pairs)
    }

    fn finish(&mut self) -> PyResult<PyBatch> {
        let mut pairs = Vec::new();
        self.walk.finish(&mut pairs);
        self.key = None;
        pairs_batch(pairs)
    }
}

fn pairs_batch(pairs: Vec<(u64, u64)>) -> PyResult<PyBatch> {
    let (a, b): (Vec<i64>, Vec<i64>) = pairs.into_iter().map(|(a, b)| (a as i64, b as i64)).unzip();
    PyBatch::new(vec![("a", i64s(a)), ("b", i64s(b))])
}

/// Connected components of the edges in columns `a` and `b` of `data` (a
/// table or stream): `doc_id` and `cluster_id` (the component's smallest
/// id) for every document in a cluster of two or more, ids ascending.
#[pyfunction]
pub(crate) fn components(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyBatch> {
    let (_, batches) = import_batches(data)?;
    let mut edges = Vec::new();
    for b in &batches {
        let (a, c) = (ints(column(b, "a")?, "a")?, ints(column(b, "b")?, "b")?);
        edges.extend(a.into_iter().zip(c).map(|(x, y)| (x as u64, y as u64)));
    }
    let (ids, reps) = py.detach(|| kernel::components(&edges)).map_err(to_py)?;
    PyBatch::new(vec![
        ("doc_id", i64s(ids.into_iter().map(|v| v as i64).collect())),
        ("cluster_id", i64s(reps.into_iter().map(|v| v as i64).collect())),
    ])
}
