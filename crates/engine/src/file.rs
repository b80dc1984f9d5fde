//! Hashing one file, or a byte range of it: large ones through one mapping (see `crate::mapped`,
//! safe against a file cut short underneath), the others read into a reused buffer; detect
//! files that change underneath us.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use crate::algorithm::{Algorithm, Hasher};
use crate::error::{is_unresolvable, Error, ErrorKind};
use crate::mapped;
use crate::options::{Options, Progress};

/// Size of the read buffer for one file: large enough to amortize syscalls, small enough to
/// stay in L2 between the copy and the hash (1 MiB measured best against 256 KiB and 4 MiB).
const CHUNK: usize = 1024 * 1024;
/// Files at least this big that are not mapped (mapping is off or failed, see `MAP_THRESHOLD`)
/// are read by a second thread while the hashing thread hashes what it read before:
/// - BLAKE3 always (the hashing thread spreads each chunk over the rayon pool): the copy out of
///   the page cache is its bottleneck;
/// - SHA-2 only when a core would otherwise idle (`Hooks::spare_core`: fewer files than
///   threads, or one large file among small ones): the copy then runs beside the hashing
///   instead of before it.
///   Measured on 2 cores with SHA extensions, one 1 GiB file: 1.73-1.76 GB/s against 1.45-1.55
///   read on the hashing thread, 0.96-0.99 x OpenSSL on one core in memory. With every core
///   hashing, a reader thread only takes time from them (15-20% slower, measured before).
const PIPELINE_THRESHOLD: u64 = 16 * 1024 * 1024;
const PIPELINE_CHUNK: usize = 1024 * 1024;
/// Buffers in flight between the reader and the hasher.
const PIPELINE_DEPTH: usize = 4;
/// Pieces at least this big are hashed through one mapping of the whole piece, as `b3sum` does
/// (no copy out of the page cache), when every core has a piece of its own to hash. Smaller ones
/// are read: mapping costs system calls, page faults and TLB flushes of its own (1000 files of
/// 64 KiB took 10-20% more CPU time mapped). With a core to spare (fewer pieces than threads: one
/// large file, say), they are read by the pipeline instead, the copy on one core beside the
/// hashing on the other, where a mapping faults its pages in on the hashing thread. Measured in
/// `kernelseal bench` (native and native-read side by side, one run, 2 cores, 5 rounds): one
/// 1 GiB file, SHA-256 0.84 GB/s mapped against 1.45 read, BLAKE3 2.80 against 5.26; 64 files
/// of 16 MiB, SHA-256 3.05 mapped against 2.86 read, BLAKE3 10.2 against 1.49.
const MAP_THRESHOLD: u64 = 4 * 1024 * 1024;
/// Bytes of a mapped piece hashed between progress reports and cancellation checks; the pages
/// hashed are then dropped from the mapping, so that the process's resident memory does not
/// grow with the file (a 10 GB model would otherwise count 10 GB of page cache).
const MAPPED_SLICE: usize = 16 * 1024 * 1024;

/// What to do between chunks: report bytes read and check for cancellation.
pub(crate) struct Hooks<'a> {
    pub on_bytes: &'a (dyn Fn(u64) + Sync),
    pub cancel: &'a AtomicBool,
    /// Whether a core would idle while this file is hashed (fewer pieces than threads, or this
    /// one more than its share of the bytes): it is then read, a second thread reading ahead,
    /// rather than mapped (see `PIPELINE_THRESHOLD`, `MAP_THRESHOLD`).
    pub spare_core: bool,
}

/// The digest of one file and the number of bytes hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    pub digest: Vec<u8>,
    pub bytes: u64,
}

/// How much is known of a file before it is opened. Special files are never opened
/// (SECURITY.md: opening some devices has side effects); the open descriptor is checked again
/// either way, before a byte is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listed {
    /// Nothing, or the path was reached through a symlink: its metadata is looked up by path
    /// first, and a special file is refused unopened.
    No,
    /// The variant walk found a regular file there, itself, not a link. It is opened with
    /// O_NOFOLLOW and no lookup before: a symlink (to a device, say) swapped in since is
    /// refused by the open itself, and planting a device node needs CAP_MKNOD. This saves a
    /// system call per file, as much as hashing a few KiB.
    Regular,
}

/// Hashes the whole file at `path` (following symlinks). `buffer` is reused across calls.
pub(crate) fn hash_file_with(
    path: &Path,
    algorithm: Algorithm,
    listed: Listed,
    buffer: &mut Vec<u8>,
    hooks: &Hooks<'_>,
) -> Result<FileDigest, Error> {
    let (file, before) = open_regular(path, listed)?;
    let size = before.len();
    hash_open(&file, path, algorithm, before, 0..size, buffer, hooks)
}

/// What identifies a file between two looks (the TypeScript twin: src/hashing/fingerprint.ts
/// `FileFingerprint`): size, inode and modification time; a file replaced by another (renamed
/// over it, same size and mtime) has a new inode, one written in place a new size or mtime. With
/// the change time too, which a walk hands on for receipts (src/kernels/hub/receipts.ts): the
/// file's owner can set mtime back after a write, but only root can set ctime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub size: u64,
    pub inode: u64,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
    /// Status change time: seconds and nanoseconds since the epoch.
    pub ctime: (i64, i64),
}

impl Fingerprint {
    /// What `meta` says; the one place file identities are read from metadata.
    pub(crate) fn of(meta: &Metadata) -> Fingerprint {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Fingerprint { size: meta.len(), inode: meta.ino(), mtime: (meta.mtime(), meta.mtime_nsec()), ctime: (meta.ctime(), meta.ctime_nsec()) }
        }
        #[cfg(not(unix))]
        {
            // No inode or change time here: the modification time alone.
            let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            Fingerprint { size: meta.len(), inode: 0, mtime: mtime.map_or((0, 0), |d| (d.as_secs() as i64, d.subsec_nanos() as i64)), ctime: (0, 0) }
        }
    }

    /// Whether `now` is still this file's content: size, inode and mtime. The change time is
    /// left out, as the TypeScript twin leaves it out of "changed while read": a `chmod` or a
    /// new hard link changes it, not the content.
    pub(crate) fn same_content(&self, now: &Fingerprint) -> bool {
        (self.size, self.inode, self.mtime) == (now.size, now.inode, now.mtime)
    }
}

/// Hashes the bytes `range` of the file at `path`, which must still have the fingerprint it
/// had when it was `listed`: the pieces of one file, hashed apart, then all hash one content.
pub(crate) fn hash_file_range(
    path: &Path,
    algorithm: Algorithm,
    range: Range<u64>,
    listed: &Fingerprint,
    buffer: &mut Vec<u8>,
    hooks: &Hooks<'_>,
) -> Result<FileDigest, Error> {
    let (file, before) = open_regular(path, Listed::No)?;
    if !listed.same_content(&Fingerprint::of(&before)) || range.end > listed.size {
        return Err(Error::new(
            ErrorKind::FileChanged,
            path,
            format!("file changed after it was listed (size {} then, {} now)", listed.size, before.len()),
        ));
    }
    hash_open(&file, path, algorithm, before, range, buffer, hooks)
}

/// Hashes `range` of an open file whose metadata at opening was `before`, and checks that the
/// file did not change while it was read.
fn hash_open(
    file: &File,
    path: &Path,
    algorithm: Algorithm,
    before: Metadata,
    range: Range<u64>,
    buffer: &mut Vec<u8>,
    hooks: &Hooks<'_>,
) -> Result<FileDigest, Error> {
    let len = range.end - range.start;
    let mut hasher = algorithm.hasher();
    if len >= PIPELINE_THRESHOLD {
        advise_sequential(file);
    }
    // BLAKE3 spreads each chunk over the pool, with a core to spare (one thread means one core).
    let parallel = algorithm == Algorithm::Blake3 && rayon::current_num_threads() > 1;
    // Never a file that takes no blocks (/proc, /sys): those are read, to their real end.
    let mapped = len >= MAP_THRESHOLD
        && !hooks.spare_core
        && !takes_no_blocks(&before)
        && mapped::enabled()
        && hash_mapped(file, path, range.clone(), parallel, &mut hasher, &before, hooks)?;
    if !mapped && range.start > 0 {
        let mut reader = file;
        reader.seek(SeekFrom::Start(range.start)).map_err(|err| Error::io(path, "seek", &err))?;
    }
    // Read past the size the file claims where the piece ends the file: a /proc or /sys file says
    // 0 bytes and holds more, and Python would read all of it (docs/design.md section 3).
    let to_end = range.end == before.len();
    let (total, more) = if mapped {
        // A regular file that takes blocks holds what its size says, and the metadata check
        // below sees it grow.
        (len, false)
    } else if (parallel || hooks.spare_core) && len >= PIPELINE_THRESHOLD {
        let total = read_pipelined(file, len, &mut hasher, hooks, path)?;
        (total, total == len && to_end && reads_more(file, path)?)
    } else {
        // No bigger than the range and the probe byte: a buffer per call must stay cheap for
        // small files (it is zeroed when it grows).
        let size = (len + 1).min(CHUNK as u64) as usize;
        if buffer.len() < size {
            buffer.resize(size, 0);
        }
        let (total, end) = read_serial(file, len, to_end, &mut buffer[..size], &mut hasher, hooks, path)?;
        let more = match end {
            End::More => true,
            End::Nothing => false,
            // A short read of a regular file is its end, except on file systems that cut reads
            // short: /proc, /sys and their kin, whose files take no blocks. There, one more read.
            End::Short => takes_no_blocks(&before) && reads_more(file, path)?,
        };
        (total, more)
    };
    let after = file.metadata().map_err(|err| Error::io(path, "stat", &err))?;
    if total != len || changed(&before, &after) {
        return Err(Error::new(
            ErrorKind::FileChanged,
            path,
            format!("file changed while it was hashed (size {} when opened, {} now)", before.len(), after.len()),
        ));
    }
    if more {
        return Err(Error::new(
            ErrorKind::FileChanged,
            path,
            format!("file holds more than the {} bytes its size says (a /proc or /sys file)", before.len()),
        ));
    }
    Ok(FileDigest { digest: hasher.finalize(), bytes: total })
}

/// Whether one more byte can be read where the hashing stopped.
fn reads_more(file: &File, path: &Path) -> Result<bool, Error> {
    let mut reader = file;
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte) {
            Ok(n) => return Ok(n > 0),
            Err(err) if err.kind() == IoErrorKind::Interrupted => continue,
            Err(err) => return Err(Error::io(path, "read", &err)),
        }
    }
}

/// What was found past the bytes hashed by [`read_serial`].
enum End {
    /// A byte more: the file holds more than it was read for.
    More,
    /// Nothing (a read returned 0), or nothing was asked for.
    Nothing,
    /// The read that asked for one byte more came back short of it.
    Short,
}

/// Reads `len` bytes (or until end of file), hashing as it goes; never past a range. With
/// `probe`, the last read asks for one byte more than is left, so that what lies past `len`
/// comes back with it ([`End`]) without a read of its own.
fn read_serial(
    file: &File,
    len: u64,
    probe: bool,
    buffer: &mut [u8],
    hasher: &mut Hasher,
    hooks: &Hooks<'_>,
    path: &Path,
) -> Result<(u64, End), Error> {
    let mut total: u64 = 0;
    let mut reader = file;
    loop {
        let left = len - total;
        if left == 0 && !probe {
            return Ok((total, End::Nothing));
        }
        if hooks.cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(path));
        }
        let want = (left + u64::from(probe)).min(buffer.len() as u64) as usize;
        let n = match reader.read(&mut buffer[..want]) {
            Ok(0) => return Ok((total, End::Nothing)),
            Ok(n) => n,
            Err(err) if err.kind() == IoErrorKind::Interrupted => continue,
            Err(err) => return Err(Error::io(path, "read", &err)),
        };
        if n as u64 > left {
            return Ok((total, End::More));
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
        (hooks.on_bytes)(n as u64);
        if total == len && want as u64 > left {
            // Asked for one byte past the end and came back short: the end of a regular file.
            return Ok((total, End::Short));
        }
    }
}

/// Hashes `range` of `file` through one mapping of it, in slices of [`MAPPED_SLICE`] (each
/// spread over the pool when `parallel`), checking for cancellation and reporting progress
/// between slices; returns false, having hashed nothing, when it cannot be mapped (the caller
/// reads it instead). A file cut short underneath is refused once the slice is hashed (its
/// missing pages read as zeros, see `crate::mapped`).
fn hash_mapped(
    file: &File,
    path: &Path,
    range: Range<u64>,
    parallel: bool,
    hasher: &mut Hasher,
    before: &Metadata,
    hooks: &Hooks<'_>,
) -> Result<bool, Error> {
    let Some(mapping) = mapped::Mapping::map(file, range.start, (range.end - range.start) as usize) else {
        return Ok(false);
    };
    let len = mapping.len();
    let mut done = 0;
    while done < len {
        if hooks.cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(path));
        }
        mapped::test_pause();
        let bytes = &mapping.bytes()[done..len.min(done + MAPPED_SLICE)];
        if parallel {
            hasher.update_parallel(bytes);
        } else {
            hasher.update(bytes);
        }
        if mapping.cut() {
            let now = file.metadata().map_or_else(|_| "?".to_string(), |meta| meta.len().to_string());
            return Err(Error::new(
                ErrorKind::FileChanged,
                path,
                format!("file changed while it was hashed: cut short while mapped (size {} when opened, {now} now)", before.len()),
            ));
        }
        let hashed = bytes.len();
        done += hashed;
        mapping.release(done);
        (hooks.on_bytes)(hashed as u64);
    }
    Ok(true)
}

/// Whether a file takes no blocks on its file system: a /proc, /sys or debugfs file, whose
/// reads may stop short of its end (an empty or sparse regular file too, harmlessly).
fn takes_no_blocks(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.blocks() == 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// A chunk from the reader thread: filled buffer and its length, or the read error.
type Chunk = std::io::Result<(Vec<u8>, usize)>;

/// Reads `len` bytes on a second thread while this one hashes each chunk (BLAKE3 across the
/// rayon pool), through [`PIPELINE_DEPTH`] recycled buffers.
fn read_pipelined(file: &File, len: u64, hasher: &mut Hasher, hooks: &Hooks<'_>, path: &Path) -> Result<u64, Error> {
    std::thread::scope(|scope| {
        // Created inside the scope: when the hasher stops early, dropping them ends the reader.
        let (full_tx, full_rx) = mpsc::sync_channel::<Chunk>(PIPELINE_DEPTH);
        let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(PIPELINE_DEPTH);
        for _ in 0..PIPELINE_DEPTH {
            let _ = free_tx.send(vec![0u8; PIPELINE_CHUNK]);
        }
        scope.spawn(move || {
            let mut reader = file;
            let mut read: u64 = 0;
            while read < len {
                let Ok(mut buffer) = free_rx.recv() else { return };
                let want = (len - read).min(buffer.len() as u64) as usize;
                let result = loop {
                    match reader.read(&mut buffer[..want]) {
                        Err(err) if err.kind() == IoErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                let done = !matches!(result, Ok(n) if n > 0);
                if let Ok(n) = result {
                    read += n as u64;
                }
                if full_tx.send(result.map(|n| (buffer, n))).is_err() || done {
                    return;
                }
            }
        });
        let mut total: u64 = 0;
        // Ends when the reader has sent everything and hung up.
        for chunk in full_rx.iter() {
            if hooks.cancel.load(Ordering::Relaxed) {
                return Err(Error::cancelled(path));
            }
            let (buffer, n) = chunk.map_err(|err| Error::io(path, "read", &err))?;
            if n == 0 {
                break;
            }
            hasher.update_parallel(&buffer[..n]);
            total += n as u64;
            (hooks.on_bytes)(n as u64);
            let _ = free_tx.send(buffer);
        }
        Ok(total)
    })
}

/// Tells the kernel the file is read front to back: a larger read-ahead on a cold cache.
fn advise_sequential(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: a hint about a descriptor `file` keeps open; it touches no memory.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Hashes the file at `path` (following symlinks), whole. Progress counts its bytes against
/// its size when opened, as one file.
pub fn hash_file(path: &Path, algorithm: Algorithm, options: &Options<'_>) -> Result<FileDigest, Error> {
    crate::pool::run(|| {
        let (file, before) = open_regular(path, Listed::No)?;
        let bytes_total = before.len();
        let done = AtomicU64::new(0);
        let on_bytes = |n: u64| {
            let bytes_done = done.fetch_add(n, Ordering::Relaxed) + n;
            (options.progress)(Progress { bytes_done, files_done: 0, bytes_total, files_total: 1 });
        };
        let hooks = Hooks { on_bytes: &on_bytes, cancel: options.cancel, spare_core: rayon::current_num_threads() > 1 };
        hash_open(&file, path, algorithm, before, 0..bytes_total, &mut Vec::new(), &hooks)
    })
}

/// Opens `path` for reading and refuses anything but a regular file; returns it with its
/// metadata. The open is non-blocking so that a FIFO swapped in after the check cannot stall
/// us; it is refused right after, on the open descriptor.
fn open_regular(path: &Path, listed: Listed) -> Result<(File, Metadata), Error> {
    if listed == Listed::No {
        // Refuse special files before opening them: opening some devices has side effects.
        check_regular(&std::fs::metadata(path).map_err(|err| unreachable_path(path, "open", &err))?, path)?;
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if listed == Listed::Regular { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC | nofollow);
    }
    let file = options.open(path).map_err(|err| {
        if listed == Listed::Regular && err.raw_os_error() == Some(libc::ELOOP) {
            Error::new(ErrorKind::FileChanged, path, "file changed after it was listed (a file then, a symbolic link now)")
        } else {
            unreachable_path(path, "open", &err)
        }
    })?;
    // Checked on the open file: the path may have been swapped since it was listed.
    let meta = file.metadata().map_err(|err| Error::io(path, "stat", &err))?;
    check_regular(&meta, path)?;
    Ok((file, meta))
}

pub(crate) fn check_regular(meta: &Metadata, path: &Path) -> Result<(), Error> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::NotARegularFile, path, "not a regular file"))
    }
}

/// The error for a path that cannot be reached to `action` it: a dangling symlink says so.
pub(crate) fn unreachable_path(path: &Path, action: &str, err: &std::io::Error) -> Error {
    let is_symlink = std::fs::symlink_metadata(path).map(|m| m.file_type().is_symlink());
    if is_symlink.unwrap_or(false) && is_unresolvable(err) {
        Error::dangling(path, err)
    } else {
        Error::io(path, action, err)
    }
}

fn changed(before: &Metadata, after: &Metadata) -> bool {
    !Fingerprint::of(before).same_content(&Fingerprint::of(after))
}
