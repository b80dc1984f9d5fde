//! With `KERNELSEAL_MMAP=1`, large files are hashed through mapped windows
//! (crates/engine/src/mapped.rs): a file cut short under one is refused as changed, and the
//! process lives on to hash the next file.

use std::fs;
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use kernelseal_engine::{hash_bytes, hash_file, hash_files, Algorithm, ErrorKind, Options, Progress};

/// Turns mapping on for this test binary (its own process), before the engine reads the switch:
/// every test calls this first, and `Once` holds the others until it is done.
fn map_files() {
    static ON: Once = Once::new();
    ON.call_once(|| std::env::set_var("KERNELSEAL_MMAP", "1"));
}

fn data(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Progress that, the first time it is called (after the first window), cuts `path` down to
/// 1 MiB from another thread: every window after it lies past the end of the file.
fn cut_once<'a>(path: &'a Path, cut: &'a AtomicBool) -> impl Fn(Progress) + Sync + 'a {
    move |_| {
        if !cut.swap(true, Ordering::Relaxed) {
            std::thread::scope(|scope| {
                scope.spawn(|| fs::OpenOptions::new().write(true).open(path).unwrap().set_len(1 << 20).unwrap());
            });
        }
    }
}

#[test]
#[cfg_attr(
    not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))),
    ignore = "files are mapped on Linux (x86_64, aarch64) only (src/lib.rs); elsewhere they are read"
)]
fn a_file_cut_short_while_mapped_is_refused_and_the_process_lives() {
    map_files();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    let bytes = data(40 << 20);
    for algorithm in Algorithm::ALL {
        fs::write(&path, &bytes).unwrap();
        let cut = AtomicBool::new(false);
        let progress = cut_once(&path, &cut);
        let err = hash_file(&path, algorithm, &Options { progress: &progress, cancel: &AtomicBool::new(false) }).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FileChanged, "{}: {err}", algorithm.name());
        assert!(err.reason.contains("cut short under a mapped window"), "{}: {err}", algorithm.name());
        assert!(err.reason.contains(&format!("size {} when opened, 1048576 now", 40 << 20)), "{err}");
    }
    fs::write(&path, &bytes).unwrap();
    let whole = hash_file(&path, Algorithm::Sha256, &Options::none()).unwrap();
    assert_eq!(whole.digest, hash_bytes(Algorithm::Sha256, &bytes));
}

#[test]
#[cfg_attr(
    not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))),
    ignore = "files are mapped on Linux (x86_64, aarch64) only (src/lib.rs); elsewhere they are read"
)]
fn shards_of_a_file_cut_short_while_mapped_are_refused() {
    map_files();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    let bytes = data(40 << 20);
    for algorithm in [Algorithm::Sha256, Algorithm::Blake3] {
        fs::write(&path, &bytes).unwrap();
        let cut = AtomicBool::new(false);
        let progress = cut_once(&path, &cut);
        let options = Options { progress: &progress, cancel: &AtomicBool::new(false) };
        let err = hash_files(&[path.clone()], algorithm, NonZeroU64::new(16 << 20), &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FileChanged, "{}: {err}", algorithm.name());
    }
    // Unchanged, the same shards hash as the bytes do.
    fs::write(&path, &bytes).unwrap();
    let shards = hash_files(&[path], Algorithm::Blake3, NonZeroU64::new(16 << 20), &Options::none()).unwrap();
    let expected: Vec<u8> = bytes.chunks(16 << 20).flat_map(|c| hash_bytes(Algorithm::Blake3, c)).collect();
    assert_eq!(shards.digests, expected);
}

#[test]
fn ranges_that_do_not_start_on_a_page_hash_their_bytes() {
    map_files();
    // Shards of 5 MiB + 3 bytes: each but the first starts off a page boundary, and is mapped.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    let bytes = data(23 << 20);
    fs::write(&path, &bytes).unwrap();
    let shard = (5 << 20) + 3;
    for algorithm in Algorithm::ALL {
        let shards = hash_files(&[path.clone()], algorithm, NonZeroU64::new(shard as u64), &Options::none()).unwrap();
        let expected: Vec<u8> = bytes.chunks(shard).flat_map(|c| hash_bytes(algorithm, c)).collect();
        assert_eq!(shards.digests, expected, "{}", algorithm.name());
    }
}
