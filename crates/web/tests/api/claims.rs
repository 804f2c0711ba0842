//! Claims: registering a credit code that already exists, the licence upload, and the
//! decision of the reviewer of the organisation's province.

use crate::flows::{
    Registration, Upload, Visitor, audit_count, location, organisation_of, register, register_ok,
    reviewer,
};
use crate::support::{TestApp, credit_code, spawn_app};
use reqwest::StatusCode;

/// Registers `name` with `code` (first account), then files a claim on it from a new
/// visitor with login `claimant`; returns the claimant's visitor and the claim id.
async fn claim(app: &TestApp, registration: Registration, claimant: &str) -> (Visitor, i64) {
    let owner = Visitor::new(app);
    register_ok(&owner, "demand", &registration).await;
    let mut again = registration.clone();
    again.login = claimant.to_string();
    again.contact_name = "赵申请".into();
    let visitor = Visitor::new(app);
    let response = register(&visitor, "demand", &again, Some(Upload::pdf())).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/account?done=claim");
    let id: i64 = sqlx::query_scalar(
        "SELECT c.id FROM claims c JOIN accounts a ON a.id = c.account_id WHERE a.login = $1",
    )
    .bind(claimant)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    (visitor, id)
}

async fn claim_status(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM claims WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Files in the file store (`<data>/files`, temporary files included): the licence
/// scans, as nothing else is uploaded here.
fn stored_licences(app: &TestApp) -> usize {
    let dir = app.data_dir.path().join("files");
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&dir)
}

#[tokio::test]
async fn registering_a_known_credit_code_asks_for_the_licence_and_then_files_a_pending_claim() {
    let app = spawn_app().await;
    let original = Registration::wujiang(
        &credit_code("91320509MA1CL0001"),
        "吴江认领测试有限公司",
        "first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;

    let mut second = original.clone();
    second.org_name = "另一个名称".into();
    second.login = "second@example.com".into();
    let visitor = Visitor::new(&app);
    let response = register(&visitor, "demand", &second, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"id="claim-notice""#) && html.contains("吴江认领测试有限公司"),
        "{html}"
    );
    assert!(
        html.contains(r#"id="licence-error""#),
        "the missing licence is not pointed out:\n{html}"
    );
    assert_eq!(
        app.count_rows("accounts").await,
        1,
        "an account was made without the licence"
    );

    let response = register(&visitor, "demand", &second, Some(Upload::pdf())).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/account?done=claim");
    assert_eq!(app.count_rows("organisations").await, 1);
    let (status, province): (String, String) =
        sqlx::query_as("SELECT status, province_code FROM claims")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!((status.as_str(), province.as_str()), ("pending", "320000"));
    assert_eq!(
        organisation_of(&app, "second@example.com").await,
        None,
        "the claimant joined before the review"
    );
    assert_eq!(stored_licences(&app), 1);
    assert_eq!(audit_count(&app, "claim.submit", "success").await, 1);

    let (status, html) = visitor.get_html("/account?done=claim").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("认领申请已提交"), "{html}");
    assert!(
        !html.contains(r#"id="org-name""#),
        "the claimant sees the organisation as theirs:\n{html}"
    );
}

#[tokio::test]
async fn licence_named_pdf_whose_content_is_text_is_refused_and_not_kept() {
    let app = spawn_app().await;
    let original = Registration::wujiang(
        &credit_code("91320509MA1CL0002"),
        "吴江文件测试有限公司",
        "file-first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;
    let mut second = original.clone();
    second.login = "file-second@example.com".into();
    let response = register(
        &Visitor::new(&app),
        "demand",
        &second,
        Some(Upload::text_posing_as_pdf()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    let start = html
        .find(r#"id="licence-error">"#)
        .unwrap_or_else(|| panic!("no licence error:\n{html}"));
    let error = &html[start..start + html[start..].find("</p>").unwrap()];
    assert!(error.contains("文件内容不是允许的格式"), "{error}");
    assert_eq!(app.count_rows("claims").await, 0);
    assert_eq!(app.count_rows("accounts").await, 1);
    assert_eq!(stored_licences(&app), 0, "the refused file was kept");
}

#[tokio::test]
async fn jiangsu_reviewer_sees_only_jiangsu_claims_and_approving_one_joins_the_claimant() {
    let app = spawn_app().await;
    let (claimant, jiangsu_claim) = claim(
        &app,
        Registration::wujiang(
            &credit_code("91320509MA1CL0003"),
            "吴江待审核有限公司",
            "js-first@example.com",
        ),
        "js-claimant@example.com",
    )
    .await;
    let (_, shanghai_claim) = claim(
        &app,
        Registration::qingpu(
            &credit_code("91310118MA1CL0004"),
            "青浦待审核有限公司",
            "sh-first@example.com",
        ),
        "sh-claimant@example.com",
    )
    .await;

    let jiangsu = reviewer(&app, "reviewer-js@example.com", "320000").await;
    let (status, html) = jiangsu.get_html("/review/claims").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("吴江待审核有限公司"), "{html}");
    assert!(
        html.contains(&format!(r#"action="/review/claims/{jiangsu_claim}""#)),
        "{html}"
    );
    assert!(
        !html.contains("青浦待审核有限公司"),
        "a 上海 claim is shown to the 江苏 reviewer:\n{html}"
    );
    assert!(
        !html.contains(&format!("/review/claims/{shanghai_claim}")),
        "{html}"
    );

    let response = jiangsu
        .post_form(
            &format!("/review/claims/{jiangsu_claim}"),
            &[("decision", "approve"), ("reason", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("已通过认领申请"));
    assert_eq!(claim_status(&app, jiangsu_claim).await, "approved");
    assert_eq!(claim_status(&app, shanghai_claim).await, "pending");
    let org = organisation_of(&app, "js-first@example.com").await;
    assert!(org.is_some());
    assert_eq!(organisation_of(&app, "js-claimant@example.com").await, org);
    assert_eq!(audit_count(&app, "review.approve", "success").await, 1);

    let (_, html) = claimant.get_html("/account").await;
    assert!(
        html.contains(r#"<dd id="org-name">吴江待审核有限公司"#),
        "{html}"
    );
}

#[tokio::test]
async fn rejecting_a_claim_needs_a_reason_which_the_claimant_then_reads() {
    let app = spawn_app().await;
    let (claimant, id) = claim(
        &app,
        Registration::wujiang(
            &credit_code("91320509MA1CL0005"),
            "吴江驳回测试有限公司",
            "rj-first@example.com",
        ),
        "rj-claimant@example.com",
    )
    .await;
    let jiangsu = reviewer(&app, "reviewer-js@example.com", "320000").await;

    let response = jiangsu
        .post_form(
            &format!("/review/claims/{id}"),
            &[("decision", "reject"), ("reason", "  ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(claim_status(&app, id).await, "pending");

    let reason = "营业执照上的单位名称与登记信息不一致";
    let response = jiangsu
        .post_form(
            &format!("/review/claims/{id}"),
            &[("decision", "reject"), ("reason", reason)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(claim_status(&app, id).await, "rejected");
    assert_eq!(organisation_of(&app, "rj-claimant@example.com").await, None);
    assert_eq!(audit_count(&app, "review.reject", "success").await, 1);

    let (_, html) = claimant.get_html("/account").await;
    assert!(
        html.contains(reason),
        "the claimant does not see the reason:\n{html}"
    );
    assert!(!html.contains(r#"id="org-name""#));
    let (_, html) = jiangsu.get_html("/review/claims").await;
    assert!(
        !html.contains("吴江驳回测试有限公司"),
        "a decided claim is still listed:\n{html}"
    );
}

#[tokio::test]
async fn reviewer_of_another_province_gets_404_for_a_jiangsu_claim_and_its_licence() {
    let app = spawn_app().await;
    let (_, id) = claim(
        &app,
        Registration::wujiang(
            &credit_code("91320509MA1CL0006"),
            "吴江省份测试有限公司",
            "pv-first@example.com",
        ),
        "pv-claimant@example.com",
    )
    .await;

    let shanghai = reviewer(&app, "reviewer-sh@example.com", "310000").await;
    let (_, html) = shanghai.get_html("/review/claims").await;
    assert!(!html.contains("吴江省份测试有限公司"), "{html}");
    let response = shanghai
        .post_form(&format!("/review/claims/{id}"), &[("decision", "approve")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        shanghai
            .get(&format!("/review/claims/{id}/licence"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(claim_status(&app, id).await, "pending");
    assert_eq!(organisation_of(&app, "pv-claimant@example.com").await, None);

    let jiangsu = reviewer(&app, "reviewer-js@example.com", "320000").await;
    let response = jiangsu.get(&format!("/review/claims/{id}/licence")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/pdf"
    );
    assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));
}

#[tokio::test]
async fn enterprise_accounts_are_forbidden_the_review_pages() {
    let app = spawn_app().await;
    let (claimant, id) = claim(
        &app,
        Registration::wujiang(
            &credit_code("91320509MA1CL0007"),
            "吴江权限测试有限公司",
            "rv-first@example.com",
        ),
        "rv-claimant@example.com",
    )
    .await;
    assert_eq!(
        claimant.get("/review/claims").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        claimant
            .get(&format!("/review/claims/{id}/licence"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let response = claimant
        .post_form(&format!("/review/claims/{id}"), &[("decision", "approve")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(claim_status(&app, id).await, "pending");
    assert_eq!(organisation_of(&app, "rv-claimant@example.com").await, None);
    // A visitor who is not logged in is sent to the login page.
    let response = Visitor::new(&app)
        .get(&format!("/review/claims/{id}/licence"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?next="));
}
