//! `prove` on every who-can fixture (`fixtures/who-can/**/case.json`): every witness replays
//! as its principal in the software KMS and succeeds, every counter-example fails with the
//! predicted exception, transitive entries replay their path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code, reason = "test harness")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keyproof::eval::request::resolve_key;
use keyproof::ingest::{load_texts, LoadOptions};
use keyproof::sim::prove::prove;
use keyproof::solve::{who_can, Query};
use keyproof::world::World;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    documents: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    options: Options,
    #[serde(default)]
    key: Option<String>,
    queries: Vec<CaseQuery>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    account: Option<String>,
    key_arn: Option<String>,
    org_id: Option<String>,
    #[serde(default)]
    org_accounts: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseQuery {
    action: String,
    #[serde(default)]
    direct: bool,
    expect: Expect,
    /// Requests under which, for every direct entry, the entry's DNF must hold exactly when the
    /// evaluator allows the entry's caller.
    #[serde(default)]
    dnf_contexts: Vec<DnfContext>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DnfContext {
    /// Encryption context pairs (exact keys).
    #[serde(default)]
    context: BTreeMap<String, String>,
    /// Other context keys (single values).
    #[serde(default)]
    conditions: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The exact set of principals.
    principals: Vec<String>,
    /// When given: exactly these entries are unconditional.
    #[serde(default)]
    unconditional: Option<Vec<String>>,
    /// When given: exactly these entries are transitive.
    #[serde(default)]
    transitive: Option<Vec<String>>,
}

/// Loads a scenario's world: its files (paths relative to the scenario) and inline documents.
fn load_case(dir: &Path, case: &Case) -> World {
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
fn scenarios() -> Vec<PathBuf> {
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

#[test]
fn prove_every_who_can_fixture() {
    let mut failures = Vec::new();
    let (mut n_claims, mut n_steps) = (0, 0);
    for dir in scenarios() {
        let text = std::fs::read_to_string(dir.join("case.json")).unwrap();
        let case: Case = serde_json::from_str(&text).unwrap();
        let world = load_case(&dir, &case);
        let key = case
            .key
            .as_deref()
            .or(case.options.key_arn.as_deref())
            .map_or_else(|| resolve_key(&world, None), |k| resolve_key(&world, Some(k)))
            .unwrap()
            .0;
        for q in &case.queries {
            let ans = who_can(&world, &Query { key, action: q.action.clone(), direct_only: q.direct });
            for p in prove(&world, key, &ans) {
                n_claims += 1;
                n_steps += p.steps.len();
                if !p.proved {
                    failures.push(format!(
                        "{} {}: {} {}: {:?}",
                        dir.display(),
                        q.action,
                        p.principal,
                        p.claim,
                        p.steps
                    ));
                }
            }
        }
    }
    println!("prove: {n_claims} claims, {n_steps} steps");
    assert!(n_claims > 20, "too few claims: {n_claims}");
    assert!(failures.is_empty(), "{} unproved:\n{}", failures.len(), failures.join("\n"));
}
