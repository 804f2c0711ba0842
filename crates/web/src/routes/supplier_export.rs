//! The XLSX export of a supplier search: one row per qualification (an organisation
//! without any gets one row of its own), so a spreadsheet user can filter by licence.

use crate::routes::suppliers::Found;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_domain::time::format_date;
use greenbridge_store::suppliers::format_tonnes;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

pub const HEADER: [&str; 18] = [
    "单位名称",
    "统一社会信用代码",
    "所在地区",
    "地址",
    "规模",
    "服务类别",
    "资质类型",
    "证书/许可证编号",
    "有效期起",
    "有效期至",
    "状态",
    "危废类别",
    "废物代码",
    "经营方式",
    "核准能力（吨/年）",
    "服务区域限制",
    "检测能力/信用状态",
    "示例数据",
];

/// The workbook's bytes. `total` is how many organisations matched (the sheet may hold
/// fewer: the export is capped).
pub fn workbook(rows: &[Found], today: time::Date, total: usize) -> Result<Vec<u8>, XlsxError> {
    let tree = RegionTree::embedded();
    let services = ServiceCatalogue::embedded();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("第三方服务机构")?;
    let bold = Format::new().set_bold();
    for (col, title) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    let mut r: u32 = 1;
    for found in rows {
        let o = &found.organisation;
        let profile = found.profile.as_ref();
        let size = profile
            .and_then(|p| p.size_band)
            .map_or("未填", |s| s.as_str());
        let categories = profile
            .map(|p| {
                p.service_categories
                    .iter()
                    .filter_map(|c| services.get(c).map(|c| c.name.clone()))
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .unwrap_or_default();
        let base = [
            o.name.clone(),
            o.credit_code.to_string(),
            tree.full_name(&o.region_code),
            o.address.clone(),
            size.to_string(),
            categories,
        ];
        let sample = if o.sample { "示例数据" } else { "" };
        let write_base =
            |sheet: &mut rust_xlsxwriter::Worksheet, r: u32| -> Result<(), XlsxError> {
                for (col, value) in base.iter().enumerate() {
                    sheet.write_string(r, col as u16, value)?;
                }
                sheet.write_string(r, 17, sample)?;
                Ok(())
            };
        if found.qualifications.is_empty() {
            write_base(sheet, r)?;
            r += 1;
            continue;
        }
        for q in &found.qualifications {
            write_base(sheet, r)?;
            let watch = q.watch(today);
            let status = if q.not_in_latest {
                format!("{}；不在最新名单", watch.label_zh())
            } else {
                watch.label_zh()
            };
            let hw = q
                .hw_categories
                .iter()
                .map(|c| c.category.clone())
                .collect::<Vec<_>>()
                .join("、");
            let codes = q
                .hw_categories
                .iter()
                .flat_map(|c| c.waste_codes.iter().cloned())
                .collect::<Vec<_>>()
                .join("、");
            let modes = if q.modes_text.is_empty() {
                q.modes
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            } else {
                q.modes_text.clone()
            };
            let area = q
                .service_area
                .iter()
                .map(|c| tree.full_name(c))
                .collect::<Vec<_>>()
                .join("、");
            let detail = if q.scope.is_empty() {
                q.eia.credit_status.clone()
            } else {
                q.scope.clone()
            };
            let texts = [
                q.kind.label_zh().to_string(),
                q.number.clone(),
                q.valid_from.map(format_date).unwrap_or_default(),
                q.valid_to.map(format_date).unwrap_or_default(),
                status,
                hw,
                codes,
                modes,
            ];
            for (i, value) in texts.iter().enumerate() {
                sheet.write_string(r, 6 + i as u16, value)?;
            }
            // Capacity as a number, so a spreadsheet can sort and sum it.
            if let Some(kg) = q.capacity_kg {
                match format_tonnes(kg).parse::<f64>() {
                    Ok(t) => sheet.write_number(r, 14, t)?,
                    Err(_) => sheet.write_string(r, 14, format_tonnes(kg))?,
                };
            }
            sheet.write_string(r, 15, &area)?;
            sheet.write_string(r, 16, &detail)?;
            r += 1;
        }
    }
    if total > rows.len() {
        sheet.write_string(
            r + 1,
            0,
            format!(
                "共 {total} 家机构符合条件，本表只含前 {} 家；请缩小查询范围后再导出。",
                rows.len()
            ),
        )?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, r.saturating_sub(1).max(1), (HEADER.len() - 1) as u16)?;
    book.save_to_buffer()
}
