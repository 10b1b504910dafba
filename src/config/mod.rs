//! `keyproof.toml` and command-line overrides → the resolved [`Settings`] the rules see.
//!
//! Two phases, as in cargo-deny: the file is read into raw structs that keep the span of
//! every value (`toml::Spanned`) and reject unknown keys; then [`Config::resolve`] checks the
//! values (severities, globs, rule references) and reports each problem with its line and
//! column. Rule references are checked through a callback so that this module does not
//! depend on the rule registry.

pub mod baseline;
pub mod err;
pub mod suppress;

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub use baseline::Baseline;
pub use err::ConfigError;
pub use suppress::{Suppressed, SuppressedBy, SuppressionReport};

use crate::policy::err::Severity;
use crate::source::{SourceId, Span};

/// The file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "keyproof.toml";

/// Default for `max_rotation_days`.
pub const DEFAULT_MAX_ROTATION_DAYS: u32 = 365;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    trusted_accounts: Vec<Spanned<String>>,
    #[serde(default)]
    standby_regions: Vec<Spanned<String>>,
    max_rotation_days: Option<Spanned<u32>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "assert")]
    asserts: Vec<Spanned<RawAssert>>,
    #[serde(default, rename = "envelope")]
    envelopes: Vec<Spanned<RawEnvelope>>,
    #[serde(default, rename = "ignore")]
    ignores: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssert {
    name: String,
    key: String,
    action: Option<String>,
    #[serde(default)]
    only: Vec<String>,
    require_context: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    store: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: Spanned<String>,
    reason: Spanned<String>,
    path: Option<Spanned<String>>,
    resource: Option<String>,
}

/// An isolation assertion (`[[assert]]`, rule KP601).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    /// Human name.
    pub name: String,
    /// Key ARN, key id, alias or Terraform address.
    pub key: String,
    /// The action (default `kms:Decrypt`).
    pub action: String,
    /// The only principals that may perform it.
    pub only: Vec<String>,
    /// Encryption-context pairs every allowed request must carry.
    pub require_context: Option<BTreeMap<String, String>>,
    /// The table's span in the config file.
    pub span: Span,
}

/// A client-side-encrypted store (`[[envelope]]`, rule KP501).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Table or bucket ARN.
    pub store: String,
    /// The key.
    pub key: String,
    /// The table's span in the config file.
    pub span: Span,
}

/// A suppression (`[[ignore]]`).
#[derive(Clone, Debug)]
pub struct Ignore {
    /// A rule selector: id, prefix, name or category.
    pub rule: String,
    /// Why (required).
    pub reason: String,
    /// Glob over the finding's file path.
    pub path: Option<glob::Pattern>,
    /// Exact resource ARN.
    pub resource: Option<String>,
    /// The table's span in the config file.
    pub span: Span,
}

/// A `[severity]` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityOverride {
    /// Rule id or name as written.
    pub rule: String,
    /// The new severity.
    pub severity: Severity,
    /// The entry's span in the config file.
    pub span: Span,
}

/// Everything the rules and the suppression step need to know about the user's intent.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Accounts inside the trust boundary besides the key's own and its organization's.
    pub trusted_accounts: Vec<String>,
    /// Regions that only hold standby replicas (KP502).
    pub standby_regions: Vec<String>,
    /// Maximum rotation period (KP402).
    pub max_rotation_days: u32,
    /// Severity overrides.
    pub severity: Vec<SeverityOverride>,
    /// Isolation assertions.
    pub assertions: Vec<Assertion>,
    /// Client-side-encrypted stores.
    pub envelopes: Vec<Envelope>,
    /// Suppressions.
    pub ignores: Vec<Ignore>,
    /// The baseline, from `--baseline`.
    pub baseline: Option<Baseline>,
    /// The config file's path, when one was read.
    pub config_path: Option<String>,
    /// The config file as a source of the world, so that findings (KP601, KP602) can point into it.
    pub config_source: Option<SourceId>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            trusted_accounts: Vec::new(),
            standby_regions: Vec::new(),
            max_rotation_days: DEFAULT_MAX_ROTATION_DAYS,
            severity: Vec::new(),
            assertions: Vec::new(),
            envelopes: Vec::new(),
            ignores: Vec::new(),
            baseline: None,
            config_path: None,
            config_source: None,
        }
    }
}

impl Settings {
    /// The severity override for a rule, matched by id or name.
    #[must_use]
    pub fn severity_for(&self, id: &str, name: &str) -> Option<Severity> {
        self.severity.iter().rev().find(|o| o.rule.eq_ignore_ascii_case(id) || o.rule == name).map(|o| o.severity)
    }
}

/// A parsed, not yet validated configuration file.
#[derive(Debug)]
pub struct Config {
    /// Path.
    pub path: String,
    /// Text.
    pub text: String,
    raw: RawConfig,
}

impl Config {
    /// Reads a configuration file.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax error, unknown key or wrong type.
    pub fn load(path: &str) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses configuration text.
    ///
    /// # Errors
    /// TOML syntax error, unknown key or wrong type, with its position.
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            ConfigError::new(path, text, e.span(), lowercase_first(&message))
        })?;
        Ok(Self { path: path.to_string(), text: text.to_string(), raw })
    }

    /// Checks the values and builds the settings. `is_rule` tells whether a rule selector
    /// (id, prefix, name or category) is valid.
    ///
    /// # Errors
    /// The first invalid value, with its position.
    pub fn resolve(self, is_rule: &dyn Fn(&str) -> bool) -> Result<Settings, ConfigError> {
        let Config { path, text, raw } = self;
        let err = |span: std::ops::Range<usize>, msg: String| ConfigError::new(&path, &text, Some(span), msg);
        let mut s = Settings { config_path: Some(path.clone()), ..Settings::default() };
        for a in raw.trusted_accounts {
            if !crate::policy::arn::is_account_id(a.get_ref()) {
                return Err(err(a.span(), format!("`{}` is not a 12-digit account id", a.get_ref())));
            }
            s.trusted_accounts.push(a.into_inner());
        }
        s.standby_regions = raw.standby_regions.into_iter().map(Spanned::into_inner).collect();
        if let Some(days) = raw.max_rotation_days {
            if !(90..=2560).contains(days.get_ref()) {
                return Err(err(
                    days.span(),
                    format!("`max_rotation_days` is `{}`: KMS allows 90 to 2560", days.get_ref()),
                ));
            }
            s.max_rotation_days = days.into_inner();
        }
        for (rule, sev) in raw.severity {
            if !is_rule(rule.get_ref()) {
                return Err(err(rule.span(), format!("unknown rule `{}`", rule.get_ref())));
            }
            let severity = match sev.get_ref().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "note" => Severity::Note,
                other => {
                    return Err(err(
                        sev.span(),
                        format!("unknown severity `{other}`: use `error`, `warning` or `note`"),
                    ))
                }
            };
            s.severity.push(SeverityOverride { span: span(rule.span()), rule: rule.into_inner(), severity });
        }
        for a in raw.asserts {
            let sp = span(a.span());
            let a = a.into_inner();
            s.assertions.push(Assertion {
                name: a.name,
                key: a.key,
                action: a.action.unwrap_or_else(|| "kms:Decrypt".into()),
                only: a.only,
                require_context: a.require_context,
                span: sp,
            });
        }
        for e in raw.envelopes {
            let sp = span(e.span());
            let e = e.into_inner();
            s.envelopes.push(Envelope { store: e.store, key: e.key, span: sp });
        }
        for i in raw.ignores {
            let sp = span(i.span());
            let i = i.into_inner();
            if !is_rule(i.rule.get_ref()) {
                return Err(err(i.rule.span(), format!("unknown rule `{}`", i.rule.get_ref())));
            }
            if i.reason.get_ref().trim().is_empty() {
                return Err(err(i.reason.span(), "`reason` must say why the finding is accepted".into()));
            }
            let path = match i.path {
                Some(p) => Some(
                    glob::Pattern::new(p.get_ref())
                        .map_err(|e| err(p.span(), format!("invalid glob `{}`: {}", p.get_ref(), e.msg)))?,
                ),
                None => None,
            };
            s.ignores.push(Ignore {
                rule: i.rule.into_inner(),
                reason: i.reason.into_inner(),
                path,
                resource: i.resource,
                span: sp,
            });
        }
        Ok(s)
    }
}

fn span(r: std::ops::Range<usize>) -> Span {
    Span::new(r.start, r.end)
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Settings, ConfigError> {
        Config::parse("keyproof.toml", text)?.resolve(&|r| r.starts_with("KP") || r == "invalid-principal")
    }

    #[test]
    fn full_example() {
        let s = resolve(
            r#"
trusted_accounts = ["444455556666"]
standby_regions = ["eu-central-1"]
max_rotation_days = 180

[severity]
KP106 = "warning"

[[assert]]
name = "only the payments app reads cardholder data"
key = "alias/payments-prod"
only = ["arn:aws:iam::111122223333:role/payments-app"]
require_context = { tenant = "acme" }

[[envelope]]
store = "arn:aws:dynamodb:eu-west-1:111122223333:table/payments"
key = "alias/pan"

[[ignore]]
rule = "KP106"
path = "legacy/**"
reason = "legacy app, tracked elsewhere"
"#,
        )
        .unwrap();
        assert_eq!(s.trusted_accounts, ["444455556666"]);
        assert_eq!(s.max_rotation_days, 180);
        assert_eq!(s.severity_for("KP106", "decrypt-not-context-bound"), Some(Severity::Warning));
        assert_eq!(s.assertions[0].action, "kms:Decrypt");
        assert_eq!(s.envelopes[0].key, "alias/pan");
        assert!(s.ignores[0].path.as_ref().unwrap().matches("legacy/a/b.json"));
    }

    #[test]
    fn unknown_keys_have_positions() {
        let e = resolve("trusted_accounts = []\nbogus = 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(1)), "{e:?}");
        assert!(e.message.contains("bogus"), "{}", e.message);
        let e = resolve("[[ignore]]\nrule = \"KP106\"\nreason = \"x\"\nsid = \"a\"\n").unwrap_err();
        assert_eq!(e.line, Some(4), "{e:?}");
        let e = resolve("[[ignore]]\nrule = \"KP106\"\n").unwrap_err();
        assert!(e.message.contains("reason"), "{}", e.message);
        let e = resolve("[severity]\nKP106 = \"loud\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(9)));
        let e = resolve("[severity]\nnot-a-rule = \"note\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
