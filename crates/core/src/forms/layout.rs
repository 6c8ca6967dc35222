//! The printed-form layout the onboarding forms share: a form as rows of labelled cells, and that form written as an A4 XLSX sheet.

use crate::audit::export::display_width;
use crate::error::{Error, ErrorCode, Result};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use std::path::Path;

/// How a cell looks: a printed label, a value the counter filled in, a blank for a person to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Label,
    Header,
    Value,
    /// Left blank on purpose (a person's name, phone, signature, or what the machine does not know).
    Fill,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) style: Style,
    /// How many columns the cell covers (merged when more than one).
    pub(crate) span: u16,
}

impl Cell {
    pub(crate) fn label(text: &str) -> Cell {
        Cell { text: text.to_owned(), style: Style::Label, span: 1 }
    }

    pub(crate) fn header(text: &str) -> Cell {
        Cell { text: text.to_owned(), style: Style::Header, span: 1 }
    }

    /// A known value; an unknown one becomes a blank to fill, so the form never says "None".
    pub(crate) fn value(text: Option<&str>) -> Cell {
        match text {
            Some(text) if !text.trim().is_empty() => Cell { text: text.to_owned(), style: Style::Value, span: 1 },
            _ => Cell::fill(),
        }
    }

    pub(crate) fn text(text: &str) -> Cell {
        Cell::value(Some(text))
    }

    pub(crate) fn fill() -> Cell {
        Cell { text: String::new(), style: Style::Fill, span: 1 }
    }

    pub(crate) fn span(mut self, columns: u16) -> Cell {
        self.span = columns;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Row {
    /// A heading across the whole table (一、申请单位 …).
    Section(String),
    /// Cells whose spans add up to the form's column count.
    Cells(Vec<Cell>),
    /// 说明: wrapped text across the whole table.
    Note(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orientation {
    Portrait,
    Landscape,
}

/// One printable form: its title (also the file's name after its number) and its rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Form {
    pub(crate) number: u8,
    pub(crate) title: String,
    pub(crate) orientation: Orientation,
    /// Column widths in Excel's character units (a CJK character counts 2).
    pub(crate) widths: Vec<f64>,
    pub(crate) rows: Vec<Row>,
    /// Squeezed onto one page both ways (the checklist), not only one page wide.
    pub(crate) one_page: bool,
}

impl Form {
    pub(crate) fn file_name(&self) -> String {
        format!("{}-{}.xlsx", self.number, self.title)
    }

    /// The cells of every `Cells` row, in order.
    #[cfg(test)]
    pub(crate) fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows.iter().flat_map(|r| match r {
            Row::Cells(cells) => cells.as_slice(),
            _ => &[],
        })
    }
}

/// A paper form's usual person block: each label followed by a blank to fill by hand, two to a
/// row; `spans` are the columns of label, blank, label, blank.
pub(crate) fn person_rows(labels: &[(&str, &str)], spans: [u16; 4]) -> Vec<Row> {
    labels
        .iter()
        .map(|(left, right)| {
            Row::Cells(vec![
                Cell::label(left).span(spans[0]),
                Cell::fill().span(spans[1]),
                Cell::label(right).span(spans[2]),
                Cell::fill().span(spans[3]),
            ])
        })
        .collect()
}

fn xlsx_failed(path: &Path) -> impl Fn(XlsxError) -> Error + '_ {
    move |err| Error::with_fact(ErrorCode::SaveFailed, format!("无法写入 {}（{err}）。", path.display()))
}

/// The formats of a form; every cell is text ("@"), so codes, USCCs and addresses stay as typed.
struct Formats {
    title: Format,
    section: Format,
    label: Format,
    header: Format,
    value: Format,
    note: Format,
}

impl Formats {
    fn new() -> Formats {
        // 宋体 is what government forms are printed in; a PC without it falls back to its own CJK font.
        let base = Format::new()
            .set_font_name("宋体")
            .set_font_size(11)
            .set_num_format("@")
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        let boxed = base.clone().set_border(FormatBorder::Thin);
        Formats {
            title: base.clone().set_bold().set_font_size(16).set_align(FormatAlign::Center),
            section: boxed.clone().set_bold().set_background_color("#D9D9D9"),
            label: boxed.clone().set_bold().set_align(FormatAlign::Center),
            header: boxed.clone().set_bold().set_align(FormatAlign::Center).set_background_color("#F2F2F2"),
            value: boxed,
            note: base.set_font_size(10).set_align(FormatAlign::Top),
        }
    }

    fn of(&self, style: Style) -> &Format {
        match style {
            Style::Label => &self.label,
            Style::Header => &self.header,
            Style::Value | Style::Fill => &self.value,
        }
    }
}

/// Points per printed line of 11-point CJK text, with the cell's padding.
const LINE_HEIGHT: f64 = 15.0;
/// Rows with a blank to write in by hand are taller, as on the paper forms.
const FILL_ROW_HEIGHT: f64 = 26.0;
const MIN_ROW_HEIGHT: f64 = 20.0;

/// How many lines `text` takes in a cell `width` characters wide (Excel does not size rows of
/// merged cells itself, so the heights are set here).
fn lines_in(text: &str, width: f64) -> f64 {
    let usable = (width - 1.0).max(1.0);
    text.split('\n').map(|line| (display_width(line) / usable).ceil().max(1.0)).sum()
}

fn row_height(cells: &[Cell], widths: &[f64]) -> f64 {
    let mut column = 0usize;
    let mut lines: f64 = 1.0;
    let mut has_fill = false;
    for cell in cells {
        let end = (column + cell.span as usize).min(widths.len());
        let width: f64 = widths[column..end].iter().sum();
        lines = lines.max(lines_in(&cell.text, width));
        has_fill |= cell.style == Style::Fill;
        column = end;
    }
    let base = if has_fill { FILL_ROW_HEIGHT } else { MIN_ROW_HEIGHT };
    base.max(lines * LINE_HEIGHT + 5.0)
}

/// A4 (paper size 9), the form's orientation, one page wide, centred, gridlines off (the borders are the form).
fn set_up_page(sheet: &mut Worksheet, form: &Form) {
    sheet.set_paper_size(9);
    match form.orientation {
        Orientation::Portrait => sheet.set_portrait(),
        Orientation::Landscape => sheet.set_landscape(),
    };
    sheet.set_print_fit_to_pages(1, if form.one_page { 1 } else { 0 });
    sheet.set_print_center_horizontally(true);
    sheet.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    sheet.set_screen_gridlines(false);
}

/// Writes a cell, merged across its span; a single cell cannot be "merged" in XLSX.
fn write_cell(sheet: &mut Worksheet, row: u32, column: u16, cell: &Cell, format: &Format) -> Result<(), XlsxError> {
    if cell.span > 1 {
        sheet.merge_range(row, column, row, column + cell.span - 1, &cell.text, format)?;
    } else if cell.text.is_empty() {
        sheet.write_blank(row, column, format)?;
    } else {
        sheet.write_string_with_format(row, column, &cell.text, format)?;
    }
    Ok(())
}

fn write_across(sheet: &mut Worksheet, row: u32, last: u16, text: &str, format: &Format) -> Result<(), XlsxError> {
    if last == 0 {
        sheet.write_string_with_format(row, 0, text, format)?;
    } else {
        sheet.merge_range(row, 0, row, last, text, format)?;
    }
    Ok(())
}

fn write_sheet(sheet: &mut Worksheet, form: &Form) -> Result<(), XlsxError> {
    let formats = Formats::new();
    let last = form.widths.len() as u16 - 1;
    let total: f64 = form.widths.iter().sum();
    sheet.set_name(&form.title)?;
    set_up_page(sheet, form);
    for (column, width) in form.widths.iter().enumerate() {
        sheet.set_column_width(column as u16, *width)?;
    }
    write_across(sheet, 0, last, &form.title, &formats.title)?;
    sheet.set_row_height(0, 32)?;
    for (i, row) in form.rows.iter().enumerate() {
        let r = i as u32 + 1;
        match row {
            Row::Section(text) => {
                write_across(sheet, r, last, text, &formats.section)?;
                sheet.set_row_height(r, MIN_ROW_HEIGHT)?;
            }
            Row::Note(text) => {
                write_across(sheet, r, last, text, &formats.note)?;
                sheet.set_row_height(r, lines_in(text, total) * LINE_HEIGHT + 6.0)?;
            }
            Row::Cells(cells) => {
                let mut column = 0u16;
                for cell in cells {
                    write_cell(sheet, r, column, cell, formats.of(cell.style))?;
                    column += cell.span;
                }
                sheet.set_row_height(r, row_height(cells, &form.widths))?;
            }
        }
    }
    Ok(())
}

/// Writes `form` as a one-sheet workbook at `path`, replacing a file of that name.
pub(crate) fn write(form: &Form, path: &Path) -> Result<()> {
    let mut workbook = Workbook::new();
    write_sheet(workbook.add_worksheet(), form).map_err(xlsx_failed(path))?;
    workbook.save(path).map_err(xlsx_failed(path))
}

/// Every `Cells` row covers exactly the form's columns (a short row would print ragged borders).
#[cfg(test)]
pub(crate) fn spans_fit(form: &Form) -> bool {
    form.rows.iter().all(|row| match row {
        Row::Cells(cells) => cells.iter().map(|c| c.span as usize).sum::<usize>() == form.widths.len(),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_become_blanks_to_fill() {
        assert_eq!(Cell::value(None).style, Style::Fill);
        assert_eq!(Cell::value(Some("  ")).style, Style::Fill);
        assert_eq!(Cell::value(Some("yst_counter")).text, "yst_counter");
    }

    #[test]
    fn rows_grow_with_their_text_and_fill_rows_are_tall() {
        let widths = [10.0, 10.0];
        let short = [Cell::label("地市"), Cell::text("广州")];
        let long = [Cell::label("地址"), Cell::text(&"天".repeat(20))];
        assert_eq!(row_height(&short, &widths), MIN_ROW_HEIGHT);
        assert!(row_height(&long, &widths) > 3.0 * LINE_HEIGHT);
        assert_eq!(row_height(&[Cell::label("联系人"), Cell::fill()], &widths), FILL_ROW_HEIGHT);
        assert_eq!(lines_in("a\nb", 10.0), 2.0);
    }
}
