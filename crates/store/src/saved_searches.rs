//! Saved searches of the 需求大厅: a logged-in user keeps the hall's filters (as the
//! query string the hall understands); a scheduled job finds new matching items,
//! records each once as a hit (which the notification and the Atom feed read).

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedSearch {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    /// `notices`, `demands` or `both`.
    pub scope: String,
    /// The hall's query string (without paging).
    pub query: String,
    /// The secret of the Atom feed URL.
    pub feed_token: String,
    /// Items published before this instant were known when the search was saved or
    /// last checked.
    pub checked_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedSearchHit {
    pub saved_search_id: i64,
    /// `notice` or `demand`.
    pub kind: String,
    pub item_id: i64,
    pub title: String,
    pub found_at: i64,
}

const COLUMNS: &str = "id, account_id, name, scope, query, feed_token, checked_at, created_at";

/// At most this many saved searches per account.
pub const MAX_SAVED_SEARCHES: i64 = 20;

impl Store {
    pub async fn create_saved_search(
        &self,
        account_id: i64,
        name: &str,
        scope: &str,
        query: &str,
        now: i64,
    ) -> Result<SavedSearch> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM saved_searches WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(&self.pool)
                .await?;
        if count >= MAX_SAVED_SEARCHES {
            return Err(StoreError::Conflict);
        }
        let token = crate::new_token();
        let row: SavedSearch = sqlx::query_as(&format!(
            "INSERT INTO saved_searches (account_id, name, scope, query, feed_token, checked_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        ))
        .bind(account_id)
        .bind(name)
        .bind(scope)
        .bind(query)
        .bind(token)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn saved_searches_of(&self, account_id: i64) -> Result<Vec<SavedSearch>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM saved_searches WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn all_saved_searches(&self) -> Result<Vec<SavedSearch>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM saved_searches ORDER BY id"))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn saved_search_by_feed(&self, token: &str) -> Result<Option<SavedSearch>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM saved_searches WHERE feed_token = $1"
        ))
        .bind(token)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes one of the account's saved searches; `NotFound` for others' ids.
    pub async fn delete_saved_search(&self, account_id: i64, id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM saved_searches WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM saved_search_hits WHERE saved_search_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a hit; false when the item was already recorded for this search.
    pub async fn record_saved_search_hit(
        &self,
        saved_search_id: i64,
        kind: &str,
        item_id: i64,
        title: &str,
        now: i64,
    ) -> Result<bool> {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT item_id FROM saved_search_hits WHERE saved_search_id = $1 AND kind = $2 AND item_id = $3",
        )
        .bind(saved_search_id)
        .bind(kind)
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await?;
        if exists.is_some() {
            return Ok(false);
        }
        match sqlx::query(
            "INSERT INTO saved_search_hits (saved_search_id, kind, item_id, title, found_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(saved_search_id)
        .bind(kind)
        .bind(item_id)
        .bind(title)
        .bind(now)
        .execute(&self.pool)
        .await
        {
            Ok(_) => Ok(true),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            },
        }
    }

    pub async fn saved_search_hits(
        &self,
        saved_search_id: i64,
        limit: i64,
    ) -> Result<Vec<SavedSearchHit>> {
        Ok(sqlx::query_as(
            "SELECT saved_search_id, kind, item_id, title, found_at FROM saved_search_hits \
             WHERE saved_search_id = $1 ORDER BY found_at DESC, item_id DESC LIMIT $2",
        )
        .bind(saved_search_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_saved_search_checked(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE saved_searches SET checked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
