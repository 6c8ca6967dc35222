//! An image file's bytes to grey pixels: its kind and size checked from the header before any pixel is decoded.

use super::MAX_FILE_BYTES;
use super::grey::Grey;
use crate::error::{Error, ErrorCode};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

/// The most pixels decoded: a 50-megapixel phone photo (8160×6120) still reads; a header claiming more
/// is refused before anything is allocated.
const MAX_PIXELS: u64 = 50_000_000;
/// The longest side: a panorama longer than this is not a screenshot or photo of a code.
const MAX_SIDE: u32 = 20_000;
/// What the decoder may allocate at once: the largest allowed image as 8-bit RGBA, with room to spare.
/// A 16-bit image that large is refused (no phone makes one).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// The file kinds a customer's screenshot or photo comes as; anything else is refused by name.
const FORMATS: [ImageFormat; 5] =
    [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Bmp, ImageFormat::Gif, ImageFormat::WebP];

/// The picture in `bytes` as grey pixels, transparency laid over white (as a screen shows it).
pub(super) fn grey(bytes: &[u8]) -> crate::Result<Grey> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(unreadable(format!("文件大于 {} MB。", MAX_FILE_BYTES / (1024 * 1024))));
    }
    let format = image::guess_format(bytes).map_err(|_| unreadable("文件不是图片。"))?;
    if !FORMATS.contains(&format) {
        return Err(unreadable(format!("不支持 {} 格式的图片。", format!("{format:?}").to_uppercase())));
    }
    check_dimensions(bytes, format)?;
    let image = decode(bytes, format)?;
    Ok(to_grey(image))
}

fn unreadable(fact: impl AsRef<str>) -> Error {
    Error::with_fact(ErrorCode::ImageUnreadable, fact)
}

fn damaged(err: impl std::fmt::Display) -> Error {
    unreadable("图片已损坏或不完整。").detail(err.to_string())
}

/// A reader of the file, held to `limits`.
fn reader(bytes: &[u8], format: ImageFormat, limits: Limits) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

/// What decoding may use: the sides we read and the memory they need.
fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Reads only the header: a PNG claiming 100000×100000 is refused here, having cost a few bytes.
fn check_dimensions(bytes: &[u8], format: ImageFormat) -> crate::Result<()> {
    // No side limits yet, so that the refusal can say how big the picture claims to be.
    let mut header_limits = Limits::default();
    header_limits.max_alloc = Some(MAX_ALLOC);
    let (width, height) = match catch(|| reader(bytes, format, header_limits).into_dimensions())? {
        Ok(dimensions) => dimensions,
        Err(image::ImageError::Limits(_)) => return Err(too_big(None)),
        Err(err) => return Err(damaged(err)),
    };
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(too_big(Some(pixels)).detail(format!("{width}×{height}")));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        let side = width.max(height);
        return Err(unreadable(format!("图片的边长有 {side} 像素，超过上限 {MAX_SIDE}。")));
    }
    if pixels == 0 {
        return Err(damaged(format!("{width}×{height}")));
    }
    Ok(())
}

fn too_big(pixels: Option<u64>) -> Error {
    let limit = MAX_PIXELS / 1_000_000;
    match pixels {
        Some(pixels) => unreadable(format!("图片有 {} 百万像素，超过上限 {limit}。", pixels.div_ceil(1_000_000))),
        None => unreadable(format!("图片太大，超过 {limit} 百万像素的上限。")),
    }
}

/// Decodes the first frame only (a GIF or WebP animation's first picture), within the limits.
fn decode(bytes: &[u8], format: ImageFormat) -> crate::Result<DynamicImage> {
    match catch(|| reader(bytes, format, decode_limits()).decode())? {
        Ok(image) => Ok(image),
        Err(image::ImageError::Limits(_)) => Err(too_big(None)),
        Err(err) => Err(damaged(err)),
    }
}

/// Runs one call of an image decoder on hostile bytes: the codecs are fuzzed, but a panic in one must
/// still end as "damaged image" for the clerk, never as a crashed counter.
fn catch<T>(call: impl FnOnce() -> T) -> crate::Result<T> {
    panic::catch_unwind(AssertUnwindSafe(call)).map_err(|_| damaged("the image decoder panicked"))
}

/// Grey levels as a screen shows them: a transparent pixel is the white behind it (a QR code saved
/// with a transparent background is black modules on nothing).
fn to_grey(image: DynamicImage) -> Grey {
    let (width, height) = (image.width(), image.height());
    let pixels = if image.color().has_alpha() {
        let grey_alpha = image.into_luma_alpha8();
        grey_alpha
            .pixels()
            .map(|p| {
                let [level, alpha] = p.0;
                let (level, alpha) = (u32::from(level), u32::from(alpha));
                ((level * alpha + 255 * (255 - alpha) + 127) / 255) as u8
            })
            .collect()
    } else {
        image.into_luma8().into_raw()
    };
    Grey { width, height, pixels }
}
