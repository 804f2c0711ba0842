use crate::config::Config;
use crate::metrics::Metrics;
use greenbridge_domain::module::Module;
use greenbridge_store::{Clock, Store};
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Key for signing CSRF tokens; kept in the database so every instance shares it.
    pub signing_key: Arc<[u8]>,
    pub metrics: Arc<Metrics>,
    pub modules: Arc<ModuleSwitches>,
    /// Present when a mail server and the public address are configured.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// This instance's search indexes, fed from the database's outbox.
    pub search: Arc<greenbridge_search::Indexer>,
    /// Where uploaded files' bytes live (`<data>/files`); metadata is in `files`.
    pub files: Arc<dyn greenbridge_store::blob::FileStore>,
    /// The 智能问答 engine over the FAQ base, rebuilt when the base changes.
    pub qa: Arc<crate::qa_cache::QaCache>,
}

/// Which modules an admin has switched off. Read from the database at most every few
/// seconds so that a page view costs no query, yet every instance follows a switch.
pub struct ModuleSwitches {
    cache: RwLock<(Option<Instant>, HashSet<Module>)>,
}

const MODULE_SETTING: &str = "modules.disabled";
const MODULE_CACHE_TTL: Duration = Duration::from_secs(5);

impl ModuleSwitches {
    pub fn new() -> ModuleSwitches {
        ModuleSwitches {
            cache: RwLock::new((None, HashSet::new())),
        }
    }

    pub async fn disabled(&self, store: &Store) -> HashSet<Module> {
        {
            let cache = self.cache.read().expect("module cache lock");
            if let (Some(at), set) = &*cache
                && at.elapsed() < MODULE_CACHE_TTL
            {
                return set.clone();
            }
        }
        let set = match store.setting(MODULE_SETTING).await {
            Ok(value) => parse_disabled(value.as_deref().unwrap_or("")),
            Err(error) => {
                tracing::warn!(%error, "cannot read module switches; keeping the last known");
                return self.cache.read().expect("module cache lock").1.clone();
            }
        };
        *self.cache.write().expect("module cache lock") = (Some(Instant::now()), set.clone());
        set
    }

    pub async fn is_enabled(&self, store: &Store, module: Module) -> bool {
        !self.disabled(store).await.contains(&module)
    }

    pub async fn set_disabled(
        &self,
        store: &Store,
        disabled: &HashSet<Module>,
    ) -> greenbridge_store::Result<()> {
        let mut slugs: Vec<&str> = disabled.iter().map(|m| m.slug()).collect();
        slugs.sort_unstable();
        store.put_setting(MODULE_SETTING, &slugs.join(",")).await?;
        *self.cache.write().expect("module cache lock") = (Some(Instant::now()), disabled.clone());
        Ok(())
    }
}

impl Default for ModuleSwitches {
    fn default() -> Self {
        Self::new()
    }
}

fn parse_disabled(value: &str) -> HashSet<Module> {
    value
        .split(',')
        .filter_map(|slug| slug.trim().parse().ok())
        .collect()
}
