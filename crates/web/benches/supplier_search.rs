//! Supplier search at scale: generates N synthetic organisations with qualifications
//! (default 100 000), builds the index, then times a mixed set of "keyword + three
//! filters" queries
//!
//! 1. in the search layer (`SearchIndex::search` with facets and snippets),
//! 2. through HTTP (`GET /api/v1/suppliers`: parsing, search, facets, highlights, the
//!    page's rows read from the database, JSON),
//! 3. as a plain SQL `LIKE` query over the same tables (a capped number of queries),
//!
//! and prints p50/p99 of each and the ratio. Run with
//! `cargo bench -p greenbridge-web --bench supplier_search` (release); `SUPPLIERS=20000`
//! for a smaller run, `QUERIES=400` to change the sample size. Not a test: nothing is
//! asserted.

mod common;

use common::report;
use greenbridge_search::collections::organisations::days_of;
use greenbridge_store::Store;
use greenbridge_web::config::{Config, PasswordCost};
use std::time::Instant;

const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid credit code for organisation `n` in `region`.
fn credit_code(region: &str, n: usize) -> String {
    let mut body = format!("91{region}");
    let mut rest = n;
    let mut tail = Vec::new();
    for _ in 0..9 {
        tail.push(ALPHABET.as_bytes()[rest % 31] as char);
        rest /= 31;
    }
    body.extend(tail.iter().rev());
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| ALPHABET.find(c).unwrap_or(0) as u32 * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    body.push(ALPHABET.as_bytes()[check as usize] as char);
    body
}

/// A small deterministic generator (xorshift), so every run has the same data.
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

const DISTRICTS: [&str; 12] = [
    "310118", "310115", "310112", "320509", "320505", "320506", "320583", "320282", "330421",
    "330402", "330106", "330482",
];
const WORDS: [&str; 16] = [
    "绿源", "清源", "恒泰", "华骏", "蓝天", "碧水", "德润", "瑞丰", "中环", "嘉禾", "吴淞", "申江",
    "太湖", "天目", "长荣", "新元",
];
const TRADES: [&str; 6] = [
    "环保科技",
    "危废处置",
    "环境检测",
    "资源再生",
    "环境工程",
    "生态环境",
];
const HW: [&str; 12] = [
    "HW08", "HW49", "HW17", "HW12", "HW09", "HW06", "HW13", "HW18", "HW22", "HW31", "HW34", "HW50",
];
const MODES: [&str; 4] = ["收集", "贮存", "利用", "处置"];
const SIZES: [&str; 5] = ["", "微型", "小型", "中型", "大型"];

async fn generate(store: &Store, count: usize) -> anyhow::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let pool = store.pool();
    let now = 1_764_288_000_i64;
    let batch = 200;
    let mut next_qual: i64 = 1;
    for start in (0..count).step_by(batch) {
        let end = (start + batch).min(count);
        let mut orgs = String::from(
            "INSERT INTO organisations (id, credit_code, name, side, region_code, address, \
             contact_name, contact_phone, source, sample, created_at, updated_at, size_band, \
             service_categories, listed, list_source, description) VALUES ",
        );
        let mut quals = String::from(
            "INSERT INTO qualifications (id, organisation_id, kind, number, issuer, valid_from, \
             valid_to, modes, modes_text, capacity_kg, service_area, scope, source, verification, \
             created_at, updated_at) VALUES ",
        );
        let mut cats = String::from(
            "INSERT INTO qualification_hw_categories (qualification_id, category, waste_codes) VALUES ",
        );
        let (mut first_q, mut first_c) = (true, true);
        for n in start..end {
            let id = n as i64 + 1;
            let district = *rng.pick(&DISTRICTS);
            let name = format!(
                "{}{}{}{}有限公司",
                rng.pick(&WORDS),
                rng.pick(&WORDS),
                rng.pick(&TRADES),
                n
            );
            let lab = rng.below(4) == 0;
            let size = *rng.pick(&SIZES);
            if start != n {
                orgs.push(',');
            }
            orgs.push_str(&format!(
                "({id}, '{}', '{name}', 'supplier', '{district}', '{}路{}号', '联系人', '', 'import', 0, {now}, {now}, '{size}', '{}', 1, '{}', '{}')",
                credit_code(district, n),
                rng.pick(&WORDS),
                rng.below(3000),
                if lab { "[\"MON\"]" } else { "[\"HW\"]" },
                if lab { "monitoring" } else { "hw-licence" },
                if lab { "水和废水检测、土壤检测" } else { "危险废物收集、贮存、处置" },
            ));
            let licences = if lab { 0 } else { 1 + rng.below(2) };
            for _ in 0..licences {
                let qid = next_qual;
                next_qual += 1;
                let year = 2024 + rng.below(6);
                let modes: Vec<&str> = MODES
                    .iter()
                    .copied()
                    .filter(|_| rng.below(2) == 0)
                    .collect();
                let modes_json = format!(
                    "[{}]",
                    modes
                        .iter()
                        .map(|m| format!("\"{m}\""))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let area = if rng.below(5) == 0 {
                    format!("[\"{district}\"]")
                } else {
                    "[]".to_string()
                };
                if !first_q {
                    quals.push(',');
                }
                first_q = false;
                quals.push_str(&format!(
                    "({qid}, {id}, 'hw-licence', 'LIC{qid}', '生态环境厅', '2021-01-01', '{year}-{:02}-{:02}', '{modes_json}', '{}', {}, '{area}', '', 'import', 'official', {now}, {now})",
                    1 + rng.below(12),
                    1 + rng.below(28),
                    modes.join("、"),
                    (1 + rng.below(500)) as i64 * 100_000,
                ));
                let mut held: Vec<&str> = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    let category = *rng.pick(&HW);
                    if held.contains(&category) {
                        continue;
                    }
                    held.push(category);
                    if !first_c {
                        cats.push(',');
                    }
                    first_c = false;
                    cats.push_str(&format!("({qid}, '{category}', '[]')"));
                }
            }
            if lab {
                let qid = next_qual;
                next_qual += 1;
                if !first_q {
                    quals.push(',');
                }
                first_q = false;
                quals.push_str(&format!(
                    "({qid}, {id}, 'cma', 'CMA{qid}', '市场监督管理局', '2022-01-01', '{}-06-30', '[]', '', NULL, '[]', '水和废水、环境空气和废气', 'import', 'official', {now}, {now})",
                    2025 + rng.below(6)
                ));
            }
        }
        let mut tx = pool.begin().await?;
        sqlx::query(&orgs).execute(&mut *tx).await?;
        if !first_q {
            sqlx::query(&quals).execute(&mut *tx).await?;
        }
        if !first_c {
            sqlx::query(&cats).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

struct Query {
    q: &'static str,
    region: &'static str,
    hw: &'static str,
}

/// Keyword + three filters (region, HW category, valid only), mixed.
fn queries() -> Vec<Query> {
    let keywords = [
        "废机油",
        "废活性炭",
        "危废",
        "处置",
        "环保科技",
        "绿源",
        "废矿物油",
        "含油废物",
        "资源再生",
        "漆渣",
        "废乳化液",
        "清源",
    ];
    let regions = ["320000", "310000", "330000", "320500", "320509", "330400"];
    let mut out = Vec::new();
    for (i, q) in keywords.iter().enumerate() {
        for (j, region) in regions.iter().enumerate() {
            out.push(Query {
                q,
                region,
                hw: HW[(i + j) % 4],
            });
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("SUPPLIERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let samples: usize = std::env::var("QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let store = Store::connect(&url).await?;
    store.migrate().await?;

    let started = Instant::now();
    generate(&store, count).await?;
    let quals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM qualifications")
        .fetch_one(store.pool())
        .await?;
    println!(
        "generated {count} organisations, {quals} qualifications in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut config = Config::new(dir.path().to_path_buf());
    config.today = Some(time::macros::date!(2026 - 11 - 28));
    config.password_cost = PasswordCost::TESTING;
    config.search_interval_ms = 60_000;
    let started = Instant::now();
    // build_state rebuilds the indexes from the tables before it returns.
    let state = greenbridge_web::build_state(store.clone(), config).await?;
    println!("index built in {:.1} s", started.elapsed().as_secs_f64());
    let today = days_of("2026-11-28").unwrap_or(0);
    let set = queries();

    // 1. The search layer: the request the API makes, facets and snippets included.
    let index = state.search.organisations.clone();
    let mut layer = Vec::with_capacity(samples);
    let mut hits_total = 0usize;
    for i in 0..samples {
        let query = &set[i % set.len()];
        let params = format!(
            "q={}&region={}&hw={}&valid_only=true",
            query.q, query.region, query.hw
        );
        let request = search_request(&params, today);
        let t = Instant::now();
        let results = index.search(&request)?;
        layer.push(t.elapsed());
        hits_total += results.total;
    }

    // 2. Through HTTP.
    let address = common::serve(state.clone()).await?;
    let client = reqwest::Client::new();
    // A bare route in the same run, as the ceiling to compare with.
    let bare = common::time_gets(&client, &format!("{address}/healthz"), 200).await?;
    let mut http = Vec::with_capacity(samples);
    for i in 0..samples {
        let query = &set[i % set.len()];
        let url = format!(
            "{address}/api/v1/suppliers?q={}&region={}&hw={}&valid_only=true",
            form_urlencoded::byte_serialize(query.q.as_bytes()).collect::<String>(),
            query.region,
            query.hw
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

    // 3. Plain SQL LIKE over the same tables, capped.
    let like_cap = set.len().min(36);
    let mut like = Vec::with_capacity(like_cap);
    let mut like_total = 0i64;
    for query in set.iter().take(like_cap) {
        let pattern = format!("%{}%", query.q);
        let prefix = format!("{}%", query.region.trim_end_matches('0'));
        let t = Instant::now();
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM organisations o WHERE o.side = 'supplier' AND o.listed = 1 \
             AND (o.name LIKE $1 OR o.address LIKE $1 OR o.description LIKE $1 OR o.former_names LIKE $1) \
             AND o.region_code LIKE $2 \
             AND EXISTS (SELECT 1 FROM qualifications q JOIN qualification_hw_categories h \
                 ON h.qualification_id = q.id WHERE q.organisation_id = o.id AND h.category = $3 \
                 AND q.valid_to >= '2026-11-28')",
        )
        .bind(&pattern)
        .bind(&prefix)
        .bind(query.hw)
        .fetch_one(store.pool())
        .await?;
        let _page: Vec<i64> = sqlx::query_scalar(
            "SELECT o.id FROM organisations o WHERE o.side = 'supplier' AND o.listed = 1 \
             AND (o.name LIKE $1 OR o.address LIKE $1 OR o.description LIKE $1 OR o.former_names LIKE $1) \
             AND o.region_code LIKE $2 \
             AND EXISTS (SELECT 1 FROM qualifications q JOIN qualification_hw_categories h \
                 ON h.qualification_id = q.id WHERE q.organisation_id = o.id AND h.category = $3 \
                 AND q.valid_to >= '2026-11-28') ORDER BY o.name LIMIT 20",
        )
        .bind(&pattern)
        .bind(&prefix)
        .bind(query.hw)
        .fetch_all(store.pool())
        .await?;
        like.push(t.elapsed());
        like_total += n;
    }

    println!();
    println!(
        "{count} organisations; {} distinct queries (keyword + region + HW category + valid only)",
        set.len()
    );
    let layer_times = report("search layer (facets, snippets)", layer);
    let http_times = report("HTTP /api/v1/suppliers", http);
    report("HTTP /healthz (bare route)", bare);
    let like_times = report("SQL LIKE (count + page)", like);
    println!(
        "mean hits per query: search {:.0}, SQL LIKE {:.0} (LIKE misses everyday names such as 废机油)",
        hits_total as f64 / samples as f64,
        like_total as f64 / like_cap as f64
    );
    common::print_like_ratios(layer_times, http_times, like_times);
    Ok(())
}

/// The index request the API builds for `params`.
fn search_request(params: &str, today: i64) -> greenbridge_search::SearchRequest {
    use greenbridge_search::{Filter, SearchRequest, Sort};
    let mut q = None;
    let mut filters = vec![
        Filter::AnyOf {
            field: "side".into(),
            values: vec!["supplier".into()],
        },
        Filter::AnyOf {
            field: "listed".into(),
            values: vec!["yes".into()],
        },
        Filter::AnyOf {
            field: "status".into(),
            values: vec!["active".into()],
        },
    ];
    for (key, value) in form_urlencoded::parse(params.as_bytes()) {
        match key.as_ref() {
            "q" => q = Some(value.into_owned()),
            "region" | "hw" => filters.push(Filter::AnyOf {
                field: key.into_owned(),
                values: vec![value.into_owned()],
            }),
            "valid_only" => filters.push(Filter::Range {
                field: "valid_to_hw".into(),
                min: Some(today),
                max: None,
            }),
            _ => {}
        }
    }
    SearchRequest {
        q,
        filters,
        sort: Sort::Relevance,
        offset: 0,
        limit: 20,
        facet_fields: ["region", "category", "qualification", "hw", "mode", "size"]
            .into_iter()
            .map(String::from)
            .collect(),
    }
}
