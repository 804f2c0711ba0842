//! Notifications: the site inbox and its e-mail.
//!
//! [`send`] writes to an account's inbox and, when the account wants its mail at once
//! and a mail server is configured, enqueues a `notify.email` job for it. The job
//! retries with backoff while the mail server is down (a down server delays mail,
//! loses none: the notification stays owed until it went out). Accounts that chose
//! the daily digest get one mail a day from `notify.digest` (scheduled at 08:00
//! Asia/Shanghai) with everything still owed. Every mail carries an unsubscribe link
//! (`/unsubscribe/{token}`, a signed token: no login needed) and the
//! `List-Unsubscribe` headers of RFC 2369 and RFC 8058.

use crate::jobs::{JobContext, JobError, JobResult, Period, Schedule};
use crate::state::AppState;
use greenbridge_store::{EmailMode, NewJob, Notification, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Job kind: e-mail one notification now.
pub const EMAIL_JOB: &str = "notify.email";
/// Job kind: the daily digest of everything still owed to `daily` accounts.
pub const DIGEST_JOB: &str = "notify.digest";
/// Attempts of an e-mail job: with the queue's backoff (30 s doubling up to an hour)
/// about a day of a mail server being down before the job is dead (and an admin can
/// retry it; the notification stays owed).
pub const EMAIL_ATTEMPTS: i32 = 30;

/// Writes a notification to `account_id`'s inbox and, if the account wants it at once
/// and mail is configured, enqueues its e-mail. Returns the notification's id.
pub async fn send(
    state: &AppState,
    account_id: i64,
    kind: &str,
    title: &str,
    body: &str,
    link: &str,
) -> Result<i64, StoreError> {
    let now = state.clock.unix();
    let (id, mode) = state
        .store
        .notify(account_id, kind, title, body, link, now)
        .await?;
    if mode == EmailMode::Immediately && state.mailer.is_some() {
        enqueue_email(state, id, now).await?;
    }
    Ok(id)
}

/// Queues the immediate mail of notification `id`, once: the unique key makes a second
/// call (from [`sweep_job`]) a no-op.
async fn enqueue_email(state: &AppState, id: i64, now: i64) -> Result<(), StoreError> {
    state
        .store
        .enqueue_job(
            &NewJob::new(EMAIL_JOB, serde_json::json!({ "notification_id": id }), now)
                .unique(format!("{EMAIL_JOB}:{id}"))
                .max_attempts(EMAIL_ATTEMPTS),
        )
        .await?;
    Ok(())
}

/// Queues the mails a stopped process owed: the notification is written before its
/// mail job, so a stop between the two would otherwise lose that mail.
pub const SWEEP_JOB: &str = "notify.sweep";
pub const SWEEP_SCHEDULE: Schedule = Schedule {
    kind: SWEEP_JOB,
    every: Period::Minutes(15),
};
/// Notifications younger than this are left to their own job.
const SWEEP_GRACE_SECS: i64 = 300;

pub async fn sweep_job(ctx: JobContext) -> JobResult {
    let state = &ctx.state;
    if state.mailer.is_none() {
        return Ok(());
    }
    let now = state.clock.unix();
    let owed = state
        .store
        .owed_immediate_notifications(now - SWEEP_GRACE_SECS, 1000)
        .await?;
    for id in &owed {
        enqueue_email(state, *id, now).await?;
    }
    if !owed.is_empty() {
        tracing::info!(count = owed.len(), "owed notification mails queued");
    }
    Ok(())
}

/// The e-mail address of a login, if it is one (mobile-number logins have none).
pub fn email_address(login: &str) -> Option<&str> {
    login.contains('@').then_some(login)
}

fn token_mac(key: &[u8], account_id: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("unsubscribe|{account_id}").as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(&mac.finalize().into_bytes())
}

/// The token of an account's unsubscribe link: its id and an HMAC of it under the
/// platform's signing key, so the link works without a login and cannot be guessed
/// for another account.
pub fn unsubscribe_token(key: &[u8], account_id: i64) -> String {
    format!("{account_id}.{}", token_mac(key, account_id))
}

/// The account an unsubscribe token names, if its signature holds.
pub fn verify_unsubscribe_token(key: &[u8], token: &str) -> Option<i64> {
    let (id, mac) = token.split_once('.')?;
    let account_id: i64 = id.parse().ok()?;
    let expected = token_mac(key, account_id);
    crate::context::constant_time_eq(expected.as_bytes(), mac.as_bytes()).then_some(account_id)
}

/// Why a mail job did not finish; the job runner maps it to retry or dead.
#[derive(Debug)]
pub enum MailFailure {
    /// Worth another try later (the mail server is down or refused for now).
    Retry(String),
    /// Will never work (e.g. the payload names no notification).
    Permanent(String),
}

fn footer(state: &AppState, base: &str, account_id: i64) -> (String, String) {
    let url = format!(
        "{base}/unsubscribe/{}",
        unsubscribe_token(&state.signing_key, account_id)
    );
    let text = format!(
        "\n——\n这封邮件由绿桥（长三角生态绿色一体化发展示范区生态环境第三方治理服务平台）自动发送，请勿直接回复。\n\
         更改邮件提醒方式：{base}/account/notifications\n\
         不再接收邮件提醒：{url}\n"
    );
    (text, url)
}

fn describe(base: &str, notification: &Notification) -> String {
    let mut text = format!("{}\n", notification.title);
    if !notification.body.is_empty() {
        text.push_str(&format!("\n{}\n", notification.body));
    }
    if !notification.link.is_empty() {
        text.push_str(&format!("\n查看详情：{base}{}\n", notification.link));
    }
    text
}

/// Sends one notification by e-mail if it is still owed and the account still wants
/// it at once (the work of a `notify.email` job).
pub async fn email_one(state: &AppState, notification_id: i64) -> Result<(), MailFailure> {
    let Some(mailer) = state.mailer.clone() else {
        return Ok(());
    };
    let store_error = |e: StoreError| MailFailure::Retry(format!("database: {e}"));
    let notification = match state.store.notification(notification_id).await {
        Ok(n) => n,
        Err(StoreError::NotFound) => {
            return Err(MailFailure::Permanent(format!(
                "notification {notification_id} does not exist"
            )));
        }
        Err(e) => return Err(store_error(e)),
    };
    if notification.mail_pending == 0 {
        return Ok(());
    }
    // The account may have changed its mind since: daily leaves it to the digest, off
    // has already dropped what was owed.
    let mode = state
        .store
        .email_mode(notification.account_id)
        .await
        .map_err(store_error)?;
    if mode != EmailMode::Immediately {
        return Ok(());
    }
    let account = state
        .store
        .account(notification.account_id)
        .await
        .map_err(store_error)?;
    let Some(to) = email_address(&account.login) else {
        return Ok(());
    };
    let base = mailer.public_url.clone();
    let (footer, unsubscribe) = footer(state, &base, account.id);
    let body = format!(
        "{}，您好：\n\n{}{footer}",
        account.display_name,
        describe(&base, &notification)
    );
    mailer
        .send_with_unsubscribe(
            to,
            &format!("【绿桥】{}", notification.title),
            body,
            Some(&unsubscribe),
        )
        .await
        .map_err(|e| MailFailure::Retry(format!("{e:#}")))?;
    state
        .store
        .mark_notifications_emailed(&[notification.id], state.clock.unix())
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Sends every `daily` account one mail with all it is still owed (the work of the
/// `notify.digest` job). An account whose mail fails is tried again when the job is
/// retried; the others are not sent twice, as what went out is no longer owed.
pub async fn email_digests(state: &AppState) -> Result<usize, MailFailure> {
    let Some(mailer) = state.mailer.clone() else {
        return Ok(0);
    };
    let store_error = |e: StoreError| MailFailure::Retry(format!("database: {e}"));
    let base = mailer.public_url.clone();
    let mut sent = 0;
    let mut failures = Vec::new();
    for account_id in state
        .store
        .accounts_due_digest()
        .await
        .map_err(store_error)?
    {
        let account = state.store.account(account_id).await.map_err(store_error)?;
        let owed = state
            .store
            .pending_mail_of(account_id)
            .await
            .map_err(store_error)?;
        let Some(to) = email_address(&account.login) else {
            continue;
        };
        if owed.is_empty() {
            continue;
        }
        let mut body = format!(
            "{}，您好：\n\n您在绿桥平台有 {} 条新消息：\n",
            account.display_name,
            owed.len()
        );
        for (i, notification) in owed.iter().enumerate() {
            body.push_str(&format!(
                "\n{}. {}（{}）\n",
                i + 1,
                notification.title,
                greenbridge_domain::time::format_unix_zh(notification.created_at)
            ));
            if !notification.body.is_empty() {
                body.push_str(&format!("   {}\n", notification.body));
            }
            if !notification.link.is_empty() {
                body.push_str(&format!("   {base}{}\n", notification.link));
            }
        }
        body.push_str(&format!("\n收件箱：{base}/inbox\n"));
        let (footer, unsubscribe) = footer(state, &base, account.id);
        body.push_str(&footer);
        match mailer
            .send_with_unsubscribe(
                to,
                &format!("【绿桥】每日消息汇总（{} 条）", owed.len()),
                body,
                Some(&unsubscribe),
            )
            .await
        {
            Ok(()) => {
                let ids: Vec<i64> = owed.iter().map(|n| n.id).collect();
                state
                    .store
                    .mark_notifications_emailed(&ids, state.clock.unix())
                    .await
                    .map_err(store_error)?;
                sent += 1;
            }
            Err(error) => failures.push(format!("account {account_id}: {error:#}")),
        }
    }
    if failures.is_empty() {
        Ok(sent)
    } else {
        Err(MailFailure::Retry(failures.join("; ")))
    }
}

/// Payload of a `notify.email` job.
#[derive(Debug, serde::Deserialize)]
pub struct EmailPayload {
    pub notification_id: i64,
}

fn job_error(failure: MailFailure) -> JobError {
    match failure {
        MailFailure::Retry(message) => JobError::Retry(message),
        MailFailure::Permanent(message) => JobError::Permanent(message),
    }
}

/// The `notify.email` handler.
pub async fn email_job(ctx: JobContext, payload: EmailPayload) -> JobResult {
    email_one(&ctx.state, payload.notification_id)
        .await
        .map_err(job_error)
}

/// The `notify.digest` handler (scheduled daily at 08:00 Asia/Shanghai).
pub async fn digest_job(ctx: JobContext) -> JobResult {
    let sent = email_digests(&ctx.state).await.map_err(job_error)?;
    tracing::info!(sent, "daily notification digests sent");
    Ok(())
}

/// The digest's schedule.
pub const DIGEST_SCHEDULE: Schedule = Schedule {
    kind: DIGEST_JOB,
    every: Period::DailyAt { hour: 8, minute: 0 },
};
