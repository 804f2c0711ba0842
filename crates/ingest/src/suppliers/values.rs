//! Parsers for the values of list cells: dates in the shapes real lists use,
//! capacities with 万 / 吨/年 in the cell or the header, counts, HW categories and
//! waste codes, modes, phone numbers, capability scopes and region names.
//! Each returns a typed value or a reason in zh-CN for the rejected-row report.

use std::collections::HashMap;
use std::sync::OnceLock;

use greenbridge_domain::hw::{HwCategory, WasteCode};
use greenbridge_domain::region::{RegionLevel, RegionTree};
use greenbridge_store::suppliers::{HwCategoryItem, HwMode};
use time::{Date, Month};
use unicode_normalization::UnicodeNormalization;

use super::table::{Cell, number_text};

/// NFKC: full-width digits, letters and punctuation become ASCII.
pub fn nfkc(text: &str) -> String {
    text.nfkc().collect()
}

/// A text cell as people meant it: trimmed (also U+3000), inner line breaks gone.
pub fn clean(text: &str) -> String {
    text.trim().replace(['\r', '\n'], "").trim().to_string()
}

/// A date cell: an Excel date, an Excel serial number, or text in one of the shapes
/// of real lists: `2025-05-25`, `2024.03.05`, `2023/6/10`, `2023年9月8日`, `20240305`.
pub fn date(cell: &Cell) -> Result<Option<Date>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) => {
            // An unformatted Excel date: days since 1899-12-30.
            if (1.0..2_958_466.0).contains(n) && n.fract() == 0.0 {
                let base =
                    Date::from_calendar_date(1899, Month::December, 30).expect("a valid date");
                Ok(Some(base + time::Duration::days(*n as i64)))
            } else {
                Err(format!("无法识别日期“{}”", number_text(*n)))
            }
        }
        Cell::Text(text) => date_text(text),
    }
}

pub fn date_text(text: &str) -> Result<Option<Date>, String> {
    let raw = clean(text);
    if raw.is_empty() {
        return Ok(None);
    }
    let normal = nfkc(&raw);
    // Drop a time of day (`2024-01-01 00:00:00`).
    let day_part = normal.split_whitespace().next().unwrap_or("");
    let unified: String = day_part
        .chars()
        .map(|c| match c {
            '年' | '月' | '.' | '/' | '-' => '-',
            c => c,
        })
        .filter(|&c| c != '日' && c != '号')
        .collect();
    let parts: Vec<&str> = unified.trim_end_matches('-').split('-').collect();
    let unreadable = || format!("无法识别日期“{raw}”");
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] => (*y, *m, *d),
        [whole] if whole.len() == 8 && whole.bytes().all(|b| b.is_ascii_digit()) => {
            (&whole[0..4], &whole[4..6], &whole[6..8])
        }
        _ => return Err(unreadable()),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year) || !digits(month) || !digits(day) {
        return Err(unreadable());
    }
    let no_such_day = || format!("日期“{raw}”不存在");
    let year: i32 = year.parse().map_err(|_| unreadable())?;
    let month = month
        .parse::<u8>()
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(no_such_day)?;
    let day: u8 = day.parse().map_err(|_| no_such_day())?;
    Date::from_calendar_date(year, month, day)
        .map(Some)
        .map_err(|_| no_such_day())
}

/// A decimal number as an exact fraction: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if whole.len() + fraction.len() > 30 {
        return None;
    }
    let mantissa: i128 = format!("{whole}{fraction}").parse().ok()?;
    Some(Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: fraction.len() as u32,
    })
}

/// Tonnes per year as written in a header: `（吨/年）` → 1, `（万吨/年）` → 10 000;
/// `None` when the header names no unit (then tonnes are assumed).
pub fn header_tonnes_factor(header: &str) -> Option<i128> {
    let header = nfkc(header);
    if header.contains("万吨") {
        Some(10_000)
    } else if header.contains("千克") || header.to_lowercase().contains("kg") {
        // Kilograms: the factor is applied in thousandths below.
        Some(0)
    } else if header.contains('吨') || header.to_lowercase().contains("t/a") {
        Some(1)
    } else {
        None
    }
}

/// An approved capacity in kg/a (t/a × 1000, exact). Accepts numbers, text with
/// spaces or full-width digits, thousands separators, `2.5万` (= 25 000 t/a), units
/// in the cell (`1000吨/年`, `2.5万吨`) or in the header (`header_factor`, see
/// [`header_tonnes_factor`]). Negative or unreadable values are refused.
pub fn capacity_kg(cell: &Cell, header_factor: Option<i128>) -> Result<Option<i64>, String> {
    let raw = match cell {
        Cell::Empty => return Ok(None),
        Cell::Number(n) => number_text(*n),
        Cell::Date(_) => return Err("核准经营规模不是数字".into()),
        Cell::Text(t) => clean(t),
    };
    if raw.is_empty() {
        return Ok(None);
    }
    let mut text: String = nfkc(&raw)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    // Units in the cell win over the header's.
    let mut tonnes_per_unit: i128 = header_factor.unwrap_or(1);
    let lower = text.to_lowercase();
    for (suffix, factor) in [
        ("万吨/年", 10_000),
        ("万吨/a", 10_000),
        ("万t/a", 10_000),
        ("万吨", 10_000),
        ("万", 10_000),
        ("吨/年", 1),
        ("吨/a", 1),
        ("t/a", 1),
        ("吨", 1),
        ("t", 1),
    ] {
        if lower.ends_with(suffix) {
            text.truncate(text.len() - suffix.len());
            tonnes_per_unit = factor;
            break;
        }
    }
    let Some(value) = decimal(&text) else {
        return Err(format!("无法识别核准经营规模“{raw}”"));
    };
    if value.mantissa < 0 {
        return Err(format!("核准经营规模不能为负数：{raw}"));
    }
    // kg = value × tonnes_per_unit × 1000 (tonnes_per_unit 0 marks kilograms).
    let kg_per_unit: i128 = if tonnes_per_unit == 0 {
        1
    } else {
        tonnes_per_unit * 1000
    };
    let scale = 10_i128.pow(value.scale);
    let numerator = value.mantissa * kg_per_unit;
    // Round half up to whole kilograms (finer than any list states).
    let kg = (numerator * 2 + scale) / (scale * 2);
    i64::try_from(kg)
        .map(Some)
        .map_err(|_| format!("核准经营规模过大：{raw}"))
}

/// A count of people, reports or parameters: a non-negative integer; `455项`,
/// full-width digits and spaces are accepted.
pub fn count(cell: &Cell, label: &str) -> Result<Option<i64>, String> {
    let raw = match cell {
        Cell::Empty => return Ok(None),
        Cell::Number(n) => number_text(*n),
        Cell::Date(_) => return Err(format!("{label}不是数字")),
        Cell::Text(t) => clean(t),
    };
    if raw.is_empty() {
        return Ok(None);
    }
    let text: String = nfkc(&raw)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    let text = text
        .trim_end_matches(['项', '人', '本', '分', '个', '名'])
        .to_string();
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("{label}不能为负数：{raw}")),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(format!("{label}应为整数，现为“{raw}”")),
    }
}

/// The modes of a 经营方式 text (`收集、贮存、处置（焚烧）`), in canonical order.
pub fn modes(text: &str) -> Vec<HwMode> {
    let mut found: Vec<HwMode> = HwMode::ALL
        .into_iter()
        .filter(|m| text.contains(m.as_str()))
        .collect();
    // 综合利用 is 利用; 焚烧 / 填埋 / 物化 are ways of 处置.
    if !found.contains(&HwMode::Dispose)
        && ["焚烧", "填埋", "物化"].iter().any(|w| text.contains(w))
    {
        found.push(HwMode::Dispose);
    }
    if !found.contains(&HwMode::Store) && text.contains("暂存") {
        found.push(HwMode::Store);
    }
    found.sort();
    found
}

/// HW categories and waste codes from the four shapes the lists use:
/// `HW08（900-199-08、900-210-08）；HW09（900-006-09）`,
/// `废矿物油与含矿物油废物（HW08）：900-199-08、900-210-08；…`,
/// `HW08:900-199-08,900-210-08;HW09:900-006-09` and
/// `HW02、HW03、…、HW49（900-039-49、900-041-49）`. A code after `不含` (up to the
/// closing bracket or the next category) is an exclusion, not a permitted code. Every
/// waste code belongs to the category its last two digits name.
pub fn hw_categories(text: &str) -> Result<Vec<HwCategoryItem>, String> {
    let normal: Vec<char> = nfkc(text)
        .chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut items: HashMap<String, HwCategoryItem> = HashMap::new();
    fn entry<'a>(
        order: &mut Vec<String>,
        items: &'a mut HashMap<String, HwCategoryItem>,
        category: &str,
    ) -> &'a mut HwCategoryItem {
        if !items.contains_key(category) {
            order.push(category.to_string());
        }
        items
            .entry(category.to_string())
            .or_insert_with(|| HwCategoryItem {
                category: category.to_string(),
                waste_codes: Vec::new(),
                excluded_codes: Vec::new(),
                capacity_kg: None,
            })
    }
    let mut excluding = false;
    // The category the text is about at this point (for a capacity that follows it).
    let mut current: Option<String> = None;
    let mut i = 0;
    while i < normal.len() {
        let c = normal[i];
        let rest: String = normal[i..normal.len().min(i + 12)].iter().collect();
        if (c == 'H' || c == 'h') && normal.get(i + 1).is_some_and(|n| *n == 'W' || *n == 'w') {
            let digits: String = normal[i + 2..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .collect();
            if digits.is_empty() {
                i += 2;
                continue;
            }
            let code = format!("HW{digits}");
            let category = HwCategory::parse(&code).map_err(|e| e.to_string())?;
            entry(&mut order, &mut items, category.as_str());
            current = Some(category.as_str().to_string());
            excluding = false;
            i += 2 + digits.len();
            continue;
        }
        if rest.starts_with("不含") || rest.starts_with("除外") || rest.starts_with("不包括")
        {
            excluding = true;
            i += 2;
            continue;
        }
        if c == ')' {
            excluding = false;
        }
        if c.is_ascii_digit() && (i == 0 || !normal[i - 1].is_ascii_digit()) {
            let token: String = normal[i..]
                .iter()
                .take_while(|d| d.is_ascii_digit() || **d == '-')
                .collect();
            let len = token.chars().count();
            if token.matches('-').count() == 2 {
                let code =
                    WasteCode::parse(&token).map_err(|e| format!("废物代码“{token}”无效：{e}"))?;
                let category = code.category();
                let item = entry(&mut order, &mut items, category.as_str());
                let list = if excluding {
                    &mut item.excluded_codes
                } else {
                    &mut item.waste_codes
                };
                if !list.iter().any(|c| c == code.as_str()) {
                    list.push(code.as_str().to_string());
                }
                current = Some(category.as_str().to_string());
                i += len;
                continue;
            }
            // A figure with a unit after a category is that category's capacity
            // (`HW08（900-214-08）5000吨/年`).
            let figure: String = normal[i..]
                .iter()
                .take_while(|d| d.is_ascii_digit() || **d == '.' || **d == ',')
                .collect();
            let after: String = normal[i + figure.chars().count()..]
                .iter()
                .skip_while(|c| c.is_whitespace())
                .take(5)
                .collect();
            let unit = ["万吨/年", "万吨", "吨/年", "吨", "t/a"]
                .into_iter()
                .find(|u| after.starts_with(u));
            if let (Some(unit), Some(category)) = (unit, current.as_ref()) {
                let kg = capacity_kg(&Cell::Text(format!("{figure}{unit}")), Some(1))?;
                if let Some(item) = items.get_mut(category) {
                    item.capacity_kg = kg;
                }
            }
            i += figure.chars().count().max(1);
            continue;
        }
        i += 1;
    }
    if order.is_empty() {
        return Err("未写明危险废物类别（应为HW01至HW50）".into());
    }
    Ok(order.into_iter().filter_map(|c| items.remove(&c)).collect())
}

/// A phone number with its extension split off: `021-59999495转8012`.
pub fn phone(text: &str) -> (String, String) {
    let normal = nfkc(&clean(text));
    for separator in ["转", "ext.", "ext", "分机", "-分机"] {
        if let Some((main, extension)) = normal.split_once(separator) {
            return (
                main.trim().trim_end_matches('-').to_string(),
                extension.trim().to_string(),
            );
        }
    }
    (normal, String::new())
}

/// CMA capability fields (`水和废水；环境空气和废气`, also with `、`, commas or line
/// breaks), joined with `、`.
pub fn scope_fields(text: &str) -> Vec<String> {
    text.split(['；', ';', '、', ',', '，', '\n', '\r', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Region names (`上海市青浦区`, `嘉兴市嘉善县`, `浙江省杭州市余杭区`, `苏州市`) to
/// their code, by the names of the embedded region tree.
pub fn region_code(text: &str) -> Option<String> {
    let key: String = nfkc(text).chars().filter(|c| !c.is_whitespace()).collect();
    if key.is_empty() {
        return None;
    }
    region_names().get(&key).cloned()
}

fn region_names() -> &'static HashMap<String, String> {
    static NAMES: OnceLock<HashMap<String, String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let tree = RegionTree::embedded();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut bare: HashMap<String, Vec<String>> = HashMap::new();
        for region in tree.iter() {
            if region.level == RegionLevel::Town {
                continue;
            }
            let path = tree.ancestors(region.code.as_str());
            let code = region.code.as_str().to_string();
            let parts: Vec<&str> = path
                .iter()
                .filter(|r| !r.is_structural())
                .map(|r| r.name.as_str())
                .collect();
            // Every way a list writes it: with or without the province, with or
            // without the city (municipalities: the structural city row is named
            // after the municipality, so 上海市青浦区 is covered either way).
            let all: Vec<&str> = path.iter().map(|r| r.name.as_str()).collect();
            let mut variants = vec![parts.concat(), all.concat()];
            if parts.len() >= 2 {
                variants.push(parts[1..].concat());
                variants.push(format!("{}{}", parts[0], parts[parts.len() - 1]));
            }
            if all.len() >= 2 {
                variants.push(all[1..].concat());
            }
            for variant in variants {
                names.entry(variant).or_insert_with(|| code.clone());
            }
            bare.entry(region.name.clone()).or_default().push(code);
        }
        for (name, codes) in bare {
            if let [only] = codes.as_slice() {
                names.entry(name).or_insert_with(|| only.clone());
            }
        }
        names
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_in_every_shape_of_the_lists() {
        for (input, expected) in [
            ("2025-05-25", date!(2025 - 05 - 25)),
            ("2024.03.05", date!(2024 - 03 - 05)),
            ("2023/6/10", date!(2023 - 06 - 10)),
            ("2023年9月8日", date!(2023 - 09 - 08)),
            ("２０２３年９月８日", date!(2023 - 09 - 08)),
            ("20240305", date!(2024 - 03 - 05)),
            ("2024-01-01 00:00:00", date!(2024 - 01 - 01)),
        ] {
            assert_eq!(date_text(input), Ok(Some(expected)), "{input}");
        }
        assert_eq!(
            date(&Cell::Number(44604.0)),
            Ok(Some(date!(2022 - 02 - 12)))
        );
        assert_eq!(
            date_text("2026-02-30"),
            Err("日期“2026-02-30”不存在".into())
        );
        assert!(date_text("明年").is_err());
        assert_eq!(date_text("  "), Ok(None));
    }

    #[test]
    fn capacities_in_every_shape_of_the_lists() {
        let t = |s: &str| capacity_kg(&Cell::Text(s.into()), Some(1));
        assert_eq!(t("4500 "), Ok(Some(4_500_000)));
        assert_eq!(t("2.5万"), Ok(Some(25_000_000)));
        assert_eq!(t("１２０００"), Ok(Some(12_000_000)));
        assert_eq!(t("1000吨/年"), Ok(Some(1_000_000)));
        assert_eq!(t("1,000.5"), Ok(Some(1_000_500)));
        assert_eq!(t("2.5万吨/年"), Ok(Some(25_000_000)));
        assert_eq!(
            capacity_kg(&Cell::Number(-500.0), Some(1)),
            Err("核准经营规模不能为负数：-500".into())
        );
        assert!(t("若干").is_err());
        assert_eq!(
            capacity_kg(&Cell::Number(1.5), header_tonnes_factor("规模（万吨/年）")),
            Ok(Some(15_000_000))
        );
        assert_eq!(
            capacity_kg(&Cell::Number(39000.0), None),
            Ok(Some(39_000_000))
        );
    }

    #[test]
    fn counts_accept_units_and_full_width_digits() {
        assert_eq!(
            count(&Cell::Text("455项".into()), "能力参数"),
            Ok(Some(455))
        );
        assert_eq!(count(&Cell::Text("８".into()), "人数"), Ok(Some(8)));
        assert_eq!(
            count(&Cell::Text("-2".into()), "环评工程师（人）"),
            Err("环评工程师（人）不能为负数：-2".into())
        );
    }

    fn cats(text: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
        hw_categories(text)
            .unwrap()
            .into_iter()
            .map(|i| (i.category, i.waste_codes, i.excluded_codes))
            .collect()
    }

    #[test]
    fn the_four_shapes_of_categories_agree() {
        let expected = vec![
            (
                "HW08".to_string(),
                vec!["900-199-08".to_string(), "900-210-08".to_string()],
                vec![],
            ),
            ("HW09".to_string(), vec!["900-006-09".to_string()], vec![]),
        ];
        assert_eq!(
            cats("HW08（900-199-08、900-210-08）；HW09（900-006-09）"),
            expected
        );
        assert_eq!(
            cats(
                "废矿物油与含矿物油废物（HW08）：900-199-08、900-210-08；油/水、烃/水混合物或乳化液（HW09）：900-006-09"
            ),
            expected
        );
        assert_eq!(cats("HW08:900-199-08,900-210-08;HW09:900-006-09"), expected);
        let listed = cats("HW02、HW03、HW49（900-039-49、900-041-49）");
        assert_eq!(listed.len(), 3);
        assert!(listed[0].1.is_empty());
        assert_eq!(listed[2].1, vec!["900-039-49", "900-041-49"]);
    }

    #[test]
    fn an_exclusion_is_not_a_permitted_code() {
        let found = cats("HW04、HW49（900-039-49、900-041-49、900-047-49；不含900-044-49）");
        let hw49 = &found[1];
        assert_eq!(hw49.0, "HW49");
        assert!(!hw49.1.contains(&"900-044-49".to_string()));
        assert_eq!(hw49.2, vec!["900-044-49"]);
    }

    #[test]
    fn a_capacity_after_a_category_is_that_categorys() {
        let items =
            hw_categories("HW08（900-214-08）5000吨/年；HW49（900-039-49）0.3万吨/年").unwrap();
        assert_eq!(items[0].capacity_kg, Some(5_000_000));
        assert_eq!(items[1].capacity_kg, Some(3_000_000));
        assert_eq!(
            hw_categories("HW08（900-214-08）").unwrap()[0].capacity_kg,
            None
        );
    }

    #[test]
    fn unknown_categories_are_refused() {
        let error = hw_categories("HW49（900-039-49）；HW99（900-999-99）").unwrap_err();
        assert!(error.contains("HW99"), "{error}");
        assert!(hw_categories("废机油").is_err());
    }

    #[test]
    fn modes_phones_and_scopes() {
        assert_eq!(
            modes("收集、贮存、处置（焚烧）"),
            vec![HwMode::Collect, HwMode::Store, HwMode::Dispose]
        );
        assert_eq!(
            phone("021-59999495转8012"),
            ("021-59999495".into(), "8012".into())
        );
        assert_eq!(phone("０５１２－５９９９８６６９").0, "0512-59998669");
        assert_eq!(
            scope_fields("水和废水\n环境空气和废气,噪声和振动"),
            vec!["水和废水", "环境空气和废气", "噪声和振动"]
        );
    }

    #[test]
    fn region_names_resolve_with_or_without_province() {
        assert_eq!(region_code("上海市青浦区").as_deref(), Some("310118"));
        assert_eq!(region_code("苏州市吴江区").as_deref(), Some("320509"));
        assert_eq!(region_code("嘉兴市嘉善县").as_deref(), Some("330421"));
        assert_eq!(region_code("浙江省嘉兴市嘉善县").as_deref(), Some("330421"));
        assert_eq!(region_code("常州市武进区").as_deref(), Some("320412"));
        assert_eq!(region_code("嘉兴市桐乡市").as_deref(), Some("330483"));
        assert_eq!(region_code("火星"), None);
    }
}
