//! What every entry point takes besides its files: where progress goes and whether to stop.

use std::sync::atomic::AtomicBool;

/// Work done so far, and the totals known before hashing starts. Files are counted as the
/// pieces hashed: files, or shards when files are cut into shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub files_done: u64,
    pub bytes_total: u64,
    pub files_total: u64,
}

/// The options of [`crate::hash_file`], [`crate::hash_files`] and [`crate::hash_variant`]: a
/// progress sink (called from worker threads, often) and a cancellation flag (checked between
/// chunks).
#[derive(Clone, Copy)]
pub struct Options<'a> {
    pub progress: &'a (dyn Fn(Progress) + Sync),
    pub cancel: &'a AtomicBool,
}

impl Options<'static> {
    /// Options that report nothing and never cancel.
    pub fn none() -> Options<'static> {
        static NEVER: AtomicBool = AtomicBool::new(false);
        Options { progress: &|_| {}, cancel: &NEVER }
    }
}
