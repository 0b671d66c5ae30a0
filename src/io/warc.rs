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
    /// Where the block starts and where its `Content-Length` says it ends
    /// (past the data for a record that is cut short).
    pub block: (usize, usize),
    pub kind: &'a str,
    pub uri: Option<&'a str>,
    pub record_id: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

impl Header<'_> {
    /// The value of the header field `name` (case-insensitive; the first
    /// one) of `rec`, this header's record, such as `WARC-Date`.
    pub(crate) fn field<'r>(&self, rec: &'r [u8], name: &str) -> Option<&'r str> {
        let head = &rec[..self.block.0.min(rec.len())];
        for line in head.split(|&b| b == b'\n').skip(1) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
            if line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
                return std::str::from_utf8(&line[colon + 1..]).ok().map(str::trim);
            }
        }
        None
    }

    /// The document id: the target URI, else the record id.
    pub(crate) fn id(&self) -> Option<String> {
        self.uri.or(self.record_id).map(|s| s.trim_start_matches('<').trim_end_matches('>').to_owned())
    }
}

/// The longest header looked for: a `WARC/` line not followed by a blank
/// line within this many bytes starts no record.
const MAX_HEADER: usize = 64 << 10;

/// The UTF-8 byte-order mark, skipped where a record may start.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// What a scan found, in order. Offsets are in the scanned data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A well-formed record: its bytes, header through trailing line breaks.
    Record { start: usize, end: usize },
    /// Something that is not a record, starting at `at`.
    Bad { at: usize, reason: String },
    /// A record cut short by the end of the input.
    Truncated { at: usize },
}

/// The records of a stretch of input, as far as they can be told apart.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub items: Vec<Item>,
    /// Where the bytes the items account for end: the next scan starts here.
    pub end: usize,
    /// `end` is inside a bad record (the last item): the next scan goes on
    /// looking for the next record, from the second byte of its data (the
    /// first is only there to tell whether a `WARC/1.` starts a line).
    pub resyncing: bool,
    /// When the scan stopped for want of data: how many bytes its data
    /// should hold to decide the next item (a hint, 0 when unknown).
    pub need: usize,
}

/// Split `data` into records, bad records and a truncated record.
///
/// The rules, which depend only on the bytes (never on where a memory-mapped
/// window or a streamed block happens to end, so every way of reading gives
/// the same items):
///
/// - Records start after blank lines (and byte-order marks) with a `WARC/`
///   line; the header ends at an empty line and must give a `Content-Length`.
/// - The block must be followed by two line breaks, or by fewer before the
///   next `WARC/` or the end of the input.
/// - A block holding, at a line start, a whole well-formed record (its block
///   inside the first block too) means that the first record's
///   `Content-Length` runs past the records after it: it is a bad record.
///   So is a record whose length runs past the end of the input when another
///   record starts after its header; without one, it is truncated.
/// - After a bad record, reading resumes at the next `WARC/1.` that starts
///   a line, or, anywhere else (glued to garbage), at the next `WARC/1.` line
///   that starts a well-formed header (see [`resync`]).
///
/// With `eof` false the data may go on: the scan stops (`end`) before the
/// first item that more data could change. `resyncing` continues a bad
/// record a previous scan ended in. The scan also stops at the first record
/// start at or after `stop`.
pub(crate) fn scan(data: &[u8], eof: bool, resyncing: bool, stop: usize) -> Scan {
    let mut items = Vec::new();
    let mut at = 0;
    // after a bad record: where to look for the next record
    let mut resume = resyncing.then_some(1);
    loop {
        if let Some(from) = resume.take() {
            match resync(data, from.min(data.len()), eof) {
                Resync::At(p) => at = p,
                Resync::Nothing => return Scan { items, end: data.len(), resyncing: false, need: 0 },
                Resync::Wait(w) => {
                    return Scan { items, end: w.saturating_sub(1), resyncing: true, need: 0 };
                }
            }
        }
        if at >= stop {
            break;
        }
        loop {
            match data.get(at) {
                Some(b'\r' | b'\n') => at += 1,
                Some(0xef) if data[at..].starts_with(BOM) => at += BOM.len(),
                _ => break,
            }
        }
        if at == data.len() {
            break;
        }
        let start = at;
        let wait = |items, need| Scan { items, end: start, resyncing: false, need };
        if !eof && BOM.starts_with(&data[at..]) {
            return wait(items, 0);
        }
        match parse_header(data, start, eof) {
            Head::Short if !eof => return wait(items, 0),
            Head::Short => {
                items.push(Item::Truncated { at: start });
                at = data.len();
                break;
            }
            Head::Bad { reason, header_end } => {
                items.push(Item::Bad { at: start, reason });
                resume = Some(header_end.unwrap_or(start + 1));
            }
            Head::Header(h) => {
                let (from, e) = h.block;
                let bad =
                    |why: &str| Item::Bad { at: start, reason: format!("Content-Length {} {why}", e - from) };
                match inner_record(data, &h, eof) {
                    Inner::Wait => return wait(items, e.saturating_add(9)),
                    Inner::Found => {
                        items.push(bad("runs past the next record"));
                        resume = Some(from);
                    }
                    Inner::None => match trailer(data, e, eof) {
                        None => return wait(items, e.saturating_add(9)),
                        Some(Some(end)) => {
                            items.push(Item::Record { start, end });
                            at = end;
                        }
                        // at the end of the input: cut short, unless a
                        // record starts after the header
                        Some(None) if e > data.len() => match resync(data, from, true) {
                            Resync::At(p) => {
                                items.push(bad("runs past the end of the input"));
                                at = p;
                            }
                            _ => {
                                items.push(Item::Truncated { at: start });
                                at = data.len();
                                break;
                            }
                        },
                        Some(None) => {
                            items.push(bad("does not end the record (no line break after the block)"));
                            resume = Some(from);
                        }
                    },
                }
            }
        }
    }
    Scan { items, end: at, resyncing: false, need: 0 }
}

/// The header at `start`: complete, cut short by the end of `data`, or not
/// a header.
enum Head<'a> {
    /// `end` is the block's end (the line breaks after it are not looked at).
    Header(Header<'a>),
    /// `data` ends inside what could be a header.
    Short,
    /// Not a header; `header_end` is where it ended, when it did.
    Bad { reason: String, header_end: Option<usize> },
}

fn line_at(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let nl = memchr::memchr(b'\n', &data[at..])?;
    let mut line = &data[at..at + nl];
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    Some((line, at + nl + 1))
}

fn parse_header(data: &[u8], start: usize, eof: bool) -> Head<'_> {
    let rest = &data[start..];
    if !rest.starts_with(b"WARC/") {
        if rest.len() < 5 && b"WARC/".starts_with(rest) {
            return Head::Short;
        }
        // the message shows up to 40 bytes of the line, so it needs them
        let shown = memchr::memchr(b'\n', &rest[..rest.len().min(41)]).unwrap_or(rest.len().min(40));
        if !eof && shown < 40 && shown == rest.len() {
            return Head::Short;
        }
        let line = &rest[..shown];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        return Head::Bad {
            reason: format!("not a WARC record: {:?}", String::from_utf8_lossy(line)),
            header_end: None,
        };
    }
    let too_long = || Head::Bad { reason: "WARC header without an end".into(), header_end: None };
    let Some((_, mut pos)) = line_at(data, start) else {
        return if rest.len() > MAX_HEADER { too_long() } else { Head::Short };
    };
    let (mut kind, mut uri, mut record_id, mut content_type, mut length) = ("", None, None, None, None);
    let mut error = None;
    loop {
        let Some((line, next)) = line_at(data, pos) else {
            return if data.len() - start > MAX_HEADER { too_long() } else { Head::Short };
        };
        if next - start > MAX_HEADER {
            return too_long();
        }
        pos = next;
        if line.is_empty() {
            break;
        }
        if line.starts_with(b"WARC/1.") {
            // another record starts before this header ended
            return Head::Bad { reason: "WARC header without an end".into(), header_end: None };
        }
        let Ok(line) = std::str::from_utf8(line) else {
            error.get_or_insert_with(|| "header line is not UTF-8".to_owned());
            continue;
        };
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "warc-type" => kind = value,
            "warc-target-uri" => uri = Some(value),
            "warc-record-id" => record_id = Some(value),
            "content-type" => content_type = Some(value),
            "content-length" => match value.parse::<usize>() {
                Ok(n) => length = Some(n),
                Err(_) => {
                    error.get_or_insert_with(|| format!("bad Content-Length {value:?}"));
                }
            },
            _ => {}
        }
    }
    let bad = |reason: String| Head::Bad { reason, header_end: Some(pos) };
    if let Some(reason) = error {
        return bad(reason);
    }
    let Some(length) = length else { return bad("record without Content-Length".into()) };
    let Some(block_end) = pos.checked_add(length) else { return bad(format!("bad Content-Length {length}")) };
    Head::Header(Header {
        start,
        end: block_end,
        block: (pos, block_end),
        kind,
        uri,
        record_id,
        content_type,
    })
}

/// Where a record whose block ends at `e` ends: `Some(Some(end))` when the
/// block is followed by two line breaks (`\r\n` or `\n`), or by fewer before
/// the next `WARC/` or the end of the input; `Some(None)` when it is not
/// (its Content-Length is wrong, or runs past the end); `None` when more
/// data is needed to tell.
fn trailer(data: &[u8], e: usize, eof: bool) -> Option<Option<usize>> {
    if e > data.len() {
        return eof.then_some(None);
    }
    if !eof && data.len() - e < 9 {
        return None;
    }
    let mut x = e;
    let mut breaks = 0;
    while breaks < 2 {
        if data[x..].starts_with(b"\r\n") {
            x += 2;
        } else if data[x..].starts_with(b"\n") {
            x += 1;
        } else {
            break;
        }
        breaks += 1;
    }
    let rest = &data[x..];
    let ends = eof && rest.iter().all(|&b| b == b'\r' || b == b'\n');
    Some((breaks == 2 || ends || rest.starts_with(b"WARC/")).then_some(x))
}

enum Inner {
    Found,
    None,
    Wait,
}

/// Whether the block of `h` holds, at a line start, a whole well-formed
/// record whose block ends inside `h`'s block: then `h`'s Content-Length
/// runs past the records after it.
fn inner_record(data: &[u8], h: &Header<'_>, eof: bool) -> Inner {
    let (from, e) = h.block;
    let limit = e.min(data.len());
    // `from - 1` is the newline ending the header, so the block's first byte
    // is a line start too
    for hit in memchr::memmem::find_iter(&data[from - 1..limit], b"\nWARC/1.") {
        let p = from + hit;
        match parse_header(data, p, eof) {
            Head::Header(c) if c.block.1 <= e => match trailer(data, c.block.1, eof) {
                Some(Some(_)) => return Inner::Found,
                Some(None) => {}
                None => return Inner::Wait,
            },
            Head::Short if !eof => return Inner::Wait,
            _ => {}
        }
    }
    if e > data.len() && !eof { Inner::Wait } else { Inner::None }
}

enum Resync {
    /// The next record seems to start here.
    At(usize),
    /// None does (the data is all there).
    Nothing,
    /// None does before this position; more data is needed from there.
    Wait(usize),
}

/// Where the next record seems to start after a malformed one, looking from
/// `from` (at least 1): the next `WARC/1.` at a line start, or the next
/// `WARC/1.` anywhere (garbage glued to a record, as in `junkWARC/1.1`)
/// that is a whole `WARC/1.x` line followed by a well-formed header (lines
/// up to an empty line, with a numeric Content-Length).
fn resync(data: &[u8], from: usize, eof: bool) -> Resync {
    for hit in memchr::memmem::find_iter(&data[from..], b"WARC/1.") {
        let p = from + hit;
        if p > 0 && data[p - 1] == b'\n' {
            return Resync::At(p);
        }
        // a whole line `WARC/1.x`: digits, then the line break
        let tail = &data[p + 7..];
        let digits = tail.iter().take(8).take_while(|b| b.is_ascii_digit()).count();
        let after = &tail[digits..];
        let line = if after.is_empty() || after == b"\r" {
            (eof).then_some(false)
        } else {
            Some(digits > 0 && (after.starts_with(b"\n") || after.starts_with(b"\r\n")))
        };
        let header = match line {
            Some(true) => match parse_header(data, p, eof) {
                Head::Header(_) => Some(true),
                Head::Short if !eof => None,
                _ => Some(false),
            },
            other => other,
        };
        match header {
            Some(true) => return Resync::At(p),
            Some(false) => {}
            None => return Resync::Wait(p),
        }
    }
    if eof { Resync::Nothing } else { Resync::Wait(data.len().saturating_sub(6).max(from)) }
}

/// The header of `rec`, one whole record as a [`scan`] found it.
pub(crate) fn record(rec: &[u8]) -> Option<Header<'_>> {
    match parse_header(rec, 0, true) {
        Head::Header(mut h) if h.block.1 <= rec.len() => {
            h.end = rec.len();
            Some(h)
        }
        _ => None,
    }
}

/// `rec` (one whole record) rewritten as a WET `conversion` record holding
/// `text`: its header fields kept except the type, content type, length and
/// digests, which no longer describe the new block.
pub(crate) fn as_conversion(rec: &[u8], text: &str) -> Option<Vec<u8>> {
    let h = record(rec)?;
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
        let all = scan(&data, true, false, usize::MAX);
        let mut got = Vec::new();
        for item in &all.items {
            let Item::Record { start, end } = *item else { panic!("{item:?}") };
            let rec = &data[start..end];
            let h = super::record(rec).unwrap();
            if let Some(t) = record_text(rec, &h).unwrap() {
                got.push((h.id().unwrap(), t.trim().to_owned()));
            }
        }
        assert_eq!(all.end, data.len());
        assert_eq!(got[0], ("https://a.example/".to_owned(), "plain text é".to_owned()));
        assert_eq!(got[1].0, "https://b.example/");
        assert!(got[1].1.contains("Hello world"), "{:?}", got[1].1);
        assert!(!got[1].1.contains("x()"));
        assert_eq!(got.len(), 2);
        // cut anywhere inside the last record: a stream stops before it, the
        // end of the input makes it truncated
        let last = data.len()
            - record(
                "request",
                "https://b.example/",
                "application/http; msgtype=request",
                b"GET / HTTP/1.1\r\n\r\n",
            )
            .len();
        for cut in [last + 5, last + 30, data.len() - 5] {
            let s = scan(&data[..cut], false, false, usize::MAX);
            assert_eq!((s.end, s.items.len()), (last, 3), "{cut}");
            let s = scan(&data[..cut], true, false, usize::MAX);
            assert_eq!(s.items.last(), Some(&Item::Truncated { at: last }), "{cut}");
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let first = |data: &[u8]| scan(data, true, false, usize::MAX).items.into_iter().next();
        assert!(matches!(first(b"HTTP/1.1 200 OK\r\n\r\n"), Some(Item::Bad { .. })));
        assert!(matches!(first(b"WARC/1.1\r\nWARC-Type: conversion\r\n\r\nabc"), Some(Item::Bad { .. })));
        assert!(matches!(first(b"WARC/1.1\r\nContent-Length: x1\r\n\r\n"), Some(Item::Bad { .. })));
        assert_eq!(first(b"\r\n\r\n"), None);
        assert!(super::record(b"WARC/1.1\r\nContent-Length: 9\r\n\r\nabc").is_none());
    }

    /// The items of `data` fed to [`scan`] `step` bytes at a time, as the
    /// stream reader does, with their offsets in `data`.
    fn streamed(data: &[u8], step: usize) -> Vec<Item> {
        let (mut items, mut base, mut read, mut resyncing) = (Vec::new(), 0, 0, false);
        loop {
            read = (read + step).min(data.len());
            let eof = read == data.len();
            let s = scan(&data[base..read], eof, resyncing, usize::MAX);
            if s.end > 0 || eof {
                items.extend(s.items.into_iter().map(|i| match i {
                    Item::Record { start, end } => Item::Record { start: start + base, end: end + base },
                    Item::Bad { at, reason } => Item::Bad { at: at + base, reason },
                    Item::Truncated { at } => Item::Truncated { at: at + base },
                }));
                base += s.end;
                resyncing = s.resyncing;
            }
            if eof {
                assert_eq!(base, data.len());
                return items;
            }
        }
    }

    /// Random damage (flipped bytes, cuts, inserted record starts, line
    /// breaks and garbage, changed lengths): a stream fed in random steps
    /// finds what one scan of the whole finds.
    #[test]
    fn random_damage_is_read_the_same_in_any_steps() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let pieces: [&[u8]; 6] =
            [b"WARC/1.1\r\n", b"\r\n", b"\n", b"junk", b"Content-Length: 7\r\n", b"\xef\xbb\xbf"];
        for case in 0..300 {
            let mut data = Vec::new();
            for i in 0..1 + next(6) {
                let text = "word ".repeat(next(30));
                data.extend(record("conversion", &format!("u{i}"), "text/plain", text.as_bytes()));
            }
            for _ in 0..next(4) {
                if data.is_empty() {
                    break;
                }
                let at = next(data.len());
                match next(3) {
                    0 => data[at] = next(256) as u8,
                    1 => data.truncate(at),
                    _ => {
                        let piece = pieces[next(pieces.len())];
                        data.splice(at..at, piece.iter().copied());
                    }
                }
            }
            let all = scan(&data, true, false, usize::MAX);
            assert_eq!(all.end, data.len(), "{case}");
            for step in [1 + next(5), 1 + next(200)] {
                assert_eq!(streamed(&data, step), all.items, "case {case}, step {step}");
            }
        }
    }

    /// Damage of every kind: wrong lengths (past the next records, past the
    /// end, too short), garbage glued to records, an interrupted header,
    /// a byte-order mark, records glued without line breaks, a cut end.
    #[test]
    fn every_way_of_cutting_gives_the_same_items() {
        let rec = |uri: &str, text: &str| record("conversion", uri, "text/plain", text.as_bytes());
        let set_length = |r: Vec<u8>, len: usize| {
            let t = String::from_utf8(r).unwrap();
            let at = t.find("Content-Length: ").unwrap() + 16;
            let end = at + t[at..].find('\r').unwrap();
            format!("{}{len}{}", &t[..at], &t[end..]).into_bytes()
        };
        let mut data = b"\xef\xbb\xbf".to_vec();
        data.extend(rec("a", "first text"));
        data.extend(set_length(rec("b", "claims too much"), 300));
        data.extend(rec("c", "third"));
        data.extend(rec("d", "fourth text\nWARC/1.1 mentioned in the text"));
        data.extend(b"garbage");
        data.extend(rec("e", "glued to garbage"));
        data.extend(set_length(rec("f", "claims too little"), 5));
        data.extend(b"WARC/1.1\r\nWARC-Type: conversion\r\n");
        data.extend(rec("g", "after an interrupted header"));
        let mut glued = rec("h", "no line breaks after me");
        glued.truncate(glued.len() - 4);
        data.extend(glued);
        data.extend(rec("x", "after a glued record"));
        data.extend(b"\x00\x01 WARC/1.1\r\nnot: a header\r\n\r\n");
        data.extend(rec("i", "after binary junk"));
        data.extend(set_length(rec("j", "claims more than there is"), 1 << 30));
        data.extend(rec("k", "the last"));
        let all = scan(&data, true, false, usize::MAX);
        assert_eq!(all.end, data.len());
        let kinds: String = all
            .items
            .iter()
            .map(|i| match i {
                Item::Record { .. } => 'R',
                Item::Bad { .. } => 'B',
                Item::Truncated { .. } => 'T',
            })
            .collect();
        // a B c d B e B B g h x B i B k
        assert_eq!(kinds, "RBRRBRBBRRRBRBR", "{:#?}", all.items);
        for step in [1, 2, 7, 64, 333, 4096] {
            assert_eq!(streamed(&data, step), all.items, "{step}");
        }
        // cut short at the end
        let cut = &data[..data.len() - 6];
        let all = scan(cut, true, false, usize::MAX);
        assert_eq!(all.items.last(), Some(&Item::Truncated { at: data.len() - rec("k", "the last").len() }));
        for step in [1, 5, 100] {
            assert_eq!(streamed(cut, step), all.items, "{step}");
        }
    }
}
