//! WARC 1.0 / 1.1 records (Common Crawl WARC and WET files): finding record
//! boundaries, and the text of the records that are documents.
//!
//! A record is a header (`WARC/1.x`, then `Name: value` lines, then an empty
//! line) and a block of `Content-Length` bytes, followed by two line breaks.
//! Documents are WET `conversion` records (their block is the text) and
//! `response` / `resource` records holding HTML (text extracted with the
//! `html2text` crate) or plain text. Other records (`warcinfo`, `request`,
//! `metadata`, `revisit`, non-text payloads) are not documents and are
//! skipped. Ids are `WARC-Target-URI`, else `WARC-Record-ID`.

use std::borrow::Cow;

/// One record's place and the header fields that matter.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    /// Byte offsets of the record (header through trailing line breaks).
    pub start: usize,
    pub end: usize,
    /// Where the block starts and ends.
    pub block: (usize, usize),
    pub kind: &'a str,
    pub uri: Option<&'a str>,
    pub record_id: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

impl Header<'_> {
    /// The document id: the target URI, else the record id.
    pub fn id(&self) -> Option<String> {
        self.uri.or(self.record_id).map(|s| s.trim_start_matches('<').trim_end_matches('>').to_owned())
    }
}

/// What is at `at`: a complete record, the start of one that is cut short,
/// or something that is not a record.
#[derive(Debug)]
pub(crate) enum Next<'a> {
    Record(Header<'a>),
    /// Nothing left but line breaks.
    End,
    /// A record starts here but its header or block is incomplete.
    Partial,
    Bad(String),
}

fn line_at(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let nl = memchr::memchr(b'\n', &data[at..])?;
    let mut line = &data[at..at + nl];
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    Some((line, at + nl + 1))
}

/// The record at `at` (blank lines before it are skipped).
pub(crate) fn next_record(data: &[u8], mut at: usize) -> Next<'_> {
    while at < data.len() && (data[at] == b'\r' || data[at] == b'\n') {
        at += 1;
    }
    if at == data.len() {
        return Next::End;
    }
    let start = at;
    let Some((first, mut pos)) = line_at(data, at) else {
        return if data.len() - at < 4096 && b"WARC/".starts_with(&data[at..data.len().min(at + 5)]) {
            Next::Partial
        } else {
            Next::Bad("not a WARC record (no WARC/1.x line)".into())
        };
    };
    if !first.starts_with(b"WARC/") {
        return Next::Bad(format!(
            "not a WARC record: {:?}",
            String::from_utf8_lossy(&first[..first.len().min(40)])
        ));
    }
    let (mut kind, mut uri, mut record_id, mut content_type, mut length) = ("", None, None, None, None);
    loop {
        let Some((line, next)) = line_at(data, pos) else { return Next::Partial };
        pos = next;
        if line.is_empty() {
            break;
        }
        let Ok(line) = std::str::from_utf8(line) else { return Next::Bad("header line is not UTF-8".into()) };
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "warc-type" => kind = value,
            "warc-target-uri" => uri = Some(value),
            "warc-record-id" => record_id = Some(value),
            "content-type" => content_type = Some(value),
            "content-length" => match value.parse::<usize>() {
                Ok(n) => length = Some(n),
                Err(_) => return Next::Bad(format!("bad Content-Length {value:?}")),
            },
            _ => {}
        }
    }
    let Some(length) = length else { return Next::Bad("record without Content-Length".into()) };
    let block_end = match pos.checked_add(length) {
        Some(e) if e <= data.len() => e,
        _ => return Next::Partial,
    };
    // the two line breaks after the block (tolerate fewer at the very end)
    let mut end = block_end;
    for _ in 0..2 {
        if data[end..].starts_with(b"\r\n") {
            end += 2;
        } else if data[end..].starts_with(b"\n") {
            end += 1;
        }
    }
    Next::Record(Header { start, end, block: (pos, block_end), kind, uri, record_id, content_type })
}

/// Where the complete records at the start of `data` end (0 when none is).
pub(crate) fn complete_prefix(data: &[u8]) -> usize {
    let mut at = 0;
    while let Next::Record(h) = next_record(data, at) {
        at = h.end;
    }
    at
}

/// The end of the first record that ends at or after `min` (the end of the
/// last complete record, or of `data`, when none does): where a window of
/// about `min` bytes can be cut.
pub(crate) fn cut_after(data: &[u8], min: usize) -> usize {
    let mut at = 0;
    while at < min {
        match next_record(data, at) {
            Next::Record(h) => at = h.end,
            _ => return data.len(),
        }
    }
    at
}

/// Where the next record seems to start after a malformed one: the next
/// line beginning with `WARC/1.`.
pub(crate) fn resync(data: &[u8], at: usize) -> Option<usize> {
    memchr::memmem::find(&data[at..], b"\nWARC/1.").map(|i| at + i + 1)
}

/// `rec` (one whole record) rewritten as a WET `conversion` record holding
/// `text`: its header fields kept except the type, content type, length and
/// digests, which no longer describe the new block.
pub(crate) fn as_conversion(rec: &[u8], text: &str) -> Option<Vec<u8>> {
    let Next::Record(h) = next_record(rec, 0) else { return None };
    let head = std::str::from_utf8(&rec[h.start..h.block.0]).ok()?;
    let mut out = String::with_capacity(head.len() + text.len() + 64);
    for line in head.lines() {
        let name = line.split_once(':').map(|(n, _)| n.trim().to_ascii_lowercase()).unwrap_or_default();
        match name.as_str() {
            "warc-type"
            | "content-type"
            | "content-length"
            | "warc-block-digest"
            | "warc-payload-digest"
            | "warc-identified-payload-type" => {}
            _ if line.is_empty() => {}
            _ => {
                out.push_str(line);
                out.push_str("\r\n");
                if line.starts_with("WARC/") {
                    out.push_str("WARC-Type: conversion\r\n");
                }
            }
        }
    }
    out.push_str(&format!("Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n", text.len()));
    out.push_str(text);
    out.push_str("\r\n\r\n");
    Some(out.into_bytes())
}

/// The text of a record, if it is a document: `Ok(None)` for records that
/// are not documents, `Err` for documents whose text cannot be had.
pub(crate) fn record_text<'a>(data: &'a [u8], h: &Header<'_>) -> Result<Option<Cow<'a, str>>, String> {
    let block = &data[h.block.0..h.block.1];
    let ctype = h.content_type.unwrap_or("").to_ascii_lowercase();
    match h.kind {
        "conversion" => std::str::from_utf8(block)
            .map(|t| Some(Cow::Borrowed(t)))
            .map_err(|e| format!("invalid UTF-8 at byte {} of the block", e.valid_up_to())),
        "response" if ctype.starts_with("application/http") => {
            let Some(body_at) = memchr::memmem::find(block, b"\r\n\r\n").map(|i| i + 4) else {
                return Err("HTTP response without a header end".into());
            };
            let head = String::from_utf8_lossy(&block[..body_at]).to_ascii_lowercase();
            let http_type = head.lines().find_map(|l| l.strip_prefix("content-type:")).unwrap_or("").trim();
            payload_text(&block[body_at..], http_type)
        }
        "resource" => payload_text(block, &ctype),
        _ => Ok(None),
    }
}

/// Text of an HTTP or resource payload: HTML converted, plain text as is,
/// anything else not a document.
fn payload_text<'a>(body: &'a [u8], ctype: &str) -> Result<Option<Cow<'a, str>>, String> {
    if ctype.contains("html") {
        html_text(body).map(|t| Some(Cow::Owned(t)))
    } else if ctype.starts_with("text/plain") {
        Ok(Some(String::from_utf8_lossy(body)))
    } else {
        Ok(None)
    }
}

/// The visible text of an HTML page (`html2text`, plain, no wrapping, no
/// link footnotes).
fn html_text(body: &[u8]) -> Result<String, String> {
    let convert = || {
        html2text::config::plain()
            .raw_mode(true)
            .no_table_borders()
            .link_footnotes(false)
            .string_from_read(body, 1 << 20)
    };
    // a converter panic on hostile markup is this record's error, not the run's
    match std::panic::catch_unwind(convert) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(format!("HTML text extraction failed: {e}")),
        Err(_) => Err("HTML text extraction failed (converter panicked)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(kind: &str, uri: &str, ctype: &str, block: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Record-ID: <urn:uuid:{uri}>\r\n\
             Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        r.extend_from_slice(block);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    #[test]
    fn walks_records_and_extracts_text() {
        let mut data = record("warcinfo", "", "application/warc-fields", b"software: test\r\n");
        data.extend(record("conversion", "https://a.example/", "text/plain", "plain text é".as_bytes()));
        let html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello <b>world</b></p><script>x()</script></body></html>";
        data.extend(record("response", "https://b.example/", "application/http; msgtype=response", html));
        data.extend(record(
            "request",
            "https://b.example/",
            "application/http; msgtype=request",
            b"GET / HTTP/1.1\r\n\r\n",
        ));
        let mut at = 0;
        let mut got = Vec::new();
        while let Next::Record(h) = next_record(&data, at) {
            if let Some(t) = record_text(&data, &h).unwrap() {
                got.push((h.id().unwrap(), t.trim().to_owned()));
            }
            at = h.end;
        }
        assert_eq!(at, data.len());
        assert_eq!(got[0], ("https://a.example/".to_owned(), "plain text é".to_owned()));
        assert_eq!(got[1].0, "https://b.example/");
        assert!(got[1].1.contains("Hello world"), "{:?}", got[1].1);
        assert!(!got[1].1.contains("x()"));
        assert_eq!(got.len(), 2);
        assert_eq!(complete_prefix(&data), data.len());
        // cut anywhere inside the last record: the prefix stops before it
        let last = data.len()
            - record(
                "request",
                "https://b.example/",
                "application/http; msgtype=request",
                b"GET / HTTP/1.1\r\n\r\n",
            )
            .len();
        for cut in [last + 1, last + 30, data.len() - 5] {
            assert_eq!(complete_prefix(&data[..cut]), last, "{cut}");
            assert!(matches!(next_record(&data[..cut], last), Next::Partial));
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(matches!(next_record(b"HTTP/1.1 200 OK\r\n\r\n", 0), Next::Bad(_)));
        assert!(matches!(next_record(b"WARC/1.1\r\nWARC-Type: conversion\r\n\r\nabc", 0), Next::Bad(_)));
        assert!(matches!(next_record(b"WARC/1.1\r\nContent-Length: x1\r\n\r\n", 0), Next::Bad(_)));
        assert!(matches!(next_record(b"\r\n\r\n", 0), Next::End));
    }
}
