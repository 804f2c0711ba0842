//! `greenbridge import faq` and `greenbridge qa eval`, run as an operator would: the
//! repository's FAQ base imported into a fresh data directory, the development
//! questions measured, the JSON report read back.

use std::path::Path;
use std::process::{Command, Output};

fn greenbridge(data: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenbridge"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GREENBRIDGE_") {
            command.env_remove(&key);
        }
    }
    command
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn samples(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn qa_eval_measures_the_imported_base_and_reports_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for file in ["faq_part1.jsonl", "faq_part2.jsonl"] {
        let out = greenbridge(&data, &["import", "faq", &samples(file), "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(report["created"], 130);
    }
    let again = greenbridge(
        &data,
        &["import", "faq", &samples("faq_part1.jsonl"), "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(report["unchanged"], 130);

    let out = greenbridge(&data, &["qa", "eval", &samples("qa_dev.jsonl"), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(figures["entries"], 260);
    assert_eq!(figures["questions"], 125);
    assert_eq!(figures["answerable"], 100);
    assert_eq!(figures["unanswerable"], 25);
    for key in ["top1", "top3", "correct_declines"] {
        let v = figures[key].as_f64().expect(key);
        assert!((0.0..=1.0).contains(&v), "{key} {v}");
    }
    assert!(figures["top3"].as_f64().unwrap() >= 0.9);
    assert!(figures["latency_ms"]["p99"].as_f64().is_some());
    assert_eq!(figures["outcomes"].as_array().unwrap().len(), 125);

    let out = greenbridge(&data, &["qa", "eval", &samples("qa_dev.jsonl")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("top-1 (confident and right)"), "{text}");
}

#[test]
fn qa_eval_refuses_a_missing_or_malformed_file_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = greenbridge(&data, &["qa", "eval", "/no/such/file.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"question\": 1}\n").unwrap();
    let out = greenbridge(&data, &["qa", "eval", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}
