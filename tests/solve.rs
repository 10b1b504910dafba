//! The symbolic solver: every witness replays through the evaluator, and the answers of the
//! fixtures are what the semantics say.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use keyproof::eval::authorize::{authorize, Decision};
use keyproof::ingest::{load, LoadOptions};
use keyproof::solve::{who_can, Query};
use keyproof::world::World;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn world(files: &[&str]) -> World {
    let paths: Vec<String> = files.iter().map(|f| format!("fixtures/examples/{f}")).collect();
    load(&paths, &LoadOptions { key_arn: Some(KEY.into()), ..LoadOptions::default() })
}

/// Every witness of every entry replays as Allow (transitive entries: the last hop).
fn assert_replays(w: &World, action: &str) -> keyproof::solve::Answer {
    let key = w.find_key_index(KEY).unwrap();
    let ans = who_can(w, &Query { key, action: action.into(), direct_only: false });
    for e in &ans.principals {
        let req = e.witness.request(w, key, &e.caller);
        let resp = authorize(w, &req);
        assert_eq!(
            resp.decision,
            Decision::Allow,
            "witness of {} does not replay: {:?}",
            e.principal,
            resp.explanation
        );
        if let Some(c) = &e.counter_example {
            let caller = keyproof::eval::principal::Caller::parse(&c.principal, w).unwrap();
            let resp = authorize(w, &c.request(w, key, &caller));
            assert_ne!(resp.decision, Decision::Allow, "counter-example of {} is allowed", e.principal);
        }
    }
    ans
}

#[test]
fn example_a_decrypt() {
    let w = world(&["key-policy-enable-iam-and-key-users.json", "get-account-authorization-details.json"]);
    let ans = assert_replays(&w, "kms:Decrypt");
    for e in &ans.principals {
        println!("{} {:?} {} transitive={} {:?}", e.principal, e.kind, e.condition_text, e.transitive, e.path);
    }
    let names: Vec<&str> = ans.principals.iter().map(|e| e.principal.as_str()).collect();
    assert!(names.contains(&"arn:aws:iam::111122223333:role/OrdersApp"));
    assert!(names.contains(&"arn:aws:iam::111122223333:user/alice"));
    assert!(names.contains(&"arn:aws:iam::111122223333:root"));
    assert!(!names.contains(&"*"));
}

/// semantics.md §2.4 applied to trust policies: a trust policy naming the account delegates to
/// IAM (the user needs `sts:AssumeRole`), naming the principal needs nothing more in the same
/// account; a chain user → Hop → Reader reaches the key.
#[test]
fn role_chains_reach_the_key() {
    let key_policy = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"Reader","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Reader"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
    let trust = |p: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{p}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let role = |name: &str, trust: String, inline: &str| {
        format!(
            r#"{{"Path":"/","RoleName":"{name}","RoleId":"AROA{name}XXXXXXXXXXXX","Arn":"arn:aws:iam::111122223333:role/{name}","AssumeRolePolicyDocument":{trust},"RolePolicyList":[{inline}],"AttachedManagedPolicies":[],"Tags":[]}}"#
        )
    };
    let assume = |target: &str| {
        format!(
            r#"{{"PolicyName":"p","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/{target}"}}]}}}}"#
        )
    };
    let iam = format!(
        r#"{{"UserDetailList":[{{"Path":"/","UserName":"dev","UserId":"AIDADEVXXXXXXXXXXXXX","Arn":"arn:aws:iam::111122223333:user/dev","UserPolicyList":[{}],"GroupList":[],"AttachedManagedPolicies":[],"Tags":[]}},
           {{"Path":"/","UserName":"nope","UserId":"AIDANOPEXXXXXXXXXXXX","Arn":"arn:aws:iam::111122223333:user/nope","UserPolicyList":[],"GroupList":[],"AttachedManagedPolicies":[],"Tags":[]}}],
          "GroupDetailList":[],"RoleDetailList":[{},{}],"Policies":[]}}"#,
        assume("Hop"),
        role("Hop", trust("arn:aws:iam::111122223333:root"), &assume("Reader")),
        role("Reader", trust("arn:aws:iam::111122223333:role/Hop"), ""),
    );
    let w = keyproof::ingest::load_texts(
        &[("kp.json".into(), key_policy.into()), ("iam.json".into(), iam)],
        &LoadOptions { key_arn: Some(KEY.into()), ..LoadOptions::default() },
    );
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    let ans = assert_replays(&w, "kms:Decrypt");
    let get = |n: &str| ans.principals.iter().find(|e| e.principal.ends_with(n));
    let reader = get(":role/Reader").expect("direct");
    assert!(!reader.transitive);
    let hop = get(":role/Hop").expect("Hop assumes Reader (trust names Hop; same account)");
    assert!(hop.transitive && hop.path[0].via == "sts:AssumeRole");
    let dev = get(":user/dev").expect("dev → Hop → Reader");
    assert_eq!(dev.path.len(), 3, "{:?}", dev.path);
    assert!(get(":user/nope").is_none(), "nope has no sts:AssumeRole allow");
}
