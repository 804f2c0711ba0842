//! The JSON API skeleton under `/api/v1` and its OpenAPI document.
//!
//! Conventions (DESIGN.md "JSON API"): lists answer `{"total", "items", "facets"}`;
//! `page` from 1, `page_size` up to 100; `q` is the keyword; a repeated parameter
//! means any of its values; errors are `{"error": {"code", "message", "field"}}`.
//! The first resources are the reference data every module shares.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, RawQuery};
use axum::routing::get;
use axum::{Json, Router};
use greenbridge_domain::hw::HwCatalogue;
use greenbridge_domain::region::{Region, RegionTree};
use greenbridge_domain::service_category::ServiceCatalogue;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const MAX_PAGE_SIZE: usize = 100;
const DEFAULT_PAGE_SIZE: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/regions", get(regions))
        .route("/regions/{code}", get(region))
        .route("/hw-categories", get(hw_categories))
        .route("/waste-codes", get(waste_codes))
        .route("/service-categories", get(service_categories))
}

/// Query parameters as given, repeated ones kept, checked against what a route knows.
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(raw: Option<String>, known: &[&str]) -> AppResult<Params> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        if let Some((unknown, _)) = pairs.iter().find(|(k, _)| {
            !known.contains(&k.as_str())
                && !["page", "page_size", "sort", "order"].contains(&k.as_str())
        }) {
            return Err(AppError::bad_request(
                unknown,
                format!("不支持的查询参数 {unknown}"),
            ));
        }
        Ok(Params { pairs })
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn number(&self, name: &str, default: usize, min: usize, max: usize) -> AppResult<usize> {
        match self.one(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    AppError::bad_request(name, format!("{name} 应为 {min} 到 {max} 之间的整数"))
                }),
        }
    }

    /// (page, page_size), validated.
    pub fn page(&self) -> AppResult<(usize, usize)> {
        Ok((
            self.number("page", 1, 1, 1_000_000)?,
            self.number("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)?,
        ))
    }
}

#[derive(Serialize)]
pub struct Facet {
    pub value: String,
    pub label: String,
    pub count: usize,
}

/// A page of `items` in the list envelope.
pub fn list<T: Serialize>(
    items: Vec<T>,
    page: usize,
    page_size: usize,
    facets: BTreeMap<&'static str, Vec<Facet>>,
) -> Json<Value> {
    let total = items.len();
    let items: Vec<T> = items
        .into_iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .collect();
    Json(json!({ "total": total, "items": items, "facets": facets }))
}

#[derive(Serialize)]
struct RegionItem {
    id: String,
    source_id: Option<String>,
    code: String,
    name: String,
    full_name: String,
    level: &'static str,
    parent: Option<String>,
    phase: u8,
    has_children: bool,
}

fn region_item(tree: &RegionTree, region: &Region) -> RegionItem {
    RegionItem {
        id: region.code.as_str().to_string(),
        source_id: None,
        code: region.code.as_str().to_string(),
        name: region.name.clone(),
        full_name: tree.full_name(&region.code),
        level: region.level.as_str(),
        parent: region.parent.as_ref().map(|p| p.as_str().to_string()),
        phase: region.phase,
        has_children: !tree.is_finest(&region.code),
    }
}

fn known_region(tree: &RegionTree, field: &str, code: &str) -> AppResult<()> {
    tree.get(code)
        .map(|_| ())
        .ok_or_else(|| AppError::bad_request(field, format!("未知的地区代码 {code}")))
}

/// Regions: `parent` (children of a region; without it, provinces), `region` (that
/// region and everything below it), `level`, `phase`, `q` (name contains).
async fn regions(RawQuery(raw): RawQuery) -> AppResult<Json<Value>> {
    let params = Params::parse(raw, &["q", "parent", "region", "level", "phase"])?;
    let (page, page_size) = params.page()?;
    let tree = RegionTree::embedded();
    let levels = params.all("level");
    for level in &levels {
        if !["province", "city", "district", "town"].contains(level) {
            return Err(AppError::bad_request(
                "level",
                "level 只能是 province、city、district 或 town",
            ));
        }
    }
    let phases: Vec<u8> = params
        .all("phase")
        .iter()
        .map(|p| {
            p.parse::<u8>()
                .ok()
                .filter(|n| (1..=4).contains(n))
                .ok_or_else(|| AppError::bad_request("phase", "phase 只能是 1 到 4"))
        })
        .collect::<AppResult<_>>()?;
    let parent = params.one("parent");
    if let Some(code) = parent {
        known_region(tree, "parent", code)?;
    }
    let within = params.all("region");
    for code in &within {
        known_region(tree, "region", code)?;
    }
    let q = params.one("q");
    let browsing = parent.is_none()
        && within.is_empty()
        && q.is_none()
        && levels.is_empty()
        && phases.is_empty();
    let candidates: Vec<&Region> = match parent {
        Some(code) => tree.children(code),
        None if browsing => tree.provinces(),
        None => tree.iter().collect(),
    };
    let matching: Vec<&Region> = candidates
        .into_iter()
        .filter(|r| within.is_empty() || within.iter().any(|w| tree.is_within(&r.code, w)))
        .filter(|r| q.is_none_or(|q| r.name.contains(q) || tree.full_name(&r.code).contains(q)))
        .filter(|r| phases.is_empty() || phases.contains(&r.phase))
        .collect();
    let mut level_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for region in &matching {
        *level_counts.entry(region.level.as_str()).or_default() += 1;
    }
    let facets = BTreeMap::from([(
        "level",
        level_counts
            .into_iter()
            .map(|(value, count)| Facet {
                label: level_label(value).into(),
                value: value.into(),
                count,
            })
            .collect(),
    )]);
    let items: Vec<RegionItem> = matching
        .into_iter()
        .filter(|r| levels.is_empty() || levels.contains(&r.level.as_str()))
        .map(|r| region_item(tree, r))
        .collect();
    Ok(list(items, page, page_size, facets))
}

fn level_label(level: &str) -> &'static str {
    match level {
        "province" => "省级",
        "city" => "地市级",
        "district" => "区县级",
        _ => "乡镇/街道",
    }
}

async fn region(Path(code): Path<String>) -> AppResult<Json<Value>> {
    let tree = RegionTree::embedded();
    let region = tree.get(&code).ok_or(AppError::NotFound)?;
    let mut item = serde_json::to_value(region_item(tree, region))
        .map_err(|e| AppError::Internal(e.into()))?;
    item["children"] = serde_json::to_value(
        tree.children(&region.code)
            .into_iter()
            .map(|r| region_item(tree, r))
            .collect::<Vec<_>>(),
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(item))
}

async fn hw_categories(RawQuery(raw): RawQuery) -> AppResult<Json<Value>> {
    let params = Params::parse(raw, &["q"])?;
    let (page, page_size) = params.page()?;
    let catalogue = HwCatalogue::embedded();
    let q = params.one("q");
    let items: Vec<Value> = catalogue
        .categories()
        .iter()
        .filter(|c| q.is_none_or(|q| c.name.contains(q) || c.code.as_str().eq_ignore_ascii_case(q)))
        .map(|c| {
            json!({
                "id": c.code.as_str(), "source_id": null, "code": c.code.as_str(), "name": c.name,
                "waste_code_count": catalogue.codes_in(&c.code).len(),
            })
        })
        .collect();
    Ok(list(items, page, page_size, BTreeMap::new()))
}

/// Waste codes of the 名录: `q` (code, description, industry or an everyday name such
/// as 废机油), `hw` (category; repeated means any).
async fn waste_codes(RawQuery(raw): RawQuery) -> AppResult<Json<Value>> {
    let params = Params::parse(raw, &["q", "hw"])?;
    let (page, page_size) = params.page()?;
    let catalogue = HwCatalogue::embedded();
    let mut categories = Vec::new();
    for value in params.all("hw") {
        let category = greenbridge_domain::hw::HwCategory::parse(value)
            .map_err(|e| AppError::bad_request("hw", e.to_string()))?;
        categories.push(category);
    }
    let entries: Vec<_> = match params.one("q") {
        Some(q) => catalogue.search(q),
        None => catalogue.waste_codes().iter().collect(),
    };
    let matching: Vec<_> = entries
        .into_iter()
        .filter(|e| categories.is_empty() || categories.contains(&e.category))
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &matching {
        *counts
            .entry(entry.category.as_str().to_string())
            .or_default() += 1;
    }
    let facets = BTreeMap::from([(
        "hw",
        counts
            .into_iter()
            .map(|(value, count)| Facet {
                label: catalogue
                    .category(&value)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                value,
                count,
            })
            .collect(),
    )]);
    let items: Vec<Value> = matching
        .into_iter()
        .map(|e| {
            json!({
                "id": e.code.as_str(), "source_id": null, "code": e.code.as_str(),
                "category": e.category.as_str(), "industry": e.industry,
                "description": e.description, "hazard": e.hazard,
            })
        })
        .collect();
    Ok(list(items, page, page_size, facets))
}

async fn service_categories(RawQuery(raw): RawQuery) -> AppResult<Json<Value>> {
    let params = Params::parse(raw, &["q", "parent"])?;
    let (page, page_size) = params.page()?;
    let catalogue = ServiceCatalogue::embedded();
    let parent = params.one("parent");
    if let Some(code) = parent
        && catalogue.get(code).is_none()
    {
        return Err(AppError::bad_request(
            "parent",
            format!("未知的服务类别 {code}"),
        ));
    }
    let q = params.one("q");
    let items: Vec<Value> = catalogue
        .all()
        .iter()
        .filter(|c| parent.is_none_or(|p| c.parent.as_deref() == Some(p)))
        .filter(|c| q.is_none_or(|q| c.name.contains(q) || c.description.contains(q)))
        .map(|c| json!({ "id": c.code, "source_id": null, "code": c.code, "name": c.name, "parent": c.parent, "description": c.description }))
        .collect();
    Ok(list(items, page, page_size, BTreeMap::new()))
}

/// The OpenAPI 3.1 document, written out by hand: a handful of read-only resources do
/// not justify a derive framework, and a test checks every route appears here.
async fn openapi() -> Json<Value> {
    let page_params = json!([
        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "default": 1 } },
        { "name": "page_size", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE } }
    ]);
    let param = |name: &str, description: &str| json!({ "name": name, "in": "query", "description": description, "schema": { "type": "string" } });
    let repeated = |name: &str, description: &str| json!({ "name": name, "in": "query", "description": description, "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true });
    let with_pages = |mut params: Vec<Value>| {
        params.extend(page_params.as_array().cloned().unwrap_or_default());
        Value::Array(params)
    };
    let list_response = json!({
        "200": { "description": "列表", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/List" } } } },
        "400": { "description": "参数错误", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    });
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "绿桥 GreenBridge 开放接口",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "长三角生态绿色一体化发展示范区生态环境第三方治理服务平台的只读数据接口。列表统一返回 total、items、facets；重复的参数表示“任一”，不同参数须同时满足。"
        },
        "paths": {
            "/api/v1/regions": { "get": {
                "summary": "行政区划", "operationId": "listRegions",
                "parameters": with_pages(vec![
                    param("q", "名称包含"), param("parent", "上级地区代码：列出其下一级"),
                    repeated("region", "地区代码：该地区及其下级"), repeated("level", "province | city | district | town"),
                    repeated("phase", "注册开放阶段 1–4")]),
                "responses": list_response.clone() } },
            "/api/v1/regions/{code}": { "get": {
                "summary": "单个地区及其下一级", "operationId": "getRegion",
                "parameters": [{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "地区" }, "404": { "description": "不存在", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
            "/api/v1/hw-categories": { "get": {
                "summary": "危险废物类别（HW）", "operationId": "listHwCategories",
                "parameters": with_pages(vec![param("q", "名称或代码")]), "responses": list_response.clone() } },
            "/api/v1/waste-codes": { "get": {
                "summary": "《国家危险废物名录》废物代码", "operationId": "listWasteCodes",
                "parameters": with_pages(vec![param("q", "代码、描述、行业或俗称（如 废机油）"), repeated("hw", "危险废物类别，如 HW08")]),
                "responses": list_response.clone() } },
            "/api/v1/service-categories": { "get": {
                "summary": "第三方环境服务类别", "operationId": "listServiceCategories",
                "parameters": with_pages(vec![param("q", "名称或说明包含"), param("parent", "上级类别代码")]),
                "responses": list_response } }
        },
        "components": { "schemas": {
            "List": { "type": "object", "required": ["total", "items", "facets"], "properties": {
                "total": { "type": "integer" },
                "items": { "type": "array", "items": { "type": "object", "required": ["id", "source_id"], "properties": {
                    "id": { "type": "string" }, "source_id": { "type": ["string", "null"] } } } },
                "facets": { "type": "object", "additionalProperties": { "type": "array", "items": { "$ref": "#/components/schemas/FacetValue" } } } } },
            "FacetValue": { "type": "object", "required": ["value", "label", "count"], "properties": {
                "value": { "type": "string" }, "label": { "type": "string" }, "count": { "type": "integer" } } },
            "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": ["string", "null"] } } } } }
        } }
    }))
}
