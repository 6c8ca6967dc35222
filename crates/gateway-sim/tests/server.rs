//! The sandbox gateway over real HTTP on 127.0.0.1:0: the gateway's rejections, every contract call, every fault.
//!
//! Request bodies are written here as plain JSON from the contract's text, not with the shared wire
//! types, so that these tests are a second reading of gateway-contract.md.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use yueshang_core::clock::{Clock, FixedClock};
use yueshang_core::config::Environment;
use yueshang_core::signing::signature;
use yueshang_gateway_sim::samples::{self, Consent, FileKind, SampleEnterprise};
use yueshang_gateway_sim::{
    Fault, IssuedCode, OVERSIZE_BYTES, SANDBOX_ACCOUNT, SANDBOX_APP_KEY, SANDBOX_APP_SECRET, SANDBOX_DEPARTMENT_ID,
    SANDBOX_PAASID, SANDBOX_PASSWORD, SANDBOX_SYSTEM_ID, SANDBOX_TOKEN, SANDBOX_VENDER_ID, SandboxGateway, SimControl,
    SimOptions, sandbox_settings,
};

const LICENSE_PREFIX: &str = "/ebus/dzzz_convergence-service";
const TEST_LIMIT: usize = 4 * 1024 * 1024;
/// 2026-11-28 10:00:00 China time, as the gateway's `Date` header writes it.
const START_DATE: &str = "Sat, 28 Nov 2026 02:00:00 GMT";

// ------------------------------------------------------------------------------------------------
// The harness: a sandbox on a free port, a fixed clock, and a signing client.

struct Sandbox {
    gateway: SandboxGateway,
    control: SimControl,
    clock: Arc<FixedClock>,
    http: reqwest::Client,
    nonces: AtomicU64,
}

/// How a call is signed; the default is a correct signature at the shared clock's time.
#[derive(Debug, Clone, Default)]
struct Signing {
    /// A TIF header left out.
    without: Option<&'static str>,
    paasid: Option<&'static str>,
    /// Seconds the caller's timestamp is off the shared clock.
    skew_secs: i64,
    nonce: Option<&'static str>,
    token: Option<&'static str>,
    lower_case: bool,
}

#[derive(Debug, Clone)]
struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Call {
    fn post(path: &str, body: &Value) -> Self {
        Call {
            method: Method::POST,
            path: path.to_owned(),
            query: Vec::new(),
            body: Some(body.to_string().into_bytes()),
        }
    }

    fn get(path: &str, query: &[(&str, &str)]) -> Self {
        Call { method: Method::GET, path: path.to_owned(), query: pairs(query), body: None }
    }
}

fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Sandbox {
    async fn start() -> Self {
        let clock = Arc::new(FixedClock::china(2026, 11, 28, 10, 0, 0));
        let options = SimOptions { clock: clock.clone(), ..SimOptions::default() };
        let gateway = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), options).await.expect("sandbox starts");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Sandbox { control: gateway.control(), gateway, clock, http, nonces: AtomicU64::new(0) }
    }

    fn url(&self, path: &str) -> reqwest::Url {
        self.gateway.base_url().join(path.trim_start_matches('/')).unwrap()
    }

    fn request(&self, call: &Call, signing: &Signing) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(call.method.clone(), self.url(&call.path)).query(&call.query);
        if let Some(body) = &call.body {
            builder = builder.header("content-type", "application/json").body(body.clone());
        }
        let timestamp = self.clock.now().timestamp() + signing.skew_secs;
        let nonce = match signing.nonce {
            Some(nonce) => nonce.to_owned(),
            None => format!("test-nonce-{:013}", self.nonces.fetch_add(1, Ordering::SeqCst)),
        };
        let mut sig = signature(timestamp, signing.token.unwrap_or(SANDBOX_TOKEN), &nonce);
        if signing.lower_case {
            sig = sig.to_lowercase();
        }
        let headers = [
            ("x-tif-paasid", signing.paasid.unwrap_or(SANDBOX_PAASID).to_owned()),
            ("x-tif-timestamp", timestamp.to_string()),
            ("x-tif-nonce", nonce),
            ("x-tif-signature", sig),
        ];
        for (name, value) in headers {
            if signing.without != Some(name) {
                builder = builder.header(name, value);
            }
        }
        builder
    }

    async fn send(&self, call: &Call, signing: &Signing) -> Reply {
        let response = self.request(call, signing).send().await.expect("the sandbox answers");
        reply_of(response).await
    }

    async fn call(&self, call: &Call) -> Reply {
        self.send(call, &Signing::default()).await
    }

    /// An unsigned call to a `/sim` route.
    async fn sim(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut builder = self.http.request(method, self.url(path));
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        reply_of(builder.send().await.expect("the sandbox answers")).await
    }

    async fn login(&self) -> String {
        let reply = self.call(&login_call(&good_login())).await;
        check(&reply, 200, json!({"ack_code": "SUCCESS", "data": {"expires_in": 86400}}));
        reply.json()["data"]["access_token"].as_str().unwrap().to_owned()
    }

    /// The five identifiers every e-license call but login carries.
    fn caller(&self, token: &str) -> Vec<(String, String)> {
        pairs(&[
            ("access_token", token),
            ("request_id", "req-0001"),
            ("system_id", SANDBOX_SYSTEM_ID),
            ("vender_id", SANDBOX_VENDER_ID),
            ("department_id", SANDBOX_DEPARTMENT_ID),
        ])
    }

    fn license_call(&self, token: &str, method: Method, path: &str, query: &[(&str, &str)]) -> Call {
        let mut query_pairs = self.caller(token);
        query_pairs.extend(pairs(query));
        Call { method, path: format!("{LICENSE_PREFIX}{path}"), query: query_pairs, body: None }
    }

    fn issue(&self, enterprise: &SampleEnterprise) -> IssuedCode {
        self.control.issue_code(&enterprise.uscc, None).expect("a sample enterprise gets a code")
    }

    async fn exchange(&self, code: &str) -> Reply {
        self.call(&Call::post(&yst_path("code2auth"), &exchange_body(code, &first_item()))).await
    }

    /// The auth codes of a successful exchange for this enterprise.
    async fn authorized(&self, enterprise: &SampleEnterprise) -> Vec<String> {
        let reply = self.exchange(&self.issue(enterprise).code).await;
        check(&reply, 200, json!({"errcode": 0}));
        serde_json::from_value(reply.json()["data"]["auth_codes"].clone()).unwrap()
    }

    async fn get_license(&self, token: &str, auth_code: &str) -> Reply {
        self.call(&self.license_call(token, Method::GET, "/license/get_license", &[("auth_code", auth_code)])).await
    }

    async fn archive(&self, token: &str, auth_code: &str, file_type: &str) -> Reply {
        let query = [("auth_code", auth_code), ("file_type", file_type), ("use_cause", "食品经营许可（新办）")];
        self.call(&self.license_call(token, Method::GET, "/license/archive", &query)).await
    }
}

async fn reply_of(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("a whole body").to_vec();
    assert!(headers.contains_key("date"), "every answer carries Date (status {status})");
    Reply { status, headers, body }
}

/// The status, and every field of `expected` found with the same value in the body (a subset match;
/// arrays match element by element and must have the same length).
fn check(reply: &Reply, status: u16, expected: Value) {
    let body = String::from_utf8_lossy(&reply.body);
    assert_eq!(reply.status, status, "status of {body}");
    if let Err(why) = contains(&reply.json(), &expected, "$") {
        panic!("{why}\nin {body}");
    }
}

fn contains(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected.iter().try_for_each(|(key, want)| {
            let got = actual.get(key).ok_or_else(|| format!("{at}.{key} is missing"))?;
            contains(got, want, &format!("{at}.{key}"))
        }),
        (Value::Array(actual), Value::Array(expected)) if actual.len() == expected.len() => actual
            .iter()
            .zip(expected)
            .enumerate()
            .try_for_each(|(i, (got, want))| contains(got, want, &format!("{at}[{i}]"))),
        _ if actual == expected => Ok(()),
        _ => Err(format!("{at} is {actual}, expected {expected}")),
    }
}

fn yst_path(call: &str) -> String {
    match call {
        "code2auth" => format!("/ebus/{SANDBOX_PAASID}/ysm/code2auth"),
        _ => format!("/ebus/{SANDBOX_PAASID}/ysm/apply/submit"),
    }
}

fn first_item() -> (String, String) {
    samples::service_items().remove(0)
}

fn operator() -> Value {
    json!({"account": "chenxm", "name": "陈晓敏", "role": "窗口受理人员", "division_code": "440106",
           "service_org": "广州市天河区政务服务中心", "service_org_code": SANDBOX_DEPARTMENT_ID})
}

fn exchange_body(code: &str, (item_code, item_name): &(String, String)) -> Value {
    json!({
        "ysm_code": code,
        "service_item_code": item_code, "service_item_name": item_name,
        "biz_num": "440106001-A03-20261128-0001",
        "hall": {"code": "440106001", "name": "天河区政务服务中心"},
        "operator": operator(),
        "terminal": {"device_id": "440106001-A03"}
    })
}

fn submit_body(biz_num: &str, uscc: &str, status: &str) -> Value {
    let (item_code, item_name) = first_item();
    json!({
        "biz_num": biz_num, "auth_id": "AUTH-any",
        "service_item_code": item_code, "service_item_name": item_name,
        "applicant": {"name": "广州禾岸餐饮管理有限公司", "uscc": uscc},
        "operator": operator(),
        "used_license_codes": ["L1"],
        "status": status,
        "submitted_at": "2026-11-28T10:02:03+08:00"
    })
}

fn good_login() -> Value {
    json!({"account": SANDBOX_ACCOUNT, "password": SANDBOX_PASSWORD, "app_key": SANDBOX_APP_KEY,
           "app_secret": SANDBOX_APP_SECRET})
}

fn login_call(body: &Value) -> Call {
    Call::post(&format!("{LICENSE_PREFIX}/security/login"), body)
}

fn enterprise(matches: impl Fn(&SampleEnterprise) -> bool, what: &str) -> SampleEnterprise {
    samples::enterprises().into_iter().find(|e| matches(e)).unwrap_or_else(|| panic!("no sample enterprise {what}"))
}

fn normal() -> SampleEnterprise {
    enterprise(
        |e| {
            e.consent == Consent::Granted
                && !e.licenses.is_empty()
                && e.licenses.iter().all(|l| l.file == FileKind::Pdf && l.license.license_status == "ISSUED")
        },
        "with only valid PDF licenses",
    )
}

fn revoked() -> SampleEnterprise {
    enterprise(
        |e| e.consent == Consent::Granted && e.licenses.iter().any(|l| l.license.license_status == "ABOLISHED"),
        "with a revoked license",
    )
}

fn scanned() -> SampleEnterprise {
    enterprise(
        |e| e.consent == Consent::Granted && e.licenses.iter().any(|l| l.file == FileKind::ScannedJpeg),
        "with a scanned license",
    )
}

fn with_most_licenses() -> SampleEnterprise {
    samples::enterprises().into_iter().max_by_key(|e| e.licenses.len()).unwrap()
}

fn data_of(reply: &Reply) -> Value {
    reply.json()["data"].clone()
}

// ------------------------------------------------------------------------------------------------
// The gateway layer

#[tokio::test]
async fn the_gateway_rejects_as_the_tif_gateway_does() {
    let sb = Sandbox::start().await;
    let incomplete = json!({"code": 400001, "msg": "鉴权参数不完整，请求不合法。"});
    let failed = json!({"code": 400001, "msg": "鉴权失败，鉴权信息有误。"});
    let forbidden = json!({"code": 400003, "msg": "无权访问该服务"});
    let accepted = json!({"ack_code": "SUCCESS"});
    let login = login_call(&good_login());
    let plain = Signing::default;
    let mut oversized = login.clone();
    oversized.body = Some(vec![b' '; TEST_LIMIT + 1]);
    let mut at_limit = login.clone();
    let mut padded_login = good_login().to_string().into_bytes();
    padded_login.resize(TEST_LIMIT, b' ');
    at_limit.body = Some(padded_login);
    let wrong_path_paasid = Call::post("/ebus/yst_other/ysm/code2auth", &exchange_body("x", &first_item()));

    let cases: Vec<(&str, &Call, Signing, u16, Value)> = vec![
        ("a good call", &login, plain(), 200, accepted.clone()),
        ("no paasid", &login, Signing { without: Some("x-tif-paasid"), ..plain() }, 500, incomplete.clone()),
        ("no timestamp", &login, Signing { without: Some("x-tif-timestamp"), ..plain() }, 500, incomplete.clone()),
        ("no nonce", &login, Signing { without: Some("x-tif-nonce"), ..plain() }, 500, incomplete.clone()),
        ("no signature", &login, Signing { without: Some("x-tif-signature"), ..plain() }, 500, incomplete),
        ("unknown paasid", &login, Signing { paasid: Some("yst_stranger"), ..plain() }, 403, forbidden.clone()),
        ("path and header paasid differ", &wrong_path_paasid, plain(), 403, forbidden),
        ("wrong token", &login, Signing { token: Some("not-the-token"), ..plain() }, 500, failed.clone()),
        ("lower-case signature", &login, Signing { lower_case: true, ..plain() }, 200, accepted.clone()),
        ("181 s fast", &login, Signing { skew_secs: 181, ..plain() }, 500, failed.clone()),
        ("181 s slow", &login, Signing { skew_secs: -181, ..plain() }, 500, failed.clone()),
        ("179 s fast", &login, Signing { skew_secs: 179, ..plain() }, 200, accepted.clone()),
        ("179 s slow", &login, Signing { skew_secs: -179, ..plain() }, 200, accepted.clone()),
        (
            "a nonce's first use",
            &login,
            Signing { nonce: Some("replayed-nonce-000001"), ..plain() },
            200,
            accepted.clone(),
        ),
        ("the same nonce again", &login, Signing { nonce: Some("replayed-nonce-000001"), ..plain() }, 500, failed),
        ("a body at the limit", &at_limit, plain(), 200, accepted),
        ("a body over the limit", &oversized, plain(), 413, json!({"code": 400013, "msg": "请求包体超过限制"})),
    ];
    for (name, call, signing, status, body) in cases {
        let reply = sb.send(call, &signing).await;
        assert_eq!(reply.status, status, "{name}: {}", String::from_utf8_lossy(&reply.body));
        check(&reply, status, body);
    }
    assert_eq!(sb.control.stats().get("login"), Some(&16), "every login call is counted, rejected ones too");
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn a_nonce_is_forgotten_after_the_window() {
    let sb = Sandbox::start().await;
    let signing = Signing { nonce: Some("window-nonce-00000001"), ..Signing::default() };
    check(&sb.send(&login_call(&good_login()), &signing).await, 200, json!({"ack_code": "SUCCESS"}));
    sb.clock.advance_secs(181);
    check(&sb.send(&login_call(&good_login()), &signing).await, 200, json!({"ack_code": "SUCCESS"}));
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn every_answer_carries_the_gateway_date_and_clock_skew_moves_it() {
    let sb = Sandbox::start().await;
    let login = login_call(&good_login());
    for reply in [sb.call(&login).await, sb.sim(Method::GET, "/sim/stats", None).await] {
        assert_eq!(reply.header("date"), Some(START_DATE));
    }
    let missing = sb.sim(Method::GET, "/no/such/route", None).await;
    assert_eq!((missing.status, missing.header("date")), (404, Some(START_DATE)));

    sb.control.add_fault("clock-skew=3600".parse().unwrap());
    let behind = sb.call(&login).await;
    check(&behind, 500, json!({"code": 400001, "msg": "鉴权失败，鉴权信息有误。"}));
    assert_eq!(behind.header("date"), Some("Sat, 28 Nov 2026 03:00:00 GMT"));
    let in_step = sb.send(&login, &Signing { skew_secs: 3600, ..Signing::default() }).await;
    check(&in_step, 200, json!({"ack_code": "SUCCESS", "timestamp": "2026-11-28 11:00:00"}));

    sb.control.clear_faults();
    assert_eq!(sb.call(&login).await.header("date"), Some(START_DATE));
    sb.gateway.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// 粤商通: code exchange and handling records

#[tokio::test]
async fn a_code_is_exchanged_once_for_what_the_enterprise_consented_to() {
    let sb = Sandbox::start().await;
    let normal = normal();
    let declined = enterprise(|e| e.consent == Consent::Declined, "that declines");
    let nothing = enterprise(|e| e.consent == Consent::NothingTicked, "that ticked nothing");

    let code = sb.issue(&normal);
    assert!(code.payload.ends_with(&format!("/ysm/{}", code.code)));
    let reply = sb.exchange(&code.code).await;
    let summaries: Vec<Value> = normal.licenses.iter().map(|l| json!(l.license.license_code)).collect();
    check(
        &reply,
        200,
        json!({"errcode": 0, "errmsg": "ok", "data": {
            "enterprise": {"name": normal.name, "uscc": normal.uscc},
            "auth_expires_at": "2026-11-28T10:30:00+08:00"}}),
    );
    let data = data_of(&reply);
    let listed: Vec<Value> = data["licenses"].as_array().unwrap().iter().map(|l| l["license_code"].clone()).collect();
    assert_eq!(listed, summaries);
    assert_eq!(data["auth_codes"].as_array().unwrap().len(), summaries.len());
    assert!(data["enterprise"]["legal_rep_name"].as_str().unwrap().contains('*'), "the legal rep is masked");
    assert!(!data["auth_id"].as_str().unwrap().is_empty());

    let item = first_item();
    let not_allowed = ("11440106MB2C00001N4440999000999000".to_owned(), "未开通的事项".to_owned());
    let kept = sb.issue(&normal).code;
    let declined_code = sb.issue(&declined).code;
    let expired = sb.control.issue_code(&normal.uscc, Some(Duration::ZERO)).unwrap().code;
    let mut no_operator = exchange_body(&sb.issue(&normal).code, &item);
    no_operator["operator"]["account"] = json!("");
    let mut no_hall = exchange_body(&sb.issue(&normal).code, &item);
    no_hall.as_object_mut().unwrap().remove("hall");

    let cases: Vec<(&str, Value, i64)> = vec![
        ("the same code again", exchange_body(&code.code, &item), 40003),
        ("an unknown code", exchange_body("AbCdEfGhIjKlMnOpQrStUvWxYz012345", &item), 40001),
        ("a code issued with no time to live", exchange_body(&expired, &item), 40002),
        ("a declined consent", exchange_body(&declined_code, &item), 40004),
        ("the declined code is spent", exchange_body(&declined_code, &item), 40003),
        ("an item not subscribed", exchange_body(&kept, &not_allowed), 40005),
        ("the code survives a wrong item", exchange_body(&kept, &item), 0),
        ("an empty operator account", no_operator, 40010),
        ("no hall", no_hall, 40010),
        ("not an object", json!("ysm_code=abc"), 40010),
    ];
    for (name, body, errcode) in cases {
        let reply = sb.call(&Call::post(&yst_path("code2auth"), &body)).await;
        assert_eq!(reply.json()["errcode"], json!(errcode), "{name}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.status, 200, "{name}");
    }

    let nothing_reply = sb.exchange(&sb.issue(&nothing).code).await;
    check(&nothing_reply, 200, json!({"errcode": 0, "data": {"licenses": [], "auth_codes": []}}));

    let aging = sb.issue(&normal).code;
    sb.clock.advance_secs(120);
    check(&sb.exchange(&aging).await, 200, json!({"errcode": 40002}));
    assert!(sb.control.issue_code("91440000000000000X", None).is_err(), "an unknown USCC gets no code");
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn a_handling_record_is_kept_once_per_biz_num() {
    let sb = Sandbox::start().await;
    let uscc = normal().uscc;
    let submit = |biz: &str, status: &str| Call::post(&yst_path("submit"), &submit_body(biz, &uscc, status));

    let first = sb.call(&submit("440106001-A03-20261128-0001", "DONE")).await;
    check(&first, 200, json!({"errcode": 0, "data": {"duplicate": false}}));
    let again = sb.call(&submit("440106001-A03-20261128-0001", "DONE")).await;
    check(&again, 200, json!({"errcode": 0, "data": {"record_id": data_of(&first)["record_id"], "duplicate": true}}));
    assert_eq!(sb.control.records().len(), 1, "a retry never makes a second record");

    let mut bad_uscc = submit_body("b-3", &uscc, "DONE");
    bad_uscc["applicant"]["uscc"] = json!("91440300708461136A");
    let mut bad_time = submit_body("b-4", &uscc, "DONE");
    bad_time["submitted_at"] = json!("yesterday");
    let mut other_item = submit_body("b-5", &uscc, "DONE");
    other_item["service_item_code"] = json!("not-subscribed");
    let cases: Vec<(&str, Call, i64)> = vec![
        ("an unknown status", submit("b-1", "FINISHED"), 40010),
        ("no biz_num", submit("", "RECEIVED"), 40010),
        ("a bad applicant USCC", Call::post(&yst_path("submit"), &bad_uscc), 40010),
        ("a bad submitted_at", Call::post(&yst_path("submit"), &bad_time), 40010),
        ("an item not subscribed", Call::post(&yst_path("submit"), &other_item), 40005),
        ("another case", submit("440106001-A03-20261128-0002", "REJECTED"), 0),
    ];
    for (name, call, errcode) in cases {
        let reply = sb.call(&call).await;
        assert_eq!(reply.json()["errcode"], json!(errcode), "{name}: {}", String::from_utf8_lossy(&reply.body));
    }

    let records = sb.sim(Method::GET, "/sim/records", None).await.json();
    let bizs: Vec<&str> =
        records.as_array().unwrap().iter().map(|r| r["request"]["biz_num"].as_str().unwrap()).collect();
    assert_eq!(bizs, ["440106001-A03-20261128-0001", "440106001-A03-20261128-0002"]);
    assert_eq!(records[0]["received_at"], json!("2026-11-28T10:00:00+08:00"));
    assert_eq!(records[0]["record_id"], data_of(&first)["record_id"]);
    sb.gateway.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// The e-license use service

#[tokio::test]
async fn login_gives_a_day_long_token_and_calls_need_their_identifiers() {
    let sb = Sandbox::start().await;
    let token = sb.login().await;
    let auth_code = sb.authorized(&normal()).await.remove(0);

    for field in ["account", "password", "app_key", "app_secret"] {
        let mut body = good_login();
        body[field] = json!("wrong");
        let reply = sb.call(&login_call(&body)).await;
        check(&reply, 200, json!({"ack_code": "FAILURE", "errors": [{"code": "LOGIN_FAILED"}], "data": null}));
    }
    check(
        &sb.call(&login_call(&json!({"account": SANDBOX_ACCOUNT}))).await,
        200,
        json!({"ack_code": "FAILURE", "errors": [{"code": "PARAM_INVALID"}]}),
    );

    let ok = sb.get_license(&token, &auth_code).await;
    check(&ok, 200, json!({"ack_code": "SUCCESS", "errors": [], "correlation_id": "req-0001", "total_count": 1}));
    let ok = ok.json();
    assert_eq!(ok["timestamp"], json!("2026-11-28 10:00:00"));
    assert!(!ok["response_id"].as_str().unwrap().is_empty());

    let full = sb.license_call(&token, Method::GET, "/license/get_license", &[("auth_code", &auth_code)]);
    for left_out in ["access_token", "request_id", "system_id", "vender_id", "department_id", "auth_code"] {
        let mut call = full.clone();
        call.query.retain(|(name, _)| name != left_out);
        let reply = sb.call(&call).await;
        check(&reply, 200, json!({"ack_code": "FAILURE", "errors": [{"code": "PARAM_INVALID"}]}));
        assert!(reply.json()["errors"][0]["message"].as_str().unwrap().contains(left_out), "{left_out}");
    }
    let mut stranger = full.clone();
    stranger.query.retain(|(name, _)| name != "department_id");
    stranger.query.push(("department_id".to_owned(), "914403001922038216".to_owned()));
    check(&sb.call(&stranger).await, 200, json!({"errors": [{"code": "NO_AUTHORIZATION"}]}));
    let forged = sb.get_license("AT-forged", &auth_code).await;
    check(&forged, 200, json!({"ack_code": "FAILURE", "errors": [{"code": "INVALID_ACCESS_TOKEN"}]}));

    sb.control.expire_tokens();
    check(&sb.get_license(&token, &auth_code).await, 200, json!({"errors": [{"code": "INVALID_ACCESS_TOKEN"}]}));
    let fresh = sb.login().await;
    check(&sb.get_license(&fresh, &auth_code).await, 200, json!({"ack_code": "SUCCESS"}));
    assert_eq!(sb.sim(Method::POST, "/sim/tokens/expire", None).await.status, 204);
    check(&sb.get_license(&fresh, &auth_code).await, 200, json!({"errors": [{"code": "INVALID_ACCESS_TOKEN"}]}));

    let daily = sb.login().await;
    sb.clock.advance_secs(86_400);
    check(&sb.get_license(&daily, "whatever").await, 200, json!({"errors": [{"code": "INVALID_ACCESS_TOKEN"}]}));
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn licenses_and_annotated_copies_are_served_while_the_authorization_lives() {
    let sb = Sandbox::start().await;
    let token = sb.login().await;
    let normal = normal();
    let codes = sb.authorized(&normal).await;

    let first = &normal.licenses[0].license;
    let license = sb.get_license(&token, &codes[0]).await;
    check(
        &license,
        200,
        json!({"ack_code": "SUCCESS", "data": {"license_code": first.license_code, "id_code": first.id_code,
               "license_status": "ISSUED", "data_fields": first.data_fields}}),
    );
    assert!(data_of(&license)["data_fields"].is_string(), "data_fields is a JSON string");

    let copy = sb.archive(&token, &codes[0], "pdf").await;
    check(
        &copy,
        200,
        json!({"ack_code": "SUCCESS", "data": {"file_name": format!("{}_{}.pdf", first.name, first.id_code)}}),
    );
    let pdf = BASE64.decode(data_of(&copy)["file_data"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "an annotated copy is a PDF");
    assert!(pdf.windows(5).any(|w| w == b"%%EOF"), "a complete PDF");
    let again = sb.archive(&token, &codes[0], "PDF").await;
    assert_eq!(data_of(&again)["file_data"], data_of(&copy)["file_data"], "the same copy, from the cache");
    let other_cause = [("auth_code", codes[0].as_str()), ("file_type", "pdf"), ("use_cause", "公共场所卫生许可")];
    let other = sb.call(&sb.license_call(&token, Method::GET, "/license/archive", &other_cause)).await;
    assert_ne!(data_of(&other)["file_data"], data_of(&copy)["file_data"], "each reason of use is stamped");

    let archive = |query: &[(&str, &str)]| sb.license_call(&token, Method::GET, "/license/archive", query);
    let auth = codes[0].as_str();
    let cases: Vec<(&str, Call, &str)> = vec![
        ("OFD", archive(&[("auth_code", auth), ("file_type", "ofd"), ("use_cause", "x")]), "OFD"),
        ("no use_cause", archive(&[("auth_code", auth), ("file_type", "pdf")]), "use_cause"),
        ("empty use_cause", archive(&[("auth_code", auth), ("file_type", "pdf"), ("use_cause", "")]), "use_cause"),
        ("no file_type", archive(&[("auth_code", auth), ("use_cause", "x")]), "file_type"),
    ];
    for (name, call, says) in cases {
        let reply = sb.call(&call).await;
        check(&reply, 200, json!({"ack_code": "FAILURE", "errors": [{"code": "PARAM_INVALID"}]}));
        assert!(reply.json()["errors"][0]["message"].as_str().unwrap().contains(says), "{name}");
    }

    let revoked = revoked();
    let revoked_codes = sb.authorized(&revoked).await;
    let at = revoked.licenses.iter().position(|l| l.license.license_status == "ABOLISHED").unwrap();
    check(&sb.get_license(&token, &revoked_codes[at]).await, 200, json!({"data": {"license_status": "ABOLISHED"}}));
    check(
        &sb.archive(&token, &revoked_codes[at], "pdf").await,
        200,
        json!({"ack_code": "FAILURE", "errors": [{"code": "LICENSE_ABOLISHED"}]}),
    );

    let scanned = scanned();
    let scanned_codes = sb.authorized(&scanned).await;
    let at = scanned.licenses.iter().position(|l| l.file == FileKind::ScannedJpeg).unwrap();
    let jpeg = sb.archive(&token, &scanned_codes[at], "pdf").await;
    assert!(data_of(&jpeg)["file_name"].as_str().unwrap().ends_with(".jpg"));
    assert!(BASE64.decode(data_of(&jpeg)["file_data"].as_str().unwrap()).unwrap().starts_with(&[0xFF, 0xD8]));

    check(
        &sb.get_license(&token, "no-such-auth-code").await,
        200,
        json!({"errors": [{"code": "AUTH_CODE_NOT_FOUND"}]}),
    );
    sb.clock.advance_secs(30 * 60);
    check(&sb.get_license(&token, &codes[1]).await, 200, json!({"errors": [{"code": "AUTH_CODE_EXPIRED"}]}));
    check(&sb.archive(&token, &codes[0], "pdf").await, 200, json!({"errors": [{"code": "AUTH_CODE_EXPIRED"}]}));

    let later = sb.authorized(&normal).await;
    check(&sb.get_license(&token, &later[0]).await, 200, json!({"ack_code": "SUCCESS"}));
    sb.control.expire_authorizations();
    check(&sb.get_license(&token, &later[0]).await, 200, json!({"errors": [{"code": "AUTH_CODE_EXPIRED"}]}));
    let over_http = sb.authorized(&normal).await;
    assert_eq!(sb.sim(Method::POST, "/sim/authorizations/expire", None).await.status, 204);
    check(&sb.get_license(&token, &over_http[0]).await, 200, json!({"errors": [{"code": "AUTH_CODE_EXPIRED"}]}));
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn license_auth_pages_through_a_holders_licenses() {
    let sb = Sandbox::start().await;
    let token = sb.login().await;
    let many = with_most_licenses();
    let normal = normal();
    let total = many.licenses.len();
    assert!(total > 4, "the sample with most licenses has {total}");

    let query = |identity: &str, page_index: u32, page_size: u32| {
        let (item_code, item_name) = first_item();
        let body = json!({
            "identity_number": identity, "service_item_code": item_code, "service_item_name": item_name,
            "biz_num": "440106001-A03-20261128-0009", "page_index": page_index, "page_size": page_size,
            "operator": {"account": "chenxm", "name": "陈晓敏", "identity_num": "", "role": "窗口受理人员",
                         "division": "天河区", "division_code": "440106", "service_org": "广州市天河区政务服务中心",
                         "service_org_code": SANDBOX_DEPARTMENT_ID}
        });
        let mut call = Call::post(&format!("{LICENSE_PREFIX}/license/auth"), &body);
        call.query = sb.caller(&token);
        call
    };
    let codes_of =
        |reply: &Reply| -> Vec<String> { serde_json::from_value(reply.json()["auth_codes"].clone()).unwrap() };
    let codes_in_order = |reply: &Reply| -> Vec<String> {
        data_of(reply).as_array().unwrap().iter().map(|l| l["license_code"].as_str().unwrap().to_owned()).collect()
    };
    let expected: Vec<String> = many.licenses.iter().map(|l| l.license.license_code.clone()).collect();

    let mut seen = Vec::new();
    for page in 1..=total.div_ceil(4) as u32 {
        let reply = sb.call(&query(&many.uscc, page, 4)).await;
        check(&reply, 200, json!({"ack_code": "SUCCESS", "total_count": total}));
        assert_eq!(codes_of(&reply).len(), data_of(&reply).as_array().unwrap().len(), "one auth code per license");
        seen.extend(codes_in_order(&reply));
    }
    assert_eq!(seen, expected, "the pages together list every license once, in order");

    let beyond = sb.call(&query(&many.uscc, 99, 4)).await;
    check(&beyond, 200, json!({"ack_code": "SUCCESS", "data": [], "auth_codes": [], "total_count": total}));
    let both = sb.call(&query(&format!("{},{}", many.uscc, normal.uscc), 1, 150)).await;
    check(&both, 200, json!({"total_count": total + normal.licenses.len()}));
    let first_code = &codes_of(&both)[0];
    check(&sb.get_license(&token, first_code).await, 200, json!({"data": {"license_code": expected[0]}}));

    for (name, call) in [
        ("page_size over 150", query(&many.uscc, 1, 151)),
        ("page_size 0", query(&many.uscc, 1, 0)),
        ("page_index 0", query(&many.uscc, 0, 10)),
        ("a bad USCC", query("91440300708461136A", 1, 10)),
        ("no holder", query("", 1, 10)),
    ] {
        let reply = sb.call(&call).await;
        assert_eq!(reply.json()["errors"][0]["code"], json!("PARAM_INVALID"), "{name}");
    }
    sb.gateway.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Faults

/// What a fault should do to the call it hits.
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// The gateway's own answer: status, `code`, and `Retry-After` if any.
    Gateway(u16, i64, Option<&'static str>),
    Malformed,
    Truncated,
    Oversized,
    SlowBody,
    Dropped,
    Late(u64),
}

#[tokio::test]
async fn each_fault_does_what_it_says_and_its_count_is_spent() {
    let sb = Sandbox::start().await;
    let token = sb.login().await;
    let auth_code = sb.authorized(&normal()).await.remove(0);
    let login = login_call(&good_login());
    let archive = sb.license_call(
        &token,
        Method::GET,
        "/license/archive",
        &[("auth_code", &auth_code), ("file_type", "pdf"), ("use_cause", "食品经营许可（新办）")],
    );
    let normal_login_len = sb.call(&login).await.body.len();

    let cases: Vec<(&str, &Call, Effect)> = vec![
        ("login:status=500*1", &login, Effect::Gateway(500, 400500, None)),
        ("status=502*1", &login, Effect::Gateway(502, 400502, None)),
        ("login:status=503*1", &login, Effect::Gateway(503, 400503, None)),
        ("archive:status=504*1", &archive, Effect::Gateway(504, 400504, None)),
        ("login:status=429*1", &login, Effect::Gateway(429, 400029, Some("1"))),
        ("login:retry-after=7*1", &login, Effect::Gateway(429, 400029, Some("7"))),
        ("login:sig-reject*1", &login, Effect::Gateway(500, 400001, None)),
        ("login:malformed*1", &login, Effect::Malformed),
        ("login:truncated*1", &login, Effect::Truncated),
        ("login:oversized*1", &login, Effect::Oversized),
        ("archive:oversized*1", &archive, Effect::Oversized),
        ("login:slow-body*1", &login, Effect::SlowBody),
        ("login:drop*1", &login, Effect::Dropped),
        ("archive:latency=300*1", &archive, Effect::Late(300)),
    ];
    for (spec, call, effect) in cases {
        let fault: Fault = spec.parse().unwrap();
        sb.control.set_faults(vec![fault]);
        let started = Instant::now();
        let response = sb.request(call, &Signing::default()).send().await;
        match effect {
            Effect::Dropped => {
                let failed = match response {
                    Err(_) => true,
                    Ok(response) => response.bytes().await.is_err(),
                };
                assert!(failed, "{spec}: the connection should drop");
            }
            Effect::SlowBody => {
                let mut response = response.expect("headers come at once");
                assert_eq!(response.status(), 200, "{spec}");
                assert!(started.elapsed() < Duration::from_secs(2), "{spec}: headers took {:?}", started.elapsed());
                assert_eq!(response.chunk().await.unwrap().map(|c| c.len()), Some(1), "{spec}: one byte first");
                let before_second = Instant::now();
                assert_eq!(response.chunk().await.unwrap().map(|c| c.len()), Some(1), "{spec}: then another");
                assert!(before_second.elapsed() >= Duration::from_millis(50), "{spec}: the body trickles");
            }
            _ => {
                let reply = reply_of(response.expect("an answer")).await;
                expect_effect(spec, &reply, effect, normal_login_len);
                if let Effect::Late(ms) = effect {
                    assert!(started.elapsed() >= Duration::from_millis(ms), "{spec}: {:?}", started.elapsed());
                }
            }
        }
        assert!(sb.control.faults().is_empty(), "{spec}: a fault with *1 is spent after one hit");
        let after = sb.call(call).await;
        check(&after, 200, json!({"ack_code": "SUCCESS"}));
    }
    sb.gateway.shutdown().await;
}

fn expect_effect(spec: &str, reply: &Reply, effect: Effect, normal_len: usize) {
    let parsed = serde_json::from_slice::<Value>(&reply.body);
    match effect {
        Effect::Gateway(status, code, retry_after) => {
            check(reply, status, json!({"code": code}));
            assert_eq!(reply.header("retry-after"), retry_after, "{spec}");
        }
        Effect::Malformed => assert!(reply.status == 200 && parsed.is_err(), "{spec}"),
        Effect::Truncated => {
            assert!(reply.status == 200 && parsed.is_err(), "{spec}");
            assert!(reply.body.starts_with(b"{") && reply.body.len().abs_diff(normal_len / 2) <= 1, "{spec}");
        }
        Effect::Oversized => {
            assert!(reply.body.len() > TEST_LIMIT, "{spec}: {} bytes", reply.body.len());
            check(reply, 200, json!({"ack_code": "SUCCESS"}));
            if let Some(file) = reply.json()["data"]["file_data"].as_str() {
                assert_eq!(BASE64.decode(file).unwrap().len(), OVERSIZE_BYTES, "{spec}");
                // Past what the counter reads in either environment: the fault is a refusal there.
                assert!(OVERSIZE_BYTES > Environment::Production.response_limit(), "{spec}");
            }
        }
        Effect::Late(_) => check(reply, 200, json!({"ack_code": "SUCCESS"})),
        Effect::SlowBody | Effect::Dropped => unreachable!("checked on the response itself"),
    }
}

#[tokio::test]
async fn faults_keep_to_their_route_and_count() {
    let sb = Sandbox::start().await;
    let login = login_call(&good_login());
    let status_of = |reply: Reply| reply.status;

    sb.control.set_faults(vec!["archive:status=500*1".parse().unwrap(), "login:status=502*2".parse().unwrap()]);
    assert_eq!(status_of(sb.call(&login).await), 502);
    assert_eq!(status_of(sb.call(&login).await), 502);
    assert_eq!(status_of(sb.call(&login).await), 200, "spent after two");
    let left: Vec<String> = sb.control.faults().iter().map(Fault::to_string).collect();
    assert_eq!(left, ["archive:status=500*1"], "another route's fault is untouched");

    sb.control.set_faults(vec!["login:status=503".parse().unwrap()]);
    for _ in 0..3 {
        assert_eq!(status_of(sb.call(&login).await), 503, "a fault without a count stays");
    }
    sb.control.clear_faults();

    sb.control.set_latency(Duration::from_millis(250));
    let started = Instant::now();
    assert_eq!(status_of(sb.call(&login).await), 200);
    assert!(started.elapsed() >= Duration::from_millis(250), "the global latency applies");
    sb.control.set_latency(Duration::ZERO);

    let stats = sb.control.stats();
    assert_eq!(stats.get("login"), Some(&7));
    assert_eq!(stats.get("archive"), None);
    sb.gateway.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// The control routes

#[tokio::test]
async fn the_sim_routes_steer_the_sandbox_over_http() {
    let sb = Sandbox::start().await;
    let listed = sb.sim(Method::GET, "/sim/enterprises", None).await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    let samples = samples::enterprises();
    assert_eq!(listed.as_array().unwrap().len(), samples.len());
    assert_eq!(listed[0]["uscc"], json!(samples[0].uscc));
    assert_eq!(listed[0]["license_count"], json!(samples[0].licenses.len()));
    assert!(listed[0]["note"].is_string() && listed[0]["name"].is_string());

    let issued = sb.sim(Method::POST, "/sim/codes", Some(json!({"uscc": samples[0].uscc}))).await;
    assert_eq!(issued.status, 200);
    let issued: IssuedCode = serde_json::from_slice(&issued.body).unwrap();
    assert_eq!(issued.code.len(), 32);
    assert!(issued.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(issued.payload, format!("https://yueshangma.sandbox.invalid/ysm/{}", issued.code));
    assert_eq!(issued.expires_at.to_rfc3339(), "2026-11-28T10:02:00+08:00");
    check(&sb.exchange(&issued.code).await, 200, json!({"errcode": 0}));
    let short = sb.sim(Method::POST, "/sim/codes", Some(json!({"uscc": samples[0].uscc, "valid_for_secs": 0}))).await;
    let short: IssuedCode = serde_json::from_slice(&short.body).unwrap();
    check(&sb.exchange(&short.code).await, 200, json!({"errcode": 40002}));
    assert_eq!(sb.sim(Method::POST, "/sim/codes", Some(json!({"uscc": "91440300708461136T"}))).await.status, 404);
    assert_eq!(sb.sim(Method::POST, "/sim/codes", Some(json!({"usc": "x"}))).await.status, 400);

    let qr = sb.http.get(sb.url("/sim/qr.png")).query(&[("payload", issued.payload.as_str())]).send().await.unwrap();
    assert_eq!(qr.headers()["content-type"], "image/png");
    assert!(qr.bytes().await.unwrap().starts_with(b"\x89PNG"));
    assert_eq!(sb.sim(Method::GET, "/sim/qr.png", None).await.status, 400);

    let put = sb.sim(Method::PUT, "/sim/faults", Some(json!(["archive:status=500*1", " latency=5 "]))).await;
    check(&put, 200, json!(["archive:status=500*1", "latency=5"]));
    let bad = sb.sim(Method::PUT, "/sim/faults", Some(json!(["archive:explode"]))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("unknown fault kind"));
    check(&sb.sim(Method::GET, "/sim/faults", None).await, 200, json!(["archive:status=500*1", "latency=5"]));
    assert_eq!(sb.sim(Method::DELETE, "/sim/faults", None).await.status, 204);
    check(&sb.sim(Method::GET, "/sim/faults", None).await, 200, json!([]));

    check(&sb.sim(Method::GET, "/sim/stats", None).await, 200, json!({"code2auth": 2}));
    check(&sb.sim(Method::GET, "/sim/records", None).await, 200, json!([]));
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn sandbox_settings_point_a_counter_at_this_sandbox() {
    let sb = Sandbox::start().await;
    let settings = sandbox_settings(&sb.gateway.base_url());
    let base = sb.gateway.base_url();
    assert!(settings.gateway.yst_base.as_str().starts_with(base.as_str()));
    assert_eq!(settings.gateway.paasid, SANDBOX_PAASID);
    let sample_codes: Vec<String> = samples::service_items().into_iter().map(|(code, _)| code).collect();
    let configured: Vec<String> = settings.service_items.iter().map(|i| i.code.clone()).collect();
    assert_eq!(configured, sample_codes);

    // A call built only from the settings goes through.
    let login = format!("{}/security/login", settings.gateway.license_base.as_str().trim_end_matches('/'));
    let path = reqwest::Url::parse(&login).unwrap().path().to_owned();
    check(&sb.call(&Call::post(&path, &good_login())).await, 200, json!({"ack_code": "SUCCESS"}));
    let bare = Call::get(&format!("{LICENSE_PREFIX}/license/get_license"), &[("auth_code", "x")]);
    check(&sb.call(&bare).await, 200, json!({"errors": [{"code": "PARAM_INVALID"}]}));
    sb.gateway.shutdown().await;
}

#[tokio::test]
async fn an_issuer_can_revoke_a_license_after_the_scan() {
    let sb = Sandbox::start().await;
    let token = sb.login().await;
    let normal = normal();
    let codes = sb.authorized(&normal).await;
    let license = &normal.licenses[0].license;
    check(&sb.get_license(&token, &codes[0]).await, 200, json!({"data": {"license_status": "ISSUED"}}));

    let order = json!({"license_code": license.license_code, "reason": "发证机关依法撤销"});
    assert_eq!(sb.sim(Method::POST, "/sim/licenses/revoke", Some(order)).await.status, 204);
    check(
        &sb.get_license(&token, &codes[0]).await,
        200,
        json!({"data": {"license_status": "ABOLISHED", "abolish_reason": "发证机关依法撤销"}}),
    );
    check(&sb.archive(&token, &codes[0], "pdf").await, 200, json!({"errors": [{"code": "LICENSE_ABOLISHED"}]}));
    let later = sb.authorized(&normal).await;
    check(&sb.get_license(&token, &later[0]).await, 200, json!({"data": {"license_status": "ABOLISHED"}}));
    check(&sb.get_license(&token, &later[1]).await, 200, json!({"data": {"license_status": "ISSUED"}}));

    let unknown = json!({"license_code": "1.2.156.3005.2.nothing"});
    assert_eq!(sb.sim(Method::POST, "/sim/licenses/revoke", Some(unknown)).await.status, 404);
    assert_eq!(sb.sim(Method::POST, "/sim/licenses/revoke", Some(json!({"code": 1}))).await.status, 400);
    sb.gateway.shutdown().await;
}
