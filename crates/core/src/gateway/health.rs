//! The gateway's health as this counter sees it: the outcome of every call the client sends, a
//! level by one small rule, a watch channel for the window, and the cheap unsigned probe that
//! keeps the level fresh while nobody scans.
//!
//! The rule ([`level_of`]), with `FAILURE_WINDOW` = 5 min and `DOWN_AFTER` = 3:
//! - **Unknown**: nothing sent and nothing probed yet.
//! - **Down** (red): the latest outcome is a failure, and either `DOWN_AFTER` or more outcomes in
//!   a row failed, or it was `GATEWAY_UNAVAILABLE`, `GATEWAY_TIMEOUT` (no answer, or the gateway
//!   said its backend is gone) or `CLOCK_SKEW` (every signed call will be refused).
//! - **Degraded** (amber): not down, and the latest outcome is a failure (one 429, one unreadable
//!   body, one signature rejection), or a failure happened within `FAILURE_WINDOW`, or this PC's
//!   clock is off from the gateway's by more than `SKEW_WARN_SECS` (still inside the 180 s window).
//! - **Ok** (green): the latest outcome a success, no failure within `FAILURE_WINDOW`, the clock fine.
//!
//! What counts as a failure ([`counts_against_health`]): no answer (timeout, refused or dropped
//! connection), the gateway's 5xx/504/404, 429, a 2xx body that is not JSON, the signature or clock
//! rejection, 403. Business answers (a code expired or used, a license revoked, an auth code
//! unknown, a login refused) are answers: the gateway worked, and they count as a success, as
//! does an answer over the size limit (it is about one license's file).
//!
//! The probe is an unsigned GET of `yst_base` (the gateway refuses it, and its answer proves the
//! network, TLS, the gateway's front door and, from its `Date`, the clock). So a probe's success
//! ends only a failure a probe can see: no answer, the front door's 5xx, the clock. A failure the
//! gateway answered to a signed call (a backend 5xx, a 429, a signature rejection) stays until a
//! signed call succeeds: the header never turns green on a guess.

use super::GatewayClient;
use crate::clock::china_tz;
use crate::error::ErrorCode;
use crate::signing;
use chrono::{DateTime, FixedOffset, Utc};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// Failures this recent keep the level at least amber, and are counted in `recent_failures`.
pub const FAILURE_WINDOW: chrono::Duration = chrono::Duration::minutes(5);
/// This many failed outcomes in a row are red, whatever the failure.
pub const DOWN_AFTER: u32 = 3;
/// A clock this far off the gateway's (in seconds, either way) is a warning before it is a refusal.
pub const SKEW_WARN_SECS: i64 = 60;
/// With no call and no probe for this long, the background task probes.
pub const IDLE_PROBE_AFTER: Duration = Duration::from_secs(60);
/// How often the background task looks at the clock (the amber of an old failure fades, a probe
/// falls due); never a busy loop.
pub const HEALTH_TICK: Duration = Duration::from_secs(10);
/// The longest a probe waits for an answer, whatever `[tuning]` says.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(8);
/// At most this many failure times are kept (far more than a 5-minute window holds at the
/// gateway's own rate limit).
const MAX_KEPT_FAILURES: usize = 1000;

/// The header's colour, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthLevel {
    Unknown,
    Ok,
    Degraded,
    Down,
}

impl HealthLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Unknown => "unknown",
            HealthLevel::Ok => "ok",
            HealthLevel::Degraded => "degraded",
            HealthLevel::Down => "down",
        }
    }
}

/// The gateway's health at one moment, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayHealth {
    pub level: HealthLevel,
    /// The last call (or probe) that the gateway answered properly, China time.
    pub last_success_at: Option<DateTime<FixedOffset>>,
    /// Failures within `FAILURE_WINDOW`.
    pub recent_failures: u32,
    /// Failed outcomes since the last success.
    pub consecutive_failures: u32,
    /// The latest failure and when it happened, China time.
    pub last_failure: Option<(ErrorCode, DateTime<FixedOffset>)>,
    /// The gateway's clock minus ours, in seconds, as last seen in a `Date` header.
    pub clock_skew_secs: Option<i64>,
}

impl GatewayHealth {
    fn unknown() -> Self {
        GatewayHealth {
            level: HealthLevel::Unknown,
            last_success_at: None,
            recent_failures: 0,
            consecutive_failures: 0,
            last_failure: None,
            clock_skew_secs: None,
        }
    }
}

/// Whether a failed call says something about the gateway (rather than about a code, a license
/// or our own request).
pub fn counts_against_health(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::GatewayTimeout
            | ErrorCode::GatewayUnavailable
            | ErrorCode::RateLimited
            | ErrorCode::BadResponse
            | ErrorCode::GatewayAuthRejected
            | ErrorCode::ClockSkew
            | ErrorCode::GatewayForbidden
    )
}

/// One recorded outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The gateway answered properly (a call's 2xx JSON, a business answer, a probe's answer).
    Success,
    /// A failure that counts; `signed_only`: the gateway answered a signed call with it, so only a
    /// signed call's success ends it, not an unsigned probe's.
    Failure { code: ErrorCode, signed_only: bool },
}

/// A probe's success or failure, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Call,
    Probe,
}

#[derive(Debug, Default)]
struct State {
    last_success_at: Option<DateTime<Utc>>,
    /// The last call or probe, whatever its outcome: what "idle" is measured from.
    last_activity_at: Option<DateTime<Utc>>,
    consecutive: u32,
    failures: VecDeque<DateTime<Utc>>,
    last_failure: Option<Failed>,
    skew: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
struct Failed {
    code: ErrorCode,
    at: DateTime<Utc>,
    signed_only: bool,
}

impl State {
    fn record(&mut self, source: Source, outcome: Outcome, now: DateTime<Utc>) {
        self.last_activity_at = Some(now);
        match outcome {
            Outcome::Success => {
                // An unsigned probe cannot vouch for what only a signed call can see.
                let blocked = source == Source::Probe
                    && self.consecutive > 0
                    && self.last_failure.is_some_and(|f| f.signed_only && f.code != ErrorCode::ClockSkew);
                if !blocked {
                    self.last_success_at = Some(now);
                    self.consecutive = 0;
                }
            }
            Outcome::Failure { code, signed_only } => {
                self.consecutive = self.consecutive.saturating_add(1);
                self.last_failure = Some(Failed { code, at: now, signed_only });
                if self.failures.len() == MAX_KEPT_FAILURES {
                    self.failures.pop_front();
                }
                self.failures.push_back(now);
            }
        }
        self.forget_old(now);
    }

    fn forget_old(&mut self, now: DateTime<Utc>) {
        while self.failures.front().is_some_and(|at| now - *at > FAILURE_WINDOW) {
            self.failures.pop_front();
        }
    }

    fn snapshot(&self, now: DateTime<Utc>) -> GatewayHealth {
        let recent = self.failures.iter().filter(|at| now - **at <= FAILURE_WINDOW).count() as u32;
        let latest_failed = self.consecutive > 0;
        let level = if self.last_activity_at.is_none() {
            HealthLevel::Unknown
        } else {
            level_of(latest_failed, self.consecutive, self.last_failure.map(|f| f.code), recent, self.skew)
        };
        GatewayHealth {
            level,
            last_success_at: self.last_success_at.map(|t| t.with_timezone(&china_tz())),
            recent_failures: recent,
            consecutive_failures: self.consecutive,
            last_failure: self.last_failure.map(|f| (f.code, f.at.with_timezone(&china_tz()))),
            clock_skew_secs: self.skew,
        }
    }
}

/// The rule of the module's documentation, on its inputs alone.
pub fn level_of(
    latest_failed: bool,
    consecutive: u32,
    last_failure: Option<ErrorCode>,
    recent_failures: u32,
    skew_secs: Option<i64>,
) -> HealthLevel {
    let unreachable =
        matches!(last_failure, Some(ErrorCode::GatewayUnavailable | ErrorCode::GatewayTimeout | ErrorCode::ClockSkew));
    if latest_failed && (consecutive >= DOWN_AFTER || unreachable) {
        return HealthLevel::Down;
    }
    let clock_warning = skew_secs.is_some_and(|s| s.abs() > SKEW_WARN_SECS);
    if latest_failed || recent_failures > 0 || clock_warning {
        return HealthLevel::Degraded;
    }
    HealthLevel::Ok
}

/// The client's record of outcomes and the channel that tells subscribers of every change.
pub(crate) struct HealthMonitor {
    state: Mutex<State>,
    tx: watch::Sender<GatewayHealth>,
}

impl std::fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthMonitor").field("health", &*self.tx.borrow()).finish()
    }
}

impl HealthMonitor {
    pub(crate) fn new() -> Self {
        HealthMonitor { state: Mutex::new(State::default()), tx: watch::Sender::new(GatewayHealth::unknown()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few numbers always left whole: a panic elsewhere does not spoil it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn record(&self, source: Source, outcome: Outcome, skew: Option<i64>, now: DateTime<Utc>) {
        let health = {
            let mut state = self.lock();
            state.skew = skew;
            state.record(source, outcome, now);
            state.snapshot(now)
        };
        self.publish(health);
    }

    /// The health at `now` (an old failure leaves the window as time passes), told to
    /// subscribers when it changed.
    pub(crate) fn refresh(&self, skew: Option<i64>, now: DateTime<Utc>) -> GatewayHealth {
        let health = {
            let mut state = self.lock();
            state.skew = skew.or(state.skew);
            state.forget_old(now);
            state.snapshot(now)
        };
        self.publish(health.clone());
        health
    }

    pub(crate) fn idle_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        let last = self.lock().last_activity_at?;
        Some((now - last).to_std().unwrap_or(Duration::ZERO))
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<GatewayHealth> {
        self.tx.subscribe()
    }

    fn publish(&self, health: GatewayHealth) {
        self.tx.send_if_modified(|current| {
            let changed = *current != health;
            if changed {
                *current = health;
            }
            changed
        });
    }
}

impl GatewayClient {
    /// The gateway's health now, by the rule of [`level_of`].
    pub fn health(&self) -> GatewayHealth {
        self.health.refresh(self.skew.get(), self.clock.now())
    }

    /// A subscription to every change of [`GatewayClient::health`]: each call's outcome, each probe,
    /// and (through [`GatewayClient::keep_health_fresh`]) the passing of time.
    pub fn watch_health(&self) -> watch::Receiver<GatewayHealth> {
        self.health.subscribe()
    }

    /// How long since the last call or probe; `None` before the first.
    pub fn idle_for(&self) -> Option<Duration> {
        self.health.idle_for(self.clock.now())
    }

    /// Records how one signed call ended (called once per call, after its retries).
    pub(super) fn record_call(&self, outcome: Outcome) {
        self.health.record(Source::Call, outcome, self.skew.get(), self.clock.now());
    }

    /// One unsigned GET of `yst_base`, bounded by `PROBE_TIMEOUT`: any answer of the gateway's
    /// own (it refuses an unsigned call) is a success, unless its `Date` shows our clock outside
    /// the signature window; no answer, or a 502/503/504/429 from the front, is a failure. It
    /// signs nothing, sends no body, writes no audit event, and its outcome is recorded into the
    /// same health as the calls'.
    pub async fn probe(&self) -> GatewayHealth {
        let timeout = self.tuning.request_timeout.min(PROBE_TIMEOUT);
        let url = self.gateway.yst_base.clone();
        let outcome = match self.http.get(url).timeout(timeout).send().await {
            Err(e) => {
                let code = if e.is_timeout() { ErrorCode::GatewayTimeout } else { ErrorCode::GatewayUnavailable };
                tracing::info!(code = %code, timeout = ?timeout, "gateway probe: no answer");
                Outcome::Failure { code, signed_only: false }
            }
            Ok(response) => {
                let date =
                    response.headers().get(reqwest::header::DATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let skew = self.skew.observe(date.as_deref(), self.clock.now());
                match response.status().as_u16() {
                    502 | 503 => Outcome::Failure { code: ErrorCode::GatewayUnavailable, signed_only: false },
                    504 => Outcome::Failure { code: ErrorCode::GatewayTimeout, signed_only: false },
                    429 => Outcome::Failure { code: ErrorCode::RateLimited, signed_only: false },
                    _ if skew.is_some_and(|s| s.abs() > signing::WINDOW_SECS) => {
                        Outcome::Failure { code: ErrorCode::ClockSkew, signed_only: false }
                    }
                    _ => Outcome::Success,
                }
            }
        };
        self.health.record(Source::Probe, outcome, self.skew.get(), self.clock.now());
        self.health()
    }

    /// For the app's lifetime: tells `on_change` the health at once and after every change, looks
    /// at the clock every `HEALTH_TICK` (so an old failure's amber fades), and probes when no call
    /// or probe happened for `idle` (at the start too, so the header is right before the first scan).
    /// Probes run one at a time, each bounded, at most one per `idle`.
    pub async fn keep_health_fresh(&self, idle: Duration, on_change: impl Fn(GatewayHealth)) {
        let mut changes = self.watch_health();
        on_change(changes.borrow_and_update().clone());
        let mut tick = tokio::time::interval(HEALTH_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    on_change(changes.borrow_and_update().clone());
                }
                _ = tick.tick() => {
                    self.health();
                    if self.idle_for().is_none_or(|quiet| quiet >= idle) {
                        self.probe().await;
                    }
                }
            }
        }
    }
}

/// The outcome to record for a 2xx answer: a body that is not JSON is a bad response (every
/// answer of the contract is JSON), whatever the caller later makes of it.
pub(super) fn answer_outcome(body: &[u8]) -> Outcome {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure { code: ErrorCode::BadResponse, signed_only: true },
    }
}

/// The outcome to record for a call that failed with `code`; `answered`: the gateway answered it.
pub(super) fn failure_outcome(code: ErrorCode, answered: bool) -> Outcome {
    if counts_against_health(code) { Outcome::Failure { code, signed_only: answered } } else { Outcome::Success }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FixedClock};

    fn at(clock: &FixedClock) -> DateTime<Utc> {
        clock.now()
    }

    fn fail(code: ErrorCode) -> Outcome {
        Outcome::Failure { code, signed_only: true }
    }

    fn no_answer(code: ErrorCode) -> Outcome {
        Outcome::Failure { code, signed_only: false }
    }

    #[test]
    fn nothing_recorded_is_unknown() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Unknown);
        assert_eq!(h, GatewayHealth::unknown());
        assert_eq!(monitor.idle_for(at(&clock)), None);
    }

    #[test]
    fn a_success_is_ok_with_its_time() {
        let clock = FixedClock::china(2026, 11, 28, 10, 2, 0);
        let monitor = HealthMonitor::new();
        monitor.record(Source::Call, Outcome::Success, Some(1), at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Ok);
        assert_eq!(h.last_success_at.unwrap().to_rfc3339(), "2026-11-28T10:02:00+08:00");
        assert_eq!((h.recent_failures, h.consecutive_failures, h.last_failure), (0, 0, None));
        clock.advance_secs(61);
        assert_eq!(monitor.idle_for(at(&clock)), Some(Duration::from_secs(61)));
    }

    #[test]
    fn one_unreadable_answer_is_amber_three_failures_are_red() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        monitor.record(Source::Call, Outcome::Success, None, at(&clock));
        clock.advance_secs(5);
        monitor.record(Source::Call, fail(ErrorCode::BadResponse), None, at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Degraded);
        assert_eq!((h.recent_failures, h.consecutive_failures), (1, 1));
        let (code, when) = h.last_failure.unwrap();
        assert_eq!((code, when.to_rfc3339().as_str()), (ErrorCode::BadResponse, "2026-11-28T10:00:05+08:00"));
        monitor.record(Source::Call, fail(ErrorCode::RateLimited), None, at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Degraded);
        monitor.record(Source::Call, fail(ErrorCode::GatewayAuthRejected), None, at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Down, "{DOWN_AFTER} in a row");
        assert_eq!((h.recent_failures, h.consecutive_failures), (3, 3));
        assert_eq!(h.last_failure.unwrap().0, ErrorCode::GatewayAuthRejected);
    }

    #[test]
    fn no_answer_is_red_at_once_and_a_success_leaves_amber_for_five_minutes() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        monitor.record(Source::Call, no_answer(ErrorCode::GatewayTimeout), None, at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Down);
        clock.advance_secs(60);
        monitor.record(Source::Call, Outcome::Success, None, at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Degraded, "a failure 1 minute ago");
        assert_eq!((h.recent_failures, h.consecutive_failures), (1, 0));
        assert_eq!(h.last_success_at.unwrap().to_rfc3339(), "2026-11-28T10:01:00+08:00");
        clock.advance_secs(4 * 60);
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Degraded, "exactly 5 minutes ago");
        clock.advance_secs(1);
        let h = monitor.refresh(None, at(&clock));
        assert_eq!(h.level, HealthLevel::Ok);
        assert_eq!(h.recent_failures, 0);
        assert_eq!(h.last_failure.unwrap().0, ErrorCode::GatewayTimeout, "the last failure stays on record");
    }

    #[test]
    fn the_clock() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        monitor.record(Source::Call, Outcome::Success, Some(90), at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!((h.level, h.clock_skew_secs), (HealthLevel::Degraded, Some(90)), "a clock warning");
        monitor.record(Source::Call, Outcome::Success, Some(-60), at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Ok);
        monitor.record(Source::Call, fail(ErrorCode::ClockSkew), Some(400), at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Down, "every signed call is refused");
        // A probe sees the clock: once it is right again, the probe ends the failure.
        monitor.record(Source::Probe, Outcome::Success, Some(2), at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!((h.level, h.consecutive_failures), (HealthLevel::Degraded, 0));
    }

    #[test]
    fn a_probe_ends_only_what_a_probe_can_see() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        // The backend failed a signed call: the front door answering an unsigned GET proves nothing.
        monitor.record(Source::Call, fail(ErrorCode::GatewayUnavailable), None, at(&clock));
        clock.advance_secs(60);
        monitor.record(Source::Probe, Outcome::Success, None, at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!((h.level, h.consecutive_failures, h.last_success_at), (HealthLevel::Down, 1, None));
        assert_eq!(monitor.idle_for(at(&clock)), Some(Duration::ZERO), "the probe is activity: no probe loop");
        // A signed call's success ends it.
        monitor.record(Source::Call, Outcome::Success, None, at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Degraded);
        // No answer at all: the probe can see that, and its success ends it.
        clock.advance_secs(600);
        monitor.record(Source::Call, no_answer(ErrorCode::GatewayUnavailable), None, at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).level, HealthLevel::Down);
        monitor.record(Source::Probe, no_answer(ErrorCode::GatewayTimeout), None, at(&clock));
        assert_eq!(monitor.refresh(None, at(&clock)).consecutive_failures, 2, "a probe's failure counts");
        clock.advance_secs(60);
        monitor.record(Source::Probe, Outcome::Success, None, at(&clock));
        let h = monitor.refresh(None, at(&clock));
        assert_eq!((h.level, h.consecutive_failures, h.recent_failures), (HealthLevel::Degraded, 0, 2));
        assert_eq!(h.last_success_at.unwrap().to_rfc3339(), "2026-11-28T10:12:00+08:00");
    }

    #[test]
    fn business_answers_do_not_count() {
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::CodeUsed,
            ErrorCode::LicenseRevoked,
            ErrorCode::AuthCodeExpired,
            ErrorCode::LicenseLoginRejected,
            ErrorCode::BodyTooLarge,
        ] {
            assert!(!counts_against_health(code), "{code}");
            assert_eq!(failure_outcome(code, true), Outcome::Success, "{code}");
        }
        for code in [ErrorCode::GatewayTimeout, ErrorCode::RateLimited, ErrorCode::ClockSkew, ErrorCode::BadResponse] {
            assert!(counts_against_health(code), "{code}");
        }
        assert_eq!(answer_outcome(br#"{"errcode":40002}"#), Outcome::Success);
        assert_eq!(
            answer_outcome(b"<html>502</html>"),
            Outcome::Failure { code: ErrorCode::BadResponse, signed_only: true }
        );
    }

    #[test]
    fn subscribers_hear_of_changes_only() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        let monitor = HealthMonitor::new();
        let mut rx = monitor.subscribe();
        assert!(!rx.has_changed().unwrap());
        monitor.record(Source::Call, no_answer(ErrorCode::GatewayUnavailable), None, at(&clock));
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().level, HealthLevel::Down);
        monitor.refresh(None, at(&clock));
        assert!(!rx.has_changed().unwrap(), "nothing changed");
        clock.advance_secs(301);
        monitor.record(Source::Call, Outcome::Success, None, at(&clock));
        assert_eq!(rx.borrow_and_update().level, HealthLevel::Ok);
    }

    #[test]
    fn the_rule_on_its_inputs() {
        use ErrorCode as E;
        use HealthLevel::*;
        assert_eq!(level_of(false, 0, None, 0, None), Ok);
        assert_eq!(level_of(false, 0, Some(E::RateLimited), 2, None), Degraded);
        assert_eq!(level_of(true, 1, Some(E::RateLimited), 1, None), Degraded);
        assert_eq!(level_of(true, 2, Some(E::BadResponse), 2, None), Degraded);
        assert_eq!(level_of(true, 3, Some(E::BadResponse), 3, None), Down);
        assert_eq!(level_of(true, 1, Some(E::GatewayUnavailable), 1, None), Down);
        assert_eq!(level_of(true, 1, Some(E::GatewayTimeout), 1, None), Down);
        assert_eq!(level_of(true, 1, Some(E::ClockSkew), 1, Some(300)), Down);
        assert_eq!(level_of(false, 0, None, 0, Some(61)), Degraded);
        assert_eq!(level_of(false, 0, None, 0, Some(-60)), Ok);
    }
}
