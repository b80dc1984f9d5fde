//! kernelseal-engine: walk a kernel variant directory and hash its files.
//!
//! No Node in it, no I/O policy beyond the hashing rules of docs/design.md section 3, no logging.
//! Three entry points take the same [`Options`] (progress, cancellation):
//! `hash_variant(dir, algorithm, options) -> digests`, `hash_file(path, algorithm, options) ->
//! digest`, and for models `hash_files(paths, algorithm, shard_size, options) -> digests` (whole
//! files or shards); `walk_tree(dir, cancel)` lists what a variant's digest covers.
//! They run on the hashing threads, which [`threads`] starts (the first entry point called
//! does it too, and panics when they cannot start: call [`threads`] first to get an error).

mod algorithm;
mod error;
mod file;
mod files;
// Mapped reads where the SIGBUS handling is written for (see mapped.rs); elsewhere files are read.
#[cfg_attr(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))), path = "mapped_unsupported.rs")]
mod mapped;
mod openssl;
mod options;
mod pool;
mod variant;
mod walk;

pub use algorithm::{hash_bytes, sha2_implementation, Algorithm};
pub use error::{Error, ErrorKind};
pub use file::{hash_file, FileDigest};
pub use files::{hash_files, FilesDigest, MAX_PIECES};
pub use options::{Options, Progress};
pub use pool::{threads, MAX_THREADS};
pub use variant::{hash_variant, VariantDigest};
pub use file::Fingerprint;
pub use walk::{walk_tree, walk_variant, Access, Entry, Tree, Unhashed};
