//! The report every import gives, in the shape of DESIGN.md's `--json` contract:
//! `read`, `created`, `updated`, `unchanged`, `rejected: [{row, field, reason}]` (or
//! `file` instead of `row` for a folder of pages) and `skipped`.

use serde::Serialize;

/// What one import did, or would do under `--dry-run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Non-empty data rows (or pages) read.
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<Rejected>,
    /// Files in a folder that are not of the kind (e.g. an `index.json` among pages).
    pub skipped: Vec<Skipped>,
    /// True when nothing was committed (`--dry-run`, the upload preview).
    pub dry_run: bool,
}

/// One row (or page) refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The row number a spreadsheet program shows (title and header rows counted);
    /// for JSON Lines the line number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// For a folder of pages, the file's name instead of a row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The field (column, key) at fault, when one is.
    pub field: Option<String>,
    pub reason: String,
}

impl Rejected {
    /// A refused row of a table or a line of a JSON Lines file.
    pub fn row(row: u64, field: Option<&str>, reason: impl Into<String>) -> Rejected {
        Rejected {
            row: Some(row),
            file: None,
            field: field.map(str::to_string),
            reason: reason.into(),
        }
    }

    /// A refused file of a folder.
    pub fn file(
        file: impl Into<String>,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> Rejected {
        Rejected {
            row: None,
            file: Some(file.into()),
            field: field.map(str::to_string),
            reason: reason.into(),
        }
    }
}

/// A file left alone because it is not of the kind being imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// How an import runs.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The sub-kind where a dataset has several (`suppliers --kind hw-licence`).
    pub kind: Option<String>,
    /// Report only; commit nothing.
    pub dry_run: bool,
    /// The rows are sample content (`serve --demo`): shown as 示例数据.
    pub sample: bool,
    /// The time of the import, unix seconds (from the platform clock, so that the
    /// `today` pin holds for date rules applied while importing).
    pub now: i64,
    /// The account that started the import from the web, if one did.
    pub actor_account_id: Option<i64>,
    /// The file is a partial list (suppliers: 补充名单): it adds and updates, and marks
    /// nothing 不在最新名单.
    pub partial: bool,
}

impl ImportReport {
    /// A one-line summary for people (the CLI without `--json`, logs).
    pub fn summary(&self) -> String {
        let mut line = format!(
            "read {}, created {}, updated {}, unchanged {}, rejected {}",
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected.len()
        );
        if !self.skipped.is_empty() {
            line.push_str(&format!(", skipped {} file(s)", self.skipped.len()));
        }
        if self.dry_run {
            line.push_str(" (dry run: nothing committed)");
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_has_the_contract_fields() {
        let report = ImportReport {
            read: 3,
            created: 1,
            updated: 0,
            unchanged: 1,
            rejected: vec![
                Rejected::row(4, Some("统一社会信用代码"), "第18位校验码不符"),
                Rejected::file("a.html", None, "不是公告页面"),
            ],
            skipped: vec![Skipped {
                file: "index.json".into(),
                reason: "not a notice page".into(),
            }],
            dry_run: false,
        };
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["read"], 3);
        assert_eq!(json["rejected"][0]["row"], 4);
        assert_eq!(json["rejected"][0]["field"], "统一社会信用代码");
        assert!(json["rejected"][0].get("file").is_none());
        assert_eq!(json["rejected"][1]["file"], "a.html");
        assert!(json["rejected"][1]["field"].is_null());
        assert_eq!(json["skipped"][0]["file"], "index.json");
    }
}
