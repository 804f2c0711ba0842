//! Hazardous waste: the HW categories and 8-digit waste codes of
//! 国家危险废物名录, and the everyday names people search for.
//!
//! The embedded tables are the **2021 edition** (data README §2 and §6); the
//! 2025 edition is in force but its table was not available. The catalogue is
//! therefore a search aid: a [`WasteCode`] is checked for its format and a
//! known category, not for being a row of the 2021 table, so codes of the 2025
//! edition (e.g. the new tin-smelting wastes) and the `900-000-××` rule still
//! parse.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

use crate::reference::{ReferenceDataError, read_rows};
use crate::text::{code_form, fold, nfkc};

const CATEGORIES_CSV: &str = include_str!("../../../reference/hw_categories.csv");
const WASTE_CODES_CSV: &str = include_str!("../../../reference/hw_waste_codes.csv");
const ALIASES_CSV: &str = include_str!("../../../reference/waste_aliases.csv");

/// An HW category of the 名录 (`HW01` … `HW40`, `HW45` … `HW50`).
///
/// Parsing checks that the category exists, because HW41–HW44 are absent
/// from the 名录 and an unknown category on a licence is an error to report,
/// not a value to store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HwCategory(String);

/// Why a text is not an HW category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HwCategoryError {
    #[error("危险废物类别应为“HW”加两位数字，如HW08")]
    Format,
    #[error("《国家危险废物名录》中没有类别{0}")]
    Unknown(String),
}

impl HwCategory {
    /// Parses `HW08`, also in lower case or full-width (`ｈｗ０８`).
    /// `HW8` is refused: the 名录 always writes two digits.
    pub fn parse(input: &str) -> Result<Self, HwCategoryError> {
        let category = Self::parse_format(input)?;
        if HwCatalogue::embedded().category(&category).is_some() {
            Ok(category)
        } else {
            Err(HwCategoryError::Unknown(category.0))
        }
    }

    /// The category number, e.g. 8 for `HW08`.
    pub fn number(&self) -> u8 {
        self.0[2..].parse().expect("two digits by construction")
    }

    /// The format check alone; used while loading the catalogue, which is what
    /// [`HwCategory::parse`] checks existence against.
    fn parse_format(input: &str) -> Result<Self, HwCategoryError> {
        let code = code_form(input);
        match code.as_bytes() {
            [b'H', b'W', a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok(Self(code)),
            _ => Err(HwCategoryError::Format),
        }
    }
}

string_newtype!(HwCategory, HwCategoryError);

/// An 8-digit waste code of the 名录, written `NNN-NNN-NN`: the industry
/// (GB/T 4754-2017), a sequence number and the category number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WasteCode(String);

/// Why a text is not a waste code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WasteCodeError {
    #[error("废物代码应为“三位-三位-两位”数字，如900-214-08")]
    Format,
    #[error("废物代码末两位对应的类别{0}不在《国家危险废物名录》中")]
    UnknownCategory(String),
}

impl WasteCode {
    /// Parses `900-214-08`; full-width digits and dashes typed as `－`, `–`
    /// or `—` are accepted, a code without dashes is not (it is ambiguous to
    /// read back).
    pub fn parse(input: &str) -> Result<Self, WasteCodeError> {
        let code = Self::parse_format(input)?;
        let category = code.category();
        if HwCatalogue::embedded().category(&category).is_some() {
            Ok(code)
        } else {
            Err(WasteCodeError::UnknownCategory(category.0))
        }
    }

    /// The category, `HW` + the last two digits.
    pub fn category(&self) -> HwCategory {
        HwCategory(format!("HW{}", &self.0[8..]))
    }

    fn parse_format(input: &str) -> Result<Self, WasteCodeError> {
        let code: String = nfkc(input)
            .trim()
            .chars()
            .map(|c| match c {
                '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                c => c,
            })
            .collect();
        let digit_groups: Vec<&str> = code.split('-').collect();
        let well_formed = matches!(
            digit_groups.as_slice(),
            [a, b, c] if a.len() == 3 && b.len() == 3 && c.len() == 2
        ) && digit_groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if well_formed {
            Ok(Self(code))
        } else {
            Err(WasteCodeError::Format)
        }
    }
}

string_newtype!(WasteCode, WasteCodeError);

/// A row of hw_categories.csv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HwCategoryEntry {
    pub code: HwCategory,
    /// The name as printed in the 名录, e.g. `废矿物油与含矿物油废物`.
    pub name: String,
}

/// A row of hw_waste_codes.csv. Texts are kept exactly as printed in the 名录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WasteCodeEntry {
    pub code: WasteCode,
    pub category: HwCategory,
    /// 行业来源, e.g. `非特定行业`.
    pub industry: String,
    /// 危险废物: the official name of the waste. Never shorten it in the UI.
    pub description: String,
    /// 危险特性 as printed, e.g. `T`, `T，I`, `T/C/I/R` (see data README §6).
    pub hazard: String,
}

/// What an everyday waste name points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AliasTarget {
    /// One code is the usual answer.
    Code(WasteCode),
    /// The code depends on the industry or process.
    Category(HwCategory),
}

impl fmt::Display for AliasTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => code.fmt(f),
            Self::Category(category) => category.fmt(f),
        }
    }
}

impl Serialize for AliasTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A row of waste_aliases.csv: a search hint, not a classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WasteAlias {
    /// The name as people say it, e.g. `废机油`.
    pub alias: String,
    pub target: AliasTarget,
    /// When the mapping applies and where the neighbouring codes are.
    pub note: String,
}

/// The embedded HW categories, waste codes and aliases.
#[derive(Debug)]
pub struct HwCatalogue {
    categories: Vec<HwCategoryEntry>,
    waste_codes: Vec<WasteCodeEntry>,
    aliases: Vec<WasteAlias>,
    category_index: HashMap<String, usize>,
    code_index: HashMap<String, usize>,
    /// Per waste code: its searchable texts, folded (NFKC, lower case), so a
    /// query typed with ASCII brackets finds `多氯（溴）联苯类废物`.
    haystacks: Vec<String>,
    /// Per alias: the folded alias.
    folded_aliases: Vec<String>,
}

impl HwCatalogue {
    /// The catalogue embedded from `reference/`, parsed on first use.
    ///
    /// # Panics
    /// If an embedded file is malformed: a build defect, caught by this
    /// module's tests.
    pub fn embedded() -> &'static HwCatalogue {
        static CATALOGUE: OnceLock<HwCatalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Self::from_csv(CATEGORIES_CSV, WASTE_CODES_CSV, ALIASES_CSV)
                .unwrap_or_else(|e| panic!("embedded hazardous-waste catalogue: {e}"))
        })
    }

    /// Builds the catalogue from the texts of hw_categories.csv,
    /// hw_waste_codes.csv and waste_aliases.csv, checking that every
    /// reference between them resolves.
    ///
    /// Parses formats only (not [`HwCategory::parse`]), since that looks the
    /// category up in the embedded catalogue being built.
    pub fn from_csv(
        categories: &str,
        waste_codes: &str,
        aliases: &str,
    ) -> Result<Self, ReferenceDataError> {
        let mut catalogue = HwCatalogue {
            categories: Vec::new(),
            waste_codes: Vec::new(),
            aliases: Vec::new(),
            category_index: HashMap::new(),
            code_index: HashMap::new(),
            haystacks: Vec::new(),
            folded_aliases: Vec::new(),
        };

        const CATEGORIES: &str = "hw_categories.csv";
        for row in read_rows(CATEGORIES, categories, &["code", "name"])? {
            let error = |reason: String| ReferenceDataError::new(CATEGORIES, row.number, reason);
            let code = HwCategory::parse_format(row.get(0))
                .map_err(|_| error(format!("bad category {:?}", row.get(0))))?;
            let index = catalogue.categories.len();
            if catalogue
                .category_index
                .insert(code.0.clone(), index)
                .is_some()
            {
                return Err(error(format!("duplicate category {code}")));
            }
            catalogue.categories.push(HwCategoryEntry {
                code,
                name: row.get(1).to_owned(),
            });
        }

        const CODES: &str = "hw_waste_codes.csv";
        let header = ["code", "category", "industry", "description", "hazard"];
        for row in read_rows(CODES, waste_codes, &header)? {
            let error = |reason: String| ReferenceDataError::new(CODES, row.number, reason);
            let code = WasteCode::parse_format(row.get(0))
                .map_err(|_| error(format!("bad waste code {:?}", row.get(0))))?;
            let category = code.category();
            if row.get(1) != category.as_str() {
                return Err(error(format!("category {} does not match", row.get(1))));
            }
            let Some(&category_index) = catalogue.category_index.get(category.as_str()) else {
                return Err(error(format!("unknown category {category}")));
            };
            let entry = WasteCodeEntry {
                code,
                category,
                industry: row.get(2).to_owned(),
                description: row.get(3).to_owned(),
                hazard: row.get(4).to_owned(),
            };
            let category_entry = &catalogue.categories[category_index];
            let haystack = [
                entry.code.as_str(),
                &entry.description,
                &entry.industry,
                category_entry.code.as_str(),
                &category_entry.name,
            ]
            .map(fold)
            // A separator no query contains, so a match cannot span two fields.
            .join("\n");
            let index = catalogue.waste_codes.len();
            if catalogue
                .code_index
                .insert(entry.code.0.clone(), index)
                .is_some()
            {
                return Err(error(format!("duplicate waste code {}", entry.code)));
            }
            catalogue.waste_codes.push(entry);
            catalogue.haystacks.push(haystack);
        }

        const ALIASES: &str = "waste_aliases.csv";
        for row in read_rows(ALIASES, aliases, &["alias", "code_or_category", "note"])? {
            let error = |reason: String| ReferenceDataError::new(ALIASES, row.number, reason);
            let raw_target = row.get(1);
            let target = if let Ok(code) = WasteCode::parse_format(raw_target) {
                if !catalogue.code_index.contains_key(code.as_str()) {
                    return Err(error(format!("unknown waste code {code}")));
                }
                AliasTarget::Code(code)
            } else if let Ok(category) = HwCategory::parse_format(raw_target) {
                if !catalogue.category_index.contains_key(category.as_str()) {
                    return Err(error(format!("unknown category {category}")));
                }
                AliasTarget::Category(category)
            } else {
                return Err(error(format!("bad target {raw_target:?}")));
            };
            let alias = row.get(0).to_owned();
            catalogue.folded_aliases.push(fold(&alias));
            catalogue.aliases.push(WasteAlias {
                alias,
                target,
                note: row.get(2).to_owned(),
            });
        }
        Ok(catalogue)
    }

    /// The categories in the order of the 名录.
    pub fn categories(&self) -> &[HwCategoryEntry] {
        &self.categories
    }

    /// The category `code` (`HW08`, `hw08`, `ＨＷ０８`).
    pub fn category(&self, code: impl AsRef<str>) -> Option<&HwCategoryEntry> {
        let index = self.category_index.get(&code_form(code.as_ref()))?;
        Some(&self.categories[*index])
    }

    /// Every waste code, in the order of the 名录's table.
    pub fn waste_codes(&self) -> &[WasteCodeEntry] {
        &self.waste_codes
    }

    /// The waste code `code` (`900-214-08`, also full-width).
    pub fn waste_code(&self, code: impl AsRef<str>) -> Option<&WasteCodeEntry> {
        let code = WasteCode::parse_format(code.as_ref()).ok()?;
        let index = self.code_index.get(code.as_str())?;
        Some(&self.waste_codes[*index])
    }

    /// The waste codes of a category, in catalogue order.
    pub fn codes_in(&self, category: impl AsRef<str>) -> Vec<&WasteCodeEntry> {
        let category = code_form(category.as_ref());
        self.waste_codes
            .iter()
            .filter(|e| e.category.as_str() == category)
            .collect()
    }

    /// The everyday names, in file order.
    pub fn aliases(&self) -> &[WasteAlias] {
        &self.aliases
    }

    /// Waste codes matching `query`, deduplicated, in catalogue order.
    ///
    /// The query (NFKC, trimmed, lower case) is looked for as a substring of
    /// each code, its description, industry, category code and category name,
    /// and of every alias: an alias hit yields its code, or every code of its
    /// category. A blank query matches nothing. The result is a list of
    /// candidates for the enterprise to choose from, never a classification.
    pub fn search(&self, query: &str) -> Vec<&WasteCodeEntry> {
        let query = fold(query);
        if query.is_empty() {
            return Vec::new();
        }
        let mut hit: Vec<bool> = self
            .haystacks
            .iter()
            .map(|text| text.contains(&query))
            .collect();
        for (alias, folded) in self.aliases.iter().zip(&self.folded_aliases) {
            if !folded.contains(&query) {
                continue;
            }
            match &alias.target {
                AliasTarget::Code(code) => hit[self.code_index[code.as_str()]] = true,
                AliasTarget::Category(category) => {
                    for (flag, entry) in hit.iter_mut().zip(&self.waste_codes) {
                        *flag |= entry.category == *category;
                    }
                }
            }
        }
        self.waste_codes
            .iter()
            .zip(hit)
            .filter_map(|(entry, hit)| hit.then_some(entry))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static HwCatalogue {
        HwCatalogue::embedded()
    }

    fn codes(entries: &[&WasteCodeEntry]) -> Vec<String> {
        entries.iter().map(|e| e.code.to_string()).collect()
    }

    #[test]
    fn the_embedded_files_load_with_every_row() {
        assert_eq!(catalogue().categories().len(), 46);
        assert_eq!(catalogue().waste_codes().len(), 467);
        assert_eq!(catalogue().aliases().len(), 116);
        let to_category = catalogue()
            .aliases()
            .iter()
            .filter(|a| matches!(a.target, AliasTarget::Category(_)))
            .count();
        assert_eq!(to_category, 27);
    }

    #[test]
    fn categories_parse_in_any_case_and_width() {
        for input in ["HW08", "hw08", " ＨＷ０８ "] {
            assert_eq!(HwCategory::parse(input).unwrap().as_str(), "HW08");
        }
        assert_eq!(HwCategory::parse("HW08").unwrap().number(), 8);
    }

    #[test]
    fn malformed_categories_are_refused() {
        for input in ["HW8", "HW008", "08", "HX08", ""] {
            assert_eq!(
                HwCategory::parse(input),
                Err(HwCategoryError::Format),
                "{input}"
            );
        }
    }

    #[test]
    fn categories_absent_from_the_catalogue_are_refused() {
        for absent in ["HW41", "HW44", "HW99", "HW00"] {
            assert!(matches!(
                HwCategory::parse(absent),
                Err(HwCategoryError::Unknown(_))
            ));
        }
        assert_eq!(
            HwCategoryError::Unknown("HW99".into()).to_string(),
            "《国家危险废物名录》中没有类别HW99"
        );
    }

    #[test]
    fn waste_codes_parse_and_know_their_category() {
        let code = WasteCode::parse(" ９００－２１４－０８ ").unwrap();
        assert_eq!(code.as_str(), "900-214-08");
        assert_eq!(code.category().as_str(), "HW08");
        assert_eq!(
            WasteCode::parse("900–039–49").unwrap().as_str(),
            "900-039-49"
        );
    }

    #[test]
    fn waste_codes_outside_the_2021_table_still_parse() {
        // 900-000-×× is the 2025 rule for wastes found hazardous by 鉴别.
        assert!(WasteCode::parse("900-000-49").is_ok());
        assert!(catalogue().waste_code("900-000-49").is_none());
    }

    #[test]
    fn malformed_waste_codes_are_refused() {
        for input in [
            "90021408",
            "900-214-8",
            "900-2140-8",
            "a00-214-08",
            "900-214-08-1",
        ] {
            assert_eq!(
                WasteCode::parse(input),
                Err(WasteCodeError::Format),
                "{input}"
            );
        }
        assert_eq!(
            WasteCode::parse("900-999-99"),
            Err(WasteCodeError::UnknownCategory("HW99".into()))
        );
    }

    #[test]
    fn lookups_normalise_their_argument() {
        assert_eq!(
            catalogue().category("hw08").unwrap().name,
            "废矿物油与含矿物油废物"
        );
        let entry = catalogue().waste_code("900-214-08").unwrap();
        assert_eq!(entry.category.as_str(), "HW08");
        assert!(entry.description.contains("废发动机油"));
        assert!(catalogue().category("HW41").is_none());
    }

    #[test]
    fn codes_in_lists_a_category_in_catalogue_order() {
        let hw01 = catalogue().codes_in("HW01");
        assert_eq!(
            codes(&hw01)[..3],
            ["841-001-01", "841-002-01", "841-003-01"]
        );
        assert!(catalogue().codes_in("HW41").is_empty());
    }

    #[test]
    fn every_category_has_at_least_one_code() {
        for category in catalogue().categories() {
            assert!(
                !catalogue().codes_in(&category.code).is_empty(),
                "{}",
                category.code
            );
        }
    }

    #[test]
    fn search_finds_codes_by_code_fragment() {
        let found = catalogue().search("900-214");
        assert_eq!(codes(&found), ["900-214-08"]);
    }

    #[test]
    fn search_finds_an_alias_pointing_at_one_code() {
        let found = catalogue().search("废活性炭");
        assert!(codes(&found).contains(&"900-039-49".to_string()));
    }

    #[test]
    fn search_expands_an_alias_pointing_at_a_category() {
        let found = catalogue().search("废润滑油");
        let hw08 = catalogue().codes_in("HW08");
        assert!(hw08.iter().all(|e| found.contains(e)));
    }

    #[test]
    fn search_matches_category_names_with_ascii_brackets() {
        let found = catalogue().search("多氯(溴)联苯");
        assert!(!found.is_empty());
        assert!(found.iter().all(|e| e.category.as_str() == "HW10"));
    }

    #[test]
    fn search_results_are_unique_and_in_catalogue_order() {
        let found = catalogue().search("废矿物油");
        let positions: Vec<usize> = found
            .iter()
            .map(|e| {
                catalogue()
                    .waste_codes()
                    .iter()
                    .position(|c| c == *e)
                    .unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_blank_search_finds_nothing() {
        assert!(catalogue().search("  ").is_empty());
    }

    #[test]
    fn alias_targets_serialise_as_their_code() {
        let alias = &catalogue().aliases()[0];
        assert_eq!(alias.alias, "废机油");
        assert_eq!(serde_json::to_value(&alias.target).unwrap(), "900-214-08");
    }
}
