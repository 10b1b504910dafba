//! A seeded generator of small random KMS worlds, shared by `tests/differential.rs` and
//! `tests/properties.rs`.
//!
//! A world has two accounts (the key owner `111122223333` and `444455556666`), a user and two
//! roles in each, one key, a key policy of 1–4 statements, identity policies and sometimes a
//! permissions boundary per principal, and sometimes an organization with SCPs. Policies are
//! kept as JSON values ([`WorldSpec`]) so that tests can transform them before building the
//! evaluator's [`World`] with [`build_world`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use keyproof::eval::authorize::{authorize, Request, Response};
use keyproof::eval::context::{Context, CtxValue};
use keyproof::eval::principal::Caller;
use keyproof::policy::model::DocKind;
use keyproof::policy::parse::{parse_policy_text, validate};
use keyproof::world::{
    Account, Key, KeyMetadata, ManagedPolicy, OrgPolicy, Organization, PolicyEntry, PolicySlot, Role, User, World,
};
use serde_json::{json, Value};

/// The key owner.
pub const OWNER: &str = "111122223333";
/// The other account.
pub const OTHER: &str = "444455556666";
/// An organization's management account (neither of the two).
pub const MANAGEMENT: &str = "999999999999";
/// Region of the key.
pub const REGION: &str = "us-east-1";
/// The key.
pub const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// Another key of the owner (identity policies may name it; it never matches).
pub const OTHER_KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/0000aaaa-00aa-00aa-00aa-000000000000";
/// A key-ARN pattern of the owner account.
pub const KEY_PATTERN: &str = "arn:aws:kms:*:111122223333:key/*";
/// Session name of role callers.
pub const SESSION: &str = "keyproof";
/// The actions requests use.
pub const ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CreateGrant",
];
/// Action patterns policies may use besides the plain actions.
const PATTERNS: &[&str] = &["kms:Gen*", "kms:*crypt", "kms:Describe*", "kms:Put*", "kms:Create*", "kms:*Key*"];
/// Actions whose requests carry an encryption context in the generated requests.
pub const EC_ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];
const VIA_S3: &str = "s3.us-east-1.amazonaws.com";
const VIA_EC2: &str = "ec2.us-east-1.amazonaws.com";

/// SplitMix64: small, fast, and fully determined by its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// A random non-empty subset of `xs` with at most `max` elements, in `xs` order.
    pub fn subset<T: Copy>(&mut self, xs: &[T], max: usize) -> Vec<T> {
        let n = 1 + self.below(max.min(xs.len()));
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        self.shuffle(&mut idx);
        let mut chosen: Vec<usize> = idx.into_iter().take(n).collect();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| xs[i]).collect()
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// What kind of principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PKind {
    User,
    Role,
    Root,
}

/// A principal of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub account: &'static str,
    pub kind: PKind,
    /// IAM path (`/` or `/svc/`).
    pub path: &'static str,
    pub name: &'static str,
}

impl Principal {
    /// The IAM ARN (role ARN for roles).
    pub fn iam_arn(&self) -> String {
        match self.kind {
            PKind::User => format!("arn:aws:iam::{}:user{}{}", self.account, self.path, self.name),
            PKind::Role => format!("arn:aws:iam::{}:role{}{}", self.account, self.path, self.name),
            PKind::Root => format!("arn:aws:iam::{}:root", self.account),
        }
    }

    /// The ARN requests are made as (the session ARN for roles).
    pub fn caller_arn(&self) -> String {
        match self.kind {
            PKind::Role => format!("arn:aws:sts::{}:assumed-role/{}/{SESSION}", self.account, self.name),
            _ => self.iam_arn(),
        }
    }

    pub fn short(&self) -> String {
        let acct = if self.account == OWNER { "owner" } else { "other" };
        match self.kind {
            PKind::Root => format!("{acct}:root"),
            _ => format!("{acct}:{}", self.name),
        }
    }
}

/// The principals: a user and two roles per account, then the two root users.
pub const PRINCIPALS: &[Principal] = &[
    Principal { account: OWNER, kind: PKind::User, path: "/", name: "Alice" },
    Principal { account: OWNER, kind: PKind::Role, path: "/", name: "Admin" },
    Principal { account: OWNER, kind: PKind::Role, path: "/svc/", name: "App" },
    Principal { account: OTHER, kind: PKind::User, path: "/", name: "Bob" },
    Principal { account: OTHER, kind: PKind::Role, path: "/", name: "Admin" },
    Principal { account: OTHER, kind: PKind::Role, path: "/", name: "App" },
    Principal { account: OWNER, kind: PKind::Root, path: "/", name: "root" },
    Principal { account: OTHER, kind: PKind::Root, path: "/", name: "root" },
];
/// Principals that can hold identity policies (users and roles).
pub const IAM_PRINCIPALS: usize = 6;

/// SCPs of an organization whose root holds an OU `ou-1` holding the member accounts.
#[derive(Clone, Debug)]
pub struct ScpSpec {
    /// Member accounts (the others are outside the organization).
    pub members: Vec<&'static str>,
    /// Policies attached to the root.
    pub root: Vec<Value>,
    /// Policies attached to the OU.
    pub ou: Vec<Value>,
    /// Policies attached to each member account.
    pub account: BTreeMap<&'static str, Vec<Value>>,
}

/// A generated world, policies as JSON.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    pub key_policy: Value,
    /// Identity policies of each of the first [`IAM_PRINCIPALS`] principals.
    pub identity: Vec<Vec<Value>>,
    /// Permissions boundary of each of the first [`IAM_PRINCIPALS`] principals.
    pub boundary: Vec<Option<Value>>,
    pub scp: Option<ScpSpec>,
}

/// A generated request.
#[derive(Clone, Debug)]
pub struct ReqSpec {
    /// Index into [`PRINCIPALS`].
    pub principal: usize,
    pub action: &'static str,
    pub ec: BTreeMap<String, String>,
    pub via_service: Option<&'static str>,
    pub vpce: Option<&'static str>,
}

impl ReqSpec {
    pub fn caller(&self) -> Principal {
        PRINCIPALS[self.principal]
    }
}

fn policy(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn action_list(rng: &mut Rng) -> Value {
    if rng.chance(30) {
        return json!("kms:*");
    }
    let mut v: Vec<&str> = rng.subset(ACTIONS, 4);
    if rng.chance(20) {
        v.push(rng.pick(PATTERNS));
    }
    if v.len() == 1 && rng.chance(50) {
        json!(v[0])
    } else {
        json!(v)
    }
}

fn account_principal(rng: &mut Rng, account: &str) -> Value {
    if rng.chance(30) {
        json!({ "AWS": account })
    } else {
        json!({ "AWS": format!("arn:aws:iam::{account}:root") })
    }
}

fn direct_principal(rng: &mut Rng) -> Value {
    let iam: Vec<Principal> = PRINCIPALS[..IAM_PRINCIPALS].to_vec();
    match rng.below(10) {
        0 => json!("*"),
        1 => json!({ "AWS": "*" }),
        2 => {
            // one exact role session
            let p = rng.pick(&iam[..]);
            let p = if p.kind == PKind::Role { p } else { PRINCIPALS[1] };
            json!({ "AWS": p.caller_arn() })
        }
        3 => {
            let a = rng.pick(&iam[..]).iam_arn();
            let b = rng.pick(&iam[..]).iam_arn();
            if a == b {
                json!({ "AWS": a })
            } else {
                json!({ "AWS": [a, b] })
            }
        }
        _ => json!({ "AWS": rng.pick(&iam[..]).iam_arn() }),
    }
}

fn any_principal(rng: &mut Rng) -> Value {
    if rng.chance(35) {
        let a = if rng.chance(70) { OWNER } else { OTHER };
        account_principal(rng, a)
    } else {
        direct_principal(rng)
    }
}

/// One condition entry: (operator, key, value).
fn condition_entry(rng: &mut Rng) -> (&'static str, &'static str, Value) {
    let optional = ["kms:ViaService", "aws:SourceVpce", "kms:EncryptionContext:app"];
    match rng.below(23) {
        0 => ("StringEquals", "kms:EncryptionContext:app", json!(rng.pick(&["a", "b"]))),
        1 => ("StringEquals", "kms:EncryptionContext:app", json!(["a", "b"])),
        2 => ("StringNotEquals", "kms:EncryptionContext:app", json!(rng.pick(&["a", "b"]))),
        3 => ("StringLike", "kms:EncryptionContext:app", json!(rng.pick(&["a*", "*", "?"]))),
        4 => ("StringEquals", "kms:ViaService", json!(VIA_S3)),
        5 => ("StringLike", "kms:ViaService", json!(rng.pick(&["s3.*", "*.us-east-1.amazonaws.com", "*"]))),
        6 => ("StringEquals", "aws:PrincipalAccount", json!(rng.pick(&[OWNER, OTHER]))),
        7 => ("StringEquals", "kms:CallerAccount", json!(rng.pick(&[OWNER, OTHER]))),
        8 => ("StringNotEquals", "kms:CallerAccount", json!(rng.pick(&[OWNER, OTHER]))),
        9 => ("StringEquals", "aws:SourceVpce", json!(rng.pick(&["vpce-1", "vpce-2"]))),
        10 => ("StringLike", "aws:SourceVpce", json!("vpce-*")),
        11 => ("Null", rng.pick(&optional), json!(rng.pick(&["true", "false"]))),
        12 => (
            "StringEqualsIfExists",
            rng.pick(&["kms:ViaService", "aws:SourceVpce"]),
            json!(rng.pick(&[VIA_S3, "vpce-1"])),
        ),
        13 => ("StringNotEqualsIfExists", rng.pick(&optional), json!(rng.pick(&[VIA_S3, "vpce-1", "a"]))),
        14 => ("StringEqualsIfExists", "kms:EncryptionContext:app", json!(rng.pick(&["a", "b"]))),
        15 => (
            "StringLike",
            "aws:PrincipalArn",
            json!(rng.pick(&[
                "arn:aws:iam::111122223333:role/*",
                "arn:aws:iam::444455556666:*",
                "arn:aws:iam::*:user/*",
            ])),
        ),
        16 => ("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", json!(rng.pick(&["app", "tenant"]))),
        17 => ("ForAllValues:StringEquals", "kms:EncryptionContextKeys", json!(rng.pick(&["app", "tenant"]))),
        18 => (
            "ArnLike",
            "aws:PrincipalArn",
            json!(rng.pick(&[
                "arn:aws:iam::111122223333:role/*",
                "arn:aws:iam::*:role/svc/*",
                "arn:aws:iam::444455556666:user/Bob",
            ])),
        ),
        19 => ("ArnNotLike", "aws:PrincipalArn", json!("arn:aws:iam::111122223333:role/*")),
        20 => ("StringNotLike", "kms:ViaService", json!("s3.*")),
        21 => ("StringEqualsIgnoreCase", "kms:EncryptionContext:app", json!("A")),
        _ => ("BoolIfExists", "aws:ViaAWSService", json!(rng.pick(&["true", "false"]))),
    }
}

/// A `Condition` block of `n` entries (an operator's keys are merged; a key is used once per
/// operator).
fn conditions(rng: &mut Rng, n: usize) -> Option<Value> {
    let mut block: BTreeMap<&str, serde_json::Map<String, Value>> = BTreeMap::new();
    for _ in 0..n {
        let (op, key, value) = condition_entry(rng);
        block.entry(op).or_default().entry(key.to_string()).or_insert(value);
    }
    if block.is_empty() {
        return None;
    }
    let mut m = serde_json::Map::new();
    for (op, keys) in block {
        m.insert(op.to_string(), Value::Object(keys));
    }
    Some(Value::Object(m))
}

fn statement(
    rng: &mut Rng,
    effect: &str,
    principal: Option<Value>,
    not_action: bool,
    resource: Value,
    cond_percent: u64,
) -> Value {
    let mut st = serde_json::Map::new();
    if rng.chance(50) {
        st.insert("Sid".into(), json!(format!("S{}", rng.below(1000))));
    }
    st.insert("Effect".into(), json!(effect));
    if let Some(p) = principal {
        st.insert("Principal".into(), p);
    }
    st.insert(if not_action { "NotAction" } else { "Action" }.into(), action_list(rng));
    st.insert("Resource".into(), resource);
    if rng.chance(cond_percent) {
        let n = 1 + rng.below(2);
        if let Some(c) = conditions(rng, n) {
            st.insert("Condition".into(), c);
        }
    }
    Value::Object(st)
}

/// One key-policy statement.
pub fn key_statement(rng: &mut Rng) -> Value {
    let resource = match rng.below(20) {
        0 => json!(KEY_ARN),
        1 => json!(OTHER_KEY_ARN),
        _ => json!("*"),
    };
    match rng.below(20) {
        0..=6 => {
            let acct = if rng.chance(70) { OWNER } else { OTHER };
            let p = account_principal(rng, acct);
            statement(rng, "Allow", Some(p), false, resource, 30)
        }
        7..=12 => {
            let p = direct_principal(rng);
            statement(rng, "Allow", Some(p), false, resource, 40)
        }
        13..=15 => {
            let p = any_principal(rng);
            statement(rng, "Deny", Some(p), false, resource, 70)
        }
        16..=17 => {
            let p = any_principal(rng);
            statement(rng, "Allow", Some(p), true, resource, 30)
        }
        18 => {
            let p = any_principal(rng);
            statement(rng, "Deny", Some(p), true, resource, 70)
        }
        _ => {
            // Deny with NotPrincipal: the listed principals (with or without their account) are exempt.
            let who = rng.pick(&PRINCIPALS[..IAM_PRINCIPALS]);
            let mut listed = vec![json!(who.iam_arn())];
            if rng.chance(60) {
                listed.push(json!(format!("arn:aws:iam::{}:root", who.account)));
            }
            let mut st = statement(rng, "Deny", None, false, resource, 40);
            st["NotPrincipal"] = json!({ "AWS": listed });
            st
        }
    }
}

/// One identity-policy statement.
pub fn identity_statement(rng: &mut Rng) -> Value {
    let resource = match rng.below(10) {
        0..=3 => json!("*"),
        4..=6 => json!(KEY_ARN),
        7 => json!(OTHER_KEY_ARN),
        8 => json!(KEY_PATTERN),
        _ => json!([OTHER_KEY_ARN, KEY_ARN]),
    };
    let effect = if rng.chance(75) { "Allow" } else { "Deny" };
    let not_action = rng.chance(10);
    let mut st = statement(rng, effect, None, not_action, resource, 25);
    if rng.chance(6) {
        let obj = st.as_object_mut().unwrap();
        obj.remove("Resource");
        obj.insert("NotResource".into(), json!(rng.pick(&[OTHER_KEY_ARN, KEY_ARN])));
    }
    st
}

/// One SCP.
fn scp(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0..=5 => policy(vec![json!({ "Effect": "Allow", "Action": "*", "Resource": "*" })]),
        6 => policy(vec![json!({ "Effect": "Allow", "Action": "kms:*", "Resource": "*" })]),
        7 => policy(vec![json!({ "Effect": "Allow", "Action": action_list(rng), "Resource": "*" })]),
        _ => {
            let mut st = json!({ "Effect": "Deny", "Action": action_list(rng), "Resource": "*" });
            if rng.chance(60) {
                if let Some(c) = conditions(rng, 1) {
                    st["Condition"] = c;
                }
            }
            policy(vec![json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }), st])
        }
    }
}

fn scp_level(rng: &mut Rng) -> Vec<Value> {
    (0..1 + rng.below(2)).map(|_| scp(rng)).collect()
}

/// A random world.
pub fn gen_world(rng: &mut Rng) -> WorldSpec {
    let n = 1 + rng.below(4);
    let key_policy = policy((0..n).map(|_| key_statement(rng)).collect());
    let mut identity = Vec::new();
    let mut boundary = Vec::new();
    for _ in 0..IAM_PRINCIPALS {
        let sts: Vec<Value> = (0..rng.below(3)).map(|_| identity_statement(rng)).collect();
        let docs = if sts.is_empty() {
            vec![]
        } else if sts.len() == 2 && rng.chance(30) {
            sts.into_iter().map(|s| policy(vec![s])).collect()
        } else {
            vec![policy(sts)]
        };
        identity.push(docs);
        boundary.push(if rng.chance(12) {
            let mut sts = vec![json!({ "Effect": "Allow", "Action": action_list(rng), "Resource": "*" })];
            if rng.chance(30) {
                sts.push(identity_statement(rng));
            }
            Some(policy(sts))
        } else {
            None
        });
    }
    let scp = if rng.chance(25) {
        let members = match rng.below(3) {
            0 => vec![OWNER, OTHER],
            1 => vec![OWNER],
            _ => vec![OTHER],
        };
        let root = scp_level(rng);
        let ou = scp_level(rng);
        let account = members.iter().map(|m| (*m, scp_level(rng))).collect();
        Some(ScpSpec { members, root, ou, account })
    } else {
        None
    };
    WorldSpec { key_policy, identity, boundary, scp }
}

/// A random request.
pub fn gen_request(rng: &mut Rng) -> ReqSpec {
    let principal = match rng.below(100) {
        0..=4 => 6,
        5..=7 => 7,
        8..=60 => rng.below(3),
        _ => 3 + rng.below(3),
    };
    let action = rng.pick(ACTIONS);
    let mut ec = BTreeMap::new();
    if EC_ACTIONS.contains(&action) {
        match rng.below(5) {
            0 => {}
            1 => {
                ec.insert("app".to_string(), "a".to_string());
            }
            2 => {
                ec.insert("app".to_string(), "b".to_string());
            }
            3 => {
                ec.insert("tenant".to_string(), "x".to_string());
            }
            _ => {
                ec.insert("app".to_string(), "c".to_string());
                ec.insert("tenant".to_string(), "x".to_string());
            }
        }
    }
    let via_service = match rng.below(10) {
        0..=2 => Some(VIA_S3),
        3 => Some(VIA_EC2),
        _ => None,
    };
    let vpce = match rng.below(10) {
        0..=2 => Some("vpce-1"),
        3 => Some("vpce-2"),
        _ => None,
    };
    ReqSpec { principal, action, ec, via_service, vpce }
}

/// True when any policy of the world mentions the encryption context.
pub fn mentions_ec(spec: &WorldSpec) -> bool {
    let mut all = vec![&spec.key_policy];
    all.extend(spec.identity.iter().flatten());
    all.extend(spec.boundary.iter().flatten());
    if let Some(s) = &spec.scp {
        all.extend(s.root.iter().chain(&s.ou).chain(s.account.values().flatten()));
    }
    all.iter().any(|v| v.to_string().to_ascii_lowercase().contains("kms:encryptioncontext"))
}

fn add(world: &mut World, name: &str, doc: &Value, kind: DocKind, account: &str) -> PolicySlot {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let sid = world.sources.add_file(name, text.clone());
    let mut diags = Vec::new();
    let mut p = parse_policy_text(sid, &text, &mut diags).unwrap_or_else(|| panic!("{name}: {diags:?}"));
    validate(&mut p, kind, None, &mut diags);
    let id = world.add_policy(PolicyEntry { policy: p, kind, name: name.to_string(), account: Some(account.into()) });
    PolicySlot::Known(id)
}

/// Builds the evaluator's world.
pub fn build_world(spec: &WorldSpec) -> World {
    let mut world = World::default();
    for a in [OWNER, OTHER] {
        world.accounts.insert(a.into(), Account { id: a.into(), iam_complete: true, kms_collected: a == OWNER });
    }
    let kp = add(&mut world, "key-policy.json", &spec.key_policy, DocKind::KeyPolicy, OWNER);
    world.keys.push(Key {
        arn: KEY_ARN.into(),
        id: KEY_ARN.rsplit('/').next().unwrap().into(),
        account: OWNER.into(),
        region: REGION.into(),
        policy: Some(kp),
        metadata: Some(KeyMetadata::default()),
        grants: Some(vec![]),
        tags: Some(BTreeMap::new()),
        ..Key::default()
    });
    for (i, p) in PRINCIPALS[..IAM_PRINCIPALS].iter().enumerate() {
        let inline: Vec<PolicySlot> = spec.identity[i]
            .iter()
            .enumerate()
            .map(|(j, d)| add(&mut world, &format!("{}-identity-{j}.json", p.short()), d, DocKind::Identity, p.account))
            .collect();
        let boundary = spec.boundary[i].as_ref().map(|b| {
            let arn = format!("arn:aws:iam::{}:policy/boundary-{}-{}", p.account, p.kind as u8, p.name);
            let slot = add(&mut world, &format!("{}-boundary.json", p.short()), b, DocKind::Boundary, p.account);
            world
                .managed_policies
                .insert(arn.clone(), ManagedPolicy { arn: arn.clone(), name: "boundary".into(), policy: slot });
            arn
        });
        match p.kind {
            PKind::User => world.users.push(User {
                arn: p.iam_arn(),
                account: p.account.into(),
                name: p.name.into(),
                path: p.path.into(),
                id: Some(format!("AIDA{}{}", p.account, p.name.to_ascii_uppercase())),
                inline,
                boundary,
                ..User::default()
            }),
            PKind::Role => world.roles.push(Role {
                arn: p.iam_arn(),
                account: p.account.into(),
                name: p.name.into(),
                path: p.path.into(),
                id: Some(format!("AROA{}{}", p.account, p.name.to_ascii_uppercase())),
                inline,
                boundary,
                ..Role::default()
            }),
            PKind::Root => {}
        }
    }
    if let Some(s) = &spec.scp {
        let mut org = Organization {
            id: "o-exampleorg".into(),
            management_account: Some(MANAGEMENT.into()),
            roots: vec!["r-root".into()],
            accounts: s.members.iter().map(|m| m.to_string()).collect(),
            scp_enabled: Some(true),
            attachments_complete: true,
            rcp_enabled: Some(false),
            ..Organization::default()
        };
        org.parents.insert("ou-1".into(), "r-root".into());
        let mut levels: Vec<(String, &Vec<Value>)> = vec![("r-root".into(), &s.root), ("ou-1".into(), &s.ou)];
        for m in &s.members {
            org.parents.insert(m.to_string(), "ou-1".into());
            levels.push((m.to_string(), &s.account[m]));
        }
        let mut n = 0;
        for (target, docs) in levels {
            for d in docs {
                n += 1;
                let pid = format!("p-scp{n}");
                let slot = add(&mut world, &format!("{pid}.json"), d, DocKind::Scp, MANAGEMENT);
                world.org_policies.insert(
                    pid.clone(),
                    OrgPolicy {
                        id: pid.clone(),
                        name: pid.clone(),
                        policy: slot,
                        kind: DocKind::Scp,
                        origin: Default::default(),
                    },
                );
                org.attachments.entry(target.clone()).or_default().push(pid);
            }
        }
        world.org = Some(org);
    }
    world
}

/// The evaluator's request.
pub fn build_request(world: &World, r: &ReqSpec) -> Request {
    let caller = Caller::parse(&r.caller().caller_arn(), world).unwrap();
    let mut context = Context::new();
    if !r.ec.is_empty() {
        context.set_encryption_context(r.ec.clone());
    }
    if let Some(v) = r.via_service {
        context.set_single("kms:ViaService", v);
    }
    if let Some(v) = r.vpce {
        context.set_single("aws:SourceVpce", v);
    }
    Request {
        caller,
        action: r.action.into(),
        key: 0,
        context,
        via_alias: None,
        grant_tokens: vec![],
        grant_id: None,
        assume_identity_allows: false,
    }
}

/// Decides a request.
pub fn decide(world: &World, r: &ReqSpec) -> Response {
    authorize(world, &build_request(world, r))
}

/// The context an oracle needs: everything the evaluator used (explicit and world-implied),
/// as JSON, plus `kms:EncryptionContextKeys` when the request has an encryption context.
pub fn oracle_context(resp: &Response) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in resp.context.entries() {
        let jv = match v {
            CtxValue::Single(s) => json!(s),
            CtxValue::Multi(vs) => json!(vs),
        };
        m.insert(k, jv);
    }
    let ec = resp.context.encryption_context();
    if !ec.is_empty() {
        m.insert("kms:EncryptionContextKeys".into(), json!(ec.keys().collect::<Vec<_>>()));
    }
    Value::Object(m)
}

/// The SCP levels that govern the caller, root first (empty when its account is not a member).
pub fn scp_levels(spec: &WorldSpec, account: &str) -> Vec<Vec<Value>> {
    match &spec.scp {
        Some(s) if s.members.contains(&account) => {
            vec![s.root.clone(), s.ou.clone(), s.account[account].clone()]
        }
        _ => vec![],
    }
}

/// One oracle case line (see `tests/oracle/oracle.mjs`).
pub fn oracle_case(id: usize, spec: &WorldSpec, r: &ReqSpec, resp: &Response) -> Value {
    let p = r.caller();
    let (identity, boundary) = if p.kind == PKind::Root {
        (vec![], vec![])
    } else {
        (spec.identity[r.principal].clone(), spec.boundary[r.principal].iter().cloned().collect::<Vec<_>>())
    };
    let mut case = json!({
        "id": id,
        "keyPolicy": spec.key_policy,
        "identityPolicies": identity,
        "request": {
            "principal": p.caller_arn(),
            "action": r.action,
            "resource": KEY_ARN,
            "resourceAccount": OWNER,
            "context": oracle_context(resp),
        },
    });
    if !boundary.is_empty() {
        case["permissionBoundaryPolicies"] = json!(boundary);
    }
    let scps = scp_levels(spec, p.account);
    if !scps.is_empty() {
        case["scps"] = json!(scps);
    }
    case
}
