//! Government online systems an enterprise uses (排污许可, 固废管理, 一网通办 …), shown
//! by 惠企服务 as a guide. An address is given only where a source stated it; empty
//! means unknown, not absent.

use std::sync::OnceLock;

use serde::Serialize;

use crate::reference::{ReferenceDataError, read_rows};

const GOV_SYSTEMS_CSV: &str = include_str!("../../../reference/gov_systems.csv");

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovSystem {
    pub name: String,
    /// The address as the source stated it; `None` where no source gave one.
    pub url: Option<String>,
    /// `未核实` where no source named the operator.
    pub operator: String,
    pub who_needs_it: String,
    pub topics: String,
    /// 全国, 上海市, 江苏省 or 浙江省.
    pub region: String,
}

/// Every system, in file order.
pub fn gov_systems() -> &'static [GovSystem] {
    static SYSTEMS: OnceLock<Vec<GovSystem>> = OnceLock::new();
    SYSTEMS.get_or_init(|| {
        parse(GOV_SYSTEMS_CSV).unwrap_or_else(|e| panic!("embedded gov_systems.csv: {e}"))
    })
}

fn parse(text: &str) -> Result<Vec<GovSystem>, ReferenceDataError> {
    const FILE: &str = "gov_systems.csv";
    let header = [
        "name",
        "url",
        "operator",
        "who_needs_it",
        "topics",
        "region",
    ];
    read_rows(FILE, text, &header)?
        .into_iter()
        .map(|row| {
            let name = row.get(0).trim().to_owned();
            if name.is_empty() {
                return Err(ReferenceDataError::new(FILE, row.number, "empty name"));
            }
            let url = Some(row.get(1).trim().to_owned()).filter(|u| !u.is_empty());
            Ok(GovSystem {
                name,
                url,
                operator: row.get(2).trim().to_owned(),
                who_needs_it: row.get(3).trim().to_owned(),
                topics: row.get(4).trim().to_owned(),
                region: row.get(5).trim().to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_loads_with_its_21_systems() {
        let systems = gov_systems();
        assert_eq!(systems.len(), 21);
        assert!(
            systems
                .iter()
                .any(|s| s.name == "全国排污许可证管理信息平台" && s.url.is_some())
        );
        assert!(systems.iter().any(|s| s.url.is_none()));
    }
}
