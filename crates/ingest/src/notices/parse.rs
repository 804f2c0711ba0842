//! The parser of ccgp-style notice pages: HTML in, a [`NewNotice`] and the list of
//! fields that could not be read out.
//!
//! The page is first flattened into labelled values and tables — the summary table
//! (`td.title` cells and the cell after each), the notice body's `label：value`
//! paragraphs, two-column rows and tables with a header row — and every field is then
//! looked up by its label's meaning, never by position. Amounts and dates go through
//! the domain's exact parsers; what they cannot read is reported and left empty.

use greenbridge_domain::money::{AmountUnit, Money};
use greenbridge_domain::notice::normalise as nfkc;
use greenbridge_domain::notice::{
    CategoryRules, NoticeDateTime, NoticeType, find_datetime, find_datetimes, region_of_address,
};
use greenbridge_domain::region::RegionTree;
use greenbridge_store::notices::{NewNotice, NoticeChange, NoticePackage};
use scraper::{ElementRef, Html, Node, Selector};
use sha2::{Digest, Sha256};

/// A field the page has but that could not be read exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub reason: String,
}

/// The result of parsing one page.
#[derive(Debug, Clone)]
pub struct ParsedNotice {
    pub notice: NewNotice,
    pub problems: Vec<Problem>,
}

/// Why a page is not a notice at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("不是公告页面：{0}")]
pub struct NotANotice(pub String);

/// Where a page came from.
#[derive(Debug, Clone)]
pub struct PageSource<'a> {
    pub site: &'a str,
    pub url: &'a str,
    pub source_id: Option<&'a str>,
    pub sample: bool,
}

/// A line of the flattened body.
#[derive(Debug, Clone)]
enum Line {
    Text(String),
    Row(Vec<String>),
}

/// Whitespace collapsed and trimmed; the characters themselves are kept as written
/// (values are stored as the page gives them; labels are also NFKC-folded).
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{a0}' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// A label without spaces, enumeration (`一、`, `1.`, `（二）`) or trailing colon.
fn label_key(s: &str) -> String {
    let key: String = nfkc(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    strip_enumeration(&key).trim_end_matches(':').to_string()
}

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || "一二三四五六七八九十".contains(c)
}

/// `一、X`, `1.X`, `1、X`, `(二)X` → `X`; anything else unchanged.
fn strip_enumeration(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('(')
        && let Some(close) = rest.find(')')
        && close > 0
        && rest[..close].chars().all(is_numeral)
    {
        return &rest[close + 1..];
    }
    let numerals: usize = s
        .chars()
        .take_while(|c| is_numeral(*c))
        .map(char::len_utf8)
        .sum();
    if numerals > 0 {
        let rest = &s[numerals..];
        if let Some(after) = rest.strip_prefix('、').or_else(|| rest.strip_prefix('.')) {
            return after;
        }
    }
    s
}

/// Selectors are compiled once: parsing a page uses the same few many times.
fn sel(s: &'static str) -> &'static Selector {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<&'static str, &'static Selector>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(s)
        .or_insert_with(|| Box::leak(Box::new(Selector::parse(s).expect("static selector"))))
}

fn element_text(e: &ElementRef) -> String {
    let mut parts = Vec::new();
    collect_text(e, &mut parts);
    clean(&parts.join(""))
}

fn collect_text(e: &ElementRef, parts: &mut Vec<String>) {
    for child in e.children() {
        match child.value() {
            Node::Text(t) => parts.push(t.to_string()),
            Node::Element(el) => {
                let name = el.name();
                if name == "style" || name == "script" {
                    continue;
                }
                if name == "br" {
                    parts.push("\n".into());
                    continue;
                }
                if let Some(child) = ElementRef::wrap(child) {
                    collect_text(&child, parts);
                }
            }
            _ => {}
        }
    }
}

/// Flattens the notice body into lines: paragraphs and other leaf blocks become text
/// lines, table rows become rows of cell texts.
fn flatten(e: &ElementRef, lines: &mut Vec<Line>) {
    let mut inline = String::new();
    let flush = |inline: &mut String, lines: &mut Vec<Line>| {
        let text = clean(inline);
        if !text.is_empty() {
            lines.push(Line::Text(text));
        }
        inline.clear();
    };
    for child in e.children() {
        match child.value() {
            Node::Text(t) => inline.push_str(t),
            Node::Element(el) => {
                let Some(child_ref) = ElementRef::wrap(child) else {
                    continue;
                };
                match el.name() {
                    "style" | "script" => {}
                    "br" => flush(&mut inline, lines),
                    "table" => {
                        flush(&mut inline, lines);
                        for tr in child_ref.select(sel("tr")) {
                            let cells: Vec<String> = tr
                                .children()
                                .filter_map(ElementRef::wrap)
                                .filter(|c| matches!(c.value().name(), "td" | "th"))
                                .map(|c| element_text(&c))
                                .collect();
                            if cells.iter().any(|c| !c.is_empty()) {
                                lines.push(Line::Row(cells));
                            }
                        }
                    }
                    "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "dt" | "dd" => {
                        flush(&mut inline, lines);
                        if child_ref.select(sel("table, p, div")).next().is_some() {
                            flatten(&child_ref, lines);
                        } else {
                            let text = element_text(&child_ref);
                            if !text.is_empty() {
                                lines.push(Line::Text(text));
                            }
                        }
                    }
                    "div" | "section" | "ul" | "ol" | "dl" | "article" | "tbody" | "center" => {
                        flush(&mut inline, lines);
                        flatten(&child_ref, lines);
                    }
                    _ => {
                        let mut parts = Vec::new();
                        collect_text(&child_ref, &mut parts);
                        inline.push_str(&parts.join(""));
                    }
                }
            }
            _ => {}
        }
    }
    flush(&mut inline, lines);
}

/// `label：value` in a text line (full-width colon already folded to `:` by NFKC).
/// A colon inside a time (`09:30`) is not a label's.
fn split_label(line: &str) -> Option<(String, String)> {
    let at = line.find([':', '：'])?;
    let (label, value) = (&line[..at], &line[at..]);
    let value = value.trim_start_matches([':', '：']);
    let label_chars = label.chars().count();
    if label_chars == 0
        || label_chars > 24
        || label.chars().last().is_some_and(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some((label_key(label), value.trim().to_string()))
}

fn is_heading(line: &str) -> bool {
    let mut chars = line.chars();
    let first = chars.next();
    let numeral = first.is_some_and(|c| "一二三四五六七八九十".contains(c));
    numeral && line.contains('、') && line.find('、').is_some_and(|p| p <= 9)
}

/// The flattened page: labelled values of the summary table and of the body, in order.
struct Page {
    summary: Vec<(String, String)>,
    body: Vec<Line>,
    /// Labelled values of the body, each with the heading of its section.
    pairs: Vec<(String, String, String)>,
}

impl Page {
    fn summary(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.summary
                .iter()
                .find(|(l, v)| l == k && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }

    /// The first body value whose label is one of `keys` (exactly), optionally only
    /// in sections whose heading contains `section`.
    fn body(&self, keys: &[&str], section: Option<&str>) -> Option<(&str, &str)> {
        keys.iter().find_map(|k| {
            self.pairs
                .iter()
                .find(|(s, l, v)| {
                    l == k && !v.is_empty() && section.is_none_or(|want| s.contains(want))
                })
                .map(|(_, l, v)| (l.as_str(), v.as_str()))
        })
    }

    /// Body values whose label starts with `prefix` (`预算金额（元）`, `预算金额`).
    fn body_prefixed(&self, prefix: &str) -> Option<(&str, &str)> {
        self.pairs
            .iter()
            .find(|(_, l, v)| l.starts_with(prefix) && !v.is_empty())
            .map(|(_, l, v)| (l.as_str(), v.as_str()))
    }

    /// Tables of the body with a header row: (header, data rows).
    fn tables(&self) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
        let mut out: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
        let mut current: Option<(Vec<String>, Vec<Vec<String>>)> = None;
        for line in &self.body {
            match line {
                Line::Row(cells) if cells.len() >= 3 => match &mut current {
                    Some((header, rows)) if header.len() == cells.len() => rows.push(cells.clone()),
                    _ => {
                        if let Some(done) = current.take() {
                            out.push(done);
                        }
                        current = Some((cells.iter().map(|c| label_key(c)).collect(), Vec::new()));
                    }
                },
                _ => {
                    if let Some(done) = current.take() {
                        out.push(done);
                    }
                }
            }
        }
        if let Some(done) = current.take() {
            out.push(done);
        }
        out
    }
}

fn read_page(doc: &Html) -> Page {
    let mut summary = Vec::new();
    for table in doc.select(sel("div.table table")) {
        for tr in table.select(sel("tr")) {
            let cells: Vec<ElementRef> = tr
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|c| c.value().name() == "td")
                .collect();
            let mut i = 0;
            while i < cells.len() {
                let is_label = cells[i]
                    .value()
                    .attr("class")
                    .is_some_and(|c| c.split_whitespace().any(|c| c == "title"));
                if is_label && i + 1 < cells.len() {
                    summary.push((
                        label_key(&element_text(&cells[i])),
                        element_text(&cells[i + 1]),
                    ));
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
    }
    let mut body = Vec::new();
    if let Some(content) = doc.select(sel("div.vF_detail_content")).next() {
        flatten(&content, &mut body);
    } else if let Some(content) = doc.select(sel("body")).next() {
        flatten(&content, &mut body);
    }
    let mut pairs = Vec::new();
    let mut section = String::new();
    for line in &body {
        match line {
            Line::Text(text) => {
                if let Some((label, value)) = split_label(text) {
                    // `一、项目编号：X` is a labelled value that is also a heading.
                    if is_heading(text) && value.is_empty() {
                        section = text.clone();
                    }
                    pairs.push((section.clone(), label, value));
                } else if is_heading(text) || text.ends_with("信息") {
                    section = text.clone();
                }
            }
            Line::Row(cells) if cells.len() == 2 => {
                pairs.push((section.clone(), label_key(&cells[0]), cells[1].clone()));
            }
            Line::Row(_) => {}
        }
    }
    Page {
        summary,
        body,
        pairs,
    }
}

fn first_text(doc: &Html, selector: &'static str) -> Option<String> {
    doc.select(sel(selector))
        .next()
        .map(|e| element_text(&e))
        .filter(|t| !t.is_empty())
}

/// The content of a `<meta>` tag, by its selector (`meta[name="PubDate"]`).
fn meta(doc: &Html, selector: &'static str) -> Option<String> {
    doc.select(sel(selector))
        .next()
        .and_then(|e| e.value().attr("content"))
        .map(clean)
        .filter(|t| !t.is_empty())
}

const METHODS: [&str; 7] = [
    "公开招标",
    "邀请招标",
    "竞争性磋商",
    "竞争性谈判",
    "询价",
    "单一来源",
    "框架协议",
];

struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    fn money(&mut self, field: &'static str, label: &str, value: &str) -> Option<Money> {
        match Money::parse(value, AmountUnit::from_label(label)) {
            Ok(m) => Some(m),
            Err(e) => {
                self.problems.push(Problem {
                    field,
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    fn datetime(&mut self, field: &'static str, value: &str) -> Option<NoticeDateTime> {
        match find_datetime(value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problems.push(Problem {
                    field,
                    reason: e.to_string(),
                });
                None
            }
        }
    }
}

/// Parses one page. `Err` only when the page is not a notice at all.
pub fn parse_notice_page(html: &str, source: &PageSource<'_>) -> Result<ParsedNotice, NotANotice> {
    let doc = Html::parse_document(html);
    let title = first_text(&doc, "div.vF_detail_header h2")
        .or_else(|| first_text(&doc, "h2.tc"))
        .or_else(|| meta(&doc, r#"meta[name="ArticleTitle"]"#))
        .ok_or_else(|| NotANotice("没有公告标题".into()))?;
    let page = read_page(&doc);
    if page.summary.is_empty() && page.pairs.len() < 3 {
        return Err(NotANotice("没有公告概要或正文".into()));
    }
    let breadcrumb: Vec<String> = doc
        .select(sel("div.vF_deail_currentloc a"))
        .map(|a| element_text(&a))
        .collect();
    let mut notice_type = NoticeType::from_title(&title);
    if notice_type == NoticeType::Other
        && let Some(last) = breadcrumb.last()
    {
        notice_type = NoticeType::from_title(last);
    }
    if notice_type == NoticeType::Other && !title.contains("公告") && !title.contains("公示") {
        return Err(NotANotice(format!("标题“{title}”不像公告")));
    }
    let mut r = Reader {
        problems: Vec::new(),
    };
    let t = clean(&title);
    let procurement_method = METHODS
        .iter()
        .find(|m| t.contains(*m))
        .or_else(|| {
            breadcrumb
                .iter()
                .rev()
                .find_map(|b| METHODS.iter().find(|m| b.contains(*m)))
        })
        .map(|m| m.to_string());

    let project_code = page
        .body(
            &[
                "项目编号",
                "采购项目编号",
                "原公告的采购项目编号",
                "招标编号",
                "采购编号",
            ],
            None,
        )
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let project_name = page
        .summary(&["采购项目名称"])
        .map(str::to_string)
        .or_else(|| {
            page.body(&["项目名称", "采购项目名称", "原公告的采购项目名称"], None)
                .map(|(_, v)| v.to_string())
        });
    let purchaser = page
        .summary(&["采购单位", "采购人"])
        .map(str::to_string)
        .or_else(|| {
            page.body(&["采购人", "采购人名称"], None)
                .map(|(_, v)| v.to_string())
        })
        .or_else(|| {
            page.body(&["名称"], Some("采购人"))
                .map(|(_, v)| v.to_string())
        });
    let purchaser_address = page
        .summary(&["采购单位地址", "采购人地址"])
        .map(str::to_string)
        .or_else(|| {
            page.body(&["地址"], Some("采购人"))
                .map(|(_, v)| v.to_string())
        });
    let agency = page
        .summary(&["代理机构名称", "采购代理机构"])
        .map(str::to_string)
        .or_else(|| {
            page.body(&["名称"], Some("代理机构"))
                .map(|(_, v)| v.to_string())
        });
    let tree = RegionTree::embedded();
    let located = purchaser_address
        .as_deref()
        .and_then(|a| region_of_address(tree, a))
        .or_else(|| {
            purchaser
                .as_deref()
                .and_then(|p| region_of_address(tree, p))
        });
    if located.is_none() {
        r.problems.push(Problem {
            field: "region_code",
            reason: "采购人地址中找不到区县".into(),
        });
    }
    let (region_code, town_code) = match located {
        Some((d, t)) => (Some(d), t),
        None => (None, None),
    };
    let item_category = page.summary(&["品目"]).map(str::to_string);

    let publish = page
        .summary(&["公告时间"])
        .map(str::to_string)
        .or_else(|| first_text(&doc, "#pubTime"))
        .or_else(|| meta(&doc, r#"meta[name="PubDate"]"#))
        .and_then(|v| r.datetime("publish_date", &v));
    let doc_window = page
        .summary(&[
            "获取招标文件时间",
            "获取采购文件时间",
            "获取磋商文件时间",
            "获取谈判文件时间",
        ])
        .map(find_datetimes)
        .unwrap_or_default();
    let opening = page
        .summary(&["开标时间", "开启时间"])
        .and_then(|v| find_datetime(v).ok())
        .map(|d| d.format());

    let changes: Vec<NoticeChange> = page
        .tables()
        .into_iter()
        .filter(|(h, _)| {
            h.iter().any(|c| c.contains("更正前")) && h.iter().any(|c| c.contains("更正后"))
        })
        .flat_map(|(header, rows)| {
            let col = |word: &str| header.iter().position(|c| c.contains(word));
            let (item, before, after) =
                (col("更正项").or(col("事项")), col("更正前"), col("更正后"));
            rows.into_iter().filter_map(move |row| {
                Some(NoticeChange {
                    item: row.get(item?)?.clone(),
                    before: row.get(before?)?.clone(),
                    after: row.get(after?)?.clone(),
                })
            })
        })
        .collect();

    let mut budget = None;
    let mut max_price = None;
    let mut deadline: Option<NoticeDateTime> = None;
    if notice_type == NoticeType::Correction {
        for change in &changes {
            let item = label_key(&change.item);
            if item.starts_with("预算金额") {
                budget = r.money("budget_yuan", &item, &change.after);
            } else if item.starts_with("最高限价") {
                max_price = r.money("max_price_yuan", &item, &change.after);
            } else if item.contains("截止时间") {
                deadline = r.datetime("deadline", &change.after);
            }
        }
    } else if notice_type.is_announcement() {
        budget = match page.body_prefixed("预算金额") {
            Some((label, value)) => r.money("budget_yuan", label, value),
            None => page
                .summary(&["预算金额"])
                .and_then(|v| r.money("budget_yuan", "预算金额", v)),
        };
        max_price = page
            .body_prefixed("最高限价")
            .and_then(|(label, value)| r.money("max_price_yuan", label, value));
        deadline = announcement_deadline(&page, &mut r);
    }

    let packages: Vec<NoticePackage> = page
        .tables()
        .into_iter()
        .filter(|(h, _)| {
            h.first()
                .is_some_and(|c| c.starts_with("合同包") || c.starts_with("包号"))
        })
        .flat_map(|(header, rows)| {
            let name = header.iter().position(|c| c.contains("名称"));
            let budget = header.iter().position(|c| c.starts_with("预算金额"));
            let unit = budget
                .map(|b| AmountUnit::from_label(&header[b]))
                .unwrap_or(AmountUnit::Yuan);
            rows.into_iter()
                .map(move |row| NoticePackage {
                    no: row.first().cloned().unwrap_or_default(),
                    name: name.and_then(|n| row.get(n)).cloned().unwrap_or_default(),
                    budget_fen: budget
                        .and_then(|b| row.get(b))
                        .and_then(|v| Money::parse(v, unit).ok())
                        .map(Money::fen),
                })
                .collect::<Vec<_>>()
        })
        .collect();

    let (mut winner, mut award) = (None, None);
    if notice_type == NoticeType::Result {
        for (header, rows) in page.tables() {
            let Some(name_col) = header.iter().position(|c| {
                c.contains("供应商名称") || c.contains("中标人") || c.contains("成交供应商")
            }) else {
                continue;
            };
            let amount_col = header
                .iter()
                .position(|c| c.contains("金额") || c.contains("报价"));
            let mut names = Vec::new();
            let mut total = Some(Money::ZERO);
            for row in &rows {
                if let Some(name) = row.get(name_col).filter(|n| !n.is_empty()) {
                    names.push(name.clone());
                }
                let amount = amount_col
                    .and_then(|c| row.get(c))
                    .and_then(|v| r.money("award_yuan", &header[amount_col.unwrap_or(0)], v));
                total = match (total, amount) {
                    (Some(t), Some(a)) => t.checked_add(a),
                    _ => None,
                };
            }
            if !names.is_empty() {
                winner = Some(names.join("；"));
                award = total.filter(|_| amount_col.is_some());
                break;
            }
        }
        if award.is_none() {
            award = page
                .summary(&["总中标金额", "总成交金额", "中标金额", "成交金额"])
                .and_then(|v| r.money("award_yuan", "金额", v));
        }
    }

    let mut text_lines: Vec<String> = Vec::new();
    for line in &page.body {
        match line {
            Line::Text(t) => text_lines.push(t.clone()),
            Line::Row(cells) => text_lines.push(cells.join(" | ")),
        }
    }
    let body_text = text_lines.join("\n");
    let categories = CategoryRules::embedded().categorise(&title, &body_text);
    let mut hasher = Sha256::new();
    hasher.update(title.as_bytes());
    for (l, v) in &page.summary {
        hasher.update(l.as_bytes());
        hasher.update(v.as_bytes());
    }
    hasher.update(body_text.as_bytes());
    let content_hash = data_encoding::HEXLOWER.encode(&hasher.finalize());

    let site = meta(&doc, r#"meta[name="ContentSource"]"#)
        .or_else(|| meta(&doc, r#"meta[name="SiteName"]"#))
        .unwrap_or_else(|| source.site.to_string());
    let notice = NewNotice {
        source_id: source.source_id.map(str::to_string),
        title: title.clone(),
        notice_type,
        procurement_method,
        project_code,
        project_name,
        purchaser,
        purchaser_address,
        agency,
        region_code,
        town_code,
        item_category,
        budget,
        max_price,
        publish_date: publish.map(|p| greenbridge_domain::time::format_date(p.date)),
        publish_at: publish.map(|p| p.unix()),
        doc_from: doc_window
            .first()
            .map(|d| greenbridge_domain::time::format_date(d.date)),
        doc_to: doc_window
            .get(1)
            .map(|d| greenbridge_domain::time::format_date(d.date)),
        deadline: deadline.map(|d| d.format()),
        deadline_at: deadline.map(|d| d.unix()),
        opening,
        winner,
        award,
        packages,
        changes,
        categories,
        body_text,
        source_site: if source.site.is_empty() {
            site
        } else {
            source.site.to_string()
        },
        source_url: source.url.to_string(),
        original_html: html.to_string(),
        content_hash,
        sample: source.sample,
    };
    Ok(ParsedNotice {
        notice,
        problems: r.problems,
    })
}

/// The bid deadline of an announcement: a `…截止时间：` value, else the first date
/// under a heading about the deadline, else the 项目概况 sentence (`并于…前递交`).
fn announcement_deadline(page: &Page, r: &mut Reader) -> Option<NoticeDateTime> {
    if let Some((_, value)) = page
        .pairs
        .iter()
        .find(|(_, l, v)| l.contains("截止时间") && !l.contains("获取") && !v.is_empty())
        .map(|(s, l, v)| (s, (l, v)))
        .map(|(_, (l, v))| (l.as_str(), v.as_str()))
    {
        return r.datetime("deadline", value);
    }
    let mut in_section = false;
    for line in &page.body {
        let Line::Text(text) = line else { continue };
        if is_heading(text) {
            in_section = text.contains("截止时间") && !text.contains("获取");
            continue;
        }
        if in_section && let Ok(found) = find_datetime(text) {
            return Some(found);
        }
    }
    for line in &page.body {
        let Line::Text(text) = line else { continue };
        if let Some(pos) = text.find("并于")
            && (text.contains("递交") || text.contains("提交"))
        {
            return r.datetime("deadline", &text[pos..]);
        }
    }
    None
}
