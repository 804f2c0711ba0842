//! The 需求大厅 in a browser: a visitor narrows the hall to 上海市 and to notices,
//! types a keyword, finds the sample monitoring notice and opens it; the filters stay
//! in the address bar.

use super::{browser_available, fill, screenshot, spawn_app, start_browser, wait_for_text};
use fantoccini::Locator;
use greenbridge_ingest::{Dataset, ImportOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_filters_the_hall_and_opens_a_notice() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let samples = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    for (dataset, path) in [
        (Dataset::Notices, samples.join("notices")),
        (Dataset::Demands, samples.join("demands.jsonl")),
    ] {
        greenbridge_ingest::import(
            &app.store,
            dataset,
            &path,
            &ImportOptions {
                sample: true,
                now: app.state.clock.unix(),
                ..ImportOptions::default()
            },
        )
        .await
        .expect("samples import");
    }
    app.state.search.catch_up().await.expect("index");

    let (_driver, client) = start_browser().await;
    client
        .goto(&app.url("/demands"))
        .await
        .expect("open the hall");
    wait_for_text(&client, "共 70 条").await;
    client
        .find(Locator::Css("nav.kind-switch a[href*='kind=notices']"))
        .await
        .expect("the notices switch")
        .click()
        .await
        .expect("switch to notices");
    wait_for_text(&client, "共 30 条").await;
    client
        .find(Locator::Id("region-province"))
        .await
        .expect("province select")
        .select_by_value("310000")
        .await
        .expect("pick 上海市");
    fill(&client, "q", "地表水").await;
    client
        .find(Locator::Css("form[role='search'] button[type='submit']"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("search");
    // Titles carry <mark> around the keyword; the purchaser line does not.
    wait_for_text(&client, "上海市青浦区泖汐河湖管护中心").await;
    let url = client.current_url().await.expect("url");
    let query = url.query().unwrap_or_default().to_string();
    assert!(query.contains("province=310000"), "{query}");
    assert!(query.contains("kind=notices"), "{query}");
    screenshot(&client, "hall-search").await;
    client
        .find(Locator::Css("ol.hall-list li h3 a"))
        .await
        .expect("a result")
        .click()
        .await
        .expect("open it");
    wait_for_text(&client, "公告要素").await;
    let source = client.source().await.expect("source");
    assert!(source.contains("示例数据"));
    assert!(
        source.contains("后续公告"),
        "the result notice follows this announcement"
    );
}
