//! Admin pages: staff accounts and roles, module switches, and the audit log with
//! its CSV export. Every write here is itself written to the audit log.

use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::routes::account::RESET_HOURS;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::account::{LoginName, PersonName};
use greenbridge_domain::module::Module;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{
    Account, AccountStatus, AuditFilter, AuditRecord, NewAccount, Outcome, StoreError,
};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Template)]
#[template(path = "admin_dashboard.html")]
struct DashboardPage {
    page: Page,
    organisations: i64,
    accounts: i64,
    pending_claims: usize,
}

pub async fn dashboard(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let page = Page::new(&state, &auth.1, "平台管理").await;
    Ok(Html(
        DashboardPage {
            page,
            organisations: state.store.count_organisations().await?,
            accounts: state.store.count_accounts().await?,
            pending_claims: state.store.pending_claims(None).await?.len(),
        }
        .render()?,
    ))
}

pub struct AccountItem {
    pub account: Account,
    pub role_label: &'static str,
    pub province: String,
    pub created: String,
}

#[derive(Default, Clone, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    province: String,
}

#[derive(Default)]
pub struct StaffErrors {
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub province: Option<String>,
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    page: Page,
    items: Vec<AccountItem>,
    form: StaffForm,
    errors: StaffErrors,
    roles: Vec<Choice>,
    provinces: Vec<(String, String)>,
    created_link: Option<(String, String)>,
    notice: Option<String>,
    page_number: i64,
    has_next: bool,
}

const PAGE_SIZE: i64 = 50;
const STAFF_ROLES: [Role; 4] = [
    Role::Reviewer,
    Role::Expert,
    Role::GovernmentViewer,
    Role::Admin,
];
/// Provinces that have an environmental industry association running the platform.
const ASSOCIATION_PROVINCES: [&str; 3] = ["310000", "320000", "330000"];

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    done: Option<String>,
}

async fn accounts_page(
    state: &AppState,
    auth: &Authenticated,
    form: StaffForm,
    errors: StaffErrors,
    created_link: Option<(String, String)>,
    notice: Option<String>,
    page_number: i64,
) -> AppResult<String> {
    let tree = RegionTree::embedded();
    let page_number = page_number.max(1);
    let accounts = state
        .store
        .list_accounts(PAGE_SIZE + 1, (page_number - 1) * PAGE_SIZE)
        .await?;
    let has_next = accounts.len() as i64 > PAGE_SIZE;
    let items = accounts
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|account| AccountItem {
            role_label: account.role.label_zh(),
            province: account
                .province_code
                .as_deref()
                .map(|p| tree.full_name(p))
                .unwrap_or_default(),
            created: format_unix_zh(account.created_at),
            account,
        })
        .collect();
    let page = Page::new(state, &auth.1, "账号与角色").await;
    Ok(AccountsPage {
        page,
        items,
        form,
        errors,
        roles: STAFF_ROLES
            .iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: r.label_zh(),
            })
            .collect(),
        provinces: ASSOCIATION_PROVINCES
            .iter()
            .map(|p| (p.to_string(), tree.full_name(p)))
            .collect(),
        created_link,
        notice,
        page_number,
        has_next,
    }
    .render()?)
}

pub async fn accounts(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<PageQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::CreateStaffAccounts)?;
    let notice = match query.done.as_deref() {
        Some("updated") => Some("账号已更新。".to_string()),
        _ => None,
    };
    Ok(Html(
        accounts_page(
            &state,
            &auth,
            StaffForm::default(),
            StaffErrors::default(),
            None,
            notice,
            query.page.unwrap_or(1),
        )
        .await?,
    ))
}

fn parse_staff_role(value: &str) -> Option<Role> {
    STAFF_ROLES.iter().copied().find(|r| r.as_str() == value)
}

/// A reviewer needs the province whose items they review; other roles have none.
fn parse_province(role: Role, value: &str) -> Result<Option<String>, String> {
    if role != Role::Reviewer {
        return Ok(None);
    }
    if ASSOCIATION_PROVINCES.contains(&value) {
        Ok(Some(value.to_string()))
    } else {
        Err("协会审核员需要选择所属省市".to_string())
    }
}

/// Creates a staff account without a usable password and shows a one-time link with
/// which its holder sets one: no password ever passes through the admin.
pub async fn create_account(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<StaffForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::CreateStaffAccounts)?.clone();
    let mut errors = StaffErrors::default();
    let login = LoginName::parse(&form.login)
        .map_err(|e| errors.login = Some(e.to_string()))
        .ok();
    let display_name = PersonName::parse(&form.display_name)
        .map_err(|e| errors.display_name = Some(e.to_string()))
        .ok();
    let role = parse_staff_role(&form.role);
    if role.is_none() {
        errors.role = Some("请选择角色".into());
    }
    let province = role
        .map(|r| parse_province(r, &form.province))
        .transpose()
        .map_err(|e| errors.province = Some(e))
        .ok()
        .flatten()
        .flatten();
    if let Some(login) = &login
        && state
            .store
            .account_by_login(login.as_str())
            .await?
            .is_some()
    {
        errors.login = Some("该登录名已被使用".into());
    }
    let has_errors = errors.login.is_some()
        || errors.display_name.is_some()
        || errors.role.is_some()
        || errors.province.is_some();
    let (Some(login), Some(display_name), Some(role), false) =
        (login, display_name, role, has_errors)
    else {
        let html = accounts_page(&state, &auth, form, errors, None, None, 1).await?;
        return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
    };
    let now = state.clock.unix();
    let new = NewAccount {
        login: login.as_str(),
        display_name: display_name.as_str(),
        role,
        organisation_id: None,
        province_code: province.as_deref(),
        // Not a PHC string, so no password matches it until the holder sets one.
        password_hash: "!unset",
    };
    let id = match state.store.insert_account(&new, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            errors.login = Some("该登录名已被使用".into());
            let html = accounts_page(&state, &auth, form, errors, None, None, 1).await?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
        Err(other) => return Err(other.into()),
    };
    let token = greenbridge_store::new_token();
    state
        .store
        .create_password_reset(
            &token,
            id,
            Some(viewer.account.id),
            now,
            now + RESET_HOURS * 3600,
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "account.create",
        &format!("account:{id}"),
        Outcome::Success,
        &format!(
            "role={} province={}",
            role.as_str(),
            province.as_deref().unwrap_or("-")
        ),
    )
    .await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    let link = format!("{}/password/reset/{token}", base.trim_end_matches('/'));
    Ok(Html(
        accounts_page(
            &state,
            &auth,
            StaffForm::default(),
            StaffErrors::default(),
            Some((login.as_str().to_string(), link)),
            None,
            1,
        )
        .await?,
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct UpdateForm {
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    province: String,
}

pub async fn update_account(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::CreateStaffAccounts)?.clone();
    let target = state.store.account(id).await?;
    if target.id == viewer.account.id {
        return Err(AppError::bad_request(
            "action",
            "不能修改自己的角色或状态，请由另一位管理员操作。",
        ));
    }
    let now = state.clock.unix();
    let (action, detail) = match form.action.as_str() {
        "role" => {
            let role = parse_staff_role(&form.role)
                .ok_or_else(|| AppError::bad_request("role", "请选择角色"))?;
            if !target.role.is_staff() {
                return Err(AppError::bad_request(
                    "role",
                    "企业和服务机构账号的角色由所属单位决定，不能改为工作人员角色。",
                ));
            }
            let province = parse_province(role, &form.province)
                .map_err(|e| AppError::bad_request("province", e))?;
            state
                .store
                .set_account_role(id, role, province.as_deref(), now)
                .await?;
            (
                "account.role_change",
                format!(
                    "{} -> {} province={}",
                    target.role.as_str(),
                    role.as_str(),
                    province.as_deref().unwrap_or("-")
                ),
            )
        }
        "disable" => {
            state
                .store
                .set_account_status(id, AccountStatus::Disabled, now)
                .await?;
            state.store.delete_sessions_of(id, None).await?;
            ("account.disable", String::new())
        }
        "enable" => {
            state
                .store
                .set_account_status(id, AccountStatus::Active, now)
                .await?;
            ("account.enable", String::new())
        }
        _ => return Err(AppError::bad_request("action", "未知的操作")),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        action,
        &format!("account:{id}"),
        Outcome::Success,
        &detail,
    )
    .await?;
    Ok(Redirect::to("/admin/accounts?done=updated").into_response())
}

pub struct ModuleRow {
    pub slug: &'static str,
    pub name: &'static str,
    pub enabled: bool,
    pub built: bool,
}

#[derive(Template)]
#[template(path = "admin_modules.html")]
struct ModulesPage {
    page: Page,
    modules: Vec<ModuleRow>,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn modules(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<SavedQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let disabled = state.modules.disabled(&state.store).await;
    let modules = Module::ALL
        .iter()
        .map(|m| ModuleRow {
            slug: m.slug(),
            name: m.name_zh(),
            enabled: !disabled.contains(m),
            built: super::module_is_built(*m),
        })
        .collect();
    let page = Page::new(&state, &auth.1, "栏目开关").await;
    Ok(Html(
        ModulesPage {
            page,
            modules,
            saved: query.saved.is_some(),
        }
        .render()?,
    ))
}

pub async fn save_modules(
    State(state): State<AppState>,
    auth: Authenticated,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    // Repeated `enabled` fields: the checked modules.
    let enabled: HashSet<Module> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "enabled")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let disabled: HashSet<Module> = Module::ALL
        .iter()
        .copied()
        .filter(|m| !enabled.contains(m))
        .collect();
    let before = state.modules.disabled(&state.store).await;
    state.modules.set_disabled(&state.store, &disabled).await?;
    let mut slugs: Vec<&str> = disabled.iter().map(|m| m.slug()).collect();
    slugs.sort_unstable();
    let mut before_slugs: Vec<&str> = before.iter().map(|m| m.slug()).collect();
    before_slugs.sort_unstable();
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "module.switch",
        "modules",
        Outcome::Success,
        &format!(
            "disabled: [{}] -> [{}]",
            before_slugs.join(","),
            slugs.join(",")
        ),
    )
    .await?;
    Ok(Redirect::to("/admin/modules?saved=1").into_response())
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> AppResult<AuditFilter> {
        let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let date = |field: &str, v: &str, end: bool| -> AppResult<Option<i64>> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            let date = greenbridge_domain::time::parse_date(v)
                .map_err(|e| AppError::bad_request(field, e.to_string()))?;
            let date = if end {
                date.next_day().unwrap_or(date)
            } else {
                date
            };
            Ok(Some(
                date.midnight()
                    .assume_offset(greenbridge_domain::time::SHANGHAI)
                    .unix_timestamp(),
            ))
        };
        let outcome = text(&self.outcome);
        if let Some(o) = &outcome
            && !["success", "failure", "denied"].contains(&o.as_str())
        {
            return Err(AppError::bad_request(
                "outcome",
                "结果只能是 success、failure 或 denied",
            ));
        }
        Ok(AuditFilter {
            action: text(&self.action),
            actor: text(&self.actor),
            outcome,
            target: text(&self.target),
            from: date("from", &self.from, false)?,
            to: date("to", &self.to, true)?,
        })
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("action", &self.action)
            .append_pair("actor", &self.actor)
            .append_pair("outcome", &self.outcome)
            .append_pair("target", &self.target)
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .finish()
    }
}

pub struct AuditRow {
    pub record: AuditRecord,
    pub at: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    page: Page,
    query: AuditQuery,
    rows: Vec<AuditRow>,
    total: i64,
    page_number: i64,
    has_next: bool,
    query_string: String,
    error: Option<String>,
}

pub async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    auth.require(Permission::ViewAuditLog)?;
    let page_number = query.page.unwrap_or(1).max(1);
    let (filter, error) = match query.filter() {
        Ok(filter) => (filter, None),
        Err(AppError::BadRequest { message, .. }) => (AuditFilter::default(), Some(message)),
        Err(other) => return Err(other),
    };
    let total = state.store.count_audit(&filter).await?;
    let records = state
        .store
        .audit_records(&filter, Some(PAGE_SIZE), (page_number - 1) * PAGE_SIZE)
        .await?;
    let rows = records
        .into_iter()
        .map(|record| AuditRow {
            at: format_unix_zh(record.at),
            record,
        })
        .collect();
    let page = Page::new(&state, &auth.1, "审计日志").await;
    let html = AuditPage {
        page,
        query_string: query.query_string(),
        has_next: page_number * PAGE_SIZE < total,
        query,
        rows,
        total,
        page_number,
        error: error.clone(),
    }
    .render()?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(rendered(status, Html(html)))
}

/// Neutralises spreadsheet formulas: Excel runs a cell that starts with = + - @.
fn csv_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

pub async fn audit_csv(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ViewAuditLog)?.clone();
    let filter = query.filter()?;
    let records = state.store.audit_records(&filter, None, 0).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, row: &[String]| {
        writer
            .write_record(row)
            .map_err(|e| AppError::Internal(e.into()))
    };
    write(
        &mut writer,
        &[
            "编号", "时间", "账号", "角色", "IP", "操作", "对象", "结果", "说明",
        ]
        .map(String::from),
    )?;
    for r in &records {
        write(
            &mut writer,
            &[
                r.id.to_string(),
                format_unix_zh(r.at),
                csv_cell(r.actor_login.as_deref().unwrap_or("")),
                r.actor_role.clone().unwrap_or_default(),
                csv_cell(&r.ip),
                csv_cell(&r.action),
                csv_cell(&r.target),
                r.outcome.clone(),
                csv_cell(&r.detail),
            ],
        )?;
    }
    let data = writer
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    // A byte-order mark so that Excel on Chinese Windows reads the file as UTF-8.
    let mut body = Vec::with_capacity(data.len() + 3);
    body.extend_from_slice(b"\xEF\xBB\xBF");
    body.extend_from_slice(&data);
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "audit.export",
        "audit_log",
        Outcome::Success,
        &format!("{} records", records.len()),
    )
    .await?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"greenbridge-audit.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
