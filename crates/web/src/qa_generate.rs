//! 智能问答's optional generative step: when the engine is confident, an
//! OpenAI-compatible chat-completions endpoint (`qa_generate` in the configuration,
//! off by default) may rephrase the retrieved entries into a short summary that cites
//! them as `[1]`, `[2]`.
//!
//! The model sees the user's question and the retrieved entries only, and its reply is
//! kept only when it passes the checks of [`check_reply`]: not empty, short, plain
//! text, citing at least one of the entries given and nothing else. Any failure (no
//! answer in time, an error status, a body that is not the expected JSON, a reply
//! that fails the checks) is logged and the plain retrieved answer is shown: the
//! summary is an extra, never a reason for an error page. The entries stay on the page
//! in full as the source.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::QaGenerate;

/// At most this many entries go to the model (the engine's confident answers, best
/// first).
pub const MAX_ENTRIES: usize = 3;
/// A longer reply is discarded (not cut: a cut could drop a citation or a condition).
pub const MAX_SUMMARY_CHARS: usize = 600;
/// Each entry's answer is cut to this many characters in the prompt, which keeps the
/// request (and its cost) bounded whatever the base holds.
const MAX_ENTRY_CHARS: usize = 1500;
/// The user's question as sent (the engine reads no more either).
const MAX_QUESTION_CHARS: usize = greenbridge_qa::MAX_QUESTION_CHARS;
/// Enough for a 600-character Chinese reply.
const MAX_TOKENS: u32 = 500;

/// The instructions: answer from the numbered entries only, briefly, in Simplified
/// Chinese, citing them.
pub const SYSTEM_PROMPT: &str = "你是绿桥平台“智能问答”的助手，帮助企业理解环保政策问答。\
只能依据用户消息中给出的编号条目作答，不得使用条目以外的任何知识，不得编造法规、数字或期限。\
请用简体中文简要回答用户的问题，不超过200字，使用纯文本，不要使用Markdown、HTML或列表符号。\
每一句都要用方括号注明所依据条目的编号，例如[1]或[2]；只能引用给出的编号。\
如果条目不足以回答，就只说明“请以下列条目原文为准”，并引用最相关的条目。";

/// One retrieved entry as the model sees it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub question: &'a str,
    pub answer: &'a str,
}

/// A checked summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Plain text; citations normalised to `[n]`, paragraphs separated by `\n`.
    pub text: String,
    /// The cited entries as indexes into the entries given (0-based), in the order of
    /// their first citation, each once.
    pub cited: Vec<usize>,
}

/// A piece of a summary's paragraph: text, or a citation of entry `n - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Cite(usize),
}

impl Summary {
    /// The paragraphs, each split into text and citations (for the page, which links
    /// each citation to its entry below).
    pub fn paragraphs(&self) -> Vec<Vec<Segment>> {
        self.text
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut out = Vec::new();
                let mut text = String::new();
                for piece in scan(p) {
                    match piece {
                        Piece::Char(c) => text.push(c),
                        Piece::Cites(numbers) => {
                            if !text.is_empty() {
                                out.push(Segment::Text(std::mem::take(&mut text)));
                            }
                            out.extend(numbers.into_iter().map(|n| Segment::Cite(n - 1)));
                        }
                    }
                }
                if !text.is_empty() {
                    out.push(Segment::Text(text));
                }
                out
            })
            .collect()
    }
}

/// Why there is no summary (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the endpoint did not answer in time")]
    Timeout,
    #[error("request failed: {0}")]
    Request(String),
    #[error("the endpoint answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the reply is not a chat completion: {0}")]
    Shape(String),
    #[error("the reply is empty")]
    Empty,
    #[error("the reply has {0} characters, more than {MAX_SUMMARY_CHARS}")]
    TooLong(usize),
    #[error("the reply cites no entry given")]
    NoCitation,
    #[error("the reply cites entry {0}, which was not given")]
    UnknownCitation(usize),
    #[error("the reply contains markup")]
    Markup,
}

/// The user message: the question, then the entries numbered from 1.
pub fn user_message(question: &str, entries: &[Source<'_>]) -> String {
    let question: String = question.trim().chars().take(MAX_QUESTION_CHARS).collect();
    let mut message = format!("用户的问题：{question}\n\n可依据的条目：\n");
    for (i, entry) in entries.iter().take(MAX_ENTRIES).enumerate() {
        let answer: String = entry.answer.trim().chars().take(MAX_ENTRY_CHARS).collect();
        message.push_str(&format!(
            "\n[{}] 问：{}\n答：{}\n",
            i + 1,
            entry.question.trim(),
            answer
        ));
    }
    message.push_str("\n请只依据以上条目，简要回答用户的问题，并用[编号]注明出处。");
    message
}

/// The chat-completions request body.
pub fn request_body(config: &QaGenerate, question: &str, entries: &[Source<'_>]) -> Value {
    json!({
        "model": config.model,
        "messages": [
            { "role": "system", "content": SYSTEM_PROMPT },
            { "role": "user", "content": user_message(question, entries) },
        ],
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "stream": false,
    })
}

/// The address requests go to: `{url}/chat/completions`.
pub fn endpoint(config: &QaGenerate) -> String {
    format!("{}/chat/completions", config.url.trim_end_matches('/'))
}

/// The HTTP client for the endpoint (one per instance, kept by the caller),
/// trusting `roots` besides the built-in roots.
pub fn client(roots: &greenbridge_ingest::outbound::OutboundRoots) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("greenbridge/", env!("CARGO_PKG_VERSION")));
    roots.apply(builder).build().unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot build the qa_generate client; using the default");
        reqwest::Client::new()
    })
}

/// Asks the endpoint for a summary of `entries` (at most [`MAX_ENTRIES`] are sent)
/// answering `question`, and checks the reply.
pub async fn summarise(
    client: &reqwest::Client,
    config: &QaGenerate,
    question: &str,
    entries: &[Source<'_>],
) -> Result<Summary, GenerateError> {
    let entries = &entries[..entries.len().min(MAX_ENTRIES)];
    if entries.is_empty() {
        return Err(GenerateError::NoCitation);
    }
    let mut request = client
        .post(endpoint(config))
        .timeout(Duration::from_millis(config.timeout_ms))
        .json(&request_body(config, question, entries));
    if let Some(key) = &config.api_key {
        request = request.bearer_auth(key);
    }
    let failed = |error: reqwest::Error| {
        if error.is_timeout() {
            GenerateError::Timeout
        } else {
            GenerateError::Request(error.without_url().to_string())
        }
    };
    let response = request.send().await.map_err(failed)?;
    let status = response.status();
    let body = response.bytes().await.map_err(failed)?;
    if !status.is_success() {
        let body: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(GenerateError::Status {
            status: status.as_u16(),
            body,
        });
    }
    let reply: Value =
        serde_json::from_slice(&body).map_err(|e| GenerateError::Shape(e.to_string()))?;
    let content = reply
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| GenerateError::Shape("no choices[0].message.content string".into()))?;
    check_reply(content, entries.len())
}

/// Checks and tidies a reply to a request that gave `given` entries: plain text of at
/// most [`MAX_SUMMARY_CHARS`] characters that cites at least one entry, and only
/// entries 1 to `given`. Citations written `［1］`, `【1】` or `[1, 2]` are
/// normalised to `[1]`, `[1][2]`; emphasis marks (`**`) are dropped.
pub fn check_reply(content: &str, given: usize) -> Result<Summary, GenerateError> {
    let mut text = String::new();
    let mut cited: Vec<usize> = Vec::new();
    let mut newlines = 0;
    for c in content.replace("**", "").trim().chars() {
        // Control characters other than line breaks carry nothing for a reader.
        if c == '\r' {
            continue;
        }
        if c == '\n' {
            newlines += 1;
            continue;
        }
        if c.is_control() {
            continue;
        }
        if newlines > 0 && !text.is_empty() {
            text.push('\n');
        }
        newlines = 0;
        text.push(c);
    }
    if text.trim().is_empty() {
        return Err(GenerateError::Empty);
    }
    if looks_like_markup(&text) {
        return Err(GenerateError::Markup);
    }
    let mut normalised = String::with_capacity(text.len());
    for piece in scan(&text) {
        match piece {
            Piece::Char(c) => normalised.push(c),
            Piece::Cites(numbers) => {
                for n in numbers {
                    if n == 0 || n > given {
                        return Err(GenerateError::UnknownCitation(n));
                    }
                    if !cited.contains(&(n - 1)) {
                        cited.push(n - 1);
                    }
                    normalised.push_str(&format!("[{n}]"));
                }
            }
        }
    }
    let length = normalised.chars().count();
    if length > MAX_SUMMARY_CHARS {
        return Err(GenerateError::TooLong(length));
    }
    if cited.is_empty() {
        return Err(GenerateError::NoCitation);
    }
    Ok(Summary {
        text: normalised,
        cited,
    })
}

/// An HTML tag or comment in the reply (it would show as literal text: escaped, but
/// unreadable), e.g. `<p>` or `</b>`; `pH<6` is not one.
fn looks_like_markup(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .any(|w| w[0] == '<' && (w[1].is_ascii_alphabetic() || w[1] == '/' || w[1] == '!'))
}

enum Piece {
    Char(char),
    /// The numbers of one bracket: `[1]`, `［2］`, `【1、3】`, `[1, 2]`.
    Cites(Vec<usize>),
}

/// Splits text into characters and citation brackets. A bracket that does not hold
/// only numbers (e.g. `[注]`) stays text.
fn scan(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let close = match chars[i] {
            '[' => Some(']'),
            '［' => Some('］'),
            '【' => Some('】'),
            _ => None,
        };
        if let Some(close) = close
            && let Some(len) = chars[i + 1..].iter().take(20).position(|&c| c == close)
            && let Some(numbers) = numbers(&chars[i + 1..i + 1 + len])
        {
            out.push(Piece::Cites(numbers));
            i += len + 2;
            continue;
        }
        out.push(Piece::Char(chars[i]));
        i += 1;
    }
    out
}

/// `1`, `1, 2`, `１、３`: the numbers, or `None` when anything else is there.
fn numbers(inner: &[char]) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    let mut current: Option<usize> = None;
    for &c in inner {
        let digit = match c {
            '0'..='9' => Some(c as usize - '0' as usize),
            '０'..='９' => Some(c as usize - '０' as usize),
            _ => None,
        };
        match digit {
            Some(d) => current = Some(current.unwrap_or(0).saturating_mul(10).saturating_add(d)),
            None if matches!(c, ',' | '，' | '、' | ' ' | ';' | '；') => {
                if let Some(n) = current.take() {
                    out.push(n);
                }
            }
            None => return None,
        }
    }
    if let Some(n) = current {
        out.push(n);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_citing_reply_is_kept_with_its_citations_normalised() {
        let summary = check_reply(
            "可以委托有资质单位处置【1】。\n\n**注意**转移联单［1、2］",
            3,
        )
        .expect("valid");
        assert_eq!(
            summary.text,
            "可以委托有资质单位处置[1]。\n注意转移联单[1][2]"
        );
        assert_eq!(summary.cited, vec![0, 1]);
        let paragraphs = summary.paragraphs();
        assert_eq!(
            paragraphs[0],
            vec![
                Segment::Text("可以委托有资质单位处置".into()),
                Segment::Cite(0),
                Segment::Text("。".into())
            ]
        );
        assert_eq!(paragraphs[1].last(), Some(&Segment::Cite(1)));
    }

    #[test]
    fn replies_that_cite_nothing_or_too_much_are_discarded() {
        assert!(matches!(check_reply("  ", 2), Err(GenerateError::Empty)));
        assert!(matches!(
            check_reply("可以卖。", 2),
            Err(GenerateError::NoCitation)
        ));
        assert!(matches!(
            check_reply("见[注]。", 2),
            Err(GenerateError::NoCitation)
        ));
        assert!(matches!(
            check_reply("可以[3]。", 2),
            Err(GenerateError::UnknownCitation(3))
        ));
        assert!(matches!(
            check_reply("可以[0]。", 2),
            Err(GenerateError::UnknownCitation(0))
        ));
        let long = format!("{}[1]", "很".repeat(MAX_SUMMARY_CHARS));
        assert!(matches!(
            check_reply(&long, 1),
            Err(GenerateError::TooLong(_))
        ));
        assert!(matches!(
            check_reply("<b>可以</b>[1]", 1),
            Err(GenerateError::Markup)
        ));
        assert!(check_reply("pH<6 时不得排放[1]", 1).is_ok());
    }

    #[test]
    fn the_prompt_numbers_at_most_three_entries() {
        let entries = [
            Source {
                question: "问一",
                answer: "答一",
            },
            Source {
                question: "问二",
                answer: "答二",
            },
            Source {
                question: "问三",
                answer: "答三",
            },
            Source {
                question: "问四",
                answer: "答四",
            },
        ];
        let message = user_message("废机油能卖吗", &entries);
        assert!(message.contains("用户的问题：废机油能卖吗"));
        assert!(message.contains("[1] 问：问一\n答：答一"));
        assert!(message.contains("[3] 问：问三"));
        assert!(!message.contains("问四"));
    }
}
