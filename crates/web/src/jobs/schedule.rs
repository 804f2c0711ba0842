//! Periodic jobs: each instance ticks every ~30 s and enqueues the job of the current
//! period with the unique key `kind@<period start>`, so that however many instances
//! tick, each period's job is enqueued once (the database refuses the second row).
//!
//! A period that began while no instance ran is caught up once when one starts: a
//! daily job at 03:00 whose instance was down at night runs when it comes back. The
//! job's payload is `{"period_start": <unix seconds>}`.

use crate::state::AppState;
use greenbridge_domain::time::SHANGHAI;
use greenbridge_store::{NewJob, Store};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// How often a periodic job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Every `n` minutes, periods aligned to the clock (`Minutes(15)`: :00, :15 …).
    Minutes(u32),
    /// Once a day at this time in Asia/Shanghai.
    DailyAt { hour: u8, minute: u8 },
}

const DAY: i64 = 86_400;

impl Period {
    /// The start (unix seconds) of the period that contains `now`.
    pub fn start_of(self, now: i64) -> i64 {
        match self {
            Period::Minutes(n) => {
                let length = i64::from(n.max(1)) * 60;
                now - now.rem_euclid(length)
            }
            Period::DailyAt { hour, minute } => {
                let offset = i64::from(SHANGHAI.whole_seconds());
                let local = now + offset;
                let mut at = local - local.rem_euclid(DAY)
                    + i64::from(hour.min(23)) * 3600
                    + i64::from(minute.min(59)) * 60;
                if at > local {
                    at -= DAY;
                }
                at - offset
            }
        }
    }
}

/// A job kind enqueued once per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub kind: &'static str,
    pub every: Period,
}

impl Schedule {
    /// The unique key of the job for the period starting at `period_start`.
    pub fn unique_key(&self, period_start: i64) -> String {
        format!("{}@{period_start}", self.kind)
    }
}

/// Enqueues the current period's job of every schedule that has none yet; returns
/// how many this call enqueued (another instance may have done the rest).
pub async fn tick(
    store: &Store,
    schedules: &[Schedule],
    now: i64,
) -> greenbridge_store::Result<usize> {
    let mut enqueued = 0;
    for schedule in schedules {
        if enqueue_period(store, schedule, now).await?.is_some() {
            enqueued += 1;
        }
    }
    Ok(enqueued)
}

async fn enqueue_period(
    store: &Store,
    schedule: &Schedule,
    now: i64,
) -> greenbridge_store::Result<Option<i64>> {
    let start = schedule.every.start_of(now);
    let job = NewJob::new(
        schedule.kind,
        serde_json::json!({ "period_start": start }),
        now,
    )
    .unique(schedule.unique_key(start));
    let id = store.enqueue_job(&job).await?;
    if let Some(id) = id {
        tracing::info!(
            kind = schedule.kind,
            period_start = start,
            job = id,
            "periodic job enqueued"
        );
    }
    Ok(id)
}

/// The scheduler loop of one instance. It remembers which periods it has seen, so a
/// tick within a known period costs no query.
pub(super) async fn run(
    state: AppState,
    schedules: Vec<Schedule>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut seen: HashMap<&'static str, i64> = HashMap::new();
    while !*stopped.borrow() {
        let now = state.clock.unix();
        for schedule in &schedules {
            let start = schedule.every.start_of(now);
            if seen.get(schedule.kind) == Some(&start) {
                continue;
            }
            match enqueue_period(&state.store, schedule, now).await {
                Ok(_) => {
                    seen.insert(schedule.kind, start);
                }
                Err(error) => {
                    tracing::warn!(kind = schedule.kind, %error, "cannot enqueue a periodic job")
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopped.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(dt: time::OffsetDateTime) -> i64 {
        dt.unix_timestamp()
    }

    #[test]
    fn minute_periods_align_to_the_clock() {
        let now = at(datetime!(2026-11-28 10:37:12 +8));
        assert_eq!(
            Period::Minutes(15).start_of(now),
            at(datetime!(2026-11-28 10:30:00 +8))
        );
        assert_eq!(
            Period::Minutes(15).start_of(at(datetime!(2026-11-28 10:45:00 +8))),
            at(datetime!(2026-11-28 10:45:00 +8))
        );
    }

    #[test]
    fn a_daily_period_starts_at_its_time_in_shanghai() {
        let daily = Period::DailyAt {
            hour: 3,
            minute: 30,
        };
        // After 03:30 in Shanghai: today's.
        assert_eq!(
            daily.start_of(at(datetime!(2026-11-28 10:00:00 +8))),
            at(datetime!(2026-11-28 03:30:00 +8))
        );
        // Before it (though already the 28th in UTC-less terms): yesterday's.
        assert_eq!(
            daily.start_of(at(datetime!(2026-11-28 03:29:59 +8))),
            at(datetime!(2026-11-27 03:30:00 +8))
        );
        // Exactly at it: the new period.
        assert_eq!(
            daily.start_of(at(datetime!(2026-11-28 03:30:00 +8))),
            at(datetime!(2026-11-28 03:30:00 +8))
        );
        // Shanghai's date differs from UTC's between 00:00 and 08:00 local.
        assert_eq!(
            Period::DailyAt { hour: 1, minute: 0 }.start_of(at(datetime!(2026-11-28 01:30:00 +8))),
            at(datetime!(2026-11-28 01:00:00 +8))
        );
    }

    #[test]
    fn unique_keys_name_kind_and_period() {
        let schedule = Schedule {
            kind: "sessions.purge",
            every: Period::Minutes(15),
        };
        assert_eq!(
            schedule.unique_key(1_800_000_000),
            "sessions.purge@1800000000"
        );
    }
}
