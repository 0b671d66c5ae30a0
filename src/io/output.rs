//! Atomic output files: written to a temporary file beside the target and
//! renamed over it only when complete, so an interrupted run leaves no
//! half-written file. Refuses to overwrite an input. Targets that are not
//! regular files (`-` for standard output, `/dev/stdout`, a named pipe) are
//! written directly: there is nothing to rename over them. A target ending in
//! `.gz` or `.zst` is compressed (gzip, zstd level 3), unless made with
//! [`AtomicFile::create_raw`].

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
}

/// Where the bytes go: straight to the file or stream, or through a
/// compressor that is finished on commit.
enum Sink {
    Plain(Box<dyn Write + Send>),
    Gzip(flate2::write::GzEncoder<Box<dyn Write + Send>>),
    Zstd(zstd::Encoder<'static, Box<dyn Write + Send>>),
}

impl Sink {
    fn new(w: Box<dyn Write + Send>, target: &Path) -> std::io::Result<Sink> {
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
    fn finish(self) -> std::io::Result<Box<dyn Write + Send>> {
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
            OutputFormat::Auto => crate::io::parquet::is_parquet_name(path),
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
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
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
        let file: Box<dyn Write + Send> = Box::new(File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
        let sink = if compress { Sink::new(file, target) } else { Ok(Sink::Plain(file)) };
        let sink = sink.map_err(|e| Error::io(&tmp, e))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            tmp: Some(tmp),
            writer: Some(BufWriter::with_capacity(1 << 20, sink)),
        })
    }

    fn direct(target: &Path, w: Sink) -> AtomicFile {
        AtomicFile {
            target: target.to_path_buf(),
            tmp: None,
            writer: Some(BufWriter::with_capacity(1 << 16, w)),
        }
    }

    fn err(&self, e: std::io::Error) -> Error {
        Error::io(self.tmp.as_ref().unwrap_or(&self.target), e)
    }

    /// Write all of `bytes`, naming the file on error.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let res = match self.writer.as_mut() {
            Some(w) => w.write_all(bytes),
            None => Ok(()),
        };
        res.map_err(|e| self.err(e))
    }

    /// Flush, sync and rename into place.
    pub fn commit(mut self) -> Result<()> {
        let Some(w) = self.writer.take() else { return Ok(()) };
        let sink = w.into_inner().map_err(|e| self.err(e.into_error()))?;
        let mut inner = sink.finish().map_err(|e| self.err(e))?;
        inner.flush().map_err(|e| self.err(e))?;
        drop(inner);
        if let Some(tmp) = &self.tmp {
            // sync the data before the rename makes it visible
            File::open(tmp).and_then(|f| f.sync_all()).map_err(|e| Error::io(tmp, e))?;
            std::fs::rename(tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Ok(0),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile").field("target", &self.target).field("tmp", &self.tmp).finish()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            // not committed: remove the partial file
            if let Some(tmp) = &self.tmp {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

fn check_not_input(target: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Ok(t) = target.canonicalize() else {
        return Ok(()); // does not exist yet, so it is no input
    };
    for i in inputs {
        if i.canonicalize().is_ok_and(|i| i == t || t.starts_with(&i) && i.is_dir()) {
            return Err(Error::WouldOverwriteInput(target.to_path_buf()));
        }
    }
    Ok(())
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
}
