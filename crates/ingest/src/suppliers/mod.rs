//! `greenbridge import suppliers PATH --kind hw-licence|monitoring|eia`: the official
//! lists of the supplier directory (惠企服务) — 危险废物经营许可证持证单位名单 (XLSX),
//! 生态环境监测机构 (CMA) lists and the 环评信用平台 编制单位 list (CSV) — into
//! organisations (one per 统一社会信用代码) and their qualifications.
//!
//! How a file is read:
//! 1. [`table`]: XLSX through calamine (first sheet) or CSV (UTF-8 with or without
//!    BOM, or GB18030); rows keep the numbers a spreadsheet shows.
//! 2. [`fields`]: the header is found below any title rows (also a two-row header
//!    with merged group labels) and columns are matched to fields by the meaning of
//!    their text, so other orders, extra columns and full-width text read the same.
//!    Without `--kind` the kind is recognised from the header.
//! 3. [`rows`]: each data row becomes an organisation and a qualification, or a
//!    rejected row naming its row, column and reason (invalid credit code with the
//!    position, unknown HW category, negative or unreadable capacity, impossible date,
//!    missing name, a duplicate of an earlier row …).
//! 4. [`apply`]: the good rows go into the database in **one transaction**
//!    (`SupplierImportTx`): the same file twice changes nothing; a newer list updates
//!    validity and capacity; a list is a **full list** of its kind for the
//!    provinces of its good rows, so an imported licence of an organisation in one
//!    of those provinces that the list no longer carries is marked 不在最新名单
//!    (never deleted); a province's list leaves the other provinces' licences
//!    alone. A dry run is the same work rolled back, so its report is exactly what
//!    a commit would report.
//!
//! [`ParsedList::keep_provinces`] narrows a list to the provinces an importer may
//! act in (the web page does so for association reviewers): rows of
//! organisations elsewhere are refused with the reason.
//!
//! Report counts are per row and follow the organisation: `created` = the row made a
//! new organisation, `updated` = it changed an existing one or its qualification,
//! `unchanged` = nothing to do.

pub mod fields;
pub mod rows;
pub mod table;
pub mod values;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use greenbridge_store::Store;
use greenbridge_store::suppliers::{
    ImportRunCounts, KeepSet, ListOrganisation, NewImportRun, NotInLatest, Upserted,
};
use sha2::{Digest, Sha256};

use crate::{ImportOptions, ImportReport, IngestError, Rejected};
use rows::ListRecord;

/// The kinds of list, named as `--kind` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// 危险废物经营许可证持证单位名单.
    HwLicence,
    /// 生态环境监测机构 with CMA certificates.
    Monitoring,
    /// 环评信用平台 编制单位.
    Eia,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [ListKind::HwLicence, ListKind::Monitoring, ListKind::Eia];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::HwLicence => "hw-licence",
            ListKind::Monitoring => "monitoring",
            ListKind::Eia => "eia",
        }
    }

    pub fn parse(value: &str) -> Option<ListKind> {
        match value.trim() {
            "hw-licence" | "hw" => Some(ListKind::HwLicence),
            "monitoring" | "cma" => Some(ListKind::Monitoring),
            "eia" => Some(ListKind::Eia),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ListKind::HwLicence => "危险废物经营许可证持证单位名单",
            ListKind::Monitoring => "生态环境监测机构（CMA）名单",
            ListKind::Eia => "环评编制单位（信用平台）名单",
        }
    }
}

/// A list parsed: its kind, the good records and the refused rows.
#[derive(Debug, Clone)]
pub struct ParsedList {
    pub kind: ListKind,
    /// Non-empty data rows.
    pub read: u64,
    pub records: Vec<ListRecord>,
    pub rejected: Vec<Rejected>,
    /// What refused rows still tell (see [`KeepSet`]).
    pub keep: KeepSet,
}

impl ParsedList {
    /// Keeps the records whose organisation `in_scope` accepts (by region code) and
    /// refuses the others, naming `scope` (e.g. 江苏省) in the reason. A refused
    /// row's licence is kept from being marked missing like any refused row's.
    pub fn keep_provinces(&mut self, in_scope: impl Fn(&str) -> bool, scope: &str) {
        let (kept, refused): (Vec<ListRecord>, Vec<ListRecord>) = std::mem::take(&mut self.records)
            .into_iter()
            .partition(|r| in_scope(&r.region_code));
        self.records = kept;
        for record in refused {
            self.keep
                .numbers
                .insert(record.qualification.number.clone());
            self.keep
                .credit_codes
                .insert(record.credit_code.as_str().to_string());
            self.rejected.push(Rejected::row(
                record.row,
                Some("所在地区"),
                format!(
                    "“{}”不在{scope}：协会审核员只能导入本省单位，请由所在省份的协会或管理员导入",
                    record.name
                ),
            ));
        }
    }
}

/// Where the bytes of an import came from.
#[derive(Debug, Clone, Default)]
pub struct RunSource {
    /// The file's name as the user knows it.
    pub file_name: String,
    /// The stored upload, when the import came through the web.
    pub file_id: Option<i64>,
}

/// The outcome of a supplier import: the report of the contract plus what the
/// upload page shows beside it.
#[derive(Debug, Clone)]
pub struct SupplierImport {
    pub kind: ListKind,
    pub report: ImportReport,
    /// Licences this full list no longer carries, marked 不在最新名单 (or that a dry
    /// run would mark).
    pub not_in_latest: Vec<NotInLatest>,
    /// The committed run (`None` for a dry run).
    pub run_id: Option<i64>,
}

fn kind_option(options: &ImportOptions) -> Result<Option<ListKind>, IngestError> {
    match options.kind.as_deref() {
        None | Some("") => Ok(None),
        Some(value) => ListKind::parse(value).map(Some).ok_or_else(|| {
            IngestError::Options(format!(
                "unknown --kind {value:?} for suppliers: use hw-licence, monitoring or eia"
            ))
        }),
    }
}

/// Parses the bytes of a list (no database). `kind` `None` recognises it.
pub fn parse_list(bytes: &[u8], kind: Option<ListKind>) -> Result<ParsedList, IngestError> {
    let rows = table::read_rows(bytes)?;
    let kind = match kind {
        Some(kind) => kind,
        None => fields::detect_kind(&rows).ok_or_else(|| {
            IngestError::Unreadable(
                "文件不是可识别的名单：找不到“单位名称”“统一社会信用代码”等表头；\
                 请确认是危险废物经营许可证、监测机构或环评单位名单"
                    .into(),
            )
        })?,
    };
    let header = fields::find_header(kind, &rows).ok_or_else(|| {
        let missing: Vec<&str> = fields::required(kind)
            .iter()
            .map(|f| fields::field_name(*f))
            .collect();
        IngestError::Unreadable(format!(
            "文件不是{}：前{}行中找不到含“{}”的表头",
            kind.label_zh(),
            15,
            missing.join("”“")
        ))
    })?;
    let mut parsed = ParsedList {
        kind,
        read: 0,
        records: Vec::new(),
        rejected: Vec::new(),
        keep: KeepSet::default(),
    };
    // Qualification number → the row that carried it first.
    let mut first_row: HashMap<String, u64> = HashMap::new();
    let number_label = match kind {
        ListKind::Eia => header.label(fields::Field::CreditCode),
        _ => header.label(fields::Field::Number),
    };
    for row in rows.iter().skip(header.last_row + 1) {
        if !rows::is_data(&header, row) {
            continue;
        }
        parsed.read += 1;
        match rows::parse_row(kind, &header, row) {
            Ok(record) => {
                let number = record.qualification.number.clone();
                if let Some(first) = first_row.get(&number) {
                    let what = match kind {
                        ListKind::Eia => "同一统一社会信用代码",
                        ListKind::HwLicence => "同一许可证编号",
                        ListKind::Monitoring => "同一资质认定证书编号",
                    };
                    parsed.rejected.push(Rejected::row(
                        row.number,
                        Some(&number_label),
                        format!("与第{first}行重复（{what}）"),
                    ));
                    continue;
                }
                first_row.insert(number, row.number);
                parsed.records.push(record);
            }
            Err(error) => {
                if let Some(number) = error.number {
                    parsed.keep.numbers.insert(number);
                }
                if let Some(code) = error.credit_code {
                    parsed.keep.credit_codes.insert(code);
                }
                parsed
                    .rejected
                    .push(Rejected::row(error.row, Some(&error.field), error.reason));
            }
        }
    }
    if parsed.read == 0 {
        return Err(IngestError::Unreadable(format!(
            "{}中没有数据行",
            kind.label_zh()
        )));
    }
    Ok(parsed)
}

/// `greenbridge import suppliers PATH`: reads the file and imports it.
pub async fn import(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let bytes = crate::read_input(path)?;
    let source = RunSource {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file_id: None,
    };
    Ok(import_bytes(store, &bytes, &source, options).await?.report)
}

/// Imports the bytes of a list (the CLI and the web upload page).
pub async fn import_bytes(
    store: &Store,
    bytes: &[u8],
    source: &RunSource,
    options: &ImportOptions,
) -> Result<SupplierImport, IngestError> {
    import_bytes_narrowed(store, bytes, source, options, |_| {}).await
}

/// [`import_bytes`], with `narrow` applied to the parsed list before it is stored
/// (e.g. [`ParsedList::keep_provinces`]).
pub async fn import_bytes_narrowed(
    store: &Store,
    bytes: &[u8],
    source: &RunSource,
    options: &ImportOptions,
    narrow: impl FnOnce(&mut ParsedList),
) -> Result<SupplierImport, IngestError> {
    let mut parsed = parse_list(bytes, kind_option(options)?)?;
    narrow(&mut parsed);
    let sha256 = data_encoding::HEXLOWER.encode(&Sha256::digest(bytes));
    apply(store, parsed, source, &sha256, options).await
}

/// Stores a parsed list in one transaction (rolled back for a dry run).
pub async fn apply(
    store: &Store,
    parsed: ParsedList,
    source: &RunSource,
    sha256: &str,
    options: &ImportOptions,
) -> Result<SupplierImport, IngestError> {
    let now = options.now;
    let mut report = ImportReport {
        read: parsed.read,
        rejected: parsed.rejected,
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let mut tx = store.begin_supplier_import().await?;
    let run_id = tx
        .start_run(&NewImportRun {
            kind: parsed.kind.as_str(),
            file_name: &source.file_name,
            file_id: source.file_id,
            sha256,
            actor_account_id: options.actor_account_id,
            sample: options.sample,
            started_at: now,
        })
        .await?;
    let mut seen: HashSet<String> = HashSet::with_capacity(parsed.records.len());
    for record in &parsed.records {
        let organisation = ListOrganisation {
            credit_code: &record.credit_code,
            name: &record.name,
            region_code: &record.region_code,
            address: &record.address,
            legal_representative: &record.legal_representative,
            legal_form: &record.legal_form,
            contact_name: &record.contact_name,
            contact_phone: &record.contact_phone,
            contact_extension: &record.contact_extension,
            contact_email: &record.contact_email,
            service_categories: &record.service_categories,
            list_source: parsed.kind.as_str(),
            sample: options.sample,
        };
        let (organisation_id, org_outcome) =
            tx.upsert_list_organisation(&organisation, now).await?;
        let mut qualification = record.qualification.clone();
        qualification.sample = options.sample;
        let (_, qualification_outcome) = tx
            .upsert_list_qualification(organisation_id, &qualification, run_id, now)
            .await?;
        seen.insert(qualification.number.clone());
        match (org_outcome, qualification_outcome) {
            (Upserted::Created, _) => report.created += 1,
            (Upserted::Updated, _) | (_, Upserted::Created | Upserted::Updated) => {
                report.updated += 1
            }
            (Upserted::Unchanged, Upserted::Unchanged) => report.unchanged += 1,
        }
    }
    let provinces: HashSet<String> = parsed
        .records
        .iter()
        .filter_map(|r| r.region_code.get(..2).map(str::to_string))
        .collect();
    let not_in_latest = if options.partial {
        Vec::new()
    } else {
        tx.mark_not_in_latest(
            parsed.kind.qualification_kind(),
            &provinces,
            &seen,
            &parsed.keep,
            now,
        )
        .await?
    };
    report.rejected.sort_by_key(|r| r.row);
    let report_json = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
    tx.finish_run(
        run_id,
        &ImportRunCounts {
            read: report.read as i64,
            created: report.created as i64,
            updated: report.updated as i64,
            unchanged: report.unchanged as i64,
            rejected: report.rejected.len() as i64,
            not_in_latest: not_in_latest.len() as i64,
            report_json: &report_json,
        },
        now,
    )
    .await?;
    let run_id = if options.dry_run {
        tx.rollback().await?;
        None
    } else {
        tx.commit(now).await?;
        Some(run_id)
    };
    Ok(SupplierImport {
        kind: parsed.kind,
        report,
        not_in_latest,
        run_id,
    })
}

#[cfg(test)]
mod tests;

/// The repository's copies of the three sample lists (fictional), for `serve --demo`.
pub const SAMPLE_LISTS: [(ListKind, &str, &[u8]); 3] = [
    (
        ListKind::HwLicence,
        "hazardous_waste_licences.xlsx",
        include_bytes!("../../../../samples/suppliers/hazardous_waste_licences.xlsx"),
    ),
    (
        ListKind::Monitoring,
        "monitoring_agencies.csv",
        include_bytes!("../../../../samples/suppliers/monitoring_agencies.csv"),
    ),
    (
        ListKind::Eia,
        "eia_agencies.csv",
        include_bytes!("../../../../samples/suppliers/eia_agencies.csv"),
    ),
];

/// Imports the three sample lists with `sample = true` (shown as 示例数据). Idempotent:
/// a second call reports every row unchanged.
pub async fn import_samples(
    store: &Store,
    now: i64,
) -> Result<Vec<(ListKind, ImportReport)>, IngestError> {
    let mut reports = Vec::with_capacity(SAMPLE_LISTS.len());
    for (kind, file_name, bytes) in SAMPLE_LISTS {
        let options = ImportOptions {
            kind: Some(kind.as_str().to_string()),
            dry_run: false,
            sample: true,
            now,
            actor_account_id: None,
            partial: false,
        };
        let source = RunSource {
            file_name: file_name.to_string(),
            file_id: None,
        };
        let outcome = import_bytes(store, bytes, &source, &options).await?;
        reports.push((kind, outcome.report));
    }
    Ok(reports)
}
