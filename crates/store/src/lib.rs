//! The database layer of GreenBridge.
//!
//! One code path serves SQLite (the embedded default) and PostgreSQL (for several
//! instances): queries go through sqlx's `Any` driver and are written in the SQL both
//! dialects share, with `$N` placeholders (sqlx's SQLite driver accepts them too).
//! Where the dialects truly differ (auto-increment keys, locking during migrations),
//! [`Backend`] decides. Times are stored as UTC unix seconds; calendar dates as
//! `YYYY-MM-DD` text in Asia/Shanghai.

mod accounts;
mod audit;
pub mod blob;
mod claims;
mod clock;
pub mod connectors;
pub mod courses;
pub mod demands;
mod error;
pub mod faq;
mod files;
mod jobs;
mod migrate;
pub mod notices;
mod notifications;
mod organisations;
mod outbox;
pub mod regulations;
mod reviews;
pub mod saved_searches;
mod sessions;
mod settings;
pub mod supplier_queries;
pub mod suppliers;

pub use accounts::{Account, AccountStatus, NewAccount};
pub use audit::{AuditEntry, AuditFilter, AuditRecord, Outcome};
pub use claims::{Claim, ClaimStatus};
pub use clock::Clock;
pub use error::StoreError;
pub use files::{FILE_NAME_MAX, FileRecord, NewFile, clean_file_name};
pub use jobs::{
    BACKOFF_BASE_SECS, BACKOFF_MAX_SECS, DEFAULT_MAX_ATTEMPTS, Job, JobFilter, JobStatus, NewJob,
    backoff_secs,
};
pub use notifications::{EmailMode, Notification};
pub use organisations::{NewOrganisation, OrgSide, Organisation};
pub use outbox::{OutboxRow, collections};
pub use reviews::{NewReviewItem, ReviewFilter, ReviewItem, ReviewKind, ReviewStatus};
pub use sessions::{Invitation, SessionRow};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// The handle every other layer uses to reach the database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A database URL with its password hidden, for log lines and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                // One writer at a time is all SQLite allows; a few readers help pages.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        // One direct attempt first: the pool retries a refused connection until its
        // acquire timeout and then reports only that it timed out, hiding the cause.
        let probe = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .map_err(StoreError::Connect)?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = options.connect(url).await.map_err(StoreError::Connect)?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// True when the database answers a trivial query (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SHA-256 of a secret token, hex-encoded: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

/// A fresh random token for links and cookies (256 bits, URL-safe).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}
