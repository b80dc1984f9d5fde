//! The addon's face: converts JavaScript arguments, runs the engine off the JavaScript thread,
//! and settles a promise with the result. No hashing rules here (they live in crates/engine).
//!
//! Exports (all argument checks throw TypeError synchronously):
//! - `hashVariant(algorithm, dir, onProgress?, cancelToken?) -> Promise<{paths, digests, bytes, unhashed}>`
//!   `paths` is sorted in byte order; `digests` is one Buffer of the raw digests, in that order.
//! - `hashFile(path, algorithm, onProgress?, cancelToken?) -> Promise<{digest, bytes}>`
//! - `hashFiles(algorithm, paths, shardSize, onProgress?, cancelToken?) -> Promise<{sizes, digests, bytes}>`
//!   each file whole (`shardSize` 0) or in shards; `digests` holds them file by file, shard by shard.
//! - `createCancelToken() -> external`, `cancel(token)`
//! - `engineInfo() -> {sha2, threads}`: which SHA-2 code runs, on how many threads
//! - `onProgress(bytesDone, filesDone, bytesTotal, filesTotal)` is called at most every 100 ms.

mod job_queue;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernelseal_engine as engine;
use node_api::{napi_callback_info, napi_env, napi_type_tag, napi_value, Deferred, Env, ThreadsafeFunction, ValueType};

const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);
/// Tags cancel tokens so that no other external can be mistaken for one.
const CANCEL_TOKEN_TAG: napi_type_tag = napi_type_tag { lower: 0x6b65_726e_656c_7365, upper: 0x616c_2063_616e_6365 };

type CancelToken = Arc<AtomicBool>;

#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let env = Env(env);
    let functions: [(&str, unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value); 6] = [
        ("hashVariant", hash_variant),
        ("hashFile", hash_file),
        ("hashFiles", hash_files),
        ("createCancelToken", create_cancel_token),
        ("cancel", cancel),
        ("engineInfo", engine_info),
    ];
    for (name, callback) in functions {
        if let Ok(function) = env.function(name, callback) {
            let _ = env.set(exports, name, function);
        }
    }
    exports
}

/// Node-API version this addon is written against.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}

/// What a job thread sends to the JavaScript thread.
enum Message {
    Progress(engine::Progress),
    Done(Result<Outcome, engine::Error>),
}

enum Outcome {
    Variant(engine::VariantDigest),
    File(engine::FileDigest),
    Files(engine::FilesDigest),
}

/// Lives on the JavaScript thread for the duration of one job.
struct Job {
    deferred: Option<Deferred>,
    progress_queued: Arc<AtomicBool>,
}

unsafe extern "C" fn hash_variant(env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let Some([algorithm, dir, on_progress, token]) = arguments::<4>(&env, info) else { return null() };
    let Some(algorithm) = algorithm_arg(&env, algorithm) else { return null() };
    let Some(dir) = path_arg(&env, dir, "dir") else { return null() };
    start(&env, on_progress, token, move |options| {
        engine::hash_variant(&dir, algorithm, options).map(Outcome::Variant)
    })
}

unsafe extern "C" fn hash_file(env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let Some([path, algorithm, on_progress, token]) = arguments::<4>(&env, info) else { return null() };
    let Some(path) = path_arg(&env, path, "path") else { return null() };
    let Some(algorithm) = algorithm_arg(&env, algorithm) else { return null() };
    start(&env, on_progress, token, move |options| {
        let bytes_total = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let done = std::sync::atomic::AtomicU64::new(0);
        let report = |n: u64| {
            let bytes_done = done.fetch_add(n, Ordering::Relaxed) + n;
            (options.progress)(engine::Progress { bytes_done, files_done: 0, bytes_total, files_total: 1 });
        };
        let hooks = engine::Hooks { on_bytes: &report, cancel: options.cancel };
        engine::hash_file(&path, algorithm, &hooks).map(Outcome::File)
    })
}

unsafe extern "C" fn hash_files(env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let Some([algorithm, paths, shard_size, on_progress, token]) = arguments::<5>(&env, info) else { return null() };
    let Some(algorithm) = algorithm_arg(&env, algorithm) else { return null() };
    let paths = match env.get_array(paths) {
        Ok(Some(elements)) => {
            let mut paths = Vec::with_capacity(elements.len());
            for element in elements {
                let Some(path) = path_arg(&env, element, "every path") else { return null() };
                paths.push(path);
            }
            paths
        }
        _ => return type_error(&env, "paths must be an array of strings"),
    };
    let shard_size = match env.type_of(shard_size) {
        Ok(ValueType::Number) => env.get_double(shard_size).unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    // 2^53: beyond it a JavaScript number no longer counts bytes exactly.
    if !(shard_size >= 0.0 && shard_size.fract() == 0.0 && shard_size <= 9_007_199_254_740_992.0) {
        return type_error(&env, "shardSize must be a whole number of bytes (0 hashes each file whole)");
    }
    let shard_size = std::num::NonZeroU64::new(shard_size as u64);
    start(&env, on_progress, token, move |options| {
        engine::hash_files(&paths, algorithm, shard_size, options).map(Outcome::Files)
    })
}

unsafe extern "C" fn engine_info(env: napi_env, _info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let build = || -> node_api::Result<napi_value> {
        let info = env.object()?;
        env.set(info, "sha2", env.string(&engine::sha2_implementation())?)?;
        env.set(info, "threads", env.double(engine::threads() as f64)?)?;
        Ok(info)
    };
    build().unwrap_or_else(|_| fail(&env))
}

unsafe extern "C" fn create_cancel_token(env: napi_env, _info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let token: CancelToken = Arc::new(AtomicBool::new(false));
    env.external(token, &CANCEL_TOKEN_TAG).unwrap_or_else(|_| fail(&env))
}

unsafe extern "C" fn cancel(env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(env);
    let Some([token]) = arguments::<1>(&env, info) else { return null() };
    match env.get_external::<CancelToken>(token, &CANCEL_TOKEN_TAG) {
        Ok(Some(token)) => token.store(true, Ordering::Relaxed),
        _ => env.throw_type_error("ERR_INVALID_ARG_TYPE", "cancel: expected a token from createCancelToken()"),
    }
    null()
}

/// Queues `work` on a job thread (it fans out over the engine's rayon pool) and returns a
/// promise settled with its outcome. Progress is posted at most every [`PROGRESS_INTERVAL`].
fn start<F>(env: &Env, on_progress: napi_value, token: napi_value, work: F) -> napi_value
where
    F: FnOnce(&engine::Options<'_>) -> Result<Outcome, engine::Error> + Send + 'static,
{
    let callback = match env.type_of(on_progress) {
        Ok(ValueType::Function) => Some(on_progress),
        Ok(ValueType::Undefined | ValueType::Null) => None,
        _ => return type_error(env, "onProgress must be a function"),
    };
    let cancel: CancelToken = match env.type_of(token) {
        Ok(ValueType::Undefined | ValueType::Null) => Arc::new(AtomicBool::new(false)),
        _ => match env.get_external::<CancelToken>(token, &CANCEL_TOKEN_TAG) {
            Ok(Some(token)) => token.clone(),
            _ => return type_error(env, "cancelToken must come from createCancelToken()"),
        },
    };
    let Ok((deferred, promise)) = env.promise() else { return fail(env) };
    let progress_queued = Arc::new(AtomicBool::new(false));
    let job = Job { deferred: Some(deferred), progress_queued: progress_queued.clone() };
    let wants_progress = callback.is_some();
    let Ok(tsfn) = ThreadsafeFunction::new(env, callback, "kernelseal.hash", job, deliver) else { return fail(env) };

    let job = move || {
        let last_post = Mutex::new(Instant::now());
        let progress = |progress: engine::Progress| {
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
            if tsfn.post(Message::Progress(progress), false).is_err() {
                // The environment is going away: nobody is waiting for the result.
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let options = engine::Options { progress: &progress, cancel: &cancel };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&options))).unwrap_or_else(|_| {
            Err(engine::Error::new(engine::ErrorKind::Io, std::path::Path::new(""), "internal error in the digest engine"))
        });
        let _ = tsfn.post(Message::Done(outcome), true);
        // Dropping `tsfn` releases it: the event loop may exit once Done is delivered.
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
            match outcome.map_err(|err| engine_error(env, &err)).and_then(|outcome| to_js(env, outcome)) {
                Ok(value) => deferred.resolve(env, value),
                Err(error) => deferred.reject(env, error),
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
                let unhashed = env.array(variant.unhashed.len())?;
                for (index, (key, reason)) in variant.unhashed.iter().enumerate() {
                    let entry = env.object()?;
                    env.set(entry, "path", env.string(key)?)?;
                    env.set(entry, "reason", env.string(reason.as_str())?)?;
                    env.set_element(unhashed, index as u32, entry)?;
                }
                env.set(result, "unhashed", unhashed)?;
            }
            Outcome::File(file) => {
                env.set(result, "digest", env.buffer(&file.digest)?)?;
                env.set(result, "bytes", env.double(file.bytes as f64)?)?;
            }
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
    let name = string_arg(env, value, "algorithm")?;
    match engine::Algorithm::from_name(&name) {
        Some(algorithm) => Some(algorithm),
        None => {
            env.throw_type_error(
                "ERR_INVALID_ARG_VALUE",
                &format!("algorithm must be one of sha256, sha512, blake3, blake2b (got {name:?})"),
            );
            None
        }
    }
}

fn path_arg(env: &Env, value: napi_value, what: &str) -> Option<PathBuf> {
    let text = string_arg(env, value, what)?;
    if text.is_empty() || text.contains('\0') {
        env.throw_type_error("ERR_INVALID_ARG_VALUE", &format!("{what} must be a non-empty path without NUL bytes"));
        return None;
    }
    Some(PathBuf::from(text))
}

fn string_arg(env: &Env, value: napi_value, what: &str) -> Option<String> {
    if env.type_of(value) != Ok(ValueType::String) {
        env.throw_type_error("ERR_INVALID_ARG_TYPE", &format!("{what} must be a string"));
        return None;
    }
    env.get_string(value).ok()
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
