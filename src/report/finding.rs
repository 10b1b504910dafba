//! Findings: what a rule reports, where, and how to recognise it again.
//!
//! A finding is our own data; renderers (`text`, `json`, `sarif`, …) turn it into output.
//! Its location is resolved to the outermost file at creation time, so a finding inside a
//! policy embedded as a JSON string reports the line and column of the outer file.

use std::cmp::Ordering;

use sha2::{Digest, Sha256};

pub use crate::policy::err::Severity;
use crate::source::{SourceId, SourceMap, Span};

/// A resolved location in an input file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The outermost file's path, as given.
    pub file: String,
    /// 1-based line of the first character.
    pub line: u32,
    /// 1-based column (in characters) of the first character.
    pub column: u32,
    /// 1-based line of the end position.
    pub end_line: u32,
    /// 1-based column of the position just after the last character.
    pub end_column: u32,
    /// Byte span in the outermost file.
    pub span: Span,
    /// The outermost file's source.
    pub source: SourceId,
}

impl Location {
    /// Resolves a span of any source (embedded or not) against the outermost file.
    #[must_use]
    pub fn resolve(sources: &SourceMap, source: SourceId, span: Span) -> Option<Location> {
        let (outer, span) = sources.outer_span(source, span);
        let src = sources.get(outer)?;
        let (line, column) = src.line_col(span.start);
        let (end_line, end_column) = src.line_col(span.end);
        Some(Location { file: src.name.clone(), line, column, end_line, end_column, span, source: outer })
    }
}

/// A secondary location with a message (the other statement involved, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Lowercase one-line text.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
}

/// One finding of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Rule id (`KP160`).
    pub rule: &'static str,
    /// Rule name (`invalid-principal`).
    pub name: &'static str,
    /// Effective severity.
    pub severity: Severity,
    /// Lowercase one-line message, no final period, values in backticks.
    pub message: String,
    /// The ARN (or other identifier) of what the finding is about.
    pub resource: Option<String>,
    /// The most specific element, in the outermost file.
    pub location: Option<Location>,
    /// JSON pointer of the element inside its document.
    pub pointer: String,
    /// Stable identity for baselines and SARIF `partialFingerprints` (hex SHA-256).
    pub fingerprint: String,
    /// A concrete request demonstrating the finding, when there is one.
    pub witness: Option<serde_json::Value>,
    /// Longer advice.
    pub help: Option<String>,
    /// Secondary locations.
    pub labels: Vec<Label>,
}

impl Finding {
    /// A finding without a location yet; its fingerprint is computed by [`Finding::at`] or,
    /// for findings that have no location, by [`Finding::ensure_fingerprint`].
    #[must_use]
    pub fn new(rule: &'static str, name: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule,
            name,
            severity,
            message: crate::policy::err::one_line(message.into()),
            resource: None,
            location: None,
            pointer: String::new(),
            fingerprint: String::new(),
            witness: None,
            help: None,
            labels: Vec::new(),
        }
    }

    /// Places the finding on an element and computes its fingerprint from the element's
    /// normalised text (never from byte offsets, so reformatting keeps it).
    #[must_use]
    pub fn at(mut self, sources: &SourceMap, source: SourceId, span: Span, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self.location = Location::resolve(sources, source, span);
        let text = sources.get(source).and_then(|s| s.slice(span).map(normalize_json_text)).unwrap_or_default();
        let file = self.location.as_ref().map_or("", |l| l.file.as_str());
        self.fingerprint = fingerprint(self.rule, file, &self.pointer, &text);
        self
    }

    /// Sets the resource.
    #[must_use]
    pub fn with_resource(mut self, resource: Option<String>) -> Self {
        self.resource = resource;
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// Sets the witness.
    #[must_use]
    pub fn with_witness(mut self, witness: serde_json::Value) -> Self {
        self.witness = Some(witness);
        self
    }

    /// Gives a finding without a location a fingerprint from its rule, resource, pointer and message.
    pub fn ensure_fingerprint(&mut self) {
        if self.fingerprint.is_empty() {
            let what = format!("{}\u{0}{}", self.resource.as_deref().unwrap_or(""), self.message);
            self.fingerprint = fingerprint(self.rule, "", &self.pointer, &what);
        }
    }

    /// The output order: file, line, column, rule, message (located findings first).
    #[must_use]
    pub fn output_order(&self, other: &Self) -> Ordering {
        let key = |f: &Self| {
            (
                f.location.is_none(),
                f.location.as_ref().map(|l| (l.file.clone(), l.line, l.column)),
                f.rule,
                f.message.clone(),
                f.fingerprint.clone(),
            )
        };
        key(self).cmp(&key(other))
    }
}

/// Sorts findings into output order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(Finding::output_order);
}

/// Hex SHA-256 over the rule id, the file path, the JSON pointer and the element text,
/// separated by NUL bytes.
#[must_use]
pub fn fingerprint(rule: &str, file: &str, pointer: &str, element: &str) -> String {
    let mut h = Sha256::new();
    for part in [rule, file, pointer, element] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with all white space outside string literals removed, so that reformatting a
/// document does not change the fingerprints of its findings.
#[must_use]
pub fn normalize_json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_layout_but_not_strings() {
        assert_eq!(normalize_json_text("{ \"a b\" :\n [ 1, 2 ] }"), "{\"a b\":[1,2]}");
        assert_eq!(normalize_json_text(r#""x\" y""#), r#""x\" y""#);
    }

    #[test]
    fn fingerprint_is_stable_under_reformatting() {
        let map = SourceMap::new();
        let a = map.add_file("p.json", "{\"Principal\": {\"AWS\": \"x\"}}");
        let b = map.add_file("p.json", "{\n  \"Principal\": {\n    \"AWS\": \"x\"\n  }\n}");
        let fa = Finding::new("KP160", "invalid-principal", Severity::Error, "m").at(&map, a, Span::new(14, 26), "/P");
        let fb = Finding::new("KP160", "invalid-principal", Severity::Error, "m").at(&map, b, Span::new(17, 37), "/P");
        assert_eq!(fa.fingerprint, fb.fingerprint);
        assert_eq!(fa.location.as_ref().unwrap().line, 1);
        assert_eq!(fb.location.as_ref().unwrap().line, 2);
    }
}
