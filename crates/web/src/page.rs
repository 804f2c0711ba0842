//! What every page's layout needs: title, navigation, the viewer, the CSRF token,
//! display preferences and the footer. Handlers get it from [`Ctx`] and the state.

use crate::config::Footer;
use crate::context::{Ctx, Display};
use crate::state::AppState;
use greenbridge_domain::module::Module;
use greenbridge_domain::role::{Permission, Role};

#[derive(Clone, Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Clone, Debug)]
pub struct ViewerSummary {
    pub display_name: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub can_review: bool,
    /// Unread notifications, shown as 收件箱(N) in the header.
    pub unread: i64,
}

#[derive(Clone, Debug)]
pub struct Page {
    pub title: String,
    pub nav: Vec<NavItem>,
    pub viewer: Option<ViewerSummary>,
    pub csrf: String,
    pub display: Display,
    pub footer: Footer,
    pub path: String,
}

impl Page {
    pub async fn new(state: &AppState, ctx: &Ctx, title: impl Into<String>) -> Page {
        let disabled = state.modules.disabled(&state.store).await;
        let nav = Module::ALL
            .iter()
            .filter(|m| !disabled.contains(m) && crate::routes::module_is_built(**m))
            .map(|m| NavItem {
                href: m.path(),
                label: m.name_zh(),
                current: ctx.path.starts_with(m.path()),
            })
            .collect();
        let mut viewer = ctx.viewer.as_ref().map(|v| ViewerSummary {
            display_name: v.account.display_name.clone(),
            role_label: v.account.role.label_zh(),
            is_admin: v.account.role == Role::Admin,
            can_review: v.can(Permission::ReviewRegistrations),
            unread: 0,
        });
        if let Some(summary) = viewer.as_mut() {
            // One indexed COUNT, only for logged-in viewers; a failure shows 0.
            let account_id = ctx.viewer.as_ref().map_or(0, |v| v.account.id);
            summary.unread = state
                .store
                .unread_count(account_id)
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "cannot count unread notifications");
                    0
                });
        }
        Page {
            title: title.into(),
            nav,
            viewer,
            csrf: ctx.csrf_token.clone(),
            display: ctx.display,
            footer: state.config.footer.clone(),
            path: ctx.path.clone(),
        }
    }

    pub fn html_class(&self) -> String {
        self.display.classes()
    }
}
