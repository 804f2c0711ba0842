//! `serve --demo`: the reference data and every sample data set that exists, loaded
//! once and idempotently (DESIGN.md "Commands"). Sample content is fictional and is
//! marked 示例数据 on its pages (the `sample` column of the rows it creates).
//!
//! What exists so far:
//! - the reference data (regions, HW categories and waste codes, service categories)
//!   is embedded in the binary and needs no loading: this checks it parses and counts it;
//! - no sample importer exists yet, so no sample data set is loaded. Issues that add an
//!   importer (suppliers, notices, demands, regulations, FAQ, courses) add a step to
//!   [`load_demo`] that imports the repository's copy of the samples with `sample = true`,
//!   and a line to its [`DemoReport`].
//!
//! The database remembers that demo mode was used ([`DEMO_SETTING`]), so that later
//! code (and every instance) can tell a demonstration database from a real one.

use std::fmt;

use anyhow::Context as _;
use greenbridge_domain::hw::HwCatalogue;
use greenbridge_domain::region::RegionTree;
use greenbridge_domain::service_category::ServiceCatalogue;
use greenbridge_store::Store;

/// The `app_settings` key set to `"true"` once `serve --demo` has run on a database.
pub const DEMO_SETTING: &str = "demo.enabled";

/// What [`load_demo`] found and loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// Rows of the reference data embedded in the binary.
    pub regions: usize,
    pub hw_categories: usize,
    pub waste_codes: usize,
    pub service_categories: usize,
    /// One entry per sample data set loaded; empty until a sample importer exists.
    pub sample_sets: Vec<SampleSetReport>,
}

/// The outcome of loading one sample data set (e.g. `suppliers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSetReport {
    pub kind: &'static str,
    pub created: usize,
    pub unchanged: usize,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reference data embedded in the binary: {} regions, {} HW categories, {} waste codes, \
             {} service categories; ",
            self.regions, self.hw_categories, self.waste_codes, self.service_categories
        )?;
        if self.sample_sets.is_empty() {
            f.write_str("no sample data sets loaded (no sample importer exists yet)")
        } else {
            let sets: Vec<String> = self
                .sample_sets
                .iter()
                .map(|set| {
                    format!(
                        "{} ({} created, {} unchanged)",
                        set.kind, set.created, set.unchanged
                    )
                })
                .collect();
            write!(f, "sample data sets: {}", sets.join(", "))
        }
    }
}

/// Loads the demonstration data into `store`. Safe to run at every start: it creates
/// nothing twice.
pub async fn load_demo(store: &Store) -> anyhow::Result<DemoReport> {
    let regions = RegionTree::embedded();
    let hw = HwCatalogue::embedded();
    let services = ServiceCatalogue::embedded();
    let report = DemoReport {
        regions: regions.len(),
        hw_categories: hw.categories().len(),
        waste_codes: hw.waste_codes().len(),
        service_categories: services.all().len(),
        sample_sets: Vec::new(),
    };
    store
        .put_setting(DEMO_SETTING, "true")
        .await
        .context("cannot record demo mode in the database")?;
    Ok(report)
}

/// True when `serve --demo` has run on this database.
pub async fn demo_enabled(store: &Store) -> anyhow::Result<bool> {
    Ok(store
        .setting(DEMO_SETTING)
        .await
        .context("cannot read the demo setting")?
        .as_deref()
        == Some("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh_store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
        let store = Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        store
    }

    #[tokio::test]
    async fn loading_the_demo_twice_gives_the_same_report_and_marks_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = fresh_store(&dir).await;
        assert!(!demo_enabled(&store).await.expect("read"));

        let first = load_demo(&store).await.expect("first load");
        let second = load_demo(&store).await.expect("second load");
        assert_eq!(first, second);
        assert!(first.regions > 0 && first.hw_categories > 0 && first.service_categories > 0);
        assert!(demo_enabled(&store).await.expect("read"));
        assert!(first.to_string().contains("no sample data sets loaded"));
    }
}
