//! Baseline files: fingerprints of accepted findings, `{"version":1,"fingerprints":[…]}`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::err::ConfigError;
use crate::report::finding::Finding;

/// The baseline format version this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    fingerprints: Vec<String>,
}

/// A set of accepted finding fingerprints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Where it was read from or will be written to.
    pub path: String,
    /// Sorted, without duplicates.
    pub fingerprints: Vec<String>,
}

impl Baseline {
    /// Reads a baseline file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid JSON in the baseline format, or has another version.
    pub fn load(path: &str) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses baseline text.
    ///
    /// # Errors
    /// Not the baseline format, or another version.
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| {
            let offset = offset_of(text, e.line(), e.column());
            ConfigError::new(path, text, Some(offset..offset), format!("not a keyproof baseline: {e}"))
        })?;
        if file.version != BASELINE_VERSION {
            return Err(ConfigError::file(
                path,
                format!(
                    "baseline version `{}` is not supported: this build reads version `{BASELINE_VERSION}`",
                    file.version
                ),
            ));
        }
        let set: BTreeSet<String> = file.fingerprints.into_iter().collect();
        Ok(Self { path: path.to_string(), fingerprints: set.into_iter().collect() })
    }

    /// The baseline accepting every given finding.
    #[must_use]
    pub fn from_findings<'a>(path: &str, findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let set: BTreeSet<String> = findings.into_iter().map(|f| f.fingerprint.clone()).collect();
        Self { path: path.to_string(), fingerprints: set.into_iter().collect() }
    }

    /// True when the fingerprint is accepted.
    #[must_use]
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.binary_search_by(|f| f.as_str().cmp(fingerprint)).is_ok()
    }

    /// The file text (pretty JSON with a final newline).
    #[must_use]
    pub fn to_text(&self) -> String {
        let file = BaselineFile { version: BASELINE_VERSION, fingerprints: self.fingerprints.clone() };
        let mut s = serde_json::to_string_pretty(&file).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes the baseline to its path.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self) -> Result<(), ConfigError> {
        std::fs::write(&self.path, self.to_text())
            .map_err(|e| ConfigError::file(&self.path, format!("cannot write: {e}")))
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let b = Baseline { path: "b.json".into(), fingerprints: vec!["aa".into(), "bb".into()] };
        let back = Baseline::parse("b.json", &b.to_text()).unwrap();
        assert_eq!(back, b);
        assert!(back.contains("bb") && !back.contains("cc"));
        assert!(Baseline::parse("b.json", r#"{"version":2,"fingerprints":[]}"#).is_err());
        assert!(Baseline::parse("b.json", r#"["aa"]"#).is_err());
    }
}
