//! How many gateway calls one counter has in flight at once: an AIMD window shared by every call
//! of a client, so a scan asks for everything at once yet a gateway that pushes back is eased off.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The window: starts at its cap (every call of an authorization in flight, so a scan costs one
/// round trip after the exchange); halves on a sign of overload (429, 503, a timeout), once per
/// overload, and never stays above the calls the gateway was still holding when it refused one (a
/// burst's refusals come back at once, so the window settles on what the gateway takes); grows by
/// one per call answered, back up to the cap; holds every call back while the gateway's
/// `Retry-After` runs. Answers and refusals of calls sent before the last halving describe the
/// window before it, so they neither grow nor halve it again.
#[derive(Debug)]
pub(crate) struct CallWindow {
    cap: usize,
    state: Mutex<State>,
    /// Woken when a call ends or the window grows, so a waiting call looks again.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    /// No call starts before this (the latest `Retry-After` the gateway asked for).
    resume_at: Option<Instant>,
    /// Bumped by every halving; a call remembers the epoch it started in.
    epoch: u64,
}

/// What the window learned from one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// The gateway answered (a success or a business answer): one more call may be in flight.
    Answered,
    /// 429, 503 or no answer in time: half as many calls, and none before `retry_after`.
    Overloaded { retry_after: Option<Duration> },
}

/// One call's place in the window, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit<'w> {
    window: &'w CallWindow,
    /// The window's epoch when the call started.
    epoch: u64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.window.lock().in_flight -= 1;
        self.window.changed.notify_waiters();
    }
}

impl CallWindow {
    /// A window of at most `cap` calls (at least one), starting full.
    pub(crate) fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        let state = State { limit: cap, in_flight: 0, resume_at: None, epoch: 0 };
        CallWindow { cap, state: Mutex::new(state), changed: Notify::new() }
    }

    /// Waits for a place in the window (and for any `Retry-After` to run out).
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            // Registered before looking, so a release between the look and the wait is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let resume_at = {
                let mut state = self.lock();
                match state.resume_at {
                    Some(at) if at > Instant::now() => Some(at),
                    _ => {
                        state.resume_at = None;
                        if state.in_flight < state.limit {
                            state.in_flight += 1;
                            return Permit { window: self, epoch: state.epoch };
                        }
                        None
                    }
                }
            };
            match resume_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => changed.await,
            }
        }
    }

    /// Adjusts the window after the call holding `permit`: additive increase, multiplicative decrease.
    pub(crate) fn learn(&self, permit: &Permit<'_>, signal: Signal) {
        let mut state = self.lock();
        let current = permit.epoch == state.epoch;
        match signal {
            Signal::Answered if current => state.limit = (state.limit + 1).min(self.cap),
            Signal::Answered => {}
            Signal::Overloaded { retry_after } => {
                if current {
                    state.limit = (state.limit / 2).max(1);
                    state.epoch += 1;
                }
                // The others still in flight (this call holds its place until `learn` returns).
                let others = state.in_flight.saturating_sub(1).max(1);
                state.limit = state.limit.min(others);
                if let Some(wait) = retry_after {
                    let until = Instant::now() + wait;
                    state.resume_at = Some(state.resume_at.map_or(until, |at| at.max(until)));
                }
            }
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// How many calls may be in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.lock().limit
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding it: every change is one step.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn halves_once_per_overload_and_grows_by_one_per_answer_up_to_the_cap() {
        let window = CallWindow::new(32);
        assert_eq!(window.limit(), 32, "starts full");
        let mut calls = Vec::new();
        for _ in 0..20 {
            calls.push(window.acquire().await);
        }
        window.learn(&calls[0], Signal::Overloaded { retry_after: None });
        assert_eq!(window.limit(), 16);
        window.learn(&calls[1], Signal::Overloaded { retry_after: None });
        assert_eq!(window.limit(), 16, "sent before the halving: the same overload");
        drop(calls.drain(..8));
        window.learn(&calls[0], Signal::Overloaded { retry_after: None });
        assert_eq!(window.limit(), 11, "no more than the 11 others the gateway still holds");
        window.learn(&calls[1], Signal::Answered);
        assert_eq!(window.limit(), 11, "an answer to a call sent before the halving does not grow it");
        drop(calls);
        for _ in 0..6 {
            let call = window.acquire().await;
            window.learn(&call, Signal::Overloaded { retry_after: None });
        }
        assert_eq!(window.limit(), 1, "never below one");
        for _ in 0..3 {
            let call = window.acquire().await;
            window.learn(&call, Signal::Answered);
        }
        assert_eq!(window.limit(), 4);
        for _ in 0..100 {
            let call = window.acquire().await;
            window.learn(&call, Signal::Answered);
        }
        assert_eq!(window.limit(), 32, "never above the cap");
    }

    #[tokio::test]
    async fn no_more_calls_than_the_window_are_in_flight() {
        let window = Arc::new(CallWindow::new(3));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let (window, now, most) = (window.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    let _permit = window.acquire().await;
                    let in_flight = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(in_flight, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for call in calls {
            call.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retry_after_holds_every_call_back() {
        let window = CallWindow::new(8);
        let call = window.acquire().await;
        window.learn(&call, Signal::Overloaded { retry_after: Some(Duration::from_millis(200)) });
        drop(call);
        let started = Instant::now();
        let _permit = window.acquire().await;
        assert!(started.elapsed() >= Duration::from_millis(200), "waited {:?}", started.elapsed());
        assert_eq!(window.limit(), 1, "the gateway held nothing else of ours when it refused");
    }
}
