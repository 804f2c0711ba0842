//! Latency of one question against the FAQ base of samples/ (run in release):
//! every question of samples/qa_dev.jsonl asked 20 times through `Engine::ask`,
//! per-question wall time p50 / p99 / max, and the time to build the index.
//!
//! cargo bench -p greenbridge-qa --bench ask_latency

use std::time::Instant;

use greenbridge_qa::eval::parse_questions;
use greenbridge_qa::{Engine, Entry, Filters, Reference};

fn load_faq() -> Vec<Entry> {
    let mut out = Vec::new();
    for text in [
        include_str!("../../../samples/faq_part1.jsonl"),
        include_str!("../../../samples/faq_part2.jsonl"),
    ] {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
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

fn main() {
    greenbridge_search::analyzer::warm_up();
    let entries = load_faq();
    let started = Instant::now();
    let engine = Engine::new(entries);
    let build = started.elapsed();
    let questions = match parse_questions(include_str!("../../../samples/qa_dev.jsonl")) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("qa_dev.jsonl: {e}");
            std::process::exit(1);
        }
    };
    let filters = Filters::default();
    let mut micros = Vec::new();
    for _ in 0..20 {
        for q in &questions {
            let t = Instant::now();
            let asked = engine.ask(&q.question, &filters);
            std::hint::black_box(asked);
            micros.push(t.elapsed().as_micros() as u64);
        }
    }
    micros.sort_unstable();
    let pct = |p: f64| {
        let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
        micros[rank - 1] as f64 / 1000.0
    };
    println!(
        "index build: {:.1} ms for {} entries",
        build.as_secs_f64() * 1000.0,
        engine.len()
    );
    println!(
        "ask: {} questions, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        micros.len(),
        pct(0.50),
        pct(0.99),
        micros.last().copied().unwrap_or_default() as f64 / 1000.0
    );
}
