//! Procurement notices (需求大厅): the notice types exactly as DESIGN.md names them,
//! the date-and-time forms notices write, the purchaser's region read from an
//! address, and the service-category rules (kept in `reference/notice_category_rules.csv`).

use std::fmt;
use std::str::FromStr;

use ::time::{Date, Month, PrimitiveDateTime, Time};
use serde::{Deserialize, Serialize};

use crate::reference::ReferenceDataError;
use crate::region::{RegionLevel, RegionTree};
use crate::service_category::ServiceCatalogue;
use crate::text::nfkc;

/// NFKC: full-width digits, letters, colons and brackets become ASCII (the parsers'
/// first step).
pub fn normalise(s: &str) -> String {
    nfkc(s)
}

/// The kind of a notice, as the data and the API spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeType {
    Tender,
    Consultation,
    Negotiation,
    Inquiry,
    SingleSource,
    Prequalification,
    Result,
    Correction,
    Termination,
    Contract,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的公告类型“{0}”")]
pub struct NoticeTypeError(pub String);

impl NoticeType {
    pub const ALL: [NoticeType; 11] = [
        NoticeType::Tender,
        NoticeType::Consultation,
        NoticeType::Negotiation,
        NoticeType::Inquiry,
        NoticeType::SingleSource,
        NoticeType::Prequalification,
        NoticeType::Result,
        NoticeType::Correction,
        NoticeType::Termination,
        NoticeType::Contract,
        NoticeType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeType::Tender => "招标公告",
            NoticeType::Consultation => "竞争性磋商公告",
            NoticeType::Negotiation => "竞争性谈判公告",
            NoticeType::Inquiry => "询价公告",
            NoticeType::SingleSource => "单一来源采购公示",
            NoticeType::Prequalification => "资格预审公告",
            NoticeType::Result => "中标(成交)结果公告",
            NoticeType::Correction => "更正公告",
            NoticeType::Termination => "终止公告",
            NoticeType::Contract => "合同公告",
            NoticeType::Other => "其他公告",
        }
    }

    /// Notices that announce a procurement (and so have a deadline and can be answered).
    pub fn is_announcement(self) -> bool {
        matches!(
            self,
            NoticeType::Tender
                | NoticeType::Consultation
                | NoticeType::Negotiation
                | NoticeType::Inquiry
                | NoticeType::SingleSource
                | NoticeType::Prequalification
        )
    }

    /// Notices that follow an announcement and belong to it (same project code and purchaser).
    pub fn follows_an_announcement(self) -> bool {
        matches!(
            self,
            NoticeType::Result
                | NoticeType::Correction
                | NoticeType::Termination
                | NoticeType::Contract
        )
    }

    /// The type a notice's title (or breadcrumb) names. Later stages win over the
    /// method (a 公开招标 project's 中标公告 is a result), so they are tested first.
    pub fn from_title(title: &str) -> NoticeType {
        let t = nfkc(title);
        let has = |w: &str| t.contains(w);
        if has("更正") || has("变更公告") || has("澄清") {
            NoticeType::Correction
        } else if has("终止") || has("废标") || has("流标") {
            NoticeType::Termination
        } else if has("中标") || has("成交") || has("结果公告") {
            NoticeType::Result
        } else if has("合同公告") {
            NoticeType::Contract
        } else if has("资格预审") {
            NoticeType::Prequalification
        } else if has("单一来源") {
            NoticeType::SingleSource
        } else if has("竞争性磋商") || has("磋商公告") {
            NoticeType::Consultation
        } else if has("竞争性谈判") || has("谈判公告") {
            NoticeType::Negotiation
        } else if has("询价") {
            NoticeType::Inquiry
        } else if has("招标公告") || has("公开招标") || has("邀请招标") {
            NoticeType::Tender
        } else {
            NoticeType::Other
        }
    }
}

impl FromStr for NoticeType {
    type Err = NoticeTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = nfkc(s.trim());
        NoticeType::ALL
            .into_iter()
            .find(|t| nfkc(t.as_str()) == s)
            .ok_or(NoticeTypeError(s))
    }
}

impl fmt::Display for NoticeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for NoticeType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for NoticeType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A date with an optional time of day (Beijing time), as notices give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoticeDateTime {
    pub date: Date,
    pub time: Option<Time>,
}

impl NoticeDateTime {
    /// `YYYY-MM-DD HH:MM`, or `YYYY-MM-DD` without a time.
    pub fn format(&self) -> String {
        let d = crate::time::format_date(self.date);
        match self.time {
            Some(t) => format!("{d} {:02}:{:02}", t.hour(), t.minute()),
            None => d,
        }
    }

    /// Unix seconds of the instant in Asia/Shanghai (the start of the day without a time).
    pub fn unix(&self) -> i64 {
        PrimitiveDateTime::new(self.date, self.time.unwrap_or(Time::MIDNIGHT))
            .assume_offset(crate::time::SHANGHAI)
            .unix_timestamp()
    }
}

/// Why a date text was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeDateError {
    #[error("找不到日期：“{0}”")]
    Missing(String),
    #[error("日期“{0}”不存在")]
    NoSuchDate(String),
}

/// Finds the first date (and the time right after it) in a text:
/// `2026年02月02日 09点30分`, `2026-03-04 09:30`, `2026年1月28日9时00分`,
/// `2026/3/12 9:30`, `2026.03.12`. A date that does not exist (2月30日) is an error.
pub fn find_datetime(text: &str) -> Result<NoticeDateTime, NoticeDateError> {
    let t: Vec<char> = nfkc(text).chars().collect();
    let mut i = 0;
    while i < t.len() {
        if let Some((dt, _)) = date_at(&t, i)? {
            return Ok(dt);
        }
        i += 1;
    }
    Err(NoticeDateError::Missing(text.into()))
}

/// Every date in a text, in order (for `2026年01月05日至2026年01月12日`).
pub fn find_datetimes(text: &str) -> Vec<NoticeDateTime> {
    let t: Vec<char> = nfkc(text).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        match date_at(&t, i) {
            Ok(Some((dt, end))) => {
                out.push(dt);
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

fn digits_at(t: &[char], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut j = i;
    while j < t.len() && j - i < max && t[j].is_ascii_digit() {
        j += 1;
    }
    if j - i < min || (j < t.len() && t[j].is_ascii_digit()) {
        return None;
    }
    let s: String = t[i..j].iter().collect();
    s.parse().ok().map(|n| (n, j))
}

fn skip_spaces(t: &[char], mut i: usize) -> usize {
    while i < t.len() && (t[i].is_whitespace() || t[i] == '\u{a0}') {
        i += 1;
    }
    i
}

/// A date starting exactly at `i`, with the index after it (and after its time).
fn date_at(t: &[char], i: usize) -> Result<Option<(NoticeDateTime, usize)>, NoticeDateError> {
    if i > 0 && t[i - 1].is_ascii_digit() {
        return Ok(None);
    }
    let Some((year, j)) = digits_at(t, i, 4, 4) else {
        return Ok(None);
    };
    if !(1990..=2100).contains(&year) || j >= t.len() {
        return Ok(None);
    }
    let sep = t[j];
    if !matches!(sep, '年' | '-' | '/' | '.') {
        return Ok(None);
    }
    let Some((month, k)) = digits_at(t, j + 1, 1, 2) else {
        return Ok(None);
    };
    let expected = if sep == '年' { '月' } else { sep };
    if k >= t.len() || t[k] != expected {
        return Ok(None);
    }
    let Some((day, mut end)) = digits_at(t, k + 1, 1, 2) else {
        return Ok(None);
    };
    if sep == '年' {
        if end < t.len() && (t[end] == '日' || t[end] == '号') {
            end += 1;
        } else {
            return Ok(None);
        }
    }
    let raw: String = t[i..end].iter().collect();
    let date = Month::try_from(month as u8)
        .ok()
        .and_then(|m| Date::from_calendar_date(year as i32, m, day as u8).ok())
        .ok_or_else(|| NoticeDateError::NoSuchDate(raw.clone()))?;
    // An optional time: `09:30`, `9时00分`, `09点30分`, `10点`.
    let h_start = skip_spaces(t, end);
    let mut time = None;
    if let Some((hour, h_end)) = digits_at(t, h_start, 1, 2)
        && h_end < t.len()
        && matches!(t[h_end], ':' | '时' | '点')
    {
        let (minute, m_end) = match digits_at(t, h_end + 1, 2, 2) {
            Some((m, e)) => (
                m,
                if e < t.len() && t[e] == '分' {
                    e + 1
                } else {
                    e
                },
            ),
            None if t[h_end] != ':' => (0, h_end + 1),
            None => (u32::MAX, h_end),
        };
        if minute != u32::MAX {
            let value = Time::from_hms(hour as u8, minute as u8, 0)
                .map_err(|_| NoticeDateError::NoSuchDate(t[i..m_end].iter().collect()))?;
            time = Some(value);
            end = m_end;
        }
    }
    Ok(Some((NoticeDateTime { date, time }, end)))
}

/// The district (6-digit code) an address lies in, and its town when the address names
/// one that the region tree knows: `上海市青浦区华新镇华腾路1526号` → (310118, 310118xxx).
/// Names are matched with and without the province/city written; the district whose
/// parent city (or province) the address also names wins, then the earliest mention.
pub fn region_of_address(tree: &RegionTree, address: &str) -> Option<(String, Option<String>)> {
    let text = nfkc(address);
    let mut best: Option<(i32, usize, &crate::region::Region)> = None;
    for region in tree.iter() {
        if region.level != RegionLevel::District || region.name.chars().count() < 2 {
            continue;
        }
        let Some(position) = text.find(region.name.as_str()) else {
            continue;
        };
        let ancestors = tree.ancestors(&region.code);
        let mut score = 0;
        for ancestor in &ancestors {
            if ancestor.code == region.code {
                continue;
            }
            if let Some(p) = text.find(ancestor.name.as_str())
                && p < position
            {
                score += 1;
            }
        }
        let better = match &best {
            None => true,
            Some((s, p, _)) => score > *s || (score == *s && position < *p),
        };
        if better {
            best = Some((score, position, region));
        }
    }
    let (score, position, district) = best?;
    // A bare district name that other provinces share (鼓楼区) needs its city or province.
    let ambiguous = tree
        .iter()
        .filter(|r| r.level == RegionLevel::District && r.name == district.name)
        .count()
        > 1;
    if ambiguous && score == 0 {
        return None;
    }
    let after = &text[position + district.name.len()..];
    let town = tree
        .children(&district.code)
        .into_iter()
        .filter(|t| t.level == RegionLevel::Town && after.starts_with(t.name.as_str()))
        .map(|t| t.code.as_str().to_string())
        .next();
    Some((district.code.as_str().to_string(), town))
}

/// One rule of `reference/notice_category_rules.csv`: a word in a notice's title or
/// text maps it to a service category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRule {
    pub word: String,
    pub category: String,
}

/// The ordered rules; the first that matches the title gives the main category,
/// the text is consulted only when no rule matches the title.
#[derive(Debug, Clone)]
pub struct CategoryRules {
    rules: Vec<CategoryRule>,
}

const RULES_FILE: &str = "notice_category_rules.csv";

impl CategoryRules {
    pub fn embedded() -> &'static CategoryRules {
        static RULES: std::sync::OnceLock<CategoryRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            CategoryRules::from_csv(
                include_str!("../../../reference/notice_category_rules.csv"),
                ServiceCatalogue::embedded(),
            )
            .expect("reference/notice_category_rules.csv is valid")
        })
    }

    /// `word,category_code` with a header; every code must be in the catalogue.
    pub fn from_csv(
        text: &str,
        catalogue: &ServiceCatalogue,
    ) -> Result<CategoryRules, ReferenceDataError> {
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate().skip(1) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let row = index + 1;
            let Some((word, code)) = line.split_once(',') else {
                return Err(ReferenceDataError::new(
                    RULES_FILE,
                    row,
                    "expected word,category_code",
                ));
            };
            let (word, code) = (nfkc(word.trim()).to_lowercase(), code.trim().to_string());
            if word.is_empty() || catalogue.get(&code).is_none() {
                return Err(ReferenceDataError::new(
                    RULES_FILE,
                    row,
                    format!("unknown category {code:?} or empty word"),
                ));
            }
            rules.push(CategoryRule {
                word,
                category: code,
            });
        }
        Ok(CategoryRules { rules })
    }

    /// The categories of a notice, main one first, without repeats.
    pub fn categorise(&self, title: &str, text: &str) -> Vec<String> {
        let title = nfkc(title).to_lowercase();
        let text = nfkc(text).to_lowercase();
        let mut out: Vec<String> = Vec::new();
        for haystack in [&title, &text] {
            for rule in &self.rules {
                if haystack.contains(&rule.word) && !out.contains(&rule.category) {
                    out.push(rule.category.clone());
                }
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }
}

/// The top-level family of a service category code (`MON-WATER` → `MON`).
pub fn category_family(code: &str) -> &str {
    code.split('-').next().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_titles_name_them() {
        for t in NoticeType::ALL {
            assert_eq!(t.as_str().parse::<NoticeType>(), Ok(t));
        }
        assert_eq!(
            "中标（成交）结果公告".parse::<NoticeType>(),
            Ok(NoticeType::Result)
        );
        let cases = [
            ("某项目公开招标公告", NoticeType::Tender),
            ("某项目中标公告", NoticeType::Result),
            ("某项目的中标(成交)结果公告", NoticeType::Result),
            ("某项目成交结果公告", NoticeType::Result),
            ("关于某项目的更正公告", NoticeType::Correction),
            ("某项目终止公告", NoticeType::Termination),
            ("某项目竞争性磋商公告", NoticeType::Consultation),
            ("某仪器采购项目询价公告", NoticeType::Inquiry),
            ("某项目单一来源采购公示", NoticeType::SingleSource),
            ("某通知", NoticeType::Other),
        ];
        for (title, expected) in cases {
            assert_eq!(NoticeType::from_title(title), expected, "{title}");
        }
    }

    #[test]
    fn the_date_forms_of_notices_are_read() {
        let f = |s: &str| find_datetime(s).unwrap().format();
        assert_eq!(f("2026年02月02日 09点30分（北京时间）"), "2026-02-02 09:30");
        assert_eq!(f("并于2026-03-04 09:30（北京时间）前"), "2026-03-04 09:30");
        assert_eq!(f("2026年1月28日9时00分"), "2026-01-28 09:00");
        assert_eq!(f("2026年3月12日9:30"), "2026-03-12 09:30");
        assert_eq!(f("２０２６年０１月０５日  09:30"), "2026-01-05 09:30");
        assert_eq!(f("2026年01月05日至2026年01月12日"), "2026-01-05");
        assert_eq!(find_datetimes("2026年01月05日至2026年01月12日").len(), 2);
        assert!(matches!(
            find_datetime("2026年02月30日"),
            Err(NoticeDateError::NoSuchDate(_))
        ));
        assert!(matches!(
            find_datetime("详见公告"),
            Err(NoticeDateError::Missing(_))
        ));
    }

    #[test]
    fn the_district_comes_from_the_address() {
        let tree = RegionTree::embedded();
        let (d, town) = region_of_address(tree, "上海市青浦区华新镇华腾路1526号").unwrap();
        assert_eq!(d, "310118");
        assert!(town.is_some());
        assert_eq!(
            region_of_address(tree, "江苏省苏州市昆山市前进西路1801号")
                .unwrap()
                .0,
            "320583"
        );
        assert_eq!(
            region_of_address(tree, "浙江省嘉兴市南湖区中山东路1182号")
                .unwrap()
                .0,
            "330402"
        );
        assert_eq!(
            region_of_address(tree, "常州市武进区某路1号").unwrap().0,
            "320412"
        );
        assert_eq!(region_of_address(tree, "某地某路1号"), None);
    }

    #[test]
    fn category_rules_come_from_data() {
        let rules = CategoryRules::embedded();
        assert_eq!(
            rules.categorise("某园区环保管家服务项目", "")[0],
            "CONS-STEWARD"
        );
        assert_eq!(
            category_family(&rules.categorise("某地块土壤污染状况调查", "")[0]),
            "SOIL"
        );
        assert!(rules.categorise("办公家具采购", "办公桌椅").is_empty());
    }
}
