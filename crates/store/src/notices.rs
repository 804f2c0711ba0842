//! 需求大厅 notices: official procurement notices parsed from the pages of procurement
//! sites (or files of such pages), kept with their original HTML.
//!
//! One notice is one row however many sites publish it: a page is matched to an
//! existing notice by its URL, then by project code + purchaser + type (the same
//! notice elsewhere), then by content hash. Corrections, terminations and results
//! point at their announcement (`related_id`: same project code and purchaser); a
//! termination or result closes it. Every write records a search-outbox row for the
//! notice and for an announcement whose later notices changed.

use crate::outbox;
use crate::{Result, Store};
use greenbridge_domain::money::Money;
use greenbridge_domain::notice::NoticeType;
use sqlx::AnyConnection;

/// The collection name of notices in the search outbox.
pub const NOTICES: &str = "notices";

/// One correction: what changed from what to what (更正前 → 更正后).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoticeChange {
    pub item: String,
    pub before: String,
    pub after: String,
}

/// One 合同包 of a tender split into packages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoticePackage {
    pub no: String,
    pub name: String,
    pub budget_fen: Option<i64>,
}

/// A parsed notice, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub source_id: Option<String>,
    pub title: String,
    pub notice_type: NoticeType,
    pub procurement_method: Option<String>,
    pub project_code: Option<String>,
    pub project_name: Option<String>,
    pub purchaser: Option<String>,
    pub purchaser_address: Option<String>,
    pub agency: Option<String>,
    /// The purchaser's district (6 digits).
    pub region_code: Option<String>,
    /// The town, when the address names one the region tree knows (9 digits).
    pub town_code: Option<String>,
    /// 品目 as the page gives it.
    pub item_category: Option<String>,
    pub budget: Option<Money>,
    pub max_price: Option<Money>,
    /// YYYY-MM-DD.
    pub publish_date: Option<String>,
    pub publish_at: Option<i64>,
    pub doc_from: Option<String>,
    pub doc_to: Option<String>,
    /// YYYY-MM-DD HH:MM (Beijing time).
    pub deadline: Option<String>,
    pub deadline_at: Option<i64>,
    pub opening: Option<String>,
    pub winner: Option<String>,
    pub award: Option<Money>,
    pub packages: Vec<NoticePackage>,
    pub changes: Vec<NoticeChange>,
    /// Service category codes, main first.
    pub categories: Vec<String>,
    /// The notice text without markup (for search and snippets).
    pub body_text: String,
    pub source_site: String,
    pub source_url: String,
    pub original_html: String,
    /// SHA-256 (hex) of the page's text content.
    pub content_hash: String,
    pub sample: bool,
}

/// A stored notice.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: i64,
    pub fields: NewNotice,
    /// The announcement this notice follows (corrections, terminations, results).
    pub related_id: Option<i64>,
    /// For announcements: `open`, `terminated` or `awarded`; for the others `linked`
    /// or `unlinked`.
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    source_id: Option<String>,
    title: String,
    notice_type: String,
    procurement_method: Option<String>,
    project_code: Option<String>,
    project_name: Option<String>,
    purchaser: Option<String>,
    purchaser_address: Option<String>,
    agency: Option<String>,
    region_code: Option<String>,
    town_code: Option<String>,
    item_category: Option<String>,
    budget_fen: Option<i64>,
    max_price_fen: Option<i64>,
    publish_date: Option<String>,
    publish_at: Option<i64>,
    doc_from: Option<String>,
    doc_to: Option<String>,
    deadline: Option<String>,
    deadline_at: Option<i64>,
    opening: Option<String>,
    winner: Option<String>,
    award_fen: Option<i64>,
    packages: Option<String>,
    changes: Option<String>,
    categories: String,
    body_text: String,
    source_site: String,
    source_url: String,
    original_html: String,
    content_hash: String,
    related_id: Option<i64>,
    state: String,
    sample: i64,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, source_id, title, notice_type, procurement_method, project_code, \
    project_name, purchaser, purchaser_address, agency, region_code, town_code, item_category, \
    budget_fen, max_price_fen, publish_date, publish_at, doc_from, doc_to, deadline, deadline_at, \
    opening, winner, award_fen, packages, changes, categories, body_text, source_site, source_url, \
    original_html, content_hash, related_id, state, sample, created_at, updated_at";

impl TryFrom<NoticeRow> for Notice {
    type Error = crate::StoreError;
    fn try_from(row: NoticeRow) -> Result<Notice> {
        let corrupt = |what: &str| crate::StoreError::Corrupt(format!("notice {}: {what}", row.id));
        let notice_type: NoticeType = row.notice_type.parse().map_err(|_| corrupt("type"))?;
        let packages = match row.packages.as_deref() {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(|_| corrupt("packages"))?,
        };
        let changes = match row.changes.as_deref() {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(|_| corrupt("changes"))?,
        };
        Ok(Notice {
            id: row.id,
            related_id: row.related_id,
            state: row.state,
            created_at: row.created_at,
            updated_at: row.updated_at,
            fields: NewNotice {
                source_id: row.source_id,
                title: row.title,
                notice_type,
                procurement_method: row.procurement_method,
                project_code: row.project_code,
                project_name: row.project_name,
                purchaser: row.purchaser,
                purchaser_address: row.purchaser_address,
                agency: row.agency,
                region_code: row.region_code,
                town_code: row.town_code,
                item_category: row.item_category,
                budget: row.budget_fen.map(Money::from_fen),
                max_price: row.max_price_fen.map(Money::from_fen),
                publish_date: row.publish_date,
                publish_at: row.publish_at,
                doc_from: row.doc_from,
                doc_to: row.doc_to,
                deadline: row.deadline,
                deadline_at: row.deadline_at,
                opening: row.opening,
                winner: row.winner,
                award: row.award_fen.map(Money::from_fen),
                packages,
                changes,
                categories: row
                    .categories
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                body_text: row.body_text,
                source_site: row.source_site,
                source_url: row.source_url,
                original_html: row.original_html,
                content_hash: row.content_hash,
                sample: row.sample != 0,
            },
        })
    }
}

/// What storing one page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeUpsert {
    Created(i64),
    Updated(i64),
    /// The page was known (same content), perhaps from another source.
    Unchanged(i64),
}

impl NoticeUpsert {
    pub fn id(self) -> i64 {
        match self {
            NoticeUpsert::Created(id) | NoticeUpsert::Updated(id) | NoticeUpsert::Unchanged(id) => {
                id
            }
        }
    }
}

/// The effective state of an announcement: its own values with the later notices applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub budget: Option<Money>,
    pub budget_corrected: bool,
    pub max_price: Option<Money>,
    pub max_price_corrected: bool,
    pub deadline: Option<String>,
    pub deadline_at: Option<i64>,
    pub deadline_corrected: bool,
}

impl Notice {
    /// This notice's values after the corrections among `later` (ordered by date).
    pub fn effective(&self, later: &[Notice]) -> Effective {
        let f = &self.fields;
        let mut out = Effective {
            budget: f.budget,
            budget_corrected: false,
            max_price: f.max_price,
            max_price_corrected: false,
            deadline: f.deadline.clone(),
            deadline_at: f.deadline_at,
            deadline_corrected: false,
        };
        for correction in later
            .iter()
            .filter(|n| n.fields.notice_type == NoticeType::Correction)
        {
            let c = &correction.fields;
            if let Some(b) = c.budget {
                out.budget_corrected = out.budget != Some(b);
                out.budget = Some(b);
            }
            if let Some(m) = c.max_price {
                out.max_price_corrected = out.max_price != Some(m);
                out.max_price = Some(m);
            }
            if c.deadline.is_some() {
                out.deadline_corrected = out.deadline != c.deadline;
                out.deadline = c.deadline.clone();
                out.deadline_at = c.deadline_at;
            }
        }
        out
    }
}

fn opt_money(m: Option<Money>) -> Option<i64> {
    m.map(Money::fen)
}

fn json_or_null<T: serde::Serialize>(items: &[T]) -> Option<String> {
    if items.is_empty() {
        None
    } else {
        serde_json::to_string(items).ok()
    }
}

impl Store {
    /// Stores one parsed page (see the module docs for how a page finds its notice).
    pub async fn upsert_notice(&self, notice: &NewNotice, now: i64) -> Result<NoticeUpsert> {
        let mut tx = self.pool.begin().await?;
        let outcome = upsert_in(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn notice(&self, id: i64) -> Result<Notice> {
        let row: NoticeRow =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM notices WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        row.try_into()
    }

    pub async fn find_notice(&self, id: i64) -> Result<Option<Notice>> {
        let row: Option<NoticeRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM notices WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Notice::try_from).transpose()
    }

    /// Notices by id, in no particular order; ids that do not exist are left out.
    pub async fn notices_by_ids(&self, ids: &[i64]) -> Result<Vec<Notice>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM notices WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, NoticeRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    /// Up to `limit` notices with an id above `after_id`, by id (for index rebuilds).
    pub async fn notices_after(&self, after_id: i64, limit: i64) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notices WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Notice::try_from).collect()
    }

    pub async fn count_notices(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notices")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The notices that follow announcement `id`, oldest first.
    pub async fn later_notices(&self, id: i64) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM notices WHERE related_id = $1 ORDER BY publish_at, id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Notice::try_from).collect()
    }

    /// The later notices of several announcements at once (for index pages).
    pub async fn later_notices_of(&self, ids: &[i64]) -> Result<Vec<Notice>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM notices WHERE related_id IN ({}) ORDER BY publish_at, id",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, NoticeRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(row.try_into()?);
            }
        }
        Ok(out)
    }

    /// Every URL a notice was seen at: (site, url).
    pub async fn notice_sources(&self, id: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT source_site, source_url FROM notice_sources WHERE notice_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The content hash stored for a URL, if the page was seen before.
    pub async fn notice_hash_by_url(&self, url: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT content_hash FROM notice_sources WHERE source_url = $1")
                .bind(url)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Plain SQL `LIKE` search over title and text (the benchmark's baseline).
    pub async fn notice_ids_like(&self, word: &str, limit: i64) -> Result<Vec<i64>> {
        let pattern = format!("%{}%", word.replace(['%', '_'], ""));
        Ok(sqlx::query_scalar(
            "SELECT id FROM notices WHERE title LIKE $1 OR body_text LIKE $1 ORDER BY publish_date DESC LIMIT $2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn find_existing(conn: &mut AnyConnection, n: &NewNotice) -> Result<Option<(i64, String)>> {
    let by_url: Option<i64> =
        sqlx::query_scalar("SELECT notice_id FROM notice_sources WHERE source_url = $1")
            .bind(&n.source_url)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(id) = by_url {
        let hash: String = sqlx::query_scalar("SELECT content_hash FROM notices WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        return Ok(Some((id, hash)));
    }
    if let (Some(code), Some(purchaser)) = (&n.project_code, &n.purchaser) {
        // A project has one notice of each type, except corrections: several may follow
        // one announcement, told apart by their date.
        let found: Option<(i64, String)> = if n.notice_type == NoticeType::Correction {
            sqlx::query_as(
                "SELECT id, content_hash FROM notices WHERE project_code = $1 AND purchaser = $2 \
                 AND notice_type = $3 AND publish_date = $4 ORDER BY id LIMIT 1",
            )
            .bind(code)
            .bind(purchaser)
            .bind(n.notice_type.as_str())
            .bind(n.publish_date.as_deref().unwrap_or(""))
            .fetch_optional(&mut *conn)
            .await?
        } else {
            sqlx::query_as(
                "SELECT id, content_hash FROM notices WHERE project_code = $1 AND purchaser = $2 \
                 AND notice_type = $3 ORDER BY id LIMIT 1",
            )
            .bind(code)
            .bind(purchaser)
            .bind(n.notice_type.as_str())
            .fetch_optional(&mut *conn)
            .await?
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(sqlx::query_as(
        "SELECT id, content_hash FROM notices WHERE content_hash = $1 ORDER BY id LIMIT 1",
    )
    .bind(&n.content_hash)
    .fetch_optional(&mut *conn)
    .await?)
}

async fn upsert_in(conn: &mut AnyConnection, n: &NewNotice, now: i64) -> Result<NoticeUpsert> {
    let existing = find_existing(conn, n).await?;
    let outcome = match existing {
        Some((id, hash)) if hash == n.content_hash => NoticeUpsert::Unchanged(id),
        Some((id, _)) => {
            write_fields(conn, Some(id), n, now).await?;
            NoticeUpsert::Updated(id)
        }
        None => NoticeUpsert::Created(write_fields(conn, None, n, now).await?),
    };
    let id = outcome.id();
    let known_url: Option<i64> =
        sqlx::query_scalar("SELECT id FROM notice_sources WHERE source_url = $1")
            .bind(&n.source_url)
            .fetch_optional(&mut *conn)
            .await?;
    match known_url {
        Some(source_row) => {
            sqlx::query("UPDATE notice_sources SET content_hash = $1, seen_at = $2 WHERE id = $3")
                .bind(&n.content_hash)
                .bind(now)
                .bind(source_row)
                .execute(&mut *conn)
                .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO notice_sources (notice_id, source_site, source_url, content_hash, seen_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&n.source_site)
            .bind(&n.source_url)
            .bind(&n.content_hash)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    if !matches!(outcome, NoticeUpsert::Unchanged(_)) {
        link(conn, id, n, now).await?;
        outbox::record(conn, NOTICES, &id.to_string(), now).await?;
    }
    Ok(outcome)
}

async fn write_fields(
    conn: &mut AnyConnection,
    id: Option<i64>,
    n: &NewNotice,
    now: i64,
) -> Result<i64> {
    let sql_insert = "INSERT INTO notices (source_id, title, notice_type, procurement_method, \
        project_code, project_name, purchaser, purchaser_address, agency, region_code, town_code, \
        item_category, budget_fen, max_price_fen, publish_date, publish_at, doc_from, doc_to, \
        deadline, deadline_at, opening, winner, award_fen, packages, changes, categories, \
        body_text, source_site, source_url, original_html, content_hash, state, sample, \
        created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
        $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
        $31, $32, $33, $34, $34) RETURNING id";
    let sql_update = "UPDATE notices SET source_id = COALESCE($1, source_id), title = $2, \
        notice_type = $3, procurement_method = $4, project_code = $5, project_name = $6, \
        purchaser = $7, purchaser_address = $8, agency = $9, region_code = $10, town_code = $11, \
        item_category = $12, budget_fen = $13, max_price_fen = $14, publish_date = $15, \
        publish_at = $16, doc_from = $17, doc_to = $18, deadline = $19, deadline_at = $20, \
        opening = $21, winner = $22, award_fen = $23, packages = $24, changes = $25, \
        categories = $26, body_text = $27, source_site = $28, source_url = $29, \
        original_html = $30, content_hash = $31, sample = $33, updated_at = $34, \
        state = CASE WHEN state IN ('open', 'unlinked') THEN $32 ELSE state END \
        WHERE id = $35 RETURNING id";
    let initial_state = if n.notice_type.is_announcement() {
        "open"
    } else {
        "unlinked"
    };
    let query = sqlx::query_scalar::<_, i64>(if id.is_some() { sql_update } else { sql_insert })
        .bind(&n.source_id)
        .bind(&n.title)
        .bind(n.notice_type.as_str())
        .bind(&n.procurement_method)
        .bind(&n.project_code)
        .bind(&n.project_name)
        .bind(&n.purchaser)
        .bind(&n.purchaser_address)
        .bind(&n.agency)
        .bind(&n.region_code)
        .bind(&n.town_code)
        .bind(&n.item_category)
        .bind(opt_money(n.budget))
        .bind(opt_money(n.max_price))
        .bind(&n.publish_date)
        .bind(n.publish_at)
        .bind(&n.doc_from)
        .bind(&n.doc_to)
        .bind(&n.deadline)
        .bind(n.deadline_at)
        .bind(&n.opening)
        .bind(&n.winner)
        .bind(opt_money(n.award))
        .bind(json_or_null(&n.packages))
        .bind(json_or_null(&n.changes))
        .bind(n.categories.join(","))
        .bind(&n.body_text)
        .bind(&n.source_site)
        .bind(&n.source_url)
        .bind(&n.original_html)
        .bind(&n.content_hash)
        .bind(initial_state)
        .bind(i64::from(n.sample))
        .bind(now);
    let query = match id {
        Some(id) => query.bind(id),
        None => query,
    };
    Ok(query.fetch_one(&mut *conn).await?)
}

/// Links a follow-up notice to its announcement and an announcement to the follow-ups
/// already stored (pages may arrive in any order), then recomputes the announcement's state.
async fn link(conn: &mut AnyConnection, id: i64, n: &NewNotice, now: i64) -> Result<()> {
    let (Some(code), Some(purchaser)) = (&n.project_code, &n.purchaser) else {
        return Ok(());
    };
    let announcement: Option<i64> = if n.notice_type.follows_an_announcement() {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM notices WHERE project_code = $1 AND purchaser = $2 AND id <> $3 \
             AND notice_type IN ('招标公告', '竞争性磋商公告', '竞争性谈判公告', '询价公告', \
             '单一来源采购公示', '资格预审公告') ORDER BY publish_at, id LIMIT 1",
        )
        .bind(code)
        .bind(purchaser)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        sqlx::query("UPDATE notices SET related_id = $1, state = $2 WHERE id = $3")
            .bind(found)
            .bind(if found.is_some() {
                "linked"
            } else {
                "unlinked"
            })
            .bind(id)
            .execute(&mut *conn)
            .await?;
        found
    } else if n.notice_type.is_announcement() {
        let followers: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM notices WHERE project_code = $1 AND purchaser = $2 AND related_id IS NULL \
             AND notice_type IN ('中标(成交)结果公告', '更正公告', '终止公告', '合同公告')",
        )
        .bind(code)
        .bind(purchaser)
        .fetch_all(&mut *conn)
        .await?;
        for follower in &followers {
            sqlx::query("UPDATE notices SET related_id = $1, state = 'linked' WHERE id = $2")
                .bind(id)
                .bind(follower)
                .execute(&mut *conn)
                .await?;
            outbox::record(conn, NOTICES, &follower.to_string(), now).await?;
        }
        Some(id)
    } else {
        None
    };
    if let Some(announcement) = announcement {
        let closers: Vec<String> = sqlx::query_scalar(
            "SELECT notice_type FROM notices WHERE related_id = $1 \
             AND notice_type IN ('中标(成交)结果公告', '终止公告') ORDER BY publish_at DESC, id DESC",
        )
        .bind(announcement)
        .fetch_all(&mut *conn)
        .await?;
        let state = match closers.first().map(String::as_str) {
            Some("终止公告") => "terminated",
            Some(_) => "awarded",
            None => "open",
        };
        sqlx::query("UPDATE notices SET state = $1 WHERE id = $2")
            .bind(state)
            .bind(announcement)
            .execute(&mut *conn)
            .await?;
        if announcement != id {
            outbox::record(conn, NOTICES, &announcement.to_string(), now).await?;
        }
    }
    Ok(())
}
