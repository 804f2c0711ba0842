//! Admins: the second factor (TOTP), staff accounts, account status, module switches,
//! the audit log and its CSV export, and who may open the admin pages at all.

use crate::flows::{
    NEW_PASSWORD, PASSWORD, Registration, Visitor, account_id, audit_count, code_by_id,
    enrolled_admin, insert_account, location, path_of, register_ok, reviewer, totp_code,
};
use crate::support::{credit_code, spawn_app};
use greenbridge_domain::role::Role;
use reqwest::StatusCode;

const ADMIN_PAGES: [&str; 5] = [
    "/admin",
    "/admin/accounts",
    "/admin/modules",
    "/admin/audit",
    "/admin/audit.csv",
];

/// The main navigation of a page.
fn main_nav(html: &str) -> &str {
    let start = html
        .find(r#"<nav class="main-nav""#)
        .unwrap_or_else(|| panic!("no main navigation in:\n{html}"));
    let end = start + html[start..].find("</nav>").expect("unterminated nav");
    &html[start..end]
}

#[tokio::test]
async fn admin_must_enrol_the_second_factor_before_any_admin_page_opens() {
    let app = spawn_app().await;
    insert_account(
        &app,
        "admin@example.com",
        "平台管理员",
        Role::Admin,
        None,
        PASSWORD,
    )
    .await;
    let admin = Visitor::new(&app);
    let response = admin.login("admin@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/second-factor");

    for page in ADMIN_PAGES {
        let response = admin.get(page).await;
        assert_ne!(
            response.status(),
            StatusCode::OK,
            "{page} opened before the second factor"
        );
        assert!(
            response.status().is_redirection() || response.status().is_client_error(),
            "{page}: {}",
            response.status()
        );
    }

    // A wrong code does not enrol.
    let (_, html) = admin.get_html("/account/second-factor").await;
    let secret = crate::flows::hidden_value(&html, "secret");
    let wrong = format!(
        "{:06}",
        (totp_code(&secret, 0).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    let response = admin
        .post_form(
            "/account/second-factor",
            &[("secret", &secret), ("code", &wrong)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let enrolled: Option<String> =
        sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE login = $1")
            .bind("admin@example.com")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(enrolled, None);
    assert_eq!(admin.get("/admin").await.status(), StatusCode::SEE_OTHER);

    let (secret, _) = crate::flows::enrol(&admin).await;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE login = $1")
            .bind("admin@example.com")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some(secret.as_str()));
    for page in ADMIN_PAGES {
        assert_eq!(
            admin.get(page).await.status(),
            StatusCode::OK,
            "{page} after the second factor"
        );
    }
    assert_eq!(
        audit_count(&app, "auth.second_factor.enrol", "success").await,
        1
    );
}

#[tokio::test]
async fn later_admin_logins_ask_for_the_code_and_refuse_a_code_already_used() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.com").await;
    let response = admin.visitor.logout().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let visitor = Visitor::new(&app);
    let response = visitor.login("admin@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login/second-factor?next=%2Faccount");
    assert_ne!(
        visitor.get("/admin").await.status(),
        StatusCode::OK,
        "the password alone opened /admin"
    );
    let (status, html) = visitor
        .get_html("/login/second-factor?next=%2Faccount")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="code""#), "{html}");

    // The code typed at enrolment is spent.
    let response = visitor
        .post_form(
            "/login/second-factor",
            &[("code", &admin.enrol_code), ("next", "/account")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("已使用过"));
    assert_ne!(visitor.get("/admin").await.status(), StatusCode::OK);
    assert_eq!(audit_count(&app, "auth.second_factor", "failure").await, 1);

    // The next step's code is fresh (one step of drift is accepted).
    let code = totp_code(&admin.secret, 1);
    let response = visitor
        .post_form(
            "/login/second-factor",
            &[("code", &code), ("next", "/admin")],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/admin");
    assert_eq!(visitor.get("/admin").await.status(), StatusCode::OK);
    assert_eq!(audit_count(&app, "auth.second_factor", "success").await, 1);

    // And it, too, works only once.
    let again = Visitor::new(&app);
    assert_eq!(
        again.login("admin@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let response = again
        .post_form(
            "/login/second-factor",
            &[("code", &code), ("next", "/admin")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admin_creates_a_reviewer_whose_one_time_link_sets_their_password() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.com").await;

    // A reviewer needs a province.
    let response = admin
        .visitor
        .post_form(
            "/admin/accounts",
            &[
                ("login", "noprovince@example.com"),
                ("display_name", "无省份"),
                ("role", "reviewer"),
                ("province", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("协会审核员需要选择所属省市")
    );

    let response = admin
        .visitor
        .post_form(
            "/admin/accounts",
            &[
                ("login", "new-reviewer@example.com"),
                ("display_name", "钱审核"),
                ("role", "reviewer"),
                ("province", "320000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let link = path_of(&code_by_id(&response.text().await.unwrap(), "created-link"));
    assert!(link.starts_with("/password/reset/"), "{link}");
    let (role, province): (String, Option<String>) =
        sqlx::query_as("SELECT role, province_code FROM accounts WHERE login = $1")
            .bind("new-reviewer@example.com")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (role.as_str(), province.as_deref()),
        ("reviewer", Some("320000"))
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor_login = $2 AND target = $3",
    )
    .bind("account.create")
    .bind("admin@example.com")
    .bind(format!(
        "account:{}",
        account_id(&app, "new-reviewer@example.com").await
    ))
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // No password works until the holder sets one with the link.
    let holder = Visitor::new(&app);
    assert_eq!(
        holder
            .login("new-reviewer@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let response = holder
        .post_form(&link, &[("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?done=reset");
    holder
        .login_ok("new-reviewer@example.com", NEW_PASSWORD)
        .await;
    let (status, html) = holder.get_html("/review/claims").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("江苏省"), "{html}");
    assert_eq!(holder.get("/admin").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        Visitor::new(&app).get_html(&link).await.0,
        StatusCode::NOT_FOUND,
        "the link worked twice"
    );
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_refuses_its_logins_until_enabled() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.com").await;
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1AD0001"),
            "吴江停用测试有限公司",
            "disable-me@example.com",
        ),
    )
    .await;
    let id = account_id(&app, "disable-me@example.com").await;

    let response = admin
        .visitor
        .post_form(&format!("/admin/accounts/{id}"), &[("action", "disable")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/accounts?done=updated");
    assert_eq!(
        enterprise.get("/account").await.status(),
        StatusCode::SEE_OTHER,
        "the disabled account kept its session"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    let response = enterprise.login("disable-me@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("登录名或密码不正确。"),
        "a disabled account is told apart"
    );
    assert_eq!(audit_count(&app, "account.disable", "success").await, 1);

    let response = admin
        .visitor
        .post_form(&format!("/admin/accounts/{id}"), &[("action", "enable")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    enterprise
        .login_ok("disable-me@example.com", PASSWORD)
        .await;

    // An admin cannot change their own account.
    let response = admin
        .visitor
        .post_form(
            &format!("/admin/accounts/{}", admin.id),
            &[("action", "disable")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let status: String = sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
        .bind(admin.id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "active");
}

#[tokio::test]
async fn switching_services_off_removes_it_from_the_navigation_and_its_page_answers_404() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    assert_eq!(visitor.get("/services").await.status(), StatusCode::OK);
    let (_, home) = visitor.get_html("/").await;
    assert!(main_nav(&home).contains(r#"href="/services""#), "{home}");

    let admin = enrolled_admin(&app, "admin@example.com").await;
    let others = [
        ("enabled", "demands"),
        ("enabled", "regulations"),
        ("enabled", "classroom"),
        ("enabled", "assistant"),
    ];
    let response = admin.visitor.post_form("/admin/modules", &others).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/modules?saved=1");
    let (_, html) = admin.visitor.get_html("/admin/modules?saved=1").await;
    assert!(!html.contains(r#"value="services" checked"#), "{html}");
    assert!(html.contains(r#"value="demands" checked"#), "{html}");

    assert_eq!(
        visitor.get("/services").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        visitor
            .get("/services?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, home) = visitor.get_html("/").await;
    assert!(
        !main_nav(&home).contains(r#"href="/services""#),
        "the navigation still links the switched-off module"
    );
    let switched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2 AND actor_login = $3",
    )
    .bind("module.switch")
    .bind("success")
    .bind("admin@example.com")
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(switched, 1);

    let mut all = others.to_vec();
    all.push(("enabled", "services"));
    assert_eq!(
        admin
            .visitor
            .post_form("/admin/modules", &all)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(visitor.get("/services").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn audit_page_filters_by_action_outcome_and_actor() {
    let app = spawn_app().await;
    let stranger = Visitor::new(&app);
    assert_eq!(
        stranger
            .login("intruder@example.com", "Wrong#password-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stranger
            .login("intruder2@example.com", "Wrong#password-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let admin = enrolled_admin(&app, "admin@example.com").await;

    let (status, html) = admin
        .visitor
        .get_html("/admin/audit?action=auth.login&outcome=failure")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 2 条记录"), "{html}");
    assert!(
        html.contains("intruder@example.com") && html.contains("intruder2@example.com"),
        "{html}"
    );
    assert!(
        !html.contains("<td>auth.second_factor.enrol</td>"),
        "a row outside the filter is shown:\n{html}"
    );

    let (status, html) = admin
        .visitor
        .get_html("/admin/audit?actor=intruder2%40example.com")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 1 条记录"), "{html}");
    assert!(!html.contains("<td>intruder@example.com</td>"), "{html}");

    let (status, html) = admin
        .visitor
        .get_html("/admin/audit?action=auth.login&outcome=success")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 1 条记录"), "{html}");
    assert!(html.contains("<td>admin@example.com</td>"), "{html}");

    // Today is 2026-11-28: nothing happened before it.
    let (_, html) = admin.visitor.get_html("/admin/audit?to=2026-11-27").await;
    assert!(html.contains("共 0 条记录"), "{html}");
    let (_, html) = admin
        .visitor
        .get_html("/admin/audit?from=2026-11-28&to=2026-11-28&action=auth.login")
        .await;
    assert!(html.contains("共 3 条记录"), "{html}");

    let (status, html) = admin.visitor.get_html("/admin/audit?outcome=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("结果只能是"), "{html}");
}

#[tokio::test]
async fn audit_csv_export_is_utf8_with_bom_and_holds_the_filtered_rows() {
    let app = spawn_app().await;
    let stranger = Visitor::new(&app);
    assert_eq!(
        stranger
            .login("=cmd|calc@example.com", "Wrong#password-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stranger
            .login("intruder@example.com", "Wrong#password-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let admin = enrolled_admin(&app, "admin@example.com").await;

    let response = admin
        .visitor
        .get("/admin/audit.csv?action=auth.login&outcome=failure")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "编号,时间,账号,角色,IP,操作,对象,结果,说明");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",auth.login,") && l.contains(",failure,")),
        "{text}"
    );
    assert!(text.contains("intruder@example.com"), "{text}");
    // A login name that looks like a spreadsheet formula is neutralised.
    assert!(text.contains("'=cmd|calc@example.com"), "{text}");
    assert!(
        !text.contains(",=cmd"),
        "a cell starts with a formula:\n{text}"
    );
    assert_eq!(audit_count(&app, "audit.export", "success").await, 1);
}

#[tokio::test]
async fn demand_enterprise_and_reviewer_are_forbidden_the_admin_pages() {
    let app = spawn_app().await;
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1AD0002"),
            "吴江禁止测试有限公司",
            "not-admin@example.com",
        ),
    )
    .await;
    let jiangsu = reviewer(&app, "reviewer-js@example.com", "320000").await;
    for visitor in [&enterprise, &jiangsu] {
        for page in ADMIN_PAGES {
            assert_eq!(
                visitor.get(page).await.status(),
                StatusCode::FORBIDDEN,
                "{page}"
            );
        }
        let response = visitor
            .post_form("/admin/modules", &[("enabled", "demands")])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = visitor
            .post_form(
                "/admin/accounts",
                &[
                    ("login", "sneaky@example.com"),
                    ("display_name", "偷偷"),
                    ("role", "admin"),
                    ("province", ""),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(audit_count(&app, "module.switch", "success").await, 0);
    assert_eq!(
        Visitor::new(&app).get("/services").await.status(),
        StatusCode::OK
    );
    let sneaky: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE login = $1")
        .bind("sneaky@example.com")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(sneaky, 0);

    let response = Visitor::new(&app).get("/admin").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fadmin");
}
