//! GreenBridge search: a Chinese analyzer on jieba and one tantivy index per
//! collection under `<data_dir>/search/<collection>/`.
//!
//! The index is derived data: it can always be rebuilt from the database. Callers
//! describe a collection with a static [`CollectionSpec`], feed it [`Doc`]s and ask
//! it [`SearchRequest`]s; queries are built in code (no query parser), see
//! [`SearchIndex::search`].

pub mod analyzer;
pub mod collections;
pub mod index;
pub mod outbox;
mod snippet;

pub use index::{
    CollectionSpec, Doc, Filter, Hit, OpenState, SearchIndex, SearchRequest, SearchResults, Sort,
    TextField,
};
pub use outbox::{Indexer, IndexingError};
pub use snippet::highlight;

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// An error of the index library (I/O, corrupt files, …).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be created, read or wiped.
    #[error("search index directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another writer (another process, or another `SearchIndex` in this one) holds
    /// the index.
    #[error("search index {0} is in use by another writer")]
    Locked(PathBuf),
    /// The collection spec is not usable (duplicate or reserved field names …).
    #[error("collection {collection}: {message}")]
    Spec {
        collection: &'static str,
        message: String,
    },
    /// A document or request names a field that the collection does not have as
    /// that kind of field.
    #[error("collection {collection} has no {kind} field {field:?}")]
    UnknownField {
        collection: &'static str,
        kind: &'static str,
        field: String,
    },
    /// A reference data file of the analyzer is malformed.
    #[error("reference/{file}: {message}")]
    ReferenceData { file: &'static str, message: String },
}
