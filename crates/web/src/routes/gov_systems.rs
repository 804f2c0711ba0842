//! 业务应用系统导航与指南: the government online systems an enterprise needs, grouped
//! by topic, shown on the 惠企服务 page; admins keep the list (管理 → 政务系统指引),
//! every change in the audit log. The list starts as the checked reference list
//! (reference/gov_systems.csv), copied into the database once.

use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::gov_system::gov_systems as reference_systems;
use greenbridge_domain::role::Permission;
use greenbridge_store::supplier_queries::{GovSystemFields, GovSystemRecord};
use greenbridge_store::{Outcome, StoreError};
use serde::Deserialize;

/// The regions a system may apply to (as in the reference list).
pub const SYSTEM_REGIONS: [&str; 4] = ["全国", "上海市", "江苏省", "浙江省"];

/// The topic a reference system is filed under at first; admins may change it.
fn seed_topic(name: &str) -> &'static str {
    if name.contains("排污许可") {
        "排污许可与排污登记"
    } else if name.contains("监测") {
        "自行监测"
    } else if name.contains("固体废物") || name.contains("固废") || name.contains("危险废物")
    {
        "固体废物与危险废物"
    } else if name.contains("环评") || name.contains("环境影响") || name.contains("验收") {
        "环评与竣工验收"
    } else if name.contains("披露") {
        "环境信息依法披露"
    } else if name.contains("应急") {
        "突发环境事件应急预案"
    } else if name.contains("一网通办") || name.contains("政务服务") {
        "政务服务（一网通办）"
    } else {
        "信用与政府采购"
    }
}

/// Copies the reference list into the database the first time anyone needs it.
pub async fn ensure_seeded(state: &AppState) -> AppResult<()> {
    let seed: Vec<GovSystemFields> = reference_systems()
        .iter()
        .enumerate()
        .map(|(i, s)| GovSystemFields {
            name: s.name.clone(),
            url: s.url.clone().unwrap_or_default(),
            operator: s.operator.clone(),
            who_needs_it: s.who_needs_it.clone(),
            tasks: s.topics.clone(),
            steps: String::new(),
            topic: seed_topic(&s.name).to_string(),
            region: s.region.clone(),
            position: (i as i64 + 1) * 10,
        })
        .collect();
    state
        .store
        .seed_gov_systems(&seed, state.clock.unix())
        .await?;
    Ok(())
}

/// Systems of one topic, in the list's order.
pub struct TopicGroup {
    pub topic: String,
    pub systems: Vec<GovSystemView>,
}

pub struct GovSystemView {
    pub record: GovSystemRecord,
    /// The address, only when it is an http(s) link (anything else is not linked).
    pub link: Option<String>,
    pub steps: Vec<String>,
}

fn view(record: GovSystemRecord) -> GovSystemView {
    let link = Some(record.url.clone()).filter(|u| is_web_address(u));
    let steps = record
        .steps
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    GovSystemView {
        record,
        link,
        steps,
    }
}

fn is_web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && url.len() > 8
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<')
}

/// Groups in the order their first system appears.
pub async fn grouped(state: &AppState) -> AppResult<Vec<TopicGroup>> {
    ensure_seeded(state).await?;
    let mut groups: Vec<TopicGroup> = Vec::new();
    for record in state.store.gov_systems().await? {
        match groups.iter_mut().find(|g| g.topic == record.topic) {
            Some(group) => group.systems.push(view(record)),
            None => groups.push(TopicGroup {
                topic: record.topic.clone(),
                systems: vec![view(record)],
            }),
        }
    }
    Ok(groups)
}

#[derive(Deserialize, Default, Clone)]
pub struct SystemForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    operator: String,
    #[serde(default)]
    who_needs_it: String,
    #[serde(default)]
    tasks: String,
    #[serde(default)]
    steps: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    position: String,
}

impl SystemForm {
    fn from_record(r: &GovSystemRecord) -> SystemForm {
        SystemForm {
            name: r.name.clone(),
            url: r.url.clone(),
            operator: r.operator.clone(),
            who_needs_it: r.who_needs_it.clone(),
            tasks: r.tasks.clone(),
            steps: r.steps.clone(),
            topic: r.topic.clone(),
            region: r.region.clone(),
            position: r.position.to_string(),
        }
    }
}

fn clip(value: &str, max: usize) -> String {
    value.trim().chars().take(max).collect()
}

impl TryFrom<&SystemForm> for GovSystemFields {
    type Error = (String, String);
    fn try_from(form: &SystemForm) -> Result<Self, Self::Error> {
        let bad = |field: &str, message: &str| Err((field.to_string(), message.to_string()));
        let name = clip(&form.name, 100);
        if name.is_empty() {
            return bad("name", "请填写系统名称");
        }
        let url = form.url.trim().to_string();
        if !url.is_empty() && (!is_web_address(&url) || url.chars().count() > 300) {
            return bad(
                "url",
                "网址应以 http:// 或 https:// 开头；未核实的网址请留空",
            );
        }
        let topic = clip(&form.topic, 50);
        if topic.is_empty() {
            return bad("topic", "请填写所属主题，如“固体废物与危险废物”");
        }
        let region = form.region.trim().to_string();
        if !SYSTEM_REGIONS.contains(&region.as_str()) {
            return bad("region", "适用地区只能是全国、上海市、江苏省或浙江省");
        }
        let position = match form.position.trim() {
            "" => 0,
            p => match p.parse::<i64>() {
                Ok(n) if (0..=100_000).contains(&n) => n,
                _ => return bad("position", "排序应为 0 到 100000 之间的整数"),
            },
        };
        Ok(GovSystemFields {
            name,
            url,
            operator: clip(&form.operator, 100),
            who_needs_it: clip(&form.who_needs_it, 500),
            tasks: clip(&form.tasks, 1000),
            steps: clip(&form.steps, 3000),
            topic,
            region,
            position,
        })
    }
}

#[derive(Template)]
#[template(path = "admin_gov_systems.html")]
struct ListPage {
    page: Page,
    groups: Vec<TopicGroup>,
    form: SystemForm,
    error: Option<(String, String)>,
    notice: Option<String>,
    regions: [&'static str; 4],
}

#[derive(Template)]
#[template(path = "admin_gov_system.html")]
struct EditPage {
    page: Page,
    id: i64,
    form: SystemForm,
    error: Option<(String, String)>,
    regions: [&'static str; 4],
}

async fn list_page(
    state: &AppState,
    auth: &Authenticated,
    form: SystemForm,
    error: Option<(String, String)>,
    notice: Option<String>,
) -> AppResult<String> {
    let groups = grouped(state).await?;
    let page = Page::new(state, &auth.1, "政务系统指引").await;
    Ok(ListPage {
        page,
        groups,
        form,
        error,
        notice,
        regions: SYSTEM_REGIONS,
    }
    .render()?)
}

/// `GET /admin/gov-systems`: the list with an add form.
pub async fn admin_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let form = SystemForm {
        region: "全国".into(),
        ..SystemForm::default()
    };
    Ok(Html(list_page(&state, &auth, form, None, None).await?))
}

/// `POST /admin/gov-systems`: adds a system.
pub async fn admin_create(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<SystemForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    ensure_seeded(&state).await?;
    let fields = match GovSystemFields::try_from(&form) {
        Ok(fields) => fields,
        Err(error) => {
            let html = list_page(&state, &auth, form, Some(error), None).await?;
            return Ok(crate::errors::rendered(
                axum::http::StatusCode::BAD_REQUEST,
                Html(html),
            ));
        }
    };
    let id = state
        .store
        .create_gov_system(&fields, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "gov_system.create",
        &format!("gov_system:{id}"),
        Outcome::Success,
        &fields.name,
    )
    .await?;
    let notice = format!("已添加：{}", fields.name);
    let blank = SystemForm {
        region: "全国".into(),
        ..SystemForm::default()
    };
    Ok(Html(list_page(&state, &auth, blank, None, Some(notice)).await?).into_response())
}

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound,
        e => e.into(),
    }
}

/// `GET /admin/gov-systems/{id}`: the edit form.
pub async fn admin_edit_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ConfigureModules)?;
    let record = state.store.gov_system(id).await.map_err(not_found)?;
    let page = Page::new(&state, &auth.1, "编辑政务系统").await;
    Ok(Html(
        EditPage {
            page,
            id,
            form: SystemForm::from_record(&record),
            error: None,
            regions: SYSTEM_REGIONS,
        }
        .render()?,
    ))
}

/// `POST /admin/gov-systems/{id}`: saves the edit.
pub async fn admin_update(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<SystemForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let before = state.store.gov_system(id).await.map_err(not_found)?;
    let fields = match GovSystemFields::try_from(&form) {
        Ok(fields) => fields,
        Err(error) => {
            let page = Page::new(&state, &auth.1, "编辑政务系统").await;
            let html = EditPage {
                page,
                id,
                form,
                error: Some(error),
                regions: SYSTEM_REGIONS,
            }
            .render()?;
            return Ok(crate::errors::rendered(
                axum::http::StatusCode::BAD_REQUEST,
                Html(html),
            ));
        }
    };
    state
        .store
        .update_gov_system(id, &fields, state.clock.unix())
        .await
        .map_err(not_found)?;
    let mut changed = Vec::new();
    if before.name != fields.name {
        changed.push(format!("名称 {} → {}", before.name, fields.name));
    }
    if before.url != fields.url {
        changed.push(format!("网址 {} → {}", before.url, fields.url));
    }
    if before.topic != fields.topic {
        changed.push(format!("主题 {} → {}", before.topic, fields.topic));
    }
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "gov_system.update",
        &format!("gov_system:{id}"),
        Outcome::Success,
        &if changed.is_empty() {
            fields.name.clone()
        } else {
            changed.join("；")
        },
    )
    .await?;
    Ok(Redirect::to("/admin/gov-systems").into_response())
}

/// `POST /admin/gov-systems/{id}/delete`.
pub async fn admin_delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ConfigureModules)?.clone();
    let before = state.store.gov_system(id).await.map_err(not_found)?;
    state.store.delete_gov_system(id).await.map_err(not_found)?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "gov_system.delete",
        &format!("gov_system:{id}"),
        Outcome::Success,
        &before.name,
    )
    .await?;
    Ok(Redirect::to("/admin/gov-systems").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_system_gets_a_topic_and_the_permit_platform_its_own() {
        assert_eq!(
            seed_topic("全国排污许可证管理信息平台"),
            "排污许可与排污登记"
        );
        assert_eq!(seed_topic("环境影响评价信用平台"), "环评与竣工验收");
        assert_eq!(seed_topic("江苏政务服务网"), "政务服务（一网通办）");
        assert_eq!(seed_topic("信用中国"), "信用与政府采购");
    }

    #[test]
    fn only_web_addresses_are_linked() {
        assert!(is_web_address("http://permit.mee.gov.cn/"));
        assert!(!is_web_address("javascript:alert(1)"));
        assert!(!is_web_address("www.jszwfw.gov.cn"));
    }
}
