//! Organisations (registered or imported): the collection behind 单位查询 and the
//! supplier directory (惠企服务).
//!
//! A document carries the profile and what the qualifications say: HW categories and
//! waste codes expanded into words people search with (the category's name, the
//! official descriptions of the codes a licence names, and the everyday names of
//! reference/waste_aliases.csv that point into them, so that 废机油 finds the holders
//! of HW08), modes, capacity, the regions a licence may serve, and per qualification
//! kind the last day it is valid. Validity is stored as a date, not as a flag, so
//! that "valid only" is decided by the clock at query time (see [`valid_to_field`]).

use super::{CollectionSource, SourcePage};
use crate::{CollectionSpec, Doc, TextField};
use greenbridge_domain::hw::{AliasTarget, HwCatalogue};
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_store::supplier_queries::{DirectoryEntry, DirectoryQualification};
use greenbridge_store::{Store, StoreError};
use std::collections::BTreeSet;

pub static ORGANISATIONS: CollectionSpec = CollectionSpec {
    name: greenbridge_store::collections::ORGANISATIONS,
    // 4: hw_valid_key, the validity of each HW category.
    // 5: hw_capacity_key, the approved capacity of each HW category.
    // 6: uploads awaiting verification left out.
    version: 6,
    text_fields: &[
        TextField {
            name: "name",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "former_names",
            boost: 2.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "credit_code",
            boost: 2.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "address",
            boost: 1.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "region_name",
            boost: 1.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "scope",
            boost: 1.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "waste",
            boost: 1.5,
            stored_for_snippet: true,
        },
    ],
    keyword_fields: &[
        "region",
        "side",
        "verified",
        "status",
        "sample",
        "listed",
        "category",
        "qualification",
        "hw",
        "mode",
        "size",
        "serve",
    ],
    number_fields: &[
        "created_at",
        "name_key",
        "capacity_kg",
        "valid_to_any",
        "valid_to_hw",
        "valid_to_cma",
        "valid_to_eia",
        "valid_to_other",
        "hw_valid_key",
        "hw_capacity_key",
    ],
};

/// The qualification kinds, as stored and as the API names them.
pub const QUALIFICATION_KINDS: [&str; 4] = ["hw-licence", "cma", "eia", "other"];

/// The `serve` value of an organisation whose licences restrict nothing.
pub const SERVES_EVERYWHERE: &str = "all";

/// The `size` value of an organisation that did not declare its size band.
pub const SIZE_UNSET: &str = "未填";

/// A qualification without an end date stays valid: this is its `valid_to` day.
pub const OPEN_ENDED: i64 = 1_000_000;

/// The number field holding the last valid day (days since 1970-01-01) of the
/// organisation's qualifications of `kind` (`None`: of any kind).
pub fn valid_to_field(kind: Option<&str>) -> &'static str {
    match kind {
        Some("hw-licence") => "valid_to_hw",
        Some("cma") => "valid_to_cma",
        Some("eia") => "valid_to_eia",
        Some("other") => "valid_to_other",
        _ => "valid_to_any",
    }
}

/// The `hw_valid_key` value of HW category `category` (`HW08`) covered by a licence
/// valid up to `day`: the category's number times ten million plus the day, so that
/// one range per category asks for a licence of that category still valid
/// (`hw_valid_key(c, today)..=hw_valid_key(c, OPEN_ENDED)`), in a multi-valued
/// number field. `None` for a text that is not a category.
pub fn hw_valid_key(category: &str, day: i64) -> Option<i64> {
    let number: i64 = category.strip_prefix("HW")?.parse().ok()?;
    (1..=99)
        .contains(&number)
        .then(|| number * 10_000_000 + day.clamp(0, OPEN_ENDED))
}

/// The largest capacity (kg/a) a `hw_capacity_key` tells apart; more counts as this.
pub const CAPACITY_KEY_MAX: i64 = 1_000_000_000_000 - 1;

/// The `hw_capacity_key` value of HW category `category` approved for `kg` kg/a:
/// the category's number times 10¹² plus the capacity, so that one range per
/// category (`hw_capacity_key(c, min)..=hw_capacity_key(c, CAPACITY_KEY_MAX)`)
/// asks for at least `min` of that category. `None` for a text that is not a
/// category.
pub fn hw_capacity_key(category: &str, kg: i64) -> Option<i64> {
    let number: i64 = category.strip_prefix("HW")?.parse().ok()?;
    (1..=99)
        .contains(&number)
        .then(|| number * (CAPACITY_KEY_MAX + 1) + kg.clamp(0, CAPACITY_KEY_MAX))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn days_of(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Whether a qualification counts at all: from an official list or verified by the
/// association (an upload still pending or rejected does not), and for an EIA credit
/// record, not on a 限期整改 / 重点监督检查 list.
pub fn counts(q: &DirectoryQualification) -> bool {
    let vouched = matches!(q.verification.as_str(), "official" | "verified");
    let standing = q.kind != "eia"
        || !["限期整改", "重点监督", "失信", "黑名单"]
            .iter()
            .any(|bad| q.eia_credit_status.contains(bad));
    vouched && standing
}

/// The last valid day of a qualification that counts (`OPEN_ENDED` without an end).
pub fn last_valid_day(q: &DirectoryQualification) -> Option<i64> {
    if !counts(q) {
        return None;
    }
    match &q.valid_to {
        Some(to) => days_of(to),
        None => Some(OPEN_ENDED),
    }
}

/// Whether the qualification is valid on `today` (days since 1970-01-01).
pub fn is_valid_on(q: &DirectoryQualification, today: i64) -> bool {
    let started = q
        .valid_from
        .as_deref()
        .and_then(days_of)
        .is_none_or(|from| from <= today);
    started && last_valid_day(q).is_some_and(|to| to >= today)
}

/// A sortable number for a name in the order Chinese lists are read in, as a
/// spreadsheet in a Chinese locale sorts them: digits and Latin letters first,
/// then Han characters by their common pinyin reading and tone (安徽 < 北京 <
/// 上海 < 浙江), then anything else. The first five characters count, twelve
/// bits each; names alike in those keep the index's order.
pub fn name_key(name: &str) -> i64 {
    let mut key: i64 = 0;
    let mut chars = name.trim().chars();
    for _ in 0..5 {
        let rank = chars.next().map_or(0, char_rank);
        key = (key << 12) | rank;
    }
    key
}

/// 0 is the end of the name; ASCII letters and digits 48–122; Han characters
/// from 128 by reading; anything else last.
fn char_rank(c: char) -> i64 {
    const LAST: i64 = (1 << 12) - 1;
    if c.is_ascii_alphanumeric() {
        return i64::from(c.to_ascii_lowercase() as u8);
    }
    use pinyin::ToPinyin;
    match c.to_pinyin() {
        Some(reading) => reading_ranks()
            .get(reading.with_tone_num_end())
            .map_or(LAST, |rank| (128 + rank).min(LAST - 1)),
        None => LAST,
    }
}

/// Every reading (with its tone: `shang4`) of the common Han characters, in
/// alphabetical order, numbered.
fn reading_ranks() -> &'static std::collections::HashMap<&'static str, i64> {
    use pinyin::ToPinyin;
    static RANKS: std::sync::OnceLock<std::collections::HashMap<&'static str, i64>> =
        std::sync::OnceLock::new();
    RANKS.get_or_init(|| {
        let mut readings: Vec<&'static str> = ('\u{3400}'..='\u{9FFF}')
            .filter_map(|c| c.to_pinyin().map(|p| p.with_tone_num_end()))
            .collect();
        readings.sort_unstable();
        readings.dedup();
        readings
            .into_iter()
            .enumerate()
            .map(|(i, r)| (r, i as i64))
            .collect()
    })
}

/// The words a licence's HW lines add to the `waste` field.
fn waste_words(q: &DirectoryQualification, words: &mut BTreeSet<String>) {
    let catalogue = HwCatalogue::embedded();
    for line in &q.hw {
        words.insert(line.category.clone());
        if let Some(entry) = catalogue.category(&line.category) {
            words.insert(entry.name.clone());
        }
        for code in &line.waste_codes {
            words.insert(code.clone());
            if let Some(entry) = catalogue.waste_code(code) {
                words.insert(entry.description.clone());
            }
        }
        let accepts = |code: &str| {
            (line.waste_codes.is_empty() || line.waste_codes.iter().any(|c| c == code))
                && !line.excluded_codes.iter().any(|c| c == code)
        };
        for alias in catalogue.aliases() {
            let reaches = match &alias.target {
                AliasTarget::Code(code) => {
                    code.category().as_str() == line.category && accepts(code.as_str())
                }
                AliasTarget::Category(category) => category.as_str() == line.category,
            };
            if reaches {
                words.insert(alias.alias.clone());
            }
        }
    }
}

/// The search document of an organisation. `region` holds the code of its region and
/// of every region above, so that a filter on a city finds its districts and towns.
pub fn organisation_doc(entry: &DirectoryEntry) -> Doc {
    let organisation = &entry.organisation;
    let tree = RegionTree::embedded();
    let services = ServiceCatalogue::embedded();
    let ancestors: Vec<String> = tree
        .ancestors(&organisation.region_code)
        .iter()
        .map(|r| r.code.as_str().to_string())
        .collect();
    let mut doc = Doc::new(organisation.id.to_string())
        .text("name", organisation.name.clone())
        .text("credit_code", organisation.credit_code.as_str())
        .text("address", organisation.address.clone())
        .text("region_name", tree.full_name(&organisation.region_code))
        .keywords("region", ancestors)
        .keyword("side", organisation.side.as_str())
        .keyword("verified", if organisation.verified { "yes" } else { "no" })
        .keyword("status", organisation.status.clone())
        .keyword("sample", if organisation.sample { "yes" } else { "no" })
        .keyword("listed", if entry.listed { "yes" } else { "no" })
        .keyword(
            "size",
            if entry.size_band.is_empty() {
                SIZE_UNSET.to_string()
            } else {
                entry.size_band.clone()
            },
        )
        .number("created_at", organisation.created_at)
        .number("name_key", name_key(&organisation.name));
    if !entry.former_names.is_empty() {
        doc = doc.text("former_names", entry.former_names.join("；"));
    }

    let mut scope: Vec<String> = Vec::new();
    if !entry.description.is_empty() {
        scope.push(entry.description.clone());
    }
    let mut categories = BTreeSet::new();
    for code in &entry.service_categories {
        if let Some(category) = services.get(code) {
            categories.insert(category.code.clone());
            scope.push(category.name.clone());
            if let Some(parent) = &category.parent {
                categories.insert(parent.clone());
            }
        }
    }
    doc = doc.keywords("category", categories);

    let mut kinds = BTreeSet::new();
    let mut hw = BTreeSet::new();
    let mut modes = BTreeSet::new();
    let mut serve = BTreeSet::new();
    let mut waste = BTreeSet::new();
    let mut facility_addresses = BTreeSet::new();
    let mut capacity: Option<i64> = None;
    let mut valid_to: std::collections::BTreeMap<&'static str, i64> = Default::default();
    // Per HW category: the last valid day of the licences that cover it, and the
    // largest capacity approved for it.
    let mut hw_valid: std::collections::BTreeMap<String, i64> = Default::default();
    let mut hw_capacity: std::collections::BTreeMap<String, i64> = Default::default();
    for q in &entry.qualifications {
        // An upload the association has not verified (yet) finds nothing: a
        // listed supplier's new licence counts once its profile is approved.
        if matches!(q.verification.as_str(), "rejected" | "pending") {
            continue;
        }
        kinds.insert(q.kind.clone());
        if !q.title.is_empty() {
            scope.push(q.title.clone());
        }
        if !q.scope.is_empty() {
            scope.push(q.scope.clone());
        }
        if !q.facility_address.is_empty() && q.facility_address != organisation.address {
            facility_addresses.insert(q.facility_address.clone());
        }
        if q.kind == "hw-licence" {
            for line in &q.hw {
                hw.insert(line.category.clone());
                if let Some(day) = last_valid_day(q) {
                    let slot = hw_valid.entry(line.category.clone()).or_insert(day);
                    *slot = (*slot).max(day);
                }
                // A category without a figure of its own may take the whole of
                // the licence's approved total (licences often give one total for
                // several categories).
                if let Some(kg) = line.capacity_kg.or(q.capacity_kg) {
                    let slot = hw_capacity.entry(line.category.clone()).or_insert(kg);
                    *slot = (*slot).max(kg);
                }
            }
            modes.extend(q.modes.iter().cloned());
            if !q.modes_text.is_empty() {
                scope.push(q.modes_text.clone());
            }
            if q.service_area.is_empty() {
                serve.insert(SERVES_EVERYWHERE.to_string());
            } else {
                serve.extend(q.service_area.iter().cloned());
            }
            if let Some(kg) = q.total_capacity_kg() {
                capacity = Some(capacity.map_or(kg, |c| c.max(kg)));
            }
            waste_words(q, &mut waste);
        }
        if let Some(day) = last_valid_day(q) {
            for field in [valid_to_field(Some(&q.kind)), valid_to_field(None)] {
                let slot = valid_to.entry(field).or_insert(day);
                *slot = (*slot).max(day);
            }
        }
    }
    if serve.is_empty() {
        // Without a hazardous-waste licence nothing restricts where it works.
        serve.insert(SERVES_EVERYWHERE.to_string());
    }
    for address in facility_addresses {
        doc = doc.text("address", address);
    }
    if !scope.is_empty() {
        doc = doc.text("scope", scope.join("；"));
    }
    if !waste.is_empty() {
        doc = doc.text("waste", waste.into_iter().collect::<Vec<_>>().join("；"));
    }
    doc = doc
        .keywords("qualification", kinds)
        .keywords("hw", hw)
        .keywords("mode", modes)
        .keywords("serve", serve);
    if let Some(kg) = capacity {
        doc = doc.number("capacity_kg", kg);
    }
    for (field, day) in valid_to {
        doc = doc.number(field, day);
    }
    for (category, day) in hw_valid {
        if let Some(key) = hw_valid_key(&category, day) {
            doc = doc.number("hw_valid_key", key);
        }
    }
    for (category, kg) in hw_capacity {
        if let Some(key) = hw_capacity_key(&category, kg) {
            doc = doc.number("hw_capacity_key", key);
        }
    }
    doc
}

/// Reads organisations from the store for the indexer.
pub struct OrganisationSource;

#[async_trait::async_trait]
impl CollectionSource for OrganisationSource {
    fn spec(&self) -> &'static CollectionSpec {
        &ORGANISATIONS
    }

    async fn count(&self, store: &Store) -> Result<i64, StoreError> {
        store.count_organisations().await
    }

    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError> {
        let rows = store.directory_entries_after(after, limit).await?;
        Ok(SourcePage {
            last_id: rows.last().map(|e| e.organisation.id),
            docs: rows.iter().map(organisation_doc).collect(),
        })
    }

    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError> {
        Ok(store
            .directory_entries(ids)
            .await?
            .iter()
            .map(organisation_doc)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_from_the_unix_epoch() {
        assert_eq!(days_of("1970-01-01"), Some(0));
        assert_eq!(days_of("2000-03-01"), Some(11_017));
        assert_eq!(days_of("2026-11-28"), Some(20_785));
        assert_eq!(days_of("2026-13-01"), None);
    }

    #[test]
    fn name_keys_follow_the_first_characters() {
        assert!(name_key("上海A") < name_key("上海B"));
        assert!(name_key("甲") < name_key("甲乙"));
    }

    #[test]
    fn names_sort_by_pinyin_with_digits_and_letters_first() {
        let mut names = vec![
            "浙江绿源环保",
            "上海青浦环境",
            "北京环科",
            "安徽皖北",
            "嘉善清源",
            "3M中国",
            "ABC检测",
        ];
        names.sort_by_key(|n| name_key(n));
        assert_eq!(
            names,
            [
                "3M中国",
                "ABC检测",
                "安徽皖北",
                "北京环科",
                "嘉善清源",
                "上海青浦环境",
                "浙江绿源环保"
            ]
        );
        // The reading decides, not the code point: 苏 (su) before 吴 (wu) although
        // U+82CF > U+5434.
        assert!(name_key("苏州") < name_key("吴江"));
        assert!(reading_ranks().len() < 4000, "twelve bits per character");
    }
}
