//! Importers, parsers and connectors (DESIGN.md "ingest"): each source is a parser
//! (bytes in, typed records and a list of row errors out) plus a connector (where the
//! bytes come from). Imports are idempotent: the same file twice changes nothing.
//!
//! [`import`] is the one entry point the `greenbridge import` command and the web's
//! upload pages call; each dataset's module does the work.

pub mod courses;
pub mod demands;
pub mod faq;
pub mod notices;
pub mod outbound;
pub mod regulations;
pub mod report;
pub mod suppliers;

use std::path::Path;

use greenbridge_store::{Store, StoreError};

pub use report::{ImportOptions, ImportReport, Rejected, Skipped};

/// The datasets `greenbridge import` knows, named as on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Suppliers,
    Notices,
    Demands,
    Regulations,
    Faq,
    Courses,
}

impl Dataset {
    pub const ALL: [Dataset; 6] = [
        Dataset::Suppliers,
        Dataset::Notices,
        Dataset::Demands,
        Dataset::Regulations,
        Dataset::Faq,
        Dataset::Courses,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dataset::Suppliers => "suppliers",
            Dataset::Notices => "notices",
            Dataset::Demands => "demands",
            Dataset::Regulations => "regulations",
            Dataset::Faq => "faq",
            Dataset::Courses => "courses",
        }
    }

    pub fn parse(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input could not be read at all (missing, not a list, wrong format): the
    /// command exits 2 and nothing is committed.
    #[error("{0}")]
    Unreadable(String),
    /// The options do not fit the dataset (e.g. an unknown `--kind`).
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports `path` as `dataset`.
pub async fn import(
    store: &Store,
    dataset: Dataset,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    if !path.exists() {
        return Err(IngestError::Unreadable(format!(
            "no file or folder at {}",
            path.display()
        )));
    }
    let _ = (store, options);
    match dataset {
        Dataset::Suppliers => suppliers::import(store, path, options).await,
        Dataset::Notices => notices::import(store, path, options).await,
        Dataset::Demands => demands::import(store, path, options).await,
        Dataset::Regulations => regulations::import(store, &read_input(path)?, options).await,
        Dataset::Faq => faq::import(store, path, options).await,
        Dataset::Courses => courses::import(store, path, options).await,
    }
}

/// Reads a whole input file, naming it in the error.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path)
        .map_err(|e| IngestError::Unreadable(format!("cannot read {}: {e}", path.display())))
}
