//! What every page promises: security headers, zh-CN and accessible structure, error pages.

use crate::support::{html_tag, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn home_page_sends_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_string()
    };

    let csp = header("content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .or_else(|| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("default-src"))
        })
        .unwrap_or_else(|| panic!("CSP has neither script-src nor default-src: {csp}"));
    assert!(
        !script_src.contains("'unsafe-inline'"),
        "script-src allows inline scripts: {csp}"
    );
    assert!(
        !script_src.contains("'unsafe-eval'"),
        "script-src allows eval: {csp}"
    );
    assert!(
        !script_src.contains('*'),
        "script-src allows any host: {csp}"
    );
    assert!(
        csp.contains("frame-ancestors 'none'") || csp.contains("frame-ancestors 'self'"),
        "CSP: {csp}"
    );
    assert!(csp.contains("object-src 'none'"), "CSP: {csp}");

    assert_eq!(header("x-content-type-options"), "nosniff");
    let referrer = header("referrer-policy");
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "Referrer-Policy {referrer}"
    );
    let content_type = header("content-type");
    assert!(
        content_type.starts_with("text/html") && content_type.to_lowercase().contains("utf-8"),
        "{content_type}"
    );
}

#[tokio::test]
async fn error_pages_send_the_security_headers_too() {
    let app = spawn_app().await;
    let response = app.get("/no-such-page").await;
    assert!(response.headers().contains_key("content-security-policy"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn home_page_is_zh_cn_with_a_skip_link_main_and_navigation() {
    let app = spawn_app().await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html_tag(&html).contains(r#"lang="zh-CN""#),
        "{}",
        html_tag(&html)
    );
    assert!(
        html.contains(r#"<meta charset="utf-8">"#) || html.contains(r#"<meta charset="UTF-8">"#)
    );
    assert!(html.contains("<title>") && !html.contains("<title></title>"));

    // The skip link is the first link of the page and points at <main>'s id.
    let first_link = &html[html.find("<a ").expect("no link on the page")..];
    let first_link = &first_link[..first_link.find('>').unwrap()];
    let target = crate::support::attribute(first_link, "href").expect("first link has no href");
    assert!(
        target.starts_with('#'),
        "the first link is not a skip link: {first_link}"
    );
    let main_start = html.find("<main").expect("no <main>");
    let main_tag = &html[main_start..main_start + html[main_start..].find('>').unwrap()];
    assert!(
        main_tag.contains(&format!(r#"id="{}""#, &target[1..])),
        "skip link {target} does not reach {main_tag}"
    );

    assert!(html.contains("<nav"), "no <nav>");
    assert!(html.contains("aria-label="), "the navigation has no label");
}

#[tokio::test]
async fn home_page_links_to_login_and_registration_for_visitors() {
    let app = spawn_app().await;
    let (_, html) = app.get_html("/").await;
    assert!(html.contains(r#"href="/login""#), "no login link");
    assert!(html.contains(r#"href="/register""#), "no registration link");
    assert!(html.contains("注册") && html.contains("登录"));
}

#[tokio::test]
async fn unknown_path_gives_a_zh_cn_404_page() {
    let app = spawn_app().await;
    let response = app.get("/no-such-page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html_tag(&html).contains(r#"lang="zh-CN""#));
    assert!(html.contains("<main"), "the 404 page has no <main>");
    assert!(
        html.contains("不存在") || html.contains("找不到") || html.contains("未找到"),
        "no Chinese explanation:\n{html}"
    );
    assert!(html.contains(r#"href="/""#), "no way back to the home page");
}

#[tokio::test]
async fn unknown_api_path_gives_a_json_not_found_error() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/no-such-resource").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn openapi_document_is_served_as_json() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert!(
        body["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{body}"
    );
    assert!(body["paths"].is_object(), "{body}");
}

#[tokio::test]
async fn static_stylesheet_is_served() {
    let app = spawn_app().await;
    let response = app.get("/static/site.css").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
