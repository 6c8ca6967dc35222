//! Stamping benchmark: the 20-page sample PDF and a ~5 MB scanned JPEG, time per copy and size.
//!
//! Prints figures beside their targets and asserts nothing: a loaded CI machine must not fail
//! a build over a timing.

use chrono::DateTime;
use std::time::{Duration, Instant};
use yueshang_core::print::font::StampFont;
use yueshang_core::print::stamp::{StampText, stamp};
use yueshang_gateway_sim::documents::{self, Stamp};
use yueshang_gateway_sim::samples;

const RUNS: usize = 7;

fn main() {
    let font = StampFont::load(None).unwrap_or_else(|e| panic!("{e} (apt-get install fonts-wqy-microhei)"));
    println!("font: {} ({}, face {})", font.family(), font.path().display(), font.index());
    let pdf = long_sample_pdf();
    let jpeg = scanned_jpeg();
    measure("20-page license PDF", &pdf, "application/pdf", &font, Some(150.0));
    measure("scanned JPEG 4000×3000", &jpeg, "image/jpeg", &font, None);
}

fn text() -> StampText {
    let at = DateTime::parse_from_rfc3339("2026-11-29T10:02:00+08:00").unwrap();
    StampText {
        item_name: "食品经营许可（新办）".to_owned(),
        hall_name: "广州市天河区政务服务中心".to_owned(),
        counter: "A03".to_owned(),
        clerk_name: "王小丽".to_owned(),
        biz_num: "4401062026112900007".to_owned(),
        made_at: at,
        serial: "P-4401061-A03-20261129-0007".to_owned(),
        checked_at: at,
        check_fresh: true,
    }
}

fn long_sample_pdf() -> Vec<u8> {
    let long = samples::enterprises()
        .into_iter()
        .flat_map(|e| e.licenses)
        .find(|l| l.license.attachment_fields[0].get("page_count").is_some())
        .expect("the long sample license");
    let stamp = Stamp {
        use_cause: "食品经营许可（新办）申请材料核验",
        stamped_at: DateTime::parse_from_rfc3339("2026-11-28T10:02:03+08:00").unwrap(),
        hall: "广州市天河区政务服务中心",
    };
    documents::annotated_pdf(&long.license, &stamp).unwrap()
}

/// A 4000×3000 "scan" at quality 92: paper tone, a gradient and grain, about the size a
/// counter scanner's colour scan of an A4 certificate comes out at.
fn scanned_jpeg() -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    let image = image::RgbImage::from_fn(4000, 3000, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let grain = (state % 35) as i32 - 17;
        let shade = (x / 40 + y / 60) as i32 % 24;
        image::Rgb([236, 230, 214].map(|c: i32| (c + grain - shade).clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&image).unwrap();
    out
}

fn measure(name: &str, source: &[u8], mime: &str, font: &StampFont, target_ms: Option<f64>) {
    let text = text();
    let run = || stamp(source, mime, &text, font).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let first = run();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(run());
            started.elapsed()
        })
        .collect();
    times.sort();
    let median = times[RUNS / 2].as_secs_f64() * 1000.0;
    // The source may embed fonts of its own: the stamp's subset is what the copy adds.
    let source_fonts = if mime == "application/pdf" { font_program_bytes(source) } else { 0 };
    let subset = font_program_bytes(&first.pdf) - source_fonts;
    let ratio = first.pdf.len() as f64 / source.len() as f64;
    let budget = 1.2 * source.len() as f64 + subset as f64;
    println!("{name}: {} pages, source {} bytes", first.pages, source.len());
    let target = target_ms.map(|t| format!("(target ≤ {t} ms)")).unwrap_or_else(|| "(no target)".to_owned());
    println!(
        "  time per copy: median {median:.1} ms of {RUNS} {target}; fastest {:.1} ms, slowest {:.1} ms",
        times[0].as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0
    );
    println!(
        "  output {} bytes = {ratio:.3}× source; font subset {subset} bytes (target ≤ 1.2× source + subset = {budget:.0} bytes)",
        first.pdf.len()
    );
}

/// The bytes of the embedded font programs (FontFile, FontFile2, FontFile3) of a PDF.
fn font_program_bytes(pdf: &[u8]) -> usize {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(|t| t.as_name()).is_ok_and(|t| t == b"FontDescriptor"))
        .filter(|d| d.get(b"FontName").and_then(|n| n.as_name()).is_ok())
        .flat_map(|d| [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"].map(|k| d.get(k).ok().cloned()))
        .flatten()
        .filter_map(|r| r.as_reference().ok())
        .filter_map(|id| doc.get_object(id).ok()?.as_stream().ok().map(|s| s.content.len()))
        .sum::<usize>()
}
