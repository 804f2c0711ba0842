//! 标准政策: importing `regulations.jsonl` (one JSON object per line, keys as in
//! shared/data/README.md §4), reading documents from feeds ([`feed`]) and full text
//! from uploaded files ([`extract`]).
//!
//! The parser turns each line into a [`RegulationInput`] or a [`Rejected`] with its
//! reason (an impossible date, an unknown level, a duplicate number …); the importer
//! then writes the accepted rows keyed by `source_id` (the file's `id`), so the same
//! file twice changes nothing, and links each replaced document to the one that
//! replaced it (`replaced_by`).

pub mod extract;
pub mod feed;

use std::collections::{BTreeMap, HashMap, HashSet};

use greenbridge_domain::regulation::{Domain, Level, Scope, Status, number_key};
use greenbridge_domain::time::{parse_date, shanghai_date_from_unix};
use greenbridge_store::Store;
use greenbridge_store::regulations::{LinkKind, RegulationInput, Upserted};
use serde_json::{Map, Value};
use time::Date;

use crate::{ImportOptions, ImportReport, IngestError, Rejected};

/// One accepted line: the document and the source ids it links to.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRegulation {
    /// The line number (1-based).
    pub row: u64,
    pub input: RegulationInput,
    /// `replaced_by`: the source id of the document that replaced this one.
    pub replaced_by: Option<String>,
    /// `amends`: source ids of documents this one amends (optional key).
    pub amends: Vec<String>,
}

/// What a file parses to, before anything is compared with the database.
#[derive(Debug, Default)]
pub struct Parsed {
    pub read: u64,
    pub accepted: Vec<ParsedRegulation>,
    pub rejected: Vec<Rejected>,
}

/// A field that is wrong, with the message for the report.
struct FieldError {
    field: &'static str,
    reason: String,
}

fn bad(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

fn text<'a>(
    object: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, FieldError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(bad(key, "应为文本")),
    }
}

fn required<'a>(object: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, FieldError> {
    text(object, key)?.ok_or_else(|| bad(key, "不能为空"))
}

fn date(object: &Map<String, Value>, key: &'static str) -> Result<Option<Date>, FieldError> {
    text(object, key)?
        .map(|s| parse_date(s).map_err(|e| bad(key, e.to_string())))
        .transpose()
}

fn strings(object: &Map<String, Value>, key: &'static str) -> Result<Vec<String>, FieldError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                _ => Err(bad(key, "应为文本列表")),
            })
            .collect(),
        Some(_) => Err(bad(key, "应为文本列表")),
    }
}

/// A record read: the document, the source id that replaced it, the source ids it
/// amends.
pub type RecordParts = (RegulationInput, Option<String>, Vec<String>);
/// A record refused: the field at fault (if one is) and why.
pub type RecordError = (Option<&'static str>, String);

/// Reads one record (a JSON object with the keys of regulations.jsonl) as of `today`.
/// Also used for feed entries in that shape.
pub fn parse_record(
    object: &Map<String, Value>,
    today: Date,
    origin: &str,
    sample: bool,
) -> Result<RecordParts, RecordError> {
    let wrap = |e: FieldError| (Some(e.field), e.reason);
    let source_id = required(object, "id").map_err(wrap)?.to_string();
    let title = required(object, "title").map_err(wrap)?.to_string();
    let issuer = required(object, "issuer").map_err(wrap)?.to_string();
    let level_text = required(object, "level").map_err(wrap)?;
    let level = Level::parse(level_text).map_err(|e| (Some("level"), e.to_string()))?;
    let doc_number = text(object, "doc_number").map_err(wrap)?;
    let number = number_key(level, doc_number).map_err(|e| (Some("doc_number"), e.to_string()))?;
    let domains = strings(object, "domains")
        .map_err(wrap)?
        .iter()
        .map(|d| Domain::parse(d).map_err(|e| (Some("domains"), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if domains.is_empty() {
        return Err((Some("domains"), "至少须有一个领域".into()));
    }
    let region = required(object, "region").map_err(wrap)?;
    let scope = Scope::parse(region, &issuer).map_err(|e| (Some("region"), e.to_string()))?;
    let published = date(object, "published").map_err(wrap)?;
    let effective = date(object, "effective").map_err(wrap)?;
    let mut revised = Vec::new();
    for value in strings(object, "revised").map_err(wrap)? {
        revised.push(parse_date(&value).map_err(|e| (Some("revised"), e.to_string()))?);
    }
    let status_text = required(object, "status").map_err(wrap)?;
    let recorded = Status::parse(status_text).map_err(|e| (Some("status"), e.to_string()))?;
    let summary = text(object, "summary")
        .map_err(wrap)?
        .unwrap_or("")
        .to_string();
    let full_text = text(object, "full_text")
        .map_err(wrap)?
        .unwrap_or("")
        .to_string();
    let replaced_by = text(object, "replaced_by")
        .map_err(wrap)?
        .map(str::to_string);
    if replaced_by.as_deref() == Some(source_id.as_str()) {
        return Err((Some("replaced_by"), "文件不能被自身替代".into()));
    }
    let amends = strings(object, "amends").map_err(wrap)?;
    let input = RegulationInput {
        source_id: Some(source_id),
        title,
        doc_number: doc_number.map(str::to_string),
        number_key: number.key,
        issuer,
        level,
        mandatory: number.mandatory,
        domains,
        scope,
        published,
        effective,
        revised,
        status: recorded.at(effective, today),
        summary,
        full_text,
        origin: origin.to_string(),
        sample,
    };
    Ok((input, replaced_by, amends))
}

/// Parses a JSON Lines file: every non-empty line is one record; duplicates within
/// the file (the same `id`, the same number) are refused on their second occurrence.
pub fn parse_jsonl(bytes: &[u8], today: Date, sample: bool) -> Result<Parsed, IngestError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| IngestError::Unreadable("the file is not UTF-8 text".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parsed = Parsed::default();
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut numbers: HashMap<String, u64> = HashMap::new();
    let mut any_json = false;
    for (index, line) in text.lines().enumerate() {
        let row = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        parsed.read += 1;
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => {
                any_json = true;
                object
            }
            Ok(_) => {
                any_json = true;
                parsed
                    .rejected
                    .push(Rejected::row(row, None, "每行应为一个 JSON 对象"));
                continue;
            }
            Err(e) => {
                parsed
                    .rejected
                    .push(Rejected::row(row, None, format!("不是有效的 JSON：{e}")));
                continue;
            }
        };
        match parse_record(&object, today, "import", sample) {
            Err((field, reason)) => parsed.rejected.push(Rejected::row(row, field, reason)),
            Ok((input, replaced_by, amends)) => {
                let source_id = input.source_id.clone().unwrap_or_default();
                if let Some(first) = ids.get(&source_id) {
                    parsed.rejected.push(Rejected::row(
                        row,
                        Some("id"),
                        format!("id {source_id} 与第{first}行重复"),
                    ));
                    continue;
                }
                if let Some(key) = &input.number_key
                    && let Some(first) = numbers.get(key)
                {
                    parsed.rejected.push(Rejected::row(
                        row,
                        Some("doc_number"),
                        format!("文号/标准编号 {key} 与第{first}行重复"),
                    ));
                    continue;
                }
                ids.insert(source_id, row);
                if let Some(key) = &input.number_key {
                    numbers.insert(key.clone(), row);
                }
                parsed.accepted.push(ParsedRegulation {
                    row,
                    input,
                    replaced_by,
                    amends,
                });
            }
        }
    }
    if parsed.read > 0 && !any_json {
        return Err(IngestError::Unreadable(
            "the file is not JSON Lines (no line is a JSON object)".into(),
        ));
    }
    Ok(parsed)
}

/// `greenbridge import regulations PATH`.
pub async fn import(
    store: &Store,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let today = shanghai_date_from_unix(options.now)
        .ok_or_else(|| IngestError::Options("the import time is out of range".into()))?;
    let parsed = parse_jsonl(bytes, today, options.sample)?;
    write_parsed(store, parsed, options).await
}

/// The repository's copy of `regulations.jsonl`, embedded in the binary.
pub const EMBEDDED: &[u8] = include_bytes!("../../../../samples/regulations.jsonl");

/// `serve --demo`: imports the embedded `regulations.jsonl`. The laws and standards are
/// real reference data, not fictional samples, so they are not marked 示例数据.
pub async fn import_samples(store: &Store, now: i64) -> Result<ImportReport, IngestError> {
    import(
        store,
        EMBEDDED,
        &ImportOptions {
            now,
            ..ImportOptions::default()
        },
    )
    .await
}

/// Compares accepted rows with the database, refuses those whose number belongs to
/// another document or whose links lead nowhere, and writes the rest (unless dry run).
pub async fn write_parsed(
    store: &Store,
    parsed: Parsed,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        read: parsed.read,
        rejected: parsed.rejected,
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    // Numbers taken by another document in the database.
    let mut rows = Vec::new();
    for row in parsed.accepted {
        let source_id = row.input.source_id.clone().unwrap_or_default();
        if let Some(key) = &row.input.number_key
            && let Some(other) = store.regulation_by_number_key(key).await?
            && other.source_id.as_deref() != Some(source_id.as_str())
        {
            report.rejected.push(Rejected::row(
                row.row,
                Some("doc_number"),
                format!("文号/标准编号 {key} 已属于《{}》", other.title),
            ));
            continue;
        }
        rows.push(row);
    }
    // Links must lead to a document of this file or of the database.
    let in_file: HashSet<String> = rows
        .iter()
        .filter_map(|r| r.input.source_id.clone())
        .collect();
    let mut linked = Vec::new();
    for row in rows {
        let mut missing = None;
        for (field, target) in row
            .replaced_by
            .iter()
            .map(|t| ("replaced_by", t))
            .chain(row.amends.iter().map(|t| ("amends", t)))
        {
            if !in_file.contains(target) && store.regulation_by_source(target).await?.is_none() {
                missing = Some((field, target.clone()));
                break;
            }
        }
        match missing {
            Some((field, target)) => report.rejected.push(Rejected::row(
                row.row,
                Some(field),
                format!("找不到所引用的文件 {target}"),
            )),
            None => linked.push(row),
        }
    }
    report.rejected.sort_by_key(|r| r.row);

    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    let mut outcome: HashMap<u64, Upserted> = HashMap::new();
    for row in &linked {
        let source_id = row.input.source_id.clone().unwrap_or_default();
        let existing = store.regulation_by_source(&source_id).await?;
        let result = if options.dry_run {
            match existing {
                None => Upserted::Created(0),
                Some(e) if row.input.same_as(&e) => Upserted::Unchanged(e.id),
                Some(e) => Upserted::Updated(e.id),
            }
        } else {
            store.upsert_regulation(&row.input, options.now).await?
        };
        ids.insert(source_id, result.id());
        outcome.insert(row.row, result);
    }
    // Links, once every document of the file exists.
    for row in &linked {
        let this = ids
            .get(row.input.source_id.as_deref().unwrap_or_default())
            .copied();
        let mut link_changed = false;
        if let Some(replacer) = &row.replaced_by {
            let replacer_id = match ids.get(replacer) {
                Some(id) => Some(*id),
                None => store.regulation_by_source(replacer).await?.map(|r| r.id),
            };
            if let (Some(this), Some(replacer_id)) = (this, replacer_id)
                && this != 0
                && replacer_id != 0
            {
                link_changed |= if options.dry_run {
                    !store
                        .regulation_link_targets(replacer_id, LinkKind::Replaces)
                        .await?
                        .contains(&this)
                } else {
                    store
                        .add_regulation_link(replacer_id, LinkKind::Replaces, this, options.now)
                        .await?
                };
            }
        }
        if let Some(this) = this.filter(|id| *id != 0) {
            let mut targets = Vec::new();
            for amended in &row.amends {
                let id = match ids.get(amended) {
                    Some(id) => Some(*id),
                    None => store.regulation_by_source(amended).await?.map(|r| r.id),
                };
                targets.extend(id.filter(|id| *id != 0));
            }
            let mut current = store
                .regulation_link_targets(this, LinkKind::Amends)
                .await?;
            current.sort_unstable();
            targets.sort_unstable();
            targets.dedup();
            if current != targets {
                link_changed = true;
                if !options.dry_run {
                    store
                        .set_regulation_links(this, LinkKind::Amends, &targets, options.now)
                        .await?;
                }
            }
        }
        if link_changed && let Some(Upserted::Unchanged(id)) = outcome.get(&row.row).copied() {
            outcome.insert(row.row, Upserted::Updated(id));
        }
    }
    for result in outcome.values() {
        match result {
            Upserted::Created(_) => report.created += 1,
            Upserted::Updated(_) => report.updated += 1,
            Upserted::Unchanged(_) => report.unchanged += 1,
        }
    }
    if !options.dry_run {
        let today = shanghai_date_from_unix(options.now)
            .ok_or_else(|| IngestError::Options("the import time is out of range".into()))?;
        // A file may still call a document 现行有效 that a document in force has
        // replaced; the status job would mark it 已废止 again only on its next run.
        // Running it now keeps the list and the index right from the start.
        store
            .refresh_regulation_statuses(today, options.now)
            .await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn line(overrides: &[(&str, Value)]) -> String {
        let mut object = serde_json::json!({
            "id": "reg-9001", "title": "测试标准", "doc_number": "GB 3838-2002",
            "issuer": "生态环境部", "level": "国家标准", "domains": ["水"], "region": "全国",
            "published": "2002-04-28", "effective": "2002-06-01", "status": "现行有效",
            "revised": [], "summary": "摘要"
        });
        for (key, value) in overrides {
            object[*key] = value.clone();
        }
        object.to_string()
    }

    #[test]
    fn the_shipped_sample_parses_without_rejections() {
        let bytes = EMBEDDED;
        let parsed = parse_jsonl(bytes, TODAY, true).expect("readable");
        assert_eq!(parsed.read, 111);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let code = parsed
            .accepted
            .iter()
            .find(|r| r.input.source_id.as_deref() == Some("reg-0107"))
            .expect("the code is there");
        assert_eq!(code.input.status, Status::InForce);
        let replaced: Vec<_> = parsed
            .accepted
            .iter()
            .filter(|r| r.replaced_by.as_deref() == Some("reg-0107"))
            .collect();
        assert_eq!(replaced.len(), 9);
        let gbt = parsed
            .accepted
            .iter()
            .find(|r| r.input.doc_number.as_deref() == Some("GB/T 31962-2015"))
            .expect("GB/T 31962");
        assert_eq!(gbt.input.mandatory, Some(false));
        let zone_sh = parsed
            .accepted
            .iter()
            .find(|r| r.input.source_id.as_deref() == Some("reg-0099"))
            .expect("reg-0099");
        assert_eq!(zone_sh.input.scope, Scope::Zone(Some("310000".into())));
    }

    #[test]
    fn bad_rows_are_refused_with_their_field_and_reason() {
        let text = [
            line(&[]),
            line(&[
                ("id", "reg-9002".into()),
                ("effective", "2026-02-30".into()),
                ("doc_number", "GB 1-2000".into()),
            ]),
            line(&[
                ("id", "reg-9003".into()),
                ("level", "司法解释".into()),
                ("doc_number", "X".into()),
            ]),
            line(&[
                ("id", "reg-9004".into()),
                ("doc_number", "gb3838—2002".into()),
            ]),
            "not json".to_string(),
            String::new(),
            line(&[
                ("id", "reg-9005".into()),
                ("level", "国家标准".into()),
                ("doc_number", "第九号".into()),
            ]),
        ]
        .join("\n");
        let parsed = parse_jsonl(text.as_bytes(), TODAY, false).expect("readable");
        assert_eq!(parsed.read, 6);
        assert_eq!(parsed.accepted.len(), 1);
        let reasons: Vec<(Option<u64>, Option<String>, String)> = parsed
            .rejected
            .iter()
            .map(|r| (r.row, r.field.clone(), r.reason.clone()))
            .collect();
        assert_eq!(reasons[0].0, Some(2));
        assert_eq!(reasons[0].1.as_deref(), Some("effective"));
        assert!(reasons[0].2.contains("2026-02-30"), "{}", reasons[0].2);
        assert_eq!(reasons[1].1.as_deref(), Some("level"));
        assert!(reasons[1].2.contains("司法解释"));
        // The same standard typed another way is the same number.
        assert_eq!(reasons[2].0, Some(4));
        assert_eq!(reasons[2].1.as_deref(), Some("doc_number"));
        assert!(reasons[2].2.contains("第1行"), "{}", reasons[2].2);
        assert_eq!(reasons[3].0, Some(5));
        assert_eq!(reasons[4].0, Some(7));
        assert_eq!(reasons[4].1.as_deref(), Some("doc_number"));
    }

    #[test]
    fn a_future_effective_date_makes_a_document_not_yet_in_force() {
        let text = line(&[("effective", "2027-01-01".into())]);
        let parsed = parse_jsonl(text.as_bytes(), TODAY, false).expect("readable");
        assert_eq!(parsed.accepted[0].input.status, Status::NotYetInForce);
        let parsed = parse_jsonl(text.as_bytes(), date!(2027 - 01 - 01), false).expect("readable");
        assert_eq!(parsed.accepted[0].input.status, Status::InForce);
    }

    #[test]
    fn a_file_of_no_json_at_all_is_unreadable() {
        assert!(matches!(
            parse_jsonl(b"id,title\n1,2\n", TODAY, false),
            Err(IngestError::Unreadable(_))
        ));
    }
}
