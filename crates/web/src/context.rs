//! The per-request context: who is asking (session), from where (client IP, HTTPS),
//! how they want pages shown (display cookie), and the CSRF token of their forms.
//!
//! [`context_layer`] builds it once per request, enforces CSRF on every
//! state-changing request, and sets the cookies it owns on the way out. Anonymous
//! visitors get no session row; they only get the signed CSRF cookie.

use crate::error::AppError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenbridge_domain::role::{Permission, Role};
use greenbridge_store::Account;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "gb_session";
pub const CSRF_COOKIE: &str = "gb_csrf";
pub const DISPLAY_COOKIE: &str = "gb_display";
pub const CSRF_FIELD: &str = "_csrf";
/// Forms never need more than this; bigger bodies go to routes that take uploads.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;
/// How stale `last_seen_at` may get before a request refreshes it (saves a write per
/// request; the idle timeout is in minutes anyway).
const TOUCH_INTERVAL_SECS: i64 = 60;

/// A logged-in person.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub account: Account,
    pub session_token: String,
    pub second_factor_passed: bool,
}

impl Viewer {
    pub fn role(&self) -> Role {
        self.account.role
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.account.role.can(permission)
    }

    /// Admins need the second factor before any of their rights count.
    fn fully_authenticated(&self) -> bool {
        self.account.role != Role::Admin || self.second_factor_passed
    }
}

/// Larger text and high contrast, chosen by the visitor and kept in a cookie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Display {
    pub large_text: bool,
    pub high_contrast: bool,
}

impl Display {
    fn from_cookie(value: &str) -> Display {
        Display {
            large_text: value.split(',').any(|v| v == "large"),
            high_contrast: value.split(',').any(|v| v == "contrast"),
        }
    }

    pub fn cookie_value(self) -> String {
        let mut parts = Vec::new();
        if self.large_text {
            parts.push("large");
        }
        if self.high_contrast {
            parts.push("contrast");
        }
        parts.join(",")
    }

    /// Classes for the `<html>` element.
    pub fn classes(self) -> String {
        let mut classes = Vec::new();
        if self.large_text {
            classes.push("large-text");
        }
        if self.high_contrast {
            classes.push("high-contrast");
        }
        classes.join(" ")
    }
}

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub ip: String,
    pub https: bool,
    pub display: Display,
    pub csrf_token: String,
    /// Set when the session is fully authenticated.
    pub viewer: Option<Viewer>,
    /// An admin who passed the password but not yet the second factor.
    pub pending_second_factor: Option<Viewer>,
    pub path: String,
}

impl RequestContext {
    pub fn user_agent(headers: &HeaderMap) -> String {
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value with the attributes every GreenBridge cookie carries.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie values are ASCII tokens")
}

fn client_ip(state: &AppState, request: &Request) -> String {
    if state.config.trusted_proxy
        && let Some(forwarded) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
    {
        // The proxy appends the address it saw last; anything before it the client
        // could have written itself.
        if let Some(last) = forwarded.rsplit(',').map(str::trim).find(|s| !s.is_empty()) {
            return last.to_string();
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn is_https(state: &AppState, request: &Request) -> bool {
    if state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        return true;
    }
    state.config.trusted_proxy
        && request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn csrf_signature(key: &[u8], nonce: &str, session: Option<&str>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(nonce.as_bytes());
    mac.update(b"|");
    mac.update(
        session
            .map(greenbridge_store::token_hash)
            .unwrap_or_default()
            .as_bytes(),
    );
    data_encoding::BASE64URL_NOPAD.encode(&mac.finalize().into_bytes())
}

/// A CSRF token is a random nonce and its HMAC, bound to the login session (or to
/// none), so that a token planted from elsewhere or kept from another login fails.
fn csrf_valid(key: &[u8], token: &str, session: Option<&str>) -> bool {
    let Some((nonce, signature)) = token.split_once('.') else {
        return false;
    };
    let expected = csrf_signature(key, nonce, session);
    constant_time_eq(expected.as_bytes(), signature.as_bytes())
}

fn mint_csrf(key: &[u8], session: Option<&str>) -> String {
    let nonce = greenbridge_store::new_token();
    let signature = csrf_signature(key, &nonce, session);
    format!("{nonce}.{signature}")
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn load_session(state: &AppState, token: &str) -> Result<Option<Viewer>, AppError> {
    let Some(session) = state.store.session(token).await? else {
        return Ok(None);
    };
    let now = state.clock.unix();
    if now - session.last_seen_at > state.config.idle_timeout_minutes * 60 {
        state.store.delete_session(token).await?;
        return Ok(None);
    }
    let account = state.store.account(session.account_id).await?;
    if account.status != greenbridge_store::AccountStatus::Active {
        state.store.delete_session(token).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_INTERVAL_SECS {
        state.store.touch_session(token, now).await?;
    }
    Ok(Some(Viewer {
        account,
        session_token: token.to_string(),
        second_factor_passed: session.second_factor_passed,
    }))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths whose POST needs no CSRF token: the one-click unsubscribe of RFC 8058, which a
/// mail program sends without the site's cookies. The signed token in the path is the
/// credential there, and the only effect is that less mail is sent.
fn csrf_exempt(path: &str) -> bool {
    path.starts_with("/unsubscribe/")
}

/// Reads the CSRF token a state-changing request carries: the `_csrf` field of a
/// urlencoded form (the body is buffered, within the form limit, and put back), else
/// the `_csrf` query parameter (multipart forms) or the `X-CSRF-Token` header.
async fn submitted_csrf(request: Request) -> Result<(Request, Option<String>), AppError> {
    let from_query = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
    });
    let from_header = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, from_query.or(from_header)));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_BODY_LIMIT)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let from_body = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    let request = Request::from_parts(parts, Body::from(bytes));
    Ok((request, from_body.or(from_query).or(from_header)))
}

pub async fn context_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match build_context(&state, request).await {
        Ok((request, context, new_csrf, clear_session)) => {
            let https = context.https;
            let context: Arc<RequestContext> = context;
            let mut response = next.run(request).await;
            if let Some(token) = new_csrf
                && !response.headers().contains_key("x-gb-csrf-set")
            {
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie(CSRF_COOKIE, &token, https, None),
                );
            }
            response.headers_mut().remove("x-gb-csrf-set");
            if clear_session && !response.headers().contains_key("x-gb-session-set") {
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie(SESSION_COOKIE, "", https, Some(0)),
                );
            }
            response.headers_mut().remove("x-gb-session-set");
            response.extensions_mut().insert(context);
            response
        }
        Err(error) => error.into_response(),
    }
}

type Built = (Request, Arc<RequestContext>, Option<String>, bool);

async fn build_context(state: &AppState, request: Request) -> Result<Built, AppError> {
    let ip = client_ip(state, &request);
    let https = is_https(state, &request);
    let headers = request.headers();
    let display = cookie(headers, DISPLAY_COOKIE)
        .map(|v| Display::from_cookie(&v))
        .unwrap_or_default();
    let session_cookie = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty());
    let mut clear_session = false;
    let mut viewer = None;
    if let Some(token) = &session_cookie {
        viewer = load_session(state, token).await?;
        clear_session = viewer.is_none();
    }
    let session_token = viewer.as_ref().map(|v: &Viewer| v.session_token.as_str());
    let cookie_csrf =
        cookie(headers, CSRF_COOKIE).filter(|t| csrf_valid(&state.signing_key, t, session_token));
    let (csrf_token, new_csrf) = match cookie_csrf {
        Some(token) => (token, None),
        None => {
            let token = mint_csrf(&state.signing_key, session_token);
            (token.clone(), Some(token))
        }
    };
    let mut request = request;
    if !is_safe(request.method()) && !csrf_exempt(request.uri().path()) {
        let (checked, submitted) = submitted_csrf(request).await?;
        request = checked;
        let valid = new_csrf.is_none()
            && submitted.is_some_and(|s| constant_time_eq(s.as_bytes(), csrf_token.as_bytes()));
        if !valid {
            return Err(AppError::Csrf);
        }
    }
    let (viewer, pending_second_factor) = match viewer {
        Some(v) if v.fully_authenticated() => (Some(v), None),
        Some(v) => (None, Some(v)),
        None => (None, None),
    };
    let context = Arc::new(RequestContext {
        ip,
        https,
        display,
        csrf_token,
        viewer,
        pending_second_factor,
        path: request.uri().path().to_string(),
    });
    request.extensions_mut().insert(context.clone());
    Ok((request, context, new_csrf, clear_session))
}

/// The request context, as an extractor.
#[derive(Clone)]
pub struct Ctx(pub Arc<RequestContext>);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<RequestContext>>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("context layer missing")))
    }
}

impl std::ops::Deref for Ctx {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

/// A logged-in viewer, or a redirect to the login page.
pub struct Authenticated(pub Viewer, pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        match ctx.viewer.clone() {
            Some(viewer) => Ok(Authenticated(viewer, ctx)),
            None => Err(AppError::LoginRequired),
        }
    }
}

impl Authenticated {
    /// The viewer if their role grants `permission`; otherwise 403.
    pub fn require(&self, permission: Permission) -> Result<&Viewer, AppError> {
        if self.0.can(permission) {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden)
        }
    }
}
