//! QR images of issued codes, so the demo and tests can show or scan a code as a phone would.

use image::{DynamicImage, ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;

/// The smallest side of the image, in pixels: comfortably scannable from a screen.
const MIN_SIDE_PX: u32 = 300;

/// A PNG of `payload` as a QR code with its quiet zone, about 300 px square.
///
/// Empty when the payload does not fit in a QR code (over about 2 KB); issued payloads are ~70 bytes.
pub fn qr_png(payload: &str) -> Vec<u8> {
    // Medium error correction, as phone apps use: tolerant of screen glare without a dense symbol.
    let Ok(code) = QrCode::with_error_correction_level(payload, EcLevel::M) else { return Vec::new() };
    let pixels = code.render::<Luma<u8>>().quiet_zone(true).min_dimensions(MIN_SIDE_PX, MIN_SIDE_PX).build();
    let mut png = Vec::new();
    match DynamicImage::ImageLuma8(pixels).write_to(&mut Cursor::new(&mut png), ImageFormat::Png) {
        Ok(()) => png,
        Err(e) => {
            tracing::error!(error = %e, "could not encode a QR code as PNG");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_becomes_a_square_png_of_about_300_px() {
        let png = qr_png("https://yueshangma.sandbox.invalid/ysm/abcdefghijklmnopqrstuvwxyz012345");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!(image.width(), image.height());
        assert!((MIN_SIDE_PX..2 * MIN_SIDE_PX).contains(&image.width()), "{}", image.width());
    }

    #[test]
    fn a_payload_too_long_for_a_qr_code_gives_nothing() {
        assert!(qr_png(&"x".repeat(10_000)).is_empty());
    }
}
