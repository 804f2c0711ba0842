//! Forms: CSRF, body limits, anonymous visits without sessions, the display cookie.

use crate::support::{csrf_from, html_tag, set_cookies, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn post_without_a_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    // The visitor has the CSRF cookie, but the form does not carry the token.
    let (_, html) = app.get_html("/display").await;
    let _token = csrf_from(&html);
    let response = app
        .post_form_raw("/display", &[("large_text", "on"), ("back", "/")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        !set_cookies(&response)
            .iter()
            .any(|c| c.starts_with("gb_display=")),
        "a rejected form still changed the display cookie"
    );
}

#[tokio::test]
async fn post_with_a_forged_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let (_, html) = app.get_html("/display").await;
    let token = csrf_from(&html);
    let forged = format!("{}x", token);
    let response = app
        .post_form_with_token("/display", &forged, &[("large_text", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn post_with_another_visitors_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let (_, html) = app.get_html("/display").await;
    let token = csrf_from(&html);
    // A second visitor with an empty cookie jar replays the first visitor's token.
    let other = crate::support::new_client(std::sync::Arc::default());
    let response = other
        .post(app.url("/display"))
        .form(&[("_csrf", token.as_str()), ("large_text", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn csrf_rejection_is_a_zh_cn_page() {
    let app = spawn_app().await;
    let response = app.post_form_raw("/display", &[("large_text", "on")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(html_tag(&html).contains(r#"lang="zh-CN""#), "{html}");
}

#[tokio::test]
async fn form_body_over_64_kib_is_rejected_with_413() {
    let app = spawn_app().await;
    let token = app.csrf_token("/display").await;
    let padding = "x".repeat(70 * 1024);
    let response = app
        .post_form_with_token(
            "/display",
            &token,
            &[("large_text", "on"), ("padding", &padding)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn form_body_under_64_kib_is_accepted() {
    let app = spawn_app().await;
    let token = app.csrf_token("/display").await;
    let padding = "x".repeat(60 * 1024);
    let response = app
        .post_form_with_token(
            "/display",
            &token,
            &[("large_text", "on"), ("padding", &padding)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn anonymous_visit_sets_no_session_cookie_and_stores_no_session() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/display", "/no-such-page"] {
        let response = app.get(path).await;
        let cookies = set_cookies(&response);
        assert!(
            !cookies.iter().any(|c| c.starts_with("gb_session=")),
            "GET {path} set a session cookie: {cookies:?}"
        );
    }
    assert_eq!(app.cookie("gb_session"), None);
    assert_eq!(
        app.count_rows("sessions").await,
        0,
        "an anonymous visit created a session row"
    );
}

#[tokio::test]
async fn cookies_are_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = app.get("/display").await;
    let cookies = set_cookies(&response);
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("gb_csrf="))
        .unwrap_or_else(|| panic!("no CSRF cookie on a page with a form: {cookies:?}"));
    assert!(csrf.contains("HttpOnly"), "{csrf}");
    assert!(
        csrf.contains("SameSite=Lax") || csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
}

#[tokio::test]
async fn display_form_sets_the_cookie_and_the_next_page_has_large_text() {
    let app = spawn_app().await;
    let (status, html) = app.get_html("/display").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"name="large_text""#) && html.contains(r#"name="high_contrast""#),
        "{html}"
    );
    assert!(!html_tag(&html).contains("large-text"));

    let response = app
        .post_form_with_token(
            "/display",
            &csrf_from(&html),
            &[("large_text", "on"), ("back", "/")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[reqwest::header::LOCATION], "/");
    let cookies = set_cookies(&response);
    assert!(
        cookies.iter().any(|c| c.starts_with("gb_display=")),
        "no gb_display cookie: {cookies:?}"
    );
    assert!(app.cookie("gb_display").is_some());

    let (status, html) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    let tag = html_tag(&html);
    assert!(tag.contains("large-text"), "{tag}");
    assert!(!tag.contains("high-contrast"), "{tag}");
    assert_eq!(
        app.count_rows("sessions").await,
        0,
        "a display preference created a session"
    );
}

#[tokio::test]
async fn display_form_can_switch_both_modes_off_again() {
    let app = spawn_app().await;
    let response = app
        .post_form("/display", &[("large_text", "on"), ("high_contrast", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/").await;
    assert!(
        html_tag(&html).contains("large-text") && html_tag(&html).contains("high-contrast"),
        "{}",
        html_tag(&html)
    );

    let response = app.post_form("/display", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/").await;
    let tag = html_tag(&html);
    assert!(
        !tag.contains("large-text") && !tag.contains("high-contrast"),
        "{tag}"
    );
}

#[tokio::test]
async fn display_form_does_not_redirect_off_site() {
    let app = spawn_app().await;
    for back in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ] {
        let response = app
            .post_form("/display", &[("large_text", "on"), ("back", back)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[reqwest::header::LOCATION],
            "/",
            "back={back}"
        );
    }
}
