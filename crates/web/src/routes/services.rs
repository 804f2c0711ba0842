//! 惠企服务: for now the reference tools every enterprise needs — the 危险废物名录
//! lookup (by code, description or everyday name such as 废机油) and the guide to the
//! government online systems. The supplier directory joins them here.

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use greenbridge_domain::hw::{HwCatalogue, HwCategory, HwCategoryEntry, WasteCodeEntry};
use greenbridge_domain::module::Module;
use serde::Deserialize;

/// Most rows a lookup shows; the API pages through all of them.
const MAX_ROWS: usize = 100;

/// 404 unless an admin has the module switched on.
pub async fn ensure_enabled(state: &AppState, module: Module) -> AppResult<()> {
    if state.modules.is_enabled(&state.store, module).await {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize, Default)]
pub struct LookupQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    hw: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage<'a> {
    page: Page,
    q: String,
    hw: String,
    categories: &'a [HwCategoryEntry],
    searched: bool,
    results: Vec<&'a WasteCodeEntry>,
    total: usize,
    error: Option<String>,
    groups: Vec<crate::routes::gov_systems::TopicGroup>,
}

pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LookupQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Services).await?;
    let catalogue = HwCatalogue::embedded();
    let q = query.q.trim().chars().take(50).collect::<String>();
    let hw = query.hw.trim().to_string();
    let mut error = None;
    let category = if hw.is_empty() {
        None
    } else {
        match HwCategory::parse(&hw) {
            Ok(category) => Some(category),
            Err(e) => {
                error = Some(e.to_string());
                None
            }
        }
    };
    let searched = !q.is_empty() || category.is_some();
    let mut results: Vec<&WasteCodeEntry> = match (q.is_empty(), &category) {
        (false, _) => catalogue.search(&q),
        (true, Some(category)) => catalogue.codes_in(category).into_iter().collect(),
        (true, None) => Vec::new(),
    };
    if let Some(category) = &category {
        results.retain(|e| &e.category == category);
    }
    let total = results.len();
    results.truncate(MAX_ROWS);
    let page = Page::new(&state, &ctx, "惠企服务").await;
    Ok(Html(
        ServicesPage {
            page,
            q,
            hw,
            categories: catalogue.categories(),
            searched,
            results,
            total,
            error,
            groups: crate::routes::gov_systems::grouped(&state).await?,
        }
        .render()?,
    ))
}
