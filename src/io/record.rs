//! What every reader and writer shares, and nothing else: how inputs are
//! named and laid out, how they are read, and what a record turned into.
//! A leaf: it imports no other `io` module.

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{BadRecord, Error};

/// How the records of an input are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// By extension: `.jsonl`, `.ndjson`, `.json` are JSONL, anything else is
    /// text; standard input is JSONL when its first non-blank byte is `{`.
    #[default]
    Auto,
    /// One JSON object per line.
    Jsonl,
    /// One document per file.
    Text,
    /// One document per line.
    Lines,
    /// WARC or WET records (Common Crawl): `.warc`, `.wet`, or content
    /// starting with `WARC/`.
    Warc,
    /// Parquet (`.parquet`, or content starting with `PAR1`): one document
    /// per row, the text and id from the columns named by
    /// [`ReadOptions::text_field`] and [`ReadOptions::id_field`].
    Parquet,
}

/// How an input file is compressed: by its magic bytes, else by its
/// extension (`.gz`, `.zst`, `.zstd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Compression {
    /// Not compressed.
    #[default]
    None,
    /// gzip, one or more members (as `.gz` shards and `.warc.gz` files are).
    Gzip,
    /// Zstandard, one or more frames.
    Zstd,
}

impl Compression {
    pub(crate) fn from_magic(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The compression an extension names, and the file name without it.
    pub(crate) fn from_name(name: &str) -> (Compression, &str) {
        let lower = name.to_ascii_lowercase();
        for (ext, c) in
            [(".gz", Compression::Gzip), (".zst", Compression::Zstd), (".zstd", Compression::Zstd)]
        {
            if lower.ends_with(ext) {
                return (c, &name[..name.len() - ext.len()]);
            }
        }
        (Compression::None, name)
    }
}

/// How to read inputs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Record layout. By default, [`Format::Auto`].
    pub format: Format,
    /// JSON field holding the text. By default, `text`.
    pub text_field: String,
    /// JSON field holding the document id; documents without it get
    /// `FILE:LINE`. By default, `id`.
    pub id_field: Option<String>,
    /// Memory-map regular files (else read them as streams). By default, true.
    pub mmap: bool,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: Format::Auto,
            text_field: "text".into(),
            id_field: Some("id".into()),
            mmap: true,
        }
    }
}

/// One input: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The path, `None` for standard input.
    pub path: Option<PathBuf>,
    /// The name used in ids and messages (`-` for standard input).
    pub name: String,
    /// The format (`Auto` only for standard input and compressed files whose
    /// inner extension says nothing; resolved from the content when read).
    pub format: Format,
    /// How the file is compressed (standard input: never).
    pub compression: Compression,
}

/// The bytes of an input, kept for copying records to the output.
#[derive(Debug)]
pub(crate) enum Bytes {
    Map(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// An input's bytes, as the blocks they were read in, each with its offset.
#[derive(Debug, Default)]
pub(crate) struct Retained {
    pub blocks: Vec<(u64, Bytes)>,
    /// Bytes read from the input.
    pub len: u64,
    /// The input's format, resolved.
    pub format: Format,
    /// Reading stopped early: the input is truncated or corrupt (reported as
    /// a bad record with the offset).
    pub failed: bool,
    /// Lone UTF-16 surrogate escapes (`"\ud800"`) in JSON strings, read as
    /// U+FFFD in records that were kept.
    pub replaced_surrogates: u64,
}

impl Retained {
    /// The bytes `start..end` of the input (a record never spans blocks).
    pub fn slice(&self, start: u64, end: u64) -> &[u8] {
        let i = self.blocks.partition_point(|(off, _)| *off <= start) - 1;
        let (off, b) = &self.blocks[i];
        &b[(start - off) as usize..(end - off) as usize]
    }
}

/// One usable record.
#[derive(Debug)]
pub(crate) struct Record<T> {
    pub id: String,
    /// Byte range of the whole record in the input (line with its newline).
    pub start: u64,
    pub end: u64,
    /// Bytes of the document's text.
    pub text_len: u64,
    pub value: T,
}

/// What one record of the input turned into.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    Doc(Record<T>),
    Bad(BadRecord),
}

/// Size of the blocks streamed inputs are read in.
pub(crate) const BLOCK: usize = if cfg!(test) { 64 << 10 } else { 16 << 20 };

/// Whether `path` names a Parquet file (by extension).
pub(crate) fn is_parquet_name(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// A Parquet failure as an error naming the file.
pub(crate) fn parquet_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}
