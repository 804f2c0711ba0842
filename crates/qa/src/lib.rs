//! GreenBridge question matching (智能问答): an in-memory index over the FAQ base.
//!
//! The [`Engine`] is built from the entries of the base (the web layer rebuilds it
//! whenever an entry changes; 260 entries with their 780 similar questions take
//! about 0.1 s) and answers a question with the closest entries, best first, and
//! a calibrated confidence:
//!
//! 1. **Two views of every text.** Words from the shared analyzer (jieba, the
//!    domain dictionary, the synonym and abbreviation table: 危废 = 危险废物) and
//!    Han character bigrams (robust to typos and odd segmentation). Everyday
//!    waste names (waste_aliases.csv: 废机油 → 900-214-08, HW08) add the code, the
//!    category and its name to the question. A character pair the base never
//!    uses that sounds like one of its words, where the segmenter leaves the
//!    characters loose, is read as a pinyin typo (排污登计 → 登记, see
//!    `homophones`).
//! 2. **Separate fields, separate weights.** An entry's question, its keywords,
//!    its answer and its similar questions (相似问法, see [`similar`]) are scored
//!    apart (BM25-style saturation, IDF over the base) and combined with
//!    weights: the stored questions say what the entry is about, the answer
//!    only supports. A last stage lifts the entries whose
//!    subcategory holds much of the score of the closest entries (they agree on
//!    the topic of the question).
//! 3. **Filters.** Category and region are filters (a region code allows 全国,
//!    its province and, inside the demonstration zone, 示范区).
//! 4. **Confidence.** A logistic model over the match features (how much of the
//!    question the best entry covers, by weight, with words the base never uses
//!    at full weight; how much of the entry's own question the user's covers; how
//!    much of the asking sentence it covers; how much of the question's content
//!    it matches at all; how far it leads; whether the word
//!    and bigram views agree) gives a probability that the first entry answers
//!    the question; [`Engine::ask`] answers when it reaches
//!    [`CONFIDENT_THRESHOLD`] and otherwise returns the closest entries for
//!    "您是不是想问". The model is fitted on a calibration set written apart
//!    from the development questions (crates/qa/calibration) plus the tuning
//!    half of those, and cut on the tuning half (see [`Params::default`]).
//!
//! [`eval`] measures the engine on a question file (top-1, top-3, declines,
//! latency), for `greenbridge qa eval` and the accuracy floor test.

pub mod base;
pub mod eval;
mod homophones;
mod index;
pub mod references;
pub mod region;
pub mod similar;
mod text;
mod variants;

pub use index::{AnswerHit, Asked, Engine, FEATURES, Filters, MatchFeatures, Params};
pub use region::allowed_regions;
pub use text::fold;

/// The probability from which the first entry is given as the answer.
pub const CONFIDENT_THRESHOLD: f64 = 0.5;

/// How many entries an unconfident answer offers (您是不是想问).
pub const CLOSEST_OFFERED: usize = 3;

/// The longest question the engine reads; the rest is ignored (a pasted document
/// must not cost more than a question).
pub const MAX_QUESTION_CHARS: usize = 500;

/// A document a FAQ answer names, linked to a 标准政策 record where one matches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// The title as the entry gives it, e.g. `《中华人民共和国生态环境法典》`.
    pub title: String,
    /// The id of the matching regulation record, or `None`.
    pub regulation_id: Option<i64>,
}

/// One entry of the base, as the engine needs it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    /// The data file's id (`faq-1001`), or `None` for entries written on the site.
    pub source_id: Option<String>,
    pub question: String,
    pub answer: String,
    /// 水, 气, 声, 固废, 土壤, 环保手续, 监测, 执法, 第三方治理, 其他.
    pub category: String,
    pub subcategory: String,
    /// 全国, 上海市, 江苏省, 浙江省 or 示范区.
    pub region: String,
    pub keywords: Vec<String>,
    /// 相似问法: other ways users ask what the entry answers (see [`similar`]).
    pub similar_questions: Vec<String>,
    pub references: Vec<Reference>,
}

/// The categories of the base, in the order of the filters.
pub const CATEGORIES: [&str; 10] = [
    "水",
    "气",
    "声",
    "固废",
    "土壤",
    "环保手续",
    "监测",
    "执法",
    "第三方治理",
    "其他",
];

/// The regions an entry may apply to.
pub const REGIONS: [&str; 5] = ["全国", "上海市", "江苏省", "浙江省", "示范区"];
