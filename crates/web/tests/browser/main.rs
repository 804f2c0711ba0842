//! Browser tests: the real application driven by headless Chromium through chromedriver.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages chromium and
//! chromium-driver; fonts-wqy-zenhei so that Chinese is drawn in the screenshots). When
//! they are missing the tests are skipped with a message — unless
//! `GREENBRIDGE_REQUIRE_BROWSER=1` (as `scripts/test.sh` sets), which makes that a failure.
//! Screenshots go to `test-artifacts/screenshots/` at the workspace root.

mod assistant;
mod hall;
mod regulations;
mod supplier_imports;
mod suppliers;
#[path = "../support/mod.rs"]
mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{TestApp, artifacts_dir, credit_code, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver (and the Chromium it starts) in a process group of its own, killed
/// when this guard drops — also when a test panics.
struct Chromedriver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0) below): this ends
        // exactly the processes this test started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free local port")
}

/// Whether the browser tests can run here; panics when they must but cannot.
fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        let required = std::env::var("GREENBRIDGE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "GREENBRIDGE_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!(
            "SKIPPED: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver fonts-wqy-zenhei)"
        );
    }
    present
}

async fn start_browser() -> (Chromedriver, Client) {
    use std::os::unix::process::CommandExt as _;
    let port = free_port();
    let log = artifacts_dir("logs").join(format!("chromedriver-{port}.log"));
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cannot start chromedriver");
    let driver = Chromedriver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::Builder::new()
            .prefix("greenbridge-chromium-")
            .tempdir()
            .expect("profile dir"),
    };

    // Wait until chromedriver answers.
    let probe = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = probe.get(format!("{}/status", driver.url)).send().await
            && response.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start on port {port}; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--lang=zh-CN",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!(
        "--user-data-dir={}",
        driver._profile.path().display()
    )])
    .collect::<Vec<_>>();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}; see {}", log.display()));
    (driver, client)
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot failed");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    let path = artifacts_dir("screenshots").join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

async fn path_of(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("current url")
        .path()
        .to_string()
}

async fn html_class(client: &Client) -> String {
    client
        .execute("return document.documentElement.className;", vec![])
        .await
        .expect("script failed")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits until the page source contains `text` (pages reload after form posts).
async fn wait_for_text(client: &Client, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let source = client.source().await.unwrap_or_default();
        if source.contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "page {} never showed {text:?}:\n{source}",
            client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(client: &Client, id: &str, value: &str) {
    let field = client
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
    field
        .clear()
        .await
        .unwrap_or_else(|e| panic!("cannot clear #{id}: {e}"));
    field
        .send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("cannot type into #{id}: {e}"));
}

/// Picks `code` in the region select `id` (waiting for the select to appear: the
/// page's script submits the form on change to show the next level).
async fn pick_region(client: &Client, id: &str, code: &str) {
    let select = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no select #{id}: {e}"));
    select
        .select_by_value(code)
        .await
        .unwrap_or_else(|e| panic!("cannot pick {code} in #{id}: {e}"));
}

async fn visitor_registers_a_demand_enterprise_and_switches_to_large_text(
    app: &TestApp,
    client: &Client,
) {
    // The home page, as a visitor sees it.
    client
        .goto(&app.url("/"))
        .await
        .expect("cannot open the home page");
    let title = client.title().await.expect("title");
    assert!(title.contains("绿桥"), "title {title:?}");
    let lang = client
        .execute("return document.documentElement.lang;", vec![])
        .await
        .unwrap();
    assert_eq!(lang, "zh-CN");
    screenshot(client, "home.png").await;

    // 注册 → the choice of side → demand registration.
    client
        .find(Locator::LinkText("注册"))
        .await
        .expect("no 注册 link on the home page")
        .click()
        .await
        .expect("cannot click 注册");
    assert_eq!(path_of(client).await, "/register");
    client
        .find(Locator::Css("a[href='/register/demand']"))
        .await
        .expect("no link to demand registration")
        .click()
        .await
        .expect("cannot follow the demand registration link");
    assert_eq!(path_of(client).await, "/register/demand");
    screenshot(client, "register-demand.png").await;

    // The region picker: each choice reloads the form (site.js presses 显示下一级),
    // which also proves the CSP lets the site's own script run.
    pick_region(client, "region_1", "320000").await; // 江苏省
    pick_region(client, "region_2", "320500").await; // 苏州市
    pick_region(client, "region_3", "320509").await; // 吴江区
    pick_region(client, "region_4", "320509001").await; // 松陵街道
    wait_for_text(client, "松陵街道</strong>").await;

    let org_name = "吴江示例精密制造有限公司";
    fill(client, "credit_code", &credit_code("91320509MA1WJ0001")).await;
    fill(client, "org_name", org_name).await;
    fill(client, "address", "苏州市吴江区松陵街道示例路1号").await;
    fill(client, "contact_name", "张示例").await;
    fill(client, "contact_phone", "0512-63000000").await;
    fill(client, "login", "wujiang-demo@example.com").await;
    fill(client, "password", "Lvqiao#2026-test").await;
    fill(client, "password_confirm", "Lvqiao#2026-test").await;
    screenshot(client, "register-demand-filled.png").await;
    client
        .find(Locator::Id("register-submit"))
        .await
        .expect("no submit button")
        .click()
        .await
        .expect("cannot submit the registration");

    // Registered and logged in at once: the account page names the organisation.
    let org = match client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("org-name"))
        .await
    {
        Ok(org) => org,
        Err(e) => {
            screenshot(client, "register-demand-failed.png").await;
            let source = client.source().await.unwrap_or_default();
            panic!(
                "no #org-name after registering ({e}); now at {}:\n{source}",
                path_of(client).await
            );
        }
    };
    assert_eq!(path_of(client).await, "/account");
    let shown = org.text().await.unwrap();
    assert!(shown.contains(org_name), "account page shows {shown:?}");
    screenshot(client, "account.png").await;

    // 大字号 through the display settings page.
    client
        .find(Locator::Css("a[href^='/display']"))
        .await
        .expect("no 显示设置 link")
        .click()
        .await
        .expect("cannot open the display settings");
    assert_eq!(path_of(client).await, "/display");
    assert!(!html_class(client).await.contains("large-text"));
    client
        .find(Locator::Id("large_text"))
        .await
        .expect("no 大字号 checkbox")
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "form[action='/display'] button[type='submit']",
        ))
        .await
        .expect("no 保存设置 button")
        .click()
        .await
        .unwrap();
    // Back where the visitor came from, now in large text.
    let deadline = Instant::now() + Duration::from_secs(15);
    while path_of(client).await != "/account" {
        assert!(
            Instant::now() < deadline,
            "did not return to /account after saving the display settings"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let class = html_class(client).await;
    assert!(
        class.split_whitespace().any(|c| c == "large-text"),
        "<html class={class:?}>"
    );
    let font_size: f64 = client
        .execute(
            "return parseFloat(getComputedStyle(document.documentElement).fontSize);",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_default();
    assert!(
        font_size > 16.0,
        "large text keeps the root font size at {font_size}px"
    );
    screenshot(client, "account-large-text.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_registers_a_wujiang_enterprise_and_reads_its_account_in_large_text() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let (_driver, client) = start_browser().await;
    visitor_registers_a_demand_enterprise_and_switches_to_large_text(&app, &client).await;
    client
        .close()
        .await
        .expect("cannot end the browser session");

    // What the browser did reached the database.
    assert_eq!(app.count_rows("organisations").await, 1);
    assert_eq!(app.count_rows("accounts").await, 1);
}

/// Reads a number from the page's `<video id="player">`.
async fn video_number(client: &Client, property: &str) -> f64 {
    client
        .execute(
            &format!("return document.getElementById('player').{property};"),
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("cannot read video.{property}: {e}"))
        .as_f64()
        .unwrap_or_default()
}

/// Waits until `condition` (JavaScript returning a boolean) holds on the page.
async fn wait_for_script(client: &Client, condition: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let holds = client
            .execute(&format!("return !!({condition});"), vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if holds {
            return;
        }
        if Instant::now() >= deadline {
            screenshot(client, "classroom-timeout.png").await;
            panic!("timed out waiting for {what} ({condition})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_seeks_in_the_sample_video_and_playback_resumes_there_after_reload() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let now = app.state.clock.unix();
    greenbridge_ingest::courses::import_samples(&app.store, now)
        .await
        .expect("sample courses");
    greenbridge_web::routes::classroom::attach_sample_lessons(
        &app.store,
        app.state.files.as_ref(),
        now,
    )
    .await
    .expect("sample video");
    let lesson: i64 = sqlx::query_scalar(
        "SELECT l.id FROM course_lessons l JOIN courses c ON c.id = l.course_id \
         WHERE c.source_id = 'course-0005'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("the sample lesson");
    let hash = greenbridge_web::password::hash_password(
        "Lvqiao#2026-test".into(),
        greenbridge_web::config::PasswordCost::TESTING,
    )
    .await
    .expect("hash");
    app.store
        .insert_account(
            &greenbridge_store::NewAccount {
                login: "learner@example.com",
                display_name: "学员",
                role: greenbridge_domain::role::Role::DemandEnterprise,
                organisation_id: None,
                province_code: None,
                password_hash: &hash,
            },
            now,
        )
        .await
        .expect("learner account");

    let (_driver, client) = start_browser().await;
    let lesson_path = format!("/classroom/lessons/{lesson}");
    client
        .goto(&app.url(&format!("/login?next={lesson_path}")))
        .await
        .expect("login page");
    fill(&client, "login", "learner@example.com").await;
    fill(&client, "password", "Lvqiao#2026-test").await;
    client
        .find(Locator::Css("form button[type=submit]:not(.link-button)"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("log in");
    wait_for_text(&client, "退出登录").await;
    client.goto(&app.url(&lesson_path)).await.expect("player");
    wait_for_text(&client, "欢迎来到绿桥").await;

    // The browser can decode the sample (VP9 WebM) and plays it.
    let can_play = client
        .execute(
            "return document.getElementById('player').canPlayType('video/webm; codecs=\"vp9, opus\"');",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(can_play.as_str(), Some(""), "Chromium cannot play VP9 WebM");
    wait_for_script(
        &client,
        "document.getElementById('player').readyState >= 1",
        "the video's metadata",
    )
    .await;
    let duration = video_number(&client, "duration").await;
    assert!((7.0..9.5).contains(&duration), "duration {duration}");
    client
        .execute(
            "const v = document.getElementById('player'); v.muted = true; v.play();",
            vec![],
        )
        .await
        .expect("play");
    wait_for_script(
        &client,
        "document.getElementById('player').currentTime > 0.5",
        "playback to advance",
    )
    .await;
    screenshot(&client, "classroom-player.png").await;

    // Seek: the player reports the position, which the server keeps.
    client
        .execute(
            "const v = document.getElementById('player'); v.pause(); v.currentTime = 5.2;",
            vec![],
        )
        .await
        .expect("seek");
    wait_for_script(
        &client,
        "document.getElementById('player').getAttribute('data-progress-saved') === '5'",
        "the position report",
    )
    .await;
    let stored: i64 =
        sqlx::query_scalar("SELECT position_seconds FROM lesson_progress WHERE lesson_id = $1")
            .bind(lesson)
            .fetch_one(app.store.pool())
            .await
            .expect("progress row");
    assert_eq!(stored, 5);

    // After a reload playback resumes at the stored position.
    client.refresh().await.expect("reload");
    wait_for_text(&client, "上次学到 0:05").await;
    wait_for_script(
        &client,
        "document.getElementById('player').readyState >= 1 && \
         document.getElementById('player').currentTime >= 4.5",
        "playback to resume at 5 s",
    )
    .await;
    let resumed = video_number(&client, "currentTime").await;
    assert!((4.5..6.5).contains(&resumed), "resumed at {resumed}");
    screenshot(&client, "classroom-resumed.png").await;
    client
        .close()
        .await
        .expect("cannot end the browser session");
}
