//! The engine's SIGBUS handler in a process that is not ours (crates/engine/src/mapped.rs): a
//! fault outside the engine's mappings goes where it would have gone without the engine (the
//! host's handler, or death by SIGBUS), and a handler the host installs later, without chaining,
//! makes the engine read files instead of mapping them. One test: the handlers are the
//! process's, and the steps must run in this order.

use std::fs;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kernelseal_engine::{hash_file, Algorithm, ErrorKind, Options, Progress};

static HOST_FAULTS: AtomicUsize = AtomicUsize::new(0);

/// The host's own SIGBUS handler: counts the fault and maps a zero page where it happened, so
/// that the faulting read resumes.
extern "C" fn host_handler(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo; mmap is async-signal-safe.
    unsafe {
        let page = (*info).si_addr() as usize & !(page_size() - 1);
        libc::mmap(page as *mut libc::c_void, page_size(), libc::PROT_READ, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED, -1, 0);
    }
    HOST_FAULTS.fetch_add(1, Ordering::SeqCst);
}

fn install_host_handler() {
    // SAFETY: a valid sigaction for SIGBUS.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = host_handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()), 0);
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Reads a byte past the end of a file, through a mapping of the host's own (not the engine's):
/// maps two pages of `path`, cuts the file to nothing, reads the second page.
fn host_reads_past_the_end(path: &Path) -> u8 {
    fs::write(path, vec![7u8; 2 * page_size()]).unwrap();
    let file = fs::File::open(path).unwrap();
    // SAFETY: a fresh read-only mapping of an open file; read once through a volatile read.
    unsafe {
        let base = libc::mmap(std::ptr::null_mut(), 2 * page_size(), libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
        assert_ne!(base, libc::MAP_FAILED);
        fs::OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
        let byte = std::ptr::read_volatile((base as *const u8).add(page_size()));
        libc::munmap(base, 2 * page_size());
        byte
    }
}

/// Hashes a 40 MiB file (mapped, in slices of 16 MiB) and cuts it to 1 MiB after the first slice.
fn hash_and_cut(path: &Path) -> kernelseal_engine::Error {
    fs::write(path, vec![1u8; 40 << 20]).unwrap();
    let cut = AtomicBool::new(false);
    let progress = |_: Progress| {
        if !cut.swap(true, Ordering::SeqCst) {
            fs::OpenOptions::new().write(true).open(path).unwrap().set_len(1 << 20).unwrap();
        }
    };
    let err = hash_file(path, Algorithm::Blake3, &Options { progress: &progress, cancel: &AtomicBool::new(false) }).unwrap_err();
    assert_eq!(err.kind, ErrorKind::FileChanged, "{err}");
    err
}

#[test]
fn faults_not_ours_go_where_they_would_have_gone_and_a_later_handler_turns_mapping_off() {
    // One thread, so that a single file is mapped (with a core to spare it would be read by the
    // pipeline: crates/engine/src/file.rs MAP_THRESHOLD). Set before the engine's pool starts:
    // this is the only test of this binary.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let dir = tempfile::tempdir().unwrap();
    let (weights, other) = (dir.path().join("weights.bin"), dir.path().join("other.bin"));

    // 1. No handler before ours: a fault outside our mappings kills the process, as it would
    //    have without us (in a child, forked before any thread of the engine runs).
    // SAFETY: the child runs the engine, then dies one way or another; the parent only waits.
    let child = unsafe { libc::fork() };
    if child == 0 {
        let err = hash_and_cut(&weights);
        let ours = err.reason.contains("cut short while mapped");
        host_reads_past_the_end(&other);
        // SAFETY: leaving the child without running the test harness's exit path.
        unsafe { libc::_exit(if ours { 0 } else { 3 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
    assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGBUS, "the child was not killed by SIGBUS (status {status:#x})");

    // 2. The host's handler first: the engine's, installed with its first mapped file, takes the
    //    faults under its mappings and leaves the host's handler alone...
    install_host_handler();
    let err = hash_and_cut(&weights);
    assert!(err.reason.contains("cut short while mapped"), "{err}");
    assert_eq!(HOST_FAULTS.load(Ordering::SeqCst), 0);
    // ...and hands it the others.
    assert_eq!(host_reads_past_the_end(&other), 0);
    assert_eq!(HOST_FAULTS.load(Ordering::SeqCst), 1);

    // 3. A handler installed after ours, not chaining to it: files are read, never mapped, so
    //    that no fault can reach a handler that does not expect it. A cut is then seen by the
    //    reads and the metadata check.
    install_host_handler();
    let err = hash_and_cut(&weights);
    assert!(!err.reason.contains("mapped") && err.reason.contains("changed while it was hashed"), "{err}");
    assert_eq!(HOST_FAULTS.load(Ordering::SeqCst), 1);
}
