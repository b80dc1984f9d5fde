//! The addon's face: converts JavaScript arguments, runs the engine off the JavaScript thread,
//! and settles a promise with the result. No hashing rules here (they live in crates/engine).
//!
//! Exports (argument checks throw synchronously: TypeError for a wrong type, RangeError for a
//! size beyond the bounds below):
//! - `hashVariant(algorithm, dir, onProgress?, cancelToken?) -> Promise<{paths, digests, bytes, unhashed}>`
//!   `paths` is sorted in byte order; `digests` is one Buffer of the raw digests, in that order.
//! - `hashFile(path, algorithm, onProgress?, cancelToken?) -> Promise<{digest, bytes}>`
//! - `hashFiles(algorithm, paths, shardSize, onProgress?, cancelToken?) -> Promise<{sizes, digests, bytes}>`
//!   each file whole (`shardSize` 0) or in shards; `digests` holds them file by file, shard by shard.
//! - `createCancelToken() -> external`, `cancel(token)`
//! - `engineInfo() -> {sha2, threads}`: which SHA-2 code runs, on how many threads
//! - `syncFileSystem(fd) -> Promise<undefined>`: writes out the file system holding the open
//!   descriptor `fd` (`syncfs`), off the JavaScript thread; rejects with code `IO`. Exported on
//!   Linux 5.8 and later only (before 5.8, syncfs reports no write-back error).
//! - `onProgress(bytesDone, filesDone, bytesTotal, filesTotal)` is called at most every 100 ms.
//!
//! `engineInfo` and the hashing calls throw `ERR_KERNELSEAL_THREADS` (no `path`: it is about no
//! file) when the engine's threads cannot be started (crates/engine/src/pool.rs).
//! An engine error rejects with `code`, `path` and `reason` (crates/engine/src/error.rs). A bug
//! (a panic, in any export or job) never unwinds into Node, which would abort the process: it
//! throws or rejects with code `ERR_KERNELSEAL_INTERNAL` and the `operation` it interrupted,
//! never with an engine code, so that it is never taken for a verdict about the files.
//! In the addon the tests build with the `test-hooks` feature (never the shipped one),
//! `KERNELSEAL_TEST_PANIC=<operation>` (read when the addon loads) makes that operation panic,
//! inside the engine's workers for the hashing calls, so that tests can see it handled.
//! When the environment goes away mid-job (a worker terminated, or `process.exit()` in a
//! worker), the job is cancelled and never touches the environment again
//! (crates/node-api/src/lib.rs, `Finalized`).

mod job_queue;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernelseal_engine as engine;
use node_api::{napi_callback_info, napi_env, napi_type_tag, napi_value, Deferred, Env, External, ThreadsafeFunction, ValueType};

const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);
/// The longest path accepted, in UTF-8 bytes: far beyond what a system call takes (4096 on
/// Linux, 1024 on macOS), short enough that a caller cannot make us copy gigabytes.
const MAX_PATH_BYTES: usize = 64 * 1024;
/// The most paths one `hashFiles` call takes: as many as the pieces one job hashes.
const MAX_PATHS: u32 = engine::MAX_PIECES as u32;
/// The most path bytes one `hashFiles` call copies: a million paths of 256 bytes. One string
/// repeated in every element costs the caller nothing and us its length for each.
const MAX_PATHS_BYTES: usize = 256 * 1024 * 1024;
/// Longer than any algorithm name: a longer string is refused without being copied.
const MAX_ALGORITHM_BYTES: usize = 16;

/// A cancel token, held by JavaScript as an external.
#[derive(Clone)]
struct CancelToken(Arc<AtomicBool>);

// SAFETY: this tag (128 random bits) is used for `CancelToken` and nothing else.
unsafe impl External for CancelToken {
    const TAG: napi_type_tag = napi_type_tag { lower: 0x6b65_726e_656c_7365, upper: 0x616c_2063_616e_6365 };
}

/// The operation `KERNELSEAL_TEST_PANIC` names, if any (test-hooks builds only).
#[cfg(feature = "test-hooks")]
static TEST_PANIC: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Panics if `KERNELSEAL_TEST_PANIC` names `operation` (see the module comment); nothing in
/// the shipped addon.
fn test_panic(operation: &str) {
    #[cfg(feature = "test-hooks")]
    if TEST_PANIC.get().and_then(Option::as_deref) == Some(operation) {
        panic!("KERNELSEAL_TEST_PANIC={operation}");
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = operation;
}

#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    #[cfg(feature = "test-hooks")]
    TEST_PANIC.get_or_init(|| std::env::var("KERNELSEAL_TEST_PANIC").ok());
    export(env, "register", |env| {
        let functions: &[(&str, unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value)] = &[
            ("hashVariant", hash_variant),
            ("hashFile", hash_file),
            ("hashFiles", hash_files),
            ("walkTree", walk_tree),
            ("createCancelToken", create_cancel_token),
            ("cancel", cancel),
            ("engineInfo", engine_info),
            ("tryLockFile", try_lock_file),
        ];
        for &(name, callback) in functions {
            if let Ok(function) = env.function(name, callback) {
                let _ = env.set(exports, name, function);
            }
        }
        #[cfg(target_os = "linux")]
        if syncfs_reports_errors() {
            if let Ok(function) = env.function("syncFileSystem", sync_file_system) {
                let _ = env.set(exports, "syncFileSystem", function);
            }
        }
        exports
    })
}

/// Node-API version this addon is written against.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}

/// Runs the body of an exported function. A panic must not unwind into Node (the process
/// would abort): it becomes a thrown internal error naming `operation`.
///
/// # Safety
/// `env` must be the environment Node-API passed to the export being run.
unsafe fn export(env: napi_env, operation: &'static str, body: impl FnOnce(&Env) -> napi_value) -> napi_value {
    // SAFETY: the caller passes the environment of the current call; `env` lives in this frame.
    let env = unsafe { Env::from_raw(env) };
    match catch_unwind(AssertUnwindSafe(|| body(&env))) {
        Ok(value) => value,
        Err(panic) => {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                env.take_exception();
                env.throw(internal_error(&env, operation, &panic_message(&*panic)));
            }));
            null()
        }
    }
}

/// What a job thread sends to the JavaScript thread.
enum Message {
    Progress(engine::Progress),
    Done(Result<Outcome, Failure>),
}

/// Why a job gave no result.
enum Failure {
    /// The engine refused the files: names the file and the reason.
    Engine(engine::Error),
    /// A bug (a panic): what it said. Never about the files.
    Internal(String),
}

enum Outcome {
    Variant(engine::VariantDigest),
    File(engine::FileDigest),
    Files(engine::FilesDigest),
    Tree(engine::Tree),
    /// `syncFileSystem` is done: nothing to hand back.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Synced,
}

/// Lives on the JavaScript thread for the duration of one job.
struct Job {
    operation: &'static str,
    deferred: Option<Deferred>,
    progress_queued: Arc<AtomicBool>,
    cancel: CancelToken,
}

impl Drop for Job {
    /// Dropped with its promise unsettled, the job was abandoned: its environment is going
    /// away. Nobody waits for the result, so stop the work. (The token belongs to that same
    /// environment: externals do not cross environments.)
    fn drop(&mut self) {
        if self.deferred.is_some() {
            self.cancel.0.store(true, Ordering::Relaxed);
        }
    }
}

unsafe extern "C" fn hash_variant(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "hashVariant", |env| {
        let Some([algorithm, dir, on_progress, token]) = arguments::<4>(env, info) else { return null() };
        let Some(algorithm) = algorithm_arg(env, algorithm) else { return null() };
        let Some(dir) = path_arg(env, dir, "dir") else { return null() };
        start(env, "hashVariant", on_progress, token, move |options| engine::hash_variant(&dir, algorithm, options).map(Outcome::Variant))
    })
}

unsafe extern "C" fn hash_file(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "hashFile", |env| {
        let Some([path, algorithm, on_progress, token]) = arguments::<4>(env, info) else { return null() };
        let Some(path) = path_arg(env, path, "path") else { return null() };
        let Some(algorithm) = algorithm_arg(env, algorithm) else { return null() };
        start(env, "hashFile", on_progress, token, move |options| engine::hash_file(&path, algorithm, options).map(Outcome::File))
    })
}

unsafe extern "C" fn hash_files(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "hashFiles", |env| {
        let Some([algorithm, paths, shard_size, on_progress, token]) = arguments::<5>(env, info) else { return null() };
        let Some(algorithm) = algorithm_arg(env, algorithm) else { return null() };
        let Some(paths) = paths_arg(env, paths) else { return null() };
        let shard_size = match env.type_of(shard_size) {
            Ok(ValueType::Number) => env.get_double(shard_size).unwrap_or(f64::NAN),
            _ => f64::NAN,
        };
        // 2^53: beyond it a JavaScript number no longer counts bytes exactly.
        if !(shard_size >= 0.0 && shard_size.fract() == 0.0 && shard_size <= 9_007_199_254_740_992.0) {
            return type_error(env, "shardSize must be a whole number of bytes (0 hashes each file whole)");
        }
        let shard_size = std::num::NonZeroU64::new(shard_size as u64);
        start(env, "hashFiles", on_progress, token, move |options| {
            engine::hash_files(&paths, algorithm, shard_size, options).map(Outcome::Files)
        })
    })
}

/// `walkTree(dir, token) -> Promise<{ paths, stats, unhashed }>`: the variant walk alone
/// (crates/engine/src/walk.rs), for code that needs the list, each file's fingerprint as the walk
/// saw it (receipts) and who may write it (src/kernels/hub/sole-writer.ts) without hashing.
/// `stats` packs STAT_FIELDS native-endian i64 per path: size, inode, mtime seconds, mtime
/// nanoseconds, ctime seconds, ctime nanoseconds (crates/engine/src/file.rs `Fingerprint`), then
/// device, uid, mode, link count (walk.rs `Access`); read by src/hashing/native/backend.ts `entriesOf`.
const STAT_FIELDS: usize = 10;

unsafe extern "C" fn walk_tree(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "walkTree", |env| {
        let Some([dir, token]) = arguments::<2>(env, info) else { return null() };
        let Some(dir) = path_arg(env, dir, "dir") else { return null() };
        let Ok(no_progress) = env.undefined() else { return fail(env) };
        start(env, "walkTree", no_progress, token, move |options| engine::walk_tree(&dir, options.cancel).map(Outcome::Tree))
    })
}

unsafe extern "C" fn engine_info(env: napi_env, _info: napi_callback_info) -> napi_value {
    export(env, "engineInfo", |env| {
        test_panic("engineInfo");
        let Some(threads) = hashing_threads(env) else { return null() };
        let build = || -> node_api::Result<napi_value> {
            let info = env.object()?;
            env.set(info, "sha2", env.string(&engine::sha2_implementation())?)?;
            env.set(info, "threads", env.double(threads as f64)?)?;
            Ok(info)
        };
        build().unwrap_or_else(|_| fail(env))
    })
}

unsafe extern "C" fn create_cancel_token(env: napi_env, _info: napi_callback_info) -> napi_value {
    export(env, "createCancelToken", |env| {
        test_panic("createCancelToken");
        env.external(CancelToken(Arc::new(AtomicBool::new(false)))).unwrap_or_else(|_| fail(env))
    })
}

unsafe extern "C" fn cancel(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "cancel", |env| {
        test_panic("cancel");
        let Some([token]) = arguments::<1>(env, info) else { return null() };
        match env.get_external::<CancelToken>(token) {
            Ok(Some(token)) => token.0.store(true, Ordering::Relaxed),
            _ => env.throw_type_error("ERR_INVALID_ARG_TYPE", "cancel: expected a token from createCancelToken()"),
        }
        null()
    })
}

/// `tryLockFile(fd) -> boolean`: takes an exclusive `flock` on an open file without waiting,
/// as Python's `filelock` (and so `huggingface_hub`) does on the same lock files: true when
/// taken, false when another process holds it. Closing the descriptor releases it, and so does
/// the death of the process: no lock outlives its holder, so none is ever deleted as stale.
unsafe extern "C" fn try_lock_file(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "tryLockFile", |env| {
        let Some([fd]) = arguments::<1>(env, info) else { return null() };
        let Some(fd) = fd_arg(env, fd, "tryLockFile") else { return null() };
        // SAFETY: flock only reads its integer arguments; a descriptor that is not open fails with EBADF.
        let taken = unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !taken {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                if let Ok(error) = env.error("ERR_KERNELSEAL_LOCK", &format!("cannot lock file descriptor {fd}: {err}")) {
                    env.throw(error);
                }
                return null();
            }
        }
        env.boolean(taken).unwrap_or_else(|_| fail(env))
    })
}

/// `syncFileSystem(fd) -> Promise<undefined>`: `syncfs` on the file system holding the open
/// descriptor `fd`, on a job thread (it waits for the disk). One call writes out every file a
/// load placed in a cache, batched by the kernel, where an fsync per file cost a first load of
/// 1,000 small files about a third of its time on this project's machine (README.md,
/// Benchmarks: first loads). The caller holds `fd` open until the promise settles, and passes a
/// descriptor opened before the writes it syncs: syncfs reports a write-back error to a
/// descriptor opened before it happened (Linux 5.8 and later: `syncfs_reports_errors`).
/// Not a hashing call: it needs none of the engine's threads.
#[cfg(target_os = "linux")]
unsafe extern "C" fn sync_file_system(env: napi_env, info: napi_callback_info) -> napi_value {
    export(env, "syncFileSystem", |env| {
        let Some([fd]) = arguments::<1>(env, info) else { return null() };
        let Some(fd) = fd_arg(env, fd, "syncFileSystem") else { return null() };
        let cancel = CancelToken(Arc::new(AtomicBool::new(false)));
        queue_job(env, "syncFileSystem", None, cancel, move |_| {
            test_panic("syncFileSystem");
            // SAFETY: syncfs only reads its integer argument; a descriptor that is not open fails with EBADF.
            if unsafe { libc::syncfs(fd) } != 0 {
                let err = std::io::Error::last_os_error();
                return Err(engine::Error::io(std::path::Path::new(&format!("file descriptor {fd}")), "sync the file system of", &err));
            }
            Ok(Outcome::Synced)
        })
    })
}

/// Whether this kernel's syncfs reports write-back errors (Linux 5.8 and later): before, it
/// returned 0 whatever failed, and an fsync of each file is the only sure way.
#[cfg(target_os = "linux")]
fn syncfs_reports_errors() -> bool {
    // SAFETY: uname fills the zeroed struct it is given.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut name) } != 0 {
        return false;
    }
    // SAFETY: uname NUL-terminates `release`.
    let release = unsafe { std::ffi::CStr::from_ptr(name.release.as_ptr()) }.to_string_lossy();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter(|part| !part.is_empty()).map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (5, 8)
}

/// The engine's hashing threads, started on first use; when they cannot be started (a limit on
/// processes, an absurd RAYON_NUM_THREADS), throws `ERR_KERNELSEAL_THREADS` with the reason
/// and returns None: at once, every time, and never an error about the files.
fn hashing_threads(env: &Env) -> Option<usize> {
    match engine::threads() {
        Ok(threads) => Some(threads),
        Err(reason) => {
            if let Ok(error) = env.error("ERR_KERNELSEAL_THREADS", &format!("the digest engine {reason}")) {
                env.throw(error);
            }
            None
        }
    }
}

/// Queues `work` on a job thread (it fans out over the engine's rayon pool) and returns a
/// promise settled with its outcome. Progress is posted at most every [`PROGRESS_INTERVAL`].
fn start<F>(env: &Env, operation: &'static str, on_progress: napi_value, token: napi_value, work: F) -> napi_value
where
    F: FnOnce(&engine::Options<'_>) -> Result<Outcome, engine::Error> + Send + 'static,
{
    let callback = match env.type_of(on_progress) {
        Ok(ValueType::Function) => Some(on_progress),
        Ok(ValueType::Undefined | ValueType::Null) => None,
        _ => return type_error(env, "onProgress must be a function"),
    };
    let cancel = match env.type_of(token) {
        Ok(ValueType::Undefined | ValueType::Null) => CancelToken(Arc::new(AtomicBool::new(false))),
        _ => match env.get_external::<CancelToken>(token) {
            Ok(Some(token)) => token,
            _ => return type_error(env, "cancelToken must come from createCancelToken()"),
        },
    };
    if hashing_threads(env).is_none() {
        return null();
    }
    queue_job(env, operation, callback, cancel, work)
}

/// `start` without its check of the engine's threads: for a job that hashes nothing.
fn queue_job<F>(env: &Env, operation: &'static str, callback: Option<napi_value>, cancel: CancelToken, work: F) -> napi_value
where
    F: FnOnce(&engine::Options<'_>) -> Result<Outcome, engine::Error> + Send + 'static,
{
    let Ok((deferred, promise)) = env.promise() else { return fail(env) };
    let progress_queued = Arc::new(AtomicBool::new(false));
    let job = Job { operation, deferred: Some(deferred), progress_queued: progress_queued.clone(), cancel: cancel.clone() };
    let wants_progress = callback.is_some();
    let Ok(tsfn) = ThreadsafeFunction::new(env, callback, "kernelseal.hash", job, deliver) else { return fail(env) };

    let job = move || {
        let cancel = &cancel.0;
        let last_post = Mutex::new(Instant::now());
        let progress = |progress: engine::Progress| {
            test_panic(operation);
            if !wants_progress {
                return;
            }
            let mut last = match last_post.try_lock() {
                Ok(last) => last,
                Err(_) => return, // another worker is posting right now
            };
            if last.elapsed() < PROGRESS_INTERVAL || progress_queued.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = Instant::now();
            if tsfn.post(Message::Progress(progress)).is_err() {
                // The environment is going away: nobody is waiting for the result.
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let options = engine::Options { progress: &progress, cancel };
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(&options))) {
            Ok(outcome) => outcome.map_err(Failure::Engine),
            Err(panic) => Err(Failure::Internal(panic_message(&*panic))),
        };
        // Fails only when the environment is gone; then there is no one to tell.
        let _ = tsfn.post(Message::Done(outcome));
        // Dropping `tsfn` releases it (unless Node finalized it): the event loop may exit once
        // Done is delivered.
    };
    if job_queue::submit(Box::new(job)).is_err() {
        return fail(env);
    }
    promise
}

/// Runs on the JavaScript thread for each message of a job.
fn deliver(env: &Env, callback: Option<napi_value>, job: &mut Job, message: Message) {
    match message {
        Message::Progress(p) => {
            job.progress_queued.store(false, Ordering::Release);
            if let Some(callback) = callback {
                let args = [p.bytes_done, p.files_done, p.bytes_total, p.files_total]
                    .map(|n| env.double(n as f64).unwrap_or(std::ptr::null_mut()));
                if env.call(callback, &args).is_err() {
                    // The TypeScript layer catches callback errors; never let one escape here.
                    env.take_exception();
                }
            }
        }
        Message::Done(outcome) => {
            let Some(deferred) = job.deferred.take() else { return };
            let operation = job.operation;
            let settle = || match outcome {
                Ok(outcome) => to_js(env, outcome),
                Err(Failure::Engine(err)) => Err(engine_error(env, &err)),
                Err(Failure::Internal(detail)) => Err(internal_error(env, operation, &detail)),
            };
            match catch_unwind(AssertUnwindSafe(settle)) {
                Ok(Ok(value)) => deferred.resolve(env, value),
                Ok(Err(error)) => deferred.reject(env, error),
                Err(panic) => deferred.reject(env, internal_error(env, operation, &panic_message(&*panic))),
            }
        }
    }
}

/// Converts an outcome; a failure to build the value becomes the rejection.
fn to_js(env: &Env, outcome: Outcome) -> Result<napi_value, napi_value> {
    let build = || -> node_api::Result<napi_value> {
        let result = env.object()?;
        match outcome {
            Outcome::Variant(variant) => {
                let paths = env.array(variant.keys.len())?;
                for (index, key) in variant.keys.iter().enumerate() {
                    env.set_element(paths, index as u32, env.string(key)?)?;
                }
                env.set(result, "paths", paths)?;
                env.set(result, "digests", env.buffer(&variant.digests)?)?;
                env.set(result, "bytes", env.double(variant.bytes as f64)?)?;
                env.set(result, "unhashed", unhashed_js(env, &variant.unhashed)?)?;
            }
            Outcome::Tree(tree) => {
                let paths = env.array(tree.entries.len())?;
                let mut stats = Vec::with_capacity(tree.entries.len() * STAT_FIELDS * 8);
                for (index, entry) in tree.entries.iter().enumerate() {
                    env.set_element(paths, index as u32, env.string(&entry.key)?)?;
                    let (f, a) = (entry.fingerprint, entry.access);
                    let fields = [f.size as i64, f.inode as i64, f.mtime.0, f.mtime.1, f.ctime.0, f.ctime.1, a.dev as i64, a.uid as i64, a.mode as i64, a.nlink as i64];
                    for value in fields {
                        stats.extend_from_slice(&value.to_ne_bytes());
                    }
                }
                env.set(result, "paths", paths)?;
                env.set(result, "stats", env.buffer(&stats)?)?;
                env.set(result, "unhashed", unhashed_js(env, &tree.unhashed)?)?;
            }
            Outcome::File(file) => {
                env.set(result, "digest", env.buffer(&file.digest)?)?;
                env.set(result, "bytes", env.double(file.bytes as f64)?)?;
            }
            Outcome::Synced => return env.undefined(),
            Outcome::Files(files) => {
                let sizes = env.array(files.sizes.len())?;
                for (index, size) in files.sizes.iter().enumerate() {
                    env.set_element(sizes, index as u32, env.double(*size as f64)?)?;
                }
                env.set(result, "sizes", sizes)?;
                env.set(result, "digests", env.buffer(&files.digests)?)?;
                env.set(result, "bytes", env.double(files.bytes as f64)?)?;
            }
        }
        Ok(result)
    };
    build().map_err(|_| {
        env.take_exception()
            .unwrap_or_else(|| env.error("ERR_KERNELSEAL_ADDON", "cannot convert the result").unwrap_or(std::ptr::null_mut()))
    })
}

/// Entries left out of a digest, as `{ path, reason }` objects.
fn unhashed_js(env: &Env, unhashed: &[(String, engine::Unhashed)]) -> node_api::Result<napi_value> {
    let list = env.array(unhashed.len())?;
    for (index, (key, reason)) in unhashed.iter().enumerate() {
        let entry = env.object()?;
        env.set(entry, "path", env.string(key)?)?;
        env.set(entry, "reason", env.string(reason.as_str())?)?;
        env.set_element(list, index as u32, entry)?;
    }
    Ok(list)
}

/// An engine error as a JavaScript Error with `code` and `path`.
fn engine_error(env: &Env, err: &engine::Error) -> napi_value {
    let build = || -> node_api::Result<napi_value> {
        let error = env.error(err.kind.code(), &err.to_string())?;
        env.set(error, "path", env.string(&err.path.to_string_lossy())?)?;
        env.set(error, "reason", env.string(&err.reason)?)?;
        Ok(error)
    };
    build().unwrap_or(std::ptr::null_mut())
}

/// A bug, as a JavaScript Error with code `ERR_KERNELSEAL_INTERNAL` and the `operation` it
/// interrupted; no `path`, no engine code: it says nothing about the files.
fn internal_error(env: &Env, operation: &str, detail: &str) -> napi_value {
    let build = || -> node_api::Result<napi_value> {
        let error = env.error("ERR_KERNELSEAL_INTERNAL", &format!("internal error in the digest engine during {operation}: {detail}"))?;
        env.set(error, "operation", env.string(operation)?)?;
        Ok(error)
    };
    build().unwrap_or(std::ptr::null_mut())
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => text.to_string(),
        (_, Some(text)) => text.clone(),
        _ => "a panic without a message".to_string(),
    }
}

fn arguments<const N: usize>(env: &Env, info: napi_callback_info) -> Option<[napi_value; N]> {
    match env.args::<N>(info) {
        Ok(args) => Some(args),
        Err(_) => {
            fail(env);
            None
        }
    }
}

fn algorithm_arg(env: &Env, value: napi_value) -> Option<engine::Algorithm> {
    let name = string_arg(env, value, "algorithm", MAX_ALGORITHM_BYTES)?;
    if let Some(algorithm) = name.as_deref().and_then(engine::Algorithm::from_name) {
        return Some(algorithm);
    }
    let got = name.map_or_else(|| "a longer string".to_string(), |name| format!("{name:?}"));
    env.throw_type_error("ERR_INVALID_ARG_VALUE", &format!("algorithm must be one of sha256, sha512, blake3, blake2b (got {got})"));
    None
}

fn path_arg(env: &Env, value: napi_value, what: &str) -> Option<PathBuf> {
    let Some(text) = string_arg(env, value, what, MAX_PATH_BYTES)? else {
        env.throw_range_error("ERR_OUT_OF_RANGE", &format!("{what} must be at most {MAX_PATH_BYTES} bytes long"));
        return None;
    };
    if text.is_empty() || text.contains('\0') {
        env.throw_type_error("ERR_INVALID_ARG_VALUE", &format!("{what} must be a non-empty path without NUL bytes"));
        return None;
    }
    Some(PathBuf::from(text))
}

/// The paths of `hashFiles`, checked against every bound before the one allocation that
/// depends on their number.
fn paths_arg(env: &Env, value: napi_value) -> Option<Vec<PathBuf>> {
    let len = match env.array_length(value) {
        Ok(Some(len)) => len,
        Ok(None) => {
            type_error(env, "paths must be an array of strings");
            return None;
        }
        Err(_) => {
            fail(env);
            return None;
        }
    };
    if len > MAX_PATHS {
        env.throw_range_error("ERR_OUT_OF_RANGE", &format!("paths must hold at most {MAX_PATHS} paths (got {len})"));
        return None;
    }
    let mut paths = Vec::with_capacity(len as usize);
    let mut bytes = 0;
    for index in 0..len {
        // A hole or a getter that throws: the exception (or the TypeError) stops here.
        let Ok(element) = env.get_element(value, index) else {
            fail(env);
            return None;
        };
        let path = path_arg(env, element, "every path")?;
        bytes += path.as_os_str().len();
        if bytes > MAX_PATHS_BYTES {
            env.throw_range_error("ERR_OUT_OF_RANGE", &format!("paths must add up to at most {MAX_PATHS_BYTES} bytes"));
            return None;
        }
        paths.push(path);
    }
    Some(paths)
}

/// A string argument: None (thrown) when `value` is not a string, Some(None) when it is longer
/// than `max_bytes` (UTF-8), which is not copied.
fn string_arg(env: &Env, value: napi_value, what: &str, max_bytes: usize) -> Option<Option<String>> {
    if env.type_of(value) != Ok(ValueType::String) {
        env.throw_type_error("ERR_INVALID_ARG_TYPE", &format!("{what} must be a string"));
        return None;
    }
    match env.get_string(value, max_bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            fail(env);
            None
        }
    }
}

/// A file descriptor argument of `operation`: a whole number from 0 to i32::MAX; anything else
/// throws a TypeError (None).
fn fd_arg(env: &Env, value: napi_value, operation: &str) -> Option<i32> {
    match env.get_double(value) {
        Ok(value) if value.fract() == 0.0 && (0.0..=f64::from(i32::MAX)).contains(&value) => Some(value as i32),
        _ => {
            type_error(env, &format!("{operation}: expected a file descriptor"));
            None
        }
    }
}

fn type_error(env: &Env, message: &str) -> napi_value {
    env.throw_type_error("ERR_INVALID_ARG_TYPE", message);
    null()
}

/// Throws a generic error unless one is already pending, and returns no value.
fn fail(env: &Env) -> napi_value {
    if !env.exception_pending() {
        if let Ok(error) = env.error("ERR_KERNELSEAL_ADDON", "Node-API call failed") {
            env.throw(error);
        }
    }
    null()
}

fn null() -> napi_value {
    std::ptr::null_mut()
}
