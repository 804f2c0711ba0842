//! The Chinese analyzer: text → tokens for the index, query → terms with synonyms.
//!
//! Both sides first normalise the text: NFKC (full-width letters and digits become
//! ASCII, compatibility ideographs become unified ones) and lower case. The normalised
//! text is then cut into runs:
//!
//! - a run of Han characters goes to jieba (the process-wide instance with the domain
//!   dictionary of `reference/search_dictionary.txt`);
//! - a run of letters and digits, with single connectors (`-` `.` `_` `/`) between
//!   them, is a *code* or word such as `hw08`, `900-214-08`, `pm2.5`;
//! - everything else (punctuation, whitespace, symbols) is dropped.
//!
//! **Indexing** (`index_tokens`) uses jieba's search mode (`cut_for_search`, HMM on),
//! which adds the 2- and 3-character dictionary words inside a longer word, and adds
//! the longer (4+ character) dictionary words nested in words of 5+ characters, so
//! that 环境影响评价 is found inside 环境影响评价报告. A code is indexed whole, by each
//! connector-separated part and each run of consecutive parts (`900-214-08`,
//! `900`, `214`, `08`, `900-214`, `214-08`), and, where letters and digits meet, by
//! its letter and digit pieces (`hw08` → `hw`, `08`).
//!
//! **Querying** (`query_terms`) uses jieba's precise mode (`cut`, HMM on): each word
//! is one [`QueryTerm`] whose alternatives are the word itself, the members of its
//! synonym group (`reference/search_synonyms.csv`, applied in every direction within
//! a row), and for a word jieba made up with its HMM (not in the dictionary) the
//! dictionary-only cut of it. Words of `reference/search_stopwords.txt` are dropped
//! unless the query has nothing else.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use jieba_rs::Jieba;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use crate::SearchError;

/// The name under which [`ChineseTokenizer`] is registered on every index.
pub const TOKENIZER_NAME: &str = "greenbridge_zh";

/// Bump when the tokenisation rules in this file change: indexes built with another
/// value are wiped and reported as needing a rebuild.
const ANALYZER_VERSION: u32 = 1;

const DICTIONARY: &str = include_str!("../../../reference/search_dictionary.txt");
const SYNONYMS: &str = include_str!("../../../reference/search_synonyms.csv");
const STOPWORDS: &str = include_str!("../../../reference/search_stopwords.txt");

/// The process-wide analyzer state: jieba with the domain dictionary, the synonym
/// groups and the query stop words. Built once (about 0.1 s optimised).
struct Analyzer {
    jieba: Jieba,
    /// Normalised term → the other members of its synonym group(s).
    synonyms: HashMap<String, Vec<String>>,
    stopwords: HashSet<String>,
}

static ANALYZER: OnceLock<Analyzer> = OnceLock::new();

fn analyzer() -> &'static Analyzer {
    ANALYZER.get_or_init(|| {
        Analyzer::load(DICTIONARY, SYNONYMS, STOPWORDS)
            .expect("the embedded reference/search_* files are valid (checked by the tests)")
    })
}

/// Loads jieba's dictionary and the reference data now rather than on the first
/// search (it takes a noticeable fraction of a second).
pub fn warm_up() {
    analyzer();
}

/// A fingerprint of everything that decides which tokens a document is indexed
/// under: the analyzer version, the domain dictionary and the synonym table (its
/// members are added to jieba's dictionary too, so they change how text is cut).
/// Stored beside each index.
pub fn fingerprint() -> u64 {
    let mut hash = Fnv::new();
    hash.write(&ANALYZER_VERSION.to_le_bytes());
    hash.write(DICTIONARY.as_bytes());
    hash.write(SYNONYMS.as_bytes());
    hash.finish()
}

impl Analyzer {
    fn load(dictionary: &str, synonyms: &str, stopwords: &str) -> Result<Analyzer, SearchError> {
        let mut jieba = Jieba::new();
        let groups = parse_synonyms(synonyms)?;
        for (line_no, line) in dictionary.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let word = normalize(parts.next().unwrap_or_default());
            let freq = match parts.next() {
                None => None,
                Some(f) => Some(f.parse::<usize>().map_err(|_| SearchError::ReferenceData {
                    file: "search_dictionary.txt",
                    message: format!("line {}: frequency {f:?} is not a number", line_no + 1),
                })?),
            };
            add_han_word(&mut jieba, &word, freq);
        }
        for member in groups.iter().flatten() {
            add_han_word(&mut jieba, member, None);
        }
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for group in &groups {
            for member in group {
                let others = map.entry(member.clone()).or_default();
                for other in group {
                    if other != member && !others.contains(other) {
                        others.push(other.clone());
                    }
                }
            }
        }
        let stopwords = stopwords
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(normalize)
            .collect();
        Ok(Analyzer {
            jieba,
            synonyms: map,
            stopwords,
        })
    }
}

/// Adds a word to jieba when it is all Han characters (jieba only ever sees Han runs).
fn add_han_word(jieba: &mut Jieba, word: &str, freq: Option<usize>) {
    if !word.is_empty() && word.chars().all(is_han) {
        jieba.add_word(word, freq, None);
    }
}

/// Parses `term,synonyms` rows (synonyms separated by `|`) into normalised groups.
fn parse_synonyms(text: &str) -> Result<Vec<Vec<String>>, SearchError> {
    let bad = |message: String| SearchError::ReferenceData {
        file: "search_synonyms.csv",
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?;
    if headers.iter().collect::<Vec<_>>() != ["term", "synonyms"] {
        return Err(bad(format!(
            "header must be `term,synonyms`, not {headers:?}"
        )));
    }
    let mut groups = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let term = normalize(record.get(0).unwrap_or_default().trim());
        let synonyms: Vec<String> = record
            .get(1)
            .unwrap_or_default()
            .split('|')
            .map(|s| normalize(s.trim()))
            .filter(|s| !s.is_empty())
            .collect();
        if term.is_empty() || synonyms.is_empty() {
            return Err(bad(format!(
                "line {line}: a term and at least one synonym are needed"
            )));
        }
        let mut group = vec![term];
        for s in synonyms {
            if !group.contains(&s) {
                group.push(s);
            }
        }
        groups.push(group);
    }
    Ok(groups)
}

/// Whether `word` (normalised) is a word of the segmentation dictionary (jieba's
/// own or the domain dictionary): a real word, not a typo or a pair of characters
/// that merely stand next to each other.
pub fn is_dictionary_word(word: &str) -> bool {
    analyzer().jieba.has_word(word)
}

/// NFKC and lower case, without offsets (for dictionary entries and lookups).
pub fn normalize(text: &str) -> String {
    Normalized::new(text).text
}

/// A token for the index: its text and its byte range in the ORIGINAL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexToken {
    pub text: String,
    pub from: usize,
    pub to: usize,
}

/// One word of a query: it matches a document when any alternative does, and an
/// alternative matches when all its tokens are in one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// The word as the user typed it (normalised).
    pub word: String,
    /// The first alternative is `[word]`; then synonyms and re-cuts.
    pub alternatives: Vec<Vec<String>>,
}

/// Index-side tokens of `text` (search mode), sorted by position.
pub fn index_tokens(text: &str) -> Vec<IndexToken> {
    let analyzer = analyzer();
    let norm = Normalized::new(text);
    let mut out = Vec::new();
    for run in runs(&norm.text) {
        match run.kind {
            RunKind::Han => {
                let words = analyzer.jieba.cut_for_search(run.text, true);
                for w in &words {
                    let (from, to) =
                        norm.original(run.start + w.byte_start, run.start + w.byte_end);
                    out.push(IndexToken {
                        text: w.word.to_string(),
                        from,
                        to,
                    });
                    let chars: Vec<(usize, char)> = w.word.char_indices().collect();
                    if chars.len() >= 5 {
                        // Longer dictionary words nested in a longer one (search mode
                        // only adds the 2- and 3-character ones).
                        for len in 4..chars.len() {
                            for i in 0..=chars.len() - len {
                                let a = chars[i].0;
                                let b = chars.get(i + len).map_or(w.word.len(), |c| c.0);
                                let sub = &w.word[a..b];
                                if analyzer.jieba.has_word(sub) {
                                    let base = run.start + w.byte_start;
                                    let (from, to) = norm.original(base + a, base + b);
                                    out.push(IndexToken {
                                        text: sub.to_string(),
                                        from,
                                        to,
                                    });
                                }
                            }
                        }
                    }
                }
            }
            RunKind::Code => {
                for (a, b) in code_pieces(run.text) {
                    let (from, to) = norm.original(run.start + a, run.start + b);
                    out.push(IndexToken {
                        text: run.text[a..b].to_string(),
                        from,
                        to,
                    });
                }
            }
        }
    }
    out.sort_by(|x, y| (x.from, x.to, &x.text).cmp(&(y.from, y.to, &y.text)));
    out.dedup();
    out
}

/// Query-side terms of `q` (precise mode), each with its alternatives.
pub fn query_terms(q: &str) -> Vec<QueryTerm> {
    let analyzer = analyzer();
    let words = query_words(analyzer, q);
    let kept: Vec<&(String, RunKind)> = words
        .iter()
        .filter(|(w, _)| !analyzer.stopwords.contains(w))
        .collect();
    let words: Vec<&(String, RunKind)> = if kept.is_empty() {
        words.iter().collect()
    } else {
        kept
    };
    let mut terms: Vec<QueryTerm> = Vec::new();
    for (word, kind) in words {
        if terms.iter().any(|t| &t.word == word) {
            continue;
        }
        let mut alternatives = vec![vec![word.clone()]];
        let mut push = |alt: Vec<String>| {
            if !alt.is_empty() && !alternatives.contains(&alt) {
                alternatives.push(alt);
            }
        };
        if let Some(group) = analyzer.synonyms.get(word) {
            for synonym in group {
                push(
                    query_words(analyzer, synonym)
                        .into_iter()
                        .map(|(w, _)| w)
                        .collect(),
                );
            }
        }
        match kind {
            RunKind::Han => {
                if word.chars().count() > 1 && !analyzer.jieba.has_word(word) {
                    push(
                        analyzer
                            .jieba
                            .cut(word, false)
                            .into_iter()
                            .map(|t| t.word.to_string())
                            .collect(),
                    );
                }
            }
            RunKind::Code => {
                // `hw-08` also as `hw` AND `08`, `hw08` also as `hw` AND `08`.
                let parts: Vec<String> = word
                    .split(is_connector)
                    .flat_map(|p| {
                        alnum_pieces(p)
                            .into_iter()
                            .map(move |(a, b)| p[a..b].to_string())
                    })
                    .collect();
                if parts.len() > 1 {
                    push(parts);
                }
            }
        }
        terms.push(QueryTerm {
            word: word.clone(),
            alternatives,
        });
    }
    terms
}

/// Normalised query words (precise mode) with the kind of run they came from.
fn query_words(analyzer: &Analyzer, q: &str) -> Vec<(String, RunKind)> {
    let norm = normalize(q);
    let mut out = Vec::new();
    for run in runs(&norm) {
        match run.kind {
            RunKind::Han => {
                for w in analyzer.jieba.cut(run.text, true) {
                    out.push((w.word.to_string(), RunKind::Han));
                }
            }
            RunKind::Code => out.push((run.text.to_string(), RunKind::Code)),
        }
    }
    out
}

/// The byte ranges under which a code run is indexed: whole, connector parts and
/// runs of consecutive parts, and letter/digit pieces of each part.
fn code_pieces(code: &str) -> Vec<(usize, usize)> {
    let mut pieces = vec![(0, code.len())];
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in code.char_indices() {
        if is_connector(c) {
            parts.push((start, i));
            start = i + c.len_utf8();
        }
    }
    parts.push((start, code.len()));
    if parts.len() > 1 && parts.len() <= 6 {
        for i in 0..parts.len() {
            for j in i..parts.len() {
                if i == 0 && j == parts.len() - 1 {
                    continue;
                }
                pieces.push((parts[i].0, parts[j].1));
            }
        }
    } else if parts.len() > 6 {
        pieces.extend(parts.iter().copied());
    }
    for &(a, b) in &parts {
        let sub = alnum_pieces(&code[a..b]);
        if sub.len() > 1 {
            pieces.extend(sub.into_iter().map(|(x, y)| (a + x, a + y)));
        }
    }
    pieces
}

/// Splits a connector-free word where ASCII letters and digits meet (`hw08` → `hw`,
/// `08`, `iso14001` → `iso`, `14001`); a word that is not mixed ASCII, or would fall
/// into more than three pieces (a credit code), comes back whole.
fn alnum_pieces(word: &str) -> Vec<(usize, usize)> {
    let class = |c: char| {
        if c.is_ascii_digit() {
            1
        } else if c.is_ascii_alphabetic() {
            2
        } else {
            3
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev = None;
    for (i, c) in word.char_indices() {
        let k = class(c);
        if let Some(p) = prev
            && p != k
            && p != 3
            && k != 3
        {
            out.push((start, i));
            start = i;
        }
        prev = Some(k);
    }
    if start < word.len() {
        out.push((start, word.len()));
    }
    if out.len() > 3 {
        // An identifier such as a credit code (91320509MA1…) is not a word + number.
        return vec![(0, word.len())];
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Han,
    Code,
}

struct Run<'a> {
    kind: RunKind,
    /// Byte offset of the run in the normalised text.
    start: usize,
    text: &'a str,
}

/// Cuts normalised text into Han runs and code runs; everything else is dropped.
fn runs(text: &str) -> Vec<Run<'_>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let kind = if is_han(c) {
            RunKind::Han
        } else if c.is_alphanumeric() {
            RunKind::Code
        } else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < chars.len() {
            let d = chars[j].1;
            let same = match kind {
                RunKind::Han => is_han(d),
                RunKind::Code => {
                    (d.is_alphanumeric() && !is_han(d))
                        || (is_connector(d)
                            && chars
                                .get(j + 1)
                                .is_some_and(|&(_, e)| e.is_alphanumeric() && !is_han(e)))
                }
            };
            if !same {
                break;
            }
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |c| c.0);
        out.push(Run {
            kind,
            start,
            text: &text[start..end],
        });
        i = j;
    }
    out
}

fn is_connector(c: char) -> bool {
    matches!(c, '-' | '.' | '_' | '/')
}

/// Han ideographs (CJK unified, extensions, compatibility) and 〇.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// Normalised text with, for each of its bytes, the byte range of the original
/// character (cluster) it came from.
struct Normalized {
    text: String,
    /// Per normalised byte: (original start, original end).
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    fn new(input: &str) -> Normalized {
        let mut text = String::with_capacity(input.len());
        let mut origin = Vec::with_capacity(input.len());
        let mut chars = input.char_indices().peekable();
        let mut cluster = String::new();
        while let Some((start, c)) = chars.next() {
            cluster.clear();
            cluster.push(c);
            let mut end = start + c.len_utf8();
            // A base character and its combining marks are normalised together.
            while let Some(&(i, m)) = chars.peek() {
                if canonical_combining_class(m) == 0 {
                    break;
                }
                cluster.push(m);
                end = i + m.len_utf8();
                chars.next();
            }
            for n in cluster.nfkc() {
                for l in n.to_lowercase() {
                    text.push(l);
                    for _ in 0..l.len_utf8() {
                        origin.push((start as u32, end as u32));
                    }
                }
            }
        }
        Normalized { text, origin }
    }

    /// The original byte range of the normalised byte range `a..b` (b > a).
    fn original(&self, a: usize, b: usize) -> (usize, usize) {
        (self.origin[a].0 as usize, self.origin[b - 1].1 as usize)
    }
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust versions.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    let mut hash = Fnv::new();
    for p in parts {
        hash.write(&(p.len() as u64).to_le_bytes());
        hash.write(p);
    }
    hash.finish()
}

/// The index-side analyzer as a tantivy tokenizer (registered as [`TOKENIZER_NAME`]).
#[derive(Clone, Default)]
pub struct ChineseTokenizer;

/// The tokens of one text, handed to tantivy one by one.
pub struct ChineseTokenStream {
    tokens: Vec<tantivy::tokenizer::Token>,
    next: usize,
}

impl tantivy::tokenizer::Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = ChineseTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ChineseTokenStream {
        let tokens = index_tokens(text)
            .into_iter()
            .enumerate()
            .map(|(position, t)| tantivy::tokenizer::Token {
                offset_from: t.from,
                offset_to: t.to,
                position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        ChineseTokenStream { tokens, next: 0 }
    }
}

impl tantivy::tokenizer::TokenStream for ChineseTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        index_tokens(text).into_iter().map(|t| t.text).collect()
    }

    fn words(q: &str) -> Vec<String> {
        query_terms(q).into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn the_embedded_reference_files_load() {
        Analyzer::load(DICTIONARY, SYNONYMS, STOPWORDS).unwrap();
        assert!(parse_synonyms(SYNONYMS).unwrap().len() >= 40);
    }

    #[test]
    fn a_synonym_file_with_a_wrong_header_or_an_empty_row_is_refused() {
        assert!(parse_synonyms("word,alias\n危废,危险废物\n").is_err());
        assert!(parse_synonyms("term,synonyms\n危废,\n").is_err());
    }

    #[test]
    fn domain_words_stay_whole_in_precise_mode() {
        assert_eq!(words("危废许可"), ["危废", "许可"]);
        assert_eq!(words("环评审批"), ["环评", "审批"]);
        assert_eq!(words("统一社会信用代码"), ["统一社会信用代码"]);
        assert_eq!(words("排污证"), ["排污证"]);
    }

    #[test]
    fn punctuation_and_whitespace_are_dropped_and_stop_words_leave_the_query() {
        assert_eq!(words("  危险废物，的 处理！"), ["危险废物", "处理"]);
        assert_eq!(words("的"), ["的"]);
    }

    #[test]
    fn full_width_and_upper_case_input_is_normalised() {
        assert_eq!(words("ＨＷ０８"), ["hw08"]);
        assert_eq!(words("ＶＯＣｓ治理"), ["vocs", "治理"]);
        assert_eq!(normalize("Ａｂｃ１２３"), "abc123");
    }

    #[test]
    fn codes_are_indexed_whole_and_by_their_parts() {
        let t = texts("统一社会信用代码91320509MA1X2Y3Z4K");
        assert!(t.contains(&"91320509ma1x2y3z4k".to_string()), "{t:?}");
        assert!(!t.contains(&"ma".to_string()), "{t:?}");
        let t = texts("代码900-214-08，类别HW08。");
        for want in [
            "900-214-08",
            "900",
            "214",
            "08",
            "900-214",
            "214-08",
            "hw08",
            "hw",
        ] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        assert!(
            !t.iter()
                .any(|w| w == "，" || w == "。" || w.trim().is_empty())
        );
    }

    #[test]
    fn a_code_query_is_one_term_with_its_parts_as_an_alternative() {
        let terms = query_terms("HW-08");
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].alternatives, [vec!["hw-08"], vec!["hw", "08"]]);
    }

    #[test]
    fn search_mode_adds_nested_dictionary_words() {
        let t = texts("建设项目环境影响评价报告审批");
        for want in ["环境影响评价", "环境", "影响", "评价", "审批", "建设项目"] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        let t = texts("危险废物经营许可证");
        for want in ["危险废物", "许可证", "许可", "经营许可证"] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
    }

    #[test]
    fn synonyms_expand_in_both_directions() {
        let alts = |q: &str| query_terms(q).remove(0).alternatives;
        assert!(alts("危废").contains(&vec!["危险废物".to_string()]));
        assert!(alts("危险废物").contains(&vec!["危废".to_string()]));
        assert!(alts("排污证").contains(&vec!["排污许可证".to_string()]));
        assert!(alts("废机油").contains(&vec!["废矿物油".to_string()]));
        assert!(alts("废矿物油").contains(&vec!["废机油".to_string()]));
        assert!(alts("vocs").contains(&vec!["挥发性有机物".to_string()]));
    }

    #[test]
    fn token_offsets_point_into_the_original_text() {
        let text = "ＨＷ０８ 危险废物";
        for t in index_tokens(text) {
            let original = normalize(&text[t.from..t.to]);
            assert!(original.contains(&t.text), "{t:?} vs {original}");
        }
    }
}
