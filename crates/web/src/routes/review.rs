//! Reviewers' pages: organisation claims of their own province, and one-time
//! password-reset links for accounts they are responsible for. Admins see every
//! province. Anything outside the reviewer's province answers 404.

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::routes::account::RESET_HOURS;
use crate::state::AppState;
use crate::uploads::FileKind;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{Account, Outcome};
use serde::Deserialize;

/// The province a reviewer may act in; `None` for admins, who may act in all.
fn scope(viewer: &Viewer) -> AppResult<Option<String>> {
    match viewer.account.role {
        Role::Admin => Ok(None),
        _ => viewer
            .account
            .province_code
            .clone()
            .map(Some)
            .ok_or(AppError::Forbidden),
    }
}

fn in_scope(scope: &Option<String>, province: &str) -> bool {
    scope.as_deref().is_none_or(|p| p == province)
}

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
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?.clone();
    let scope = scope(&viewer)?;
    let claim = state.store.claim(id).await?;
    if !in_scope(&scope, &claim.province_code) {
        return Err(AppError::NotFound);
    }
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::bad_request("decision", "请选择通过或不通过")),
    };
    let reason: String = form.reason.trim().chars().take(500).collect();
    if !approve && reason.is_empty() {
        return Err(AppError::bad_request(
            "reason",
            "不通过时请填写理由，申请人会看到这段说明。",
        ));
    }
    let decided = state
        .store
        .decide_claim(id, approve, &reason, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        if approve {
            "claim.approve"
        } else {
            "claim.reject"
        },
        &format!("claim:{id}"),
        Outcome::Success,
        &format!(
            "organisation:{} account:{} {}",
            decided.organisation_id, decided.account_id, reason
        ),
    )
    .await?;
    let notice = if approve {
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
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let claim = state.store.claim(id).await?;
    if !in_scope(&scope(viewer)?, &claim.province_code) {
        return Err(AppError::NotFound);
    }
    let kind = FileKind::from_mime(&claim.licence_type).ok_or(AppError::NotFound)?;
    let path = state.config.data_dir.join(&claim.licence_path);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::NotFound)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "inline; filename=\"licence-{id}.{}\"",
            kind.extension()
        ))
        .expect("ascii"),
    );
    Ok(response)
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
