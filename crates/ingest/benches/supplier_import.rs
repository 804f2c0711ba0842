//! Import of a large hazardous-waste licence list (issue 4, "Speed"): a generator writes
//! an XLSX of `GB_BENCH_ROWS` (default 100 000) synthetic licence holders in the
//! layout of the official lists (merged title row, two-row header, the four written
//! forms of categories, Excel and text dates); a fresh process then imports it into a
//! fresh database and reports the time of
//!
//! 0. parsing alone (XLSX read, header found, every row typed and checked),
//! 1. the first import (every row creates an organisation and its licence),
//! 2. a dry run of the same file (every row read and compared, rolled back),
//! 3. the second import (every row unchanged),
//!
//! and the peak resident memory of the importing process (`VmHWM` from
//! `/proc/self/status`; the generator runs in its own process so its memory does not
//! count). Target: the first import under 20 s.
//!
//! `GB_BENCH_DATABASE_URL` (default: a temporary SQLite file; a PostgreSQL URL must name
//! a scratch database: the bench adds rows), `GB_BENCH_ROWS`.
//!
//! `cargo bench -p greenbridge-ingest --bench supplier_import`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use greenbridge_domain::credit_code::check_character;
use greenbridge_ingest::ImportOptions;
use greenbridge_ingest::suppliers::{ListKind, RunSource, import_bytes, parse_list};
use greenbridge_store::Store;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Districts and how the lists write them.
const REGIONS: [(&str, &str); 8] = [
    ("310118", "上海市青浦区"),
    ("310117", "上海市松江区"),
    ("310116", "上海市金山区"),
    ("320509", "苏州市吴江区"),
    ("320583", "苏州市昆山市"),
    ("320412", "常州市武进区"),
    ("330421", "嘉兴市嘉善县"),
    ("330110", "杭州市余杭区"),
];

const TRADES: [&str; 8] = [
    "环保科技",
    "危废处置",
    "资源循环",
    "环境服务",
    "固废处理",
    "再生资源",
    "环境工程",
    "绿色能源",
];

const CATEGORIES: [&str; 6] = [
    "HW08（900-199-08、900-210-08、900-214-08）；HW09（900-006-09）",
    "废矿物油与含矿物油废物（HW08）：900-214-08；其他废物（HW49）：900-039-49、900-041-49",
    "HW49:900-039-49,900-041-49;HW50:900-049-50",
    "HW02、HW03、HW04、HW06、HW08、HW09、HW12、HW13、HW49（900-039-49、900-041-49；不含900-044-49）",
    "HW17（336-052-17、336-055-17）；HW22（398-005-22）；HW46（900-037-46）",
    "HW31（900-052-31）",
];

const MODES: [&str; 4] = [
    "收集、贮存",
    "收集、贮存、利用",
    "收集、贮存、处置（焚烧）",
    "收集、贮存、处置（安全填埋）",
];

/// A valid credit code for serial `n` in `district`.
fn credit_code(district: &str, n: usize) -> String {
    let body = format!("91{district}{:09}", n);
    let check = check_character(&body).expect("digits are in the alphabet");
    format!("{body}{check}")
}

fn generate(path: &Path, rows: usize) {
    let started = Instant::now();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let plain = Format::new();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    sheet
        .merge_range(
            0,
            0,
            0,
            15,
            "危险废物经营许可证持证单位名单（基准测试，虚构）",
            &plain,
        )
        .expect("title");
    let top = [
        "序号",
        "所在地",
        "许可证编号",
        "单位名称",
        "统一社会\n信用代码",
        "法定代表人 ",
        "注册地址",
        "经营设施地址",
        "核准经营内容",
        "",
        "",
        "有效期限",
        "",
        "发证机关",
        "发证日期",
        "备注",
    ];
    for (col, label) in top.iter().enumerate() {
        if !label.is_empty() {
            sheet.write_string(1, col as u16, *label).expect("header");
        }
    }
    for (col, label) in [
        (8, "经营方式"),
        (9, "核准经营危险废物类别及代码"),
        (10, "核准经营规模（吨/年）"),
        (11, "起"),
        (12, "止"),
    ] {
        sheet.write_string(2, col, label).expect("header");
    }
    for n in 0..rows {
        let row = n as u32 + 3;
        let (district, region) = REGIONS[n % REGIONS.len()];
        let trade = TRADES[(n / 7) % TRADES.len()];
        let name = format!("基准{n:06}{trade}有限公司");
        let year = 2022 + (n % 4) as u16;
        let month = 1 + (n % 12) as u8;
        let day = 1 + (n % 28) as u8;
        let from = ExcelDateTime::from_ymd(year, month, day).expect("date");
        let to = ExcelDateTime::from_ymd(year + 5, month, day).expect("date");
        sheet.write_number(row, 0, (n + 1) as f64).expect("cell");
        sheet.write_string(row, 1, region).expect("cell");
        sheet
            .write_string(row, 2, format!("{district}{n:07}"))
            .expect("cell");
        sheet.write_string(row, 3, &name).expect("cell");
        sheet
            .write_string(row, 4, credit_code(district, n))
            .expect("cell");
        sheet.write_string(row, 5, "张三").expect("cell");
        let address = format!("{region}测试路{}号", n % 5000 + 1);
        sheet.write_string(row, 6, &address).expect("cell");
        sheet.write_string(row, 7, &address).expect("cell");
        sheet
            .write_string(row, 8, MODES[n % MODES.len()])
            .expect("cell");
        sheet
            .write_string(row, 9, CATEGORIES[n % CATEGORIES.len()])
            .expect("cell");
        if n % 10 == 0 {
            sheet
                .write_string(row, 10, format!("{}.5万", n % 9 + 1))
                .expect("cell");
        } else {
            sheet
                .write_number(row, 10, ((n % 300) * 100 + 500) as f64)
                .expect("cell");
        }
        if n % 3 == 0 {
            sheet
                .write_string(row, 11, format!("{year}年{month}月{day}日"))
                .expect("cell");
        } else {
            sheet
                .write_datetime_with_format(row, 11, &from, &date_format)
                .expect("cell");
        }
        sheet
            .write_datetime_with_format(row, 12, &to, &date_format)
            .expect("cell");
        sheet.write_string(row, 13, "某市生态环境局").expect("cell");
        sheet
            .write_datetime_with_format(row, 14, &from, &date_format)
            .expect("cell");
        if n % 5 == 0 {
            sheet
                .write_string(row, 15, "收集范围限本行政区域")
                .expect("cell");
        }
    }
    workbook.save(path).expect("save xlsx");
    println!(
        "generated {rows} rows in {:.1} s: {} ({:.1} MB)",
        started.elapsed().as_secs_f64(),
        path.display(),
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn import_only(path: &Path) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("GB_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("bench.db").display()
        )
    });
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let baseline = vm_hwm_kb().unwrap_or(0);
    let bytes = std::fs::read(path).expect("read the generated list");
    let source = RunSource {
        file_name: "bench.xlsx".into(),
        file_id: None,
    };
    let started = Instant::now();
    let parsed = parse_list(&bytes, Some(ListKind::HwLicence)).expect("parse");
    println!(
        "parse only (XLSX read, header, {} rows typed): {:.2} s",
        parsed.records.len(),
        started.elapsed().as_secs_f64()
    );
    drop(parsed);
    let options = |dry_run: bool| ImportOptions {
        kind: Some("hw-licence".into()),
        dry_run,
        sample: false,
        now: 1_780_000_000,
        actor_account_id: None,
        partial: false,
    };
    for (label, dry_run) in [
        ("first import (all created)", false),
        ("dry run (all compared, rolled back)", true),
        ("second import (all unchanged)", false),
    ] {
        let started = Instant::now();
        let outcome = import_bytes(&store, &bytes, &source, &options(dry_run))
            .await
            .expect("import");
        println!(
            "{label}: {:.2} s — {}",
            started.elapsed().as_secs_f64(),
            outcome.report.summary()
        );
    }
    let peak = vm_hwm_kb().unwrap_or(0);
    println!(
        "peak resident memory of the importing process (VmHWM): {:.0} MB (after connecting: {:.0} MB)",
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0
    );
    store.close().await;
}

fn main() {
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next())
        && flag == "--import-only"
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(import_only(&PathBuf::from(path)));
        return;
    }
    let rows: usize = env_or("GB_BENCH_ROWS", 100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("licences.xlsx");
    generate(&path, rows);
    // The import runs in a process of its own, so that VmHWM is the importer's.
    let status = Command::new(std::env::current_exe().expect("own path"))
        .arg("--import-only")
        .arg(&path)
        .status()
        .expect("run the import process");
    assert!(status.success(), "import process failed: {status}");
}
