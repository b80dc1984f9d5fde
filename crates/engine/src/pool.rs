//! The hashing threads: a rayon pool the engine starts itself, instead of rayon's global pool on
//! its first use, so that its size is bounded and a failure to start it is an error at once. Left to
//! rayon, `RAYON_NUM_THREADS=100000` under a limit on processes (`ulimit -u` 3000) started
//! threads up to the limit and then never returned: thousands of threads polling two cores.

use std::sync::OnceLock;

/// The most threads the engine starts, whatever `RAYON_NUM_THREADS` asks, unless the machine
/// has more cores: one per core is the default, and all hashing can use. Starting 256 on a busy
/// 2-core machine took 0.4 s of CPU time, 1024 took 2.3 s (each idle rayon thread spins a while
/// before it sleeps).
pub const MAX_THREADS: usize = 256;

static POOL: OnceLock<Result<rayon::ThreadPool, String>> = OnceLock::new();

/// Starts the hashing threads (once per process) and returns how many there are: one per core,
/// or what `RAYON_NUM_THREADS` says, at most [`MAX_THREADS`] or one per core. Err, every time,
/// when they could not be started (a limit on processes, say), with the reason.
pub fn threads() -> Result<usize, String> {
    pool().map(rayon::ThreadPool::current_num_threads)
}

/// Runs `work` on the hashing threads: rayon inside it (parallel iterators, `join`, BLAKE3's
/// `update_rayon`) uses them. Called from a thread of a rayon pool already (a caller that
/// `install`s a pool of its own, such as one thread for a test), it runs there.
///
/// # Panics
/// When the threads could not be started: the entry points have no other way to say it, so
/// callers ask [`threads`] first to get it as an error.
pub(crate) fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return work();
    }
    match pool() {
        Ok(pool) => pool.install(work),
        Err(reason) => panic!("{reason}"),
    }
}

/// A pool of the engine's own rather than rayon's global one, whose start (`build_global`)
/// waits until every thread runs: on a busy machine that took up to 40 ms of a command's start.
fn pool() -> Result<&'static rayon::ThreadPool, String> {
    POOL.get_or_init(start).as_ref().map_err(String::clone)
}

fn start() -> Result<rayon::ThreadPool, String> {
    let asked = asked();
    let most = MAX_THREADS.max(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let count = asked.map_or(0, |n| n.min(most)); // 0: rayon's default, one per core
    rayon::ThreadPoolBuilder::new().num_threads(count).build().map_err(|err| {
        let wanted = if count == 0 { "one hashing thread per core".to_string() } else { format!("{count} hashing threads") };
        let capped = match asked {
            Some(n) if n > most => format!(" (RAYON_NUM_THREADS asks for {n}, at most {most} are started)"),
            Some(_) => " (as RAYON_NUM_THREADS asks)".to_string(),
            None => String::new(),
        };
        format!("cannot start {wanted}{capped}: {err}{}", process_limit())
    })
}

/// The thread count the environment asks for, read as rayon reads it: `RAYON_NUM_THREADS`
/// (0: one per core), else the older `RAYON_RS_NUM_CPUS`.
fn asked() -> Option<usize> {
    let number = |name: &str| std::env::var(name).ok()?.parse::<usize>().ok();
    match number("RAYON_NUM_THREADS") {
        Some(0) => None,
        Some(n) => Some(n),
        None => number("RAYON_RS_NUM_CPUS").filter(|&n| n > 0),
    }
}

/// "; this user may run at most N processes and threads (ulimit -u)" when such a limit is set.
fn process_limit() -> String {
    #[cfg(unix)]
    {
        // SAFETY: getrlimit writes into the struct it is given.
        let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut limit) } == 0 && limit.rlim_cur != libc::RLIM_INFINITY {
            return format!("; this user may run at most {} processes and threads (ulimit -u)", limit.rlim_cur);
        }
    }
    String::new()
}
