//! Building the engine from the database: the published entries of the FAQ base,
//! their references linked to the 标准政策 records.

use greenbridge_store::faq::FaqEntry;
use greenbridge_store::{Store, StoreError};

use crate::references::{RegulationRecord, link_references};
use crate::{Engine, Entry};

/// The entry as the engine holds it, references linked to `records`.
pub fn to_entry(e: &FaqEntry, records: &[RegulationRecord]) -> Entry {
    Entry {
        id: e.id,
        source_id: e.source_id.clone(),
        question: e.question.clone(),
        answer: e.answer.clone(),
        category: e.category.clone(),
        subcategory: e.subcategory.clone(),
        region: e.region.clone(),
        keywords: e.keywords.clone(),
        similar_questions: e.similar_questions.clone(),
        references: link_references(&e.references, records),
    }
}

/// The 标准政策 records to link to (none when that table cannot be read).
pub async fn regulation_records(store: &Store) -> Vec<RegulationRecord> {
    match store.regulation_titles().await {
        Ok(rows) => rows
            .into_iter()
            .map(|r| RegulationRecord {
                id: r.id,
                title: r.title,
                doc_number: r.doc_number,
                status: r.status,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Builds the engine over the published entries of the base.
pub async fn load_engine(store: &Store) -> Result<Engine, StoreError> {
    let entries = store.faq_published().await?;
    let records = regulation_records(store).await;
    Ok(Engine::new(
        entries.iter().map(|e| to_entry(e, &records)).collect(),
    ))
}
