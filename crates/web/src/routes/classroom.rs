//! 绿色课堂: the course catalogue, course and player pages, learning progress, the
//! staff pages that publish courses and upload lessons, the lesson files (served with
//! byte ranges, so that videos seek) and `GET /api/v1/courses`.
//!
//! A tour:
//! - `/classroom` lists courses: keyword (`q`, through the `courses` search index with
//!   the shared Chinese analyzer), `category`, `tag`, newest or most viewed.
//! - `/classroom/courses/{id}` shows a course and its lessons; `/classroom/lessons/{id}`
//!   is the player: an HTML5 `<video>` with the WebVTT captions as a `<track>` and the
//!   transcript below, the courseware (PDF opened in the browser, Office files
//!   downloaded). Each visit counts one view of the lesson.
//! - Progress (logged-in learners): `player.js` reports the position with a
//!   CSRF-protected POST and the page starts the video where it was left (also without
//!   JavaScript: the stored position is a media fragment `#t=` of the video's URL);
//!   without JavaScript a 学完了 button marks the lesson done. `/classroom/mine`
//!   (我的学习) lists courses started and finished.
//! - Staff with [`Permission::ManageCourses`] (admins, association reviewers) create
//!   courses and upload lessons at `/classroom/manage`: one multipart form per lesson,
//!   each file checked by content, all of it together at most `course_upload_max_mb`;
//!   a refused upload leaves no file behind.

use crate::audit::{self, Actor};
use crate::context::{Authenticated, Ctx, Viewer};
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::errors::rendered;
use crate::media;
use crate::page::Page;
use crate::routes::api::{Facet, Params, list};
use crate::routes::services::ensure_enabled;
use crate::state::AppState;
use crate::uploads::{self, FileKind, UploadError, UploadPolicy, format_size};
use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Form, FromRequest, Multipart, Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use greenbridge_domain::module::Module;
use greenbridge_domain::role::Permission;
use greenbridge_domain::time::{format_date, parse_date};
use greenbridge_store::blob::{FileStore, StorageKey};
use greenbridge_store::courses::{
    COURSES_COLLECTION, Course, CourseFilter, Lesson, LessonFiles, LessonText, NewCourse,
    NewLesson, Progress,
};
use greenbridge_store::{FileRecord, NewFile, Outcome, Store};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Key prefix of lesson files in the file store.
pub const KEY_PREFIX: &str = "courses";
/// Courses on one catalogue page.
const PAGE_SIZE: usize = 12;
/// Most keyword hits considered.
const MAX_HITS: usize = 1000;
/// Seconds between two progress reports of the player, and the longest lesson.
const MAX_POSITION: i64 = 24 * 3600;

const VIDEO_KINDS: &[FileKind] = &[FileKind::Mp4, FileKind::Webm];
const CAPTION_KINDS: &[FileKind] = &[FileKind::Vtt];
const COURSEWARE_KINDS: &[FileKind] = &[
    FileKind::Pdf,
    FileKind::Pptx,
    FileKind::Docx,
    FileKind::Xlsx,
];
const POSTER_KINDS: &[FileKind] = &[FileKind::Jpeg, FileKind::Png, FileKind::Webp];

/// The categories of the course data file, offered first in forms.
pub const CATEGORIES: [&str; 10] = [
    "政策法规",
    "危废管理",
    "环境监测",
    "环评与排污许可",
    "环保管家",
    "废水治理",
    "废气治理",
    "土壤与地下水",
    "应急管理",
    "碳管理",
];
const LEVELS: [&str; 3] = ["入门", "进阶", "高级"];

/// The whole size limit of one lesson upload, in bytes.
fn upload_limit(state: &AppState) -> u64 {
    state
        .config
        .course_upload_max_mb
        .saturating_mul(1024 * 1024)
}

/// A lesson's duration as shown and edited (`12:30`), empty when it is unknown.
fn duration_text(seconds: i64) -> String {
    if seconds > 0 {
        clock_time(seconds)
    } else {
        String::new()
    }
}

/// `12:05` or `1:02:03` for a number of seconds.
pub fn clock_time(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Reads `mm:ss`, `h:mm:ss` or plain seconds.
fn parse_clock_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    let mut total: i64 = 0;
    let parts: Vec<&str> = text.split([':', '：']).collect();
    if parts.len() > 3 {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        let value: i64 = part.trim().parse().ok().filter(|v| *v >= 0)?;
        if i > 0 && value >= 60 {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(value)?;
    }
    (total <= MAX_POSITION).then_some(total)
}

// ---------------------------------------------------------------------------
// Finding courses (shared by the catalogue page and the API)
// ---------------------------------------------------------------------------

/// The order of a course list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseSort {
    Relevance,
    Newest,
    Views,
}

impl CourseSort {
    fn parse(value: Option<&str>, has_query: bool) -> Option<CourseSort> {
        match value {
            None | Some("") => Some(if has_query {
                CourseSort::Relevance
            } else {
                CourseSort::Newest
            }),
            Some("relevance") => Some(CourseSort::Relevance),
            Some("newest") => Some(CourseSort::Newest),
            Some("views") => Some(CourseSort::Views),
            Some(_) => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CourseSort::Relevance => "relevance",
            CourseSort::Newest => "newest",
            CourseSort::Views => "views",
        }
    }
}

/// A course list and whether the keyword search was relaxed to "any word".
pub struct Found {
    pub courses: Vec<Course>,
    pub relaxed: bool,
    /// Highlighted title snippets of keyword hits (escaped HTML), by course id.
    pub snippets: HashMap<i64, String>,
}

/// The courses matching `q`, any of `categories` and any of `tags`, in `sort` order
/// (`ascending` reverses newest/views).
pub async fn find_courses(
    state: &AppState,
    q: Option<&str>,
    categories: &[&str],
    tags: &[&str],
    sort: CourseSort,
    ascending: bool,
) -> AppResult<Found> {
    let mut filter = CourseFilter {
        categories: categories.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ids: None,
    };
    let mut rank: HashMap<i64, usize> = HashMap::new();
    let mut relaxed = false;
    let mut snippets = HashMap::new();
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        let index = state.search.index(COURSES_COLLECTION).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the courses search index is not open"))
        })?;
        let results = index
            .search(&greenbridge_search::SearchRequest {
                q: Some(q.to_string()),
                limit: MAX_HITS,
                ..greenbridge_search::SearchRequest::default()
            })
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("course search")))?;
        relaxed = results.relaxed;
        let mut ids = Vec::new();
        for (position, hit) in results.hits.into_iter().enumerate() {
            if let Ok(id) = hit.id.parse::<i64>() {
                rank.insert(id, position);
                ids.push(id);
                if let Some(title) = hit.snippets.get("title") {
                    snippets.insert(id, title.clone());
                }
            }
        }
        filter.ids = Some(ids);
    }
    let mut courses = state.store.list_courses(&filter).await?;
    match sort {
        CourseSort::Relevance if !rank.is_empty() => {
            courses.sort_by_key(|c| rank.get(&c.id).copied().unwrap_or(usize::MAX));
        }
        // The store lists newest first.
        CourseSort::Relevance | CourseSort::Newest => {
            if ascending {
                courses.reverse();
            }
        }
        CourseSort::Views => {
            // Stable: equal counts stay newest first.
            if ascending {
                courses.sort_by_key(|c| c.view_count);
            } else {
                courses.sort_by_key(|c| std::cmp::Reverse(c.view_count));
            }
        }
    }
    Ok(Found {
        courses,
        relaxed,
        snippets,
    })
}

fn facet_counts<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Facet> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut facets: Vec<Facet> = counts
        .into_iter()
        .map(|(value, count)| Facet {
            value: value.to_string(),
            label: value.to_string(),
            count,
        })
        .collect();
    facets.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    facets
}

// ---------------------------------------------------------------------------
// The catalogue page
// ---------------------------------------------------------------------------

pub struct CourseCard {
    pub id: i64,
    pub title: String,
    /// Escaped HTML with `<mark>`s, for a keyword hit.
    pub title_html: Option<String>,
    pub description: String,
    pub speaker: String,
    pub category: String,
    pub level: String,
    pub duration: String,
    pub published_at: String,
    pub tags: Vec<String>,
    pub lessons: i64,
    pub views: i64,
    pub poster: Option<String>,
    pub sample: bool,
}

fn card(course: Course, snippet: Option<String>) -> CourseCard {
    let poster = course
        .poster()
        .map(|_| format!("/classroom/courses/{}/poster", course.id));
    CourseCard {
        id: course.id,
        title_html: snippet,
        description: course.description,
        speaker: [course.speaker, course.speaker_title]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        category: course.category,
        level: course.level,
        duration: if course.duration_minutes > 0 {
            format!("{} 分钟", course.duration_minutes)
        } else {
            String::new()
        },
        published_at: course.published_at,
        tags: course.tags,
        lessons: course.lesson_count,
        views: course.view_count,
        poster,
        sample: course.sample,
        title: course.title,
    }
}

#[derive(Deserialize, Default)]
pub struct CatalogueQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    sort: String,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "classroom.html")]
struct CataloguePage {
    page: Page,
    q: String,
    category: String,
    tag: String,
    sort: &'static str,
    categories: Vec<Facet>,
    cards: Vec<CourseCard>,
    total: usize,
    relaxed: bool,
    error: Option<String>,
    page_number: usize,
    pages: usize,
    /// The query string without `page`, for the pager links.
    base_query: String,
    logged_in: bool,
    can_manage: bool,
}

pub async fn catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<CatalogueQuery>,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Classroom).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let category = query.category.trim().to_string();
    let tag = query.tag.trim().to_string();
    let mut error = None;
    let sort = CourseSort::parse(Some(query.sort.trim()), !q.is_empty()).unwrap_or_else(|| {
        error = Some("排序方式只能是“最新发布”或“最多观看”".to_string());
        CourseSort::Newest
    });
    let page_number = match query.page.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(p) => match p.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                error = Some("页码应为正整数".to_string());
                1
            }
        },
    };
    let categories_filter: Vec<&str> = [category.as_str()]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    let tags_filter: Vec<&str> = [tag.as_str()]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let found = find_courses(
        &state,
        Some(q.as_str()),
        &categories_filter,
        &tags_filter,
        sort,
        false,
    )
    .await?;
    let all = state.store.list_courses(&CourseFilter::default()).await?;
    let categories = facet_counts(all.iter().map(|c| c.category.as_str()));
    let total = found.courses.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page_number = page_number.min(pages);
    let mut snippets = found.snippets;
    let cards = found
        .courses
        .into_iter()
        .skip((page_number - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|c| {
            let snippet = snippets.remove(&c.id);
            card(c, snippet)
        })
        .collect();
    let base_query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &q)
        .append_pair("category", &category)
        .append_pair("tag", &tag)
        .append_pair("sort", sort.as_str())
        .finish();
    let page = Page::new(&state, &ctx, "绿色课堂").await;
    let html = CataloguePage {
        page,
        q,
        category,
        tag,
        sort: sort.as_str(),
        categories,
        cards,
        total,
        relaxed: found.relaxed,
        error: error.clone(),
        page_number,
        pages,
        base_query,
        logged_in: ctx.viewer.is_some(),
        can_manage: ctx
            .viewer
            .as_ref()
            .is_some_and(|v| v.can(Permission::ManageCourses)),
    }
    .render()?;
    Ok(if error.is_some() {
        rendered(StatusCode::BAD_REQUEST, Html(html))
    } else {
        Html(html).into_response()
    })
}

// ---------------------------------------------------------------------------
// Course and lesson pages
// ---------------------------------------------------------------------------

/// A regulation a course treats, as a link into 标准政策.
pub struct RegulationLink {
    pub label: String,
    pub href: String,
}

/// The regulations a course treats: resolved in 标准政策 when there (title and
/// status shown), else a keyword search there for the reference.
async fn regulation_links(state: &AppState, course: &Course) -> AppResult<Vec<RegulationLink>> {
    let mut links = Vec::with_capacity(course.regulations.len());
    for reference in &course.regulations {
        let link = match state.store.resolve_regulation(reference).await? {
            Some((id, title, status)) => RegulationLink {
                label: format!("《{title}》（{status}）"),
                href: format!("/regulations/{id}"),
            },
            None => {
                let q: String = form_urlencoded::byte_serialize(reference.as_bytes()).collect();
                RegulationLink {
                    label: if reference.starts_with("reg-") {
                        format!("标准政策 {reference}")
                    } else {
                        format!("《{reference}》")
                    },
                    href: format!("/regulations?q={q}"),
                }
            }
        };
        links.push(link);
    }
    Ok(links)
}

pub struct LessonRow {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub duration: String,
    pub has_video: bool,
    pub has_courseware: bool,
    pub views: i64,
    /// 未开始 / 看到 12:05 / 已学完, for a logged-in learner.
    pub progress: Option<String>,
}

fn lesson_rows(lessons: &[Lesson], progress: &[Progress]) -> Vec<LessonRow> {
    lessons
        .iter()
        .map(|l| LessonRow {
            id: l.id,
            position: l.position,
            title: l.title.clone(),
            duration: duration_text(l.duration_seconds),
            has_video: l.video_file_id.is_some(),
            has_courseware: l.courseware_file_id.is_some(),
            views: l.view_count,
            progress: None,
        })
        .map(|mut row| {
            let p = progress.iter().find(|p| p.lesson_id == row.id);
            row.progress = Some(match p {
                Some(p) if p.done => "已学完".to_string(),
                Some(p) => format!("学到 {}", clock_time(p.position_seconds)),
                None => "未开始".to_string(),
            });
            row
        })
        .collect()
}

#[derive(Template)]
#[template(path = "classroom_course.html")]
struct CoursePage {
    page: Page,
    course: CourseCard,
    speaker_org: String,
    regulations: Vec<RegulationLink>,
    lessons: Vec<LessonRow>,
    logged_in: bool,
    done: usize,
    can_manage: bool,
}

pub async fn course_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Classroom).await?;
    let course = state.store.course(id).await?;
    let lessons = state.store.lessons(id).await?;
    let progress = match &ctx.viewer {
        Some(viewer) => state.store.course_progress(viewer.account.id, id).await?,
        None => Vec::new(),
    };
    let mut rows = lesson_rows(&lessons, &progress);
    if ctx.viewer.is_none() {
        rows.iter_mut().for_each(|r| r.progress = None);
    }
    let done = progress.iter().filter(|p| p.done).count();
    let regulations = regulation_links(&state, &course).await?;
    let speaker_org = course.speaker_org.clone();
    let page = Page::new(&state, &ctx, course.title.clone()).await;
    Ok(Html(
        CoursePage {
            page,
            course: card(course, None),
            speaker_org,
            regulations,
            lessons: rows,
            logged_in: ctx.viewer.is_some(),
            done,
            can_manage: ctx
                .viewer
                .as_ref()
                .is_some_and(|v| v.can(Permission::ManageCourses)),
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "classroom_lesson.html")]
struct LessonPage {
    page: Page,
    course_id: i64,
    course_title: String,
    course_sample: bool,
    lesson: Lesson,
    duration: String,
    speaker: String,
    video_type: Option<&'static str>,
    has_captions: bool,
    has_poster: bool,
    courseware: Option<CoursewareLink>,
    /// Where playback starts (seconds), from the learner's stored progress.
    resume: i64,
    resume_label: String,
    done: bool,
    logged_in: bool,
    notice: Option<&'static str>,
    previous: Option<(i64, String)>,
    next: Option<(i64, String)>,
    regulations: Vec<RegulationLink>,
}

pub struct CoursewareLink {
    pub href: String,
    pub label: String,
    pub inline: bool,
    pub size: String,
}

#[derive(Deserialize, Default)]
pub struct LessonQuery {
    done: Option<String>,
}

/// Who counts as one viewer of a lesson: the signed-in account, or else the
/// browser by a hash of its CSRF cookie token (stable while the cookie lives; the
/// token itself is never stored).
fn viewer_key(ctx: &Ctx) -> String {
    use sha2::{Digest, Sha256};
    match &ctx.viewer {
        Some(viewer) => format!("a:{}", viewer.account.id),
        None => {
            let digest = Sha256::digest(ctx.csrf_token.as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("v:{hex}")
        }
    }
}

pub async fn lesson_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(query): Query<LessonQuery>,
) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let course = state.store.course(lesson.course_id).await?;
    let today = greenbridge_domain::time::format_date(state.clock.today());
    state
        .store
        .count_lesson_view(id, &viewer_key(&ctx), &today)
        .await?;
    let siblings = state.store.lessons(course.id).await?;
    let at = siblings.iter().position(|l| l.id == id);
    let previous = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| siblings.get(i))
        .map(|l| (l.id, l.title.clone()));
    let next = at
        .and_then(|i| siblings.get(i + 1))
        .map(|l| (l.id, l.title.clone()));
    let progress = match &ctx.viewer {
        Some(viewer) => state.store.progress(viewer.account.id, id).await?,
        None => None,
    };
    let done = progress.is_some_and(|p| p.done);
    let mut resume = progress.map_or(0, |p| p.position_seconds);
    if lesson.duration_seconds > 0 && resume >= lesson.duration_seconds.saturating_sub(2) {
        // Watched to the end: start again from the beginning.
        resume = 0;
    }
    let video_type = match lesson.video_file_id {
        Some(file_id) => Some(state.store.file(file_id).await?.kind.mime()),
        None => None,
    };
    let courseware = match lesson.courseware_file_id {
        Some(file_id) => {
            let file = state.store.file(file_id).await?;
            Some(CoursewareLink {
                // The file's id in the address: a replaced file is fetched anew,
                // not taken from a cache.
                href: format!("/classroom/lessons/{id}/courseware?v={file_id}"),
                label: file.kind.label().to_string(),
                inline: file.kind.inline(),
                size: format_size(file.size),
            })
        }
        None => None,
    };
    let notice = query.done.is_some().then_some("已记录：本课时已学完。");
    let speaker = if lesson.speaker.is_empty() {
        course.speaker.clone()
    } else {
        lesson.speaker.clone()
    };
    let regulations = regulation_links(&state, &course).await?;
    let page = Page::new(&state, &ctx, format!("{} - {}", lesson.title, course.title)).await;
    Ok(Html(
        LessonPage {
            page,
            course_id: course.id,
            course_title: course.title,
            course_sample: course.sample,
            duration: duration_text(lesson.duration_seconds),
            speaker,
            video_type,
            has_captions: lesson.captions_file_id.is_some(),
            has_poster: lesson.poster_file_id.is_some(),
            courseware,
            resume,
            resume_label: clock_time(resume),
            done,
            logged_in: ctx.viewer.is_some(),
            notice,
            previous,
            next,
            regulations,
            lesson,
        }
        .render()?,
    ))
}

// ---------------------------------------------------------------------------
// Lesson files
// ---------------------------------------------------------------------------

/// How long browsers and proxies may keep a lesson file before asking again (the
/// ETag then answers 304 when it did not change).
const FILE_MAX_AGE: &str = "public, max-age=3600";

/// Serves a public course file: `If-None-Match` answers 304, ranges 206/416 (see
/// [`downloads::serve_file`]), and the answer may be cached.
async fn serve_public_file(
    state: &AppState,
    file_id: i64,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let file = match state.store.file(file_id).await {
        Ok(file) => file,
        Err(greenbridge_store::StoreError::NotFound) => {
            tracing::warn!(file = file_id, "a course file's row is missing");
            return Err(AppError::NotFound);
        }
        Err(other) => return Err(other.into()),
    };
    let etag = format!("\"{}\"", file.sha256);
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if not_modified {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    } else {
        downloads::serve_file(state, &file, headers, None).await?
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(FILE_MAX_AGE),
        );
    }
    Ok(response)
}

pub async fn lesson_file(
    State(state): State<AppState>,
    Path((id, what)): Path<(i64, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let file_id = match what.as_str() {
        "video" => lesson.video_file_id,
        "captions" => lesson.captions_file_id,
        "courseware" => lesson.courseware_file_id,
        "poster" => lesson.poster_file_id,
        _ => None,
    }
    .ok_or(AppError::NotFound)?;
    serve_public_file(&state, file_id, &headers).await
}

pub async fn course_poster(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    ensure_enabled(&state, Module::Classroom).await?;
    let course = state.store.course(id).await?;
    let file_id = course.poster().ok_or(AppError::NotFound)?;
    serve_public_file(&state, file_id, &headers).await
}

/// The player's progressive enhancement (reports the position, resumes there).
pub async fn player_js() -> Response {
    let mut response = include_str!("../../static/classroom.js").into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

// ---------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    position: String,
    #[serde(default)]
    ended: String,
}

/// Seconds from the player's `currentTime` ("12.345"), whole and within bounds.
fn parse_position(text: &str) -> AppResult<i64> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("position", "position 应为播放位置（秒）"))?;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(AppError::bad_request("position", "position 应为非负的秒数"));
    }
    Ok((seconds.floor() as i64).min(MAX_POSITION))
}

/// `POST /classroom/lessons/{id}/progress` (the player's reports): 204.
pub async fn save_progress(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<ProgressForm>,
) -> AppResult<StatusCode> {
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let mut position = parse_position(&form.position)?;
    if lesson.duration_seconds > 0 {
        position = position.min(lesson.duration_seconds);
    }
    let ended = matches!(form.ended.as_str(), "1" | "true");
    state
        .store
        .save_progress(auth.0.account.id, id, position, ended, state.clock.unix())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /classroom/lessons/{id}/done`: the 学完了 button (works without JavaScript).
pub async fn mark_done(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Redirect> {
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let position = state
        .store
        .progress(auth.0.account.id, id)
        .await?
        .map_or(0, |p| p.position_seconds);
    state
        .store
        .save_progress(
            auth.0.account.id,
            lesson.id,
            position,
            true,
            state.clock.unix(),
        )
        .await?;
    Ok(Redirect::to(&format!("/classroom/lessons/{id}?done=1")))
}

pub struct LearningRow {
    pub course_id: i64,
    pub title: String,
    pub category: String,
    pub lessons: i64,
    pub done: i64,
    pub last: String,
    pub finished: bool,
}

#[derive(Template)]
#[template(path = "classroom_mine.html")]
struct MinePage {
    page: Page,
    started: Vec<LearningRow>,
    finished: Vec<LearningRow>,
}

/// 我的学习: the courses the learner started, and those finished.
pub async fn mine(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    ensure_enabled(&state, Module::Classroom).await?;
    let learning = state.store.my_learning(auth.0.account.id).await?;
    let (finished, started): (Vec<LearningRow>, Vec<LearningRow>) = learning
        .into_iter()
        .map(|l| LearningRow {
            finished: l.finished(),
            course_id: l.course.id,
            title: l.course.title,
            category: l.course.category,
            lessons: l.course.lesson_count,
            done: l.lessons_done,
            last: greenbridge_domain::time::format_unix_zh(l.last_at),
        })
        .partition(|row| row.finished);
    let page = Page::new(&state, &auth.1, "我的学习").await;
    Ok(Html(
        MinePage {
            page,
            started,
            finished,
        }
        .render()?,
    ))
}

// ---------------------------------------------------------------------------
// Staff: publishing courses and lessons
// ---------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct CourseForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    speaker: String,
    #[serde(default)]
    speaker_title: String,
    #[serde(default)]
    speaker_org: String,
    #[serde(default)]
    duration_minutes: String,
    #[serde(default)]
    published_at: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    regulations: String,
    #[serde(default)]
    description: String,
}

/// A course form, checked.
struct ValidCourse {
    title: String,
    category: String,
    level: String,
    speaker: String,
    speaker_title: String,
    speaker_org: String,
    duration_minutes: i64,
    published_at: String,
    tags: Vec<String>,
    regulations: Vec<String>,
    description: String,
}

fn short(value: &str, field: &str, label: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(AppError::bad_request(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    Ok(value.to_string())
}

impl TryFrom<CourseForm> for ValidCourse {
    type Error = AppError;
    fn try_from(form: CourseForm) -> AppResult<ValidCourse> {
        let title = short(&form.title, "title", "课程名称", 200)?;
        if title.is_empty() {
            return Err(AppError::bad_request("title", "请填写课程名称"));
        }
        let category = short(&form.category, "category", "类别", 50)?;
        if category.is_empty() {
            return Err(AppError::bad_request("category", "请选择类别"));
        }
        let level = form.level.trim().to_string();
        if !level.is_empty() && !LEVELS.contains(&level.as_str()) {
            return Err(AppError::bad_request("level", "难度只能是入门、进阶或高级"));
        }
        let duration_minutes = match form.duration_minutes.trim() {
            "" => 0,
            text => text
                .parse::<i64>()
                .ok()
                .filter(|m| (0..=1440).contains(m))
                .ok_or_else(|| {
                    AppError::bad_request("duration_minutes", "时长应为 0 到 1440 之间的分钟数")
                })?,
        };
        let published_at = parse_date(&form.published_at)
            .map(format_date)
            .map_err(|e| AppError::bad_request("published_at", e.to_string()))?;
        let split = |text: &str| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for item in text.split([',', '，', '、', '\n', ';', '；']) {
                let item = item.trim();
                if !item.is_empty() && !out.iter().any(|o| o == item) {
                    out.push(item.to_string());
                }
            }
            out
        };
        let tags = split(&form.tags);
        if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 30) {
            return Err(AppError::bad_request(
                "tags",
                "标签最多 20 个，每个不超过 30 个字",
            ));
        }
        let regulations: Vec<String> = split(&form.regulations)
            .into_iter()
            .map(|r| r.trim_matches(['《', '》']).to_string())
            .filter(|r| !r.is_empty())
            .collect();
        if regulations.len() > 50 || regulations.iter().any(|r| r.chars().count() > 200) {
            return Err(AppError::bad_request(
                "regulations",
                "相关标准政策最多 50 项",
            ));
        }
        Ok(ValidCourse {
            title,
            category,
            level,
            speaker: short(&form.speaker, "speaker", "主讲人", 100)?,
            speaker_title: short(&form.speaker_title, "speaker_title", "主讲人职称", 100)?,
            speaker_org: short(&form.speaker_org, "speaker_org", "主讲人单位", 200)?,
            duration_minutes,
            published_at,
            tags,
            regulations,
            description: short(&form.description, "description", "课程简介", 5000)?,
        })
    }
}

pub struct ManagedCourse {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub lessons: i64,
    pub views: i64,
    pub published_at: String,
    pub sample: bool,
}

#[derive(Template)]
#[template(path = "classroom_manage.html")]
struct ManagePage {
    page: Page,
    courses: Vec<ManagedCourse>,
    form: CourseForm,
    categories: &'static [&'static str],
    levels: &'static [&'static str],
    error: Option<(String, String)>,
}

async fn render_manage(
    state: &AppState,
    ctx: &Ctx,
    form: CourseForm,
    error: Option<(String, String)>,
) -> AppResult<String> {
    let courses = state
        .store
        .list_courses(&CourseFilter::default())
        .await?
        .into_iter()
        .map(|c| ManagedCourse {
            id: c.id,
            title: c.title,
            category: c.category,
            lessons: c.lesson_count,
            views: c.view_count,
            published_at: c.published_at,
            sample: c.sample,
        })
        .collect();
    let page = Page::new(state, ctx, "课程管理").await;
    Ok(ManagePage {
        page,
        courses,
        form,
        categories: &CATEGORIES,
        levels: &LEVELS,
        error,
    }
    .render()?)
}

pub async fn manage(State(state): State<AppState>, auth: Authenticated) -> AppResult<Html<String>> {
    auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let form = CourseForm {
        published_at: format_date(state.clock.today()),
        ..CourseForm::default()
    };
    Ok(Html(render_manage(&state, &auth.1, form, None).await?))
}

pub async fn create_course(
    State(state): State<AppState>,
    auth: Authenticated,
    Form(form): Form<CourseForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageCourses)?.clone();
    ensure_enabled(&state, Module::Classroom).await?;
    let valid = match ValidCourse::try_from(form.clone()) {
        Ok(valid) => valid,
        Err(AppError::BadRequest { message, field }) => {
            let html = render_manage(
                &state,
                &auth.1,
                form,
                Some((field.unwrap_or_default(), message)),
            )
            .await?;
            return Ok(rendered(StatusCode::BAD_REQUEST, Html(html)));
        }
        Err(other) => return Err(other),
    };
    let id = state
        .store
        .insert_course(
            &NewCourse {
                source_id: None,
                title: &valid.title,
                description: &valid.description,
                speaker: &valid.speaker,
                speaker_title: &valid.speaker_title,
                speaker_org: &valid.speaker_org,
                category: &valid.category,
                level: &valid.level,
                duration_minutes: valid.duration_minutes,
                published_at: &valid.published_at,
                tags: &valid.tags,
                regulations: &valid.regulations,
                sample: false,
                created_by: Some(viewer.account.id),
            },
            state.clock.unix(),
        )
        .await?;
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "course.create",
        &format!("course:{id}"),
        Outcome::Success,
        &valid.title,
    )
    .await?;
    Ok(Redirect::to(&format!("/classroom/manage/courses/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "classroom_manage_course.html")]
struct ManageCoursePage {
    page: Page,
    course: Course,
    lessons: Vec<LessonRow>,
    limit: String,
    video_accept: String,
    captions_accept: String,
    courseware_accept: String,
    poster_accept: String,
    courseware_labels: String,
    form: LessonFields,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Default, Clone)]
pub struct LessonFields {
    pub title: String,
    pub description: String,
    pub speaker: String,
    pub duration: String,
    pub transcript: String,
}

impl LessonFields {
    /// The title (trimmed) and the duration in seconds, or what is wrong with them.
    fn checked(&self) -> Result<(String, i64), String> {
        let title = self.title.trim().to_string();
        if title.is_empty() {
            return Err("请填写课时名称".into());
        }
        if title.chars().count() > 200 {
            return Err("课时名称不能超过 200 个字".into());
        }
        let duration = parse_clock_time(&self.duration)
            .ok_or_else(|| "时长应写成“分:秒”（如 12:30）或“时:分:秒”".to_string())?;
        Ok((title, duration))
    }

    fn of(lesson: &Lesson) -> LessonFields {
        LessonFields {
            title: lesson.title.clone(),
            description: lesson.description.clone(),
            speaker: lesson.speaker.clone(),
            duration: duration_text(lesson.duration_seconds),
            transcript: lesson.transcript.clone(),
        }
    }
}

fn accept(kinds: &'static [FileKind]) -> String {
    UploadPolicy {
        allowed: kinds,
        max_bytes: 0,
    }
    .accept_attribute()
}

async fn render_manage_course(
    state: &AppState,
    ctx: &Ctx,
    course_id: i64,
    form: LessonFields,
    error: Option<String>,
    notice: Option<String>,
) -> AppResult<String> {
    let course = state.store.course(course_id).await?;
    let lessons = state.store.lessons(course_id).await?;
    let mut rows = lesson_rows(&lessons, &[]);
    rows.iter_mut().for_each(|r| r.progress = None);
    let page = Page::new(state, ctx, format!("课时管理 - {}", course.title)).await;
    Ok(ManageCoursePage {
        page,
        course,
        lessons: rows,
        limit: format_size(upload_limit(state)),
        video_accept: accept(VIDEO_KINDS),
        captions_accept: ".vtt".to_string(),
        courseware_accept: accept(COURSEWARE_KINDS),
        poster_accept: accept(POSTER_KINDS),
        courseware_labels: UploadPolicy {
            allowed: COURSEWARE_KINDS,
            max_bytes: 0,
        }
        .allowed_labels(),
        form,
        error,
        notice,
    }
    .render()?)
}

#[derive(Deserialize, Default)]
pub struct ManageCourseQuery {
    added: Option<i64>,
    /// The title of a lesson just deleted.
    deleted: Option<String>,
    /// A lesson just moved.
    moved: Option<i64>,
    /// A lesson just edited.
    edited: Option<i64>,
    /// A lesson whose files were just replaced.
    replaced: Option<i64>,
}

pub async fn manage_course(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<ManageCourseQuery>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    // What was just done to which lesson of this course, said back in one line.
    type Said = fn(&Lesson) -> String;
    let done: Option<(i64, Said)> = if let Some(lesson) = query.added {
        Some((lesson, |l| format!("已添加课时“{}”。", l.title)))
    } else if let Some(lesson) = query.edited {
        Some((lesson, |l| format!("已保存课时“{}”。", l.title)))
    } else if let Some(lesson) = query.replaced {
        Some((lesson, |l| match duration_text(l.duration_seconds) {
            d if d.is_empty() => format!("已更换课时“{}”的文件。", l.title),
            d => format!("已更换课时“{}”的文件，时长 {d}。", l.title),
        }))
    } else if let Some(lesson) = query.moved {
        Some((lesson, |l| {
            format!("已将课时“{}”移到第 {} 位。", l.title, l.position)
        }))
    } else {
        None
    };
    let notice = match done {
        Some((lesson_id, said)) => state
            .store
            .lesson(lesson_id)
            .await
            .ok()
            .filter(|l| l.course_id == id)
            .map(|l| said(&l)),
        None => query.deleted.map(|title| {
            format!(
                "已删除课时“{}”。",
                title.chars().take(200).collect::<String>()
            )
        }),
    };
    Ok(Html(
        render_manage_course(&state, &auth.1, id, LessonFields::default(), None, notice).await?,
    ))
}

/// What went wrong with a lesson upload, for the form.
enum LessonRefusal {
    Upload {
        label: &'static str,
        error: UploadError,
    },
    Form(String),
}

/// Reads a text field of the multipart form, at most `max` bytes (chunk by chunk, so
/// that an oversized field is refused without being held whole).
async fn text_field(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> Result<String, LessonRefusal> {
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let chunk = field.chunk().await.map_err(|e| LessonRefusal::Upload {
            label: "表单",
            error: if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                UploadError::TooLarge { limit: 0 }
            } else {
                UploadError::Interrupted
            },
        })?;
        let Some(chunk) = chunk else { break };
        if bytes.len() + chunk.len() > max {
            return Err(LessonRefusal::Form("文字内容过长".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| LessonRefusal::Form("文字内容不是 UTF-8".into()))
}

/// A lesson's multipart form as received: its texts, the files stored (each
/// checked by content, labelled 视频 / 字幕 / 课件 / 封面图) and what was refused.
struct LessonParts {
    fields: LessonFields,
    stored: Vec<(&'static str, FileRecord)>,
    refusal: Option<LessonRefusal>,
}

impl LessonParts {
    fn file(&self, label: &str) -> Option<&FileRecord> {
        self.stored
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, f)| f)
    }

    async fn discard(&self, state: &AppState) {
        for (_, file) in &self.stored {
            uploads::discard(state, file).await;
        }
    }

    /// Refuses the form: removes what was stored, writes the failure of `action`
    /// on `target` to the audit log, and gives the status and message to show.
    async fn refuse(
        &self,
        state: &AppState,
        ctx: &Ctx,
        viewer: &Viewer,
        (action, target): (&str, &str),
        refusal: LessonRefusal,
    ) -> AppResult<(StatusCode, String)> {
        self.discard(state).await;
        let (status, message) = refusal_message(refusal, upload_limit(state));
        audit::record(
            state,
            ctx,
            Actor::account(&viewer.account),
            action,
            target,
            Outcome::Failure,
            &message,
        )
        .await?;
        Ok((status, message))
    }

    /// The files stored, for the audit log.
    fn detail(&self) -> String {
        self.stored
            .iter()
            .map(|(label, f)| format!("{label}:file:{} {} {}", f.id, f.kind.as_str(), f.size))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads a lesson's multipart form (`video`, `captions`, `courseware`, `poster`
/// and the text fields), the whole body limited to `course_upload_max_mb`. Stops
/// at the first refusal; an internal error removes what was stored.
async fn receive_lesson_parts(
    state: &AppState,
    account_id: i64,
    request: Request,
) -> AppResult<LessonParts> {
    let limit = upload_limit(state);
    let body_limit = usize::try_from(limit.saturating_add(256 * 1024)).unwrap_or(usize::MAX);
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, body_limit)));
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::bad_request("video", "请以表单方式上传文件"))?;
    let mut fields = LessonFields::default();
    let mut stored: Vec<(&'static str, FileRecord)> = Vec::new();
    let mut refusal: Option<LessonRefusal> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                refusal = Some(LessonRefusal::Upload {
                    label: "表单",
                    error: if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        UploadError::TooLarge { limit }
                    } else {
                        UploadError::Interrupted
                    },
                });
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let (label, kinds): (&'static str, &'static [FileKind]) = match name.as_str() {
            "video" => ("视频", VIDEO_KINDS),
            "captions" => ("字幕", CAPTION_KINDS),
            "courseware" => ("课件", COURSEWARE_KINDS),
            "poster" => ("封面图", POSTER_KINDS),
            "title" | "description" | "speaker" | "duration" | "transcript" => {
                let max = if name == "transcript" { 200_000 } else { 5_000 };
                match text_field(field, max).await {
                    Ok(text) => match name.as_str() {
                        "title" => fields.title = text,
                        "description" => fields.description = text,
                        "speaker" => fields.speaker = text,
                        "duration" => fields.duration = text,
                        _ => fields.transcript = text,
                    },
                    Err(e) => {
                        refusal = Some(e);
                        break;
                    }
                }
                continue;
            }
            _ => continue,
        };
        if field.file_name().is_none_or(str::is_empty) || stored.iter().any(|(l, _)| *l == label) {
            // No file chosen for this input (browsers still send the part).
            continue;
        }
        let policy = UploadPolicy {
            allowed: kinds,
            max_bytes: limit,
        };
        match uploads::receive(state, field, &policy, KEY_PREFIX, Some(account_id)).await {
            Ok(file) => stored.push((label, file)),
            Err(UploadError::Internal(cause)) => {
                for (_, file) in &stored {
                    uploads::discard(state, file).await;
                }
                return Err(AppError::Internal(cause));
            }
            Err(error) => {
                refusal = Some(LessonRefusal::Upload { label, error });
                break;
            }
        }
    }
    Ok(LessonParts {
        fields,
        stored,
        refusal,
    })
}

/// The message and status of a refused lesson form.
fn refusal_message(refusal: LessonRefusal, limit: u64) -> (StatusCode, String) {
    match refusal {
        LessonRefusal::Upload { label, error } => {
            let error = match error {
                UploadError::TooLarge { .. } => UploadError::TooLarge { limit },
                other => other,
            };
            let message = match &error {
                UploadError::TooLarge { .. } => {
                    format!(
                        "上传内容合计超过 {} 的上限，未保存任何文件",
                        format_size(limit)
                    )
                }
                other => format!("{label}：{other}"),
            };
            (error.status(), message)
        }
        LessonRefusal::Form(message) => (StatusCode::BAD_REQUEST, message),
    }
}

/// `POST /classroom/manage/courses/{id}/lessons`: a multipart form with the lesson's
/// text fields and its files (`video`, `captions`, `courseware`, `poster`). Each file is
/// checked by content; the whole body is limited to `course_upload_max_mb` (413).
/// Anything refused removes every file this request stored.
pub async fn upload_lesson(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(course_id): Path<i64>,
    request: Request,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageCourses)?.clone();
    ensure_enabled(&state, Module::Classroom).await?;
    let course = state.store.course(course_id).await?;
    let mut parts = receive_lesson_parts(&state, viewer.account.id, request).await?;
    let received = parts.refusal.take();
    let file_of = |label: &str| parts.file(label).map(|f| f.id);
    let checked = parts.fields.checked();
    let (title, mut duration) = checked.clone().unwrap_or_default();
    if duration == 0
        && let Some(video) = parts.file("视频")
    {
        // The duration left empty: the video's container says it.
        duration = media::video_seconds(&state, video).await.unwrap_or(0);
    }
    let refusal = received.or_else(|| {
        if let Err(message) = checked {
            Some(LessonRefusal::Form(message))
        } else if file_of("视频").is_none() && file_of("课件").is_none() {
            Some(LessonRefusal::Form("请至少上传视频或课件之一".into()))
        } else if file_of("字幕").is_some() && file_of("视频").is_none() {
            Some(LessonRefusal::Form("字幕需与视频一起上传".into()))
        } else {
            None
        }
    });
    if let Some(refusal) = refusal {
        let target = format!("course:{course_id}");
        let (status, message) = parts
            .refuse(
                &state,
                &auth.1,
                &viewer,
                ("course.lesson.upload", &target),
                refusal,
            )
            .await?;
        let html = render_manage_course(
            &state,
            &auth.1,
            course.id,
            parts.fields,
            Some(message),
            None,
        )
        .await?;
        return Ok(rendered(status, Html(html)));
    }
    let fields = &parts.fields;
    let lesson_id = state
        .store
        .insert_lesson(
            &NewLesson {
                course_id,
                title: &title,
                description: fields.description.trim(),
                speaker: fields.speaker.trim(),
                duration_seconds: duration,
                video_file_id: file_of("视频"),
                courseware_file_id: file_of("课件"),
                poster_file_id: file_of("封面图"),
                captions_file_id: file_of("字幕"),
                transcript: fields.transcript.trim(),
                source_key: None,
                created_by: Some(viewer.account.id),
            },
            state.clock.unix(),
        )
        .await;
    let lesson_id = match lesson_id {
        Ok(id) => id,
        Err(error) => {
            parts.discard(&state).await;
            return Err(error.into());
        }
    };
    audit::record(
        &state,
        &auth.1,
        Actor::account(&viewer.account),
        "course.lesson.create",
        &format!("lesson:{lesson_id}"),
        Outcome::Success,
        &format!("{title}; {}", parts.detail()),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/classroom/manage/courses/{course_id}?added={lesson_id}"
    ))
    .into_response())
}

/// `POST /classroom/manage/lessons/{id}/files`: replaces the files chosen (video,
/// captions, courseware, poster; the others stay) in one step, each checked by
/// content like an upload. A new video brings its own duration when its
/// container gives one. The files replaced are removed once nothing uses them;
/// audited.
pub async fn replace_lesson_files(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    request: Request,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageCourses)?.clone();
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let mut parts = receive_lesson_parts(&state, viewer.account.id, request).await?;
    let received = parts.refusal.take();
    let file_of = |label: &str| parts.file(label).map(|f| f.id);
    let refusal = received.or_else(|| {
        if parts.stored.is_empty() {
            Some(LessonRefusal::Form("请选择要更换的文件".into()))
        } else if file_of("字幕").is_some()
            && file_of("视频").is_none()
            && lesson.video_file_id.is_none()
        {
            Some(LessonRefusal::Form(
                "本课时没有视频，不能单独上传字幕".into(),
            ))
        } else {
            None
        }
    });
    if let Some(refusal) = refusal {
        let target = format!("lesson:{id}");
        let (status, message) = parts
            .refuse(
                &state,
                &auth.1,
                &viewer,
                ("course.lesson.files", &target),
                refusal,
            )
            .await?;
        let form = LessonFields::of(&lesson);
        let html = render_edit_lesson(&state, &auth.1, lesson, form, Some(message)).await?;
        return Ok(rendered(status, Html(html)));
    }
    let duration = match parts.file("视频") {
        Some(video) => media::video_seconds(&state, video).await,
        None => None,
    };
    let replaced = state
        .store
        .replace_lesson_files(
            id,
            &LessonFiles {
                video: file_of("视频"),
                captions: file_of("字幕"),
                courseware: file_of("课件"),
                poster: file_of("封面图"),
            },
            duration,
            state.clock.unix(),
        )
        .await;
    let (course_id, unused) = match replaced {
        Ok(Some(done)) => done,
        Ok(None) => {
            parts.discard(&state).await;
            return Err(AppError::NotFound);
        }
        Err(greenbridge_store::StoreError::Conflict) => {
            parts.discard(&state).await;
            let message = "本课时的文件刚被更换过，请查看后重试".to_string();
            let lesson = state.store.lesson(id).await?;
            let form = LessonFields::of(&lesson);
            let html = render_edit_lesson(&state, &auth.1, lesson, form, Some(message)).await?;
            return Ok(rendered(StatusCode::CONFLICT, Html(html)));
        }
        Err(error) => {
            parts.discard(&state).await;
            return Err(error.into());
        }
    };
    let removed = uploads::discard_ids(&state, unused).await;
    let detail = format!(
        "course:{course_id}; {}; removed {}",
        parts.detail(),
        removed.join(" ")
    );
    let done = LessonDone {
        action: "course.lesson.files",
        lesson_id: id,
        course_id,
    };
    Ok(done
        .record(&state, &auth.1, &viewer, &detail, &format!("replaced={id}"))
        .await?
        .into_response())
}

#[derive(Template)]
#[template(path = "classroom_edit_lesson.html")]
struct EditLessonPage {
    page: Page,
    course: Course,
    lesson: Lesson,
    form: LessonFields,
    error: Option<String>,
    /// The lesson's files as they are: (label, input name, kind and size).
    files: Vec<(&'static str, &'static str, Option<String>)>,
    limit: String,
    video_accept: String,
    courseware_accept: String,
    poster_accept: String,
}

async fn render_edit_lesson(
    state: &AppState,
    ctx: &Ctx,
    lesson: Lesson,
    form: LessonFields,
    error: Option<String>,
) -> AppResult<String> {
    let course = state.store.course(lesson.course_id).await?;
    let mut files = Vec::new();
    for (label, name, id) in [
        ("视频", "video", lesson.video_file_id),
        ("字幕", "captions", lesson.captions_file_id),
        ("课件", "courseware", lesson.courseware_file_id),
        ("封面图", "poster", lesson.poster_file_id),
    ] {
        let now = match id {
            Some(id) => {
                let file = state.store.file(id).await?;
                Some(format!("{}，{}", file.kind.label(), format_size(file.size)))
            }
            None => None,
        };
        files.push((label, name, now));
    }
    let page = Page::new(state, ctx, format!("修改课时 - {}", lesson.title)).await;
    Ok(EditLessonPage {
        page,
        course,
        lesson,
        form,
        error,
        files,
        limit: format_size(upload_limit(state)),
        video_accept: accept(VIDEO_KINDS),
        courseware_accept: accept(COURSEWARE_KINDS),
        poster_accept: accept(POSTER_KINDS),
    }
    .render()?)
}

/// `GET /classroom/manage/lessons/{id}/edit`: the lesson's texts in a form.
pub async fn edit_lesson_form(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let form = LessonFields::of(&lesson);
    Ok(Html(
        render_edit_lesson(&state, &auth.1, lesson, form, None).await?,
    ))
}

#[derive(Deserialize)]
pub struct LessonTextForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    speaker: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    transcript: String,
}

/// `POST /classroom/manage/lessons/{id}/edit`: saves the texts (the files stay:
/// they are replaced through [`replace_lesson_files`]); audited.
pub async fn edit_lesson(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(typed): Form<LessonTextForm>,
) -> AppResult<Response> {
    let viewer = auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let form = LessonFields {
        title: typed.title.chars().take(1000).collect(),
        description: typed.description,
        speaker: typed.speaker.chars().take(200).collect(),
        duration: typed.duration.chars().take(20).collect(),
        transcript: typed.transcript,
    };
    let (title, duration) = match form.checked() {
        Ok(checked) => checked,
        Err(message) => {
            let html = render_edit_lesson(&state, &auth.1, lesson, form, Some(message)).await?;
            return Ok(rendered(StatusCode::UNPROCESSABLE_ENTITY, Html(html)));
        }
    };
    let text = LessonText {
        title: &title,
        description: form.description.trim(),
        speaker: form.speaker.trim(),
        duration_seconds: duration,
        transcript: form.transcript.trim(),
    };
    let Some(course_id) = state
        .store
        .update_lesson_text(id, &text, state.clock.unix())
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let detail = format!("course:{course_id}; {title}");
    let said = format!("edited={id}");
    let done = LessonDone {
        action: "course.lesson.edit",
        lesson_id: id,
        course_id,
    };
    Ok(done
        .record(&state, &auth.1, viewer, &detail, &said)
        .await?
        .into_response())
}

/// A lesson action staff just took: written to the audit log, then back to the
/// course's lessons, which say what was done.
struct LessonDone {
    action: &'static str,
    lesson_id: i64,
    course_id: i64,
}

impl LessonDone {
    /// `said` is the query the lessons page reads its notice from (`moved=12`).
    async fn record(
        self,
        state: &AppState,
        ctx: &Ctx,
        viewer: &Viewer,
        detail: &str,
        said: &str,
    ) -> AppResult<Redirect> {
        audit::record(
            state,
            ctx,
            Actor::account(&viewer.account),
            self.action,
            &format!("lesson:{}", self.lesson_id),
            Outcome::Success,
            detail,
        )
        .await?;
        Ok(Redirect::to(&format!(
            "/classroom/manage/courses/{}?{said}",
            self.course_id
        )))
    }
}

#[derive(Template)]
#[template(path = "classroom_delete_lesson.html")]
struct DeleteLessonPage {
    page: Page,
    course: Course,
    lesson: Lesson,
}

/// `GET /classroom/manage/lessons/{id}/delete`: asks to confirm (a form that
/// works without JavaScript; nothing is deleted by a link).
pub async fn confirm_delete_lesson(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let course = state.store.course(lesson.course_id).await?;
    let page = Page::new(&state, &auth.1, format!("删除课时 - {}", lesson.title)).await;
    Ok(Html(
        DeleteLessonPage {
            page,
            course,
            lesson,
        }
        .render()?,
    ))
}

/// `POST /classroom/manage/lessons/{id}/delete`: removes the lesson, its learners'
/// progress and the files no other lesson uses; audited.
pub async fn delete_lesson(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
) -> AppResult<Redirect> {
    let viewer = auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let lesson = state.store.lesson(id).await?;
    let Some((course_id, unused)) = state.store.delete_lesson(id, state.clock.unix()).await? else {
        return Err(AppError::NotFound);
    };
    let removed = uploads::discard_ids(&state, unused).await;
    let detail = format!(
        "course:{course_id}; {}; {}",
        lesson.title,
        removed.join(" ")
    );
    let title: String = form_urlencoded::byte_serialize(lesson.title.as_bytes()).collect();
    let done = LessonDone {
        action: "course.lesson.delete",
        lesson_id: id,
        course_id,
    };
    done.record(
        &state,
        &auth.1,
        viewer,
        &detail,
        &format!("deleted={title}"),
    )
    .await
}

#[derive(Deserialize)]
pub struct MoveForm {
    direction: String,
}

/// `POST /classroom/manage/lessons/{id}/move`: `direction` = `up` or `down`; audited.
pub async fn move_lesson(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<i64>,
    Form(form): Form<MoveForm>,
) -> AppResult<Redirect> {
    let viewer = auth.require(Permission::ManageCourses)?;
    ensure_enabled(&state, Module::Classroom).await?;
    let up = match form.direction.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::bad_request("direction", "方向只能是上移或下移")),
    };
    let Some(course_id) = state.store.move_lesson(id, up, state.clock.unix()).await? else {
        return Err(AppError::NotFound);
    };
    let detail = format!("course:{course_id}; {}", form.direction);
    let done = LessonDone {
        action: "course.lesson.move",
        lesson_id: id,
        course_id,
    };
    done.record(&state, &auth.1, viewer, &detail, &format!("moved={id}"))
        .await
}

// ---------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------

fn course_json(course: &Course) -> Value {
    json!({
        "id": course.id.to_string(),
        "source_id": course.source_id,
        "title": course.title,
        "description": course.description,
        "speaker": course.speaker,
        "speaker_title": course.speaker_title,
        "speaker_org": course.speaker_org,
        "category": course.category,
        "level": if course.level.is_empty() { Value::Null } else { Value::from(course.level.clone()) },
        "duration_minutes": course.duration_minutes,
        "tags": course.tags,
        "regulations": course.regulations,
        "published_at": course.published_at,
        "lesson_count": course.lesson_count,
        "view_count": course.view_count,
        "sample": course.sample,
        "url": format!("/classroom/courses/{}", course.id),
    })
}

/// `GET /api/v1/courses`: `q`, `category`, `tag` (repeated: any), `sort` = relevance |
/// newest | views, `order` = asc | desc.
pub async fn api_courses(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Classroom).await?;
    let params = Params::parse(raw, &["q", "category", "tag"])?;
    let (page, page_size) = params.page()?;
    let q = params.one("q");
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(AppError::bad_request("q", "q 不能超过 100 个字"));
    }
    let sort = CourseSort::parse(params.one("sort"), q.is_some())
        .ok_or_else(|| AppError::bad_request("sort", "sort 只能是 relevance、newest 或 views"))?;
    let ascending = match params.one("order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(AppError::bad_request("order", "order 只能是 asc 或 desc")),
    };
    let categories = params.all("category");
    let tags = params.all("tag");
    let found = find_courses(&state, q, &categories, &tags, sort, ascending).await?;
    let facets = BTreeMap::from([
        (
            "category",
            facet_counts(found.courses.iter().map(|c| c.category.as_str())),
        ),
        (
            "tag",
            facet_counts(
                found
                    .courses
                    .iter()
                    .flat_map(|c| c.tags.iter().map(String::as_str)),
            ),
        ),
    ]);
    let items: Vec<Value> = found.courses.iter().map(course_json).collect();
    Ok(list(items, page, page_size, facets))
}

/// `GET /api/v1/courses/{id}`: a course with its lessons and their file URLs.
pub async fn api_course(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    ensure_enabled(&state, Module::Classroom).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let course = state.store.course(id).await?;
    let lessons = state.store.lessons(id).await?;
    let mut value = course_json(&course);
    let url = |lesson: &Lesson, what: &str, file: Option<i64>| {
        file.map(|_| format!("/classroom/lessons/{}/{what}", lesson.id))
    };
    value["lessons"] = Value::Array(
        lessons
            .iter()
            .map(|l| {
                json!({
                    "id": l.id.to_string(),
                    "position": l.position,
                    "title": l.title,
                    "duration_seconds": l.duration_seconds,
                    "view_count": l.view_count,
                    "page_url": format!("/classroom/lessons/{}", l.id),
                    "video_url": url(l, "video", l.video_file_id),
                    "captions_url": url(l, "captions", l.captions_file_id),
                    "courseware_url": url(l, "courseware", l.courseware_file_id),
                    "poster_url": url(l, "poster", l.poster_file_id),
                    "transcript": l.transcript,
                })
            })
            .collect(),
    );
    Ok(Json(value))
}

// ---------------------------------------------------------------------------
// Demo: the project's own sample video as a lesson of every sample course
// ---------------------------------------------------------------------------

/// The sample video (8 s, VP9/Opus WebM, made for this project with ffmpeg; see
/// `samples/courses/README.md`), its captions, poster and transcript.
const SAMPLE_VIDEO: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro.webm");
const SAMPLE_CAPTIONS: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro.vtt");
const SAMPLE_POSTER: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro-poster.jpg");
const SAMPLE_TRANSCRIPT: &str =
    include_str!("../../../../samples/courses/lvqiao-intro-transcript.txt");
/// Length of the sample video, in seconds.
pub const SAMPLE_VIDEO_SECONDS: i64 = 8;

/// Stores one sample file under a fixed key, once (its row tells).
async fn sample_file(
    store: &Store,
    files: &dyn FileStore,
    key: &str,
    bytes: &'static [u8],
    kind: FileKind,
    name: &str,
    now: i64,
) -> anyhow::Result<i64> {
    use anyhow::Context as _;
    if let Ok(record) = store.file_by_key(key).await {
        return Ok(record.id);
    }
    let key = StorageKey::parse(key).map_err(|_| anyhow::anyhow!("bad sample key {key}"))?;
    // Bytes without a row are left from an interrupted run: replace them.
    files
        .delete(&key)
        .await
        .context("cannot clear a sample file")?;
    let body: greenbridge_store::blob::ByteStream<'static> =
        Box::pin(futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(Bytes::from_static(bytes))
        }));
    let size = files
        .put(&key, body)
        .await
        .context("cannot store a sample file")?;
    let sha256 = {
        use sha2::{Digest, Sha256};
        data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
    };
    let record = store
        .insert_file(
            &NewFile {
                storage_key: key.as_str(),
                kind,
                size,
                sha256: &sha256,
                original_name: name,
                owner_account_id: None,
            },
            now,
        )
        .await
        .context("cannot record a sample file")?;
    Ok(record.id)
}

/// Attaches the sample video (with captions, poster and transcript) as a first
/// lesson "课程导学" to every sample course that has not got it yet. Idempotent;
/// returns how many lessons it added.
pub async fn attach_sample_lessons(
    store: &Store,
    files: &dyn FileStore,
    now: i64,
) -> anyhow::Result<usize> {
    let video = sample_file(
        store,
        files,
        "courses/sample-lvqiao-intro-webm",
        SAMPLE_VIDEO,
        FileKind::Webm,
        "lvqiao-intro.webm",
        now,
    )
    .await?;
    let captions = sample_file(
        store,
        files,
        "courses/sample-lvqiao-intro-vtt",
        SAMPLE_CAPTIONS,
        FileKind::Vtt,
        "lvqiao-intro.vtt",
        now,
    )
    .await?;
    let poster = sample_file(
        store,
        files,
        "courses/sample-lvqiao-intro-poster",
        SAMPLE_POSTER,
        FileKind::Jpeg,
        "lvqiao-intro-poster.jpg",
        now,
    )
    .await?;
    let mut added = 0;
    for course in store.list_courses(&CourseFilter::default()).await? {
        let (true, Some(source_id)) = (course.sample, course.source_id.as_deref()) else {
            continue;
        };
        let key = format!("sample:{source_id}:intro");
        if store.lesson_by_source_key(&key).await?.is_some() {
            continue;
        }
        store
            .insert_lesson(
                &NewLesson {
                    course_id: course.id,
                    title: "课程导学（示例视频）",
                    description: "本项目自制的示例视频，演示视频播放、字幕和学习进度记录。",
                    speaker: "",
                    duration_seconds: SAMPLE_VIDEO_SECONDS,
                    video_file_id: Some(video),
                    courseware_file_id: None,
                    poster_file_id: Some(poster),
                    captions_file_id: Some(captions),
                    transcript: SAMPLE_TRANSCRIPT.trim(),
                    source_key: Some(&key),
                    created_by: None,
                },
                now,
            )
            .await?;
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_read_and_write() {
        assert_eq!(clock_time(0), "0:00");
        assert_eq!(clock_time(725), "12:05");
        assert_eq!(clock_time(3723), "1:02:03");
        assert_eq!(parse_clock_time("12:30"), Some(750));
        assert_eq!(parse_clock_time("1:02:03"), Some(3723));
        assert_eq!(parse_clock_time("90"), Some(90));
        assert_eq!(parse_clock_time(""), Some(0));
        assert_eq!(parse_clock_time("1:60"), None);
        assert_eq!(parse_clock_time("abc"), None);
        assert_eq!(parse_clock_time("-3"), None);
    }

    #[test]
    fn positions_are_whole_non_negative_seconds() {
        assert_eq!(parse_position("12.9").unwrap(), 12);
        assert_eq!(parse_position("0").unwrap(), 0);
        assert!(parse_position("-1").is_err());
        assert!(parse_position("NaN").is_err());
        assert!(parse_position("inf").is_err());
        assert_eq!(parse_position("1e12").unwrap(), MAX_POSITION);
    }

    #[test]
    fn the_sample_video_is_small_webm_with_webvtt_captions() {
        assert!(SAMPLE_VIDEO.len() < 1024 * 1024);
        assert_eq!(
            FileKind::sniff(SAMPLE_VIDEO, "x.webm"),
            Some(FileKind::Webm)
        );
        assert_eq!(
            FileKind::sniff(SAMPLE_CAPTIONS, "x.vtt"),
            Some(FileKind::Vtt)
        );
        assert_eq!(
            FileKind::sniff(SAMPLE_POSTER, "x.jpg"),
            Some(FileKind::Jpeg)
        );
    }
}
