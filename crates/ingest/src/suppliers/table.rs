//! A list as a table of cells with the row numbers a spreadsheet program shows,
//! whether it came as XLSX (calamine) or CSV (the csv crate; UTF-8 with or without
//! BOM, or GB18030 as Excel saves CSV in a Chinese locale).

use calamine::{Data, Reader, Xlsx};
use time::{Date, Month};

use crate::IngestError;

/// One cell, typed as far as the file says.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A number cell (XLSX only; CSV cells are text).
    Number(f64),
    /// A date cell (XLSX with a date format).
    Date(Date),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text: numbers without a needless `.0` (a licence number Excel
    /// stored as a number reads back as it was typed), dates as `YYYY-MM-DD`.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Date(d) => greenbridge_domain::time::format_date(*d),
        }
    }
}

/// `f64` to the shortest text that reads back as the same number; integral values
/// without a fraction (`3101180002`, not `3101180002.0`).
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A row and its number as a spreadsheet shows it (1-based, title rows counted).
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, column: usize) -> &Cell {
        self.cells.get(column).unwrap_or(&Cell::Empty)
    }

    pub fn is_empty(&self) -> bool {
        self.cells.iter().all(Cell::is_empty)
    }
}

/// What kind of file the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

pub fn sniff(bytes: &[u8]) -> Result<Format, IngestError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(IngestError::Unreadable(
            "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入".into(),
        ));
    }
    if bytes.is_empty() {
        return Err(IngestError::Unreadable("文件是空的".into()));
    }
    let text = decode_text(bytes).ok_or_else(not_a_table)?;
    if text.contains('\0') || !text.lines().take(20).any(|l| l.contains(',')) {
        return Err(not_a_table());
    }
    Ok(Format::Csv)
}

fn not_a_table() -> IngestError {
    IngestError::Unreadable("文件不是名单表格：只能导入 Excel（.xlsx）或 CSV 文件".into())
}

/// The bytes as text: UTF-8 (a BOM is dropped) or, failing that, GB18030.
fn decode_text(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(text.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    (!had_errors).then(|| text.into_owned())
}

/// Reads every row of the first worksheet (XLSX) or every record (CSV).
pub fn read_rows(bytes: &[u8]) -> Result<Vec<Row>, IngestError> {
    match sniff(bytes)? {
        Format::Xlsx => read_xlsx(bytes),
        Format::Csv => read_csv(bytes),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Row>, IngestError> {
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| {
        IngestError::Unreadable(format!(
            "无法读取 Excel 文件（{e}）：文件可能已损坏或不是 .xlsx"
        ))
    })?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err(IngestError::Unreadable("Excel 文件中没有工作表".into()));
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| IngestError::Unreadable(format!("无法读取工作表“{sheet}”（{e}）")))?;
    let Some((first_row, first_col)) = range.start() else {
        return Err(IngestError::Unreadable(format!("工作表“{sheet}”是空的")));
    };
    let mut rows = Vec::with_capacity(range.height());
    for (index, cells) in range.rows().enumerate() {
        // Columns before the range's first column are empty: keep positions absolute
        // so that column letters in messages would match the sheet.
        let mut row_cells = vec![Cell::Empty; first_col as usize];
        row_cells.extend(cells.iter().map(cell_of));
        rows.push(Row {
            number: u64::from(first_row) + index as u64 + 1,
            cells: row_cells,
        });
    }
    Ok(rows)
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
        Data::DateTime(dt) => {
            let (year, month, day, ..) = dt.to_ymd_hms_milli();
            Month::try_from(month)
                .ok()
                .and_then(|m| Date::from_calendar_date(i32::from(year), m, day).ok())
                .map_or_else(|| Cell::Number(dt.as_f64()), Cell::Date)
        }
        Data::DateTimeIso(s) => Cell::Text(s.chars().take(10).collect()),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, IngestError> {
    let text = decode_text(bytes).ok_or_else(not_a_table)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut number = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(IngestError::Unreadable(format!(
                    "CSV 文件第{}行无法读取：{e}",
                    number + 1
                )));
            }
        }
        // Records, not lines: a quoted field with a line break is still one row.
        number += 1;
        rows.push(Row {
            number,
            cells: record
                .iter()
                .map(|field| {
                    if field.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(field.to_string())
                    }
                })
                .collect(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_records_with_the_header_as_row_one() {
        let rows = read_csv("\u{feff}a,b\n1,\"x\ny\"\n,,\n2,z\n".as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].number, 2);
        assert_eq!(rows[1].cell(1).text(), "x\ny");
        assert!(rows[2].is_empty());
        assert_eq!(rows[3].number, 4);
        assert_eq!(rows[0].cell(0).text(), "a");
    }

    #[test]
    fn gbk_csv_is_decoded() {
        let (bytes, _, _) = encoding_rs::GBK.encode("序号,单位名称\n1,某公司\n");
        let rows = read_rows(&bytes).unwrap();
        assert_eq!(rows[0].cell(1).text(), "单位名称");
    }

    #[test]
    fn what_is_not_a_table_is_refused_with_one_message() {
        for bytes in [
            &b"%PDF-1.7 binary"[..],
            &[0xD0, 0xCF, 0x11, 0xE0, 0, 0][..],
            &b""[..],
            &b"just some words\nwithout separators\n"[..],
            &[0xff, 0xfe, 0x00, 0x01][..],
        ] {
            assert!(matches!(read_rows(bytes), Err(IngestError::Unreadable(_))));
        }
        assert!(matches!(
            read_rows(b"PK\x03\x04garbage"),
            Err(IngestError::Unreadable(_))
        ));
    }

    #[test]
    fn numbers_read_back_as_typed() {
        assert_eq!(number_text(3_101_180_002.0), "3101180002");
        assert_eq!(number_text(2.5), "2.5");
        assert_eq!(Cell::Number(39000.0).text(), "39000");
    }
}
