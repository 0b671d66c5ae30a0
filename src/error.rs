//! The library's error type.

use std::fmt;
use std::path::PathBuf;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside neardup, with enough context (file,
/// line or record) for a user to find the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is outside its valid range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// An input or output file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A record of an input could not be used (only returned in strict mode;
    /// otherwise bad records are reported in the summary and skipped).
    #[error("{0}")]
    BadRecord(BadRecord),
    /// Two sketches made with different parameters were compared.
    #[error("incompatible sketches: {0}")]
    Incompatible(String),
    /// A file neardup wrote (a saved index, a stage file, a work directory's
    /// checkpoint) or an input that changed while it was read cannot be
    /// used: truncated, corrupted, altered, or written by a newer neardup.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A work directory is in use by another run.
    #[error("{}: {reason}", path.display())]
    Busy {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be used now.
        reason: String,
    },
    /// A combination of inputs, outputs and parameters this version cannot
    /// process (each part valid on its own).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A failure inside neardup that no input explains (a bug).
    #[error("internal error: {0}")]
    Internal(String),
    /// An output path names one of the inputs.
    #[error("refusing to overwrite input file {}", .0.display())]
    WouldOverwriteInput(PathBuf),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn param(msg: impl Into<String>) -> Error {
        Error::InvalidParameter(msg.into())
    }
}

/// One input record that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BadRecord {
    /// The file the record came from (`-` for standard input).
    pub file: String,
    /// 1-based line number of the record (for whole-file documents, 1).
    pub line: u64,
    /// What was wrong with it.
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}
