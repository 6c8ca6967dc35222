//! 网页模式: the province's web portal for 证照查询 (`[lookup] portal_url`; the sandbox's own page in
//! sandbox mode), opened in the system browser when the gateway cannot be reached, and audited.
//!
//! The core decides whether and what to open and records it; the opening itself is the shell's
//! (the system browser), handed in as a function, so the core stays free of any UI.

use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::desk::Desk;
use crate::error::{Error, ErrorCode, Result};
use url::Url;

/// The portal as it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalOpened {
    pub url: String,
    /// `host` or `host:port`, as the audit trail names it.
    pub host: String,
}

/// The configured portal's address, checked again (only http and https go to a browser).
pub fn portal_url(desk: &Desk) -> Result<Url> {
    let text = &desk.station().settings().lookup.portal_url;
    let url = Url::parse(text).map_err(|_| Error::config("lookup.portal_url", "不是有效的网址"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(Error::config("lookup.portal_url", "应以 https:// 开头"));
    }
    Ok(url)
}

fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Opens the portal with `open` (the system browser) for whoever acts at this counter, and
/// appends `portal_open` to the audit trail with the outcome and the portal's host (never more of
/// the address), the signed-in person and the handling number on the desk.
///
/// On a counter with accounts somebody must be signed in (`SIGN_IN_REQUIRED`, nothing opened).
/// A browser that does not start is `CONFIG_INVALID` naming the address, so the clerk can type it
/// and IT can set a default browser; it is audited as failed.
pub fn open_portal(desk: &Desk, open: impl FnOnce(&str) -> std::result::Result<(), String>) -> Result<PortalOpened> {
    desk.accounts().acting()?;
    let url = portal_url(desk)?;
    let host = host_of(&url);
    let opened = open(url.as_str());
    let (outcome, error) = match &opened {
        Ok(()) => (Outcome::Ok, None),
        Err(why) => {
            tracing::warn!(%host, reason = %why, "the system browser did not open the portal");
            let fact = format!("本机无法用浏览器打开 {url}（未找到默认浏览器）。可在浏览器中手动输入该网址；");
            (Outcome::Failed, Some(Error::with_fact(ErrorCode::ConfigInvalid, fact).detail(why.clone())))
        }
    };
    let event = AuditEvent {
        error_code: error.as_ref().map(|e| e.code),
        biz_num: Some(desk.biz_num().as_str().to_owned()),
        detail: Some(format!("门户 {host}")),
        ..AuditEvent::new(AuditKind::PortalOpen, outcome)
    };
    desk.station().audit(&event)?;
    match error {
        None => Ok(PortalOpened { url: url.to_string(), host }),
        Some(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_keeps_a_port_and_nothing_else() {
        let url = Url::parse("http://127.0.0.1:4567/sim/portal?x=1").unwrap();
        assert_eq!(host_of(&url), "127.0.0.1:4567");
        let url = Url::parse("https://www.gdzwfw.gov.cn/").unwrap();
        assert_eq!(host_of(&url), "www.gdzwfw.gov.cn");
    }
}
