//! Stamping a license file (PDF, JPEG, PNG) into a copy that serves one case.
//!
//! The stamp (a light diagonal watermark, a footer band with the case's line and the status
//! line, a QR code holding the copy's serial) is drawn by krilla as a stamp-only PDF, one page
//! per page size. For a PDF source each stamp page becomes a Form XObject drawn after the
//! untouched original page, written as an incremental update: the original bytes stay as they
//! are, so vector content, text, annotations and page boxes cannot change, and the CJK font
//! subset is embedded once for all pages. A scanned image becomes one A4 page of its own.

use crate::error::{Error, ErrorCode};
use crate::print::font::StampFont;
use chrono::{DateTime, FixedOffset};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::graphic::Graphic;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use lopdf::{Dictionary, IncrementalDocument, Object, ObjectId};
use std::collections::{BTreeMap, HashMap};

/// What the stamp says: the case a copy serves and the license status it was made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampText {
    /// 事项名称
    pub item_name: String,
    /// 大厅名称
    pub hall_name: String,
    /// 窗口, e.g. "A03"
    pub counter: String,
    /// 经办人 姓名
    pub clerk_name: String,
    /// 办件号
    pub biz_num: String,
    /// When the copy was made, in China time.
    pub made_at: DateTime<FixedOffset>,
    /// 副本编号, e.g. P-4401061-A03-20261129-0007
    pub serial: String,
    /// The last successful status check of the license.
    pub checked_at: DateTime<FixedOffset>,
    /// False when the re-check just now could not reach the gateway.
    pub check_fresh: bool,
}

impl StampText {
    /// The line repeated across every page: the one use the copy is good for.
    pub fn watermark(&self) -> String {
        format!("仅供「{}」使用", self.item_name)
    }

    /// The two footer lines: the case, and the license status with the time it was checked.
    pub fn footer_lines(&self) -> [String; 2] {
        let case = format!(
            "{} · {} {} · 经办人 {} · 办件号 {} · {} · 副本编号 {}",
            self.watermark(),
            self.hall_name,
            self.counter,
            self.clerk_name,
            self.biz_num,
            minutes(&self.made_at),
            self.serial
        );
        let checked = minutes(&self.checked_at);
        let status = if self.check_fresh {
            format!("证照状态：有效（核验于 {checked}）")
        } else {
            format!("证照状态：有效（核验于 {checked}，出具时未能联网复核）")
        };
        [case, status]
    }
}

/// A time as the stamp shows it, in the time's own offset (China time).
fn minutes(at: &DateTime<FixedOffset>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A stamped copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// the source carried a digital signature, which no rewrite keeps valid
    pub source_signed: bool,
}

/// Stamps a license file for one case.
///
/// `mime` is "application/pdf", "image/jpeg" or "image/png" (anything else: FileUnreadable).
pub fn stamp(source: &[u8], mime: &str, text: &StampText, font: &StampFont) -> crate::Result<Stamped> {
    check_coverage(text, font)?;
    if source.is_empty() {
        return Err(unreadable("证照文件是空的。", "empty source"));
    }
    let kind = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match kind.as_str() {
        "application/pdf" => stamp_pdf(source, text, font),
        "image/jpeg" => stamp_scan(source, Scan::Jpeg, text, font),
        "image/png" => stamp_scan(source, Scan::Png, text, font),
        _ => Err(unreadable(format!("不支持的证照文件类型（{mime}）。"), format!("mime {mime:?}"))),
    }
}

fn unreadable(fact: impl AsRef<str>, detail: impl Into<String>) -> Error {
    Error::with_fact(ErrorCode::FileUnreadable, fact).detail(detail)
}

/// A name or an item with a character the font lacks would print as a box: refuse instead.
fn check_coverage(text: &StampText, font: &StampFont) -> crate::Result<()> {
    let missing = font.missing(&text.footer_lines().concat());
    if missing.is_empty() {
        return Ok(());
    }
    let chars: String = missing.iter().collect();
    Err(Error::with_fact(
        ErrorCode::FontMissing,
        format!("字体 {}（{}）缺少字符「{chars}」。", font.family(), font.path().display()),
    ))
}

// ---------------------------------------------------------------------------------------------
// The stamp itself

/// The ink of the watermark: mid grey, mostly transparent, so the content shows through.
const WATERMARK_GREY: (u8, u8, u8) = (110, 110, 110);
const WATERMARK_OPACITY: f32 = 0.16;
const FOOTER_INK: (u8, u8, u8) = (40, 40, 40);
/// One QR module: 1.4 pt is 2.9 pixels at 150 dpi, enough for zbar after a Ghostscript rewrite.
const QR_MODULE: f32 = 1.4;
/// White space around the QR code and the footer text, inside the band.
const BAND_PAD: f32 = 6.0;
const SIDE_MARGIN: f32 = 14.0;
/// The footer text is never larger than this; a long line is set smaller, never wrapped or cut,
/// because it must be extracted whole.
const FOOTER_MAX_SIZE: f32 = 7.5;

/// Everything drawn on a stamp page, prepared once per copy.
struct Stamp<'a> {
    font: &'a StampFont,
    watermark: String,
    lines: [String; 2],
    qr: QrModules,
}

impl<'a> Stamp<'a> {
    fn new(text: &'a StampText, font: &'a StampFont) -> crate::Result<Stamp<'a>> {
        Ok(Stamp { font, watermark: text.watermark(), lines: text.footer_lines(), qr: QrModules::of(&text.serial)? })
    }

    fn band_height(&self) -> f32 {
        self.qr.size() + 2.0 * BAND_PAD
    }

    /// Draws the watermark over the page above the band, then the band: on a `width` × `height`
    /// page with krilla's top-left origin.
    fn draw(&self, surface: &mut Surface<'_>, width: f32, height: f32) {
        let band_top = height - self.band_height();
        self.draw_watermark(surface, width, band_top);
        self.draw_band(surface, width, height, band_top);
    }

    /// The watermark line, repeated in staggered diagonal rows. Its glyphs are drawn as outlines:
    /// it is decoration, and as text it would interleave with the original's text when extracted.
    /// One outlined line is a reusable graphic, so forty repetitions cost one line in the file.
    fn draw_watermark(&self, surface: &mut Surface<'_>, width: f32, bottom: f32) {
        let size = (width / 30.0).clamp(12.0, 26.0);
        let line_width = self.font.width(&self.watermark, size);
        let mut builder = surface.stream_builder();
        let mut line = builder.surface();
        line.set_stroke(None);
        line.set_fill(Some(fill(WATERMARK_GREY, WATERMARK_OPACITY)));
        line.draw_text(
            Point::from_xy(0.0, 0.0),
            self.font.pdf_font(),
            size,
            &self.watermark,
            true,
            TextDirection::Auto,
        );
        line.finish();
        let graphic = Graphic::new(builder.finish(), false);

        let Some(clip) = rect_path(0.0, 0.0, width, bottom) else { return };
        surface.push_clip_path(&clip, &FillRule::NonZero);
        let (sin, cos) = (-30.0_f32).to_radians().sin_cos();
        let step_x = line_width + size * 4.0;
        let step_y = size * 5.0;
        let rows = ((bottom + line_width * 0.5) / step_y).ceil() as i32 + 1;
        for row in 0..=rows {
            let y = size * 2.0 + row as f32 * step_y;
            // Each row starts a third of a step further left, so repetitions do not form columns.
            let mut x = -line_width + (row % 3) as f32 * step_x / 3.0 - step_x;
            while x < width + line_width {
                surface.push_transform(&Transform::from_row(cos, sin, -sin, cos, x, y));
                surface.draw_graphic(graphic.clone());
                surface.pop();
                x += step_x;
            }
        }
        surface.pop();
    }

    /// The footer band: an almost opaque white strip so the lines and the code read cleanly
    /// over whatever the original has there, the two lines on the left, the QR code on the right.
    fn draw_band(&self, surface: &mut Surface<'_>, width: f32, height: f32, band_top: f32) {
        surface.set_stroke(None);
        surface.set_fill(Some(fill((255, 255, 255), 0.92)));
        if let Some(band) = rect_path(0.0, band_top, width, height) {
            surface.draw_path(&band);
        }
        surface.set_fill(Some(fill((150, 150, 150), 1.0)));
        if let Some(rule) = rect_path(SIDE_MARGIN, band_top, width - SIDE_MARGIN, band_top + 0.5) {
            surface.draw_path(&rule);
        }

        let qr_left = width - SIDE_MARGIN - self.qr.size();
        let room = qr_left - 10.0 - SIDE_MARGIN;
        let size = self.lines.iter().map(|l| room / self.font.width(l, 1.0)).fold(FOOTER_MAX_SIZE, f32::min);
        let leading = size * 1.6;
        let first_baseline = band_top + (self.band_height() - leading) / 2.0 + size * 0.35;
        surface.set_fill(Some(fill(FOOTER_INK, 1.0)));
        for (i, line) in self.lines.iter().enumerate() {
            let at = Point::from_xy(SIDE_MARGIN, first_baseline + i as f32 * leading);
            surface.draw_text(at, self.font.pdf_font(), size, line, false, TextDirection::Auto);
        }
        self.qr.draw(surface, qr_left, band_top + BAND_PAD);
    }
}

fn fill(color: (u8, u8, u8), opacity: f32) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
        ..Fill::default()
    }
}

fn rect_path(left: f32, top: f32, right: f32, bottom: f32) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    builder.push_rect(Rect::from_ltrb(left, top, right, bottom)?);
    builder.finish()
}

/// The QR code of the serial as rows of dark modules.
struct QrModules {
    width: usize,
    dark: Vec<bool>,
}

impl QrModules {
    /// The serial is upper-case letters, digits and hyphens, which QR's alphanumeric mode packs
    /// into a version-2 code; level M survives a smudge or a fold.
    fn of(serial: &str) -> crate::Result<QrModules> {
        let code = qrcode::QrCode::with_error_correction_level(serial.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| unreadable("副本编号无法编成二维码。", format!("QR of {serial:?}: {e}")))?;
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        Ok(QrModules { width: code.width(), dark })
    }

    fn size(&self) -> f32 {
        self.width as f32 * QR_MODULE
    }

    /// Draws the dark modules as one path, each horizontal run one rectangle, so that neighbouring
    /// modules leave no hairline seams for a scanner to trip on.
    fn draw(&self, surface: &mut Surface<'_>, left: f32, top: f32) {
        let mut builder = PathBuilder::new();
        for (y, row) in self.dark.chunks(self.width).enumerate() {
            let mut x = 0;
            while x < row.len() {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < row.len() && row[x] {
                    x += 1;
                }
                let (l, t) = (left + start as f32 * QR_MODULE, top + y as f32 * QR_MODULE);
                if let Some(run) = Rect::from_ltrb(l, t, left + x as f32 * QR_MODULE, t + QR_MODULE) {
                    builder.push_rect(run);
                }
            }
        }
        if let Some(path) = builder.finish() {
            surface.set_fill(Some(fill((0, 0, 0), 1.0)));
            surface.draw_path(&path);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A scanned license: one A4 page

#[derive(Clone, Copy)]
enum Scan {
    Jpeg,
    Png,
}

const A4: (f32, f32) = (595.28, 841.89);
const SCAN_MARGIN: f32 = 28.0;
/// The most pixels a scanned license may have (an A4 page at 600 dpi, an A3 one at 400 dpi; the
/// limit `imagecode` sets for photos): krilla decodes a PNG into a buffer of the size its header
/// claims, so a 175-byte file claiming 12 × 973 078 544 pixels asked for 46.7 GB and aborted.
const MAX_SCAN_PIXELS: u64 = 50_000_000;

fn stamp_scan(source: &[u8], kind: Scan, text: &StampText, font: &StampFont) -> crate::Result<Stamped> {
    if let Scan::Png = kind {
        check_png_size(source)?;
    }
    let data = krilla::Data::from(source.to_vec());
    let image = match kind {
        Scan::Jpeg => krilla::image::Image::from_jpeg(data, true),
        Scan::Png => krilla::image::Image::from_png(data, true),
    }
    .map_err(|e| unreadable("证照扫描件无法识别为图片。", format!("image: {e}")))?;
    let (px_w, px_h) = image.size();
    if px_w == 0 || px_h == 0 {
        return Err(unreadable("证照扫描件是空白图片。", "zero-sized image"));
    }
    let (width, height) = if px_w > px_h { (A4.1, A4.0) } else { A4 };
    let stamp = Stamp::new(text, font)?;

    // The scan keeps its proportions, as large as fits between the margins and the band.
    let (room_w, room_h) = (width - 2.0 * SCAN_MARGIN, height - SCAN_MARGIN - stamp.band_height() - 12.0);
    let scale = (room_w / px_w as f32).min(room_h / px_h as f32);
    let (draw_w, draw_h) = (px_w as f32 * scale, px_h as f32 * scale);
    let (left, top) = ((width - draw_w) / 2.0, SCAN_MARGIN + (room_h - draw_h) / 2.0);

    let mut document = krilla::Document::new();
    document.set_metadata(copy_metadata(text));
    let settings = PageSettings::from_wh(width, height).ok_or_else(|| unreadable("页面尺寸无效。", "page size"))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    if let Some(size) = Size::from_wh(draw_w, draw_h) {
        surface.push_transform(&Transform::from_translate(left, top));
        surface.draw_image(image, size);
        surface.pop();
    }
    stamp.draw(&mut surface, width, height);
    surface.finish();
    page.finish();
    let pdf = document.finish().map_err(|e| unreadable("证照扫描件无法转换为 PDF。", format!("krilla: {e:?}")))?;
    Ok(Stamped { pdf, pages: 1, source_signed: false })
}

/// Reads only the PNG's header, refusing a size krilla could not allocate before it tries.
fn check_png_size(source: &[u8]) -> crate::Result<()> {
    let header = image::ImageReader::with_format(std::io::Cursor::new(source), image::ImageFormat::Png);
    let (width, height) =
        header.into_dimensions().map_err(|e| unreadable("证照扫描件无法识别为图片。", format!("png header: {e}")))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_SCAN_PIXELS {
        let fact =
            format!("证照扫描件有 {} 百万像素，超过上限 {}。", pixels.div_ceil(1_000_000), MAX_SCAN_PIXELS / 1_000_000);
        return Err(unreadable(fact, format!("png {width}×{height}")));
    }
    Ok(())
}

fn copy_metadata(text: &StampText) -> krilla::metadata::Metadata {
    krilla::metadata::Metadata::new()
        .title(format!("用证副本 {}", text.serial))
        .creator("粤商码免证办 Yueshang counter".to_owned())
        .language("zh-CN".to_owned())
}

// ---------------------------------------------------------------------------------------------
// A PDF license: the stamp merged over the untouched pages

/// The visible area of a page and how a viewer turns it, as the stamp must be placed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PageFrame {
    /// The crop box (else the media box) in default user space: left, bottom, right, top.
    bounds: [f32; 4],
    /// Clockwise quarter turns of `/Rotate`.
    quarter_turns: u8,
}

impl PageFrame {
    /// Width and height as the reader sees the page (turned pages swap them).
    fn visible_size(&self) -> (f32, f32) {
        let (w, h) = (self.bounds[2] - self.bounds[0], self.bounds[3] - self.bounds[1]);
        if self.quarter_turns % 2 == 1 { (h, w) } else { (w, h) }
    }

    /// The matrix from the stamp's page (upright, origin bottom left) into the page's user
    /// space, so that the stamp stands upright however the page is turned.
    fn stamp_matrix(&self) -> [f32; 6] {
        let [x0, y0, x1, y1] = self.bounds;
        match self.quarter_turns {
            1 => [0.0, 1.0, -1.0, 0.0, x1, y0],
            2 => [-1.0, 0.0, 0.0, -1.0, x1, y1],
            3 => [0.0, -1.0, 1.0, 0.0, x0, y1],
            _ => [1.0, 0.0, 0.0, 1.0, x0, y0],
        }
    }

    /// Stamp pages are shared by pages of the same visible size (to a hundredth of a point).
    fn size_key(&self) -> (i64, i64) {
        let (w, h) = self.visible_size();
        ((w * 100.0).round() as i64, (h * 100.0).round() as i64)
    }
}

/// What the original says about its pages and signatures, read before anything is written.
struct Source {
    document: lopdf::Document,
    pages: Vec<(ObjectId, PageFrame)>,
    signed: bool,
}

fn stamp_pdf(source: &[u8], text: &StampText, font: &StampFont) -> crate::Result<Stamped> {
    // A PDF's offsets count from its `%PDF-` header, which may follow other bytes (readers and
    // lopdf look for it in the first KiB): the copy starts at the header, or the update appended
    // to it would point every reader that many bytes off, and the copy would not open.
    let source = match header_at(source) {
        Some(start) => &source[start..],
        None => source,
    };
    let Source { document, pages, signed } = read_source(source)?;
    let stamp = Stamp::new(text, font)?;
    let sizes = distinct_sizes(&pages);
    let stamp_pdf = draw_stamp_pages(&stamp, &sizes, text)?;
    let pdf = merge(source, document, &pages, &sizes, &stamp_pdf)?;
    Ok(Stamped { pdf, pages: pages.len(), source_signed: signed })
}

/// Parses the source and reads its pages, refusing what cannot be stamped faithfully.
fn read_source(source: &[u8]) -> crate::Result<Source> {
    if header_at(source).is_none() {
        return Err(unreadable("证照文件不是 PDF 文件。", "no %PDF- header"));
    }
    // lopdf is a parser of untrusted bytes and has panicked on malformed files before (an index
    // out of range, an arithmetic overflow); a panic must become "file unreadable", not bring
    // down the counter. The closure only reads `source` and builds new values, so no state of
    // ours can be left half-changed by an unwind: asserting unwind safety is sound here.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_source(source)));
    parsed.unwrap_or_else(|_| Err(unreadable("证照文件已损坏，无法解析。", "PDF parser panicked")))
}

/// Where the `%PDF-` header is, if it is in the first KiB.
fn header_at(source: &[u8]) -> Option<usize> {
    source[..source.len().min(1024)].windows(5).position(|w| w == b"%PDF-")
}

fn parse_source(source: &[u8]) -> crate::Result<Source> {
    let document = lopdf::Document::load_mem(source)
        .map_err(|e| unreadable("证照文件已损坏，无法解析。", format!("lopdf: {e}")))?;
    if document.is_encrypted() || document.was_encrypted() || document.trailer.has(b"Encrypt") {
        return Err(unreadable("证照文件已加密。", "encrypted PDF"));
    }
    if document.xref_start == 0 {
        // The cross-reference table was rebuilt by scanning: an update appended to these bytes
        // could not point back to a table that does not exist.
        return Err(unreadable("证照文件已损坏（交叉引用表缺失）。", "xref recovered by scanning"));
    }
    let page_ids: Vec<ObjectId> = document.get_pages().into_values().collect();
    if page_ids.is_empty() {
        return Err(unreadable("证照文件没有页面。", "no pages"));
    }
    let pages = page_ids.into_iter().map(|id| (id, page_frame(&document, id))).collect();
    let signed = carries_signature(&document);
    Ok(Source { document, pages, signed })
}

/// A page attribute, looked up the page tree as PDF inheritance says (bounded against cycles).
fn inherited<'a>(document: &'a lopdf::Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = document.get_dictionary(page).ok()?;
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return document.dereference(value).ok().map(|(_, v)| v);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = document.get_dictionary(parent).ok()?;
    }
    None
}

fn page_frame(document: &lopdf::Document, page: ObjectId) -> PageFrame {
    // A page without a media box is US Letter, as readers assume.
    let media =
        inherited(document, page, b"MediaBox").and_then(|b| rectangle(document, b)).unwrap_or([0.0, 0.0, 612.0, 792.0]);
    let bounds = inherited(document, page, b"CropBox")
        .and_then(|b| rectangle(document, b))
        .map(|crop| [crop[0].max(media[0]), crop[1].max(media[1]), crop[2].min(media[2]), crop[3].min(media[3])])
        .filter(|b| b[2] > b[0] && b[3] > b[1])
        .unwrap_or(media);
    let rotate = inherited(document, page, b"Rotate").and_then(|r| r.as_i64().ok()).unwrap_or(0);
    PageFrame { bounds, quarter_turns: (rotate.rem_euclid(360) / 90) as u8 }
}

fn rectangle(document: &lopdf::Document, object: &Object) -> Option<[f32; 4]> {
    let numbers: Vec<f32> = object
        .as_array()
        .ok()?
        .iter()
        .map(|n| document.dereference(n).ok().and_then(|(_, n)| n.as_float().ok()))
        .collect::<Option<_>>()?;
    let [a, b, c, d] = numbers.try_into().ok()?;
    let r = [a.min(c), b.min(d), a.max(c), b.max(d)];
    (r[2] > r[0] && r[3] > r[1] && r.iter().all(|v| v.is_finite())).then_some(r)
}

/// A signature dictionary (`/ByteRange`) or a signature field (`/FT /Sig`) anywhere in the file.
fn carries_signature(document: &lopdf::Document) -> bool {
    document.objects.values().any(|object| {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => return false,
        };
        dict.has(b"ByteRange") || dict.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig")
    })
}

/// The distinct visible sizes, in order of first use; a license's pages are usually all A4.
fn distinct_sizes(pages: &[(ObjectId, PageFrame)]) -> Vec<PageFrame> {
    let mut sizes: Vec<PageFrame> = Vec::new();
    for (_, frame) in pages {
        if !sizes.iter().any(|s| s.size_key() == frame.size_key()) {
            sizes.push(*frame);
        }
    }
    sizes
}

/// The stamp-only PDF: one page per distinct size, in the same order.
fn draw_stamp_pages(stamp: &Stamp<'_>, sizes: &[PageFrame], text: &StampText) -> crate::Result<Vec<u8>> {
    let mut document = krilla::Document::new();
    document.set_metadata(copy_metadata(text));
    for frame in sizes {
        let (width, height) = frame.visible_size();
        let settings =
            PageSettings::from_wh(width, height).ok_or_else(|| unreadable("证照页面尺寸无效。", "page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        stamp.draw(&mut surface, width, height);
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| Error::new(ErrorCode::FileUnreadable).detail(format!("stamp PDF: {e:?}")))
}

/// Appends the stamp to the original as an incremental update: each page's content is wrapped
/// in `q … Q` (so its graphics state cannot leak into the stamp) and followed by its stamp form.
fn merge(
    source: &[u8],
    document: lopdf::Document,
    pages: &[(ObjectId, PageFrame)],
    sizes: &[PageFrame],
    stamp_pdf: &[u8],
) -> crate::Result<Vec<u8>> {
    let stamp_doc = lopdf::Document::load_mem(stamp_pdf)
        .map_err(|e| Error::new(ErrorCode::FileUnreadable).detail(format!("stamp PDF reread: {e}")))?;
    let mut update = IncrementalDocument::create_from(source.to_vec(), document);
    let mut copier = ObjectCopier::default();
    let stamp_pages: Vec<ObjectId> = stamp_doc.get_pages().into_values().collect();
    let mut forms: HashMap<(i64, i64), ObjectId> = HashMap::new();
    for (frame, stamp_page) in sizes.iter().zip(&stamp_pages) {
        let form = stamp_form(&stamp_doc, *stamp_page, frame, &mut copier, &mut update.new_document)?;
        forms.insert(frame.size_key(), form);
    }
    let open = update.new_document.add_object(lopdf::Stream::new(Dictionary::new(), b"q\n".to_vec()));
    // Pages placed alike share one closing stream: a long license adds one, not one per page.
    let mut closings: HashMap<String, ObjectId> = HashMap::new();
    for (page, frame) in pages {
        let form = forms[&frame.size_key()];
        place_stamp(&mut update, *page, frame, form, open, &mut closings)?;
    }
    let mut out = Vec::with_capacity(source.len() + 64 * 1024);
    update.save_to(&mut out).map_err(|e| Error::new(ErrorCode::FileUnreadable).detail(format!("save: {e}")))?;
    Ok(out)
}

/// One stamp page as a Form XObject of the output, with its resources copied along.
fn stamp_form(
    stamp_doc: &lopdf::Document,
    page: ObjectId,
    frame: &PageFrame,
    copier: &mut ObjectCopier,
    target: &mut lopdf::Document,
) -> crate::Result<ObjectId> {
    let broken = |what: &str| Error::new(ErrorCode::FileUnreadable).detail(format!("stamp page: {what}"));
    let page_dict = stamp_doc.get_dictionary(page).map_err(|_| broken("no page"))?;
    let resources = page_dict.get(b"Resources").map_err(|_| broken("no resources"))?;
    let resources = copier.copy(stamp_doc, resources, target);
    let content = stamp_doc.get_page_content(page);
    if content.is_empty() {
        return Err(broken("no content"));
    }
    let (width, height) = frame.visible_size();
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", vec![0.into(), 0.into(), Object::Real(width), Object::Real(height)]);
    dict.set("Resources", resources);
    let mut form = lopdf::Stream::new(dict, content);
    // The stamp's content is small and repetitive; compressing it keeps the copy close to the source size.
    let _ = form.compress();
    Ok(target.add_object(form))
}

/// Wraps one original page's content and draws the stamp form after it.
fn place_stamp(
    update: &mut IncrementalDocument,
    page: ObjectId,
    frame: &PageFrame,
    form: ObjectId,
    open: ObjectId,
    closings: &mut HashMap<String, ObjectId>,
) -> crate::Result<()> {
    let broken = |what: String| unreadable("证照文件的页面结构有误。", what);
    let prev = update.get_prev_documents();
    let resources = own_resources(prev, page);
    let (resources, name) = with_stamp_xobject(prev, resources, form);
    let contents = page_contents(prev, page);

    let [a, b, c, d, e, f] = frame.stamp_matrix();
    let close = format!("\nQ\nq {a} {b} {c} {d} {e} {f} cm /{name} Do Q\n");
    let close = match closings.get(&close) {
        Some(id) => *id,
        None => {
            let id = update.new_document.add_object(lopdf::Stream::new(Dictionary::new(), close.clone().into_bytes()));
            closings.insert(close, id);
            id
        }
    };
    let mut wrapped = vec![Object::Reference(open)];
    wrapped.extend(contents);
    wrapped.push(Object::Reference(close));

    update.opt_clone_object_to_new_document(page).map_err(|e| broken(format!("page {page:?}: {e}")))?;
    let page_dict = update.new_document.get_dictionary_mut(page).map_err(|e| broken(format!("page {page:?}: {e}")))?;
    page_dict.set("Resources", Object::Dictionary(resources));
    page_dict.set("Contents", Object::Array(wrapped));
    Ok(())
}

/// The page's resources (its own or inherited) as a dictionary of its own, so adding the stamp
/// never changes a dictionary other pages share.
fn own_resources(document: &lopdf::Document, page: ObjectId) -> Dictionary {
    inherited(document, page, b"Resources").and_then(|r| r.as_dict().ok()).cloned().unwrap_or_default()
}

/// Adds the stamp form under a name the page does not use yet.
fn with_stamp_xobject(document: &lopdf::Document, mut resources: Dictionary, form: ObjectId) -> (Dictionary, String) {
    let mut xobjects = resources
        .get(b"XObject")
        .ok()
        .and_then(|x| document.dereference(x).ok())
        .and_then(|(_, x)| x.as_dict().ok())
        .cloned()
        .unwrap_or_default();
    let name = (0..)
        .map(|i| if i == 0 { "YueshangStamp".to_owned() } else { format!("YueshangStamp{i}") })
        .find(|n| !xobjects.has(n.as_bytes()))
        .unwrap_or_default();
    xobjects.set(name.as_bytes(), Object::Reference(form));
    resources.set("XObject", Object::Dictionary(xobjects));
    (resources, name)
}

/// The page's content streams as references, whether `/Contents` is one stream, an array, or
/// an array behind a reference.
fn page_contents(document: &lopdf::Document, page: ObjectId) -> Vec<Object> {
    let Ok(contents) = document.get_dictionary(page).and_then(|p| p.get(b"Contents")) else { return Vec::new() };
    match contents {
        Object::Reference(id) => match document.get_object(*id) {
            Ok(Object::Array(items)) => items.clone(),
            _ => vec![Object::Reference(*id)],
        },
        Object::Array(items) => items.clone(),
        _ => Vec::new(),
    }
}

/// Copies objects of the stamp PDF into the output under new numbers, each object once, so the
/// font subset shared by all stamp pages is embedded once.
#[derive(Default)]
struct ObjectCopier {
    copied: BTreeMap<ObjectId, ObjectId>,
}

impl ObjectCopier {
    fn copy(&mut self, from: &lopdf::Document, object: &Object, target: &mut lopdf::Document) -> Object {
        match object {
            Object::Reference(id) => Object::Reference(self.copy_indirect(from, *id, target)),
            Object::Array(items) => Object::Array(items.iter().map(|o| self.copy(from, o, target)).collect()),
            Object::Dictionary(dict) => Object::Dictionary(self.copy_dict(from, dict, target)),
            Object::Stream(stream) => {
                let mut copy = stream.clone();
                copy.dict = self.copy_dict(from, &stream.dict, target);
                Object::Stream(copy)
            }
            other => other.clone(),
        }
    }

    fn copy_dict(&mut self, from: &lopdf::Document, dict: &Dictionary, target: &mut lopdf::Document) -> Dictionary {
        let mut copy = Dictionary::new();
        for (key, value) in dict.iter() {
            // A back link to the page tree would drag the stamp document's pages along.
            if key.as_slice() != b"Parent" {
                copy.set(key.clone(), self.copy(from, value, target));
            }
        }
        copy
    }

    fn copy_indirect(&mut self, from: &lopdf::Document, id: ObjectId, target: &mut lopdf::Document) -> ObjectId {
        if let Some(copied) = self.copied.get(&id) {
            return *copied;
        }
        let new_id = target.new_object_id();
        self.copied.insert(id, new_id);
        let object = from.get_object(id).cloned().unwrap_or(Object::Null);
        let copy = self.copy(from, &object, target);
        target.set_object(new_id, copy);
        new_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn china(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn text(check_fresh: bool) -> StampText {
        StampText {
            item_name: "食品经营许可（新办）".to_owned(),
            hall_name: "广州市天河区政务服务中心".to_owned(),
            counter: "A03".to_owned(),
            clerk_name: "王小丽".to_owned(),
            biz_num: "4401062026112900007".to_owned(),
            made_at: china("2026-11-29T10:02:59+08:00"),
            serial: "P-4401061-A03-20261129-0007".to_owned(),
            checked_at: china("2026-11-29T09:58:00+08:00"),
            check_fresh,
        }
    }

    #[test]
    fn texts_are_exactly_as_specified() {
        let check = |fresh: bool, watermark: &str, lines: [&str; 2]| {
            let t = text(fresh);
            assert_eq!(t.watermark(), watermark);
            assert_eq!(t.footer_lines(), lines.map(str::to_owned));
        };
        let case = "仅供「食品经营许可（新办）」使用 · 广州市天河区政务服务中心 A03 · 经办人 王小丽 · \
                    办件号 4401062026112900007 · 2026-11-29 10:02 · 副本编号 P-4401061-A03-20261129-0007";
        check(true, "仅供「食品经营许可（新办）」使用", [case, "证照状态：有效（核验于 2026-11-29 09:58）"]);
        check(
            false,
            "仅供「食品经营许可（新办）」使用",
            [case, "证照状态：有效（核验于 2026-11-29 09:58，出具时未能联网复核）"],
        );
    }

    #[test]
    fn times_show_in_their_own_offset() {
        let mut t = text(true);
        t.made_at = china("2026-11-29T02:02:00Z").with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
        t.checked_at = china("2026-11-28T23:59:00+08:00");
        let [case, status] = t.footer_lines();
        assert!(case.contains(" · 2026-11-29 10:02 · "), "{case}");
        assert_eq!(status, "证照状态：有效（核验于 2026-11-28 23:59）");
    }

    #[test]
    fn turned_pages_get_an_upright_stamp() {
        // Where the stamp's corners land in user space: its bottom left must be the visible bottom left.
        let apply = |m: [f32; 6], (u, v): (f32, f32)| (m[0] * u + m[2] * v + m[4], m[1] * u + m[3] * v + m[5]);
        let frame = |quarter_turns| PageFrame { bounds: [10.0, 20.0, 110.0, 220.0], quarter_turns };
        let check = |turns: u8, size: (f32, f32), origin: (f32, f32)| {
            let f = frame(turns);
            assert_eq!(f.visible_size(), size, "turns {turns}");
            assert_eq!(apply(f.stamp_matrix(), (0.0, 0.0)), origin, "turns {turns}");
        };
        // Rotate 90 turns the page clockwise: its bottom right corner comes to the visible bottom left.
        check(0, (100.0, 200.0), (10.0, 20.0));
        check(1, (200.0, 100.0), (110.0, 20.0));
        check(2, (100.0, 200.0), (110.0, 220.0));
        check(3, (200.0, 100.0), (10.0, 220.0));
    }

    #[test]
    fn the_serial_fits_a_small_code() {
        let qr = QrModules::of("P-4401061-A03-20261129-0007").unwrap();
        assert_eq!(qr.width, 25, "version 2");
        assert!(qr.size() < 40.0);
    }
}
