//! Reading the reference CSV files that ship inside the binary.
//!
//! The files are facts maintained in the repository, not user input, so their
//! errors are for developers: the messages are in English and name the file
//! and row. The `embedded()` constructors panic on such an error, and a test
//! per file proves that they do not.

use csv::StringRecord;

/// A reference CSV file that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, row {row}: {reason}")]
pub struct ReferenceDataError {
    /// File name, e.g. `regions.csv`.
    pub file: &'static str,
    /// Row as a spreadsheet shows it (the header is row 1).
    pub row: usize,
    /// What is wrong with the row.
    pub reason: String,
}

impl ReferenceDataError {
    pub(crate) fn new(file: &'static str, row: usize, reason: impl Into<String>) -> Self {
        Self {
            file,
            row,
            reason: reason.into(),
        }
    }
}

/// One data row of a reference file: its fields and its spreadsheet row number.
pub(crate) struct Row {
    pub(crate) number: usize,
    record: StringRecord,
}

impl Row {
    /// The field at `index`; the header check guarantees the column exists.
    pub(crate) fn get(&self, index: usize) -> &str {
        self.record.get(index).unwrap_or_default()
    }
}

/// Parses `text` as CSV with exactly the columns `header`, in that order.
pub(crate) fn read_rows(
    file: &'static str,
    text: &str,
    header: &[&str],
) -> Result<Vec<Row>, ReferenceDataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let found = reader
        .headers()
        .map_err(|e| ReferenceDataError::new(file, 1, e.to_string()))?;
    if found.iter().ne(header.iter().copied()) {
        return Err(ReferenceDataError::new(
            file,
            1,
            format!("header is {found:?}, expected {header:?}"),
        ));
    }
    reader
        .records()
        .enumerate()
        .map(|(index, record)| {
            let number = index + 2;
            record
                .map(|record| Row { number, record })
                .map_err(|e| ReferenceDataError::new(file, number, e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = read_rows("t.csv", "a,b\r\n1,2\r\n3,\"4,5\"\r\n", &["a", "b"]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].number, 3);
        assert_eq!(rows[1].get(1), "4,5");
    }

    #[test]
    fn a_different_header_is_rejected() {
        let err = read_rows("t.csv", "a,c\r\n1,2\r\n", &["a", "b"])
            .err()
            .unwrap();
        assert_eq!(err.row, 1);
        assert!(err.to_string().starts_with("t.csv, row 1:"));
    }

    #[test]
    fn a_row_with_too_few_fields_is_rejected() {
        let err = read_rows("t.csv", "a,b\r\n1\r\n", &["a", "b"])
            .err()
            .unwrap();
        assert_eq!(err.row, 2);
    }
}
