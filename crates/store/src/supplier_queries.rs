//! The supplier directory's own tables beside profiles and qualifications: the guide
//! to government online systems, error reports (纠错) and spot checks (抽查). The
//! review decisions on corrections are applied by [`apply_correction_decision`] inside
//! the transaction of [`Store::decide_review`].

use crate::{Result, Store, StoreError};
use sqlx::AnyConnection;

/// Setting that records that the government systems were seeded from the reference list.
const GOV_SYSTEMS_SEEDED: &str = "gov_systems.seeded";

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct GovSystemRecord {
    pub id: i64,
    pub name: String,
    /// Empty until someone verified an address.
    pub url: String,
    pub operator: String,
    pub who_needs_it: String,
    /// What one does there.
    pub tasks: String,
    /// How, one step per line.
    pub steps: String,
    pub topic: String,
    /// 全国, 上海市, 江苏省 or 浙江省.
    pub region: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields an admin edits (and the seed provides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GovSystemFields {
    pub name: String,
    pub url: String,
    pub operator: String,
    pub who_needs_it: String,
    pub tasks: String,
    pub steps: String,
    pub topic: String,
    pub region: String,
    pub position: i64,
}

const GOV_COLUMNS: &str = "id, name, url, operator, who_needs_it, tasks, steps, topic, region, \
    position, created_at, updated_at";

impl Store {
    /// Fills the list from `seed` once per database: the first caller on any instance
    /// does it, later callers (and a list an admin emptied) are left alone.
    pub async fn seed_gov_systems(&self, seed: &[GovSystemFields], now: i64) -> Result<bool> {
        if self.setting(GOV_SYSTEMS_SEEDED).await?.is_some() {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(GOV_SYSTEMS_SEEDED)
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        for fields in seed {
            insert_gov_system(&mut tx, fields, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Every system, by topic, position and name.
    pub async fn gov_systems(&self) -> Result<Vec<GovSystemRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GOV_COLUMNS} FROM gov_systems ORDER BY position, id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn gov_system(&self, id: i64) -> Result<GovSystemRecord> {
        Ok(sqlx::query_as(&format!(
            "SELECT {GOV_COLUMNS} FROM gov_systems WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn create_gov_system(&self, fields: &GovSystemFields, now: i64) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        insert_gov_system(&mut conn, fields, now).await
    }

    /// `NotFound` when the system does not exist.
    pub async fn update_gov_system(
        &self,
        id: i64,
        fields: &GovSystemFields,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE gov_systems SET name = $1, url = $2, operator = $3, who_needs_it = $4, \
             tasks = $5, steps = $6, topic = $7, region = $8, position = $9, updated_at = $10 \
             WHERE id = $11",
        )
        .bind(&fields.name)
        .bind(&fields.url)
        .bind(&fields.operator)
        .bind(&fields.who_needs_it)
        .bind(&fields.tasks)
        .bind(&fields.steps)
        .bind(&fields.topic)
        .bind(&fields.region)
        .bind(fields.position)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// `NotFound` when the system does not exist.
    pub async fn delete_gov_system(&self, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM gov_systems WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn insert_gov_system(
    conn: &mut AnyConnection,
    fields: &GovSystemFields,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO gov_systems (name, url, operator, who_needs_it, tasks, steps, topic, region, \
         position, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         RETURNING id",
    )
    .bind(&fields.name)
    .bind(&fields.url)
    .bind(&fields.operator)
    .bind(&fields.who_needs_it)
    .bind(&fields.tasks)
    .bind(&fields.steps)
    .bind(&fields.topic)
    .bind(&fields.region)
    .bind(fields.position)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Subject type of correction review items.
pub const CORRECTION_SUBJECT: &str = "supplier_correction";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Correction {
    pub id: i64,
    pub organisation_id: i64,
    pub what: String,
    pub contact: String,
    pub reporter_account_id: Option<i64>,
    /// pending | accepted | dismissed.
    pub status: String,
    pub outcome: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

impl Correction {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "accepted" => "已采纳",
            "dismissed" => "未采纳",
            _ => "待处理",
        }
    }
}

const CORRECTION_COLUMNS: &str = "id, organisation_id, what, contact, reporter_account_id, status, \
    outcome, decided_by, decided_at, created_at";

/// A report to file.
#[derive(Debug, Clone)]
pub struct NewCorrection<'a> {
    pub organisation_id: i64,
    pub what: &'a str,
    pub contact: &'a str,
    pub reporter_account_id: Option<i64>,
    pub ip: &'a str,
    /// Whose reviewers handle it.
    pub province_code: &'a str,
}

impl Store {
    /// Files a correction and its review item in one transaction; returns its id.
    pub async fn file_correction(&self, new: &NewCorrection<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO supplier_corrections (organisation_id, what, contact, \
             reporter_account_id, ip, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(new.organisation_id)
        .bind(new.what)
        .bind(new.contact)
        .bind(new.reporter_account_id)
        .bind(new.ip)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::reviews::insert_review(
            &mut tx,
            &crate::NewReviewItem {
                kind: crate::ReviewKind::Correction,
                subject_type: CORRECTION_SUBJECT,
                subject_id: id,
                organisation_id: Some(new.organisation_id),
                province_code: new.province_code,
                submitted_by: new.reporter_account_id,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn correction(&self, id: i64) -> Result<Correction> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CORRECTION_COLUMNS} FROM supplier_corrections WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// An organisation's reports, newest first.
    pub async fn corrections_of(&self, organisation_id: i64) -> Result<Vec<Correction>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CORRECTION_COLUMNS} FROM supplier_corrections WHERE organisation_id = $1 \
             ORDER BY id DESC"
        ))
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Reports filed from `ip` since `since` (a simple flood limit for anonymous reports).
    pub async fn count_corrections_from(&self, ip: &str, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM supplier_corrections WHERE ip = $1 AND created_at >= $2",
        )
        .bind(ip)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Records the reviewer's decision on a correction (called by `decide_review`).
pub(crate) async fn apply_correction_decision(
    conn: &mut AnyConnection,
    correction_id: i64,
    accepted: bool,
    reason: &str,
    decided_by: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE supplier_corrections SET status = $1, outcome = $2, decided_by = $3, \
         decided_at = $4 WHERE id = $5",
    )
    .bind(if accepted { "accepted" } else { "dismissed" })
    .bind(reason)
    .bind(decided_by)
    .bind(now)
    .bind(correction_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpotCheck {
    pub id: i64,
    pub organisation_id: i64,
    pub province_code: String,
    pub note: String,
    pub marked_by: i64,
    pub marked_at: i64,
    /// open | passed | failed.
    pub status: String,
    pub outcome: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
}

impl SpotCheck {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "passed" => "抽查合格",
            "failed" => "抽查不合格",
            _ => "待抽查",
        }
    }
}

const SPOT_COLUMNS: &str = "id, organisation_id, province_code, note, marked_by, marked_at, \
    status, outcome, decided_by, decided_at";

impl Store {
    /// Marks an organisation for a spot check. `Conflict` when one is open already.
    pub async fn mark_spot_check(
        &self,
        organisation_id: i64,
        province_code: &str,
        note: &str,
        marked_by: i64,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM supplier_spot_checks WHERE organisation_id = $1 AND status = 'open'",
        )
        .bind(organisation_id)
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 {
            return Err(StoreError::Conflict);
        }
        let id = sqlx::query_scalar(
            "INSERT INTO supplier_spot_checks (organisation_id, province_code, note, marked_by, \
             marked_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(organisation_id)
        .bind(province_code)
        .bind(note)
        .bind(marked_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn spot_check(&self, id: i64) -> Result<SpotCheck> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SPOT_COLUMNS} FROM supplier_spot_checks WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// An organisation's spot checks, newest first.
    pub async fn spot_checks_of(&self, organisation_id: i64) -> Result<Vec<SpotCheck>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SPOT_COLUMNS} FROM supplier_spot_checks WHERE organisation_id = $1 \
             ORDER BY id DESC"
        ))
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Open spot checks of a province (`None`: all), oldest first.
    pub async fn open_spot_checks(&self, province: Option<&str>) -> Result<Vec<SpotCheck>> {
        let rows = match province {
            Some(p) => {
                sqlx::query_as(&format!(
                    "SELECT {SPOT_COLUMNS} FROM supplier_spot_checks WHERE status = 'open' \
                     AND province_code = $1 ORDER BY id"
                ))
                .bind(p)
                .fetch_all(&self.pool)
                .await?
            }
            None => sqlx::query_as(&format!(
                "SELECT {SPOT_COLUMNS} FROM supplier_spot_checks WHERE status = 'open' ORDER BY id"
            ))
            .fetch_all(&self.pool)
            .await?,
        };
        Ok(rows)
    }

    /// Records the outcome of an open spot check. `NotFound` when it is not open.
    pub async fn record_spot_check(
        &self,
        id: i64,
        passed: bool,
        outcome: &str,
        decided_by: i64,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE supplier_spot_checks SET status = $1, outcome = $2, decided_by = $3, \
             decided_at = $4 WHERE id = $5 AND status = 'open'",
        )
        .bind(if passed { "passed" } else { "failed" })
        .bind(outcome)
        .bind(decided_by)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

impl Store {
    /// A reviewer takes a listed supplier out of the directory, with the reason
    /// the supplier reads as its profile review's conclusion (an open review is
    /// decided so; otherwise a decided one is recorded). It comes back when its
    /// association approves its profile again, or, for an organisation of an
    /// official list, with the next list that names it. `NotFound` when it is not
    /// listed.
    pub async fn unlist_supplier(
        &self,
        id: i64,
        province: &str,
        reason: &str,
        by: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organisations SET listed = 0, updated_at = $1 WHERE id = $2 AND listed = 1",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let decided = sqlx::query(
            "UPDATE review_items SET status = 'rejected', reason = $1, decided_by = $2, \
             decided_at = $3 WHERE kind = 'profile' AND subject_type = 'organisation' \
             AND subject_id = $4 AND status = 'pending'",
        )
        .bind(reason)
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if decided.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO review_items (kind, subject_type, subject_id, organisation_id, \
                 province_code, status, reason, decided_by, decided_at, created_at) \
                 VALUES ('profile', 'organisation', $1, $1, $2, 'rejected', $3, $4, $5, $5)",
            )
            .bind(id)
            .bind(province)
            .bind(reason)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // Waiting qualifications are decided with the profile, as on a rejection.
        decide_uploads(&mut tx, id, false, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What approving or rejecting a supplier's profile does besides the item's status:
/// the organisation's search document is written again, since whether a
/// self-registered profile is listed follows its approved profile reviews.
pub(crate) async fn apply_profile_decision(
    conn: &mut AnyConnection,
    item: &crate::ReviewItem,
    approved: bool,
    now: i64,
) -> Result<()> {
    if let Some(organisation_id) = item.organisation_id {
        // Approval lists the profile and makes a waiting edit of a listed one its
        // profile. A rejection leaves the profile as it was approved before (a
        // self-registered one that never was stays unlisted) and the waiting edit
        // where it is, for the supplier to revise.
        if approved {
            sqlx::query("UPDATE organisations SET listed = 1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(organisation_id)
                .execute(&mut *conn)
                .await?;
            if let Some(pending) = crate::suppliers::pending_of(conn, organisation_id).await? {
                let live = crate::suppliers::profile_on(conn, organisation_id).await?;
                let update = pending.applied_to(&crate::suppliers::ProfileUpdate::of(&live));
                crate::suppliers::write_profile(conn, organisation_id, &update, now).await?;
            }
        }
        // The uploaded qualifications it was submitted with are decided with it.
        decide_uploads(conn, organisation_id, approved, now).await?;
    }
    Ok(())
}

/// Verifies (`approved`) or rejects the organisation's uploaded qualifications
/// still waiting, and queues its search document.
async fn decide_uploads(
    conn: &mut AnyConnection,
    organisation_id: i64,
    approved: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE qualifications SET verification = $1, updated_at = $2 \
         WHERE organisation_id = $3 AND verification = 'pending'",
    )
    .bind(if approved { "verified" } else { "rejected" })
    .bind(now)
    .bind(organisation_id)
    .execute(&mut *conn)
    .await?;
    crate::outbox::record(
        conn,
        crate::outbox::collections::ORGANISATIONS,
        &organisation_id.to_string(),
        now,
    )
    .await
}

// ---------------------------------------------------------------------------------
// The directory's read model: an organisation with its profile columns (migration 6)
// and its qualifications, read in bulk for the search index and the result pages.

/// One HW category on a hazardous-waste licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwCategoryLine {
    pub category: String,
    /// 8-digit codes the licence names (empty: the whole category as far as it says).
    pub waste_codes: Vec<String>,
    pub excluded_codes: Vec<String>,
    /// kg/a for this category, when the list gives one.
    pub capacity_kg: Option<i64>,
}

/// A qualification as the directory shows it.
#[derive(Debug, Clone)]
pub struct DirectoryQualification {
    pub id: i64,
    pub organisation_id: i64,
    /// hw-licence | cma | eia | other.
    pub kind: String,
    pub number: String,
    pub title: String,
    pub issuer: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub modes: Vec<String>,
    pub modes_text: String,
    pub capacity_kg: Option<i64>,
    pub facility_address: String,
    /// Region codes it may serve; empty = no restriction.
    pub service_area: Vec<String>,
    pub scope: String,
    pub eia_credit_status: String,
    pub note: String,
    /// import | upload | self.
    pub source: String,
    pub file_id: Option<i64>,
    /// official | pending | verified | rejected.
    pub verification: String,
    pub not_in_latest: bool,
    pub sample: bool,
    pub hw: Vec<HwCategoryLine>,
}

impl DirectoryQualification {
    /// The approved capacity in kg/a: the licence's total, else the sum of its
    /// categories' capacities.
    pub fn total_capacity_kg(&self) -> Option<i64> {
        self.capacity_kg.or_else(|| {
            let per: Vec<i64> = self.hw.iter().filter_map(|h| h.capacity_kg).collect();
            (!per.is_empty()).then(|| per.iter().sum())
        })
    }
}

/// An organisation as the directory shows it.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub organisation: crate::Organisation,
    pub former_names: Vec<String>,
    /// '' (未填) or 微型 / 小型 / 中型 / 大型.
    pub size_band: String,
    pub service_categories: Vec<String>,
    pub legal_representative: String,
    pub contact_email: String,
    pub description: String,
    pub website: String,
    pub listed: bool,
    pub list_source: String,
    pub qualifications: Vec<DirectoryQualification>,
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: i64,
    credit_code: String,
    name: String,
    side: String,
    region_code: String,
    address: String,
    contact_name: String,
    contact_phone: String,
    verified: i64,
    status: String,
    source: String,
    sample: i64,
    created_at: i64,
    updated_at: i64,
}

impl OrgRow {
    fn into_organisation(self) -> Result<crate::Organisation> {
        Ok(crate::Organisation {
            id: self.id,
            credit_code: greenbridge_domain::credit_code::CreditCode::parse(&self.credit_code)
                .map_err(|e| {
                    StoreError::Corrupt(format!("credit code {}: {e}", self.credit_code))
                })?,
            name: self.name,
            side: crate::OrgSide::parse(&self.side)?,
            region_code: self.region_code,
            address: self.address,
            contact_name: self.contact_name,
            contact_phone: self.contact_phone,
            verified: self.verified != 0,
            status: self.status,
            source: self.source,
            sample: self.sample != 0,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: i64,
    former_names: String,
    size_band: String,
    service_categories: String,
    legal_representative: String,
    contact_email: String,
    description: String,
    website: String,
    listed: i64,
    list_source: String,
}

#[derive(sqlx::FromRow)]
struct QualificationRow {
    id: i64,
    organisation_id: i64,
    kind: String,
    number: String,
    title: String,
    issuer: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    modes: String,
    modes_text: String,
    capacity_kg: Option<i64>,
    facility_address: String,
    service_area: String,
    scope: String,
    eia_credit_status: String,
    note: String,
    source: String,
    file_id: Option<i64>,
    verification: String,
    not_in_latest: i64,
    sample: i64,
}

#[derive(sqlx::FromRow)]
struct HwRow {
    qualification_id: i64,
    category: String,
    waste_codes: String,
    excluded_codes: String,
    capacity_kg: Option<i64>,
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

const PROFILE_COLUMNS: &str = "id, former_names, size_band, service_categories, \
    legal_representative, contact_email, description, website, listed, list_source";
const QUALIFICATION_COLUMNS: &str = "id, organisation_id, kind, number, title, issuer, \
    valid_from, valid_to, modes, modes_text, capacity_kg, facility_address, service_area, \
    scope, eia_credit_status, note, source, file_id, verification, not_in_latest, sample";

/// `$first, $first+1, …` for `n` binds.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Directory entries for these organisation ids (missing ids are left out), in the
    /// order of `ids`.
    pub async fn directory_entries(&self, ids: &[i64]) -> Result<Vec<DirectoryEntry>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = placeholders(1, chunk.len());
            let org_sql = format!(
                "SELECT id, credit_code, name, side, region_code, address, contact_name, \
                 contact_phone, verified, status, source, sample, created_at, updated_at \
                 FROM organisations WHERE id IN ({list})"
            );
            let mut orgs = sqlx::query_as::<_, OrgRow>(&org_sql);
            for id in chunk {
                orgs = orgs.bind(*id);
            }
            let orgs = orgs.fetch_all(&self.pool).await?;
            let where_clause = format!("IN ({list})");
            let mut entries = self.assemble(orgs, &where_clause, chunk).await?;
            for id in chunk {
                if let Some(pos) = entries.iter().position(|e| e.organisation.id == *id) {
                    out.push(entries.swap_remove(pos));
                }
            }
        }
        Ok(out)
    }

    /// The organisations with these ids (missing ones left out), in no order.
    pub async fn organisations_by_ids(&self, ids: &[i64]) -> Result<Vec<crate::Organisation>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, credit_code, name, side, region_code, address, contact_name, \
                 contact_phone, verified, status, source, sample, created_at, updated_at \
                 FROM organisations WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, OrgRow>(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(row.into_organisation()?);
            }
        }
        Ok(out)
    }

    pub async fn directory_entry(&self, id: i64) -> Result<Option<DirectoryEntry>> {
        Ok(self.directory_entries(&[id]).await?.into_iter().next())
    }

    /// Entries with an id above `after`, in id order: the index rebuild reads them page
    /// by page.
    pub async fn directory_entries_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<DirectoryEntry>> {
        let orgs: Vec<OrgRow> = sqlx::query_as(
            "SELECT id, credit_code, name, side, region_code, address, contact_name, \
             contact_phone, verified, status, source, sample, created_at, updated_at \
             FROM organisations WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let Some(last) = orgs.last().map(|o| o.id) else {
            return Ok(Vec::new());
        };
        self.assemble(orgs, "BETWEEN $1 AND $2", &[after + 1, last])
            .await
    }

    /// Profile columns and qualifications for `orgs`, whose ids satisfy
    /// `id {where_clause}` with `binds`.
    async fn assemble(
        &self,
        orgs: Vec<OrgRow>,
        where_clause: &str,
        binds: &[i64],
    ) -> Result<Vec<DirectoryEntry>> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM organisations WHERE id {where_clause}");
        let mut q = sqlx::query_as::<_, ProfileRow>(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        let mut profiles: std::collections::HashMap<i64, ProfileRow> = q
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let sql = format!(
            "SELECT {QUALIFICATION_COLUMNS} FROM qualifications WHERE organisation_id {where_clause} \
             ORDER BY organisation_id, kind, id"
        );
        let mut q = sqlx::query_as::<_, QualificationRow>(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        let quals = q.fetch_all(&self.pool).await?;
        let sql = format!(
            "SELECT h.qualification_id, h.category, h.waste_codes, h.excluded_codes, h.capacity_kg \
             FROM qualification_hw_categories h JOIN qualifications q ON q.id = h.qualification_id \
             WHERE q.organisation_id {} ORDER BY h.qualification_id, h.category",
            where_clause
        );
        let mut q = sqlx::query_as::<_, HwRow>(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        let mut hw: std::collections::HashMap<i64, Vec<HwCategoryLine>> =
            std::collections::HashMap::new();
        for row in q.fetch_all(&self.pool).await? {
            hw.entry(row.qualification_id)
                .or_default()
                .push(HwCategoryLine {
                    category: row.category,
                    waste_codes: json_list(&row.waste_codes),
                    excluded_codes: json_list(&row.excluded_codes),
                    capacity_kg: row.capacity_kg,
                });
        }
        let mut by_org: std::collections::HashMap<i64, Vec<DirectoryQualification>> =
            std::collections::HashMap::new();
        for r in quals {
            by_org
                .entry(r.organisation_id)
                .or_default()
                .push(DirectoryQualification {
                    hw: hw.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                    organisation_id: r.organisation_id,
                    kind: r.kind,
                    number: r.number,
                    title: r.title,
                    issuer: r.issuer,
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                    modes: json_list(&r.modes),
                    modes_text: r.modes_text,
                    capacity_kg: r.capacity_kg,
                    facility_address: r.facility_address,
                    service_area: json_list(&r.service_area),
                    scope: r.scope,
                    eia_credit_status: r.eia_credit_status,
                    note: r.note,
                    source: r.source,
                    file_id: r.file_id,
                    verification: r.verification,
                    not_in_latest: r.not_in_latest != 0,
                    sample: r.sample != 0,
                });
        }
        let mut out = Vec::with_capacity(orgs.len());
        for row in orgs {
            let id = row.id;
            let organisation = row.into_organisation()?;
            let profile = profiles.remove(&id);
            out.push(DirectoryEntry {
                organisation,
                former_names: profile
                    .as_ref()
                    .map(|p| json_list(&p.former_names))
                    .unwrap_or_default(),
                size_band: profile
                    .as_ref()
                    .map(|p| p.size_band.clone())
                    .unwrap_or_default(),
                service_categories: profile
                    .as_ref()
                    .map(|p| json_list(&p.service_categories))
                    .unwrap_or_default(),
                legal_representative: profile
                    .as_ref()
                    .map(|p| p.legal_representative.clone())
                    .unwrap_or_default(),
                contact_email: profile
                    .as_ref()
                    .map(|p| p.contact_email.clone())
                    .unwrap_or_default(),
                description: profile
                    .as_ref()
                    .map(|p| p.description.clone())
                    .unwrap_or_default(),
                website: profile
                    .as_ref()
                    .map(|p| p.website.clone())
                    .unwrap_or_default(),
                listed: profile.as_ref().is_some_and(|p| p.listed != 0),
                list_source: profile
                    .as_ref()
                    .map(|p| p.list_source.clone())
                    .unwrap_or_default(),
                qualifications: by_org.remove(&id).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}
