//! Stamped copies checked with independent tools: poppler reads the text, page count and sizes,
//! zbar decodes the footer QR from a rendering, lopdf finds the annotations still there.

use chrono::{DateTime, FixedOffset};
use lopdf::{Dictionary, Object};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use yueshang_core::error::ErrorCode;
use yueshang_core::print::font::StampFont;
use yueshang_core::print::stamp::{StampText, Stamped, stamp};
use yueshang_gateway_sim::documents::{self, Stamp};
use yueshang_gateway_sim::samples::{self, FileKind, SampleLicense};

// ---------------------------------------------------------------------------------------------
// What is stamped, and with what

fn font() -> &'static StampFont {
    static FONT: OnceLock<StampFont> = OnceLock::new();
    FONT.get_or_init(|| StampFont::load(None).unwrap_or_else(|e| panic!("{e} (apt-get install fonts-wqy-microhei)")))
}

fn china(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn case_text() -> StampText {
    StampText {
        item_name: "食品经营许可（新办）".to_owned(),
        hall_name: "广州市天河区政务服务中心".to_owned(),
        counter: "A03".to_owned(),
        clerk_name: "王小丽".to_owned(),
        biz_num: "4401062026112900007".to_owned(),
        made_at: china("2026-11-29T10:02:00+08:00"),
        serial: "P-4401061-A03-20261129-0007".to_owned(),
        checked_at: china("2026-11-29T09:58:00+08:00"),
        check_fresh: true,
    }
}

fn sample_stamp() -> Stamp<'static> {
    Stamp {
        use_cause: "食品经营许可（新办）申请材料核验",
        stamped_at: china("2026-11-28T10:02:03+08:00"),
        hall: "广州市天河区政务服务中心",
    }
}

fn sample_licenses() -> Vec<SampleLicense> {
    samples::enterprises().into_iter().flat_map(|e| e.licenses).collect()
}

/// The first sample's one-page PDF.
fn one_page_pdf() -> Vec<u8> {
    let license = sample_licenses().into_iter().find(|l| l.file == FileKind::Pdf).unwrap().license;
    documents::annotated_pdf(&license, &sample_stamp()).unwrap()
}

/// The sample whose issuer's file has twenty pages.
fn long_pdf() -> Vec<u8> {
    let long = sample_licenses()
        .into_iter()
        .find(|l| l.license.attachment_fields[0].get("page_count").is_some())
        .expect("the long sample license");
    documents::annotated_pdf(&long.license, &sample_stamp()).unwrap()
}

fn scanned_jpeg() -> Vec<u8> {
    let scanned = sample_licenses().into_iter().find(|l| l.file == FileKind::ScannedJpeg).unwrap();
    documents::scanned_jpeg(&scanned.license, &sample_stamp()).unwrap()
}

fn stamped(source: &[u8], mime: &str) -> Stamped {
    stamp(source, mime, &case_text(), font()).unwrap_or_else(|e| panic!("{e:?}"))
}

// ---------------------------------------------------------------------------------------------
// The outside tools; a missing one fails the test with the package to install

fn run(program: &str, package: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} not runnable ({e}): apt-get install {package} (scripts/install-deps)"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A scratch folder for one test's files.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = scratch();
    let file = write(dir.path(), "in.pdf", pdf);
    run("pdftotext", "poppler-utils", &["-enc", "UTF-8", &file, "-"])
}

/// The text without diagonal runs: the sandbox's 加注件 carries its own diagonal watermark as
/// text, whose characters poppler would otherwise merge into the lines they cross.
fn pdftotext_upright(pdf: &[u8]) -> String {
    let dir = scratch();
    let file = write(dir.path(), "in.pdf", pdf);
    run("pdftotext", "poppler-utils", &["-nodiag", "-enc", "UTF-8", &file, "-"])
}

/// Page count and every page's size as `pdfinfo` reports it ("595.28 x 841.89 pts (A4)").
fn pdfinfo(pdf: &[u8]) -> (usize, Vec<String>) {
    let dir = scratch();
    let file = write(dir.path(), "in.pdf", pdf);
    let info = run("pdfinfo", "poppler-utils", &["-f", "1", "-l", "1000", &file]);
    let pages = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap();
    let sizes = info
        .lines()
        .filter(|l| l.starts_with("Page ") && (l.contains(" size:") || l.contains(" rot:")))
        .map(|l| l.split_once(':').unwrap().1.trim().to_owned())
        .collect();
    (pages, sizes)
}

/// Renders one page at 150 dpi into `dir` and returns the PNG's path.
fn render(dir: &Path, pdf: &[u8], page: usize, name: &str) -> PathBuf {
    let file = write(dir, "render.pdf", pdf);
    let out = dir.join(name);
    let page = page.to_string();
    let stem = out.with_extension("");
    run(
        "pdftoppm",
        "poppler-utils",
        &["-r", "150", "-png", "-f", &page, "-l", &page, "-singlefile", &file, stem.to_str().unwrap()],
    );
    out
}

/// What zbar reads from the QR codes on one page.
fn qr_on_page(pdf: &[u8], page: usize) -> String {
    let dir = scratch();
    let png = render(dir.path(), pdf, page, "page.png");
    run("zbarimg", "zbar-tools", &["--raw", "-q", png.to_str().unwrap()]).trim_end().to_owned()
}

/// The PDF as Ghostscript rewrites it for a cups-pdf queue: no text left, only drawing.
fn through_ghostscript(pdf: &[u8]) -> Vec<u8> {
    let dir = scratch();
    let input = write(dir.path(), "in.pdf", pdf);
    let output = dir.path().join("out.pdf");
    let out_arg = format!("-sOutputFile={}", output.display());
    run("gs", "ghostscript", &["-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pdfwrite", &out_arg, &input]);
    std::fs::read(output).unwrap()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

// ---------------------------------------------------------------------------------------------
// PDF sources

#[test]
fn pdf_copies_keep_every_page_and_carry_the_stamp() {
    let serial = case_text().serial;
    let [case_line, status_line] = case_text().footer_lines();
    for (name, source) in [("one page", one_page_pdf()), ("twenty pages", long_pdf())] {
        let copy = stamped(&source, "application/pdf");
        let (pages, sizes) = pdfinfo(&source);
        assert_eq!(pdfinfo(&copy.pdf), (pages, sizes), "{name}: page count, sizes and turns");
        assert_eq!(copy.pages, pages, "{name}");
        assert!(!copy.source_signed, "{name}");
        assert!(copy.pdf.starts_with(&source), "{name}: the original bytes come first, untouched");

        let before = pdftotext_upright(&source);
        let after = pdftotext_upright(&copy.pdf);
        for line in lines(&before) {
            assert!(after.contains(line), "{name}: original text {line:?} lost");
        }
        for footer in [&case_line, &status_line] {
            assert_eq!(after.matches(footer.as_str()).count(), pages, "{name}: {footer:?} once per page in\n{after}");
        }
        assert_eq!(qr_on_page(&copy.pdf, 1), serial, "{name}: first page");
        assert_eq!(qr_on_page(&copy.pdf, pages), serial, "{name}: last page");
    }
    assert_eq!(pdfinfo(&long_pdf()).0, 20);
}

#[test]
fn the_qr_code_survives_a_ghostscript_rewrite() {
    let copy = stamped(&one_page_pdf(), "application/pdf");
    let rewritten = through_ghostscript(&copy.pdf);
    assert_eq!(qr_on_page(&rewritten, 1), case_text().serial);
}

#[test]
fn the_status_line_says_when_the_recheck_failed() {
    let text = StampText { check_fresh: false, ..case_text() };
    let copy = stamp(&one_page_pdf(), "application/pdf", &text, font()).unwrap();
    assert!(pdftotext_upright(&copy.pdf).contains("证照状态：有效（核验于 2026-11-29 09:58，出具时未能联网复核）"));
}

/// A one-page PDF made with lopdf: Helvetica text on a page of the given boxes and turn.
fn plain_pdf(pages: &[(&[f32; 4], i64)]) -> lopdf::Document {
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type1".to_vec())),
        ("BaseFont", Object::Name(b"Helvetica".to_vec())),
    ]));
    let mut kids = Vec::new();
    for (i, (media, rotate)) in pages.iter().enumerate() {
        let content =
            format!("BT /F1 18 Tf {} {} Td (Original page {}) Tj ET", media[0] + 60.0, media[1] + 300.0, i + 1);
        let content_id = doc.add_object(lopdf::Stream::new(Dictionary::new(), content.into_bytes()));
        let resources = Dictionary::from_iter([(
            "Font",
            Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(font_id))])),
        )]);
        let page = Dictionary::from_iter([
            ("Type", Object::Name(b"Page".to_vec())),
            ("Parent", Object::Reference(pages_id)),
            ("MediaBox", media.iter().map(|v| Object::Real(*v)).collect::<Vec<_>>().into()),
            ("Rotate", Object::Integer(*rotate)),
            ("Contents", Object::Reference(content_id)),
            ("Resources", Object::Dictionary(resources)),
        ]);
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(kids)),
            ("Count", Object::Integer(count)),
        ])),
    );
    let catalog = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Catalog".to_vec())),
        ("Pages", Object::Reference(pages_id)),
    ]));
    doc.trailer.set("Root", Object::Reference(catalog));
    doc
}

fn saved(mut doc: lopdf::Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Whether the page, as rendered for the reader, has the QR code upright in its bottom right
/// corner: zbar reads it from that corner alone and reports it the right way up.
fn qr_upright_at_bottom_right(pdf: &[u8], page: usize) -> bool {
    let dir = scratch();
    let png = render(dir.path(), pdf, page, "page.png");
    let rendered = image::open(&png).unwrap();
    let (width, height) = (rendered.width(), rendered.height());
    let (left, top) = (width * 3 / 4, height * 17 / 20);
    let corner = dir.path().join("corner.png");
    rendered.crop_imm(left, top, width - left, height - top).save(&corner).unwrap();
    let xml = run("zbarimg", "zbar-tools", &["--xml", "-q", corner.to_str().unwrap()]);
    xml.contains(&case_text().serial) && xml.contains("orientation='UP'")
}

#[test]
fn turned_and_shifted_pages_get_the_stamp_upright_at_their_foot() {
    let a4 = [0.0, 0.0, 595.0, 842.0];
    let shifted = [100.0, 200.0, 712.0, 992.0];
    let cases: [(&[f32; 4], i64); 5] = [(&a4, 0), (&shifted, 90), (&a4, 180), (&shifted, 270), (&shifted, -90)];
    let source = saved(plain_pdf(&cases));
    let copy = stamped(&source, "application/pdf");
    assert_eq!(pdfinfo(&copy.pdf), pdfinfo(&source));
    // No diagonal text here: plain pdftotext gets each footer line whole.
    let text = pdftotext(&copy.pdf);
    for footer in case_text().footer_lines() {
        assert_eq!(text.matches(footer.as_str()).count(), cases.len(), "{footer:?} in {text}");
    }
    for page in 1..=cases.len() {
        assert!(text.contains(&format!("Original page {page}")), "{text}");
        assert!(qr_upright_at_bottom_right(&copy.pdf, page), "page {page}: QR not upright at the bottom right");
    }
}

#[test]
fn annotations_are_kept() {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf()).unwrap();
    let page = doc.page_iter().next().unwrap();
    let note = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Annot".to_vec())),
        ("Subtype", Object::Name(b"Text".to_vec())),
        ("Rect", vec![100.into(), 700.into(), 120.into(), 720.into()].into()),
        ("Contents", Object::string_literal("issuer note")),
    ]));
    doc.get_dictionary_mut(page).unwrap().set("Annots", vec![Object::Reference(note)]);
    let copy = stamped(&saved(doc), "application/pdf");
    let out = lopdf::Document::load_mem(&copy.pdf).unwrap();
    let page = out.page_iter().next().unwrap();
    let annotations = out.get_page_annotations(page).unwrap();
    assert_eq!(annotations.len(), 1);
    assert_eq!(annotations[0].get(b"Subtype").unwrap().as_name().unwrap(), b"Text");
    assert_eq!(annotations[0].get(b"Contents").unwrap().as_str().unwrap(), b"issuer note");
}

#[test]
fn a_signed_source_is_reported() {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf()).unwrap();
    let signature = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Sig".to_vec())),
        ("ByteRange", vec![0.into(), 10.into(), 20.into(), 10.into()].into()),
        ("Contents", Object::String(vec![0; 8], lopdf::StringFormat::Hexadecimal)),
    ]));
    let field = doc.add_object(Dictionary::from_iter([
        ("FT", Object::Name(b"Sig".to_vec())),
        ("T", Object::string_literal("issuer")),
        ("V", Object::Reference(signature)),
    ]));
    let form = Dictionary::from_iter([("Fields", Object::Array(vec![Object::Reference(field)]))]);
    doc.catalog_mut().unwrap().set("AcroForm", Object::Dictionary(form));
    let copy = stamped(&saved(doc), "application/pdf");
    assert!(copy.source_signed);
    assert_eq!(qr_on_page(&copy.pdf, 1), case_text().serial);
}

// ---------------------------------------------------------------------------------------------
// Scanned sources

#[test]
fn scans_become_one_a4_page_in_their_own_orientation() {
    let jpeg = scanned_jpeg();
    let landscape = image::RgbImage::from_fn(1200, 800, |x, y| image::Rgb([240, (x % 200) as u8, (y % 200) as u8]));
    let mut png = Vec::new();
    landscape.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let cases = [
        ("image/jpeg", jpeg.as_slice(), "595.28 x 841.89 pts (A4)"),
        ("image/png", png.as_slice(), "841.89 x 595.28 pts (A4)"),
    ];
    for (mime, source, size) in cases {
        let copy = stamped(source, mime);
        assert_eq!(copy.pages, 1);
        let (pages, sizes) = pdfinfo(&copy.pdf);
        assert_eq!((pages, sizes[0].as_str()), (1, size), "{mime}");
        assert_eq!(qr_on_page(&copy.pdf, 1), case_text().serial, "{mime}");
        let text = pdftotext(&copy.pdf);
        for footer in case_text().footer_lines() {
            assert!(text.contains(&footer), "{mime}: {footer:?} missing in {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What cannot be stamped

fn encrypted(user_password: &str) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(&one_page_pdf()).unwrap();
    if doc.trailer.get(b"ID").is_err() {
        let id = Object::String(b"0123456789abcdef".to_vec(), lopdf::StringFormat::Hexadecimal);
        doc.trailer.set("ID", vec![id.clone(), id]);
    }
    let version = lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::PRINTABLE,
    };
    let state = lopdf::EncryptionState::try_from(version).unwrap();
    doc.encrypt(&state).unwrap();
    saved(doc)
}

#[test]
fn unreadable_sources_are_refused_with_a_reason() {
    let pdf = one_page_pdf();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "application/pdf"),
        ("not a PDF", b"hello, this is no PDF".to_vec(), "application/pdf"),
        ("header only", b"%PDF-1.7\n%%EOF\n".to_vec(), "application/pdf"),
        ("truncated", pdf[..pdf.len() / 2].to_vec(), "application/pdf"),
        (
            "garbage body",
            [b"%PDF-1.7\n".as_slice(), &[0xFF; 4096], b"\ntrailer<</Root 1 0 R>>\n%%EOF"].concat(),
            "application/pdf",
        ),
        ("encrypted, open password", encrypted("secret"), "application/pdf"),
        ("encrypted, owner password only", encrypted(""), "application/pdf"),
        ("JPEG that is none", b"\xFF\xD8not really".to_vec(), "image/jpeg"),
        ("PNG that is none", b"\x89PNG\r\n\x1a\nnope".to_vec(), "image/png"),
        ("unknown type", pdf.clone(), "image/gif"),
        ("no type", pdf.clone(), ""),
    ];
    for (name, source, mime) in cases {
        let err = stamp(&source, mime, &case_text(), font()).err().unwrap_or_else(|| panic!("{name}: stamped"));
        assert_eq!(err.code, ErrorCode::FileUnreadable, "{name}: {err:?}");
        assert!(
            err.message.contains("证照") && err.message.ends_with(ErrorCode::FileUnreadable.advice()),
            "{name}: {}",
            err.message
        );
    }
}

#[test]
fn a_name_the_font_cannot_draw_is_refused_not_boxed() {
    let text = StampText { clerk_name: "王\u{10FFFD}".to_owned(), ..case_text() };
    let err = stamp(&one_page_pdf(), "application/pdf", &text, font()).unwrap_err();
    assert_eq!(err.code, ErrorCode::FontMissing);
    assert!(err.message.contains('\u{10FFFD}'), "{}", err.message);
}

// ---------------------------------------------------------------------------------------------
// A look at the result

/// Renders page 1 of a stamped PDF and a stamped scan to `tests/out/stamp/` for a person to look at.
#[test]
fn renders_for_a_look() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/out/stamp");
    std::fs::create_dir_all(&out).unwrap();
    for (name, source, mime) in
        [("pdf-page1.png", one_page_pdf(), "application/pdf"), ("jpeg-page1.png", scanned_jpeg(), "image/jpeg")]
    {
        let copy = stamped(&source, mime);
        let png = render(&out, &copy.pdf, 1, name);
        assert!(png.is_file());
    }
    std::fs::write(out.join("long-copy.pdf"), stamped(&long_pdf(), "application/pdf").pdf).unwrap();
    let _ = std::fs::remove_file(out.join("render.pdf"));
}
