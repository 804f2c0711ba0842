//! 标准政策: the import of regulations.jsonl (report, bad rows, idempotence), the
//! search page and `GET /api/v1/regulations` (standard numbers however typed, the
//! default that hides 已废止, filters, facets), status over time by the clock,
//! replaced-by banners, staff uploads with text extraction, sanitised
//! interpretations, and the feed connector against a local server.

use crate::flows::{
    PASSWORD, Upload, Visitor, audit_count, enrolled_admin, insert_account, location, reviewer,
};
use crate::support::{TestApp, spawn_app, spawn_second_instance};
use greenbridge_domain::role::Role;
use greenbridge_ingest::{Dataset, ImportOptions, ImportReport};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;

const SAMPLE: &str = "../../samples/regulations.jsonl";

fn sample_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE)
}

async fn import_path(app: &TestApp, path: &std::path::Path) -> ImportReport {
    let report = greenbridge_ingest::import(
        &app.store,
        Dataset::Regulations,
        path,
        &ImportOptions {
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("the file imports");
    app.state.search.catch_up().await.expect("indexing");
    report
}

async fn import_sample(app: &TestApp) -> ImportReport {
    import_path(app, &sample_path()).await
}

/// Imports JSON Lines written to a temporary file.
async fn import_lines(app: &TestApp, lines: &[String]) -> ImportReport {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(lines.join("\n").as_bytes()).expect("write");
    import_path(app, file.path()).await
}

fn record(id: &str, overrides: &[(&str, Value)]) -> String {
    let mut object = serde_json::json!({
        "id": id, "title": format!("测试文件{id}"), "doc_number": null,
        "issuer": "生态环境部", "level": "部门规章", "domains": ["综合"], "region": "全国",
        "published": "2026-01-01", "effective": "2026-02-01", "status": "现行有效",
        "revised": [], "summary": "测试用文件。"
    });
    for (key, value) in overrides {
        object[*key] = value.clone();
    }
    object.to_string()
}

async fn id_of(app: &TestApp, source_id: &str) -> i64 {
    app.store
        .regulation_by_source(source_id)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no document {source_id}"))
        .id
}

/// Records that document `new` replaces document `old`.
async fn link_replaces(app: &TestApp, new: i64, old: i64) {
    app.store
        .add_regulation_link(
            new,
            greenbridge_store::regulations::LinkKind::Replaces,
            old,
            app.state.clock.unix(),
        )
        .await
        .expect("a link");
}

async fn api(visitor: &Visitor, query: &str) -> Value {
    let response = visitor.get(&format!("/api/v1/regulations?{query}")).await;
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

fn source_ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["source_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn importing_the_sample_twice_creates_then_changes_nothing() {
    let app = spawn_app().await;
    let first = import_sample(&app).await;
    assert_eq!(
        (first.read, first.created, first.updated, first.unchanged),
        (111, 111, 0, 0),
        "{first:?}"
    );
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let second = import_sample(&app).await;
    assert_eq!(
        (
            second.read,
            second.created,
            second.updated,
            second.unchanged
        ),
        (111, 0, 0, 111),
        "{second:?}"
    );
    assert_eq!(app.count_rows("regulations").await, 111);
    // The nine laws the 生态环境法典 repealed, plus the six other replacements.
    assert_eq!(app.count_rows("regulation_links").await, 15);
    let json = serde_json::to_value(&second).expect("report serialises");
    for key in [
        "read",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "skipped",
    ] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
}

#[tokio::test]
async fn impossible_dates_unknown_levels_and_duplicate_numbers_are_rejected_with_reasons() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let report = import_lines(
        &app,
        &[
            record("new-1", &[("effective", "2026-02-30".into())]),
            record("new-2", &[("level", "司法解释".into())]),
            // The number of GB 3838-2002 (reg-0055), typed another way.
            record(
                "new-3",
                &[
                    ("level", "国家标准".into()),
                    ("doc_number", "gb3838—2002".into()),
                ],
            ),
            record("new-4", &[]),
            record("new-4", &[("title", "同一编号再次出现".into())]),
            record("new-5", &[("replaced_by", "reg-9999".into())]),
        ],
    )
    .await;
    assert_eq!(report.read, 6);
    assert_eq!(report.created, 1, "{report:?}");
    let rejected: Vec<(u64, String, String)> = report
        .rejected
        .iter()
        .map(|r| {
            (
                r.row.unwrap_or_default(),
                r.field.clone().unwrap_or_default(),
                r.reason.clone(),
            )
        })
        .collect();
    assert_eq!(rejected.len(), 5, "{rejected:?}");
    assert_eq!((rejected[0].0, rejected[0].1.as_str()), (1, "effective"));
    assert!(rejected[0].2.contains("2026-02-30"), "{}", rejected[0].2);
    assert_eq!((rejected[1].0, rejected[1].1.as_str()), (2, "level"));
    assert!(rejected[1].2.contains("司法解释"));
    assert_eq!((rejected[2].0, rejected[2].1.as_str()), (3, "doc_number"));
    assert!(
        rejected[2].2.contains("地表水环境质量标准"),
        "{}",
        rejected[2].2
    );
    assert_eq!((rejected[3].0, rejected[3].1.as_str()), (5, "id"));
    assert_eq!((rejected[4].0, rejected[4].1.as_str()), (6, "replaced_by"));
}

#[tokio::test]
async fn the_api_hides_repealed_documents_unless_status_is_all() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let visitor = Visitor::new(&app);
    let current = api(&visitor, "q=环境保护法").await;
    let ids = source_ids(&current);
    assert!(!ids.contains(&"reg-0001".to_string()), "{ids:?}");
    assert!(
        current["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] != "已废止")
    );
    let all = api(&visitor, "q=环境保护法&status=all").await;
    assert!(source_ids(&all).contains(&"reg-0001".to_string()));
    let item = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source_id"] == "reg-0001")
        .unwrap();
    assert_eq!(item["title"], "中华人民共和国环境保护法");
    assert_eq!(item["doc_number"], "中华人民共和国主席令第九号");
    assert_eq!(item["level"], "法律");
    assert_eq!(item["status"], "已废止");
    assert_eq!(item["effective"], "2015-01-01");
    assert!(item["id"].is_string());
    // Without a keyword: every document but the 15 repealed ones, newest first.
    let everything = api(&visitor, "page_size=100").await;
    assert_eq!(everything["total"], 96);
    let repealed = api(&visitor, "status=已废止").await;
    assert_eq!(repealed["total"], 15);
    let statuses = &api(&visitor, "status=all").await["facets"]["status"];
    assert!(
        statuses
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "已废止" && f["count"] == 15)
    );
}

#[tokio::test]
async fn standard_numbers_are_found_however_they_are_typed() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let visitor = Visitor::new(&app);
    for typed in ["GB3838", "GB 3838-2002", "gb3838—2002", "ＧＢ３８３８"] {
        let list = api(&visitor, &format!("q={}", urlencode(typed))).await;
        assert_eq!(source_ids(&list), ["reg-0055"], "{typed}");
    }
    let hj = api(&visitor, "q=HJ%20819").await;
    assert_eq!(source_ids(&hj), ["reg-0085"]);
    // A number and words: both must hold.
    let both = api(&visitor, &format!("q={}", urlencode("GB 3095 空气"))).await;
    assert_eq!(
        source_ids(&both),
        ["reg-0109"],
        "the 2012 edition is repealed"
    );
    let both_all = api(
        &visitor,
        &format!("q={}&status=all", urlencode("GB 3095 空气")),
    )
    .await;
    let mut ids = source_ids(&both_all);
    ids.sort();
    assert_eq!(ids, ["reg-0056", "reg-0109"]);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn filters_by_region_level_mandatory_and_dates_with_facets() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let visitor = Visitor::new(&app);
    // 青浦区 (in the zone, Shanghai): national, Shanghai's and the zone's documents,
    // including the zone decision of the Shanghai people's congress.
    let qingpu = source_ids(&api(&visitor, "region=310118&page_size=100").await);
    for id in ["reg-0107", "reg-0094", "reg-0054", "reg-0099", "reg-0105"] {
        assert!(
            qingpu.contains(&id.to_string()),
            "{id} missing for 青浦: {qingpu:?}"
        );
    }
    assert!(
        !qingpu.contains(&"reg-0100".to_string()),
        "浙江省 does not bind 青浦"
    );
    // 嘉善县 (in the zone, Zhejiang): the whole-zone plan, Zhejiang's, not Shanghai's part.
    let jiashan = source_ids(&api(&visitor, "region=330421&page_size=100").await);
    assert!(jiashan.contains(&"reg-0054".to_string()));
    assert!(jiashan.contains(&"reg-0100".to_string()));
    assert!(!jiashan.contains(&"reg-0099".to_string()));
    assert!(!jiashan.contains(&"reg-0094".to_string()));
    // 松江区 (Shanghai, outside the zone): no zone documents.
    let songjiang = source_ids(&api(&visitor, "region=310117&page_size=100").await);
    assert!(songjiang.contains(&"reg-0094".to_string()));
    assert!(!songjiang.contains(&"reg-0054".to_string()));

    let recommended = api(&visitor, "mandatory=false").await;
    assert_eq!(source_ids(&recommended), ["reg-0084"]);
    let hj = api(&visitor, "level=行业标准").await;
    assert_eq!(hj["total"], 9);
    let two_levels = api(&visitor, "level=法律&level=行政法规&page_size=100").await;
    assert!(
        two_levels["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["level"] == "法律" || i["level"] == "行政法规")
    );
    let in_2026 = api(
        &visitor,
        "effective_from=2026-01-01&effective_to=2026-12-31",
    )
    .await;
    let mut ids = source_ids(&in_2026);
    ids.sort();
    assert_eq!(
        ids,
        [
            "reg-0094", "reg-0107", "reg-0108", "reg-0109", "reg-0110", "reg-0111"
        ]
    );
    let water = api(&visitor, "domain=水&issuer=生态环境部&page_size=100").await;
    assert!(water["total"].as_u64().unwrap() > 0);
    let facets = &water["facets"];
    for field in ["level", "status", "domain", "region", "issuer"] {
        assert!(facets[field].is_array(), "facet {field}: {facets}");
    }
    // Keyword search with highlighted snippets, sorted by date on request.
    let boiler = api(&visitor, &format!("q={}&sort=date", urlencode("锅炉"))).await;
    assert!(source_ids(&boiler).contains(&"reg-0072".to_string()));
    assert!(
        boiler["items"][0]["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<mark>")
            || boiler["items"][0]["highlights"]["summary"]
                .as_str()
                .unwrap()
                .contains("<mark>")
    );

    for (query, field) in [
        ("level=司法解释", "level"),
        ("status=失效", "status"),
        ("region=999999", "region"),
        ("mandatory=yes", "mandatory"),
        ("effective_from=2026-02-30", "effective_from"),
        ("page_size=101", "page_size"),
        ("sort=title", "sort"),
        ("colour=green", "colour"),
    ] {
        let response = visitor.get(&format!("/api/v1/regulations?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn the_search_page_keeps_its_filters_in_the_url_and_marks_matches() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let visitor = Visitor::new(&app);
    let (status, html) = visitor
        .get_html(&format!(
            "/regulations?q={}&level={}&status=all",
            urlencode("锅炉"),
            urlencode("国家标准")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<mark>锅炉</mark>大气污染物排放标准"),
        "{html}"
    );
    assert!(html.contains(r#"value="国家标准" checked"#));
    assert!(html.contains(r#"<option value="all" selected>"#));
    assert!(html.contains("<label for=\"q\">"));
    // A bad filter is said on the page, not as an error page.
    let (status, html) = visitor
        .get_html("/regulations?effective_from=2026-13-01")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("不存在") || html.contains("格式"), "{html}");
}

#[tokio::test]
async fn a_replaced_law_names_the_code_that_replaced_it_at_its_top() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let visitor = Visitor::new(&app);
    let old = id_of(&app, "reg-0001").await;
    let code = id_of(&app, "reg-0107").await;
    let (status, html) = visitor.get_html(&format!("/regulations/{old}")).await;
    assert_eq!(status, StatusCode::OK);
    let banner = html.find("replaced-banner").expect("a banner");
    let heading = html.find("<h1>").expect("a heading");
    assert!(banner < heading, "the banner comes first");
    assert!(html.contains(&format!(
        "href=\"/regulations/{code}\">《中华人民共和国生态环境法典》"
    )));
    assert!(html.contains("已废止"));
    let (_, code_page) = visitor.get_html(&format!("/regulations/{code}")).await;
    assert!(code_page.contains("本文件替代"));
    assert!(code_page.contains("中华人民共和国大气污染防治法"));
    let detail: Value = visitor
        .get(&format!("/api/v1/regulations/{old}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["replaced_by"][0]["title"],
        "中华人民共和国生态环境法典"
    );
    assert_eq!(
        visitor.get("/regulations/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        visitor.get("/regulations/abc").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_file_that_still_calls_a_replaced_law_in_force_does_not_undo_the_repeal() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let line = std::fs::read_to_string(sample_path())
        .expect("the sample")
        .lines()
        .find(|l| l.contains("\"reg-0001\""))
        .expect("reg-0001")
        .replace("\"已废止\"", "\"现行有效\"");
    assert!(line.contains("现行有效"));
    import_lines(&app, &[line]).await;
    let visitor = Visitor::new(&app);
    let all = api(&visitor, "q=环境保护法&status=all").await;
    let item = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source_id"] == "reg-0001")
        .expect("reg-0001 listed");
    assert_eq!(item["status"], "已废止", "{item}");
    let current = api(&visitor, "q=环境保护法").await;
    assert!(!source_ids(&current).contains(&"reg-0001".to_string()));
}

#[tokio::test]
async fn a_document_not_yet_in_force_comes_into_force_on_its_effective_date() {
    let app = spawn_app().await;
    import_sample(&app).await;
    // Today is 2026-11-28: a new standard in force from 2026-12-01 replaces GB 3096.
    let report = import_lines(
        &app,
        &[record(
            "new-noise",
            &[
                ("title", "声环境质量标准（2026年版）".into()),
                ("level", "国家标准".into()),
                ("doc_number", "GB 3096-2026".into()),
                ("published", "2026-10-01".into()),
                ("effective", "2026-12-01".into()),
                ("status", "尚未生效".into()),
            ],
        )],
    )
    .await;
    assert_eq!(report.created, 1, "{report:?}");
    let new = id_of(&app, "new-noise").await;
    let old = id_of(&app, "reg-0057").await;
    link_replaces(&app, new, old).await;
    app.state.search.catch_up().await.unwrap();
    let visitor = Visitor::new(&app);
    let pending = api(&visitor, "q=GB3096-2026").await;
    assert_eq!(pending["items"][0]["status"], "尚未生效");
    assert_eq!(
        api(&visitor, "q=GB3096-2026&status=现行有效").await["total"],
        0
    );
    assert_eq!(
        api(&visitor, "q=GB3096-2008").await["items"][0]["status"],
        "现行有效"
    );
    // Until then the old standard says it will be replaced, and stays in force.
    let (_, html) = visitor.get_html(&format!("/regulations/{old}")).await;
    assert!(html.contains("本文件将被"), "{html}");
    assert!(html.contains("status-in-force\">现行有效"));

    // Another instance on 2026-12-01, the same database, nobody touching the rows.
    let later = spawn_second_instance(&app, |c| {
        c.today = Some(time::macros::date!(2026 - 12 - 01));
    })
    .await;
    later.state.search.catch_up().await.unwrap();
    let visitor = Visitor::new(&later);
    // Pages compute the status from the dates at once.
    let (_, html) = visitor.get_html(&format!("/regulations/{new}")).await;
    assert!(html.contains("status-in-force\">现行有效"), "{html}");
    let (_, html) = visitor.get_html(&format!("/regulations/{old}")).await;
    assert!(
        html.contains("replaced-banner"),
        "the old standard names the new one"
    );
    assert!(html.contains("status-repealed\">已废止"));
    // The periodic job brings rows and index in step.
    later
        .store
        .enqueue_job(&greenbridge_store::NewJob::new(
            greenbridge_web::routes::regulations_manage::STATUS_JOB,
            serde_json::json!({}),
            later.state.clock.unix(),
        ))
        .await
        .unwrap();
    greenbridge_web::jobs::drain(&later.state, &greenbridge_web::jobs::platform::registry()).await;
    later.state.search.catch_up().await.unwrap();
    let in_force = api(&visitor, "q=GB3096-2026&status=现行有效").await;
    assert_eq!(source_ids(&in_force), ["new-noise"]);
    assert_eq!(
        api(&visitor, "q=GB3096-2008").await["total"],
        0,
        "replaced: hidden by default"
    );
    let old_now = api(&visitor, "q=GB3096-2008&status=已废止").await;
    assert_eq!(source_ids(&old_now), ["reg-0057"]);
    assert_eq!(
        later.store.regulation(new).await.unwrap().status.as_str(),
        "现行有效"
    );
}

/// A DOCX with one paragraph per item.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
        .collect();
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
        zip.start_file("word/document.xml", options).unwrap();
        zip.write_all(document.as_bytes()).unwrap();
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// A one-page PDF without any text (as a scan would be).
fn textless_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn document_fields(title: &str, number: &str) -> Vec<(String, String)> {
    [
        ("title", title),
        ("doc_number", number),
        ("issuer", "上海市生态环境局"),
        ("level", "规范性文件"),
        ("domain", "固废"),
        ("region", "上海市"),
        ("published", "2026-11-01"),
        ("effective", "2026-11-15"),
        ("status", "现行有效"),
        ("summary", "规范危险废物贮存。"),
        ("use_file_text", "1"),
        ("full_text", ""),
        ("replaces", ""),
        ("replaced_by", ""),
        ("amends", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Adds a document with an upload through the form; returns its edit page's address.
async fn add_document(staff: &Visitor, fields: &[(String, String)], file: Upload) -> String {
    let response = staff
        .post_multipart("/regulations/new", fields, Some(("file", file)))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    location(&response)
}

/// The document id in an address `/regulations/{id}/…`.
fn document_id(address: &str) -> i64 {
    address
        .trim_start_matches("/regulations/")
        .split('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("a document address")
}

#[tokio::test]
async fn staff_add_a_document_with_its_text_taken_from_an_upload_and_it_is_audited() {
    let app = spawn_app().await;
    import_sample(&app).await;
    // Visitors are sent to log in; enterprises may not.
    let anonymous = Visitor::new(&app);
    let response = anonymous.get("/regulations/new").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    insert_account(
        &app,
        "firm@example.com",
        "企业",
        Role::DemandEnterprise,
        None,
        PASSWORD,
    )
    .await;
    let firm = Visitor::new(&app);
    firm.login_ok("firm@example.com", PASSWORD).await;
    assert_eq!(
        firm.get("/regulations/new").await.status(),
        StatusCode::FORBIDDEN
    );

    let staff = reviewer(&app, "assoc@example.com", "310000").await;
    let (status, html) = staff.get_html("/regulations/new").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let edit = add_document(
        &staff,
        &document_fields("上海市危险废物贮存管理通知", "沪环土〔2026〕88号"),
        Upload {
            file_name: "通知.docx",
            mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            bytes: docx(&["第一条 贮存设施应当防渗漏。", "第二条 贮存期限不超过一年。"]),
        },
    )
    .await;
    let (_, html) = staff.get_html(&edit).await;
    assert!(html.contains("全文已从“通知.docx”提取"), "{html}");
    let id = document_id(&edit);
    let (_, page) = anonymous.get_html(&format!("/regulations/{id}")).await;
    assert!(page.contains("第二条 贮存期限不超过一年。"), "{page}");
    assert_eq!(audit_count(&app, "regulation.create", "success").await, 1);
    // Searchable by a word of the extracted text, with a snippet from it.
    app.state.search.catch_up().await.unwrap();
    let found = api(&anonymous, &format!("q={}", urlencode("防渗漏"))).await;
    assert_eq!(found["items"][0]["title"], "上海市危险废物贮存管理通知");
    assert!(
        found["items"][0]["highlights"]["full_text"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );

    // A scan: no text to take; the document is saved, the file kept, and the page says so.
    let response = staff
        .post_multipart(
            "/regulations/new",
            &document_fields("扫描件通知", "沪环土〔2026〕89号"),
            Some((
                "file",
                Upload {
                    file_name: "扫描件.pdf",
                    mime: "application/pdf",
                    bytes: textless_pdf(),
                },
            )),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let edit = location(&response);
    let (_, html) = staff.get_html(&edit).await;
    assert!(html.contains("没有可提取的文字"), "{html}");
    let scan_id = edit
        .trim_start_matches("/regulations/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let (_, page) = anonymous.get_html(&format!("/regulations/{scan_id}")).await;
    assert!(page.contains("扫描件.pdf"));
    let file_id: i64 =
        sqlx::query_scalar("SELECT file_id FROM regulation_files WHERE regulation_id = $1")
            .bind(scan_id.parse::<i64>().unwrap())
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let download = anonymous
        .get(&format!("/regulations/{scan_id}/files/{file_id}"))
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-"));
    // Not this document's file: 404.
    assert_eq!(
        anonymous
            .get(&format!("/regulations/{id}/files/{file_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A number that belongs to another document is refused on the form.
    let response = staff
        .post_multipart(
            "/regulations/new",
            &document_fields("重复", "GB3838-2002"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("文号/标准编号"), "{body}");

    // Editing keeps the id and writes the audit log.
    let mut fields = document_fields("上海市危险废物贮存管理通知（修订）", "沪环土〔2026〕88号");
    fields.retain(|(k, _)| k != "full_text");
    fields.push(("full_text".into(), "第一条 修订后的全文。".into()));
    fields.retain(|(k, _)| k != "use_file_text");
    let response = staff
        .post_multipart(&format!("/regulations/{id}/edit"), &fields, None)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = anonymous.get_html(&format!("/regulations/{id}")).await;
    assert!(page.contains("修订后的全文"));
    assert_eq!(audit_count(&app, "regulation.update", "success").await, 1);
}

#[tokio::test]
async fn interpretations_are_sanitised_and_listed_on_their_documents() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let staff = reviewer(&app, "assoc@example.com", "320000").await;
    let response = staff
        .post_form(
            "/regulations/articles/new",
            &[
                ("kind", "interpretation"),
                ("title", "生态环境法典对企业的主要影响"),
                (
                    "body",
                    "<p onclick=\"steal()\">法典施行后，<strong>环评</strong>义务以法典为准。</p><script>alert(1)</script><a href=\"javascript:alert(1)\">链接</a>",
                ),
                ("documents", "reg-0107, GB 3838-2002"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let article = location(&response);
    let visitor = Visitor::new(&app);
    let (_, html) = visitor.get_html(&article).await;
    assert!(html.contains("<strong>环评</strong>"));
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("onclick"));
    assert!(!html.contains("javascript:"));
    let code = id_of(&app, "reg-0107").await;
    let (_, page) = visitor.get_html(&format!("/regulations/{code}")).await;
    assert!(page.contains("生态环境法典对企业的主要影响"), "{page}");
    let gb = id_of(&app, "reg-0055").await;
    let (_, page) = visitor.get_html(&format!("/regulations/{gb}")).await;
    assert!(page.contains("生态环境法典对企业的主要影响"));
    let (_, list) = visitor
        .get_html("/regulations/articles?kind=interpretation")
        .await;
    assert!(list.contains("生态环境法典对企业的主要影响"));
    assert_eq!(
        audit_count(&app, "regulation_article.create", "success").await,
        1
    );
    // A document that does not exist is refused.
    let response = staff
        .post_form(
            "/regulations/articles/new",
            &[
                ("kind", "knowledge"),
                ("title", "x"),
                ("body", "<p>x</p>"),
                ("documents", "reg-9999"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Visitors cannot write.
    assert_eq!(
        visitor.get("/regulations/articles/new").await.status(),
        StatusCode::SEE_OTHER
    );
}

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:gb="https://greenbridge.example/ns">
  <title>示例省平台政策文件</title>
  <entry>
    <id>feed-test-001</id>
    <title>关于规范危险废物转移联单管理的通知</title>
    <published>2026-11-20T09:00:00+08:00</published>
    <summary>明确电子联单填报要求。</summary>
    <category term="固废"/>
    <gb:doc_number>沪环土〔2026〕301号</gb:doc_number>
  </entry>
  <entry>
    <id>feed-test-002</id>
    <title>示例地方标准 餐饮业油烟排放标准</title>
    <published>2026-11-21T09:00:00+08:00</published>
    <category term="地方标准"/>
    <category term="气"/>
    <gb:doc_number>DB31/844-2026</gb:doc_number>
    <gb:effective>2027-03-01</gb:effective>
  </entry>
  <entry>
    <id>feed-test-003</id>
    <title>无法导入的条目</title>
    <gb:level>司法解释</gb:level>
  </entry>
</feed>"#;

/// A local server answering `/feed.xml` with the Atom feed.
async fn feed_server() -> (String, tokio::task::JoinHandle<()>) {
    let router = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(|| async { ([("content-type", "application/atom+xml")], ATOM) }),
    );
    let (address, handle) = crate::support::serve_router(router).await;
    (format!("http://{address}"), handle)
}

#[tokio::test]
async fn a_feed_adds_new_documents_and_records_each_run() {
    let app = spawn_app().await;
    let (server, handle) = feed_server().await;
    let admin = enrolled_admin(&app, "admin@example.com").await;
    let response = admin
        .visitor
        .post_form(
            "/admin/regulation-feeds",
            &[
                ("name", "上海市平台"),
                ("url", &format!("{server}/feed.xml")),
                ("level", "规范性文件"),
                ("region", "上海市"),
                ("issuer", "上海市生态环境局"),
                ("interval_hours", "24"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let feed = app.store.feeds().await.unwrap().remove(0);
    let response = admin
        .visitor
        .post_form(&format!("/admin/regulation-feeds/{}/sync", feed.id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let runs = app.store.feed_runs(feed.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            runs[0].outcome.as_str(),
            runs[0].entries,
            runs[0].created,
            runs[0].rejected
        ),
        ("ok", 3, 2, 1),
        "{runs:?}"
    );
    assert!(runs[0].message.contains("司法解释"), "{}", runs[0].message);
    let standard = app
        .store
        .regulation_by_source("feed-test-002")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(standard.level.as_str(), "地方标准");
    assert_eq!(standard.status.as_str(), "尚未生效");
    assert_eq!(standard.mandatory, Some(true));

    // The scheduled job syncs only when the interval has passed: nothing due now.
    app.store
        .enqueue_job(&greenbridge_store::NewJob::new(
            greenbridge_web::routes::regulations_manage::FEEDS_JOB,
            serde_json::json!({}),
            app.state.clock.unix(),
        ))
        .await
        .unwrap();
    greenbridge_web::jobs::drain(&app.state, &greenbridge_web::jobs::platform::registry()).await;
    assert_eq!(app.store.feed_runs(feed.id, 10).await.unwrap().len(), 1);

    // A second run adds nothing.
    admin
        .visitor
        .post_form(&format!("/admin/regulation-feeds/{}/sync", feed.id), &[])
        .await;
    let runs = app.store.feed_runs(feed.id, 10).await.unwrap();
    assert_eq!((runs[0].created, runs[0].unchanged), (0, 2));
    app.state.search.catch_up().await.unwrap();
    let found = api(&Visitor::new(&app), &format!("q={}", urlencode("转移联单"))).await;
    assert_eq!(source_ids(&found), ["feed-test-001"]);
    let (_, html) = admin.visitor.get_html("/admin/regulation-feeds").await;
    assert!(html.contains("上海市平台"));

    // The platform is down: the run is recorded as failed.
    handle.abort();
    let _ = handle.await;
    admin
        .visitor
        .post_form(&format!("/admin/regulation-feeds/{}/sync", feed.id), &[])
        .await;
    let runs = app.store.feed_runs(feed.id, 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].outcome, "failed", "{runs:?}");
    assert_eq!(
        audit_count(&app, "regulation_feed.sync", "failure").await,
        1
    );
    // Reviewers do not manage feeds (the server fetches what they name).
    let staff = reviewer(&app, "assoc@example.com", "310000").await;
    assert_eq!(
        staff.get("/admin/regulation-feeds").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn staff_delete_a_document_after_confirming_with_its_links_and_files_and_it_is_audited() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let staff = reviewer(&app, "assoc-delete@example.com", "310000").await;
    let edit = add_document(
        &staff,
        &document_fields("待删除的通知", "沪环土〔2026〕90号"),
        Upload {
            file_name: "待删除.docx",
            mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            bytes: docx(&["第一条 待删除。"]),
        },
    )
    .await;
    let id = document_id(&edit);
    // It replaces a sample document, so there is a link to go with it.
    let replaced = id_of(&app, "reg-0002").await;
    link_replaces(&app, id, replaced).await;
    let file_id: i64 =
        sqlx::query_scalar("SELECT file_id FROM regulation_files WHERE regulation_id = $1")
            .bind(id)
            .fetch_one(app.store.pool())
            .await
            .unwrap();

    // Others may not; the page asks first and a link deletes nothing.
    let anonymous = Visitor::new(&app);
    assert_ne!(
        anonymous
            .get(&format!("/regulations/{id}/delete"))
            .await
            .status(),
        StatusCode::OK
    );
    let (_, edit) = staff.get_html(&format!("/regulations/{id}/edit")).await;
    assert!(edit.contains(&format!("/regulations/{id}/delete")));
    let (status, confirm) = staff.get_html(&format!("/regulations/{id}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        confirm.contains("待删除的通知") && confirm.contains("共 1 条"),
        "{confirm}"
    );
    assert!(app.store.find_regulation(id).await.unwrap().is_some());
    // Without the CSRF token: refused.
    let response = app
        .client
        .post(app.url(&format!("/regulations/{id}/delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = staff
        .post_form(&format!("/regulations/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(app.store.find_regulation(id).await.unwrap().is_none());
    assert_eq!(
        anonymous.get(&format!("/regulations/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM regulation_links WHERE from_id = $1 OR to_id = $1",
    )
    .bind(id)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(left, 0);
    assert!(app.store.file(file_id).await.is_err(), "the upload is gone");
    assert!(app.store.find_regulation(replaced).await.unwrap().is_some());
    assert_eq!(audit_count(&app, "regulation.delete", "success").await, 1);
    // Out of the search index too.
    app.state.search.catch_up().await.unwrap();
    let found = api(&anonymous, &format!("q={}", urlencode("待删除的通知"))).await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["title"] != "待删除的通知"),
        "{found}"
    );
    // A second time: 404.
    let response = staff
        .post_form(&format!("/regulations/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_write_to_the_documents_changes_what_the_assistant_links_against() {
    let app = spawn_app().await;
    import_sample(&app).await;
    let store = &app.store;
    let now = app.state.clock.unix();
    let mut seen = vec![store.regulations_generation().await.unwrap()];
    let mut changed = |generation: (i64, i64), what: &str| {
        assert!(!seen.contains(&generation), "{what} went unseen");
        seen.push(generation);
    };
    // All within one second, and the edit keeps every length.
    let regulation = store.regulations_after(0, 1).await.unwrap().remove(0);
    let mut input = greenbridge_store::regulations::RegulationInput::from_regulation(&regulation);
    let mut title: Vec<char> = input.title.chars().collect();
    title.reverse();
    input.title = title.into_iter().collect();
    store
        .update_regulation(regulation.id, &input, now)
        .await
        .unwrap();
    changed(store.regulations_generation().await.unwrap(), "an edit");
    store.delete_regulation(regulation.id, now).await.unwrap();
    changed(store.regulations_generation().await.unwrap(), "a delete");
    store.insert_regulation(&input, now).await.unwrap();
    changed(store.regulations_generation().await.unwrap(), "an insert");
}
