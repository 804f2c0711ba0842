//! 标准政策: the vocabulary of laws, regulations, rules and standards.
//!
//! - [`Level`] (效力级别), [`Status`] (时效性) and [`Domain`] (领域) are closed sets whose
//!   strings are exactly those of the data (`regulations.jsonl`) and of the API.
//! - [`Status::at`] is the one rule for "status over time": a document whose effective
//!   date lies ahead is 尚未生效, and one that was 尚未生效 is 现行有效 from that date on,
//!   without anyone editing it.
//! - [`StandardNumber`] reads a standard number however it is typed (`GB3838`,
//!   `GB 3838-2002`, `gb3838—2002`, `HJ 819`, `DB31/T 1234-2020`) and says whether
//!   the standard is mandatory (GB, HJ, DBxx) or recommended (GB/T, HJ/T, DBxx/T).
//! - [`Scope`] is the territory a document binds: the whole country, one region, or
//!   the demonstration zone (示范区) — all of it, or one province's part of it.

use std::fmt;

use time::Date;

use crate::region::RegionTree;
use crate::text::nfkc;

/// Declares a closed set of Chinese labels: `as_str`, `parse`, `ALL`, `Display`,
/// serde as the label.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident, $err:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        #[doc = concat!("A text that is not a known ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("未知的{what}：{value}", what = $what, value = .0)]
        pub struct $err(pub String);

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label, exactly as in the data and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The label (full-width forms and surrounding spaces are forgiven).
            pub fn parse(input: &str) -> Result<$name, $err> {
                let text = nfkc(input);
                let text = text.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| $err(input.trim().to_string()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<$name, $err> {
                $name::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

label_enum!(
    /// 效力级别: the legal rank of a document.
    Level, LevelError, "效力级别", {
        Law => "法律",
        AdministrativeRegulation => "行政法规",
        DepartmentalRule => "部门规章",
        NormativeDocument => "规范性文件",
        LocalRegulation => "地方性法规",
        LocalGovernmentRule => "地方政府规章",
        NationalStandard => "国家标准",
        IndustryStandard => "行业标准",
        LocalStandard => "地方标准",
    }
);

impl Level {
    /// Standards carry a standard number and are mandatory or recommended.
    pub fn is_standard(self) -> bool {
        matches!(
            self,
            Level::NationalStandard | Level::IndustryStandard | Level::LocalStandard
        )
    }
}

label_enum!(
    /// 时效性: whether a document is in force.
    Status, StatusError, "时效性", {
        /// In force.
        InForce => "现行有效",
        /// In force as amended (the record describes an older text).
        Amended => "已修改",
        /// Repealed or replaced.
        Repealed => "已废止",
        /// Adopted, not yet in force.
        NotYetInForce => "尚未生效",
    }
);

impl Status {
    /// The status on `today` of a document recorded as `self` with the effective
    /// date `effective`:
    ///
    /// - 已废止 stays 已废止 (a repeal is recorded, not computed);
    /// - an effective date after `today` makes any other status 尚未生效;
    /// - 尚未生效 becomes 现行有效 once its effective date has come; without an
    ///   effective date it stays 尚未生效 (nobody knows when it starts);
    /// - 现行有效 and 已修改 otherwise stay as recorded.
    pub fn at(self, effective: Option<Date>, today: Date) -> Status {
        match (self, effective) {
            (Status::Repealed, _) => Status::Repealed,
            (_, Some(date)) if date > today => Status::NotYetInForce,
            (Status::NotYetInForce, Some(_)) => Status::InForce,
            (status, _) => status,
        }
    }

    /// A status shown (and searched by default): everything but 已废止.
    pub fn is_current(self) -> bool {
        self != Status::Repealed
    }
}

/// The status on `today` of a document recorded as `recorded` with `effective`, which
/// was replaced by a document that is in force (`replacement_in_force`): 已废止 from
/// the day the replacement takes effect.
pub fn status_with_replacement(
    recorded: Status,
    effective: Option<Date>,
    replacement_in_force: bool,
    today: Date,
) -> Status {
    if replacement_in_force {
        Status::Repealed
    } else {
        recorded.at(effective, today)
    }
}

label_enum!(
    /// 领域: what a document is about.
    Domain, DomainError, "领域", {
        General => "综合",
        Water => "水",
        Air => "气",
        Noise => "声",
        SolidWaste => "固废",
        Soil => "土壤",
        Procedures => "环保手续",
        Monitoring => "监测",
        Radiation => "辐射",
        Ecology => "生态",
    }
);

/// The region name that stands for the whole country.
pub const NATIONAL: &str = "全国";
/// The region name of the demonstration zone.
pub const ZONE: &str = "示范区";
/// The three districts of the demonstration zone (两区一县).
pub const ZONE_DISTRICTS: [&str; 3] = ["310118", "320509", "330421"];

/// The territory a document binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// 全国.
    National,
    /// A province, city or district, by its code.
    Region(String),
    /// 示范区: the whole zone (`None`), or only the part of it in one province
    /// (a zone document issued by that province's people's congress or government
    /// binds only its own part).
    Zone(Option<String>),
}

/// A region that is neither 全国, 示范区 nor a known region name or code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的适用地区：{0}")]
pub struct ScopeError(pub String);

/// The province codes of the zone's three provinces with their names as issuers
/// start (上海市人民代表大会常务委员会 …).
const ZONE_PROVINCES: [(&str, &str); 3] = [
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
];

impl Scope {
    /// Reads a region as the data writes it (`全国`, `示范区`, `上海市`) or as a region
    /// code (`310000`); the issuer decides a zone document's province.
    pub fn parse(region: &str, issuer: &str) -> Result<Scope, ScopeError> {
        let text = nfkc(region);
        let text = text.trim();
        if text == NATIONAL {
            return Ok(Scope::National);
        }
        if text == ZONE {
            let issuer = nfkc(issuer);
            let province = ZONE_PROVINCES
                .iter()
                .find(|(_, name)| issuer.trim_start().starts_with(name))
                .map(|(code, _)| code.to_string());
            return Ok(Scope::Zone(province));
        }
        let tree = RegionTree::embedded();
        if tree.get(text).is_some() {
            return Ok(Scope::Region(text.to_string()));
        }
        // A name: provinces first, then any unique region of that name.
        let by_name: Vec<_> = tree.iter().filter(|r| r.name == text).collect();
        let province = by_name.iter().find(|r| r.parent.is_none());
        match (province, by_name.as_slice()) {
            (Some(p), _) => Ok(Scope::Region(p.code.as_str().to_string())),
            (None, [only]) => Ok(Scope::Region(only.code.as_str().to_string())),
            _ => Err(ScopeError(region.trim().to_string())),
        }
    }

    /// The name shown on pages: 全国, 示范区 or the region's name.
    pub fn name(&self) -> String {
        match self {
            Scope::National => NATIONAL.to_string(),
            Scope::Zone(None) => ZONE.to_string(),
            Scope::Zone(Some(code)) => {
                let province = RegionTree::embedded()
                    .get(code)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                format!("{ZONE}（{province}部分）")
            }
            Scope::Region(code) => RegionTree::embedded()
                .get(code)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| code.clone()),
        }
    }

    /// The stable key kept in the database: `national`, `zone`, `zone:310000`, or
    /// the region code.
    pub fn key(&self) -> String {
        match self {
            Scope::National => "national".into(),
            Scope::Zone(None) => "zone".into(),
            Scope::Zone(Some(code)) => format!("zone:{code}"),
            Scope::Region(code) => code.clone(),
        }
    }

    /// Reads [`Scope::key`] back.
    pub fn from_key(key: &str) -> Option<Scope> {
        match key {
            "national" => Some(Scope::National),
            "zone" => Some(Scope::Zone(None)),
            _ => match key.strip_prefix("zone:") {
                Some(code) => Some(Scope::Zone(Some(code.to_string()))),
                None => RegionTree::embedded()
                    .get(key)
                    .map(|_| Scope::Region(key.to_string())),
            },
        }
    }

    /// The facet/filter value of the region field: 全国, 示范区 or the region name,
    /// as the data writes it.
    pub fn label(&self) -> String {
        match self {
            Scope::National => NATIONAL.to_string(),
            Scope::Zone(_) => ZONE.to_string(),
            Scope::Region(_) => self.name(),
        }
    }
}

/// The [`Scope::key`]s of the documents that apply at the region `code`: national
/// ones, those of `code` and every region above it, and — inside the zone — the
/// zone's own documents (those for the whole zone and those of its province's part).
/// `None` for an unknown code.
pub fn scopes_applying_at(code: &str) -> Option<Vec<String>> {
    let tree = RegionTree::embedded();
    tree.get(code)?;
    let mut keys = vec![Scope::National.key()];
    let ancestors = tree.ancestors(code);
    keys.extend(ancestors.iter().map(|r| r.code.as_str().to_string()));
    if ZONE_DISTRICTS.iter().any(|d| tree.is_within(code, d)) {
        keys.push(Scope::Zone(None).key());
        if let Some(province) = ancestors.first() {
            keys.push(Scope::Zone(Some(province.code.as_str().to_string())).key());
        }
    }
    Some(keys)
}

/// The family of a standard number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandardFamily {
    /// GB: national standard.
    Gb,
    /// HJ: environmental protection industry standard.
    Hj,
    /// DBxx: local standard of the province whose code starts with xx.
    Db,
}

/// A standard number, normalised: `GB 3838-2002`, `GB/T 31962-2015`, `HJ 819-2017`,
/// `DB31/199-2018`, `DB31/T 1234-2020`; the year may be missing (`HJ 819`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StandardNumber {
    family: StandardFamily,
    /// The two-digit province of a DB standard.
    province: Option<String>,
    recommended: bool,
    /// `3838`, `5085.7`, `2.1`.
    number: String,
    /// Four digits (`93` is read as `1993`).
    year: Option<u16>,
}

/// A text that is not a standard number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("无法识别的标准编号：{0}")]
pub struct StandardNumberError(pub String);

/// Dashes people type between number and year: ASCII, the Chinese em dash, en dash,
/// figure dash, horizontal bar, minus sign and full-width hyphen (after NFKC).
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '—' | '–' | '‒' | '―' | '−' | '‐' | '‑' | '－')
}

impl StandardNumber {
    /// Reads a standard number however it is typed: any case, with or without spaces,
    /// full-width characters, any dash before the year, `GB/T` or `GBT`.
    pub fn parse(input: &str) -> Result<StandardNumber, StandardNumberError> {
        let fail = || StandardNumberError(input.trim().to_string());
        let text: String = nfkc(input)
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| {
                if is_dash(c) {
                    '-'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        let (family, rest) = if let Some(rest) = text.strip_prefix("GB") {
            (StandardFamily::Gb, rest)
        } else if let Some(rest) = text.strip_prefix("HJ") {
            (StandardFamily::Hj, rest)
        } else if let Some(rest) = text.strip_prefix("DB") {
            (StandardFamily::Db, rest)
        } else {
            return Err(fail());
        };
        let (province, rest) = if family == StandardFamily::Db {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() != 2 {
                return Err(fail());
            }
            let rest = &rest[2..];
            // DB31/199 (mandatory) or DB31/T 1234 (recommended): the slash belongs here.
            (Some(digits), rest.strip_prefix('/').unwrap_or(rest))
        } else {
            (None, rest)
        };
        let (recommended, rest) = if let Some(r) = rest.strip_prefix("/T") {
            (true, r)
        } else if province.is_some() {
            match rest.strip_prefix('T') {
                Some(r) => (true, r),
                None => (false, rest),
            }
        } else if let Some(r) = rest.strip_prefix('T') {
            // GBT3838, HJT91
            (true, r)
        } else {
            (false, rest)
        };
        let (number, year) = match rest.split_once('-') {
            Some((n, y)) => (n, Some(y)),
            None => (rest, None),
        };
        let number_ok = !number.is_empty()
            && number.starts_with(|c: char| c.is_ascii_digit())
            && number.ends_with(|c: char| c.is_ascii_digit())
            && number.chars().all(|c| c.is_ascii_digit() || c == '.')
            && !number.contains("..");
        if !number_ok {
            return Err(fail());
        }
        let year = match year {
            None => None,
            Some(y) if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()) => {
                Some(y.parse::<u16>().map_err(|_| fail())?)
            }
            Some(y) if y.len() == 2 && y.chars().all(|c| c.is_ascii_digit()) => {
                let two: u16 = y.parse().map_err(|_| fail())?;
                Some(1900 + two)
            }
            Some(_) => return Err(fail()),
        };
        Ok(StandardNumber {
            family,
            province,
            recommended,
            number: number.to_string(),
            year,
        })
    }

    pub fn family(&self) -> StandardFamily {
        self.family
    }

    /// 强制性 (GB, HJ, DBxx) rather than 推荐性 (…/T).
    pub fn is_mandatory(&self) -> bool {
        !self.recommended
    }

    pub fn year(&self) -> Option<u16> {
        self.year
    }

    /// `GB`, `GB/T`, `HJ`, `DB31`, `DB31/T`.
    fn prefix(&self, with_t: bool) -> String {
        let base = match self.family {
            StandardFamily::Gb => "GB".to_string(),
            StandardFamily::Hj => "HJ".to_string(),
            StandardFamily::Db => format!("DB{}", self.province.as_deref().unwrap_or("")),
        };
        if with_t && self.recommended {
            format!("{base}/T")
        } else {
            base
        }
    }

    /// The keys a search matches this number by: with and without year, and for a
    /// recommended standard also without `/T` (someone typing `GB 31962` means
    /// GB/T 31962 when there is no GB 31962). Upper case, no spaces.
    pub fn match_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let variants: &[bool] = if self.recommended {
            &[true, false]
        } else {
            &[false]
        };
        for &with_t in variants {
            let base = format!("{}{}", self.prefix(with_t), self.number);
            if let Some(year) = self.year {
                keys.push(format!("{base}-{year}"));
            }
            keys.push(base);
        }
        keys
    }

    /// The one key a typed number is looked up by: as precise as it was typed.
    pub fn query_key(&self) -> String {
        let base = format!("{}{}", self.prefix(true), self.number);
        match self.year {
            Some(year) => format!("{base}-{year}"),
            None => base,
        }
    }
}

impl fmt::Display for StandardNumber {
    /// `GB 3838-2002`, `GB/T 31962-2015`, `DB31/199-2018`, `DB31/T 1234-2020`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.prefix(true);
        // Local standards are written without a space after the slash: DB31/199.
        let sep = if self.family == StandardFamily::Db && !self.recommended {
            "/"
        } else {
            " "
        };
        write!(f, "{prefix}{sep}{}", self.number)?;
        if let Some(year) = self.year {
            write!(f, "-{year}")?;
        }
        Ok(())
    }
}

/// A date as the number the search index keeps (the Julian day number).
pub fn day_number(date: Date) -> i64 {
    i64::from(date.to_julian_day())
}

/// A document number made comparable, and for standards whether it is mandatory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberKey {
    /// The number written out the normal way (`GB 3838-2002`), `None` without one.
    pub display: Option<String>,
    /// One document per key: standards by their normalised number, others by their
    /// number without spaces (NFKC).
    pub key: Option<String>,
    /// Standards only.
    pub mandatory: Option<bool>,
    /// Standards only: what a search matches the number by.
    pub match_keys: Vec<String>,
}

/// Why a document's number does not fit its level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("标准须填写标准编号")]
    MissingStandardNumber,
    #[error(transparent)]
    BadStandardNumber(#[from] StandardNumberError),
}

/// Reads the number of a document of `level`: a standard must have a standard number
/// (and is mandatory or recommended by it); other documents may have any number or
/// none.
pub fn number_key(level: Level, doc_number: Option<&str>) -> Result<NumberKey, NumberError> {
    let number = doc_number.map(str::trim).filter(|n| !n.is_empty());
    if level.is_standard() {
        let number = number.ok_or(NumberError::MissingStandardNumber)?;
        let parsed = StandardNumber::parse(number)?;
        return Ok(NumberKey {
            display: Some(parsed.to_string()),
            key: Some(parsed.to_string()),
            mandatory: Some(parsed.is_mandatory()),
            match_keys: parsed.match_keys(),
        });
    }
    // A standard number given to another level (a 修改单 filed as 规范性文件, a typo in
    // the level) still names that standard: one key for both.
    let key = number.map(|n| match StandardNumber::parse(n) {
        Ok(standard) => standard.to_string(),
        Err(_) => nfkc(n).chars().filter(|c| !c.is_whitespace()).collect(),
    });
    Ok(NumberKey {
        display: number.map(|n| nfkc(n).trim().to_string()),
        key,
        mandatory: None,
        match_keys: Vec::new(),
    })
}

/// Standard numbers found in a query: each whitespace- or comma-separated piece (and
/// a piece joined with the next when the first is a bare prefix, `GB 3838-2002`) that
/// reads as a standard number, with the rest of the query.
pub fn standard_numbers_in(q: &str) -> (Vec<StandardNumber>, String) {
    let normal = nfkc(q);
    let pieces: Vec<&str> = normal
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        .filter(|p| !p.is_empty())
        .collect();
    let mut found = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if i + 1 < pieces.len()
            && let Ok(n) = StandardNumber::parse(&format!("{}{}", pieces[i], pieces[i + 1]))
            && StandardNumber::parse(pieces[i]).is_err()
        {
            found.push(n);
            i += 2;
            continue;
        }
        match StandardNumber::parse(pieces[i]) {
            Ok(n) => found.push(n),
            Err(_) => rest.push(pieces[i]),
        }
        i += 1;
    }
    (found, rest.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn std(s: &str) -> StandardNumber {
        StandardNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn levels_statuses_and_domains_are_the_exact_strings_of_the_data() {
        let levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(
            levels,
            [
                "法律",
                "行政法规",
                "部门规章",
                "规范性文件",
                "地方性法规",
                "地方政府规章",
                "国家标准",
                "行业标准",
                "地方标准"
            ]
        );
        assert_eq!(Level::parse(" 行业标准 "), Ok(Level::IndustryStandard));
        assert!(Level::parse("司法解释").is_err());
        assert_eq!(Status::parse("尚未生效"), Ok(Status::NotYetInForce));
        assert!(Status::parse("失效").is_err());
        assert_eq!(Domain::ALL.len(), 10);
        assert_eq!(Domain::parse("固废"), Ok(Domain::SolidWaste));
        assert_eq!(
            serde_json::to_value(Level::LocalStandard).unwrap(),
            "地方标准"
        );
        assert_eq!(
            serde_json::from_str::<Status>("\"已废止\"").unwrap(),
            Status::Repealed
        );
    }

    #[test]
    fn a_document_not_yet_in_force_comes_into_force_on_its_effective_date() {
        let effective = Some(date!(2026 - 12 - 01));
        let before = date!(2026 - 11 - 30);
        let on = date!(2026 - 12 - 01);
        assert_eq!(
            Status::NotYetInForce.at(effective, before),
            Status::NotYetInForce
        );
        assert_eq!(Status::NotYetInForce.at(effective, on), Status::InForce);
        // Recorded as in force but starting later: not yet.
        assert_eq!(Status::InForce.at(effective, before), Status::NotYetInForce);
        assert_eq!(Status::InForce.at(effective, on), Status::InForce);
        assert_eq!(Status::Amended.at(effective, on), Status::Amended);
        // A repeal is never undone by dates; no date keeps 尚未生效.
        assert_eq!(Status::Repealed.at(effective, before), Status::Repealed);
        assert_eq!(Status::NotYetInForce.at(None, on), Status::NotYetInForce);
        assert_eq!(Status::InForce.at(None, on), Status::InForce);
        assert_eq!(
            status_with_replacement(Status::InForce, None, true, on),
            Status::Repealed
        );
    }

    #[test]
    fn standard_numbers_match_however_they_are_typed() {
        let canonical = std("GB 3838-2002");
        assert_eq!(canonical.to_string(), "GB 3838-2002");
        for typed in [
            "GB3838-2002",
            "gb3838—2002",
            "ＧＢ３８３８－２００２",
            "GB 3838 - 2002",
        ] {
            assert_eq!(std(typed), canonical, "{typed}");
        }
        assert_eq!(std("GB3838").query_key(), "GB3838");
        assert!(canonical.match_keys().contains(&std("GB3838").query_key()));
        assert!(
            canonical
                .match_keys()
                .contains(&std("gb3838—2002").query_key())
        );
        assert!(
            std("HJ 819-2017")
                .match_keys()
                .contains(&std("HJ 819").query_key())
        );
        assert_eq!(std("GB 14554-93").year(), Some(1993));
        assert_eq!(std("GB 5085.7-2019").to_string(), "GB 5085.7-2019");
        assert_eq!(std("hj2.1-2016").to_string(), "HJ 2.1-2016");
    }

    #[test]
    fn t_marks_a_recommended_standard_for_gb_hj_and_local_standards() {
        assert!(std("GB 3838-2002").is_mandatory());
        assert!(!std("GB/T 31962-2015").is_mandatory());
        assert!(!std("GBT31962").is_mandatory());
        assert!(std("HJ 819-2017").is_mandatory());
        assert!(!std("HJ/T 91-2002").is_mandatory());
        assert!(std("DB31/199-2018").is_mandatory());
        assert!(std("DB32/4041-2021").is_mandatory());
        assert!(!std("DB33/T 310005-2021").is_mandatory());
        assert!(!std("db31/t1234—2020").is_mandatory());
        assert_eq!(std("DB31/199-2018").to_string(), "DB31/199-2018");
        assert_eq!(std("db31/t1234—2020").to_string(), "DB31/T 1234-2020");
        assert_eq!(std("GB/T 31962-2015").to_string(), "GB/T 31962-2015");
        // Someone typing GB 31962 finds GB/T 31962.
        assert!(
            std("GB/T 31962-2015")
                .match_keys()
                .contains(&std("GB 31962").query_key())
        );
        // …but GB/T 3838 does not find the mandatory GB 3838.
        assert!(
            !std("GB 3838-2002")
                .match_keys()
                .contains(&std("GB/T 3838").query_key())
        );
    }

    #[test]
    fn other_text_is_no_standard_number() {
        for text in [
            "",
            "GB",
            "3838",
            "国环规环评〔2017〕4号",
            "DB3/199",
            "HJ abc",
            "GB 3838-2002-1",
        ] {
            assert!(StandardNumber::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn numbers_are_found_inside_a_query() {
        let (found, rest) = standard_numbers_in("GB 3838-2002 地表水");
        assert_eq!(found, vec![std("GB 3838-2002")]);
        assert_eq!(rest, "地表水");
        let (found, rest) = standard_numbers_in("锅炉 大气污染物排放标准");
        assert!(found.is_empty());
        assert_eq!(rest, "锅炉 大气污染物排放标准");
        let (found, _) = standard_numbers_in("HJ 819");
        assert_eq!(found, vec![std("HJ 819")]);
    }

    #[test]
    fn scopes_follow_the_data_and_the_zone_rule() {
        assert_eq!(Scope::parse("全国", "国务院"), Ok(Scope::National));
        assert_eq!(
            Scope::parse("上海市", "上海市人民代表大会常务委员会"),
            Ok(Scope::Region("310000".into()))
        );
        assert_eq!(
            Scope::parse("示范区", "上海市人民代表大会常务委员会"),
            Ok(Scope::Zone(Some("310000".into())))
        );
        assert_eq!(
            Scope::parse("示范区", "国家发展和改革委员会"),
            Ok(Scope::Zone(None))
        );
        assert!(Scope::parse("火星", "x").is_err());
        for scope in [
            Scope::National,
            Scope::Zone(None),
            Scope::Zone(Some("310000".into())),
            Scope::Region("330000".into()),
        ] {
            assert_eq!(Scope::from_key(&scope.key()), Some(scope));
        }
    }

    #[test]
    fn a_region_in_the_zone_gets_national_provincial_and_zone_documents() {
        let qingpu = scopes_applying_at("310118").unwrap();
        for key in ["national", "310000", "310118", "zone", "zone:310000"] {
            assert!(qingpu.contains(&key.to_string()), "{key}");
        }
        assert!(!qingpu.contains(&"zone:330000".to_string()));
        assert!(!qingpu.contains(&"330000".to_string()));
        let songjiang = scopes_applying_at("310117").unwrap();
        assert!(songjiang.contains(&"310000".to_string()));
        assert!(!songjiang.iter().any(|k| k.starts_with("zone")));
        assert!(scopes_applying_at("999999").is_none());
    }
}
