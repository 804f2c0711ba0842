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
        .route("/regulations", get(super::regulations::api_list))
        .route("/regulations/{id}", get(super::regulations::api_detail))
        .route("/suppliers", get(super::suppliers::api_list))
        .route("/notices", get(super::hall::api_notices))
        .route("/notices/{id}", get(super::hall::api_notice))
        .route("/demands", get(super::hall::api_demands))
        .route("/demands/{id}", get(super::hall::api_demand))
        .route("/courses", get(super::classroom::api_courses))
        .route("/courses/{id}", get(super::classroom::api_course))
        .route("/qa/ask", get(super::assistant::api_ask))
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
    // Built apart: one json! literal for every path exceeds the macro recursion limit.
    let suppliers_path = json!({ "get": {
                "summary": "第三方服务机构名录（惠企服务）", "operationId": "listSuppliers",
                "description": "每项含 id、name、credit_code、region_code、categories、qualifications（含有效期状态 status：valid | expiring | expired | not_yet_valid | rejected）和 highlights。facets：region、category、qualification、hw、mode、size。",
                "parameters": with_pages(vec![
                    param("q", "关键词：名称、曾用名、地址、业务范围、废物名称（如 废机油）"),
                    repeated("region", "地区代码：该地区及其下级"), repeated("category", "服务类别代码"),
                    repeated("qualification", "hw-licence | cma | eia | other"),
                    repeated("hw", "危险废物类别，如 HW08；重复时须全部可收"),
                    param("capacity_min", "核准能力下限（吨/年；与 hw 同用时按每个类别的核准能力）"), repeated("mode", "收集 | 贮存 | 利用 | 处置"),
                    repeated("size", "微型 | 小型 | 中型 | 大型 | 未填"), param("valid_only", "true：只含资质在有效期内的机构；与 hw 同用时，所选每个危废类别都须有在有效期内的经营许可证"),
                    param("serves", "地区代码：许可证收集范围允许该地区"),
                    param("sort", "relevance | name | validity"), param("order", "asc | desc")]),
                "responses": list_response.clone() } });
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
            "/api/v1/suppliers": suppliers_path,
            "/api/v1/notices": { "get": {
                "summary": "招标采购公告（需求大厅）", "operationId": "listNotices",
                "description": "每项含 id、source_id、title、notice_type、project_code、purchaser、region_code、budget_yuan（元，整数）、publish_date、deadline、state。facets：type、category、region。",
                "parameters": with_pages(vec![
                    param("q", "关键词：标题、采购人、正文"), repeated("region", "地区代码：该地区及其下级（省、市、区县、街道镇）"),
                    repeated("type", "公告类型，如 招标公告、中标(成交)结果公告"), repeated("category", "服务类别代码（大类含其下小类）"),
                    param("budget_min", "预算下限（元）"), param("budget_max", "预算上限（元）"),
                    repeated("purchaser", "采购人全称"), param("publish_from", "发布日期起 YYYY-MM-DD"), param("publish_to", "发布日期止 YYYY-MM-DD"),
                    param("open", "true：只含未过截止时间且未终止、未出结果的公告"),
                    param("sort", "date | budget | relevance"), param("order", "asc | desc")]),
                "responses": list_response.clone() } },
            "/api/v1/notices/{id}": { "get": {
                "summary": "单条公告及其后续公告（更正后的预算、截止时间见 effective）", "operationId": "getNotice",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "公告" }, "404": { "description": "不存在", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
            "/api/v1/demands": { "get": {
                "summary": "企业需求（需求大厅，审核通过后公开）", "operationId": "listDemands",
                "description": "每项含 id、source_id、title、notice_type（企业需求）、purchaser（发布企业）、region_code、budget_yuan（面议为 null）、publish_date、deadline、service_category_code、status。",
                "parameters": with_pages(vec![
                    param("q", "关键词"), repeated("region", "地区代码：该地区及其下级"), repeated("category", "服务类别代码"),
                    param("budget_min", "预算下限（元）"), param("budget_max", "预算上限（元）"), repeated("purchaser", "发布企业全称"),
                    repeated("publisher", "同 purchaser"), param("publish_from", "发布日期起"), param("publish_to", "发布日期止"),
                    param("open", "true：只含征集中且未过截止日期的需求"),
                    param("sort", "date | budget | relevance"), param("order", "asc | desc")]),
                "responses": list_response.clone() } },
            "/api/v1/demands/{id}": { "get": {
                "summary": "单条企业需求", "operationId": "getDemand",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "需求" }, "404": { "description": "不存在", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
            "/api/v1/regulations": { "get": {
                "summary": "标准政策：法律、法规、规章、规范性文件和标准", "operationId": "listRegulations",
                "description": "每项含 id、source_id、title、doc_number、level、status（按当日计算）、effective、published、issuer、domains、region、mandatory 和 highlights（title、summary、full_text 的高亮片段）。facets：level、status、domain、region、issuer、mandatory。标准编号可按任意写法查询（GB3838、gb 3838—2002、HJ 819）。",
                "parameters": with_pages(vec![
                    param("q", "关键词：标题、文号/标准编号、摘要、全文"),
                    repeated("level", "法律 | 行政法规 | 部门规章 | 规范性文件 | 地方性法规 | 地方政府规章 | 国家标准 | 行业标准 | 地方标准"),
                    repeated("status", "现行有效 | 已修改 | 已废止 | 尚未生效 | all；缺省为除已废止外的全部"),
                    repeated("issuer", "发布机关（联合发布的任一机关）"),
                    repeated("domain", "综合 | 水 | 气 | 声 | 固废 | 土壤 | 环保手续 | 监测 | 辐射 | 生态"),
                    param("region", "地区代码：全国性文件、所在省市的文件，以及示范区内适用的示范区文件"),
                    param("mandatory", "true：强制性标准；false：推荐性标准"),
                    param("effective_from", "施行日期起（YYYY-MM-DD，含）"), param("effective_to", "施行日期止（含）"),
                    param("published_from", "发布日期起（含）"), param("published_to", "发布日期止（含）"),
                    param("sort", "relevance | date | effective（有关键词时默认 relevance，否则 date）"), param("order", "asc | desc")]),
                "responses": list_response.clone() } },
            "/api/v1/regulations/{id}": { "get": {
                "summary": "单个标准政策文件：全文、替代与修改关系、政策解读", "operationId": "getRegulation",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "文件" }, "404": { "description": "不存在", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
            "/api/v1/qa/ask": { "get": {
                "summary": "智能问答：按问题匹配问答库", "operationId": "askQuestion",
                "description": "返回 {confident, answers:[{id, source_id, question, answer, score, references:[{title, regulation_id}]}]}。confident 为 true 时第一项即答案；为 false 时 answers 为最接近的至多 3 条（您是不是想问）。score 为 0–1 的置信度；regulation_id 为标准政策文件的 id，没有对应文件时为 null。summary 为可选的摘要：配置了生成接口（qa_generate，默认关闭）且回答有把握时，由模型仅根据 answers 中的条目改写并以 [n] 标注所引条目（第 n 项）；未配置、未按时返回或未通过检查时为 null，以 answers 原文为准。",
                "parameters": [
                    { "name": "q", "in": "query", "required": true, "description": "问题（最多 5000 字，按前 500 字匹配）", "schema": { "type": "string" } },
                    param("region", "地区代码：全国、所在省市，以及示范区内的示范区条目"),
                    param("category", "水 | 气 | 声 | 固废 | 土壤 | 环保手续 | 监测 | 执法 | 第三方治理 | 其他")],
                "responses": {
                    "200": { "description": "回答", "content": { "application/json": { "schema": { "type": "object", "required": ["confident", "answers"], "properties": {
                        "confident": { "type": "boolean" },
                        "answers": { "type": "array", "items": { "type": "object", "required": ["id", "source_id", "question", "answer", "score", "references"], "properties": {
                            "id": { "type": "string" }, "source_id": { "type": ["string", "null"] }, "question": { "type": "string" }, "answer": { "type": "string" },
                            "score": { "type": "number", "minimum": 0, "maximum": 1 },
                            "references": { "type": "array", "items": { "type": "object", "required": ["title", "regulation_id"], "properties": {
                                "title": { "type": "string" }, "regulation_id": { "type": ["string", "null"] } } } } } } },
                        "summary": { "type": ["object", "null"], "required": ["text", "cites"], "properties": {
                            "text": { "type": "string", "description": "纯文本，至多 600 字，引用写作 [n]" },
                            "cites": { "type": "array", "items": { "type": "object", "required": ["n", "id", "source_id"], "properties": {
                                "n": { "type": "integer", "minimum": 1 }, "id": { "type": "string" }, "source_id": { "type": ["string", "null"] } } } } } } } } } } },
                    "400": { "description": "参数错误（q 为空、未知的地区代码或分类）", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
            "/api/v1/courses": { "get": {
                "summary": "绿色课堂：培训课程", "operationId": "listCourses",
                "description": "每项含 id、source_id、title、description、speaker、speaker_title、speaker_org、category、level、duration_minutes、tags、regulations（相关标准政策：编号或名称）、published_at、lesson_count、view_count（各课时观看次数之和）、sample 和 url。facets：category、tag。关键词按中文分词并识别常用简称（如 危废 = 危险废物），匹配标题、标签、主讲人、简介和课时文字稿。",
                "parameters": with_pages(vec![
                    param("q", "关键词"),
                    repeated("category", "类别，如 危废管理"),
                    repeated("tag", "标签（课程含任一即可）"),
                    param("sort", "relevance | newest | views（有关键词时默认 relevance，否则 newest）"),
                    param("order", "asc | desc（缺省 desc）")]),
                "responses": list_response.clone() } },
            "/api/v1/courses/{id}": { "get": {
                "summary": "单门课程及其课时（视频、字幕、课件、封面的地址和文字稿）", "operationId": "getCourse",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "课程" }, "404": { "description": "不存在", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } },
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
