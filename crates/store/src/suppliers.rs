//! The supplier directory's data (惠企服务): the profile columns of an organisation,
//! its qualifications (hazardous-waste licences, CMA certificates, EIA credit records,
//! uploaded certificates) and the runs of the list importers.
//!
//! Every write that changes what the organisations search index shows (profile,
//! listing, a qualification) writes an outbox row for `organisations` in the same
//! transaction, as [`Store::insert_organisation`] does.
//!
//! The list importers (crate `greenbridge-ingest`) work through a
//! [`SupplierImportTx`]: one transaction for a whole file, so the good rows of a file
//! commit together, and a dry run is the same work rolled back.
//!
//! Units: capacities are kilograms per year (`capacity_kg` = t/a × 1000), exact
//! integers. Dates are calendar dates in Asia/Shanghai, stored as `YYYY-MM-DD`.

use std::collections::{HashMap, HashSet};

use crate::outbox::collections;
use crate::{Result, Store, StoreError};
use greenbridge_domain::credit_code::CreditCode;
use greenbridge_domain::time::{format_date, parse_date};
use serde::Serialize;
use sqlx::{Any, Transaction};
use time::Date;

/// Days before the end of its validity from which a licence is flagged (licence watch).
pub const EXPIRY_WARNING_DAYS: i64 = 90;

/// The kind of a qualification; the strings are the API's `qualification` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum QualificationKind {
    /// 危险废物经营许可证.
    #[serde(rename = "hw-licence")]
    HwLicence,
    /// 检验检测机构资质认定 (CMA) certificate of a monitoring lab.
    #[serde(rename = "cma")]
    Cma,
    /// The 环境影响评价信用平台 record of an EIA agency (编制单位).
    #[serde(rename = "eia")]
    Eia,
    /// Any other certificate (uploaded scan).
    #[serde(rename = "other")]
    Other,
}

impl QualificationKind {
    pub const ALL: [QualificationKind; 4] = [
        QualificationKind::HwLicence,
        QualificationKind::Cma,
        QualificationKind::Eia,
        QualificationKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QualificationKind::HwLicence => "hw-licence",
            QualificationKind::Cma => "cma",
            QualificationKind::Eia => "eia",
            QualificationKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<QualificationKind> {
        QualificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            QualificationKind::HwLicence => "危险废物经营许可证",
            QualificationKind::Cma => "检验检测机构资质认定（CMA）",
            QualificationKind::Eia => "环评编制单位（信用平台）",
            QualificationKind::Other => "其他证书",
        }
    }
}

/// A mode of hazardous-waste operation (经营方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HwMode {
    /// 收集
    Collect,
    /// 贮存
    Store,
    /// 利用 (incl. 综合利用)
    Utilise,
    /// 处置 (焚烧, 填埋, 物化 …)
    Dispose,
}

impl HwMode {
    pub const ALL: [HwMode; 4] = [
        HwMode::Collect,
        HwMode::Store,
        HwMode::Utilise,
        HwMode::Dispose,
    ];

    /// The Chinese word, which is also the stored and the API value.
    pub fn as_str(self) -> &'static str {
        match self {
            HwMode::Collect => "收集",
            HwMode::Store => "贮存",
            HwMode::Utilise => "利用",
            HwMode::Dispose => "处置",
        }
    }

    pub fn parse(value: &str) -> Option<HwMode> {
        HwMode::ALL.into_iter().find(|m| m.as_str() == value.trim())
    }
}

impl Serialize for HwMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Size band declared by a supplier; the official lists do not give it (shown 未填).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizeBand {
    Micro,
    Small,
    Medium,
    Large,
}

impl SizeBand {
    pub const ALL: [SizeBand; 4] = [
        SizeBand::Micro,
        SizeBand::Small,
        SizeBand::Medium,
        SizeBand::Large,
    ];

    /// 微型 / 小型 / 中型 / 大型: stored and API value alike.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeBand::Micro => "微型",
            SizeBand::Small => "小型",
            SizeBand::Medium => "中型",
            SizeBand::Large => "大型",
        }
    }

    pub fn parse(value: &str) -> Option<SizeBand> {
        SizeBand::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }
}

/// Where a qualification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualificationSource {
    /// An official list, through an import run.
    Import,
    /// A certificate scan uploaded by the supplier.
    Upload,
    /// Declared by the supplier without a document.
    SelfDeclared,
}

impl QualificationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            QualificationSource::Import => "import",
            QualificationSource::Upload => "upload",
            QualificationSource::SelfDeclared => "self",
        }
    }

    pub fn parse(value: &str) -> Result<QualificationSource> {
        match value {
            "import" => Ok(QualificationSource::Import),
            "upload" => Ok(QualificationSource::Upload),
            "self" => Ok(QualificationSource::SelfDeclared),
            other => Err(StoreError::Corrupt(format!(
                "qualification source {other:?}"
            ))),
        }
    }
}

/// Verification state of a qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Read from an official list: verified by its source.
    Official,
    /// Uploaded, waiting for a reviewer.
    Pending,
    Verified,
    Rejected,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Official => "official",
            Verification::Pending => "pending",
            Verification::Verified => "verified",
            Verification::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Result<Verification> {
        match value {
            "official" => Ok(Verification::Official),
            "pending" => Ok(Verification::Pending),
            "verified" => Ok(Verification::Verified),
            "rejected" => Ok(Verification::Rejected),
            other => Err(StoreError::Corrupt(format!("verification {other:?}"))),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Verification::Official => "官方名单",
            Verification::Pending => "待审核",
            Verification::Verified => "已核验",
            Verification::Rejected => "未通过",
        }
    }
}

/// The supplier-directory columns of an organisation (beside [`crate::Organisation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierProfile {
    pub organisation_id: i64,
    pub former_names: Vec<String>,
    /// `None` = 未填.
    pub size_band: Option<SizeBand>,
    /// Service category codes (reference/service_categories.csv), e.g. `HW-DISP`.
    pub service_categories: Vec<String>,
    pub legal_representative: String,
    /// 单位性质 (企业法人 / 事业单位), where a list gives it.
    pub legal_form: String,
    pub contact_email: String,
    /// Extension of `contact_phone` (e.g. 转8012).
    pub contact_extension: String,
    pub description: String,
    pub website: String,
    /// Shown in the directory.
    pub listed: bool,
    /// The list kind that created the organisation (`hw-licence`, `monitoring`,
    /// `eia`), empty when it did not come from a list.
    pub list_source: String,
}

/// What a supplier edits on its profile (self-registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub former_names: Vec<String>,
    pub size_band: Option<SizeBand>,
    pub service_categories: Vec<String>,
    pub contact_email: String,
    pub description: String,
    pub website: String,
}

impl ProfileUpdate {
    /// The editable part of a profile as it stands.
    pub fn of(profile: &SupplierProfile) -> ProfileUpdate {
        ProfileUpdate {
            former_names: profile.former_names.clone(),
            size_band: profile.size_band,
            service_categories: profile.service_categories.clone(),
            contact_email: profile.contact_email.clone(),
            description: profile.description.clone(),
            website: profile.website.clone(),
        }
    }

    fn to_value(&self) -> serde_json::Value {
        serde_json::json!({
            "former_names": self.former_names,
            "size_band": self.size_band.map_or("", SizeBand::as_str),
            "service_categories": self.service_categories,
            "contact_email": self.contact_email,
            "description": self.description,
            "website": self.website,
        })
    }

    fn from_value(value: serde_json::Value) -> Result<ProfileUpdate> {
        #[derive(serde::Deserialize)]
        struct Stored {
            former_names: Vec<String>,
            size_band: String,
            service_categories: Vec<String>,
            contact_email: String,
            description: String,
            website: String,
        }
        let corrupt = |e: String| StoreError::Corrupt(format!("pending profile: {e}"));
        let stored: Stored = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        let size_band = match stored.size_band.as_str() {
            "" => None,
            other => Some(SizeBand::parse(other).ok_or_else(|| corrupt(other.to_string()))?),
        };
        Ok(ProfileUpdate {
            former_names: stored.former_names,
            size_band,
            service_categories: stored.service_categories,
            contact_email: stored.contact_email,
            description: stored.description,
            website: stored.website,
        })
    }
}

/// A listed supplier's profile edit waiting for approval: the edit and the
/// profile it was made on, so that approval takes only the fields the supplier
/// changed (an official list may have updated others since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingProfile {
    pub base: ProfileUpdate,
    pub edit: ProfileUpdate,
}

impl PendingProfile {
    /// The profile `live` with the fields the supplier changed taken from the edit.
    pub fn applied_to(&self, live: &ProfileUpdate) -> ProfileUpdate {
        fn pick<T: Clone + PartialEq>(edit: &T, base: &T, live: &T) -> T {
            if edit != base { edit } else { live }.clone()
        }
        let (e, b) = (&self.edit, &self.base);
        ProfileUpdate {
            former_names: pick(&e.former_names, &b.former_names, &live.former_names),
            size_band: pick(&e.size_band, &b.size_band, &live.size_band),
            service_categories: pick(
                &e.service_categories,
                &b.service_categories,
                &live.service_categories,
            ),
            contact_email: pick(&e.contact_email, &b.contact_email, &live.contact_email),
            description: pick(&e.description, &b.description, &live.description),
            website: pick(&e.website, &b.website, &live.website),
        }
    }

    fn to_json(&self) -> String {
        serde_json::json!({"base": self.base.to_value(), "edit": self.edit.to_value()}).to_string()
    }

    pub(crate) fn from_json(text: &str) -> Result<PendingProfile> {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("pending profile: {e}")))?;
        Ok(PendingProfile {
            base: ProfileUpdate::from_value(value["base"].take())?,
            edit: ProfileUpdate::from_value(value["edit"].take())?,
        })
    }
}

/// Where a supplier's profile edit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSaved {
    /// Into the profile itself: it is not listed yet, so nothing public changes.
    Live,
    /// Beside the listed profile, waiting for the association's approval.
    Pending,
    /// The edit is the listed profile as it stands: any waiting edit is dropped.
    Withdrawn,
}

/// One HW category of a hazardous-waste licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HwCategoryItem {
    /// `HW08`.
    pub category: String,
    /// Permitted 8-digit waste codes (`900-214-08`); empty = the category as a whole
    /// as far as the list says.
    pub waste_codes: Vec<String>,
    /// Codes the list excludes explicitly (`不含900-044-49`).
    pub excluded_codes: Vec<String>,
    /// Capacity for this category alone, kg/a, when the list gives one.
    pub capacity_kg: Option<i64>,
}

/// The EIA credit-platform record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EiaRecord {
    /// 正常公开 / 守信名单 / 重点监督检查名单 / 限期整改名单.
    pub credit_status: String,
    /// 当前周期失信记分.
    pub penalty_points: Option<i64>,
    /// 环评工程师（人）.
    pub engineers: Option<i64>,
    /// 编制人员（人）.
    pub staff: Option<i64>,
    /// 近三年编制报告书（本）.
    pub reports: Option<i64>,
    /// 近三年编制报告表（本）.
    pub forms: Option<i64>,
}

/// A qualification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub id: i64,
    pub organisation_id: i64,
    pub kind: QualificationKind,
    pub number: String,
    /// Free title for `other` certificates.
    pub title: String,
    pub issuer: String,
    pub issued_on: Option<Date>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub modes: Vec<HwMode>,
    pub modes_text: String,
    /// Total approved capacity, kg/a.
    pub capacity_kg: Option<i64>,
    pub facility_address: String,
    /// Region codes the qualification may serve; empty = no restriction.
    pub service_area: Vec<String>,
    /// CMA capability fields (水和废水、环境空气和废气 …).
    pub scope: String,
    /// 能力参数（项）.
    pub scope_items: Option<i64>,
    pub eia: EiaRecord,
    /// 信息更新日期 of the source record.
    pub record_updated_on: Option<Date>,
    /// The list's remark (备注), kept as written.
    pub note: String,
    pub source: QualificationSource,
    /// The import run that last created or changed it.
    pub import_run_id: Option<i64>,
    pub first_import_run_id: Option<i64>,
    /// The uploaded scan, for `upload` qualifications.
    pub file_id: Option<i64>,
    pub verification: Verification,
    /// 不在最新名单: a newer full list of the same kind no longer carries it.
    pub not_in_latest: bool,
    pub not_in_latest_since: Option<i64>,
    pub sample: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// HW categories of a licence (empty for other kinds).
    pub hw_categories: Vec<HwCategoryItem>,
}

/// The licence-watch state of a qualification on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceWatch {
    /// Valid and more than [`EXPIRY_WARNING_DAYS`] days left (or no end date).
    Valid,
    /// Valid, ending within [`EXPIRY_WARNING_DAYS`] days (0 = last valid day today).
    ExpiringSoon { days_left: i64 },
    /// Past its end date: no longer counted as a valid qualification.
    Expired { days_ago: i64 },
    /// Its validity starts after today.
    NotYetValid,
    /// Refused by a reviewer: not a valid qualification.
    Rejected,
}

impl LicenceWatch {
    /// Whether the qualification counts as valid today.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            LicenceWatch::Valid | LicenceWatch::ExpiringSoon { .. }
        )
    }

    /// `valid`, `expiring`, `expired`, `not_yet_valid`, `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenceWatch::Valid => "valid",
            LicenceWatch::ExpiringSoon { .. } => "expiring",
            LicenceWatch::Expired { .. } => "expired",
            LicenceWatch::NotYetValid => "not_yet_valid",
            LicenceWatch::Rejected => "rejected",
        }
    }

    pub fn label_zh(self) -> String {
        match self {
            LicenceWatch::Valid => "有效".into(),
            LicenceWatch::ExpiringSoon { days_left } => format!("{days_left}天内到期"),
            LicenceWatch::Expired { .. } => "已过期".into(),
            LicenceWatch::NotYetValid => "尚未生效".into(),
            LicenceWatch::Rejected => "未通过审核".into(),
        }
    }
}

impl Qualification {
    /// The licence-watch state on `today` (the platform clock's date).
    pub fn watch(&self, today: Date) -> LicenceWatch {
        if self.verification == Verification::Rejected {
            return LicenceWatch::Rejected;
        }
        if self.valid_from.is_some_and(|from| from > today) {
            return LicenceWatch::NotYetValid;
        }
        match self.valid_to {
            None => LicenceWatch::Valid,
            Some(to) if to < today => LicenceWatch::Expired {
                days_ago: (today - to).whole_days(),
            },
            Some(to) => {
                let days_left = (to - today).whole_days();
                if days_left <= EXPIRY_WARNING_DAYS {
                    LicenceWatch::ExpiringSoon { days_left }
                } else {
                    LicenceWatch::Valid
                }
            }
        }
    }

    /// HW categories as plain codes.
    pub fn categories(&self) -> Vec<&str> {
        self.hw_categories
            .iter()
            .map(|c| c.category.as_str())
            .collect()
    }

    /// Capacity for `category` in kg/a: its own figure where the list gives one,
    /// else the licence's total (which then covers several categories).
    pub fn capacity_for(&self, category: &str) -> Option<i64> {
        self.hw_categories
            .iter()
            .find(|c| c.category == category)
            .and_then(|c| c.capacity_kg)
            .or(self.capacity_kg)
    }

    /// Whether the service-area restriction allows region `code` (a region code;
    /// a restriction to district `320509` allows `320509` and its towns).
    pub fn may_serve(&self, code: &str) -> bool {
        self.service_area.is_empty() || self.service_area.iter().any(|a| code.starts_with(a))
    }
}

/// Converts kg/a to a t/a text for people: `25000`, `0.5`, `12.125`.
pub fn format_tonnes(capacity_kg: i64) -> String {
    let whole = capacity_kg / 1000;
    let rest = (capacity_kg % 1000).abs();
    if rest == 0 {
        whole.to_string()
    } else {
        let fraction = format!("{rest:03}");
        format!("{whole}.{}", fraction.trim_end_matches('0'))
    }
}

/// A qualification to store (from a list row or an upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewQualification {
    pub kind: QualificationKind,
    pub number: String,
    pub title: String,
    pub issuer: String,
    #[serde(serialize_with = "ser_date")]
    pub issued_on: Option<Date>,
    #[serde(serialize_with = "ser_date")]
    pub valid_from: Option<Date>,
    #[serde(serialize_with = "ser_date")]
    pub valid_to: Option<Date>,
    pub modes: Vec<HwMode>,
    pub modes_text: String,
    pub capacity_kg: Option<i64>,
    pub facility_address: String,
    pub service_area: Vec<String>,
    pub scope: String,
    pub scope_items: Option<i64>,
    pub eia: EiaRecord,
    #[serde(serialize_with = "ser_date")]
    pub record_updated_on: Option<Date>,
    pub note: String,
    pub hw_categories: Vec<HwCategoryItem>,
    #[serde(skip)]
    pub sample: bool,
}

fn ser_date<S: serde::Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => s.serialize_str(&format_date(*d)),
        None => s.serialize_none(),
    }
}

impl NewQualification {
    /// An empty qualification of `kind`, for building one field by field.
    pub fn new(kind: QualificationKind, number: impl Into<String>) -> NewQualification {
        NewQualification {
            kind,
            number: number.into(),
            title: String::new(),
            issuer: String::new(),
            issued_on: None,
            valid_from: None,
            valid_to: None,
            modes: Vec::new(),
            modes_text: String::new(),
            capacity_kg: None,
            facility_address: String::new(),
            service_area: Vec::new(),
            scope: String::new(),
            scope_items: None,
            eia: EiaRecord::default(),
            record_updated_on: None,
            note: String::new(),
            hw_categories: Vec::new(),
            sample: false,
        }
    }

    /// SHA-256 of the content, so a re-import tells an unchanged row without
    /// comparing every field.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).expect("a qualification serialises");
        data_encoding::HEXLOWER.encode(&Sha256::digest(&json))
    }
}

/// An organisation as an official list describes it.
#[derive(Debug, Clone)]
pub struct ListOrganisation<'a> {
    pub credit_code: &'a CreditCode,
    pub name: &'a str,
    pub region_code: &'a str,
    pub address: &'a str,
    pub legal_representative: &'a str,
    pub legal_form: &'a str,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub contact_extension: &'a str,
    pub contact_email: &'a str,
    /// Service categories the list implies (e.g. `HW`, `MON`, `EIA`): added to the
    /// organisation's, never removed.
    pub service_categories: &'a [&'a str],
    /// The list kind: `hw-licence`, `monitoring` or `eia`.
    pub list_source: &'a str,
    pub sample: bool,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// A qualification a full list no longer carried, as marked by
/// [`SupplierImportTx::mark_not_in_latest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotInLatest {
    pub qualification_id: i64,
    pub organisation_id: i64,
    pub number: String,
    pub organisation_name: String,
}

/// What a full list carries although it could not be imported: the numbers and
/// credit codes readable in its refused rows. Their qualifications are not marked
/// 不在最新名单 (the list still has them; the row only needs fixing).
#[derive(Debug, Clone, Default)]
pub struct KeepSet {
    pub numbers: HashSet<String>,
    pub credit_codes: HashSet<String>,
}

/// A committed run of a list importer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierImportRun {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub file_id: Option<i64>,
    pub sha256: String,
    pub actor_account_id: Option<i64>,
    pub sample: bool,
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub not_in_latest: i64,
    /// The import report as JSON.
    pub report: String,
    pub started_at: i64,
    pub finished_at: i64,
}

/// The start of an import run.
#[derive(Debug, Clone)]
pub struct NewImportRun<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub file_id: Option<i64>,
    pub sha256: &'a str,
    pub actor_account_id: Option<i64>,
    pub sample: bool,
    pub started_at: i64,
}

/// The counts of a finished run.
#[derive(Debug, Clone, Default)]
pub struct ImportRunCounts<'a> {
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub not_in_latest: i64,
    pub report_json: &'a str,
}

/// A licence-watch entry: a qualification ending soon (or ended) and its holder.
#[derive(Debug, Clone)]
pub struct WatchEntry {
    pub qualification: Qualification,
    pub organisation_name: String,
    pub region_code: String,
}

/// Which licence-watch entries to list.
#[derive(Debug, Clone, Default)]
pub struct WatchFilter<'a> {
    /// One organisation's (the supplier's own list).
    pub organisation_id: Option<i64>,
    /// Organisations whose region code starts with this (a reviewer's province,
    /// e.g. `32`), or all when `None`.
    pub region_prefix: Option<&'a str>,
    /// Include qualifications already expired (not only those expiring soon).
    pub include_expired: bool,
}

// ---------------------------------------------------------------------------
// Rows and conversions

const QUAL_COLUMNS: &str = "id, organisation_id, kind, number, title, issuer, issued_on, \
    valid_from, valid_to, modes, modes_text, capacity_kg, facility_address, service_area, scope, \
    scope_items, eia_credit_status, eia_penalty_points, eia_engineers, eia_staff, eia_reports, \
    eia_forms, record_updated_on, note, source, import_run_id, first_import_run_id, file_id, \
    verification, not_in_latest, not_in_latest_since, sample, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
struct QualificationRow {
    id: i64,
    organisation_id: i64,
    kind: String,
    number: String,
    title: String,
    issuer: String,
    issued_on: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
    modes: String,
    modes_text: String,
    capacity_kg: Option<i64>,
    facility_address: String,
    service_area: String,
    scope: String,
    scope_items: Option<i64>,
    eia_credit_status: String,
    eia_penalty_points: Option<i64>,
    eia_engineers: Option<i64>,
    eia_staff: Option<i64>,
    eia_reports: Option<i64>,
    eia_forms: Option<i64>,
    record_updated_on: Option<String>,
    note: String,
    source: String,
    import_run_id: Option<i64>,
    first_import_run_id: Option<i64>,
    file_id: Option<i64>,
    verification: String,
    not_in_latest: i64,
    not_in_latest_since: Option<i64>,
    sample: i64,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct HwCategoryRow {
    qualification_id: i64,
    category: String,
    waste_codes: String,
    excluded_codes: String,
    capacity_kg: Option<i64>,
}

fn stored_date(value: Option<String>) -> Result<Option<Date>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| parse_date(&v).map_err(|e| StoreError::Corrupt(format!("date {v:?}: {e}"))))
        .transpose()
}

fn date_text(date: Option<Date>) -> Option<String> {
    date.map(format_date)
}

fn json_list(value: &str) -> Result<Vec<String>> {
    serde_json::from_str(value).map_err(|e| StoreError::Corrupt(format!("list {value:?}: {e}")))
}

/// The supplier-directory columns of organisation `id` (`NotFound` without it).
pub(crate) async fn profile_on(conn: &mut sqlx::AnyConnection, id: i64) -> Result<SupplierProfile> {
    let row: ProfileRow = sqlx::query_as(&format!(
        "SELECT {PROFILE_COLUMNS} FROM organisations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    row.try_into()
}

/// The waiting edit of organisation `id` (`NotFound` without the organisation).
pub(crate) async fn pending_of(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<Option<PendingProfile>> {
    let text: Option<Option<String>> =
        sqlx::query_scalar("SELECT pending_profile FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match text.ok_or(StoreError::NotFound)? {
        Some(text) => PendingProfile::from_json(&text).map(Some),
        None => Ok(None),
    }
}

/// Writes `update` into the profile of organisation `id` (dropping any waiting
/// edit) and queues its search document.
pub(crate) async fn write_profile(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    update: &ProfileUpdate,
    now: i64,
) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE organisations SET former_names = $1, size_band = $2, service_categories = $3, \
         contact_email = $4, description = $5, website = $6, updated_at = $7, \
         pending_profile = NULL WHERE id = $8",
    )
    .bind(to_json_list(&update.former_names))
    .bind(update.size_band.map_or("", SizeBand::as_str))
    .bind(to_json_list(&update.service_categories))
    .bind(&update.contact_email)
    .bind(&update.description)
    .bind(&update.website)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    crate::outbox::record(conn, collections::ORGANISATIONS, &id.to_string(), now).await
}

fn to_json_list<T: AsRef<str>>(items: &[T]) -> String {
    serde_json::to_string(&items.iter().map(AsRef::as_ref).collect::<Vec<&str>>())
        .expect("strings serialise")
}

impl QualificationRow {
    fn into_qualification(self, hw_categories: Vec<HwCategoryItem>) -> Result<Qualification> {
        let modes = json_list(&self.modes)?
            .iter()
            .map(|m| HwMode::parse(m).ok_or_else(|| StoreError::Corrupt(format!("mode {m:?}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Qualification {
            id: self.id,
            organisation_id: self.organisation_id,
            kind: QualificationKind::parse(&self.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("qualification kind {:?}", self.kind))
            })?,
            number: self.number,
            title: self.title,
            issuer: self.issuer,
            issued_on: stored_date(self.issued_on)?,
            valid_from: stored_date(self.valid_from)?,
            valid_to: stored_date(self.valid_to)?,
            modes,
            modes_text: self.modes_text,
            capacity_kg: self.capacity_kg,
            facility_address: self.facility_address,
            service_area: json_list(&self.service_area)?,
            scope: self.scope,
            scope_items: self.scope_items,
            eia: EiaRecord {
                credit_status: self.eia_credit_status,
                penalty_points: self.eia_penalty_points,
                engineers: self.eia_engineers,
                staff: self.eia_staff,
                reports: self.eia_reports,
                forms: self.eia_forms,
            },
            record_updated_on: stored_date(self.record_updated_on)?,
            note: self.note,
            source: QualificationSource::parse(&self.source)?,
            import_run_id: self.import_run_id,
            first_import_run_id: self.first_import_run_id,
            file_id: self.file_id,
            verification: Verification::parse(&self.verification)?,
            not_in_latest: self.not_in_latest != 0,
            not_in_latest_since: self.not_in_latest_since,
            sample: self.sample != 0,
            created_at: self.created_at,
            updated_at: self.updated_at,
            hw_categories,
        })
    }
}

impl HwCategoryRow {
    fn into_item(self) -> Result<HwCategoryItem> {
        Ok(HwCategoryItem {
            category: self.category,
            waste_codes: json_list(&self.waste_codes)?,
            excluded_codes: json_list(&self.excluded_codes)?,
            capacity_kg: self.capacity_kg,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ProfileRow {
    id: i64,
    former_names: String,
    size_band: String,
    service_categories: String,
    legal_representative: String,
    legal_form: String,
    contact_email: String,
    contact_extension: String,
    description: String,
    website: String,
    listed: i64,
    list_source: String,
}

const PROFILE_COLUMNS: &str = "id, former_names, size_band, service_categories, \
    legal_representative, legal_form, contact_email, contact_extension, description, website, \
    listed, list_source";

impl TryFrom<ProfileRow> for SupplierProfile {
    type Error = StoreError;
    fn try_from(row: ProfileRow) -> Result<Self> {
        let size_band = match row.size_band.as_str() {
            "" => None,
            other => Some(
                SizeBand::parse(other)
                    .ok_or_else(|| StoreError::Corrupt(format!("size band {other:?}")))?,
            ),
        };
        Ok(SupplierProfile {
            organisation_id: row.id,
            former_names: json_list(&row.former_names)?,
            size_band,
            service_categories: json_list(&row.service_categories)?,
            legal_representative: row.legal_representative,
            legal_form: row.legal_form,
            contact_email: row.contact_email,
            contact_extension: row.contact_extension,
            description: row.description,
            website: row.website,
            listed: row.listed != 0,
            list_source: row.list_source,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RunRow {
    id: i64,
    kind: String,
    file_name: String,
    file_id: Option<i64>,
    sha256: String,
    actor_account_id: Option<i64>,
    sample: i64,
    read_rows: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    rejected: i64,
    not_in_latest: i64,
    report: String,
    started_at: i64,
    finished_at: i64,
}

const RUN_COLUMNS: &str = "id, kind, file_name, file_id, sha256, actor_account_id, sample, \
    read_rows, created, updated, unchanged, rejected, not_in_latest, report, started_at, finished_at";

impl From<RunRow> for SupplierImportRun {
    fn from(row: RunRow) -> Self {
        SupplierImportRun {
            id: row.id,
            kind: row.kind,
            file_name: row.file_name,
            file_id: row.file_id,
            sha256: row.sha256,
            actor_account_id: row.actor_account_id,
            sample: row.sample != 0,
            read: row.read_rows,
            created: row.created,
            updated: row.updated,
            unchanged: row.unchanged,
            rejected: row.rejected,
            not_in_latest: row.not_in_latest,
            report: row.report,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

/// Reads the HW categories of `ids` and assembles the qualifications.
async fn assemble(
    conn: &mut sqlx::AnyConnection,
    rows: Vec<QualificationRow>,
) -> Result<Vec<Qualification>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut categories: HashMap<i64, Vec<HwCategoryItem>> = HashMap::new();
    // Ids are integers from the database, so inlining them is safe; chunks keep the
    // statement short for large batches.
    for chunk in rows.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|r| r.id.to_string()).collect();
        let hw: Vec<HwCategoryRow> = sqlx::query_as(&format!(
            "SELECT qualification_id, category, waste_codes, excluded_codes, capacity_kg \
             FROM qualification_hw_categories WHERE qualification_id IN ({}) \
             ORDER BY qualification_id, category",
            ids.join(",")
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in hw {
            categories
                .entry(row.qualification_id)
                .or_default()
                .push(row.into_item()?);
        }
    }
    rows.into_iter()
        .map(|row| {
            let items = categories.remove(&row.id).unwrap_or_default();
            row.into_qualification(items)
        })
        .collect()
}

async fn insert_hw_categories(
    conn: &mut sqlx::AnyConnection,
    qualification_id: i64,
    items: &[HwCategoryItem],
) -> Result<()> {
    // One statement per licence rather than per category: imports of large lists
    // spend their time on statement round trips.
    for chunk in items.chunks(50) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO qualification_hw_categories \
             (qualification_id, category, waste_codes, excluded_codes, capacity_kg) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for item in chunk {
            query = query
                .bind(qualification_id)
                .bind(item.category.clone())
                .bind(to_json_list(&item.waste_codes))
                .bind(to_json_list(&item.excluded_codes))
                .bind(item.capacity_kg);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Where a new qualification comes from and how far it is verified.
struct Provenance {
    source: QualificationSource,
    verification: Verification,
    import_run_id: Option<i64>,
    file_id: Option<i64>,
}

/// Inserts a qualification row and its categories; returns its id.
async fn insert_qualification_row(
    conn: &mut sqlx::AnyConnection,
    organisation_id: i64,
    new: &NewQualification,
    provenance: Provenance,
    now: i64,
) -> Result<i64> {
    let Provenance {
        source,
        verification,
        import_run_id,
        file_id,
    } = provenance;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO qualifications (organisation_id, kind, number, title, issuer, issued_on, \
         valid_from, valid_to, modes, modes_text, capacity_kg, facility_address, service_area, \
         scope, scope_items, eia_credit_status, eia_penalty_points, eia_engineers, eia_staff, \
         eia_reports, eia_forms, record_updated_on, note, source, import_run_id, \
         first_import_run_id, file_id, verification, fingerprint, sample, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25, $25, $26, $27, $28, $29, $30, $30) RETURNING id",
    )
    .bind(organisation_id)
    .bind(new.kind.as_str())
    .bind(&new.number)
    .bind(&new.title)
    .bind(&new.issuer)
    .bind(date_text(new.issued_on))
    .bind(date_text(new.valid_from))
    .bind(date_text(new.valid_to))
    .bind(to_json_list(
        &new.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
    ))
    .bind(&new.modes_text)
    .bind(new.capacity_kg)
    .bind(&new.facility_address)
    .bind(to_json_list(&new.service_area))
    .bind(&new.scope)
    .bind(new.scope_items)
    .bind(&new.eia.credit_status)
    .bind(new.eia.penalty_points)
    .bind(new.eia.engineers)
    .bind(new.eia.staff)
    .bind(new.eia.reports)
    .bind(new.eia.forms)
    .bind(date_text(new.record_updated_on))
    .bind(&new.note)
    .bind(source.as_str())
    .bind(import_run_id)
    .bind(file_id)
    .bind(verification.as_str())
    .bind(new.fingerprint())
    .bind(i64::from(new.sample))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    insert_hw_categories(conn, id, &new.hw_categories).await?;
    Ok(id)
}

// ---------------------------------------------------------------------------
// Reads and the supplier's / reviewer's writes

impl Store {
    /// The supplier-directory columns of organisation `id`.
    pub async fn supplier_profile(&self, id: i64) -> Result<SupplierProfile> {
        let mut conn = self.pool.acquire().await?;
        profile_on(&mut conn, id).await
    }

    /// The profiles of several organisations (for a page of search results or an
    /// index batch), keyed by organisation id.
    pub async fn supplier_profiles(&self, ids: &[i64]) -> Result<HashMap<i64, SupplierProfile>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let rows: Vec<ProfileRow> = sqlx::query_as(&format!(
                "SELECT {PROFILE_COLUMNS} FROM organisations WHERE id IN ({})",
                list.join(",")
            ))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let profile = SupplierProfile::try_from(row)?;
                out.insert(profile.organisation_id, profile);
            }
        }
        Ok(out)
    }

    /// A supplier edits its profile. Before it is listed the edit is the profile
    /// (and the search index follows); once listed, the edit waits beside it until
    /// the association approves it (see [`Store::pending_profile`]), so that what
    /// the directory shows has always been reviewed.
    pub async fn update_supplier_profile(
        &self,
        id: i64,
        update: &ProfileUpdate,
        now: i64,
    ) -> Result<ProfileSaved> {
        let mut tx = self.pool.begin().await?;
        let live = profile_on(&mut tx, id).await?;
        if live.listed {
            let current = ProfileUpdate::of(&live);
            let same = current == *update;
            // A later edit keeps the profile the first was made on.
            let base = match pending_of(&mut tx, id).await? {
                Some(pending) => pending.base,
                None => current,
            };
            let pending = PendingProfile {
                base,
                edit: update.clone(),
            };
            sqlx::query("UPDATE organisations SET pending_profile = $1 WHERE id = $2")
                .bind((!same).then(|| pending.to_json()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(if same {
                ProfileSaved::Withdrawn
            } else {
                ProfileSaved::Pending
            });
        }
        write_profile(&mut tx, id, update, now).await?;
        tx.commit().await?;
        Ok(ProfileSaved::Live)
    }

    /// The edit of a listed supplier's profile waiting for approval, if any.
    pub async fn pending_profile(&self, id: i64) -> Result<Option<PendingProfile>> {
        let mut conn = self.pool.acquire().await?;
        pending_of(&mut conn, id).await
    }

    /// Lists or unlists an organisation in the directory (a self-registered supplier
    /// once its association approved it).
    pub async fn set_supplier_listed(&self, id: i64, listed: bool, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let changed =
            sqlx::query("UPDATE organisations SET listed = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(listed))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        crate::outbox::record(&mut tx, collections::ORGANISATIONS, &id.to_string(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every qualification of an organisation: licences first, then by number.
    pub async fn qualifications_of(&self, organisation_id: i64) -> Result<Vec<Qualification>> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<QualificationRow> = sqlx::query_as(&format!(
            "SELECT {QUAL_COLUMNS} FROM qualifications WHERE organisation_id = $1 \
             ORDER BY CASE kind WHEN 'hw-licence' THEN 0 WHEN 'cma' THEN 1 WHEN 'eia' THEN 2 ELSE 3 END, \
             number, id"
        ))
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        assemble(&mut conn, rows).await
    }

    /// The qualifications of several organisations (an index batch, a result page),
    /// keyed by organisation id.
    pub async fn qualifications_for(
        &self,
        organisation_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<Qualification>>> {
        let mut conn = self.pool.acquire().await?;
        let mut out: HashMap<i64, Vec<Qualification>> = HashMap::new();
        for chunk in organisation_ids.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let rows: Vec<QualificationRow> = sqlx::query_as(&format!(
                "SELECT {QUAL_COLUMNS} FROM qualifications WHERE organisation_id IN ({}) \
                 ORDER BY organisation_id, kind, number, id",
                list.join(",")
            ))
            .fetch_all(&mut *conn)
            .await?;
            for qualification in assemble(&mut conn, rows).await? {
                out.entry(qualification.organisation_id)
                    .or_default()
                    .push(qualification);
            }
        }
        Ok(out)
    }

    pub async fn qualification(&self, id: i64) -> Result<Qualification> {
        let mut conn = self.pool.acquire().await?;
        let row: QualificationRow = sqlx::query_as(&format!(
            "SELECT {QUAL_COLUMNS} FROM qualifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        assemble(&mut conn, vec![row])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Adds a qualification the supplier uploaded or declared (verification
    /// `pending`); the search index follows.
    pub async fn add_qualification(
        &self,
        organisation_id: i64,
        new: &NewQualification,
        source: QualificationSource,
        file_id: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_qualification_row(
            &mut tx,
            organisation_id,
            new,
            Provenance {
                source,
                verification: Verification::Pending,
                import_run_id: None,
                file_id,
            },
            now,
        )
        .await?;
        crate::outbox::record(
            &mut tx,
            collections::ORGANISATIONS,
            &organisation_id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A reviewer verifies or rejects an uploaded qualification.
    pub async fn set_qualification_verification(
        &self,
        id: i64,
        verification: Verification,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let organisation_id: Option<i64> = sqlx::query_scalar(
            "UPDATE qualifications SET verification = $1, updated_at = $2 WHERE id = $3 \
             RETURNING organisation_id",
        )
        .bind(verification.as_str())
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let organisation_id = organisation_id.ok_or(StoreError::NotFound)?;
        crate::outbox::record(
            &mut tx,
            collections::ORGANISATIONS,
            &organisation_id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a qualification the supplier uploaded or declared (never an imported
    /// one: those are only marked 不在最新名单).
    pub async fn delete_own_qualification(
        &self,
        organisation_id: i64,
        id: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM qualification_hw_categories WHERE qualification_id IN \
             (SELECT id FROM qualifications WHERE id = $1 AND organisation_id = $2 AND source <> 'import')",
        )
        .bind(id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query(
            "DELETE FROM qualifications WHERE id = $1 AND organisation_id = $2 AND source <> 'import'",
        )
        .bind(id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        crate::outbox::record(
            &mut tx,
            collections::ORGANISATIONS,
            &organisation_id.to_string(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Licence watch: qualifications ending within [`EXPIRY_WARNING_DAYS`] days of
    /// `today` (and, with `include_expired`, those already ended), soonest first.
    pub async fn expiring_qualifications(
        &self,
        today: Date,
        filter: &WatchFilter<'_>,
    ) -> Result<Vec<WatchEntry>> {
        let horizon = today + time::Duration::days(EXPIRY_WARNING_DAYS);
        let mut sql = format!(
            "SELECT {} FROM qualifications q JOIN organisations o ON o.id = q.organisation_id \
             WHERE q.valid_to IS NOT NULL AND q.valid_to <= $1 AND q.verification <> 'rejected'",
            QUAL_COLUMNS
                .split(", ")
                .map(|c| format!("q.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut binds: Vec<String> = vec![format_date(horizon)];
        if !filter.include_expired {
            binds.push(format_date(today));
            sql.push_str(&format!(" AND q.valid_to >= ${}", binds.len()));
        }
        if let Some(org) = filter.organisation_id {
            sql.push_str(&format!(" AND q.organisation_id = {org}"));
        }
        if let Some(prefix) = filter.region_prefix {
            binds.push(format!("{prefix}%"));
            sql.push_str(&format!(" AND o.region_code LIKE ${}", binds.len()));
        }
        sql.push_str(" ORDER BY q.valid_to, q.id");
        let mut conn = self.pool.acquire().await?;
        let mut query = sqlx::query_as::<_, QualificationRow>(&sql);
        for bind in &binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let qualifications = assemble(&mut conn, rows).await?;
        let ids: Vec<i64> = qualifications.iter().map(|q| q.organisation_id).collect();
        let mut names: HashMap<i64, (String, String)> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let rows: Vec<(i64, String, String)> = sqlx::query_as(&format!(
                "SELECT id, name, region_code FROM organisations WHERE id IN ({})",
                list.join(",")
            ))
            .fetch_all(&mut *conn)
            .await?;
            for (id, name, region) in rows {
                names.insert(id, (name, region));
            }
        }
        Ok(qualifications
            .into_iter()
            .map(|q| {
                let (name, region) = names.get(&q.organisation_id).cloned().unwrap_or_default();
                WatchEntry {
                    qualification: q,
                    organisation_name: name,
                    region_code: region,
                }
            })
            .collect())
    }

    /// Imported qualifications marked 不在最新名单, for the reviewers; optionally
    /// only organisations whose region starts with `region_prefix`.
    pub async fn qualifications_not_in_latest(
        &self,
        region_prefix: Option<&str>,
    ) -> Result<Vec<WatchEntry>> {
        let columns = QUAL_COLUMNS
            .split(", ")
            .map(|c| format!("q.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<QualificationRow> = sqlx::query_as(&format!(
            "SELECT {columns} FROM qualifications q JOIN organisations o ON o.id = q.organisation_id \
             WHERE q.not_in_latest = 1 AND o.region_code LIKE $1 ORDER BY q.not_in_latest_since, q.id"
        ))
        .bind(format!("{}%", region_prefix.unwrap_or("")))
        .fetch_all(&mut *conn)
        .await?;
        let qualifications = assemble(&mut conn, rows).await?;
        let mut out = Vec::with_capacity(qualifications.len());
        for q in qualifications {
            let (name, region): (String, String) =
                sqlx::query_as("SELECT name, region_code FROM organisations WHERE id = $1")
                    .bind(q.organisation_id)
                    .fetch_one(&mut *conn)
                    .await?;
            out.push(WatchEntry {
                qualification: q,
                organisation_name: name,
                region_code: region,
            });
        }
        Ok(out)
    }

    /// The newest committed import runs.
    pub async fn supplier_import_runs(&self, limit: i64) -> Result<Vec<SupplierImportRun>> {
        let rows: Vec<RunRow> = sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM supplier_import_runs ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(SupplierImportRun::from).collect())
    }

    pub async fn supplier_import_run(&self, id: i64) -> Result<SupplierImportRun> {
        let row: RunRow = sqlx::query_as(&format!(
            "SELECT {RUN_COLUMNS} FROM supplier_import_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    /// Starts the transaction of one list import.
    pub async fn begin_supplier_import(&self) -> Result<SupplierImportTx> {
        let tx = self.pool.begin().await?;
        Ok(SupplierImportTx {
            tx,
            known_codes: None,
            known_quals: HashMap::new(),
            touched: HashSet::new(),
        })
    }
}

// ---------------------------------------------------------------------------
// The import transaction

/// One list import: every write of a file in one transaction. [`commit`] keeps it,
/// [`rollback`] (a dry run, or an error) leaves the database as it was.
///
/// [`commit`]: SupplierImportTx::commit
/// [`rollback`]: SupplierImportTx::rollback
pub struct SupplierImportTx {
    tx: Transaction<'static, Any>,
    /// Credit code → organisation id, loaded on first use (so new organisations cost
    /// no lookup).
    known_codes: Option<HashMap<String, i64>>,
    /// Imported qualifications by (kind, number), loaded per kind on first use.
    known_quals: HashMap<QualificationKind, HashMap<String, ListQualRow>>,
    /// Organisations whose search document changed: one outbox row each at commit.
    touched: HashSet<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ListOrgRow {
    name: String,
    side: String,
    region_code: String,
    address: String,
    contact_name: String,
    contact_phone: String,
    source: String,
    former_names: String,
    service_categories: String,
    legal_representative: String,
    legal_form: String,
    contact_email: String,
    contact_extension: String,
    listed: i64,
    list_source: String,
}

#[derive(Debug, Clone)]
struct ListQualRow {
    id: i64,
    organisation_id: i64,
    fingerprint: String,
    not_in_latest: i64,
}

impl SupplierImportTx {
    async fn known_codes(&mut self) -> Result<&mut HashMap<String, i64>> {
        if self.known_codes.is_none() {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT credit_code, id FROM organisations")
                    .fetch_all(&mut *self.tx)
                    .await?;
            self.known_codes = Some(rows.into_iter().collect());
        }
        Ok(self.known_codes.as_mut().expect("loaded above"))
    }

    async fn known_quals(
        &mut self,
        kind: QualificationKind,
    ) -> Result<&mut HashMap<String, ListQualRow>> {
        if !self.known_quals.contains_key(&kind) {
            let rows: Vec<(String, i64, i64, String, i64)> = sqlx::query_as(
                "SELECT number, id, organisation_id, fingerprint, not_in_latest \
                 FROM qualifications WHERE kind = $1 AND source = 'import'",
            )
            .bind(kind.as_str())
            .fetch_all(&mut *self.tx)
            .await?;
            let map = rows
                .into_iter()
                .map(
                    |(number, id, organisation_id, fingerprint, not_in_latest)| {
                        (
                            number,
                            ListQualRow {
                                id,
                                organisation_id,
                                fingerprint,
                                not_in_latest,
                            },
                        )
                    },
                )
                .collect();
            self.known_quals.insert(kind, map);
        }
        Ok(self.known_quals.get_mut(&kind).expect("loaded above"))
    }

    /// Records the start of a run; its id goes on the qualifications it writes.
    pub async fn start_run(&mut self, run: &NewImportRun<'_>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO supplier_import_runs (kind, file_name, file_id, sha256, \
             actor_account_id, sample, started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(run.kind)
        .bind(run.file_name)
        .bind(run.file_id)
        .bind(run.sha256)
        .bind(run.actor_account_id)
        .bind(i64::from(run.sample))
        .bind(run.started_at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Records the outcome of run `id`.
    pub async fn finish_run(
        &mut self,
        id: i64,
        counts: &ImportRunCounts<'_>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE supplier_import_runs SET read_rows = $1, created = $2, updated = $3, \
             unchanged = $4, rejected = $5, not_in_latest = $6, report = $7, finished_at = $8 \
             WHERE id = $9",
        )
        .bind(counts.read)
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.rejected)
        .bind(counts.not_in_latest)
        .bind(counts.report_json)
        .bind(now)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Creates the organisation of a list row, or brings an existing one (same
    /// credit code) up to date. Rules:
    /// - a new organisation is a listed supplier, `source = import`;
    /// - a list of the kind that created it (`list_source`) may change its name (the
    ///   old one joins the former names), address, region and legal representative;
    /// - any other list only fills what is empty (a self-registered profile is the
    ///   supplier's own), and lists the organisation;
    /// - service categories are only ever added.
    pub async fn upsert_list_organisation(
        &mut self,
        org: &ListOrganisation<'_>,
        now: i64,
    ) -> Result<(i64, Upserted)> {
        let code = org.credit_code.as_str().to_string();
        let existing = self.known_codes().await?.get(&code).copied();
        let Some(id) = existing else {
            let categories: Vec<&str> = org.service_categories.to_vec();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO organisations (credit_code, name, side, region_code, address, \
                 contact_name, contact_phone, source, sample, created_at, updated_at, \
                 service_categories, legal_representative, legal_form, contact_email, \
                 contact_extension, listed, list_source) \
                 VALUES ($1, $2, 'supplier', $3, $4, $5, $6, 'import', $7, $8, $8, $9, $10, $11, \
                 $12, $13, 1, $14) RETURNING id",
            )
            .bind(&code)
            .bind(org.name)
            .bind(org.region_code)
            .bind(org.address)
            .bind(org.contact_name)
            .bind(org.contact_phone)
            .bind(i64::from(org.sample))
            .bind(now)
            .bind(to_json_list(&categories))
            .bind(org.legal_representative)
            .bind(org.legal_form)
            .bind(org.contact_email)
            .bind(org.contact_extension)
            .bind(org.list_source)
            .fetch_one(&mut *self.tx)
            .await?;
            self.known_codes().await?.insert(code, id);
            self.touched.insert(id);
            return Ok((id, Upserted::Created));
        };
        let row: ListOrgRow = sqlx::query_as(
            "SELECT name, side, region_code, address, contact_name, contact_phone, source, \
             former_names, service_categories, legal_representative, legal_form, contact_email, \
             contact_extension, listed, list_source FROM organisations WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        let mut next = row.clone();
        let owns = row.list_source == org.list_source
            || (row.list_source.is_empty() && row.source == "import");
        let fill = |current: &mut String, value: &str, overwrite: bool| {
            if !value.is_empty() && (overwrite || current.is_empty()) {
                *current = value.to_string();
            }
        };
        let mut former = json_list(&row.former_names)?;
        if owns && !org.name.is_empty() && org.name != row.name {
            if !former.iter().any(|n| n == &row.name) {
                former.push(row.name.clone());
            }
            former.retain(|n| n != org.name);
            next.name = org.name.to_string();
        }
        next.former_names = to_json_list(&former);
        fill(&mut next.region_code, org.region_code, owns);
        fill(&mut next.address, org.address, owns);
        fill(
            &mut next.legal_representative,
            org.legal_representative,
            owns,
        );
        fill(&mut next.legal_form, org.legal_form, owns);
        fill(&mut next.contact_name, org.contact_name, owns);
        fill(&mut next.contact_phone, org.contact_phone, owns);
        fill(&mut next.contact_extension, org.contact_extension, owns);
        fill(&mut next.contact_email, org.contact_email, owns);
        let mut categories = json_list(&row.service_categories)?;
        for category in org.service_categories {
            if !categories.iter().any(|c| c == category) {
                categories.push((*category).to_string());
            }
        }
        next.service_categories = to_json_list(&categories);
        if row.side == "supplier" {
            next.listed = 1;
        }
        if row.list_source.is_empty() && row.source == "import" {
            next.list_source = org.list_source.to_string();
        }
        let changed = next.name != row.name
            || next.former_names != row.former_names
            || next.region_code != row.region_code
            || next.address != row.address
            || next.legal_representative != row.legal_representative
            || next.legal_form != row.legal_form
            || next.contact_name != row.contact_name
            || next.contact_phone != row.contact_phone
            || next.contact_extension != row.contact_extension
            || next.contact_email != row.contact_email
            || next.service_categories != row.service_categories
            || next.listed != row.listed
            || next.list_source != row.list_source;
        if !changed {
            return Ok((id, Upserted::Unchanged));
        }
        sqlx::query(
            "UPDATE organisations SET name = $1, former_names = $2, region_code = $3, address = $4, \
             legal_representative = $5, legal_form = $6, contact_name = $7, contact_phone = $8, \
             contact_extension = $9, contact_email = $10, service_categories = $11, listed = $12, \
             list_source = $13, updated_at = $14 WHERE id = $15",
        )
        .bind(&next.name)
        .bind(&next.former_names)
        .bind(&next.region_code)
        .bind(&next.address)
        .bind(&next.legal_representative)
        .bind(&next.legal_form)
        .bind(&next.contact_name)
        .bind(&next.contact_phone)
        .bind(&next.contact_extension)
        .bind(&next.contact_email)
        .bind(&next.service_categories)
        .bind(next.listed)
        .bind(&next.list_source)
        .bind(now)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        self.touched.insert(id);
        Ok((id, Upserted::Updated))
    }

    /// Creates or updates the qualification `(kind, number)` of a list row for
    /// organisation `organisation_id`. Unchanged content (same fingerprint, same
    /// holder, not marked 不在最新名单) writes nothing; a licence the list carries
    /// again loses its 不在最新名单 mark.
    pub async fn upsert_list_qualification(
        &mut self,
        organisation_id: i64,
        new: &NewQualification,
        run_id: i64,
        now: i64,
    ) -> Result<(i64, Upserted)> {
        let fingerprint = new.fingerprint();
        let existing = self.known_quals(new.kind).await?.get(&new.number).cloned();
        let Some(existing) = existing else {
            let id = insert_qualification_row(
                &mut self.tx,
                organisation_id,
                new,
                Provenance {
                    source: QualificationSource::Import,
                    verification: Verification::Official,
                    import_run_id: Some(run_id),
                    file_id: None,
                },
                now,
            )
            .await?;
            self.touched.insert(organisation_id);
            self.known_quals(new.kind).await?.insert(
                new.number.clone(),
                ListQualRow {
                    id,
                    organisation_id,
                    fingerprint,
                    not_in_latest: 0,
                },
            );
            return Ok((id, Upserted::Created));
        };
        if existing.fingerprint == fingerprint
            && existing.organisation_id == organisation_id
            && existing.not_in_latest == 0
        {
            return Ok((existing.id, Upserted::Unchanged));
        }
        sqlx::query(
            "UPDATE qualifications SET organisation_id = $1, title = $2, issuer = $3, \
             issued_on = $4, valid_from = $5, valid_to = $6, modes = $7, modes_text = $8, \
             capacity_kg = $9, facility_address = $10, service_area = $11, scope = $12, \
             scope_items = $13, eia_credit_status = $14, eia_penalty_points = $15, \
             eia_engineers = $16, eia_staff = $17, eia_reports = $18, eia_forms = $19, \
             record_updated_on = $20, note = $21, import_run_id = $22, not_in_latest = 0, \
             not_in_latest_since = NULL, fingerprint = $23, updated_at = $24 WHERE id = $25",
        )
        .bind(organisation_id)
        .bind(&new.title)
        .bind(&new.issuer)
        .bind(date_text(new.issued_on))
        .bind(date_text(new.valid_from))
        .bind(date_text(new.valid_to))
        .bind(to_json_list(
            &new.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        ))
        .bind(&new.modes_text)
        .bind(new.capacity_kg)
        .bind(&new.facility_address)
        .bind(to_json_list(&new.service_area))
        .bind(&new.scope)
        .bind(new.scope_items)
        .bind(&new.eia.credit_status)
        .bind(new.eia.penalty_points)
        .bind(new.eia.engineers)
        .bind(new.eia.staff)
        .bind(new.eia.reports)
        .bind(new.eia.forms)
        .bind(date_text(new.record_updated_on))
        .bind(&new.note)
        .bind(run_id)
        .bind(&fingerprint)
        .bind(now)
        .bind(existing.id)
        .execute(&mut *self.tx)
        .await?;
        if existing.fingerprint != fingerprint {
            sqlx::query("DELETE FROM qualification_hw_categories WHERE qualification_id = $1")
                .bind(existing.id)
                .execute(&mut *self.tx)
                .await?;
            insert_hw_categories(&mut self.tx, existing.id, &new.hw_categories).await?;
        }
        self.touched.insert(organisation_id);
        self.touched.insert(existing.organisation_id);
        self.known_quals(new.kind).await?.insert(
            new.number.clone(),
            ListQualRow {
                id: existing.id,
                organisation_id,
                fingerprint,
                not_in_latest: 0,
            },
        );
        Ok((existing.id, Upserted::Updated))
    }

    /// Full-list semantics: marks 不在最新名单 every imported qualification of `kind`
    /// that is not yet marked, of an organisation in one of `provinces` (the
    /// two-digit region prefixes the list covers), whose number is not in `seen`
    /// (the numbers this list carries) and that `keep` does not hold (refused rows
    /// of the list). Nothing is deleted.
    pub async fn mark_not_in_latest(
        &mut self,
        kind: QualificationKind,
        provinces: &HashSet<String>,
        seen: &HashSet<String>,
        keep: &KeepSet,
        now: i64,
    ) -> Result<Vec<NotInLatest>> {
        let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT q.id, q.organisation_id, q.number, o.name, o.credit_code, o.region_code \
             FROM qualifications q JOIN organisations o ON o.id = q.organisation_id \
             WHERE q.kind = $1 AND q.source = 'import' AND q.not_in_latest = 0 ORDER BY q.id",
        )
        .bind(kind.as_str())
        .fetch_all(&mut *self.tx)
        .await?;
        let mut marked = Vec::new();
        for (id, organisation_id, number, name, credit_code, region_code) in rows {
            let province = region_code.get(..2).unwrap_or_default();
            if !provinces.contains(province)
                || seen.contains(&number)
                || keep.numbers.contains(&number)
                || keep.credit_codes.contains(&credit_code)
            {
                continue;
            }
            sqlx::query(
                "UPDATE qualifications SET not_in_latest = 1, not_in_latest_since = $1, \
                 updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
            self.touched.insert(organisation_id);
            marked.push(NotInLatest {
                qualification_id: id,
                organisation_id,
                number,
                organisation_name: name,
            });
        }
        Ok(marked)
    }

    /// Writes the outbox rows of every organisation touched and commits.
    pub async fn commit(mut self, now: i64) -> Result<()> {
        let mut touched: Vec<i64> = self.touched.drain().collect();
        touched.sort_unstable();
        // Many rows per statement: a 100 000-row import would otherwise spend most of
        // its time on one INSERT per organisation.
        for chunk in touched.chunks(400) {
            let mut sql =
                String::from("INSERT INTO search_outbox (collection, doc_id, created_at) VALUES ");
            let values: Vec<String> = chunk
                .iter()
                .map(|id| format!("('{}', '{id}', {now})", collections::ORGANISATIONS))
                .collect();
            sql.push_str(&values.join(", "));
            sqlx::query(&sql).execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// Leaves the database as it was (a dry run).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn licence(valid_to: Option<Date>) -> Qualification {
        Qualification {
            id: 1,
            organisation_id: 1,
            kind: QualificationKind::HwLicence,
            number: "3101180001".into(),
            title: String::new(),
            issuer: String::new(),
            issued_on: None,
            valid_from: Some(date!(2024 - 01 - 01)),
            valid_to,
            modes: vec![HwMode::Collect],
            modes_text: String::new(),
            capacity_kg: Some(5_000_000),
            facility_address: String::new(),
            service_area: vec!["320509".into()],
            scope: String::new(),
            scope_items: None,
            eia: EiaRecord::default(),
            record_updated_on: None,
            note: String::new(),
            source: QualificationSource::Import,
            import_run_id: None,
            first_import_run_id: None,
            file_id: None,
            verification: Verification::Official,
            not_in_latest: false,
            not_in_latest_since: None,
            sample: false,
            created_at: 0,
            updated_at: 0,
            hw_categories: vec![HwCategoryItem {
                category: "HW08".into(),
                waste_codes: vec![],
                excluded_codes: vec![],
                capacity_kg: None,
            }],
        }
    }

    #[test]
    fn licence_watch_follows_the_clock() {
        let today = date!(2026 - 11 - 28);
        assert_eq!(licence(None).watch(today), LicenceWatch::Valid);
        assert_eq!(
            licence(Some(date!(2027 - 06 - 01))).watch(today),
            LicenceWatch::Valid
        );
        assert_eq!(
            licence(Some(date!(2027 - 02 - 26))).watch(today),
            LicenceWatch::ExpiringSoon { days_left: 90 }
        );
        assert_eq!(
            licence(Some(today)).watch(today),
            LicenceWatch::ExpiringSoon { days_left: 0 }
        );
        let expired = licence(Some(date!(2026 - 11 - 27))).watch(today);
        assert_eq!(expired, LicenceWatch::Expired { days_ago: 1 });
        assert!(!expired.is_valid());
        assert_eq!(
            licence(Some(date!(2030 - 01 - 01))).watch(date!(2023 - 01 - 01)),
            LicenceWatch::NotYetValid
        );
    }

    #[test]
    fn capacity_and_service_area_rules() {
        let q = licence(None);
        assert_eq!(q.capacity_for("HW08"), Some(5_000_000));
        assert!(q.may_serve("320509"));
        assert!(q.may_serve("320509101"));
        assert!(!q.may_serve("310118"));
        assert_eq!(format_tonnes(25_000_000), "25000");
        assert_eq!(format_tonnes(12_500), "12.5");
        assert_eq!(format_tonnes(1), "0.001");
    }

    #[test]
    fn the_fingerprint_follows_the_content() {
        let mut a = NewQualification::new(QualificationKind::Cma, "220912051910");
        let b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        a.valid_to = Some(date!(2030 - 01 - 01));
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
