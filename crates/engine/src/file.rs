//! Hashing one file: read into a reused buffer, detect files that change underneath us.
//!
//! Reads, not mmap: a file truncated while it is mapped raises SIGBUS and kills the process,
//! and with hashing far slower than copying from the page cache, reads cost next to nothing.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::algorithm::Algorithm;
use crate::error::{is_unresolvable, Error, ErrorKind};

/// Size of the read buffer for one file: large enough to amortize syscalls, small enough to
/// stay in L2 between the copy and the hash.
pub const CHUNK: usize = 256 * 1024;
/// BLAKE3 spreads one chunk over all cores when the chunk is large; files at least this big
/// are read in chunks of this size.
pub const PARALLEL_CHUNK: usize = 8 * 1024 * 1024;

/// What to do between chunks: report bytes read and check for cancellation.
pub struct Hooks<'a> {
    pub on_bytes: &'a (dyn Fn(u64) + Sync),
    pub cancel: &'a AtomicBool,
}

impl Hooks<'_> {
    /// Hooks that report nothing and never cancel.
    pub fn none() -> Hooks<'static> {
        static NEVER: AtomicBool = AtomicBool::new(false);
        Hooks { on_bytes: &|_| {}, cancel: &NEVER }
    }
}

/// The digest of one file and the number of bytes hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    pub digest: Vec<u8>,
    pub bytes: u64,
}

/// Hashes the file at `path` (following symlinks). `buffer` is reused across calls.
pub fn hash_file_with(
    path: &Path,
    algorithm: Algorithm,
    buffer: &mut Vec<u8>,
    hooks: &Hooks<'_>,
) -> Result<FileDigest, Error> {
    let file = open_regular(path)?;
    let before = file.metadata().map_err(|err| Error::io(path, "stat", &err))?;
    let chunk = if algorithm == Algorithm::Blake3 && before.len() >= PARALLEL_CHUNK as u64 {
        PARALLEL_CHUNK
    } else {
        CHUNK
    };
    if buffer.len() < chunk {
        buffer.resize(chunk, 0);
    }
    let mut hasher = algorithm.hasher();
    let mut total: u64 = 0;
    let mut reader = &file;
    loop {
        if hooks.cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(path));
        }
        let n = match reader.read(&mut buffer[..chunk]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == IoErrorKind::Interrupted => continue,
            Err(err) => return Err(Error::io(path, "read", &err)),
        };
        if chunk == PARALLEL_CHUNK {
            hasher.update_parallel(&buffer[..n]);
        } else {
            hasher.update(&buffer[..n]);
        }
        total += n as u64;
        (hooks.on_bytes)(n as u64);
    }
    let after = file.metadata().map_err(|err| Error::io(path, "stat", &err))?;
    if total != before.len() || changed(&before, &after) {
        return Err(Error::new(
            ErrorKind::FileChanged,
            path,
            format!(
                "file changed while it was hashed (size {} when opened, {} read, {} now)",
                before.len(),
                total,
                after.len()
            ),
        ));
    }
    Ok(FileDigest { digest: hasher.finalize(), bytes: total })
}

/// Hashes one file with a fresh buffer.
pub fn hash_file(path: &Path, algorithm: Algorithm, hooks: &Hooks<'_>) -> Result<FileDigest, Error> {
    hash_file_with(path, algorithm, &mut Vec::new(), hooks)
}

/// Opens `path` for reading and refuses anything but a regular file. The open is non-blocking
/// so that a FIFO swapped in after the walk cannot stall us; it is refused right after.
fn open_regular(path: &Path) -> Result<File, Error> {
    // Refuse special files before opening them: opening some devices has side effects.
    check_regular(std::fs::metadata(path).map_err(|err| not_openable(path, &err))?, path)?;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC);
    }
    let file = options.open(path).map_err(|err| not_openable(path, &err))?;
    // Checked again on the open file: the path may have been swapped since the first check.
    check_regular(file.metadata().map_err(|err| Error::io(path, "stat", &err))?, path)?;
    Ok(file)
}

fn check_regular(meta: Metadata, path: &Path) -> Result<(), Error> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::NotARegularFile, path, "not a regular file"))
    }
}

fn not_openable(path: &Path, err: &std::io::Error) -> Error {
    let is_symlink = std::fs::symlink_metadata(path).map(|m| m.file_type().is_symlink());
    if is_symlink.unwrap_or(false) && is_unresolvable(err) {
        Error::dangling(path, err)
    } else {
        Error::io(path, "open", err)
    }
}

fn changed(before: &Metadata, after: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        before.len() != after.len()
            || before.ino() != after.ino()
            || before.mtime() != after.mtime()
            || before.mtime_nsec() != after.mtime_nsec()
    }
    #[cfg(not(unix))]
    {
        before.len() != after.len() || before.modified().ok() != after.modified().ok()
    }
}
