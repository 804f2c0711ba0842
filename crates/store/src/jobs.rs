//! Background jobs as rows, so that any instance may run them.
//!
//! A job is enqueued `queued` with a `run_after` time. A worker *claims* it with one
//! `UPDATE … WHERE id = (SELECT … LIMIT 1) AND status = 'queued' RETURNING …`: the
//! row turns `running`, its attempt is counted and it is leased to the worker until
//! `locked_until`. The statement is safe with any number of workers and instances on
//! both engines: SQLite runs one writing statement at a time, and on PostgreSQL the
//! subquery skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`) while the
//! repeated `status = 'queued'` turns away a row someone else claimed meanwhile — the
//! claim is then simply tried again.
//!
//! The worker ends the attempt with [`Store::complete_job`] (`done`),
//! [`Store::fail_job`] (queued again after an exponential backoff, or `dead` after the
//! last attempt, keeping the error) or [`Store::kill_job`] (`dead` at once: a payload
//! that cannot be read will not become readable). A worker that dies leaves its job
//! `running`; once the lease has expired, the next claim puts it back in the queue
//! (or marks it dead when that was its last attempt). Long jobs renew the lease with
//! [`Store::extend_job_lease`] and report progress with [`Store::job_progress`].
//!
//! `unique_key` makes enqueueing idempotent for as long as the row exists: the
//! scheduler enqueues `kind@<period start>` from every instance and only one row is
//! made. Finished rows are deleted after a while by [`Store::purge_finished_jobs`].

use crate::{Backend, Result, Store, StoreError};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    /// Failed for good: the last attempt failed, or the job could never succeed.
    Dead,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Dead,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// The status in the admin pages.
    pub fn label_zh(self) -> &'static str {
        match self {
            JobStatus::Queued => "排队中",
            JobStatus::Running => "运行中",
            JobStatus::Done => "已完成",
            JobStatus::Dead => "已失败",
            JobStatus::Cancelled => "已取消",
        }
    }

    pub fn parse(value: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A job to enqueue. [`NewJob::new`] fills in the defaults (5 attempts, no unique key).
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: serde_json::Value,
    /// Not before this time (unix seconds).
    pub run_after: i64,
    pub max_attempts: i32,
    /// When set, a second job with the same key is not enqueued (while the first
    /// row exists, whatever its status).
    pub unique_key: Option<String>,
    /// When it was enqueued (unix seconds): `now` of [`NewJob::new`].
    pub created_at: i64,
}

/// How many attempts a job gets unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// The first retry waits this long; each further one twice as long as the last …
pub const BACKOFF_BASE_SECS: i64 = 30;
/// … but never longer than this.
pub const BACKOFF_MAX_SECS: i64 = 3600;

impl<'a> NewJob<'a> {
    /// A job of `kind` to run as soon as a worker is free (`now`).
    pub fn new(kind: &'a str, payload: serde_json::Value, now: i64) -> NewJob<'a> {
        NewJob {
            kind,
            payload,
            run_after: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
            created_at: now,
        }
    }

    pub fn unique(mut self, key: impl Into<String>) -> NewJob<'a> {
        self.unique_key = Some(key.into());
        self
    }

    pub fn run_after(mut self, at: i64) -> NewJob<'a> {
        self.run_after = at;
        self
    }

    pub fn max_attempts(mut self, attempts: i32) -> NewJob<'a> {
        self.max_attempts = attempts.max(1);
        self
    }
}

/// How long the retry after failed attempt number `attempts` (1-based) waits:
/// 30 s, 1 min, 2 min, 4 min … at most an hour.
pub fn backoff_secs(attempts: i32) -> i64 {
    let exponent = (attempts.max(1) - 1).min(20) as u32;
    (BACKOFF_BASE_SECS << exponent).min(BACKOFF_MAX_SECS)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_after: i64,
    locked_by: Option<String>,
    locked_until: Option<i64>,
    last_error: Option<String>,
    progress_done: Option<i64>,
    progress_total: Option<i64>,
    progress_note: String,
    unique_key: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

/// A job row.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// The payload as stored (JSON text); [`Job::payload`] reads it.
    pub payload_json: String,
    pub status: JobStatus,
    /// Attempts started so far (a claim counts one).
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub progress_done: Option<i64>,
    pub progress_total: Option<i64>,
    pub progress_note: String,
    pub unique_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Job {
    /// The payload as `T`; an error says why it cannot be read.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload_json)
    }
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(row: JobRow) -> Result<Job> {
        let count = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
        Ok(Job {
            status: JobStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("job status {:?}", row.status)))?,
            id: row.id,
            kind: row.kind,
            payload_json: row.payload,
            attempts: count(row.attempts),
            max_attempts: count(row.max_attempts),
            run_after: row.run_after,
            locked_by: row.locked_by,
            locked_until: row.locked_until,
            last_error: row.last_error,
            progress_done: row.progress_done,
            progress_total: row.progress_total,
            progress_note: row.progress_note,
            unique_key: row.unique_key,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

const JOB_COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_after, \
    locked_by, locked_until, last_error, progress_done, progress_total, progress_note, \
    unique_key, created_at, updated_at, finished_at";

/// Which jobs the admin list shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
}

/// How often a claim is tried again when other workers took the candidates.
const CLAIM_TRIES: usize = 20;
/// Error text longer than this is cut (a whole backtrace helps nobody in a table).
const ERROR_MAX_CHARS: usize = 2000;

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl Store {
    /// Enqueues a job; `None` when a job with the same `unique_key` exists.
    pub async fn enqueue_job(&self, job: &NewJob<'_>) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_after, \
             unique_key, created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $6) \
             ON CONFLICT (unique_key) DO NOTHING RETURNING id",
        )
        .bind(job.kind)
        .bind(job.payload.to_string())
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(job.run_after)
        .bind(job.unique_key.as_deref())
        .bind(job.created_at)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Claims the next due job for `worker_id`, leased for `lease_secs`; `None` when
    /// nothing is due. Jobs whose lease expired (their worker died) are first put back
    /// in the queue, or marked dead when that was their last attempt.
    pub async fn claim_job(
        &self,
        worker_id: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<Job>> {
        self.requeue_expired_jobs(now).await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
             locked_until = $2, updated_at = $3, progress_done = NULL, progress_total = NULL, \
             progress_note = '' \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $3 \
             ORDER BY run_after, id LIMIT 1{lock}) AND status = 'queued' RETURNING {JOB_COLUMNS}"
        );
        for _ in 0..CLAIM_TRIES {
            // A read first: an idle queue then costs no write lock (which SQLite
            // would take for an UPDATE that changes nothing).
            let due: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $1 LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            if due.is_none() {
                return Ok(None);
            }
            let row: Option<JobRow> = sqlx::query_as(&sql)
                .bind(worker_id)
                .bind(now + lease_secs)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                return Ok(Some(row.try_into()?));
            }
            // Another worker won the candidate: look again.
            tokio::task::yield_now().await;
        }
        Ok(None)
    }

    /// Puts running jobs whose lease ran out back in the queue (dead when it was
    /// their last attempt); returns how many.
    pub async fn requeue_expired_jobs(&self, now: i64) -> Result<u64> {
        let expired: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE status = 'running' AND locked_until < $1 LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if expired.is_none() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE jobs SET \
             status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
             last_error = 'lease expired: worker ' || COALESCE(locked_by, '?') || ' stopped answering', \
             locked_by = NULL, locked_until = NULL, run_after = $1, updated_at = $1 \
             WHERE status = 'running' AND locked_until < $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        let count = done.rows_affected();
        if count > 0 {
            tracing::warn!(jobs = count, "requeued jobs whose worker stopped answering");
        }
        Ok(count)
    }

    /// Renews the lease of a running job held by `worker_id`; false when the job is
    /// no longer this worker's (its lease expired and someone else took it).
    pub async fn extend_job_lease(
        &self,
        id: i64,
        worker_id: &str,
        locked_until: i64,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND status = 'running' AND locked_by = $3",
        )
        .bind(locked_until)
        .bind(id)
        .bind(worker_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// The running job succeeded.
    pub async fn complete_job(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, \
             finished_at = $1, updated_at = $1 WHERE id = $2 AND status = 'running'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The running job's attempt failed: queued again after the backoff of
    /// [`backoff_secs`], or dead when it was the last attempt. The error is kept
    /// either way. Returns the new status.
    pub async fn fail_job(&self, id: i64, error: &str, now: i64) -> Result<JobStatus> {
        let (attempts, max_attempts): (i64, i64) =
            sqlx::query_as("SELECT attempts, max_attempts FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        let error = cut(error, ERROR_MAX_CHARS);
        let (status, run_after, finished_at) = if attempts >= max_attempts {
            (JobStatus::Dead, now, Some(now))
        } else {
            let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
            (JobStatus::Queued, now + backoff_secs(attempts), None)
        };
        sqlx::query(
            "UPDATE jobs SET status = $1, run_after = $2, finished_at = $3, last_error = $4, \
             locked_by = NULL, locked_until = NULL, updated_at = $5 \
             WHERE id = $6 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(run_after)
        .bind(finished_at)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(status)
    }

    /// Marks a job dead at once with `reason` (a payload that cannot be read, a kind
    /// nobody handles): retrying would not help.
    pub async fn kill_job(&self, id: i64, reason: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = 'dead', last_error = $1, locked_by = NULL, \
             locked_until = NULL, finished_at = $2, updated_at = $2 \
             WHERE id = $3 AND status IN ('queued', 'running')",
        )
        .bind(cut(reason, ERROR_MAX_CHARS))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Queues a dead or cancelled job again, with its attempts reset (the last error
    /// stays visible until the next attempt). False when the job is in another state.
    pub async fn retry_job(&self, id: i64, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_after = $1, \
             finished_at = NULL, updated_at = $1 \
             WHERE id = $2 AND status IN ('dead', 'cancelled')",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// Cancels a job that has not started; false when it is not queued (running jobs
    /// run to their end).
    pub async fn cancel_job(&self, id: i64, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'queued'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    /// Records how far a running job has come (`done` of `total`, and a note).
    pub async fn job_progress(&self, id: i64, done: i64, total: i64, note: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET progress_done = $1, progress_total = $2, progress_note = $3 \
             WHERE id = $4 AND status = 'running'",
        )
        .bind(done)
        .bind(total)
        .bind(cut(note, 500))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn job(&self, id: i64) -> Result<Job> {
        let row: JobRow = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    /// Jobs matching `filter`, newest first.
    pub async fn jobs_list(&self, filter: &JobFilter, limit: i64, offset: i64) -> Result<Vec<Job>> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2) \
             ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(filter.status.map_or("", JobStatus::as_str))
        .bind(filter.kind.as_deref().unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Job::try_from).collect()
    }

    pub async fn count_jobs(&self, filter: &JobFilter) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2)",
        )
        .bind(filter.status.map_or("", JobStatus::as_str))
        .bind(filter.kind.as_deref().unwrap_or(""))
        .fetch_one(&self.pool)
        .await?)
    }

    /// How many jobs are in each status (statuses without jobs are left out).
    pub async fn job_status_counts(&self) -> Result<Vec<(JobStatus, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status")
                .fetch_all(&self.pool)
                .await?;
        let mut counts: Vec<(JobStatus, i64)> = rows
            .into_iter()
            .filter_map(|(s, n)| JobStatus::parse(&s).map(|s| (s, n)))
            .collect();
        counts.sort_by_key(|(s, _)| JobStatus::ALL.iter().position(|x| x == s));
        Ok(counts)
    }

    /// Every kind that has jobs, for the admin list's filter.
    pub async fn job_kinds(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT kind FROM jobs ORDER BY kind")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Deletes done and cancelled jobs finished before `finished_before`, and dead
    /// ones finished before `dead_before`; returns how many.
    pub async fn purge_finished_jobs(&self, finished_before: i64, dead_before: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM jobs WHERE (status IN ('done', 'cancelled') AND finished_at < $1) \
             OR (status = 'dead' AND finished_at < $2)",
        )
        .bind(finished_before)
        .bind(dead_before)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff_secs(1), 30);
        assert_eq!(backoff_secs(2), 60);
        assert_eq!(backoff_secs(3), 120);
        assert_eq!(backoff_secs(7), 1920);
        assert_eq!(backoff_secs(8), 3600);
        assert_eq!(backoff_secs(1000), 3600);
        assert_eq!(backoff_secs(0), 30);
    }

    #[test]
    fn statuses_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("weird"), None);
    }
}
