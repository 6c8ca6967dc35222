//! The e-license use service behind the gateway (contract §5): login, query by holder, license, annotated copy.

use crate::documents::{self, DocumentError, Stamp};
use crate::gateway::OVERSIZE_BYTES;
use crate::samples::{self, FileKind};
use crate::settings::{
    SANDBOX_ACCOUNT, SANDBOX_APP_KEY, SANDBOX_APP_SECRET, SANDBOX_DEPARTMENT_ID, SANDBOX_PASSWORD, SANDBOX_SYSTEM_ID,
    SANDBOX_VENDER_ID,
};
use crate::state::{AUTHORIZATION_LIFETIME, Grant, GrantLapse, Sim, TOKEN_LIFETIME_SECS, chrono_duration, fresh_id};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use yueshang_core::domain::Uscc;
use yueshang_core::wire::elicense::{
    ACK_FAILURE, ACK_SUCCESS, AUTH_CODE_EXPIRED, AUTH_CODE_NOT_FOUND, ArchiveData, INVALID_ACCESS_TOKEN,
    LICENSE_ABOLISHED, LOGIN_FAILED, LicenseAuthRequest, LicenseEnvelope, LicenseError, LoginData, LoginRequest,
    NO_AUTHORIZATION, PARAM_INVALID, WireLicense,
};

/// The page size the service allows at most (`license/auth`).
pub const MAX_PAGE_SIZE: u32 = 150;
/// The error code of an annotated copy the sandbox could not make; not a contract code, the sandbox's own.
pub const DOCUMENT_FAILED: &str = "SANDBOX_DOCUMENT_FAILED";
/// The status the service marks a revoked license with.
const ABOLISHED: &str = "ABOLISHED";
/// The identifiers every call but login carries as query parameters.
const CALLER_PARAMS: [&str; 5] = ["access_token", "request_id", "system_id", "vender_id", "department_id"];

/// One answer in the `ack_code` envelope, echoing the caller's `request_id` as `correlation_id`.
struct Answer<'a> {
    sim: &'a Sim,
    correlation_id: String,
}

impl Answer<'_> {
    fn envelope<T: Serialize>(&self, data: Option<T>, total_count: u64, auth_codes: Option<Vec<String>>) -> Response {
        let ack = if data.is_some() { ACK_SUCCESS } else { ACK_FAILURE };
        Json(self.shell(ack, Vec::new(), data, total_count, auth_codes)).into_response()
    }

    fn success<T: Serialize>(&self, data: T, total_count: u64) -> Response {
        self.envelope(Some(data), total_count, None)
    }

    fn failure(&self, code: &str, message: impl Into<String>) -> Response {
        self.failure_with_status(StatusCode::OK, code, message)
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        self.failure(refusal.code, refusal.message)
    }

    fn failure_with_status(&self, status: StatusCode, code: &str, message: impl Into<String>) -> Response {
        let errors = vec![LicenseError { code: code.to_owned(), message: message.into() }];
        (status, Json(self.shell::<()>(ACK_FAILURE, errors, None, 0, None))).into_response()
    }

    fn shell<T>(
        &self,
        ack: &str,
        errors: Vec<LicenseError>,
        data: Option<T>,
        total_count: u64,
        auth_codes: Option<Vec<String>>,
    ) -> LicenseEnvelope<T> {
        LicenseEnvelope {
            ack_code: ack.to_owned(),
            errors,
            timestamp: self.sim.now_china().format("%Y-%m-%d %H:%M:%S").to_string(),
            correlation_id: self.correlation_id.clone(),
            response_id: fresh_id("", 32),
            total_count,
            data,
            auth_codes,
        }
    }
}

/// The query string as a map; repeated names keep their first value.
fn query_params(raw: Option<&str>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        params.entry(name.into_owned()).or_insert_with(|| value.trim().to_owned());
    }
    params
}

/// A business failure found before answering: a contract error code and a message for the person.
#[derive(Debug)]
struct Refusal {
    code: &'static str,
    message: String,
}

fn refusal(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

fn answer_for<'a>(sim: &'a Sim, params: &HashMap<String, String>) -> Answer<'a> {
    Answer { sim, correlation_id: params.get("request_id").cloned().unwrap_or_default() }
}

/// The checks every call but login passes: identifiers present, token alive, caller registered.
fn check_caller(sim: &Sim, params: &HashMap<String, String>) -> Result<(), Refusal> {
    for name in CALLER_PARAMS {
        required(params, name)?;
    }
    if !sim.token_is_valid(&params["access_token"]) {
        return Err(refusal(INVALID_ACCESS_TOKEN, "access_token 无效或已过期，请重新登录"));
    }
    let registered =
        [("system_id", SANDBOX_SYSTEM_ID), ("vender_id", SANDBOX_VENDER_ID), ("department_id", SANDBOX_DEPARTMENT_ID)];
    if let Some((name, _)) = registered.iter().find(|(name, expected)| params[*name] != *expected) {
        return Err(refusal(NO_AUTHORIZATION, format!("{name} 与用证登记不符，无权访问")));
    }
    Ok(())
}

/// A required, non-empty query parameter.
fn required<'p>(params: &'p HashMap<String, String>, name: &str) -> Result<&'p str, Refusal> {
    match params.get(name).map(String::as_str) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(refusal(PARAM_INVALID, format!("缺少参数 {name}"))),
    }
}

/// `POST /security/login`: the sandbox account's credentials buy a token that lives a day.
pub(crate) async fn login(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = query_params(query.as_deref());
    let answer = answer_for(&sim, &params);
    let request: LoginRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return answer.failure(PARAM_INVALID, format!("登录请求格式有误：{e}")),
    };
    let known = request.account == SANDBOX_ACCOUNT
        && request.password == SANDBOX_PASSWORD
        && request.app_key == SANDBOX_APP_KEY
        && request.app_secret == SANDBOX_APP_SECRET;
    if !known {
        // Which of the four was wrong is not said, as a real service would not say it.
        tracing::warn!(account = %request.account, "e-license: login refused");
        return answer.failure(LOGIN_FAILED, "账号、密码或应用凭据不正确");
    }
    answer.success(LoginData { access_token: sim.login(), expires_in: TOKEN_LIFETIME_SECS }, 1)
}

/// `POST /license/auth`: licenses by holder (依职能用证), one page, each with a fresh auth code.
pub(crate) async fn license_auth(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = query_params(query.as_deref());
    let answer = answer_for(&sim, &params);
    if let Err(refused) = check_caller(&sim, &params) {
        return answer.refuse(refused);
    }
    let request: LicenseAuthRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return answer.failure(PARAM_INVALID, format!("请求格式有误：{e}")),
    };
    let holders = match holders_of(&request) {
        Ok(holders) => holders,
        Err(why) => return answer.failure(PARAM_INVALID, why),
    };
    let licenses: Vec<(WireLicense, FileKind)> = holders
        .iter()
        .filter_map(|uscc| samples::find(uscc.as_str()))
        .flat_map(|enterprise| enterprise.licenses.into_iter().map(|l| (l.license, l.file)))
        .collect();
    let total = licenses.len() as u64;
    let skip = (request.page_index as usize - 1).saturating_mul(request.page_size as usize);
    let expires_at = sim.now() + chrono_duration(AUTHORIZATION_LIFETIME);
    let hall =
        if request.operator.service_org.is_empty() { "政务服务大厅" } else { &request.operator.service_org };
    let (page, auth_codes): (Vec<WireLicense>, Vec<String>) = licenses
        .into_iter()
        .skip(skip)
        .take(request.page_size as usize)
        .map(|(license, file)| (license.clone(), sim.grant(license, file, hall, expires_at)))
        .unzip();
    answer.envelope(Some(page), total, Some(auth_codes))
}

/// The checked holders of a `license/auth` query, with the paging and the audit fields it needs.
fn holders_of(request: &LicenseAuthRequest) -> Result<Vec<Uscc>, String> {
    let required = [
        ("identity_number", &request.identity_number),
        ("service_item_code", &request.service_item_code),
        ("service_item_name", &request.service_item_name),
        ("biz_num", &request.biz_num),
        ("operator.account", &request.operator.account),
        ("operator.name", &request.operator.name),
    ];
    if let Some((name, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
        return Err(format!("字段 {name} 不能为空"));
    }
    if request.page_index < 1 {
        return Err("page_index 从 1 开始".to_owned());
    }
    if !(1..=MAX_PAGE_SIZE).contains(&request.page_size) {
        return Err(format!("page_size 应在 1 到 {MAX_PAGE_SIZE} 之间"));
    }
    request
        .identity_number
        .split(',')
        .map(|id| Uscc::parse(id).map_err(|_| format!("identity_number 中的“{}”不是有效的统一社会信用代码", id.trim())))
        .collect()
}

/// The grant behind the `auth_code` parameter, or the failure that explains why there is none.
fn grant_of(sim: &Sim, params: &HashMap<String, String>) -> Result<Grant, Refusal> {
    let auth_code = required(params, "auth_code")?;
    sim.grant_for(auth_code).map_err(|lapse| match lapse {
        GrantLapse::Unknown => refusal(AUTH_CODE_NOT_FOUND, "授权码不存在"),
        GrantLapse::Expired => refusal(AUTH_CODE_EXPIRED, "授权已结束，授权码已失效"),
    })
}

/// `GET /license/get_license`: one license in full; a revoked one too, marked ABOLISHED.
pub(crate) async fn get_license(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query.as_deref());
    let answer = answer_for(&sim, &params);
    match check_caller(&sim, &params).and_then(|()| grant_of(&sim, &params)) {
        Ok(grant) => answer.success(grant.license, 1),
        Err(refused) => answer.refuse(refused),
    }
}

/// `GET /license/archive`: the annotated copy (加注件) stamped with the reason of use, base64.
pub(crate) async fn archive(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query.as_deref());
    let answer = answer_for(&sim, &params);
    let checked = check_caller(&sim, &params)
        .and_then(|()| archive_request(&params))
        .and_then(|use_cause| Ok((use_cause, grant_of(&sim, &params)?)));
    let (use_cause, grant) = match checked {
        Ok(checked) => checked,
        Err(refused) => return answer.refuse(refused),
    };
    if grant.license.license_status.eq_ignore_ascii_case(ABOLISHED) {
        return answer.failure(LICENSE_ABOLISHED, "该证照已注销，不能出具加注件");
    }
    let license_code = grant.license.license_code.clone();
    if let Some(cached) = sim.cached_archive(&license_code, &use_cause) {
        return answer.success(&*cached, 1);
    }
    let stamped_at = sim.now_china();
    let cause = use_cause.clone();
    let made = tokio::task::spawn_blocking(move || annotated_copy(&grant, &cause, stamped_at)).await;
    match made {
        Ok(Ok(copy)) => {
            let copy = Arc::new(copy);
            sim.cache_archive(&license_code, &use_cause, Arc::clone(&copy));
            answer.success(&*copy, 1)
        }
        Ok(Err(e)) => {
            tracing::error!(license_code = %license_code, error = %e, "sandbox: could not make an annotated copy");
            let message = format!("沙箱无法生成加注件：{e}");
            answer.failure_with_status(StatusCode::INTERNAL_SERVER_ERROR, DOCUMENT_FAILED, message)
        }
        Err(e) => {
            tracing::error!(license_code = %license_code, error = %e, "sandbox: the annotated copy task failed");
            answer.failure_with_status(StatusCode::INTERNAL_SERVER_ERROR, DOCUMENT_FAILED, "沙箱生成加注件时出错")
        }
    }
}

/// The `use_cause` of an archive call whose parameters are complete and whose file type the sandbox serves.
fn archive_request(params: &HashMap<String, String>) -> Result<String, Refusal> {
    let file_type = required(params, "file_type")?;
    if !file_type.eq_ignore_ascii_case("pdf") {
        let why = format!("file_type 应为 pdf 或 ofd；沙箱只提供 PDF 加注件，没有 OFD（收到 {file_type}）");
        return Err(refusal(PARAM_INVALID, why));
    }
    Ok(required(params, "use_cause")?.to_owned())
}

/// Makes the annotated copy of a license in its sample file's kind; slow, so it runs off the async threads.
fn annotated_copy(
    grant: &Grant,
    use_cause: &str,
    stamped_at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<ArchiveData, DocumentError> {
    let stamp = Stamp { use_cause, stamped_at, hall: &grant.hall };
    let license = &grant.license;
    let (bytes, extension) = match grant.file {
        FileKind::Pdf => (documents::annotated_pdf(license, &stamp)?, "pdf"),
        FileKind::ScannedJpeg => (documents::scanned_jpeg(license, &stamp)?, "jpg"),
        FileKind::ScannedPdf => (documents::scanned_pdf(license, &stamp)?, "pdf"),
    };
    Ok(ArchiveData {
        file_name: format!("{}_{}.{extension}", license.name, license.id_code),
        file_data: BASE64.encode(bytes),
    })
}

/// The `oversized` fault on `archive`: a valid envelope whose file is 5 MiB of random bytes.
pub(crate) fn oversized_archive(sim: &Sim, query: Option<&str>) -> Response {
    let params = query_params(query);
    let mut noise = vec![0u8; OVERSIZE_BYTES];
    rand::rng().fill_bytes(&mut noise);
    let copy = ArchiveData { file_name: "oversized.pdf".to_owned(), file_data: BASE64.encode(noise) };
    answer_for(sim, &params).success(copy, 1)
}
