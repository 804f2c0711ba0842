//! Finding a list's header and matching its columns to fields by meaning: the
//! header text (NFKC, spaces and line breaks removed, units in brackets set aside)
//! is compared with each field's synonyms, so other column orders, extra columns,
//! title rows above the header and two-row headers (a merged group label over its
//! columns, e.g. 有效期限 over 起 / 止) all read the same.

use std::collections::HashMap;

use super::ListKind;
use super::table::Row;
use super::values::nfkc;

/// A field a list may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Seq,
    Region,
    Number,
    Name,
    CreditCode,
    LegalRep,
    Address,
    FacilityAddress,
    Modes,
    Categories,
    Capacity,
    ValidFrom,
    ValidTo,
    Issuer,
    IssuedOn,
    Note,
    Contact,
    Phone,
    Email,
    Scope,
    ScopeItems,
    LegalForm,
    Engineers,
    Staff,
    Reports,
    Forms,
    CreditStatus,
    Penalty,
    RecordUpdated,
}

type Spec = (Field, &'static [&'static str]);

const COMMON: &[Spec] = &[
    (Field::Seq, &["序号"]),
    (
        Field::Name,
        &[
            "单位名称",
            "企业名称",
            "机构名称",
            "持证单位名称",
            "持证单位",
            "名称",
        ],
    ),
    (
        Field::CreditCode,
        &["统一社会信用代码", "社会信用代码", "信用代码", "统一代码"],
    ),
    (
        Field::Region,
        &[
            "所在地",
            "所在地区",
            "所在区域",
            "行政区域",
            "所属地区",
            "地区",
            "区县",
        ],
    ),
    (
        Field::LegalRep,
        &["法定代表人", "法人代表", "法定代表", "法人"],
    ),
    (
        Field::Address,
        &["注册地址", "住所", "单位地址", "注册地", "地址", "通讯地址"],
    ),
    (Field::Note, &["备注", "说明"]),
    (Field::Contact, &["联系人"]),
    (Field::Phone, &["联系电话", "电话", "联系方式", "手机"]),
    (
        Field::Email,
        &["电子邮箱", "邮箱", "电子邮件", "email", "e-mail"],
    ),
];

const HW: &[Spec] = &[
    (
        Field::Number,
        &[
            "许可证编号",
            "许可证号",
            "经营许可证编号",
            "许可证证号",
            "证书编号",
            "编号",
        ],
    ),
    (
        Field::FacilityAddress,
        &[
            "经营设施地址",
            "设施地址",
            "经营地址",
            "经营场所",
            "设施所在地",
        ],
    ),
    (Field::Modes, &["经营方式", "经营类型", "方式"]),
    (
        Field::Categories,
        &[
            "核准经营危险废物类别及代码",
            "危险废物类别及代码",
            "核准经营类别",
            "经营危险废物类别",
            "危险废物类别",
            "废物类别",
            "危废类别",
            "类别及代码",
            "经营类别",
            "类别",
        ],
    ),
    (
        Field::Capacity,
        &[
            "核准经营规模",
            "经营规模",
            "核准规模",
            "经营能力",
            "处置能力",
            "规模",
        ],
    ),
    (
        Field::ValidFrom,
        &[
            "有效期限起",
            "有效期起",
            "有效期自",
            "有效期开始",
            "起始日期",
            "生效日期",
            "起",
        ],
    ),
    (
        Field::ValidTo,
        &[
            "有效期限止",
            "有效期止",
            "有效期至",
            "有效期限至",
            "截止日期",
            "到期日期",
            "止",
            "至",
        ],
    ),
    (
        Field::Issuer,
        &["发证机关", "发证单位", "发证部门", "颁发机关"],
    ),
    (Field::IssuedOn, &["发证日期", "发证时间", "颁发日期"]),
];

const MONITORING: &[Spec] = &[
    (
        Field::Number,
        &[
            "资质认定证书编号",
            "cma证书编号",
            "资质认定编号",
            "cma编号",
            "证书编号",
            "编号",
        ],
    ),
    (
        Field::FacilityAddress,
        &["实验室地址", "检测场所地址", "场所地址", "实验室"],
    ),
    (Field::IssuedOn, &["发证日期", "发证时间", "颁发日期"]),
    (
        Field::ValidTo,
        &[
            "有效期至",
            "有效期止",
            "有效期限至",
            "截止日期",
            "到期日期",
            "有效期限",
            "有效期",
        ],
    ),
    (
        Field::Issuer,
        &["发证机关", "发证单位", "发证部门", "颁发机关"],
    ),
    (
        Field::Scope,
        &[
            "检测能力范围",
            "能力范围",
            "检测范围",
            "检测领域",
            "资质认定范围",
        ],
    ),
    (
        Field::ScopeItems,
        &["能力参数", "参数数量", "检测参数", "参数"],
    ),
];

const EIA: &[Spec] = &[
    (Field::LegalForm, &["单位性质", "机构性质", "性质"]),
    (Field::Engineers, &["环评工程师", "环境影响评价工程师"]),
    (Field::Staff, &["编制人员", "编制人员数"]),
    (
        Field::Reports,
        &["近三年编制报告书", "编制报告书", "报告书"],
    ),
    (Field::Forms, &["近三年编制报告表", "编制报告表", "报告表"]),
    (Field::CreditStatus, &["信用状态", "信用情况", "信用等级"]),
    (Field::Penalty, &["当前周期失信记分", "失信记分", "记分"]),
    (
        Field::RecordUpdated,
        &["信息更新日期", "更新日期", "更新时间"],
    ),
];

/// The fields of a list kind, with their synonyms.
fn specs(kind: ListKind) -> Vec<Spec> {
    let own = match kind {
        ListKind::HwLicence => HW,
        ListKind::Monitoring => MONITORING,
        ListKind::Eia => EIA,
    };
    COMMON.iter().chain(own).copied().collect()
}

/// Fields without which a file is not a list of the kind.
pub fn required(kind: ListKind) -> &'static [Field] {
    match kind {
        ListKind::HwLicence => &[
            Field::Name,
            Field::CreditCode,
            Field::Number,
            Field::Categories,
        ],
        ListKind::Monitoring => &[Field::Name, Field::CreditCode, Field::Number],
        ListKind::Eia => &[Field::Name, Field::CreditCode, Field::CreditStatus],
    }
}

/// What people call a field in messages.
pub fn field_name(field: Field) -> &'static str {
    match field {
        Field::Name => "单位名称",
        Field::CreditCode => "统一社会信用代码",
        Field::Number => "证书（许可证）编号",
        Field::Categories => "危险废物类别",
        Field::CreditStatus => "信用状态",
        _ => "",
    }
}

/// A header label as compared: NFKC, lower case, no spaces or line breaks.
fn normal(label: &str) -> String {
    nfkc(label)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The label without bracketed notes (units such as `(吨/年)`, `(人)`).
fn without_brackets(label: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in label.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn score(label: &str, synonym: &str) -> u32 {
    let bare = without_brackets(label);
    let synonym_len = synonym.chars().count() as u32;
    if label == synonym || bare == synonym {
        1000 + synonym_len
    } else if synonym_len == 1 {
        // 起 / 止 / 至 only close a label (有效期限起), never inside a word.
        if bare.ends_with(synonym) && bare.chars().count() <= 6 {
            100
        } else {
            0
        }
    } else if bare.contains(synonym) {
        10 + synonym_len
    } else {
        0
    }
}

/// A column matched to a field.
#[derive(Debug, Clone)]
pub struct Column {
    pub index: usize,
    /// The header text as the file shows it (the lower header row where there are
    /// two), for rejected-row messages.
    pub label: String,
    /// The composed label (group + column), for units.
    pub full_label: String,
}

/// The header of a list: where it ends and which column holds which field.
#[derive(Debug, Clone)]
pub struct Header {
    /// Index (in the rows) of the last header row; data starts after it.
    pub last_row: usize,
    pub columns: HashMap<Field, Column>,
}

impl Header {
    pub fn column(&self, field: Field) -> Option<&Column> {
        self.columns.get(&field)
    }

    pub fn label(&self, field: Field) -> String {
        self.columns
            .get(&field)
            .map_or_else(|| field_name(field).to_string(), |c| c.label.clone())
    }
}

/// Labels of a header row, optionally composed with the row below it.
fn labels(rows: &[Row], at: usize, with_sub: bool) -> Vec<(String, String)> {
    let top = &rows[at];
    let width = if with_sub {
        top.cells.len().max(rows[at + 1].cells.len())
    } else {
        top.cells.len()
    };
    let mut out = Vec::with_capacity(width);
    let mut group = String::new();
    for column in 0..width {
        let upper = top.cell(column).text();
        let upper = upper.trim();
        if !upper.is_empty() {
            group = upper.to_string();
        }
        let lower = if with_sub {
            rows[at + 1].cell(column).text().trim().to_string()
        } else {
            String::new()
        };
        let (shown, composed) = if lower.is_empty() {
            (upper.to_string(), upper.to_string())
        } else if upper.is_empty() {
            // Under a merged group label that starts further left.
            (lower.clone(), format!("{group}{lower}"))
        } else {
            (lower.clone(), format!("{upper}{lower}"))
        };
        let shown: String = shown.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        out.push((shown.trim().to_string(), composed));
    }
    out
}

/// Matches labels to fields: best scores first, each column and field once.
fn assign(kind: ListKind, labels: &[(String, String)]) -> HashMap<Field, Column> {
    let specs = specs(kind);
    let mut candidates: Vec<(u32, usize, Field)> = Vec::new();
    for (index, (_, composed)) in labels.iter().enumerate() {
        let label = normal(composed);
        if label.is_empty() {
            continue;
        }
        for (field, synonyms) in &specs {
            let best = synonyms.iter().map(|s| score(&label, s)).max().unwrap_or(0);
            if best > 0 {
                candidates.push((best, index, *field));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut columns: HashMap<Field, Column> = HashMap::new();
    let mut taken: Vec<usize> = Vec::new();
    for (_, index, field) in candidates {
        if columns.contains_key(&field) || taken.contains(&index) {
            continue;
        }
        taken.push(index);
        let (shown, composed) = &labels[index];
        columns.insert(
            field,
            Column {
                index,
                label: shown.clone(),
                full_label: composed.clone(),
            },
        );
    }
    columns
}

/// How many rows from the top may be title rows before the header.
const HEADER_SEARCH_ROWS: usize = 15;

/// Finds the header of a `kind` list among the first rows: the row (or two rows)
/// whose labels match the most fields. `None` when no row matches the required fields.
pub fn find_header(kind: ListKind, rows: &[Row]) -> Option<Header> {
    let mut best: Option<(usize, Header)> = None;
    for at in 0..rows.len().min(HEADER_SEARCH_ROWS) {
        if rows[at].is_empty() {
            continue;
        }
        let single = assign(kind, &labels(rows, at, false));
        let mut header = Header {
            last_row: at,
            columns: single,
        };
        // A second header row has labels only under some columns (the merged group
        // labels' children); a data row fills nearly all of them.
        let filled = |row: &Row| row.cells.iter().filter(|c| !c.is_empty()).count();
        if at + 1 < rows.len()
            && !rows[at + 1].is_empty()
            && filled(&rows[at + 1]) < filled(&rows[at])
        {
            let double = assign(kind, &labels(rows, at, true));
            if double.len() > header.columns.len() {
                header = Header {
                    last_row: at + 1,
                    columns: double,
                };
            }
        }
        let complete = required(kind)
            .iter()
            .all(|f| header.columns.contains_key(f));
        if !complete {
            continue;
        }
        let matched = header.columns.len();
        if best.as_ref().is_none_or(|(m, _)| matched > *m) {
            best = Some((matched, header));
        }
    }
    best.map(|(_, header)| header)
}

/// Which kind of list the rows are, when the caller did not say: the kind whose
/// header matches the most fields beyond the common ones.
pub fn detect_kind(rows: &[Row]) -> Option<ListKind> {
    let mut best: Option<(usize, ListKind)> = None;
    for kind in [ListKind::HwLicence, ListKind::Monitoring, ListKind::Eia] {
        if let Some(header) = find_header(kind, rows) {
            let own = header
                .columns
                .keys()
                .filter(|f| !COMMON.iter().any(|(c, _)| c == *f))
                .count();
            if best.is_none_or(|(n, _)| own > n) {
                best = Some((own, kind));
            }
        }
    }
    best.map(|(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::super::table::Cell;
    use super::*;

    fn row(number: u64, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text((*c).to_string())
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn a_two_row_header_under_title_rows_is_found() {
        let rows = vec![
            row(1, &["危险废物经营许可证持证单位名单"]),
            row(2, &["（数据更新至2026年2月28日）"]),
            row(
                3,
                &[
                    "序号",
                    "所在地",
                    "许可证编号",
                    "单位名称",
                    "统一社会\n信用代码",
                    "法定代表人 ",
                    "注册地址",
                    "经营设施地址",
                    "核准经营内容",
                    "",
                    "",
                    "有效期限",
                    "",
                    "发证机关",
                    "发证日期",
                    "备注",
                ],
            ),
            row(
                4,
                &[
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "经营方式",
                    "核准经营危险废物类别及代码",
                    "核准经营规模（吨/年）",
                    "起",
                    "止",
                ],
            ),
        ];
        let header = find_header(ListKind::HwLicence, &rows).expect("header");
        assert_eq!(header.last_row, 3);
        let index = |f| header.column(f).map(|c| c.index);
        assert_eq!(index(Field::CreditCode), Some(4));
        assert_eq!(index(Field::Address), Some(6));
        assert_eq!(index(Field::FacilityAddress), Some(7));
        assert_eq!(index(Field::Modes), Some(8));
        assert_eq!(index(Field::Categories), Some(9));
        assert_eq!(index(Field::Capacity), Some(10));
        assert_eq!(index(Field::ValidFrom), Some(11));
        assert_eq!(index(Field::ValidTo), Some(12));
        assert_eq!(index(Field::IssuedOn), Some(14));
        assert_eq!(header.label(Field::ValidFrom), "起");
        assert_eq!(header.label(Field::CreditCode), "统一社会信用代码");
        assert_eq!(detect_kind(&rows), Some(ListKind::HwLicence));
    }

    #[test]
    fn columns_match_by_meaning_in_any_order_with_full_width_text() {
        let rows = vec![row(
            1,
            &[
                "备用列",
                "有效期至",
                "ＣＭＡ证书编号",
                "统一社会信用代码",
                "机构名称",
                "检测能力范围",
            ],
        )];
        let header = find_header(ListKind::Monitoring, &rows).expect("header");
        assert_eq!(header.column(Field::Number).map(|c| c.index), Some(2));
        assert_eq!(header.column(Field::ValidTo).map(|c| c.index), Some(1));
        assert_eq!(detect_kind(&rows), Some(ListKind::Monitoring));
    }

    #[test]
    fn a_table_without_the_required_columns_has_no_header() {
        let rows = vec![row(1, &["姓名", "年龄"]), row(2, &["张三", "30"])];
        assert!(find_header(ListKind::Eia, &rows).is_none());
        assert_eq!(detect_kind(&rows), None);
    }
}
