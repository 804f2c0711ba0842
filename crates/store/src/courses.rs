//! 绿色课堂: courses and their lessons, tags, loose links to regulations, view counts
//! and each learner's progress.
//!
//! A course comes from the course data file (`greenbridge import courses`, keyed by its
//! `source_id`) or is made on the site by staff; its lessons carry the files (video,
//! courseware, poster, WebVTT captions) as rows of `files`. Every write that changes
//! what the catalogue search finds adds a `courses` outbox row in its transaction.
//! View counts and progress do not: the catalogue sorts by views in SQL.

use crate::{Result, Store, StoreError};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The search collection (and outbox name) of courses.
pub const COURSES_COLLECTION: &str = "courses";

/// A course as the catalogue and the course page show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: i64,
    pub source_id: Option<String>,
    pub title: String,
    pub description: String,
    pub speaker: String,
    pub speaker_title: String,
    pub speaker_org: String,
    pub category: String,
    pub level: String,
    pub duration_minutes: i64,
    /// `YYYY-MM-DD`.
    pub published_at: String,
    pub poster_file_id: Option<i64>,
    pub sample: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<String>,
    /// Regulation references: a regulation data file id (`reg-0107`) or a title.
    pub regulations: Vec<String>,
    /// How many lessons the course has.
    pub lesson_count: i64,
    /// Views of all its lessons together.
    pub view_count: i64,
    /// The poster of its first lesson that has one (when the course has none itself).
    pub lesson_poster_file_id: Option<i64>,
}

impl Course {
    /// The poster to show: the course's own, else its first lesson's.
    pub fn poster(&self) -> Option<i64> {
        self.poster_file_id.or(self.lesson_poster_file_id)
    }
}

/// A course to create or to bring up to date.
#[derive(Debug, Clone)]
pub struct NewCourse<'a> {
    pub source_id: Option<&'a str>,
    pub title: &'a str,
    pub description: &'a str,
    pub speaker: &'a str,
    pub speaker_title: &'a str,
    pub speaker_org: &'a str,
    pub category: &'a str,
    pub level: &'a str,
    pub duration_minutes: i64,
    pub published_at: &'a str,
    pub tags: &'a [String],
    pub regulations: &'a [String],
    pub sample: bool,
    pub created_by: Option<i64>,
}

impl NewCourse<'_> {
    /// A digest of everything an import sets: equal digests mean nothing to update.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let duration = self.duration_minutes.to_string();
        let mut parts: Vec<&str> = vec![
            self.source_id.unwrap_or(""),
            self.title,
            self.description,
            self.speaker,
            self.speaker_title,
            self.speaker_org,
            self.category,
            self.level,
            &duration,
            self.published_at,
            if self.sample { "sample" } else { "real" },
            "tags",
        ];
        parts.extend(self.tags.iter().map(String::as_str));
        parts.push("regulations");
        parts.extend(self.regulations.iter().map(String::as_str));
        for part in parts {
            hasher.update(part.as_bytes());
            // A separator no field contains, so that moving text between fields
            // changes the digest.
            hasher.update([0x1f]);
        }
        data_encoding::HEXLOWER.encode(&hasher.finalize())
    }
}

/// What [`Store::upsert_course`] did.
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

/// Which courses to list. Empty lists restrict nothing; a repeated value means any.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    pub categories: Vec<String>,
    /// The course has at least one of these tags.
    pub tags: Vec<String>,
    /// Only these ids (the hits of a keyword search), when set.
    pub ids: Option<Vec<i64>>,
}

/// One lesson of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub id: i64,
    pub course_id: i64,
    pub position: i64,
    pub title: String,
    pub description: String,
    pub speaker: String,
    pub duration_seconds: i64,
    pub video_file_id: Option<i64>,
    pub courseware_file_id: Option<i64>,
    pub poster_file_id: Option<i64>,
    pub captions_file_id: Option<i64>,
    pub transcript: String,
    pub view_count: i64,
    pub source_key: Option<String>,
    pub created_at: i64,
}

/// The texts of a lesson, as staff edit them.
#[derive(Debug, Clone, Copy)]
pub struct LessonText<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// Empty: the course's speaker.
    pub speaker: &'a str,
    pub duration_seconds: i64,
    pub transcript: &'a str,
}

/// A lesson's files, or the files to put in place of them (`None`: that file
/// stays).
#[derive(Debug, Clone, Copy, Default)]
pub struct LessonFiles {
    pub video: Option<i64>,
    pub captions: Option<i64>,
    pub courseware: Option<i64>,
    pub poster: Option<i64>,
}

impl LessonFiles {
    fn all(&self) -> [Option<i64>; 4] {
        [self.video, self.captions, self.courseware, self.poster]
    }
}

/// A lesson to add to a course (at the end).
#[derive(Debug, Clone, Default)]
pub struct NewLesson<'a> {
    pub course_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub speaker: &'a str,
    pub duration_seconds: i64,
    pub video_file_id: Option<i64>,
    pub courseware_file_id: Option<i64>,
    pub poster_file_id: Option<i64>,
    pub captions_file_id: Option<i64>,
    pub transcript: &'a str,
    pub source_key: Option<&'a str>,
    pub created_by: Option<i64>,
}

/// A learner's progress in one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub lesson_id: i64,
    pub position_seconds: i64,
    pub done: bool,
    pub updated_at: i64,
}

/// A course a learner has started, for 我的学习.
#[derive(Debug, Clone)]
pub struct Learning {
    pub course: Course,
    pub lessons_started: i64,
    pub lessons_done: i64,
    pub last_at: i64,
}

impl Learning {
    /// Every lesson of the course is done (and it has lessons).
    pub fn finished(&self) -> bool {
        self.course.lesson_count > 0 && self.lessons_done >= self.course.lesson_count
    }
}

const COURSE_COLUMNS: &str = "c.id, c.source_id, c.title, c.description, c.speaker, \
    c.speaker_title, c.speaker_org, c.category, c.level, c.duration_minutes, c.published_at, \
    c.poster_file_id, c.sample, c.created_at, c.updated_at, \
    (SELECT COUNT(*) FROM course_lessons l WHERE l.course_id = c.id) AS lesson_count, \
    (SELECT CAST(COALESCE(SUM(l.view_count), 0) AS BIGINT) FROM course_lessons l \
     WHERE l.course_id = c.id) AS view_count, \
    (SELECT l.poster_file_id FROM course_lessons l WHERE l.course_id = c.id \
     AND l.poster_file_id IS NOT NULL ORDER BY l.position, l.id LIMIT 1) AS lesson_poster_file_id";

const LESSON_COLUMNS: &str = "id, course_id, position, title, description, speaker, \
    duration_seconds, video_file_id, courseware_file_id, poster_file_id, captions_file_id, \
    transcript, view_count, source_key, created_at";

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: i64,
    source_id: Option<String>,
    title: String,
    description: String,
    speaker: String,
    speaker_title: String,
    speaker_org: String,
    category: String,
    level: String,
    duration_minutes: i64,
    published_at: String,
    poster_file_id: Option<i64>,
    sample: i64,
    created_at: i64,
    updated_at: i64,
    lesson_count: i64,
    view_count: i64,
    lesson_poster_file_id: Option<i64>,
}

impl From<CourseRow> for Course {
    fn from(row: CourseRow) -> Course {
        Course {
            id: row.id,
            source_id: row.source_id,
            title: row.title,
            description: row.description,
            speaker: row.speaker,
            speaker_title: row.speaker_title,
            speaker_org: row.speaker_org,
            category: row.category,
            level: row.level,
            duration_minutes: row.duration_minutes,
            published_at: row.published_at,
            poster_file_id: row.poster_file_id,
            sample: row.sample != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
            tags: Vec::new(),
            regulations: Vec::new(),
            lesson_count: row.lesson_count,
            view_count: row.view_count,
            lesson_poster_file_id: row.lesson_poster_file_id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LessonRow {
    id: i64,
    course_id: i64,
    position: i64,
    title: String,
    description: String,
    speaker: String,
    duration_seconds: i64,
    video_file_id: Option<i64>,
    courseware_file_id: Option<i64>,
    poster_file_id: Option<i64>,
    captions_file_id: Option<i64>,
    transcript: String,
    view_count: i64,
    source_key: Option<String>,
    created_at: i64,
}

impl From<LessonRow> for Lesson {
    fn from(row: LessonRow) -> Lesson {
        Lesson {
            id: row.id,
            course_id: row.course_id,
            position: row.position,
            title: row.title,
            description: row.description,
            speaker: row.speaker,
            duration_seconds: row.duration_seconds,
            video_file_id: row.video_file_id,
            courseware_file_id: row.courseware_file_id,
            poster_file_id: row.poster_file_id,
            captions_file_id: row.captions_file_id,
            transcript: row.transcript,
            view_count: row.view_count,
            source_key: row.source_key,
            created_at: row.created_at,
        }
    }
}

/// The course of lesson `lesson_id` and the lesson's files, `None` when there is no
/// such lesson.
async fn lesson_files(
    conn: &mut sqlx::AnyConnection,
    lesson_id: i64,
) -> Result<Option<(i64, LessonFiles)>> {
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT course_id, video_file_id, captions_file_id, courseware_file_id, \
             poster_file_id FROM course_lessons WHERE id = $1",
    )
    .bind(lesson_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(course_id, video, captions, courseware, poster)| {
        (
            course_id,
            LessonFiles {
                video,
                captions,
                courseware,
                poster,
            },
        )
    }))
}

/// Of the files `candidates`, those no lesson and no course uses any more.
async fn unused_files(
    conn: &mut sqlx::AnyConnection,
    candidates: impl IntoIterator<Item = Option<i64>>,
) -> Result<Vec<i64>> {
    let mut unused = Vec::new();
    for file in candidates.into_iter().flatten() {
        let users: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM course_lessons WHERE video_file_id = $1 \
             OR courseware_file_id = $1 OR poster_file_id = $1 OR captions_file_id = $1",
        )
        .bind(file)
        .fetch_one(&mut *conn)
        .await?;
        let posters: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM courses WHERE poster_file_id = $1",
        )
        .bind(file)
        .fetch_one(&mut *conn)
        .await?;
        if users + posters == 0 && !unused.contains(&file) {
            unused.push(file);
        }
    }
    Ok(unused)
}

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn replace_lists(
    conn: &mut AnyConnection,
    course_id: i64,
    tags: &[String],
    regulations: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM course_tags WHERE course_id = $1")
        .bind(course_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM course_regulations WHERE course_id = $1")
        .bind(course_id)
        .execute(&mut *conn)
        .await?;
    let mut seen = Vec::new();
    for tag in tags {
        if seen.contains(&tag) {
            continue;
        }
        seen.push(tag);
        sqlx::query("INSERT INTO course_tags (course_id, position, tag) VALUES ($1, $2, $3)")
            .bind(course_id)
            .bind(seen.len() as i64)
            .bind(tag.as_str())
            .execute(&mut *conn)
            .await?;
    }
    let mut seen = Vec::new();
    for reference in regulations {
        if seen.contains(&reference) {
            continue;
        }
        seen.push(reference);
        sqlx::query(
            "INSERT INTO course_regulations (course_id, position, reference) VALUES ($1, $2, $3)",
        )
        .bind(course_id)
        .bind(seen.len() as i64)
        .bind(reference.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Creates a course (from the site: no source id needed).
    pub async fn insert_course(&self, course: &NewCourse<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO courses (source_id, title, description, speaker, speaker_title, \
             speaker_org, category, level, duration_minutes, published_at, sample, content_hash, \
             created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(course.source_id)
        .bind(course.title)
        .bind(course.description)
        .bind(course.speaker)
        .bind(course.speaker_title)
        .bind(course.speaker_org)
        .bind(course.category)
        .bind(course.level)
        .bind(course.duration_minutes)
        .bind(course.published_at)
        .bind(i64::from(course.sample))
        .bind(course.digest())
        .bind(course.created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        replace_lists(&mut tx, id, course.tags, course.regulations).await?;
        crate::outbox::record(&mut tx, COURSES_COLLECTION, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates the course with `course.source_id`, or brings it up to date when its
    /// content hash differs; a course imported twice from the same record is unchanged.
    pub async fn upsert_course(&self, course: &NewCourse<'_>, now: i64) -> Result<Upserted> {
        let Some(source_id) = course.source_id else {
            return Ok(Upserted::Created(self.insert_course(course, now).await?));
        };
        let existing: Option<(i64, String)> =
            sqlx::query_as("SELECT id, content_hash FROM courses WHERE source_id = $1")
                .bind(source_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((id, hash)) = existing else {
            return match self.insert_course(course, now).await {
                Ok(id) => Ok(Upserted::Created(id)),
                // Another import created it meanwhile: compare with that one.
                Err(StoreError::Conflict) => Box::pin(self.upsert_course(course, now)).await,
                Err(other) => Err(other),
            };
        };
        if hash == course.digest() {
            return Ok(Upserted::Unchanged(id));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE courses SET title = $1, description = $2, speaker = $3, speaker_title = $4, \
             speaker_org = $5, category = $6, level = $7, duration_minutes = $8, \
             published_at = $9, sample = $10, content_hash = $11, updated_at = $12 WHERE id = $13",
        )
        .bind(course.title)
        .bind(course.description)
        .bind(course.speaker)
        .bind(course.speaker_title)
        .bind(course.speaker_org)
        .bind(course.category)
        .bind(course.level)
        .bind(course.duration_minutes)
        .bind(course.published_at)
        .bind(i64::from(course.sample))
        .bind(course.digest())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        replace_lists(&mut tx, id, course.tags, course.regulations).await?;
        crate::outbox::record(&mut tx, COURSES_COLLECTION, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(Upserted::Updated(id))
    }

    /// What importing `course` would do, without doing it (`--dry-run`).
    pub async fn course_upsert_preview(&self, course: &NewCourse<'_>) -> Result<Upserted> {
        let Some(source_id) = course.source_id else {
            return Ok(Upserted::Created(0));
        };
        let existing: Option<(i64, String)> =
            sqlx::query_as("SELECT id, content_hash FROM courses WHERE source_id = $1")
                .bind(source_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match existing {
            None => Upserted::Created(0),
            Some((id, hash)) if hash == course.digest() => Upserted::Unchanged(id),
            Some((id, _)) => Upserted::Updated(id),
        })
    }

    /// Sets (or clears) a course's own poster.
    pub async fn set_course_poster(&self, id: i64, file_id: Option<i64>, now: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE courses SET poster_file_id = $1, updated_at = $2 WHERE id = $3")
                .bind(file_id)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn fill_lists(&self, courses: &mut [Course]) -> Result<()> {
        if courses.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = courses.iter().map(|c| c.id).collect();
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        let mut regulations: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = placeholders(1, chunk.len());
            let sql = format!(
                "SELECT course_id, tag FROM course_tags WHERE course_id IN ({list}) \
                 ORDER BY course_id, position"
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                tags.entry(row.try_get(0)?)
                    .or_default()
                    .push(row.try_get(1)?);
            }
            let sql = format!(
                "SELECT course_id, reference FROM course_regulations WHERE course_id IN ({list}) \
                 ORDER BY course_id, position"
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                regulations
                    .entry(row.try_get(0)?)
                    .or_default()
                    .push(row.try_get(1)?);
            }
        }
        for course in courses {
            course.tags = tags.remove(&course.id).unwrap_or_default();
            course.regulations = regulations.remove(&course.id).unwrap_or_default();
        }
        Ok(())
    }

    pub async fn course(&self, id: i64) -> Result<Course> {
        let row: CourseRow = sqlx::query_as(&format!(
            "SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let mut courses = [Course::from(row)];
        self.fill_lists(&mut courses).await?;
        let [course] = courses;
        Ok(course)
    }

    pub async fn course_by_source_id(&self, source_id: &str) -> Result<Option<Course>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM courses WHERE source_id = $1")
            .bind(source_id)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => Ok(Some(self.course(id).await?)),
            None => Ok(None),
        }
    }

    /// The courses that pass `filter`, newest first (by publication date, then id).
    pub async fn list_courses(&self, filter: &CourseFilter) -> Result<Vec<Course>> {
        if filter.ids.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut id_binds: Vec<i64> = Vec::new();
        if !filter.categories.is_empty() {
            conditions.push(format!(
                "c.category IN ({})",
                placeholders(binds.len() + 1, filter.categories.len())
            ));
            binds.extend(filter.categories.iter().cloned());
        }
        if !filter.tags.is_empty() {
            conditions.push(format!(
                "c.id IN (SELECT course_id FROM course_tags WHERE tag IN ({}))",
                placeholders(binds.len() + 1, filter.tags.len())
            ));
            binds.extend(filter.tags.iter().cloned());
        }
        if let Some(ids) = &filter.ids {
            conditions.push(format!(
                "c.id IN ({})",
                placeholders(binds.len() + 1, ids.len())
            ));
            id_binds.extend(ids);
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses c {where_clause} \
             ORDER BY c.published_at DESC, c.id DESC"
        );
        let mut query = sqlx::query_as::<_, CourseRow>(&sql);
        for value in &binds {
            query = query.bind(value.as_str());
        }
        for id in &id_binds {
            query = query.bind(*id);
        }
        let mut courses: Vec<Course> = query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Course::from)
            .collect();
        self.fill_lists(&mut courses).await?;
        Ok(courses)
    }

    /// Course ids in pages of `limit` after `after_id`, for rebuilding the index.
    pub async fn course_ids_after(&self, after_id: i64, limit: i64) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM courses WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn course_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM courses")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The courses with these ids (those that exist), in no particular order.
    pub async fn courses_by_ids(&self, ids: &[i64]) -> Result<Vec<Course>> {
        self.list_courses(&CourseFilter {
            ids: Some(ids.to_vec()),
            ..CourseFilter::default()
        })
        .await
    }

    pub async fn lessons(&self, course_id: i64) -> Result<Vec<Lesson>> {
        let rows: Vec<LessonRow> = sqlx::query_as(&format!(
            "SELECT {LESSON_COLUMNS} FROM course_lessons WHERE course_id = $1 ORDER BY position, id"
        ))
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Lesson::from).collect())
    }

    pub async fn lesson(&self, id: i64) -> Result<Lesson> {
        let row: LessonRow = sqlx::query_as(&format!(
            "SELECT {LESSON_COLUMNS} FROM course_lessons WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    pub async fn lesson_by_source_key(&self, source_key: &str) -> Result<Option<Lesson>> {
        let row: Option<LessonRow> = sqlx::query_as(&format!(
            "SELECT {LESSON_COLUMNS} FROM course_lessons WHERE source_key = $1"
        ))
        .bind(source_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Lesson::from))
    }

    /// Adds a lesson at the end of its course; the course's search document changes
    /// (its lessons' titles and transcripts are searched too).
    pub async fn insert_lesson(&self, lesson: &NewLesson<'_>, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(position), 0) + 1 AS BIGINT) FROM course_lessons \
             WHERE course_id = $1",
        )
        .bind(lesson.course_id)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO course_lessons (course_id, position, title, description, speaker, \
             duration_seconds, video_file_id, courseware_file_id, poster_file_id, \
             captions_file_id, transcript, source_key, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
             RETURNING id",
        )
        .bind(lesson.course_id)
        .bind(position)
        .bind(lesson.title)
        .bind(lesson.description)
        .bind(lesson.speaker)
        .bind(lesson.duration_seconds)
        .bind(lesson.video_file_id)
        .bind(lesson.courseware_file_id)
        .bind(lesson.poster_file_id)
        .bind(lesson.captions_file_id)
        .bind(lesson.transcript)
        .bind(lesson.source_key)
        .bind(lesson.created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE courses SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(lesson.course_id)
            .execute(&mut *tx)
            .await?;
        crate::outbox::record(
            &mut tx,
            COURSES_COLLECTION,
            &lesson.course_id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes a lesson (with its learners' progress and view marks), closes the gap
    /// in the course's order and changes the course's search document. Returns the
    /// lesson's course and the ids of the files only this lesson used, whose rows
    /// and bytes the caller removes (the demo's sample video is shared by many
    /// lessons and stays while any uses it); `None` when there is no such lesson.
    pub async fn delete_lesson(&self, lesson_id: i64, now: i64) -> Result<Option<(i64, Vec<i64>)>> {
        let mut tx = self.pool.begin().await?;
        let Some((course_id, files)) = lesson_files(&mut tx, lesson_id).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM course_lessons WHERE id = $1")
            .bind(lesson_id)
            .execute(&mut *tx)
            .await?;
        let remaining: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM course_lessons WHERE course_id = $1 ORDER BY position, id",
        )
        .bind(course_id)
        .fetch_all(&mut *tx)
        .await?;
        for (k, id) in remaining.iter().enumerate() {
            sqlx::query("UPDATE course_lessons SET position = $1 WHERE id = $2")
                .bind(k as i64 + 1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let unused = unused_files(&mut tx, files.all()).await?;
        self.touch_course(&mut tx, course_id, now).await?;
        tx.commit().await?;
        Ok(Some((course_id, unused)))
    }

    /// Puts the files given in place of the lesson's (the others stay) and, when
    /// given, its duration, in one transaction. Returns the lesson's course and the
    /// files replaced that no lesson or course uses any more (for the caller to
    /// remove), or `None` when there is no such lesson; `Conflict` when another
    /// replacement changed its files meanwhile.
    pub async fn replace_lesson_files(
        &self,
        lesson_id: i64,
        files: &LessonFiles,
        duration_seconds: Option<i64>,
        now: i64,
    ) -> Result<Option<(i64, Vec<i64>)>> {
        let mut tx = self.pool.begin().await?;
        let Some((course_id, current)) = lesson_files(&mut tx, lesson_id).await? else {
            return Ok(None);
        };
        // Only over the files just read: a replacement that committed in between
        // would otherwise have its new files orphaned.
        let done = sqlx::query(
            "UPDATE course_lessons SET video_file_id = $1, captions_file_id = $2, \
             courseware_file_id = $3, poster_file_id = $4, \
             duration_seconds = COALESCE($5, duration_seconds), updated_at = $6 \
             WHERE id = $7 AND COALESCE(video_file_id, 0) = $8 \
             AND COALESCE(captions_file_id, 0) = $9 AND COALESCE(courseware_file_id, 0) = $10 \
             AND COALESCE(poster_file_id, 0) = $11",
        )
        .bind(files.video.or(current.video))
        .bind(files.captions.or(current.captions))
        .bind(files.courseware.or(current.courseware))
        .bind(files.poster.or(current.poster))
        .bind(duration_seconds)
        .bind(now)
        .bind(lesson_id)
        .bind(current.video.unwrap_or(0))
        .bind(current.captions.unwrap_or(0))
        .bind(current.courseware.unwrap_or(0))
        .bind(current.poster.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        let replaced = [
            files.video.and(current.video),
            files.captions.and(current.captions),
            files.courseware.and(current.courseware),
            files.poster.and(current.poster),
        ];
        let unused = unused_files(&mut tx, replaced).await?;
        self.touch_course(&mut tx, course_id, now).await?;
        tx.commit().await?;
        Ok(Some((course_id, unused)))
    }

    /// Replaces a lesson's texts (its files stay). Returns the lesson's course, or
    /// `None` when there is no such lesson; the course's search document changes.
    pub async fn update_lesson_text(
        &self,
        lesson_id: i64,
        text: &LessonText<'_>,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let course_id: Option<i64> = sqlx::query_scalar(
            "UPDATE course_lessons SET title = $1, description = $2, speaker = $3, \
             duration_seconds = $4, transcript = $5, updated_at = $6 WHERE id = $7 \
             RETURNING course_id",
        )
        .bind(text.title)
        .bind(text.description)
        .bind(text.speaker)
        .bind(text.duration_seconds)
        .bind(text.transcript)
        .bind(now)
        .bind(lesson_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(course_id) = course_id {
            self.touch_course(&mut tx, course_id, now).await?;
        }
        tx.commit().await?;
        Ok(course_id)
    }

    /// Moves a lesson one place up (`up`) or down in its course; at either end it
    /// stays. Returns the lesson's course, or `None` when there is no such lesson.
    pub async fn move_lesson(&self, lesson_id: i64, up: bool, now: i64) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let Some(course_id): Option<i64> =
            sqlx::query_scalar("SELECT course_id FROM course_lessons WHERE id = $1")
                .bind(lesson_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let mut order: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM course_lessons WHERE course_id = $1 ORDER BY position, id",
        )
        .bind(course_id)
        .fetch_all(&mut *tx)
        .await?;
        let at = order.iter().position(|id| *id == lesson_id).unwrap_or(0);
        let other = if up { at.checked_sub(1) } else { Some(at + 1) };
        if let Some(other) = other.filter(|o| *o < order.len()) {
            order.swap(at, other);
            for (k, id) in order.iter().enumerate() {
                sqlx::query("UPDATE course_lessons SET position = $1 WHERE id = $2")
                    .bind(k as i64 + 1)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            self.touch_course(&mut tx, course_id, now).await?;
        }
        tx.commit().await?;
        Ok(Some(course_id))
    }

    /// Marks a course changed and queues its search document.
    async fn touch_course(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        course_id: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE courses SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(course_id)
            .execute(&mut **tx)
            .await?;
        crate::outbox::record(tx, COURSES_COLLECTION, &course_id.to_string(), now).await?;
        Ok(())
    }

    /// Finds the regulation a course's reference names (标准政策, migration 8): by its
    /// data-file id, by its exact title, by the title with 中华人民共和国 in front (a
    /// law cited by its short name), or by a title that starts with it (名录 cited
    /// without its edition), preferring what is in force and then the latest.
    /// Returns (id, title, recorded status).
    pub async fn resolve_regulation(
        &self,
        reference: &str,
    ) -> Result<Option<(i64, String, String)>> {
        let like = format!(
            "{}%",
            reference
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        Ok(sqlx::query_as(
            "SELECT id, title, status FROM regulations \
             WHERE source_id = $1 OR title = $1 OR title = $2 OR title LIKE $3 ESCAPE '\\' \
             ORDER BY CASE WHEN source_id = $1 OR title = $1 OR title = $2 THEN 0 ELSE 1 END, \
             CASE status WHEN '现行有效' THEN 0 ELSE 1 END, \
             CASE WHEN effective IS NULL THEN 1 ELSE 0 END, effective DESC, id DESC LIMIT 1",
        )
        .bind(reference)
        .bind(format!("中华人民共和国{reference}"))
        .bind(like)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Counts a view of a lesson by `viewer` (see migration 0012) on `day`
    /// ('YYYY-MM-DD'), once per viewer and day: a reload or a second visit the same
    /// day is not counted. Returns whether it was counted. Past days' marks are
    /// dropped on the way.
    pub async fn count_lesson_view(&self, lesson_id: i64, viewer: &str, day: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM lesson_views WHERE day < $1")
            .bind(day)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO lesson_views (lesson_id, viewer, day) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(lesson_id)
        .bind(viewer)
        .bind(day)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if inserted {
            sqlx::query("UPDATE course_lessons SET view_count = view_count + 1 WHERE id = $1")
                .bind(lesson_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Keeps where `account_id` is in a lesson; `done` marks it learnt (and a lesson
    /// once done stays done, wherever the learner later seeks to).
    pub async fn save_progress(
        &self,
        account_id: i64,
        lesson_id: i64,
        position_seconds: i64,
        done: bool,
        now: i64,
    ) -> Result<()> {
        let course_id: i64 =
            sqlx::query_scalar("SELECT course_id FROM course_lessons WHERE id = $1")
                .bind(lesson_id)
                .fetch_one(&self.pool)
                .await?;
        sqlx::query(
            "INSERT INTO lesson_progress (account_id, lesson_id, course_id, position_seconds, \
             done, started_at, updated_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
             ON CONFLICT (account_id, lesson_id) DO UPDATE SET \
             position_seconds = excluded.position_seconds, \
             done = CASE WHEN lesson_progress.done = 1 THEN 1 ELSE excluded.done END, \
             updated_at = excluded.updated_at, \
             completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)",
        )
        .bind(account_id)
        .bind(lesson_id)
        .bind(course_id)
        .bind(position_seconds.max(0))
        .bind(i64::from(done))
        .bind(now)
        .bind(done.then_some(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn progress(&self, account_id: i64, lesson_id: i64) -> Result<Option<Progress>> {
        let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT lesson_id, position_seconds, done, updated_at FROM lesson_progress \
             WHERE account_id = $1 AND lesson_id = $2",
        )
        .bind(account_id)
        .bind(lesson_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(lesson_id, position_seconds, done, updated_at)| Progress {
                lesson_id,
                position_seconds,
                done: done != 0,
                updated_at,
            }),
        )
    }

    /// The learner's progress in every lesson of a course they have opened.
    pub async fn course_progress(&self, account_id: i64, course_id: i64) -> Result<Vec<Progress>> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT lesson_id, position_seconds, done, updated_at FROM lesson_progress \
             WHERE account_id = $1 AND course_id = $2",
        )
        .bind(account_id)
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(lesson_id, position_seconds, done, updated_at)| Progress {
                lesson_id,
                position_seconds,
                done: done != 0,
                updated_at,
            })
            .collect())
    }

    /// 我的学习: the courses `account_id` has started, most recently studied first.
    pub async fn my_learning(&self, account_id: i64) -> Result<Vec<Learning>> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT course_id, COUNT(*), CAST(COALESCE(SUM(done), 0) AS BIGINT), MAX(updated_at) \
             FROM lesson_progress WHERE account_id = $1 GROUP BY course_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut courses: HashMap<i64, Course> = self
            .courses_by_ids(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut learning: Vec<Learning> = rows
            .into_iter()
            .filter_map(|(course_id, started, done, last_at)| {
                courses.remove(&course_id).map(|course| Learning {
                    course,
                    lessons_started: started,
                    lessons_done: done,
                    last_at,
                })
            })
            .collect();
        learning.sort_by(|a, b| {
            b.last_at
                .cmp(&a.last_at)
                .then(b.course.id.cmp(&a.course.id))
        });
        Ok(learning)
    }
}
