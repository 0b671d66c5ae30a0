//! Atomic output files: written to a temporary file beside the target and
//! renamed over it only when complete, so an interrupted run leaves no
//! half-written file, and a failed one no temporary file. Refuses to
//! overwrite an input (the same file, through hard and symbolic links).
//! Targets that are not regular files (`-` for standard output,
//! `/dev/stdout`, a named pipe) are written directly: there is nothing to
//! rename over them. A target ending in `.gz` or `.zst` is compressed (gzip,
//! zstd level 3), unless made with [`AtomicFile::create_raw`].
//!
//! [`OutputSet`] makes the outputs of one run appear together: each is
//! written to a staging path beside its target, and all are moved into place
//! only when every one was written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written; becomes visible at its path on [`commit`].
///
/// [`commit`]: AtomicFile::commit
pub struct AtomicFile {
    target: PathBuf,
    /// `None` when writing directly to a stream.
    tmp: Option<PathBuf>,
    writer: Option<BufWriter<Sink>>,
    /// Set once the temporary file is renamed into place; until then,
    /// dropping the file (after a failed write or commit too) removes it.
    committed: bool,
}

/// Where the bytes go: straight to the file or stream, or through a
/// compressor that is finished on commit.
enum Sink {
    Plain(Box<dyn Write + Send + Sync>),
    Gzip(flate2::write::GzEncoder<Box<dyn Write + Send + Sync>>),
    Zstd(zstd::Encoder<'static, Box<dyn Write + Send + Sync>>),
}

impl Sink {
    fn new(w: Box<dyn Write + Send + Sync>, target: &Path) -> std::io::Result<Sink> {
        let name = target.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        Ok(if name.ends_with(".gz") {
            Sink::Gzip(flate2::write::GzEncoder::new(w, flate2::Compression::default()))
        } else if name.ends_with(".zst") || name.ends_with(".zstd") {
            Sink::Zstd(zstd::Encoder::new(w, 3)?)
        } else {
            Sink::Plain(w)
        })
    }

    /// Write the compressor's trailer; give back the underlying writer.
    fn finish(self) -> std::io::Result<Box<dyn Write + Send + Sync>> {
        match self {
            Sink::Plain(w) => Ok(w),
            Sink::Gzip(e) => e.finish(),
            Sink::Zstd(e) => e.finish(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}

/// The format of a table output (clusters, passages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutputFormat {
    /// Parquet when the path ends in `.parquet`, else JSONL.
    #[default]
    Auto,
    /// One JSON object per line (compressed when the path ends in `.gz` or
    /// `.zst`).
    Jsonl,
    /// One Parquet file (zstd pages).
    Parquet,
}

impl OutputFormat {
    /// Whether a table at `path` is written as Parquet.
    pub(crate) fn is_parquet(self, path: &Path) -> bool {
        match self {
            OutputFormat::Auto => crate::io::record::is_parquet_name(path),
            OutputFormat::Jsonl => false,
            OutputFormat::Parquet => true,
        }
    }
}

impl AtomicFile {
    /// Start writing `target`, compressed when its name ends in `.gz` or
    /// `.zst`; `inputs` are paths that must not be replaced.
    pub fn create(target: &Path, inputs: &[PathBuf]) -> Result<AtomicFile> {
        AtomicFile::open(target, inputs, true)
    }

    /// As [`AtomicFile::create`], never compressed (binary formats).
    pub fn create_raw(target: &Path, inputs: &[PathBuf]) -> Result<AtomicFile> {
        AtomicFile::open(target, inputs, false)
    }

    fn open(target: &Path, inputs: &[PathBuf], compress: bool) -> Result<AtomicFile> {
        if target.as_os_str() == "-" {
            return Ok(AtomicFile::direct(target, Sink::Plain(Box::new(std::io::stdout()))));
        }
        check_not_input(target, inputs)?;
        if is_direct(target) {
            let f = std::fs::OpenOptions::new().write(true).open(target).map_err(|e| Error::io(target, e))?;
            let sink = if compress { Sink::new(Box::new(f), target) } else { Ok(Sink::Plain(Box::new(f))) };
            return Ok(AtomicFile::direct(target, sink.map_err(|e| Error::io(target, e))?));
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| Error::param(format!("{} is not a file path", target.display())))?;
        let tmp = dir.join(format!(".{}.neardup-tmp-{}", name.to_string_lossy(), std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(target, e))?;
        // from here on, dropping `out` removes the temporary file
        let mut out =
            AtomicFile { target: target.to_path_buf(), tmp: Some(tmp), writer: None, committed: false };
        let file: Box<dyn Write + Send + Sync> = Box::new(file);
        let sink = if compress { Sink::new(file, target) } else { Ok(Sink::Plain(file)) };
        out.writer = Some(BufWriter::with_capacity(1 << 20, sink.map_err(|e| out.err(e))?));
        Ok(out)
    }

    fn direct(target: &Path, w: Sink) -> AtomicFile {
        AtomicFile {
            target: target.to_path_buf(),
            tmp: None,
            writer: Some(BufWriter::with_capacity(1 << 16, w)),
            committed: false,
        }
    }

    /// An error of this output, naming its target (the temporary file is
    /// an implementation detail).
    fn err(&self, e: std::io::Error) -> Error {
        Error::io(&self.target, e)
    }

    /// `e` as the error of a write through [`Write`]: the same kind,
    /// carrying this output's path (see [`output_error`]).
    fn named(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), NamedIoError { path: self.target.clone(), source: e })
    }

    /// Write all of `bytes`, naming the file on error.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let res = match self.writer.as_mut() {
            Some(w) => w.write_all(bytes),
            None => Ok(()),
        };
        res.map_err(|e| self.err(e))
    }

    /// Flush, sync and rename into place. On error the temporary file is
    /// removed and the target left as it was.
    pub fn commit(mut self) -> Result<()> {
        let Some(w) = self.writer.take() else { return Ok(()) };
        let sink = w.into_inner().map_err(|e| self.err(e.into_error()))?;
        let mut inner = sink.finish().map_err(|e| self.err(e))?;
        inner.flush().map_err(|e| self.err(e))?;
        drop(inner);
        if let Some(tmp) = &self.tmp {
            // sync the data before the rename makes it visible
            File::open(tmp).and_then(|f| f.sync_all()).map_err(|e| Error::io(&self.target, e))?;
            std::fs::rename(tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let res = match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Ok(0),
        };
        res.map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let res = match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        };
        res.map_err(|e| self.named(e))
    }
}

/// An I/O error of an [`AtomicFile`] written through [`Write`], with the
/// file's path for [`output_error`]. Displays as the error itself: writers
/// that wrap it name the file themselves.
#[derive(Debug)]
struct NamedIoError {
    path: PathBuf,
    source: std::io::Error,
}

impl std::fmt::Display for NamedIoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

impl std::error::Error for NamedIoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.source()
    }
}

/// A write error of a generic writer as the library's error: naming the
/// output file when the writer was an [`AtomicFile`], else `fallback`.
pub(crate) fn output_error(e: std::io::Error, fallback: &str) -> Error {
    if !e.get_ref().is_some_and(|inner| inner.is::<NamedIoError>()) {
        return Error::io(fallback, e);
    }
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<NamedIoError>()) {
        Some(Ok(named)) => Error::io(named.path, named.source),
        // not reached: checked above
        Some(Err(other)) => Error::io(fallback, std::io::Error::new(kind, other)),
        None => Error::io(fallback, kind.into()),
    }
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile").field("target", &self.target).field("tmp", &self.tmp).finish()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // not committed (or the commit failed): remove the partial file
            if let Some(tmp) = &self.tmp {
                drop(self.writer.take());
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

/// Whether `target` is written directly, not through a temporary file:
/// standard output (`-`) and existing files that are neither regular files
/// nor directories (devices, pipes).
fn is_direct(target: &Path) -> bool {
    target.as_os_str() == "-" || std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The identity of an existing file, through symbolic links: device and
/// inode on Unix (so a hard link is the file it links), else the canonical
/// path.
#[cfg(unix)]
fn identity(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(p: &Path) -> Option<PathBuf> {
    p.canonicalize().ok()
}

/// Refuse a `target` that is one of `inputs` (the same file, by
/// [`identity`]) or an existing file inside an input directory. Devices and
/// pipes are written, never replaced, so they are never refused.
fn check_not_input(target: &Path, inputs: &[PathBuf]) -> Result<()> {
    if is_direct(target) {
        return Ok(());
    }
    let Some(t) = identity(target) else {
        return Ok(()); // does not exist yet, so it is no input
    };
    let canonical = target.canonicalize().ok();
    for i in inputs {
        let inside = || {
            i.is_dir() && canonical.as_ref().is_some_and(|c| i.canonicalize().is_ok_and(|i| c.starts_with(i)))
        };
        if identity(i).is_some_and(|i| i == t) || inside() {
            return Err(Error::WouldOverwriteInput(target.to_path_buf()));
        }
    }
    Ok(())
}

/// Check, before anything is read, that no one of `outputs` would replace
/// one of `inputs` (the same file, through hard and symbolic links, or an
/// existing file inside an input directory) and that no file is named as
/// two outputs. `-` (standard output), devices and pipes are written, not
/// replaced, and pass.
pub fn check_outputs(outputs: &[&Path], inputs: &[PathBuf]) -> Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for &out in outputs {
        check_not_input(out, inputs)?;
        if is_direct(out) {
            continue;
        }
        if seen.iter().any(|s| same_target(s, out)) {
            return Err(Error::param(format!("{} is named as two outputs", out.display())));
        }
        seen.push(out);
    }
    Ok(())
}

/// Whether two output paths name the same file: the same existing file, or
/// the same absolute path.
fn same_target(a: &Path, b: &Path) -> bool {
    if let (Some(x), Some(y)) = (identity(a), identity(b)) {
        return x == y;
    }
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    abs(a) == abs(b)
}

/// The outputs of one run, moved into place together: [`OutputSet::stage`]
/// gives the path to write each output to (a fresh path beside it, whose
/// name ends as the target's does, so the format and compression chosen by
/// the name are the same), and [`OutputSet::commit`] renames them all over
/// their targets once every one is written. Dropped without a commit (a
/// write failed), it removes what was staged and no target is touched.
///
/// Outputs written directly (`-`, devices, pipes) cannot wait: their
/// staging path is the target itself.
#[derive(Debug)]
pub struct OutputSet {
    inputs: Vec<PathBuf>,
    /// (staging path, target), in the order staged.
    staged: Vec<(PathBuf, PathBuf)>,
    /// How many of `staged` are renamed into place.
    committed: usize,
}

impl OutputSet {
    /// A set of outputs that must not replace any of `inputs`.
    pub fn new(inputs: &[PathBuf]) -> OutputSet {
        OutputSet { inputs: inputs.to_vec(), staged: Vec::new(), committed: 0 }
    }

    /// The path to write `target` to. Refuses, at once, a target that is an
    /// input or that is already in the set.
    pub fn stage(&mut self, target: &Path) -> Result<PathBuf> {
        check_not_input(target, &self.inputs)?;
        if is_direct(target) {
            return Ok(target.to_path_buf());
        }
        if self.staged.iter().any(|(_, t)| same_target(t, target)) {
            return Err(Error::param(format!("{} is named as two outputs", target.display())));
        }
        let name = target
            .file_name()
            .ok_or_else(|| Error::param(format!("{} is not a file path", target.display())))?;
        let staging =
            target.with_file_name(format!(".neardup-{}.{}", std::process::id(), name.to_string_lossy()));
        self.staged.push((staging.clone(), target.to_path_buf()));
        Ok(staging)
    }

    /// Move every staged output over its target. Every one must have been
    /// written; an output directory (a corpus of whole files) must not
    /// replace an existing path.
    pub fn commit(mut self) -> Result<()> {
        for (staging, target) in &self.staged {
            let meta = std::fs::symlink_metadata(staging).map_err(|e| Error::io(staging, e))?;
            if meta.is_dir() && std::fs::symlink_metadata(target).is_ok() {
                return Err(Error::param(format!("output directory {} already exists", target.display())));
            }
        }
        while let Some((staging, target)) = self.staged.get(self.committed) {
            std::fs::rename(staging, target).map_err(|e| Error::io(target, e))?;
            self.committed += 1;
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        for (staging, _) in &self.staged[self.committed..] {
            match std::fs::symlink_metadata(staging) {
                Ok(m) if m.is_dir() => drop(std::fs::remove_dir_all(staging)),
                Ok(_) => drop(std::fs::remove_file(staging)),
                Err(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn commit_and_abort() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let mut f = AtomicFile::create(&p, &[]).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!p.exists());
        f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        let mut f = AtomicFile::create(&p, &[]).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn compressed_by_extension_unless_raw() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"line one\nline two\n".repeat(100);
        for (name, raw) in [("o.jsonl.gz", false), ("o.jsonl.zst", false), ("o.ndx.gz", true)] {
            let p = dir.path().join(name);
            let mut f =
                if raw { AtomicFile::create_raw(&p, &[]) } else { AtomicFile::create(&p, &[]) }.unwrap();
            f.write_all(&text).unwrap();
            f.commit().unwrap();
            let bytes = std::fs::read(&p).unwrap();
            let back = if raw {
                bytes
            } else if name.ends_with(".gz") {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
                    .unwrap();
                out
            } else {
                zstd::decode_all(&bytes[..]).unwrap()
            };
            assert_eq!(back, text, "{name}");
        }
    }

    #[test]
    fn devices_are_written_directly() {
        let mut f = AtomicFile::create(Path::new("/dev/null"), &[]).unwrap();
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[test]
    fn refuses_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.jsonl");
        std::fs::write(&p, "x").unwrap();
        assert!(matches!(
            AtomicFile::create(&p, std::slice::from_ref(&p)),
            Err(Error::WouldOverwriteInput(_))
        ));
        let inside = dir.path().join("new");
        assert!(AtomicFile::create(&inside, &[dir.path().to_path_buf()]).is_ok());
        assert!(matches!(
            AtomicFile::create(&p, &[dir.path().to_path_buf()]),
            Err(Error::WouldOverwriteInput(_))
        ));
    }

    /// Names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn refuses_hard_and_symbolic_links_of_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "x").unwrap();
        let (hard, soft) = (dir.path().join("hard.jsonl"), dir.path().join("soft.jsonl"));
        std::fs::hard_link(&input, &hard).unwrap();
        std::os::unix::fs::symlink(&input, &soft).unwrap();
        let refused = |target: &Path, inputs: &[PathBuf]| {
            matches!(AtomicFile::create(target, inputs), Err(Error::WouldOverwriteInput(p)) if p == target)
                && matches!(AtomicFile::create_raw(target, inputs), Err(Error::WouldOverwriteInput(_)))
                && matches!(check_outputs(&[target], inputs), Err(Error::WouldOverwriteInput(_)))
        };
        for (target, protect) in
            [(&hard, &input), (&soft, &input), (&input, &hard), (&input, &soft), (&hard, &soft)]
        {
            assert!(refused(target, std::slice::from_ref(protect)), "{target:?} over {protect:?}");
        }
        // a copy is another file
        let copy = dir.path().join("copy.jsonl");
        std::fs::copy(&input, &copy).unwrap();
        assert!(!refused(&copy, std::slice::from_ref(&input)));
        // a hard link inside an input directory, or the directory itself
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::hard_link(&input, sub.join("a.jsonl")).unwrap();
        assert!(refused(&sub.join("a.jsonl"), std::slice::from_ref(&sub)));
        assert!(check_outputs(&[&sub], std::slice::from_ref(&sub)).is_err());
        assert!(check_outputs(&[&sub.join("new.jsonl")], std::slice::from_ref(&sub)).is_ok());
        // devices are written, not replaced
        assert!(check_outputs(&[Path::new("/dev/null")], &[PathBuf::from("/dev/null")]).is_ok());
        assert_eq!(std::fs::read(&input).unwrap(), b"x");
        assert_eq!(names(dir.path()), ["copy.jsonl", "hard.jsonl", "in.jsonl", "soft.jsonl", "sub"]);
    }

    #[test]
    fn check_outputs_refuses_a_file_named_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        assert!(check_outputs(&[&a, &b, Path::new("-"), Path::new("-")], &[]).is_ok());
        let again = dir.path().join(".").join("a");
        assert!(
            matches!(check_outputs(&[&a, &b, &again], &[]), Err(Error::InvalidParameter(m)) if m.contains("two outputs"))
        );
        std::fs::write(&a, "x").unwrap();
        std::fs::hard_link(&a, &b).unwrap();
        assert!(check_outputs(&[&a, &b], &[]).is_err());
        let mut set = OutputSet::new(&[]);
        set.stage(&a).unwrap();
        assert!(matches!(set.stage(&b), Err(Error::InvalidParameter(_))));
    }

    /// A writer whose every write and flush fails as a full disk does.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(28))
        }
    }

    #[test]
    fn a_failed_commit_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        for compress in [false, true] {
            let target = if compress { dir.path().join("out.jsonl.gz") } else { p.clone() };
            let mut f = AtomicFile::create(&target, &[]).unwrap();
            // the temporary file exists; the bytes go to a full disk
            assert_eq!(names(dir.path()).len(), 1);
            let sink = if compress {
                Sink::new(Box::new(Full), &target).unwrap()
            } else {
                Sink::Plain(Box::new(Full))
            };
            f.writer = Some(BufWriter::with_capacity(1 << 20, sink));
            // smaller than the buffer: the failure comes at the commit
            f.write_all(b"a line\n").unwrap();
            let e = f.commit().unwrap_err();
            assert!(matches!(&e, Error::Io { path, .. } if path == &target), "{e}");
            assert_eq!(names(dir.path()), Vec::<String>::new(), "compress {compress}");
        }
        // a failed write through `Write` names the file
        let mut f = AtomicFile::create(&p, &[]).unwrap();
        f.writer = Some(BufWriter::with_capacity(4, Sink::Plain(Box::new(Full))));
        let e = Write::write_all(&mut f, b"more than four bytes").unwrap_err();
        assert_eq!(e.raw_os_error(), None);
        assert_eq!(e.kind(), std::io::Error::from_raw_os_error(28).kind());
        assert!(matches!(output_error(e, "fallback"), Error::Io { path, .. } if path == p));
        drop(f);
        assert_eq!(names(dir.path()), Vec::<String>::new());
        assert!(
            matches!(output_error(std::io::Error::other("x"), "fallback"), Error::Io { path, .. } if path == Path::new("fallback"))
        );
    }

    #[test]
    fn a_full_disk_at_commit_leaves_no_temporary_file() {
        if !Path::new("/dev/full").exists() {
            eprintln!("skipping: no /dev/full");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        // the temporary file is made on a full disk: /dev/full behind a link
        let tmp = dir.path().join(format!(".out.jsonl.neardup-tmp-{}", std::process::id()));
        std::os::unix::fs::symlink("/dev/full", &tmp).unwrap();
        let mut f = AtomicFile::create(&p, &[]).unwrap();
        f.write_all(b"smaller than the write buffer\n").unwrap();
        let e = f.commit().unwrap_err().to_string();
        assert!(e.contains("out.jsonl") && e.contains("No space left"), "{e}");
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn an_output_set_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "in").unwrap();
        let (a, b) = (dir.path().join("a.jsonl.gz"), dir.path().join("b.parquet"));
        std::fs::write(&b, "old").unwrap();
        let write = |p: &Path, text: &[u8]| {
            let mut f = AtomicFile::create(p, &[]).unwrap();
            f.write_all(text).unwrap();
            f.commit().unwrap();
        };
        // a failed run: what was staged goes, the targets stay as they were
        let mut set = OutputSet::new(std::slice::from_ref(&input));
        assert!(matches!(set.stage(&input), Err(Error::WouldOverwriteInput(_))));
        let (sa, sb) = (set.stage(&a).unwrap(), set.stage(&b).unwrap());
        // the name ends as the target's does
        assert!(sa.to_string_lossy().ends_with(".a.jsonl.gz") && sb.extension().unwrap() == "parquet");
        assert_eq!(sa.parent(), a.parent());
        assert_eq!(set.stage(Path::new("-")).unwrap(), Path::new("-"));
        assert_eq!(set.stage(Path::new("/dev/null")).unwrap(), Path::new("/dev/null"));
        write(&sa, b"new a");
        drop(set);
        assert_eq!(names(dir.path()), ["b.parquet", "in.jsonl"]);
        // a run that wrote everything
        let mut set = OutputSet::new(&[]);
        let (sa, sb) = (set.stage(&a).unwrap(), set.stage(&b).unwrap());
        write(&sa, b"new a");
        write(&sb, b"new b");
        assert!(!a.exists());
        set.commit().unwrap();
        assert_eq!(names(dir.path()), ["a.jsonl.gz", "b.parquet", "in.jsonl"]);
        assert_eq!(std::fs::read(&b).unwrap(), b"new b");
        // an output that was never written fails the commit, which moves nothing
        let mut set = OutputSet::new(&[]);
        let (sa, _) = (set.stage(&a).unwrap(), set.stage(&b).unwrap());
        write(&sa, b"newer a");
        assert!(set.commit().is_err());
        assert_eq!(names(dir.path()), ["a.jsonl.gz", "b.parquet", "in.jsonl"]);
        // a staged directory does not replace an existing path
        let mut set = OutputSet::new(&[]);
        let sd = set.stage(&b).unwrap();
        std::fs::create_dir(&sd).unwrap();
        std::fs::write(sd.join("x"), "x").unwrap();
        assert!(matches!(set.commit(), Err(Error::InvalidParameter(m)) if m.contains("already exists")));
        assert_eq!(names(dir.path()), ["a.jsonl.gz", "b.parquet", "in.jsonl"]);
        assert_eq!(std::fs::read(&b).unwrap(), b"new b");
    }
}
