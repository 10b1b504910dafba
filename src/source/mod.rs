//! Source files, spans and line/column resolution.
//!
//! Every input file becomes a [`Source`]. A policy embedded as a JSON string inside another
//! document (get-key-policy `Policy`, a Terraform `policy` attribute, an Organizations
//! `Content`) becomes a source of its own whose bytes map back, escape by escape, to the
//! outer file, so that a diagnostic inside the embedded policy reports the outer file's
//! line and column.

use std::sync::{Arc, Mutex, PoisonError};

/// Index of a source in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// A half-open byte range `[start, end)` in one source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Self { start: u32::try_from(start).unwrap_or(u32::MAX), end: u32::try_from(end).unwrap_or(u32::MAX) }
    }

    /// The span as a `usize` range.
    #[must_use]
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value with the span it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a value.
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

/// Where an embedded source sits in its parent.
#[derive(Debug)]
pub struct Embedding {
    /// The enclosing source.
    pub parent: SourceId,
    /// `map[i]` is the parent offset of decoded byte `i`; `map[len]` is the closing quote.
    pub map: Vec<u32>,
}

/// One source text.
#[derive(Debug)]
pub struct Source {
    /// The path as given on the command line (for embedded sources, the outer file's path).
    pub name: String,
    /// The text (decoded, for embedded sources).
    pub text: Arc<str>,
    /// The JSON pointer of the embedding string in the outer document, if embedded.
    pub pointer: Option<String>,
    /// How to map offsets to the parent, if embedded.
    pub embedding: Option<Embedding>,
    line_starts: Vec<u32>,
    /// `(byte offset, characters before it)` about every [`CHAR_MARK_BYTES`] bytes, for
    /// non-ASCII text: a column on a long line is then counted from the nearest mark, not
    /// from the start of the line (a one-line 60 MB file with many findings stays linear).
    char_marks: Vec<(u32, u32)>,
}

/// Distance between two character-count marks of a non-ASCII source.
const CHAR_MARK_BYTES: usize = 4096;

impl Source {
    fn new(name: String, text: Arc<str>, pointer: Option<String>, embedding: Option<Embedding>) -> Self {
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        let char_marks = if text.is_ascii() { Vec::new() } else { char_marks(&text) };
        Self { name, text, pointer, embedding, line_starts, char_marks }
    }

    /// Characters before a byte offset (bytes, for ASCII text).
    fn chars_before(&self, offset: usize) -> usize {
        if self.char_marks.is_empty() {
            return offset;
        }
        let i = self.char_marks.partition_point(|&(b, _)| b as usize <= offset).max(1);
        let (b, c) = self.char_marks.get(i - 1).copied().unwrap_or((0, 0));
        let b = b as usize;
        c as usize + self.text.get(b..offset).map_or(offset.saturating_sub(b), |s| s.chars().count())
    }

    /// 1-based line and column (in characters) of a byte offset of this source's own text.
    #[must_use]
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let lo = (start as usize).min(self.text.len());
        let hi = (offset as usize).clamp(lo, self.text.len());
        let col = self.chars_before(hi).saturating_sub(self.chars_before(lo));
        (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col + 1).unwrap_or(u32::MAX))
    }

    /// The text under a span, if the span is valid.
    #[must_use]
    pub fn slice(&self, span: Span) -> Option<&str> {
        self.text.get(span.range())
    }
}

fn char_marks(text: &str) -> Vec<(u32, u32)> {
    let mut marks = vec![(0u32, 0u32)];
    let (mut byte, mut chars) = (0usize, 0usize);
    while byte < text.len() {
        let mut end = (byte + CHAR_MARK_BYTES).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        chars += text.get(byte..end).map_or(0, |s| s.chars().count());
        byte = end;
        marks.push((u32::try_from(byte).unwrap_or(u32::MAX), u32::try_from(chars).unwrap_or(u32::MAX)));
    }
    marks
}

/// A resolved location in a file on disk.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The outermost file's path.
    pub file: String,
    /// 1-based line in that file.
    pub line: u32,
    /// 1-based column (characters) in that file.
    pub column: u32,
    /// The span in that file.
    pub span: Span,
}

/// All sources of one run. Sources are added concurrently while files load in parallel.
#[derive(Debug, Default)]
pub struct SourceMap {
    sources: Mutex<Vec<Arc<Source>>>,
}

impl SourceMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&self, source: Source) -> SourceId {
        let mut guard = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        guard.push(Arc::new(source));
        SourceId(u32::try_from(guard.len() - 1).unwrap_or(u32::MAX))
    }

    /// A new map holding the same sources (shared, not copied); sources added to either map
    /// later are not seen by the other.
    #[must_use]
    pub fn fork(&self) -> SourceMap {
        let guard = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        SourceMap { sources: Mutex::new(guard.clone()) }
    }

    /// Adds a file's text.
    pub fn add_file(&self, name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceId {
        self.push(Source::new(name.into(), text.into(), None, None))
    }

    /// Adds the decoded content of a JSON string literal of `parent` as a source of its own.
    /// `map` comes from [`crate::policy::json::unescape_with_map`].
    pub fn add_embedded(&self, parent: SourceId, pointer: String, text: String, map: Vec<u32>) -> SourceId {
        let name = self.get(parent).map(|s| s.name.clone()).unwrap_or_default();
        self.push(Source::new(name, text.into(), Some(pointer), Some(Embedding { parent, map })))
    }

    /// The source with this id.
    #[must_use]
    pub fn get(&self, id: SourceId) -> Option<Arc<Source>> {
        let guard = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        guard.get(id.0 as usize).cloned()
    }

    /// Number of sources.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// True when no source was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maps a span of any source (embedded or not) to the outermost file.
    #[must_use]
    pub fn outer_span(&self, id: SourceId, span: Span) -> (SourceId, Span) {
        let (mut id, mut span) = (id, span);
        for _ in 0..16 {
            let Some(src) = self.get(id) else { break };
            let Some(emb) = &src.embedding else { break };
            let map = |o: u32| emb.map.get(o as usize).or(emb.map.last()).copied().unwrap_or(0);
            // `map[end]` is where the raw text of the next decoded character starts, so an
            // escape (`\"`, `\u0026`, `%22`) that produced the last character stays whole.
            span = Span { start: map(span.start), end: map(span.end).max(map(span.start)) };
            id = emb.parent;
        }
        (id, span)
    }

    /// Resolves a span to the outer file's path, line and column.
    #[must_use]
    pub fn locate(&self, id: SourceId, span: Span) -> Location {
        let (outer, span) = self.outer_span(id, span);
        match self.get(outer) {
            Some(src) => {
                let (line, column) = src.line_col(span.start);
                Location { file: src.name.clone(), line, column, span }
            }
            None => Location { file: String::new(), line: 0, column: 0, span },
        }
    }

    /// The outermost source's text under a span (for tests and diagnostics).
    #[must_use]
    pub fn outer_text(&self, id: SourceId, span: Span) -> Option<String> {
        let (outer, span) = self.outer_span(id, span);
        self.get(outer).and_then(|s| s.slice(span).map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let map = SourceMap::new();
        let id = map.add_file("a.json", "{\n  \"é\": 1\n}");
        let src = map.get(id).unwrap();
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(4), (2, 3));
        // after the two-byte `é`, the column counts characters
        assert_eq!(src.line_col(7), (2, 5));
    }

    #[test]
    fn columns_on_a_long_non_ascii_line() {
        let line: String = "é".repeat(10_000) + "x" + &"ü".repeat(3);
        let map = SourceMap::new();
        let id = map.add_file("a.json", format!("{{\n{line}"));
        let src = map.get(id).unwrap();
        let x = 2 + 2 * 10_000;
        assert_eq!(src.line_col(u32::try_from(x).unwrap()), (2, 10_001));
        assert_eq!(src.line_col(u32::try_from(x + 1 + 4).unwrap()), (2, 10_004));
        assert_eq!(src.line_col(1), (1, 2));
    }

    #[test]
    fn embedded_span_keeps_a_trailing_escape_whole() {
        let map = SourceMap::new();
        let outer = r#"{"P": "{\"a\": \"x\"}"}"#;
        let id = map.add_file("o.json", outer);
        let start = outer.find("{\\").unwrap();
        let raw = &outer[start..outer.len() - 2];
        let (text, m) = crate::policy::json::unescape_with_map(raw, u32::try_from(start).unwrap());
        assert_eq!(text, r#"{"a": "x"}"#);
        let inner = map.add_embedded(id, "/P".into(), text.clone(), m);
        let x = text.find("\"x\"").unwrap();
        let span = Span::new(x, x + 3);
        assert_eq!(map.outer_text(inner, span).as_deref(), Some(r#"\"x\""#));
    }
}
