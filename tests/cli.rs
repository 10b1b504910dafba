//! The binary end to end: every output format, every exit code, SARIF structure, spans in
//! the JSON output, configuration, baselines and the `rule` subcommand.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test helpers may panic")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const WILDCARD: &str = "fixtures/rules/KP160/fail/wildcard-role.json";
const CLEAN: &str = "fixtures/rules/KP150/pass/valid.json";
const NOTE_ONLY: &str = "fixtures/rules/KP157/fail/ignore-case.json";

fn keyproof_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyproof")).args(args).current_dir(dir).output().expect("run keyproof")
}

fn keyproof(args: &[&str]) -> Output {
    keyproof_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// A fresh scratch directory under Cargo's per-target temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn clean_input_exits_0() {
    let o = keyproof(&["check", CLEAN]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "no findings in 1 file\n");
    assert_eq!(stderr(&o), "", "no progress display when stderr is not a terminal");
}

#[test]
fn every_format_exits_1_on_findings() {
    for format in ["text", "json", "sarif", "github", "markdown"] {
        let o = keyproof(&["check", WILDCARD, "--format", format]);
        assert_eq!(code(&o), 1, "{format}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("KP160"), "{format}: {out}");
        if format != "sarif" {
            insta::assert_snapshot!(format!("check_{format}"), out);
        }
    }
    let o = keyproof(&["check", WILDCARD, "--concise"]);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!("check_concise", stdout(&o));
}

#[test]
fn fail_on_and_exit_zero() {
    assert_eq!(code(&keyproof(&["check", NOTE_ONLY])), 0, "a note is below the default `--fail-on warning`");
    assert_eq!(code(&keyproof(&["check", NOTE_ONLY, "--fail-on", "note"])), 1);
    assert_eq!(code(&keyproof(&["check", WILDCARD, "--fail-on", "error"])), 1);
    assert_eq!(code(&keyproof(&["check", WILDCARD, "--fail-on", "never"])), 0);
    assert_eq!(code(&keyproof(&["check", WILDCARD, "--exit-zero"])), 0);
    assert_eq!(code(&keyproof(&["check", WILDCARD, "--ignore", "KP160"])), 0);
    assert_eq!(code(&keyproof(&["check", WILDCARD, "--select", "unknown-action,KP15"])), 0);
}

#[test]
fn usage_and_input_errors_exit_2() {
    let o = keyproof(&["check", WILDCARD, "--select", "no-such-rule"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown rule selector `no-such-rule`"), "{}", stderr(&o));

    let o = keyproof(&["check"]);
    assert_eq!(code(&o), 2, "clap usage error");

    let o = keyproof(&["check", WILDCARD, "--account", "12345"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("12-digit"), "{}", stderr(&o));

    let o = keyproof(&["check", "does/not/exist.json", "--format", "json"]);
    assert_eq!(code(&o), 2, "nothing could be analysed");
    assert!(stderr(&o).contains("no input could be analysed"), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["errors"][0]["file"], "does/not/exist.json");
    assert_eq!(doc["errors"][0]["kind"], "input");

    let dir = scratch("unrecognised");
    std::fs::write(dir.join("notes.json"), "{\"hello\": 1}").unwrap();
    let o = keyproof_in(&dir, &["check", "notes.json"]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).contains("notes.json: not a recognised input"), "{}", stdout(&o));
}

#[test]
fn an_unreadable_input_next_to_a_good_one_is_listed_and_findings_decide() {
    let o = keyproof(&["check", "does/not/exist.json", WILDCARD, "--format", "json"]);
    assert_eq!(code(&o), 1);
    let doc = json(&o);
    assert_eq!(doc["errors"].as_array().unwrap().len(), 1);
    assert_eq!(doc["summary"]["files"], 1);
    let o = keyproof(&["check", "does/not/exist.json", CLEAN]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn invalid_config_exits_2_with_a_position() {
    let dir = scratch("bad-config");
    std::fs::write(dir.join("keyproof.toml"), "trusted_accounts = [\"444455556666\"]\nbogus = 1\n").unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(WILDCARD), dir.join("p.json")).unwrap();
    let o = keyproof_in(&dir, &["check", "p.json"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("keyproof.toml:2:1:") && err.contains("bogus"), "{err}");
    let o = keyproof_in(&dir, &["check", "p.json", "--config", "missing.toml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("missing.toml"), "{}", stderr(&o));
}

#[test]
fn config_severity_and_ignores_apply() {
    let dir = scratch("config");
    std::fs::create_dir_all(dir.join("legacy")).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(WILDCARD), dir.join("legacy/p.json")).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(WILDCARD), dir.join("q.json")).unwrap();
    std::fs::write(
        dir.join("keyproof.toml"),
        "[severity]\ninvalid-principal = \"note\"\n\n[[ignore]]\nrule = \"KP160\"\npath = \"legacy/**\"\nreason = \"old keys\"\n",
    )
    .unwrap();
    let o = keyproof_in(&dir, &["check", "legacy/p.json", "q.json", "--format", "json"]);
    assert_eq!(code(&o), 0, "the remaining finding is a note: {}", stdout(&o));
    let doc = json(&o);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["file"], "q.json");
    assert_eq!(findings[0]["severity"], "note");
    assert_eq!(doc["summary"]["suppressed"], 1);
}

#[test]
fn baseline_round_trip() {
    let dir = scratch("baseline");
    let baseline = dir.join("baseline.json");
    let b = baseline.to_str().unwrap();
    let o = keyproof(&["check", WILDCARD, "--write-baseline", b]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(written["version"], 1);
    assert_eq!(written["fingerprints"].as_array().unwrap().len(), 1);
    let o = keyproof(&["check", WILDCARD, "--baseline", b, "--format", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["summary"]["suppressed"], 1);
    // A reformatted copy keeps its fingerprints.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(WILDCARD)).unwrap();
    let compact: Value = serde_json::from_str(&text).unwrap();
    let copy = dir.join("compact.json");
    std::fs::write(&copy, serde_json::to_string(&compact).unwrap()).unwrap();
    let o = keyproof(&["check", copy.to_str().unwrap(), "--baseline", b, "--format", "json"]);
    assert_eq!(json(&o)["summary"]["findings"]["error"], 1, "the path is part of the fingerprint");
    let o = keyproof(&["check", "fixtures/rules/KP160/pass/valid-principals.json", "--baseline", "missing.json"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn output_file() {
    let dir = scratch("output");
    let file = dir.join("report.json");
    let o = keyproof(&["check", WILDCARD, "--format", "json", "--output", file.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
}

#[test]
fn sarif_is_structurally_valid() {
    let o = keyproof(&["check", WILDCARD, "fixtures/rules/KP157/fail/ignore-case.json", "--format", "sarif"]);
    assert_eq!(code(&o), 1);
    let doc = json(&o);
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-schema-2.1.0"));
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "keyproof");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), keyproof::rules::all().len(), "every registered rule is listed");
    for r in rules {
        assert!(r["id"].as_str().unwrap().starts_with("KP"));
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(r["help"]["markdown"].as_str().unwrap().contains("## What it does"));
        assert!(["error", "warning", "note"].contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for res in results {
        let id = res["ruleId"].as_str().unwrap();
        let index = usize::try_from(res["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], id);
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let loc = &res["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].as_str().unwrap().starts_with("fixtures/rules/"));
        for field in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][field].as_u64().unwrap() >= 1, "{field}");
        }
        assert_eq!(res["partialFingerprints"]["keyproof/v1"].as_str().unwrap().len(), 64);
    }
}

/// The text of `file` from (line, column) to (line, end_column), columns in characters.
fn text_at(file: &str, line: u64, column: u64, end_column: u64) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let l = text.lines().nth(usize::try_from(line - 1).unwrap()).unwrap();
    l.chars().skip(usize::try_from(column - 1).unwrap()).take(usize::try_from(end_column - column).unwrap()).collect()
}

#[test]
fn kp160_points_at_the_principal_string() {
    let o = keyproof(&["check", WILDCARD, "--select", "KP160", "--format", "json"]);
    let doc = json(&o);
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "KP160");
    assert_eq!(f["pointer"], "/Statement/1/Principal/AWS");
    let (line, col, end_line, end_col) = (
        f["line"].as_u64().unwrap(),
        f["column"].as_u64().unwrap(),
        f["end_line"].as_u64().unwrap(),
        f["end_column"].as_u64().unwrap(),
    );
    assert_eq!(line, end_line);
    assert_eq!(text_at(WILDCARD, line, col, end_col), "\"arn:aws:iam::111122223333:role/*\"");
}

#[test]
fn findings_in_an_embedded_policy_point_into_the_outer_string() {
    let dir = scratch("embedded");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"App","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
    let plan = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": [{
            "address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
            "values": {"policy": policy}
        }]}}
    });
    let file = dir.join("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let o = keyproof_in(&dir, &["check", "plan.json", "--select", "KP160", "--format", "json"]);
    let doc = json(&o);
    let f = &doc["findings"][0];
    assert_eq!(f["file"], "plan.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().nth(usize::try_from(f["line"].as_u64().unwrap() - 1).unwrap()).unwrap();
    let (c, e) = (f["column"].as_u64().unwrap(), f["end_column"].as_u64().unwrap());
    let under: String =
        line.chars().skip(usize::try_from(c - 1).unwrap()).take(usize::try_from(e - c).unwrap()).collect();
    assert_eq!(under, r#"\"arn:aws:iam::111122223333:role/*\""#);
}

#[test]
fn rule_subcommand() {
    let o = keyproof(&["rule", "KP160"]);
    assert_eq!(code(&o), 0);
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules/KP160.md")).unwrap();
    assert_eq!(stdout(&o), page, "`keyproof rule` prints the generated page");

    let o = keyproof(&["rule", "invalid-principal", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let doc = json(&o);
    assert_eq!(doc["id"], "KP160");
    assert_eq!(doc["severity"], "error");

    let o = keyproof(&["rule", "--all", "--format", "json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), keyproof::rules::all().len());
    let o = keyproof(&["rule", "--all"]);
    assert!(stdout(&o).contains("# KP103") && stdout(&o).contains("# KP162"));

    let o = keyproof(&["rule", "KP999"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown rule `KP999`"));
    assert_eq!(code(&keyproof(&["rule"])), 2, "an id or --all is required");
}
