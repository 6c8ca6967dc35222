//! Contract tests: the client against hand-written JSON fixtures of gateway-contract.md, with the
//! requests it sends checked field by field against the contract text.

use crate::scripted::{Reply, ScriptedGateway};
use std::sync::Arc;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{FixedClock, SequenceNonces};
use yueshang_core::domain::{BizNum, LicenseStatus, ServiceItem, Uscc};
use yueshang_core::gateway::GatewayClient;
use yueshang_core::station::Station;
use yueshang_core::{Error, ErrorCode};

/// 2026-11-28 10:00:00 in China, as the gateway's `Date` header writes it.
const GATEWAY_NOW: &str = "Sat, 28 Nov 2026 02:00:00 GMT";
const CODE: &str = "Ysm_Fixture-Code-0001";

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::china(2026, 11, 28, 10, 0, 0))
}

async fn gateway() -> ScriptedGateway {
    ScriptedGateway::start(GATEWAY_NOW).await
}

fn station(gw: &ScriptedGateway) -> Station {
    Station::new(
        gw.settings(""),
        Arc::new(Cache::open_in_memory().unwrap()),
        clock(),
        Arc::new(SequenceNonces::new("nonce")),
    )
    .unwrap()
}

fn client(gw: &ScriptedGateway) -> GatewayClient {
    GatewayClient::new(&gw.settings(""), clock(), Arc::new(SequenceNonces::new("nonce"))).unwrap()
}

fn biz() -> BizNum {
    BizNum::from_existing("YS-4401061-A03-20261128-0001")
}

fn script_happy_path(gw: &ScriptedGateway) {
    gw.on("ysm/code2auth", vec![Reply::fixture("code2auth_ok.json")]);
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::fixture("get_license_ok.json")]);
    gw.on("license/archive", vec![Reply::fixture("archive_ok.json")]);
}

async fn exchange(gw: &ScriptedGateway) -> Result<(), Error> {
    let s = gw.settings("");
    let code = yueshang_core::domain::EnterpriseCode::parse(CODE).unwrap();
    client(gw).exchange_code(&code, &s.service_items[0], &biz(), &s.operator, &s.counter).await.map(|_| ())
}

#[tokio::test]
async fn exchange_sends_what_the_contract_names_and_reads_its_answer() {
    let gw = gateway().await;
    script_happy_path(&gw);
    let s = gw.settings("");
    let code = yueshang_core::domain::EnterpriseCode::parse(CODE).unwrap();
    let (enterprise, auth) =
        client(&gw).exchange_code(&code, &s.service_items[0], &biz(), &s.operator, &s.counter).await.unwrap();

    assert_eq!(enterprise.name, "广州穗禾餐饮管理有限公司");
    assert_eq!(enterprise.uscc, Uscc::parse("91440300708461136T").unwrap());
    assert_eq!(enterprise.legal_rep_name, "李*");
    assert_eq!(auth.auth_id, "AUTH-20261128-0001");
    assert_eq!(auth.expires_at.to_rfc3339(), "2026-11-28T10:30:00+08:00");
    assert_eq!(auth.licenses.len(), 2);
    assert_eq!(auth.licenses[1].auth_code.expose(), "AC-health-0002");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert_eq!(auth.licenses[0].summary.status_on(today), LicenseStatus::Valid);
    assert_eq!(auth.licenses[1].summary.status_on(today), LicenseStatus::Expired);

    let seen = gw.seen_on("ysm/code2auth");
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/ebus/yst_counter/ysm/code2auth");
    assert_eq!(req.headers["x-tif-paasid"], "yst_counter");
    assert_eq!(req.headers["x-tif-timestamp"], "1795831200");
    assert!(req.headers["x-tif-nonce"].len() >= 16);
    let sig = yueshang_core::signing::signature(1795831200, "fixture-paas-token", &req.headers["x-tif-nonce"]);
    assert_eq!(req.headers["x-tif-signature"], sig);
    let b = &req.body;
    assert_eq!(b["ysm_code"], CODE);
    assert_eq!(b["service_item_code"], "ITEM-FOOD-NEW");
    assert_eq!(b["service_item_name"], "食品经营许可（新办）");
    assert_eq!(b["biz_num"], "YS-4401061-A03-20261128-0001");
    assert_eq!(b["hall"]["code"], "4401061");
    assert_eq!(b["hall"]["name"], "天河区政务服务中心");
    assert_eq!(b["operator"]["account"], "chenxm");
    assert_eq!(b["operator"]["name"], "陈晓敏");
    assert_eq!(b["operator"]["role"], "窗口受理人员");
    assert_eq!(b["operator"]["division_code"], "440106");
    assert_eq!(b["operator"]["service_org"], "广州市天河区政务服务中心");
    assert_eq!(b["operator"]["service_org_code"], "11440106MB2C14352R");
    assert_eq!(b["terminal"]["device_id"], "4401061-A03");
}

#[tokio::test]
async fn a_scan_fetches_each_license_with_the_contract_parameters() {
    let gw = gateway().await;
    script_happy_path(&gw);
    let station = station(&gw);
    let outcome = station.scan(CODE, None, &biz(), &|_| {}).await.unwrap();
    assert_eq!(outcome.licenses.len(), 2);
    let first = &outcome.licenses[0];
    assert!(first.error.is_none());
    let license = first.license.as_ref().unwrap();
    assert_eq!(license.holder_identity_num, "91440300708461136T");
    assert_eq!(license.face_fields.get("经营项目"), Some("热食类食品制售"));
    let file = first.file.as_ref().unwrap();
    assert_eq!(file.mime, "application/pdf");
    assert_eq!(file.file_name, "食品经营许可证_JY14401060012345.pdf");

    let login = gw.seen_on("security/login");
    assert_eq!(login.len(), 1, "one login serves every call");
    assert_eq!(login[0].method, "POST");
    assert_eq!(login[0].path, "/ebus/dzzz_convergence-service/security/login");
    for (field, value) in [
        ("account", "hall_account"),
        ("password", "fixture-password"),
        ("app_key", "fixture-app-key"),
        ("app_secret", "fixture-app-secret"),
    ] {
        assert_eq!(login[0].body[field], value, "login.{field}");
    }
    let archives = gw.seen_on("license/archive");
    assert_eq!(archives.len(), 2);
    let q = &archives[0].query;
    assert_eq!(archives[0].method, "GET");
    assert_eq!(q["access_token"], "tok-fixture-1");
    assert_eq!(q["file_type"], "pdf");
    assert_eq!(q["use_cause"], "食品经营许可（新办）");
    assert_eq!(q["system_id"], "SYS-01");
    assert_eq!(q["vender_id"], "91440300708461136T");
    assert_eq!(q["department_id"], "914403001922038216");
    assert!(q["auth_code"].starts_with("AC-"));
    let request_ids: std::collections::HashSet<_> =
        gw.seen().iter().filter_map(|s| s.query.get("request_id").cloned()).collect();
    assert_eq!(request_ids.len(), 4, "every e-license call has a fresh request_id");
    let nonces: std::collections::HashSet<_> = gw.seen().iter().map(|s| s.headers["x-tif-nonce"].clone()).collect();
    assert_eq!(nonces.len(), gw.seen().len(), "every call has a fresh nonce");
}

async fn get_license_error(gw: &ScriptedGateway) -> Error {
    client(gw).get_license("AC-1").await.unwrap_err()
}

#[tokio::test]
async fn business_failures_map_to_their_codes_and_are_not_retried() {
    let gw = gateway().await;
    for (fixture, code) in
        [("code2auth_used.json", ErrorCode::CodeUsed), ("code2auth_item_not_allowed.json", ErrorCode::ItemNotAllowed)]
    {
        gw.on("ysm/code2auth", vec![Reply::fixture(fixture)]);
        let before = gw.seen_on("ysm/code2auth").len();
        assert_eq!(exchange(&gw).await.unwrap_err().code, code, "{fixture}");
        assert_eq!(gw.seen_on("ysm/code2auth").len(), before + 1, "{fixture}: sent once");
    }
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::fixture("get_license_expired_auth.json")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::AuthCodeExpired);
    gw.on("license/get_license", vec![Reply::fixture("archive_abolished.json")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::LicenseRevoked);
    for (code, meaning) in [
        ("NO_AUTHORIZATION", ErrorCode::LicenseNotAuthorized),
        ("PARAM_INVALID", ErrorCode::RequestRejected),
        ("AUTH_CODE_NOT_FOUND", ErrorCode::AuthCodeNotFound),
        ("SOMETHING_NEW", ErrorCode::BadResponse),
    ] {
        let body = format!(r#"{{"ack_code":"FAILURE","errors":[{{"code":"{code}","message":"x"}}],"data":null}}"#);
        gw.on("license/get_license", vec![Reply::raw(200, &body)]);
        assert_eq!(get_license_error(&gw).await.code, meaning, "{code}");
    }
    gw.on("ysm/code2auth", vec![Reply::raw(200, r#"{"errcode":40010,"errmsg":"参数错误"}"#)]);
    assert_eq!(exchange(&gw).await.unwrap_err().code, ErrorCode::RequestRejected);
}

#[tokio::test]
async fn a_refused_token_means_one_fresh_login_and_one_retry() {
    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::fixture("invalid_token.json"), Reply::fixture("get_license_ok.json")]);
    let license = client(&gw).get_license("AC-1").await.unwrap();
    assert_eq!(license.summary.name, "食品经营许可证");
    assert_eq!(gw.seen_on("security/login").len(), 2);
    assert_eq!(gw.seen_on("license/get_license").len(), 2);

    // Refused again after the fresh login: give up, and say the login is the problem.
    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::fixture("invalid_token.json")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::LicenseLoginRejected);
    assert_eq!(gw.seen_on("security/login").len(), 2);
    assert_eq!(gw.seen_on("license/get_license").len(), 2);

    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_refused.json")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::LicenseLoginRejected);
}

#[tokio::test]
async fn a_signature_rejection_is_a_clock_problem_only_when_the_clock_is_off() {
    let gw = gateway().await;
    gw.on("ysm/code2auth", vec![Reply::status(500, "gateway_auth_failed.json")]);
    let err = exchange(&gw).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::GatewayAuthRejected);

    // The gateway's clock is ten minutes ahead of this PC.
    gw.set_date("Sat, 28 Nov 2026 02:10:00 GMT");
    let err = exchange(&gw).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ClockSkew);
    assert!(err.message.contains("慢了约 600 秒"), "{}", err.message);
    assert_eq!(gw.seen_on("ysm/code2auth").len(), 2, "never retried");
}

#[tokio::test]
async fn gateway_statuses_map_to_codes_and_reads_retry_within_bounds() {
    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on(
        "license/get_license",
        vec![
            Reply::status(429, "gateway_rate_limited.json").header("retry-after", "1"),
            Reply::raw(502, "bad gateway"),
            Reply::fixture("get_license_ok.json"),
        ],
    );
    client(&gw).get_license("AC-1").await.unwrap();
    assert_eq!(gw.seen_on("license/get_license").len(), 3);

    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::status(429, "gateway_rate_limited.json").header("retry-after", "120")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::RateLimited);
    assert_eq!(gw.seen_on("license/get_license").len(), 1, "a long Retry-After is not waited for");

    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/get_license", vec![Reply::raw(503, "")]);
    assert_eq!(get_license_error(&gw).await.code, ErrorCode::GatewayUnavailable);
    assert_eq!(gw.seen_on("license/get_license").len(), 3, "first try and two retries");

    for (reply, code) in [
        (Reply::status(403, "gateway_forbidden.json"), ErrorCode::GatewayForbidden),
        (Reply::raw(504, r#"{"code":400504,"msg":"后端服务超时"}"#), ErrorCode::GatewayTimeout),
        (Reply::raw(413, r#"{"code":400013,"msg":"请求包体超过限制"}"#), ErrorCode::BodyTooLarge),
        (Reply::raw(200, "<html>proxy error</html>"), ErrorCode::BadResponse),
        (Reply::raw(200, r#"{"errcode":0,"errmsg":"ok"}"#), ErrorCode::BadResponse),
        (
            Reply::raw(
                200,
                r#"{"errcode":0,"errmsg":"ok","data":{"enterprise":{"name":"x","uscc":"123"},"auth_id":"a","auth_expires_at":"2026-11-28T10:30:00+08:00"}}"#,
            ),
            ErrorCode::BadResponse,
        ),
    ] {
        let gw = gateway().await;
        gw.on("ysm/code2auth", vec![reply]);
        assert_eq!(exchange(&gw).await.unwrap_err().code, code);
        assert_eq!(gw.seen_on("ysm/code2auth").len(), 1, "the exchange is never retried ({code})");
    }
}

#[tokio::test]
async fn a_revoked_license_is_kept_as_revoked_without_a_file() {
    let gw = gateway().await;
    script_happy_path(&gw);
    gw.on("license/archive", vec![Reply::fixture("archive_abolished.json")]);
    let station = station(&gw);
    let outcome = station.scan(CODE, None, &biz(), &|_| {}).await.unwrap();
    for l in &outcome.licenses {
        assert!(l.error.is_none());
        assert_eq!(l.status, LicenseStatus::Revoked);
        assert!(l.file.is_none());
    }
    let cached = station.cached_licenses().unwrap();
    assert!(cached.iter().all(|c| c.status_at_fetch == LicenseStatus::Revoked && c.file.is_none()));
}

#[tokio::test]
async fn holder_query_and_handling_record_read_their_fixtures() {
    let gw = gateway().await;
    gw.on("security/login", vec![Reply::fixture("login_ok.json")]);
    gw.on("license/auth", vec![Reply::fixture("license_auth_ok.json")]);
    gw.on("ysm/apply/submit", vec![Reply::fixture("submit_ok.json")]);
    let s = gw.settings("");
    let c = client(&gw);
    let holder = Uscc::parse("91440300708461136T").unwrap();
    let page = c.licenses_by_holder(&holder, &s.service_items[0], &biz(), &s.operator, 1, 500).await.unwrap();
    assert_eq!(page.total_count, 1);
    let (license, auth_code) = &page.licenses[0];
    assert_eq!(auth_code, "AC-bl-0001");
    assert_eq!(license.summary.expiry_date, None, "长期 means no end");
    assert_eq!(license.face_fields.get("名称"), Some("广州穗禾餐饮管理有限公司"));
    let req = &gw.seen_on("license/auth")[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.body["identity_number"], "91440300708461136T");
    assert_eq!(req.body["page_size"], 150, "page_size is capped at the contract's 150");
    assert_eq!(req.body["operator"]["service_org_code"], "11440106MB2C14352R");

    let record = yueshang_core::gateway::HandlingRecord {
        biz_num: biz(),
        auth_id: "AUTH-20261128-0001".into(),
        item: ServiceItem::new("ITEM-FOOD-NEW", "食品经营许可（新办）").unwrap(),
        applicant_name: "广州穗禾餐饮管理有限公司".into(),
        applicant_uscc: holder,
        used_license_codes: vec!["L1".into()],
        status: "RECEIVED",
        reason: None,
        submitted_at: chrono::DateTime::parse_from_rfc3339("2026-11-28T10:02:03+08:00").unwrap(),
    };
    let receipt = c.submit_record(&record, &s.operator).await.unwrap();
    assert_eq!(receipt.record_id, "REC-0001");
    assert!(!receipt.duplicate);
    let sent = &gw.seen_on("ysm/apply/submit")[0].body;
    assert_eq!(sent["applicant"]["uscc"], "91440300708461136T");
    assert_eq!(sent["used_license_codes"][0], "L1");
    assert_eq!(sent["status"], "RECEIVED");
    assert_eq!(sent["submitted_at"], "2026-11-28T10:02:03+08:00");
}

#[tokio::test]
async fn a_bad_scan_never_reaches_the_network_and_is_audited() {
    let gw = gateway().await;
    script_happy_path(&gw);
    let station = station(&gw);
    let err = station.scan("not a code", None, &biz(), &|_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::CodeInvalid);
    assert!(gw.seen().is_empty());
    let audit = station.cache().audit_events().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].kind, "scan_rejected");
    assert_eq!(audit[0].error_code.as_deref(), Some("CODE_INVALID"));
}
