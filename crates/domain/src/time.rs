//! Dates and times in Asia/Shanghai, the zone of every date rule.
//!
//! China has used UTC+8 without daylight saving time since 1991, so a fixed
//! offset is exact for every date the platform handles and needs no tz database.

use ::time::macros::offset;
use ::time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::text::nfkc;

/// Asia/Shanghai: UTC+8, no DST since 1991.
pub const SHANGHAI: UtcOffset = offset!(+8);

/// The calendar date in Shanghai at the instant `at`.
pub fn shanghai_date(at: OffsetDateTime) -> Date {
    at.to_offset(SHANGHAI).date()
}

/// The calendar date in Shanghai at `unix_seconds`; `None` outside the range
/// the `time` crate supports (years ±9999).
pub fn shanghai_date_from_unix(unix_seconds: i64) -> Option<Date> {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .map(shanghai_date)
}

/// Why a text is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("日期格式应为“年-月-日”，如2026-11-28")]
    Format,
    #[error("日期{0}不存在，请核对")]
    NoSuchDay(String),
}

/// Parses `YYYY-MM-DD` (four-digit year, two-digit month and day), as used in
/// forms, query parameters and `GREENBRIDGE_TODAY`. Full-width digits and
/// surrounding spaces are accepted; other formats (2026年11月28日, 2026/11/28)
/// belong to the importers, which know their sources.
pub fn parse_date(input: &str) -> Result<Date, DateError> {
    let text = nfkc(input).trim().to_owned();
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| -> u16 {
        text[range].parse().expect("ASCII digits checked above")
    };
    let no_such_day = || DateError::NoSuchDay(text.clone());
    let year = i32::from(number(0..4));
    let month = u8::try_from(number(5..7))
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(no_such_day)?;
    let day = u8::try_from(number(8..10)).map_err(|_| no_such_day())?;
    Date::from_calendar_date(year, month, day).map_err(|_| no_such_day())
}

/// `YYYY-MM-DD` for a date.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY-MM-DD HH:MM` in Shanghai time, e.g. `2026-11-28 19:05`: the form
/// dates and times take on pages.
pub fn format_datetime_zh(at: OffsetDateTime) -> String {
    let local = at.to_offset(SHANGHAI);
    format!(
        "{} {:02}:{:02}",
        format_date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// [`format_datetime_zh`] of a stored UTC unix time; empty for a time out of range.
pub fn format_unix_zh(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map(format_datetime_zh)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::time::macros::{date, datetime};

    #[test]
    fn a_unix_time_is_shown_in_shanghai_time() {
        assert_eq!(format_unix_zh(0), "1970-01-01 08:00");
    }

    #[test]
    fn shanghai_is_eight_hours_ahead_of_utc() {
        assert_eq!(SHANGHAI.whole_hours(), 8);
    }

    #[test]
    fn the_shanghai_date_changes_at_sixteen_hundred_utc() {
        assert_eq!(
            shanghai_date(datetime!(2026-11-27 15:59:59 UTC)),
            date!(2026 - 11 - 27)
        );
        assert_eq!(
            shanghai_date(datetime!(2026-11-27 16:00 UTC)),
            date!(2026 - 11 - 28)
        );
    }

    #[test]
    fn unix_seconds_map_to_the_shanghai_date() {
        // 1970-01-01 16:00 UTC is already the 2nd in Shanghai.
        assert_eq!(shanghai_date_from_unix(57_600), Some(date!(1970 - 01 - 02)));
        assert_eq!(shanghai_date_from_unix(i64::MAX), None);
    }

    #[test]
    fn dates_parse_in_iso_form() {
        assert_eq!(parse_date("2026-11-28"), Ok(date!(2026 - 11 - 28)));
        assert_eq!(
            parse_date(" ２０２６－１１－２８ "),
            Ok(date!(2026 - 11 - 28))
        );
    }

    #[test]
    fn other_date_shapes_are_refused() {
        for input in [
            "",
            "2026-1-5",
            "2026/11/28",
            "2026年11月28日",
            "20261128",
            "26-11-28",
        ] {
            assert_eq!(parse_date(input), Err(DateError::Format), "{input}");
        }
        assert_eq!(
            DateError::Format.to_string(),
            "日期格式应为“年-月-日”，如2026-11-28"
        );
    }

    #[test]
    fn days_that_do_not_exist_are_refused() {
        assert_eq!(
            parse_date("2026-02-29"),
            Err(DateError::NoSuchDay("2026-02-29".into()))
        );
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("2026-00-10").is_err());
        assert_eq!(parse_date("2028-02-29"), Ok(date!(2028 - 02 - 29)));
        assert_eq!(
            DateError::NoSuchDay("2026-02-30".into()).to_string(),
            "日期2026-02-30不存在，请核对"
        );
    }

    #[test]
    fn date_times_are_shown_in_shanghai_time() {
        assert_eq!(
            format_datetime_zh(datetime!(2026-11-28 11:05:42 UTC)),
            "2026-11-28 19:05"
        );
        assert_eq!(
            format_datetime_zh(datetime!(2026-11-28 19:05 +8)),
            "2026-11-28 19:05"
        );
        assert_eq!(format_date(date!(2026 - 01 - 05)), "2026-01-05");
    }
}
