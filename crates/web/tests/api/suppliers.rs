//! 惠企服务 supplier directory: search (page, API, export), detail page and licence
//! watch, 纠错, the supplier's own profile and its review, spot checks, and the guide
//! to government systems. Fixtures are written through the store's list-import
//! transaction, the way the importers write them.

use crate::flows::{
    Registration, Upload, Visitor, audit_count, enrolled_admin, location, organisation_of,
    register_ok, reviewer,
};
use crate::support::{TestApp, credit_code, spawn_app};
use greenbridge_store::suppliers::{
    HwCategoryItem, HwMode, ListOrganisation, NewImportRun, NewQualification, QualificationKind,
};
use reqwest::StatusCode;
use serde_json::Value;
use time::macros::date;

struct Licence {
    number: &'static str,
    hw: &'static [(&'static str, &'static [&'static str])],
    modes: &'static [HwMode],
    capacity_t: Option<i64>,
    valid_to: time::Date,
    area: &'static [&'static str],
}

fn licence(l: &Licence) -> NewQualification {
    let mut q = NewQualification::new(QualificationKind::HwLicence, l.number);
    q.valid_from = Some(date!(2021 - 01 - 01));
    q.valid_to = Some(l.valid_to);
    q.issuer = "示例生态环境厅".into();
    q.modes = l.modes.to_vec();
    q.capacity_kg = l.capacity_t.map(|t| t * 1000);
    q.service_area = l.area.iter().map(|s| s.to_string()).collect();
    q.hw_categories =
        l.hw.iter()
            .map(|(category, codes)| HwCategoryItem {
                category: category.to_string(),
                waste_codes: codes.iter().map(|c| c.to_string()).collect(),
                excluded_codes: Vec::new(),
                capacity_kg: None,
            })
            .collect();
    q
}

/// Writes one organisation from an "official list" with its qualifications; returns its id.
async fn list_org(
    app: &TestApp,
    body17: &str,
    name: &str,
    region: &str,
    quals: Vec<NewQualification>,
    sample: bool,
) -> i64 {
    let code = credit_code(body17);
    let code = greenbridge_domain::credit_code::CreditCode::parse(&code).expect("code");
    let now = crate::flows::server_now();
    let mut tx = app.store.begin_supplier_import().await.expect("begin");
    let run = tx
        .start_run(&NewImportRun {
            kind: "hw-licence",
            file_name: "fixture.xlsx",
            file_id: None,
            sha256: "",
            actor_account_id: None,
            sample,
            started_at: now,
        })
        .await
        .expect("run");
    let categories: &[&str] = if quals.iter().any(|q| q.kind == QualificationKind::Cma) {
        &["MON"]
    } else {
        &["HW"]
    };
    let (id, _) = tx
        .upsert_list_organisation(
            &ListOrganisation {
                credit_code: &code,
                name,
                region_code: region,
                address: &format!("{}示例路1号", name),
                legal_representative: "张三",
                legal_form: "企业法人",
                contact_name: "李四",
                contact_phone: "0512-00000000",
                contact_extension: "",
                contact_email: "",
                service_categories: categories,
                list_source: "hw-licence",
                sample,
            },
            now,
        )
        .await
        .expect("organisation");
    for q in &quals {
        tx.upsert_list_qualification(id, q, run, now)
            .await
            .expect("qualification");
    }
    tx.commit(now).await.expect("commit");
    id
}

struct Fixture {
    a: i64,
    b: i64,
    c: i64,
    d: i64,
}

/// A: 吴江, HW08 + HW49, 5000 t/a, valid to 2028, unrestricted.
/// B: 嘉善, HW08 (900-214-08 only), 800 t/a, ends 2026-12-20 (within 90 days), may
///    collect only in 嘉善县.
/// C: 青浦, HW49, 20000 t/a, expired 2025-06-30. Sample data.
/// D: a monitoring lab in 吴江 with a CMA certificate.
async fn fixture(app: &TestApp) -> Fixture {
    let a = list_org(
        app,
        "91320509MA1KUP001",
        "吴江绿源危废处置示例有限公司",
        "320509",
        vec![licence(&Licence {
            number: "JSWJ320509001",
            hw: &[("HW08", &[]), ("HW49", &[])],
            modes: &[HwMode::Collect, HwMode::Store, HwMode::Dispose],
            capacity_t: Some(5000),
            valid_to: date!(2028 - 01 - 01),
            area: &[],
        })],
        false,
    )
    .await;
    let b = list_org(
        app,
        "91330421MA2KUP002",
        "嘉善清油再生示例有限公司",
        "330421",
        vec![licence(&Licence {
            number: "ZJJS330421002",
            hw: &[("HW08", &["900-214-08"])],
            modes: &[HwMode::Collect, HwMode::Utilise],
            capacity_t: Some(800),
            valid_to: date!(2026 - 12 - 20),
            area: &["330421"],
        })],
        false,
    )
    .await;
    let c = list_org(
        app,
        "91310118MA3KUP003",
        "青浦碳净环保示例有限公司",
        "310118",
        vec![licence(&Licence {
            number: "SHQP310118003",
            hw: &[("HW49", &[])],
            modes: &[HwMode::Utilise],
            capacity_t: Some(20000),
            valid_to: date!(2025 - 06 - 30),
            area: &[],
        })],
        true,
    )
    .await;
    let mut cma = NewQualification::new(QualificationKind::Cma, "250912052046");
    cma.valid_to = Some(date!(2030 - 05 - 10));
    cma.scope = "水和废水、环境空气和废气".into();
    let d = list_org(
        app,
        "91320509MA4KUP004",
        "吴江澄测检测示例有限公司",
        "320509",
        vec![cma],
        false,
    )
    .await;
    app.state.search.catch_up().await.expect("index");
    Fixture { a, b, c, d }
}

async fn api(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let response = app.get(&format!("/api/v1/suppliers?{query}")).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    (status, body)
}

fn ids(body: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").parse().expect("number"))
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

#[tokio::test]
async fn valid_only_with_hw_asks_for_a_valid_licence_of_that_category() {
    let app = spawn_app().await;
    // HW08 on a licence that has expired, HW49 on one that still runs.
    let e = list_org(
        &app,
        "91320509MA5KUP005",
        "吴江旧证示例环保有限公司",
        "320509",
        vec![
            licence(&Licence {
                number: "JSWJ320509005",
                hw: &[("HW08", &[])],
                modes: &[HwMode::Collect],
                capacity_t: Some(100),
                valid_to: date!(2025 - 03 - 31),
                area: &[],
            }),
            licence(&Licence {
                number: "JSWJ320509006",
                hw: &[("HW49", &[])],
                modes: &[HwMode::Collect],
                capacity_t: Some(100),
                valid_to: date!(2029 - 03 - 31),
                area: &[],
            }),
        ],
        false,
    )
    .await;
    app.state.search.catch_up().await.expect("index");
    let (_, body) = api(&app, "hw=HW08").await;
    assert_eq!(ids(&body), vec![e]);
    let (_, body) = api(&app, "hw=HW08&valid_only=true").await;
    assert_eq!(ids(&body), Vec::<i64>::new(), "{body}");
    let (_, body) = api(&app, "hw=HW49&valid_only=true").await;
    assert_eq!(ids(&body), vec![e]);
    let (_, body) = api(&app, "hw=HW08&hw=HW49&valid_only=true").await;
    assert_eq!(ids(&body), Vec::<i64>::new());
}

#[tokio::test]
async fn capacity_min_with_hw_compares_the_capacity_of_each_category_asked() {
    let app = spawn_app().await;
    // 5 000 t/a in all: 300 for HW08, 4 700 for HW49.
    let mut split = licence(&Licence {
        number: "JSWJ320509007",
        hw: &[("HW08", &[]), ("HW49", &[])],
        modes: &[HwMode::Collect, HwMode::Dispose],
        capacity_t: Some(5000),
        valid_to: date!(2029 - 03 - 31),
        area: &[],
    });
    split.hw_categories[0].capacity_kg = Some(300_000);
    split.hw_categories[1].capacity_kg = Some(4_700_000);
    let e = list_org(
        &app,
        "91320509MA6KUP007",
        "吴江分类核定示例环保有限公司",
        "320509",
        vec![split],
        false,
    )
    .await;
    // 2 000 t/a for HW08 and HW17 together, without figures per category.
    let f = list_org(
        &app,
        "91320509MA7KUP008",
        "吴江总量核定示例环保有限公司",
        "320509",
        vec![licence(&Licence {
            number: "JSWJ320509008",
            hw: &[("HW08", &[]), ("HW17", &[])],
            modes: &[HwMode::Collect],
            capacity_t: Some(2000),
            valid_to: date!(2029 - 03 - 31),
            area: &[],
        })],
        false,
    )
    .await;
    app.state.search.catch_up().await.expect("index");
    // Without hw: the licence's total.
    let (_, body) = api(&app, "capacity_min=1000").await;
    assert_eq!(ids(&body), sorted(vec![e, f]), "{body}");
    // With hw: the category's own figure, else the licence's total.
    let (_, body) = api(&app, "capacity_min=1000&hw=HW08").await;
    assert_eq!(ids(&body), vec![f], "{body}");
    let (_, body) = api(&app, "capacity_min=300&hw=HW08").await;
    assert_eq!(ids(&body), sorted(vec![e, f]), "{body}");
    let (_, body) = api(&app, "capacity_min=1000&hw=HW49").await;
    assert_eq!(ids(&body), vec![e], "{body}");
    // Every category asked must have it.
    let (_, body) = api(&app, "capacity_min=1000&hw=HW08&hw=HW49").await;
    assert_eq!(ids(&body), Vec::<i64>::new(), "{body}");
    let (_, body) = api(&app, "capacity_min=1000&hw=HW08&hw=HW17").await;
    assert_eq!(ids(&body), vec![f], "{body}");
}

#[tokio::test]
async fn keywords_reach_suppliers_through_everyday_waste_names_and_filters_combine() {
    let app = spawn_app().await;
    let f = fixture(&app).await;

    // 废机油 is 900-214-08 (HW08): A takes all of HW08, B exactly that code.
    let (status, body) = api(&app, "q=废机油").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), sorted(vec![f.a, f.b]));
    // 废活性炭 is HW49.
    let (_, body) = api(&app, "q=废活性炭").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.c]));
    // A name word.
    let (_, body) = api(&app, "q=澄测").await;
    assert_eq!(ids(&body), vec![f.d]);

    // hw repeated: every category must be accepted.
    let (_, body) = api(&app, "hw=HW08&hw=HW49").await;
    assert_eq!(ids(&body), vec![f.a]);
    let (_, body) = api(&app, "hw=HW08").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b]));

    // valid_only: C's licence expired, B's still runs (it only expires soon).
    let (_, body) = api(&app, "qualification=hw-licence&valid_only=true").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b]));
    let (_, body) = api(&app, "qualification=hw-licence").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b, f.c]));
    // With hw: a licence still valid for each category asked.
    let (_, body) = api(&app, "hw=HW49&valid_only=true").await;
    assert_eq!(ids(&body), vec![f.a]);
    let (_, body) = api(&app, "hw=HW08&hw=HW49&valid_only=true").await;
    assert_eq!(ids(&body), vec![f.a]);

    // capacity_min in t/a.
    let (_, body) = api(&app, "capacity_min=1000").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.c]));
    let (_, body) = api(&app, "capacity_min=800&hw=HW08").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b]));

    // region: the region and everything below it.
    let (_, body) = api(&app, "region=320500").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.d]));
    let (_, body) = api(&app, "region=320000&region=330000").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b, f.d]));

    // may serve 吴江: B may collect in 嘉善 only.
    let (_, body) = api(&app, "serves=320509&hw=HW08").await;
    assert_eq!(ids(&body), vec![f.a]);
    let (_, body) = api(&app, "serves=330421002&hw=HW08").await;
    assert_eq!(ids(&body), sorted(vec![f.a, f.b]), "a town of 嘉善");

    // mode, size (nobody declared one), category.
    let (_, body) = api(&app, "mode=处置").await;
    assert_eq!(ids(&body), vec![f.a]);
    let (_, body) = api(&app, "size=未填").await;
    assert_eq!(body["total"], 4);
    let (_, body) = api(&app, "size=大型").await;
    assert_eq!(body["total"], 0);
    let (_, body) = api(&app, "category=MON").await;
    assert_eq!(ids(&body), vec![f.d]);
}

#[tokio::test]
async fn the_api_answers_the_list_shape_with_facets_paging_sorting_and_highlights() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let (status, body) = api(&app, "q=废机油").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 2);
    let item = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str() == Some(f.b.to_string().as_str()))
        .expect("B");
    assert_eq!(item["source_id"], Value::Null);
    assert_eq!(item["name"], "嘉善清油再生示例有限公司");
    assert_eq!(item["credit_code"], credit_code("91330421MA2KUP002"));
    assert_eq!(item["region_code"], "330421");
    assert_eq!(item["categories"], serde_json::json!(["HW"]));
    let q = &item["qualifications"][0];
    assert_eq!(q["kind"], "hw-licence");
    assert_eq!(q["number"], "ZJJS330421002");
    assert_eq!(q["status"], "expiring", "ends within 90 days of 2026-11-28");
    assert_eq!(q["hw_categories"][0]["category"], "HW08");
    assert_eq!(q["capacity_t"], "800");
    assert!(
        item["highlights"]["waste"]
            .as_str()
            .unwrap_or("")
            .contains("<mark>"),
        "{item}"
    );

    // Facets beside the filters.
    let (_, body) = api(&app, "").await;
    let hw = body["facets"]["hw"].as_array().expect("hw facet");
    let count = |v: &str| {
        hw.iter()
            .find(|f| f["value"] == v)
            .map(|f| f["count"].as_i64().unwrap())
    };
    assert_eq!(count("HW08"), Some(2));
    assert_eq!(count("HW49"), Some(2));
    assert!(hw.iter().all(|f| !f["label"].as_str().unwrap().is_empty()));
    let regions = body["facets"]["region"].as_array().expect("region facet");
    assert!(
        regions
            .iter()
            .any(|r| r["value"] == "320000" && r["count"] == 2)
    );
    let quals = body["facets"]["qualification"].as_array().unwrap();
    assert!(quals.iter().any(|r| r["value"] == "cma" && r["count"] == 1));

    // Paging and sorting by name (pinyin order of the first characters).
    let (_, first) = api(&app, "sort=name&page_size=2&page=1").await;
    let (_, second) = api(&app, "sort=name&page_size=2&page=2").await;
    assert_eq!(first["total"], 4);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    let names: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    let mut expected = names.clone();
    expected.sort_by_key(|n| greenbridge_search::collections::organisations::name_key(n));
    assert_eq!(names, expected);
    let (_, desc) = api(&app, "sort=name&order=desc&page_size=1").await;
    assert_eq!(desc["items"][0]["name"], expected[3]);
    // Validity: the longest-valid first.
    let (_, by_validity) = api(&app, "sort=validity&qualification=hw-licence").await;
    assert_eq!(by_validity["items"][0]["id"], f.a.to_string());

    // Bad parameters answer 400 with the field named.
    for (query, field) in [
        ("hw=HW99", "hw"),
        ("hw=abc", "hw"),
        ("capacity_min=-1", "capacity_min"),
        ("capacity_min=lots", "capacity_min"),
        ("valid_only=maybe", "valid_only"),
        ("region=999999", "region"),
        ("serves=12", "serves"),
        ("mode=焚烧", "mode"),
        ("size=巨型", "size"),
        ("qualification=iso", "qualification"),
        ("category=NOPE", "category"),
        ("sort=price", "sort"),
        ("order=up", "order"),
        ("page_size=101", "page_size"),
        ("page=1000&page_size=100", "page"),
        ("colour=green", "colour"),
    ] {
        let (status, body) = api(&app, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // And the route is in the OpenAPI document.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/v1/suppliers"]["get"].is_object());
}

#[tokio::test]
async fn the_search_page_keeps_its_filters_in_the_url_and_flags_licences() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let (status, html) = app
        .get_html("/services/suppliers?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9&hw=HW08&sort=name")
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("共 2 家机构"), "{html}");
    assert!(html.contains("<mark>"), "matches are highlighted");
    assert!(html.contains("90 天内到期"), "B's licence is flagged");
    // The form shows the filters back; the export link carries them.
    assert!(html.contains(r#"<option value="HW08" selected>"#), "{html}");
    assert!(
        html.replace("&#38;", "&amp;")
            .contains("export.xlsx?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9&amp;hw=HW08&amp;sort=name"),
        "the export link carries the filters"
    );
    // Facet counts beside the filter values.
    assert!(html.contains("HW08 废矿物油与含矿物油废物（2）"), "{html}");

    // The detail page: qualification table, watch flags, sample mark.
    let (status, html) = app.get_html(&format!("/services/suppliers/{}", f.c)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("示例数据"));
    assert!(html.contains(r#"data-watch="expired""#), "{html}");
    assert!(html.contains("已过期"));
    let (_, html) = app.get_html(&format!("/services/suppliers/{}", f.b)).await;
    assert!(html.contains(r#"data-watch="expiring""#));
    assert!(html.contains("嘉兴市嘉善县"), "service area shown: {html}");
    // Not an organisation of the directory.
    let (status, _) = app.get_html("/services/suppliers/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The waste-code lookup still works beside it.
    let (status, html) = app
        .get_html("/services?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("900-214-08"));
}

#[tokio::test]
async fn a_search_result_exports_as_a_real_xlsx() {
    use calamine::Reader as _;
    let app = spawn_app().await;
    fixture(&app).await;
    let response = app
        .get("/services/suppliers/export.xlsx?hw=HW08&sort=name")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
    let sheet = book.worksheet_range("第三方服务机构").expect("the sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "单位名称");
    assert_eq!(rows[0][1], "统一社会信用代码");
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    // By name in pinyin order: 嘉善 (jia) before 吴江 (wu).
    assert_eq!(
        names,
        vec!["嘉善清油再生示例有限公司", "吴江绿源危废处置示例有限公司"]
    );
    assert_eq!(rows[1][7], "ZJJS330421002");
    assert_eq!(rows[1][14], "800");
    assert!(rows[1][10].contains("天内到期"), "{:?}", rows[1]);
    // Bad parameters: 400, as for the API.
    let response = app.get("/services/suppliers/export.xlsx?hw=HW99").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn anyone_reports_wrong_data_and_the_provinces_reviewer_records_the_outcome() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let visitor = Visitor::new(&app);
    let response = visitor
        .post_form(
            &format!("/services/suppliers/{}/corrections", f.a),
            &[
                ("what", "联系电话已变更为 0512-11112222"),
                ("contact", "王五 13800000000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        format!("/services/suppliers/{}?reported=1", f.a)
    );
    assert_eq!(audit_count(&app, "supplier.correction", "success").await, 1);
    // Too short a report is refused with its reason.
    let response = visitor
        .post_form(
            &format!("/services/suppliers/{}/corrections", f.a),
            &[("what", "错"), ("contact", "138-0000-1111")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The page again, with the reason and what was typed.
    let html = response.text().await.unwrap();
    assert!(
        html.contains("至少 5 个字") && html.contains("138-0000-1111"),
        "{html}"
    );

    // It waits in 江苏's queue (吴江), not in 浙江's.
    let zhejiang = reviewer(&app, "zj@example.com", "330000").await;
    let (_, html) = zhejiang.get_html("/review?kind=correction").await;
    assert!(!html.contains("吴江绿源"), "{html}");
    let item: i64 = sqlx::query_scalar(
        "SELECT id FROM review_items WHERE kind = 'correction' AND province_code = '320000'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("a correction item in 江苏's queue");
    let response = zhejiang
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "approve"), ("reason", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let jiangsu = reviewer(&app, "js@example.com", "320000").await;
    let (_, html) = jiangsu.get_html("/review?kind=correction").await;
    assert!(html.contains("吴江绿源"), "{html}");
    let correction: i64 = sqlx::query_scalar("SELECT id FROM supplier_corrections")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(html.contains(&format!("/review/corrections/{correction}")));
    let response = jiangsu
        .get(&format!("/review/corrections/{correction}"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = zhejiang
        .get(&format!("/review/corrections/{correction}"))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The reviewer sees the report on the supplier's page.
    let (_, html) = jiangsu
        .get_html(&format!("/services/suppliers/{}", f.a))
        .await;
    assert!(html.contains("联系电话已变更为"), "{html}");
    let response = jiangsu
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "approve"), ("reason", "已与机构核实并更正")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, outcome): (String, String) =
        sqlx::query_as("SELECT status, outcome FROM supplier_corrections")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(status, "accepted");
    assert_eq!(outcome, "已与机构核实并更正");
    let (_, html) = jiangsu
        .get_html(&format!("/services/suppliers/{}", f.a))
        .await;
    assert!(html.contains("已采纳"));
    // The public page does not show reports.
    let (_, html) = app.get_html(&format!("/services/suppliers/{}", f.a)).await;
    assert!(!html.contains("联系电话已变更为"));
}

/// The supplier adds a qualification (text fields `fields`) with `scan`.
async fn add_qualification(
    supplier: &Visitor,
    fields: &[(&str, &str)],
    scan: crate::flows::Upload,
) -> reqwest::Response {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    supplier
        .post_multipart(
            "/account/profile/qualifications",
            &fields,
            Some(("scan", scan)),
        )
        .await
}

/// A supplier registered in 吴江 under credit code `body17` (+ check digit): its
/// primary account's session and its organisation.
async fn registered_supplier(
    app: &TestApp,
    body17: &str,
    name: &str,
    login: &str,
) -> (Visitor, i64) {
    let supplier = Visitor::new(app);
    let code = credit_code(body17);
    register_ok(
        &supplier,
        "supplier",
        &Registration::wujiang(&code, name, login),
    )
    .await;
    let org = organisation_of(app, login).await.expect("org");
    (supplier, org)
}

#[tokio::test]
async fn a_self_registered_supplier_is_listed_only_once_its_profile_is_approved() {
    let app = spawn_app().await;
    let (supplier, org) = registered_supplier(
        &app,
        "91320509MA1KELF01",
        "吴江自荐危废示例有限公司",
        "self@example.com",
    )
    .await;
    // Profile and a qualification with a scan.
    let response = supplier
        .post_form(
            "/account/profile",
            &[
                ("former_names", "吴江旧名示例有限公司"),
                ("size", "小型"),
                ("category", "HW-COLLECT"),
                ("description", "专业收集废机油。"),
                ("website", "https://example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let fields = [
        ("kind", "hw-licence"),
        ("number", "JSWJ-SELF-01"),
        ("valid_from", "2025-01-01"),
        ("valid_to", "2029-12-31"),
        ("hw", "HW08"),
        ("mode", "收集"),
        ("capacity", "300"),
    ];
    // A text file posing as a PDF is refused by its content.
    let response = add_qualification(&supplier, &fields, Upload::text_posing_as_pdf()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = add_qualification(&supplier, &fields, Upload::pdf()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.state.search.catch_up().await.unwrap();
    let (_, body) = api(&app, "q=吴江自荐").await;
    assert_eq!(body["total"], 0, "not listed before approval: {body}");
    let (status, _) = app.get_html(&format!("/services/suppliers/{org}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not public yet");

    // Submit: into 江苏's queue; a rejection's reason reaches the supplier.
    let response = supplier.post_form("/account/profile/submit", &[]).await;
    assert_eq!(location(&response), "/account/profile?submitted=1");
    let jiangsu = reviewer(&app, "js@example.com", "320000").await;
    let (status, html) = jiangsu
        .get_html(&format!("/services/suppliers/{org}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let item: i64 = sqlx::query_scalar(
        "SELECT id FROM review_items WHERE kind = 'profile' AND status = 'pending' AND province_code = '320000'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(html.contains(&format!("/review/{item}")));
    let response = jiangsu
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "reject"), ("reason", "")],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a reason is needed"
    );
    let response = jiangsu
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "reject"), ("reason", "许可证扫描件不清晰")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, html) = supplier.get_html("/account/profile").await;
    assert!(html.contains("许可证扫描件不清晰"), "{html}");
    assert!(html.contains("未通过"));
    let verification: String =
        sqlx::query_scalar("SELECT verification FROM qualifications WHERE organisation_id = $1")
            .bind(org)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(verification, "rejected");

    // Again, with a new scan, and approved: listed and found by what it collects.
    let response = add_qualification(&supplier, &fields, Upload::pdf()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    supplier.post_form("/account/profile/submit", &[]).await;
    let item: i64 = sqlx::query_scalar(
        "SELECT id FROM review_items WHERE kind = 'profile' AND status = 'pending'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let response = jiangsu
        .post_form(
            &format!("/review/{item}"),
            &[("decision", "approve"), ("reason", "资料齐全")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(audit_count(&app, "review.approve", "success").await, 1);
    assert!(audit_count(&app, "supplier.profile.submit", "success").await >= 2);
    app.state.search.catch_up().await.unwrap();
    let (_, body) = api(&app, "q=废机油&valid_only=true").await;
    assert_eq!(body["total"], 1, "{body}");
    assert_eq!(body["items"][0]["id"], org.to_string());
    let (_, body) = api(&app, "q=吴江旧名").await;
    assert_eq!(body["total"], 1, "former names are searched");
    let (_, body) = api(&app, "size=小型").await;
    assert_eq!(body["total"], 1);
    let (status, html) = app.get_html(&format!("/services/suppliers/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("JSWJ-SELF-01"));
    // The scan is for the supplier and its reviewers only.
    let qid: i64 = sqlx::query_scalar(
        "SELECT id FROM qualifications WHERE organisation_id = $1 AND verification = 'verified'",
    )
    .bind(org)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let scan = format!("/services/suppliers/{org}/qualifications/{qid}/scan");
    assert_eq!(supplier.get(&scan).await.status(), StatusCode::OK);
    assert_eq!(jiangsu.get(&scan).await.status(), StatusCode::OK);
    assert_eq!(app.get(&scan).await.status(), StatusCode::NOT_FOUND);
}

/// Submits the supplier's profile to its association's queue.
async fn submit(supplier: &Visitor) {
    let response = supplier.post_form("/account/profile/submit", &[]).await;
    assert_eq!(location(&response), "/account/profile?submitted=1");
}

/// Has `reviewer` decide the open profile review, then brings the index up to date.
async fn decide(app: &TestApp, reviewer: &Visitor, decision: &str) {
    let item: i64 = sqlx::query_scalar(
        "SELECT id FROM review_items WHERE kind = 'profile' AND status = 'pending'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let response = reviewer
        .post_form(
            &format!("/review/{item}"),
            &[("decision", decision), ("reason", "核对营业执照与简介")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.state.search.catch_up().await.unwrap();
}

#[tokio::test]
async fn a_listed_suppliers_profile_edit_waits_for_its_associations_approval() {
    let app = spawn_app().await;
    let (supplier, org) = registered_supplier(
        &app,
        "91320509MA1KELF03",
        "吴江改资料示例有限公司",
        "edit@example.com",
    )
    .await;
    let profile = |description: &'static str, size: &'static str| {
        [
            ("size", size),
            ("category", "HW-COLLECT"),
            ("description", description),
        ]
    };
    let response = supplier
        .post_form("/account/profile", &profile("专业收集废机油。", "小型"))
        .await;
    assert_eq!(location(&response), "/account/profile?saved=1");
    let jiangsu = reviewer(&app, "js-edit@example.com", "320000").await;
    submit(&supplier).await;
    decide(&app, &jiangsu, "approve").await;
    let (_, body) = api(&app, "q=吴江改资料").await;
    assert_eq!(body["total"], 1, "listed once approved: {body}");

    // Listed: an edit waits; the directory and the index keep the approved profile.
    let response = supplier
        .post_form("/account/profile", &profile("兼营废铅蓄电池回收。", "中型"))
        .await;
    assert_eq!(location(&response), "/account/profile?changes=1");
    // So does a new licence: it finds nothing before it is verified.
    let licence = [
        ("kind", "hw-licence"),
        ("number", "JSWJ-EDIT-49"),
        ("valid_to", "2029-12-31"),
        ("hw", "HW49"),
        ("mode", "收集"),
    ];
    let response = add_qualification(&supplier, &licence, Upload::pdf()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.state.search.catch_up().await.unwrap();
    for query in ["q=废铅蓄电池", "size=中型", "hw=HW49"] {
        let (_, body) = api(&app, query).await;
        assert_eq!(body["total"], 0, "{query} before approval: {body}");
    }
    let (_, html) = app.get_html(&format!("/services/suppliers/{org}")).await;
    assert!(
        html.contains("专业收集废机油") && !html.contains("废铅蓄电池"),
        "{html}"
    );
    assert!(
        !html.contains("profile-changes"),
        "the public does not see the edit"
    );
    // The supplier's form shows the edit, and says the directory does not yet.
    let (_, html) = supplier.get_html("/account/profile").await;
    assert!(
        html.contains("兼营废铅蓄电池回收") && html.contains("changes-waiting"),
        "{html}"
    );
    // An official list updates the e-mail meanwhile (the edit did not touch it).
    sqlx::query("UPDATE organisations SET contact_email = 'list@example.cn' WHERE id = $1")
        .bind(org)
        .execute(app.store.pool())
        .await
        .unwrap();
    // The reviewer sees what approval would change, and only that.
    let (_, html) = jiangsu
        .get_html(&format!("/services/suppliers/{org}"))
        .await;
    assert!(html.contains("profile-changes"), "{html}");
    assert!(html.contains("小型") && html.contains("中型"));
    assert!(
        !html.contains("服务类别</th>") && !html.contains("联系邮箱</th>"),
        "{html}"
    );

    // Submitted, what is reviewed stays as submitted until the decision; the page
    // says so before anyone types.
    submit(&supplier).await;
    let (_, html) = supplier.get_html("/account/profile").await;
    assert!(html.contains("locked-in-review"), "{html}");
    let response = supplier
        .post_form("/account/profile", &profile("审核中偷偷改的简介。", "大型"))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("审核中偷偷改的简介") && html.contains("正在审核中"),
        "{html}"
    );
    let response = add_qualification(&supplier, &licence, Upload::pdf()).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // A rejection keeps the listed profile and the edit, for the supplier to revise.
    decide(&app, &jiangsu, "reject").await;
    let (_, body) = api(&app, "q=吴江改资料").await;
    assert_eq!(body["total"], 1, "still listed: {body}");
    let (_, body) = api(&app, "q=废铅蓄电池").await;
    assert_eq!(body["total"], 0, "{body}");
    let (_, html) = supplier.get_html("/account/profile").await;
    assert!(html.contains("兼营废铅蓄电池回收"), "{html}");

    // Approval makes the fields it changed the profile; the list's e-mail stays.
    submit(&supplier).await;
    decide(&app, &jiangsu, "approve").await;
    for query in ["q=废铅蓄电池", "size=中型"] {
        let (_, body) = api(&app, query).await;
        assert_eq!(body["total"], 1, "{query}: {body}");
    }
    let (_, html) = app.get_html(&format!("/services/suppliers/{org}")).await;
    assert!(
        html.contains("兼营废铅蓄电池回收") && html.contains("list@example.cn"),
        "{html}"
    );
    assert_eq!(app.store.pending_profile(org).await.unwrap(), None);

    // An edit back to the listed profile drops a waiting one. (The browser sends
    // every field of the form, the e-mail as shown.)
    let form = |description: &'static str| {
        [
            ("size", "中型"),
            ("category", "HW-COLLECT"),
            ("description", description),
            ("contact_email", "list@example.cn"),
        ]
    };
    supplier
        .post_form("/account/profile", &form("另一段简介。"))
        .await;
    assert!(app.store.pending_profile(org).await.unwrap().is_some());
    let (_, html) = supplier.get_html("/account/profile").await;
    let email = "value=\"list@example.cn\"";
    assert!(
        html.contains(email),
        "the form shows the list's e-mail: {html}"
    );
    let response = supplier
        .post_form("/account/profile", &form("兼营废铅蓄电池回收。"))
        .await;
    assert_eq!(location(&response), "/account/profile?withdrawn=1");
    assert_eq!(app.store.pending_profile(org).await.unwrap(), None);
    assert_eq!(
        audit_count(&app, "supplier.profile.update", "success").await,
        4
    );
}

#[tokio::test]
async fn a_reviewer_takes_a_listed_supplier_out_of_the_directory_with_a_reason() {
    let app = spawn_app().await;
    let (supplier, org) = registered_supplier(
        &app,
        "91320509MA1KELF04",
        "吴江撤下示例有限公司",
        "unlist@example.com",
    )
    .await;
    supplier
        .post_form("/account/profile", &[("description", "危废收集。")])
        .await;
    let jiangsu = reviewer(&app, "js-unlist@example.com", "320000").await;
    submit(&supplier).await;
    decide(&app, &jiangsu, "approve").await;
    let (_, body) = api(&app, "q=吴江撤下").await;
    assert_eq!(body["total"], 1, "{body}");

    let path = format!("/review/suppliers/{org}/unlist");
    // Another province's reviewer does not see it; a reason is required.
    let shanghai = reviewer(&app, "sh-unlist@example.com", "310000").await;
    let response = shanghai.post_form(&path, &[("reason", "x")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = jiangsu.post_form(&path, &[("reason", " ")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = supplier.post_form(&path, &[("reason", "自己撤")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let (_, html) = jiangsu
        .get_html(&format!("/services/suppliers/{org}"))
        .await;
    assert!(html.contains(&path), "{html}");
    let response = jiangsu
        .post_form(&path, &[("reason", "营业执照已被吊销")])
        .await;
    assert_eq!(
        location(&response),
        format!("/services/suppliers/{org}?unlisted=1")
    );
    app.state.search.catch_up().await.unwrap();
    let (_, body) = api(&app, "q=吴江撤下").await;
    assert_eq!(body["total"], 0, "{body}");
    let (status, _) = app.get_html(&format!("/services/suppliers/{org}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html) = supplier.get_html("/account/profile").await;
    assert!(
        html.contains("营业执照已被吊销") && html.contains("尚未在名录中公开"),
        "{html}"
    );
    assert_eq!(audit_count(&app, "supplier.unlist", "success").await, 1);
    let told: String =
        sqlx::query_scalar("SELECT body FROM notifications WHERE title = '机构已从名录中撤下'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(told.contains("营业执照已被吊销"), "{told}");
    // Not listed any more: a second time is refused.
    let response = jiangsu.post_form(&path, &[("reason", "再撤一次")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Approved again, it is back.
    submit(&supplier).await;
    decide(&app, &jiangsu, "approve").await;
    let (_, body) = api(&app, "q=吴江撤下").await;
    assert_eq!(body["total"], 1, "{body}");
}

#[tokio::test]
async fn others_objects_answer_404_and_spot_checks_are_recorded_in_province() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    // A supplier cannot delete another organisation's qualification.
    let supplier = Visitor::new(&app);
    register_ok(
        &supplier,
        "supplier",
        &Registration::wujiang(
            &credit_code("91320509MA1KELF02"),
            "吴江他人示例有限公司",
            "other@example.com",
        ),
    )
    .await;
    let foreign: i64 =
        sqlx::query_scalar("SELECT id FROM qualifications WHERE organisation_id = $1")
            .bind(f.a)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let response = supplier
        .post_form(
            &format!("/account/profile/qualifications/{foreign}/delete"),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Its own unlisted page is visible to itself only.
    let own = organisation_of(&app, "other@example.com").await.unwrap();
    let (status, html) = supplier
        .get_html(&format!("/services/suppliers/{own}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("尚未通过协会审核"));
    assert_eq!(
        app.get(&format!("/services/suppliers/{own}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Suppliers do not review.
    let response = supplier
        .post_form(
            &format!("/review/suppliers/{}/spot-check", f.a),
            &[("note", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A reviewer of another province cannot mark 吴江's supplier.
    let shanghai = reviewer(&app, "sh@example.com", "310000").await;
    let response = shanghai
        .post_form(
            &format!("/review/suppliers/{}/spot-check", f.a),
            &[("note", "抽查许可证原件")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let jiangsu = reviewer(&app, "js@example.com", "320000").await;
    let response = jiangsu
        .post_form(
            &format!("/review/suppliers/{}/spot-check", f.a),
            &[("note", "抽查许可证原件")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let check: i64 = sqlx::query_scalar("SELECT id FROM supplier_spot_checks")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (_, html) = jiangsu.get_html("/review/suppliers").await;
    assert!(html.contains("抽查许可证原件"), "{html}");
    assert!(!html.contains("嘉善清油"), "B is 浙江's");
    let response = shanghai
        .post_form(
            &format!("/review/spot-checks/{check}"),
            &[("result", "passed"), ("outcome", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = jiangsu
        .post_form(
            &format!("/review/spot-checks/{check}"),
            &[("result", "failed"), ("outcome", "许可证原件与名录不符")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = jiangsu
        .get_html(&format!("/services/suppliers/{}", f.a))
        .await;
    assert!(html.contains("抽查不合格"), "{html}");
    assert_eq!(
        audit_count(&app, "supplier.spot_check.mark", "success").await,
        1
    );
    assert_eq!(
        audit_count(&app, "supplier.spot_check.record", "success").await,
        1
    );

    // 浙江's reviewer sees B's licence expiring soon in its watch list.
    let zhejiang = reviewer(&app, "zj@example.com", "330000").await;
    let (_, html) = zhejiang.get_html("/review/suppliers").await;
    assert!(html.contains("嘉善清油再生示例有限公司"), "{html}");
    assert!(html.contains("ZJJS330421002"));
}

#[tokio::test]
async fn admins_keep_the_guide_to_government_systems_grouped_by_topic() {
    let app = spawn_app().await;
    let (status, html) = app.get_html("/services").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("业务应用系统导航与指南"));
    assert!(html.contains("固体废物与危险废物"));
    assert!(html.contains(r#"<a href="http://permit.mee.gov.cn/" rel="noopener noreferrer">全国排污许可证管理信息平台</a>"#), "{html}");

    let admin = enrolled_admin(&app, "admin@example.com").await;
    let response = admin
        .visitor
        .post_form(
            "/admin/gov-systems",
            &[
                ("name", "长三角示范区一网通办专区"),
                ("topic", "政务服务（一网通办）"),
                ("url", "javascript:alert(1)"),
                ("region", "全国"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "only web addresses"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("长三角示范区一网通办专区"),
        "the form as typed: {html}"
    );
    let response = admin
        .visitor
        .post_form(
            "/admin/gov-systems",
            &[
                ("name", "长三角示范区一网通办专区"),
                ("topic", "政务服务（一网通办）"),
                ("url", ""),
                ("region", "上海市"),
                ("who_needs_it", "示范区内企业"),
                ("steps", "登录\n选择事项\n提交材料"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM gov_systems WHERE name = '长三角示范区一网通办专区'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let (_, html) = app.get_html("/services").await;
    assert!(
        html.contains("<li>选择事项</li>"),
        "steps are listed: {html}"
    );
    let response = admin
        .visitor
        .post_form(
            &format!("/admin/gov-systems/{id}"),
            &[
                ("name", "示范区一网通办专区"),
                ("topic", "政务服务（一网通办）"),
                ("url", "https://example.gov.cn/"),
                ("region", "上海市"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = admin
        .visitor
        .post_form(&format!("/admin/gov-systems/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    for action in [
        "gov_system.create",
        "gov_system.update",
        "gov_system.delete",
    ] {
        assert_eq!(audit_count(&app, action, "success").await, 1, "{action}");
    }
    // Not for others.
    let jiangsu = reviewer(&app, "js@example.com", "320000").await;
    let (status, _) = jiangsu.get_html("/admin/gov-systems").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = admin
        .visitor
        .post_form(&format!("/admin/gov-systems/{id}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
