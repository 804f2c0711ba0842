//! The review queue in the web layer: where an item goes (routing), and what a
//! decision does besides the store's transaction: the audit record and the
//! submitter's notification (inbox, and e-mail per their preference).
//!
//! Routing: an item goes to the reviewers of its organisation's province when that is
//! one of the zone's three (上海 310000, 江苏 320000, 浙江 330000), otherwise to the
//! configured default association (`default_review_province`).

use crate::audit::{self, Actor};
use crate::config::{Config, REVIEW_PROVINCES};
use crate::context::{RequestContext, Viewer};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use greenbridge_domain::role::Role;
use greenbridge_store::{Outcome, ReviewItem, ReviewKind};

/// The province whose reviewers decide about something in `region_code`.
pub fn route_province(config: &Config, region_code: &str) -> String {
    let province = format!("{}0000", &region_code[..2.min(region_code.len())]);
    if REVIEW_PROVINCES.contains(&province.as_str()) {
        province
    } else {
        config.default_review_province.clone()
    }
}

/// The province a reviewer may act in; `None` for admins, who may act in all.
pub fn scope(viewer: &Viewer) -> AppResult<Option<String>> {
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

pub fn in_scope(scope: &Option<String>, province: &str) -> bool {
    scope.as_deref().is_none_or(|p| p == province)
}

/// Decides item `id` for `viewer`: 404 outside their province (or when it is no
/// longer pending), 400 for a rejection without a reason. Writes the audit record and
/// notifies the submitter with the reason.
pub async fn decide(
    state: &AppState,
    ctx: &RequestContext,
    viewer: &Viewer,
    id: i64,
    decision: &str,
    reason: &str,
) -> AppResult<ReviewItem> {
    let scope = scope(viewer)?;
    let item = state.store.review_item(id).await?;
    if !in_scope(&scope, &item.province_code) {
        return Err(AppError::NotFound);
    }
    let approve = match decision {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::bad_request("decision", "请选择通过或不通过")),
    };
    let reason: String = reason.trim().chars().take(500).collect();
    if !approve && reason.is_empty() {
        return Err(AppError::bad_request(
            "reason",
            "不通过时请填写理由，申请人会看到这段说明。",
        ));
    }
    let decided = state
        .store
        .decide_review(id, approve, &reason, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        state,
        ctx,
        Actor::account(&viewer.account),
        if approve {
            "review.approve"
        } else {
            "review.reject"
        },
        &format!("review:{id}"),
        Outcome::Success,
        &format!(
            "{} {}:{} {}",
            decided.kind.as_str(),
            decided.subject_type,
            decided.subject_id,
            reason
        ),
    )
    .await?;
    if let Some(submitter) = decided.submitted_by {
        let organisation = match decided.organisation_id {
            Some(org) => Some(state.store.organisation(org).await?.name),
            None => None,
        };
        let (title, body, link) = message(&decided, approve, &reason, organisation.as_deref());
        crate::notify::send(
            state,
            submitter,
            &format!("review.{}", decided.kind.as_str()),
            &title,
            &body,
            link,
        )
        .await?;
    }
    Ok(decided)
}

/// What the submitter reads about a decision.
fn message(
    item: &ReviewItem,
    approve: bool,
    reason: &str,
    organisation: Option<&str>,
) -> (String, String, &'static str) {
    let org = organisation.unwrap_or("");
    let (title, mut body, link) = match (item.kind, approve) {
        (ReviewKind::Registration, true) => (
            "单位核验已通过".to_string(),
            format!("{org}已通过协会核验，单位信息将显示“已核验”标记。"),
            "/account",
        ),
        (ReviewKind::Registration, false) => (
            "单位核验未通过".to_string(),
            format!("{org}未通过协会核验。"),
            "/account",
        ),
        (ReviewKind::Claim, true) => (
            "认领申请已通过".to_string(),
            format!("您已加入{org}，可以管理本单位信息。"),
            "/account",
        ),
        (ReviewKind::Claim, false) => (
            "认领申请未通过".to_string(),
            format!("您对{org}的认领申请未通过审核。"),
            "/account",
        ),
        (kind, true) => (
            format!("{}审核已通过", kind.label_zh()),
            String::new(),
            "/account",
        ),
        (kind, false) => (
            format!("{}审核未通过", kind.label_zh()),
            String::new(),
            "/account",
        ),
    };
    if !reason.is_empty() {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&format!(
            "{}：{reason}",
            if approve { "审核意见" } else { "理由" }
        ));
    }
    (title, body, link)
}
