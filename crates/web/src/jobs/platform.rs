//! The platform's job kinds and periodic schedules: the one place to register a
//! module's background work (add its handlers to [`registry`] and, when periodic,
//! its schedule to [`schedules`]).

use super::{JobContext, JobRegistry, JobResult, Period, Schedule};

/// Deletes sessions idle longer than the idle timeout.
pub const SESSIONS_PURGE: &str = "sessions.purge";
/// Deletes login failures older than a day (lock-outs look back 15 minutes).
pub const LOGIN_FAILURES_PURGE: &str = "login_failures.purge";
/// Deletes finished jobs: done and cancelled after 7 days, dead after 30.
pub const JOBS_PURGE: &str = "jobs.purge";
/// Deletes search-outbox rows older than 7 days; an instance that was down longer
/// rebuilds its indexes when it starts (it sees that rows it never applied are gone).
pub const SEARCH_OUTBOX_PURGE: &str = "search_outbox.purge";
/// Deletes stored files that no database row records and that are older than a day:
/// what a crash between storing an upload and recording it leaves behind.
pub const FILES_SWEEP: &str = "files.sweep";
/// Rebuilds the search indexes of every instance from the database; the instance that
/// runs the job reports its own rebuild's progress on the job's page.
pub const SEARCH_REINDEX: &str = "search.reindex";

const LOGIN_FAILURES_KEPT_SECS: i64 = 86_400;
const FINISHED_JOBS_KEPT_SECS: i64 = 7 * 86_400;
const DEAD_JOBS_KEPT_SECS: i64 = 30 * 86_400;
const SEARCH_OUTBOX_KEPT_SECS: i64 = 7 * 86_400;
/// An upload is stored, then recorded at once; a day leaves any write in progress
/// (on any instance sharing the store) well alone.
const UNRECORDED_FILE_GRACE: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Every kind the platform handles.
pub fn registry() -> JobRegistry {
    let mut registry = JobRegistry::new();
    registry
        .register(SESSIONS_PURGE, purge_sessions)
        .register(LOGIN_FAILURES_PURGE, purge_login_failures)
        .register(JOBS_PURGE, purge_jobs)
        .register(SEARCH_OUTBOX_PURGE, purge_search_outbox)
        .register(FILES_SWEEP, sweep_files)
        .register(SEARCH_REINDEX, reindex_search)
        .register_typed(crate::notify::EMAIL_JOB, crate::notify::email_job)
        .register(crate::notify::DIGEST_JOB, crate::notify::digest_job)
        .register(crate::notify::SWEEP_JOB, crate::notify::sweep_job)
        .register(
            crate::routes::regulations_manage::STATUS_JOB,
            crate::routes::regulations_manage::status_job,
        )
        .register(
            crate::routes::regulations_manage::FEEDS_JOB,
            crate::routes::regulations_manage::feeds_job,
        )
        .register(
            crate::routes::hall_saved::CHECK_JOB,
            crate::routes::hall_saved::check_job,
        )
        .register(
            crate::routes::hall_connectors::DUE_JOB,
            crate::routes::hall_connectors::due_job,
        )
        .register(
            crate::routes::hall_connectors::RUN_JOB,
            crate::routes::hall_connectors::run_job,
        );
    registry
}

/// Every periodic job of the platform.
pub fn schedules() -> Vec<Schedule> {
    vec![
        Schedule {
            kind: SESSIONS_PURGE,
            every: Period::Minutes(15),
        },
        Schedule {
            kind: LOGIN_FAILURES_PURGE,
            every: Period::DailyAt {
                hour: 3,
                minute: 10,
            },
        },
        Schedule {
            kind: JOBS_PURGE,
            every: Period::DailyAt {
                hour: 3,
                minute: 20,
            },
        },
        Schedule {
            kind: SEARCH_OUTBOX_PURGE,
            every: Period::DailyAt {
                hour: 3,
                minute: 30,
            },
        },
        Schedule {
            kind: FILES_SWEEP,
            every: Period::DailyAt {
                hour: 3,
                minute: 40,
            },
        },
        crate::notify::DIGEST_SCHEDULE,
        crate::notify::SWEEP_SCHEDULE,
        // 标准政策: statuses follow the dates (尚未生效 → 现行有效 on the effective day;
        // the pages compute it too, this keeps rows and index in step), and feeds sync
        // when their own interval has passed.
        Schedule {
            kind: crate::routes::regulations_manage::STATUS_JOB,
            every: Period::Minutes(30),
        },
        Schedule {
            kind: crate::routes::regulations_manage::FEEDS_JOB,
            every: Period::Minutes(60),
        },
        // 需求大厅: saved searches look for new notices and demands.
        Schedule {
            kind: crate::routes::hall_saved::CHECK_JOB,
            every: Period::Minutes(30),
        },
        // 需求大厅: notice connectors (each source's own schedule decides within).
        Schedule {
            kind: crate::routes::hall_connectors::DUE_JOB,
            every: Period::Minutes(60),
        },
    ]
}

async fn purge_search_outbox(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let now = state.clock.unix();
    let deleted = state
        .store
        .purge_outbox_before(now - SEARCH_OUTBOX_KEPT_SECS)
        .await?;
    tracing::info!(deleted, "old search-outbox rows purged");
    Ok(())
}

async fn sweep_files(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    // The file store's times are the machine's, not the platform clock's.
    let before = std::time::SystemTime::now() - UNRECORDED_FILE_GRACE;
    let keys = state
        .files
        .keys_written_before(before)
        .await
        .map_err(super::JobError::retry)?;
    let mut deleted = 0;
    for key in keys {
        if !state.store.file_recorded(key.as_str()).await? {
            state
                .files
                .delete(&key)
                .await
                .map_err(super::JobError::retry)?;
            tracing::warn!(key = %key, "deleted a stored file no row records");
            deleted += 1;
        }
    }
    tracing::info!(deleted, "unrecorded files swept");
    Ok(())
}

async fn reindex_search(ctx: JobContext) -> JobResult {
    let search = ctx.state.search.clone();
    search
        .request_rebuild_everywhere()
        .await
        .map_err(|e| super::JobError::Retry(e.to_string()))?;
    // The next pass sees the new generation and rebuilds; report it while it runs.
    let rebuild = tokio::spawn({
        let search = search.clone();
        async move { search.catch_up().await }
    });
    while !rebuild.is_finished() {
        if let Some((done, total)) = search.rebuild_progress() {
            ctx.progress.set(done as i64, total as i64, "单位").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    match rebuild.await {
        Ok(Ok(_)) => {
            let count = search.organisations.count() as i64;
            ctx.progress.set(count, count, "单位").await;
            Ok(())
        }
        Ok(Err(error)) => Err(super::JobError::Retry(error.to_string())),
        Err(error) => Err(super::JobError::Retry(format!(
            "rebuild task failed: {error}"
        ))),
    }
}

async fn purge_sessions(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let idle_before = state.clock.unix() - state.config.idle_timeout_minutes * 60;
    let deleted = state.store.purge_idle_sessions(idle_before).await?;
    tracing::info!(deleted, "idle sessions purged");
    Ok(())
}

async fn purge_login_failures(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let before = state.clock.unix() - LOGIN_FAILURES_KEPT_SECS;
    let deleted = state.store.purge_login_failures(before).await?;
    tracing::info!(deleted, "old login failures purged");
    Ok(())
}

async fn purge_jobs(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let now = state.clock.unix();
    let deleted = state
        .store
        .purge_finished_jobs(now - FINISHED_JOBS_KEPT_SECS, now - DEAD_JOBS_KEPT_SECS)
        .await?;
    tracing::info!(deleted, "finished jobs purged");
    Ok(())
}
