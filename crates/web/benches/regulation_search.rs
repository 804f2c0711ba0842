//! 标准政策 search at scale: generates N synthetic documents (default 20 000) with about
//! 5 000 characters of full text each, builds the index (time and size on disk), then
//! times a mixed set of "keyword + filters" queries
//!
//! 1. in the index alone (`SearchIndex::search` with facets and title/summary snippets),
//! 2. in the search layer as the API runs it (index, the page's rows from the database,
//!    full-text snippets cut around the best match),
//! 3. through HTTP (`GET /api/v1/regulations`: parsing, all of the above, JSON),
//!
//! and prints p50/p99 of each. Run with
//! `cargo bench -p greenbridge-web --bench regulation_search` (release); `DOCUMENTS=2000`
//! for a smaller run, `QUERIES=400` to change the sample size. Not a test: nothing is
//! asserted.

mod common;

use common::{dir_size, report};
use greenbridge_domain::regulation::{Domain, Level, Scope, Status, number_key};
use greenbridge_store::Store;
use greenbridge_store::regulations::RegulationInput;
use greenbridge_web::config::{Config, PasswordCost};
use greenbridge_web::routes::regulations::{
    RegulationSearch, SortChoice, StatusChoice, index, run,
};
use std::time::Instant;

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

const SUBJECTS: [&str; 16] = [
    "锅炉",
    "危险废物",
    "污水处理厂",
    "挥发性有机物",
    "土壤污染",
    "排污许可",
    "环境影响评价",
    "噪声",
    "地表水",
    "大气污染物",
    "固体废物",
    "突发环境事件",
    "自行监测",
    "建设项目",
    "医疗废物",
    "清洁生产",
];
const SENTENCES: [&str; 24] = [
    "排放污染物的企业事业单位应当建立环境保护责任制度，明确单位负责人和相关人员的责任。",
    "重点排污单位应当按照国家有关规定和监测规范安装使用监测设备，保证监测设备正常运行。",
    "产生危险废物的单位应当按照国家有关规定制定危险废物管理计划，建立危险废物管理台账。",
    "贮存危险废物应当采取符合国家环境保护标准的防护措施，贮存期限不得超过一年。",
    "建设项目的环境影响评价文件未经审批部门审查或者审查后未予批准的，建设单位不得开工建设。",
    "企业应当如实记录主要生产设施、污染防治设施运行情况以及污染物排放浓度和排放量。",
    "排污单位应当依法开展自行监测，保存原始监测记录，并按照规定公开污染物排放信息。",
    "对超过国家或者地方规定的污染物排放标准排放污染物的，由生态环境主管部门责令改正。",
    "地方各级人民政府应当对本行政区域的环境质量负责，采取措施改善环境质量。",
    "禁止以逃避监管的方式排放污染物，禁止篡改、伪造监测数据。",
    "工业噪声排放单位应当采取有效措施，减少振动、降低噪声，并对厂界噪声负责。",
    "土壤污染重点监管单位应当建立土壤污染隐患排查制度，保证持续有效防止有毒有害物质渗漏。",
    "医疗卫生机构应当对医疗废物进行登记，登记内容应当包括来源、种类、重量或者数量。",
    "锅炉大气污染物排放应当符合本标准规定的排放限值，新建锅炉自本标准实施之日起执行。",
    "挥发性有机物无组织排放控制应当符合本标准规定的要求，收集处理设施应与生产工艺同步运行。",
    "城镇污水处理厂出水应当符合本标准规定的一级A标准，排入敏感水域的执行更严格的要求。",
    "突发环境事件应急预案应当报所在地生态环境主管部门备案，并定期开展应急演练。",
    "实行排污许可管理的企业事业单位应当按照排污许可证的要求排放污染物。",
    "生态环境主管部门应当加强对排污单位的监督检查，检查结果应当依法向社会公开。",
    "地表水环境质量标准依据地表水水域环境功能和保护目标，按功能高低依次划分为五类。",
    "清洁生产审核应当以企业自行审核为主，重点企业应当实施强制性清洁生产审核。",
    "固体废物污染环境防治坚持减量化、资源化和无害化的原则。",
    "本标准规定了监测点位布设、采样方法、分析方法和质量保证与质量控制的技术要求。",
    "违反本条例规定，情节严重的，报经有批准权的人民政府批准，责令停业、关闭。",
];
const ISSUERS: [&str; 6] = [
    "生态环境部",
    "生态环境部、国家市场监督管理总局",
    "国务院",
    "上海市生态环境局",
    "江苏省生态环境厅",
    "浙江省生态环境厅",
];
const REGIONS: [&str; 6] = ["全国", "全国", "全国", "上海市", "江苏省", "浙江省"];

fn date(days_back: usize) -> time::Date {
    time::macros::date!(2026 - 11 - 01) - time::Duration::days(days_back as i64)
}

fn document(n: usize, rng: &mut Rng) -> RegulationInput {
    let level = *rng.pick(Level::ALL);
    let subject = *rng.pick(&SUBJECTS);
    let number = if level.is_standard() {
        let prefix = match level {
            Level::NationalStandard => {
                if rng.below(5) == 0 {
                    "GB/T"
                } else {
                    "GB"
                }
            }
            Level::IndustryStandard => "HJ",
            _ => "DB31/T",
        };
        Some(format!("{prefix} {}-{}", 10_000 + n, 1995 + rng.below(31)))
    } else if rng.below(3) == 0 {
        None
    } else {
        Some(format!("示例发〔{}〕{}号", 2000 + rng.below(27), n))
    };
    let keys = number_key(level, number.as_deref()).expect("generated numbers are valid");
    let mut text = String::new();
    while text.chars().count() < 5_000 {
        text.push_str(&format!("第{}条 ", text.len() / 60 + 1));
        let sentence: &str = SENTENCES[rng.below(SENTENCES.len())];
        text.push_str(sentence);
        if rng.below(6) == 0 {
            text.push_str(&format!(
                "{subject}的管理要求按照本{}执行。",
                level.as_str()
            ));
        }
        text.push('\n');
    }
    let issuer = rng.pick(&ISSUERS).to_string();
    let region = rng.pick(&REGIONS);
    let published = date(rng.below(9000));
    let effective = published + time::Duration::days(rng.below(400) as i64);
    let status = if rng.below(8) == 0 {
        Status::Repealed
    } else {
        Status::InForce
    };
    RegulationInput {
        source_id: Some(format!("bench-{n:05}")),
        title: format!("{subject}{}（第{n}号示例）", level.as_str()),
        doc_number: number,
        number_key: keys.key,
        issuer: issuer.clone(),
        level,
        mandatory: keys.mandatory,
        domains: vec![*rng.pick(Domain::ALL), *rng.pick(Domain::ALL)],
        scope: Scope::parse(region, &issuer).expect("known region"),
        published: Some(published),
        effective: Some(effective),
        revised: Vec::new(),
        status: status.at(Some(effective), time::macros::date!(2026 - 11 - 28)),
        summary: format!(
            "规定{subject}相关的管理要求和法律责任。{}",
            *rng.pick(&SENTENCES)
        ),
        full_text: text,
        origin: "bench".into(),
        sample: true,
    }
}

/// The query mix: a keyword (words, a phrase of two words, or a standard number) and one
/// to three filters.
fn queries() -> Vec<(String, RegulationSearch)> {
    let base = RegulationSearch {
        q: String::new(),
        levels: Vec::new(),
        status: StatusChoice::Current,
        issuers: Vec::new(),
        domains: Vec::new(),
        region: None,
        mandatory: None,
        effective_from: None,
        effective_to: None,
        published_from: None,
        published_to: None,
        sort: SortChoice::Relevance,
        descending: true,
        page: 1,
        page_size: 20,
    };
    let mut out = Vec::new();
    for (i, subject) in SUBJECTS.iter().enumerate() {
        let q = match i % 4 {
            0 => subject.to_string(),
            1 => format!("{subject} 排放"),
            2 => format!("{subject} 监测 管理"),
            _ => format!("GB {}", 10_000 + i * 97),
        };
        let mut a = base.clone();
        a.q = q.clone();
        a.region = Some("310118".into());
        out.push((format!("q={}&region=310118", enc(&q)), a));
        let mut b = base.clone();
        b.q = q.clone();
        b.levels = vec![Level::NationalStandard, Level::IndustryStandard];
        b.mandatory = Some(true);
        out.push((
            format!("q={}&level=国家标准&level=行业标准&mandatory=true", enc(&q)),
            b,
        ));
        let mut c = base.clone();
        c.q = q.clone();
        c.domains = vec![Domain::Air];
        c.effective_from = Some(time::macros::date!(2010 - 01 - 01));
        c.status = StatusChoice::All;
        out.push((
            format!(
                "q={}&domain=气&effective_from=2010-01-01&status=all",
                enc(&q)
            ),
            c,
        ));
    }
    out
}

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("DOCUMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
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
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut chars = 0usize;
    for n in 0..count {
        let doc = document(n, &mut rng);
        chars += doc.full_text.chars().count();
        store.insert_regulation(&doc, 1_764_300_000).await?;
    }
    println!(
        "generated {count} documents ({:.0} characters of full text on average) in {:.1} s",
        chars as f64 / count.max(1) as f64,
        started.elapsed().as_secs_f64()
    );

    let mut config = Config::new(dir.path().to_path_buf());
    config.today = Some(time::macros::date!(2026 - 11 - 28));
    config.password_cost = PasswordCost::TESTING;
    config.search_interval_ms = 60_000;
    let started = Instant::now();
    // build_state rebuilds every index from the tables before it returns; the other
    // collections are empty here, so the time is the regulations'.
    let state = greenbridge_web::build_state(store.clone(), config).await?;
    let built = started.elapsed();
    let index_dir = dir.path().join("search").join("regulations");
    println!(
        "index built in {:.1} s ({:.0} documents/s); index size {:.1} MB; database {:.1} MB",
        built.as_secs_f64(),
        count as f64 / built.as_secs_f64(),
        dir_size(&index_dir) as f64 / 1_048_576.0,
        std::fs::metadata(dir.path().join("bench.db"))
            .map(|m| m.len())
            .unwrap_or(0) as f64
            / 1_048_576.0
    );

    let set = queries();
    let index = index(&state).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut alone = Vec::with_capacity(samples);
    let mut layer = Vec::with_capacity(samples);
    let mut hits = 0usize;
    for i in 0..samples {
        let (_, search) = &set[i % set.len()];
        let request = search.request();
        let t = Instant::now();
        let results = index.search(&request)?;
        alone.push(t.elapsed());
        hits += results.total;
        let t = Instant::now();
        let (_, found) = run(&state, search)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        layer.push(t.elapsed());
        std::hint::black_box(found);
    }

    let address = common::serve(state.clone()).await?;
    let client = reqwest::Client::new();
    let bare = common::time_gets(&client, &format!("{address}/healthz"), 200).await?;
    let mut http = Vec::with_capacity(samples);
    for i in 0..samples {
        let (query, _) = &set[i % set.len()];
        let url = format!("{address}/api/v1/regulations?{query}");
        let t = Instant::now();
        let response = client.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        http.push(t.elapsed());
        if !status.is_success() {
            anyhow::bail!("{url}: {status} {}", String::from_utf8_lossy(&body));
        }
    }

    println!();
    println!(
        "{count} documents; {} distinct queries (keyword + 1–3 filters, page of 20, facets); {:.0} hits per query on average",
        set.len(),
        hits as f64 / samples.max(1) as f64
    );
    report("index alone (facets, title/summary snippets)", alone);
    report("search layer (+ rows, full-text snippets)", layer);
    report("HTTP GET /api/v1/regulations", http);
    report("HTTP GET /healthz (bare route, same run)", bare);
    Ok(())
}
