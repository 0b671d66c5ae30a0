//! The deduplication stages as separate steps with file contracts, so that
//! many machines (Spark, Ray, a Slurm array) can run them over shards:
//!
//! 1. [`sign`]: each input shard -> `docs-SHARD.parquet` (`doc_id`, `id`,
//!    `samples`, `signature`, `set`) and `bands-SHARD.parquet` (`band_id`,
//!    `band_hash`, `doc_id`);
//! 2. [`link`]: band files -> `edges.parquet` (`doc_id`, `root_id`): each
//!    bucket's members are paired and verified as `dedup` does, and every
//!    linked document points at the smallest id it is linked to;
//! 3. [`components`]: edge files -> `components.parquet` (`doc_id`,
//!    `cluster_id`, the component's smallest id), for every document in a
//!    cluster of two or more;
//! 4. [`filter`]: one shard + the components -> the shard's kept records.
//!
//! A document id is `shard << 32 | n`, `n` the document's number in its
//! shard, so ids are stable across machines and order documents as `dedup`
//! does (shards in order). Every file carries the parameters and their
//! fingerprint in its footer, and every stage refuses inputs whose
//! fingerprints differ. The docs table maps ids back to the inputs' ids.
//!
//! The stages make the same decisions as the in-memory `dedup` (the same
//! band keys, candidate pairs, likeness rule and settling of doubtful pairs)
//! with one difference: a doubtful pair of documents too large to keep their
//! shingle sets is settled by the signature estimate, as link has no texts.
//! With `--verify exact` every set is kept and the clusters are the same.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_schema::DataType;
use rayon::prelude::*;

use crate::dedup::{Dedup, DedupBuilder, Verify};
use crate::error::{BadRecord, Error, Result};
use crate::io::input::stamp;
use crate::io::load::{Docs, Loaded, Sink, load, read_all};
use crate::io::record::{Record, Retained};
use crate::io::rewrite::RecordSource;
use crate::io::table::{Cell, Kind, Table, for_each_batch, table_metadata};
use crate::io::{Format, InputFile, ReadOptions, le_u32s, le_u64s};
use crate::lsh::{self, LshParams};
use crate::params::Params;
use crate::pipeline;
use crate::pipeline::bucket::SortedKeys;
use crate::pipeline::cluster::Keep;
use crate::pipeline::signatures::{Sketched, Sketches};
use crate::pipeline::verify::{Plan, RecordTexts};
use crate::progress::ProgressFn;

/// Version of the stage files' layout.
pub const STAGE_FORMAT_VERSION: u32 = 3;

const KEY_STAGE: &str = "neardup.stage";
const KEY_FINGERPRINT: &str = "neardup.fingerprint";
const KEY_PARAMS: &str = "neardup.params";
const KEY_SHARDS: &str = "neardup.shards";

/// Everything that decides the stages' results: the deduplication
/// [`Params`] and how inputs are read. Stored in every stage file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageParams {
    /// [`STAGE_FORMAT_VERSION`].
    pub version: u32,
    /// Sketching, banding, threshold and verification.
    pub params: Params,
    /// Input format.
    pub format: Format,
    /// Text field or column.
    pub text_field: String,
    /// Id field or column.
    pub id_field: Option<String>,
}

impl StageParams {
    /// The parameters of `dedup`.
    pub fn of(dedup: &Dedup) -> StageParams {
        let read = dedup.read_options();
        StageParams {
            version: STAGE_FORMAT_VERSION,
            params: dedup.params().clone(),
            format: read.format,
            text_field: read.text_field.clone(),
            id_field: read.id_field.clone(),
        }
    }

    /// A short digest of the parameters (`ndp2-` and 16 hex digits).
    pub fn fingerprint(&self) -> String {
        crate::params::digest(STAGE_FORMAT_VERSION, self)
    }

    /// How the inputs were read.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            keep: (self.params.keep != Keep::First).then(|| self.params.keep.clone()),
            ..ReadOptions::default()
        }
    }

    /// A `Dedup` with these parameters, on `threads` threads (0: all).
    pub fn dedup(&self, threads: usize) -> Result<Dedup> {
        self.builder(threads).build()
    }

    /// A builder with these parameters and read options, on `threads`
    /// threads (0: all).
    fn builder(&self, threads: usize) -> DedupBuilder {
        let b = self.params.builder().read_options(self.read_options());
        if threads > 0 { b.threads(threads) } else { b }
    }
}

/// One signed shard, as recorded in every later stage's files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// The shard number (the high 32 bits of its documents' ids).
    pub shard: u32,
    /// The input's name as given to `sign`.
    pub input: String,
    /// Its size in bytes and modification time, to tell when a shard
    /// changed.
    pub bytes: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i64,
    /// Number of documents.
    pub docs: u64,
    /// xxh3 of the documents' ids, each followed by a zero byte.
    pub ids_hash: u64,
    /// The input was read to its end (false: truncated or corrupt; such a
    /// shard is signed again on a rerun).
    pub complete: bool,
}

/// The metadata of one stage file.
struct Header {
    path: PathBuf,
    fingerprint: String,
    params: StageParams,
    shards: Vec<ShardInfo>,
}

fn bad_file(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Corrupt { path: path.to_path_buf(), reason: what.to_string() }
}

fn read_header(path: &Path, stage: &str) -> Result<Header> {
    let kv = table_metadata(path)?;
    let get = |k: &str| kv.get(k).ok_or_else(|| bad_file(path, format!("not a neardup stage file (no {k})")));
    if get(KEY_STAGE)? != stage {
        return Err(bad_file(
            path,
            format!("a `{}` file, where a `{stage}` file was expected", get(KEY_STAGE)?),
        ));
    }
    let params: StageParams =
        serde_json::from_str(get(KEY_PARAMS)?).map_err(|e| bad_file(path, format!("bad parameters: {e}")))?;
    if params.version != STAGE_FORMAT_VERSION {
        return Err(bad_file(
            path,
            format!("stage format version {} (this neardup reads {STAGE_FORMAT_VERSION})", params.version),
        ));
    }
    let fingerprint = get(KEY_FINGERPRINT)?.clone();
    if fingerprint != params.fingerprint() {
        return Err(bad_file(path, "the fingerprint does not match the parameters (the file was altered)"));
    }
    let shards: Vec<ShardInfo> =
        serde_json::from_str(get(KEY_SHARDS)?).map_err(|e| bad_file(path, format!("bad shard list: {e}")))?;
    Ok(Header { path: path.to_path_buf(), fingerprint, params, shards })
}

/// Every header must carry the same fingerprint.
fn check_same(headers: &[Header]) -> Result<()> {
    if let Some(first) = headers.first() {
        for h in &headers[1..] {
            if h.fingerprint != first.fingerprint {
                return Err(Error::param(format!(
                    "parameter fingerprints differ: {} has {} ({}), {} has {} ({}); run every stage with the \
                     same parameters",
                    first.path.display(),
                    first.fingerprint,
                    describe(&first.params),
                    h.path.display(),
                    h.fingerprint,
                    describe(&h.params),
                )));
            }
        }
    }
    Ok(())
}

fn describe(p: &StageParams) -> String {
    p.params.describe()
}

fn metadata(stage: &str, params: &StageParams, shards: &[ShardInfo]) -> Vec<(&'static str, String)> {
    vec![
        (KEY_STAGE, stage.to_owned()),
        (KEY_FINGERPRINT, params.fingerprint()),
        (KEY_PARAMS, serde_json::to_string(params).unwrap_or_default()),
        (KEY_SHARDS, serde_json::to_string(shards).unwrap_or_default()),
    ]
}

/// Files of `dir` named `PREFIX*.parquet`, sorted.
fn stage_files(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".parquet"))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(Error::param(format!("{}: no {prefix}*.parquet files", dir.display())));
    }
    Ok(out)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Add one document id to a shard's id hash.
fn hash_id(h: &mut xxhash_rust::xxh3::Xxh3, id: &str) {
    h.update(id.as_bytes());
    h.update(&[0]);
}

/// What [`sign`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SignReport {
    /// The shards signed (or found already signed).
    pub shards: Vec<ShardInfo>,
    /// Shards whose files were already there, made from the same input with
    /// the same parameters, and were kept.
    pub reused: Vec<u32>,
    /// Records that could not be used.
    pub bad: Vec<BadRecord>,
    /// Inputs that could not be read to their end.
    pub failed: Vec<String>,
}

/// Sign `inputs`, input `i` as shard `first_shard + i`, into `out_dir`. A
/// shard whose files are already there with the same parameters, input name,
/// size and time is not signed again (a rerun after a failure redoes only
/// what is missing). Files appear whole or not at all.
pub fn sign(
    dedup: &Dedup,
    inputs: &[InputFile],
    first_shard: u32,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SignReport> {
    create_dir(out_dir)?;
    let params = StageParams::of(dedup);
    let mut report = SignReport::default();
    let mut done = 0u64;
    for (i, input) in inputs.iter().enumerate() {
        let shard =
            first_shard.checked_add(i as u32).ok_or_else(|| Error::param("shard numbers past 2^32 - 1"))?;
        let docs_path = out_dir.join(format!("docs-{shard:06}.parquet"));
        let bands_path = out_dir.join(format!("bands-{shard:06}.parquet"));
        let (bytes, mtime) = stamp(input);
        if input.path.is_some() {
            if let Some(info) = reusable(
                &[(&docs_path, "sign-docs"), (&bands_path, "sign-bands")],
                &params,
                input,
                bytes,
                mtime,
            ) {
                report.reused.push(shard);
                report.shards.push(info);
                done += bytes;
                progress(done);
                continue;
            }
        }
        let base = done;
        let info = ShardInfo {
            shard,
            input: input.name.clone(),
            bytes,
            mtime,
            docs: 0,
            ids_hash: 0,
            complete: false,
        };
        let info =
            sign_shard(dedup, &params, input, info, (&docs_path, &bands_path), &mut report, &move |b| {
                progress(base + b)
            })?;
        done += bytes;
        report.shards.push(info);
    }
    Ok(report)
}

/// The shard recorded in `files` (each with its stage) when they all exist
/// and match.
fn reusable(
    files: &[(&Path, &str)],
    params: &StageParams,
    input: &InputFile,
    bytes: u64,
    mtime: i64,
) -> Option<ShardInfo> {
    let mut found = None;
    for &(f, stage) in files {
        let h = read_header(f, stage).ok()?;
        let info = h.shards.into_iter().next()?;
        let ok = h.fingerprint == params.fingerprint()
            && info.complete
            && info.input == input.name
            && info.bytes == bytes
            && info.mtime == mtime
            && found.as_ref().is_none_or(|f| *f == info);
        if !ok {
            return None;
        }
        found = Some(info);
    }
    found
}

/// Sign one shard: its documents into the docs table, their band keys into
/// the bands table.
fn sign_shard(
    dedup: &Dedup,
    params: &StageParams,
    input: &InputFile,
    info: ShardInfo,
    (docs_path, bands_path): (&Path, &Path),
    report: &mut SignReport,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ShardInfo> {
    struct Rows<'a> {
        info: ShardInfo,
        name: &'a str,
        lsh: LshParams,
        docs: Table,
        bands: Table,
        ids: xxhash_rust::xxh3::Xxh3,
        sig_bytes: Vec<u8>,
        set_bytes: Vec<u8>,
        keep: &'a Keep,
        complete: bool,
    }
    impl Sink<Sketched> for Rows<'_> {
        fn doc(&mut self, _: usize, r: Record<Sketched>) -> Result<()> {
            if self.info.docs > u64::from(u32::MAX) {
                return Err(Error::Unsupported(format!(
                    "{}: more than 2^32 documents in one shard",
                    self.name
                )));
            }
            let doc_id = u64::from(self.info.shard) << 32 | self.info.docs;
            self.info.docs += 1;
            hash_id(&mut self.ids, &r.id);
            let s = r.value;
            self.sig_bytes.clear();
            self.sig_bytes.extend(s.sig.iter().flat_map(|v| v.to_le_bytes()));
            self.set_bytes.clear();
            if let Some(set) = s.set.as_deref().or(s.small.as_deref()) {
                self.set_bytes.extend(set.iter().flat_map(|v| v.to_le_bytes()));
            }
            self.docs.push(&[
                Cell::U64(doc_id),
                Cell::Str(&r.id),
                Cell::U32(s.samples),
                Cell::Bin(&self.sig_bytes),
                Cell::Bin(&self.set_bytes),
                Cell::F64(self.keep.preference(r.text_len, r.key)),
            ])?;
            if s.samples > 0 {
                for (band, key) in lsh::band_keys(self.lsh, &s.sig).enumerate() {
                    self.bands.push(&[Cell::U32(band as u32), Cell::U64(key), Cell::U64(doc_id)])?;
                }
            }
            Ok(())
        }
        fn end(&mut self, _: usize, retained: Retained) -> Result<()> {
            self.complete = !retained.failed;
            Ok(())
        }
    }
    let protect: Vec<PathBuf> = input.path.iter().cloned().collect();
    let k = params.params.sketch.num_perm as usize;
    let docs_fields = [
        ("doc_id", Kind::U64),
        ("id", Kind::Str),
        ("samples", Kind::U32),
        ("signature", Kind::Bin),
        ("set", Kind::Bin),
        ("keep", Kind::F64),
    ];
    let band_fields = [("band_id", Kind::U32), ("band_hash", Kind::U64), ("doc_id", Kind::U64)];
    let mut rows = Rows {
        info,
        name: &input.name,
        lsh: params.params.lsh,
        docs: Table::create(docs_path, &protect, &docs_fields)?,
        bands: Table::create(bands_path, &protect, &band_fields)?,
        ids: xxhash_rust::xxh3::Xxh3::new(),
        sig_bytes: Vec::with_capacity(4 * k),
        set_bytes: Vec::new(),
        keep: &params.params.keep,
        complete: false,
    };
    let sketch = |text: &str| dedup.sketch_text(text);
    let opts = params.read_options();
    let tally = dedup.install_pool(|| {
        read_all(std::slice::from_ref(input), &opts, false, dedup.is_strict(), &sketch, &mut rows, progress)
    })?;
    report.bad.extend(tally.bad);
    report.failed.extend(tally.failed);
    let Rows { mut info, docs, bands, ids, complete, .. } = rows;
    info.complete = complete;
    info.ids_hash = ids.digest();
    // the footers name the shard, whose counts are known only now; the
    // bands file is written last, so a shard is reused only when both are
    // there
    let shards = [info.clone()];
    docs.commit_with(&metadata("sign-docs", params, &shards))?;
    bands.commit_with(&metadata("sign-bands", params, &shards))?;
    Ok(info)
}

/// The signed documents' ids, numbered densely in shard order.
struct Signed {
    /// Dense number of shard `s`'s first document.
    base: HashMap<u32, u32>,
    ids: Vec<u64>,
}

impl Signed {
    fn dense(&self, path: &Path, doc_id: u64) -> Result<u32> {
        let shard = (doc_id >> 32) as u32;
        let n = doc_id & 0xffff_ffff;
        match self.base.get(&shard) {
            Some(&b)
                if (b as u64 + n) < self.ids.len() as u64 && self.ids[(b as u64 + n) as usize] == doc_id =>
            {
                Ok(b + n as u32)
            }
            _ => Err(bad_file(path, format!("document {doc_id} is not in any docs file"))),
        }
    }
}

fn u64_col<'a>(b: &'a RecordBatch, name: &str) -> &'a [u64] {
    b.column_by_name(name).map(|c| c.as_primitive::<UInt64Type>().values().as_ref()).unwrap_or(&[])
}

fn u32_col<'a>(b: &'a RecordBatch, name: &str) -> &'a [u32] {
    b.column_by_name(name).map(|c| c.as_primitive::<UInt32Type>().values().as_ref()).unwrap_or(&[])
}

/// What [`link`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct LinkReport {
    /// Documents signed.
    pub documents: u64,
    /// Band keys read.
    pub band_keys: u64,
    /// Candidate pairs.
    pub candidate_pairs: u64,
    /// Pairs linked.
    pub linked_pairs: u64,
    /// Doubtful pairs checked against kept shingle sets (or the estimate).
    pub exact_checks: u64,
    /// Edges written (documents linked to a smaller one).
    pub edges: u64,
}

/// Link the signed shards in `bands_dir` into `out_dir/edges.parquet`.
/// `texts`, when given, are the signed shards themselves (in shard order):
/// doubtful pairs are then settled by exact Jaccard of the texts, as `dedup`
/// does, instead of by the estimate.
pub fn link(
    bands_dir: &Path,
    out_dir: &Path,
    threads: usize,
    texts: &[PathBuf],
    progress: &ProgressFn,
) -> Result<LinkReport> {
    let docs_files = stage_files(bands_dir, "docs-")?;
    let band_files = stage_files(bands_dir, "bands-")?;
    let mut headers: Vec<Header> =
        docs_files.iter().map(|p| read_header(p, "sign-docs")).collect::<Result<_>>()?;
    let band_headers: Vec<Header> =
        band_files.iter().map(|p| read_header(p, "sign-bands")).collect::<Result<_>>()?;
    headers.extend(band_headers);
    check_same(&headers)?;
    // every shard needs both files: a shard with documents but no band keys
    // would silently lose its duplicates
    let shards_of = |hs: &[Header]| {
        let mut v: Vec<u32> = hs.iter().flat_map(|h| h.shards.iter().map(|s| s.shard)).collect();
        v.sort_unstable();
        v
    };
    let (with_docs, with_bands) =
        (shards_of(&headers[..docs_files.len()]), shards_of(&headers[docs_files.len()..]));
    if with_docs != with_bands {
        let odd: Vec<String> = with_docs
            .iter()
            .filter(|s| !with_bands.contains(s))
            .chain(with_bands.iter().filter(|s| !with_docs.contains(s)))
            .map(|s| s.to_string())
            .collect();
        return Err(Error::param(format!(
            "{}: shards {} have a docs file or a bands file but not both; sign them again",
            bands_dir.display(),
            odd.join(", ")
        )));
    }
    let params = headers[0].params.clone();
    let dedup = params.builder(threads).progress(progress.clone()).build()?;
    // the shards, each once, in order
    let mut shards: Vec<ShardInfo> = Vec::new();
    for h in &headers {
        for s in &h.shards {
            match shards.iter().find(|x| x.shard == s.shard) {
                Some(x) if x != s => {
                    return Err(bad_file(
                        &h.path,
                        format!("shard {} was signed twice, differently", s.shard),
                    ));
                }
                Some(_) => {}
                None => shards.push(s.clone()),
            }
        }
    }
    shards.sort_by_key(|s| s.shard);
    let n: u64 = shards.iter().map(|s| s.docs).sum();
    if n >= u64::from(u32::MAX) {
        return Err(Error::Unsupported(format!("{n} documents: one link handles fewer than 2^32")));
    }
    let k = params.params.sketch.num_perm as usize;
    let exact = params.params.verify == Verify::Exact;
    let mut signed = Signed { base: HashMap::new(), ids: Vec::with_capacity(n as usize) };
    for s in &shards {
        signed.base.insert(s.shard, signed.ids.len() as u32);
        signed.ids.extend((0..s.docs).map(|i| u64::from(s.shard) << 32 | i));
    }
    let (mut samples, mut sigs) = (vec![0u32; n as usize], vec![0u32; n as usize * k]);
    let mut sets: Vec<Option<Box<[u64]>>> = vec![None; n as usize];
    let ranked = params.params.keep != Keep::First;
    let mut prefs: Vec<f64> = if ranked { vec![0.0; n as usize] } else { Vec::new() };
    let doc_cols = [
        ("doc_id", DataType::UInt64),
        ("samples", DataType::UInt32),
        ("signature", DataType::Binary),
        ("set", DataType::Binary),
        ("keep", DataType::Float64),
    ];
    let mut rows = 0u64;
    for p in &docs_files {
        for_each_batch(p, &doc_cols, |b| {
            rows += b.num_rows() as u64;
            let (ids, samples_col) = (u64_col(b, "doc_id"), u32_col(b, "samples"));
            let keep_col =
                b.column_by_name("keep").map(|c| c.as_primitive::<Float64Type>().values().as_ref());
            let sig = b.column_by_name("signature").map(|c| c.as_binary::<i32>().clone());
            let set = b.column_by_name("set").map(|c| c.as_binary::<i32>().clone());
            let (Some(sig), Some(set)) = (sig, set) else { return Ok(()) };
            for i in 0..b.num_rows() {
                let d = signed.dense(p, ids[i])? as usize;
                samples[d] = samples_col[i];
                if ranked {
                    prefs[d] = keep_col.map_or(0.0, |c| c[i]);
                }
                let v = sig.value(i);
                if v.len() != 4 * k {
                    return Err(bad_file(p, format!("a signature of {} bytes, not {}", v.len(), 4 * k)));
                }
                for (slot, x) in sigs[d * k..(d + 1) * k].iter_mut().zip(le_u32s(v)) {
                    *slot = x;
                }
                let set = set.value(i);
                if !set.is_empty() {
                    sets[d] = Some(le_u64s(set).collect());
                }
            }
            Ok(())
        })?;
    }
    if rows != n {
        return Err(Error::param(format!(
            "{}: the docs files hold {rows} rows for {n} signed documents",
            bands_dir.display()
        )));
    }
    // exact verification keeps every document's set, estimates those of
    // small documents: the two shapes `dedup` verifies with
    let sk = if exact {
        let all = sets.into_iter().map(|s| s.map_or_else(Vec::new, Vec::from)).collect();
        Sketches::from_parts(k, sigs, samples, Some(all), Vec::new())
    } else {
        Sketches::from_parts(k, sigs, samples, None, sets)
    };
    // the band hash is seeded with the band number, so it alone names a
    // bucket, as in `dedup`
    let mut keys: Vec<(u64, u32)> = Vec::new();
    let band_cols = [("band_hash", DataType::UInt64), ("doc_id", DataType::UInt64)];
    for p in &band_files {
        for_each_batch(p, &band_cols, |b| {
            let (hash, ids) = (u64_col(b, "band_hash"), u64_col(b, "doc_id"));
            for i in 0..b.num_rows() {
                keys.push((hash[i], signed.dense(p, ids[i])?));
            }
            Ok(())
        })?;
    }
    let loaded = if texts.is_empty() { None } else { Some(load_texts(texts, &params, &shards, &dedup)?) };
    let mut report = LinkReport { documents: n, band_keys: keys.len() as u64, ..LinkReport::default() };
    let text = RecordTexts(loaded.as_ref());
    let shape = dedup.shape(&prefs, Plan::IN_MEMORY.set_bytes);
    let clustering = dedup.install_pool(|| {
        pipeline::run(
            &dedup.rule(),
            &sk,
            &mut SortedKeys(keys),
            &text,
            Plan::IN_MEMORY,
            shape,
            dedup.progress(),
        )
    })?;
    report.candidate_pairs = clustering.stats.candidate_pairs;
    report.linked_pairs = clustering.stats.verified_pairs;
    report.exact_checks = clustering.stats.exact_checks;
    create_dir(out_dir)?;
    let reps = clustering.representatives();
    let path = out_dir.join("edges.parquet");
    let fields = [("doc_id", Kind::U64), ("root_id", Kind::U64)];
    let mut out = Table::create(&path, &[], &fields)?;
    for (d, &r) in reps.iter().enumerate() {
        if r as usize != d {
            out.push(&[Cell::U64(signed.ids[d]), Cell::U64(signed.ids[r as usize])])?;
            report.edges += 1;
        }
    }
    out.commit_with(&metadata("link", &params, &shards))?;
    Ok(report)
}

/// The signed shards, read again for their texts; each must hold the
/// documents it held when signed.
fn load_texts(
    texts: &[PathBuf],
    params: &StageParams,
    shards: &[ShardInfo],
    dedup: &Dedup,
) -> Result<Loaded> {
    let opts = params.read_options();
    let inputs = crate::io::expand_inputs(texts, opts.format)?;
    if inputs.len() != shards.len() {
        return Err(Error::param(format!(
            "{} text inputs for {} signed shards; give every signed shard, in shard order",
            inputs.len(),
            shards.len()
        )));
    }
    let (loaded, _) = dedup.install_pool(|| load(&inputs, &opts, true, false, &|_: &str| (), &|_| {}))?;
    let ranges = loaded.doc_ranges();
    for ((input, range), info) in inputs.iter().zip(ranges).zip(shards) {
        check_shard(input, &loaded.docs, range, info)?;
    }
    Ok(loaded)
}

/// `docs` (read from `input`) must be the documents signed as `info`.
fn check_shard(input: &InputFile, docs: &Docs, range: Range<usize>, info: &ShardInfo) -> Result<()> {
    let mut ids = xxhash_rust::xxh3::Xxh3::new();
    for d in range.clone() {
        hash_id(&mut ids, docs.id(d));
    }
    if range.len() as u64 != info.docs || ids.digest() != info.ids_hash {
        return Err(Error::param(format!(
            "{}: its {} documents are not the {} signed as shard {} (from {})",
            input.name,
            range.len(),
            info.docs,
            info.shard,
            info.input
        )));
    }
    Ok(())
}

/// What [`components`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ComponentsReport {
    /// Edges read.
    pub edges: u64,
    /// Documents in clusters of two or more.
    pub clustered: u64,
    /// Those clusters.
    pub clusters: u64,
    /// Documents to remove (clustered, not their cluster's smallest id).
    pub duplicates: u64,
}

/// Join the edges in `edges_dir` (every `*.parquet` file there) into
/// `out_dir/components.parquet`.
pub fn components(edges_dir: &Path, out_dir: &Path) -> Result<ComponentsReport> {
    let files = stage_files(edges_dir, "")?;
    let headers: Vec<Header> = files.iter().map(|p| read_header(p, "link")).collect::<Result<_>>()?;
    check_same(&headers)?;
    let mut shards = headers[0].shards.clone();
    for h in &headers[1..] {
        for s in &h.shards {
            if !shards.contains(s) {
                shards.push(s.clone());
            }
        }
    }
    shards.sort_by_key(|s| s.shard);
    let mut edges: Vec<(u64, u64)> = Vec::new();
    let cols = [("doc_id", DataType::UInt64), ("root_id", DataType::UInt64)];
    for p in &files {
        for_each_batch(p, &cols, |b| {
            edges.extend(u64_col(b, "doc_id").iter().copied().zip(u64_col(b, "root_id").iter().copied()));
            Ok(())
        })?;
    }
    let (ids, reps) = crate::kernel::components(&edges)?;
    let reps = star_roots(&edges, &ids, reps);
    let mut report = ComponentsReport { edges: edges.len() as u64, ..ComponentsReport::default() };
    create_dir(out_dir)?;
    let path = out_dir.join("components.parquet");
    let fields = [("doc_id", Kind::U64), ("cluster_id", Kind::U64)];
    let mut out = Table::create(&path, &[], &fields)?;
    for (&d, &r) in ids.iter().zip(&reps) {
        out.push(&[Cell::U64(d), Cell::U64(r)])?;
        report.clustered += 1;
        if r == d {
            report.clusters += 1;
        } else {
            report.duplicates += 1;
        }
    }
    out.commit_with(&metadata("components", &headers[0].params, &shards))?;
    Ok(report)
}

/// Each component's cluster id: the document its edges point to, when the
/// edges are stars (as `link` writes them: every member to its kept
/// document, which a keep policy or star clustering may make other than
/// the smallest id), else its smallest id (`reps`).
fn star_roots(edges: &[(u64, u64)], ids: &[u64], reps: Vec<u64>) -> Vec<u64> {
    let mut members: Vec<u64> = edges.iter().map(|&(d, _)| d).collect();
    members.par_sort_unstable();
    members.dedup();
    // the one id of each component that is never a member pointing elsewhere
    let mut root: HashMap<u64, Option<u64>> = HashMap::new();
    for (&d, &r) in ids.iter().zip(&reps) {
        if members.binary_search(&d).is_err() {
            root.entry(r).and_modify(|x| *x = None).or_insert(Some(d));
        }
    }
    reps.into_iter().map(|r| root.get(&r).copied().flatten().unwrap_or(r)).collect()
}

/// What [`filter`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FilterReport {
    /// The shard filtered.
    pub shard: u32,
    /// Documents read.
    pub documents: u64,
    /// Documents removed.
    pub removed: u64,
    /// Records that could not be used (they were not documents when signed
    /// either, and are not written).
    pub bad: Vec<BadRecord>,
}

/// Write the kept records of `input` (shard `shard`, or the shard signed
/// from an input of the same name) to `output`, as `dedup -o` would:
/// records copied, in the input's format, compressed as `output`'s name
/// says. The shard must be the one that was signed (same documents).
pub fn filter(
    shard_path: &Path,
    shard: Option<u32>,
    components_dir: &Path,
    output: &Path,
) -> Result<FilterReport> {
    let path = components_dir.join("components.parquet");
    let header = read_header(&path, "components")?;
    let opts = header.params.read_options();
    let inputs = crate::io::expand_inputs(&[shard_path.to_path_buf()], opts.format)?;
    let [input] = inputs.as_slice() else {
        return Err(Error::param(format!(
            "{} is {} files; filter takes one shard",
            shard_path.display(),
            inputs.len()
        )));
    };
    let info = match shard {
        Some(s) => header.shards.iter().find(|x| x.shard == s),
        None => {
            let by_name: Vec<&ShardInfo> = header.shards.iter().filter(|x| x.input == input.name).collect();
            let base = |n: &str| Path::new(n).file_name().map(|f| f.to_owned());
            let by_base: Vec<&ShardInfo> =
                header.shards.iter().filter(|x| base(&x.input) == base(&input.name)).collect();
            match (by_name.as_slice(), by_base.as_slice()) {
                ([one], _) | ([], [one]) => Some(*one),
                _ => None,
            }
        }
    };
    let info = info.ok_or_else(|| {
        Error::param(format!(
            "{}: no signed shard {} in {}; give the number it was signed with",
            input.name,
            shard.map_or_else(|| "of that name".to_owned(), |s| s.to_string()),
            path.display()
        ))
    })?;
    let (loaded, _) = load(std::slice::from_ref(input), &opts, true, false, &|_: &str| (), &|_| {})?;
    check_shard(input, &loaded.docs, 0..loaded.docs.len(), info)
        .map_err(|e| Error::param(format!("{e}; filter the shard that was signed")))?;
    let mut removed = vec![false; loaded.docs.len()];
    let (lo, hi) = (u64::from(info.shard) << 32, (u64::from(info.shard) + 1) << 32);
    let cols = [("doc_id", DataType::UInt64), ("cluster_id", DataType::UInt64)];
    for_each_batch(&path, &cols, |b| {
        for (&d, &c) in u64_col(b, "doc_id").iter().zip(u64_col(b, "cluster_id")) {
            if (lo..hi).contains(&d) && d != c {
                let n = (d - lo) as usize;
                *removed
                    .get_mut(n)
                    .ok_or_else(|| bad_file(&path, format!("document {d} is past the shard's end")))? = true;
            }
        }
        Ok(())
    })?;
    let report = FilterReport {
        shard: info.shard,
        documents: loaded.docs.len() as u64,
        removed: removed.iter().filter(|&&r| r).count() as u64,
        bad: loaded.tally.bad.clone(),
    };
    loaded.write_records(output, |d| (!removed[d]).then(|| RecordSource::record(&loaded, d)))?;
    Ok(report)
}
