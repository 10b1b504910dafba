//! `keyproof prove`: proof by execution. The key of the world is built inside the simulator
//! (policy, grants, state, Region, multi-Region role); each who-can witness is replayed as its
//! principal and must succeed, each counter-example must fail with `AccessDeniedException`;
//! transitive entries replay their path (`sts:AssumeRole` hops, the `kms:CreateGrant` or
//! `kms:PutKeyPolicy` escalation step) before the action.
//!
//! Every action an API call can exercise on its own is replayed as that call, after setup steps
//! that need no authorization (a sample ciphertext, a partner key for `ReEncrypt`, a grant to
//! retire, an alias to update, a signature to verify). The rest — actions the simulator does not
//! implement, and cases where no call isolates the claimed permission — are decided by the
//! evaluator alone, and the step says why ([`EVALUATOR_ONLY`], `docs/sim.md`).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::api::{Call, Sim, SIM_DATA_KEY_PAIR_SPECS};
use super::keystore::{
    check_algorithm, check_operation, check_state, check_usage, key_algorithm, rule_of, KeyKind, MaterialSet, MrkRole,
    SimKey, StateRule,
};
use super::KmsError;
use crate::eval::authorize::{authorize_assume_role_with, Decision};
use crate::eval::context::{Context, CtxValue};
use crate::eval::principal::Caller;
use crate::solve::{Answer, Entry, Witness};
use crate::world::{grant_operation_fits, World};

/// One replayed call.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProofStep {
    /// The API call (`Decrypt`, `sts:AssumeRole`, `Authorize(kms:…)` for actions decided by the
    /// evaluator alone, `setup:Encrypt` and other `setup:` steps that need no authorization).
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
    /// Why an action was decided by the evaluator alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// Actions that `prove` always decides by the evaluator alone, with the reason (the simulator
/// has no such operation, or the action has no key resource to replay it on).
pub const EVALUATOR_ONLY: &[(&str, &str)] = &[
    ("kms:ImportKeyMaterial", "imported key material is not simulated"),
    ("kms:GetParametersForImport", "imported key material is not simulated"),
    ("kms:DeleteImportedKeyMaterial", "imported key material is not simulated"),
    ("kms:DeriveSharedSecret", "KEY_AGREEMENT keys are not simulated"),
    ("kms:GetKeyLastUsage", "the simulator keeps no usage record"),
    ("kms:SynchronizeMultiRegionKey", "an internal action, not an API call"),
    ("kms:CreateKey", "no key resource: decided by identity policies"),
    ("kms:ListKeys", "no key resource: decided by identity policies"),
    ("kms:ListAliases", "no key resource: decided by identity policies"),
    ("kms:ListRetirableGrants", "no key resource: decided by identity policies"),
    ("kms:GenerateRandom", "no key resource: decided by identity policies"),
];

const SAMPLE: &[u8] = b"keyproof sample payload";
/// The alias `prove` creates, updates or deletes.
const PROOF_ALIAS: &str = "alias/keyproof-proof";
/// The policy of the partner key of a `ReEncrypt` replay: anyone may use it as the other half.
const PARTNER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeyproofReEncryptPartner","Effect":"Allow","Principal":"*","Action":["kms:ReEncryptFrom","kms:ReEncryptTo"],"Resource":"*"}]}"#;
/// Regions tried, in order, for the replica of a `ReplicateKey` replay.
const REPLICA_REGIONS: &[&str] = &["us-west-2", "eu-west-1", "ap-southeast-2", "us-east-1"];

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

/// Removes a context key (case-insensitive name) and returns its value: the request parameter
/// it stands for is set instead, so that the simulator derives the key itself.
fn take(conditions: &mut BTreeMap<String, CtxValue>, name: &str) -> Option<CtxValue> {
    let k = conditions.keys().find(|k| k.eq_ignore_ascii_case(name))?.clone();
    conditions.remove(&k)
}

fn take_single(conditions: &mut BTreeMap<String, CtxValue>, name: &str) -> Option<String> {
    match take(conditions, name)? {
        CtxValue::Single(s) => Some(s),
        CtxValue::Multi(v) => v.into_iter().next(),
    }
}

fn ec_value(ec: &BTreeMap<String, String>) -> Value {
    Value::Object(ec.iter().map(|(a, b)| (a.clone(), Value::String(b.clone()))).collect())
}

/// Operations whose outcome depends on the key material (type, algorithms, rotation): keys of
/// a spec the simulator does not support cannot replay them.
fn material_dependent(op: &str) -> bool {
    check_usage(op, KeyKind::Symmetric, "").is_err()
        || check_usage(op, KeyKind::Hmac, "").is_err()
        || matches!(op, "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand")
}

/// What a replay does.
enum Plan {
    /// One API call: operation, arguments, the algorithm it names (for the prediction).
    Api { op: String, args: Map<String, Value>, algorithm: Option<String> },
    /// The evaluator alone, and why.
    Evaluator(String),
    /// A setup step failed (recorded).
    Failed,
}

/// The parts of one replayed request.
struct Replay<'a> {
    key: usize,
    k: SimKey,
    caller: &'a Caller,
    w: &'a Witness,
    allowed: bool,
    tokens: &'a [String],
    hint_ops: &'a [String],
}

impl Replay<'_> {
    fn region(&self) -> String {
        self.k.region.clone()
    }

    /// A call of the principal in the key's Region (for pre-checks).
    fn call(&self, op: &str, args: Map<String, Value>, conditions: BTreeMap<String, CtxValue>) -> Call {
        Call {
            op: op.to_string(),
            caller: self.caller.arn(),
            region: self.region(),
            args,
            conditions,
            assume_identity_allows: self.w.assume_identity_allows,
        }
    }
}

fn setup_step(steps: &mut Vec<ProofStep>, call: &str, region: &str, r: &Result<(), KmsError>) -> bool {
    let outcome = r.as_ref().map_or_else(|e| e.exception.to_string(), |()| "ok".into());
    let ok = outcome == "ok";
    steps.push(ProofStep {
        call: format!("setup:{call}"),
        caller: "keyproof".into(),
        region: region.to_string(),
        outcome,
        expected: "ok".into(),
        note: None,
    });
    ok
}

/// Encrypts the sample under a key (world index) with a context, as a setup step.
fn sample_blob(
    sim: &Sim,
    world_key: usize,
    ec: &BTreeMap<String, String>,
    region: &str,
    steps: &mut Vec<ProofStep>,
) -> Option<String> {
    let r = sim.setup_encrypt(world_key, ec, SAMPLE);
    setup_step(steps, "Encrypt", region, &r.as_ref().map(|_| ()).map_err(Clone::clone));
    r.ok()
}

/// The outcome of the call when authorization passes: the state, usage, algorithm and
/// key-type checks of the simulator, in its order (§7.3).
fn predicted(sim: &Sim, r: &Replay<'_>, op: &str, algorithm: Option<&str>) -> String {
    let Some((kind, spec)) = sim.kind_of_world(r.key) else { return "NotFoundException".into() };
    let k = &r.k;
    check_state(rule_of(op), op, k.state, &k.arn)
        .and_then(|()| check_usage(op, kind, &k.arn))
        .and_then(|()| algorithm.map_or(Ok(()), |a| check_algorithm(kind, &spec, a)))
        .and_then(|()| check_operation(op, kind, k.mrk, &k.arn))
        .map_or_else(|e| e.exception.to_string(), |()| "ok".into())
}

/// `ReEncryptFrom` / `ReEncryptTo`: a real `ReEncrypt`. With `kms:ReEncryptOnSameKey` true the
/// key is both source and destination (the other half must be allowed on it too); otherwise a
/// partner key, created for the proof in the caller's account and the key's Region, is the
/// other side, and its policy lets anyone use it.
fn plan_re_encrypt(
    sim: &mut Sim,
    r: &Replay<'_>,
    op: &str,
    ec: &BTreeMap<String, String>,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
    steps: &mut Vec<ProofStep>,
) -> Plan {
    let from = op == "ReEncryptFrom";
    let other = if from { "kms:ReEncryptTo" } else { "kms:ReEncryptFrom" };
    let same = take_single(conditions, "kms:ReEncryptOnSameKey").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let region = r.region();
    let mut pre_conditions = conditions.clone();
    pre_conditions.insert("kms:ReEncryptOnSameKey".into(), CtxValue::Single(same.to_string()));
    let mut pre_args = Map::new();
    if !r.tokens.is_empty() {
        pre_args.insert("GrantTokens".into(), json!(r.tokens));
    }
    args.remove("KeyId");
    if same {
        pre_args.insert("EncryptionContext".into(), ec_value(ec));
        let pre = r.call("ReEncrypt", pre_args, pre_conditions);
        if sim.authorize_only(&pre, other, r.key, None).is_err() {
            return Plan::Evaluator(format!(
                "with `kms:ReEncryptOnSameKey` true the key is also the other side, and the caller may not `{other}` on it"
            ));
        }
        let Some(blob) = sample_blob(sim, r.key, ec, &region, steps) else { return Plan::Failed };
        args.insert("CiphertextBlob".into(), json!(blob));
        args.insert("SourceEncryptionContext".into(), ec_value(ec));
        args.insert("DestinationKeyId".into(), json!(r.k.arn));
        args.insert("DestinationEncryptionContext".into(), ec_value(ec));
    } else {
        let account = r.caller.account().unwrap_or(&r.k.account).to_string();
        let made = sim.setup_key(&account, &region, PARTNER_POLICY);
        if !setup_step(steps, "CreateKey", &region, &made.as_ref().map(|_| ()).map_err(Clone::clone)) {
            return Plan::Failed;
        }
        let Ok(partner) = made else { return Plan::Failed };
        pre_args.insert("EncryptionContext".into(), json!({}));
        let pre = r.call("ReEncrypt", pre_args, pre_conditions);
        if sim.authorize_only(&pre, other, partner, None).is_err() {
            return Plan::Evaluator(format!("the caller may not `{other}` on any other key of its account"));
        }
        let partner_arn = sim.key_of_world(partner).map(|p| p.arn.clone()).unwrap_or_default();
        let empty = BTreeMap::new();
        if from {
            let Some(blob) = sample_blob(sim, r.key, ec, &region, steps) else { return Plan::Failed };
            args.insert("CiphertextBlob".into(), json!(blob));
            args.insert("SourceEncryptionContext".into(), ec_value(ec));
            args.insert("DestinationKeyId".into(), json!(partner_arn));
        } else {
            let Some(blob) = sample_blob(sim, partner, &empty, &region, steps) else { return Plan::Failed };
            args.insert("CiphertextBlob".into(), json!(blob));
            args.insert("DestinationKeyId".into(), json!(r.k.arn));
            args.insert("DestinationEncryptionContext".into(), ec_value(ec));
        }
    }
    Plan::Api { op: "ReEncrypt".into(), args: std::mem::take(args), algorithm: None }
}

/// `Sign`/`Verify`/`GenerateMac`/`VerifyMac`: the witness's algorithm and message type, or the
/// key's; `Verify`/`VerifyMac` check a signature or MAC made in a setup step.
fn plan_sign_mac(
    sim: &Sim,
    r: &Replay<'_>,
    op: &str,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
    steps: &mut Vec<ProofStep>,
) -> Plan {
    let (kind, spec) = sim.kind_of_world(r.key).unwrap_or((KeyKind::Symmetric, String::new()));
    let mac = matches!(op, "GenerateMac" | "VerifyMac");
    let (alg_key, fallback) = if mac {
        ("kms:MacAlgorithm", if kind == KeyKind::Hmac { key_algorithm(kind, &spec) } else { "HMAC_SHA_256" })
    } else {
        let signs = check_usage("Sign", kind, "").is_ok();
        ("kms:SigningAlgorithm", if signs { key_algorithm(kind, &spec) } else { "ECDSA_SHA_256" })
    };
    let given = take_single(conditions, alg_key);
    if given.is_none() && !r.allowed {
        return Plan::Evaluator(format!(
            "every `{op}` request sets `{alg_key}`; this counter-example leaves it absent"
        ));
    }
    let alg = given.unwrap_or_else(|| fallback.to_string());
    let digest = !mac && take_single(conditions, "kms:MessageType").is_some_and(|t| t == "DIGEST");
    let msg: Vec<u8> = if digest { <sha2::Sha256 as sha2::Digest>::digest(SAMPLE).to_vec() } else { SAMPLE.to_vec() };
    args.insert("Message".into(), json!(B64.encode(&msg)));
    if mac {
        args.insert("MacAlgorithm".into(), json!(alg));
    } else {
        args.insert("SigningAlgorithm".into(), json!(alg));
        args.insert("MessageType".into(), json!(if digest { "DIGEST" } else { "RAW" }));
    }
    if matches!(op, "Verify" | "VerifyMac") {
        let proof = match sim.setup_signature(r.key, op, &alg, &msg, digest) {
            Some(s) => {
                setup_step(steps, if mac { "GenerateMac" } else { "Sign" }, &r.region(), &Ok(()));
                s
            }
            // The key cannot make one: the call fails before the cryptography (usage or
            // algorithm), so any bytes do.
            None => vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        };
        args.insert(if mac { "Mac" } else { "Signature" }.into(), json!(B64.encode(proof)));
    }
    Plan::Api { op: op.to_string(), args: std::mem::take(args), algorithm: Some(alg) }
}

/// `RetireGrant`/`RevokeGrant` by key and grant id: a grant of the key the evaluator lets the
/// caller act on (a witness), else the first; a setup grant when the key has none.
fn plan_grant_removal(
    sim: &mut Sim,
    r: &Replay<'_>,
    op: &str,
    conditions: &BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
    steps: &mut Vec<ProofStep>,
) -> Plan {
    if op == "RetireGrant" {
        if let Some(t) = r.tokens.first() {
            // The grant the escalation just created, named by its token (it has not propagated).
            args.remove("KeyId");
            args.remove("GrantTokens");
            args.insert("GrantToken".into(), json!(t));
            return Plan::Api { op: op.to_string(), args: std::mem::take(args), algorithm: None };
        }
    }
    let action = format!("kms:{op}");
    let mut ids = sim.grant_ids(r.key);
    if ids.is_empty() {
        let grantee = format!("arn:aws:iam::{}:role/keyproof-proof-grantee", r.k.account);
        let made = sim.setup_grant(r.key, &grantee, &["Decrypt"]);
        if !setup_step(steps, "CreateGrant", &r.region(), &made.as_ref().map(|_| ()).map_err(Clone::clone)) {
            return Plan::Failed;
        }
        ids = made.into_iter().collect();
    }
    let pre = r.call(op, Map::new(), conditions.clone());
    let chosen = ids
        .iter()
        .find(|id| r.allowed && sim.authorize_only(&pre, &action, r.key, Some(id)).is_ok())
        .or_else(|| ids.first())
        .cloned()
        .unwrap_or_default();
    args.insert("GrantId".into(), json!(chosen));
    Plan::Api { op: op.to_string(), args: std::mem::take(args), algorithm: None }
}

/// `ReplicateKey`: to the witness's `kms:ReplicaRegion` or the first Region without a related
/// key; the caller also needs `kms:CreateKey` there (identity policies).
fn plan_replicate(
    sim: &mut Sim,
    r: &Replay<'_>,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
) -> Plan {
    let related: Vec<String> = sim
        .store
        .related(&r.k.account, &r.k.id)
        .into_iter()
        .filter_map(|j| sim.store.keys.get(j).map(|x| x.region.clone()))
        .collect();
    let target = take_single(conditions, "kms:ReplicaRegion").unwrap_or_else(|| {
        REPLICA_REGIONS.iter().find(|g| !related.iter().any(|x| x == *g)).map_or("us-west-2", |g| g).to_string()
    });
    if r.k.mrk == MrkRole::Primary && related.contains(&target) {
        return Plan::Evaluator(format!("the key already has a related key in `{target}`"));
    }
    if r.allowed && r.k.mrk == MrkRole::Primary {
        let mut c = conditions.clone();
        c.insert("kms:MultiRegion".into(), CtxValue::Single("false".into()));
        let pre = Call { region: target.clone(), ..r.call("CreateKey", Map::new(), c) };
        if sim.authorize_iam_only(&pre, "kms:CreateKey").is_err() {
            return Plan::Evaluator(format!(
                "`ReplicateKey` also needs `kms:CreateKey` in `{target}`, which the caller lacks"
            ));
        }
    }
    args.insert("ReplicaRegion".into(), json!(target));
    Plan::Api { op: "ReplicateKey".into(), args: std::mem::take(args), algorithm: None }
}

/// `UpdatePrimaryRegion`: promotes the related key in the witness's `kms:PrimaryRegion` (or the
/// first replica); the caller must be allowed on it and it must be usable too.
fn plan_update_primary(
    sim: &mut Sim,
    r: &Replay<'_>,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
) -> Plan {
    let wanted = take_single(conditions, "kms:PrimaryRegion");
    if r.k.mrk == MrkRole::Primary {
        let replica = sim
            .store
            .related(&r.k.account, &r.k.id)
            .into_iter()
            .filter_map(|j| sim.store.keys.get(j).cloned())
            .find(|x| x.mrk == MrkRole::Replica && wanted.as_ref().is_none_or(|g| g == &x.region));
        let Some(replica) = replica else {
            return Plan::Evaluator("the simulator holds no replica of the key to promote".into());
        };
        if r.allowed {
            let mut c = conditions.clone();
            c.insert("kms:PrimaryRegion".into(), CtxValue::Single(replica.region.clone()));
            let pre = Call { region: replica.region.clone(), ..r.call("UpdatePrimaryRegion", Map::new(), c) };
            let usable = check_state(StateRule::Crypto, "UpdatePrimaryRegion", replica.state, &replica.arn).is_ok();
            if !usable || sim.authorize_only(&pre, "kms:UpdatePrimaryRegion", replica.world_index, None).is_err() {
                return Plan::Evaluator(format!(
                    "the replica in `{}` must be usable and the caller allowed on it too",
                    replica.region
                ));
            }
        }
        args.insert("PrimaryRegion".into(), json!(replica.region));
    } else {
        args.insert("PrimaryRegion".into(), json!(wanted.unwrap_or_else(|| "us-west-2".into())));
    }
    Plan::Api { op: "UpdatePrimaryRegion".into(), args: std::mem::take(args), algorithm: None }
}

/// `TagResource`/`UntagResource`: the witness's `aws:RequestTag/…` and `aws:TagKeys`, else one
/// proof tag.
fn plan_tags(op: &str, conditions: &mut BTreeMap<String, CtxValue>, args: &mut Map<String, Value>) -> Plan {
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    let request_tags: Vec<String> =
        conditions.keys().filter(|k| k.to_ascii_lowercase().starts_with("aws:requesttag/")).cloned().collect();
    for name in request_tags {
        if let Some(v) = take_single(conditions, &name) {
            tags.insert(name.get(15..).unwrap_or_default().to_string(), v);
        }
    }
    let keys: Vec<String> = match take(conditions, "aws:TagKeys") {
        Some(CtxValue::Multi(v)) => v,
        Some(CtxValue::Single(s)) => vec![s],
        None => Vec::new(),
    };
    for k in &keys {
        tags.entry(k.clone()).or_insert_with(|| "keyproof".into());
    }
    if tags.is_empty() {
        tags.insert("keyproof-proof".into(), "1".into());
    }
    if op == "TagResource" {
        let list: Vec<Value> = tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect();
        args.insert("Tags".into(), json!(list));
    } else {
        args.insert("TagKeys".into(), json!(tags.keys().collect::<Vec<_>>()));
    }
    Plan::Api { op: op.to_string(), args: std::mem::take(args), algorithm: None }
}

/// `CreateGrant`: the witness's operations when they are real grant operations; else (the
/// solver left the key absent or chose a placeholder) values from the entry's conditions for a
/// witness, and a real operation outside them for a counter-example.
fn plan_create_grant(
    sim: &Sim,
    r: &Replay<'_>,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
) -> Plan {
    let grantee = take_single(conditions, "kms:GranteePrincipal").unwrap_or_else(|| r.caller.principal_arn());
    let (kind, spec) = sim.kind_of_world(r.key).unwrap_or((KeyKind::Symmetric, String::new()));
    // A real grant operation this key can carry (§6.2).
    let valid = |o: &String| {
        crate::world::GRANT_OPERATIONS.contains(&o.as_str()) && grant_operation_fits(o, &spec, kind.usage())
    };
    let mut ops: Vec<String> = match take(conditions, "kms:GrantOperations") {
        Some(CtxValue::Multi(v)) => v,
        Some(CtxValue::Single(s)) => vec![s],
        None => Vec::new(),
    };
    ops.retain(|o| crate::world::GRANT_OPERATIONS.contains(&o.as_str()));
    if ops.is_empty() {
        ops = if r.allowed {
            r.hint_ops.iter().filter(|o| valid(o)).cloned().collect()
        } else {
            ["Decrypt", "Encrypt", "GenerateMac", "Sign", "DescribeKey"]
                .iter()
                .map(|o| (*o).to_string())
                .filter(|o| valid(o) && !r.hint_ops.contains(o))
                .take(1)
                .collect()
        };
        if ops.is_empty() {
            ops = ["Decrypt", "GenerateMac", "Sign", "DescribeKey"]
                .iter()
                .map(|o| (*o).to_string())
                .filter(valid)
                .take(1)
                .collect();
        }
    }
    args.insert("GranteePrincipal".into(), json!(grantee));
    args.insert("Operations".into(), json!(ops));
    Plan::Api { op: "CreateGrant".into(), args: std::mem::take(args), algorithm: None }
}

/// Decides how to replay the action and runs the setup steps.
fn plan(
    sim: &mut Sim,
    r: &Replay<'_>,
    op: &str,
    ec: &BTreeMap<String, String>,
    conditions: &mut BTreeMap<String, CtxValue>,
    args: &mut Map<String, Value>,
    steps: &mut Vec<ProofStep>,
) -> Plan {
    if let Some((_, why)) = EVALUATOR_ONLY.iter().find(|(a, _)| a.strip_prefix("kms:") == Some(op)) {
        return Plan::Evaluator((*why).to_string());
    }
    let stand_in = sim.material_stand_in(r.key);
    if let (Some(spec), true) = (stand_in, material_dependent(op)) {
        return Plan::Evaluator(format!("the simulator has no `{spec}` key material"));
    }
    let api =
        |args: &mut Map<String, Value>| Plan::Api { op: op.to_string(), args: std::mem::take(args), algorithm: None };
    match op {
        "Decrypt" => {
            let Some(blob) = sample_blob(sim, r.key, ec, &r.region(), steps) else { return Plan::Failed };
            args.remove("KeyId");
            args.insert("CiphertextBlob".into(), json!(blob));
            args.insert("EncryptionContext".into(), ec_value(ec));
            api(args)
        }
        "Encrypt" => {
            args.insert("Plaintext".into(), json!(B64.encode(SAMPLE)));
            args.insert("EncryptionContext".into(), ec_value(ec));
            api(args)
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            // `KeySpec` sets `kms:DataKeySpec`; `NumberOfBytes` leaves it absent, as a witness
            // without it asks.
            match take_single(conditions, "kms:DataKeySpec") {
                Some(s) if s == "AES_128" || s == "AES_256" => args.insert("KeySpec".into(), json!(s)),
                Some(s) => {
                    conditions.insert("kms:DataKeySpec".into(), CtxValue::Single(s));
                    args.insert("KeySpec".into(), json!("AES_256"))
                }
                None => args.insert("NumberOfBytes".into(), json!(32)),
            };
            args.insert("EncryptionContext".into(), ec_value(ec));
            api(args)
        }
        "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => {
            let spec = take_single(conditions, "kms:DataKeyPairSpec").unwrap_or_else(|| "ECC_NIST_P256".into());
            if !SIM_DATA_KEY_PAIR_SPECS.contains(&spec.as_str()) {
                return Plan::Evaluator(format!("the simulator does not generate `{spec}` key pairs"));
            }
            args.insert("KeyPairSpec".into(), json!(spec));
            args.insert("EncryptionContext".into(), ec_value(ec));
            api(args)
        }
        "ReEncryptFrom" | "ReEncryptTo" => plan_re_encrypt(sim, r, op, ec, conditions, args, steps),
        "Sign" | "Verify" | "GenerateMac" | "VerifyMac" => plan_sign_mac(sim, r, op, conditions, args, steps),
        "CreateGrant" => plan_create_grant(sim, r, conditions, args),
        "RetireGrant" | "RevokeGrant" => plan_grant_removal(sim, r, op, conditions, args, steps),
        "ReplicateKey" => plan_replicate(sim, r, conditions, args),
        "UpdatePrimaryRegion" => plan_update_primary(sim, r, conditions, args),
        "TagResource" | "UntagResource" => plan_tags(op, conditions, args),
        "PutKeyPolicy" => {
            let text = sim.authz.policy_text(r.key).unwrap_or_default();
            args.insert("Policy".into(), json!(text));
            api(args)
        }
        "ScheduleKeyDeletion" => {
            if let Some(CtxValue::Single(d)) = conditions.get("kms:ScheduleKeyDeletionPendingWindowInDays") {
                args.insert("PendingWindowInDays".into(), json!(d));
            }
            api(args)
        }
        "EnableKeyRotation" => {
            if let Some(CtxValue::Single(d)) = conditions.get("kms:RotationPeriodInDays") {
                if d.parse::<u32>().is_ok_and(|d| (90..=2560).contains(&d)) {
                    args.insert("RotationPeriodInDays".into(), json!(d));
                }
            }
            api(args)
        }
        "UpdateKeyDescription" => {
            args.insert("Description".into(), json!("keyproof proof"));
            api(args)
        }
        "CreateAlias" | "UpdateAlias" | "DeleteAlias" => {
            if r.caller.account() != Some(r.k.account.as_str()) {
                return Plan::Evaluator(
                    "aliases are managed from the key's own account: no call of another principal exercises it".into(),
                );
            }
            if op != "CreateAlias" {
                let made = sim.setup_alias(r.key, PROOF_ALIAS);
                if !setup_step(steps, "CreateAlias", &r.region(), &made) {
                    return Plan::Failed;
                }
            }
            args.insert("AliasName".into(), json!(PROOF_ALIAS));
            if op == "DeleteAlias" {
                args.remove("KeyId");
            } else {
                args.remove("KeyId");
                args.insert("TargetKeyId".into(), json!(r.k.arn));
            }
            api(args)
        }
        "DescribeKey"
        | "GetKeyPolicy"
        | "ListKeyPolicies"
        | "ListGrants"
        | "ListResourceTags"
        | "EnableKey"
        | "DisableKey"
        | "GetKeyRotationStatus"
        | "ListKeyRotations"
        | "DisableKeyRotation"
        | "RotateKeyOnDemand"
        | "CancelKeyDeletion"
        | "GetPublicKey" => api(args),
        _ => Plan::Evaluator("the simulator has no such operation".into()),
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
            note: None,
        });
        return None;
    };
    let r = Replay { key, k, caller, w, allowed, tokens, hint_ops };
    let op = w.action.strip_prefix("kms:").unwrap_or(&w.action).to_string();
    let (ec, mut conditions) = split(w);
    let region = r.region();
    let mut args = Map::new();
    args.insert("KeyId".into(), json!(r.k.arn));
    if !tokens.is_empty() {
        args.insert("GrantTokens".into(), json!(tokens));
    }
    let denied = "AccessDeniedException".to_string();
    let plan = plan(sim, &r, &op, &ec, &mut conditions, &mut args, steps);
    let (name, expected, result, note): (String, String, Result<Option<Value>, KmsError>, Option<String>) = match plan {
        Plan::Failed => return None,
        Plan::Api { op: api_op, args, algorithm } => {
            let expected = if allowed { predicted(sim, &r, &op, algorithm.as_deref()) } else { denied };
            let call = r.call(&api_op, args, conditions);
            (api_op, expected, sim.call(&call).map(|o| Some(Value::Object(o.fields))), None)
        }
        Plan::Evaluator(why) => {
            // The evaluator decides authorization only: no state, usage or cryptography.
            let expected = if allowed { "ok".to_string() } else { denied };
            let mut eval_args = Map::new();
            eval_args.insert("EncryptionContext".into(), ec_value(&ec));
            if !tokens.is_empty() {
                eval_args.insert("GrantTokens".into(), json!(tokens));
            }
            let call = r.call(&op, eval_args, conditions);
            let result = sim.authorize_only(&call, &w.action, key, None).map(|()| None);
            (format!("Authorize({})", w.action), expected, result, Some(why))
        }
    };
    let (outcome, out) = match result {
        Ok(v) => ("ok".to_string(), v),
        Err(e) => (e.exception.to_string(), None),
    };
    steps.push(ProofStep { call: name, caller: caller.arn(), region, outcome, expected, note });
    out.or(Some(Value::Null))
}

const OPEN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"RewrittenByEscalation","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;

/// Replays who-can answers about one world. The key material of the world is made once and
/// shared by the fresh simulator each claim gets.
#[derive(Debug)]
pub struct Prover<'w> {
    world: &'w World,
    materials: BTreeMap<(String, String), MaterialSet>,
}

impl<'w> Prover<'w> {
    /// A prover for a world.
    #[must_use]
    pub fn new(world: &'w World) -> Self {
        let materials = Sim::from_world(world.fork()).map(|s| s.store.materials).unwrap_or_default();
        Self { world, materials }
    }

    /// Replays every entry of a who-can answer about the key with world index `key`.
    #[must_use]
    pub fn prove(&self, key: usize, answer: &Answer) -> Vec<Proof> {
        answer.principals.iter().map(|e| self.prove_entry(key, &answer.action, e)).collect()
    }

    fn fresh(&self) -> Result<Sim, KmsError> {
        Sim::from_world_with(self.world.fork(), &self.materials)
    }

    fn prove_entry(&self, key: usize, action: &str, e: &Entry) -> Proof {
        prove_entry(self, key, action, e)
    }
}

fn prove_entry(prover: &Prover<'_>, key: usize, action: &str, e: &Entry) -> Proof {
    let world = prover.world;
    let mut steps = Vec::new();
    let claim =
        if e.unconditional { format!("can {action}") } else { format!("can {action} when {}", e.condition_text) };
    let fresh = || prover.fresh();
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
                    note: None,
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
                note: None,
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

/// Replays every entry of a who-can answer (one [`Prover`] for one answer; several answers
/// about one world share a [`Prover`]).
#[must_use]
pub fn prove(world: &World, key: usize, answer: &Answer) -> Vec<Proof> {
    Prover::new(world).prove(key, answer)
}

/// The actions an `--action` pattern names: the KMS actions of the catalogue it matches
/// (`kms:ReEncrypt*` → `kms:ReEncryptFrom`, `kms:ReEncryptTo`), or the action itself when it
/// has no wildcard or matches nothing.
#[must_use]
pub fn expand_action(pattern: &str) -> Vec<String> {
    if !pattern.contains(['*', '?']) {
        return vec![pattern.to_string()];
    }
    let names: Vec<String> = crate::catalog::catalog()
        .matching_actions(pattern)
        .into_iter()
        .filter(|a| {
            a.is_kms()
                && !a.internal
                && matches!(a.resource, crate::catalog::ResourceKind::Key | crate::catalog::ResourceKind::AliasAndKey)
        })
        .map(|a| a.name.clone())
        .collect();
    if names.is_empty() {
        vec![pattern.to_string()]
    } else {
        names
    }
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
            if let Some(n) = &st.note {
                s.push_str(&format!("      (evaluator only: {n})\n"));
            }
        }
    }
    let n = proofs.iter().filter(|p| p.proved).count();
    s.push_str(&format!("{n} of {} claims proved\n", proofs.len()));
    s
}
