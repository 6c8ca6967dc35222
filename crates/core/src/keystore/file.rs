//! The fallback master-key backend: a file readable only by the counter's user (0600 in a 0700
//! folder on Unix), in the configuration folder, never in the data folder beside the database.

use super::{Backend, KeyBackend};
use crate::error::{Error, ErrorCode, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    pub fn new(config_dir: &Path) -> FileBackend {
        FileBackend { dir: config_dir.join("keys") }
    }

    fn path(&self, key_id: &str) -> PathBuf {
        self.dir.join(format!("storage-key-{key_id}.key"))
    }
}

impl KeyBackend for FileBackend {
    fn kind(&self) -> Backend {
        Backend::File
    }

    fn location(&self, key_id: &str) -> String {
        self.path(key_id).display().to_string()
    }

    fn load(&self, key_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let path = self.path(key_id);
        let Some(bytes) = read_key_file(&path)? else { return Ok(None) };
        let text = std::str::from_utf8(&bytes).unwrap_or_default().trim();
        let key = hex::decode(text).map(Zeroizing::new).map_err(|_| {
            Error::with_fact(ErrorCode::StorageKeyMissing, format!("存储密钥文件 {} 已损坏。", path.display()))
        })?;
        Ok(Some(key))
    }

    fn store(&self, key_id: &str, key: &[u8]) -> Result<()> {
        let text = Zeroizing::new(hex::encode(key) + "\n");
        write_new_key_file(&self.dir, &self.path(key_id), text.as_bytes())
    }

    fn delete(&self, key_id: &str) -> Result<()> {
        delete_key_file(&self.path(key_id))
    }
}

/// A key file's bytes (`None` when there is none), zeroized when dropped. Shared with the DPAPI
/// backend, whose files hold the wrapped key.
pub(super) fn read_key_file(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("无法读取存储密钥文件", path, e)),
    }
}

/// Writes a new key file, private from its first byte (0600 in a 0700 folder on Unix); an existing
/// file is never overwritten (`create_new`).
pub(super) fn write_new_key_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    create_private_dir(dir).map_err(|e| io_error("无法创建密钥目录", dir, e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| io_error("无法保存存储密钥", path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io_error("无法保存存储密钥", path, e))
}

/// Removes a key file; one that is not there is fine.
pub(super) fn delete_key_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("无法删除旧的存储密钥", path, e)),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with_fact(ErrorCode::StorageFailed, format!("{what} {}。", path.display())).detail(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let backend = FileBackend::new(dir.path());
        assert!(backend.load("k1").unwrap().is_none());
        backend.store("k1", &[7u8; 16]).unwrap();
        assert_eq!(backend.load("k1").unwrap().unwrap().as_slice(), &[7u8; 16]);
        assert!(backend.store("k1", &[8u8; 16]).is_err(), "never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(backend.path("k1")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(&backend.dir).unwrap().permissions().mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        backend.delete("k1").unwrap();
        backend.delete("k1").unwrap();
        assert!(backend.load("k1").unwrap().is_none());
    }
}
