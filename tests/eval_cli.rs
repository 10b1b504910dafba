//! `keyproof eval` and `keyproof who-can` through the binary: JSON schema, exit codes, batch mode.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::io::Write as _;
use std::process::{Command, Stdio};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KP: &str = "fixtures/examples/key-policy-enable-iam-and-key-users.json";
const IAM: &str = "fixtures/examples/get-account-authorization-details.json";

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn eval_allow_is_exit_0_with_reasons_and_lines() {
    let (code, out, err) = run(
        &[
            "eval",
            KP,
            IAM,
            "--key-arn",
            KEY,
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
            "--action",
            "kms:Decrypt",
            "--context",
            "AppName=Orders",
            "--condition",
            "aws:MultiFactorAuthPresent=true",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["key"], KEY);
    assert_eq!(v["reasons"][0]["source"], "key-policy");
    assert_eq!(v["reasons"][0]["sid"], "KeyUsersOnlyWithOrdersEncryptionContext");
    assert_eq!(v["reasons"][0]["index"], 2);
    assert_eq!(v["reasons"][0]["line"], 24);
    assert_eq!(v["reasons"][0]["file"], KP);
}

#[test]
fn eval_deny_is_exit_1() {
    // examples B2: the group deny fires when MFA is absent (BoolIfExists)
    let (code, out, _) = run(
        &[
            "eval",
            KP,
            IAM,
            "--key-arn",
            KEY,
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
            "--action",
            "Decrypt",
            "--context",
            "AppName=Orders",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!(v["reasons"][0]["source"], "identity-policy");
    assert_eq!(v["reasons"][0]["effect"], "Deny");
    // implicit deny, text format
    let (code, out, _) = run(
        &["eval", KP, "--key-arn", KEY, "--principal", "arn:aws:iam::444455556666:root", "--action", "kms:Decrypt"],
        None,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("ImplicitDeny"), "{out}");
}

#[test]
fn eval_usage_errors_are_exit_2() {
    let (code, _, err) = run(&["eval", KP, "--key-arn", KEY, "--action", "kms:Decrypt"], None);
    assert_eq!(code, 2);
    assert!(err.contains("--principal"), "{err}");
    let (code, _, err) = run(
        &[
            "eval",
            KP,
            "--principal",
            "arn:aws:iam::111122223333:root",
            "--action",
            "kms:Decrypt",
            "--key",
            "alias/none",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("no key `alias/none`"), "{err}");
}

#[test]
fn eval_batch_mode_answers_each_line_in_order() {
    let lines = [
        format!(
            r#"{{"principal":"arn:aws:sts::111122223333:assumed-role/OrdersApp/s1","action":"kms:Encrypt","key":"{KEY}","context":{{"AppName":"Orders","OrderId":"42"}}}}"#
        ),
        format!(
            r#"{{"principal":"arn:aws:sts::111122223333:assumed-role/OrdersApp/s1","action":"kms:Encrypt","key":"{KEY}"}}"#
        ),
        r#"{"principal": 5}"#.to_string(),
        format!(r#"{{"principal":"arn:aws:iam::111122223333:root","action":"kms:ScheduleKeyDeletion","key":"{KEY}"}}"#),
    ];
    let input = lines.join("\n") + "\n";
    let (code, out, _) = run(&["eval", KP, "--key-arn", KEY, "--requests", "-"], Some(&input));
    assert_eq!(code, 2, "a malformed line makes the batch exit 2");
    let results: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["decision"], "Allow");
    assert_eq!(results[1]["decision"], "ImplicitDeny");
    assert!(results[2]["error"].as_str().unwrap().contains("line 3"));
    assert_eq!(results[3]["decision"], "Allow");
}

#[test]
fn who_can_json_lists_principals_with_replayable_witnesses() {
    let (code, out, err) =
        run(&["who-can", KP, IAM, "fixtures/examples/list-grants.json", "--key-arn", KEY, "--format", "json"], None);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["action"], "kms:Decrypt");
    let entries = v["principals"].as_array().unwrap();
    let alice = entries.iter().find(|e| e["principal"] == "arn:aws:iam::111122223333:user/alice").unwrap();
    assert_eq!(alice["kind"], "user");
    assert_eq!(alice["unconditional"], false);
    assert!(alice["condition_text"].as_str().unwrap().contains("kms:EncryptionContext:AppName = \"Orders\""));
    // replay the witness through `eval`
    let w = &alice["witness"];
    let mut args: Vec<String> = vec!["eval".into(), KP.into(), IAM.into(), "--key-arn".into(), KEY.into()];
    args.extend(["--principal".into(), w["principal"].as_str().unwrap().to_string()]);
    args.extend(["--action".into(), w["action"].as_str().unwrap().to_string()]);
    for (k, val) in w["context"].as_object().unwrap() {
        match k.strip_prefix("kms:EncryptionContext:") {
            Some(ec) => args.extend(["--context".into(), format!("{ec}={}", val.as_str().unwrap())]),
            None => args.extend(["--condition".into(), format!("{k}={}", val.as_str().unwrap())]),
        }
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = run(&argv, None);
    assert_eq!(code, 0, "the witness must replay as Allow: {out}");
    assert!(v["assumptions"].as_array().is_some_and(|a| !a.is_empty()));
}
