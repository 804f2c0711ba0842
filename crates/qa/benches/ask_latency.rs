//! Latency of one question against the FAQ base of samples/ (run in release):
//! every question of samples/qa_dev.jsonl asked 20 times through `Engine::ask`,
//! per-question wall time p50 / p99 / max, and the time to build the index.
//!
//! cargo bench -p greenbridge-qa --bench ask_latency

use std::time::Instant;

use greenbridge_qa::eval::parse_questions;
use greenbridge_qa::{Engine, Entry, Filters};

fn load_faq() -> Vec<Entry> {
    greenbridge_qa::similar::sample_entries(&[
        include_str!("../../../samples/faq_part1.jsonl"),
        include_str!("../../../samples/faq_part2.jsonl"),
    ])
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
