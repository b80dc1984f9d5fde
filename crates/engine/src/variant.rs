//! Hashing a whole variant: walk, then hash every file in parallel across the rayon pool.

use std::path::Path;

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::file::Listed;
use crate::files::{hash_pieces, Part, Piece};
use crate::options::Options;
use crate::walk::{walk_tree, Entry, Unhashed};

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
    /// Entries of the tree left out of the digest, with why (see `walk::Unhashed`), by key.
    pub unhashed: Vec<(String, Unhashed)>,
}

impl VariantDigest {
    /// (key, raw digest) pairs in key order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.keys.iter().map(String::as_str).zip(self.digests.chunks_exact(self.algorithm.digest_len()))
    }
}

/// Walks `root` and hashes every file of the variant with `algorithm`.
pub fn hash_variant(root: &Path, algorithm: Algorithm, options: &Options<'_>) -> Result<VariantDigest, Error> {
    let tree = walk_tree(root, options.cancel)?;
    let mut digest = hash_entries(root, tree.entries, algorithm, options)?;
    digest.unhashed = tree.unhashed;
    Ok(digest)
}

/// Hashes already-walked `entries` of the variant at `root`.
fn hash_entries(
    root: &Path,
    entries: Vec<Entry>,
    algorithm: Algorithm,
    options: &Options<'_>,
) -> Result<VariantDigest, Error> {
    let pieces: Vec<Piece> =
        entries.iter().enumerate().map(|(file, entry)| Piece { file, len: entry.size, part: Part::Whole(if entry.link { Listed::No } else { Listed::Regular }) }).collect();
    let digests = hash_pieces(&pieces, |file| entries[file].path(root), root, algorithm, options)?;
    let bytes = digests.iter().map(|(_, bytes)| bytes).sum();
    let mut raw = Vec::with_capacity(entries.len() * algorithm.digest_len());
    for (digest, _) in &digests {
        raw.extend_from_slice(digest);
    }
    let keys = entries.into_iter().map(|entry| entry.key).collect();
    Ok(VariantDigest { algorithm, keys, digests: raw, bytes, unhashed: Vec::new() })
}
