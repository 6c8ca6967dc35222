//! The TIF gateway in front of every contract route: signature checks, body limit, injected faults, `Date`.

use crate::elicense;
use crate::fault::{DEFAULT_RETRY_AFTER_SECS, FaultKind};
use crate::route::Route;
use crate::settings::{SANDBOX_PAASID, SANDBOX_TOKEN};
use crate::state::Sim;
use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, DATE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use yueshang_core::signing::{WINDOW_SECS, signature_matches};
use yueshang_core::wire::gateway::{
    AUTH_FAILED, AUTH_INCOMPLETE, BACKEND_TIMEOUT, FORBIDDEN, GatewayErrorBody, HEADER_NONCE, HEADER_PAASID,
    HEADER_SIGNATURE, HEADER_TIMESTAMP, RATE_LIMITED, TOO_LARGE,
};

/// The gateway's answers to `status=500|502|503` faults: shaped like its other errors, never 400001,
/// so a client cannot mistake a backend failure for a signature rejection.
const BACKEND_ERROR: (i64, &str) = (400500, "后端服务异常");
const BAD_GATEWAY: (i64, &str) = (400502, "后端服务不可用");
const UNAVAILABLE: (i64, &str) = (400503, "服务暂不可用，请稍后重试");
/// An answer bigger than a client should read: past 16 MiB, more than the largest license file.
pub const OVERSIZE_BYTES: usize = 17 * 1024 * 1024;
/// The pace of a `slow-body` answer.
const TRICKLE_PAUSE: Duration = Duration::from_millis(100);

/// Middleware of one contract route: counts it, admits or rejects it as the TIF gateway does,
/// applies the faults in force, and delays the answer by the configured latency.
pub(crate) async fn tif_gateway(
    State((sim, route)): State<(Arc<Sim>, Route)>,
    request: Request,
    next: Next,
) -> Response {
    sim.count(route);
    // In flight from here until the answer leaves, latency included (as the backend holds it);
    // a call refused for the concurrency limit gives its place back at once (it holds no backend).
    let mut in_flight = Some(sim.call_started());
    let response = match admit(&sim, route, request).await {
        Ok(_) if sim.over_concurrency_limit() => {
            in_flight = None;
            sim.count_rate_limited();
            tracing::info!(%route, "gateway: over the PaaS ID's concurrency limit");
            rate_limited(DEFAULT_RETRY_AFTER_SECS)
        }
        Ok(request) => forward(&sim, route, request, next).await,
        Err(rejection) => rejection,
    };
    pause(sim.latency()).await;
    drop(in_flight);
    response
}

/// Router-wide middleware: every answer, /sim and 404s included, carries the gateway's `Date`,
/// so a client can estimate its clock skew from any of them.
pub(crate) async fn stamp_date(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&http_date(sim.now())) {
        response.headers_mut().insert(DATE, value);
    }
    response
}

/// An IMF-fixdate, as HTTP's `Date` header wants it.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub(crate) fn gateway_error(status: StatusCode, error: (i64, &str)) -> Response {
    (status, Json(GatewayErrorBody::of(error))).into_response()
}

/// The gateway's checks, in its order: headers present, PaaS ID known, signature, body size.
async fn admit(sim: &Sim, route: Route, request: Request) -> Result<Request, Response> {
    let Some(tif) = TifHeaders::read(request.headers()) else {
        tracing::warn!(%route, "gateway: a TIF header is missing");
        return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, AUTH_INCOMPLETE));
    };
    let path_paasid = route.is_yst().then(|| paasid_in_path(request.uri().path()));
    if tif.paasid != SANDBOX_PAASID || path_paasid.is_some_and(|p| p != Some(tif.paasid.as_str())) {
        tracing::warn!(%route, paasid = %tif.paasid, "gateway: PaaS ID not subscribed to this service");
        return Err(gateway_error(StatusCode::FORBIDDEN, FORBIDDEN));
    }
    if let Err(reason) = verify(sim, &tif) {
        tracing::warn!(%route, reason, "gateway: authentication failed");
        return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, AUTH_FAILED));
    }
    let (parts, body) = request.into_parts();
    match Limited::new(body, sim.environment.body_limit()).collect().await {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(e) if e.is::<LengthLimitError>() => {
            tracing::warn!(%route, limit = sim.environment.body_limit(), "gateway: request body over the limit");
            Err(gateway_error(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE))
        }
        Err(e) => {
            tracing::warn!(%route, error = %e, "gateway: could not read the request body");
            Err(gateway_error(StatusCode::BAD_REQUEST, (400000, "请求包体读取失败")))
        }
    }
}

/// The four TIF headers of a request, each present and non-empty.
struct TifHeaders {
    paasid: String,
    timestamp: String,
    nonce: String,
    signature: String,
}

impl TifHeaders {
    fn read(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
        };
        Some(TifHeaders {
            paasid: get(HEADER_PAASID)?,
            timestamp: get(HEADER_TIMESTAMP)?,
            nonce: get(HEADER_NONCE)?,
            signature: get(HEADER_SIGNATURE)?,
        })
    }
}

/// `/ebus/{paasid}/…` → the PaaS ID the path addresses.
fn paasid_in_path(path: &str) -> Option<&str> {
    path.strip_prefix("/ebus/")?.split('/').next()
}

/// Signature, then the time window, then replay: a nonce is remembered only for a call that is otherwise good.
fn verify(sim: &Sim, tif: &TifHeaders) -> Result<(), &'static str> {
    let timestamp: i64 = tif.timestamp.parse().map_err(|_| "timestamp is not Unix seconds")?;
    if !signature_matches(timestamp, SANDBOX_TOKEN, &tif.nonce, &tif.signature) {
        return Err("signature does not match");
    }
    let now = sim.now();
    if (timestamp - now.timestamp()).abs() > WINDOW_SECS {
        return Err("timestamp outside the 180 s window");
    }
    if !sim.admit_nonce(&tif.nonce, now) {
        return Err("nonce replayed within the window");
    }
    Ok(())
}

/// Passes an admitted call to its backend, unless a fault answers instead.
async fn forward(sim: &Sim, route: Route, request: Request, next: Next) -> Response {
    let plan = sim.fault_plan(route);
    let response = match plan.action {
        None => next.run(request).await,
        Some(kind) => {
            tracing::info!(%route, fault = ?kind, "gateway: injecting a fault");
            inject(sim, route, kind, request, next).await
        }
    };
    pause(plan.latency).await;
    response
}

async fn inject(sim: &Sim, route: Route, kind: FaultKind, request: Request, next: Next) -> Response {
    match kind {
        FaultKind::SigReject => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, AUTH_FAILED),
        FaultKind::Status(429) => rate_limited(DEFAULT_RETRY_AFTER_SECS),
        FaultKind::RetryAfter(secs) => rate_limited(secs),
        FaultKind::Status(status) => backend_failure(status),
        FaultKind::Malformed => malformed(),
        FaultKind::Truncated => truncated(next.run(request).await).await,
        FaultKind::Oversized if route == Route::Archive => elicense::oversized_archive(sim, request.uri().query()),
        FaultKind::Oversized => padded(next.run(request).await).await,
        FaultKind::SlowBody => trickled(next.run(request).await).await,
        FaultKind::Drop => dropped(),
        FaultKind::DropAfter => {
            // The backend's answer is thrown away: what it did (a stored record) stays done.
            drop(next.run(request).await);
            dropped()
        }
        // Never chosen as an answer-changing fault; see `ActiveFaults::take_for`.
        FaultKind::Latency(_) | FaultKind::ClockSkew(_) | FaultKind::Concurrency(_) => next.run(request).await,
    }
}

async fn pause(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

fn rate_limited(retry_after_secs: u64) -> Response {
    let mut response = gateway_error(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

fn backend_failure(status: u16) -> Response {
    let (status, error) = match status {
        502 => (StatusCode::BAD_GATEWAY, BAD_GATEWAY),
        503 => (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
        504 => (StatusCode::GATEWAY_TIMEOUT, BACKEND_TIMEOUT),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, BACKEND_ERROR),
    };
    gateway_error(status, error)
}

/// What a misconfigured proxy in the path answers: a 200 with an HTML page.
fn malformed() -> Response {
    let page = "<html><head><title>系统维护</title></head><body><h1>系统维护中，请稍后再试</h1></body></html>";
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// The real answer, cut in half (a connection that closed early behind a proxy that said 200).
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.status = StatusCode::OK;
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
}

/// The real answer followed by 5 MiB of JSON whitespace: still valid JSON, but over the client's limit.
async fn padded(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let mut bytes = to_bytes(body, usize::MAX).await.unwrap_or_default().to_vec();
    bytes.resize(bytes.len() + OVERSIZE_BYTES, b' ');
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// The real answer, headers at once and then one byte every 100 ms.
async fn trickled(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    let drip = futures::stream::unfold((bytes, 0usize), |(bytes, at)| async move {
        if at >= bytes.len() {
            return None;
        }
        // The first byte leaves with the headers, so the client sees the answer start at once.
        if at > 0 {
            tokio::time::sleep(TRICKLE_PAUSE).await;
        }
        Some((Ok::<Bytes, Infallible>(bytes.slice(at..at + 1)), (bytes, at + 1)))
    });
    Response::from_parts(parts, Body::from_stream(drip))
}

/// A body that fails before its first byte: hyper then aborts the connection without an answer.
fn dropped() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(failing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_imf_fixdates() {
        let at = DateTime::from_timestamp(1_795_831_200, 0).unwrap();
        assert_eq!(http_date(at), "Sat, 28 Nov 2026 02:00:00 GMT");
    }

    #[test]
    fn the_paasid_is_read_from_the_path() {
        assert_eq!(paasid_in_path("/ebus/yst_sandbox/ysm/code2auth"), Some("yst_sandbox"));
        assert_eq!(paasid_in_path("/other/ysm"), None);
    }
}
