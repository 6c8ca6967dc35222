//! The doctor's network checks: DNS for each gateway host (or the proxy), a TCP connection, the TLS
//! handshake with its certificate's issuer and expiry; then hands the first answer to the gateway
//! checks (clock, signature, e-license login).

use super::gateway::{self as gw_checks, Answer};
use super::{Check, Counter, DoctorInput};
use crate::config::{GatewaySettings, Settings};
use crate::gateway::{CONNECT_TIMEOUT, http_client_builder};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use url::Url;

/// The gateway's own limit is 15 s; the client waits 17 s so its 504 arrives first. No doctor
/// step waits longer, whatever `[tuning]` says.
const MAX_STEP: Duration = Duration::from_secs(17);

/// Certificates that expire sooner than this are flagged, so IT renews before counters stop.
const EXPIRY_WARN_DAYS: i64 = 30;

/// The reminder for the government extranet (政务外网, 19.x addresses), from the access guide.
pub(crate) const EXTRANET_HINT: &str = "政务外网需先开通网络策略：用 yueshang forms 生成《网络策略配置表》（源地址填本机地址，\
     目的地址填网关地址和端口），报省政务服务数据管理局开通。网关的政务外网地址：测试 API 网关 19.15.0.128，生产 API 网关 19.15.0.100\
     （中台：测试 19.15.68.152，生产 19.15.68.153–155）。";

/// How long one network step of the doctor may take.
pub(crate) fn step_timeout(settings: &Settings) -> Duration {
    settings.tuning.request_timeout.min(MAX_STEP)
}

/// `scheme://host:port` of a base URL, as IT reads it in a figure.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A proxy URL without its user name and password, fit for a figure.
pub(crate) fn proxy_label(proxy: &Url) -> String {
    origin(proxy)
}

/// Where this PC opens connections: the proxy when one is set, else each gateway host.
struct Endpoint {
    host: String,
    port: u16,
    /// "网关 gw.example:443" or "代理 http://10.0.0.1:3128".
    label: String,
    is_proxy: bool,
}

fn endpoints(gateway: &GatewaySettings) -> Vec<Endpoint> {
    if let Some(proxy) = &gateway.proxy {
        return vec![Endpoint {
            host: host_of(proxy),
            port: proxy.port_or_known_default().unwrap_or(80),
            label: format!("代理 {}", proxy_label(proxy)),
            is_proxy: true,
        }];
    }
    let mut list: Vec<Endpoint> = Vec::new();
    for base in [&gateway.yst_base, &gateway.license_base] {
        let (host, port) = (host_of(base), base.port_or_known_default().unwrap_or(443));
        if !list.iter().any(|e| e.host == host && e.port == port) {
            list.push(Endpoint { label: format!("网关 {host}:{port}"), host, port, is_proxy: false });
        }
    }
    list
}

/// The host of a URL without IPv6 brackets, as the resolver wants it.
fn host_of(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    }
}

/// The distinct origins the gateway calls go to (粤商通 and e-license may differ).
fn origins(gateway: &GatewaySettings) -> Vec<Url> {
    let mut list: Vec<Url> = Vec::new();
    for base in [&gateway.yst_base, &gateway.license_base] {
        if !list.iter().any(|u| origin(u) == origin(base)) {
            list.push(base.clone());
        }
    }
    list
}

/// A 19.x address: the government extranet, where network policy must be opened first.
fn on_extranet(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 19)
}

/// dns → tcp → tls → clock → signature → license_login; a failure marks the rest "未检查".
pub(crate) async fn run(counter: &Counter, input: &DoctorInput, emit: &mut impl FnMut(Check)) {
    let gateway = &counter.settings.gateway;
    let targets = endpoints(gateway);
    let resolved = match resolve(&targets).await {
        Ok((check, resolved)) => {
            emit(check);
            resolved
        }
        Err(check) => {
            emit(check);
            return skip(&["tcp", "tls", "clock", "signature", "license_login"], "域名解析失败", emit);
        }
    };
    let check = connect(&targets, &resolved, gateway).await;
    let connected = check.ok;
    emit(check);
    if !connected {
        return skip(&["tls", "clock", "signature", "license_login"], "网络连接失败", emit);
    }
    let step = step_timeout(&counter.settings);
    let (check, answer) = tls(gateway, step, input).await;
    let handshaken = check.ok;
    emit(check);
    if !handshaken {
        return skip(&["clock", "signature", "license_login"], "TLS 握手失败", emit);
    }
    gw_checks::run(counter, input, answer, step, emit).await;
}

fn skip(ids: &[&'static str], because: &str, emit: &mut impl FnMut(Check)) {
    for id in ids {
        emit(Check::not_tried(id, because));
    }
}

/// The `dns` check: every endpoint's addresses, or the first host that does not resolve.
async fn resolve(targets: &[Endpoint]) -> Result<(Check, Vec<Vec<SocketAddr>>), Check> {
    let started = Instant::now();
    let mut figures = Vec::new();
    let mut resolved = Vec::new();
    for target in targets {
        if let Ok(ip) = target.host.parse::<IpAddr>() {
            figures.push(format!("{} 为 IP 地址，无需解析", target.host));
            resolved.push(vec![SocketAddr::new(ip, target.port)]);
            continue;
        }
        let lookup =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((target.host.as_str(), target.port)));
        let addrs: Vec<SocketAddr> = match lookup.await {
            Ok(Ok(addrs)) => addrs.collect(),
            Ok(Err(e)) => return Err(dns_failure(target, &format!("解析失败（{e}）"), started)),
            Err(_) => {
                let why = format!("{} 秒内没有解析结果", CONNECT_TIMEOUT.as_secs());
                return Err(dns_failure(target, &why, started));
            }
        };
        if addrs.is_empty() {
            return Err(dns_failure(target, "没有地址", started));
        }
        let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        figures.push(format!("{} → {}", target.host, shown.join("、")));
        resolved.push(addrs);
    }
    if targets.iter().any(|t| t.is_proxy) {
        figures.push("网关域名由代理解析".to_owned());
    }
    Ok((Check::pass("dns", figures.join("；")).timed(started), resolved))
}

fn dns_failure(target: &Endpoint, why: &str, started: Instant) -> Check {
    let fix = if target.is_proxy {
        "检查配置项 [gateway] proxy 的代理地址，以及本机的 DNS 设置。".to_owned()
    } else {
        "检查网关地址（[gateway] yst_base、license_base）是否写对，以及本机的 DNS 设置；政务外网的 PC 要用政务外网的 DNS 服务器。"
            .to_owned()
    };
    Check::fail("dns", format!("{}：{why}", target.label), fix).timed(started)
}

/// The `tcp` check: a connection to every endpoint within the connect timeout.
async fn connect(targets: &[Endpoint], resolved: &[Vec<SocketAddr>], gateway: &GatewaySettings) -> Check {
    let started = Instant::now();
    let mut figures = Vec::new();
    let mut extranet = false;
    for (target, addrs) in targets.iter().zip(resolved) {
        let attempt = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addrs.as_slice())).await;
        extranet |= !target.is_proxy && addrs.iter().any(|a| on_extranet(a.ip()));
        let why = match attempt {
            Ok(Ok(stream)) => {
                // The address actually reached says something only when the host was a name.
                let peer = stream.peer_addr().ok().filter(|_| target.host.parse::<IpAddr>().is_err());
                let peer = peer.map(|a| format!("（{}）", a.ip())).unwrap_or_default();
                figures.push(format!("{} 已连通{peer}", target.label));
                continue;
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "连接被拒绝（该端口没有服务）".to_owned()
            }
            Ok(Err(e)) => format!("无法连接（{e}）"),
            Err(_) => format!("{} 秒内没有连通（多为防火墙拦截或网络策略未开通）", CONNECT_TIMEOUT.as_secs()),
        };
        return Check::fail("tcp", format!("{}：{why}", target.label), tcp_fix(target, extranet, gateway))
            .timed(started);
    }
    if extranet {
        figures.push("政务外网地址".to_owned());
    }
    Check::pass("tcp", figures.join("；")).timed(started)
}

fn tcp_fix(target: &Endpoint, extranet: bool, gateway: &GatewaySettings) -> String {
    let mut fix = if target.is_proxy {
        "代理没有接受连接：检查配置项 [gateway] proxy 的地址和端口，或向信息部门确认代理服务是否开启。".to_owned()
    } else {
        "检查网关地址和端口是否写对、本机防火墙和大厅出口是否放行该端口。".to_owned()
    };
    let gateway_on_extranet = [&gateway.yst_base, &gateway.license_base]
        .iter()
        .any(|u| matches!(u.host(), Some(url::Host::Ipv4(ip)) if on_extranet(IpAddr::V4(ip))));
    if extranet || gateway_on_extranet {
        fix.push(' ');
        fix.push_str(EXTRANET_HINT);
    }
    fix
}

/// The `tls` check: one unsigned GET to each HTTPS origin through the gateway client's own
/// settings (`ca_file`, `proxy`), its certificate read; the first answer goes on to the clock check.
async fn tls(gateway: &GatewaySettings, step: Duration, input: &DoctorInput) -> (Check, Option<Answer>) {
    let started = Instant::now();
    let secure: Vec<Url> = origins(gateway).into_iter().filter(|u| u.scheme() == "https").collect();
    if secure.is_empty() {
        return (Check::pass("tls", "不适用：本机沙箱网关使用 http，没有证书").timed(started), None);
    }
    let mut figures = Vec::new();
    let mut warnings = Vec::new();
    let mut first = None;
    for url in &secure {
        match probe(gateway, url, step, input).await {
            Ok(answer) => {
                let (figure, warning) = certificate_figure(&answer, input);
                figures.push(format!("{}：{figure}", origin(url)));
                warnings.extend(warning);
                first.get_or_insert(answer);
            }
            Err(failure) => {
                let figure = format!("{}：{}", origin(url), failure.figure);
                return (Check::fail("tls", figure, failure.fix).timed(started), None);
            }
        }
    }
    let check = match warnings.is_empty() {
        true => Check::pass("tls", figures.join("；")),
        false => Check::warning("tls", figures.join("；"), warnings.join(" ")),
    };
    (check.timed(started), first)
}

/// Why a probe got no HTTP answer, for the check that made it.
pub(crate) struct ProbeFailure {
    pub(crate) figure: String,
    pub(crate) fix: String,
}

/// One unsigned GET of `url` with the gateway client's settings: any HTTP answer will do (the
/// gateway refuses unsigned calls, and says so with its `Date`).
pub(crate) async fn probe(
    gateway: &GatewaySettings,
    url: &Url,
    step: Duration,
    input: &DoctorInput,
) -> Result<Answer, ProbeFailure> {
    let client = http_client_builder(gateway)
        .and_then(|b| {
            b.tls_info(true)
                .timeout(step)
                .build()
                .map_err(|e| crate::Error::config("gateway", format!("无法初始化 HTTP 客户端（{e}）")))
        })
        .map_err(|e| ProbeFailure {
            figure: e.message, fix: "按提示改正配置文件后重新检查。".to_owned()
        })?;
    let started = Instant::now();
    let response = client.get(url.clone()).send().await.map_err(|e| probe_failure(&e, gateway, step))?;
    let received = input.clock.now();
    let date = response.headers().get(reqwest::header::DATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let certificate =
        response.extensions().get::<reqwest::tls::TlsInfo>().and_then(|t| t.peer_certificate()).map(<[u8]>::to_vec);
    Ok(Answer {
        date,
        received,
        millis: started.elapsed().as_millis() as u64,
        certificate,
        status: response.status().as_u16(),
    })
}

/// A transport failure told apart: certificate problems (with the `ca_file` fix), the proxy, time.
fn probe_failure(err: &reqwest::Error, gateway: &GatewaySettings, step: Duration) -> ProbeFailure {
    if let Some(tls) = rustls_error(err) {
        return certificate_failure(tls);
    }
    let innermost = innermost_cause(err);
    if err.is_timeout() {
        return ProbeFailure {
            figure: format!("{} 秒内没有应答", step.as_secs_f32()),
            fix: "网关或代理没有及时应答：稍后重试；反复出现请联系信息部门检查网络。".to_owned(),
        };
    }
    if let Some(proxy) = &gateway.proxy {
        return ProbeFailure {
            figure: format!("经代理 {} 无法连接网关（{innermost}）", proxy_label(proxy)),
            fix: "检查配置项 [gateway] proxy，确认代理允许连接网关的地址和端口（HTTPS 需允许 CONNECT）。".to_owned(),
        };
    }
    ProbeFailure {
        figure: format!("连接失败（{innermost}）"),
        fix: "检查网关地址、本机网络和防火墙；如果大厅上网要经过代理，请在 [gateway] proxy 中填写代理地址。".to_owned(),
    }
}

fn certificate_failure(tls: &rustls::Error) -> ProbeFailure {
    use rustls::CertificateError as C;
    let (figure, fix) = match tls {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => (
            "证书不受信任（签发者未知，可能是政务外网自建 CA 或自签名证书）".to_owned(),
            "向信息部门索取网关证书的 CA 证书（PEM 文件），把完整路径写入配置项 [gateway] ca_file，然后重新检查。"
                .to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => (
            "网关证书已过期".to_owned(),
            "先确认本机时间正确；时间无误则是网关证书过期，请联系网关管理方更新证书。".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => (
            "网关证书尚未生效".to_owned(),
            "多半是本机时间不对：校准本机时间（开启 NTP 自动对时）后重新检查。".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => (
            "网关证书与网关域名不符".to_owned(),
            "检查 [gateway] yst_base、license_base 的域名是否与网关分配的一致（不要用 IP 代替域名）。".to_owned(),
        ),
        other => (
            format!("TLS 握手失败（{other}）"),
            "检查网关地址和端口是否为 HTTPS 服务；政务外网网关使用自建 CA 时，把 CA 证书路径写入 [gateway] ca_file。"
                .to_owned(),
        ),
    };
    ProbeFailure { figure, fix }
}

/// The rustls error behind a reqwest failure, if the failure was TLS: it sits inside `io::Error`s
/// (one in another), whose own `source` skips what they wrap.
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// The deepest cause's text ("Connection refused (os error 111)"): reqwest's own text names the
/// URL, which a figure does not need.
fn innermost_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Handshake time, issuer and days to expiry; a warning when the certificate ends within 30 days.
fn certificate_figure(answer: &Answer, input: &DoctorInput) -> (String, Option<String>) {
    let Some(der) = answer.certificate.as_deref() else {
        return (format!("握手及应答 {} ms", answer.millis), None);
    };
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(der) else {
        return (format!("握手及应答 {} ms（证书无法解析）", answer.millis), None);
    };
    let not_after = certificate.validity().not_after.timestamp();
    let days = (not_after - input.clock.now().timestamp()).div_euclid(86_400);
    let until =
        chrono::DateTime::from_timestamp(not_after, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let figure =
        format!("握手及应答 {} ms，签发者 {}，证书 {days} 天后到期（{until}）", answer.millis, certificate.issuer());
    let warning = (days < EXPIRY_WARN_DAYS)
        .then(|| format!("网关证书 {days} 天后到期：请联系网关管理方及时更新，过期后所有柜台都将无法连接。"));
    (figure, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extranet_addresses_are_recognized_and_proxies_lose_their_password() {
        assert!(on_extranet("19.15.0.128".parse().unwrap()));
        assert!(!on_extranet("119.15.0.128".parse().unwrap()));
        let proxy = Url::parse("http://user:secret@10.0.0.1:3128").unwrap();
        assert_eq!(proxy_label(&proxy), "http://10.0.0.1:3128");
    }
}
