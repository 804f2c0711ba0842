//! Linking the documents an FAQ answer names to 标准政策 records.
//!
//! Entries name documents by title in 《》, sometimes with a standard number before
//! or after (`GB 18597-2023《危险废物贮存污染控制标准》`, `《…总则》（HJ 819）`) and
//! sometimes with an edition (`《医疗废物分类目录（2021年版）》`); the regulation
//! records carry titles without brackets and sometimes with an edition. Both sides
//! are normalised (NFKC, no brackets, no edition or revision notes, no spaces) and
//! matched by number first, then by title; among several records the one in force
//! wins, then the newest.

use greenbridge_search::analyzer::normalize;

use crate::Reference;

/// A 标准政策 record as the linking needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegulationRecord {
    pub id: i64,
    pub title: String,
    pub doc_number: Option<String>,
    pub status: String,
}

/// The title inside the first 《》 of `text`, or the text itself.
fn title_part(text: &str) -> &str {
    match (text.find('《'), text.find('》')) {
        (Some(a), Some(b)) if b > a => &text[a + '《'.len_utf8()..b],
        _ => text,
    }
}

/// A title for comparison: NFKC, lower case, without brackets, spaces and
/// parenthesised edition or revision notes (（2021年版）, （2020年修订…）).
pub fn normalise_title(text: &str) -> String {
    let text = normalize(title_part(text));
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '(' {
            // NFKC turns （） into (). Drop the group when it is an edition note.
            let mut group = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == ')' {
                    closed = true;
                    break;
                }
                group.push(d);
            }
            let edition = group.contains("年版")
                || group.contains("修订")
                || group.contains("修正")
                || group.contains("废止");
            if !(closed && edition) {
                out.push('(');
                out.push_str(&group);
                if closed {
                    out.push(')');
                }
            }
            continue;
        }
        if c.is_whitespace() || matches!(c, '《' | '》' | '〈' | '〉' | '"' | '“' | '”') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The standard number in `text` without its year (`GB 18597-2023` → `gb18597`,
/// `HJ 25.2-2019` → `hj25.2`), if there is one.
pub fn standard_number(text: &str) -> Option<String> {
    let text = normalize(text);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for prefix in ["gb/t", "hj/t", "gb", "hj", "db"] {
        let mut from = 0;
        while let Some(pos) = compact[from..].find(prefix) {
            let start = from + pos;
            let rest = &compact[start + prefix.len()..];
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let digits = digits.trim_end_matches('.');
            if !digits.is_empty() && digits.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(format!("{prefix}{digits}"));
            }
            from = start + prefix.len();
        }
    }
    None
}

/// Links each reference to the best matching record, if any.
pub fn link_references(references: &[String], records: &[RegulationRecord]) -> Vec<Reference> {
    let keyed: Vec<(String, Option<String>, &RegulationRecord)> = records
        .iter()
        .map(|r| {
            let number = r
                .doc_number
                .as_deref()
                .and_then(standard_number)
                .or_else(|| standard_number(&r.title));
            (normalise_title(&r.title), number, r)
        })
        .collect();
    references
        .iter()
        .map(|title| {
            let wanted_number = standard_number(title);
            let wanted_title = normalise_title(title);
            let mut candidates: Vec<&RegulationRecord> = Vec::new();
            if let Some(n) = &wanted_number {
                candidates.extend(
                    keyed
                        .iter()
                        .filter(|(_, number, _)| number.as_ref() == Some(n))
                        .map(|k| k.2),
                );
            }
            if candidates.is_empty() && !wanted_title.is_empty() {
                candidates.extend(
                    keyed
                        .iter()
                        .filter(|(t, _, _)| *t == wanted_title)
                        .map(|k| k.2),
                );
            }
            let best = candidates
                .into_iter()
                .max_by_key(|r| (r.status == "现行有效", r.id));
            Reference {
                title: title.clone(),
                regulation_id: best.map(|r| r.id),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, title: &str, number: Option<&str>, status: &str) -> RegulationRecord {
        RegulationRecord {
            id,
            title: title.into(),
            doc_number: number.map(String::from),
            status: status.into(),
        }
    }

    #[test]
    fn titles_lose_brackets_editions_and_spaces() {
        assert_eq!(
            normalise_title("《医疗废物分类目录（2021年版）》"),
            normalise_title("医疗废物分类目录")
        );
        assert_eq!(
            normalise_title(
                "《中华人民共和国固体废物污染环境防治法》（2020年修订，已于2026年8月15日废止）"
            ),
            "中华人民共和国固体废物污染环境防治法"
        );
        assert_eq!(
            normalise_title("《排污单位自行监测技术指南 总则》（HJ 819）"),
            "排污单位自行监测技术指南总则"
        );
        assert!(normalise_title("《办法（试行）》").contains("试行"));
    }

    #[test]
    fn standard_numbers_are_found_without_their_year() {
        assert_eq!(
            standard_number("GB 18597-2023《危险废物贮存污染控制标准》").as_deref(),
            Some("gb18597")
        );
        assert_eq!(
            standard_number("《总则》（HJ 819）").as_deref(),
            Some("hj819")
        );
        assert_eq!(
            standard_number("HJ 25.2-2019《导则》").as_deref(),
            Some("hj25.2")
        );
        assert_eq!(
            standard_number("GB/T 15190-2014").as_deref(),
            Some("gb/t15190")
        );
        assert_eq!(standard_number("《中华人民共和国生态环境法典》"), None);
    }

    #[test]
    fn references_link_by_number_then_title_preferring_the_record_in_force() {
        let records = [
            record(1, "国家危险废物名录（2021年版）", None, "已废止"),
            record(2, "国家危险废物名录（2025年版）", None, "现行有效"),
            record(
                3,
                "危险废物贮存污染控制标准",
                Some("GB 18597-2023"),
                "现行有效",
            ),
        ];
        let refs = [
            "《国家危险废物名录》".to_string(),
            "GB 18597-2023《危险废物贮存污染控制标准》".to_string(),
            "《不存在的办法》".to_string(),
        ];
        let linked = link_references(&refs, &records);
        assert_eq!(linked[0].regulation_id, Some(2));
        assert_eq!(linked[1].regulation_id, Some(3));
        assert_eq!(linked[2].regulation_id, None);
        assert_eq!(linked[2].title, "《不存在的办法》");
    }
}
