//! Enterprise demands in the 需求大厅: a demand enterprise posts what it needs (title,
//! description, service category, region, budget or 面议, deadline, attachments,
//! whether its contact details are public); the association of the demand's province
//! reviews it before it is public (the review queue, kind `demand`); text that hits
//! the sensitive-word list is flagged for the reviewer. The enterprise can edit (back
//! to review), withdraw, close or mark a demand awarded. Every write is audited.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::module::Module;
use greenbridge_domain::money::Money;
use greenbridge_domain::region::{RegionLevel, RegionTree};
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::sensitive::SensitiveWords;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_store::demands::{Demand, DemandFields, DemandStatus, PostedDemand};
use greenbridge_store::{FileRecord, Outcome};
use serde::Deserialize;

use super::services::ensure_enabled;
use crate::audit::{self, Actor};
use crate::context::{Authenticated, Ctx, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy};

pub const ATTACHMENT_POLICY: UploadPolicy = UploadPolicy {
    allowed: &[FileKind::Pdf, FileKind::Jpeg, FileKind::Png],
    max_bytes: 10 * 1024 * 1024,
};
const MAX_ATTACHMENTS: usize = 3;
const ATTACHMENT_PREFIX: &str = "demands";

pub fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(ATTACHMENT_POLICY.body_limit() * MAX_ATTACHMENTS)
}

/// The viewer's organisation, when they may post demands for it.
fn poster(viewer: &Viewer) -> AppResult<i64> {
    if viewer.account.role != Role::DemandEnterprise
        || !viewer.can(Permission::ManageOwnOrganisation)
    {
        return Err(AppError::Forbidden);
    }
    viewer.account.organisation_id.ok_or(AppError::Forbidden)
}

fn is_reviewer_for(state: &AppState, viewer: &Viewer, demand: &Demand) -> bool {
    if !viewer.can(Permission::ReviewRegistrations) {
        return false;
    }
    let province = crate::review_queue::route_province(&state.config, &demand.fields.region_code);
    match viewer.account.role {
        Role::Admin => true,
        _ => viewer.account.province_code.as_deref() == Some(province.as_str()),
    }
}

// ---------------------------------------------------------------- detail

#[derive(Template)]
#[template(path = "hall_demand.html")]
struct DemandPage {
    page: Page,
    d: DemandView,
    owner: bool,
    reviewer: bool,
}

pub struct DemandView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub region: String,
    pub budget: String,
    pub deadline: String,
    pub enterprise: String,
    pub publish_date: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub contact: Option<(String, String, String)>,
    pub flagged: String,
    pub review_reason: String,
    pub files: Vec<(i64, String)>,
    pub sample: bool,
    pub expired: bool,
}

async fn view(state: &AppState, d: &Demand, today: &str) -> AppResult<DemandView> {
    let tree = RegionTree::embedded();
    let f = &d.fields;
    let mut files = Vec::new();
    for id in &d.file_ids {
        if let Ok(file) = state.store.file(*id).await {
            files.push((file.id, file.original_name.clone()));
        }
    }
    Ok(DemandView {
        id: d.id,
        title: f.title.clone(),
        description: f.description.clone(),
        category: ServiceCatalogue::embedded()
            .get(&f.service_category_code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| f.service_category_code.clone()),
        region: tree.full_name(&f.region_code),
        budget: match f.budget {
            Some(m) => m.to_string(),
            None => "面议".into(),
        },
        deadline: f.deadline.clone().unwrap_or_default(),
        enterprise: d.enterprise_name.clone(),
        publish_date: d.publish_date.clone().unwrap_or_default(),
        status: d.status.label_zh(),
        status_code: d.status.as_str(),
        contact: f.contact_public.then(|| {
            (
                f.contact_name.clone(),
                f.contact_phone.clone(),
                f.contact_email.clone(),
            )
        }),
        flagged: d.flagged_words.clone(),
        review_reason: d.review_reason.clone().unwrap_or_default(),
        files,
        sample: d.sample,
        expired: d.status == DemandStatus::Open
            && f.deadline.as_deref().is_some_and(|dl| dl < today),
    })
}

/// Loads a demand the viewer may see: public ones for everyone; others for their
/// organisation's accounts and the reviewers of its province. Anything else is 404.
async fn visible_demand(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<(Demand, bool, bool)> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let demand = state
        .store
        .find_demand(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let viewer = ctx.viewer.as_ref();
    let owner = viewer.is_some_and(|v| {
        v.account.organisation_id.is_some() && v.account.organisation_id == demand.organisation_id
    });
    let reviewer = viewer.is_some_and(|v| is_reviewer_for(state, v, &demand));
    if !demand.status.is_public() && !owner && !reviewer {
        return Err(AppError::NotFound);
    }
    Ok((demand, owner, reviewer))
}

/// `GET /demands/items/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Demands).await?;
    let (demand, owner, reviewer) = visible_demand(&state, &ctx, &id).await?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let d = view(&state, &demand, &today).await?;
    let page = Page::new(&state, &ctx, demand.fields.title.clone()).await;
    Ok(Html(
        DemandPage {
            page,
            d,
            owner,
            reviewer,
        }
        .render()?,
    ))
}

/// `GET /demands/items/{id}/files/{file}`: an attachment, for whoever may see the demand.
pub async fn attachment(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((id, file)): Path<(String, i64)>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let (demand, _, _) = visible_demand(&state, &ctx, &id).await?;
    if !demand.file_ids.contains(&file) {
        return Err(AppError::NotFound);
    }
    let record = state.store.file(file).await?;
    crate::downloads::serve_file(&state, &record, &headers, None).await
}

// ---------------------------------------------------------------- own list

#[derive(Template)]
#[template(path = "hall_mine.html")]
struct MinePage {
    page: Page,
    rows: Vec<DemandView>,
    notice: Option<String>,
}

/// `GET /demands/mine`: the organisation's demands, every status.
pub async fn mine(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Demands).await?;
    let org = poster(&auth.0)?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let mut rows = Vec::new();
    for d in state.store.organisation_demands(org).await? {
        rows.push(view(&state, &d, &today).await?);
    }
    let page = Page::new(&state, &auth.1, "我发布的需求").await;
    Ok(Html(
        MinePage {
            page,
            rows,
            notice: None,
        }
        .render()?,
    ))
}

// ---------------------------------------------------------------- form

#[derive(Default, Clone)]
pub struct Typed {
    pub title: String,
    pub description: String,
    pub category: String,
    pub region: String,
    pub address: String,
    pub budget: String,
    pub negotiable: bool,
    pub deadline: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub contact_public: bool,
    /// Attachments ticked for removal on the edit form.
    pub remove_files: Vec<i64>,
}

impl Typed {
    /// Whether attachment `id` was ticked for removal (the form keeps the tick when
    /// it is shown again).
    pub fn removes(&self, id: &i64) -> bool {
        self.remove_files.contains(id)
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "hall_demand_form.html")]
struct FormPage {
    page: Page,
    action: String,
    heading: &'static str,
    t: Typed,
    errors: Vec<(String, String)>,
    categories: Vec<Choice>,
    regions: Vec<Choice>,
    accept: String,
    allowed: String,
    existing_files: Vec<(i64, String)>,
}

fn categories() -> Vec<Choice> {
    ServiceCatalogue::embedded()
        .all()
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: if c.is_group() {
                c.name.clone()
            } else {
                format!("— {}", c.name)
            },
        })
        .collect()
}

/// The regions an enterprise may post for: the districts (and towns) of its city.
fn regions_for(org_region: &str) -> Vec<Choice> {
    let tree = RegionTree::embedded();
    let city = tree
        .ancestors(org_region)
        .into_iter()
        .find(|r| r.level == RegionLevel::City)
        .map(|r| r.code.as_str().to_string());
    let Some(city) = city else {
        return vec![Choice {
            value: org_region.into(),
            label: tree.full_name(org_region),
        }];
    };
    let mut out = Vec::new();
    for district in tree.children(&city) {
        out.push(Choice {
            value: district.code.as_str().into(),
            label: tree.full_name(&district.code),
        });
        for town in tree.children(&district.code) {
            out.push(Choice {
                value: town.code.as_str().into(),
                label: format!("— {}", town.name),
            });
        }
    }
    out
}

fn validate(
    typed: &Typed,
    allowed_regions: &[Choice],
    today: &str,
) -> Result<DemandFields, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut err =
        |field: &str, message: &str| errors.push((field.to_string(), message.to_string()));
    let title = typed.title.trim().to_string();
    if title.chars().count() < 4 || title.chars().count() > 100 {
        err("title", "标题应为 4 到 100 个字");
    }
    let description = typed.description.trim().to_string();
    if description.chars().count() < 10 || description.chars().count() > 3000 {
        err("description", "需求说明应为 10 到 3000 个字");
    }
    if ServiceCatalogue::embedded().get(&typed.category).is_none() {
        err("category", "请选择服务类别");
    }
    if !allowed_regions.iter().any(|r| r.value == typed.region) {
        err("region", "请选择所在地区");
    }
    let budget = if typed.negotiable {
        None
    } else {
        match typed.budget.trim().parse::<i64>() {
            Ok(y) if (0..=10_000_000_000).contains(&y) => Money::from_yuan(y),
            _ => {
                err("budget", "请填写预算（元，整数），或选择“面议”");
                None
            }
        }
    };
    let deadline = match greenbridge_domain::time::parse_date(&typed.deadline) {
        Ok(d) => {
            let d = greenbridge_domain::time::format_date(d);
            if d.as_str() < today {
                err("deadline", "截止日期不能早于今天");
            }
            Some(d)
        }
        Err(_) => {
            err("deadline", "请填写截止日期（年-月-日）");
            None
        }
    };
    let contact_name = typed.contact_name.trim().to_string();
    let contact_phone = typed.contact_phone.trim().to_string();
    if contact_name.is_empty() || contact_phone.is_empty() {
        err("contact_name", "请填写联系人和联系电话");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(DemandFields {
        title,
        description,
        service_category_code: typed.category.clone(),
        service_category_label: None,
        region_code: typed.region.clone(),
        address: typed.address.trim().chars().take(200).collect(),
        budget,
        deadline,
        contact_name: contact_name.chars().take(50).collect(),
        contact_phone: contact_phone.chars().take(50).collect(),
        contact_email: typed.contact_email.trim().chars().take(100).collect(),
        contact_public: typed.contact_public,
    })
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    action: String,
    heading: &'static str,
    t: Typed,
    errors: Vec<(String, String)>,
    org_region: &str,
    existing_files: Vec<(i64, String)>,
    status: StatusCode,
) -> AppResult<Response> {
    let page = Page::new(state, ctx, heading).await;
    let html = FormPage {
        page,
        action,
        heading,
        t,
        errors,
        categories: categories(),
        regions: regions_for(org_region),
        accept: ATTACHMENT_POLICY.accept_attribute(),
        allowed: ATTACHMENT_POLICY.allowed_labels(),
        existing_files,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// `GET /demands/new`.
pub async fn new_form(State(state): State<AppState>, auth: Authenticated) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let org_id = poster(&auth.0)?;
    let org = state.store.organisation(org_id).await?;
    let typed = Typed {
        region: org.region_code.clone(),
        address: org.address.clone(),
        contact_name: org.contact_name.clone(),
        contact_phone: org.contact_phone.clone(),
        ..Typed::default()
    };
    let action = format!("/demands/new?_csrf={}", urlencode(&auth.1.csrf_token));
    render_form(
        &state,
        &auth.1,
        action,
        "发布需求",
        typed,
        Vec::new(),
        &org.region_code,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Reads the multipart form: the text fields and up to three attachments.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
    owner: i64,
) -> AppResult<(Typed, Vec<FileRecord>, Vec<(String, String)>)> {
    let mut typed = Typed::default();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::bad_request("form", "表单提交不完整，请重试")
        }
    })? {
        let name = field.name().unwrap_or("").to_string();
        if name == "attachment" {
            if field.file_name().is_none_or(|f| f.is_empty()) {
                continue;
            }
            if files.len() >= MAX_ATTACHMENTS {
                errors.push((
                    "attachment".into(),
                    format!("最多上传 {MAX_ATTACHMENTS} 个附件"),
                ));
                continue;
            }
            match uploads::receive(
                state,
                field,
                &ATTACHMENT_POLICY,
                ATTACHMENT_PREFIX,
                Some(owner),
            )
            .await
            {
                Ok(stored) => files.push(stored),
                Err(UploadError::Internal(e)) => return Err(AppError::Internal(e)),
                Err(e) => errors.push(("attachment".into(), format!("附件：{e}"))),
            }
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|_| AppError::bad_request(&name, "表单提交不完整，请重试"))?;
        let value: String = value.chars().take(4000).collect();
        match name.as_str() {
            "title" => typed.title = value,
            "description" => typed.description = value,
            "category" => typed.category = value,
            "region" => typed.region = value,
            "address" => typed.address = value,
            "budget" => typed.budget = value,
            "negotiable" => typed.negotiable = !value.is_empty(),
            "deadline" => typed.deadline = value,
            "contact_name" => typed.contact_name = value,
            "contact_phone" => typed.contact_phone = value,
            "contact_email" => typed.contact_email = value,
            "contact_public" => typed.contact_public = !value.is_empty(),
            "remove_file" => {
                if let Ok(id) = value.trim().parse::<i64>() {
                    typed.remove_files.push(id);
                }
            }
            _ => {}
        }
    }
    Ok((typed, files, errors))
}

fn flagged(fields: &DemandFields) -> String {
    let text = format!(
        "{}\n{}\n{}\n{}",
        fields.title, fields.description, fields.contact_name, fields.address
    );
    let mut hits = SensitiveWords::embedded().hits(&text);
    hits.dedup();
    hits.join("、")
}

/// `POST /demands/new`.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    multipart: Multipart,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let org_id = poster(&auth.0)?;
    let org = state.store.organisation(org_id).await?;
    let (typed, files, mut errors) = read_form(&state, multipart, auth.0.account.id).await?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let regions = regions_for(&org.region_code);
    let fields = match validate(&typed, &regions, &today) {
        Ok(f) if errors.is_empty() => f,
        result => {
            if let Err(e) = result {
                errors.extend(e);
            }
            for f in &files {
                uploads::discard(&state, f).await;
            }
            let action = format!("/demands/new?_csrf={}", urlencode(&auth.1.csrf_token));
            return render_form(
                &state,
                &auth.1,
                action,
                "发布需求",
                typed,
                errors,
                &org.region_code,
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let flagged_words = flagged(&fields);
    let province = crate::review_queue::route_province(&state.config, &fields.region_code);
    let file_ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let id = state
        .store
        .post_demand(
            &PostedDemand {
                organisation_id: org_id,
                enterprise_name: &org.name,
                enterprise_credit_code: org.credit_code.as_str(),
                fields: &fields,
                flagged_words: &flagged_words,
                file_ids: &file_ids,
                account_id: auth.0.account.id,
                review_province: &province,
            },
            state.clock.unix(),
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&auth.0.account),
        "demand.post",
        &format!("demand:{id}"),
        Outcome::Success,
        &if flagged_words.is_empty() {
            fields.title.clone()
        } else {
            format!("{}（敏感词：{flagged_words}）", fields.title)
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/demands/items/{id}")).into_response())
}

async fn owned(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<Demand> {
    let org = poster(viewer)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    state
        .store
        .find_demand(id)
        .await?
        .filter(|d| d.organisation_id == Some(org))
        .ok_or(AppError::NotFound)
}

/// `GET /demands/items/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let demand = owned(&state, &auth.0, &id).await?;
    if demand.status == DemandStatus::Withdrawn {
        return Err(AppError::NotFound);
    }
    let org = state.store.organisation(poster(&auth.0)?).await?;
    let f = &demand.fields;
    let typed = Typed {
        title: f.title.clone(),
        description: f.description.clone(),
        category: f.service_category_code.clone(),
        region: f.region_code.clone(),
        address: f.address.clone(),
        budget: f.budget.map(|b| b.yuan().to_string()).unwrap_or_default(),
        negotiable: f.budget.is_none(),
        deadline: f.deadline.clone().unwrap_or_default(),
        contact_name: f.contact_name.clone(),
        contact_phone: f.contact_phone.clone(),
        contact_email: f.contact_email.clone(),
        contact_public: f.contact_public,
        remove_files: Vec::new(),
    };
    let files = existing_files(&state, &demand).await;
    let action = format!(
        "/demands/items/{}/edit?_csrf={}",
        demand.id,
        urlencode(&auth.1.csrf_token)
    );
    render_form(
        &state,
        &auth.1,
        action,
        "修改需求",
        typed,
        Vec::new(),
        &org.region_code,
        files,
        StatusCode::OK,
    )
    .await
}

async fn existing_files(state: &AppState, demand: &Demand) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for id in &demand.file_ids {
        if let Ok(f) = state.store.file(*id).await {
            out.push((f.id, f.original_name.clone()));
        }
    }
    out
}

/// `POST /demands/items/{id}/edit`: saves and sends the demand back to review.
pub async fn edit(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let demand = owned(&state, &auth.0, &id).await?;
    if demand.status == DemandStatus::Withdrawn {
        return Err(AppError::NotFound);
    }
    let org = state.store.organisation(poster(&auth.0)?).await?;
    let (typed, files, mut errors) = read_form(&state, multipart, auth.0.account.id).await?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let regions = regions_for(&org.region_code);
    let fields = match validate(&typed, &regions, &today) {
        Ok(f) if errors.is_empty() => f,
        result => {
            if let Err(e) = result {
                errors.extend(e);
            }
            for f in &files {
                uploads::discard(&state, f).await;
            }
            let existing = existing_files(&state, &demand).await;
            let action = format!(
                "/demands/items/{}/edit?_csrf={}",
                demand.id,
                urlencode(&auth.1.csrf_token)
            );
            return render_form(
                &state,
                &auth.1,
                action,
                "修改需求",
                typed,
                errors,
                &org.region_code,
                existing,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // Ticked attachments go; new ones are added to the rest (up to the limit).
    let (removed, mut file_ids): (Vec<i64>, Vec<i64>) = demand
        .file_ids
        .iter()
        .partition(|id| typed.remove_files.contains(id));
    for f in &files {
        if file_ids.len() < MAX_ATTACHMENTS {
            file_ids.push(f.id);
        } else {
            uploads::discard(&state, f).await;
        }
    }
    let flagged_words = flagged(&fields);
    let province = crate::review_queue::route_province(&state.config, &fields.region_code);
    state
        .store
        .edit_demand(
            demand.id,
            &fields,
            &flagged_words,
            &file_ids,
            auth.0.account.id,
            &province,
            state.clock.unix(),
        )
        .await?;
    for id in &removed {
        if let Ok(file) = state.store.file(*id).await {
            uploads::discard(&state, &file).await;
        }
    }
    let detail = if removed.is_empty() {
        fields.title.clone()
    } else {
        let ids: Vec<String> = removed.iter().map(|id| format!("file:{id}")).collect();
        format!("{}; removed {}", fields.title, ids.join(" "))
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&auth.0.account),
        "demand.edit",
        &format!("demand:{}", demand.id),
        Outcome::Success,
        &detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/demands/items/{}", demand.id)).into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    action: String,
}

/// `POST /demands/items/{id}/status`: withdraw, close, awarded, or reopen a closed one.
pub async fn set_status(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let demand = owned(&state, &auth.0, &id).await?;
    use DemandStatus as S;
    let next = match (form.action.as_str(), demand.status) {
        ("withdraw", S::Pending | S::Open | S::Closed | S::Rejected) => S::Withdrawn,
        ("close", S::Open) => S::Closed,
        ("award", S::Open | S::Closed) => S::Awarded,
        ("reopen", S::Closed) => S::Open,
        (a, _) if ["withdraw", "close", "award", "reopen"].contains(&a) => {
            return Err(AppError::bad_request("action", "当前状态下不能进行此操作"));
        }
        _ => return Err(AppError::bad_request("action", "未知的操作")),
    };
    state
        .store
        .set_demand_status(demand.id, next, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&auth.0.account),
        &format!("demand.{}", form.action),
        &format!("demand:{}", demand.id),
        Outcome::Success,
        next.as_str(),
    )
    .await?;
    Ok(Redirect::to("/demands/mine").into_response())
}
