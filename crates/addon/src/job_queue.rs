//! A fixed set of job threads for the addon's calls. Each call runs its engine work here (the
//! engine fans out over rayon's pool); calls beyond the threads wait in a queue, so that a
//! thousand concurrent calls make a thousand queued closures, not a thousand threads, and open
//! a bounded number of files.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

/// Job threads: enough to overlap one job's walk (I/O) with another's hashing, few enough to
/// bound open files.
const THREADS: usize = 4;

static QUEUE: OnceLock<(&'static Queue, usize)> = OnceLock::new();

/// Queues `job` to run on a job thread. Fails only when no job thread could be started.
pub fn submit(job: Job) -> Result<(), ()> {
    // Several Node environments (worker threads) may submit at once: one queue for all.
    let (queue, threads) = *QUEUE.get_or_init(|| {
        let queue: &'static Queue = Box::leak(Box::new(Queue { jobs: Mutex::new(VecDeque::new()), ready: Condvar::new() }));
        let started = (0..THREADS)
            .filter(|index| std::thread::Builder::new().name(format!("kernelseal-job-{index}")).spawn(move || run(queue)).is_ok())
            .count();
        (queue, started)
    });
    if threads == 0 {
        return Err(());
    }
    queue.jobs.lock().unwrap_or_else(|e| e.into_inner()).push_back(job);
    queue.ready.notify_one();
    Ok(())
}

fn run(queue: &'static Queue) {
    loop {
        let job = {
            let mut jobs = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match jobs.pop_front() {
                    Some(job) => break job,
                    None => jobs = queue.ready.wait(jobs).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        // A panic in one job must not take the thread (and the queue) down with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}
