//! File storage: uploads checked by content and size (the admins' 文件管理 and the
//! claim licence), downloads with type, name and byte ranges, and nothing left behind
//! by a refused upload.

use crate::flows::{
    Registration, Upload, Visitor, audit_count, enrolled_admin, location, register, register_ok,
    reviewer,
};
use crate::support::{TestApp, credit_code, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use sha2::{Digest, Sha256};

/// A 2×2 PNG, complete with valid CRCs.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xd0, 0xeb, 0x0e, 0x07,
    0x22, 0x06, 0x08, 0x05, 0x00, 0x1d, 0x2a, 0x04, 0x41, 0xc2, 0xf1, 0x6b, 0x29, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A small but complete PDF (one page saying "GreenBridge"), with a correct xref table.
fn real_pdf() -> Vec<u8> {
    let stream = "BT /F1 18 Tf 20 40 Td (GreenBridge) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
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

fn upload(file_name: &'static str, mime: &'static str, bytes: Vec<u8>) -> Upload {
    Upload {
        file_name,
        mime,
        bytes,
    }
}

/// Uploads through 文件管理 and returns the new file's id (from the redirect).
async fn admin_upload_ok(admin: &Visitor, file: Upload) -> i64 {
    let name = file.file_name;
    let response = admin
        .post_multipart("/admin/files", &[], Some(("file", file)))
        .await;
    let status = response.status();
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "upload of {name} failed: {}",
        response.text().await.unwrap_or_default()
    );
    let target = target.expect("a redirect");
    target
        .strip_prefix("/admin/files?done=")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {target}"))
}

async fn get_with_range(visitor: &Visitor, path: &str, range: &str) -> reqwest::Response {
    visitor
        .client
        .get(visitor.url(path))
        .header(RANGE, range)
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn a_real_pdf_and_png_upload_and_download_byte_identical_with_type_and_name() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "files-admin@example.com").await;
    let pdf = real_pdf();
    let pdf_id = admin_upload_ok(
        &admin.visitor,
        upload("培训通知 2026.pdf", "application/pdf", pdf.clone()),
    )
    .await;
    let png_id = admin_upload_ok(
        &admin.visitor,
        upload("logo.png", "image/png", PNG.to_vec()),
    )
    .await;

    let (status, html) = admin
        .visitor
        .get_html(&format!("/admin/files?done={pdf_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已上传“培训通知 2026.pdf”"), "{html}");
    assert!(
        html.contains(&format!(r#"href="/admin/files/{png_id}""#)),
        "{html}"
    );

    let response = admin.visitor.get(&format!("/admin/files/{pdf_id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE), "application/pdf");
    assert_eq!(header(&response, CONTENT_LENGTH), pdf.len().to_string());
    assert_eq!(header(&response, ACCEPT_RANGES), "bytes");
    assert_eq!(
        header(&response, CONTENT_DISPOSITION),
        "inline; filename=\"____ 2026.pdf\"; filename*=UTF-8''%E5%9F%B9%E8%AE%AD%E9%80%9A%E7%9F%A5%202026.pdf"
    );
    assert_eq!(
        header(&response, "x-content-type-options".parse().unwrap()),
        "nosniff"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), pdf.as_slice());

    let response = admin.visitor.get(&format!("/admin/files/{png_id}")).await;
    assert_eq!(header(&response, CONTENT_TYPE), "image/png");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

    let (kind, size, sha256, name): (String, i64, String, String) =
        sqlx::query_as("SELECT kind, size, sha256, original_name FROM files WHERE id = $1")
            .bind(pdf_id)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(kind, "pdf");
    assert_eq!(size, pdf.len() as i64);
    assert_eq!(
        sha256,
        data_encoding::HEXLOWER.encode(&Sha256::digest(&pdf))
    );
    assert_eq!(name, "培训通知 2026.pdf");
    assert_eq!(stored_files(&app), 2);
    assert_eq!(audit_count(&app, "file.upload", "success").await, 2);
}

#[tokio::test]
async fn range_requests_answer_206_with_content_range_and_416_past_the_end() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "range-admin@example.com").await;
    let content: Vec<u8> = (0..1000u32).map(|i| b'0' + (i % 10) as u8).collect();
    let id = admin_upload_ok(
        &admin.visitor,
        upload("台账.csv", "text/csv", content.clone()),
    )
    .await;
    let path = format!("/admin/files/{id}");
    let visitor = &admin.visitor;

    let response = get_with_range(visitor, &path, "bytes=0-9").await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, CONTENT_RANGE), "bytes 0-9/1000");
    assert_eq!(header(&response, CONTENT_LENGTH), "10");
    assert_eq!(header(&response, CONTENT_TYPE), "text/csv; charset=utf-8");
    assert!(header(&response, CONTENT_DISPOSITION).starts_with("attachment;"));
    assert_eq!(response.bytes().await.unwrap().as_ref(), &content[0..10]);

    let response = get_with_range(visitor, &path, "bytes=-7").await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, CONTENT_RANGE), "bytes 993-999/1000");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &content[993..]);

    let response = get_with_range(visitor, &path, "bytes=995-").await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, CONTENT_RANGE), "bytes 995-999/1000");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &content[995..]);

    let response = get_with_range(visitor, &path, "bytes=500-5000").await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, CONTENT_RANGE), "bytes 500-999/1000");
    assert_eq!(response.bytes().await.unwrap().len(), 500);

    for unsatisfiable in ["bytes=1000-", "bytes=2000-3000", "bytes=-0"] {
        let response = get_with_range(visitor, &path, unsatisfiable).await;
        assert_eq!(
            response.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{unsatisfiable}"
        );
        assert_eq!(header(&response, CONTENT_RANGE), "bytes */1000");
    }

    // Several ranges, or a malformed one, get the whole file.
    for whole in ["bytes=0-1,5-6", "bytes=9-2", "lines=1-2"] {
        let response = get_with_range(visitor, &path, whole).await;
        assert_eq!(response.status(), StatusCode::OK, "{whole}");
        assert_eq!(response.bytes().await.unwrap().as_ref(), content.as_slice());
    }
}

#[tokio::test]
async fn a_file_whose_content_does_not_match_is_refused_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let admin = enrolled_admin(&app, "kind-admin@example.com").await;
    // An executable dressed up as a picture.
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 70_000));
    let response = admin
        .visitor
        .post_multipart(
            "/admin/files",
            &[],
            Some(("file", upload("photo.png", "image/png", elf))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"id="file-error">文件内容不是允许的格式"#)
            && html.contains("无法识别所传文件的格式"),
        "{html}"
    );
    assert_eq!(stored_files(&app), 0, "the refused file was kept");
    assert_eq!(app.count_rows("files").await, 0);
    assert_eq!(audit_count(&app, "file.upload", "failure").await, 1);

    // The licence route accepts PDF and pictures only: a real Word document is refused,
    // named for what it is.
    let original = Registration::wujiang(
        &credit_code("91320509MA1FL0001"),
        "吴江文件类型有限公司",
        "kind-first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;
    let mut second = original.clone();
    second.login = "kind-second@example.com".into();
    let mut docx = Vec::new();
    for name in ["[Content_Types].xml", "word/document.xml"] {
        // Local file header: signature, 22 bytes of version, flags, sizes …, name length.
        docx.extend_from_slice(b"PK\x03\x04");
        docx.extend_from_slice(&[0u8; 22]);
        docx.extend_from_slice(&(name.len() as u16).to_le_bytes());
        docx.extend_from_slice(&[0, 0]);
        docx.extend_from_slice(name.as_bytes());
    }
    let response = register(
        &Visitor::new(&app),
        "demand",
        &second,
        Some(upload("营业执照.pdf", "application/pdf", docx)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("文件内容不是允许的格式（PDF、JPG、PNG）：所传文件实际是 Word（DOCX）"),
        "{html}"
    );
    assert_eq!(stored_files(&app), 0);
    assert_eq!(app.count_rows("files").await, 0);
    assert_eq!(app.count_rows("claims").await, 0);
}

#[tokio::test]
async fn an_oversized_upload_is_refused_naming_the_limit_and_leaves_nothing_behind() {
    let app = spawn_app_with(|config| config.upload_max_mb = 1).await;
    let admin = enrolled_admin(&app, "size-admin@example.com").await;
    let mut big = real_pdf();
    big.resize(1024 * 1024 + 1, b' ');
    let response = admin
        .visitor
        .post_multipart(
            "/admin/files",
            &[],
            Some(("file", upload("大文件.pdf", "application/pdf", big))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = response.text().await.unwrap();
    assert!(html.contains("文件超过 1 MB 的上限"), "{html}");
    assert_eq!(stored_files(&app), 0, "the refused file was kept");
    assert_eq!(app.count_rows("files").await, 0);

    // Exactly at the limit is fine.
    let mut fits = real_pdf();
    fits.resize(1024 * 1024, b' ');
    admin_upload_ok(&admin.visitor, upload("刚好.pdf", "application/pdf", fits)).await;
    assert_eq!(stored_files(&app), 1);

    // The licence scan has its own limit (10 MB), whatever the admins' setting.
    let original = Registration::wujiang(
        &credit_code("91320509MA1FL0002"),
        "吴江文件大小有限公司",
        "size-first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;
    let mut second = original.clone();
    second.login = "size-second@example.com".into();
    let mut scan = real_pdf();
    scan.resize(10 * 1024 * 1024 + 1, b' ');
    let response = register(
        &Visitor::new(&app),
        "demand",
        &second,
        Some(upload("营业执照.pdf", "application/pdf", scan)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("营业执照扫描件：文件超过 10 MB 的上限"),
        "{html}"
    );
    assert_eq!(stored_files(&app), 1);
    assert_eq!(app.count_rows("files").await, 1);
    assert_eq!(app.count_rows("claims").await, 0);
}

#[tokio::test]
async fn a_licence_is_served_to_its_province_with_ranges_and_answers_404_to_another() {
    let app = spawn_app().await;
    let original = Registration::wujiang(
        &credit_code("91320509MA1FL0003"),
        "吴江执照下载有限公司",
        "dl-first@example.com",
    );
    register_ok(&Visitor::new(&app), "demand", &original).await;
    let mut second = original.clone();
    second.login = "dl-claimant@example.com".into();
    let scan = Upload::pdf();
    let scan_bytes = scan.bytes.clone();
    let response = register(&Visitor::new(&app), "demand", &second, Some(scan)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account?done=claim");
    let (claim, claimant, owner): (i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT c.id, c.account_id, f.owner_account_id FROM claims c \
         JOIN files f ON f.storage_key = c.licence_path",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        owner,
        Some(claimant),
        "the licence does not belong to the claimant"
    );
    let path = format!("/review/claims/{claim}/licence");

    let shanghai = reviewer(&app, "dl-reviewer-sh@example.com", "310000").await;
    assert_eq!(shanghai.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get_with_range(&shanghai, &path, "bytes=0-9").await.status(),
        StatusCode::NOT_FOUND
    );

    let jiangsu = reviewer(&app, "dl-reviewer-js@example.com", "320000").await;
    let response = jiangsu.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE), "application/pdf");
    assert_eq!(
        header(&response, CONTENT_DISPOSITION),
        "inline; filename=\"____.pdf\"; filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
    );
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        scan_bytes.as_slice()
    );
    let response = get_with_range(&jiangsu, &path, "bytes=0-4").await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&response, CONTENT_RANGE),
        format!("bytes 0-4/{}", scan_bytes.len())
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"%PDF-");

    // The admins' file route serves only its own files, and only to admins.
    let file_id: i64 = sqlx::query_scalar("SELECT id FROM files")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(
        jiangsu
            .get(&format!("/admin/files/{file_id}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let admin = enrolled_admin(&app, "dl-admin@example.com").await;
    assert_eq!(
        admin
            .visitor
            .get(&format!("/admin/files/{file_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin.visitor.get(&path).await.status(), StatusCode::OK);
}

/// Stores `key` straight in the app's file store, written `age` ago.
async fn store_file(app: &TestApp, key: &str, age: std::time::Duration) {
    let key = greenbridge_store::blob::StorageKey::parse(key).expect("a key");
    let body: greenbridge_store::blob::ByteStream<'static> = Box::pin(futures_util::stream::iter(
        vec![Ok(bytes::Bytes::from_static(b"%PDF-1.4 left over"))],
    ));
    app.state.files.put(&key, body).await.expect("stored");
    let mut path = app.data_dir.path().join("files");
    path.extend(key.as_str().split('/'));
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("the stored file");
    file.set_modified(std::time::SystemTime::now() - age)
        .expect("set its time");
}

#[tokio::test]
async fn the_sweep_deletes_old_files_no_row_records_and_nothing_else() {
    use greenbridge_web::jobs::{self, platform};
    let app = spawn_app().await;
    let day = std::time::Duration::from_secs(86_400);
    // Recorded and old; unrecorded and old (a crash after storing); unrecorded and
    // fresh (an upload being recorded right now).
    store_file(&app, "sweep-test/recorded", 2 * day).await;
    store_file(&app, "sweep-test/orphan", 2 * day).await;
    store_file(&app, "sweep-test/fresh", std::time::Duration::from_secs(60)).await;
    app.store
        .insert_file(
            &greenbridge_store::NewFile {
                storage_key: "sweep-test/recorded",
                kind: greenbridge_domain::file_kind::FileKind::Pdf,
                size: 18,
                sha256: "0",
                original_name: "kept.pdf",
                owner_account_id: None,
            },
            app.state.clock.unix(),
        )
        .await
        .expect("the row");
    app.store
        .enqueue_job(&greenbridge_store::NewJob::new(
            platform::FILES_SWEEP,
            serde_json::json!({}),
            app.state.clock.unix(),
        ))
        .await
        .expect("enqueue");
    assert!(jobs::drain(&app.state, &platform::registry()).await >= 1);
    let exists = |name: &str| {
        app.data_dir
            .path()
            .join("files")
            .join("sweep-test")
            .join(name)
            .exists()
    };
    assert!(exists("recorded"));
    assert!(!exists("orphan"));
    assert!(exists("fresh"));
}
