//! Larger text and high contrast for older users: a cookie, no session, no script.

use crate::context::{Ctx, DISPLAY_COOKIE, Display, set_cookie};
use crate::error::AppResult;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

#[derive(Template)]
#[template(path = "display.html")]
struct DisplayPage {
    page: Page,
    back: String,
}

/// Only a path on this site may be a redirect target.
pub fn local_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Back>,
) -> AppResult<Html<String>> {
    let page = Page::new(&state, &ctx, "显示设置").await;
    Ok(Html(
        DisplayPage {
            page,
            back: local_path(query.back.as_deref()),
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct DisplayForm {
    large_text: Option<String>,
    high_contrast: Option<String>,
    back: Option<String>,
}

pub async fn save(ctx: Ctx, Form(form): Form<DisplayForm>) -> Response {
    let display = Display {
        large_text: form.large_text.is_some(),
        high_contrast: form.high_contrast.is_some(),
    };
    let value = display.cookie_value();
    // A year: this is a preference, not a login.
    let cookie = if value.is_empty() {
        set_cookie(DISPLAY_COOKIE, "", ctx.https, Some(0))
    } else {
        set_cookie(DISPLAY_COOKIE, &value, ctx.https, Some(365 * 86_400))
    };
    let mut response = Redirect::to(&local_path(form.back.as_deref())).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}
