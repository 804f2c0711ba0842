//! The collections the platform indexes. Each is a [`CollectionSource`]: a static
//! [`CollectionSpec`] and the way to read its documents from the database, so the
//! [`crate::Indexer`] can rebuild it and apply outbox rows to it without knowing what
//! it holds. A module adds its collection as a file here and one line in [`all`].
//!
//! The outbox row's `collection` must equal the spec's `name`, and its `doc_id` the
//! row id (a decimal integer) that [`CollectionSource::docs`] looks up.

pub mod courses;
pub mod hall;
pub mod organisations;
pub mod regulations;

use std::sync::Arc;

use crate::{CollectionSpec, Doc};
use greenbridge_store::{Store, StoreError};

pub use organisations::{ORGANISATIONS, OrganisationSource, organisation_doc};

/// One page of documents read for a rebuild, in ascending row id order.
pub struct SourcePage {
    /// The highest row id read (the next page starts after it); `None` when the page
    /// is empty, which ends the rebuild.
    pub last_id: Option<i64>,
    /// The documents of the page. A row that should not be searchable (e.g. a draft)
    /// may be left out: the page still advances by `last_id`.
    pub docs: Vec<Doc>,
}

/// Where a collection's documents come from.
#[async_trait::async_trait]
pub trait CollectionSource: Send + Sync {
    fn spec(&self) -> &'static CollectionSpec;

    /// How many rows a rebuild will read, for the progress display.
    async fn count(&self, store: &Store) -> Result<i64, StoreError>;

    /// Rows with an id above `after`, at most `limit`, as documents.
    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError>;

    /// The current documents of these row ids. Ids whose row is gone, or which should
    /// no longer be searchable, are left out: the indexer deletes them.
    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError>;
}

/// Every collection this build indexes.
pub fn all() -> Vec<Arc<dyn CollectionSource>> {
    vec![
        Arc::new(OrganisationSource),
        Arc::new(courses::CourseSource),
        Arc::new(regulations::RegulationSource),
        Arc::new(hall::NoticeSource),
        Arc::new(hall::DemandSource),
    ]
}
