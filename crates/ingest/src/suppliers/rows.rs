//! One data row of a list → an organisation and its qualification, or the reason
//! the row is refused (with the column at fault).

use greenbridge_domain::credit_code::CreditCode;
use greenbridge_domain::region::RegionTree;
use greenbridge_store::suppliers::{EiaRecord, HwMode, NewQualification, QualificationKind};

use super::ListKind;
use super::fields::{Field, Header};
use super::table::{Cell, Row};
use super::values;

/// A good row, ready to store.
#[derive(Debug, Clone)]
pub struct ListRecord {
    pub row: u64,
    pub credit_code: CreditCode,
    pub name: String,
    pub region_code: String,
    pub address: String,
    pub legal_representative: String,
    pub legal_form: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_extension: String,
    pub contact_email: String,
    pub service_categories: Vec<&'static str>,
    pub qualification: NewQualification,
}

/// A refused row: its number, the column at fault (as the header shows it) and why.
/// `number` / `credit_code` are what could still be read of the row, so that a
/// licence in a refused row is not taken as missing from the list.
#[derive(Debug, Clone)]
pub struct RowError {
    pub row: u64,
    pub field: String,
    pub reason: String,
    pub number: Option<String>,
    pub credit_code: Option<String>,
}

struct Reader<'a> {
    header: &'a Header,
    row: &'a Row,
}

impl Reader<'_> {
    fn cell(&self, field: Field) -> &Cell {
        match self.header.column(field) {
            Some(column) => self.row.cell(column.index),
            None => &Cell::Empty,
        }
    }

    fn text(&self, field: Field) -> String {
        values::clean(&self.cell(field).text())
    }

    fn label(&self, field: Field) -> String {
        self.header.label(field)
    }

    fn full_label(&self, field: Field) -> String {
        self.header
            .column(field)
            .map(|c| c.full_label.clone())
            .unwrap_or_default()
    }
}

/// Whether a row carries data at all: title and footer notes (注：…) fill one cell,
/// a data row several of the matched columns.
pub fn is_data(header: &Header, row: &Row) -> bool {
    header
        .columns
        .iter()
        .filter(|(field, _)| **field != Field::Seq)
        .filter(|(_, column)| !row.cell(column.index).is_empty())
        .count()
        >= 2
}

/// The qualification number of a list row as far as it can be read (for the keep
/// set of refused rows).
fn readable_number(kind: ListKind, reader: &Reader<'_>) -> Option<String> {
    match kind {
        ListKind::Eia => CreditCode::parse(&reader.text(Field::CreditCode))
            .ok()
            .map(|c| c.as_str().to_string()),
        _ => {
            let number = values::nfkc(&reader.text(Field::Number)).trim().to_string();
            (!number.is_empty()).then_some(number)
        }
    }
}

pub fn parse_row(kind: ListKind, header: &Header, row: &Row) -> Result<ListRecord, RowError> {
    let reader = Reader { header, row };
    let fail = |field: Field, reason: String| RowError {
        row: row.number,
        field: reader.label(field),
        reason,
        number: readable_number(kind, &reader),
        credit_code: CreditCode::parse(&reader.text(Field::CreditCode))
            .ok()
            .map(|c| c.as_str().to_string()),
    };

    let raw_code = reader.cell(Field::CreditCode).text();
    let credit_code = CreditCode::parse(&raw_code).map_err(|e| {
        fail(
            Field::CreditCode,
            format!("统一社会信用代码“{}”无效：{e}", raw_code.trim()),
        )
    })?;
    let name = reader.text(Field::Name);
    if name.is_empty() {
        return Err(fail(Field::Name, "单位名称为空".into()));
    }

    let tree = RegionTree::embedded();
    let region_text = reader.text(Field::Region);
    let region_code = values::region_code(&region_text)
        .or_else(|| {
            let district = credit_code.district_code();
            tree.get(district).map(|r| r.code.as_str().to_string())
        })
        .ok_or_else(|| {
            fail(
                Field::Region,
                format!(
                    "无法识别所在地“{region_text}”，统一社会信用代码中的地区代码也不在行政区划表中"
                ),
            )
        })?;

    let (contact_phone, contact_extension) = values::phone(&reader.text(Field::Phone));
    let note = reader.text(Field::Note);
    let mut record = ListRecord {
        row: row.number,
        credit_code: credit_code.clone(),
        name,
        region_code: region_code.clone(),
        address: reader.text(Field::Address),
        legal_representative: reader.text(Field::LegalRep),
        legal_form: reader.text(Field::LegalForm),
        contact_name: reader.text(Field::Contact),
        contact_phone,
        contact_extension,
        contact_email: values::nfkc(&reader.text(Field::Email)).trim().to_string(),
        service_categories: Vec::new(),
        qualification: NewQualification::new(kind.qualification_kind(), ""),
    };
    let date = |field: Field| values::date(reader.cell(field)).map_err(|e| fail(field, e));

    match kind {
        ListKind::HwLicence => {
            let number = values::nfkc(&reader.cell(Field::Number).text())
                .trim()
                .to_string();
            if number.is_empty() {
                return Err(fail(Field::Number, "许可证编号为空".into()));
            }
            let categories = values::hw_categories(&reader.text(Field::Categories))
                .map_err(|e| fail(Field::Categories, e))?;
            let capacity = values::capacity_kg(
                reader.cell(Field::Capacity),
                values::header_tonnes_factor(&reader.full_label(Field::Capacity)),
            )
            .map_err(|e| fail(Field::Capacity, e))?;
            let valid_from = date(Field::ValidFrom)?;
            let valid_to = date(Field::ValidTo)?;
            let issued_on = date(Field::IssuedOn)?;
            if let (Some(from), Some(to)) = (valid_from, valid_to)
                && to < from
            {
                return Err(fail(Field::ValidTo, "有效期截止日期早于起始日期".into()));
            }
            let modes_text = reader.text(Field::Modes);
            let modes = values::modes(&modes_text);
            let q = &mut record.qualification;
            q.number = number;
            q.issuer = reader.text(Field::Issuer);
            q.issued_on = issued_on;
            q.valid_from = valid_from;
            q.valid_to = valid_to;
            q.modes_text = modes_text;
            q.capacity_kg = capacity;
            q.facility_address = reader.text(Field::FacilityAddress);
            q.service_area = service_area(&note, &region_code);
            q.note = note;
            q.hw_categories = categories;
            record.service_categories.push("HW");
            for (mode, category) in [
                (HwMode::Collect, "HW-COLLECT"),
                (HwMode::Utilise, "HW-UTIL"),
                (HwMode::Dispose, "HW-DISP"),
            ] {
                if modes.contains(&mode) {
                    record.service_categories.push(category);
                }
            }
            record.qualification.modes = modes;
        }
        ListKind::Monitoring => {
            let raw = values::nfkc(&reader.cell(Field::Number).text())
                .trim()
                .to_string();
            if raw.is_empty() {
                return Err(fail(Field::Number, "资质认定证书编号为空".into()));
            }
            if raw.to_ascii_uppercase().contains('E') {
                return Err(fail(
                    Field::Number,
                    format!("资质认定证书编号“{raw}”是科学计数法（被 Excel 改写），应为12位数字"),
                ));
            }
            if raw.len() != 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(
                    Field::Number,
                    format!("资质认定证书编号应为12位数字，现为“{raw}”"),
                ));
            }
            let issued_on = date(Field::IssuedOn)?;
            let valid_to = date(Field::ValidTo)?;
            if let (Some(from), Some(to)) = (issued_on, valid_to)
                && to < from
            {
                return Err(fail(Field::ValidTo, "有效期截止日期早于发证日期".into()));
            }
            let scope_items = values::count(
                reader.cell(Field::ScopeItems),
                &reader.label(Field::ScopeItems),
            )
            .map_err(|e| fail(Field::ScopeItems, e))?;
            let scope = values::scope_fields(&reader.cell(Field::Scope).text());
            record.service_categories.push("MON");
            for (word, category) in [
                ("水", "MON-WATER"),
                ("废气", "MON-AIR"),
                ("噪声", "MON-NOISE"),
                ("土壤", "MON-SOIL"),
                ("固体废物", "MON-SW"),
                ("辐射", "MON-RAD"),
            ] {
                if scope.iter().any(|s| s.contains(word))
                    && !record.service_categories.contains(&category)
                {
                    record.service_categories.push(category);
                }
            }
            let q = &mut record.qualification;
            q.number = raw;
            q.issuer = reader.text(Field::Issuer);
            q.issued_on = issued_on;
            q.valid_from = issued_on;
            q.valid_to = valid_to;
            q.facility_address = reader.text(Field::FacilityAddress);
            q.scope = scope.join("、");
            q.scope_items = scope_items;
            q.note = note;
        }
        ListKind::Eia => {
            let count = |field: Field| {
                values::count(reader.cell(field), &reader.label(field)).map_err(|e| fail(field, e))
            };
            let eia = EiaRecord {
                credit_status: reader.text(Field::CreditStatus),
                penalty_points: count(Field::Penalty)?,
                engineers: count(Field::Engineers)?,
                staff: count(Field::Staff)?,
                reports: count(Field::Reports)?,
                forms: count(Field::Forms)?,
            };
            if eia.credit_status.is_empty() {
                return Err(fail(Field::CreditStatus, "信用状态为空".into()));
            }
            let updated = date(Field::RecordUpdated)?;
            record.service_categories.push("EIA");
            if eia.reports.is_some_and(|n| n > 0) {
                record.service_categories.push("EIA-REPORT");
            }
            if eia.forms.is_some_and(|n| n > 0) {
                record.service_categories.push("EIA-FORM");
            }
            let q = &mut record.qualification;
            q.number = credit_code.as_str().to_string();
            q.issuer = "环境影响评价信用平台".into();
            q.eia = eia;
            q.record_updated_on = updated;
            q.note = note;
        }
    }
    Ok(record)
}

/// The area a licence may serve, from its remark: 收集范围限本行政区域 (or 限本区 /
/// 本县) → the district; 限本市 → the city; 限本省 → the province. Empty = no
/// restriction.
fn service_area(note: &str, region_code: &str) -> Vec<String> {
    if !note.contains('限') {
        return Vec::new();
    }
    let code = if note.contains("本行政区") || note.contains("本区") || note.contains("本县")
    {
        region_code.to_string()
    } else if note.contains("本市") {
        format!("{}00", &region_code[..4])
    } else if note.contains("本省") {
        format!("{}0000", &region_code[..2])
    } else {
        return Vec::new();
    };
    vec![code]
}

impl ListKind {
    pub fn qualification_kind(self) -> QualificationKind {
        match self {
            ListKind::HwLicence => QualificationKind::HwLicence,
            ListKind::Monitoring => QualificationKind::Cma,
            ListKind::Eia => QualificationKind::Eia,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_areas_follow_the_remark() {
        assert_eq!(
            service_area("收集范围限本行政区域", "310118"),
            vec!["310118"]
        );
        assert_eq!(service_area("收集范围限本市", "320509"), vec!["320500"]);
        assert!(service_area("延续", "310118").is_empty());
    }
}
