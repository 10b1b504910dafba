//! The decision corpus: `fixtures/corpus/<scenario>/case.json`, each request citing the rule of
//! semantics.md it encodes. Decisions and reason sets are compared; messages never are.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keyproof::eval::authorize::authorize;
use keyproof::eval::request::{build, reason_ref, RequestSpec};
use keyproof::ingest::{load_texts, LoadOptions};
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
    requests: Vec<CaseRequest>,
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
struct CaseRequest {
    cite: String,
    description: String,
    decision: String,
    #[serde(default)]
    reasons: Option<Vec<String>>,
    #[serde(flatten)]
    spec: RequestSpec,
}

/// Loads a scenario's world: its files (paths relative to the scenario) and inline documents.
pub fn load_case(
    dir: &Path,
    case_files: &[String],
    documents: &BTreeMap<String, serde_json::Value>,
    opts: &LoadOptions,
) -> World {
    let mut texts = Vec::new();
    for f in case_files {
        let p = dir.join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        texts.push((p.display().to_string(), text));
    }
    for (name, doc) in documents {
        let text = serde_json::to_string_pretty(doc).unwrap();
        texts.push((dir.join(name).display().to_string(), text));
    }
    load_texts(&texts, opts)
}

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("fixtures/corpus")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn decision_corpus() {
    let mut failures = Vec::new();
    let (mut n_cases, mut n_requests) = (0, 0);
    for dir in scenarios() {
        let text = std::fs::read_to_string(dir.join("case.json")).unwrap();
        let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert!(!case.description.is_empty());
        let opts = LoadOptions {
            account: case.options.account.clone(),
            key_arn: case.options.key_arn.clone(),
            org_id: case.options.org_id.clone(),
            org_accounts: case.options.org_accounts.clone(),
            ..LoadOptions::default()
        };
        let world = load_case(&dir, &case.files, &case.documents, &opts);
        assert!(world.errors.is_empty(), "{}: {:?}", dir.display(), world.errors);
        n_cases += 1;
        for (i, r) in case.requests.iter().enumerate() {
            n_requests += 1;
            assert!(!r.cite.is_empty() && !r.description.is_empty());
            let req = match build(&world, &r.spec) {
                Ok(req) => req,
                Err(e) => {
                    failures.push(format!("{} #{i} ({}): cannot build request: {e}", dir.display(), r.description));
                    continue;
                }
            };
            let resp = authorize(&world, &req);
            let got = resp.decision.as_str();
            if got != r.decision {
                failures.push(format!(
                    "{} #{i} [{}] {}: expected {}, got {got}: {} {:?}",
                    dir.display(),
                    r.cite,
                    r.description,
                    r.decision,
                    resp.explanation,
                    resp.notes
                ));
                continue;
            }
            if let Some(expected) = &r.reasons {
                let got: BTreeSet<String> = resp.reasons.iter().map(|x| reason_ref(&world, x)).collect();
                let want: BTreeSet<String> = expected.iter().cloned().collect();
                if !want.is_subset(&got) {
                    failures.push(format!(
                        "{} #{i} {}: reasons {got:?} do not include {want:?}",
                        dir.display(),
                        r.description
                    ));
                }
            }
        }
    }
    println!("decision corpus: {n_cases} scenarios, {n_requests} requests");
    assert!(n_cases >= 30 && n_requests >= 150, "corpus too small: {n_cases} scenarios, {n_requests} requests");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
