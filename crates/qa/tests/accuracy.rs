//! Accuracy floors on the development questions (samples/qa_dev.jsonl) and on the
//! calibration questions (crates/qa/calibration) against the FAQ base of samples/:
//! they fail when a change to the matcher makes it clearly worse. The floors sit
//! below the figures measured at the time of writing, with margins, so that small
//! shifts pass:
//!
//! | set | top-1 | top-3 | correct declines |
//! | --- | --- | --- | --- |
//! | development, all 125 | 0.82 | 0.98 | 0.92 |
//! | development, held-out half | 0.89 | 0.98 | 0.93 |
//! | calibration, 287 | 0.89 | 0.99 | 0.78 |
//!
//! The figures themselves are reported by `greenbridge qa eval`. No timing here:
//! latency is measured by the `ask_latency` benchmark.

use greenbridge_qa::eval::{evaluate, parse_questions, split_halves};
use greenbridge_qa::{Engine, Entry, Reference};

fn base() -> Vec<Entry> {
    let mut out = Vec::new();
    for text in [
        include_str!("../../../samples/faq_part1.jsonl"),
        include_str!("../../../samples/faq_part2.jsonl"),
    ] {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("a FAQ line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let list = |k: &str| -> Vec<String> {
                v[k].as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            out.push(Entry {
                id: out.len() as i64 + 1,
                source_id: Some(s("id")),
                question: s("question"),
                answer: s("answer"),
                category: s("category"),
                subcategory: s("subcategory"),
                region: s("region"),
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
    }
    out
}

#[test]
fn the_development_questions_stay_above_the_accuracy_floor() {
    let engine = Engine::new(base());
    assert_eq!(engine.len(), 260);
    let questions =
        parse_questions(include_str!("../../../samples/qa_dev.jsonl")).expect("qa_dev.jsonl");
    let all = evaluate(&engine, &questions);
    assert_eq!((all.answerable, all.unanswerable), (100, 25));
    assert!(all.top1 >= 0.78, "top-1 {:.3}", all.top1);
    assert!(all.top3 >= 0.95, "top-3 {:.3}", all.top3);
    assert!(
        all.correct_declines >= 0.86,
        "declines {:.3}",
        all.correct_declines
    );
    // The held-out half (even lines) is neither fitted nor cut on.
    let (_, held) = split_halves(&questions);
    let held = evaluate(&engine, &held);
    assert!(held.top1 >= 0.85, "held-out top-1 {:.3}", held.top1);
    assert!(held.top3 >= 0.95, "held-out top-3 {:.3}", held.top3);
    assert!(
        held.correct_declines >= 0.86,
        "held-out declines {:.3}",
        held.correct_declines
    );
}

#[test]
fn the_calibration_questions_stay_above_the_accuracy_floor() {
    let engine = Engine::new(base());
    let questions = parse_questions(include_str!("../calibration/questions.jsonl"))
        .expect("calibration questions");
    let r = evaluate(&engine, &questions);
    assert_eq!((r.answerable, r.unanswerable), (201, 86));
    assert!(r.top1 >= 0.85, "top-1 {:.3}", r.top1);
    assert!(r.top3 >= 0.96, "top-3 {:.3}", r.top3);
    assert!(
        r.correct_declines >= 0.72,
        "declines {:.3}",
        r.correct_declines
    );
}

#[test]
fn off_topic_questions_are_declined() {
    let engine = Engine::new(base());
    for q in [
        "明天青浦天气怎么样，会下暴雨吗",
        "增值税专用发票开错了，怎么作废重开？",
        "How do I apply for a visa?",
    ] {
        let asked = engine.ask(q, &Default::default());
        assert!(!asked.confident, "{q}: {:?}", asked.hits.first());
        assert!(asked.hits.len() <= greenbridge_qa::CLOSEST_OFFERED);
    }
}

#[test]
fn an_entry_s_own_question_is_answered_by_it() {
    let engine = Engine::new(base());
    let mut right = 0;
    for (i, e) in engine.entries().iter().enumerate() {
        let asked = engine.ask(&e.question, &Default::default());
        if asked.confident && asked.hits[0].index == i {
            right += 1;
        }
    }
    assert!(
        right as f64 >= 0.95 * engine.len() as f64,
        "{right} of {}",
        engine.len()
    );
}
