//! Routes, one file per area. Every handler checks authorisation itself, through the
//! [`Authenticated`](crate::context::Authenticated) extractor and the role table of
//! the domain crate; objects that are not the caller's answer 404.

mod account;
mod admin;
mod admin_jobs;
mod api;
mod auth;
mod display;
mod files;
mod home;
mod inbox;
mod ops;
mod organisations;
mod register;
mod review;
mod services;
mod static_files;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use greenbridge_domain::module::Module;

/// Whether a module's pages exist in this build. The home page still names the
/// others, marked as not yet open, and the navigation leaves them out.
pub fn module_is_built(module: Module) -> bool {
    match module {
        Module::Services => true,
        Module::Demands | Module::Regulations | Module::Classroom | Module::Assistant => false,
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{file}", get(static_files::serve))
        .route("/services", get(services::index))
        .route("/display", get(display::form).post(display::save))
        .route("/login", get(auth::login_form).post(auth::login))
        .route(
            "/login/second-factor",
            get(auth::second_factor_form).post(auth::second_factor),
        )
        .route("/logout", post(auth::logout))
        .route("/register", get(register::choose))
        .route(
            "/register/{side}",
            get(register::form)
                .post(register::submit)
                .layer(register::upload_limit()),
        )
        .route(
            "/password/forgot",
            get(account::forgot_form).post(account::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(account::reset_form).post(account::reset),
        )
        .route(
            "/invite/{token}",
            get(account::invitation_form).post(account::accept_invitation),
        )
        .route("/account", get(account::overview))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/invitations", post(account::invite))
        .route(
            "/account/second-factor",
            get(auth::enrol_form).post(auth::enrol),
        )
        .route("/inbox", get(inbox::index))
        .route("/inbox/read-all", post(inbox::mark_all_read))
        .route("/inbox/{id}", get(inbox::show))
        .route("/inbox/{id}/read", post(inbox::mark_read))
        .route(
            "/account/notifications",
            get(inbox::settings).post(inbox::save_settings),
        )
        .route(
            "/unsubscribe/{token}",
            get(inbox::unsubscribe_form).post(inbox::unsubscribe),
        )
        .route("/review", get(review::queue))
        .route("/review/{id}", post(review::decide_item))
        .route("/review/claims", get(review::claims))
        .route("/review/claims/{id}", post(review::decide))
        .route("/review/claims/{id}/licence", get(review::licence))
        .route("/review/accounts/{id}/reset", post(review::reset_link))
        .route("/admin", get(admin::dashboard))
        .route(
            "/admin/accounts",
            get(admin::accounts).post(admin::create_account),
        )
        .route("/admin/accounts/{id}", post(admin::update_account))
        .route(
            "/admin/modules",
            get(admin::modules).post(admin::save_modules),
        )
        .route("/admin/audit", get(admin::audit))
        .route("/admin/organisations", get(organisations::search))
        .route("/admin/search/reindex", post(organisations::reindex))
        .route("/admin/audit.csv", get(admin::audit_csv))
        .route(
            "/admin/files",
            get(files::list)
                .post(files::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/admin/files/{id}", get(files::download))
        .route("/admin/jobs", get(admin_jobs::list))
        .route("/admin/jobs/{id}", get(admin_jobs::detail))
        .route("/admin/jobs/{id}/retry", post(admin_jobs::retry))
        .route("/admin/jobs/{id}/cancel", post(admin_jobs::cancel))
        .nest("/api/v1", api::router())
}
