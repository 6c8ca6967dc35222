//! The doctor against the real sandbox over HTTP: all green, clock skew, a rejected signature, an
//! unreachable port, TLS with a self-signed certificate (without and with `ca_file`), a refusing proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use url::Url;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::config::Settings;
use yueshang_core::doctor::{self, CHECK_IDS, DoctorInput, Report};
use yueshang_gateway_sim::{Fault, SandboxGateway, SimOptions, sandbox_settings};

async fn sandbox(faults: &[&str]) -> SandboxGateway {
    let faults = faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect();
    SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions { faults, ..SimOptions::default() }).await.unwrap()
}

/// Sandbox settings at `base` with a short request timeout, as `[tuning]` would set it.
fn settings_at(base: &Url) -> Settings {
    let mut settings = sandbox_settings(base);
    settings.tuning.request_timeout = Duration::from_secs(3);
    settings
}

async fn diagnose(settings: Settings) -> (Report, Vec<&'static str>) {
    let data = tempfile::tempdir().unwrap();
    let input = DoctorInput {
        config_file: None,
        config: Ok(None),
        sandbox: Some(settings),
        cache: None,
        data_dir: data.path().join("data"),
        log_dir: yueshang_core::config::log_dir(&data.path().join("data")),
        clock: Arc::new(SystemClock),
        nonces: Arc::new(RandomNonces),
    };
    let mut streamed = Vec::new();
    let report = doctor::run(input, |check| streamed.push(check.id)).await;
    (report, streamed)
}

fn ok(report: &Report, id: &str) -> bool {
    report.check(id).unwrap_or_else(|| panic!("no {id} check")).ok
}

fn figure<'a>(report: &'a Report, id: &str) -> &'a str {
    &report.check(id).unwrap().figure
}

fn fix<'a>(report: &'a Report, id: &str) -> &'a str {
    report.check(id).unwrap().fix.as_deref().unwrap_or("")
}

const NETWORK: [&str; 6] = ["dns", "tcp", "tls", "clock", "signature", "license_login"];

#[tokio::test]
async fn a_healthy_sandbox_passes_every_check_needed_to_scan_and_nothing_changes_there() {
    let sim = sandbox(&[]).await;
    let (report, streamed) = diagnose(settings_at(&sim.base_url())).await;
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, CHECK_IDS, "every check, in order");
    assert_eq!(streamed, CHECK_IDS, "streamed as each finished");
    assert!(report.ready_to_scan(), "{report:#?}");
    for id in NETWORK {
        assert!(ok(&report, id), "{:?}", report.check(id));
    }
    assert!(figure(&report, "tls").contains("不适用"), "{}", figure(&report, "tls"));
    assert!(figure(&report, "signature").contains("接受了签名"));
    assert!(report.check("signature").unwrap().millis.is_some());
    // The probe changed nothing: one exchange, no record, and the login only.
    let stats = sim.control().stats();
    assert_eq!(stats.get("code2auth"), Some(&1), "{stats:?}");
    assert!(sim.control().records().is_empty());
}

#[tokio::test]
async fn clock_skew_fails_the_clock_with_its_seconds_and_the_signature_names_the_clock() {
    let sim = sandbox(&["clock-skew=300"]).await;
    let (report, _) = diagnose(settings_at(&sim.base_url())).await;
    assert!(!ok(&report, "clock") && figure(&report, "clock").contains("300"), "{:?}", report.check("clock"));
    assert!(fix(&report, "clock").contains("NTP"));
    assert!(!ok(&report, "signature"), "{:?}", report.check("signature"));
    assert!(figure(&report, "signature").contains("300"), "{}", figure(&report, "signature"));
    assert!(!report.ready_to_scan());
}

#[tokio::test]
async fn a_rejected_signature_fails_only_the_signature_and_blames_the_credentials() {
    let sim = sandbox(&["sig-reject*1"]).await;
    let (report, _) = diagnose(settings_at(&sim.base_url())).await;
    assert!(!ok(&report, "signature"), "{:?}", report.check("signature"));
    assert!(fix(&report, "signature").contains("secrets set token"), "{}", fix(&report, "signature"));
    for id in ["dns", "tcp", "tls", "clock", "license_login"] {
        assert!(ok(&report, id), "{:?}", report.check(id));
    }
    assert!(!report.ready_to_scan());
}

#[tokio::test]
async fn an_unreachable_port_fails_tcp_fast_and_later_steps_say_not_tried() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let started = Instant::now();
    let (report, _) = diagnose(settings_at(&Url::parse(&format!("http://{closed}/")).unwrap())).await;
    assert!(ok(&report, "dns"));
    assert!(!ok(&report, "tcp") && figure(&report, "tcp").contains("拒绝"), "{:?}", report.check("tcp"));
    for id in ["tls", "clock", "signature", "license_login"] {
        assert!(!ok(&report, id) && figure(&report, id).starts_with("未检查"), "{:?}", report.check(id));
    }
    assert_eq!(report.checks.len(), CHECK_IDS.len());
    let network_millis: u64 = NETWORK.iter().filter_map(|id| report.check(id).unwrap().millis).sum();
    assert!(network_millis < 2000, "network steps took {network_millis} ms");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_refusing_proxy_fails_naming_the_proxy() {
    let sim = sandbox(&[]).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let mut settings = settings_at(&sim.base_url());
    settings.gateway.proxy = Some(Url::parse(&format!("http://{closed}")).unwrap());
    let (report, _) = diagnose(settings).await;
    let tcp = report.check("tcp").unwrap();
    assert!(!tcp.ok && tcp.figure.contains("代理") && tcp.figure.contains(&closed.port().to_string()), "{tcp:?}");
    assert!(tcp.fix.as_deref().unwrap().contains("[gateway] proxy"));
    assert!(figure(&report, "signature").starts_with("未检查"));
}

#[tokio::test]
async fn a_self_signed_gateway_fails_tls_until_its_certificate_is_the_ca_file() {
    let sim = sandbox(&[]).await;
    let backend: SocketAddr = format!("127.0.0.1:{}", sim.base_url().port().unwrap()).parse().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let front = tls_terminator(backend, &certified).await;
    let base = Url::parse(&format!("https://{front}/")).unwrap();

    let (untrusted, _) = diagnose(settings_at(&base)).await;
    assert!(ok(&untrusted, "tcp"));
    let tls = untrusted.check("tls").unwrap();
    assert!(!tls.ok && tls.figure.contains("不受信任"), "{tls:?}");
    assert!(tls.fix.as_deref().unwrap().contains("ca_file"), "{tls:?}");
    assert!(figure(&untrusted, "signature").starts_with("未检查"));

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("gateway-ca.pem");
    std::fs::write(&ca_file, certified.cert.pem()).unwrap();
    let mut settings = settings_at(&base);
    settings.gateway.ca_file = Some(ca_file);
    let (trusted, _) = diagnose(settings).await;
    for id in NETWORK {
        assert!(ok(&trusted, id), "{:?}", trusted.check(id));
    }
    assert!(figure(&trusted, "tls").contains("天后到期"), "{}", figure(&trusted, "tls"));
    assert!(trusted.ready_to_scan(), "{trusted:#?}");
}

/// A TLS terminator on a free loopback port that forwards every connection to the sandbox.
async fn tls_terminator(backend: SocketAddr, certified: &rcgen::CertifiedKey<rcgen::KeyPair>) -> SocketAddr {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses our certificate ends the handshake: nothing to forward.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                if let Ok(mut upstream) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                }
            });
        }
    });
    front
}

#[tokio::test]
async fn a_ca_file_that_is_not_pem_is_a_configuration_error_naming_the_key() {
    let sim = sandbox(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("ca.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let mut settings = settings_at(&sim.base_url());
    settings.gateway.ca_file = Some(bogus);
    let err = yueshang_core::gateway::GatewayClient::new(&settings, Arc::new(SystemClock), Arc::new(RandomNonces))
        .unwrap_err();
    assert_eq!(err.code, yueshang_core::ErrorCode::ConfigInvalid);
    assert!(err.message.contains("gateway.ca_file"), "{}", err.message);
    let (report, _) = diagnose(settings).await;
    assert!(!ok(&report, "clock") && figure(&report, "clock").contains("gateway.ca_file"), "{report:#?}");
}
