//! `greenbridge import courses PATH`: the 绿色课堂 course catalogue from JSON Lines
//! (`samples/courses.jsonl`), one course per line, keyed by its `id` (kept as the
//! course's `source_id`). Importing the same file twice changes nothing; a changed
//! record updates its course (tags and regulation links replaced). Lessons and their
//! files are not in the file: staff upload them on the site.
//!
//! Fields: `id`, `title`, `category` (required); `speaker`, `speaker_title`,
//! `speaker_org`, `description`, `level` (入门 / 进阶 / 高级), `duration_minutes`
//! (0–1440), `tags` (strings), `published_at` (`YYYY-MM-DD`, required) and
//! `regulations` (optional: regulation data-file ids such as `reg-0107`, or titles).
//! Without `regulations`, the works named in 《》 in the course title are its links
//! (e.g. 《国家危险废物名录》): a course names in its title the rule it teaches, while
//! its description may mention repealed ones for background. Unknown fields are
//! ignored. The row of a rejected line is its line number.

use crate::{ImportOptions, ImportReport, IngestError, Rejected};
use greenbridge_domain::time::{format_date, parse_date};
use greenbridge_store::Store;
use greenbridge_store::courses::{NewCourse, Upserted};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Longest values accepted, in characters.
const ID_MAX: usize = 100;
const TITLE_MAX: usize = 200;
const SHORT_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 5000;
const TAG_MAX: usize = 30;
const TAGS_MAX: usize = 20;
/// A day; no course lasts longer.
const DURATION_MAX: i64 = 24 * 60;
/// The levels of the data file.
pub const LEVELS: [&str; 3] = ["入门", "进阶", "高级"];

/// One course record, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRecord {
    pub source_id: String,
    pub title: String,
    pub speaker: String,
    pub speaker_title: String,
    pub speaker_org: String,
    pub category: String,
    pub level: String,
    pub duration_minutes: i64,
    pub description: String,
    pub tags: Vec<String>,
    pub published_at: String,
    pub regulations: Vec<String>,
}

impl CourseRecord {
    pub fn as_new_course(&self, sample: bool) -> NewCourse<'_> {
        NewCourse {
            source_id: Some(&self.source_id),
            title: &self.title,
            description: &self.description,
            speaker: &self.speaker,
            speaker_title: &self.speaker_title,
            speaker_org: &self.speaker_org,
            category: &self.category,
            level: &self.level,
            duration_minutes: self.duration_minutes,
            published_at: &self.published_at,
            tags: &self.tags,
            regulations: &self.regulations,
            sample,
            created_by: None,
        }
    }
}

/// A field at fault and why.
type FieldError = (Option<&'static str>, String);

fn text(
    object: &Map<String, Value>,
    field: &'static str,
    required: bool,
    max: usize,
) -> Result<String, FieldError> {
    match object.get(field) {
        None | Some(Value::Null) if !required => Ok(String::new()),
        None | Some(Value::Null) => Err((Some(field), format!("缺少 {field}"))),
        Some(Value::String(value)) => {
            let value = value.trim();
            if required && value.is_empty() {
                return Err((Some(field), format!("{field} 不能为空")));
            }
            if value.chars().count() > max {
                return Err((Some(field), format!("{field} 超过 {max} 个字符")));
            }
            if value.chars().any(|c| c.is_control() && c != '\n') {
                return Err((Some(field), format!("{field} 含有控制字符")));
            }
            Ok(value.to_string())
        }
        Some(_) => Err((Some(field), format!("{field} 应为文字"))),
    }
}

fn strings(
    object: &Map<String, Value>,
    field: &'static str,
    max_items: usize,
    max_len: usize,
) -> Result<Vec<String>, FieldError> {
    let items = match object.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err((Some(field), format!("{field} 应为文字列表"))),
    };
    if items.len() > max_items {
        return Err((Some(field), format!("{field} 最多 {max_items} 项")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Value::String(value) = item else {
            return Err((Some(field), format!("{field} 的每一项都应为文字")));
        };
        let value = value.trim();
        if value.is_empty() {
            return Err((Some(field), format!("{field} 含有空项")));
        }
        if value.chars().count() > max_len || value.chars().any(char::is_control) {
            return Err((
                Some(field),
                format!("{field} 的“{value}”过长或含有控制字符"),
            ));
        }
        if !out.iter().any(|v| v == value) {
            out.push(value.to_string());
        }
    }
    Ok(out)
}

/// The works named in 《》 in `text`, in order, each once.
pub fn bracketed_titles(text: &str) -> Vec<String> {
    let mut titles: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('《') {
        let after = &rest[start + '《'.len_utf8()..];
        let Some(end) = after.find('》') else { break };
        let title = after[..end].trim();
        if !title.is_empty() && !titles.iter().any(|t| t == title) {
            titles.push(title.to_string());
        }
        rest = &after[end + '》'.len_utf8()..];
    }
    titles
}

/// Parses one line of the file.
pub fn parse_record(line: &str) -> Result<CourseRecord, FieldError> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| (None, format!("不是有效的 JSON：{e}")))?;
    let Value::Object(object) = value else {
        return Err((None, "每行应为一个 JSON 对象".to_string()));
    };
    let source_id = text(&object, "id", true, ID_MAX)?;
    let title = text(&object, "title", true, TITLE_MAX)?;
    let category = text(&object, "category", true, SHORT_MAX)?;
    let level = text(&object, "level", false, SHORT_MAX)?;
    if !level.is_empty() && !LEVELS.contains(&level.as_str()) {
        return Err((
            Some("level"),
            format!("level 应为 入门、进阶 或 高级，而不是“{level}”"),
        ));
    }
    let duration_minutes = match object.get("duration_minutes") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(m) if (0..=DURATION_MAX).contains(&m) => m,
            _ => {
                return Err((
                    Some("duration_minutes"),
                    format!(
                        "duration_minutes 应为 0 到 {DURATION_MAX} 之间的整数（分钟），而不是 {n}"
                    ),
                ));
            }
        },
        Some(_) => {
            return Err((
                Some("duration_minutes"),
                "duration_minutes 应为整数（分钟）".to_string(),
            ));
        }
    };
    let published_at = match object.get("published_at") {
        Some(Value::String(date)) => parse_date(date)
            .map(format_date)
            .map_err(|e| (Some("published_at"), format!("published_at：{e}")))?,
        None | Some(Value::Null) => return Err((Some("published_at"), "缺少 published_at".into())),
        Some(_) => {
            return Err((
                Some("published_at"),
                "published_at 应为“年-月-日”文字".into(),
            ));
        }
    };
    let tags = strings(&object, "tags", TAGS_MAX, TAG_MAX)?;
    let regulations = match object.get("regulations") {
        None | Some(Value::Null) => bracketed_titles(&title),
        Some(_) => strings(&object, "regulations", 50, TITLE_MAX)?,
    };
    Ok(CourseRecord {
        source_id,
        speaker: text(&object, "speaker", false, SHORT_MAX)?,
        speaker_title: text(&object, "speaker_title", false, SHORT_MAX)?,
        speaker_org: text(&object, "speaker_org", false, TITLE_MAX)?,
        description: text(&object, "description", false, DESCRIPTION_MAX)?,
        title,
        category,
        level,
        duration_minutes,
        tags,
        published_at,
        regulations,
    })
}

/// A whole file, parsed.
#[derive(Debug)]
pub struct Parsed {
    /// The good records with their line numbers.
    pub records: Vec<(u64, CourseRecord)>,
    pub rejected: Vec<Rejected>,
    /// Non-empty lines read.
    pub read: u64,
}

/// Parses the whole file: the good records with their line numbers, and the rejected
/// lines. Blank lines are not rows.
pub fn parse(bytes: &[u8]) -> Result<Parsed, IngestError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| IngestError::Unreadable(format!("the file is not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut read = 0;
    for (index, line) in text.lines().enumerate() {
        let row = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        read += 1;
        match parse_record(line) {
            Ok(record) => {
                if seen.insert(record.source_id.clone()) {
                    records.push((row, record));
                } else {
                    rejected.push(Rejected::row(
                        row,
                        Some("id"),
                        format!("id {} 在文件中重复出现", record.source_id),
                    ));
                }
            }
            Err((field, reason)) => rejected.push(Rejected::row(row, field, reason)),
        }
    }
    if read > 0 && records.is_empty() && rejected.iter().all(|r| r.field.is_none()) {
        return Err(IngestError::Unreadable(
            "no line of the file is a JSON object: not a JSON Lines course file".into(),
        ));
    }
    Ok(Parsed {
        records,
        rejected,
        read,
    })
}

/// Imports the file at `path`.
pub async fn import(
    store: &Store,
    path: &std::path::Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    if let Some(kind) = &options.kind {
        return Err(IngestError::Options(format!(
            "courses have no kinds (--kind {kind})"
        )));
    }
    let bytes = crate::read_input(path)?;
    import_bytes(store, &bytes, options).await
}

/// Imports course records from the bytes of a JSON Lines file.
pub async fn import_bytes(
    store: &Store,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let Parsed {
        records,
        rejected,
        read,
    } = parse(bytes)?;
    let mut report = ImportReport {
        read,
        rejected,
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    for (_row, record) in &records {
        let mut course = record.as_new_course(options.sample);
        course.created_by = options.actor_account_id;
        let outcome = if options.dry_run {
            store.course_upsert_preview(&course).await?
        } else {
            store.upsert_course(&course, options.now).await?
        };
        match outcome {
            Upserted::Created(_) => report.created += 1,
            Upserted::Updated(_) => report.updated += 1,
            Upserted::Unchanged(_) => report.unchanged += 1,
        }
    }
    report.rejected.sort_by_key(|r| r.row);
    Ok(report)
}

/// The repository's copy of the sample course catalogue (fictional; 示例数据).
pub const SAMPLE_COURSES: &str = include_str!("../../../samples/courses.jsonl");

/// Imports the sample catalogue for `serve --demo`, marked as sample content.
pub async fn import_samples(store: &Store, now: i64) -> Result<ImportReport, IngestError> {
    import_bytes(
        store,
        SAMPLE_COURSES.as_bytes(),
        &ImportOptions {
            sample: true,
            now,
            ..ImportOptions::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = SAMPLE_COURSES;

    #[test]
    fn every_sample_course_parses() {
        let Parsed {
            records,
            rejected,
            read,
        } = parse(SAMPLE.as_bytes()).expect("readable");
        assert_eq!(read, 20);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(records.len(), 20);
        let first = &records[0].1;
        assert_eq!(first.source_id, "course-0001");
        assert_eq!(first.published_at, "2026-09-15");
        assert_eq!(first.regulations, ["生态环境法典"]);
        let third = &records[2].1;
        assert_eq!(third.regulations, ["国家危险废物名录"]);
        assert!(records.iter().all(|(_, r)| !r.tags.is_empty()));
    }

    #[test]
    fn bad_lines_are_rejected_with_their_line_and_field() {
        let file = concat!(
            r#"{"id": "c-1", "title": "甲", "category": "政策法规", "published_at": "2026-01-01"}"#,
            "\n\n",
            "not json\n",
            r#"{"id": "c-2", "title": "乙", "category": "政策法规", "published_at": "2026-02-30"}"#,
            "\n",
            r#"{"id": "c-3", "title": "", "category": "政策法规", "published_at": "2026-01-01"}"#,
            "\n",
            r#"{"id": "c-4", "title": "丁", "category": "政策法规", "published_at": "2026-01-01", "duration_minutes": -5}"#,
            "\n",
            r#"{"id": "c-1", "title": "重复", "category": "政策法规", "published_at": "2026-01-01"}"#,
            "\n",
            r#"{"id": "c-6", "title": "己", "category": "政策法规", "published_at": "2026-01-01", "level": "大师", "tags": ["a", "a"]}"#,
            "\n",
        );
        let Parsed {
            records,
            rejected,
            read,
        } = parse(file.as_bytes()).expect("readable");
        assert_eq!(read, 7);
        assert_eq!(records.len(), 1);
        let summary: Vec<(Option<u64>, Option<&str>)> = rejected
            .iter()
            .map(|r| (r.row, r.field.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                (Some(3), None),
                (Some(4), Some("published_at")),
                (Some(5), Some("title")),
                (Some(6), Some("duration_minutes")),
                (Some(7), Some("id")),
                (Some(8), Some("level")),
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_json_lines_is_unreadable() {
        assert!(matches!(
            parse(b"id,title\n1,2\n"),
            Err(IngestError::Unreadable(_))
        ));
        assert!(matches!(
            parse(&[0xff, 0xfe, 0]),
            Err(IngestError::Unreadable(_))
        ));
    }

    #[test]
    fn titles_in_book_brackets_are_found_once_each() {
        assert_eq!(
            bracketed_titles("《甲》与《乙》，再谈《甲》；《未完"),
            ["甲", "乙"]
        );
        assert!(bracketed_titles("没有书名").is_empty());
    }
}
