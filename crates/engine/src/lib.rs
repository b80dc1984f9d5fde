//! kernelseal-engine: walk a kernel variant directory and hash its files.
//!
//! No Node in it, no I/O policy beyond the hashing rules of docs/design.md section 3, no logging:
//! `walk_variant(dir, cancel) -> entries`, `hash_file(path, algorithm) -> digest`,
//! `hash_variant(dir, algorithm, options) -> digests`, and for models
//! `hash_files(paths, algorithm, shard_size, options) -> digests` (whole files or shards).

pub mod algorithm;
pub mod error;
pub mod file;
pub mod files;
pub mod openssl;
pub mod variant;
pub mod walk;

pub use algorithm::{hash_bytes, sha2_implementation, Algorithm, Hasher};
pub use error::{Error, ErrorKind};
pub use file::{hash_file, hash_file_range, FileDigest, Fingerprint, Hooks};
pub use files::{hash_files, FilesDigest, Options, Progress};
pub use variant::{hash_entries, hash_variant, VariantDigest};
pub use walk::{walk_tree, walk_variant, Entry, Tree, Unhashed};

/// Threads hashing runs on (the rayon pool: one per core unless RAYON_NUM_THREADS says).
pub fn threads() -> usize {
    rayon::current_num_threads()
}
