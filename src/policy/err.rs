//! Diagnostics raised while reading policy documents (rules `KP150`–`KP162`).

use crate::source::{SourceId, Span};

/// Severity of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Note,
    /// Should be fixed.
    Warning,
    /// Must be fixed.
    Error,
}

impl Severity {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A message as one line: control characters that came from the input (a member key holding
/// `\n`, decoded from its JSON escape) are written as escapes, so that every diagnostic and
/// finding stays a one-line message whatever the input holds.
#[must_use]
pub fn one_line(message: String) -> String {
    if !message.contains(char::is_control) {
        return message;
    }
    message.chars().fold(String::with_capacity(message.len() + 8), |mut out, c| {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_escapes_control_characters() {
        assert_eq!(super::one_line("unknown element `a\nb\u{0}`".into()), "unknown element `a\\nb\\u{0}`");
        assert_eq!(super::one_line("plain `é`".into()), "plain `é`");
    }
}

/// A problem found while reading or validating a policy document. The rule pack turns each
/// into a finding of the rule named by `code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDiagnostic {
    /// The rule id (`KP150` … `KP162`).
    pub code: &'static str,
    /// Lowercase one-line message with values in backticks.
    pub message: String,
    /// The source the span belongs to.
    pub source: SourceId,
    /// The offending element.
    pub span: Span,
    /// JSON pointer of the element inside its document.
    pub pointer: String,
    /// A severity other than the rule's default, when the problem is milder.
    pub severity: Option<Severity>,
    /// The resource the finding is about (key ARN, policy ARN, …), when known.
    pub resource: Option<String>,
}
