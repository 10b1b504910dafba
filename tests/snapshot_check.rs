//! `keyproof check` over the bundled snapshot of a few accounts: findings inside a get-key-policy
//! `Policy` string point at the right line and column of the outer file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::process::Command;

#[test]
fn findings_inside_policy_strings_have_outer_positions() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .args(["check", "fixtures/snapshot", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let file = "fixtures/snapshot/100000001111/kms/eu-west-1/keys/0badc0de-1111-4222-8333-944455556666/key-policy.json";
    let text = std::fs::read_to_string(file).unwrap();
    let at = |f: &serde_json::Value| -> String {
        let line = text.lines().nth(f["line"].as_u64().unwrap() as usize - 1).unwrap();
        let col = f["column"].as_u64().unwrap() as usize - 1;
        let end = f["end_column"].as_u64().unwrap() as usize - 1;
        line.chars().skip(col).take(end - col).collect()
    };
    let wildcard = findings
        .iter()
        .find(|f| f["rule"] == "KP160" && f["message"].as_str().unwrap().contains("export-*"))
        .expect("KP160 on the wildcard role");
    assert_eq!(wildcard["file"], file);
    assert_eq!(wildcard["line"], 2);
    assert_eq!(at(wildcard), r#"\"arn:aws:iam::100000001111:role/export-*\""#);
    let dup = findings.iter().find(|f| f["rule"] == "KP151").expect("KP151 on the duplicated Effect");
    assert_eq!(at(dup), r#"\"Effect\""#);
    assert_eq!(dup["pointer"], "/Statement/3/Effect");
    assert_eq!(v["summary"]["keys"].as_u64().unwrap(), 7);
}

const IAM_COLLECT: &str = "fixtures/ingest/iam-collect";
const IC_ORDERS: &str = "arn:aws:kms:us-east-1:210000000002:key/1f2e3d4c-0000-4000-8000-00000000aaaa";

fn keyproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keyproof")).args(args).output().unwrap()
}

#[test]
fn check_over_the_iam_collect_layout() {
    let out = keyproof(&["check", IAM_COLLECT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(v["summary"]["keys"], 2);
    assert_eq!(v["summary"]["principals"], 4);
    let findings = v["findings"].as_array().unwrap();
    let public = findings.iter().find(|f| f["rule"] == "KP104").expect("KP104 on the key opened to `*`");
    let file = public["file"].as_str().unwrap();
    assert!(file.ends_with("key/2a3b4c5d-0000-4000-8000-00000000bbbb/policy.json"), "{file}");
    let line = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .nth(public["line"].as_u64().unwrap() as usize - 1)
        .unwrap()
        .to_string();
    assert!(line.contains("\"AnyoneDecrypts\"") || line.contains("\"Principal\": \"*\""), "{line}");
    assert!(findings.iter().all(|f| !f["file"].as_str().unwrap().contains("/sqs/")), "other services are not read");

    let text = keyproof(&["check", IAM_COLLECT, "--concise"]);
    insta::assert_snapshot!("iam_collect_check", String::from_utf8_lossy(&text.stdout));
}

#[test]
fn who_can_over_the_iam_collect_layout() {
    let out = keyproof(&["who-can", IAM_COLLECT, "--key", IC_ORDERS, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut principals: Vec<&str> =
        v["principals"].as_array().unwrap().iter().map(|p| p["principal"].as_str().unwrap()).collect();
    principals.sort_unstable();
    assert_eq!(
        principals,
        [
            "arn:aws:iam::210000000001:role/app-reader",
            "arn:aws:iam::210000000002:role/data-admin",
            "arn:aws:iam::210000000002:root",
            "arn:aws:iam::210000000002:user/alice",
        ]
    );
    // The grant gives the deployer role Encrypt (under its encryption-context constraint), not Decrypt.
    let enc = keyproof(&["who-can", IAM_COLLECT, "--key", IC_ORDERS, "--action", "kms:Encrypt", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&enc.stdout).unwrap();
    let deployer = v["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == "arn:aws:iam::210000000001:role/service-role/Deployer")
        .expect("the grantee");
    assert!(deployer.to_string().contains("orders"), "{deployer:#}");
    // The SCP of the data OU denies key deletion to the data account's administrator.
    let del = keyproof(&[
        "who-can",
        IAM_COLLECT,
        "--key",
        IC_ORDERS,
        "--action",
        "kms:ScheduleKeyDeletion",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&del.stdout).unwrap();
    assert!(
        v["principals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["principal"] != "arn:aws:iam::210000000002:role/data-admin"),
        "{v:#}"
    );

    let text = keyproof(&["who-can", IAM_COLLECT, "--key", IC_ORDERS]);
    insta::assert_snapshot!("iam_collect_who_can", String::from_utf8_lossy(&text.stdout));
}

/// `who-can --key` reads only the asked key's directory of a snapshot (`LoadOptions::only_key`):
/// every key's answers are those of the whole snapshot.
#[test]
fn who_can_for_one_key_reads_only_that_key_and_answers_the_same() {
    use keyproof::ingest::{load, LoadOptions};
    use keyproof::solve::{who_can, Query};
    let paths = vec!["fixtures/snapshot".to_string()];
    let whole = load(&paths, &LoadOptions::default());
    assert!(whole.keys.len() > 3, "the fixture has several keys");
    for key in &whole.keys {
        let opts = LoadOptions { only_key: Some(key.id.clone()), ..LoadOptions::default() };
        let one = load(&paths, &opts);
        assert!(one.keys.iter().all(|k| k.id == key.id), "only `{}` is read", key.id);
        let (a, b) = (whole.find_key_index(&key.arn).unwrap(), one.find_key_index(&key.arn).unwrap());
        for action in ["kms:Decrypt", "kms:PutKeyPolicy", "kms:CreateGrant"] {
            let q = |key| Query { key, action: action.into(), direct_only: false };
            let (x, y) = (who_can(&whole, &q(a)), who_can(&one, &q(b)));
            assert_eq!(serde_json::to_value(&x).unwrap(), serde_json::to_value(&y).unwrap(), "{} {action}", key.arn);
        }
    }
}
