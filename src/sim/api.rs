//! The KMS API operations of the simulator. Every operation follows the order of checks of
//! semantics.md §7.3 / U17, in [`Sim::prepare`]: validation → key resolution → authorization
//! (through the evaluator) → key state → key usage → cryptography.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::authz::{default_policy, Ask, Authz};
use super::crypto::{self, random_array, to_hex, BlobHeader, Secret};
use super::keystore::{
    check_algorithm, check_operation, check_state, check_usage, hmac_params, key_algorithms, rule_of, KeyKind,
    KeyState, KeyStore, Material, MaterialSet, MrkRole, SimGrant, SimKey, StateRule, TRANSIENT_STATE_SECONDS,
};
use super::KmsError;
use crate::eval::context::CtxValue;
use crate::eval::principal::Caller;
use crate::world::{grant_operation_fits, Grant, Key, KeyMetadata, PolicySlot, Rotation, World, GRANT_OPERATIONS};

/// 2025-01-01T00:00:00Z: the simulated clock starts here.
pub const EPOCH_START: i64 = 1_735_689_600;
const DAY: i64 = 86_400;

/// `KeyPairSpec` values of `GenerateDataKeyPair` (§8.4).
const DATA_KEY_PAIR_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "ECC_NIST_EDWARDS25519",
    "SM2",
];

/// The ones the simulator generates.
pub const SIM_DATA_KEY_PAIR_SPECS: &[&str] = &["ECC_NIST_P256", "RSA_2048"];

/// One API call.
#[derive(Clone, Debug, Default)]
pub struct Call {
    /// Operation name (`Encrypt`, `CreateKey`, …).
    pub op: String,
    /// Acting principal (IAM/STS ARN or service principal).
    pub caller: String,
    /// Region of the call.
    pub region: String,
    /// Request parameters as in the KMS API (blobs base64).
    pub args: Map<String, Value>,
    /// Extra condition keys of the request context (`kms:ViaService`, `aws:SourceVpce`, …).
    pub conditions: BTreeMap<String, CtxValue>,
    /// The caller stands for principals whose IAM is outside the world (abstract who-can
    /// principals replayed by `prove`).
    pub assume_identity_allows: bool,
}

/// The result of a call: the response fields (never secrets) and, separately, a plaintext
/// (zeroized on drop, never printed).
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Response fields (blobs base64).
    pub fields: Map<String, Value>,
    /// `Plaintext` of Decrypt / GenerateDataKey / GenerateRandom, `PrivateKeyPlaintext` of
    /// GenerateDataKeyPair.
    pub plaintext: Option<Secret>,
    /// The response field the plaintext belongs to when it is not `Plaintext`.
    pub plaintext_field: Option<&'static str>,
}

impl Output {
    /// The response field of [`Output::plaintext`].
    #[must_use]
    pub fn plaintext_name(&self) -> &'static str {
        self.plaintext_field.unwrap_or("Plaintext")
    }

    fn of(v: Value) -> Output {
        match v {
            Value::Object(fields) => Output { fields, ..Output::default() },
            _ => Output::default(),
        }
    }
}

/// ISO-8601 UTC of simulated seconds.
#[must_use]
pub fn iso(secs: i64) -> String {
    crate::policy::time::render(secs, 0)
}

fn validation(msg: impl Into<String>) -> KmsError {
    KmsError::new("ValidationException", msg)
}

fn s_arg(args: &Map<String, Value>, name: &str) -> Option<String> {
    match args.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn req_s(args: &Map<String, Value>, name: &str) -> Result<String, KmsError> {
    s_arg(args, name).filter(|s| !s.is_empty()).ok_or_else(|| validation(format!("`{name}` is required")))
}

fn b64_arg(args: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, KmsError> {
    match s_arg(args, name) {
        None => Ok(None),
        Some(s) => B64.decode(s.as_bytes()).map(Some).map_err(|_| validation(format!("`{name}` is not valid base64"))),
    }
}

fn u_arg(args: &Map<String, Value>, name: &str) -> Result<Option<i64>, KmsError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| validation(format!("`{name}` must be an integer")))
        }
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| validation(format!("`{name}` must be an integer"))),
        _ => Err(validation(format!("`{name}` must be an integer"))),
    }
}

fn bool_arg(args: &Map<String, Value>, name: &str) -> bool {
    match args.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn ec_arg(args: &Map<String, Value>, name: &str) -> Result<Option<BTreeMap<String, String>>, KmsError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(
            m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect(),
        )),
        _ => Err(validation(format!("`{name}` must be a map of strings"))),
    }
}

fn list_arg(args: &Map<String, Value>, name: &str) -> Vec<String> {
    match args.get(name) {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn policy_arg(args: &Map<String, Value>) -> Option<String> {
    match args.get("Policy") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v @ Value::Object(_)) => serde_json::to_string_pretty(v).ok(),
        _ => None,
    }
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(B64.encode(bytes))
}

fn cond(k: &str, v: impl Into<String>) -> (String, CtxValue) {
    (k.to_string(), CtxValue::Single(v.into()))
}

/// What an operation needs of its key, for [`Sim::prepare`].
struct Need<'a> {
    action: &'a str,
    rule: StateRule,
    ec: Option<&'a BTreeMap<String, String>>,
    conditions: BTreeMap<String, CtxValue>,
    grant_id: Option<&'a str>,
}

/// The software KMS.
#[derive(Debug)]
pub struct Sim {
    /// Keys, material, grants, aliases.
    pub store: KeyStore,
    /// The authorization world.
    pub authz: Authz,
    /// Simulated time (seconds since the Unix epoch).
    pub now: i64,
    /// Every grant token issued → grant id.
    tokens: BTreeMap<String, String>,
}

impl Sim {
    /// A simulator whose authorization world starts as `world` (IAM, organization, …). Keys of
    /// the world are not adopted; see [`Sim::from_world`].
    #[must_use]
    pub fn new(world: World) -> Sim {
        Sim { store: KeyStore::default(), authz: Authz::new(world), now: EPOCH_START, tokens: BTreeMap::new() }
    }

    /// A simulator that holds every key of the world (same world key indices), with fresh
    /// material, the world's policies, grants (as long propagated), aliases, state and
    /// multi-Region roles. Keys of unsupported specs get symmetric material.
    ///
    /// # Errors
    /// `KMSInternalException` when the CSPRNG fails.
    pub fn from_world(world: World) -> Result<Sim, KmsError> {
        Sim::from_world_with(world, &BTreeMap::new())
    }

    /// [`Sim::from_world`], taking the material of a key from `materials` (by account and key
    /// id) when it is there: simulators built again and again for one world (one per replayed
    /// claim in `prove`) share their key material instead of generating it each time (RSA key
    /// generation is slow).
    ///
    /// # Errors
    /// `KMSInternalException` when the CSPRNG fails.
    pub fn from_world_with(world: World, materials: &BTreeMap<(String, String), MaterialSet>) -> Result<Sim, KmsError> {
        let mut sim = Sim::new(world);
        let keys: Vec<Key> = sim.authz.world.keys.clone();
        for (i, k) in keys.iter().enumerate() {
            let md = k.metadata.clone().unwrap_or_default();
            let kind = KeyKind::of_spec(&md.spec).unwrap_or(KeyKind::Symmetric);
            let mrk = match md.multi_region_type.as_deref() {
                Some("PRIMARY") => MrkRole::Primary,
                Some("REPLICA") => MrkRole::Replica,
                _ if k.id.starts_with("mrk-") => MrkRole::Primary,
                _ => MrkRole::None,
            };
            let mut sk = SimKey {
                id: k.id.clone(),
                arn: k.arn.clone(),
                account: k.account.clone(),
                region: k.region.clone(),
                state: KeyState::parse(&md.state),
                description: md.description.clone().unwrap_or_default(),
                mrk,
                deletion_date: None,
                pending_window_days: None,
                created: sim.now,
                world_index: i,
                deleted: false,
                manager: md.manager.clone(),
                transient_until: None,
            };
            if matches!(sk.state, KeyState::Creating | KeyState::Updating) {
                sk.transient_until = Some(sim.now + TRANSIENT_STATE_SECONDS);
            }
            let mk = (k.account.clone(), k.id.clone());
            if let (false, Some(m)) = (sim.store.materials.contains_key(&mk), materials.get(&mk)) {
                sim.store.materials.insert(mk.clone(), m.clone());
            }
            if !sim.store.materials.contains_key(&mk) {
                let rot = k.rotation.clone().unwrap_or(Rotation { enabled: false, period_days: None });
                let period = rot.period_days.unwrap_or(365);
                sim.store.materials.insert(
                    mk,
                    MaterialSet {
                        kind,
                        spec: if KeyKind::of_spec(&md.spec).is_some() {
                            md.spec.clone()
                        } else {
                            "SYMMETRIC_DEFAULT".into()
                        },
                        versions: vec![Material::generate(kind, &md.spec, sim.now, "CREATE")?],
                        rotation_enabled: rot.enabled,
                        rotation_period_days: period,
                        next_rotation: rot.enabled.then_some(sim.now + i64::from(period) * DAY),
                        on_demand_rotations: 0,
                        stand_in_for: KeyKind::of_spec(&md.spec).is_none().then(|| md.spec.clone()),
                    },
                );
            }
            let grants = k
                .grants
                .iter()
                .flatten()
                .map(|g| SimGrant { grant: g.clone(), created: i64::MIN / 2, tokens: Vec::new() })
                .collect();
            sim.store.grants.insert(sim.store.keys.len(), grants);
            sim.store.keys.push(sk);
        }
        for a in &sim.authz.world.aliases {
            if let Some(t) = &a.target_key_id {
                let id = t.rsplit_once(":key/").map_or(t.as_str(), |(_, id)| id);
                sim.store.aliases.insert((a.account.clone(), a.region.clone(), a.name.clone()), id.to_string());
            }
        }
        Ok(sim)
    }

    /// Advances the simulated clock: automatic rotations that fall due happen, keys whose
    /// waiting period ends are deleted, grants propagate.
    pub fn advance(&mut self, seconds: i64) {
        self.now += seconds.max(0);
        let now = self.now;
        // Transient states end (`Creating`/`Updating` → `Enabled`, §7.2).
        let mut settled = Vec::new();
        for (i, k) in self.store.keys.iter_mut().enumerate() {
            if k.transient_until.is_some_and(|t| t <= now) {
                k.transient_until = None;
                if matches!(k.state, KeyState::Creating | KeyState::Updating) {
                    k.state = KeyState::Enabled;
                    settled.push(i);
                }
            }
        }
        for i in settled {
            self.sync(i);
        }
        // Automatic rotation (not while the primary, or single-Region key, is disabled).
        let enabled_sets: Vec<(String, String)> = self
            .store
            .keys
            .iter()
            .filter(|k| !k.deleted && k.mrk != MrkRole::Replica && k.state == KeyState::Enabled)
            .map(|k| (k.account.clone(), k.id.clone()))
            .collect();
        for mk in enabled_sets {
            let Some(set) = self.store.materials.get_mut(&mk) else { continue };
            if let (true, Some(due)) = (set.rotation_enabled, set.next_rotation) {
                if due <= now {
                    if let Ok(m) = Material::generate(set.kind, &set.spec, due, "AUTOMATIC") {
                        set.versions.push(m);
                    }
                    let period = i64::from(set.rotation_period_days) * DAY;
                    set.next_rotation = Some(if due + period > now { due + period } else { now + period });
                }
            }
        }
        // Deletions.
        let mut changed = false;
        for i in 0..self.store.keys.len() {
            let due = self.store.keys.get(i).is_some_and(|k| {
                !k.deleted && k.state == KeyState::PendingDeletion && k.deletion_date.is_some_and(|d| d <= now)
            });
            if due {
                if let Some(k) = self.store.keys.get_mut(i) {
                    k.deleted = true;
                    let (acct, region, id) = (k.account.clone(), k.region.clone(), k.id.clone());
                    self.store.aliases.retain(|(a, r, _), t| !(a == &acct && r == &region && t == &id));
                    self.store.grants.remove(&i);
                    changed = true;
                }
            }
        }
        if changed {
            // A primary pending replica deletion starts its window when its last replica is gone.
            for i in 0..self.store.keys.len() {
                let Some(k) = self.store.keys.get(i) else { continue };
                if k.deleted || k.state != KeyState::PendingReplicaDeletion {
                    continue;
                }
                if self.store.related(&k.account, &k.id).len() == 1 {
                    if let Some(k) = self.store.keys.get_mut(i) {
                        k.state = KeyState::PendingDeletion;
                        k.deletion_date = Some(now + i64::from(k.pending_window_days.unwrap_or(30)) * DAY);
                    }
                }
            }
            let all: Vec<usize> = (0..self.store.keys.len()).collect();
            for i in all {
                self.sync(i);
            }
            self.authz.sync_aliases(&self.store);
        }
    }

    fn sync(&mut self, i: usize) {
        let Some(k) = self.store.keys.get(i).cloned() else { return };
        let (spec, usage) = self
            .store
            .material(&k)
            .map_or(("SYMMETRIC_DEFAULT".to_string(), "ENCRYPT_DECRYPT"), |m| (m.spec.clone(), m.kind.usage()));
        let related: Vec<(String, String, bool)> = if k.mrk == MrkRole::None {
            Vec::new()
        } else {
            self.store
                .related(&k.account, &k.id)
                .into_iter()
                .filter_map(|j| self.store.keys.get(j))
                .map(|r| (r.arn.clone(), r.region.clone(), r.mrk == MrkRole::Primary))
                .collect()
        };
        self.authz.sync_metadata(&k, &spec, usage, &related);
    }

    fn caller(&self, call: &Call) -> Result<Caller, KmsError> {
        Caller::parse(&call.caller, &self.authz.world)
            .map_err(|e| KmsError::new("UnrecognizedClientException", format!("`{}`: {e}", call.caller)))
    }

    /// Resolves a `KeyId` parameter (key id, key ARN, alias name, alias ARN) in the Region of
    /// the call (§7.1). Returns the key and the alias it was named by.
    fn resolve(
        &self,
        caller: &Caller,
        region: &str,
        r: &str,
        alias_ok: bool,
    ) -> Result<(usize, Option<String>), KmsError> {
        let own = caller.account().unwrap_or_default().to_string();
        let not_found = || KmsError::new("NotFoundException", format!("Key '{r}' does not exist"));
        let (account, kregion, what) = if let Some(rest) = r.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            match parts.as_slice() {
                [_, "kms", reg, acct, res] => ((*acct).to_string(), (*reg).to_string(), (*res).to_string()),
                _ => return Err(KmsError::new("InvalidArnException", format!("`{r}` is not a KMS ARN"))),
            }
        } else {
            (own, region.to_string(), r.to_string())
        };
        if kregion != region {
            return Err(not_found());
        }
        if let Some(name) = what.strip_prefix("alias/").map(|n| format!("alias/{n}")) {
            if !alias_ok {
                return Err(not_found());
            }
            let id = self.store.aliases.get(&(account.clone(), region.to_string(), name.clone())).ok_or_else(|| {
                KmsError::new("NotFoundException", format!("Alias arn:aws:kms:{region}:{account}:{name} is not found."))
            })?;
            let i = self.store.find(&account, region, id).ok_or_else(not_found)?;
            return Ok((i, Some(name)));
        }
        let id = what.strip_prefix("key/").unwrap_or(&what);
        let i = self.store.find(&account, region, id).ok_or_else(not_found)?;
        Ok((i, None))
    }

    fn key(&self, i: usize) -> Result<&SimKey, KmsError> {
        self.store.keys.get(i).ok_or_else(|| KmsError::new("KMSInternalException", "dangling key index"))
    }

    fn set_of(&self, i: usize) -> Result<&MaterialSet, KmsError> {
        let k = self.key(i)?;
        self.store.material(k).ok_or_else(|| KmsError::new("KMSInternalException", "key without material"))
    }

    fn check_tokens(&self, tokens: &[String]) -> Result<(), KmsError> {
        if tokens.len() > 10 {
            return Err(validation("at most 10 grant tokens"));
        }
        match tokens.iter().find(|t| !self.tokens.contains_key(*t)) {
            Some(t) => Err(KmsError::new("InvalidGrantTokenException", format!("invalid grant token `{t}`"))),
            None => Ok(()),
        }
    }

    /// The order of checks of §7.3 (U17), the one place that records it. Validation has run
    /// (the operation parsed its parameters before calling); then: (2) resolve the key,
    /// (3) authorize through the evaluator, (4) key state, (5) key usage. Cryptography (6) is
    /// the operation's own, after this returns.
    fn prepare(
        &mut self,
        call: &Call,
        caller: &Caller,
        key: KeyPick<'_>,
        need: &Need<'_>,
        tokens: &[String],
    ) -> Result<usize, KmsError> {
        // (1) validation of what every operation shares
        self.check_tokens(tokens)?;
        // (2) resolution
        let (i, via_alias) = match key {
            KeyPick::Ref(r, alias_ok) => self.resolve(caller, &call.region, r, alias_ok)?,
            KeyPick::Index(i) => (i, None),
        };
        // (3) authorization
        let k = self.key(i)?.clone();
        let mut conditions = need.conditions.clone();
        for (ck, v) in &call.conditions {
            conditions.insert(ck.clone(), v.clone());
        }
        let grants = self.store.grants.get(&i).cloned().unwrap_or_default();
        let ask = Ask {
            caller,
            action: need.action,
            key: k.world_index,
            ec: need.ec,
            conditions: &conditions,
            via_alias: via_alias.as_deref(),
            grant_tokens: tokens,
            grant_id: need.grant_id,
            assume_identity_allows: call.assume_identity_allows,
            region: &call.region,
        };
        self.authz.require(&ask, &grants, self.now)?;
        // (4) state
        let op = need.action.strip_prefix("kms:").unwrap_or(need.action);
        check_state(need.rule, op, k.state, &k.arn)?;
        // (5) usage
        check_usage(op, self.set_of(i)?.kind, &k.arn)?;
        Ok(i)
    }

    /// Runs one call.
    ///
    /// # Errors
    /// The KMS exception the call fails with.
    pub fn call(&mut self, call: &Call) -> Result<Output, KmsError> {
        let caller = self.caller(call)?;
        let a = &call.args;
        let tokens = list_arg(a, "GrantTokens");
        match call.op.as_str() {
            "CreateKey" => self.create_key(call, &caller),
            "ReplicateKey" => self.replicate_key(call, &caller, &tokens),
            "UpdatePrimaryRegion" => self.update_primary_region(call, &caller),
            "DescribeKey" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, true), &need("kms:DescribeKey"), &tokens)?;
                Ok(Output::of(json!({ "KeyMetadata": self.describe(i)? })))
            }
            "EnableKey" | "DisableKey" => {
                let r = req_s(a, "KeyId")?;
                let action = format!("kms:{}", call.op);
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need(&action), &[])?;
                if let Some(k) = self.store.keys.get_mut(i) {
                    k.state = if call.op == "EnableKey" { KeyState::Enabled } else { KeyState::Disabled };
                }
                self.sync(i);
                Ok(Output::default())
            }
            "ScheduleKeyDeletion" => self.schedule_deletion(call, &caller),
            "CancelKeyDeletion" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:CancelKeyDeletion"), &[])?;
                if let Some(k) = self.store.keys.get_mut(i) {
                    k.state = KeyState::Disabled;
                    k.deletion_date = None;
                }
                self.sync(i);
                Ok(Output::of(json!({ "KeyId": self.key(i)?.arn })))
            }
            "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" => self.rotation_op(call, &caller),
            "GetKeyRotationStatus" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:GetKeyRotationStatus"), &[])?;
                let k = self.key(i)?;
                let set = self.set_of(i)?;
                let pending = matches!(k.state, KeyState::PendingDeletion | KeyState::PendingReplicaDeletion);
                let mut out = json!({
                    "KeyId": k.arn,
                    "KeyRotationEnabled": set.rotation_enabled && !pending,
                });
                if set.rotation_enabled {
                    out["RotationPeriodInDays"] = json!(set.rotation_period_days);
                    if let Some(n) = set.next_rotation {
                        out["NextRotationDate"] = json!(iso(n));
                    }
                }
                Ok(Output::of(out))
            }
            "ListKeyRotations" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:ListKeyRotations"), &[])?;
                let k = self.key(i)?;
                let set = self.set_of(i)?;
                let n = set.versions.len();
                let rotations: Vec<Value> = set
                    .versions
                    .iter()
                    .enumerate()
                    .skip(1)
                    .map(|(j, m)| {
                        json!({ "KeyId": k.arn, "RotationDate": iso(m.created), "RotationType": m.how,
                                "KeyMaterialId": to_hex(&m.id),
                                "KeyMaterialState": if j + 1 == n { "CURRENT" } else { "NON_CURRENT" } })
                    })
                    .collect();
                Ok(Output::of(json!({ "Rotations": rotations, "Truncated": false })))
            }
            "GetKeyPolicy" => {
                let r = req_s(a, "KeyId")?;
                if s_arg(a, "PolicyName").is_some_and(|p| p != "default") {
                    return Err(KmsError::new("NotFoundException", "the only policy name is `default`"));
                }
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:GetKeyPolicy"), &[])?;
                let text = self.authz.policy_text(self.key(i)?.world_index).unwrap_or_default();
                Ok(Output::of(json!({ "Policy": text, "PolicyName": "default" })))
            }
            "PutKeyPolicy" => self.put_key_policy(call, &caller),
            "ListKeyPolicies" => {
                let r = req_s(a, "KeyId")?;
                self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:ListKeyPolicies"), &[])?;
                Ok(Output::of(json!({ "PolicyNames": ["default"], "Truncated": false })))
            }
            "UpdateKeyDescription" => {
                let r = req_s(a, "KeyId")?;
                let d = s_arg(a, "Description").ok_or_else(|| validation("`Description` is required"))?;
                if d.len() > 8192 {
                    return Err(validation("`Description` is longer than 8192 characters"));
                }
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:UpdateKeyDescription"), &[])?;
                if let Some(k) = self.store.keys.get_mut(i) {
                    k.description = d;
                }
                self.sync(i);
                Ok(Output::default())
            }
            "TagResource" | "UntagResource" => self.tag_op(call, &caller),
            "ListResourceTags" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:ListResourceTags"), &[])?;
                let wi = self.key(i)?.world_index;
                let tags: Vec<Value> = self
                    .authz
                    .world
                    .keys
                    .get(wi)
                    .and_then(|k| k.tags.as_ref())
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
                    .collect();
                Ok(Output::of(json!({ "Tags": tags, "Truncated": false })))
            }
            "CreateAlias" | "UpdateAlias" | "DeleteAlias" => self.alias_op(call, &caller),
            "ListAliases" => self.list_aliases(call, &caller),
            "CreateGrant" => self.create_grant(call, &caller, &tokens),
            "ListGrants" => {
                let r = req_s(a, "KeyId")?;
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, false), &need("kms:ListGrants"), &tokens)?;
                let grants: Vec<Value> = self
                    .store
                    .grants
                    .get(&i)
                    .into_iter()
                    .flatten()
                    .map(|g| {
                        json!({ "GrantId": g.grant.id, "KeyId": g.grant.key_arn, "GranteePrincipal": g.grant.grantee,
                                "Operations": g.grant.operations, "Name": g.grant.name, "RetiringPrincipal": g.grant.retiring,
                                "IssuingAccount": g.grant.issuing_account })
                    })
                    .collect();
                Ok(Output::of(json!({ "Grants": grants, "Truncated": false })))
            }
            "RetireGrant" | "RevokeGrant" => self.retire_or_revoke(call, &caller),
            "Encrypt" => self.encrypt(call, &caller, &tokens),
            "Decrypt" => self.decrypt(call, &caller, &tokens),
            "ReEncrypt" => self.re_encrypt(call, &caller, &tokens),
            "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => self.generate_data_key(call, &caller, &tokens),
            "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => {
                self.generate_data_key_pair(call, &caller, &tokens)
            }
            "GenerateMac" | "VerifyMac" => self.mac(call, &caller, &tokens),
            "Sign" | "Verify" => self.sign_verify(call, &caller, &tokens),
            "GetPublicKey" => {
                let r = req_s(a, "KeyId")?;
                let n = need("kms:GetPublicKey");
                let i = self.prepare(call, &caller, KeyPick::Ref(&r, true), &n, &tokens)?;
                let set = self.set_of(i)?;
                let m = set.current().ok_or_else(|| KmsError::new("KMSInternalException", "no material"))?;
                // DER SubjectPublicKeyInfo, as KMS returns it.
                let pk = if set.kind == KeyKind::Rsa2048 {
                    crypto::rsa_public(&m.bytes)?
                } else {
                    crypto::p256_public(&m.bytes)?
                };
                Ok(Output::of(json!({ "KeyId": self.key(i)?.arn, "PublicKey": b64(&pk), "KeySpec": set.spec,
                    "CustomerMasterKeySpec": set.spec, "KeyUsage": set.kind.usage(),
                    "SigningAlgorithms": key_algorithms(set.kind, &set.spec) })))
            }
            "GenerateRandom" => {
                let n = u_arg(a, "NumberOfBytes")?.ok_or_else(|| validation("`NumberOfBytes` is required"))?;
                if !(1..=1024).contains(&n) {
                    return Err(validation("`NumberOfBytes` must be 1-1024"));
                }
                self.iam_only(call, &caller, "kms:GenerateRandom")?;
                let bytes = Secret::random(usize::try_from(n).unwrap_or(0))?;
                Ok(Output { plaintext: Some(bytes), ..Output::default() })
            }
            other => {
                Err(KmsError::new("UnsupportedOperationException", format!("the simulator has no operation `{other}`")))
            }
        }
    }

    /// Setup for proofs, not a KMS API call: encrypts a sample under the key with world index
    /// `world_key` without authorization (a ciphertext that exists before the replay starts).
    ///
    /// # Errors
    /// `NotFoundException` when the simulator holds no such key.
    pub fn setup_encrypt(
        &self,
        world_key: usize,
        ec: &BTreeMap<String, String>,
        pt: &[u8],
    ) -> Result<String, KmsError> {
        let i = self
            .store
            .keys
            .iter()
            .position(|k| k.world_index == world_key && !k.deleted)
            .ok_or_else(|| KmsError::new("NotFoundException", "no such key in the simulator"))?;
        let k = self.key(i)?;
        let set = self.set_of(i)?;
        let m = set.current().ok_or_else(|| KmsError::new("KMSInternalException", "no material"))?;
        Ok(B64.encode(crypto::seal(&m.bytes, &k.id, m.id, ec, pt)?))
    }

    /// The simulator key mirrored by a world key.
    #[must_use]
    pub fn key_of_world(&self, world_key: usize) -> Option<&SimKey> {
        self.store.keys.iter().find(|k| k.world_index == world_key && !k.deleted)
    }

    /// Asks the evaluator alone (for actions the simulator cannot replay as an API call, and
    /// for the pre-checks of `prove`): `Ok` when allowed, `AccessDeniedException` otherwise. The
    /// call's `EncryptionContext` and `GrantTokens` arguments and its conditions are used;
    /// `grant_id` names the grant of `RetireGrant`/`RevokeGrant`.
    ///
    /// # Errors
    /// `AccessDeniedException`, or the caller cannot be parsed.
    pub fn authorize_only(
        &mut self,
        call: &Call,
        action: &str,
        world_key: usize,
        grant_id: Option<&str>,
    ) -> Result<(), KmsError> {
        let caller = self.caller(call)?;
        let ec = ec_arg(&call.args, "EncryptionContext")?;
        let tokens = list_arg(&call.args, "GrantTokens");
        let i = self.store.keys.iter().position(|k| k.world_index == world_key).unwrap_or(usize::MAX);
        let grants = self.store.grants.get(&i).cloned().unwrap_or_default();
        let ask = Ask {
            caller: &caller,
            action,
            key: world_key,
            ec: ec.as_ref(),
            conditions: &call.conditions,
            via_alias: None,
            grant_tokens: &tokens,
            grant_id,
            assume_identity_allows: call.assume_identity_allows,
            region: &call.region,
        };
        self.authz.require(&ask, &grants, self.now).map(|_| ())
    }

    /// [`Sim::authorize_only`] for an action without a key resource (`kms:CreateKey`, …),
    /// decided by identity policies alone.
    ///
    /// # Errors
    /// `AccessDeniedException`, or the caller cannot be parsed.
    pub fn authorize_iam_only(&mut self, call: &Call, action: &str) -> Result<(), KmsError> {
        let caller = self.caller(call)?;
        self.iam_only(call, &caller, action)
    }

    fn store_index(&self, world_key: usize) -> Result<usize, KmsError> {
        self.store
            .keys
            .iter()
            .position(|k| k.world_index == world_key && !k.deleted)
            .ok_or_else(|| KmsError::new("NotFoundException", "no such key in the simulator"))
    }

    /// Setup for proofs, not a KMS API call: a symmetric key in `account` and `region` with
    /// `policy`, created without authorization. Returns its world index.
    ///
    /// # Errors
    /// `MalformedPolicyDocumentException` for a bad policy; `KMSInternalException` when the
    /// CSPRNG fails.
    pub fn setup_key(&mut self, account: &str, region: &str, policy: &str) -> Result<usize, KmsError> {
        let id = Self::new_key_id(false)?;
        let spec = "SYMMETRIC_DEFAULT";
        let i = self.add_key(&id, account, region, policy, String::new(), MrkRole::None, spec, "ENCRYPT_DECRYPT")?;
        let m = Material::generate(KeyKind::Symmetric, spec, self.now, "CREATE")?;
        self.store.materials.insert(
            (account.to_string(), id),
            MaterialSet {
                kind: KeyKind::Symmetric,
                spec: spec.to_string(),
                versions: vec![m],
                rotation_enabled: false,
                rotation_period_days: 365,
                next_rotation: None,
                on_demand_rotations: 0,
                stand_in_for: None,
            },
        );
        self.sync(i);
        Ok(self.key(i)?.world_index)
    }

    /// Setup for proofs, not a KMS API call: a grant on the key with world index `world_key`,
    /// created long ago (propagated), without authorization. Returns its id.
    ///
    /// # Errors
    /// `NotFoundException` when the simulator holds no such key.
    pub fn setup_grant(&mut self, world_key: usize, grantee: &str, operations: &[&str]) -> Result<String, KmsError> {
        let i = self.store_index(world_key)?;
        let k = self.key(i)?.clone();
        let grant = Grant {
            id: to_hex(&random_array::<32>()?),
            name: Some("keyproof-proof".into()),
            key_arn: k.arn.clone(),
            grantee: grantee.to_string(),
            issuing_account: Some(format!("arn:aws:iam::{}:root", k.account)),
            operations: operations.iter().map(|o| (*o).to_string()).collect(),
            ..Grant::default()
        };
        let id = grant.id.clone();
        let created = self.now - super::keystore::GRANT_PROPAGATION_SECONDS;
        self.store.grants.entry(i).or_default().push(SimGrant { grant, created, tokens: Vec::new() });
        Ok(id)
    }

    /// The grant ids of the key with world index `world_key`, in creation order.
    #[must_use]
    pub fn grant_ids(&self, world_key: usize) -> Vec<String> {
        self.store_index(world_key)
            .ok()
            .and_then(|i| self.store.grants.get(&i))
            .map(|gs| gs.iter().map(|g| g.grant.id.clone()).collect())
            .unwrap_or_default()
    }

    /// Setup for proofs, not a KMS API call: an alias `name` for the key with world index
    /// `world_key`, in the key's account and Region.
    ///
    /// # Errors
    /// `NotFoundException` when the simulator holds no such key.
    pub fn setup_alias(&mut self, world_key: usize, name: &str) -> Result<(), KmsError> {
        let k = self.key(self.store_index(world_key)?)?.clone();
        self.store.aliases.insert((k.account, k.region, name.to_string()), k.id);
        self.authz.sync_aliases(&self.store);
        Ok(())
    }

    /// Setup for proofs, not a KMS API call: the signature (`Verify`) or MAC (`VerifyMac`) of
    /// `msg` under the current material of the key with world index `world_key`, without
    /// authorization; `None` when the key cannot produce one with `algorithm`.
    #[must_use]
    pub fn setup_signature(
        &self,
        world_key: usize,
        op: &str,
        algorithm: &str,
        msg: &[u8],
        digest: bool,
    ) -> Option<Vec<u8>> {
        let set = self.set_of(self.store_index(world_key).ok()?).ok()?;
        let m = set.current()?;
        match (op, set.kind) {
            ("Verify", KeyKind::EccP256) if algorithm == "ECDSA_SHA_256" => {
                crypto::p256_sign(&m.bytes, msg, digest).ok()
            }
            ("Verify", KeyKind::Rsa2048) => crypto::rsa_sign(&m.bytes, algorithm, msg, digest).ok(),
            ("VerifyMac", KeyKind::Hmac) if hmac_params(&set.spec).1 == algorithm => {
                crypto::hmac(algorithm, &m.bytes, msg).ok()
            }
            _ => None,
        }
    }

    /// The world's `KeySpec` when the key with world index `world_key` holds symmetric
    /// material in place of a spec the simulator does not support.
    #[must_use]
    pub fn material_stand_in(&self, world_key: usize) -> Option<String> {
        self.set_of(self.store_index(world_key).ok()?).ok()?.stand_in_for.clone()
    }

    /// The key type and `KeySpec` of the key with world index `world_key`.
    #[must_use]
    pub fn kind_of_world(&self, world_key: usize) -> Option<(KeyKind, String)> {
        let set = self.set_of(self.store_index(world_key).ok()?).ok()?;
        Some((set.kind, set.spec.clone()))
    }

    /// Authorizes an action without a key resource (IAM only) against a placeholder key.
    fn iam_only(&mut self, call: &Call, caller: &Caller, action: &str) -> Result<(), KmsError> {
        let account = caller.account().unwrap_or_default().to_string();
        let placeholder = Key {
            arn: format!("arn:aws:kms:{}:{account}:key/00000000-0000-0000-0000-000000000000", call.region),
            id: "00000000-0000-0000-0000-000000000000".into(),
            account,
            region: call.region.clone(),
            ..Key::default()
        };
        let idx = self.authz.add_key(placeholder);
        let conditions = call.conditions.clone();
        let ask = Ask {
            caller,
            action,
            key: idx,
            ec: None,
            conditions: &conditions,
            via_alias: None,
            grant_tokens: &[],
            grant_id: None,
            assume_identity_allows: call.assume_identity_allows,
            region: &call.region,
        };
        let r = self.authz.require(&ask, &[], self.now);
        self.authz.world.keys.pop();
        self.authz.touch();
        r.map(|_| ())
    }

    fn new_key_id(multi_region: bool) -> Result<String, KmsError> {
        let b = random_array::<16>()?;
        if multi_region {
            return Ok(crypto::key_id_text(&b, true));
        }
        let mut b = b;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Ok(crypto::key_id_text(&b, false))
    }

    /// Adds a key (world + store); on any later failure the caller must call `drop_new_key`.
    #[allow(clippy::too_many_arguments, reason = "one constructor for CreateKey and ReplicateKey")]
    fn add_key(
        &mut self,
        id: &str,
        account: &str,
        region: &str,
        policy: &str,
        description: String,
        mrk: MrkRole,
        spec: &str,
        usage: &str,
    ) -> Result<usize, KmsError> {
        let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
        let slot = self.authz.add_key_policy(&format!("sim:{arn}:policy"), policy, account)?;
        let wkey = Key {
            arn: arn.clone(),
            id: id.to_string(),
            account: account.to_string(),
            region: region.to_string(),
            policy: Some(slot),
            metadata: Some(KeyMetadata { spec: spec.into(), usage: usage.into(), ..KeyMetadata::default() }),
            rotation: Some(Rotation { enabled: false, period_days: None }),
            grants: Some(Vec::new()),
            tags: Some(BTreeMap::new()),
            ..Key::default()
        };
        let wi = self.authz.add_key(wkey);
        let i = self.store.keys.len();
        self.store.keys.push(SimKey {
            id: id.to_string(),
            arn,
            account: account.to_string(),
            region: region.to_string(),
            state: KeyState::Enabled,
            description,
            mrk,
            deletion_date: None,
            pending_window_days: None,
            created: self.now,
            world_index: wi,
            deleted: false,
            manager: "CUSTOMER".into(),
            transient_until: None,
        });
        self.store.grants.insert(i, Vec::new());
        Ok(i)
    }

    /// Undoes `add_key` (the last key added).
    fn drop_new_key(&mut self, i: usize) {
        if i + 1 == self.store.keys.len() {
            if let Some(k) = self.store.keys.pop() {
                if k.world_index + 1 == self.authz.world.keys.len() {
                    self.authz.world.keys.pop();
                }
            }
            self.store.grants.remove(&i);
            self.authz.touch();
        }
    }

    /// The lockout safety check (§5.2): with the proposed policy installed, the caller must
    /// still be allowed `kms:PutKeyPolicy`.
    fn lockout_check(&mut self, call: &Call, caller: &Caller, i: usize) -> Result<(), KmsError> {
        let wi = self.key(i)?.world_index;
        let grants = self.store.grants.get(&i).cloned().unwrap_or_default();
        let conditions = call.conditions.clone();
        let ask = Ask {
            caller,
            action: "kms:PutKeyPolicy",
            key: wi,
            ec: None,
            conditions: &conditions,
            via_alias: None,
            grant_tokens: &[],
            grant_id: None,
            assume_identity_allows: call.assume_identity_allows,
            region: &call.region,
        };
        self.authz.require(&ask, &grants, self.now).map(|_| ()).map_err(|_| {
            KmsError::new(
                "MalformedPolicyDocumentException",
                "The new key policy will not allow you to update the key policy in the future.",
            )
        })
    }

    fn create_key(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        // (1) validation
        let spec = s_arg(a, "KeySpec")
            .or_else(|| s_arg(a, "CustomerMasterKeySpec"))
            .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        let kind = KeyKind::of_spec(&spec)
            .ok_or_else(|| validation(format!("the simulator does not support KeySpec `{spec}`")))?;
        let usage = s_arg(a, "KeyUsage").unwrap_or_else(|| "ENCRYPT_DECRYPT".into());
        if usage != kind.usage() {
            return Err(validation(format!("KeyUsage `{usage}` is not valid for KeySpec `{spec}`")));
        }
        // Every key type the simulator supports may be multi-Region (§7.7).
        let multi = bool_arg(a, "MultiRegion");
        let description = s_arg(a, "Description").unwrap_or_default();
        if description.len() > 8192 {
            return Err(validation("`Description` is longer than 8192 characters"));
        }
        if s_arg(a, "Origin").is_some_and(|o| o != "AWS_KMS") {
            return Err(KmsError::new("UnsupportedOperationException", "the simulator only creates AWS_KMS keys"));
        }
        let account = caller
            .account()
            .ok_or_else(|| KmsError::new("AccessDeniedException", "a service principal cannot create keys"))?
            .to_string();
        let policy_given = policy_arg(a);
        let policy = policy_given.clone().unwrap_or_else(|| default_policy(&account));
        let id = Self::new_key_id(multi)?;
        let mrk = if multi { MrkRole::Primary } else { MrkRole::None };
        let i = self.add_key(&id, &account, &call.region, &policy, description, mrk, &spec, kind.usage())?;
        let r = self.finish_create(call, caller, i, policy_given.is_some(), kind, &spec, "kms:CreateKey");
        if let Err(e) = r {
            self.drop_new_key(i);
            return Err(e);
        }
        self.sync(i);
        Ok(Output::of(json!({ "KeyMetadata": self.describe(i)? })))
    }

    /// Authorization (IAM only), lockout check, material.
    #[allow(clippy::too_many_arguments, reason = "shared by CreateKey and ReplicateKey")]
    fn finish_create(
        &mut self,
        call: &Call,
        caller: &Caller,
        i: usize,
        policy_given: bool,
        kind: KeyKind,
        spec: &str,
        action: &str,
    ) -> Result<(), KmsError> {
        let wi = self.key(i)?.world_index;
        let mut conditions: BTreeMap<String, CtxValue> = call.conditions.clone();
        let bypass = bool_arg(&call.args, "BypassPolicyLockoutSafetyCheck");
        if call.args.contains_key("BypassPolicyLockoutSafetyCheck") {
            conditions.insert("kms:BypassPolicyLockoutSafetyCheck".into(), CtxValue::Single(bypass.to_string()));
        }
        if action == "kms:CreateKey" {
            conditions
                .insert("kms:MultiRegion".into(), CtxValue::Single(bool_arg(&call.args, "MultiRegion").to_string()));
        }
        let ask = Ask {
            caller,
            action,
            key: wi,
            ec: None,
            conditions: &conditions,
            via_alias: None,
            grant_tokens: &[],
            grant_id: None,
            assume_identity_allows: call.assume_identity_allows,
            region: &call.region,
        };
        self.authz.require(&ask, &[], self.now)?;
        if policy_given && !bypass {
            self.lockout_check(call, caller, i)?;
        }
        let k = self.key(i)?.clone();
        let mk = (k.account.clone(), k.id.clone());
        if !self.store.materials.contains_key(&mk) {
            let m = Material::generate(kind, spec, self.now, "CREATE")?;
            self.store.materials.insert(
                mk,
                MaterialSet {
                    kind,
                    spec: spec.to_string(),
                    versions: vec![m],
                    rotation_enabled: false,
                    rotation_period_days: 365,
                    next_rotation: None,
                    on_demand_rotations: 0,
                    stand_in_for: None,
                },
            );
        }
        Ok(())
    }

    fn describe(&self, i: usize) -> Result<Value, KmsError> {
        let k = self.key(i)?;
        let set = self.set_of(i)?;
        let mut md = json!({
            "AWSAccountId": k.account, "KeyId": k.id, "Arn": k.arn, "CreationDate": iso(k.created),
            "Enabled": k.state == KeyState::Enabled, "Description": k.description, "KeyUsage": set.kind.usage(),
            "KeyState": k.state.as_str(), "Origin": "AWS_KMS", "KeyManager": k.manager, "KeySpec": set.spec,
            "CustomerMasterKeySpec": set.spec, "MultiRegion": k.mrk != MrkRole::None,
        });
        let algorithms = json!(key_algorithms(set.kind, &set.spec));
        match set.kind {
            KeyKind::Symmetric => md["EncryptionAlgorithms"] = algorithms,
            KeyKind::Hmac => md["MacAlgorithms"] = algorithms,
            KeyKind::EccP256 | KeyKind::Rsa2048 => md["SigningAlgorithms"] = algorithms,
        }
        if let Some(d) = k.deletion_date {
            md["DeletionDate"] = json!(iso(d));
        }
        if k.state == KeyState::PendingReplicaDeletion {
            md["PendingDeletionWindowInDays"] = json!(k.pending_window_days.unwrap_or(30));
        }
        if let Some(c) = set.current() {
            md["CurrentKeyMaterialId"] = json!(to_hex(&c.id));
        }
        if k.mrk != MrkRole::None {
            let related: Vec<&SimKey> =
                self.store.related(&k.account, &k.id).into_iter().filter_map(|j| self.store.keys.get(j)).collect();
            let primary = related.iter().find(|r| r.mrk == MrkRole::Primary);
            let replicas: Vec<Value> = related
                .iter()
                .filter(|r| r.mrk == MrkRole::Replica)
                .map(|r| json!({ "Arn": r.arn, "Region": r.region }))
                .collect();
            md["MultiRegionConfiguration"] = json!({
                "MultiRegionKeyType": if k.mrk == MrkRole::Primary { "PRIMARY" } else { "REPLICA" },
                "PrimaryKey": primary.map(|p| json!({ "Arn": p.arn, "Region": p.region })),
                "ReplicaKeys": replicas,
            });
        }
        Ok(md)
    }

    fn replicate_key(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let target = req_s(a, "ReplicaRegion")?;
        let mut n = need("kms:ReplicateKey");
        n.conditions.extend([cond("kms:ReplicaRegion", target.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, tokens)?;
        let k = self.key(i)?.clone();
        check_operation("ReplicateKey", self.set_of(i)?.kind, k.mrk, &k.arn)?;
        if target == call.region {
            return Err(validation("the replica Region must differ from the primary's"));
        }
        if self.store.find(&k.account, &target, &k.id).is_some() {
            return Err(KmsError::new(
                "AlreadyExistsException",
                format!("{} already has a replica in {target}.", k.arn),
            ));
        }
        let set = self.set_of(i)?.clone();
        let policy_given = policy_arg(a);
        let policy = policy_given.clone().unwrap_or_else(|| default_policy(&k.account));
        let description = s_arg(a, "Description").unwrap_or_default();
        let j = self.add_key(
            &k.id,
            &k.account,
            &target,
            &policy,
            description,
            MrkRole::Replica,
            &set.spec,
            set.kind.usage(),
        )?;
        // The replica is created in its Region by the same caller: kms:CreateKey there.
        let replica_call = Call { region: target.clone(), ..call.clone() };
        if let Err(e) =
            self.finish_create(&replica_call, caller, j, policy_given.is_some(), set.kind, &set.spec, "kms:CreateKey")
        {
            self.drop_new_key(j);
            return Err(e);
        }
        // The replica is `Creating` for a while (§7.2, §7.7): it can be managed, not yet used.
        let until = self.now + TRANSIENT_STATE_SECONDS;
        if let Some(rk) = self.store.keys.get_mut(j) {
            rk.state = KeyState::Creating;
            rk.transient_until = Some(until);
        }
        for x in self.store.related(&k.account, &k.id) {
            self.sync(x);
        }
        Ok(Output::of(json!({ "ReplicaKeyMetadata": self.describe(j)?, "ReplicaPolicy": policy })))
    }

    fn update_primary_region(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let target = req_s(a, "PrimaryRegion")?;
        let mut n = need("kms:UpdatePrimaryRegion");
        n.conditions.extend([cond("kms:PrimaryRegion", target.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, &[])?;
        let k = self.key(i)?.clone();
        check_operation("UpdatePrimaryRegion", self.set_of(i)?.kind, k.mrk, &k.arn)?;
        let j = self
            .store
            .find(&k.account, &target, &k.id)
            .ok_or_else(|| KmsError::new("NotFoundException", format!("{} has no replica in {target}.", k.arn)))?;
        // The replica must be usable too, and the caller allowed on it.
        let replica_call = Call { region: target.clone(), ..call.clone() };
        self.prepare(&replica_call, caller, KeyPick::Index(j), &n, &[])?;
        // The roles swap at once; both keys are `Updating` for a while (§7.7): cryptography
        // works, enabling, disabling, deletion and replication do not (footnote 15).
        let until = self.now + TRANSIENT_STATE_SECONDS;
        for (x, role) in [(i, MrkRole::Replica), (j, MrkRole::Primary)] {
            if let Some(key) = self.store.keys.get_mut(x) {
                key.mrk = role;
                key.state = KeyState::Updating;
                key.transient_until = Some(until);
            }
        }
        for x in self.store.related(&k.account, &k.id) {
            self.sync(x);
        }
        Ok(Output::default())
    }

    fn schedule_deletion(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let days = u_arg(a, "PendingWindowInDays")?;
        if days.is_some_and(|d| !(7..=30).contains(&d)) {
            return Err(validation("`PendingWindowInDays` must be between 7 and 30"));
        }
        let days = days.unwrap_or(30);
        let mut n = need("kms:ScheduleKeyDeletion");
        if a.contains_key("PendingWindowInDays") {
            n.conditions.extend([cond("kms:ScheduleKeyDeletionPendingWindowInDays", days.to_string())]);
        }
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, &[])?;
        let k = self.key(i)?.clone();
        let has_replicas = k.mrk == MrkRole::Primary && self.store.related(&k.account, &k.id).len() > 1;
        let now = self.now;
        if let Some(kk) = self.store.keys.get_mut(i) {
            kk.pending_window_days = u32::try_from(days).ok();
            if has_replicas {
                kk.state = KeyState::PendingReplicaDeletion;
                kk.deletion_date = None;
            } else {
                kk.state = KeyState::PendingDeletion;
                kk.deletion_date = Some(now + days * DAY);
            }
        }
        self.sync(i);
        let k = self.key(i)?;
        let mut out = json!({ "KeyId": k.arn, "KeyState": k.state.as_str(), "PendingWindowInDays": days });
        if let Some(d) = k.deletion_date {
            out["DeletionDate"] = json!(iso(d));
        }
        Ok(Output::of(out))
    }

    fn rotation_op(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let period = u_arg(a, "RotationPeriodInDays")?;
        if call.op == "EnableKeyRotation" && period.is_some_and(|p| !(90..=2560).contains(&p)) {
            return Err(validation("`RotationPeriodInDays` must be between 90 and 2560"));
        }
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        if let Some(p) = period {
            n.conditions.extend([cond("kms:RotationPeriodInDays", p.to_string())]);
        }
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, &[])?;
        let k = self.key(i)?.clone();
        check_operation(&call.op, self.set_of(i)?.kind, k.mrk, &k.arn)?;
        let now = self.now;
        let set = self
            .store
            .materials
            .get_mut(&(k.account.clone(), k.id.clone()))
            .ok_or_else(|| KmsError::new("KMSInternalException", "key without material"))?;
        match call.op.as_str() {
            "EnableKeyRotation" => {
                let p = period.unwrap_or(365);
                set.rotation_enabled = true;
                set.rotation_period_days = u32::try_from(p).unwrap_or(365);
                set.next_rotation = Some(now + p * DAY);
            }
            "DisableKeyRotation" => {
                set.rotation_enabled = false;
                set.next_rotation = None;
            }
            _ => {
                if set.on_demand_rotations >= 25 {
                    return Err(KmsError::new("LimitExceededException", "at most 25 on-demand rotations per key"));
                }
                let m = Material::generate(set.kind, &set.spec, now, "ON_DEMAND")?;
                set.versions.push(m);
                set.on_demand_rotations += 1;
            }
        }
        let enabled = set.rotation_enabled;
        let period = set.rotation_period_days;
        if let Some(w) = self.authz.world.keys.get_mut(k.world_index) {
            w.rotation = Some(Rotation { enabled, period_days: Some(period) });
            self.authz.touch();
        }
        Ok(Output::of(json!({ "KeyId": k.arn })))
    }

    fn put_key_policy(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        if s_arg(a, "PolicyName").is_some_and(|p| p != "default") {
            return Err(validation("`PolicyName` must be `default`"));
        }
        let text = policy_arg(a).ok_or_else(|| validation("`Policy` is required"))?;
        let bypass = bool_arg(a, "BypassPolicyLockoutSafetyCheck");
        let mut n = need("kms:PutKeyPolicy");
        if a.contains_key("BypassPolicyLockoutSafetyCheck") {
            n.conditions.extend([cond("kms:BypassPolicyLockoutSafetyCheck", bypass.to_string())]);
        }
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, &[])?;
        let k = self.key(i)?.clone();
        let slot = self.authz.add_key_policy(&format!("sim:{}:policy@{}", k.arn, self.now), &text, &k.account)?;
        let old: Option<PolicySlot> = self.authz.world.keys.get_mut(k.world_index).and_then(|w| w.policy.replace(slot));
        self.authz.touch();
        if !bypass {
            if let Err(e) = self.lockout_check(call, caller, i) {
                if let Some(w) = self.authz.world.keys.get_mut(k.world_index) {
                    w.policy = old;
                }
                self.authz.touch();
                return Err(e);
            }
        }
        Ok(Output::default())
    }

    fn alias_op(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let name = req_s(a, "AliasName")?;
        let account = caller.account().unwrap_or_default().to_string();
        let bad = |why: &str| KmsError::new("InvalidAliasNameException", format!("`{name}`: {why}"));
        if !name.starts_with("alias/") || name.len() > 256 || name.len() <= 6 {
            return Err(bad("an alias name starts with `alias/` and has 7-256 characters"));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | ':')) {
            return Err(bad("only alphanumerics, `/`, `_`, `-` and `:` are allowed"));
        }
        // U9: the reserved-prefix check is case-sensitive.
        if name.starts_with("alias/aws/") {
            return Err(bad("the `alias/aws/` prefix is reserved for AWS managed keys"));
        }
        let akey = (account.clone(), call.region.clone(), name.clone());
        let action = format!("kms:{}", call.op);
        match call.op.as_str() {
            "DeleteAlias" => {
                let target = self.store.aliases.get(&akey).cloned().ok_or_else(|| {
                    KmsError::new(
                        "NotFoundException",
                        format!("Alias arn:aws:kms:{}:{account}:{name} is not found.", call.region),
                    )
                })?;
                let i = self
                    .store
                    .find(&account, &call.region, &target)
                    .ok_or_else(|| KmsError::new("NotFoundException", ""))?;
                self.prepare(call, caller, KeyPick::Index(i), &need(&action), &[])?;
                self.store.aliases.remove(&akey);
            }
            _ => {
                let t = req_s(a, "TargetKeyId")?;
                let exists = self.store.aliases.get(&akey).cloned();
                if call.op == "CreateAlias" && exists.is_some() {
                    return Err(KmsError::new(
                        "AlreadyExistsException",
                        format!("An alias with the name arn:aws:kms:{}:{account}:{name} already exists", call.region),
                    ));
                }
                if call.op == "UpdateAlias" && exists.is_none() {
                    return Err(KmsError::new(
                        "NotFoundException",
                        format!("Alias arn:aws:kms:{}:{account}:{name} is not found.", call.region),
                    ));
                }
                let i = self.prepare(call, caller, KeyPick::Ref(&t, false), &need(&action), &[])?;
                if let Some(old) = exists {
                    if let Some(oi) = self.store.find(&account, &call.region, &old) {
                        let (o, n) = (self.set_of(oi)?.kind, self.set_of(i)?.kind);
                        if o != n {
                            return Err(validation("UpdateAlias must target a key of the same type and usage"));
                        }
                        // The alias leaves the old key: kms:UpdateAlias on it too.
                        let mut old = need(&action);
                        old.rule = StateRule::Any;
                        self.prepare(call, caller, KeyPick::Index(oi), &old, &[])?;
                    }
                }
                let id = self.key(i)?.id.clone();
                self.store.aliases.insert(akey, id);
            }
        }
        self.authz.sync_aliases(&self.store);
        Ok(Output::default())
    }

    /// `TagResource` / `UntagResource`: the tags live on the world key, where they are
    /// `aws:ResourceTag/…` for every later request (§4.5); the request's tags are
    /// `aws:RequestTag/…` and `aws:TagKeys`.
    fn tag_op(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let tag_error = |m: String| KmsError::new("TagException", m);
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        let keys: Vec<String> = if call.op == "TagResource" {
            let list = match a.get("Tags") {
                Some(Value::Array(l)) if !l.is_empty() => l.clone(),
                _ => return Err(validation("`Tags` is required")),
            };
            for t in &list {
                let k = t.get("TagKey").and_then(Value::as_str).unwrap_or_default();
                let v = t.get("TagValue").and_then(Value::as_str).unwrap_or_default();
                if k.is_empty() || k.len() > 128 || v.len() > 256 {
                    return Err(tag_error(format!("tag `{k}`: keys have 1-128 characters, values 0-256")));
                }
                if k.starts_with("aws:") {
                    return Err(tag_error(format!("tag `{k}`: the `aws:` prefix is reserved")));
                }
                tags.insert(k.to_string(), v.to_string());
            }
            tags.keys().cloned().collect()
        } else {
            let l = list_arg(a, "TagKeys");
            if l.is_empty() {
                return Err(validation("`TagKeys` is required"));
            }
            l
        };
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        for (k, v) in &tags {
            n.conditions.extend([cond(&format!("aws:RequestTag/{k}"), v.clone())]);
        }
        n.conditions.insert("aws:TagKeys".into(), CtxValue::Multi(keys.clone()));
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, &[])?;
        let wi = self.key(i)?.world_index;
        let current = self.authz.world.keys.get(wi).and_then(|k| k.tags.clone()).unwrap_or_default();
        let mut next = current;
        if call.op == "TagResource" {
            next.extend(tags);
            if next.len() > 50 {
                return Err(tag_error("a key has at most 50 tags".into()));
            }
        } else {
            for k in &keys {
                next.remove(k);
            }
        }
        if let Some(w) = self.authz.world.keys.get_mut(wi) {
            w.tags = Some(next);
        }
        self.authz.touch();
        Ok(Output::default())
    }

    fn list_aliases(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        self.iam_only(call, caller, "kms:ListAliases")?;
        let account = caller.account().unwrap_or_default().to_string();
        let filter = s_arg(&call.args, "KeyId");
        let aliases: Vec<Value> = self
            .store
            .aliases
            .iter()
            .filter(|((a, r, _), id)| a == &account && r == &call.region && filter.as_ref().is_none_or(|f| f == *id))
            .map(|((a, r, n), id)| json!({ "AliasName": n, "AliasArn": format!("arn:aws:kms:{r}:{a}:{n}"), "TargetKeyId": id }))
            .collect();
        Ok(Output::of(json!({ "Aliases": aliases, "Truncated": false })))
    }

    fn create_grant(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let grantee = req_s(a, "GranteePrincipal")?;
        let ops = list_arg(a, "Operations");
        if ops.is_empty() {
            return Err(validation("`Operations` is required"));
        }
        if let Some(bad) = ops.iter().find(|o| !GRANT_OPERATIONS.contains(&o.as_str())) {
            return Err(validation(format!("`{bad}` is not a grant operation")));
        }
        let retiring = s_arg(a, "RetiringPrincipal");
        let name = s_arg(a, "Name");
        let (ec_equals, ec_subset) = match a.get("Constraints") {
            Some(Value::Object(c)) => (ec_arg(c, "EncryptionContextEquals")?, ec_arg(c, "EncryptionContextSubset")?),
            _ => (None, None),
        };
        let mut n = need("kms:CreateGrant");
        n.conditions.extend([cond("kms:GranteePrincipal", grantee.clone())]);
        n.conditions.insert("kms:GrantOperations".into(), CtxValue::Multi(ops.clone()));
        if let Some(rp) = &retiring {
            n.conditions.extend([cond("kms:RetiringPrincipal", rp.clone())]);
        }
        let mut constraint_types = Vec::new();
        if ec_equals.is_some() {
            constraint_types.push("EncryptionContextEquals".to_string());
        }
        if ec_subset.is_some() {
            constraint_types.push("EncryptionContextSubset".to_string());
        }
        if !constraint_types.is_empty() {
            n.conditions.insert("kms:GrantConstraintType".into(), CtxValue::Multi(constraint_types));
        }
        let i = self.prepare(call, caller, KeyPick::Ref(&r, false), &n, tokens)?;
        let k = self.key(i)?.clone();
        let set = self.set_of(i)?;
        if let Some(bad) = ops.iter().find(|o| !grant_operation_fits(o, &set.spec, set.kind.usage())) {
            return Err(validation(format!("grant operation `{bad}` is not valid for this key type")));
        }
        let token = format!("sim-grant-token-{}", to_hex(&random_array::<24>()?));
        let grant = Grant {
            id: to_hex(&random_array::<32>()?),
            name: name.clone(),
            key_arn: k.arn.clone(),
            grantee,
            retiring,
            issuing_account: Some(format!("arn:aws:iam::{}:root", caller.account().unwrap_or_default())),
            operations: ops,
            ec_equals,
            ec_subset,
            ..Grant::default()
        };
        let list = self.store.grants.entry(i).or_default();
        // Idempotent by name (§6.7): same name and parameters → same grant, a new token.
        let existing = name.as_ref().and_then(|_| {
            list.iter_mut().find(|g| {
                g.grant.name == grant.name
                    && g.grant.grantee == grant.grantee
                    && g.grant.operations == grant.operations
                    && g.grant.retiring == grant.retiring
                    && g.grant.ec_equals == grant.ec_equals
                    && g.grant.ec_subset == grant.ec_subset
            })
        });
        let id = match existing {
            Some(g) => {
                g.tokens.push(token.clone());
                g.grant.id.clone()
            }
            None => {
                let id = grant.id.clone();
                list.push(SimGrant { grant, created: self.now, tokens: vec![token.clone()] });
                id
            }
        };
        self.tokens.insert(token.clone(), id.clone());
        Ok(Output::of(json!({ "GrantId": id, "GrantToken": token })))
    }

    fn retire_or_revoke(&mut self, call: &Call, caller: &Caller) -> Result<Output, KmsError> {
        let a = &call.args;
        let token = s_arg(a, "GrantToken");
        let key_arg = s_arg(a, "KeyId");
        let (key_ref, grant_id) = match (&token, key_arg.as_deref(), s_arg(a, "GrantId")) {
            (Some(t), _, _) if call.op == "RetireGrant" => {
                let gid = self
                    .tokens
                    .get(t)
                    .cloned()
                    .ok_or_else(|| KmsError::new("InvalidGrantTokenException", "invalid grant token"))?;
                let i = self
                    .store
                    .grants
                    .iter()
                    .find(|(_, gs)| gs.iter().any(|g| g.grant.id == gid))
                    .map(|(i, _)| *i)
                    .ok_or_else(|| KmsError::new("NotFoundException", format!("grant `{gid}` not found")))?;
                (KeyPick::Index(i), gid)
            }
            (_, Some(k), Some(g)) => (KeyPick::Ref(k, false), g),
            _ => return Err(validation("give `GrantToken`, or `KeyId` and `GrantId`")),
        };
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        n.grant_id = Some(&grant_id);
        let tokens: Vec<String> = token.into_iter().collect();
        let i = self.prepare(call, caller, key_ref, &n, &tokens)?;
        let list = self.store.grants.entry(i).or_default();
        let before = list.len();
        list.retain(|g| g.grant.id != grant_id);
        if list.len() == before {
            return Err(KmsError::new("NotFoundException", format!("grant `{grant_id}` not found")));
        }
        Ok(Output::default())
    }

    fn encrypt(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let pt = b64_arg(a, "Plaintext")?.ok_or_else(|| validation("`Plaintext` is required"))?;
        let pt = Secret::new(pt);
        if pt.is_empty() || pt.len() > 4096 {
            return Err(validation("`Plaintext` must be 1-4096 bytes"));
        }
        let alg = s_arg(a, "EncryptionAlgorithm").unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        let ec = ec_arg(a, "EncryptionContext")?.unwrap_or_default();
        crypto::canonical_ec(&ec)?;
        let mut n = need("kms:Encrypt");
        n.ec = Some(&ec);
        n.conditions.extend([cond("kms:EncryptionAlgorithm", alg.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, true), &n, tokens)?;
        if alg != "SYMMETRIC_DEFAULT" {
            return Err(KmsError::new("InvalidKeyUsageException", format!("`{alg}` is not valid for this key")));
        }
        self.seal_under(i, &ec, pt.expose()).map(|(blob, arn, mid)| {
            Output::of(json!({ "CiphertextBlob": b64(&blob), "KeyId": arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT", "KeyMaterialId": mid }))
        })
    }

    /// (6) encryption under the current material.
    fn seal_under(
        &self,
        i: usize,
        ec: &BTreeMap<String, String>,
        pt: &[u8],
    ) -> Result<(Vec<u8>, String, String), KmsError> {
        let k = self.key(i)?;
        let set = self.set_of(i)?;
        let m = set.current().ok_or_else(|| KmsError::new("KMSInternalException", "no material"))?;
        let blob = crypto::seal(&m.bytes, &k.id, m.id, ec, pt)?;
        Ok((blob, k.arn.clone(), to_hex(&m.id)))
    }

    /// Finds the key a symmetric ciphertext names, in the Region of the call. A key that does
    /// not exist there → `NotFoundException` (the choice over §8.3's AccessDenied;
    /// see `docs/sim.md`).
    fn key_of_blob(&self, region: &str, blob: &[u8], caller: &Caller) -> Result<(usize, BlobHeader), KmsError> {
        if blob.is_empty() || blob.len() > 6144 {
            return Err(validation("`CiphertextBlob` must be 1-6144 bytes"));
        }
        let h = BlobHeader::parse(blob)?;
        let mut accounts = self.store.accounts_of(&h.key_id);
        // Prefer the caller's own account when an id exists in several (never for real KMS ids).
        if let Some(own) = caller.account() {
            accounts.sort_by_key(|a| a != own);
        }
        let i = accounts.iter().find_map(|acct| self.store.find(acct, region, &h.key_id)).ok_or_else(|| {
            KmsError::new(
                "NotFoundException",
                format!("The ciphertext refers to key `{}`, which does not exist in {region}.", h.key_id),
            )
        })?;
        Ok((i, h))
    }

    /// (6) decryption under the material the blob names.
    fn open_blob(
        &self,
        i: usize,
        h: &BlobHeader,
        blob: &[u8],
        ec: &BTreeMap<String, String>,
    ) -> Result<(Secret, String), KmsError> {
        let set = self.set_of(i)?;
        let m = set.find(&h.material_id).ok_or_else(|| KmsError::new("InvalidCiphertextException", ""))?;
        Ok((crypto::open(&m.bytes, blob, ec)?, to_hex(&m.id)))
    }

    fn incorrect_key(&self, call: &Call, caller: &Caller, given: Option<&str>, actual: usize) -> Result<(), KmsError> {
        if let Some(r) = given {
            let (gi, _) = self.resolve(caller, &call.region, r, true)?;
            if gi != actual {
                return Err(KmsError::new(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify the key that encrypted the ciphertext.",
                ));
            }
        }
        Ok(())
    }

    fn decrypt(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let blob = b64_arg(a, "CiphertextBlob")?.ok_or_else(|| validation("`CiphertextBlob` is required"))?;
        let ec = ec_arg(a, "EncryptionContext")?.unwrap_or_default();
        crypto::canonical_ec(&ec)?;
        let alg = s_arg(a, "EncryptionAlgorithm").unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
        let (i, h) = self.key_of_blob(&call.region, &blob, caller)?;
        self.incorrect_key(call, caller, s_arg(a, "KeyId").as_deref(), i)?;
        let mut n = need("kms:Decrypt");
        n.ec = Some(&ec);
        n.conditions.extend([cond("kms:EncryptionAlgorithm", alg.clone())]);
        let i = self.prepare(call, caller, KeyPick::Index(i), &n, tokens)?;
        if alg != "SYMMETRIC_DEFAULT" {
            return Err(KmsError::new(
                "InvalidCiphertextException",
                format!("`{alg}` did not produce this ciphertext"),
            ));
        }
        let (pt, mid) = self.open_blob(i, &h, &blob, &ec)?;
        let arn = self.key(i)?.arn.clone();
        Ok(Output {
            fields: json!({ "KeyId": arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT", "KeyMaterialId": mid })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            plaintext: Some(pt),
            plaintext_field: None,
        })
    }

    fn re_encrypt(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let blob = b64_arg(a, "CiphertextBlob")?.ok_or_else(|| validation("`CiphertextBlob` is required"))?;
        let dest = req_s(a, "DestinationKeyId")?;
        let sec = ec_arg(a, "SourceEncryptionContext")?.unwrap_or_default();
        let dec = ec_arg(a, "DestinationEncryptionContext")?.unwrap_or_default();
        crypto::canonical_ec(&sec)?;
        crypto::canonical_ec(&dec)?;
        let (si, h) = self.key_of_blob(&call.region, &blob, caller)?;
        self.incorrect_key(call, caller, s_arg(a, "SourceKeyId").as_deref(), si)?;
        let (di, _) = self.resolve(caller, &call.region, &dest, true)?;
        let same = (si == di).to_string();
        // U11: the source EC for ReEncryptFrom, the destination EC for ReEncryptTo.
        let mut nf = need("kms:ReEncryptFrom");
        nf.ec = Some(&sec);
        nf.conditions.extend([cond("kms:ReEncryptOnSameKey", same.clone())]);
        let si = self.prepare(call, caller, KeyPick::Index(si), &nf, tokens)?;
        let mut nt = need("kms:ReEncryptTo");
        nt.ec = Some(&dec);
        nt.conditions.extend([cond("kms:ReEncryptOnSameKey", same)]);
        let di = self.prepare(call, caller, KeyPick::Ref(&dest, true), &nt, tokens)?;
        // The plaintext exists only inside this function and is zeroized when it returns.
        let (pt, smid) = self.open_blob(si, &h, &blob, &sec)?;
        let (out, darn, dmid) = self.seal_under(di, &dec, pt.expose())?;
        drop(pt);
        Ok(Output::of(json!({
            "CiphertextBlob": b64(&out), "SourceKeyId": self.key(si)?.arn, "KeyId": darn,
            "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT", "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "SourceKeyMaterialId": smid, "DestinationKeyMaterialId": dmid,
        })))
    }

    fn generate_data_key(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let spec = s_arg(a, "KeySpec");
        let nbytes = u_arg(a, "NumberOfBytes")?;
        let len = match (spec.as_deref(), nbytes) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(validation("give exactly one of `KeySpec` and `NumberOfBytes`"));
            }
            (Some("AES_256"), None) => 32,
            (Some("AES_128"), None) => 16,
            (Some(s), None) => return Err(validation(format!("`KeySpec` `{s}` is not AES_128 or AES_256"))),
            (None, Some(n)) if (1..=1024).contains(&n) => usize::try_from(n).unwrap_or(32),
            (None, Some(_)) => return Err(validation("`NumberOfBytes` must be 1-1024")),
        };
        let ec = ec_arg(a, "EncryptionContext")?.unwrap_or_default();
        crypto::canonical_ec(&ec)?;
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        n.ec = Some(&ec);
        n.conditions.extend([cond("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")]);
        if let Some(s) = &spec {
            n.conditions.extend([cond("kms:DataKeySpec", s.clone())]);
        }
        let i = self.prepare(call, caller, KeyPick::Ref(&r, true), &n, tokens)?;
        let dk = Secret::random(len)?;
        let (blob, arn, mid) = self.seal_under(i, &ec, dk.expose())?;
        let fields = json!({ "CiphertextBlob": b64(&blob), "KeyId": arn, "KeyMaterialId": mid })
            .as_object()
            .cloned()
            .unwrap_or_default();
        let plaintext = (call.op == "GenerateDataKey").then_some(dk);
        Ok(Output { fields, plaintext, plaintext_field: None })
    }

    fn generate_data_key_pair(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let spec = req_s(a, "KeyPairSpec")?;
        if !DATA_KEY_PAIR_SPECS.contains(&spec.as_str()) {
            return Err(validation(format!("`KeyPairSpec` `{spec}` is not a data key pair spec")));
        }
        if !SIM_DATA_KEY_PAIR_SPECS.contains(&spec.as_str()) {
            return Err(validation(format!("the simulator does not generate `{spec}` key pairs")));
        }
        let ec = ec_arg(a, "EncryptionContext")?.unwrap_or_default();
        crypto::canonical_ec(&ec)?;
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        n.ec = Some(&ec);
        n.conditions
            .extend([cond("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT"), cond("kms:DataKeyPairSpec", spec.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, true), &n, tokens)?;
        let (private, public) = if spec == "RSA_2048" {
            let private = crypto::rsa_generate(2048)?;
            let public = crypto::rsa_public(&private)?;
            (private, public)
        } else {
            crypto::p256_data_key_pair()?
        };
        let (blob, arn, mid) = self.seal_under(i, &ec, private.expose())?;
        let fields = json!({ "PrivateKeyCiphertextBlob": b64(&blob), "PublicKey": b64(&public), "KeyId": arn,
                             "KeyPairSpec": spec, "KeyMaterialId": mid })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let plaintext = (call.op == "GenerateDataKeyPair").then_some(private);
        Ok(Output { fields, plaintext, plaintext_field: Some("PrivateKeyPlaintext") })
    }

    fn mac(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let msg = b64_arg(a, "Message")?.ok_or_else(|| validation("`Message` is required"))?;
        if msg.is_empty() || msg.len() > 4096 {
            return Err(validation("`Message` must be 1-4096 bytes"));
        }
        let alg = req_s(a, "MacAlgorithm")?;
        let given = if call.op == "VerifyMac" {
            Some(b64_arg(a, "Mac")?.ok_or_else(|| validation("`Mac` is required"))?)
        } else {
            None
        };
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        n.conditions.extend([cond("kms:MacAlgorithm", alg.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, true), &n, tokens)?;
        let set = self.set_of(i)?;
        check_algorithm(set.kind, &set.spec, &alg)?;
        let m = set.current().ok_or_else(|| KmsError::new("KMSInternalException", "no material"))?;
        let mac = crypto::hmac(&alg, &m.bytes, &msg)?;
        let arn = self.key(i)?.arn.clone();
        match given {
            None => Ok(Output::of(json!({ "Mac": b64(&mac), "MacAlgorithm": alg, "KeyId": arn }))),
            Some(g) if crypto::ct_eq(&g, &mac) => {
                Ok(Output::of(json!({ "MacValid": true, "MacAlgorithm": alg, "KeyId": arn })))
            }
            Some(_) => Err(KmsError::new("KMSInvalidMacException", "")),
        }
    }

    fn sign_verify(&mut self, call: &Call, caller: &Caller, tokens: &[String]) -> Result<Output, KmsError> {
        let a = &call.args;
        let r = req_s(a, "KeyId")?;
        let msg = b64_arg(a, "Message")?.ok_or_else(|| validation("`Message` is required"))?;
        if msg.is_empty() || msg.len() > 4096 {
            return Err(validation("`Message` must be 1-4096 bytes"));
        }
        let alg = req_s(a, "SigningAlgorithm")?;
        let mtype = s_arg(a, "MessageType").unwrap_or_else(|| "RAW".into());
        if mtype != "RAW" && mtype != "DIGEST" {
            return Err(validation("`MessageType` must be RAW or DIGEST"));
        }
        let sig = if call.op == "Verify" {
            Some(b64_arg(a, "Signature")?.ok_or_else(|| validation("`Signature` is required"))?)
        } else {
            None
        };
        let action = format!("kms:{}", call.op);
        let mut n = need(&action);
        n.conditions.extend([cond("kms:SigningAlgorithm", alg.clone()), cond("kms:MessageType", mtype.clone())]);
        let i = self.prepare(call, caller, KeyPick::Ref(&r, true), &n, tokens)?;
        let set = self.set_of(i)?;
        check_algorithm(set.kind, &set.spec, &alg)?;
        let m = set.current().ok_or_else(|| KmsError::new("KMSInternalException", "no material"))?;
        let digest = mtype == "DIGEST";
        let arn = self.key(i)?.arn.clone();
        let rsa = set.kind == KeyKind::Rsa2048;
        match sig {
            None => {
                let s = if rsa {
                    crypto::rsa_sign(&m.bytes, &alg, &msg, digest)?
                } else {
                    crypto::p256_sign(&m.bytes, &msg, digest)?
                };
                Ok(Output::of(json!({ "Signature": b64(&s), "SigningAlgorithm": alg, "KeyId": arn })))
            }
            Some(s)
                if (rsa && crypto::rsa_verify(&m.bytes, &alg, &msg, digest, &s))
                    || (!rsa && crypto::p256_verify(&m.bytes, &msg, digest, &s)) =>
            {
                Ok(Output::of(json!({ "SignatureValid": true, "SigningAlgorithm": alg, "KeyId": arn })))
            }
            Some(_) => Err(KmsError::new("KMSInvalidSignatureException", "")),
        }
    }
}

/// How an operation names its key.
#[derive(Clone, Copy, Debug)]
enum KeyPick<'a> {
    /// A `KeyId` parameter; aliases allowed or not.
    Ref(&'a str, bool),
    /// Already resolved (from a ciphertext, a grant token, …).
    Index(usize),
}

fn need(action: &str) -> Need<'_> {
    Need { action, rule: rule_of(action), ec: None, conditions: BTreeMap::new(), grant_id: None }
}
