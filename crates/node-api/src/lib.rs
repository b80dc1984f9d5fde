//! The small part of Node-API that kernelseal's addon needs, with thin safe wrappers:
//! values in and out, errors, promises, externals and threadsafe functions.
//!
//! The `napi` crate is not packaged where this project is built, and the C ABI is small and
//! stable (Node-API 8, Node >= 12.22), so it is declared here by hand (`sys`).

pub mod sys;

use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, PoisonError, RwLock};

pub use sys::{napi_callback_info, napi_env, napi_type_tag, napi_value};

/// A failed Node-API call. A JavaScript exception may be pending when this is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub sys::napi_status);

pub type Result<T> = std::result::Result<T, Status>;

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::NAPI_OK {
        Ok(())
    } else {
        Err(Status(status))
    }
}

/// A JavaScript value type, as `typeof` sees it (plus `null` and `external`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Object,
    Function,
    External,
    Other,
}

/// The environment of one call into the addon (valid for that call only). Not `Send`: a
/// `napi_env` may only be used on its JavaScript thread.
#[derive(Clone, Copy)]
pub struct Env(napi_env);

impl Env {
    /// # Safety
    /// `env` must be the environment Node-API passed to the callback running now on this
    /// thread, and the `Env` must not be used after that callback returns: every method hands
    /// it to Node-API as valid.
    pub unsafe fn from_raw(env: napi_env) -> Env {
        Env(env)
    }

    /// The arguments of the current call, padded with `undefined` up to `N`.
    pub fn args<const N: usize>(&self, info: napi_callback_info) -> Result<[napi_value; N]> {
        let mut argv = [ptr::null_mut(); N];
        let mut argc = N;
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe {
            sys::napi_get_cb_info(self.0, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
        })?;
        Ok(argv)
    }

    pub fn type_of(&self, value: napi_value) -> Result<ValueType> {
        let mut kind = 0;
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_typeof(self.0, value, &mut kind) })?;
        Ok(match kind {
            sys::NAPI_UNDEFINED => ValueType::Undefined,
            sys::NAPI_NULL => ValueType::Null,
            sys::NAPI_BOOLEAN => ValueType::Boolean,
            sys::NAPI_NUMBER => ValueType::Number,
            sys::NAPI_STRING => ValueType::String,
            sys::NAPI_OBJECT => ValueType::Object,
            sys::NAPI_FUNCTION => ValueType::Function,
            sys::NAPI_EXTERNAL => ValueType::External,
            _ => ValueType::Other,
        })
    }

    /// Reads a JavaScript string (the caller has checked that it is one), or `None` when its
    /// UTF-8 form is longer than `max_bytes`: measured before anything is allocated.
    pub fn get_string(&self, value: napi_value, max_bytes: usize) -> Result<Option<String>> {
        let mut len = 0;
        // SAFETY: a null buffer asks only for the UTF-8 length, written to `len`.
        check(unsafe { sys::napi_get_value_string_utf8(self.0, value, ptr::null_mut(), 0, &mut len) })?;
        if len > max_bytes {
            return Ok(None);
        }
        let mut buf = vec![0u8; len + 1];
        let mut written = 0;
        // SAFETY: `buf` is writable for `buf.len()` bytes, the size passed; Node-API writes at
        // most that many (a NUL included) and reports how many it wrote in `written`.
        check(unsafe {
            sys::napi_get_value_string_utf8(self.0, value, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut written)
        })?;
        buf.truncate(written);
        // Node-API writes UTF-8; lone surrogates become U+FFFD.
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    /// Reads a JavaScript number (the caller has checked that it is one).
    pub fn get_double(&self, value: napi_value) -> Result<f64> {
        let mut result = 0.0;
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_get_value_double(self.0, value, &mut result) })?;
        Ok(result)
    }

    /// The length of `value` if it is an array, else None. Nothing is read or allocated: an
    /// array's length says nothing of what it holds (`new Array(2 ** 32 - 1)` holds nothing).
    pub fn array_length(&self, value: napi_value) -> Result<Option<u32>> {
        let mut is_array = false;
        // SAFETY: `self.0` is the live environment (see `from_raw`); `is_array` is a valid out-pointer.
        check(unsafe { sys::napi_is_array(self.0, value, &mut is_array) })?;
        if !is_array {
            return Ok(None);
        }
        let mut len = 0;
        // SAFETY: as above; `value` was just checked to be an array.
        check(unsafe { sys::napi_get_array_length(self.0, value, &mut len) })?;
        Ok(Some(len))
    }

    /// `value[index]` (a getter may run, and throw: the exception stays pending).
    pub fn get_element(&self, value: napi_value, index: u32) -> Result<napi_value> {
        let mut element = ptr::null_mut();
        // SAFETY: live environment; `element` is a valid out-pointer.
        check(unsafe { sys::napi_get_element(self.0, value, index, &mut element) })?;
        Ok(element)
    }

    pub fn undefined(&self) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_get_undefined(self.0, &mut result) })?;
        Ok(result)
    }

    pub fn string(&self, text: &str) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe {
            sys::napi_create_string_utf8(self.0, text.as_ptr() as *const c_char, text.len(), &mut result)
        })?;
        Ok(result)
    }

    pub fn boolean(&self, value: bool) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_get_boolean(self.0, value, &mut result) })?;
        Ok(result)
    }

    pub fn double(&self, value: f64) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_create_double(self.0, value, &mut result) })?;
        Ok(result)
    }

    pub fn object(&self) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_create_object(self.0, &mut result) })?;
        Ok(result)
    }

    pub fn array(&self, len: usize) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_create_array_with_length(self.0, len, &mut result) })?;
        Ok(result)
    }

    pub fn set_element(&self, array: napi_value, index: u32, value: napi_value) -> Result<()> {
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_set_element(self.0, array, index, value) })
    }

    pub fn set(&self, object: napi_value, name: &str, value: napi_value) -> Result<()> {
        let name = CString::new(name).map_err(|_| Status(1))?;
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_set_named_property(self.0, object, name.as_ptr(), value) })
    }

    /// A Node `Buffer` holding a copy of `data`.
    pub fn buffer(&self, data: &[u8]) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        let mut out = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe {
            sys::napi_create_buffer_copy(self.0, data.len(), data.as_ptr() as *const c_void, &mut out, &mut result)
        })?;
        Ok(result)
    }

    /// A JavaScript function calling `callback`.
    pub fn function(&self, name: &str, callback: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe {
            sys::napi_create_function(self.0, name.as_ptr() as *const c_char, name.len(), Some(callback), ptr::null_mut(), &mut result)
        })?;
        Ok(result)
    }

    /// An `Error` with `message` and a `code` property.
    pub fn error(&self, code: &str, message: &str) -> Result<napi_value> {
        let (code, message) = (self.string(code)?, self.string(message)?);
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_create_error(self.0, code, message, &mut result) })?;
        Ok(result)
    }

    pub fn throw(&self, error: napi_value) {
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        unsafe { sys::napi_throw(self.0, error) };
    }

    /// Throws a `TypeError` with `code`, unless an exception is already pending.
    pub fn throw_type_error(&self, code: &str, message: &str) {
        self.throw_new(sys::napi_throw_type_error, code, message);
    }

    /// Throws a `RangeError` with `code`, unless an exception is already pending.
    pub fn throw_range_error(&self, code: &str, message: &str) {
        self.throw_new(sys::napi_throw_range_error, code, message);
    }

    fn throw_new(&self, throw: sys::ThrowNew, code: &str, message: &str) {
        if self.exception_pending() {
            return;
        }
        let code = CString::new(code).unwrap_or_default();
        let message = CString::new(message).unwrap_or_default();
        // SAFETY: see `Env::from_raw`; both strings are NUL-terminated and outlive the call.
        unsafe { throw(self.0, code.as_ptr(), message.as_ptr()) };
    }

    pub fn exception_pending(&self) -> bool {
        let mut pending = false;
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        unsafe { sys::napi_is_exception_pending(self.0, &mut pending) };
        pending
    }

    /// Clears and returns a pending exception, if any.
    pub fn take_exception(&self) -> Option<napi_value> {
        if !self.exception_pending() {
            return None;
        }
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        unsafe { sys::napi_get_and_clear_last_exception(self.0, &mut result) };
        Some(result)
    }

    /// Calls `func` with `this` undefined.
    pub fn call(&self, func: napi_value, args: &[napi_value]) -> Result<napi_value> {
        let recv = self.undefined()?;
        let mut result = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_call_function(self.0, recv, func, args.len(), args.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// A new promise and the handle that settles it.
    pub fn promise(&self) -> Result<(Deferred, napi_value)> {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: see `Env::from_raw`; every pointer passed is valid for the call.
        check(unsafe { sys::napi_create_promise(self.0, &mut deferred, &mut promise) })?;
        Ok((Deferred(deferred), promise))
    }

    /// An external value owning `data`; `data` is dropped when the value is collected. The
    /// value carries `T`'s tag, so that [`Env::get_external`] reads it back as a `T` only.
    pub fn external<T: External>(&self, data: T) -> Result<napi_value> {
        unsafe extern "C" fn drop_box<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
            // Unwinding into Node aborts the process: a panicking Drop is contained here.
            // SAFETY: `data` is the `Box<T>` leaked below, and Node-API finalizes it once.
            let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(data as *mut T) })));
        }
        let raw = Box::into_raw(Box::new(data)) as *mut c_void;
        let mut result = ptr::null_mut();
        // SAFETY: live environment; on success Node-API owns `raw` and frees it once through
        // `drop_box::<T>`, which matches the type it was boxed as.
        let status = unsafe { sys::napi_create_external(self.0, raw, Some(drop_box::<T>), ptr::null_mut(), &mut result) };
        if status != sys::NAPI_OK {
            // SAFETY: creation failed, so Node-API did not take `raw`: it is still ours to free.
            drop(unsafe { Box::from_raw(raw as *mut T) });
            return Err(Status(status));
        }
        // SAFETY: live environment; `T::TAG` is a 'static constant Node-API copies.
        check(unsafe { sys::napi_type_tag_object(self.0, result, &T::TAG) })?;
        Ok(result)
    }

    /// A copy of the data of an external made by [`Env::external`] for a `T`, or `None` for
    /// any other value (another type's external, another addon's, an untagged one).
    pub fn get_external<T: External + Clone>(&self, value: napi_value) -> Result<Option<T>> {
        if self.type_of(value)? != ValueType::External {
            return Ok(None);
        }
        let mut tagged = false;
        // SAFETY: live environment; `tagged` is a valid out-pointer.
        check(unsafe { sys::napi_check_object_type_tag(self.0, value, &T::TAG, &mut tagged) })?;
        if !tagged {
            return Ok(None);
        }
        let mut data = ptr::null_mut();
        // SAFETY: live environment; `data` is a valid out-pointer.
        check(unsafe { sys::napi_get_value_external(self.0, value, &mut data) })?;
        // SAFETY: only `Env::external::<T>` tags externals with `T::TAG` (unique to `T` by the
        // contract of `External`), so `data` is the `Box<T>` it made; the external is alive
        // while `value` is on this call's handle scope, and the copy outlives neither.
        Ok(Some(unsafe { &*(data as *const T) }.clone()))
    }
}

/// A Rust type that JavaScript can hold in an external value.
///
/// # Safety
/// `TAG` must belong to this type alone, in this addon and in any other loaded into the same
/// process (128 random bits): [`Env::get_external`] reads any external carrying it as `Self`.
pub unsafe trait External: 'static {
    const TAG: napi_type_tag;
}

/// Settles one promise, once. Not `Send` (a raw handle): it stays on its JavaScript thread.
pub struct Deferred(sys::napi_deferred);

impl Deferred {
    pub fn resolve(self, env: &Env, value: napi_value) {
        // SAFETY: live environment; the handle came from `napi_create_promise` and `self` is
        // consumed, so it is settled once.
        unsafe { sys::napi_resolve_deferred(env.0, self.0, value) };
    }

    pub fn reject(self, env: &Env, error: napi_value) {
        // SAFETY: as for `resolve`.
        unsafe { sys::napi_reject_deferred(env.0, self.0, error) };
    }
}

/// Handles a message posted from another thread, on the JavaScript thread. `callback` is the
/// JavaScript function the threadsafe function was made with, if any.
pub type Handler<C, M> = fn(env: &Env, callback: Option<napi_value>, context: &mut C, message: M);

/// Whether Node has finalized the threadsafe function: once it has, the function is freed (or
/// about to be) and must never be called or released again. Node finalizes it after the last
/// release, or when its environment goes away first (a worker terminated, `process.exit()` in
/// a worker) while a job still holds it. napi-rs's `ThreadsafeFunction` keeps the same flag.
/// Every use of the function holds the read lock and checks the flag; the finalizer sets it
/// under the write lock, so it waits for a use in progress, and Node frees the function only
/// after the finalizer returns.
type Finalized = Arc<RwLock<bool>>;

struct Shared<C, M> {
    context: C,
    handler: Handler<C, M>,
    finalized: Finalized,
}

/// A Node-API threadsafe function carrying messages of type `M` to a handler on the JavaScript
/// thread. It keeps the event loop alive until it is dropped (released).
pub struct ThreadsafeFunction<M: Send + 'static> {
    raw: sys::napi_threadsafe_function,
    finalized: Finalized,
    _message: PhantomData<fn(M)>,
}

// SAFETY: Node-API threadsafe functions are made to be called and released from any thread;
// the only other field is an `Arc<RwLock<bool>>`. (A raw pointer is neither Send nor Sync by
// default, hence these impls.)
unsafe impl<M: Send + 'static> Send for ThreadsafeFunction<M> {}
unsafe impl<M: Send + 'static> Sync for ThreadsafeFunction<M> {}

/// A message could not be delivered: the environment is shutting down, or the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostError {
    Closing,
    Full,
}

impl<M: Send + 'static> ThreadsafeFunction<M> {
    /// Makes a threadsafe function whose messages go to `handler` with `context`. `context`
    /// lives, and is dropped, on the JavaScript thread.
    pub fn new<C: 'static>(
        env: &Env,
        callback: Option<napi_value>,
        name: &str,
        context: C,
        handler: Handler<C, M>,
    ) -> Result<Self> {
        unsafe extern "C" fn call_js<C, M>(env: napi_env, js_callback: napi_value, context: *mut c_void, data: *mut c_void) {
            // SAFETY: every `data` is a `Box<M>` leaked by `post`, delivered here once.
            let message = unsafe { Box::from_raw(data as *mut M) };
            if env.is_null() {
                // Torn down: Node empties the queue after finalizing, when `context` is freed.
                return;
            }
            // SAFETY: Node-API calls this on the JavaScript thread with its live environment.
            let env = unsafe { Env::from_raw(env) };
            // SAFETY: `context` is the `Shared` boxed in `new`, freed only by `finalize`, which
            // Node runs after the last call of this function; only the JavaScript thread
            // touches it, one call at a time.
            let shared = unsafe { &mut *(context as *mut Shared<C, M>) };
            let callback = match env.type_of(js_callback) {
                Ok(ValueType::Function) if !js_callback.is_null() => Some(js_callback),
                _ => None,
            };
            // Unwinding into Node aborts the process: a panicking handler loses its message.
            let _ = catch_unwind(AssertUnwindSafe(|| (shared.handler)(&env, callback, &mut shared.context, *message)));
        }
        unsafe extern "C" fn finalize<C, M>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
            // SAFETY: `data` is the `Shared` boxed in `new`; Node finalizes once, after the
            // last call of `call_js`.
            let shared = unsafe { Box::from_raw(data as *mut Shared<C, M>) };
            *shared.finalized.write().unwrap_or_else(PoisonError::into_inner) = true;
            let _ = catch_unwind(AssertUnwindSafe(|| drop(shared)));
        }
        let finalized: Finalized = Arc::new(RwLock::new(false));
        let shared = Box::into_raw(Box::new(Shared { context, handler, finalized: finalized.clone() })) as *mut c_void;
        let name = env.string(name)?;
        let mut raw = ptr::null_mut();
        // SAFETY: live environment; `callback` is a function value of this call or null (then
        // `call_js` runs alone); `shared` stays valid until `finalize` frees it; an unbounded
        // queue (0) and one thread, the job's, which releases it in `drop`.
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                env.0,
                callback.unwrap_or(ptr::null_mut()),
                ptr::null_mut(),
                name,
                0,
                1,
                shared,
                Some(finalize::<C, M>),
                shared,
                Some(call_js::<C, M>),
                &mut raw,
            )
        };
        if status != sys::NAPI_OK {
            // SAFETY: creation failed, so Node-API did not take `shared`: it is still ours.
            drop(unsafe { Box::from_raw(shared as *mut Shared<C, M>) });
            return Err(Status(status));
        }
        Ok(ThreadsafeFunction { raw, finalized, _message: PhantomData })
    }

    /// Whether the function's environment is gone (or it was released): nothing more will be
    /// delivered.
    pub fn is_finalized(&self) -> bool {
        *self.finalized.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `message` for the JavaScript thread. Never blocks (the queue is unbounded);
    /// fails with `Closing` once the environment is going away.
    pub fn post(&self, message: M) -> std::result::Result<(), PostError> {
        let finalized = self.finalized.read().unwrap_or_else(PoisonError::into_inner);
        if *finalized {
            return Err(PostError::Closing);
        }
        let data = Box::into_raw(Box::new(message)) as *mut c_void;
        // SAFETY: not finalized, and the read lock holds off `finalize`, so Node has not freed
        // `raw`; on success Node owns `data` and hands it to `call_js` once.
        let status = unsafe { sys::napi_call_threadsafe_function(self.raw, data, sys::NAPI_TSFN_NONBLOCKING) };
        if status == sys::NAPI_OK {
            return Ok(());
        }
        // SAFETY: the call failed, so Node did not take `data`: it is still ours to free.
        drop(unsafe { Box::from_raw(data as *mut M) });
        Err(if status == sys::NAPI_CLOSING { PostError::Closing } else { PostError::Full })
    }
}

impl<M: Send + 'static> Drop for ThreadsafeFunction<M> {
    /// Releasing lets the event loop exit once queued messages are delivered. A function Node
    /// already finalized is freed: releasing it would lock a destroyed mutex (SIGABRT).
    fn drop(&mut self) {
        let finalized = self.finalized.read().unwrap_or_else(PoisonError::into_inner);
        if !*finalized {
            // SAFETY: not finalized, and the read lock holds off `finalize`: `raw` is alive.
            // This is this handle's one release.
            unsafe { sys::napi_release_threadsafe_function(self.raw, sys::NAPI_TSFN_RELEASE) };
        }
    }
}
