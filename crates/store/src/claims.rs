//! Claims: someone registering a credit code that already exists asks to join that
//! organisation, with a business-licence scan; a reviewer of its province decides.

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStatus {
    Pending,
    Approved,
    Rejected,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Rejected => "rejected",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "待审核",
            ClaimStatus::Approved => "已通过",
            ClaimStatus::Rejected => "未通过",
        }
    }

    fn parse(value: &str) -> Result<ClaimStatus> {
        match value {
            "pending" => Ok(ClaimStatus::Pending),
            "approved" => Ok(ClaimStatus::Approved),
            "rejected" => Ok(ClaimStatus::Rejected),
            other => Err(StoreError::Corrupt(format!("claim status {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    organisation_id: i64,
    account_id: i64,
    province_code: String,
    licence_path: String,
    licence_type: String,
    status: String,
    reason: String,
    decided_by: Option<i64>,
    decided_at: Option<i64>,
    created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Claim {
    pub id: i64,
    pub organisation_id: i64,
    pub account_id: i64,
    /// Province (`XX0000`) of the organisation: whose reviewers decide.
    pub province_code: String,
    /// Path of the licence scan, relative to the data directory.
    pub licence_path: String,
    pub licence_type: String,
    pub status: ClaimStatus,
    pub reason: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

impl TryFrom<ClaimRow> for Claim {
    type Error = StoreError;
    fn try_from(row: ClaimRow) -> Result<Self> {
        Ok(Claim {
            status: ClaimStatus::parse(&row.status)?,
            id: row.id,
            organisation_id: row.organisation_id,
            account_id: row.account_id,
            province_code: row.province_code,
            licence_path: row.licence_path,
            licence_type: row.licence_type,
            reason: row.reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            created_at: row.created_at,
        })
    }
}

const CLAIM_COLUMNS: &str = "id, organisation_id, account_id, province_code, licence_path, \
    licence_type, status, reason, decided_by, decided_at, created_at";

impl Store {
    /// Files a claim and puts it in the review queue of `province_code`.
    pub async fn insert_claim(
        &self,
        organisation_id: i64,
        account_id: i64,
        province_code: &str,
        licence_path: &str,
        licence_type: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_claim_and_review(
            &mut tx,
            organisation_id,
            account_id,
            province_code,
            licence_path,
            licence_type,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn claim(&self, id: i64) -> Result<Claim> {
        let row: ClaimRow =
            sqlx::query_as(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        row.try_into()
    }

    pub async fn claims_of_account(&self, account_id: i64) -> Result<Vec<Claim>> {
        let rows: Vec<ClaimRow> = sqlx::query_as(&format!(
            "SELECT {CLAIM_COLUMNS} FROM claims WHERE account_id = $1 ORDER BY id DESC"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Claim::try_from).collect()
    }

    /// Pending claims, of one province or (for admins) of all.
    pub async fn pending_claims(&self, province: Option<&str>) -> Result<Vec<Claim>> {
        let rows: Vec<ClaimRow> = match province {
            Some(province) => sqlx::query_as(&format!(
                "SELECT {CLAIM_COLUMNS} FROM claims WHERE status = 'pending' AND province_code = $1 ORDER BY id"
            ))
            .bind(province)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query_as(&format!(
                "SELECT {CLAIM_COLUMNS} FROM claims WHERE status = 'pending' ORDER BY id"
            ))
            .fetch_all(&self.pool)
            .await?,
        };
        rows.into_iter().map(Claim::try_from).collect()
    }

    /// Decides a pending claim through the review queue (see
    /// [`Store::decide_review`]); on approval the claimant joins the organisation in the
    /// same transaction. `NotFound` when the claim is not pending any more.
    pub async fn decide_claim(
        &self,
        claim_id: i64,
        approve: bool,
        reason: &str,
        decided_by: i64,
        now: i64,
    ) -> Result<Claim> {
        let item = self
            .latest_review_of(crate::ReviewKind::Claim, "claim", claim_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.decide_review(item.id, approve, reason, decided_by, now)
            .await?;
        self.claim(claim_id).await
    }
}

/// Applies a decision to a pending claim inside the review queue's transaction: the
/// claim's status and reason, and on approval the claimant's membership.
pub(crate) async fn apply_decision(
    conn: &mut sqlx::AnyConnection,
    claim_id: i64,
    approve: bool,
    reason: &str,
    decided_by: i64,
    now: i64,
) -> Result<()> {
    let status = if approve {
        ClaimStatus::Approved
    } else {
        ClaimStatus::Rejected
    };
    let done = sqlx::query(
        "UPDATE claims SET status = $1, reason = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(decided_by)
    .bind(now)
    .bind(claim_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if approve {
        let (organisation_id, account_id): (i64, i64) =
            sqlx::query_as("SELECT organisation_id, account_id FROM claims WHERE id = $1")
                .bind(claim_id)
                .fetch_one(&mut *conn)
                .await?;
        sqlx::query("UPDATE accounts SET organisation_id = $1, updated_at = $2 WHERE id = $3")
            .bind(organisation_id)
            .bind(now)
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a claim and its review item on `conn` (inside the caller's transaction).
pub(crate) async fn insert_claim_and_review(
    conn: &mut sqlx::AnyConnection,
    organisation_id: i64,
    account_id: i64,
    province_code: &str,
    licence_path: &str,
    licence_type: &str,
    now: i64,
) -> Result<i64> {
    let claim_id: i64 = sqlx::query_scalar(
        "INSERT INTO claims (organisation_id, account_id, province_code, licence_path, licence_type, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(organisation_id)
    .bind(account_id)
    .bind(province_code)
    .bind(licence_path)
    .bind(licence_type)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    crate::reviews::insert_review(
        conn,
        &crate::NewReviewItem {
            kind: crate::ReviewKind::Claim,
            subject_type: "claim",
            subject_id: claim_id,
            organisation_id: Some(organisation_id),
            province_code,
            submitted_by: Some(account_id),
        },
        now,
    )
    .await?;
    Ok(claim_id)
}
