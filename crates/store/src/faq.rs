//! 智能问答: the FAQ base, the questions asked and their feedback, the queue of
//! questions for association staff and experts (tickets), expert profiles, and the
//! 办事流程 / 活动 records the answers point to.
//!
//! The matching engine (greenbridge-qa) is in memory and rebuilt from
//! [`Store::faq_published`] whenever [`Store::faq_generation`] changes, so every
//! write here that changes what is matched raises the entry's `revision`.

use crate::{Result, Store, StoreError};

/// One entry of the FAQ base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqEntry {
    pub id: i64,
    pub source_id: Option<String>,
    pub question: String,
    pub answer: String,
    pub category: String,
    pub subcategory: String,
    pub region: String,
    pub keywords: Vec<String>,
    /// 相似问法: other ways users ask what the entry answers.
    pub similar_questions: Vec<String>,
    /// Document titles as the entry names them.
    pub references: Vec<String>,
    /// import | staff | queue | expert
    pub origin: String,
    /// published | hidden
    pub status: String,
    pub hits: i64,
    pub sample: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct FaqRow {
    id: i64,
    source_id: Option<String>,
    question: String,
    answer: String,
    category: String,
    subcategory: String,
    region: String,
    keywords: String,
    similar_questions: String,
    refs: String,
    origin: String,
    status: String,
    hits: i64,
    sample: i64,
    created_at: i64,
    updated_at: i64,
}

fn json_list(text: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

impl TryFrom<FaqRow> for FaqEntry {
    type Error = StoreError;
    fn try_from(r: FaqRow) -> Result<Self> {
        Ok(FaqEntry {
            keywords: json_list(&r.keywords, "faq keywords")?,
            similar_questions: json_list(&r.similar_questions, "faq similar questions")?,
            references: json_list(&r.refs, "faq references")?,
            id: r.id,
            source_id: r.source_id,
            question: r.question,
            answer: r.answer,
            category: r.category,
            subcategory: r.subcategory,
            region: r.region,
            origin: r.origin,
            status: r.status,
            hits: r.hits,
            sample: r.sample != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The fields of an entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqInput {
    pub source_id: Option<String>,
    pub question: String,
    pub answer: String,
    pub category: String,
    pub subcategory: String,
    pub region: String,
    pub keywords: Vec<String>,
    pub similar_questions: Vec<String>,
    pub references: Vec<String>,
    pub origin: String,
    pub sample: bool,
}

impl FaqInput {
    /// Whether writing the input would change nothing of the published entry `e`.
    pub fn same_as(&self, e: &FaqEntry) -> bool {
        self.question == e.question
            && self.answer == e.answer
            && self.category == e.category
            && self.subcategory == e.subcategory
            && self.region == e.region
            && self.keywords == e.keywords
            && self.similar_questions == e.similar_questions
            && self.references == e.references
            && self.sample == e.sample
            && e.status == "published"
    }
}

/// The entry as it stands, to be changed and written back.
impl From<&FaqEntry> for FaqInput {
    fn from(e: &FaqEntry) -> Self {
        FaqInput {
            source_id: e.source_id.clone(),
            question: e.question.clone(),
            answer: e.answer.clone(),
            category: e.category.clone(),
            subcategory: e.subcategory.clone(),
            region: e.region.clone(),
            keywords: e.keywords.clone(),
            similar_questions: e.similar_questions.clone(),
            references: e.references.clone(),
            origin: e.origin.clone(),
            sample: e.sample,
        }
    }
}

/// What an upsert by `source_id` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaqUpserted {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

const COLUMNS: &str = "id, source_id, question, answer, category, subcategory, region, keywords, \
    similar_questions, refs, origin, status, hits, sample, created_at, updated_at";

/// A question put to people: unanswered by the assistant, an answer marked unhelpful,
/// or a question to an expert (or a field's panel).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ticket {
    pub id: i64,
    /// unanswered | unhelpful | expert
    pub kind: String,
    pub question: String,
    pub region_code: Option<String>,
    pub category: Option<String>,
    pub entry_id: Option<i64>,
    pub feedback_reason: Option<String>,
    pub asker_account_id: Option<i64>,
    pub expert_account_id: Option<i64>,
    pub field: Option<String>,
    pub consent: i64,
    /// open | answered | published | closed
    pub status: String,
    pub answer: String,
    pub answered_by: Option<i64>,
    pub answered_at: Option<i64>,
    pub published_entry_id: Option<i64>,
    pub created_at: i64,
}

const TICKET_COLUMNS: &str = "id, kind, question, region_code, category, entry_id, feedback_reason, \
    asker_account_id, expert_account_id, field, consent, status, answer, answered_by, answered_at, \
    published_entry_id, created_at";

/// A new ticket.
#[derive(Debug, Clone, Default)]
pub struct NewTicket<'a> {
    pub kind: &'a str,
    pub question: &'a str,
    pub region_code: Option<&'a str>,
    pub category: Option<&'a str>,
    pub entry_id: Option<i64>,
    pub feedback_reason: Option<&'a str>,
    pub asker_account_id: Option<i64>,
    pub expert_account_id: Option<i64>,
    pub field: Option<&'a str>,
    pub consent: bool,
}

/// An expert's public profile.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExpertProfile {
    pub account_id: i64,
    pub display_name: String,
    pub field: String,
    pub organisation: String,
    pub title: String,
    pub bio: String,
    pub active: i64,
}

/// A 办事流程 guide.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Procedure {
    pub id: i64,
    pub source_id: Option<String>,
    pub title: String,
    pub applies_to: String,
    /// JSON `[{"step", "what_to_prepare": [..], "where"}]`.
    pub steps: String,
    pub time_limit: Option<String>,
    /// JSON array of titles.
    pub legal_basis: String,
    pub region: String,
    pub notes: String,
    pub sample: i64,
}

/// An 活动 (training, briefing).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub source_id: Option<String>,
    pub title: String,
    pub kind: String,
    pub event_date: String,
    pub start_time: String,
    pub end_time: String,
    pub place: String,
    pub organiser: String,
    pub region_code: String,
    /// JSON `{"required", "method", "deadline", "capacity", "fee"}`.
    pub registration: String,
    pub description: String,
    pub sample: i64,
}

/// A regulation record as the FAQ links to it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegulationTitle {
    pub id: i64,
    pub title: String,
    pub doc_number: Option<String>,
    pub status: String,
}

/// Figures for the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QaStats {
    pub asked: i64,
    pub unanswered: i64,
    pub helpful: i64,
    pub unhelpful: i64,
    pub open_tickets: i64,
}

impl Store {
    /// Inserts or updates the entry with `input.source_id` (which must be set).
    pub async fn upsert_faq(&self, input: &FaqInput, now: i64) -> Result<FaqUpserted> {
        let Some(source_id) = &input.source_id else {
            return Err(StoreError::Corrupt("upsert_faq needs a source_id".into()));
        };
        let existing: Option<FaqRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM faq_entries WHERE source_id = $1"
        ))
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        match existing {
            Some(row) => {
                let entry = FaqEntry::try_from(row)?;
                if input.same_as(&entry) {
                    return Ok(FaqUpserted::Unchanged(entry.id));
                }
                self.update_faq(entry.id, input, None, now).await?;
                Ok(FaqUpserted::Updated(entry.id))
            }
            None => Ok(FaqUpserted::Created(
                self.insert_faq(input, None, now).await?,
            )),
        }
    }

    /// Adds an entry; returns its id.
    pub async fn insert_faq(&self, input: &FaqInput, actor: Option<i64>, now: i64) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        insert_faq_on(&mut conn, input, actor, now).await
    }

    /// Replaces the fields of entry `id` (and publishes it).
    pub async fn update_faq(
        &self,
        id: i64,
        input: &FaqInput,
        actor: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE faq_entries SET question = $1, answer = $2, category = $3, subcategory = $4, \
             region = $5, keywords = $6, refs = $7, sample = $8, status = 'published', \
             updated_by = $9, updated_at = $10, similar_questions = $11, \
             revision = revision + 1 WHERE id = $12",
        )
        .bind(&input.question)
        .bind(&input.answer)
        .bind(&input.category)
        .bind(&input.subcategory)
        .bind(&input.region)
        .bind(to_json(&input.keywords))
        .bind(to_json(&input.references))
        .bind(i64::from(input.sample))
        .bind(actor)
        .bind(now)
        .bind(to_json(&input.similar_questions))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Hides or publishes an entry.
    pub async fn set_faq_status(
        &self,
        id: i64,
        published: bool,
        actor: i64,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE faq_entries SET status = $1, updated_by = $2, updated_at = $3, \
             revision = revision + 1 WHERE id = $4",
        )
        .bind(if published { "published" } else { "hidden" })
        .bind(actor)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The entry imported with this `source_id`, if any.
    pub async fn faq_by_source(&self, source_id: &str) -> Result<Option<FaqEntry>> {
        let row: Option<FaqRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM faq_entries WHERE source_id = $1"
        ))
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(FaqEntry::try_from).transpose()
    }

    pub async fn faq_entry(&self, id: i64) -> Result<FaqEntry> {
        let row: FaqRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM faq_entries WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        row.try_into()
    }

    /// Every published entry, by id (what the engine indexes).
    pub async fn faq_published(&self) -> Result<Vec<FaqEntry>> {
        let rows: Vec<FaqRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM faq_entries WHERE status = 'published' ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(FaqEntry::try_from).collect()
    }

    /// Every entry (staff list), newest change first.
    pub async fn faq_all(&self) -> Result<Vec<FaqEntry>> {
        let rows: Vec<FaqRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM faq_entries ORDER BY updated_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(FaqEntry::try_from).collect()
    }

    /// A value that changes whenever what the engine indexes changes: the number of
    /// entries, the highest id and the sum of their revisions (entries are never
    /// deleted, only hidden; every write that changes what is matched raises its
    /// entry's revision, so edits within one second are seen too).
    pub async fn faq_generation(&self) -> Result<(i64, i64, i64)> {
        let row: (i64, Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(id), SUM(revision) FROM faq_entries")
                .fetch_one(&self.pool)
                .await?;
        Ok((row.0, row.1.unwrap_or(0), row.2.unwrap_or(0)))
    }

    /// A fingerprint of the 标准政策 records the references link to: their number
    /// and their change counter, raised by every write to them (insert, edit,
    /// status, delete) in the same transaction.
    pub async fn regulations_generation(&self) -> Result<(i64, i64)> {
        let row: (i64, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM regulations), \
             (SELECT value FROM change_counters WHERE name = 'regulations')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.0, row.1.unwrap_or(0)))
    }

    /// The most asked entries (by hits), for the ranking.
    pub async fn faq_most_asked(&self, limit: i64) -> Result<Vec<FaqEntry>> {
        let rows: Vec<FaqRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM faq_entries WHERE status = 'published' AND hits > 0 \
             ORDER BY hits DESC, id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(FaqEntry::try_from).collect()
    }

    /// Records a question asked; a confident answer counts a hit on its entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_asked(
        &self,
        question: &str,
        region_code: Option<&str>,
        category: Option<&str>,
        confident: bool,
        entry_id: Option<i64>,
        score_permille: i64,
        account_id: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO qa_asked (question, region_code, category, confident, entry_id, score, \
             account_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(question)
        .bind(region_code)
        .bind(category)
        .bind(i64::from(confident))
        .bind(if confident { entry_id } else { None })
        .bind(score_permille)
        .bind(account_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if confident && let Some(entry) = entry_id {
            sqlx::query("UPDATE faq_entries SET hits = hits + 1 WHERE id = $1")
                .bind(entry)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// 有帮助 / 没帮助 on an answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_faq_feedback(
        &self,
        entry_id: i64,
        question: &str,
        helpful: bool,
        reason: Option<&str>,
        comment: &str,
        account_id: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO qa_feedback (entry_id, question, helpful, reason, comment, account_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(entry_id)
        .bind(question)
        .bind(i64::from(helpful))
        .bind(reason)
        .bind(comment)
        .bind(account_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn qa_stats(&self) -> Result<QaStats> {
        let (asked, unanswered): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN confident = 0 THEN 1 ELSE 0 END) FROM qa_asked",
        )
        .fetch_one(&self.pool)
        .await?;
        let (helpful, unhelpful): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN helpful = 1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN helpful = 0 THEN 1 ELSE 0 END) FROM qa_feedback",
        )
        .fetch_one(&self.pool)
        .await?;
        let open_tickets: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM qa_tickets WHERE status = 'open'")
                .fetch_one(&self.pool)
                .await?;
        Ok(QaStats {
            asked,
            unanswered: unanswered.unwrap_or(0),
            helpful: helpful.unwrap_or(0),
            unhelpful: unhelpful.unwrap_or(0),
            open_tickets,
        })
    }

    /// Opens a ticket. An unanswered question already waiting (same text) is not
    /// queued twice: its id is returned.
    pub async fn open_ticket(&self, new: &NewTicket<'_>, now: i64) -> Result<i64> {
        if new.kind == "unanswered"
            && let Some(id) = sqlx::query_scalar::<_, i64>(
                "SELECT id FROM qa_tickets WHERE kind = 'unanswered' AND status = 'open' \
                 AND question = $1 LIMIT 1",
            )
            .bind(new.question)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(id);
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO qa_tickets (kind, question, region_code, category, entry_id, \
             feedback_reason, asker_account_id, expert_account_id, field, consent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(new.kind)
        .bind(new.question)
        .bind(new.region_code)
        .bind(new.category)
        .bind(new.entry_id)
        .bind(new.feedback_reason)
        .bind(new.asker_account_id)
        .bind(new.expert_account_id)
        .bind(new.field)
        .bind(i64::from(new.consent))
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn ticket(&self, id: i64) -> Result<Ticket> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM qa_tickets WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Tickets in `status` (all when `None`), oldest first; `kinds` empty = every kind.
    pub async fn tickets(&self, status: Option<&str>, limit: i64) -> Result<Vec<Ticket>> {
        let rows =
            match status {
                Some(s) => sqlx::query_as(&format!(
                    "SELECT {TICKET_COLUMNS} FROM qa_tickets WHERE status = $1 ORDER BY id LIMIT $2"
                ))
                .bind(s)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query_as(&format!(
                        "SELECT {TICKET_COLUMNS} FROM qa_tickets ORDER BY id DESC LIMIT $1"
                    ))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        Ok(rows)
    }

    /// The tickets an account asked, newest first.
    pub async fn tickets_of_asker(&self, account_id: i64) -> Result<Vec<Ticket>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM qa_tickets WHERE asker_account_id = $1 ORDER BY id DESC"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Expert questions routed to an expert: to them by name, or to their field's panel.
    pub async fn tickets_for_expert(&self, account_id: i64, field: &str) -> Result<Vec<Ticket>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM qa_tickets WHERE kind = 'expert' AND \
             (expert_account_id = $1 OR (expert_account_id IS NULL AND field = $2)) \
             ORDER BY id DESC"
        ))
        .bind(account_id)
        .bind(field)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Answers an open ticket. `NotFound` when it is not open any more.
    pub async fn answer_ticket(&self, id: i64, answer: &str, by: i64, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE qa_tickets SET status = 'answered', answer = $1, answered_by = $2, \
             answered_at = $3 WHERE id = $4 AND status = 'open'",
        )
        .bind(answer)
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Closes an open ticket without an answer (spam, off-topic).
    pub async fn close_ticket(&self, id: i64, by: i64, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE qa_tickets SET status = 'closed', answered_by = $1, answered_at = $2 \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Publishes an answered ticket into the base as a new entry, in one transaction.
    pub async fn publish_ticket(
        &self,
        id: i64,
        input: &FaqInput,
        by: i64,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM qa_tickets WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref() != Some("answered") {
            return Err(StoreError::NotFound);
        }
        let entry = insert_faq_on(&mut tx, input, Some(by), now).await?;
        sqlx::query(
            "UPDATE qa_tickets SET status = 'published', published_entry_id = $1 WHERE id = $2",
        )
        .bind(entry)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Adds the question of open ticket `ticket_id` to the similar questions of
    /// entry `entry_id` (the base already answers it, in other words) and closes
    /// the ticket, in one transaction. `NotFound` when the ticket is not open or
    /// the entry does not exist.
    pub async fn ticket_into_similar(
        &self,
        ticket_id: i64,
        entry_id: i64,
        by: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let question: Option<String> =
            sqlx::query_scalar("SELECT question FROM qa_tickets WHERE id = $1 AND status = 'open'")
                .bind(ticket_id)
                .fetch_optional(&mut *tx)
                .await?;
        let similar: Option<String> =
            sqlx::query_scalar("SELECT similar_questions FROM faq_entries WHERE id = $1")
                .bind(entry_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (Some(question), Some(similar)) = (question, similar) else {
            return Err(StoreError::NotFound);
        };
        let mut similar = json_list(&similar, "faq similar questions")?;
        let question = question.trim().to_string();
        if !similar.contains(&question) {
            similar.push(question);
        }
        sqlx::query(
            "UPDATE faq_entries SET similar_questions = $1, updated_by = $2, updated_at = $3, \
             revision = revision + 1 WHERE id = $4",
        )
        .bind(to_json(&similar))
        .bind(by)
        .bind(now)
        .bind(entry_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE qa_tickets SET status = 'closed', answered_by = $1, answered_at = $2 \
             WHERE id = $3",
        )
        .bind(by)
        .bind(now)
        .bind(ticket_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The 标准政策 records the FAQ references may link to (empty when that module's
    /// table holds nothing).
    pub async fn regulation_titles(&self) -> Result<Vec<RegulationTitle>> {
        Ok(
            sqlx::query_as("SELECT id, title, doc_number, status FROM regulations ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Creates or replaces an expert's profile.
    pub async fn upsert_expert_profile(
        &self,
        account_id: i64,
        field: &str,
        organisation: &str,
        title: &str,
        bio: &str,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE qa_experts SET field = $1, organisation = $2, title = $3, bio = $4, \
             updated_at = $5 WHERE account_id = $6",
        )
        .bind(field)
        .bind(organisation)
        .bind(title)
        .bind(bio)
        .bind(now)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO qa_experts (account_id, field, organisation, title, bio, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(account_id)
            .bind(field)
            .bind(organisation)
            .bind(title)
            .bind(bio)
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Active expert profiles with the expert's display name.
    pub async fn expert_profiles(&self) -> Result<Vec<ExpertProfile>> {
        Ok(sqlx::query_as(
            "SELECT e.account_id, a.display_name, e.field, e.organisation, e.title, e.bio, e.active \
             FROM qa_experts e JOIN accounts a ON a.id = e.account_id WHERE e.active = 1 \
             ORDER BY e.field, e.account_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn expert_profile(&self, account_id: i64) -> Result<Option<ExpertProfile>> {
        Ok(sqlx::query_as(
            "SELECT e.account_id, a.display_name, e.field, e.organisation, e.title, e.bio, e.active \
             FROM qa_experts e JOIN accounts a ON a.id = e.account_id WHERE e.account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Inserts or updates a procedure by `source_id`; true when something changed.
    pub async fn upsert_procedure(&self, p: &Procedure, now: i64) -> Result<FaqUpserted> {
        let existing: Option<Procedure> = sqlx::query_as(
            "SELECT id, source_id, title, applies_to, steps, time_limit, legal_basis, region, \
             notes, sample FROM qa_procedures WHERE source_id = $1",
        )
        .bind(&p.source_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(e) = existing {
            let same = Procedure {
                id: e.id,
                ..p.clone()
            } == e;
            if same {
                return Ok(FaqUpserted::Unchanged(e.id));
            }
            sqlx::query(
                "UPDATE qa_procedures SET title = $1, applies_to = $2, steps = $3, time_limit = $4, \
                 legal_basis = $5, region = $6, notes = $7, sample = $8, updated_at = $9 \
                 WHERE id = $10",
            )
            .bind(&p.title)
            .bind(&p.applies_to)
            .bind(&p.steps)
            .bind(&p.time_limit)
            .bind(&p.legal_basis)
            .bind(&p.region)
            .bind(&p.notes)
            .bind(p.sample)
            .bind(now)
            .bind(e.id)
            .execute(&self.pool)
            .await?;
            return Ok(FaqUpserted::Updated(e.id));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO qa_procedures (source_id, title, applies_to, steps, time_limit, \
             legal_basis, region, notes, sample, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(&p.source_id)
        .bind(&p.title)
        .bind(&p.applies_to)
        .bind(&p.steps)
        .bind(&p.time_limit)
        .bind(&p.legal_basis)
        .bind(&p.region)
        .bind(&p.notes)
        .bind(p.sample)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(FaqUpserted::Created(id))
    }

    pub async fn procedures(&self) -> Result<Vec<Procedure>> {
        Ok(sqlx::query_as(
            "SELECT id, source_id, title, applies_to, steps, time_limit, legal_basis, region, \
             notes, sample FROM qa_procedures ORDER BY source_id, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn procedure(&self, id: i64) -> Result<Procedure> {
        Ok(sqlx::query_as(
            "SELECT id, source_id, title, applies_to, steps, time_limit, legal_basis, region, \
             notes, sample FROM qa_procedures WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Inserts or updates an event by `source_id`.
    pub async fn upsert_event(&self, e: &Event, now: i64) -> Result<FaqUpserted> {
        let existing: Option<Event> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM qa_events WHERE source_id = $1"
        ))
        .bind(&e.source_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(old) = existing {
            if (Event {
                id: old.id,
                ..e.clone()
            }) == old
            {
                return Ok(FaqUpserted::Unchanged(old.id));
            }
            sqlx::query(
                "UPDATE qa_events SET title = $1, kind = $2, event_date = $3, start_time = $4, \
                 end_time = $5, place = $6, organiser = $7, region_code = $8, registration = $9, \
                 description = $10, sample = $11, updated_at = $12 WHERE id = $13",
            )
            .bind(&e.title)
            .bind(&e.kind)
            .bind(&e.event_date)
            .bind(&e.start_time)
            .bind(&e.end_time)
            .bind(&e.place)
            .bind(&e.organiser)
            .bind(&e.region_code)
            .bind(&e.registration)
            .bind(&e.description)
            .bind(e.sample)
            .bind(now)
            .bind(old.id)
            .execute(&self.pool)
            .await?;
            return Ok(FaqUpserted::Updated(old.id));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO qa_events (source_id, title, kind, event_date, start_time, end_time, \
             place, organiser, region_code, registration, description, sample, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             RETURNING id",
        )
        .bind(&e.source_id)
        .bind(&e.title)
        .bind(&e.kind)
        .bind(&e.event_date)
        .bind(&e.start_time)
        .bind(&e.end_time)
        .bind(&e.place)
        .bind(&e.organiser)
        .bind(&e.region_code)
        .bind(&e.registration)
        .bind(&e.description)
        .bind(e.sample)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(FaqUpserted::Created(id))
    }

    pub async fn events(&self) -> Result<Vec<Event>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM qa_events ORDER BY event_date, start_time, id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn event(&self, id: i64) -> Result<Event> {
        Ok(sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM qa_events WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }
}

const EVENT_COLUMNS: &str = "id, source_id, title, kind, event_date, start_time, end_time, place, \
    organiser, region_code, registration, description, sample";

async fn insert_faq_on(
    conn: &mut sqlx::AnyConnection,
    input: &FaqInput,
    actor: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO faq_entries (source_id, question, answer, category, subcategory, region, \
         keywords, refs, origin, sample, created_by, updated_by, created_at, updated_at, \
         similar_questions) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $12, $13) RETURNING id",
    )
    .bind(&input.source_id)
    .bind(&input.question)
    .bind(&input.answer)
    .bind(&input.category)
    .bind(&input.subcategory)
    .bind(&input.region)
    .bind(to_json(&input.keywords))
    .bind(to_json(&input.references))
    .bind(&input.origin)
    .bind(i64::from(input.sample))
    .bind(actor)
    .bind(now)
    .bind(to_json(&input.similar_questions))
    .fetch_one(&mut *conn)
    .await?)
}
