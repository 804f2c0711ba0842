//! Running background jobs: handlers by kind, workers that claim jobs from the
//! database, and the scheduler that enqueues periodic jobs.
//!
//! A tour:
//! - [`JobRegistry`] maps a job kind (`"sessions.purge"`) to its handler. A handler
//!   gets a [`JobContext`] (the application state, the claimed job, a [`Progress`]
//!   reporter) and answers `Ok(())`, [`JobError::Retry`] (tried again after a
//!   backoff, dead after the last attempt) or [`JobError::Permanent`] (dead at once).
//!   [`JobRegistry::register_typed`] reads the payload first: a payload that cannot be
//!   read makes the job dead with the reason, and the other jobs run on.
//! - [`spawn_workers`] starts workers that claim jobs (any instance may claim any job;
//!   see `greenbridge_store::Store::claim_job`) and renew their lease while a job
//!   runs; [`drain`] runs due jobs until none is left (tests, command line).
//! - [`schedule`] enqueues periodic jobs once per period across all instances.
//! - [`platform`] is where the platform's own kinds and schedules are registered:
//!   add a module's handlers and schedules there.
//! - [`start`] starts all of it for `greenbridge serve`.
//!
//! Handlers must be idempotent: a job whose worker dies is run again.

pub mod platform;
pub mod schedule;

use crate::state::AppState;
use futures_util::future::BoxFuture;
use greenbridge_store::{Job, JobStatus, Store};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use schedule::{Period, Schedule};

/// Why a job's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Might work later (a server was down): retried after a backoff.
    #[error("{0}")]
    Retry(String),
    /// Cannot ever work (the payload cannot be read): dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retry(error: impl std::fmt::Display) -> JobError {
        JobError::Retry(error.to_string())
    }

    pub fn permanent(error: impl std::fmt::Display) -> JobError {
        JobError::Permanent(error.to_string())
    }
}

/// A database error is worth another attempt.
impl From<greenbridge_store::StoreError> for JobError {
    fn from(error: greenbridge_store::StoreError) -> Self {
        JobError::Retry(format!("database: {error}"))
    }
}

/// What a handler gets.
pub struct JobContext {
    pub state: AppState,
    pub job: Job,
    pub progress: Progress,
}

impl JobContext {
    /// The payload as `T`; a payload that cannot be read is a permanent failure.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        self.job
            .payload()
            .map_err(|e| JobError::Permanent(format!("payload cannot be read: {e}")))
    }
}

pub type JobResult = Result<(), JobError>;
pub type Handler = Arc<dyn Fn(JobContext) -> BoxFuture<'static, JobResult> + Send + Sync>;

/// Job kinds and their handlers.
#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<String, Handler>,
}

impl JobRegistry {
    pub fn new() -> JobRegistry {
        JobRegistry::default()
    }

    /// Handles jobs of `kind` with `handler` (replacing an earlier one).
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F) -> &mut JobRegistry
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |ctx| Box::pin(handler(ctx)) as BoxFuture<'static, JobResult>),
        );
        self
    }

    /// Like [`JobRegistry::register`], with the payload read as `P` first; a payload
    /// that cannot be read makes the job dead with the reason.
    pub fn register_typed<P, F, Fut>(&mut self, kind: &str, handler: F) -> &mut JobRegistry
    where
        P: serde::de::DeserializeOwned + Send + 'static,
        F: Fn(JobContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.register(kind, move |ctx| {
            let handler = handler.clone();
            async move {
                let payload: P = ctx.payload()?;
                handler(ctx, payload).await
            }
        })
    }

    pub fn handler(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }

    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }
}

/// Reports a running job's progress to its row, at most once a second; the last
/// value is written when the handler returns ([`Progress::flush`]).
#[derive(Clone)]
pub struct Progress {
    store: Store,
    job_id: i64,
    inner: Arc<Mutex<ProgressState>>,
}

#[derive(Default)]
struct ProgressState {
    last_write: Option<Instant>,
    pending: Option<(i64, i64, String)>,
}

/// At most one progress write per job in this interval.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

impl Progress {
    pub fn new(store: Store, job_id: i64) -> Progress {
        Progress {
            store,
            job_id,
            inner: Arc::default(),
        }
    }

    /// `done` of `total` items, with a note (e.g. "第 3 批"). Written at once unless
    /// the last write is less than a second ago; then kept for the next write.
    pub async fn set(&self, done: i64, total: i64, note: &str) {
        let write = {
            let mut state = self.inner.lock().expect("progress lock");
            let due = state
                .last_write
                .is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL);
            if due {
                state.last_write = Some(Instant::now());
                state.pending = None;
            } else {
                state.pending = Some((done, total, note.to_string()));
            }
            due
        };
        if write {
            self.write(done, total, note).await;
        }
    }

    /// Writes a value that [`Progress::set`] held back, if any.
    pub async fn flush(&self) {
        let pending = {
            let mut state = self.inner.lock().expect("progress lock");
            let pending = state.pending.take();
            if pending.is_some() {
                state.last_write = Some(Instant::now());
            }
            pending
        };
        if let Some((done, total, note)) = pending {
            self.write(done, total, &note).await;
        }
    }

    async fn write(&self, done: i64, total: i64, note: &str) {
        if let Err(error) = self
            .store
            .job_progress(self.job_id, done, total, note)
            .await
        {
            tracing::warn!(job = self.job_id, %error, "cannot record job progress");
        }
    }
}

/// How the workers run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Workers per instance.
    pub workers: usize,
    /// How long an idle worker waits before it looks for due jobs again.
    pub idle_poll: Duration,
    /// How long a claimed job stays leased; the worker renews the lease every third
    /// of it while the job runs, so only a worker that died loses its job.
    pub lease_secs: i64,
    /// How often the scheduler looks whether a new period began.
    pub schedule_tick: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            workers: 2,
            idle_poll: Duration::from_secs(1),
            lease_secs: 300,
            schedule_tick: Duration::from_secs(30),
        }
    }
}

/// The running workers and scheduler of this instance.
pub struct JobsHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl JobsHandle {
    /// Stops claiming jobs and waits up to `grace` for the running ones to end; jobs
    /// still running then are abandoned (their lease expires and they run again).
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let aborts: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
        if tokio::time::timeout(grace, futures_util::future::join_all(tasks))
            .await
            .is_err()
        {
            tracing::warn!("background jobs still running at shutdown were abandoned");
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
    }
}

impl Drop for JobsHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts this instance's workers and scheduler with the platform's job kinds and
/// schedules ([`platform`]) and the default options.
pub fn start(state: AppState) -> JobsHandle {
    start_with(
        state,
        platform::registry(),
        platform::schedules(),
        WorkerOptions::default(),
    )
}

/// Starts workers and the scheduler with the given kinds, schedules and options.
pub fn start_with(
    state: AppState,
    registry: JobRegistry,
    schedules: Vec<Schedule>,
    options: WorkerOptions,
) -> JobsHandle {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = spawn_workers_until(state.clone(), registry, &options, stopped.clone());
    if !schedules.is_empty() {
        tasks.push(tokio::spawn(schedule::run(
            state,
            schedules,
            options.schedule_tick,
            stopped,
        )));
    }
    JobsHandle { stop, tasks }
}

/// Starts `n` workers with the default poll interval and lease; dropping the handle
/// stops them.
pub fn spawn_workers(state: AppState, registry: JobRegistry, n: usize) -> JobsHandle {
    spawn_workers_with(
        state,
        registry,
        WorkerOptions {
            workers: n,
            ..WorkerOptions::default()
        },
    )
}

/// Starts `options.workers` workers (no scheduler).
pub fn spawn_workers_with(
    state: AppState,
    registry: JobRegistry,
    options: WorkerOptions,
) -> JobsHandle {
    let (stop, stopped) = watch::channel(false);
    let tasks = spawn_workers_until(state, registry, &options, stopped);
    JobsHandle { stop, tasks }
}

fn spawn_workers_until(
    state: AppState,
    registry: JobRegistry,
    options: &WorkerOptions,
    stopped: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let registry = Arc::new(registry);
    (1..=options.workers)
        .map(|n| {
            let worker = Worker {
                id: worker_id(&n.to_string()),
                state: state.clone(),
                registry: registry.clone(),
                lease_secs: options.lease_secs,
            };
            tokio::spawn(worker.run(options.idle_poll, stopped.clone()))
        })
        .collect()
}

/// Runs due jobs one after another until none is due; returns how many ran.
pub async fn drain(state: &AppState, registry: &JobRegistry) -> usize {
    let worker = Worker {
        id: worker_id("drain"),
        state: state.clone(),
        registry: Arc::new(registry.clone()),
        lease_secs: WorkerOptions::default().lease_secs,
    };
    let mut ran = 0;
    loop {
        match worker.run_one().await {
            Ok(Some(_)) => ran += 1,
            Ok(None) => return ran,
            Err(error) => {
                tracing::error!(%error, "cannot claim a job");
                return ran;
            }
        }
    }
}

/// `hostname-pid-suffix`: who holds a job, in the admin pages and the logs.
pub fn worker_id(suffix: &str) -> String {
    format!("{}-{}-{suffix}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

struct Worker {
    id: String,
    state: AppState,
    registry: Arc<JobRegistry>,
    lease_secs: i64,
}

/// The outcome of one attempt, for the log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Done,
    Retrying,
    Dead,
}

impl Worker {
    async fn run(self, idle_poll: Duration, mut stopped: watch::Receiver<bool>) {
        tracing::debug!(worker = %self.id, "job worker started");
        while !*stopped.borrow() {
            let idle = match self.run_one().await {
                // Finished one: look for the next at once.
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(error) => {
                    tracing::warn!(worker = %self.id, %error, "cannot claim a job");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = tokio::time::sleep(idle_poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
        tracing::debug!(worker = %self.id, "job worker stopped");
    }

    /// Claims and runs one due job; `None` when none is due.
    async fn run_one(&self) -> greenbridge_store::Result<Option<Ran>> {
        let store = &self.state.store;
        let now = self.state.clock.unix();
        let Some(job) = store.claim_job(&self.id, now, self.lease_secs).await? else {
            return Ok(None);
        };
        let (id, kind, attempt) = (job.id, job.kind.clone(), job.attempts);
        let span = tracing::info_span!("job", id, kind = %kind, attempt, worker = %self.id);

        let Some(handler) = self.registry.handler(&kind) else {
            let reason = format!("no handler for kind {kind}");
            tracing::error!(parent: &span, "{reason}");
            store.kill_job(id, &reason, self.state.clock.unix()).await?;
            return Ok(Some(Ran::Dead));
        };

        let progress = Progress::new(store.clone(), id);
        let ctx = JobContext {
            state: self.state.clone(),
            job,
            progress: progress.clone(),
        };
        let started = Instant::now();
        // The handler runs in a task of its own, so that a panic fails the attempt
        // instead of the worker; the lease is renewed while it runs.
        let mut task = tokio::spawn(handler(ctx));
        let renew_every = Duration::from_secs((self.lease_secs / 3).max(1) as u64);
        let outcome = loop {
            tokio::select! {
                joined = &mut task => break joined,
                () = tokio::time::sleep(renew_every) => {
                    let until = self.state.clock.unix() + self.lease_secs;
                    match store.extend_job_lease(id, &self.id, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(parent: &span, "job lease lost while running"),
                        Err(error) => tracing::warn!(parent: &span, %error, "cannot renew the job lease"),
                    }
                }
            }
        };
        progress.flush().await;
        let now = self.state.clock.unix();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let ran = match outcome {
            Ok(Ok(())) => {
                store.complete_job(id, now).await?;
                tracing::info!(parent: &span, elapsed_ms, "job done");
                Ran::Done
            }
            Ok(Err(JobError::Permanent(reason))) => {
                tracing::error!(parent: &span, elapsed_ms, %reason, "job failed for good");
                store.kill_job(id, &reason, now).await?;
                Ran::Dead
            }
            Ok(Err(JobError::Retry(error))) => self.fail(id, &error, now, &span).await?,
            Err(joined) => {
                let error = if joined.is_panic() {
                    "handler panicked".to_string()
                } else {
                    format!("handler stopped: {joined}")
                };
                self.fail(id, &error, now, &span).await?
            }
        };
        Ok(Some(ran))
    }

    async fn fail(
        &self,
        id: i64,
        error: &str,
        now: i64,
        span: &tracing::Span,
    ) -> greenbridge_store::Result<Ran> {
        match self.state.store.fail_job(id, error, now).await? {
            JobStatus::Dead => {
                tracing::error!(parent: span, %error, "job failed on its last attempt");
                Ok(Ran::Dead)
            }
            _ => {
                tracing::warn!(parent: span, %error, "job failed; will retry");
                Ok(Ran::Retrying)
            }
        }
    }
}
