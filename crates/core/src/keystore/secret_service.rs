//! The Secret Service master-key backend (Linux desktops: GNOME Keyring, KWallet, over D-Bus).

use super::{Backend, KeyBackend};
use crate::error::{Error, ErrorCode, Result};
use dbus_secret_service::{Collection, EncryptionType, SecretService};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The `service` attribute of every key's item. With `username` it is how keyring-rs names an
/// entry, so IT finds a key with `secret-tool lookup service yueshang-counter username storage-key-<id>`.
const SERVICE: &str = "yueshang-counter";

/// How long [`usable`] waits: it is asked when a new cache is made, at launch, and a PC without a
/// working keyring must fall back to the key file at once rather than hold the window up.
const PROBE_LIMIT: Duration = Duration::from_secs(3);

/// How long a load, store or delete waits. The library bounds each D-Bus call (2 s), but not the
/// connection's first exchange with the bus, which libdbus waits 25 s for on a bus that does not answer.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// What IT does for most troubles: the keyring opens with the desktop session.
const UNLOCK: &str = "请在这台电脑上登录桌面会话（不要以服务或远程方式运行本程序），并解锁“登录”密钥环（GNOME 密钥环或 KWallet），再重新打开本程序。";

/// Keys kept in the desktop's Secret Service: one item per key, in the default ("login")
/// collection, hex text with the key id in its attributes.
#[derive(Debug, Default)]
pub struct SecretServiceBackend;

impl SecretServiceBackend {
    pub fn new() -> SecretServiceBackend {
        SecretServiceBackend
    }
}

/// Whether new keys can go to the Secret Service: one answers on the session bus and its default
/// collection is unlocked. False, within [`PROBE_LIMIT`], on a headless PC (no session bus), with
/// no keyring daemon, or with a locked keyring: a key made there could not be read back unprompted.
pub fn usable() -> bool {
    within(PROBE_LIMIT, || {
        let service = connect()?;
        unlocked_default(&service).map(|_| ())
    })
    .inspect_err(|t| tracing::debug!(reason = t.reason, detail = %t.detail, "the Secret Service is not usable"))
    .is_ok()
}

fn account(key_id: &str) -> String {
    format!("storage-key-{key_id}")
}

fn attributes(account: &str) -> HashMap<&str, &str> {
    HashMap::from([("service", SERVICE), ("username", account)])
}

impl KeyBackend for SecretServiceBackend {
    fn kind(&self) -> Backend {
        Backend::SecretService
    }

    fn location(&self, key_id: &str) -> String {
        format!("service={SERVICE} username={}", account(key_id))
    }

    fn load(&self, key_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let location = self.location(key_id);
        let account = account(key_id);
        let secret = within(CALL_LIMIT, move || {
            let service = connect()?;
            let found = service.search_items(attributes(&account)).map_err(Trouble::from_service)?;
            match found.unlocked.as_slice() {
                [item] => item.get_secret().map(|s| Some(Zeroizing::new(s))).map_err(Trouble::from_service),
                [] if !found.locked.is_empty() => Err(Trouble::locked("the item is in a locked collection")),
                // Not found: only an answer when the default collection is open (a locked one may hide it).
                [] => unlocked_default(&service).map(|_| None),
                more => Err(Trouble::ambiguous(more.len())),
            }
        })
        .map_err(|t| {
            t.error(ErrorCode::StorageKeyMissing, &format!("缓存的存储密钥保存在系统密钥环（{location}）中，但"))
        })?;
        let Some(secret) = secret else { return Ok(None) };
        let text = std::str::from_utf8(&secret).unwrap_or_default().trim();
        let key = hex::decode(text).ok().filter(|k| !k.is_empty()).map(Zeroizing::new).ok_or_else(|| {
            Error::with_fact(ErrorCode::StorageKeyMissing, format!("系统密钥环中的存储密钥条目（{location}）已损坏。"))
        })?;
        Ok(Some(key))
    }

    fn store(&self, key_id: &str, key: &[u8]) -> Result<()> {
        let location = self.location(key_id);
        let account = account(key_id);
        let label = format!("粤商通柜台 缓存存储密钥 {key_id}");
        // Hex text: KWallet's Secret Service keeps UTF-8 only, and `secret-tool` shows it as is.
        let secret = Zeroizing::new(hex::encode(key));
        let made = within(CALL_LIMIT, move || {
            let service = connect()?;
            let found = service.search_items(attributes(&account)).map_err(Trouble::from_service)?;
            if !found.unlocked.is_empty() || !found.locked.is_empty() {
                return Ok(false);
            }
            let collection = unlocked_default(&service)?;
            // replace = false after the search: an existing key is never overwritten.
            collection
                .create_item(&label, attributes(&account), secret.as_bytes(), false, "text/plain")
                .map_err(Trouble::from_service)?;
            Ok(true)
        })
        .map_err(|t| t.error(ErrorCode::StorageFailed, &format!("无法把存储密钥保存到系统密钥环（{location}）：")))?;
        if made {
            Ok(())
        } else {
            Err(Error::with_fact(ErrorCode::StorageFailed, format!("系统密钥环里已有存储密钥 {location}，不会覆盖。")))
        }
    }

    fn delete(&self, key_id: &str) -> Result<()> {
        let location = self.location(key_id);
        let account = account(key_id);
        within(CALL_LIMIT, move || {
            let service = connect()?;
            let found = service.search_items(attributes(&account)).map_err(Trouble::from_service)?;
            if !found.locked.is_empty() {
                return Err(Trouble::locked("the item is in a locked collection"));
            }
            found.unlocked.iter().try_for_each(|item| item.delete().map_err(Trouble::from_service))
        })
        .map_err(|t| t.error(ErrorCode::StorageFailed, &format!("无法从系统密钥环删除旧的存储密钥（{location}）：")))
    }
}

/// Why the Secret Service gave no answer: the reason and what to do in IT's words, and the
/// library's own error for the detail (never the key).
#[derive(Debug)]
struct Trouble {
    reason: &'static str,
    remedy: &'static str,
    detail: String,
}

impl Trouble {
    fn new(reason: &'static str, detail: impl std::fmt::Display) -> Trouble {
        Trouble { reason, remedy: UNLOCK, detail: detail.to_string() }
    }

    fn locked(detail: impl std::fmt::Display) -> Trouble {
        Trouble::new("系统密钥环已锁定", detail)
    }

    fn ambiguous(count: usize) -> Trouble {
        Trouble {
            reason: "系统密钥环里有多个同名条目，无法确定用哪一个",
            remedy: "请用“密码和密钥”（Seahorse）查看 yueshang-counter 的条目。",
            detail: format!("{count} items match"),
        }
    }

    fn from_service(e: dbus_secret_service::Error) -> Trouble {
        use dbus_secret_service::Error as E;
        match &e {
            // Prompt: the operation needed the user to unlock or confirm, which is never asked (limit 0).
            E::Locked | E::Prompt => Trouble::locked(e),
            E::Dbus(d) if d.name() == Some("org.freedesktop.Secret.Error.IsLocked") => Trouble::locked(e),
            E::Dbus(d)
                if matches!(
                    d.name(),
                    Some(
                        "org.freedesktop.DBus.Error.ServiceUnknown"
                            | "org.freedesktop.DBus.Error.NameHasNoOwner"
                            | "org.freedesktop.DBus.Error.NoReply"
                            | "org.freedesktop.DBus.Error.Disconnected"
                            | "org.freedesktop.DBus.Error.NoServer"
                            | "org.freedesktop.DBus.Error.FileNotFound"
                    )
                ) =>
            {
                Trouble::new("系统密钥环服务没有运行或无法连接", e)
            }
            _ => Trouble::new("系统密钥环返回了错误", e),
        }
    }

    /// The error for the person: `lead` (what was being done) runs straight into the reason.
    fn error(self, code: ErrorCode, lead: &str) -> Error {
        Error::with_fact(code, format!("{lead}{}。{}", self.reason, self.remedy)).detail(self.detail)
    }
}

/// A connection that never raises an unlock dialog: prompt limit 0 makes anything that would need
/// one fail at once (a locked keyring is IT's to unlock, not a clerk's dialog to wait on).
fn connect() -> std::result::Result<SecretService, Trouble> {
    if !session_bus_named() {
        return Err(Trouble::new(
            "本程序所在的会话没有 D-Bus 会话总线",
            "DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist",
        ));
    }
    SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, 0).map_err(|e| match e {
        dbus_secret_service::Error::Dbus(_) | dbus_secret_service::Error::Unavailable => {
            Trouble::new("系统密钥环服务没有运行或无法连接", e)
        }
        e => Trouble::from_service(e),
    })
}

/// Whether a session bus is named where libdbus looks for one. Without either, libdbus would try to
/// autolaunch a bus through X11 (`dbus-launch`): a stray daemon, never a keyring holding our key.
fn session_bus_named() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists())
}

/// The default ("login") collection, unlocked.
fn unlocked_default(service: &SecretService) -> std::result::Result<Collection<'_>, Trouble> {
    let collection = service.get_default_collection().map_err(|e| match e {
        dbus_secret_service::Error::NoResult => Trouble::new("系统密钥环没有默认的“登录”密钥环", e),
        e => Trouble::from_service(e),
    })?;
    if collection.is_locked().map_err(Trouble::from_service)? {
        return Err(Trouble::locked("the default collection is locked"));
    }
    Ok(collection)
}

/// Runs `job` on its own thread and waits at most `limit`: libdbus blocks, and a bus that does not
/// answer must not hang the caller (nor a tokio worker it runs on). A job that outlives the limit
/// finishes on its own, every call in it bounded by D-Bus timeouts; a store that completes that late
/// leaves an unused item under a key id the database never recorded.
fn within<T: Send + 'static>(
    limit: Duration,
    job: impl FnOnce() -> std::result::Result<T, Trouble> + Send + 'static,
) -> std::result::Result<T, Trouble> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("secret-service".into())
        .spawn(move || {
            let _ = tx.send(job());
        })
        .map_err(|e| Trouble::new("无法启动访问系统密钥环的线程", e))?;
    match rx.recv_timeout(limit) {
        Ok(answer) => answer,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(Trouble::new("系统密钥环没有及时响应", format!("no answer within {} s", limit.as_secs())))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Trouble::new("访问系统密钥环时出错", "the Secret Service call panicked"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn an_entry_is_named_like_keyring_rs_names_it() {
        let backend = SecretServiceBackend::new();
        assert_eq!(backend.location("ab12"), "service=yueshang-counter username=storage-key-ab12");
        assert_eq!(
            attributes(&account("ab12")),
            HashMap::from([("service", SERVICE), ("username", "storage-key-ab12")])
        );
    }

    #[test]
    fn a_call_that_does_not_answer_is_given_up_on_time() {
        let started = Instant::now();
        let trouble = within(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        })
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(trouble.reason, "系统密钥环没有及时响应");
        let panicked = within(Duration::from_secs(5), || -> std::result::Result<(), Trouble> { panic!("boom") });
        assert_eq!(panicked.unwrap_err().detail, "the Secret Service call panicked");
    }

    #[test]
    fn a_trouble_tells_it_what_to_do_in_chinese() {
        let error = Trouble::locked("the default collection is locked").error(
            ErrorCode::StorageKeyMissing,
            "缓存的存储密钥保存在系统密钥环（service=yueshang-counter username=storage-key-ab）中，但",
        );
        assert_eq!(error.code, ErrorCode::StorageKeyMissing);
        let message = &error.message;
        assert!(message.starts_with("缓存的存储密钥保存在系统密钥环（service=yueshang-counter username=storage-key-ab）中，但系统密钥环已锁定。请在这台电脑上登录桌面会话"), "{message}");
        assert!(message.contains("解锁“登录”密钥环"), "{message}");
        assert!(message.contains("yueshang cache reset"), "{message}");
    }
}
