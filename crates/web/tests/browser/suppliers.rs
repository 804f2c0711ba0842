//! The supplier directory in a browser: a visitor types an everyday waste name, picks
//! two HW categories and "valid only", and gets the one organisation that takes both,
//! with the filters kept in the address bar.

use super::{browser_available, fill, screenshot, spawn_app, start_browser, wait_for_text};
use crate::support::credit_code;
use fantoccini::Locator;
use greenbridge_store::suppliers::{
    HwCategoryItem, ListOrganisation, NewImportRun, NewQualification, QualificationKind,
};

async fn licensed(
    app: &crate::support::TestApp,
    body17: &str,
    name: &str,
    hw: &[&str],
    to: time::Date,
) {
    let code =
        greenbridge_domain::credit_code::CreditCode::parse(&credit_code(body17)).expect("code");
    let now = greenbridge_store::Clock::pinned(crate::support::TODAY).unix();
    let mut tx = app.store.begin_supplier_import().await.expect("begin");
    let run = tx
        .start_run(&NewImportRun {
            kind: "hw-licence",
            file_name: "fixture.xlsx",
            file_id: None,
            sha256: "",
            actor_account_id: None,
            sample: true,
            started_at: now,
        })
        .await
        .expect("run");
    let (id, _) = tx
        .upsert_list_organisation(
            &ListOrganisation {
                credit_code: &code,
                name,
                region_code: "320509",
                address: "苏州市吴江区示例路8号",
                legal_representative: "",
                legal_form: "",
                contact_name: "",
                contact_phone: "",
                contact_extension: "",
                contact_email: "",
                service_categories: &["HW"],
                list_source: "hw-licence",
                sample: true,
            },
            now,
        )
        .await
        .expect("organisation");
    let mut q = NewQualification::new(QualificationKind::HwLicence, format!("LIC-{body17}"));
    q.valid_to = Some(to);
    q.hw_categories = hw
        .iter()
        .map(|c| HwCategoryItem {
            category: c.to_string(),
            waste_codes: Vec::new(),
            excluded_codes: Vec::new(),
            capacity_kg: None,
        })
        .collect();
    tx.upsert_list_qualification(id, &q, run, now)
        .await
        .expect("licence");
    tx.commit(now).await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_who_takes_waste_oil_and_activated_carbon_in_wujiang() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    licensed(
        &app,
        "91320509MA1BRW001",
        "吴江双收危废示例有限公司",
        &["HW08", "HW49"],
        time::macros::date!(2029 - 01 - 01),
    )
    .await;
    licensed(
        &app,
        "91320509MA1BRW002",
        "吴江单收油品示例有限公司",
        &["HW08"],
        time::macros::date!(2029 - 01 - 01),
    )
    .await;
    licensed(
        &app,
        "91320509MA1BRW003",
        "吴江过期危废示例有限公司",
        &["HW08", "HW49"],
        time::macros::date!(2025 - 01 - 01),
    )
    .await;
    app.state.search.catch_up().await.expect("index");

    let (_driver, client) = start_browser().await;
    client
        .goto(&app.url("/services/suppliers"))
        .await
        .expect("open the directory");
    fill(&client, "q", "废机油").await;
    // Two options of a multiple select, as a keyboard user selects them with Ctrl.
    client
        .execute(
            "for (const o of document.getElementById('hw').options) { o.selected = (o.value === 'HW08' || o.value === 'HW49'); }",
            vec![],
        )
        .await
        .expect("select both");
    client
        .find(Locator::Id("valid_only"))
        .await
        .expect("valid_only")
        .click()
        .await
        .expect("tick valid only");
    client
        .find(Locator::Css("form[role='search'] button[type='submit']"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("search");
    wait_for_text(&client, "共 1 家机构").await;
    let source = client.source().await.expect("source");
    assert!(source.contains("吴江双收危废示例有限公司"), "{source}");
    assert!(!source.contains("吴江单收油品示例有限公司"));
    assert!(!source.contains("吴江过期危废示例有限公司"));
    assert!(source.contains("示例数据"));
    let url = client.current_url().await.expect("url");
    let query = url.query().unwrap_or_default().to_string();
    assert!(
        query.contains("hw=HW08") && query.contains("hw=HW49"),
        "{query}"
    );
    assert!(query.contains("valid_only=true"), "{query}");
    screenshot(&client, "supplier-search.png").await;
    client
        .close()
        .await
        .expect("cannot end the browser session");
}
