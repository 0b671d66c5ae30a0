//! Extraction of the text and id fields from one JSON object, borrowing
//! strings that need no unescaping straight from the input bytes.
//!
//! When a field appears twice in an object, its first value counts (in
//! [`parse_record`] and [`raw_field`] alike). A lone UTF-16 surrogate escape
//! (`"\ud800"` not followed by a trailing `"\udc00"`..`"\udfff"`, or a
//! trailing one alone), which Python's `json.dumps` writes for strings that
//! held one, is read as U+FFFD instead of making the record invalid.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The fields of one record that neardup uses.
#[derive(Debug, Default)]
pub(crate) struct Fields<'de> {
    /// The text field: `Ok(text)` when it is a string, `Err(kind)` when it
    /// holds another JSON type; `None` when absent.
    pub text: Option<Result<Cow<'de, str>, &'static str>>,
    /// The id field as a string (strings as is, numbers in decimal,
    /// booleans as `true` / `false`); `Err(kind)` for an object or an array;
    /// `None` when absent or null.
    pub id: Option<Result<Cow<'de, str>, &'static str>>,
    /// The keep field's value, when it is a number or a string that reads
    /// as a number or a timestamp.
    pub key: Option<f64>,
    /// Lone surrogate escapes read as U+FFFD in the record.
    pub replaced: u32,
}

/// Parse `line` as one JSON object and pull out `text_field` and `id_field`.
pub(crate) fn parse_record<'de>(
    line: &'de [u8],
    text_field: &str,
    id_field: Option<&str>,
    key_field: Option<&str>,
) -> Result<Fields<'de>, String> {
    let parse = |line: &'de [u8]| -> serde_json::Result<Fields<'de>> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let fields = RecordSeed { text_field, id_field, key_field }.deserialize(&mut de)?;
        de.end()?;
        Ok(fields)
    };
    let error = match parse(line) {
        Ok(fields) => return Ok(fields),
        Err(e) => e,
    };
    // serde_json rejects lone surrogates: parse again with them replaced
    let Some((fixed, replaced)) = replace_lone_surrogates(line) else {
        return Err(format!("invalid JSON: {error}"));
    };
    let mut de = serde_json::Deserializer::from_slice(&fixed);
    let fields = RecordSeed { text_field, id_field, key_field }
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|_| f))
        .map_err(|e| format!("invalid JSON: {e}"))?;
    fn owned<'a>(s: Cow<'_, str>) -> Cow<'a, str> {
        Cow::Owned(s.into_owned())
    }
    Ok(Fields {
        text: fields.text.map(|t| t.map(owned)),
        id: fields.id.map(|i| i.map(owned)),
        key: fields.key,
        replaced,
    })
}

/// `line` with every lone surrogate escape replaced by `\ufffd` (the same
/// length, so every other byte keeps its place) and how many there were;
/// `None` when there is none.
///
/// Escapes are only taken apart, not strings: a backslash outside a string
/// is no valid JSON anyway, and inside one every escape is read left to
/// right as a JSON reader does (`\\ud800` is an escaped backslash).
fn replace_lone_surrogates(line: &[u8]) -> Option<(Vec<u8>, u32)> {
    fn hex4(b: &[u8]) -> Option<u16> {
        let digits = b.get(..4)?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    }
    let leading = |u: u16| (0xd800..0xdc00).contains(&u);
    let trailing = |u: u16| (0xdc00..0xe000).contains(&u);
    let mut out: Option<Vec<u8>> = None;
    let mut count = 0;
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &line[i..]) {
        let at = i + k;
        if line.get(at + 1) != Some(&b'u') {
            i = at + 2;
            if i >= line.len() {
                break;
            }
            continue;
        }
        let Some(u) = hex4(&line[at + 2..]) else {
            i = at + 2;
            continue;
        };
        i = at + 6;
        if leading(u) {
            let rest = &line[at + 6..];
            if rest.starts_with(b"\\u") && hex4(&rest[2..]).is_some_and(trailing) {
                i = at + 12;
                continue;
            }
        } else if !trailing(u) {
            continue;
        }
        out.get_or_insert_with(|| line.to_vec())[at + 2..at + 6].copy_from_slice(b"fffd");
        count += 1;
    }
    out.map(|o| (o, count))
}

/// The decoded text of `field` in the JSON object `line` (its first value,
/// lone surrogates read as U+FFFD, as [`parse_record`] reads it), and the
/// byte range of its raw (quoted, escaped) value in `line`, so that the
/// value can be replaced while every other byte of the record stays as it
/// was.
pub(crate) fn raw_field(line: &[u8], field: &str) -> Option<(String, std::ops::Range<usize>)> {
    if let Some(found) = first_raw_field(line, field) {
        return Some(found);
    }
    // the replacements keep every byte in its place
    let (fixed, _) = replace_lone_surrogates(line)?;
    first_raw_field(&fixed, field)
}

fn first_raw_field(line: &[u8], field: &str) -> Option<(String, std::ops::Range<usize>)> {
    struct First<'f>(&'f str);
    impl<'de> Visitor<'de> for First<'_> {
        type Value = Option<&'de serde_json::value::RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<Str<'de>>()? {
                if found.is_none() && key.0 == self.0 {
                    found = Some(map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let raw = de.deserialize_map(First(field)).ok()??.get();
    de.end().ok()?;
    // the raw value borrows from `line`: its offset is the pointer distance
    let start = raw.as_ptr() as usize - line.as_ptr() as usize;
    let text: String = serde_json::from_str(raw).ok()?;
    Some((text, start..start + raw.len()))
}

struct RecordSeed<'a> {
    text_field: &'a str,
    id_field: Option<&'a str>,
    key_field: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Fields<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fields<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut out = Fields::default();
        let mut key_seen = false;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            if key.0 == self.text_field && out.text.is_none() {
                out.text = Some(match map.next_value::<Scalar<'de>>()? {
                    Scalar::Str(s) => Ok(s),
                    Scalar::Num(_) => Err("a number"),
                    Scalar::Bool(_) => Err("a boolean"),
                    Scalar::Other(kind) => Err(kind),
                });
            } else if Some(&*key.0) == self.id_field && out.id.is_none() {
                out.id = match map.next_value::<Scalar<'de>>()? {
                    Scalar::Str(s) | Scalar::Num(s) => Some(Ok(s)),
                    Scalar::Bool(b) => Some(Ok(Cow::Borrowed(if b { "true" } else { "false" }))),
                    Scalar::Other("null") => None,
                    Scalar::Other(kind) => Some(Err(kind)),
                };
            } else if Some(&*key.0) == self.key_field && !key_seen {
                key_seen = true;
                out.key = match map.next_value::<Scalar<'de>>()? {
                    Scalar::Str(s) | Scalar::Num(s) => crate::io::record::key_value(&s),
                    Scalar::Bool(b) => Some(f64::from(u8::from(b))),
                    Scalar::Other(_) => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if self.key_field.is_some() && self.key_field == self.id_field {
            out.key = match &out.id {
                Some(Ok(id)) => crate::io::record::key_value(id),
                _ => None,
            };
        }
        Ok(out)
    }
}

/// A string, borrowed when the input holds it without escapes.
struct Str<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, keeping strings, numbers and booleans.
enum Scalar<'de> {
    Str(Cow<'de, str>),
    Num(Cow<'de, str>),
    Bool(bool),
    /// `null`, an object or an array.
    Other(&'static str),
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Num(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Num(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Num(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other("null"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar<'de>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Scalar<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an array"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_unescapes_others() {
        let f =
            parse_record(br#"{"id":"a","text":"plain","x":[1,{"y":2}]}"#, "text", Some("id"), None).unwrap();
        assert!(matches!(f.text, Some(Ok(Cow::Borrowed("plain")))));
        assert_eq!(f.id.unwrap().unwrap(), "a");
        let f = parse_record(br#"{"text":"a\nb \u00e9"}"#, "text", Some("id"), None).unwrap();
        assert_eq!(f.text.unwrap().unwrap(), "a\nb é");
        assert!(f.id.is_none());
        let f = parse_record(br#"{"id": true, "text": "t"}"#, "text", Some("id"), None).unwrap();
        assert_eq!(f.id.unwrap().unwrap(), "true");
        let f = parse_record(br#"{"id": null, "text": "t"}"#, "text", Some("id"), None).unwrap();
        assert!(f.id.is_none());
        let f = parse_record(br#"{"id": [1], "text": "t"}"#, "text", Some("id"), None).unwrap();
        assert_eq!(f.id.unwrap().unwrap_err(), "an array");
    }

    #[test]
    fn ids_may_be_numbers_and_other_fields_are_chosen() {
        let f = parse_record(br#"{"doc": 17, "body": "t"}"#, "body", Some("doc"), None).unwrap();
        assert_eq!(f.id.unwrap().unwrap(), "17");
        assert_eq!(f.text.unwrap().unwrap(), "t");
    }

    #[test]
    fn raw_field_locates_the_value() {
        let line = br#"{"id": 7, "text" : "a\nb", "z": [1]}"#;
        let (text, at) = raw_field(line, "text").unwrap();
        assert_eq!(text, "a\nb");
        assert_eq!(&line[at], br#""a\nb""#);
        assert!(raw_field(line, "missing").is_none());
    }

    #[test]
    fn errors() {
        assert!(parse_record(b"{\"text\": \"x\"", "text", None, None).is_err());
        assert!(parse_record(b"[1,2]", "text", None, None).is_err());
        assert!(parse_record(b"{\"text\": \"x\"} trailing", "text", None, None).is_err());
        assert!(parse_record(b"{\"text\": \"\xff\"}", "text", None, None).is_err());
        let f =
            parse_record(br#"{"q": 0.5, "text": "t", "at": "2024-01-01", "q": 9}"#, "text", None, Some("q"))
                .unwrap();
        assert_eq!(f.key, Some(0.5));
        let f = parse_record(br#"{"at": "2024-01-01", "text": "t"}"#, "text", None, Some("at")).unwrap();
        assert_eq!(f.key, Some(1_704_067_200.0));
        let f = parse_record(br#"{"at": "yesterday", "text": "t"}"#, "text", None, Some("at")).unwrap();
        assert_eq!(f.key, None);
        let f = parse_record(br#"{"id": 7, "text": "t"}"#, "text", Some("id"), Some("id")).unwrap();
        assert_eq!(f.key, Some(7.0));
        let f = parse_record(br#"{"text": 5}"#, "text", None, None).unwrap();
        assert_eq!(f.text.unwrap().unwrap_err(), "a number");
        let f = parse_record(br#"{"text": null}"#, "text", None, None).unwrap();
        assert_eq!(f.text.unwrap().unwrap_err(), "null");
    }

    #[test]
    fn lone_surrogates_are_replaced() {
        let line = br#"{"id": "i\udc00", "text": "a\ud800b \ud83d\ude00 \\ud800 \ud800\ud800\udc00"}"#;
        let f = parse_record(line, "text", Some("id"), None).unwrap();
        let want = "a\u{fffd}b \u{1f600} \\ud800 \u{fffd}\u{10000}";
        assert_eq!(f.text.unwrap().unwrap(), want);
        assert_eq!(f.id.unwrap().unwrap(), "i\u{fffd}");
        assert_eq!(f.replaced, 3);
        // the raw value's place is in the line as it is
        let (text, at) = raw_field(line, "text").unwrap();
        assert_eq!(text, want);
        assert!(line[at].starts_with(br#""a\ud800b"#));
        // other errors are still errors
        assert!(parse_record(br#"{"text": "\ud800", }"#, "text", None, None).is_err());
        assert!(parse_record(b"{\"text\": \"\\ud800\xff\"}", "text", None, None).is_err());
    }

    #[test]
    fn duplicated_fields_the_first_wins_in_both_readers() {
        let line = br#"{"text": "the first, longer value", "id": "a", "text": "second", "id": "b"}"#;
        let f = parse_record(line, "text", Some("id"), None).unwrap();
        assert_eq!(f.text.unwrap().unwrap(), "the first, longer value");
        assert_eq!(f.id.unwrap().unwrap(), "a");
        let (text, at) = raw_field(line, "text").unwrap();
        assert_eq!(text, "the first, longer value");
        assert_eq!(&line[at], br#""the first, longer value""#);
    }
}
