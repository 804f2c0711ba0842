//! 名单导入 in a browser: an association reviewer uploads the sample licence list,
//! reads the preview (refused rows with their reasons), confirms, and sees the run.

use super::{browser_available, fill, screenshot, spawn_app, start_browser, wait_for_text};
use fantoccini::Locator;
use std::path::Path;

#[tokio::test]
async fn a_reviewer_previews_and_confirms_the_licence_list() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let now = app.state.clock.unix();
    let hash = greenbridge_web::password::hash_password(
        "Lvqiao#2026-test".into(),
        greenbridge_web::config::PasswordCost::TESTING,
    )
    .await
    .expect("hash");
    app.store
        .insert_account(
            &greenbridge_store::NewAccount {
                login: "reviewer@example.cn",
                display_name: "上海协会审核员",
                role: greenbridge_domain::role::Role::Reviewer,
                organisation_id: None,
                province_code: Some("310000"),
                password_hash: &hash,
            },
            now,
        )
        .await
        .expect("reviewer account");
    let list = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/suppliers/hazardous_waste_licences.xlsx")
        .canonicalize()
        .expect("the sample list");

    let (_driver, client) = start_browser().await;
    client
        .goto(&app.url("/login?next=/admin/imports/suppliers"))
        .await
        .expect("login page");
    fill(&client, "login", "reviewer@example.cn").await;
    fill(&client, "password", "Lvqiao#2026-test").await;
    client
        .find(Locator::Css("form button[type=submit]:not(.link-button)"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("log in");
    wait_for_text(&client, "供应商名单导入").await;

    client
        .find(Locator::Id("kind"))
        .await
        .expect("kind select")
        .select_by_value("hw-licence")
        .await
        .expect("pick the kind");
    client
        .find(Locator::Id("file"))
        .await
        .expect("file input")
        .send_keys(list.to_str().expect("utf-8 path"))
        .await
        .expect("choose the file");
    client
        .find(Locator::Css("#upload-form button[type=submit]"))
        .await
        .expect("upload button")
        .click()
        .await
        .expect("upload");
    // The page's introduction mentions 导入预览 too: wait for the report's heading.
    wait_for_text(&client, "id=\"report-title\"").await;
    let source = client.source().await.expect("source");
    assert!(source.contains("HW99"), "the refused row is explained");
    screenshot(&client, "supplier-import-preview.png").await;

    client
        .find(Locator::Css("#confirm-form button[type=submit]"))
        .await
        .expect("confirm button")
        .click()
        .await
        .expect("confirm");
    wait_for_text(&client, "导入完成").await;
    screenshot(&client, "supplier-import-done.png").await;
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
        .fetch_one(app.store.pool())
        .await
        .expect("count");
    // A reviewer of 上海 imports the rows of 上海 (the others are refused).
    let in_shanghai: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM organisations WHERE region_code LIKE '31%'")
            .fetch_one(app.store.pool())
            .await
            .expect("count");
    assert!(created > 0);
    assert_eq!(created, in_shanghai);
}
