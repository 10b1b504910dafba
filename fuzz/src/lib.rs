//! A compact `arbitrary`-driven generator of small KMS worlds for the `eval` and `solve`
//! fuzz targets.
//!
//! The shape follows `tests/who_can_enumeration.rs` (whose generator is a seeded test
//! module, not reachable from here): two accounts with an IAM user and two roles each (an
//! `get-account-authorization-details` document per account, with inline identity policies
//! and trust policies), one key whose policy has 1–4 statements, sometimes grants, sometimes
//! an organization with SCPs and an RCP. Every element is drawn from a small domain so that
//! the fuzzer reaches interesting combinations quickly, and almost every domain has a `Raw`
//! arm carrying a short arbitrary string, so that malformed values reach the evaluator too.
//! The documents are loaded through `ingest::load_texts`, as the CLI would load them.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Result, Unstructured};
use keyproof::eval::authorize::Request;
use keyproof::eval::context::{Context, CtxValue};
use keyproof::eval::principal::{Caller, DEFAULT_SESSION};
use keyproof::ingest::{load_texts, LoadOptions};
use keyproof::world::World;
use serde_json::{json, Map, Value};

/// The key owner.
pub const OWNER: &str = "111122223333";
/// The other account.
pub const OTHER: &str = "444455556666";
/// The organization's management account.
pub const MANAGEMENT: &str = "999999999999";
/// The key.
pub const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// Another key of the owner.
pub const OTHER_KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/0000aaaa-00aa-00aa-00aa-000000000000";
const ORG_ID: &str = "o-a1b2c3d4e5";
const ACCOUNTS: [&str; 2] = [OWNER, OTHER];

/// A short arbitrary string (at most 24 characters).
#[derive(Clone, Debug)]
pub struct Raw(pub String);

impl<'a> Arbitrary<'a> for Raw {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let s: &str = u.arbitrary()?;
        Ok(Raw(s.chars().take(24).collect()))
    }
}

/// Takes at most `n` elements.
fn at_most<T>(v: &[T], n: usize) -> &[T] {
    v.get(..n.min(v.len())).unwrap_or(v)
}

/// The IAM principals of an account: a user and two roles (one under `/svc/`).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Iam {
    /// `user/alice`.
    Alice,
    /// `role/admin`.
    Admin,
    /// `role/svc/app`.
    App,
}

impl Iam {
    const ALL: [Iam; 3] = [Iam::Alice, Iam::Admin, Iam::App];

    fn arn(self, account: &str) -> String {
        match self {
            Iam::Alice => format!("arn:aws:iam::{account}:user/alice"),
            Iam::Admin => format!("arn:aws:iam::{account}:role/admin"),
            Iam::App => format!("arn:aws:iam::{account}:role/svc/app"),
        }
    }

    fn session(self, account: &str) -> String {
        match self {
            Iam::Alice => self.arn(account),
            Iam::Admin => format!("arn:aws:sts::{account}:assumed-role/admin/{DEFAULT_SESSION}"),
            Iam::App => format!("arn:aws:sts::{account}:assumed-role/app/{DEFAULT_SESSION}"),
        }
    }

    fn caller(self, account: &str) -> Caller {
        let account = account.to_string();
        match self {
            Iam::Alice => Caller::User { account, path: "/".into(), name: "alice".into() },
            Iam::Admin => {
                Caller::AssumedRole { account, path: "/".into(), role: "admin".into(), session: DEFAULT_SESSION.into() }
            }
            Iam::App => Caller::AssumedRole {
                account,
                path: "/svc/".into(),
                role: "app".into(),
                session: DEFAULT_SESSION.into(),
            },
        }
    }
}

/// One of the two accounts.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Acct {
    /// The key owner.
    Owner,
    /// The other account.
    Other,
}

impl Acct {
    fn id(self) -> &'static str {
        match self {
            Acct::Owner => OWNER,
            Acct::Other => OTHER,
        }
    }
}

/// A principal element of a resource policy.
#[derive(Arbitrary, Clone, Debug)]
pub enum Princ {
    /// `"*"`.
    Star,
    /// `{"AWS": "*"}`.
    AwsStar,
    /// An account, as its id or its root ARN.
    Account(Acct, bool),
    /// An IAM user or role ARN.
    Iam(Acct, Iam),
    /// A role session ARN.
    Session(Acct, Iam),
    /// A service principal.
    Service(bool),
    /// A federated principal.
    Federated,
    /// A list of AWS principals.
    List(Vec<(Acct, Iam)>),
    /// Anything as an AWS principal.
    Raw(Raw),
}

impl Princ {
    fn json(&self) -> Value {
        match self {
            Princ::Star => json!("*"),
            Princ::AwsStar => json!({"AWS": "*"}),
            Princ::Account(a, true) => json!({"AWS": a.id()}),
            Princ::Account(a, false) => json!({"AWS": format!("arn:aws:iam::{}:root", a.id())}),
            Princ::Iam(a, p) => json!({"AWS": p.arn(a.id())}),
            Princ::Session(a, p) => json!({"AWS": p.session(a.id())}),
            Princ::Service(regional) => {
                json!({"Service": if *regional { "s3.us-east-1.amazonaws.com" } else { "s3.amazonaws.com" }})
            }
            Princ::Federated => json!({"Federated": "cognito-identity.amazonaws.com"}),
            Princ::List(v) => {
                let arns: Vec<String> = at_most(v, 3).iter().map(|(a, p)| p.arn(a.id())).collect();
                json!({"AWS": arns})
            }
            Princ::Raw(r) => json!({"AWS": r.0}),
        }
    }
}

/// An action or action pattern.
#[derive(Arbitrary, Clone, Debug)]
pub enum Act {
    /// `kms:Decrypt`.
    Decrypt,
    /// `kms:Encrypt`.
    Encrypt,
    /// `kms:GenerateDataKey`.
    GenerateDataKey,
    /// `kms:CreateGrant`.
    CreateGrant,
    /// `kms:PutKeyPolicy`.
    PutKeyPolicy,
    /// `kms:ReEncrypt*`.
    ReEncryptStar,
    /// `kms:*`.
    KmsStar,
    /// `*`.
    Star,
    /// `kms:*crypt`.
    StarCrypt,
    /// `kms:De?rypt`.
    Question,
    /// `sts:AssumeRole`.
    AssumeRole,
    /// Anything.
    Raw(Raw),
}

impl Act {
    fn text(&self) -> String {
        match self {
            Act::Decrypt => "kms:Decrypt".into(),
            Act::Encrypt => "kms:Encrypt".into(),
            Act::GenerateDataKey => "kms:GenerateDataKey".into(),
            Act::CreateGrant => "kms:CreateGrant".into(),
            Act::PutKeyPolicy => "kms:PutKeyPolicy".into(),
            Act::ReEncryptStar => "kms:ReEncrypt*".into(),
            Act::KmsStar => "kms:*".into(),
            Act::Star => "*".into(),
            Act::StarCrypt => "kms:*crypt".into(),
            Act::Question => "kms:De?rypt".into(),
            Act::AssumeRole => "sts:AssumeRole".into(),
            Act::Raw(r) => r.0.clone(),
        }
    }
}

/// A request action.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum ReqAct {
    /// `kms:Decrypt`.
    Decrypt,
    /// `kms:Encrypt`.
    Encrypt,
    /// `kms:GenerateDataKey`.
    GenerateDataKey,
    /// `kms:CreateGrant`.
    CreateGrant,
    /// `kms:PutKeyPolicy`.
    PutKeyPolicy,
    /// `kms:ReEncryptFrom`.
    ReEncryptFrom,
    /// `kms:DescribeKey`.
    DescribeKey,
    /// `kms:RetireGrant`.
    RetireGrant,
}

impl ReqAct {
    /// The action name.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            ReqAct::Decrypt => "kms:Decrypt",
            ReqAct::Encrypt => "kms:Encrypt",
            ReqAct::GenerateDataKey => "kms:GenerateDataKey",
            ReqAct::CreateGrant => "kms:CreateGrant",
            ReqAct::PutKeyPolicy => "kms:PutKeyPolicy",
            ReqAct::ReEncryptFrom => "kms:ReEncryptFrom",
            ReqAct::DescribeKey => "kms:DescribeKey",
            ReqAct::RetireGrant => "kms:RetireGrant",
        }
    }
}

/// A resource element.
#[derive(Arbitrary, Clone, Debug)]
pub enum Res {
    /// `*`.
    Star,
    /// The key.
    Key,
    /// Another key.
    OtherKey,
    /// `arn:aws:kms:*:111122223333:key/*`.
    Pattern,
    /// A pattern with a policy variable.
    Variable,
    /// Anything.
    Raw(Raw),
}

impl Res {
    fn text(&self) -> String {
        match self {
            Res::Star => "*".into(),
            Res::Key => KEY.into(),
            Res::OtherKey => OTHER_KEY.into(),
            Res::Pattern => "arn:aws:kms:*:111122223333:key/*".into(),
            Res::Variable => "arn:aws:kms:*:${aws:PrincipalAccount}:key/*".into(),
            Res::Raw(r) => r.0.clone(),
        }
    }
}

/// A condition operator.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// A known operator, by index into [`OPERATORS`].
    Known(u8),
    /// `ForAnyValue:`/`ForAllValues:` and a known operator.
    Set(bool, u8),
    /// A known operator with `IfExists`.
    IfExists(u8),
    /// Anything.
    Raw(Raw),
}

/// The operators of the generator.
pub const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "ArnEquals",
    "ArnLike",
    "ArnNotLike",
    "Null",
    "Bool",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "DateGreaterThan",
    "DateLessThan",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
];

impl Op {
    fn text(&self) -> String {
        let known = |i: u8| OPERATORS[usize::from(i) % OPERATORS.len()];
        match self {
            Op::Known(i) => known(*i).into(),
            Op::Set(any, i) => format!("{}:{}", if *any { "ForAnyValue" } else { "ForAllValues" }, known(*i)),
            Op::IfExists(i) => format!("{}IfExists", known(*i)),
            Op::Raw(r) => r.0.clone(),
        }
    }
}

/// Condition keys (and request context keys).
pub const KEYS: &[&str] = &[
    "kms:EncryptionContext:app",
    "kms:EncryptionContext:App",
    "kms:EncryptionContextKeys",
    "kms:ViaService",
    "kms:CallerAccount",
    "aws:SourceVpce",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalTag/team",
    "aws:ResourceTag/team",
    "kms:GrantIsForAWSResource",
    "kms:RequestAlias",
    "kms:EncryptionAlgorithm",
    "kms:GrantOperations",
    "aws:userid",
    "aws:ViaAWSService",
];

/// A condition key.
#[derive(Arbitrary, Clone, Debug)]
pub enum CKey {
    /// A known key, by index into [`KEYS`].
    Known(u8),
    /// Anything.
    Raw(Raw),
}

impl CKey {
    fn text(&self) -> String {
        match self {
            CKey::Known(i) => KEYS[usize::from(*i) % KEYS.len()].into(),
            CKey::Raw(r) => r.0.clone(),
        }
    }
}

/// Condition and context values.
pub const VALUES: &[&str] = &[
    "a",
    "b",
    "A",
    "*",
    "a*",
    "?",
    "*?*?*",
    "${aws:username}",
    "${aws:PrincipalAccount}",
    "${*}",
    "vpce-1",
    "s3.us-east-1.amazonaws.com",
    "s3.*",
    "111122223333",
    "444455556666",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:iam::*:user/alice",
    "arn:aws:iam::444455556666:root",
    "o-a1b2c3d4e5",
    "10.0.0.0/8",
    "10.1.2.3",
    "2001:db8::/32",
    "2020-01-01T00:00:00Z",
    "1577836800",
    "true",
    "false",
    "1",
    "-0.5",
    "",
];

/// A condition value.
#[derive(Arbitrary, Clone, Debug)]
pub enum Val {
    /// A known value, by index into [`VALUES`].
    Known(u8),
    /// A number.
    Num(i32),
    /// A boolean.
    Bool(bool),
    /// Anything.
    Raw(Raw),
}

impl Val {
    fn json(&self) -> Value {
        match self {
            Val::Known(i) => json!(VALUES[usize::from(*i) % VALUES.len()]),
            Val::Num(n) => json!(n),
            Val::Bool(b) => json!(b),
            Val::Raw(r) => json!(r.0),
        }
    }

    /// The value as request-context text.
    #[must_use]
    pub fn text(&self) -> String {
        match self.json() {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

/// One condition entry.
#[derive(Arbitrary, Clone, Debug)]
pub struct Cond {
    op: Op,
    key: CKey,
    values: Vec<Val>,
}

/// A policy statement.
#[derive(Arbitrary, Clone, Debug)]
pub struct Stmt {
    deny: bool,
    sid: Option<u8>,
    principal: Option<Princ>,
    not_principal: bool,
    actions: Vec<Act>,
    not_action: bool,
    resources: Vec<Res>,
    not_resource: bool,
    conditions: Vec<Cond>,
}

impl Stmt {
    fn json(&self, resource_policy: bool) -> Value {
        let mut st = Map::new();
        if let Some(n) = self.sid {
            st.insert("Sid".into(), json!(format!("S{n}")));
        }
        st.insert("Effect".into(), json!(if self.deny { "Deny" } else { "Allow" }));
        if resource_policy {
            let p = self.principal.as_ref().map_or(json!("*"), Princ::json);
            let negate = self.not_principal && self.deny;
            st.insert(if negate { "NotPrincipal" } else { "Principal" }.into(), p);
        }
        let actions: Vec<String> = at_most(&self.actions, 3).iter().map(Act::text).collect();
        let actions = match actions.as_slice() {
            [] => json!("kms:*"),
            [one] => json!(one),
            _ => json!(actions),
        };
        st.insert(if self.not_action { "NotAction" } else { "Action" }.into(), actions);
        let resources: Vec<String> = at_most(&self.resources, 2).iter().map(Res::text).collect();
        let resources = match resources.as_slice() {
            [] => json!("*"),
            [one] => json!(one),
            _ => json!(resources),
        };
        st.insert(if self.not_resource { "NotResource" } else { "Resource" }.into(), resources);
        let mut block: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for c in at_most(&self.conditions, 2) {
            let values: Vec<Value> = at_most(&c.values, 3).iter().map(Val::json).collect();
            let value = match values.as_slice() {
                [] => json!("a"),
                [one] => one.clone(),
                _ => json!(values),
            };
            block.entry(c.op.text()).or_default().insert(c.key.text(), value);
        }
        if !block.is_empty() {
            let m: Map<String, Value> = block.into_iter().map(|(k, v)| (k, Value::Object(v))).collect();
            st.insert("Condition".into(), Value::Object(m));
        }
        Value::Object(st)
    }
}

fn policy(statements: &[Stmt], resource_policy: bool, max: usize) -> Value {
    let sts: Vec<Value> = at_most(statements, max).iter().map(|s| s.json(resource_policy)).collect();
    json!({"Version": "2012-10-17", "Statement": sts})
}

/// Who a role trusts.
#[derive(Arbitrary, Clone, Debug)]
pub enum Trust {
    /// `ec2.amazonaws.com` only.
    Ec2,
    /// An account (delegation to its IAM).
    Account(Acct),
    /// One principal.
    Principal(Acct, Iam),
    /// Anyone.
    Star,
}

/// A grant on the key.
#[derive(Arbitrary, Clone, Debug)]
pub struct GrantSpec {
    grantee: Princ,
    operations: Vec<ReqAct>,
    constraint: Option<(bool, bool, Val)>,
}

/// An organization: members, and SCP/RCP statements attached at the root.
#[derive(Arbitrary, Clone, Debug)]
pub struct OrgSpec {
    other_is_member: bool,
    full_access: bool,
    scp: Vec<Stmt>,
    rcp: Vec<Stmt>,
}

/// A small world.
#[derive(Arbitrary, Clone, Debug)]
pub struct WorldSpec {
    key_policy: Vec<Stmt>,
    /// Identity statements per principal, in `ACCOUNTS × Iam::ALL` order.
    identity: [Vec<Stmt>; 6],
    trust: [Trust; 4],
    grants: Option<Vec<GrantSpec>>,
    org: Option<OrgSpec>,
}

impl WorldSpec {
    /// The documents (name → text) and load options.
    #[must_use]
    pub fn documents(&self) -> (Vec<(String, String)>, LoadOptions) {
        let mut docs: Vec<(String, Value)> = vec![("key-policy.json".into(), policy(&self.key_policy, true, 4))];
        let mut roles_seen = 0usize;
        for (ai, account) in ACCOUNTS.iter().enumerate() {
            let (mut users, mut roles) = (Vec::new(), Vec::new());
            for (pi, p) in Iam::ALL.iter().enumerate() {
                let sts = self.identity.get(ai * 3 + pi).map_or(&[][..], |v| at_most(v, 2));
                let inline = if sts.is_empty() {
                    vec![]
                } else {
                    vec![json!({"PolicyName": "p0", "PolicyDocument": policy(sts, false, 2)})]
                };
                let name = match p {
                    Iam::Alice => "alice",
                    Iam::Admin => "admin",
                    Iam::App => "app",
                };
                let id = format!("{}{}{ai}XXXXXXXXXXXXXX", if matches!(p, Iam::Alice) { "AIDA" } else { "AROA" }, name)
                    .to_uppercase();
                if matches!(p, Iam::Alice) {
                    users.push(json!({
                        "Path": "/", "UserName": name, "UserId": id, "Arn": p.arn(account),
                        "UserPolicyList": inline, "GroupList": [], "AttachedManagedPolicies": [], "Tags": []
                    }));
                } else {
                    let trust = &self.trust[roles_seen % self.trust.len()];
                    roles_seen += 1;
                    let principal = match trust {
                        Trust::Ec2 => json!({"Service": "ec2.amazonaws.com"}),
                        Trust::Account(a) => json!({"AWS": format!("arn:aws:iam::{}:root", a.id())}),
                        Trust::Principal(a, q) => json!({"AWS": q.arn(a.id())}),
                        Trust::Star => json!("*"),
                    };
                    let path = if matches!(p, Iam::App) { "/svc/" } else { "/" };
                    roles.push(json!({
                        "Path": path, "RoleName": name, "RoleId": id, "Arn": p.arn(account),
                        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]},
                        "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": []
                    }));
                }
            }
            docs.push((
                format!("iam-{account}.json"),
                json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}),
            ));
        }
        if let Some(grants) = &self.grants {
            let list: Vec<Value> = at_most(grants, 2)
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let grantee = match g.grantee.json() {
                        Value::Object(m) => m.values().next().cloned().unwrap_or(json!("*")),
                        other => other,
                    };
                    let grantee = match grantee {
                        Value::Array(a) => a.first().cloned().unwrap_or(json!("*")),
                        other => other,
                    };
                    let ops: Vec<&str> =
                        at_most(&g.operations, 3).iter().map(|o| o.text().trim_start_matches("kms:")).collect();
                    let mut v = json!({
                        "KeyId": KEY, "GrantId": format!("g{i}"), "Name": "", "GranteePrincipal": grantee,
                        "IssuingAccount": format!("arn:aws:iam::{OWNER}:root"),
                        "Operations": if ops.is_empty() { vec!["Decrypt"] } else { ops },
                    });
                    if let Some((equals, upper, value)) = &g.constraint {
                        let pair = json!({ if *upper { "App" } else { "app" }: value.text() });
                        let kind = if *equals { "EncryptionContextEquals" } else { "EncryptionContextSubset" };
                        v["Constraints"] = json!({ kind: pair });
                    }
                    v
                })
                .collect();
            docs.push(("grants.json".into(), json!({"Grants": list})));
        }
        let mut opts = LoadOptions { key_arn: Some(KEY.into()), ..LoadOptions::default() };
        if let Some(org) = &self.org {
            let mut members = vec![OWNER];
            if org.other_is_member {
                members.push(OTHER);
            }
            docs.push(("org.json".into(), org_document(org, &members)));
            opts.org_id = Some(ORG_ID.into());
            opts.org_accounts = members.iter().map(|m| (*m).to_string()).collect();
        }
        let texts = docs
            .into_iter()
            .map(|(name, v)| (format!("fuzz/{name}"), serde_json::to_string_pretty(&v).unwrap_or_default()))
            .collect();
        (texts, opts)
    }

    /// Loads the world.
    #[must_use]
    pub fn world(&self) -> World {
        let (texts, opts) = self.documents();
        load_texts(&texts, &opts)
    }
}

/// The organization bundle (the `aws organizations` outputs keyed by command, as in
/// `tests/who_can_enumeration.rs`): SCPs and RCPs at the root, members under the root.
fn org_document(org: &OrgSpec, members: &[&str]) -> Value {
    const ROOT: &str = "r-ab12";
    const SCP: &str = "SERVICE_CONTROL_POLICY";
    const RCP: &str = "RESOURCE_CONTROL_POLICY";
    let mut doc = Map::new();
    doc.insert("describe-organization".into(), json!({"Organization": {"Id": ORG_ID, "MasterAccountId": MANAGEMENT}}));
    doc.insert(
        "list-roots".into(),
        json!({"Roots": [{"Id": ROOT, "PolicyTypes": [{"Type": SCP, "Status": "ENABLED"}, {"Type": RCP, "Status": "ENABLED"}]}]}),
    );
    for m in members {
        doc.insert(format!("list-parents --child-id {m}"), json!({"Parents": [{"Id": ROOT, "Type": "ROOT"}]}));
    }
    let mut describe = |id: &str, kind: &str, content: Value| {
        let managed = id.ends_with("FullAWSAccess");
        doc.insert(
            format!("describe-policy --policy-id {id}"),
            json!({"Policy": {"PolicySummary": {"Id": id, "Name": id, "Type": kind, "AwsManaged": managed},
                              "Content": content.to_string()}}),
        );
        json!({"Id": id, "Type": kind, "AwsManaged": managed})
    };
    let mut scps = Vec::new();
    if org.full_access {
        scps.push(describe(
            "p-FullAWSAccess",
            SCP,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ));
    }
    if !org.scp.is_empty() {
        scps.push(describe("p-scp", SCP, policy(&org.scp, false, 2)));
    }
    let mut rcps = vec![describe(
        "p-RCPFullAWSAccess",
        RCP,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
    )];
    if !org.rcp.is_empty() {
        rcps.push(describe("p-rcp", RCP, policy(&org.rcp, true, 2)));
    }
    let targets: Vec<String> = std::iter::once(ROOT.to_string()).chain(members.iter().map(|m| m.to_string())).collect();
    for (i, target) in targets.iter().enumerate() {
        let (s, r) = if i == 0 { (scps.clone(), rcps.clone()) } else { (scps.clone(), vec![rcps[0].clone()]) };
        doc.insert(format!("list-policies-for-target --target-id {target} --filter {SCP}"), json!({"Policies": s}));
        doc.insert(format!("list-policies-for-target --target-id {target} --filter {RCP}"), json!({"Policies": r}));
    }
    Value::Object(doc)
}

/// Who makes a request.
#[derive(Arbitrary, Clone, Debug)]
pub enum Who {
    /// An IAM principal of one of the two accounts.
    Iam(Acct, Iam),
    /// A root user.
    Root(Acct),
    /// A role of an account outside the world (its IAM assumed to allow).
    Outsider,
    /// A service principal.
    Service,
    /// A federated user.
    Federated(Acct),
}

impl Who {
    /// The caller and whether its identity policies are assumed to allow.
    #[must_use]
    pub fn caller(&self) -> (Caller, bool) {
        match self {
            Who::Iam(a, p) => (p.caller(a.id()), false),
            Who::Root(a) => (Caller::Root { account: a.id().into() }, false),
            Who::Outsider => (
                Caller::AssumedRole {
                    account: "000000000000".into(),
                    path: "/".into(),
                    role: "x".into(),
                    session: DEFAULT_SESSION.into(),
                },
                true,
            ),
            Who::Service => (Caller::Service("s3.amazonaws.com".into()), false),
            Who::Federated(a) => (Caller::FederatedUser { account: a.id().into(), name: "fed".into() }, false),
        }
    }
}

/// A request.
#[derive(Arbitrary, Clone, Debug)]
pub struct ReqSpec {
    /// The caller.
    pub who: Who,
    /// The action.
    pub action: ReqAct,
    /// A raw action instead, sometimes.
    pub raw_action: Option<Raw>,
    /// Context keys.
    pub context: Vec<(CKey, Val)>,
    /// A multi-valued context key.
    pub multi: Option<(CKey, Vec<Val>)>,
    /// Encryption-context pairs.
    pub ec: Vec<(Val, Val)>,
    /// The alias the key is named by.
    pub alias: Option<Raw>,
    /// Grant tokens.
    pub grant_tokens: Vec<Raw>,
}

impl ReqSpec {
    /// The evaluator request for the key at `key`.
    #[must_use]
    pub fn request(&self, key: usize) -> Request {
        let (caller, assume) = self.who.caller();
        let mut ctx = Context::new();
        for (k, v) in at_most(&self.context, 4) {
            ctx.set(&k.text(), CtxValue::Single(v.text()));
        }
        if let Some((k, vs)) = &self.multi {
            ctx.set(&k.text(), CtxValue::Multi(at_most(vs, 3).iter().map(Val::text).collect()));
        }
        let ec: BTreeMap<String, String> = at_most(&self.ec, 3).iter().map(|(k, v)| (k.text(), v.text())).collect();
        if !ec.is_empty() {
            ctx.set_encryption_context(ec);
        }
        let action = self.raw_action.as_ref().map_or_else(|| self.action.text().to_string(), |r| r.0.clone());
        let mut req = request(caller, &action, key, ctx);
        req.assume_identity_allows = assume;
        req.via_alias = self.alias.as_ref().map(|a| format!("alias/{}", a.0));
        req.grant_tokens = at_most(&self.grant_tokens, 2).iter().map(|t| t.0.clone()).collect();
        req
    }
}

/// A request with no alias, grant token or grant id.
#[must_use]
pub fn request(caller: Caller, action: &str, key: usize, context: Context) -> Request {
    Request {
        caller,
        action: action.to_string(),
        key,
        context,
        via_alias: None,
        grant_tokens: Vec::new(),
        grant_id: None,
        assume_identity_allows: false,
    }
}

/// Runs rayon work on one thread: the fuzzer is single-threaded and counts executions.
pub fn one_thread() {
    let _ = rayon::ThreadPoolBuilder::new().num_threads(1).build_global();
}
