//! Connectors of the 需求大厅: notice sources as configuration, what was fetched from
//! each page (for conditional requests and de-duplication) and a record of each run.

use crate::{Result, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectorSource {
    pub id: i64,
    pub name: String,
    /// The site name notices from this source record.
    pub site: String,
    /// The list page; `{page}` is replaced by the page number (1, 2, …).
    pub list_url: String,
    /// A regular expression the notice links' absolute URLs must match.
    pub link_pattern: String,
    pub max_pages: i64,
    /// `hourly` or `daily`.
    pub schedule: String,
    /// Politeness delay between two requests to the source, milliseconds.
    pub delay_ms: i64,
    pub enabled: bool,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    id: i64,
    name: String,
    site: String,
    list_url: String,
    link_pattern: String,
    max_pages: i64,
    schedule: String,
    delay_ms: i64,
    enabled: i64,
    created_at: i64,
}

impl From<SourceRow> for ConnectorSource {
    fn from(r: SourceRow) -> Self {
        ConnectorSource {
            id: r.id,
            name: r.name,
            site: r.site,
            list_url: r.list_url,
            link_pattern: r.link_pattern,
            max_pages: r.max_pages,
            schedule: r.schedule,
            delay_ms: r.delay_ms,
            enabled: r.enabled != 0,
            created_at: r.created_at,
        }
    }
}

/// A source to add.
#[derive(Debug, Clone)]
pub struct NewConnectorSource<'a> {
    pub name: &'a str,
    pub site: &'a str,
    pub list_url: &'a str,
    pub link_pattern: &'a str,
    pub max_pages: i64,
    pub schedule: &'a str,
    pub delay_ms: i64,
}

/// What the last fetch of a page gave.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PageState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ConnectorRun {
    pub id: i64,
    pub source_id: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub fetched: i64,
    pub new_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub failed: i64,
    /// One `URL: reason` per line.
    pub failures: String,
}

const SOURCE_COLUMNS: &str =
    "id, name, site, list_url, link_pattern, max_pages, schedule, delay_ms, enabled, created_at";
const RUN_COLUMNS: &str = "id, source_id, started_at, finished_at, fetched, new_count, \
    updated_count, unchanged_count, failed, failures";

impl Store {
    /// Adds a source; `Conflict` when the name is taken.
    pub async fn insert_connector_source(
        &self,
        s: &NewConnectorSource<'_>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO connector_sources (name, site, list_url, link_pattern, max_pages, schedule, \
             delay_ms, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) RETURNING id",
        )
        .bind(s.name)
        .bind(s.site)
        .bind(s.list_url)
        .bind(s.link_pattern)
        .bind(s.max_pages)
        .bind(s.schedule)
        .bind(s.delay_ms)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn connector_sources(&self) -> Result<Vec<ConnectorSource>> {
        let rows: Vec<SourceRow> = sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM connector_sources ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ConnectorSource::from).collect())
    }

    pub async fn connector_source(&self, id: i64) -> Result<ConnectorSource> {
        let row: SourceRow = sqlx::query_as(&format!(
            "SELECT {SOURCE_COLUMNS} FROM connector_sources WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    pub async fn set_connector_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        sqlx::query("UPDATE connector_sources SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn connector_page(&self, source_id: i64, url: &str) -> Result<Option<PageState>> {
        Ok(sqlx::query_as(
            "SELECT etag, last_modified, content_hash FROM connector_pages WHERE source_id = $1 AND url = $2",
        )
        .bind(source_id)
        .bind(url)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn put_connector_page(
        &self,
        source_id: i64,
        url: &str,
        state: &PageState,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM connector_pages WHERE source_id = $1 AND url = $2")
            .bind(source_id)
            .bind(url)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO connector_pages (source_id, url, etag, last_modified, content_hash, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(source_id)
        .bind(url)
        .bind(&state.etag)
        .bind(&state.last_modified)
        .bind(&state.content_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn start_connector_run(&self, source_id: i64, now: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO connector_runs (source_id, started_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(source_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn finish_connector_run(&self, run: &ConnectorRun, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE connector_runs SET finished_at = $1, fetched = $2, new_count = $3, updated_count = $4, \
             unchanged_count = $5, failed = $6, failures = $7 WHERE id = $8",
        )
        .bind(now)
        .bind(run.fetched)
        .bind(run.new_count)
        .bind(run.updated_count)
        .bind(run.unchanged_count)
        .bind(run.failed)
        .bind(&run.failures)
        .bind(run.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest runs of a source (or of every source), newest first.
    pub async fn connector_runs(
        &self,
        source_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ConnectorRun>> {
        Ok(match source_id {
            Some(id) => sqlx::query_as(&format!(
                "SELECT {RUN_COLUMNS} FROM connector_runs WHERE source_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query_as(&format!(
                "SELECT {RUN_COLUMNS} FROM connector_runs ORDER BY id DESC LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        })
    }
}
