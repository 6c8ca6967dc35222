//! Fault injection: the `[ROUTE:]KIND[=VALUE][*COUNT]` grammar and the list of faults in force.

use crate::route::Route;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The HTTP statuses a `status=` fault may answer.
pub const FAULT_STATUSES: [u16; 5] = [500, 502, 503, 504, 429];
/// The `Retry-After` of a plain `status=429`, in seconds.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

const GRAMMAR: &str = "[ROUTE:]KIND[=VALUE][*COUNT], KIND one of latency=MS, status=500|502|503|504|429, \
    retry-after=SECS, sig-reject, clock-skew=SECS, concurrency=N, malformed, truncated, oversized, slow-body, drop, drop-after";

/// One injected fault: what goes wrong, on which route, how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `None`: every contract route.
    pub route: Option<Route>,
    pub kind: FaultKind,
    /// How many matching requests it still hits; `None`: forever.
    pub count: Option<u32>,
}

/// What a fault does to a request that reaches it (after the gateway's own checks passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The answer comes this many milliseconds later (the backend has already acted).
    Latency(u64),
    /// The gateway answers this status instead of forwarding; 429 carries `Retry-After: 1`.
    Status(u16),
    /// A 429 with this `Retry-After`, in seconds.
    RetryAfter(u64),
    /// The gateway's signature rejection, even for a good signature.
    SigReject,
    /// The gateway's clock runs this many seconds ahead (negative: behind); ignores route and count.
    ClockSkew(i64),
    /// The gateway's limit per PaaS ID: above this many of its calls in flight, a call is answered
    /// 429 with `Retry-After: 1` at once; ignores route and count.
    Concurrency(u64),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with the real JSON cut in half.
    Truncated,
    /// An answer over 16 MiB, more than any license file: no client should read it whole.
    Oversized,
    /// 200 with the headers at once and the body trickling at about one byte per 100 ms.
    SlowBody,
    /// The connection is dropped without an answer.
    Drop,
    /// The backend acts (a record is stored) and then the connection is dropped without an answer:
    /// the client cannot tell it from `drop`, so only an idempotent resend is safe.
    DropAfter,
}

impl FaultKind {
    fn name(self) -> &'static str {
        match self {
            FaultKind::Latency(_) => "latency",
            FaultKind::Status(_) => "status",
            FaultKind::RetryAfter(_) => "retry-after",
            FaultKind::SigReject => "sig-reject",
            FaultKind::ClockSkew(_) => "clock-skew",
            FaultKind::Concurrency(_) => "concurrency",
            FaultKind::Malformed => "malformed",
            FaultKind::Truncated => "truncated",
            FaultKind::Oversized => "oversized",
            FaultKind::SlowBody => "slow-body",
            FaultKind::Drop => "drop",
            FaultKind::DropAfter => "drop-after",
        }
    }

    fn value(self) -> Option<String> {
        match self {
            FaultKind::Latency(ms) => Some(ms.to_string()),
            FaultKind::Status(code) => Some(code.to_string()),
            FaultKind::RetryAfter(secs) => Some(secs.to_string()),
            FaultKind::ClockSkew(secs) => Some(secs.to_string()),
            FaultKind::Concurrency(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn parse(name: &str, value: Option<&str>) -> Result<Self, String> {
        let number = |what: &str| -> Result<u64, String> {
            let v = value.ok_or_else(|| format!("{name} needs a value: {name}={what}"))?;
            v.parse().map_err(|_| format!("{name}={v}: {what} must be a whole number"))
        };
        let bare = |kind: FaultKind| match value {
            None => Ok(kind),
            Some(v) => Err(format!("{name} takes no value (got \"={v}\")")),
        };
        match name {
            "latency" => Ok(FaultKind::Latency(number("MS")?)),
            "status" => {
                let code = number("STATUS")?;
                FAULT_STATUSES
                    .iter()
                    .find(|s| u64::from(**s) == code)
                    .map(|s| FaultKind::Status(*s))
                    .ok_or_else(|| format!("status={code} is not supported; use 500, 502, 503, 504 or 429"))
            }
            "retry-after" => Ok(FaultKind::RetryAfter(number("SECS")?)),
            "clock-skew" => {
                let v = value.ok_or("clock-skew needs a value: clock-skew=SECS (negative: behind)")?;
                v.parse().map(FaultKind::ClockSkew).map_err(|_| format!("clock-skew={v}: SECS must be a whole number"))
            }
            "concurrency" => match number("N")? {
                0 => Err("concurrency=0 would refuse every call; the limit is at least 1".to_owned()),
                n => Ok(FaultKind::Concurrency(n)),
            },
            "sig-reject" => bare(FaultKind::SigReject),
            "malformed" => bare(FaultKind::Malformed),
            "truncated" => bare(FaultKind::Truncated),
            "oversized" => bare(FaultKind::Oversized),
            "slow-body" => bare(FaultKind::SlowBody),
            "drop" => bare(FaultKind::Drop),
            "drop-after" => bare(FaultKind::DropAfter),
            other => Err(format!("unknown fault kind \"{other}\"")),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fault(s.trim()).map_err(|why| format!("bad fault \"{}\": {why} (grammar: {GRAMMAR})", s.trim()))
    }
}

fn parse_fault(spec: &str) -> Result<Fault, String> {
    let (rest, count) = match spec.rsplit_once('*') {
        None => (spec, None),
        Some((rest, n)) => match n.trim().parse::<u32>() {
            Ok(0) | Err(_) => return Err(format!("COUNT \"{}\" must be a whole number of at least 1", n.trim())),
            Ok(n) => (rest, Some(n)),
        },
    };
    let (route, kind) = match rest.split_once(':') {
        None => (None, rest),
        Some((route, kind)) => (Some(route.parse::<Route>()?), kind),
    };
    let (name, value) = match kind.split_once('=') {
        None => (kind, None),
        Some((name, value)) => (name, Some(value.trim())),
    };
    let kind = FaultKind::parse(&name.trim().to_ascii_lowercase(), value)?;
    Ok(Fault { route, kind, count })
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(route) = self.route {
            write!(f, "{route}:")?;
        }
        f.write_str(self.kind.name())?;
        if let Some(value) = self.kind.value() {
            write!(f, "={value}")?;
        }
        if let Some(count) = self.count {
            write!(f, "*{count}")?;
        }
        Ok(())
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What the faults in force do to one request: extra delay, and at most one changed answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub(crate) latency: Duration,
    pub(crate) action: Option<FaultKind>,
}

/// The faults in force, in the order they were added; each `count` is what remains.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveFaults(Vec<Fault>);

impl ActiveFaults {
    pub(crate) fn new(faults: Vec<Fault>) -> Self {
        ActiveFaults(faults)
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.0.clone()
    }

    pub(crate) fn add(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    /// How far the gateway's clock runs ahead: the most recently added `clock-skew`.
    pub(crate) fn clock_skew(&self) -> chrono::Duration {
        let secs = self.0.iter().rev().find_map(|f| match f.kind {
            FaultKind::ClockSkew(secs) => Some(secs),
            _ => None,
        });
        chrono::Duration::seconds(secs.unwrap_or(0))
    }

    /// The gateway's limit of calls in flight per PaaS ID: the most recently added `concurrency`.
    pub(crate) fn concurrency_limit(&self) -> Option<u64> {
        self.0.iter().rev().find_map(|f| match f.kind {
            FaultKind::Concurrency(n) => Some(n),
            _ => None,
        })
    }

    /// The plan for one request on `route`, spending one count of every fault that takes part.
    ///
    /// Latencies add up; of the faults that change the answer only the first one acts, and the
    /// others keep their counts for later requests, so `a*1` then `b*1` hit two requests in turn.
    pub(crate) fn take_for(&mut self, route: Route) -> FaultPlan {
        let mut plan = FaultPlan::default();
        for fault in &mut self.0 {
            if fault.route.is_some_and(|r| r != route) {
                continue;
            }
            let takes_part = match fault.kind {
                FaultKind::ClockSkew(_) | FaultKind::Concurrency(_) => false,
                FaultKind::Latency(ms) => {
                    plan.latency += Duration::from_millis(ms);
                    true
                }
                kind if plan.action.is_none() => {
                    plan.action = Some(kind);
                    true
                }
                _ => false,
            };
            if takes_part && let Some(count) = fault.count.as_mut() {
                *count = count.saturating_sub(1);
            }
        }
        self.0.retain(|f| f.count != Some(0));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(spec: &str, expected: Result<&str, &str>) {
        match (spec.parse::<Fault>(), expected) {
            (Ok(fault), Ok(display)) => {
                assert_eq!(fault.to_string(), display, "{spec}");
                assert_eq!(display.parse::<Fault>().as_ref(), Ok(&fault), "round trip of {display}");
            }
            (Err(message), Err(needle)) => assert!(message.contains(needle), "{spec}: {message}"),
            (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn the_grammar_parses_and_round_trips() {
        check("archive:status=500*1", Ok("archive:status=500*1"));
        check(" latency=250 ", Ok("latency=250"));
        check("Submit:LATENCY=10*3", Ok("submit:latency=10*3"));
        check("status=429", Ok("status=429"));
        check("license_auth:retry-after=7*2", Ok("license_auth:retry-after=7*2"));
        check("sig-reject*1", Ok("sig-reject*1"));
        check("concurrency=10", Ok("concurrency=10"));
        check("concurrency=0", Err("at least 1"));
        check("clock-skew=-600", Ok("clock-skew=-600"));
        check("submit:drop-after*1", Ok("submit:drop-after*1"));
        check("Drop-After", Ok("drop-after"));
        for kind in ["malformed", "truncated", "oversized", "slow-body", "drop", "drop-after"] {
            check(&format!("get_license:{kind}"), Ok(&format!("get_license:{kind}")));
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        check("archiv:drop", Err("unknown route \"archiv\""));
        check("explode", Err("unknown fault kind \"explode\""));
        check("status=418", Err("status=418 is not supported"));
        check("latency", Err("latency needs a value"));
        check("latency=fast", Err("MS must be a whole number"));
        check("drop=1", Err("drop takes no value"));
        check("drop-after=1", Err("drop-after takes no value"));
        check("drop-before", Err("unknown fault kind \"drop-before\""));
        check("drop*0", Err("at least 1"));
        check("drop*x", Err("COUNT"));
        check("", Err("grammar: [ROUTE:]KIND"));
    }

    #[test]
    fn counts_are_spent_and_only_the_first_answer_changing_fault_acts() {
        let parse = |s: &str| s.parse::<Fault>().unwrap();
        let mut faults = ActiveFaults::new(vec![
            parse("latency=5"),
            parse("archive:status=500*1"),
            parse("archive:drop*1"),
            parse("submit:malformed"),
            parse("clock-skew=60*1"),
        ]);
        let first = faults.take_for(Route::Archive);
        assert_eq!(first, FaultPlan { latency: Duration::from_millis(5), action: Some(FaultKind::Status(500)) });
        assert_eq!(faults.take_for(Route::Archive).action, Some(FaultKind::Drop));
        assert_eq!(faults.take_for(Route::Archive).action, None);
        assert_eq!(faults.take_for(Route::Submit).action, Some(FaultKind::Malformed));
        assert_eq!(faults.clock_skew(), chrono::Duration::seconds(60));
        let left: Vec<String> = faults.list().iter().map(Fault::to_string).collect();
        assert_eq!(left, ["latency=5", "submit:malformed", "clock-skew=60*1"]);
    }
}
