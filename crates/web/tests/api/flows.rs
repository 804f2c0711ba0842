//! Helpers for the account, review and admin flows: several visitors on one
//! application (each with its own cookie jar), registration with a licence upload,
//! logins, staff accounts made directly in the store, and TOTP codes on the server's
//! (pinned) clock.

#![allow(dead_code)] // not every test module uses every helper

use crate::support::{TODAY, TestApp, attribute, new_client, try_csrf_from, unescape_html};
use greenbridge_domain::role::Role;
use greenbridge_store::{Clock, NewAccount};
use greenbridge_web::config::PasswordCost;
use reqwest::StatusCode;
use reqwest::cookie::CookieStore as _;
use std::sync::Arc;

/// A password that passes the platform's rules for every login used here.
pub const PASSWORD: &str = "Lvqiao#2026-test";
/// Another one, for password changes and resets.
pub const NEW_PASSWORD: &str = "Qiaoliang$2027-new";

/// A browser of its own: cookie jar, session, CSRF token.
pub struct Visitor {
    pub address: String,
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

/// A file for a multipart field.
pub struct Upload {
    pub file_name: &'static str,
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// A (tiny) PDF, recognised by its `%PDF-` signature.
    pub fn pdf() -> Upload {
        Upload {
            file_name: "营业执照.pdf",
            mime: "application/pdf",
            bytes: b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec(),
        }
    }

    /// Plain text dressed up as a PDF by its name and type.
    pub fn text_posing_as_pdf() -> Upload {
        Upload {
            file_name: "营业执照.pdf",
            mime: "application/pdf",
            bytes: "这不是扫描件，只是一段文字。\n".as_bytes().to_vec(),
        }
    }
}

impl Visitor {
    /// A new visitor with an empty cookie jar.
    pub fn new(app: &TestApp) -> Visitor {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Visitor {
            address: app.address.clone(),
            client: new_client(jar.clone()),
            jar,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("response body"))
    }

    /// The value of cookie `name` in this visitor's jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.address.parse().expect("address is a URL");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }

    /// A CSRF token for this visitor's current session, from the display-settings
    /// page (every visitor can open it; its token is the one every form carries).
    pub async fn csrf(&self) -> String {
        let (status, html) = self.get_html("/display").await;
        assert_eq!(status, StatusCode::OK, "GET /display: {html}");
        try_csrf_from(&html).expect("no _csrf field on /display")
    }

    /// POSTs an urlencoded form with a valid CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// POSTs a multipart form the way `register.html` does: the token in the query,
    /// the text fields first, the file last.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(String, String)],
        file: Option<(&str, Upload)>,
    ) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        if let Some((name, upload)) = file {
            let part = reqwest::multipart::Part::bytes(upload.bytes)
                .file_name(upload.file_name)
                .mime_str(upload.mime)
                .expect("a valid MIME type");
            form = form.part(name.to_string(), part);
        }
        let url = format!(
            "{}?_csrf={}",
            self.url(path),
            form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        );
        self.client
            .post(url)
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Logs in with the password form.
    pub async fn login(&self, login: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            &[
                ("login", login),
                ("password", password),
                ("next", "/account"),
            ],
        )
        .await
    }

    /// Logs in and checks that it worked (a non-admin account).
    pub async fn login_ok(&self, login: &str, password: &str) {
        let response = self.login(login, password).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "login of {login} failed: {body}"
        );
        assert!(
            self.cookie("gb_session").is_some_and(|c| !c.is_empty()),
            "no session cookie after logging in {login}"
        );
    }

    pub async fn logout(&self) -> reqwest::Response {
        self.post_form("/logout", &[]).await
    }
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("no Location header; status {}", response.status()))
        .to_str()
        .expect("ASCII location")
        .to_string()
}

/// The text inside `<code id="{id}">…</code>`.
pub fn code_by_id(html: &str, id: &str) -> String {
    let open = format!(r#"<code id="{id}">"#);
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no <code id=\"{id}\"> in:\n{html}"))
        + open.len();
    let end = start + html[start..].find("</code>").expect("unterminated <code>");
    unescape_html(&html[start..end])
}

/// The path part of a link the platform hands out (it has no public URL in tests).
pub fn path_of(link: &str) -> String {
    match link.find("://") {
        Some(i) => link[i + 3..]
            .find('/')
            .map(|j| link[i + 3 + j..].to_string())
            .unwrap_or_else(|| "/".into()),
        None => link.to_string(),
    }
}

/// The value of the hidden input `name` in a page.
pub fn hidden_value(html: &str, name: &str) -> String {
    html.split('<')
        .filter(|tag| tag.starts_with("input"))
        .map(|tag| tag.split('>').next().unwrap_or(tag))
        .filter(|tag| attribute(tag, "name").as_deref() == Some(name))
        .find_map(|tag| attribute(tag, "value"))
        .unwrap_or_else(|| panic!("no input {name} in:\n{html}"))
}

/// What a registration form carries.
#[derive(Clone)]
pub struct Registration {
    pub credit_code: String,
    pub org_name: String,
    pub regions: Vec<String>,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub login: String,
    pub password: String,
}

impl Registration {
    /// An enterprise in 吴江区 (江苏), region down to 松陵街道.
    pub fn wujiang(credit_code: &str, org_name: &str, login: &str) -> Registration {
        Registration {
            credit_code: credit_code.to_string(),
            org_name: org_name.to_string(),
            regions: ["320000", "320500", "320509", "320509001"]
                .map(String::from)
                .to_vec(),
            address: "苏州市吴江区松陵街道流虹路88号".into(),
            contact_name: "王建国".into(),
            contact_phone: "0512-63001234".into(),
            login: login.to_string(),
            password: PASSWORD.to_string(),
        }
    }

    /// An enterprise in 青浦区 (上海), region down to 夏阳街道.
    pub fn qingpu(credit_code: &str, org_name: &str, login: &str) -> Registration {
        Registration {
            regions: ["310000", "310100", "310118", "310118001"]
                .map(String::from)
                .to_vec(),
            address: "上海市青浦区夏阳街道外青松公路100号".into(),
            ..Registration::wujiang(credit_code, org_name, login)
        }
    }

    pub fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("credit_code".to_string(), self.credit_code.clone()),
            ("org_name".to_string(), self.org_name.clone()),
        ];
        for (i, region) in self.regions.iter().enumerate() {
            fields.push((format!("region_{}", i + 1), region.clone()));
        }
        fields.extend([
            ("address".to_string(), self.address.clone()),
            ("contact_name".to_string(), self.contact_name.clone()),
            ("contact_phone".to_string(), self.contact_phone.clone()),
            ("login".to_string(), self.login.clone()),
            ("password".to_string(), self.password.clone()),
            ("password_confirm".to_string(), self.password.clone()),
            ("action".to_string(), "register".to_string()),
        ]);
        fields
    }
}

/// Submits the registration form of `side` ("demand" or "supplier").
pub async fn register(
    visitor: &Visitor,
    side: &str,
    registration: &Registration,
    licence: Option<Upload>,
) -> reqwest::Response {
    let (status, _) = visitor.get_html(&format!("/register/{side}")).await;
    assert_eq!(status, StatusCode::OK, "GET /register/{side}");
    visitor
        .post_multipart(
            &format!("/register/{side}"),
            &registration.fields(),
            licence.map(|l| ("licence", l)),
        )
        .await
}

/// Registers and checks that it worked; the visitor is then logged in.
pub async fn register_ok(visitor: &Visitor, side: &str, registration: &Registration) {
    let response = register(visitor, side, registration, None).await;
    let status = response.status();
    let loc = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let body = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "registration of {} failed: {body}",
        registration.login
    );
    assert_eq!(loc.as_deref(), Some("/account?done=registered"));
}

/// The server's "now": the real time of day on the pinned date.
pub fn server_now() -> i64 {
    Clock::pinned(TODAY).unix()
}

/// Creates an account directly in the store, with `password`.
pub async fn insert_account(
    app: &TestApp,
    login: &str,
    name: &str,
    role: Role,
    province: Option<&str>,
    password: &str,
) -> i64 {
    let hash =
        greenbridge_web::password::hash_password(password.to_string(), PasswordCost::TESTING)
            .await
            .expect("hash");
    app.store
        .insert_account(
            &NewAccount {
                login,
                display_name: name,
                role,
                organisation_id: None,
                province_code: province,
                password_hash: &hash,
            },
            server_now(),
        )
        .await
        .expect("insert_account")
}

/// A reviewer of `province` (e.g. "320000"), logged in on a visitor of its own.
pub async fn reviewer(app: &TestApp, login: &str, province: &str) -> Visitor {
    insert_account(
        app,
        login,
        "审核员",
        Role::Reviewer,
        Some(province),
        PASSWORD,
    )
    .await;
    let visitor = Visitor::new(app);
    visitor.login_ok(login, PASSWORD).await;
    visitor
}

/// The current TOTP code of a base32 secret on the server's clock, shifted by
/// `steps` 30-second steps.
pub fn totp_code(secret_b32: &str, steps: i64) -> String {
    let secret = greenbridge_domain::totp::decode_secret(secret_b32).expect("base32 secret");
    let at = (server_now() + steps * 30).max(0) as u64;
    format!("{:06}", greenbridge_domain::totp::totp_at(&secret, at, 6))
}

/// An admin logged in with password and second factor.
pub struct Admin {
    pub visitor: Visitor,
    pub id: i64,
    /// The TOTP secret (base32) the admin enrolled.
    pub secret: String,
    /// The code typed at enrolment (now spent).
    pub enrol_code: String,
}

/// An admin with a password, logged in and enrolled on a fresh visitor.
pub async fn enrolled_admin(app: &TestApp, login: &str) -> Admin {
    let id = insert_account(app, login, "平台管理员", Role::Admin, None, PASSWORD).await;
    let visitor = Visitor::new(app);
    let response = visitor.login(login, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/second-factor");
    let (secret, enrol_code) = enrol(&visitor).await;
    Admin {
        visitor,
        id,
        secret,
        enrol_code,
    }
}

/// Opens the enrolment page, types the current code; returns the secret and the code.
pub async fn enrol(visitor: &Visitor) -> (String, String) {
    let (status, html) = visitor.get_html("/account/second-factor").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let secret = hidden_value(&html, "secret");
    let code = totp_code(&secret, 0);
    let response = visitor
        .post_form(
            "/account/second-factor",
            &[("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(location(&response), "/account?done=second_factor");
    (secret, code)
}

/// Rows of audit_log with this action and outcome.
pub async fn audit_count(app: &TestApp, action: &str, outcome: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2",
    )
    .bind(action)
    .bind(outcome)
    .fetch_one(app.store.pool())
    .await
    .expect("count audit rows")
}

/// The id of the account with this login.
pub async fn account_id(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE login = $1")
        .bind(login)
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("no account {login}: {e}"))
}

/// The organisation an account belongs to, if any.
pub async fn organisation_of(app: &TestApp, login: &str) -> Option<i64> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT organisation_id FROM accounts WHERE login = $1")
        .bind(login)
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("no account {login}: {e}"))
}
