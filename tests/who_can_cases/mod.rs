//! The who-can fixture format (`fixtures/who-can/**/case.json`) and its loader, shared by
//! `tests/who_can.rs` (the answers) and `tests/prove.rs` (proof by execution).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keyproof::ingest::{load_texts, LoadOptions};
use keyproof::world::World;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub documents: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub options: Options,
    #[serde(default)]
    pub key: Option<String>,
    pub queries: Vec<CaseQuery>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Options {
    pub account: Option<String>,
    pub key_arn: Option<String>,
    pub org_id: Option<String>,
    #[serde(default)]
    pub org_accounts: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    pub action: String,
    #[serde(default)]
    pub direct: bool,
    pub expect: Expect,
    /// Requests under which, for every direct entry, the entry's DNF must hold exactly when the
    /// evaluator allows the entry's caller.
    #[serde(default)]
    pub dnf_contexts: Vec<DnfContext>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnfContext {
    /// Encryption context pairs (exact keys).
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Other context keys (single values).
    #[serde(default)]
    pub conditions: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The exact set of principals.
    pub principals: Vec<String>,
    /// When given: exactly these entries are unconditional.
    #[serde(default)]
    pub unconditional: Option<Vec<String>>,
    /// When given: exactly these entries are transitive.
    #[serde(default)]
    pub transitive: Option<Vec<String>>,
}

/// Loads a scenario's world: its files (paths relative to the scenario) and inline documents.
pub fn load_case(dir: &Path, case: &Case) -> World {
    let mut texts = Vec::new();
    for f in &case.files {
        let p = dir.join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        texts.push((p.display().to_string(), text));
    }
    for (name, doc) in &case.documents {
        let text = serde_json::to_string_pretty(doc).unwrap();
        texts.push((dir.join(name).display().to_string(), text));
    }
    let opts = LoadOptions {
        account: case.options.account.clone(),
        key_arn: case.options.key_arn.clone(),
        org_id: case.options.org_id.clone(),
        org_accounts: case.options.org_accounts.clone(),
        ..LoadOptions::default()
    };
    load_texts(&texts, &opts)
}

/// Every directory under `fixtures/who-can` holding a `case.json`, sorted.
pub fn scenarios() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if dir.join("case.json").exists() {
            out.push(dir.to_path_buf());
        }
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(Path::new("fixtures/who-can"), &mut v);
    v.sort();
    v
}
