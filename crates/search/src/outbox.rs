//! Keeping this instance's indexes up to date from the database's outbox.
//!
//! Every write that must reach an index adds an outbox row in its own transaction.
//! Each instance reads the rows after the highest id it has applied. On PostgreSQL a
//! lower id can become visible after a higher one (transactions commit out of order),
//! so a high-water mark alone would skip rows: the ids below the mark that were not
//! there when the mark passed them are kept as *gaps* and looked for again on every
//! pass, until they appear or [`GAP_PATIENCE`] has gone by (a rolled-back transaction
//! leaves a gap that never fills). Applying a row re-reads the current database row,
//! so applying one twice or late is harmless.
//!
//! The cursor (mark and gaps) is kept in `<data>/search/outbox-cursor.json`. An
//! instance whose cursor is missing, whose index had to be wiped, or whose mark is
//! below rows already purged from the outbox rebuilds its indexes from the tables.

use crate::collections::{CollectionSource, ORGANISATIONS};
use crate::{SearchError, SearchIndex};
use greenbridge_store::{OutboxRow, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The setting that asks every instance to rebuild: when its value differs from the
/// one an instance last rebuilt under, that instance rebuilds on its next pass.
pub const GENERATION_SETTING: &str = "search.generation";

/// How long a missing id is waited for before it is taken for a rollback.
pub const GAP_PATIENCE: Duration = Duration::from_secs(120);
/// Rows read per query.
const BATCH: i64 = 500;
/// On a rebuild, ids this far below the mark that are not yet visible become gaps.
const REBUILD_LOOKBACK: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum IndexingError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot keep the outbox cursor in {path}: {source}")]
    Cursor {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Cursor {
    /// Every row up to here has been applied, except the gaps.
    high_water: i64,
    /// Ids below the mark not seen yet, with when they were first missed (unix s).
    gaps: BTreeMap<i64, i64>,
    /// The [`GENERATION_SETTING`] this index was last rebuilt under.
    #[serde(default)]
    generation: String,
}

/// One collection: where its documents come from, and this instance's index of them.
struct Collection {
    source: Arc<dyn CollectionSource>,
    index: Arc<SearchIndex>,
}

/// This instance's search indexes and its position in the outbox.
pub struct Indexer {
    store: Store,
    /// The organisations index, the one most pages use (also in `collections`).
    pub organisations: Arc<SearchIndex>,
    collections: Vec<Collection>,
    cursor_path: PathBuf,
    cursor: Mutex<Option<Cursor>>,
    /// Serialises passes: the background loop and a command may both call in.
    pass: tokio::sync::Mutex<()>,
    /// Documents done and to do in the rebuild under way, for a progress page.
    rebuilding: Mutex<Option<(usize, usize)>>,
}

impl Indexer {
    /// Opens the indexes under `data_dir`; call [`Indexer::catch_up`] to bring them up
    /// to date (it rebuilds when needed).
    pub fn open(store: Store, data_dir: &Path) -> Result<Indexer, IndexingError> {
        Indexer::open_with(store, data_dir, crate::collections::all())
    }

    /// Opens the indexes of the given collections only (tests and benchmarks).
    pub fn open_with(
        store: Store,
        data_dir: &Path,
        sources: Vec<Arc<dyn CollectionSource>>,
    ) -> Result<Indexer, IndexingError> {
        let mut collections = Vec::with_capacity(sources.len());
        for source in sources {
            let index = Arc::new(SearchIndex::open(data_dir, source.spec())?);
            collections.push(Collection { source, index });
        }
        let organisations = match collections
            .iter()
            .find(|c| c.source.spec().name == ORGANISATIONS.name)
        {
            Some(collection) => collection.index.clone(),
            None => Arc::new(SearchIndex::open(data_dir, &ORGANISATIONS)?),
        };
        let cursor_path = data_dir.join("search").join("outbox-cursor.json");
        // A new collection, a changed spec or a damaged index: rebuild everything, as
        // the one cursor covers every collection.
        let cursor = if collections.iter().any(|c| c.index.state().needs_rebuild()) {
            None
        } else {
            std::fs::read(&cursor_path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        };
        Ok(Indexer {
            store,
            organisations,
            collections,
            cursor_path,
            cursor: Mutex::new(cursor),
            pass: tokio::sync::Mutex::new(()),
            rebuilding: Mutex::new(None),
        })
    }

    /// This instance's index of the collection named `name` (a spec's name).
    pub fn index(&self, name: &str) -> Option<Arc<SearchIndex>> {
        self.collections
            .iter()
            .find(|c| c.source.spec().name == name)
            .map(|c| c.index.clone())
    }

    /// The names of the collections this instance indexes.
    pub fn collection_names(&self) -> Vec<&'static str> {
        self.collections
            .iter()
            .map(|c| c.source.spec().name)
            .collect()
    }

    /// Rebuilds every index from the database, whatever its state.
    pub async fn rebuild(&self) -> Result<usize, IndexingError> {
        let _pass = self.pass.lock().await;
        self.rebuild_locked().await
    }

    /// `(done, total)` of the rebuild under way, if one is.
    pub fn rebuild_progress(&self) -> Option<(usize, usize)> {
        *self.rebuilding.lock().expect("progress lock")
    }

    /// Asks every instance, this one included, to rebuild its indexes on its next pass.
    pub async fn request_rebuild_everywhere(&self) -> Result<(), IndexingError> {
        self.store
            .put_setting(GENERATION_SETTING, &greenbridge_store::new_token())
            .await?;
        Ok(())
    }

    async fn rebuild_locked(&self) -> Result<usize, IndexingError> {
        let mut total = 0;
        for collection in &self.collections {
            total += collection
                .source
                .count(&self.store)
                .await
                .unwrap_or(0)
                .max(0) as usize;
        }
        *self.rebuilding.lock().expect("progress lock") = Some((0, total));
        let outcome = self.rebuild_all().await;
        *self.rebuilding.lock().expect("progress lock") = None;
        outcome
    }

    async fn rebuild_all(&self) -> Result<usize, IndexingError> {
        let generation = self
            .store
            .setting(GENERATION_SETTING)
            .await?
            .unwrap_or_default();
        // The mark first: rows written while the tables are read are applied again
        // later, which is harmless; rows from before it are in the tables already.
        let mark = self.store.outbox_max_id().await?;
        let visible: BTreeSet<i64> = self
            .store
            .outbox_after(mark - REBUILD_LOOKBACK, REBUILD_LOOKBACK)
            .await?
            .into_iter()
            .map(|row| row.id)
            .collect();
        let now = now_unix();
        let gaps = ((mark - REBUILD_LOOKBACK).max(0) + 1..=mark)
            .filter(|id| !visible.contains(id))
            .map(|id| (id, now))
            .collect();
        let mut count = 0;
        for collection in &self.collections {
            collection.index.clear()?;
            let mut after = 0;
            loop {
                let page = collection
                    .source
                    .page_after(&self.store, after, BATCH)
                    .await?;
                let Some(last) = page.last_id else { break };
                after = last;
                collection.index.upsert(&page.docs)?;
                count += page.docs.len();
                if let Some((done, total)) = self.rebuilding.lock().expect("progress lock").as_mut()
                {
                    *done = count;
                    *total = (*total).max(count);
                }
            }
            collection.index.commit()?;
        }
        self.save(Cursor {
            high_water: mark,
            gaps,
            generation,
        })?;
        tracing::info!(
            documents = count,
            outbox_mark = mark,
            "search indexes rebuilt"
        );
        Ok(count)
    }

    /// Applies the outbox rows this instance has not applied yet; rebuilds instead when
    /// the cursor cannot be trusted. Returns how many rows were applied.
    pub async fn catch_up(&self) -> Result<usize, IndexingError> {
        let _pass = self.pass.lock().await;
        let cursor = self.cursor.lock().expect("cursor lock").clone();
        let Some(mut cursor) = cursor else {
            self.rebuild_locked().await?;
            return Ok(0);
        };
        let generation = self
            .store
            .setting(GENERATION_SETTING)
            .await?
            .unwrap_or_default();
        if generation != cursor.generation {
            self.rebuild_locked().await?;
            return Ok(0);
        }
        if let Some(min) = self.store.outbox_min_id().await?
            && cursor.high_water < min - 1
        {
            // Rows this instance never saw were purged meanwhile.
            self.rebuild_locked().await?;
            return Ok(0);
        }
        let now = now_unix();
        let mut rows: Vec<OutboxRow> = Vec::new();
        if let Some((&lowest_gap, _)) = cursor.gaps.iter().next() {
            let mut after = lowest_gap - 1;
            loop {
                let page = self.store.outbox_after(after, BATCH).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                let done = after >= cursor.high_water || (page.len() as i64) < BATCH;
                rows.extend(page.into_iter().filter(|r| cursor.gaps.contains_key(&r.id)));
                if done {
                    break;
                }
            }
        }
        loop {
            let page = self.store.outbox_after(cursor.high_water, BATCH).await?;
            let full = page.len() as i64 == BATCH;
            for row in &page {
                for missing in cursor.high_water + 1..row.id {
                    cursor.gaps.insert(missing, now);
                }
                cursor.high_water = cursor.high_water.max(row.id);
            }
            rows.extend(page);
            if !full {
                break;
            }
        }
        for row in &rows {
            cursor.gaps.remove(&row.id);
        }
        let patience = GAP_PATIENCE.as_secs() as i64;
        cursor
            .gaps
            .retain(|_, first_missed| now - *first_missed < patience);
        let applied = rows.len();
        self.apply(&rows).await?;
        self.save(cursor)?;
        Ok(applied)
    }

    async fn apply(&self, rows: &[OutboxRow]) -> Result<(), IndexingError> {
        for collection in &self.collections {
            let name = collection.source.spec().name;
            let doc_ids: BTreeSet<&str> = rows
                .iter()
                .filter(|r| r.collection == name)
                .map(|r| r.doc_id.as_str())
                .collect();
            if doc_ids.is_empty() {
                continue;
            }
            let numbers: Vec<i64> = doc_ids.iter().filter_map(|id| id.parse().ok()).collect();
            let docs = collection.source.docs(&self.store, &numbers).await?;
            let present: BTreeSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
            let gone: Vec<&str> = doc_ids
                .iter()
                .copied()
                .filter(|id| !present.contains(id))
                .collect();
            collection.index.delete(&gone)?;
            collection.index.upsert(&docs)?;
            collection.index.commit()?;
        }
        Ok(())
    }

    fn save(&self, cursor: Cursor) -> Result<(), IndexingError> {
        let error = |source| IndexingError::Cursor {
            path: self.cursor_path.clone(),
            source,
        };
        if let Some(parent) = self.cursor_path.parent() {
            std::fs::create_dir_all(parent).map_err(error)?;
        }
        let temporary = self.cursor_path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&cursor).expect("a cursor serialises");
        std::fs::write(&temporary, bytes).map_err(error)?;
        std::fs::rename(&temporary, &self.cursor_path).map_err(error)?;
        *self.cursor.lock().expect("cursor lock") = Some(cursor);
        Ok(())
    }

    /// Runs [`Indexer::catch_up`] every `interval` until the process ends; a failed
    /// pass is logged and tried again on the next tick.
    pub fn spawn(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let indexer = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(error) = indexer.catch_up().await {
                    tracing::warn!(error = %error, "search catch-up failed; retrying");
                }
            }
        })
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
