//! 需求大厅: notice import (sample pages), linking and de-duplication, the hall page and
//! `GET /api/v1/notices` / `GET /api/v1/demands` with their filters, enterprise
//! demands through review, saved searches with notifications and an Atom feed.

use crate::flows::{
    Registration, Upload, Visitor, enrolled_admin, location, register_ok, reviewer,
};
use crate::support::{TestApp, spawn_app};
use greenbridge_ingest::{Dataset, ImportOptions, ImportReport};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

async fn import(app: &TestApp, dataset: Dataset, path: &std::path::Path) -> ImportReport {
    let report = greenbridge_ingest::import(
        &app.store,
        dataset,
        path,
        &ImportOptions {
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("the samples import");
    app.state.search.catch_up().await.expect("indexing");
    report
}

async fn with_samples() -> TestApp {
    let app = spawn_app().await;
    import(&app, Dataset::Notices, &samples().join("notices")).await;
    import(&app, Dataset::Demands, &samples().join("demands.jsonl")).await;
    app
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("JSON")
}

fn index() -> Value {
    serde_json::from_str(&std::fs::read_to_string(samples().join("notices/index.json")).unwrap())
        .unwrap()
}

async fn notice_id(app: &TestApp, source_id: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM notices WHERE source_id = $1")
        .bind(source_id)
        .fetch_one(app.store.pool())
        .await
        .expect("notice imported");
    id.to_string()
}

#[tokio::test]
async fn importing_the_sample_notices_twice_creates_then_changes_nothing() {
    let app = spawn_app().await;
    let first = import(&app, Dataset::Notices, &samples().join("notices")).await;
    assert_eq!(first.read, 30);
    assert_eq!(first.created, 30);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    assert_eq!(first.skipped.len(), 1);
    assert_eq!(first.skipped[0].file, "index.json");
    let second = import(&app, Dataset::Notices, &samples().join("notices")).await;
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 30)
    );
    assert_eq!(app.count_rows("notices").await, 30);
}

#[tokio::test]
async fn the_same_notice_from_two_sources_is_one_and_a_non_notice_is_skipped() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read(samples().join("notices/t20260105_26004426.html")).unwrap();
    std::fs::write(dir.path().join("a.html"), &page).unwrap();
    std::fs::write(dir.path().join("mirror.html"), &page).unwrap();
    std::fs::write(
        dir.path().join("notes.html"),
        "<html><body><p>你好</p></body></html>",
    )
    .unwrap();
    let report = import(&app, Dataset::Notices, dir.path()).await;
    assert_eq!(report.read, 2);
    assert_eq!((report.created, report.unchanged), (1, 1));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].file, "notes.html");
    assert_eq!(app.count_rows("notices").await, 1);
    assert_eq!(app.count_rows("notice_sources").await, 2);
    // A single file works too.
    let one = import(&app, Dataset::Notices, &dir.path().join("a.html")).await;
    assert_eq!(one.unchanged, 1);
    // A changed page updates its notice in place.
    let changed = String::from_utf8(page).unwrap().replace(
        "人民币壹佰贰拾万元整（¥1,200,000.00）",
        "人民币壹佰叁拾万元整（¥1,300,000.00）",
    );
    std::fs::write(dir.path().join("a.html"), changed).unwrap();
    let updated = import(&app, Dataset::Notices, &dir.path().join("a.html")).await;
    assert_eq!(updated.updated, 1);
    assert_eq!(app.count_rows("notices").await, 1);
    let body = json(&app, "/api/v1/notices").await;
    assert_eq!(body["items"][0]["budget_yuan"], 1_300_000);
}

#[tokio::test]
async fn an_unparseable_amount_is_reported_and_left_empty() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(samples().join("notices/t20260109_26016771.html"))
        .unwrap()
        .replacen("1,860,000.00元</span>", "详见采购文件</span>", 1);
    std::fs::write(dir.path().join("p.html"), page).unwrap();
    let report = import(&app, Dataset::Notices, dir.path()).await;
    assert_eq!(report.created, 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].file.as_deref(), Some("p.html"));
    assert_eq!(report.rejected[0].field.as_deref(), Some("budget_yuan"));
    let body = json(&app, "/api/v1/notices").await;
    assert_eq!(body["items"][0]["budget_yuan"], Value::Null);
}

#[tokio::test]
async fn the_notices_api_answers_every_filter() {
    let app = with_samples().await;
    let expected = index();
    let notices = expected["notices"].as_array().unwrap();
    let count = |f: &dyn Fn(&Value) -> bool| notices.iter().filter(|n| f(n)).count() as u64;

    let all = json(&app, "/api/v1/notices?page_size=100").await;
    assert_eq!(all["total"], 30);
    let first = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source_id"] == "ntc-0001")
        .expect("ntc-0001 listed")
        .clone();
    assert_eq!(first["budget_yuan"], 1_200_000);
    assert_eq!(first["notice_type"], "招标公告");
    assert_eq!(first["project_code"], "310118000260105093047-18310256");
    assert_eq!(first["region_code"], "310118");
    assert_eq!(first["publish_date"], "2026-01-05");
    assert!(first["id"].is_string());

    let qingpu = json(&app, "/api/v1/notices?region=310118").await;
    assert_eq!(qingpu["total"], count(&|n| n["region_code"] == "310118"));
    // A province finds its districts; a town is the fourth level.
    let jiangsu = json(&app, "/api/v1/notices?region=320000").await;
    assert_eq!(
        jiangsu["total"],
        count(&|n| n["region_code"].as_str().unwrap().starts_with("32"))
    );
    let results = json(&app, "/api/v1/notices?type=%E4%B8%AD%E6%A0%87(%E6%88%90%E4%BA%A4)%E7%BB%93%E6%9E%9C%E5%85%AC%E5%91%8A").await;
    assert_eq!(results["total"], 7);
    let budget = json(
        &app,
        "/api/v1/notices?budget_min=1000000&budget_max=2000000",
    )
    .await;
    // Announcements carry their corrected budget; the corrections themselves theirs.
    let in_range = |n: &Value| {
        n["budget_yuan"]
            .as_i64()
            .is_some_and(|b| (1_000_000..=2_000_000).contains(&b))
    };
    assert_eq!(budget["total"], count(&in_range));
    let dates = json(
        &app,
        "/api/v1/notices?publish_from=2026-02-01&publish_to=2026-02-10",
    )
    .await;
    assert_eq!(
        dates["total"],
        count(&|n| {
            let d = n["publish_date"].as_str().unwrap();
            ("2026-02-01"..="2026-02-10").contains(&d)
        })
    );
    let monitoring = json(&app, "/api/v1/notices?category=MON").await;
    assert!(monitoring["total"].as_u64().unwrap() >= 10);
    let purchaser = json(&app, "/api/v1/notices?purchaser=%E8%8B%8F%E5%B7%9E%E5%B8%82%E5%90%B4%E6%B1%9F%E5%8C%BA%E6%BE%84%E6%BA%90%E6%B0%B4%E5%8A%A1%E7%AE%A1%E7%90%86%E7%AB%99").await;
    assert_eq!(purchaser["total"], 2);
    let keyword = json(
        &app,
        "/api/v1/notices?q=%E7%8E%AF%E4%BF%9D%E7%AE%A1%E5%AE%B6",
    )
    .await;
    assert!(keyword["total"].as_u64().unwrap() >= 4);
    assert!(keyword["facets"]["type"].is_array());
    assert!(keyword["facets"]["region"].is_array());
    // Sorting by budget, ascending.
    let sorted = json(
        &app,
        "/api/v1/notices?type=%E6%8B%9B%E6%A0%87%E5%85%AC%E5%91%8A&sort=budget&order=asc",
    )
    .await;
    let budgets: Vec<i64> = sorted["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["budget_yuan"].as_i64())
        .collect();
    assert!(budgets.windows(2).all(|w| w[0] <= w[1]), "{budgets:?}");
    // Paging.
    let page2 = json(&app, "/api/v1/notices?page=2&page_size=10").await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 10);

    for bad in [
        "/api/v1/notices?region=999999",
        "/api/v1/notices?type=%E9%80%9A%E7%9F%A5",
        "/api/v1/notices?budget_min=abc",
        "/api/v1/notices?publish_from=2026-02-30",
        "/api/v1/notices?sort=price",
        "/api/v1/notices?page_size=101",
        "/api/v1/notices?colour=green",
    ] {
        let response = app.get(bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
        assert!(body["error"]["field"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn later_notices_link_to_the_announcement_correct_it_and_close_it() {
    let app = with_samples().await;
    // ntc-0017 was corrected by ntc-0024 (budget 5,800,000 → 5,650,000, new deadline).
    let original = notice_id(&app, "ntc-0017").await;
    let body = json(&app, &format!("/api/v1/notices/{original}")).await;
    assert_eq!(body["budget_yuan"], 5_800_000);
    assert_eq!(body["effective"]["budget_yuan"], 5_650_000);
    assert_eq!(body["effective"]["budget_corrected"], true);
    assert_eq!(body["effective"]["deadline"], "2026-03-12 09:30");
    assert_eq!(body["effective"]["deadline_corrected"], true);
    assert_eq!(body["later"][0]["source_id"], "ntc-0024");
    let correction = notice_id(&app, "ntc-0024").await;
    let c = json(&app, &format!("/api/v1/notices/{correction}")).await;
    assert_eq!(c["related_id"], original);
    // Terminated (ntc-0020 ends ntc-0009) and awarded (ntc-0010 follows ntc-0001).
    let terminated = json(
        &app,
        &format!("/api/v1/notices/{}", notice_id(&app, "ntc-0009").await),
    )
    .await;
    assert_eq!(terminated["state"], "terminated");
    let awarded = json(
        &app,
        &format!("/api/v1/notices/{}", notice_id(&app, "ntc-0001").await),
    )
    .await;
    assert_eq!(awarded["state"], "awarded");
    assert_eq!(awarded["later"][0]["winner"], "上海沁澜环境科技有限公司");
    assert_eq!(awarded["later"][0]["award_yuan"], 1_138_000);
    // Every follow-up of the index is linked to the file it names.
    for n in index()["notices"].as_array().unwrap() {
        let Some(related) = n["related_file"].as_str() else {
            continue;
        };
        let related_id = index()["notices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["file"] == related)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let me = json(
            &app,
            &format!(
                "/api/v1/notices/{}",
                notice_id(&app, n["id"].as_str().unwrap()).await
            ),
        )
        .await;
        assert_eq!(
            me["related_id"],
            notice_id(&app, &related_id).await,
            "{}",
            n["id"]
        );
    }
    // The page marks the correction.
    let (status, html) = app.get_html(&format!("/demands/notices/{original}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已更正"), "{html}");
    assert!(html.contains("5,650,000元"));
    assert!(html.contains("示例数据") || !html.contains("tag-sample"));
    let (status, _) = app.get_html("/demands/notices/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, original_html) = app
        .get_html(&format!("/demands/notices/{original}/original"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!original_html.contains("<style"));
}

#[tokio::test]
async fn still_open_follows_the_clock() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // The pinned date is 2026-11-28: a sample announcement moved to a later deadline is open.
    let page = std::fs::read_to_string(samples().join("notices/t20260224_26104558.html"))
        .unwrap()
        .replace("2026年03月03日 10点00分", "2026年12月03日 10点00分");
    std::fs::write(dir.path().join("open.html"), page).unwrap();
    std::fs::copy(
        samples().join("notices/t20260227_26121415.html"),
        dir.path().join("closed.html"),
    )
    .unwrap();
    import(&app, Dataset::Notices, dir.path()).await;
    let all = json(&app, "/api/v1/notices").await;
    assert_eq!(all["total"], 2);
    let open = json(&app, "/api/v1/notices?open=true").await;
    assert_eq!(open["total"], 1);
    assert_eq!(open["items"][0]["deadline"], "2026-12-03 10:00");
}

#[tokio::test]
async fn the_demands_api_lists_the_imported_demands() {
    let app = spawn_app().await;
    let report = import(&app, Dataset::Demands, &samples().join("demands.jsonl")).await;
    assert_eq!((report.read, report.created), (40, 40));
    let again = import(&app, Dataset::Demands, &samples().join("demands.jsonl")).await;
    assert_eq!(again.unchanged, 40);
    let all = json(&app, "/api/v1/demands?page_size=100").await;
    assert_eq!(all["total"], 40);
    let negotiable = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["budget_yuan"].is_null())
        .count();
    assert_eq!(negotiable, 6);
    let hw = json(&app, "/api/v1/demands?category=HW").await;
    assert_eq!(hw["total"], 8);
    let qingpu = json(&app, "/api/v1/demands?region=310118").await;
    assert_eq!(qingpu["total"], 8);
    let first = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source_id"] == "dem-0001")
        .unwrap()
        .clone();
    assert_eq!(first["budget_yuan"], 96_000);
    assert_eq!(first["purchaser"], "上海蓁湾精密模具有限公司");
    let detail = json(
        &app,
        &format!("/api/v1/demands/{}", first["id"].as_str().unwrap()),
    )
    .await;
    assert!(detail["description"].as_str().unwrap().contains("废切削液"));
    assert!(
        detail.get("contact").is_none(),
        "contact details are not public by default"
    );
    let bad = app.get("/api/v1/demands?category=NOPE").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_hall_page_switches_between_notices_and_demands_with_filters_in_the_url() {
    let app = with_samples().await;
    let (status, both) = app.get_html("/demands").await;
    assert_eq!(status, StatusCode::OK);
    assert!(both.contains("共 70 条"), "{both}");
    let (_, notices) = app.get_html("/demands?kind=notices&region=310118").await;
    assert!(notices.contains("公告"));
    assert!(!notices.contains("企业需求</span> ·"));
    let (_, demands) = app
        .get_html("/demands?kind=demands&province=310000&city=310100&district=310118")
        .await;
    assert!(demands.contains("共 8 条"), "{demands}");
    // Links keep the filters: the next page and the facets carry region=310118.
    let (_, paged) = app.get_html("/demands?region=310118").await;
    assert!(paged.contains("region=310118"));
    let (status, _) = app.get_html("/demands?kind=everything").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A filter that cannot be read: the hall again, with the message and the form
    // as typed (escaped), and no results.
    let (status, page) = app
        .get_html("/demands?q=%E5%BA%9F%E6%B0%B4%3Cb%3E&budget_min=abc&budget_max=500")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("筛选条件有误"), "{page}");
    assert!(page.contains("<form method=\"get\" action=\"/demands\""));
    assert!(
        page.contains("value=\"废水&#60;b&#62;\"") && !page.contains("废水<b>"),
        "{page}"
    );
    assert!(page.contains("value=\"abc\""), "{page}");
    assert!(page.contains("value=\"500\""), "{page}");
    assert!(page.contains("共 0 条"), "{page}");
    // A demand's page.
    let id: i64 = sqlx::query_scalar("SELECT id FROM demands WHERE source_id = 'dem-0001'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (status, page) = app.get_html(&format!("/demands/items/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("废切削液及废矿物油年度委托处置"));
    assert!(page.contains("发布企业未公开联系方式"));
}

fn demand_fields(title: &str, description: &str) -> Vec<(String, String)> {
    [
        ("title", title),
        ("description", description),
        ("category", "HW-DISP"),
        ("region", "310118"),
        ("address", "上海市青浦区夏阳街道外青松公路100号"),
        ("budget", "50000"),
        ("deadline", "2026-12-31"),
        ("contact_name", "王建国"),
        ("contact_phone", "021-59990000"),
        ("contact_public", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn api_demand_titles(app: &TestApp) -> Vec<String> {
    app.state.search.catch_up().await.unwrap();
    json(app, "/api/v1/demands?page_size=100").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_posted_demand_is_public_only_after_its_province_approves_it() {
    let app = spawn_app().await;
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::qingpu(
            &crate::support::credit_code("91310118MA1K4B3X2"),
            "上海测试模具有限公司",
            "ehs@example.cn",
        ),
    )
    .await;
    let (status, form) = enterprise.get_html("/demands/new").await;
    assert_eq!(status, StatusCode::OK, "{form}");
    // Invalid input shows the form again.
    let bad = enterprise
        .post_multipart("/demands/new", &demand_fields("短", "太短"), None)
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = enterprise
        .post_multipart(
            "/demands/new",
            &demand_fields(
                "废活性炭年度处置委托",
                "每年产生废活性炭约5吨，需委托有资质单位处置，详情加微信联系。",
            ),
            Some(("attachment", Upload::pdf())),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let path = location(&response);
    // Not public yet: the hall and strangers do not see it; its owner does.
    assert!(api_demand_titles(&app).await.is_empty());
    let (status, _) = app.get_html(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, own) = enterprise.get_html(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.contains("待审核"));
    // A reviewer of another province cannot see it; 上海's sees the flagged word.
    let jiangsu = reviewer(&app, "js-reviewer@example.cn", "320000").await;
    let (status, _) = jiangsu.get_html(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let shanghai = reviewer(&app, "sh-reviewer@example.cn", "310000").await;
    let (status, seen) = shanghai.get_html(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen.contains("敏感词提示"), "{seen}");
    assert!(seen.contains("加微信"));
    let item: i64 = sqlx::query_scalar(
        "SELECT id FROM review_items WHERE kind = 'demand' AND status = 'pending'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let decided = shanghai
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "approve"), ("reason", "")],
        )
        .await;
    assert!(
        decided.status().is_redirection() || decided.status().is_success(),
        "{}",
        decided.status()
    );
    assert_eq!(
        api_demand_titles(&app).await,
        vec!["废活性炭年度处置委托".to_string()]
    );
    let (status, public) = app.get_html(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        public.contains("021-59990000"),
        "contact details were made public"
    );
    // The attachment is downloadable by everyone now.
    let file_link = public
        .split("href=\"")
        .find(|s| s.contains("/files/"))
        .and_then(|s| s.split('"').next())
        .expect("an attachment link")
        .to_string();
    assert_eq!(app.get(&file_link).await.status(), StatusCode::OK);
    // The edit form offers to remove the attachment.
    let file_id = file_link.rsplit('/').next().unwrap().to_string();
    let (_, edit_form) = enterprise.get_html(&format!("{path}/edit")).await;
    assert!(
        edit_form.contains(&format!("name=\"remove_file\" value=\"{file_id}\"")),
        "{edit_form}"
    );
    let files_before = app.count_rows("files").await;
    // Editing sends it back to review; the ticked attachment is removed.
    let mut fields = demand_fields(
        "废活性炭年度处置委托（修订）",
        "每年产生废活性炭约6吨，需委托有资质单位处置。",
    );
    fields.push(("remove_file".to_string(), file_id.clone()));
    let edit = enterprise
        .post_multipart(&format!("{path}/edit"), &fields, None)
        .await;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    assert!(api_demand_titles(&app).await.is_empty());
    assert_eq!(app.count_rows("files").await, files_before - 1);
    assert_eq!(
        enterprise.get(&file_link).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, own) = enterprise.get_html(&path).await;
    assert!(!own.contains(&format!("/files/{file_id}")), "{own}");
    // Withdrawing ends it; the audit log has each step.
    let id = path.rsplit('/').next().unwrap();
    let withdrawn = enterprise
        .post_form(
            &format!("/demands/items/{id}/status"),
            &[("action", "withdraw")],
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    let status: String = sqlx::query_scalar("SELECT status FROM demands WHERE id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "withdrawn");
    for action in ["demand.post", "demand.edit", "demand.withdraw"] {
        assert_eq!(
            crate::flows::audit_count(&app, action, "success").await,
            1,
            "{action}"
        );
    }
    // Others cannot touch it.
    let (status, _) = shanghai.get_html(&format!("{path}/edit")).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_saved_search_notifies_new_items_and_has_an_atom_feed() {
    let app = spawn_app().await;
    let user = Visitor::new(&app);
    register_ok(
        &user,
        "supplier",
        &Registration::wujiang(
            &crate::support::credit_code("91320509MA1K4B3X2"),
            "苏州测试环境科技有限公司",
            "bid@example.cn",
        ),
    )
    .await;
    let saved = user
        .post_form("/demands/saved", &[("query", "kind=notices&region=320509")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (status, list) = user.get_html("/demands/saved").await;
    assert_eq!(status, StatusCode::OK);
    let feed = list
        .split("href=\"")
        .find(|s| s.starts_with("/demands/feed/"))
        .and_then(|s| s.split('"').next())
        .expect("a feed link")
        .to_string();
    // New notices arrive after the search was saved.
    import(&app, Dataset::Notices, &samples().join("notices")).await;
    let now = app.state.clock.unix();
    app.store
        .enqueue_job(&greenbridge_store::NewJob::new(
            greenbridge_web::routes::hall_saved::CHECK_JOB,
            serde_json::json!({}),
            now,
        ))
        .await
        .unwrap();
    greenbridge_web::jobs::drain(&app.state, &greenbridge_web::jobs::platform::registry()).await;
    let wujiang = index()["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["region_code"] == "320509")
        .count();
    let hits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saved_search_hits")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(hits as usize, wujiang);
    let inbox: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'hall.saved_search'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(inbox, 1);
    // The feed needs no login; an unknown token is 404.
    let atom = app.get(&feed).await;
    assert_eq!(atom.status(), StatusCode::OK);
    assert!(
        atom.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("atom")
    );
    let xml = atom.text().await.unwrap();
    assert_eq!(xml.matches("<entry>").count(), wujiang);
    assert_eq!(
        app.get("/demands/feed/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    // A second check finds nothing new.
    greenbridge_web::routes::hall_saved::check_all(&app.state)
        .await
        .unwrap();
    let inbox_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'hall.saved_search'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(inbox_after, 1);
}

/// A local "procurement site": a list page with links to three sample pages (with
/// ETags), a page that always fails, and hit counters.
async fn sample_site() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::extract::Path as AxPath;
    use axum::http::{HeaderMap, StatusCode as AxStatus, header};
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let list = || async {
        axum::response::Html(
            "<html><body><ul>\
             <li><a href=\"/notices/t20260105_26004426.html\">一</a></li>\
             <li><a href=\"/notices/t20260202_26042666.html\">二</a></li>\
             <li><a href=\"notices/t20260109_26016771.html\">三</a></li>\
             <li><a href=\"/notices/t20260101_99999999.html\">坏</a></li>\
             <li><a href=\"/about.html\">关于</a></li></ul></body></html>",
        )
    };
    let page = move |AxPath(file): AxPath<String>, headers: HeaderMap| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            if file == "t20260101_99999999.html" {
                return AxStatus::INTERNAL_SERVER_ERROR.into_response();
            }
            let Ok(body) = std::fs::read_to_string(samples().join("notices").join(&file)) else {
                return AxStatus::NOT_FOUND.into_response();
            };
            let etag = format!("\"{}\"", body.len());
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some(etag.as_str())
            {
                return AxStatus::NOT_MODIFIED.into_response();
            }
            ([(header::ETAG, etag)], axum::response::Html(body)).into_response()
        }
    };
    let app = axum::Router::new()
        .route("/list", axum::routing::get(list))
        .route("/notices/{file}", axum::routing::get(page));
    let (address, _) = crate::support::serve_router(app).await;
    (format!("http://{address}"), hits)
}

#[tokio::test]
async fn the_connector_fetches_new_pages_conditionally_and_records_each_run() {
    use greenbridge_ingest::notices::connector::{FetchPolicy, client, run_due, run_source};
    use greenbridge_store::connectors::NewConnectorSource;
    let app = spawn_app().await;
    let (site, _hits) = sample_site().await;
    let now = app.state.clock.unix();
    let source_id = app
        .store
        .insert_connector_source(
            &NewConnectorSource {
                name: "测试站",
                site: "测试采购网",
                list_url: &format!("{site}/list?page={{page}}"),
                link_pattern: r"/notices/t\d{8}_\d+\.html$",
                max_pages: 3,
                schedule: "daily",
                delay_ms: 1000,
            },
            now,
        )
        .await
        .unwrap();
    // A second source that is down: its failure is recorded and the run goes on.
    app.store
        .insert_connector_source(
            &NewConnectorSource {
                name: "停机站",
                site: "停机站",
                list_url: "http://127.0.0.1:9/list",
                link_pattern: r"\.html$",
                max_pages: 1,
                schedule: "daily",
                delay_ms: 1000,
            },
            now,
        )
        .await
        .unwrap();
    let policy = FetchPolicy {
        attempts: 2,
        backoff: std::time::Duration::from_millis(10),
        timeout: std::time::Duration::from_secs(5),
        delay_override: Some(std::time::Duration::from_millis(1)),
        ..FetchPolicy::default()
    };
    let clock = app.state.clock;
    let runs = run_due(&app.store, &policy, move || clock.unix())
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    let first = &runs[0];
    assert_eq!(
        (first.fetched, first.new_count, first.failed),
        (3, 3, 1),
        "{first:?}"
    );
    assert!(first.failures.contains("HTTP 500"), "{}", first.failures);
    let down = &runs[1];
    assert_eq!(down.failed, 1);
    assert!(down.failures.contains("127.0.0.1:9"), "{}", down.failures);
    // The result notice found its announcement.
    app.state.search.catch_up().await.unwrap();
    let listed = json(&app, "/api/v1/notices").await;
    assert_eq!(listed["total"], 3);
    // Not due again today; run by hand: every page answers 304, nothing changes.
    assert!(
        run_due(&app.store, &policy, move || clock.unix())
            .await
            .unwrap()
            .is_empty()
    );
    let source = app.store.connector_source(source_id).await.unwrap();
    let again = run_source(&app.store, &client(&policy), &source, &policy, move || {
        clock.unix()
    })
    .await
    .unwrap();
    assert_eq!(
        (again.new_count, again.updated_count, again.unchanged_count),
        (0, 0, 3)
    );
    assert_eq!(app.count_rows("notices").await, 3);
    assert_eq!(app.count_rows("connector_runs").await, 3);
    // The admin page shows the runs.
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    let (status, page) = admin.visitor.get_html("/admin/connectors").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("测试站"));
    assert!(page.contains("HTTP 500"));
    let anonymous = app.get("/admin/connectors").await;
    assert_ne!(anonymous.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_connector_fetches_over_https_when_it_trusts_the_sites_ca() {
    use greenbridge_ingest::notices::connector::{FetchPolicy, client, run_source};
    use greenbridge_ingest::outbound::OutboundRoots;
    use greenbridge_store::connectors::NewConnectorSource;
    let app = spawn_app().await;
    let (site, _hits) = sample_site().await;
    let backend: std::net::SocketAddr = site.trim_start_matches("http://").parse().unwrap();
    let front = crate::support::serve_tls_front(backend).await;
    let now = app.state.clock.unix();
    let source_id = app
        .store
        .insert_connector_source(
            &NewConnectorSource {
                name: "加密站",
                site: "测试采购网（HTTPS）",
                list_url: &format!("https://localhost:{}/list?page={{page}}", front.port()),
                link_pattern: r"/notices/t\d{8}_\d+\.html$",
                max_pages: 1,
                schedule: "daily",
                delay_ms: 1000,
            },
            now,
        )
        .await
        .unwrap();
    let source = app.store.connector_source(source_id).await.unwrap();
    let clock = app.state.clock;
    let policy = |roots: OutboundRoots| FetchPolicy {
        attempts: 1,
        backoff: std::time::Duration::from_millis(10),
        timeout: std::time::Duration::from_secs(5),
        delay_override: Some(std::time::Duration::from_millis(1)),
        roots,
    };
    let run_with = |roots: OutboundRoots| {
        let (store, source, policy) = (&app.store, &source, policy(roots));
        async move {
            run_source(store, &client(&policy), source, &policy, move || {
                clock.unix()
            })
            .await
            .unwrap()
        }
    };
    // The built-in roots do not know the test CA: the run fails and says so.
    let run = run_with(OutboundRoots::default()).await;
    assert_eq!((run.fetched, run.new_count), (0, 0), "{run:?}");
    assert!(run.failed >= 1, "{run:?}");
    assert_eq!(app.count_rows("notices").await, 0);
    // With the CA configured (outbound_ca_file), the same pages come through TLS.
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let run = run_with(OutboundRoots::from_pem_file(&ca).unwrap()).await;
    assert!(run.new_count > 0, "{run:?}");
    assert!(app.count_rows("notices").await > 0);
}
