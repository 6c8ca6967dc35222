//! The hall's own SM2 key: it countersigns (witnesses) every counter checkpoint the hall stores,
//! so a counter's history cannot later be rewritten even by someone holding the counter's key.
//! Kept as a PKCS#8 PEM file only its owner may read, made on first start.

use std::path::Path;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::{Error, ErrorCode};

/// The witness key with its public half and fingerprint, ready to sign.
#[derive(Debug)]
pub struct Witness {
    key: CounterKey,
    pub fingerprint: String,
    pub public_pem: String,
}

impl Witness {
    /// Reads the key at `path`, or makes one there (mode 0600 on Unix) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Witness, Error> {
        let key = match std::fs::read_to_string(path) {
            Ok(pem) => CounterKey::from_pkcs8_pem(&pem)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(e) => return Err(file_error("无法读取大厅见证密钥", path, &e)),
        };
        Ok(Witness::from_key(key))
    }

    pub fn from_key(key: CounterKey) -> Witness {
        Witness { fingerprint: key.fingerprint(), public_pem: key.public_pem(), key }
    }

    /// DER SM2 signature (SM3, default user ID) over a checkpoint's text.
    pub fn countersign(&self, checkpoint_text: &str) -> Vec<u8> {
        self.key.sign(checkpoint_text.as_bytes())
    }
}

fn create(path: &Path) -> Result<CounterKey, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| file_error("无法创建见证密钥所在的文件夹", dir, &e))?;
    }
    let (key, pem) = CounterKey::generate_pkcs8_pem()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| file_error("无法创建大厅见证密钥", path, &e))?;
    std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(|e| file_error("无法写入大厅见证密钥", path, &e))?;
    file.sync_all().map_err(|e| file_error("无法写入大厅见证密钥", path, &e))?;
    tracing::info!(path = %path.display(), fingerprint = %key.fingerprint(), "hall witness key created");
    Ok(key)
}

fn file_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::with_fact(ErrorCode::StorageFailed, format!("{what}（{}）。", path.display())).detail(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yueshang_core::audit::key::verify_signature;

    #[test]
    fn the_key_is_made_once_private_and_countersigns_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/witness.pem");
        let first = Witness::load_or_create(&path).unwrap();
        let again = Witness::load_or_create(&path).unwrap();
        assert_eq!(first.fingerprint, again.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let signature = again.countersign("yueshang-audit-checkpoint/v1\n");
        assert!(verify_signature(&first.public_pem, b"yueshang-audit-checkpoint/v1\n", &signature));
        assert!(!verify_signature(&first.public_pem, b"other", &signature));
    }
}
