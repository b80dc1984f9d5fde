//! SHA-2 from the OpenSSL that is already in the process, found at run time.
//!
//! OpenSSL's SHA-256 and SHA-512 are hand-tuned assembly (AVX2, SHA-NI when the CPU has it);
//! the `sha2` crate's portable code is 2-3x slower on CPUs without SHA extensions and ~30%
//! slower for SHA-512 everywhere. Node.js exports the OpenSSL it embeds, so inside Node the
//! symbols are resolved from the process itself: no build-time or install-time dependency.
//! Elsewhere (`cargo test`, other hosts) the system's libcrypto is opened if there is one;
//! failing both, callers fall back to the `sha2` crate. Results are identical either way.
//!
//! The one-shot-context API (`SHA256_Init`/`_Update`/`_Final`) is used rather than EVP: it is
//! exported by every OpenSSL 1.1 and 3.x build Node ships, and has no per-call dispatch cost.

use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

type Init = unsafe extern "C" fn(ctx: *mut c_void) -> c_int;
type Update = unsafe extern "C" fn(ctx: *mut c_void, data: *const c_void, len: usize) -> c_int;
type Final = unsafe extern "C" fn(md: *mut u8, ctx: *mut c_void) -> c_int;

#[derive(Clone, Copy)]
struct Functions {
    init: Init,
    update: Update,
    finalize: Final,
}

struct Api {
    sha256: Functions,
    sha512: Functions,
    /// Where the functions came from, for diagnostics.
    source: &'static str,
}

static API: OnceLock<Option<Api>> = OnceLock::new();

/// Where OpenSSL's SHA-2 was found ("process" or "libcrypto"), or None when it was not.
pub fn source() -> Option<&'static str> {
    api().map(|api| api.source)
}

fn api() -> Option<&'static Api> {
    API.get_or_init(|| {
        if std::env::var_os("KERNELSEAL_NO_OPENSSL").is_some() {
            return None;
        }
        // SAFETY: dlsym on RTLD_DEFAULT, and dlopen of OpenSSL's own library names: the
        // symbols looked up have the C signatures `Init`, `Update` and `Final` in every
        // OpenSSL 1.1 and 3.x (openssl/sha.h).
        unsafe { load(libc::RTLD_DEFAULT, "process").or_else(|| load_libcrypto()) }
    })
    .as_ref()
}

/// # Safety
/// A library found under these names must be OpenSSL (see [`load`]).
unsafe fn load_libcrypto() -> Option<Api> {
    for name in [c"libcrypto.so.3", c"libcrypto.so.1.1", c"libcrypto.3.dylib"] {
        let handle = libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if !handle.is_null() {
            if let Some(api) = load(handle, "libcrypto") {
                return Some(api); // the handle stays open for the life of the process
            }
            libc::dlclose(handle);
        }
    }
    None
}

/// # Safety
/// `handle` must be RTLD_DEFAULT or a live dlopen handle whose SHA-2 symbols, if any, are
/// OpenSSL's: they are cast to OpenSSL's signatures.
unsafe fn load(handle: *mut c_void, source: &'static str) -> Option<Api> {
    let symbol = |name: &CStr| {
        let address = libc::dlsym(handle, name.as_ptr());
        (!address.is_null()).then_some(address)
    };
    let functions = |init: &CStr, update: &CStr, finalize: &CStr| -> Option<Functions> {
        Some(Functions {
            init: std::mem::transmute::<*mut c_void, Init>(symbol(init)?),
            update: std::mem::transmute::<*mut c_void, Update>(symbol(update)?),
            finalize: std::mem::transmute::<*mut c_void, Final>(symbol(finalize)?),
        })
    };
    Some(Api {
        sha256: functions(c"SHA256_Init", c"SHA256_Update", c"SHA256_Final")?,
        sha512: functions(c"SHA512_Init", c"SHA512_Update", c"SHA512_Final")?,
        source,
    })
}

/// Large and aligned enough for OpenSSL's SHA256_CTX (112 bytes) and SHA512_CTX (216 bytes).
#[repr(C, align(16))]
struct Context([u8; 256]);

/// An OpenSSL SHA-256 or SHA-512 computation.
pub struct Sha2 {
    functions: Functions,
    context: Box<Context>,
    len: usize,
}

impl Sha2 {
    /// SHA-256 (`bits` 256) or SHA-512 (`bits` 512), if OpenSSL was found.
    pub fn new(bits: u32) -> Option<Sha2> {
        let api = api()?;
        let (functions, len) = match bits {
            256 => (api.sha256, 32),
            512 => (api.sha512, 64),
            _ => return None,
        };
        let mut context = Box::new(Context([0; 256]));
        // SAFETY: `context` is larger and more aligned than OpenSSL's SHA256_CTX/SHA512_CTX
        // and owned by this value; `functions` are OpenSSL's (see `load`).
        let ok = unsafe { (functions.init)(context.0.as_mut_ptr() as *mut c_void) };
        (ok == 1).then_some(Sha2 { functions, context, len })
    }

    pub fn update(&mut self, data: &[u8]) {
        // SAFETY: the context was initialized by `new`; `data` is readable for its length.
        unsafe { (self.functions.update)(self.context.0.as_mut_ptr() as *mut c_void, data.as_ptr() as *const c_void, data.len()) };
    }

    pub fn finalize(mut self) -> Vec<u8> {
        let mut out = vec![0u8; self.len];
        // SAFETY: `out` holds the digest length of the context's algorithm; the context was
        // initialized by `new` and is finalized once (`self` is consumed).
        unsafe { (self.functions.finalize)(out.as_mut_ptr(), self.context.0.as_mut_ptr() as *mut c_void) };
        out
    }
}
