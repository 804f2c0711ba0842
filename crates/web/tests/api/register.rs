//! Self-registration over plain HTTP (the browser test walks the same path with clicks).

use crate::support::{TestApp, credit_code, csrf_from, set_cookies, spawn_app};
use reqwest::StatusCode;

const PASSWORD: &str = "Lvqiao#2026-test";

/// A complete demand registration for a 吴江 enterprise, region down to the town.
fn wujiang_enterprise(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("credit_code", code.to_string()),
        ("org_name", "吴江示例精密制造有限公司".into()),
        ("region_1", "320000".into()),
        ("region_2", "320500".into()),
        ("region_3", "320509".into()),
        ("region_4", "320509001".into()),
        ("address", "苏州市吴江区松陵街道示例路1号".into()),
        ("contact_name", "张示例".into()),
        ("contact_phone", "0512-63000000".into()),
        ("login", "wujiang-demo@example.com".into()),
        ("password", PASSWORD.into()),
        ("password_confirm", PASSWORD.into()),
        ("action", "register".into()),
    ]
}

async fn submit(app: &TestApp, fields: &[(&'static str, String)]) -> reqwest::Response {
    let (status, html) = app.get_html("/register/demand").await;
    assert_eq!(status, StatusCode::OK);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_multipart("/register/demand", &csrf_from(&html), &fields)
        .await
}

#[tokio::test]
async fn registered_demand_enterprise_is_logged_in_and_sees_its_account_page() {
    let app = spawn_app().await;
    let response = submit(&app, &wujiang_enterprise(&credit_code("91320509MA1WJ0001"))).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/account"), "redirected to {location}");
    let session = set_cookies(&response)
        .into_iter()
        .find(|c| c.starts_with("gb_session="))
        .expect("no session cookie after registering");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite"),
        "{session}"
    );
    assert_eq!(app.count_rows("sessions").await, 1);
    assert_eq!(app.count_rows("organisations").await, 1);

    let (status, html) = app.get_html(&location).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("吴江示例精密制造有限公司"), "{html}");
    assert!(html.contains("wujiang-demo@example.com"), "{html}");
}

#[tokio::test]
async fn registration_with_a_wrong_check_character_is_refused_without_echoing_the_password() {
    let app = spawn_app().await;
    let mut code = credit_code("91320509MA1WJ0001");
    let last = code.pop().unwrap();
    code.push(if last == '0' { '1' } else { '0' });
    let response = submit(&app, &wujiang_enterprise(&code)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"id="credit_code-error""#), "{html}");
    assert!(
        html.contains("吴江示例精密制造有限公司"),
        "the typed name is not kept"
    );
    assert!(!html.contains(PASSWORD), "the password was echoed back");
    assert_eq!(app.count_rows("organisations").await, 0);
    assert_eq!(app.count_rows("accounts").await, 0);
}

#[tokio::test]
async fn demand_registration_outside_the_open_regions_is_refused_in_phase_1() {
    let app = spawn_app().await;
    let mut fields = wujiang_enterprise(&credit_code("91320102MA1NJ0001"));
    fields.retain(|(k, _)| !k.starts_with("region_"));
    fields.extend([
        ("region_1", "320000".into()),
        ("region_2", "320100".into()),
        ("region_3", "320102".into()),
    ]);
    let response = submit(&app, &fields).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("暂未开放"), "{html}");
    assert_eq!(app.count_rows("organisations").await, 0);
}

#[tokio::test]
async fn registration_without_a_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let fields = wujiang_enterprise(&credit_code("91320509MA1WJ0001"));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _ = app.get("/register/demand").await;
    let response = app.post_multipart("/register/demand", "", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("organisations").await, 0);
}
