//! 标准政策: the public search page (`/regulations`), the document page
//! (`/regulations/{id}`) with its replaced-by banner, links, attachments and
//! interpretations, and `GET /api/v1/regulations` (DESIGN.md: `q, level, status, issuer,
//! domain, region, mandatory, effective_from, effective_to`, plus `published_from`,
//! `published_to`, `sort`, `order`).
//!
//! Search runs on this instance's `regulations` index; the page then reads the hits'
//! rows and cuts the full-text snippet around the best match
//! ([`greenbridge_search::collections::regulations::full_text_snippet`]). Statuses
//! are shown as of today by the clock: a document whose effective date has come is
//! 现行有效 even before the daily job has updated its row and the index.
//!
//! Adding and editing documents, the articles and the feeds are in
//! [`super::regulations_manage`].

use super::api::Params;
use super::regulations_manage;
use super::services::ensure_enabled;
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{Html, Response};
use axum::routing::get;
use greenbridge_domain::module::Module;
use greenbridge_domain::regulation::{
    Domain, Level, Status, day_number, scopes_applying_at, standard_numbers_in,
};
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::{format_date, parse_date};
use greenbridge_search::collections::regulations::{full_text_snippet, highlight_terms};
use greenbridge_search::{Filter, SearchIndex, SearchRequest, SearchResults, Sort};
use greenbridge_store::regulations::{Article, COLLECTION, Regulation, RegulationLinks};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use time::Date;

/// Hits per page on the search page.
const PAGE_SIZE: usize = 20;
/// Characters of a full-text snippet.
const SNIPPET_CHARS: usize = 140;
/// Longest keyword kept.
const MAX_Q_CHARS: usize = 100;

/// The query parameters of the page and the API.
pub const SEARCH_PARAMS: [&str; 13] = [
    "q",
    "level",
    "status",
    "issuer",
    "domain",
    "region",
    "mandatory",
    "effective_from",
    "effective_to",
    "published_from",
    "published_to",
    "sort",
    "order",
];

/// Public routes of the module (the API routes are in `api.rs`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/regulations", get(search_page))
        .route("/regulations/{id}", get(document_page))
        .route("/regulations/{id}/files/{file_id}", get(download))
        .merge(regulations_manage::routes())
}

/// Which statuses a search includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChoice {
    /// Everything but 已废止 (no `status` parameter).
    Current,
    /// `status=all`.
    All,
    Only(Vec<Status>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortChoice {
    Relevance,
    /// Published (else effective) date.
    Date,
    Effective,
}

/// A search, parsed and checked.
#[derive(Debug, Clone)]
pub struct RegulationSearch {
    pub q: String,
    pub levels: Vec<Level>,
    pub status: StatusChoice,
    pub issuers: Vec<String>,
    pub domains: Vec<Domain>,
    pub region: Option<String>,
    pub mandatory: Option<bool>,
    pub effective_from: Option<Date>,
    pub effective_to: Option<Date>,
    pub published_from: Option<Date>,
    pub published_to: Option<Date>,
    pub sort: SortChoice,
    pub descending: bool,
    pub page: usize,
    pub page_size: usize,
}

fn date_param(params: &Params, name: &str) -> AppResult<Option<Date>> {
    params
        .one(name)
        .map(|v| parse_date(v).map_err(|e| AppError::bad_request(name, e.to_string())))
        .transpose()
}

impl RegulationSearch {
    pub fn parse(params: &Params, default_page_size: Option<usize>) -> AppResult<RegulationSearch> {
        let (page, page_size) = params.page()?;
        let q: String = params
            .one("q")
            .unwrap_or("")
            .chars()
            .take(MAX_Q_CHARS)
            .collect();
        let levels = params
            .all("level")
            .into_iter()
            .map(|v| Level::parse(v).map_err(|e| AppError::bad_request("level", e.to_string())))
            .collect::<AppResult<Vec<_>>>()?;
        let statuses = params.all("status");
        let status = if statuses.is_empty() {
            StatusChoice::Current
        } else if statuses.contains(&"all") {
            StatusChoice::All
        } else {
            StatusChoice::Only(
                statuses
                    .into_iter()
                    .map(|v| {
                        Status::parse(v).map_err(|_| {
                            AppError::bad_request(
                                "status",
                                format!("未知的时效性：{v}（可选 现行有效、已修改、已废止、尚未生效 或 all）"),
                            )
                        })
                    })
                    .collect::<AppResult<Vec<_>>>()?,
            )
        };
        let domains = params
            .all("domain")
            .into_iter()
            .map(|v| Domain::parse(v).map_err(|e| AppError::bad_request("domain", e.to_string())))
            .collect::<AppResult<Vec<_>>>()?;
        let region = match params.one("region") {
            None => None,
            Some(code) => {
                if scopes_applying_at(code).is_none() {
                    return Err(AppError::bad_request(
                        "region",
                        format!("未知的地区代码 {code}"),
                    ));
                }
                Some(code.to_string())
            }
        };
        let mandatory = match params.one("mandatory") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(AppError::bad_request(
                    "mandatory",
                    "mandatory 只能是 true 或 false",
                ));
            }
        };
        let sort = match params.one("sort") {
            None => {
                if q.trim().is_empty() {
                    SortChoice::Date
                } else {
                    SortChoice::Relevance
                }
            }
            Some("relevance") => SortChoice::Relevance,
            Some("date") | Some("published") => SortChoice::Date,
            Some("effective") => SortChoice::Effective,
            Some(_) => {
                return Err(AppError::bad_request(
                    "sort",
                    "sort 只能是 relevance、date 或 effective",
                ));
            }
        };
        let descending = match params.one("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => return Err(AppError::bad_request("order", "order 只能是 asc 或 desc")),
        };
        let search = RegulationSearch {
            q,
            levels,
            status,
            issuers: params
                .all("issuer")
                .into_iter()
                .map(str::to_string)
                .collect(),
            domains,
            region,
            mandatory,
            effective_from: date_param(params, "effective_from")?,
            effective_to: date_param(params, "effective_to")?,
            published_from: date_param(params, "published_from")?,
            published_to: date_param(params, "published_to")?,
            sort,
            descending,
            page,
            page_size: if params.one("page_size").is_none() {
                default_page_size.unwrap_or(page_size)
            } else {
                page_size
            },
        };
        for (from, to, field) in [
            (search.effective_from, search.effective_to, "effective_to"),
            (search.published_from, search.published_to, "published_to"),
        ] {
            if let (Some(from), Some(to)) = (from, to)
                && to < from
            {
                return Err(AppError::bad_request(field, "结束日期早于开始日期"));
            }
        }
        Ok(search)
    }

    /// The request for the index: the keyword with standard numbers taken out (they
    /// become an exact `std_key` filter), and every filter.
    pub fn request(&self) -> SearchRequest {
        let (numbers, rest) = standard_numbers_in(&self.q);
        let mut filters = Vec::new();
        if !numbers.is_empty() {
            filters.push(Filter::AnyOf {
                field: "std_key".into(),
                values: numbers.iter().map(|n| n.query_key()).collect(),
            });
        }
        let any = |field: &str, values: Vec<String>| Filter::AnyOf {
            field: field.into(),
            values,
        };
        filters.push(any(
            "level",
            self.levels.iter().map(|l| l.as_str().to_string()).collect(),
        ));
        match &self.status {
            StatusChoice::All => {}
            StatusChoice::Current => filters.push(any(
                "status",
                Status::ALL
                    .iter()
                    .filter(|s| s.is_current())
                    .map(|s| s.as_str().to_string())
                    .collect(),
            )),
            StatusChoice::Only(statuses) => filters.push(any(
                "status",
                statuses.iter().map(|s| s.as_str().to_string()).collect(),
            )),
        }
        filters.push(any("issuer", self.issuers.clone()));
        filters.push(any(
            "domain",
            self.domains
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
        ));
        if let Some(region) = &self.region {
            filters.push(any(
                "applies",
                scopes_applying_at(region).unwrap_or_default(),
            ));
        }
        if let Some(mandatory) = self.mandatory {
            filters.push(any("mandatory", vec![mandatory.to_string()]));
        }
        for (field, from, to) in [
            ("effective", self.effective_from, self.effective_to),
            ("published", self.published_from, self.published_to),
        ] {
            if from.is_some() || to.is_some() {
                filters.push(Filter::Range {
                    field: field.into(),
                    min: from.map(day_number),
                    max: to.map(day_number),
                });
            }
        }
        let sort = match self.sort {
            SortChoice::Relevance if !rest.trim().is_empty() => Sort::Relevance,
            SortChoice::Effective => Sort::Number {
                field: "effective".into(),
                descending: self.descending,
            },
            _ => Sort::Number {
                field: "date".into(),
                descending: self.descending,
            },
        };
        SearchRequest {
            q: Some(rest).filter(|q| !q.trim().is_empty()),
            filters,
            sort,
            offset: (self.page - 1) * self.page_size,
            limit: self.page_size,
            facet_fields: ["level", "status", "domain", "region", "issuer", "mandatory"]
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }

    /// The search as query-string pairs (page left out), for links.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        for l in &self.levels {
            pairs.push(("level", l.as_str().to_string()));
        }
        match &self.status {
            StatusChoice::Current => {}
            StatusChoice::All => pairs.push(("status", "all".into())),
            StatusChoice::Only(s) => {
                pairs.extend(s.iter().map(|s| ("status", s.as_str().to_string())))
            }
        }
        for i in &self.issuers {
            pairs.push(("issuer", i.clone()));
        }
        for d in &self.domains {
            pairs.push(("domain", d.as_str().to_string()));
        }
        if let Some(r) = &self.region {
            pairs.push(("region", r.clone()));
        }
        if let Some(m) = self.mandatory {
            pairs.push(("mandatory", m.to_string()));
        }
        for (name, date) in [
            ("effective_from", self.effective_from),
            ("effective_to", self.effective_to),
            ("published_from", self.published_from),
            ("published_to", self.published_to),
        ] {
            if let Some(d) = date {
                pairs.push((name, format_date(d)));
            }
        }
        pairs
    }
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// This instance's regulations index.
pub fn index(state: &AppState) -> AppResult<Arc<SearchIndex>> {
    state
        .search
        .index(COLLECTION)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the regulations index is not open")))
}

/// One hit, read back from the database.
pub struct Found {
    pub regulation: Regulation,
    /// The status today by the clock.
    pub status: Status,
    pub title_html: String,
    pub summary_html: String,
    pub text_html: Option<String>,
}

/// Runs `search` and reads its hits' rows.
pub async fn run(
    state: &AppState,
    search: &RegulationSearch,
) -> AppResult<(SearchResults, Vec<Found>)> {
    let request = search.request();
    let results = index(state)?
        .search(&request)
        .map_err(|e| AppError::Internal(e.into()))?;
    let ids: Vec<i64> = results
        .hits
        .iter()
        .filter_map(|h| h.id.parse().ok())
        .collect();
    let rows = state.store.regulations_by_ids(&ids).await?;
    let terms: HashSet<String> = request
        .q
        .as_deref()
        .map(highlight_terms)
        .unwrap_or_default();
    let today = state.clock.today();
    let escape = crate::errors::escape_html;
    let mut found = Vec::with_capacity(rows.len());
    for regulation in rows {
        let hit = results
            .hits
            .iter()
            .find(|h| h.id == regulation.id.to_string());
        let snippet = |field: &str, fallback: &str| {
            hit.and_then(|h| h.snippets.get(field).cloned())
                .unwrap_or_else(|| escape(fallback))
        };
        found.push(Found {
            title_html: snippet("title", &regulation.title),
            summary_html: snippet("summary", &regulation.summary),
            text_html: full_text_snippet(&regulation.full_text, &terms, SNIPPET_CHARS),
            status: regulation.status_on(today),
            regulation,
        });
    }
    Ok((results, found))
}

fn facet_label(field: &str, value: &str) -> String {
    match (field, value) {
        ("mandatory", "true") => "强制性标准".into(),
        ("mandatory", "false") => "推荐性标准".into(),
        _ => value.to_string(),
    }
}

fn facets_json(results: &SearchResults) -> Value {
    let mut out = serde_json::Map::new();
    for (field, values) in &results.facets {
        let list: Vec<Value> = values
            .iter()
            .take(if field == "issuer" { 30 } else { 100 })
            .map(|(value, count)| {
                json!({ "value": value, "label": facet_label(field, value), "count": count })
            })
            .collect();
        out.insert(field.clone(), Value::Array(list));
    }
    Value::Object(out)
}

fn date_json(date: Option<Date>) -> Value {
    date.map_or(Value::Null, |d| Value::String(format_date(d)))
}

fn item_json(found: &Found) -> Value {
    let r = &found.regulation;
    json!({
        "id": r.id.to_string(),
        "source_id": r.source_id,
        "title": r.title,
        "doc_number": r.doc_number,
        "level": r.level.as_str(),
        "status": found.status.as_str(),
        "effective": date_json(r.effective),
        "published": date_json(r.published),
        "issuer": r.issuer,
        "domains": r.domains.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "region": r.scope.label(),
        "mandatory": r.mandatory,
        "sample": r.sample,
        "url": format!("/regulations/{}", r.id),
        "highlights": {
            "title": found.title_html,
            "summary": found.summary_html,
            "full_text": found.text_html,
        },
    })
}

/// `GET /api/v1/regulations`.
pub async fn api_list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Regulations).await?;
    let params = Params::parse(raw, &SEARCH_PARAMS)?;
    let search = RegulationSearch::parse(&params, None)?;
    let (results, found) = run(&state, &search).await?;
    Ok(Json(json!({
        "total": results.total,
        "items": found.iter().map(item_json).collect::<Vec<_>>(),
        "facets": facets_json(&results),
        "relaxed": results.relaxed,
    })))
}

fn link_json(l: &greenbridge_store::regulations::LinkedRegulation, today: Date) -> Value {
    json!({
        "id": l.id.to_string(), "title": l.title, "doc_number": l.doc_number,
        "status": l.status.at(l.effective, today).as_str(), "effective": date_json(l.effective),
    })
}

/// A document's status today, with its replacement taken into account: replaced by a
/// document that is in force means 已废止, even before the daily job has run.
pub fn status_today(regulation: &Regulation, links: &RegulationLinks, today: Date) -> Status {
    let replaced = links.replaced_by.iter().any(|l| {
        matches!(
            l.status.at(l.effective, today),
            Status::InForce | Status::Amended
        )
    });
    greenbridge_domain::regulation::status_with_replacement(
        regulation.status,
        regulation.effective,
        replaced,
        today,
    )
}

/// `GET /api/v1/regulations/{id}`: one document with its full text and links.
pub async fn api_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Regulations).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let r = state.store.regulation(id).await?;
    let links = state.store.regulation_links(id).await?;
    let today = state.clock.today();
    let articles = state.store.articles_for_regulation(id).await?;
    Ok(Json(json!({
        "id": r.id.to_string(),
        "source_id": r.source_id,
        "title": r.title,
        "doc_number": r.doc_number,
        "level": r.level.as_str(),
        "status": status_today(&r, &links, today).as_str(),
        "effective": date_json(r.effective),
        "published": date_json(r.published),
        "revised": r.revised.iter().map(|d| format_date(*d)).collect::<Vec<_>>(),
        "issuer": r.issuer,
        "domains": r.domains.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "region": r.scope.label(),
        "region_detail": r.scope.name(),
        "mandatory": r.mandatory,
        "summary": r.summary,
        "full_text": r.full_text,
        "sample": r.sample,
        "replaced_by": links.replaced_by.iter().map(|l| link_json(l, today)).collect::<Vec<_>>(),
        "replaces": links.replaces.iter().map(|l| link_json(l, today)).collect::<Vec<_>>(),
        "amends": links.amends.iter().map(|l| link_json(l, today)).collect::<Vec<_>>(),
        "amended_by": links.amended_by.iter().map(|l| link_json(l, today)).collect::<Vec<_>>(),
        "interpretations": articles.iter().map(|a| json!({
            "id": a.id.to_string(), "kind": a.kind.as_str(), "title": a.title,
            "url": format!("/regulations/articles/{}", a.id),
        })).collect::<Vec<_>>(),
    })))
}

/// A result row of the page.
pub struct ResultRow {
    pub id: i64,
    pub title_html: String,
    pub doc_number: String,
    pub level: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub issuer: String,
    pub effective: String,
    pub region: String,
    pub summary_html: String,
    pub text_html: String,
    pub sample: bool,
}

pub struct FacetLink {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub active: bool,
}

pub struct FacetGroup {
    pub title: &'static str,
    pub links: Vec<FacetLink>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "regulations.html")]
struct SearchPage {
    page: Page,
    q: String,
    levels: Vec<Choice>,
    statuses: Vec<Choice>,
    domains: Vec<Choice>,
    regions: Vec<Choice>,
    mandatory: String,
    issuer: String,
    effective_from: String,
    effective_to: String,
    published_from: String,
    published_to: String,
    sort: &'static str,
    rows: Vec<ResultRow>,
    total: usize,
    relaxed: bool,
    facets: Vec<FacetGroup>,
    error: Option<String>,
    page_number: usize,
    has_next: bool,
    query_string: String,
    can_manage: bool,
    can_configure: bool,
}

pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::InForce => "status-in-force",
        Status::Amended => "status-amended",
        Status::Repealed => "status-repealed",
        Status::NotYetInForce => "status-pending",
    }
}

/// Regions a visitor picks from: the zone's districts, the three provinces.
const REGION_CHOICES: [(&str, &str); 6] = [
    ("310118", "上海市青浦区"),
    ("320509", "江苏省苏州市吴江区"),
    ("330421", "浙江省嘉兴市嘉善县"),
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
];

fn facet_groups(search: &RegulationSearch, results: &SearchResults) -> Vec<FacetGroup> {
    let base = search.pairs();
    let mut groups = Vec::new();
    for (field, title) in [
        ("level", "效力级别"),
        ("status", "时效性"),
        ("domain", "领域"),
        ("mandatory", "标准属性"),
        ("region", "适用地区"),
        ("issuer", "发布机关"),
    ] {
        let Some(values) = results.facets.get(field) else {
            continue;
        };
        // The region facet names the data's regions; it is shown for information and
        // its links narrow by the keyword filter of the same value.
        let links = values
            .iter()
            .take(12)
            .map(|(value, count)| {
                let param = match field {
                    "region" => None,
                    other => Some(other),
                };
                let mut pairs: Vec<(&str, String)> = base
                    .iter()
                    .filter(|(k, _)| Some(*k) != param && !(field == "status" && *k == "status"))
                    .cloned()
                    .collect();
                if let Some(param) = param {
                    pairs.push((param, value.clone()));
                }
                let active = base.iter().any(|(k, v)| Some(*k) == param && v == value);
                FacetLink {
                    label: facet_label(field, value),
                    count: *count,
                    href: match param {
                        Some(_) => format!("/regulations?{}", query_string(&pairs)),
                        None => String::new(),
                    },
                    active,
                }
            })
            .collect();
        groups.push(FacetGroup { title, links });
    }
    groups
}

/// `GET /regulations`: the search page; every filter is in the URL.
pub async fn search_page(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Regulations).await?;
    let parsed = Params::parse(raw, &SEARCH_PARAMS)
        .and_then(|p| RegulationSearch::parse(&p, Some(PAGE_SIZE)));
    let (search, error) = match parsed {
        Ok(search) => (search, None),
        Err(AppError::BadRequest { message, .. }) => {
            let empty = Params::parse(None, &SEARCH_PARAMS)?;
            (
                RegulationSearch::parse(&empty, Some(PAGE_SIZE))?,
                Some(message),
            )
        }
        Err(other) => return Err(other),
    };
    let (results, found) = run(&state, &search).await?;
    let rows = found
        .iter()
        .map(|f| {
            let r = &f.regulation;
            ResultRow {
                id: r.id,
                title_html: f.title_html.clone(),
                doc_number: r.doc_number.clone().unwrap_or_default(),
                level: r.level.as_str(),
                status: f.status.as_str(),
                status_class: status_class(f.status),
                issuer: r.issuer.clone(),
                effective: r.effective.map(format_date).unwrap_or_default(),
                region: r.scope.name(),
                summary_html: f.summary_html.clone(),
                text_html: f.text_html.clone().unwrap_or_default(),
                sample: r.sample,
            }
        })
        .collect();
    let choice = |value: &str, label: &str, checked: bool| Choice {
        value: value.to_string(),
        label: label.to_string(),
        checked,
    };
    let levels = Level::ALL
        .iter()
        .map(|l| choice(l.as_str(), l.as_str(), search.levels.contains(l)))
        .collect();
    let mut statuses = vec![
        choice(
            "",
            "不含已废止（默认）",
            search.status == StatusChoice::Current,
        ),
        choice(
            "all",
            "全部（含已废止）",
            search.status == StatusChoice::All,
        ),
    ];
    for s in Status::ALL {
        let checked = matches!(&search.status, StatusChoice::Only(v) if v.len() == 1 && v[0] == *s);
        statuses.push(choice(s.as_str(), s.as_str(), checked));
    }
    let domains = Domain::ALL
        .iter()
        .map(|d| choice(d.as_str(), d.as_str(), search.domains.contains(d)))
        .collect();
    let mut regions = vec![choice("", "不限", search.region.is_none())];
    regions.extend(
        REGION_CHOICES
            .iter()
            .map(|(code, name)| choice(code, name, search.region.as_deref() == Some(code))),
    );
    if let Some(code) = &search.region
        && !REGION_CHOICES.iter().any(|(c, _)| c == code)
    {
        let name = greenbridge_domain::region::RegionTree::embedded().full_name(code);
        regions.push(choice(code, &name, true));
    }
    let can_manage = ctx
        .viewer
        .as_ref()
        .is_some_and(|v| v.can(Permission::ManageRegulations));
    let can_configure = ctx
        .viewer
        .as_ref()
        .is_some_and(|v| v.can(Permission::ConfigureModules));
    let page = Page::new(&state, &ctx, "标准政策").await;
    let fmt = |d: Option<Date>| d.map(format_date).unwrap_or_default();
    let html = SearchPage {
        page,
        q: search.q.clone(),
        levels,
        statuses,
        domains,
        regions,
        mandatory: search.mandatory.map(|m| m.to_string()).unwrap_or_default(),
        issuer: search.issuers.first().cloned().unwrap_or_default(),
        effective_from: fmt(search.effective_from),
        effective_to: fmt(search.effective_to),
        published_from: fmt(search.published_from),
        published_to: fmt(search.published_to),
        sort: match search.sort {
            SortChoice::Relevance => "relevance",
            SortChoice::Date => "date",
            SortChoice::Effective => "effective",
        },
        rows,
        total: results.total,
        relaxed: results.relaxed,
        facets: facet_groups(&search, &results),
        error: error.clone(),
        page_number: search.page,
        has_next: search.page * search.page_size < results.total,
        query_string: query_string(&search.pairs()),
        can_manage,
        can_configure,
    }
    .render()?;
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    Ok(crate::errors::rendered(status, Html(html)))
}

pub struct LinkRow {
    pub id: i64,
    pub title: String,
    pub doc_number: String,
    pub status: &'static str,
    /// Not yet in force today.
    pub pending: bool,
    pub effective: String,
}

pub struct FileRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub size: String,
    pub note: String,
    pub text_extracted: bool,
}

pub struct ArticleRow {
    pub id: i64,
    pub kind: &'static str,
    pub title: String,
    pub author: String,
    pub updated: String,
}

pub fn article_row(a: &Article) -> ArticleRow {
    ArticleRow {
        id: a.id,
        kind: a.kind.label_zh(),
        title: a.title.clone(),
        author: a.author_name.clone(),
        updated: greenbridge_domain::time::format_unix_zh(a.updated_at),
    }
}

#[derive(Template)]
#[template(path = "regulation.html")]
struct DocumentPage {
    page: Page,
    r: Regulation,
    status: &'static str,
    status_class: &'static str,
    domains: String,
    region: String,
    published: String,
    effective: String,
    revised: String,
    mandatory: &'static str,
    paragraphs: Vec<String>,
    replaced_by: Vec<LinkRow>,
    replaces: Vec<LinkRow>,
    amends: Vec<LinkRow>,
    amended_by: Vec<LinkRow>,
    files: Vec<FileRow>,
    articles: Vec<ArticleRow>,
    can_manage: bool,
}

fn link_rows(
    links: &[greenbridge_store::regulations::LinkedRegulation],
    today: Date,
) -> Vec<LinkRow> {
    links
        .iter()
        .map(|l| LinkRow {
            id: l.id,
            title: l.title.clone(),
            doc_number: l.doc_number.clone().unwrap_or_default(),
            status: l.status.at(l.effective, today).as_str(),
            pending: l.status.at(l.effective, today) == Status::NotYetInForce,
            effective: l.effective.map(format_date).unwrap_or_default(),
        })
        .collect()
}

/// `GET /regulations/{id}`: the document; a replaced one says at its top which
/// document replaced it.
pub async fn document_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Regulations).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let r = state.store.regulation(id).await?;
    let links = state.store.regulation_links(id).await?;
    let today = state.clock.today();
    let status = status_today(&r, &links, today);
    let files = state
        .store
        .regulation_files(id)
        .await?
        .into_iter()
        .map(|f| FileRow {
            id: f.file.id,
            name: f.file.original_name.clone(),
            kind: f.file.kind.label(),
            size: crate::uploads::format_size(f.file.size),
            note: f.note,
            text_extracted: f.text_extracted,
        })
        .collect();
    let articles = state
        .store
        .articles_for_regulation(id)
        .await?
        .iter()
        .map(article_row)
        .collect();
    let can_manage = ctx
        .viewer
        .as_ref()
        .is_some_and(|v| v.can(Permission::ManageRegulations));
    let page = Page::new(&state, &ctx, r.title.clone()).await;
    Ok(Html(
        DocumentPage {
            page,
            status: status.as_str(),
            status_class: status_class(status),
            domains: r
                .domains
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            region: r.scope.name(),
            published: r.published.map(format_date).unwrap_or_default(),
            effective: r.effective.map(format_date).unwrap_or_default(),
            revised: r
                .revised
                .iter()
                .map(|d| format_date(*d))
                .collect::<Vec<_>>()
                .join("、"),
            mandatory: match r.mandatory {
                Some(true) => "强制性标准",
                Some(false) => "推荐性标准",
                None => "",
            },
            paragraphs: r
                .full_text
                .split('\n')
                .map(str::trim_end)
                .filter(|p| !p.trim().is_empty())
                .map(str::to_string)
                .collect(),
            replaced_by: link_rows(&links.replaced_by, today),
            replaces: link_rows(&links.replaces, today),
            amends: link_rows(&links.amends, today),
            amended_by: link_rows(&links.amended_by, today),
            files,
            articles,
            can_manage,
            r,
        }
        .render()?,
    ))
}

/// `GET /regulations/{id}/files/{file_id}`: an attachment of a public document.
pub async fn download(
    State(state): State<AppState>,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Regulations).await?;
    let (Ok(id), Ok(file_id)) = (id.parse::<i64>(), file_id.parse::<i64>()) else {
        return Err(AppError::NotFound);
    };
    if !state.store.regulation_has_file(id, file_id).await? {
        return Err(AppError::NotFound);
    }
    let file = state.store.file(file_id).await?;
    crate::downloads::serve_file(&state, &file, &headers, None).await
}
