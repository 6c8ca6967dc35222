//! The 粤商码 in an image the clerk pasted, dropped or opened: the image's bytes (or a dropped or
//! picked file's path) go to `yueshang_core::imagecode` on a blocking thread, and only the code's
//! text comes back, which the window then scans exactly as a scanner gun's.
//!
//! The text is a bearer credential for its 120-second life: it is never logged here.

use crate::dto::AppError;
use serde::Serialize;
use std::io::Read as _;
use std::path::Path;
use tauri::ipc::{InvokeBody, Request};
use yueshang_core::imagecode::{self, MAX_FILE_BYTES};
use yueshang_core::{Error, ErrorCode};

type Answer<T> = Result<T, AppError>;

/// What an image held: the text to scan. No `Debug`: nothing may print it.
#[derive(Serialize)]
pub(crate) struct ImageTextDto {
    text: String,
}

/// The image as the request's raw body (a pasted image's bytes, sent without JSON).
#[tauri::command]
pub(crate) async fn read_image(request: Request<'_>) -> Answer<ImageTextDto> {
    let bytes = body_bytes(request.body())?;
    decode_on_a_blocking_thread(move || Ok(bytes)).await
}

/// An image file by its path: one dropped onto the window or picked with 打开图片.
#[tauri::command]
pub(crate) async fn read_image_file(path: String) -> Answer<ImageTextDto> {
    decode_on_a_blocking_thread(move || read_file(Path::new(&path))).await
}

async fn decode_on_a_blocking_thread(
    bytes: impl FnOnce() -> Result<Vec<u8>, Error> + Send + 'static,
) -> Answer<ImageTextDto> {
    let joined = tauri::async_runtime::spawn_blocking(move || imagecode::read_code(&bytes()?)).await;
    let code = joined.map_err(|e| {
        Error::with_fact(ErrorCode::ImageUnreadable, "读取图片时出错。").detail(format!("the image task failed: {e}"))
    })??;
    tracing::info!(codes_found = code.codes_found, "a code was read from an image");
    Ok(ImageTextDto { text: code.text })
}

/// The raw body; a JSON array of bytes too, which is what the webview sends when it falls back
/// from the IPC protocol to `postMessage`.
fn body_bytes(body: &InvokeBody) -> Result<Vec<u8>, Error> {
    match body {
        InvokeBody::Raw(bytes) => {
            too_big(bytes.len())?;
            Ok(bytes.clone())
        }
        InvokeBody::Json(serde_json::Value::Array(items)) => {
            too_big(items.len())?;
            items
                .iter()
                .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(not_an_image)
        }
        InvokeBody::Json(_) => Err(not_an_image()),
    }
}

/// A regular file only (never a device or a pipe that would never end), and no more than the
/// core reads at all.
fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    let cannot_open = |e: std::io::Error| {
        // The io error's kind only: a file's name may carry a person's name.
        Error::with_fact(ErrorCode::ImageUnreadable, "无法打开这个文件。").detail(format!("{:?}", e.kind()))
    };
    if !path.is_absolute() {
        return Err(not_an_image());
    }
    let meta = std::fs::metadata(path).map_err(cannot_open)?;
    if !meta.is_file() {
        return Err(not_an_image());
    }
    too_big(usize::try_from(meta.len()).unwrap_or(usize::MAX))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(cannot_open)?;
    file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(cannot_open)?;
    too_big(bytes.len())?;
    Ok(bytes)
}

fn too_big(len: usize) -> Result<(), Error> {
    if len > MAX_FILE_BYTES {
        let mb = len.div_ceil(1024 * 1024);
        return Err(Error::with_fact(ErrorCode::ImageUnreadable, format!("文件有 {mb} MB，太大了。")));
    }
    Ok(())
}

fn not_an_image() -> Error {
    Error::with_fact(ErrorCode::ImageUnreadable, "这不是图片文件。")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_array_bodies_give_the_same_bytes() {
        let raw = InvokeBody::Raw(vec![0x89, b'P', b'N', b'G']);
        let array = InvokeBody::Json(serde_json::json!([0x89, 80, 78, 71]));
        assert_eq!(body_bytes(&raw).unwrap(), body_bytes(&array).unwrap());
        assert_eq!(
            body_bytes(&InvokeBody::Json(serde_json::json!([300]))).unwrap_err().code,
            ErrorCode::ImageUnreadable
        );
        assert_eq!(
            body_bytes(&InvokeBody::Json(serde_json::json!({"a": 1}))).unwrap_err().code,
            ErrorCode::ImageUnreadable
        );
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile_dir();
        assert_eq!(read_file(&dir).unwrap_err().code, ErrorCode::ImageUnreadable);
        assert_eq!(read_file(Path::new("relative.png")).unwrap_err().code, ErrorCode::ImageUnreadable);
        let missing = read_file(&dir.join("missing.png")).unwrap_err();
        assert_eq!(missing.code, ErrorCode::ImageUnreadable);
        assert_eq!(missing.detail.as_deref(), Some("NotFound"));
        let file = dir.join("a.png");
        std::fs::write(&file, b"not really").unwrap();
        assert_eq!(read_file(&file).unwrap(), b"not really");
        #[cfg(unix)]
        assert_eq!(read_file(Path::new("/dev/zero")).unwrap_err().code, ErrorCode::ImageUnreadable);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn more_than_the_core_reads_is_refused_before_reading() {
        let err = too_big(MAX_FILE_BYTES + 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageUnreadable);
        assert!(err.message.contains("MB"), "{}", err.message);
        assert!(too_big(MAX_FILE_BYTES).is_ok());
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("yueshang-image-commands-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
