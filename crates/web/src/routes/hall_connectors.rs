//! 管理 → 公告采集: the notice sources (configuration), their runs (fetched, new,
//! updated, unchanged, failed with reasons), adding a source, switching one off and
//! running one now. The scheduled job runs every enabled source that is due.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::role::Permission;
use greenbridge_ingest::notices::connector::{self, FetchPolicy};
use greenbridge_store::connectors::{ConnectorRun, NewConnectorSource};
use greenbridge_store::{NewJob, Outcome, StoreError};
use serde::Deserialize;

use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::AppResult;
use crate::jobs::{JobContext, JobError, JobResult};
use crate::page::Page;
use crate::state::AppState;

/// Runs every due source (scheduled hourly; each source's own schedule decides).
pub const DUE_JOB: &str = "hall.connectors";
/// Runs one source now (payload `{"source_id": N}`).
pub const RUN_JOB: &str = "hall.connector_run";

pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub site: String,
    pub list_url: String,
    pub link_pattern: String,
    pub schedule: String,
    pub delay_ms: i64,
    pub enabled: bool,
    pub runs: Vec<RunRow>,
}

pub struct RunRow {
    pub started: String,
    pub finished: bool,
    pub fetched: i64,
    pub new_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub failed: i64,
    pub failures: Vec<String>,
}

impl From<ConnectorRun> for RunRow {
    fn from(r: ConnectorRun) -> Self {
        RunRow {
            started: greenbridge_domain::time::format_unix_zh(r.started_at),
            finished: r.finished_at.is_some(),
            fetched: r.fetched,
            new_count: r.new_count,
            updated_count: r.updated_count,
            unchanged_count: r.unchanged_count,
            failed: r.failed,
            failures: r.failures.lines().take(20).map(str::to_string).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_connectors.html")]
struct ConnectorsPage {
    page: Page,
    sources: Vec<SourceRow>,
    notice: Option<String>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    auth: &Authenticated,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Html<String>> {
    let mut sources = Vec::new();
    for s in state.store.connector_sources().await? {
        let runs = state
            .store
            .connector_runs(Some(s.id), 5)
            .await?
            .into_iter()
            .map(RunRow::from)
            .collect();
        sources.push(SourceRow {
            id: s.id,
            name: s.name,
            site: s.site,
            list_url: s.list_url,
            link_pattern: s.link_pattern,
            schedule: s.schedule,
            delay_ms: s.delay_ms,
            enabled: s.enabled,
            runs,
        });
    }
    let page = Page::new(state, &auth.1, "公告采集").await;
    Ok(Html(
        ConnectorsPage {
            page,
            sources,
            notice,
            error,
        }
        .render()?,
    ))
}

/// `GET /admin/connectors`.
pub async fn list(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    render(&state, &auth, None, None).await
}

#[derive(Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    list_url: String,
    #[serde(default)]
    link_pattern: String,
    #[serde(default)]
    max_pages: String,
    #[serde(default)]
    schedule: String,
    #[serde(default)]
    delay_ms: String,
}

/// `POST /admin/connectors`: adds a source.
pub async fn add(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<SourceForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let name = form.name.trim();
    let list_url = form.list_url.trim();
    let pattern = form.link_pattern.trim();
    let problem = if name.is_empty() || name.chars().count() > 50 {
        Some("请填写来源名称（50 字以内）")
    } else if !(list_url.starts_with("http://") || list_url.starts_with("https://")) {
        Some("列表页地址应以 http:// 或 https:// 开头")
    } else if !connector::valid_pattern(pattern) {
        Some("公告链接规则应为有效的正则表达式")
    } else if !["hourly", "daily", "weekly"].contains(&form.schedule.as_str()) {
        Some("请选择采集频率")
    } else {
        None
    };
    let max_pages = form
        .max_pages
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=50).contains(n));
    let delay_ms = form
        .delay_ms
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (200..=60_000).contains(n));
    let problem = problem
        .or(max_pages.is_none().then_some("列表页数应为 1 到 50"))
        .or(delay_ms
            .is_none()
            .then_some("请求间隔应为 200 到 60000 毫秒"));
    if let Some(p) = problem {
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, &auth, None, Some(p.into())).await?,
        )
            .into_response());
    }
    let site = if form.site.trim().is_empty() {
        name
    } else {
        form.site.trim()
    };
    let id = match state
        .store
        .insert_connector_source(
            &NewConnectorSource {
                name,
                site,
                list_url,
                link_pattern: pattern,
                max_pages: max_pages.unwrap_or(3),
                schedule: &form.schedule,
                delay_ms: delay_ms.unwrap_or(1000),
            },
            state.clock.unix(),
        )
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&state, &auth, None, Some("已有同名来源".into())).await?,
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "connector.add",
        &format!("connector:{id}"),
        Outcome::Success,
        list_url,
    )
    .await?;
    Ok(Redirect::to("/admin/connectors").into_response())
}

/// `POST /admin/connectors/{id}/run`: queues a run of the source now.
pub async fn run_now(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let source = state.store.connector_source(id).await?;
    let now = state.clock.unix();
    state
        .store
        .enqueue_job(&NewJob::new(
            RUN_JOB,
            serde_json::json!({ "source_id": source.id }),
            now,
        ))
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "connector.run",
        &format!("connector:{id}"),
        Outcome::Success,
        &source.name,
    )
    .await?;
    Ok(render(
        &state,
        &auth,
        Some(format!(
            "已安排采集“{}”，稍后刷新本页查看结果。",
            source.name
        )),
        None,
    )
    .await?
    .into_response())
}

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    enabled: String,
}

/// `POST /admin/connectors/{id}/toggle`.
pub async fn toggle(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<ToggleForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    state.store.connector_source(id).await?;
    let enabled = form.enabled == "true";
    state.store.set_connector_enabled(id, enabled).await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        if enabled {
            "connector.enable"
        } else {
            "connector.disable"
        },
        &format!("connector:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/admin/connectors").into_response())
}

/// How this instance fetches: the defaults, trusting the configured roots.
fn fetch_policy(state: &AppState) -> FetchPolicy {
    FetchPolicy {
        roots: state.config.outbound_roots.clone(),
        ..FetchPolicy::default()
    }
}

/// The scheduled job: every enabled source that is due.
pub async fn due_job(ctx: JobContext) -> JobResult {
    let clock = ctx.state.clock;
    let policy = fetch_policy(&ctx.state);
    let runs = connector::run_due(&ctx.state.store, &policy, move || clock.unix()).await?;
    tracing::info!(runs = runs.len(), "notice connectors ran");
    Ok(())
}

#[derive(Deserialize)]
pub struct RunPayload {
    source_id: i64,
}

/// One source now (from the admin page).
pub async fn run_job(ctx: JobContext) -> JobResult {
    let payload: RunPayload = ctx.payload()?;
    let source = match ctx.state.store.connector_source(payload.source_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(JobError::permanent("source no longer exists")),
        Err(e) => return Err(e.into()),
    };
    let clock = ctx.state.clock;
    let policy = fetch_policy(&ctx.state);
    let run = connector::run_source(
        &ctx.state.store,
        &connector::client(&policy),
        &source,
        &policy,
        move || clock.unix(),
    )
    .await?;
    tracing::info!(
        source = source.id,
        fetched = run.fetched,
        new = run.new_count,
        failed = run.failed,
        "notice connector ran"
    );
    Ok(())
}
