//! The audit log. Append-only: this module has no statement that changes a record,
//! and the only delete is [`Store::purge_audit_before`], which refuses anything younger
//! than [`AUDIT_RETENTION_DAYS`].

use crate::{Result, Store, StoreError};

/// Records younger than this many days can never be purged.
pub const AUDIT_RETENTION_DAYS: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// What happened, ready to be appended.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor_account_id: Option<i64>,
    pub actor_login: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    pub ip: &'a str,
    /// A dotted verb such as `auth.login`, `review.approve`, `module.switch`.
    pub action: &'a str,
    /// What the action was done to, e.g. `account:12`, `organisation:913…`.
    pub target: &'a str,
    pub outcome: Outcome,
    pub detail: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor_account_id: Option<i64>,
    pub actor_login: Option<String>,
    pub actor_role: Option<String>,
    pub ip: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
}

/// Filters of the admin page; every field that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub outcome: Option<String>,
    pub target: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl AuditFilter {
    /// The WHERE clause and its bound text values, placeholders from `$1`.
    fn clause(&self) -> (String, Vec<String>, Vec<i64>) {
        let mut conditions = Vec::new();
        let mut texts = Vec::new();
        let mut numbers = Vec::new();
        let mut push_text = |conditions: &mut Vec<String>, sql: &str, value: String| {
            texts.push(value);
            conditions.push(sql.replace('?', &format!("${}", texts.len())));
        };
        if let Some(action) = &self.action {
            push_text(
                &mut conditions,
                "action LIKE ? ESCAPE '\\'",
                format!("{}%", escape_like(action)),
            );
        }
        if let Some(actor) = &self.actor {
            push_text(
                &mut conditions,
                "actor_login LIKE ? ESCAPE '\\'",
                format!("%{}%", escape_like(actor)),
            );
        }
        if let Some(outcome) = &self.outcome {
            push_text(&mut conditions, "outcome = ?", outcome.clone());
        }
        if let Some(target) = &self.target {
            push_text(
                &mut conditions,
                "target LIKE ? ESCAPE '\\'",
                format!("%{}%", escape_like(target)),
            );
        }
        let offset = texts.len();
        if let Some(from) = self.from {
            numbers.push(from);
            conditions.push(format!("at >= ${}", offset + numbers.len()));
        }
        if let Some(to) = self.to {
            numbers.push(to);
            conditions.push(format!("at < ${}", offset + numbers.len()));
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        (clause, texts, numbers)
    }
}

/// Escapes LIKE wildcards so that a filter matches its text literally.
fn escape_like(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    pub async fn append_audit(&self, entry: &AuditEntry<'_>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_account_id, actor_login, actor_role, ip, action, target, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(now)
        .bind(entry.actor_account_id)
        .bind(entry.actor_login)
        .bind(entry.actor_role)
        .bind(entry.ip)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.outcome.as_str())
        .bind(entry.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records matching `filter`, newest first; `limit = None` returns all (export).
    pub async fn audit_records(
        &self,
        filter: &AuditFilter,
        limit: Option<i64>,
        offset: i64,
    ) -> Result<Vec<AuditRecord>> {
        let (clause, texts, numbers) = filter.clause();
        let mut sql = format!(
            "SELECT id, at, actor_account_id, actor_login, actor_role, ip, action, target, outcome, detail \
             FROM audit_log{clause} ORDER BY id DESC"
        );
        let mut page = Vec::new();
        if let Some(limit) = limit {
            let next = texts.len() + numbers.len();
            sql.push_str(&format!(" LIMIT ${} OFFSET ${}", next + 1, next + 2));
            page = vec![limit, offset];
        }
        let mut query = sqlx::query_as::<_, AuditRecord>(&sql);
        for text in texts {
            query = query.bind(text);
        }
        for number in numbers.into_iter().chain(page) {
            query = query.bind(number);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    pub async fn count_audit(&self, filter: &AuditFilter) -> Result<i64> {
        let (clause, texts, numbers) = filter.clause();
        let sql = format!("SELECT COUNT(*) FROM audit_log{clause}");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for text in texts {
            query = query.bind(text);
        }
        for number in numbers {
            query = query.bind(number);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// Deletes records older than `before`; refuses a cut-off that would touch a
    /// record younger than the retention period.
    pub async fn purge_audit_before(&self, before: i64, now: i64) -> Result<u64> {
        let latest_allowed = now - AUDIT_RETENTION_DAYS * 86_400;
        if before > latest_allowed {
            return Err(StoreError::RetentionViolated {
                days: AUDIT_RETENTION_DAYS,
            });
        }
        Ok(sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
