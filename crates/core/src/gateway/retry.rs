//! When a failed call is tried again: only idempotent reads, only transient failures, bounded.

use crate::config::Tuning;
use std::time::Duration;

/// How one attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer in time (our timeout or the gateway's 504).
    Timeout,
    /// A 5xx other than the signature rejection, or the connection failed or dropped.
    Unavailable,
    /// 429, with the gateway's `Retry-After` if it sent one.
    RateLimited(Option<Duration>),
    /// Anything else (signature, authorization, business errors, unreadable bodies): never retried.
    Final,
}

/// How many times a read refused with 429 is tried again, at least.
const RATE_LIMITED_RETRIES: u32 = 5;

/// What to do after attempt number `attempt` (1-based) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    RetryAfter(Duration),
    GiveUp,
}

/// The retry rule, written in one place.
///
/// A read is retried after a timeout, a 5xx or a dropped connection with exponential backoff
/// (250 ms, 500 ms, …), after a 429 when the gateway's `Retry-After` is short enough to wait for;
/// never after a signature, authorization or business failure; at most `max_retries` times (a
/// 429 up to `RATE_LIMITED_RETRIES` times: the gateway asked us to come back, and the call window
/// is easing off meanwhile) and never starting past `retry_budget`. Non-idempotent calls (the code
/// exchange, which consumes the one-time code) are never retried.
pub(crate) fn next_step(idempotent: bool, failure: Failure, attempt: u32, elapsed: Duration, tuning: &Tuning) -> Next {
    let most = match failure {
        Failure::RateLimited(_) => tuning.max_retries.max(RATE_LIMITED_RETRIES),
        _ => tuning.max_retries,
    };
    if !idempotent || attempt > most {
        return Next::GiveUp;
    }
    let wait = match failure {
        Failure::Final => return Next::GiveUp,
        Failure::Timeout | Failure::Unavailable => backoff(attempt),
        Failure::RateLimited(None) => backoff(attempt).max(Duration::from_secs(1)),
        Failure::RateLimited(Some(after)) if after <= tuning.max_retry_after => after,
        Failure::RateLimited(Some(_)) => return Next::GiveUp,
    };
    if elapsed + wait > tuning.retry_budget {
        return Next::GiveUp;
    }
    Next::RetryAfter(wait)
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.saturating_sub(1).min(6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(idempotent: bool, failure: Failure, attempt: u32, elapsed_ms: u64, want: Next) {
        let got = next_step(idempotent, failure, attempt, Duration::from_millis(elapsed_ms), &Tuning::default());
        assert_eq!(got, want, "{idempotent} {failure:?} attempt {attempt} at {elapsed_ms} ms");
    }

    #[test]
    fn the_retry_rule() {
        use Next::*;
        let ms = Duration::from_millis;
        check(true, Failure::Timeout, 1, 0, RetryAfter(ms(250)));
        check(true, Failure::Unavailable, 2, 0, RetryAfter(ms(500)));
        check(true, Failure::Unavailable, 3, 0, GiveUp); // max_retries = 2
        check(false, Failure::Timeout, 1, 0, GiveUp); // the code exchange is never retried
        check(true, Failure::Final, 1, 0, GiveUp);
        check(true, Failure::RateLimited(Some(ms(3000))), 1, 0, RetryAfter(ms(3000)));
        check(true, Failure::RateLimited(Some(ms(60_000))), 1, 0, GiveUp); // too long to keep a clerk waiting
        check(true, Failure::RateLimited(None), 1, 0, RetryAfter(ms(1000)));
        check(true, Failure::RateLimited(Some(ms(1000))), 5, 0, RetryAfter(ms(1000))); // asked to come back
        check(true, Failure::RateLimited(Some(ms(1000))), 6, 0, GiveUp);
        check(true, Failure::Timeout, 1, 29_900, GiveUp); // budget spent
    }
}
