//! The site inbox (`/inbox`), the e-mail preference (`/account/notifications`) and the
//! unsubscribe link of every notification mail (`/unsubscribe/{token}`, no login).
//! Another account's notification answers 404.

use crate::context::{Authenticated, Ctx};
use crate::error::{AppError, AppResult};
use crate::notify;
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::time::format_unix_zh;
use greenbridge_store::{EmailMode, Notification};
use serde::Deserialize;

const PAGE_SIZE: i64 = 20;

pub struct InboxRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: String,
    pub created: String,
    pub unread: bool,
}

impl From<Notification> for InboxRow {
    fn from(n: Notification) -> Self {
        InboxRow {
            unread: !n.is_read(),
            id: n.id,
            title: n.title,
            body: n.body,
            link: n.link,
            created: format_unix_zh(n.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    page: Page,
    rows: Vec<InboxRow>,
    unread: i64,
    total: i64,
    page_no: i64,
    pages: i64,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    done: Option<String>,
}

/// `/inbox`: the viewer's notifications, newest first, 20 a page.
pub async fn index(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<InboxQuery>,
) -> AppResult<Html<String>> {
    let account_id = auth.0.account.id;
    let total = state.store.count_notifications(account_id).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page_no = query.page.unwrap_or(1).clamp(1, pages);
    let rows = state
        .store
        .notifications_of(account_id, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)
        .await?
        .into_iter()
        .map(InboxRow::from)
        .collect();
    let notice = match query.done.as_deref() {
        Some("read") => Some("已标为已读。"),
        Some("all") => Some("全部消息已标为已读。"),
        _ => None,
    };
    let page = Page::new(&state, &auth.1, "收件箱").await;
    let unread = page.viewer.as_ref().map_or(0, |v| v.unread);
    Ok(Html(
        InboxPage {
            page,
            rows,
            unread,
            total,
            page_no,
            pages,
            notice,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationPage {
    page: Page,
    row: InboxRow,
}

/// `/inbox/{id}`: one notification; opening it marks it read.
pub async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let account_id = auth.0.account.id;
    let notification = state.store.notification_of(account_id, id).await?;
    if !notification.is_read() {
        state
            .store
            .mark_notification_read(account_id, id, state.clock.unix())
            .await?;
    }
    // The header's count is taken after marking, so it already leaves this one out.
    let page = Page::new(&state, &auth.1, notification.title.clone()).await;
    let mut row = InboxRow::from(notification);
    row.unread = false;
    Ok(Html(NotificationPage { page, row }.render()?))
}

/// `POST /inbox/{id}/read`.
pub async fn mark_read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    state
        .store
        .mark_notification_read(auth.0.account.id, id, state.clock.unix())
        .await?;
    Ok(Redirect::to("/inbox?done=read").into_response())
}

/// `POST /inbox/read-all`.
pub async fn mark_all_read(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Response> {
    state
        .store
        .mark_all_notifications_read(auth.0.account.id, state.clock.unix())
        .await?;
    Ok(Redirect::to("/inbox?done=all").into_response())
}

pub struct ModeOption {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "notification_settings.html")]
struct SettingsPage {
    page: Page,
    options: Vec<ModeOption>,
    address: Option<String>,
    mail_configured: bool,
    notice: Option<&'static str>,
}

async fn settings_page(
    state: &AppState,
    auth: &Authenticated,
    notice: Option<&'static str>,
) -> AppResult<String> {
    let account = &auth.0.account;
    let mode = state.store.email_mode(account.id).await?;
    let address = notify::email_address(&account.login).map(str::to_string);
    let options = EmailMode::ALL
        .into_iter()
        .map(|m| ModeOption {
            value: m.as_str(),
            label: m.label_zh(),
            checked: m == mode,
            disabled: address.is_none() && m != EmailMode::Off,
        })
        .collect();
    let page = Page::new(state, &auth.1, "消息提醒设置").await;
    Ok(SettingsPage {
        page,
        options,
        address,
        mail_configured: state.mailer.is_some(),
        notice,
    }
    .render()?)
}

/// `/account/notifications`: how the viewer's notifications are e-mailed.
pub async fn settings(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    Ok(Html(settings_page(&state, &auth, None).await?))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    email_mode: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<SettingsForm>,
) -> AppResult<Html<String>> {
    let account = &auth.0.account;
    let mode = EmailMode::parse(&form.email_mode)
        .ok_or_else(|| AppError::bad_request("email_mode", "请选择一种提醒方式"))?;
    if mode != EmailMode::Off && notify::email_address(&account.login).is_none() {
        return Err(AppError::bad_request(
            "email_mode",
            "您的账号用手机号码登录，没有邮箱地址，只能在站内收件箱查看消息。",
        ));
    }
    state
        .store
        .set_email_mode(account.id, mode, state.clock.unix())
        .await?;
    Ok(Html(settings_page(&state, &auth, Some("已保存。")).await?))
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    page: Page,
    token: String,
    done: bool,
}

/// `GET /unsubscribe/{token}`: asks to confirm with one button, so that a mail
/// scanner following the link does not unsubscribe anyone.
pub async fn unsubscribe_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    notify::verify_unsubscribe_token(&state.signing_key, &token).ok_or(AppError::NotFound)?;
    let page = Page::new(&state, &ctx, "退订邮件提醒").await;
    Ok(Html(
        UnsubscribePage {
            page,
            token,
            done: false,
        }
        .render()?,
    ))
}

/// `POST /unsubscribe/{token}`: turns the account's e-mail off. Also the RFC 8058
/// one-click target, which is why the CSRF check lets this path through (the signed
/// token in the path is the credential, and the only effect is less mail).
pub async fn unsubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let account_id =
        notify::verify_unsubscribe_token(&state.signing_key, &token).ok_or(AppError::NotFound)?;
    state
        .store
        .set_email_mode(account_id, EmailMode::Off, state.clock.unix())
        .await?;
    let page = Page::new(&state, &ctx, "已退订邮件提醒").await;
    Ok(Html(
        UnsubscribePage {
            page,
            token,
            done: true,
        }
        .render()?,
    ))
}
