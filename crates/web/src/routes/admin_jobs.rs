//! Admin pages for background jobs: the list (filter by status and kind, paging),
//! one job with its progress (the page reloads itself while the job runs), and
//! retry / cancel, both written to the audit log.

use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::AppResult;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{Job, JobFilter, JobStatus, Outcome};
use serde::Deserialize;

const PAGE_SIZE: i64 = 50;
/// A queued job due within this many seconds keeps its page reloading too.
const REFRESH_AHEAD_SECS: i64 = 10;

/// One job as the pages show it.
pub struct JobView {
    pub job: Job,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub created: String,
    pub next_run: String,
    pub finished: String,
    pub locked_until: String,
    /// `done/total` and a percentage, when the job reported progress.
    pub progress: Option<ProgressView>,
    pub can_retry: bool,
    pub can_cancel: bool,
}

pub struct ProgressView {
    pub done: i64,
    pub total: i64,
    pub percent: i64,
    pub note: String,
}

impl JobView {
    fn new(job: Job) -> JobView {
        let progress = job.progress_done.map(|done| {
            let total = job.progress_total.unwrap_or(0).max(0);
            ProgressView {
                done,
                total,
                percent: if total > 0 {
                    (done.clamp(0, total) * 100) / total
                } else {
                    0
                },
                note: job.progress_note.clone(),
            }
        });
        JobView {
            status_label: job.status.label_zh(),
            status_class: match job.status {
                JobStatus::Queued => "job-queued",
                JobStatus::Running => "job-running",
                JobStatus::Done => "job-done",
                JobStatus::Dead => "job-dead",
                JobStatus::Cancelled => "job-cancelled",
            },
            created: format_unix_zh(job.created_at),
            next_run: if job.status == JobStatus::Queued {
                format_unix_zh(job.run_after)
            } else {
                String::new()
            },
            finished: job.finished_at.map(format_unix_zh).unwrap_or_default(),
            locked_until: job.locked_until.map(format_unix_zh).unwrap_or_default(),
            progress,
            can_retry: matches!(job.status, JobStatus::Dead | JobStatus::Cancelled),
            can_cancel: job.status == JobStatus::Queued,
            job,
        }
    }
}

pub struct StatusChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    page: Page,
    statuses: Vec<StatusChoice>,
    kinds: Vec<(String, bool)>,
    rows: Vec<JobView>,
    total: i64,
    page_number: i64,
    has_next: bool,
    query_string: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct JobsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    page: Option<i64>,
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("retried") => Some("任务已重新排队。"),
        Some("cancelled") => Some("任务已取消。"),
        Some("not_retryable") => Some("只有已失败或已取消的任务可以重试。"),
        Some("not_cancellable") => Some("只有排队中的任务可以取消；运行中的任务会运行到结束。"),
        _ => None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<JobsQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let status = JobStatus::parse(query.status.trim());
    let kind = Some(query.kind.trim().to_string()).filter(|k| !k.is_empty());
    let filter = JobFilter {
        status,
        kind: kind.clone(),
    };
    let page_number = query.page.unwrap_or(1).max(1);
    let total = state.store.count_jobs(&filter).await?;
    let jobs = state
        .store
        .jobs_list(&filter, PAGE_SIZE, (page_number - 1) * PAGE_SIZE)
        .await?;
    let counts = state.store.job_status_counts().await?;
    let statuses = JobStatus::ALL
        .iter()
        .map(|s| StatusChoice {
            value: s.as_str(),
            label: s.label_zh(),
            selected: status == Some(*s),
            count: counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n),
        })
        .collect();
    let kinds = state
        .store
        .job_kinds()
        .await?
        .into_iter()
        .map(|k| {
            let selected = kind.as_deref() == Some(k.as_str());
            (k, selected)
        })
        .collect();
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("status", status.map_or("", JobStatus::as_str))
        .append_pair("kind", kind.as_deref().unwrap_or(""))
        .finish();
    let page = Page::new(&state, &auth.1, "后台任务").await;
    Ok(Html(
        JobsPage {
            page,
            statuses,
            kinds,
            rows: jobs.into_iter().map(JobView::new).collect(),
            total,
            has_next: page_number * PAGE_SIZE < total,
            page_number,
            query_string,
            notice: notice(query.done.as_deref()),
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "admin_job.html")]
struct JobPage {
    page: Page,
    view: JobView,
    payload: String,
    refresh: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<DoneQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let job = state.store.job(id).await?;
    let now = state.clock.unix();
    let refresh = job.status == JobStatus::Running
        || (job.status == JobStatus::Queued && job.run_after <= now + REFRESH_AHEAD_SECS);
    let payload = serde_json::from_str::<serde_json::Value>(&job.payload_json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| job.payload_json.clone());
    let page = Page::new(&state, &auth.1, format!("后台任务 #{id}")).await;
    Ok(Html(
        JobPage {
            page,
            view: JobView::new(job),
            payload,
            refresh,
            notice: notice(query.done.as_deref()),
        }
        .render()?,
    ))
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    /// Where to go back to: the list (default) or the job's page.
    #[serde(default)]
    back: String,
}

fn back_to(form: &ActionForm, id: i64, done: &str) -> String {
    if form.back == "detail" {
        format!("/admin/jobs/{id}?done={done}")
    } else {
        format!("/admin/jobs?done={done}")
    }
}

/// What an admin can do to a job from its pages.
#[derive(Clone, Copy)]
enum JobAction {
    /// A dead or cancelled job runs again, its attempts reset.
    Retry,
    /// A queued job will not run.
    Cancel,
}

pub async fn retry(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ActionForm>,
) -> AppResult<Response> {
    act(state, auth, id, form, JobAction::Retry).await
}

pub async fn cancel(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ActionForm>,
) -> AppResult<Response> {
    act(state, auth, id, form, JobAction::Cancel).await
}

/// Applies `action`, audits it (a failure when the job was in the wrong state) and
/// returns to the page the admin came from.
async fn act(
    state: AppState,
    auth: Authenticated,
    id: i64,
    form: ActionForm,
    action: JobAction,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let job = state.store.job(id).await?;
    let now = state.clock.unix();
    let (applied, audit_action, done, refused) = match action {
        JobAction::Retry => (
            state.store.retry_job(id, now).await?,
            "job.retry",
            "retried",
            "not_retryable",
        ),
        JobAction::Cancel => (
            state.store.cancel_job(id, now).await?,
            "job.cancel",
            "cancelled",
            "not_cancellable",
        ),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        audit_action,
        &format!("job:{id}"),
        if applied {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        &format!("kind={} status={}", job.kind, job.status.as_str()),
    )
    .await?;
    let done = if applied { done } else { refused };
    Ok(Redirect::to(&back_to(&form, id, done)).into_response())
}
