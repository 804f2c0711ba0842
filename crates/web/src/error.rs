//! `AppError`: the one error type of the web layer, turned into a response here.
//!
//! Client-caused variants become 4xx pages (or the JSON envelope under `/api/`) with a
//! message in zh-CN; everything else is logged once with its cause and answered with a
//! bare 500 page that shows no internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use greenbridge_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not there, or not the caller's to see: both answer 404 so that nothing leaks.
    #[error("not found")]
    NotFound,
    /// Logged in, but without the right for this.
    #[error("forbidden")]
    Forbidden,
    #[error("login required")]
    LoginRequired,
    #[error("bad request: {message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("csrf token missing or invalid")]
    Csrf,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(field: &str, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::LoginRequired => "login_required",
            AppError::BadRequest { .. } => "bad_request",
            AppError::Csrf => "csrf",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooManyRequests => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            AppError::BadRequest { message, .. } => message.clone(),
            other => crate::errors::message_for(other.status()).to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(error).context("template rendering failed"))
    }
}

/// Carried on an error response so that the error-page layer knows whether the body
/// is for JSON callers; never sent to the client as such.
#[derive(Clone)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        if matches!(self, AppError::LoginRequired) {
            // Pages send the visitor to the login form; the API answers 401 (see the
            // error-page layer, which sees the path).
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.extensions_mut().insert(ErrorDetail {
                code: self.code(),
                message: "请先登录".into(),
                field: None,
            });
            return response;
        }
        let field = match &self {
            AppError::BadRequest { field, .. } => field.clone(),
            _ => None,
        };
        let mut response = self.status().into_response();
        response.extensions_mut().insert(ErrorDetail {
            code: self.code(),
            message: self.message(),
            field,
        });
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
