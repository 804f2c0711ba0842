//! The two-level taxonomy of third-party eco-environment services (ours, not
//! an official classification): 16 groups such as `MON` 环境监测与检测, each
//! with services coded `PARENT-SUFFIX` (e.g. `MON-WATER`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

use crate::reference::{ReferenceDataError, read_rows};

const SERVICE_CATEGORIES_CSV: &str = include_str!("../../../reference/service_categories.csv");

/// A group (no parent) or a service within a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceCategory {
    /// Stable ASCII identifier, e.g. `MON-WATER`.
    pub code: String,
    pub name: String,
    /// The group's code; `None` for a group.
    pub parent: Option<String>,
    /// One line in plain words.
    pub description: String,
}

impl ServiceCategory {
    /// Whether this is a top-level group.
    pub fn is_group(&self) -> bool {
        self.parent.is_none()
    }
}

/// The embedded service taxonomy, in file order.
#[derive(Debug)]
pub struct ServiceCatalogue {
    categories: Vec<ServiceCategory>,
    by_code: HashMap<String, usize>,
}

impl ServiceCatalogue {
    /// The taxonomy embedded from `reference/service_categories.csv`, parsed
    /// on first use.
    ///
    /// # Panics
    /// If the embedded file is malformed: a build defect, caught by this
    /// module's tests.
    pub fn embedded() -> &'static ServiceCatalogue {
        static CATALOGUE: OnceLock<ServiceCatalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Self::from_csv(SERVICE_CATEGORIES_CSV)
                .unwrap_or_else(|e| panic!("embedded service_categories.csv: {e}"))
        })
    }

    /// Builds the taxonomy from CSV text with the columns
    /// `code,name,parent_code,description`. Codes are unique and a parent must
    /// be a group listed earlier: the taxonomy has exactly two levels.
    pub fn from_csv(text: &str) -> Result<Self, ReferenceDataError> {
        const FILE: &str = "service_categories.csv";
        let header = ["code", "name", "parent_code", "description"];
        let mut catalogue = ServiceCatalogue {
            categories: Vec::new(),
            by_code: HashMap::new(),
        };
        for row in read_rows(FILE, text, &header)? {
            let error = |reason: String| ReferenceDataError::new(FILE, row.number, reason);
            let code = row.get(0).trim().to_owned();
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(error(format!("bad code {code:?}")));
            }
            let parent = match row.get(2).trim() {
                "" => None,
                parent => {
                    let is_group = catalogue.get(parent).is_some_and(ServiceCategory::is_group);
                    if !is_group {
                        return Err(error(format!("parent {parent} is not a group above")));
                    }
                    Some(parent.to_owned())
                }
            };
            let index = catalogue.categories.len();
            if catalogue.by_code.insert(code.clone(), index).is_some() {
                return Err(error(format!("duplicate code {code}")));
            }
            catalogue.categories.push(ServiceCategory {
                code,
                name: row.get(1).trim().to_owned(),
                parent,
                description: row.get(3).trim().to_owned(),
            });
        }
        Ok(catalogue)
    }

    /// Every group and service, in file order.
    pub fn all(&self) -> &[ServiceCategory] {
        &self.categories
    }

    /// The top-level groups, in file order.
    pub fn groups(&self) -> Vec<&ServiceCategory> {
        self.categories.iter().filter(|c| c.is_group()).collect()
    }

    /// The services of group `code`, in file order; empty for a service or
    /// an unknown code.
    pub fn children(&self, code: &str) -> Vec<&ServiceCategory> {
        self.categories
            .iter()
            .filter(|c| c.parent.as_deref() == Some(code))
            .collect()
    }

    /// The group or service `code` (exact, codes are ASCII identifiers).
    pub fn get(&self, code: &str) -> Option<&ServiceCategory> {
        self.by_code.get(code).map(|&i| &self.categories[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static ServiceCatalogue {
        ServiceCatalogue::embedded()
    }

    #[test]
    fn the_embedded_file_loads_with_sixteen_groups_and_seventy_two_services() {
        assert_eq!(catalogue().all().len(), 88);
        assert_eq!(catalogue().groups().len(), 16);
        let services = catalogue().all().iter().filter(|c| !c.is_group()).count();
        assert_eq!(services, 72);
    }

    #[test]
    fn groups_come_in_file_order() {
        let groups: Vec<&str> = catalogue()
            .groups()
            .iter()
            .map(|g| g.code.as_str())
            .collect();
        assert_eq!(groups[..3], ["MON", "EIA", "HW"]);
    }

    #[test]
    fn children_belong_to_their_group() {
        let children = catalogue().children("MON");
        assert!(children.iter().any(|c| c.code == "MON-WATER"));
        assert!(children.iter().all(|c| c.parent.as_deref() == Some("MON")));
        assert!(catalogue().children("MON-WATER").is_empty());
        assert!(catalogue().children("NOPE").is_empty());
    }

    #[test]
    fn get_finds_groups_and_services() {
        assert_eq!(catalogue().get("MON").unwrap().name, "环境监测与检测");
        assert_eq!(catalogue().get("MON-WATER").unwrap().name, "水和废水检测");
        assert!(catalogue().get("mon").is_none());
    }

    #[test]
    fn a_third_level_is_rejected() {
        let csv = "code,name,parent_code,description\r\nA,a,,x\r\nA-B,b,A,x\r\nA-B-C,c,A-B,x\r\n";
        assert_eq!(ServiceCatalogue::from_csv(csv).unwrap_err().row, 4);
    }
}
