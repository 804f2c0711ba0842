//! 需求大厅 at scale: generates N synthetic notices (default 1 000 000; a title and a
//! few hundred characters of text each), builds the `notices` index from the database
//! (time and size on disk), then times "keyword + three filters" (region, type,
//! budget range)
//!
//! 1. in the search layer (`SearchIndex::search` with facets),
//! 2. through HTTP (`GET /api/v1/notices`: parameters, search, facets, rows from the
//!    database, JSON),
//! 3. as plain SQL `LIKE` over the same table (a capped number of queries),
//!
//! and the parser's throughput on the sample pages. Prints p50/p99 and the ratios.
//! Run with `cargo bench -p greenbridge-web --bench hall_search`; `NOTICES=100000`
//! for a smaller run, `QUERIES=400` for the sample size. Not a test: nothing is asserted.

mod common;

use common::{dir_size, report};
use greenbridge_ingest::notices::parse::{PageSource, parse_notice_page};
use greenbridge_search::{Filter, SearchRequest, Sort};
use greenbridge_store::Store;
use greenbridge_web::config::{Config, PasswordCost};
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const DISTRICTS: [(&str, &str); 12] = [
    ("310118", "上海市青浦区"),
    ("310117", "上海市松江区"),
    ("310116", "上海市金山区"),
    ("320509", "江苏省苏州市吴江区"),
    ("320583", "江苏省苏州市昆山市"),
    ("320506", "江苏省苏州市吴中区"),
    ("320412", "江苏省常州市武进区"),
    ("330421", "浙江省嘉兴市嘉善县"),
    ("330402", "浙江省嘉兴市南湖区"),
    ("330110", "浙江省杭州市余杭区"),
    ("330522", "浙江省湖州市长兴县"),
    ("310115", "上海市浦东新区"),
];
const TYPES: [&str; 6] = [
    "招标公告",
    "竞争性磋商公告",
    "询价公告",
    "中标(成交)结果公告",
    "更正公告",
    "终止公告",
];
const SERVICES: [(&str, &str); 10] = [
    ("环保管家服务", "CONS-STEWARD,CONS"),
    ("地表水环境质量监测服务", "MON-WATER,MON"),
    ("重点排污单位监督性监测", "MON,MON"),
    ("危险废物集中收集处置服务", "HW,HW"),
    ("农村生活污水处理设施运维服务", "WWO-RURAL,WWO"),
    ("建设项目环境影响评价技术咨询", "EIA,EIA"),
    ("地块土壤污染状况调查", "SOIL-SURVEY,SOIL"),
    ("大气挥发性有机物走航监测", "MON-AIR,MON"),
    ("污水处理厂第三方运维", "WWO,WWO"),
    ("突发环境事件应急预案修编", "EMERG-PLAN,EMERG"),
];
const PLACES: [&str; 10] = [
    "华新镇",
    "朱家角镇",
    "黎里镇",
    "盛泽镇",
    "西塘镇",
    "姚庄镇",
    "练塘镇",
    "汾湖高新区",
    "南湖街道",
    "长兴经济开发区",
];
const FILLER: &str = "为区域内重点企业和园区提供专业技术服务，包括现场踏勘、采样分析、台账检查、隐患排查、整改建议和月度报告；服务期内按采购人要求配备项目负责人和技术人员，执行国家和地方相关标准规范，按季度提交工作总结，接受采购人考核。投标人应具备相应的专业能力和类似项目业绩，拟派项目负责人须具有相关专业中级及以上职称。";

async fn generate(store: &Store, count: usize) -> anyhow::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = 1_764_288_000_i64;
    let batch = 500;
    for start in (0..count).step_by(batch) {
        let end = (start + batch).min(count);
        let mut sql = String::from(
            "INSERT INTO notices (id, title, notice_type, project_code, purchaser, region_code, \
             budget_fen, publish_date, publish_at, deadline, deadline_at, categories, body_text, \
             source_site, source_url, original_html, content_hash, state, sample, created_at, updated_at) VALUES ",
        );
        for n in start..end {
            let id = n as i64 + 1;
            let (district, place_name) = *rng.pick(&DISTRICTS);
            let (service, cats) = *rng.pick(&SERVICES);
            let place = *rng.pick(&PLACES);
            let kind = *rng.pick(&TYPES);
            let year = 2024 + rng.below(3);
            let month = 1 + rng.below(12);
            let day = 1 + rng.below(28);
            let date = format!("{year}-{month:02}-{day:02}");
            let title = format!("{place}{year}年度{service}项目{kind}");
            let purchaser = format!("{place_name}{place}生态环境服务中心{}", n % 500);
            let budget = if kind == "中标(成交)结果公告" || kind == "终止公告" {
                "NULL".to_string()
            } else {
                ((10 + rng.below(600)) as i64 * 1_000_000).to_string()
            };
            let body = format!(
                "项目编号：GB-{district}-{n}。{title}。采购人：{purchaser}，地址：{place_name}{place}。{FILLER}"
            );
            let publish_at = now - rng.below(900) as i64 * 86_400;
            if n != start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({id}, '{title}', '{kind}', 'GB-{district}-{n}', '{purchaser}', '{district}', {budget}, '{date}', {publish_at}, NULL, {}, '{cats}', '{body}', 'bench', 'bench:{id}', '', 'h{id}', 'open', 0, {now}, {now})",
                publish_at + 20 * 86_400,
            ));
        }
        sqlx::query(&sql).execute(store.pool()).await?;
    }
    Ok(())
}

struct Query {
    q: &'static str,
    region: &'static str,
    kind: &'static str,
    min_yuan: i64,
    max_yuan: i64,
}

fn queries() -> Vec<Query> {
    let keywords = [
        "环保管家",
        "水质监测",
        "危险废物",
        "土壤",
        "运维",
        "环评",
        "走航",
        "应急预案",
        "监测服务",
        "污水",
    ];
    let regions = ["310000", "320500", "330400", "310118", "320509", "330421"];
    let kinds = ["招标公告", "竞争性磋商公告", "询价公告"];
    let mut out = Vec::new();
    for (i, q) in keywords.iter().enumerate() {
        for (j, region) in regions.iter().enumerate() {
            out.push(Query {
                q,
                region,
                kind: kinds[(i + j) % kinds.len()],
                min_yuan: 100_000 * (1 + (i % 3) as i64),
                max_yuan: 3_000_000,
            });
        }
    }
    out
}

fn parser_throughput() -> f64 {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/notices");
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "html")
            && let Ok(text) = std::fs::read_to_string(entry.path())
        {
            pages.push(text);
        }
    }
    let source = PageSource {
        site: "bench",
        url: "bench",
        source_id: None,
        sample: false,
    };
    let rounds = 40;
    let started = Instant::now();
    let mut parsed = 0usize;
    for _ in 0..rounds {
        for page in &pages {
            if parse_notice_page(page, &source).is_ok() {
                parsed += 1;
            }
        }
    }
    parsed as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("NOTICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let samples: usize = std::env::var("QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);

    println!(
        "parser: {:.0} pages/s on the 30 sample pages",
        parser_throughput()
    );

    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let started = Instant::now();
    generate(&store, count).await?;
    println!(
        "generated {count} notices in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut config = Config::new(dir.path().to_path_buf());
    config.today = Some(time::macros::date!(2026 - 11 - 28));
    config.password_cost = PasswordCost::TESTING;
    config.search_interval_ms = 60_000;
    let started = Instant::now();
    // build_state rebuilds every index from the tables before it returns (the other
    // collections are empty here).
    let state = greenbridge_web::build_state(store.clone(), config).await?;
    let index = state.search.index("notices").expect("notices collection");
    println!(
        "index built in {:.1} s: {} documents, {:.1} MB on disk",
        started.elapsed().as_secs_f64(),
        index.count(),
        dir_size(index.dir()) as f64 / 1_048_576.0
    );
    let set = queries();

    let request = |q: &Query| SearchRequest {
        q: Some(q.q.to_string()),
        filters: vec![
            Filter::AnyOf {
                field: "region".into(),
                values: vec![q.region.into()],
            },
            Filter::AnyOf {
                field: "type".into(),
                values: vec![q.kind.into()],
            },
            Filter::Range {
                field: "budget".into(),
                min: Some(q.min_yuan * 100),
                max: Some(q.max_yuan * 100),
            },
        ],
        sort: Sort::Relevance,
        offset: 0,
        limit: 20,
        facet_fields: vec!["type".into(), "category".into(), "region".into()],
    };
    // One untimed pass over the distinct queries first: the index was just written and
    // its files are not yet in the page cache (the first figures would measure the disk).
    let cold_started = Instant::now();
    for q in &set {
        index.search(&request(q))?;
    }
    println!(
        "warm-up: {} queries in {:.1} s (cold index)",
        set.len(),
        cold_started.elapsed().as_secs_f64()
    );
    let mut layer = Vec::with_capacity(samples);
    let mut hits_total = 0usize;
    for i in 0..samples {
        let q = &set[i % set.len()];
        let r = request(q);
        let t = Instant::now();
        let results = index.search(&r)?;
        layer.push(t.elapsed());
        hits_total += results.total;
    }

    let address = common::serve(state.clone()).await?;
    let client = reqwest::Client::new();
    let bare = common::time_gets(&client, &format!("{address}/healthz"), 200).await?;
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut http = Vec::with_capacity(samples);
    for i in 0..samples {
        let q = &set[i % set.len()];
        let url = format!(
            "{address}/api/v1/notices?q={}&region={}&type={}&budget_min={}&budget_max={}",
            enc(q.q),
            q.region,
            enc(q.kind),
            q.min_yuan,
            q.max_yuan
        );
        let t = Instant::now();
        let response = client.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        http.push(t.elapsed());
        if !status.is_success() {
            anyhow::bail!("{url}: {status} {}", String::from_utf8_lossy(&body));
        }
    }

    // LIKE scans every row: at a million it takes seconds a query, so fewer are run.
    let like_cap = set.len().min(if count > 200_000 { 10 } else { 30 });
    let mut like = Vec::with_capacity(like_cap);
    let mut like_total = 0i64;
    for q in set.iter().take(like_cap) {
        let pattern = format!("%{}%", q.q);
        let prefix = format!("{}%", q.region.trim_end_matches('0'));
        let t = Instant::now();
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notices WHERE (title LIKE $1 OR body_text LIKE $1) \
             AND region_code LIKE $2 AND notice_type = $3 AND budget_fen BETWEEN $4 AND $5",
        )
        .bind(&pattern)
        .bind(&prefix)
        .bind(q.kind)
        .bind(q.min_yuan * 100)
        .bind(q.max_yuan * 100)
        .fetch_one(store.pool())
        .await?;
        let _page: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM notices WHERE (title LIKE $1 OR body_text LIKE $1) \
             AND region_code LIKE $2 AND notice_type = $3 AND budget_fen BETWEEN $4 AND $5 \
             ORDER BY publish_date DESC LIMIT 20",
        )
        .bind(&pattern)
        .bind(&prefix)
        .bind(q.kind)
        .bind(q.min_yuan * 100)
        .bind(q.max_yuan * 100)
        .fetch_all(store.pool())
        .await?;
        like.push(t.elapsed());
        like_total += n;
    }

    println!();
    println!(
        "{count} notices; {} distinct queries (keyword + region + type + budget range)",
        set.len()
    );
    let layer_times = report("search layer (facets)", layer);
    let http_times = report("HTTP /api/v1/notices (facets)", http);
    report("HTTP /healthz (bare route)", bare);
    let like_times = report("SQL LIKE (count + page)", like);
    println!(
        "mean hits per query: search {:.0}, SQL LIKE {:.0}",
        hits_total as f64 / samples as f64,
        like_total as f64 / like_cap as f64
    );
    common::print_like_ratios(layer_times, http_times, like_times);
    Ok(())
}
