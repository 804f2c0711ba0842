//! Measuring the engine on a question file (`greenbridge qa eval`).
//!
//! A line is `{"question", "expected", "style"?}`: `expected` is the `source_id`
//! of the entry that answers, a list of acceptable ones, or `null` where the
//! assistant should decline. Top-1 counts a question only when the engine is
//! confident and its first answer is right; top-3 counts a right entry among
//! the first three ranked (confident or not); a decline is correct when the
//! engine is not confident on a question the base cannot answer.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::{Engine, Filters};

/// One question of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalQuestion {
    /// Line number in the file (from 1).
    pub line: usize,
    pub question: String,
    /// The acceptable `source_id`s; empty when the engine should decline.
    pub expected: Vec<String>,
    pub style: Option<String>,
}

/// A line that is not a question line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EvalParseError {
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
struct RawLine {
    question: String,
    expected: Option<serde_json::Value>,
    #[serde(default)]
    style: Option<String>,
}

/// Parses a JSON Lines question file; blank lines are skipped.
pub fn parse_questions(text: &str) -> Result<Vec<EvalQuestion>, EvalParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalParseError { line, message };
        let parsed: RawLine = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let expected = match parsed.expected {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::String(id)) => vec![id],
            Some(serde_json::Value::Array(ids)) => ids
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(id) => Ok(id),
                    other => Err(bad(format!("expected ids must be strings, not {other}"))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(bad(format!(
                    "expected must be an id, a list of ids or null, not {other}"
                )));
            }
        };
        out.push(EvalQuestion {
            line,
            question: parsed.question,
            expected,
            style: parsed.style,
        });
    }
    Ok(out)
}

/// The engine's outcome on one question.
#[derive(Debug, Clone, Serialize)]
pub struct EvalOutcome {
    pub line: usize,
    pub question: String,
    pub expected: Vec<String>,
    pub style: Option<String>,
    pub confident: bool,
    /// The `source_id`s of the first three ranked entries.
    pub ranked: Vec<String>,
    /// The confidence of the first entry (0–1).
    pub score: f64,
    pub top1: bool,
    pub top3: bool,
    pub micros: u64,
}

/// The figures of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub questions: usize,
    pub answerable: usize,
    pub unanswerable: usize,
    /// Confident and first answer right, over the answerable questions.
    pub top1: f64,
    /// A right entry among the first three, over the answerable questions.
    pub top3: f64,
    /// Not confident, over the questions the base cannot answer.
    pub correct_declines: f64,
    /// Answerable questions answered confidently but wrongly.
    pub confident_wrong: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub outcomes: Vec<EvalOutcome>,
}

/// Runs every question through `engine` (no filters) and measures.
pub fn evaluate(engine: &Engine, questions: &[EvalQuestion]) -> EvalReport {
    let filters = Filters::default();
    let mut outcomes = Vec::with_capacity(questions.len());
    for q in questions {
        // The latency is that of answering (`ask`); the ranking for top-3 is
        // read apart.
        let started = Instant::now();
        let asked = engine.ask(&q.question, &filters);
        let micros = started.elapsed().as_micros() as u64;
        let ranked_all = engine.rank(&q.question, &filters);
        let ranked: Vec<String> = ranked_all
            .iter()
            .take(3)
            .map(|(i, _)| engine.entries()[*i].source_id.clone().unwrap_or_default())
            .collect();
        let right = |id: &String| q.expected.contains(id);
        let top1 = asked.confident
            && asked
                .hits
                .first()
                .and_then(|h| engine.entries()[h.index].source_id.as_ref())
                .is_some_and(right);
        let top3 = ranked.iter().any(right);
        outcomes.push(EvalOutcome {
            line: q.line,
            question: q.question.clone(),
            expected: q.expected.clone(),
            style: q.style.clone(),
            confident: asked.confident,
            ranked,
            score: asked.hits.first().map_or(0.0, |h| h.score),
            top1,
            top3,
            micros,
        });
    }
    summarise(outcomes)
}

fn summarise(outcomes: Vec<EvalOutcome>) -> EvalReport {
    let answerable: Vec<&EvalOutcome> =
        outcomes.iter().filter(|o| !o.expected.is_empty()).collect();
    let unanswerable: Vec<&EvalOutcome> =
        outcomes.iter().filter(|o| o.expected.is_empty()).collect();
    let share = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let mut micros: Vec<u64> = outcomes.iter().map(|o| o.micros).collect();
    micros.sort_unstable();
    let percentile = |p: f64| {
        if micros.is_empty() {
            return 0.0;
        }
        let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
        micros[rank - 1] as f64 / 1000.0
    };
    EvalReport {
        questions: outcomes.len(),
        answerable: answerable.len(),
        unanswerable: unanswerable.len(),
        top1: share(
            answerable.iter().filter(|o| o.top1).count(),
            answerable.len(),
        ),
        top3: share(
            answerable.iter().filter(|o| o.top3).count(),
            answerable.len(),
        ),
        correct_declines: share(
            unanswerable.iter().filter(|o| !o.confident).count(),
            unanswerable.len(),
        ),
        confident_wrong: answerable.iter().filter(|o| o.confident && !o.top1).count(),
        latency_p50_ms: percentile(0.50),
        latency_p99_ms: percentile(0.99),
        outcomes,
    }
}

/// The tuning half of a question file: every other line (odd lines, from 1).
/// The other half is the held-out one.
pub fn split_halves(questions: &[EvalQuestion]) -> (Vec<EvalQuestion>, Vec<EvalQuestion>) {
    let (tune, held): (Vec<_>, Vec<_>) = questions.iter().cloned().partition(|q| q.line % 2 == 1);
    (tune, held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_may_be_an_id_a_list_or_null() {
        let text = "{\"question\":\"a\",\"expected\":\"faq-1\"}\n\n\
                    {\"question\":\"b\",\"expected\":[\"faq-1\",\"faq-2\"],\"style\":\"typo\"}\n\
                    {\"question\":\"c\",\"expected\":null}\n";
        let qs = parse_questions(text).unwrap();
        assert_eq!(qs.len(), 3);
        assert_eq!(qs[0].expected, ["faq-1"]);
        assert_eq!(qs[1].expected, ["faq-1", "faq-2"]);
        assert_eq!(qs[1].line, 3);
        assert!(qs[2].expected.is_empty());
        assert_eq!(parse_questions("{\"question\":1}").unwrap_err().line, 1);
        assert!(parse_questions("{\"question\":\"a\",\"expected\":3}").is_err());
    }
}
