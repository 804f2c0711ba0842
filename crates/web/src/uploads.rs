//! Receiving uploaded files, for every route that takes one.
//!
//! A route states what it accepts in an [`UploadPolicy`] (the kinds of file, by
//! content, and the largest size) and hands the multipart field to [`receive`], which
//! streams it into the file store ([`AppState::files`]) chunk by chunk — the file is
//! never held whole in memory — while it
//!
//! - recognises the kind from the first bytes ([`FileKind::sniff`]; up to 64 KiB are
//!   looked at) and stops as soon as it is not one the route accepts,
//! - counts the bytes and stops as soon as there are more than the policy allows,
//! - computes the SHA-256.
//!
//! Only a complete, accepted file becomes visible in the store, and only then is its
//! row written to the `files` table; a refused or interrupted upload leaves nothing
//! (the store removes its temporary file). A route also keeps a body limit of its own
//! (`DefaultBodyLimit::max`, a little above the policy's size, for the other form
//! fields) so that axum stops reading an oversized request early.

use crate::state::AppState;
use axum::extract::multipart::Field;
use axum::http::StatusCode;
use bytes::Bytes;
pub use greenbridge_domain::FileKind;
use greenbridge_domain::file_kind::SNIFF_LEN;
use greenbridge_store::blob::{ByteStream, StorageKey};
use greenbridge_store::{FileRecord, NewFile, clean_file_name};
use sha2::{Digest, Sha256};
use std::io;

/// What one upload route accepts.
#[derive(Debug, Clone, Copy)]
pub struct UploadPolicy {
    /// The kinds of file accepted, recognised by content.
    pub allowed: &'static [FileKind],
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
}

impl UploadPolicy {
    /// The accepted kinds for messages and forms: "PDF、JPG、PNG".
    pub fn allowed_labels(&self) -> String {
        self.allowed
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join("、")
    }

    /// The `accept` attribute of the form's file input: ".pdf,.jpg,.png".
    pub fn accept_attribute(&self) -> String {
        let mut extensions: Vec<&str> = self.allowed.iter().map(|k| k.extension()).collect();
        if self.allowed.contains(&FileKind::Jpeg) {
            extensions.push("jpeg");
        }
        extensions
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The body limit for the route: the file plus room for the other form fields.
    pub fn body_limit(&self) -> usize {
        usize::try_from(self.max_bytes.saturating_add(256 * 1024)).unwrap_or(usize::MAX)
    }
}

/// A size for people: "10 MB", "512 KB", "1.5 GB" (binary units, as browsers show).
pub fn format_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    let (unit, name) = match bytes {
        b if b >= GIB => (GIB, "GB"),
        b if b >= MIB => (MIB, "MB"),
        b if b >= KIB => (KIB, "KB"),
        _ => return format!("{bytes} 字节"),
    };
    let whole = bytes / unit;
    if whole * unit == bytes {
        format!("{whole} {name}")
    } else {
        format!("{:.1} {name}", bytes as f64 / unit as f64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("所选文件是空的")]
    Empty,
    #[error("文件超过 {} 的上限", format_size(*.limit))]
    TooLarge { limit: u64 },
    #[error("文件内容不是允许的格式（{allowed}）：{}", match .found {
        Some(kind) => format!("所传文件实际是 {}", kind.label()),
        None => "无法识别所传文件的格式".to_string(),
    })]
    WrongKind {
        allowed: String,
        found: Option<FileKind>,
    },
    #[error("上传未完成，请重试")]
    Interrupted,
    /// The store or the database failed: not the uploader's fault.
    #[error("文件保存失败")]
    Internal(#[source] anyhow::Error),
}

impl UploadError {
    /// The status a route answers with when the upload is the whole request.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// What the stream learns about the file while it passes.
struct Inspection {
    head: Vec<u8>,
    kind: Option<FileKind>,
    size: u64,
    hasher: Sha256,
}

/// The kind of the file whose first bytes are `head`, if the policy accepts it.
/// CSV and plain text differ only by name, so a text file is whichever of the two
/// the route accepts.
fn accepted_kind(
    head: &[u8],
    file_name: &str,
    policy: &UploadPolicy,
) -> Result<FileKind, UploadError> {
    let accepts = |kind: FileKind| policy.allowed.contains(&kind);
    let found = FileKind::sniff(head, file_name).map(|kind| match kind {
        FileKind::Csv if !accepts(kind) && accepts(FileKind::Text) => FileKind::Text,
        FileKind::Text if !accepts(kind) && accepts(FileKind::Csv) => FileKind::Csv,
        // WebVTT is text too, for a route that takes text but not captions.
        FileKind::Vtt if !accepts(kind) && accepts(FileKind::Text) => FileKind::Text,
        other => other,
    });
    found
        .filter(|k| policy.allowed.contains(k))
        .ok_or_else(|| UploadError::WrongKind {
            allowed: policy.allowed_labels(),
            found,
        })
}

fn upload_error(error: UploadError) -> io::Error {
    io::Error::other(error)
}

/// Streams `field` into the file store under a fresh key below `key_prefix` (e.g.
/// `"claims"`), checking it against `policy`, and records it in `files` with `owner`.
pub async fn receive(
    state: &AppState,
    field: Field<'_>,
    policy: &UploadPolicy,
    key_prefix: &str,
    owner: Option<i64>,
) -> Result<FileRecord, UploadError> {
    let raw_name = field.file_name().unwrap_or("").to_string();
    let key = StorageKey::generate(key_prefix).map_err(|e| {
        UploadError::Internal(anyhow::Error::new(e).context(key_prefix.to_string()))
    })?;
    let mut inspection = Inspection {
        head: Vec::with_capacity(1024),
        kind: None,
        size: 0,
        hasher: Sha256::new(),
    };
    let body: ByteStream<'_> = Box::pin(futures_util::stream::try_unfold(
        (field, &mut inspection),
        |(mut field, inspection)| {
            let raw_name = &raw_name;
            async move {
                let chunk: Option<Bytes> = field.chunk().await.map_err(|e| {
                    upload_error(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        UploadError::TooLarge {
                            limit: policy.max_bytes,
                        }
                    } else {
                        UploadError::Interrupted
                    })
                })?;
                let Some(chunk) = chunk else {
                    if inspection.size == 0 {
                        return Err(upload_error(UploadError::Empty));
                    }
                    if inspection.kind.is_none() {
                        inspection.kind = Some(
                            accepted_kind(&inspection.head, raw_name, policy)
                                .map_err(upload_error)?,
                        );
                    }
                    return Ok(None);
                };
                inspection.size += chunk.len() as u64;
                if inspection.size > policy.max_bytes {
                    return Err(upload_error(UploadError::TooLarge {
                        limit: policy.max_bytes,
                    }));
                }
                inspection.hasher.update(&chunk);
                if inspection.kind.is_none() {
                    let missing = SNIFF_LEN - inspection.head.len();
                    inspection
                        .head
                        .extend_from_slice(&chunk[..chunk.len().min(missing)]);
                    if inspection.head.len() >= SNIFF_LEN {
                        inspection.kind = Some(
                            accepted_kind(&inspection.head, raw_name, policy)
                                .map_err(upload_error)?,
                        );
                    }
                }
                Ok(Some((chunk, (field, inspection))))
            }
        },
    ));
    let stored = state.files.put(&key, body).await;
    let size = match stored {
        Ok(size) => size,
        Err(error) => {
            return Err(match error.downcast::<UploadError>() {
                Ok(refused) => refused,
                Err(other) => UploadError::Internal(
                    anyhow::Error::new(other).context("cannot store an uploaded file"),
                ),
            });
        }
    };
    let kind = inspection.kind.expect("decided before the stream ended");
    let sha256 = data_encoding::HEXLOWER.encode(&inspection.hasher.finalize());
    let original_name = clean_file_name(&raw_name, &format!("file.{}", kind.extension()));
    let recorded = state
        .store
        .insert_file(
            &NewFile {
                storage_key: key.as_str(),
                kind,
                size,
                sha256: &sha256,
                original_name: &original_name,
                owner_account_id: owner,
            },
            state.clock.unix(),
        )
        .await;
    match recorded {
        Ok(record) => Ok(record),
        Err(error) => {
            if let Err(e) = state.files.delete(&key).await {
                tracing::warn!(error = %e, key = %key, "cannot remove a file whose row failed");
            }
            Err(UploadError::Internal(
                anyhow::Error::new(error).context("cannot record an uploaded file"),
            ))
        }
    }
}

/// Removes a stored file (row and bytes), e.g. after the rest of its form turned out
/// to be invalid. Failures are logged, not returned: the caller is already answering
/// with the form's own error.
pub async fn discard(state: &AppState, file: &FileRecord) {
    if let Err(error) = state.store.delete_file(file.id).await {
        tracing::warn!(%error, file = file.id, "cannot delete a discarded file's row");
        return;
    }
    match StorageKey::parse(&file.storage_key) {
        Ok(key) => {
            if let Err(error) = state.files.delete(&key).await {
                tracing::warn!(%error, key = %key, "cannot delete a discarded file");
            }
        }
        Err(_) => tracing::warn!(key = file.storage_key, "discarded file has an invalid key"),
    }
}

/// Removes the stored files with these ids (rows and bytes) once the record that
/// used them is gone; returns `file:{id}` of each removed, for the audit log.
pub async fn discard_ids(state: &AppState, ids: impl IntoIterator<Item = i64>) -> Vec<String> {
    let mut removed = Vec::new();
    for id in ids {
        if let Ok(file) = state.store.file(id).await {
            discard(state, &file).await;
            removed.push(format!("file:{id}"));
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const LICENCE: UploadPolicy = UploadPolicy {
        allowed: &[FileKind::Pdf, FileKind::Jpeg, FileKind::Png],
        max_bytes: 10 * 1024 * 1024,
    };

    #[test]
    fn messages_name_the_limit_and_the_accepted_kinds() {
        assert_eq!(
            UploadError::TooLarge {
                limit: LICENCE.max_bytes
            }
            .to_string(),
            "文件超过 10 MB 的上限"
        );
        let error = accepted_kind("只是文字".as_bytes(), "a.pdf", &LICENCE).unwrap_err();
        assert_eq!(
            error.to_string(),
            "文件内容不是允许的格式（PDF、JPG、PNG）：所传文件实际是 纯文本（TXT）"
        );
        let error = accepted_kind(&[0, 1, 2, 3], "a.pdf", &LICENCE).unwrap_err();
        assert!(error.to_string().ends_with("无法识别所传文件的格式"));
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(500 * 1024 * 1024), "500 MB");
        assert_eq!(LICENCE.accept_attribute(), ".pdf,.jpg,.png,.jpeg");
    }

    #[test]
    fn text_counts_as_whichever_text_kind_the_route_takes() {
        let csv_only = UploadPolicy {
            allowed: &[FileKind::Csv],
            max_bytes: 1024,
        };
        assert_eq!(
            accepted_kind(b"a,b\n1,2\n", "data.txt", &csv_only).unwrap(),
            FileKind::Csv
        );
        let text_only = UploadPolicy {
            allowed: &[FileKind::Text],
            max_bytes: 1024,
        };
        assert_eq!(
            accepted_kind(b"a,b\n", "data.csv", &text_only).unwrap(),
            FileKind::Text
        );
    }
}
