//! Indexing throughput and query latency on synthetic organisation-like documents.
//!
//! `cargo bench -p greenbridge-search` (GB_BENCH_DOCS=N, default 20 000). Not part of
//! the test suite; prints its figures.

use std::time::{Duration, Instant};

use greenbridge_search::{
    CollectionSpec, Doc, Filter, SearchIndex, SearchRequest, TextField, analyzer,
};

static ORGANISATIONS: CollectionSpec = CollectionSpec {
    name: "organisations",
    version: 1,
    text_fields: &[
        TextField {
            name: "name",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "services",
            boost: 1.5,
            stored_for_snippet: true,
        },
        TextField {
            name: "profile",
            boost: 1.0,
            stored_for_snippet: true,
        },
    ],
    keyword_fields: &["region", "kind", "hw", "category"],
    number_fields: &["founded", "rating"],
};

const CITIES: &[(&str, &[&str])] = &[
    ("上海青浦", &["310000", "310100", "310118"]),
    ("苏州吴江", &["320000", "320500", "320509"]),
    ("苏州吴中", &["320000", "320500", "320506"]),
    ("嘉兴嘉善", &["330000", "330400", "330421"]),
    ("嘉兴南湖", &["330000", "330400", "330402"]),
    ("杭州", &["330000", "330100", "330106"]),
    ("南京", &["320000", "320100", "320104"]),
];
const BRANDS: &[&str] = &[
    "绿源", "清水", "蓝天", "净土", "恒信", "华泰", "瑞丰", "中科", "东方", "新锐", "博远", "天成",
];
const TRADES: &[&str] = &[
    "环保科技",
    "环境检测",
    "固废处置",
    "污水处理",
    "环境咨询",
    "再生资源",
    "环境工程",
    "危废处置",
];
const SERVICES: &[&str] = &[
    "危险废物收集、贮存、利用处置",
    "持有危险废物经营许可证",
    "废矿物油与含矿物油废物回收",
    "环境影响评价报告书、报告表编制",
    "排污许可证申请与执行报告",
    "环境监测、第三方检测，出具监测报告",
    "工业废水与生活污水处理，污水处理厂运营",
    "挥发性有机物（VOCs）治理，RTO 蓄热式焚烧炉",
    "土壤污染状况调查与污染地块修复",
    "清洁生产审核、环保管家服务",
    "一般工业固体废物综合利用",
    "废铅蓄电池、废电路板回收",
    "突发环境事件应急预案编制",
    "碳排放核查与碳足迹评价",
];
const HW: &[(&str, &str)] = &[
    ("HW08", "900-214-08"),
    ("HW09", "900-006-09"),
    ("HW49", "900-041-49"),
    ("HW31", "900-052-31"),
    ("HW12", "900-252-12"),
    ("HW17", "336-064-17"),
];

/// xorshift64*: deterministic documents without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn make_doc(i: usize, rng: &mut Rng) -> Doc {
    let (city, region) = *rng.pick(CITIES);
    let name = format!(
        "{city}{}{}有限公司{}",
        rng.pick(BRANDS),
        rng.pick(TRADES),
        if i.is_multiple_of(7) { "分公司" } else { "" }
    );
    let services: Vec<&str> = (0..3).map(|_| *rng.pick(SERVICES)).collect();
    let (hw, code) = *rng.pick(HW);
    let founded = 1995 + (rng.next() % 30) as i64;
    let profile = format!(
        "公司成立于{founded}年，统一社会信用代码91320509MA1{:07}X，注册地{city}。主要从事{}，\
         经营类别{hw}，废物代码{code}，年处理能力{}吨。服务长三角生态绿色一体化发展示范区企业。",
        i,
        services.join("；"),
        1000 + rng.next() % 50_000
    );
    Doc::new(format!("org-{i}"))
        .text("name", name)
        .text("services", services.join("；"))
        .text("profile", profile)
        .keywords("region", region.iter().copied())
        .keyword(
            "kind",
            if i.is_multiple_of(3) {
                "demand"
            } else {
                "supplier"
            },
        )
        .keyword("hw", hw)
        .keyword("category", format!("c{}", rng.next() % 12))
        .number("founded", founded)
        .number("rating", (rng.next() % 100) as i64)
}

fn main() {
    let n: usize = std::env::var("GB_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::TempDir::new().expect("temp dir");

    let t = Instant::now();
    analyzer::warm_up();
    println!("jieba + domain dictionary load: {:.0} ms", ms(t.elapsed()));

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let docs: Vec<Doc> = (0..n).map(|i| make_doc(i, &mut rng)).collect();
    let chars: usize = docs
        .iter()
        .flat_map(|d| d.text.iter())
        .map(|(_, v)| v.chars().count())
        .sum();

    let t = Instant::now();
    let mut analyzed = 0usize;
    for d in docs.iter().take(2000) {
        for (_, text) in &d.text {
            analyzed += analyzer::index_tokens(text).len();
        }
    }
    let per_doc = t.elapsed() / docs.len().min(2000) as u32;
    println!(
        "analyzer alone: {:.0} docs/s on one thread ({} tokens for {} docs)",
        1.0 / per_doc.as_secs_f64(),
        analyzed,
        docs.len().min(2000)
    );

    let index = SearchIndex::open(dir.path(), &ORGANISATIONS).expect("open");
    let t = Instant::now();
    for batch in docs.chunks(1000) {
        index.upsert(batch).expect("upsert");
    }
    index.commit().expect("commit");
    let took = t.elapsed();
    println!(
        "indexed {n} documents ({:.1} M characters) in {:.2} s: {:.0} docs/s",
        chars as f64 / 1e6,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    println!(
        "index size on disk: {:.1} MB",
        dir_size(index.dir()) as f64 / 1e6
    );

    let t = Instant::now();
    let changed: Vec<Doc> = (0..1000)
        .map(|i| make_doc(i * 7 % n.max(1), &mut rng))
        .collect();
    index.upsert(&changed).expect("upsert");
    index.commit().expect("commit");
    println!(
        "upsert of 1000 existing documents + commit: {:.0} ms",
        ms(t.elapsed())
    );
    assert_eq!(index.count(), n);

    let region = |code: &str| Filter::AnyOf {
        field: "region".to_string(),
        values: vec![code.to_string()],
    };
    let queries: Vec<(&str, SearchRequest)> = vec![
        ("危废许可", request("危废许可", vec![])),
        ("环评审批", request("环评审批", vec![])),
        ("废机油", request("废机油", vec![])),
        ("HW08", request("HW08", vec![])),
        ("900-214-08", request("900-214-08", vec![])),
        (
            "污水处理 region=320500",
            request("污水处理", vec![region("320500")]),
        ),
        (
            "危险废物 + facets",
            SearchRequest {
                facet_fields: vec!["region".into(), "hw".into(), "kind".into()],
                ..request("危险废物", vec![])
            },
        ),
        (
            "no query, region + range + facets",
            SearchRequest {
                q: None,
                filters: vec![
                    region("330400"),
                    Filter::Range {
                        field: "founded".into(),
                        min: Some(2005),
                        max: Some(2015),
                    },
                ],
                facet_fields: vec!["hw".into(), "category".into()],
                ..SearchRequest::default()
            },
        ),
        ("量子 计算 (relaxed, none)", request("量子 计算", vec![])),
    ];
    println!("query latency over 50 runs (20 hits with snippets):");
    for (label, req) in &queries {
        let first = index.search(req).expect("search");
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let r = index.search(req).expect("search");
            times.push(t.elapsed());
            assert_eq!(r.total, first.total);
        }
        times.sort_unstable();
        println!(
            "  {label:<36} total {:>6}{}  p50 {:>6.2} ms  p95 {:>6.2} ms",
            first.total,
            if first.relaxed { " (relaxed)" } else { "" },
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
        );
    }
}

fn request(q: &str, filters: Vec<Filter>) -> SearchRequest {
    SearchRequest {
        q: Some(q.to_string()),
        filters,
        ..SearchRequest::default()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
