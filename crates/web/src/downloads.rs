//! Answering a stored file: [`serve_file`] streams it from the file store with its
//! type, length and name, and honours single byte ranges so that videos can be
//! seeked and large downloads resumed.
//!
//! - `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` answer 206 with `Content-Range`;
//!   a range that starts past the end answers 416 with `Content-Range: bytes */LEN`.
//!   Several ranges in one request, another unit or a malformed header are ignored and
//!   the whole file is sent (RFC 9110 §14.2 allows both); so is an `If-Range` that
//!   does not match the file's ETag (its SHA-256).
//! - `Content-Disposition` is `inline` for what browsers show in place (PDF, pictures,
//!   video) and `attachment` for the rest, with an ASCII `filename` and the real name as
//!   RFC 5987 `filename*` (Chinese names survive).
//! - `X-Content-Type-Options: nosniff` comes from the global layer; files are private
//!   (`Cache-Control: private, no-store`). Authorisation is the caller's: look the
//!   file up only after checking that the viewer may see it, and answer 404 otherwise.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use greenbridge_domain::FileKind;
use greenbridge_store::FileRecord;
use greenbridge_store::blob::StorageKey;
use std::io;
use tokio_util::io::ReaderStream;

/// What a `Range` header asks of a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: the whole file, 200.
    Full,
    /// Bytes `first..=last`, 206.
    Partial { first: u64, last: u64 },
    /// Nothing of the file is in the range: 416.
    Unsatisfiable,
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Reads one `Range` header value against a file of `len` bytes.
pub fn parse_range(value: &str, len: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        (true, true) => RangeRequest::Full,
        // The last n bytes.
        (true, false) => match digits(last) {
            None => RangeRequest::Full,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial {
                first: len.saturating_sub(n),
                last: len - 1,
            },
        },
        // From a to the end.
        (false, true) => match digits(first) {
            None => RangeRequest::Full,
            Some(a) if a >= len => RangeRequest::Unsatisfiable,
            Some(a) => RangeRequest::Partial {
                first: a,
                last: len - 1,
            },
        },
        (false, false) => match (digits(first), digits(last)) {
            (Some(a), Some(b)) if a <= b => {
                if a >= len {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Partial {
                        first: a,
                        last: b.min(len - 1),
                    }
                }
            }
            // Malformed or last < first: an invalid range is ignored.
            _ => RangeRequest::Full,
        },
    }
}

/// Characters RFC 5987 lets through unencoded (`attr-char`).
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// `inline; filename="…"; filename*=UTF-8''…` (or `attachment`), for `name`.
pub fn content_disposition(kind: FileKind, name: &str) -> HeaderValue {
    let disposition = if kind.inline() {
        "inline"
    } else {
        "attachment"
    };
    let fallback: String = name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';')) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if is_attr_char(b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Answers `file` (already authorised) to a request with `request_headers`, under
/// `download_name` (else its original name).
pub async fn serve_file(
    state: &AppState,
    file: &FileRecord,
    request_headers: &HeaderMap,
    download_name: Option<&str>,
) -> AppResult<Response> {
    let key = StorageKey::parse(&file.storage_key).map_err(|_| {
        tracing::warn!(file = file.id, "stored file has an invalid key");
        AppError::NotFound
    })?;
    let len = file.size;
    let etag = format!("\"{}\"", file.sha256);
    let if_range_matches = request_headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag));
    let range = match request_headers.get(header::RANGE) {
        Some(value) if if_range_matches => value
            .to_str()
            .map_or(RangeRequest::Full, |v| parse_range(v, len)),
        _ => RangeRequest::Full,
    };
    if range == RangeRequest::Unsatisfiable {
        let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"),
        );
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        return Ok(response);
    }
    let read_range = match range {
        RangeRequest::Partial { first, last } => Some((first, Some(last))),
        _ => None,
    };
    let opened = state.files.open(&key, read_range).await.map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            tracing::warn!(file = file.id, key = %key, "a recorded file is missing from the store");
            AppError::NotFound
        } else {
            AppError::Internal(anyhow::Error::new(error).context("cannot open a stored file"))
        }
    })?;
    if opened.total_len != len {
        tracing::warn!(
            file = file.id,
            recorded = len,
            stored = opened.total_len,
            "a stored file's length differs from its record"
        );
        return Err(AppError::Internal(anyhow::anyhow!(
            "stored file length mismatch"
        )));
    }
    let (status, length) = match range {
        RangeRequest::Partial { first, last } => (StatusCode::PARTIAL_CONTENT, last - first + 1),
        _ => (StatusCode::OK, len),
    };
    let body = Body::from_stream(ReaderStream::with_capacity(opened.reader, 64 * 1024));
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.kind.mime()),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(file.kind, download_name.unwrap_or(&file.original_name)),
    );
    if let RangeRequest::Partial { first, last } = range {
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {first}-{last}/{len}")).expect("ascii"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-9", 100), Partial { first: 0, last: 9 });
        assert_eq!(
            parse_range("bytes=90-", 100),
            Partial {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Partial {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            parse_range("bytes=-500", 100),
            Partial { first: 0, last: 99 }
        );
        assert_eq!(
            parse_range("bytes=50-500", 100),
            Partial {
                first: 50,
                last: 99
            }
        );
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=9-0", 100), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(parse_range("items=0-1", 100), Full);
        assert_eq!(parse_range("bytes=+1-2", 100), Full);
        assert_eq!(parse_range("bytes=-", 100), Full);
        assert_eq!(parse_range("bytes=abc", 100), Full);
    }

    #[test]
    fn chinese_names_go_into_filename_star() {
        let value = content_disposition(FileKind::Pdf, "营业执照 2026.pdf");
        assert_eq!(
            value.to_str().unwrap(),
            "inline; filename=\"____ 2026.pdf\"; \
             filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%202026.pdf"
        );
        let value = content_disposition(FileKind::Xlsx, "a\"b;c.xlsx");
        assert_eq!(
            value.to_str().unwrap(),
            "attachment; filename=\"a_b_c.xlsx\"; filename*=UTF-8''a%22b%3Bc.xlsx"
        );
    }
}
