//! `keyproof diff`: the fixtures of `fixtures/diff/` (widening a condition, adding a
//! cross-account statement, removing IAM delegation, a new finding, a pure reformatting).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test helpers may panic")]

use std::process::{Command, Output};

use serde_json::Value;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn diff(old: &str, new: &str, extra: &[&str]) -> Output {
    let old = format!("fixtures/diff/{old}.json");
    let new = format!("fixtures/diff/{new}.json");
    let mut args = vec!["diff", old.as_str(), "--against", new.as_str(), "--key-arn", KEY];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run keyproof")
}

fn json(old: &str, new: &str) -> (i32, Value) {
    let o = diff(old, new, &["--format", "json"]);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code().expect("exit code"), v)
}

fn changes<'a>(v: &'a Value, list: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["change"].as_str().unwrap(), c["action"].as_str().unwrap(), c["principal"].as_str().unwrap()))
        .collect()
}

#[test]
fn reformatting_changes_nothing() {
    let (code, v) = json("base", "reformatted");
    assert_eq!(code, 0);
    for list in ["new_access", "removed_access", "changed_access", "new_findings", "resolved_findings", "lockouts"] {
        assert!(v[list].as_array().unwrap().is_empty(), "{list}: {}", v[list]);
    }
    let md = diff("base", "reformatted", &["--format", "markdown"]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("No change in access or findings."));
}

#[test]
fn widened_condition_is_new_access_with_a_distinguishing_witness() {
    let (code, v) = json("base", "widened-condition");
    assert_eq!(code, 1);
    let app = "arn:aws:iam::111122223333:role/App";
    assert_eq!(changes(&v, "new_access"), vec![("widened", "kms:Decrypt", app), ("widened", "kms:Encrypt", app)]);
    let w = &v["new_access"][0]["witness"]["context"]["kms:EncryptionContext:tenant"];
    assert_eq!(w, "globex");
    assert_eq!(v["new_access"][0]["old_conditions"], "kms:EncryptionContext:tenant = \"acme\"");
    // The other way round it is a narrowing: no new access.
    let (code, v) = json("widened-condition", "base");
    assert_eq!(code, 0);
    assert!(v["new_access"].as_array().unwrap().is_empty());
    assert_eq!(v["changed_access"].as_array().unwrap().len(), 2);
}

#[test]
fn cross_account_statement_is_new_access() {
    let (code, v) = json("base", "cross-account");
    assert_eq!(code, 1);
    assert_eq!(changes(&v, "new_access"), vec![("added", "kms:Decrypt", "arn:aws:iam::444455556666:root")]);
    let c = &v["new_access"][0];
    assert_eq!(c["conditions"], "always");
    assert!(c["path"][0]["ref"].as_str().unwrap().contains("#Partner"));
    let (code, v) = json("cross-account", "base");
    assert_eq!(code, 0);
    assert_eq!(changes(&v, "removed_access"), vec![("removed", "kms:Decrypt", "arn:aws:iam::444455556666:root")]);
}

#[test]
fn removing_iam_delegation_loses_access_and_locks_out() {
    let (code, v) = json("delegation", "no-iam-delegation");
    assert_eq!(code, 1, "a lockout fails the diff");
    let removed = changes(&v, "removed_access");
    assert!(removed.contains(&("removed", "kms:PutKeyPolicy", "arn:aws:iam::111122223333:root")), "{removed:?}");
    assert_eq!(v["lockouts"].as_array().unwrap().len(), 1);
    assert!(v["new_access"].as_array().unwrap().is_empty());
}

#[test]
fn new_findings_fail_at_fail_on_and_sarif_lists_only_them() {
    let (code, v) = json("base", "wildcard-principal");
    assert_eq!(code, 1);
    let rules: Vec<&str> = v["new_findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"KP160"), "{rules:?}");
    let (_, back) = json("wildcard-principal", "base");
    assert!(back["resolved_findings"].as_array().unwrap().iter().any(|f| f["rule"] == "KP160"));
    let o = diff("base", "wildcard-principal", &["--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), v["new_findings"].as_array().unwrap().len());
    let text = diff("base", "wildcard-principal", &["--fail-on", "never"]);
    let out = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(out.contains("new findings:"), "{out}");
}

#[test]
fn unreadable_input_is_an_error() {
    let o = diff("base", "does-not-exist", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
}

fn tf(old: &str, new: &str) -> (i32, Value) {
    let old = format!("fixtures/diff/terraform/{old}.json");
    let new = format!("fixtures/diff/terraform/{new}.json");
    let o = Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .args(["diff", old.as_str(), "--against", new.as_str(), "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run keyproof");
    (o.status.code().expect("exit code"), serde_json::from_slice(&o.stdout).expect("json"))
}

#[test]
fn terraform_cross_account_grant_is_new_access_on_the_address() {
    let (code, v) = tf("before", "cross-account-grant");
    assert_eq!(code, 1);
    let partner = "arn:aws:iam::444455556666:role/Partner";
    assert_eq!(
        changes(&v, "new_access"),
        vec![("added", "kms:Decrypt", partner), ("added", "kms:GenerateDataKey", partner)]
    );
    let c = &v["new_access"][0];
    assert_eq!(c["key"], "aws_kms_key.orders");
    assert_eq!(c["path"][0]["via"], "grant");
    assert!(c["conditions"].as_str().unwrap().contains("kms:EncryptionContext:AppName = \"Orders\""));
    assert!(v["new_findings"].as_array().unwrap().iter().any(|f| f["rule"] == "KP305"));
    assert!(v["resolved_findings"].as_array().unwrap().is_empty(), "findings matched across files");
}

#[test]
fn terraform_grant_to_a_principal_the_account_already_covers_is_not_new_access() {
    let (code, v) = tf("before", "with-grant");
    assert_eq!(code, 0);
    assert!(v["new_access"].as_array().unwrap().is_empty());
    assert!(changes(&v, "changed_access").iter().all(|c| c.0 == "named"));
}

#[test]
fn terraform_reformatting_changes_nothing() {
    let (code, v) = tf("before", "before-reformatted");
    assert_eq!(code, 0);
    for list in ["new_access", "removed_access", "changed_access", "new_findings", "resolved_findings"] {
        assert!(v[list].as_array().unwrap().is_empty(), "{list}: {}", v[list]);
    }
}
