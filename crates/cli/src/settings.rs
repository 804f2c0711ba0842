//! The configuration of the `greenbridge` binary: one typed [`Settings`] struct.
//!
//! Each key is looked up in this order, the first that is set wins:
//!
//! 1. a command-line flag (`--registration-phase 2`);
//! 2. an environment variable (`GREENBRIDGE_REGISTRATION_PHASE=2`); clap reads both
//!    into the [`GlobalOverrides`] and [`ServerOverrides`] structs, a flag before its
//!    variable;
//! 3. a key in the TOML file named by `--config` / `GREENBRIDGE_CONFIG`
//!    ([`FileSettings`]; an unknown key is an error that names it);
//! 4. the default written beside the field.
//!
//! [`Settings::resolve`] does the merging and the validation. It is a pure function of
//! the parsed file and the override structs, so tests build those structs and never
//! touch the process environment.
//!
//! Example file: `greenbridge.example.toml` at the root of the repository.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use clap::builder::BoolishValueParser;
use greenbridge_domain::time::{format_date, parse_date};
use greenbridge_store::redact_url;
use greenbridge_web::config::{Config, Footer, PasswordCost, QaGenerate};
use serde::Deserialize;
use time::Date;

/// Default of `addr`.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Default of `data`.
pub const DEFAULT_DATA: &str = "./data";
/// File name of the SQLite database inside `data` when `database_url` is not set.
pub const DEFAULT_DATABASE_FILE: &str = "greenbridge.db";
/// Default of `registration_phase`.
pub const DEFAULT_REGISTRATION_PHASE: u8 = 1;
/// Default of `mail_from`.
pub const DEFAULT_MAIL_FROM: &str = "绿桥 <noreply@localhost>";
/// Default of `default_review_province` (上海).
pub const DEFAULT_REVIEW_PROVINCE: &str = greenbridge_web::config::DEFAULT_REVIEW_PROVINCE;
/// Default of `idle_timeout_minutes`.
pub const DEFAULT_IDLE_TIMEOUT_MINUTES: i64 = 30;

/// Everything the binary runs with, after merging flags, environment, file and defaults.
///
/// The doc comment of each field names its TOML key, flag and environment variable and
/// its default; the README's configuration table is made from these.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// `addr` · `--addr` · `GREENBRIDGE_ADDR` · default `127.0.0.1:8080`.
    /// The address `serve` listens on, `HOST:PORT` (port 0 picks a free port).
    pub addr: String,
    /// `data` · `--data` · `GREENBRIDGE_DATA` · default `./data`.
    /// Directory for the platform's state: the SQLite database file, uploads, search
    /// indexes. Created when missing. A relative path is relative to the working
    /// directory, also when it is given in the TOML file.
    pub data: PathBuf,
    /// `database_url` · `--database-url` · `GREENBRIDGE_DATABASE_URL` · default
    /// `sqlite://<data>/greenbridge.db?mode=rwc`.
    /// `sqlite://PATH?mode=rwc` or `postgres://USER:PASSWORD@HOST/DB`. The password is
    /// never printed: logs and errors show `postgres://USER:***@HOST/DB`.
    pub database_url: Option<String>,
    /// `today` · `--today` · `GREENBRIDGE_TODAY` · default: the real date.
    /// Pins "today" (Asia/Shanghai, `YYYY-MM-DD`) for every date rule: licence expiry,
    /// notice deadlines, audit retention. For demonstrations and tests.
    pub today: Option<Date>,
    /// `registration_phase` · `--registration-phase` · `GREENBRIDGE_REGISTRATION_PHASE`
    /// · default `1`.
    /// Regions open for demand-side self-registration: 1 = 两区一县, 2 = the three
    /// cities, 3 = 上海市, 江苏省, 浙江省.
    pub registration_phase: u8,
    /// `trusted_proxy` · `--trusted-proxy[=true|false]` · `GREENBRIDGE_TRUSTED_PROXY` ·
    /// default `false`.
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy in front. Turn
    /// on only behind a proxy that sets them, or clients can fake their address.
    pub trusted_proxy: bool,
    /// `idle_timeout_minutes` · `--idle-timeout-minutes` ·
    /// `GREENBRIDGE_IDLE_TIMEOUT_MINUTES` · default `30`.
    /// Minutes without a request after which a login session ends (at least 1).
    pub idle_timeout_minutes: i64,
    /// `metrics_token` · `--metrics-token` · `GREENBRIDGE_METRICS_TOKEN` · default: none.
    /// When set, `/metrics` answers only with `Authorization: Bearer <token>`. Prefer the
    /// variable or the file to the flag: flags show up in the process list.
    pub metrics_token: Option<String>,
    /// `public_url` · `--public-url` · `GREENBRIDGE_PUBLIC_URL` · default: none.
    /// The public address (e.g. `https://greenbridge.example.cn`), used in e-mailed
    /// links; when it is https, cookies are always marked Secure.
    pub public_url: Option<String>,
    /// `smtp_url` · `--smtp-url` · `GREENBRIDGE_SMTP_URL` · default: none (no e-mail).
    /// The mail server for password-reset links (and, later, notifications):
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS), `smtps://…:465`, or
    /// `smtp://HOST:25` without TLS on a trusted network. E-mailed links also need
    /// `public_url`. The password is never printed.
    pub smtp_url: Option<String>,
    /// `mail_from` · `--mail-from` · `GREENBRIDGE_MAIL_FROM` · default
    /// `绿桥 <noreply@localhost>`. The sender of the platform's e-mail.
    pub mail_from: String,
    /// `default_review_province` · `--default-review-province` ·
    /// `GREENBRIDGE_DEFAULT_REVIEW_PROVINCE` · default `310000`.
    /// The province whose association reviews registrations and claims from outside
    /// 上海市, 江苏省 and 浙江省: `310000`, `320000` or `330000`.
    pub default_review_province: String,
    /// `upload_max_mb` · `--upload-max-mb` · `GREENBRIDGE_UPLOAD_MAX_MB` · default `1024`.
    /// Largest file, in MiB, that admins may upload under 管理 → 文件管理 (training
    /// videos, import files). Other uploads keep their own limits (licence scans: 10 MB).
    /// Between 1 and 102400.
    pub upload_max_mb: u64,
    /// `course_upload_max_mb` · `--course-upload-max-mb` · `GREENBRIDGE_COURSE_UPLOAD_MAX_MB`
    /// · default `1024`. Largest lesson upload of 绿色课堂 (a lesson's video, captions,
    /// courseware and poster together), in MiB; more is refused with 413. Between 1
    /// and 102400.
    pub course_upload_max_mb: u64,
    /// `qa_generate_url` · `--qa-generate-url` · `GREENBRIDGE_QA_GENERATE_URL` · default:
    /// none (off). The base address of an OpenAI-compatible API (e.g.
    /// `https://api.example.cn/v1`; requests go to `…/chat/completions`) through which
    /// 智能问答 rephrases a confident answer into a short summary citing the retrieved
    /// entries. Off by default; any failure shows the plain answer.
    pub qa_generate_url: Option<String>,
    /// `qa_generate_model` · `--qa-generate-model` · `GREENBRIDGE_QA_GENERATE_MODEL` ·
    /// default: none. The model name sent to that API; required with `qa_generate_url`.
    pub qa_generate_model: Option<String>,
    /// No TOML key · `GREENBRIDGE_QA_GENERATE_API_KEY` (a hidden flag
    /// `--qa-generate-api-key` exists, but flags show up in the process list) · default:
    /// none. Sent as `Authorization: Bearer …`; never printed.
    pub qa_generate_api_key: Option<String>,
    /// `qa_generate_timeout_ms` · `--qa-generate-timeout-ms` ·
    /// `GREENBRIDGE_QA_GENERATE_TIMEOUT_MS` · default `5000`. The longest wait for a
    /// summary, in milliseconds (100 to 120000); after it the plain answer is shown.
    pub qa_generate_timeout_ms: u64,
    /// `outbound_ca_file` · `--outbound-ca-file` · `GREENBRIDGE_OUTBOUND_CA_FILE` ·
    /// default: none. A PEM file of root certificates that outbound HTTPS (notice
    /// connectors, regulation feeds, the summary endpoint) trusts besides the built-in
    /// public roots: for a site whose CA is not among them, or a TLS-inspecting proxy.
    pub outbound_roots: greenbridge_ingest::outbound::OutboundRoots,
    /// `[footer]`: what the footer of every page says about who runs the site.
    pub footer: FooterSettings,
}

/// The `[footer]` table of the TOML file.
#[derive(Clone, PartialEq, Eq)]
pub struct FooterSettings {
    /// `footer.operator` · `--footer-operator` · `GREENBRIDGE_FOOTER_OPERATOR` ·
    /// default: the three provincial environmental protection industry associations.
    /// Who operates the site (主办单位).
    pub operator: String,
    /// `footer.guidance` · `--footer-guidance` · `GREENBRIDGE_FOOTER_GUIDANCE` ·
    /// default: the three provincial ecology and environment departments.
    /// Under whose guidance (指导单位).
    pub guidance: String,
    /// `footer.icp_number` · `--footer-icp` · `GREENBRIDGE_FOOTER_ICP` · default: empty
    /// (not shown). The ICP filing number (ICP备案号), e.g. `沪ICP备00000000号-1`.
    pub icp_number: String,
    /// `footer.police_number` · `--footer-police` · `GREENBRIDGE_FOOTER_POLICE` ·
    /// default: empty (not shown). The public security filing number (公安备案号).
    pub police_number: String,
}

impl Default for FooterSettings {
    fn default() -> Self {
        let Footer {
            operator,
            guidance,
            icp_number,
            police_number,
        } = Footer::default();
        FooterSettings {
            operator,
            guidance,
            icp_number,
            police_number,
        }
    }
}

/// Secrets stay out of `Debug` output: the database password and the metrics token.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("data", &self.data)
            .field("database_url", &self.database_url_redacted())
            .field("today", &self.today.map(format_date))
            .field("registration_phase", &self.registration_phase)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("idle_timeout_minutes", &self.idle_timeout_minutes)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("default_review_province", &self.default_review_province)
            .field("upload_max_mb", &self.upload_max_mb)
            .field("course_upload_max_mb", &self.course_upload_max_mb)
            .field(
                "qa_generate_url",
                &self.qa_generate_url.as_deref().map(redact_url),
            )
            .field("qa_generate_model", &self.qa_generate_model)
            .field(
                "qa_generate_api_key",
                &self.qa_generate_api_key.as_ref().map(|_| "***"),
            )
            .field("qa_generate_timeout_ms", &self.qa_generate_timeout_ms)
            .field("outbound_ca_file", &self.outbound_roots.path())
            .field("footer", &self.footer)
            .finish()
    }
}

impl fmt::Debug for FooterSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FooterSettings")
            .field("operator", &self.operator)
            .field("guidance", &self.guidance)
            .field("icp_number", &self.icp_number)
            .field("police_number", &self.police_number)
            .finish()
    }
}

/// The TOML file as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub addr: Option<String>,
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    /// A string `"2026-11-28"` or a TOML date `2026-11-28`.
    pub today: Option<toml::Value>,
    pub registration_phase: Option<i64>,
    pub trusted_proxy: Option<bool>,
    pub idle_timeout_minutes: Option<i64>,
    pub metrics_token: Option<String>,
    pub public_url: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub default_review_province: Option<String>,
    pub upload_max_mb: Option<i64>,
    pub course_upload_max_mb: Option<i64>,
    pub qa_generate_url: Option<String>,
    pub qa_generate_model: Option<String>,
    pub qa_generate_timeout_ms: Option<i64>,
    pub outbound_ca_file: Option<PathBuf>,
    #[serde(default)]
    pub footer: FileFooter,
}

/// The `[footer]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileFooter {
    pub operator: Option<String>,
    pub guidance: Option<String>,
    pub icp_number: Option<String>,
    pub police_number: Option<String>,
}

impl FileSettings {
    /// Parses the text of a TOML file; `origin` (its path) goes into error messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<FileSettings, SettingsError> {
        toml::from_str(text).map_err(|error| {
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            SettingsError::File {
                path: origin.to_path_buf(),
                line,
                message: error.message().trim().to_owned(),
            }
        })
    }

    /// Reads and parses the TOML file at `path`.
    pub fn read(path: &Path) -> Result<FileSettings, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::File {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read it: {error}"),
        })?;
        FileSettings::from_toml(&text, path)
    }
}

/// Options every subcommand takes (flag, else environment variable).
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOverrides {
    /// Directory for the platform's state [default: ./data]
    #[arg(long, global = true, env = "GREENBRIDGE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL, sqlite://PATH?mode=rwc or postgres://USER:PASSWORD@HOST/DB
    /// [default: sqlite://<DATA>/greenbridge.db?mode=rwc]
    #[arg(
        long,
        global = true,
        env = "GREENBRIDGE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// TOML file with settings; flags and environment variables override it
    #[arg(long, global = true, env = "GREENBRIDGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Pin today's date (Asia/Shanghai) for every date rule
    #[arg(
        long,
        global = true,
        env = "GREENBRIDGE_TODAY",
        value_name = "YYYY-MM-DD"
    )]
    pub today: Option<String>,
}

/// Options of `serve` only (flag, else environment variable).
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Server settings")]
pub struct ServerOverrides {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "GREENBRIDGE_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Regions open for demand-side registration: 1, 2 or 3 [default: 1]
    #[arg(long, env = "GREENBRIDGE_REGISTRATION_PHASE", value_name = "1|2|3")]
    pub registration_phase: Option<i64>,
    /// Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy [default: false]
    #[arg(
        long,
        env = "GREENBRIDGE_TRUSTED_PROXY",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new()
    )]
    pub trusted_proxy: Option<bool>,
    /// Minutes without a request after which a session ends [default: 30]
    #[arg(long, env = "GREENBRIDGE_IDLE_TIMEOUT_MINUTES", value_name = "MINUTES")]
    pub idle_timeout_minutes: Option<i64>,
    /// Require `Authorization: Bearer TOKEN` on /metrics (prefer the variable)
    #[arg(
        long,
        env = "GREENBRIDGE_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Public address of the site, e.g. https://greenbridge.example.cn
    #[arg(long, env = "GREENBRIDGE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Mail server for e-mailed links, e.g. smtp://user:pass@host:587?tls=required
    #[arg(
        long,
        env = "GREENBRIDGE_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of the platform's e-mail [default: 绿桥 <noreply@localhost>]
    #[arg(long, env = "GREENBRIDGE_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Province whose association reviews out-of-zone items: 310000, 320000 or 330000
    /// [default: 310000]
    #[arg(long, env = "GREENBRIDGE_DEFAULT_REVIEW_PROVINCE", value_name = "CODE")]
    pub default_review_province: Option<String>,
    /// Largest file admins may upload under 文件管理, in MiB [default: 1024]
    #[arg(long, env = "GREENBRIDGE_UPLOAD_MAX_MB", value_name = "MIB")]
    pub upload_max_mb: Option<i64>,
    /// Largest lesson upload of 绿色课堂 (all its files together), in MiB [default: 1024]
    #[arg(long, env = "GREENBRIDGE_COURSE_UPLOAD_MAX_MB", value_name = "MIB")]
    pub course_upload_max_mb: Option<i64>,
    /// 智能问答 summaries: base address of an OpenAI-compatible API, e.g.
    /// https://api.example.cn/v1 [default: none, off]
    #[arg(long, env = "GREENBRIDGE_QA_GENERATE_URL", value_name = "URL")]
    pub qa_generate_url: Option<String>,
    /// 智能问答 summaries: the model name (required with --qa-generate-url)
    #[arg(long, env = "GREENBRIDGE_QA_GENERATE_MODEL", value_name = "NAME")]
    pub qa_generate_model: Option<String>,
    /// 智能问答 summaries: API key; set GREENBRIDGE_QA_GENERATE_API_KEY instead of the flag
    #[arg(
        long,
        env = "GREENBRIDGE_QA_GENERATE_API_KEY",
        value_name = "KEY",
        hide = true,
        hide_env_values = true
    )]
    pub qa_generate_api_key: Option<String>,
    /// 智能问答 summaries: longest wait for a reply, in milliseconds [default: 5000]
    #[arg(long, env = "GREENBRIDGE_QA_GENERATE_TIMEOUT_MS", value_name = "MS")]
    pub qa_generate_timeout_ms: Option<i64>,
    /// PEM file of extra root certificates for outbound HTTPS (connectors, feeds,
    /// summaries) [default: none, the built-in public roots only]
    #[arg(long, env = "GREENBRIDGE_OUTBOUND_CA_FILE", value_name = "PEM")]
    pub outbound_ca_file: Option<PathBuf>,
    /// Footer: operator of the site (主办单位)
    #[arg(long, env = "GREENBRIDGE_FOOTER_OPERATOR", value_name = "TEXT")]
    pub footer_operator: Option<String>,
    /// Footer: guiding authority (指导单位)
    #[arg(long, env = "GREENBRIDGE_FOOTER_GUIDANCE", value_name = "TEXT")]
    pub footer_guidance: Option<String>,
    /// Footer: ICP filing number (ICP备案号)
    #[arg(long, env = "GREENBRIDGE_FOOTER_ICP", value_name = "TEXT")]
    pub footer_icp: Option<String>,
    /// Footer: public security filing number (公安备案号)
    #[arg(long, env = "GREENBRIDGE_FOOTER_POLICE", value_name = "TEXT")]
    pub footer_police: Option<String>,
}

/// A setting that cannot be used. The message names the key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    /// The TOML file cannot be read or parsed (an unknown key, a wrong type).
    File {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A value of the right type that is not allowed.
    Invalid {
        key: &'static str,
        source: Source,
        message: String,
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::File {
                path,
                line: Some(line),
                message,
            } => {
                write!(f, "config file {}, line {line}: {message}", path.display())
            }
            SettingsError::File {
                path,
                line: None,
                message,
            } => {
                write!(f, "config file {}: {message}", path.display())
            }
            SettingsError::Invalid {
                key,
                source,
                message,
            } => {
                write!(f, "setting `{key}` ({source}): {message}")
            }
        }
    }
}

impl std::error::Error for SettingsError {}

/// Which layer a value came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A flag or its environment variable (clap has merged the two).
    FlagOrEnv {
        flag: &'static str,
        env: &'static str,
    },
    File,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::FlagOrEnv { flag, env } => write!(f, "from {flag} or {env}"),
            Source::File => f.write_str("from the config file"),
        }
    }
}

/// The first of the flag/env value and the file value that is set, with its source.
fn pick<T>(
    overridden: Option<T>,
    flag: &'static str,
    env: &'static str,
    file: Option<T>,
) -> Option<(T, Source)> {
    overridden
        .map(|value| (value, Source::FlagOrEnv { flag, env }))
        .or_else(|| file.map(|value| (value, Source::File)))
}

fn invalid(key: &'static str, source: Source, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        source,
        message: message.into(),
    }
}

/// Empty strings mean "not set" for optional text keys.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Merges the layers (flag/env over file over defaults) and validates the result.
    pub fn resolve(
        file: FileSettings,
        global: &GlobalOverrides,
        server: &ServerOverrides,
    ) -> Result<Settings, SettingsError> {
        let addr = pick(server.addr.clone(), "--addr", "GREENBRIDGE_ADDR", file.addr)
            .map(|(addr, _)| addr)
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned());

        let data = pick(global.data.clone(), "--data", "GREENBRIDGE_DATA", file.data);
        let data = match data {
            Some((path, source)) if path.as_os_str().is_empty() => {
                return Err(invalid("data", source, "must not be empty"));
            }
            Some((path, _)) => path,
            None => PathBuf::from(DEFAULT_DATA),
        };

        let database_url = match pick(
            global.database_url.clone(),
            "--database-url",
            "GREENBRIDGE_DATABASE_URL",
            non_empty(file.database_url),
        ) {
            Some((url, source)) => {
                if greenbridge_store::Backend::from_url(&url).is_err() {
                    return Err(invalid(
                        "database_url",
                        source,
                        format!(
                            "{} is not a database URL: it must start with sqlite: or postgres://",
                            redact_url(&url)
                        ),
                    ));
                }
                Some(url)
            }
            None => None,
        };

        let file_today = match file.today {
            None => None,
            Some(toml::Value::String(text)) => Some(text),
            // `today = 2026-11-28` without quotes is a TOML date.
            Some(toml::Value::Datetime(datetime)) => Some(datetime.to_string()),
            Some(other) => {
                return Err(invalid(
                    "today",
                    Source::File,
                    format!("expected a date YYYY-MM-DD, found a {}", other.type_str()),
                ));
            }
        };
        let today = match pick(
            global.today.clone(),
            "--today",
            "GREENBRIDGE_TODAY",
            file_today,
        ) {
            Some((text, _)) if text.trim().is_empty() => None,
            Some((text, source)) => Some(parse_date(&text).map_err(|e| {
                invalid(
                    "today",
                    source,
                    format!("{text:?}: {e} (expected YYYY-MM-DD, e.g. 2026-11-28)"),
                )
            })?),
            None => None,
        };

        let registration_phase = match pick(
            server.registration_phase,
            "--registration-phase",
            "GREENBRIDGE_REGISTRATION_PHASE",
            file.registration_phase,
        ) {
            Some((phase @ 1..=3, _)) => phase as u8,
            Some((phase, source)) => {
                return Err(invalid(
                    "registration_phase",
                    source,
                    format!("must be 1, 2 or 3, not {phase}"),
                ));
            }
            None => DEFAULT_REGISTRATION_PHASE,
        };

        let trusted_proxy = pick(
            server.trusted_proxy,
            "--trusted-proxy",
            "GREENBRIDGE_TRUSTED_PROXY",
            file.trusted_proxy,
        )
        .map(|(value, _)| value)
        .unwrap_or(false);

        let idle_timeout_minutes = match pick(
            server.idle_timeout_minutes,
            "--idle-timeout-minutes",
            "GREENBRIDGE_IDLE_TIMEOUT_MINUTES",
            file.idle_timeout_minutes,
        ) {
            Some((minutes @ 1..=525_600, _)) => minutes,
            Some((minutes, source)) => {
                return Err(invalid(
                    "idle_timeout_minutes",
                    source,
                    format!("must be between 1 and 525600 (one year), not {minutes}"),
                ));
            }
            None => DEFAULT_IDLE_TIMEOUT_MINUTES,
        };

        let metrics_token = pick(
            non_empty(server.metrics_token.clone()),
            "--metrics-token",
            "GREENBRIDGE_METRICS_TOKEN",
            non_empty(file.metrics_token),
        )
        .map(|(token, _)| token);

        let public_url = match pick(
            non_empty(server.public_url.clone()),
            "--public-url",
            "GREENBRIDGE_PUBLIC_URL",
            non_empty(file.public_url),
        ) {
            Some((url, source)) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid(
                        "public_url",
                        source,
                        format!("{url:?} must start with https:// or http://"),
                    ));
                }
                Some(url)
            }
            None => None,
        };

        let smtp_url = match pick(
            non_empty(server.smtp_url.clone()),
            "--smtp-url",
            "GREENBRIDGE_SMTP_URL",
            non_empty(file.smtp_url),
        ) {
            Some((url, source)) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(invalid(
                        "smtp_url",
                        source,
                        format!("{} must start with smtp:// or smtps://", redact_url(&url)),
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let mail_from = pick(
            non_empty(server.mail_from.clone()),
            "--mail-from",
            "GREENBRIDGE_MAIL_FROM",
            non_empty(file.mail_from),
        )
        .map(|(from, _)| from)
        .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());

        let default_review_province = match pick(
            non_empty(server.default_review_province.clone()),
            "--default-review-province",
            "GREENBRIDGE_DEFAULT_REVIEW_PROVINCE",
            non_empty(file.default_review_province),
        ) {
            Some((code, source)) => {
                let code = code.trim().to_owned();
                if !greenbridge_web::config::REVIEW_PROVINCES.contains(&code.as_str()) {
                    return Err(invalid(
                        "default_review_province",
                        source,
                        format!(
                            "must be 310000 (上海), 320000 (江苏) or 330000 (浙江), not {code:?}"
                        ),
                    ));
                }
                code
            }
            None => DEFAULT_REVIEW_PROVINCE.to_owned(),
        };

        let upload_max_mb = match pick(
            server.upload_max_mb,
            "--upload-max-mb",
            "GREENBRIDGE_UPLOAD_MAX_MB",
            file.upload_max_mb,
        ) {
            Some((mb @ 1..=102_400, _)) => mb as u64,
            Some((mb, source)) => {
                return Err(invalid(
                    "upload_max_mb",
                    source,
                    format!("must be between 1 and 102400 (100 GiB), not {mb}"),
                ));
            }
            None => greenbridge_web::config::DEFAULT_UPLOAD_MAX_MB,
        };

        let course_upload_max_mb = match pick(
            server.course_upload_max_mb,
            "--course-upload-max-mb",
            "GREENBRIDGE_COURSE_UPLOAD_MAX_MB",
            file.course_upload_max_mb,
        ) {
            Some((mb @ 1..=102_400, _)) => mb as u64,
            Some((mb, source)) => {
                return Err(invalid(
                    "course_upload_max_mb",
                    source,
                    format!("must be between 1 and 102400 (100 GiB), not {mb}"),
                ));
            }
            None => greenbridge_web::config::DEFAULT_COURSE_UPLOAD_MAX_MB,
        };

        let qa_generate_url = match pick(
            non_empty(server.qa_generate_url.clone()),
            "--qa-generate-url",
            "GREENBRIDGE_QA_GENERATE_URL",
            non_empty(file.qa_generate_url),
        ) {
            Some((url, source)) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(invalid(
                        "qa_generate_url",
                        source,
                        format!("{} must start with https:// or http://", redact_url(&url)),
                    ));
                }
                Some((url, source))
            }
            None => None,
        };
        let qa_generate_model = pick(
            non_empty(server.qa_generate_model.clone()),
            "--qa-generate-model",
            "GREENBRIDGE_QA_GENERATE_MODEL",
            non_empty(file.qa_generate_model),
        )
        .map(|(model, _)| model.trim().to_owned());
        if let Some((_, source)) = &qa_generate_url
            && qa_generate_model.is_none()
        {
            return Err(invalid(
                "qa_generate_model",
                *source,
                "must be set when qa_generate_url is (a model name)",
            ));
        }
        let qa_generate_url = qa_generate_url.map(|(url, _)| url);
        let qa_generate_api_key = non_empty(server.qa_generate_api_key.clone());
        let qa_generate_timeout_ms = match pick(
            server.qa_generate_timeout_ms,
            "--qa-generate-timeout-ms",
            "GREENBRIDGE_QA_GENERATE_TIMEOUT_MS",
            file.qa_generate_timeout_ms,
        ) {
            Some((ms @ 100..=120_000, _)) => ms as u64,
            Some((ms, source)) => {
                return Err(invalid(
                    "qa_generate_timeout_ms",
                    source,
                    format!("must be between 100 and 120000 (two minutes), not {ms}"),
                ));
            }
            None => greenbridge_web::config::DEFAULT_QA_GENERATE_TIMEOUT_MS,
        };

        let outbound_roots = match pick(
            server.outbound_ca_file.clone(),
            "--outbound-ca-file",
            "GREENBRIDGE_OUTBOUND_CA_FILE",
            file.outbound_ca_file,
        ) {
            Some((path, source)) => {
                greenbridge_ingest::outbound::OutboundRoots::from_pem_file(&path)
                    .map_err(|message| invalid("outbound_ca_file", source, message))?
            }
            None => Default::default(),
        };

        let defaults = FooterSettings::default();
        let text =
            |overridden: &Option<String>, flag, env, from_file: Option<String>, default: String| {
                pick(overridden.clone(), flag, env, from_file)
                    .map(|(v, _)| v)
                    .unwrap_or(default)
            };
        let footer = FooterSettings {
            operator: text(
                &server.footer_operator,
                "--footer-operator",
                "GREENBRIDGE_FOOTER_OPERATOR",
                file.footer.operator,
                defaults.operator,
            ),
            guidance: text(
                &server.footer_guidance,
                "--footer-guidance",
                "GREENBRIDGE_FOOTER_GUIDANCE",
                file.footer.guidance,
                defaults.guidance,
            ),
            icp_number: text(
                &server.footer_icp,
                "--footer-icp",
                "GREENBRIDGE_FOOTER_ICP",
                file.footer.icp_number,
                defaults.icp_number,
            ),
            police_number: text(
                &server.footer_police,
                "--footer-police",
                "GREENBRIDGE_FOOTER_POLICE",
                file.footer.police_number,
                defaults.police_number,
            ),
        };

        Ok(Settings {
            addr,
            data,
            database_url,
            today,
            registration_phase,
            trusted_proxy,
            idle_timeout_minutes,
            metrics_token,
            public_url,
            smtp_url,
            mail_from,
            default_review_province,
            upload_max_mb,
            course_upload_max_mb,
            qa_generate_url,
            qa_generate_model,
            qa_generate_api_key,
            qa_generate_timeout_ms,
            outbound_roots,
            footer,
        })
    }

    /// True when no database URL was given, so the SQLite file in `data` is used.
    pub fn uses_default_database(&self) -> bool {
        self.database_url.is_none()
    }

    /// The database URL: the one given, or `sqlite://<data>/greenbridge.db?mode=rwc`.
    /// Contains the password: pass it through [`redact_url`] before showing it.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => default_database_url(&self.data),
        }
    }

    /// The database URL fit for logs and error messages.
    pub fn database_url_redacted(&self) -> String {
        redact_url(&self.database_url())
    }

    /// The web layer's configuration.
    pub fn web_config(&self) -> Config {
        let mut config = Config::new(self.data.clone());
        config.today = self.today;
        config.registration_phase = self.registration_phase;
        config.trusted_proxy = self.trusted_proxy;
        config.idle_timeout_minutes = self.idle_timeout_minutes;
        config.metrics_token = self.metrics_token.clone();
        config.password_cost = PasswordCost::PRODUCTION;
        config.public_url = self.public_url.clone();
        config.smtp_url = self.smtp_url.clone();
        config.mail_from = self.mail_from.clone();
        config.default_review_province = self.default_review_province.clone();
        config.upload_max_mb = self.upload_max_mb;
        config.course_upload_max_mb = self.course_upload_max_mb;
        config.qa_generate = match (&self.qa_generate_url, &self.qa_generate_model) {
            (Some(url), Some(model)) => Some(QaGenerate {
                url: url.clone(),
                model: model.clone(),
                api_key: self.qa_generate_api_key.clone(),
                timeout_ms: self.qa_generate_timeout_ms,
            }),
            _ => None,
        };
        config.outbound_roots = self.outbound_roots.clone();
        config.footer = Footer {
            operator: self.footer.operator.clone(),
            guidance: self.footer.guidance.clone(),
            icp_number: self.footer.icp_number.clone(),
            police_number: self.footer.police_number.clone(),
        };
        config
    }
}

/// `sqlite://<data>/greenbridge.db?mode=rwc`. `%`, `?` and `#` in the path are
/// percent-encoded, since sqlx decodes the path and splits the query at `?`.
pub fn default_database_url(data: &Path) -> String {
    let path = data.join(DEFAULT_DATABASE_FILE);
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    format!("sqlite://{encoded}?mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn file(text: &str) -> FileSettings {
        FileSettings::from_toml(text, Path::new("test.toml")).expect("valid TOML")
    }

    fn resolve(file: FileSettings, global: GlobalOverrides, server: ServerOverrides) -> Settings {
        Settings::resolve(file, &global, &server).expect("valid settings")
    }

    fn resolve_err(file: FileSettings, global: GlobalOverrides, server: ServerOverrides) -> String {
        Settings::resolve(file, &global, &server)
            .expect_err("invalid settings")
            .to_string()
    }

    #[test]
    fn nothing_given_yields_the_defaults() {
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.addr, "127.0.0.1:8080");
        assert_eq!(settings.data, PathBuf::from("./data"));
        assert_eq!(
            settings.database_url(),
            "sqlite://./data/greenbridge.db?mode=rwc"
        );
        assert!(settings.uses_default_database());
        assert_eq!(settings.today, None);
        assert_eq!(settings.registration_phase, 1);
        assert!(!settings.trusted_proxy);
        assert_eq!(settings.idle_timeout_minutes, 30);
        assert_eq!(settings.metrics_token, None);
        assert_eq!(settings.public_url, None);
        assert_eq!(settings.footer, FooterSettings::default());
        assert!(settings.footer.operator.contains("上海市环境保护产业协会"));
    }

    #[test]
    fn the_file_overrides_the_defaults() {
        let settings = resolve(
            file(
                r#"
                addr = "0.0.0.0:9000"
                data = "/srv/greenbridge"
                today = "2026-11-28"
                registration_phase = 2
                trusted_proxy = true
                idle_timeout_minutes = 15
                metrics_token = "abc"
                public_url = "https://greenbridge.example.cn/"

                [footer]
                icp_number = "沪ICP备00000000号-1"
                "#,
            ),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.addr, "0.0.0.0:9000");
        assert_eq!(settings.data, PathBuf::from("/srv/greenbridge"));
        assert_eq!(
            settings.database_url(),
            "sqlite:///srv/greenbridge/greenbridge.db?mode=rwc"
        );
        assert_eq!(settings.today, Some(date!(2026 - 11 - 28)));
        assert_eq!(settings.registration_phase, 2);
        assert!(settings.trusted_proxy);
        assert_eq!(settings.idle_timeout_minutes, 15);
        assert_eq!(settings.metrics_token.as_deref(), Some("abc"));
        assert_eq!(
            settings.public_url.as_deref(),
            Some("https://greenbridge.example.cn")
        );
        assert_eq!(settings.footer.icp_number, "沪ICP备00000000号-1");
        assert_eq!(
            settings.footer.guidance,
            FooterSettings::default().guidance,
            "unset keys keep defaults"
        );
    }

    #[test]
    fn flags_and_environment_override_the_file() {
        let settings = resolve(
            file(
                r#"
                addr = "0.0.0.0:9000"
                data = "/srv/greenbridge"
                database_url = "sqlite:///srv/other.db"
                today = "2026-11-28"
                registration_phase = 2
                trusted_proxy = true
                [footer]
                police_number = "沪公网安备 1号"
                "#,
            ),
            GlobalOverrides {
                data: Some("/tmp/gb".into()),
                database_url: Some("postgres://u:pw@db/greenbridge".into()),
                config: None,
                today: Some("2027-01-02".into()),
            },
            ServerOverrides {
                addr: Some("127.0.0.1:0".into()),
                registration_phase: Some(3),
                trusted_proxy: Some(false),
                footer_police: Some("沪公网安备 2号".into()),
                ..ServerOverrides::default()
            },
        );
        assert_eq!(settings.addr, "127.0.0.1:0");
        assert_eq!(settings.data, PathBuf::from("/tmp/gb"));
        assert_eq!(settings.database_url(), "postgres://u:pw@db/greenbridge");
        assert_eq!(settings.today, Some(date!(2027 - 01 - 02)));
        assert_eq!(settings.registration_phase, 3);
        assert!(
            !settings.trusted_proxy,
            "an explicit false beats the file's true"
        );
        assert_eq!(settings.footer.police_number, "沪公网安备 2号");
    }

    #[test]
    fn the_default_database_follows_the_data_directory_from_any_layer() {
        let settings = resolve(
            file(r#"data = "/from/file""#),
            GlobalOverrides {
                data: Some("/from/flag".into()),
                ..GlobalOverrides::default()
            },
            ServerOverrides::default(),
        );
        assert_eq!(
            settings.database_url(),
            "sqlite:///from/flag/greenbridge.db?mode=rwc"
        );
    }

    #[test]
    fn special_characters_in_the_data_path_are_encoded_in_the_database_url() {
        assert_eq!(
            default_database_url(Path::new("/srv/a?b#c%d")),
            "sqlite:///srv/a%3Fb%23c%25d/greenbridge.db?mode=rwc"
        );
    }

    #[test]
    fn a_toml_date_without_quotes_is_accepted_for_today() {
        let settings = resolve(
            file("today = 2026-11-28"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.today, Some(date!(2026 - 11 - 28)));
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let error = FileSettings::from_toml("addr = \"x\"\nlisten = \"y\"\n", Path::new("gb.toml"))
            .expect_err("unknown key")
            .to_string();
        assert!(error.contains("`listen`"), "{error}");
        assert!(error.contains("gb.toml, line 2"), "{error}");
    }

    #[test]
    fn an_unknown_footer_key_is_refused_by_name() {
        let error = FileSettings::from_toml("[footer]\nicp = \"x\"\n", Path::new("gb.toml"))
            .expect_err("unknown key")
            .to_string();
        assert!(error.contains("`icp`"), "{error}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        let error = FileSettings::from_toml("registration_phase = \"two\"\n", Path::new("gb.toml"))
            .expect_err("wrong type")
            .to_string();
        assert!(error.contains("gb.toml, line 1"), "{error}");
    }

    #[test]
    fn the_admin_upload_limit_defaults_to_a_gibibyte_and_must_be_positive() {
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.upload_max_mb, 1024);
        let settings = resolve(
            file("upload_max_mb = 600"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.web_config().upload_max_mb, 600);
        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides {
                upload_max_mb: Some(0),
                ..ServerOverrides::default()
            },
        );
        assert!(error.contains("GREENBRIDGE_UPLOAD_MAX_MB"), "{error}");
    }

    #[test]
    fn the_course_upload_limit_is_its_own_setting() {
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.course_upload_max_mb, 1024);
        let settings = resolve(
            file("course_upload_max_mb = 300"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.web_config().course_upload_max_mb, 300);
        assert_eq!(settings.web_config().upload_max_mb, 1024);
        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides {
                course_upload_max_mb: Some(0),
                ..ServerOverrides::default()
            },
        );
        assert!(
            error.contains("GREENBRIDGE_COURSE_UPLOAD_MAX_MB"),
            "{error}"
        );
    }

    #[test]
    fn the_qa_summaries_are_off_by_default_and_need_a_model_with_their_url() {
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(settings.web_config().qa_generate.is_none());

        let settings = resolve(
            file(
                "qa_generate_url = \"http://127.0.0.1:9/v1/\"\nqa_generate_model = \"m\"\nqa_generate_timeout_ms = 800",
            ),
            GlobalOverrides::default(),
            ServerOverrides {
                qa_generate_api_key: Some("sk-secret".into()),
                ..ServerOverrides::default()
            },
        );
        let generate = settings.web_config().qa_generate.expect("on");
        assert_eq!(generate.url, "http://127.0.0.1:9/v1");
        assert_eq!(generate.model, "m");
        assert_eq!(generate.timeout_ms, 800);
        assert_eq!(generate.api_key.as_deref(), Some("sk-secret"));
        assert!(!format!("{settings:?}").contains("sk-secret"));

        let error = resolve_err(
            file("qa_generate_url = \"http://127.0.0.1:9/v1\""),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("qa_generate_model"), "{error}");
        let error = resolve_err(
            file("qa_generate_url = \"127.0.0.1:9\"\nqa_generate_model = \"m\""),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("qa_generate_url"), "{error}");
        let error = resolve_err(
            file("qa_generate_timeout_ms = 5"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("qa_generate_timeout_ms"), "{error}");
        // The key is read from the environment (or the hidden flag), never the file.
        assert!(
            FileSettings::from_toml("qa_generate_api_key = \"k\"", Path::new("gb.toml")).is_err()
        );
    }

    #[test]
    fn outbound_ca_file_is_read_at_start_and_refused_when_it_holds_no_certificate() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/tests/fixtures/tls");
        let settings = resolve(
            file(&format!(
                "outbound_ca_file = {:?}",
                fixtures.join("ca.pem").display().to_string()
            )),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(
            settings.web_config().outbound_roots.path(),
            Some(fixtures.join("ca.pem").as_path())
        );
        assert!(format!("{settings:?}").contains("ca.pem"));
        for (path, why) in [
            (fixtures.join("missing.pem"), "cannot read"),
            (fixtures.join("server.key"), "no certificate"),
        ] {
            let error = resolve_err(
                FileSettings::default(),
                GlobalOverrides::default(),
                ServerOverrides {
                    outbound_ca_file: Some(path),
                    ..ServerOverrides::default()
                },
            );
            assert!(
                error.contains("outbound_ca_file") && error.contains(why),
                "{error}"
            );
        }
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(settings.web_config().outbound_roots.path().is_none());
    }

    #[test]
    fn the_default_review_province_is_shanghai_and_must_be_one_of_the_three() {
        let settings = resolve(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.default_review_province, "310000");
        assert_eq!(settings.web_config().default_review_province, "310000");

        let settings = resolve(
            file("default_review_province = \"330000\""),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert_eq!(settings.default_review_province, "330000");

        let error = resolve_err(
            file("default_review_province = \"110000\""),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("default_review_province"), "{error}");
        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides {
                default_review_province: Some("上海".into()),
                ..ServerOverrides::default()
            },
        );
        assert!(
            error.contains("GREENBRIDGE_DEFAULT_REVIEW_PROVINCE"),
            "{error}"
        );
    }

    #[test]
    fn a_registration_phase_outside_one_to_three_is_refused_naming_the_key() {
        let error = resolve_err(
            file("registration_phase = 4"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("registration_phase"), "{error}");
        assert!(error.contains("from the config file"), "{error}");

        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides {
                registration_phase: Some(0),
                ..ServerOverrides::default()
            },
        );
        assert!(error.contains("registration_phase"), "{error}");
        assert!(error.contains("GREENBRIDGE_REGISTRATION_PHASE"), "{error}");
    }

    #[test]
    fn a_malformed_today_is_refused_naming_the_key() {
        for text in ["2026/11/28", "2026-02-30", "tomorrow"] {
            let error = resolve_err(
                FileSettings::default(),
                GlobalOverrides {
                    today: Some(text.into()),
                    ..GlobalOverrides::default()
                },
                ServerOverrides::default(),
            );
            assert!(error.contains("`today`"), "{error}");
            assert!(error.contains("YYYY-MM-DD"), "{error}");
        }
        let error = resolve_err(
            file("today = 20261128"),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("`today`"), "{error}");
    }

    #[test]
    fn a_database_url_of_an_unknown_kind_is_refused_without_its_password() {
        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides {
                database_url: Some("mysql://root:hunter2@db/x".into()),
                ..GlobalOverrides::default()
            },
            ServerOverrides::default(),
        );
        assert!(error.contains("database_url"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn a_public_url_must_be_http_or_https() {
        let error = resolve_err(
            file(r#"public_url = "greenbridge.example.cn""#),
            GlobalOverrides::default(),
            ServerOverrides::default(),
        );
        assert!(error.contains("public_url"), "{error}");
    }

    #[test]
    fn a_zero_idle_timeout_is_refused() {
        let error = resolve_err(
            FileSettings::default(),
            GlobalOverrides::default(),
            ServerOverrides {
                idle_timeout_minutes: Some(0),
                ..ServerOverrides::default()
            },
        );
        assert!(error.contains("idle_timeout_minutes"), "{error}");
    }

    #[test]
    fn debug_output_hides_the_database_password_and_the_metrics_token() {
        let settings = resolve(
            file(r#"metrics_token = "t0ken-value""#),
            GlobalOverrides {
                database_url: Some("postgres://u:hunter2@db/x".into()),
                ..GlobalOverrides::default()
            },
            ServerOverrides::default(),
        );
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("t0ken-value"), "{debug}");
        assert!(debug.contains("postgres://u:***@db/x"), "{debug}");
    }

    #[test]
    fn the_web_config_carries_every_setting() {
        let settings = resolve(
            file(
                "registration_phase = 3\ntrusted_proxy = true\ntoday = \"2026-11-28\"\n[footer]\noperator = \"某协会\"",
            ),
            GlobalOverrides::default(),
            ServerOverrides {
                metrics_token: Some("m".into()),
                ..ServerOverrides::default()
            },
        );
        let config = settings.web_config();
        assert_eq!(config.registration_phase, 3);
        assert!(config.trusted_proxy);
        assert_eq!(config.today, Some(date!(2026 - 11 - 28)));
        assert_eq!(config.metrics_token.as_deref(), Some("m"));
        assert_eq!(config.footer.operator, "某协会");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }
}
