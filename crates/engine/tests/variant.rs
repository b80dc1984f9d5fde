//! The engine's rules for walking and hashing a variant, on trees built by each test.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use kernelseal_engine::{
    hash_bytes, hash_file, hash_variant, walk_tree, walk_variant, Algorithm, ErrorKind, Options, Progress,
};

fn write(root: &Path, key: &str, contents: &[u8]) {
    let path = root.join(key);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn keys(root: &Path) -> Vec<String> {
    walk_variant(root, &AtomicBool::new(false)).unwrap().into_iter().map(|e| e.key).collect()
}

fn no_progress() -> impl Fn(Progress) + Sync {
    |_| {}
}

#[test]
fn walks_by_the_variant_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "__init__.py", b"init");
    write(root, "_ops.py", b"ops");
    write(root, "metadata.json", b"{}");
    write(root, "metadata.json.sigstore", b"{}");
    write(root, "relu/metadata.json", b"nested metadata is content");
    write(root, "relu/metadata.json.sigstore", b"nested too");
    write(root, "relu/__pycache__/x.cpython-312.pyc", b"cache");
    write(root, "relu/stale.pyc", b"stale");
    write(root, "top.pyc", b"also pruned at the top");
    write(root, ".hidden", b"hidden files are kernel content");
    write(root, "empty", b"");
    fs::create_dir_all(root.join("empty-dir")).unwrap();
    write(root, "naïve/ünïcode-名前.py", b"unicode");
    assert_eq!(
        keys(root),
        vec![
            ".hidden",
            "__init__.py",
            "_ops.py",
            "empty",
            "naïve/ünïcode-名前.py",
            "relu/metadata.json",
            "relu/metadata.json.sigstore",
        ]
    );
}

#[test]
fn keys_are_sorted_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    // U+FF5E sorts after U+1F600 in UTF-16 but before it in UTF-8 byte order.
    for key in ["b", "a/z", "a.b", "\u{1F600}", "\u{FF5E}", "B", "a-b"] {
        write(dir.path(), key, key.as_bytes());
    }
    assert_eq!(keys(dir.path()), vec!["B", "a-b", "a.b", "a/z", "b", "\u{FF5E}", "\u{1F600}"]);
}

#[test]
fn symlinked_files_are_hashed_under_the_link_path() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = tempfile::tempdir().unwrap();
    fs::write(blobs.path().join("blob"), b"shared content").unwrap();
    fs::create_dir_all(blobs.path().join("tree")).unwrap();
    fs::write(blobs.path().join("tree/inner.py"), b"not entered").unwrap();
    let root = dir.path();
    symlink(blobs.path().join("blob"), root.join("kernel.so")).unwrap();
    symlink(blobs.path().join("tree"), root.join("linked-dir")).unwrap();
    let digest = hash_variant(root, Algorithm::Sha256, &Options { progress: &no_progress(), cancel: &AtomicBool::new(false) }).unwrap();
    assert_eq!(digest.keys, vec!["kernel.so"]);
    assert_eq!(digest.digests, hash_bytes(Algorithm::Sha256, b"shared content"));
}

#[test]
fn a_dangling_symlink_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.py", b"ok");
    symlink("missing.so", dir.path().join("gone.so")).unwrap();
    let err = walk_variant(dir.path(), &AtomicBool::new(false)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DanglingSymlink);
    assert_eq!(err.path, dir.path().join("gone.so"));
    assert!(err.to_string().contains("dangling symlink to missing.so"), "{err}");
}

#[test]
fn a_symlink_loop_is_reported_as_dangling() {
    let dir = tempfile::tempdir().unwrap();
    symlink("loop-b", dir.path().join("loop-a")).unwrap();
    symlink("loop-a", dir.path().join("loop-b")).unwrap();
    assert_eq!(walk_variant(dir.path(), &AtomicBool::new(false)).unwrap_err().kind, ErrorKind::DanglingSymlink);
}

#[test]
fn excluded_names_are_not_followed_even_when_dangling() {
    let dir = tempfile::tempdir().unwrap();
    symlink("missing", dir.path().join("stale.pyc")).unwrap();
    symlink("missing", dir.path().join("metadata.json")).unwrap();
    assert!(keys(dir.path()).is_empty());
}

#[test]
fn fifos_and_sockets_are_skipped_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.py", b"ok");
    let fifo = dir.path().join("pipe");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    symlink("pipe", dir.path().join("link-to-pipe")).unwrap();
    assert_eq!(keys(dir.path()), vec!["ok.py"]);
    // Asked directly, a FIFO is refused rather than opened for a blocking read.
    let err = hash_file(&fifo, Algorithm::Sha256, &Options::none()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotARegularFile);
}

#[test]
fn a_missing_root_and_a_file_root_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = walk_variant(&dir.path().join("nope"), &AtomicBool::new(false)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    write(dir.path(), "file", b"x");
    let err = walk_variant(&dir.path().join("file"), &AtomicBool::new(false)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotADirectory);
}

#[test]
fn every_algorithm_matches_hashing_the_bytes_directly() {
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..(20 << 20)).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("hello", b"hello world".to_vec()),
        ("one-chunk", big[..256 * 1024].to_vec()),
        ("chunk-plus-one", big[..256 * 1024 + 1].to_vec()),
        ("big.so", big.clone()),
    ];
    for (key, contents) in &files {
        write(dir.path(), key, contents);
    }
    for algorithm in Algorithm::ALL {
        let digest = hash_variant(dir.path(), algorithm, &Options { progress: &no_progress(), cancel: &AtomicBool::new(false) }).unwrap();
        let mut expected: Vec<(String, Vec<u8>)> =
            files.iter().map(|(k, c)| (k.to_string(), hash_bytes(algorithm, c))).collect();
        expected.sort();
        let actual: Vec<(String, Vec<u8>)> = digest.files().map(|(k, d)| (k.to_string(), d.to_vec())).collect();
        assert_eq!(actual, expected, "{}", algorithm.name());
        assert_eq!(digest.bytes, files.iter().map(|(_, c)| c.len() as u64).sum::<u64>());
    }
}

#[test]
fn progress_reaches_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        write(dir.path(), &format!("f{i}"), &vec![i as u8; 100_000]);
    }
    let last = Mutex::new(Progress::default());
    let max_bytes = AtomicU64::new(0);
    let progress = |p: Progress| {
        max_bytes.fetch_max(p.bytes_done, Ordering::Relaxed);
        let mut last = last.lock().unwrap();
        if p.files_done >= last.files_done {
            *last = p;
        }
    };
    hash_variant(dir.path(), Algorithm::Sha256, &Options { progress: &progress, cancel: &AtomicBool::new(false) }).unwrap();
    let last = *last.lock().unwrap();
    assert_eq!((last.files_done, last.files_total), (50, 50));
    assert_eq!(last.bytes_total, 5_000_000);
    assert_eq!(max_bytes.load(Ordering::Relaxed), 5_000_000);
}

#[test]
fn cancellation_stops_the_work() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", &vec![1u8; 4 << 20]);
    let cancel = AtomicBool::new(false);
    let progress = |_p: Progress| cancel.store(true, Ordering::Relaxed);
    let err = hash_variant(dir.path(), Algorithm::Sha256, &Options { progress: &progress, cancel: &cancel }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
}

#[test]
fn a_file_that_changes_while_hashed_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.so");
    fs::write(&path, vec![0u8; 4 << 20]).unwrap();
    let grown = AtomicBool::new(false);
    let on_bytes = |_: Progress| {
        if !grown.swap(true, Ordering::Relaxed) {
            // Truncate after the first chunk: the read comes up short of the size at open.
            fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1024).unwrap();
        }
    };
    let options = Options { progress: &on_bytes, cancel: &AtomicBool::new(false) };
    let err = hash_file(&path, Algorithm::Sha256, &options).unwrap_err();
    assert_eq!(err.kind, ErrorKind::FileChanged);
    assert!(err.to_string().contains("changed while it was hashed"), "{err}");
}

/// Large files are read ahead by a second thread: BLAKE3 always, SHA-2 when a core would idle
/// (one file, more than one rayon thread: file.rs `PIPELINE_THRESHOLD`).
const PIPELINED: [Algorithm; 3] = [Algorithm::Blake3, Algorithm::Sha256, Algorithm::Sha512];

#[test]
fn a_large_file_read_ahead_hashes_to_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..(40u32 << 20) + 12345).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    write(dir.path(), "model.so", &data);
    for algorithm in PIPELINED {
        let expected = hash_bytes(algorithm, &data);
        assert_eq!(hash_file(&dir.path().join("model.so"), algorithm, &Options::none()).unwrap().digest, expected, "{algorithm:?}");
        assert_eq!(hash_variant(dir.path(), algorithm, &Options::none()).unwrap().digests, expected, "{algorithm:?}");
    }
}

#[test]
fn a_large_file_read_by_the_pipeline_that_shrinks_or_grows_is_an_error() {
    for (grow, algorithm) in [false, true].into_iter().flat_map(|grow| PIPELINED.map(|algorithm| (grow, algorithm))) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.so");
        fs::write(&path, vec![7u8; 40 << 20]).unwrap();
        let touched = AtomicBool::new(false);
        let on_bytes = |_: Progress| {
            if !touched.swap(true, Ordering::Relaxed) {
                let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
                file.set_len(if grow { 80 << 20 } else { 1 << 20 }).unwrap();
            }
        };
        let options = Options { progress: &on_bytes, cancel: &AtomicBool::new(false) };
        let err = hash_file(&path, algorithm, &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FileChanged, "grow={grow} {algorithm:?}: {err}");
    }
}

#[test]
fn cancelling_a_large_file_stops_the_reader_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.so");
    fs::write(&path, vec![1u8; 64 << 20]).unwrap();
    for algorithm in PIPELINED {
        let cancel = AtomicBool::new(false);
        let on_bytes = |_: Progress| cancel.store(true, Ordering::Relaxed);
        let err = hash_file(&path, algorithm, &Options { progress: &on_bytes, cancel: &cancel }).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Cancelled, "{algorithm:?}");
    }
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "macOS file systems refuse names that are not UTF-8: there is none to walk")]
fn a_non_utf8_name_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(std::ffi::OsStr::from_bytes(b"bad-\xff.py")), b"x").unwrap();
    assert_eq!(walk_variant(dir.path(), &AtomicBool::new(false)).unwrap_err().kind, ErrorKind::InvalidName);
}

#[test]
fn every_entry_left_out_of_the_digest_is_reported_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "_ops.py", b"ops");
    write(root, "metadata.json", b"{}");
    write(root, "relu/__pycache__/x.cpython-312.pyc", b"cache");
    write(root, "relu/stale.pyc", b"stale");
    write(root, "odd.pyc/inner.py", b"a directory named .pyc is left out, and is not bytecode");
    fs::create_dir_all(outside.path().join("pkg")).unwrap();
    fs::write(outside.path().join("pkg/__init__.py"), b"planted").unwrap();
    symlink(outside.path().join("pkg"), root.join("_ops")).unwrap();
    symlink("relu/__pycache__", root.join("cached")).unwrap();
    let fifo = std::ffi::CString::new(root.join("pipe").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    symlink("pipe", root.join("link-to-pipe")).unwrap();
    let tree = walk_tree(root, &AtomicBool::new(false)).unwrap();
    assert_eq!(tree.entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), vec!["_ops.py"]);
    let unhashed: Vec<(&str, &str)> = tree.unhashed.iter().map(|(key, why)| (key.as_str(), why.as_str())).collect();
    assert_eq!(
        unhashed,
        vec![
            ("_ops", "directory-symlink"),
            ("cached", "directory-symlink"),
            ("link-to-pipe", "special-file"),
            ("odd.pyc", "excluded-directory"),
            ("pipe", "special-file"),
            ("relu/__pycache__", "bytecode-directory"),
            ("relu/stale.pyc", "bytecode"),
        ]
    );
    // The digest is the reference's all the same; hash_variant carries the report along.
    let digest = hash_variant(root, Algorithm::Sha256, &Options { progress: &no_progress(), cancel: &AtomicBool::new(false) }).unwrap();
    assert_eq!(digest.keys, vec!["_ops.py"]);
    assert_eq!(digest.unhashed, tree.unhashed);
}

/// More entries than the walk looks up on one thread (walk.rs `PARALLEL_LOOKUPS`): the rules,
/// sizes and errors must not depend on how many entries a tree holds.
const MANY: usize = 300;

#[test]
fn a_large_tree_is_looked_up_in_parallel_by_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..MANY {
        write(root, &format!("pad/{}/f{i:03}.py", i % 7), &vec![b'x'; i]);
    }
    fs::write(outside.path().join("blob"), vec![b'b'; 4321]).unwrap();
    symlink(outside.path().join("blob"), root.join("kernel.so")).unwrap();
    fs::create_dir_all(outside.path().join("pkg")).unwrap();
    symlink(outside.path().join("pkg"), root.join("_ops")).unwrap();
    let fifo = std::ffi::CString::new(root.join("pipe").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    symlink("pipe", root.join("link-to-pipe")).unwrap();
    write(root, "pad/stale.pyc", b"stale");

    let tree = walk_tree(root, &AtomicBool::new(false)).unwrap();
    assert_eq!(tree.entries.len(), MANY + 1);
    let link = tree.entries.iter().find(|e| e.key == "kernel.so").unwrap();
    assert_eq!((link.size, link.link), (4321, true));
    // What the walk saw of each file is its target's identity (a receipt records it).
    use std::os::unix::fs::MetadataExt;
    let target = fs::metadata(outside.path().join("blob")).unwrap();
    assert_eq!(link.fingerprint.inode, target.ino());
    assert_eq!(link.fingerprint.mtime, (target.mtime(), target.mtime_nsec()));
    assert_eq!(link.fingerprint.ctime, (target.ctime(), target.ctime_nsec()));
    let file = fs::metadata(root.join("pad/0/f007.py")).unwrap();
    let fingerprint = tree.entries.iter().find(|e| e.key == "pad/0/f007.py").unwrap().fingerprint;
    assert_eq!((fingerprint.inode, fingerprint.mtime, fingerprint.ctime), (file.ino(), (file.mtime(), file.mtime_nsec()), (file.ctime(), file.ctime_nsec())));
    for entry in tree.entries.iter().filter(|e| e.key != "kernel.so") {
        let i: u64 = entry.key.rsplit_once("/f").unwrap().1.trim_end_matches(".py").parse().unwrap();
        assert_eq!((entry.size, entry.link), (i, false), "{}", entry.key);
    }
    let keys: Vec<&str> = tree.entries.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "sorted by key");
    let unhashed: Vec<(&str, &str)> = tree.unhashed.iter().map(|(key, why)| (key.as_str(), why.as_str())).collect();
    assert_eq!(
        unhashed,
        vec![("_ops", "directory-symlink"), ("link-to-pipe", "special-file"), ("pad/stale.pyc", "bytecode"), ("pipe", "special-file")]
    );

    // A dangling link among them is still the error, named.
    symlink("missing.so", root.join("pad/3/gone.so")).unwrap();
    let err = walk_tree(root, &AtomicBool::new(false)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DanglingSymlink);
    assert_eq!(err.path, root.join("pad/3/gone.so"));
    // And a cancelled walk stops.
    assert_eq!(walk_tree(root, &AtomicBool::new(true)).unwrap_err().kind, ErrorKind::Cancelled);
}
