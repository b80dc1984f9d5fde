//! How close the engine comes to the cheapest way of hashing a directory's files on this machine
//! (README.md, Benchmarks: the read floor): `cargo run --release -p kernelseal-engine --example read_floor -- DIR [sha256|sha512] [ROUNDS]`.
//!
//! In interleaved rounds, medians, on every core:
//! - limit: hashing the files' bytes already in memory (no I/O at all);
//! - floor: the least a reader must do per file, with no walk, no checks and no scheduling:
//!   open, fstat, reads of up to 1 MiB (a small file in one, as the engine reads it) hashed as
//!   they come, fstat, close; the files dealt out to the threads in turn;
//! - engine: `hash_variant`, with everything the engine promises (the walk and its rules, files
//!   that change while read, largest first).
//!
//! The engine can come near the floor, not beat it: floor ÷ limit is what copying out of the
//! page cache and the per-file system calls cost on this machine.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use kernelseal_engine::{hash_bytes, hash_variant, walk_variant, Algorithm, Options};

/// The engine's read size (crates/engine/src/file.rs `CHUNK`).
const CHUNK: usize = 1024 * 1024;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: read_floor DIR [sha256|sha512] [ROUNDS]"));
    let algorithm = match args.next().as_deref() {
        Some("sha512") => Algorithm::Sha512,
        _ => Algorithm::Sha256,
    };
    let rounds: usize = args.next().map_or(9, |n| n.parse().expect("ROUNDS is a number"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let entries = walk_variant(&dir, &AtomicBool::new(false)).expect("walk");
    let paths: Vec<PathBuf> = entries.iter().map(|entry| entry.path(&dir)).collect();
    let bytes: u64 = entries.iter().map(|entry| entry.size).sum();
    let contents: Vec<Vec<u8>> = paths.iter().map(|path| std::fs::read(path).expect("read")).collect();

    let (mut limit, mut floor, mut engine) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        limit.push(timed(|| dealt(threads, contents.len(), |i, _| drop(hash_bytes(algorithm, &contents[i])))));
        floor.push(timed(|| {
            dealt(threads, paths.len(), |i, buffer| {
                let mut file = File::open(&paths[i]).expect("open");
                let size = file.metadata().expect("fstat").len() as usize;
                let want = (size + 1).min(CHUNK);
                if buffer.len() < want {
                    buffer.resize(want, 0);
                }
                // Each read hashed on its own: the same work as one digest of the file, give or
                // take a finalization per MiB (the engine's hasher is not public).
                loop {
                    let n = file.read(&mut buffer[..want]).expect("read");
                    if n == 0 {
                        break;
                    }
                    drop(hash_bytes(algorithm, &buffer[..n]));
                }
                file.metadata().expect("fstat");
            })
        }));
        engine.push(timed(|| drop(hash_variant(&dir, algorithm, &Options::none()).expect("hash_variant"))));
    }
    let rate = |samples: &mut Vec<f64>| bytes as f64 / median(samples) / 1e9;
    let (limit, floor, engine) = (rate(&mut limit), rate(&mut floor), rate(&mut engine));
    println!("{} files, {bytes} bytes, {algorithm:?}, {threads} threads, sha2: {}", paths.len(), kernelseal_engine::sha2_implementation());
    println!("limit  {limit:.3} GB/s");
    println!("floor  {floor:.3} GB/s = {:.2} x limit", floor / limit);
    println!("engine {engine:.3} GB/s = {:.2} x limit = {:.2} x floor", engine / limit, engine / floor);
}

/// Runs `work(i, buffer)` for every i below `count`, dealt out to `threads` threads in turn,
/// each with a buffer of its own, reused from file to file.
fn dealt(threads: usize, count: usize, work: impl Fn(usize, &mut Vec<u8>) + Sync) {
    std::thread::scope(|scope| {
        for first in 0..threads {
            let work = &work;
            scope.spawn(move || {
                let mut buffer = Vec::new();
                (first..count).step_by(threads).for_each(|i| work(i, &mut buffer));
            });
        }
    });
}

fn timed(work: impl FnOnce()) -> f64 {
    let started = Instant::now();
    work();
    started.elapsed().as_secs_f64()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
