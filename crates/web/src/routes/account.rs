//! The account page, password change and reset, and inviting colleagues.

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Ctx, RequestContext};
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::password;
use crate::routes::auth::with_session_cookie;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::account::{LoginName, PersonName};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{
    Account, Claim, NewAccount, OrgSide, Organisation, Outcome, ReviewKind, StoreError,
};
use serde::Deserialize;

/// How long an invitation link stays valid.
const INVITATION_DAYS: i64 = 7;
/// How long a password-reset link stays valid.
pub const RESET_HOURS: i64 = 24;

pub struct ClaimRow {
    pub organisation: String,
    pub status: &'static str,
    pub reason: String,
    pub created: String,
}

pub struct ColleagueRow {
    pub primary: bool,
    pub display_name: String,
    pub login: String,
    pub role: &'static str,
    pub last_login: String,
}

pub struct InvitationRow {
    pub note: String,
    pub created: String,
    pub expires: String,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    account: Account,
    role_label: &'static str,
    organisation: Option<Organisation>,
    region_name: String,
    colleagues: Vec<ColleagueRow>,
    invitations: Vec<InvitationRow>,
    claims: Vec<ClaimRow>,
    can_invite: bool,
    notice: Option<&'static str>,
    new_invitation_link: Option<String>,
    last_login: String,
    /// The verification of the organisation: 待审核 / 未通过 and the reason, when it
    /// is not verified.
    verification: Option<(&'static str, String)>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn account_page(
    state: &AppState,
    auth: &Authenticated,
    notice: Option<&'static str>,
    new_invitation_link: Option<String>,
) -> AppResult<String> {
    let Authenticated(viewer, ctx) = auth;
    let account = viewer.account.clone();
    let organisation = match account.organisation_id {
        Some(id) => Some(state.store.organisation(id).await?),
        None => None,
    };
    let tree = RegionTree::embedded();
    let region_name = organisation
        .as_ref()
        .map(|o| tree.full_name(&o.region_code))
        .unwrap_or_default();
    let primary = match &organisation {
        Some(org) => state.store.primary_account_of(org.id).await?,
        None => None,
    };
    let is_primary = primary == Some(account.id);
    let verification = match &organisation {
        Some(org) if !org.verified => state
            .store
            .latest_review_of(ReviewKind::Registration, "organisation", org.id)
            .await?
            .map(|item| (item.status.label_zh(), item.reason)),
        _ => None,
    };
    let mut colleagues = Vec::new();
    let mut invitations = Vec::new();
    if let Some(org) = &organisation {
        for colleague in state.store.accounts_of_organisation(org.id).await? {
            colleagues.push(ColleagueRow {
                primary: primary == Some(colleague.id),
                display_name: colleague.display_name,
                login: colleague.login,
                role: colleague.role.label_zh(),
                last_login: colleague
                    .last_login_at
                    .map(format_unix_zh)
                    .unwrap_or_else(|| "从未登录".into()),
            });
        }
        let now = state.clock.unix();
        for invitation in state.store.invitations_of(org.id).await? {
            invitations.push(InvitationRow {
                note: invitation.note,
                created: format_unix_zh(invitation.created_at),
                expires: format_unix_zh(invitation.expires_at),
                state: if invitation.accepted_at.is_some() {
                    "已接受"
                } else if invitation.expires_at <= now {
                    "已过期"
                } else {
                    "等待接受"
                },
            });
        }
    }
    let mut claims = Vec::new();
    for claim in state.store.claims_of_account(account.id).await? {
        let Claim {
            organisation_id,
            status,
            reason,
            created_at,
            ..
        } = claim;
        let organisation = state.store.organisation(organisation_id).await?;
        claims.push(ClaimRow {
            organisation: organisation.name,
            status: status.label_zh(),
            reason,
            created: format_unix_zh(created_at),
        });
    }
    let page = Page::new(state, ctx, "我的账号").await;
    Ok(AccountPage {
        page,
        role_label: account.role.label_zh(),
        last_login: account
            .last_login_at
            .map(format_unix_zh)
            .unwrap_or_default(),
        can_invite: is_primary && viewer.can(Permission::InviteColleagues),
        account,
        organisation,
        region_name,
        colleagues,
        invitations,
        claims,
        notice,
        new_invitation_link,
        verification,
    }
    .render()?)
}

pub async fn overview(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(done): Query<Done>,
) -> AppResult<Html<String>> {
    let notice = match done.done.as_deref() {
        Some("registered") => Some("注册成功，欢迎使用绿桥平台。"),
        Some("claim") => Some(
            "认领申请已提交，所在省市的环保产业协会审核后会通知您。审核期间您可以正常登录和浏览。",
        ),
        Some("password") => Some("密码已修改，其他设备上的登录已退出。"),
        Some("second_factor") => Some("动态验证码已绑定。"),
        Some("joined") => Some("您已加入该单位。"),
        _ => None,
    };
    Ok(Html(account_page(&state, &auth, notice, None).await?))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    note: String,
}

pub async fn invite(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<InviteForm>,
) -> AppResult<Html<String>> {
    let viewer = auth.require(Permission::InviteColleagues)?.clone();
    let organisation_id = viewer.account.organisation_id.ok_or(AppError::Forbidden)?;
    // 主账号 / 子账号: only the organisation's first account invites.
    if state.store.primary_account_of(organisation_id).await? != Some(viewer.account.id) {
        return Err(AppError::Forbidden);
    }
    let note: String = form.note.trim().chars().take(100).collect();
    let token = greenbridge_store::new_token();
    let now = state.clock.unix();
    let id = state
        .store
        .create_invitation(
            &token,
            organisation_id,
            viewer.account.id,
            &note,
            now,
            now + INVITATION_DAYS * 86_400,
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "invitation.create",
        &format!("invitation:{id}"),
        Outcome::Success,
        &format!("organisation:{organisation_id}"),
    )
    .await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    let link = format!("{}/invite/{token}", base.trim_end_matches('/'));
    Ok(Html(account_page(&state, &auth, Some("邀请链接已生成，请把它发给您的同事。链接7天内有效，只能使用一次，本页关闭后不再显示。"), Some(link)).await?))
}

#[derive(Default)]
pub struct PasswordErrors {
    pub current: Option<String>,
    pub new: Option<String>,
    pub confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "password_change.html")]
struct PasswordChangePage {
    page: Page,
    errors: PasswordErrors,
}

pub async fn password_form(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    let page = Page::new(&state, &auth.1, "修改密码").await;
    Ok(Html(
        PasswordChangePage {
            page,
            errors: PasswordErrors::default(),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct PasswordChangeForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<PasswordChangeForm>,
) -> AppResult<Response> {
    let Authenticated(viewer, ctx) = &auth;
    let mut errors = PasswordErrors::default();
    if !password::verify_password(form.current.clone(), viewer.account.password_hash.clone())
        .await?
    {
        errors.current = Some("当前密码不正确".into());
    }
    (errors.new, errors.confirm) =
        password::new_password_errors(&form.new, &form.confirm, &viewer.account.login);
    if errors.current.is_some() || errors.new.is_some() || errors.confirm.is_some() {
        let outcome = if errors.current.is_some() {
            Outcome::Failure
        } else {
            Outcome::Denied
        };
        audit::record(
            &state,
            ctx,
            Actor::account(&viewer.account),
            "account.password_change",
            &format!("account:{}", viewer.account.id),
            outcome,
            "rejected",
        )
        .await?;
        let page = Page::new(&state, ctx, "修改密码").await;
        return Ok(rendered(
            StatusCode::BAD_REQUEST,
            Html(PasswordChangePage { page, errors }.render()?),
        ));
    }
    let hash = password::hash_password(form.new, state.config.password_cost).await?;
    let now = state.clock.unix();
    state
        .store
        .set_password_hash(viewer.account.id, &hash, now)
        .await?;
    state
        .store
        .delete_sessions_of(viewer.account.id, Some(&viewer.session_token))
        .await?;
    audit::record(
        &state,
        ctx,
        Actor::account(&viewer.account),
        "account.password_change",
        &format!("account:{}", viewer.account.id),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/account?done=password").into_response())
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    page: Page,
    mail_enabled: bool,
    email: String,
    error: Option<String>,
    sent: bool,
}

/// Reset links an account may ask for by e-mail per hour: enough for a lost mail,
/// too few to flood an inbox.
const SELF_RESETS_PER_HOUR: i64 = 3;

/// With a mail server configured, a reset link goes to the account's e-mail address;
/// without one, the page says whom to ask for a link instead.
pub async fn forgot_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let page = Page::new(&state, &ctx, "忘记密码").await;
    Ok(Html(
        ForgotPage {
            page,
            mail_enabled: state.mailer.is_some(),
            email: String::new(),
            error: None,
            sent: false,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

/// Answers the same whether or not the address has an account, so the page cannot be
/// used to find out who is registered.
pub async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let Some(mailer) = state.mailer.clone() else {
        return Err(AppError::NotFound);
    };
    let email = match LoginName::parse(&form.email) {
        Ok(LoginName::Email(email)) => email,
        _ => {
            let page = Page::new(&state, &ctx, "忘记密码").await;
            let html = ForgotPage { page, mail_enabled: true, email: form.email, error: Some("请输入注册时使用的电子邮箱地址。用手机号码注册的账号请联系协会或管理员重置密码。".into()), sent: false }.render()?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
    };
    let now = state.clock.unix();
    if let Some(account) = state.store.account_by_login(email.as_str()).await?
        && account.status == greenbridge_store::AccountStatus::Active
    {
        if state
            .store
            .self_service_resets_since(account.id, now - 3600)
            .await?
            < SELF_RESETS_PER_HOUR
        {
            let token = greenbridge_store::new_token();
            state
                .store
                .create_password_reset(&token, account.id, None, now, now + RESET_HOURS * 3600)
                .await?;
            let body = format!(
                "{name}，您好：\n\n有人（希望是您本人）请求重新设置绿桥平台账号 {login} 的密码。请在{hours}小时内打开下面的链接设置新密码：\n\n{base}/password/reset/{token}\n\n如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n\n——长三角生态绿色一体化发展示范区生态环境第三方治理服务平台（绿桥）",
                name = account.display_name,
                login = account.login,
                hours = RESET_HOURS,
                base = mailer.public_url,
            );
            let outcome = match mailer
                .send(&account.login, "绿桥平台：重新设置密码", body)
                .await
            {
                Ok(()) => Outcome::Success,
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "password-reset mail not sent");
                    Outcome::Failure
                }
            };
            audit::record(
                &state,
                &ctx,
                Actor::account(&account),
                "account.reset_request",
                &format!("account:{}", account.id),
                outcome,
                "e-mail",
            )
            .await?;
        } else {
            audit::record(
                &state,
                &ctx,
                Actor::account(&account),
                "account.reset_request",
                &format!("account:{}", account.id),
                Outcome::Denied,
                "hourly limit",
            )
            .await?;
        }
    }
    let page = Page::new(&state, &ctx, "忘记密码").await;
    Ok(Html(
        ForgotPage {
            page,
            mail_enabled: true,
            email: email.as_str().to_string(),
            error: None,
            sent: true,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    page: Page,
    login: String,
    token: String,
    error: Option<String>,
}

pub async fn reset_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let account_id = state
        .store
        .password_reset_account(&token, state.clock.unix())
        .await?
        .ok_or(AppError::NotFound)?;
    let account = state.store.account(account_id).await?;
    let page = Page::new(&state, &ctx, "重新设置密码").await;
    Ok(Html(
        ResetPage {
            page,
            login: account.login,
            token,
            error: None,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ResetForm {
    new: String,
    confirm: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let now = state.clock.unix();
    let account_id = state
        .store
        .password_reset_account(&token, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let account = state.store.account(account_id).await?;
    let (rule, mismatch) = password::new_password_errors(&form.new, &form.confirm, &account.login);
    let error = rule.or(mismatch);
    if let Some(error) = error {
        let page = Page::new(&state, &ctx, "重新设置密码").await;
        return Ok(rendered(
            StatusCode::BAD_REQUEST,
            Html(
                ResetPage {
                    page,
                    login: account.login,
                    token,
                    error: Some(error),
                }
                .render()?,
            ),
        ));
    }
    state.store.use_password_reset(&token, now).await?;
    let hash = password::hash_password(form.new, state.config.password_cost).await?;
    state
        .store
        .set_password_hash(account.id, &hash, now)
        .await?;
    state.store.delete_sessions_of(account.id, None).await?;
    state.store.clear_login_failures(&account.login).await?;
    audit::record(
        &state,
        &ctx,
        Actor::account(&account),
        "account.password_reset",
        &format!("account:{}", account.id),
        Outcome::Success,
        "reset link",
    )
    .await?;
    Ok(Redirect::to("/login?done=reset").into_response())
}

#[derive(Default)]
pub struct JoinErrors {
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    page: Page,
    organisation: String,
    token: String,
    login: String,
    display_name: String,
    errors: JoinErrors,
}

async fn invited_organisation(
    state: &AppState,
    token: &str,
) -> AppResult<(greenbridge_store::Invitation, Organisation)> {
    let invitation = state
        .store
        .open_invitation(token, state.clock.unix())
        .await?
        .ok_or(AppError::NotFound)?;
    let organisation = state.store.organisation(invitation.organisation_id).await?;
    Ok((invitation, organisation))
}

pub async fn invitation_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let (_, organisation) = invited_organisation(&state, &token).await?;
    let page = Page::new(&state, &ctx, "接受邀请").await;
    Ok(Html(
        InvitationPage {
            page,
            organisation: organisation.name,
            token,
            login: String::new(),
            display_name: String::new(),
            errors: JoinErrors::default(),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct JoinForm {
    login: String,
    display_name: String,
    password: String,
    confirm: String,
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<JoinForm>,
) -> AppResult<Response> {
    let (invitation, organisation) = invited_organisation(&state, &token).await?;
    let mut errors = JoinErrors::default();
    let login = LoginName::parse(&form.login)
        .map_err(|e| errors.login = Some(e.to_string()))
        .ok();
    let display_name = PersonName::parse(&form.display_name)
        .map_err(|e| errors.display_name = Some(e.to_string()))
        .ok();
    (errors.password, errors.confirm) = password::new_password_errors(
        &form.password,
        &form.confirm,
        login.as_ref().map_or(form.login.trim(), |l| l.as_str()),
    );
    if let Some(login) = &login
        && state
            .store
            .account_by_login(login.as_str())
            .await?
            .is_some()
    {
        errors.login = Some("该手机号码或邮箱已注册。".into());
    }
    let (Some(login), Some(display_name)) = (login, display_name) else {
        return show_join_errors(&state, &ctx, organisation, token, form, errors).await;
    };
    if errors.password.is_some() || errors.confirm.is_some() || errors.login.is_some() {
        return show_join_errors(&state, &ctx, organisation, token, form, errors).await;
    }
    let now = state.clock.unix();
    let hash = password::hash_password(form.password.clone(), state.config.password_cost).await?;
    let role = match organisation.side {
        OrgSide::Demand => Role::DemandEnterprise,
        OrgSide::Supplier => Role::Supplier,
    };
    let new = NewAccount {
        login: login.as_str(),
        display_name: display_name.as_str(),
        role,
        organisation_id: Some(organisation.id),
        province_code: None,
        password_hash: &hash,
    };
    let account_id = match state
        .store
        .join_by_invitation(invitation.id, &new, now)
        .await
    {
        Ok(Some(id)) => id,
        // Used or expired while the form was open.
        Ok(None) => return Err(AppError::NotFound),
        Err(StoreError::Conflict) => {
            errors.login = Some("该手机号码或邮箱已注册。".into());
            return show_join_errors(&state, &ctx, organisation, token, form, errors).await;
        }
        Err(other) => return Err(other.into()),
    };
    audit::record(
        &state,
        &ctx,
        Actor::attempted(login.as_str()),
        "invitation.accept",
        &format!("invitation:{}", invitation.id),
        Outcome::Success,
        &format!("organisation:{}", organisation.id),
    )
    .await?;
    let session = greenbridge_store::new_token();
    state
        .store
        .create_session(
            &session,
            account_id,
            true,
            &ctx.ip,
            &RequestContext::user_agent(&headers),
            now,
        )
        .await?;
    Ok(with_session_cookie(
        Redirect::to("/account?done=joined").into_response(),
        &session,
        ctx.https,
    ))
}

async fn show_join_errors(
    state: &AppState,
    ctx: &Ctx,
    organisation: Organisation,
    token: String,
    form: JoinForm,
    errors: JoinErrors,
) -> AppResult<Response> {
    let page = Page::new(state, ctx, "接受邀请").await;
    let html = InvitationPage {
        page,
        organisation: organisation.name,
        token,
        login: form.login,
        display_name: form.display_name,
        errors,
    }
    .render()?;
    Ok(rendered(StatusCode::BAD_REQUEST, Html(html)))
}
