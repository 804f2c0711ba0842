//! `greenbridge qa eval FILE [--data DIR] [--json]`: measures the assistant on a
//! question file against the FAQ base in the data directory's database.
//!
//! Lines are `{"question", "expected", "style"?}` (see greenbridge_qa::eval). The
//! figures: top-1 (confident and the first answer right) and top-3 (a right entry
//! among the first three) over the answerable questions, the share of correct
//! declines over the others, and the latency per question (p50, p99). Exit 2 when
//! the file cannot be read or parsed, 1 when the database fails.

use std::path::Path;

use greenbridge_qa::eval::{EvalReport, evaluate, parse_questions};

use crate::Failure;
use crate::commands::{open_store, prepare_data_dir, run_migrations, store_failure};
use crate::settings::Settings;

pub async fn eval(mut settings: Settings, file: &Path, json: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
    let questions =
        parse_questions(&text).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    prepare_data_dir(&mut settings, false)?;
    let store = open_store(&settings).await?;
    run_migrations(&store, &settings).await?;
    greenbridge_search::analyzer::warm_up();
    let engine = greenbridge_qa::base::load_engine(&store)
        .await
        .map_err(|e| store_failure(&settings, e))?;
    store.close().await;
    if engine.is_empty() {
        return Err(Failure::Runtime(
            "the FAQ base is empty: import it first (greenbridge import faq PATH)".into(),
        ));
    }
    let report = evaluate(&engine, &questions);
    if json {
        let json = serde_json::to_string_pretty(&summary_json(&report, engine.len()))
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        println!("{json}");
    } else {
        print_report(&report, engine.len());
    }
    Ok(())
}

fn summary_json(report: &EvalReport, entries: usize) -> serde_json::Value {
    serde_json::json!({
        "entries": entries,
        "questions": report.questions,
        "answerable": report.answerable,
        "unanswerable": report.unanswerable,
        "top1": report.top1,
        "top3": report.top3,
        "correct_declines": report.correct_declines,
        "confident_wrong": report.confident_wrong,
        "latency_ms": {"p50": report.latency_p50_ms, "p99": report.latency_p99_ms},
        "outcomes": report.outcomes,
    })
}

fn print_report(report: &EvalReport, entries: usize) {
    println!(
        "{} questions ({} answerable, {} to decline) against {} entries",
        report.questions, report.answerable, report.unanswerable, entries
    );
    println!("top-1 (confident and right): {:.3}", report.top1);
    println!("top-3:                       {:.3}", report.top3);
    println!(
        "correct declines:            {:.3}",
        report.correct_declines
    );
    println!("confident but wrong:         {}", report.confident_wrong);
    println!(
        "latency per question:        p50 {:.2} ms, p99 {:.2} ms",
        report.latency_p50_ms, report.latency_p99_ms
    );
    let misses: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| {
            if o.expected.is_empty() {
                o.confident
            } else {
                !o.top1
            }
        })
        .collect();
    if !misses.is_empty() {
        println!("misses:");
        for o in misses {
            let expected = if o.expected.is_empty() {
                "(decline)".to_string()
            } else {
                o.expected.join("|")
            };
            println!(
                "  line {}: expected {expected}, {} {} ({:.2}): {}",
                o.line,
                if o.confident { "answered" } else { "offered" },
                o.ranked.join(", "),
                o.score,
                o.question
            );
        }
    }
}
