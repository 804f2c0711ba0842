//! Sending e-mail over SMTP (lettre). Configured by `smtp_url`; links in mail need
//! `public_url` too, because a link built from the request's Host header could be
//! pointed elsewhere by whoever sends the request.

use anyhow::Context as _;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Base of links put in mail, without a trailing slash.
    pub public_url: String,
}

impl Mailer {
    /// The mailer, when both a mail server and the public address are configured.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Option<Mailer>> {
        let (Some(url), Some(public_url)) = (&config.smtp_url, &config.public_url) else {
            if config.smtp_url.is_some() {
                tracing::warn!("smtp_url is set but public_url is not: e-mailed links are off");
            }
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| {
                format!(
                    "smtp_url {} is not usable",
                    greenbridge_store::redact_url(url)
                )
            })?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from: Mailbox = config
            .mail_from
            .parse()
            .with_context(|| format!("mail_from {:?} is not an address", config.mail_from))?;
        Ok(Some(Mailer {
            transport,
            from,
            public_url: public_url.trim_end_matches('/').to_string(),
        }))
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        self.send_with_unsubscribe(to, subject, body, None).await
    }

    /// Sends a message; with `unsubscribe` (an absolute URL) it carries the
    /// `List-Unsubscribe` header and, for one-click unsubscription (RFC 8058),
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub async fn send_with_unsubscribe(
        &self,
        to: &str,
        subject: &str,
        body: String,
        unsubscribe: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to.parse().context("recipient address")?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        let message = builder.body(body).context("building the message")?;
        self.transport
            .send(message)
            .await
            .context("sending the message")?;
        Ok(())
    }
}

/// `List-Unsubscribe: <https://…/unsubscribe/TOKEN>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}
