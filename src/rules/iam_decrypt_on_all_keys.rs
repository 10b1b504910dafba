use std::collections::BTreeSet;

use super::rule::{declare_rule, Rule, RuleContext, RuleMeta};
use crate::eval::authorize::{implied_context, statement_applies, StatementQuery};
use crate::eval::context::Context;
use crate::eval::principal::{Caller, PrincipalMatch, DEFAULT_SESSION};
use crate::policy::model::{Condition, DocKind, Effect, PolicyId, Statement};
use crate::report::finding::{fingerprint, Finding};
use crate::world::{Key, KeyMetadata, PolicyEntry, PolicySlot, World};

declare_rule! {
    /// ## What it does
    /// Flags an identity policy statement that allows `kms:Decrypt` or `kms:ReEncryptFrom` on
    /// every key (`"Resource": "*"`, `arn:aws:kms:*:*:key/*`, or any pattern or `NotResource`
    /// that a key nobody named still matches) with no condition that narrows which keys or which
    /// uses it covers.
    ///
    /// The rule asks the evaluator whether the statement applies to a fresh key that no policy
    /// names, has no tags and no aliases, in two Regions of the policy's account. Conditions on
    /// the key (`aws:ResourceTag/…`, `kms:ResourceAliases`, `aws:ResourceAccount`, `kms:KeySpec`,
    /// `aws:RequestedRegion`…) and on how it is used (`kms:ViaService`, `aws:CalledVia`,
    /// `kms:RequestAlias`, `kms:EncryptionContext…`) are evaluated for that key; conditions on the
    /// caller or the network (`aws:PrincipalTag/…`, `aws:SourceIp`, MFA…) are taken as satisfied,
    /// since they do not narrow the keys. A `Deny` of the same document that covers the fresh
    /// key whatever the caller does cancels the finding.
    ///
    /// ## Why is this bad?
    /// Every key whose policy delegates to the account (the default key policy does) becomes
    /// readable by the holders of this policy, including keys created later for other teams and
    /// other data. Decryption rights should follow the data: name the keys, or use
    /// attribute-based access control with `aws:ResourceTag/…` or `kms:ResourceAliases`.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "ReadAnything",
    ///       "Effect": "Allow",
    ///       "Action": ["kms:Decrypt", "kms:DescribeKey"],
    ///       "Resource": "*"
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
    ///       "Sid": "ReadOrdersKeys",
    ///       "Effect": "Allow",
    ///       "Action": ["kms:Decrypt", "kms:DescribeKey"],
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "aws:ResourceTag/team": "orders" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only the statements of one document are combined; a `Deny` in another policy of the same
    /// principal, a permissions boundary or an SCP is not considered. Managed policies used only
    /// as permissions boundaries grant nothing and are not reported.
    ///
    /// ## References
    /// - [Best practices for IAM policies: avoid `"Resource": "*"` for decryption](https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies-best-practices.html)
    /// - [ABAC for AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/abac.html)
    /// - [Specifying KMS keys in IAM policy statements](https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html)
    pub IamDecryptOnAllKeys {
        id: "KP203",
        name: "iam-decrypt-on-all-keys",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for IamDecryptOnAllKeys {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        every_key_findings(
            self,
            cx,
            &["kms:Decrypt", "kms:ReEncryptFrom"],
            "its holders can decrypt data under every key whose policy delegates to the account",
            out,
        );
    }
}

/// Findings of KP203/KP204: identity statements that allow one of `actions` on every key.
pub(super) fn every_key_findings(
    rule: &dyn RuleMeta,
    cx: &RuleContext<'_>,
    actions: &[&str],
    consequence: &str,
    out: &mut Vec<Finding>,
) {
    let world = cx.world;
    let boundaries = boundary_only(world);
    for (pid, entry, st) in cx.statements() {
        if entry.kind != DocKind::Identity || st.effect != Effect::Allow || st.broken || boundaries.contains(&pid) {
            continue;
        }
        let own = entry.account.as_deref().unwrap_or(UNKNOWN_ACCOUNT);
        let caller = probe_caller(own);
        let allowed: Vec<&str> =
            actions.iter().copied().filter(|a| allows_every_key(world, entry, st, &caller, a, own)).collect();
        if allowed.is_empty() {
            continue;
        }
        let foreign = allowed.iter().all(|a| allows_every_key(world, entry, st, &caller, a, FOREIGN_ACCOUNT));
        let scope = match (&entry.account, foreign) {
            (Some(acct), false) => format!("every key of account `{acct}`"),
            _ => "every key".to_string(),
        };
        let message = format!(
            "statement `{}` of {} allows {} on {scope} with no condition narrowing the keys",
            st.label(),
            policy_label(cx, pid, entry),
            action_list(&allowed)
        );
        let (span, pointer) = match &st.resource {
            Some(r) => (r.span, cx.pointer_at(entry.policy.source, r.span).unwrap_or_else(|| st.pointer.clone())),
            None => (st.span, st.pointer.clone()),
        };
        out.push(
            cx.finding(rule, pid, span, pointer, message).with_help(format!(
                    "{consequence}: name the keys in `Resource`, or add a condition such as `aws:ResourceTag/<tag>` or `kms:ResourceAliases`"
                )),
        );
    }
}

/// Managed policies used only as permissions boundaries: they limit, they grant nothing.
fn boundary_only(world: &World) -> BTreeSet<PolicyId> {
    let attached: BTreeSet<&str> = world
        .users
        .iter()
        .flat_map(|u| &u.managed)
        .chain(world.roles.iter().flat_map(|r| &r.managed))
        .chain(world.groups.iter().flat_map(|g| &g.managed))
        .map(String::as_str)
        .collect();
    world
        .users
        .iter()
        .filter_map(|u| u.boundary.as_deref())
        .chain(world.roles.iter().filter_map(|r| r.boundary.as_deref()))
        .filter(|arn| !attached.contains(arn))
        .filter_map(|arn| match world.managed_policies.get(arn).map(|m| &m.policy) {
            Some(PolicySlot::Known(id)) => Some(*id),
            _ => None,
        })
        .collect()
}

/// Key id of the probe key: shaped like a key id, named by no policy.
pub(super) const PROBE_KEY_ID: &str = "0e0e0e0e-0000-4000-8000-6b657970726f";
/// Regions the probe key is placed in: a pattern that covers only some Regions is not "every key".
pub(super) const PROBE_REGIONS: &[&str] = &["us-east-1", "ap-southeast-2"];
/// Account of the probe when the policy's account is not known.
const UNKNOWN_ACCOUNT: &str = "999999999999";
/// An account no real policy names: a pattern that also covers it covers every account.
const FOREIGN_ACCOUNT: &str = crate::solve::OUTSIDE_ACCOUNT;

/// A key that exists nowhere: no policy names it, it has no tags and no aliases.
pub(super) fn probe_key(world: &World, account: &str, region: &str) -> Key {
    let partition = world.first_key_of(account).map_or("aws", |k| partition_of(&k.arn));
    Key {
        arn: format!("arn:{partition}:kms:{region}:{account}:key/{PROBE_KEY_ID}"),
        id: PROBE_KEY_ID.to_string(),
        account: account.to_string(),
        region: region.to_string(),
        policy: None,
        metadata: Some(KeyMetadata::default()),
        rotation: None,
        grants: Some(Vec::new()),
        tags: Some(std::collections::BTreeMap::new()),
        ..Key::default()
    }
}

fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

/// A caller of `account` that is not in the world (for documents attached to no one in particular).
pub(super) fn probe_caller(account: &str) -> Caller {
    Caller::AssumedRole {
        account: account.to_string(),
        path: "/".into(),
        role: "keyproof-policy-holder".into(),
        session: DEFAULT_SESSION.into(),
    }
}

/// Conditions whose truth depends on the key itself: its tags, aliases, account, organization,
/// Region and key properties. Evaluated against the key in question.
pub(super) fn describes_key(c: &Condition) -> bool {
    const PREFIXES: &[&str] = &["aws:resourcetag/", "aws:resourceaccount", "aws:resourceorg"];
    const KEYS: &[&str] = &[
        "aws:requestedregion",
        "kms:resourcealiases",
        "kms:keyspec",
        "kms:keyusage",
        "kms:customermasterkeyspec",
        "kms:customermasterkeyusage",
        "kms:keyorigin",
        "kms:multiregion",
        "kms:multiregionkeytype",
    ];
    PREFIXES.iter().any(|p| c.key_lc.starts_with(p)) || KEYS.contains(&c.key_lc.as_str())
}

/// Conditions that narrow how the key is used: through which service, under which alias, with
/// which encryption context, for grants of AWS resources.
pub(super) fn narrows_usage(c: &Condition) -> bool {
    const PREFIXES: &[&str] = &["kms:encryptioncontext", "aws:calledvia"];
    const KEYS: &[&str] = &["kms:viaservice", "aws:viaawsservice", "kms:requestalias", "kms:grantisforawsresource"];
    PREFIXES.iter().any(|p| c.key_lc.starts_with(p)) || KEYS.contains(&c.key_lc.as_str())
}

/// Does the identity statement apply to `action` on `key` for `caller`, evaluating only the
/// conditions `check` selects (the others are taken as satisfied)? Asks the evaluator.
pub(super) fn identity_applies(
    world: &World,
    st: &Statement,
    variables: bool,
    caller: &Caller,
    action: &str,
    key: &Key,
    check: &dyn Fn(&Condition) -> bool,
) -> bool {
    let mut ctx = Context::new();
    implied_context(world, key, caller, action, None, &mut ctx);
    identity_applies_in(world, st, variables, caller, action, &key.arn, &ctx, check)
}

/// [`identity_applies`] with the context the world implies for the caller and the key already
/// built (see [`key_context`]).
#[allow(clippy::too_many_arguments, reason = "the parts of one statement query")]
pub(super) fn identity_applies_in(
    world: &World,
    st: &Statement,
    variables: bool,
    caller: &Caller,
    action: &str,
    key_arn: &str,
    ctx: &Context,
    check: &dyn Fn(&Condition) -> bool,
) -> bool {
    let q = StatementQuery::new(caller, action, key_arn, false);
    statement_applies(world, st, &q, ctx, variables, check) != PrincipalMatch::None
}

/// The context the world implies for a caller and a key: the caller's and the key's keys (tags,
/// aliases, account, Region, key properties). The keys that depend on the action (the
/// encryption algorithm of cryptographic operations) are not among those [`describes_key`]
/// selects, so one context serves every action.
pub(super) fn key_context(world: &World, key: &Key, caller: &Caller) -> Context {
    let mut ctx = Context::new();
    implied_context(world, key, caller, "kms:DescribeKey", None, &mut ctx);
    ctx
}

/// Does the statement allow `action` on a fresh key of `account` in every probe Region, with the
/// key and usage conditions evaluated, and no `Deny` of the same document that the caller cannot
/// escape covering it?
fn allows_every_key(
    world: &World,
    entry: &PolicyEntry,
    st: &Statement,
    caller: &Caller,
    action: &str,
    account: &str,
) -> bool {
    let vars = entry.policy.variables_enabled();
    let narrows = |c: &Condition| describes_key(c) || narrows_usage(c);
    PROBE_REGIONS.iter().all(|region| {
        let key = probe_key(world, account, region);
        if !identity_applies(world, st, vars, caller, action, &key, &narrows) {
            return false;
        }
        // A Deny whose conditions all concern the key or its use, and that holds for the fresh
        // key, cancels the allow for every caller; one with a condition on the caller does not.
        !entry.policy.statements.iter().filter(|d| d.effect == Effect::Deny).any(|d| {
            d.conditions.iter().all(narrows) && identity_applies(world, d, vars, caller, action, &key, &|_| true)
        })
    })
}

/// `kms:Decrypt`, `` `kms:Decrypt` and `kms:ReEncryptFrom` ``, `` `a`, `b` and 3 more ``.
pub(super) fn action_list(actions: &[&str]) -> String {
    const SHOWN: usize = 3;
    let quoted: Vec<String> = actions.iter().take(SHOWN).map(|a| format!("`{a}`")).collect();
    match actions.len() {
        0 => String::new(),
        1 => quoted.join(""),
        n if n <= SHOWN => {
            let (last, rest) = quoted.split_last().map_or((String::new(), &[][..]), |(l, r)| (l.clone(), r));
            format!("{} and {last}", rest.join(", "))
        }
        n => format!("{} and {} more", quoted.join(", "), n - SHOWN),
    }
}

/// `identity policy `name`` for messages (with its holder when the policy is inline).
fn policy_label(cx: &RuleContext<'_>, pid: PolicyId, entry: &PolicyEntry) -> String {
    let holder = cx.resource_of(pid).filter(|h| *h != entry.name);
    match holder {
        Some(h) if !entry.name.starts_with("arn:") => format!("identity policy `{}` of `{h}`", entry.name),
        _ => format!("identity policy `{}`", entry.name),
    }
}

/// Makes the fingerprint of a finding distinct per `what` (several findings on one statement,
/// one per key or principal, must not share a fingerprint).
pub(super) fn distinct(mut f: Finding, what: &str) -> Finding {
    f.fingerprint = fingerprint(f.rule, "", &f.pointer, &format!("{}\u{0}{what}", f.fingerprint));
    f
}

#[cfg(test)]
mod tests {
    use super::action_list;

    #[test]
    fn action_lists_read_as_prose() {
        assert_eq!(action_list(&["kms:Decrypt"]), "`kms:Decrypt`");
        assert_eq!(action_list(&["a", "b"]), "`a` and `b`");
        assert_eq!(action_list(&["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(action_list(&["a", "b", "c", "d", "e"]), "`a`, `b`, `c` and 2 more");
    }
}
