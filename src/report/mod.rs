//! Turning findings into output: text (miette), JSON (our versioned schema), SARIF 2.1.0,
//! GitHub workflow commands and Markdown. Every renderer takes the same [`Report`] and
//! expects its findings already sorted.

pub mod audit;
pub mod finding;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod report_md;
pub mod sarif;
pub mod text;

use finding::{Finding, Severity};

use crate::source::SourceMap;
use crate::world::World;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable, with source snippets (or one line per finding when concise).
    Text,
    /// The versioned JSON schema of `docs/output-formats.md`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// A Markdown summary.
    Markdown,
}

/// Where an error entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An input that could not be read or recognised.
    Input,
    /// A rule that failed (a bug in keyproof).
    Internal,
}

impl ErrorKind {
    /// `input` / `internal`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Input => "input",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An entry of the `errors` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportError {
    /// The input concerned, if any.
    pub file: Option<String>,
    /// Lowercase one-line message.
    pub message: String,
    /// Line, when the error has a position.
    pub line: Option<u32>,
    /// Column, when the error has a position.
    pub column: Option<u32>,
    /// Where it comes from.
    pub kind: ErrorKind,
}

impl ReportError {
    /// The errors of a world's inputs, in the world's order.
    #[must_use]
    pub fn from_world(world: &World) -> Vec<ReportError> {
        world
            .errors
            .iter()
            .map(|e| ReportError {
                file: Some(e.file.clone()),
                message: e.message.clone(),
                line: e.line,
                column: e.column,
                kind: ErrorKind::Input,
            })
            .collect()
    }

    /// An internal error.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> ReportError {
        ReportError { file: None, message: message.into(), line: None, column: None, kind: ErrorKind::Internal }
    }
}

/// Counts for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input files read.
    pub files: usize,
    /// Keys in the world.
    pub keys: usize,
    /// Principals (users and roles) in the world.
    pub principals: usize,
    /// Reported findings of severity `error`.
    pub error: usize,
    /// Reported findings of severity `warning`.
    pub warning: usize,
    /// Reported findings of severity `note`.
    pub note: usize,
    /// Findings hidden by `[[ignore]]` entries or the baseline.
    pub suppressed: usize,
}

impl Summary {
    /// Counts a world and its reported findings.
    #[must_use]
    pub fn new(world: &World, findings: &[Finding], suppressed: usize) -> Self {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Self {
            files: world.files.len(),
            keys: world.keys.len(),
            principals: world.principal_count(),
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            note: count(Severity::Note),
            suppressed,
        }
    }

    /// Number of reported findings.
    #[must_use]
    pub fn total(&self) -> usize {
        self.error + self.warning + self.note
    }
}

/// What SARIF needs to know about a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDescriptor {
    /// Id.
    pub id: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// One sentence.
    pub short: String,
    /// The `What it does` section.
    pub full: String,
    /// The whole documentation page (Markdown).
    pub help_markdown: String,
    /// Default severity.
    pub level: Severity,
    /// Category name.
    pub category: &'static str,
}

/// Everything a renderer needs.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Reported findings, sorted.
    pub findings: &'a [Finding],
    /// Unreadable inputs and internal errors.
    pub errors: &'a [ReportError],
    /// Counts.
    pub summary: Summary,
    /// Source texts, for snippets.
    pub sources: &'a SourceMap,
    /// Every registered rule (SARIF `tool.driver.rules`).
    pub rules: &'a [RuleDescriptor],
}

/// Options of the text renderer.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    /// One line per finding.
    pub concise: bool,
    /// ANSI colours.
    pub color: bool,
}

/// Renders a report in a format.
#[must_use]
pub fn render(format: Format, report: &Report<'_>, text: TextOptions) -> String {
    match format {
        Format::Text => text::render(report, text),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report),
    }
}
