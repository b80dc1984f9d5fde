//! The variant walker: every rule about which files belong to a variant lives here
//! (docs/design.md section 3).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::{is_unresolvable, Error, ErrorKind};
use crate::file::Fingerprint;

/// Names excluded at the top level only: nested copies are kernel content and are hashed.
const TOP_LEVEL_EXCLUDED: [&str; 2] = ["metadata.json", "metadata.json.sigstore"];

/// A file that belongs to the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The digest key: the path relative to the variant root, `/`-separated, as on disk.
    pub key: String,
    /// Size seen by the walk (the target's size for a symlink).
    pub size: u64,
    /// Whether the entry is a symlink to a file (a Hub cache's snapshot), not a file itself.
    pub link: bool,
    /// The file as the walk saw it (the link's target for a symlink): what a later look compares
    /// to tell whether it is still that file. Receipts record it (src/kernels/hub/receipts.ts).
    pub fingerprint: Fingerprint,
    /// Who may write the file (the link's target for a symlink).
    pub access: Access,
}

/// Who may write a file, as its metadata says: what decides whether a receipt may vouch for it
/// (src/kernels/hub/sole-writer.ts: owned by the user or root, no group or other write bit, one
/// name, a local file system). Returned by the walk so that a second load of a kernel does not
/// stat every file a second time to ask it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// The device the file is on.
    pub dev: u64,
    pub uid: u32,
    /// The file's type and permission bits (`st_mode`).
    pub mode: u32,
    /// How many names the file has.
    pub nlink: u64,
}

impl Access {
    pub(crate) fn of(meta: &fs::Metadata) -> Access {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Access { dev: meta.dev(), uid: meta.uid(), mode: meta.mode(), nlink: meta.nlink() }
        }
        #[cfg(not(unix))]
        {
            // No owners or modes here: a receipt never holds (sole-writer.ts needs a uid).
            let _ = meta;
            Access::default()
        }
    }
}

impl Entry {
    /// The file system path of this entry under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(&self.key)
    }
}

/// Why an entry of the tree is not hashed. The digest leaves these out, as the reference does
/// (docs/design.md section 3); verification and signing refuse a tree that holds any of them, since
/// a loader could read what no digest covers (or, for bytecode, run it instead of the source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unhashed {
    /// A `.pyc` entry that is not a directory: Python may run it instead of the signed source.
    Bytecode,
    /// A `__pycache__` directory (not entered).
    BytecodeDirectory,
    /// A directory whose name ends in `.pyc`: left out by the reference rule, yet not bytecode.
    ExcludedDirectory,
    /// A symlink to a directory (not entered): a package a loader would import unchecked.
    DirectorySymlink,
    /// A FIFO, socket or device, or a symlink to one (never opened).
    SpecialFile,
}

impl Unhashed {
    /// The name used across the FFI and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Unhashed::Bytecode => "bytecode",
            Unhashed::BytecodeDirectory => "bytecode-directory",
            Unhashed::ExcludedDirectory => "excluded-directory",
            Unhashed::DirectorySymlink => "directory-symlink",
            Unhashed::SpecialFile => "special-file",
        }
    }
}

/// What a walk found: the files to hash, and every other entry with the reason it is not hashed
/// (the top-level `metadata.json` and `metadata.json.sigstore` aside: the signature covers them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub entries: Vec<Entry>,
    /// (key, reason), sorted by key.
    pub unhashed: Vec<(String, Unhashed)>,
}

/// Checks that `root` is a directory (following a symlink at the root itself).
fn check_root(root: &Path) -> Result<(), Error> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::new(ErrorKind::NotADirectory, root, "not a directory")),
        Err(err) => Err(Error::io(root, "open the variant directory", &err)),
    }
}

/// Lists the files of the variant at `root`, sorted by key in byte order (see [`walk_tree`]).
pub fn walk_variant(root: &Path, cancel: &AtomicBool) -> Result<Vec<Entry>, Error> {
    walk_tree(root, cancel).map(|tree| tree.entries)
}

/// Entries at least this many are looked up (stat) across the rayon pool; fewer, on the calling
/// thread: handing a few lookups to the pool costs more than they do.
const PARALLEL_LOOKUPS: usize = 256;

/// A name the directory listing found that must be looked up before it is known: a file (for
/// its size) or a symlink (for what it points to).
struct Lookup {
    key: String,
    link: bool,
}

/// What a lookup found: a file to hash, or an entry left out.
enum Found {
    File(Entry),
    Unhashed(String, Unhashed),
}

/// Walks the variant at `root`: the files to hash, sorted by key in byte order, and every entry
/// left out, with why.
///
/// - regular files are included; hidden files too;
/// - a symlink to a file is included under the link's own path (hub caches are symlink farms);
/// - a symlink to a directory is not entered; a symlink that cannot be resolved is an error;
/// - FIFOs, sockets and devices are not opened, so hashing never blocks on them;
/// - `metadata.json` and `metadata.json.sigstore` are left out at the top level only;
/// - directories named `__pycache__` and entries ending in `.pyc` are left out.
///
/// The directories are listed first, by name and type alone; the files and links found are then
/// looked up in parallel (a serial stat per file left the other cores idle for a tenth of the
/// time a variant of a thousand 64 KiB files takes). Where several lookups fail,
/// the error reported is the first in the order of the listing, as a serial walk would report.
///
/// `cancel` is checked at every directory and every lookup: a walk of a million files can be
/// stopped.
pub fn walk_tree(root: &Path, cancel: &AtomicBool) -> Result<Tree, Error> {
    crate::pool::run(|| walk(root, cancel))
}

/// [`walk_tree`], on the hashing threads.
fn walk(root: &Path, cancel: &AtomicBool) -> Result<Tree, Error> {
    check_root(root)?;
    let mut lookups = Vec::new();
    let mut unhashed = Vec::new();
    // (directory on disk, key prefix); the root has the empty prefix.
    let mut pending: Vec<(PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(root));
        }
        let listing = fs::read_dir(&dir).map_err(|err| Error::io(&dir, "read directory", &err))?;
        for item in listing {
            let item = item.map_err(|err| Error::io(&dir, "read directory", &err))?;
            let name = item.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::new(ErrorKind::InvalidName, &item.path(), "file name is not valid UTF-8")
            })?;
            if prefix.is_empty() && TOP_LEVEL_EXCLUDED.contains(&name) {
                continue;
            }
            let key = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let file_type =
                item.file_type().map_err(|err| Error::io(&item.path(), "read file type", &err))?;
            // By name first, as the reference does: a `.pyc` is never hashed, whatever it is
            // (a dangling `.pyc` link is no error).
            if name.ends_with(".pyc") {
                let reason = if file_type.is_dir() { Unhashed::ExcludedDirectory } else { Unhashed::Bytecode };
                unhashed.push((key, reason));
            } else if file_type.is_dir() {
                if name == "__pycache__" {
                    unhashed.push((key, Unhashed::BytecodeDirectory));
                } else {
                    pending.push((item.path(), key));
                }
            } else if file_type.is_file() || file_type.is_symlink() {
                lookups.push(Lookup { key, link: file_type.is_symlink() });
            } else {
                unhashed.push((key, Unhashed::SpecialFile));
            }
        }
    }
    let look_up = |lookup: Lookup| {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(root));
        }
        look_up(root, lookup)
    };
    let found: Vec<Result<Found, Error>> = if lookups.len() < PARALLEL_LOOKUPS {
        lookups.into_iter().map(look_up).collect()
    } else {
        lookups.into_par_iter().map(look_up).collect()
    };
    let mut entries = Vec::with_capacity(found.len());
    for found in found {
        match found? {
            Found::File(entry) => entries.push(entry),
            Found::Unhashed(key, reason) => unhashed.push((key, reason)),
        }
    }
    entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    unhashed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(Tree { entries, unhashed })
}

/// Looks up a file (its own metadata, for its size) or a symlink (what it points to) the
/// listing found under `root`.
fn look_up(root: &Path, lookup: Lookup) -> Result<Found, Error> {
    let path = root.join(&lookup.key);
    if !lookup.link {
        let meta = fs::symlink_metadata(&path).map_err(|err| Error::io(&path, "stat", &err))?;
        return Ok(Found::File(Entry { key: lookup.key, size: meta.len(), link: false, fingerprint: Fingerprint::of(&meta), access: Access::of(&meta) }));
    }
    let target = fs::metadata(&path).map_err(|err| symlink_error(&path, &err))?;
    Ok(if target.is_file() {
        Found::File(Entry { key: lookup.key, size: target.len(), link: true, fingerprint: Fingerprint::of(&target), access: Access::of(&target) })
    } else if target.is_dir() {
        Found::Unhashed(lookup.key, Unhashed::DirectorySymlink)
    } else {
        Found::Unhashed(lookup.key, Unhashed::SpecialFile)
    })
}

fn symlink_error(path: &Path, err: &std::io::Error) -> Error {
    if is_unresolvable(err) {
        Error::dangling(path, err)
    } else {
        Error::io(path, "follow symlink", err)
    }
}
