//! 需求大厅: one hall for official notices and enterprise demands.
//!
//! `/demands` shows notices, demands or both (`kind`), found through the two search
//! collections (`notices`, `demands`) with every filter in the URL: keyword, region at
//! four levels (`province`/`city`/`district`/`town` in the form, one `region` code in
//! links), type, service category, budget range (yuan), purchaser/publisher, publish
//! date range, still open (deadline not passed by the platform clock), sort by date,
//! budget or relevance, facets and paging. `/api/v1/notices` and `/api/v1/demands`
//! answer the same filters as JSON. Detail pages show a notice with its later notices
//! (corrections marked, closed by a termination or result) and a demand.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use greenbridge_domain::module::Module;
use greenbridge_domain::money::Money;
use greenbridge_domain::notice::NoticeType;
use greenbridge_domain::region::{RegionLevel, RegionTree};
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_search::collections::hall::{DEMAND_TYPE, date_number};
use greenbridge_search::{Filter, SearchRequest, SearchResults, Sort};
use greenbridge_store::demands::{DEMANDS, Demand};
use greenbridge_store::notices::{NOTICES, Notice};
use serde_json::{Value, json};

use super::api::{Facet, Params};
use super::services::ensure_enabled;
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::page::Page;
use crate::state::AppState;

/// Which collection(s) a search covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Notices,
    Demands,
    Both,
}

impl Kind {
    pub fn parse(value: Option<&str>) -> AppResult<Kind> {
        match value {
            None | Some("both") | Some("") => Ok(Kind::Both),
            Some("notices") => Ok(Kind::Notices),
            Some("demands") => Ok(Kind::Demands),
            Some(_) => Err(AppError::bad_request(
                "kind",
                "kind 只能是 notices、demands 或 both",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Notices => "notices",
            Kind::Demands => "demands",
            Kind::Both => "both",
        }
    }
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Date,
    Budget,
    Relevance,
}

/// The hall's filters, parsed and checked; the same for pages, the API, saved searches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HallFilters {
    pub q: Option<String>,
    pub regions: Vec<String>,
    pub types: Vec<String>,
    pub categories: Vec<String>,
    /// Yuan, inclusive.
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub parties: Vec<String>,
    pub publish_from: Option<String>,
    pub publish_to: Option<String>,
    pub open_only: bool,
    pub sort: Option<SortKey>,
    pub ascending: bool,
}

/// The filter parameter names (besides paging).
pub const FILTER_PARAMS: &[&str] = &[
    "q",
    "region",
    "type",
    "category",
    "budget_min",
    "budget_max",
    "purchaser",
    "publisher",
    "publish_from",
    "publish_to",
    "open",
];

fn yuan_param(params: &Params, name: &str) -> AppResult<Option<i64>> {
    match params.one(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=1_000_000_000_000).contains(n))
            .map(Some)
            .ok_or_else(|| {
                AppError::bad_request(
                    name,
                    format!("{} 应为不小于 0 的整数（元）", field_label(name)),
                )
            }),
    }
}

fn date_param(params: &Params, name: &str) -> AppResult<Option<String>> {
    match params.one(name) {
        None => Ok(None),
        Some(v) => greenbridge_domain::time::parse_date(v)
            .map(|d| Some(greenbridge_domain::time::format_date(d)))
            .map_err(|e| AppError::bad_request(name, format!("{}：{e}", field_label(name)))),
    }
}

/// The label a person sees for a filter parameter, for messages that page and API
/// share (the API's error names the parameter itself in `field`).
fn field_label(name: &str) -> &str {
    match name {
        "budget_min" => "预算下限",
        "budget_max" => "预算上限",
        "publish_from" => "发布日期起",
        "publish_to" => "发布日期止",
        other => other,
    }
}

impl HallFilters {
    pub fn from_params(params: &Params) -> AppResult<HallFilters> {
        let tree = RegionTree::embedded();
        let catalogue = ServiceCatalogue::embedded();
        let mut regions: Vec<String> = params
            .all("region")
            .into_iter()
            .map(str::to_string)
            .collect();
        // The page's four selects: the most specific one chosen wins.
        for level in ["town", "district", "city", "province"] {
            if let Some(code) = params.one(level) {
                regions.push(code.to_string());
                break;
            }
        }
        for code in &regions {
            if tree.get(code).is_none() {
                return Err(AppError::bad_request(
                    "region",
                    format!("未知的地区代码 {code}"),
                ));
            }
        }
        let types: Vec<String> = params.all("type").into_iter().map(str::to_string).collect();
        for t in &types {
            if t != DEMAND_TYPE && t.parse::<NoticeType>().is_err() {
                return Err(AppError::bad_request("type", format!("未知的公告类型 {t}")));
            }
        }
        let types = types
            .into_iter()
            .map(|t| {
                t.parse::<NoticeType>()
                    .map(|n| n.as_str().to_string())
                    .unwrap_or(t)
            })
            .collect();
        let categories: Vec<String> = params
            .all("category")
            .into_iter()
            .map(str::to_string)
            .collect();
        for c in &categories {
            if catalogue.get(c).is_none() {
                return Err(AppError::bad_request(
                    "category",
                    format!("未知的服务类别 {c}"),
                ));
            }
        }
        let budget_min = yuan_param(params, "budget_min")?;
        let budget_max = yuan_param(params, "budget_max")?;
        if let (Some(a), Some(b)) = (budget_min, budget_max)
            && a > b
        {
            return Err(AppError::bad_request("budget_min", "预算下限不能大于上限"));
        }
        let publish_from = date_param(params, "publish_from")?;
        let publish_to = date_param(params, "publish_to")?;
        let open_only = match params.one("open") {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("on") => true,
            Some(_) => return Err(AppError::bad_request("open", "open 只能是 true 或 false")),
        };
        let sort = match params.one("sort") {
            None => None,
            Some("date") => Some(SortKey::Date),
            Some("budget") => Some(SortKey::Budget),
            Some("relevance") => Some(SortKey::Relevance),
            Some(_) => {
                return Err(AppError::bad_request(
                    "sort",
                    "sort 只能是 date、budget 或 relevance",
                ));
            }
        };
        let ascending = match params.one("order") {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => return Err(AppError::bad_request("order", "order 只能是 asc 或 desc")),
        };
        let mut parties: Vec<String> = params
            .all("purchaser")
            .into_iter()
            .map(str::to_string)
            .collect();
        parties.extend(params.all("publisher").into_iter().map(str::to_string));
        Ok(HallFilters {
            q: params.one("q").map(|q| q.chars().take(100).collect()),
            regions,
            types,
            categories,
            budget_min,
            budget_max,
            parties,
            publish_from,
            publish_to,
            open_only,
            sort,
            ascending,
        })
    }

    pub fn sort_key(&self) -> SortKey {
        self.sort.unwrap_or(if self.q.is_some() {
            SortKey::Relevance
        } else {
            SortKey::Date
        })
    }

    /// The search request for one collection; `now` decides "still open".
    pub fn request(
        &self,
        kind: Kind,
        now: i64,
        offset: usize,
        limit: usize,
        facets: bool,
    ) -> SearchRequest {
        let mut filters = Vec::new();
        let any = |field: &str, values: &[String]| Filter::AnyOf {
            field: field.into(),
            values: values.to_vec(),
        };
        if !self.regions.is_empty() {
            filters.push(any("region", &self.regions));
        }
        if !self.types.is_empty() {
            filters.push(any("type", &self.types));
        }
        if !self.categories.is_empty() {
            filters.push(any("category", &self.categories));
        }
        if !self.parties.is_empty() {
            filters.push(any("purchaser", &self.parties));
        }
        if self.budget_min.is_some() || self.budget_max.is_some() {
            filters.push(Filter::Range {
                field: "budget".into(),
                min: self.budget_min.map(|y| y.saturating_mul(100)),
                max: self.budget_max.map(|y| y.saturating_mul(100)),
            });
        }
        if self.publish_from.is_some() || self.publish_to.is_some() {
            filters.push(Filter::Range {
                field: "publish".into(),
                min: self.publish_from.as_deref().and_then(date_number),
                max: self.publish_to.as_deref().and_then(date_number),
            });
        }
        if self.open_only {
            filters.push(Filter::Range {
                field: "deadline".into(),
                min: Some(now),
                max: None,
            });
            filters.push(Filter::AnyOf {
                field: "state".into(),
                values: vec!["open".into()],
            });
        }
        let _ = kind;
        SearchRequest {
            q: self.q.clone(),
            filters,
            sort: match self.sort_key() {
                SortKey::Relevance => Sort::Relevance,
                SortKey::Date => Sort::Number {
                    field: "publish".into(),
                    descending: !self.ascending,
                },
                SortKey::Budget => Sort::Number {
                    field: "budget".into(),
                    descending: !self.ascending,
                },
            },
            offset,
            limit,
            facet_fields: if facets {
                vec!["type".into(), "category".into(), "region".into()]
            } else {
                Vec::new()
            },
        }
    }

    /// The filters as query pairs (canonical: one `region`), for links and saved searches.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(q) = &self.q {
            out.push(("q", q.clone()));
        }
        for r in &self.regions {
            out.push(("region", r.clone()));
        }
        for t in &self.types {
            out.push(("type", t.clone()));
        }
        for c in &self.categories {
            out.push(("category", c.clone()));
        }
        if let Some(v) = self.budget_min {
            out.push(("budget_min", v.to_string()));
        }
        if let Some(v) = self.budget_max {
            out.push(("budget_max", v.to_string()));
        }
        for p in &self.parties {
            out.push(("purchaser", p.clone()));
        }
        if let Some(v) = &self.publish_from {
            out.push(("publish_from", v.clone()));
        }
        if let Some(v) = &self.publish_to {
            out.push(("publish_to", v.clone()));
        }
        if self.open_only {
            out.push(("open", "true".into()));
        }
        if let Some(s) = self.sort {
            out.push((
                "sort",
                match s {
                    SortKey::Date => "date",
                    SortKey::Budget => "budget",
                    SortKey::Relevance => "relevance",
                }
                .into(),
            ));
        }
        if self.ascending {
            out.push(("order", "asc".into()));
        }
        out
    }

    /// A one-line description for people (saved-search names, feed titles).
    pub fn describe(&self) -> String {
        let tree = RegionTree::embedded();
        let mut parts = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("关键词“{q}”"));
        }
        for r in &self.regions {
            parts.push(tree.full_name(r));
        }
        parts.extend(self.types.iter().cloned());
        for c in &self.categories {
            if let Some(cat) = ServiceCatalogue::embedded().get(c) {
                parts.push(cat.name.clone());
            }
        }
        if self.budget_min.is_some() || self.budget_max.is_some() {
            parts.push(format!(
                "预算{}–{}元",
                self.budget_min.map(|v| v.to_string()).unwrap_or_default(),
                self.budget_max.map(|v| v.to_string()).unwrap_or_default()
            ));
        }
        parts.extend(self.parties.iter().cloned());
        if self.open_only {
            parts.push("仍在征集".into());
        }
        if parts.is_empty() {
            "全部".into()
        } else {
            parts.join("，")
        }
    }
}

/// One found item of either collection, with what the list shows.
#[derive(Debug, Clone)]
pub enum Item {
    Notice(Box<Notice>),
    Demand(Box<Demand>),
}

pub struct Found {
    pub total: usize,
    pub items: Vec<(Item, Option<String>)>,
    pub facets: BTreeMap<String, Vec<(String, usize)>>,
    pub relaxed: bool,
}

fn search_one(state: &AppState, name: &str, request: &SearchRequest) -> AppResult<SearchResults> {
    let index = state
        .search
        .index(name)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("search collection {name} missing")))?;
    index
        .search(request)
        .map_err(|e| AppError::Internal(e.into()))
}

fn ids(results: &SearchResults) -> Vec<i64> {
    results
        .hits
        .iter()
        .filter_map(|h| h.id.parse().ok())
        .collect()
}

/// Runs the search and loads the rows (the index may trail the database by a moment:
/// rows are shown as the database has them; rows gone meanwhile are left out).
pub async fn search(
    state: &AppState,
    kind: Kind,
    filters: &HallFilters,
    offset: usize,
    limit: usize,
    facets: bool,
) -> AppResult<Found> {
    let now = state.clock.unix();
    let mut found = Found {
        total: 0,
        items: Vec::new(),
        facets: BTreeMap::new(),
        relaxed: false,
    };
    // Both collections: take the top (offset + limit) of each and merge them.
    let (inner_offset, inner_limit) = match kind {
        Kind::Both => (0, (offset + limit).min(1000)),
        _ => (offset, limit),
    };
    let mut scored: Vec<(Item, Option<String>, f32)> = Vec::new();
    if kind != Kind::Demands {
        let results = search_one(
            state,
            NOTICES,
            &filters.request(Kind::Notices, now, inner_offset, inner_limit, facets),
        )?;
        let rows: HashMap<i64, Notice> = state
            .store
            .notices_by_ids(&ids(&results))
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        found.total += results.total;
        found.relaxed |= results.relaxed;
        merge_facets(&mut found.facets, &results);
        let mut rows = rows;
        for hit in &results.hits {
            if let Some(n) = hit.id.parse().ok().and_then(|id: i64| rows.remove(&id)) {
                scored.push((
                    Item::Notice(Box::new(n)),
                    hit.snippets.get("title").cloned(),
                    hit.score,
                ));
            }
        }
    }
    if kind != Kind::Notices {
        let results = search_one(
            state,
            DEMANDS,
            &filters.request(Kind::Demands, now, inner_offset, inner_limit, facets),
        )?;
        let mut rows: HashMap<i64, Demand> = state
            .store
            .demands_by_ids(&ids(&results))
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        found.total += results.total;
        found.relaxed |= results.relaxed;
        merge_facets(&mut found.facets, &results);
        for hit in &results.hits {
            if let Some(d) = hit.id.parse().ok().and_then(|id: i64| rows.remove(&id)) {
                if !d.status.is_public() {
                    continue;
                }
                scored.push((
                    Item::Demand(Box::new(d)),
                    hit.snippets.get("title").cloned(),
                    hit.score,
                ));
            }
        }
    }
    if kind == Kind::Both {
        let key = filters.sort_key();
        let asc = filters.ascending;
        scored.sort_by(|a, b| match key {
            SortKey::Relevance => b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal),
            SortKey::Date => {
                let (x, y) = (item_date(&a.0), item_date(&b.0));
                if asc { x.cmp(&y) } else { y.cmp(&x) }
            }
            SortKey::Budget => {
                let (x, y) = (item_budget(&a.0), item_budget(&b.0));
                if asc { x.cmp(&y) } else { y.cmp(&x) }
            }
        });
        scored = scored.into_iter().skip(offset).take(limit).collect();
    }
    found.items = scored.into_iter().map(|(i, s, _)| (i, s)).collect();
    Ok(found)
}

fn merge_facets(into: &mut BTreeMap<String, Vec<(String, usize)>>, results: &SearchResults) {
    for (field, values) in &results.facets {
        let entry = into.entry(field.clone()).or_default();
        for (value, count) in values {
            match entry.iter_mut().find(|(v, _)| v == value) {
                Some((_, c)) => *c += count,
                None => entry.push((value.clone(), *count)),
            }
        }
        entry.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
}

fn item_date(item: &Item) -> String {
    match item {
        Item::Notice(n) => n.fields.publish_date.clone().unwrap_or_default(),
        Item::Demand(d) => d.publish_date.clone().unwrap_or_default(),
    }
}

fn item_budget(item: &Item) -> i64 {
    match item {
        Item::Notice(n) => n.fields.budget.map(Money::fen).unwrap_or(-1),
        Item::Demand(d) => d.fields.budget.map(Money::fen).unwrap_or(-1),
    }
}

fn category_label(code: &str) -> String {
    ServiceCatalogue::embedded()
        .get(code)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// Facets for the API: labels from the region tree and the catalogue. Region facets
/// count districts (and towns) only, where a filter is most useful.
fn api_facets(found: &Found) -> BTreeMap<&'static str, Vec<Facet>> {
    let tree = RegionTree::embedded();
    let mut out = BTreeMap::new();
    for (field, name) in [
        ("type", "type"),
        ("category", "category"),
        ("region", "region"),
    ] {
        let values = found.facets.get(field).cloned().unwrap_or_default();
        let facets = values
            .into_iter()
            .filter(|(v, _)| match field {
                "region" => tree
                    .get(v)
                    .is_some_and(|r| matches!(r.level, RegionLevel::District | RegionLevel::Town)),
                _ => true,
            })
            .map(|(value, count)| Facet {
                label: match field {
                    "category" => category_label(&value),
                    "region" => tree.full_name(&value),
                    _ => value.clone(),
                },
                value,
                count,
            })
            .collect();
        out.insert(name, facets);
    }
    out
}

fn yuan_value(m: Option<Money>) -> Value {
    m.map(|m| Value::from(m.yuan())).unwrap_or(Value::Null)
}

pub fn notice_json(n: &Notice) -> Value {
    let f = &n.fields;
    json!({
        "id": n.id.to_string(),
        "source_id": f.source_id,
        "kind": "notice",
        "title": f.title,
        "notice_type": f.notice_type.as_str(),
        "project_code": f.project_code,
        "purchaser": f.purchaser,
        "agency": f.agency,
        "region_code": f.region_code,
        "town_code": f.town_code,
        "budget_yuan": yuan_value(f.budget),
        "max_price_yuan": yuan_value(f.max_price),
        "publish_date": f.publish_date,
        "deadline": f.deadline,
        "winner": f.winner,
        "award_yuan": yuan_value(f.award),
        "categories": f.categories,
        "state": n.state,
        "related_id": n.related_id.map(|r| r.to_string()),
        "source_url": f.source_url,
        "url": format!("/demands/notices/{}", n.id),
        "sample": f.sample,
    })
}

pub fn demand_json(d: &Demand) -> Value {
    let f = &d.fields;
    json!({
        "id": d.id.to_string(),
        "source_id": d.source_id,
        "kind": "demand",
        "title": f.title,
        "notice_type": DEMAND_TYPE,
        "project_code": null,
        "purchaser": d.enterprise_name,
        "region_code": f.region_code,
        "budget_yuan": yuan_value(f.budget),
        "budget_negotiable": f.budget.is_none(),
        "publish_date": d.publish_date,
        "deadline": f.deadline,
        "service_category_code": f.service_category_code,
        "status": d.status.as_str(),
        "url": format!("/demands/items/{}", d.id),
        "sample": d.sample,
    })
}

async fn api_list(state: AppState, raw: Option<String>, kind: Kind) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Demands).await?;
    let params = Params::parse(raw, FILTER_PARAMS)?;
    let (page, page_size) = params.page()?;
    let filters = HallFilters::from_params(&params)?;
    if (page - 1) * page_size >= 10_000 {
        return Err(AppError::bad_request("page", "page 过大：请缩小筛选范围"));
    }
    let found = search(
        &state,
        kind,
        &filters,
        (page - 1) * page_size,
        page_size,
        true,
    )
    .await?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|(item, _)| match item {
            Item::Notice(n) => notice_json(n),
            Item::Demand(d) => demand_json(d),
        })
        .collect();
    Ok(Json(json!({
        "total": found.total,
        "items": items,
        "facets": api_facets(&found),
    })))
}

/// `GET /api/v1/notices`.
pub async fn api_notices(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    api_list(state, raw, Kind::Notices).await
}

/// `GET /api/v1/demands`.
pub async fn api_demands(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    api_list(state, raw, Kind::Demands).await
}

/// `GET /api/v1/notices/{id}`.
pub async fn api_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Demands).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let notice = state
        .store
        .find_notice(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let later = state.store.later_notices(id).await?;
    let effective = notice.effective(&later);
    let mut value = notice_json(&notice);
    value["later"] = later.iter().map(notice_json).collect();
    value["effective"] = json!({
        "budget_yuan": yuan_value(effective.budget),
        "budget_corrected": effective.budget_corrected,
        "max_price_yuan": yuan_value(effective.max_price),
        "deadline": effective.deadline,
        "deadline_corrected": effective.deadline_corrected,
    });
    Ok(Json(value))
}

/// `GET /api/v1/demands/{id}` (public demands only).
pub async fn api_demand(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Demands).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let demand = state
        .store
        .find_demand(id)
        .await?
        .filter(|d| d.status.is_public())
        .ok_or(AppError::NotFound)?;
    let mut value = demand_json(&demand);
    value["description"] = Value::from(demand.fields.description.clone());
    if demand.fields.contact_public {
        value["contact"] = json!({
            "name": demand.fields.contact_name,
            "phone": demand.fields.contact_phone,
            "email": demand.fields.contact_email,
        });
    }
    Ok(Json(value))
}

// ---------------------------------------------------------------- pages

pub struct Row {
    pub href: String,
    pub kind_label: &'static str,
    /// Highlighted title (escaped HTML with `<mark>`), when the search gave one.
    pub title_html: String,
    pub type_label: String,
    pub party: String,
    pub region: String,
    pub budget: String,
    pub publish_date: String,
    pub deadline: String,
    pub status: String,
    pub sample: bool,
}

pub struct FacetLink {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub active: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct RegionSelect {
    pub name: &'static str,
    pub label: &'static str,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "hall.html")]
struct HallPage {
    page: Page,
    kind: &'static str,
    q: String,
    region_selects: Vec<RegionSelect>,
    types: Vec<Choice>,
    categories: Vec<Choice>,
    budget_min: String,
    budget_max: String,
    party: String,
    publish_from: String,
    publish_to: String,
    open_only: bool,
    sort: &'static str,
    rows: Vec<Row>,
    total: usize,
    relaxed: bool,
    type_facets: Vec<FacetLink>,
    category_facets: Vec<FacetLink>,
    region_facets: Vec<FacetLink>,
    page_number: usize,
    has_prev: bool,
    has_next: bool,
    prev_href: String,
    next_href: String,
    kind_links: Vec<FacetLink>,
    can_save: bool,
    can_post: bool,
    saved_query: String,
    /// Why the filters in the address could not be read.
    error: Option<String>,
}

const PAGE_SIZE: usize = 20;

fn yuan_text(m: Option<Money>) -> String {
    match m {
        Some(m) if m.fen() % 100 == 0 => format!("{}元", group(m.yuan())),
        Some(m) => m.to_string(),
        None => String::new(),
    }
}

fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn link(
    base: &[(&'static str, String)],
    kind: Kind,
    extra: &[(&str, &str)],
    page: Option<usize>,
) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if kind != Kind::Both {
        s.append_pair("kind", kind.as_str());
    }
    for (k, v) in base {
        if extra.iter().any(|(ek, _)| ek == k) {
            continue;
        }
        s.append_pair(k, v);
    }
    for (k, v) in extra {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if let Some(p) = page
        && p > 1
    {
        s.append_pair("page", &p.to_string());
    }
    let qs = s.finish();
    if qs.is_empty() {
        "/demands".into()
    } else {
        format!("/demands?{qs}")
    }
}

fn notice_row(n: &Notice, snippet: Option<String>, now: i64) -> Row {
    let tree = RegionTree::embedded();
    let f = &n.fields;
    let open = f.notice_type.is_announcement()
        && n.state == "open"
        && f.deadline_at.is_some_and(|d| d >= now);
    Row {
        href: format!("/demands/notices/{}", n.id),
        kind_label: "公告",
        title_html: snippet.unwrap_or_else(|| crate::errors::escape_html(&f.title)),
        type_label: f.notice_type.as_str().into(),
        party: f.purchaser.clone().unwrap_or_default(),
        region: f
            .region_code
            .as_deref()
            .map(|r| tree.full_name(r))
            .unwrap_or_default(),
        budget: yuan_text(f.budget),
        publish_date: f.publish_date.clone().unwrap_or_default(),
        deadline: f.deadline.clone().unwrap_or_default(),
        status: match n.state.as_str() {
            "terminated" => "已终止".into(),
            "awarded" => "已出结果".into(),
            "open" if open => "征集中".into(),
            "open" => "已截止".into(),
            _ => String::new(),
        },
        sample: f.sample,
    }
}

fn demand_row(d: &Demand, snippet: Option<String>, today: &str) -> Row {
    let tree = RegionTree::embedded();
    let f = &d.fields;
    let open = d.status == greenbridge_store::demands::DemandStatus::Open
        && f.deadline.as_deref().is_none_or(|dl| dl >= today);
    Row {
        href: format!("/demands/items/{}", d.id),
        kind_label: "企业需求",
        title_html: snippet.unwrap_or_else(|| crate::errors::escape_html(&f.title)),
        type_label: category_label(&f.service_category_code),
        party: d.enterprise_name.clone(),
        region: tree.full_name(&f.region_code),
        budget: if f.budget.is_none() {
            "面议".into()
        } else {
            yuan_text(f.budget)
        },
        publish_date: d.publish_date.clone().unwrap_or_default(),
        deadline: f.deadline.clone().unwrap_or_default(),
        status: if open {
            "征集中".into()
        } else if d.status == greenbridge_store::demands::DemandStatus::Open {
            "已截止".into()
        } else {
            d.status.label_zh().into()
        },
        sample: d.sample,
    }
}

/// The four region selects: provinces, then the children of each chosen level.
fn region_selects(chosen: Option<&str>) -> Vec<RegionSelect> {
    let tree = RegionTree::embedded();
    let path: Vec<String> = chosen
        .map(|c| {
            tree.ancestors(c)
                .iter()
                .map(|r| r.code.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut selects = vec![RegionSelect {
        name: "province",
        label: "省（直辖市）",
        choices: tree
            .provinces()
            .into_iter()
            .map(|r| Choice {
                value: r.code.as_str().into(),
                label: r.name.clone(),
                selected: path.first().is_some_and(|p| p == r.code.as_str()),
            })
            .collect(),
    }];
    let names = [
        ("city", "市"),
        ("district", "区（县）"),
        ("town", "街道（镇）"),
    ];
    for (depth, (name, label)) in names.iter().enumerate() {
        let Some(parent) = path.get(depth) else { break };
        let children = tree.children(parent);
        if children.is_empty() {
            break;
        }
        selects.push(RegionSelect {
            name,
            label,
            choices: children
                .into_iter()
                .map(|r| Choice {
                    value: r.code.as_str().into(),
                    label: r.name.clone(),
                    selected: path.get(depth + 1).is_some_and(|p| p == r.code.as_str()),
                })
                .collect(),
        });
    }
    selects
}

/// The kind, the filters and the page number of the hall's address.
fn read_hall_query(params: &Params) -> AppResult<(Kind, HallFilters, usize)> {
    let kind = Kind::parse(params.one("kind"))?;
    let filters = HallFilters::from_params(params)?;
    let page_number = params
        .one("page")
        .map(|p| {
            p.parse::<usize>()
                .ok()
                .filter(|p| (1..=50).contains(p))
                .ok_or_else(|| AppError::bad_request("page", "页码无效"))
        })
        .transpose()?
        .unwrap_or(1);
    Ok((kind, filters, page_number))
}

/// `GET /demands`: the hall.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let mut known: Vec<&str> = FILTER_PARAMS.to_vec();
    known.extend(["kind", "province", "city", "district", "town"]);
    let params = Params::parse(raw.clone(), &known);
    let parsed = match &params {
        Ok(params) => read_hall_query(params),
        Err(AppError::BadRequest { message, field }) => Err(AppError::BadRequest {
            message: message.clone(),
            field: field.clone(),
        }),
        Err(_) => Err(AppError::bad_request("query", "无法读取筛选条件")),
    };
    // A filter that cannot be read (a link typed by hand, an old bookmark) shows
    // the hall with the message and the form as typed, without results.
    let (kind, filters, page_number, error) = match parsed {
        Ok((kind, filters, page_number)) => (kind, filters, page_number, None),
        Err(AppError::BadRequest { message, .. }) => {
            let kind = params
                .as_ref()
                .ok()
                .and_then(|p| Kind::parse(p.one("kind")).ok())
                .unwrap_or(Kind::Both);
            (kind, HallFilters::default(), 1, Some(message))
        }
        Err(other) => return Err(other),
    };
    let found = if error.is_some() {
        Found {
            total: 0,
            items: Vec::new(),
            facets: BTreeMap::new(),
            relaxed: false,
        }
    } else {
        search(
            &state,
            kind,
            &filters,
            (page_number - 1) * PAGE_SIZE,
            PAGE_SIZE,
            true,
        )
        .await?
    };
    // What was typed, for the form when it is shown again with the message.
    let typed = |name: &str| -> String {
        form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.chars().take(100).collect())
            .unwrap_or_default()
    };
    let now = state.clock.unix();
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let rows: Vec<Row> = found
        .items
        .iter()
        .map(|(item, snippet)| match item {
            Item::Notice(n) => notice_row(n, snippet.clone(), now),
            Item::Demand(d) => demand_row(d, snippet.clone(), &today),
        })
        .collect();
    let base = filters.pairs();
    let tree = RegionTree::embedded();
    let facet_links = |field: &str,
                       label: &dyn Fn(&str) -> Option<String>,
                       active: &[String]|
     -> Vec<FacetLink> {
        found
            .facets
            .get(field)
            .map(|values| {
                values
                    .iter()
                    .filter_map(|(value, count)| {
                        Some(FacetLink {
                            label: label(value)?,
                            count: *count,
                            href: link(&base, kind, &[(field, value.as_str())], None),
                            active: active.contains(value),
                        })
                    })
                    .take(12)
                    .collect()
            })
            .unwrap_or_default()
    };
    let type_facets = facet_links("type", &|v| Some(v.to_string()), &filters.types);
    let category_facets = facet_links(
        "category",
        &|v| (!v.contains('-')).then(|| category_label(v)),
        &filters.categories,
    );
    let region_facets = facet_links(
        "region",
        &|v| {
            tree.get(v)
                .filter(|r| r.level == RegionLevel::District)
                .map(|_| tree.full_name(v))
        },
        &filters.regions,
    );
    let kind_links = [
        (Kind::Both, "全部"),
        (Kind::Notices, "招标采购公告"),
        (Kind::Demands, "企业需求"),
    ]
    .into_iter()
    .map(|(k, label)| FacetLink {
        label: label.into(),
        count: 0,
        href: link(&base, k, &[], None),
        active: k == kind,
    })
    .collect();
    let catalogue = ServiceCatalogue::embedded();
    let mut type_choices: Vec<Choice> = NoticeType::ALL
        .iter()
        .map(|t| Choice {
            value: t.as_str().into(),
            label: t.as_str().into(),
            selected: filters.types.iter().any(|x| x == t.as_str()),
        })
        .collect();
    type_choices.push(Choice {
        value: DEMAND_TYPE.into(),
        label: DEMAND_TYPE.into(),
        selected: filters.types.iter().any(|x| x == DEMAND_TYPE),
    });
    let categories = catalogue
        .groups()
        .into_iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: c.name.clone(),
            selected: filters.categories.contains(&c.code),
        })
        .collect();
    let viewer = ctx.viewer.as_ref();
    let can_post = viewer.is_some_and(|v| {
        v.account.role == greenbridge_domain::role::Role::DemandEnterprise
            && v.account.organisation_id.is_some()
    });
    let mut saved_pairs = base.clone();
    saved_pairs.push(("kind", kind.as_str().into()));
    let saved_query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(saved_pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let page = Page::new(&state, &ctx, "需求大厅").await;
    let shown = |value: Option<String>, name: &str| {
        if error.is_some() {
            typed(name)
        } else {
            value.unwrap_or_default()
        }
    };
    let html = HallPage {
        page,
        kind: kind.as_str(),
        q: shown(filters.q.clone(), "q"),
        region_selects: region_selects(filters.regions.first().map(String::as_str)),
        types: type_choices,
        categories,
        budget_min: shown(filters.budget_min.map(|v| v.to_string()), "budget_min"),
        budget_max: shown(filters.budget_max.map(|v| v.to_string()), "budget_max"),
        party: shown(filters.parties.first().cloned(), "purchaser"),
        publish_from: shown(filters.publish_from.clone(), "publish_from"),
        publish_to: shown(filters.publish_to.clone(), "publish_to"),
        open_only: filters.open_only,
        sort: match filters.sort_key() {
            SortKey::Date => "date",
            SortKey::Budget => "budget",
            SortKey::Relevance => "relevance",
        },
        total: found.total,
        relaxed: found.relaxed,
        has_prev: page_number > 1,
        has_next: page_number * PAGE_SIZE < found.total.min(1000),
        prev_href: link(&base, kind, &[], Some(page_number.saturating_sub(1))),
        next_href: link(&base, kind, &[], Some(page_number + 1)),
        page_number,
        rows,
        type_facets,
        category_facets,
        region_facets,
        kind_links,
        can_save: viewer.is_some(),
        can_post,
        saved_query,
        error: error.clone(),
    }
    .render()?;
    if error.is_some() {
        return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
    }
    Ok(Html(html).into_response())
}

pub struct Field {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

pub struct LaterRow {
    pub href: String,
    pub title: String,
    pub type_label: &'static str,
    pub date: String,
}

#[derive(Template)]
#[template(path = "hall_notice.html")]
struct NoticePage {
    page: Page,
    title: String,
    type_label: &'static str,
    status: String,
    sample: bool,
    fields: Vec<Field>,
    changes: Vec<(String, String, String)>,
    later: Vec<LaterRow>,
    original: Option<LaterRow>,
    categories: Vec<String>,
    sources: Vec<(String, String)>,
    body: Vec<String>,
    id: i64,
}

/// `GET /demands/notices/{id}`.
pub async fn notice_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Demands).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let notice = state
        .store
        .find_notice(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let later = state.store.later_notices(id).await?;
    let effective = notice.effective(&later);
    let tree = RegionTree::embedded();
    let f = &notice.fields;
    let now = state.clock.unix();
    let mut fields = Vec::new();
    let mut push = |label: &'static str, value: Option<String>, note: &str| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.push(Field {
                label,
                value,
                note: note.to_string(),
            });
        }
    };
    push("项目编号", f.project_code.clone(), "");
    push("项目名称", f.project_name.clone(), "");
    push("采购方式", f.procurement_method.clone(), "");
    push("采购人", f.purchaser.clone(), "");
    push("采购人地址", f.purchaser_address.clone(), "");
    push("代理机构", f.agency.clone(), "");
    push(
        "地区",
        f.town_code
            .as_deref()
            .or(f.region_code.as_deref())
            .map(|r| tree.full_name(r)),
        "",
    );
    push("品目", f.item_category.clone(), "");
    let corrected = |yes: bool, before: &str| {
        if yes {
            format!("已更正（原为 {before}）")
        } else {
            String::new()
        }
    };
    push(
        "预算金额",
        effective.budget.map(|m| yuan_text(Some(m))),
        &corrected(effective.budget_corrected, &yuan_text(f.budget)),
    );
    push(
        "最高限价",
        effective.max_price.map(|m| yuan_text(Some(m))),
        &corrected(effective.max_price_corrected, &yuan_text(f.max_price)),
    );
    push("公告日期", f.publish_date.clone(), "");
    if let (Some(a), Some(b)) = (&f.doc_from, &f.doc_to) {
        push("获取文件时间", Some(format!("{a} 至 {b}")), "");
    }
    push(
        "投标（响应）截止时间",
        effective.deadline.clone(),
        &corrected(
            effective.deadline_corrected,
            f.deadline.as_deref().unwrap_or(""),
        ),
    );
    push("开标时间", f.opening.clone(), "");
    push("中标（成交）供应商", f.winner.clone(), "");
    push("中标（成交）金额", f.award.map(|m| yuan_text(Some(m))), "");
    let open = f.notice_type.is_announcement()
        && notice.state == "open"
        && effective.deadline_at.is_some_and(|d| d >= now);
    let status = match notice.state.as_str() {
        "terminated" => "本项目已终止".to_string(),
        "awarded" => "本项目已公布结果".to_string(),
        "open" if open => "征集中".to_string(),
        "open" => "已过截止时间".to_string(),
        _ => String::new(),
    };
    let later_rows = later
        .iter()
        .map(|n| LaterRow {
            href: format!("/demands/notices/{}", n.id),
            title: n.fields.title.clone(),
            type_label: n.fields.notice_type.as_str(),
            date: n.fields.publish_date.clone().unwrap_or_default(),
        })
        .collect();
    let original = match notice.related_id {
        Some(r) => state.store.find_notice(r).await?.map(|o| LaterRow {
            href: format!("/demands/notices/{}", o.id),
            title: o.fields.title.clone(),
            type_label: o.fields.notice_type.as_str(),
            date: o.fields.publish_date.clone().unwrap_or_default(),
        }),
        None => None,
    };
    let sources = state.store.notice_sources(id).await?;
    let page = Page::new(&state, &ctx, f.title.clone()).await;
    Ok(Html(
        NoticePage {
            page,
            title: f.title.clone(),
            type_label: f.notice_type.as_str(),
            status,
            sample: f.sample,
            fields,
            changes: f
                .changes
                .iter()
                .map(|c| (c.item.clone(), c.before.clone(), c.after.clone()))
                .collect(),
            later: later_rows,
            original,
            categories: f.categories.iter().map(|c| category_label(c)).collect(),
            sources,
            body: f.body_text.lines().map(str::to_string).collect(),
            id,
        }
        .render()?,
    ))
}

/// `GET /demands/notices/{id}/original`: the page as fetched, sanitised (scripts,
/// styles and event handlers removed), for checking the parse against the source.
pub async fn notice_original(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let notice = state
        .store
        .find_notice(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let clean = crate::sanitize::sanitize_rich_text(&notice.fields.original_html);
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>原始页面</title></head><body><p>以下为采集到的原始公告页面（已去除脚本和样式）。<a href=\"/demands/notices/{id}\">返回公告</a></p><hr>{clean}</body></html>"
    );
    Ok(Html(body).into_response())
}
