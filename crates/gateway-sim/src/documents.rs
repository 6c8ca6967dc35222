//! The files behind sample licenses: the annotated PDF (加注件) stamped with the reason of use, and scanned JPEGs.
//!
//! Both are drawn from the license's own fields with one CJK font found on the machine, loaded and
//! parsed once per process: the server renders a file per request, so nothing slow may happen twice.

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
use chrono::{DateTime, FixedOffset};
use image::{Rgb, RgbImage};
use krilla::color::rgb;
use krilla::geom::{Path, PathBuilder, Point, Rect, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font as PdfFont, TextDirection};
use serde::de::{Deserializer, MapAccess, Visitor};
use std::path::PathBuf;
use std::sync::OnceLock;
use yueshang_core::domain::license::FaceFields;
use yueshang_core::wire::elicense::WireLicense;

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("no CJK font found: install fonts-wqy-microhei (Debian) or set YUESHANG_CJK_FONT to a .ttf/.ttc/.otf file")]
    NoFont,
    #[error("{0}")]
    Render(String),
}

/// What makes a copy a 加注件: the reason of use, when, and which hall stamped it.
pub struct Stamp<'a> {
    pub use_cause: &'a str,
    pub stamped_at: DateTime<FixedOffset>,
    pub hall: &'a str,
}

/// Names a CJK font file explicitly, before the known locations are tried.
const FONT_ENV: &str = "YUESHANG_CJK_FONT";

/// Where Debian/UOS/Kylin, Windows and macOS keep a font that covers Simplified Chinese.
const KNOWN_FONTS: [&str; 12] = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    r"C:\Windows\Fonts\msyh.ttc",
    r"C:\Windows\Fonts\simhei.ttf",
    r"C:\Windows\Fonts\simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
];

/// The CJK font to draw with: `YUESHANG_CJK_FONT` if set, else the first known location that exists.
///
/// A set but wrong variable is an error rather than silently ignored, so IT sees their mistake.
pub fn find_cjk_font() -> Result<PathBuf, DocumentError> {
    if let Some(path) = std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(DocumentError::Render(format!("{FONT_ENV}={} is not a readable font file", path.display())));
    }
    KNOWN_FONTS.iter().map(PathBuf::from).find(|p| p.is_file()).ok_or(DocumentError::NoFont)
}

/// The font, parsed once for both renderers.
struct CjkFont {
    /// For the PDF; krilla hashes the whole font when it is built, so it must be built once.
    pdf: PdfFont,
    /// For measuring text (both renderers) and rasterizing it (the JPEG).
    glyphs: FontRef<'static>,
    units_per_em: f32,
}

impl CjkFont {
    /// Width of `text` at `size` (em size, in the caller's unit). Single line, no kerning: CJK has none.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.glyphs.h_advance_unscaled(self.glyphs.glyph_id(c))).sum();
        units / self.units_per_em * size
    }

    /// Breaks `text` into lines no wider than `max_width`. CJK text may break between any two
    /// characters, but closing punctuation stays on the line it closes and a run of Latin letters
    /// and digits (a date, a code) stays whole unless it alone is too wide.
    fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        const NO_LINE_START: &str = "，。；：、）」》！？,.;:)";
        let mut lines = vec![String::new()];
        for unit in break_units(text) {
            let line = lines.last_mut().expect("never empty");
            let fits = self.width(&format!("{line}{unit}"), size) <= max_width;
            let clings = unit.chars().all(|c| NO_LINE_START.contains(c));
            if fits || line.is_empty() || clings {
                line.push_str(unit);
            } else if unit == " " {
                // A space where the line breaks is not carried to the next line.
                lines.push(String::new());
            } else if self.width(unit, size) > max_width {
                // Too long for any line: fall back to breaking it between characters.
                for c in unit.chars() {
                    let line = lines.last_mut().expect("never empty");
                    if !line.is_empty() && self.width(&format!("{line}{c}"), size) > max_width {
                        lines.push(String::new());
                    }
                    lines.last_mut().expect("never empty").push(c);
                }
            } else {
                lines.push(unit.to_owned());
            }
        }
        lines
    }

    /// The ab_glyph scale whose em is `em_px` pixels (ab_glyph scales by ascent − descent).
    fn px_scale(&self, em_px: f32) -> PxScale {
        PxScale::from(em_px * self.glyphs.height_unscaled() / self.units_per_em)
    }
}

/// The pieces a line may break between: each run of printable ASCII other than a space, and every
/// other character on its own.
fn break_units(text: &str) -> Vec<&str> {
    let mut units = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let latin = c.is_ascii_graphic();
        match (start, latin) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                units.push(&text[s..i]);
                start = None;
            }
            _ => {}
        }
        if !latin {
            units.push(&text[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        units.push(&text[s..]);
    }
    units
}

fn font() -> Result<&'static CjkFont, DocumentError> {
    static FONT: OnceLock<CjkFont> = OnceLock::new();
    if let Some(font) = FONT.get() {
        return Ok(font);
    }
    let bytes = font_bytes()?;
    // Index 0: the regular face of a collection (.ttc), or the only face of a .ttf/.otf.
    let glyphs = FontRef::try_from_slice_and_index(bytes, 0)
        .map_err(|e| DocumentError::Render(format!("the CJK font cannot be read: {e}")))?;
    let units_per_em = glyphs.units_per_em().unwrap_or(1000.0);
    let pdf = PdfFont::new(krilla::Data::from(bytes), 0)
        .ok_or_else(|| DocumentError::Render("the CJK font cannot be used for PDF".to_owned()))?;
    Ok(FONT.get_or_init(|| CjkFont { pdf, glyphs, units_per_em }))
}

/// The font file's bytes, read once and kept for the life of the process.
fn font_bytes() -> Result<&'static [u8], DocumentError> {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    if let Some(bytes) = BYTES.get() {
        return Ok(bytes);
    }
    let path = find_cjk_font()?;
    let bytes = std::fs::read(&path).map_err(|e| DocumentError::Render(format!("{}: {e}", path.display())))?;
    Ok(BYTES.get_or_init(|| bytes))
}

// ---------------------------------------------------------------------------------------------
// What both files show

/// The face fields in the issuer's order. `FaceFields::parse` goes through a sorted map, which
/// would shuffle a certificate's rows, so an object is read here key by key; a list form still
/// goes through the core parser.
fn face_rows(license: &WireLicense) -> Vec<(String, String)> {
    let mut deserializer = serde_json::Deserializer::from_str(&license.data_fields);
    if let Ok(OrderedFields(rows)) = serde::Deserialize::deserialize(&mut deserializer) {
        return rows;
    }
    let rows = FaceFields::parse(&license.data_fields).map(|f| f.0).unwrap_or_default();
    if !rows.is_empty() {
        return rows;
    }
    // No readable face: show what every license has.
    vec![
        ("持证主体".to_owned(), license.holder_name.clone()),
        ("统一社会信用代码".to_owned(), license.holder_identity_num.clone()),
    ]
}

/// A JSON object's members as text pairs, in document order.
struct OrderedFields(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for OrderedFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OrderedFieldsVisitor)
    }
}

struct OrderedFieldsVisitor;

impl<'de> Visitor<'de> for OrderedFieldsVisitor {
    type Value = OrderedFields;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of face fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedFields, A::Error> {
        let mut rows = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            rows.push((name, text));
        }
        Ok(OrderedFields(rows))
    }
}

/// The watermark line repeated across the page.
fn watermark_text(stamp: &Stamp<'_>) -> String {
    format!("仅供「{}」使用 · {} · {}", stamp.use_cause, stamp.hall, stamp.stamped_at.format("%Y-%m-%d %H:%M"))
}

/// The plain annotation line at the foot of the page.
fn annotation_text(stamp: &Stamp<'_>) -> String {
    format!(
        "加注件：本文件仅用于{}，{}于{}加注，用于其他用途无效。",
        stamp.use_cause,
        stamp.hall,
        stamp.stamped_at.format("%Y-%m-%d %H:%M:%S")
    )
}

fn validity_text(license: &WireLicense) -> String {
    format!("{} 至 {}", license.begin_date, license.expiry_date)
}

// ---------------------------------------------------------------------------------------------
// The annotated PDF

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const INK: (u8, u8, u8) = (33, 33, 33);
const MUTED: (u8, u8, u8) = (110, 110, 110);
const RULE: (u8, u8, u8) = (200, 190, 175);
const BORDER: (u8, u8, u8) = (150, 40, 30);
const SEAL_RED: (u8, u8, u8) = (214, 20, 30);
/// The seal sits bottom right, clear of the issuer block on the left and the annotation box below.
const SEAL_X: f32 = PAGE_W - 128.0;
const SEAL_Y: f32 = 690.0;
const SEAL_R: f32 = 50.0;

/// The annotated copy (加注件) of a license: an A4 certificate page stamped with the reason of use,
/// followed by appendix pages (附页) when the issuer's file has more than one page.
pub fn annotated_pdf(license: &WireLicense, stamp: &Stamp<'_>) -> Result<Vec<u8>, DocumentError> {
    let font = font()?;
    let mut document = krilla::Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!("{}（加注件）", license.name))
            .creator("粤商码免证办沙箱 Yueshang gateway sandbox".to_owned())
            .language("zh-CN".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| render_error("bad page size"))?;
    let mut page = document.start_page_with(settings.clone());
    let mut surface = page.surface();
    let mut pen = Pen { surface: &mut surface, font };
    pen.certificate_frame();
    let body_end = pen.title_and_fields(license);
    pen.issuer_block(license, body_end);
    pen.seal(&license.issue_org_name, SEAL_X, SEAL_Y, SEAL_R);
    pen.watermark(&watermark_text(stamp));
    pen.annotation_box(&annotation_text(stamp));
    surface.finish();
    page.finish();
    let total = page_count(license);
    for number in 2..=total {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let mut pen = Pen { surface: &mut surface, font };
        pen.certificate_frame();
        pen.appendix(license, number, total);
        pen.watermark(&watermark_text(stamp));
        pen.annotation_box(&annotation_text(stamp));
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| render_error(&format!("PDF: {e}")))
}

/// Pages of the issuer's file, as its attachment entry says (`page_count`); one when it says nothing.
fn page_count(license: &WireLicense) -> u32 {
    let stated = license.attachment_fields.get(0).and_then(|a| a.get("page_count")).and_then(|n| n.as_u64());
    // A sandbox file is generated per request: a bound keeps a mistyped count from stalling it.
    stated.map_or(1, |n| n.clamp(1, 60) as u32)
}

/// The rows of one appendix page: outlets and the limits the permit sets for each pollutant,
/// numbered on from the previous page, so that every page's text is its own.
fn appendix_rows(number: u32) -> Vec<[String; 4]> {
    const POLLUTANTS: [(&str, &str); 6] = [
        ("总铬", "0.5 mg/L"),
        ("六价铬", "0.1 mg/L"),
        ("总镍", "0.1 mg/L"),
        ("总铜", "0.3 mg/L"),
        ("化学需氧量", "50 mg/L"),
        ("氨氮", "8 mg/L"),
    ];
    const ROWS: u32 = 18;
    (0..ROWS)
        .map(|i| {
            let n = (number - 2) * ROWS + i;
            let (pollutant, limit) = POLLUTANTS[(n % 6) as usize];
            let outlet = format!("DW{:03}", n / 6 + 1);
            [format!("{}", n + 1), outlet, pollutant.to_owned(), limit.to_owned()]
        })
        .collect()
}

fn render_error(what: &str) -> DocumentError {
    DocumentError::Render(what.to_owned())
}

/// Draws on one PDF page with the CJK font; coordinates are points from the top-left corner.
struct Pen<'s, 'p> {
    surface: &'s mut Surface<'p>,
    font: &'static CjkFont,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, baseline: f32, size: f32, color: (u8, u8, u8), text: &str) {
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(color, 1.0)));
        self.surface.draw_text(
            Point::from_xy(x, baseline),
            self.font.pdf.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn centered(&mut self, baseline: f32, size: f32, color: (u8, u8, u8), text: &str) {
        let x = (PAGE_W - self.font.width(text, size)) / 2.0;
        self.text(x, baseline, size, color, text);
    }

    fn stroke(&mut self, path: Option<Path>, color: (u8, u8, u8), width: f32, opacity: f32) {
        let Some(path) = path else { return };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width,
            opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, color: (u8, u8, u8), width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1, y1);
        pb.line_to(x2, y2);
        self.stroke(pb.finish(), color, width, 1.0);
    }

    /// A double border, like the printed frame of a paper certificate.
    fn certificate_frame(&mut self) {
        for (inset, width) in [(26.0, 2.4), (33.0, 0.7)] {
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_ltrb(inset, inset, PAGE_W - inset, PAGE_H - inset) {
                pb.push_rect(rect);
            }
            self.stroke(pb.finish(), BORDER, width, 1.0);
        }
    }

    /// Title, number and the face fields as a two-column table; returns where the table ends.
    fn title_and_fields(&mut self, license: &WireLicense) -> f32 {
        self.centered(72.0, 10.0, MUTED, "中华人民共和国 · 广东省电子证照");
        self.centered(118.0, 30.0, INK, &license.name);
        self.centered(146.0, 10.5, MUTED, &format!("证照编号：{}", license.id_code));
        self.line(60.0, 160.0, PAGE_W - 60.0, 160.0, BORDER, 1.0);

        const SIZE: f32 = 10.5;
        const LEADING: f32 = 15.5;
        const LABEL_X: f32 = 66.0;
        const LABEL_W: f32 = 118.0;
        const VALUE_X: f32 = 194.0;
        const BOTTOM: f32 = 618.0;
        let value_w = PAGE_W - 66.0 - VALUE_X;
        let mut y = 172.0;
        let rows = face_rows(license);
        for (i, (name, value)) in rows.iter().enumerate() {
            let labels = self.font.wrap(name, SIZE, LABEL_W);
            let values = self.font.wrap(value, SIZE, value_w);
            let height = labels.len().max(values.len()) as f32 * LEADING + 8.0;
            if y + height > BOTTOM {
                let left = rows.len() - i;
                self.text(VALUE_X, y + 14.0, 9.0, MUTED, &format!("（另有 {left} 项，见证照原件）"));
                return y + 22.0;
            }
            for (j, line) in labels.iter().enumerate() {
                self.text(LABEL_X, y + 4.0 + SIZE + j as f32 * LEADING, SIZE, MUTED, line);
            }
            for (j, line) in values.iter().enumerate() {
                self.text(VALUE_X, y + 4.0 + SIZE + j as f32 * LEADING, SIZE, INK, line);
            }
            y += height;
            self.line(60.0, y, PAGE_W - 60.0, y, RULE, 0.5);
        }
        y
    }

    /// Issuer, dates and the license identifier, under the table.
    fn issuer_block(&mut self, license: &WireLicense, table_end: f32) {
        let top = table_end.max(560.0) + 28.0;
        let lines = [
            format!("发证机关：{}", license.issue_org_name),
            format!("发证日期：{}", license.issue_date),
            format!("有效期限：{}", validity_text(license)),
        ];
        for (i, line) in lines.iter().enumerate() {
            self.text(66.0, top + i as f32 * 18.0, 11.0, INK, line);
        }
        self.text(66.0, top + 3.0 * 18.0 + 4.0, 7.5, MUTED, &format!("电子证照标识：{}", license.license_code));
    }

    /// A red round seal: ring, star, the issuer's name along the upper arc.
    fn seal(&mut self, issuer: &str, cx: f32, cy: f32, r: f32) {
        let red = SEAL_RED;
        self.stroke(circle(cx, cy, r), red, 2.6, 0.85);
        self.stroke(circle(cx, cy, r - 4.0), red, 0.6, 0.85);
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(red, 0.85)));
        if let Some(star) = star(cx, cy, r * 0.26) {
            self.surface.draw_path(&star);
        }
        let size = if issuer.chars().count() > 14 { 8.5 } else { 10.0 };
        for (ch, angle) in arc_layout(issuer) {
            let (sin, cos) = angle.to_radians().sin_cos();
            let (x, y) = (cx + (r - 15.0) * sin, cy - (r - 15.0) * cos);
            // Rotate each character so that its top points away from the centre.
            self.surface.push_transform(&Transform::from_row(cos, sin, -sin, cos, x, y));
            let text = ch.to_string();
            let half = self.font.width(&text, size) / 2.0;
            self.surface.set_fill(Some(fill(red, 0.85)));
            self.surface.draw_text(
                Point::from_xy(-half, size * 0.36),
                self.font.pdf.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
            self.surface.pop();
        }
        let label = "证照专用章";
        let x = cx - self.font.width(label, 7.0) / 2.0;
        self.surface.set_fill(Some(fill(red, 0.85)));
        self.surface.draw_text(
            Point::from_xy(x, cy + r * 0.55),
            self.font.pdf.clone(),
            7.0,
            label,
            false,
            TextDirection::Auto,
        );
    }

    /// An appendix page (附页): its heading, the page number, and a table of discharge limits.
    fn appendix(&mut self, license: &WireLicense, number: u32, total: u32) {
        self.centered(72.0, 10.0, MUTED, "中华人民共和国 · 广东省电子证照");
        self.centered(112.0, 20.0, INK, &format!("{}（副本）附页", license.name));
        self.centered(140.0, 10.5, MUTED, &format!("证照编号：{}　第 {number} 页 / 共 {total} 页", license.id_code));
        self.line(60.0, 154.0, PAGE_W - 60.0, 154.0, BORDER, 1.0);
        const COLUMNS: [(f32, &str); 4] =
            [(70.0, "序号"), (140.0, "排放口编号"), (260.0, "污染物种类"), (400.0, "许可排放浓度限值")];
        for (x, heading) in COLUMNS {
            self.text(x, 176.0, 10.5, MUTED, heading);
        }
        self.line(60.0, 186.0, PAGE_W - 60.0, 186.0, RULE, 0.5);
        for (i, row) in appendix_rows(number).iter().enumerate() {
            let baseline = 206.0 + i as f32 * 24.0;
            for ((x, _), cell) in COLUMNS.iter().zip(row) {
                self.text(*x, baseline, 10.5, INK, cell);
            }
            self.line(60.0, baseline + 8.0, PAGE_W - 60.0, baseline + 8.0, RULE, 0.5);
        }
    }

    /// The watermark that makes the copy single-use: the stamp line, repeated diagonally, light red.
    fn watermark(&mut self, line: &str) {
        const SIZE: f32 = 15.0;
        let gap = "　　　";
        let row = [line, line, line].join(gap);
        let step = self.font.width(&format!("{line}{gap}"), SIZE);
        self.surface.push_transform(&Transform::from_rotate_at(-32.0, PAGE_W / 2.0, PAGE_H / 2.0));
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(SEAL_RED, 0.2)));
        for i in 0..11 {
            let y = -60.0 + i as f32 * 96.0;
            // Stagger the rows so that the repetitions do not line up in columns.
            let x = -step + (i % 3) as f32 * step / 3.0;
            self.surface.draw_text(Point::from_xy(x, y), self.font.pdf.clone(), SIZE, &row, false, TextDirection::Auto);
        }
        self.surface.pop();
    }

    /// The plain annotation line in a red box at the foot of the page.
    fn annotation_box(&mut self, text: &str) {
        const SIZE: f32 = 10.5;
        let lines = self.font.wrap(text, SIZE, PAGE_W - 2.0 * 66.0);
        let height = lines.len() as f32 * 15.0 + 12.0;
        let top = PAGE_H - 48.0 - height;
        let mut pb = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(56.0, top, PAGE_W - 112.0, height) {
            pb.push_rect(rect);
        }
        self.stroke(pb.finish(), SEAL_RED, 1.0, 1.0);
        for (i, line) in lines.iter().enumerate() {
            self.text(66.0, top + 6.0 + SIZE + i as f32 * 15.0, SIZE, SEAL_RED, line);
        }
    }
}

fn fill(color: (u8, u8, u8), opacity: f32) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
        ..Fill::default()
    }
}

/// A circle from four cubic Béziers (krilla's path builder has no arcs).
fn circle(cx: f32, cy: f32, r: f32) -> Option<Path> {
    const K: f32 = 0.552_284_8;
    let k = K * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    pb.finish()
}

/// A five-pointed star, point up, as on official seals.
fn star(cx: f32, cy: f32, r: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    for (i, (x, y)) in star_points(cx, cy, r).into_iter().enumerate() {
        if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
    }
    pb.close();
    pb.finish()
}

/// The ten corners of a star, outer and inner alternating, clockwise from the top.
fn star_points(cx: f32, cy: f32, r: f32) -> Vec<(f32, f32)> {
    (0..10)
        .map(|i| {
            let radius = if i % 2 == 0 { r } else { r * 0.382 };
            let (sin, cos) = (i as f32 * 36.0_f32).to_radians().sin_cos();
            (cx + radius * sin, cy - radius * cos)
        })
        .collect()
}

/// Each character of a seal's text with its angle (degrees clockwise from the top), spread
/// symmetrically over the upper arc, wider for longer names.
fn arc_layout(text: &str) -> Vec<(char, f32)> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1) as f32;
    let step = (250.0 / n).min(24.0);
    let first = -step * (n - 1.0) / 2.0;
    chars.into_iter().enumerate().map(|(i, c)| (c, first + i as f32 * step)).collect()
}

// ---------------------------------------------------------------------------------------------
// The scanned JPEG

/// A4 at 120 dpi: legible like a counter scanner's output, and under 300 KB as a JPEG
/// (150 dpi with paper grain comes out above that with the image crate's standard tables).
const SCAN_DPI: f32 = 120.0;
const SCAN_W: u32 = 992;
const SCAN_H: u32 = 1403;
/// Pixels per point, so the scan can use the PDF's point-based measures.
const PX: f32 = SCAN_DPI / 72.0;
const JPEG_QUALITY: u8 = 80;

/// A "scanned" paper certificate: off-white noisy paper, border, the main fields, a seal and the
/// reason-of-use line, as a JPEG.
pub fn scanned_jpeg(license: &WireLicense, stamp: &Stamp<'_>) -> Result<Vec<u8>, DocumentError> {
    encode_jpeg(&scanned_sheet(license, stamp, None)?, JPEG_QUALITY)
}

/// One scanned sheet at 120 dpi; `page` (number, total) adds the page line of a multi-page scan.
fn scanned_sheet(
    license: &WireLicense,
    stamp: &Stamp<'_>,
    page: Option<(u32, u32)>,
) -> Result<RgbImage, DocumentError> {
    let font = font()?;
    let mut scan = Scan { image: blank_paper().clone(), font };
    scan.frame();
    scan.centered(120.0, 30.0, INK, &license.name);
    scan.centered(150.0, 10.5, MUTED, &format!("编号：{}", license.id_code));
    if let Some((number, total)) = page {
        scan.centered(172.0, 10.5, MUTED, &format!("第 {number} 页 共 {total} 页"));
    }
    let mut y = 200.0;
    for (name, value) in face_rows(license).iter().take(9) {
        y = scan.field(y, name, value);
    }
    y += 20.0;
    for line in [format!("发证机关：{}", license.issue_org_name), format!("有效期限：{}", validity_text(license))]
    {
        scan.text(66.0, y, 11.0, INK, &line);
        y += 20.0;
    }
    scan.seal(&license.issue_org_name, SEAL_X, SEAL_Y, SEAL_R);
    scan.stamp_line(&annotation_text(stamp));
    Ok(scan.image)
}

/// A PDF of scanned pages, the way many older permits reach the archive: each page an archival
/// 240-dpi scan (the 120-dpi sheet enlarged, with a scanner's fine sensor noise), about 1 MB a
/// page. These are the sandbox's large files, which the viewer's re-open figures are measured on.
pub fn scanned_pdf(license: &WireLicense, stamp: &Stamp<'_>) -> Result<Vec<u8>, DocumentError> {
    let total = page_count(license);
    let mut document = krilla::Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!("{}（扫描件）", license.name))
            .creator("粤商码免证办沙箱 Yueshang gateway sandbox".to_owned())
            .language("zh-CN".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| render_error("bad page size"))?;
    let size = krilla::geom::Size::from_wh(PAGE_W, PAGE_H).ok_or_else(|| render_error("bad page size"))?;
    for number in 1..=total {
        let sheet = scanned_sheet(license, stamp, Some((number, total)))?;
        let jpeg = encode_jpeg(&archival_scan(&sheet, number), ARCHIVAL_QUALITY)?;
        // The JPEG goes into the PDF as it is (DCTDecode), as a scanner's PDF holds it.
        let image =
            krilla::image::Image::from_jpeg(jpeg.into(), true).map_err(|e| render_error(&format!("JPEG: {e}")))?;
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        surface.draw_image(image, size);
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| render_error(&format!("PDF: {e}")))
}

/// An archival scan's settings: twice the counter scan's resolution, fine noise of ± this many
/// levels, and the quality scanners save at. Together about 1 MB of JPEG a page.
const ARCHIVAL_SCALE: u32 = 2;
const SENSOR_NOISE: i32 = 7;
const ARCHIVAL_QUALITY: u8 = 85;

/// The sheet enlarged to archival resolution with per-pixel sensor noise, different on every page.
fn archival_scan(sheet: &RgbImage, page: u32) -> RgbImage {
    let (w, h) = (sheet.width() * ARCHIVAL_SCALE, sheet.height() * ARCHIVAL_SCALE);
    let mut scan = image::imageops::resize(sheet, w, h, image::imageops::FilterType::Triangle);
    for (x, y, pixel) in scan.enumerate_pixels_mut() {
        let spread = 2 * SENSOR_NOISE + 1;
        let noise = (position_hash(x ^ page.wrapping_mul(0x2545_F491), y) % spread as u32) as i32 - SENSOR_NOISE;
        pixel.0 = pixel.0.map(|c| (c as i32 + noise).clamp(0, 255) as u8);
    }
    scan
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, DocumentError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .map_err(|e| render_error(&format!("JPEG: {e}")))?;
    Ok(out)
}

/// The blank sheet, made once: the grain is the slowest part of a scan and the same for all.
fn blank_paper() -> &'static RgbImage {
    static PAPER: OnceLock<RgbImage> = OnceLock::new();
    PAPER.get_or_init(|| paper(SCAN_W, SCAN_H))
}

/// Off-white paper with the faint grain and uneven lighting of a flatbed scan.
///
/// The grain comes from a hash of the position, so the same license always scans the same;
/// it is smoothed over a few pixels, like real paper fibre, which also keeps the JPEG small.
fn paper(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let grain = paper_grain(x, y).round() as i32;
        let shade = (x as i32 * 6 / width as i32) + (y as i32 * 4 / height as i32);
        Rgb([246, 242, 230].map(|c: i32| (c + grain - shade).clamp(0, 255) as u8))
    })
}

/// Value noise in −GRAIN..=GRAIN: random values on a coarse grid, blended between grid points.
fn paper_grain(x: u32, y: u32) -> f32 {
    const CELL: u32 = GRAIN_CELL;
    let (cx, cy) = (x / CELL, y / CELL);
    let (fx, fy) = ((x % CELL) as f32 / CELL as f32, (y % CELL) as f32 / CELL as f32);
    let at = |gx: u32, gy: u32| (position_hash(gx, gy) % 1024) as f32 / 1023.0 * 2.0 - 1.0;
    let top = at(cx, cy) * (1.0 - fx) + at(cx + 1, cy) * fx;
    let bottom = at(cx, cy + 1) * (1.0 - fx) + at(cx + 1, cy + 1) * fx;
    (top * (1.0 - fy) + bottom * fy) * GRAIN
}

const GRAIN_CELL: u32 = 3;
const GRAIN: f32 = 5.0;

fn position_hash(x: u32, y: u32) -> u32 {
    let mut h = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77);
    h ^= h >> 15;
    h = h.wrapping_mul(0xC2B2_AE3D);
    h ^ (h >> 13)
}

/// Draws on the scan with point coordinates (top-left origin), converted to 150-dpi pixels.
struct Scan {
    image: RgbImage,
    font: &'static CjkFont,
}

impl Scan {
    fn text(&mut self, x: f32, baseline: f32, size: f32, color: (u8, u8, u8), text: &str) {
        let scale = self.font.px_scale(size * PX);
        let scaled = self.font.glyphs.as_scaled(scale);
        let mut caret = x * PX;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, baseline * PX));
            caret += scaled.h_advance(id);
            if let Some(outline) = self.font.glyphs.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (bounds.min.x as i32 + gx as i32, bounds.min.y as i32 + gy as i32);
                    blend(&mut self.image, px, py, color, coverage * 0.92);
                });
            }
        }
    }

    fn centered(&mut self, baseline: f32, size: f32, color: (u8, u8, u8), text: &str) {
        let x = (PAGE_W - self.font.width(text, size)) / 2.0;
        self.text(x, baseline, size, color, text);
    }

    /// One face field, label and value, the value wrapped; returns the next row's top.
    fn field(&mut self, top: f32, name: &str, value: &str) -> f32 {
        const SIZE: f32 = 11.0;
        let lines = self.font.wrap(value, SIZE, PAGE_W - 66.0 - 194.0);
        self.text(66.0, top + SIZE, SIZE, MUTED, name);
        for (i, line) in lines.iter().take(3).enumerate() {
            self.text(194.0, top + SIZE + i as f32 * 16.0, SIZE, INK, line);
        }
        top + lines.len().min(3) as f32 * 16.0 + 12.0
    }

    /// A rectangle outline `width` points thick, drawn as four bands.
    fn rect(&mut self, left: f32, top: f32, right: f32, bottom: f32, width: f32, color: (u8, u8, u8)) {
        let (l, t, r, b, w) = (left * PX, top * PX, right * PX, bottom * PX, (width * PX).max(1.0));
        self.band(l, t, r, t + w, color);
        self.band(l, b - w, r, b, color);
        self.band(l, t, l + w, b, color);
        self.band(r - w, t, r, b, color);
    }

    fn band(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, color: (u8, u8, u8)) {
        for y in (y0.round() as i32)..(y1.round() as i32) {
            for x in (x0.round() as i32)..(x1.round() as i32) {
                blend(&mut self.image, x, y, color, 0.9);
            }
        }
    }

    fn frame(&mut self) {
        self.rect(26.0, 26.0, PAGE_W - 26.0, PAGE_H - 26.0, 2.4, BORDER);
        self.rect(33.0, 33.0, PAGE_W - 33.0, PAGE_H - 33.0, 0.7, BORDER);
    }

    /// Ring, star and the issuer's name along the arc, in slightly faded stamp-pad red.
    fn seal(&mut self, issuer: &str, cx: f32, cy: f32, r: f32) {
        let (cxp, cyp, rp) = (cx * PX, cy * PX, r * PX);
        let reach = rp as i32 + 4;
        let star = star_points(cxp, cyp, rp * 0.26);
        for y in (cyp as i32 - reach)..=(cyp as i32 + reach) {
            for x in (cxp as i32 - reach)..=(cxp as i32 + reach) {
                let d = ((x as f32 - cxp).powi(2) + (y as f32 - cyp).powi(2)).sqrt();
                let ring = (1.0 - ((d - rp).abs() - 2.6).max(0.0)).clamp(0.0, 1.0);
                let inner = (1.0 - ((d - (rp - 4.0 * PX)).abs() - 0.6).max(0.0)).clamp(0.0, 1.0);
                let in_star = if inside(&star, x as f32, y as f32) { 1.0 } else { 0.0 };
                let ink = ring.max(inner).max(in_star);
                if ink > 0.0 {
                    // Uneven stamp-pad ink: some pixels take less.
                    let pressure = 0.65 + (position_hash(x as u32, y as u32) % 30) as f32 / 100.0;
                    blend(&mut self.image, x, y, SEAL_RED, ink * pressure);
                }
            }
        }
        let size = if issuer.chars().count() > 14 { 8.5 } else { 10.0 };
        for (ch, angle) in arc_layout(issuer) {
            let (sin, cos) = angle.to_radians().sin_cos();
            let (x, y) = (cxp + (rp - 15.0 * PX) * sin, cyp - (rp - 15.0 * PX) * cos);
            self.rotated_char(ch, x, y, size * PX, angle, SEAL_RED);
        }
        let label = "证照专用章";
        self.text(cx - self.font.width(label, 7.0) / 2.0, cy + r * 0.55, 7.0, SEAL_RED, label);
    }

    /// One character centred on (x, y) pixels and turned by `angle` degrees clockwise: rasterized
    /// upright into a small coverage grid, then sampled through the inverse rotation.
    fn rotated_char(&mut self, ch: char, x: f32, y: f32, em_px: f32, angle: f32, color: (u8, u8, u8)) {
        let scale = self.font.px_scale(em_px);
        let glyph = self.font.glyphs.glyph_id(ch).with_scale_and_position(scale, ab_glyph::point(0.0, 0.0));
        let Some(outline) = self.font.glyphs.outline_glyph(glyph) else { return };
        let bounds = outline.px_bounds();
        let (w, h) = (bounds.width().ceil() as usize, bounds.height().ceil() as usize);
        let mut coverage = vec![0.0_f32; w * h];
        outline.draw(|gx, gy, c| {
            if let Some(cell) = coverage.get_mut(gy as usize * w + gx as usize) {
                *cell = c;
            }
        });
        // The glyph's own centre (its em box, not its ink) is what sits on the arc.
        let advance = self.font.glyphs.as_scaled(scale).h_advance(self.font.glyphs.glyph_id(ch));
        let (ox, oy) = (advance / 2.0 - bounds.min.x, -em_px * 0.36 - bounds.min.y);
        let (sin, cos) = angle.to_radians().sin_cos();
        let reach = (w.max(h) as f32 * 1.5) as i32;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                // Inverse rotation back into the upright glyph's grid.
                let (fx, fy) = (dx as f32, dy as f32);
                let (ux, uy) = (cos * fx + sin * fy + ox, -sin * fx + cos * fy + oy);
                if ux < 0.0 || uy < 0.0 || ux >= w as f32 || uy >= h as f32 {
                    continue;
                }
                let c = coverage[uy as usize * w + ux as usize];
                if c > 0.0 {
                    blend(&mut self.image, x as i32 + dx, y as i32 + dy, color, c * 0.85);
                }
            }
        }
    }

    /// The reason-of-use line in red, boxed, at the foot of the page.
    fn stamp_line(&mut self, text: &str) {
        const SIZE: f32 = 10.5;
        let lines = self.font.wrap(text, SIZE, PAGE_W - 2.0 * 66.0);
        let height = lines.len() as f32 * 15.0 + 12.0;
        let top = PAGE_H - 48.0 - height;
        self.rect(56.0, top, PAGE_W - 56.0, top + height, 1.0, SEAL_RED);
        for (i, line) in lines.iter().enumerate() {
            self.text(66.0, top + 6.0 + SIZE + i as f32 * 15.0, SIZE, SEAL_RED, line);
        }
    }
}

/// Whether a point lies inside a polygon (even-odd rule).
fn inside(polygon: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut result = false;
    let mut j = polygon.len() - 1;
    for (i, &(xi, yi)) in polygon.iter().enumerate() {
        let (xj, yj) = polygon[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            result = !result;
        }
        j = i;
    }
    result
}

/// Lays `color` over the pixel with `alpha` (0–1); outside the image is ignored.
fn blend(image: &mut RgbImage, x: i32, y: i32, color: (u8, u8, u8), alpha: f32) {
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else { return };
    let Some(pixel) = image.get_pixel_mut_checked(x, y) else { return };
    let a = alpha.clamp(0.0, 1.0);
    let mix = |under: u8, over: u8| (f32::from(under) * (1.0 - a) + f32::from(over) * a).round() as u8;
    *pixel = Rgb([mix(pixel[0], color.0), mix(pixel[1], color.1), mix(pixel[2], color.2)]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{FileKind, SampleLicense, enterprises};
    use std::time::Instant;

    fn stamp() -> Stamp<'static> {
        Stamp {
            use_cause: "食品经营许可（新办）申请材料核验",
            stamped_at: DateTime::parse_from_rfc3339("2026-11-28T10:02:03+08:00").unwrap(),
            hall: "广州市天河区政务服务中心",
        }
    }

    /// One license per sample enterprise that the server would serve (never a revoked one).
    fn one_license_each() -> Vec<SampleLicense> {
        enterprises()
            .into_iter()
            .map(|e| e.licenses.into_iter().find(|l| l.license.license_status != "ABOLISHED").unwrap())
            .collect()
    }

    /// A missing font must fail the test with the error's own message, never skip it.
    fn ok<T>(result: Result<T, DocumentError>) -> T {
        result.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn annotated_pdfs_are_pdfs_of_reasonable_size() {
        for sample in one_license_each() {
            let pdf = ok(annotated_pdf(&sample.license, &stamp()));
            assert!(pdf.starts_with(b"%PDF"), "{}", sample.license.name);
            assert!(pdf.len() < 400 * 1024, "{} is {} bytes", sample.license.name, pdf.len());
        }
    }

    #[test]
    fn scanned_jpegs_decode() {
        for sample in one_license_each() {
            let jpeg = ok(scanned_jpeg(&sample.license, &stamp()));
            assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "{}", sample.license.name);
            assert!(jpeg.len() <= 300 * 1024, "{} is {} bytes", sample.license.name, jpeg.len());
            let image = image::load_from_memory(&jpeg).unwrap();
            assert_eq!((image.width(), image.height()), (SCAN_W, SCAN_H));
        }
    }

    #[test]
    fn the_long_file_has_its_pages() {
        let long = enterprises()
            .into_iter()
            .flat_map(|e| e.licenses)
            .find(|l| l.license.attachment_fields[0].get("page_count").is_some())
            .unwrap();
        let pdf = ok(annotated_pdf(&long.license, &stamp()));
        assert_eq!(page_objects(&pdf), usize::from(crate::samples::LONG_FILE_PAGES));
        assert!(pdf.len() < 600 * 1024, "{} bytes", pdf.len());
        let short = one_license_each().remove(0);
        assert_eq!(page_objects(&ok(annotated_pdf(&short.license, &stamp()))), 1);
    }

    /// Page objects in a PDF written by krilla, which writes every object plainly (no object
    /// streams) and names the type without a space (`/Type/Page`).
    fn page_objects(pdf: &[u8]) -> usize {
        let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
        count(b"/Type/Page") - count(b"/Type/Pages")
    }

    #[test]
    fn the_many_licenses_all_render() {
        let many = enterprises().into_iter().max_by_key(|e| e.licenses.len()).unwrap();
        for sample in &many.licenses {
            ok(annotated_pdf(&sample.license, &stamp()));
        }
    }

    /// The large-files sample: about 100 KB, 1 MB and 8 MB, each a PDF of the pages its
    /// attachment entry states, the scans' JPEGs embedded as they are.
    #[test]
    fn the_large_files_come_in_three_sizes() {
        let large = enterprises().into_iter().find(|e| e.note.contains("large files")).unwrap();
        let files: Vec<(usize, usize)> = large
            .licenses
            .iter()
            .map(|l| {
                let pdf = match l.file {
                    FileKind::Pdf => ok(annotated_pdf(&l.license, &stamp())),
                    FileKind::ScannedPdf => ok(scanned_pdf(&l.license, &stamp())),
                    FileKind::ScannedJpeg => unreachable!("the large files are PDFs"),
                };
                assert!(pdf.starts_with(b"%PDF"), "{}", l.license.name);
                let kib = pdf.len() / 1024;
                println!("{}: {kib} KiB, {} pages", l.license.name, page_objects(&pdf));
                (kib, page_objects(&pdf))
            })
            .collect();
        let [(small, small_pages), (one, 1), (eight, eight_pages)] = files[..] else { panic!("{files:?}") };
        assert!((60..=200).contains(&small), "about 100 KB: {small} KiB");
        assert_eq!(small_pages, page_count(&large.licenses[0].license) as usize);
        assert!((700..=1600).contains(&one), "about 1 MB: {one} KiB");
        assert!((6_000..=12_000).contains(&eight), "about 8 MB: {eight} KiB");
        assert_eq!(eight_pages, usize::from(crate::samples::LARGE_SCAN_PAGES));
    }

    #[test]
    fn face_rows_keep_the_issuers_order() {
        let license = WireLicense {
            data_fields: r#"{"名称":"甲","住所":"乙","类型":"丙"}"#.to_owned(),
            ..Default::default()
        };
        let names: Vec<String> = face_rows(&license).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["名称", "住所", "类型"]);
        let listed = WireLicense {
            data_fields: r#"[{"name":"许可项目","value":"热食类"}]"#.to_owned(),
            ..Default::default()
        };
        assert_eq!(face_rows(&listed), [("许可项目".to_owned(), "热食类".to_owned())]);
    }

    #[test]
    fn long_values_wrap_within_the_column() {
        let font = ok(font());
        let text = "日用百货、服装鞋帽、家用电器、图书报刊的零售；供应链管理；普通货物仓储；人力资源服务；食品销售";
        let lines = font.wrap(text, 10.5, 330.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| font.width(l, 10.5) <= 330.0 + 10.5));
        assert_eq!(lines.concat(), text);
        let dated =
            "加注件：本文件仅用于食品经营许可（新办）申请材料核验，广州市天河区政务服务中心于2026-11-28 10:02:03加注";
        let lines = font.wrap(dated, 10.5, 400.0);
        assert!(lines.iter().any(|l| l.contains("2026-11-28")), "{lines:?}");
        assert_eq!(
            font.wrap("1.2.156.3005.2.11100000000539079T011", 10.5, 60.0).concat(),
            "1.2.156.3005.2.11100000000539079T011"
        );
        assert_eq!(break_units("于2026-11-28 10:02加注"), ["于", "2026-11-28", " ", "10:02", "加", "注"]);
    }

    /// Prints how long one annotated PDF and one scan take: the first call (font and paper
    /// loaded) and the average of warm calls, which is what the server pays per request.
    #[test]
    fn rendering_time() {
        let license = enterprises().remove(1).licenses.remove(0).license;
        let average = |render: &dyn Fn() -> Vec<u8>| {
            let started = Instant::now();
            render();
            let first = started.elapsed();
            let runs = 5;
            let started = Instant::now();
            for _ in 0..runs {
                render();
            }
            (first, started.elapsed() / runs)
        };
        let (pdf_first, pdf) = average(&|| ok(annotated_pdf(&license, &stamp())));
        let (jpeg_first, jpeg) = average(&|| ok(scanned_jpeg(&license, &stamp())));
        eprintln!(
            "annotated_pdf: first {pdf_first:?}, then {pdf:?} each; scanned_jpeg: first {jpeg_first:?}, then {jpeg:?} each"
        );
    }
}
