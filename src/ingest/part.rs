//! The per-file partial result and the typed readers the shape loaders share.
//!
//! Each file is loaded on its own (in parallel) into a [`Part`]: a small [`World`] with its
//! own source map and policy table, plus what the merge needs to know (loose keys, IAM
//! listing pages). Wrong types in a recognised shape become `KP152` diagnostics with a span.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::snapshot::{key_arn, PathContext};
use super::time;
use crate::policy::arn::Arn;
use crate::policy::err::{one_line, PolicyDiagnostic};
use crate::policy::json::{pointer_token, unescape_with_map, Json, JsonKind};
use crate::policy::model::{DocKind, Policy, PrincipalRef};
use crate::policy::parse::{parse_policy_text, validate, MAX_EVALUATED_POLICY_BYTES};
use crate::source::{SourceId, Span};
use crate::world::{InputError, Key, Organization, PolicyEntry, PolicySlot, World};

/// A key created from a loose key policy; its ARN is settled when all files are read.
#[derive(Clone, Debug)]
pub(crate) struct LooseKey {
    /// The provisional ARN (`arn:aws:kms:<region>:<account>:key/<file stem>`).
    pub arn: String,
    /// The assumption to record when the account was not given nor inferred.
    pub account_note: Option<String>,
}

/// One page of an IAM authorization-details listing.
#[derive(Clone, Debug)]
pub(crate) struct IamPage {
    /// The account listed.
    pub account: String,
    /// `IsTruncated: true`.
    pub truncated: bool,
}

/// What a role plays when a policy document is registered.
pub(crate) struct DocSpec {
    /// Validation kind.
    pub kind: DocKind,
    /// Name for messages.
    pub name: String,
    /// Owning account.
    pub account: Option<String>,
    /// Managed policy name (for `validate`).
    pub managed_name: Option<String>,
    /// Resource for the diagnostics.
    pub resource: Option<String>,
}

/// The partial result of one file.
pub(crate) struct Part {
    /// The path as given.
    pub path: String,
    /// Context from the path.
    pub ctx: PathContext,
    /// The file's own little world (local source and policy ids).
    pub w: World,
    /// The file's source in `w.sources`.
    pub src: SourceId,
    /// The file's text (BOM removed).
    pub text: Arc<str>,
    /// What the file was recognised as.
    pub kind: String,
    /// Keys created from loose key policies.
    pub loose_keys: Vec<LooseKey>,
    /// IAM listing pages.
    pub iam_pages: Vec<IamPage>,
    /// Default Region for loose documents.
    pub region: String,
    /// `--account`.
    pub account_opt: Option<String>,
    /// Snapshots of which only the sharing is known (their encryption was not described).
    pub shared_only_snapshots: Vec<String>,
    /// `--tf-dir`: where the Terraform sources of a plan are.
    pub tf_dir: Option<String>,
}

/// Account assumed for loose documents when nothing else says.
pub(crate) const DEFAULT_ACCOUNT: &str = "111122223333";

/// `{ptr}/{key}` with the key escaped.
pub(crate) fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", pointer_token(key))
}

impl Part {
    /// A part for a file whose text could be read.
    pub fn new(path: &str, text: Arc<str>, region: &str, account: Option<&str>) -> Part {
        let w = World::default();
        let src = w.sources.add_file(path, Arc::clone(&text));
        Part {
            path: path.to_string(),
            ctx: PathContext::from_path(path),
            w,
            src,
            text,
            kind: "unrecognised".into(),
            loose_keys: Vec::new(),
            iam_pages: Vec::new(),
            region: region.to_string(),
            account_opt: account.map(str::to_string),
            shared_only_snapshots: Vec::new(),
            tf_dir: None,
        }
    }

    /// Adds another file of the same unit and focuses it: diagnostics, spans, errors and
    /// messages refer to the focused file.
    pub fn add_file(&mut self, path: &str, text: Arc<str>) -> SourceId {
        let src = self.w.sources.add_file(path, Arc::clone(&text));
        self.focus(path, src, text);
        src
    }

    /// Focuses a file already added to this part.
    pub fn focus(&mut self, path: &str, src: SourceId, text: Arc<str>) {
        path.clone_into(&mut self.path);
        self.src = src;
        self.text = text;
    }

    /// The file name without directory and extension.
    pub fn stem(&self) -> String {
        std::path::Path::new(&self.path).file_stem().map_or_else(|| "stdin".into(), |s| s.to_string_lossy().into())
    }

    /// Records an input error for this file.
    pub fn error(&mut self, message: impl Into<String>, span: Option<Span>) {
        let (line, column) = match span.and_then(|s| self.w.sources.get(self.src).map(|src| src.line_col(s.start))) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        self.w.errors.push(InputError { file: self.path.clone(), message: message.into(), line, column });
    }

    /// Records an assumption.
    pub fn assume(&mut self, message: impl Into<String>) {
        self.w.assumptions.push(message.into());
    }

    /// A diagnostic on this file's own text.
    pub fn diag(&mut self, code: &'static str, span: Span, pointer: &str, message: String) {
        self.w.diagnostics.push(PolicyDiagnostic {
            code,
            message: one_line(message),
            source: self.src,
            span,
            pointer: pointer.to_string(),
            severity: None,
            resource: None,
        });
    }

    fn wrong(&mut self, v: &Json, ptr: &str, key: &str, what: &str) {
        self.diag("KP152", v.span, ptr, format!("`{key}` must be {what}, not {}", v.kind_name()));
    }

    /// A member that is present and not `null`.
    fn member<'t>(obj: &'t Json, key: &str) -> Option<&'t Json> {
        obj.get(key).filter(|v| !matches!(v.kind, JsonKind::Null))
    }

    /// A string member; a wrong type is reported and read as absent.
    pub fn str_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Option<String> {
        let v = Self::member(obj, key)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong(v, &child(ptr, key), key, "a string");
                None
            }
        }
    }

    /// A boolean member.
    pub fn bool_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Option<bool> {
        let v = Self::member(obj, key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(v, &child(ptr, key), key, "a boolean");
                None
            }
        }
    }

    /// A non-negative integer member.
    pub fn u32_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Option<u32> {
        let v = Self::member(obj, key)?;
        let n = match &v.kind {
            JsonKind::Number(n) => n.parse::<u32>().ok(),
            _ => None,
        };
        if n.is_none() {
            self.wrong(v, &child(ptr, key), key, "a non-negative integer");
        }
        n
    }

    /// An array member (empty when absent or of the wrong type).
    pub fn array_at<'t>(&mut self, obj: &'t Json, key: &str, ptr: &str) -> &'t [Json] {
        let Some(v) = Self::member(obj, key) else { return &[] };
        match v.as_array() {
            Some(a) => a,
            None => {
                self.wrong(v, &child(ptr, key), key, "an array");
                &[]
            }
        }
    }

    /// An object member.
    pub fn obj_at<'t>(&mut self, obj: &'t Json, key: &str, ptr: &str) -> Option<&'t Json> {
        let v = Self::member(obj, key)?;
        if v.is_object() {
            Some(v)
        } else {
            self.wrong(v, &child(ptr, key), key, "an object");
            None
        }
    }

    /// An array of strings.
    pub fn str_list_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Vec<String> {
        let p = child(ptr, key);
        let mut out = Vec::new();
        for (i, it) in self.array_at(obj, key, ptr).iter().enumerate() {
            match it.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.wrong(it, &format!("{p}/{i}"), key, "a list of strings"),
            }
        }
        out
    }

    /// An object of string values.
    pub fn str_map_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Option<BTreeMap<String, String>> {
        let v = self.obj_at(obj, key, ptr)?;
        let p = child(ptr, key);
        let mut out = BTreeMap::new();
        for m in v.members() {
            match m.value.scalar_text() {
                Some(s) => {
                    out.insert(m.key.to_string(), s);
                }
                None => self.wrong(&m.value, &child(&p, &m.key), &m.key, "a string"),
            }
        }
        Some(out)
    }

    /// A timestamp member, normalised to ISO-8601 UTC.
    pub fn time_at(&mut self, obj: &Json, key: &str, ptr: &str) -> Option<String> {
        let v = Self::member(obj, key)?;
        let t = match &v.kind {
            JsonKind::Number(n) => time::from_epoch_text(n),
            JsonKind::String(s) => time::from_iso(s).or_else(|| time::from_epoch_text(s)),
            _ => None,
        };
        if t.is_none() {
            self.wrong(v, &child(ptr, key), key, "a timestamp (ISO-8601 or seconds since 1970)");
        }
        t
    }

    /// Reads a policy document written as an object, a JSON string, or a URL-encoded JSON
    /// string. A string becomes an embedded source whose spans map back into this file.
    /// `Err` carries the reason the document is unknown (already reported).
    pub fn read_policy(&mut self, v: &Json, ptr: &str, key: &str) -> Result<Policy, String> {
        match &v.kind {
            JsonKind::Object(_) => {
                let size = (v.span.end - v.span.start) as usize;
                Ok(crate::policy::parse::build_policy(self.src, v, ptr, size, &mut self.w.diagnostics))
            }
            JsonKind::String(_) => {
                let raw_span = Span { start: v.span.start + 1, end: v.span.end.saturating_sub(1) };
                let raw = self.text.get(raw_span.range()).unwrap_or("").to_string();
                let (decoded, map) = unescape_with_map(&raw, raw_span.start);
                let first = decoded.trim_start();
                let (text, map) = if first.starts_with('{') {
                    (decoded, map)
                } else if first.len() >= 3 && first.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("%7B")) {
                    let (bytes, map) = percent_decode_with_map(&decoded, &map);
                    match String::from_utf8(bytes) {
                        Ok(t) => (t, map),
                        Err(_) => {
                            let msg = format!("the URL-encoded `{key}` is not valid UTF-8 once decoded");
                            self.diag("KP150", v.span, ptr, msg.clone());
                            return Err(msg);
                        }
                    }
                } else {
                    let msg = if decoded.trim().is_empty() {
                        format!("`{key}` is an empty string: expected a policy document")
                    } else {
                        format!("`{key}` is a string that does not hold a JSON policy document")
                    };
                    self.diag("KP152", v.span, ptr, msg.clone());
                    return Err(msg);
                };
                let id = self.w.sources.add_embedded(self.src, ptr.to_string(), text.clone(), map);
                parse_policy_text(id, &text, &mut self.w.diagnostics)
                    .ok_or_else(|| format!("`{key}` is not valid JSON"))
            }
            _ => {
                let msg =
                    format!("`{key}` must be a policy document (an object or a JSON string), not {}", v.kind_name());
                self.diag("KP152", v.span, ptr, msg.clone());
                Err(msg)
            }
        }
    }

    /// Validates a policy, adds it to the table and sets the resource on the diagnostics
    /// raised since `diag_start`.
    /// A document over [`MAX_EVALUATED_POLICY_BYTES`] is validated and reported (`KP159`) but
    /// not evaluated: its slot is unknown, so that no hostile document can make the evaluator
    /// and the solver (whose work grows with statements × principals) run unboundedly.
    pub fn register(&mut self, mut policy: Policy, spec: DocSpec, diag_start: usize) -> PolicySlot {
        validate(&mut policy, spec.kind, spec.managed_name.as_deref(), &mut self.w.diagnostics);
        if policy.size > MAX_EVALUATED_POLICY_BYTES {
            let reason = format!(
                "{} is `{}` bytes, over the `{}` bytes keyproof evaluates",
                spec.kind.as_str(),
                policy.size,
                MAX_EVALUATED_POLICY_BYTES
            );
            self.w.diagnostics.push(PolicyDiagnostic {
                code: "KP159",
                message: format!("{reason}: it is read and validated but treated as unknown (granting nothing)"),
                source: policy.source,
                span: policy.span,
                pointer: policy.pointer.clone(),
                severity: None,
                resource: None,
            });
            self.set_resource(diag_start, spec.resource.as_deref());
            return PolicySlot::Unknown(reason);
        }
        self.set_resource(diag_start, spec.resource.as_deref());
        let id = self.w.add_policy(PolicyEntry { policy, kind: spec.kind, name: spec.name, account: spec.account });
        PolicySlot::Known(id)
    }

    /// Sets the resource of the diagnostics raised since `start` (when not set yet).
    pub fn set_resource(&mut self, start: usize, resource: Option<&str>) {
        if let Some(r) = resource {
            for d in self.w.diagnostics.iter_mut().skip(start) {
                d.resource.get_or_insert_with(|| r.to_string());
            }
        }
    }

    /// Reads and registers a policy document; an unreadable one is an unknown slot.
    pub fn policy_slot(&mut self, v: &Json, ptr: &str, key: &str, spec: DocSpec) -> PolicySlot {
        let start = self.w.diagnostics.len();
        match self.read_policy(v, ptr, key) {
            Ok(p) => self.register(p, spec, start),
            Err(reason) => {
                self.set_resource(start, spec.resource.as_deref());
                PolicySlot::Unknown(reason)
            }
        }
    }

    /// The key with this ARN, created when absent.
    pub fn key_mut(&mut self, arn: &str) -> &mut Key {
        let i = match self.w.keys.iter().position(|k| k.arn == arn) {
            Some(i) => i,
            None => {
                let (account, region, id) = split_key_arn(arn);
                self.w.keys.push(Key { arn: arn.to_string(), id, account, region, ..Key::default() });
                self.w.keys.len() - 1
            }
        };
        &mut self.w.keys[i]
    }

    /// The organization being assembled from this file.
    pub fn org(&mut self) -> &mut Organization {
        self.w.org.get_or_insert_with(Organization::default)
    }

    /// Marks the snapshot account as seen (and its KMS as collected, for `kms/` files).
    pub fn touch_context_account(&mut self) {
        if let Some(a) = self.ctx.account.clone() {
            let kms = self.ctx.service.as_deref() == Some("kms");
            let acct = self.w.touch_account(&a);
            acct.kms_collected |= kms;
        }
    }

    /// Attaches a key policy: to the key of the snapshot directory, or to a loose key.
    pub fn attach_key_policy(&mut self, policy: Result<Policy, String>, diag_start: usize) {
        if let Some(arn) = self.ctx.key_arn() {
            let account = self.ctx.account.clone();
            let slot = match policy {
                Ok(p) => {
                    let origin = crate::world::Origin {
                        source: Some(p.source),
                        span: p.span,
                        pointer: p.pointer.clone(),
                        tf_address: None,
                    };
                    let spec = DocSpec {
                        kind: DocKind::KeyPolicy,
                        name: "key-policy".into(),
                        account,
                        managed_name: None,
                        resource: Some(arn.clone()),
                    };
                    let slot = self.register(p, spec, diag_start);
                    self.key_mut(&arn).origin = origin;
                    slot
                }
                Err(reason) => {
                    self.set_resource(diag_start, Some(&arn));
                    PolicySlot::Unknown(reason)
                }
            };
            self.key_mut(&arn).policy = Some(slot);
            return;
        }
        let Ok(p) = policy else { return };
        let (account, note) = self.loose_account(Some(&p));
        let arn = key_arn(&self.region, &account, &self.stem());
        let origin =
            crate::world::Origin { source: Some(p.source), span: p.span, pointer: p.pointer.clone(), tf_address: None };
        let spec = DocSpec {
            kind: DocKind::KeyPolicy,
            name: "key-policy".into(),
            account: Some(account.clone()),
            managed_name: None,
            resource: Some(arn.clone()),
        };
        let slot = self.register(p, spec, diag_start);
        let key = self.key_mut(&arn);
        key.policy = Some(slot);
        key.origin = origin;
        self.w.touch_account(&account);
        self.loose_keys.push(LooseKey { arn, account_note: note });
    }

    /// The account of a loose document: `--account`, else the single account principal of
    /// the document, else the default (with the assumption to record).
    pub fn loose_account(&self, policy: Option<&Policy>) -> (String, Option<String>) {
        if let Some(a) = &self.account_opt {
            return (a.clone(), None);
        }
        if let Some(p) = policy {
            // The account whose principal the key policy lets administer the key (the delegation
            // statement `kms:*` to `ACCOUNT:root`, or `kms:PutKeyPolicy`) owns it.
            let mut admins: Vec<&str> = p
                .statements
                .iter()
                .filter(|s| !s.broken && s.effect == crate::policy::model::Effect::Allow && !s.action.negated)
                .filter(|s| {
                    s.action.items.iter().any(|a| {
                        a.value == "*" || crate::policy::wildcard::glob_match(&a.value, "kms:PutKeyPolicy", true)
                    })
                })
                .filter_map(|s| s.principal.as_ref())
                .filter(|pr| !pr.negated)
                .flat_map(|pr| pr.entries.iter())
                .filter_map(|e| match &e.principal {
                    PrincipalRef::Account(a) => Some(a.as_str()),
                    _ => None,
                })
                .collect();
            admins.sort_unstable();
            admins.dedup();
            if let [one] = admins.as_slice() {
                return ((*one).to_string(), None);
            }
            let mut accounts: Vec<&str> = p
                .statements
                .iter()
                .filter_map(|s| s.principal.as_ref())
                .flat_map(|pr| pr.entries.iter())
                .filter_map(|e| match &e.principal {
                    PrincipalRef::Account(a) => Some(a.as_str()),
                    _ => None,
                })
                .collect();
            accounts.sort_unstable();
            accounts.dedup();
            if let [one] = accounts.as_slice() {
                return ((*one).to_string(), None);
            }
        }
        let note = format!(
            "the account of `{}` is not known: assumed `{DEFAULT_ACCOUNT}` (give it with `--account`)",
            self.path
        );
        (DEFAULT_ACCOUNT.to_string(), Some(note))
    }
}

/// (account, region, key id) of a key ARN; empty parts when it is not one.
pub(crate) fn split_key_arn(arn: &str) -> (String, String, String) {
    match Arn::parse(arn) {
        Some(a) => {
            let id = a.resource.strip_prefix("key/").unwrap_or(a.resource);
            (a.account.to_string(), a.region.to_string(), id.to_string())
        }
        None => (String::new(), String::new(), arn.to_string()),
    }
}

/// Percent-decodes (RFC 3986; `+` stays `+`) and carries the offset map along.
fn percent_decode_with_map(s: &str, map: &[u32]) -> (Vec<u8>, Vec<u32>) {
    let b = s.as_bytes();
    let at = |i: usize| map.get(i).or(map.last()).copied().unwrap_or(0);
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut omap = Vec::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let decoded = match (b.get(i), b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (Some(b'%'), Some(h), Some(l)) => u8::try_from(h * 16 + l).ok(),
            _ => None,
        };
        omap.push(at(i));
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    omap.push(at(b.len()));
    (out, omap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_and_maps_offsets() {
        let s = "%7B%22a+b%22%7D";
        let map: Vec<u32> = (0..=u32::try_from(s.len()).unwrap()).map(|i| i + 100).collect();
        let (out, m) = percent_decode_with_map(s, &map);
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a+b\"}");
        assert_eq!(m, vec![100, 103, 106, 107, 108, 109, 112, 115]);
    }
}
