//! Routes, one file per area. Every handler checks authorisation itself, through the
//! [`Authenticated`](crate::context::Authenticated) extractor and the role table of
//! the domain crate; objects that are not the caller's answer 404.

mod account;
mod admin;
mod admin_jobs;
mod api;
pub mod assistant;
pub mod assistant_staff;
mod auth;
pub mod classroom;
mod display;
mod files;
mod gov_systems;
mod hall;
pub mod hall_connectors;
mod hall_demands;
pub mod hall_saved;
mod home;
mod inbox;
mod ops;
mod organisations;
mod register;
pub mod regulations;
pub mod regulations_manage;
mod review;
mod services;
mod static_files;
mod supplier_export;
mod supplier_imports;
mod supplier_profile;
pub mod suppliers;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use greenbridge_domain::module::Module;

/// Whether a module's pages exist in this build. The home page still names the
/// others, marked as not yet open, and the navigation leaves them out.
pub fn module_is_built(module: Module) -> bool {
    match module {
        Module::Services => true,
        Module::Demands => true,
        Module::Assistant => true,
        Module::Classroom => true,
        Module::Regulations => true,
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
        .route("/demands", get(hall::index))
        .route("/demands/notices/{id}", get(hall::notice_page))
        .route("/demands/notices/{id}/original", get(hall::notice_original))
        .route("/demands/items/{id}", get(hall_demands::detail))
        .route(
            "/demands/items/{id}/files/{file}",
            get(hall_demands::attachment),
        )
        .route("/demands/mine", get(hall_demands::mine))
        .route(
            "/demands/new",
            get(hall_demands::new_form)
                .post(hall_demands::create)
                .layer(hall_demands::upload_limit()),
        )
        .route(
            "/demands/items/{id}/edit",
            get(hall_demands::edit_form)
                .post(hall_demands::edit)
                .layer(hall_demands::upload_limit()),
        )
        .route("/demands/items/{id}/status", post(hall_demands::set_status))
        .route(
            "/demands/saved",
            get(hall_saved::list).post(hall_saved::save),
        )
        .route("/demands/saved/{id}/delete", post(hall_saved::delete))
        .route("/demands/feed/{token}", get(hall_saved::feed))
        .route(
            "/admin/connectors",
            get(hall_connectors::list).post(hall_connectors::add),
        )
        .route("/admin/connectors/{id}/run", post(hall_connectors::run_now))
        .route(
            "/admin/connectors/{id}/toggle",
            post(hall_connectors::toggle),
        )
        .route("/services/suppliers", get(suppliers::search_page))
        .route("/services/suppliers/export.xlsx", get(suppliers::export))
        .route("/services/suppliers/{id}", get(suppliers::detail))
        .route(
            "/services/suppliers/{id}/corrections",
            post(suppliers::report_correction),
        )
        .route(
            "/services/suppliers/{id}/qualifications/{qid}/scan",
            get(supplier_profile::scan),
        )
        .route(
            "/account/profile",
            get(supplier_profile::form_with_notice).post(supplier_profile::save),
        )
        .route(
            "/account/profile/qualifications",
            post(supplier_profile::add_qualification).layer(supplier_profile::upload_limit()),
        )
        .route(
            "/account/profile/qualifications/{id}/delete",
            post(supplier_profile::delete_qualification),
        )
        .route("/account/profile/submit", post(supplier_profile::submit))
        .route("/review/suppliers", get(supplier_profile::review_overview))
        .route(
            "/review/corrections/{id}",
            get(supplier_profile::correction),
        )
        .route(
            "/review/suppliers/{id}/spot-check",
            post(supplier_profile::mark_spot_check),
        )
        .route(
            "/review/suppliers/{id}/unlist",
            post(supplier_profile::unlist),
        )
        .route(
            "/review/spot-checks/{id}",
            post(supplier_profile::record_spot_check),
        )
        .route(
            "/admin/gov-systems",
            get(gov_systems::admin_list).post(gov_systems::admin_create),
        )
        .route(
            "/admin/gov-systems/{id}",
            get(gov_systems::admin_edit_form).post(gov_systems::admin_update),
        )
        .route(
            "/admin/gov-systems/{id}/delete",
            post(gov_systems::admin_delete),
        )
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
        .route(
            "/admin/imports/suppliers",
            get(supplier_imports::page)
                .post(supplier_imports::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/admin/imports/suppliers/{file_id}/confirm",
            post(supplier_imports::confirm),
        )
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
        .route("/classroom", get(classroom::catalogue))
        .route("/classroom/player.js", get(classroom::player_js))
        .route("/classroom/mine", get(classroom::mine))
        .route("/classroom/courses/{id}", get(classroom::course_page))
        .route(
            "/classroom/courses/{id}/poster",
            get(classroom::course_poster),
        )
        .route("/classroom/lessons/{id}", get(classroom::lesson_page))
        .route(
            "/classroom/lessons/{id}/{file}",
            get(classroom::lesson_file),
        )
        .route(
            "/classroom/lessons/{id}/progress",
            post(classroom::save_progress),
        )
        .route("/classroom/lessons/{id}/done", post(classroom::mark_done))
        .route(
            "/classroom/manage",
            get(classroom::manage).post(classroom::create_course),
        )
        .route(
            "/classroom/manage/courses/{id}",
            get(classroom::manage_course),
        )
        .route(
            "/classroom/manage/lessons/{id}/edit",
            get(classroom::edit_lesson_form).post(classroom::edit_lesson),
        )
        .route(
            "/classroom/manage/lessons/{id}/delete",
            get(classroom::confirm_delete_lesson).post(classroom::delete_lesson),
        )
        .route(
            "/classroom/manage/lessons/{id}/move",
            post(classroom::move_lesson),
        )
        .route(
            "/classroom/manage/courses/{id}/lessons",
            post(classroom::upload_lesson).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/classroom/manage/lessons/{id}/files",
            post(classroom::replace_lesson_files).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .merge(regulations::routes())
        .merge(assistant::routes())
        .nest("/api/v1", api::router())
}
