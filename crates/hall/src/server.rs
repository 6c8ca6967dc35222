//! The hall service's HTTP(S) face: every request signed by an enrolled counter key (checked
//! before anything else), batches taken, and the hall's day, events and exports read. HTTPS with
//! the hall's certificate; plain HTTP only on a loopback address.

use crate::Refused;
use crate::export::export_days;
use crate::ingest::{self, CheckFailure};
use crate::report;
use crate::store::{AlarmKind, Enrolled, Finding, Store};
use crate::witness::Witness;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use yueshang_core::audit::day::EventFilter;
use yueshang_core::audit::export::Formats;
use yueshang_core::audit::key::verify_signature;
use yueshang_core::clock::Clock;
use yueshang_core::shipping::wire::{self, ExportFile, ExportSet, Head};
use yueshang_core::{Error, ErrorCode};

/// What the service shares between requests.
#[derive(Clone)]
struct Hall {
    store: Store,
    witness: Arc<Witness>,
    clock: Arc<dyn Clock>,
}

/// The certificate chain and private key (PEM files) of HTTPS.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A service bound to its address, ready to run.
pub struct Bound {
    /// `http://…` or `https://…`, with the port the OS gave.
    pub url: String,
    serve: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
}

impl Bound {
    /// Serves until the process ends.
    pub async fn run(self) -> std::io::Result<()> {
        self.serve.await
    }
}

/// Binds the service: HTTPS when `tls` is given; plain HTTP is refused on anything but loopback.
pub async fn bind(
    store: Store,
    witness: Witness,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
    tls: Option<Tls>,
) -> Result<Bound, Error> {
    if tls.is_none() && !addr.ip().is_loopback() {
        return Err(Error::with_fact(
            ErrorCode::ConfigInvalid,
            format!("不加密的 HTTP 只允许本机地址（{addr} 不是）：请用 --tls-cert 和 --tls-key 给出大厅服务器的证书。"),
        ));
    }
    store.register_witness_key(&witness.fingerprint, &witness.public_pem).await?;
    let hall = Hall { store, witness: Arc::new(witness), clock };
    let app = router(hall);
    let tcp = TcpListener::bind(addr).await.map_err(|e| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("无法监听 {addr}（端口被占用或无权限）。"))
            .detail(e.to_string())
    })?;
    let local = tcp.local_addr().map_err(|e| Error::storage(e.to_string()))?;
    Ok(match tls {
        Some(tls) => {
            let acceptor = TlsAcceptor::from(Arc::new(server_config(&tls)?));
            Bound {
                url: format!("https://{local}"),
                serve: Box::pin(async move { axum::serve(TlsListener { tcp, acceptor }, app).await }),
            }
        }
        None => Bound { url: format!("http://{local}"), serve: Box::pin(async move { axum::serve(tcp, app).await }) },
    })
}

fn router(hall: Hall) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/head", get(head))
        .route("/v1/batches", post(batches))
        .route("/v1/report", get(day_report))
        .route("/v1/events", get(events))
        .route("/v1/export", get(export))
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
        .with_state(hall)
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self.envelope())).into_response()
    }
}

/// The enrolled counter that signed this request; anything else is refused before it is read.
async fn authenticate(
    hall: &Hall,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Enrolled, Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (fingerprint, time) = (header(wire::HEADER_KEY), header(wire::HEADER_TIME));
    let unsigned = || Refused::new(401, ErrorCode::HallRefused, "请求没有有效的窗口签名");
    let signature =
        base64::engine::general_purpose::STANDARD.decode(header(wire::HEADER_SIGNATURE)).map_err(|_| unsigned())?;
    let signed_at = DateTime::parse_from_rfc3339(&time).map_err(|_| unsigned())?;
    let skew = (hall.clock.now_china() - signed_at).num_seconds().abs();
    if skew > wire::MAX_CLOCK_DIFFERENCE_SECONDS {
        return Err(Refused::new(
            401,
            ErrorCode::ClockSkew,
            format!("本窗口电脑的时间与大厅服务器相差 {} 分钟", skew / 60),
        ));
    }
    let Some(counter) = hall.store.enrolled_by_key(&fingerprint).await? else {
        if fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            let finding = Finding { key_fingerprint: Some(&fingerprint), ..Finding::default() };
            hall.store.record_alarm(AlarmKind::Unenrolled, &finding).await?;
        }
        return Err(Refused::new(
            403,
            ErrorCode::CounterNotEnrolled,
            format!("大厅服务没有登记这把窗口密钥（指纹 {}…）", fingerprint.get(..16).unwrap_or(&fingerprint)),
        ));
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let message = wire::request_message(method.as_str(), path, &time, body);
    if !verify_signature(&counter.public_pem, &message, &signature) {
        return Err(unsigned());
    }
    Ok(counter)
}

async fn head(State(hall): State<Hall>, method: Method, uri: Uri, headers: HeaderMap) -> Result<Json<Head>, Refused> {
    let counter = authenticate(&hall, &method, &uri, &headers, &[]).await?;
    let (acked_seq, head) = hall.store.head(&counter.counter_ref).await?;
    Ok(Json(Head { acked_seq, head, hall_public_pem: hall.witness.public_pem.clone() }))
}

async fn batches(
    State(hall): State<Hall>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<wire::Ack>, Refused> {
    let counter = authenticate(&hall, &method, &uri, &headers, &body).await?;
    let batch: wire::Batch =
        serde_json::from_slice(&body).map_err(|e| Refused::invalid(format!("这批记录不是大厅协议的格式（{e}）")))?;
    // Hashing a thousand events and checking two signatures is CPU work: off the async threads.
    let checked = {
        let counter = counter.clone();
        tokio::task::spawn_blocking(move || ingest::check(batch, &counter))
            .await
            .map_err(|e| Refused::store(format!("check task: {e}")))?
    };
    let checked = match checked {
        Ok(checked) => checked,
        Err(CheckFailure::Invalid(refused)) => return Err(refused),
        Err(CheckFailure::BadSignature(refused)) => {
            let finding = Finding { counter_ref: Some(&counter.counter_ref), seq: refused.seq, ..Finding::default() };
            hall.store.record_alarm(AlarmKind::BadSignature, &finding).await?;
            return Err(refused);
        }
    };
    Ok(Json(ingest::store(&hall.store, &counter, checked, &hall.witness).await?))
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    date: String,
}

fn parse_date(text: &str) -> Result<NaiveDate, Refused> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Refused::invalid("日期应为 YYYY-MM-DD"))
}

async fn day_report(
    State(hall): State<Hall>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<DayQuery>,
) -> Result<Json<wire::HallDay>, Refused> {
    authenticate(&hall, &method, &uri, &headers, &[]).await?;
    Ok(Json(report::day(&hall.store, parse_date(&query.date)?).await?))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    date: String,
    counter: Option<String>,
    clerk: Option<String>,
    item: Option<String>,
    outcome: Option<String>,
    kind: Option<String>,
    biz_num: Option<String>,
    uscc: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
}

async fn events(
    State(hall): State<Hall>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Result<Json<wire::HallEventPage>, Refused> {
    authenticate(&hall, &method, &uri, &headers, &[]).await?;
    let date = parse_date(&q.date)?;
    let filter = EventFilter {
        clerk: q.clerk,
        item: q.item,
        outcome: q.outcome,
        kind: q.kind,
        biz_num: q.biz_num,
        uscc: q.uscc,
    };
    let page =
        report::events(&hall.store, date, (&q.counter, &filter), q.offset.unwrap_or(0), q.limit.unwrap_or(100)).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    date: String,
    counter: String,
    format: Option<String>,
}

/// One counter's files of one day, as base64 in JSON (a counter's day is a few MB; the window
/// asks counter by counter).
async fn export(
    State(hall): State<Hall>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Json<Vec<ExportSet>>, Refused> {
    authenticate(&hall, &method, &uri, &headers, &[]).await?;
    let date = parse_date(&q.date)?;
    let formats = Formats::parse(q.format.as_deref().unwrap_or("both")).map_err(Refused::from)?;
    let dir = tempfile::tempdir().map_err(|e| Refused::store(format!("temp dir: {e}")))?;
    let written = export_days(&hall.store, (date, date), Some(&q.counter), formats, dir.path()).await?;
    let mut sets = Vec::new();
    for counter in written {
        let mut files = Vec::new();
        for path in &counter.files {
            let bytes = tokio::fs::read(path).await.map_err(|e| Refused::store(format!("read export: {e}")))?;
            files.push(ExportFile {
                name: file_name(path),
                content: base64::engine::general_purpose::STANDARD.encode(bytes),
            });
        }
        sets.push(ExportSet {
            hall: counter.hall,
            counter: counter.counter,
            stem: counter.stem,
            events: counter.events,
            files,
        });
    }
    Ok(Json(sets))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn server_config(tls: &Tls) -> Result<rustls::ServerConfig, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("{what} {} 无法使用（{e}）。", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad("证书文件", &tls.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| bad("私钥文件", &tls.key, &e))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| bad("证书与私钥", &tls.cert, &e))
}

/// TCP connections after their TLS handshake (a handshake that fails or stalls is dropped alone).
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(Duration::from_secs(10), self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::info!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::info!(%addr, "TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
