//! The region tree (province → city → district → town) and the registration phases.
//!
//! Built from `reference/regions.csv`: the whole of mainland China to district
//! level, towns for 上海市, 苏州市 and 嘉兴市, each row with the phase in which
//! demand-side registration opens there (4 = never; supply side only).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::reference::{ReferenceDataError, read_rows};
use crate::text::nfkc;

const REGIONS_CSV: &str = include_str!("../../../reference/regions.csv");

/// The city rows that are not prefecture-level divisions but hold the tree
/// together (data README §1): the four municipalities' `XX0100` rows, `500200 县`
/// and the four 省/自治区直辖县级行政区划. They are left out of full names.
const STRUCTURAL_CITY_CODES: [&str; 9] = [
    "110100", "120100", "310100", "500100", "500200", "419000", "429000", "469000", "659000",
];

/// A region code: 6 digits (province, city, district; GB/T 2260) or 9 digits
/// (town; NBS 统计用区划代码).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Why a text is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("地区代码应为6位或9位数字")]
    Invalid,
}

impl RegionCode {
    /// Parses a code; full-width digits and surrounding spaces are accepted.
    pub fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let code = nfkc(input).trim().to_owned();
        let digits = code.bytes().all(|b| b.is_ascii_digit());
        if digits && matches!(code.len(), 6 | 9) {
            Ok(Self(code))
        } else {
            Err(RegionCodeError::Invalid)
        }
    }
}

string_newtype!(RegionCode, RegionCodeError);

/// The level of a region in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    Province,
    City,
    District,
    Town,
}

/// A level name that is not one of `province`, `city`, `district`, `town`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的地区层级")]
pub struct RegionLevelError;

impl RegionLevel {
    /// The string used in regions.csv and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::District => "district",
            Self::Town => "town",
        }
    }

    /// The level's name in the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Province => "省级",
            Self::City => "地市级",
            Self::District => "区县级",
            Self::Town => "乡镇街道",
        }
    }
}

impl FromStr for RegionLevel {
    type Err = RegionLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "province" => Ok(Self::Province),
            "city" => Ok(Self::City),
            "district" => Ok(Self::District),
            "town" => Ok(Self::Town),
            _ => Err(RegionLevelError),
        }
    }
}

impl fmt::Display for RegionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the region tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    /// `None` for provinces only.
    pub parent: Option<RegionCode>,
    /// The earliest registration phase in which an address at this level may
    /// register as a demand enterprise; 4 means never (supply side only).
    pub phase: u8,
}

impl Region {
    /// Whether this is one of the structural city rows (e.g. `310100 上海市`,
    /// `500200 县`) that are not administrative units of their own.
    pub fn is_structural(&self) -> bool {
        STRUCTURAL_CITY_CODES.contains(&self.code.as_str())
    }
}

/// The phase of the demand-side registration roll-out (configuration):
/// 1 = 两区一县, 2 = 上海市, 苏州市, 嘉兴市, 3 = 上海市, 江苏省, 浙江省.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct RegistrationPhase(u8);

/// A registration phase outside 1..=3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("注册开放阶段应为1、2或3")]
pub struct RegistrationPhaseError;

impl RegistrationPhase {
    /// The last phase; regions of phase 4 never open for demand registration.
    pub const MAX: u8 = 3;

    /// The phase as a number, 1..=3.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for RegistrationPhase {
    /// Phase 1 (两区一县) is where the platform starts.
    fn default() -> Self {
        Self(1)
    }
}

impl TryFrom<u8> for RegistrationPhase {
    type Error = RegistrationPhaseError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(RegistrationPhaseError)
        }
    }
}

impl From<RegistrationPhase> for u8 {
    fn from(phase: RegistrationPhase) -> u8 {
        phase.0
    }
}

impl FromStr for RegistrationPhase {
    type Err = RegistrationPhaseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number: u8 = nfkc(s).trim().parse().map_err(|_| RegistrationPhaseError)?;
        Self::try_from(number)
    }
}

impl fmt::Display for RegistrationPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The region tree: every row of regions.csv, in file order, with indexes.
///
/// Lookups take `impl AsRef<str>`, so both `"310118"` and `&RegionCode` work.
/// An unknown code has no region, no children and no ancestors.
#[derive(Debug)]
pub struct RegionTree {
    regions: Vec<Region>,
    by_code: HashMap<String, usize>,
    /// Indexes of each region's children, in file order.
    children: Vec<Vec<usize>>,
    /// Index of each region's parent.
    parents: Vec<Option<usize>>,
}

impl RegionTree {
    /// The tree embedded from `reference/regions.csv`, parsed on first use.
    ///
    /// # Panics
    /// If the embedded file is malformed: a build defect, caught by this
    /// module's tests.
    pub fn embedded() -> &'static RegionTree {
        static TREE: OnceLock<RegionTree> = OnceLock::new();
        TREE.get_or_init(|| {
            Self::from_csv(REGIONS_CSV).unwrap_or_else(|e| panic!("embedded regions.csv: {e}"))
        })
    }

    /// Builds a tree from CSV text with the columns of regions.csv
    /// (`code,name,level,parent_code,phase`). Every parent must come before
    /// its children, as in the file.
    pub fn from_csv(text: &str) -> Result<Self, ReferenceDataError> {
        const FILE: &str = "regions.csv";
        let rows = read_rows(
            FILE,
            text,
            &["code", "name", "level", "parent_code", "phase"],
        )?;
        let mut tree = RegionTree {
            regions: Vec::with_capacity(rows.len()),
            by_code: HashMap::with_capacity(rows.len()),
            children: Vec::with_capacity(rows.len()),
            parents: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            let error = |reason: String| ReferenceDataError::new(FILE, row.number, reason);
            let code = RegionCode::parse(row.get(0))
                .map_err(|_| error(format!("bad code {:?}", row.get(0))))?;
            let name = row.get(1).trim().to_owned();
            if name.is_empty() {
                return Err(error("empty name".into()));
            }
            let level: RegionLevel = row
                .get(2)
                .parse()
                .map_err(|_| error(format!("bad level {:?}", row.get(2))))?;
            let phase: u8 = row
                .get(4)
                .parse()
                .ok()
                .filter(|p| (1..=4).contains(p))
                .ok_or_else(|| error(format!("bad phase {:?}", row.get(4))))?;
            let (parent, parent_index) = match row.get(3) {
                "" if level == RegionLevel::Province => (None, None),
                "" => return Err(error("only a province may have no parent".into())),
                parent => {
                    let index = *tree
                        .by_code
                        .get(parent)
                        .ok_or_else(|| error(format!("parent {parent} not found above")))?;
                    (Some(tree.regions[index].code.clone()), Some(index))
                }
            };
            let index = tree.regions.len();
            if tree
                .by_code
                .insert(code.as_str().to_owned(), index)
                .is_some()
            {
                return Err(error(format!("duplicate code {code}")));
            }
            if let Some(parent_index) = parent_index {
                tree.children[parent_index].push(index);
            }
            tree.regions.push(Region {
                code,
                name,
                level,
                parent,
                phase,
            });
            tree.children.push(Vec::new());
            tree.parents.push(parent_index);
        }
        Ok(tree)
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Whether the tree has no regions (never true for the embedded tree).
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Every region in file order (province → city → district → town).
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter()
    }

    /// The region with this code.
    pub fn get(&self, code: impl AsRef<str>) -> Option<&Region> {
        self.index(code.as_ref()).map(|i| &self.regions[i])
    }

    /// The regions directly below `code`, in file order.
    pub fn children(&self, code: impl AsRef<str>) -> Vec<&Region> {
        self.index(code.as_ref())
            .map(|i| self.children[i].iter().map(|&c| &self.regions[c]).collect())
            .unwrap_or_default()
    }

    /// The provinces (regions without a parent), in file order.
    pub fn provinces(&self) -> Vec<&Region> {
        self.iter().filter(|r| r.parent.is_none()).collect()
    }

    /// The path from the province down to `code`, including `code` itself.
    pub fn ancestors(&self, code: impl AsRef<str>) -> Vec<&Region> {
        let mut path = Vec::new();
        let mut next = self.index(code.as_ref());
        while let Some(i) = next {
            path.push(&self.regions[i]);
            next = self.parents[i];
        }
        path.reverse();
        path
    }

    /// The full name as written in an address, e.g. 江苏省苏州市吴江区黎里镇;
    /// empty for an unknown code.
    ///
    /// A name equal to its parent's (310000 上海市 → 310100 上海市) is written
    /// once, and structural rows (500200 县, 省直辖县级行政区划) are left out, so
    /// 500229 reads 重庆市城口县 and 419001 河南省济源市.
    pub fn full_name(&self, code: impl AsRef<str>) -> String {
        let path = self.ancestors(code);
        let mut name = String::new();
        for (i, region) in path.iter().enumerate() {
            let repeats_parent = i > 0 && path[i - 1].name == region.name;
            if !repeats_parent && !region.is_structural() {
                name.push_str(&region.name);
            }
        }
        name
    }

    /// Whether `code` lies within `ancestor`; a region is within itself.
    /// False when either code is unknown.
    pub fn is_within(&self, code: impl AsRef<str>, ancestor: impl AsRef<str>) -> bool {
        let Some(target) = self.index(ancestor.as_ref()) else {
            return false;
        };
        let mut next = self.index(code.as_ref());
        while let Some(i) = next {
            if i == target {
                return true;
            }
            next = self.parents[i];
        }
        false
    }

    /// Whether `code` is a known region without children: the level an address
    /// must be given at (a town inside 上海/苏州/嘉兴, a district elsewhere, a
    /// city where the city has no districts, e.g. 东莞市).
    pub fn is_finest(&self, code: impl AsRef<str>) -> bool {
        self.index(code.as_ref())
            .is_some_and(|i| self.children[i].is_empty())
    }

    /// Whether an enterprise at `code` may register on the demand side in
    /// `phase`.
    ///
    /// Decided from the selected region itself, not its ancestors: the
    /// ancestors of a phase-1 district carry later phases (苏州市 = 2), and a
    /// phase-2 city contains phase-1 districts. A region's phase of 4 never
    /// opens, because a [`RegistrationPhase`] is at most 3.
    pub fn open_for_demand(&self, code: impl AsRef<str>, phase: RegistrationPhase) -> bool {
        self.get(code).is_some_and(|r| Self::is_open(r, phase))
    }

    /// The top-most regions open in `phase`, in file order, to tell a user
    /// where registration is open: open regions whose parent is not open.
    ///
    /// Phase 1 gives 青浦区, 吴江区, 嘉善县; phase 2 上海市, 苏州市, 嘉兴市;
    /// phase 3 上海市, 江苏省, 浙江省. 上海市 is the province row `310000`, not
    /// the structural city row `310100`: it falls out of the rule (both are
    /// phase 2 and the province is the parent), it is the code that contains
    /// every Shanghai address, and it reads the same.
    pub fn open_roots(&self, phase: RegistrationPhase) -> Vec<&Region> {
        self.regions
            .iter()
            .zip(&self.parents)
            .filter(|(region, parent)| {
                Self::is_open(region, phase)
                    && !parent.is_some_and(|p| Self::is_open(&self.regions[p], phase))
            })
            .map(|(region, _)| region)
            .collect()
    }

    fn is_open(region: &Region, phase: RegistrationPhase) -> bool {
        region.phase <= phase.get() && region.phase <= RegistrationPhase::MAX
    }

    fn index(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> &'static RegionTree {
        RegionTree::embedded()
    }

    fn phase(n: u8) -> RegistrationPhase {
        RegistrationPhase::try_from(n).unwrap()
    }

    fn codes(regions: &[&Region]) -> Vec<String> {
        regions.iter().map(|r| r.code.to_string()).collect()
    }

    #[test]
    fn the_embedded_file_loads_with_every_row() {
        assert_eq!(tree().len(), 3597);
        assert_eq!(tree().provinces().len(), 31);
        let towns = tree()
            .iter()
            .filter(|r| r.level == RegionLevel::Town)
            .count();
        assert_eq!(towns, 378);
    }

    #[test]
    fn region_codes_have_six_or_nine_digits() {
        assert!(RegionCode::parse("310118").is_ok());
        assert_eq!(
            RegionCode::parse(" ３２０５０９１０２ ").unwrap().as_str(),
            "320509102"
        );
        for bad in ["", "3101", "3101180", "31011a", "3205091020"] {
            assert_eq!(
                RegionCode::parse(bad),
                Err(RegionCodeError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(
            RegionCodeError::Invalid.to_string(),
            "地区代码应为6位或9位数字"
        );
    }

    #[test]
    fn levels_parse_from_the_csv_strings() {
        assert_eq!("town".parse(), Ok(RegionLevel::Town));
        assert_eq!("county".parse::<RegionLevel>(), Err(RegionLevelError));
        assert_eq!(RegionLevel::District.to_string(), "district");
    }

    #[test]
    fn get_accepts_a_str_or_a_region_code() {
        let code = RegionCode::parse("320509").unwrap();
        assert_eq!(tree().get(&code).unwrap().name, "吴江区");
        assert_eq!(tree().get("330421").unwrap().name, "嘉善县");
        assert!(tree().get("999999").is_none());
    }

    #[test]
    fn children_come_in_file_order() {
        let cities = tree().children("310000");
        assert_eq!(codes(&cities), ["310100"]);
        let towns = tree().children("320509");
        assert!(towns.len() > 5);
        assert!(towns.windows(2).all(|w| w[0].code < w[1].code));
        assert!(towns.iter().all(|t| t.level == RegionLevel::Town));
        assert!(tree().children("999999").is_empty());
    }

    #[test]
    fn ancestors_run_from_the_province_to_the_region_itself() {
        let town = tree().children("320509")[0].code.clone();
        let path = tree().ancestors(&town);
        assert_eq!(
            codes(&path)[..3],
            ["320000".to_string(), "320500".into(), "320509".into()]
        );
        assert_eq!(path.last().unwrap().code, town);
        assert!(tree().ancestors("999999").is_empty());
    }

    #[test]
    fn full_names_skip_repeated_and_structural_names() {
        let lili = tree()
            .children("320509")
            .into_iter()
            .find(|t| t.name == "黎里镇")
            .unwrap();
        assert_eq!(tree().full_name(&lili.code), "江苏省苏州市吴江区黎里镇");
        assert_eq!(tree().full_name("310118"), "上海市青浦区");
        assert_eq!(tree().full_name("500229"), "重庆市城口县");
        assert_eq!(tree().full_name("419001"), "河南省济源市");
        assert_eq!(tree().full_name("999999"), "");
    }

    #[test]
    fn a_region_is_within_itself_and_its_ancestors_only() {
        assert!(tree().is_within("320509", "320509"));
        assert!(tree().is_within("320509", "320000"));
        assert!(!tree().is_within("320000", "320509"));
        assert!(!tree().is_within("310118", "320000"));
        assert!(!tree().is_within("999999", "320000"));
    }

    #[test]
    fn the_finest_level_depends_on_the_area() {
        assert!(!tree().is_finest("320509"), "towns exist in 苏州");
        assert!(tree().is_finest(&tree().children("320509")[0].code));
        assert!(tree().is_finest("320106"), "南京 has no towns");
        assert!(tree().is_finest("441900"), "东莞 has no districts");
        assert!(!tree().is_finest("999999"));
    }

    #[test]
    fn registration_phase_is_one_to_three_and_defaults_to_one() {
        assert_eq!(RegistrationPhase::default().get(), 1);
        assert_eq!("２".parse::<RegistrationPhase>().unwrap().get(), 2);
        for bad in ["0", "4", "x", ""] {
            assert_eq!(
                bad.parse::<RegistrationPhase>(),
                Err(RegistrationPhaseError)
            );
        }
        assert_eq!(
            RegistrationPhaseError.to_string(),
            "注册开放阶段应为1、2或3"
        );
        assert!(serde_json::from_str::<RegistrationPhase>("4").is_err());
        assert_eq!(serde_json::to_string(&phase(3)).unwrap(), "3");
    }

    #[test]
    fn demand_registration_opens_phase_by_phase() {
        // 青浦区 in phase 1; 松江区 (310117) only from phase 2; 南京 (320106) from 3.
        assert!(tree().open_for_demand("310118", phase(1)));
        assert!(!tree().open_for_demand("310117", phase(1)));
        assert!(tree().open_for_demand("310117", phase(2)));
        assert!(!tree().open_for_demand("320106", phase(2)));
        assert!(tree().open_for_demand("320106", phase(3)));
    }

    #[test]
    fn eligibility_comes_from_the_region_not_its_ancestors() {
        // 苏州市 itself is phase 2 although its 吴江区 is open in phase 1.
        assert!(!tree().open_for_demand("320500", phase(1)));
        assert!(tree().open_for_demand(&tree().children("320509")[0].code, phase(1)));
    }

    #[test]
    fn regions_outside_the_three_provinces_never_open() {
        assert!(!tree().open_for_demand("110101", phase(3)));
        assert!(!tree().open_for_demand("999999", phase(3)));
    }

    #[test]
    fn open_roots_name_the_top_most_open_regions() {
        let names = |n| -> Vec<String> {
            tree()
                .open_roots(phase(n))
                .iter()
                .map(|r| r.name.clone())
                .collect()
        };
        assert_eq!(names(1), ["青浦区", "吴江区", "嘉善县"]);
        assert_eq!(names(2), ["上海市", "苏州市", "嘉兴市"]);
        assert_eq!(names(3), ["上海市", "江苏省", "浙江省"]);
        assert_eq!(tree().open_roots(phase(2))[0].code.as_str(), "310000");
    }

    #[test]
    fn a_child_before_its_parent_is_rejected() {
        let csv = "code,name,level,parent_code,phase\r\n310100,上海市,city,310000,2\r\n";
        let err = RegionTree::from_csv(csv).unwrap_err();
        assert_eq!(err.row, 2);
    }

    #[test]
    fn a_phase_outside_one_to_four_is_rejected() {
        let csv = "code,name,level,parent_code,phase\r\n310000,上海市,province,,5\r\n";
        assert!(RegionTree::from_csv(csv).is_err());
    }
}
