//! Self-registration continued: a supplier's primary account (主账号) keeps its
//! directory profile (`/account/profile`), adds qualifications with scans (checked by
//! content and size), and submits the profile for review by its province's
//! association (out of the zone: `default_review_province`). The decision is taken in
//! the review queue (`/review`, kind 机构资料) or on the supplier's page; approval lists
//! a self-registered profile and verifies the scans it was submitted with. Once a
//! profile is listed, an edit waits beside it until approved, so that what the
//! directory shows has always been reviewed.
//!
//! Reviewers also mark profiles for spot checks (抽查) and record the outcome, and see
//! the licence watch of their province (`/review/suppliers`). Every write here is in
//! the audit log.

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Ctx, Viewer};
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::review_queue::{self, in_scope, scope};
use crate::routes::suppliers::{MODES, QualificationRow, qualification_row, visible_supplier};
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy};
use askama::Template;
use axum::Form;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::hw::{HwCatalogue, HwCategory};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::Permission;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_domain::time::{format_date, format_unix_zh, parse_date};
use greenbridge_store::suppliers::{
    HwCategoryItem, HwMode, NewQualification, ProfileSaved, ProfileUpdate, QualificationKind,
    QualificationSource, SizeBand, WatchFilter,
};
use greenbridge_store::{NewReviewItem, OrgSide, Organisation, Outcome, ReviewKind, StoreError};
use serde::Deserialize;

/// Qualification scans: PDF or image, at most 10 MB.
pub const SCAN_POLICY: UploadPolicy = UploadPolicy {
    allowed: &[FileKind::Pdf, FileKind::Jpeg, FileKind::Png],
    max_bytes: 10 * 1024 * 1024,
};
const SCAN_KEY_PREFIX: &str = "qualifications";

pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(SCAN_POLICY.body_limit())
}

/// The viewer's organisation, if it is a supplier and the viewer its primary account.
async fn own_supplier(state: &AppState, auth: &Authenticated) -> AppResult<(Viewer, Organisation)> {
    let viewer = auth.require(Permission::ManageOwnOrganisation)?.clone();
    let organisation_id = viewer.account.organisation_id.ok_or(AppError::NotFound)?;
    let organisation = state.store.organisation(organisation_id).await?;
    if organisation.side != OrgSide::Supplier {
        return Err(AppError::NotFound);
    }
    if state.store.primary_account_of(organisation_id).await? != Some(viewer.account.id) {
        return Err(AppError::Forbidden);
    }
    Ok((viewer, organisation))
}

pub struct CategoryChoice {
    pub code: String,
    pub name: String,
    pub group: bool,
    pub checked: bool,
}

pub struct WatchRow {
    pub organisation_id: i64,
    pub organisation: String,
    pub region: String,
    pub kind: &'static str,
    pub number: String,
    pub valid_to: String,
    pub label: String,
    pub watch: &'static str,
}

#[derive(Template)]
#[template(path = "supplier_profile.html")]
struct ProfilePage {
    page: Page,
    organisation_id: i64,
    name: String,
    listed: bool,
    /// A listed profile's edit waits for review (the form shows it).
    changes_waiting: bool,
    former_names: String,
    size: String,
    sizes: [&'static str; 4],
    categories: Vec<CategoryChoice>,
    contact_email: String,
    description: String,
    website: String,
    qualifications: Vec<(QualificationRow, bool)>,
    review_status: Option<String>,
    review_reason: String,
    review_pending: bool,
    expiring: Vec<WatchRow>,
    notice: Option<String>,
    error: Option<String>,
    accept: String,
    allowed: String,
    modes: [&'static str; 4],
}

/// The profile form. Read from the raw body: `category` repeats (checkboxes).
#[derive(Default)]
pub struct ProfileForm {
    former_names: String,
    size: String,
    category: Vec<String>,
    contact_email: String,
    description: String,
    website: String,
}

impl ProfileForm {
    fn parse(body: &[u8]) -> ProfileForm {
        let mut form = ProfileForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "former_names" => form.former_names = value,
                "size" => form.size = value,
                "category" => form.category.push(value),
                "contact_email" => form.contact_email = value,
                "description" => form.description = value,
                "website" => form.website = value,
                _ => {}
            }
        }
        form
    }
}

/// One field of a listed profile that a waiting edit changes.
pub struct ProfileChange {
    pub field: &'static str,
    pub listed: String,
    pub proposed: String,
}

/// What the waiting edit `pending` changes of the listed profile `live`, field by
/// field, as the reviewer reads it (what approval would write).
pub fn profile_changes(
    live: &greenbridge_store::suppliers::SupplierProfile,
    pending: &greenbridge_store::suppliers::PendingProfile,
) -> Vec<ProfileChange> {
    let services = ServiceCatalogue::embedded();
    let names = |codes: &[String]| {
        codes
            .iter()
            .map(|c| services.get(c).map_or(c.clone(), |c| c.name.clone()))
            .collect::<Vec<_>>()
            .join("、")
    };
    let size = |band: Option<SizeBand>| band.map_or("未填", SizeBand::as_str).to_string();
    let live = ProfileUpdate::of(live);
    let pending = pending.applied_to(&live);
    [
        (
            "曾用名",
            live.former_names.join("、"),
            pending.former_names.join("、"),
        ),
        ("规模", size(live.size_band), size(pending.size_band)),
        (
            "服务类别",
            names(&live.service_categories),
            names(&pending.service_categories),
        ),
        (
            "联系邮箱",
            live.contact_email,
            pending.contact_email.clone(),
        ),
        ("网站", live.website, pending.website.clone()),
        ("机构简介", live.description, pending.description.clone()),
    ]
    .into_iter()
    .filter(|(_, listed, proposed)| listed != proposed)
    .map(|(field, listed, proposed)| ProfileChange {
        field,
        listed,
        proposed,
    })
    .collect()
}

async fn profile_page(
    state: &AppState,
    auth: &Authenticated,
    organisation: &Organisation,
    form: Option<&ProfileForm>,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<String> {
    let live = state.store.supplier_profile(organisation.id).await?;
    // The form shows the edit waiting for review, where there is one.
    let pending = state.store.pending_profile(organisation.id).await?;
    let profile = match &pending {
        Some(pending) => pending.applied_to(&ProfileUpdate::of(&live)),
        None => ProfileUpdate::of(&live),
    };
    let today = state.clock.today();
    let selected: Vec<String> = match form {
        Some(f) => f.category.clone(),
        None => profile.service_categories.clone(),
    };
    let categories = ServiceCatalogue::embedded()
        .all()
        .iter()
        .map(|c| CategoryChoice {
            checked: selected.contains(&c.code),
            code: c.code.clone(),
            name: c.name.clone(),
            group: c.is_group(),
        })
        .collect();
    let qualifications = state
        .store
        .qualifications_of(organisation.id)
        .await?
        .iter()
        .map(|q| {
            (
                qualification_row(q, today),
                q.source != QualificationSource::Import,
            )
        })
        .collect();
    let review = state
        .store
        .latest_review_of(ReviewKind::Profile, "organisation", organisation.id)
        .await?;
    let expiring = watch_rows(
        state,
        &WatchFilter {
            organisation_id: Some(organisation.id),
            region_prefix: None,
            include_expired: true,
        },
    )
    .await?;
    let page = Page::new(state, &auth.1, "机构资料").await;
    Ok(ProfilePage {
        page,
        organisation_id: organisation.id,
        name: organisation.name.clone(),
        listed: live.listed,
        changes_waiting: pending.is_some(),
        former_names: match form {
            Some(f) => f.former_names.clone(),
            None => profile.former_names.join("\n"),
        },
        size: match form {
            Some(f) => f.size.clone(),
            None => profile
                .size_band
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        },
        sizes: ["微型", "小型", "中型", "大型"],
        categories,
        contact_email: form.map_or(profile.contact_email.clone(), |f| f.contact_email.clone()),
        description: form.map_or(profile.description.clone(), |f| f.description.clone()),
        website: form.map_or(profile.website.clone(), |f| f.website.clone()),
        qualifications,
        review_pending: review
            .as_ref()
            .is_some_and(|r| r.status == greenbridge_store::ReviewStatus::Pending),
        review_status: review.as_ref().map(|r| {
            format!(
                "{}（{}）",
                r.status.label_zh(),
                format_unix_zh(r.decided_at.unwrap_or(r.created_at))
            )
        }),
        review_reason: review.map(|r| r.reason).unwrap_or_default(),
        expiring,
        notice,
        error,
        accept: SCAN_POLICY.accept_attribute(),
        allowed: SCAN_POLICY.allowed_labels(),
        modes: MODES,
    }
    .render()?)
}

async fn watch_rows(state: &AppState, filter: &WatchFilter<'_>) -> AppResult<Vec<WatchRow>> {
    let today = state.clock.today();
    let tree = RegionTree::embedded();
    Ok(state
        .store
        .expiring_qualifications(today, filter)
        .await?
        .into_iter()
        .map(|e| {
            let watch = e.qualification.watch(today);
            WatchRow {
                organisation_id: e.qualification.organisation_id,
                organisation: e.organisation_name,
                region: tree.full_name(&e.region_code),
                kind: e.qualification.kind.label_zh(),
                number: e.qualification.number.clone(),
                valid_to: e
                    .qualification
                    .valid_to
                    .map(format_date)
                    .unwrap_or_default(),
                label: watch.label_zh(),
                watch: watch.as_str(),
            }
        })
        .collect())
}

fn is_web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<')
}

/// `POST /account/profile`: saves the profile (it stays as it is in the directory
/// until it is submitted and approved, for a self-registered supplier).
pub async fn save(
    State(state): State<AppState>,
    auth: Authenticated,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> AppResult<Response> {
    let (viewer, organisation) = own_supplier(&state, &auth).await?;
    let form = ProfileForm::parse(&body);
    if let Some(refused) = refuse_while_in_review(&state, &auth, &organisation, Some(&form)).await?
    {
        return Ok(refused);
    }
    let former_names: Vec<String> = form
        .former_names
        .lines()
        .map(|l| l.trim().chars().take(100).collect::<String>())
        .filter(|l| !l.is_empty())
        .take(10)
        .collect();
    let size_band = match form.size.trim() {
        "" => Ok(None),
        s => SizeBand::parse(s)
            .map(Some)
            .ok_or("规模只能是微型、小型、中型或大型"),
    };
    let services = ServiceCatalogue::embedded();
    let unknown = form.category.iter().find(|c| services.get(c).is_none());
    let email = form.contact_email.trim().to_string();
    let website = form.website.trim().to_string();
    let error = match (&size_band, unknown) {
        (Err(message), _) => Some(message.to_string()),
        (_, Some(code)) => Some(format!("没有服务类别 {code}")),
        _ if !email.is_empty() && (!email.contains('@') || email.chars().count() > 100) => {
            Some("电子邮箱格式不正确".to_string())
        }
        _ if !website.is_empty() && (!is_web_address(&website) || website.len() > 300) => {
            Some("网站应以 http:// 或 https:// 开头".to_string())
        }
        _ => None,
    };
    if let Some(error) = error {
        let html =
            profile_page(&state, &auth, &organisation, Some(&form), None, Some(error)).await?;
        return Ok(crate::errors::rendered(
            axum::http::StatusCode::BAD_REQUEST,
            Html(html),
        ));
    }
    let mut categories: Vec<String> = Vec::new();
    for code in form.category.iter().take(30) {
        if !categories.contains(code) {
            categories.push(code.clone());
        }
    }
    let saved = state
        .store
        .update_supplier_profile(
            organisation.id,
            &ProfileUpdate {
                former_names,
                size_band: size_band.unwrap_or(None),
                service_categories: categories,
                contact_email: email,
                description: form.description.trim().chars().take(2000).collect(),
                website,
            },
            state.clock.unix(),
        )
        .await?;
    let (detail, notice) = match saved {
        ProfileSaved::Live => ("", "saved"),
        ProfileSaved::Pending => ("waiting for review", "changes"),
        ProfileSaved::Withdrawn => ("same as listed: waiting edit dropped", "withdrawn"),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.profile.update",
        &format!("organisation:{}", organisation.id),
        Outcome::Success,
        detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/account/profile?{notice}=1")).into_response())
}

/// While the association reviews the profile, what it reviews stays as
/// submitted: edits and qualification changes are refused (409) with the form
/// as typed, until the decision.
async fn refuse_while_in_review(
    state: &AppState,
    auth: &Authenticated,
    organisation: &Organisation,
    form: Option<&ProfileForm>,
) -> AppResult<Option<Response>> {
    let in_review = state
        .store
        .latest_review_of(ReviewKind::Profile, "organisation", organisation.id)
        .await?
        .is_some_and(|r| r.status == greenbridge_store::ReviewStatus::Pending);
    if !in_review {
        return Ok(None);
    }
    let message =
        "资料正在审核中，审核结论作出前不能修改资料或资质；结论出来后可再修改并重新提交。";
    let html = profile_page(state, auth, organisation, form, None, Some(message.into())).await?;
    Ok(Some(crate::errors::rendered(
        axum::http::StatusCode::CONFLICT,
        Html(html),
    )))
}

#[derive(Default)]
struct QualificationFields {
    kind: String,
    number: String,
    title: String,
    issuer: String,
    valid_from: String,
    valid_to: String,
    hw: String,
    modes: Vec<String>,
    capacity: String,
}

fn new_qualification(f: &QualificationFields) -> Result<NewQualification, String> {
    let kind = QualificationKind::parse(f.kind.trim()).ok_or("请选择资质类型")?;
    let number: String = f.number.trim().chars().take(100).collect();
    if number.is_empty() {
        return Err("请填写证书或许可证编号".into());
    }
    let date = |text: &str, label: &str| -> Result<Option<time::Date>, String> {
        match text.trim() {
            "" => Ok(None),
            t => parse_date(t).map(Some).map_err(|e| format!("{label}：{e}")),
        }
    };
    let valid_from = date(&f.valid_from, "有效期起")?;
    let valid_to = date(&f.valid_to, "有效期至")?;
    if let (Some(from), Some(to)) = (valid_from, valid_to)
        && to < from
    {
        return Err("有效期至不能早于有效期起".into());
    }
    let mut q = NewQualification::new(kind, number);
    q.title = f.title.trim().chars().take(100).collect();
    q.issuer = f.issuer.trim().chars().take(100).collect();
    q.valid_from = valid_from;
    q.valid_to = valid_to;
    if kind == QualificationKind::HwLicence {
        for part in
            f.hw.split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
                .filter(|p| !p.is_empty())
        {
            let category = HwCategory::parse(part).map_err(|e| format!("危废类别 {part}：{e}"))?;
            if HwCatalogue::embedded().category(&category).is_none() {
                return Err(format!("《国家危险废物名录》中没有类别 {category}"));
            }
            if !q
                .hw_categories
                .iter()
                .any(|c| c.category == category.as_str())
            {
                q.hw_categories.push(HwCategoryItem {
                    category: category.as_str().to_string(),
                    waste_codes: Vec::new(),
                    excluded_codes: Vec::new(),
                    capacity_kg: None,
                });
            }
        }
        for mode in &f.modes {
            let mode = HwMode::parse(mode).ok_or("经营方式只能是收集、贮存、利用或处置")?;
            if !q.modes.contains(&mode) {
                q.modes.push(mode);
            }
        }
        let capacity = f.capacity.trim();
        if !capacity.is_empty() {
            let tonnes: f64 = capacity
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite() && *t >= 0.0 && *t < 1e9)
                .ok_or("核准能力应为不小于 0 的数字（吨/年）")?;
            q.capacity_kg = Some((tonnes * 1000.0).round() as i64);
        }
    }
    Ok(q)
}

/// `POST /account/profile/qualifications` (multipart): a qualification with its scan.
pub async fn add_qualification(
    State(state): State<AppState>,
    auth: Authenticated,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let (viewer, organisation) = own_supplier(&state, &auth).await?;
    if let Some(refused) = refuse_while_in_review(&state, &auth, &organisation, None).await? {
        return Ok(refused);
    }
    let mut fields = QualificationFields::default();
    let mut stored = None;
    let mut error: Option<String> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::bad_request("scan", "上传未完成，请重试"))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "scan" {
            if field.file_name().is_none_or(str::is_empty) {
                continue;
            }
            match uploads::receive(
                &state,
                field,
                &SCAN_POLICY,
                SCAN_KEY_PREFIX,
                Some(viewer.account.id),
            )
            .await
            {
                Ok(file) => stored = Some(file),
                Err(UploadError::Internal(e)) => return Err(AppError::Internal(e)),
                Err(e) => error = Some(format!("扫描件：{e}")),
            }
            continue;
        }
        let value: String = field
            .text()
            .await
            .map_err(|_| AppError::bad_request(&name, "表单不完整"))?
            .chars()
            .take(2000)
            .collect();
        match name.as_str() {
            "kind" => fields.kind = value,
            "number" => fields.number = value,
            "title" => fields.title = value,
            "issuer" => fields.issuer = value,
            "valid_from" => fields.valid_from = value,
            "valid_to" => fields.valid_to = value,
            "hw" => fields.hw = value,
            "mode" => fields.modes.push(value),
            "capacity" => fields.capacity = value,
            _ => {}
        }
    }
    let parsed = new_qualification(&fields);
    let error = error
        .or_else(|| parsed.as_ref().err().cloned())
        .or_else(|| {
            stored
                .is_none()
                .then(|| format!("请上传资质证书扫描件（{}）", SCAN_POLICY.allowed_labels()))
        });
    if let Some(error) = error {
        if let Some(file) = &stored {
            uploads::discard(&state, file).await;
        }
        let html = profile_page(&state, &auth, &organisation, None, None, Some(error)).await?;
        return Ok(crate::errors::rendered(
            axum::http::StatusCode::BAD_REQUEST,
            Html(html),
        ));
    }
    let (Ok(new), Some(file)) = (parsed, stored) else {
        return Err(AppError::Internal(anyhow::anyhow!("checked above")));
    };
    let id = state
        .store
        .add_qualification(
            organisation.id,
            &new,
            QualificationSource::Upload,
            Some(file.id),
            state.clock.unix(),
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.qualification.add",
        &format!("qualification:{id}"),
        Outcome::Success,
        &format!("{} {}", new.kind.as_str(), new.number),
    )
    .await?;
    Ok(Redirect::to("/account/profile?added=1").into_response())
}

/// `POST /account/profile/qualifications/{id}/delete`: only its own uploads.
pub async fn delete_qualification(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (viewer, organisation) = own_supplier(&state, &auth).await?;
    if let Some(refused) = refuse_while_in_review(&state, &auth, &organisation, None).await? {
        return Ok(refused);
    }
    let qualification = match state.store.qualification(id).await {
        Ok(q) => q,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if qualification.organisation_id != organisation.id
        || qualification.source == QualificationSource::Import
    {
        return Err(AppError::NotFound);
    }
    state
        .store
        .delete_own_qualification(organisation.id, id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.qualification.delete",
        &format!("qualification:{id}"),
        Outcome::Success,
        &qualification.number,
    )
    .await?;
    Ok(Redirect::to("/account/profile").into_response())
}

/// `POST /account/profile/submit`: into the review queue of its province.
pub async fn submit(State(state): State<AppState>, auth: Authenticated) -> AppResult<Response> {
    let (viewer, organisation) = own_supplier(&state, &auth).await?;
    let province = review_queue::route_province(&state.config, &organisation.region_code);
    let submitted = state
        .store
        .submit_review(
            &NewReviewItem {
                kind: ReviewKind::Profile,
                subject_type: "organisation",
                subject_id: organisation.id,
                organisation_id: Some(organisation.id),
                province_code: &province,
                submitted_by: Some(viewer.account.id),
            },
            state.clock.unix(),
        )
        .await;
    let notice = match submitted {
        Ok(item) => {
            audit::record(
                &state,
                &auth.1,
                Actor::account(&viewer.account),
                "supplier.profile.submit",
                &format!("organisation:{}", organisation.id),
                Outcome::Success,
                &format!("review:{item} → {province}"),
            )
            .await?;
            "submitted"
        }
        Err(StoreError::Conflict) => "pending",
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/account/profile?{notice}=1")).into_response())
}

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    saved: Option<String>,
    changes: Option<String>,
    withdrawn: Option<String>,
    added: Option<String>,
    submitted: Option<String>,
    pending: Option<String>,
}

/// `GET /account/profile` with the outcome of the last action.
pub async fn form_with_notice(
    State(state): State<AppState>,
    auth: Authenticated,
    axum::extract::Query(query): axum::extract::Query<ProfileQuery>,
) -> AppResult<Html<String>> {
    let (_, organisation) = own_supplier(&state, &auth).await?;
    let notice = if query.saved.is_some() {
        Some("资料已保存。修改后请提交审核，审核通过后在名录中公开。")
    } else if query.changes.is_some() {
        Some("修改已保存，尚未公开：名录中仍显示审核通过的资料。请提交审核，协会通过后更新。")
    } else if query.withdrawn.is_some() {
        Some("资料与名录中公开的相同，待审核的修改已撤回。")
    } else if query.added.is_some() {
        Some("资质已添加，提交审核后由协会核验。")
    } else if query.submitted.is_some() {
        Some("已提交审核，所在省市的环保产业协会审核后会通知您。")
    } else if query.pending.is_some() {
        Some("资料已在审核中，请等待结论。")
    } else {
        None
    };
    Ok(Html(
        profile_page(
            &state,
            &auth,
            &organisation,
            None,
            notice.map(str::to_string),
            None,
        )
        .await?,
    ))
}

/// `GET /services/suppliers/{id}/qualifications/{qid}/scan`: the uploaded scan, for
/// the organisation's own staff and its reviewers.
pub async fn scan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, qid)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (_, _, access) = visible_supplier(&state, ctx.viewer.as_ref(), id).await?;
    if !access.own && !access.reviewer {
        return Err(AppError::NotFound);
    }
    let qualification = match state.store.qualification(qid).await {
        Ok(q) => q,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if qualification.organisation_id != id {
        return Err(AppError::NotFound);
    }
    let file_id = qualification.file_id.ok_or(AppError::NotFound)?;
    let file = state.store.file(file_id).await?;
    downloads::serve_file(&state, &file, &headers, None).await
}

// ---------------------------------------------------------------------------------
// Reviewers: licence watch, spot checks.

#[derive(Template)]
#[template(path = "review_suppliers.html")]
struct ReviewPage {
    page: Page,
    scope_name: String,
    pending: Vec<(i64, String, String)>,
    expiring: Vec<WatchRow>,
    not_in_latest: Vec<WatchRow>,
    spot_checks: Vec<(i64, String, String, String)>,
}

/// `GET /review/suppliers`: what the reviewer's province needs looking at.
pub async fn review_overview(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let scope = scope(viewer)?;
    let tree = RegionTree::embedded();
    let prefix = scope.as_deref().map(|p| &p[..2]);
    let mut pending = Vec::new();
    for item in state
        .store
        .pending_reviews(
            &greenbridge_store::ReviewFilter {
                province: scope.as_deref(),
                kind: Some(ReviewKind::Profile),
            },
            100,
            0,
        )
        .await?
    {
        if let Some(org) = item.organisation_id {
            let organisation = state.store.organisation(org).await?;
            pending.push((org, organisation.name, format_unix_zh(item.created_at)));
        }
    }
    // Licences of organisations the province reviews: its own region (the default
    // association also sees the rest of the country through its queue, not here).
    let expiring = watch_rows(
        &state,
        &WatchFilter {
            organisation_id: None,
            region_prefix: prefix,
            include_expired: false,
        },
    )
    .await?;
    let today = state.clock.today();
    let not_in_latest = state
        .store
        .qualifications_not_in_latest(prefix)
        .await?
        .into_iter()
        .map(|e| {
            let watch = e.qualification.watch(today);
            WatchRow {
                organisation_id: e.qualification.organisation_id,
                organisation: e.organisation_name,
                region: tree.full_name(&e.region_code),
                kind: e.qualification.kind.label_zh(),
                number: e.qualification.number.clone(),
                valid_to: e
                    .qualification
                    .valid_to
                    .map(format_date)
                    .unwrap_or_default(),
                label: watch.label_zh(),
                watch: watch.as_str(),
            }
        })
        .collect();
    let mut spot_checks = Vec::new();
    for check in state.store.open_spot_checks(scope.as_deref()).await? {
        let organisation = state.store.organisation(check.organisation_id).await?;
        spot_checks.push((
            check.organisation_id,
            organisation.name,
            check.note,
            format_unix_zh(check.marked_at),
        ));
    }
    let scope_name = match &scope {
        Some(province) => tree.full_name(province),
        None => "全部省市".to_string(),
    };
    let page = Page::new(&state, &auth.1, "机构名录审核").await;
    Ok(Html(
        ReviewPage {
            page,
            scope_name,
            pending,
            expiring,
            not_in_latest,
            spot_checks,
        }
        .render()?,
    ))
}

/// The organisation if `viewer` reviews its province (admins: any); 404 otherwise.
async fn reviewed_supplier(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> AppResult<(Organisation, String)> {
    let organisation = state
        .store
        .find_organisation(id)
        .await?
        .filter(|o| o.side == OrgSide::Supplier)
        .ok_or(AppError::NotFound)?;
    let province = review_queue::route_province(&state.config, &organisation.region_code);
    if !in_scope(&scope(viewer)?, &province) {
        return Err(AppError::NotFound);
    }
    Ok((organisation, province))
}

#[derive(Deserialize)]
pub struct SpotCheckForm {
    #[serde(default)]
    note: String,
}

/// `POST /review/suppliers/{id}/spot-check`: marks the profile for a spot check.
pub async fn mark_spot_check(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<SpotCheckForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let (_, province) = reviewed_supplier(&state, &viewer, id).await?;
    let note: String = form.note.trim().chars().take(500).collect();
    let check = match state
        .store
        .mark_spot_check(id, &province, &note, viewer.account.id, state.clock.unix())
        .await
    {
        Ok(check) => check,
        Err(StoreError::Conflict) => {
            return Err(AppError::bad_request(
                "note",
                "该机构已有一项未完成的抽查，请先记录其结果。",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.spot_check.mark",
        &format!("organisation:{id}"),
        Outcome::Success,
        &format!("spot_check:{check} {note}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/services/suppliers/{id}?spot=1")).into_response())
}

#[derive(Deserialize)]
pub struct UnlistForm {
    #[serde(default)]
    reason: String,
}

/// `POST /review/suppliers/{id}/unlist`: a reviewer of the organisation's province
/// takes it out of the directory, with a reason the supplier reads; audited.
pub async fn unlist(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<UnlistForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let (_, province) = reviewed_supplier(&state, &viewer, id).await?;
    let reason: String = form.reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(AppError::bad_request(
            "reason",
            "请填写撤下的理由（机构可见）",
        ));
    }
    match state
        .store
        .unlist_supplier(
            id,
            &province,
            &reason,
            viewer.account.id,
            state.clock.unix(),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(AppError::bad_request("reason", "该机构不在名录中"));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.unlist",
        &format!("organisation:{id}"),
        Outcome::Success,
        &reason,
    )
    .await?;
    // The supplier hears of it, as of a review's conclusion.
    if let Some(account) = state.store.primary_account_of(id).await? {
        let organisation = state.store.organisation(id).await?;
        crate::notify::send(
            &state,
            account,
            "review.profile",
            "机构已从名录中撤下",
            &format!(
                "{}已由协会从机构名录中撤下。\n理由：{reason}\n修改资料后可重新提交审核。",
                organisation.name
            ),
            "/account/profile",
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/services/suppliers/{id}?unlisted=1")).into_response())
}

#[derive(Deserialize)]
pub struct SpotResultForm {
    #[serde(default)]
    result: String,
    #[serde(default)]
    outcome: String,
}

/// `POST /review/spot-checks/{id}`: records the outcome of an open spot check.
pub async fn record_spot_check(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<SpotResultForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let check = match state.store.spot_check(id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if !in_scope(&scope(&viewer)?, &check.province_code) {
        return Err(AppError::NotFound);
    }
    let passed = match form.result.as_str() {
        "passed" => true,
        "failed" => false,
        _ => return Err(AppError::bad_request("result", "请选择合格或不合格")),
    };
    let outcome: String = form.outcome.trim().chars().take(1000).collect();
    if outcome.is_empty() {
        return Err(AppError::bad_request("outcome", "请填写抽查结论"));
    }
    match state
        .store
        .record_spot_check(id, passed, &outcome, viewer.account.id, state.clock.unix())
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "supplier.spot_check.record",
        &format!("organisation:{}", check.organisation_id),
        Outcome::Success,
        &format!(
            "spot_check:{id} {} {outcome}",
            if passed { "passed" } else { "failed" }
        ),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/services/suppliers/{}?spot=1",
        check.organisation_id
    ))
    .into_response())
}

/// `GET /review/corrections/{id}`: a correction's supplier page (where the reviewer
/// reads the report beside the profile), for the reviewers of its province.
pub async fn correction(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let correction = match state.store.correction(id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    reviewed_supplier(&state, &viewer, correction.organisation_id).await?;
    Ok(Redirect::to(&format!(
        "/services/suppliers/{}#corrections",
        correction.organisation_id
    ))
    .into_response())
}
