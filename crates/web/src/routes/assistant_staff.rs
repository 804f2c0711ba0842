//! 智能问答, the people side: the queue of questions for association staff and experts
//! (unanswered, marked unhelpful, put to an expert), answering and publishing into
//! the base; the FAQ editor of associations and admins; the expert panel (profiles,
//! an enterprise asking an expert or a field's panel, its own questions).
//!
//! Rights: answering and publishing need [`Permission::AnswerRoutedQuestions`]
//! (reviewers and experts); adding and editing entries [`Permission::ManageFaq`]
//! (reviewers and admins); asking an expert [`Permission::ManageOwnOrganisation`]
//! (a registered organisation). Every change to the base is in the audit log.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use greenbridge_domain::module::Module;
use greenbridge_domain::role::{Permission, Role};
use greenbridge_qa::{CATEGORIES, REGIONS};
use greenbridge_store::faq::{ExpertProfile, FaqEntry, FaqInput, NewTicket, QaStats, Ticket};
use greenbridge_store::{Outcome, StoreError};
use serde::Deserialize;

use super::assistant::FEEDBACK_REASONS;
use super::services::ensure_enabled;
use crate::audit::{self, Actor};
use crate::context::Authenticated;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;

const ANSWER_MAX: usize = 10_000;
const QUESTION_MAX: usize = 500;

/// A ticket with what the queue shows beside it.
pub struct TicketView {
    pub t: Ticket,
    pub kind_label: &'static str,
    pub reason_label: &'static str,
    pub status_label: &'static str,
    pub entry_question: Option<String>,
    /// Whether publishing is allowed (expert questions need the asker's consent).
    pub publishable: bool,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "unanswered" => "未能回答的提问",
        "unhelpful" => "被标记没帮助的回答",
        "expert" => "向专家提问",
        _ => "其他",
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "待答复",
        "answered" => "已答复",
        "published" => "已发布到问答库",
        "closed" => "已关闭",
        _ => "未知",
    }
}

async fn ticket_view(state: &AppState, t: Ticket) -> AppResult<TicketView> {
    let entry_question = match t.entry_id {
        Some(id) => Some(state.store.faq_entry(id).await?.question),
        None => None,
    };
    Ok(TicketView {
        kind_label: kind_label(&t.kind),
        reason_label: t
            .feedback_reason
            .as_deref()
            .and_then(|r| FEEDBACK_REASONS.iter().find(|(v, _)| *v == r))
            .map_or("", |(_, l)| l),
        status_label: status_label(&t.status),
        publishable: t.kind != "expert" || t.consent == 1,
        entry_question,
        t,
    })
}

#[derive(Template)]
#[template(path = "assistant_queue.html")]
struct QueuePage {
    page: Page,
    open: Vec<TicketView>,
    answered: Vec<TicketView>,
    stats: QaStats,
    unanswered_percent: String,
    /// Whether the viewer may file a question under an entry (edits the base).
    can_manage_faq: bool,
    categories: &'static [&'static str],
    regions: &'static [&'static str],
}

/// The queue: open tickets to answer and answered ones to publish.
pub async fn queue(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::AnswerRoutedQuestions)?.clone();
    let expert_field = if viewer.role() == Role::Expert {
        state
            .store
            .expert_profile(viewer.account.id)
            .await?
            .map(|p| p.field)
    } else {
        None
    };
    let mut open = Vec::new();
    let mut answered = Vec::new();
    let visible = |t: &Ticket| {
        // Expert questions go to the expert named or the field's panel; staff see all.
        t.kind != "expert"
            || viewer.role() == Role::Reviewer
            || t.expert_account_id == Some(viewer.account.id)
            || (t.expert_account_id.is_none() && t.field.is_some() && t.field == expert_field)
    };
    for t in state.store.tickets(Some("open"), 200).await? {
        if visible(&t) {
            open.push(ticket_view(&state, t).await?);
        }
    }
    for t in state.store.tickets(Some("answered"), 200).await? {
        if visible(&t) {
            answered.push(ticket_view(&state, t).await?);
        }
    }
    let stats = state.store.qa_stats().await?;
    let unanswered_percent = if stats.asked > 0 {
        format!(
            "{:.1}",
            100.0 * stats.unanswered as f64 / stats.asked as f64
        )
    } else {
        "0".into()
    };
    let page = Page::new(&state, &auth.1, "问答待办").await;
    Ok(Html(
        QueuePage {
            page,
            open,
            answered,
            stats,
            unanswered_percent,
            can_manage_faq: viewer.role().can(Permission::ManageFaq),
            categories: &CATEGORIES,
            regions: &REGIONS,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    answer: String,
}

/// Answers an open ticket; the asker of an expert question is notified.
pub async fn answer_ticket(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::AnswerRoutedQuestions)?.clone();
    let ticket = state.store.ticket(id).await?;
    if ticket.kind == "expert"
        && viewer.role() == Role::Expert
        && ticket
            .expert_account_id
            .is_some_and(|e| e != viewer.account.id)
    {
        return Err(AppError::NotFound);
    }
    let answer = form.answer.trim();
    if answer.is_empty() {
        return Err(AppError::bad_request("answer", "请填写答复"));
    }
    let answer: String = answer.chars().take(ANSWER_MAX).collect();
    state
        .store
        .answer_ticket(id, &answer, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.ticket.answer",
        &format!("qa_ticket:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    if let Some(asker) = ticket.asker_account_id {
        crate::notify::send(
            &state,
            asker,
            "qa.answered",
            "您的问题有了答复",
            &format!(
                "问题：{}",
                ticket.question.chars().take(100).collect::<String>()
            ),
            "/assistant/mine",
        )
        .await?;
    }
    Ok(Redirect::to("/assistant/queue").into_response())
}

/// Closes an open ticket without an answer.
pub async fn close_ticket(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::AnswerRoutedQuestions)?.clone();
    state
        .store
        .close_ticket(id, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.ticket.close",
        &format!("qa_ticket:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/assistant/queue").into_response())
}

#[derive(Deserialize)]
pub struct SimilarForm {
    /// The entry number as typed.
    entry_id: String,
}

/// Files an open question under an existing entry as one of its similar
/// questions (the base answers it, asked in other words) and closes it: the
/// next time it is asked, the entry answers.
pub async fn ticket_into_similar(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<SimilarForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::AnswerRoutedQuestions)?.clone();
    auth.require(Permission::ManageFaq)?;
    let ticket = state.store.ticket(id).await?;
    if ticket.status != "open" || ticket.kind == "expert" {
        return Err(AppError::bad_request(
            "status",
            "只有待答复的智能问答提问可以归入已有条目",
        ));
    }
    if ticket.question.trim().is_empty() {
        return Err(AppError::bad_request(
            "question",
            "这条提问没有文字，不能作为相似问法",
        ));
    }
    if ticket.question.trim().chars().count() > SIMILAR_MAX {
        return Err(AppError::bad_request(
            "question",
            "提问超过 200 字，不宜作为相似问法，请答复后发布",
        ));
    }
    let entry_id: i64 = form
        .entry_id
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| AppError::bad_request("entry_id", "请填写条目编号（数字）"))?;
    state
        .store
        .ticket_into_similar(id, entry_id, viewer.account.id, state.clock.unix())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::bad_request("entry_id", "没有这个编号的条目"),
            other => other.into(),
        })?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.faq.similar_add",
        &format!("faq_entry:{entry_id}"),
        Outcome::Success,
        &format!("from qa_ticket:{id}"),
    )
    .await?;
    Ok(Redirect::to("/assistant/queue").into_response())
}

/// The fields of an entry from a form, checked.
#[derive(Deserialize)]
pub struct EntryForm {
    question: String,
    #[serde(default)]
    answer: String,
    category: String,
    #[serde(default)]
    subcategory: String,
    region: String,
    #[serde(default)]
    keywords: String,
    /// 相似问法, one per line.
    #[serde(default)]
    similar_questions: String,
    #[serde(default)]
    references: String,
}

/// The longest similar question an entry keeps.
const SIMILAR_MAX: usize = 200;

/// The similar questions typed one per line: trimmed, without blanks and repeats.
fn similar_lines(text: &str) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > SIMILAR_MAX {
            return Err(AppError::bad_request(
                "similar_questions",
                "相似问法每行最多 200 字",
            ));
        }
        if !out.iter().any(|o| o == line) {
            out.push(line.to_string());
        }
    }
    if out.len() > 50 {
        return Err(AppError::bad_request(
            "similar_questions",
            "相似问法最多 50 条",
        ));
    }
    Ok(out)
}

fn split_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in text.split(['\n', '、', ',', '，', ';', '；']) {
        let item = item.trim();
        if !item.is_empty() && item.chars().count() <= 200 && !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out.truncate(50);
    out
}

impl EntryForm {
    fn input(&self, answer_override: Option<&str>, origin: &str) -> Result<FaqInput, AppError> {
        let question = self.question.trim();
        if question.is_empty() || question.chars().count() > QUESTION_MAX {
            return Err(AppError::bad_request("question", "问题须为 1–500 字"));
        }
        let answer = answer_override.unwrap_or(&self.answer).trim();
        if answer.is_empty() || answer.chars().count() > ANSWER_MAX {
            return Err(AppError::bad_request("answer", "答案须为 1–10000 字"));
        }
        if !CATEGORIES.contains(&self.category.as_str()) {
            return Err(AppError::bad_request("category", "请选择分类"));
        }
        if !REGIONS.contains(&self.region.as_str()) {
            return Err(AppError::bad_request("region", "请选择适用地区"));
        }
        Ok(FaqInput {
            source_id: None,
            question: question.to_string(),
            answer: answer.to_string(),
            category: self.category.clone(),
            subcategory: self.subcategory.trim().chars().take(100).collect(),
            region: self.region.clone(),
            keywords: split_list(&self.keywords),
            similar_questions: similar_lines(&self.similar_questions)?,
            references: split_list(&self.references),
            origin: origin.to_string(),
            sample: false,
        })
    }
}

/// Publishes an answered ticket into the base (then matched like any entry).
pub async fn publish_ticket(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<EntryForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::AnswerRoutedQuestions)?.clone();
    let ticket = state.store.ticket(id).await?;
    if ticket.status != "answered" {
        return Err(AppError::bad_request("status", "只能发布已答复的问题"));
    }
    if ticket.kind == "expert" && ticket.consent != 1 {
        return Err(AppError::bad_request(
            "consent",
            "提问人未同意公开，这条问答不能发布到问答库",
        ));
    }
    let origin = if ticket.kind == "expert" {
        "expert"
    } else {
        "queue"
    };
    let input = form.input(Some(&ticket.answer), origin)?;
    let entry = state
        .store
        .publish_ticket(id, &input, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.faq.publish",
        &format!("faq_entry:{entry}"),
        Outcome::Success,
        &format!("from qa_ticket:{id}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/assistant/entries/{entry}")).into_response())
}

#[derive(Template)]
#[template(path = "assistant_manage.html")]
struct ManagePage {
    page: Page,
    entries: Vec<FaqEntry>,
    categories: &'static [&'static str],
    regions: &'static [&'static str],
}

/// The FAQ editor: every entry, and a form for a new one.
pub async fn manage(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    auth.require(Permission::ManageFaq)?;
    let entries = state.store.faq_all().await?;
    let page = Page::new(&state, &auth.1, "问答库管理").await;
    Ok(Html(
        ManagePage {
            page,
            entries,
            categories: &CATEGORIES,
            regions: &REGIONS,
        }
        .render()?,
    ))
}

pub async fn create_entry(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<EntryForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::ManageFaq)?.clone();
    let input = form.input(None, "staff")?;
    let id = state
        .store
        .insert_faq(&input, Some(viewer.account.id), state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.faq.create",
        &format!("faq_entry:{id}"),
        Outcome::Success,
        &input.question,
    )
    .await?;
    Ok(Redirect::to(&format!("/assistant/entries/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "assistant_entry_form.html")]
struct EntryFormPage {
    page: Page,
    entry: FaqEntry,
    categories: &'static [&'static str],
    regions: &'static [&'static str],
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    auth.require(Permission::ManageFaq)?;
    let entry = state.store.faq_entry(id).await?;
    let page = Page::new(&state, &auth.1, "编辑问答").await;
    Ok(Html(
        EntryFormPage {
            page,
            entry,
            categories: &CATEGORIES,
            regions: &REGIONS,
        }
        .render()?,
    ))
}

pub async fn update_entry(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<EntryForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::ManageFaq)?.clone();
    let existing = state.store.faq_entry(id).await?;
    let mut input = form.input(None, &existing.origin)?;
    input.source_id = existing.source_id.clone();
    input.sample = existing.sample;
    state
        .store
        .update_faq(id, &input, Some(viewer.account.id), state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "qa.faq.update",
        &format!("faq_entry:{id}"),
        Outcome::Success,
        &input.question,
    )
    .await?;
    Ok(Redirect::to(&format!("/assistant/entries/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    published: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::ManageFaq)?.clone();
    let published = form.published == "1";
    state
        .store
        .set_faq_status(id, published, viewer.account.id, state.clock.unix())
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        if published {
            "qa.faq.publish"
        } else {
            "qa.faq.hide"
        },
        &format!("faq_entry:{id}"),
        Outcome::Success,
        "",
    )
    .await?;
    Ok(Redirect::to("/assistant/manage").into_response())
}

#[derive(Template)]
#[template(path = "assistant_experts.html")]
struct ExpertsPage {
    page: Page,
    experts: Vec<ExpertProfile>,
    fields: Vec<&'static str>,
    can_ask: bool,
    logged_in: bool,
    sent: bool,
}

#[derive(Deserialize, Default)]
pub struct ExpertsQuery {
    #[serde(default)]
    sent: String,
}

/// The expert panel and, for registered organisations, the form to ask.
pub async fn experts(
    State(state): State<AppState>,
    ctx: crate::context::Ctx,
    axum::extract::Query(query): axum::extract::Query<ExpertsQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let experts = state.store.expert_profiles().await?;
    let can_ask = ctx
        .viewer
        .as_ref()
        .is_some_and(|v| v.can(Permission::ManageOwnOrganisation));
    let logged_in = ctx.viewer.is_some();
    let page = Page::new(&state, &ctx, "专家咨询").await;
    Ok(Html(
        ExpertsPage {
            page,
            experts,
            fields: CATEGORIES.to_vec(),
            can_ask,
            logged_in,
            sent: query.sent == "1",
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct AskExpertForm {
    /// `expert:ID` or `field:分类`.
    to: String,
    question: String,
    #[serde(default)]
    consent: Option<String>,
}

pub async fn ask_expert(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<AskExpertForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let viewer = auth.require(Permission::ManageOwnOrganisation)?.clone();
    let question = form.question.trim();
    if question.is_empty() || question.chars().count() > 2000 {
        return Err(AppError::bad_request("question", "问题须为 1–2000 字"));
    }
    let (expert, field) = if let Some(id) = form.to.strip_prefix("expert:") {
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::bad_request("to", "请选择专家或领域"))?;
        let profile = state
            .store
            .expert_profile(id)
            .await?
            .filter(|p| p.active == 1)
            .ok_or_else(|| AppError::bad_request("to", "没有这位专家"))?;
        (Some(profile.account_id), Some(profile.field))
    } else if let Some(field) = form.to.strip_prefix("field:")
        && CATEGORIES.contains(&field)
    {
        (None, Some(field.to_string()))
    } else {
        return Err(AppError::bad_request("to", "请选择专家或领域"));
    };
    let id = state
        .store
        .open_ticket(
            &NewTicket {
                kind: "expert",
                question,
                category: field.as_deref(),
                asker_account_id: Some(viewer.account.id),
                expert_account_id: expert,
                field: field.as_deref(),
                consent: form.consent.as_deref() == Some("1"),
                ..NewTicket::default()
            },
            state.clock.unix(),
        )
        .await?;
    if let Some(expert) = expert {
        crate::notify::send(
            &state,
            expert,
            "qa.expert_question",
            "有企业向您提问",
            &question.chars().take(100).collect::<String>(),
            "/assistant/queue",
        )
        .await?;
    }
    let _ = id;
    Ok(Redirect::to("/assistant/experts?sent=1").into_response())
}

#[derive(Template)]
#[template(path = "assistant_mine.html")]
struct MinePage {
    page: Page,
    tickets: Vec<TicketView>,
}

/// The questions the viewer asked the experts, with the answers.
pub async fn mine(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let mut tickets = Vec::new();
    for t in state.store.tickets_of_asker(auth.0.account.id).await? {
        if t.kind == "expert" {
            tickets.push(ticket_view(&state, t).await?);
        }
    }
    let page = Page::new(&state, &auth.1, "我的咨询").await;
    Ok(Html(MinePage { page, tickets }.render()?))
}

#[derive(Template)]
#[template(path = "assistant_expert_profile.html")]
struct ProfilePage {
    page: Page,
    profile: Option<ExpertProfile>,
    fields: &'static [&'static str],
}

fn require_expert(auth: &Authenticated) -> AppResult<()> {
    if auth.0.role() == Role::Expert {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn profile_form(
    State(state): State<AppState>,
    auth: Authenticated,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    require_expert(&auth)?;
    let profile = state.store.expert_profile(auth.0.account.id).await?;
    let page = Page::new(&state, &auth.1, "专家资料").await;
    Ok(Html(
        ProfilePage {
            page,
            profile,
            fields: &CATEGORIES,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    field: String,
    organisation: String,
    title: String,
    #[serde(default)]
    bio: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    require_expert(&auth)?;
    if !CATEGORIES.contains(&form.field.as_str()) {
        return Err(AppError::bad_request("field", "请选择专业领域"));
    }
    let organisation = form.organisation.trim();
    let title = form.title.trim();
    if organisation.is_empty() || organisation.chars().count() > 100 {
        return Err(AppError::bad_request(
            "organisation",
            "请填写所在单位（最多 100 字）",
        ));
    }
    if title.is_empty() || title.chars().count() > 50 {
        return Err(AppError::bad_request("title", "请填写职称（最多 50 字）"));
    }
    let bio: String = form.bio.trim().chars().take(1000).collect();
    state
        .store
        .upsert_expert_profile(
            auth.0.account.id,
            &form.field,
            organisation,
            title,
            &bio,
            state.clock.unix(),
        )
        .await?;
    Ok(Redirect::to("/assistant/experts").into_response())
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/assistant/queue", get(queue))
        .route("/assistant/queue/{id}/answer", post(answer_ticket))
        .route("/assistant/queue/{id}/close", post(close_ticket))
        .route("/assistant/queue/{id}/publish", post(publish_ticket))
        .route("/assistant/queue/{id}/similar", post(ticket_into_similar))
        .route("/assistant/manage", get(manage).post(create_entry))
        .route("/assistant/manage/{id}", get(edit_form).post(update_entry))
        .route("/assistant/manage/{id}/status", post(set_status))
        .route("/assistant/experts", get(experts))
        .route("/assistant/experts/ask", post(ask_expert))
        .route("/assistant/mine", get(mine))
        .route(
            "/assistant/expert-profile",
            get(profile_form).post(save_profile),
        )
}
