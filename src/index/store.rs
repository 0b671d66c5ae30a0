//! The saved index: one file, read in bulk, checked before it is trusted.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! header   b"NEARDUPI"  format version: u32  flags: u32 (0)
//! body     params: u32 length + JSON (threshold, shingles, sketch, banding,
//!                  verification, sketch format version, compact)
//!          n: u64 documents
//!          id ends: n x u64, then id bytes: u64 length + UTF-8
//!          samples: n x u32
//!          signatures: n x num_perm x (u32, or u16 when compact)
//!          sets: u64 count, then per set: doc u32, length u32, length x u64
//!          fingerprints (version 2 on): u64 count of documents (0, or n),
//!                   their ends: count x u64, then u64 total, total x u32
//!          buckets: per shard (64): u64 count, then per bucket (by key):
//!                   key u32, members u32, members x doc u32 (ascending)
//! trailer  body length: u64  xxh3-64 of the body: u64  b"NDUPIEND"
//! ```
//!
//! Saving streams the body through the checksum into an [`AtomicFile`], so a
//! crash leaves the previous file in place. Opening checks, in order, the
//! magic, the version (a newer file is refused by name), the trailer, the
//! length and the checksum, and then every count and document number against
//! the bytes that are there: a truncated or corrupted file is an error, never
//! a panic or a wrong answer.
//!
//! Version 2 added the fingerprint sets. A version 1 file opens as an index
//! without them (doubtful pairs of large documents verified by the estimate,
//! as that version did), and is saved as version 2 with no fingerprints.

use std::io::Write;
use std::path::Path;

use xxhash_rust::xxh3::Xxh3Default;

use super::{Docs, Index, Prints, SHARDS, Shard, Sigs, lock, read};
use crate::dedup::{DedupBuilder, Verify};
use crate::error::{Error, Result};
use crate::io::AtomicFile;
use crate::shingle::ShingleKind;
use crate::sketch::{SKETCH_FORMAT_VERSION, SketchKind};

/// Version of the saved-index format written by this build.
pub(crate) const INDEX_FORMAT_VERSION: u32 = 2;

const MAGIC: &[u8; 8] = b"NEARDUPI";
const END: &[u8; 8] = b"NDUPIEND";
const HEADER: usize = 16;
const TRAILER: usize = 24;

/// The index's [`Params`](crate::Params) as format 1 stores them.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Stored {
    threshold: f64,
    shingle: ShingleKind,
    sketch: SketchKind,
    num_perm: u32,
    seed: u64,
    bands: u32,
    rows: u32,
    verify: Verify,
    sketch_format_version: u32,
    compact: bool,
}

/// Counts bytes and checksums them on their way to the file.
struct Hashing<W> {
    inner: W,
    hash: Xxh3Default,
    len: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Index {
    /// Write the index to `path` atomically (a temporary file renamed over
    /// it when complete). Inserts wait while it is saved.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let _gate = super::write(&self.gate);
        let docs = read(&self.docs);
        let mut file = AtomicFile::create_raw(path, &[])?;
        let write = |w: &mut dyn Write| -> std::io::Result<()> {
            w.write_all(MAGIC)?;
            w.write_all(&INDEX_FORMAT_VERSION.to_le_bytes())?;
            w.write_all(&0u32.to_le_bytes())?;
            let mut body = Hashing { inner: &mut *w, hash: Xxh3Default::new(), len: 0 };
            self.write_body(&docs, &mut body)?;
            let (len, sum) = (body.len, body.hash.digest());
            w.write_all(&len.to_le_bytes())?;
            w.write_all(&sum.to_le_bytes())?;
            w.write_all(END)
        };
        write(&mut file).map_err(|e| Error::io(path, e))?;
        file.commit()
    }

    fn write_body(&self, docs: &Docs, w: &mut impl Write) -> std::io::Result<()> {
        let p = self.params();
        let params = Stored {
            threshold: p.threshold,
            shingle: p.sketch.shingle,
            sketch: p.sketch.kind,
            num_perm: p.sketch.num_perm,
            seed: p.sketch.seed,
            bands: p.lsh.bands,
            rows: p.lsh.rows,
            verify: p.verify,
            sketch_format_version: p.sketch.version,
            compact: matches!(docs.sigs, Sigs::Compact(_)),
        };
        let json = serde_json::to_vec(&params).map_err(std::io::Error::other)?;
        w.write_all(&(json.len() as u32).to_le_bytes())?;
        w.write_all(&json)?;
        w.write_all(&(docs.len() as u64).to_le_bytes())?;
        write_ints(w, &docs.id_ends, u64::to_le_bytes)?;
        w.write_all(&(docs.id_bytes.len() as u64).to_le_bytes())?;
        w.write_all(docs.id_bytes.as_bytes())?;
        write_ints(w, &docs.samples, u32::to_le_bytes)?;
        match &docs.sigs {
            Sigs::Full(v) => write_ints(w, v, u32::to_le_bytes)?,
            Sigs::Compact(v) => write_ints(w, v, u16::to_le_bytes)?,
        }
        let mut sets: Vec<(&u32, &Box<[u64]>)> = docs.sets.iter().collect();
        sets.sort_unstable_by_key(|(d, _)| **d);
        w.write_all(&(sets.len() as u64).to_le_bytes())?;
        for (d, set) in sets {
            w.write_all(&d.to_le_bytes())?;
            w.write_all(&(set.len() as u32).to_le_bytes())?;
            write_ints(w, set, u64::to_le_bytes)?;
        }
        let no_prints = Prints::default();
        let prints = docs.prints.as_ref().unwrap_or(&no_prints);
        w.write_all(&(prints.ends.len() as u64).to_le_bytes())?;
        write_ints(w, &prints.ends, u64::to_le_bytes)?;
        w.write_all(&(prints.values.len() as u64).to_le_bytes())?;
        write_ints(w, &prints.values, u32::to_le_bytes)?;
        for shard in &self.shards {
            let shard = lock(shard);
            let mut buckets: Vec<(u32, Vec<u32>)> = Vec::with_capacity(shard.heads.len());
            for &key in shard.heads.keys() {
                let mut members = Vec::new();
                shard.for_each_member(key, |d| members.push(d));
                members.sort_unstable();
                buckets.push((key, members));
            }
            buckets.sort_unstable_by_key(|b| b.0);
            w.write_all(&(buckets.len() as u64).to_le_bytes())?;
            for (key, members) in buckets {
                w.write_all(&key.to_le_bytes())?;
                w.write_all(&(members.len() as u32).to_le_bytes())?;
                write_ints(w, &members, u32::to_le_bytes)?;
            }
        }
        Ok(())
    }

    /// Open an index saved by [`Index::save`], on rayon's global pool.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        Index::open_with_threads(path, None)
    }

    /// Open an index saved by [`Index::save`]; `threads` sizes the pool that
    /// [`Index::insert_batch`] sketches on (`None`: rayon's global pool).
    pub fn open_with_threads(path: impl AsRef<Path>, threads: Option<usize>) -> Result<Index> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |reason: String| Error::Corrupt { path: path.to_path_buf(), reason };
        let (version, body) = check_envelope(&bytes).map_err(bad)?;
        let (params, docs, shards) = parse_body(body, version).map_err(|r| bad(format!("corrupted: {r}")))?;
        if params.sketch_format_version != SKETCH_FORMAT_VERSION {
            return Err(bad(format!(
                "its signatures were made by sketch format {}; this neardup makes format {} (build the index again)",
                params.sketch_format_version, SKETCH_FORMAT_VERSION
            )));
        }
        let mut builder = DedupBuilder::new()
            .threshold(params.threshold)
            .shingle(params.shingle)
            .sketch(params.sketch)
            .num_perm(params.num_perm)
            .seed(params.seed)
            .banding(params.bands, params.rows)
            .verify(params.verify);
        if let Some(t) = threads {
            builder = builder.threads(t);
        }
        let dedup =
            builder.build().map_err(|e| bad(format!("corrupted: its parameters are invalid: {e}")))?;
        Ok(Index::from_parts(dedup, docs, shards))
    }
}

fn write_ints<T: Copy, const N: usize>(
    w: &mut impl Write,
    values: &[T],
    to_le: impl Fn(T) -> [u8; N],
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(N * values.len().min(1 << 16));
    for chunk in values.chunks(1 << 16) {
        buf.clear();
        buf.extend(chunk.iter().flat_map(|&v| to_le(v)));
        w.write_all(&buf)?;
    }
    Ok(())
}

/// The format version and body of a saved index, once its magic, version,
/// length and checksum are right.
fn check_envelope(bytes: &[u8]) -> std::result::Result<(u32, &[u8]), String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a neardup index (bad magic bytes)".into());
    }
    if bytes.len() < HEADER + TRAILER {
        return Err(format!("truncated: {} bytes", bytes.len()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
    if version > INDEX_FORMAT_VERSION {
        return Err(format!(
            "index format version {version} is newer than this neardup reads ({INDEX_FORMAT_VERSION}); upgrade neardup"
        ));
    }
    if version == 0 {
        return Err("corrupted: index format version 0".into());
    }
    let trailer = &bytes[bytes.len() - TRAILER..];
    if &trailer[16..] != END {
        return Err(format!("truncated or corrupted: no end marker ({} bytes)", bytes.len()));
    }
    let len = u64::from_le_bytes(trailer[..8].try_into().unwrap_or_default());
    let sum = u64::from_le_bytes(trailer[8..16].try_into().unwrap_or_default());
    let body = &bytes[HEADER..bytes.len() - TRAILER];
    if len != body.len() as u64 {
        return Err(format!("truncated or corrupted: body is {} bytes, expected {len}", body.len()));
    }
    if xxhash_rust::xxh3::xxh3_64(body) != sum {
        return Err("corrupted: checksum mismatch".into());
    }
    Ok((version, body))
}

/// Reads a body front to back; every read is checked against what is left.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> std::result::Result<&'a [u8], String> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n > left {
            return Err(format!("{what} needs {n} bytes at offset {}, {left} left", self.pos + HEADER));
        }
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or_default()))
    }

    fn u64(&mut self, what: &str) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap_or_default()))
    }

    /// `count` integers of `N` bytes each.
    fn ints<T, const N: usize>(
        &mut self,
        count: u64,
        what: &str,
        from_le: impl Fn([u8; N]) -> T,
    ) -> std::result::Result<Vec<T>, String> {
        let bytes =
            self.take(count.checked_mul(N as u64).ok_or(format!("{what}: count overflows"))?, what)?;
        Ok(bytes.chunks_exact(N).map(|c| from_le(c.try_into().unwrap_or([0; N]))).collect())
    }
}

fn parse_body(body: &[u8], version: u32) -> std::result::Result<(Stored, Docs, Vec<Shard>), String> {
    let mut c = Cursor { bytes: body, pos: 0 };
    let plen = c.u32("parameters")?;
    let params: Stored = serde_json::from_slice(c.take(u64::from(plen), "parameters")?)
        .map_err(|e| format!("parameters: {e}"))?;
    let n = c.u64("document count")?;
    if n > super::MAX_DOCS as u64 {
        return Err(format!("{n} documents is more than an index holds"));
    }
    let id_ends = c.ints(n, "id ends", u64::from_le_bytes)?;
    let id_len = c.u64("id bytes")?;
    let id_bytes =
        String::from_utf8(c.take(id_len, "id bytes")?.to_vec()).map_err(|e| format!("ids: {e}"))?;
    let mut prev = 0;
    for &end in &id_ends {
        if end < prev || end > id_len || !id_bytes.is_char_boundary(end as usize) {
            return Err(format!("id end {end} is out of order or splits a character"));
        }
        prev = end;
    }
    if prev != id_len {
        return Err("id bytes do not end with the last id".into());
    }
    let samples = c.ints(n, "samples", u32::from_le_bytes)?;
    let k = u64::from(params.num_perm);
    let slots = n.checked_mul(k).ok_or("signature size overflows")?;
    let sigs = if params.compact {
        Sigs::Compact(c.ints(slots, "signatures", u16::from_le_bytes)?)
    } else {
        Sigs::Full(c.ints(slots, "signatures", u32::from_le_bytes)?)
    };
    let n_sets = c.u64("set count")?;
    let mut sets = std::collections::HashMap::with_capacity(n_sets.min(n) as usize);
    for _ in 0..n_sets {
        let d = c.u32("set document")?;
        let len = c.u32("set length")?;
        let set = c.ints(u64::from(len), "set", u64::from_le_bytes)?;
        if u64::from(d) >= n || !set.is_sorted() {
            return Err(format!("set of document {d} is out of range or unsorted"));
        }
        sets.insert(d, set.into_boxed_slice());
    }
    let prints = if version >= 2 {
        let count = c.u64("fingerprint set count")?;
        let ends = c.ints(count, "fingerprint set ends", u64::from_le_bytes)?;
        let total = c.u64("fingerprint count")?;
        let values = c.ints(total, "fingerprints", u32::from_le_bytes)?;
        let prints = Prints { values, ends };
        match count {
            0 => None,
            _ if params.compact || params.verify != Verify::Estimate => {
                return Err("fingerprint sets in an index that keeps none".into());
            }
            _ => {
                prints.check(n as usize)?;
                Some(prints)
            }
        }
    } else {
        None
    };
    let mut shards: Vec<Shard> = (0..SHARDS).map(|_| Shard::default()).collect();
    for (s, shard) in shards.iter_mut().enumerate() {
        let n_buckets = c.u64("bucket count")?;
        // each bucket takes at least 12 bytes: a corrupted count cannot make us reserve much
        shard.heads.reserve(n_buckets.min((body.len() - c.pos) as u64 / 12) as usize);
        for _ in 0..n_buckets {
            let key = c.u32("bucket key")?;
            let count = c.u32("bucket size")?;
            let members = c.ints(u64::from(count), "bucket", u32::from_le_bytes)?;
            if count == 0 || count as usize > super::BUCKET_CAP || members.iter().any(|&d| u64::from(d) >= n)
            {
                return Err(format!(
                    "bucket {key:#x} of shard {s} is empty, too large or names a missing document"
                ));
            }
            if shard.heads.contains_key(&key) {
                return Err(format!("bucket {key:#x} of shard {s} appears twice"));
            }
            if let [one] = members[..] {
                shard.heads.insert(key, one);
            } else {
                shard.heads.insert(key, super::MANY | shard.many.len() as u32);
                shard.many.push(members);
            }
        }
    }
    if c.pos != body.len() {
        return Err(format!("{} bytes after the last bucket", body.len() - c.pos));
    }
    let docs = Docs { num_perm: params.num_perm as usize, id_bytes, id_ends, samples, sigs, sets, prints };
    Ok((params, docs, shards))
}

#[cfg(test)]
mod tests {
    use super::super::tests::A;
    use super::super::{Index, Verdict};
    use crate::dedup::{DedupBuilder, Verify};
    use crate::error::Error;

    fn sample(compact: bool, verify: Verify) -> Index {
        let params = DedupBuilder::new().verify(verify).params().unwrap();
        let index =
            if compact { Index::new_compact(&params, None) } else { Index::new(&params, None) }.unwrap();
        for i in 0..60 {
            index.insert(&format!("page-{i}-é"), &format!("{A} {}", "variation ".repeat(i % 5)));
        }
        index.insert("empty", "");
        index.insert("short", "tiny page");
        index
    }

    #[test]
    fn save_then_open_gives_the_same_index_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for compact in [false, true] {
            for verify in [Verify::Estimate, Verify::Exact] {
                let index = sample(compact, verify);
                let p1 = dir.path().join("a.ndx");
                index.save(&p1).unwrap();
                let back = Index::open(&p1).unwrap();
                assert_eq!(back.len(), index.len());
                assert_eq!(back.is_compact(), compact);
                assert_eq!(back.params().verify, verify);
                assert_eq!(*super::read(&back.docs), *super::read(&index.docs));
                let p2 = dir.path().join("b.ndx");
                back.save(&p2).unwrap();
                assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
                // and it keeps answering the same way
                let probe = format!("{A} variation variation");
                assert_eq!(back.query(&probe), index.query(&probe));
                assert_eq!(back.insert("new", &probe), index.insert("new", &probe));
                assert_eq!(back.insert("page-3-é", "x"), Verdict::Exists);
            }
        }
    }

    /// A save taken while other threads insert holds whole documents only:
    /// each saved page finds itself through its buckets.
    #[test]
    fn save_during_inserts_is_consistent() {
        let index = std::sync::Arc::new(Index::new(&DedupBuilder::new().params().unwrap(), None).unwrap());
        let writer = {
            let index = std::sync::Arc::clone(&index);
            std::thread::spawn(move || {
                for i in 0..400 {
                    index.insert(&format!("p{i}"), &format!("page {i} {A} {i}"));
                }
            })
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.ndx");
        for _ in 0..5 {
            index.save(&path).unwrap();
            let saved = Index::open(&path).unwrap();
            for i in 0..saved.len() {
                let text = format!("page {i} {A} {i}");
                assert_eq!(saved.query(&text)[0].id, format!("p{i}"));
            }
        }
        writer.join().unwrap();
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.ndx");
        sample(false, Verify::Estimate).save(&path).unwrap();
        let good = std::fs::read(&path).unwrap();
        let open = |bytes: &[u8]| {
            let p = dir.path().join("damaged.ndx");
            std::fs::write(&p, bytes).unwrap();
            match Index::open(&p) {
                Err(Error::Corrupt { path, reason }) => {
                    assert_eq!(path, p);
                    reason
                }
                other => panic!("{other:?}"),
            }
        };
        // every truncation
        for cut in (0..good.len()).step_by(97).chain([good.len() - 1, 3, 20]) {
            let reason = open(&good[..cut]);
            assert!(reason.contains("truncated") || reason.contains("magic"), "{cut}: {reason}");
        }
        // a flipped bit anywhere in the body
        for at in (16..good.len() - 24).step_by(131) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert!(open(&bad).contains("checksum"), "{at}");
        }
        let mut future = good.clone();
        future[8..12].copy_from_slice(&3u32.to_le_bytes());
        assert!(open(&future).contains("newer than this neardup"));
        assert!(open(b"{\"not\": \"an index\"}").contains("not a neardup index"));
        let mut extra = good[..good.len() - 24].to_vec();
        extra.push(0);
        assert!(open(&extra).contains("truncated or corrupted"));
    }

    #[test]
    fn a_consistent_but_invalid_body_is_refused() {
        // a body with a bucket naming a missing document, checksummed as if valid
        let mut body = Vec::new();
        let index = Index::new(&DedupBuilder::new().params().unwrap(), None).unwrap();
        index.write_body(&super::read(&index.docs), &mut body).unwrap();
        let n = body.len();
        body[n - 8..].copy_from_slice(&1u64.to_le_bytes()); // one bucket in the last shard
        body.extend(7u32.to_le_bytes());
        body.extend(1u32.to_le_bytes());
        body.extend(5u32.to_le_bytes()); // document 5 of 0
        let mut file = b"NEARDUPI".to_vec();
        file.extend(super::INDEX_FORMAT_VERSION.to_le_bytes());
        file.extend(0u32.to_le_bytes());
        file.extend(&body);
        file.extend((body.len() as u64).to_le_bytes());
        file.extend(xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
        file.extend(b"NDUPIEND");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.ndx");
        std::fs::write(&p, file).unwrap();
        let err = Index::open(&p).unwrap_err().to_string();
        assert!(err.contains("missing document"), "{err}");
    }
}
