//! Notifications: the inbox and its unread count in the header, the e-mail of each
//! notification (immediately or in the daily digest) with its unsubscribe link, and
//! mail that waits out a mail server that is down.
//!
//! Jobs run with the queue's `drain` on the application's state (the test server
//! itself runs no workers).

use crate::flows::{Registration, Visitor, account_id, location, register_ok};
use crate::mail::{Inbox, body_text, smtp_sink, smtp_sink_at};
use crate::support::{TestApp, credit_code, spawn_app, spawn_app_with};
use greenbridge_store::{EmailMode, NewJob};
use greenbridge_web::jobs::{self, platform};
use greenbridge_web::state::AppState;
use reqwest::StatusCode;

pub(crate) const PUBLIC_URL: &str = "https://greenbridge.example.cn";

/// An application that mails through `smtp://127.0.0.1:{port}`.
pub(crate) async fn app_with_mail(port: u16) -> TestApp {
    spawn_app_with(|c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some(PUBLIC_URL.into());
    })
    .await
}

/// The application's own state, to run its jobs with.
pub(crate) fn job_state(app: &TestApp) -> AppState {
    app.state.clone()
}

/// Runs every due job.
pub(crate) async fn run_jobs(state: &AppState) -> usize {
    jobs::drain(state, &platform::registry()).await
}

/// A registered demand enterprise with an e-mail login, logged in.
async fn enterprise(app: &TestApp, login: &str, seq: &str) -> (Visitor, i64) {
    let visitor = Visitor::new(app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code(&format!("91320509MA1NTX{seq}")),
            &format!("吴江通知测试{seq}有限公司"),
            login,
        ),
    )
    .await;
    let id = account_id(app, login).await;
    (visitor, id)
}

async fn notify(app: &TestApp, account: i64, title: &str) -> i64 {
    app.store
        .notify(
            account,
            "test",
            title,
            "消息正文",
            "/account",
            crate::flows::server_now(),
        )
        .await
        .expect("notify")
        .0
}

/// The `收件箱(N)` of the page header.
fn header_count(html: &str) -> i64 {
    let start = html
        .find("收件箱(")
        .unwrap_or_else(|| panic!("no inbox link in the header:\n{html}"))
        + "收件箱(".len();
    let end = start + html[start..].find(')').expect("closing parenthesis");
    html[start..end].parse().expect("a number")
}

/// Headers of a raw message with folded lines joined.
fn headers_of(message: &str) -> String {
    let head = message.split_once("\n\n").map_or(message, |(h, _)| h);
    head.replace("\n ", " ").replace("\n\t", " ")
}

fn unsubscribe_path(message: &str) -> String {
    let text = body_text(message);
    let needle = format!("{PUBLIC_URL}/unsubscribe/");
    let start = text
        .find(&needle)
        .unwrap_or_else(|| panic!("no unsubscribe link in:\n{text}"));
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.trim_start_matches(PUBLIC_URL).to_string()
}

fn messages(inbox: &Inbox) -> Vec<String> {
    inbox.lock().expect("inbox").clone()
}

async fn pending_mail(app: &TestApp, id: i64) -> (i64, Option<i64>) {
    sqlx::query_as("SELECT mail_pending, emailed_at FROM notifications WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .expect("notification row")
}

#[tokio::test]
async fn the_header_counts_unread_notifications_and_reading_them_lowers_it() {
    let app = spawn_app().await;
    let (visitor, me) = enterprise(&app, "header@example.com", "001").await;
    let (_, html) = visitor.get_html("/").await;
    assert_eq!(header_count(&html), 0);

    let first = notify(&app, me, "第一条消息").await;
    let second = notify(&app, me, "第二条消息").await;
    notify(&app, me, "第三条消息").await;
    let (_, html) = visitor.get_html("/services").await;
    assert_eq!(header_count(&html), 3, "every page shows the count");
    assert!(html.contains(r#"href="/inbox""#));

    let (status, html) = visitor.get_html("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    let newest = html.find("第三条消息").expect("third listed");
    let oldest = html.find("第一条消息").expect("first listed");
    assert!(newest < oldest, "newest first:\n{html}");

    // Opening a notification marks it read.
    let (status, html) = visitor.get_html(&format!("/inbox/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("第一条消息") && html.contains("消息正文"));
    assert_eq!(header_count(&html), 2);

    // The button marks one read.
    let response = visitor
        .post_form(&format!("/inbox/{second}/read"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/inbox"));
    let (_, html) = visitor.get_html("/inbox").await;
    assert_eq!(header_count(&html), 1);

    let response = visitor.post_form("/inbox/read-all", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = visitor.get_html("/").await;
    assert_eq!(header_count(&html), 0);
    assert_eq!(app.store.unread_count(me).await.unwrap(), 0);

    // Visitors without an account see no inbox.
    let (_, html) = Visitor::new(&app).get_html("/").await;
    assert!(!html.contains("收件箱("));
    let response = Visitor::new(&app).get("/inbox").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}

#[tokio::test]
async fn the_inbox_pages_twenty_at_a_time() {
    let app = spawn_app().await;
    let (visitor, me) = enterprise(&app, "pages@example.com", "002").await;
    for i in 1..=25 {
        notify(&app, me, &format!("分页消息{i:02}")).await;
    }
    let (_, html) = visitor.get_html("/inbox").await;
    assert!(html.contains("分页消息25") && html.contains("分页消息06"));
    assert!(!html.contains("分页消息05"), "page 1 holds 20");
    assert!(html.contains("第 1 / 2 页"));
    let (_, html) = visitor.get_html("/inbox?page=2").await;
    assert!(html.contains("分页消息05") && html.contains("分页消息01"));
    assert!(!html.contains("分页消息06"));
}

#[tokio::test]
async fn another_accounts_notification_answers_404() {
    let app = spawn_app().await;
    let (_, owner) = enterprise(&app, "owner@example.com", "003").await;
    let (other, _) = enterprise(&app, "other@example.com", "004").await;
    let id = notify(&app, owner, "只给本人看的消息").await;

    assert_eq!(
        other.get(&format!("/inbox/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = other.post_form(&format!("/inbox/{id}/read"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (_, html) = other.get_html("/inbox").await;
    assert!(!html.contains("只给本人看的消息"));
    assert_eq!(app.store.unread_count(owner).await.unwrap(), 1);
}

#[tokio::test]
async fn an_immediate_mail_arrives_with_an_unsubscribe_link_that_turns_mail_off() {
    let (port, inbox) = smtp_sink().await;
    let app = app_with_mail(port).await;
    let state = job_state(&app);
    let (visitor, me) = enterprise(&app, "mail.me@example.com", "005").await;
    assert_eq!(
        app.store.email_mode(me).await.unwrap(),
        EmailMode::Immediately,
        "e-mail logins get mail at once by default"
    );

    let id = greenbridge_web::notify::send(
        &state,
        me,
        "test",
        "审核结果通知",
        "理由：材料齐全",
        "/account",
    )
    .await
    .unwrap();
    assert!(run_jobs(&state).await >= 1);
    let sent = messages(&inbox);
    assert_eq!(sent.len(), 1, "one mail");
    let headers = headers_of(&sent[0]).to_ascii_lowercase();
    assert!(headers.contains("to: mail.me@example.com"), "{headers}");
    assert!(
        headers.contains(&format!("list-unsubscribe: <{PUBLIC_URL}/unsubscribe/")),
        "{headers}"
    );
    assert!(
        headers.contains("list-unsubscribe-post: list-unsubscribe=one-click"),
        "{headers}"
    );
    let text = body_text(&sent[0]);
    assert!(
        text.contains("审核结果通知") && text.contains("理由：材料齐全"),
        "{text}"
    );
    assert!(text.contains(&format!("{PUBLIC_URL}/account")), "{text}");
    assert!(
        pending_mail(&app, id).await.1.is_some(),
        "emailed_at is set"
    );

    // A tampered token is refused.
    let path = unsubscribe_path(&sent[0]);
    let tampered = format!("{}x", path);
    let stranger = Visitor::new(&app);
    assert_eq!(
        stranger.get(&tampered).await.status(),
        StatusCode::NOT_FOUND
    );

    // Following the link needs no login; the page asks to confirm, the button unsubscribes.
    let (status, html) = stranger.get_html(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("确认退订"), "{html}");
    assert_eq!(
        app.store.email_mode(me).await.unwrap(),
        EmailMode::Immediately
    );
    let response = stranger.post_form(&path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("已退订邮件提醒"));
    assert_eq!(app.store.email_mode(me).await.unwrap(), EmailMode::Off);

    // Nothing is mailed any more; the inbox still gets it.
    greenbridge_web::notify::send(&state, me, "test", "退订后的消息", "", "")
        .await
        .unwrap();
    run_jobs(&state).await;
    assert_eq!(messages(&inbox).len(), 1, "mail after unsubscribing");
    let (_, html) = visitor.get_html("/inbox").await;
    assert!(html.contains("退订后的消息"));
    let (_, html) = visitor.get_html("/account/notifications").await;
    assert!(
        html.contains(r#"id="mode-off" name="email_mode" value="off" checked"#),
        "{html}"
    );

    // RFC 8058: a mail program's one-click POST, without cookies or a CSRF token.
    app.store
        .set_email_mode(me, EmailMode::Immediately, crate::flows::server_now())
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(app.url(&path))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.store.email_mode(me).await.unwrap(), EmailMode::Off);
}

#[tokio::test]
async fn the_daily_digest_sends_one_mail_with_every_owed_notification() {
    let (port, inbox) = smtp_sink().await;
    let app = app_with_mail(port).await;
    let state = job_state(&app);
    let (visitor, me) = enterprise(&app, "digest@example.com", "006").await;

    let response = visitor
        .post_form("/account/notifications", &[("email_mode", "daily")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.store.email_mode(me).await.unwrap(), EmailMode::Daily);

    for title in ["汇总消息甲", "汇总消息乙", "汇总消息丙"] {
        greenbridge_web::notify::send(&state, me, "test", title, "", "/inbox")
            .await
            .unwrap();
    }
    run_jobs(&state).await;
    assert!(
        messages(&inbox).is_empty(),
        "daily mode mails nothing at once"
    );

    // The scheduler enqueues the digest at 08:00; here it is enqueued by hand.
    assert!(
        platform::schedules()
            .iter()
            .any(|s| s.kind == "notify.digest"
                && s.every == jobs::Period::DailyAt { hour: 8, minute: 0 }),
        "the digest is scheduled daily at 08:00"
    );
    let now = crate::flows::server_now();
    app.store
        .enqueue_job(&NewJob::new("notify.digest", serde_json::json!({}), now))
        .await
        .unwrap();
    run_jobs(&state).await;
    let sent = messages(&inbox);
    assert_eq!(sent.len(), 1, "one digest mail");
    let text = body_text(&sent[0]);
    for title in ["汇总消息甲", "汇总消息乙", "汇总消息丙"] {
        assert!(text.contains(title), "{title} missing from:\n{text}");
    }
    assert!(text.contains("/unsubscribe/"), "{text}");
    assert!(
        headers_of(&sent[0])
            .to_ascii_lowercase()
            .contains("list-unsubscribe:")
    );

    // The next digest has nothing left to send.
    app.store
        .enqueue_job(&NewJob::new("notify.digest", serde_json::json!({}), now + 1).unique("again"))
        .await
        .unwrap();
    run_jobs(&state).await;
    assert_eq!(messages(&inbox).len(), 1);
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_the_mail_and_loses_none() {
    // A port with nobody listening: the mail server is down.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = app_with_mail(port).await;
    let state = job_state(&app);
    let (_, me) = enterprise(&app, "down@example.com", "007").await;

    let id = greenbridge_web::notify::send(&state, me, "test", "服务器故障期间的消息", "", "")
        .await
        .unwrap();
    run_jobs(&state).await;
    let (status, attempts, last_error): (String, i64, Option<String>) =
        sqlx::query_as("SELECT status, attempts, last_error FROM jobs WHERE kind = 'notify.email'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(status, "queued", "the job waits for a retry");
    assert_eq!(attempts, 1);
    assert!(last_error.is_some_and(|e| !e.is_empty()));
    assert_eq!(pending_mail(&app, id).await, (1, None), "still owed");
    assert_eq!(run_jobs(&state).await, 0, "the retry waits for its backoff");

    // The server comes back; the retry's time comes.
    let inbox = smtp_sink_at(port).await;
    sqlx::query("UPDATE jobs SET run_after = 0 WHERE kind = 'notify.email'")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(run_jobs(&state).await, 1);
    let sent = messages(&inbox);
    assert_eq!(sent.len(), 1, "the mail arrives once the server is up");
    assert!(body_text(&sent[0]).contains("服务器故障期间的消息"));
    let status: String = sqlx::query_scalar("SELECT status FROM jobs WHERE kind = 'notify.email'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "done");
    let (pending, emailed) = pending_mail(&app, id).await;
    assert_eq!(pending, 0);
    assert!(emailed.is_some());
}

#[tokio::test]
async fn a_mobile_login_has_no_mail_and_cannot_choose_it() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    register_ok(
        &visitor,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1NT0008"),
            "吴江手机号测试有限公司",
            "13912345678",
        ),
    )
    .await;
    let me = account_id(&app, "13912345678").await;
    assert_eq!(app.store.email_mode(me).await.unwrap(), EmailMode::Off);
    let (status, html) = visitor.get_html("/account/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("没有邮箱地址"), "{html}");
    let response = visitor
        .post_form("/account/notifications", &[("email_mode", "immediately")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.email_mode(me).await.unwrap(), EmailMode::Off);
}

#[tokio::test]
async fn a_mail_whose_job_was_never_queued_is_sent_by_the_sweep() {
    let (port, inbox) = smtp_sink().await;
    let app = app_with_mail(port).await;
    let state = job_state(&app);
    let (_visitor, me) = enterprise(&app, "swept@example.com", "009").await;
    // The process stopped between writing the notification and queueing its mail:
    // `Store::notify` alone is exactly that state.
    let id = notify(&app, me, "停机前写下的通知").await;
    sqlx::query("UPDATE notifications SET created_at = created_at - 600 WHERE id = $1")
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    run_jobs(&state).await;
    assert!(messages(&inbox).is_empty(), "nothing queued it yet");
    let now = crate::flows::server_now();
    app.store
        .enqueue_job(&NewJob::new(
            greenbridge_web::notify::SWEEP_JOB,
            serde_json::json!({}),
            now,
        ))
        .await
        .unwrap();
    run_jobs(&state).await;
    let sent = messages(&inbox);
    assert_eq!(sent.len(), 1, "the sweep queued the owed mail");
    assert!(body_text(&sent[0]).contains("停机前写下的通知"));
    // A second sweep queues nothing more.
    app.store
        .enqueue_job(&NewJob::new(
            greenbridge_web::notify::SWEEP_JOB,
            serde_json::json!({}),
            now + 1,
        ))
        .await
        .unwrap();
    run_jobs(&state).await;
    assert_eq!(messages(&inbox).len(), 1);
}
