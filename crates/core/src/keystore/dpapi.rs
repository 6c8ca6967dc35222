//! The Windows master-key backend: the key wrapped with DPAPI for the current user, in a file of the configuration folder.

use super::file::{delete_key_file, read_key_file, write_new_key_file};
use super::{Backend, KeyBackend};
use crate::error::{Error, ErrorCode, Result};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{HLOCAL, LocalFree};
use windows_sys::Win32::Security::Cryptography::{
    CRYPT_INTEGER_BLOB, CRYPTPROTECT_UI_FORBIDDEN, CryptProtectData, CryptUnprotectData,
};
use zeroize::{Zeroize, Zeroizing};

/// DPAPI's "optional entropy", and the wrapped blob's description: a blob of another program of
/// the same Windows user does not open as ours, nor ours as theirs, without it.
const ENTROPY: &str = "yueshang-counter storage key";

/// Keys wrapped with DPAPI (current user, no UI): the file is useless on another PC or to another
/// Windows account, and readable only through that user's logon secret.
pub struct DpapiBackend {
    dir: PathBuf,
}

impl DpapiBackend {
    pub fn new(config_dir: &Path) -> DpapiBackend {
        DpapiBackend { dir: config_dir.join("keys") }
    }

    fn path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("storage-key-{key_id}.dpapi"))
    }
}

impl KeyBackend for DpapiBackend {
    fn kind(&self) -> Backend {
        Backend::Dpapi
    }

    fn location(&self, key_id: &str) -> String {
        self.path(key_id).display().to_string()
    }

    fn load(&self, key_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let path = self.path(key_id);
        let Some(wrapped) = read_key_file(&path)? else { return Ok(None) };
        let key = unprotect(&wrapped).map_err(|e| {
            Error::with_fact(
                ErrorCode::StorageKeyMissing,
                format!(
                    "存储密钥文件 {} 无法用当前 Windows 用户解开：它是在另一台电脑或另一个 Windows 账户下生成的，或已损坏。",
                    path.display()
                ),
            )
            .detail(e.to_string())
        })?;
        Ok(Some(key))
    }

    fn store(&self, key_id: &str, key: &[u8]) -> Result<()> {
        let wrapped = protect(key).map_err(|e| {
            Error::with_fact(ErrorCode::StorageFailed, "无法用 Windows DPAPI 保护存储密钥。").detail(e.to_string())
        })?;
        write_new_key_file(&self.dir, &self.path(key_id), &wrapped)
    }

    fn delete(&self, key_id: &str) -> Result<()> {
        delete_key_file(&self.path(key_id))
    }
}

/// A blob DPAPI reads (never writes through, for the input and entropy it is given).
fn blob(data: &[u8]) -> std::io::Result<CRYPT_INTEGER_BLOB> {
    let len = u32::try_from(data.len()).map_err(|_| std::io::Error::other("too large for DPAPI"))?;
    Ok(CRYPT_INTEGER_BLOB { cbData: len, pbData: data.as_ptr().cast_mut() })
}

fn empty_blob() -> CRYPT_INTEGER_BLOB {
    CRYPT_INTEGER_BLOB { cbData: 0, pbData: null_mut() }
}

/// `plain` wrapped for the current user; no dialog is ever shown (the counter may run unattended).
#[allow(unsafe_code)]
fn protect(plain: &[u8]) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let description: Vec<u16> = ENTROPY.encode_utf16().chain([0]).collect();
    let input = blob(plain)?;
    let entropy = blob(ENTROPY.as_bytes())?;
    let mut output = empty_blob();
    // SAFETY: `input` and `entropy` point at live slices of exactly the lengths given, only read by
    // the call; `description` is NUL-terminated UTF-16 alive for the whole call; the reserved
    // pointer and the prompt struct are null as documented (no prompt with UI_FORBIDDEN); `output`
    // is a valid place for DPAPI to write the LocalAlloc'd result into.
    let ok = unsafe {
        CryptProtectData(&input, description.as_ptr(), &entropy, null(), null(), CRYPTPROTECT_UI_FORBIDDEN, &mut output)
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(take(output))
}

/// The plain bytes of a blob `protect` made, for the same Windows user on the same PC.
#[allow(unsafe_code)]
fn unprotect(wrapped: &[u8]) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let input = blob(wrapped)?;
    let entropy = blob(ENTROPY.as_bytes())?;
    let mut output = empty_blob();
    // SAFETY: `input` and `entropy` point at live slices of exactly the lengths given, only read by
    // the call; the description out-pointer is null (not wanted, so nothing to free); the reserved
    // pointer and the prompt struct are null as documented; `output` is a valid place for DPAPI to
    // write the LocalAlloc'd result into.
    let ok = unsafe {
        CryptUnprotectData(&input, null_mut(), &entropy, null(), null(), CRYPTPROTECT_UI_FORBIDDEN, &mut output)
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(take(output))
}

/// Copies DPAPI's output, then zeroes and frees its buffer: an unwrapped key must not linger in
/// freed memory.
#[allow(unsafe_code)]
fn take(output: CRYPT_INTEGER_BLOB) -> Zeroizing<Vec<u8>> {
    if output.pbData.is_null() {
        return Zeroizing::new(Vec::new());
    }
    // SAFETY: after a successful call DPAPI set `pbData` to a buffer of `cbData` bytes that it
    // allocated for us alone; nothing else refers to it until it is freed below.
    let bytes = unsafe { std::slice::from_raw_parts_mut(output.pbData, output.cbData as usize) };
    let copy = Zeroizing::new(bytes.to_vec());
    bytes.zeroize();
    // SAFETY: the buffer was allocated by DPAPI with LocalAlloc, as its documentation says, and is
    // freed exactly once, here; `bytes` is not used after this.
    unsafe { LocalFree(output.pbData as HLOCAL) };
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_for_this_user_and_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let backend = DpapiBackend::new(dir.path());
        assert!(backend.load("k1").unwrap().is_none());
        backend.store("k1", &[7u8; 16]).unwrap();
        let on_disk = std::fs::read(backend.path("k1")).unwrap();
        assert!(!on_disk.windows(16).any(|w| w == [7u8; 16]), "the file holds the key wrapped, not plain");
        assert_eq!(backend.load("k1").unwrap().unwrap().as_slice(), &[7u8; 16]);
        assert!(backend.store("k1", &[8u8; 16]).is_err(), "never overwritten");

        std::fs::write(backend.path("k2"), b"not a DPAPI blob").unwrap();
        assert_eq!(backend.load("k2").unwrap_err().code, ErrorCode::StorageKeyMissing);

        backend.delete("k1").unwrap();
        backend.delete("k1").unwrap();
        assert!(backend.load("k1").unwrap().is_none());
    }
}
