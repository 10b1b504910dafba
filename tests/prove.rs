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

/// The API call that replays a claim about an action.
fn api_call(action: &str) -> &str {
    match action.strip_prefix("kms:").unwrap_or(action) {
        "ReEncryptFrom" | "ReEncryptTo" => "ReEncrypt",
        other => other,
    }
}

/// Every KMS action on every key of `fixtures/prove` (a multi-Region key and its replica, an
/// HMAC key, an `ECC_NIST_P256` key, an `RSA_2048` key and an `ECC_NIST_P384` key the simulator
/// only stands in for):
/// every claim replays as predicted, the actions an API call can exercise are replayed as that
/// call (with `ReEncryptFrom`/`ReEncryptTo` as a real `ReEncrypt`), and the rest are decided by
/// the evaluator alone with a reason.
#[test]
fn prove_every_action_on_every_key_type() {
    use std::collections::{BTreeMap, BTreeSet};

    use keyproof::ingest::{load, LoadOptions};
    use keyproof::sim::prove::{expand_action, Prover, EVALUATOR_ONLY};

    let world = load(&["fixtures/prove".to_string()], &LoadOptions::default());
    assert_eq!(world.keys.len(), 6, "keys of fixtures/prove");
    let prover = Prover::new(&world);
    let mut rsa_signed = false;
    assert_eq!(expand_action("kms:ReEncrypt*"), ["kms:ReEncryptFrom", "kms:ReEncryptTo"]);
    let actions = expand_action("kms:*");
    let mut failures = Vec::new();
    let mut replayed: BTreeSet<String> = BTreeSet::new();
    let mut evaluated: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut n_claims = 0;
    for key in 0..world.keys.len() {
        for a in &actions {
            let ans = who_can(&world, &Query { key, action: a.clone(), direct_only: false });
            for p in prover.prove(key, &ans) {
                n_claims += 1;
                rsa_signed |= world.keys[key].arn.contains("4444dddd")
                    && p.steps.iter().any(|s| s.call == "Sign" && s.outcome == "ok");
                if !p.proved {
                    failures.push(format!("{} {a}: {} {}: {:#?}", world.keys[key].arn, p.principal, p.claim, p.steps));
                }
                for st in &p.steps {
                    if st.call.starts_with("Authorize(") {
                        let note = st.note.clone().unwrap_or_default();
                        assert!(!note.is_empty(), "{a}: an evaluator-only step says why");
                        evaluated.entry(a.clone()).or_default().insert(note);
                    } else if st.call == api_call(a) {
                        replayed.insert(a.clone());
                    }
                }
            }
        }
    }
    println!("prove: {n_claims} claims over {} actions", actions.len());
    assert!(failures.is_empty(), "{} unproved:\n{}", failures.len(), failures.join("\n"));
    for a in [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:Sign",
        "kms:Verify",
        "kms:GenerateMac",
        "kms:VerifyMac",
        "kms:GetPublicKey",
        "kms:DescribeKey",
        "kms:CreateGrant",
        "kms:ListGrants",
        "kms:RetireGrant",
        "kms:RevokeGrant",
        "kms:CreateAlias",
        "kms:UpdateAlias",
        "kms:DeleteAlias",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ListResourceTags",
        "kms:UpdateKeyDescription",
        "kms:GetKeyPolicy",
        "kms:ListKeyPolicies",
        "kms:PutKeyPolicy",
        "kms:EnableKey",
        "kms:DisableKey",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:GetKeyRotationStatus",
        "kms:ListKeyRotations",
        "kms:RotateKeyOnDemand",
        "kms:ReplicateKey",
        "kms:UpdatePrimaryRegion",
    ] {
        assert!(replayed.contains(a), "`{a}` is never replayed by an API call");
    }
    for (a, _) in EVALUATOR_ONLY {
        assert!(!replayed.contains(*a), "`{a}` cannot be replayed");
    }
    // The RSA_2048 key signs for real (RSASSA_PSS_SHA_256, its policy's algorithm).
    assert!(rsa_signed, "no RSA signature was replayed");
    // The ECC_NIST_P384 key has symmetric material standing in: its signatures are the evaluator's.
    assert!(evaluated.get("kms:Sign").is_some_and(|n| n.iter().any(|n| n.contains("ECC_NIST_P384"))), "{evaluated:#?}");
    // `ReplicateKey` by a principal without `kms:CreateKey` is the evaluator's.
    assert!(evaluated.get("kms:ReplicateKey").is_some_and(|n| n.iter().any(|n| n.contains("kms:CreateKey"))));
}

/// A `ReEncryptFrom` claim under `kms:ReEncryptOnSameKey` = true is replayed as a `ReEncrypt`
/// from the key to itself; when the caller lacks the other half on the key, no call isolates
/// the claim and the evaluator decides it.
#[test]
fn re_encrypt_on_the_same_key() {
    use keyproof::eval::context::CtxValue;
    use keyproof::ingest::{load, LoadOptions};
    use keyproof::solve::Answer;

    let world = load(&["fixtures/prove".to_string()], &LoadOptions::default());
    let key = resolve_key(&world, Some("arn:aws:kms:us-east-1:111122223333:key/mrk-1111aaaa2222bbbb3333cccc4444dddd"))
        .unwrap()
        .0;
    let ans = who_can(&world, &Query { key, action: "kms:ReEncryptFrom".into(), direct_only: false });
    let base = ans.principals.iter().find(|e| e.principal.ends_with(":root")).unwrap().clone();
    let same = |principal: &str| {
        let mut e = base.clone();
        e.principal = principal.to_string();
        e.caller = keyproof::eval::principal::Caller::parse(principal, &world).unwrap();
        e.witness.principal = principal.to_string();
        e.witness.context.insert("kms:ReEncryptOnSameKey".into(), CtxValue::Single("true".into()));
        e.counter_example = None;
        e
    };
    let answer = Answer {
        principals: vec![
            same("arn:aws:iam::111122223333:root"),
            same("arn:aws:sts::111122223333:assumed-role/Rotator/s"),
            same("arn:aws:sts::444455556666:assumed-role/Partner/s"),
        ],
        ..ans
    };
    let proofs = prove(&world, key, &answer);
    for p in &proofs {
        assert!(p.proved, "{p:#?}");
        assert!(p.steps.iter().all(|s| s.call != "setup:CreateKey"), "no partner key: {p:#?}");
    }
    // The root user and Rotator (allowed both halves on the same key only) re-encrypt for real.
    for p in &proofs[..2] {
        assert_eq!(p.steps.last().unwrap().call, "ReEncrypt", "{p:#?}");
    }
    // Partner may `ReEncryptFrom` but not `ReEncryptTo` the key: the evaluator decides.
    let last = proofs[2].steps.last().unwrap();
    assert_eq!(last.call, "Authorize(kms:ReEncryptFrom)");
    assert!(last.note.as_deref().unwrap().contains("kms:ReEncryptTo"), "{last:#?}");
}
