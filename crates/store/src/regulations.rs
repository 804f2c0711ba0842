//! 标准政策: documents (laws, regulations, rules, standards), their links (amends,
//! replaces), attached files, interpretations and knowledge-base articles, and the
//! feeds documents are synced from.
//!
//! Every write of a document adds a search-outbox row for the `regulations` collection
//! in the same transaction.

use crate::{FileRecord, Result, Store, StoreError};
use greenbridge_domain::regulation::{Domain, Level, Scope, Status};
use greenbridge_domain::time::format_date;
use sqlx::AnyConnection;
use time::Date;

/// The search collection of documents (the outbox rows' `collection`).
pub const COLLECTION: &str = "regulations";

/// How one document links to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The document amends (修改, 修正) the other.
    Amends,
    /// The document replaces (and so repeals) the other.
    Replaces,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Amends => "amends",
            LinkKind::Replaces => "replaces",
        }
    }

    fn parse(value: &str) -> Result<LinkKind> {
        match value {
            "amends" => Ok(LinkKind::Amends),
            "replaces" => Ok(LinkKind::Replaces),
            other => Err(StoreError::Corrupt(format!(
                "regulation link kind {other:?}"
            ))),
        }
    }
}

/// A document as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Regulation {
    pub id: i64,
    pub source_id: Option<String>,
    pub title: String,
    pub doc_number: Option<String>,
    pub number_key: Option<String>,
    pub issuer: String,
    pub level: Level,
    /// Standards only: mandatory (true) or recommended (false).
    pub mandatory: Option<bool>,
    pub domains: Vec<Domain>,
    pub scope: Scope,
    pub published: Option<Date>,
    pub effective: Option<Date>,
    pub revised: Vec<Date>,
    /// As recorded and kept current by the daily status job; see [`Regulation::status_on`].
    pub status: Status,
    pub summary: String,
    pub full_text: String,
    /// `import`, `admin` or `feed`.
    pub origin: String,
    pub sample: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Regulation {
    /// The status on `today`, from the recorded status and the effective date (a
    /// replacement that has come into force is checked by the caller, who knows it).
    pub fn status_on(&self, today: Date) -> Status {
        self.status.at(self.effective, today)
    }
}

/// A document to write: everything but the id and the times.
#[derive(Debug, Clone, PartialEq)]
pub struct RegulationInput {
    pub source_id: Option<String>,
    pub title: String,
    pub doc_number: Option<String>,
    pub number_key: Option<String>,
    pub issuer: String,
    pub level: Level,
    pub mandatory: Option<bool>,
    pub domains: Vec<Domain>,
    pub scope: Scope,
    pub published: Option<Date>,
    pub effective: Option<Date>,
    pub revised: Vec<Date>,
    pub status: Status,
    pub summary: String,
    pub full_text: String,
    pub origin: String,
    pub sample: bool,
}

impl RegulationInput {
    /// The input that would write `regulation` as it is (for edits and comparisons).
    pub fn from_regulation(r: &Regulation) -> RegulationInput {
        RegulationInput {
            source_id: r.source_id.clone(),
            title: r.title.clone(),
            doc_number: r.doc_number.clone(),
            number_key: r.number_key.clone(),
            issuer: r.issuer.clone(),
            level: r.level,
            mandatory: r.mandatory,
            domains: r.domains.clone(),
            scope: r.scope.clone(),
            published: r.published,
            effective: r.effective,
            revised: r.revised.clone(),
            status: r.status,
            summary: r.summary.clone(),
            full_text: r.full_text.clone(),
            origin: r.origin.clone(),
            sample: r.sample,
        }
    }

    /// Whether writing `self` over `existing` would change what is stored (the
    /// origin of an existing document is kept).
    pub fn same_as(&self, existing: &Regulation) -> bool {
        let mut current = RegulationInput::from_regulation(existing);
        current.origin = self.origin.clone();
        *self == current
    }
}

/// What [`Store::upsert_regulation`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

impl Upserted {
    pub fn id(self) -> i64 {
        match self {
            Upserted::Created(id) | Upserted::Updated(id) | Upserted::Unchanged(id) => id,
        }
    }
}

/// A linked document, for the document page.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedRegulation {
    pub kind: LinkKind,
    pub id: i64,
    pub title: String,
    pub doc_number: Option<String>,
    pub status: Status,
    pub effective: Option<Date>,
}

/// The links of one document, both ways.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegulationLinks {
    /// Documents that replace this one.
    pub replaced_by: Vec<LinkedRegulation>,
    /// Documents this one replaces.
    pub replaces: Vec<LinkedRegulation>,
    /// Documents that amend this one.
    pub amended_by: Vec<LinkedRegulation>,
    /// Documents this one amends.
    pub amends: Vec<LinkedRegulation>,
}

/// A file attached to a document.
#[derive(Debug, Clone)]
pub struct RegulationFile {
    pub file: FileRecord,
    /// The document's full text was taken from this file.
    pub text_extracted: bool,
    /// Why the text could not be taken, when it could not.
    pub note: String,
    pub created_at: i64,
}

/// 政策解读 or 业务知识库.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleKind {
    Interpretation,
    Knowledge,
}

impl ArticleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleKind::Interpretation => "interpretation",
            ArticleKind::Knowledge => "knowledge",
        }
    }

    pub fn parse(value: &str) -> Option<ArticleKind> {
        match value {
            "interpretation" => Some(ArticleKind::Interpretation),
            "knowledge" => Some(ArticleKind::Knowledge),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ArticleKind::Interpretation => "政策解读",
            ArticleKind::Knowledge => "业务知识库",
        }
    }
}

/// An interpretation or knowledge-base article.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: i64,
    pub kind: ArticleKind,
    pub title: String,
    /// Sanitised HTML.
    pub body_html: String,
    pub author_account_id: Option<i64>,
    pub author_name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An article to write; `body_html` must already be sanitised.
#[derive(Debug, Clone)]
pub struct ArticleInput<'a> {
    pub kind: ArticleKind,
    pub title: &'a str,
    pub body_html: &'a str,
    pub author_account_id: Option<i64>,
    pub author_name: &'a str,
    /// The documents the article explains.
    pub regulation_ids: &'a [i64],
}

/// A feed documents are synced from.
#[derive(Debug, Clone)]
pub struct Feed {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub default_level: Level,
    pub default_scope: Scope,
    pub default_issuer: String,
    pub interval_hours: i64,
    pub enabled: bool,
    pub last_run_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct FeedInput<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub default_level: Level,
    pub default_scope: &'a Scope,
    pub default_issuer: &'a str,
    pub interval_hours: i64,
}

/// One sync run of a feed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedRun {
    pub id: i64,
    pub feed_id: i64,
    pub started_at: i64,
    pub finished_at: i64,
    /// `ok` or `failed`.
    pub outcome: String,
    pub entries: i64,
    pub created: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub message: String,
}

#[derive(sqlx::FromRow)]
struct RegulationRow {
    id: i64,
    source_id: Option<String>,
    title: String,
    doc_number: Option<String>,
    number_key: Option<String>,
    issuer: String,
    level: String,
    mandatory: Option<i64>,
    domains: String,
    scope: String,
    published: Option<String>,
    effective: Option<String>,
    revised: String,
    status: String,
    summary: String,
    full_text: String,
    origin: String,
    sample: i64,
    created_at: i64,
    updated_at: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("regulation {what} {value:?}"))
}

fn parse_date(value: &str) -> Result<Date> {
    greenbridge_domain::time::parse_date(value).map_err(|_| corrupt("date", value))
}

fn join_dates(dates: &[Date]) -> String {
    dates
        .iter()
        .map(|d| format_date(*d))
        .collect::<Vec<_>>()
        .join(",")
}

fn join_domains(domains: &[Domain]) -> String {
    domains
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl TryFrom<RegulationRow> for Regulation {
    type Error = StoreError;
    fn try_from(row: RegulationRow) -> Result<Regulation> {
        let domains = row
            .domains
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| Domain::parse(d).map_err(|_| corrupt("domain", d)))
            .collect::<Result<Vec<_>>>()?;
        let revised = row
            .revised
            .split(',')
            .filter(|d| !d.is_empty())
            .map(parse_date)
            .collect::<Result<Vec<_>>>()?;
        Ok(Regulation {
            id: row.id,
            source_id: row.source_id,
            title: row.title,
            doc_number: row.doc_number,
            number_key: row.number_key,
            issuer: row.issuer,
            level: Level::parse(&row.level).map_err(|_| corrupt("level", &row.level))?,
            mandatory: row.mandatory.map(|m| m != 0),
            domains,
            scope: Scope::from_key(&row.scope).ok_or_else(|| corrupt("scope", &row.scope))?,
            published: row.published.as_deref().map(parse_date).transpose()?,
            effective: row.effective.as_deref().map(parse_date).transpose()?,
            revised,
            status: Status::parse(&row.status).map_err(|_| corrupt("status", &row.status))?,
            summary: row.summary,
            full_text: row.full_text,
            origin: row.origin,
            sample: row.sample != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const COLUMNS: &str = "id, source_id, title, doc_number, number_key, issuer, level, mandatory, \
    domains, scope, published, effective, revised, status, summary, full_text, origin, sample, \
    created_at, updated_at";

async fn insert(conn: &mut AnyConnection, input: &RegulationInput, now: i64) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO regulations (source_id, title, doc_number, number_key, issuer, level, \
         mandatory, domains, scope, published, effective, revised, status, summary, full_text, \
         origin, sample, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id",
    )
    .bind(input.source_id.as_deref())
    .bind(&input.title)
    .bind(input.doc_number.as_deref())
    .bind(input.number_key.as_deref())
    .bind(&input.issuer)
    .bind(input.level.as_str())
    .bind(input.mandatory.map(i64::from))
    .bind(join_domains(&input.domains))
    .bind(input.scope.key())
    .bind(input.published.map(format_date))
    .bind(input.effective.map(format_date))
    .bind(join_dates(&input.revised))
    .bind(input.status.as_str())
    .bind(&input.summary)
    .bind(&input.full_text)
    .bind(&input.origin)
    .bind(i64::from(input.sample))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    crate::outbox::record(conn, COLLECTION, &id.to_string(), now).await?;
    bump_changes(conn).await?;
    Ok(id)
}

/// Raises the regulations' change counter (see [`Store::regulations_generation`]).
async fn bump_changes(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE change_counters SET value = value + 1 WHERE name = 'regulations'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn update(
    conn: &mut AnyConnection,
    id: i64,
    input: &RegulationInput,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE regulations SET source_id = $1, title = $2, doc_number = $3, number_key = $4, \
         issuer = $5, level = $6, mandatory = $7, domains = $8, scope = $9, published = $10, \
         effective = $11, revised = $12, status = $13, summary = $14, full_text = $15, \
         sample = $16, updated_at = $17 WHERE id = $18",
    )
    .bind(input.source_id.as_deref())
    .bind(&input.title)
    .bind(input.doc_number.as_deref())
    .bind(input.number_key.as_deref())
    .bind(&input.issuer)
    .bind(input.level.as_str())
    .bind(input.mandatory.map(i64::from))
    .bind(join_domains(&input.domains))
    .bind(input.scope.key())
    .bind(input.published.map(format_date))
    .bind(input.effective.map(format_date))
    .bind(join_dates(&input.revised))
    .bind(input.status.as_str())
    .bind(&input.summary)
    .bind(&input.full_text)
    .bind(i64::from(input.sample))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    crate::outbox::record(conn, COLLECTION, &id.to_string(), now).await?;
    bump_changes(conn).await
}

impl Store {
    /// Adds a document; `Conflict` when its source id or number is taken.
    pub async fn insert_regulation(&self, input: &RegulationInput, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert(&mut tx, input, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a document's fields (its origin and creation time stay).
    pub async fn update_regulation(
        &self,
        id: i64,
        input: &RegulationInput,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        update(&mut tx, id, input, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates the document with `input.source_id`, or brings the existing one up to
    /// `input`; writes nothing when it already says the same. `input.source_id` must be
    /// set.
    pub async fn upsert_regulation(&self, input: &RegulationInput, now: i64) -> Result<Upserted> {
        let source_id = input
            .source_id
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt("upsert without a source id".into()))?;
        match self.regulation_by_source(source_id).await? {
            None => Ok(Upserted::Created(self.insert_regulation(input, now).await?)),
            Some(existing) if input.same_as(&existing) => Ok(Upserted::Unchanged(existing.id)),
            Some(existing) => {
                self.update_regulation(existing.id, input, now).await?;
                Ok(Upserted::Updated(existing.id))
            }
        }
    }

    pub async fn regulation(&self, id: i64) -> Result<Regulation> {
        self.find_regulation(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn find_regulation(&self, id: i64) -> Result<Option<Regulation>> {
        let row: Option<RegulationRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM regulations WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Regulation::try_from).transpose()
    }

    /// The documents with these ids, in the order of `ids` (missing ones left out).
    pub async fn regulations_by_ids(&self, ids: &[i64]) -> Result<Vec<Regulation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers, so they can be written into the statement safely; one
        // query instead of one per hit keeps a results page fast.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows: Vec<RegulationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM regulations WHERE id IN ({list})"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut found: Vec<Regulation> = rows
            .into_iter()
            .map(Regulation::try_from)
            .collect::<Result<_>>()?;
        found.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(found)
    }

    pub async fn regulation_by_source(&self, source_id: &str) -> Result<Option<Regulation>> {
        let row: Option<RegulationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM regulations WHERE source_id = $1"
        ))
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Regulation::try_from).transpose()
    }

    pub async fn regulation_by_number_key(&self, key: &str) -> Result<Option<Regulation>> {
        let row: Option<RegulationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM regulations WHERE number_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Regulation::try_from).transpose()
    }

    /// Documents in id order after `after_id` (the search rebuild reads them in pages).
    pub async fn regulations_after(&self, after_id: i64, limit: i64) -> Result<Vec<Regulation>> {
        let rows: Vec<RegulationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM regulations WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Regulation::try_from).collect()
    }

    pub async fn count_regulations(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM regulations")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Titles and numbers of every document, newest first, for pickers on forms.
    pub async fn regulation_choices(&self, limit: i64) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, title, doc_number FROM regulations ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, title, number)| match number {
                Some(n) => (id, format!("{title}（{n}）")),
                None => (id, title),
            })
            .collect())
    }

    /// Makes `from_id` the document that `kind`-links exactly `to_ids` (replacing the
    /// links of that kind it had). The linked documents are re-indexed too (their
    /// "replaced by" changes what they show).
    pub async fn set_regulation_links(
        &self,
        from_id: i64,
        kind: LinkKind,
        to_ids: &[i64],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let current: Vec<i64> = sqlx::query_scalar(
            "SELECT to_id FROM regulation_links WHERE from_id = $1 AND kind = $2",
        )
        .bind(from_id)
        .bind(kind.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut wanted: Vec<i64> = to_ids.iter().copied().filter(|&t| t != from_id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut sorted = current.clone();
        sorted.sort_unstable();
        if sorted == wanted {
            return Ok(false);
        }
        sqlx::query("DELETE FROM regulation_links WHERE from_id = $1 AND kind = $2")
            .bind(from_id)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
        for to_id in &wanted {
            sqlx::query("INSERT INTO regulation_links (from_id, to_id, kind) VALUES ($1, $2, $3)")
                .bind(from_id)
                .bind(to_id)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let mut touched: Vec<i64> = current.into_iter().chain(wanted).collect();
        touched.push(from_id);
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            crate::outbox::record(&mut tx, COLLECTION, &id.to_string(), now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Adds one link (keeping the others); true when it was new.
    pub async fn add_regulation_link(
        &self,
        from_id: i64,
        kind: LinkKind,
        to_id: i64,
        now: i64,
    ) -> Result<bool> {
        let mut targets: Vec<i64> = sqlx::query_scalar(
            "SELECT to_id FROM regulation_links WHERE from_id = $1 AND kind = $2",
        )
        .bind(from_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        if targets.contains(&to_id) {
            return Ok(false);
        }
        targets.push(to_id);
        self.set_regulation_links(from_id, kind, &targets, now)
            .await
    }

    /// Ids this document links to with `kind`.
    pub async fn regulation_link_targets(&self, from_id: i64, kind: LinkKind) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT to_id FROM regulation_links WHERE from_id = $1 AND kind = $2 ORDER BY to_id",
        )
        .bind(from_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// The documents linked with `id`, both ways.
    pub async fn regulation_links(&self, id: i64) -> Result<RegulationLinks> {
        type LinkRow = (String, i64, String, Option<String>, String, Option<String>);
        let outgoing: Vec<LinkRow> = sqlx::query_as(
            "SELECT l.kind, r.id, r.title, r.doc_number, r.status, r.effective \
             FROM regulation_links l JOIN regulations r ON r.id = l.to_id \
             WHERE l.from_id = $1 ORDER BY r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let incoming: Vec<LinkRow> = sqlx::query_as(
            "SELECT l.kind, r.id, r.title, r.doc_number, r.status, r.effective \
             FROM regulation_links l JOIN regulations r ON r.id = l.from_id \
             WHERE l.to_id = $1 ORDER BY r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let linked = |row: LinkRow| -> Result<LinkedRegulation> {
            Ok(LinkedRegulation {
                kind: LinkKind::parse(&row.0)?,
                id: row.1,
                title: row.2,
                doc_number: row.3,
                status: Status::parse(&row.4).map_err(|_| corrupt("status", &row.4))?,
                effective: row.5.as_deref().map(parse_date).transpose()?,
            })
        };
        let mut links = RegulationLinks::default();
        for row in outgoing {
            let l = linked(row)?;
            match l.kind {
                LinkKind::Replaces => links.replaces.push(l),
                LinkKind::Amends => links.amends.push(l),
            }
        }
        for row in incoming {
            let l = linked(row)?;
            match l.kind {
                LinkKind::Replaces => links.replaced_by.push(l),
                LinkKind::Amends => links.amended_by.push(l),
            }
        }
        Ok(links)
    }

    /// The source ids of the documents that replace `id` (for import comparisons).
    pub async fn regulation_replaced_by_sources(&self, id: i64) -> Result<Vec<Option<String>>> {
        Ok(sqlx::query_scalar(
            "SELECT r.source_id FROM regulation_links l JOIN regulations r ON r.id = l.from_id \
             WHERE l.to_id = $1 AND l.kind = 'replaces' ORDER BY r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Brings every recorded status up to `today` (the daily job): 尚未生效 whose date
    /// has come becomes 现行有效, and a document replaced by one now in force becomes
    /// 已废止. Each change is written with its outbox row, so the index agrees. Returns
    /// the ids changed.
    pub async fn refresh_regulation_statuses(&self, today: Date, now: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, status, effective FROM regulations WHERE status <> $1")
                .bind(Status::Repealed.as_str())
                .fetch_all(&self.pool)
                .await?;
        let mut changes: Vec<(i64, Status)> = Vec::new();
        let mut current: std::collections::HashMap<i64, Status> = Default::default();
        for (id, status, effective) in rows {
            let recorded = Status::parse(&status).map_err(|_| corrupt("status", &status))?;
            let effective = effective.as_deref().map(parse_date).transpose()?;
            let now_status = recorded.at(effective, today);
            current.insert(id, now_status);
            if now_status != recorded {
                changes.push((id, now_status));
            }
        }
        let replacements: Vec<(i64, i64)> =
            sqlx::query_as("SELECT from_id, to_id FROM regulation_links WHERE kind = 'replaces'")
                .fetch_all(&self.pool)
                .await?;
        for (new_id, old_id) in replacements {
            let new_in_force = matches!(
                current.get(&new_id),
                Some(Status::InForce | Status::Amended)
            );
            if new_in_force && current.get(&old_id).is_some_and(|s| s.is_current()) {
                changes.retain(|(id, _)| *id != old_id);
                changes.push((old_id, Status::Repealed));
                current.insert(old_id, Status::Repealed);
            }
        }
        let mut changed = Vec::with_capacity(changes.len());
        for (id, status) in changes {
            let mut tx = self.pool.begin().await?;
            sqlx::query("UPDATE regulations SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            crate::outbox::record(&mut tx, COLLECTION, &id.to_string(), now).await?;
            bump_changes(&mut tx).await?;
            tx.commit().await?;
            changed.push(id);
        }
        Ok(changed)
    }
}

impl Store {
    /// Deletes document `id` with its links (in both directions), its links to
    /// articles and its attachment rows, and queues its removal from the index,
    /// in one transaction. Returns the ids of the attached files, whose rows and
    /// bytes the caller removes (no other record uses a document's uploads);
    /// `None` when there is no such document. The statuses of the documents it
    /// replaced stay as recorded.
    pub async fn delete_regulation(&self, id: i64, now: i64) -> Result<Option<Vec<i64>>> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM regulations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let files: Vec<i64> =
            sqlx::query_scalar("SELECT file_id FROM regulation_files WHERE regulation_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        // The documents on the other end of a link change what their pages and
        // index documents say about it.
        let linked: Vec<i64> = sqlx::query_scalar(
            "SELECT to_id FROM regulation_links WHERE from_id = $1 \
             UNION SELECT from_id FROM regulation_links WHERE to_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for sql in [
            "DELETE FROM regulation_article_links WHERE regulation_id = $1",
            "DELETE FROM regulation_links WHERE from_id = $1 OR to_id = $1",
            "DELETE FROM regulation_files WHERE regulation_id = $1",
            "DELETE FROM regulations WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        for doc in std::iter::once(id).chain(linked) {
            crate::outbox::record(&mut tx, COLLECTION, &doc.to_string(), now).await?;
        }
        bump_changes(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(files))
    }

    /// Attaches a stored file to a document.
    pub async fn add_regulation_file(
        &self,
        regulation_id: i64,
        file_id: i64,
        text_extracted: bool,
        note: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO regulation_files (regulation_id, file_id, text_extracted, note, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(regulation_id)
        .bind(file_id)
        .bind(i64::from(text_extracted))
        .bind(note)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The files of a document, oldest first.
    pub async fn regulation_files(&self, regulation_id: i64) -> Result<Vec<RegulationFile>> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT file_id, text_extracted, note, created_at FROM regulation_files \
             WHERE regulation_id = $1 ORDER BY created_at, file_id",
        )
        .bind(regulation_id)
        .fetch_all(&self.pool)
        .await?;
        let mut files = Vec::with_capacity(rows.len());
        for (file_id, extracted, note, created_at) in rows {
            files.push(RegulationFile {
                file: self.file(file_id).await?,
                text_extracted: extracted != 0,
                note,
                created_at,
            });
        }
        Ok(files)
    }

    /// Whether `file_id` is attached to `regulation_id` (downloads check this).
    pub async fn regulation_has_file(&self, regulation_id: i64, file_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM regulation_files WHERE regulation_id = $1 AND file_id = $2",
        )
        .bind(regulation_id)
        .bind(file_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    kind: String,
    title: String,
    body_html: String,
    author_account_id: Option<i64>,
    author_name: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ArticleRow> for Article {
    type Error = StoreError;
    fn try_from(row: ArticleRow) -> Result<Article> {
        Ok(Article {
            kind: ArticleKind::parse(&row.kind)
                .ok_or_else(|| corrupt("article kind", &row.kind))?,
            id: row.id,
            title: row.title,
            body_html: row.body_html,
            author_account_id: row.author_account_id,
            author_name: row.author_name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const ARTICLE_COLUMNS: &str =
    "id, kind, title, body_html, author_account_id, author_name, created_at, updated_at";

async fn link_article(
    conn: &mut AnyConnection,
    article_id: i64,
    regulation_ids: &[i64],
) -> Result<()> {
    sqlx::query("DELETE FROM regulation_article_links WHERE article_id = $1")
        .bind(article_id)
        .execute(&mut *conn)
        .await?;
    let mut ids = regulation_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        sqlx::query(
            "INSERT INTO regulation_article_links (article_id, regulation_id) VALUES ($1, $2)",
        )
        .bind(article_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    pub async fn insert_article(&self, input: &ArticleInput<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO regulation_articles (kind, title, body_html, author_account_id, \
             author_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(input.kind.as_str())
        .bind(input.title)
        .bind(input.body_html)
        .bind(input.author_account_id)
        .bind(input.author_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        link_article(&mut tx, id, input.regulation_ids).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Rewrites an article (its author stays).
    pub async fn update_article(&self, id: i64, input: &ArticleInput<'_>, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE regulation_articles SET kind = $1, title = $2, body_html = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(input.kind.as_str())
        .bind(input.title)
        .bind(input.body_html)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        link_article(&mut tx, id, input.regulation_ids).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn article(&self, id: i64) -> Result<Article> {
        let row: ArticleRow = sqlx::query_as(&format!(
            "SELECT {ARTICLE_COLUMNS} FROM regulation_articles WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// Articles of a kind (or all), newest first.
    pub async fn articles(
        &self,
        kind: Option<ArticleKind>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Article>> {
        let rows: Vec<ArticleRow> = match kind {
            Some(kind) => {
                sqlx::query_as(&format!(
                    "SELECT {ARTICLE_COLUMNS} FROM regulation_articles WHERE kind = $1 \
                     ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(kind.as_str())
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {ARTICLE_COLUMNS} FROM regulation_articles \
                     ORDER BY updated_at DESC, id DESC LIMIT $1 OFFSET $2"
                ))
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(Article::try_from).collect()
    }

    /// The articles that explain a document, newest first.
    pub async fn articles_for_regulation(&self, regulation_id: i64) -> Result<Vec<Article>> {
        let rows: Vec<ArticleRow> = sqlx::query_as(&format!(
            "SELECT {} FROM regulation_articles a JOIN regulation_article_links l \
             ON l.article_id = a.id WHERE l.regulation_id = $1 ORDER BY a.updated_at DESC, a.id DESC",
            ARTICLE_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(regulation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Article::try_from).collect()
    }

    /// The documents an article explains.
    pub async fn article_regulations(&self, article_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT regulation_id FROM regulation_article_links WHERE article_id = $1 \
             ORDER BY regulation_id",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    id: i64,
    name: String,
    url: String,
    default_level: String,
    default_scope: String,
    default_issuer: String,
    interval_hours: i64,
    enabled: i64,
    last_run_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<FeedRow> for Feed {
    type Error = StoreError;
    fn try_from(row: FeedRow) -> Result<Feed> {
        Ok(Feed {
            default_level: Level::parse(&row.default_level)
                .map_err(|_| corrupt("feed level", &row.default_level))?,
            default_scope: Scope::from_key(&row.default_scope)
                .ok_or_else(|| corrupt("feed scope", &row.default_scope))?,
            id: row.id,
            name: row.name,
            url: row.url,
            default_issuer: row.default_issuer,
            interval_hours: row.interval_hours,
            enabled: row.enabled != 0,
            last_run_at: row.last_run_at,
            created_at: row.created_at,
        })
    }
}

const FEED_COLUMNS: &str = "id, name, url, default_level, default_scope, default_issuer, \
    interval_hours, enabled, last_run_at, created_at";

impl Store {
    /// Adds a feed; `Conflict` when its URL is there already.
    pub async fn insert_feed(&self, input: &FeedInput<'_>, now: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO regulation_feeds (name, url, default_level, default_scope, \
             default_issuer, interval_hours, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(input.name)
        .bind(input.url)
        .bind(input.default_level.as_str())
        .bind(input.default_scope.key())
        .bind(input.default_issuer)
        .bind(input.interval_hours)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn set_feed_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE regulation_feeds SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn feed(&self, id: i64) -> Result<Feed> {
        let row: FeedRow = sqlx::query_as(&format!(
            "SELECT {FEED_COLUMNS} FROM regulation_feeds WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    pub async fn feeds(&self) -> Result<Vec<Feed>> {
        let rows: Vec<FeedRow> = sqlx::query_as(&format!(
            "SELECT {FEED_COLUMNS} FROM regulation_feeds ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Feed::try_from).collect()
    }

    /// Records a run and moves the feed's last run time.
    pub async fn record_feed_run(&self, run: &FeedRun) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO regulation_feed_runs (feed_id, started_at, finished_at, outcome, \
             entries, created, unchanged, rejected, message) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(run.feed_id)
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(&run.outcome)
        .bind(run.entries)
        .bind(run.created)
        .bind(run.unchanged)
        .bind(run.rejected)
        .bind(&run.message)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE regulation_feeds SET last_run_at = $1 WHERE id = $2")
            .bind(run.started_at)
            .bind(run.feed_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The latest runs of a feed, newest first.
    pub async fn feed_runs(&self, feed_id: i64, limit: i64) -> Result<Vec<FeedRun>> {
        Ok(sqlx::query_as(
            "SELECT id, feed_id, started_at, finished_at, outcome, entries, created, unchanged, \
             rejected, message FROM regulation_feed_runs WHERE feed_id = $1 \
             ORDER BY started_at DESC, id DESC LIMIT $2",
        )
        .bind(feed_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
