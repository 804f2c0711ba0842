//! The connector: fetches notice pages from a source's list pages.
//!
//! A run walks the source's list pages (`{page}` in the list URL), collects the links
//! that match the source's link pattern, and fetches each notice page with a
//! politeness delay between requests, conditional requests (`If-None-Match`,
//! `If-Modified-Since` from the last fetch) and retries with exponential backoff on
//! network errors and 5xx answers. A page whose content hash did not change is not
//! parsed again; the store de-duplicates by URL, by project code + purchaser + type
//! and by content hash. Each run is recorded (fetched, new, updated, unchanged,
//! failed with reasons); a source that is down records the failure, and the caller
//! goes on with the next source.

use std::time::Duration;

use greenbridge_store::Store;
use greenbridge_store::connectors::{ConnectorRun, ConnectorSource, PageState};
use greenbridge_store::notices::NoticeUpsert;
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};

use super::parse::{PageSource, parse_notice_page};

/// How the fetcher behaves (tests shorten the waits).
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    pub attempts: u32,
    pub backoff: Duration,
    pub timeout: Duration,
    /// Overrides the source's own delay when set (tests).
    pub delay_override: Option<Duration>,
    /// Root certificates trusted besides the built-in ones.
    pub roots: crate::outbound::OutboundRoots,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            attempts: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(20),
            delay_override: None,
            roots: crate::outbound::OutboundRoots::default(),
        }
    }
}

/// The HTTP client of the connectors: one per process, identifying itself.
pub fn client(policy: &FetchPolicy) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .user_agent("GreenBridge-notice-connector/0.1 (+public procurement notices)")
        .timeout(policy.timeout);
    policy
        .roots
        .apply(builder)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

enum Fetched {
    Body {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    known: Option<&PageState>,
    policy: &FetchPolicy,
) -> Result<Fetched, String> {
    let mut last_error = String::new();
    for attempt in 0..policy.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(policy.backoff * 2u32.pow(attempt - 1)).await;
        }
        let mut request = client.get(url);
        if let Some(state) = known {
            if let Some(etag) = &state.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &state.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status == StatusCode::NOT_MODIFIED {
                    return Ok(Fetched::NotModified);
                }
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    last_error = format!("HTTP {}", status.as_u16());
                    continue;
                }
                if !status.is_success() {
                    // 4xx: retrying will not help.
                    return Err(format!("HTTP {}", status.as_u16()));
                }
                let header = |name| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                        .map(str::to_string)
                };
                let etag = header(ETAG);
                let last_modified = header(LAST_MODIFIED);
                match response.bytes().await {
                    Ok(bytes) => match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => {
                            return Ok(Fetched::Body {
                                text,
                                etag,
                                last_modified,
                            });
                        }
                        Err(_) => return Err("页面不是 UTF-8 编码".into()),
                    },
                    Err(e) => last_error = format!("读取失败：{e}"),
                }
            }
            Err(e) => {
                last_error = if e.is_timeout() {
                    "请求超时".to_string()
                } else if e.is_connect() {
                    "无法连接".to_string()
                } else {
                    format!("请求失败：{e}")
                };
            }
        }
    }
    Err(format!(
        "{last_error}（已重试 {} 次）",
        policy.attempts.max(1) - 1
    ))
}

/// Absolute URLs of the links on a list page that match the pattern, in page order,
/// without repeats.
pub fn notice_links(list_url: &str, html: &str, pattern: &regex::Regex) -> Vec<String> {
    let base = reqwest::Url::parse(list_url).ok();
    let doc = Html::parse_document(html);
    let Ok(selector) = Selector::parse("a[href]") else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for a in doc.select(&selector) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let absolute = match &base {
            Some(b) => b.join(href).map(|u| u.to_string()).unwrap_or_default(),
            None => href.to_string(),
        };
        if !absolute.is_empty() && pattern.is_match(&absolute) && !out.contains(&absolute) {
            out.push(absolute);
        }
    }
    out
}

fn content_hash(text: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// Runs one source once and records the run; returns its record.
pub async fn run_source(
    store: &Store,
    client: &reqwest::Client,
    source: &ConnectorSource,
    policy: &FetchPolicy,
    now: impl Fn() -> i64,
) -> Result<ConnectorRun, greenbridge_store::StoreError> {
    let run_id = store.start_connector_run(source.id, now()).await?;
    let mut run = ConnectorRun {
        id: run_id,
        source_id: source.id,
        started_at: now(),
        ..ConnectorRun::default()
    };
    let mut failures: Vec<String> = Vec::new();
    let delay = policy
        .delay_override
        .unwrap_or(Duration::from_millis(source.delay_ms.max(0) as u64));
    let pattern = match regex::Regex::new(&source.link_pattern) {
        Ok(p) => p,
        Err(e) => {
            run.failed = 1;
            run.failures = format!("链接规则无效：{e}");
            store.finish_connector_run(&run, now()).await?;
            return Ok(run);
        }
    };
    let mut links: Vec<String> = Vec::new();
    for page in 1..=source.max_pages.max(1) {
        let url = source.list_url.replace("{page}", &page.to_string());
        if page > 1 {
            tokio::time::sleep(delay).await;
        }
        match fetch(client, &url, None, policy).await {
            Ok(Fetched::Body { text, .. }) => {
                let found = notice_links(&url, &text, &pattern);
                let before = links.len();
                for link in found {
                    if !links.contains(&link) {
                        links.push(link);
                    }
                }
                // A page with nothing new ends the walk (past the last list page).
                if links.len() == before || !source.list_url.contains("{page}") {
                    break;
                }
            }
            Ok(Fetched::NotModified) => break,
            Err(reason) => {
                run.failed += 1;
                failures.push(format!("{url}：{reason}"));
                break;
            }
        }
    }
    for url in &links {
        tokio::time::sleep(delay).await;
        let known = store.connector_page(source.id, url).await?;
        match fetch(client, url, known.as_ref(), policy).await {
            Ok(Fetched::NotModified) => {
                run.fetched += 1;
                run.unchanged_count += 1;
            }
            Ok(Fetched::Body {
                text,
                etag,
                last_modified,
            }) => {
                run.fetched += 1;
                let hash = content_hash(&text);
                if known.as_ref().and_then(|k| k.content_hash.as_deref()) == Some(hash.as_str()) {
                    run.unchanged_count += 1;
                } else {
                    let parsed = parse_notice_page(
                        &text,
                        &PageSource {
                            site: &source.site,
                            url,
                            source_id: None,
                            sample: false,
                        },
                    );
                    match parsed {
                        Ok(parsed) => {
                            for problem in &parsed.problems {
                                failures.push(format!(
                                    "{url}：{} 无法识别，已留空（{}）",
                                    problem.field, problem.reason
                                ));
                            }
                            match store.upsert_notice(&parsed.notice, now()).await? {
                                NoticeUpsert::Created(_) => run.new_count += 1,
                                NoticeUpsert::Updated(_) => run.updated_count += 1,
                                NoticeUpsert::Unchanged(_) => run.unchanged_count += 1,
                            }
                        }
                        Err(e) => {
                            run.failed += 1;
                            failures.push(format!("{url}：{e}"));
                        }
                    }
                }
                store
                    .put_connector_page(
                        source.id,
                        url,
                        &PageState {
                            etag,
                            last_modified,
                            content_hash: Some(hash),
                        },
                        now(),
                    )
                    .await?;
            }
            Err(reason) => {
                run.failed += 1;
                failures.push(format!("{url}：{reason}"));
            }
        }
    }
    run.failures = failures.join("\n");
    store.finish_connector_run(&run, now()).await?;
    Ok(run)
}

/// Whether a link pattern is a usable regular expression.
pub fn valid_pattern(pattern: &str) -> bool {
    !pattern.trim().is_empty() && regex::Regex::new(pattern).is_ok()
}

/// Whether a source is due by its schedule, given when its last run started.
pub fn is_due(schedule: &str, last_started: Option<i64>, now: i64) -> bool {
    let every = match schedule {
        "hourly" => 3_600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        _ => 86_400,
    };
    last_started.is_none_or(|t| now - t >= every - 60)
}

/// Runs every enabled source that is due; a failing source does not stop the others.
pub async fn run_due(
    store: &Store,
    policy: &FetchPolicy,
    now: impl Fn() -> i64 + Copy,
) -> Result<Vec<ConnectorRun>, greenbridge_store::StoreError> {
    let client = client(policy);
    let mut runs = Vec::new();
    for source in store.connector_sources().await? {
        if !source.enabled {
            continue;
        }
        let last = store.connector_runs(Some(source.id), 1).await?;
        if !is_due(&source.schedule, last.first().map(|r| r.started_at), now()) {
            continue;
        }
        runs.push(run_source(store, &client, &source, policy, now).await?);
    }
    Ok(runs)
}
