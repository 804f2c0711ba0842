//! 智能问答, the public side: the question page (a plain GET form; a little script
//! turns it into a conversation), `GET /api/v1/qa/ask`, each entry's source page,
//! feedback (有帮助 / 没帮助), the 办事流程 guides and the 活动 list.
//!
//! Every question asked is recorded (hit counts, the share without an answer); a
//! question without a confident answer and an answer marked unhelpful open a ticket
//! in the queue of association staff and experts (see `assistant_staff`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use greenbridge_domain::module::Module;
use greenbridge_qa::{CATEGORIES, Engine, Entry, Filters};
use greenbridge_store::faq::{Event, NewTicket, Procedure};
use serde::Deserialize;
use serde_json::{Value, json};

use super::services::ensure_enabled;
use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::page::Page;
use crate::state::AppState;

/// The longest question the page and the API take; longer input is cut (the engine
/// reads the first 500 characters anyway) and the page says so.
pub const QUESTION_MAX_CHARS: usize = 5000;

/// The labels of the feedback reasons, by their stored value.
pub const FEEDBACK_REASONS: [(&str, &str); 4] = [
    ("inaccurate", "不准确"),
    ("outdated", "过时"),
    ("off_topic", "答非所问"),
    ("other", "其他"),
];

/// The question, region and category of a request, checked.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub q: String,
    /// The question was longer than the engine reads.
    pub truncated: bool,
    pub region: Option<String>,
    pub allowed_regions: Option<Vec<String>>,
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct AskQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub category: String,
}

impl AskQuery {
    /// Checks the parameters; errors name the field.
    pub fn parse(&self) -> Result<Ask, AppError> {
        let trimmed = self.q.trim();
        let q: String = trimmed.chars().take(QUESTION_MAX_CHARS).collect();
        let truncated = trimmed.chars().count() > greenbridge_qa::MAX_QUESTION_CHARS;
        let region = self.region.trim();
        let (region, allowed_regions) = if region.is_empty() {
            (None, None)
        } else {
            let allowed = greenbridge_qa::allowed_regions(region)
                .ok_or_else(|| AppError::bad_request("region", "未知的地区代码"))?;
            (
                Some(region.to_string()),
                Some(allowed.into_iter().map(String::from).collect()),
            )
        };
        let category = self.category.trim();
        let category = if category.is_empty() {
            None
        } else if CATEGORIES.contains(&category) {
            Some(category.to_string())
        } else {
            return Err(AppError::bad_request(
                "category",
                format!("分类应为 {} 之一", CATEGORIES.join("、")),
            ));
        };
        Ok(Ask {
            q,
            truncated,
            region,
            allowed_regions,
            category,
        })
    }

    fn filters(ask: &Ask) -> Filters {
        Filters {
            category: ask.category.clone(),
            regions: ask.allowed_regions.clone(),
        }
    }
}

/// One answer as pages and the API show it.
#[derive(Debug, Clone)]
pub struct ShownAnswer {
    pub entry: Entry,
    /// 0–1.
    pub score: f64,
}

impl ShownAnswer {
    pub fn percent(&self) -> i64 {
        (self.score * 100.0).round() as i64
    }

    pub fn source_label(&self) -> String {
        self.entry
            .source_id
            .clone()
            .unwrap_or_else(|| format!("条目 {}", self.entry.id))
    }

    pub fn paragraphs(&self) -> Vec<&str> {
        self.entry
            .answer
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }

    fn json(&self) -> Value {
        json!({
            "id": self.entry.id.to_string(),
            "source_id": self.entry.source_id,
            "question": self.entry.question,
            "answer": self.entry.answer,
            "score": (self.score * 1000.0).round() / 1000.0,
            "references": self.entry.references.iter().map(|r| json!({
                "title": r.title,
                "regulation_id": r.regulation_id.map(|id| id.to_string()),
            })).collect::<Vec<_>>(),
        })
    }
}

/// A citation in a summary: `[n]` is the n-th answer shown.
#[derive(Debug, Clone)]
pub struct Cite {
    pub n: usize,
    pub entry_id: i64,
    pub source_id: Option<String>,
    /// `faq-1001`, or `条目 12` for an entry without a source id.
    pub label: String,
}

/// A piece of a summary's paragraph: text, or a citation linked to its entry.
#[derive(Debug, Clone)]
pub struct SummaryPart {
    pub text: String,
    pub cite: Option<Cite>,
}

/// The optional generated summary (see `qa_generate`), ready for the page and the API.
#[derive(Debug, Clone)]
pub struct ShownSummary {
    pub text: String,
    pub paragraphs: Vec<Vec<SummaryPart>>,
    /// The cited entries, in the order of their first citation.
    pub cites: Vec<Cite>,
}

impl ShownSummary {
    fn new(summary: &crate::qa_generate::Summary, answers: &[ShownAnswer]) -> Option<ShownSummary> {
        use crate::qa_generate::Segment;
        let cite = |index: usize| {
            answers.get(index).map(|a| Cite {
                n: index + 1,
                entry_id: a.entry.id,
                source_id: a.entry.source_id.clone(),
                label: a.source_label(),
            })
        };
        let cites = summary
            .cited
            .iter()
            .map(|&i| cite(i))
            .collect::<Option<Vec<_>>>()?;
        let paragraphs = summary
            .paragraphs()
            .into_iter()
            .map(|segments| {
                segments
                    .into_iter()
                    .map(|segment| match segment {
                        Segment::Text(text) => Some(SummaryPart { text, cite: None }),
                        Segment::Cite(i) => cite(i).map(|c| SummaryPart {
                            text: format!("[{}]", c.n),
                            cite: Some(c),
                        }),
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ShownSummary {
            text: summary.text.clone(),
            paragraphs,
            cites,
        })
    }

    fn json(&self) -> Value {
        json!({
            "text": self.text,
            "cites": self.cites.iter().map(|c| json!({
                "n": c.n,
                "id": c.entry_id.to_string(),
                "source_id": c.source_id,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The generated summary of a confident answer, when `qa_generate` is configured and
/// the endpoint gives a reply that passes the checks; otherwise `None` (logged).
async fn summarise(
    state: &AppState,
    question: &str,
    answers: &[ShownAnswer],
) -> Option<ShownSummary> {
    let config = state.config.qa_generate.as_ref()?;
    if answers.is_empty() {
        return None;
    }
    let sources: Vec<crate::qa_generate::Source<'_>> = answers
        .iter()
        .take(crate::qa_generate::MAX_ENTRIES)
        .map(|a| crate::qa_generate::Source {
            question: &a.entry.question,
            answer: &a.entry.answer,
        })
        .collect();
    match crate::qa_generate::summarise(
        state.qa.generate_client(&state.config.outbound_roots),
        config,
        question,
        &sources,
    )
    .await
    {
        Ok(summary) => ShownSummary::new(&summary, answers),
        Err(error) => {
            tracing::warn!(
                %error,
                endpoint = %greenbridge_store::redact_url(&config.url),
                "qa_generate: no summary, showing the plain answer"
            );
            None
        }
    }
}

/// What the engine made of a question.
pub struct Answered {
    pub confident: bool,
    pub answers: Vec<ShownAnswer>,
    /// The generated summary of a confident answer (off unless configured).
    pub summary: Option<ShownSummary>,
    /// Index of the first answer in the engine (for 猜你想问).
    pub first_index: Option<usize>,
    pub engine: Arc<Engine>,
}

/// Asks the engine, records the question and, without a confident answer, queues it.
pub async fn answer(state: &AppState, ask: &Ask, account_id: Option<i64>) -> AppResult<Answered> {
    let engine = state.qa.engine(&state.store).await?;
    let asked = engine.ask(&ask.q, &AskQuery::filters(ask));
    let answers: Vec<ShownAnswer> = asked
        .hits
        .iter()
        .map(|h| ShownAnswer {
            entry: engine.entries()[h.index].clone(),
            score: h.score,
        })
        .collect();
    let now = state.clock.unix();
    let first = answers.first();
    state
        .store
        .record_asked(
            &ask.q,
            ask.region.as_deref(),
            ask.category.as_deref(),
            asked.confident,
            first.map(|a| a.entry.id),
            first.map_or(0, |a| (a.score * 1000.0).round() as i64),
            account_id,
            now,
        )
        .await?;
    if !asked.confident && has_words(&ask.q) {
        state
            .store
            .open_ticket(
                &NewTicket {
                    kind: "unanswered",
                    question: &ask
                        .q
                        .chars()
                        .take(greenbridge_qa::MAX_QUESTION_CHARS)
                        .collect::<String>(),
                    region_code: ask.region.as_deref(),
                    category: ask.category.as_deref(),
                    asker_account_id: account_id,
                    ..NewTicket::default()
                },
                now,
            )
            .await?;
    }
    // Only a confident answer is rephrased: the closest entries of a declined
    // question are offered as questions, not as an answer.
    let summary = if asked.confident {
        summarise(state, &ask.q, &answers).await
    } else {
        None
    };
    Ok(Answered {
        confident: asked.confident,
        first_index: asked.hits.first().map(|h| h.index),
        answers,
        summary,
        engine,
    })
}

/// Whether the text has a letter, digit or Han character (not only emoji or marks):
/// only such questions are worth a person's time in the queue.
fn has_words(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// `GET /api/v1/qa/ask?q=&region=&category=`.
pub async fn api_ask(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<AskQuery>,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let ask = query.parse()?;
    if ask.q.is_empty() {
        return Err(AppError::bad_request("q", "请输入问题"));
    }
    let account = ctx.viewer.as_ref().map(|v| v.account.id);
    let answered = answer(&state, &ask, account).await?;
    Ok(Json(json!({
        "confident": answered.confident,
        "answers": answered.answers.iter().map(ShownAnswer::json).collect::<Vec<_>>(),
        "summary": answered.summary.as_ref().map(ShownSummary::json),
    })))
}

/// A link to a guide or an event the answer leads to.
pub struct Pointer {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "assistant.html")]
struct AssistantPage {
    page: Page,
    q: String,
    region: String,
    category: String,
    categories: &'static [&'static str],
    error: Option<String>,
    truncated: bool,
    asked: bool,
    confident: bool,
    answers: Vec<ShownAnswer>,
    summary: Option<ShownSummary>,
    related: Vec<(i64, String)>,
    popular: Vec<(i64, String, i64)>,
    pointers: Vec<Pointer>,
    reasons: &'static [(&'static str, &'static str)],
    stats_line: String,
    /// Staff links: the queue (answering) and the FAQ editor; the expert's profile.
    can_answer: bool,
    can_manage: bool,
    is_expert: bool,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<AskQuery>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let page = Page::new(&state, &ctx, "智能问答").await;
    let mut view = AssistantPage {
        page,
        q: query.q.trim().chars().take(QUESTION_MAX_CHARS).collect(),
        region: query.region.trim().chars().take(12).collect(),
        category: query.category.trim().chars().take(10).collect(),
        categories: &CATEGORIES,
        error: None,
        truncated: false,
        asked: false,
        confident: false,
        answers: Vec::new(),
        summary: None,
        related: Vec::new(),
        popular: Vec::new(),
        pointers: Vec::new(),
        reasons: &FEEDBACK_REASONS,
        stats_line: String::new(),
        can_answer: ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.can(greenbridge_domain::role::Permission::AnswerRoutedQuestions)),
        can_manage: ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.can(greenbridge_domain::role::Permission::ManageFaq)),
        is_expert: ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.role() == greenbridge_domain::role::Role::Expert),
    };
    let mut engine = None;
    match query.parse() {
        Err(AppError::BadRequest { message, .. }) => view.error = Some(message),
        Err(other) => return Err(other),
        Ok(ask) if ask.q.is_empty() => {
            if !query.q.is_empty() {
                view.error = Some("请输入问题，例如“废机油能不能自己卖给回收的人？”".into());
            }
        }
        Ok(ask) => {
            let account = ctx.viewer.as_ref().map(|v| v.account.id);
            let answered = answer(&state, &ask, account).await?;
            view.asked = true;
            view.truncated = ask.truncated;
            view.confident = answered.confident;
            if let Some(first) = answered.first_index {
                let shown: Vec<i64> = answered.answers.iter().map(|a| a.entry.id).collect();
                view.related = answered
                    .engine
                    .related(first, 8)
                    .into_iter()
                    .map(|i| &answered.engine.entries()[i])
                    .filter(|e| !shown.contains(&e.id))
                    .take(5)
                    .map(|e| (e.id, e.question.clone()))
                    .collect();
            }
            if !view.answers.is_empty() || answered.confident || !answered.answers.is_empty() {
                let text = format!(
                    "{} {}",
                    ask.q,
                    answered
                        .answers
                        .first()
                        .map(|a| a.entry.question.as_str())
                        .unwrap_or("")
                );
                view.pointers = pointers(&state, &text).await?;
            }
            view.answers = answered.answers;
            view.summary = answered.summary;
            engine = Some(answered.engine);
        }
    }
    let _ = engine;
    view.popular = state
        .store
        .faq_most_asked(10)
        .await?
        .into_iter()
        .map(|e| (e.id, e.question, e.hits))
        .collect();
    let stats = state.store.qa_stats().await?;
    if stats.asked > 0 {
        view.stats_line = format!(
            "已回答提问 {} 次，其中 {:.0}% 暂无确切答案、已转协会和专家。",
            stats.asked,
            100.0 * stats.unanswered as f64 / stats.asked as f64
        );
    }
    Ok(Html(view.render()?).into_response())
}

/// Guides and upcoming events whose titles share enough with `text`.
async fn pointers(state: &AppState, text: &str) -> AppResult<Vec<Pointer>> {
    let wanted = grams(text);
    let mut scored: Vec<(usize, Pointer)> = Vec::new();
    for p in state.store.procedures().await? {
        let overlap = overlap(&wanted, &grams(&p.title));
        if overlap >= 3 {
            scored.push((
                overlap,
                Pointer {
                    href: format!("/assistant/procedures/{}", p.id),
                    label: format!("办事流程：{}", p.title),
                },
            ));
        }
    }
    let today = greenbridge_domain::time::format_date(state.clock.today());
    for e in state.store.events().await? {
        if e.event_date < today {
            continue;
        }
        let overlap = overlap(&wanted, &grams(&format!("{} {}", e.title, e.description)));
        if overlap >= 4 {
            scored.push((
                overlap,
                Pointer {
                    href: format!("/assistant/events/{}", e.id),
                    label: format!("活动：{}（{}）", e.title, e.event_date),
                },
            ));
        }
    }
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(scored.into_iter().take(3).map(|(_, p)| p).collect())
}

fn grams(text: &str) -> Vec<String> {
    let chars: Vec<char> = greenbridge_qa::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let mut out: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    out.sort();
    out.dedup();
    out
}

fn overlap(a: &[String], b: &[String]) -> usize {
    b.iter().filter(|g| a.binary_search(g).is_ok()).count()
}

/// The conversation script (served from here: the content security policy allows
/// scripts from this origin only).
pub async fn chat_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/assistant.js"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "assistant_entry.html")]
struct EntryPage {
    page: Page,
    entry: greenbridge_store::faq::FaqEntry,
    references: Vec<greenbridge_qa::Reference>,
    related: Vec<(i64, String)>,
    reasons: &'static [(&'static str, &'static str)],
    q: String,
}

#[derive(Deserialize, Default)]
pub struct EntryQuery {
    #[serde(default)]
    q: String,
}

/// The source entry of an answer.
pub async fn entry_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(query): Query<EntryQuery>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let entry = state.store.faq_entry(id).await?;
    let can_manage = ctx
        .viewer
        .as_ref()
        .is_some_and(|v| v.can(greenbridge_domain::role::Permission::ManageFaq));
    if entry.status != "published" && !can_manage {
        return Err(AppError::NotFound);
    }
    let engine = state.qa.engine(&state.store).await?;
    let records = greenbridge_qa::base::regulation_records(&state.store).await;
    let references = greenbridge_qa::references::link_references(&entry.references, &records);
    let related = engine
        .entries()
        .iter()
        .position(|e| e.id == id)
        .map(|index| {
            engine
                .related(index, 5)
                .into_iter()
                .map(|i| (engine.entries()[i].id, engine.entries()[i].question.clone()))
                .collect()
        })
        .unwrap_or_default();
    let title = entry.question.chars().take(40).collect::<String>();
    let page = Page::new(&state, &ctx, format!("问答：{title}")).await;
    Ok(Html(
        EntryPage {
            page,
            entry,
            references,
            related,
            reasons: &FEEDBACK_REASONS,
            q: query
                .q
                .trim()
                .chars()
                .take(greenbridge_qa::MAX_QUESTION_CHARS)
                .collect(),
        }
        .render()?,
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    entry_id: i64,
    #[serde(default)]
    q: String,
    helpful: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    comment: String,
}

#[derive(Template)]
#[template(path = "assistant_thanks.html")]
struct ThanksPage {
    page: Page,
    helpful: bool,
    entry_id: i64,
    q: String,
}

/// 有帮助 / 没帮助. Unhelpful needs a reason and opens a ticket for the staff.
pub async fn feedback(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<FeedbackForm>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Assistant).await?;
    let entry = state.store.faq_entry(form.entry_id).await?;
    let helpful = match form.helpful.as_str() {
        "1" | "yes" => true,
        "0" | "no" => false,
        _ => return Err(AppError::bad_request("helpful", "请选择“有帮助”或“没帮助”")),
    };
    let reason = if helpful {
        None
    } else {
        Some(
            FEEDBACK_REASONS
                .iter()
                .find(|(value, _)| *value == form.reason)
                .map(|(value, _)| *value)
                .ok_or_else(|| AppError::bad_request("reason", "请选择没帮助的原因"))?,
        )
    };
    let question: String = form
        .q
        .trim()
        .chars()
        .take(greenbridge_qa::MAX_QUESTION_CHARS)
        .collect();
    let comment: String = form.comment.trim().chars().take(1000).collect();
    let account = ctx.viewer.as_ref().map(|v| v.account.id);
    let now = state.clock.unix();
    state
        .store
        .add_faq_feedback(entry.id, &question, helpful, reason, &comment, account, now)
        .await?;
    if !helpful {
        let text = if question.is_empty() {
            entry.question.clone()
        } else {
            question.clone()
        };
        let text = if comment.is_empty() {
            text
        } else {
            format!("{text}\n（反馈说明：{comment}）")
        };
        state
            .store
            .open_ticket(
                &NewTicket {
                    kind: "unhelpful",
                    question: &text,
                    category: Some(&entry.category),
                    entry_id: Some(entry.id),
                    feedback_reason: reason,
                    asker_account_id: account,
                    ..NewTicket::default()
                },
                now,
            )
            .await?;
    }
    let page = Page::new(&state, &ctx, "感谢反馈").await;
    Ok(Html(
        ThanksPage {
            page,
            helpful,
            entry_id: entry.id,
            q: question,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// A procedure with its parsed steps.
pub struct ProcedureView {
    pub p: Procedure,
    pub steps: Vec<StepView>,
    pub legal_basis: Vec<String>,
}

pub struct StepView {
    pub step: String,
    pub what_to_prepare: Vec<String>,
    pub place: String,
}

fn procedure_view(p: Procedure) -> ProcedureView {
    #[derive(Deserialize)]
    struct RawStep {
        step: String,
        #[serde(default)]
        what_to_prepare: Vec<String>,
        #[serde(default)]
        r#where: String,
    }
    let steps: Vec<RawStep> = serde_json::from_str(&p.steps).unwrap_or_default();
    let legal_basis: Vec<String> = serde_json::from_str(&p.legal_basis).unwrap_or_default();
    ProcedureView {
        steps: steps
            .into_iter()
            .map(|s| StepView {
                step: s.step,
                what_to_prepare: s.what_to_prepare,
                place: s.r#where,
            })
            .collect(),
        legal_basis,
        p,
    }
}

fn matches_query(q: &str, texts: &[&str]) -> bool {
    let q = greenbridge_qa::fold(q);
    let words: Vec<&str> = q.split_whitespace().collect();
    let hay = greenbridge_qa::fold(&texts.join(" "));
    words.iter().all(|w| hay.contains(w)) || {
        // A question typed in full: enough shared bigrams.
        let g = grams(&q);
        !g.is_empty() && overlap(&grams(&hay), &g) * 2 >= g.len()
    }
}

#[derive(Template)]
#[template(path = "assistant_procedures.html")]
struct ProceduresPage {
    page: Page,
    q: String,
    items: Vec<ProcedureView>,
}

pub async fn procedures(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let items = state
        .store
        .procedures()
        .await?
        .into_iter()
        .filter(|p| {
            q.is_empty() || matches_query(&q, &[&p.title, &p.applies_to, &p.steps, &p.notes])
        })
        .map(procedure_view)
        .collect();
    let page = Page::new(&state, &ctx, "办事流程").await;
    Ok(Html(ProceduresPage { page, q, items }.render()?))
}

#[derive(Template)]
#[template(path = "assistant_procedure.html")]
struct ProcedurePage {
    page: Page,
    item: ProcedureView,
}

pub async fn procedure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let item = procedure_view(state.store.procedure(id).await?);
    let page = Page::new(&state, &ctx, format!("办事流程：{}", item.p.title)).await;
    Ok(Html(ProcedurePage { page, item }.render()?))
}

/// An event with its registration details read out.
pub struct EventView {
    pub e: Event,
    pub registration: Vec<(String, String)>,
    pub past: bool,
}

fn event_view(e: Event, today: &str) -> EventView {
    let reg: Value = serde_json::from_str(&e.registration).unwrap_or(Value::Null);
    let mut registration = Vec::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Number(n) => n.to_string(),
        Value::Null => "—".into(),
        other => other.to_string(),
    };
    for (key, label) in [
        ("required", "是否需要报名"),
        ("method", "报名方式"),
        ("deadline", "报名截止"),
        ("capacity", "名额"),
        ("fee", "费用"),
    ] {
        if let Some(v) = reg.get(key) {
            registration.push((label.to_string(), text(v)));
        }
    }
    EventView {
        past: e.event_date.as_str() < today,
        e,
        registration,
    }
}

#[derive(Template)]
#[template(path = "assistant_events.html")]
struct EventsPage {
    page: Page,
    q: String,
    items: Vec<EventView>,
}

pub async fn events(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let items = state
        .store
        .events()
        .await?
        .into_iter()
        .filter(|e| {
            q.is_empty()
                || matches_query(
                    &q,
                    &[&e.title, &e.kind, &e.place, &e.organiser, &e.description],
                )
        })
        .map(|e| event_view(e, &today))
        .collect();
    let page = Page::new(&state, &ctx, "活动").await;
    Ok(Html(EventsPage { page, q, items }.render()?))
}

#[derive(Template)]
#[template(path = "assistant_event.html")]
struct EventPage {
    page: Page,
    item: EventView,
}

pub async fn event(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Assistant).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    let item = event_view(state.store.event(id).await?, &today);
    let page = Page::new(&state, &ctx, format!("活动：{}", item.e.title)).await;
    Ok(Html(EventPage { page, item }.render()?))
}

/// After a form that has no page of its own.
pub fn back_to(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// The module's routes (the API route is in `api.rs`).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/assistant", get(page))
        .route("/assistant/chat.js", get(chat_js))
        .route("/assistant/entries/{id}", get(entry_page))
        .route("/assistant/feedback", post(feedback))
        .route("/assistant/procedures", get(procedures))
        .route("/assistant/procedures/{id}", get(procedure))
        .route("/assistant/events", get(events))
        .route("/assistant/events/{id}", get(event))
        .merge(super::assistant_staff::routes())
}
