//! Tests of reading a 粤商码 from an image: every kind of file, hostile headers, and which code is picked.

use super::*;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, LumaA, Rgba, RgbaImage};
use std::io::Cursor;
use std::time::{Duration, Instant};

const CODE: &str = "Ab3-dEf_0123456789xyzXYZ-_abcdef";
const PAYLOAD: &str = "https://yst.example.gd.gov.cn/ysm/Ab3-dEf_0123456789xyzXYZ-_abcdef";
/// A USCC with a right check character (the sandbox's first sample enterprise's form).
const USCC: &str = "91440300708461136T";

/// A QR code of `text`, `module` pixels a module, with its four-module quiet zone.
fn qr(text: &str, module: u32) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).expect("fits a QR code");
    let modules = code.width() as u32;
    let dark: Vec<bool> = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    let side = (modules + 8) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
        let inside = (0..i64::from(modules)).contains(&mx) && (0..i64::from(modules)).contains(&my);
        let is_dark = inside && dark[(my * i64::from(modules) + mx) as usize];
        Luma([if is_dark { 0 } else { 255 }])
    })
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).expect("encodes");
    bytes
}

fn png(image: GrayImage) -> Vec<u8> {
    encode(DynamicImage::ImageLuma8(image), ImageFormat::Png)
}

/// Two codes side by side on one white picture, as in a screenshot of a chat.
fn side_by_side(left: &str, right: &str) -> Vec<u8> {
    let (a, b) = (qr(left, 6), qr(right, 6));
    let mut both = GrayImage::from_pixel(a.width() + b.width() + 60, a.height().max(b.height()) + 40, Luma([255]));
    image::imageops::replace(&mut both, &a, 20, 20);
    image::imageops::replace(&mut both, &b, i64::from(a.width()) + 40, 20);
    png(both)
}

fn unreadable(bytes: &[u8], fact: &str) {
    let started = Instant::now();
    let err = read_code(bytes).expect_err("refused");
    assert_eq!(err.code, ErrorCode::ImageUnreadable, "{err:?}");
    assert!(err.message.contains(fact), "message {:?} lacks {fact:?}", err.message);
    assert!(started.elapsed() < Duration::from_secs(1), "refused in {:?}", started.elapsed());
}

/// CRC-32 of a PNG chunk (type and data), to craft headers the decoder believes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A real PNG whose header is rewritten to claim `width`×`height`, with a right CRC.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(qr(CODE, 2));
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height; the CRC follows the 13 data bytes.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn reads_a_code_from_every_kind_of_file() {
    let image = DynamicImage::ImageLuma8(qr(PAYLOAD, 4));
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Bmp, ImageFormat::Gif, ImageFormat::WebP] {
        let bytes = match format {
            ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP => {
                encode(DynamicImage::ImageRgba8(image.to_rgba8()), format)
            }
            _ => encode(image.clone(), format),
        };
        let read = read_code(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
        assert_eq!(read, ImageCode { text: PAYLOAD.to_owned(), codes_found: 1 }, "{format:?}");
    }
}

#[test]
fn reads_bare_codes_and_usccs() {
    assert_eq!(read_code(&png(qr(CODE, 4))).unwrap().text, CODE);
    assert_eq!(read_code(&png(qr(USCC, 4))).unwrap().text, USCC);
}

#[test]
fn reads_light_on_dark_and_transparent_backgrounds() {
    let mut inverted = qr(PAYLOAD, 4);
    image::imageops::invert(&mut inverted);
    assert_eq!(read_code(&png(inverted)).unwrap().text, PAYLOAD);

    // Black modules on nothing: transparent pixels are black too, but a screen shows white behind them.
    let code = qr(PAYLOAD, 4);
    let transparent = RgbaImage::from_fn(code.width(), code.height(), |x, y| {
        if code.get_pixel(x, y).0[0] == 0 { Rgba([0, 0, 0, 255]) } else { Rgba([0, 0, 0, 0]) }
    });
    let bytes = encode(DynamicImage::ImageRgba8(transparent), ImageFormat::Png);
    assert_eq!(read_code(&bytes).unwrap().text, PAYLOAD);

    let grey_alpha = image::ImageBuffer::from_fn(code.width(), code.height(), |x, y| {
        LumaA([0, if code.get_pixel(x, y).0[0] == 0 { 255 } else { 0 }])
    });
    let bytes = encode(DynamicImage::ImageLumaA8(grey_alpha), ImageFormat::Png);
    assert_eq!(read_code(&bytes).unwrap().text, PAYLOAD);
}

#[test]
fn picks_the_yueshang_code_among_several() {
    let read = read_code(&side_by_side("https://weixin.qq.com/r/abcdefg", PAYLOAD)).unwrap();
    assert_eq!(read, ImageCode { text: PAYLOAD.to_owned(), codes_found: 2 });
    let texts = find_codes(&side_by_side(USCC, "hello")).unwrap();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(read_code(&side_by_side("hello", USCC)).unwrap().text, USCC);
}

#[test]
fn a_code_that_is_not_a_yueshang_code_is_invalid_like_a_wrong_scan() {
    for text in ["https://www.example.com/", "hello world", "WIFI:S:hall;T:WPA;P:secret;;"] {
        let err = read_code(&png(qr(text, 4))).expect_err(text);
        assert_eq!(err.code, ErrorCode::CodeInvalid, "{text}");
        assert!(err.message.starts_with("图片中的二维码不是粤商码。"), "{}", err.message);
    }
    let err = read_code(&side_by_side("hello", "https://www.example.com/")).unwrap_err();
    assert_eq!(err.code, ErrorCode::CodeInvalid);
    assert_eq!(find_codes(&side_by_side("hello", "https://www.example.com/")).unwrap().len(), 2);
}

#[test]
fn a_picture_without_a_code_says_so() {
    for image in [GrayImage::from_pixel(640, 480, Luma([255])), GrayImage::from_pixel(10, 10, Luma([0]))] {
        let err = read_code(&png(image)).unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageNoCode);
        assert_eq!(err.message, ErrorCode::ImageNoCode.advice());
    }
    let noise = GrayImage::from_fn(400, 300, |x, y| Luma([((x * 7919 + y * 104_729) % 251) as u8]));
    assert_eq!(read_code(&png(noise)).unwrap_err().code, ErrorCode::ImageNoCode);
}

#[test]
fn what_is_not_an_image_is_refused() {
    unreadable(b"", "文件不是图片");
    unreadable(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "文件不是图片");
    unreadable(CODE.as_bytes(), "文件不是图片");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let random: Vec<u8> = (0..65_536)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    unreadable(&random, "文件不是图片");
    unreadable(b"II*\0\x08\0\0\0", "不支持 TIFF 格式");
}

#[test]
fn damaged_images_are_refused() {
    let whole = png(qr(PAYLOAD, 4));
    for cut in [8, 20, 40, whole.len() / 2, whole.len() - 20] {
        unreadable(&whole[..cut], "图片已损坏或不完整");
    }
    let jpeg = encode(DynamicImage::ImageLuma8(qr(PAYLOAD, 4)), ImageFormat::Jpeg);
    let err = read_code(&jpeg[..40]).unwrap_err();
    assert_eq!(err.code, ErrorCode::ImageUnreadable);
    let mut flipped = whole.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xFF;
    unreadable(&flipped, "图片已损坏或不完整");
}

#[test]
fn huge_dimensions_are_refused_from_the_header_alone() {
    unreadable(&png_claiming(100_000, 100_000), "图片有 10000 百万像素，超过上限 50");
    unreadable(&png_claiming(10_000, 6_000), "图片有 60 百万像素，超过上限 50");
    unreadable(&png_claiming(30_000, 10), "图片的边长有 30000 像素，超过上限 20000");
    // A GIF whose logical screen is 65535×65535: the first frame would be composed on it.
    let mut gif = encode(DynamicImage::ImageRgba8(DynamicImage::ImageLuma8(qr(CODE, 2)).to_rgba8()), ImageFormat::Gif);
    gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    unreadable(&gif, "超过上限 50");
    // A BMP claiming 60000×60000 in a 54-byte header.
    let mut bmp = encode(DynamicImage::ImageLuma8(qr(CODE, 2)), ImageFormat::Bmp);
    bmp[18..22].copy_from_slice(&60_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&60_000i32.to_le_bytes());
    unreadable(&bmp, "图片");
}

#[test]
fn a_file_over_the_limit_is_refused_before_anything_else() {
    let mut big = png(qr(PAYLOAD, 4));
    big.resize(MAX_FILE_BYTES + 1, 0);
    unreadable(&big, "文件大于 40 MB");
}

#[test]
fn only_the_first_frame_of_an_animation_is_read() {
    let first = DynamicImage::ImageLuma8(qr(PAYLOAD, 4)).to_rgba8();
    let second = DynamicImage::ImageLuma8(qr("https://www.example.com/", 4)).to_rgba8();
    let second = image::imageops::resize(&second, first.width(), first.height(), image::imageops::FilterType::Nearest);
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        encoder.encode_frames([image::Frame::new(first), image::Frame::new(second)]).expect("an animated GIF");
    }
    assert_eq!(read_code(&gif).unwrap(), ImageCode { text: PAYLOAD.to_owned(), codes_found: 1 });
}

#[test]
fn a_picture_full_of_finder_patterns_is_read_in_bounded_time() {
    // Thousands of concentric squares, each looking like a QR code's corner: the reader's worst case.
    let cell = 9;
    let finder = |x: u32, y: u32| {
        let ring = x.abs_diff(3).max(y.abs_diff(3));
        x < 7 && y < 7 && ring != 2
    };
    let image = GrayImage::from_fn(1500, 1500, |x, y| Luma([if finder(x % cell, y % cell) { 0 } else { 255 }]));
    let started = Instant::now();
    let result = read_code(&png(image));
    assert!(result.is_err());
    // Well under a second in a debug build (and the reader alone took minutes before it was capped);
    // the margin is for a loaded CI machine.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn debug_hides_the_code() {
    let read = ImageCode { text: PAYLOAD.to_owned(), codes_found: 1 };
    let shown = format!("{read:?}");
    assert!(!shown.contains(CODE), "{shown}");
    assert_eq!(shown, format!("ImageCode {{ text: http…({}), codes_found: 1 }}", PAYLOAD.len()));
}
