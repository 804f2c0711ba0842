//! The search outbox. A row says "document `doc_id` of `collection` changed"; it does
//! not carry the document: the indexer reads the current row, so applying a row twice,
//! or late, gives the same index.

use crate::{Result, Store};
use sqlx::AnyConnection;

/// Collection names, shared by the writers here and the indexer.
pub mod collections {
    pub const ORGANISATIONS: &str = "organisations";
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub collection: String,
    pub doc_id: String,
    pub created_at: i64,
}

/// Adds an outbox row on `conn`, which the caller has inside the transaction of the
/// write itself.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    collection: &str,
    doc_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO search_outbox (collection, doc_id, created_at) VALUES ($1, $2, $3)")
        .bind(collection)
        .bind(doc_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Rows with an id above `after_id`, oldest first.
    pub async fn outbox_after(&self, after_id: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        Ok(sqlx::query_as(
            "SELECT id, collection, doc_id, created_at FROM search_outbox WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The highest id in the outbox (0 when empty).
    pub async fn outbox_max_id(&self) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM search_outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(max.unwrap_or(0))
    }

    /// The lowest id still in the outbox, if any: an index that has not seen the rows
    /// before it must be rebuilt instead.
    pub async fn outbox_min_id(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(id) FROM search_outbox")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Deletes rows older than `before` (every running instance has long applied them).
    pub async fn purge_outbox_before(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM search_outbox WHERE created_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Adds an outbox row outside any other write (e.g. to re-index one document).
    pub async fn touch_search_document(
        &self,
        collection: &str,
        doc_id: &str,
        now: i64,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        record(&mut conn, collection, doc_id, now).await
    }
}
