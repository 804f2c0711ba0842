//! Logging in and out, login throttling, and the admins' second factor (TOTP).
//!
//! Throttling never tells whether a login name exists: five failures for one name
//! lock that name for fifteen minutes whether or not it has an account, and every
//! other failure gets the same message.

use crate::audit::{self, Actor};
use crate::context::{Ctx, RequestContext, SESSION_COOKIE, Viewer, set_cookie};
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::password;
use crate::routes::display::local_path;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::account::LoginName;
use greenbridge_domain::role::Role;
use greenbridge_domain::time::format_unix_zh;
use greenbridge_domain::totp;
use greenbridge_store::{AccountStatus, Outcome};
use serde::Deserialize;

/// Failures of one login name that lock it.
pub const LOCK_AFTER_FAILURES: usize = 5;
/// How long a lock lasts, and the window the failures are counted in.
pub const LOCK_SECONDS: i64 = 15 * 60;
/// Failures from one client address within the window after which it must wait.
pub const IP_FAILURE_LIMIT: i64 = 30;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    login: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LoginQuery>,
) -> AppResult<Response> {
    if ctx.viewer.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    let notice = match query.done.as_deref() {
        Some("reset") => Some("密码已重新设置，请用新密码登录。".to_string()),
        Some("registered") => Some("注册成功，请登录。".to_string()),
        Some("logout") => Some("您已安全退出。".to_string()),
        _ => None,
    };
    let page = Page::new(&state, &ctx, "登录").await;
    Ok(Html(
        LoginPage {
            page,
            login: String::new(),
            next: local_path(query.next.as_deref()),
            error: None,
            notice,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

/// The key failures are counted under: the normalised login name when the input is
/// one, else the trimmed, lower-cased input (so garbage names are throttled too).
fn throttle_key(input: &str) -> String {
    match LoginName::parse(input) {
        Ok(name) => name.as_str().to_string(),
        Err(_) => input.trim().to_lowercase().chars().take(254).collect(),
    }
}

/// Until when `failures` (times, oldest first) lock the name, if they do.
pub fn locked_until(failures: &[i64], now: i64) -> Option<i64> {
    failures
        .windows(LOCK_AFTER_FAILURES)
        .filter(|w| w[LOCK_AFTER_FAILURES - 1] - w[0] < LOCK_SECONDS)
        .map(|w| w[LOCK_AFTER_FAILURES - 1] + LOCK_SECONDS)
        .filter(|until| *until > now)
        .max()
}

async fn render_login(
    state: &AppState,
    ctx: &Ctx,
    login: String,
    next: String,
    error: String,
    status: StatusCode,
) -> AppResult<Response> {
    let page = Page::new(state, ctx, "登录").await;
    let html = LoginPage {
        page,
        login,
        next,
        error: Some(error),
        notice: None,
    }
    .render()?;
    Ok(rendered(status, Html(html)))
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let key = throttle_key(&form.login);
    let next = local_path(form.next.as_deref());
    let now = state.clock.unix();
    let typed = form.login.trim().chars().take(254).collect::<String>();
    if key.is_empty() || form.password.is_empty() {
        return render_login(
            &state,
            &ctx,
            typed,
            next,
            "请输入登录名和密码。".into(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    if state
        .store
        .ip_failures_since(&ctx.ip, now - LOCK_SECONDS)
        .await?
        >= IP_FAILURE_LIMIT
    {
        audit::record(
            &state,
            &ctx,
            Actor::attempted(&key),
            "auth.login",
            &key,
            Outcome::Denied,
            "client address throttled",
        )
        .await?;
        return render_login(
            &state,
            &ctx,
            typed,
            next,
            "来自您所在网络的登录失败次数过多，请15分钟后再试。".into(),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let failures = state
        .store
        .login_failures_since(&key, now - 2 * LOCK_SECONDS)
        .await?;
    if let Some(until) = locked_until(&failures, now) {
        audit::record(
            &state,
            &ctx,
            Actor::attempted(&key),
            "auth.login",
            &key,
            Outcome::Denied,
            "login name locked",
        )
        .await?;
        let message = format!(
            "该登录名连续{LOCK_AFTER_FAILURES}次登录失败，已被锁定，请于 {} 之后再试。",
            format_unix_zh(until)
        );
        return render_login(
            &state,
            &ctx,
            typed,
            next,
            message,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let account = state.store.account_by_login(&key).await?;
    let verified = match &account {
        Some(account) => {
            password::verify_password(form.password.clone(), account.password_hash.clone()).await?
        }
        None => {
            password::dummy_verify(form.password.clone(), state.config.password_cost).await;
            false
        }
    };
    let account = match account {
        Some(account) if verified && account.status == AccountStatus::Active => account,
        other => {
            state.store.record_login_failure(&key, &ctx.ip, now).await?;
            let detail = match other {
                Some(a) if verified && a.status != AccountStatus::Active => "account disabled",
                _ => "wrong login name or password",
            };
            audit::record(
                &state,
                &ctx,
                Actor::attempted(&key),
                "auth.login",
                &key,
                Outcome::Failure,
                detail,
            )
            .await?;
            let mut failures = failures;
            failures.push(now);
            let message = match locked_until(&failures, now) {
                Some(until) => format!(
                    "该登录名连续{LOCK_AFTER_FAILURES}次登录失败，已被锁定，请于 {} 之后再试。",
                    format_unix_zh(until)
                ),
                None => "登录名或密码不正确。".to_string(),
            };
            return render_login(&state, &ctx, typed, next, message, StatusCode::UNAUTHORIZED)
                .await;
        }
    };
    state.store.clear_login_failures(&key).await?;
    state.store.touch_last_login(account.id, now).await?;
    let needs_second_factor = account.role == Role::Admin;
    let token = greenbridge_store::new_token();
    state
        .store
        .create_session(
            &token,
            account.id,
            !needs_second_factor,
            &ctx.ip,
            &RequestContext::user_agent(&headers),
            now,
        )
        .await?;
    audit::record(
        &state,
        &ctx,
        Actor::account(&account),
        "auth.login",
        &format!("account:{}", account.id),
        Outcome::Success,
        "password",
    )
    .await?;
    let target = if !needs_second_factor {
        next
    } else if account.totp_secret.is_none() {
        "/account/second-factor".to_string()
    } else {
        format!(
            "/login/second-factor?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    };
    Ok(with_session_cookie(
        Redirect::to(&target).into_response(),
        &token,
        ctx.https,
    ))
}

/// Sets the login cookie on a response, and tells the context layer not to clear it.
pub fn with_session_cookie(mut response: Response, token: &str, https: bool) -> Response {
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, token, https, None),
    );
    headers.insert("x-gb-session-set", HeaderValue::from_static("1"));
    response
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let viewer = ctx
        .viewer
        .clone()
        .or_else(|| ctx.pending_second_factor.clone());
    if let Some(viewer) = viewer {
        state.store.delete_session(&viewer.session_token).await?;
        audit::record(
            &state,
            &ctx,
            Actor::account(&viewer.account),
            "auth.logout",
            &format!("account:{}", viewer.account.id),
            Outcome::Success,
            "",
        )
        .await?;
    }
    let mut response = Redirect::to("/login?done=logout").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", ctx.https, Some(0)),
    );
    response
        .headers_mut()
        .insert("x-gb-session-set", HeaderValue::from_static("1"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    page: Page,
    next: String,
    error: Option<String>,
}

fn pending(ctx: &Ctx) -> AppResult<Viewer> {
    ctx.pending_second_factor
        .clone()
        .ok_or(AppError::LoginRequired)
}

pub async fn second_factor_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LoginQuery>,
) -> AppResult<Response> {
    if ctx.viewer.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    let viewer = pending(&ctx)?;
    if viewer.account.totp_secret.is_none() {
        return Ok(Redirect::to("/account/second-factor").into_response());
    }
    let page = Page::new(&state, &ctx, "动态验证码").await;
    Ok(Html(
        SecondFactorPage {
            page,
            next: local_path(query.next.as_deref()),
            error: None,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    next: Option<String>,
    secret: Option<String>,
}

/// Checks a TOTP code for `viewer`'s `secret`; failures count towards the login lock.
async fn check_code(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    secret_b32: &str,
    code: &str,
) -> AppResult<Result<(), String>> {
    let now = state.clock.unix();
    let key = viewer.account.login.clone();
    let failures = state
        .store
        .login_failures_since(&key, now - 2 * LOCK_SECONDS)
        .await?;
    if let Some(until) = locked_until(&failures, now) {
        return Ok(Err(format!(
            "失败次数过多，请于 {} 之后再试。",
            format_unix_zh(until)
        )));
    }
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .map_err(|_| AppError::bad_request("secret", "密钥无效，请重新开始绑定。"))?;
    let step = totp::verify_totp(
        &secret,
        code,
        now.max(0) as u64,
        viewer.account.totp_last_step.map(|s| s.max(0) as u64),
    );
    let accepted = match step {
        Some(step) => {
            state
                .store
                .use_totp_step(viewer.account.id, step as i64)
                .await?
        }
        None => false,
    };
    if accepted {
        return Ok(Ok(()));
    }
    state.store.record_login_failure(&key, &ctx.ip, now).await?;
    audit::record(
        state,
        ctx,
        Actor::account(&viewer.account),
        "auth.second_factor",
        &format!("account:{}", viewer.account.id),
        Outcome::Failure,
        "wrong or reused code",
    )
    .await?;
    Ok(Err(
        "动态验证码不正确或已使用过，请输入验证器上当前显示的6位数字。".into(),
    ))
}

pub async fn second_factor(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let viewer = pending(&ctx)?;
    let next = local_path(form.next.as_deref());
    let Some(secret) = viewer.account.totp_secret.clone() else {
        return Ok(Redirect::to("/account/second-factor").into_response());
    };
    if let Err(message) = check_code(&state, &ctx, &viewer, &secret, &form.code).await? {
        let page = Page::new(&state, &ctx, "动态验证码").await;
        return Ok(rendered(
            StatusCode::UNAUTHORIZED,
            Html(
                SecondFactorPage {
                    page,
                    next,
                    error: Some(message),
                }
                .render()?,
            ),
        ));
    }
    state
        .store
        .pass_second_factor(&viewer.session_token)
        .await?;
    state
        .store
        .clear_login_failures(&viewer.account.login)
        .await?;
    audit::record(
        &state,
        &ctx,
        Actor::account(&viewer.account),
        "auth.second_factor",
        &format!("account:{}", viewer.account.id),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to(&next).into_response())
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    page: Page,
    secret: String,
    otpauth: String,
    qr_data_uri: String,
    enrolled: bool,
    error: Option<String>,
}

fn qr_data_uri(text: &str) -> AppResult<String> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("qr code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        data_encoding::BASE64.encode(svg.as_bytes())
    ))
}

async fn enrol_page(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    secret: String,
    error: Option<String>,
) -> AppResult<String> {
    let otpauth = totp::otpauth_uri("绿桥GreenBridge", &viewer.account.login, &secret);
    let page = Page::new(state, ctx, "绑定动态验证码").await;
    Ok(EnrolPage {
        page,
        qr_data_uri: qr_data_uri(&otpauth)?,
        otpauth,
        secret,
        enrolled: viewer.account.totp_secret.is_some(),
        error,
    }
    .render()?)
}

/// Enrolment is open to an admin who has not enrolled yet (right after the password)
/// and to any fully logged-in account that wants to replace its authenticator.
fn enrolling_viewer(ctx: &Ctx) -> AppResult<Viewer> {
    if let Some(viewer) = &ctx.viewer {
        return Ok(viewer.clone());
    }
    match &ctx.pending_second_factor {
        Some(viewer) if viewer.account.totp_secret.is_none() => Ok(viewer.clone()),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::LoginRequired),
    }
}

pub async fn enrol_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let viewer = enrolling_viewer(&ctx)?;
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    Ok(Html(
        enrol_page(&state, &ctx, &viewer, totp::encode_secret(&bytes), None).await?,
    ))
}

pub async fn enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let viewer = enrolling_viewer(&ctx)?;
    let secret = form.secret.unwrap_or_default();
    if secret.len() < 16
        || data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .is_err()
    {
        return Err(AppError::bad_request(
            "secret",
            "密钥无效，请重新打开绑定页面。",
        ));
    }
    if let Err(message) = check_code(&state, &ctx, &viewer, &secret, &form.code).await? {
        let html = enrol_page(&state, &ctx, &viewer, secret, Some(message)).await?;
        return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
    }
    let now = state.clock.unix();
    state
        .store
        .set_totp_secret(viewer.account.id, Some(&secret), now)
        .await?;
    state
        .store
        .pass_second_factor(&viewer.session_token)
        .await?;
    audit::record(
        &state,
        &ctx,
        Actor::account(&viewer.account),
        "auth.second_factor.enrol",
        &format!("account:{}", viewer.account.id),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/account?done=second_factor").into_response())
}
