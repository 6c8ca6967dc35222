//! Steering the sandbox from outside the contract: issuing codes, faults, expiry, and what it received.
//!
//! `SimControl` is the in-process handle (tests, the app); the `/sim` routes expose the same to the
//! CLI and the demo page over HTTP, without a signature.

use crate::fault::Fault;
use crate::qr::qr_png;
use crate::samples::{self, Consent};
use crate::state::{IssuedCode, Sim, SimError, SubmitRecord};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A cheap, cloneable handle on a running sandbox's state.
#[derive(Clone)]
pub struct SimControl {
    sim: Arc<Sim>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl").field("faults", &self.sim.faults()).finish_non_exhaustive()
    }
}

impl SimControl {
    pub(crate) fn new(sim: Arc<Sim>) -> Self {
        SimControl { sim }
    }

    /// A fresh 粤商码 for a sample enterprise, valid for `valid_for` (default 120 s; zero: already expired).
    pub fn issue_code(&self, uscc: &str, valid_for: Option<Duration>) -> Result<IssuedCode, SimError> {
        self.sim.issue_code(uscc, valid_for)
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.sim.faults()
    }

    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.sim.set_faults(faults);
    }

    pub fn add_fault(&self, fault: Fault) {
        self.sim.add_fault(fault);
    }

    pub fn clear_faults(&self) {
        self.sim.set_faults(Vec::new());
    }

    /// Delay added to every contract route's answer (not to `/sim`).
    pub fn set_latency(&self, latency: Duration) {
        self.sim.set_latency(latency);
    }

    /// The handling records received, one per `biz_num`, in arrival order.
    pub fn records(&self) -> Vec<SubmitRecord> {
        self.sim.records()
    }

    /// Requests seen per contract route name, rejected ones included.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.sim.stats()
    }

    /// Every license auth code issued so far answers `AUTH_CODE_EXPIRED` from now on.
    pub fn expire_authorizations(&self) {
        self.sim.expire_authorizations();
    }

    /// The issuer revokes a sample license: from now on it reads as ABOLISHED and has no
    /// annotated copy. `false` if no sample license has this code.
    pub fn revoke_license(&self, license_code: &str, reason: &str) -> bool {
        self.sim.revoke_license(license_code, reason)
    }

    /// Every access token issued so far answers `INVALID_ACCESS_TOKEN` from now on.
    pub fn expire_tokens(&self) {
        self.sim.expire_tokens();
    }
}

/// The `/sim` routes.
pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/enterprises", get(list_enterprises))
        .route("/sim/codes", post(issue_code))
        .route("/sim/qr.png", get(qr_image))
        .route("/sim/records", get(list_records))
        .route("/sim/stats", get(show_stats))
        .route("/sim/faults", get(show_faults).put(replace_faults).delete(clear_faults))
        .route("/sim/authorizations/expire", post(expire_authorizations))
        .route("/sim/tokens/expire", post(expire_tokens))
        .route("/sim/licenses/revoke", post(revoke_license))
        .route(crate::portal::PORTAL_PATH, get(crate::portal::page))
}

fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// A sample enterprise as the demo page lists it.
#[derive(Debug, Serialize)]
struct EnterpriseListing {
    name: String,
    uscc: String,
    note: String,
    license_count: usize,
    /// `granted`, `declined` or `nothing_ticked`: what a code exchange will find.
    consent: &'static str,
}

async fn list_enterprises() -> Json<Vec<EnterpriseListing>> {
    let listing = samples::enterprises()
        .into_iter()
        .map(|e| EnterpriseListing {
            license_count: e.licenses.len(),
            consent: match e.consent {
                Consent::Granted => "granted",
                Consent::Declined => "declined",
                Consent::NothingTicked => "nothing_ticked",
            },
            name: e.name,
            uscc: e.uscc,
            note: e.note,
        })
        .collect();
    Json(listing)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeOrder {
    uscc: String,
    valid_for_secs: Option<u64>,
}

async fn issue_code(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let order: CodeOrder = match serde_json::from_slice(&body) {
        Ok(order) => order,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, format!("expected {{\"uscc\", \"valid_for_secs\"?}}: {e}")),
    };
    match sim.issue_code(&order.uscc, order.valid_for_secs.map(Duration::from_secs)) {
        Ok(issued) => Json(issued).into_response(),
        Err(e @ SimError::UnknownEnterprise(_)) => refusal(StatusCode::NOT_FOUND, e.to_string()),
    }
}

async fn qr_image(RawQuery(query): RawQuery) -> Response {
    let payload = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "payload")
        .map(|(_, value)| value.into_owned());
    let Some(payload) = payload.filter(|p| !p.is_empty()) else {
        return refusal(StatusCode::BAD_REQUEST, "missing query parameter payload");
    };
    let png = qr_png(&payload);
    if png.is_empty() {
        return refusal(StatusCode::BAD_REQUEST, "payload too long for a QR code");
    }
    ([(CONTENT_TYPE, "image/png")], png).into_response()
}

async fn list_records(State(sim): State<Arc<Sim>>) -> Json<Vec<SubmitRecord>> {
    Json(sim.records())
}

async fn show_stats(State(sim): State<Arc<Sim>>) -> Json<BTreeMap<String, u64>> {
    Json(sim.stats())
}

async fn show_faults(State(sim): State<Arc<Sim>>) -> Json<Vec<Fault>> {
    Json(sim.faults())
}

/// Replaces the faults in force with `["archive:status=500*1", …]`; one bad spec refuses them all.
async fn replace_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let specs: Vec<String> = match serde_json::from_slice(&body) {
        Ok(specs) => specs,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, format!("expected a JSON array of fault specs: {e}")),
    };
    match specs.iter().map(|s| s.parse::<Fault>()).collect::<Result<Vec<_>, _>>() {
        Ok(faults) => {
            sim.set_faults(faults);
            Json(sim.faults()).into_response()
        }
        Err(why) => refusal(StatusCode::BAD_REQUEST, why),
    }
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.set_faults(Vec::new());
    StatusCode::NO_CONTENT
}

async fn expire_authorizations(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.expire_authorizations();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revocation {
    license_code: String,
    reason: Option<String>,
}

/// `POST /sim/licenses/revoke {"license_code", "reason"?}`: the issuer revokes a license after a scan.
async fn revoke_license(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let order: Revocation = match serde_json::from_slice(&body) {
        Ok(order) => order,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, format!("expected {{\"license_code\", \"reason\"?}}: {e}")),
    };
    let reason = order.reason.unwrap_or_else(|| "发证机关已注销".to_owned());
    if sim.revoke_license(&order.license_code, &reason) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        refusal(StatusCode::NOT_FOUND, format!("沙箱中没有证照 {}", order.license_code))
    }
}

async fn expire_tokens(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.expire_tokens();
    StatusCode::NO_CONTENT
}
