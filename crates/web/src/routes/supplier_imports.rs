//! 名单导入 (`/admin/imports/suppliers`): admins and association reviewers import the
//! official supplier lists (危险废物经营许可证, 监测机构 CMA, 环评单位) through the
//! same importer as `greenbridge import suppliers`.
//!
//! Two steps, so that nothing is committed unseen:
//! 1. upload (XLSX or CSV, recognised by content, at most [`MAX_BYTES`]): the file is
//!    stored (its id is what the next step refers to) and imported as a dry run; the
//!    page shows that report as the preview — counts, every refused row with its
//!    reason, and the licences the list no longer carries;
//! 2. confirm (a CSRF-protected form carrying the file id and the kind): the same
//!    file is imported for real, in one transaction.
//!
//! The page works while 惠企服务 is switched off for the public: staff prepare the
//! directory's data before it opens.
//!
//! An association reviewer imports for their own province: rows of organisations
//! whose review goes to another province (see `review_queue::route_province`) are
//! refused with the reason, and a list only marks licences of the provinces its
//! good rows are in. Admins import any list.
//!
//! Only the uploader may confirm their file (another account's file id answers 404).
//! Both steps go to the audit log (`supplier_import.preview`, `supplier_import.commit`).

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Viewer};
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::review_queue;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy, format_size};
use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::format_unix_zh;
use greenbridge_ingest::suppliers::{
    ListKind, ParsedList, RunSource, SupplierImport, import_bytes_narrowed,
};
use greenbridge_ingest::{ImportOptions, IngestError};
use greenbridge_store::blob::StorageKey;
use greenbridge_store::{FileRecord, Outcome};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

/// Key prefix of uploaded lists in the file store.
const KEY_PREFIX: &str = "supplier-imports";
/// The largest list accepted (a 100 000-row XLSX is about 10 MB).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
const POLICY: UploadPolicy = UploadPolicy {
    allowed: &[FileKind::Xlsx, FileKind::Csv],
    max_bytes: MAX_BYTES,
};
/// Refused rows shown on a page; the rest are counted.
const REJECTED_SHOWN: usize = 500;

pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn kind_options(selected: &str) -> Vec<KindOption> {
    let mut options = vec![KindOption {
        value: "",
        label: "自动识别",
        selected: selected.is_empty(),
    }];
    for kind in ListKind::ALL {
        options.push(KindOption {
            value: kind.as_str(),
            label: kind.label_zh(),
            selected: selected == kind.as_str(),
        });
    }
    options
}

pub struct RunItem {
    pub id: i64,
    pub kind: &'static str,
    pub file_name: String,
    pub at: String,
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub not_in_latest: i64,
    pub sample: bool,
}

pub struct RejectedItem {
    pub row: String,
    pub field: String,
    pub reason: String,
}

pub struct MarkedItem {
    pub organisation_id: i64,
    pub organisation: String,
    pub number: String,
}

/// A dry-run or committed report, as the page shows it.
pub struct ReportView {
    pub kind_label: &'static str,
    pub kind: &'static str,
    pub file_name: String,
    pub file_id: i64,
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected_total: usize,
    /// Rows that will be (or were) stored.
    pub valid: u64,
    pub rejected: Vec<RejectedItem>,
    pub marked: Vec<MarkedItem>,
    pub committed: bool,
    /// A partial list (补充名单): nothing is marked 不在最新名单.
    pub partial: bool,
}

#[derive(Template)]
#[template(path = "supplier_imports.html")]
struct ImportsPage {
    page: Page,
    kinds: Vec<KindOption>,
    accept: String,
    allowed: String,
    limit: String,
    error: Option<String>,
    report: Option<ReportView>,
    runs: Vec<RunItem>,
}

fn kind_label(kind: &str) -> &'static str {
    ListKind::parse(kind).map_or("名单", ListKind::label_zh)
}

fn kind_static(kind: &str) -> &'static str {
    ListKind::parse(kind).map_or("", ListKind::as_str)
}

async fn render(
    state: &AppState,
    auth: &Authenticated,
    selected_kind: &str,
    error: Option<String>,
    report: Option<ReportView>,
) -> AppResult<String> {
    let runs = state
        .store
        .supplier_import_runs(20)
        .await?
        .into_iter()
        .map(|run| RunItem {
            id: run.id,
            kind: kind_label(&run.kind),
            file_name: run.file_name,
            at: format_unix_zh(run.finished_at),
            read: run.read,
            created: run.created,
            updated: run.updated,
            unchanged: run.unchanged,
            rejected: run.rejected,
            not_in_latest: run.not_in_latest,
            sample: run.sample,
        })
        .collect();
    let page = Page::new(state, &auth.1, "供应商名单导入").await;
    Ok(ImportsPage {
        page,
        kinds: kind_options(selected_kind),
        accept: ".xlsx,.csv".into(),
        allowed: POLICY.allowed_labels(),
        limit: format_size(POLICY.max_bytes),
        error,
        report,
        runs,
    }
    .render()?)
}

pub async fn page(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    auth.require(Permission::ReviewRegistrations)?;
    Ok(Html(render(&state, &auth, "", None, None).await?))
}

/// Reads a stored list back from the file store.
async fn read_file(state: &AppState, file: &FileRecord) -> AppResult<Vec<u8>> {
    let key = StorageKey::parse(&file.storage_key)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored list has an invalid key")))?;
    let opened = state
        .files
        .open(&key, None)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("cannot open a list")))?;
    let mut bytes = Vec::with_capacity(usize::try_from(opened.total_len).unwrap_or(0));
    let mut reader = opened.reader;
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("cannot read a list")))?;
    Ok(bytes)
}

fn view(outcome: &SupplierImport, file: &FileRecord, partial: bool) -> ReportView {
    let report = &outcome.report;
    ReportView {
        partial,
        kind_label: outcome.kind.label_zh(),
        kind: outcome.kind.as_str(),
        file_name: file.original_name.clone(),
        file_id: file.id,
        read: report.read,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        rejected_total: report.rejected.len(),
        valid: report.read.saturating_sub(report.rejected.len() as u64),
        rejected: report
            .rejected
            .iter()
            .take(REJECTED_SHOWN)
            .map(|r| RejectedItem {
                row: r
                    .row
                    .map(|n| n.to_string())
                    .or_else(|| r.file.clone())
                    .unwrap_or_default(),
                field: r.field.clone().unwrap_or_default(),
                reason: r.reason.clone(),
            })
            .collect(),
        marked: outcome
            .not_in_latest
            .iter()
            .map(|m| MarkedItem {
                organisation_id: m.organisation_id,
                organisation: m.organisation_name.clone(),
                number: m.number.clone(),
            })
            .collect(),
        committed: !report.dry_run,
    }
}

/// Runs the importer on a stored list.
async fn run_import(
    state: &AppState,
    viewer: &Viewer,
    file: &FileRecord,
    kind: &str,
    partial: bool,
    dry_run: bool,
) -> AppResult<Result<SupplierImport, String>> {
    let bytes = read_file(state, file).await?;
    let scope = review_queue::scope(viewer)?;
    let options = ImportOptions {
        kind: (!kind.is_empty()).then(|| kind.to_string()),
        dry_run,
        sample: false,
        now: state.clock.unix(),
        actor_account_id: Some(viewer.account.id),
        partial,
    };
    let source = RunSource {
        file_name: file.original_name.clone(),
        file_id: Some(file.id),
    };
    let province_name = scope
        .as_deref()
        .map(|p| RegionTree::embedded().full_name(p));
    let narrow = |parsed: &mut ParsedList| {
        if let (Some(province), Some(name)) = (&scope, &province_name) {
            parsed.keep_provinces(
                |region| review_queue::route_province(&state.config, region) == *province,
                name,
            );
        }
    };
    match import_bytes_narrowed(&state.store, &bytes, &source, &options, narrow).await {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(IngestError::Unreadable(message) | IngestError::Options(message)) => Ok(Err(message)),
        Err(IngestError::Store(error)) => Err(error.into()),
    }
}

/// Step 1: upload and preview (a dry run).
pub async fn upload(
    State(state): State<AppState>,
    auth: Authenticated,
    request: Request,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let request =
        request.map(|body| Body::new(http_body_util::Limited::new(body, POLICY.body_limit())));
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| AppError::bad_request("file", "请以表单方式上传文件"))?;
    let mut kind = String::new();
    let mut partial = false;
    let mut outcome: Option<Result<FileRecord, UploadError>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                outcome = Some(Err(UploadError::TooLarge {
                    limit: POLICY.max_bytes,
                }));
                break;
            }
            Err(_) => {
                outcome = Some(Err(UploadError::Interrupted));
                break;
            }
        };
        match field.name() {
            Some("kind") => {
                kind = field.text().await.unwrap_or_default().trim().to_string();
            }
            Some("partial") => {
                partial = field.text().await.unwrap_or_default().trim() == "true";
            }
            Some("file") if outcome.is_none() => {
                if field.file_name().is_none_or(str::is_empty) {
                    continue;
                }
                outcome = Some(
                    uploads::receive(&state, field, &POLICY, KEY_PREFIX, Some(viewer.account.id))
                        .await,
                );
                if matches!(outcome, Some(Err(_))) {
                    break;
                }
            }
            _ => {}
        }
    }
    let kind = kind_static(&kind).to_string();
    let file = match outcome {
        Some(Ok(file)) => file,
        Some(Err(UploadError::Internal(cause))) => return Err(AppError::Internal(cause)),
        other => {
            let error = other.and_then(Result::err).unwrap_or(UploadError::Empty);
            let message = match &error {
                UploadError::Empty => "请选择要导入的名单文件".to_string(),
                refused => refused.to_string(),
            };
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier_import.preview",
                "file",
                Outcome::Failure,
                &message,
            )
            .await?;
            let html = render(&state, &auth, &kind, Some(message), None).await?;
            return Ok(rendered(error.status(), Html(html)));
        }
    };
    match run_import(&state, &viewer, &file, &kind, partial, true).await? {
        Ok(outcome) => {
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier_import.preview",
                &format!("file:{}", file.id),
                Outcome::Success,
                &format!(
                    "{} {} {}",
                    outcome.kind.as_str(),
                    file.original_name,
                    outcome.report.summary()
                ),
            )
            .await?;
            let report = view(&outcome, &file, partial);
            let html = render(&state, &auth, outcome.kind.as_str(), None, Some(report)).await?;
            Ok(Html(html).into_response())
        }
        Err(message) => {
            // Not a list: the stored upload is of no further use.
            uploads::discard(&state, &file).await;
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier_import.preview",
                &format!("file:{}", file.id),
                Outcome::Failure,
                &message,
            )
            .await?;
            let html = render(&state, &auth, &kind, Some(message), None).await?;
            Ok(rendered(StatusCode::UNPROCESSABLE_ENTITY, Html(html)))
        }
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    kind: String,
    /// "true" for a partial list.
    #[serde(default)]
    partial: String,
}

/// Step 2: commit the previewed file.
pub async fn confirm(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(file_id): Path<i64>,
    Form(form): Form<ConfirmForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let file = state.store.file(file_id).await?;
    if !file.storage_key.starts_with(&format!("{KEY_PREFIX}/"))
        || file.owner_account_id != Some(viewer.account.id)
    {
        return Err(AppError::NotFound);
    }
    let kind = kind_static(&form.kind).to_string();
    let partial = form.partial == "true";
    match run_import(&state, &viewer, &file, &kind, partial, false).await? {
        Ok(outcome) => {
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier_import.commit",
                &format!("supplier_import_run:{}", outcome.run_id.unwrap_or(0)),
                Outcome::Success,
                &format!(
                    "{} {} file:{} {}; 不在最新名单 {}",
                    outcome.kind.as_str(),
                    file.original_name,
                    file.id,
                    outcome.report.summary(),
                    outcome.not_in_latest.len()
                ),
            )
            .await?;
            let report = view(&outcome, &file, partial);
            let html = render(&state, &auth, outcome.kind.as_str(), None, Some(report)).await?;
            Ok(Html(html).into_response())
        }
        Err(message) => {
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier_import.commit",
                &format!("file:{}", file.id),
                Outcome::Failure,
                &message,
            )
            .await?;
            let html = render(&state, &auth, &kind, Some(message), None).await?;
            Ok(rendered(StatusCode::UNPROCESSABLE_ENTITY, Html(html)))
        }
    }
}
