//! Metadata of stored files: one row per file in the file store ([`crate::blob`]),
//! written after its bytes are safely in place and deleted before them.

use crate::{Result, Store, StoreError};
use greenbridge_domain::FileKind;

/// A file to record, after its bytes were stored under `storage_key`.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub storage_key: &'a str,
    pub kind: FileKind,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: &'a str,
    /// The uploader's file name, already cleaned ([`clean_file_name`]).
    pub original_name: &'a str,
    pub owner_account_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct FileRecord {
    pub id: i64,
    pub storage_key: String,
    pub kind: FileKind,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
    pub original_name: String,
    pub owner_account_id: Option<i64>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: i64,
    storage_key: String,
    kind: String,
    mime: String,
    size: i64,
    sha256: String,
    original_name: String,
    owner_account_id: Option<i64>,
    created_at: i64,
}

impl TryFrom<FileRow> for FileRecord {
    type Error = StoreError;
    fn try_from(row: FileRow) -> Result<FileRecord> {
        Ok(FileRecord {
            kind: FileKind::parse(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("file kind {:?}", row.kind)))?,
            size: u64::try_from(row.size)
                .map_err(|_| StoreError::Corrupt(format!("file size {}", row.size)))?,
            id: row.id,
            storage_key: row.storage_key,
            mime: row.mime,
            sha256: row.sha256,
            original_name: row.original_name,
            owner_account_id: row.owner_account_id,
            created_at: row.created_at,
        })
    }
}

const FILE_COLUMNS: &str =
    "id, storage_key, kind, mime, size, sha256, original_name, owner_account_id, created_at";

/// Longest original file name kept, in characters.
pub const FILE_NAME_MAX: usize = 200;

/// The uploader's file name made safe to keep and show: the last path component only
/// (browsers on Windows once sent `C:\…`), without control characters or the quotes
/// and separators that headers and shells mind, trimmed, at most [`FILE_NAME_MAX`]
/// characters (the extension kept); `fallback` when nothing is left.
pub fn clean_file_name(name: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/' | '\u{feff}'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return fallback.to_string();
    }
    if cleaned.chars().count() <= FILE_NAME_MAX {
        return cleaned.to_string();
    }
    let extension = cleaned
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.chars().count() <= 10)
        .unwrap_or("");
    let keep = FILE_NAME_MAX - extension.chars().count() - usize::from(!extension.is_empty());
    let stem: String = cleaned.chars().take(keep).collect();
    if extension.is_empty() {
        stem
    } else {
        format!("{stem}.{extension}")
    }
}

impl Store {
    pub async fn insert_file(&self, file: &NewFile<'_>, now: i64) -> Result<FileRecord> {
        let size = i64::try_from(file.size)
            .map_err(|_| StoreError::Corrupt(format!("file size {}", file.size)))?;
        let row: FileRow = sqlx::query_as(&format!(
            "INSERT INTO files (storage_key, kind, mime, size, sha256, original_name, \
             owner_account_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING {FILE_COLUMNS}"
        ))
        .bind(file.storage_key)
        .bind(file.kind.as_str())
        .bind(file.kind.mime())
        .bind(size)
        .bind(file.sha256)
        .bind(file.original_name)
        .bind(file.owner_account_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    pub async fn file(&self, id: i64) -> Result<FileRecord> {
        let row: FileRow =
            sqlx::query_as(&format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        row.try_into()
    }

    pub async fn file_by_key(&self, storage_key: &str) -> Result<FileRecord> {
        let row: FileRow = sqlx::query_as(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE storage_key = $1"
        ))
        .bind(storage_key)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    /// Files whose key starts with `prefix` (e.g. `"admin/"`), newest first.
    pub async fn list_files(
        &self,
        prefix: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<FileRecord>> {
        let rows: Vec<FileRow> = sqlx::query_as(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE storage_key LIKE $1 ESCAPE '\\' \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(format!(
            "{}%",
            prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(FileRecord::try_from).collect()
    }

    /// Gives a file uploaded before its owner's account existed (a claim's licence)
    /// to that account.
    pub async fn set_file_owner(&self, id: i64, owner_account_id: i64) -> Result<()> {
        sqlx::query("UPDATE files SET owner_account_id = $1 WHERE id = $2")
            .bind(owner_account_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a row records the file stored under `storage_key`.
    pub async fn file_recorded(&self, storage_key: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM files WHERE storage_key = $1")
            .bind(storage_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Removes a file's row (the caller removes its bytes from the file store).
    pub async fn delete_file(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::clean_file_name;

    #[test]
    fn file_names_lose_paths_controls_and_quotes() {
        assert_eq!(clean_file_name("营业执照.pdf", "f"), "营业执照.pdf");
        assert_eq!(clean_file_name("C:\\Users\\王\\执照.pdf", "f"), "执照.pdf");
        assert_eq!(clean_file_name("../../etc/passwd", "f"), "passwd");
        assert_eq!(clean_file_name("a\"b\r\n.png", "f"), "ab.png");
        assert_eq!(clean_file_name("  ..  ", "file.pdf"), "file.pdf");
        assert_eq!(clean_file_name(".htaccess", "f"), "htaccess");
        let long = format!("{}.docx", "长".repeat(300));
        let cleaned = clean_file_name(&long, "f");
        assert_eq!(cleaned.chars().count(), 200);
        assert!(cleaned.ends_with(".docx"));
    }
}
