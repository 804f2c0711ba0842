//! Accuracy floors on the development questions (samples/qa_dev.jsonl) and on the
//! calibration questions (crates/qa/calibration) against the FAQ base of samples/:
//! they fail when a change to the matcher makes it clearly worse. The floors sit
//! below the figures measured at the time of writing, with margins, so that small
//! shifts pass:
//!
//! | set | top-1 | top-3 | correct declines |
//! | --- | --- | --- | --- |
//! | development, all 125 | 0.96 | 1.00 | 1.00 |
//! | development, held-out half | 0.94 | 1.00 | 1.00 |
//! | calibration, 287 | 0.955 | 1.00 | 0.86 |
//!
//! On the whole development set the floors are the targets of the issue
//! (top-1 0.92, top-3 0.98, declines 0.90).
//!
//! The figures themselves are reported by `greenbridge qa eval`. No timing here:
//! latency is measured by the `ask_latency` benchmark.

use greenbridge_qa::eval::{evaluate, parse_questions, split_halves};
use greenbridge_qa::{Engine, Entry};

fn base() -> Vec<Entry> {
    greenbridge_qa::similar::sample_entries(&[
        include_str!("../../../samples/faq_part1.jsonl"),
        include_str!("../../../samples/faq_part2.jsonl"),
    ])
}

#[test]
fn the_development_questions_stay_above_the_accuracy_floor() {
    let engine = Engine::new(base());
    assert_eq!(engine.len(), 260);
    let questions =
        parse_questions(include_str!("../../../samples/qa_dev.jsonl")).expect("qa_dev.jsonl");
    let all = evaluate(&engine, &questions);
    assert_eq!((all.answerable, all.unanswerable), (100, 25));
    assert!(all.top1 >= 0.92, "top-1 {:.3}", all.top1);
    assert!(all.top3 >= 0.98, "top-3 {:.3}", all.top3);
    assert!(
        all.correct_declines >= 0.90,
        "declines {:.3}",
        all.correct_declines
    );
    // The held-out half (even lines) is neither fitted nor cut on.
    let (_, held) = split_halves(&questions);
    let held = evaluate(&engine, &held);
    assert!(held.top1 >= 0.90, "held-out top-1 {:.3}", held.top1);
    assert!(held.top3 >= 0.98, "held-out top-3 {:.3}", held.top3);
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
    assert!(r.top1 >= 0.94, "top-1 {:.3}", r.top1);
    assert!(r.top3 >= 0.99, "top-3 {:.3}", r.top3);
    assert!(
        r.correct_declines >= 0.80,
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

#[test]
fn every_starter_similar_question_is_answered_by_its_entry() {
    let engine = Engine::new(base());
    let (mut asked, mut right) = (0, 0);
    let mut wrong = Vec::new();
    for (i, e) in engine.entries().iter().enumerate() {
        for q in &e.similar_questions {
            asked += 1;
            let hits = engine.ask(q, &Default::default());
            if hits.hits.first().is_some_and(|h| h.index == i) {
                right += 1;
            } else {
                wrong.push(q.clone());
            }
        }
    }
    assert_eq!(
        asked, 780,
        "three similar questions for each of the 260 entries"
    );
    // Close entries share some ways of asking (排污许可 延续 / 变更); a few
    // may rank a sibling first.
    assert!(
        right as f64 >= 0.97 * asked as f64,
        "{right} of {asked}: {wrong:?}"
    );
}
