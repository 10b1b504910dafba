//! `--format json`: our own versioned schema (`version: 1`), documented in
//! `docs/output-formats.md`. Fields may be added; none is renamed or removed without a
//! version bump.

use serde::Serialize;

use super::finding::Finding;
use super::{Report, ReportError};

/// The schema version.
pub const JSON_VERSION: u32 = 1;

/// The whole document.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// Schema version.
    pub version: u32,
    /// Findings in output order.
    pub findings: Vec<JsonFinding<'a>>,
    /// Unreadable inputs and internal errors.
    pub errors: Vec<JsonError<'a>>,
    /// Counts.
    pub summary: JsonSummary,
}

/// One finding.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    /// Rule id.
    pub rule: &'a str,
    /// Rule name.
    pub name: &'a str,
    /// `error`, `warning` or `note`.
    pub severity: &'a str,
    /// One-line message.
    pub message: &'a str,
    /// What the finding is about.
    pub resource: Option<&'a str>,
    /// The outermost file.
    pub file: Option<&'a str>,
    /// 1-based line in `file`.
    pub line: Option<u32>,
    /// 1-based column in `file` (characters).
    pub column: Option<u32>,
    /// 1-based end line.
    pub end_line: Option<u32>,
    /// 1-based column just after the element.
    pub end_column: Option<u32>,
    /// JSON pointer inside the document.
    pub pointer: &'a str,
    /// Stable fingerprint (baselines, SARIF).
    pub fingerprint: &'a str,
    /// A concrete request demonstrating the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<&'a serde_json::Value>,
    /// Advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    /// Secondary locations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<JsonLabel<'a>>,
}

/// A secondary location.
#[derive(Serialize)]
pub struct JsonLabel<'a> {
    /// Text.
    pub message: &'a str,
    /// File.
    pub file: Option<&'a str>,
    /// Line.
    pub line: Option<u32>,
    /// Column.
    pub column: Option<u32>,
}

/// An `errors` entry.
#[derive(Serialize)]
pub struct JsonError<'a> {
    /// `input` or `internal`.
    pub kind: &'a str,
    /// The input concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
    /// Message.
    pub message: &'a str,
    /// Line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// `summary`.
#[derive(Serialize)]
pub struct JsonSummary {
    /// Input files.
    pub files: usize,
    /// Keys.
    pub keys: usize,
    /// Principals.
    pub principals: usize,
    /// Findings per severity.
    pub findings: JsonCounts,
    /// Findings hidden by ignores or the baseline.
    pub suppressed: usize,
}

/// Findings per severity.
#[derive(Serialize)]
pub struct JsonCounts {
    /// Errors.
    pub error: usize,
    /// Warnings.
    pub warning: usize,
    /// Notes.
    pub note: usize,
}

impl<'a> JsonFinding<'a> {
    /// The JSON view of a finding.
    #[must_use]
    pub fn new(f: &'a Finding) -> Self {
        let loc = f.location.as_ref();
        JsonFinding {
            rule: f.rule,
            name: f.name,
            severity: f.severity.as_str(),
            message: &f.message,
            resource: f.resource.as_deref(),
            file: loc.map(|l| l.file.as_str()),
            line: loc.map(|l| l.line),
            column: loc.map(|l| l.column),
            end_line: loc.map(|l| l.end_line),
            end_column: loc.map(|l| l.end_column),
            pointer: &f.pointer,
            fingerprint: &f.fingerprint,
            witness: f.witness.as_ref(),
            help: f.help.as_deref(),
            labels: f
                .labels
                .iter()
                .map(|l| JsonLabel {
                    message: &l.message,
                    file: l.location.as_ref().map(|x| x.file.as_str()),
                    line: l.location.as_ref().map(|x| x.line),
                    column: l.location.as_ref().map(|x| x.column),
                })
                .collect(),
        }
    }
}

impl<'a> JsonError<'a> {
    fn new(e: &'a ReportError) -> Self {
        JsonError {
            kind: e.kind.as_str(),
            file: e.file.as_deref(),
            message: &e.message,
            line: e.line,
            column: e.column,
        }
    }
}

/// The JSON document (pretty-printed, with a final newline).
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let s = report.summary;
    let doc = JsonReport {
        version: JSON_VERSION,
        findings: report.findings.iter().map(JsonFinding::new).collect(),
        errors: report.errors.iter().map(JsonError::new).collect(),
        summary: JsonSummary {
            files: s.files,
            keys: s.keys,
            principals: s.principals,
            findings: JsonCounts { error: s.error, warning: s.warning, note: s.note },
            suppressed: s.suppressed,
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
