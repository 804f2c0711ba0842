//! Reviewers' pages: the review queue of their own province (`/review`: registrations
//! to verify, organisation claims, later profiles, demands and FAQ answers), the claims
//! page with the licence scans (`/review/claims`, deciding through the same queue), and
//! one-time password-reset links for accounts they are responsible for. Admins see
//! every province. Anything outside the reviewer's province answers 404.

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Viewer};
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::review_queue;
use crate::review_queue::{in_scope, scope};
use crate::routes::account::RESET_HOURS;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{Account, Outcome, ReviewFilter, ReviewItem, ReviewKind, ReviewStatus};
use serde::Deserialize;

pub struct ClaimItem {
    pub id: i64,
    pub organisation: String,
    pub credit_code: String,
    pub region: String,
    pub claimant: String,
    pub claimant_login: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "review_claims.html")]
struct ClaimsPage {
    page: Page,
    items: Vec<ClaimItem>,
    scope_name: String,
    notice: Option<String>,
}

async fn claims_page(
    state: &AppState,
    auth: &Authenticated,
    notice: Option<String>,
) -> AppResult<String> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let scope = scope(viewer)?;
    let tree = RegionTree::embedded();
    let mut items = Vec::new();
    for claim in state.store.pending_claims(scope.as_deref()).await? {
        let organisation = state.store.organisation(claim.organisation_id).await?;
        let claimant = state.store.account(claim.account_id).await?;
        items.push(ClaimItem {
            id: claim.id,
            organisation: organisation.name,
            credit_code: organisation.credit_code.to_string(),
            region: tree.full_name(&organisation.region_code),
            claimant: claimant.display_name,
            claimant_login: claimant.login,
            submitted: format_unix_zh(claim.created_at),
        });
    }
    let scope_name = match &scope {
        Some(province) => tree.full_name(province),
        None => "全部省市".to_string(),
    };
    let page = Page::new(state, &auth.1, "认领申请审核").await;
    Ok(ClaimsPage {
        page,
        items,
        scope_name,
        notice,
    }
    .render()?)
}

pub async fn claims(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    Ok(Html(claims_page(&state, &auth, None).await?))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// Decides a claim (by claim id) through the review queue.
pub async fn decide(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let item = state
        .store
        .latest_review_of(ReviewKind::Claim, "claim", id)
        .await?
        .ok_or(AppError::NotFound)?;
    let decided = review_queue::decide(
        &state,
        &auth.1,
        &viewer,
        item.id,
        &form.decision,
        &form.reason,
    )
    .await?;
    let notice = if decided.status == ReviewStatus::Approved {
        "已通过认领申请，申请人已加入该单位。"
    } else {
        "已驳回认领申请，申请人会看到您填写的理由。"
    };
    Ok(Html(claims_page(&state, &auth, Some(notice.to_string())).await?).into_response())
}

/// The licence scan of a claim, for the reviewers who decide it.
pub async fn licence(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let claim = state.store.claim(id).await?;
    if !in_scope(&scope(viewer)?, &claim.province_code) {
        return Err(AppError::NotFound);
    }
    // `licence_path` holds the scan's key in the file store.
    let file = state.store.file_by_key(&claim.licence_path).await?;
    downloads::serve_file(&state, &file, &headers, None).await
}

#[derive(Template)]
#[template(path = "reset_link.html")]
struct ResetLinkPage {
    page: Page,
    account: Account,
    link: String,
    hours: i64,
}

/// Whether `viewer` may reset `target`'s password: admins anyone but other admins'
/// (those reset each other only on the command line), reviewers the members and
/// claimants of organisations in their province.
async fn may_reset(state: &AppState, viewer: &Viewer, target: &Account) -> AppResult<bool> {
    if target.role.is_staff() {
        return Ok(viewer.account.role == Role::Admin && target.role != Role::Admin);
    }
    let Some(scope) = scope(viewer)? else {
        return Ok(true);
    };
    let organisation_ids: Vec<i64> = match target.organisation_id {
        Some(id) => vec![id],
        None => state
            .store
            .claims_of_account(target.id)
            .await?
            .into_iter()
            .map(|c| c.organisation_id)
            .collect(),
    };
    for id in organisation_ids {
        let organisation = state.store.organisation(id).await?;
        if organisation.region_code.starts_with(&scope[..2]) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn reset_link(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let viewer = auth.require(Permission::ResetOtherPasswords)?.clone();
    let target = state.store.account(id).await?;
    if !may_reset(&state, &viewer, &target).await? {
        return Err(AppError::NotFound);
    }
    let token = greenbridge_store::new_token();
    let now = state.clock.unix();
    state
        .store
        .create_password_reset(
            &token,
            target.id,
            Some(viewer.account.id),
            now,
            now + RESET_HOURS * 3600,
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "account.reset_link",
        &format!("account:{}", target.id),
        Outcome::Success,
        "",
    )
    .await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    let link = format!("{}/password/reset/{token}", base.trim_end_matches('/'));
    let page = Page::new(&state, &auth.1, "重置密码链接").await;
    Ok(Html(
        ResetLinkPage {
            page,
            account: target,
            link,
            hours: RESET_HOURS,
        }
        .render()?,
    ))
}

/// Items on one page of the queue.
const QUEUE_PAGE_SIZE: i64 = 20;

/// One pending item as the reviewer sees it.
pub struct QueueItem {
    pub id: i64,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub province: String,
    pub organisation: String,
    pub credit_code: String,
    pub side: &'static str,
    pub region: String,
    pub submitter: String,
    pub submitted: String,
    /// For claims: the licence scan.
    pub licence_link: Option<String>,
    /// The reviewed subject's id (a demand's page links from it).
    pub subject_id: i64,
}

pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "review_queue.html")]
struct QueuePage {
    page: Page,
    items: Vec<QueueItem>,
    kinds: Vec<KindOption>,
    kind: String,
    scope_name: String,
    total: i64,
    page_no: i64,
    pages: i64,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: Option<i64>,
}

async fn queue_item(state: &AppState, item: ReviewItem) -> AppResult<QueueItem> {
    let tree = RegionTree::embedded();
    let organisation = match item.organisation_id {
        Some(id) => Some(state.store.organisation(id).await?),
        None => None,
    };
    let submitter = match item.submitted_by {
        Some(id) => {
            let account = state.store.account(id).await?;
            format!("{}（{}）", account.display_name, account.login)
        }
        None => String::new(),
    };
    Ok(QueueItem {
        id: item.id,
        kind: item.kind.as_str(),
        kind_label: item.kind.label_zh(),
        province: tree.full_name(&item.province_code),
        organisation: organisation
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        credit_code: organisation
            .as_ref()
            .map(|o| o.credit_code.to_string())
            .unwrap_or_default(),
        side: organisation.as_ref().map_or("", |o| o.side.label_zh()),
        region: organisation
            .as_ref()
            .map(|o| tree.full_name(&o.region_code))
            .unwrap_or_default(),
        submitter,
        submitted: format_unix_zh(item.created_at),
        licence_link: (item.kind == ReviewKind::Claim)
            .then(|| format!("/review/claims/{}/licence", item.subject_id)),
        subject_id: item.subject_id,
    })
}

async fn queue_page(
    state: &AppState,
    auth: &Authenticated,
    query: &QueueQuery,
    notice: Option<String>,
) -> AppResult<String> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let scope = scope(viewer)?;
    let kind = match query.kind.as_str() {
        "" => None,
        other => Some(
            ReviewKind::parse(other)
                .ok_or_else(|| AppError::bad_request("kind", "没有这种审核类型"))?,
        ),
    };
    let filter = ReviewFilter {
        province: scope.as_deref(),
        kind,
    };
    let total = state.store.count_pending_reviews(&filter).await?;
    let pages = ((total + QUEUE_PAGE_SIZE - 1) / QUEUE_PAGE_SIZE).max(1);
    let page_no = query.page.unwrap_or(1).clamp(1, pages);
    let mut items = Vec::new();
    for item in state
        .store
        .pending_reviews(&filter, QUEUE_PAGE_SIZE, (page_no - 1) * QUEUE_PAGE_SIZE)
        .await?
    {
        items.push(queue_item(state, item).await?);
    }
    let kinds = ReviewKind::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: k.label_zh(),
            selected: Some(k) == kind,
        })
        .collect();
    let scope_name = match &scope {
        Some(province) => RegionTree::embedded().full_name(province),
        None => "全部省市".to_string(),
    };
    let page = Page::new(state, &auth.1, "审核").await;
    Ok(QueuePage {
        page,
        items,
        kinds,
        kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        scope_name,
        total,
        page_no,
        pages,
        notice,
    }
    .render()?)
}

/// `/review`: the pending items of the reviewer's province (admins: all), oldest
/// first, filtered by kind.
pub async fn queue(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<QueueQuery>,
) -> AppResult<Html<String>> {
    Ok(Html(queue_page(&state, &auth, &query, None).await?))
}

#[derive(Deserialize)]
pub struct ItemDecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// The list's filter, to show the same list again.
    #[serde(default)]
    kind: String,
}

/// `POST /review/{id}`: approve or reject one item (a reason is required to reject).
pub async fn decide_item(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<ItemDecisionForm>,
) -> AppResult<Html<String>> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let decided =
        review_queue::decide(&state, &auth.1, &viewer, id, &form.decision, &form.reason).await?;
    let notice = format!(
        "已{}：{}。提交人会在收件箱中看到结论{}。",
        if decided.status == ReviewStatus::Approved {
            "通过"
        } else {
            "驳回"
        },
        decided.kind.label_zh(),
        if decided.reason.is_empty() {
            ""
        } else {
            "和理由"
        }
    );
    let query = QueueQuery {
        kind: form.kind,
        page: None,
    };
    Ok(Html(queue_page(&state, &auth, &query, Some(notice)).await?))
}
