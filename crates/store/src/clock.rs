use time::{Date, Duration, OffsetDateTime};

/// The one clock every date rule reads (DESIGN.md "Time").
///
/// Configuration `today` pins the calendar date in Asia/Shanghai. A pinned clock keeps
/// the real time of day and keeps running, so that idle timeouts and lock-outs still
/// behave like time passing; only the date is moved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    shift: Duration,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock whose date in Asia/Shanghai is `today`.
    pub fn pinned(today: Date) -> Clock {
        let real = OffsetDateTime::now_utc().to_offset(greenbridge_domain::time::SHANGHAI);
        let shift = Duration::days((today - real.date()).whole_days());
        Clock { shift }
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.shift
    }

    /// Now as UTC unix seconds, the form the database keeps.
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Today's date in Asia/Shanghai.
    pub fn today(&self) -> Date {
        self.now()
            .to_offset(greenbridge_domain::time::SHANGHAI)
            .date()
    }
}
