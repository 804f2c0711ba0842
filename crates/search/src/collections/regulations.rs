//! 标准政策: laws, regulations, rules and standards.
//!
//! Text: title, number (with the normalised standard number, so `GB3838` finds
//! `GB 3838-2002` through the analyzer as well), summary, full text and issuer. The
//! full text is indexed but not stored here: the page cuts its snippet from the
//! database copy around the best match (see the web module), which keeps the index
//! small and the snippet work to a window instead of the whole document.
//!
//! Keywords: `level`, `status` (as recorded and kept current by the daily status job),
//! `issuer` (each co-issuer separately), `domain`, `region` (the label: 全国, 示范区, 上海市
//! …, for facets), `applies` (the scope key: `national`, `zone`, `zone:310000` or a
//! region code, for the region filter), `mandatory` (`true`/`false`, standards only),
//! `std_key` (the standard number's match keys), `sample`.
//! Numbers: `published`, `effective` and `date` (published, else effective) as Julian
//! day numbers.

use super::{CollectionSource, SourcePage};
use crate::{CollectionSpec, Doc, TextField};
use greenbridge_domain::regulation::{StandardNumber, day_number, number_key};
use greenbridge_store::regulations::{COLLECTION, Regulation};
use greenbridge_store::{Store, StoreError};

pub static REGULATIONS: CollectionSpec = CollectionSpec {
    name: COLLECTION,
    version: 1,
    text_fields: &[
        TextField {
            name: "title",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "number",
            boost: 3.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "summary",
            boost: 1.5,
            stored_for_snippet: true,
        },
        TextField {
            name: "full_text",
            boost: 1.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "issuer_text",
            boost: 1.0,
            stored_for_snippet: false,
        },
    ],
    keyword_fields: &[
        "level",
        "status",
        "issuer",
        "domain",
        "region",
        "applies",
        "mandatory",
        "std_key",
        "sample",
    ],
    number_fields: &["published", "effective", "date"],
};

/// The co-issuers of a document: `生态环境部、国家市场监督管理总局` gives both.
pub fn issuers(issuer: &str) -> Vec<String> {
    issuer
        .split(['、', '，', ',', ';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The search document of a regulation.
pub fn regulation_doc(r: &Regulation) -> Doc {
    let mut doc = Doc::new(r.id.to_string()).text("title", r.title.clone());
    if let Some(number) = &r.doc_number {
        doc = doc.text("number", number.clone());
    }
    let keys = number_key(r.level, r.doc_number.as_deref()).ok();
    if let Some(keys) = &keys {
        if let Some(display) = &keys.display
            && Some(display) != r.doc_number.as_ref()
        {
            doc = doc.text("number", display.clone());
        }
        for key in &keys.match_keys {
            doc = doc
                .text("number", key.clone())
                .keyword("std_key", key.clone());
        }
    }
    doc = doc
        .text("summary", r.summary.clone())
        .text("full_text", r.full_text.clone())
        .text("issuer_text", r.issuer.clone())
        .keyword("level", r.level.as_str())
        .keyword("status", r.status.as_str())
        .keywords("issuer", issuers(&r.issuer))
        .keywords("domain", r.domains.iter().map(|d| d.as_str()))
        .keyword("region", r.scope.label())
        .keyword("applies", r.scope.key())
        .keyword("sample", if r.sample { "yes" } else { "no" });
    if let Some(mandatory) = r.mandatory {
        doc = doc.keyword("mandatory", if mandatory { "true" } else { "false" });
    }
    if let Some(published) = r.published {
        doc = doc.number("published", day_number(published));
    }
    if let Some(effective) = r.effective {
        doc = doc.number("effective", day_number(effective));
    }
    if let Some(date) = r.published.or(r.effective) {
        doc = doc.number("date", day_number(date));
    }
    doc
}

/// The `std_key` a typed standard number is looked up by.
pub fn std_query_key(number: &StandardNumber) -> String {
    number.query_key()
}

/// The words a highlight marks for the query `q`: each query word and its
/// alternatives (synonyms, re-cuts), as the index holds them.
pub fn highlight_terms(q: &str) -> std::collections::HashSet<String> {
    crate::analyzer::query_terms(q)
        .into_iter()
        .flat_map(|t| t.alternatives.into_iter().flatten())
        .collect()
}

/// A highlighted snippet of about `max_chars` characters cut from a long `text` (the
/// full text of a document), or `None` when no term occurs in it.
///
/// Analysing the whole text for every hit would cost milliseconds per document, so the
/// window is found first by plain (ASCII-case-insensitive) substring search for the
/// terms — the window with most matches — and only that window goes through the
/// analyzer's highlighter.
pub fn full_text_snippet(
    text: &str,
    terms: &std::collections::HashSet<String>,
    max_chars: usize,
) -> Option<String> {
    /// Characters kept before the first match of the window.
    const LEAD: usize = 20;
    /// Occurrences looked at per term (a very common word need not be counted all).
    const PER_TERM: usize = 200;
    if terms.is_empty() || text.is_empty() || max_chars == 0 {
        return None;
    }
    let folded = text.to_ascii_lowercase();
    let mut starts: Vec<usize> = Vec::new();
    for term in terms {
        if term.is_empty() {
            continue;
        }
        starts.extend(
            folded
                .match_indices(term.as_str())
                .take(PER_TERM)
                .map(|(at, _)| at),
        );
    }
    if starts.is_empty() {
        return None;
    }
    starts.sort_unstable();
    starts.dedup();
    // Byte offsets to character offsets, in one pass.
    let mut char_starts = Vec::with_capacity(starts.len());
    let mut next = starts.iter().peekable();
    let mut total = 0;
    for (chars, (byte, _)) in text.char_indices().enumerate() {
        while next.peek().is_some_and(|&&s| s <= byte) {
            char_starts.push(chars);
            next.next();
        }
        total = chars + 1;
    }
    let window = max_chars;
    let mut best = (0usize, 0usize);
    for (i, &s) in char_starts.iter().enumerate() {
        let count = char_starts[i..]
            .iter()
            .take_while(|&&t| t < s + window.saturating_sub(LEAD))
            .count();
        if count > best.0 {
            best = (count, s);
        }
    }
    let start = best
        .1
        .saturating_sub(LEAD)
        .min(total.saturating_sub(window));
    let end = (start + window).min(total);
    let piece: String = text.chars().skip(start).take(end - start).collect();
    let mut out = String::with_capacity(piece.len() + 32);
    if start > 0 {
        out.push('…');
    }
    out.push_str(&crate::highlight(&piece, terms, window));
    if end < total {
        out.push('…');
    }
    Some(out)
}

/// Reads regulations from the store for the indexer.
pub struct RegulationSource;

#[async_trait::async_trait]
impl CollectionSource for RegulationSource {
    fn spec(&self) -> &'static CollectionSpec {
        &REGULATIONS
    }

    async fn count(&self, store: &Store) -> Result<i64, StoreError> {
        store.count_regulations().await
    }

    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError> {
        let rows = store.regulations_after(after, limit).await?;
        Ok(SourcePage {
            last_id: rows.last().map(|r| r.id),
            docs: rows.iter().map(regulation_doc).collect(),
        })
    }

    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError> {
        Ok(store
            .regulations_by_ids(ids)
            .await?
            .iter()
            .map(regulation_doc)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_text_snippet_is_cut_around_the_best_match() {
        let text = format!(
            "{}第十条 锅炉大气污染物排放应当符合标准。{}",
            "前文。".repeat(800),
            "后文。".repeat(800)
        );
        let terms = highlight_terms("锅炉");
        let snippet = full_text_snippet(&text, &terms, 60).expect("a match");
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(snippet.contains("<mark>锅炉</mark>"), "{snippet}");
        assert!(full_text_snippet(&text, &highlight_terms("噪声"), 60).is_none());
        // A short text is shown whole, marked.
        let short = full_text_snippet("执行GB 3838-2002标准", &highlight_terms("gb3838"), 60)
            .expect("a match");
        assert!(short.contains("<mark>"), "{short}");
        assert!(!short.contains('…'));
    }

    #[test]
    fn markup_in_the_full_text_is_escaped() {
        let snippet = full_text_snippet("<b>锅炉</b>", &highlight_terms("锅炉"), 60).unwrap();
        assert_eq!(snippet, "&lt;b&gt;<mark>锅炉</mark>&lt;/b&gt;");
    }
}
