//! 绿色课堂: the course import, the catalogue and `GET /api/v1/courses` (Chinese
//! keywords, category, tag, newest / most viewed), lesson uploads checked by content
//! and by the route's own size limit (413, nothing left behind), playback with byte
//! ranges (206 / 416), a file missing on disk (404), learning progress and who may
//! publish.

use crate::flows::{PASSWORD, Visitor, audit_count, enrolled_admin, insert_account, reviewer};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use greenbridge_domain::role::Role;
use greenbridge_ingest::{Dataset, ImportOptions, ImportReport};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, IF_NONE_MATCH, LOCATION, RANGE,
};
use serde_json::Value;

const SAMPLE_COURSES: &str = "../../samples/courses.jsonl";
const VIDEO: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro.webm");
const CAPTIONS: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro.vtt");
const POSTER: &[u8] = include_bytes!("../../../../samples/courses/lvqiao-intro-poster.jpg");

fn sample_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE_COURSES)
}

async fn import_file(app: &TestApp, path: &std::path::Path, dry_run: bool) -> ImportReport {
    let report = greenbridge_ingest::import(
        &app.store,
        Dataset::Courses,
        path,
        &ImportOptions {
            dry_run,
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("the course file imports");
    // The catalogue's keyword search reads the index, fed from the outbox.
    app.state.search.catch_up().await.expect("indexing");
    report
}

async fn course_id(app: &TestApp, source_id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT id FROM courses WHERE source_id = $1")
        .bind(source_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("no course {source_id}: {e}"))
}

/// Every file under the file store's directory, temporary ones included.
fn stored_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&app.data_dir.path().join("files"))
}

/// A small but complete PDF.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// A PPTX-shaped ZIP (the local file headers name `ppt/` parts).
fn pptx() -> Vec<u8> {
    let mut zip = Vec::new();
    for name in ["[Content_Types].xml", "ppt/presentation.xml"] {
        zip.extend_from_slice(b"PK\x03\x04");
        zip.extend_from_slice(&[0u8; 22]);
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(b"compressed bytes");
    }
    zip
}

/// One file part of a lesson upload: (field, file name, bytes).
type Part = (&'static str, &'static str, Vec<u8>);

/// Posts the lesson form of course `course` with these text fields and files.
async fn upload_lesson(
    visitor: &Visitor,
    course: i64,
    fields: &[(&str, &str)],
    files: Vec<Part>,
) -> reqwest::Response {
    let path = format!("/classroom/manage/courses/{course}/lessons");
    post_lesson_form(visitor, &path, fields, files).await
}

/// Posts a multipart lesson form to `path` with these text fields and files.
async fn post_lesson_form(
    visitor: &Visitor,
    path: &str,
    fields: &[(&str, &str)],
    files: Vec<Part>,
) -> reqwest::Response {
    let token = visitor.csrf().await;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (name, file_name, bytes) in files {
        form = form.part(
            name,
            reqwest::multipart::Part::bytes(bytes)
                .file_name(file_name)
                .mime_str("application/octet-stream")
                .expect("mime"),
        );
    }
    let url = format!(
        "{}?_csrf={}",
        visitor.url(path),
        form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    visitor
        .client
        .post(url)
        .multipart(form)
        .send()
        .await
        .expect("upload request")
}

/// Uploads a lesson and returns its id (from the redirect).
async fn upload_lesson_ok(
    visitor: &Visitor,
    course: i64,
    fields: &[(&str, &str)],
    files: Vec<Part>,
) -> i64 {
    let response = upload_lesson(visitor, course, fields, files).await;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let location = location.expect("redirect");
    location
        .rsplit_once("?added=")
        .and_then(|(_, id)| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.get(path).await;
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

/// A logged-in learner (a demand-side enterprise account).
async fn learner(app: &TestApp, login: &str) -> Visitor {
    insert_account(app, login, "学员", Role::DemandEnterprise, None, PASSWORD).await;
    let visitor = Visitor::new(app);
    visitor.login_ok(login, PASSWORD).await;
    visitor
}

/// An admin with one imported course and one video lesson on it.
async fn course_with_video(app: &TestApp) -> (Visitor, i64, i64) {
    import_file(app, &sample_path(), false).await;
    let admin = enrolled_admin(app, "course-admin@example.com")
        .await
        .visitor;
    let course = course_id(app, "course-0005").await;
    let lesson = upload_lesson_ok(
        &admin,
        course,
        &[
            ("title", "联单填报演示"),
            ("duration", "0:08"),
            ("transcript", "第一步，登录固废管理信息系统。"),
        ],
        vec![
            ("video", "演示.webm", VIDEO.to_vec()),
            ("captions", "演示.vtt", CAPTIONS.to_vec()),
            ("courseware", "讲义.pdf", pdf()),
            ("poster", "封面.jpg", POSTER.to_vec()),
        ],
    )
    .await;
    (admin, course, lesson)
}

#[tokio::test]
async fn importing_the_sample_courses_twice_creates_then_changes_nothing() {
    let app = spawn_app().await;
    let dry = import_file(&app, &sample_path(), true).await;
    assert_eq!((dry.read, dry.created, dry.dry_run), (20, 20, true));
    assert_eq!(app.count_rows("courses").await, 0);

    let first = import_file(&app, &sample_path(), false).await;
    assert_eq!((first.read, first.created, first.unchanged), (20, 20, 0));
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let second = import_file(&app, &sample_path(), false).await;
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 20)
    );
    assert_eq!(app.count_rows("courses").await, 20);

    // One changed record updates its course; a bad line is rejected with its line.
    let dir = tempfile::tempdir().unwrap();
    let changed = std::fs::read_to_string(sample_path()).unwrap().replacen(
        "危险废物识别与",
        "危险废物识别（修订）与",
        1,
    ) + "{\"id\": \"course-9999\", \"title\": \"坏行\", \"category\": \"政策法规\"}\n";
    let path = dir.path().join("courses.jsonl");
    std::fs::write(&path, changed).unwrap();
    let third = import_file(&app, &path, false).await;
    assert_eq!((third.read, third.updated, third.unchanged), (21, 1, 19));
    let json = serde_json::to_value(&third).unwrap();
    assert_eq!(json["rejected"][0]["row"], 21);
    assert_eq!(json["rejected"][0]["field"], "published_at");

    let course = app
        .store
        .course_by_source_id("course-0003")
        .await
        .unwrap()
        .expect("imported");
    assert_eq!(
        course.title,
        "危险废物识别（修订）与《国家危险废物名录》查用方法"
    );
    assert_eq!(course.regulations, ["国家危险废物名录"]);
    assert_eq!(course.tags, ["危险废物名录", "废物代码", "HW类别"]);
}

#[tokio::test]
async fn the_catalogue_finds_courses_by_chinese_keyword_category_and_tag() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;

    // 危废 is the everyday short form of 危险废物.
    let (status, json) = get_json(&app, "/api/v1/courses?q=危废").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let found: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source_id"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"course-0003"), "{found:?}");
    assert!(found.contains(&"course-0005"), "{found:?}");
    assert!(!found.contains(&"course-0002"), "{found:?}");
    let first = &json["items"][0];
    assert!(first["id"].is_string() && first["source_id"].is_string());
    assert!(json["facets"]["category"].is_array());

    let (_, json) = get_json(&app, "/api/v1/courses?category=危废管理&page_size=100").await;
    let total = json["total"].as_u64().unwrap();
    assert!(total >= 3);
    assert!(
        json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["category"] == "危废管理")
    );
    let (_, json) = get_json(&app, "/api/v1/courses?tag=转移联单").await;
    assert_eq!(json["total"], 1);
    assert_eq!(json["items"][0]["source_id"], "course-0005");

    // Newest first by default; 2026-09-15 is the newest publication date.
    let (_, json) = get_json(&app, "/api/v1/courses").await;
    assert_eq!(json["total"], 20);
    assert_eq!(json["items"][0]["source_id"], "course-0001");

    for bad in ["sort=oldest", "order=up", "page_size=101", "colour=green"] {
        let (status, json) = get_json(&app, &format!("/api/v1/courses?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(json["error"]["message"].is_string(), "{json}");
    }

    let (status, html) = app.get_html("/classroom?q=危废").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("转移电子联单"), "{html}");
    let (status, html) = app.get_html("/classroom?tag=转移联单").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 1 门课程"), "{html}");

    let (status, openapi) = get_json(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(openapi["paths"]["/api/v1/courses"]["get"].is_object());
}

#[tokio::test]
async fn the_most_viewed_courses_come_first_when_asked() {
    let app = spawn_app().await;
    let (_admin, course, lesson) = course_with_video(&app).await;
    let page = format!("/classroom/lessons/{lesson}");
    // One visitor reloading counts once a day; two others count once each.
    let reloader = Visitor::new(&app);
    for _ in 0..3 {
        let (status, _) = reloader.get_html(&page).await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..2 {
        let (status, _) = Visitor::new(&app).get_html(&page).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, json) = get_json(&app, "/api/v1/courses?sort=views").await;
    assert_eq!(json["items"][0]["id"], course.to_string());
    assert_eq!(json["items"][0]["view_count"], 3);
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"][0]["view_count"], 3);
    assert_eq!(
        json["lessons"][0]["video_url"],
        format!("/classroom/lessons/{lesson}/video")
    );
    let (status, html) = app.get_html("/classroom?sort=views").await;
    assert_eq!(status, StatusCode::OK);
    let first_card = html.find("class=\"course-card\"").unwrap();
    assert!(html[first_card..].find("联单").unwrap() < 400);
}

#[tokio::test]
async fn staff_upload_a_lesson_and_visitors_play_it_with_ranges_and_captions() {
    let app = spawn_app().await;
    let (_admin, course, lesson) = course_with_video(&app).await;
    assert_eq!(
        audit_count(&app, "course.lesson.create", "success").await,
        1
    );

    let visitor = Visitor::new(&app);
    let (status, html) = visitor
        .get_html(&format!("/classroom/lessons/{lesson}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<video id=\"player\""), "{html}");
    // The file's id is in the address, so that a replaced file is not cached.
    let files = app.store.lesson(lesson).await.unwrap();
    let (video, captions) = (
        files.video_file_id.unwrap(),
        files.captions_file_id.unwrap(),
    );
    assert!(html.contains(&format!(
        "<source src=\"/classroom/lessons/{lesson}/video?v={video}\" type=\"video/webm\">"
    )));
    assert!(html.contains(&format!(
        "<track kind=\"captions\" src=\"/classroom/lessons/{lesson}/captions?v={captions}\""
    )));
    assert!(html.contains("第一步，登录固废管理信息系统。"));
    assert!(html.contains("在浏览器中打开课件（PDF"), "{html}");
    let (_, html) = visitor
        .get_html(&format!("/classroom/courses/{course}"))
        .await;
    assert!(html.contains("联单填报演示"));

    let path = format!("/classroom/lessons/{lesson}/video");
    let response = visitor.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE), "video/webm");
    assert_eq!(header(&response, ACCEPT_RANGES), "bytes");
    assert_eq!(header(&response, CACHE_CONTROL), "public, max-age=3600");
    let etag = header(&response, ETAG).to_string();
    assert_eq!(response.bytes().await.unwrap().as_ref(), VIDEO);

    let len = VIDEO.len();
    let ranged = |range: String| {
        visitor
            .client
            .get(visitor.url(&path))
            .header(RANGE, range)
            .send()
    };
    let response = ranged("bytes=100-1123".into()).await.unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&response, CONTENT_RANGE),
        format!("bytes 100-1123/{len}")
    );
    assert_eq!(header(&response, CONTENT_LENGTH), "1024");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &VIDEO[100..1124]);
    let response = ranged(format!("bytes={}-", len - 10)).await.unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(response.bytes().await.unwrap().as_ref(), &VIDEO[len - 10..]);
    let response = ranged(format!("bytes={len}-")).await.unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&response, CONTENT_RANGE), format!("bytes */{len}"));

    let response = visitor
        .client
        .get(visitor.url(&path))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    let response = visitor
        .get(&format!("/classroom/lessons/{lesson}/captions"))
        .await;
    assert_eq!(header(&response, CONTENT_TYPE), "text/vtt; charset=utf-8");
    assert_eq!(response.bytes().await.unwrap().as_ref(), CAPTIONS);
    let response = visitor
        .get(&format!("/classroom/lessons/{lesson}/courseware"))
        .await;
    assert_eq!(header(&response, CONTENT_TYPE), "application/pdf");
    assert!(header(&response, CONTENT_DISPOSITION).starts_with("inline;"));
    let response = visitor
        .get(&format!("/classroom/lessons/{lesson}/poster"))
        .await;
    assert_eq!(header(&response, CONTENT_TYPE), "image/jpeg");
    let response = visitor
        .get(&format!("/classroom/courses/{course}/poster"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    for missing in ["transcript", "other"] {
        let response = visitor
            .get(&format!("/classroom/lessons/{lesson}/{missing}"))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn office_courseware_is_downloaded_not_shown() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let admin = reviewer(&app, "course-reviewer@example.com", "320000").await;
    let course = course_id(&app, "course-0002").await;
    let lesson = upload_lesson_ok(
        &admin,
        course,
        &[("title", "三地标准对照表")],
        vec![("courseware", "对照表.pptx", pptx())],
    )
    .await;
    let (_, html) = app.get_html(&format!("/classroom/lessons/{lesson}")).await;
    assert!(html.contains("下载课件（PowerPoint（PPTX）"), "{html}");
    assert!(!html.contains("<video"));
    let response = app
        .get(&format!("/classroom/lessons/{lesson}/courseware"))
        .await;
    assert_eq!(
        header(&response, CONTENT_TYPE),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    );
    assert!(header(&response, CONTENT_DISPOSITION).starts_with("attachment;"));
}

#[tokio::test]
async fn a_file_posing_as_a_video_is_refused_with_a_clear_message_and_nothing_kept() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let admin = enrolled_admin(&app, "posing-admin@example.com")
        .await
        .visitor;
    let course = course_id(&app, "course-0001").await;
    let response = upload_lesson(
        &admin,
        course,
        &[("title", "假视频")],
        vec![
            ("poster", "封面.jpg", POSTER.to_vec()),
            (
                "video",
                "讲座.mp4",
                "这不是视频，只是一段文字。".as_bytes().to_vec(),
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("视频：文件内容不是允许的格式（MP4、WebM）：所传文件实际是 纯文本（TXT）"),
        "{html}"
    );
    assert_eq!(app.count_rows("files").await, 0);
    assert_eq!(app.count_rows("course_lessons").await, 0);
    assert_eq!(stored_files(&app), 0);
    assert_eq!(
        audit_count(&app, "course.lesson.upload", "failure").await,
        1
    );

    // A lesson needs a video or courseware; captions need a video.
    let response = upload_lesson(
        &admin,
        course,
        &[("title", "只有字幕")],
        vec![("captions", "a.vtt", CAPTIONS.to_vec())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stored_files(&app), 0);
}

#[tokio::test]
async fn an_upload_over_the_course_limit_answers_413_and_leaves_nothing() {
    let app = spawn_app_with(|c| c.course_upload_max_mb = 1).await;
    import_file(&app, &sample_path(), false).await;
    let admin = enrolled_admin(&app, "limit-admin@example.com")
        .await
        .visitor;
    let course = course_id(&app, "course-0001").await;
    let mut big = VIDEO.to_vec();
    // Over the limit by a little, so that the client is not still sending much when
    // the server answers.
    big.resize(1024 * 1024 + 64 * 1024, 0);
    let response = upload_lesson(
        &admin,
        course,
        &[("title", "超大视频")],
        vec![
            ("poster", "封面.jpg", POSTER.to_vec()),
            ("video", "big.webm", big),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("超过 1 MB 的上限"), "{html}");
    assert_eq!(app.count_rows("files").await, 0);
    assert_eq!(app.count_rows("course_lessons").await, 0);
    assert_eq!(stored_files(&app), 0, "nothing left in the file store");
    // Within the limit the same route takes it.
    upload_lesson_ok(
        &admin,
        course,
        &[("title", "小视频")],
        vec![("video", "small.webm", VIDEO.to_vec())],
    )
    .await;
}

#[tokio::test]
async fn a_lesson_file_missing_on_disk_answers_404() {
    let app = spawn_app().await;
    let (_admin, _course, lesson) = course_with_video(&app).await;
    let key: String = sqlx::query_scalar(
        "SELECT f.storage_key FROM files f JOIN course_lessons l ON l.video_file_id = f.id \
         WHERE l.id = $1",
    )
    .bind(lesson)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let mut path = app.data_dir.path().join("files");
    path.extend(key.split('/'));
    std::fs::remove_file(&path).unwrap();
    let response = app.get(&format!("/classroom/lessons/{lesson}/video")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The page itself still answers.
    let (status, _) = app.get_html(&format!("/classroom/lessons/{lesson}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn progress_is_kept_per_learner_and_playback_resumes_there() {
    let app = spawn_app().await;
    let (_admin, course, lesson) = course_with_video(&app).await;
    let learner_a = learner(&app, "learner-a@example.com").await;
    let learner_b = learner(&app, "learner-b@example.com").await;
    let progress = format!("/classroom/lessons/{lesson}/progress");

    let response = learner_a.post_form(&progress, &[("position", "5.7")]).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, html) = learner_a
        .get_html(&format!("/classroom/lessons/{lesson}"))
        .await;
    assert!(html.contains("data-resume=\"5\""), "{html}");
    let video = app
        .store
        .lesson(lesson)
        .await
        .unwrap()
        .video_file_id
        .unwrap();
    assert!(html.contains(&format!("/classroom/lessons/{lesson}/video?v={video}#t=5")));
    assert!(html.contains("上次学到 0:05"));
    let (_, html) = learner_b
        .get_html(&format!("/classroom/lessons/{lesson}"))
        .await;
    assert!(html.contains("data-resume=\"0\""));

    // Without the CSRF token, or without a login, nothing is kept.
    let response = learner_b
        .client
        .post(learner_b.url(&progress))
        .form(&[("position", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let anonymous = Visitor::new(&app);
    let response = anonymous.post_form(&progress, &[("position", "7")]).await;
    assert_ne!(response.status(), StatusCode::NO_CONTENT);
    let response = learner_b
        .post_form(&progress, &[("position", "soon")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count_rows("lesson_progress").await, 1);

    let (_, html) = learner_a.get_html("/classroom/mine").await;
    assert!(
        html.contains("学习中") && html.contains("危险废物转移电子联单"),
        "{html}"
    );
    assert!(html.contains("还没有学完的课程"));

    // 学完了 without JavaScript.
    let response = learner_a
        .post_form(&format!("/classroom/lessons/{lesson}/done"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = learner_a
        .get_html(&format!("/classroom/lessons/{lesson}?done=1"))
        .await;
    assert!(html.contains("本课时已学完"), "{html}");
    let (_, html) = learner_a.get_html("/classroom/mine").await;
    assert!(html.contains("id=\"finished\""), "{html}");
    assert!(html.contains("还没有学习中的课程"));
    let (_, html) = learner_a
        .get_html(&format!("/classroom/courses/{course}"))
        .await;
    assert!(html.contains("已学完 1 / 1 个课时"), "{html}");
    // A later position report keeps it done.
    learner_a.post_form(&progress, &[("position", "2")]).await;
    let done: i64 = sqlx::query_scalar("SELECT done FROM lesson_progress WHERE lesson_id = $1")
        .bind(lesson)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(done, 1);
}

#[tokio::test]
async fn only_admins_and_association_staff_may_publish_courses() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let course = course_id(&app, "course-0001").await;
    let enterprise = learner(&app, "enterprise@example.com").await;
    let (status, _) = enterprise.get_html("/classroom/manage").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = upload_lesson(
        &enterprise,
        course,
        &[("title", "偷偷上传")],
        vec![("video", "v.webm", VIDEO.to_vec())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = enterprise
        .post_form(
            "/classroom/manage",
            &[("title", "x"), ("category", "政策法规")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("files").await, 0);

    let visitor = Visitor::new(&app);
    let response = visitor.get("/classroom/manage").await;
    assert_ne!(response.status(), StatusCode::OK);

    let staff = reviewer(&app, "classroom-reviewer@example.com", "310000").await;
    let (status, html) = staff.get_html("/classroom/manage").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let response = staff
        .post_form(
            "/classroom/manage",
            &[
                ("title", "排污许可证执行报告填报（季度报告示范）"),
                ("category", "环评与排污许可"),
                ("level", "入门"),
                ("published_at", "2026-11-20"),
                ("tags", "排污许可，执行报告"),
                ("regulations", "排污许可管理条例"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "course.create", "success").await, 1);
    let response = staff
        .post_form(
            "/classroom/manage",
            &[
                ("title", "无日期"),
                ("category", "政策法规"),
                ("published_at", "2026-13-01"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.state.search.catch_up().await.unwrap();
    let (_, json) = get_json(&app, "/api/v1/courses?q=季度报告示范").await;
    assert_eq!(
        json["items"][0]["title"],
        "排污许可证执行报告填报（季度报告示范）"
    );
    assert!(json["items"][0]["source_id"].is_null());
    assert_eq!(json["items"][0]["regulations"][0], "排污许可管理条例");
}

#[tokio::test]
async fn the_sample_video_attaches_once_to_every_sample_course() {
    let app = spawn_app().await;
    greenbridge_ingest::import(
        &app.store,
        Dataset::Courses,
        &sample_path(),
        &ImportOptions {
            sample: true,
            now: app.state.clock.unix(),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    let now = app.state.clock.unix();
    let files = app.state.files.as_ref();
    let added = greenbridge_web::routes::classroom::attach_sample_lessons(&app.store, files, now)
        .await
        .unwrap();
    assert_eq!(added, 20);
    let again = greenbridge_web::routes::classroom::attach_sample_lessons(&app.store, files, now)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(app.count_rows("files").await, 3);
    let course = course_id(&app, "course-0001").await;
    let lesson: i64 = sqlx::query_scalar("SELECT id FROM course_lessons WHERE course_id = $1")
        .bind(course)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (status, html) = app.get_html(&format!("/classroom/lessons/{lesson}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("示例数据"));
    assert!(html.contains("欢迎来到绿桥"));
    let response = app.get(&format!("/classroom/lessons/{lesson}/video")).await;
    assert_eq!(response.bytes().await.unwrap().as_ref(), VIDEO);
}

#[tokio::test]
async fn a_course_links_the_regulations_it_treats_when_they_are_there() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let course = course_id(&app, "course-0001").await;
    // Before 标准政策 holds anything: a keyword search there for the title.
    let (_, html) = app.get_html(&format!("/classroom/courses/{course}")).await;
    assert!(
        html.contains(
            "href=\"/regulations?q=%E7%94%9F%E6%80%81%E7%8E%AF%E5%A2%83%E6%B3%95%E5%85%B8\""
        ),
        "{html}"
    );
    greenbridge_ingest::regulations::import_samples(&app.store, app.state.clock.unix())
        .await
        .expect("regulations");
    // 生态环境法典 is cited by its short name; the 名录 without its edition (the one in
    // force is linked).
    let (_, html) = app.get_html(&format!("/classroom/courses/{course}")).await;
    assert!(html.contains("《中华人民共和国生态环境法典》（"), "{html}");
    assert!(html.contains("href=\"/regulations/"), "{html}");
    let other = course_id(&app, "course-0003").await;
    let (_, html) = app.get_html(&format!("/classroom/courses/{other}")).await;
    assert!(html.contains("《国家危险废物名录（2025年版）》"), "{html}");
}

#[tokio::test]
async fn staff_reorder_and_delete_lessons_and_the_files_only_a_deleted_lesson_used_go_with_it() {
    let app = spawn_app().await;
    let (admin, course, first) = course_with_video(&app).await;
    let second = upload_lesson_ok(
        &admin,
        course,
        &[("title", "转移联单的退回与更正")],
        vec![("courseware", "更正.pdf", pdf())],
    )
    .await;
    let page = format!("/classroom/manage/courses/{course}");
    let order = |html: &str| {
        html.find(&format!("id=\"lesson-{first}\"")) < html.find(&format!("id=\"lesson-{second}\""))
    };
    let (_, html) = admin.get_html(&page).await;
    assert!(order(&html), "the first upload comes first");

    // Moving the second lesson up puts it first, for learners too.
    let response = admin
        .post_form(
            &format!("/classroom/manage/lessons/{second}/move"),
            &[("direction", "up")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.get_html(&format!("{page}?moved={second}")).await;
    assert!(!order(&html), "moved up");
    assert!(
        html.contains("已将课时“转移联单的退回与更正”移到第 1 位"),
        "{html}"
    );
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"][0]["id"], second.to_string());
    // A bad direction is refused with the field; others may not reorder.
    let response = admin
        .post_form(
            &format!("/classroom/manage/lessons/{second}/move"),
            &[("direction", "left")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let visitor = Visitor::new(&app);
    let refused = |response: reqwest::Response| {
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        assert!(
            location.starts_with("/login") || response.status().is_client_error(),
            "{} {location}",
            response.status()
        );
    };
    refused(
        visitor
            .post_form(
                &format!("/classroom/manage/lessons/{first}/move"),
                &[("direction", "up")],
            )
            .await,
    );
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"][0]["id"], second.to_string());
    assert_eq!(audit_count(&app, "course.lesson.move", "success").await, 1);

    // Deleting asks first; then the lesson, its progress and its own files go.
    let files_before = app.count_rows("files").await;
    let (status, html) = admin
        .get_html(&format!("/classroom/manage/lessons/{second}/delete"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("确定要删除"), "{html}");
    assert_eq!(app.count_rows("course_lessons").await, 2);
    refused(
        visitor
            .post_form(&format!("/classroom/manage/lessons/{second}/delete"), &[])
            .await,
    );
    assert_eq!(app.count_rows("course_lessons").await, 2);
    let response = admin
        .post_form(&format!("/classroom/manage/lessons/{second}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count_rows("course_lessons").await, 1);
    assert_eq!(app.count_rows("files").await, files_before - 1);
    assert_eq!(
        audit_count(&app, "course.lesson.delete", "success").await,
        1
    );
    assert_eq!(
        app.get(&format!("/classroom/lessons/{second}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"].as_array().unwrap().len(), 1);
    assert_eq!(json["lessons"][0]["id"], first.to_string());
    // The remaining lesson is first again and still plays.
    let (_, html) = admin.get_html(&page).await;
    assert!(
        html.contains(&format!("<tr id=\"lesson-{first}\"><td>1</td>")),
        "{html}"
    );
    assert_eq!(
        app.get(&format!("/classroom/lessons/{first}/video"))
            .await
            .status(),
        StatusCode::OK
    );
    let response = admin
        .post_form(&format!("/classroom/manage/lessons/{second}/delete"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_edit_a_lesson_s_texts_and_a_bad_duration_shows_the_form_again() {
    let app = spawn_app().await;
    let (admin, course, lesson) = course_with_video(&app).await;
    let edit = format!("/classroom/manage/lessons/{lesson}/edit");
    let (status, form) = admin.get_html(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"联单填报演示\""), "{form}");
    assert!(form.contains("value=\"0:08\""), "{form}");

    // A bad duration: 422, the message, and what was typed.
    let response = admin
        .post_form(
            &edit,
            &[
                ("title", "联单填报与退回"),
                ("duration", "八分钟"),
                ("transcript", "第二步，核对危废代码。"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("时长应写成"), "{html}");
    assert!(html.contains("value=\"联单填报与退回\""));
    assert!(html.contains("第二步，核对危废代码。"));

    let response = admin
        .post_form(
            &edit,
            &[
                ("title", "联单填报与退回"),
                ("duration", "12:30"),
                ("speaker", ""),
                ("description", "<script>alert(1)</script>简介"),
                ("transcript", "第二步，核对危废代码。"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "course.lesson.edit", "success").await, 1);
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"][0]["title"], "联单填报与退回");
    assert_eq!(json["lessons"][0]["duration_seconds"], 750);
    let (_, page) = app.get_html(&format!("/classroom/lessons/{lesson}")).await;
    assert!(page.contains("第二步，核对危废代码。"));
    assert!(!page.contains("<script>alert(1)</script>"), "escaped");
    // The files stay.
    assert_eq!(
        app.get(&format!("/classroom/lessons/{lesson}/video"))
            .await
            .status(),
        StatusCode::OK
    );
    // Others may not edit.
    let response = Visitor::new(&app)
        .post_form(&edit, &[("title", "改名"), ("duration", "")])
        .await;
    assert!(!response.status().is_success());
    let (_, json) = get_json(&app, &format!("/api/v1/courses/{course}")).await;
    assert_eq!(json["lessons"][0]["title"], "联单填报与退回");
}

/// An MP4 file as a camera writes it: `ftyp`, the media data, then `moov` with
/// the movie header (timescale 600, `seconds` long) at the end.
fn mp4_with_duration(seconds: u32) -> Vec<u8> {
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }
    let mut mvhd = vec![0u8; 12];
    mvhd.extend_from_slice(&600u32.to_be_bytes());
    mvhd.extend_from_slice(&(600 * seconds).to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 80]);
    [
        boxed(b"ftyp", b"isom\0\0\x02\0isomiso2mp41"),
        boxed(b"mdat", &[0u8; 4096]),
        boxed(b"moov", &boxed(b"mvhd", &mvhd)),
    ]
    .concat()
}

#[tokio::test]
async fn a_lesson_without_a_duration_takes_it_from_its_video() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let admin = enrolled_admin(&app, "duration-admin@example.com")
        .await
        .visitor;
    let course = course_id(&app, "course-0005").await;
    let webm = upload_lesson_ok(
        &admin,
        course,
        &[("title", "时长从视频读取")],
        vec![("video", "演示.webm", VIDEO.to_vec())],
    )
    .await;
    assert_eq!(app.store.lesson(webm).await.unwrap().duration_seconds, 8);
    let mp4 = upload_lesson_ok(
        &admin,
        course,
        &[("title", "MP4 时长"), ("duration", "")],
        vec![("video", "讲座.mp4", mp4_with_duration(754))],
    )
    .await;
    assert_eq!(app.store.lesson(mp4).await.unwrap().duration_seconds, 754);
    // A duration typed in wins.
    let typed = upload_lesson_ok(
        &admin,
        course,
        &[("title", "填写的时长"), ("duration", "1:00")],
        vec![("video", "讲座.mp4", mp4_with_duration(754))],
    )
    .await;
    assert_eq!(app.store.lesson(typed).await.unwrap().duration_seconds, 60);
}

#[tokio::test]
async fn staff_replace_a_lesson_s_files_and_the_replaced_ones_go() {
    let app = spawn_app().await;
    import_file(&app, &sample_path(), false).await;
    let admin = enrolled_admin(&app, "replace-admin@example.com")
        .await
        .visitor;
    let course = course_id(&app, "course-0005").await;
    let lesson = upload_lesson_ok(
        &admin,
        course,
        &[("title", "待更换视频的课时"), ("duration", "0:30")],
        vec![
            ("video", "旧.webm", VIDEO.to_vec()),
            ("courseware", "讲义.pdf", pdf()),
        ],
    )
    .await;
    let before = app.store.lesson(lesson).await.unwrap();
    let files_before = stored_files(&app);
    let path = format!("/classroom/manage/lessons/{lesson}/files");
    let (status, html) = admin
        .get_html(&format!("/classroom/manage/lessons/{lesson}/edit"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&path) && html.contains("更换文件"), "{html}");

    // Nothing chosen, or a file posing as a video: refused, nothing changes.
    let response = post_lesson_form(&admin, &path, &[], vec![]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post_lesson_form(
        &admin,
        &path,
        &[],
        vec![("video", "假的.mp4", b"not a video at all".to_vec())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("视频："), "{html}");
    assert_eq!(app.store.lesson(lesson).await.unwrap(), before);
    assert_eq!(stored_files(&app), files_before);

    // A new video: it takes the old one's place and its duration; the courseware stays.
    let response = post_lesson_form(
        &admin,
        &path,
        &[],
        vec![("video", "新.mp4", mp4_with_duration(754))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = app.store.lesson(lesson).await.unwrap();
    assert_ne!(after.video_file_id, before.video_file_id);
    assert_eq!(after.courseware_file_id, before.courseware_file_id);
    assert_eq!(after.duration_seconds, 754);
    assert_eq!(stored_files(&app), files_before, "the old video is removed");
    assert!(app.store.file(before.video_file_id.unwrap()).await.is_err());
    let response = admin
        .get(&format!("/classroom/lessons/{lesson}/video"))
        .await;
    assert_eq!(header(&response, CONTENT_TYPE), "video/mp4");
    let (_, html) = admin
        .get_html(&format!(
            "/classroom/manage/courses/{course}?replaced={lesson}"
        ))
        .await;
    assert!(
        html.contains("已更换课时“待更换视频的课时”的文件，时长 12:34"),
        "{html}"
    );
    assert_eq!(audit_count(&app, "course.lesson.files", "success").await, 1);
    assert_eq!(audit_count(&app, "course.lesson.files", "failure").await, 2);

    // Only the captions: the rest stays. A courseware another lesson also uses
    // stays on disk when this lesson's is replaced.
    let captions = b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xe5\xad\x97\xe5\xb9\x95\n".to_vec();
    let response = post_lesson_form(
        &admin,
        &path,
        &[],
        vec![("captions", "字幕.vtt", captions.clone())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let with_captions = app.store.lesson(lesson).await.unwrap();
    assert!(with_captions.captions_file_id.is_some());
    assert_eq!(with_captions.video_file_id, after.video_file_id);
    let shared = with_captions.courseware_file_id.unwrap();
    let other = upload_lesson_ok(
        &admin,
        course,
        &[("title", "共用讲义")],
        vec![("courseware", "讲义2.pdf", pdf())],
    )
    .await;
    sqlx::query("UPDATE course_lessons SET courseware_file_id = $1 WHERE id = $2")
        .bind(shared)
        .bind(other)
        .execute(app.store.pool())
        .await
        .unwrap();
    let response = post_lesson_form(
        &admin,
        &path,
        &[],
        vec![("courseware", "新讲义.pdf", pdf())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        app.store.file(shared).await.is_ok(),
        "still used by the other lesson"
    );
    let after = app.store.lesson(lesson).await.unwrap();
    assert_ne!(after.courseware_file_id, Some(shared));

    // Captions need a video: a lesson of courseware alone refuses them.
    let slides = upload_lesson_ok(
        &admin,
        course,
        &[("title", "只有课件")],
        vec![("courseware", "讲义.pdf", pdf())],
    )
    .await;
    let response = post_lesson_form(
        &admin,
        &format!("/classroom/manage/lessons/{slides}/files"),
        &[],
        vec![(
            "captions",
            "字幕.vtt",
            b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xe4\xbd\xa0\xe5\xa5\xbd\n".to_vec(),
        )],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Only staff replace files.
    let visitor = learner(&app, "replace-learner@example.com").await;
    let response = post_lesson_form(
        &visitor,
        &path,
        &[],
        vec![("video", "新.webm", VIDEO.to_vec())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.lesson(lesson).await.unwrap(), after);
}
