//! `serve --demo`: the reference data and every sample data set that exists, loaded
//! once and idempotently (DESIGN.md "Commands"). Sample content is fictional and is
//! marked 示例数据 on its pages (the `sample` column of the rows it creates).
//!
//! The reference data (regions, HW categories and waste codes, service categories) is
//! embedded in the binary and needs no loading: this checks it parses and counts it.
//! Each module's importer then loads the repository's copy of its samples (`samples/`,
//! embedded by the ingest crate's `import_samples` functions) with `sample = true`, and
//! adds a line to the [`DemoReport`]; the classroom's sample video is attached as a
//! lesson by [`attach_demo_media`] once the file store exists.
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
    /// One entry per sample data set loaded.
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
            f.write_str("no sample data sets loaded")
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
    let mut report = DemoReport {
        regions: regions.len(),
        hw_categories: hw.categories().len(),
        waste_codes: hw.waste_codes().len(),
        service_categories: services.all().len(),
        sample_sets: Vec::new(),
    };
    // 惠企服务: the three official-list samples (licences, monitoring labs, EIA agencies).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (kind, imported) in greenbridge_ingest::suppliers::import_samples(store, now)
        .await
        .context("cannot import the sample supplier lists")?
    {
        report.sample_sets.push(SampleSetReport {
            kind: kind.as_str(),
            created: imported.created as usize,
            unchanged: imported.unchanged as usize,
        });
    }
    // 需求大厅: the sample notice pages and the sample enterprise demands.
    let notices = greenbridge_ingest::notices::import_samples(store, now)
        .await
        .context("cannot import the sample notices")?;
    report.sample_sets.push(SampleSetReport {
        kind: "notices",
        created: notices.created as usize,
        unchanged: notices.unchanged as usize,
    });
    let demands = greenbridge_ingest::demands::import_samples(store, now)
        .await
        .context("cannot import the sample demands")?;
    report.sample_sets.push(SampleSetReport {
        kind: "demands",
        created: demands.created as usize,
        unchanged: demands.unchanged as usize,
    });
    // 标准政策: the laws, regulations and standards (real reference data).
    let regulations = greenbridge_ingest::regulations::import_samples(store, now)
        .await
        .context("cannot import the regulations")?;
    report.sample_sets.push(SampleSetReport {
        kind: "regulations",
        created: regulations.created as usize,
        unchanged: regulations.unchanged as usize,
    });
    // 绿色课堂: the sample course catalogue (its sample video: [`attach_demo_media`]).
    let courses = greenbridge_ingest::courses::import_samples(store, now)
        .await
        .context("cannot import the sample courses")?;
    report.sample_sets.push(SampleSetReport {
        kind: "courses",
        created: courses.created as usize,
        unchanged: courses.unchanged as usize,
    });
    // 智能问答: the FAQ base, the 办事流程 guides and the sample events.
    for (kind, imported) in greenbridge_ingest::faq::import_samples(store, now)
        .await
        .context("cannot import the FAQ base, procedures and events")?
    {
        report.sample_sets.push(SampleSetReport {
            kind,
            created: imported.created as usize,
            unchanged: imported.unchanged as usize,
        });
    }
    store
        .put_setting(DEMO_SETTING, "true")
        .await
        .context("cannot record demo mode in the database")?;
    Ok(report)
}

/// The demo's files, which live in the file store under `data_dir` rather than in the
/// database: the project's own sample video (with captions and poster) as a lesson of
/// every sample course. Idempotent; returns how many lessons it added.
pub async fn attach_demo_media(store: &Store, data_dir: &std::path::Path) -> anyhow::Result<usize> {
    let files = greenbridge_store::blob::LocalFileStore::open_dir(data_dir.join("files"))
        .context("cannot open the file store under the data directory")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    greenbridge_web::routes::classroom::attach_sample_lessons(store, &files, now)
        .await
        .context("cannot attach the sample video to the sample courses")
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
        assert_eq!(first.regions, second.regions);
        assert_eq!(first.waste_codes, second.waste_codes);
        assert_eq!(first.sample_sets.len(), second.sample_sets.len());
        // The second load finds every sample row already there.
        assert!(second.sample_sets.iter().all(|set| set.created == 0));
        assert!(first.regions > 0 && first.hw_categories > 0 && first.service_categories > 0);
        assert!(demo_enabled(&store).await.expect("read"));
        let suppliers: Vec<&SampleSetReport> = first
            .sample_sets
            .iter()
            .filter(|set| ["hw-licence", "monitoring", "eia"].contains(&set.kind))
            .collect();
        // 59 licence holders, 45 labs, then 32 new EIA agencies (3 are labs already).
        let created: Vec<usize> = suppliers.iter().map(|set| set.created).collect();
        assert_eq!(created, vec![59, 45, 32]);
    }
}
