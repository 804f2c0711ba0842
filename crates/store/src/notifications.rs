//! Notifications: the site inbox of each account, and what its e-mail still owes.
//!
//! A notification is written once ([`Store::notify`]) and read in the inbox. Whether it
//! is also e-mailed depends on the account's [`EmailMode`] when it is written: the row
//! then carries `mail_pending = 1` until an immediate mail or the daily digest has sent
//! it (`emailed_at`), or the account turns e-mail off.

use crate::{Result, Store, StoreError};

/// How an account wants its notifications e-mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMode {
    Immediately,
    Daily,
    Off,
}

impl EmailMode {
    pub const ALL: [EmailMode; 3] = [EmailMode::Immediately, EmailMode::Daily, EmailMode::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediately => "immediately",
            EmailMode::Daily => "daily",
            EmailMode::Off => "off",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EmailMode::Immediately => "每条消息即时发送",
            EmailMode::Daily => "每天早上 8 点汇总发送一封",
            EmailMode::Off => "不发送邮件（只在站内收件箱查看）",
        }
    }

    pub fn parse(value: &str) -> Option<EmailMode> {
        EmailMode::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// The mode of an account without a stored preference: e-mail logins get their
    /// mail at once, mobile-number logins have no address to send to.
    pub fn default_for_login(login: &str) -> EmailMode {
        if login.contains('@') {
            EmailMode::Immediately
        } else {
            EmailMode::Off
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub account_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    /// A path on the site (e.g. `/account`), or empty.
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub emailed_at: Option<i64>,
    pub mail_pending: i64,
}

impl Notification {
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

const COLUMNS: &str =
    "id, account_id, kind, title, body, link, created_at, read_at, emailed_at, mail_pending";

impl Store {
    /// Writes a notification to `account_id`'s inbox; it is owed by e-mail when the
    /// account's mode is not off. Returns the id and the mode it was written under.
    pub async fn notify(
        &self,
        account_id: i64,
        kind: &str,
        title: &str,
        body: &str,
        link: &str,
        now: i64,
    ) -> Result<(i64, EmailMode)> {
        let mode = self.email_mode(account_id).await?;
        let id = sqlx::query_scalar(
            "INSERT INTO notifications (account_id, kind, title, body, link, created_at, mail_pending) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(account_id)
        .bind(kind)
        .bind(title)
        .bind(body)
        .bind(link)
        .bind(now)
        .bind(i64::from(mode != EmailMode::Off))
        .fetch_one(&self.pool)
        .await?;
        Ok((id, mode))
    }

    pub async fn notification(&self, id: i64) -> Result<Notification> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// A notification of `account_id`; `NotFound` for another account's.
    pub async fn notification_of(&self, account_id: i64, id: i64) -> Result<Notification> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE id = $1 AND account_id = $2"
        ))
        .bind(id)
        .bind(account_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The unread count shown in every page's header: one indexed COUNT.
    pub async fn unread_count(&self, account_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn count_notifications(&self, account_id: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// One page of an account's inbox, newest first.
    pub async fn notifications_of(
        &self,
        account_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Notification>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(account_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks one of the account's notifications read; `NotFound` for another's.
    pub async fn mark_notification_read(&self, account_id: i64, id: i64, now: i64) -> Result<()> {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM notifications WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE id = $2 AND account_id = $3 AND read_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks every unread notification of the account read; returns how many.
    pub async fn mark_all_notifications_read(&self, account_id: i64, now: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// The account's e-mail mode: the stored preference or the default for its login.
    pub async fn email_mode(&self, account_id: i64) -> Result<EmailMode> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT a.login, p.email_mode FROM accounts a \
             LEFT JOIN notification_preferences p ON p.account_id = a.id WHERE a.id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        let (login, stored) = row.ok_or(StoreError::NotFound)?;
        match stored {
            None => Ok(EmailMode::default_for_login(&login)),
            Some(value) => EmailMode::parse(&value)
                .ok_or_else(|| StoreError::Corrupt(format!("email_mode {value:?}"))),
        }
    }

    /// Stores the account's e-mail mode. Turning mail off also drops what was still
    /// owed, so that turning it on later does not send old news.
    pub async fn set_email_mode(&self, account_id: i64, mode: EmailMode, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE notification_preferences SET email_mode = $1, updated_at = $2 WHERE account_id = $3",
        )
        .bind(mode.as_str())
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO notification_preferences (account_id, email_mode, updated_at) VALUES ($1, $2, $3)",
            )
            .bind(account_id)
            .bind(mode.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if mode == EmailMode::Off {
            sqlx::query(
                "UPDATE notifications SET mail_pending = 0 WHERE account_id = $1 AND mail_pending = 1",
            )
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that these notifications went out by e-mail.
    pub async fn mark_notifications_emailed(&self, ids: &[i64], now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for id in ids {
            sqlx::query("UPDATE notifications SET emailed_at = $1, mail_pending = 0 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Accounts with e-mail still owed whose mode is the daily digest.
    pub async fn accounts_due_digest(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT n.account_id FROM notifications n \
             JOIN notification_preferences p ON p.account_id = n.account_id \
             WHERE n.mail_pending = 1 AND p.email_mode = 'daily' ORDER BY n.account_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The notifications an account is still owed by e-mail, oldest first.
    pub async fn pending_mail_of(&self, account_id: i64) -> Result<Vec<Notification>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND mail_pending = 1 ORDER BY id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// Notifications still owed an immediate mail, written before `before`: those whose
    /// mail job was never enqueued (the process stopped between the two writes).
    pub async fn owed_immediate_notifications(&self, before: i64, limit: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT n.id FROM notifications n \
             LEFT JOIN notification_preferences p ON p.account_id = n.account_id \
             WHERE n.mail_pending = 1 AND n.created_at < $1 \
             AND COALESCE(p.email_mode, 'immediately') = 'immediately' ORDER BY n.id LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
