//! `keyproof prove`: proof by execution. The key of the world is built inside the simulator
//! (policy, grants, state, Region, multi-Region role); each who-can witness is replayed as its
//! principal and must succeed, each counter-example must fail with `AccessDeniedException`;
//! transitive entries replay their path (`sts:AssumeRole` hops, the `kms:CreateGrant` or
//! `kms:PutKeyPolicy` escalation step) before the action.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::api::{Call, Sim};
use super::keystore::{check_state, StateRule};
use super::KmsError;
use crate::eval::authorize::{authorize_assume_role_with, Decision};
use crate::eval::context::{Context, CtxValue};
use crate::eval::principal::Caller;
use crate::solve::{Answer, Entry, Witness};
use crate::world::World;

/// One replayed call.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProofStep {
    /// The API call (`Decrypt`, `sts:AssumeRole`, `Authorize(kms:…)` for actions replayed by the
    /// evaluator alone, `setup:Encrypt` for the sample ciphertext).
    pub call: String,
    /// Acting principal.
    #[serde(rename = "as")]
    pub caller: String,
    /// Region.
    pub region: String,
    /// `ok` or the exception.
    pub outcome: String,
    /// The predicted outcome.
    pub expected: String,
}

/// One claim and its replay.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Proof {
    /// The who-can principal.
    pub principal: String,
    /// What is claimed.
    pub claim: String,
    /// The calls.
    pub steps: Vec<ProofStep>,
    /// Every step had the predicted outcome.
    pub proved: bool,
}

const SAMPLE: &[u8] = b"keyproof sample payload";

fn split(w: &Witness) -> (BTreeMap<String, String>, BTreeMap<String, CtxValue>) {
    let mut ec = BTreeMap::new();
    let mut rest = BTreeMap::new();
    for (k, v) in &w.context {
        match (k.get(..22).filter(|p| p.eq_ignore_ascii_case("kms:EncryptionContext:")), v) {
            (Some(_), CtxValue::Single(s)) => {
                ec.insert(k.get(22..).unwrap_or_default().to_string(), s.clone());
            }
            _ => {
                rest.insert(k.clone(), v.clone());
            }
        }
    }
    (ec, rest)
}

fn rule_for(op: &str) -> StateRule {
    match op {
        "ScheduleKeyDeletion" => StateRule::ScheduleDeletion,
        "EnableKey" | "DisableKey" => StateRule::EnableDisable,
        "CancelKeyDeletion" => StateRule::CancelDeletion,
        "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" => StateRule::Rotation,
        "CreateAlias" | "TagResource" | "UntagResource" | "UpdateKeyDescription" => StateRule::NotPendingDeletion,
        "Decrypt"
        | "Encrypt"
        | "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "ReEncryptFrom"
        | "ReEncryptTo"
        | "CreateGrant"
        | "Sign"
        | "Verify"
        | "GenerateMac"
        | "VerifyMac"
        | "GetPublicKey"
        | "ReplicateKey" => StateRule::Crypto,
        _ => StateRule::Any,
    }
}

/// Replays one request (`allowed` = the evaluator's prediction) in the simulator.
#[allow(clippy::too_many_arguments, reason = "the parts of one replayed request")]
fn replay(
    sim: &mut Sim,
    key: usize,
    caller: &Caller,
    w: &Witness,
    allowed: bool,
    tokens: &[String],
    hint_ops: &[String],
    steps: &mut Vec<ProofStep>,
) -> Option<Value> {
    let Some(k) = sim.key_of_world(key).cloned() else {
        steps.push(ProofStep {
            call: w.action.clone(),
            caller: caller.arn(),
            region: String::new(),
            outcome: "NotFoundException".into(),
            expected: "ok".into(),
        });
        return None;
    };
    let op = w.action.strip_prefix("kms:").unwrap_or(&w.action).to_string();
    let (ec, mut conditions) = split(w);
    let region = k.region.clone();
    let ecv: Value = Value::Object(ec.iter().map(|(a, b)| (a.clone(), Value::String(b.clone()))).collect());
    let mut args = Map::new();
    args.insert("KeyId".into(), json!(k.arn));
    if !tokens.is_empty() {
        args.insert("GrantTokens".into(), json!(tokens));
    }
    let single = |name: &str| match conditions.get(name) {
        Some(CtxValue::Single(s)) => Some(s.clone()),
        _ => None,
    };
    let mut api = true;
    match op.as_str() {
        "Decrypt" => {
            match sim.setup_encrypt(key, &ec, SAMPLE) {
                Ok(blob) => {
                    steps.push(ProofStep {
                        call: "setup:Encrypt".into(),
                        caller: "keyproof".into(),
                        region: region.clone(),
                        outcome: "ok".into(),
                        expected: "ok".into(),
                    });
                    args.insert("CiphertextBlob".into(), json!(blob));
                }
                Err(e) => {
                    steps.push(ProofStep {
                        call: "setup:Encrypt".into(),
                        caller: "keyproof".into(),
                        region: region.clone(),
                        outcome: e.exception.into(),
                        expected: "ok".into(),
                    });
                    return None;
                }
            }
            args.remove("KeyId");
            args.insert("EncryptionContext".into(), ecv);
        }
        "Encrypt" => {
            args.insert("Plaintext".into(), json!("a2V5cHJvb2Ygc2FtcGxl"));
            args.insert("EncryptionContext".into(), ecv);
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            args.insert("KeySpec".into(), json!("AES_256"));
            args.insert("EncryptionContext".into(), ecv);
        }
        "CreateGrant" => {
            let grantee = single("kms:GranteePrincipal").unwrap_or_else(|| caller.principal_arn());
            // Operations: the witness's, when they are real grant operations; else (the solver
            // left the key absent or chose a placeholder) values from the entry's conditions for
            // a witness, and a real operation outside them for a counter-example.
            let mut ops: Vec<String> = match conditions.get("kms:GrantOperations") {
                Some(CtxValue::Multi(v)) => v.clone(),
                Some(CtxValue::Single(s)) => vec![s.clone()],
                None => Vec::new(),
            };
            ops.retain(|o| crate::world::GRANT_OPERATIONS.contains(&o.as_str()));
            if ops.is_empty() {
                let valid = |o: &String| crate::world::GRANT_OPERATIONS.contains(&o.as_str());
                ops = if allowed {
                    hint_ops.iter().filter(|o| valid(o)).cloned().collect()
                } else {
                    ["Decrypt", "Encrypt", "DescribeKey"]
                        .iter()
                        .map(|o| (*o).to_string())
                        .filter(|o| !hint_ops.contains(o))
                        .take(1)
                        .collect()
                };
                if ops.is_empty() {
                    ops = vec!["Decrypt".to_string()];
                }
            }
            conditions.remove("kms:GrantOperations");
            args.insert("GranteePrincipal".into(), json!(grantee));
            args.insert("Operations".into(), json!(ops));
        }
        "PutKeyPolicy" => {
            let text = sim.authz.policy_text(key).unwrap_or_default();
            args.insert("Policy".into(), json!(text));
        }
        "ScheduleKeyDeletion" => {
            if let Some(d) = single("kms:ScheduleKeyDeletionPendingWindowInDays") {
                args.insert("PendingWindowInDays".into(), json!(d));
            }
        }
        "DescribeKey"
        | "GetKeyPolicy"
        | "ListGrants"
        | "EnableKey"
        | "DisableKey"
        | "GetKeyRotationStatus"
        | "EnableKeyRotation"
        | "DisableKeyRotation"
        | "CancelKeyDeletion" => {}
        _ => {
            api = false;
            args.insert("EncryptionContext".into(), ecv);
        }
    }
    let call = Call {
        op: op.clone(),
        caller: caller.arn(),
        region: region.clone(),
        args,
        conditions,
        assume_identity_allows: w.assume_identity_allows,
    };
    let expected = if allowed {
        match check_state(rule_for(&op), &op, k.state, &k.arn) {
            Ok(()) => "ok".to_string(),
            Err(e) => e.exception.to_string(),
        }
    } else {
        "AccessDeniedException".to_string()
    };
    let (name, result): (String, Result<Option<Value>, KmsError>) = if api {
        (op.clone(), sim.call(&call).map(|o| Some(Value::Object(o.fields))))
    } else {
        (format!("Authorize({})", w.action), sim.authorize_only(&call, &w.action, key).map(|()| None))
    };
    let (outcome, out) = match result {
        Ok(v) => ("ok".to_string(), v),
        Err(e) => (e.exception.to_string(), None),
    };
    steps.push(ProofStep { call: name, caller: caller.arn(), region, outcome, expected });
    out.or(Some(Value::Null))
}

const OPEN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"RewrittenByEscalation","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;

fn prove_entry(world: &World, key: usize, action: &str, e: &Entry) -> Proof {
    let mut steps = Vec::new();
    let claim =
        if e.unconditional { format!("can {action}") } else { format!("can {action} when {}", e.condition_text) };
    let fresh = || Sim::from_world(world.fork());
    let Ok(mut sim) = fresh() else {
        return Proof { principal: e.principal.clone(), claim, steps, proved: false };
    };
    let hints: Vec<String> = e
        .conditions
        .iter()
        .flatten()
        .filter(|a| a.key.eq_ignore_ascii_case("kms:GrantOperations") && !a.negated)
        .flat_map(|a| a.values.iter().cloned())
        .collect();
    let via = e.path.first().map(|h| h.via.as_str()).unwrap_or_default();
    if e.transitive && (via == "kms:CreateGrant" || via == "kms:PutKeyPolicy") {
        // The escalation step as the principal, then the action.
        let mut tokens = Vec::new();
        let out = replay(&mut sim, key, &e.caller, &e.witness, true, &[], &hints, &mut steps);
        if via == "kms:CreateGrant" {
            if let Some(t) = out.as_ref().and_then(|v| v.get("GrantToken")).and_then(Value::as_str) {
                tokens.push(t.to_string());
            }
        } else if e.witness.action == "kms:PutKeyPolicy" {
            // Replace the policy with an open one (what the escalation writes).
            if let Some(k) = sim.key_of_world(key).cloned() {
                let call = Call {
                    op: "PutKeyPolicy".into(),
                    caller: e.caller.arn(),
                    region: k.region.clone(),
                    args: [("KeyId".to_string(), json!(k.arn)), ("Policy".to_string(), json!(OPEN_POLICY))]
                        .into_iter()
                        .collect(),
                    conditions: split(&e.witness).1,
                    assume_identity_allows: e.witness.assume_identity_allows,
                };
                let outcome = sim.call(&call).map_or_else(|x| x.exception.to_string(), |_| "ok".into());
                steps.push(ProofStep {
                    call: "PutKeyPolicy".into(),
                    caller: e.caller.arn(),
                    region: k.region,
                    outcome,
                    expected: "ok".into(),
                });
            }
        }
        sim.advance(0);
        let w = Witness { action: action.to_string(), context: BTreeMap::new(), ..e.witness.clone() };
        let mut w = w;
        // The action itself under the context the escalated access needs (none for an open policy).
        w.context.retain(|k, _| !k.starts_with("kms:Grant"));
        replay(&mut sim, key, &e.caller, &w, true, &tokens, &hints, &mut steps);
    } else {
        // Role chains: each sts:AssumeRole hop, decided by the evaluator on the role's trust policy.
        for hop in e.path.iter().filter(|h| h.via == "sts:AssumeRole") {
            let outcome = match (Caller::parse(&hop.from, world), world.role_by_arn(&hop.to)) {
                (Ok(c), Some(role)) => {
                    let r =
                        authorize_assume_role_with(world, &c, role, Context::new(), e.witness.assume_identity_allows);
                    if r.decision == Decision::Allow {
                        "ok".to_string()
                    } else {
                        "AccessDenied".to_string()
                    }
                }
                _ => "skipped".to_string(),
            };
            let expected = if outcome == "skipped" { "skipped".to_string() } else { "ok".to_string() };
            steps.push(ProofStep {
                call: "sts:AssumeRole".into(),
                caller: hop.from.clone(),
                region: String::new(),
                outcome,
                expected,
            });
        }
        replay(&mut sim, key, &e.caller, &e.witness, true, &[], &hints, &mut steps);
    }
    if let Some(c) = &e.counter_example {
        if let Ok(mut sim) = fresh() {
            replay(&mut sim, key, &e.caller, c, false, &[], &hints, &mut steps);
        }
    }
    let proved = !steps.is_empty() && steps.iter().all(|s| s.outcome == s.expected);
    Proof { principal: e.principal.clone(), claim, steps, proved }
}

/// Replays every entry of a who-can answer.
#[must_use]
pub fn prove(world: &World, key: usize, answer: &Answer) -> Vec<Proof> {
    answer.principals.iter().map(|e| prove_entry(world, key, &answer.action, e)).collect()
}

/// The human form of proofs.
#[must_use]
pub fn text(proofs: &[Proof]) -> String {
    let mut s = String::new();
    for p in proofs {
        s.push_str(&format!("{} {}: {}\n", if p.proved { "proved  " } else { "UNPROVED" }, p.principal, p.claim));
        for st in &p.steps {
            let mark = if st.outcome == st.expected { "" } else { "   <-- predicted " };
            let exp = if st.outcome == st.expected { String::new() } else { st.expected.clone() };
            s.push_str(&format!("    {} {} as {}: {}{mark}{exp}\n", st.region, st.call, st.caller, st.outcome));
        }
    }
    let n = proofs.iter().filter(|p| p.proved).count();
    s.push_str(&format!("{n} of {} claims proved\n", proofs.len()));
    s
}
