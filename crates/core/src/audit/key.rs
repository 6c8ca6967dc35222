//! The counter's SM2 signing key for audit checkpoints: kept sealed among the database's secrets
//! under the storage key (a plain PEM file of older counters is imported and removed).

use crate::cache::Cache;
use crate::error::{Error, ErrorCode, Result};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The default user ID of GB/T 35276, which OpenSSL needs spelled out (`-pkeyopt distid:…`).
const DIST_ID: &str = "1234567812345678";

/// Where counters before the sealed cache kept the key in `data_dir`, in plain PEM: imported into
/// the database sealed (and the file removed) by [`CounterKey::import_legacy_file`].
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit-signing-key.pem")
}

/// The name of the key among the database's sealed secrets.
const SECRET_NAME: &str = "audit_signing_key";

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
    /// The key of this counter database, sealed among its secrets under the storage key; made once.
    /// Inside one transaction, so two processes opening a new database make one key between them.
    pub fn load_or_create(cache: &Cache) -> Result<CounterKey> {
        let now = crate::clock::Clock::now_china(&crate::clock::SystemClock);
        let secret = cache.transaction(|tx| {
            if let Some(der) = cache.vault().secret(tx, SECRET_NAME)? {
                return SecretKey::from_pkcs8_der(&der).map_err(|e| {
                    Error::with_fact(ErrorCode::StorageFailed, "本机保存的审计签名密钥已损坏。").detail(e.to_string())
                });
            }
            let secret = SecretKey::generate();
            cache.vault().set_secret(tx, SECRET_NAME, &pkcs8_der(&secret)?, now)?;
            Ok(secret)
        })?;
        CounterKey::from_secret(secret)
    }

    /// Moves a key kept in plain PEM beside the database (counters before the sealed cache) into the
    /// database, sealed, unless it already holds one; then removes the file. Checkpoints it signed
    /// carry its public key, so they verify whichever key signs next.
    pub fn import_legacy_file(cache: &Cache, data_dir: &Path) -> Result<()> {
        let path = key_path(data_dir);
        let pem = match std::fs::read_to_string(&path) {
            Ok(pem) => Zeroizing::new(pem),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(key_file_error("无法读取旧的审计签名密钥", &path, e)),
        };
        let secret = SecretKey::from_pkcs8_pem(&pem).map_err(|e| {
            Error::with_fact(
                ErrorCode::StorageFailed,
                format!("旧的审计签名密钥文件 {} 无法读取（已损坏？）。", path.display()),
            )
            .detail(e.to_string())
        })?;
        let now = crate::clock::Clock::now_china(&crate::clock::SystemClock);
        cache.transaction(|tx| {
            if cache.vault().secret(tx, SECRET_NAME)?.is_none() {
                cache.vault().set_secret(tx, SECRET_NAME, &pkcs8_der(&secret)?, now)?;
            }
            Ok(())
        })?;
        // Overwritten before it is removed, so the plain key does not stay in the file's blocks.
        let _ = std::fs::write(&path, vec![0u8; pem.len()]);
        std::fs::remove_file(&path).map_err(|e| key_file_error("无法删除旧的审计签名密钥文件", &path, e))?;
        tracing::info!(path = %path.display(), "audit signing key moved into the sealed database");
        Ok(())
    }

    /// A key kept as a PKCS#8 PEM file (the hall service's witness key, which has no counter database).
    pub fn from_pkcs8_pem(pem: &str) -> Result<CounterKey> {
        let secret = SecretKey::from_pkcs8_pem(pem).map_err(|e| {
            Error::with_fact(ErrorCode::StorageFailed, "签名密钥文件无法读取（已损坏？）。").detail(e.to_string())
        })?;
        CounterKey::from_secret(secret)
    }

    /// A new key and its PKCS#8 PEM (to be written where only its owner can read it).
    pub fn generate_pkcs8_pem() -> Result<(CounterKey, Zeroizing<String>)> {
        let secret = SecretKey::generate();
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::with_fact(ErrorCode::StorageFailed, "无法生成签名密钥。").detail(e.to_string()))?;
        Ok((CounterKey::from_secret(secret)?, Zeroizing::new(pem.to_string())))
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

fn pkcs8_der(secret: &SecretKey) -> Result<Zeroizing<Vec<u8>>> {
    secret
        .to_pkcs8_der()
        .map(|doc| Zeroizing::new(doc.as_bytes().to_vec()))
        .map_err(|e| Error::with_fact(ErrorCode::StorageFailed, "无法生成审计签名密钥。").detail(e.to_string()))
}

fn key_file_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with_fact(ErrorCode::StorageFailed, format!("{what}（{}）。", path.display())).detail(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_signs_what_its_public_key_verifies() {
        let cache = Cache::open_in_memory().unwrap();
        let key = CounterKey::load_or_create(&cache).unwrap();
        let again = CounterKey::load_or_create(&cache).unwrap();
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
        let other = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap();
        assert_ne!(other.fingerprint(), key.fingerprint(), "one key per counter database");
    }

    #[test]
    fn a_plain_key_file_is_imported_sealed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretKey::generate();
        let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        std::fs::write(key_path(dir.path()), pem.as_bytes()).unwrap();
        let cache = Cache::open_in_memory().unwrap();
        CounterKey::import_legacy_file(&cache, dir.path()).unwrap();
        assert!(!key_path(dir.path()).exists());
        let key = CounterKey::load_or_create(&cache).unwrap();
        assert_eq!(key.fingerprint(), CounterKey::from_secret(secret).unwrap().fingerprint());
        CounterKey::import_legacy_file(&cache, dir.path()).unwrap();
    }

    #[test]
    fn a_damaged_legacy_file_is_a_storage_error_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(dir.path());
        std::fs::write(&path, "garbage").unwrap();
        let cache = Cache::open_in_memory().unwrap();
        assert_eq!(CounterKey::import_legacy_file(&cache, dir.path()).unwrap_err().code, ErrorCode::StorageFailed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "garbage");
    }
}
