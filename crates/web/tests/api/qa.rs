//! 智能问答: the FAQ import, `GET /api/v1/qa/ask` (shape, filters, bad input), the page
//! without JavaScript, feedback into the queue, staff answering and publishing into
//! the base (then matched like any entry), FAQ editing rights and the audit log,
//! procedures and events, and the expert panel.

use crate::flows::{
    PASSWORD, Registration, Visitor, audit_count, enrolled_admin, insert_account, location,
    register_ok, reviewer,
};
use crate::support::{TestApp, credit_code, spawn_app};
use greenbridge_domain::role::Role;
use greenbridge_ingest::{Dataset, ImportOptions, ImportReport};
use reqwest::StatusCode;
use serde_json::Value;

fn samples(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(file)
}

async fn import(app: &TestApp, file: &str) -> ImportReport {
    greenbridge_ingest::import(
        &app.store,
        Dataset::Faq,
        &samples(file),
        &ImportOptions {
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("the FAQ file imports")
}

/// The app with the whole FAQ base, the procedures and the events.
async fn app_with_base() -> TestApp {
    let app = spawn_app().await;
    greenbridge_ingest::faq::import_samples(&app.store, app.state.clock.unix())
        .await
        .expect("samples import");
    app
}

async fn ask(app: &TestApp, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url("/api/v1/qa/ask"))
        .query(query)
        .send()
        .await
        .expect("GET /api/v1/qa/ask");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// Staff file queued question `ticket` under entry number `entry` as a similar
/// question; the answer's status.
async fn file_as_similar(staff: &Visitor, ticket: i64, entry: &str) -> StatusCode {
    staff
        .post_form(
            &format!("/assistant/queue/{ticket}/similar"),
            &[("entry_id", entry)],
        )
        .await
        .status()
}

/// The open ticket of a question the assistant could not answer.
async fn unanswered_ticket(app: &TestApp, question: &str) -> greenbridge_store::faq::Ticket {
    app.store
        .tickets(Some("open"), 50)
        .await
        .expect("tickets")
        .into_iter()
        .find(|t| t.kind == "unanswered" && t.question == question)
        .expect("the question is queued")
}

async fn entry_id(app: &TestApp, source_id: &str) -> i64 {
    app.store
        .faq_by_source(source_id)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no entry {source_id}"))
        .id
}

#[tokio::test]
async fn the_faq_import_keeps_source_ids_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let first = import(&app, "faq_part1.jsonl").await;
    assert_eq!(
        (first.read, first.created, first.rejected.len()),
        (130, 130, 0)
    );
    let again = import(&app, "faq_part1.jsonl").await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 130));
    let entry = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();
    assert_eq!(entry.category, "环保手续");
    assert_eq!(entry.subcategory, "环评");
    assert_eq!(entry.region, "全国");
    assert!(entry.keywords.contains(&"分类管理名录".to_string()));
    assert!(entry.references.iter().any(|r| r.contains("生态环境法典")));
    let json = serde_json::to_value(&again).unwrap();
    for key in [
        "read",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "skipped",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
}

#[tokio::test]
async fn the_api_answers_with_the_contract_shape() {
    let app = app_with_base().await;
    let entry = app.store.faq_by_source("faq-2107").await.unwrap().unwrap();
    let (status, body) = ask(&app, &[("q", &entry.question)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["confident"], true, "{body}");
    let answers = body["answers"].as_array().expect("answers");
    assert!(!answers.is_empty());
    let first = &answers[0];
    assert_eq!(first["source_id"], "faq-2107");
    assert_eq!(first["id"], entry.id.to_string());
    assert_eq!(first["question"], entry.question.as_str());
    assert_eq!(first["answer"], entry.answer.as_str());
    let score = first["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    for r in first["references"].as_array().expect("references") {
        assert!(r["title"].is_string());
        assert!(r.get("regulation_id").is_some(), "{r}");
    }
    assert_answer_keys(first);
}

/// The keys of one answer of `/api/v1/qa/ask` are exactly those of the contract.
pub(crate) fn assert_answer_keys(answer: &Value) {
    let mut keys: Vec<&str> = answer
        .as_object()
        .expect("an answer object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "answer",
            "id",
            "question",
            "references",
            "score",
            "source_id"
        ],
        "{answer}"
    );
}

#[tokio::test]
async fn an_everyday_question_finds_its_entry() {
    let app = app_with_base().await;
    let (_, body) = ask(
        &app,
        &[("q", "我们厂换下来的废机油能不能自己拉去卖给收油的？")],
    )
    .await;
    let ids: Vec<&str> = body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["source_id"].as_str())
        .collect();
    assert!(!ids.is_empty(), "{body}");
    let first = app.store.faq_by_source(ids[0]).await.unwrap().unwrap();
    assert_eq!(first.category, "固废", "{body}");
}

#[tokio::test]
async fn a_question_the_base_cannot_answer_is_declined_with_at_most_three_closest_and_queued() {
    let app = app_with_base().await;
    let (status, body) = ask(&app, &[("q", "明天青浦天气怎么样，会下暴雨吗")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["confident"], false, "{body}");
    assert!(body["answers"].as_array().unwrap().len() <= 3);
    let tickets = app.store.tickets(Some("open"), 10).await.unwrap();
    assert!(
        tickets
            .iter()
            .any(|t| t.kind == "unanswered" && t.question.contains("暴雨")),
        "{tickets:?}"
    );
    let stats = app.store.qa_stats().await.unwrap();
    assert_eq!((stats.asked, stats.unanswered), (1, 1));
}

#[tokio::test]
async fn a_region_code_limits_answers_to_the_nation_its_province_and_the_zone() {
    let app = app_with_base().await;
    let (status, body) = ask(
        &app,
        &[("q", "示范区 排污许可 跨域 执法"), ("region", "110101")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for a in body["answers"].as_array().unwrap() {
        let id: i64 = a["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(app.store.faq_entry(id).await.unwrap().region, "全国", "{a}");
    }
    let (_, body) = ask(
        &app,
        &[("q", "示范区 跨域 执法 协作"), ("region", "320509")],
    )
    .await;
    for a in body["answers"].as_array().unwrap() {
        let id: i64 = a["id"].as_str().unwrap().parse().unwrap();
        let region = app.store.faq_entry(id).await.unwrap().region;
        assert!(
            ["全国", "江苏省", "示范区"].contains(&region.as_str()),
            "{region}"
        );
    }
    let (_, body) = ask(&app, &[("q", "噪声 夜间"), ("category", "声")]).await;
    for a in body["answers"].as_array().unwrap() {
        let id: i64 = a["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(app.store.faq_entry(id).await.unwrap().category, "声");
    }
}

#[tokio::test]
async fn bad_parameters_get_a_400_with_the_field() {
    let app = app_with_base().await;
    for (query, field) in [
        (vec![("q", "")], "q"),
        (vec![("q", "   ")], "q"),
        (vec![("q", "危废"), ("region", "999999")], "region"),
        (vec![("q", "危废"), ("category", "火")], "category"),
    ] {
        let (status, body) = ask(&app, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn odd_input_gets_an_answer_or_a_clear_message_never_an_error_page() {
    let app = app_with_base().await;
    let long = "排污许可证到期了怎么延续？".repeat(400);
    let markup = "<script>alert('x')</script><b>危废</b>";
    for q in [
        "",
        long.as_str(),
        "How do I renew a discharge permit?",
        "😀😀🙏",
        markup,
        "'; DROP TABLE faq_entries; --",
    ] {
        let (status, html) = app
            .get_html(&format!("/assistant?q={}", urlencode(q)))
            .await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert!(!html.contains("<script>alert"), "markup echoed unescaped");
        assert!(!html.contains("<b>危废</b>"), "markup echoed unescaped");
        let (status, _) = ask(&app, &[("q", q)]).await;
        if q.trim().is_empty() {
            assert_eq!(status, StatusCode::BAD_REQUEST);
        } else {
            assert_eq!(status, StatusCode::OK, "{q}");
        }
    }
    let (_, html) = app
        .get_html(&format!("/assistant?q={}", urlencode(&long)))
        .await;
    assert!(html.contains("按前 500 个字理解"));
    let (status, html) = app
        .get_html("/assistant?q=%E5%8D%B1%E5%BA%9F&region=abc")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("未知的地区代码"));
    assert_eq!(app.count_rows("faq_entries").await, 260);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn the_page_answers_without_javascript_with_source_feedback_and_ranking() {
    let app = app_with_base().await;
    let entry = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();
    let (status, html) = app
        .get_html(&format!("/assistant?q={}", urlencode(&entry.question)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<h2 id=\"qa-answer-title\">答案</h2>"),
        "{html}"
    );
    assert!(html.contains("问答库 faq-1001"));
    assert!(html.contains("action=\"/assistant/feedback\""));
    assert!(html.contains("name=\"_csrf\""));
    assert!(html.contains("猜你想问"));
    assert!(html.contains("<noscript>") || html.contains("method=\"get\" action=\"/assistant\""));
    // The question counted a hit: the ranking shows it.
    let (_, html) = app.get_html("/assistant").await;
    assert!(html.contains("热门问题"));
    assert!(html.contains(&format!("/assistant/entries/{}", entry.id)));
    assert!(html.contains("（1 次）"));
    // The source entry page.
    let (status, html) = app
        .get_html(&format!("/assistant/entries/{}", entry.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("faq-1001"));
    let (status, _) = app.get_html("/assistant/entries/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html("/assistant/entries/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn feedback_queues_unhelpful_answers_and_staff_publish_answers_that_are_then_matched() {
    let app = app_with_base().await;
    let visitor = Visitor::new(&app);
    let entry = entry_id(&app, "faq-2107").await;
    let id = entry.to_string();
    // Helpful: recorded, nothing queued.
    let response = visitor
        .post_form(
            "/assistant/feedback",
            &[("entry_id", &id), ("q", "旧液压油"), ("helpful", "1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Unhelpful needs a reason.
    let response = visitor
        .post_form(
            "/assistant/feedback",
            &[("entry_id", &id), ("helpful", "0")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = visitor
        .post_form(
            "/assistant/feedback",
            &[
                ("entry_id", &id),
                ("q", "旧液压油能卖吗"),
                ("helpful", "0"),
                ("reason", "outdated"),
                ("comment", "<i>过时</i>"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Without the CSRF token the form is refused.
    let response = app
        .client
        .post(app.url("/assistant/feedback"))
        .form(&[("entry_id", id.as_str()), ("helpful", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A question the base cannot answer.
    let question = "公司给员工宿舍屋顶装太阳能热水器，要不要去哪里备案？";
    let (_, body) = ask(&app, &[("q", question)]).await;
    assert_eq!(body["confident"], false, "{body}");

    // Staff see both in the queue, answer the question and publish it.
    let staff = reviewer(&app, "qa-reviewer@example.cn", "320000").await;
    let (status, html) = staff.get_html("/assistant/queue").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("太阳能热水器"), "{html}");
    assert!(html.contains("被标记没帮助的回答"));
    assert!(
        html.contains("反馈说明") && !html.contains("<i>过时</i>"),
        "comment shown escaped"
    );
    let ticket = unanswered_ticket(&app, question).await;
    let answer = "家用规模的太阳能热水器不属于建设项目环评管理对象，无需向生态环境部门备案；涉及建筑外观的按住建、规划部门要求办理。";
    let response = staff
        .post_form(
            &format!("/assistant/queue/{}/answer", ticket.id),
            &[("answer", answer)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = staff
        .post_form(
            &format!("/assistant/queue/{}/publish", ticket.id),
            &[
                ("question", "员工宿舍屋顶装太阳能热水器需要备案吗？"),
                ("category", "固废"),
                ("region", "全国"),
                ("keywords", "太阳能热水器、备案、宿舍"),
                ("references", "《中华人民共和国生态环境法典》"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let published = app.store.ticket(ticket.id).await.unwrap();
    assert_eq!(published.status, "published");
    let new_entry = published.published_entry_id.expect("an entry");
    assert_eq!(audit_count(&app, "qa.faq.publish", "success").await, 1);

    // The engine picks the new entry up.
    let (_, body) = ask(&app, &[("q", "宿舍楼顶装太阳能热水器要备案吗")]).await;
    assert_eq!(body["confident"], true, "{body}");
    assert_eq!(body["answers"][0]["id"], new_entry.to_string(), "{body}");
    assert_eq!(body["answers"][0]["source_id"], Value::Null);
}

#[tokio::test]
async fn only_staff_answer_and_only_associations_and_admins_edit_the_base() {
    let app = app_with_base().await;
    let anonymous = Visitor::new(&app);
    let response = anonymous.get("/assistant/queue").await;
    assert!(matches!(
        response.status(),
        StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
    ));
    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1QAQA01"),
            "吴江问答测试有限公司",
            "qa-ent@example.cn",
        ),
    )
    .await;
    let (status, _) = enterprise.get_html("/assistant/queue").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = enterprise.get_html("/assistant/manage").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let admin = enrolled_admin(&app, "qa-admin@example.cn").await;
    let (status, html) = admin.visitor.get_html("/assistant/manage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("faq-1001"));
    let id = entry_id(&app, "faq-1001").await;
    let response = admin
        .visitor
        .post_form(
            &format!("/assistant/manage/{id}"),
            &[
                (
                    "question",
                    "新建项目怎么判断做环评报告书、报告表还是登记表？",
                ),
                (
                    "answer",
                    "对照《建设项目环境影响评价分类管理名录》确定类别。",
                ),
                ("category", "环保手续"),
                ("subcategory", "环评"),
                ("region", "全国"),
                ("keywords", "环评类别、分类管理名录"),
                ("references", "《建设项目环境影响评价分类管理名录》"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        location(&response)
    );
    let entry = app.store.faq_entry(id).await.unwrap();
    assert_eq!(entry.source_id.as_deref(), Some("faq-1001"));
    assert!(entry.answer.starts_with("对照"));
    assert_eq!(audit_count(&app, "qa.faq.update", "success").await, 1);
    // Hidden entries are not matched any more.
    let response = admin
        .visitor
        .post_form(
            &format!("/assistant/manage/{id}/status"),
            &[("published", "0")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, body) = ask(&app, &[("q", &entry.question)]).await;
    assert!(
        body["answers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"].as_str() != Some(id.to_string().as_str())),
        "{body}"
    );
    // Admins do not answer routed questions.
    let (status, _) = admin.visitor.get_html("/assistant/queue").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn procedures_and_events_are_searchable_and_the_events_say_they_are_samples() {
    let app = app_with_base().await;
    let (status, html) = app
        .get_html("/assistant/procedures?q=%E5%8D%B1%E9%99%A9%E5%BA%9F%E7%89%A9%E8%BD%AC%E7%A7%BB")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("危险废物转移"), "{html}");
    assert!(!html.contains("竣工环境保护自主验收"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM qa_procedures WHERE source_id = 'proc-08'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (status, html) = app.get_html(&format!("/assistant/procedures/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("办理步骤"));
    let (status, html) = app.get_html("/assistant/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("示例数据"));
    assert_eq!(app.count_rows("qa_events").await, 12);
    // Reachable from an answer.
    let (_, html) = app
        .get_html(&format!(
            "/assistant?q={}",
            urlencode("危险废物跨省转移要办什么审批手续")
        ))
        .await;
    assert!(html.contains("/assistant/procedures/"), "{html}");
    // Loading the samples again changes nothing.
    let again = greenbridge_ingest::faq::import_samples(&app.store, app.state.clock.unix())
        .await
        .unwrap();
    for (kind, report) in again {
        assert_eq!(report.created + report.updated, 0, "{kind}");
    }
}

#[tokio::test]
async fn an_enterprise_asks_an_expert_who_answers_and_with_consent_it_enters_the_base() {
    let app = app_with_base().await;
    let expert_id = insert_account(
        &app,
        "qa-expert@example.cn",
        "王专家",
        Role::Expert,
        None,
        PASSWORD,
    )
    .await;
    let expert = Visitor::new(&app);
    expert.login_ok("qa-expert@example.cn", PASSWORD).await;
    let response = expert
        .post_form(
            "/assistant/expert-profile",
            &[
                ("field", "固废"),
                ("organisation", "示范区环保技术中心"),
                ("title", "高级工程师"),
                ("bio", "固体废物管理"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/assistant/experts").await;
    assert!(html.contains("王专家") && html.contains("高级工程师"));

    let enterprise = Visitor::new(&app);
    register_ok(
        &enterprise,
        "demand",
        &Registration::wujiang(
            &credit_code("91320509MA1QAEX01"),
            "吴江专家咨询测试有限公司",
            "qa-ask@example.cn",
        ),
    )
    .await;
    let question = "我们的废旧劳保手套沾了少量机油，能不能和生活垃圾一起处理？";
    let response = enterprise
        .post_form(
            "/assistant/experts/ask",
            &[
                ("to", &format!("expert:{expert_id}")),
                ("question", question),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Visitors cannot ask.
    let response = Visitor::new(&app)
        .post_form(
            "/assistant/experts/ask",
            &[("to", "field:水"), ("question", "问")],
        )
        .await;
    assert!(matches!(
        response.status(),
        StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
    ));

    let (_, html) = expert.get_html("/assistant/queue").await;
    assert!(html.contains("劳保手套"), "{html}");
    let ticket = app
        .store
        .tickets_for_expert(expert_id, "固废")
        .await
        .unwrap()
        .remove(0);
    let response = expert
        .post_form(
            &format!("/assistant/queue/{}/answer", ticket.id),
            &[(
                "answer",
                "沾染矿物油的废弃劳保用品按危险废物管理，符合豁免条件的除外。",
            )],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = enterprise.get_html("/assistant/mine").await;
    assert!(html.contains("按危险废物管理"));
    let response = expert
        .post_form(
            &format!("/assistant/queue/{}/publish", ticket.id),
            &[
                ("question", question),
                ("category", "固废"),
                ("region", "全国"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let entry = app
        .store
        .ticket(ticket.id)
        .await
        .unwrap()
        .published_entry_id
        .unwrap();
    assert_eq!(app.store.faq_entry(entry).await.unwrap().origin, "expert");
}

#[tokio::test]
async fn the_import_gives_the_starter_similar_questions_and_keeps_those_staff_edit() {
    let app = spawn_app().await;
    import(&app, "faq_part1.jsonl").await;
    let entry = app.store.faq_by_source("faq-1001").await.unwrap().unwrap();
    assert_eq!(
        entry.similar_questions,
        greenbridge_qa::similar::starter("faq-1001"),
        "a new entry gets the platform's starter list"
    );
    assert_eq!(entry.similar_questions.len(), 3);

    // Staff change the list on the site; a line without the field keeps it.
    let input = greenbridge_store::faq::FaqInput {
        similar_questions: vec!["新厂环评做哪一种".into()],
        ..(&entry).into()
    };
    app.store
        .update_faq(entry.id, &input, None, app.state.clock.unix())
        .await
        .unwrap();
    let again = import(&app, "faq_part1.jsonl").await;
    assert_eq!((again.updated, again.unchanged), (0, 130));
    let kept = app.store.faq_entry(entry.id).await.unwrap();
    assert_eq!(kept.similar_questions, vec!["新厂环评做哪一种".to_string()]);

    // A line with the field replaces the list; a bad item names the field.
    let dir = tempfile::tempdir().unwrap();
    let line = |similar: &str| {
        format!(
            r#"{{"id":"faq-1001","question":{},"answer":{},"category":"环保手续","subcategory":"环评","region":"全国","keywords":{},"references":{},"similar_questions":{similar}}}"#,
            serde_json::to_string(&entry.question).unwrap(),
            serde_json::to_string(&entry.answer).unwrap(),
            serde_json::to_string(&entry.keywords).unwrap(),
            serde_json::to_string(&entry.references).unwrap(),
        )
    };
    let path = dir.path().join("faq_fix.jsonl");
    std::fs::write(
        &path,
        format!("{}\n{}\n", line(r#"["环评文件 类别"]"#), line(r#"[""]"#)),
    )
    .unwrap();
    let report = greenbridge_ingest::import(
        &app.store,
        Dataset::Faq,
        &path,
        &ImportOptions {
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].row, Some(2));
    assert_eq!(
        report.rejected[0].field.as_deref(),
        Some("similar_questions")
    );
    let replaced = app.store.faq_entry(entry.id).await.unwrap();
    assert_eq!(
        replaced.similar_questions,
        vec!["环评文件 类别".to_string()]
    );
}

#[tokio::test]
async fn an_edit_within_the_second_of_the_last_one_is_matched_at_once() {
    let app = app_with_base().await;
    let question = "厂里那口老井的水还能不能拿来冲洗车间地面";
    let (_, body) = ask(&app, &[("q", question)]).await;
    assert_eq!(body["confident"], false, "{body}");
    // The same second as the import, and texts of the same length: neither the
    // latest change nor the lengths tell the engine that the base changed.
    let entry = app.store.faq_by_source("faq-2011").await.unwrap().unwrap();
    let input = greenbridge_store::faq::FaqInput {
        similar_questions: vec![question.to_string()],
        ..(&entry).into()
    };
    app.store
        .update_faq(entry.id, &input, None, entry.updated_at)
        .await
        .unwrap();
    let (_, body) = ask(&app, &[("q", question)]).await;
    assert_eq!(body["confident"], true, "{body}");
    assert_eq!(body["answers"][0]["id"], entry.id.to_string(), "{body}");
}

#[tokio::test]
async fn staff_add_similar_questions_by_hand_and_from_the_queue_and_they_are_matched() {
    let app = app_with_base().await;
    // A way of asking the base has never seen.
    let question = "厂里那口老井的水还能不能拿来冲洗车间地面";
    let (_, body) = ask(&app, &[("q", question)]).await;
    assert_eq!(body["confident"], false, "{body}");
    let ticket = unanswered_ticket(&app, question).await;

    // Association staff file it under an entry from the queue.
    let staff = reviewer(&app, "qa-similar@example.cn", "320000").await;
    let (_, html) = staff.get_html("/assistant/queue").await;
    assert!(
        html.contains(&format!("/assistant/queue/{}/similar", ticket.id)),
        "{html}"
    );
    let target = entry_id(&app, "faq-2011").await;
    assert_eq!(
        file_as_similar(&staff, ticket.id, "not a number").await,
        StatusCode::BAD_REQUEST
    );
    let (status, html) = staff
        .get_html(&format!("/assistant/queue/{}/similar", ticket.id))
        .await;
    assert_ne!(status, StatusCode::OK, "{html}");
    assert_eq!(
        file_as_similar(&staff, ticket.id, "99999999").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        file_as_similar(&staff, ticket.id, &target.to_string()).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.store.ticket(ticket.id).await.unwrap().status, "closed");
    let entry = app.store.faq_entry(target).await.unwrap();
    assert_eq!(
        entry.similar_questions.last().map(String::as_str),
        Some(question)
    );
    assert_eq!(audit_count(&app, "qa.faq.similar_add", "success").await, 1);
    let (_, body) = ask(&app, &[("q", question)]).await;
    assert_eq!(body["confident"], true, "{body}");
    assert_eq!(body["answers"][0]["id"], target.to_string(), "{body}");
    // An unhelpful mark without the question typed leaves nothing to file.
    let empty = app
        .store
        .open_ticket(
            &greenbridge_store::faq::NewTicket {
                kind: "unhelpful",
                question: " ",
                region_code: None,
                category: None,
                entry_id: Some(target),
                feedback_reason: Some("other"),
                asker_account_id: None,
                expert_account_id: None,
                field: None,
                consent: false,
            },
            app.state.clock.unix(),
        )
        .await
        .unwrap();
    assert_eq!(
        file_as_similar(&staff, empty, &target.to_string()).await,
        StatusCode::BAD_REQUEST
    );
    // The ticket is closed: a second filing is refused.
    assert_eq!(
        file_as_similar(&staff, ticket.id, &target.to_string()).await,
        StatusCode::BAD_REQUEST
    );

    // An admin edits the list by hand, one per line; an over-long line is refused.
    let admin = enrolled_admin(&app, "qa-similar-admin@example.cn").await;
    let (_, html) = admin
        .visitor
        .get_html(&format!("/assistant/manage/{target}"))
        .await;
    assert!(
        html.contains("相似问法") && html.contains(question),
        "{html}"
    );
    let form = |similar: String| {
        vec![
            ("question", entry.question.clone()),
            ("answer", entry.answer.clone()),
            ("category", entry.category.clone()),
            ("subcategory", entry.subcategory.clone()),
            ("region", entry.region.clone()),
            ("keywords", entry.keywords.join("、")),
            ("similar_questions", similar),
            ("references", entry.references.join("、")),
        ]
    };
    let long = form("长".repeat(201));
    let long: Vec<(&str, &str)> = long.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = admin
        .visitor
        .post_form(&format!("/assistant/manage/{target}"), &long)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let typed = form(format!(
        " 车间冲地能用井水吗 \n\n{question}\n车间冲地能用井水吗"
    ));
    let typed: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = admin
        .visitor
        .post_form(&format!("/assistant/manage/{target}"), &typed)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let entry = app.store.faq_entry(target).await.unwrap();
    assert_eq!(
        entry.similar_questions,
        vec!["车间冲地能用井水吗".to_string(), question.to_string()]
    );
    assert_eq!(audit_count(&app, "qa.faq.update", "success").await, 1);
}
