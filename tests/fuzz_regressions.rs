//! Inputs the fuzz targets (`fuzz/`) found, replayed through the same checks as plain tests,
//! so that a fixed crash stays fixed without cargo-fuzz. Each case names its target.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use keyproof::config::Settings;
use keyproof::ingest::{load_texts, LoadOptions};
use keyproof::policy::err::PolicyDiagnostic;
use keyproof::policy::json;
use keyproof::policy::model::DocKind;
use keyproof::policy::parse::{build_single_statement, check_duplicate_keys, parse_policy_text, validate};
use keyproof::source::SourceMap;

/// The `policy` target's checks: parse, validate for every role, every message one line.
fn policy_target(text: &str) -> Vec<PolicyDiagnostic> {
    let sources = SourceMap::default();
    let source = sources.add_file("fuzz.json", text.to_string());
    let mut diags = Vec::new();
    if let Some(policy) = parse_policy_text(source, text, &mut diags) {
        let tree = json::parse(text).unwrap();
        check_duplicate_keys(source, &tree, "", &mut diags);
        let _ = build_single_statement(source, &tree, text.len(), &mut diags);
        for kind in
            [DocKind::KeyPolicy, DocKind::Identity, DocKind::Boundary, DocKind::Trust, DocKind::Scp, DocKind::Rcp]
        {
            validate(&mut policy.clone(), kind, Some("fuzz"), &mut diags);
        }
    }
    for d in &diags {
        assert!(!d.message.contains('\n'), "{}: not a one-line message: {:?}", d.code, d.message);
        assert!((d.span.end as usize) <= text.len(), "{}: span out of the text", d.code);
    }
    diags
}

/// `policy` target: a member key holding an escaped newline (`"…\ngEquals…"`) was echoed into
/// the `KP152` "unknown element" message, which then spanned two lines.
#[test]
fn policy_member_key_with_a_newline() {
    let text = "{\n  \"Sid\": \"KeCreateAlias\",\n    \"\": \"KeCreateAlias\",\n    \"(~~>~\\ngEqualssour(~~>~~ction\": [\n    \"kAlias\",\n    \"kms:DescribeKey\"\n  ],\n  \"Resource\": \"*\"\n}\n";
    let diags = policy_target(text);
    let d = diags.iter().find(|d| d.message.contains("ngEqualssour")).expect("the unknown element is reported");
    assert!(d.message.contains(r"(~~>~\ngEqualssour"), "the newline is written as an escape: {}", d.message);

    // The same document as a key policy through the whole pipeline: findings are one line too.
    let doc = text.replace("\"Sid\": \"KeCreateAlias\",", "\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kms:*\", \"Resource\": \"*\", \"Sid\": \"x\\ny\"}],");
    let world = load_texts(&[("k.json".into(), doc)], &LoadOptions::default());
    let out = keyproof::rules::run(&world, &Settings::default(), keyproof::rules::all(), &|_| {});
    assert!(!out.findings.is_empty());
    for f in &out.findings {
        assert!(!f.message.contains('\n'), "{}: {:?}", f.rule, f.message);
    }
}

/// The `terraform` target's checks: no internal error, every diagnostic located in the plan
/// itself, every message one line.
fn terraform_target(text: &str) -> keyproof::world::World {
    let world = load_texts(&[("plan.json".to_string(), text.to_string())], &LoadOptions::default());
    for e in &world.errors {
        assert!(!e.message.starts_with("internal error"), "{}", e.message);
    }
    for d in &world.diagnostics {
        let at = world.sources.locate(d.source, d.span);
        assert!(at.file == "plan.json" || at.file.is_empty(), "{}: located in `{}`: {}", d.code, at.file, d.message);
        assert!(!d.message.contains('\n'), "{}: not a one-line message", d.code);
    }
    world
}

/// `terraform` target: a key without a `policy` whose `arn` is malformed (it holds quotes and
/// a policy fragment). The account taken from it was written into the generated default key
/// policy, whose text then was not JSON: a `KP150` in `plan.json#default-policy(…)`. A key
/// ARN that names no account now leaves the default policy unknown, with an assumption.
#[test]
fn terraform_key_arn_that_names_no_account() {
    let plan = r##"{
  "format_version": "1.0",
  "terraform_version": "1.9.5",
  "values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_kms_key.orders",
          "mode": "managed",
          "type": "aws_kms_key",
          "name": "orders",
          "provider_name": "registry.terraform.io/hashicorp/aws",
          "values": {
            "arn": "arn:aws:kms:usment\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Ainotc\":\"sts:AssumeRole\"}]}"
          }
        },
        {
          "address": "aws_iam_role_policy.orders_kms",
          "mode": "managed",
          "type": "aws_iam_role_policy",
          "name": "orders_kms",
          "provider_name": "registry.terraform.io/hashicorp/aws",
          "values": {
            "name": "orders-kms",
            "role": "OrdersApp",
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"OrdersKms\",\"Efetfc\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"
          }
        }
      ]
    }
  }
}
"##;
    let world = terraform_target(plan);
    assert!(
        world.assumptions.iter().any(|a| a.contains("names no account: its default key policy is unknown")),
        "{:?}",
        world.assumptions
    );
}

/// `terraform` target: a resource address holding an escaped newline (`"aws_kms_gr\nt.batch"`)
/// was echoed into the `KP158` note on the grant's unknown key, which then spanned two lines.
/// Terraform notes now go through the same one-line escaping as every other diagnostic.
#[test]
fn terraform_address_with_a_newline() {
    let plan = r##"{
  "format_version": "1.2",
  "terraform_version": "1.9.5",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_kms_key.orders",
          "mode": "managed",
          "type": "aws_kms_key",
          "name": "orders",
          "values": {
            "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1832947650ab",
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
          }
        },
        {
          "address": "aws_kms_gr\nt.batch",
          "mode": "managed",
          "type": "aws_kms_grant",
          "name": "batch",
          "values": {
                }
        }
      ]
    }
  }
}
"##;
    let world = terraform_target(plan);
    assert!(
        world.diagnostics.iter().any(|d| d.code == "KP158" && d.message.contains("aws_kms_gr\\nt.batch")),
        "the note names the address with its newline escaped"
    );
}
