//! 标准政策 in a browser: a visitor looks a standard up by a loosely typed number,
//! then finds a repealed law by asking for every status, opens it, reads at its top
//! that the 生态环境法典 replaced it and follows that link; the filters stay in the
//! address bar.

use super::{browser_available, fill, screenshot, spawn_app, start_browser, wait_for_text};
use fantoccini::Locator;
use greenbridge_ingest::{Dataset, ImportOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_a_standard_and_follows_a_repealed_law_to_its_replacement() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/regulations.jsonl");
    greenbridge_ingest::import(
        &app.store,
        Dataset::Regulations,
        &path,
        &ImportOptions {
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("regulations import");
    app.state.search.catch_up().await.expect("index");

    let (_driver, client) = start_browser().await;
    client
        .goto(&app.url("/regulations"))
        .await
        .expect("open the search page");
    fill(&client, "q", "gb3838—2002").await;
    client
        .find(Locator::Css("form[role='search'] button[type='submit']"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("search");
    wait_for_text(&client, "共找到 1 份文件").await;
    wait_for_text(&client, "地表水环境质量标准").await;
    screenshot(&client, "regulations-standard-number.png").await;

    fill(&client, "q", "环境保护法").await;
    client
        .find(Locator::Id("status"))
        .await
        .expect("status select")
        .select_by_value("all")
        .await
        .expect("pick every status");
    client
        .find(Locator::Css("form[role='search'] button[type='submit']"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("search");
    wait_for_text(&client, "status-repealed").await;
    let url = client.current_url().await.expect("url");
    assert!(url.query().unwrap_or("").contains("status=all"), "{url}");
    client
        .find(Locator::XPath(
            "//li[contains(@class,'regulation-item')]//a[contains(., '中华人民共和国环境保护法')]",
        ))
        .await
        .expect("the repealed law in the results")
        .click()
        .await
        .expect("open it");
    wait_for_text(&client, "replaced-banner").await;
    screenshot(&client, "regulations-replaced-banner.png").await;
    client
        .find(Locator::Css(".replaced-banner a"))
        .await
        .expect("the banner's link")
        .click()
        .await
        .expect("follow it");
    wait_for_text(&client, "<h1>中华人民共和国生态环境法典").await;
    wait_for_text(&client, "本文件替代").await;
}
