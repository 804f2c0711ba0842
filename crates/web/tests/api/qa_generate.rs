//! 智能问答's optional generative step against a small chat-completions server of the
//! test's own (axum on 127.0.0.1:0): what the request carries, a citing summary on the
//! API and the page (escaped, citations linked to the entries shown in full), and the
//! silent fallback to the plain answer on a reply without citation, an error status, a
//! body that is not a completion and a reply slower than the timeout; with the setting
//! off (the default) no request is made.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use greenbridge_web::config::QaGenerate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, spawn_app, spawn_app_with};

/// What the fake endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A summary citing entry 1, with characters that must be escaped.
    Cites,
    /// A fluent answer citing nothing.
    NoCitation,
    /// A citation of an entry that was not given.
    WrongCitation,
    /// 500 Internal Server Error.
    Fails,
    /// 200 with a body that is not a chat completion.
    NotACompletion,
    /// The citing summary, but only after [`SLOW`].
    Slow,
}

const SLOW: Duration = Duration::from_secs(3);
const SUMMARY: &str = "可以交给有资质的单位 & 按“联单”转移[1]。\n\n不能<自行>卖给个人【1】。";

/// A request's body and its `Authorization` header.
type Seen = (Value, Option<String>);

#[derive(Clone)]
struct Fake {
    mode: Arc<Mutex<Mode>>,
    /// Each request's body and its `Authorization` header.
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(mode: Mode) -> (Fake, SocketAddr) {
        let fake = Fake {
            mode: Arc::new(Mutex::new(mode)),
            seen: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(fake.clone());
        let (address, _) = crate::support::serve_router(router).await;
        (fake, address)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content },
            "finish_reason": "stop",
        }],
    })
}

async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    fake.seen.lock().unwrap().push((body, authorization));
    let mode = *fake.mode.lock().unwrap();
    match mode {
        Mode::Cites => Json(completion(SUMMARY)).into_response(),
        Mode::NoCitation => Json(completion("可以交给有资质的单位处置。")).into_response(),
        Mode::WrongCitation => Json(completion("可以交给有资质的单位处置[7]。")).into_response(),
        Mode::Fails => (AxumStatus::INTERNAL_SERVER_ERROR, "upstream down").into_response(),
        Mode::NotACompletion => Json(json!({ "error": "nothing here" })).into_response(),
        Mode::Slow => {
            tokio::time::sleep(SLOW).await;
            Json(completion(SUMMARY)).into_response()
        }
    }
}

fn setting(address: SocketAddr, timeout_ms: u64) -> QaGenerate {
    QaGenerate {
        url: format!("http://{address}/v1/"),
        model: "test-model".into(),
        api_key: Some("sk-test-key".into()),
        timeout_ms,
    }
}

async fn with_base(app: TestApp) -> TestApp {
    greenbridge_ingest::faq::import_samples(&app.store, app.state.clock.unix())
        .await
        .expect("samples import");
    app
}

async fn ask(app: &TestApp, q: &str) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/qa/ask"))
        .query(&[("q", q)])
        .send()
        .await
        .expect("GET /api/v1/qa/ask");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a JSON body")
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The answers' keys are exactly those of the contract, the summary aside.
fn assert_contract(body: &Value) {
    let mut top: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    top.sort_unstable();
    assert_eq!(top, ["answers", "confident", "summary"], "{body}");
    for answer in body["answers"].as_array().expect("answers") {
        crate::qa::assert_answer_keys(answer);
    }
}

#[tokio::test]
async fn a_citing_summary_is_shown_above_the_entries_it_cites() {
    let (fake, address) = Fake::start(Mode::Cites).await;
    let app =
        with_base(spawn_app_with(|c| c.qa_generate = Some(setting(address, 10_000))).await).await;
    let entry = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();

    let body = ask(&app, &entry.question).await;
    assert_eq!(body["confident"], true, "{body}");
    assert_contract(&body);
    assert_eq!(body["answers"][0]["source_id"], "faq-1001");
    assert_eq!(body["answers"][0]["answer"], entry.answer.as_str());
    let summary = &body["summary"];
    assert_eq!(
        summary["text"], "可以交给有资质的单位 & 按“联单”转移[1]。\n不能<自行>卖给个人[1]。",
        "{body}"
    );
    assert_eq!(
        summary["cites"],
        json!([{ "n": 1, "id": entry.id.to_string(), "source_id": "faq-1001" }])
    );

    // The request: the model, the instructions, the question and the entries.
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let (request, authorization) = &requests[0];
    assert_eq!(authorization.as_deref(), Some("Bearer sk-test-key"));
    assert_eq!(request["model"], "test-model");
    assert_eq!(request["temperature"], 0);
    assert!(request["max_tokens"].as_u64().is_some_and(|n| n <= 1000));
    let messages = request["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.contains("只能依据") && system.contains("[1]"),
        "{system}"
    );
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().unwrap();
    assert!(
        user.contains(&format!("用户的问题：{}", entry.question)),
        "{user}"
    );
    assert!(
        user.contains(&format!("[1] 问：{}", entry.question)),
        "{user}"
    );
    let answer_start: String = entry.answer.chars().take(40).collect();
    assert!(user.contains(&answer_start), "{user}");
    let given = body["answers"].as_array().unwrap().len();
    assert!((1..=3).contains(&given));
    assert!(user.contains(&format!("[{given}] 问：")));
    assert!(!user.contains(&format!("[{}] 问：", given + 1)));

    // The page: labelled, escaped, each citation linked to the entry shown in full.
    let (status, html) = app
        .get_html(&format!("/assistant?q={}", urlencode(&entry.question)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("摘要（由模型根据下列条目改写，以原条目为准）"),
        "{html}"
    );
    assert!(
        html.contains("可以交给有资质的单位 &#38; 按“联单”转移"),
        "{html}"
    );
    assert!(html.contains("不能&#60;自行&#62;卖给个人"), "{html}");
    assert!(!html.contains("<自行>"));
    assert!(html.contains(&format!("<a href=\"#qa-entry-{}\"", entry.id)));
    assert!(html.contains(&format!("id=\"qa-entry-{}\"", entry.id)));
    assert!(html.contains("问答库 faq-1001"));
    let summary_at = html.find("qa-summary").expect("the summary");
    let entry_at = html
        .find(&format!("id=\"qa-entry-{}\"", entry.id))
        .expect("the entry");
    assert!(summary_at < entry_at, "the summary comes first");
    assert_eq!(fake.requests().len(), 2);

    // A question without a confident answer is not rephrased.
    let body = ask(&app, "明天青浦天气怎么样，会下暴雨吗").await;
    assert_eq!(body["confident"], false, "{body}");
    assert!(body["summary"].is_null());
    assert_eq!(
        fake.requests().len(),
        2,
        "no request for a declined question"
    );
}

#[tokio::test]
async fn a_failing_endpoint_falls_back_to_the_plain_answer() {
    let (fake, address) = Fake::start(Mode::NoCitation).await;
    let app =
        with_base(spawn_app_with(|c| c.qa_generate = Some(setting(address, 500))).await).await;
    let entry = app.store.faq_by_source("faq-2107").await.unwrap().unwrap();
    let mut calls = 0;
    for mode in [
        Mode::NoCitation,
        Mode::WrongCitation,
        Mode::Fails,
        Mode::NotACompletion,
        Mode::Slow,
    ] {
        fake.set(mode);
        let body = ask(&app, &entry.question).await;
        calls += 1;
        assert_eq!(
            fake.requests().len(),
            calls,
            "{mode:?}: the endpoint was asked"
        );
        assert_eq!(body["confident"], true, "{mode:?}: {body}");
        assert!(body["summary"].is_null(), "{mode:?}: {body}");
        assert_contract(&body);
        assert_eq!(body["answers"][0]["source_id"], "faq-2107", "{mode:?}");
        assert_eq!(body["answers"][0]["answer"], entry.answer.as_str());

        let (status, html) = app
            .get_html(&format!("/assistant?q={}", urlencode(&entry.question)))
            .await;
        calls += 1;
        assert_eq!(status, StatusCode::OK, "{mode:?}");
        assert!(
            html.contains("<h2 id=\"qa-answer-title\">答案</h2>"),
            "{mode:?}"
        );
        assert!(!html.contains("摘要（由模型"), "{mode:?}");
        assert!(html.contains("问答库 faq-2107"), "{mode:?}");
        let first_paragraph = entry.answer.split('\n').next().unwrap().trim();
        let shown = first_paragraph.chars().take(20).collect::<String>();
        assert!(
            crate::support::unescape_html(&html).contains(&shown),
            "{mode:?}: the plain answer is shown"
        );
    }
}

#[tokio::test]
async fn with_the_setting_off_no_request_is_made() {
    let (fake, _address) = Fake::start(Mode::Cites).await;
    let app = with_base(spawn_app().await).await;
    assert!(app.state.config.qa_generate.is_none(), "off by default");
    let entry = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();
    let body = ask(&app, &entry.question).await;
    assert_eq!(body["confident"], true, "{body}");
    assert!(body["summary"].is_null(), "{body}");
    assert_contract(&body);
    let (status, html) = app
        .get_html(&format!("/assistant?q={}", urlencode(&entry.question)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("摘要（由模型"));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_openapi_document_describes_the_summary() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.expect("JSON");
    let schema = &document["paths"]["/api/v1/qa/ask"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(schema["required"], json!(["confident", "answers"]));
    assert_eq!(
        schema["properties"]["summary"]["type"],
        json!(["object", "null"])
    );
}
