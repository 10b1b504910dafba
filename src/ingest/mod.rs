//! Reading inputs into one [`World`] (inputs.md, cli.md "Inputs").
//!
//! Paths are files, directories (walked recursively for `*.json`), quoted glob patterns, or
//! `-` for stdin. Every file is read and parsed on its own, in parallel, into a partial
//! result with its own source map and policy table; the partial results are then merged in
//! sorted path order, so the world (source ids, policy ids, diagnostics) is the same on every
//! run. Nothing in here panics on input: an unreadable or unrecognised file is an
//! `errors` entry, a malformed policy a diagnostic, and every other input is still loaded.

mod awscli;
pub mod iam_collect;
mod merge;
mod part;
pub mod recognize;
pub mod snapshot;
mod terraform;
mod time;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use self::part::Part;
use self::recognize::{recognize, Shape, NOT_RECOGNISED};
use crate::policy::err::{PolicyDiagnostic, Severity};
use crate::policy::json;
use crate::policy::model::{DocKind, Policy};
use crate::policy::parse::{build_policy, check_duplicate_keys};
use crate::source::Span;
use crate::world::{InputError, InputFile, World};

/// Files larger than this are not read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The name stdin is known by.
pub const STDIN_NAME: &str = "<stdin>";

/// Context for loose documents, which carry no account of their own (cli.md "Inputs").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--account`: the account that owns loose key policies and identity policies.
    pub account: Option<String>,
    /// `--region` (default `us-east-1`).
    pub region: String,
    /// `--key-arn`: the key a single loose key policy belongs to.
    pub key_arn: Option<String>,
    /// `--org-id`.
    pub org_id: Option<String>,
    /// `--org-account`: accounts of the caller's organization.
    pub org_accounts: Vec<String>,
    /// `--tf-dir`: the Terraform sources of the plans (default: each plan's own directory,
    /// when it holds `*.tf` files).
    pub tf_dir: Option<String>,
    /// Only this key (its id) is asked about: in a snapshot directory, the directories of the
    /// other keys (`ACCOUNT/kms/REGION/keys/ID/`) are not read. Set by `who-can --key`.
    pub only_key: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            account: None,
            region: "us-east-1".into(),
            key_arn: None,
            org_id: None,
            org_accounts: Vec::new(),
            tf_dir: None,
            only_key: None,
        }
    }
}

/// Loads every input into one world. Never panics on input; every unreadable/unrecognised
/// file becomes a `world.errors` entry, every policy problem a `world.diagnostics` entry;
/// other inputs are still loaded.
#[must_use]
pub fn load(paths: &[String], opts: &LoadOptions) -> World {
    let mut errors = Vec::new();
    let mut inputs = collect_inputs(paths, &mut errors);
    if let Some(id) = &opts.only_key {
        inputs.retain(|i| !other_key_file(i.name(), id));
    }
    let units = units(inputs, |i| i.name());
    let parts: Vec<Part> = units
        .par_iter()
        .map(|unit| match unit.as_slice() {
            [one] if iam_collect::place(one.name()).is_none() => guarded(one.name(), opts, || read_input(one, opts)),
            many => {
                let name = many.first().map_or("", |i| i.name());
                guarded(name, opts, || {
                    let files: Vec<(String, Result<Vec<u8>, String>)> =
                        many.iter().map(|i| (i.name().to_string(), read_bytes(i))).collect();
                    iam_collect::load_group(&files, opts)
                })
            }
        })
        .collect();
    merge::merge(parts, errors, opts)
}

/// In the snapshot layout (`ACCOUNT/kms/REGION/keys/ID/FILE`), a file of a key other than `id`.
fn other_key_file(name: &str, id: &str) -> bool {
    let parts: Vec<&str> = name.rsplit(['/', '\\']).take(6).collect();
    matches!(parts.as_slice(), [_, key, "keys", _, "kms", account]
        if *key != id && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
}

/// Same, for in-memory documents (name, text) — used by tests and stdin. The name plays the
/// role of the path (a name in the snapshot or iam-collect layout gets its context).
#[must_use]
pub fn load_texts(texts: &[(String, String)], opts: &LoadOptions) -> World {
    let mut sorted: Vec<&(String, String)> = texts.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let units = units(sorted, |t| t.0.as_str());
    let parts: Vec<Part> = units
        .par_iter()
        .map(|unit| match unit.as_slice() {
            [(name, text)] if iam_collect::place(name).is_none() => {
                guarded(name, opts, || load_bytes(name, text.as_bytes(), opts))
            }
            many => {
                let name = many.first().map_or("", |t| t.0.as_str());
                guarded(name, opts, || {
                    let files: Vec<(String, Result<Vec<u8>, String>)> =
                        many.iter().map(|(n, t)| (n.clone(), Ok(t.as_bytes().to_vec()))).collect();
                    iam_collect::load_group(&files, opts)
                })
            }
        })
        .collect();
    merge::merge(parts, Vec::new(), opts)
}

/// Splits sorted inputs into units read as one part: a file on its own, or all the files of one
/// directory of the iam-collect layout (a role's `metadata.json`, `trust-policy.json`, … only
/// make sense together). Units keep the order of their first file, so merging stays
/// deterministic.
fn units<T>(items: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut dirs: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for item in items {
        let dir = iam_collect::place(name(&item)).map(|_| iam_collect::group_key(name(&item)));
        match dir {
            Some(d) => match dirs.get(&d) {
                Some(&i) => {
                    if let Some(u) = out.get_mut(i) {
                        u.push(item);
                    }
                }
                None => {
                    dirs.insert(d, out.len());
                    out.push(vec![item]);
                }
            },
            None => out.push(vec![item]),
        }
    }
    out
}

/// Runs the per-file work so that a bug in one file becomes an error entry for that file.
fn guarded(name: &str, opts: &LoadOptions, f: impl FnOnce() -> Part) -> Part {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(p) => p,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let mut p = Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref());
            p.error(format!("internal error while reading this file: {what}"), None);
            p
        }
    }
}

// ---------------------------------------------------------------------------------------
// Paths

enum Input {
    File { name: String, path: PathBuf },
    Stdin,
}

impl Input {
    fn name(&self) -> &str {
        match self {
            Input::File { name, .. } => name,
            Input::Stdin => STDIN_NAME,
        }
    }
}

fn input_error(file: &str, message: impl Into<String>) -> InputError {
    InputError { file: file.to_string(), message: message.into(), line: None, column: None }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "path does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            let mut c = s.chars();
            c.next().map_or(s.clone(), |f| f.to_lowercase().chain(c).collect())
        }
    }
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// Expands the command-line paths into a sorted, de-duplicated list of files.
fn collect_inputs(paths: &[String], errors: &mut Vec<InputError>) -> Vec<Input> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut visited = BTreeSet::new();
    let mut stdin = false;
    for p in paths {
        if p == "-" {
            stdin = true;
            continue;
        }
        let path = Path::new(p);
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let before = files.len();
                walk(path, &mut visited, &mut files, errors);
                if files.len() == before {
                    errors.push(input_error(p, "directory holds no `*.json` file"));
                }
            }
            Ok(_) => files.push((p.clone(), path.to_path_buf())),
            Err(_) if is_glob(p) => expand_glob(p, &mut visited, &mut files, errors),
            Err(e) => errors.push(input_error(p, io_message(&e))),
        }
    }
    files.sort();
    let mut seen = BTreeSet::new();
    let mut out: Vec<Input> = Vec::new();
    for (name, path) in files {
        let canon = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(canon) {
            out.push(Input::File { name, path });
        }
    }
    if stdin {
        out.push(Input::Stdin);
    }
    out
}

fn expand_glob(
    pattern: &str,
    visited: &mut BTreeSet<PathBuf>,
    files: &mut Vec<(String, PathBuf)>,
    errors: &mut Vec<InputError>,
) {
    let entries = match glob::glob(pattern) {
        Ok(e) => e,
        Err(e) => {
            errors.push(input_error(pattern, format!("invalid glob pattern: {}", e.msg)));
            return;
        }
    };
    let mut any = false;
    for entry in entries {
        any = true;
        match entry {
            Ok(path) if path.is_dir() => walk(&path, visited, files, errors),
            Ok(path) => files.push((path.display().to_string(), path)),
            Err(e) => errors.push(input_error(&e.path().display().to_string(), io_message(e.error()))),
        }
    }
    if !any {
        errors.push(input_error(pattern, "no file matches the pattern"));
    }
}

/// Walks a directory recursively in name order, collecting `*.json` files; hidden entries
/// are skipped and a directory reached twice (symbolic-link loop) is walked once.
fn walk(dir: &Path, visited: &mut BTreeSet<PathBuf>, files: &mut Vec<(String, PathBuf)>, errors: &mut Vec<InputError>) {
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !visited.insert(canon) {
        return;
    }
    let rd = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            errors.push(input_error(&dir.display().to_string(), io_message(&e)));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, visited, files, errors),
            Ok(m) if m.is_file() => {
                let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
                if json {
                    files.push((path.display().to_string(), path));
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(input_error(&path.display().to_string(), io_message(&e))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading one file

fn read_limited(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.by_ref().take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

fn failed(name: &str, opts: &LoadOptions, message: String) -> Part {
    let mut p = Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref());
    p.error(message, None);
    p
}

fn too_large() -> String {
    format!("file is larger than the `{} MiB` input limit: it was not read", MAX_FILE_BYTES >> 20)
}

fn read_input(input: &Input, opts: &LoadOptions) -> Part {
    match read_bytes(input) {
        Ok(b) => load_bytes(input.name(), &b, opts),
        Err(message) => failed(input.name(), opts, message),
    }
}

/// The bytes of an input, or the lowercase reason they could not be read.
fn read_bytes(input: &Input) -> Result<Vec<u8>, String> {
    let bytes = match input {
        Input::File { path, .. } => {
            if fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
                return Err(too_large());
            }
            fs::File::open(path).and_then(read_limited)
        }
        Input::Stdin => read_limited(std::io::stdin().lock()),
    };
    match bytes {
        Ok(b) if b.len() as u64 > MAX_FILE_BYTES => Err(too_large()),
        Ok(b) => Ok(b),
        Err(e) => Err(io_message(&e)),
    }
}

/// Line and column (1-based, in characters) just after `prefix`.
fn end_position(prefix: &str) -> (u32, u32) {
    let line = prefix.bytes().filter(|&b| b == b'\n').count() + 1;
    let last = prefix.rfind('\n').map_or(prefix, |i| &prefix[i + 1..]);
    let col = last.chars().count() + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX))
}

/// The SHA-256 of bytes as lowercase hex (the `sha256` of an [`InputFile`]).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The record of one input file.
pub(crate) fn input_file(name: &str, kind: &str, bytes: &[u8]) -> InputFile {
    InputFile { path: name.to_string(), kind: kind.to_string(), sha256: sha256_hex(bytes), size: bytes.len() as u64 }
}

/// The text of a file: UTF-8 with an optional byte-order mark (`Ok((bom, text))`), or the
/// error for invalid UTF-8, with its position.
pub(crate) fn decode<'b>(name: &str, bytes: &'b [u8]) -> Result<(bool, &'b str), InputError> {
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    match std::str::from_utf8(body) {
        Ok(t) => Ok((bom, t)),
        Err(e) => {
            let valid = body.get(..e.valid_up_to()).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
            let (line, column) = end_position(valid);
            Err(InputError {
                file: name.to_string(),
                message: format!(
                    "invalid UTF-8 at byte {}: inputs must be UTF-8 JSON",
                    e.valid_up_to() + usize::from(bom) * 3
                ),
                line: Some(line),
                column: Some(column),
            })
        }
    }
}

/// The note for a byte-order mark at the start of the focused file.
pub(crate) fn bom_note(p: &mut Part) {
    p.w.diagnostics.push(PolicyDiagnostic {
        code: "KP150",
        message: "file starts with a UTF-8 byte-order mark; it was skipped".into(),
        source: p.src,
        span: Span::new(0, 0),
        pointer: String::new(),
        severity: Some(Severity::Note),
        resource: None,
    });
}

/// Parses the focused file's text; an empty file, a file that is not JSON or invalid JSON is
/// reported (and `p.kind` set) and gives `None`.
pub(crate) fn parse_text(p: &mut Part, text: &str) -> Option<json::Json> {
    let first = text.trim_start_matches([' ', '\t', '\n', '\r']).chars().next();
    match first {
        None => {
            p.kind = "not-json".into();
            p.error("not JSON: the file is empty", None);
            None
        }
        Some('{' | '[') => match json::parse(text) {
            Ok(tree) => Some(tree),
            Err(e) => {
                p.kind = "invalid-json".into();
                p.diag("KP150", e.span, "", format!("invalid JSON: {}", e.message));
                None
            }
        },
        Some(_) => {
            p.kind = "not-json".into();
            p.error("not JSON: the file does not start with `{` or `[`", None);
            None
        }
    }
}

/// Reads one document from its bytes into a partial world.
fn load_bytes(name: &str, bytes: &[u8], opts: &LoadOptions) -> Part {
    let (bom, text) = match decode(name, bytes) {
        Ok(t) => t,
        Err(e) => {
            let mut p = Part::new(name, Arc::from(""), &opts.region, opts.account.as_deref());
            p.w.errors.push(e);
            p.w.files.push(input_file(name, "invalid-utf8", bytes));
            return p;
        }
    };
    let mut p = Part::new(name, Arc::from(text), &opts.region, opts.account.as_deref());
    p.tf_dir.clone_from(&opts.tf_dir);
    if bom {
        bom_note(&mut p);
    }
    if let Some(tree) = parse_text(&mut p, text) {
        interpret(&mut p, &tree);
    }
    dedupe_diagnostics(&mut p.w.diagnostics);
    let kind = p.kind.clone();
    p.w.files.push(input_file(name, &kind, bytes));
    p
}

/// Drops repeated diagnostics (a duplicate key inside an IAM document is seen both by the
/// whole-file check and by the policy reader), keeping the first and any resource.
pub(crate) fn dedupe_diagnostics(diags: &mut Vec<PolicyDiagnostic>) {
    let mut out: Vec<PolicyDiagnostic> = Vec::with_capacity(diags.len());
    let mut seen: std::collections::BTreeMap<_, usize> = std::collections::BTreeMap::new();
    for d in diags.drain(..) {
        let k = (d.code, d.source, d.span, d.message.clone());
        match seen.get(&k) {
            Some(&i) => {
                if let Some(prev) = out.get_mut(i) {
                    if prev.resource.is_none() {
                        prev.resource = d.resource;
                    }
                }
            }
            None => {
                seen.insert(k, out.len());
                out.push(d);
            }
        }
    }
    *diags = out;
}

/// Dispatches a parsed document by its shape.
fn interpret(p: &mut Part, tree: &json::Json) {
    let Some(shape) = recognize(tree) else {
        p.error(NOT_RECOGNISED, None);
        return;
    };
    p.kind = shape.kind().into();
    match shape {
        Shape::Policy { resource } => policy_file(p, tree, resource),
        Shape::Terraform => {
            check_duplicate_keys(p.src, tree, "", &mut p.w.diagnostics);
            terraform::load_terraform(p, tree);
        }
        other => {
            check_duplicate_keys(p.src, tree, "", &mut p.w.diagnostics);
            let cx = p.ctx.clone();
            awscli::load(p, other, tree, &cx, "");
        }
    }
}

/// True when every action of every statement is an `sts:` action.
fn is_trust(policy: &Policy) -> bool {
    !policy.statements.is_empty()
        && policy.statements.iter().all(|s| {
            !s.action.negated
                && !s.action.items.is_empty()
                && s.action.items.iter().all(|a| a.value.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sts:")))
        })
}

/// A bare policy document: a key policy (in a key directory, or a loose resource policy), a
/// trust policy, or a loose identity policy.
fn policy_file(p: &mut Part, tree: &json::Json, resource: bool) {
    let start = p.w.diagnostics.len();
    let policy = if tree.get("Statement").is_none() && tree.get("Effect").is_some() {
        crate::policy::parse::build_single_statement(p.src, tree, p.text.len(), &mut p.w.diagnostics)
    } else {
        build_policy(p.src, tree, "", p.text.len(), &mut p.w.diagnostics)
    };
    if p.ctx.key_arn().is_some() || (resource && !is_trust(&policy)) {
        p.kind = "key-policy".into();
        p.touch_context_account();
        p.attach_key_policy(Ok(policy), start);
        return;
    }
    if resource {
        p.kind = "trust-policy".into();
        let spec = part::DocSpec {
            kind: DocKind::Trust,
            name: p.path.clone(),
            account: p.account_opt.clone(),
            managed_name: None,
            resource: None,
        };
        if let crate::world::PolicySlot::Known(id) = p.register(policy, spec, start) {
            p.w.loose_trust.push(id);
        }
        return;
    }
    p.kind = "identity-policy".into();
    let (account, note) = p.loose_account(None);
    if let Some(n) = note {
        p.assume(n);
    }
    p.w.touch_account(&account);
    let spec = part::DocSpec {
        kind: DocKind::Identity,
        name: p.path.clone(),
        account: Some(account),
        managed_name: None,
        resource: None,
    };
    if let crate::world::PolicySlot::Known(id) = p.register(policy, spec, start) {
        p.w.loose_identity.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, text: &str) -> World {
        load_texts(&[(name.to_string(), text.to_string())], &LoadOptions::default())
    }

    #[test]
    fn bom_is_a_note_and_the_document_still_loads() {
        let w = one("k.json", "\u{feff}{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}");
        let d = w.diagnostics.iter().find(|d| d.code == "KP150").unwrap();
        assert_eq!(d.severity, Some(Severity::Note));
        assert_eq!(w.keys.len(), 1);
        assert!(w.errors.is_empty());
    }

    #[test]
    fn not_json_and_unrecognised_are_errors() {
        let w = one("a.json", "hello");
        assert!(w.errors[0].message.starts_with("not JSON"));
        let w = one("a.json", "{\"notes\": 1}");
        assert_eq!(w.errors[0].message, NOT_RECOGNISED);
        assert_eq!(w.files[0].kind, "unrecognised");
        let w = one("a.json", "{\"notes\": ");
        assert!(w.errors.is_empty());
        assert_eq!(w.diagnostics[0].code, "KP150");
    }

    #[test]
    fn trust_and_identity_policies() {
        let w = one(
            "t.json",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        assert_eq!(w.loose_trust.len(), 1);
        assert!(w.keys.is_empty());
        let w = one("i.json", r#"{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#);
        assert_eq!(w.loose_identity.len(), 1);
        assert!(w.assumptions.iter().any(|a| a.contains("assumed `111122223333`")));
    }

    #[test]
    fn a_panic_while_reading_becomes_an_error_entry() {
        let opts = LoadOptions::default();
        let p = guarded("boom.json", &opts, || panic!("bug `x`"));
        assert_eq!(p.w.errors[0].message, "internal error while reading this file: bug `x`");
        let w = merge::merge(vec![p], Vec::new(), &opts);
        assert_eq!(w.errors[0].file, "boom.json");
    }

    #[test]
    fn end_positions() {
        assert_eq!(end_position(""), (1, 1));
        assert_eq!(end_position("ab\ncé"), (2, 3));
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
