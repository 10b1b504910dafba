//! Loading inputs into one world: the spec's examples, a snapshot directory, bad inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use keyproof::ingest::{load, load_texts, LoadOptions};
use keyproof::policy::err::Severity;
use keyproof::policy::model::DocKind;
use keyproof::world::{PolicyEntry, PolicySlot, World};

const EXAMPLES: &str = "../shared/spec/examples";
const FIXTURES: &str = "fixtures/ingest";

fn examples_present() -> bool {
    let ok = Path::new(EXAMPLES).is_dir();
    if !ok {
        println!("skipping: `{EXAMPLES}` is not present beside the checkout");
    }
    ok
}

fn known<'w>(w: &'w World, slot: &PolicySlot) -> &'w PolicyEntry {
    match slot {
        PolicySlot::Known(id) => w.policy(*id).expect("policy id in table"),
        PolicySlot::Unknown(why) => panic!("policy unknown: {why}"),
    }
}

/// 1-based line and column (characters) of the first occurrence of `needle`.
fn pos(text: &str, needle: &str) -> (u32, u32) {
    pos_at(text, text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in text")))
}

/// 1-based line and column (characters) of a byte offset.
fn pos_at(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (u32::try_from(line).unwrap(), u32::try_from(col).unwrap())
}

/// A comparable digest of a policy: (sid, effect, actions, resources, conditions).
fn digest(e: &PolicyEntry) -> Vec<String> {
    e.policy
        .statements
        .iter()
        .map(|s| {
            let conds: Vec<String> = s
                .conditions
                .iter()
                .map(|c| {
                    let vals: Vec<&str> = c.values.iter().map(|v| v.value.as_str()).collect();
                    format!("{} {} {vals:?}", c.op_text.value, c.key.value)
                })
                .collect();
            let acts: Vec<&str> = s.action.items.iter().map(|a| a.value.as_str()).collect();
            let res: Vec<&str> = s.resource.iter().flat_map(|r| r.items.iter().map(|i| i.value.as_str())).collect();
            let prs: Vec<String> = s.principal.iter().flat_map(|p| p.entries.iter().map(|e| e.raw.clone())).collect();
            format!(
                "{:?} {} {acts:?} {res:?} {prs:?} {conds:?} broken={}",
                s.sid.as_ref().map(|x| &x.value),
                s.effect.as_str(),
                s.broken
            )
        })
        .collect()
}

#[test]
fn examples_load_into_one_world() {
    if !examples_present() {
        return;
    }
    let w = load(&[EXAMPLES.to_string()], &LoadOptions::default());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    // README.md is not a JSON file and is not walked.
    assert_eq!(w.files.len(), 18, "{:#?}", w.files);
    assert!(w.files.iter().all(|f| f.sha256.len() == 64 && f.size > 0));
    // The Terraform plan is mapped (tests/terraform.rs checks it in detail).
    assert!(w.find_key("aws_kms_key.orders").is_some());
    assert!(w
        .assumptions
        .iter()
        .any(|a| a == "AWS attaches the default key policy to `module.shared_kms.aws_kms_key.this[0]`"));
    assert!(w.assumptions.windows(2).all(|p| p[0] < p[1]), "assumptions sorted and unique");

    // get-key-policy: an embedded source whose spans map back into the outer file.
    let key = w.keys.iter().find(|k| k.arn == "arn:aws:kms:us-east-1:111122223333:key/get-key-policy").unwrap();
    let entry = known(&w, key.policy.as_ref().unwrap());
    assert_eq!(entry.kind, DocKind::KeyPolicy);
    assert_eq!(entry.account.as_deref(), Some("111122223333"), "account inferred from the root principal");
    let st = &entry.policy.statements[0];
    let outer = fs::read_to_string(format!("{EXAMPLES}/get-key-policy.json")).unwrap();
    let loc = w.sources.locate(entry.policy.source, st.span);
    assert!(loc.file.ends_with("get-key-policy.json"), "{loc:?}");
    assert_eq!((loc.line, loc.column), pos(&outer, r#"{\n    \"Sid\""#));
    let principal = &st.principal.as_ref().unwrap().entries[0];
    let text = w.sources.outer_text(entry.policy.source, principal.span).unwrap();
    assert_eq!(text, r#"\"arn:aws:iam::111122223333:root\""#);
    let ploc = w.sources.locate(entry.policy.source, principal.span);
    assert_eq!((ploc.line, ploc.column), pos(&outer, r#"\"arn:aws:iam::111122223333:root\""#));

    // Loose key policies: the account the policy lets administer the key (the `kms:*` delegation
    // statement), else a single root principal, else the default with an assumption.
    assert!(w.keys.iter().any(|k| k.arn == "arn:aws:kms:us-east-1:111122223333:key/key-policy-locked-out"));
    assert!(w.keys.iter().any(|k| k.arn == "arn:aws:kms:us-east-1:111122223333:key/key-policy-cross-account-org"));
    assert!(!w.assumptions.iter().any(|a| a.contains("key-policy-cross-account-org.json") && a.contains("assumed")));
    assert_eq!(w.loose_identity.len(), 1);

    // describe-key with CLI v1 epoch timestamps.
    let pending = w.find_key("arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321").unwrap();
    let md = pending.metadata.as_ref().unwrap();
    assert_eq!(md.state, "PendingDeletion");
    assert_eq!(md.deletion_date.as_deref(), Some("2024-04-02T00:00:00Z"));
    assert_eq!((md.spec.as_str(), md.usage.as_str()), ("ECC_NIST_P256", "SIGN_VERIFY"));
    let mrk = w.find_key("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab").unwrap();
    let md = mrk.metadata.as_ref().unwrap();
    assert!(md.multi_region);
    assert_eq!(md.multi_region_type.as_deref(), Some("PRIMARY"));
    assert_eq!(md.replica_arns.len(), 1);

    // list-grants: three grants with their constraints.
    let orders = w.find_key("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
    let grants = orders.grants.as_ref().unwrap();
    assert_eq!(grants.len(), 3);
    let subset: BTreeMap<String, String> = [("AppName".to_string(), "Orders".to_string())].into();
    assert_eq!(grants[0].ec_subset.as_ref(), Some(&subset));
    assert_eq!(grants[0].name.as_deref(), Some("orders-batch"));
    assert_eq!(grants[1].ec_equals.as_ref().and_then(|m| m.get("Department")).map(String::as_str), Some("IT"));
    assert_eq!(grants[1].name, None);
    assert_eq!(grants[2].grantee, "dynamodb.us-east-1.amazonaws.com");
    assert_eq!(grants[2].ec_subset.as_ref().map(BTreeMap::len), Some(2));
    assert_eq!(orders.rotation.as_ref().map(|r| (r.enabled, r.period_days)), Some((true, Some(365))));
    assert_eq!(w.aliases_of(orders), vec!["alias/orders".to_string()]);
    assert!(orders.policy.is_none());
    assert!(w.assumptions.iter().any(|a| a == &format!("key policy of `{}` not collected", orders.arn)));

    // Authorization details: users, groups, roles, managed policies (default version only).
    assert_eq!(w.users.len(), 1);
    let alice = &w.users[0];
    assert_eq!(alice.groups, vec!["Developers".to_string()]);
    assert_eq!(alice.boundary.as_deref(), Some("arn:aws:iam::111122223333:policy/boundaries/DevBoundary"));
    assert_eq!(alice.tags.get("team").map(String::as_str), Some("orders"));
    assert_eq!(w.groups.len(), 1);
    assert_eq!(w.roles.len(), 2);
    assert_eq!(w.managed_policies.len(), 3);
    let mp = &w.managed_policies["arn:aws:iam::111122223333:policy/OrdersKmsAccess"];
    let mpe = known(&w, &mp.policy);
    assert_eq!(mpe.kind, DocKind::Identity);
    let acts: Vec<&str> = mpe.policy.statements[0].action.items.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(acts, ["kms:Decrypt", "kms:DescribeKey"], "v2 is the default version");
    assert!(w.accounts["111122223333"].iam_complete);
    let key_admin = w.roles.iter().find(|r| r.name == "KeyAdmin").unwrap();
    assert_eq!(known(&w, key_admin.trust.as_ref().unwrap()).kind, DocKind::Trust);

    // Organizations: SCP and RCP documents, hierarchy, attachments.
    let scp = &w.org_policies["p-examplescp1"];
    assert_eq!(scp.kind, DocKind::Scp);
    let scp_entry = known(&w, &scp.policy);
    assert_eq!(scp_entry.policy.statements[0].sid.as_ref().unwrap().value, "ProtectKmsKeys");
    let scp_text = fs::read_to_string(format!("{EXAMPLES}/organizations-describe-policy-scp.json")).unwrap();
    let sloc = w.sources.locate(scp_entry.policy.source, scp_entry.policy.statements[0].span);
    assert_eq!(sloc.line, pos(&scp_text, "\"Content\"").0);
    let rcp = &w.org_policies["p-examplercp1"];
    assert_eq!(rcp.kind, DocKind::Rcp);
    assert_eq!(known(&w, &rcp.policy).policy.statements.len(), 2);
    assert!(matches!(w.org_policies["p-FullAWSAccess"].policy, PolicySlot::Known(_)));
    assert_eq!(w.org_policies["p-RCPFullAWSAccess"].kind, DocKind::Rcp);
    assert!(
        !w.diagnostics.iter().any(|d| d.code == "KP152"),
        "no validity problems in the examples: {:#?}",
        w.diagnostics
    );
    let org = w.org.as_ref().unwrap();
    assert_eq!(org.id, "o-a1b2c3d4e5");
    assert_eq!(org.management_account.as_deref(), Some("999988887777"));
    assert_eq!(org.roots, vec!["r-ab12".to_string()]);
    assert_eq!(org.parents.get("111122223333").map(String::as_str), Some("ou-ab12-11111111"));
    assert!(org.attachments["ou-ab12-11111111"].contains(&"p-examplescp1".to_string()));
    assert_eq!(org.scp_enabled, Some(true));
    assert_eq!(org.org_path("111122223333"), "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/");
}

#[test]
fn url_encoded_documents_equal_the_decoded_form() {
    if !examples_present() {
        return;
    }
    let opts = LoadOptions::default();
    let enc = load(&[format!("{EXAMPLES}/get-account-authorization-details-urlencoded-fragment.json")], &opts);
    let dec = load(&[format!("{EXAMPLES}/get-account-authorization-details.json")], &opts);
    assert!(enc.errors.is_empty() && enc.diagnostics.is_empty(), "{:#?} {:#?}", enc.errors, enc.diagnostics);
    let role = |w: &World| w.roles.iter().find(|r| r.name == "OrdersApp").cloned().unwrap();
    let (re, rd) = (role(&enc), role(&dec));
    assert_eq!(re.inline.len(), 1);
    assert_eq!(digest(known(&enc, &re.inline[0])), digest(known(&dec, &rd.inline[0])));
    assert_eq!(digest(known(&enc, re.trust.as_ref().unwrap())), digest(known(&dec, rd.trust.as_ref().unwrap())));
    assert_eq!(re.managed, rd.managed);
    assert_eq!(re.boundary, rd.boundary);
    // Spans inside the URL-encoded string map back to the percent-encoded text.
    let e = known(&enc, &re.inline[0]);
    let sid = e.policy.statements[0].sid.as_ref().unwrap();
    assert_eq!(enc.sources.outer_text(e.policy.source, sid.span).as_deref(), Some("%22UseOrdersKey%22"));
    let text =
        fs::read_to_string(format!("{EXAMPLES}/get-account-authorization-details-urlencoded-fragment.json")).unwrap();
    let loc = enc.sources.locate(e.policy.source, sid.span);
    assert_eq!((loc.line, loc.column), pos(&text, "%22UseOrdersKey%22"));
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let p = std::env::temp_dir().join(format!("keyproof-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const KEY_A: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

fn write_snapshot(t: &TempDir) {
    let policy = "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";
    let kdir = format!("111122223333/kms/us-east-1/keys/{KEY_A}");
    t.write(
        &format!("{kdir}/key-policy.json"),
        &serde_json::json!({ "Policy": policy, "PolicyName": "default" }).to_string(),
    );
    t.write(
        &format!("{kdir}/describe-key.json"),
        &serde_json::json!({ "KeyMetadata": {
            "AWSAccountId": "111122223333", "KeyId": KEY_A,
            "Arn": format!("arn:aws:kms:us-east-1:111122223333:key/{KEY_A}"),
            "CreationDate": 1_709_287_200.0, "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": "Enabled", "Origin": "AWS_KMS", "KeyManager": "CUSTOMER",
            "KeySpec": "SYMMETRIC_DEFAULT", "MultiRegion": false } })
        .to_string(),
    );
    t.write(
        &format!("{kdir}/list-grants.json"),
        &serde_json::json!({ "Grants": [
            { "GrantId": "g1", "GranteePrincipal": "arn:aws:iam::444455556666:role/Reader",
              "Operations": ["Decrypt"], "Constraints": { "EncryptionContextEquals": { "k": "v" } } },
            { "GrantId": "g2", "GranteePrincipal": "arn:aws:iam::111122223333:role/App", "Operations": ["Encrypt"] } ] })
        .to_string(),
    );
    t.write(&format!("{kdir}/rotation-status.json"), r#"{"KeyRotationEnabled": false}"#);
    t.write(
        "111122223333/kms/us-east-1/keys/5678/describe-key.json",
        r#"{"KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": "5678", "KeyManager": "AWS", "KeyState": "Enabled"}}"#,
    );
    t.write(
        "111122223333/kms/us-east-1/list-aliases.json",
        &format!(r#"{{"Aliases": [{{"AliasName": "alias/a", "TargetKeyId": "{KEY_A}"}}]}}"#),
    );
    t.write(
        "111122223333/iam/authorization-details.json",
        r#"{"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [
            {"RoleName": "App", "Path": "/", "Arn": "arn:aws:iam::111122223333:role/App",
             "AssumeRolePolicyDocument": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
             "RolePolicyList": [{"PolicyName": "use", "PolicyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}"}],
             "AttachedManagedPolicies": []}]}"#,
    );
    t.write(
        "444455556666/iam/authorization-details-1.json",
        r#"{"RoleDetailList": [{"RoleName": "Reader", "Arn": "arn:aws:iam::444455556666:role/Reader", "RolePolicyList": []}],
            "IsTruncated": true, "Marker": "m1"}"#,
    );
    t.write(
        "444455556666/iam/authorization-details-2.json",
        r#"{"UserDetailList": [{"UserName": "bob", "Arn": "arn:aws:iam::444455556666:user/bob"}], "IsTruncated": false}"#,
    );
    t.write(
        "organization/describe-organization.json",
        r#"{"Organization": {"Id": "o-abc", "MasterAccountId": "999988887777"}}"#,
    );
    t.write(
        "organization/list-accounts.json",
        r#"{"Accounts": [{"Id": "111122223333"}, {"Id": "444455556666"}, {"Id": "999988887777"}]}"#,
    );
    t.write(
        "organization/list-roots.json",
        r#"{"Roots": [{"Id": "r-ab12", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}]}"#,
    );
    t.write(
        "organization/parents/r-ab12/list-organizational-units-for-parent.json",
        r#"{"OrganizationalUnits": [{"Id": "ou-ab12-1"}]}"#,
    );
    t.write(
        "organization/parents/ou-ab12-1/list-accounts-for-parent.json",
        r#"{"Accounts": [{"Id": "111122223333"}]}"#,
    );
    t.write("organization/parents/r-ab12/list-accounts-for-parent.json", r#"{"Accounts": [{"Id": "999988887777"}]}"#);
    t.write(
        "organization/policies/p-1/describe-policy.json",
        &serde_json::json!({ "Policy": {
            "PolicySummary": { "Id": "p-1", "Name": "Deny", "Type": "SERVICE_CONTROL_POLICY" },
            "Content": "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\"}]}" } })
        .to_string(),
    );
    t.write(
        "organization/policies/p-1/list-targets.json",
        r#"{"Targets": [{"TargetId": "ou-ab12-1", "Type": "ORGANIZATIONAL_UNIT"}]}"#,
    );
    t.write("notes.txt", "not an input");
    t.write(".hidden/x.json", "not json either");
}

#[test]
fn snapshot_directory_loads_into_one_world() {
    let t = TempDir::new("snapshot");
    write_snapshot(&t);
    #[cfg(unix)]
    std::os::unix::fs::symlink("..", t.0.join("111122223333/loop")).unwrap();
    let root = t.0.display().to_string();
    let w = load(std::slice::from_ref(&root), &LoadOptions::default());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert!(w.diagnostics.is_empty(), "{:#?}", w.diagnostics);
    assert_eq!(w.files.len(), 17, "every JSON file once, symlink loop walked once: {:#?}", w.files);

    let arn_a = format!("arn:aws:kms:us-east-1:111122223333:key/{KEY_A}");
    let a = w.find_key(&arn_a).unwrap();
    let entry = known(&w, a.policy.as_ref().unwrap());
    assert_eq!(entry.kind, DocKind::KeyPolicy);
    let loc = w.sources.locate(entry.policy.source, entry.policy.statements[0].span);
    assert!(loc.file.ends_with(&format!("{KEY_A}/key-policy.json")), "{loc:?}");
    assert!(a.metadata.is_some());
    assert_eq!(a.grants.as_ref().map(Vec::len), Some(2));
    assert_eq!(a.grants.as_ref().unwrap()[0].key_arn, arn_a);
    assert_eq!(a.rotation.as_ref().map(|r| r.enabled), Some(false));
    assert_eq!(w.aliases_of(a), vec!["alias/a".to_string()]);

    let b = w.find_key("arn:aws:kms:us-east-1:111122223333:key/5678").unwrap();
    assert!(b.is_aws_managed());
    assert!(b.policy.is_none() && b.grants.is_none());
    assert!(w
        .assumptions
        .contains(&"grants of `arn:aws:kms:us-east-1:111122223333:key/5678` not collected".to_string()));
    assert!(!w.assumptions.iter().any(|x| x.contains(&format!("grants of `{arn_a}`"))));

    assert!(w.accounts["111122223333"].iam_complete && w.accounts["111122223333"].kms_collected);
    assert!(w.accounts["444455556666"].iam_complete, "two pages, the last one not truncated");
    assert!(!w.accounts["444455556666"].kms_collected);
    assert_eq!(w.roles.len(), 2);
    assert_eq!(w.users.len(), 1);
    let app = w.roles.iter().find(|r| r.name == "App").unwrap();
    assert_eq!(known(&w, app.trust.as_ref().unwrap()).policy.statements.len(), 1);
    assert_eq!(known(&w, &app.inline[0]).kind, DocKind::Identity);

    let org = w.org.as_ref().unwrap();
    assert_eq!(org.id, "o-abc");
    assert_eq!(org.path_to("111122223333"), ["r-ab12", "ou-ab12-1", "111122223333"]);
    assert_eq!(org.attachments["ou-ab12-1"], ["p-1"]);
    assert!(matches!(w.org_policies["p-1"].policy, PolicySlot::Known(_)));
    assert!(w.assumptions.iter().any(|x| x.contains("account `444455556666` is not placed")));
    assert!(!w.assumptions.iter().any(|x| x.contains("account `111122223333` is not placed")));

    // The same world from a glob pattern over the key directory.
    let w2 = load(&[format!("{root}/*/kms/*/keys/*/*.json")], &LoadOptions::default());
    assert!(w2.errors.is_empty(), "{:#?}", w2.errors);
    assert_eq!(w2.files.len(), 5);
    assert_eq!(w2.find_key(&arn_a).unwrap().grants.as_ref().map(Vec::len), Some(2));
}

#[test]
fn bad_inputs_are_reported_with_positions_and_the_rest_still_loads() {
    let missing = format!("{FIXTURES}/does-not-exist.json");
    let w = load(&[FIXTURES.to_string(), missing.clone(), format!("{FIXTURES}/*.nomatch")], &LoadOptions::default());
    let text = |name: &str| String::from_utf8_lossy(&fs::read(format!("{FIXTURES}/{name}")).unwrap()).into_owned();
    let err = |name: &str| {
        w.errors.iter().find(|e| e.file.ends_with(name)).unwrap_or_else(|| panic!("{name}: {:#?}", w.errors))
    };
    let diag = |name: &str, code: &str| {
        let d = w
            .diagnostics
            .iter()
            .find(|d| d.code == code && w.sources.locate(d.source, d.span).file.ends_with(name))
            .unwrap_or_else(|| panic!("{code} in {name}: {:#?}", w.diagnostics));
        (d.clone(), w.sources.locate(d.source, d.span))
    };

    assert_eq!(err("does-not-exist.json").message, "path does not exist");
    assert_eq!(err("*.nomatch").message, "no file matches the pattern");

    let e = err("invalid-utf8.json");
    assert!(e.message.contains("invalid UTF-8"), "{e:?}");
    assert_eq!((e.line, e.column), (Some(3), Some(14)));

    let (d, loc) = diag("bom-key-policy.json", "KP150");
    assert_eq!(d.severity, Some(Severity::Note));
    assert_eq!((loc.line, loc.column), (1, 1));
    let bom_key = w.keys.iter().find(|k| k.arn.ends_with("key/bom-key-policy")).unwrap();
    assert_eq!(bom_key.account, "444455556666", "account inferred, the document still loaded");

    let (d, loc) = diag("duplicate-key-list-grants.json", "KP151");
    assert!(d.message.contains("`GranteePrincipal`"));
    let dup_text = text("duplicate-key-list-grants.json");
    let second = dup_text.rfind("\"GranteePrincipal\"").unwrap();
    assert_eq!((loc.line, loc.column), pos_at(&dup_text, second));

    let (d, loc) = diag("empty-statement.json", "KP152");
    assert!(d.message.contains("`Statement` is empty"), "{d:?}");
    assert_eq!((loc.line, loc.column), pos(&text("empty-statement.json"), "[]"));

    let (d, loc) = diag("deep-nesting.json", "KP150");
    assert!(d.message.contains("nesting deeper than `256` levels"), "{d:?}");
    assert_eq!(loc.line, 1);
    assert!(loc.column > 256);

    let (d, loc) = diag("wrong-type-list-grants.json", "KP152");
    assert_eq!(d.message, "`GranteePrincipal` must be a string, not a number");
    assert_eq!(d.pointer, "/Grants/0/GranteePrincipal");
    let wt = text("wrong-type-list-grants.json");
    let (l, c) = pos(&wt, "\"GranteePrincipal\": 5");
    assert_eq!((loc.line, loc.column), (l, c + u32::try_from("\"GranteePrincipal\": ".len()).unwrap()));
    let wt_key = w.find_key("arn:aws:kms:us-east-1:111122223333:key/wrong-type-key").unwrap();
    assert_eq!(wt_key.grants.as_ref().map(Vec::len), Some(0), "the bad grant is not read, the file is");

    // Every file that could be read is recorded, including the bad ones (the iam-collect tree
    // beside them is tested on its own).
    let loose = w.files.iter().filter(|f| !f.path.contains("/iam-collect/")).count();
    assert_eq!(loose, 6, "{:#?}", w.files);
    assert!(w.files.iter().any(|f| f.path.ends_with("deep-nesting.json") && f.kind == "invalid-json"));
    assert!(w.errors.windows(2).all(|p| p[0].file <= p[1].file));
}

#[test]
fn oversized_and_empty_inputs() {
    let t = TempDir::new("limits");
    let big = t.0.join("big.json");
    fs::File::create(&big).unwrap().set_len(64 * 1024 * 1024 + 1).unwrap();
    t.write("empty/notes.txt", "x");
    t.write("ok.json", r#"{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#);
    let w = load(
        &[
            big.display().to_string(),
            t.0.join("empty").display().to_string(),
            t.0.join("ok.json").display().to_string(),
        ],
        &LoadOptions::default(),
    );
    assert_eq!(w.errors.len(), 2, "{:#?}", w.errors);
    assert!(w.errors.iter().any(|e| e.file.ends_with("big.json")
        && e.message == "file is larger than the `64 MiB` input limit: it was not read"));
    assert!(w.errors.iter().any(|e| e.file.ends_with("empty") && e.message.contains("no `*.json` file")));
    assert_eq!(w.loose_identity.len(), 1);
}

#[test]
fn loose_documents_take_their_context_from_the_options() {
    let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/A"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
    let opts = LoadOptions {
        key_arn: Some("arn:aws:kms:eu-west-1:444455556666:key/k-1".into()),
        org_id: Some("o-xyz".into()),
        org_accounts: vec!["444455556666".into()],
        ..LoadOptions::default()
    };
    let w = load_texts(&[("kp.json".into(), policy.into())], &opts);
    let k = &w.keys[0];
    assert_eq!(
        (k.arn.as_str(), k.account.as_str(), k.region.as_str(), k.id.as_str()),
        ("arn:aws:kms:eu-west-1:444455556666:key/k-1", "444455556666", "eu-west-1", "k-1")
    );
    assert!(!w.assumptions.iter().any(|a| a.contains("is not known: assumed")), "{:#?}", w.assumptions);
    assert_eq!(known(&w, k.policy.as_ref().unwrap()).account.as_deref(), Some("444455556666"));
    let org = w.org.as_ref().unwrap();
    assert_eq!((org.id.as_str(), org.accounts.as_slice()), ("o-xyz", ["444455556666".to_string()].as_slice()));

    // Two loose key policies: `--key-arn` does not apply; same stems get distinct keys.
    let w = load_texts(&[("a/kp.json".into(), policy.into()), ("b/kp.json".into(), policy.into())], &opts);
    assert_eq!(w.keys.len(), 2);
    assert_ne!(w.keys[0].arn, w.keys[1].arn);
    assert!(w.assumptions.iter().any(|a| a.contains("`--key-arn")));
    assert!(w.keys.iter().all(|k| k.account == "111122223333"));
}

// ---------------------------------------------------------------------------------------
// The iam-collect layout (docs/iam-collect.md)

const IC: &str = "fixtures/ingest/iam-collect";
const IC_APP: &str = "210000000001";
const IC_DATA: &str = "210000000002";
const IC_ORDERS: &str = "arn:aws:kms:us-east-1:210000000002:key/1f2e3d4c-0000-4000-8000-00000000aaaa";
const IC_OPEN: &str = "arn:aws:kms:us-east-1:210000000002:key/2a3b4c5d-0000-4000-8000-00000000bbbb";

#[test]
fn iam_collect_layout_loads_into_one_world() {
    let w = load(&[IC.to_string()], &LoadOptions::default());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    assert!(w.diagnostics.is_empty(), "{:#?}", w.diagnostics);
    let kind = |suffix: &str| {
        w.files.iter().find(|f| f.path.ends_with(suffix)).map(|f| f.kind.as_str()).unwrap_or_else(|| panic!("{suffix}"))
    };
    // Other services' resource policies, indexes and OU names are not read (they would look like
    // key policies); a CLI output placed in a key directory is read by its shape.
    assert_eq!(kind("sqs/us-east-1/orders-queue/policy.json"), "iam-collect-unused");
    assert_eq!(kind("s3/orders-archive/policy.json"), "iam-collect-unused");
    assert_eq!(kind("indexes/accounts-to-orgs.json"), "iam-collect-unused");
    assert_eq!(kind("app-reader/instance-profiles.json"), "iam-collect-unused");
    assert_eq!(kind("00000000aaaa/list-grants.json"), "kms-list-grants");
    assert_eq!(kind("00000000aaaa/policy.json"), "iam-collect-key-policy");
    assert_eq!(kind("app-reader/trust-policy.json"), "iam-collect-trust-policy");
    assert!(w.loose_identity.is_empty() && w.loose_trust.is_empty());

    // Roles: names and ARNs from metadata.json, not from the lowercased, URL-encoded directory.
    let mut roles: Vec<&str> = w.roles.iter().map(|r| r.arn.as_str()).collect();
    roles.sort_unstable();
    assert_eq!(
        roles,
        [
            "arn:aws:iam::210000000001:role/app-reader",
            "arn:aws:iam::210000000001:role/service-role/Deployer",
            "arn:aws:iam::210000000002:role/data-admin",
        ]
    );
    let deployer = w.role(IC_APP, "Deployer").unwrap();
    assert_eq!(deployer.path, "/service-role/");
    assert!(
        deployer.inline.is_empty() && deployer.managed.is_empty(),
        "no file: none (iam-collect deletes empty files)"
    );
    let reader = w.role(IC_APP, "app-reader").unwrap();
    assert_eq!(known(&w, reader.trust.as_ref().unwrap()).kind, DocKind::Trust);
    assert_eq!(reader.inline.len(), 1);
    let inline = known(&w, &reader.inline[0]);
    assert_eq!(inline.name, "decrypt-orders");
    let loc = w.sources.locate(inline.policy.source, inline.policy.statements[0].span);
    assert!(loc.file.ends_with("app-reader/inline-policies.json"), "{loc:?}");
    let inline_text =
        fs::read_to_string(format!("{IC}/aws/aws/accounts/{IC_APP}/iam/role/app-reader/inline-policies.json")).unwrap();
    assert_eq!((loc.line, loc.column), pos(&inline_text, "{\n          \"Sid\": \"DecryptOrders\""));
    assert_eq!(reader.managed, ["arn:aws:iam::210000000001:policy/kms-encrypt-any"]);
    assert_eq!(reader.tags.get("team").map(String::as_str), Some("orders"));
    let admin = w.role(IC_DATA, "data-admin").unwrap();
    assert_eq!(admin.managed, ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    for arn in ["arn:aws:iam::210000000001:policy/kms-encrypt-any", "arn:aws:iam::aws:policy/AdministratorAccess"] {
        let mp = &w.managed_policies[arn];
        assert_eq!(known(&w, &mp.policy).policy.statements.len(), 1, "{arn}");
    }
    let alice = w.user(IC_DATA, "alice").unwrap();
    assert_eq!(alice.groups, ["key-readers"]);
    assert_eq!(w.group(IC_DATA, "key-readers").unwrap().inline.len(), 1);
    assert!(w.accounts[IC_APP].iam_complete && w.accounts[IC_DATA].iam_complete);
    assert!(w.accounts[IC_DATA].kms_collected);

    // Keys: the policy from policy.json, tags; grants only where a list-grants output was added.
    let orders = w.find_key(IC_ORDERS).unwrap();
    assert_eq!(known(&w, orders.policy.as_ref().unwrap()).policy.statements.len(), 2);
    assert_eq!(orders.tags.as_ref().unwrap().get("app").map(String::as_str), Some("orders"));
    let grants = orders.grants.as_ref().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grantee, "arn:aws:iam::210000000001:role/service-role/Deployer");
    let open = w.find_key(IC_OPEN).unwrap();
    assert!(open.grants.is_none() && open.metadata.is_none());
    assert!(w.assumptions.contains(&format!("grants of `{IC_OPEN}` not collected")));
    let entry = known(&w, open.policy.as_ref().unwrap());
    let st = &entry.policy.statements[1];
    let star = &st.principal.as_ref().unwrap().entries[0];
    let open_text = fs::read_to_string(format!(
        "{IC}/aws/aws/accounts/{IC_DATA}/kms/us-east-1/key/2a3b4c5d-0000-4000-8000-00000000bbbb/policy.json"
    ))
    .unwrap();
    let ploc = w.sources.locate(entry.policy.source, star.span);
    let (l, c) = pos(&open_text, "\"Principal\": \"*\"");
    assert_eq!((ploc.line, ploc.column), (l, c + u32::try_from("\"Principal\": ".len()).unwrap()));

    let bucket = w.buckets.iter().find(|b| b.name == "orders-archive").unwrap();
    assert_eq!(bucket.account, IC_DATA);
    assert_eq!(bucket.kms_key.as_deref(), Some(IC_ORDERS));
    assert_eq!(bucket.bucket_key_enabled, Some(true));

    // The organization: structure, enabled policy types, complete attachments, policy ids with
    // their case (the directories are lowercased).
    let org = w.org.as_ref().unwrap();
    assert_eq!(org.id, "o-kp1example");
    assert_eq!(org.management_account.as_deref(), Some("210000000000"));
    assert_eq!(org.path_to(IC_DATA), ["r-kp01", "ou-kp01-data0001", IC_DATA]);
    assert_eq!((org.scp_enabled, org.rcp_enabled), (Some(true), Some(false)));
    assert!(org.attachments_complete);
    assert_eq!(org.attachments["ou-kp01-data0001"], ["p-FullAWSAccess", "p-kpdenydel1"]);
    assert!(matches!(w.org_policies["p-FullAWSAccess"].policy, PolicySlot::Known(_)));
    let deny = &w.org_policies["p-kpdenydel1"];
    assert_eq!((deny.name.as_str(), deny.kind), ("deny-key-deletion", DocKind::Scp));
    assert!(matches!(deny.policy, PolicySlot::Known(_)));
    assert!(!w.assumptions.iter().any(|a| a.contains("is not placed")), "{:#?}", w.assumptions);
}

fn ic_texts(files: &[(&str, &str)]) -> World {
    let texts: Vec<(String, String)> =
        files.iter().map(|(n, t)| (format!("ic/aws/aws/accounts/{n}"), (*t).to_string())).collect();
    load_texts(&texts, &LoadOptions::default())
}

#[test]
fn iam_collect_bad_files_are_diagnostics_and_the_rest_still_loads() {
    let role = "111122223333/iam/role/app";
    let broken = "[{\"PolicyName\": \"p\",\n  \"PolicyDocument\": {\"Statement\": [}}]";
    let w = ic_texts(&[
        (
            &format!("{role}/metadata.json"),
            r#"{"arn": "arn:aws:iam::111122223333:role/App", "name": "App", "path": "/"}"#,
        ),
        (&format!("{role}/inline-policies.json"), broken),
        (&format!("{role}/managed-policies.json"), r#"{"not": "a list"}"#),
        ("111122223333/iam/role/nameless/trust-policy.json", r#"{"Statement": []}"#),
        (
            "111122223333/kms/eu-west-1/key/k-1/metadata.json",
            r#"{"id": "k-1", "arn": "arn:aws:kms:eu-west-1:111122223333:key/k-1"}"#,
        ),
        ("111122223333/kms/eu-west-1/key/k-1/tags.json", r#"{"env": ["a"]}"#),
        ("111122223333/s3/b/metadata.json", r#"{"name": "b", "region": "eu-west-1", "arn": "arn:aws:s3:::b"}"#),
        ("111122223333/s3/b/bpa.json", "{ not json, and not read"),
    ]);
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let at = |code: &str, file: &str| {
        let d = w
            .diagnostics
            .iter()
            .find(|d| d.code == code && w.sources.locate(d.source, d.span).file.ends_with(file))
            .unwrap_or_else(|| panic!("{code} in {file}: {:#?}", w.diagnostics));
        (d.message.clone(), w.sources.locate(d.source, d.span))
    };
    let (msg, loc) = at("KP150", "app/inline-policies.json");
    assert!(msg.starts_with("invalid JSON"), "{msg}");
    assert_eq!(loc.line, 2, "{loc:?}");
    let (msg, loc) = at("KP152", "app/managed-policies.json");
    assert_eq!(msg, "`managed-policies.json` must be an array, not an object");
    assert_eq!((loc.line, loc.column), (1, 1));
    let (msg, _) = at("KP152", "k-1/tags.json");
    assert_eq!(msg, "tag `env` must be a string, not an array");

    // The role is still read; its inline policies could not be (an unparsable file is reported,
    // the rest of the directory still counts).
    let app = w.role("111122223333", "App").unwrap();
    assert!(app.inline.is_empty() && app.managed.is_empty());
    assert!(app.trust.is_none());
    assert!(w
        .assumptions
        .iter()
        .any(|a| a
            == "the trust policy of `arn:aws:iam::111122223333:role/App` was not collected (no `trust-policy.json`)"));
    assert!(
        w.assumptions.iter().any(|a| a.contains("iam/role/nameless` has no readable `metadata.json`")),
        "{:#?}",
        w.assumptions
    );
    assert_eq!(w.roles.len(), 1);

    // A key whose policy.json is missing (access denied): not collected, never "no policy".
    let k = w.find_key("arn:aws:kms:eu-west-1:111122223333:key/k-1").unwrap();
    assert!(k.policy.is_none());
    assert!(w
        .assumptions
        .contains(&"key policy of `arn:aws:kms:eu-west-1:111122223333:key/k-1` not collected".to_string()));
    // A file keyproof does not use is not parsed: no finding of keyproof's.
    assert!(w.buckets.iter().any(|b| b.name == "b" && b.kms_key.is_none()));
    assert!(!w.diagnostics.iter().any(|d| w.sources.locate(d.source, d.span).file.ends_with("bpa.json")));
    assert!(w.files.iter().any(|f| f.path.ends_with("s3/b/bpa.json") && f.kind == "iam-collect-unused"));
    assert_eq!(w.files.len(), 8);
    assert!(w.files.iter().any(|f| f.path.ends_with("inline-policies.json") && f.kind == "invalid-json"));
}

#[test]
fn iam_collect_files_outside_a_directory_group_keep_their_own_context() {
    // The same key seen through both layouts is one key.
    let texts = vec![
        (
            "ic/aws/aws/accounts/111122223333/kms/us-east-1/key/k-2/metadata.json".to_string(),
            r#"{"id": "k-2", "arn": "arn:aws:kms:us-east-1:111122223333:key/k-2"}"#.to_string(),
        ),
        (
            "snap/111122223333/kms/us-east-1/keys/k-2/rotation-status.json".to_string(),
            r#"{"KeyRotationEnabled": true}"#.to_string(),
        ),
    ];
    let w = load_texts(&texts, &LoadOptions::default());
    assert_eq!(w.keys.len(), 1);
    assert_eq!(w.keys[0].rotation.as_ref().map(|r| r.enabled), Some(true));
}

#[test]
fn a_described_snapshot_without_its_attribute_has_unknown_sharing() {
    let dir = "snap/111122223333/ec2/us-east-1/snapshots";
    let describe = |id: &str| {
        format!(
            r#"{{"Snapshots": [{{"SnapshotId": "{id}", "OwnerId": "111122223333", "Encrypted": true, "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"}}]}}"#
        )
    };
    let texts = vec![
        (format!("{dir}/snap-1/describe-snapshots.json"), describe("snap-1")),
        (format!("{dir}/snap-2/describe-snapshots.json"), describe("snap-2")),
        (
            format!("{dir}/snap-2/describe-snapshot-attribute.json"),
            r#"{"SnapshotId": "snap-2", "CreateVolumePermissions": []}"#.to_string(),
        ),
    ];
    let w = load_texts(&texts, &LoadOptions::default());
    assert!(w.errors.is_empty(), "{:#?}", w.errors);
    let note = |id: &str| format!("sharing of snapshot `{id}` not collected (no `describe-snapshot-attribute.json`)");
    assert!(w.assumptions.contains(&note("snap-1")), "{:#?}", w.assumptions);
    assert!(!w.assumptions.contains(&note("snap-2")), "an empty attribute is known: not shared");
}
