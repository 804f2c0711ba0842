//! One tantivy index per collection, a generic document model and queries built in
//! code.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyScorer, EnableScoring, Explanation,
    Occur, Query, RangeQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score,
    SegmentOrdinal, SegmentReader, TERMINATED, TantivyDocument, TantivyError, Term,
};

use crate::SearchError;
use crate::analyzer::{self, ChineseTokenizer, TOKENIZER_NAME};
use crate::snippet::highlight;

/// The stored, exact-match field that holds each document's id.
const ID_FIELD: &str = "id";
/// Written beside the index: which collection, spec version and layout built it.
const MARKER_FILE: &str = "greenbridge-collection.txt";
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 120;
/// Most hits one request may ask for.
const MAX_LIMIT: usize = 1000;
/// Indexing memory per writer thread (tantivy's minimum is 15 MB).
const WRITER_MEMORY_PER_THREAD: usize = 32 * 1024 * 1024;

/// A full-text field of a collection.
#[derive(Debug)]
pub struct TextField {
    pub name: &'static str,
    /// Multiplies the field's score (e.g. 3.0 for a name, 1.0 for a description).
    pub boost: f32,
    /// Store the text so that hits carry a highlighted snippet of it.
    pub stored_for_snippet: bool,
}

/// What a collection's documents hold. Declared once per collection as a `static`.
///
/// Dates are number fields (unix seconds or days since 1970-01-01, as the module
/// chooses). Bump `version` whenever the fields change: an index built for another
/// version is wiped on open and reported as needing a rebuild.
#[derive(Debug)]
pub struct CollectionSpec {
    /// Directory name under `<data_dir>/search/`: `[a-z0-9_-]+`.
    pub name: &'static str,
    pub version: u32,
    pub text_fields: &'static [TextField],
    /// Exact strings, multi-valued: filters ([`Filter::AnyOf`]) and facets. For a
    /// region, store the code and all its ancestors' codes, so that a filter on a
    /// city matches its districts.
    pub keyword_fields: &'static [&'static str],
    /// i64 values: range filters and sorting.
    pub number_fields: &'static [&'static str],
}

/// A document to index. Field names must be fields of the collection's spec; a
/// field may be given several times (multi-valued).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub id: String,
    pub text: Vec<(String, String)>,
    pub keywords: Vec<(String, String)>,
    pub numbers: Vec<(String, i64)>,
}

impl Doc {
    pub fn new(id: impl Into<String>) -> Doc {
        Doc {
            id: id.into(),
            ..Doc::default()
        }
    }

    pub fn text(mut self, field: impl Into<String>, value: impl Into<String>) -> Doc {
        self.text.push((field.into(), value.into()));
        self
    }

    pub fn keyword(mut self, field: impl Into<String>, value: impl Into<String>) -> Doc {
        self.keywords.push((field.into(), value.into()));
        self
    }

    pub fn keywords<I, S>(mut self, field: &str, values: I) -> Doc
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for v in values {
            self.keywords.push((field.to_string(), v.into()));
        }
        self
    }

    pub fn number(mut self, field: impl Into<String>, value: i64) -> Doc {
        self.numbers.push((field.into(), value));
        self
    }
}

/// A restriction of the result set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The keyword field has at least one of the values (a repeated query parameter).
    /// An empty list restricts nothing.
    AnyOf { field: String, values: Vec<String> },
    /// The number field lies in `min..=max`; a missing bound is open.
    Range {
        field: String,
        min: Option<i64>,
        max: Option<i64>,
    },
}

/// The order of hits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (index order without a query).
    #[default]
    Relevance,
    /// By a number field, then by relevance. Documents without the value sort as
    /// smaller than any value (last when descending, first when ascending).
    Number { field: String, descending: bool },
}

/// A search. `q` is free text; `None` or nothing searchable means "all documents".
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub q: Option<String>,
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub offset: usize,
    /// At most 1000.
    pub limit: usize,
    /// Keyword fields whose value counts over the whole result set are wanted.
    pub facet_fields: Vec<String>,
}

impl Default for SearchRequest {
    fn default() -> SearchRequest {
        SearchRequest {
            q: None,
            filters: Vec::new(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facet_fields: Vec::new(),
        }
    }
}

/// One found document.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    /// Per stored text field: an HTML fragment, escaped, matches in `<mark>`.
    pub snippets: BTreeMap<String, String>,
}

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    /// Matching documents in all (not only this page).
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Per requested facet field: (value, count) by count descending, then value.
    pub facets: BTreeMap<String, Vec<(String, usize)>>,
    /// True when no document had every query word and the results are those with
    /// at least one (see [`SearchIndex::search`]). False when nothing was found.
    pub relaxed: bool,
}

/// How [`SearchIndex::open`] found the index directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenState {
    /// An index built by this spec version and analyzer was opened.
    Existing,
    /// There was no index: a new, empty one was made.
    Created,
    /// The index was built by another spec version or analyzer (or is unreadable):
    /// it was wiped and a new, empty one made.
    Wiped { reason: String },
}

impl OpenState {
    /// The index is empty and must be filled from the database.
    pub fn needs_rebuild(&self) -> bool {
        !matches!(self, OpenState::Existing)
    }
}

struct Fields {
    id: Field,
    text: Vec<(Field, &'static TextField)>,
    keyword: HashMap<&'static str, Field>,
    number: HashMap<&'static str, Field>,
}

/// The index of one collection. Share it (e.g. in an `Arc`): searches run
/// concurrently; writes are serialised by an internal lock.
pub struct SearchIndex {
    spec: &'static CollectionSpec,
    dir: PathBuf,
    state: OpenState,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("collection", &self.spec.name)
            .field("dir", &self.dir)
            .field("state", &self.state)
            .finish()
    }
}

impl SearchIndex {
    /// Where the index of `collection` lives under the data directory.
    pub fn dir_for(data_dir: &Path, collection: &str) -> PathBuf {
        data_dir.join("search").join(collection)
    }

    /// Opens (or creates) the index of `spec` in `<data_dir>/search/<name>/`.
    pub fn open(
        data_dir: &Path,
        spec: &'static CollectionSpec,
    ) -> Result<SearchIndex, SearchError> {
        Self::open_at(&Self::dir_for(data_dir, spec.name), spec)
    }

    /// Opens (or creates) the index of `spec` in exactly `dir`. An index built for
    /// another spec version, field layout or analyzer is wiped: see [`Self::state`].
    pub fn open_at(dir: &Path, spec: &'static CollectionSpec) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = build_schema(spec)?;
        let io = |source| SearchError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let marker = marker_text(spec);
        let found = std::fs::read_to_string(dir.join(MARKER_FILE)).ok();
        let has_files = std::fs::read_dir(dir).map_err(io)?.next().is_some();
        let mut state = match found {
            Some(m) if m == marker => OpenState::Existing,
            Some(m) => OpenState::Wiped {
                reason: format!(
                    "built as {}, now {}",
                    m.trim().replace('\n', ", "),
                    marker.trim().replace('\n', ", ")
                ),
            },
            None if has_files => OpenState::Wiped {
                reason: "no collection marker".to_string(),
            },
            None => OpenState::Created,
        };
        if state == OpenState::Existing {
            let exists = MmapDirectory::open(dir)
                .ok()
                .and_then(|d| Index::exists(&d).ok())
                .unwrap_or(false);
            if !exists {
                state = OpenState::Created;
            }
        }
        let index = match open_index(dir, &schema, &state) {
            Ok(index) => index,
            Err(e) if state == OpenState::Existing => {
                state = OpenState::Wiped {
                    reason: format!("unreadable: {e}"),
                };
                open_index(dir, &schema, &state)?
            }
            Err(e) => return Err(e),
        };
        std::fs::write(dir.join(MARKER_FILE), &marker).map_err(io)?;
        index
            .tokenizers()
            .register(TOKENIZER_NAME, ChineseTokenizer);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        let writer = index
            .writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)
            .map_err(|e| match e {
                TantivyError::LockFailure(..) => SearchError::Locked(dir.to_path_buf()),
                e => e.into(),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            spec,
            dir: dir.to_path_buf(),
            state,
            fields,
            reader,
            writer: Mutex::new(writer),
        })
    }

    pub fn spec(&self) -> &'static CollectionSpec {
        self.spec
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How the index was found on open; `state().needs_rebuild()` tells the caller
    /// to refill it from the database.
    pub fn state(&self) -> &OpenState {
        &self.state
    }

    /// Adds the documents, replacing any with the same id. Visible after
    /// [`Self::commit`]. Nothing is staged when a document names an unknown field.
    pub fn upsert(&self, docs: &[Doc]) -> Result<(), SearchError> {
        let built = docs
            .iter()
            .map(|d| self.build_doc(d))
            .collect::<Result<Vec<_>, _>>()?;
        let writer = self.writer();
        for (doc, built) in docs.iter().zip(built) {
            writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
            writer.add_document(built)?;
        }
        Ok(())
    }

    /// Removes the documents with these ids (unknown ids are ignored). Visible after
    /// [`Self::commit`].
    pub fn delete(&self, ids: &[&str]) -> Result<(), SearchError> {
        let writer = self.writer();
        for id in ids {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        Ok(())
    }

    /// Removes every document (for a rebuild). Visible after [`Self::commit`].
    pub fn clear(&self) -> Result<(), SearchError> {
        self.writer().delete_all_documents()?;
        Ok(())
    }

    /// Makes the staged writes durable and visible to searches.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Documents visible to searches.
    pub fn count(&self) -> usize {
        self.reader.searcher().num_docs() as usize
    }

    /// Runs a search.
    ///
    /// The query text is normalised and cut in precise mode ([`analyzer::query_terms`]);
    /// each word must match in at least one text field, where a word matches when it,
    /// or one of its synonyms (all tokens of a multi-word synonym in one field), or
    /// its dictionary re-cut does. Field boosts weigh the BM25 scores. When no
    /// document has every word, the search is repeated with "at least one word",
    /// scored the same way, and `relaxed` is set so that the page can say so.
    /// Filters restrict without changing scores. Facets count the whole result set.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let filters = request
            .filters
            .iter()
            .filter_map(|f| self.filter_query(f).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        for field in &request.facet_fields {
            self.keyword_field(field)?;
        }
        if let Sort::Number { field, .. } = &request.sort {
            self.number_field(field)?;
        }
        let terms = request
            .q
            .as_deref()
            .map(analyzer::query_terms)
            .unwrap_or_default();
        let searcher = self.reader.searcher();
        // With filters, the words follow the filters' intersection: a union that seeks
        // (scoring only the documents the filters let through) beats one that scores
        // every posting of every alternative in each window.
        // Only for one or two words: the words' scores are added in the order of the
        // unions' costs, which differ between the two kinds of union, and only the sum
        // of two is the same in either order.
        let seeking = !filters.is_empty() && terms.len() <= 2;
        let word_queries: Vec<Box<dyn Query>> = terms
            .iter()
            .map(|t| self.word_query(&t.alternatives, seeking))
            .collect();

        let with_filters = |main: Box<dyn Query>| -> Box<dyn Query> {
            let mut clauses = vec![(Occur::Must, main)];
            clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
            Box::new(BooleanQuery::new(clauses))
        };
        let strict: Box<dyn Query> = if word_queries.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::intersection(
                word_queries.iter().map(|q| q.box_clone()).collect(),
            ))
        };
        let mut relaxed = false;
        let mut found = self.collect(&searcher, &*with_filters(strict), request)?;
        if found.0 == 0 && word_queries.len() > 1 {
            let any = Box::new(BooleanQuery::union(word_queries));
            let any_found = self.collect(&searcher, &*with_filters(any), request)?;
            if any_found.0 > 0 {
                found = any_found;
                relaxed = true;
            }
        }
        let (total, top, facets) = found;

        let snippet_terms: HashSet<String> = terms
            .iter()
            .flat_map(|t| t.alternatives.iter().flatten().cloned())
            .collect();
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut snippets = BTreeMap::new();
            for (field, spec) in &self.fields.text {
                if !spec.stored_for_snippet {
                    continue;
                }
                let text: Vec<&str> = doc.get_all(*field).filter_map(|v| v.as_str()).collect();
                if text.is_empty() {
                    continue;
                }
                let text = text.join("；");
                snippets.insert(
                    spec.name.to_string(),
                    highlight(&text, &snippet_terms, SNIPPET_CHARS),
                );
            }
            hits.push(Hit {
                id,
                score,
                snippets,
            });
        }
        let facets = request
            .facet_fields
            .iter()
            .map(|name| {
                let mut counts: Vec<(String, usize)> = facets
                    .get(name.as_str())
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                    .unwrap_or_default();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (name.clone(), counts)
            })
            .collect();
        Ok(SearchResults {
            total,
            hits,
            facets,
            relaxed,
        })
    }

    /// Count, the requested page as (score, address), and facet counts.
    #[allow(clippy::type_complexity)]
    fn collect(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        request: &SearchRequest,
    ) -> Result<(usize, Vec<(Score, DocAddress)>, FacetCounts), SearchError> {
        let limit = request.limit.min(MAX_LIMIT);
        // TopDocs needs a limit of at least 1; a page of 0 is cut afterwards.
        let top = TopDocs::with_limit(limit.max(1)).and_offset(request.offset);
        let facets = KeywordFacets {
            fields: request.facet_fields.clone(),
        };
        let (total, mut page, counts) = match &request.sort {
            Sort::Relevance => searcher.search(query, &(Count, top.order_by_score(), facets))?,
            Sort::Number { field, descending } => {
                let order = if *descending { Order::Desc } else { Order::Asc };
                let by = (
                    (SortByStaticFastValue::<i64>::for_field(field), order),
                    (SortBySimilarityScore, Order::Desc),
                );
                let (total, page, counts) =
                    searcher.search(query, &(Count, top.order_by(by), facets))?;
                let page = page
                    .into_iter()
                    .map(|((_, score), address)| (score, address))
                    .collect();
                (total, page, counts)
            }
        };
        page.truncate(limit);
        Ok((total, page, counts))
    }

    /// A word with its alternatives: OR over alternatives, each OR over text
    /// fields (boosted) of AND over the alternative's tokens.
    /// `seeking`: a [`SumUnionQuery`] (same matches and scores as tantivy's union) for a
    /// word that is intersected with selective filters.
    fn word_query(&self, alternatives: &[Vec<String>], seeking: bool) -> Box<dyn Query> {
        let mut options: Vec<Box<dyn Query>> = Vec::new();
        for alternative in alternatives {
            for (field, spec) in &self.fields.text {
                let tokens: Vec<Box<dyn Query>> = alternative
                    .iter()
                    .map(|t| -> Box<dyn Query> {
                        Box::new(TermQuery::new(
                            Term::from_field_text(*field, t),
                            IndexRecordOption::WithFreqs,
                        ))
                    })
                    .collect();
                let all: Box<dyn Query> = if tokens.len() == 1 {
                    tokens.into_iter().next().expect("one token")
                } else {
                    Box::new(BooleanQuery::intersection(tokens))
                };
                options.push(if spec.boost == 1.0 {
                    all
                } else {
                    Box::new(BoostQuery::new(all, spec.boost))
                });
            }
        }
        if seeking {
            Box::new(SumUnionQuery { clauses: options })
        } else {
            Box::new(BooleanQuery::union(options))
        }
    }

    fn filter_query(&self, filter: &Filter) -> Result<Option<Box<dyn Query>>, SearchError> {
        let query: Box<dyn Query> = match filter {
            Filter::AnyOf { field, values } => {
                let field = self.keyword_field(field)?;
                if values.is_empty() {
                    return Ok(None);
                }
                Box::new(BooleanQuery::union(
                    values
                        .iter()
                        .map(|v| -> Box<dyn Query> {
                            Box::new(TermQuery::new(
                                Term::from_field_text(field, v),
                                IndexRecordOption::Basic,
                            ))
                        })
                        .collect(),
                ))
            }
            Filter::Range { field, min, max } => {
                let field = self.number_field(field)?;
                let bound = |b: Option<i64>| match b {
                    Some(v) => Bound::Included(Term::from_field_i64(field, v)),
                    None => Bound::Unbounded,
                };
                let (min, max) = match (min, max) {
                    (None, None) => return Ok(None),
                    // RangeQuery takes its field from a bounded end.
                    (None, Some(_)) => (Some(i64::MIN), *max),
                    (Some(_), None) => (*min, Some(i64::MAX)),
                    _ => (*min, *max),
                };
                Box::new(RangeQuery::new(bound(min), bound(max)))
            }
        };
        Ok(Some(Box::new(ConstScoreQuery::new(query, 0.0))))
    }

    fn keyword_field(&self, name: &str) -> Result<Field, SearchError> {
        self.fields
            .keyword
            .get(name)
            .copied()
            .ok_or_else(|| self.unknown("keyword", name))
    }

    fn number_field(&self, name: &str) -> Result<Field, SearchError> {
        self.fields
            .number
            .get(name)
            .copied()
            .ok_or_else(|| self.unknown("number", name))
    }

    fn unknown(&self, kind: &'static str, field: &str) -> SearchError {
        SearchError::UnknownField {
            collection: self.spec.name,
            kind,
            field: field.to_string(),
        }
    }

    fn build_doc(&self, doc: &Doc) -> Result<TantivyDocument, SearchError> {
        let mut out = TantivyDocument::new();
        out.add_text(self.fields.id, &doc.id);
        for (name, value) in &doc.text {
            let field = self
                .fields
                .text
                .iter()
                .find(|(_, spec)| spec.name == name)
                .map(|(f, _)| *f)
                .ok_or_else(|| self.unknown("text", name))?;
            out.add_text(field, value);
        }
        for (name, value) in &doc.keywords {
            out.add_text(self.keyword_field(name)?, value);
        }
        for (name, value) in &doc.numbers {
            out.add_i64(self.number_field(name)?, *value);
        }
        Ok(out)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves nothing half-done that matters: the
        // staged operations are only published by commit.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn open_index(dir: &Path, schema: &Schema, state: &OpenState) -> Result<Index, SearchError> {
    if matches!(state, OpenState::Wiped { .. }) {
        wipe(dir)?;
    }
    let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let index = Index::open_or_create(directory, schema.clone())?;
    if index.schema() != *schema {
        return Err(TantivyError::SchemaError("schema differs from the spec".to_string()).into());
    }
    Ok(index)
}

/// Removes everything inside `dir` (not `dir` itself).
fn wipe(dir: &Path) -> Result<(), SearchError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SearchError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

fn marker_text(spec: &CollectionSpec) -> String {
    let mut layout: Vec<String> = Vec::new();
    for f in spec.text_fields {
        layout.push(format!("text:{}:{}", f.name, f.stored_for_snippet));
    }
    for f in spec.keyword_fields {
        layout.push(format!("keyword:{f}"));
    }
    for f in spec.number_fields {
        layout.push(format!("number:{f}"));
    }
    let layout = layout.join(",");
    let hash = analyzer::fnv(&[layout.as_bytes(), &analyzer::fingerprint().to_le_bytes()]);
    format!(
        "collection = {}\nversion = {}\nlayout = {hash:016x}\n",
        spec.name, spec.version
    )
}

fn build_schema(spec: &'static CollectionSpec) -> Result<(Schema, Fields), SearchError> {
    let bad = |message: String| SearchError::Spec {
        collection: spec.name,
        message,
    };
    if spec.name.is_empty()
        || !spec
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(bad("the name must be [a-z0-9_-]+".to_string()));
    }
    let mut seen = HashSet::new();
    let names = spec
        .text_fields
        .iter()
        .map(|f| f.name)
        .chain(spec.keyword_fields.iter().copied())
        .chain(spec.number_fields.iter().copied());
    for name in names {
        if name == ID_FIELD || name.is_empty() || !seen.insert(name) {
            return Err(bad(format!(
                "field name {name:?} is reserved, empty or repeated"
            )));
        }
    }
    if spec.text_fields.is_empty() {
        return Err(bad("at least one text field is needed".to_string()));
    }

    let mut builder = Schema::builder();
    let id = builder.add_text_field(ID_FIELD, STRING | tantivy::schema::STORED);
    let mut text = Vec::new();
    for f in spec.text_fields {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqs);
        let mut options = TextOptions::default().set_indexing_options(indexing);
        if f.stored_for_snippet {
            options = options.set_stored();
        }
        text.push((builder.add_text_field(f.name, options), f));
    }
    let keyword = spec
        .keyword_fields
        .iter()
        .map(|&name| {
            (
                name,
                builder.add_text_field(name, STRING | tantivy::schema::FAST),
            )
        })
        .collect();
    let number = spec
        .number_fields
        .iter()
        .map(|&name| {
            (
                name,
                builder.add_i64_field(name, INDEXED | tantivy::schema::FAST),
            )
        })
        .collect();
    Ok((
        builder.build(),
        Fields {
            id,
            text,
            keyword,
            number,
        },
    ))
}

/// A union whose score is the sum of the matching clauses' scores, added in clause
/// order: exactly what `BooleanQuery::union` gives. tantivy's union buffers windows
/// of 4096 documents and scores every posting of every clause in each window, even
/// when an intersection then seeks past most of them; this one advances and seeks its
/// clauses lazily and scores only the documents it stops on. Much cheaper when the
/// union follows a more selective docset (the hall's filters), slower when it leads.
#[derive(Debug)]
struct SumUnionQuery {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for SumUnionQuery {
    fn clone(&self) -> SumUnionQuery {
        SumUnionQuery {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl Query for SumUnionQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|q| q.weight(enable_scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(SumUnionWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for clause in &self.clauses {
            clause.query_terms(visitor);
        }
    }
}

struct SumUnionWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for SumUnionWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = Vec::with_capacity(self.weights.len());
        for weight in &self.weights {
            let scorer = weight.scorer(reader, boost)?;
            if scorer.doc() != TERMINATED {
                scorers.push(scorer);
            }
        }
        if scorers.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let doc = scorers.iter().map(|s| s.doc()).min().unwrap_or(TERMINATED);
        Ok(Box::new(SumUnionScorer { scorers, doc }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        let mut explanation = Explanation::new("SumUnion", scorer.score());
        for weight in &self.weights {
            if let Ok(child) = weight.explain(reader, doc) {
                explanation.add_detail(child);
            }
        }
        Ok(explanation)
    }
}

struct SumUnionScorer {
    /// In clause order (the order the scores are added in).
    scorers: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl DocSet for SumUnionScorer {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        let mut next = TERMINATED;
        for scorer in &mut self.scorers {
            let mut doc = scorer.doc();
            if doc == current {
                doc = scorer.advance();
            }
            next = next.min(doc);
        }
        self.doc = next;
        next
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let mut next = TERMINATED;
        for scorer in &mut self.scorers {
            let mut doc = scorer.doc();
            if doc < target {
                doc = scorer.seek(target);
            }
            next = next.min(doc);
        }
        self.doc = next;
        next
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers
            .iter()
            .map(|s| s.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        // As tantivy's union: the sum of its live clauses' costs.
        self.scorers
            .iter()
            .filter(|s| s.doc() != TERMINATED)
            .map(|s| s.cost())
            .sum()
    }
}

impl Scorer for SumUnionScorer {
    fn score(&mut self) -> Score {
        let mut score: Score = 0.0;
        for scorer in &mut self.scorers {
            if scorer.doc() == self.doc {
                score += scorer.score();
            }
        }
        score
    }
}

type FacetCounts = HashMap<String, BTreeMap<String, usize>>;

/// Counts the values of keyword fields over every matching document.
struct KeywordFacets {
    fields: Vec<String>,
}

struct KeywordFacetsSegment {
    columns: Vec<(String, Option<StrColumn>, Vec<u32>)>,
}

impl Collector for KeywordFacets {
    type Fruit = FacetCounts;
    type Child = KeywordFacetsSegment;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<KeywordFacetsSegment> {
        let mut columns = Vec::new();
        for name in &self.fields {
            let column = reader.fast_fields().str(name)?;
            let n = column.as_ref().map_or(0, |c| c.num_terms());
            columns.push((name.clone(), column, vec![0; n]));
        }
        Ok(KeywordFacetsSegment { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut out = FacetCounts::new();
        for fruit in fruits {
            for (field, counts) in fruit {
                let into = out.entry(field).or_default();
                for (value, n) in counts {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for KeywordFacetsSegment {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (_, column, counts) in &mut self.columns {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    counts[ord as usize] += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut out = FacetCounts::new();
        for (name, column, counts) in self.columns {
            let mut values = BTreeMap::new();
            if let Some(column) = column {
                for (ord, n) in counts.into_iter().enumerate() {
                    let mut value = String::new();
                    if n > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                        values.insert(value, n as usize);
                    }
                }
            }
            out.insert(name, values);
        }
        out
    }
}

#[cfg(test)]
mod tests;
