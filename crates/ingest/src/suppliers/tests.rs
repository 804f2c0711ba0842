//! The three sample lists (the repository's copy of shared/data/samples), parsed
//! without a database: every deliberately bad row refused with its reason, every
//! quirk of the good rows normalised (samples/README.md).

use super::*;
use greenbridge_store::suppliers::HwMode;
use time::macros::date;

const HW: &[u8] = include_bytes!("../../../../samples/suppliers/hazardous_waste_licences.xlsx");
const MONITORING: &[u8] = include_bytes!("../../../../samples/suppliers/monitoring_agencies.csv");
const EIA: &[u8] = include_bytes!("../../../../samples/suppliers/eia_agencies.csv");

fn rejected_rows(list: &ParsedList) -> Vec<(u64, String, String)> {
    list.rejected
        .iter()
        .map(|r| {
            (
                r.row.unwrap_or(0),
                r.field.clone().unwrap_or_default(),
                r.reason.clone(),
            )
        })
        .collect()
}

fn record(list: &ParsedList, row: u64) -> &ListRecord {
    list.records
        .iter()
        .find(|r| r.row == row)
        .unwrap_or_else(|| panic!("row {row} imported"))
}

#[test]
fn the_licence_list_keeps_59_rows_and_refuses_the_five_bad_ones() {
    let list = parse_list(HW, Some(ListKind::HwLicence)).expect("parses");
    assert_eq!(list.read, 64);
    assert_eq!(list.records.len(), 59);
    let rejected = rejected_rows(&list);
    let rows: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![12, 24, 36, 50, 61], "{rejected:#?}");
    assert_eq!(rejected[0].1, "统一社会信用代码");
    assert!(rejected[0].2.contains("校验位应为“0”"), "{}", rejected[0].2);
    assert_eq!(rejected[1].1, "单位名称");
    assert!(rejected[2].2.contains("HW99"), "{}", rejected[2].2);
    assert_eq!(rejected[3].1, "核准经营规模（吨/年）");
    assert!(rejected[3].2.contains("负数"));
    assert_eq!(rejected[4].1, "起");
    assert!(rejected[4].2.contains("2026-02-30"));
    let total: i64 = list
        .records
        .iter()
        .filter_map(|r| r.qualification.capacity_kg)
        .sum();
    assert_eq!(total, 983_600 * 1000);
}

#[test]
fn the_licence_list_quirks_are_normalised() {
    let list = parse_list(HW, None).expect("recognised without --kind");
    assert_eq!(list.kind, ListKind::HwLicence);
    assert_eq!(record(&list, 6).qualification.number, "3101180002");
    assert_eq!(record(&list, 8).credit_code.as_str(), "91310118MA1N3XGY6B");
    assert_eq!(record(&list, 10).name, "上海泠岚电池回收有限公司");
    assert_eq!(record(&list, 13).qualification.capacity_kg, Some(4_500_000));
    assert_eq!(record(&list, 15).credit_code.as_str(), "91310117183673442G");
    let row16 = &record(&list, 16).qualification;
    let hw49 = row16
        .hw_categories
        .iter()
        .find(|c| c.category == "HW49")
        .expect("HW49");
    assert!(!hw49.waste_codes.contains(&"900-044-49".to_string()));
    assert_eq!(hw49.excluded_codes, vec!["900-044-49"]);
    assert_eq!(
        record(&list, 20).qualification.capacity_kg,
        Some(25_000_000)
    );
    assert_eq!(record(&list, 32).credit_code.as_str(), "91320509MA8KCF6R56");
    assert_eq!(
        record(&list, 38).qualification.capacity_kg,
        Some(12_000_000)
    );
    assert_eq!(record(&list, 43).name, "苏州珩渚固体废物填埋处置有限公司");
    assert_eq!(record(&list, 53).qualification.capacity_kg, Some(1_000_000));
    // Row 6: Excel dates, 收集范围限本行政区域 → its district.
    let row6 = record(&list, 6);
    assert_eq!(row6.region_code, "310118");
    assert_eq!(row6.qualification.valid_from, Some(date!(2022 - 02 - 12)));
    assert_eq!(row6.qualification.service_area, vec!["310118"]);
    assert_eq!(
        row6.qualification.modes,
        vec![HwMode::Collect, HwMode::Store, HwMode::Utilise]
    );
    assert!(row6.service_categories.contains(&"HW-UTIL"));
    let mut categories: Vec<&str> = list
        .records
        .iter()
        .flat_map(|r| {
            r.qualification
                .hw_categories
                .iter()
                .map(|c| c.category.as_str())
        })
        .collect();
    categories.sort_unstable();
    categories.dedup();
    assert_eq!(
        categories.join(" "),
        "HW01 HW02 HW03 HW04 HW06 HW08 HW09 HW11 HW12 HW13 HW16 HW17 HW18 HW22 HW23 HW29 \
         HW31 HW34 HW35 HW36 HW46 HW49 HW50"
    );
}

#[test]
fn the_monitoring_list_keeps_45_rows_and_refuses_the_five_bad_ones() {
    let list = parse_list(MONITORING, Some(ListKind::Monitoring)).expect("parses");
    assert_eq!(list.read, 50);
    assert_eq!(list.records.len(), 45);
    let rejected = rejected_rows(&list);
    let rows: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![8, 16, 24, 36, 44], "{rejected:#?}");
    assert!(rejected[0].2.contains("校验位应为“H”"));
    assert_eq!(rejected[1].1, "机构名称");
    assert_eq!(rejected[2].1, "有效期至");
    assert_eq!(rejected[3].1, "资质认定证书编号");
    assert!(rejected[3].2.contains("科学计数法"));
    assert!(rejected[4].2.contains("第5位"), "{}", rejected[4].2);
    assert_eq!(record(&list, 3).name, "上海荇浔生态环境科技有限公司");
    assert_eq!(
        record(&list, 10).qualification.scope,
        "水和废水、环境空气和废气、噪声和振动"
    );
    assert_eq!(
        record(&list, 13).qualification.scope,
        "水和废水、环境空气和废气、噪声和振动、土壤和沉积物、固体废物"
    );
    let row19 = record(&list, 19);
    assert_eq!(row19.contact_phone, "021-59999495");
    assert_eq!(row19.contact_extension, "8012");
    assert_eq!(record(&list, 28).contact_phone, "0512-59998669");
    assert_eq!(record(&list, 32).qualification.scope_items, Some(455));
    assert_eq!(record(&list, 39).credit_code.as_str(), "91320115MA9NAB180B");
    assert_eq!(record(&list, 47).credit_code.as_str(), "91330402MAETWL2L5B");
    assert_eq!(
        parse_list(MONITORING, None).expect("recognised").kind,
        ListKind::Monitoring
    );
}

#[test]
fn the_eia_list_keeps_35_rows_and_refuses_the_five_bad_ones() {
    let list = parse_list(EIA, Some(ListKind::Eia)).expect("parses");
    assert_eq!(list.read, 40);
    assert_eq!(list.records.len(), 35);
    let rejected = rejected_rows(&list);
    let rows: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(rows, vec![6, 14, 22, 30, 38], "{rejected:#?}");
    assert!(rejected[0].2.contains("校验位应为“M”"));
    assert_eq!(rejected[1].1, "单位名称");
    assert_eq!(rejected[2].1, "环评工程师（人）");
    assert_eq!(rejected[3].1, "信息更新日期");
    assert!(rejected[4].2.contains("与第13行重复"), "{}", rejected[4].2);
    assert_eq!(record(&list, 9).name, "上海芷苑生态环境工程有限公司");
    assert_eq!(record(&list, 17).qualification.eia.engineers, Some(8));
    assert_eq!(
        parse_list(EIA, None).expect("recognised").kind,
        ListKind::Eia
    );
}

#[test]
fn a_list_of_the_wrong_kind_is_unreadable_with_one_message() {
    match parse_list(EIA, Some(ListKind::HwLicence)) {
        Err(IngestError::Unreadable(message)) => {
            assert!(message.contains("危险废物经营许可证"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
