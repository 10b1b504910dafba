//! The on-disk layout written by iam-collect (cloud-copilot/iam-collect), read into the same
//! world as the snapshot layout (inputs.md §2, docs/iam-collect.md).
//!
//! ```text
//! aws/<partition>/accounts/<account>/<service>/[<region>/][<type>/]<url-encoded id>/<name>.json
//! aws/<partition>/organizations/<org-id>/{metadata,accounts,ous}.json, scps/<id>/…, rcps/<id>/…
//! ```
//!
//! iam-collect lowercases every path and URL-encodes resource ids, so names and ARNs come from
//! `metadata.json`, never from the directory names. One resource is spread over several files
//! (`metadata.json`, `trust-policy.json`, `inline-policies.json`, …), so the files of one
//! directory are read together as one part. iam-collect deletes a file instead of writing an
//! empty value: inside a resource directory that has its `metadata.json`, a missing
//! `inline-policies.json` means "none", while a missing key `policy.json` (access denied) means
//! "not collected". iam-collect does not collect grants, key metadata, rotation or aliases: an
//! AWS CLI output (`list-grants`, `describe-key`, …) placed in a key directory is read with that
//! key as its context.

use std::cell::Cell;
use std::sync::Arc;

use super::part::{child, DocSpec, IamPage, Part};
use super::recognize::{recognize, Shape};
use super::snapshot::PathContext;
use super::LoadOptions;
use crate::policy::arn::{is_account_id, Arn};
use crate::policy::json::{Json, JsonKind};
use crate::policy::model::DocKind;
use crate::policy::parse::check_duplicate_keys;
use crate::source::SourceId;
use crate::world::{Bucket, Group, ManagedPolicy, OrgPolicy, Origin, PolicySlot, Role, Tags, User};

/// Where a file sits in the iam-collect layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    /// Account, organization, or elsewhere (indexes).
    pub scope: Scope,
    /// Directories below the account or organization directory.
    pub rest: Vec<String>,
    /// The file name.
    pub file: String,
}

/// The top-level part of the layout a file is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `accounts/<account>/…`.
    Account(String),
    /// `organizations/<org-id>/…`.
    Organization(String),
    /// `indexes/…` and anything else under `aws/<partition>/`.
    Other,
}

fn components(path: &str) -> Vec<String> {
    std::path::Path::new(path)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// The place of a path in the iam-collect layout, when it is in one: an `aws/<partition>/`
/// directory followed by `accounts/<12-digit id>/`, `organizations/<o-…>/` or `indexes/`.
#[must_use]
pub fn place(path: &str) -> Option<Place> {
    let parts = components(path);
    let (file, dirs) = parts.split_last()?;
    let at = dirs.windows(3).rposition(|w| match w {
        [a, partition, top] => {
            a == "aws"
                && (partition == "aws" || partition.starts_with("aws-"))
                && matches!(top.as_str(), "accounts" | "organizations" | "indexes")
        }
        _ => false,
    })?;
    let partition = dirs.get(at + 1)?.clone();
    let top = dirs.get(at + 2)?.as_str();
    let after = dirs.get(at + 3..).unwrap_or(&[]);
    let (scope, rest) = match (top, after.split_first()) {
        ("accounts", Some((acct, rest))) if is_account_id(acct) => (Scope::Account(acct.clone()), rest.to_vec()),
        ("organizations", Some((org, rest))) if org.starts_with("o-") => {
            (Scope::Organization(org.clone()), rest.to_vec())
        }
        ("indexes", _) => (Scope::Other, after.to_vec()),
        _ => return None,
    };
    Some(Place { partition, scope, rest, file: file.clone() })
}

/// The unit a file of the layout is read in: its directory.
#[must_use]
pub fn group_key(path: &str) -> String {
    std::path::Path::new(path).parent().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What a directory of the layout holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Dir {
    /// `accounts/<acct>/` itself (`organization.json`).
    Account(String),
    /// `iam/role/<name>/`, `iam/user/<name>/`, `iam/group/<name>/`.
    Principal(String, &'static str),
    /// `iam/policy/<name>/`, `iam/aws/policy/<name>/`.
    ManagedPolicy(String),
    /// `kms/<region>/key/<id>/`.
    Key { account: String, region: String, id: String },
    /// `s3/<bucket>/`.
    Bucket(String),
    /// `organizations/<org-id>/` itself.
    Organization(String),
    /// `organizations/<org-id>/scps/<id>/` or `rcps/<id>/`.
    OrgPolicy(DocKind),
    /// Anything keyproof does not read (other services, RAM shares, indexes, OU tags, …).
    Unused,
}

fn dir_of(place: &Place) -> Dir {
    let rest: Vec<&str> = place.rest.iter().map(String::as_str).collect();
    match (&place.scope, rest.as_slice()) {
        (Scope::Account(a), []) => Dir::Account(a.clone()),
        (Scope::Account(a), ["iam", kind @ ("role" | "user" | "group"), _]) => Dir::Principal(
            a.clone(),
            match *kind {
                "role" => "role",
                "user" => "user",
                _ => "group",
            },
        ),
        (Scope::Account(a), ["iam", "policy", _] | ["iam", "aws", "policy", _]) => Dir::ManagedPolicy(a.clone()),
        (Scope::Account(a), ["kms", region, "key", id]) => {
            Dir::Key { account: a.clone(), region: (*region).to_string(), id: (*id).to_string() }
        }
        (Scope::Account(a), ["s3", _]) => Dir::Bucket(a.clone()),
        (Scope::Organization(o), []) => Dir::Organization(o.clone()),
        (Scope::Organization(_), ["scps", _]) => Dir::OrgPolicy(DocKind::Scp),
        (Scope::Organization(_), ["rcps", _]) => Dir::OrgPolicy(DocKind::Rcp),
        _ => Dir::Unused,
    }
}

/// The files keyproof reads in a directory; in a key directory, also any AWS CLI output placed
/// there by the user.
fn wanted(dir: &Dir, file: &str) -> bool {
    let names: &[&str] = match dir {
        Dir::Account(_) => &["organization.json"],
        Dir::Principal(..) => &[
            "metadata.json",
            "trust-policy.json",
            "inline-policies.json",
            "managed-policies.json",
            "groups.json",
            "tags.json",
        ],
        Dir::ManagedPolicy(_) => &["metadata.json", "current-policy.json", "policy.json"],
        Dir::Key { .. } => return true,
        Dir::Bucket(_) => &["metadata.json", "encryption.json"],
        Dir::Organization(_) => &["metadata.json", "accounts.json", "ous.json"],
        Dir::OrgPolicy(_) => &["metadata.json", "policy.json"],
        Dir::Unused => &[],
    };
    names.contains(&file)
}

/// One parsed file of a directory.
struct Doc {
    /// The path as given.
    name: String,
    /// The file name (`metadata.json`).
    file: String,
    src: SourceId,
    text: Arc<str>,
    /// `None` when the file could not be parsed (already reported).
    tree: Option<Json>,
    /// What it was read as (`world.files`).
    kind: Cell<&'static str>,
    /// SHA-256 and size of the bytes.
    record: crate::world::InputFile,
}

/// Reads the files of one directory of the layout (sorted by path) into one part.
pub(crate) fn load_group(files: &[(String, Result<Vec<u8>, String>)], opts: &LoadOptions) -> Part {
    let first = files.first().map_or("", |f| f.0.as_str());
    let place = place(first);
    let dir = place.as_ref().map_or(Dir::Unused, dir_of);
    let mut p: Option<Part> = None;
    let mut docs: Vec<Doc> = Vec::new();
    for (name, bytes) in files {
        let file = place.as_ref().map_or_else(String::new, |_| {
            std::path::Path::new(name).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
        });
        let part = |p: &mut Option<Part>, text: Arc<str>| -> SourceId {
            match p {
                Some(p) => p.add_file(name, text),
                None => {
                    let np = Part::new(name, text, &opts.region, opts.account.as_deref());
                    let src = np.src;
                    *p = Some(np);
                    src
                }
            }
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(message) => {
                let p = p.get_or_insert_with(|| Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref()));
                let (src, text) = (p.src, Arc::clone(&p.text));
                p.focus(name, src, text);
                p.error(message.clone(), None);
                continue;
            }
        };
        if !wanted(&dir, &file) {
            // Not read at all: other services' resource policies would look like key policies, and
            // a problem in a file keyproof does not use is no finding of keyproof's.
            let p = p.get_or_insert_with(|| Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref()));
            p.w.files.push(super::input_file(name, "iam-collect-unused", bytes));
            continue;
        }
        let (bom, text) = match super::decode(name, bytes) {
            Ok(t) => t,
            Err(e) => {
                let p = p.get_or_insert_with(|| Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref()));
                p.w.errors.push(e);
                p.w.files.push(super::input_file(name, "invalid-utf8", bytes));
                continue;
            }
        };
        let text: Arc<str> = Arc::from(text);
        let src = part(&mut p, Arc::clone(&text));
        let Some(pp) = p.as_mut() else { continue };
        pp.kind = "iam-collect-unused".into();
        if bom {
            super::bom_note(pp);
        }
        let tree = super::parse_text(pp, &text);
        if let Some(t) = &tree {
            check_duplicate_keys(src, t, "", &mut pp.w.diagnostics);
        }
        let kind = match (&tree, pp.kind.as_str()) {
            (None, "invalid-json") => "invalid-json",
            (None, _) => "not-json",
            (Some(_), _) => "iam-collect-unused",
        };
        docs.push(Doc {
            name: name.clone(),
            file,
            src,
            text,
            tree,
            kind: Cell::new(kind),
            record: super::input_file(name, "", bytes),
        });
    }
    let mut p = p.unwrap_or_else(|| Part::new(first, Arc::from(""), &opts.region, opts.account.as_deref()));
    if let Some(place) = &place {
        read_dir(&mut p, &dir, place, &docs);
    }
    for d in docs {
        let mut record = d.record;
        d.kind.get().clone_into(&mut record.kind);
        p.w.files.push(record);
    }
    super::dedupe_diagnostics(&mut p.w.diagnostics);
    p
}

/// Focuses a document and returns its tree when it parsed.
fn open<'d>(p: &mut Part, d: &'d Doc) -> Option<&'d Json> {
    p.focus(&d.name, d.src, Arc::clone(&d.text));
    d.tree.as_ref()
}

fn find(docs: &[Doc], file: &str) -> Option<usize> {
    docs.iter().position(|d| d.file == file && d.tree.is_some())
}

fn set_kind(docs: &[Doc], i: usize, kind: &'static str) {
    if let Some(d) = docs.get(i) {
        d.kind.set(kind);
    }
}

/// The object at the top of a file; another type is a `KP152` diagnostic.
fn object<'t>(p: &mut Part, d: &Doc, tree: &'t Json) -> Option<&'t Json> {
    if tree.is_object() {
        Some(tree)
    } else {
        p.diag("KP152", tree.span, "", format!("`{}` must be an object, not {}", d.file, tree.kind_name()));
        None
    }
}

/// The array at the top of a file; another type is a `KP152` diagnostic.
fn array<'t>(p: &mut Part, d: &Doc, tree: &'t Json) -> &'t [Json] {
    match tree.as_array() {
        Some(a) => a,
        None => {
            p.diag("KP152", tree.span, "", format!("`{}` must be an array, not {}", d.file, tree.kind_name()));
            &[]
        }
    }
}

fn origin(p: &Part, v: &Json, ptr: &str) -> Origin {
    Origin { source: Some(p.src), span: v.span, pointer: ptr.to_string(), tf_address: None }
}

fn account_of(arn: &str) -> Option<String> {
    Arn::parse(arn).map(|a| a.account).filter(|a| is_account_id(a)).map(str::to_string)
}

/// `p-…` from an Organizations policy ARN (`…:policy/o-abc/service_control_policy/p-1`).
fn policy_id_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

fn read_dir(p: &mut Part, dir: &Dir, place: &Place, docs: &[Doc]) {
    let dir_path = docs.first().map(|d| group_key(&d.name)).unwrap_or_default();
    match dir {
        Dir::Account(acct) => account_dir(p, acct, docs),
        Dir::Principal(acct, kind) => principal_dir(p, acct, kind, &dir_path, docs),
        Dir::ManagedPolicy(acct) => managed_policy_dir(p, acct, &dir_path, docs),
        Dir::Key { account, region, id } => key_dir(p, account, region, id, place, docs),
        Dir::Bucket(acct) => bucket_dir(p, acct, &dir_path, docs),
        Dir::Organization(org) => org_dir(p, org, docs),
        Dir::OrgPolicy(kind) => org_policy_dir(p, *kind, place, &dir_path, docs),
        Dir::Unused => {}
    }
}

/// Reads the files of a directory that are AWS CLI outputs placed there by the user
/// (`list-grants.json` in a key directory), with the directory's context.
fn cli_outputs(p: &mut Part, docs: &[Doc], known: &[&str]) {
    for i in 0..docs.len() {
        let Some(d) = docs.get(i) else { continue };
        if known.contains(&d.file.as_str()) {
            continue;
        }
        let Some(tree) = open(p, d) else { continue };
        let shape = recognize(tree).filter(|s| !matches!(s, Shape::Policy { .. } | Shape::Terraform));
        if let Some(shape) = shape {
            let cx = p.ctx.clone();
            super::awscli::load(p, shape, tree, &cx, "");
            set_kind(docs, i, shape.kind());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Accounts and IAM

/// `accounts/<acct>/organization.json`: `{"organizationId": "o-…"}`, the account is a member.
fn account_dir(p: &mut Part, acct: &str, docs: &[Doc]) {
    let Some(i) = find(docs, "organization.json") else { return };
    let Some(d) = docs.get(i) else { return };
    let Some(tree) = open(p, d) else { return };
    set_kind(docs, i, "iam-collect-account-organization");
    let Some(o) = object(p, d, tree) else { return };
    let Some(org_id) = p.str_at(o, "organizationId", "") else { return };
    p.w.touch_account(acct);
    let org = p.org();
    org.id = org_id;
    if !org.accounts.iter().any(|a| a == acct) {
        org.accounts.push(acct.to_string());
    }
}

/// The identity fields of a `metadata.json`: (object, arn). A missing file or `arn` is an
/// assumption: nothing else in the directory names the resource.
fn metadata<'d>(p: &mut Part, docs: &'d [Doc], dir_path: &str, what: &str) -> Option<(&'d Json, String)> {
    let Some(d) = find(docs, "metadata.json").and_then(|i| docs.get(i)) else {
        p.assume(format!("`{dir_path}` has no readable `metadata.json`: the {what} there was not read"));
        return None;
    };
    let tree = open(p, d)?;
    let m = object(p, d, tree)?;
    match p.str_at(m, "arn", "") {
        Some(arn) => Some((m, arn)),
        None => {
            p.diag("KP152", m.span, "", format!("`metadata.json` of the {what} in `{dir_path}` has no `arn`"));
            None
        }
    }
}

/// `inline-policies.json`: `[{"PolicyName", "PolicyDocument"}]` (the documents decoded); a
/// missing file means none (iam-collect deletes empty files).
fn inline_policies(p: &mut Part, docs: &[Doc], account: &str, holder: &str) -> Vec<PolicySlot> {
    let mut out = Vec::new();
    let Some(i) = find(docs, "inline-policies.json") else { return out };
    set_kind(docs, i, "iam-collect-inline-policies");
    let Some(d) = docs.get(i) else { return out };
    let Some(tree) = open(p, d) else { return out };
    for (n, entry) in array(p, d, tree).iter().enumerate() {
        let ep = format!("/{n}");
        if !entry.is_object() {
            p.diag("KP152", entry.span, &ep, format!("an inline policy must be an object, not {}", entry.kind_name()));
            continue;
        }
        out.extend(super::awscli::inline_policy(p, entry, &ep, account, holder));
    }
    out
}

/// A file holding an array of strings (`managed-policies.json`, `groups.json`); missing means none.
fn string_list(p: &mut Part, docs: &[Doc], file: &str, kind: &'static str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(i) = find(docs, file) else { return out };
    set_kind(docs, i, kind);
    let Some(d) = docs.get(i) else { return out };
    let Some(tree) = open(p, d) else { return out };
    for (n, it) in array(p, d, tree).iter().enumerate() {
        match &it.kind {
            JsonKind::String(s) => out.push(s.to_string()),
            // A group iam-collect could not map to an ARN is written as `null`.
            JsonKind::Null => {}
            _ => p.diag(
                "KP152",
                it.span,
                &format!("/{n}"),
                format!("`{file}` must list strings, not {}", it.kind_name()),
            ),
        }
    }
    out
}

/// `tags.json`: `{"key": "value"}`; missing means none.
fn tags(p: &mut Part, docs: &[Doc]) -> Option<Tags> {
    let i = find(docs, "tags.json")?;
    set_kind(docs, i, "iam-collect-tags");
    let d = docs.get(i)?;
    let tree = open(p, d)?;
    let o = object(p, d, tree)?;
    let mut out = Tags::new();
    for m in o.members() {
        match m.value.scalar_text() {
            Some(s) => {
                out.insert(m.key.to_string(), s);
            }
            None => p.diag(
                "KP152",
                m.value.span,
                &child("", &m.key),
                format!("tag `{}` must be a string, not {}", m.key, m.value.kind_name()),
            ),
        }
    }
    Some(out)
}

fn principal_dir(p: &mut Part, acct: &str, kind: &'static str, dir_path: &str, docs: &[Doc]) {
    let Some((m, arn)) = metadata(p, docs, dir_path, kind) else { return };
    if let Some(i) = find(docs, "metadata.json") {
        let k = match kind {
            "role" => "iam-collect-role-metadata",
            "user" => "iam-collect-user-metadata",
            _ => "iam-collect-group-metadata",
        };
        set_kind(docs, i, k);
    }
    let account = account_of(&arn).unwrap_or_else(|| acct.to_string());
    let name = p.str_at(m, "name", "").unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
    let path = p.str_at(m, "path", "").unwrap_or_else(|| "/".into());
    let id = p.str_at(m, "id", "");
    let boundary = p.str_at(m, "permissionBoundary", "");
    let _ = p.time_at(m, "created", "");
    let origin = origin(p, m, "");
    // An IAM directory comes from `get-account-authorization-details`, read to its last page.
    p.w.touch_account(&account);
    p.iam_pages.push(IamPage { account: account.clone(), truncated: false });
    match kind {
        "role" => {
            let trust = find(docs, "trust-policy.json").and_then(|i| {
                set_kind(docs, i, "iam-collect-trust-policy");
                let d = docs.get(i)?;
                let tree = open(p, d)?;
                let spec = DocSpec {
                    kind: DocKind::Trust,
                    name: "trust-policy".into(),
                    account: Some(account.clone()),
                    managed_name: None,
                    resource: Some(arn.clone()),
                };
                Some(p.policy_slot(tree, "", "trust-policy.json", spec))
            });
            if trust.is_none() {
                p.assume(format!("the trust policy of `{arn}` was not collected (no `trust-policy.json`)"));
            }
            let inline = inline_policies(p, docs, &account, &arn);
            let managed = string_list(p, docs, "managed-policies.json", "iam-collect-managed-policies");
            let tags = tags(p, docs).unwrap_or_default();
            p.w.roles.push(Role { arn, account, name, path, id, trust, inline, managed, boundary, tags, origin });
        }
        "user" => {
            let inline = inline_policies(p, docs, &account, &arn);
            let managed = string_list(p, docs, "managed-policies.json", "iam-collect-managed-policies");
            let groups = string_list(p, docs, "groups.json", "iam-collect-groups")
                .iter()
                .map(|g| g.rsplit('/').next().unwrap_or(g).to_string())
                .collect();
            let tags = tags(p, docs).unwrap_or_default();
            p.w.users.push(User { arn, account, name, path, id, inline, managed, groups, boundary, tags, origin });
        }
        _ => {
            let inline = inline_policies(p, docs, &account, &arn);
            let managed = string_list(p, docs, "managed-policies.json", "iam-collect-managed-policies");
            p.w.groups.push(Group { arn, account, name, inline, managed });
        }
    }
}

/// `iam/policy/<name>/` and `iam/aws/policy/<name>/`: the default version's document is
/// `current-policy.json` (iam-collect ≥ 0.1.81) or `policy.json` (earlier versions).
fn managed_policy_dir(p: &mut Part, acct: &str, dir_path: &str, docs: &[Doc]) {
    let Some((m, arn)) = metadata(p, docs, dir_path, "managed policy") else { return };
    if let Some(i) = find(docs, "metadata.json") {
        set_kind(docs, i, "iam-collect-policy-metadata");
    }
    let name = p.str_at(m, "name", "").unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
    let doc = find(docs, "current-policy.json").or_else(|| find(docs, "policy.json"));
    let slot = match doc {
        Some(i) => {
            set_kind(docs, i, "iam-collect-managed-policy");
            match docs.get(i).and_then(|d| open(p, d)) {
                Some(tree) => {
                    let spec = DocSpec {
                        kind: DocKind::Identity,
                        name: arn.clone(),
                        account: account_of(&arn),
                        managed_name: Some(name.clone()),
                        resource: Some(arn.clone()),
                    };
                    let file = docs.get(i).map_or("current-policy.json", |d| d.file.as_str()).to_string();
                    p.policy_slot(tree, "", &file, spec)
                }
                None => PolicySlot::Unknown(format!("the document of `{arn}` could not be read")),
            }
        }
        None => PolicySlot::Unknown(format!("the default version of `{arn}` was not collected")),
    };
    if account_of(&arn).is_some() {
        p.w.touch_account(acct);
    }
    p.w.managed_policies.entry(arn.clone()).or_insert(ManagedPolicy { arn, name, policy: slot });
}

// ---------------------------------------------------------------------------------------
// KMS and S3

/// `kms/<region>/key/<id>/`: `metadata.json` (`{id, arn}`), `policy.json` (the key policy as
/// an object; missing when access was denied), `tags.json`.
fn key_dir(p: &mut Part, account: &str, region: &str, id: &str, place: &Place, docs: &[Doc]) {
    let meta_arn = find(docs, "metadata.json").and_then(|i| {
        set_kind(docs, i, "iam-collect-key-metadata");
        let d = docs.get(i)?;
        let tree = open(p, d)?;
        let m = object(p, d, tree)?;
        p.str_at(m, "arn", "")
    });
    let parsed = meta_arn.as_deref().and_then(Arn::parse).filter(|a| a.service == "kms");
    let (acct, region, id) = match &parsed {
        Some(a) => (
            a.account.to_string(),
            a.region.to_string(),
            a.resource.strip_prefix("key/").unwrap_or(a.resource).to_string(),
        ),
        None => (account.to_string(), region.to_string(), id.to_string()),
    };
    let arn = match (&parsed, &meta_arn) {
        (Some(_), Some(a)) => a.clone(),
        _ => format!("arn:{}:kms:{region}:{acct}:key/{id}", place.partition),
    };
    p.ctx = PathContext {
        account: Some(acct.clone()),
        service: Some("kms".into()),
        region: Some(region),
        key_id: Some(id),
        ..PathContext::default()
    };
    p.touch_context_account();
    let _ = p.key_mut(&arn);
    if let Some(i) = find(docs, "policy.json") {
        set_kind(docs, i, "iam-collect-key-policy");
        if let Some(tree) = docs.get(i).and_then(|d| open(p, d)) {
            let start = p.w.diagnostics.len();
            let policy = p.read_policy(tree, "", "policy.json");
            attach_policy(p, &arn, &acct, policy, start);
        }
    }
    if let Some(t) = tags(p, docs) {
        p.key_mut(&arn).tags = Some(t);
    }
    cli_outputs(p, docs, &["metadata.json", "policy.json", "tags.json"]);
}

fn attach_policy(
    p: &mut Part,
    arn: &str,
    account: &str,
    policy: Result<crate::policy::model::Policy, String>,
    start: usize,
) {
    let slot = match policy {
        Ok(pol) => {
            let o = Origin { source: Some(pol.source), span: pol.span, pointer: pol.pointer.clone(), tf_address: None };
            let spec = DocSpec {
                kind: DocKind::KeyPolicy,
                name: "key-policy".into(),
                account: Some(account.to_string()),
                managed_name: None,
                resource: Some(arn.to_string()),
            };
            let slot = p.register(pol, spec, start);
            p.key_mut(arn).origin = o;
            slot
        }
        Err(reason) => {
            p.set_resource(start, Some(arn));
            PolicySlot::Unknown(reason)
        }
    };
    p.key_mut(arn).policy = Some(slot);
}

/// `s3/<bucket>/`: `metadata.json` (`{name, region, arn}`) and `encryption.json` (the `Rules`
/// of `get-bucket-encryption`). The bucket policy (`policy.json`) is not read.
fn bucket_dir(p: &mut Part, acct: &str, dir_path: &str, docs: &[Doc]) {
    let Some((m, arn)) = metadata(p, docs, dir_path, "bucket") else { return };
    if let Some(i) = find(docs, "metadata.json") {
        set_kind(docs, i, "iam-collect-bucket-metadata");
    }
    let name = p.str_at(m, "name", "").unwrap_or_else(|| arn.rsplit(':').next().unwrap_or_default().to_string());
    let o = origin(p, m, "");
    let mut bucket = Bucket { name, account: acct.to_string(), origin: o, ..Bucket::default() };
    if let Some(i) = find(docs, "encryption.json") {
        set_kind(docs, i, "iam-collect-bucket-encryption");
        if let Some(d) = docs.get(i) {
            if let Some(tree) = open(p, d) {
                if let Some(r) = array(p, d, tree).first() {
                    let dp = "/0/ApplyServerSideEncryptionByDefault";
                    if let Some(def) = p.obj_at(r, "ApplyServerSideEncryptionByDefault", "/0") {
                        bucket.sse_algorithm = p.str_at(def, "SSEAlgorithm", dp);
                        bucket.kms_key = p.str_at(def, "KMSMasterKeyID", dp);
                    }
                    bucket.bucket_key_enabled = p.bool_at(r, "BucketKeyEnabled", "/0");
                }
            }
        }
    }
    p.w.touch_account(acct);
    p.w.buckets.push(bucket);
}

// ---------------------------------------------------------------------------------------
// Organizations

/// Policy ids of an array of Organizations policy ARNs, registering the ones whose content
/// may not be in the inputs as unknown (the AWS managed full-access policies excepted: the
/// evaluator knows them).
fn attached(p: &mut Part, v: &Json, key: &str, ptr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for arn in p.str_list_at(v, key, ptr) {
        let id = policy_id_of(&arn);
        let kind = if arn.contains("/resource_control_policy/") {
            Some(DocKind::Rcp)
        } else if arn.contains("/service_control_policy/") {
            Some(DocKind::Scp)
        } else {
            None
        };
        if let Some(kind) = kind {
            if id != "p-FullAWSAccess" && id != "p-RCPFullAWSAccess" {
                let o = Origin { source: Some(p.src), ..Origin::default() };
                p.w.org_policies.entry(id.clone()).or_insert_with(|| OrgPolicy {
                    id: id.clone(),
                    name: id.clone(),
                    policy: PolicySlot::Unknown(format!("the content of `{id}` was not collected")),
                    kind,
                    origin: o,
                });
            }
        }
        out.push(id);
    }
    out
}

/// `metadata.json` (id, root, management account, enabled policy types), `accounts.json`
/// (parent and attached SCPs/RCPs per account) and `ous.json` (parent and attachments per OU
/// and root). The attachments are complete: iam-collect lists them per target.
fn org_dir(p: &mut Part, org_id: &str, docs: &[Doc]) {
    p.org().id = org_id.to_string();
    if let Some(i) = find(docs, "metadata.json") {
        set_kind(docs, i, "iam-collect-organization-metadata");
        if let Some(d) = docs.get(i) {
            if let Some(m) = open(p, d).and_then(|t| object(p, d, t)) {
                let id = p.str_at(m, "id", "");
                let root = p.str_at(m, "rootOu", "");
                let mgmt = p.str_at(m, "rootAccountId", "");
                let features = p.obj_at(m, "features", "").map(|f| {
                    let scp = p.bool_at(f, "SERVICE_CONTROL_POLICY", "/features").unwrap_or(false);
                    let rcp = p.bool_at(f, "RESOURCE_CONTROL_POLICY", "/features").unwrap_or(false);
                    (scp, rcp)
                });
                if let Some(m) = &mgmt {
                    p.w.touch_account(m);
                }
                let org = p.org();
                if let Some(id) = id {
                    org.id = id;
                }
                if let Some(r) = root {
                    if !org.roots.contains(&r) {
                        org.roots.push(r);
                    }
                }
                if let Some(m) = mgmt {
                    if !org.accounts.contains(&m) {
                        org.accounts.push(m.clone());
                    }
                    org.management_account = Some(m);
                }
                if let Some((scp, rcp)) = features {
                    org.scp_enabled = Some(scp);
                    org.rcp_enabled = Some(rcp);
                }
            }
        }
    }
    for (file, accounts) in [("accounts.json", true), ("ous.json", false)] {
        let Some(i) = find(docs, file) else { continue };
        set_kind(docs, i, if accounts { "iam-collect-organization-accounts" } else { "iam-collect-organization-ous" });
        let Some(d) = docs.get(i) else { continue };
        let Some(o) = open(p, d).and_then(|t| object(p, d, t)) else { continue };
        for m in o.members() {
            let ep = child("", &m.key);
            if !m.value.is_object() {
                p.diag(
                    "KP152",
                    m.value.span,
                    &ep,
                    format!("`{}` must map to an object, not {}", m.key, m.value.kind_name()),
                );
                continue;
            }
            let parent = p.str_at(&m.value, if accounts { "ou" } else { "parent" }, &ep);
            let mut policies = attached(p, &m.value, "scps", &ep);
            policies.extend(attached(p, &m.value, "rcps", &ep));
            let target = m.key.to_string();
            if accounts {
                p.w.touch_account(&target);
            }
            let org = p.org();
            org.attachments_complete = true;
            if accounts && !org.accounts.contains(&target) {
                org.accounts.push(target.clone());
            }
            match parent {
                Some(parent) => {
                    org.parents.insert(target.clone(), parent);
                }
                None if !accounts && !org.roots.contains(&target) && target.starts_with("r-") => {
                    org.roots.push(target.clone());
                }
                None => {}
            }
            let list = org.attachments.entry(target).or_default();
            for id in policies {
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
    }
}

/// `scps/<id>/` and `rcps/<id>/`: `metadata.json` (`{arn, name, description, awsManaged}`) and
/// `policy.json` (the content, as an object).
fn org_policy_dir(p: &mut Part, kind: DocKind, place: &Place, dir_path: &str, docs: &[Doc]) {
    let what = if kind == DocKind::Scp { "service control policy" } else { "resource control policy" };
    let (mut arn, mut name, mut aws_managed) = (None, None, None);
    if let Some(i) = find(docs, "metadata.json") {
        set_kind(docs, i, "iam-collect-org-policy-metadata");
        if let Some(d) = docs.get(i) {
            if let Some(m) = open(p, d).and_then(|t| object(p, d, t)) {
                arn = p.str_at(m, "arn", "");
                name = p.str_at(m, "name", "");
                aws_managed = p.bool_at(m, "awsManaged", "");
            }
        }
    }
    // The directory name is lowercased (`p-fullawsaccess`); the ARN keeps the id's case.
    let Some(id) = arn.as_deref().map(policy_id_of).or_else(|| place.rest.get(1).cloned()) else { return };
    if arn.is_none() {
        p.assume(format!("`{dir_path}` has no `metadata.json` with an `arn`: the {what} is read as `{id}`"));
    }
    let name = name.unwrap_or_else(|| id.clone());
    let mut o = Origin { source: Some(p.src), ..Origin::default() };
    let slot = match find(docs, "policy.json") {
        Some(i) => {
            set_kind(docs, i, if kind == DocKind::Scp { "iam-collect-scp" } else { "iam-collect-rcp" });
            match docs.get(i).and_then(|d| open(p, d)) {
                Some(tree) => {
                    o = origin(p, tree, "");
                    let spec = DocSpec {
                        kind,
                        name: name.clone(),
                        account: arn.as_deref().and_then(account_of),
                        managed_name: if aws_managed == Some(true) { Some(name.clone()) } else { None },
                        resource: Some(arn.clone().unwrap_or_else(|| id.clone())),
                    };
                    p.policy_slot(tree, "", "policy.json", spec)
                }
                None => PolicySlot::Unknown(format!("the content of `{id}` could not be read")),
            }
        }
        None => PolicySlot::Unknown(format!("the content of `{id}` was not collected")),
    };
    p.w.org_policies.insert(id.clone(), OrgPolicy { id, name, policy: slot, kind, origin: o });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_in_the_layout() {
        let p = place("data/aws/aws/accounts/111122223333/iam/role/service-role%2fdeployer/trust-policy.json").unwrap();
        assert_eq!(p.partition, "aws");
        assert_eq!(p.scope, Scope::Account("111122223333".into()));
        assert_eq!(p.rest, vec!["iam", "role", "service-role%2fdeployer"]);
        assert_eq!(p.file, "trust-policy.json");
        assert_eq!(dir_of(&p), Dir::Principal("111122223333".into(), "role"));
        let p = place("/x/aws/aws-cn/organizations/o-abc123/scps/p-fullawsaccess/policy.json").unwrap();
        assert_eq!(p.scope, Scope::Organization("o-abc123".into()));
        assert_eq!(dir_of(&p), Dir::OrgPolicy(DocKind::Scp));
        let p = place("aws/aws/accounts/111122223333/kms/eu-west-1/key/1234/metadata.json").unwrap();
        assert_eq!(
            dir_of(&p),
            Dir::Key { account: "111122223333".into(), region: "eu-west-1".into(), id: "1234".into() }
        );
        assert_eq!(dir_of(&place("aws/aws/accounts/111122223333/sqs/us-east-1/q/policy.json").unwrap()), Dir::Unused);
        assert_eq!(dir_of(&place("aws/aws/indexes/accounts-to-orgs.json").unwrap()), Dir::Unused);
        assert!(place("snap/111122223333/kms/eu-west-1/keys/k/list-grants.json").is_none());
        assert!(place("aws/aws/accounts/not-an-account/x.json").is_none());
        assert_eq!(group_key("a/b/c.json"), "a/b");
    }

    #[test]
    fn policy_ids_keep_their_case() {
        assert_eq!(
            policy_id_of("arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"),
            "p-FullAWSAccess"
        );
        assert_eq!(policy_id_of("p-1"), "p-1");
    }
}
