use std::collections::{BTreeMap, BTreeSet};

use super::rule::{declare_rule, Rule, RuleContext};
use crate::catalog::{catalog, ActionCategory, ResourceKind};
use crate::eval::authorize::{authorize, statement_applies, Decision, ReasonSource, StatementQuery};
use crate::eval::context::Context;
use crate::eval::context::CtxValue;
use crate::eval::principal::{match_principals, Caller, PrincipalMatch};
use crate::policy::model::{Effect, PolicyId, Statement};
use crate::report::finding::Finding;
use crate::solve::{self, Candidate, Entry, PrincipalKind, Witness, OUTSIDE_ACCOUNT};
use crate::world::{Key, PolicySlot};

declare_rule! {
    /// ## What it does
    /// Flags a key-policy statement that lets principals of any AWS account call a KMS action
    /// on the key: `"Principal": "*"` (or `NotPrincipal`) with no condition that pins the caller
    /// to named accounts, organizations, principals, source resources or VPC endpoints.
    ///
    /// The rule asks the solver whether the abstract principal of an account outside the
    /// inputs (the `*` entry of `keyproof who-can`) is allowed each cross-account KMS action
    /// when the context keys that identify the caller carry an outsider's values
    /// (`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceAccount`, `aws:SourceArn`,
    /// `aws:SourceVpce`, …; `aws:PrincipalAccount`, `kms:CallerAccount` and `aws:PrincipalArn`
    /// always carry the outsider's own values). Conditions such as `kms:ViaService` or
    /// `kms:EncryptionContext:*` alone do not restrict who the caller is, so a statement guarded
    /// only by them is public. Named foreign accounts are `KP105`, not this rule.
    ///
    /// ## Why is this bad?
    /// Anyone with an AWS account can then use the key as far as the statement allows: decrypt
    /// data encrypted under it, encrypt with it, or create grants. The key policy is the only
    /// thing standing between the key and the internet, so the exposure is complete.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "DecryptThroughS3",
    ///       "Effect": "Allow",
    ///       "Principal": "*",
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "kms:ViaService": "s3.us-east-1.amazonaws.com" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "DecryptThroughS3",
    ///       "Effect": "Allow",
    ///       "Principal": "*",
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": {
    ///         "StringEquals": {
    ///           "kms:ViaService": "s3.us-east-1.amazonaws.com",
    ///           "kms:CallerAccount": "111122223333"
    ///         }
    ///       }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// A statement pinned to a VPC endpoint (`aws:SourceVpce`, `aws:SourceVpc`) or to the
    /// endpoint's account or organization (`aws:VpceAccount`, `aws:VpceOrgID`) is not reported:
    /// only principals that can reach that endpoint can use it, and the endpoint's own policy
    /// decides who they are. Network conditions such as `aws:SourceIp` and tags the caller
    /// can set itself (`aws:PrincipalTag/*`) do not pin the caller and are reported.
    ///
    /// ## References
    /// - [Key policies in AWS KMS: allowing everyone](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
    /// - [AWS KMS condition keys: kms:CallerAccount and kms:ViaService](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)
    /// - [AWS global condition keys: aws:PrincipalOrgID](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid)
    /// - [Security best practices for AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/best-practices.html)
    pub PublicKeyAccess {
        id: "KP104",
        name: "public-key-access",
        category: Exposure,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for PublicKeyAccess {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            if key_policy(cx, key).is_none() {
                continue;
            }
            let Some(anyone) =
                solve::universe_of(cx.world, ki, &[]).into_iter().find(|c| c.kind == PrincipalKind::Public)
            else {
                continue;
            };
            // statement → (actions, witness of the first action)
            let mut by_statement: BTreeMap<(PolicyId, usize), (Vec<String>, Witness)> = BTreeMap::new();
            for action in public_actions(key) {
                let Some(e) = outsider_entry(cx, ki, action, &anyone, IDENTITY_KEYS) else { continue };
                let Some(Via::KeyPolicy { policy, statement, .. }) = via(cx, ki, &anyone.caller, &e.witness) else {
                    continue;
                };
                by_statement
                    .entry((policy, statement.index))
                    .or_insert_with(|| (Vec::new(), e.witness.clone()))
                    .0
                    .push(action.to_string());
            }
            for ((pid, index), (actions, witness)) in by_statement {
                let Some(st) = statement_of(cx, pid, index) else { continue };
                let message = format!(
                    "statement `{}` lets principals of any AWS account call {} on `{}`",
                    st.label(),
                    action_list(&actions),
                    key.arn
                );
                out.push(
                    statement_finding(cx, self, pid, st, message)
                        .with_resource(Some(key.arn.clone()))
                        .with_witness(witness_json(&witness))
                        .with_help(
                            "pin the caller with `aws:PrincipalOrgID`, `aws:PrincipalAccount` or `kms:CallerAccount`, or name the principals",
                        ),
                );
            }
        }
    }
}

/// The KMS actions an outsider could call on the key: cross-account actions on a key, the
/// cryptographic ones only when the key's usage supports them; the key's cryptographic
/// actions first.
fn public_actions(key: &Key) -> Vec<&'static str> {
    let usage = usage_actions(key);
    let mut out: Vec<&'static str> = usage.to_vec();
    for a in catalog().kms_actions() {
        if a.resource == ResourceKind::None || !a.cross_account || a.internal || a.category == ActionCategory::Crypto {
            continue;
        }
        if !out.contains(&a.name.as_str()) {
            out.push(a.name.as_str());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the who-can based rules of this pack (KP101–KP111). They only ask the
// evaluator and the solver; they never decide a statement themselves.
// ---------------------------------------------------------------------------------------------

/// Context keys that identify the caller (or the resource or endpoint a service or network
/// path acts for) and that the world does not imply for an outsider, with an outsider's value:
/// `Some` = a value no policy of the inputs names, `None` = the key is absent.
pub(super) type OutsiderKeys = &'static [(&'static str, OutsiderValue)];

/// An outsider's value of a context key.
#[derive(Clone, Copy, Debug)]
pub(super) enum OutsiderValue {
    /// A single value.
    Single(&'static str),
    /// A multi-valued key.
    Multi(&'static str),
    /// A source ARN in the outsider account (built per action).
    SourceArn,
}

/// The keys that pin who the caller is (KP104).
pub(super) const IDENTITY_KEYS: OutsiderKeys = &[
    ("aws:PrincipalOrgID", OutsiderValue::Single("o-keyproofother")),
    ("aws:PrincipalOrgPaths", OutsiderValue::Multi("o-keyproofother/r-keyproof/")),
    ("aws:SourceAccount", OutsiderValue::Single(OUTSIDE_ACCOUNT)),
    ("aws:SourceOwner", OutsiderValue::Single(OUTSIDE_ACCOUNT)),
    ("aws:SourceArn", OutsiderValue::SourceArn),
    ("aws:SourceOrgID", OutsiderValue::Single("o-keyproofother")),
    ("aws:SourceOrgPaths", OutsiderValue::Multi("o-keyproofother/r-keyproof/")),
    ("aws:SourceVpce", OutsiderValue::Single("vpce-keyproofother")),
    ("aws:SourceVpc", OutsiderValue::Single("vpc-keyproofother")),
    ("aws:VpceAccount", OutsiderValue::Single(OUTSIDE_ACCOUNT)),
    ("aws:VpceOrgID", OutsiderValue::Single("o-keyproofother")),
    ("aws:VpceOrgPaths", OutsiderValue::Multi("o-keyproofother/r-keyproof/")),
    ("aws:userid", OutsiderValue::Single("AROAKEYPROOFOTHER:keyproof")),
    ("aws:username", OutsiderValue::Single("keyproof-other")),
];

/// The organization keys (KP105).
pub(super) const ORG_KEYS: OutsiderKeys = &[
    ("aws:PrincipalOrgID", OutsiderValue::Single("o-keyproofother")),
    ("aws:PrincipalOrgPaths", OutsiderValue::Multi("o-keyproofother/r-keyproof/")),
];

/// Is `cand` allowed `action` on the key when the given keys carry an outsider's values?
/// Tried twice: with the keys absent, and with each set to a value no policy names. Returns
/// the entry of the allowed request.
pub(super) fn outsider_entry(
    cx: &RuleContext<'_>,
    key: usize,
    action: &str,
    cand: &Candidate,
    keys: OutsiderKeys,
) -> Option<Entry> {
    solve::solve_principal(cx.world, key, action, cand)?;
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    if let Some(e) = solve::solve_principal_with(cx.world, key, action, cand, &BTreeMap::new(), &names) {
        return Some(e);
    }
    let region = cx.world.keys.get(key).map_or("us-east-1", |k| k.region.as_str());
    let fixed: BTreeMap<String, CtxValue> = keys
        .iter()
        .map(|(k, v)| {
            let value = match v {
                OutsiderValue::Single(s) => CtxValue::Single((*s).to_string()),
                OutsiderValue::Multi(s) => CtxValue::Multi(vec![(*s).to_string()]),
                OutsiderValue::SourceArn => {
                    CtxValue::Single(format!("arn:aws:{}:{region}:{OUTSIDE_ACCOUNT}:keyproof-other", service_of(cand)))
                }
            };
            ((*k).to_string(), value)
        })
        .collect();
    solve::solve_principal_with(cx.world, key, action, cand, &fixed, &[])
}

/// Per key-policy statement that names its principals (not everyone): the names `subject`
/// gives the direct who-can entries it accepts that stay allowed with an outsider's `keys`, the
/// actions, and the first such witness.
pub(super) type OutsiderStatements = BTreeMap<(PolicyId, usize), (BTreeSet<String>, Vec<String>, Witness)>;

/// Collects [`OutsiderStatements`] of a key over `actions`: the entries `subject` names, whose
/// users, roles and root users are of the accounts `subject_accounts` admits.
pub(super) fn outsider_statements<'a>(
    cx: &RuleContext<'_>,
    key: usize,
    actions: impl IntoIterator<Item = &'a str>,
    keys: OutsiderKeys,
    subject: &(dyn Fn(&Candidate) -> Option<String> + Sync),
    subject_accounts: &(dyn Fn(&str) -> bool + Sync),
) -> OutsiderStatements {
    let mut by_statement = OutsiderStatements::new();
    let keep = |c: &Candidate| subject(c).is_some();
    let among = crate::solve::Among { keep: &keep, accounts: Some(subject_accounts) };
    for action in actions {
        // Only the subjects are solved (or picked from a direct answer already known).
        let answer = cx.who_can_among(key, action, among);
        for entry in &answer.principals {
            let cand = entry.candidate();
            let Some(name) = subject(&cand) else { continue };
            let Some(e) = outsider_entry(cx, key, action, &cand, keys) else { continue };
            let Some(Via::KeyPolicy { policy, statement, .. }) = via(cx, key, &cand.caller, &e.witness) else {
                continue;
            };
            // A statement that names everyone is public access, KP104's finding.
            if names_everyone(cx, statement) {
                continue;
            }
            let found = by_statement
                .entry((policy, statement.index))
                .or_insert_with(|| (BTreeSet::new(), Vec::new(), e.witness.clone()));
            found.0.insert(name);
            if !found.1.iter().any(|a| a == action) {
                found.1.push(action.to_string());
            }
        }
    }
    by_statement
}

/// The service name a source ARN of the candidate would carry (`cloudtrail` for
/// `cloudtrail.amazonaws.com`), `keyproof` for principals that are not services.
fn service_of(cand: &Candidate) -> &str {
    match &cand.caller {
        Caller::Service(s) => s.split('.').next().unwrap_or("keyproof"),
        _ => "keyproof",
    }
}

/// How an allowed request got through.
pub(super) enum Via<'w> {
    /// A key-policy statement (with or without the caller's IAM).
    KeyPolicy {
        /// The key policy.
        policy: PolicyId,
        /// The statement.
        statement: &'w Statement,
        /// How the statement's principal element matched the caller.
        grade: PrincipalMatch,
        /// The statement names the caller's own account only, the key's account: delegation
        /// to IAM (the "Enable IAM policies" statement).
        delegation: bool,
    },
    /// A grant.
    Grant,
}

/// Replays a witness through the evaluator and tells which key-policy statement (or grant)
/// allowed it; `None` when the evaluator does not allow it.
pub(super) fn via<'w>(cx: &RuleContext<'w>, key: usize, caller: &Caller, witness: &Witness) -> Option<Via<'w>> {
    let k = cx.world.keys.get(key)?;
    let resp = authorize(cx.world, &witness.request(cx.world, key, caller));
    if resp.decision != Decision::Allow {
        return None;
    }
    if let Some(r) = resp.reasons.iter().find(|r| r.source == ReasonSource::KeyPolicy && r.effect == Effect::Allow) {
        let policy = r.policy?;
        let statement = statement_of(cx, policy, r.index?)?;
        let grade =
            statement.principal.as_ref().map_or(PrincipalMatch::None, |p| match_principals(p, caller, cx.world));
        let delegation = grade == PrincipalMatch::Account && caller.account() == Some(k.account.as_str());
        return Some(Via::KeyPolicy { policy, statement, grade, delegation });
    }
    resp.reasons.iter().any(|r| r.source == ReasonSource::Grant).then_some(Via::Grant)
}

/// The key-policy statement through which principals of any account may call `action` (the
/// abstract outsider of [`IDENTITY_KEYS`]), if any: such access is `KP104`'s.
pub(super) fn public_statement(cx: &RuleContext<'_>, key: usize, action: &str) -> Option<(PolicyId, usize)> {
    let anyone = solve::universe_of(cx.world, key, &[]).into_iter().find(|c| c.kind == PrincipalKind::Public)?;
    let e = outsider_entry(cx, key, action, &anyone, IDENTITY_KEYS)?;
    match via(cx, key, &anyone.caller, &e.witness)? {
        Via::KeyPolicy { policy, statement, .. } => Some((policy, statement.index)),
        Via::Grant => None,
    }
}

/// True when the statement's principal element covers the abstract outsider (`"*"`,
/// `NotPrincipal`): it names no specific principal.
pub(super) fn names_everyone(cx: &RuleContext<'_>, statement: &Statement) -> bool {
    let anyone = Caller::AssumedRole {
        account: OUTSIDE_ACCOUNT.into(),
        path: "/".into(),
        role: "keyproof-anyone".into(),
        session: crate::eval::principal::DEFAULT_SESSION.into(),
    };
    statement.principal.as_ref().is_some_and(|p| match_principals(p, &anyone, cx.world) != PrincipalMatch::None)
}

/// The principal elements of the key policy's `Allow` statements that cover one of `actions`
/// and that `keep` keeps.
pub(super) fn allow_elements<'w>(
    cx: &RuleContext<'w>,
    key: &Key,
    actions: &[&str],
    keep: impl Fn(&Statement) -> bool,
) -> Vec<&'w crate::policy::model::Principals> {
    let world: &'w crate::world::World = cx.world;
    let statements = key_policy(cx, key).and_then(|pid| world.policy(pid)).map(|e| e.policy.statements.iter());
    statements
        .into_iter()
        .flatten()
        .filter(|st| st.effect == Effect::Allow && !st.broken)
        .filter(|st| actions.iter().any(|a| crate::eval::authorize::action_applies(st, a)) && keep(st))
        .filter_map(|st| st.principal.as_ref())
        .collect()
}

/// Does one of `elements` name the caller itself (`Direct` or `DirectLimited`: not through
/// its account)?
fn names_directly(cx: &RuleContext<'_>, elements: &[&crate::policy::model::Principals], caller: &Caller) -> bool {
    elements.iter().any(|p| {
        matches!(match_principals(p, caller, cx.world), PrincipalMatch::Direct | PrincipalMatch::DirectLimited)
    })
}

/// Calls `f` with the question about the principals one of `elements` names itself
/// ([`names_directly`]) and `also` keeps; its account hint is the accounts the elements name
/// (none when one names `*` or uses `NotPrincipal`).
pub(super) fn among_named<R>(
    cx: &RuleContext<'_>,
    elements: &[&crate::policy::model::Principals],
    also: impl Fn(&Candidate) -> bool + Sync,
    f: impl FnOnce(solve::Among<'_>) -> R,
) -> R {
    let named: Option<BTreeSet<&str>> = elements.iter().try_fold(BTreeSet::new(), |mut all, p| {
        all.extend(p.named_accounts()?);
        Some(all)
    });
    let keep = |c: &Candidate| also(c) && names_directly(cx, elements, &c.caller);
    let in_named = |a: &str| named.as_ref().is_some_and(|n| n.contains(a));
    f(solve::Among { keep: &keep, accounts: named.is_some().then_some(&in_named) })
}

/// True when the key's account is not in the inputs and was assumed while reading a loose
/// key policy (the reader records it among the world's assumptions).
pub(super) fn key_account_assumed(cx: &RuleContext<'_>, key: &Key) -> bool {
    let Some(name) = key.origin.source.and_then(|s| cx.world.sources.get(s)).map(|s| s.name.clone()) else {
        return false;
    };
    let prefix = format!("the account of `{name}` is not known");
    cx.world.assumptions.iter().any(|a| a.starts_with(&prefix))
}

/// The other accounts that may own the key: when the key's account was assumed, the accounts
/// the policy names as account principals (any of them may be the real owner); otherwise none.
pub(super) fn other_possible_owners(cx: &RuleContext<'_>, key: &Key, pid: PolicyId) -> Vec<String> {
    if !key_account_assumed(cx, key) {
        return Vec::new();
    }
    let mut out: Vec<String> = cx
        .world
        .policy(pid)
        .into_iter()
        .flat_map(|e| e.policy.statements.iter())
        .flat_map(|s| s.principal.iter())
        .flat_map(|p| p.entries.iter())
        .filter_map(|e| match &e.principal {
            crate::policy::model::PrincipalRef::Account(a) if *a != key.account => Some(a.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// True when the policy lets the IAM of `account` manage it: an `Allow` statement applies to
/// the account's root user for `kms:PutKeyPolicy` as an account-level match (conditions aside).
pub(super) fn delegates_policy_management(cx: &RuleContext<'_>, key: &Key, pid: PolicyId, account: &str) -> bool {
    let Some(e) = cx.world.policy(pid) else { return false };
    let root = Caller::Root { account: account.to_string() };
    let q = StatementQuery::new(&root, "kms:PutKeyPolicy", &key.arn, true);
    let vars = e.policy.variables_enabled();
    e.policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .any(|st| statement_applies(cx.world, st, &q, &Context::new(), vars, &|_| false) == PrincipalMatch::Account)
}

/// True when the key's account was assumed and the policy does not single it out as the owner
/// (the one account whose IAM may manage the policy).
pub(super) fn owner_uncertain(cx: &RuleContext<'_>, key: &Key, pid: PolicyId) -> bool {
    key_account_assumed(cx, key)
        && (!delegates_policy_management(cx, key, pid, &key.account)
            || other_possible_owners(cx, key, pid).iter().any(|a| delegates_policy_management(cx, key, pid, a)))
}

/// The remark added to messages whose judgement depends on the key's account when that
/// account was assumed and the policy does not confirm it.
pub(super) fn assumed_account_note(cx: &RuleContext<'_>, key: &Key, pid: PolicyId) -> String {
    if owner_uncertain(cx, key, pid) {
        format!(" (assuming the key is in account `{}`, which the inputs do not say)", key.account)
    } else {
        String::new()
    }
}

/// A statement of a policy by index.
pub(super) fn statement_of<'w>(cx: &RuleContext<'w>, policy: PolicyId, index: usize) -> Option<&'w Statement> {
    cx.world.policy(policy)?.policy.statements.iter().find(|s| s.index == index)
}

/// The key's policy when it was collected and is known.
pub(super) fn key_policy(cx: &RuleContext<'_>, key: &Key) -> Option<PolicyId> {
    match key.policy.as_ref()? {
        PolicySlot::Known(id) => cx.world.policy(*id).map(|_| *id),
        PolicySlot::Unknown(_) => None,
    }
}

/// A finding on a statement's `Principal` (or `NotPrincipal`) element, else the statement.
pub(super) fn statement_finding(
    cx: &RuleContext<'_>,
    rule: &dyn super::rule::RuleMeta,
    pid: PolicyId,
    st: &Statement,
    message: String,
) -> Finding {
    let source = cx.world.policy(pid).map(|e| e.policy.source);
    let (span, fallback) = match &st.principal {
        Some(p) => (p.span, format!("{}/{}", st.pointer, if p.negated { "NotPrincipal" } else { "Principal" })),
        None => (st.span, st.pointer.clone()),
    };
    let pointer = source.and_then(|s| cx.pointer_at(s, span)).unwrap_or(fallback);
    cx.finding(rule, pid, span, pointer, message)
}

/// The witness as JSON for a finding.
pub(super) fn witness_json(w: &Witness) -> serde_json::Value {
    serde_json::to_value(w).unwrap_or(serde_json::Value::Null)
}

/// `kms:Decrypt`, `kms:Encrypt` and 3 more, in backticks, in the given order.
pub(super) fn action_list(actions: &[String]) -> String {
    let mut v: Vec<&String> = Vec::new();
    for a in actions {
        if !v.contains(&a) {
            v.push(a);
        }
    }
    let more = v.len().saturating_sub(3);
    v.truncate(3);
    let list = v.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
    if more > 0 {
        format!("{list} and {more} more")
    } else {
        list
    }
}

/// Principals or accounts in backticks, at most five named.
pub(super) fn name_list<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let v: Vec<&String> = names.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    let more = v.len().saturating_sub(5);
    let list = v.iter().take(5).map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
    if more > 0 {
        format!("{list} and {more} more")
    } else {
        list
    }
}

/// The cryptographic actions that can be used with the key, from its usage (metadata not
/// collected: a symmetric encryption key, as the world assumes).
pub(super) fn usage_actions(key: &Key) -> &'static [&'static str] {
    match key.metadata.as_ref().map(|m| m.usage.as_str()) {
        Some("SIGN_VERIFY") => &["kms:Sign", "kms:Verify"],
        Some("GENERATE_VERIFY_MAC") => &["kms:GenerateMac", "kms:VerifyMac"],
        Some("KEY_AGREEMENT") => &["kms:DeriveSharedSecret"],
        Some("ENCRYPT_DECRYPT") if key.metadata.as_ref().is_some_and(|m| m.spec != "SYMMETRIC_DEFAULT") => {
            &["kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
        }
        _ => &[
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ],
    }
}

/// Why a whole-policy judgement (KP101, KP102) cannot be made on this key policy: the file is
/// a statement published on its own (the rest of the policy is not in the inputs), AWS would
/// reject the document (a malformed statement, `KP152`, or principal, `KP160`), or it holds
/// values unknown until deployment (`KP158`).
pub(super) fn undecidable_policy(cx: &RuleContext<'_>, pid: PolicyId) -> bool {
    let Some(e) = cx.world.policy(pid) else { return true };
    let p = &e.policy;
    let fragment = p.statements.len() == 1 && p.statements.first().is_some_and(|s| s.span == p.span);
    let rejected = p.statements.iter().any(|s| {
        s.broken
            || s.principal
                .iter()
                .flat_map(|pr| pr.entries.iter())
                .any(|e| matches!(e.principal, crate::policy::model::PrincipalRef::Invalid(_)))
    });
    fragment
        || rejected
        || cx.world.diagnostics.iter().any(|d| {
            d.code == "KP158" && d.source == p.source && d.span.start >= p.span.start && d.span.end <= p.span.end
        })
}
