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
