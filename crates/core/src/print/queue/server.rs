//! Where the CUPS scheduler is: `[printing] cups_server`, else `CUPS_SERVER`, else
//! `localhost:631`, turned into the HTTP address IPP requests are posted to.

use url::Url;

/// The IANA port of IPP, which CUPS listens on unless told otherwise.
const IPP_PORT: u16 = 631;
const DEFAULT_SERVER: &str = "localhost:631";

/// A CUPS scheduler's address, as configured and as URLs.
#[derive(Debug, Clone)]
pub(super) struct CupsServer {
    /// `host:port`, for messages to the clerk and IT.
    shown: String,
    /// `http://host:port/`, or why the configured text is not an address.
    base: Result<Url, String>,
}

impl CupsServer {
    /// The configured server wins over the environment; a blank one counts as unset.
    pub(super) fn resolve(configured: Option<&str>, environment: Option<&str>) -> CupsServer {
        let chosen = [configured, environment]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|s| !s.is_empty())
            .unwrap_or(DEFAULT_SERVER);
        let shown = host_and_port(chosen);
        let base = Url::parse(&format!("http://{shown}/")).map_err(|e| format!("{chosen}: {e}"));
        CupsServer { shown, base }
    }

    pub(super) fn shown(&self) -> &str {
        &self.shown
    }

    /// The URL of a resource on the server (`/`, `/printers/NAME`), the name percent-encoded.
    pub(super) fn http_url(&self, segments: &[&str]) -> Result<Url, String> {
        let mut url = self.base.clone()?;
        url.path_segments_mut().map_err(|()| format!("{} cannot take a path", self.shown))?.clear().extend(segments);
        Ok(url)
    }

    /// The `ipp://` form of the same resource, which IPP requests name as `printer-uri`.
    pub(super) fn ipp_uri(&self, segments: &[&str]) -> Result<String, String> {
        let http = self.http_url(segments)?;
        Ok(format!("ipp{}", &http.as_str()["http".len()..]))
    }
}

/// `host:port` from what CUPS itself accepts in `CUPS_SERVER`: a bare host gets port 631, a
/// `/version=…` suffix is dropped, and a Unix socket path becomes `localhost:631` (our HTTP
/// client speaks TCP only; CUPS listens on both by default).
fn host_and_port(server: &str) -> String {
    if server.starts_with('/') {
        return DEFAULT_SERVER.to_owned();
    }
    let host_port = server.split('/').next().unwrap_or(server);
    let after_host = match host_port.rfind(']') {
        Some(end) => &host_port[end..],
        None => host_port,
    };
    if after_host.contains(':') { host_port.to_owned() } else { format!("{host_port}:{IPP_PORT}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_wins_over_the_environment_and_both_over_the_default() {
        assert_eq!(CupsServer::resolve(Some("print-1:8631"), Some("other:631")).shown(), "print-1:8631");
        assert_eq!(CupsServer::resolve(Some("  "), Some("other")).shown(), "other:631");
        assert_eq!(CupsServer::resolve(None, None).shown(), "localhost:631");
    }

    #[test]
    fn cups_server_forms_become_host_and_port() {
        assert_eq!(host_and_port("/run/cups/cups.sock"), "localhost:631");
        assert_eq!(host_and_port("printhost/version=1.1"), "printhost:631");
        assert_eq!(host_and_port("[::1]"), "[::1]:631");
        assert_eq!(host_and_port("[::1]:8631"), "[::1]:8631");
    }

    #[test]
    fn queue_names_are_encoded_in_both_uris() {
        let server = CupsServer::resolve(Some("127.0.0.1:6310"), None);
        assert_eq!(
            server.http_url(&["printers", "前台 1"]).unwrap().as_str(),
            "http://127.0.0.1:6310/printers/%E5%89%8D%E5%8F%B0%201"
        );
        assert_eq!(server.ipp_uri(&["printers", "HP"]).unwrap(), "ipp://127.0.0.1:6310/printers/HP");
        assert_eq!(server.http_url(&[]).unwrap().as_str(), "http://127.0.0.1:6310/");
    }
}
