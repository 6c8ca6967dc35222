//! The counter's HTTP client of the hall service: every request signed with the counter's SM2 key,
//! the hall's refusals turned into the core's errors (a fork names its seq).

use super::wire::{self, Ack, Batch, Head, RefusalEnvelope};
use crate::audit::key::CounterKey;
use crate::config::HallServiceSettings;
use crate::error::{Error, ErrorCode, Result};
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// How long one call to the hall may take (a full batch on a slow hall LAN included).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The hall service at `[hall_service] url`.
#[derive(Debug, Clone)]
pub struct HallClient {
    http: reqwest::Client,
    base: Url,
}

/// Why a batch was not taken.
#[derive(Debug)]
pub enum SendError {
    /// The batch does not start where the hall's chain of this counter ends: go on from `acked_seq`.
    Gap {
        acked_seq: i64,
    },
    Refused(Error),
}

impl From<Error> for SendError {
    fn from(err: Error) -> Self {
        SendError::Refused(err)
    }
}

impl HallClient {
    pub fn new(settings: &HallServiceSettings) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(crate::gateway::CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .no_proxy()
            .user_agent(concat!("yueshang-counter/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_file {
            for certificate in crate::gateway::extra_roots(path, "hall_service.ca_file")? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().map_err(|e| Error::config("hall_service", format!("无法建立连接（{e}）")))?;
        Ok(HallClient { http, base: settings.url.clone() })
    }

    pub fn url(&self) -> &Url {
        &self.base
    }

    /// Where the hall's copy of this counter's chain ends, and the hall's witness key.
    pub async fn head(&self, key: &CounterKey, now: DateTime<FixedOffset>) -> Result<Head> {
        self.get(key, "/v1/head", now).await
    }

    /// Sends a batch; a gap is told apart so the caller can go on from where the hall is.
    pub async fn send(
        &self,
        key: &CounterKey,
        batch: &Batch,
        now: DateTime<FixedOffset>,
    ) -> std::result::Result<Ack, SendError> {
        let body = serde_json::to_vec(batch).map_err(|e| Error::storage(format!("batch JSON: {e}")))?;
        let response = self.call(key, reqwest::Method::POST, "/v1/batches", body, now).await?;
        match read_answer::<Ack>(response).await {
            Ok(ack) => Ok(ack),
            Err(Answer::Refusal(refusal)) if refusal.code == wire::CHAIN_GAP => {
                Err(SendError::Gap { acked_seq: refusal.acked_seq.unwrap_or(0) })
            }
            Err(answer) => Err(SendError::Refused(answer.into_error())),
        }
    }

    /// A signed GET of the hall's reads (`/v1/report?…`, `/v1/events?…`, `/v1/export?…`).
    pub async fn get<T: DeserializeOwned>(
        &self,
        key: &CounterKey,
        path_and_query: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<T> {
        let response = self.call(key, reqwest::Method::GET, path_and_query, Vec::new(), now).await?;
        read_answer(response).await.map_err(Answer::into_error)
    }

    async fn call(
        &self,
        key: &CounterKey,
        method: reqwest::Method,
        path_and_query: &str,
        body: Vec<u8>,
        now: DateTime<FixedOffset>,
    ) -> Result<reqwest::Response> {
        let url = self
            .base
            .join(path_and_query.trim_start_matches('/'))
            .map_err(|e| Error::config("hall_service.url", format!("无法拼接请求地址（{e}）")))?;
        let time = now.to_rfc3339_opts(SecondsFormat::Secs, false);
        let signed_path = &url[url::Position::BeforePath..];
        let message = wire::request_message(method.as_str(), signed_path, &time, &body);
        let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&message));
        self.http
            .request(method, url)
            .header(wire::HEADER_KEY, key.fingerprint())
            .header(wire::HEADER_TIME, time)
            .header(wire::HEADER_SIGNATURE, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))
    }
}

/// What came back instead of the expected answer.
enum Answer {
    Refusal(wire::Refusal),
    Broken(Error),
}

impl Answer {
    fn into_error(self) -> Error {
        match self {
            Answer::Broken(err) => err,
            Answer::Refusal(refusal) => refusal_error(refusal),
        }
    }
}

async fn read_answer<T: DeserializeOwned>(response: reqwest::Response) -> std::result::Result<T, Answer> {
    let status = response.status();
    let url = response.url().clone();
    let bytes = response.bytes().await.map_err(|e| Answer::Broken(unreachable(&url, &e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| {
            Answer::Broken(
                Error::with_fact(ErrorCode::HallUnreachable, format!("{} 的回答不是大厅服务的格式。", origin(&url)))
                    .detail(e.to_string()),
            )
        });
    }
    match serde_json::from_slice::<RefusalEnvelope>(&bytes) {
        Ok(envelope) => Err(Answer::Refusal(envelope.error)),
        Err(_) => Err(Answer::Broken(
            Error::with_fact(ErrorCode::HallUnreachable, format!("{} 回答了 HTTP {status}。", origin(&url)))
                .detail(String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned()),
        )),
    }
}

/// A refusal as the core's error: its code when the core knows it, the hall's words as the fact,
/// and the seq (of a fork) in the detail as `seq=N`.
fn refusal_error(refusal: wire::Refusal) -> Error {
    let code = ErrorCode::parse(&refusal.code).unwrap_or(ErrorCode::HallRefused);
    let err = Error::with_fact(code, format!("大厅服务：{}", refusal.message.trim_end_matches('。')) + "。");
    match refusal.seq {
        Some(seq) => err.detail(format!("seq={seq}")),
        None => err.detail(format!("code={}", refusal.code)),
    }
}

/// The seq a `CHAIN_FORK` error names (its detail `seq=N`).
pub fn fork_seq(err: &Error) -> Option<i64> {
    (err.code == ErrorCode::ChainFork).then_some(())?;
    err.detail.as_deref()?.strip_prefix("seq=")?.parse().ok()
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn unreachable(url: &Url, e: &reqwest::Error) -> Error {
    let what = if e.is_timeout() { "没有及时回答" } else { "连接失败" };
    Error::with_fact(ErrorCode::HallUnreachable, format!("大厅服务 {} {what}。", origin(url))).detail(e.to_string())
}
