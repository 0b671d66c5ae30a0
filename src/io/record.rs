//! What every reader and writer shares, and nothing else: how inputs are
//! named and laid out, how they are read, and what a record turned into.
//! A leaf: it imports no other `io` module.

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{BadRecord, Error};
use crate::pipeline::cluster::Keep;

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
    /// Which document of a cluster is kept: when set, every document's
    /// preference is collected while reading (its text length, or the
    /// value of the policy's field). Set by the deduplicator from its
    /// [`Keep`] policy.
    pub(crate) keep: Option<Keep>,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: Format::Auto,
            text_field: "text".into(),
            id_field: Some("id".into()),
            mmap: true,
            keep: None,
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
    /// The value of the keep policy's field ([`ReadOptions::keep`]), when
    /// the record has one that reads as a number or a timestamp.
    pub key: Option<f64>,
    pub value: T,
}

/// A field's text as a keep value: a number, else a timestamp
/// (`YYYY-MM-DD`, with `THH:MM[:SS[.fff]]` and `Z` or `+HH:MM`), as seconds
/// since 1970-01-01 UTC. `None` for anything else.
pub(crate) fn key_value(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    timestamp(s)
}

/// An ISO 8601 / RFC 3339 date or date-time as seconds since the epoch.
fn timestamp(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) as f64 * 86_400.0;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let time = rest.strip_prefix(['T', 't', ' '])?;
    let tb = time.as_bytes();
    let tnum = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = tb.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (hh, mm) = (tnum(0..2)?, tnum(3..5)?);
    if tb.get(2) != Some(&b':') || hh > 23 || mm > 59 {
        return None;
    }
    let mut at = 5;
    let mut ss = 0.0;
    if tb.get(5) == Some(&b':') {
        let whole = tnum(6..8)?;
        at = 8;
        let mut frac = String::from("0");
        if tb.get(8) == Some(&b'.') {
            let digits = tb[9..].iter().take_while(|c| c.is_ascii_digit()).count();
            frac = format!("0.{}", &time[9..9 + digits]);
            at = 9 + digits;
        }
        if whole > 60 {
            return None;
        }
        ss = whole as f64 + frac.parse::<f64>().ok()?;
    }
    secs += (hh * 3600 + mm * 60) as f64 + ss;
    let zone = &time[at..];
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = zone[1..].replace(':', "");
            if z.len() != 4 || !z.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om): (i64, i64) = (z[..2].parse().ok()?, z[2..].parse().ok()?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(secs - offset as f64)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::key_value;

    #[test]
    fn keep_values_read_numbers_and_timestamps() {
        assert_eq!(key_value("42"), Some(42.0));
        assert_eq!(key_value(" -0.5 "), Some(-0.5));
        assert_eq!(key_value("1970-01-01"), Some(0.0));
        assert_eq!(key_value("1970-01-02T00:00:01Z"), Some(86_401.0));
        assert_eq!(key_value("2024-02-29T12:30:00Z"), Some(1_709_209_800.0));
        assert_eq!(key_value("2024-02-29T14:30:00+02:00"), Some(1_709_209_800.0));
        assert_eq!(key_value("2024-02-29T12:30:00.250Z"), Some(1_709_209_800.25));
        assert_eq!(key_value("2024-02-29 12:30"), Some(1_709_209_800.0));
        assert!(key_value("2023-01-02T00:00:00Z") > key_value("2023-01-01T23:59:59Z"));
        for bad in [
            "",
            "abc",
            "NaN",
            "inf",
            "2024-13-01",
            "2024-02-29T25:00:00Z",
            "2024-02-29T12:30:00+2",
            "2024/02/29",
        ] {
            assert_eq!(key_value(bad), None, "{bad:?}");
        }
    }
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
