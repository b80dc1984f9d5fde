//! The hashing threads are bounded whatever RAYON_NUM_THREADS asks (crates/engine/src/pool.rs).
//! One test in its own binary: the pool is started once per process.

use std::sync::atomic::AtomicBool;

use kernelseal_engine::{threads, walk_tree, MAX_THREADS};

#[test]
fn rayon_num_threads_beyond_the_bound_starts_the_bound() {
    std::env::set_var("RAYON_NUM_THREADS", "100000");
    let bound = MAX_THREADS.max(std::thread::available_parallelism().unwrap().get());
    assert_eq!(threads(), Ok(bound));
    // The entry points run on that pool, and asking again changes nothing.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "a").unwrap();
    assert_eq!(walk_tree(dir.path(), &AtomicBool::new(false)).unwrap().entries.len(), 1);
    assert_eq!(threads(), Ok(bound));
}
