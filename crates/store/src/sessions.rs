//! Login sessions, login-failure records and one-time tokens (invitations, password
//! resets). Sessions live in the database so that several instances share them; the
//! cookie carries a random token and the table only its hash.

use crate::{Result, Store, StoreError, token_hash};

#[derive(Debug, Clone, sqlx::FromRow)]
struct SessionRecord {
    account_id: i64,
    created_at: i64,
    last_seen_at: i64,
    second_factor_passed: i64,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub account_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub second_factor_passed: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub organisation_id: i64,
    pub invited_by: i64,
    pub note: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_by: Option<i64>,
    pub accepted_at: Option<i64>,
}

impl Store {
    pub async fn create_session(
        &self,
        token: &str,
        account_id: i64,
        second_factor_passed: bool,
        ip: &str,
        user_agent: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, \
             second_factor_passed, ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(token_hash(token))
        .bind(account_id)
        .bind(now)
        .bind(i64::from(second_factor_passed))
        .bind(ip)
        .bind(user_agent.chars().take(300).collect::<String>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token: &str) -> Result<Option<SessionRow>> {
        let record: Option<SessionRecord> = sqlx::query_as(
            "SELECT account_id, created_at, last_seen_at, second_factor_passed FROM sessions WHERE id_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(record.map(|r| SessionRow {
            account_id: r.account_id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            second_factor_passed: r.second_factor_passed != 0,
        }))
    }

    pub async fn touch_session(&self, token: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn pass_second_factor(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET second_factor_passed = 1 WHERE id_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of an account (after a password change or reset), except
    /// the one whose token is given.
    pub async fn delete_sessions_of(
        &self,
        account_id: i64,
        keep_token: Option<&str>,
    ) -> Result<()> {
        let keep = keep_token.map(token_hash).unwrap_or_default();
        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(account_id)
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn purge_idle_sessions(&self, idle_before: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
            .bind(idle_before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn record_login_failure(&self, login: &str, ip: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (login, ip, at) VALUES ($1, $2, $3)")
            .bind(login)
            .bind(ip)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Times of the failures for `login` since `since`, oldest first.
    pub async fn login_failures_since(&self, login: &str, since: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE login = $1 AND at >= $2 ORDER BY at",
        )
        .bind(login)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn ip_failures_since(&self, ip: &str, since: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE ip = $1 AND at >= $2")
                .bind(ip)
                .bind(since)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// A successful login clears the name's failures (the IP's stay, so that one
    /// good account cannot launder guesses at others).
    pub async fn clear_login_failures(&self, login: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE login = $1")
            .bind(login)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_invitation(
        &self,
        token: &str,
        organisation_id: i64,
        invited_by: i64,
        note: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO invitations (organisation_id, token_hash, invited_by, note, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(organisation_id)
        .bind(token_hash(token))
        .bind(invited_by)
        .bind(note)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?)
    }

    /// An invitation that can still be accepted.
    pub async fn open_invitation(&self, token: &str, now: i64) -> Result<Option<Invitation>> {
        Ok(sqlx::query_as(
            "SELECT id, organisation_id, invited_by, note, created_at, expires_at, accepted_by, accepted_at \
             FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn invitations_of(&self, organisation_id: i64) -> Result<Vec<Invitation>> {
        Ok(sqlx::query_as(
            "SELECT id, organisation_id, invited_by, note, created_at, expires_at, accepted_by, accepted_at \
             FROM invitations WHERE organisation_id = $1 ORDER BY id DESC",
        )
        .bind(organisation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn create_password_reset(
        &self,
        token: &str,
        account_id: i64,
        created_by: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, account_id, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(token))
        .bind(account_id)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account a reset link is for, while the link is unused and fresh.
    pub async fn password_reset_account(&self, token: &str, now: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT account_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Uses a reset link once; `NotFound` when it was used or expired meanwhile.
    pub async fn use_password_reset(&self, token: &str, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash(token))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

impl Store {
    /// How many reset links the account asked for itself (by e-mail) since `since`.
    pub async fn self_service_resets_since(&self, account_id: i64, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets WHERE account_id = $1 AND created_by IS NULL AND created_at >= $2",
        )
        .bind(account_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }
}

impl Store {
    /// Creates the account an invitation asks for and marks the invitation used, in one
    /// transaction. `Ok(None)` when the invitation was used or expired meanwhile (and no
    /// account is created); `Conflict` when the login is taken.
    pub async fn join_by_invitation(
        &self,
        invitation_id: i64,
        account: &crate::NewAccount<'_>,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let organisation_id: Option<i64> = sqlx::query_scalar(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL AND expires_at > $1 \
             RETURNING organisation_id",
        )
        .bind(now)
        .bind(invitation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(organisation_id) = organisation_id else {
            return Ok(None);
        };
        let account_id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (login, display_name, role, organisation_id, province_code, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, $6, $6) RETURNING id",
        )
        .bind(account.login)
        .bind(account.display_name)
        .bind(account.role.as_str())
        .bind(organisation_id)
        .bind(account.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE invitations SET accepted_by = $1 WHERE id = $2")
            .bind(account_id)
            .bind(invitation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(account_id))
    }
}

impl Store {
    /// Deletes login failures recorded before `before` (the lock-outs look back 15
    /// minutes; the scheduled purge keeps a day); returns how many.
    pub async fn purge_login_failures(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
