//! `greenbridge import faq PATH`: the FAQ base of the assistant from JSON Lines
//! (`faq_part1.jsonl`, `faq_part2.jsonl`), one entry per line, keyed by its `id`
//! (kept as the entry's `source_id`). PATH may be one file or a folder, whose
//! `*.jsonl` files are read in name order (other files are skipped). Importing the
//! same file twice changes nothing; a changed line updates its entry.
//!
//! Fields: `id`, `question`, `answer`, `category` (水, 气, 声, 固废, 土壤, 环保手续,
//! 监测, 执法, 第三方治理, 其他), `region` (全国, 上海市, 江苏省, 浙江省, 示范区), all
//! required; `subcategory`, `keywords` (strings), `similar_questions` (相似问法,
//! strings) and `references` (document titles, normally in 《》) optional. Unknown
//! fields are ignored. The row of a rejected line is its line number.
//!
//! A line without `similar_questions` keeps the ones its entry already has (staff
//! may have added some on the site); a new entry gets the platform's starter list
//! for its id (`greenbridge_qa::similar`). A line with the field replaces the list.
//!
//! Also here, for `serve --demo`: the 办事流程 guides (`procedures.jsonl`) and the
//! sample events (`events.jsonl`) of the assistant's pages.

use std::path::Path;

use greenbridge_qa::{CATEGORIES, REGIONS};
use greenbridge_store::Store;
use greenbridge_store::faq::{Event, FaqInput, FaqUpserted, Procedure};
use serde::Deserialize;

use crate::{ImportOptions, ImportReport, IngestError, Rejected, Skipped, read_input};

const ID_MAX: usize = 100;
const QUESTION_MAX: usize = 500;
const ANSWER_MAX: usize = 20_000;
const SHORT_MAX: usize = 100;
const LIST_MAX: usize = 50;

#[derive(Deserialize)]
struct RawFaq {
    id: Option<String>,
    question: Option<String>,
    answer: Option<String>,
    category: Option<String>,
    #[serde(default)]
    subcategory: Option<String>,
    region: Option<String>,
    #[serde(default)]
    keywords: Option<Vec<String>>,
    #[serde(default)]
    similar_questions: Option<Vec<String>>,
    #[serde(default)]
    references: Option<Vec<String>>,
}

/// A field at fault and why.
type FieldError = (Option<&'static str>, String);

fn required(value: Option<String>, field: &'static str, max: usize) -> Result<String, FieldError> {
    let value = value.map(|v| v.trim().to_string()).unwrap_or_default();
    if value.is_empty() {
        return Err((Some(field), format!("缺少 {field}")));
    }
    if value.chars().count() > max {
        return Err((Some(field), format!("{field} 超过 {max} 个字符")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err((Some(field), format!("{field} 含有控制字符")));
    }
    Ok(value)
}

fn list(values: Option<Vec<String>>, field: &'static str) -> Result<Vec<String>, FieldError> {
    let values = values.unwrap_or_default();
    if values.len() > LIST_MAX {
        return Err((Some(field), format!("{field} 最多 {LIST_MAX} 项")));
    }
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim().to_string();
        if v.is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
            return Err((Some(field), format!("{field} 含有空项、过长项或控制字符")));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Parses one line of a FAQ file into the entry to store, and whether the line
/// gave the similar questions (when not, `similar_questions` is empty).
pub fn parse_faq_line(line: &str, sample: bool) -> Result<(FaqInput, bool), FieldError> {
    let raw: RawFaq =
        serde_json::from_str(line).map_err(|e| (None, format!("不是有效的 JSON 对象：{e}")))?;
    let source_id = required(raw.id, "id", ID_MAX)?;
    let question = required(raw.question, "question", QUESTION_MAX)?;
    let answer = required(raw.answer, "answer", ANSWER_MAX)?;
    let category = required(raw.category, "category", SHORT_MAX)?;
    if !CATEGORIES.contains(&category.as_str()) {
        return Err((
            Some("category"),
            format!(
                "category 应为 {} 之一，而不是“{category}”",
                CATEGORIES.join("、")
            ),
        ));
    }
    let region = required(raw.region, "region", SHORT_MAX)?;
    if !REGIONS.contains(&region.as_str()) {
        return Err((
            Some("region"),
            format!("region 应为 {} 之一，而不是“{region}”", REGIONS.join("、")),
        ));
    }
    let subcategory = raw
        .subcategory
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if subcategory.chars().count() > SHORT_MAX {
        return Err((
            Some("subcategory"),
            format!("subcategory 超过 {SHORT_MAX} 个字符"),
        ));
    }
    let similar_given = raw.similar_questions.is_some();
    let input = FaqInput {
        source_id: Some(source_id),
        question,
        answer,
        category,
        subcategory,
        region,
        keywords: list(raw.keywords, "keywords")?,
        similar_questions: list(raw.similar_questions, "similar_questions")?,
        references: list(raw.references, "references")?,
        origin: "import".into(),
        sample,
    };
    Ok((input, similar_given))
}

/// The files to read: PATH itself, or the `*.jsonl` files of a folder by name.
fn input_files(
    path: &Path,
    report: &mut ImportReport,
) -> Result<Vec<std::path::PathBuf>, IngestError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    let entries = std::fs::read_dir(path)
        .map_err(|e| IngestError::Unreadable(format!("cannot read {}: {e}", path.display())))?;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if p.is_file() && name.ends_with(".jsonl") && name.starts_with("faq") {
            files.push(p);
        } else {
            report.skipped.push(Skipped {
                file: name,
                reason: "不是 FAQ 的 JSON Lines 文件（faq*.jsonl）".into(),
            });
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(IngestError::Unreadable(format!(
            "no faq*.jsonl file in {}",
            path.display()
        )));
    }
    Ok(files)
}

/// Imports a FAQ file or folder.
pub async fn import(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let files = input_files(path, &mut report)?;
    let several = files.len() > 1;
    for file in files {
        let bytes = read_input(&file)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            IngestError::Unreadable(format!("{} is not UTF-8 text", file.display()))
        })?;
        let label = several.then(|| {
            file.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        });
        import_lines(store, &text, label, options, &mut report).await?;
    }
    Ok(report)
}

/// The FAQ base, procedures and sample events shipped in the repository (`samples/`),
/// for `serve --demo`. The FAQ and the procedures are the platform's content (not
/// marked as samples); the events are fictional and marked as such.
pub async fn import_samples(
    store: &Store,
    now: i64,
) -> Result<[(&'static str, ImportReport); 3], IngestError> {
    let options = ImportOptions {
        now,
        ..ImportOptions::default()
    };
    let mut faq = ImportReport::default();
    for (name, text) in [
        (
            "faq_part1.jsonl",
            include_str!("../../../samples/faq_part1.jsonl"),
        ),
        (
            "faq_part2.jsonl",
            include_str!("../../../samples/faq_part2.jsonl"),
        ),
    ] {
        import_lines(store, text, Some(name.to_string()), &options, &mut faq).await?;
    }
    let procedures = import_procedures(
        store,
        include_str!("../../../samples/procedures.jsonl"),
        &options,
    )
    .await?;
    let events = import_events(
        store,
        include_str!("../../../samples/events.jsonl"),
        &ImportOptions {
            sample: true,
            ..options.clone()
        },
    )
    .await?;
    Ok([("faq", faq), ("procedures", procedures), ("events", events)])
}

/// Imports the lines of one FAQ file into `report`.
async fn import_lines(
    store: &Store,
    text: &str,
    file: Option<String>,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IngestError> {
    let mut seen: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        report.read += 1;
        let row = i as u64 + 1;
        let reject = |field: Option<&str>, reason: String| {
            let mut r = Rejected::row(row, field, reason);
            r.file = file.clone();
            r
        };
        let (mut input, similar_given) = match parse_faq_line(line, options.sample) {
            Ok(parsed) => parsed,
            Err((field, reason)) => {
                report.rejected.push(reject(field, reason));
                continue;
            }
        };
        let source = input.source_id.clone().unwrap_or_default();
        if seen.contains(&source) {
            report
                .rejected
                .push(reject(Some("id"), format!("id“{source}”在文件中重复")));
            continue;
        }
        seen.push(source.clone());
        let existing = store.faq_by_source(&source).await?;
        if !similar_given {
            input.similar_questions = match &existing {
                Some(e) if !e.similar_questions.is_empty() => e.similar_questions.clone(),
                _ => greenbridge_qa::similar::starter(&source).to_vec(),
            };
        }
        if options.dry_run {
            match existing {
                None => report.created += 1,
                Some(e) if input.same_as(&e) => report.unchanged += 1,
                Some(_) => report.updated += 1,
            }
            continue;
        }
        match store.upsert_faq(&input, options.now).await? {
            FaqUpserted::Created(_) => report.created += 1,
            FaqUpserted::Updated(_) => report.updated += 1,
            FaqUpserted::Unchanged(_) => report.unchanged += 1,
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct RawStep {
    step: String,
    #[serde(default)]
    what_to_prepare: Vec<String>,
    #[serde(default)]
    r#where: Option<String>,
}

#[derive(Deserialize)]
struct RawProcedure {
    id: String,
    title: String,
    #[serde(default)]
    applies_to: String,
    steps: Vec<RawStep>,
    #[serde(default)]
    time_limit: Option<String>,
    #[serde(default)]
    legal_basis: Vec<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

/// One 办事流程 step as stored (JSON in `qa_procedures.steps`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ProcedureStep {
    pub step: String,
    pub what_to_prepare: Vec<String>,
    pub r#where: String,
}

/// Imports `procedures.jsonl` (办事流程), keyed by `id`.
pub async fn import_procedures(
    store: &Store,
    text: &str,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        report.read += 1;
        let raw: RawProcedure = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push(Rejected::row(
                    i as u64 + 1,
                    None,
                    format!("不是有效的办事流程：{e}"),
                ));
                continue;
            }
        };
        let steps: Vec<ProcedureStep> = raw
            .steps
            .into_iter()
            .map(|s| ProcedureStep {
                step: s.step,
                what_to_prepare: s.what_to_prepare,
                r#where: s.r#where.unwrap_or_default(),
            })
            .collect();
        let procedure = Procedure {
            id: 0,
            source_id: Some(raw.id),
            title: raw.title,
            applies_to: raw.applies_to,
            steps: serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into()),
            time_limit: raw.time_limit,
            legal_basis: serde_json::to_string(&raw.legal_basis).unwrap_or_else(|_| "[]".into()),
            region: raw.region.unwrap_or_else(|| "全国".into()),
            notes: raw.notes.unwrap_or_default(),
            sample: i64::from(options.sample),
        };
        if options.dry_run {
            continue;
        }
        match store.upsert_procedure(&procedure, options.now).await? {
            FaqUpserted::Created(_) => report.created += 1,
            FaqUpserted::Updated(_) => report.updated += 1,
            FaqUpserted::Unchanged(_) => report.unchanged += 1,
        }
    }
    Ok(report)
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    title: String,
    kind: String,
    date: String,
    start: String,
    end: String,
    place: String,
    organiser: String,
    region_code: String,
    #[serde(default)]
    registration: serde_json::Value,
    #[serde(default)]
    description: String,
    #[serde(default)]
    sample: bool,
}

/// Imports `events.jsonl` (活动), keyed by `id`. Lines marked `"sample": true` (all
/// of the starting set) are stored as sample content whatever `options.sample` says.
pub async fn import_events(
    store: &Store,
    text: &str,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        report.read += 1;
        let raw: RawEvent = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push(Rejected::row(
                    i as u64 + 1,
                    None,
                    format!("不是有效的活动：{e}"),
                ));
                continue;
            }
        };
        if greenbridge_domain::parse_date(&raw.date).is_err() {
            report.rejected.push(Rejected::row(
                i as u64 + 1,
                Some("date"),
                "date 应为 YYYY-MM-DD",
            ));
            continue;
        }
        let event = Event {
            id: 0,
            source_id: Some(raw.id),
            title: raw.title,
            kind: raw.kind,
            event_date: raw.date,
            start_time: raw.start,
            end_time: raw.end,
            place: raw.place,
            organiser: raw.organiser,
            region_code: raw.region_code,
            registration: raw.registration.to_string(),
            description: raw.description,
            sample: i64::from(raw.sample || options.sample),
        };
        if options.dry_run {
            continue;
        }
        match store.upsert_event(&event, options.now).await? {
            FaqUpserted::Created(_) => report.created += 1,
            FaqUpserted::Updated(_) => report.updated += 1,
            FaqUpserted::Unchanged(_) => report.unchanged += 1,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_sample_files_parses() {
        for text in [
            include_str!("../../../samples/faq_part1.jsonl"),
            include_str!("../../../samples/faq_part2.jsonl"),
        ] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let (entry, similar_given) = parse_faq_line(line, false).unwrap();
                assert!(entry.source_id.is_some());
                assert!(!similar_given);
            }
        }
    }

    #[test]
    fn a_line_with_an_unknown_category_or_region_is_refused_with_its_field() {
        let line = r#"{"id":"x","question":"q","answer":"a","category":"火","region":"全国"}"#;
        assert_eq!(parse_faq_line(line, false).unwrap_err().0, Some("category"));
        let line = r#"{"id":"x","question":"q","answer":"a","category":"水","region":"北京"}"#;
        assert_eq!(parse_faq_line(line, false).unwrap_err().0, Some("region"));
        let line = r#"{"id":"x","answer":"a","category":"水","region":"全国"}"#;
        assert_eq!(parse_faq_line(line, false).unwrap_err().0, Some("question"));
        assert_eq!(parse_faq_line("[1]", false).unwrap_err().0, None);
        let line = r#"{"id":"x","question":"q","answer":"a","category":"水","region":"全国","similar_questions":["ok",""]}"#;
        assert_eq!(
            parse_faq_line(line, false).unwrap_err().0,
            Some("similar_questions")
        );
    }
}
