//! Hashing a whole variant: walk, then hash every file in parallel across the rayon pool.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::file::{hash_file_with, Hooks};
use crate::walk::{walk_variant, Entry};

/// Work done so far, and the totals known after the walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub files_done: u64,
    pub bytes_total: u64,
    pub files_total: u64,
}

/// What the caller passes in: a progress sink (called from worker threads, often) and a
/// cancellation flag (checked between chunks).
pub struct Options<'a> {
    pub progress: &'a (dyn Fn(Progress) + Sync),
    pub cancel: &'a AtomicBool,
}

/// The digest of every file of a variant, sorted by key in byte order. Columnar, so that a
/// million files cost a million keys and one buffer, not a million small allocations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantDigest {
    pub algorithm: Algorithm,
    /// The keys, in byte order.
    pub keys: Vec<String>,
    /// The raw digests one after another, `algorithm.digest_len()` bytes each, in key order.
    pub digests: Vec<u8>,
    pub bytes: u64,
}

impl VariantDigest {
    /// (key, raw digest) pairs in key order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.keys.iter().map(String::as_str).zip(self.digests.chunks_exact(self.algorithm.digest_len()))
    }
}

thread_local! {
    // One read buffer per worker thread, reused for every file it hashes.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::new());
}

/// Walks `root` and hashes every file of the variant with `algorithm`.
pub fn hash_variant(root: &Path, algorithm: Algorithm, options: &Options<'_>) -> Result<VariantDigest, Error> {
    let entries = walk_variant(root, options.cancel)?;
    hash_entries(root, entries, algorithm, options)
}

/// Hashes already-walked `entries` of the variant at `root`.
pub fn hash_entries(
    root: &Path,
    entries: Vec<Entry>,
    algorithm: Algorithm,
    options: &Options<'_>,
) -> Result<VariantDigest, Error> {
    let bytes_total = entries.iter().map(|e| e.size).sum();
    let files_total = entries.len() as u64;
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
    // Stop every worker once one file fails: the digest is incomplete anyway.
    let failed = AtomicBool::new(false);
    let on_bytes = |n: u64| {
        bytes_done.fetch_add(n, Ordering::Relaxed);
        report();
    };

    // Largest files first, so one big file does not start last and leave a core idle.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by(|&a, &b| entries[b].size.cmp(&entries[a].size));

    let results: Vec<(usize, Result<Vec<u8>, Error>)> = order
        .par_iter()
        .with_max_len(1)
        .map(|&index| {
            let entry = &entries[index];
            let path = entry.path(root);
            if options.cancel.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed) {
                return (index, Err(Error::cancelled(&path)));
            }
            let hooks = Hooks { on_bytes: &on_bytes, cancel: options.cancel };
            let result = BUFFER.with(|buffer| {
                hash_file_with(&path, algorithm, &mut buffer.borrow_mut(), &hooks)
            });
            match &result {
                Ok(_) => {
                    files_done.fetch_add(1, Ordering::Relaxed);
                    report();
                }
                Err(_) => failed.store(true, Ordering::Relaxed),
            }
            (index, result.map(|file| file.digest))
        })
        .collect();

    if options.cancel.load(Ordering::Relaxed) {
        return Err(Error::cancelled(root));
    }
    let mut files: Vec<Option<Vec<u8>>> = vec![None; entries.len()];
    let mut first_error: Option<(usize, Error)> = None;
    for (index, result) in results {
        match result {
            Ok(digest) => files[index] = Some(digest),
            // Report a real failure, not the cancellations it caused in other workers;
            // among real failures, the first in key order.
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
    let mut digests = Vec::with_capacity(entries.len() * algorithm.digest_len());
    for digest in files {
        digests.extend_from_slice(&digest.expect("every entry hashed"));
    }
    let keys = entries.into_iter().map(|entry| entry.key).collect();
    Ok(VariantDigest { algorithm, keys, digests, bytes: bytes_done.load(Ordering::Relaxed) })
}
