//! A scripted gateway for contract tests: answers each route from hand-written fixtures and
//! records what the client sent, so requests can be checked against the contract by hand.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use yueshang_core::config::{Config, Settings};

/// One scripted answer.
#[derive(Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    pub(crate) fn fixture(name: &str) -> Self {
        Reply::status(200, name)
    }

    pub(crate) fn status(status: u16, fixture_name: &str) -> Self {
        let path = format!("{}/tests/fixtures/{fixture_name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
        Reply { status, body, headers: Vec::new() }
    }

    pub(crate) fn raw(status: u16, body: &str) -> Self {
        Reply { status, body: body.to_owned(), headers: Vec::new() }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What the client sent.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: HashMap<String, String>,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: serde_json::Value,
}

#[derive(Default)]
struct Script {
    replies: HashMap<&'static str, VecDeque<Reply>>,
    seen: Vec<Seen>,
    date: String,
}

#[derive(Clone)]
pub(crate) struct ScriptedGateway {
    script: Arc<Mutex<Script>>,
    pub(crate) base: String,
}

/// The contract route a path ends with.
fn route_of(path: &str) -> Option<&'static str> {
    ["ysm/code2auth", "ysm/apply/submit", "security/login", "license/auth", "license/get_license", "license/archive"]
        .into_iter()
        .find(|r| path.ends_with(r))
}

impl ScriptedGateway {
    pub(crate) async fn start(date: &str) -> Self {
        let script = Arc::new(Mutex::new(Script { date: date.to_owned(), ..Script::default() }));
        let state = script.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { answer(&state, method, uri, headers, body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ScriptedGateway { script, base }
    }

    /// Queues answers for a route; the last one queued keeps answering.
    pub(crate) fn on(&self, route: &'static str, replies: Vec<Reply>) {
        self.script.lock().unwrap().replies.insert(route, replies.into());
    }

    pub(crate) fn set_date(&self, date: &str) {
        self.script.lock().unwrap().date = date.to_owned();
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    pub(crate) fn seen_on(&self, route: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path.ends_with(route)).collect()
    }

    /// Gateway settings pointing here, parsed from a TOML text like the one IT writes.
    pub(crate) fn settings(&self, extra: &str) -> Settings {
        let text = format!(
            r#"
mode = "gateway"
[gateway]
environment = "test"
yst_base = "{base}/ebus/yst_counter"
license_base = "{base}/ebus/dzzz_convergence-service"
paasid = "yst_counter"
token = "fixture-paas-token"
system_id = "SYS-01"
vender_id = "91440300708461136T"
department_id = "914403001922038216"
account = "hall_account"
password = "fixture-password"
app_key = "fixture-app-key"
app_secret = "fixture-app-secret"
[operator]
account = "chenxm"
name = "陈晓敏"
division_code = "440106"
service_org = "广州市天河区政务服务中心"
service_org_code = "11440106MB2C14352R"
[hall]
code = "4401061"
name = "天河区政务服务中心"
counter = "A03"
[[service_items]]
code = "ITEM-FOOD-NEW"
name = "食品经营许可（新办）"
[tuning]
request_timeout_ms = 2000
{extra}
"#,
            base = self.base
        );
        Config::parse(&text).unwrap().into_settings(None).unwrap()
    }
}

fn answer(state: &Mutex<Script>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let query: HashMap<String, String> =
        uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let mut script = state.lock().unwrap();
    script.seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: query.clone(),
        headers: headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let date = script.date.clone();
    let reply = route_of(uri.path()).and_then(|route| {
        let queue = script.replies.get_mut(route)?;
        if queue.len() > 1 { queue.pop_front() } else { queue.front().cloned() }
    });
    let Some(reply) = reply else {
        return (StatusCode::NOT_FOUND, "no script for this route").into_response();
    };
    let request_id = query.get("request_id").cloned().unwrap_or_default();
    let body = reply.body.replace("{{request_id}}", &request_id);
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), body).into_response();
    let h = response.headers_mut();
    h.insert("content-type", "application/json; charset=utf-8".parse().unwrap());
    h.insert("date", date.parse().unwrap());
    for (k, v) in reply.headers {
        h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    response
}
