//! Two measurements of the organisations collection, on a real database:
//!
//! 1. indexing throughput: `Indexer::rebuild` over N organisations (what
//!    `greenbridge reindex` does);
//! 2. outbox lag between two instances: instance A writes organisations at a steady
//!    rate (each insert commits its outbox row), instance B applies the outbox every
//!    `GB_BENCH_INTERVAL_MS`; the lag of a write is the time from its commit until B's
//!    index holds it.
//!
//! `GB_BENCH_DATABASE_URL` (default: a temporary SQLite file) — use a PostgreSQL URL to
//! measure the several-instance setup; the bench adds rows, so give it a scratch
//! database. `GB_BENCH_ORGS` (default 20000), `GB_BENCH_RATE` writes/s (default 200),
//! `GB_BENCH_SECONDS` (default 10), `GB_BENCH_INTERVAL_MS` (default 1000, the
//! production default).
//!
//! `cargo bench -p greenbridge-search --bench outbox_lag`

use greenbridge_domain::credit_code::{CreditCode, check_character};
use greenbridge_search::Indexer;
use greenbridge_store::{NewOrganisation, OrgSide, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A valid credit code for serial `n` (district 320509, a numeric organisation code).
fn code(run: u32, n: u64) -> CreditCode {
    let body = format!("91320509{:03}{:06}", run % 1000, n % 1_000_000);
    let check = check_character(&body).expect("digits are in the alphabet");
    CreditCode::parse(&format!("{body}{check}")).expect("valid by construction")
}

const NAMES: [&str; 6] = [
    "环保科技",
    "危废处置",
    "检测技术",
    "环境工程",
    "固废利用",
    "水处理",
];
const TOWNS: [&str; 4] = ["松陵街道", "黎里镇", "盛泽镇", "七都镇"];

async fn insert(store: &Store, run: u32, n: u64, now: i64) -> i64 {
    let code = code(run, n);
    let name = format!(
        "吴江{}{}示例有限公司{n}",
        TOWNS[n as usize % 4],
        NAMES[n as usize % 6]
    );
    let address = format!(
        "苏州市吴江区{}示例路{}号",
        TOWNS[n as usize % 4],
        n % 999 + 1
    );
    store
        .insert_organisation(
            &NewOrganisation {
                credit_code: &code,
                name: &name,
                side: if n.is_multiple_of(3) {
                    OrgSide::Supplier
                } else {
                    OrgSide::Demand
                },
                region_code: "320509",
                address: &address,
                contact_name: "示例",
                contact_phone: "0512-59990000",
                source: "registration",
                sample: true,
            },
            now,
        )
        .await
        .expect("insert organisation")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("GB_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("bench.db").display()
        )
    });
    let orgs: u64 = env_or("GB_BENCH_ORGS", 20_000);
    let rate: u64 = env_or("GB_BENCH_RATE", 200);
    let seconds: u64 = env_or("GB_BENCH_SECONDS", 10);
    let interval_ms: u64 = env_or("GB_BENCH_INTERVAL_MS", 1000);
    let run = std::process::id();
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    println!("database: {}", greenbridge_store::redact_url(&url));

    let started = Instant::now();
    for n in 0..orgs {
        insert(&store, run, n, now).await;
    }
    println!(
        "inserted {orgs} organisations in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let dir_a = tempfile::tempdir().expect("tempdir");
    let indexer_a = Indexer::open(store.clone(), dir_a.path()).expect("open A");
    let started = Instant::now();
    let indexed = indexer_a.rebuild().await.expect("rebuild");
    let took = started.elapsed();
    println!(
        "rebuild: {indexed} documents in {:.2} s = {:.0} documents/s",
        took.as_secs_f64(),
        indexed as f64 / took.as_secs_f64()
    );

    // Instance B: its own index, following the outbox.
    let second_store = Store::connect(&url).await.expect("connect B");
    let dir_b = tempfile::tempdir().expect("tempdir");
    let indexer_b = Arc::new(Indexer::open(second_store, dir_b.path()).expect("open B"));
    indexer_b.catch_up().await.expect("initial catch-up");
    let baseline = indexer_b.organisations.count();
    let follower = indexer_b.spawn(Duration::from_millis(interval_ms));

    let total = rate * seconds;
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let writer_store = store.clone();
    let writer = tokio::spawn(async move {
        let mut committed = Vec::with_capacity(total as usize);
        let start = Instant::now();
        for k in 0..total {
            let due = start + gap * k as u32;
            tokio::time::sleep_until(due.into()).await;
            insert(&writer_store, run, orgs + k, now).await;
            committed.push(Instant::now());
        }
        committed
    });
    let mut reached = vec![None; total as usize];
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    loop {
        let seen = indexer_b.organisations.count().saturating_sub(baseline);
        let at = Instant::now();
        for slot in reached.iter_mut().take(seen.min(total as usize)) {
            if slot.is_none() {
                *slot = Some(at);
            }
        }
        if seen >= total as usize || at > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let committed = writer.await.expect("writer");
    follower.abort();
    let mut lags: Vec<Duration> = committed
        .iter()
        .zip(&reached)
        .filter_map(|(c, r)| r.map(|r| r.saturating_duration_since(*c)))
        .collect();
    lags.sort();
    let missing = total as usize - lags.len();
    println!(
        "outbox lag, {total} writes at {rate}/s, B applies every {interval_ms} ms: \
         p50 {:?}, p95 {:?}, max {:?}; {missing} not seen within the deadline",
        percentile(&lags, 0.5),
        percentile(&lags, 0.95),
        lags.last().copied().unwrap_or_default()
    );
}
