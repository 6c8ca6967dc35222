//! The gateway client: signed calls to 粤商通 and the e-license service, with timeouts, retries,
//! size limits, clock-skew detection and the e-license login kept behind the scenes.

pub mod convert;
mod health;
mod retry;
mod skew;
mod window;

pub use health::{
    DOWN_AFTER, FAILURE_WINDOW, GatewayHealth, HEALTH_TICK, HealthLevel, IDLE_PROBE_AFTER, PROBE_TIMEOUT,
    SKEW_WARN_SECS, counts_against_health, level_of,
};

use crate::clock::{Clock, NonceSource};
use crate::config::{GatewaySettings, Settings, Tuning};
use crate::contract::{Contract, Route};
use crate::domain::{Authorization, BizNum, Counter, Enterprise, EnterpriseCode, License, Operator, ServiceItem, Uscc};
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;
use crate::signing::{self, Signer};
use crate::wire::elicense::{self as el, LicenseEnvelope};
use crate::wire::gateway::{self as gw, GatewayErrorBody};
use crate::wire::yst::{self, YstEnvelope};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use retry::{Failure, Next};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use skew::SkewEstimate;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// The annotated copy of a license as downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseFile {
    pub file_name: String,
    pub mime: &'static str,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

impl LicenseFile {
    pub fn new(file_name: String, bytes: Vec<u8>) -> Self {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        LicenseFile { mime: sniff_mime(&file_name, &bytes), file_name, sha256, bytes }
    }
}

/// The file type from its first bytes (what it is), falling back to its name (what it claims).
fn sniff_mime(file_name: &str, bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF") {
        "application/pdf"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if file_name.to_ascii_lowercase().ends_with(".ofd") {
        "application/ofd"
    } else {
        "application/octet-stream"
    }
}

/// The handling record (申办) as submitted; `biz_num` makes a retry safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlingRecord {
    pub biz_num: BizNum,
    pub auth_id: String,
    pub item: ServiceItem,
    pub applicant_name: String,
    pub applicant_uscc: Uscc,
    pub used_license_codes: Vec<String>,
    /// `RECEIVED` | `ACCEPTED` | `DONE` | `REJECTED`.
    pub status: &'static str,
    /// Why the case was refused; required for `REJECTED`.
    pub reason: Option<String>,
    pub submitted_at: DateTime<chrono::FixedOffset>,
}

/// The gateway's receipt of a handling record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitReceipt {
    pub record_id: String,
    pub duplicate: bool,
}

/// One page of a holder's licenses, each with the auth code to fetch its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderPage {
    pub licenses: Vec<(License, String)>,
    pub total_count: u64,
}

/// A signed, size-limited call's answer body, or why it failed.
struct Attempt {
    error: Error,
    failure: Failure,
    /// The gateway answered (a status, a body), as opposed to no answer at all: for the health.
    answered: bool,
}

/// The e-license access token and when to stop trusting it.
#[derive(Clone)]
struct AccessToken {
    value: Secret,
    expires_at: DateTime<Utc>,
}

pub struct GatewayClient {
    http: reqwest::Client,
    gateway: GatewaySettings,
    contract: Contract,
    tuning: Tuning,
    signer: Signer,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceSource>,
    skew: SkewEstimate,
    token: tokio::sync::Mutex<Option<AccessToken>>,
    health: health::HealthMonitor,
    /// How many calls may be in flight at once (AIMD): where the counter's concurrency is decided.
    window: window::CallWindow,
}

impl std::fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayClient").field("gateway", &self.gateway).finish_non_exhaustive()
    }
}

impl GatewayClient {
    pub fn new(settings: &Settings, clock: Arc<dyn Clock>, nonces: Arc<dyn NonceSource>) -> Result<Self> {
        let http = http_client_builder(&settings.gateway)?
            .build()
            .map_err(|e| Error::config("gateway", format!("无法初始化 HTTP 客户端（{e}）")))?;
        let g = &settings.gateway;
        Ok(GatewayClient {
            http,
            signer: Signer::new(&g.paasid, g.token.clone(), clock.clone(), nonces.clone()),
            gateway: g.clone(),
            contract: settings.contract.clone(),
            tuning: settings.tuning,
            clock,
            nonces,
            skew: SkewEstimate::new(),
            token: tokio::sync::Mutex::new(None),
            health: health::HealthMonitor::new(),
            window: window::CallWindow::new(settings.tuning.max_in_flight),
        })
    }

    /// The gateway's clock minus ours, in seconds, as last observed; `None` before any answer.
    pub fn clock_skew_secs(&self) -> Option<i64> {
        self.skew.get()
    }

    /// Exchanges a scanned code for the enterprise and its authorization (contract §4.1). Never retried:
    /// the code is single-use, and a second try after a lost answer would only report "already used".
    pub async fn exchange_code(
        &self,
        code: &EnterpriseCode,
        item: &ServiceItem,
        biz_num: &BizNum,
        operator: &Operator,
        counter: &Counter,
    ) -> Result<(Enterprise, Authorization)> {
        let body = yst::Code2AuthRequest {
            ysm_code: code.as_str().to_owned(),
            service_item_code: item.code.clone(),
            service_item_name: item.name.clone(),
            biz_num: biz_num.as_str().to_owned(),
            hall: yst::HallRef { code: counter.hall_code.clone(), name: counter.hall_name.clone() },
            operator: operator_ref(operator),
            terminal: yst::TerminalRef { device_id: counter.device_id() },
        };
        let data: yst::Code2AuthData =
            self.yst_call(Route::Code2Auth, Route::Code2Auth.path(&self.contract), &body).await?;
        convert::exchange(&data)
    }

    /// Submits the handling record (contract §4.2); the same biz_num again is answered as a duplicate.
    pub async fn submit_record(&self, record: &HandlingRecord, operator: &Operator) -> Result<SubmitReceipt> {
        let body = yst::SubmitRequest {
            biz_num: record.biz_num.as_str().to_owned(),
            auth_id: record.auth_id.clone(),
            service_item_code: record.item.code.clone(),
            service_item_name: record.item.name.clone(),
            applicant: yst::ApplicantRef {
                name: record.applicant_name.clone(),
                uscc: record.applicant_uscc.as_str().to_owned(),
            },
            operator: operator_ref(operator),
            used_license_codes: record.used_license_codes.clone(),
            status: record.status.to_owned(),
            reason: record.reason.clone(),
            submitted_at: record.submitted_at.to_rfc3339(),
        };
        let data: yst::SubmitData = self.yst_call(Route::Submit, Route::Submit.path(&self.contract), &body).await?;
        Ok(SubmitReceipt { record_id: data.record_id, duplicate: data.duplicate })
    }

    /// Logs in to the e-license service unless a live token is at hand.
    ///
    /// The scan flow calls this alongside the code exchange so the login is off the critical path.
    pub async fn ensure_login(&self) -> Result<()> {
        self.access_token().await.map(|_| ())
    }

    /// One license in full (`get_license`).
    pub async fn get_license(&self, auth_code: &str) -> Result<License> {
        let query = [("auth_code", auth_code)];
        let answer: LicenseAnswer<el::WireLicense> =
            self.license_call(Route::GetLicense, Route::GetLicense.path(&self.contract), &query, None).await?;
        convert::license(&answer.data)
    }

    /// The annotated copy (加注件) stamped with `use_cause`, as PDF where the issuer has one.
    pub async fn archive(&self, auth_code: &str, use_cause: &str) -> Result<LicenseFile> {
        let query = [("auth_code", auth_code), ("file_type", "pdf"), ("use_cause", use_cause)];
        let answer: LicenseAnswer<el::ArchiveData> =
            self.license_call(Route::Archive, Route::Archive.path(&self.contract), &query, None).await?;
        let data = answer.data;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.file_data.trim())
            .map_err(|e| Error::bad_response(format!("archive file_data is not base64: {e}")))?;
        if bytes.is_empty() {
            return Err(Error::bad_response("archive file_data is empty"));
        }
        Ok(LicenseFile::new(data.file_name, bytes))
    }

    /// Licenses of a holder by USCC (依职能用证, `license/auth`): the fallback when the
    /// enterprise cannot show its code. One page; `page_index` starts at 1, `page_size` ≤ 150.
    pub async fn licenses_by_holder(
        &self,
        holder: &Uscc,
        item: &ServiceItem,
        biz_num: &BizNum,
        operator: &Operator,
        page_index: u32,
        page_size: u32,
    ) -> Result<HolderPage> {
        let body = el::LicenseAuthRequest {
            identity_number: holder.as_str().to_owned(),
            service_item_code: item.code.clone(),
            service_item_name: item.name.clone(),
            biz_num: biz_num.as_str().to_owned(),
            page_index: page_index.max(1),
            page_size: page_size.clamp(1, 150),
            operator: el::LicenseOperator {
                account: operator.account.clone(),
                name: operator.name.clone(),
                role: operator.role.clone(),
                division_code: operator.division_code.clone(),
                service_org: operator.service_org.clone(),
                service_org_code: operator.service_org_code.clone(),
                ..el::LicenseOperator::default()
            },
        };
        let answer: LicenseAnswer<Vec<el::WireLicense>> = self
            .license_call(Route::LicenseAuth, Route::LicenseAuth.path(&self.contract), &[], Some(json_body(&body)?))
            .await?;
        if answer.auth_codes.len() != answer.data.len() {
            return Err(Error::bad_response(format!(
                "license_auth: {} licenses but {} auth_codes",
                answer.data.len(),
                answer.auth_codes.len()
            )));
        }
        let licenses = answer
            .data
            .iter()
            .zip(answer.auth_codes)
            .map(|(w, code)| Ok((convert::license(w)?, code)))
            .collect::<Result<Vec<_>>>()?;
        Ok(HolderPage { licenses, total_count: answer.total_count })
    }

    async fn yst_call<B: Serialize, T: DeserializeOwned>(&self, route: Route, path: &str, body: &B) -> Result<T> {
        let url = join(&self.gateway.yst_base, path);
        let bytes = self.send(route, reqwest::Method::POST, url, Some(json_body(body)?)).await?;
        let envelope: YstEnvelope<T> = parse_json(route, &bytes)?;
        if envelope.errcode != 0 {
            let code = self.contract.errcodes.meaning(envelope.errcode);
            return Err(Error::new(code).detail(format!(
                "{}: errcode {} {}",
                route.as_str(),
                envelope.errcode,
                envelope.errmsg
            )));
        }
        envelope.data.ok_or_else(|| Error::bad_response(format!("{}: success without data", route.as_str())))
    }

    /// A call to the e-license service with its token; on `INVALID_ACCESS_TOKEN` it logs in
    /// again once and repeats the call once.
    async fn license_call<T: DeserializeOwned>(
        &self,
        route: Route,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<LicenseAnswer<T>> {
        let token = self.access_token().await?;
        match self.license_call_with(route, path, query, body.clone(), &token).await {
            Err(LicenseFailure::TokenRefused(_)) => {
                self.forget_token(&token).await;
                let fresh = self.access_token().await?;
                self.license_call_with(route, path, query, body, &fresh).await.map_err(LicenseFailure::into_error)
            }
            other => other.map_err(LicenseFailure::into_error),
        }
    }

    async fn license_call_with<T: DeserializeOwned>(
        &self,
        route: Route,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        token: &Secret,
    ) -> std::result::Result<LicenseAnswer<T>, LicenseFailure> {
        let mut url = join(&self.gateway.license_base, path);
        let request_id = self.nonces.nonce(32);
        url.query_pairs_mut()
            .append_pair("access_token", token.expose())
            .append_pair("request_id", &request_id)
            .append_pair("system_id", &self.gateway.system_id)
            .append_pair("vender_id", &self.gateway.vender_id)
            .append_pair("department_id", &self.gateway.department_id)
            .extend_pairs(query);
        let method = if body.is_some() { reqwest::Method::POST } else { reqwest::Method::GET };
        let bytes = self.send(route, method, url, body).await?;
        let envelope: LicenseEnvelope<T> = parse_json(route, &bytes)?;
        license_data(route, envelope, &request_id)
    }

    async fn access_token(&self) -> Result<Secret> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.expires_at > self.clock.now()) {
            return Ok(t.value.clone());
        }
        let token = self.login().await?;
        let value = token.value.clone();
        *slot = Some(token);
        Ok(value)
    }

    /// Drops the token that was refused, unless another task already replaced it.
    async fn forget_token(&self, refused: &Secret) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| &t.value == refused) {
            *slot = None;
        }
    }

    async fn login(&self) -> Result<AccessToken> {
        let url = join(&self.gateway.license_base, Route::Login.path(&self.contract));
        let body = el::LoginRequest {
            account: self.gateway.account.clone(),
            password: self.gateway.password.expose().to_owned(),
            app_key: self.gateway.app_key.clone(),
            app_secret: self.gateway.app_secret.expose().to_owned(),
        };
        let bytes = self.send(Route::Login, reqwest::Method::POST, url, Some(json_body(&body)?)).await?;
        let envelope: LicenseEnvelope<el::LoginData> = parse_json(Route::Login, &bytes)?;
        let data = license_data(Route::Login, envelope, "").map_err(LicenseFailure::into_error)?.data;
        if data.access_token.is_empty() {
            return Err(Error::bad_response("login: empty access_token"));
        }
        // Renew a minute early so a token never expires between the check and the call.
        let lifetime = data.expires_in.clamp(60, 7 * 86_400) as i64 - 60;
        Ok(AccessToken {
            value: Secret::new(data.access_token),
            expires_at: self.clock.now() + chrono::Duration::seconds(lifetime),
        })
    }

    /// Sends a signed call, retrying per the retry rule, and returns the body of a 2xx answer.
    async fn send(&self, route: Route, method: reqwest::Method, url: Url, body: Option<Vec<u8>>) -> Result<Vec<u8>> {
        let limit = self.gateway.environment.body_limit();
        if body.as_ref().is_some_and(|b| b.len() > limit) {
            return Err(Error::with_fact(
                ErrorCode::BodyTooLarge,
                format!("请求超过网关上限 {} MiB。", limit / (1024 * 1024)),
            ));
        }
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let answer = {
                let place = self.window.acquire().await;
                let answer = self.attempt(route, method.clone(), url.clone(), body.clone()).await;
                let signal = match &answer {
                    Ok(_) => window::Signal::Answered,
                    Err(a) => window_signal(a.failure),
                };
                self.window.learn(&place, signal);
                answer
            };
            match answer {
                Ok(bytes) => {
                    self.record_call(health::answer_outcome(&bytes));
                    return Ok(bytes);
                }
                Err(Attempt { error, failure, answered }) => {
                    match retry::next_step(route.idempotent(), failure, attempt, started.elapsed(), &self.tuning) {
                        Next::RetryAfter(wait) => {
                            tracing::info!(route = route.as_str(), attempt, code = %error.code, ?wait, "retrying");
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                        }
                        Next::GiveUp => {
                            tracing::warn!(route = route.as_str(), attempt, code = %error.code, detail = ?error.detail, "call failed");
                            self.record_call(health::failure_outcome(error.code, answered));
                            return Err(error);
                        }
                    }
                }
            }
        }
    }

    /// How many calls may be in flight now (the AIMD window; the benchmark prints it).
    pub fn calls_in_flight_limit(&self) -> usize {
        self.window.limit()
    }

    async fn attempt(
        &self,
        route: Route,
        method: reqwest::Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> std::result::Result<Vec<u8>, Attempt> {
        let headers = self.signer.headers();
        let mut request = self
            .http
            .request(method, url)
            .timeout(self.tuning.request_timeout)
            .header(gw::HEADER_PAASID, &headers.paasid)
            .header(gw::HEADER_TIMESTAMP, headers.timestamp.to_string())
            .header(gw::HEADER_NONCE, &headers.nonce)
            .header(gw::HEADER_SIGNATURE, &headers.signature);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8").body(body);
        }
        let response = request.send().await.map_err(|e| transport_failure(route, &e))?;
        let date = response.headers().get(reqwest::header::DATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.skew.observe(date.as_deref(), self.clock.now());
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read_limited(route, response, self.gateway.environment.response_limit()).await?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(self.gateway_failure(route, status, retry_after, &bytes))
    }

    /// Reads a non-2xx answer: the gateway's own rejections first, then plain HTTP statuses.
    fn gateway_failure(
        &self,
        route: Route,
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Attempt {
        let gateway_body: Option<GatewayErrorBody> = serde_json::from_slice(body).ok();
        let detail = format!(
            "{}: HTTP {} {}",
            route.as_str(),
            status.as_u16(),
            gateway_body.as_ref().map(|b| format!("{} {}", b.code, b.msg)).unwrap_or_default()
        );
        let final_error =
            |error: Error| Attempt { error: error.detail(detail.clone()), failure: Failure::Final, answered: true };
        match (status.as_u16(), gateway_body.as_ref().map(|b| b.code)) {
            (_, Some(400001)) => final_error(self.signature_rejection(gateway_body.as_ref())),
            (403, _) | (_, Some(400003)) => final_error(Error::new(ErrorCode::GatewayForbidden)),
            (413, _) | (_, Some(400013)) => final_error(Error::new(ErrorCode::BodyTooLarge)),
            (429, _) => Attempt {
                error: Error::new(ErrorCode::RateLimited).detail(detail),
                failure: Failure::RateLimited(retry_after),
                answered: true,
            },
            (504, _) => Attempt {
                error: Error::new(ErrorCode::GatewayTimeout).detail(detail),
                failure: Failure::Timeout,
                answered: true,
            },
            (404, _) => final_error(Error::with_fact(ErrorCode::GatewayUnavailable, "网关地址不存在（HTTP 404）。")),
            (500..=599, _) => Attempt {
                error: Error::new(ErrorCode::GatewayUnavailable).detail(detail),
                failure: Failure::Unavailable,
                answered: true,
            },
            _ => final_error(Error::bad_response(String::new())),
        }
    }

    /// A signature rejection is a clock problem when our clock is off by more than the window;
    /// otherwise the credentials (or a missing header, which is our bug) are to blame.
    fn signature_rejection(&self, body: Option<&GatewayErrorBody>) -> Error {
        if let Some(skew) = self.skew.get().filter(|s| s.abs() > signing::WINDOW_SECS) {
            let direction = if skew > 0 { "慢" } else { "快" };
            return Error::with_fact(
                ErrorCode::ClockSkew,
                format!("本机时间比网关{direction}了约 {} 秒（允许 {} 秒以内）。", skew.abs(), signing::WINDOW_SECS),
            );
        }
        if body.is_some_and(|b| b.msg == gw::AUTH_INCOMPLETE.1) {
            return Error::with_fact(ErrorCode::GatewayAuthRejected, "网关说鉴权参数不完整。");
        }
        Error::new(ErrorCode::GatewayAuthRejected)
    }
}

/// How long a connection to the gateway (or its proxy) may take before the call gives up.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client of gateway calls, not yet built: the built-in roots plus `[gateway] ca_file`
/// (the government extranet's own CA), through `[gateway] proxy` when one is set (else the
/// system's proxy variables, as before). The doctor builds its probes from the same builder,
/// so what it checks is what a scan meets.
pub(crate) fn http_client_builder(gateway: &GatewaySettings) -> Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_max_idle_per_host(32)
        .user_agent(concat!("yueshang-counter/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &gateway.ca_file {
        for certificate in extra_roots(path, "gateway.ca_file")? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if let Some(proxy) = &gateway.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|e| Error::config("gateway.proxy", format!("无法使用（{e}），应形如 http://10.0.0.1:3128")))?;
        builder = builder.proxy(proxy);
    }
    Ok(builder)
}

/// The CA certificates of a `ca_file` key (`key` names it in errors); a file without one is a configuration error, not
/// a silent "trust nothing more".
pub(crate) fn extra_roots(path: &std::path::Path, key: &str) -> Result<Vec<reqwest::Certificate>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::config(key, format!("指向的证书文件 {} 无法读取（{e}）", path.display())))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|e| Error::config(key, format!("指向的 {} 不是 PEM 证书文件（{e}）", path.display())))?;
    if certificates.is_empty() {
        return Err(Error::config(
            key,
            format!("指向的 {} 中没有证书（应为 -----BEGIN CERTIFICATE----- 开头的 PEM 文件）", path.display()),
        ));
    }
    Ok(certificates)
}

/// The operator as the 粤商通 calls name them (also how the outbox keeps who queued a record).
pub(crate) fn operator_ref(operator: &Operator) -> yst::OperatorRef {
    yst::OperatorRef {
        account: operator.account.clone(),
        name: operator.name.clone(),
        role: operator.role.clone(),
        division_code: operator.division_code.clone(),
        service_org: operator.service_org.clone(),
        service_org_code: operator.service_org_code.clone(),
    }
}

/// Appends a contract path to a base URL, keeping the base's own path (`…/ebus/yst_x` + `/ysm/code2auth`).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path.trim_start_matches('/'));
    url.set_path(&joined);
    url.set_query(None);
    url
}

fn json_body<B: Serialize>(body: &B) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::new(ErrorCode::RequestRejected).detail(e.to_string()))
}

fn parse_json<T: DeserializeOwned>(route: Route, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned();
        Error::bad_response(format!("{}: unreadable body ({e}); starts {head:?}", route.as_str()))
    })
}

/// What a failed attempt tells the call window: a gateway that is overloaded (429, 5xx, no answer
/// in time) gets fewer calls at once; any other answer shows it is there and coping.
fn window_signal(failure: Failure) -> window::Signal {
    match failure {
        Failure::RateLimited(retry_after) => window::Signal::Overloaded { retry_after },
        Failure::Timeout | Failure::Unavailable => window::Signal::Overloaded { retry_after: None },
        Failure::Final => window::Signal::Answered,
    }
}

/// A successful e-license answer: its data and, for `license/auth`, the auth codes by index.
struct LicenseAnswer<T> {
    data: T,
    auth_codes: Vec<String>,
    total_count: u64,
}

/// Why an e-license call failed: a refused token (log in again, once) or anything else.
enum LicenseFailure {
    TokenRefused(Error),
    Other(Error),
}

impl LicenseFailure {
    fn into_error(self) -> Error {
        match self {
            LicenseFailure::TokenRefused(e) | LicenseFailure::Other(e) => e,
        }
    }
}

impl From<Error> for LicenseFailure {
    fn from(e: Error) -> Self {
        LicenseFailure::Other(e)
    }
}

/// Unwraps the `ack_code` envelope, turning the service's error codes into ours.
fn license_data<T>(
    route: Route,
    envelope: LicenseEnvelope<T>,
    request_id: &str,
) -> std::result::Result<LicenseAnswer<T>, LicenseFailure> {
    if envelope.ack_code != el::ACK_SUCCESS {
        let first = envelope.errors.first();
        let code = first.map(|e| e.code.as_str()).unwrap_or("");
        let detail = format!("{}: {} {}", route.as_str(), code, first.map(|e| e.message.as_str()).unwrap_or(""));
        let meaning = match code {
            // Seen again after a fresh login, it means the login itself is not accepted.
            el::INVALID_ACCESS_TOKEN => {
                return Err(LicenseFailure::TokenRefused(Error::new(ErrorCode::LicenseLoginRejected).detail(detail)));
            }
            el::AUTH_CODE_EXPIRED => ErrorCode::AuthCodeExpired,
            el::AUTH_CODE_NOT_FOUND => ErrorCode::AuthCodeNotFound,
            el::LICENSE_ABOLISHED => ErrorCode::LicenseRevoked,
            el::NO_AUTHORIZATION => ErrorCode::LicenseNotAuthorized,
            el::PARAM_INVALID => ErrorCode::RequestRejected,
            el::LOGIN_FAILED => ErrorCode::LicenseLoginRejected,
            _ if route == Route::Login => ErrorCode::LicenseLoginRejected,
            _ => ErrorCode::BadResponse,
        };
        return Err(LicenseFailure::Other(Error::new(meaning).detail(detail)));
    }
    if !request_id.is_empty() && !envelope.correlation_id.is_empty() && envelope.correlation_id != request_id {
        return Err(Error::bad_response(format!("{}: answer belongs to another request", route.as_str())).into());
    }
    let data = envelope.data.ok_or_else(|| Error::bad_response(format!("{}: success without data", route.as_str())))?;
    Ok(LicenseAnswer { data, auth_codes: envelope.auth_codes.unwrap_or_default(), total_count: envelope.total_count })
}

fn transport_failure(route: Route, err: &reqwest::Error) -> Attempt {
    // reqwest's Display can include the URL and with it the access token: log only the kind.
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "body"
    } else {
        "request"
    };
    let detail = format!("{}: transport {kind}", route.as_str());
    if err.is_timeout() {
        Attempt {
            error: Error::new(ErrorCode::GatewayTimeout).detail(detail),
            failure: Failure::Timeout,
            answered: false,
        }
    } else {
        Attempt {
            error: Error::new(ErrorCode::GatewayUnavailable).detail(detail),
            failure: Failure::Unavailable,
            answered: false,
        }
    }
}

/// Reads a body up to `limit` bytes, refusing early on a larger `Content-Length` and stopping
/// as soon as the stream passes the limit, so an oversized answer is never held in memory.
async fn read_limited(
    route: Route,
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, Attempt> {
    let too_large = || Attempt {
        error: Error::with_fact(
            ErrorCode::BodyTooLarge,
            format!("网关返回的数据超过 {} MiB 上限。", limit / (1024 * 1024)),
        )
        .detail(format!("{}: response over {limit} bytes", route.as_str())),
        failure: Failure::Final,
        answered: true,
    };
    if response.content_length().is_some_and(|n| n as usize > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_failure(route, &e))? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_paths_join_onto_base_paths() {
        let base = Url::parse("https://gw.example/ebus/yst_counter").unwrap();
        assert_eq!(join(&base, "/ysm/code2auth").as_str(), "https://gw.example/ebus/yst_counter/ysm/code2auth");
        let base = Url::parse("http://127.0.0.1:9/ebus/dzzz_convergence-service/").unwrap();
        assert_eq!(
            join(&base, "license/archive").as_str(),
            "http://127.0.0.1:9/ebus/dzzz_convergence-service/license/archive"
        );
    }

    #[test]
    fn file_types_are_sniffed_from_content() {
        assert_eq!(sniff_mime("x.jpg", b"%PDF-1.7"), "application/pdf");
        assert_eq!(sniff_mime("x.pdf", &[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(sniff_mime("x.OFD", b"PK\x03\x04"), "application/ofd");
        assert_eq!(sniff_mime("x.bin", b"??"), "application/octet-stream");
    }
}
