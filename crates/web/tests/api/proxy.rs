//! The trusted-proxy setting: forwarding headers count only when it is on.

use crate::support::{TestApp, new_client, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// Fails a login with forwarding headers; returns the audited client address and
/// whether the cookies set were marked Secure.
async fn failed_login_through_a_proxy(app: &TestApp) -> (String, bool) {
    let token = app.csrf_token("/login").await;
    let response = app
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
        .header("x-forwarded-proto", "https")
        .form(&[
            ("_csrf", token.as_str()),
            ("login", "13800000000"),
            ("password", "Wrong-passw0rd"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A first visit, without cookies, gets the CSRF cookie.
    let response = new_client(Default::default())
        .get(app.url("/"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap_or("").to_string())
        .collect();
    assert!(!cookies.is_empty(), "a first visit sets the CSRF cookie");
    let secure = cookies.iter().all(|c| c.contains("; Secure"));
    let ip: String =
        sqlx::query_scalar("SELECT ip FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1")
            .bind("auth.login")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    (ip, secure)
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_and_https_are_used() {
    let app = spawn_app_with(|c| c.trusted_proxy = true).await;
    let (ip, secure) = failed_login_through_a_proxy(&app).await;
    assert_eq!(
        ip, "198.51.100.7",
        "the address the proxy appended, not one the client wrote"
    );
    assert!(secure, "cookies behind an HTTPS proxy must be Secure");
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarding_headers_are_ignored() {
    let app = spawn_app().await;
    let (ip, secure) = failed_login_through_a_proxy(&app).await;
    assert_eq!(ip, "127.0.0.1");
    assert!(!secure);
}
