//! The review queue: registrations to verify, organisation claims, and later profiles,
//! demands and FAQ answers, each routed to the reviewers of one province and decided
//! once, with a reason.
//!
//! [`Store::decide_review`] applies the decision's effect in the same transaction as
//! the decision itself: a verified registration sets `organisations.verified`, an
//! approved claim joins the claimant to the organisation. Kinds whose modules do not
//! exist yet only change the item's status; their modules read it.

use crate::{Result, Store, StoreError};
use sqlx::AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewKind {
    /// A self-registered organisation to verify (subject: organisation).
    Registration,
    /// Someone asking to join an existing organisation (subject: claim).
    Claim,
    Profile,
    Demand,
    /// 纠错: someone reports wrong data on a profile (subject: supplier_correction).
    Correction,
}

impl ReviewKind {
    /// Questions the assistant could not answer are not here: association staff
    /// and experts answer them in the assistant's own queue (`/assistant/queue`).
    pub const ALL: [ReviewKind; 5] = [
        ReviewKind::Registration,
        ReviewKind::Claim,
        ReviewKind::Profile,
        ReviewKind::Demand,
        ReviewKind::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Registration => "registration",
            ReviewKind::Claim => "claim",
            ReviewKind::Profile => "profile",
            ReviewKind::Demand => "demand",
            ReviewKind::Correction => "correction",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReviewKind::Registration => "注册核验",
            ReviewKind::Claim => "单位认领",
            ReviewKind::Profile => "机构资料",
            ReviewKind::Demand => "需求发布",
            ReviewKind::Correction => "信息纠错",
        }
    }

    pub fn parse(value: &str) -> Option<ReviewKind> {
        ReviewKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "待审核",
            ReviewStatus::Approved => "已通过",
            ReviewStatus::Rejected => "未通过",
        }
    }

    fn parse(value: &str) -> Result<ReviewStatus> {
        match value {
            "pending" => Ok(ReviewStatus::Pending),
            "approved" => Ok(ReviewStatus::Approved),
            "rejected" => Ok(ReviewStatus::Rejected),
            other => Err(StoreError::Corrupt(format!("review status {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    kind: String,
    subject_type: String,
    subject_id: i64,
    organisation_id: Option<i64>,
    province_code: String,
    status: String,
    reason: String,
    submitted_by: Option<i64>,
    decided_by: Option<i64>,
    decided_at: Option<i64>,
    created_at: i64,
}

#[derive(Debug, Clone)]
pub struct ReviewItem {
    pub id: i64,
    pub kind: ReviewKind,
    /// What `subject_id` names: `organisation`, `claim`, …
    pub subject_type: String,
    pub subject_id: i64,
    /// The organisation concerned, when there is one (for the reviewer's page).
    pub organisation_id: Option<i64>,
    /// Whose reviewers decide (`XX0000`).
    pub province_code: String,
    pub status: ReviewStatus,
    pub reason: String,
    pub submitted_by: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<ReviewRow> for ReviewItem {
    type Error = StoreError;
    fn try_from(row: ReviewRow) -> Result<Self> {
        Ok(ReviewItem {
            kind: ReviewKind::parse(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("review kind {:?}", row.kind)))?,
            status: ReviewStatus::parse(&row.status)?,
            id: row.id,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            organisation_id: row.organisation_id,
            province_code: row.province_code,
            reason: row.reason,
            submitted_by: row.submitted_by,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            created_at: row.created_at,
        })
    }
}

/// An item to put in the queue.
#[derive(Debug, Clone)]
pub struct NewReviewItem<'a> {
    pub kind: ReviewKind,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub organisation_id: Option<i64>,
    /// The routed province (see the web layer's routing: the subject's province inside
    /// the zone, the default association's outside it).
    pub province_code: &'a str,
    pub submitted_by: Option<i64>,
}

const COLUMNS: &str = "id, kind, subject_type, subject_id, organisation_id, province_code, \
    status, reason, submitted_by, decided_by, decided_at, created_at";

/// Inserts a review item on a connection that may be inside a transaction.
pub(crate) async fn insert_review(
    conn: &mut AnyConnection,
    new: &NewReviewItem<'_>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO review_items (kind, subject_type, subject_id, organisation_id, province_code, \
         submitted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.subject_type)
    .bind(new.subject_id)
    .bind(new.organisation_id)
    .bind(new.province_code)
    .bind(new.submitted_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Filter of the reviewer's list.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter<'a> {
    /// `None`: every province (admins).
    pub province: Option<&'a str>,
    pub kind: Option<ReviewKind>,
}

impl Store {
    /// Puts an item in the queue. `Conflict` when the same subject already waits.
    pub async fn submit_review(&self, new: &NewReviewItem<'_>, now: i64) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        insert_review(&mut conn, new, now).await
    }

    pub async fn review_item(&self, id: i64) -> Result<ReviewItem> {
        let row: ReviewRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM review_items WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        row.try_into()
    }

    /// The newest item of a subject (pending or decided), if any.
    pub async fn latest_review_of(
        &self,
        kind: ReviewKind,
        subject_type: &str,
        subject_id: i64,
    ) -> Result<Option<ReviewItem>> {
        let row: Option<ReviewRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM review_items WHERE kind = $1 AND subject_type = $2 \
             AND subject_id = $3 ORDER BY id DESC LIMIT 1"
        ))
        .bind(kind.as_str())
        .bind(subject_type)
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ReviewItem::try_from).transpose()
    }

    fn pending_where(filter: &ReviewFilter<'_>) -> (String, Vec<String>) {
        let mut clause = String::from("status = 'pending'");
        let mut binds = Vec::new();
        if let Some(province) = filter.province {
            binds.push(province.to_string());
            clause.push_str(&format!(" AND province_code = ${}", binds.len()));
        }
        if let Some(kind) = filter.kind {
            binds.push(kind.as_str().to_string());
            clause.push_str(&format!(" AND kind = ${}", binds.len()));
        }
        (clause, binds)
    }

    /// Pending items, oldest first, one page.
    pub async fn pending_reviews(
        &self,
        filter: &ReviewFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReviewItem>> {
        let (clause, binds) = Self::pending_where(filter);
        let n = binds.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM review_items WHERE {clause} ORDER BY id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query_as::<_, ReviewRow>(&sql);
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    pub async fn count_pending_reviews(&self, filter: &ReviewFilter<'_>) -> Result<i64> {
        let (clause, binds) = Self::pending_where(filter);
        let sql = format!("SELECT COUNT(*) FROM review_items WHERE {clause}");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for bind in binds {
            query = query.bind(bind);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// Decides a pending item and applies its effect in one transaction. `NotFound`
    /// when the item is not pending any more (decided by someone else meanwhile).
    pub async fn decide_review(
        &self,
        id: i64,
        approve: bool,
        reason: &str,
        decided_by: i64,
        now: i64,
    ) -> Result<ReviewItem> {
        let status = if approve {
            ReviewStatus::Approved
        } else {
            ReviewStatus::Rejected
        };
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE review_items SET status = $1, reason = $2, decided_by = $3, decided_at = $4 \
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(decided_by)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let row: ReviewRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM review_items WHERE id = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let item = ReviewItem::try_from(row)?;
        match item.kind {
            ReviewKind::Registration => {
                sqlx::query(
                    "UPDATE organisations SET verified = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(i64::from(approve))
                .bind(now)
                .bind(item.subject_id)
                .execute(&mut *tx)
                .await?;
                // The verified mark is part of the organisation's search document.
                crate::outbox::record(
                    &mut tx,
                    crate::outbox::collections::ORGANISATIONS,
                    &item.subject_id.to_string(),
                    now,
                )
                .await?;
            }
            ReviewKind::Claim => {
                crate::claims::apply_decision(
                    &mut tx,
                    item.subject_id,
                    approve,
                    reason,
                    decided_by,
                    now,
                )
                .await?;
            }
            ReviewKind::Profile => {
                // The listing state is part of the organisation's search document.
                crate::supplier_queries::apply_profile_decision(&mut tx, &item, approve, now)
                    .await?;
            }
            ReviewKind::Correction => {
                crate::supplier_queries::apply_correction_decision(
                    &mut tx,
                    item.subject_id,
                    approve,
                    reason,
                    decided_by,
                    now,
                )
                .await?;
            }
            ReviewKind::Demand => {
                let today = greenbridge_domain::time::shanghai_date_from_unix(now)
                    .map(greenbridge_domain::time::format_date)
                    .unwrap_or_default();
                crate::demands::apply_review_decision(
                    &mut tx,
                    item.subject_id,
                    approve,
                    reason,
                    &today,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(item)
    }
}
