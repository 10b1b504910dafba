//! `prove` on every who-can fixture (`fixtures/who-can/**/case.json`): every witness replays
//! as its principal in the software KMS and succeeds, every counter-example fails with the
//! predicted exception, transitive entries replay their path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use keyproof::eval::request::resolve_key;
use keyproof::sim::prove::prove;
use keyproof::solve::{who_can, Query};

mod who_can_cases;
use who_can_cases::{load_case, scenarios, Case};
#[test]
fn prove_every_who_can_fixture() {
    let mut failures = Vec::new();
    let (mut n_claims, mut n_steps) = (0, 0);
    for dir in scenarios() {
        let text = std::fs::read_to_string(dir.join("case.json")).unwrap();
        let case: Case = serde_json::from_str(&text).unwrap();
        let world = load_case(&dir, &case);
        let key = case
            .key
            .as_deref()
            .or(case.options.key_arn.as_deref())
            .map_or_else(|| resolve_key(&world, None), |k| resolve_key(&world, Some(k)))
            .unwrap()
            .0;
        for q in &case.queries {
            let ans = who_can(&world, &Query { key, action: q.action.clone(), direct_only: q.direct });
            for p in prove(&world, key, &ans) {
                n_claims += 1;
                n_steps += p.steps.len();
                if !p.proved {
                    failures.push(format!(
                        "{} {}: {} {}: {:?}",
                        dir.display(),
                        q.action,
                        p.principal,
                        p.claim,
                        p.steps
                    ));
                }
            }
        }
    }
    println!("prove: {n_claims} claims, {n_steps} steps");
    assert!(n_claims > 20, "too few claims: {n_claims}");
    assert!(failures.is_empty(), "{} unproved:\n{}", failures.len(), failures.join("\n"));
}
