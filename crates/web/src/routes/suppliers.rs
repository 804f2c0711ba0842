//! 惠企服务 supplier directory ("环保服务超市"): the search page
//! (`/services/suppliers`), `GET /api/v1/suppliers`, the XLSX export of a result, the
//! detail page with the qualification table and licence watch, and 纠错 reports.
//!
//! All three read one [`SupplierSearch`], parsed from the query string with the
//! DESIGN.md parameters, so a page, its export and the API agree on what a search
//! means. The search runs on this instance's organisations index; the shown rows are
//! then read from the database, so licence-watch flags follow the clock of the request.

use super::api::{Facet, Params};
use crate::audit::{self, Actor};
use crate::context::{Ctx, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::review_queue;
use crate::routes::services::ensure_enabled;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::hw::{HwCatalogue, HwCategory};
use greenbridge_domain::module::Module;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_domain::time::format_date;
use greenbridge_search::collections::organisations::{
    CAPACITY_KEY_MAX, OPEN_ENDED, QUALIFICATION_KINDS, SERVES_EVERYWHERE, SIZE_UNSET,
    hw_capacity_key, hw_valid_key, valid_to_field,
};
use greenbridge_search::{Filter, SearchRequest, SearchResults, Sort};
use greenbridge_store::supplier_queries::NewCorrection;
use greenbridge_store::suppliers::{
    LicenceWatch, Qualification, QualificationKind, SupplierProfile, Verification, format_tonnes,
};
use greenbridge_store::{OrgSide, Organisation, Outcome};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Results per page on the HTML page.
const PAGE_SIZE: usize = 20;
/// Deepest result a page may reach (page × page_size).
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Most rows an export holds.
pub const EXPORT_MAX_ROWS: usize = 5000;
/// Reports one address may file per hour (anyone may report, without an account).
const CORRECTIONS_PER_HOUR: i64 = 10;

pub const MODES: [&str; 4] = ["收集", "贮存", "利用", "处置"];
pub const SIZES: [&str; 5] = ["微型", "小型", "中型", "大型", SIZE_UNSET];

/// The query parameters of a supplier search.
pub const SEARCH_PARAMS: [&str; 11] = [
    "q",
    "region",
    "category",
    "qualification",
    "hw",
    "capacity_min",
    "mode",
    "size",
    "valid_only",
    "serves",
    "page_size",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Relevance,
    Name,
    Validity,
}

/// A supplier search, parsed and checked.
#[derive(Debug, Clone)]
pub struct SupplierSearch {
    pub q: String,
    pub regions: Vec<String>,
    pub categories: Vec<String>,
    pub qualifications: Vec<String>,
    /// Every one must be accepted.
    pub hw: Vec<String>,
    pub capacity_min_kg: Option<i64>,
    /// As typed, for the form.
    pub capacity_min: String,
    pub modes: Vec<String>,
    pub sizes: Vec<String>,
    pub valid_only: bool,
    pub serves: Option<String>,
    pub sort: SortBy,
    pub descending: bool,
    pub page: usize,
    pub page_size: usize,
}

/// t/a as typed (`25`, `0.5`, `12.125`, full-width digits allowed) → kg/a.
fn tonnes_to_kg(text: &str) -> Option<i64> {
    let text: String = unicode_fold(text);
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text.as_str(), ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 3
        || whole.len() > 12
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = format!("{fraction:0<3}").parse().ok()?;
    Some(whole * 1000 + fraction)
}

fn unicode_fold(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            c => c,
        })
        .collect()
}

impl SupplierSearch {
    pub fn parse(params: &Params) -> AppResult<SupplierSearch> {
        let tree = RegionTree::embedded();
        let services = ServiceCatalogue::embedded();
        let q: String = params.one("q").unwrap_or("").chars().take(100).collect();
        let mut regions = Vec::new();
        for code in params.all("region") {
            if tree.get(code).is_none() {
                return Err(AppError::bad_request(
                    "region",
                    format!("未知的地区代码 {code}"),
                ));
            }
            regions.push(code.to_string());
        }
        let mut categories = Vec::new();
        for code in params.all("category") {
            if services.get(code).is_none() {
                return Err(AppError::bad_request(
                    "category",
                    format!("未知的服务类别 {code}"),
                ));
            }
            categories.push(code.to_string());
        }
        let mut qualifications = Vec::new();
        for kind in params.all("qualification") {
            if !QUALIFICATION_KINDS.contains(&kind) {
                return Err(AppError::bad_request(
                    "qualification",
                    "qualification 只能是 hw-licence、cma、eia 或 other",
                ));
            }
            qualifications.push(kind.to_string());
        }
        let mut hw = Vec::new();
        for value in params.all("hw") {
            let category =
                HwCategory::parse(value).map_err(|e| AppError::bad_request("hw", e.to_string()))?;
            if HwCatalogue::embedded().category(&category).is_none() {
                return Err(AppError::bad_request(
                    "hw",
                    format!("《国家危险废物名录》中没有类别 {category}"),
                ));
            }
            if !hw.contains(&category.as_str().to_string()) {
                hw.push(category.as_str().to_string());
            }
        }
        let capacity_min = params.one("capacity_min").unwrap_or("").to_string();
        let capacity_min_kg = match capacity_min.as_str() {
            "" => None,
            text => Some(tonnes_to_kg(text).ok_or_else(|| {
                AppError::bad_request(
                    "capacity_min",
                    "核准能力不低于（吨/年）应为不小于 0 的数字，最多三位小数",
                )
            })?),
        };
        let mut modes = Vec::new();
        for mode in params.all("mode") {
            if !MODES.contains(&mode) {
                return Err(AppError::bad_request(
                    "mode",
                    "mode 只能是 收集、贮存、利用 或 处置",
                ));
            }
            modes.push(mode.to_string());
        }
        let mut sizes = Vec::new();
        for size in params.all("size") {
            if !SIZES.contains(&size) {
                return Err(AppError::bad_request(
                    "size",
                    "size 只能是 微型、小型、中型、大型 或 未填",
                ));
            }
            sizes.push(size.to_string());
        }
        let valid_only = match params.one("valid_only") {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("on") => true,
            Some(_) => {
                return Err(AppError::bad_request(
                    "valid_only",
                    "valid_only 只能是 true 或 false",
                ));
            }
        };
        let serves = match params.one("serves") {
            None => None,
            Some(code) if tree.get(code).is_some() => Some(code.to_string()),
            Some(code) => {
                return Err(AppError::bad_request(
                    "serves",
                    format!("未知的地区代码 {code}"),
                ));
            }
        };
        let sort = match params.one("sort") {
            None | Some("relevance") => SortBy::Relevance,
            Some("name") => SortBy::Name,
            Some("validity") => SortBy::Validity,
            Some(_) => {
                return Err(AppError::bad_request(
                    "sort",
                    "sort 只能是 relevance、name 或 validity",
                ));
            }
        };
        let descending = match (params.one("order"), sort) {
            (None, SortBy::Validity) => true,
            (None, _) => false,
            (Some("asc"), _) => false,
            (Some("desc"), _) => true,
            (Some(_), _) => {
                return Err(AppError::bad_request("order", "order 只能是 asc 或 desc"));
            }
        };
        let (page, page_size) = params.page()?;
        // The index collects offset + limit hits: deep pages would cost memory.
        if page * page_size > MAX_RESULT_WINDOW {
            return Err(AppError::bad_request(
                "page",
                format!("最多翻到第 {MAX_RESULT_WINDOW} 条结果，请增加筛选条件"),
            ));
        }
        Ok(SupplierSearch {
            q,
            regions,
            categories,
            qualifications,
            hw,
            capacity_min_kg,
            capacity_min,
            modes,
            sizes,
            valid_only,
            serves,
            sort,
            descending,
            page,
            page_size,
        })
    }

    /// The validity field `valid_only` checks: hazardous-waste licences when the
    /// search is about them, the one qualification kind asked for, else any.
    fn validity_field(&self) -> &'static str {
        if !self.hw.is_empty() || self.capacity_min_kg.is_some() || !self.modes.is_empty() {
            valid_to_field(Some("hw-licence"))
        } else if self.qualifications.len() == 1 {
            valid_to_field(Some(&self.qualifications[0]))
        } else {
            valid_to_field(None)
        }
    }

    /// One range filter per HW category asked, on a field holding category × base
    /// + value (`key`), for values from `low` to `high`.
    fn per_category(
        &self,
        field: &'static str,
        key: fn(&str, i64) -> Option<i64>,
        (low, high): (i64, i64),
    ) -> impl Iterator<Item = Filter> + '_ {
        self.hw.iter().filter_map(move |category| {
            Some(Filter::Range {
                field: field.into(),
                min: Some(key(category, low)?),
                max: Some(key(category, high)?),
            })
        })
    }

    /// The index request for the public directory on day `today` (days since 1970).
    pub fn request(&self, today: i64, offset: usize, limit: usize, facets: bool) -> SearchRequest {
        let any = |field: &str, values: &[String]| Filter::AnyOf {
            field: field.to_string(),
            values: values.to_vec(),
        };
        let mut filters = vec![
            any("side", &["supplier".to_string()]),
            any("listed", &["yes".to_string()]),
            any("status", &["active".to_string()]),
            any("region", &self.regions),
            any("category", &self.categories),
            any("qualification", &self.qualifications),
            any("mode", &self.modes),
            any("size", &self.sizes),
        ];
        // A repeated hw means every one of them: one filter per category.
        for category in &self.hw {
            filters.push(any("hw", std::slice::from_ref(category)));
        }
        if let Some(kg) = self.capacity_min_kg {
            if self.hw.is_empty() {
                filters.push(Filter::Range {
                    field: "capacity_kg".into(),
                    min: Some(kg),
                    max: None,
                });
            }
            // With hw, the capacity approved for each category asked: a licence
            // of 5 000 t/a of which 300 t/a for HW08 does not take 1 000 t/a of
            // HW08.
            filters.extend(self.per_category(
                "hw_capacity_key",
                hw_capacity_key,
                (kg, CAPACITY_KEY_MAX),
            ));
        }
        if self.valid_only {
            filters.push(Filter::Range {
                field: self.validity_field().into(),
                min: Some(today),
                max: None,
            });
            // And a licence still valid for each category asked (one filter
            // each): an expired licence for HW08 does not count because another
            // licence of the organisation, for HW49, still runs.
            filters.extend(self.per_category("hw_valid_key", hw_valid_key, (today, OPEN_ENDED)));
        }
        if let Some(code) = &self.serves {
            // A licence restricted to region R may serve X when X lies within R.
            let mut values: Vec<String> = RegionTree::embedded()
                .ancestors(code)
                .iter()
                .map(|r| r.code.as_str().to_string())
                .collect();
            values.push(SERVES_EVERYWHERE.to_string());
            filters.push(Filter::AnyOf {
                field: "serve".into(),
                values,
            });
        }
        let sort = match self.sort {
            SortBy::Relevance => Sort::Relevance,
            SortBy::Name => Sort::Number {
                field: "name_key".into(),
                descending: self.descending,
            },
            SortBy::Validity => Sort::Number {
                field: "valid_to_any".into(),
                descending: self.descending,
            },
        };
        SearchRequest {
            q: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            filters,
            sort,
            offset,
            limit,
            facet_fields: if facets {
                ["region", "category", "qualification", "hw", "mode", "size"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The query string of this search (without page), for links and the export.
    pub fn query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        for (name, values) in [
            ("region", &self.regions),
            ("category", &self.categories),
            ("qualification", &self.qualifications),
            ("hw", &self.hw),
            ("mode", &self.modes),
            ("size", &self.sizes),
        ] {
            for v in values {
                out.append_pair(name, v);
            }
        }
        if !self.capacity_min.is_empty() {
            out.append_pair("capacity_min", &self.capacity_min);
        }
        if self.valid_only {
            out.append_pair("valid_only", "true");
        }
        if let Some(code) = &self.serves {
            out.append_pair("serves", code);
        }
        match self.sort {
            SortBy::Relevance => {}
            SortBy::Name => {
                out.append_pair("sort", "name");
            }
            SortBy::Validity => {
                out.append_pair("sort", "validity");
            }
        }
        match (self.sort, self.descending) {
            (SortBy::Validity, false) => {
                out.append_pair("order", "asc");
            }
            (SortBy::Validity, true) => {}
            (_, true) => {
                out.append_pair("order", "desc");
            }
            _ => {}
        }
        out.finish()
    }
}

/// Today as days since 1970-01-01 on the platform clock.
pub fn today_days(state: &AppState) -> i64 {
    state.clock.today().to_julian_day() as i64 - 2_440_588
}

fn run(state: &AppState, request: &SearchRequest) -> AppResult<SearchResults> {
    state
        .search
        .organisations
        .search(request)
        .map_err(|e| AppError::Internal(e.into()))
}

/// A found supplier with what the pages and the API show of it.
pub struct Found {
    pub organisation: Organisation,
    pub profile: Option<SupplierProfile>,
    pub qualifications: Vec<Qualification>,
    pub snippets: BTreeMap<String, String>,
}

async fn load(state: &AppState, results: &SearchResults) -> AppResult<Vec<Found>> {
    let ids: Vec<i64> = results
        .hits
        .iter()
        .filter_map(|h| h.id.parse().ok())
        .collect();
    let mut profiles = state.store.supplier_profiles(&ids).await?;
    let mut qualifications = state.store.qualifications_for(&ids).await?;
    let mut organisations: HashMap<i64, Organisation> = HashMap::new();
    for organisation in state.store.organisations_by_ids(&ids).await? {
        organisations.insert(organisation.id, organisation);
    }
    let mut out = Vec::with_capacity(ids.len());
    for hit in &results.hits {
        let Ok(id) = hit.id.parse::<i64>() else {
            continue;
        };
        // A row deleted since the index saw it is left out.
        let Some(organisation) = organisations.remove(&id) else {
            continue;
        };
        out.push(Found {
            organisation,
            profile: profiles.remove(&id),
            qualifications: qualifications.remove(&id).unwrap_or_default(),
            snippets: hit.snippets.clone(),
        });
    }
    Ok(out)
}

fn qualification_json(q: &Qualification, today: time::Date) -> Value {
    let watch = q.watch(today);
    json!({
        "id": q.id.to_string(),
        "source_id": null,
        "kind": q.kind.as_str(),
        "number": q.number,
        "title": q.title,
        "issuer": q.issuer,
        "valid_from": q.valid_from.map(format_date),
        "valid_to": q.valid_to.map(format_date),
        "status": watch.as_str(),
        "valid": watch.is_valid() && q.verification != Verification::Pending,
        "days_left": match watch { LicenceWatch::ExpiringSoon { days_left } => Some(days_left), _ => None },
        "verification": q.verification.as_str(),
        "not_in_latest": q.not_in_latest,
        "source": q.source.as_str(),
        "modes": q.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "capacity_t": q.capacity_kg.map(format_tonnes),
        "hw_categories": q.hw_categories.iter().map(|c| json!({
            "category": c.category,
            "waste_codes": c.waste_codes,
            "excluded_codes": c.excluded_codes,
            "capacity_t": c.capacity_kg.map(format_tonnes),
        })).collect::<Vec<_>>(),
        "service_area": q.service_area,
        "scope": q.scope,
        "eia_credit_status": q.eia.credit_status,
    })
}

fn item_json(found: &Found, today: time::Date) -> Value {
    let o = &found.organisation;
    let profile = found.profile.as_ref();
    json!({
        "id": o.id.to_string(),
        "source_id": null,
        "name": o.name,
        "credit_code": o.credit_code.as_str(),
        "region_code": o.region_code,
        "region_name": RegionTree::embedded().full_name(&o.region_code),
        "address": o.address,
        "former_names": profile.map(|p| p.former_names.clone()).unwrap_or_default(),
        "size": profile.and_then(|p| p.size_band).map(|s| s.as_str()),
        "categories": profile.map(|p| p.service_categories.clone()).unwrap_or_default(),
        "qualifications": found.qualifications.iter().map(|q| qualification_json(q, today)).collect::<Vec<_>>(),
        "sample": o.sample,
        "highlights": found.snippets,
    })
}

fn facet_label(field: &str, value: &str) -> String {
    match field {
        "region" => RegionTree::embedded().full_name(value),
        "category" => ServiceCatalogue::embedded()
            .get(value)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        "qualification" => QualificationKind::parse(value)
            .map(|k| k.label_zh().to_string())
            .unwrap_or_default(),
        "hw" => HwCatalogue::embedded()
            .category(value)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        _ => value.to_string(),
    }
}

/// Facet values shown beside the filters: for regions, the level below the region
/// filtered on (provinces without one).
fn facets(search: &SupplierSearch, results: &SearchResults) -> BTreeMap<&'static str, Vec<Facet>> {
    let tree = RegionTree::embedded();
    let region_level: Vec<String> = match search.regions.as_slice() {
        [one] => tree
            .children(one)
            .iter()
            .map(|r| r.code.as_str().to_string())
            .collect(),
        _ => tree
            .provinces()
            .iter()
            .map(|r| r.code.as_str().to_string())
            .collect(),
    };
    let mut out = BTreeMap::new();
    for field in ["region", "category", "qualification", "hw", "mode", "size"] {
        let values = results.facets.get(field).cloned().unwrap_or_default();
        let list: Vec<Facet> = values
            .into_iter()
            .filter(|(value, _)| field != "region" || region_level.contains(value))
            .map(|(value, count)| Facet {
                label: facet_label(field, &value),
                value,
                count,
            })
            .collect();
        out.insert(field, list);
    }
    out
}

/// `GET /api/v1/suppliers`.
pub async fn api_list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Services).await?;
    let params = Params::parse(raw, &SEARCH_PARAMS)?;
    let search = SupplierSearch::parse(&params)?;
    let offset = (search.page - 1) * search.page_size;
    let request = search.request(today_days(&state), offset, search.page_size, true);
    let results = run(&state, &request)?;
    let found = load(&state, &results).await?;
    let today = state.clock.today();
    let items: Vec<Value> = found.iter().map(|f| item_json(f, today)).collect();
    Ok(Json(json!({
        "total": results.total,
        "items": items,
        "facets": facets(&search, &results),
        "relaxed": results.relaxed,
    })))
}

/// A qualification as a row of the tables.
pub struct QualificationRow {
    pub id: i64,
    pub kind_label: &'static str,
    pub number: String,
    pub title: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_to: String,
    pub watch: &'static str,
    pub watch_label: String,
    pub verification: &'static str,
    pub verification_label: &'static str,
    pub not_in_latest: bool,
    pub hw: String,
    pub codes: String,
    pub modes: String,
    pub capacity: String,
    pub service_area: String,
    pub scope: String,
    pub eia_status: String,
    pub note: String,
    pub has_scan: bool,
}

pub fn qualification_row(q: &Qualification, today: time::Date) -> QualificationRow {
    let tree = RegionTree::embedded();
    let watch = q.watch(today);
    let hw = q
        .hw_categories
        .iter()
        .map(|c| match c.capacity_kg {
            Some(kg) => format!("{}（{} 吨/年）", c.category, format_tonnes(kg)),
            None => c.category.clone(),
        })
        .collect::<Vec<_>>()
        .join("、");
    let codes = q
        .hw_categories
        .iter()
        .flat_map(|c| {
            c.waste_codes
                .iter()
                .cloned()
                .chain(c.excluded_codes.iter().map(|code| format!("不含 {code}")))
        })
        .collect::<Vec<_>>()
        .join("、");
    QualificationRow {
        id: q.id,
        kind_label: q.kind.label_zh(),
        number: q.number.clone(),
        title: q.title.clone(),
        issuer: q.issuer.clone(),
        valid_from: q.valid_from.map(format_date).unwrap_or_default(),
        valid_to: q.valid_to.map(format_date).unwrap_or_default(),
        watch: watch.as_str(),
        watch_label: watch.label_zh(),
        verification: q.verification.as_str(),
        verification_label: q.verification.label_zh(),
        not_in_latest: q.not_in_latest,
        hw,
        codes,
        modes: if q.modes_text.is_empty() {
            q.modes
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join("、")
        } else {
            q.modes_text.clone()
        },
        capacity: q
            .capacity_kg
            .map(|kg| format!("{} 吨/年", format_tonnes(kg)))
            .unwrap_or_default(),
        service_area: q
            .service_area
            .iter()
            .map(|c| tree.full_name(c))
            .collect::<Vec<_>>()
            .join("、"),
        scope: q.scope.clone(),
        eia_status: q.eia.credit_status.clone(),
        note: q.note.clone(),
        has_scan: q.file_id.is_some(),
    }
}

pub struct ResultRow {
    pub id: i64,
    pub name: String,
    /// Highlighted HTML (escaped by the search layer, matches in `<mark>`).
    pub name_html: String,
    pub snippets: Vec<(&'static str, String)>,
    pub credit_code: String,
    pub region: String,
    pub size: String,
    pub categories: String,
    pub sample: bool,
    pub qualifications: Vec<QualificationRow>,
    pub expiring: usize,
    pub expired: usize,
}

fn result_row(found: &Found, today: time::Date) -> ResultRow {
    let o = &found.organisation;
    let services = ServiceCatalogue::embedded();
    let rows: Vec<QualificationRow> = found
        .qualifications
        .iter()
        .map(|q| qualification_row(q, today))
        .collect();
    let labels = [
        ("former_names", "曾用名"),
        ("address", "地址"),
        ("scope", "业务范围"),
        ("waste", "可收危废"),
    ];
    let snippets = labels
        .iter()
        .filter_map(|(field, label)| {
            found
                .snippets
                .get(*field)
                .filter(|s| s.contains("<mark>"))
                .map(|s| (*label, s.clone()))
        })
        .collect();
    ResultRow {
        id: o.id,
        name: o.name.clone(),
        name_html: found
            .snippets
            .get("name")
            .cloned()
            .unwrap_or_else(|| askama_escape(&o.name)),
        snippets,
        credit_code: o.credit_code.to_string(),
        region: RegionTree::embedded().full_name(&o.region_code),
        size: found
            .profile
            .as_ref()
            .and_then(|p| p.size_band)
            .map_or(SIZE_UNSET.to_string(), |s| s.as_str().to_string()),
        categories: found
            .profile
            .as_ref()
            .map(|p| {
                p.service_categories
                    .iter()
                    .filter_map(|c| services.get(c).map(|c| c.name.clone()))
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .unwrap_or_default(),
        sample: o.sample,
        expiring: rows.iter().filter(|r| r.watch == "expiring").count(),
        expired: rows.iter().filter(|r| r.watch == "expired").count(),
        qualifications: rows,
    }
}

fn askama_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
    /// Matches among the current results; `None` when not counted.
    pub count: Option<usize>,
}

#[derive(Template)]
#[template(path = "suppliers.html")]
struct SearchPage {
    page: Page,
    search_q: String,
    capacity_min: String,
    valid_only: bool,
    serve_options: Vec<Choice>,
    sort: &'static str,
    order: String,
    regions: Vec<Choice>,
    categories: Vec<Choice>,
    qualifications: Vec<Choice>,
    hw: Vec<Choice>,
    modes: Vec<Choice>,
    sizes: Vec<Choice>,
    rows: Vec<ResultRow>,
    total: usize,
    relaxed: bool,
    page_no: usize,
    pages: usize,
    query_string: String,
    export_limit: usize,
}

fn choices(options: Vec<(String, String)>, selected: &[String], counts: &[Facet]) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected.contains(&value),
            count: counts.iter().find(|f| f.value == value).map(|f| f.count),
            value,
            label,
        })
        .collect()
}

/// `GET /services/suppliers`: the search page.
pub async fn search_page(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Services).await?;
    let mut known = SEARCH_PARAMS.to_vec();
    known.retain(|p| *p != "page_size");
    let params = Params::parse(raw, &known)?;
    let mut search = SupplierSearch::parse(&params)?;
    search.page_size = PAGE_SIZE;
    let offset = (search.page - 1) * PAGE_SIZE;
    let results = run(
        &state,
        &search.request(today_days(&state), offset, PAGE_SIZE, true),
    )?;
    let found = load(&state, &results).await?;
    let today = state.clock.today();
    let rows = found.iter().map(|f| result_row(f, today)).collect();
    let facet_counts = facets(&search, &results);
    let empty = Vec::new();
    let counts = |field: &str| facet_counts.get(field).unwrap_or(&empty);
    let tree = RegionTree::embedded();
    // The region list: the zone's provinces and cities first, then the region facet.
    let mut region_options: Vec<(String, String)> = Vec::new();
    for code in [
        "310000", "320000", "330000", "310118", "320500", "320509", "330400", "330421",
    ] {
        region_options.push((code.to_string(), tree.full_name(code)));
    }
    for facet in counts("region") {
        if !region_options.iter().any(|(v, _)| *v == facet.value) {
            region_options.push((facet.value.clone(), facet.label.clone()));
        }
    }
    for code in &search.regions {
        if !region_options.iter().any(|(v, _)| v == code) {
            region_options.push((code.clone(), tree.full_name(code)));
        }
    }
    let mut serve_codes: Vec<String> = [
        "310118", "320509", "330421", "310100", "320500", "330400", "310000", "320000", "330000",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    if let Some(code) = &search.serves
        && !serve_codes.contains(code)
    {
        serve_codes.push(code.clone());
    }
    let serve_options = serve_codes
        .into_iter()
        .map(|code| Choice {
            selected: search.serves.as_deref() == Some(code.as_str()),
            label: tree.full_name(&code),
            value: code,
            count: None,
        })
        .collect();
    let services = ServiceCatalogue::embedded();
    let category_options = services
        .all()
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                if c.is_group() {
                    c.name.clone()
                } else {
                    format!("　{}", c.name)
                },
            )
        })
        .collect();
    let qualification_options = QualificationKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label_zh().to_string()))
        .collect();
    let hw_options = HwCatalogue::embedded()
        .categories()
        .iter()
        .map(|c| {
            (
                c.code.as_str().to_string(),
                format!("{} {}", c.code, c.name),
            )
        })
        .collect();
    let plain = |list: &[&str]| {
        list.iter()
            .map(|v| (v.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let pages = results.total.div_ceil(PAGE_SIZE).max(1);
    let page = Page::new(&state, &ctx, "第三方服务机构名录").await;
    Ok(Html(
        SearchPage {
            page,
            search_q: search.q.clone(),
            capacity_min: search.capacity_min.clone(),
            valid_only: search.valid_only,
            serve_options,
            sort: match search.sort {
                SortBy::Relevance => "relevance",
                SortBy::Name => "name",
                SortBy::Validity => "validity",
            },
            order: params.one("order").unwrap_or("").to_string(),
            regions: choices(region_options, &search.regions, counts("region")),
            categories: choices(category_options, &search.categories, counts("category")),
            qualifications: choices(
                qualification_options,
                &search.qualifications,
                counts("qualification"),
            ),
            hw: choices(hw_options, &search.hw, counts("hw")),
            modes: choices(plain(&MODES), &search.modes, counts("mode")),
            sizes: choices(plain(&SIZES), &search.sizes, counts("size")),
            rows,
            total: results.total,
            relaxed: results.relaxed,
            page_no: search.page,
            pages,
            query_string: search.query_string(),
            export_limit: EXPORT_MAX_ROWS,
        }
        .render()?,
    ))
}

/// `GET /services/suppliers/export.xlsx`: the same search as a spreadsheet (at most
/// [`EXPORT_MAX_ROWS`] rows, in the page's order).
pub async fn export(State(state): State<AppState>, RawQuery(raw): RawQuery) -> AppResult<Response> {
    ensure_enabled(&state, Module::Services).await?;
    let params = Params::parse(raw, &SEARCH_PARAMS)?;
    let search = SupplierSearch::parse(&params)?;
    let today_n = today_days(&state);
    let today = state.clock.today();
    let mut rows: Vec<Found> = Vec::new();
    let mut total = 0;
    while rows.len() < EXPORT_MAX_ROWS {
        let chunk = (EXPORT_MAX_ROWS - rows.len()).min(500);
        let results = run(&state, &search.request(today_n, rows.len(), chunk, false))?;
        total = results.total;
        let got = results.hits.len();
        rows.extend(load(&state, &results).await?);
        if got < chunk {
            break;
        }
    }
    let bytes = crate::routes::supplier_export::workbook(&rows, today, total)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let name = format!("第三方服务机构名录-{}.xlsx", format_date(today));
    let disposition = format!(
        "attachment; filename=\"suppliers.xlsx\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// The detail page and 纠错.

/// Who is looking at a profile, for what it shows beyond the public view.
pub struct Access {
    /// A staff account of the organisation itself.
    pub own: bool,
    /// A reviewer of the organisation's province, or an admin.
    pub reviewer: bool,
}

pub fn access(state: &AppState, viewer: Option<&Viewer>, organisation: &Organisation) -> Access {
    let Some(viewer) = viewer else {
        return Access {
            own: false,
            reviewer: false,
        };
    };
    let own = viewer.account.organisation_id == Some(organisation.id);
    let reviewer = viewer.can(Permission::ReviewRegistrations)
        && match viewer.account.role {
            Role::Admin => true,
            _ => {
                viewer.account.province_code.as_deref()
                    == Some(
                        review_queue::route_province(&state.config, &organisation.region_code)
                            .as_str(),
                    )
            }
        };
    Access { own, reviewer }
}

/// The organisation if `viewer` may see its directory page: listed, active suppliers
/// for everyone; unlisted ones for their own staff and their reviewers. 404 otherwise.
pub async fn visible_supplier(
    state: &AppState,
    viewer: Option<&Viewer>,
    id: i64,
) -> AppResult<(Organisation, SupplierProfile, Access)> {
    let organisation = state
        .store
        .find_organisation(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if organisation.side != OrgSide::Supplier {
        return Err(AppError::NotFound);
    }
    let profile = state.store.supplier_profile(id).await?;
    let access = access(state, viewer, &organisation);
    let public = profile.listed && organisation.status == "active";
    if !public && !access.own && !access.reviewer {
        return Err(AppError::NotFound);
    }
    Ok((organisation, profile, access))
}

pub struct CorrectionRow {
    pub what: String,
    pub contact: String,
    pub status: &'static str,
    pub outcome: String,
    pub filed: String,
}

pub struct SpotCheckRow {
    pub id: i64,
    pub note: String,
    pub status: String,
    pub status_label: &'static str,
    pub outcome: String,
    pub marked: String,
}

#[derive(Template)]
#[template(path = "supplier_detail.html")]
struct DetailPage {
    page: Page,
    id: i64,
    name: String,
    credit_code: String,
    region: String,
    address: String,
    former_names: String,
    size: String,
    categories: Vec<String>,
    description: String,
    website: Option<String>,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    sample: bool,
    verified: bool,
    listed: bool,
    qualifications: Vec<QualificationRow>,
    reviewer: bool,
    own: bool,
    corrections: Vec<CorrectionRow>,
    spot_checks: Vec<SpotCheckRow>,
    pending_review: Option<i64>,
    /// What a waiting edit of the listed profile changes (its own staff and
    /// reviewers only).
    changes: Vec<crate::routes::supplier_profile::ProfileChange>,
    notice: Option<String>,
    error: Option<String>,
    what: String,
    contact: String,
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    reported: Option<String>,
    #[serde(default)]
    spot: Option<String>,
    #[serde(default)]
    unlisted: Option<String>,
}

/// Renders the detail page (also after a refused correction, with its error).
async fn detail_html(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    what: String,
    contact: String,
) -> AppResult<String> {
    let (organisation, profile, access) = visible_supplier(state, ctx.viewer.as_ref(), id).await?;
    let today = state.clock.today();
    let tree = RegionTree::embedded();
    let services = ServiceCatalogue::embedded();
    let qualifications = state
        .store
        .qualifications_of(id)
        .await?
        .iter()
        .map(|q| qualification_row(q, today))
        .collect();
    let (corrections, spot_checks, pending_review) = if access.reviewer {
        let corrections = state
            .store
            .corrections_of(id)
            .await?
            .into_iter()
            .map(|c| CorrectionRow {
                status: c.status_label(),
                what: c.what,
                contact: c.contact,
                outcome: c.outcome,
                filed: greenbridge_domain::time::format_unix_zh(c.created_at),
            })
            .collect();
        let spot_checks = state
            .store
            .spot_checks_of(id)
            .await?
            .into_iter()
            .map(|s| SpotCheckRow {
                id: s.id,
                status_label: s.status_label(),
                status: s.status,
                note: s.note,
                outcome: s.outcome,
                marked: greenbridge_domain::time::format_unix_zh(s.marked_at),
            })
            .collect();
        let pending = state
            .store
            .latest_review_of(greenbridge_store::ReviewKind::Profile, "organisation", id)
            .await?
            .filter(|r| r.status == greenbridge_store::ReviewStatus::Pending)
            .map(|r| r.id);
        (corrections, spot_checks, pending)
    } else {
        (Vec::new(), Vec::new(), None)
    };
    let changes = if access.reviewer || access.own {
        match state.store.pending_profile(id).await? {
            Some(pending) => crate::routes::supplier_profile::profile_changes(&profile, &pending),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let page = Page::new(state, ctx, organisation.name.clone()).await;
    Ok(DetailPage {
        page,
        id,
        credit_code: organisation.credit_code.to_string(),
        region: tree.full_name(&organisation.region_code),
        address: organisation.address.clone(),
        former_names: profile.former_names.join("、"),
        size: profile
            .size_band
            .map_or(SIZE_UNSET.to_string(), |s| s.as_str().to_string()),
        categories: profile
            .service_categories
            .iter()
            .filter_map(|c| services.get(c).map(|c| c.name.clone()))
            .collect(),
        description: profile.description.clone(),
        website: Some(profile.website.clone()).filter(|w| {
            let lower = w.to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        }),
        contact_name: organisation.contact_name.clone(),
        contact_phone: organisation.contact_phone.clone(),
        contact_email: profile.contact_email.clone(),
        sample: organisation.sample,
        verified: organisation.verified,
        listed: profile.listed,
        name: organisation.name,
        qualifications,
        reviewer: access.reviewer,
        own: access.own,
        corrections,
        spot_checks,
        pending_review,
        changes,
        notice,
        error,
        what,
        contact,
    }
    .render()?)
}

/// `GET /services/suppliers/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    axum::extract::Query(query): axum::extract::Query<DetailQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Services).await?;
    let notice = if query.reported.is_some() {
        Some("已收到您的纠错反馈，协会审核员核实后会处理。".to_string())
    } else if query.spot.is_some() {
        Some("抽查记录已保存。".to_string())
    } else if query.unlisted.is_some() {
        Some("已从名录中撤下，理由已告知该机构。".to_string())
    } else {
        None
    };
    Ok(Html(
        detail_html(&state, &ctx, id, notice, None, String::new(), String::new()).await?,
    ))
}

#[derive(Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    what: String,
    #[serde(default)]
    contact: String,
}

/// `POST /services/suppliers/{id}/corrections`: anyone reports wrong data (纠错).
pub async fn report_correction(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<CorrectionForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Services).await?;
    let (organisation, _, _) = visible_supplier(&state, ctx.viewer.as_ref(), id).await?;
    let what: String = form.what.trim().chars().take(1000).collect();
    let contact: String = form.contact.trim().chars().take(100).collect();
    let refuse = |message: &str| message.to_string();
    let error = if what.chars().count() < 5 {
        Some(refuse("请写明哪项信息有误、应当是什么（至少 5 个字）。"))
    } else {
        let since = state.clock.unix() - 3600;
        let recent = state.store.count_corrections_from(&ctx.ip, since).await?;
        (recent >= CORRECTIONS_PER_HOUR)
            .then(|| refuse("同一网络一小时内提交的纠错已达上限，请稍后再试。"))
    };
    if let Some(error) = error {
        let html = detail_html(&state, &ctx, id, None, Some(error), what, contact).await?;
        return Ok(crate::errors::rendered(
            axum::http::StatusCode::BAD_REQUEST,
            Html(html),
        ));
    }
    let province = review_queue::route_province(&state.config, &organisation.region_code);
    let reporter = ctx.viewer.as_ref().map(|v| v.account.id);
    let correction_id = state
        .store
        .file_correction(
            &NewCorrection {
                organisation_id: id,
                what: &what,
                contact: &contact,
                reporter_account_id: reporter,
                ip: &ctx.ip,
                province_code: &province,
            },
            state.clock.unix(),
        )
        .await?;
    let actor = match &ctx.viewer {
        Some(viewer) => Actor::account(&viewer.account),
        None => Actor {
            account_id: None,
            login: None,
            role: None,
        },
    };
    audit::record(
        &state,
        &ctx,
        actor,
        "supplier.correction",
        &format!("organisation:{id}"),
        Outcome::Success,
        &format!("correction:{correction_id} → {province}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/services/suppliers/{id}?reported=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonnes_are_read_exactly() {
        assert_eq!(tonnes_to_kg("25"), Some(25_000));
        assert_eq!(tonnes_to_kg("0.5"), Some(500));
        assert_eq!(tonnes_to_kg("１２.１２５"), Some(12_125));
        assert_eq!(tonnes_to_kg("-3"), None);
        assert_eq!(tonnes_to_kg("1.2345"), None);
        assert_eq!(tonnes_to_kg("abc"), None);
    }
}
