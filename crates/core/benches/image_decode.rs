//! Image decode benchmark: time to read the 粤商码 from a 12-megapixel phone photo (the code a tenth of
//! the width, on a cluttered desk) and from a phone screenshot, and the worst cases (a photo with no code,
//! every view tried; a picture tiled with finder-pattern look-alikes). Prints `name=value` figures;
//! asserts nothing.
//!
//! Run with `cargo bench -p yueshang-core --bench image_decode`.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use std::io::Cursor;
use std::time::{Duration, Instant};
use yueshang_core::imagecode::read_code;

const PAYLOAD: &str = "https://yst.example.gd.gov.cn/ysm/Zq3-x8Jb_T0vKcW5nYs1pLh-M9dR2aEu";
const RUNS: usize = 21;

/// xorshift64*: the same picture on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn colour(&mut self) -> Rgb<u8> {
        let mut channel = || (self.next() % 256) as u8;
        Rgb([channel(), channel(), channel()])
    }
}

/// The code with its quiet zone and a white card around it, 8 px a module.
fn card(payload: &str) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M).expect("fits");
    let n = code.width() as i64;
    let dark: Vec<bool> = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    let side = (n + 12) as u32 * 8;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (i64::from(x / 8) - 6, i64::from(y / 8) - 6);
        let on = (0..n).contains(&mx) && (0..n).contains(&my) && dark[(my * n + mx) as usize];
        Luma([if on { 20 } else { 235 }])
    })
}

/// A desk: a gradient under blocks of colour.
fn desk(width: u32, height: u32, rng: &mut Rng) -> RgbImage {
    let mut picture = RgbImage::from_fn(width, height, |_, y| {
        let level = (90 + 100 * y / height) as u8;
        Rgb([level, level.saturating_sub(20), level])
    });
    for _ in 0..60 {
        let (w, h) = ((rng.unit() * 0.2 * f64::from(width)) as u32, (rng.unit() * 0.2 * f64::from(height)) as u32);
        let (x, y) = ((rng.unit() * f64::from(width)) as u32, (rng.unit() * f64::from(height)) as u32);
        let colour = rng.colour();
        for row in y..(y + h).min(height) {
            for column in x..(x + w).min(width) {
                picture.put_pixel(column, row, colour);
            }
        }
    }
    picture
}

/// Draws `card` turned by `angle` degrees, `side` pixels wide, centred at (`cx`, `cy`).
fn place(picture: &mut RgbImage, card: &GrayImage, side: f64, angle: f64, (cx, cy): (f64, f64)) {
    let scale = f64::from(card.width()) / side;
    let (sin, cos) = angle.to_radians().sin_cos();
    let reach = (side * 0.75) as i64;
    for y in (cy as i64 - reach).max(0)..(cy as i64 + reach).min(i64::from(picture.height())) {
        for x in (cx as i64 - reach).max(0)..(cx as i64 + reach).min(i64::from(picture.width())) {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let u = (dx * cos + dy * sin) * scale + f64::from(card.width()) / 2.0;
            let v = (-dx * sin + dy * cos) * scale + f64::from(card.height()) / 2.0;
            if u >= 0.0 && v >= 0.0 && u < f64::from(card.width()) && v < f64::from(card.height()) {
                let level = card.get_pixel(u as u32, v as u32).0[0];
                picture.put_pixel(x as u32, y as u32, Rgb([level, level, level]));
            }
        }
    }
}

fn jpeg(picture: RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&DynamicImage::ImageRgb8(picture)).expect("JPEG");
    bytes
}

fn png(picture: RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(picture).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("PNG");
    bytes
}

/// A 4000×3000 photo of a desk with the phone's code a tenth of the width, a little turned, with a
/// camera's grain (which is what makes a real photo's JPEG several megabytes, and slower to decode).
fn photo(with_code: bool) -> Vec<u8> {
    let mut rng = Rng(0xB0A7_D15C_0DE5_0001);
    let mut picture = desk(4000, 3000, &mut rng);
    if with_code {
        place(&mut picture, &card(PAYLOAD), 400.0, 12.0, (2600.0, 1900.0));
    }
    for channel in picture.iter_mut() {
        let grain = (rng.next() % 17) as i16 - 8;
        *channel = (i16::from(*channel) + grain).clamp(0, 255) as u8;
    }
    jpeg(picture, 90)
}

/// A 1080×2340 phone screenshot: the app's bars and the code 60 % of the width.
fn screenshot() -> Vec<u8> {
    let mut picture = RgbImage::from_pixel(1080, 2340, Rgb([246, 246, 246]));
    for (y, row) in picture.enumerate_rows_mut() {
        if !(180..2100).contains(&y) {
            row.for_each(|(_, _, p)| *p = Rgb([200, 40, 40]));
        }
    }
    place(&mut picture, &card(PAYLOAD), 648.0, 0.0, (540.0, 1100.0));
    png(picture)
}

/// The reader's worst case: 1500×1500 tiled with finder-pattern look-alikes (thousands of candidates).
fn finder_pattern_tiles() -> Vec<u8> {
    let finder = |x: u32, y: u32| x < 7 && y < 7 && x.abs_diff(3).max(y.abs_diff(3)) != 2;
    let picture = RgbImage::from_fn(1500, 1500, |x, y| {
        let level = if finder(x % 9, y % 9) { 0 } else { 255 };
        Rgb([level, level, level])
    });
    png(picture)
}

/// Median and 95th percentile of `runs` reads, in ms; checks each read found what it should.
fn measure(bytes: &[u8], runs: usize, expect_code: bool) -> (f64, f64) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let read = read_code(bytes);
            let took = started.elapsed();
            assert_eq!(read.is_ok(), expect_code, "{read:?}");
            took
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.95))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let photo_jpeg = photo(true);
    let empty_jpeg = photo(false);
    let screenshot_png = screenshot();

    let started = Instant::now();
    let grey = image::load_from_memory(&photo_jpeg).expect("JPEG").into_luma8();
    let jpeg_to_grey = started.elapsed();
    assert_eq!(grey.dimensions(), (4000, 3000));

    println!("image decode benchmark: median and 95th percentile of {runs} run(s)");
    let (median, p95) = measure(&photo_jpeg, runs, true);
    println!("photo_12mp_jpeg_bytes={}", photo_jpeg.len());
    println!("photo_12mp_median_ms={median:.1}");
    println!("photo_12mp_p95_ms={p95:.1}");
    println!("photo_12mp_jpeg_to_grey_ms={:.1}", jpeg_to_grey.as_secs_f64() * 1000.0);
    let (median, p95) = measure(&screenshot_png, runs, true);
    println!("screenshot_1080x2340_png_bytes={}", screenshot_png.len());
    println!("screenshot_median_ms={median:.1}");
    println!("screenshot_p95_ms={p95:.1}");
    let (median, p95) = measure(&empty_jpeg, runs.min(7), false);
    println!("photo_12mp_no_code_median_ms={median:.1}");
    println!("photo_12mp_no_code_p95_ms={p95:.1}");
    let (median, p95) = measure(&finder_pattern_tiles(), runs.min(7), false);
    println!("finder_pattern_tiles_median_ms={median:.1}");
    println!("finder_pattern_tiles_p95_ms={p95:.1}");
}
