//! The 粤商通 calls behind the gateway (contract §4): exchanging a scanned code, submitting the handling record.

use crate::samples::{self, Consent, SampleEnterprise};
use crate::state::{AUTHORIZATION_LIFETIME, CodeCheck, Sim, chrono_duration, fresh_id};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use yueshang_core::clock::china_tz;
use yueshang_core::contract::YstErrcodes;
use yueshang_core::domain::Uscc;
use yueshang_core::wire::elicense::WireLicense;
use yueshang_core::wire::yst::{
    Code2AuthData, Code2AuthRequest, EnterpriseRef, LicenseSummaryRef, SubmitRequest, YstEnvelope,
};

/// The statuses a handling record may carry (contract §4.2).
pub const RECORD_STATUSES: [&str; 4] = ["RECEIVED", "ACCEPTED", "DONE", "REJECTED"];

fn errcodes() -> YstErrcodes {
    YstErrcodes::default()
}

fn fail(errcode: i64, errmsg: &str) -> Response {
    Json(YstEnvelope::<()>::fail(errcode, errmsg)).into_response()
}

fn malformed(why: &str) -> Response {
    tracing::warn!(why, "粤商通: malformed request");
    fail(errcodes().malformed, &format!("请求格式有误：{why}"))
}

/// The body as `T`, or why it is not one.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// The first of the named fields that is empty, as a complaint.
fn first_empty(fields: &[(&str, &str)]) -> Result<(), String> {
    match fields.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((name, _)) => Err(format!("字段 {name} 不能为空")),
        None => Ok(()),
    }
}

/// Whether the sandbox's PaaS ID is subscribed to this service item.
fn item_allowed(code: &str) -> bool {
    samples::service_items().iter().any(|(item, _)| item == code)
}

fn item_not_allowed(code: &str) -> Response {
    fail(errcodes().item_not_allowed, &format!("本窗口未开通该事项（{code}），请联系信息部门"))
}

/// `POST {yst_base}/ysm/code2auth`: a scanned code, once, for the enterprise and what it consented to.
pub(crate) async fn code2auth(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let codes = errcodes();
    let request: Code2AuthRequest = match parse(&body).and_then(|r| check_exchange(&r).map(|()| r)) {
        Ok(request) => request,
        Err(why) => return malformed(&why),
    };
    // The item is checked before the code, so a misconfigured counter does not burn the customer's code.
    if !item_allowed(&request.service_item_code) {
        return item_not_allowed(&request.service_item_code);
    }
    let uscc = match sim.take_code(&request.ysm_code) {
        CodeCheck::Fresh { uscc } => uscc,
        CodeCheck::Unknown => return fail(codes.code_unknown, "码无效，请让办事人刷新粤商码后重扫"),
        CodeCheck::Expired => return fail(codes.code_expired, "码已过期，请让办事人刷新粤商码后重扫"),
        CodeCheck::Used => return fail(codes.code_used, "码已使用，请让办事人刷新粤商码后重扫"),
    };
    let Some(enterprise) = samples::find(&uscc) else {
        return fail(codes.code_unknown, "码无效，请让办事人刷新粤商码后重扫");
    };
    if enterprise.consent == Consent::Declined {
        return fail(codes.consent_declined, "企业未授权本事项使用电子证照，请让办事人在粤商通中授权");
    }
    Json(YstEnvelope::ok(authorize(&sim, &request, enterprise))).into_response()
}

fn check_exchange(r: &Code2AuthRequest) -> Result<(), String> {
    first_empty(&[
        ("ysm_code", &r.ysm_code),
        ("service_item_code", &r.service_item_code),
        ("service_item_name", &r.service_item_name),
        ("biz_num", &r.biz_num),
        ("hall.code", &r.hall.code),
        ("hall.name", &r.hall.name),
        ("operator.account", &r.operator.account),
        ("operator.name", &r.operator.name),
        ("operator.role", &r.operator.role),
        ("operator.division_code", &r.operator.division_code),
        ("operator.service_org", &r.operator.service_org),
        ("operator.service_org_code", &r.operator.service_org_code),
        ("terminal.device_id", &r.terminal.device_id),
    ])
}

/// A new authorization for what the enterprise ticked: every license, or none.
fn authorize(sim: &Sim, request: &Code2AuthRequest, enterprise: SampleEnterprise) -> Code2AuthData {
    let expires_at = sim.now() + chrono_duration(AUTHORIZATION_LIFETIME);
    let consented = match enterprise.consent {
        Consent::Granted => enterprise.licenses,
        Consent::NothingTicked | Consent::Declined => Vec::new(),
    };
    let (licenses, auth_codes) = consented
        .into_iter()
        .map(|sample| {
            (summary_of(&sample.license), sim.grant(sample.license, sample.file, &request.hall.name, expires_at))
        })
        .unzip();
    Code2AuthData {
        enterprise: EnterpriseRef {
            legal_rep_name: masked(&enterprise.legal_rep_name),
            name: enterprise.name,
            uscc: enterprise.uscc,
        },
        auth_id: fresh_id("AUTH", 24),
        auth_expires_at: expires_at.with_timezone(&china_tz()).to_rfc3339(),
        licenses,
        auth_codes,
    }
}

/// A person's name as the platform shows it to a counter: the surname, the rest starred (张三 → 张*).
fn masked(name: &str) -> String {
    if name.contains('*') {
        return name.to_owned();
    }
    name.chars().enumerate().map(|(i, c)| if i == 0 { c } else { '*' }).collect()
}

fn summary_of(license: &WireLicense) -> LicenseSummaryRef {
    LicenseSummaryRef {
        license_code: license.license_code.clone(),
        name: license.name.clone(),
        license_type: license.license_type.clone(),
        id_code: license.id_code.clone(),
        issue_org_name: license.issue_org_name.clone(),
        begin_date: license.begin_date.clone(),
        expiry_date: license.expiry_date.clone(),
        license_status: license.license_status.clone(),
    }
}

/// `POST {yst_base}/ysm/apply/submit`: records the handling record once per `biz_num`.
pub(crate) async fn submit(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let request: SubmitRequest = match parse(&body).and_then(|r| check_record(&r).map(|()| r)) {
        Ok(request) => request,
        Err(why) => return malformed(&why),
    };
    if !item_allowed(&request.service_item_code) {
        return item_not_allowed(&request.service_item_code);
    }
    let outcome = sim.record_submit(request);
    tracing::info!(record_id = %outcome.record_id, duplicate = outcome.duplicate, "粤商通: handling record");
    Json(YstEnvelope::ok(outcome)).into_response()
}

/// A record's fields; `auth_id` may be empty (a case handled by holder has no authorization).
fn check_record(r: &SubmitRequest) -> Result<(), String> {
    first_empty(&[
        ("biz_num", &r.biz_num),
        ("service_item_code", &r.service_item_code),
        ("service_item_name", &r.service_item_name),
        ("applicant.name", &r.applicant.name),
        ("applicant.uscc", &r.applicant.uscc),
        ("operator.account", &r.operator.account),
        ("operator.name", &r.operator.name),
        ("status", &r.status),
        ("submitted_at", &r.submitted_at),
    ])?;
    if !RECORD_STATUSES.contains(&r.status.as_str()) {
        return Err(format!("status 应为 {} 之一（收到 {}）", RECORD_STATUSES.join("、"), r.status));
    }
    if Uscc::parse(&r.applicant.uscc).is_err() {
        return Err(format!("applicant.uscc “{}”不是有效的统一社会信用代码", r.applicant.uscc));
    }
    if chrono::DateTime::parse_from_rfc3339(&r.submitted_at).is_err() {
        return Err(format!("submitted_at “{}”不是 RFC 3339 时间", r.submitted_at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn names_are_masked_after_the_surname() {
        assert_eq!(masked("张三"), "张*");
        assert_eq!(masked("欧阳晓明"), "欧***");
        assert_eq!(masked("李*"), "李*");
    }
}
