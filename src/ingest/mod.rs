//! TEMPORARY: replaced by the real ingest module at merge.
//!
//! Only loose policy documents and the `aws_kms_key` resources of a Terraform plan are read,
//! just enough for the rule tests of the `rules` branch.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::policy::err::PolicyDiagnostic;
use crate::policy::json::{self, Json};
use crate::policy::model::{DocKind, PrincipalRef};
use crate::policy::parse::{build_policy, validate};
use crate::source::SourceId;
use crate::world::{InputError, InputFile, Key, Origin, PolicyEntry, PolicySlot, World};

/// Context for documents that carry no account of their own.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `--account`.
    pub account: Option<String>,
    /// `--region`.
    pub region: String,
    /// `--key-arn`.
    pub key_arn: Option<String>,
    /// `--org-id`.
    pub org_id: Option<String>,
    /// `--org-account`.
    pub org_accounts: Vec<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { account: None, region: "us-east-1".into(), key_arn: None, org_id: None, org_accounts: Vec::new() }
    }
}

/// Reads files, directories (recursively, `*.json`) and glob patterns into one world.
#[must_use]
pub fn load(paths: &[String], opts: &LoadOptions) -> World {
    let (mut texts, mut errors) = (Vec::new(), Vec::new());
    let mut files = Vec::new();
    for p in paths {
        if p.contains(['*', '?', '[']) {
            files.extend(glob::glob(p).into_iter().flatten().flatten().map(|x| x.display().to_string()));
        } else {
            walk(Path::new(p), &mut files);
        }
    }
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(t) => texts.push((f, t)),
            Err(e) => {
                errors.push(InputError { file: f, message: format!("cannot read: {e}"), line: None, column: None })
            }
        }
    }
    let mut world = load_texts(&texts, opts);
    world.errors.extend(errors);
    world.errors.sort();
    world
}

fn walk(p: &Path, out: &mut Vec<String>) {
    match std::fs::read_dir(p) {
        Ok(rd) => {
            let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries.iter().filter(|e| e.is_dir() || e.extension().is_some_and(|x| x == "json")) {
                walk(e, out);
            }
        }
        Err(_) => out.push(p.display().to_string()),
    }
}

/// Builds a world from `(path, text)` pairs.
#[must_use]
pub fn load_texts(texts: &[(String, String)], opts: &LoadOptions) -> World {
    let mut w = World::default();
    let single_key = texts.len() == 1;
    for (name, text) in texts {
        let id = w.sources.add_file(name.as_str(), text.as_str());
        let sha256 = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let mut file = InputFile { path: name.clone(), kind: String::new(), sha256, size: text.len() as u64 };
        match json::parse(text) {
            Err(e) => {
                w.diagnostics.push(diag(id, e.span, format!("invalid JSON: {}", e.message)));
                file.kind = "invalid-json".into();
            }
            Ok(tree) if tree.get("Statement").is_some() => {
                file.kind = "policy".into();
                let stem = Path::new(name).file_stem().map_or_else(|| name.clone(), |s| s.to_string_lossy().into());
                let key_arn = opts.key_arn.clone().filter(|_| single_key);
                add_policy(&mut w, id, &tree, "", text.len(), &stem, key_arn, opts, None);
            }
            Ok(tree) if tree.get("format_version").is_some() => {
                file.kind = "terraform".into();
                let root = tree.get("planned_values").or_else(|| tree.get("values")).and_then(|v| v.get("root_module"));
                if let Some(root) = root {
                    terraform_module(&mut w, id, root, opts);
                }
            }
            Ok(_) => {
                w.errors.push(InputError {
                    file: name.clone(),
                    message: "not a recognised input: no `Statement`, `KeyMetadata`, `Grants`, … at the top level"
                        .into(),
                    line: None,
                    column: None,
                });
                continue;
            }
        }
        w.files.push(file);
    }
    w
}

fn diag(source: SourceId, span: crate::source::Span, message: String) -> PolicyDiagnostic {
    PolicyDiagnostic { code: "KP150", message, source, span, pointer: String::new(), severity: None, resource: None }
}

fn terraform_module(w: &mut World, id: SourceId, module: &Json, opts: &LoadOptions) {
    for r in module.get("resources").and_then(Json::as_array).unwrap_or(&[]) {
        let (Some("aws_kms_key"), Some(values)) = (r.get("type").and_then(Json::as_str), r.get("values")) else {
            continue;
        };
        let address = r.get("address").and_then(Json::as_str).unwrap_or("aws_kms_key").to_string();
        let Some(pol) = values.get("policy").filter(|p| p.as_str().is_some()) else { continue };
        let src = w.sources.get(id).map(|s| s.text.clone()).unwrap_or_default();
        let raw = src.get(pol.span.start as usize + 1..(pol.span.end as usize).saturating_sub(1)).unwrap_or("");
        let (text, map) = json::unescape_with_map(raw, pol.span.start + 1);
        let inner = w.sources.add_embedded(id, String::new(), text.clone(), map);
        let arn = format!("arn:aws:kms:{}:{}:key/<unknown:{address}>", opts.region, account(opts, None));
        let bypass = values.get("bypass_policy_lockout_safety_check").and_then(Json::as_bool).unwrap_or(false);
        match json::parse(&text) {
            Ok(tree) => add_policy(w, inner, &tree, "", text.len(), &address, Some(arn), opts, Some(address.clone())),
            Err(e) => w.diagnostics.push(diag(inner, e.span, format!("invalid JSON: {}", e.message))),
        }
        if let Some(k) = w.keys.last_mut().filter(|k| k.origin.tf_address.as_deref() == Some(&*address)) {
            k.bypass_lockout_check = bypass;
            k.origin = Origin { source: Some(id), span: r.span, pointer: String::new(), tf_address: Some(address) };
        }
    }
    for child in module.get("child_modules").and_then(Json::as_array).unwrap_or(&[]) {
        terraform_module(w, id, child, opts);
    }
}

fn account(opts: &LoadOptions, inferred: Option<String>) -> String {
    opts.account.clone().or(inferred).unwrap_or_else(|| "111122223333".into())
}

#[expect(clippy::too_many_arguments, reason = "temporary module")]
fn add_policy(
    w: &mut World,
    id: SourceId,
    tree: &Json,
    pointer: &str,
    size: usize,
    stem: &str,
    key_arn: Option<String>,
    opts: &LoadOptions,
    tf_address: Option<String>,
) {
    let mut policy = build_policy(id, tree, pointer, size, &mut w.diagnostics);
    let resource_policy = policy.statements.iter().any(|s| s.principal.is_some());
    let trust = resource_policy
        && policy
            .statements
            .iter()
            .all(|s| s.action.items.iter().all(|a| a.value.to_ascii_lowercase().starts_with("sts:")));
    let kind = match (resource_policy, trust) {
        (false, _) => DocKind::Identity,
        (true, true) => DocKind::Trust,
        (true, false) => DocKind::KeyPolicy,
    };
    let mut roots: Vec<String> = policy
        .statements
        .iter()
        .flat_map(|s| s.principal.iter().flat_map(|p| p.entries.iter()))
        .filter(|e| e.raw.starts_with("arn:") && e.raw.ends_with(":root"))
        .filter_map(|e| match &e.principal {
            PrincipalRef::Account(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    roots.sort();
    roots.dedup();
    let acct = account(opts, if roots.len() == 1 { roots.pop() } else { None });
    validate(&mut policy, kind, None, &mut w.diagnostics);
    let span = policy.span;
    let pid = w.add_policy(PolicyEntry { policy, kind, name: kind.as_str().into(), account: Some(acct.clone()) });
    match kind {
        DocKind::KeyPolicy => {
            let arn = key_arn.unwrap_or_else(|| format!("arn:aws:kms:{}:{acct}:key/{stem}", opts.region));
            let origin = Origin { source: Some(id), span, pointer: pointer.into(), tf_address };
            w.touch_account(&acct);
            w.keys.push(Key {
                id: arn.rsplit('/').next().unwrap_or(stem).to_string(),
                arn,
                account: acct,
                region: opts.region.clone(),
                policy: Some(PolicySlot::Known(pid)),
                origin,
                ..Key::default()
            });
        }
        DocKind::Identity => w.loose_identity.push(pid),
        _ => {}
    }
}
