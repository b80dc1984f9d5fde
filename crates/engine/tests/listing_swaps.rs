//! A path the listing saw as a regular file, swapped before it is hashed, is refused — and the
//! swap never gets a special file opened (SECURITY.md: special files are refused unopened,
//! since opening some devices has side effects). Found by the attack review of the cut to five
//! system calls per file. One hashing thread, so the swap (on the first file's progress) always
//! comes before the second file is opened.
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kernelseal_engine::{hash_files, hash_variant, Algorithm, ErrorKind, Options, Progress};

fn one_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(work)
}

/// Writes a big first file and a small second one into `dir` and returns the second's path.
fn two_files(dir: &Path) -> std::path::PathBuf {
    fs::write(dir.join("a.bin"), vec![7u8; 3 << 20]).unwrap();
    fs::write(dir.join("b.bin"), b"regular when listed").unwrap();
    dir.join("b.bin")
}

#[test]
fn a_walked_file_swapped_for_a_link_to_a_device_is_refused_by_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let second = two_files(dir.path());
    let swapped = AtomicBool::new(false);
    let progress = |_: Progress| {
        if !swapped.swap(true, Ordering::SeqCst) {
            fs::remove_file(&second).unwrap();
            std::os::unix::fs::symlink("/dev/zero", &second).unwrap();
        }
    };
    let cancel = AtomicBool::new(false);
    let result = one_thread(|| hash_variant(dir.path(), Algorithm::Sha256, &Options { progress: &progress, cancel: &cancel }));
    assert!(swapped.load(Ordering::SeqCst), "the swap never ran");
    let err = result.expect_err("a device behind a swapped-in link must be refused");
    assert_eq!(err.kind, ErrorKind::FileChanged, "{err}");
    assert!(err.to_string().contains("symbolic link now"), "{err}");
}

#[test]
fn a_listed_model_file_swapped_for_a_fifo_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let second = two_files(dir.path());
    let released = Arc::new(AtomicBool::new(false));
    let swapped = AtomicBool::new(false);
    let writer = Mutex::new(None);
    let progress = |_: Progress| {
        if swapped.swap(true, Ordering::SeqCst) {
            return;
        }
        fs::remove_file(&second).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&second).status().unwrap().success());
        let (path, released) = (second.clone(), released.clone());
        *writer.lock().unwrap() = Some(std::thread::spawn(move || {
            let _w = fs::OpenOptions::new().write(true).open(&path).unwrap(); // blocks until a reader opens
            released.store(true, Ordering::SeqCst);
        }));
        std::thread::sleep(Duration::from_millis(100)); // the writer is now blocked in open()
    };
    let cancel = AtomicBool::new(false);
    let paths = [dir.path().join("a.bin"), second.clone()];
    let result = one_thread(|| hash_files(&paths, Algorithm::Sha256, None, &Options { progress: &progress, cancel: &cancel }));
    assert!(swapped.load(Ordering::SeqCst), "the swap never ran");
    assert!(result.is_err(), "the FIFO must be refused");
    std::thread::sleep(Duration::from_millis(300));
    let opened = released.load(Ordering::SeqCst);
    // Release the writer ourselves so the test ends either way.
    let _reader = {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&second).unwrap()
    };
    writer.lock().unwrap().take().unwrap().join().unwrap();
    assert!(!opened, "a FIFO swapped in after the listing was opened: {:?}", result.err());
}
