-- Background jobs: rows that any instance may claim (see crates/store/src/jobs.rs).
-- status: queued | running | done | dead | cancelled.
-- unique_key: NULL for ordinary jobs; set, it makes enqueueing idempotent (the
-- scheduler uses `kind@<period start>` so that a period is enqueued once).
-- Times are UTC unix seconds (BIGINT).

CREATE TABLE jobs (
    id {id},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 5,
    run_after BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    progress_done BIGINT,
    progress_total BIGINT,
    progress_note TEXT NOT NULL DEFAULT '',
    unique_key TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_ready ON jobs (status, run_after);
CREATE INDEX jobs_kind ON jobs (kind, id);
