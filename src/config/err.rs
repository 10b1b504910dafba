//! Errors in `keyproof.toml` and baseline files; all are usage errors (exit code 2).

use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// A problem with a configuration or baseline file, with its position when there is one.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(keyproof::config))]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// Lowercase one-line message.
    pub message: String,
    /// 1-based line, when the error has a position.
    pub line: Option<u32>,
    /// 1-based column, when the error has a position.
    pub column: Option<u32>,
    #[source_code]
    src: Arc<NamedSource<String>>,
    #[label("here")]
    span: Option<SourceSpan>,
}

impl ConfigError {
    /// An error at a byte range of `text` (or without a position).
    #[must_use]
    pub fn new(file: &str, text: &str, span: Option<std::ops::Range<usize>>, message: impl Into<String>) -> Self {
        let (line, column) = match &span {
            Some(r) => {
                let (l, c) = line_col(text, r.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Self {
            file: file.to_string(),
            message: message.into(),
            line,
            column,
            src: Arc::new(NamedSource::new(file, text.to_string())),
            span: span.map(|r| SourceSpan::from(r.start..r.end.max(r.start))),
        }
    }

    /// An error about a whole file (unreadable, not valid JSON, …).
    #[must_use]
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self::new(file, "", None, message)
    }

    /// `file:line:column: message`, or `file: message` without a position.
    #[must_use]
    pub fn headline(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}: {}", self.file, self.message),
            _ => format!("{}: {}", self.file, self.message),
        }
    }
}

/// 1-based line and column (characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX))
}
