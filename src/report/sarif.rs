//! `--format sarif`: SARIF 2.1.0, a hand-written serde model of the parts we emit. One run;
//! `tool.driver.rules` lists every registered rule; each result carries `partialFingerprints`
//! with the finding's fingerprint under `keyproof/v1`. Columns count Unicode code points.

use std::collections::BTreeMap;

use serde::Serialize;

use super::finding::{Finding, Location, Severity};
use super::{ErrorKind, Report};

/// The SARIF schema this output follows.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation<'a>>,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Message<'a>,
    full_description: Message<'a>,
    help: MultiformatMessage<'a>,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct MultiformatMessage<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Message<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message<'a>,
    locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation<'a>>,
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation<'a> {
    id: usize,
    message: Message<'a>,
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    pointer: &'a str,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn physical(l: &Location) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: ArtifactLocation { uri: uri(&l.file) },
        region: Some(Region {
            start_line: l.line,
            start_column: l.column,
            end_line: l.end_line,
            end_column: l.end_column,
        }),
    }
}

/// A URI reference for a path as given: relative paths stay relative, absolute ones become
/// `file://` URIs; characters that are not allowed in URIs are percent-encoded.
#[must_use]
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

fn result<'a>(f: &'a Finding, rule_index: Option<usize>) -> SarifResult<'a> {
    SarifResult {
        rule_id: f.rule,
        rule_index,
        level: level(f.severity),
        message: Message { text: &f.message },
        locations: f.location.iter().map(|l| SarifLocation { physical_location: physical(l) }).collect(),
        related_locations: f
            .labels
            .iter()
            .filter_map(|l| l.location.as_ref().map(|loc| (l, loc)))
            .enumerate()
            .map(|(i, (l, loc))| RelatedLocation {
                id: i,
                message: Message { text: &l.message },
                physical_location: physical(loc),
            })
            .collect(),
        partial_fingerprints: BTreeMap::from([("keyproof/v1", f.fingerprint.as_str())]),
        properties: ResultProperties { resource: f.resource.as_deref(), pointer: &f.pointer },
    }
}

/// Renders the SARIF log (pretty JSON with a final newline).
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let rules = report
        .rules
        .iter()
        .map(|r| ReportingDescriptor {
            id: r.id,
            name: r.name,
            short_description: Message { text: &r.short },
            full_description: Message { text: &r.full },
            help: MultiformatMessage { text: &r.full, markdown: &r.help_markdown },
            default_configuration: Configuration { level: level(r.level) },
            properties: RuleProperties { tags: vec![r.category] },
        })
        .collect();
    let results = report.findings.iter().map(|f| result(f, report.rules.iter().position(|r| r.id == f.rule))).collect();
    let notifications = report
        .errors
        .iter()
        .map(|e| Notification {
            level: "error",
            message: Message { text: &e.message },
            locations: e
                .file
                .iter()
                .map(|file| SarifLocation {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri: uri(file) },
                        region: None,
                    },
                })
                .collect(),
        })
        .collect();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "keyproof",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: !report.errors.iter().any(|e| e.kind == ErrorKind::Internal),
                tool_execution_notifications: notifications,
            }],
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(uri("fixtures/a b.json"), "fixtures/a%20b.json");
        assert_eq!(uri("/tmp/x.json"), "file:///tmp/x.json");
        assert_eq!(uri("dir\\x#1.json"), "dir/x%231.json");
    }
}
