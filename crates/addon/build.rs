//! Link setup for the Node-API addon, what napi-build would do: the Node-API symbols are
//! provided by the node process at load time, never linked at build time.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "macos" {
        // macOS refuses undefined symbols in a dylib unless told to look them up at load time.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-undefined,dynamic_lookup");
    }
    // Linux: undefined symbols in a shared object are resolved against the loading process.
    println!("cargo:rerun-if-changed=build.rs");
}
