//! 文件管理 (`/admin/files`): the admins' generic upload — training videos, import
//! files, attachments — with a list and downloads. It accepts every [`FileKind`] up to
//! `upload_max_mb` (a setting, default 1 GiB), so it is also the route the 500 MB upload
//! benchmark (`scripts/bench-upload.sh`) measures. Uploads, refusals and downloads are
//! written to the audit log.
//!
//! The body limit depends on the setting, which the router does not know when it is
//! built: the route switches axum's default limit off and the handler wraps the body
//! in a limit of its own (`http_body_util::Limited`), which axum's multipart parser
//! reports as 413 like the default one.

use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy, format_size};
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::Outcome;
use serde::Deserialize;

/// Key prefix of these files in the file store.
const KEY_PREFIX: &str = "admin";
const PAGE_SIZE: i64 = 100;

fn policy(state: &AppState) -> UploadPolicy {
    UploadPolicy {
        allowed: &FileKind::ALL,
        max_bytes: state.config.upload_max_mb.saturating_mul(1024 * 1024),
    }
}

pub struct FileItem {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub size: String,
    pub sha256: String,
    pub sha256_short: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_files.html")]
struct FilesPage {
    page: Page,
    items: Vec<FileItem>,
    allowed: String,
    accept: String,
    limit: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    auth: &Authenticated,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<String> {
    let items = state
        .store
        .list_files(&format!("{KEY_PREFIX}/"), PAGE_SIZE, 0)
        .await?
        .into_iter()
        .map(|f| FileItem {
            id: f.id,
            name: f.original_name,
            kind: f.kind.label(),
            size: format_size(f.size),
            sha256_short: f.sha256.chars().take(12).collect(),
            sha256: f.sha256,
            created: format_unix_zh(f.created_at),
        })
        .collect();
    let policy = policy(state);
    let page = Page::new(state, &auth.1, "文件管理").await;
    Ok(FilesPage {
        page,
        items,
        allowed: policy.allowed_labels(),
        accept: policy.accept_attribute(),
        limit: format_size(policy.max_bytes),
        notice,
        error,
    }
    .render()?)
}

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<ListQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let notice = match query.done {
        Some(id) => match state.store.file(id).await {
            Ok(file) => Some(format!(
                "已上传“{}”（{}，{}）。",
                file.original_name,
                file.kind.label(),
                format_size(file.size)
            )),
            Err(_) => None,
        },
        None => None,
    };
    Ok(Html(render(&state, &auth, notice, None).await?))
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Authenticated,
    request: Request,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let policy = policy(&state);
    let request =
        request.map(|body| Body::new(http_body_util::Limited::new(body, policy.body_limit())));
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| AppError::bad_request("file", "请以表单方式上传文件"))?;
    let mut outcome: Option<Result<greenbridge_store::FileRecord, UploadError>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                outcome = Some(Err(UploadError::TooLarge {
                    limit: policy.max_bytes,
                }));
                break;
            }
            Err(_) => {
                outcome = Some(Err(UploadError::Interrupted));
                break;
            }
        };
        if field.name() != Some("file") || outcome.is_some() {
            continue;
        }
        if field.file_name().is_none_or(str::is_empty) {
            continue;
        }
        outcome = Some(
            uploads::receive(&state, field, &policy, KEY_PREFIX, Some(viewer.account.id)).await,
        );
        if matches!(outcome, Some(Err(_))) {
            // Stop reading: the rest of a refused body is not wanted.
            break;
        }
    }
    let error = match outcome {
        Some(Ok(file)) => {
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "file.upload",
                &format!("file:{}", file.id),
                Outcome::Success,
                &format!(
                    "{} {} {} sha256:{}",
                    file.original_name,
                    file.kind.as_str(),
                    file.size,
                    file.sha256
                ),
            )
            .await?;
            return Ok(Redirect::to(&format!("/admin/files?done={}", file.id)).into_response());
        }
        Some(Err(UploadError::Internal(cause))) => return Err(AppError::Internal(cause)),
        Some(Err(refused)) => refused,
        None => UploadError::Empty,
    };
    let message = match &error {
        UploadError::Empty => "请选择要上传的文件".to_string(),
        other => other.to_string(),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "file.upload",
        "file",
        Outcome::Failure,
        &message,
    )
    .await?;
    let html = render(&state, &auth, None, Some(message)).await?;
    Ok(rendered(error.status(), Html(html)))
}

pub async fn download(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?;
    let file = state.store.file(id).await?;
    if !file.storage_key.starts_with(&format!("{KEY_PREFIX}/")) {
        // Other areas' files (licence scans …) are served by their own routes.
        return Err(AppError::NotFound);
    }
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "file.download",
        &format!("file:{id}"),
        Outcome::Success,
        headers
            .get(axum::http::header::RANGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
    .await?;
    downloads::serve_file(&state, &file, &headers, None).await
}
