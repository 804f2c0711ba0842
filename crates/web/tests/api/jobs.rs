//! Background jobs: claiming by concurrent workers and instances, retries with
//! backoff, dead jobs, expired leases, the scheduler across instances, progress, and
//! the admin pages that list, retry and cancel.

use crate::flows::{Visitor, audit_count, enrolled_admin, location, reviewer, server_now};
use crate::support::{TODAY, TestApp, spawn_app};
use greenbridge_store::{JobFilter, JobStatus, NewJob, Store};
use greenbridge_web::config::Config;
use greenbridge_web::jobs::{
    self, JobError, JobRegistry, Period, Progress, Schedule, WorkerOptions, platform,
};
use greenbridge_web::state::AppState;
use reqwest::StatusCode;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Another instance of the application on the same database: its own pool, state and
/// data directory (each instance keeps its own search indexes).
async fn second_instance(app: &TestApp) -> AppState {
    let store = Store::connect(&app.database_url)
        .await
        .expect("second instance connects");
    let data_dir = tempfile::tempdir().expect("second data directory").keep();
    let mut config = Config::new(data_dir);
    config.today = Some(TODAY);
    greenbridge_web::build_state(store, config)
        .await
        .expect("second instance state")
}

fn fast(workers: usize) -> WorkerOptions {
    WorkerOptions {
        workers,
        idle_poll: Duration::from_millis(20),
        ..WorkerOptions::default()
    }
}

async fn enqueue(store: &Store, kind: &str, payload: serde_json::Value) -> i64 {
    store
        .enqueue_job(&NewJob::new(kind, payload, server_now()))
        .await
        .expect("enqueue")
        .expect("a job without a unique key is always enqueued")
}

async fn count(store: &Store, status: JobStatus, kind: &str) -> i64 {
    store
        .count_jobs(&JobFilter {
            status: Some(status),
            kind: Some(kind.to_string()),
        })
        .await
        .expect("count jobs")
}

/// Waits until `check` holds, for at most 30 s.
async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Deserialize)]
struct Numbered {
    n: u32,
}

/// A registry whose `test.count` jobs record their number in `runs`.
fn counting_registry(runs: Arc<Mutex<HashMap<u32, u32>>>) -> JobRegistry {
    let mut registry = JobRegistry::new();
    registry.register_typed("test.count", move |_ctx, payload: Numbered| {
        let runs = runs.clone();
        async move {
            *runs.lock().unwrap().entry(payload.n).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(())
        }
    });
    registry
}

#[tokio::test]
async fn concurrent_claims_from_four_instances_never_hand_out_a_job_twice() {
    let app = spawn_app().await;
    const JOBS: usize = 80;
    let mut ids = Vec::new();
    for n in 0..JOBS {
        ids.push(enqueue(&app.store, "test.race", serde_json::json!({ "n": n })).await);
    }
    // Four pools on one database: four instances racing for the same rows.
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = Store::connect(&app.database_url).await.expect("connect");
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            let worker = format!("race-{w}");
            while let Some(job) = store
                .claim_job(&worker, server_now(), 300)
                .await
                .expect("claim")
            {
                assert_eq!(job.status, JobStatus::Running);
                assert_eq!(job.locked_by.as_deref(), Some(worker.as_str()));
                claimed.push(job.id);
                store
                    .complete_job(job.id, server_now())
                    .await
                    .expect("complete");
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for worker in workers {
        let claimed = worker.await.expect("worker task");
        per_worker.push(claimed.len());
        all.extend(claimed);
    }
    all.sort_unstable();
    assert_eq!(
        all, ids,
        "every job claimed exactly once (per worker: {per_worker:?})"
    );
    assert_eq!(
        count(&app.store, JobStatus::Done, "test.race").await,
        JOBS as i64
    );
}

#[tokio::test]
async fn each_of_many_jobs_runs_exactly_once_with_four_workers_on_two_instances() {
    let app = spawn_app().await;
    const JOBS: u32 = 60;
    for n in 0..JOBS {
        enqueue(&app.store, "test.count", serde_json::json!({ "n": n })).await;
    }
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let other = second_instance(&app).await;
    let a = jobs::spawn_workers_with(app.state.clone(), counting_registry(runs.clone()), fast(2));
    let b = jobs::spawn_workers_with(other, counting_registry(runs.clone()), fast(2));
    wait_until("all jobs done", || async {
        count(&app.store, JobStatus::Done, "test.count").await == i64::from(JOBS)
    })
    .await;
    a.shutdown(Duration::from_secs(5)).await;
    b.shutdown(Duration::from_secs(5)).await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), JOBS as usize);
    assert!(runs.values().all(|&r| r == 1), "a job ran twice: {runs:?}");
    for job in app
        .store
        .jobs_list(&JobFilter::default(), 1000, 0)
        .await
        .unwrap()
    {
        assert_eq!(
            job.attempts, 1,
            "job {} took {} attempts",
            job.id, job.attempts
        );
        assert!(job.finished_at.is_some());
        assert!(job.locked_by.is_none());
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_with_exponential_backoff_then_dead_with_its_error() {
    let app = spawn_app().await;
    let store = &app.store;
    let t = server_now();
    let id = store
        .enqueue_job(&NewJob::new("test.flaky", serde_json::json!({}), t).max_attempts(3))
        .await
        .unwrap()
        .unwrap();

    let job = store.claim_job("w", t, 60).await.unwrap().expect("due");
    assert_eq!((job.id, job.attempts), (id, 1));
    assert_eq!(
        store.fail_job(id, "超时 1", t).await.unwrap(),
        JobStatus::Queued
    );
    let job = store.job(id).await.unwrap();
    assert_eq!(job.run_after, t + 30);
    assert_eq!(job.last_error.as_deref(), Some("超时 1"));

    assert!(
        store.claim_job("w", t + 29, 60).await.unwrap().is_none(),
        "not before the backoff"
    );
    let job = store
        .claim_job("w", t + 30, 60)
        .await
        .unwrap()
        .expect("due after 30 s");
    assert_eq!(job.attempts, 2);
    assert_eq!(
        store.fail_job(id, "超时 2", t + 30).await.unwrap(),
        JobStatus::Queued
    );
    assert_eq!(
        store.job(id).await.unwrap().run_after,
        t + 30 + 60,
        "twice as long"
    );

    assert!(store.claim_job("w", t + 89, 60).await.unwrap().is_none());
    let job = store
        .claim_job("w", t + 90, 60)
        .await
        .unwrap()
        .expect("due after 60 s more");
    assert_eq!(job.attempts, 3);
    assert_eq!(
        store.fail_job(id, "超时 3", t + 90).await.unwrap(),
        JobStatus::Dead
    );
    let job = store.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert_eq!(job.last_error.as_deref(), Some("超时 3"));
    assert_eq!(job.finished_at, Some(t + 90));
    assert!(
        store
            .claim_job("w", t + 100_000, 60)
            .await
            .unwrap()
            .is_none(),
        "dead stays dead"
    );
}

#[tokio::test]
async fn the_runner_retries_a_failing_handler_and_marks_it_dead_after_the_last_attempt() {
    let app = spawn_app().await;
    let mut registry = JobRegistry::new();
    registry.register("test.down", |_ctx| async {
        Err(JobError::Retry("对方服务器无响应".into()))
    });
    let id = app
        .store
        .enqueue_job(&NewJob::new("test.down", serde_json::json!({}), server_now()).max_attempts(2))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        jobs::drain(&app.state, &registry).await,
        1,
        "one attempt, then not yet due"
    );
    let job = app.store.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("对方服务器无响应"));
    let wait = job.run_after - app.state.clock.unix();
    assert!(
        (25..=30).contains(&wait),
        "first retry in ~30 s, got {wait}"
    );

    // Let the backoff pass.
    sqlx::query("UPDATE jobs SET run_after = 0 WHERE id = $1")
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(jobs::drain(&app.state, &registry).await, 1);
    let job = app.store.job(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert_eq!(job.attempts, 2);
    assert_eq!(job.last_error.as_deref(), Some("对方服务器无响应"));
}

#[tokio::test]
async fn a_payload_that_cannot_be_read_goes_dead_with_the_reason_and_the_next_job_runs() {
    let app = spawn_app().await;
    let runs = Arc::new(Mutex::new(HashMap::new()));
    let registry = counting_registry(runs.clone());
    let bad = enqueue(&app.store, "test.count", serde_json::json!({ "n": "七" })).await;
    let missing = enqueue(&app.store, "test.count", serde_json::json!({})).await;
    let good = enqueue(&app.store, "test.count", serde_json::json!({ "n": 7 })).await;

    assert_eq!(jobs::drain(&app.state, &registry).await, 3);
    for id in [bad, missing] {
        let job = app.store.job(id).await.unwrap();
        assert_eq!(job.status, JobStatus::Dead, "job {id}");
        assert_eq!(job.attempts, 1, "no retries for an unreadable payload");
        let error = job.last_error.unwrap_or_default();
        assert!(error.starts_with("payload cannot be read"), "{error}");
    }
    assert!(
        app.store
            .job(bad)
            .await
            .unwrap()
            .last_error
            .unwrap()
            .contains("invalid type"),
        "the reason says what is wrong"
    );
    assert_eq!(app.store.job(good).await.unwrap().status, JobStatus::Done);
    assert_eq!(runs.lock().unwrap().get(&7), Some(&1));
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_goes_dead_and_a_panicking_handler_is_retried() {
    let app = spawn_app().await;
    let mut registry = JobRegistry::new();
    registry.register("test.panic", |_ctx| async { panic!("boom") });
    let unknown = enqueue(&app.store, "test.nobody", serde_json::json!({})).await;
    let panics = enqueue(&app.store, "test.panic", serde_json::json!({})).await;

    assert_eq!(jobs::drain(&app.state, &registry).await, 2);
    let job = app.store.job(unknown).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert_eq!(
        job.last_error.as_deref(),
        Some("no handler for kind test.nobody")
    );
    let job = app.store.job(panics).await.unwrap();
    assert_eq!(
        job.status,
        JobStatus::Queued,
        "a panic is one failed attempt"
    );
    assert_eq!(job.last_error.as_deref(), Some("handler panicked"));
}

#[tokio::test]
async fn a_job_whose_lease_expired_is_claimed_again_by_another_worker() {
    let app = spawn_app().await;
    let store = &app.store;
    let t = server_now();
    let id = enqueue(store, "test.lease", serde_json::json!({})).await;
    let job = store.claim_job("host-a-1", t, 60).await.unwrap().unwrap();
    assert_eq!(job.locked_until, Some(t + 60));

    assert!(
        store
            .claim_job("host-b-1", t + 30, 60)
            .await
            .unwrap()
            .is_none(),
        "leased to a live worker"
    );
    // A worker that is alive renews its lease.
    assert!(
        store
            .extend_job_lease(id, "host-a-1", t + 90)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_job("host-b-1", t + 61, 60)
            .await
            .unwrap()
            .is_none()
    );

    // host-a died: after its lease ran out, host-b gets the job.
    let job = store
        .claim_job("host-b-1", t + 91, 60)
        .await
        .unwrap()
        .expect("re-claimed");
    assert_eq!(job.id, id);
    assert_eq!(job.attempts, 2);
    assert_eq!(job.locked_by.as_deref(), Some("host-b-1"));
    assert!(job.last_error.unwrap_or_default().contains("host-a-1"));
    // The dead worker can no longer renew what is not its job.
    assert!(
        !store
            .extend_job_lease(id, "host-a-1", t + 200)
            .await
            .unwrap()
    );

    // A job on its last attempt whose worker died is dead, not run a further time.
    let last = store
        .enqueue_job(&NewJob::new("test.lease", serde_json::json!({}), t).max_attempts(1))
        .await
        .unwrap()
        .unwrap();
    store.complete_job(id, t + 92).await.unwrap();
    let job = store
        .claim_job("host-b-1", t + 92, 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, last);
    assert_eq!(store.requeue_expired_jobs(t + 200).await.unwrap(), 1);
    let job = store.job(last).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert!(job.last_error.unwrap_or_default().contains("lease expired"));
}

#[tokio::test]
async fn the_scheduler_of_two_instances_enqueues_each_period_once() {
    let app = spawn_app().await;
    let other = second_instance(&app).await;
    let schedules = vec![
        Schedule {
            kind: "test.quarter",
            every: Period::Minutes(15),
        },
        Schedule {
            kind: "test.nightly",
            every: Period::DailyAt { hour: 2, minute: 0 },
        },
    ];
    // A minute into a quarter hour, so that `now + 60` below stays in the same period
    // whatever the time of day the test runs.
    let now = Period::Minutes(15).start_of(server_now()) + 60;
    // Both instances tick at once, several times.
    let mut ticks = Vec::new();
    for state in [app.state.clone(), other.clone()] {
        for _ in 0..3 {
            let store = state.store.clone();
            let schedules = schedules.clone();
            ticks.push(tokio::spawn(async move {
                jobs::schedule::tick(&store, &schedules, now)
                    .await
                    .expect("tick")
            }));
        }
    }
    let mut enqueued = 0;
    for tick in ticks {
        enqueued += tick.await.unwrap();
    }
    assert_eq!(enqueued, 2, "one job per schedule, whoever ticked first");
    assert_eq!(
        count(&app.store, JobStatus::Queued, "test.quarter").await,
        1
    );
    assert_eq!(
        count(&app.store, JobStatus::Queued, "test.nightly").await,
        1
    );
    let quarter = &app
        .store
        .jobs_list(
            &JobFilter {
                status: None,
                kind: Some("test.quarter".into()),
            },
            10,
            0,
        )
        .await
        .unwrap()[0];
    let start = Period::Minutes(15).start_of(now);
    assert_eq!(
        quarter.unique_key.as_deref(),
        Some(format!("test.quarter@{start}").as_str())
    );
    assert_eq!(
        quarter.payload::<serde_json::Value>().unwrap(),
        serde_json::json!({ "period_start": start })
    );

    // Running or done, the period's job is not enqueued again; the next period's is.
    jobs::drain(&app.state, &JobRegistry::new()).await;
    assert_eq!(
        jobs::schedule::tick(&other.store, &schedules, now + 60)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        jobs::schedule::tick(&other.store, &schedules, start + 15 * 60)
            .await
            .unwrap(),
        1
    );

    // The schedulers that `start_with` runs do the same on their own.
    let started: Vec<_> = [app.state.clone(), other.clone()]
        .into_iter()
        .map(|state| {
            jobs::start_with(
                state,
                JobRegistry::new(),
                vec![Schedule {
                    kind: "test.started",
                    every: Period::Minutes(60),
                }],
                WorkerOptions {
                    workers: 0,
                    schedule_tick: Duration::from_millis(20),
                    ..WorkerOptions::default()
                },
            )
        })
        .collect();
    wait_until("the started scheduler enqueues", || async {
        count(&app.store, JobStatus::Queued, "test.started").await > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        count(&app.store, JobStatus::Queued, "test.started").await,
        1
    );
    drop(started);
}

#[tokio::test]
async fn the_periodic_purges_delete_idle_sessions_and_old_login_failures() {
    let app = spawn_app().await;
    let account = crate::flows::insert_account(
        &app,
        "purge@example.com",
        "清理测试",
        greenbridge_domain::role::Role::Reviewer,
        Some("320000"),
        crate::flows::PASSWORD,
    )
    .await;
    let now = app.state.clock.unix();
    let idle = now - (app.state.config.idle_timeout_minutes + 1) * 60;
    app.store
        .create_session("idle-token", account, true, "127.0.0.1", "test", idle)
        .await
        .unwrap();
    app.store
        .create_session("fresh-token", account, true, "127.0.0.1", "test", now)
        .await
        .unwrap();
    app.store
        .record_login_failure("someone", "10.0.0.1", now - 2 * 86_400)
        .await
        .unwrap();
    app.store
        .record_login_failure("someone", "10.0.0.1", now - 60)
        .await
        .unwrap();

    let enqueued = jobs::schedule::tick(&app.store, &platform::schedules(), now)
        .await
        .unwrap();
    assert!(
        enqueued >= 3,
        "sessions, login failures and jobs purges: {enqueued}"
    );
    assert!(jobs::drain(&app.state, &platform::registry()).await >= 3);
    for kind in [
        platform::SESSIONS_PURGE,
        platform::LOGIN_FAILURES_PURGE,
        platform::JOBS_PURGE,
    ] {
        assert_eq!(count(&app.store, JobStatus::Done, kind).await, 1, "{kind}");
    }
    assert!(app.store.session("idle-token").await.unwrap().is_none());
    assert!(app.store.session("fresh-token").await.unwrap().is_some());
    assert_eq!(app.count_rows("login_failures").await, 1);
}

#[tokio::test]
async fn progress_is_written_at_most_once_a_second_and_the_last_value_is_kept() {
    let app = spawn_app().await;
    let id = enqueue(&app.store, "test.progress", serde_json::json!({})).await;
    app.store
        .claim_job("w", server_now(), 60)
        .await
        .unwrap()
        .unwrap();
    let progress = Progress::new(app.store.clone(), id);
    let shown = || async { app.store.job(id).await.unwrap().progress_done };

    progress.set(1, 100, "开始").await;
    assert_eq!(shown().await, Some(1), "the first value is written at once");
    for done in 2..=50 {
        progress.set(done, 100, "导入中").await;
    }
    assert_eq!(shown().await, Some(1), "then at most one write a second");
    progress.flush().await;
    assert_eq!(
        shown().await,
        Some(50),
        "the held-back value is written at the end"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    progress.set(60, 100, "导入中").await;
    let job = app.store.job(id).await.unwrap();
    assert_eq!(
        (job.progress_done, job.progress_total),
        (Some(60), Some(100))
    );
    assert_eq!(job.progress_note, "导入中");
}

#[tokio::test]
async fn a_running_job_shows_its_progress_on_a_page_that_reloads_itself() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.com").await.visitor;
    let release = Arc::new(tokio::sync::Notify::new());
    let mut registry = JobRegistry::new();
    let gate = release.clone();
    registry.register("test.import", move |ctx| {
        let gate = gate.clone();
        async move {
            ctx.progress.set(3, 10, "第 3 批").await;
            gate.notified().await;
            ctx.progress.set(10, 10, "完成").await;
            Ok(())
        }
    });
    let id = enqueue(
        &app.store,
        "test.import",
        serde_json::json!({ "file": "名录.xlsx" }),
    )
    .await;
    let workers = jobs::spawn_workers_with(app.state.clone(), registry, fast(1));
    wait_until("progress reported", || async {
        app.store.job(id).await.unwrap().progress_done == Some(3)
    })
    .await;

    let (status, html) = admin.get_html(&format!("/admin/jobs/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(r#"<meta http-equiv="refresh" content="2">"#),
        "{html}"
    );
    assert!(html.contains("运行中"));
    assert!(
        html.contains(r#"<progress id="job-progress" value="3" max="10">"#),
        "{html}"
    );
    assert!(html.contains("第 3 批"));
    assert!(html.contains("名录.xlsx"), "the payload is shown");
    let (status, list) = admin.get_html("/admin/jobs?status=running").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(r#"<progress value="3" max="10">"#), "{list}");
    assert!(list.contains("test.import"));

    release.notify_one();
    wait_until("job done", || async {
        app.store.job(id).await.unwrap().status == JobStatus::Done
    })
    .await;
    workers.shutdown(Duration::from_secs(5)).await;
    let (_, html) = admin.get_html(&format!("/admin/jobs/{id}")).await;
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a finished job's page stays put"
    );
    assert!(html.contains("已完成"));
    assert!(
        html.contains(r#"value="10" max="10""#),
        "the last progress is kept"
    );
}

#[tokio::test]
async fn admins_retry_dead_jobs_and_cancel_queued_ones_and_both_are_audited() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.com").await.visitor;
    let dead = enqueue(&app.store, "test.import", serde_json::json!({})).await;
    app.store.claim_job("w", server_now(), 60).await.unwrap();
    app.store
        .kill_job(dead, "文件格式无法识别", server_now())
        .await
        .unwrap();
    let queued = enqueue(&app.store, "test.mail", serde_json::json!({})).await;

    let (status, html) = admin.get_html("/admin/jobs").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for text in [
        "已失败",
        "排队中",
        "文件格式无法识别",
        "test.import",
        "test.mail",
        "1 / 5",
    ] {
        assert!(html.contains(text), "{text} missing from:\n{html}");
    }
    let (_, dashboard) = admin.get_html("/admin").await;
    assert!(dashboard.contains(r#"href="/admin/jobs""#));

    let response = admin
        .post_form(&format!("/admin/jobs/{dead}/retry"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/jobs?done=retried");
    let job = app.store.job(dead).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
    assert_eq!(audit_count(&app, "job.retry", "success").await, 1);

    let response = admin
        .post_form(
            &format!("/admin/jobs/{queued}/cancel"),
            &[("back", "detail")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        format!("/admin/jobs/{queued}?done=cancelled")
    );
    assert_eq!(
        app.store.job(queued).await.unwrap().status,
        JobStatus::Cancelled
    );
    assert_eq!(audit_count(&app, "job.cancel", "success").await, 1);
    let (_, html) = admin
        .get_html(&format!("/admin/jobs/{queued}?done=cancelled"))
        .await;
    assert!(
        html.contains("已取消") && html.contains("任务已取消。"),
        "{html}"
    );

    // Cancelling twice changes nothing, and says so; the attempt is audited as failed.
    let response = admin
        .post_form(&format!("/admin/jobs/{queued}/cancel"), &[])
        .await;
    assert_eq!(location(&response), "/admin/jobs?done=not_cancellable");
    assert_eq!(audit_count(&app, "job.cancel", "failure").await, 1);
    // A queued job is not "retried".
    let response = admin
        .post_form(&format!("/admin/jobs/{dead}/retry"), &[])
        .await;
    assert_eq!(location(&response), "/admin/jobs?done=not_retryable");

    // The filters.
    let (_, html) = admin.get_html("/admin/jobs?status=cancelled").await;
    assert!(
        html.contains("test.mail") && !html.contains(r#"<td>test.import</td>"#),
        "{html}"
    );
    let (_, html) = admin.get_html("/admin/jobs?kind=test.import").await;
    assert!(html.contains("<td>test.import</td>") && !html.contains("<td>test.mail</td>"));
    assert!(html.contains("共 1 个任务"));

    // A job that does not exist, and a request without a CSRF token.
    assert_eq!(
        admin.get("/admin/jobs/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    let response = admin
        .client
        .post(admin.url(&format!("/admin/jobs/{dead}/cancel")))
        .form(&[("back", "detail")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.job(dead).await.unwrap().status, JobStatus::Queued);
}

#[tokio::test]
async fn only_admins_open_the_jobs_pages() {
    let app = spawn_app().await;
    let id = enqueue(&app.store, "test.mail", serde_json::json!({})).await;
    let reviewer = reviewer(&app, "reviewer@example.com", "320000").await;
    for path in ["/admin/jobs".to_string(), format!("/admin/jobs/{id}")] {
        assert_eq!(
            reviewer.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let response = reviewer
        .post_form(&format!("/admin/jobs/{id}/cancel"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.job(id).await.unwrap().status, JobStatus::Queued);
    assert_eq!(audit_count(&app, "job.cancel", "success").await, 0);

    let anonymous = Visitor::new(&app);
    let response = anonymous.get("/admin/jobs").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fadmin%2Fjobs");
}
