//! Hashing lists of files, whole or in shards: every digest equals the digest of the same bytes
//! hashed in one piece in memory.

use std::fs;
use std::num::NonZeroU64;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use kernelseal_engine::{hash_bytes, hash_file, hash_files, Algorithm, ErrorKind, Options, Progress};

fn data(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8).collect()
}

fn options<'a>(progress: &'a (dyn Fn(Progress) + Sync), cancel: &'a AtomicBool) -> Options<'a> {
    Options { progress, cancel }
}

#[test]
fn shards_hash_each_slice_and_whole_files_hash_everything() {
    let dir = tempfile::tempdir().unwrap();
    // Sizes about the read buffer (1 MiB): the last read asks for one byte past the end.
    let mib = 1024 * 1024;
    let contents = [data(0, 1), data(1, 2), data(22, 3), data(20_001, 4), data(3 * mib + 5, 5), data(mib - 1, 6), data(mib, 7), data(2 * mib, 8)];
    let paths: Vec<PathBuf> = contents
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir.path().join(format!("f{i}"));
            fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let cancel = AtomicBool::new(false);
    for algorithm in Algorithm::ALL {
        let whole = hash_files(&paths, algorithm, None, &options(&|_| {}, &cancel)).unwrap();
        let expected: Vec<u8> = contents.iter().flat_map(|bytes| hash_bytes(algorithm, bytes)).collect();
        assert_eq!(whole.digests, expected, "{}", algorithm.name());
        assert_eq!(whole.sizes, contents.iter().map(|c| c.len() as u64).collect::<Vec<_>>());

        for shard in [4096u64, 1 << 20, 1 << 40] {
            let sharded = hash_files(&paths, algorithm, NonZeroU64::new(shard), &options(&|_| {}, &cancel)).unwrap();
            let expected: Vec<u8> = contents
                .iter()
                .flat_map(|bytes| bytes.chunks(shard.min(1 << 30) as usize).flat_map(|c| hash_bytes(algorithm, c)).collect::<Vec<_>>())
                .collect();
            assert_eq!(sharded.digests, expected, "{} shard {shard}", algorithm.name());
            assert_eq!(sharded.bytes, contents.iter().map(|c| c.len() as u64).sum::<u64>());
        }
    }
    // Tiny shards, on the small files only (a piece per byte or eight).
    for shard in [1usize, 8] {
        let sharded = hash_files(&paths[..4], Algorithm::Sha256, NonZeroU64::new(shard as u64), &options(&|_| {}, &cancel)).unwrap();
        let expected: Vec<u8> =
            contents[..4].iter().flat_map(|bytes| bytes.chunks(shard).flat_map(|c| hash_bytes(Algorithm::Sha256, c)).collect::<Vec<_>>()).collect();
        assert_eq!(sharded.digests, expected, "shard {shard}");
    }
}

#[test]
fn large_ranges_read_by_the_pipeline_hash_only_their_bytes() {
    // BLAKE3 ranges of 16 MiB and more go through the reader thread: it must stop at the range.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let bytes = data(40 * 1024 * 1024 + 3, 9);
    fs::write(&path, &bytes).unwrap();
    let shard = 17 * 1024 * 1024;
    let done = Mutex::new(Progress::default());
    let progress = |p: Progress| *done.lock().unwrap() = p;
    let cancel = AtomicBool::new(false);
    let sharded = hash_files(&[path], Algorithm::Blake3, NonZeroU64::new(shard), &options(&progress, &cancel)).unwrap();
    let expected: Vec<u8> = bytes.chunks(shard as usize).flat_map(|c| hash_bytes(Algorithm::Blake3, c)).collect();
    assert_eq!(sharded.digests, expected);
    let last = *done.lock().unwrap();
    // Progress counts shards: three of them.
    assert_eq!((last.bytes_done, last.files_done, last.files_total), (bytes.len() as u64, 3, 3));
}

#[test]
fn a_file_rewritten_after_listing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.bin");
    fs::write(&first, data(1 << 20, 1)).unwrap();
    let path = dir.path().join("model.bin");
    fs::write(&path, b"first version of the weights").unwrap();
    // One thread hashes the largest file first; its progress rewrites the other (a new inode).
    let rewritten = AtomicBool::new(false);
    let progress = |_: Progress| {
        if !rewritten.swap(true, std::sync::atomic::Ordering::Relaxed) {
            fs::remove_file(&path).unwrap();
            fs::write(&path, b"second version, other inode").unwrap();
        }
    };
    let cancel = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let paths = [first, path.clone()];
    let err = pool.install(|| hash_files(&paths, Algorithm::Sha256, None, &options(&progress, &cancel))).unwrap_err();
    assert_eq!(err.kind, ErrorKind::FileChanged);
    assert_eq!(err.path, path);
    assert!(err.reason.contains("changed after it was listed"), "{}", err.reason);
}

#[test]
fn symlinks_hash_their_target_and_special_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    fs::write(&target, b"weights").unwrap();
    let link = dir.path().join("link");
    symlink(&target, &link).unwrap();
    let cancel = AtomicBool::new(false);
    let sharded = hash_files(&[link.clone()], Algorithm::Sha256, NonZeroU64::new(4), &options(&|_| {}, &cancel)).unwrap();
    assert_eq!(sharded.digests, [hash_bytes(Algorithm::Sha256, b"weig"), hash_bytes(Algorithm::Sha256, b"hts")].concat());

    let dangling = dir.path().join("dangling");
    symlink(dir.path().join("nowhere"), &dangling).unwrap();
    for shard in [None, NonZeroU64::new(4)] {
        let err = hash_files(&[dangling.clone()], Algorithm::Sha256, shard, &options(&|_| {}, &cancel)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::DanglingSymlink, "shard {shard:?}");
        let err = hash_files(&[dir.path().to_path_buf()], Algorithm::Sha256, shard, &options(&|_| {}, &cancel)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotARegularFile, "shard {shard:?}");
    }
}

#[test]
fn cancelling_stops_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    fs::write(&path, data(1 << 20, 5)).unwrap();
    let cancel = AtomicBool::new(true);
    let err = hash_files(&[path], Algorithm::Sha256, NonZeroU64::new(1024), &options(&|_| {}, &cancel)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
}

#[test]
fn a_shard_size_that_would_cut_too_many_shards_is_refused_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse");
    let file = fs::File::create(&path).unwrap();
    file.set_len(1 << 40).unwrap(); // 1 TiB, sparse: nothing is read
    let cancel = AtomicBool::new(false);
    let err = hash_files(&[path], Algorithm::Sha256, NonZeroU64::new(1), &options(&|_| {}, &cancel)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyShards);
    assert!(err.reason.contains("more than 2097152 shards"), "{}", err.reason);
}

/// Many pieces of BLAKE3 pipelined files on a pool of 8 threads: a worker that waits inside
/// one piece (BLAKE3 spreads each chunk over the pool) starts another piece on the same
/// thread. Nothing on the hashing path may depend on that (a thread-local buffer did).
#[test]
fn blake3_pieces_interleaved_on_one_thread_hash_right() {
    let dir = tempfile::tempdir().unwrap();
    let contents: Vec<Vec<u8>> = (0..6).map(|seed| data(17 * 1024 * 1024 + seed as usize, seed)).collect();
    let mut paths: Vec<PathBuf> = contents
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let path = dir.path().join(format!("big{i}"));
            fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    // Small files too: pieces that read into a buffer, stolen while a big piece waits.
    let small: Vec<Vec<u8>> = (0..64).map(|seed| data(3000 + seed as usize, seed)).collect();
    for (i, bytes) in small.iter().enumerate() {
        let path = dir.path().join(format!("small{i}"));
        fs::write(&path, bytes).unwrap();
        paths.push(path);
    }
    let expected: Vec<u8> = contents.iter().chain(&small).flat_map(|bytes| hash_bytes(Algorithm::Blake3, bytes)).collect();
    let cancel = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(8).build().unwrap();
    for round in 0..5 {
        let hashed = pool.install(|| hash_files(&paths, Algorithm::Blake3, None, &options(&|_| {}, &cancel)));
        assert_eq!(hashed.expect("hashes").digests, expected, "round {round}");
    }
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: /proc/self/cmdline is the file that says 0 bytes and holds more")]
fn a_file_holding_more_than_its_size_says_is_refused() {
    // /proc files say 0 bytes and hold more; Python would read all of it.
    let err = hash_file(std::path::Path::new("/proc/self/cmdline"), Algorithm::Sha256, &Options::none()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::FileChanged);
    assert!(err.to_string().contains("holds more than the 0 bytes its size says"), "{err}");
}
