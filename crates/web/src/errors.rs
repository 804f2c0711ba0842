//! The error-page layer: every response with an error status that no handler rendered
//! itself gets a body here — a zh-CN page for people, the JSON error envelope under
//! `/api/` — so that axum's own rejections (405, 415, 422 …) never show internals or
//! English text. A 401 on a page becomes a redirect to the login form.

use crate::context::{Ctx, RequestContext};
use crate::error::ErrorDetail;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// Marks a response whose error body a handler rendered on purpose (a form shown
/// again with its errors, say), so this layer leaves it alone.
#[derive(Clone, Copy)]
pub struct Rendered;

/// A response whose body the handler rendered itself, with an error status the
/// error-page layer must leave alone (a form shown again with its errors).
pub fn rendered(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    response.extensions_mut().insert(Rendered);
    response
}

pub fn message_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求的内容有误，请检查后重试。",
        401 => "请先登录。",
        403 => "您没有权限进行此操作。如果您刚刚打开了这个页面很久，请返回后刷新页面再试。",
        404 => "您要找的页面不存在，或者您没有权限查看。",
        405 => "不支持这种请求方式。",
        408 => "请求超时，请稍后重试。",
        413 => "提交的内容太大，超出了允许的大小。",
        415 => "不支持提交的内容类型。",
        416 => "请求的文件范围超出了文件的大小。",
        422 => "提交的内容格式有误，请检查后重试。",
        429 => "操作过于频繁，请稍后再试。",
        503 => "服务暂时不可用，请稍后再试。",
        _ if status.is_server_error() => "系统出现了问题，我们已记录下来，请稍后再试。",
        _ => "请求未能完成。",
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "需要登录",
        403 => "无权访问",
        404 => "页面不存在",
        413 => "内容过大",
        429 => "请求过于频繁",
        _ if status.is_server_error() => "系统错误",
        _ => "请求有误",
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    status: u16,
    message: String,
}

pub async fn error_page_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let response = next.run(request).await;
    let context = response.extensions().get::<Arc<RequestContext>>().cloned();
    let status = response.status();
    if status.as_u16() < 400 || response.extensions().get::<Rendered>().is_some() {
        return response;
    }
    let detail = response.extensions().get::<ErrorDetail>().cloned();
    let (mut parts, _) = response.into_parts();
    let message = detail
        .as_ref()
        .map(|d| d.message.clone())
        .unwrap_or_else(|| message_for(status).to_string());
    if is_api {
        let body = serde_json::json!({
            "error": {
                "code": detail.as_ref().map(|d| d.code).unwrap_or_else(|| default_code(status)),
                "message": message,
                "field": detail.as_ref().and_then(|d| d.field.clone()),
            }
        });
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::from(body.to_string()));
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect::<String>();
        let mut redirect = Redirect::to(&format!("/login?next={next}")).into_response();
        for cookie in parts.headers.get_all(header::SET_COOKIE) {
            redirect
                .headers_mut()
                .append(header::SET_COOKIE, cookie.clone());
        }
        return redirect;
    }
    let html = match context {
        Some(context) => {
            let mut page = Page::new(&state, &Ctx(context), title_for(status)).await;
            page.title = title_for(status).to_string();
            ErrorPage {
                page,
                status: status.as_u16(),
                message: message.clone(),
            }
            .render()
        }
        // Rejected before the context existed (a bad CSRF token, a body too large):
        // a plain page without navigation.
        None => Ok(plain_error(status, &message)),
    };
    let body = html.unwrap_or_else(|_| plain_error(status, &message));
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn default_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "bad_request",
        401 => "login_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "too_many_requests",
        _ => "internal",
    }
}

fn plain_error(status: StatusCode, message: &str) -> String {
    let message = escape_html(message);
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - 绿桥</title><link rel=\"stylesheet\" href=\"/static/site.css\"></head>\
         <body><main id=\"main\" class=\"container\"><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"/\">返回首页</a></p></main></body></html>",
        title = title_for(status),
    )
}

/// Escapes text for HTML (the templates escape on their own; this is for the one page
/// built without them).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}
