//! The variant walker: every rule about which files belong to a variant lives here
//! (design.md section 3).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{is_unresolvable, Error, ErrorKind};

/// Names excluded at the top level only: nested copies are kernel content and are hashed.
const TOP_LEVEL_EXCLUDED: [&str; 2] = ["metadata.json", "metadata.json.sigstore"];

/// A file that belongs to the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The digest key: the path relative to the variant root, `/`-separated, as on disk.
    pub key: String,
    /// Size seen by the walk (the target's size for a symlink).
    pub size: u64,
}

impl Entry {
    /// The file system path of this entry under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(&self.key)
    }
}

/// Checks that `root` is a directory (following a symlink at the root itself).
pub fn check_root(root: &Path) -> Result<(), Error> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::new(ErrorKind::NotADirectory, root, "not a directory")),
        Err(err) => Err(Error::io(root, "open the variant directory", &err)),
    }
}

/// Lists the files of the variant at `root`, sorted by key in byte order.
///
/// - regular files are included; hidden files too;
/// - a symlink to a file is included under the link's own path (hub caches are symlink farms);
/// - a symlink to a directory is not entered; a symlink that cannot be resolved is an error;
/// - FIFOs, sockets and devices are skipped, so hashing never blocks on them;
/// - `metadata.json` and `metadata.json.sigstore` are skipped at the top level only;
/// - directories named `__pycache__` and entries ending in `.pyc` are skipped below the root.
///
/// `cancel` is checked at every directory: a walk of a million files can be stopped.
pub fn walk_variant(root: &Path, cancel: &AtomicBool) -> Result<Vec<Entry>, Error> {
    check_root(root)?;
    let mut entries = Vec::new();
    // (directory on disk, key prefix); the root has the empty prefix.
    let mut pending: Vec<(PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::cancelled(root));
        }
        let listing = fs::read_dir(&dir).map_err(|err| Error::io(&dir, "read directory", &err))?;
        for item in listing {
            let item = item.map_err(|err| Error::io(&dir, "read directory", &err))?;
            let path = item.path();
            let name = item.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::new(ErrorKind::InvalidName, &path, "file name is not valid UTF-8")
            })?;
            if is_excluded(name, prefix.is_empty()) {
                continue;
            }
            let key = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let file_type =
                item.file_type().map_err(|err| Error::io(&path, "read file type", &err))?;
            if file_type.is_dir() {
                if name != "__pycache__" {
                    pending.push((path, key));
                }
            } else if file_type.is_file() {
                let meta = item.metadata().map_err(|err| Error::io(&path, "stat", &err))?;
                entries.push(Entry { key, size: meta.len() });
            } else if file_type.is_symlink() {
                let target = fs::metadata(&path).map_err(|err| symlink_error(&path, &err))?;
                if target.is_file() {
                    entries.push(Entry { key, size: target.len() });
                }
                // Symlinked directories are not entered; symlinks to special files are skipped.
            }
            // FIFOs, sockets and devices: skipped, never opened.
        }
    }
    entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    Ok(entries)
}

fn is_excluded(name: &str, top_level: bool) -> bool {
    (top_level && TOP_LEVEL_EXCLUDED.contains(&name)) || name.ends_with(".pyc")
}

fn symlink_error(path: &Path, err: &std::io::Error) -> Error {
    if is_unresolvable(err) {
        Error::dangling(path, err)
    } else {
        Error::io(path, "follow symlink", err)
    }
}
