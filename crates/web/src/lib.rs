//! The HTTP edge of GreenBridge: server-rendered pages that work without JavaScript,
//! the JSON API under `/api/v1`, authentication and the operations endpoints.
//!
//! A tour: [`context`] builds who/where/CSRF for each request; [`routes`] holds one
//! file per area (pages and API); [`error`] is the one error type, turned into a
//! response by [`errors`], which also gives axum's own rejections a zh-CN page.

// The hand-written OpenAPI document is one large `json!` literal.
#![recursion_limit = "256"]

pub mod audit;
pub mod config;
pub mod context;
pub mod downloads;
pub mod error;
pub mod errors;
pub mod jobs;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod password;
pub mod qa_cache;
pub mod qa_generate;
pub mod review_queue;
pub mod routes;
pub mod sanitize;
pub mod state;
pub mod uploads;

use crate::config::Config;
use crate::state::{AppState, ModuleSwitches};
use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use greenbridge_store::{Clock, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

/// Builds the state: loads (or creates, once for all instances) the signing key.
pub async fn build_state(store: Store, config: Config) -> anyhow::Result<AppState> {
    let clock = match config.today {
        Some(today) => Clock::pinned(today),
        None => Clock::system(),
    };
    let key = store
        .setting_or_insert("security.signing_key", greenbridge_store::new_token)
        .await
        .context("cannot read the signing key")?;
    let state = AppState {
        store: store.clone(),
        clock,
        signing_key: Arc::from(key.into_bytes().into_boxed_slice()),
        metrics: Arc::default(),
        modules: Arc::new(ModuleSwitches::new()),
        qa: Arc::default(),
        mailer: mail::Mailer::from_config(&config)?.map(Arc::new),
        files: Arc::new(
            greenbridge_store::blob::LocalFileStore::open_dir(config.data_dir.join("files"))
                .context("cannot open the file store under the data directory")?,
        ),
        search: Arc::new(
            greenbridge_search::Indexer::open(store.clone(), &config.data_dir)
                .context("cannot open the search indexes under the data directory")?,
        ),
        config: Arc::new(config),
    };
    // Brought up to date (or rebuilt) before the first request is answered.
    state
        .search
        .catch_up()
        .await
        .context("cannot bring the search indexes up to date")?;
    Ok(state)
}

/// The whole application as one router.
pub fn app(state: AppState) -> Router {
    let content_security_policy = "default-src 'self'; script-src 'self'; style-src 'self'; \
        img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; \
        frame-ancestors 'none'";
    routes::router()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            context::context_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            errors::error_page_layer,
        ))
        .layer(DefaultBodyLimit::max(context::FORM_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(content_security_policy),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .with_state(state)
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Serves until Ctrl-C or SIGTERM.
/// Also keeps this instance's search indexes following the outbox while it serves.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    // Stops following the outbox when serving ends, also when this future is dropped
    // (an aborted task) rather than run to its end.
    let _indexing = AbortOnDrop(state.search.spawn(std::time::Duration::from_millis(
        state.config.search_interval_ms,
    )));
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
