//! 单位查询 for reviewers and admins: registered organisations found through this
//! instance's search index (the first collection fed from the outbox). Reviewers see
//! their own province only.

use crate::context::Authenticated;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_search::{Filter, SearchRequest, Sort};
use serde::Deserialize;

const PAGE_SIZE: usize = 20;

#[derive(Deserialize, Default)]
pub struct OrganisationQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    side: String,
    #[serde(default)]
    verified: String,
    page: Option<usize>,
}

pub struct Row {
    pub id: String,
    /// HTML from the search index: escaped text with `<mark>` around matches.
    pub name_html: String,
    pub address_html: String,
    pub credit_code: String,
    pub region: String,
    pub side: &'static str,
    pub verified: bool,
}

pub struct FacetRow {
    pub value: String,
    pub label: &'static str,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsPage {
    page: Page,
    q: String,
    side: String,
    verified: String,
    rows: Vec<Row>,
    total: usize,
    relaxed: bool,
    sides: Vec<FacetRow>,
    scope_name: String,
    page_number: usize,
    has_next: bool,
    query_string: String,
}

fn side_label(value: &str) -> &'static str {
    match value {
        "demand" => "需求端企业",
        "supplier" => "第三方服务机构",
        _ => "其他",
    }
}

pub async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<OrganisationQuery>,
) -> AppResult<Html<String>> {
    let viewer = auth.require(Permission::ReviewRegistrations)?;
    let province = match viewer.account.role {
        Role::Admin => None,
        _ => Some(
            viewer
                .account
                .province_code
                .clone()
                .ok_or(AppError::Forbidden)?,
        ),
    };
    let q = query.q.trim().chars().take(100).collect::<String>();
    let mut filters = Vec::new();
    if let Some(province) = &province {
        filters.push(Filter::AnyOf {
            field: "region".into(),
            values: vec![province.clone()],
        });
    }
    for (field, value, allowed) in [
        ("side", &query.side, &["demand", "supplier"][..]),
        ("verified", &query.verified, &["yes", "no"][..]),
    ] {
        if !value.is_empty() {
            if !allowed.contains(&value.as_str()) {
                return Err(AppError::bad_request(field, format!("{field} 的取值无效")));
            }
            filters.push(Filter::AnyOf {
                field: field.into(),
                values: vec![value.clone()],
            });
        }
    }
    let page_number = query.page.unwrap_or(1).clamp(1, 500);
    let results = state
        .search
        .organisations
        .search(&SearchRequest {
            q: Some(q.clone()).filter(|q| !q.is_empty()),
            filters,
            sort: if q.is_empty() {
                Sort::Number {
                    field: "created_at".into(),
                    descending: true,
                }
            } else {
                Sort::Relevance
            },
            offset: (page_number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
            facet_fields: vec!["side".into()],
        })
        .map_err(|e| AppError::Internal(e.into()))?;
    let tree = RegionTree::embedded();
    let mut rows = Vec::new();
    for hit in &results.hits {
        let Ok(id) = hit.id.parse::<i64>() else {
            continue;
        };
        // The index may trail the database by a moment: show what the row says now.
        let Some(organisation) = state.store.find_organisation(id).await? else {
            continue;
        };
        let escape = crate::errors::escape_html;
        rows.push(Row {
            id: hit.id.clone(),
            name_html: hit
                .snippets
                .get("name")
                .cloned()
                .unwrap_or_else(|| escape(&organisation.name)),
            address_html: hit
                .snippets
                .get("address")
                .cloned()
                .unwrap_or_else(|| escape(&organisation.address)),
            credit_code: organisation.credit_code.to_string(),
            region: tree.full_name(&organisation.region_code),
            side: organisation.side.label_zh(),
            verified: organisation.verified,
        });
    }
    let sides = results
        .facets
        .get("side")
        .map(|values| {
            values
                .iter()
                .map(|(value, count)| FacetRow {
                    label: side_label(value),
                    value: value.clone(),
                    count: *count,
                })
                .collect()
        })
        .unwrap_or_default();
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &q)
        .append_pair("side", &query.side)
        .append_pair("verified", &query.verified)
        .finish();
    let page = Page::new(&state, &auth.1, "单位查询").await;
    Ok(Html(
        OrganisationsPage {
            page,
            has_next: page_number * PAGE_SIZE < results.total,
            total: results.total,
            relaxed: results.relaxed,
            q,
            side: query.side,
            verified: query.verified,
            rows,
            sides,
            scope_name: province
                .map(|p| tree.full_name(&p))
                .unwrap_or_else(|| "全部省市".into()),
            page_number,
            query_string,
        }
        .render()?,
    ))
}

/// 重建搜索索引: queues a job that has every instance rebuild its indexes from the
/// database, and opens the job's page, which shows the progress.
pub async fn reindex(
    axum::extract::State(state): axum::extract::State<AppState>,
    auth: Authenticated,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let now = state.clock.unix();
    let job = greenbridge_store::NewJob::new(
        crate::jobs::platform::SEARCH_REINDEX,
        serde_json::json!({}),
        now,
    );
    let id = state
        .store
        .enqueue_job(&job)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("reindex job not enqueued")))?;
    crate::audit::record(
        &state,
        &auth.1,
        crate::audit::Actor::account(&viewer.account),
        "search.reindex",
        &format!("job:{id}"),
        greenbridge_store::Outcome::Success,
        "",
    )
    .await?;
    Ok(axum::response::Redirect::to(&format!("/admin/jobs/{id}")).into_response())
}
