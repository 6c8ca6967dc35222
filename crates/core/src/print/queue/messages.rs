//! The IPP messages we exchange with CUPS, built and read with the `ipp` crate (protocol
//! only; the HTTP is ours): the four requests, and queues and job ids read out of answers.

use std::io::Cursor;

use ipp::attribute::{IppAttribute, IppAttributeGroup, IppAttributeName};
use ipp::model::{DelimiterTag, IppVersion, Operation};
use ipp::parser::{IppParseError, IppParser};
use ipp::reader::IppReader;
use ipp::request::IppRequestResponse;
use ipp::value::{IppName, IppString, IppValue};

use super::{PrinterQueue, QueueState};

/// IPP names (job-name, requesting-user-name) hold at most 255 bytes of UTF-8.
const NAME_MAX_BYTES: usize = 255;

/// What we ask CUPS about a queue: enough to list it and to judge if it can print now.
const QUEUE_ATTRIBUTES: [&str; 6] = [
    IppAttribute::PRINTER_NAME,
    IppAttribute::PRINTER_INFO,
    IppAttribute::PRINTER_STATE,
    IppAttribute::PRINTER_IS_ACCEPTING_JOBS,
    IppAttribute::PRINTER_STATE_MESSAGE,
    IppAttribute::PRINTER_STATE_REASONS,
];

/// A queue as CUPS describes it, with what it says about its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueueStatus {
    pub(super) queue: PrinterQueue,
    /// `printer-state-message`, e.g. the reason given to `cupsdisable -r`.
    pub(super) message: Option<String>,
    /// `printer-state-reasons` other than `none`.
    pub(super) reasons: Vec<String>,
}

/// CUPS-Get-Printers: every queue the scheduler has.
pub(super) fn get_printers(user: &str) -> IppRequestResponse {
    let mut request = request(Operation::CupsGetPrinters, None);
    add_operation_attribute(&mut request, IppAttributeName::REQUESTING_USER_NAME, name_value(user));
    add_operation_attribute(&mut request, IppAttributeName::REQUESTED_ATTRIBUTES, requested(&QUEUE_ATTRIBUTES));
    request
}

/// CUPS-Get-Default: the scheduler's default queue, if it has one.
pub(super) fn get_default(user: &str) -> IppRequestResponse {
    let mut request = request(Operation::CupsGetDefault, None);
    add_operation_attribute(&mut request, IppAttributeName::REQUESTING_USER_NAME, name_value(user));
    add_operation_attribute(&mut request, IppAttributeName::REQUESTED_ATTRIBUTES, requested(&QUEUE_ATTRIBUTES));
    request
}

/// Get-Printer-Attributes of one queue.
pub(super) fn get_printer(printer_uri: &str, user: &str) -> IppRequestResponse {
    let mut request = request(Operation::GetPrinterAttributes, Some(printer_uri));
    add_operation_attribute(&mut request, IppAttributeName::REQUESTING_USER_NAME, name_value(user));
    add_operation_attribute(&mut request, IppAttributeName::REQUESTED_ATTRIBUTES, requested(&QUEUE_ATTRIBUTES));
    request
}

/// Print-Job of one PDF document (the document itself follows the encoded request).
pub(super) fn print_job(printer_uri: &str, user: &str, job_name: &str, copies: u32) -> IppRequestResponse {
    let mut request = request(Operation::PrintJob, Some(printer_uri));
    add_operation_attribute(&mut request, IppAttributeName::REQUESTING_USER_NAME, name_value(user));
    add_operation_attribute(&mut request, IppAttributeName::JOB_NAME, name_value(job_name));
    let pdf = IppValue::new_mime_media_type("application/pdf").expect("a short media type");
    add_operation_attribute(&mut request, IppAttributeName::DOCUMENT_FORMAT, pdf);
    let copies = IppValue::Integer(i32::try_from(copies).unwrap_or(i32::MAX));
    request.attributes_mut().add(DelimiterTag::JobAttributes, IppAttribute::new(IppAttributeName::COPIES, copies));
    request
}

/// Reads an IPP answer from the HTTP body.
pub(super) fn parse(body: Vec<u8>) -> Result<IppRequestResponse, IppParseError> {
    IppParser::new(IppReader::new(Cursor::new(body))).parse()
}

/// Every queue described in an answer (one printer group each).
pub(super) fn queues(answer: &IppRequestResponse) -> Vec<QueueStatus> {
    answer.attributes().groups_of(DelimiterTag::PrinterAttributes).filter_map(queue_status).collect()
}

/// The name of the queue an answer describes (CUPS-Get-Default).
pub(super) fn printer_name(answer: &IppRequestResponse) -> Option<String> {
    let group = answer.attributes().groups_of(DelimiterTag::PrinterAttributes).next()?;
    text(group, IppAttribute::PRINTER_NAME).filter(|n| !n.is_empty())
}

/// The id CUPS gave the job it accepted.
pub(super) fn job_id(answer: &IppRequestResponse) -> Option<i32> {
    let group = answer.attributes().groups_of(DelimiterTag::JobAttributes).next()?;
    group.get(IppAttribute::JOB_ID)?.value().as_integer().copied()
}

/// The server's own words on a refused request (`status-message`).
pub(super) fn status_message(answer: &IppRequestResponse) -> Option<String> {
    let group = answer.attributes().groups_of(DelimiterTag::OperationAttributes).next()?;
    text(group, IppAttribute::STATUS_MESSAGE).filter(|m| !m.is_empty())
}

fn request(operation: Operation, printer_uri: Option<&str>) -> IppRequestResponse {
    // IPP/1.1: what every CUPS since 1.0 and the Windows IPP client understand.
    let mut request = IppRequestResponse::new(IppVersion::v1_1(), operation, None).expect("a request without a URI");
    if let Some(uri) = printer_uri {
        let uri = IppValue::Uri(IppString::new_truncated(uri));
        add_operation_attribute(&mut request, IppAttributeName::PRINTER_URI, uri);
    }
    request
}

fn add_operation_attribute(request: &mut IppRequestResponse, name: IppAttributeName, value: IppValue) {
    request.attributes_mut().add(DelimiterTag::OperationAttributes, IppAttribute::new(name, value));
}

/// A `name` value in UTF-8 (the request declares `attributes-charset utf-8`, so Chinese job
/// names travel as they are), cut at a character boundary to fit.
fn name_value(name: &str) -> IppValue {
    IppValue::NameWithoutLanguage(IppName::new_truncated(fit_bytes(name, NAME_MAX_BYTES)))
}

/// The longest prefix of `text` within `max` bytes that does not split a character.
fn fit_bytes(text: &str, max: usize) -> &str {
    let end = (0..=max.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    &text[..end]
}

fn requested(attributes: &[&str]) -> IppValue {
    IppValue::Array(attributes.iter().map(|a| IppValue::new_keyword(*a).expect("a short attribute keyword")).collect())
}

fn queue_status(group: &IppAttributeGroup) -> Option<QueueStatus> {
    let name = text(group, IppAttribute::PRINTER_NAME).filter(|n| !n.is_empty())?;
    let description = text(group, IppAttribute::PRINTER_INFO).filter(|d| !d.is_empty()).unwrap_or_else(|| name.clone());
    let state = match group.get(IppAttribute::PRINTER_STATE).and_then(|a| a.value().as_enum()) {
        Some(5) => QueueState::Stopped,
        Some(4) => QueueState::Printing,
        _ => QueueState::Idle,
    };
    let accepting = group
        .get(IppAttribute::PRINTER_IS_ACCEPTING_JOBS)
        .and_then(|a| a.value().as_boolean().copied())
        .unwrap_or(true);
    let reasons = texts(group, IppAttribute::PRINTER_STATE_REASONS).into_iter().filter(|r| r != "none").collect();
    let message = text(group, IppAttribute::PRINTER_STATE_MESSAGE).filter(|m| !m.is_empty());
    let queue = PrinterQueue { name, description, is_default: false, state, accepting };
    Some(QueueStatus { queue, message, reasons })
}

fn text(group: &IppAttributeGroup, name: &str) -> Option<String> {
    group.get(name).map(|a| plain_text(a.value()))
}

/// All values of a possibly multi-valued attribute (`1setOf`).
fn texts(group: &IppAttributeGroup, name: &str) -> Vec<String> {
    match group.get(name).map(IppAttribute::value) {
        Some(IppValue::Array(values)) => values.iter().map(plain_text).collect(),
        Some(value) => vec![plain_text(value)],
        None => Vec::new(),
    }
}

/// A value's text without the language tag `Display` puts in front of it.
fn plain_text(value: &IppValue) -> String {
    match value {
        IppValue::TextWithLanguage { text, .. } => text.to_string(),
        IppValue::NameWithLanguage { name, .. } => name.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use ipp::model::StatusCode;

    use super::*;

    #[test]
    fn a_print_job_carries_name_format_copies_and_the_printer() {
        let job = print_job("ipp://h:631/printers/P", "clerk", "营业执照-副本", 3);
        let operation = job.attributes().groups_of(DelimiterTag::OperationAttributes).next().unwrap();
        assert_eq!(text(operation, IppAttribute::JOB_NAME).as_deref(), Some("营业执照-副本"));
        assert_eq!(text(operation, IppAttribute::DOCUMENT_FORMAT).as_deref(), Some("application/pdf"));
        assert_eq!(text(operation, IppAttribute::PRINTER_URI).as_deref(), Some("ipp://h:631/printers/P"));
        let job_group = job.attributes().groups_of(DelimiterTag::JobAttributes).next().unwrap();
        assert_eq!(job_group.get(IppAttribute::COPIES).unwrap().value().as_integer(), Some(&3));
        // What goes on the wire reads back the same.
        let again = parse(job.to_bytes().to_vec()).unwrap();
        assert_eq!(again.header().operation_or_status, Operation::PrintJob as i16);
    }

    #[test]
    fn long_chinese_names_are_cut_between_characters() {
        let name = "证".repeat(100);
        let cut = fit_bytes(&name, NAME_MAX_BYTES);
        assert_eq!(cut.len(), 255);
        assert!(cut.chars().all(|c| c == '证'));
        assert_eq!(fit_bytes("ab", 255), "ab");
    }

    #[test]
    fn queues_are_read_from_every_printer_group() {
        let mut answer = IppRequestResponse::new_response(IppVersion::v1_1(), StatusCode::SuccessfulOk, 1).unwrap();
        for (name, state, accepting) in [("A", 3, true), ("B", 5, false)] {
            let mut group = IppAttributeGroup::new(DelimiterTag::PrinterAttributes);
            let attrs = group.attributes_mut();
            attrs.push(IppAttribute::new(IppAttributeName::PRINTER_NAME, name_value(name)));
            attrs.push(IppAttribute::new(IppAttributeName::PRINTER_STATE, IppValue::Enum(state)));
            attrs.push(IppAttribute::new(IppAttributeName::PRINTER_IS_ACCEPTING_JOBS, IppValue::Boolean(accepting)));
            let reasons =
                IppValue::Array(vec![IppValue::new_keyword("paused").unwrap(), IppValue::new_keyword("none").unwrap()]);
            attrs.push(IppAttribute::new(IppAttributeName::PRINTER_STATE_REASONS, reasons));
            answer.attributes_mut().groups_mut().push(group);
        }
        let read = queues(&parse(answer.to_bytes().to_vec()).unwrap());
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].queue.state, QueueState::Idle);
        assert_eq!(read[0].queue.description, "A");
        assert_eq!(read[1].queue.state, QueueState::Stopped);
        assert!(!read[1].queue.accepting);
        assert_eq!(read[1].reasons, vec!["paused".to_owned()]);
    }
}
