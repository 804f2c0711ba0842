//! The review queue: registrations to verify routed to the reviewers of the
//! organisation's province (out-of-zone ones to the default association), decisions
//! with a reason, the verified mark, the audit log and the submitter's inbox; claims
//! decided through the same queue.

use crate::flows::{
    Registration, Upload, Visitor, account_id, audit_count, enrolled_admin, location,
    organisation_of, register, register_ok, reviewer,
};
use crate::notifications::{app_with_mail, job_state, run_jobs};
use crate::support::{TestApp, credit_code, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// The review item of the organisation with this credit code: (id, kind, province, status).
async fn registration_item(app: &TestApp, code: &str) -> (i64, String, String, String) {
    sqlx::query_as(
        "SELECT r.id, r.kind, r.province_code, r.status FROM review_items r \
         JOIN organisations o ON o.id = r.subject_id \
         WHERE r.subject_type = 'organisation' AND o.credit_code = $1",
    )
    .bind(code)
    .fetch_one(app.store.pool())
    .await
    .unwrap_or_else(|e| panic!("no review item for {code}: {e}"))
}

async fn verified(app: &TestApp, code: &str) -> i64 {
    sqlx::query_scalar("SELECT verified FROM organisations WHERE credit_code = $1")
        .bind(code)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// A supplier in 北京市东城区: outside the zone's three provinces.
fn beijing_supplier(code: &str, name: &str, login: &str) -> Registration {
    Registration {
        regions: ["110000", "110100", "110101"].map(String::from).to_vec(),
        address: "北京市东城区东长安街1号".into(),
        ..Registration::wujiang(code, name, login)
    }
}

#[tokio::test]
async fn a_demand_registration_goes_to_its_province_and_approval_verifies_and_notifies() {
    let (port, inbox) = crate::mail::smtp_sink().await;
    let app = app_with_mail(port).await;
    let state = job_state(&app);
    let code = credit_code("91320509MA1RW0001");
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(&code, "吴江核验测试有限公司", "verify@example.com"),
    )
    .await;
    let (id, kind, province, status) = registration_item(&app, &code).await;
    assert_eq!(
        (kind.as_str(), province.as_str(), status.as_str()),
        ("registration", "320000", "pending")
    );
    assert_eq!(verified(&app, &code).await, 0);

    let jiangsu = reviewer(&app, "rv-js@example.com", "320000").await;
    let (status, html) = jiangsu.get_html("/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("吴江核验测试有限公司"), "{html}");
    assert!(
        html.contains(&format!(r#"action="/review/{id}""#)),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/review""#),
        "the header links the queue"
    );
    let (_, html) = jiangsu.get_html("/review?kind=claim").await;
    assert!(
        !html.contains("吴江核验测试有限公司"),
        "the kind filter lets registrations through:\n{html}"
    );

    let response = jiangsu
        .post_form(
            &format!("/review/{id}"),
            &[("decision", "approve"), ("reason", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("已通过"));
    assert_eq!(verified(&app, &code).await, 1);
    assert_eq!(registration_item(&app, &code).await.3, "approved");
    assert_eq!(audit_count(&app, "review.approve", "success").await, 1);
    let (_, html) = jiangsu.get_html("/review").await;
    assert!(
        !html.contains("吴江核验测试有限公司"),
        "decided items leave the list"
    );

    // The submitter: the verified mark, the inbox, and the mail.
    let (_, html) = enterprise.get_html("/account").await;
    assert!(
        html.contains(r#"<span class="tag-verified">已核验</span>"#),
        "{html}"
    );
    assert!(html.contains("收件箱(1)"), "{html}");
    let (_, html) = enterprise.get_html("/inbox").await;
    assert!(html.contains("单位核验已通过"), "{html}");
    run_jobs(&state).await;
    let sent = inbox.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(crate::mail::body_text(&sent[0]).contains("单位核验已通过"));

    // A decided item cannot be decided again.
    let response = jiangsu
        .post_form(
            &format!("/review/{id}"),
            &[("decision", "reject"), ("reason", "重复")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(verified(&app, &code).await, 1);
}

#[tokio::test]
async fn a_rejection_needs_a_reason_keeps_the_organisation_unverified_and_tells_the_submitter() {
    let app = spawn_app().await;
    let code = credit_code("91310118MA1RW0002");
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::qingpu(&code, "青浦驳回测试有限公司", "reject@example.com"),
    )
    .await;
    let (id, _, province, _) = registration_item(&app, &code).await;
    assert_eq!(province, "310000");
    let shanghai = reviewer(&app, "rv-sh@example.com", "310000").await;

    let response = shanghai
        .post_form(
            &format!("/review/{id}"),
            &[("decision", "reject"), ("reason", " ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(registration_item(&app, &code).await.3, "pending");

    let reason = "营业执照信息与填写的单位名称不一致";
    let response = shanghai
        .post_form(
            &format!("/review/{id}"),
            &[("decision", "reject"), ("reason", reason)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(registration_item(&app, &code).await.3, "rejected");
    assert_eq!(verified(&app, &code).await, 0);
    assert_eq!(audit_count(&app, "review.reject", "success").await, 1);
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'review.reject'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(detail.contains(reason), "{detail}");

    let (_, html) = enterprise.get_html("/account").await;
    assert!(html.contains("尚未核验") && html.contains(reason), "{html}");
    let (_, html) = enterprise.get_html("/inbox").await;
    assert!(
        html.contains("单位核验未通过") && html.contains(reason),
        "{html}"
    );
}

#[tokio::test]
async fn an_out_of_zone_supplier_goes_to_the_default_association() {
    let app = spawn_app().await;
    let code = credit_code("91110101MA1RW0003");
    register_ok(
        &Visitor::new(&app),
        "supplier",
        &beijing_supplier(&code, "北京外地服务有限公司", "beijing@example.com"),
    )
    .await;
    assert_eq!(
        registration_item(&app, &code).await.2,
        "310000",
        "the default association is 上海's"
    );

    let app = spawn_app_with(|c| c.default_review_province = "330000".into()).await;
    register_ok(
        &Visitor::new(&app),
        "supplier",
        &beijing_supplier(&code, "北京外地服务有限公司", "beijing@example.com"),
    )
    .await;
    let (id, _, province, _) = registration_item(&app, &code).await;
    assert_eq!(province, "330000");
    let zhejiang = reviewer(&app, "rv-zj@example.com", "330000").await;
    let (_, html) = zhejiang.get_html("/review").await;
    assert!(html.contains("北京外地服务有限公司"), "{html}");
    let response = zhejiang
        .post_form(&format!("/review/{id}"), &[("decision", "approve")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(verified(&app, &code).await, 1);
}

#[tokio::test]
async fn a_reviewer_of_another_province_gets_404_and_admins_see_every_province() {
    let app = spawn_app().await;
    let code = credit_code("91320509MA1RW0004");
    register_ok(
        &Visitor::new(&app),
        "demand",
        &Registration::wujiang(&code, "吴江跨省测试有限公司", "cross@example.com"),
    )
    .await;
    let (id, ..) = registration_item(&app, &code).await;

    let shanghai = reviewer(&app, "rv-sh@example.com", "310000").await;
    let (_, html) = shanghai.get_html("/review").await;
    assert!(!html.contains("吴江跨省测试有限公司"), "{html}");
    let response = shanghai
        .post_form(&format!("/review/{id}"), &[("decision", "approve")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(registration_item(&app, &code).await.3, "pending");
    assert_eq!(verified(&app, &code).await, 0);

    // Enterprises may not review at all.
    let enterprise = Visitor::new(&app);
    enterprise
        .login_ok("cross@example.com", crate::flows::PASSWORD)
        .await;
    assert_eq!(
        enterprise.get("/review").await.status(),
        StatusCode::FORBIDDEN
    );

    let admin = enrolled_admin(&app, "admin@example.com").await;
    let (status, html) = admin.visitor.get_html("/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("吴江跨省测试有限公司") && html.contains("全部省市"));
}

#[tokio::test]
async fn a_claim_waits_in_the_queue_and_approving_it_there_joins_the_claimant() {
    let app = spawn_app().await;
    let original = Registration::wujiang(
        &credit_code("91320509MA1RW0005"),
        "吴江认领队列有限公司",
        "claim-first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;
    let mut again = original.clone();
    again.login = "claim-second@example.com".into();
    let claimant = Visitor::new(&app);
    let response = register(&claimant, "demand", &again, Some(Upload::pdf())).await;
    assert_eq!(location(&response), "/account?done=claim");

    let (id, claim_id, province, submitted_by): (i64, i64, String, i64) = sqlx::query_as(
        "SELECT id, subject_id, province_code, submitted_by FROM review_items WHERE kind = 'claim'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(province, "320000");
    assert_eq!(
        submitted_by,
        account_id(&app, "claim-second@example.com").await
    );

    let jiangsu = reviewer(&app, "rv-js@example.com", "320000").await;
    let (_, html) = jiangsu.get_html("/review?kind=claim").await;
    assert!(
        html.contains(&format!("/review/claims/{claim_id}/licence")),
        "the licence scan is linked:\n{html}"
    );
    let response = jiangsu
        .post_form(&format!("/review/{id}"), &[("decision", "approve")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let status: String = sqlx::query_scalar("SELECT status FROM claims WHERE id = $1")
        .bind(claim_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "approved");
    assert_eq!(
        organisation_of(&app, "claim-second@example.com").await,
        organisation_of(&app, "claim-first@example.com").await
    );
    let (_, html) = claimant.get_html("/inbox").await;
    assert!(html.contains("认领申请已通过"), "{html}");
}
