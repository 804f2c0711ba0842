//! The settings the web layer runs with. The binary builds this from flags,
//! `GREENBRIDGE_…` environment variables, an optional TOML file and defaults (in that
//! order of precedence); tests build it directly.

use std::path::PathBuf;
use time::Date;

/// The provinces whose associations review: 上海, 江苏, 浙江.
pub const REVIEW_PROVINCES: [&str; 3] = ["310000", "320000", "330000"];
/// Default of [`Config::default_review_province`]: 上海.
pub const DEFAULT_REVIEW_PROVINCE: &str = "310000";

/// Default of [`Config::upload_max_mb`]: 1 GiB (training videos).
pub const DEFAULT_UPLOAD_MAX_MB: u64 = 1024;

/// Default of [`Config::course_upload_max_mb`]: 1 GiB per lesson upload.
pub const DEFAULT_COURSE_UPLOAD_MAX_MB: u64 = 1024;

#[derive(Clone)]
pub struct Config {
    /// Directory for the platform's state: database file, uploads, indexes.
    pub data_dir: PathBuf,
    /// Pins "today" (Asia/Shanghai) for every date rule; tests set it.
    pub today: Option<Date>,
    /// Regions open for demand-side self-registration: 1 = 两区一县, 2 = the three
    /// cities, 3 = 上海市, 江苏省, 浙江省.
    pub registration_phase: u8,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy in front.
    pub trusted_proxy: bool,
    /// Minutes without a request after which a login session ends.
    pub idle_timeout_minutes: i64,
    /// When set, `/metrics` answers only with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Argon2id cost; tests lower it, production keeps the default.
    pub password_cost: PasswordCost,
    /// The public address (e.g. `https://greenbridge.example.cn`), used in e-mailed
    /// links; when it is https, cookies are always marked Secure.
    pub public_url: Option<String>,
    /// The mail server (`smtp://…` or `smtps://…`); without it, and without
    /// `public_url` for the links, nothing is e-mailed.
    pub smtp_url: Option<String>,
    /// The `From:` of the platform's e-mail.
    pub mail_from: String,
    /// The province (`310000`, `320000` or `330000`) whose association reviews what
    /// lies outside the zone's three provinces (e.g. a supplier from elsewhere).
    pub default_review_province: String,
    /// Largest file the admins' generic upload (`/admin/files`) accepts, in MiB. Other
    /// upload routes have fixed limits of their own (a licence scan: 10 MB).
    pub upload_max_mb: u64,
    /// Largest lesson upload of 绿色课堂 (video, courseware, poster and captions of
    /// one lesson together), in MiB.
    pub course_upload_max_mb: u64,
    pub footer: Footer,
    /// How often (milliseconds) this instance applies new outbox rows to its search
    /// indexes: the most a change made through another instance takes to be found.
    pub search_interval_ms: u64,
    /// 智能问答's optional generative step (a short summary rephrased from the
    /// retrieved entries, citing them); `None`, the default, keeps it off.
    pub qa_generate: Option<QaGenerate>,
    /// Root certificates trusted by outbound HTTPS besides the built-in ones
    /// (`outbound_ca_file`): connectors, regulation feeds, the summary endpoint.
    pub outbound_roots: greenbridge_ingest::outbound::OutboundRoots,
}

/// Default of [`QaGenerate::timeout_ms`].
pub const DEFAULT_QA_GENERATE_TIMEOUT_MS: u64 = 5000;

/// An OpenAI-compatible chat-completions endpoint for 智能问答's summaries.
#[derive(Clone, PartialEq, Eq)]
pub struct QaGenerate {
    /// The API's base address, e.g. `https://api.example.cn/v1`; the request goes to
    /// `{url}/chat/completions`.
    pub url: String,
    /// The model name sent with each request.
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// The longest wait for a reply; after it the plain answer is shown.
    pub timeout_ms: u64,
}

/// The key stays out of logs.
impl std::fmt::Debug for QaGenerate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QaGenerate")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

#[derive(Clone, Copy, Debug)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl PasswordCost {
    /// OWASP's recommended Argon2id setting: 19 MiB, 2 iterations, 1 lane.
    pub const PRODUCTION: PasswordCost = PasswordCost {
        memory_kib: 19 * 1024,
        iterations: 2,
    };
    /// Fast hashing for test suites only.
    pub const TESTING: PasswordCost = PasswordCost {
        memory_kib: 256,
        iterations: 1,
    };
}

/// What the footer of every page says about who runs the site.
#[derive(Clone, Debug)]
pub struct Footer {
    pub operator: String,
    pub guidance: String,
    pub icp_number: String,
    pub police_number: String,
}

impl Default for Footer {
    fn default() -> Self {
        Footer {
            operator: "上海市环境保护产业协会、江苏省环境保护产业协会、浙江省环境保护产业协会"
                .into(),
            guidance: "上海市生态环境局、江苏省生态环境厅、浙江省生态环境厅".into(),
            icp_number: String::new(),
            police_number: String::new(),
        }
    }
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            today: None,
            registration_phase: 1,
            trusted_proxy: false,
            idle_timeout_minutes: 30,
            metrics_token: None,
            password_cost: PasswordCost::PRODUCTION,
            public_url: None,
            smtp_url: None,
            mail_from: "绿桥 <noreply@localhost>".into(),
            default_review_province: DEFAULT_REVIEW_PROVINCE.into(),
            upload_max_mb: DEFAULT_UPLOAD_MAX_MB,
            course_upload_max_mb: DEFAULT_COURSE_UPLOAD_MAX_MB,
            footer: Footer::default(),
            search_interval_ms: 1000,
            qa_generate: None,
            outbound_roots: Default::default(),
        }
    }
}
