//! Receiving uploaded files: streamed to disk chunk by chunk (never held whole in
//! memory), checked by their first bytes against the kinds a route accepts, and
//! removed again when anything about them is wrong.

use axum::extract::multipart::Field;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// A kind of file recognised by its content, not by its name or claimed type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
}

impl FileKind {
    pub fn sniff(head: &[u8]) -> Option<FileKind> {
        if head.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(FileKind::Png)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
        }
    }

    pub fn from_mime(mime: &str) -> Option<FileKind> {
        [FileKind::Pdf, FileKind::Jpeg, FileKind::Png]
            .into_iter()
            .find(|k| k.mime() == mime)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("未选择文件")]
    Empty,
    #[error("文件超过 {limit_mb} MB 的上限")]
    TooLarge { limit_mb: u64 },
    #[error("文件内容不是允许的格式（{allowed}）")]
    WrongKind { allowed: String },
    #[error("上传未完成，请重试")]
    Interrupted,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub struct Stored {
    /// Path relative to the data directory.
    pub relative_path: String,
    pub kind: FileKind,
    pub size: u64,
}

/// Enough leading bytes to tell every [`FileKind`] apart.
const SNIFF_LEN: usize = 8;

fn accepted_kind(head: &[u8], allowed: &[FileKind]) -> Result<FileKind, UploadError> {
    FileKind::sniff(head)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| UploadError::WrongKind {
            allowed: allowed
                .iter()
                .map(|k| k.extension().to_uppercase())
                .collect::<Vec<_>>()
                .join("、"),
        })
}

/// Streams `field` into `data_dir/<folder>/<random>.<ext>`.
pub async fn store_field(
    mut field: Field<'_>,
    data_dir: &Path,
    folder: &str,
    allowed: &[FileKind],
    limit: u64,
) -> Result<Stored, UploadError> {
    let directory = data_dir.join(folder);
    tokio::fs::create_dir_all(&directory).await?;
    let name = greenbridge_store::new_token();
    let partial: PathBuf = directory.join(format!("{name}.part"));
    let mut file = tokio::fs::File::create(&partial).await?;
    let mut size: u64 = 0;
    let mut kind = None;
    let outcome: Result<(), UploadError> = async {
        let mut head = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                UploadError::TooLarge {
                    limit_mb: limit / (1024 * 1024),
                }
            } else {
                UploadError::Interrupted
            }
        })? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(UploadError::TooLarge {
                    limit_mb: limit / (1024 * 1024),
                });
            }
            if kind.is_none() {
                let missing = SNIFF_LEN.saturating_sub(head.len());
                head.extend_from_slice(&chunk[..chunk.len().min(missing)]);
                if head.len() >= SNIFF_LEN {
                    kind = Some(accepted_kind(&head, allowed)?);
                }
            }
            file.write_all(&chunk).await?;
        }
        if size == 0 {
            return Err(UploadError::Empty);
        }
        if kind.is_none() {
            kind = Some(accepted_kind(&head, allowed)?);
        }
        file.flush().await?;
        Ok(())
    }
    .await;
    drop(file);
    if let Err(error) = outcome {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(error);
    }
    let kind = kind.expect("checked above");
    let final_name = format!("{name}.{}", kind.extension());
    tokio::fs::rename(&partial, directory.join(&final_name)).await?;
    Ok(Stored {
        relative_path: format!("{folder}/{final_name}"),
        kind,
        size,
    })
}

/// Removes a stored file after the rest of its form turned out to be invalid.
pub async fn discard(data_dir: &Path, relative_path: &str) {
    let _ = tokio::fs::remove_file(data_dir.join(relative_path)).await;
}
