//! Search fed from the outbox: what one instance writes, another finds in its own index.

use crate::flows::{Registration, Visitor, enrolled_admin, register_ok, reviewer};
use crate::support::{credit_code, spawn_app_with, spawn_second_instance};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// Polls `path` through `visitor` until the page contains `needle`.
async fn eventually_contains(visitor: &Visitor, path: &str, needle: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (status, html) = visitor.get_html(path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        if html.contains(needle) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{needle} never appeared on {path}:\n{html}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_organisation_registered_through_one_instance_is_found_through_another() {
    let first = spawn_app_with(|c| c.search_interval_ms = 100).await;
    let second = spawn_second_instance(&first, |c| c.search_interval_ms = 100).await;
    // The admin logs in on the second instance; the registration goes through the first.
    let admin = enrolled_admin(&second, "admin@example.com").await;
    let enterprise = Visitor::new(&first);
    let code = credit_code("91320509MA1XT0001");
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(&code, "吴江蘅衍危废处置示例有限公司", "hengyan@example.com"),
    )
    .await;
    // Found by an abbreviation of a word in its name, through the other instance's index.
    let took = eventually_contains(&admin.visitor, "/admin/organisations?q=危废处置", "蘅衍").await;
    assert!(took < Duration::from_secs(10), "outbox lag {took:?}");
    let (_, html) = admin
        .visitor
        .get_html("/admin/organisations?q=危废处置")
        .await;
    assert!(html.contains("<mark>"), "matches are highlighted: {html}");
    // And by its credit code.
    let by_code = format!("/admin/organisations?q={}", code.to_lowercase());
    eventually_contains(&admin.visitor, &by_code, "蘅衍").await;
}

#[tokio::test]
async fn a_reviewer_finds_only_organisations_of_their_province() {
    let app = spawn_app_with(|c| c.search_interval_ms = 100).await;
    let jiangsu = Visitor::new(&app);
    register_ok(
        &jiangsu,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1XT0002"),
            "吴江泠渚示例制造有限公司",
            "lingzhu@example.com",
        ),
    )
    .await;
    let shanghai = Visitor::new(&app);
    register_ok(
        &shanghai,
        "demand",
        &Registration::qingpu(
            &credit_code("91310118MA1XT0003"),
            "青浦泖汐示例制造有限公司",
            "maoxi@example.com",
        ),
    )
    .await;
    let reviewer = reviewer(&app, "reviewer.js@example.com", "320000").await;
    eventually_contains(&reviewer, "/admin/organisations?q=示例制造", "泠渚").await;
    let (_, html) = reviewer.get_html("/admin/organisations?q=示例制造").await;
    assert!(
        !html.contains("泖汐"),
        "a Jiangsu reviewer must not see a Shanghai organisation"
    );
    let enterprise_page = jiangsu.get("/admin/organisations").await;
    assert_eq!(enterprise_page.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_wiped_index_is_rebuilt_from_the_database_at_start() {
    let app = spawn_app_with(|c| c.search_interval_ms = 100).await;
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::qingpu(
            &credit_code("91310118MA1XT0004"),
            "青浦霁渚示例环保有限公司",
            "jizhu@example.com",
        ),
    )
    .await;
    // A new instance with an empty data directory builds its index from the tables.
    let fresh = spawn_second_instance(&app, |c| c.search_interval_ms = 60_000).await;
    assert_eq!(fresh.state.search.organisations.count(), 1);
}

#[tokio::test]
async fn an_admin_reindex_job_rebuilds_every_instance_and_reports_its_progress() {
    let first = spawn_app_with(|c| c.search_interval_ms = 100).await;
    let second = spawn_second_instance(&first, |c| c.search_interval_ms = 100).await;
    for (n, login) in ["a@example.com", "b@example.com"].iter().enumerate() {
        register_ok(
            &Visitor::new(&first),
            "demand",
            &Registration::wujiang(
                &credit_code(&format!("91320509MA1XT010{n}")),
                &format!("吴江重建示例有限公司{n}"),
                login,
            ),
        )
        .await;
    }
    let admin = enrolled_admin(&first, "admin@example.com").await;
    let generation_before = second.store.setting("search.generation").await.unwrap();
    let response = admin.visitor.post_form("/admin/search/reindex", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = crate::flows::location(&response);
    let id: i64 = location
        .trim_start_matches("/admin/jobs/")
        .parse()
        .expect("a job page");
    let registry = greenbridge_web::jobs::platform::registry();
    assert_eq!(
        greenbridge_web::jobs::drain(&first.state, &registry).await,
        1
    );
    let job = first.store.job(id).await.unwrap();
    assert_eq!(job.status.as_str(), "done", "{:?}", job.last_error);
    assert_eq!((job.progress_done, job.progress_total), (Some(2), Some(2)));
    let (status, html) = admin.visitor.get_html(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<progress"), "{html}");
    // The other instance saw the new generation and rebuilt under it too.
    let generation = second.store.setting("search.generation").await.unwrap();
    assert_ne!(generation, generation_before);
    let cursor = second.data_dir.path().join("search/outbox-cursor.json");
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&cursor).unwrap_or_default();
        if text.contains(generation.as_deref().unwrap_or("?")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "second instance did not rebuild: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(second.state.search.organisations.count(), 2);
    assert_eq!(
        crate::flows::audit_count(&first, "search.reindex", "success").await,
        1
    );
}
