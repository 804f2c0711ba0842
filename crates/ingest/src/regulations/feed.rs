//! Syncing documents from the provinces' platforms: a connector that fetches a feed
//! URL ([`fetch`]) and a parser for what it returns ([`parse_feed`]): Atom, RSS 2.0,
//! JSON Feed 1.1, a JSON array or JSON Lines of records shaped like
//! `regulations.jsonl`.
//!
//! An entry becomes a record with the keys of `regulations.jsonl`:
//! - `id` from the entry's id / guid (else its link), `title`, `summary` (description,
//!   summary; HTML reduced to text), `full_text` (content, content:encoded,
//!   content_text / content_html), `published` from its date (RFC 3339 or RFC 2822,
//!   the day in Asia/Shanghai);
//! - categories (Atom `term`, RSS text, JSON Feed `tags`) that are a level, a domain or
//!   a status set those;
//! - elements (any namespace) or a `_greenbridge` object named like the record keys —
//!   `doc_number`, `issuer`, `level`, `region`, `effective`, `status`, `domains` /
//!   `domain`, `replaced_by` — set them directly;
//! - what is still missing comes from the feed's settings (level, region, issuer),
//!   the status defaults to 现行有效 (then dated by [`greenbridge_domain::regulation::Status::at`])
//!   and the domains to 综合.
//!
//! [`sync`] adds the entries that are new (by `id`); entries already known are left as
//! they are (an edit on the site is not overwritten by the feed), entries that cannot
//! be read are counted as rejected with their reason. Each run is recorded by the
//! caller ([`SyncOutcome`]).

use std::time::Duration;

use greenbridge_domain::regulation::{Domain, Level, Scope, Status};
use greenbridge_store::Store;
use greenbridge_store::regulations::Upserted;
use serde_json::{Map, Value, json};
use time::Date;

use super::extract::html_to_text;
use super::parse_record;

/// Largest feed document read.
pub const MAX_FEED_BYTES: usize = 16 * 1024 * 1024;
/// How long a fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// What the feed's settings give entries that do not say.
#[derive(Debug, Clone)]
pub struct FeedDefaults {
    pub level: Level,
    pub scope: Scope,
    pub issuer: String,
}

/// Why a feed could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("无法获取订阅源：{0}")]
    Fetch(String),
    #[error("订阅源返回 HTTP {0}")]
    Status(u16),
    #[error("订阅源超过 {} MB", MAX_FEED_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("订阅源格式无法识别：{0}")]
    Format(String),
}

/// Fetches `url` (http or https, trusting `roots` besides the built-in roots), at
/// most [`MAX_FEED_BYTES`].
pub async fn fetch(
    url: &str,
    roots: &crate::outbound::OutboundRoots,
) -> Result<Vec<u8>, FeedError> {
    let builder = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5));
    let client = roots
        .apply(builder)
        .build()
        .map_err(|e| FeedError::Fetch(e.to_string()))?;
    let mut response = client
        .get(url)
        .header(
            "accept",
            "application/atom+xml, application/rss+xml, application/feed+json, application/json, application/xml, text/xml;q=0.9, */*;q=0.5",
        )
        .send()
        .await
        .map_err(|e| FeedError::Fetch(without_url(&e)))?;
    if !response.status().is_success() {
        return Err(FeedError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FeedError::Fetch(without_url(&e)))?
    {
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(FeedError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn without_url(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "");
    }
    message.trim().to_string()
}

/// The entries of a feed, each as a record object (before defaults).
pub fn parse_feed(bytes: &[u8]) -> Result<Vec<Map<String, Value>>, FeedError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| FeedError::Format("不是 UTF-8 文本".into()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        parse_xml(trimmed)
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(value) => parse_json(value),
            // JSON Lines: one object per line.
            Err(_) if trimmed.starts_with('{') => trimmed
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| match serde_json::from_str::<Value>(l) {
                    Ok(Value::Object(o)) => Ok(o),
                    _ => Err(FeedError::Format("JSON 行无法读取".into())),
                })
                .collect(),
            Err(e) => Err(FeedError::Format(e.to_string())),
        }
    } else {
        Err(FeedError::Format(
            "既不是 XML（Atom/RSS）也不是 JSON".into(),
        ))
    }
}

const RECORD_KEYS: [&str; 9] = [
    "doc_number",
    "issuer",
    "level",
    "region",
    "effective",
    "status",
    "replaced_by",
    "published",
    "title",
];

/// A category or tag: a level, a domain or a status sets that key.
fn apply_category(record: &mut Map<String, Value>, term: &str) {
    let term = term.trim();
    if Level::parse(term).is_ok() {
        record
            .entry("level")
            .or_insert_with(|| Value::String(term.to_string()));
    } else if Status::parse(term).is_ok() {
        record
            .entry("status")
            .or_insert_with(|| Value::String(term.to_string()));
    } else if Domain::parse(term).is_ok() {
        let domains = record
            .entry("domains")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = domains
            && !list.iter().any(|v| v == term)
        {
            list.push(Value::String(term.to_string()));
        }
    }
}

/// The day of an RFC 3339 (`2026-11-20T09:00:00+08:00`) or RFC 2822 (`Fri, 20 Nov 2026
/// 09:00:00 +0800`) time in Asia/Shanghai, or a bare `YYYY-MM-DD`.
pub fn feed_date(text: &str) -> Option<String> {
    use time::format_description::well_known::{Rfc2822, Rfc3339};
    let text = text.trim();
    let at = time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(text, &Rfc2822))
        .ok();
    match at {
        Some(at) => Some(greenbridge_domain::time::format_date(
            greenbridge_domain::time::shanghai_date(at),
        )),
        None => {
            let day: String = text.chars().take(10).collect();
            greenbridge_domain::time::parse_date(&day)
                .ok()
                .map(greenbridge_domain::time::format_date)
        }
    }
}

fn parse_json(value: Value) -> Result<Vec<Map<String, Value>>, FeedError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut feed) => match feed.remove("items") {
            Some(Value::Array(items)) => items,
            _ => return Err(FeedError::Format("JSON 订阅源缺少 items".into())),
        },
        _ => return Err(FeedError::Format("JSON 订阅源应为对象或数组".into())),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(item) = item else {
            continue;
        };
        // Records already in the regulations.jsonl shape pass as they are.
        if item.contains_key("level") && item.contains_key("issuer") {
            out.push(item);
            continue;
        }
        let mut record = Map::new();
        let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
        if let Some(id) = text("id").or_else(|| text("url")) {
            record.insert("id".into(), id.into());
        }
        if let Some(title) = text("title") {
            record.insert("title".into(), title.into());
        }
        if let Some(summary) = text("summary") {
            record.insert("summary".into(), html_to_text(&summary).trim().into());
        }
        if let Some(body) =
            text("content_text").or_else(|| text("content_html").map(|h| html_to_text(&h)))
        {
            record.insert("full_text".into(), body.trim().into());
        }
        if let Some(date) = text("date_published").and_then(|d| feed_date(&d)) {
            record.insert("published".into(), date.into());
        }
        if let Some(Value::Array(tags)) = item.get("tags") {
            for tag in tags.iter().filter_map(Value::as_str) {
                apply_category(&mut record, tag);
            }
        }
        if let Some(Value::Object(extension)) = item.get("_greenbridge") {
            for (key, value) in extension {
                record.insert(key.clone(), value.clone());
            }
        }
        out.push(record);
    }
    Ok(out)
}

fn parse_xml(text: &str) -> Result<Vec<Map<String, Value>>, FeedError> {
    use quick_xml::events::Event;
    let bad = |e: &dyn std::fmt::Display| FeedError::Format(e.to_string());
    let mut reader = quick_xml::Reader::from_str(text);
    let mut entries = Vec::new();
    // The entry being read, the element path inside it, and its text so far.
    let mut entry: Option<Map<String, Value>> = None;
    let mut path: Vec<String> = Vec::new();
    let mut buffer = String::new();
    let mut link: Option<String> = None;
    let mut saw_feed = false;
    loop {
        let event = reader.read_event().map_err(|e| bad(&e))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_string();
                if matches!(name.as_str(), "feed" | "rss" | "channel" | "RDF") {
                    saw_feed = true;
                }
                if matches!(name.as_str(), "entry" | "item") {
                    entry = Some(Map::new());
                    path.clear();
                    link = None;
                    continue;
                }
                if entry.is_some() {
                    if name == "category"
                        && let Some(term) = attribute(&e, "term")
                        && let Some(record) = entry.as_mut()
                    {
                        apply_category(record, &term);
                    }
                    if name == "link" && link.is_none() {
                        link = attribute(&e, "href");
                    }
                    path.push(name);
                    buffer.clear();
                }
            }
            Event::Empty(e) => {
                let name = e.local_name().into_inner().to_string();
                if let Some(record) = entry.as_mut() {
                    if name == "category"
                        && let Some(term) = attribute(&e, "term")
                    {
                        apply_category(record, &term);
                    }
                    if name == "link" {
                        let rel = attribute(&e, "rel").unwrap_or_else(|| "alternate".into());
                        if rel == "alternate" && link.is_none() {
                            link = attribute(&e, "href");
                        }
                    }
                }
            }
            Event::Text(t) if entry.is_some() && !path.is_empty() => buffer.push_str(&t),
            Event::CData(t) if entry.is_some() && !path.is_empty() => buffer.push_str(&t),
            Event::GeneralRef(r) if entry.is_some() && !path.is_empty() => {
                let name: &str = &r;
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    buffer.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
                    buffer.push_str(s);
                }
            }
            Event::End(e) => {
                let name = e.local_name().into_inner().to_string();
                if matches!(name.as_str(), "entry" | "item") {
                    if let Some(mut record) = entry.take() {
                        if !record.contains_key("id")
                            && let Some(link) = link.take()
                        {
                            record.insert("id".into(), link.into());
                        }
                        entries.push(record);
                    }
                    continue;
                }
                if let Some(record) = entry.as_mut()
                    && path.last() == Some(&name)
                {
                    let value = buffer.trim().to_string();
                    buffer.clear();
                    // Only direct children of the entry count (not e.g. author/name).
                    if path.len() == 1 && !value.is_empty() {
                        match name.as_str() {
                            "id" | "guid" => {
                                record.insert("id".into(), value.into());
                            }
                            "link" if link.is_none() => link = Some(value),
                            "description" | "summary" => {
                                record.insert("summary".into(), html_to_text(&value).trim().into());
                            }
                            "content" | "encoded" => {
                                record
                                    .insert("full_text".into(), html_to_text(&value).trim().into());
                            }
                            "pubDate" | "published" | "updated" | "date" => {
                                if let Some(day) = feed_date(&value)
                                    && (name != "updated" || !record.contains_key("published"))
                                {
                                    record.insert("published".into(), day.into());
                                }
                            }
                            "category" => apply_category(record, &value),
                            "domain" | "domains" => {
                                for part in value.split([',', '，', '、']) {
                                    apply_category(record, part);
                                }
                            }
                            key if RECORD_KEYS.contains(&key) => {
                                record.insert(key.into(), value.into());
                            }
                            _ => {}
                        }
                    }
                    path.pop();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_feed {
        return Err(FeedError::Format("不是 Atom 或 RSS 订阅源".into()));
    }
    Ok(entries)
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name).ok().flatten().and_then(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| v.into_owned())
    })
}

/// Fills in what an entry does not say from the feed's settings.
pub fn with_defaults(
    mut record: Map<String, Value>,
    defaults: &FeedDefaults,
) -> Map<String, Value> {
    record
        .entry("level")
        .or_insert_with(|| defaults.level.as_str().into());
    record
        .entry("issuer")
        .or_insert_with(|| defaults.issuer.clone().into());
    record
        .entry("region")
        .or_insert_with(|| match &defaults.scope {
            Scope::Region(code) => code.clone().into(),
            other => other.label().into(),
        });
    record
        .entry("status")
        .or_insert_with(|| Status::InForce.as_str().into());
    record.entry("domains").or_insert_with(|| json!(["综合"]));
    record.entry("revised").or_insert_with(|| json!([]));
    record
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub entries: i64,
    pub created: i64,
    pub unchanged: i64,
    /// `(entry id or position, reason)`.
    pub rejected: Vec<(String, String)>,
    /// Ids of the documents created.
    pub created_ids: Vec<i64>,
}

/// Adds the new entries of `bytes` to the store.
pub async fn sync(
    store: &Store,
    bytes: &[u8],
    defaults: &FeedDefaults,
    today: Date,
    now: i64,
) -> Result<SyncOutcome, FeedError> {
    let entries = parse_feed(bytes)?;
    let mut outcome = SyncOutcome {
        entries: entries.len() as i64,
        ..SyncOutcome::default()
    };
    for (index, record) in entries.into_iter().enumerate() {
        let label = record
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("第{}条", index + 1));
        let record = with_defaults(record, defaults);
        let (input, _, _) = match parse_record(&record, today, "feed", false) {
            Ok(parsed) => parsed,
            Err((field, reason)) => {
                let reason = match field {
                    Some(field) => format!("{field}：{reason}"),
                    None => reason,
                };
                outcome.rejected.push((label, reason));
                continue;
            }
        };
        let source_id = input.source_id.clone().unwrap_or_default();
        let known = store
            .regulation_by_source(&source_id)
            .await
            .map_err(|e| FeedError::Fetch(e.to_string()))?;
        if known.is_some() {
            outcome.unchanged += 1;
            continue;
        }
        if let Some(key) = &input.number_key
            && let Some(other) = store
                .regulation_by_number_key(key)
                .await
                .map_err(|e| FeedError::Fetch(e.to_string()))?
        {
            outcome.rejected.push((
                label,
                format!("文号/标准编号 {key} 已属于《{}》", other.title),
            ));
            continue;
        }
        match store.upsert_regulation(&input, now).await {
            Ok(Upserted::Created(id)) => {
                outcome.created += 1;
                outcome.created_ids.push(id);
            }
            Ok(_) => outcome.unchanged += 1,
            Err(e) => outcome.rejected.push((label, format!("保存失败：{e}"))),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:gb="https://greenbridge.example/ns">
  <title>上海市生态环境局 政策文件</title>
  <entry>
    <id>https://sthj.example/zcfg/2026/001</id>
    <title>上海市关于加强&amp;规范危险废物管理的通知</title>
    <link rel="alternate" href="https://sthj.example/zcfg/2026/001.html"/>
    <published>2026-11-20T09:00:00+08:00</published>
    <summary type="html">&lt;p&gt;明确危险废物贮存要求。&lt;/p&gt;</summary>
    <category term="规范性文件"/>
    <category term="固废"/>
    <gb:doc_number>沪环土〔2026〕12号</gb:doc_number>
    <gb:effective>2027-01-01</gb:effective>
  </entry>
  <entry>
    <id>https://sthj.example/zcfg/2026/002</id>
    <title>上海市地方标准 锅炉大气污染物排放标准</title>
    <updated>2026-11-21T09:00:00Z</updated>
    <category term="地方标准"/>
    <gb:doc_number>DB31/387-2026</gb:doc_number>
  </entry>
</feed>"#;

    const RSS: &str = r#"<rss version="2.0"><channel><title>t</title>
      <item><title>江苏省某规范性文件</title><link>https://js.example/a</link>
        <guid>js-2026-7</guid><pubDate>Fri, 20 Nov 2026 09:00:00 +0800</pubDate>
        <description><![CDATA[<p>摘要内容</p>]]></description><category>水</category></item>
    </channel></rss>"#;

    fn defaults() -> FeedDefaults {
        FeedDefaults {
            level: Level::NormativeDocument,
            scope: Scope::Region("310000".into()),
            issuer: "上海市生态环境局".into(),
        }
    }

    #[test]
    fn atom_entries_become_records() {
        let entries = parse_feed(ATOM.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        let first = &entries[0];
        assert_eq!(first["id"], "https://sthj.example/zcfg/2026/001");
        assert_eq!(first["title"], "上海市关于加强&规范危险废物管理的通知");
        assert_eq!(first["published"], "2026-11-20");
        assert_eq!(first["summary"], "明确危险废物贮存要求。");
        assert_eq!(first["level"], "规范性文件");
        assert_eq!(first["domains"], json!(["固废"]));
        assert_eq!(first["doc_number"], "沪环土〔2026〕12号");
        let record = with_defaults(first.clone(), &defaults());
        let (input, _, _) = parse_record(&record, date!(2026 - 11 - 28), "feed", false).unwrap();
        assert_eq!(input.status, Status::NotYetInForce);
        assert_eq!(input.scope, Scope::Region("310000".into()));
        let second = with_defaults(entries[1].clone(), &defaults());
        let (input, _, _) = parse_record(&second, date!(2026 - 11 - 28), "feed", false).unwrap();
        assert_eq!(input.level, Level::LocalStandard);
        assert_eq!(input.mandatory, Some(true));
        assert_eq!(input.published, Some(date!(2026 - 11 - 21)));
    }

    #[test]
    fn rss_and_json_feeds_are_read_too() {
        let entries = parse_feed(RSS.as_bytes()).unwrap();
        assert_eq!(entries[0]["id"], "js-2026-7");
        assert_eq!(entries[0]["published"], "2026-11-20");
        assert_eq!(entries[0]["summary"], "摘要内容");
        assert_eq!(entries[0]["domains"], json!(["水"]));
        let json_feed = json!({"version": "https://jsonfeed.org/version/1.1", "items": [
            {"id": "zj-1", "title": "浙江省文件", "content_text": "第一条", "date_published": "2026-11-01T00:00:00+08:00",
             "tags": ["地方性法规", "气"], "_greenbridge": {"issuer": "浙江省人民代表大会常务委员会", "region": "浙江省"}}
        ]});
        let entries = parse_feed(json_feed.to_string().as_bytes()).unwrap();
        assert_eq!(entries[0]["level"], "地方性法规");
        assert_eq!(entries[0]["full_text"], "第一条");
        assert_eq!(entries[0]["region"], "浙江省");
        assert!(parse_feed(b"hello").is_err());
        assert!(parse_feed(b"<html><body>x</body></html>").is_err());
    }

    #[test]
    fn feed_dates_are_days_in_shanghai() {
        assert_eq!(
            feed_date("2026-11-20T20:00:00Z").as_deref(),
            Some("2026-11-21")
        );
        assert_eq!(
            feed_date("Fri, 20 Nov 2026 09:00:00 +0800").as_deref(),
            Some("2026-11-20")
        );
        assert_eq!(feed_date("2026-11-20").as_deref(), Some("2026-11-20"));
        assert_eq!(feed_date("soon"), None);
    }
}
