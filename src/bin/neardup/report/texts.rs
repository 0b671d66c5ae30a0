//! The texts of a few documents, looked up by id in one streaming pass over
//! the inputs, and the word 5-grams two texts share.
//!
//! The library has no public reader that yields each record's id and text
//! one by one (`neardup::io::read_texts` keeps every text and no ids), so
//! this reads JSON lines, lines and whole-text inputs itself, naming
//! documents as the library does: the id field's value (strings as is,
//! numbers and booleans as written), else `NAME:LINE` (whole files: `NAME`).
//! WARC and Parquet inputs are not read here; their texts are reported
//! missing.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};

use anyhow::Context;
use neardup::io::{Compression, Format, InputFile, ReadOptions};

/// Notes kept about inputs that were not searched.
const NOTES: usize = 20;

/// Texts found, by id, and the inputs that could not be searched.
#[derive(Default)]
pub(crate) struct Found {
    /// The texts, by id.
    pub texts: HashMap<String, String>,
    /// Why some inputs were not searched (format, standard input).
    pub notes: Vec<String>,
}

impl Found {
    /// Add a note, up to [`NOTES`] of them.
    fn note(&mut self, note: String) {
        if self.notes.len() < NOTES {
            self.notes.push(note);
        }
    }
}

/// Look up the texts of `wanted` in `inputs`, stopping once all are found.
pub(crate) fn lookup(
    inputs: &[InputFile],
    opts: &ReadOptions,
    wanted: &HashSet<String>,
) -> anyhow::Result<Found> {
    let mut found = Found::default();
    for input in inputs {
        if found.texts.len() == wanted.len() {
            break;
        }
        let Some(path) = &input.path else {
            found.note("standard input cannot be read again: its texts are not shown".into());
            continue;
        };
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader: Box<dyn Read> = match input.compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(file)?),
            _ => Box::new(file),
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, reader);
        let format = match input.format {
            Format::Auto => sniff(&mut reader)?,
            f => f,
        };
        let read = match format {
            Format::Jsonl | Format::Lines => {
                search_lines(input, format, opts, &mut reader, wanted, &mut found)
            }
            Format::Text => search_whole(input, &mut reader, wanted, &mut found),
            _ => {
                found.note(format!("{}: WARC and Parquet inputs are not searched for texts", input.name));
                Ok(())
            }
        };
        read.with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(found)
}

/// JSON lines when the first non-blank byte is `{`, else text (as the
/// library decides for standard input).
fn sniff(reader: &mut impl BufRead) -> std::io::Result<Format> {
    let head = reader.fill_buf()?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    Ok(if first == Some(&b'{') { Format::Jsonl } else { Format::Text })
}

/// One document per line: JSON objects (`Jsonl`) or raw lines (`Lines`).
fn search_lines(
    input: &InputFile,
    format: Format,
    opts: &ReadOptions,
    reader: &mut impl BufRead,
    wanted: &HashSet<String>,
    found: &mut Found,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0u64;
    while found.texts.len() < wanted.len() {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let record = match format {
            Format::Lines => {
                std::str::from_utf8(body).ok().map(|t| (format!("{}:{number}", input.name), t.to_owned()))
            }
            _ => json_record(body, opts)
                .map(|(id, t)| (id.unwrap_or_else(|| format!("{}:{number}", input.name)), t)),
        };
        if let Some((id, text)) = record {
            if wanted.contains(&id) {
                found.texts.entry(id).or_insert(text);
            }
        }
    }
    Ok(())
}

/// The id (if the record has one) and text of one JSON line; `None` for a
/// record the library would skip as bad.
fn json_record(body: &[u8], opts: &ReadOptions) -> Option<(Option<String>, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object_mut()?;
    let text = match obj.remove(&opts.text_field)? {
        serde_json::Value::String(s) => s,
        _ => return None,
    };
    let id = match opts.id_field.as_deref().and_then(|f| obj.get(f)) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(n @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => Some(n.to_string()),
        Some(_) => return None,
    };
    Some((id, text))
}

/// One document per file, named after the file.
fn search_whole(
    input: &InputFile,
    reader: &mut impl BufRead,
    wanted: &HashSet<String>,
    found: &mut Found,
) -> std::io::Result<()> {
    if !wanted.contains(&input.name) {
        return Ok(());
    }
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        found.texts.insert(input.name.clone(), text.to_owned());
    }
    Ok(())
}

/// Word 5-grams: what two texts must share to be highlighted.
const GRAM: usize = 5;

/// The words of `text`: byte spans of maximal runs of alphanumeric
/// characters, with a hash of each word lowercased.
fn words(text: &str) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut word = String::new();
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            word.extend(c.to_lowercase());
        } else if let Some(s) = start.take() {
            out.push((s, i, xxhash_rust::xxh3::xxh3_64(word.as_bytes())));
            word.clear();
        }
    }
    out
}

/// The hash of the 5-gram of word hashes `w` (rolling over the words'
/// hashes, so that word boundaries count).
fn gram(w: &[(usize, usize, u64)]) -> u64 {
    let mut bytes = [0u8; 8 * GRAM];
    for (k, (_, _, h)) in w.iter().enumerate() {
        bytes[8 * k..8 * k + 8].copy_from_slice(&h.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Byte ranges of `a` covered by a word 5-gram that `b` also holds, merged
/// into maximal runs.
pub(crate) fn shared_runs(a: &str, b: &str) -> Vec<(usize, usize)> {
    let (wa, wb) = (words(a), words(b));
    let grams_b: HashSet<u64> = wb.windows(GRAM).map(gram).collect();
    let mut covered = vec![false; wa.len()];
    for (i, w) in wa.windows(GRAM).enumerate() {
        if grams_b.contains(&gram(w)) {
            covered[i..i + GRAM].iter_mut().for_each(|c| *c = true);
        }
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut prev_covered = false;
    for (k, &(s, e, _)) in wa.iter().enumerate() {
        match (covered[k], prev_covered, runs.last_mut()) {
            (true, true, Some(last)) => last.1 = e,
            (true, _, _) => runs.push((s, e)),
            _ => {}
        }
        prev_covered = covered[k];
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_runs_cover_common_five_grams_only() {
        let a = "Intro here. the quick brown fox jumps over, and then stop";
        let b = "THE quick Brown fox jumps over the lazy dog";
        let runs = shared_runs(a, b);
        assert_eq!(runs.len(), 1);
        assert_eq!(&a[runs[0].0..runs[0].1], "the quick brown fox jumps over");
        assert!(shared_runs("a b c d", "a b c d").is_empty());
    }

    #[test]
    fn json_records_are_named_as_the_library_names_them() {
        let opts = ReadOptions::default();
        assert_eq!(json_record(br#"{"id":7,"text":"x"}"#, &opts), Some((Some("7".into()), "x".into())));
        assert_eq!(json_record(br#"{"text":"x"}"#, &opts), Some((None, "x".into())));
        assert_eq!(json_record(br#"{"id":[1],"text":"x"}"#, &opts), None);
        assert_eq!(json_record(br#"{"id":"a","text":3}"#, &opts), None);
    }
}
