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
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).unwrap_or_default().trim();
                let key = hex::decode(text).map(Zeroizing::new).map_err(|_| {
                    Error::with_fact(ErrorCode::StorageKeyMissing, format!("存储密钥文件 {} 已损坏。", path.display()))
                })?;
                Ok(Some(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("无法读取存储密钥文件", &path, e)),
        }
    }

    fn store(&self, key_id: &str, key: &[u8]) -> Result<()> {
        create_private_dir(&self.dir).map_err(|e| io_error("无法创建密钥目录", &self.dir, e))?;
        let path = self.path(key_id);
        let text = Zeroizing::new(hex::encode(key) + "\n");
        // create_new: a key is never overwritten, and the file is private from its first byte.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| io_error("无法保存存储密钥", &path, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("无法保存存储密钥", &path, e))
    }

    fn delete(&self, key_id: &str) -> Result<()> {
        let path = self.path(key_id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("无法删除旧的存储密钥", &path, e)),
        }
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
