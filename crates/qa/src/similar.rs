//! 相似问法: other ways users ask what an entry answers. Every Chinese FAQ
//! assistant keeps them next to the entry's own question (标准问); the engine
//! matches them like the question, in a field of their own.
//!
//! The platform ships a starter list for the entries of the sample base
//! (reference/faq_similar_questions.jsonl, keyed by `source_id`), written by
//! hand from each entry's answer. `greenbridge import faq` gives it to an
//! entry whose line carries no `similar_questions`; staff edit the list on the
//! site afterwards.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::{Entry, Reference};

const STARTER: &str = include_str!("../../../reference/faq_similar_questions.jsonl");

#[derive(serde::Deserialize)]
struct StarterLine {
    source_id: String,
    similar_questions: Vec<String>,
}

static STARTER_LIST: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    STARTER
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let parsed: StarterLine =
                serde_json::from_str(line).expect("reference/faq_similar_questions.jsonl");
            (parsed.source_id, parsed.similar_questions)
        })
        .collect()
});

/// The starter similar questions of the entry with this `source_id` (empty when
/// the platform ships none).
pub fn starter(source_id: &str) -> &'static [String] {
    STARTER_LIST
        .get(source_id)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The entries of FAQ lines as in samples/faq_part*.jsonl, numbered from 1, each
/// with its starter similar questions, references unlinked. For the tests, the
/// benchmark and the tuning example, which run without a database; a line that
/// is not a JSON object is skipped.
pub fn sample_entries(files: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in files
        .iter()
        .flat_map(|text| text.lines())
        .filter(|l| !l.trim().is_empty())
    {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let list = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let source_id = text("id");
        out.push(Entry {
            id: out.len() as i64 + 1,
            similar_questions: starter(&source_id).to_vec(),
            source_id: Some(source_id),
            question: text("question"),
            answer: text("answer"),
            category: text("category"),
            subcategory: text("subcategory"),
            region: text("region"),
            keywords: list("keywords"),
            references: list("references")
                .into_iter()
                .map(|title| Reference {
                    title,
                    regulation_id: None,
                })
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_starter_line_names_an_entry_of_the_sample_base() {
        let entries = sample_entries(&[
            include_str!("../../../samples/faq_part1.jsonl"),
            include_str!("../../../samples/faq_part2.jsonl"),
        ]);
        for id in STARTER_LIST.keys() {
            assert!(
                entries.iter().any(|e| e.source_id.as_deref() == Some(id)),
                "{id} is not in the sample base"
            );
        }
        for list in STARTER_LIST.values() {
            assert!(list.iter().all(|q| !q.trim().is_empty()));
        }
    }
}
