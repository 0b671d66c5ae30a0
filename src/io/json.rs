//! Extraction of the text and id fields from one JSON object, borrowing
//! strings that need no unescaping straight from the input bytes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The fields of one record that neardup uses.
#[derive(Debug, Default)]
pub(crate) struct Fields<'de> {
    /// The text field: `Ok(text)` when it is a string, `Err(kind)` when it
    /// holds another JSON type; `None` when absent.
    pub text: Option<Result<Cow<'de, str>, &'static str>>,
    /// The id field as a string (strings as is, numbers in decimal); `None`
    /// when absent or of another type.
    pub id: Option<Cow<'de, str>>,
}

/// Parse `line` as one JSON object and pull out `text_field` and `id_field`.
pub(crate) fn parse_record<'de>(
    line: &'de [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Result<Fields<'de>, String> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let fields =
        RecordSeed { text_field, id_field }.deserialize(&mut de).map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(fields)
}

/// The decoded text of `field` in the JSON object `line`, and the byte
/// range of its raw (quoted, escaped) value in `line`, so that the value can
/// be replaced while every other byte of the record stays as it was.
pub(crate) fn raw_field(line: &[u8], field: &str) -> Option<(String, std::ops::Range<usize>)> {
    let map: std::collections::HashMap<Cow<'_, str>, &serde_json::value::RawValue> =
        serde_json::from_slice(line).ok()?;
    let raw = map.get(field)?.get();
    // the raw value borrows from `line`: its offset is the pointer distance
    let start = raw.as_ptr() as usize - line.as_ptr() as usize;
    let text: String = serde_json::from_str(raw).ok()?;
    Some((text, start..start + raw.len()))
}

struct RecordSeed<'a> {
    text_field: &'a str,
    id_field: Option<&'a str>,
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
        while let Some(key) = map.next_key::<Str<'de>>()? {
            if key.0 == self.text_field && out.text.is_none() {
                out.text = Some(match map.next_value::<Scalar<'de>>()? {
                    Scalar::Str(s) => Ok(s),
                    Scalar::Num(_) => Err("a number"),
                    Scalar::Other(kind) => Err(kind),
                });
            } else if Some(&*key.0) == self.id_field && out.id.is_none() {
                out.id = match map.next_value::<Scalar<'de>>()? {
                    Scalar::Str(s) | Scalar::Num(s) => Some(s),
                    Scalar::Other(_) => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
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

/// Any JSON value, keeping strings and numbers.
enum Scalar<'de> {
    Str(Cow<'de, str>),
    Num(Cow<'de, str>),
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
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other("a boolean"))
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
        let f = parse_record(br#"{"id":"a","text":"plain","x":[1,{"y":2}]}"#, "text", Some("id")).unwrap();
        assert!(matches!(f.text, Some(Ok(Cow::Borrowed("plain")))));
        assert_eq!(f.id.as_deref(), Some("a"));
        let f = parse_record(br#"{"text":"a\nb \u00e9"}"#, "text", Some("id")).unwrap();
        assert_eq!(f.text.unwrap().unwrap(), "a\nb é");
        assert!(f.id.is_none());
    }

    #[test]
    fn ids_may_be_numbers_and_other_fields_are_chosen() {
        let f = parse_record(br#"{"doc": 17, "body": "t"}"#, "body", Some("doc")).unwrap();
        assert_eq!(f.id.as_deref(), Some("17"));
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
        assert!(parse_record(b"{\"text\": \"x\"", "text", None).is_err());
        assert!(parse_record(b"[1,2]", "text", None).is_err());
        assert!(parse_record(b"{\"text\": \"x\"} trailing", "text", None).is_err());
        assert!(parse_record(b"{\"text\": \"\xff\"}", "text", None).is_err());
        assert!(parse_record(br#"{"text": "\ud800"}"#, "text", None).is_err());
        let f = parse_record(br#"{"text": 5}"#, "text", None).unwrap();
        assert_eq!(f.text.unwrap().unwrap_err(), "a number");
        let f = parse_record(br#"{"text": null}"#, "text", None).unwrap();
        assert_eq!(f.text.unwrap().unwrap_err(), "null");
    }
}
