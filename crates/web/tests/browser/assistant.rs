//! 智能问答 in a browser, over the sample FAQ base. With JavaScript, a visitor types two
//! questions: each answer, with its source entry and the optional summary (from a small
//! chat-completions server of the test's own), is appended to the conversation without
//! a page load. The answer's link leads to its source entry, where 没帮助 with a reason
//! goes to the staff's queue. The plain form (what the browser sends without the
//! script) answers on a page of its own, where 有帮助 is recorded.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{browser_available, fill, path_of, screenshot, start_browser, wait_for_text};
use crate::support::spawn_app_with;
use fantoccini::{Client, Locator};
use greenbridge_web::config::QaGenerate;
use serde_json::json;

const SUMMARY: &str = "可以按条目办理，具体要求见[1]。";

/// A chat-completions endpoint that always answers with [`SUMMARY`].
async fn fake_endpoint() -> SocketAddr {
    let router = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            axum::Json(json!({
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": SUMMARY } }],
            }))
        }),
    );
    crate::support::serve_router(router).await.0
}

/// Waits until `count` turns are in the conversation.
async fn wait_for_turns(client: &Client, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = client
            .execute(
                "return document.querySelectorAll('#qa-conversation .qa-turn').length;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if shown as usize >= count {
            return;
        }
        if Instant::now() >= deadline {
            screenshot(client, "assistant-timeout.png").await;
            let source = client.source().await.unwrap_or_default();
            panic!("the conversation never showed {count} turn(s):\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn marker(client: &Client) -> Option<String> {
    client
        .execute("return window.qaTestMarker || null;", vec![])
        .await
        .expect("script")
        .as_str()
        .map(String::from)
}

async fn ask_in_conversation(client: &Client, question: &str) {
    fill(client, "qa-q", question).await;
    client
        .find(Locator::Css("#qa-form button[type='submit']"))
        .await
        .expect("the 提问 button")
        .click()
        .await
        .expect("ask");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_asks_in_a_conversation_and_on_the_plain_form_and_gives_feedback() {
    if !browser_available() {
        return;
    }
    let endpoint = fake_endpoint().await;
    let app = spawn_app_with(|c| {
        c.qa_generate = Some(QaGenerate {
            url: format!("http://{endpoint}/v1"),
            model: "test-model".into(),
            api_key: None,
            timeout_ms: 10_000,
        });
    })
    .await;
    greenbridge_ingest::faq::import_samples(&app.store, app.state.clock.unix())
        .await
        .expect("samples import");
    let first = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();
    let second = app.store.faq_by_source("faq-2107").await.unwrap().unwrap();
    let opening = |answer: &str| -> String {
        answer
            .split('\n')
            .map(str::trim)
            .find(|p| !p.is_empty())
            .unwrap_or_default()
            .chars()
            .take(20)
            .collect()
    };

    let (_driver, client) = start_browser().await;
    client
        .goto(&app.url("/assistant"))
        .await
        .expect("open the assistant");
    wait_for_text(&client, "热门问题").await;
    // A page load would forget this.
    client
        .execute("window.qaTestMarker = 'same page';", vec![])
        .await
        .expect("set the marker");

    // The conversation: the answer is appended, with its source and the summary.
    ask_in_conversation(&client, &first.question).await;
    wait_for_turns(&client, 1).await;
    let turn = client
        .find(Locator::Css("#qa-conversation .qa-turn"))
        .await
        .expect("the first turn")
        .text()
        .await
        .expect("its text");
    assert!(turn.contains(&format!("问：{}", first.question)), "{turn}");
    assert!(turn.contains(&opening(&first.answer)), "{turn}");
    assert!(turn.contains("来源：问答库 faq-1001"), "{turn}");
    assert!(
        turn.contains("摘要（由模型根据下列条目改写，以原条目为准）"),
        "{turn}"
    );
    assert!(turn.contains("可以按条目办理，具体要求见[1]。"), "{turn}");
    let cite = client
        .find(Locator::Css("#qa-conversation .qa-summary a"))
        .await
        .expect("the citation link");
    assert_eq!(cite.text().await.unwrap(), "[1]");
    assert_eq!(
        cite.attr("href").await.unwrap().as_deref(),
        Some(format!("/assistant/entries/{}", first.id).as_str())
    );
    assert_eq!(marker(&client).await.as_deref(), Some("same page"));
    assert_eq!(path_of(&client).await, "/assistant");
    let url = client.current_url().await.expect("url");
    assert_eq!(url.query(), None, "no navigation to the form's address");
    screenshot(&client, "assistant-conversation.png").await;

    ask_in_conversation(&client, &second.question).await;
    wait_for_turns(&client, 2).await;
    let turns = client
        .find_all(Locator::Css("#qa-conversation .qa-turn"))
        .await
        .expect("the turns");
    assert_eq!(turns.len(), 2);
    let text = turns[1].text().await.expect("the second turn");
    assert!(text.contains(&format!("问：{}", second.question)), "{text}");
    assert!(text.contains("来源：问答库 faq-2107"), "{text}");
    assert_eq!(marker(&client).await.as_deref(), Some("same page"));
    screenshot(&client, "assistant-conversation-two.png").await;

    // The first answer's link to its source entry, and 没帮助 with a reason there.
    turns[0]
        .find(Locator::LinkText("评价这条回答（有帮助 / 没帮助）"))
        .await
        .expect("the feedback link")
        .click()
        .await
        .expect("follow it");
    wait_for_text(&client, "这条回答对您有帮助吗？").await;
    assert_eq!(
        path_of(&client).await,
        format!("/assistant/entries/{}", first.id)
    );
    wait_for_text(&client, "faq-1001").await;
    client
        .find(Locator::Id("reason"))
        .await
        .expect("the reason select")
        .select_by_value("outdated")
        .await
        .expect("pick 过时");
    fill(&client, "comment", "名录已经修订").await;
    client
        .find(Locator::XPath(
            "//form//button[normalize-space(.)='没帮助']",
        ))
        .await
        .expect("the 没帮助 button")
        .click()
        .await
        .expect("send");
    wait_for_text(&client, "已记录您的意见").await;
    let tickets = app.store.tickets(Some("open"), 10).await.unwrap();
    let ticket = tickets
        .iter()
        .find(|t| t.kind == "unhelpful")
        .unwrap_or_else(|| panic!("no unhelpful ticket: {tickets:?}"));
    assert_eq!(ticket.entry_id, Some(first.id));
    assert_eq!(ticket.feedback_reason.as_deref(), Some("outdated"));
    assert!(ticket.question.contains("名录已经修订"), "{ticket:?}");

    // The plain form, as sent without the script (`submit()` skips its handler).
    client
        .goto(&app.url("/assistant"))
        .await
        .expect("open the assistant again");
    fill(&client, "qa-q", &second.question).await;
    client
        .execute("document.getElementById('qa-form').submit();", vec![])
        .await
        .expect("submit the plain form");
    wait_for_text(&client, "<h2 id=\"qa-answer-title\">答案</h2>").await;
    let url = client.current_url().await.expect("url");
    assert!(url.query().unwrap_or("").starts_with("q="), "{url}");
    let article = client
        .find(Locator::Id(&format!("qa-entry-{}", second.id)))
        .await
        .expect("the answer's entry");
    let text = article.text().await.expect("its text");
    assert!(text.contains(&opening(&second.answer)), "{text}");
    assert!(text.contains("来源：问答库 faq-2107"), "{text}");
    let summary = client
        .find(Locator::Id("qa-summary"))
        .await
        .expect("the summary")
        .text()
        .await
        .expect("its text");
    assert!(summary.contains("以原条目为准"), "{summary}");
    screenshot(&client, "assistant-plain-form.png").await;
    article
        .find(Locator::XPath(".//button[normalize-space(.)='有帮助']"))
        .await
        .expect("the 有帮助 button")
        .click()
        .await
        .expect("send");
    wait_for_text(&client, "已记录：这条回答对您有帮助。").await;
    client
        .close()
        .await
        .expect("cannot end the browser session");

    let helpful: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM qa_feedback WHERE entry_id = $1 AND helpful = 1")
            .bind(second.id)
            .fetch_one(app.store.pool())
            .await
            .expect("count");
    assert_eq!(helpful, 1);
    let unhelpful: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM qa_feedback WHERE entry_id = $1 AND helpful = 0 AND reason = 'outdated'",
    )
    .bind(first.id)
    .fetch_one(app.store.pool())
    .await
    .expect("count");
    assert_eq!(unhelpful, 1);
}
