//! This instance's 智能问答 engine: built from the FAQ base on first use and rebuilt
//! when the base (or the 标准政策 records its references link to) changes.
//!
//! Each question first reads a cheap fingerprint of the base (count, highest id, sum
//! of revisions; for the regulations, their count and change counter); when it
//! differs from the one the engine was built from, the engine is rebuilt. So an
//! entry published on another instance is matched here from the next question on,
//! without a message bus.

use std::sync::{Arc, OnceLock, RwLock};

use greenbridge_qa::Engine;
use greenbridge_store::Store;

type Fingerprint = ((i64, i64, i64), (i64, i64));

/// The engine and the fingerprint of the base it was built from.
#[derive(Default)]
pub struct QaCache {
    current: RwLock<Option<(Fingerprint, Arc<Engine>)>>,
    /// One rebuild at a time; others wait and then use its result.
    rebuilding: tokio::sync::Mutex<()>,
    /// The client of the optional summary endpoint (`qa_generate`), made on first use
    /// and kept for its connection pool.
    generate_client: OnceLock<reqwest::Client>,
}

impl QaCache {
    /// The engine over the current base.
    pub async fn engine(&self, store: &Store) -> greenbridge_store::Result<Arc<Engine>> {
        let fingerprint = (
            store.faq_generation().await?,
            store.regulations_generation().await.unwrap_or((0, 0)),
        );
        if let Some(engine) = self.cached(fingerprint) {
            return Ok(engine);
        }
        let _guard = self.rebuilding.lock().await;
        if let Some(engine) = self.cached(fingerprint) {
            return Ok(engine);
        }
        let engine = Arc::new(greenbridge_qa::base::load_engine(store).await?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Some((fingerprint, engine.clone()));
        Ok(engine)
    }

    /// The HTTP client for `qa_generate` requests, trusting `roots` besides the
    /// built-in roots.
    pub fn generate_client(
        &self,
        roots: &greenbridge_ingest::outbound::OutboundRoots,
    ) -> &reqwest::Client {
        self.generate_client
            .get_or_init(|| crate::qa_generate::client(roots))
    }

    fn cached(&self, fingerprint: Fingerprint) -> Option<Arc<Engine>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        match &*current {
            Some((f, engine)) if *f == fingerprint => Some(engine.clone()),
            _ => None,
        }
    }
}
