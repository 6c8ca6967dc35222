//! The counter's SM2 signing key for audit checkpoints, behind one small interface: today a PKCS#8
//! file readable only by the counter's user; the "privacy at rest" issue moves it into the OS keystore.

use crate::error::{Error, ErrorCode, Result};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default user ID of GB/T 35276, which OpenSSL needs spelled out (`-pkeyopt distid:…`).
const DIST_ID: &str = "1234567812345678";

/// Where the CLI and the app keep the key of the counter database in `data_dir`.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit-signing-key.pem")
}

/// The counter's SM2 key pair. Its `Debug` never shows the private key.
pub struct CounterKey {
    signing: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for CounterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CounterKey({})", self.fingerprint())
    }
}

impl CounterKey {
    /// Loads the key of this counter database, making it once; stored readable only by the counter's user (0600 on Unix).
    pub fn load_or_create(path: &Path) -> Result<CounterKey> {
        match std::fs::read_to_string(path) {
            Ok(pem) => {
                restrict_to_owner(path)?;
                CounterKey::from_pkcs8_pem(&pem, path)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CounterKey::create(path),
            Err(e) => Err(key_file_error("无法读取审计签名密钥", path, e)),
        }
    }

    /// Makes a new key pair and stores it; if another process stored one first, that one is used,
    /// so a counter database never gets two keys.
    fn create(path: &Path) -> Result<CounterKey> {
        let secret = SecretKey::generate();
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::with_fact(ErrorCode::StorageFailed, "无法生成审计签名密钥。").detail(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| key_file_error("无法创建密钥目录", dir, e))?;
        }
        // Written whole to a private temporary file, then linked into place: a crash never leaves
        // a half-written key, and the link fails rather than replace a key made meanwhile.
        let temporary = path.with_extension(format!("pem.{}.tmp", std::process::id()));
        write_private_file(&temporary, pem.as_bytes()).map_err(|e| key_file_error("无法保存审计签名密钥", path, e))?;
        let linked = std::fs::hard_link(&temporary, path);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => CounterKey::from_secret(secret),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => CounterKey::load_or_create(path),
            Err(e) => Err(key_file_error("无法保存审计签名密钥", path, e)),
        }
    }

    fn from_pkcs8_pem(pem: &str, path: &Path) -> Result<CounterKey> {
        let secret = SecretKey::from_pkcs8_pem(pem).map_err(|e| {
            Error::with_fact(
                ErrorCode::StorageFailed,
                format!("审计签名密钥文件 {} 无法读取（已损坏？）。", path.display()),
            )
            .detail(e.to_string())
        })?;
        CounterKey::from_secret(secret)
    }

    fn from_secret(secret: SecretKey) -> Result<CounterKey> {
        let signing = SigningKey::new(DIST_ID, &secret)
            .map_err(|e| Error::with_fact(ErrorCode::StorageFailed, "审计签名密钥无效。").detail(e.to_string()))?;
        Ok(CounterKey { signing, public: secret.public_key() })
    }

    /// lowercase hex SM3 of the public key's DER SubjectPublicKeyInfo
    pub fn fingerprint(&self) -> String {
        fingerprint_of_key(&self.public)
    }

    /// The public key as a SubjectPublicKeyInfo PEM.
    pub fn public_pem(&self) -> String {
        self.public.to_public_key_pem(LineEnding::LF).expect("an SM2 public key always encodes as SPKI")
    }

    /// DER SM2 signature over `message`, with SM3 and the user ID 1234567812345678.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.signing.sign(message);
        DerSignature::from(signature).to_vec()
    }
}

/// Verifies a DER SM2 signature with a SubjectPublicKeyInfo PEM (default user ID).
pub fn verify_signature(public_pem: &str, message: &[u8], signature_der: &[u8]) -> bool {
    let Ok(public) = PublicKey::from_public_key_pem(public_pem) else { return false };
    let Ok(verifying) = VerifyingKey::new(DIST_ID, public) else { return false };
    let Ok(signature) = DerSignature::from_bytes(signature_der).and_then(Signature::try_from) else { return false };
    verifying.verify(message, &signature).is_ok()
}

/// The `key:` fingerprint of a SubjectPublicKeyInfo PEM; `None` if it is not an SM2 public key.
pub fn fingerprint_of_pem(public_pem: &str) -> Option<String> {
    PublicKey::from_public_key_pem(public_pem).ok().map(|public| fingerprint_of_key(&public))
}

fn fingerprint_of_key(public: &PublicKey) -> String {
    let der = public.to_public_key_der().expect("an SM2 public key always encodes as SPKI");
    hex::encode(Sm3::digest(der.as_bytes()))
}

/// Creates (or truncates) a file only the owner may read, and makes sure its bytes are on disk.
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A key file someone made readable by others is narrowed back to its owner (Unix only; on Windows
/// the user's profile folder already is private, and the keystore issue replaces this file).
fn restrict_to_owner(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(path).map_err(|e| key_file_error("无法读取审计签名密钥", path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| key_file_error("无法收紧审计签名密钥的权限", path, e))?;
            tracing::warn!(path = %path.display(), "audit signing key was readable by others; narrowed to 0600");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn key_file_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with_fact(ErrorCode::StorageFailed, format!("{what}（{}）。", path.display())).detail(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_signs_what_its_public_key_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(dir.path());
        let key = CounterKey::load_or_create(&path).unwrap();
        let again = CounterKey::load_or_create(&path).unwrap();
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(key.fingerprint().len(), 64);
        assert_eq!(fingerprint_of_pem(&key.public_pem()), Some(key.fingerprint()));
        assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let signature = again.sign(b"checkpoint");
        assert!(verify_signature(&key.public_pem(), b"checkpoint", &signature));
        assert!(!verify_signature(&key.public_pem(), b"checkpoinT", &signature));
        assert!(!verify_signature(&key.public_pem(), b"checkpoint", &signature[1..]));
        assert!(!verify_signature("not a key", b"checkpoint", &signature));
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(dir.path());
        CounterKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        CounterKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_damaged_key_file_is_a_storage_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(dir.path());
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(CounterKey::load_or_create(&path).unwrap_err().code, ErrorCode::StorageFailed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "garbage");
    }
}
