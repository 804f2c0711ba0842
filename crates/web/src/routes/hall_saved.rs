//! Saved searches of the 需求大厅. A logged-in user saves the hall's current filters;
//! the scheduled job [`check_job`] finds items that are new since the last check and
//! sends each owner one notification per search (inbox, and e-mail at once or in the
//! daily digest as their notification settings say, with unsubscribe). Each saved
//! search also has an Atom feed at a secret URL.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::module::Module;
use greenbridge_store::{Outcome, StoreError};
use serde::Deserialize;

use super::api::Params;
use super::hall::{FILTER_PARAMS, HallFilters, Item, Kind, search};
use super::services::ensure_enabled;
use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobContext, JobResult};
use crate::page::Page;
use crate::state::AppState;

/// The job kind of the periodic check.
pub const CHECK_JOB: &str = "hall.saved_searches";

/// Parses a stored or submitted query string into (kind, filters).
pub fn parse_query(query: &str) -> AppResult<(Kind, HallFilters)> {
    let mut known: Vec<&str> = FILTER_PARAMS.to_vec();
    known.push("kind");
    let params = Params::parse(Some(query.to_string()), &known)?;
    let kind = Kind::parse(params.one("kind"))?;
    Ok((kind, HallFilters::from_params(&params)?))
}

fn canonical(kind: Kind, filters: &HallFilters) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("kind", kind.as_str());
    for (k, v) in filters.pairs() {
        if k != "sort" && k != "order" {
            s.append_pair(k, &v);
        }
    }
    s.finish()
}

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    query: String,
}

/// `POST /demands/saved`.
pub async fn save(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<SaveForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let (kind, filters) = parse_query(&form.query)?;
    let name: String = filters.describe().chars().take(100).collect();
    let saved = match state
        .store
        .create_saved_search(
            auth.0.account.id,
            &name,
            kind.as_str(),
            &canonical(kind, &filters),
            state.clock.unix(),
        )
        .await
    {
        Ok(s) => s,
        Err(StoreError::Conflict) => {
            return Err(AppError::bad_request(
                "query",
                "订阅已达上限（20 个），请先删除不用的订阅",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&auth.0.account),
        "hall.saved_search.create",
        &format!("saved_search:{}", saved.id),
        Outcome::Success,
        &saved.query,
    )
    .await?;
    Ok(Redirect::to("/demands/saved").into_response())
}

pub struct SavedRow {
    pub id: i64,
    pub name: String,
    pub scope: &'static str,
    pub href: String,
    pub feed: String,
    pub hits: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "hall_saved.html")]
struct SavedPage {
    page: Page,
    rows: Vec<SavedRow>,
}

fn item_href(kind: &str, id: i64) -> String {
    match kind {
        "notice" => format!("/demands/notices/{id}"),
        _ => format!("/demands/items/{id}"),
    }
}

/// `GET /demands/saved`.
pub async fn list(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Demands).await?;
    let mut rows = Vec::new();
    for s in state.store.saved_searches_of(auth.0.account.id).await? {
        let hits = state
            .store
            .saved_search_hits(s.id, 5)
            .await?
            .into_iter()
            .map(|h| (item_href(&h.kind, h.item_id), h.title))
            .collect();
        rows.push(SavedRow {
            id: s.id,
            scope: match s.scope.as_str() {
                "notices" => "招标采购公告",
                "demands" => "企业需求",
                _ => "公告和需求",
            },
            href: format!("/demands?{}", s.query),
            feed: format!("/demands/feed/{}", s.feed_token),
            name: s.name,
            hits,
        });
    }
    let page = Page::new(&state, &auth.1, "我的订阅").await;
    Ok(Html(SavedPage { page, rows }.render()?))
}

/// `POST /demands/saved/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    state
        .store
        .delete_saved_search(auth.0.account.id, id)
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&auth.0.account),
        "hall.saved_search.delete",
        &format!("saved_search:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/demands/saved").into_response())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// `GET /demands/feed/{token}`: the saved search's finds as an Atom feed. The token is
/// the only credential (feed readers cannot log in); an unknown token is 404.
pub async fn feed(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    ensure_enabled(&state, Module::Demands).await?;
    let saved = state
        .store
        .saved_search_by_feed(&token)
        .await?
        .ok_or(AppError::NotFound)?;
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let hits = state.store.saved_search_hits(saved.id, 50).await?;
    let updated = hits.first().map(|h| h.found_at).unwrap_or(saved.created_at);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    xml.push_str(&format!(
        "<title>绿桥需求大厅订阅：{}</title>\n",
        xml_escape(&saved.name)
    ));
    xml.push_str(&format!(
        "<id>urn:greenbridge:saved-search:{}</id>\n",
        saved.id
    ));
    xml.push_str(&format!("<updated>{}</updated>\n", rfc3339(updated)));
    xml.push_str(&format!(
        "<link rel=\"alternate\" href=\"{}\"/>\n",
        xml_escape(&format!("{base}/demands?{}", saved.query))
    ));
    for h in &hits {
        let href = format!("{base}{}", item_href(&h.kind, h.item_id));
        xml.push_str("<entry>\n");
        xml.push_str(&format!("<title>{}</title>\n", xml_escape(&h.title)));
        xml.push_str(&format!(
            "<id>urn:greenbridge:{}:{}</id>\n",
            h.kind, h.item_id
        ));
        xml.push_str(&format!("<link href=\"{}\"/>\n", xml_escape(&href)));
        xml.push_str(&format!("<updated>{}</updated>\n", rfc3339(h.found_at)));
        xml.push_str("</entry>\n");
    }
    xml.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// Runs every saved search once: items created since the last check that match are
/// recorded as hits, and each owner with new hits gets one notification per search.
pub async fn check_all(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.unix();
    let mut notified = 0;
    for saved in state.store.all_saved_searches().await? {
        let Ok((kind, mut filters)) = parse_query(&saved.query) else {
            tracing::warn!(
                saved_search = saved.id,
                "saved search no longer parses; skipped"
            );
            continue;
        };
        filters.sort = Some(super::hall::SortKey::Date);
        let found = search(state, kind, &filters, 0, 100, false).await?;
        let mut new_titles = Vec::new();
        for (item, _) in &found.items {
            let (kind_name, id, title, created) = match item {
                Item::Notice(n) => ("notice", n.id, n.fields.title.clone(), n.created_at),
                Item::Demand(d) => ("demand", d.id, d.fields.title.clone(), d.updated_at),
            };
            // Items of the same second as the last check count as new: the hit table
            // keeps each from being announced twice.
            if created < saved.checked_at {
                continue;
            }
            if state
                .store
                .record_saved_search_hit(saved.id, kind_name, id, &title, now)
                .await?
            {
                new_titles.push(title);
            }
        }
        state.store.mark_saved_search_checked(saved.id, now).await?;
        if !new_titles.is_empty() {
            let shown: Vec<String> = new_titles
                .iter()
                .take(10)
                .map(|t| format!("· {t}"))
                .collect();
            let body = format!(
                "您订阅的“{}”有 {} 条新结果：\n{}",
                saved.name,
                new_titles.len(),
                shown.join("\n")
            );
            crate::notify::send(
                state,
                saved.account_id,
                "hall.saved_search",
                &format!("需求大厅订阅有 {} 条新结果", new_titles.len()),
                &body,
                "/demands/saved",
            )
            .await?;
            notified += 1;
        }
    }
    Ok(notified)
}

/// The scheduled job.
pub async fn check_job(ctx: JobContext) -> JobResult {
    let notified = check_all(&ctx.state)
        .await
        .map_err(|e| crate::jobs::JobError::retry(format!("{e:?}")))?;
    tracing::info!(notified, "saved searches checked");
    Ok(())
}
