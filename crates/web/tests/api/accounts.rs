//! Accounts: registration details, login and its throttling, sessions (idle timeout,
//! logout), invitations, password change and reset links.

use crate::flows::{
    NEW_PASSWORD, PASSWORD, Registration, Visitor, account_id, audit_count, code_by_id, location,
    organisation_of, path_of, register, register_ok, reviewer,
};
use crate::support::{credit_code, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// The text of the login page's error notice.
fn login_error(html: &str) -> String {
    let start = html
        .find(r#"id="login-error">"#)
        .unwrap_or_else(|| panic!("no login error in:\n{html}"))
        + r#"id="login-error">"#.len();
    let end = start + html[start..].find("</p>").expect("unterminated notice");
    html[start..end].to_string()
}

/// Full-width forms of ASCII letters and digits, as Chinese input methods type them.
fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

#[tokio::test]
async fn credit_code_typed_in_lower_case_full_width_characters_is_accepted_and_stored_canonically()
{
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    let canonical = credit_code("91320509MA1XH0001");
    let typed = full_width(&canonical.to_lowercase());
    assert_ne!(typed, canonical);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(&typed, "吴江全角制造有限公司", "fullwidth@example.com"),
    )
    .await;
    let stored: String =
        sqlx::query_scalar("SELECT credit_code FROM organisations WHERE name = $1")
            .bind("吴江全角制造有限公司")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(stored, canonical);
}

#[tokio::test]
async fn credit_code_with_a_wrong_check_character_is_explained_and_the_typed_values_are_shown_again()
 {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    let mut code = credit_code("91320509MA1XH0002");
    let last = code.pop().unwrap();
    code.push(if last == 'A' { 'B' } else { 'A' });
    let registration =
        Registration::wujiang(&code, "吴江校验位测试有限公司", "checkchar@example.com");
    let response = register(&visitor, "demand", &registration, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    let error_start = html
        .find(r#"id="credit_code-error">"#)
        .unwrap_or_else(|| panic!("no credit code error:\n{html}"));
    let error = &html[error_start..error_start + html[error_start..].find("</p>").unwrap()];
    assert!(
        error.contains("校验位"),
        "the message does not name the check character: {error}"
    );
    for typed in [
        code.as_str(),
        "吴江校验位测试有限公司",
        "苏州市吴江区松陵街道流虹路88号",
        "王建国",
        "0512-63001234",
        "checkchar@example.com",
    ] {
        assert!(
            html.contains(&format!(r#"value="{typed}""#)),
            "{typed} is not shown again:\n{html}"
        );
    }
    assert!(
        html.contains(r#"<option value="320509001" selected>"#),
        "the chosen town is lost:\n{html}"
    );
    assert_eq!(app.count_rows("organisations").await, 0);
    assert_eq!(app.count_rows("accounts").await, 0);
}

#[tokio::test]
async fn demand_enterprise_outside_phase_1_is_told_which_regions_are_open_while_a_supplier_there_may_register()
 {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    let mut nanjing = Registration::wujiang(
        &credit_code("91320102MA1NJ0001"),
        "南京玄武环保科技有限公司",
        "nanjing@example.com",
    );
    nanjing.regions = ["320000", "320100", "320102"].map(String::from).to_vec();
    let response = register(&visitor, "demand", &nanjing, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    let start = html
        .find(r#"id="region-error">"#)
        .unwrap_or_else(|| panic!("no region error:\n{html}"));
    let error = &html[start..start + html[start..].find("</p>").unwrap()];
    for open in ["青浦区", "吴江区", "嘉善县"] {
        assert!(
            error.contains(open),
            "the region error does not name {open}: {error}"
        );
    }
    assert_eq!(app.count_rows("organisations").await, 0);

    // Suppliers register from anywhere.
    register_ok(&visitor, "supplier", &nanjing).await;
    let side: String = sqlx::query_scalar("SELECT side FROM organisations WHERE credit_code = $1")
        .bind(credit_code("91320102MA1NJ0001"))
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(side, "supplier");
}

#[tokio::test]
async fn unknown_region_code_is_a_form_error_and_stores_no_organisation() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    let mut registration = Registration::wujiang(
        &credit_code("91320509MA1XH0003"),
        "未知地区测试有限公司",
        "noregion@example.com",
    );
    registration.regions = ["320000", "320500", "329999", "329999001"]
        .map(String::from)
        .to_vec();
    let response = register(&visitor, "demand", &registration, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"id="region-error""#), "{html}");
    assert_eq!(app.count_rows("organisations").await, 0);
    assert_eq!(app.count_rows("accounts").await, 0);
    assert!(visitor.cookie("gb_session").is_none());
}

#[tokio::test]
async fn login_with_the_right_password_starts_a_session_and_is_audited() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0004"),
            "吴江登录测试有限公司",
            "login-ok@example.com",
        ),
    )
    .await;

    let visitor = Visitor::new(&app);
    let response = visitor.login("login-ok@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account");
    assert_eq!(
        app.count_rows("sessions").await,
        2,
        "registration and login each hold a session"
    );
    let (status, html) = visitor.get_html("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<dd id="org-name">吴江登录测试有限公司"#),
        "{html}"
    );
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2 AND actor_login = $3 AND ip = $4")
        .bind("auth.login")
        .bind("success")
        .bind("login-ok@example.com")
        .bind("127.0.0.1")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn failed_login_gives_one_message_for_an_unknown_name_and_for_a_wrong_password() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0005"),
            "吴江失败测试有限公司",
            "known@example.com",
        ),
    )
    .await;

    let visitor = Visitor::new(&app);
    let wrong_password = visitor.login("known@example.com", "Wrong#password-1").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let wrong_password = login_error(&wrong_password.text().await.unwrap());
    let unknown_name = visitor.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown_name.status(), StatusCode::UNAUTHORIZED);
    let unknown_name = login_error(&unknown_name.text().await.unwrap());
    assert_eq!(wrong_password, "登录名或密码不正确。");
    assert_eq!(unknown_name, wrong_password);
    assert!(visitor.cookie("gb_session").is_none_or(|c| c.is_empty()));
    assert_eq!(audit_count(&app, "auth.login", "failure").await, 2);
}

#[tokio::test]
async fn five_failures_lock_a_known_and_an_unknown_login_name_alike() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0006"),
            "吴江锁定测试有限公司",
            "locked@example.com",
        ),
    )
    .await;

    let visitor = Visitor::new(&app);
    for name in ["locked@example.com", "ghost@example.com"] {
        for attempt in 1..=5 {
            let response = visitor.login(name, "Wrong#password-1").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let message = login_error(&response.text().await.unwrap());
            if attempt < 5 {
                assert_eq!(
                    message, "登录名或密码不正确。",
                    "attempt {attempt} for {name}"
                );
            } else {
                assert!(
                    message.contains("已被锁定"),
                    "the fifth failure for {name} does not lock: {message}"
                );
            }
        }
        // Locked: even the right password (for the known name) is refused.
        let response = visitor.login(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{name}");
        let message = login_error(&response.text().await.unwrap());
        assert!(message.contains("已被锁定"), "{name}: {message}");
    }
    assert!(visitor.cookie("gb_session").is_none_or(|c| c.is_empty()));
    assert_eq!(audit_count(&app, "auth.login", "denied").await, 2);
    assert_eq!(audit_count(&app, "auth.login", "success").await, 0);
}

#[tokio::test]
async fn session_idle_longer_than_the_timeout_is_refused_and_deleted() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0007"),
            "吴江超时测试有限公司",
            "idle@example.com",
        ),
    )
    .await;
    let (status, _) = visitor.get_html("/account").await;
    assert_eq!(status, StatusCode::OK);

    // 31 minutes without a request (the default timeout is 30).
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 1860")
        .execute(app.store.pool())
        .await
        .unwrap();
    let response = visitor.get("/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount");
    assert_eq!(app.count_rows("sessions").await, 0);
}

#[tokio::test]
async fn session_idle_for_less_than_the_timeout_stays_valid() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0008"),
            "吴江未超时测试有限公司",
            "active@example.com",
        ),
    )
    .await;
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 1500")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (status, html) = visitor.get_html("/account").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(app.count_rows("sessions").await, 1);
}

#[tokio::test]
async fn configured_idle_timeout_is_the_one_applied() {
    let app = spawn_app_with(|c| c.idle_timeout_minutes = 5).await;
    let visitor = Visitor::new(&app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0015"),
            "吴江短超时测试有限公司",
            "short@example.com",
        ),
    )
    .await;
    // Six minutes: within the default 30, beyond the configured 5.
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 360")
        .execute(app.store.pool())
        .await
        .unwrap();
    let response = visitor.get("/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount");
    assert_eq!(app.count_rows("sessions").await, 0);
}

#[tokio::test]
async fn anonymous_visit_of_the_account_page_is_sent_to_login_with_next() {
    let app = spawn_app().await;
    let response = Visitor::new(&app).get("/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount");
}

#[tokio::test]
async fn logout_deletes_the_session_so_the_old_cookie_no_longer_works() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0009"),
            "吴江退出测试有限公司",
            "logout@example.com",
        ),
    )
    .await;
    let old_cookie = visitor.cookie("gb_session").unwrap();

    let response = visitor.logout().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?done=logout");
    assert_eq!(app.count_rows("sessions").await, 0);
    assert_eq!(audit_count(&app, "auth.logout", "success").await, 1);

    // Someone who kept the cookie value gets nothing from it.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = replay
        .get(app.url("/account"))
        .header(reqwest::header::COOKIE, format!("gb_session={old_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}

#[tokio::test]
async fn invitation_link_adds_a_colleague_to_the_same_organisation_and_works_once() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0010"),
            "吴江邀请测试有限公司",
            "owner@example.com",
        ),
    )
    .await;
    let response = owner
        .post_form("/account/invitations", &[("note", "环保部 李工")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let link = path_of(&code_by_id(&html, "invitation-link"));
    assert!(link.starts_with("/invite/"), "{link}");
    assert!(
        html.contains("环保部 李工"),
        "the invitation list does not show the note"
    );

    let colleague = Visitor::new(&app);
    let (status, html) = colleague.get_html(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("吴江邀请测试有限公司"), "{html}");
    let response = colleague
        .post_form(
            &link,
            &[
                ("login", "colleague@example.com"),
                ("display_name", "李工"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/account?done=joined");
    let org = organisation_of(&app, "owner@example.com").await;
    assert!(org.is_some());
    assert_eq!(organisation_of(&app, "colleague@example.com").await, org);
    let (_, html) = colleague.get_html("/account").await;
    assert!(
        html.contains(r#"<dd id="org-name">吴江邀请测试有限公司"#),
        "{html}"
    );
    // Only the primary account (主账号) invites; a colleague's form is absent and its
    // POST refused.
    assert!(!html.contains(r#"action="/account/invitations""#), "{html}");
    let response = colleague
        .post_form("/account/invitations", &[("note", "再邀请一位")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The link is spent.
    let latecomer = Visitor::new(&app);
    let (status, _) = latecomer.get_html(&link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = latecomer
        .post_form(
            &link,
            &[
                ("login", "late@example.com"),
                ("display_name", "迟到者"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let late: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE login = $1")
        .bind("late@example.com")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(late, 0);
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let here = Visitor::new(&app);
    register_ok(
        &here,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0011"),
            "吴江改密测试有限公司",
            "change@example.com",
        ),
    )
    .await;
    let elsewhere = Visitor::new(&app);
    elsewhere.login_ok("change@example.com", PASSWORD).await;

    let response = here
        .post_form(
            "/account/password",
            &[
                ("current", "Wrong#password-1"),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("当前密码不正确"));
    assert_eq!(
        audit_count(&app, "account.password_change", "failure").await,
        1
    );

    let response = here
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account?done=password");
    assert_eq!(app.count_rows("sessions").await, 1);
    let (status, _) = here.get_html("/account").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session that changed the password was ended"
    );
    let response = elsewhere.get("/account").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the other session survived the password change"
    );

    let third = Visitor::new(&app);
    assert_eq!(
        third.login("change@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    third.login_ok("change@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn reset_link_from_the_provinces_reviewer_sets_a_new_password_once() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0012"),
            "吴江重置测试有限公司",
            "forgot@example.com",
        ),
    )
    .await;
    let target = account_id(&app, "forgot@example.com").await;
    let jiangsu = reviewer(&app, "reviewer-js@example.com", "320000").await;

    let response = jiangsu
        .post_form(&format!("/review/accounts/{target}/reset"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let link = path_of(&code_by_id(&response.text().await.unwrap(), "reset-link"));
    assert!(link.starts_with("/password/reset/"), "{link}");
    assert_eq!(audit_count(&app, "account.reset_link", "success").await, 1);

    let holder = Visitor::new(&app);
    let (status, html) = holder.get_html(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("forgot@example.com"), "{html}");
    let response = holder
        .post_form(&link, &[("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?done=reset");

    // The owner's old session ended with the reset; the new password works, the old does not.
    assert_eq!(owner.get("/account").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        holder.login("forgot@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    holder.login_ok("forgot@example.com", NEW_PASSWORD).await;

    // The link works once.
    let again = Visitor::new(&app);
    assert_eq!(again.get_html(&link).await.0, StatusCode::NOT_FOUND);
    let response = again
        .post_form(
            &link,
            &[("new", "Another#Passw0rd"), ("confirm", "Another#Passw0rd")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    again.login_ok("forgot@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn reviewer_of_another_province_cannot_make_a_reset_link() {
    let app = spawn_app().await;
    let owner = Visitor::new(&app);
    register_ok(
        &owner,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0013"),
            "吴江越权测试有限公司",
            "js-owner@example.com",
        ),
    )
    .await;
    let target = account_id(&app, "js-owner@example.com").await;
    let shanghai = reviewer(&app, "reviewer-sh@example.com", "310000").await;

    let response = shanghai
        .post_form(&format!("/review/accounts/{target}/reset"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count_rows("password_resets").await, 0);

    // An enterprise account may not make reset links at all.
    let other = Visitor::new(&app);
    register_ok(
        &other,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XH0014"),
            "吴江另一家有限公司",
            "js-other@example.com",
        ),
    )
    .await;
    let response = other
        .post_form(&format!("/review/accounts/{target}/reset"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("password_resets").await, 0);
}
