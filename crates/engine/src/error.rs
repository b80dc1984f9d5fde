//! Errors carry the path that caused them and a reason, so callers can always name the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, as a stable code the bindings expose unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The variant directory or file does not exist.
    NotFound,
    /// The variant path exists but is not a directory.
    NotADirectory,
    /// The path is not a regular file (FIFO, socket, device, directory).
    NotARegularFile,
    /// A symlink whose target does not exist or cannot be resolved (loops included).
    DanglingSymlink,
    /// A file name that is not valid UTF-8 cannot become a digest key.
    InvalidName,
    /// The file changed (size or modification time) while it was being hashed.
    FileChanged,
    /// The files cut into more shards than one job hashes ([`crate::files::MAX_PIECES`]).
    TooManyShards,
    /// The caller cancelled the work.
    Cancelled,
    /// Any other I/O failure (permissions, read errors, ...).
    Io,
}

impl ErrorKind {
    /// The code exposed to callers (same in the native and pure backends).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::NotADirectory => "NOT_A_DIRECTORY",
            ErrorKind::NotARegularFile => "NOT_A_REGULAR_FILE",
            ErrorKind::DanglingSymlink => "DANGLING_SYMLINK",
            ErrorKind::InvalidName => "INVALID_NAME",
            ErrorKind::FileChanged => "FILE_CHANGED",
            ErrorKind::TooManyShards => "TOO_MANY_SHARDS",
            ErrorKind::Cancelled => "CANCELLED",
            ErrorKind::Io => "IO",
        }
    }
}

/// An engine error: a kind, the path it concerns, and a human reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub path: PathBuf,
    pub reason: String,
}

impl Error {
    pub fn new(kind: ErrorKind, path: &Path, reason: impl Into<String>) -> Error {
        Error { kind, path: path.to_path_buf(), reason: reason.into() }
    }

    pub fn cancelled(path: &Path) -> Error {
        Error::new(ErrorKind::Cancelled, path, "the operation was cancelled")
    }

    /// A symlink whose target cannot be resolved; names the target it points at.
    pub fn dangling(path: &Path, err: &io::Error) -> Error {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".to_string());
        Error::new(
            ErrorKind::DanglingSymlink,
            path,
            format!("dangling symlink to {target} ({})", describe_io(err)),
        )
    }

    /// Wraps an I/O error, keeping "not found" distinct so callers can report it plainly.
    pub fn io(path: &Path, action: &str, err: &io::Error) -> Error {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        Error::new(kind, path, format!("cannot {action}: {}", describe_io(err)))
    }
}

/// Whether following a symlink failed because its target is missing or loops.
pub(crate) fn is_unresolvable(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::NotFound || err.raw_os_error() == Some(libc::ELOOP)
}

/// The OS message without Rust's "(os error N)" suffix.
pub(crate) fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for Error {}
