//! 粤商码 read from generated phone-like pictures (rotated, in perspective, blurred, recompressed, noisy, inverted, washed out, glared, moiré-striped, small in a 12-megapixel photo): the success rate per transform, ≥ 95 % over all.
//!
//! Every picture comes from a fixed seed, so the set is the same on every run. Run with `--nocapture`
//! to see the table.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use std::io::Cursor;
use std::time::{Duration, Instant};
use yueshang_core::imagecode::read_code;

/// xorshift64*: a few lines, the same numbers on every platform and every version of every crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// About standard normal: the sum of four uniforms, centred and scaled (cheaper than Box–Muller).
    fn gauss(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 3f64.sqrt()
    }

    fn colour(&mut self, low: u8, high: u8) -> Rgb<u8> {
        let mut channel = || low + self.below(u64::from(high - low) + 1) as u8;
        Rgb([channel(), channel(), channel()])
    }
}

const CODE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// What a sandbox-like 粤商码 holds: its URL (as 粤商通 shows it) or, one time in three, the bare code.
fn payload(rng: &mut Rng) -> String {
    let code: String = (0..32).map(|_| char::from(CODE_CHARS[rng.below(CODE_CHARS.len() as u64) as usize])).collect();
    if rng.below(3) == 0 { code } else { format!("https://yst.example.gd.gov.cn/ysm/{code}") }
}

/// The code as a phone shows it: modules with their quiet zone on the app's white card, 8 px a module.
fn card(payload: &str) -> GrayImage {
    const MODULE: u32 = 8;
    const MARGIN: i64 = 6; // quiet zone (4) and the card around it (2)
    let code = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M).expect("fits a QR code");
    let n = code.width() as i64;
    let dark: Vec<bool> = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    let side = (n + 2 * MARGIN) as u32 * MODULE;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (i64::from(x / MODULE) - MARGIN, i64::from(y / MODULE) - MARGIN);
        let on = (0..n).contains(&mx) && (0..n).contains(&my) && dark[(my * n + mx) as usize];
        Luma([if on { 0 } else { 255 }])
    })
}

/// A projective map of the plane, as a 3×3 matrix (the last entry 1).
struct Homography([f64; 8]);

impl Homography {
    /// The map taking each `from` corner to its `to` corner (solved by Gaussian elimination).
    fn between(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Homography {
        let mut rows = [[0.0; 9]; 8];
        for (i, ((x, y), (u, v))) in from.into_iter().zip(to).enumerate() {
            rows[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            rows[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        for col in 0..8 {
            let pivot = (col..8).max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs())).unwrap();
            rows.swap(col, pivot);
            let pivot_row = rows[col];
            for (_, row) in rows.iter_mut().enumerate().filter(|(index, _)| *index != col) {
                let factor = row[col] / pivot_row[col];
                for (value, above) in row.iter_mut().zip(pivot_row).skip(col) {
                    *value -= factor * above;
                }
            }
        }
        Homography(std::array::from_fn(|i| rows[i][8] / rows[i][i]))
    }

    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + 1.0;
        ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
    }
}

/// The grey level at a point between pixels, interpolated from the four around it.
fn bilinear(image: &GrayImage, x: f64, y: f64) -> f64 {
    let (x, y) = (x.clamp(0.0, f64::from(image.width() - 1)), y.clamp(0.0, f64::from(image.height() - 1)));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(image.width() - 1), (y0 + 1).min(image.height() - 1));
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let at = |x, y| f64::from(image.get_pixel(x, y).0[0]);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// How a picture of one code is taken.
struct Shot {
    width: u32,
    height: u32,
    /// The card's side, as a share of the picture's shorter side.
    size: f64,
    /// Turn of the card in degrees.
    angle: f64,
    /// How far each corner may stray, as a share of the card's side (a phone held at a slant).
    slant: f64,
    /// The screen's colours for dark modules and for the card.
    ink: Rgb<u8>,
    paper: Rgb<u8>,
    cluttered: bool,
}

impl Shot {
    fn photo(rng: &mut Rng) -> Shot {
        Shot {
            width: 560 + 20 * rng.below(10) as u32,
            height: 560 + 20 * rng.below(10) as u32,
            size: rng.range(0.45, 0.7),
            angle: rng.range(-8.0, 8.0),
            slant: 0.02,
            ink: rng.colour(10, 40),
            paper: rng.colour(215, 245),
            cluttered: true,
        }
    }
}

/// The picture: a background, and the card drawn through a projective map with bilinear sampling.
fn render(shot: &Shot, payload: &str, rng: &mut Rng) -> RgbImage {
    let card = card(payload);
    let mut picture = if shot.cluttered {
        clutter(shot.width, shot.height, rng)
    } else {
        RgbImage::from_pixel(shot.width, shot.height, Rgb([250, 250, 250]))
    };
    let side = shot.size * f64::from(shot.width.min(shot.height));
    let room = |extent: u32| (f64::from(extent) - side * 1.5).max(0.0);
    let centre = (
        f64::from(shot.width) / 2.0 + rng.range(-0.5, 0.5) * room(shot.width),
        f64::from(shot.height) / 2.0 + rng.range(-0.5, 0.5) * room(shot.height),
    );
    let (sin, cos) = shot.angle.to_radians().sin_cos();
    let corners: [(f64, f64); 4] = std::array::from_fn(|i| {
        let (dx, dy) = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)][i];
        let (jx, jy) = (rng.range(-1.0, 1.0) * shot.slant, rng.range(-1.0, 1.0) * shot.slant);
        let (x, y) = ((dx + jx) * side, (dy + jy) * side);
        (centre.0 + x * cos - y * sin, centre.1 + x * sin + y * cos)
    });
    let s = f64::from(card.width());
    let to_card = Homography::between(corners, [(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)]);
    let (left, right) = bounds(corners.map(|c| c.0), shot.width);
    let (top, bottom) = bounds(corners.map(|c| c.1), shot.height);
    for y in top..bottom {
        for x in left..right {
            let (u, v) = to_card.apply(f64::from(x) + 0.5, f64::from(y) + 0.5);
            if (0.0..s).contains(&u) && (0.0..s).contains(&v) {
                let t = bilinear(&card, u - 0.5, v - 0.5) / 255.0;
                let mix = |i: usize| (f64::from(shot.ink.0[i]) * (1.0 - t) + f64::from(shot.paper.0[i]) * t) as u8;
                picture.put_pixel(x, y, Rgb([mix(0), mix(1), mix(2)]));
            }
        }
    }
    picture
}

fn bounds(values: [f64; 4], extent: u32) -> (u32, u32) {
    let low = values.iter().copied().fold(f64::MAX, f64::min).floor().max(0.0) as u32;
    let high = values.iter().copied().fold(f64::MIN, f64::max).ceil().min(f64::from(extent)) as u32;
    (low.min(extent), high)
}

/// A desk, a hand, a chat window: a gradient, blocks of colour and lines of glyph-like marks.
fn clutter(width: u32, height: u32, rng: &mut Rng) -> RgbImage {
    let (from, to) = (rng.colour(60, 200), rng.colour(60, 200));
    let mut picture = RgbImage::new(width, height);
    for (y, row) in picture.rows_mut().enumerate() {
        let t = y as f64 / f64::from(height);
        let level = |i: usize| (f64::from(from.0[i]) * (1.0 - t) + f64::from(to.0[i]) * t) as u8;
        let colour = Rgb([level(0), level(1), level(2)]);
        row.for_each(|p| *p = colour);
    }
    for _ in 0..40 {
        let (w, h) = (rng.range(0.02, 0.25) * f64::from(width), rng.range(0.02, 0.25) * f64::from(height));
        let (x, y) = (rng.unit() * f64::from(width), rng.unit() * f64::from(height));
        let colour = rng.colour(0, 255);
        fill(&mut picture, x, y, w, h, colour);
    }
    for _ in 0..25 {
        let glyph = rng.range(0.006, 0.02) * f64::from(height);
        let (mut x, y) = (rng.unit() * f64::from(width), rng.unit() * f64::from(height));
        let colour = rng.colour(0, 90);
        for _ in 0..(10 + rng.below(30)) {
            fill(&mut picture, x, y, glyph * rng.range(0.5, 1.0), glyph, colour);
            x += glyph * 1.3;
        }
    }
    picture
}

fn fill(picture: &mut RgbImage, x: f64, y: f64, w: f64, h: f64, colour: Rgb<u8>) {
    let (width, height) = picture.dimensions();
    let (x0, y0) = ((x as u32).min(width) as usize, (y as u32).min(height) as usize);
    let (x1, y1) = (((x + w) as u32).min(width) as usize, ((y + h) as u32).min(height) as usize);
    let stride = 3 * width as usize;
    for row in picture.chunks_exact_mut(stride).skip(y0).take(y1.saturating_sub(y0)) {
        for pixel in row[3 * x0..3 * x1].chunks_exact_mut(3) {
            pixel.copy_from_slice(&colour.0);
        }
    }
}

/// What happens to the picture between the phone's screen and the counter.
#[derive(Clone, Copy)]
enum Effect {
    Blur(f32),
    Noise(f64),
    /// A bright blob: strength (0–1) and radius as a share of the shorter side.
    Glare(f64, f64),
    /// A screen's grid beating against the camera's: depth (0–1), period in pixels, direction in degrees.
    Moire(f64, f64, f64),
}

fn apply(picture: RgbImage, effect: Effect, rng: &mut Rng) -> RgbImage {
    match effect {
        Effect::Blur(sigma) => image::imageops::blur(&picture, sigma),
        // The same noise on the three channels: what reaches the grey reader, at a third of the cost.
        Effect::Noise(sigma) => per_pixel(picture, |_, _, v| v + sigma * rng.gauss()),
        Effect::Glare(strength, radius) => {
            let (w, h) = picture.dimensions();
            let r = radius * f64::from(w.min(h));
            let (cx, cy) = (f64::from(w) * rng.range(0.35, 0.65), f64::from(h) * rng.range(0.35, 0.65));
            per_pixel(picture, |x, y, v| {
                let d2 = ((x - cx).powi(2) + (y - cy).powi(2)) / (r * r);
                // Beyond three radii the blob adds nothing worth an exp.
                if d2 > 9.0 { v } else { v + (255.0 - v) * strength * (-d2).exp() }
            })
        }
        Effect::Moire(depth, period, direction) => {
            let (sin, cos) = direction.to_radians().sin_cos();
            let k = 2.0 * std::f64::consts::PI / period;
            // Two gratings a little apart: their beat is the slow banding a screen photo shows.
            per_pixel(picture, |x, y, v| {
                let a = (k * (x * cos + y * sin)).sin();
                let b = (k * 1.07 * (x * cos - y * sin)).sin();
                v * (1.0 - depth * (0.5 + 0.25 * (a + b)))
            })
        }
    }
}

/// Changes every pixel by `change(x, y, level)`, worked out once a pixel from its mean level and added
/// to each channel alike.
fn per_pixel(mut picture: RgbImage, mut change: impl FnMut(f64, f64, f64) -> f64) -> RgbImage {
    for (x, y, pixel) in picture.enumerate_pixels_mut() {
        let level = pixel.0.iter().map(|&c| f64::from(c)).sum::<f64>() / 3.0;
        let delta = change(f64::from(x), f64::from(y), level) - level;
        for channel in &mut pixel.0 {
            *channel = (f64::from(*channel) + delta).clamp(0.0, 255.0) as u8;
        }
    }
    picture
}

/// How the picture reaches the counter: a screenshot as PNG, a photo as JPEG.
#[derive(Clone, Copy)]
enum Encoding {
    Png,
    Jpeg(u8),
}

fn encode(picture: RgbImage, encoding: Encoding) -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = DynamicImage::ImageRgb8(picture);
    match encoding {
        Encoding::Png => image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("PNG"),
        Encoding::Jpeg(quality) => {
            JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&image).expect("JPEG")
        }
    }
    bytes
}

/// One generated case: how it was shot, what happened to it, how it was saved.
struct Case {
    shot: Shot,
    effects: Vec<Effect>,
    encoding: Encoding,
}

/// A family of cases, all showing one transform.
struct Transform {
    name: &'static str,
    cases: usize,
    make: fn(&mut Rng) -> Case,
}

fn photo(shot: Shot, effects: Vec<Effect>, quality: u8) -> Case {
    Case { shot, effects, encoding: Encoding::Jpeg(quality) }
}

const TRANSFORMS: &[Transform] = &[
    Transform {
        name: "screenshot",
        cases: 12,
        make: |rng| {
            let shot = Shot {
                width: 720,
                height: 1280,
                size: rng.range(0.4, 0.8),
                angle: 0.0,
                slant: 0.0,
                ink: Rgb([0, 0, 0]),
                paper: Rgb([255, 255, 255]),
                cluttered: false,
            };
            Case { shot, effects: Vec::new(), encoding: Encoding::Png }
        },
    },
    Transform {
        name: "rotation ≤45°",
        cases: 12,
        make: |rng| photo(Shot { angle: rng.range(-45.0, 45.0), ..Shot::photo(rng) }, Vec::new(), 90),
    },
    Transform {
        name: "perspective",
        cases: 12,
        make: |rng| {
            let slant = rng.range(0.05, 0.18);
            photo(Shot { slant, angle: rng.range(-20.0, 20.0), ..Shot::photo(rng) }, Vec::new(), 90)
        },
    },
    Transform {
        name: "gaussian blur",
        cases: 12,
        make: |rng| photo(Shot::photo(rng), vec![Effect::Blur(rng.range(1.0, 3.0) as f32)], 90),
    },
    Transform {
        name: "jpeg quality 30",
        cases: 12,
        make: |rng| photo(Shot { size: rng.range(0.3, 0.5), ..Shot::photo(rng) }, Vec::new(), 30),
    },
    Transform {
        name: "noise",
        cases: 12,
        make: |rng| {
            let sigma = rng.range(15.0, 45.0);
            Case { shot: Shot::photo(rng), effects: vec![Effect::Noise(sigma)], encoding: Encoding::Png }
        },
    },
    Transform {
        name: "inverted (dark mode)",
        cases: 12,
        make: |rng| {
            let shot = Shot { ink: rng.colour(215, 245), paper: rng.colour(10, 40), ..Shot::photo(rng) };
            if rng.below(2) == 0 {
                photo(shot, Vec::new(), 85)
            } else {
                Case { shot, effects: Vec::new(), encoding: Encoding::Png }
            }
        },
    },
    Transform {
        name: "low contrast",
        cases: 12,
        make: |rng| {
            let middle = rng.range(90.0, 170.0);
            let half = rng.range(10.0, 25.0);
            let grey = |v: f64| Rgb([v as u8, v as u8, v as u8]);
            let shot = Shot { ink: grey(middle - half), paper: grey(middle + half), ..Shot::photo(rng) };
            photo(shot, Vec::new(), 90)
        },
    },
    Transform {
        name: "glare",
        cases: 12,
        make: |rng| {
            let glare = Effect::Glare(rng.range(0.6, 0.95), rng.range(0.1, 0.3));
            photo(Shot::photo(rng), vec![glare], 90)
        },
    },
    Transform {
        name: "moiré",
        cases: 12,
        make: |rng| {
            let moire = Effect::Moire(rng.range(0.2, 0.45), rng.range(2.5, 7.0), rng.range(0.0, 180.0));
            photo(Shot::photo(rng), vec![moire], 90)
        },
    },
    Transform {
        name: "everything at once",
        cases: 12,
        make: |rng| {
            let shot = Shot { angle: rng.range(-30.0, 30.0), slant: 0.06, ..Shot::photo(rng) };
            let effects = vec![
                Effect::Blur(rng.range(0.5, 1.2) as f32),
                Effect::Glare(rng.range(0.3, 0.6), 0.2),
                Effect::Noise(rng.range(5.0, 12.0)),
            ];
            photo(shot, effects, 50)
        },
    },
    Transform {
        name: "small in 12 MP photo",
        // Slow to make in a debug build: the benchmark reads more of them.
        cases: 2,
        make: |rng| {
            // 4000×3000 and a card a tenth of the width: 400 px, about 9 px a module.
            let shot = Shot {
                width: 4000,
                height: 3000,
                size: 0.1 * 4000.0 / 3000.0,
                angle: rng.range(-25.0, 25.0),
                slant: 0.04,
                ..Shot::photo(rng)
            };
            photo(shot, Vec::new(), 85)
        },
    },
];

/// Where every picture's randomness starts.
const SEED: u64 = 0x5EED_0F1A_2B3C_4D5E;

/// One row of the table.
struct Tally {
    name: &'static str,
    cases: usize,
    decoded: usize,
    slowest: Duration,
    /// Generating and reading, together.
    took: Duration,
}

#[test]
fn phone_pictures_of_a_code_are_read_at_least_95_percent_of_the_time() {
    let started = Instant::now();
    let mut tallies = Vec::new();
    let mut failures = Vec::new();
    for (index, transform) in TRANSFORMS.iter().enumerate() {
        // A seed per transform: each family's pictures stay the same when another family changes.
        let mut rng = Rng(SEED ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let family_started = Instant::now();
        let mut tally =
            Tally { name: transform.name, cases: 0, decoded: 0, slowest: Duration::ZERO, took: Duration::ZERO };
        for case_number in 0..transform.cases {
            let payload = payload(&mut rng);
            let case = (transform.make)(&mut rng);
            let mut picture = render(&case.shot, &payload, &mut rng);
            for effect in &case.effects {
                picture = apply(picture, *effect, &mut rng);
            }
            let bytes = encode(picture, case.encoding);
            let reading = Instant::now();
            let read = read_code(&bytes);
            tally.slowest = tally.slowest.max(reading.elapsed());
            tally.cases += 1;
            match read {
                Ok(read) if read.text == payload => tally.decoded += 1,
                Ok(read) => failures.push(format!("{} #{case_number}: read {:?}", transform.name, read)),
                Err(err) => failures.push(format!("{} #{case_number}: {}", transform.name, err.code)),
            }
        }
        tally.took = family_started.elapsed();
        tallies.push(tally);
    }
    let (cases, decoded) = tallies.iter().fold((0, 0), |(c, d), t| (c + t.cases, d + t.decoded));
    println!(
        "{:<24} {:>5} {:>7} {:>6} {:>14} {:>10}",
        "transform", "cases", "decoded", "rate", "slowest read ms", "family s"
    );
    for t in &tallies {
        let rate = 100.0 * t.decoded as f64 / t.cases as f64;
        let (slowest, took) = (t.slowest.as_millis(), t.took.as_secs_f64());
        println!("{:<24} {:>5} {:>7} {:>5.1}% {:>14} {:>10.1}", t.name, t.cases, t.decoded, rate, slowest, took);
    }
    let rate = 100.0 * decoded as f64 / cases as f64;
    println!("{:<24} {:>5} {:>7} {:>5.1}%", "all", cases, decoded, rate);
    println!("failures: {failures:#?}");
    println!("generated and read in {:.1} s", started.elapsed().as_secs_f64());
    assert!(rate >= 95.0, "{decoded} of {cases} read ({rate:.1} %): {failures:#?}");
}
