//! Hashing many files in parallel across the rayon pool: each file whole, or cut into
//! fixed-size shards that are hashed apart (model signing's `shards` serialization).

use std::num::NonZeroU64;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::file::{check_regular, hash_file_range, hash_file_with, unreachable_path, Fingerprint, Hooks, Listed};
use crate::options::{Options, Progress};

/// The digests of a list of files, columnar like [`crate::VariantDigest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilesDigest {
    pub algorithm: Algorithm,
    /// Each file's size, in the order the files were given.
    pub sizes: Vec<u64>,
    /// The raw digests one after another, file by file in the order given: one per file when
    /// hashed whole; one per shard otherwise (`ceil(size / shard_size)`, none for an empty file).
    pub digests: Vec<u8>,
    pub bytes: u64,
}

/// The most pieces (shards) one job cuts its files into: a tiny shard size against large files
/// would otherwise allocate without bound before hashing a byte. Far above what a signature
/// can list (about a million resources).
pub const MAX_PIECES: u64 = 1 << 21;

/// Hashes each of `paths` (following symlinks): whole, or in shards of `shard_size` bytes
/// (the last one shorter). Shards of one file are hashed in parallel like separate files, so
/// one large file keeps every core busy. Files are listed (stat) first; one that changes
/// after it was listed, between its shards say, is refused.
pub fn hash_files(
    paths: &[PathBuf],
    algorithm: Algorithm,
    shard_size: Option<NonZeroU64>,
    options: &Options<'_>,
) -> Result<FilesDigest, Error> {
    let mut pieces = Vec::new();
    let mut sizes = Vec::with_capacity(paths.len());
    for (file, path) in paths.iter().enumerate() {
        if options.cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(path));
        }
        let meta = std::fs::metadata(path).map_err(|err| unreachable_path(path, "stat", &err))?;
        let listed = Fingerprint::of(&meta);
        check_regular(&meta, path)?;
        sizes.push(listed.size);
        let Some(shard) = shard_size else {
            pieces.push(Piece { file, len: listed.size, part: Part::Range(0..listed.size, listed) });
            continue;
        };
        let count = listed.size.div_ceil(shard.get());
        if pieces.len() as u64 + count > MAX_PIECES {
            return Err(Error::new(
                ErrorKind::TooManyShards,
                path,
                format!("{} bytes in shards of {} make more than {MAX_PIECES} shards", listed.size, shard.get()),
            ));
        }
        let mut start = 0;
        while start < listed.size {
            let end = listed.size.min(start.saturating_add(shard.get()));
            pieces.push(Piece { file, len: end - start, part: Part::Range(start..end, listed) });
            start = end;
        }
    }
    let cancelled_at = paths.first().map_or(Path::new(""), PathBuf::as_path);
    let digests = hash_pieces(&pieces, |file| paths[file].clone(), cancelled_at, algorithm, options)?;
    let mut raw = Vec::with_capacity(digests.len() * algorithm.digest_len());
    for (digest, _) in &digests {
        raw.extend_from_slice(digest);
    }
    Ok(FilesDigest { algorithm, bytes: sizes.iter().sum(), sizes, digests: raw })
}

/// One unit of hashing work: a file (`file` indexes the caller's list) or part of one. `len` is
/// the bytes it holds when listed, a scheduling hint for whole files.
pub(crate) struct Piece {
    pub file: usize,
    pub len: u64,
    pub part: Part,
}

/// Which bytes of its file a [`Piece`] hashes.
pub(crate) enum Part {
    /// The whole file as it is when opened: a variant's files, with what the walk knew of each.
    Whole(Listed),
    /// A byte range of a file that must still have the fingerprint it was listed with.
    Range(Range<u64>, Fingerprint),
}

/// The read buffers of one call, reused from piece to piece. A buffer is taken for one piece
/// and given back after it, never held by a thread: a worker waiting inside a piece (BLAKE3
/// spreads each chunk of a large file over the pool) may start another piece on the same
/// thread, which a thread-local buffer, borrowed across the wait, could not survive.
struct Buffers(Mutex<Vec<Vec<u8>>>);

impl Buffers {
    fn take(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(buffer);
    }
}

/// Hashes `pieces` of files (`path_of` turns a file index into its path; a cancelled job
/// reports `cancelled_at`) across the rayon pool, largest first; returns (digest, bytes) per piece, in the order given. Once one
/// piece fails every worker stops: the result is incomplete anyway. The error reported is a
/// real failure, not the cancellations it caused; among failures, the first in piece order.
pub(crate) fn hash_pieces(
    pieces: &[Piece],
    path_of: impl Fn(usize) -> PathBuf + Sync,
    cancelled_at: &Path,
    algorithm: Algorithm,
    options: &Options<'_>,
) -> Result<Vec<(Vec<u8>, u64)>, Error> {
    crate::pool::run(|| {
        let bytes_total = pieces.iter().map(|p| p.len).sum();
        let files_total = pieces.len() as u64;
        let bytes_done = AtomicU64::new(0);
        let files_done = AtomicU64::new(0);
        let report = || {
            (options.progress)(Progress {
                bytes_done: bytes_done.load(Ordering::Relaxed),
                files_done: files_done.load(Ordering::Relaxed),
                bytes_total,
                files_total,
            })
        };
        let failed = AtomicBool::new(false);
        let on_bytes = |n: u64| {
            bytes_done.fetch_add(n, Ordering::Relaxed);
            report();
        };

        let buffers = Buffers(Mutex::new(Vec::new()));
        // A core would idle beside this piece: there are fewer pieces than threads, or it is more
        // than its share of the bytes (one large file among small ones), so the other threads
        // finish theirs first. A large piece is then read ahead on that core (file.rs).
        let threads = rayon::current_num_threads() as u64;
        let spare_core = |len: u64| threads > 1 && ((pieces.len() as u64) < threads || len.saturating_mul(threads) > bytes_total);

        // Largest first, so one big piece does not start last and leave a core idle.
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_unstable_by(|&a, &b| pieces[b].len.cmp(&pieces[a].len));

        let results: Vec<(usize, Result<(Vec<u8>, u64), Error>)> = order
            .par_iter()
            .with_max_len(1)
            .map(|&index| {
                let piece = &pieces[index];
                let path = path_of(piece.file);
                if options.cancel.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed) {
                    return (index, Err(Error::cancelled(&path)));
                }
                let hooks = Hooks { on_bytes: &on_bytes, cancel: options.cancel, spare_core: spare_core(piece.len) };
                let mut buffer = buffers.take();
                let result = match &piece.part {
                    // Listed by the walk, which refuses special files unopened.
                    Part::Whole(listed) => hash_file_with(&path, algorithm, *listed, &mut buffer, &hooks),
                    Part::Range(range, listed) => hash_file_range(&path, algorithm, range.clone(), listed, &mut buffer, &hooks),
                };
                buffers.give_back(buffer);
                match &result {
                    Ok(_) => {
                        files_done.fetch_add(1, Ordering::Relaxed);
                        report();
                    }
                    Err(_) => failed.store(true, Ordering::Relaxed),
                }
                (index, result.map(|file| (file.digest, file.bytes)))
            })
            .collect();

        if options.cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(cancelled_at));
        }
        let mut digests: Vec<Option<(Vec<u8>, u64)>> = vec![None; pieces.len()];
        let mut first_error: Option<(usize, Error)> = None;
        for (index, result) in results {
            match result {
                Ok(digest) => digests[index] = Some(digest),
                Err(err) if err.kind != ErrorKind::Cancelled => {
                    if first_error.as_ref().map_or(true, |(at, _)| index < *at) {
                        first_error = Some((index, err));
                    }
                }
                Err(_) => {}
            }
        }
        if let Some((_, err)) = first_error {
            return Err(err);
        }
        Ok(digests.into_iter().map(|digest| digest.expect("every piece hashed")).collect())
    })
}
