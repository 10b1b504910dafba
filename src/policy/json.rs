//! A JSON reader that keeps byte spans, member order and duplicate keys.
//!
//! `serde_json` silently keeps the last of two duplicate keys and drops all positions, which a
//! policy analyzer cannot accept (`{"Effect":"Deny","Effect":"Allow"}` must be flagged, not read
//! as an Allow). This reader builds a small tree in which every value and every member key
//! carries its span, objects keep all members in document order, and nothing is merged.
//! Tokens are recognised with `nom`; the structure is a hand-written recursive descent with
//! a nesting limit.

use nom::{
    branch::alt,
    bytes::complete::{tag, take_till},
    character::complete::{char, digit1, multispace0, one_of},
    combinator::{opt, recognize},
    sequence::{pair, tuple},
    IResult,
};

use crate::source::Span;

/// Maximum nesting of arrays and objects.
pub const MAX_DEPTH: usize = 256;

/// A JSON value with its span (quotes included for strings).
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    /// Where the value was written.
    pub span: Span,
    /// The value.
    pub kind: JsonKind,
}

/// The kinds of JSON values.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as written.
    Number(Box<str>),
    /// A decoded string.
    String(Box<str>),
    /// An array.
    Array(Vec<Json>),
    /// An object: every member in document order, duplicates included.
    Object(Vec<Member>),
}

/// An object member.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: Box<str>,
    /// The key's span (with quotes).
    pub key_span: Span,
    /// The value.
    pub value: Json,
}

/// A syntax error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    /// What went wrong (lowercase, no final period).
    pub message: String,
    /// Where.
    pub span: Span,
}

impl Json {
    /// The first member with this key, if this is an object.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.members().iter().find(|m| &*m.key == key).map(|m| &m.value)
    }

    /// The first member with this key, compared case-insensitively.
    #[must_use]
    pub fn get_ci(&self, key: &str) -> Option<&Json> {
        self.members().iter().find(|m| m.key.eq_ignore_ascii_case(key)).map(|m| &m.value)
    }

    /// The members, or an empty slice when this is not an object.
    #[must_use]
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            JsonKind::Object(m) => m,
            _ => &[],
        }
    }

    /// The string value, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JsonKind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            JsonKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// True for an object.
    #[must_use]
    pub fn is_object(&self) -> bool {
        matches!(self.kind, JsonKind::Object(_))
    }

    /// A scalar rendered as policy text: strings as-is, numbers as written, booleans as
    /// `true`/`false` (IAM accepts unquoted numbers and booleans where strings are expected).
    #[must_use]
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            JsonKind::String(s) => Some(s.to_string()),
            JsonKind::Number(n) => Some(n.to_string()),
            JsonKind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A short name of the kind for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// Escapes one JSON-pointer reference token (RFC 6901).
#[must_use]
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Parses a complete JSON document.
///
/// # Errors
/// The first syntax error, with its span.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Parser { src: text, depth: 0 };
    let rest = ws(text);
    if rest.is_empty() {
        return Err(p.err(rest, "empty document: expected a JSON value"));
    }
    let (rest, value) = p.value(rest)?;
    let rest = ws(rest);
    if !rest.is_empty() {
        return Err(p.err(rest, "trailing characters after the JSON document"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    depth: usize,
}

type PResult<'a, T> = Result<(&'a str, T), JsonError>;

fn ws(i: &str) -> &str {
    let r: IResult<&str, &str> = multispace0(i);
    r.map_or(i, |(rest, _)| rest)
}

fn number_token(i: &str) -> IResult<&str, &str> {
    recognize(tuple((
        opt(char('-')),
        alt((tag("0"), digit1)),
        opt(pair(char('.'), digit1)),
        opt(tuple((one_of("eE"), opt(one_of("+-")), digit1))),
    )))(i)
}

impl<'a> Parser<'a> {
    fn offset(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    fn err(&self, rest: &str, message: impl Into<String>) -> JsonError {
        let start = self.offset(rest);
        let end = rest.chars().next().map_or(start, |c| start + c.len_utf8());
        JsonError { message: message.into(), span: Span::new(start, end) }
    }

    fn value(&mut self, i: &'a str) -> PResult<'a, Json> {
        let start = self.offset(i);
        let Some(c) = i.chars().next() else {
            return Err(self.err(i, "unexpected end of input: expected a value"));
        };
        match c {
            '{' => self.object(i),
            '[' => self.array(i),
            '"' => {
                let (rest, s) = self.string(i)?;
                Ok((rest, Json { span: Span::new(start, self.offset(rest)), kind: JsonKind::String(s.into()) }))
            }
            't' | 'f' | 'n' => {
                for (word, kind) in
                    [("true", JsonKind::Bool(true)), ("false", JsonKind::Bool(false)), ("null", JsonKind::Null)]
                {
                    let r: IResult<&str, &str> = tag(word)(i);
                    if let Ok((rest, _)) = r {
                        return Ok((rest, Json { span: Span::new(start, self.offset(rest)), kind }));
                    }
                }
                Err(self.err(i, "invalid literal: expected `true`, `false` or `null`"))
            }
            '-' | '0'..='9' => match number_token(i) {
                Ok((rest, n)) => {
                    Ok((rest, Json { span: Span::new(start, self.offset(rest)), kind: JsonKind::Number(n.into()) }))
                }
                Err(_) => Err(self.err(i, "invalid number")),
            },
            _ => Err(self.err(i, format!("unexpected character `{}`: expected a value", c.escape_debug()))),
        }
    }

    fn enter(&mut self, i: &str) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(i, format!("nesting deeper than `{MAX_DEPTH}` levels")));
        }
        Ok(())
    }

    fn object(&mut self, i: &'a str) -> PResult<'a, Json> {
        let start = self.offset(i);
        self.enter(i)?;
        let mut rest = ws(&i[1..]);
        let mut members = Vec::new();
        if let Some(r) = rest.strip_prefix('}') {
            self.depth -= 1;
            return Ok((r, Json { span: Span::new(start, self.offset(r)), kind: JsonKind::Object(members) }));
        }
        loop {
            if !rest.starts_with('"') {
                let msg = if rest.is_empty() {
                    "unexpected end of input inside an object"
                } else {
                    "expected a string key in an object"
                };
                return Err(self.err(rest, msg));
            }
            let key_start = self.offset(rest);
            let (r, key) = self.string(rest)?;
            let key_span = Span::new(key_start, self.offset(r));
            let r = ws(r);
            let Some(r) = r.strip_prefix(':') else {
                return Err(self.err(r, "expected `:` after an object key"));
            };
            let (r, value) = self.value(ws(r))?;
            members.push(Member { key: key.into(), key_span, value });
            let r = ws(r);
            if let Some(r) = r.strip_prefix(',') {
                rest = ws(r);
                if rest.starts_with('}') {
                    return Err(self.err(rest, "trailing comma before `}`"));
                }
            } else if let Some(r) = r.strip_prefix('}') {
                self.depth -= 1;
                return Ok((r, Json { span: Span::new(start, self.offset(r)), kind: JsonKind::Object(members) }));
            } else if r.is_empty() {
                return Err(self.err(r, "unexpected end of input inside an object"));
            } else {
                return Err(self.err(r, "expected `,` or `}` after an object member"));
            }
        }
    }

    fn array(&mut self, i: &'a str) -> PResult<'a, Json> {
        let start = self.offset(i);
        self.enter(i)?;
        let mut rest = ws(&i[1..]);
        let mut items = Vec::new();
        if let Some(r) = rest.strip_prefix(']') {
            self.depth -= 1;
            return Ok((r, Json { span: Span::new(start, self.offset(r)), kind: JsonKind::Array(items) }));
        }
        loop {
            let (r, v) = self.value(rest)?;
            items.push(v);
            let r = ws(r);
            if let Some(r) = r.strip_prefix(',') {
                rest = ws(r);
                if rest.starts_with(']') {
                    return Err(self.err(rest, "trailing comma before `]`"));
                }
            } else if let Some(r) = r.strip_prefix(']') {
                self.depth -= 1;
                return Ok((r, Json { span: Span::new(start, self.offset(r)), kind: JsonKind::Array(items) }));
            } else if r.is_empty() {
                return Err(self.err(r, "unexpected end of input inside an array"));
            } else {
                return Err(self.err(r, "expected `,` or `]` after an array element"));
            }
        }
    }

    /// Parses a string literal starting at the opening quote; returns the decoded text.
    fn string(&self, i: &'a str) -> PResult<'a, String> {
        let body = &i[1..];
        // Fast path: no escape before the closing quote (the common case) → one copy.
        let r: IResult<&str, &str> = take_till(|c: char| c == '"' || c == '\\' || c < ' ')(body);
        let (r, chunk) = r.map_err(|_| self.err(body, "invalid string"))?;
        if let Some(rest) = r.strip_prefix('"') {
            return Ok((rest, chunk.to_owned()));
        }
        let mut out = String::with_capacity(chunk.len() + 16);
        out.push_str(chunk);
        let mut rest = r;
        loop {
            let r: IResult<&str, &str> = take_till(|c: char| c == '"' || c == '\\' || c < ' ')(rest);
            let (r, chunk) = r.map_err(|_| self.err(rest, "invalid string"))?;
            out.push_str(chunk);
            let Some(c) = r.chars().next() else {
                return Err(self.err(r, "unterminated string"));
            };
            match c {
                '"' => return Ok((&r[1..], out)),
                '\\' => {
                    let (r2, ch) = self.escape(r)?;
                    out.push(ch);
                    rest = r2;
                }
                _ => return Err(self.err(r, "control character in a string: escape it (`\\n`, `\\t`, `\\u0000`)")),
            }
        }
    }

    /// Decodes one escape sequence starting at the backslash.
    fn escape(&self, i: &'a str) -> PResult<'a, char> {
        decode_escape(i).ok_or_else(|| self.err(i, "invalid escape sequence in a string"))
    }
}

/// Decodes one escape sequence at the start of `i` (which begins with `\`).
fn decode_escape(i: &str) -> Option<(&str, char)> {
    let b = i.as_bytes();
    let simple = match b.get(1)? {
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        b'/' => Some('/'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'u' => None,
        _ => return None,
    };
    if let Some(c) = simple {
        return Some((&i[2..], c));
    }
    let hex = |s: &str| -> Option<u32> {
        let h = s.get(..4)?;
        if h.bytes().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(h, 16).ok()
        } else {
            None
        }
    };
    let hi = hex(i.get(2..)?)?;
    if (0xD800..0xDC00).contains(&hi) {
        let rest = i.get(6..)?;
        if rest.starts_with("\\u") {
            let lo = hex(rest.get(2..)?)?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
                return Some((&i[12..], c));
            }
        }
        return Some((&i[6..], '\u{FFFD}'));
    }
    Some((&i[6..], char::from_u32(hi).unwrap_or('\u{FFFD}')))
}

/// Decodes the content of a string literal (the text between the quotes) and returns, for
/// every decoded byte, the offset of the raw character that produced it, plus `base`.
/// The map has one more entry than the decoded text: the position of the closing quote.
#[must_use]
pub fn unescape_with_map(raw: &str, base: u32) -> (String, Vec<u32>) {
    let mut out = String::with_capacity(raw.len());
    let mut map = Vec::with_capacity(raw.len() + 1);
    let mut pos = 0usize;
    let at = |p: usize| base.saturating_add(u32::try_from(p).unwrap_or(u32::MAX));
    while let Some(rest) = raw.get(pos..) {
        let Some(c) = rest.chars().next() else { break };
        let (len, ch) = if c == '\\' {
            match decode_escape(rest) {
                Some((r, ch)) => (rest.len() - r.len(), ch),
                None => (1, c),
            }
        } else {
            (c.len_utf8(), c)
        };
        for _ in 0..ch.len_utf8() {
            map.push(at(pos));
        }
        out.push(ch);
        pos += len;
    }
    map.push(at(raw.len()));
    (out, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    #[test]
    fn spans_and_order() {
        let src = r#" {"b": [1, true, null], "a": "x\"y"} "#;
        let v = parse(src).unwrap();
        let m = v.members();
        assert_eq!(&*m[0].key, "b");
        assert_eq!(text(src, m[0].key_span), "\"b\"");
        assert_eq!(text(src, m[0].value.span), "[1, true, null]");
        assert_eq!(m[1].value.as_str(), Some("x\"y"));
        assert_eq!(text(src, m[1].value.span), r#""x\"y""#);
    }

    #[test]
    fn duplicate_keys_are_kept() {
        let v = parse(r#"{"Effect":"Deny","Effect":"Allow"}"#).unwrap();
        assert_eq!(v.members().len(), 2);
        assert_eq!(v.get("Effect").and_then(Json::as_str), Some("Deny"));
    }

    #[test]
    fn errors_have_positions() {
        for (src, at, msg) in [
            ("{\"a\": 1,}", 8, "trailing comma"),
            ("[1 2]", 3, "expected `,` or `]`"),
            ("{\"a\" 1}", 5, "expected `:`"),
            ("\"abc", 4, "unterminated"),
            ("\"a\nb\"", 2, "control character"),
            ("{} x", 3, "trailing characters"),
            ("", 0, "empty document"),
            ("01", 1, "trailing characters"),
            ("\"\\x\"", 1, "invalid escape"),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.span.start as usize, at, "{src}: {e:?}");
            assert!(e.message.contains(msg), "{src}: {e:?}");
        }
    }

    #[test]
    fn depth_limit() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nesting deeper"));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn unicode_escapes() {
        let v = parse(r#""\u0026\ud83d\ude00é""#).unwrap();
        assert_eq!(v.as_str(), Some("&😀é"));
    }

    #[test]
    fn numbers() {
        for n in ["0", "-1", "1.5", "1e10", "-0.5E-3"] {
            assert!(matches!(parse(n).unwrap().kind, JsonKind::Number(_)), "{n}");
        }
        assert!(parse("-").is_err());
        assert!(parse("1.").is_err());
    }

    #[test]
    fn escape_map_points_at_raw_characters() {
        // raw: a\u0026b\"c  decoded: a&b"c
        let raw = r#"a\u0026b\"cé"#;
        let (s, map) = unescape_with_map(raw, 10);
        assert_eq!(s, "a&b\"cé");
        assert_eq!(map, vec![10, 11, 17, 18, 20, 21, 21, 23]);
    }
}
