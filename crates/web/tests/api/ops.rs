//! Liveness, readiness and metrics.

use crate::support::{spawn_app, spawn_app_with};
use reqwest::StatusCode;

#[tokio::test]
async fn healthz_answers_200_ok() {
    let app = spawn_app().await;
    let (status, body) = app.get_html("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.trim(), "ok");
}

#[tokio::test]
async fn readyz_answers_200_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let (status, _) = app.get_html("/readyz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    // The server shares the pool with this handle: closing it takes the database away.
    app.store.close().await;
    let (status, _) = app.get_html("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_count_the_requests_already_served() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain"),
        "content type {content_type}"
    );
    let body = response.text().await.unwrap();
    let line = body
        .lines()
        .find(|l| l.starts_with("greenbridge_http_requests_total") && l.contains("/healthz"))
        .unwrap_or_else(|| {
            panic!("no greenbridge_http_requests_total line for /healthz in:\n{body}")
        });
    let count: f64 = line
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("bad sample line {line}"));
    assert!(count >= 1.0, "{line}");
}

#[tokio::test]
async fn metrics_require_the_bearer_token_when_one_is_configured() {
    let app = spawn_app_with(|config| config.metrics_token = Some("s3cret-token".into())).await;

    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !anonymous
            .text()
            .await
            .unwrap()
            .contains("greenbridge_http_requests_total")
    );

    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("greenbridge_http_requests_total")
    );
}

#[tokio::test]
async fn metrics_are_open_when_no_token_is_configured() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::OK);
}

/// PostgreSQL runs only: the platform can reach its database over TLS
/// (`sslmode=require` in the URL). A server without TLS must refuse such a
/// connection with its own message, not with "built without TLS support".
#[tokio::test]
async fn postgres_connections_can_require_tls() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        return; // the SQLite run: nothing to connect to
    };
    let admin_url = admin_url.trim();
    if admin_url.is_empty() {
        return;
    }
    let plain = greenbridge_store::Store::connect(admin_url)
        .await
        .expect("a plain connection");
    let server_tls: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(plain.pool())
        .await
        .expect("SHOW ssl");
    plain.close().await;
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let tls_url = format!("{admin_url}{separator}sslmode=require");
    match greenbridge_store::Store::connect(&tls_url).await {
        Ok(store) => {
            assert_eq!(server_tls, "on");
            let encrypted: bool =
                sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_one(store.pool())
                    .await
                    .expect("pg_stat_ssl");
            assert!(encrypted, "the connection is not encrypted");
            store.close().await;
        }
        Err(error) => {
            assert_eq!(
                server_tls, "off",
                "TLS failed on a server that has it: {error}"
            );
            assert!(
                !error.to_string().contains("without TLS support"),
                "{error}"
            );
        }
    }
}
