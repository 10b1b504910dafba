//! Soundness and completeness of `who-can` by enumeration (the issue's check): over seeded
//! random small worlds, every concrete (principal, request context) of a finite universe is
//! decided by the evaluator and compared with `who_can(.., direct_only: true)`:
//!
//! * (a) soundness: every witness replays as Allow, and every answered principal is allowed
//!   under at least one enumerated context;
//! * (b) completeness: every principal allowed under some enumerated context is answered;
//! * (c) the DNF of each answered principal holds exactly on the enumerated contexts the
//!   evaluator allows.
//!
//! A world: two accounts with up to three users/roles each (an authorization-details document
//! per account), one key, a key policy of 1–4 statements (account delegation, direct
//! principals, `*`, Deny statements), identity policies of 0–2 statements; sometimes grants
//! (with `EncryptionContextSubset`/`Equals` constraints) and an organization with SCPs and an
//! RCP (guardrail statements with one condition each). Conditions use
//! `kms:EncryptionContext:app` ∈ {absent, a, b}, `aws:SourceVpce` ∈ {absent, vpce-1, vpce-2},
//! `kms:ViaService` ∈ {absent, s3.us-east-1.amazonaws.com}, plus (rarely) the world-implied
//! `kms:CallerAccount`, which the enumeration does not vary. The universe of contexts is the
//! 192 combinations of the request keys, each absent, a value the policies may mention, or one
//! value they never mention (`c`, `vpce-3`, `ec2.us-east-1.amazonaws.com`): the solver also
//! explores unmentioned values, and with these operators one such value stands for all. The
//! encryption context may spell its key `app`, `App`, or both (keys differing only by case).
//!
//! `WHO_CAN_SEED=<n>` runs one world and prints it; `WHO_CAN_WORLDS=<n>` changes the count.
//! A failing seed is printed with its world as a `fixtures/who-can` case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::BTreeMap;

use keyproof::eval::authorize::{authorize, implied_context, Decision, Request};
use keyproof::eval::condition::condition_holds;
use keyproof::eval::context::{Context, CtxValue};
use keyproof::eval::principal::Caller;
use keyproof::ingest::{load_texts, LoadOptions};
use keyproof::policy::model::Condition;
use keyproof::solve::{
    allows, atom_condition, solve_principal, transitive_entries, universe, who_can, who_can_among, with_transitive,
    Among, Atom, Candidate, Entry, Query, OUTSIDE_ACCOUNT,
};
use keyproof::world::World;
use serde_json::{json, Value};

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/0000aaaa-00aa-00aa-00aa-000000000000";
const VIA_S3: &str = "s3.us-east-1.amazonaws.com";
/// The organization's management account (neither of the two).
const MANAGEMENT: &str = "999999999999";
const ORG_ID: &str = "o-a1b2c3d4e5";
/// A `kms:ViaService` value no policy mentions.
const VIA_EC2: &str = "ec2.us-east-1.amazonaws.com";
const ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt"];
const WORLDS: u64 = 250;
const FIRST_SEED: u64 = 0x5eed_0000;

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A principal of the generated world.
#[derive(Clone, Debug)]
struct Principal {
    account: &'static str,
    name: String,
    role: bool,
}

impl Principal {
    fn arn(&self) -> String {
        let kind = if self.role { "role" } else { "user" };
        format!("arn:aws:iam::{}:{kind}/{}", self.account, self.name)
    }
    fn caller(&self) -> Caller {
        if self.role {
            Caller::AssumedRole {
                account: self.account.into(),
                path: "/".into(),
                role: self.name.clone(),
                session: keyproof::eval::principal::DEFAULT_SESSION.into(),
            }
        } else {
            Caller::User { account: self.account.into(), path: "/".into(), name: self.name.clone() }
        }
    }
}

/// One condition block entry over the small domain.
fn gen_condition(rng: &mut Rng, cond: &mut serde_json::Map<String, Value>) {
    let (key, values): (&str, Vec<&str>) = match rng.below(7) {
        // The key part of `kms:EncryptionContext:<k>` is case-insensitive (semantics.md §4.4).
        0 | 1 => (
            *rng.pick(&["kms:EncryptionContext:app", "kms:EncryptionContext:app", "kms:EncryptionContext:App"]),
            vec!["a", "b"],
        ),
        2 | 3 => ("aws:SourceVpce", vec!["vpce-1", "vpce-2"]),
        4 | 5 => ("kms:ViaService", vec![VIA_S3]),
        _ => ("kms:CallerAccount", vec![OWNER, OTHER]),
    };
    let op = if rng.chance(12) && key != "kms:CallerAccount" {
        let v = if rng.chance(50) { "true" } else { "false" };
        cond.entry("Null").or_insert_with(|| json!({}))[key] = json!(v);
        return;
    } else {
        *rng.pick(&["StringEquals", "StringNotEquals", "StringEqualsIfExists", "StringNotEqualsIfExists"])
    };
    let value = if rng.chance(20) { json!(values) } else { json!(rng.pick(&values)) };
    cond.entry(op).or_insert_with(|| json!({}))[key] = value;
}

fn gen_conditions(rng: &mut Rng) -> Option<Value> {
    let n = match rng.below(10) {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    };
    if n == 0 {
        return None;
    }
    let mut cond = serde_json::Map::new();
    for _ in 0..n {
        gen_condition(rng, &mut cond);
    }
    Some(Value::Object(cond))
}

fn gen_actions(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!("kms:Decrypt"),
        1 => json!("kms:Encrypt"),
        2 => json!(["kms:Decrypt", "kms:Encrypt"]),
        3 => json!("kms:*"),
        _ => json!("kms:*crypt"),
    }
}

/// One custom SCP/RCP statement: a `Deny` of an action under one condition, or (SCPs only) an
/// `Allow` of `kms:*` under one condition.
fn gen_guardrail_statement(rng: &mut Rng, rcp: bool) -> Value {
    let mut cond = serde_json::Map::new();
    gen_condition(rng, &mut cond);
    let mut st = if rcp || rng.chance(60) {
        json!({"Sid": "Guard", "Effect": "Deny", "Action": gen_actions(rng), "Resource": "*"})
    } else {
        json!({"Sid": "Guard", "Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    };
    if rcp {
        st["Principal"] = json!("*");
    }
    st["Condition"] = Value::Object(cond);
    st
}

/// An organization (`org.json`, our snapshot layout of the `aws organizations` outputs):
/// management account `MANAGEMENT`, the owner (and sometimes the other account) as members
/// under one OU, SCPs at every level (FullAWSAccess or not, sometimes a custom one) and
/// sometimes an RCP. Returns the document and the member accounts.
fn gen_org(rng: &mut Rng) -> (Value, Vec<&'static str>) {
    const ROOT: &str = "r-ab12";
    const OU: &str = "ou-ab12-11111111";
    const SCP: &str = "SERVICE_CONTROL_POLICY";
    const RCP: &str = "RESOURCE_CONTROL_POLICY";
    let mut members = vec![OWNER];
    if rng.chance(50) {
        members.push(OTHER);
    }
    let mut doc = serde_json::Map::new();
    doc.insert("describe-organization".into(), json!({"Organization": {"Id": ORG_ID, "MasterAccountId": MANAGEMENT}}));
    doc.insert(
        "list-roots".into(),
        json!({"Roots": [{"Id": ROOT, "PolicyTypes": [{"Type": SCP, "Status": "ENABLED"}, {"Type": RCP, "Status": "ENABLED"}]}]}),
    );
    doc.insert(format!("list-parents --child-id {OU}"), json!({"Parents": [{"Id": ROOT, "Type": "ROOT"}]}));
    for m in &members {
        doc.insert(
            format!("list-parents --child-id {m}"),
            json!({"Parents": [{"Id": OU, "Type": "ORGANIZATIONAL_UNIT"}]}),
        );
    }
    let describe = |doc: &mut serde_json::Map<String, Value>, id: &str, kind: &str, statements: Value| {
        let content = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        doc.insert(
            format!("describe-policy --policy-id {id}"),
            json!({"Policy": {"PolicySummary": {"Id": id, "Name": id, "Type": kind, "AwsManaged": id.ends_with("FullAWSAccess")}, "Content": content}}),
        );
    };
    describe(&mut doc, "p-FullAWSAccess", SCP, json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
    describe(
        &mut doc,
        "p-RCPFullAWSAccess",
        RCP,
        json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]),
    );
    let rcp_at_ou = rng.chance(25);
    let targets: Vec<String> =
        [ROOT.to_string(), OU.to_string()].into_iter().chain(members.iter().map(|m| m.to_string())).collect();
    for (n, target) in targets.iter().enumerate() {
        let mut scps = Vec::new();
        if rng.chance(85) {
            scps.push("p-FullAWSAccess".to_string());
        }
        if rng.chance(35) {
            let id = format!("p-scp{n}");
            describe(&mut doc, &id, SCP, json!([gen_guardrail_statement(rng, false)]));
            scps.push(id);
        }
        let mut rcps = vec!["p-RCPFullAWSAccess".to_string()];
        if rcp_at_ou && target == OU {
            describe(&mut doc, "p-rcp", RCP, json!([gen_guardrail_statement(rng, true)]));
            rcps.push("p-rcp".into());
        }
        for (kind, ids) in [(SCP, scps), (RCP, rcps)] {
            let list: Vec<Value> = ids
                .iter()
                .map(|id| json!({"Id": id, "Type": kind, "AwsManaged": id.ends_with("FullAWSAccess")}))
                .collect();
            doc.insert(
                format!("list-policies-for-target --target-id {target} --filter {kind}"),
                json!({"Policies": list}),
            );
        }
    }
    (Value::Object(doc), members)
}

/// The documents of one world (file name → JSON), its load options (as in a `fixtures/who-can`
/// case) and its concrete principals.
fn gen_world(seed: u64) -> (BTreeMap<String, Value>, Value, Vec<Principal>) {
    let mut rng = Rng(seed);
    let mut principals = Vec::new();
    for account in [OWNER, OTHER] {
        for i in 0..1 + rng.below(3) {
            let role = rng.chance(50);
            principals.push(Principal { account, name: format!("{}{i}", if role { "r" } else { "u" }), role });
        }
    }
    let mut statements = Vec::new();
    for i in 0..1 + rng.below(4) {
        let deny = rng.chance(30);
        let principal = match rng.below(if deny { 4 } else { 5 }) {
            0 => json!({"AWS": format!("arn:aws:iam::{OWNER}:root")}),
            1 => json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}),
            2 => json!({"AWS": rng.pick(&principals).arn()}),
            3 => json!("*"),
            _ => json!({"AWS": [rng.pick(&principals).arn(), rng.pick(&principals).arn()]}),
        };
        let mut st = json!({
            "Sid": format!("S{i}"),
            "Effect": if deny { "Deny" } else { "Allow" },
            "Principal": principal,
            "Action": gen_actions(&mut rng),
            "Resource": "*",
        });
        if let Some(c) = gen_conditions(&mut rng) {
            st["Condition"] = c;
        }
        statements.push(st);
    }
    let mut docs = BTreeMap::new();
    docs.insert("key-policy.json".to_string(), json!({"Version": "2012-10-17", "Statement": statements}));
    if rng.chance(35) {
        let mut grants = Vec::new();
        for i in 0..1 + rng.below(2) {
            let grantee = match rng.below(4) {
                0 => format!("arn:aws:iam::{}:root", rng.pick(&[OWNER, OTHER])),
                _ => rng.pick(&principals).arn(),
            };
            let operations = match rng.below(3) {
                0 => json!(["Decrypt"]),
                1 => json!(["Encrypt"]),
                _ => json!(["Decrypt", "Encrypt"]),
            };
            let mut g = json!({
                "KeyId": KEY, "GrantId": format!("g{i}"), "Name": "", "GranteePrincipal": grantee,
                "IssuingAccount": format!("arn:aws:iam::{OWNER}:root"), "Operations": operations,
            });
            // Constraint keys are exact (semantics.md §6.4): `App` never matches the EC key `app`.
            let pair = json!({*rng.pick(&["app", "app", "App"]): *rng.pick(&["a", "b"])});
            match rng.below(3) {
                0 => {}
                1 => g["Constraints"] = json!({"EncryptionContextSubset": pair}),
                _ => g["Constraints"] = json!({"EncryptionContextEquals": pair}),
            }
            grants.push(g);
        }
        docs.insert("grants.json".to_string(), json!({"Grants": grants}));
    }
    let mut options = json!({"key_arn": KEY});
    if rng.chance(30) {
        let (org, members) = gen_org(&mut rng);
        docs.insert("org.json".to_string(), org);
        options["org_id"] = json!(ORG_ID);
        options["org_accounts"] = json!(members);
    }
    for account in [OWNER, OTHER] {
        let mut users = Vec::new();
        let mut roles = Vec::new();
        for p in principals.iter().filter(|p| p.account == account) {
            let mut inline = Vec::new();
            let n = rng.below(3);
            if n > 0 {
                let mut sts = Vec::new();
                for j in 0..n {
                    let mut st = json!({
                        "Sid": format!("{}I{j}", p.name),
                        "Effect": if rng.chance(25) { "Deny" } else { "Allow" },
                        "Action": gen_actions(&mut rng),
                        "Resource": *rng.pick(&["*", KEY, KEY, OTHER_KEY]),
                    });
                    if let Some(c) = gen_conditions(&mut rng) {
                        st["Condition"] = c;
                    }
                    sts.push(st);
                }
                inline.push(json!({"PolicyName": "p0", "PolicyDocument": {"Version": "2012-10-17", "Statement": sts}}));
            }
            let id = format!("{}{}", if p.role { "AROA" } else { "AIDA" }, p.name.to_uppercase())
                .chars()
                .chain(std::iter::repeat('X'))
                .take(21)
                .collect::<String>();
            if p.role {
                roles.push(json!({
                    "Path": "/", "RoleName": p.name, "RoleId": id, "Arn": p.arn(),
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                    "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": []
                }));
            } else {
                users.push(json!({
                    "Path": "/", "UserName": p.name, "UserId": id, "Arn": p.arn(),
                    "UserPolicyList": inline, "GroupList": [], "AttachedManagedPolicies": [], "Tags": []
                }));
            }
        }
        docs.insert(
            format!("iam-{account}.json"),
            json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}),
        );
    }
    (docs, options, principals)
}

fn load(docs: &BTreeMap<String, Value>, options: &Value) -> World {
    let texts: Vec<(String, String)> = docs
        .iter()
        .map(|(name, doc)| (format!("enumeration/{name}"), serde_json::to_string_pretty(doc).unwrap()))
        .collect();
    let org_accounts = options["org_accounts"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let opts = LoadOptions {
        key_arn: Some(KEY.into()),
        org_id: options["org_id"].as_str().map(str::to_string),
        org_accounts,
        ..LoadOptions::default()
    };
    load_texts(&texts, &opts)
}

/// The finite universe of request contexts: every combination of the three request keys, each
/// absent, one of the values the policies may mention, or one value no policy mentions (which
/// stands for all others: with these operators a request value no policy mentions behaves like
/// any other such value, so the universe covers every request). The encryption context holds
/// the key `app`, the key `App`, both or neither: policy conditions find either spelling
/// (semantics.md §4.4, both at once when they collide), grant constraints only the exact one.
fn contexts() -> Vec<BTreeMap<&'static str, &'static str>> {
    let mut out = Vec::new();
    for lower in [None, Some("a"), Some("b"), Some("c")] {
        for upper in [None, Some("a"), Some("b"), Some("c")] {
            for vpce in [None, Some("vpce-1"), Some("vpce-2"), Some("vpce-3")] {
                for via in [None, Some(VIA_S3), Some(VIA_EC2)] {
                    let mut m = BTreeMap::new();
                    if let Some(v) = lower {
                        m.insert("app", v);
                    }
                    if let Some(v) = upper {
                        m.insert("App", v);
                    }
                    if let Some(v) = vpce {
                        m.insert("aws:SourceVpce", v);
                    }
                    if let Some(v) = via {
                        m.insert("kms:ViaService", v);
                    }
                    out.push(m);
                }
            }
        }
    }
    out
}

fn context(c: &BTreeMap<&str, &str>) -> Context {
    let mut ctx = Context::new();
    let mut ec = BTreeMap::new();
    for (k, v) in c {
        if k.eq_ignore_ascii_case("app") {
            ec.insert((*k).to_string(), (*v).to_string());
        } else {
            ctx.set(k, CtxValue::Single((*v).to_string()));
        }
    }
    if !ec.is_empty() {
        ctx.set_encryption_context(ec);
    }
    ctx
}

/// A concrete principal of the enumeration: its name in the answer, its caller, and whether it
/// stands for principals whose IAM is outside the world (the `*` stand-in).
struct Concrete {
    name: String,
    caller: Caller,
    assume_identity_allows: bool,
}

fn concrete(principals: &[Principal], with_org: bool) -> Vec<Concrete> {
    let mut out: Vec<Concrete> = principals
        .iter()
        .map(|p| Concrete { name: p.arn(), caller: p.caller(), assume_identity_allows: false })
        .collect();
    for a in [OWNER, OTHER] {
        out.push(Concrete {
            name: format!("arn:aws:iam::{a}:root"),
            caller: Caller::Root { account: a.into() },
            assume_identity_allows: false,
        });
    }
    // The management account of a generated organization: its IAM is not in the world, so it is
    // the abstract `account` principal (any principal of it whose own IAM allows).
    if with_org {
        out.push(Concrete {
            name: format!("arn:aws:iam::{MANAGEMENT}:root"),
            caller: Caller::AssumedRole {
                account: MANAGEMENT.into(),
                path: "/".into(),
                role: "keyproof-any-principal".into(),
                session: keyproof::eval::principal::DEFAULT_SESSION.into(),
            },
            assume_identity_allows: true,
        });
    }
    // `*`: a principal of an account outside the inputs whose own IAM allows.
    out.push(Concrete {
        name: "*".into(),
        caller: Caller::AssumedRole {
            account: OUTSIDE_ACCOUNT.into(),
            path: "/".into(),
            role: "keyproof-anyone".into(),
            session: keyproof::eval::principal::DEFAULT_SESSION.into(),
        },
        assume_identity_allows: true,
    });
    out
}

/// A DNF with each atom's condition built once.
type Dnf = Vec<Vec<(Condition, bool)>>;

fn compile(dnf: &[Vec<Atom>]) -> Dnf {
    dnf.iter()
        .map(|t| {
            t.iter()
                .map(|a| (atom_condition(a).unwrap_or_else(|| panic!("atom {a:?} has no condition")), a.negated))
                .collect()
        })
        .collect()
}

/// The DNF under a request context, with the keys the world implies filled in.
fn dnf_holds(world: &World, key: usize, caller: &Caller, action: &str, ctx: &Context, dnf: &Dnf) -> bool {
    let mut full = ctx.clone();
    implied_context(world, &world.keys[key], caller, action, None, &mut full);
    dnf.iter().any(|term| term.iter().all(|(c, negated)| condition_holds(c, &full, true) != *negated))
}

/// The documented corner case of the DNF (reported, not failed): a grant's encryption-context
/// constraint compares keys exactly (semantics.md §6.4), which condition atoms express with
/// `kms:EncryptionContext:<k>` (case-insensitive key, §4.4) and `kms:EncryptionContextKeys`;
/// when the request's EC holds two keys that differ only by case, the atoms cannot tell which
/// value belongs to the exact key.
fn known_corner(world: &World, key: usize, ctx: &BTreeMap<&str, &str>) -> bool {
    let colliding = ctx.contains_key("app") && ctx.contains_key("App");
    let constrained = world.keys[key].grants.iter().flatten().any(|g| g.ec_subset.is_some() || g.ec_equals.is_some());
    colliding && constrained
}

/// Checks one world; returns the failures (empty when it passes) and the counts
/// (allowed triples, entries, DNF comparisons, DNF mismatches in the known corner case).
fn check_world(seed: u64, verbose: bool) -> (Vec<String>, [usize; 4]) {
    let (docs, options, principals) = gen_world(seed);
    let world = load(&docs, &options);
    let mut fails = Vec::new();
    if !world.errors.is_empty() {
        return (vec![format!("world does not load: {:?}", world.errors)], [0; 4]);
    }
    let key = world.find_key_index(KEY).unwrap();
    let ctxs = contexts();
    let mut counts = [0usize; 4];
    for action in ACTIONS {
        let ans = who_can(&world, &Query { key, action: (*action).into(), direct_only: true });
        if verbose {
            println!("{}\n", keyproof::cli::who_can::text(&ans));
        }
        counts[1] += ans.principals.len();
        // (d) a question about some principals (`who_can_among`, with its account hint) gives
        // exactly their entries of the whole answer; the transitive answer extends the direct one.
        let key_account = "111122223333";
        let keep = |c: &Candidate| c.caller.account() != Some(key_account);
        let among = Among { keep: &keep, accounts: Some(&|a: &str| a != key_account) };
        let part = who_can_among(&world, key, action, among);
        let expected: Vec<&str> =
            ans.principals.iter().filter(|e| keep(&e.candidate())).map(|e| e.principal.as_str()).collect();
        let got: Vec<&str> = part.principals.iter().map(|e| e.principal.as_str()).collect();
        if got != expected {
            fails.push(format!("{action}: who_can_among gives {got:?}, the whole answer {expected:?}"));
        }
        let whole = who_can(&world, &Query { key, action: (*action).into(), direct_only: false });
        let extended = with_transitive(&world, key, ans.clone());
        if serde_json::to_value(&whole).ok() != serde_json::to_value(&extended).ok() {
            fails.push(format!("{action}: the transitive answer is not the direct one extended"));
        }
        // `allows` says whether a principal of the universe gets an entry.
        for c in universe(&world, key) {
            if allows(&world, key, action, &c) != solve_principal(&world, key, action, &c).is_some() {
                fails.push(format!("{action}: `allows` disagrees with the entry of {}", c.name));
            }
        }
        // The transitive entries alone, solving only the direct entries they depend on.
        let transitive: Vec<&Entry> = whole.principals.iter().filter(|e| e.transitive).collect();
        let alone = transitive_entries(&world, key, action);
        if serde_json::to_value(&transitive).ok() != serde_json::to_value(&alone).ok() {
            fails.push(format!("{action}: transitive_entries differs from the whole answer's transitive entries"));
        }
        // (a) every witness replays.
        for e in &ans.principals {
            let d = authorize(&world, &e.witness.request(&world, key, &e.caller)).decision;
            if d != Decision::Allow {
                fails.push(format!("{action}: witness of {} replays as {d:?}", e.principal));
            }
        }
        for c in concrete(&principals, world.org.is_some()) {
            let allowed: Vec<bool> = ctxs
                .iter()
                .map(|m| {
                    let req = Request {
                        caller: c.caller.clone(),
                        action: (*action).into(),
                        key,
                        context: context(m),
                        via_alias: None,
                        grant_tokens: Vec::new(),
                        grant_id: None,
                        assume_identity_allows: c.assume_identity_allows,
                    };
                    authorize(&world, &req).decision == Decision::Allow
                })
                .collect();
            let n_allowed = allowed.iter().filter(|a| **a).count();
            counts[0] += n_allowed;
            let entry = ans.principals.iter().find(|e| e.principal == c.name);
            match (entry, n_allowed) {
                (None, 0) => {}
                // (b) completeness.
                (None, _) => {
                    let first = ctxs.iter().zip(&allowed).find(|(_, a)| **a).map(|(m, _)| m);
                    fails.push(format!("{action}: {} is allowed (e.g. under {first:?}) but not answered", c.name));
                }
                // (a) soundness.
                (Some(_), 0) => fails.push(format!("{action}: {} is answered but allowed under no context", c.name)),
                // (c) the DNF describes exactly the allowed contexts.
                (Some(e), _) => {
                    if e.unconditional && n_allowed != ctxs.len() {
                        fails.push(format!("{action}: {} is unconditional but denied under some context", c.name));
                    }
                    let dnf = compile(&e.conditions);
                    for (m, a) in ctxs.iter().zip(&allowed) {
                        counts[2] += 1;
                        let d = dnf_holds(&world, key, &c.caller, action, &context(m), &dnf);
                        if d != *a && known_corner(&world, key, m) {
                            counts[3] += 1;
                        } else if d != *a {
                            fails.push(format!(
                                "{action}: {}: DNF `{}` is {d} under {m:?}, the evaluator says {}",
                                c.name,
                                e.condition_text,
                                if *a { "Allow" } else { "deny" }
                            ));
                        }
                    }
                }
            }
        }
        // Entries for principals outside the enumeration: there should be none (both accounts'
        // IAM is in the world).
        for e in &ans.principals {
            if !concrete(&principals, world.org.is_some()).iter().any(|c| c.name == e.principal) {
                fails.push(format!("{action}: unexpected entry {} ({:?})", e.principal, e.kind));
            }
        }
    }
    if !fails.is_empty() || verbose {
        let case = json!({
            "description": format!("who_can_enumeration seed {seed:#x}"),
            "documents": docs,
            "options": options,
            "queries": [],
        });
        let dump = serde_json::to_string_pretty(&case).unwrap();
        if verbose {
            println!("{dump}");
        }
        if !fails.is_empty() {
            fails.push(format!("world as a fixtures/who-can case:\n{dump}"));
        }
    }
    (fails, counts)
}

#[test]
fn who_can_matches_enumeration() {
    if let Some(seed) = std::env::var("WHO_CAN_SEED")
        .ok()
        .and_then(|s| s.strip_prefix("0x").map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok()))
    {
        let (fails, _) = check_world(seed, true);
        assert!(fails.is_empty(), "seed {seed:#x}:\n{}", fails.join("\n"));
        return;
    }
    let worlds = std::env::var("WHO_CAN_WORLDS").ok().and_then(|s| s.parse().ok()).unwrap_or(WORLDS);
    let mut failing = Vec::new();
    let mut totals = [0usize; 4];
    for seed in FIRST_SEED..FIRST_SEED + worlds {
        let (fails, counts) = check_world(seed, false);
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
        if !fails.is_empty() {
            failing.push(format!("seed {seed:#x} (rerun with WHO_CAN_SEED={seed:#x}):\n  {}", fails.join("\n  ")));
        }
    }
    println!(
        "{worlds} worlds: {} allowed (principal, context, action) triples, {} entries, {} DNF comparisons \
         ({} mismatches in the documented corner case: grant constraints under EC keys differing only by case), \
         {} failing worlds",
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        failing.len()
    );
    assert!(totals[1] > 0 && totals[2] > 0, "the generator produced no access at all");
    let shown: Vec<&String> = failing.iter().take(3).collect();
    assert!(
        failing.is_empty(),
        "{} failing worlds; first ones:\n{}",
        failing.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n")
    );
}
