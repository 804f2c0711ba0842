//! Shared helpers for the integration test binaries (`mod support;` in each).
//!
//! [`spawn_app`] starts the real application — the same router, middleware and store as
//! `greenbridge serve` — on `127.0.0.1:<free port>` with a fresh database and a fresh
//! data directory, and hands back a [`TestApp`] with an HTTP client (cookie store on,
//! redirects off) and small helpers for pages, forms and CSRF tokens.
//!
//! The database is a temporary SQLite file by default. When `TEST_DATABASE_URL` is set
//! (e.g. `postgres://postgres:postgres@127.0.0.1:5432/postgres`), each `TestApp` gets its
//! own PostgreSQL database `greenbridge_test_…`, copied from a migrated template database
//! `greenbridge_template` (a copy is far cheaper than running the migrations for every
//! test). The template is created or brought up to date under a PostgreSQL advisory
//! lock, so the parallel processes of `cargo nextest` do not race.
//! The template is re-migrated only when the store's migrations change (a fingerprint
//! of them is kept as the template's comment). The test database is dropped, without
//! waiting, when the `TestApp` is dropped (`TEST_KEEP_DATABASE=1` keeps it, for a look
//! with psql); what a test process leaves behind, `scripts/test.sh` drops at its end.
//!
//! The server's warnings and errors go to the test's captured output (`RUST_LOG` to
//! see more), so a failing test shows why a request answered 500.
//!
//! "Today" is pinned to 2026-11-28 and Argon2 uses its cheap test parameters.

#![allow(dead_code)] // each test binary uses a different part of this module

use greenbridge_store::Store;
use greenbridge_web::config::{Config, PasswordCost};
use reqwest::StatusCode;
use reqwest::cookie::CookieStore as _;
use sqlx::Connection as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tempfile::TempDir;

/// The date every test runs on.
pub const TODAY: time::Date = time::macros::date!(2026 - 11 - 28);

/// Name of the migrated template database on PostgreSQL.
pub const PG_TEMPLATE: &str = "greenbridge_template";
/// Prefix of every per-test PostgreSQL database (`scripts/test.sh` cleans these up).
pub const PG_TEST_PREFIX: &str = "greenbridge_test_";
/// Advisory lock key: shared while copying the template, exclusive while building it
/// (distinct from the store's own migration lock).
const PG_TEMPLATE_LOCK: i64 = 0x6762_7465_6d70_6c74; // "gbtemplt"

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub address: String,
    /// Cookie store on, redirects off: tests see every 303 and every Set-Cookie.
    pub client: reqwest::Client,
    /// The client's cookie jar (to read cookies the server set).
    pub cookies: Arc<reqwest::cookie::Jar>,
    /// A second handle on the application's database.
    pub store: Store,
    /// The application's data directory (uploads, indexes; the SQLite file).
    pub data_dir: TempDir,
    /// The database URL the application uses.
    pub database_url: String,
    /// The application's state (e.g. to run background jobs with
    /// `greenbridge_web::jobs`, which the tests start themselves).
    pub state: greenbridge_web::state::AppState,
    server: tokio::task::JoinHandle<()>,
    pg_database: Option<PgTestDatabase>,
}

/// Starts the application with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application after `tweak` has adjusted the test configuration, e.g.
/// `spawn_app_with(|c| c.metrics_token = Some("secret".into()))`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    init_tracing();
    let data_dir = tempfile::Builder::new()
        .prefix("greenbridge-test-")
        .tempdir()
        .expect("cannot create a temporary data directory");

    let (database_url, pg_database) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let database = PgTestDatabase::create(admin_url.trim()).await;
            (database.url.clone(), Some(database))
        }
        _ => (sqlite_url(&data_dir.path().join("greenbridge.db")), None),
    };

    let store = Store::connect(&database_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
    if pg_database.is_none() {
        // PostgreSQL copies arrive migrated; SQLite starts empty.
        store.migrate().await.expect("migrations failed");
    }

    serve_test_app(data_dir, database_url, store, pg_database, tweak).await
}

/// A second instance of `app`'s platform: the same database, its own data directory
/// (so its own search indexes) and its own server, as behind a load balancer.
pub async fn spawn_second_instance(app: &TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::Builder::new()
        .prefix("greenbridge-test-")
        .tempdir()
        .expect("cannot create a temporary data directory");
    let store = Store::connect(&app.database_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
    serve_test_app(data_dir, app.database_url.clone(), store, None, tweak).await
}

async fn serve_test_app(
    data_dir: TempDir,
    database_url: String,
    store: Store,
    pg_database: Option<PgTestDatabase>,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::new(data_dir.path().to_path_buf());
    config.today = Some(TODAY);
    config.password_cost = PasswordCost::TESTING;
    tweak(&mut config);

    let state = greenbridge_web::build_state(store.clone(), config)
        .await
        .expect("build_state failed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a local port");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let app_state = state.clone();
    let server = tokio::spawn(async move {
        if let Err(e) = greenbridge_web::serve(listener, state).await {
            eprintln!("test server stopped: {e:#}");
        }
    });

    let cookies = Arc::new(reqwest::cookie::Jar::default());
    let client = new_client(cookies.clone());

    TestApp {
        address,
        client,
        cookies,
        store,
        data_dir,
        database_url,
        state: app_state,
        server,
        pg_database,
    }
}

/// Sends the application's log (warnings and errors by default; `RUST_LOG` to change)
/// to the test's captured output, so that a failing test shows why the server failed.
fn init_tracing() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// A client like [`TestApp::client`] with its own, empty cookie jar (a second visitor).
/// Serves `router` on a free loopback port for the rest of the test (a fake
/// outside service: a feed, a tender site, a model endpoint) and gives its
/// address (`127.0.0.1:PORT`) and the server's task.
pub async fn serve_router(
    router: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a local port");
    let address = listener.local_addr().expect("local address");
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("fake service stopped: {e}");
        }
    });
    (address, handle)
}

/// A TLS front for the plain HTTP service at `backend`, on a port of its own, with
/// the test certificate for `localhost` and 127.0.0.1 (tests/fixtures/tls, signed
/// by a test CA whose key was thrown away). Returns its address.
pub async fn serve_tls_front(backend: std::net::SocketAddr) -> std::net::SocketAddr {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("server certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a local port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    address
}

pub fn new_client(cookies: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("cannot build the HTTP client")
}

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// GETs a page and returns its status and body.
    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.expect("response body");
        (status, body)
    }

    /// The value of cookie `name` in the client's jar, if the server set one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.address.parse().expect("address is a URL");
        let header = self.cookies.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }

    /// A CSRF token valid for this client: from the form on `page` when it has one,
    /// else from the display-settings page (every visitor can open it).
    pub async fn csrf_token(&self, page: &str) -> String {
        for path in [page, "/display"] {
            let (status, html) = self.get_html(path).await;
            if status.is_success()
                && let Some(token) = try_csrf_from(&html)
            {
                return token;
            }
        }
        panic!("no _csrf field on {page} nor on /display")
    }

    /// POSTs an urlencoded form to `path`, adding the `_csrf` token taken from the page
    /// at `path` (GET) or, failing that, from `/display`.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let page = path.split('?').next().unwrap_or(path);
        let token = self.csrf_token(page).await;
        self.post_form_with_token(path, &token, fields).await
    }

    /// POSTs an urlencoded form with the given CSRF token (tests of the CSRF check
    /// itself use [`TestApp::post_form_raw`]).
    pub async fn post_form_with_token(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token)];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// POSTs exactly these fields, no token added.
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// POSTs a `multipart/form-data` form of text fields to `path`, with the CSRF
    /// token as the `_csrf` query parameter (as the pages' multipart forms do).
    pub async fn post_multipart(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let boundary = "----greenbridge-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let separator = if path.contains('?') { '&' } else { '?' };
        let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        self.client
            .post(format!("{}{separator}_csrf={token}", self.url(path)))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Counts rows of `table` in the application's database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .unwrap_or_else(|e| panic!("cannot count {table}: {e}"))
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_database.is_some()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // `pg_database` drops after this, removing the database (connections and all).
    }
}

/// The CSRF token of the first form in `html`: the value of its
/// `<input … name="_csrf" … value="…">`, or the `_csrf` query parameter of a form's
/// `action` (multipart forms carry it there).
pub fn csrf_from(html: &str) -> String {
    try_csrf_from(html).unwrap_or_else(|| panic!("no _csrf field in the page:\n{html}"))
}

pub fn try_csrf_from(html: &str) -> Option<String> {
    let tags = || {
        html.split('<')
            .map(|tag| tag.split('>').next().unwrap_or(tag))
    };
    tags()
        .filter(|tag| tag.starts_with("input"))
        .filter(|tag| attribute(tag, "name").as_deref() == Some("_csrf"))
        .find_map(|tag| attribute(tag, "value"))
        .or_else(|| {
            tags()
                .filter(|tag| tag.starts_with("form"))
                .filter_map(|tag| attribute(tag, "action"))
                .find_map(|action| {
                    let (_, query) = action.split_once('?')?;
                    form_urlencoded::parse(query.as_bytes())
                        .find(|(k, _)| k == "_csrf")
                        .map(|(_, v)| v.into_owned())
                })
        })
}

/// The value of attribute `name` in the inside of one tag (`input type="…" name="…"`).
/// Only double-quoted values, which is what the templates write.
pub fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape_html(&tag[start..end]))
}

/// Undoes the entity escaping askama applies to attribute values.
pub fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The opening `<html …>` tag of a page.
pub fn html_tag(html: &str) -> &str {
    let start = html
        .find("<html")
        .unwrap_or_else(|| panic!("no <html> tag in:\n{html}"));
    let end = start + html[start..].find('>').expect("unterminated <html> tag");
    &html[start..=end]
}

/// Every `Set-Cookie` header of a response, as text.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// A valid unified social credit code (GB 32100-2015) from its first 17 characters.
pub fn credit_code(first17: &str) -> String {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    assert_eq!(
        first17.chars().count(),
        17,
        "a credit code body has 17 characters"
    );
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| {
            ALPHABET
                .find(c)
                .unwrap_or_else(|| panic!("{c} is not in the credit code alphabet"))
                as u32
                * w
        })
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", ALPHABET.as_bytes()[check as usize] as char)
}

/// A fresh PostgreSQL database for one test, dropped with it.
struct PgTestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{database}?{query}"),
        None => format!("{host_part}/{database}"),
    }
}

impl PgTestDatabase {
    async fn create(admin_url: &str) -> PgTestDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{PG_TEST_PREFIX}{}_{}_{nanos:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot connect to TEST_DATABASE_URL ({}): {e}",
                    greenbridge_store::redact_url(admin_url)
                )
            });
        let outcome = create_from_template(&mut admin, admin_url, &name).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
        if let Err(e) = outcome {
            panic!("cannot create test database {name} from {PG_TEMPLATE}: {e}");
        }
        PgTestDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

/// Copies the template into database `name`, first bringing the template up to date
/// if the migrations changed.
///
/// Copies run side by side under a shared advisory lock (PostgreSQL copies one
/// template into several databases at once, as long as nobody is connected to it);
/// (re)building the template takes the lock exclusively. The template carries a
/// fingerprint of the migrations as its comment: connecting to it when it is current
/// would cost every test ~0.1 s, as CREATE DATABASE polls every 100 ms until the
/// template's last session has gone.
async fn create_from_template(
    admin: &mut sqlx::PgConnection,
    admin_url: &str,
    name: &str,
) -> Result<(), sqlx::Error> {
    let fingerprint = migrations_fingerprint();
    sqlx::query(&format!(
        "SELECT pg_advisory_lock_shared({PG_TEMPLATE_LOCK})"
    ))
    .execute(&mut *admin)
    .await?;
    if template_comment(&mut *admin).await?.flatten().as_deref() != Some(fingerprint.as_str()) {
        // Missing or stale: rebuild it alone (and look again: another process may have
        // done it while this one waited).
        sqlx::query(&format!(
            "SELECT pg_advisory_unlock_shared({PG_TEMPLATE_LOCK})"
        ))
        .execute(&mut *admin)
        .await?;
        sqlx::query(&format!("SELECT pg_advisory_lock({PG_TEMPLATE_LOCK})"))
            .execute(&mut *admin)
            .await?;
        let comment = template_comment(&mut *admin).await?;
        if comment.is_none() {
            sqlx::query(&format!("CREATE DATABASE {PG_TEMPLATE}"))
                .execute(&mut *admin)
                .await?;
        }
        if comment.flatten().as_deref() != Some(fingerprint.as_str()) {
            let template = Store::connect(&with_database(admin_url, PG_TEMPLATE))
                .await
                .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
            let migrated = template.migrate().await;
            template.close().await;
            // Drop the pool too: on a multi-threaded runtime sqlx's close() can race
            // with a connection being returned, which then stays open in the pool.
            drop(template);
            migrated.map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
            // End any straggling session (CREATE DATABASE would wait 5 s and fail).
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(PG_TEMPLATE)
            .execute(&mut *admin)
            .await?;
            sqlx::query(&format!(
                "COMMENT ON DATABASE {PG_TEMPLATE} IS '{fingerprint}'"
            ))
            .execute(&mut *admin)
            .await?;
        }
        // Keep it while copying: shared lock taken before the exclusive one is released.
        sqlx::query(&format!(
            "SELECT pg_advisory_lock_shared({PG_TEMPLATE_LOCK})"
        ))
        .execute(&mut *admin)
        .await?;
        sqlx::query(&format!("SELECT pg_advisory_unlock({PG_TEMPLATE_LOCK})"))
            .execute(&mut *admin)
            .await?;
    }
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}"))
        .execute(&mut *admin)
        .await?;
    sqlx::query(&format!(
        "SELECT pg_advisory_unlock_shared({PG_TEMPLATE_LOCK})"
    ))
    .execute(&mut *admin)
    .await?;
    Ok(())
}

/// `None` when the template does not exist, else its comment (the fingerprint).
async fn template_comment(
    admin: &mut sqlx::PgConnection,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(PG_TEMPLATE)
    .fetch_optional(admin)
    .await
}

/// SHA-256 over the store's migration code and SQL files: when they change, the
/// template database is migrated again.
fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let store = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../store");
    let mut files = vec![store.join("src/migrate.rs")];
    if let Ok(entries) = std::fs::read_dir(store.join("migrations")) {
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("TEST_KEEP_DATABASE").is_some() {
            eprintln!("keeping test database {}", self.name);
            return;
        }
        // Dropped on a thread of its own (Drop runs inside the test's runtime, which
        // cannot block on a future), and not waited for: on PostgreSQL 15 a DROP
        // DATABASE sometimes waits a full minute for another backend (one still
        // authenticating) to absorb its signal barrier, and no test should wait with
        // it. FORCE ends the application's connections. Whatever a finished test
        // process leaves behind, scripts/test.sh drops at its end.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await else {
                    return;
                };
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
                let _ = admin.close().await;
            });
        });
    }
}

/// Where screenshots and other artefacts go: `<workspace>/test-artifacts/…`.
pub fn artifacts_dir(sub: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-artifacts")
        .join(sub);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}
