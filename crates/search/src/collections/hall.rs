//! 需求大厅: the two collections of the hall, official notices and enterprise demands.
//! Both share their filter fields so that one query serves either or both:
//!
//! - text: `title` (stored for the highlighted snippet), `party` (purchaser / agency /
//!   enterprise), `body` (the notice text or the demand's description);
//! - keywords: `region` (the district and every region above it, and the town when
//!   known), `type` (the notice type; `企业需求` for demands), `category` (each
//!   service category code and its family), `purchaser` (purchaser or enterprise, exact),
//!   `state` (notices: `open`, `terminated`, `awarded`, `linked`, `unlinked`;
//!   demands: their status), `sample`;
//! - numbers: `publish` (YYYYMMDD), `budget` (fen; absent when none or 面议),
//!   `deadline` (unix seconds; the corrected one for an announcement).

use std::collections::HashMap;

use super::{CollectionSource, SourcePage};
use crate::{CollectionSpec, Doc, TextField};
use greenbridge_domain::notice::category_family;
use greenbridge_domain::region::RegionTree;
use greenbridge_store::demands::{DEMANDS, Demand};
use greenbridge_store::notices::{NOTICES, Notice};
use greenbridge_store::{Store, StoreError};

const TEXT_FIELDS: &[TextField] = &[
    TextField {
        name: "title",
        boost: 3.0,
        stored_for_snippet: true,
    },
    TextField {
        name: "party",
        boost: 1.5,
        stored_for_snippet: false,
    },
    TextField {
        name: "body",
        boost: 1.0,
        stored_for_snippet: false,
    },
];
const KEYWORD_FIELDS: &[&str] = &["region", "type", "category", "purchaser", "state", "sample"];
const NUMBER_FIELDS: &[&str] = &["publish", "budget", "deadline"];

pub static NOTICE_SPEC: CollectionSpec = CollectionSpec {
    name: NOTICES,
    version: 1,
    text_fields: TEXT_FIELDS,
    keyword_fields: KEYWORD_FIELDS,
    number_fields: NUMBER_FIELDS,
};

pub static DEMAND_SPEC: CollectionSpec = CollectionSpec {
    name: DEMANDS,
    version: 1,
    text_fields: TEXT_FIELDS,
    keyword_fields: KEYWORD_FIELDS,
    number_fields: NUMBER_FIELDS,
};

/// The `type` keyword of demands.
pub const DEMAND_TYPE: &str = "企业需求";

/// `2026-01-05` → 20260105.
pub fn date_number(date: &str) -> Option<i64> {
    let digits: String = date.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

fn region_keys(district: Option<&str>, town: Option<&str>) -> Vec<String> {
    let tree = RegionTree::embedded();
    let mut keys: Vec<String> = district
        .map(|d| {
            tree.ancestors(d)
                .iter()
                .map(|r| r.code.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    if let Some(d) = district
        && keys.is_empty()
    {
        keys.push(d.to_string());
    }
    if let Some(t) = town {
        keys.push(t.to_string());
    }
    keys
}

fn category_keys(codes: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for code in codes {
        for key in [code.as_str(), category_family(code)] {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
    }
    keys
}

/// The search document of a notice; `later` are its later notices (for an
/// announcement: the corrections that change its deadline or budget).
pub fn notice_doc(notice: &Notice, later: &[Notice]) -> Doc {
    let f = &notice.fields;
    let effective = notice.effective(later);
    let mut doc = Doc::new(notice.id.to_string())
        .text("title", f.title.clone())
        .text(
            "party",
            [
                f.purchaser.as_deref(),
                f.agency.as_deref(),
                f.winner.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        )
        .text("body", f.body_text.clone())
        .keywords(
            "region",
            region_keys(f.region_code.as_deref(), f.town_code.as_deref()),
        )
        .keyword("type", f.notice_type.as_str())
        .keywords("category", category_keys(&f.categories))
        .keyword("state", notice.state.clone())
        .keyword("sample", if f.sample { "yes" } else { "no" });
    if let Some(p) = &f.purchaser {
        doc = doc.keyword("purchaser", p.clone());
    }
    if let Some(n) = f.publish_date.as_deref().and_then(date_number) {
        doc = doc.number("publish", n);
    }
    if let Some(b) = effective.budget {
        doc = doc.number("budget", b.fen());
    }
    if let Some(d) = effective.deadline_at {
        doc = doc.number("deadline", d);
    }
    doc
}

/// The search document of a demand, or `None` when it is not public.
pub fn demand_doc(demand: &Demand) -> Option<Doc> {
    if !demand.status.is_public() {
        return None;
    }
    let f = &demand.fields;
    let mut doc = Doc::new(demand.id.to_string())
        .text("title", f.title.clone())
        .text("party", demand.enterprise_name.clone())
        .text("body", f.description.clone())
        .keywords("region", region_keys(Some(&f.region_code), None))
        .keyword("type", DEMAND_TYPE)
        .keywords(
            "category",
            category_keys(std::slice::from_ref(&f.service_category_code)),
        )
        .keyword("purchaser", demand.enterprise_name.clone())
        .keyword("state", demand.status.as_str())
        .keyword("sample", if demand.sample { "yes" } else { "no" });
    if let Some(n) = demand.publish_date.as_deref().and_then(date_number) {
        doc = doc.number("publish", n);
    }
    if let Some(b) = f.budget {
        doc = doc.number("budget", b.fen());
    }
    if let Some(d) = f.deadline.as_deref().and_then(end_of_day) {
        doc = doc.number("deadline", d);
    }
    Some(doc)
}

/// The last second of a `YYYY-MM-DD` day in Asia/Shanghai (a demand is open through
/// its deadline day).
pub fn end_of_day(date: &str) -> Option<i64> {
    let d = greenbridge_domain::time::parse_date(date).ok()?;
    Some(
        d.midnight()
            .assume_offset(greenbridge_domain::time::SHANGHAI)
            .unix_timestamp()
            + 86_399,
    )
}

async fn notice_docs(store: &Store, notices: &[Notice]) -> Result<Vec<Doc>, StoreError> {
    let announcement_ids: Vec<i64> = notices
        .iter()
        .filter(|n| n.fields.notice_type.is_announcement())
        .map(|n| n.id)
        .collect();
    let mut later: HashMap<i64, Vec<Notice>> = HashMap::new();
    for n in store.later_notices_of(&announcement_ids).await? {
        if let Some(r) = n.related_id {
            later.entry(r).or_default().push(n);
        }
    }
    Ok(notices
        .iter()
        .map(|n| notice_doc(n, later.get(&n.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect())
}

/// Reads notices from the store for the indexer.
pub struct NoticeSource;

#[async_trait::async_trait]
impl CollectionSource for NoticeSource {
    fn spec(&self) -> &'static CollectionSpec {
        &NOTICE_SPEC
    }

    async fn count(&self, store: &Store) -> Result<i64, StoreError> {
        store.count_notices().await
    }

    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError> {
        let rows = store.notices_after(after, limit).await?;
        Ok(SourcePage {
            last_id: rows.last().map(|r| r.id),
            docs: notice_docs(store, &rows).await?,
        })
    }

    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError> {
        let rows = store.notices_by_ids(ids).await?;
        notice_docs(store, &rows).await
    }
}

/// Reads demands from the store for the indexer (public ones only).
pub struct DemandSource;

#[async_trait::async_trait]
impl CollectionSource for DemandSource {
    fn spec(&self) -> &'static CollectionSpec {
        &DEMAND_SPEC
    }

    async fn count(&self, store: &Store) -> Result<i64, StoreError> {
        store.count_demands().await
    }

    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError> {
        let rows = store.demands_after(after, limit).await?;
        Ok(SourcePage {
            last_id: rows.last().map(|r| r.id),
            docs: rows.iter().filter_map(demand_doc).collect(),
        })
    }

    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError> {
        Ok(store
            .demands_by_ids(ids)
            .await?
            .iter()
            .filter_map(demand_doc)
            .collect())
    }
}
