//! The small part of Node-API that kernelseal's addon needs, with thin safe wrappers:
//! values in and out, errors, promises, externals and threadsafe functions.
//!
//! The `napi` crate is not packaged where this project is built, and the C ABI is small and
//! stable (Node-API 8, Node >= 12.22), so it is declared here by hand (`sys`).

pub mod sys;

use std::ffi::CString;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::ptr;

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

/// The environment of one call into the addon (valid for that call only).
#[derive(Clone, Copy)]
pub struct Env(pub napi_env);

impl Env {
    /// The arguments of the current call, padded with `undefined` up to `N`.
    pub fn args<const N: usize>(&self, info: napi_callback_info) -> Result<[napi_value; N]> {
        let mut argv = [ptr::null_mut(); N];
        let mut argc = N;
        check(unsafe {
            sys::napi_get_cb_info(self.0, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut())
        })?;
        Ok(argv)
    }

    pub fn type_of(&self, value: napi_value) -> Result<ValueType> {
        let mut kind = 0;
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

    /// Reads a JavaScript string (the caller has checked that it is one).
    pub fn get_string(&self, value: napi_value) -> Result<String> {
        let mut len = 0;
        check(unsafe { sys::napi_get_value_string_utf8(self.0, value, ptr::null_mut(), 0, &mut len) })?;
        let mut buf = vec![0u8; len + 1];
        let mut written = 0;
        check(unsafe {
            sys::napi_get_value_string_utf8(self.0, value, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut written)
        })?;
        buf.truncate(written);
        // Node-API writes UTF-8; lone surrogates become U+FFFD.
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Reads a JavaScript number (the caller has checked that it is one).
    pub fn get_double(&self, value: napi_value) -> Result<f64> {
        let mut result = 0.0;
        check(unsafe { sys::napi_get_value_double(self.0, value, &mut result) })?;
        Ok(result)
    }

    /// The elements of `value` if it is an array, else None.
    pub fn get_array(&self, value: napi_value) -> Result<Option<Vec<napi_value>>> {
        let mut is_array = false;
        check(unsafe { sys::napi_is_array(self.0, value, &mut is_array) })?;
        if !is_array {
            return Ok(None);
        }
        let mut len = 0;
        check(unsafe { sys::napi_get_array_length(self.0, value, &mut len) })?;
        let mut elements = Vec::with_capacity(len as usize);
        for index in 0..len {
            let mut element = ptr::null_mut();
            check(unsafe { sys::napi_get_element(self.0, value, index, &mut element) })?;
            elements.push(element);
        }
        Ok(Some(elements))
    }

    pub fn undefined(&self) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_get_undefined(self.0, &mut result) })?;
        Ok(result)
    }

    pub fn string(&self, text: &str) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe {
            sys::napi_create_string_utf8(self.0, text.as_ptr() as *const c_char, text.len(), &mut result)
        })?;
        Ok(result)
    }

    pub fn double(&self, value: f64) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_create_double(self.0, value, &mut result) })?;
        Ok(result)
    }

    pub fn object(&self) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_create_object(self.0, &mut result) })?;
        Ok(result)
    }

    pub fn array(&self, len: usize) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_create_array_with_length(self.0, len, &mut result) })?;
        Ok(result)
    }

    pub fn set_element(&self, array: napi_value, index: u32, value: napi_value) -> Result<()> {
        check(unsafe { sys::napi_set_element(self.0, array, index, value) })
    }

    pub fn set(&self, object: napi_value, name: &str, value: napi_value) -> Result<()> {
        let name = CString::new(name).map_err(|_| Status(1))?;
        check(unsafe { sys::napi_set_named_property(self.0, object, name.as_ptr(), value) })
    }

    /// A Node `Buffer` holding a copy of `data`.
    pub fn buffer(&self, data: &[u8]) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        let mut out = ptr::null_mut();
        check(unsafe {
            sys::napi_create_buffer_copy(self.0, data.len(), data.as_ptr() as *const c_void, &mut out, &mut result)
        })?;
        Ok(result)
    }

    /// A JavaScript function calling `callback`.
    pub fn function(&self, name: &str, callback: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value) -> Result<napi_value> {
        let mut result = ptr::null_mut();
        check(unsafe {
            sys::napi_create_function(self.0, name.as_ptr() as *const c_char, name.len(), Some(callback), ptr::null_mut(), &mut result)
        })?;
        Ok(result)
    }

    /// An `Error` with `message` and a `code` property.
    pub fn error(&self, code: &str, message: &str) -> Result<napi_value> {
        let (code, message) = (self.string(code)?, self.string(message)?);
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_create_error(self.0, code, message, &mut result) })?;
        Ok(result)
    }

    pub fn throw(&self, error: napi_value) {
        unsafe { sys::napi_throw(self.0, error) };
    }

    /// Throws a `TypeError` with `code`, unless an exception is already pending.
    pub fn throw_type_error(&self, code: &str, message: &str) {
        if self.exception_pending() {
            return;
        }
        let code = CString::new(code).unwrap_or_default();
        let message = CString::new(message).unwrap_or_default();
        unsafe { sys::napi_throw_type_error(self.0, code.as_ptr(), message.as_ptr()) };
    }

    pub fn exception_pending(&self) -> bool {
        let mut pending = false;
        unsafe { sys::napi_is_exception_pending(self.0, &mut pending) };
        pending
    }

    /// Clears and returns a pending exception, if any.
    pub fn take_exception(&self) -> Option<napi_value> {
        if !self.exception_pending() {
            return None;
        }
        let mut result = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(self.0, &mut result) };
        Some(result)
    }

    /// Calls `func` with `this` undefined.
    pub fn call(&self, func: napi_value, args: &[napi_value]) -> Result<napi_value> {
        let recv = self.undefined()?;
        let mut result = ptr::null_mut();
        check(unsafe { sys::napi_call_function(self.0, recv, func, args.len(), args.as_ptr(), &mut result) })?;
        Ok(result)
    }

    /// A new promise and the handle that settles it.
    pub fn promise(&self) -> Result<(Deferred, napi_value)> {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        check(unsafe { sys::napi_create_promise(self.0, &mut deferred, &mut promise) })?;
        Ok((Deferred(deferred), promise))
    }

    /// An external value owning `data`; `data` is dropped when the value is collected. The
    /// value is tagged so that [`Env::get_external`] only ever reads back a `T`.
    pub fn external<T: 'static>(&self, data: T, tag: &napi_type_tag) -> Result<napi_value> {
        unsafe extern "C" fn drop_box<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
            drop(Box::from_raw(data as *mut T));
        }
        let raw = Box::into_raw(Box::new(data)) as *mut c_void;
        let mut result = ptr::null_mut();
        let status = unsafe { sys::napi_create_external(self.0, raw, Some(drop_box::<T>), ptr::null_mut(), &mut result) };
        if status != sys::NAPI_OK {
            drop(unsafe { Box::from_raw(raw as *mut T) });
            return Err(Status(status));
        }
        check(unsafe { sys::napi_type_tag_object(self.0, result, tag) })?;
        Ok(result)
    }

    /// The data of an external made by [`Env::external`] with the same tag, or `None` for
    /// any other value.
    pub fn get_external<T: 'static>(&self, value: napi_value, tag: &napi_type_tag) -> Result<Option<&T>> {
        if self.type_of(value)? != ValueType::External {
            return Ok(None);
        }
        let mut tagged = false;
        check(unsafe { sys::napi_check_object_type_tag(self.0, value, tag, &mut tagged) })?;
        if !tagged {
            return Ok(None);
        }
        let mut data = ptr::null_mut();
        check(unsafe { sys::napi_get_value_external(self.0, value, &mut data) })?;
        Ok(Some(unsafe { &*(data as *const T) }))
    }
}

/// Settles one promise, once.
pub struct Deferred(sys::napi_deferred);

// The handle is only ever used on the JavaScript thread; it travels through other threads.
unsafe impl Send for Deferred {}

impl Deferred {
    pub fn resolve(self, env: &Env, value: napi_value) {
        unsafe { sys::napi_resolve_deferred(env.0, self.0, value) };
    }

    pub fn reject(self, env: &Env, error: napi_value) {
        unsafe { sys::napi_reject_deferred(env.0, self.0, error) };
    }
}

/// Handles a message posted from another thread, on the JavaScript thread. `callback` is the
/// JavaScript function the threadsafe function was made with, if any.
pub type Handler<C, M> = fn(env: &Env, callback: Option<napi_value>, context: &mut C, message: M);

struct Shared<C, M> {
    context: C,
    handler: Handler<C, M>,
}

/// A Node-API threadsafe function carrying messages of type `M` to a handler on the JavaScript
/// thread. It keeps the event loop alive until it is released.
pub struct ThreadsafeFunction<M: Send + 'static> {
    raw: sys::napi_threadsafe_function,
    _message: PhantomData<fn(M)>,
}

// Node-API threadsafe functions are made to be called from any thread.
unsafe impl<M: Send + 'static> Send for ThreadsafeFunction<M> {}
unsafe impl<M: Send + 'static> Sync for ThreadsafeFunction<M> {}

/// A message could not be delivered: the environment is shutting down, or the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostError {
    Closing,
    Full,
}

impl<M: Send + 'static> ThreadsafeFunction<M> {
    /// Makes a threadsafe function whose messages go to `handler` with `context`.
    pub fn new<C: 'static>(
        env: &Env,
        callback: Option<napi_value>,
        name: &str,
        context: C,
        handler: Handler<C, M>,
    ) -> Result<Self> {
        unsafe extern "C" fn call_js<C, M>(env: napi_env, js_callback: napi_value, context: *mut c_void, data: *mut c_void) {
            let message = Box::from_raw(data as *mut M);
            if env.is_null() {
                return; // torn down: the message is dropped
            }
            let env = Env(env);
            let shared = &mut *(context as *mut Shared<C, M>);
            let callback = match env.type_of(js_callback) {
                Ok(ValueType::Function) if !js_callback.is_null() => Some(js_callback),
                _ => None,
            };
            (shared.handler)(&env, callback, &mut shared.context, *message);
        }
        unsafe extern "C" fn finalize<C, M>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
            drop(Box::from_raw(data as *mut Shared<C, M>));
        }
        let shared = Box::into_raw(Box::new(Shared { context, handler })) as *mut c_void;
        let name = env.string(name)?;
        let mut raw = ptr::null_mut();
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
            drop(unsafe { Box::from_raw(shared as *mut Shared<C, M>) });
            return Err(Status(status));
        }
        Ok(ThreadsafeFunction { raw, _message: PhantomData })
    }

    /// Queues `message` for the JavaScript thread. Non-blocking posts may fail when the queue
    /// is full; blocking posts wait for room.
    pub fn post(&self, message: M, blocking: bool) -> std::result::Result<(), PostError> {
        let data = Box::into_raw(Box::new(message)) as *mut c_void;
        let mode = if blocking { sys::NAPI_TSFN_BLOCKING } else { sys::NAPI_TSFN_NONBLOCKING };
        let status = unsafe { sys::napi_call_threadsafe_function(self.raw, data, mode) };
        if status == sys::NAPI_OK {
            return Ok(());
        }
        drop(unsafe { Box::from_raw(data as *mut M) });
        Err(if status == sys::NAPI_CLOSING { PostError::Closing } else { PostError::Full })
    }
}

impl<M: Send + 'static> Drop for ThreadsafeFunction<M> {
    /// Releasing lets the event loop exit once queued messages are delivered.
    fn drop(&mut self) {
        unsafe { sys::napi_release_threadsafe_function(self.raw, sys::NAPI_TSFN_RELEASE) };
    }
}
