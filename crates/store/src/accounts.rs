use crate::{Result, Store, StoreError};
use greenbridge_domain::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Switched off by a reviewer or admin: cannot log in.
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct AccountRow {
    id: i64,
    login: String,
    display_name: String,
    role: String,
    organisation_id: Option<i64>,
    province_code: Option<String>,
    password_hash: String,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    status: String,
    created_at: i64,
    last_login_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    /// The normalised mobile number or e-mail address used to log in.
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    /// For reviewers: the province (`XX0000`) whose items they review.
    pub province_code: Option<String>,
    pub password_hash: String,
    /// Base32 TOTP secret once the account has enrolled a second factor.
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub status: AccountStatus,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(row: AccountRow) -> Result<Self> {
        Ok(Account {
            role: row
                .role
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("role {:?}", row.role)))?,
            status: match row.status.as_str() {
                "active" => AccountStatus::Active,
                "disabled" => AccountStatus::Disabled,
                other => return Err(StoreError::Corrupt(format!("account status {other:?}"))),
            },
            id: row.id,
            login: row.login,
            display_name: row.display_name,
            organisation_id: row.organisation_id,
            province_code: row.province_code,
            password_hash: row.password_hash,
            totp_secret: row.totp_secret,
            totp_last_step: row.totp_last_step,
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        })
    }
}

pub struct NewAccount<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub province_code: Option<&'a str>,
    pub password_hash: &'a str,
}

const ACCOUNT_COLUMNS: &str = "id, login, display_name, role, organisation_id, province_code, \
    password_hash, totp_secret, totp_last_step, status, created_at, last_login_at";

impl Store {
    /// Inserts an account; `StoreError::Conflict` when the login is taken.
    pub async fn insert_account(&self, new: &NewAccount<'_>, now: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO accounts (login, display_name, role, organisation_id, province_code, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(new.login)
        .bind(new.display_name)
        .bind(new.role.as_str())
        .bind(new.organisation_id)
        .bind(new.province_code)
        .bind(new.password_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn account(&self, id: i64) -> Result<Account> {
        let row: AccountRow = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Account::try_from).transpose()
    }

    pub async fn accounts_of_organisation(&self, organisation_id: i64) -> Result<Vec<Account>> {
        let rows: Vec<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organisation_id = $1 ORDER BY id"
        ))
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Account::try_from).collect()
    }

    /// Staff and other accounts for the admin list, newest first.
    pub async fn list_accounts(&self, limit: i64, offset: i64) -> Result<Vec<Account>> {
        let rows: Vec<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Account::try_from).collect()
    }

    pub async fn count_accounts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn set_password_hash(&self, account_id: i64, hash: &str, now: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(account_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_account_role(
        &self,
        account_id: i64,
        role: Role,
        province: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE accounts SET role = $1, province_code = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(role.as_str())
        .bind(province)
        .bind(now)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_account_status(
        &self,
        account_id: i64,
        status: AccountStatus,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_account_organisation(
        &self,
        account_id: i64,
        organisation_id: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE accounts SET organisation_id = $1, updated_at = $2 WHERE id = $3")
            .bind(organisation_id)
            .bind(now)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores (or clears) the TOTP secret. The last used step stays: steps are counted
    /// in time, so the code that confirmed the enrolment cannot log in again.
    pub async fn set_totp_secret(
        &self,
        account_id: i64,
        secret: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE accounts SET totp_secret = $1, updated_at = $2 WHERE id = $3")
            .bind(secret)
            .bind(now)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the TOTP step just used, only if it is newer than the last one: a code
    /// cannot be replayed, even by two instances racing. Returns false on a replay.
    pub async fn use_totp_step(&self, account_id: i64, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn touch_last_login(&self, account_id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE accounts SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn count_admins(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE role = 'admin'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

impl Store {
    /// The organisation's primary account (主账号): the first one it got, by
    /// registration or by an approved claim. Only it invites colleagues.
    pub async fn primary_account_of(&self, organisation_id: i64) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(id) FROM accounts WHERE organisation_id = $1")
                .bind(organisation_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
