//! The engine threads of Kafka mode (`--shards N`): the tasks' engines run on N worker
//! threads while the live loop polls, decodes, orders and produces, so that reading and
//! matching overlap.
//!
//! A task always runs on one worker (chosen when it is assigned), so its events are
//! pushed in order; a job is one tick's events of some tasks and the time to advance
//! them to. Workers answer each job with its records, profile updates and gauges; the
//! loop merges them and writes the records below the **safe time**: the time every
//! worker has finished up to. With one shard there are no threads: jobs run inline, with
//! the same code. Anything that needs the engines themselves (checkpoints, reloads,
//! counters) first waits for every job sent ([`Crew::settle`]).

use crate::engine::{Engine, Output, ProfileUpdate};
use crate::event::Event;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Jobs a worker may have waiting before the loop waits for it (bounds the memory held
/// by events not yet matched when the engines are slower than the input).
const MAX_OUTSTANDING: usize = 4;

/// One owned task: the engine of its keys.
pub(super) struct Task {
    pub engine: Engine,
    /// The sequence number of its last checkpoint.
    pub seq: u64,
}

/// A task as the loop holds it: shared with the worker that runs it.
pub(super) struct Slot {
    task: Arc<Mutex<Task>>,
    /// Events released by the watermark, not yet sent to the engine.
    pub pending: Vec<Arc<Event>>,
    worker: usize,
    /// Keys and runs in flight, as last reported.
    pub keys: usize,
    pub runs: usize,
}

impl Slot {
    /// The task itself. Call it only when no job of this task is in flight (after
    /// [`Crew::settle`]), or it waits for the job.
    pub fn lock(&self) -> MutexGuard<'_, Task> {
        self.task.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a job did.
#[derive(Default)]
pub(super) struct Done {
    pub outputs: Vec<Output>,
    /// Tagged with their task.
    pub profiles: Vec<ProfileUpdate>,
    /// Per task: keys and (when counted) runs in flight.
    pub gauges: Vec<(i32, usize, Option<usize>)>,
    /// A worker's engine panicked (a bug): the run stops with this.
    pub failed: Option<String>,
}

/// A task's share of a job: its number, itself, its events.
type TaskWork = (i32, Arc<Mutex<Task>>, Vec<Arc<Event>>);

struct Job {
    tasks: Vec<TaskWork>,
    advance: Option<i64>,
    /// The loop's clock after this job: when it is done, its worker is done up to it.
    clock: i64,
    count_runs: bool,
}

struct Worker {
    jobs: Sender<Job>,
    handle: JoinHandle<()>,
    outstanding: usize,
    /// The clock of its last finished job.
    done_to: i64,
}

/// The workers (none with one shard) and what they have finished.
pub(super) struct Crew {
    workers: Vec<Worker>,
    replies: Receiver<(usize, i64, Done)>,
    /// Finished work not yet taken by the loop.
    done: Done,
}

impl Crew {
    /// `threads` engine threads; 0 or 1: the engines run on the caller's thread.
    pub fn new(threads: usize) -> std::io::Result<Crew> {
        let (reply_tx, replies) = channel();
        let workers: Vec<Worker> = if threads <= 1 {
            Vec::new()
        } else {
            (0..threads)
                .map(|index| -> std::io::Result<Worker> {
                    let (jobs, rx) = channel::<Job>();
                    let reply_tx = reply_tx.clone();
                    let handle = std::thread::Builder::new()
                        .name(format!("nudge-engine-{index}"))
                        .spawn(move || {
                            for job in rx {
                                let clock = job.clock;
                                if reply_tx.send((index, clock, run_job(job))).is_err() {
                                    return;
                                }
                            }
                        })?;
                    Ok(Worker {
                        jobs,
                        handle,
                        outstanding: 0,
                        done_to: i64::MIN,
                    })
                })
                .collect::<std::io::Result<_>>()?
        };
        Ok(Crew {
            workers,
            replies,
            done: Done::default(),
        })
    }

    /// A slot for a new task, on the worker with the fewest tasks.
    pub fn place(&self, tasks: &BTreeMap<i32, Slot>, task: Task) -> Slot {
        let worker = (0..self.workers.len().max(1))
            .min_by_key(|w| tasks.values().filter(|s| s.worker == *w).count())
            .unwrap_or(0);
        Slot {
            task: Arc::new(Mutex::new(task)),
            pending: Vec::new(),
            worker,
            keys: 0,
            runs: 0,
        }
    }

    /// Sends every task's pending events, and the advance to `advance`, to its worker
    /// (or runs them here). `clock` is the loop's clock once they are done.
    pub fn dispatch(
        &mut self,
        tasks: &mut BTreeMap<i32, Slot>,
        advance: Option<i64>,
        clock: i64,
        count_runs: bool,
    ) {
        let mut jobs: Vec<Job> = (0..self.workers.len().max(1))
            .map(|_| Job {
                tasks: Vec::new(),
                advance,
                clock,
                count_runs,
            })
            .collect();
        for (&p, slot) in tasks.iter_mut() {
            if slot.pending.is_empty() && advance.is_none() && !count_runs {
                continue;
            }
            jobs[slot.worker]
                .tasks
                .push((p, slot.task.clone(), std::mem::take(&mut slot.pending)));
        }
        if self.workers.is_empty() {
            let job = jobs.pop().expect("one job");
            let done = run_job(job);
            self.absorb(done);
            return;
        }
        for (w, job) in jobs.into_iter().enumerate() {
            if job.tasks.is_empty() && advance.is_none() {
                continue;
            }
            while self.workers[w].outstanding >= MAX_OUTSTANDING {
                self.wait_one();
            }
            let worker = &mut self.workers[w];
            if worker.jobs.send(job).is_ok() {
                worker.outstanding += 1;
            } else {
                self.done
                    .failed
                    .get_or_insert_with(|| format!("engine thread {w} stopped"));
            }
        }
    }

    /// Takes the work finished so far (without waiting).
    pub fn collect(&mut self) -> Done {
        while let Ok((w, clock, done)) = self.replies.try_recv() {
            self.finished(w, clock, done);
        }
        std::mem::take(&mut self.done)
    }

    /// Waits until every job sent is finished, then takes the work.
    pub fn settle(&mut self) -> Done {
        while self.workers.iter().any(|w| w.outstanding > 0) {
            self.wait_one();
        }
        self.collect()
    }

    /// The time every engine has finished up to, given the loop's `clock`.
    pub fn safe(&self, clock: i64) -> i64 {
        self.workers
            .iter()
            .filter(|w| w.outstanding > 0)
            .map(|w| w.done_to)
            .fold(clock, i64::min)
    }

    fn wait_one(&mut self) {
        match self.replies.recv() {
            Ok((w, clock, done)) => self.finished(w, clock, done),
            Err(_) => {
                // Every worker is gone: nothing is outstanding any more.
                for w in &mut self.workers {
                    w.outstanding = 0;
                }
                self.done
                    .failed
                    .get_or_insert_with(|| "the engine threads stopped".into());
            }
        }
    }

    fn finished(&mut self, w: usize, clock: i64, done: Done) {
        let worker = &mut self.workers[w];
        worker.outstanding = worker.outstanding.saturating_sub(1);
        worker.done_to = worker.done_to.max(clock);
        self.absorb(done);
    }

    fn absorb(&mut self, mut done: Done) {
        self.done.outputs.append(&mut done.outputs);
        self.done.profiles.append(&mut done.profiles);
        self.done.gauges.append(&mut done.gauges);
        if let Some(f) = done.failed {
            self.done.failed.get_or_insert(f);
        }
    }
}

impl Drop for Crew {
    /// Closes the workers' queues and waits for them to finish their last job.
    fn drop(&mut self) {
        let workers = std::mem::take(&mut self.workers);
        let handles: Vec<JoinHandle<()>> = workers
            .into_iter()
            .map(|w| {
                drop(w.jobs);
                w.handle
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

/// Runs one job: per task, its events, then its timers up to the advance.
fn run_job(job: Job) -> Done {
    let mut done = Done::default();
    let ran = catch_unwind(AssertUnwindSafe(|| {
        for (p, task, events) in job.tasks {
            let mut task = task.lock().unwrap_or_else(|e| e.into_inner());
            let engine = &mut task.engine;
            for event in events {
                engine.push(event);
            }
            if let Some(t) = job.advance {
                engine.advance_to(t);
            }
            engine.drain_outputs_into(&mut done.outputs);
            let mut updates = engine.take_profile_updates();
            for u in &mut updates {
                u.partition = p;
            }
            done.profiles.append(&mut updates);
            let runs = job.count_runs.then(|| engine.runs_alive());
            done.gauges.push((p, engine.keys_alive(), runs));
        }
    }));
    if let Err(panic) = ran {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        done.failed = Some(format!("an engine failed: {what}"));
    }
    done
}
