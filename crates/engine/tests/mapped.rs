//! Files of 4 MiB and more are hashed through one mapping each (crates/engine/src/mapped.rs),
//! in slices of 16 MiB, when no core is to spare: a file cut short underneath is refused as
//! changed, and the process lives on to hash the next file. These tests run the engine on one
//! thread (`one_thread`), so that a single file is mapped (with a core to spare it is read by the
//! pipeline: crates/engine/src/file.rs MAP_THRESHOLD).

use std::fs;
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use kernelseal_engine::{hash_bytes, hash_file, hash_files, Algorithm, ErrorKind, Options, Progress};

/// Asks the engine's pool for one thread, before it starts (every test calls this first).
fn one_thread() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_var("RAYON_NUM_THREADS", "1"));
}

fn data(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Progress that, the first time it is called (after the first slice), cuts `path` down to
/// 1 MiB from another thread: every slice after it lies past the end of the file.
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
    one_thread();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    let bytes = data(40 << 20);
    for algorithm in Algorithm::ALL {
        fs::write(&path, &bytes).unwrap();
        let cut = AtomicBool::new(false);
        let progress = cut_once(&path, &cut);
        let err = hash_file(&path, algorithm, &Options { progress: &progress, cancel: &AtomicBool::new(false) }).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FileChanged, "{}: {err}", algorithm.name());
        assert!(err.reason.contains("cut short while mapped"), "{}: {err}", algorithm.name());
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
    one_thread();
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
    one_thread();
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

#[test]
fn mapped_files_hash_their_bytes_across_slice_boundaries() {
    one_thread();
    // Around the 16 MiB slices (and the 4 MiB threshold below which files are read).
    let dir = tempfile::tempdir().unwrap();
    let bytes = data((33 << 20) + 5);
    for len in [(4 << 20) - 1, 4 << 20, 16 << 20, (16 << 20) + 1, (33 << 20) + 5] {
        let path = dir.path().join("weights.bin");
        fs::write(&path, &bytes[..len]).unwrap();
        for algorithm in Algorithm::ALL {
            let whole = hash_file(&path, algorithm, &Options::none()).unwrap();
            assert_eq!((whole.digest, whole.bytes), (hash_bytes(algorithm, &bytes[..len]), len as u64), "{} of {len} bytes", algorithm.name());
        }
    }
}
