//! 需求大厅 demands: what an enterprise needs done, posted by the enterprise (reviewed
//! by its province's association before it is public) or imported from a file.
//!
//! Status: `pending` (waiting for review), `open`, `closed`, `awarded`, `withdrawn`,
//! `rejected`. Only open, closed and awarded demands are public (and searchable).
//! Each write records a search-outbox row in its transaction.

use crate::outbox;
use crate::reviews::{NewReviewItem, ReviewKind, insert_review};
use crate::{Result, Store, StoreError};
use greenbridge_domain::money::Money;
use sqlx::AnyConnection;

/// The collection name of demands in the search outbox.
pub const DEMANDS: &str = "demands";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemandStatus {
    Pending,
    Open,
    Closed,
    Awarded,
    Withdrawn,
    Rejected,
}

impl DemandStatus {
    pub const ALL: [DemandStatus; 6] = [
        DemandStatus::Pending,
        DemandStatus::Open,
        DemandStatus::Closed,
        DemandStatus::Awarded,
        DemandStatus::Withdrawn,
        DemandStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DemandStatus::Pending => "pending",
            DemandStatus::Open => "open",
            DemandStatus::Closed => "closed",
            DemandStatus::Awarded => "awarded",
            DemandStatus::Withdrawn => "withdrawn",
            DemandStatus::Rejected => "rejected",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DemandStatus::Pending => "待审核",
            DemandStatus::Open => "征集中",
            DemandStatus::Closed => "已截止",
            DemandStatus::Awarded => "已选定服务商",
            DemandStatus::Withdrawn => "已撤回",
            DemandStatus::Rejected => "未通过审核",
        }
    }

    pub fn parse(value: &str) -> Option<DemandStatus> {
        DemandStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn is_public(self) -> bool {
        matches!(
            self,
            DemandStatus::Open | DemandStatus::Closed | DemandStatus::Awarded
        )
    }
}

/// The fields of a demand as posted or imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandFields {
    pub title: String,
    pub description: String,
    pub service_category_code: String,
    /// The coarse label of the source data (危废处置 …), when there is one.
    pub service_category_label: Option<String>,
    pub region_code: String,
    pub address: String,
    /// `None`: 面议 (to be negotiated).
    pub budget: Option<Money>,
    /// YYYY-MM-DD.
    pub deadline: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub contact_public: bool,
}

#[derive(Debug, Clone)]
pub struct Demand {
    pub id: i64,
    pub source_id: Option<String>,
    pub organisation_id: Option<i64>,
    pub enterprise_name: String,
    pub enterprise_credit_code: Option<String>,
    pub fields: DemandFields,
    pub status: DemandStatus,
    /// Sensitive words found in the text (for the reviewer), comma-separated.
    pub flagged_words: String,
    pub review_reason: Option<String>,
    /// YYYY-MM-DD of publication (posting date for imports, approval for posts).
    pub publish_date: Option<String>,
    pub sample: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub file_ids: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct DemandRow {
    id: i64,
    source_id: Option<String>,
    organisation_id: Option<i64>,
    enterprise_name: String,
    enterprise_credit_code: Option<String>,
    title: String,
    description: String,
    service_category_code: String,
    service_category_label: Option<String>,
    region_code: String,
    address: String,
    budget_fen: Option<i64>,
    deadline: Option<String>,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    contact_public: i64,
    status: String,
    flagged_words: String,
    review_reason: Option<String>,
    publish_date: Option<String>,
    sample: i64,
    created_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, source_id, organisation_id, enterprise_name, enterprise_credit_code, \
    title, description, service_category_code, service_category_label, region_code, address, \
    budget_fen, deadline, contact_name, contact_phone, contact_email, contact_public, status, \
    flagged_words, review_reason, publish_date, sample, created_by, created_at, updated_at";

impl TryFrom<DemandRow> for Demand {
    type Error = StoreError;
    fn try_from(r: DemandRow) -> Result<Demand> {
        Ok(Demand {
            id: r.id,
            source_id: r.source_id,
            organisation_id: r.organisation_id,
            enterprise_name: r.enterprise_name,
            enterprise_credit_code: r.enterprise_credit_code,
            status: DemandStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("demand status {:?}", r.status)))?,
            fields: DemandFields {
                title: r.title,
                description: r.description,
                service_category_code: r.service_category_code,
                service_category_label: r.service_category_label,
                region_code: r.region_code,
                address: r.address,
                budget: r.budget_fen.map(Money::from_fen),
                deadline: r.deadline,
                contact_name: r.contact_name,
                contact_phone: r.contact_phone,
                contact_email: r.contact_email,
                contact_public: r.contact_public != 0,
            },
            flagged_words: r.flagged_words,
            review_reason: r.review_reason,
            publish_date: r.publish_date,
            sample: r.sample != 0,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            file_ids: Vec::new(),
        })
    }
}

/// An imported demand (from `samples/demands.jsonl` and files like it).
#[derive(Debug, Clone)]
pub struct ImportedDemand {
    pub source_id: String,
    pub enterprise_name: String,
    pub enterprise_credit_code: Option<String>,
    pub organisation_id: Option<i64>,
    pub fields: DemandFields,
    pub publish_date: String,
    pub sample: bool,
}

/// What an import of one demand did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandUpsert {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

/// A demand an enterprise posts.
#[derive(Debug, Clone)]
pub struct PostedDemand<'a> {
    pub organisation_id: i64,
    pub enterprise_name: &'a str,
    pub enterprise_credit_code: &'a str,
    pub fields: &'a DemandFields,
    pub flagged_words: &'a str,
    pub file_ids: &'a [i64],
    pub account_id: i64,
    /// The province whose reviewers decide.
    pub review_province: &'a str,
}

async fn bind_files(conn: &mut AnyConnection, demand_id: i64, file_ids: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM demand_files WHERE demand_id = $1")
        .bind(demand_id)
        .execute(&mut *conn)
        .await?;
    for file in file_ids {
        sqlx::query("INSERT INTO demand_files (demand_id, file_id) VALUES ($1, $2)")
            .bind(demand_id)
            .bind(file)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Imports one demand by its source id: created, updated, or unchanged (idempotent).
    pub async fn upsert_imported_demand(
        &self,
        d: &ImportedDemand,
        now: i64,
    ) -> Result<DemandUpsert> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<DemandRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM demands WHERE source_id = $1"
        ))
        .bind(&d.source_id)
        .fetch_optional(&mut *tx)
        .await?;
        let f = &d.fields;
        let outcome = match existing {
            Some(row) => {
                let id = row.id;
                let old = Demand::try_from(row)?;
                if old.fields == *f
                    && old.enterprise_name == d.enterprise_name
                    && old.publish_date.as_deref() == Some(d.publish_date.as_str())
                    && old.sample == d.sample
                {
                    DemandUpsert::Unchanged(id)
                } else {
                    sqlx::query(
                        "UPDATE demands SET enterprise_name = $1, enterprise_credit_code = $2, \
                         organisation_id = $3, title = $4, description = $5, service_category_code = $6, \
                         service_category_label = $7, region_code = $8, address = $9, budget_fen = $10, \
                         deadline = $11, contact_name = $12, contact_phone = $13, contact_email = $14, \
                         contact_public = $15, publish_date = $16, sample = $17, updated_at = $18 \
                         WHERE id = $19",
                    )
                    .bind(&d.enterprise_name)
                    .bind(&d.enterprise_credit_code)
                    .bind(d.organisation_id)
                    .bind(&f.title)
                    .bind(&f.description)
                    .bind(&f.service_category_code)
                    .bind(&f.service_category_label)
                    .bind(&f.region_code)
                    .bind(&f.address)
                    .bind(f.budget.map(Money::fen))
                    .bind(&f.deadline)
                    .bind(&f.contact_name)
                    .bind(&f.contact_phone)
                    .bind(&f.contact_email)
                    .bind(i64::from(f.contact_public))
                    .bind(&d.publish_date)
                    .bind(i64::from(d.sample))
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    DemandUpsert::Updated(id)
                }
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO demands (source_id, organisation_id, enterprise_name, \
                     enterprise_credit_code, title, description, service_category_code, \
                     service_category_label, region_code, address, budget_fen, deadline, \
                     contact_name, contact_phone, contact_email, contact_public, status, \
                     publish_date, sample, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, \
                     $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'open', $17, $18, $19, $19) \
                     RETURNING id",
                )
                .bind(&d.source_id)
                .bind(d.organisation_id)
                .bind(&d.enterprise_name)
                .bind(&d.enterprise_credit_code)
                .bind(&f.title)
                .bind(&f.description)
                .bind(&f.service_category_code)
                .bind(&f.service_category_label)
                .bind(&f.region_code)
                .bind(&f.address)
                .bind(f.budget.map(Money::fen))
                .bind(&f.deadline)
                .bind(&f.contact_name)
                .bind(&f.contact_phone)
                .bind(&f.contact_email)
                .bind(i64::from(f.contact_public))
                .bind(&d.publish_date)
                .bind(i64::from(d.sample))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                DemandUpsert::Created(id)
            }
        };
        if let DemandUpsert::Created(id) | DemandUpsert::Updated(id) = outcome {
            outbox::record(&mut tx, DEMANDS, &id.to_string(), now).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Whether a demand with this source id exists (for dry runs).
    pub async fn demand_source_exists(&self, source_id: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM demands WHERE source_id = $1")
            .bind(source_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Posts a demand: stored as pending with its review item, in one transaction.
    pub async fn post_demand(&self, p: &PostedDemand<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let f = p.fields;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO demands (organisation_id, enterprise_name, enterprise_credit_code, title, \
             description, service_category_code, region_code, address, budget_fen, deadline, \
             contact_name, contact_phone, contact_email, contact_public, status, flagged_words, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, 'pending', $15, $16, $17, $17) RETURNING id",
        )
        .bind(p.organisation_id)
        .bind(p.enterprise_name)
        .bind(p.enterprise_credit_code)
        .bind(&f.title)
        .bind(&f.description)
        .bind(&f.service_category_code)
        .bind(&f.region_code)
        .bind(&f.address)
        .bind(f.budget.map(Money::fen))
        .bind(&f.deadline)
        .bind(&f.contact_name)
        .bind(&f.contact_phone)
        .bind(&f.contact_email)
        .bind(i64::from(f.contact_public))
        .bind(p.flagged_words)
        .bind(p.account_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        bind_files(&mut tx, id, p.file_ids).await?;
        insert_review(
            &mut tx,
            &NewReviewItem {
                kind: ReviewKind::Demand,
                subject_type: "demand",
                subject_id: id,
                organisation_id: Some(p.organisation_id),
                province_code: p.review_province,
                submitted_by: Some(p.account_id),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edits a demand: it goes back to review (pending) and leaves the public hall
    /// until approved again.
    #[allow(clippy::too_many_arguments)]
    pub async fn edit_demand(
        &self,
        id: i64,
        fields: &DemandFields,
        flagged_words: &str,
        file_ids: &[i64],
        account_id: i64,
        review_province: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let org: Option<i64> =
            sqlx::query_scalar("SELECT organisation_id FROM demands WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE demands SET title = $1, description = $2, service_category_code = $3, \
             region_code = $4, address = $5, budget_fen = $6, deadline = $7, contact_name = $8, \
             contact_phone = $9, contact_email = $10, contact_public = $11, flagged_words = $12, \
             status = 'pending', review_reason = NULL, updated_at = $13 WHERE id = $14",
        )
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(&fields.service_category_code)
        .bind(&fields.region_code)
        .bind(&fields.address)
        .bind(fields.budget.map(Money::fen))
        .bind(&fields.deadline)
        .bind(&fields.contact_name)
        .bind(&fields.contact_phone)
        .bind(&fields.contact_email)
        .bind(i64::from(fields.contact_public))
        .bind(flagged_words)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        bind_files(&mut tx, id, file_ids).await?;
        // An older pending item of this demand is superseded by the new one.
        sqlx::query(
            "UPDATE review_items SET status = 'rejected', reason = '已被新的修改取代', decided_at = $1 \
             WHERE kind = 'demand' AND subject_id = $2 AND status = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        insert_review(
            &mut tx,
            &NewReviewItem {
                kind: ReviewKind::Demand,
                subject_type: "demand",
                subject_id: id,
                organisation_id: org,
                province_code: review_province,
                submitted_by: Some(account_id),
            },
            now,
        )
        .await?;
        outbox::record(&mut tx, DEMANDS, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the status by the enterprise (withdraw, close, awarded).
    pub async fn set_demand_status(&self, id: i64, status: DemandStatus, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE demands SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if status == DemandStatus::Withdrawn {
            sqlx::query(
                "UPDATE review_items SET status = 'rejected', reason = '发布方已撤回', decided_at = $1 \
                 WHERE kind = 'demand' AND subject_id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        outbox::record(&mut tx, DEMANDS, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_demand(&self, id: i64) -> Result<Option<Demand>> {
        let row: Option<DemandRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM demands WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let mut demand = Demand::try_from(row)?;
        demand.file_ids = sqlx::query_scalar(
            "SELECT file_id FROM demand_files WHERE demand_id = $1 ORDER BY file_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(demand))
    }

    pub async fn demands_by_ids(&self, ids: &[i64]) -> Result<Vec<Demand>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM demands WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, DemandRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    pub async fn demands_after(&self, after_id: i64, limit: i64) -> Result<Vec<Demand>> {
        let rows: Vec<DemandRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM demands WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Demand::try_from).collect()
    }

    pub async fn count_demands(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM demands")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The demands of an organisation, newest first (its own list, every status).
    pub async fn organisation_demands(&self, organisation_id: i64) -> Result<Vec<Demand>> {
        let rows: Vec<DemandRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM demands WHERE organisation_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Demand::try_from).collect()
    }
}

/// The effect of a review decision on a demand, inside the decision's transaction:
/// approval publishes it (open, dated today), rejection keeps it out with the reason.
pub(crate) async fn apply_review_decision(
    conn: &mut AnyConnection,
    demand_id: i64,
    approve: bool,
    reason: &str,
    today: &str,
    now: i64,
) -> Result<()> {
    if approve {
        sqlx::query(
            "UPDATE demands SET status = 'open', review_reason = $1, \
             publish_date = COALESCE(publish_date, $2), updated_at = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(reason)
        .bind(today)
        .bind(now)
        .bind(demand_id)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query(
            "UPDATE demands SET status = 'rejected', review_reason = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(reason)
        .bind(now)
        .bind(demand_id)
        .execute(&mut *conn)
        .await?;
    }
    outbox::record(conn, DEMANDS, &demand_id.to_string(), now).await?;
    Ok(())
}
