//! Terraform plans and states (`terraform show -json`): the bundled example plan, spans of
//! findings inside embedded policies, states, unknown values, references through modules,
//! and a smoke run over the corpus of real plans.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests may panic")]

use std::collections::BTreeMap;
use std::path::Path;

use keyproof::ingest::{load, load_texts, LoadOptions};
use keyproof::policy::err::Severity;
use keyproof::policy::model::DocKind;
use keyproof::world::{Key, PolicyEntry, PolicySlot, World};

const PLAN: &str = "fixtures/examples/terraform-plan.json";
const CORPUS: &str = "../shared/corpus/terraform-plans";

fn known<'w>(w: &'w World, slot: &PolicySlot) -> &'w PolicyEntry {
    match slot {
        PolicySlot::Known(id) => w.policy(*id).expect("policy id in table"),
        PolicySlot::Unknown(why) => panic!("policy unknown: {why}"),
    }
}

fn key_policy<'w>(w: &'w World, k: &Key) -> &'w PolicyEntry {
    known(w, k.policy.as_ref().expect("key policy"))
}

/// 1-based line and column (characters) of a byte offset.
fn pos_at(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (u32::try_from(line).unwrap(), u32::try_from(col).unwrap())
}

/// Line and column of the `{` of the resource object whose `address` is `address`.
fn resource_pos(text: &str, address: &str) -> (u32, u32) {
    let at = text.find(&format!("\"address\": \"{address}\"")).unwrap();
    pos_at(text, text[..at].rfind('{').unwrap())
}

fn one(name: &str, text: &str) -> World {
    load_texts(&[(name.to_string(), text.to_string())], &LoadOptions::default())
}

fn plan(resources: &serde_json::Value, extra: &serde_json::Value) -> String {
    let mut doc = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": resources}},
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

#[test]
fn the_example_plan() {
    let w = load(&[PLAN.to_string()], &LoadOptions::default());
    let text = std::fs::read_to_string(PLAN).unwrap();
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert!(!w.diagnostics.iter().any(|d| d.code == "KP152"), "{:#?}", w.diagnostics);
    assert_eq!(w.files[0].kind, "terraform");

    // aws_kms_key.orders: a known `jsonencode` policy; `R\u0026D` decodes to `R&D`.
    let orders = w.find_key("aws_kms_key.orders").unwrap();
    assert_eq!(orders.arn, "arn:aws:kms:us-east-1:111122223333:key/<unknown:aws_kms_key.orders>");
    assert_eq!(orders.origin.tf_address.as_deref(), Some("aws_kms_key.orders"));
    assert_eq!(w.sources.locate(orders.origin.source.unwrap(), orders.origin.span).line, {
        resource_pos(&text, "aws_kms_key.orders").0
    });
    let entry = key_policy(&w, orders);
    assert_eq!(entry.kind, DocKind::KeyPolicy);
    assert_eq!(entry.account.as_deref(), Some("111122223333"));
    let cond = &entry.policy.statements[1].conditions[0];
    assert_eq!(cond.values[0].value, "R&D");
    let raw = w.sources.outer_text(entry.policy.source, cond.values[0].span).unwrap();
    assert_eq!(raw, r#"\"R\\u0026D\""#);
    let loc = w.sources.locate(entry.policy.source, cond.values[0].span);
    assert!(loc.file.ends_with("terraform-plan.json"));
    assert_eq!((loc.line, loc.column), pos_at(&text, text.find(r#"\"R\\u0026D\""#).unwrap()));
    let md = orders.metadata.as_ref().unwrap();
    assert_eq!(
        (md.spec.as_str(), md.usage.as_str(), md.state.as_str()),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Enabled")
    );
    assert!(!md.multi_region);
    assert_eq!(orders.rotation.as_ref().map(|r| (r.enabled, r.period_days)), Some((true, Some(180))));
    assert_eq!(orders.deletion_window_days, Some(14));
    assert!(!orders.bypass_lockout_check);
    assert_eq!(orders.tags.as_ref().and_then(|t| t.get("team")).map(String::as_str), Some("orders"));

    // The grant's unknown `key_id` is resolved through `configuration` references.
    let grants = orders.grants.as_ref().unwrap();
    assert_eq!(grants.len(), 1);
    let g = &grants[0];
    assert_eq!(g.grantee, "arn:aws:iam::111122223333:role/OrdersBatch");
    assert_eq!(g.retiring.as_deref(), Some("arn:aws:iam::111122223333:role/KeyAdmin"));
    assert_eq!(g.operations, ["Decrypt", "GenerateDataKey"]);
    let subset: BTreeMap<String, String> = [("AppName".to_string(), "Orders".to_string())].into();
    assert_eq!(g.ec_subset.as_ref(), Some(&subset));
    assert_eq!(g.ec_equals, None);
    assert_eq!(g.name.as_deref(), Some("orders-batch"));
    assert_eq!(g.origin.tf_address.as_deref(), Some("aws_kms_grant.orders_batch"));

    // The alias targets the key through its references too.
    assert_eq!(w.aliases_of(orders), vec!["alias/orders".to_string()]);
    assert_eq!(w.find_key("alias/orders").map(|k| k.arn.as_str()), Some(orders.arn.as_str()));

    // aws_iam_role_policy.orders_kms: policy unknown until apply.
    let role = w.role("111122223333", "OrdersApp").unwrap();
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/OrdersApp");
    assert_eq!(known(&w, role.trust.as_ref().unwrap()).kind, DocKind::Trust);
    assert_eq!(role.boundary.as_deref(), Some("arn:aws:iam::111122223333:policy/boundaries/DevBoundary"));
    assert_eq!(role.tags.get("team").map(String::as_str), Some("orders"));
    assert_eq!(
        role.inline,
        [PolicySlot::Unknown("policy of `aws_iam_role_policy.orders_kms` is unknown until apply".into())]
    );
    let notes: Vec<_> = w.diagnostics.iter().filter(|d| d.code == "KP158").collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let d = notes[0];
    assert_eq!(d.severity, Some(Severity::Note));
    assert_eq!(d.resource.as_deref(), Some(role.arn.as_str()));
    assert!(d.message.contains("`aws_iam_role_policy.orders_kms`") && d.message.contains("`aws_kms_key.orders.arn`"));
    assert!(d.message.contains("cannot be decided"), "{}", d.message);
    let l = w.sources.locate(d.source, d.span);
    assert_eq!((l.line, l.column), resource_pos(&text, "aws_iam_role_policy.orders_kms"));
    assert_eq!(d.pointer, "/planned_values/root_module/resources/1");

    // The module key and its replica get the default key policy of the plan's account.
    let primary = w.find_key("module.shared_kms.aws_kms_key.this[0]").unwrap();
    let replica = w.find_key("module.shared_kms.aws_kms_replica_key.eu[0]").unwrap();
    for (k, addr) in
        [(primary, "module.shared_kms.aws_kms_key.this[0]"), (replica, "module.shared_kms.aws_kms_replica_key.eu[0]")]
    {
        let e = key_policy(&w, k);
        assert_eq!(e.policy.id.as_ref().map(|s| s.value.as_str()), Some("key-default-1"));
        let st = &e.policy.statements[0];
        assert_eq!(st.principal.as_ref().unwrap().entries[0].raw, "arn:aws:iam::111122223333:root");
        let src = w.sources.get(e.policy.source).unwrap();
        assert!(src.name.ends_with(&format!("terraform-plan.json#default-policy({addr})")), "{}", src.name);
        assert!(w.assumptions.contains(&format!("AWS attaches the default key policy to `{addr}`")));
    }
    assert_eq!(primary.region, "us-east-1");
    assert_eq!(replica.region, "eu-west-1");
    assert_eq!(replica.id, primary.id, "a replica has the key id of its primary");
    let rmd = replica.metadata.as_ref().unwrap();
    assert_eq!(rmd.multi_region_type.as_deref(), Some("REPLICA"));
    assert!(rmd.multi_region);
    assert_eq!(rmd.primary_arn.as_deref(), Some(primary.arn.as_str()));
    let pmd = primary.metadata.as_ref().unwrap();
    assert_eq!(pmd.multi_region_type.as_deref(), Some("PRIMARY"));
    assert_eq!(pmd.replica_arns, std::slice::from_ref(&replica.arn));
    assert_eq!(primary.rotation.as_ref().map(|r| (r.enabled, r.period_days)), Some((true, None)));

    // A plan is not a full IAM listing.
    assert!(!w.accounts["111122223333"].iam_complete);
    assert_eq!(w.keys.len(), 3);
    assert_eq!(w.roles.len(), 1);
}

#[test]
fn a_finding_inside_an_embedded_policy_points_into_the_plan_string() {
    // Hand-written so that the outer string holds escapes that change lengths (`\u0026`).
    let text = r#"{
  "format_version": "1.1",
  "terraform_version": "1.6.0",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_kms_key.k",
          "mode": "managed",
          "type": "aws_kms_key",
          "name": "k",
          "values": {
            "policy": "{\"Statement\":[{\"Action\":\"kms:Decrypt\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/*\"},\"Resource\":\"*\",\"Sid\":\"R\u0026D\",\"Sid\":\"again\"}],\"Version\":\"2012-10-17\"}",
            "region": "eu-central-1"
          }
        }
      ]
    }
  }
}"#;
    let w = one("plan.json", text);
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let k = w.find_key("aws_kms_key.k").unwrap();
    assert_eq!(k.region, "eu-central-1");
    let e = key_policy(&w, k);
    let st = &e.policy.statements[0];
    assert_eq!(st.sid.as_ref().unwrap().value, "R&D");

    // The duplicate `Sid` (KP151) points at the second `\"Sid\"` of the plan's string.
    let dup = w.diagnostics.iter().find(|d| d.code == "KP151").unwrap();
    assert_eq!(w.sources.outer_text(dup.source, dup.span).as_deref(), Some(r#"\"Sid\""#));
    let second = text.rfind(r#"\"Sid\""#).unwrap();
    let l = w.sources.locate(dup.source, dup.span);
    assert_eq!(
        (l.file.as_str(), l.line, l.column),
        ("plan.json", 13, u32::try_from(second - text[..second].rfind('\n').unwrap()).unwrap())
    );
    assert_eq!((l.line, l.column), pos_at(text, second));
    assert_eq!(dup.resource.as_deref(), Some(k.arn.as_str()));

    // The invalid principal's span: after the `\u0026` escape, offsets still map exactly.
    let principal = &st.principal.as_ref().unwrap().entries[0];
    assert_eq!(
        w.sources.outer_text(e.policy.source, principal.span).as_deref(),
        Some(r#"\"arn:aws:iam::111122223333:role/*\""#)
    );
    let at = text.find(r#"\"arn:aws:iam::111122223333:role/*\""#).unwrap();
    let l = w.sources.locate(e.policy.source, principal.span);
    assert_eq!((l.line, l.column), pos_at(text, at));
    // The `R&D` Sid: the raw text keeps the escape.
    let sid = st.sid.as_ref().unwrap();
    assert_eq!(w.sources.outer_text(e.policy.source, sid.span).as_deref(), Some(r#"\"R\u0026D\""#));
}

#[test]
fn a_state_file_loads() {
    let state = serde_json::json!({
        "format_version": "1.0",
        "terraform_version": "1.9.5",
        "values": {"root_module": {
            "resources": [
                {"address": "aws_iam_role.admin", "mode": "managed", "type": "aws_iam_role", "name": "admin", "values": {
                    "arn": "arn:aws:iam::444455556666:role/ops/KeyAdmin", "name": "KeyAdmin", "path": "/ops/",
                    "unique_id": "AROAEXAMPLEKEYADMIN01",
                    "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":\"sts:AssumeRole\"}]}",
                    "inline_policy": [{"name": "", "policy": ""}],
                    "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
                }},
            ],
            "child_modules": [{"address": "module.shared_kms", "resources": [
                {"address": "module.shared_kms.aws_kms_key.this[0]", "mode": "managed", "type": "aws_kms_key", "name": "this", "index": 0, "values": {
                    "arn": "arn:aws:kms:eu-west-1:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab",
                    "key_id": "mrk-1234abcd12ab34cd56ef1234567890ab",
                    "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:role/ops/KeyAdmin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}",
                    "bypass_policy_lockout_safety_check": true,
                    "is_enabled": false,
                    "multi_region": true,
                    "key_usage": "SIGN_VERIFY",
                    "customer_master_key_spec": "ECC_NIST_P256",
                    "enable_key_rotation": false
                }}
            ]}]
        }}
    });
    let w = one("terraform.tfstate.json", &serde_json::to_string_pretty(&state).unwrap());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert!(w.diagnostics.is_empty(), "{:#?}", w.diagnostics);
    let arn = "arn:aws:kms:eu-west-1:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab";
    let k = w.find_key("module.shared_kms.aws_kms_key.this[0]").unwrap();
    assert_eq!(k.arn, arn);
    assert_eq!(w.find_key(arn).unwrap().arn, arn);
    assert_eq!(w.find_key("mrk-1234abcd12ab34cd56ef1234567890ab").unwrap().arn, arn);
    assert_eq!((k.account.as_str(), k.region.as_str()), ("444455556666", "eu-west-1"));
    assert!(k.bypass_lockout_check);
    let md = k.metadata.as_ref().unwrap();
    assert_eq!((md.state.as_str(), md.spec.as_str(), md.usage.as_str()), ("Disabled", "ECC_NIST_P256", "SIGN_VERIFY"));
    assert_eq!(k.rotation.as_ref().map(|r| r.enabled), Some(false));
    assert!(key_policy(&w, k).policy.statements.len() == 1);
    let role = w.role_by_arn("arn:aws:iam::444455556666:role/ops/KeyAdmin").unwrap();
    assert_eq!(role.path, "/ops/");
    assert_eq!(role.id.as_deref(), Some("AROAEXAMPLEKEYADMIN01"));
    assert!(role.inline.is_empty(), "an empty inline_policy block means none");
    assert_eq!(role.managed, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    assert!(!w.accounts["444455556666"].iam_complete);
    assert!(!w.assumptions.iter().any(|a| a.contains("account of")), "{:#?}", w.assumptions);
}

#[test]
fn bypass_of_the_lockout_safety_check() {
    let w = load(&["fixtures/rules/KP103/fail/terraform-bypass.json".to_string()], &LoadOptions::default());
    let k = w.find_key("aws_kms_key.payments").unwrap();
    assert!(k.bypass_lockout_check);
    assert_eq!(k.arn, "arn:aws:kms:us-east-1:111122223333:key/<unknown:aws_kms_key.payments>");
    assert!(w.assumptions.iter().any(|a| a.contains("assumed `111122223333`")), "{:#?}", w.assumptions);
    let w = load(
        &["fixtures/rules/KP103/pass/terraform-no-bypass.json".to_string()],
        &LoadOptions {
            account: Some("777788889999".into()),
            region: "ap-southeast-2".into(),
            ..LoadOptions::default()
        },
    );
    let k = w.find_key("aws_kms_key.payments").unwrap();
    assert!(!k.bypass_lockout_check);
    assert_eq!(k.arn, "arn:aws:kms:ap-southeast-2:777788889999:key/<unknown:aws_kms_key.payments>");
}

#[test]
fn format_versions() {
    let w = one("p.json", r#"{"format_version":"2.0","terraform_version":"2.0.0","planned_values":{}}"#);
    assert_eq!(w.errors.len(), 1);
    assert!(w.errors[0].message.contains("`2.0`"), "{:?}", w.errors[0]);
    assert_eq!((w.errors[0].line, w.errors[0].column), (Some(1), Some(19)));
    let w = one("p.json", r#"{"format_version":"1.9","terraform_version":"1.12.0","planned_values":{},"future":1}"#);
    assert!(w.errors.is_empty());
    let w = one("p.json", r#"{"format_version":"0.2","terraform_version":"1.0.0","planned_values":{}}"#);
    assert!(w.errors.is_empty());
    assert!(w.assumptions.iter().any(|a| a.contains("pre-1.0")));
}

#[test]
fn unknown_and_unset_policies() {
    let resources = serde_json::json!([
        {"address": "aws_kms_key.a", "mode": "managed", "type": "aws_kms_key", "name": "a", "values": {}},
        {"address": "aws_kms_key.b", "mode": "managed", "type": "aws_kms_key", "name": "b", "values": {}},
        {"address": "aws_kms_key.c", "mode": "managed", "type": "aws_kms_key", "name": "c", "values": {
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::210987654321:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
        }},
        {"address": "aws_kms_key_policy.c", "mode": "managed", "type": "aws_kms_key_policy", "name": "c", "values": {
            "bypass_policy_lockout_safety_check": true,
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"replaced\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::210987654321:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
        }},
    ]);
    let unknown = serde_json::json!({"arn": true, "key_id": true, "id": true, "policy": true});
    let extra = serde_json::json!({
        "resource_changes": [
            {"address": "aws_kms_key.a", "change": {"actions": ["create"], "after_unknown": unknown}},
            {"address": "aws_kms_key.b", "change": {"actions": ["create"], "after_unknown": unknown}},
        ],
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"references": ["var.region"]}}}},
            "root_module": {"resources": [
                {"address": "aws_kms_key.a", "type": "aws_kms_key", "name": "a", "provider_config_key": "aws",
                 "expressions": {"policy": {"references": ["data.aws_iam_policy_document.a.json", "data.aws_iam_policy_document.a"]}}},
                {"address": "aws_kms_key.b", "type": "aws_kms_key", "name": "b", "provider_config_key": "aws", "expressions": {}},
                {"address": "aws_kms_key.c", "type": "aws_kms_key", "name": "c", "provider_config_key": "aws", "expressions": {}},
                {"address": "aws_kms_key_policy.c", "type": "aws_kms_key_policy", "name": "c", "provider_config_key": "aws",
                 "expressions": {"key_id": {"references": ["aws_kms_key.c.id", "aws_kms_key.c"]}}},
            ]}
        },
        "variables": {"region": {"value": "sa-east-1"}},
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": "data.aws_caller_identity.me", "mode": "data", "type": "aws_caller_identity", "name": "me",
             "values": {"account_id": "210987654321"}}
        ]}}}
    });
    let w = one("plan.json", &plan(&resources, &extra));
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let a = w.find_key("aws_kms_key.a").unwrap();
    assert_eq!(a.arn, "arn:aws:kms:sa-east-1:210987654321:key/<unknown:aws_kms_key.a>");
    assert_eq!(a.policy, Some(PolicySlot::Unknown("policy of `aws_kms_key.a` is unknown until apply".into())));
    let note = w.diagnostics.iter().find(|d| d.code == "KP158").unwrap();
    assert!(note.message.contains("data.aws_iam_policy_document.a.json"), "{}", note.message);
    assert_eq!(note.resource.as_deref(), Some(a.arn.as_str()));
    // `policy` computed but not configured: the default key policy.
    let b = w.find_key("aws_kms_key.b").unwrap();
    let e = key_policy(&w, b);
    assert_eq!(e.policy.statements[0].principal.as_ref().unwrap().entries[0].raw, "arn:aws:iam::210987654321:root");
    // aws_kms_key_policy replaces the key's own policy, with a warning.
    let c = w.find_key("aws_kms_key.c").unwrap();
    assert_eq!(key_policy(&w, c).policy.statements[0].sid.as_ref().unwrap().value, "replaced");
    assert!(c.bypass_lockout_check);
    assert!(
        w.assumptions
            .iter()
            .any(|x| x.contains("`aws_kms_key.c` sets its own `policy`") && x.contains("aws_kms_key_policy.c")),
        "{:#?}",
        w.assumptions
    );
    assert_eq!(w.keys.len(), 3);
}

#[test]
fn references_through_modules_and_synthesized_iam_arns() {
    // A key in `module.kms` used by a grant and a role policy attachment in the root through
    // the module's output; a managed policy whose ARN is synthesized from path and name.
    let resources = serde_json::json!([
        {"address": "aws_kms_grant.app", "mode": "managed", "type": "aws_kms_grant", "name": "app", "values": {
            "name": "app", "operations": ["Decrypt"], "constraints": [], "retiring_principal": null}},
        {"address": "aws_iam_role.app", "mode": "managed", "type": "aws_iam_role", "name": "app", "values": {
            "name": "App", "path": "/svc/",
            "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}},
        {"address": "aws_iam_policy.kms", "mode": "managed", "type": "aws_iam_policy", "name": "kms", "values": {
            "name": "KmsUse", "path": "/app/"}},
        {"address": "aws_iam_role_policy_attachment.app", "mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "app", "values": {
            "role": "App"}},
        {"address": "aws_iam_user_policy.ci", "mode": "managed", "type": "aws_iam_user_policy", "name": "ci", "values": {
            "name": "ci", "user": "ci",
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}"}},
    ]);
    let mut doc: serde_json::Value = serde_json::from_str(&plan(&resources, &serde_json::json!({}))).unwrap();
    doc["planned_values"]["root_module"]["child_modules"] = serde_json::json!([{"address": "module.kms", "resources": [
        {"address": "module.kms.aws_kms_key.this", "mode": "managed", "type": "aws_kms_key", "name": "this", "values": {
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}}
    ]}]);
    doc["resource_changes"] = serde_json::json!([
        {"address": "aws_kms_grant.app", "change": {"after_unknown": {"key_id": true, "grantee_principal": true, "grant_id": true}}},
        {"address": "aws_iam_policy.kms", "change": {"after_unknown": {"arn": true, "policy": true}}},
        {"address": "aws_iam_role_policy_attachment.app", "change": {"after_unknown": {"policy_arn": true}}},
        {"address": "module.kms.aws_kms_key.this", "change": {"after_unknown": {"arn": true, "key_id": true}}},
    ]);
    doc["configuration"] = serde_json::json!({
        "provider_config": {
            "aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-west-2"}}},
            "module.kms:aws": {"name": "aws", "module_address": "module.kms"}
        },
        "root_module": {
            "resources": [
                {"address": "aws_kms_grant.app", "type": "aws_kms_grant", "name": "app", "provider_config_key": "aws", "expressions": {
                    "key_id": {"references": ["module.kms.key_arn", "module.kms"]},
                    "grantee_principal": {"references": ["aws_iam_role.app.arn", "aws_iam_role.app"]}}},
                {"address": "aws_iam_policy.kms", "type": "aws_iam_policy", "name": "kms", "provider_config_key": "aws", "expressions": {
                    "policy": {"references": ["module.kms.key_arn", "module.kms"]}}},
                {"address": "aws_iam_role_policy_attachment.app", "type": "aws_iam_role_policy_attachment", "name": "app", "provider_config_key": "aws", "expressions": {
                    "role": {"references": ["aws_iam_role.app.name", "aws_iam_role.app"]},
                    "policy_arn": {"references": ["aws_iam_policy.kms.arn", "aws_iam_policy.kms"]}}},
            ],
            "module_calls": {"kms": {"source": "./modules/kms", "expressions": {}, "module": {
                "outputs": {"key_arn": {"expression": {"references": ["aws_kms_key.this.arn", "aws_kms_key.this"]}}},
                "resources": [{"address": "aws_kms_key.this", "type": "aws_kms_key", "name": "this", "provider_config_key": "module.kms:aws",
                               "expressions": {"policy": {"constant_value": "…"}}}]
            }}}
        }
    });
    let w = one("plan.json", &serde_json::to_string_pretty(&doc).unwrap());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let key = w.find_key("module.kms.aws_kms_key.this").unwrap();
    assert_eq!(key.arn, "arn:aws:kms:us-west-2:111122223333:key/<unknown:module.kms.aws_kms_key.this>");
    let grants = key.grants.as_ref().unwrap();
    assert_eq!(grants.len(), 1, "the grant's key is found through `module.kms.key_arn`");
    assert_eq!(grants[0].grantee, "arn:aws:iam::111122223333:role/svc/App");
    assert_eq!(grants[0].id, "<unknown:aws_kms_grant.app>");

    let role = w.role("111122223333", "App").unwrap();
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/svc/App");
    assert_eq!(role.managed, ["arn:aws:iam::111122223333:policy/app/KmsUse"]);
    let mp = &w.managed_policies["arn:aws:iam::111122223333:policy/app/KmsUse"];
    assert_eq!(mp.policy, PolicySlot::Unknown("policy of `aws_iam_policy.kms` is unknown until apply".into()));
    let note = w.diagnostics.iter().find(|d| d.code == "KP158").unwrap();
    assert!(note.message.contains("`module.kms.key_arn`"), "{}", note.message);

    // A user the plan does not define is created from its name, with an assumption.
    let ci = w.user("111122223333", "ci").unwrap();
    assert_eq!(ci.arn, "arn:aws:iam::111122223333:user/ci");
    assert_eq!(known(&w, &ci.inline[0]).kind, DocKind::Identity);
    assert!(w.assumptions.iter().any(|a| a.contains("names user `ci`")), "{:#?}", w.assumptions);
    assert!(w.assumptions.iter().any(|a| a.contains("assumed `111122223333`")));
}

#[test]
fn services_and_organizations() {
    let key_arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let resources = serde_json::json!([
        {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k", "values": {
            "arn": key_arn, "key_id": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"}},
        {"address": "aws_s3_bucket_server_side_encryption_configuration.b", "mode": "managed",
         "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "b", "values": {
            "bucket": "orders-data",
            "rule": [{"bucket_key_enabled": true, "apply_server_side_encryption_by_default": [
                {"sse_algorithm": "aws:kms", "kms_master_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}]}]}},
        {"address": "aws_s3_bucket_replication_configuration.b", "mode": "managed",
         "type": "aws_s3_bucket_replication_configuration", "name": "b", "values": {
            "bucket": "orders-data",
            "rule": [{"status": "Enabled", "destination": [{"bucket": "arn:aws:s3:::orders-dr",
                "encryption_configuration": [{"replica_kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/mrk-1"}]}]}]}},
        {"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t", "values": {
            "name": "orders", "server_side_encryption": [{"enabled": true, "kms_key_arn": key_arn}],
            "replica": [{"region_name": "eu-west-1", "kms_key_arn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-1"}]}},
        {"address": "aws_ebs_snapshot_copy.c", "mode": "managed", "type": "aws_ebs_snapshot_copy", "name": "c", "values": {
            "id": "snap-0123456789abcdef0", "encrypted": true, "kms_key_id": key_arn, "source_snapshot_id": "snap-1"}},
        {"address": "aws_snapshot_create_volume_permission.c", "mode": "managed",
         "type": "aws_snapshot_create_volume_permission", "name": "c", "values": {
            "snapshot_id": "snap-0123456789abcdef0", "account_id": "999988887777"}},
        {"address": "aws_snapshot_create_volume_permission.other", "mode": "managed",
         "type": "aws_snapshot_create_volume_permission", "name": "other", "values": {
            "snapshot_id": "snap-elsewhere", "account_id": "999988887777"}},
        {"address": "aws_organizations_policy.scp", "mode": "managed", "type": "aws_organizations_policy", "name": "scp", "values": {
            "name": "DenyKeyDeletion", "type": "SERVICE_CONTROL_POLICY",
            "content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\"}]}"}},
        {"address": "aws_organizations_policy_attachment.scp", "mode": "managed", "type": "aws_organizations_policy_attachment", "name": "scp", "values": {
            "target_id": "111122223333"}},
    ]);
    let extra = serde_json::json!({
        "resource_changes": [
            {"address": "aws_organizations_policy.scp", "change": {"after_unknown": {"id": true, "arn": true}}},
            {"address": "aws_organizations_policy_attachment.scp", "change": {"after_unknown": {"policy_id": true}}},
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_organizations_policy_attachment.scp", "type": "aws_organizations_policy_attachment", "name": "scp",
             "expressions": {"policy_id": {"references": ["aws_organizations_policy.scp.id", "aws_organizations_policy.scp"]}}}
        ]}}
    });
    let w = one("plan.json", &plan(&resources, &extra));
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert!(!w.diagnostics.iter().any(|d| d.code == "KP158"), "{:#?}", w.diagnostics);
    let b = &w.buckets[0];
    assert_eq!(b.name, "orders-data");
    assert_eq!(b.kms_key.as_deref(), Some(key_arn), "a bare key id of a plan key is its ARN");
    assert_eq!(b.sse_algorithm.as_deref(), Some("aws:kms"));
    assert_eq!(b.bucket_key_enabled, Some(true));
    assert_eq!(
        b.replication,
        [("arn:aws:s3:::orders-dr".to_string(), Some("arn:aws:kms:eu-west-1:111122223333:key/mrk-1".to_string()))]
    );
    assert_eq!(w.buckets.len(), 1);
    let t = &w.tables[0];
    assert_eq!(t.arn, "arn:aws:dynamodb:us-east-1:111122223333:table/orders");
    assert_eq!(t.kms_key.as_deref(), Some(key_arn));
    assert_eq!(t.replicas[0].0, "eu-west-1");
    let s = w.snapshots.iter().find(|s| s.id == "snap-0123456789abcdef0").unwrap();
    assert!(s.encrypted);
    assert_eq!(s.kms_key.as_deref(), Some(key_arn));
    assert_eq!(s.shared_with, ["999988887777"]);
    assert!(w.snapshots.iter().any(|s| s.id == "snap-elsewhere" && s.shared_with == ["999988887777"]));
    assert!(w.assumptions.iter().any(|a| a.contains("encryption of snapshot `snap-elsewhere` not collected")));
    let scp = &w.org_policies["<unknown:aws_organizations_policy.scp>"];
    assert_eq!(scp.kind, DocKind::Scp);
    assert_eq!(known(&w, &scp.policy).kind, DocKind::Scp);
    let org = w.org.as_ref().unwrap();
    assert_eq!(org.attachments["111122223333"], ["<unknown:aws_organizations_policy.scp>"]);
}

#[test]
fn the_corpus_of_real_plans_loads() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!("skipping: `{CORPUS}` is not present beside the checkout");
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(!files.is_empty());
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let w = load(&[f.display().to_string()], &LoadOptions::default());
        println!(
            "{}: {} keys, {} roles, {} users, {} policies, {} KP158 notes, {} errors",
            f.file_name().unwrap().to_string_lossy(),
            w.keys.len(),
            w.roles.len(),
            w.users.len(),
            w.policies.len(),
            w.diagnostics.iter().filter(|d| d.code == "KP158").count(),
            w.errors.len()
        );
        assert_eq!(w.files.len(), 1);
        assert_eq!(w.files[0].kind, "terraform", "{}", f.display());
        assert!(!w.errors.iter().any(|e| e.message.starts_with("internal error")), "{:#?}", w.errors);
    }
}

#[test]
fn locations_point_at_the_terraform_sources_when_present() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tf-sources");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("modules/shared-kms")).unwrap();
    std::fs::copy(PLAN, dir.join("plan.json")).unwrap();
    let main = "terraform {\n  required_version = \">= 1.5\"\n}\n\nresource \"aws_kms_key\" \"orders\" {\n  description = \"orders data\"\n}\n\nresource \"aws_iam_role_policy\" \"orders_kms\" {\n  role = aws_iam_role.orders_app.name\n}\n\nmodule \"shared_kms\" {\n  source = \"./modules/shared-kms\"\n}\n";
    std::fs::write(dir.join("main.tf"), main).unwrap();
    let module = "resource \"aws_kms_key\" \"this\" {\n  count = 1\n}\n\n  resource \"aws_kms_key\" \"indented_is_not_a_header\" {\n}\n";
    std::fs::write(dir.join("modules/shared-kms/main.tf"), module).unwrap();

    let w = load(&[dir.join("plan.json").display().to_string()], &LoadOptions::default());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let at = |o: &keyproof::world::Origin| {
        let l = w.sources.locate(o.source.unwrap(), o.span);
        (Path::new(&l.file).strip_prefix(&dir).unwrap().display().to_string(), l.line, l.column)
    };
    let orders = w.find_key("aws_kms_key.orders").unwrap();
    assert_eq!(at(&orders.origin), ("main.tf".to_string(), 5, 1));
    assert_eq!(
        w.sources.outer_text(orders.origin.source.unwrap(), orders.origin.span).unwrap(),
        "resource \"aws_kms_key\" \"orders\" {"
    );
    let module_key = w.find_key("module.shared_kms.aws_kms_key.this[0]").unwrap();
    assert_eq!(at(&module_key.origin), ("modules/shared-kms/main.tf".to_string(), 1, 1));
    // Not in the sources: stays in the plan.
    let replica = w.find_key("module.shared_kms.aws_kms_replica_key.eu[0]").unwrap();
    assert!(at(&replica.origin).0 == "plan.json");
    // The KP158 note follows its resource; findings inside a policy stay in the plan.
    let note = w.diagnostics.iter().find(|d| d.code == "KP158").unwrap();
    let l = w.sources.locate(note.source, note.span);
    assert!(l.file.ends_with("main.tf") && l.line == 9, "{l:?}");
    let cond = &key_policy(&w, orders).policy.statements[1].conditions[0];
    assert!(w.sources.locate(key_policy(&w, orders).policy.source, cond.values[0].span).file.ends_with("plan.json"));

    // `--tf-dir` for a plan read from elsewhere (here: in memory).
    let text = std::fs::read_to_string(PLAN).unwrap();
    let opts = LoadOptions { tf_dir: Some(dir.display().to_string()), ..LoadOptions::default() };
    let w2 = load_texts(&[("<stdin>".to_string(), text)], &opts);
    let k = w2.find_key("aws_kms_key.orders").unwrap();
    assert!(w2.sources.locate(k.origin.source.unwrap(), k.origin.span).file.ends_with("main.tf"));
}

#[test]
fn region_from_the_provider_configuration() {
    // AWS provider v5 plans have no `region` attribute: the replica's Region comes from
    // `module.shared_kms:aws.eu`, the other resources' from the root provider `aws`.
    let text = std::fs::read_to_string(PLAN).unwrap();
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("region").is_some_and(serde_json::Value::is_string) {
                    m.remove("region");
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    strip(&mut doc);
    let v5 = serde_json::to_string_pretty(&doc).unwrap();
    assert!(!v5.contains("\"region\": \"eu-west-1\","));
    let opts = LoadOptions { region: "ca-central-1".into(), ..LoadOptions::default() };
    let w = load_texts(&[("plan.json".to_string(), v5)], &opts);
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert_eq!(w.find_key("module.shared_kms.aws_kms_replica_key.eu[0]").unwrap().region, "eu-west-1");
    assert_eq!(w.find_key("module.shared_kms.aws_kms_key.this[0]").unwrap().region, "us-east-1");
    assert_eq!(w.find_key("aws_kms_key.orders").unwrap().region, "us-east-1");
    assert!(!w.assumptions.iter().any(|a| a.contains("Region of provider")), "{:#?}", w.assumptions);
}
