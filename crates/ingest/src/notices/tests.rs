//! Every sample page parses to exactly what `samples/notices/index.json` says.

use super::parse::{PageSource, parse_notice_page};
use greenbridge_domain::notice::category_family;
use serde_json::Value;
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/notices")
}

fn yuan(m: Option<greenbridge_domain::Money>) -> Value {
    match m {
        Some(m) => {
            assert_eq!(m.fen() % 100, 0);
            Value::from(m.yuan())
        }
        None => Value::Null,
    }
}

fn text(s: &Option<String>) -> Value {
    s.as_ref()
        .map(|s| Value::from(s.as_str()))
        .unwrap_or(Value::Null)
}

#[test]
fn every_sample_page_parses_to_the_index() {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(samples().join("index.json")).unwrap())
            .unwrap();
    let notices = index["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 30);
    let mut failures = Vec::new();
    for expected in notices {
        let file = expected["file"].as_str().unwrap();
        let html = std::fs::read_to_string(samples().join(file)).unwrap();
        let parsed = parse_notice_page(
            &html,
            &PageSource {
                site: "test",
                url: file,
                source_id: None,
                sample: true,
            },
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(parsed.problems.is_empty(), "{file}: {:?}", parsed.problems);
        let n = &parsed.notice;
        let got = [
            ("title", Value::from(n.title.as_str())),
            ("notice_type", Value::from(n.notice_type.as_str())),
            ("project_code", text(&n.project_code)),
            ("purchaser", text(&n.purchaser)),
            ("agency", text(&n.agency)),
            ("region_code", text(&n.region_code)),
            ("budget_yuan", yuan(n.budget)),
            ("max_price_yuan", yuan(n.max_price)),
            ("publish_date", text(&n.publish_date)),
            ("deadline", text(&n.deadline)),
            ("winner", text(&n.winner)),
            ("award_yuan", yuan(n.award)),
        ];
        for (field, value) in got {
            if expected[field] != value {
                failures.push(format!(
                    "{file} {field}: expected {} got {value}",
                    expected[field]
                ));
            }
        }
        let family = expected["service_category_code"]
            .as_str()
            .map(category_family);
        let main = n.categories.first().map(|c| category_family(c));
        if family != main {
            failures.push(format!("{file} category: expected {family:?} got {main:?}"));
        }
        if let Some(packages) = expected["packages"].as_array() {
            let got: Vec<i64> = n
                .packages
                .iter()
                .filter_map(|p| p.budget_fen)
                .map(|f| f / 100)
                .collect();
            let want: Vec<i64> = packages
                .iter()
                .filter_map(|p| p["budget_yuan"].as_i64())
                .collect();
            if got != want {
                failures.push(format!("{file} packages: expected {want:?} got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_page_that_is_not_a_notice_is_refused() {
    let source = PageSource {
        site: "test",
        url: "x",
        source_id: None,
        sample: false,
    };
    assert!(parse_notice_page("<html><body><p>你好</p></body></html>", &source).is_err());
    assert!(parse_notice_page("{\"notices\": []}", &source).is_err());
}

#[test]
fn an_unreadable_amount_is_reported_and_left_empty() {
    let html = std::fs::read_to_string(samples().join("t20260109_26016771.html"))
        .unwrap()
        .replacen("1,860,000.00元</span>", "详见采购文件</span>", 1);
    let parsed = parse_notice_page(
        &html,
        &PageSource {
            site: "test",
            url: "x",
            source_id: None,
            sample: false,
        },
    )
    .unwrap();
    assert_eq!(parsed.notice.budget, None);
    assert!(parsed.problems.iter().any(|p| p.field == "budget_yuan"));
}
