//! `greenbridge import demands PATH`: enterprise demands as JSON Lines (the shape of
//! `samples/demands.jsonl`). Imported demands are public at once (they were posted
//! elsewhere); demands posted on the site go through review instead.

use std::path::Path;

use greenbridge_domain::credit_code::CreditCode;
use greenbridge_domain::money::Money;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_store::Store;
use greenbridge_store::demands::{DemandFields, DemandUpsert, ImportedDemand};
use serde::Deserialize;

use crate::report::{ImportOptions, ImportReport, Rejected};
use crate::{IngestError, read_input};

#[derive(Deserialize)]
struct Contact {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    title: String,
    description: String,
    #[serde(default)]
    service_category: Option<String>,
    service_category_code: String,
    region_code: String,
    #[serde(default)]
    budget_yuan: Option<i64>,
    #[serde(default)]
    deadline: Option<String>,
    posted_at: String,
    enterprise: String,
    #[serde(default)]
    enterprise_credit_code: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    contact: Option<Contact>,
    #[serde(default)]
    contact_public: Option<bool>,
}

fn parse_line(line: Line) -> Result<(ImportedDemand, Option<CreditCode>), (&'static str, String)> {
    let nonempty = |field: &'static str, v: &str| -> Result<String, (&'static str, String)> {
        let v = v.trim();
        if v.is_empty() {
            Err((field, "不能为空".into()))
        } else {
            Ok(v.to_string())
        }
    };
    let id = nonempty("id", &line.id)?;
    let title = nonempty("title", &line.title)?;
    let description = nonempty("description", &line.description)?;
    let enterprise = nonempty("enterprise", &line.enterprise)?;
    if ServiceCatalogue::embedded()
        .get(line.service_category_code.trim())
        .is_none()
    {
        return Err((
            "service_category_code",
            format!("未知的服务类别 {}", line.service_category_code),
        ));
    }
    let region = line.region_code.trim();
    if RegionTree::embedded().get(region).is_none() {
        return Err(("region_code", format!("未知的地区代码 {region}")));
    }
    let budget = match line.budget_yuan {
        None => None,
        Some(y) if y < 0 => return Err(("budget_yuan", "预算不能为负数".into())),
        Some(y) => Some(Money::from_yuan(y).ok_or(("budget_yuan", "预算过大".to_string()))?),
    };
    let deadline = match line
        .deadline
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(d) => Some(
            greenbridge_domain::time::parse_date(d)
                .map(greenbridge_domain::time::format_date)
                .map_err(|e| ("deadline", e.to_string()))?,
        ),
    };
    let posted = greenbridge_domain::time::parse_date(&line.posted_at)
        .map(greenbridge_domain::time::format_date)
        .map_err(|e| ("posted_at", e.to_string()))?;
    let code = match line
        .enterprise_credit_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => {
            Some(CreditCode::parse(c).map_err(|e| ("enterprise_credit_code", e.to_string()))?)
        }
    };
    let contact = line.contact.unwrap_or(Contact {
        name: String::new(),
        phone: String::new(),
        email: String::new(),
    });
    Ok((
        ImportedDemand {
            source_id: id,
            enterprise_name: enterprise,
            enterprise_credit_code: code.as_ref().map(|c| c.as_str().to_string()),
            organisation_id: None,
            fields: DemandFields {
                title,
                description,
                service_category_code: line.service_category_code.trim().to_string(),
                service_category_label: line.service_category.filter(|s| !s.trim().is_empty()),
                region_code: region.to_string(),
                address: line.address.trim().to_string(),
                budget,
                deadline,
                contact_name: contact.name,
                contact_phone: contact.phone,
                contact_email: contact.email,
                contact_public: line.contact_public.unwrap_or(false),
            },
            publish_date: posted,
            sample: false,
        },
        code,
    ))
}

/// The sample demands (fictional, 示例数据), embedded for `serve --demo`.
pub const SAMPLE_JSONL: &str = include_str!("../../../samples/demands.jsonl");

pub async fn import(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| IngestError::Unreadable(format!("{} is not UTF-8", path.display())))?;
    import_text(store, &text, &path.display().to_string(), options).await
}

/// Imports the embedded sample demands, marked as sample content.
pub async fn import_samples(store: &Store, now: i64) -> Result<ImportReport, IngestError> {
    let options = ImportOptions {
        sample: true,
        now,
        ..ImportOptions::default()
    };
    import_text(store, SAMPLE_JSONL, "samples/demands.jsonl", &options).await
}

/// Imports JSON Lines text (`name` only for messages).
pub async fn import_text(
    store: &Store,
    text: &str,
    name: &str,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    for (index, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let row = index as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        report.read += 1;
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                report.rejected.push(Rejected::row(
                    row,
                    None,
                    format!("不是有效的 JSON 需求记录：{e}"),
                ));
                continue;
            }
        };
        let (mut demand, code) = match parse_line(line) {
            Ok(d) => d,
            Err((field, reason)) => {
                report
                    .rejected
                    .push(Rejected::row(row, Some(field), reason));
                continue;
            }
        };
        demand.sample = options.sample;
        if let Some(code) = &code {
            demand.organisation_id = store.organisation_by_code(code).await?.map(|o| o.id);
        }
        if options.dry_run {
            if store.demand_source_exists(&demand.source_id).await? {
                report.unchanged += 1;
            } else {
                report.created += 1;
            }
            continue;
        }
        match store.upsert_imported_demand(&demand, options.now).await? {
            DemandUpsert::Created(_) => report.created += 1,
            DemandUpsert::Updated(_) => report.updated += 1,
            DemandUpsert::Unchanged(_) => report.unchanged += 1,
        }
    }
    if report.read == 0 {
        return Err(IngestError::Unreadable(format!(
            "{name} holds no demand records"
        )));
    }
    Ok(report)
}
