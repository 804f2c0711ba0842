//! 需求大厅 notices: the page parser ([`parse`]), file import (`greenbridge import
//! notices PATH`, a folder of pages or one page) and the connector that fetches pages
//! from procurement sites ([`connector`]).

pub mod connector;
pub mod parse;
pub mod samples;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use greenbridge_store::Store;
use greenbridge_store::notices::NoticeUpsert;

use crate::report::{ImportOptions, ImportReport, Rejected, Skipped};
use crate::{IngestError, read_input};
pub use parse::{NotANotice, PageSource, ParsedNotice, Problem, parse_notice_page};

/// The site name file imports record (the page's own `ContentSource` is kept too).
pub const FILE_SITE: &str = "文件导入";

/// Imports a folder of notice pages, or one page.
pub async fn import(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| IngestError::Unreadable(format!("cannot read {}: {e}", path.display())))?;
    let mut files: Vec<std::path::PathBuf> = if meta.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| IngestError::Unreadable(format!("cannot list {}: {e}", path.display())))?;
        entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let ids = if meta.is_dir() {
        source_ids_from(&std::fs::read_to_string(path.join("index.json")).unwrap_or_default())
    } else {
        HashMap::new()
    };
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_html = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        if !is_html {
            report.skipped.push(Skipped {
                file: name,
                reason: "不是公告页面（不是 HTML 文件）".into(),
            });
            continue;
        }
        let bytes = read_input(&file)?;
        let Ok(html) = String::from_utf8(bytes) else {
            report.skipped.push(Skipped {
                file: name,
                reason: "不是 UTF-8 编码的网页".into(),
            });
            continue;
        };
        import_page(
            store,
            &name,
            &html,
            ids.get(&name).map(String::as_str),
            options,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Imports the embedded sample pages (`serve --demo`), marked as sample content.
pub async fn import_samples(store: &Store, now: i64) -> Result<ImportReport, IngestError> {
    let options = ImportOptions {
        sample: true,
        now,
        ..ImportOptions::default()
    };
    let ids = source_ids_from(samples::INDEX_JSON);
    let mut report = ImportReport::default();
    for (name, html) in samples::PAGES {
        import_page(
            store,
            name,
            html,
            ids.get(*name).map(String::as_str),
            &options,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Parses and stores one page named `name` (a file name: its URL is `file:NAME`).
async fn import_page(
    store: &Store,
    name: &str,
    html: &str,
    source_id: Option<&str>,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IngestError> {
    let url = format!("file:{name}");
    let source = PageSource {
        site: FILE_SITE,
        url: &url,
        source_id,
        sample: options.sample,
    };
    let parsed = match parse_notice_page(html, &source) {
        Ok(p) => p,
        Err(NotANotice(reason)) => {
            report.skipped.push(Skipped {
                file: name.to_string(),
                reason: format!("不是公告页面：{reason}"),
            });
            return Ok(());
        }
    };
    report.read += 1;
    for problem in &parsed.problems {
        report.rejected.push(Rejected::file(
            name.to_string(),
            Some(problem.field),
            format!("该字段无法识别，已留空：{}", problem.reason),
        ));
    }
    if options.dry_run {
        match store.notice_hash_by_url(&url).await? {
            None => report.created += 1,
            Some(h) if h == parsed.notice.content_hash => report.unchanged += 1,
            Some(_) => report.updated += 1,
        }
        return Ok(());
    }
    match store.upsert_notice(&parsed.notice, options.now).await? {
        NoticeUpsert::Created(_) => report.created += 1,
        NoticeUpsert::Updated(_) => report.updated += 1,
        NoticeUpsert::Unchanged(_) => report.unchanged += 1,
    }
    Ok(())
}

/// `file → id` from an `index.json` beside the pages (the samples' stable ids), if any.
fn source_ids_from(text: &str) -> HashMap<String, String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return HashMap::new();
    };
    value
        .get("notices")
        .and_then(|n| n.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|n| {
                    Some((
                        n.get("file")?.as_str()?.to_string(),
                        n.get("id")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
