//! Hashing a large file through a mapping of it instead of copying it through a buffer, safe
//! against the file being cut short underneath. This is what makes `b3sum` fast (it maps the
//! whole file and splits it over every core with rayon's join; `b3sum --no-mmap` is no faster
//! than reading): the copy out of the page cache is a quarter of BLAKE3's CPU time and most of
//! what separates it from `b3sum`. Measured on the 2-core Xeon guest (SHA extensions, AVX-512),
//! CPU time of a whole process, medians of interleaved runs: 1 GiB BLAKE3 0.34-0.37 s mapped
//! against 0.47-0.48 s read (`b3sum` 0.33-0.38); 64 files of 16 MiB 0.24 s against 0.56 s;
//! SHA-256 13% less on 16 MiB files and on 1 GiB. The bench prints the wall times (README).
//!
//! A mapped page past the end of a truncated file raises SIGBUS, which would kill the process.
//! So a process-wide SIGBUS handler, installed with the first mapping (never before: a process
//! that hashes no file of 4 MiB or more has none) and chaining to the handler it replaced,
//! looks the faulting address up in a lock-free registry of our mappings: inside one, it maps
//! anonymous zero pages over the rest of it (MAP_FIXED), marks it cut, and returns, so the
//! faulting read resumes and reads zeros. The caller hashes on, then reports the file changed
//! (`ErrorKind::FileChanged`) because the mapping says it was cut. Outside our mappings, and for
//! any SIGBUS that is not a fault past a file's end (sent by a process, a memory error), the
//! signal goes to the previous handler, or kills the process as it would have without us.
//! Before each mapping the handler is checked to be still ours: a library that installs its own
//! later without chaining to ours turns mapping off (files are read), rather than meet faults it
//! does not expect. `KERNELSEAL_MMAP=0` turns mapping off and the handler is never installed
//! (SECURITY.md).
//!
//! Linux on x86_64 and aarch64 only (elsewhere mapped_unsupported.rs stands in). Measured
//! before on a 2-core EPYC guest, mapped pages of 4 KiB cost twice the CPU time of reading
//! (page-table work in that hypervisor, most likely): the bench's "read" rows
//! (`KERNELSEAL_MMAP=0`) show whether a machine is such a one.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::OnceLock;

/// Mappings at once across the process: as many as the threads hashing (at most 256 unless a
/// machine has more cores, crates/engine/src/pool.rs). A file that finds none free is read.
const SLOTS: usize = 256;

/// One registered mapping: `start..end` (page-aligned) while `start` is not 0. `seq` is odd
/// while the owner changes `start` and `end`: the handler trusts a pair only when `seq` was
/// even and unchanged around reading it, so it never combines the start of one mapping with the
/// end of the next that reuses the slot (found by the attack review).
struct Slot {
    seq: AtomicUsize,
    taken: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    cut: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // each element of REGISTRY is its own copy
const FREE: Slot = Slot { seq: AtomicUsize::new(0), taken: AtomicBool::new(false), start: AtomicUsize::new(0), end: AtomicUsize::new(0), cut: AtomicBool::new(false) };
static REGISTRY: [Slot; SLOTS] = [FREE; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(0);
/// The SIGBUS disposition before ours, to chain to.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Whether files may be mapped: not turned off (`KERNELSEAL_MMAP=0`, read once), and our SIGBUS
/// handler is in place (installed on the first call, and still there: a handler installed after
/// ours without chaining to it would let a truncated file kill the process, so then files are
/// read).
pub(crate) fn enabled() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed =
        *INSTALLED.get_or_init(|| std::env::var_os("KERNELSEAL_MMAP").is_none_or(|v| v != "0") && install_handler());
    installed && handler_in_place()
}

/// Whether SIGBUS still goes to [`on_sigbus`] (one system call; only files of megabytes ask).
fn handler_in_place() -> bool {
    // SAFETY: sigaction only reads the disposition into `current`.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == on_sigbus as *const () as usize
    }
}

/// Installs [`on_sigbus`] for the process, remembering the handler it replaces.
fn install_handler() -> bool {
    // SAFETY: sysconf and sigaction with valid pointers; the handler only touches atomics and
    // makes one mmap call (a system call, async-signal-safe), and saves errno around it.
    unsafe {
        let page = libc::sysconf(libc::_SC_PAGESIZE);
        if page <= 0 {
            return false;
        }
        PAGE.store(page as usize, SeqCst);
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        // The handler it replaces comes back from the same call: one installed meanwhile by
        // another thread is chained to, not lost.
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, &action, &mut previous) != 0 {
            return false;
        }
        let _ = PREVIOUS.set(previous);
        true
    }
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler.
    let (address, code) = unsafe { ((*info).si_addr() as usize, (*info).si_code) };
    // Only a fault the kernel raised for an access past a file's end (not a SIGBUS sent by a
    // process, nor a hardware memory error) is ours to handle.
    let slots = if code == libc::BUS_ADRERR { &REGISTRY[..] } else { &[] };
    for slot in slots {
        let before = slot.seq.load(SeqCst);
        let start = slot.start.load(SeqCst);
        let end = slot.end.load(SeqCst);
        if before % 2 == 1 || slot.seq.load(SeqCst) != before || start == 0 || address < start || address >= end {
            continue;
        }
        let page = address & !(PAGE.load(SeqCst) - 1);
        // SAFETY: `page..end` lies inside a mapping its owner mapped and keeps mapped until it
        // has cleared `start` (see `Mapping::drop`); zeros replace file pages that no longer exist.
        let replaced = unsafe {
            let errno = *libc::__errno_location();
            let zeros = libc::mmap(
                page as *mut libc::c_void,
                end - page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            );
            *libc::__errno_location() = errno;
            zeros != libc::MAP_FAILED
        };
        if replaced {
            slot.cut.store(true, SeqCst);
            return;
        }
        break;
    }
    // SAFETY: calls the handler that was in place before ours, as the kernel would have.
    unsafe { chain(signal, info, context) }
}

/// Hands a fault that is not ours to the previous disposition. Default or ignored: restore the
/// default and return, so that the faulting access repeats and the process dies as it would
/// have without us.
unsafe fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = PREVIOUS.get();
    match previous.map(|p| (p.sa_sigaction, p.sa_flags)) {
        Some((handler, flags)) if handler != libc::SIG_DFL && handler != libc::SIG_IGN => {
            if flags & libc::SA_SIGINFO != 0 {
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(handler);
                handler(signal, info, context);
            } else {
                let handler: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                handler(signal);
            }
        }
        _ => {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, std::ptr::null_mut());
        }
    }
}

/// Sleeps `KERNELSEAL_TEST_MAPPED_PAUSE_MS` (read once) before each slice of a mapped file is
/// hashed: the time a test needs to cut the file short under the mapping. Only with the
/// `test-hooks` feature, which the shipped addon is built without.
#[cfg(feature = "test-hooks")]
pub(crate) fn test_pause() {
    static PAUSE: OnceLock<Option<std::time::Duration>> = OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        let ms = std::env::var("KERNELSEAL_TEST_MAPPED_PAUSE_MS").ok()?.parse().ok()?;
        Some(std::time::Duration::from_millis(ms))
    });
    if let Some(pause) = pause {
        std::thread::sleep(*pause);
    }
}

#[cfg(not(feature = "test-hooks"))]
pub(crate) fn test_pause() {}

/// `len` bytes of a file from `offset`, mapped read-only and registered with the SIGBUS handler.
pub(crate) struct Mapping {
    base: *mut libc::c_void,
    mapped: usize,
    /// Where the requested bytes start within the mapping (the offset rounded down to a page).
    skip: usize,
    len: usize,
    slot: &'static Slot,
}

impl Mapping {
    /// Maps `len` (> 0) bytes of `file` from `offset`, its pages left to fault in as they are
    /// read. None when no slot is free or the mapping fails (the caller reads instead). Only
    /// after [`enabled`] returned true.
    pub(crate) fn map(file: &File, offset: u64, len: usize) -> Option<Mapping> {
        use std::os::unix::io::AsRawFd;
        let page = PAGE.load(SeqCst) as u64;
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        let mapped = (skip + len).div_ceil(page as usize) * page as usize;
        let slot = REGISTRY.iter().find(|slot| slot.taken.compare_exchange(false, true, SeqCst, SeqCst).is_ok())?;
        // SAFETY: a fresh read-only shared mapping of an open file; nothing else refers to it.
        let base = unsafe {
            libc::mmap(std::ptr::null_mut(), mapped, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), aligned as libc::off_t)
        };
        if base == libc::MAP_FAILED {
            slot.taken.store(false, SeqCst);
            return None;
        }
        slot.cut.store(false, SeqCst);
        slot.seq.fetch_add(1, SeqCst); // odd: changing
        slot.end.store(base as usize + mapped, SeqCst);
        slot.start.store(base as usize, SeqCst);
        slot.seq.fetch_add(1, SeqCst); // even: a consistent pair
        Some(Mapping { base, mapped, skip, len, slot })
    }

    /// The bytes. A part of the file cut off underneath reads as zeros, and [`Mapping::cut`]
    /// says so after the read.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping covers `skip + len` readable bytes for the life of `self`. Like
        // any map of a file (memmap2's `Mmap::map` says the same), its bytes change if the
        // file is written meanwhile; the hashers only read them, and a change is caught by
        // the metadata check after the read, a cut by `cut`.
        unsafe { std::slice::from_raw_parts((self.base as *const u8).add(self.skip), self.len) }
    }

    /// Drops the pages of the first `hashed` bytes from the mapping (the page cache keeps them):
    /// what has been hashed no longer counts in the process's resident memory.
    pub(crate) fn release(&self, hashed: usize) {
        let page = PAGE.load(SeqCst);
        let len = (self.skip + hashed) / page * page;
        // SAFETY: advice about our own mapping; the bytes it drops were read and are not
        // borrowed (`bytes` slices are done with before the caller releases them), and a later
        // read would fault them in again.
        unsafe { libc::madvise(self.base, len, libc::MADV_DONTNEED) };
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the file was cut short under this mapping (a read hit a page past its end).
    pub(crate) fn cut(&self) -> bool {
        self.slot.cut.load(SeqCst)
    }
}

// SAFETY: a mapping belongs to the process, not to a thread: any thread may read it (`bytes`
// only reads) and unmap it (`drop`, once).
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Unregistered before it is unmapped: the handler never zero-maps an address range
        // that may already belong to someone else.
        self.slot.seq.fetch_add(1, SeqCst);
        self.slot.start.store(0, SeqCst);
        self.slot.end.store(0, SeqCst);
        self.slot.seq.fetch_add(1, SeqCst);
        // SAFETY: our own mapping, no longer referenced (`bytes` borrows `self`).
        unsafe { libc::munmap(self.base, self.mapped) };
        self.slot.taken.store(false, SeqCst);
    }
}
