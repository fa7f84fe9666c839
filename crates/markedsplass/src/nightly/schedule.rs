//! When a night runs: its local date, the next start time, the night missed while the service was
//! down, and the one scheduler per service that starts a batch every night.

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::{NightlyError, run_night};
use crate::market::Market;
use crate::store::{Duty, Lead, NightState};

/// The local date "now" in the configured time zone.
pub fn night_of(at: Timestamp, time_zone: &TimeZone) -> Date {
    at.to_zoned(time_zone.clone()).date()
}

/// The next start of a night at or after `after`: `time` in `time_zone`.
pub fn next_start(
    after: Timestamp,
    time: Time,
    time_zone: &TimeZone,
) -> Result<Zoned, NightlyError> {
    let today = start_on(night_of(after, time_zone), time, time_zone)?;
    if today.timestamp() >= after {
        return Ok(today);
    }
    start_on(
        today
            .date()
            .tomorrow()
            .map_err(|e| NightlyError::Config(e.to_string()))?,
        time,
        time_zone,
    )
}

/// When the batch of the night `date` starts: `time` that day in `time_zone`.
pub fn start_on(date: Date, time: Time, time_zone: &TimeZone) -> Result<Zoned, NightlyError> {
    date.to_datetime(time)
        .to_zoned(time_zone.clone())
        .map_err(|e| NightlyError::Config(e.to_string()))
}

/// The night to catch up at start-up: today's, if its start time has passed and it never ran or
/// was interrupted (the service was down or stopped at the start time).
pub async fn missed_night(market: &Market) -> Result<Option<Date>, NightlyError> {
    let nightly = &market.nightly;
    let now = market.clock.now();
    let today = night_of(now, nightly.time_zone.tz());
    // A night left unfinished (the service stopped during it) is finished first.
    if let Some(unfinished) = market
        .stores
        .nightly
        .nights(7)
        .await?
        .into_iter()
        .find(|n| n.state == NightState::Running)
    {
        return Ok(unfinished.night.parse().ok());
    }
    if start_on(today, nightly.time.time(), nightly.time_zone.tz())?.timestamp() > now {
        return Ok(None);
    }
    match market
        .stores
        .nightly
        .night_by_date(&today.to_string())
        .await?
    {
        Some(night) if night.state == NightState::Done => Ok(None),
        _ => Ok(Some(today)),
    }
}

/// Runs a batch every night at `nightly.time` in `nightly.time_zone` until `stop` turns true;
/// first catches up today's night if it was missed or interrupted ([`missed_night`]).
///
/// Of the processes sharing a database, only the one that holds the nights' duty
/// ([`Duty::Nights`]) schedules; the others ask again every [`LEAD_RETRY`]. When the holder
/// stops or loses its connection, another takes over and finishes a night left running (its runs
/// were never lost: they are in the queue, and every worker of every process takes them).
pub fn spawn_scheduler(
    market: Arc<Market>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some(mut lead) = wait_for_lead(&market, Duty::Nights, &mut stop).await else {
                return;
            };
            tokio::select! {
                () = schedule(&market, stop.clone()) => return,
                () = lead.lost() => {
                    tracing::warn!("lost the nights' duty (the database connection broke); asking again");
                }
            }
        }
    })
}

/// How often a process that does not hold a duty asks for it again.
pub const LEAD_RETRY: Duration = Duration::from_secs(5);

/// Takes `duty` as soon as no other process holds it; `None` when `stop` turns true first.
pub async fn wait_for_lead(
    market: &Market,
    duty: Duty,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Box<dyn Lead>> {
    loop {
        if *stop.borrow() {
            return None;
        }
        match market.stores.shared.lead(duty).await {
            Ok(Some(lead)) => {
                tracing::info!(?duty, "this process holds the duty");
                return Some(lead);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(?duty, error = %e, "asking for a duty"),
        }
        tokio::select! {
            () = tokio::time::sleep(LEAD_RETRY) => {}
            changed = stop.changed() => if changed.is_err() { return None },
        }
    }
}

/// The scheduler's work while it holds the nights' duty; returns when `stop` turns true.
async fn schedule(market: &Market, mut stop: tokio::sync::watch::Receiver<bool>) {
    match missed_night(market).await {
        Ok(Some(date)) => {
            tracing::info!(night = %date, "catching up tonight's batch, missed or interrupted");
            if let Err(e) = run_night(market, date, Duration::from_secs(20 * 3600)).await {
                tracing::error!(error = %e, "nightly batch failed");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "checking for a missed night"),
    }
    loop {
        let next = match next_start(
            market.clock.now(),
            market.nightly.time.time(),
            market.nightly.time_zone.tz(),
        ) {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "the nightly scheduler stops");
                // Keeps the duty, so no other process schedules with the same configuration.
                let _ = stop.changed().await;
                return;
            }
        };
        let wait = next
            .timestamp()
            .duration_since(market.clock.now())
            .unsigned_abs();
        tracing::info!(next = %next, "next nightly batch");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        match run_night(market, next.date(), Duration::from_secs(20 * 3600)).await {
            Ok(night) => tracing::info!(night = night.night, "nightly batch finished"),
            Err(e) => tracing::error!(error = %e, "nightly batch failed"),
        }
        // Past the start minute before computing the next one.
        tokio::time::sleep(Duration::from_secs(61)).await;
    }
}

/// Today's night (for `sandkasse nightly` without `--date`).
pub fn tonight(market: &Market) -> Result<Date, NightlyError> {
    Ok(night_of(market.clock.now(), market.nightly.time_zone.tz()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_o_clock() -> Time {
        Time::strptime("%H:%M", "02:00").unwrap()
    }

    fn oslo() -> TimeZone {
        TimeZone::get("Europe/Oslo").unwrap()
    }

    #[test]
    fn the_next_start_is_at_the_local_time() {
        // From local midnight, today's start.
        let midnight: Timestamp = "2026-11-22T23:00:00Z".parse().unwrap();
        assert_eq!(
            next_start(midnight, two_o_clock(), &oslo())
                .unwrap()
                .date()
                .to_string(),
            "2026-11-23"
        );
        // 2026-11-23 01:00 UTC is 02:00 in Oslo (CET, +01:00).
        let after: Timestamp = "2026-11-23T00:30:00Z".parse().unwrap();
        assert_eq!(
            next_start(after, two_o_clock(), &oslo())
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-11-23T01:00:00Z"
        );
        let after: Timestamp = "2026-11-23T01:00:01Z".parse().unwrap();
        assert_eq!(
            next_start(after, two_o_clock(), &oslo())
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-11-24T01:00:00Z"
        );
        // Summer time: 02:00 in Oslo is 00:00 UTC.
        let after: Timestamp = "2026-06-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            next_start(after, two_o_clock(), &oslo())
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-06-02T00:00:00Z"
        );
    }
}
