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
