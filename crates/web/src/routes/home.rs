use crate::context::Ctx;
use crate::error::AppResult;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use greenbridge_domain::module::Module;
use greenbridge_domain::region::{RegionTree, RegistrationPhase};

pub struct NewsItem {
    pub title: String,
    pub href: String,
    pub sample: bool,
}

pub struct ModuleCard {
    pub name: &'static str,
    pub summary: &'static str,
    pub href: &'static str,
    pub open: bool,
    pub status: &'static str,
    pub news: Vec<NewsItem>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    modules: Vec<ModuleCard>,
    open_regions: String,
}

/// Names of the regions open to demand-side registration in the configured phase.
pub fn open_region_names(phase: u8) -> String {
    let tree = RegionTree::embedded();
    let phase = RegistrationPhase::try_from(phase).unwrap_or_default();
    tree.open_roots(phase)
        .iter()
        .map(|r| tree.full_name(&r.code))
        .collect::<Vec<_>>()
        .join("、")
}

/// What a module offers today, said plainly on its card.
fn availability(module: Module) -> &'static str {
    match module {
        Module::Services => "现已开放：危险废物名录查询、政务系统指引；服务机构名录正在建设。",
        _ if super::module_is_built(module) => "",
        _ => "本栏目正在建设，即将开放。",
    }
}

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let page = Page::new(&state, &ctx, "首页").await;
    let disabled = state.modules.disabled(&state.store).await;
    let modules = Module::ALL
        .iter()
        .filter(|m| !disabled.contains(m))
        .map(|m| {
            let open = super::module_is_built(*m);
            ModuleCard {
                name: m.name_zh(),
                summary: m.summary_zh(),
                href: m.path(),
                open,
                status: availability(*m),
                news: Vec::new(),
            }
        })
        .collect();
    Ok(Html(
        HomePage {
            page,
            modules,
            open_regions: open_region_names(state.config.registration_phase),
        }
        .render()?,
    ))
}
