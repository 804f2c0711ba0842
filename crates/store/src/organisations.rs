use crate::outbox::collections;
use crate::{Result, Store, StoreError};
use greenbridge_domain::credit_code::CreditCode;

/// Which side of the platform an organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSide {
    /// 需求端企业: an enterprise that must manage pollution.
    Demand,
    /// 第三方服务机构: a service organisation.
    Supplier,
}

impl OrgSide {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgSide::Demand => "demand",
            OrgSide::Supplier => "supplier",
        }
    }

    pub fn parse(value: &str) -> Result<OrgSide> {
        match value {
            "demand" => Ok(OrgSide::Demand),
            "supplier" => Ok(OrgSide::Supplier),
            other => Err(StoreError::Corrupt(format!("organisation side {other:?}"))),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            OrgSide::Demand => "需求端企业",
            OrgSide::Supplier => "第三方服务机构",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct OrganisationRow {
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

#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: i64,
    pub credit_code: CreditCode,
    pub name: String,
    pub side: OrgSide,
    pub region_code: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub verified: bool,
    /// `active` or `suspended`.
    pub status: String,
    /// `registration`, `import` or `demo`.
    pub source: String,
    /// Fictional sample content, shown with the 示例数据 mark.
    pub sample: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = StoreError;
    fn try_from(row: OrganisationRow) -> Result<Self> {
        Ok(Organisation {
            id: row.id,
            credit_code: CreditCode::parse(&row.credit_code).map_err(|e| {
                StoreError::Corrupt(format!("credit code {}: {e}", row.credit_code))
            })?,
            name: row.name,
            side: OrgSide::parse(&row.side)?,
            region_code: row.region_code,
            address: row.address,
            contact_name: row.contact_name,
            contact_phone: row.contact_phone,
            verified: row.verified != 0,
            status: row.status,
            source: row.source,
            sample: row.sample != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub struct NewOrganisation<'a> {
    pub credit_code: &'a CreditCode,
    pub name: &'a str,
    pub side: OrgSide,
    pub region_code: &'a str,
    pub address: &'a str,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub source: &'a str,
    pub sample: bool,
}

const ORG_COLUMNS: &str = "id, credit_code, name, side, region_code, address, contact_name, \
    contact_phone, verified, status, source, sample, created_at, updated_at";

impl Store {
    /// Inserts an organisation; `StoreError::Conflict` when the credit code exists.
    pub async fn insert_organisation(&self, new: &NewOrganisation<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (credit_code, name, side, region_code, address, \
             contact_name, contact_phone, source, sample, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(new.credit_code.as_str())
        .bind(new.name)
        .bind(new.side.as_str())
        .bind(new.region_code)
        .bind(new.address)
        .bind(new.contact_name)
        .bind(new.contact_phone)
        .bind(new.source)
        .bind(i64::from(new.sample))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::outbox::record(&mut tx, collections::ORGANISATIONS, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn organisation(&self, id: i64) -> Result<Organisation> {
        let row: OrganisationRow = sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    pub async fn organisation_by_code(&self, code: &CreditCode) -> Result<Option<Organisation>> {
        let row: Option<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE credit_code = $1"
        ))
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organisation::try_from).transpose()
    }

    /// The newest organisations, for the home page and admin lists.
    pub async fn recent_organisations(&self, limit: i64) -> Result<Vec<Organisation>> {
        let rows: Vec<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations ORDER BY created_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Organisation::try_from).collect()
    }

    pub async fn count_organisations(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
            .fetch_one(&self.pool)
            .await?)
    }
}

impl Store {
    /// Registers a new organisation together with its first account, its search-outbox
    /// row and its verification review item (for `review_province`), in one
    /// transaction: either all exist afterwards or none. `Conflict` when the credit
    /// code or the login is taken (the caller checks which beforehand for its message).
    pub async fn register_organisation(
        &self,
        org: &NewOrganisation<'_>,
        account: &crate::NewAccount<'_>,
        review_province: &str,
        now: i64,
    ) -> Result<(i64, i64)> {
        let mut tx = self.pool.begin().await?;
        let org_id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (credit_code, name, side, region_code, address, \
             contact_name, contact_phone, source, sample, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(org.credit_code.as_str())
        .bind(org.name)
        .bind(org.side.as_str())
        .bind(org.region_code)
        .bind(org.address)
        .bind(org.contact_name)
        .bind(org.contact_phone)
        .bind(org.source)
        .bind(i64::from(org.sample))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let account_id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (login, display_name, role, organisation_id, province_code, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(account.login)
        .bind(account.display_name)
        .bind(account.role.as_str())
        .bind(org_id)
        .bind(account.province_code)
        .bind(account.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::outbox::record(
            &mut tx,
            collections::ORGANISATIONS,
            &org_id.to_string(),
            now,
        )
        .await?;
        // Its association verifies it: the review item is part of the registration.
        crate::reviews::insert_review(
            &mut tx,
            &crate::NewReviewItem {
                kind: crate::ReviewKind::Registration,
                subject_type: "organisation",
                subject_id: org_id,
                organisation_id: Some(org_id),
                province_code: review_province,
                submitted_by: Some(account_id),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((org_id, account_id))
    }

    /// Creates an account without an organisation and its claim on an existing one,
    /// in one transaction.
    pub async fn register_claimant(
        &self,
        account: &crate::NewAccount<'_>,
        organisation_id: i64,
        province_code: &str,
        licence_path: &str,
        licence_type: &str,
        now: i64,
    ) -> Result<(i64, i64)> {
        let mut tx = self.pool.begin().await?;
        let account_id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (login, display_name, role, organisation_id, province_code, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, NULL, NULL, $4, $5, $5) RETURNING id",
        )
        .bind(account.login)
        .bind(account.display_name)
        .bind(account.role.as_str())
        .bind(account.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        // The claim and its review item (routed to `province_code`) in one go.
        let claim_id = crate::claims::insert_claim_and_review(
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
        Ok((account_id, claim_id))
    }
}

impl Store {
    /// Organisations in id order after `after_id`: the rebuild of the search index
    /// reads them page by page.
    pub async fn organisations_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Organisation>> {
        let rows: Vec<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Organisation::try_from).collect()
    }

    /// An organisation if it exists (the indexer deletes documents whose row is gone).
    pub async fn find_organisation(&self, id: i64) -> Result<Option<Organisation>> {
        let row: Option<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organisation::try_from).transpose()
    }
}
