//! E-mailed password-reset links, received by a small SMTP listener of the test's own.

use crate::support::spawn_app_with;
use greenbridge_domain::role::Role;
use greenbridge_store::NewAccount;
use greenbridge_web::config::PasswordCost;
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Messages the SMTP sink received, each the raw DATA section.
pub(crate) type Inbox = Arc<Mutex<Vec<String>>>;

/// Accepts SMTP sessions on a free port and keeps every message. Speaks just enough
/// of RFC 5321 for a client without TLS or authentication.
pub(crate) async fn smtp_sink() -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
    let port = listener.local_addr().expect("address").port();
    (port, serve_smtp(listener))
}

/// The SMTP sink on a given port (a mail server that comes up where one was down).
pub(crate) async fn smtp_sink_at(port: u16) -> Inbox {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind smtp");
    serve_smtp(listener)
}

fn serve_smtp(listener: TcpListener) -> Inbox {
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut message = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                message.push_str(&line);
                                message.push('\n');
                            }
                            kept.lock().expect("inbox").push(message);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    inbox
}

/// The text of a single-part message, whatever transfer encoding the sender chose.
pub(crate) fn body_text(message: &str) -> String {
    let (headers, body) = message.split_once("\n\n").unwrap_or((message, ""));
    let headers = headers.to_ascii_lowercase();
    if headers.contains("content-transfer-encoding: base64") {
        let joined: String = body.lines().collect();
        String::from_utf8(
            data_encoding::BASE64
                .decode(joined.trim().as_bytes())
                .expect("base64 body"),
        )
        .expect("utf-8 body")
    } else if headers.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).expect("qp escape"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8 body")
    } else {
        body.to_string()
    }
}

#[tokio::test]
async fn a_reset_link_is_mailed_to_a_registered_address_and_sets_a_new_password() {
    let (port, inbox) = smtp_sink().await;
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://greenbridge.example.cn".into());
    })
    .await;
    let hash =
        greenbridge_web::password::hash_password("Old-passw0rd!".into(), PasswordCost::TESTING)
            .await
            .unwrap();
    let account = NewAccount {
        login: "wang.fang@example.cn",
        display_name: "王芳",
        role: Role::DemandEnterprise,
        organisation_id: None,
        province_code: None,
        password_hash: &hash,
    };
    app.store
        .insert_account(&account, 1_795_000_000)
        .await
        .unwrap();

    let response = app
        .post_form("/password/forgot", &[("email", "Wang.Fang@example.cn")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("我们已向它发送了重新设置密码的链接")
    );

    let messages = inbox.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "one message expected");
    assert!(
        messages[0]
            .to_ascii_lowercase()
            .contains("to: wang.fang@example.cn")
    );
    let text = body_text(&messages[0]);
    let start = text
        .find("https://greenbridge.example.cn/password/reset/")
        .expect("link in the mail");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let path = link.trim_start_matches("https://greenbridge.example.cn");

    let response = app
        .post_form(
            path,
            &[("new", "New-passw0rd!"), ("confirm", "New-passw0rd!")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = app
        .post_form(
            "/login",
            &[
                ("login", "wang.fang@example.cn"),
                ("password", "New-passw0rd!"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the new password logs in"
    );
    let (status, _) = app.get_html(path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a used link does not work twice"
    );
}

#[tokio::test]
async fn an_unregistered_address_gets_the_same_answer_and_no_mail() {
    let (port, inbox) = smtp_sink().await;
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://greenbridge.example.cn".into());
    })
    .await;
    let response = app
        .post_form("/password/forgot", &[("email", "nobody@example.cn")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("我们已向它发送了重新设置密码的链接")
    );
    assert!(inbox.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_mail_server_the_page_says_whom_to_ask() {
    let app = spawn_app_with(|_| {}).await;
    let (status, html) = app.get_html("/password/forgot").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("尚未配置邮件服务"));
    let response = app
        .post_form("/password/forgot", &[("email", "someone@example.cn")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
