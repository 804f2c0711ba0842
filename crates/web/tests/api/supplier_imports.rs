//! The supplier-list importer (惠企服务, issue 4): the three sample lists with their
//! deliberately bad rows, idempotent re-imports, newer lists and 不在最新名单, dry
//! runs, lists in other shapes (built here), the licence watch on the pinned clock,
//! and the upload page (preview, confirm with CSRF, permissions, audit log).

use std::collections::HashMap;

use crate::flows::{
    PASSWORD, Upload, Visitor, audit_count, enrolled_admin, insert_account, reviewer, server_now,
};
use crate::support::{TODAY, TestApp, credit_code, spawn_app, try_csrf_from, unescape_html};
use greenbridge_domain::role::Role;
use greenbridge_ingest::suppliers::{ListKind, RunSource, SupplierImport, import_bytes};
use greenbridge_ingest::{ImportOptions, IngestError};
use greenbridge_store::suppliers::{LicenceWatch, QualificationKind, WatchFilter};
use reqwest::StatusCode;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const HW: &[u8] = include_bytes!("../../../../samples/suppliers/hazardous_waste_licences.xlsx");
const MONITORING: &[u8] = include_bytes!("../../../../samples/suppliers/monitoring_agencies.csv");
const EIA: &[u8] = include_bytes!("../../../../samples/suppliers/eia_agencies.csv");

async fn import(
    app: &TestApp,
    kind: Option<ListKind>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<SupplierImport, IngestError> {
    let options = ImportOptions {
        kind: kind.map(|k| k.as_str().to_string()),
        dry_run,
        sample: false,
        now: server_now(),
        actor_account_id: None,
        partial: false,
    };
    let source = RunSource {
        file_name: "list".into(),
        file_id: None,
    };
    import_bytes(&app.store, bytes, &source, &options).await
}

async fn import_ok(app: &TestApp, kind: ListKind, bytes: &[u8]) -> SupplierImport {
    import(app, Some(kind), bytes, false)
        .await
        .unwrap_or_else(|e| panic!("import {}: {e}", kind.as_str()))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn rejected(outcome: &SupplierImport) -> Vec<(u64, String, String)> {
    outcome
        .report
        .rejected
        .iter()
        .map(|r| {
            (
                r.row.unwrap_or(0),
                r.field.clone().unwrap_or_default(),
                r.reason.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_sample_lists_keep_every_good_row_and_reject_each_bad_one_with_its_reason() {
    let app = spawn_app().await;

    let hw = import_ok(&app, ListKind::HwLicence, HW).await;
    assert_eq!(
        (
            hw.report.read,
            hw.report.created,
            hw.report.updated,
            hw.report.unchanged
        ),
        (64, 59, 0, 0)
    );
    let bad = rejected(&hw);
    let rows: Vec<u64> = bad.iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![12, 24, 36, 50, 61], "{bad:#?}");
    assert!(bad[0].2.contains("校验位"), "{}", bad[0].2);
    assert_eq!(bad[1].1, "单位名称");
    assert!(bad[2].2.contains("HW99"));
    assert!(bad[3].2.contains("负数"));
    assert!(bad[4].2.contains("2026-02-30"));

    let monitoring = import_ok(&app, ListKind::Monitoring, MONITORING).await;
    assert_eq!(
        (monitoring.report.read, monitoring.report.created),
        (50, 45)
    );
    let rows: Vec<u64> = rejected(&monitoring).iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![8, 16, 24, 36, 44]);
    assert!(rejected(&monitoring)[4].2.contains("第5位"));

    // Three EIA agencies are labs already: one organisation per credit code.
    let eia = import_ok(&app, ListKind::Eia, EIA).await;
    assert_eq!(
        (eia.report.read, eia.report.created, eia.report.updated),
        (40, 32, 3)
    );
    let bad = rejected(&eia);
    let rows: Vec<u64> = bad.iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![6, 14, 22, 30, 38]);
    assert!(bad[4].2.contains("与第13行重复"), "{}", bad[4].2);

    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        59 + 45 + 32
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM qualifications").await,
        59 + 45 + 35
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM organisations WHERE listed = 1 AND side = 'supplier'"
        )
        .await,
        136
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM supplier_import_runs").await,
        3
    );

    // The lab that is also an EIA agency holds both qualifications.
    let org = app
        .store
        .organisation_by_code(&"91310118501207069W".parse().expect("code"))
        .await
        .expect("read")
        .expect("exists");
    let kinds: Vec<QualificationKind> = app
        .store
        .qualifications_of(org.id)
        .await
        .expect("qualifications")
        .iter()
        .map(|q| q.kind)
        .collect();
    assert_eq!(kinds, vec![QualificationKind::Cma, QualificationKind::Eia]);
    let profile = app.store.supplier_profile(org.id).await.expect("profile");
    assert!(profile.service_categories.contains(&"MON".to_string()));
    assert!(profile.service_categories.contains(&"EIA".to_string()));
    assert_eq!(profile.list_source, "monitoring");

    // Row 16's licence: HW49 without the excluded 900-044-49; 2.5万 stored exactly.
    let org = app
        .store
        .organisation_by_code(&"91310116MAAD7TPU96".parse().expect("code"))
        .await
        .expect("read")
        .expect("exists");
    let licence = &app.store.qualifications_of(org.id).await.expect("read")[0];
    let hw49 = licence
        .hw_categories
        .iter()
        .find(|c| c.category == "HW49")
        .expect("HW49");
    assert_eq!(hw49.excluded_codes, vec!["900-044-49"]);
    assert!(!hw49.waste_codes.contains(&"900-044-49".to_string()));
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(capacity_kg) AS BIGINT) FROM qualifications WHERE kind = 'hw-licence'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("sum");
    assert_eq!(total, Some(983_600_000));

    // Every organisation reached the search outbox.
    assert!(
        count(
            &app,
            "SELECT COUNT(DISTINCT doc_id) FROM search_outbox WHERE collection = 'organisations'"
        )
        .await
            >= 136
    );
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let app = spawn_app().await;
    import_ok(&app, ListKind::HwLicence, HW).await;
    import_ok(&app, ListKind::Monitoring, MONITORING).await;
    import_ok(&app, ListKind::Eia, EIA).await;
    let outbox = count(&app, "SELECT COUNT(*) FROM search_outbox").await;
    let stamps = count(
        &app,
        "SELECT CAST(SUM(updated_at) AS BIGINT) FROM qualifications",
    )
    .await;

    for (kind, bytes, rows) in [
        (ListKind::HwLicence, HW, 59),
        (ListKind::Monitoring, MONITORING, 45),
        (ListKind::Eia, EIA, 35),
    ] {
        let again = import_ok(&app, kind, bytes).await;
        assert_eq!(
            (
                again.report.created,
                again.report.updated,
                again.report.unchanged
            ),
            (0, 0, rows),
            "{}",
            kind.as_str()
        );
        assert_eq!(again.report.rejected.len(), 5);
        assert!(again.not_in_latest.is_empty());
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, 136);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM search_outbox").await,
        outbox
    );
    assert_eq!(
        count(
            &app,
            "SELECT CAST(SUM(updated_at) AS BIGINT) FROM qualifications"
        )
        .await,
        stamps
    );
}

#[tokio::test]
async fn a_dry_run_reports_the_same_and_commits_nothing() {
    let app = spawn_app().await;
    let preview = import(&app, Some(ListKind::HwLicence), HW, true)
        .await
        .expect("dry run");
    assert!(preview.report.dry_run);
    assert_eq!(preview.run_id, None);
    for table in [
        "organisations",
        "qualifications",
        "qualification_hw_categories",
        "supplier_import_runs",
        "search_outbox",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    let real = import_ok(&app, ListKind::HwLicence, HW).await;
    let mut expected = preview.report.clone();
    expected.dry_run = false;
    assert_eq!(real.report, expected);
}

/// One row of a licence list built in a test.
struct Licence {
    seq: u32,
    region: &'static str,
    number: &'static str,
    name: &'static str,
    code: String,
    modes: &'static str,
    categories: &'static str,
    capacity_t: f64,
    from: (u16, u8, u8),
    to: (u16, u8, u8),
    note: &'static str,
}

fn licence(seq: u32, number: &'static str, name: &'static str, body: &str) -> Licence {
    Licence {
        seq,
        region: "苏州市吴江区",
        number,
        name,
        code: credit_code(body),
        modes: "收集、贮存、利用",
        categories: "HW08（900-214-08）；HW49（900-039-49）",
        capacity_t: 5000.0,
        from: (2024, 1, 1),
        to: (2029, 12, 31),
        note: "",
    }
}

/// A licence list in the sample's layout: a merged title row, one header row.
fn plain_licence_list(licences: &[Licence]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let headers = [
        "序号",
        "所在地",
        "许可证编号",
        "单位名称",
        "统一社会信用代码",
        "经营方式",
        "核准经营危险废物类别及代码",
        "核准经营规模（吨/年）",
        "有效期起",
        "有效期至",
        "发证机关",
        "备注",
    ];
    sheet
        .merge_range(
            0,
            0,
            0,
            11,
            "危险废物经营许可证持证单位名单（测试）",
            &Format::new(),
        )
        .expect("title");
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string(1, col as u16, *header).expect("header");
    }
    for (i, l) in licences.iter().enumerate() {
        let row = i as u32 + 2;
        let text = |d: (u16, u8, u8)| format!("{}-{:02}-{:02}", d.0, d.1, d.2);
        sheet.write_number(row, 0, l.seq).expect("cell");
        sheet.write_string(row, 1, l.region).expect("cell");
        sheet.write_string(row, 2, l.number).expect("cell");
        sheet.write_string(row, 3, l.name).expect("cell");
        sheet.write_string(row, 4, l.code.as_str()).expect("cell");
        sheet.write_string(row, 5, l.modes).expect("cell");
        sheet.write_string(row, 6, l.categories).expect("cell");
        sheet.write_number(row, 7, l.capacity_t).expect("cell");
        sheet.write_string(row, 8, text(l.from)).expect("cell");
        sheet.write_string(row, 9, text(l.to)).expect("cell");
        sheet
            .write_string(row, 10, "苏州市生态环境局")
            .expect("cell");
        sheet.write_string(row, 11, l.note).expect("cell");
    }
    workbook.save_to_buffer().expect("xlsx")
}

/// The same list as real life sends it: two title rows, another column order, extra
/// columns, full-width header text, capacity in 万吨/年 (header) and Excel dates.
fn reshaped_licence_list(licences: &[Licence]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date_format = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    sheet
        .merge_range(0, 0, 0, 10, "附件：持证单位名单", &Format::new())
        .expect("title");
    sheet
        .merge_range(1, 0, 1, 10, "（截至2026年10月31日）", &Format::new())
        .expect("note");
    let headers = [
        "内部备查号",
        "统一社会信用代码（ＵＳＣＣ）",
        "持证单位名称",
        "经营许可证编号",
        "有效期止",
        "有效期起",
        "经营规模（万吨／年）",
        "危险废物类别",
        "经营方式",
        "所在地区",
        "发证机关",
    ];
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string(2, col as u16, *header).expect("header");
    }
    for (i, l) in licences.iter().enumerate() {
        let row = i as u32 + 3;
        let date = |d: (u16, u8, u8)| ExcelDateTime::from_ymd(d.0, d.1, d.2).expect("date");
        sheet
            .write_string(row, 0, format!("X-{}", l.seq))
            .expect("cell");
        sheet
            .write_string(row, 1, format!(" {} ", l.code.to_lowercase()))
            .expect("cell");
        sheet
            .write_string(row, 2, format!("{}\u{3000}", l.name))
            .expect("cell");
        sheet.write_string(row, 3, l.number).expect("cell");
        sheet
            .write_datetime_with_format(row, 4, date(l.to), &date_format)
            .expect("cell");
        sheet
            .write_datetime_with_format(row, 5, date(l.from), &date_format)
            .expect("cell");
        sheet
            .write_number(row, 6, l.capacity_t / 10_000.0)
            .expect("cell");
        sheet.write_string(row, 7, l.categories).expect("cell");
        sheet.write_string(row, 8, l.modes).expect("cell");
        sheet.write_string(row, 9, l.region).expect("cell");
        sheet
            .write_string(row, 10, "苏州市生态环境局")
            .expect("cell");
    }
    workbook.save_to_buffer().expect("xlsx")
}

fn three_licences() -> Vec<Licence> {
    vec![
        licence(
            1,
            "JS0509OOI101",
            "苏州测试甲环保科技有限公司",
            "91320509MA1TEXT01",
        ),
        licence(
            2,
            "JS0509OOI102",
            "苏州测试乙环保科技有限公司",
            "91320509MA1TEXT02",
        ),
        licence(
            3,
            "JS0509OOI103",
            "苏州测试丙环保科技有限公司",
            "91320509MA1TEXT03",
        ),
    ]
}

/// The list of [`three_licences`], committed.
async fn import_three_licences(app: &TestApp) -> SupplierImport {
    import_ok(
        app,
        ListKind::HwLicence,
        &plain_licence_list(&three_licences()),
    )
    .await
}

#[tokio::test]
async fn a_newer_list_updates_validity_and_capacity_and_marks_what_it_no_longer_carries() {
    let app = spawn_app().await;
    let first = import_three_licences(&app).await;
    assert_eq!(first.report.created, 3);

    // The newer list: 甲 renewed with more capacity, 乙 as before, 丙 gone, 丁 new.
    let mut newer = three_licences();
    newer.remove(2);
    newer[0].to = (2031, 6, 30);
    newer[0].capacity_t = 7500.5;
    newer.push(licence(
        4,
        "JS0509OOI104",
        "苏州测试丁环保科技有限公司",
        "91320509MA1TEXT04",
    ));
    let second = import_ok(&app, ListKind::HwLicence, &plain_licence_list(&newer)).await;
    assert_eq!(
        (
            second.report.created,
            second.report.updated,
            second.report.unchanged
        ),
        (1, 1, 1)
    );
    assert_eq!(second.not_in_latest.len(), 1);
    assert_eq!(second.not_in_latest[0].number, "JS0509OOI103");

    let by_number = |number: &str| {
        sqlx::query_as::<_, (i64, Option<String>, Option<i64>, i64)>(
            "SELECT organisation_id, valid_to, capacity_kg, not_in_latest FROM qualifications \
             WHERE number = $1",
        )
        .bind(number.to_string())
        .fetch_one(app.store.pool())
    };
    let renewed = by_number("JS0509OOI101").await.expect("甲");
    assert_eq!(renewed.1.as_deref(), Some("2031-06-30"));
    assert_eq!(renewed.2, Some(7_500_500));
    assert_eq!(renewed.3, 0);
    let gone = by_number("JS0509OOI103").await.expect("丙 is kept");
    assert_eq!(gone.3, 1, "丙 is marked 不在最新名单");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM qualifications").await, 4);
    let flagged = app
        .store
        .qualifications_not_in_latest(Some("32"))
        .await
        .expect("list");
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].organisation_name, "苏州测试丙环保科技有限公司");

    // The newer list again: nothing changes, nothing more is marked.
    let again = import_ok(&app, ListKind::HwLicence, &plain_licence_list(&newer)).await;
    assert_eq!((again.report.updated, again.report.unchanged), (0, 3));
    assert!(again.not_in_latest.is_empty());

    // A list that carries 丙 again clears its mark (and marks 丁, which it lacks).
    let back = import_ok(
        &app,
        ListKind::HwLicence,
        &plain_licence_list(&three_licences()),
    )
    .await;
    assert_eq!(by_number("JS0509OOI103").await.expect("丙").3, 0);
    assert_eq!(back.not_in_latest.len(), 1);
    assert_eq!(back.not_in_latest[0].number, "JS0509OOI104");
}

#[tokio::test]
async fn a_partial_list_adds_and_updates_and_marks_nothing_missing() {
    let app = spawn_app().await;
    import_three_licences(&app).await;
    let mut newer = vec![three_licences().remove(0)];
    newer[0].capacity_t = 9000.0;
    newer.push(licence(
        4,
        "JS0509OOI104",
        "苏州测试丁环保科技有限公司",
        "91320509MA1TEXT04",
    ));
    let options = ImportOptions {
        kind: Some("hw-licence".into()),
        partial: true,
        now: server_now(),
        ..ImportOptions::default()
    };
    let source = RunSource {
        file_name: "补充名单.xlsx".into(),
        file_id: None,
    };
    let outcome = import_bytes(&app.store, &plain_licence_list(&newer), &source, &options)
        .await
        .expect("imports");
    assert_eq!((outcome.report.created, outcome.report.updated), (1, 1));
    assert!(outcome.not_in_latest.is_empty());
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM qualifications WHERE not_in_latest = 1"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_licence_in_a_refused_row_is_not_taken_as_missing_from_the_list() {
    let app = spawn_app().await;
    import_three_licences(&app).await;
    let mut newer = three_licences();
    newer[2].categories = "HW99（900-999-99）";
    let outcome = import_ok(&app, ListKind::HwLicence, &plain_licence_list(&newer)).await;
    assert_eq!(outcome.report.rejected.len(), 1);
    assert_eq!(outcome.report.rejected[0].row, Some(5));
    assert!(outcome.not_in_latest.is_empty());
}

#[tokio::test]
async fn lists_in_other_shapes_read_the_same() {
    let app = spawn_app().await;
    let licences = three_licences();
    let plain = import_ok(&app, ListKind::HwLicence, &plain_licence_list(&licences)).await;
    assert_eq!(plain.report.created, 3);
    // Reordered, extra columns, title rows, full-width headers, 万吨/年, Excel dates,
    // lower-case codes with spaces, a trailing full-width space: the same content.
    let reshaped = import(&app, None, &reshaped_licence_list(&licences), false)
        .await
        .expect("recognised without --kind");
    assert_eq!(reshaped.kind, ListKind::HwLicence);
    assert!(
        reshaped.report.rejected.is_empty(),
        "{:?}",
        reshaped.report.rejected
    );
    assert_eq!(reshaped.report.unchanged, 3, "{:?}", reshaped.report);

    // A monitoring list with columns in another order and an extra column, as CSV.
    let code = credit_code("91310118MA1CXY001");
    let csv = format!(
        "网址,有效期至,机构名称,资质认定证书编号,统一社会信用代码,所在地区,联系电话,检测能力范围,能力参数（项）,发证日期\n\
         https://example.cn,2030/1/2,上海测试检测有限公司,240912059999,{code},上海市青浦区,０２１－５９９９１２３４转８０１,\"水和废水；噪声和振动\",１２０项,2024年1月3日\n"
    );
    let outcome = import(&app, None, csv.as_bytes(), false)
        .await
        .expect("csv");
    assert_eq!(outcome.kind, ListKind::Monitoring);
    assert_eq!(outcome.report.created, 1, "{:?}", outcome.report);
    let org = app
        .store
        .organisation_by_code(&code.parse().expect("code"))
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(org.region_code, "310118");
    assert_eq!(org.contact_phone, "021-59991234");
    let cma = &app.store.qualifications_of(org.id).await.expect("read")[0];
    assert_eq!(cma.number, "240912059999");
    assert_eq!(cma.scope, "水和废水、噪声和振动");
    assert_eq!(cma.scope_items, Some(120));
    assert_eq!(cma.valid_to, Some(time::macros::date!(2030 - 01 - 02)));
    assert_eq!(cma.valid_from, Some(time::macros::date!(2024 - 01 - 03)));
}

#[tokio::test]
async fn a_file_that_is_not_a_list_gets_one_clear_message() {
    let app = spawn_app().await;
    for bytes in [
        &b"%PDF-1.4 not a list"[..],
        "姓名,年龄\n张三,30\n".as_bytes(),
        &b"PK\x03\x04 a broken zip"[..],
    ] {
        match import(&app, None, bytes, false).await {
            Err(IngestError::Unreadable(message)) => assert!(!message.is_empty()),
            other => panic!("expected Unreadable, got {other:?}"),
        }
    }
    match import(&app, Some(ListKind::HwLicence), EIA, false).await {
        Err(IngestError::Unreadable(message)) => {
            assert!(message.contains("危险废物经营许可证"), "{message}")
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, 0);
}

#[tokio::test]
async fn the_licence_watch_follows_the_pinned_clock() {
    let app = spawn_app().await;
    let mut licences = three_licences();
    let day = |d: time::Date| (d.year() as u16, u8::from(d.month()), d.day());
    licences[0].to = day(TODAY + time::Duration::days(30));
    licences[1].to = day(TODAY - time::Duration::days(1));
    licences[2].to = day(TODAY + time::Duration::days(200));
    import_ok(&app, ListKind::HwLicence, &plain_licence_list(&licences)).await;

    let soon = app
        .store
        .expiring_qualifications(TODAY, &WatchFilter::default())
        .await
        .expect("watch");
    let numbers: Vec<&str> = soon
        .iter()
        .map(|e| e.qualification.number.as_str())
        .collect();
    assert_eq!(numbers, vec!["JS0509OOI101"]);
    assert_eq!(
        soon[0].qualification.watch(TODAY),
        LicenceWatch::ExpiringSoon { days_left: 30 }
    );
    let with_expired = app
        .store
        .expiring_qualifications(
            TODAY,
            &WatchFilter {
                include_expired: true,
                region_prefix: Some("32"),
                ..WatchFilter::default()
            },
        )
        .await
        .expect("watch");
    let states: HashMap<String, LicenceWatch> = with_expired
        .iter()
        .map(|e| (e.qualification.number.clone(), e.qualification.watch(TODAY)))
        .collect();
    assert_eq!(
        states["JS0509OOI102"],
        LicenceWatch::Expired { days_ago: 1 }
    );
    assert!(!states["JS0509OOI102"].is_valid());
    assert_eq!(states.len(), 2);
    let none_in_shanghai = app
        .store
        .expiring_qualifications(
            TODAY,
            &WatchFilter {
                region_prefix: Some("31"),
                ..WatchFilter::default()
            },
        )
        .await
        .expect("watch");
    assert!(none_in_shanghai.is_empty());
}

// ---------------------------------------------------------------------------
// The upload page

const PAGE: &str = "/admin/imports/suppliers";

fn xlsx_upload(bytes: &[u8]) -> Upload {
    Upload {
        file_name: "持证单位名单.xlsx",
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes: bytes.to_vec(),
    }
}

async fn upload(visitor: &Visitor, kind: &str, file: Upload) -> (StatusCode, String) {
    let response = visitor
        .post_multipart(
            PAGE,
            &[("kind".to_string(), kind.to_string())],
            Some(("file", file)),
        )
        .await;
    let status = response.status();
    (status, unescape_html(&response.text().await.expect("body")))
}

fn confirm_action(html: &str) -> String {
    let start = html
        .find("/admin/imports/suppliers/")
        .expect("a confirm form");
    let rest = &html[start..];
    rest[..rest.find('"').expect("end of action")].to_string()
}

#[tokio::test]
async fn an_admin_previews_an_upload_then_confirms_it() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    let (status, html) = admin.visitor.get_html(PAGE).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("供应商名单导入"));

    let (status, html) = upload(&admin.visitor, "hw-licence", xlsx_upload(HW)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("导入预览"), "{html}");
    assert!(html.contains(r#"<dd id="count-created">59</dd>"#));
    assert!(html.contains(r#"<dd id="count-rejected">5</dd>"#));
    assert!(
        html.contains("<td>12</td><td>统一社会信用代码</td>"),
        "{html}"
    );
    assert!(html.contains("HW99"));
    // Nothing is committed by the preview.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, 0);
    assert_eq!(
        audit_count(&app, "supplier_import.preview", "success").await,
        1
    );

    let action = confirm_action(&html);
    let token = try_csrf_from(&html).expect("csrf");
    let response = admin
        .visitor
        .client
        .post(admin.visitor.url(&action))
        .form(&[("_csrf", token.as_str()), ("kind", "hw-licence")])
        .send()
        .await
        .expect("confirm");
    assert_eq!(response.status(), StatusCode::OK);
    let html = unescape_html(&response.text().await.expect("body"));
    assert!(html.contains("导入完成"), "{html}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, 59);
    assert_eq!(
        audit_count(&app, "supplier_import.commit", "success").await,
        1
    );
    let run_file: Option<i64> =
        sqlx::query_scalar("SELECT file_id FROM supplier_import_runs ORDER BY id DESC LIMIT 1")
            .fetch_one(app.store.pool())
            .await
            .expect("run");
    assert!(run_file.is_some());
    let (_, page) = admin.visitor.get_html(PAGE).await;
    assert!(page.contains("持证单位名单.xlsx"));
}

#[tokio::test]
async fn a_reviewer_imports_the_rows_of_their_own_province_only() {
    let app = spawn_app().await;
    let reviewer = reviewer(&app, "reviewer@example.cn", "310000").await;
    let file = Upload {
        file_name: "monitoring.csv",
        mime: "text/csv",
        bytes: MONITORING.to_vec(),
    };
    let (status, html) = upload(&reviewer, "", file).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("导入预览：生态环境监测机构"),
        "recognised: {html}"
    );
    // The list covers the whole zone: the rows of 江苏 and 浙江 are refused.
    assert!(
        html.contains("不在上海市：协会审核员只能导入本省单位"),
        "{html}"
    );
    let action = confirm_action(&html);
    let response = reviewer
        .client
        .post(reviewer.url(&action))
        .form(&[
            ("_csrf", try_csrf_from(&html).expect("csrf").as_str()),
            ("kind", "monitoring"),
        ])
        .send()
        .await
        .expect("confirm");
    assert_eq!(response.status(), StatusCode::OK);
    let shanghai = count(
        &app,
        "SELECT COUNT(*) FROM organisations WHERE region_code LIKE '31%'",
    )
    .await;
    assert!(shanghai > 10, "{shanghai}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        shanghai
    );
    // An admin imports the whole list.
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    let file = Upload {
        file_name: "monitoring.csv",
        mime: "text/csv",
        bytes: MONITORING.to_vec(),
    };
    let (status, html) = upload(&admin.visitor, "", file).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("请由所在省份的协会或管理员导入"), "{html}");
}

#[tokio::test]
async fn a_province_s_list_marks_only_that_province_s_licences_as_missing() {
    let app = spawn_app().await;
    import_three_licences(&app).await;
    // 上海's list carries none of 吴江's licences: they stay as they are.
    let mut shanghai = licence(
        1,
        "SH0118OOI201",
        "上海测试戊环保科技有限公司",
        "91310118MA1TEXT05",
    );
    shanghai.region = "上海市青浦区";
    let outcome = import_ok(&app, ListKind::HwLicence, &plain_licence_list(&[shanghai])).await;
    assert_eq!(outcome.report.created, 1);
    assert!(
        outcome.not_in_latest.is_empty(),
        "{:?}",
        outcome.not_in_latest
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM qualifications WHERE not_in_latest = 1"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn only_admins_and_reviewers_reach_the_import_page() {
    let app = spawn_app().await;
    let anonymous = Visitor::new(&app);
    let response = anonymous.get(PAGE).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    insert_account(
        &app,
        "supplier@example.cn",
        "供应商",
        Role::Supplier,
        None,
        PASSWORD,
    )
    .await;
    let supplier = Visitor::new(&app);
    supplier.login_ok("supplier@example.cn", PASSWORD).await;
    assert_eq!(supplier.get(PAGE).await.status(), StatusCode::FORBIDDEN);
    let (status, _) = upload(&supplier, "hw-licence", xlsx_upload(HW)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files").await, 0);
}

#[tokio::test]
async fn confirming_needs_the_csrf_token_and_the_uploaders_own_file() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    let (_, html) = upload(&admin.visitor, "hw-licence", xlsx_upload(HW)).await;
    let action = confirm_action(&html);

    let without_token = admin
        .visitor
        .client
        .post(admin.visitor.url(&action))
        .form(&[("kind", "hw-licence")])
        .send()
        .await
        .expect("post");
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);

    let other = reviewer(&app, "reviewer@example.cn", "320000").await;
    let response = other.post_form(&action, &[("kind", "hw-licence")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM organisations").await, 0);
}

#[tokio::test]
async fn an_upload_that_is_not_a_list_is_refused_with_a_message() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    let (status, html) = upload(&admin.visitor, "", Upload::pdf()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("文件内容不是允许的格式"), "{html}");

    let not_a_list = Upload {
        file_name: "people.csv",
        mime: "text/csv",
        bytes: "姓名,年龄\n张三,30\n".as_bytes().to_vec(),
    };
    let (status, html) = upload(&admin.visitor, "", not_a_list).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("import-error"), "{html}");
    assert_eq!(
        audit_count(&app, "supplier_import.preview", "failure").await,
        2
    );
    // The refused list is not kept.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM files").await, 0);
}

#[tokio::test]
async fn the_page_imports_a_partial_list_without_marking_when_asked() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "admin@example.cn").await;
    import_three_licences(&app).await;
    let newer = vec![three_licences().remove(0)];
    // As a full list, two licences would be marked.
    let (_, html) = upload(
        &admin.visitor,
        "hw-licence",
        xlsx_upload(&plain_licence_list(&newer)),
    )
    .await;
    assert!(
        html.contains(r#"<dd id="count-not-in-latest">2</dd>"#),
        "{html}"
    );
    // As a partial list, none; the choice is carried to the confirmation.
    let response = admin
        .visitor
        .post_multipart(
            PAGE,
            &[
                ("kind".to_string(), "hw-licence".to_string()),
                ("partial".to_string(), "true".to_string()),
            ],
            Some(("file", xlsx_upload(&plain_licence_list(&newer)))),
        )
        .await;
    let html = unescape_html(&response.text().await.expect("body"));
    assert!(
        html.contains(r#"<dd id="count-not-in-latest">0</dd>"#),
        "{html}"
    );
    assert!(html.contains(r#"<input type="hidden" name="partial" value="true">"#));
    let action = confirm_action(&html);
    let response = admin
        .visitor
        .client
        .post(admin.visitor.url(&action))
        .form(&[
            ("_csrf", try_csrf_from(&html).expect("csrf").as_str()),
            ("kind", "hw-licence"),
            ("partial", "true"),
        ])
        .send()
        .await
        .expect("confirm");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM qualifications WHERE not_in_latest = 1"
        )
        .await,
        0
    );
}
