//! 标准政策, the staff side (associations and admins, [`Permission::ManageRegulations`]):
//!
//! - adding and editing a document (`/regulations/new`, `/regulations/{id}/edit`), its
//!   full text typed or taken from an upload (plain text, HTML, PDF text, DOCX); a file
//!   whose text cannot be extracted is kept as an attachment and the page says why;
//! - 政策解读 and 业务知识库 articles (`/regulations/articles…`), written as HTML in a
//!   textarea (a rich-text editor without JavaScript) and sanitised on the server,
//!   linked to the documents they explain; the public reads them there too;
//! - the feeds of the provinces' platforms (`/admin/regulation-feeds`, admins only: the
//!   server fetches what they name) with their runs, synced by the `regulations.feeds`
//!   job and on demand;
//! - the two jobs of the module: `regulations.status` (daily: 尚未生效 → 现行有效 on the
//!   effective date, replaced → 已废止, re-indexed) and `regulations.feeds`.
//!
//! Every write is in the audit log.

use super::regulations::Choice;
use super::services::ensure_enabled;
use crate::audit::{self, Actor};
use crate::context::{Authenticated, Ctx};
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::jobs::{JobContext, JobError, JobResult};
use crate::page::Page;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy, format_size};
use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use greenbridge_domain::module::Module;
use greenbridge_domain::regulation::{Domain, Level, Scope, StandardNumber, Status, number_key};
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::format_date;
use greenbridge_ingest::regulations::extract::extract_text;
use greenbridge_ingest::regulations::feed::{self, FeedDefaults};
use greenbridge_ingest::regulations::parse_record;
use greenbridge_store::blob::StorageKey;
use greenbridge_store::regulations::{
    ArticleInput, ArticleKind, Feed, FeedInput, FeedRun, LinkKind, Regulation, RegulationInput,
};
use greenbridge_store::{FileRecord, Outcome, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

/// Key prefix of the module's files in the file store.
const KEY_PREFIX: &str = "regulations";
/// What a document's upload may be: text sources, and scans kept as attachments.
const UPLOAD_POLICY: UploadPolicy = UploadPolicy {
    allowed: &[
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Text,
        FileKind::Jpeg,
        FileKind::Png,
    ],
    max_bytes: 50 * 1024 * 1024,
};
/// Longest article body kept (HTML, after sanitising).
const MAX_ARTICLE_BYTES: usize = 200 * 1024;
/// Job kinds of the module.
pub const STATUS_JOB: &str = "regulations.status";
pub const FEEDS_JOB: &str = "regulations.feeds";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/regulations/new",
            get(new_form)
                .post(create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    UPLOAD_POLICY.body_limit(),
                )),
        )
        .route(
            "/regulations/{id}/edit",
            get(edit_form)
                .post(update)
                .layer(axum::extract::DefaultBodyLimit::max(
                    UPLOAD_POLICY.body_limit(),
                )),
        )
        .route("/regulations/{id}/delete", get(confirm_delete).post(delete))
        .route("/regulations/articles", get(articles))
        .route(
            "/regulations/articles/new",
            get(new_article_form).post(create_article),
        )
        .route("/regulations/articles/{id}", get(article_page))
        .route(
            "/regulations/articles/{id}/edit",
            get(edit_article_form).post(update_article),
        )
        .route("/admin/regulation-feeds", get(feeds_page).post(create_feed))
        .route("/admin/regulation-feeds/{id}/sync", post(sync_feed_now))
        .route("/admin/regulation-feeds/{id}/toggle", post(toggle_feed))
}

fn parse_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------

/// The fields of the document form, as typed.
#[derive(Debug, Clone, Default)]
pub struct DocumentFields {
    pub title: String,
    pub doc_number: String,
    pub issuer: String,
    pub level: String,
    pub domains: Vec<String>,
    pub region: String,
    pub published: String,
    pub effective: String,
    pub revised: String,
    pub status: String,
    pub summary: String,
    pub full_text: String,
    pub replaced_by: String,
    pub replaces: String,
    pub amends: String,
    /// Take the full text from the uploaded file (the default).
    pub use_file_text: bool,
}

impl DocumentFields {
    fn from_regulation(
        r: &Regulation,
        replaced_by: String,
        replaces: String,
        amends: String,
    ) -> Self {
        DocumentFields {
            title: r.title.clone(),
            doc_number: r.doc_number.clone().unwrap_or_default(),
            issuer: r.issuer.clone(),
            level: r.level.as_str().into(),
            domains: r.domains.iter().map(|d| d.as_str().to_string()).collect(),
            region: match &r.scope {
                Scope::Region(code) => code.clone(),
                other => other.label(),
            },
            published: r.published.map(format_date).unwrap_or_default(),
            effective: r.effective.map(format_date).unwrap_or_default(),
            revised: r
                .revised
                .iter()
                .map(|d| format_date(*d))
                .collect::<Vec<_>>()
                .join(", "),
            status: r.status.as_str().into(),
            summary: r.summary.clone(),
            full_text: r.full_text.clone(),
            replaced_by,
            replaces,
            amends,
            use_file_text: true,
        }
    }

    fn set(&mut self, name: &str, value: String) {
        match name {
            "title" => self.title = value,
            "doc_number" => self.doc_number = value,
            "issuer" => self.issuer = value,
            "level" => self.level = value,
            "domain" => self.domains.push(value),
            "region" => self.region = value,
            "published" => self.published = value,
            "effective" => self.effective = value,
            "revised" => self.revised = value,
            "status" => self.status = value,
            "summary" => self.summary = value,
            "full_text" => self.full_text = value,
            "replaced_by" => self.replaced_by = value,
            "replaces" => self.replaces = value,
            "amends" => self.amends = value,
            "use_file_text" => self.use_file_text = value == "1",
            _ => {}
        }
    }

    /// The record the importer would read, so that the form follows the same rules.
    fn record(&self) -> Map<String, Value> {
        let mut record = Map::new();
        let text = |v: &str| -> Value {
            let v = v.trim();
            if v.is_empty() {
                Value::Null
            } else {
                Value::String(v.to_string())
            }
        };
        record.insert("id".into(), "form".into());
        record.insert("title".into(), text(&self.title));
        record.insert("doc_number".into(), text(&self.doc_number));
        record.insert("issuer".into(), text(&self.issuer));
        record.insert("level".into(), text(&self.level));
        record.insert(
            "domains".into(),
            Value::Array(
                self.domains
                    .iter()
                    .map(|d| Value::String(d.clone()))
                    .collect(),
            ),
        );
        record.insert("region".into(), text(&self.region));
        record.insert("published".into(), text(&self.published));
        record.insert("effective".into(), text(&self.effective));
        record.insert(
            "revised".into(),
            Value::Array(
                self.revised
                    .split([',', '，', '、', ' '])
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| Value::String(d.to_string()))
                    .collect(),
            ),
        );
        record.insert("status".into(), text(&self.status));
        record.insert("summary".into(), text(&self.summary));
        record.insert("full_text".into(), Value::String(self.full_text.clone()));
        record
    }
}

/// Field names the importer reports, as the form labels them.
fn field_label(field: &str) -> &'static str {
    match field {
        "title" => "标题",
        "doc_number" => "文号/标准编号",
        "issuer" => "发布机关",
        "level" => "效力级别",
        "domains" => "领域",
        "region" => "适用地区",
        "published" => "发布日期",
        "effective" => "施行日期",
        "revised" => "修订日期",
        "status" => "时效性",
        "replaced_by" | "replaces" | "amends" => "关联文件",
        "file" => "上传文件",
        _ => "表单",
    }
}

/// Finds documents named by id (`12`), source id (`reg-0107`) or number
/// (`GB 3838-2002`, `国环规环评〔2017〕4号`), separated by commas or new lines.
async fn resolve_documents(
    state: &AppState,
    field: &'static str,
    text: &str,
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::new();
    for token in text
        .split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let mut found = None;
        if let Ok(id) = token.parse::<i64>() {
            found = state.store.find_regulation(id).await?.map(|r| r.id);
        }
        if found.is_none() {
            found = state.store.regulation_by_source(token).await?.map(|r| r.id);
        }
        if found.is_none() {
            let key = match StandardNumber::parse(token) {
                Ok(n) => n.to_string(),
                Err(_) => number_key(Level::NormativeDocument, Some(token))
                    .ok()
                    .and_then(|k| k.key)
                    .unwrap_or_default(),
            };
            found = state
                .store
                .regulation_by_number_key(&key)
                .await?
                .map(|r| r.id);
        }
        match found {
            Some(id) => ids.push(id),
            None => {
                return Err(AppError::bad_request(
                    field,
                    format!("找不到文件“{token}”（可填文件编号、数据编号或文号）"),
                ));
            }
        }
    }
    Ok(ids)
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Template)]
#[template(path = "regulation_form.html")]
struct DocumentFormPage {
    page: Page,
    heading: String,
    action: String,
    form: DocumentFields,
    levels: Vec<Choice>,
    statuses: Vec<Choice>,
    domains: Vec<Choice>,
    accept: String,
    allowed: String,
    limit: String,
    error: Option<(String, String)>,
    notice: Option<String>,
    files: Vec<super::regulations::FileRow>,
    document_id: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    document_id: Option<i64>,
    form: DocumentFields,
    error: Option<(String, String)>,
    notice: Option<String>,
) -> AppResult<String> {
    let files = match document_id {
        Some(id) => state
            .store
            .regulation_files(id)
            .await?
            .into_iter()
            .map(|f| super::regulations::FileRow {
                id: f.file.id,
                name: f.file.original_name.clone(),
                kind: f.file.kind.label(),
                size: format_size(f.file.size),
                note: f.note,
                text_extracted: f.text_extracted,
            })
            .collect(),
        None => Vec::new(),
    };
    let heading = match document_id {
        Some(_) => "编辑标准政策文件".to_string(),
        None => "新增标准政策文件".to_string(),
    };
    let page = Page::new(state, ctx, heading.clone()).await;
    let levels = choices(Level::ALL.iter().map(|l| l.as_str()), |v| form.level == v);
    let statuses = choices(Status::ALL.iter().map(|s| s.as_str()), |v| form.status == v);
    let domains = choices(Domain::ALL.iter().map(|d| d.as_str()), |v| {
        form.domains.iter().any(|d| d == v)
    });
    Ok(DocumentFormPage {
        action: match document_id {
            Some(id) => format!("/regulations/{id}/edit?_csrf={}", urlencode(&page.csrf)),
            None => format!("/regulations/new?_csrf={}", urlencode(&page.csrf)),
        },
        page,
        heading,
        form,
        levels,
        statuses,
        domains,
        accept: UPLOAD_POLICY.accept_attribute(),
        allowed: UPLOAD_POLICY.allowed_labels(),
        limit: format_size(UPLOAD_POLICY.max_bytes),
        error,
        notice,
        files,
        document_id,
    }
    .render()?)
}

fn choices<'a>(
    values: impl Iterator<Item = &'a str>,
    checked: impl Fn(&str) -> bool,
) -> Vec<Choice> {
    values
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
            checked: checked(v),
        })
        .collect()
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub async fn new_form(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageRegulations)?;
    ensure_enabled(&state, Module::Regulations).await?;
    let form = DocumentFields {
        status: Status::InForce.as_str().into(),
        region: "全国".into(),
        use_file_text: true,
        ..DocumentFields::default()
    };
    Ok(Html(
        render_form(&state, &auth.1, None, form, None, None).await?,
    ))
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    saved: Option<String>,
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageRegulations)?;
    ensure_enabled(&state, Module::Regulations).await?;
    let id = parse_id(&id)?;
    let r = state.store.regulation(id).await?;
    let form = current_fields(&state, &r).await?;
    let notice = match query.saved.as_deref() {
        Some(_) => Some(saved_notice(&state, id).await?),
        None => None,
    };
    Ok(Html(
        render_form(&state, &auth.1, Some(id), form, None, notice).await?,
    ))
}

async fn current_fields(state: &AppState, r: &Regulation) -> AppResult<DocumentFields> {
    let links = state.store.regulation_links(r.id).await?;
    let ids = |l: &[greenbridge_store::regulations::LinkedRegulation]| {
        ids_text(&l.iter().map(|x| x.id).collect::<Vec<_>>())
    };
    Ok(DocumentFields::from_regulation(
        r,
        ids(&links.replaced_by),
        ids(&links.replaces),
        ids(&links.amends),
    ))
}

/// "已保存", and what happened to the newest upload.
async fn saved_notice(state: &AppState, id: i64) -> AppResult<String> {
    let files = state.store.regulation_files(id).await?;
    Ok(match files.last() {
        Some(f) if f.text_extracted => format!("已保存。全文已从“{}”提取。", f.file.original_name),
        Some(f) if !f.note.is_empty() => format!("已保存。“{}”：{}", f.file.original_name, f.note),
        _ => "已保存。".to_string(),
    })
}

/// What the multipart form brought: the fields and the file, if one was sent.
struct Submitted {
    fields: DocumentFields,
    file: Option<Result<FileRecord, UploadError>>,
}

async fn read_form(state: &AppState, request: Request, owner: i64) -> AppResult<Submitted> {
    let request = request.map(|body| {
        Body::new(http_body_util::Limited::new(
            body,
            UPLOAD_POLICY.body_limit(),
        ))
    });
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::bad_request("file", "请以表单方式提交"))?;
    let mut fields = DocumentFields::default();
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                file = Some(Err(UploadError::TooLarge {
                    limit: UPLOAD_POLICY.max_bytes,
                }));
                break;
            }
            Err(_) => return Err(AppError::bad_request("file", "表单未完整提交，请重试")),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if field.file_name().is_none_or(str::is_empty) || file.is_some() {
                continue;
            }
            let received =
                uploads::receive(state, field, &UPLOAD_POLICY, KEY_PREFIX, Some(owner)).await;
            let failed = received.is_err();
            file = Some(received);
            if failed {
                break;
            }
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|_| AppError::bad_request(&name, "表单未完整提交，请重试"))?;
        fields.set(&name, value);
    }
    Ok(Submitted { fields, file })
}

async fn read_stored(state: &AppState, file: &FileRecord) -> AppResult<Vec<u8>> {
    let key = StorageKey::parse(&file.storage_key)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored file has an invalid key")))?;
    let mut opened =
        state.files.open(&key, None).await.map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("cannot open an upload"))
        })?;
    let mut bytes = Vec::with_capacity(usize::try_from(opened.total_len).unwrap_or(0));
    opened
        .reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("cannot read an upload")))?;
    Ok(bytes)
}

/// Checks the submitted fields and builds the document (its full text from the file
/// when one is given and readable). Returns the input, the links, and what the file's
/// extraction said.
async fn validate(
    state: &AppState,
    fields: &DocumentFields,
    file: Option<&FileRecord>,
    existing: Option<&Regulation>,
) -> AppResult<(RegulationInput, [Vec<i64>; 3], Option<Result<(), String>>)> {
    let mut fields = fields.clone();
    let mut extraction = None;
    if let Some(file) = file {
        let bytes = read_stored(state, file).await?;
        match extract_text(file.kind, &file.original_name, &bytes) {
            Ok(text) => {
                if fields.use_file_text || fields.full_text.trim().is_empty() {
                    fields.full_text = text;
                }
                extraction = Some(Ok(()));
            }
            Err(e) => extraction = Some(Err(e.to_string())),
        }
    }
    let today = state.clock.today();
    let origin = existing.map_or("admin", |r| r.origin.as_str());
    let (mut input, _, _) =
        parse_record(&fields.record(), today, origin, false).map_err(|(field, reason)| {
            let field = field.unwrap_or("form");
            AppError::bad_request(field, format!("{}：{reason}", field_label(field)))
        })?;
    input.source_id = existing.and_then(|r| r.source_id.clone());
    input.sample = existing.is_some_and(|r| r.sample);
    if let Some(key) = &input.number_key
        && let Some(other) = state.store.regulation_by_number_key(key).await?
        && Some(other.id) != existing.map(|r| r.id)
    {
        return Err(AppError::bad_request(
            "doc_number",
            format!("文号/标准编号 {key} 已属于《{}》", other.title),
        ));
    }
    let replaced_by = resolve_documents(state, "replaced_by", &fields.replaced_by).await?;
    let replaces = resolve_documents(state, "replaces", &fields.replaces).await?;
    let amends = resolve_documents(state, "amends", &fields.amends).await?;
    if let Some(r) = existing
        && [&replaced_by, &replaces, &amends]
            .iter()
            .any(|l| l.contains(&r.id))
    {
        return Err(AppError::bad_request("replaces", "文件不能关联自身"));
    }
    Ok((input, [replaced_by, replaces, amends], extraction))
}

/// Writes the links of document `id` as the form gives them.
async fn save_links(state: &AppState, id: i64, links: &[Vec<i64>; 3], now: i64) -> AppResult<()> {
    let [replaced_by, replaces, amends] = links;
    state
        .store
        .set_regulation_links(id, LinkKind::Replaces, replaces, now)
        .await?;
    state
        .store
        .set_regulation_links(id, LinkKind::Amends, amends, now)
        .await?;
    // "Replaced by X" is X's link; replacements named before stay unless removed on X.
    let current: Vec<i64> = state
        .store
        .regulation_links(id)
        .await?
        .replaced_by
        .iter()
        .map(|l| l.id)
        .collect();
    for replacer in replaced_by {
        if !current.contains(replacer) {
            state
                .store
                .add_regulation_link(*replacer, LinkKind::Replaces, id, now)
                .await?;
        }
    }
    for old in current.iter().filter(|c| !replaced_by.contains(c)) {
        let mut targets = state
            .store
            .regulation_link_targets(*old, LinkKind::Replaces)
            .await?;
        targets.retain(|t| *t != id);
        state
            .store
            .set_regulation_links(*old, LinkKind::Replaces, &targets, now)
            .await?;
    }
    Ok(())
}

async fn save(
    state: AppState,
    auth: Authenticated,
    existing: Option<Regulation>,
    request: Request,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageRegulations)?.clone();
    ensure_enabled(&state, Module::Regulations).await?;
    let submitted = read_form(&state, request, viewer.account.id).await?;
    let document_id = existing.as_ref().map(|r| r.id);
    let action = if existing.is_some() {
        "regulation.update"
    } else {
        "regulation.create"
    };
    let file = match submitted.file {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(UploadError::Internal(cause))) => return Err(AppError::Internal(cause)),
        Some(Err(refused)) => {
            let message = format!("上传文件：{refused}");
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                action,
                &document_id.map_or("regulation".into(), |id| format!("regulation:{id}")),
                Outcome::Failure,
                &message,
            )
            .await?;
            let html = render_form(
                &state,
                &auth.1,
                document_id,
                submitted.fields,
                Some(("file".into(), message)),
                None,
            )
            .await?;
            return Ok(rendered(refused.status(), Html(html)));
        }
    };
    let (input, links, extraction) =
        match validate(&state, &submitted.fields, file.as_ref(), existing.as_ref()).await {
            Ok(valid) => valid,
            Err(AppError::BadRequest { message, field }) => {
                if let Some(file) = &file {
                    uploads::discard(&state, file).await;
                }
                let html = render_form(
                    &state,
                    &auth.1,
                    document_id,
                    submitted.fields,
                    Some((field.unwrap_or_default(), message)),
                    None,
                )
                .await?;
                return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
            }
            Err(other) => return Err(other),
        };
    let now = state.clock.unix();
    let id = match &existing {
        Some(r) => {
            state.store.update_regulation(r.id, &input, now).await?;
            r.id
        }
        None => match state.store.insert_regulation(&input, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict) => {
                return Err(AppError::bad_request("doc_number", "文号/标准编号已存在"));
            }
            Err(e) => return Err(e.into()),
        },
    };
    save_links(&state, id, &links, now).await?;
    let mut detail = input.title.clone();
    if let Some(file) = &file {
        let (extracted, note) = match &extraction {
            Some(Ok(())) => (true, String::new()),
            Some(Err(reason)) => (false, reason.clone()),
            None => (false, String::new()),
        };
        state
            .store
            .add_regulation_file(id, file.id, extracted, &note, now)
            .await?;
        detail.push_str(&format!(
            "；文件 {}（{}）{}",
            file.original_name,
            file.kind.as_str(),
            if extracted {
                "已提取全文"
            } else {
                "未能提取全文"
            }
        ));
    }
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        action,
        &format!("regulation:{id}"),
        Outcome::Success,
        &detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/regulations/{id}/edit?saved=1")).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    request: Request,
) -> AppResult<Response> {
    save(state, auth, None, request).await
}

pub async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    request: Request,
) -> AppResult<Response> {
    auth.require(Permission::ManageRegulations)?;
    let id = parse_id(&id)?;
    let existing = state.store.regulation(id).await?;
    save(state, auth, Some(existing), request).await
}

#[derive(Template)]
#[template(path = "regulation_delete.html")]
struct DeletePage {
    page: Page,
    regulation: Regulation,
    /// Links to and from other documents, linked articles, attached files.
    links: usize,
    articles: usize,
    files: usize,
}

/// `GET /regulations/{id}/delete`: says what goes with the document and asks to
/// confirm (a form; nothing is deleted by a link).
pub async fn confirm_delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageRegulations)?;
    ensure_enabled(&state, Module::Regulations).await?;
    let id = parse_id(&id)?;
    let regulation = state.store.regulation(id).await?;
    let links = state.store.regulation_links(id).await?;
    let link_count = links.replaced_by.len()
        + links.replaces.len()
        + links.amends.len()
        + links.amended_by.len();
    let articles = state.store.articles_for_regulation(id).await?.len();
    let files = state.store.regulation_files(id).await?.len();
    let page = Page::new(&state, &auth.1, format!("删除 - {}", regulation.title)).await;
    Ok(Html(
        DeletePage {
            page,
            regulation,
            links: link_count,
            articles,
            files,
        }
        .render()?,
    ))
}

/// `POST /regulations/{id}/delete`: deletes the document, its links and its
/// uploaded files; audited.
pub async fn delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Redirect> {
    let viewer = auth.require(Permission::ManageRegulations)?.clone();
    ensure_enabled(&state, Module::Regulations).await?;
    let id = parse_id(&id)?;
    let regulation = state.store.regulation(id).await?;
    let Some(files) = state
        .store
        .delete_regulation(id, state.clock.unix())
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let removed = uploads::discard_ids(&state, files).await;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "regulation.delete",
        &format!("regulation:{id}"),
        Outcome::Success,
        &format!(
            "{}{}; {}",
            regulation.title,
            regulation
                .source_id
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            removed.join(" ")
        ),
    )
    .await?;
    Ok(Redirect::to("/regulations"))
}

// ---------------------------------------------------------------------------------
// Articles: 政策解读 and 业务知识库
// ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "regulation_articles.html")]
struct ArticlesPage {
    page: Page,
    kind: String,
    rows: Vec<super::regulations::ArticleRow>,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
pub struct ArticlesQuery {
    #[serde(default)]
    kind: String,
}

pub async fn articles(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<ArticlesQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Regulations).await?;
    let kind = match query.kind.as_str() {
        "" => None,
        other => Some(ArticleKind::parse(other).ok_or_else(|| {
            AppError::bad_request("kind", "kind 只能是 interpretation 或 knowledge")
        })?),
    };
    let rows = state
        .store
        .articles(kind, 200, 0)
        .await?
        .iter()
        .map(super::regulations::article_row)
        .collect();
    let title = kind.map_or("政策解读与业务知识库", |k| k.label_zh());
    let page = Page::new(&state, &ctx, title).await;
    Ok(Html(
        ArticlesPage {
            page,
            kind: query.kind,
            rows,
            can_manage: ctx
                .viewer
                .as_ref()
                .is_some_and(|v| v.can(Permission::ManageRegulations)),
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "regulation_article.html")]
struct ArticlePage {
    page: Page,
    kind: &'static str,
    title: String,
    author: String,
    updated: String,
    body_html: String,
    documents: Vec<super::regulations::LinkRow>,
    can_manage: bool,
    id: i64,
}

pub async fn article_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Regulations).await?;
    let id = parse_id(&id)?;
    let article = state.store.article(id).await?;
    let ids = state.store.article_regulations(id).await?;
    let today = state.clock.today();
    let documents = state
        .store
        .regulations_by_ids(&ids)
        .await?
        .into_iter()
        .map(|r| super::regulations::LinkRow {
            id: r.id,
            status: r.status_on(today).as_str(),
            pending: r.status_on(today) == Status::NotYetInForce,
            doc_number: r.doc_number.clone().unwrap_or_default(),
            effective: r.effective.map(format_date).unwrap_or_default(),
            title: r.title,
        })
        .collect();
    let page = Page::new(&state, &ctx, article.title.clone()).await;
    Ok(Html(
        ArticlePage {
            page,
            kind: article.kind.label_zh(),
            title: article.title,
            author: article.author_name,
            updated: greenbridge_domain::time::format_unix_zh(article.updated_at),
            // Sanitised when stored; sanitised again on the way out, so that a row
            // written by anything else cannot carry script either.
            body_html: crate::sanitize::sanitize_rich_text(&article.body_html),
            documents,
            can_manage: ctx
                .viewer
                .as_ref()
                .is_some_and(|v| v.can(Permission::ManageRegulations)),
            id,
        }
        .render()?,
    ))
}

#[derive(Default, Clone)]
pub struct ArticleFields {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub documents: String,
}

#[derive(Template)]
#[template(path = "regulation_article_form.html")]
struct ArticleFormPage {
    page: Page,
    heading: &'static str,
    action: String,
    form: ArticleFields,
    error: Option<(String, String)>,
}

async fn render_article_form(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    form: ArticleFields,
    error: Option<(String, String)>,
) -> AppResult<String> {
    let heading = if id.is_some() {
        "编辑文章"
    } else {
        "撰写政策解读或知识库文章"
    };
    let page = Page::new(state, ctx, heading).await;
    Ok(ArticleFormPage {
        page,
        heading,
        action: match id {
            Some(id) => format!("/regulations/articles/{id}/edit"),
            None => "/regulations/articles/new".into(),
        },
        form,
        error,
    }
    .render()?)
}

#[derive(Deserialize, Default)]
pub struct NewArticleQuery {
    regulation: Option<String>,
    #[serde(default)]
    kind: String,
}

pub async fn new_article_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<NewArticleQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageRegulations)?;
    ensure_enabled(&state, Module::Regulations).await?;
    let form = ArticleFields {
        kind: if query.kind == "knowledge" {
            "knowledge".into()
        } else {
            "interpretation".into()
        },
        documents: query.regulation.unwrap_or_default(),
        ..ArticleFields::default()
    };
    Ok(Html(
        render_article_form(&state, &auth.1, None, form, None).await?,
    ))
}

fn form_fields(body: &[u8]) -> ArticleFields {
    let mut fields = ArticleFields::default();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "kind" => fields.kind = v.into_owned(),
            "title" => fields.title = v.into_owned(),
            "body" => fields.body = v.into_owned(),
            "documents" => fields.documents = v.into_owned(),
            _ => {}
        }
    }
    fields
}

async fn save_article(
    state: AppState,
    auth: Authenticated,
    id: Option<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageRegulations)?.clone();
    ensure_enabled(&state, Module::Regulations).await?;
    let fields = form_fields(&body);
    let checked: AppResult<(ArticleKind, String, String, Vec<i64>)> = async {
        let kind = ArticleKind::parse(&fields.kind)
            .ok_or_else(|| AppError::bad_request("kind", "请选择文章类别"))?;
        let title = fields.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(AppError::bad_request(
                "title",
                "标题不能为空，且不超过200字",
            ));
        }
        let clean = crate::sanitize::sanitize_rich_text(&fields.body);
        if clean.trim().is_empty() {
            return Err(AppError::bad_request("body", "正文不能为空"));
        }
        if clean.len() > MAX_ARTICLE_BYTES {
            return Err(AppError::bad_request("body", "正文过长"));
        }
        let documents = resolve_documents(&state, "documents", &fields.documents).await?;
        Ok((kind, title, clean, documents))
    }
    .await;
    let (kind, title, clean, documents) = match checked {
        Ok(valid) => valid,
        Err(AppError::BadRequest { message, field }) => {
            let html = render_article_form(
                &state,
                &auth.1,
                id,
                fields,
                Some((field.unwrap_or_default(), message)),
            )
            .await?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
        Err(other) => return Err(other),
    };
    // Association staff write in their association's name.
    let province = viewer
        .account
        .province_code
        .as_deref()
        .and_then(|code| greenbridge_domain::region::RegionTree::embedded().get(code))
        .map(|region| region.name.clone());
    let author = match (viewer.account.role, province) {
        (greenbridge_domain::role::Role::Reviewer, Some(province)) => {
            format!("{province}环境保护产业协会")
        }
        _ => viewer.account.display_name.clone(),
    };
    let input = ArticleInput {
        kind,
        title: &title,
        body_html: &clean,
        author_account_id: Some(viewer.account.id),
        author_name: &author,
        regulation_ids: &documents,
    };
    let now = state.clock.unix();
    let (id, action) = match id {
        Some(id) => {
            state.store.update_article(id, &input, now).await?;
            (id, "regulation_article.update")
        }
        None => (
            state.store.insert_article(&input, now).await?,
            "regulation_article.create",
        ),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        action,
        &format!("regulation_article:{id}"),
        Outcome::Success,
        &title,
    )
    .await?;
    Ok(Redirect::to(&format!("/regulations/articles/{id}")).into_response())
}

pub async fn create_article(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Bytes,
) -> AppResult<Response> {
    save_article(state, auth, None, body).await
}

pub async fn edit_article_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageRegulations)?;
    ensure_enabled(&state, Module::Regulations).await?;
    let id = parse_id(&id)?;
    let article = state.store.article(id).await?;
    let documents = state.store.article_regulations(id).await?;
    let form = ArticleFields {
        kind: article.kind.as_str().into(),
        title: article.title,
        body: article.body_html,
        documents: ids_text(&documents),
    };
    Ok(Html(
        render_article_form(&state, &auth.1, Some(id), form, None).await?,
    ))
}

pub async fn update_article(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    auth.require(Permission::ManageRegulations)?;
    let id = parse_id(&id)?;
    state.store.article(id).await?;
    save_article(state, auth, Some(id), body).await
}

// ---------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------

pub struct FeedRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub level: &'static str,
    pub region: String,
    pub issuer: String,
    pub interval_hours: i64,
    pub enabled: bool,
    pub last_run: String,
    pub runs: Vec<RunRow>,
}

pub struct RunRow {
    pub started: String,
    pub outcome: &'static str,
    pub entries: i64,
    pub created: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub message: String,
}

#[derive(Default, Clone, Deserialize)]
pub struct FeedFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    interval_hours: String,
}

#[derive(Template)]
#[template(path = "admin_regulation_feeds.html")]
struct FeedsPage {
    page: Page,
    feeds: Vec<FeedRow>,
    levels: Vec<Choice>,
    form: FeedFields,
    error: Option<(String, String)>,
    notice: Option<String>,
}

async fn render_feeds(
    state: &AppState,
    ctx: &Ctx,
    form: FeedFields,
    error: Option<(String, String)>,
    notice: Option<String>,
) -> AppResult<String> {
    let mut feeds = Vec::new();
    for f in state.store.feeds().await? {
        let runs = state
            .store
            .feed_runs(f.id, 5)
            .await?
            .into_iter()
            .map(|r| RunRow {
                started: greenbridge_domain::time::format_unix_zh(r.started_at),
                outcome: if r.outcome == "ok" {
                    "成功"
                } else {
                    "失败"
                },
                entries: r.entries,
                created: r.created,
                unchanged: r.unchanged,
                rejected: r.rejected,
                message: r.message,
            })
            .collect();
        feeds.push(FeedRow {
            id: f.id,
            name: f.name,
            url: f.url,
            level: f.default_level.as_str(),
            region: f.default_scope.name(),
            issuer: f.default_issuer,
            interval_hours: f.interval_hours,
            enabled: f.enabled,
            last_run: f
                .last_run_at
                .map(greenbridge_domain::time::format_unix_zh)
                .unwrap_or_else(|| "尚未运行".into()),
            runs,
        });
    }
    let page = Page::new(state, ctx, "政策订阅源").await;
    let levels = choices(Level::ALL.iter().map(|l| l.as_str()), |v| form.level == v);
    Ok(FeedsPage {
        page,
        feeds,
        levels,
        form,
        error,
        notice,
    }
    .render()?)
}

#[derive(Deserialize, Default)]
pub struct FeedsQuery {
    done: Option<i64>,
}

pub async fn feeds_page(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<FeedsQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let notice = query
        .done
        .map(|id| format!("订阅源 {id} 已同步，结果见下方运行记录。"));
    let form = FeedFields {
        interval_hours: "24".into(),
        region: "全国".into(),
        ..FeedFields::default()
    };
    Ok(Html(
        render_feeds(&state, &auth.1, form, None, notice).await?,
    ))
}

pub async fn create_feed(
    State(state): State<AppState>,
    auth: Authenticated,
    axum::Form(form): axum::Form<FeedFields>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let checked = (|| -> AppResult<(String, String, Level, Scope, String, i64)> {
        let name = form.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::bad_request("name", "名称不能为空，且不超过100字"));
        }
        let url = form.url.trim().to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 500 {
            return Err(AppError::bad_request(
                "url",
                "地址须以 http:// 或 https:// 开头",
            ));
        }
        let level =
            Level::parse(&form.level).map_err(|e| AppError::bad_request("level", e.to_string()))?;
        let issuer = form.issuer.trim().to_string();
        if issuer.is_empty() {
            return Err(AppError::bad_request("issuer", "请填写默认发布机关"));
        }
        let scope = Scope::parse(&form.region, &issuer)
            .map_err(|e| AppError::bad_request("region", e.to_string()))?;
        let hours = form
            .interval_hours
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=24 * 30).contains(h))
            .ok_or_else(|| AppError::bad_request("interval_hours", "同步间隔应为 1 到 720 小时"))?;
        Ok((name, url, level, scope, issuer, hours))
    })();
    let (name, url, level, scope, issuer, hours) = match checked {
        Ok(valid) => valid,
        Err(AppError::BadRequest { message, field }) => {
            let html = render_feeds(
                &state,
                &auth.1,
                form,
                Some((field.unwrap_or_default(), message)),
                None,
            )
            .await?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
        Err(other) => return Err(other),
    };
    let id = match state
        .store
        .insert_feed(
            &FeedInput {
                name: &name,
                url: &url,
                default_level: level,
                default_scope: &scope,
                default_issuer: &issuer,
                interval_hours: hours,
            },
            state.clock.unix(),
        )
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            let html = render_feeds(
                &state,
                &auth.1,
                form,
                Some(("url".into(), "该地址已登记".into())),
                None,
            )
            .await?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "regulation_feed.create",
        &format!("regulation_feed:{id}"),
        Outcome::Success,
        &url,
    )
    .await?;
    Ok(Redirect::to("/admin/regulation-feeds").into_response())
}

pub async fn toggle_feed(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let id = parse_id(&id)?;
    let feed = state.store.feed(id).await?;
    state.store.set_feed_enabled(id, !feed.enabled).await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        if feed.enabled {
            "regulation_feed.disable"
        } else {
            "regulation_feed.enable"
        },
        &format!("regulation_feed:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/admin/regulation-feeds").into_response())
}

pub async fn sync_feed_now(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let id = parse_id(&id)?;
    let feed = state.store.feed(id).await?;
    let run = run_feed(&state, &feed).await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "regulation_feed.sync",
        &format!("regulation_feed:{id}"),
        if run.outcome == "ok" {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        &run.message,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/regulation-feeds?done={id}")).into_response())
}

/// Fetches and syncs one feed and records the run (a failed fetch is a failed run, not
/// an error of the caller).
pub async fn run_feed(state: &AppState, feed: &Feed) -> AppResult<FeedRun> {
    let started_at = state.clock.unix();
    let defaults = FeedDefaults {
        level: feed.default_level,
        scope: feed.default_scope.clone(),
        issuer: feed.default_issuer.clone(),
    };
    let outcome = match feed::fetch(&feed.url, &state.config.outbound_roots).await {
        Ok(bytes) => {
            feed::sync(
                &state.store,
                &bytes,
                &defaults,
                state.clock.today(),
                started_at,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let mut run = FeedRun {
        id: 0,
        feed_id: feed.id,
        started_at,
        finished_at: state.clock.unix(),
        outcome: "ok".into(),
        entries: 0,
        created: 0,
        unchanged: 0,
        rejected: 0,
        message: String::new(),
    };
    match outcome {
        Ok(done) => {
            run.entries = done.entries;
            run.created = done.created;
            run.unchanged = done.unchanged;
            run.rejected = done.rejected.len() as i64;
            run.message = done
                .rejected
                .iter()
                .take(10)
                .map(|(entry, reason)| format!("{entry}：{reason}"))
                .collect::<Vec<_>>()
                .join("；");
        }
        Err(e) => {
            run.outcome = "failed".into();
            run.message = e.to_string();
        }
    }
    run.id = state.store.record_feed_run(&run).await?;
    tracing::info!(
        feed = feed.id,
        outcome = run.outcome,
        created = run.created,
        "regulation feed synced"
    );
    Ok(run)
}

// ---------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------

/// `regulations.status`: brings every document's recorded status up to today and
/// re-indexes the changed ones (through the outbox).
pub async fn status_job(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let changed = state
        .store
        .refresh_regulation_statuses(state.clock.today(), state.clock.unix())
        .await?;
    ctx.progress
        .set(
            changed.len() as i64,
            changed.len() as i64,
            "份文件状态已更新",
        )
        .await;
    tracing::info!(changed = changed.len(), "regulation statuses refreshed");
    Ok(())
}

/// `regulations.feeds`: syncs every enabled feed whose interval has passed.
pub async fn feeds_job(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    let now = state.clock.unix();
    let feeds = state.store.feeds().await?;
    let mut failed = Vec::new();
    for feed in feeds.iter().filter(|f| f.enabled) {
        let due = feed
            .last_run_at
            .is_none_or(|last| now - last >= feed.interval_hours * 3600 - 60);
        if !due {
            continue;
        }
        match run_feed(state, feed).await {
            Ok(run) if run.outcome != "ok" => {
                failed.push(format!("{}：{}", feed.name, run.message))
            }
            Ok(_) => {}
            Err(e) => return Err(JobError::retry(e)),
        }
    }
    if !failed.is_empty() {
        // Recorded per feed; the job itself is done (the next period tries again).
        tracing::warn!(failed = failed.join("；"), "some regulation feeds failed");
    }
    Ok(())
}
