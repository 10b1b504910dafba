use std::collections::BTreeMap;

use super::rule::{declare_rule, Rule, RuleContext, RuleMeta};
use crate::config::Assertion;
use crate::eval::authorize::{authorize, Decision};
use crate::eval::context::{CtxValue, EC_PREFIX};
use crate::eval::principal::Caller;
use crate::policy::arn::{classify_aws_principal, is_account_id};
use crate::policy::model::{PolicyId, PrincipalRef, Statement};
use crate::report::finding::{fingerprint, Finding, Label, Severity};
use crate::solve::candidates::OTHER;
use crate::solve::{solve_principal_with, Candidate, Entry, Witness};
use crate::world::{Grant, PolicySlot, World};

declare_rule! {
    /// ## What it does
    /// Checks every `[[assert]]` of `keyproof.toml`: who can perform the assertion's `action`
    /// (default `kms:Decrypt`) on its `key`, by any path (key policy, IAM, grants, role chains,
    /// escalation through `kms:CreateGrant` or `kms:PutKeyPolicy`), must be among the `only`
    /// principals, and when `require_context` is given every allowed request must carry
    /// exactly those encryption-context pairs. Each principal that breaks the assertion is a
    /// finding on the assertion, with the allowed request that breaks it as the witness.
    ///
    /// ## Why is this bad?
    /// An isolation assertion states the intent ("only the payments app reads cardholder data,
    /// and only for tenant `acme`"). The key policy, IAM policies, grants and role trust
    /// policies that implement it change independently; the assertion fails as soon as one of
    /// them lets someone else in, or lets the right principal in without the encryption
    /// context that scopes it to its data.
    ///
    /// ## Example
    /// With this `keyproof.toml`:
    /// ```toml
    /// [[assert]]
    /// name = "only the payments app reads cardholder data"
    /// key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    /// only = ["arn:aws:iam::111122223333:role/payments-app"]
    /// require_context = { tenant = "acme" }
    /// ```
    /// this key policy lets the role decrypt with any encryption context:
    /// ```json no-run
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "PaymentsAppDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/payments-app" },
    ///       "Action": "kms:Decrypt",
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
    ///       "Sid": "PaymentsAppDecryptsAcme",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/payments-app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": "acme" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Options
    /// `[[assert]]` tables in `keyproof.toml`: `name`, `key` (key ARN, key id, alias or
    /// Terraform address), `action` (default `kms:Decrypt`), `only` and `require_context`.
    /// In `only`, a role ARN covers every session of the role; `arn:aws:iam::ACCT:root`
    /// covers the account's root user and the principals of that account whose IAM is not in
    /// the inputs (what a policy means by the account principal); a bare account id
    /// (`111122223333`) covers every principal of that account; `*` covers anyone.
    ///
    /// ## Known limitations
    /// The proof is as complete as the inputs: with the account delegation statement, the
    /// principals of an account whose IAM was not collected appear as the account
    /// (`arn:aws:iam::ACCT:root`), and the assertion fails unless they are accepted.
    /// Encryption-context keys are matched as `kms:EncryptionContext:<key>` conditions match
    /// them (ignoring case); values must be equal byte for byte, and extra pairs are allowed.
    /// An assertion whose key or key policy is not in the inputs cannot be checked: it is
    /// reported as a note.
    ///
    /// ## References
    /// - [Encryption context](https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html)
    /// - [kms:EncryptionContext condition keys](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context)
    /// - [Determining access to an AWS KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html)
    pub IsolationViolated {
        id: "KP601",
        name: "isolation-violated",
        category: Assertion,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for IsolationViolated {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (i, a) in cx.settings.assertions.iter().enumerate() {
            self.check_assertion(cx, i, a, out);
        }
    }
}

impl IsolationViolated {
    fn check_assertion(&self, cx: &RuleContext<'_>, index: usize, a: &Assertion, out: &mut Vec<Finding>) {
        let world = cx.world;
        let Some(key) = world.find_key_index(&a.key) else {
            let message = format!("assertion `{}` cannot be checked: key `{}` is not in the inputs", a.name, a.key);
            out.push(unchecked(at_assertion(cx, self, index, a, message)));
            return;
        };
        let Some(k) = world.keys.get(key) else { return };
        if !matches!(k.policy, Some(PolicySlot::Known(_))) {
            let message =
                format!("assertion `{}` cannot be checked: the key policy of `{}` is not in the inputs", a.name, k.arn);
            out.push(unchecked(at_assertion(cx, self, index, a, message)).with_resource(Some(k.arn.clone())));
            return;
        }
        let answer = cx.who_can(key, &a.action, false);
        for e in &answer.principals {
            if !covered(&a.only, e) {
                let message = format!(
                    "assertion `{}` does not hold: `{}` can `{}` with `{}`{} but is not in `only`",
                    a.name,
                    e.principal,
                    answer.action,
                    k.arn,
                    assumed(world, key, &e.witness, &e.caller)
                );
                let f = at_assertion(cx, self, index, a, message)
                    .with_resource(Some(k.arn.clone()))
                    .with_witness(witness_json(&e.witness, &k.arn))
                    .with_help(path_help(e));
                out.push(distinct(label_allower(cx, f, key, &e.witness, &e.caller), &e.principal));
                continue;
            }
            let Some(required) = a.require_context.as_ref().filter(|r| !r.is_empty()) else { continue };
            if e.transitive {
                // The role at the end of the chain is an entry of its own and is checked there.
                continue;
            }
            let Some(w) = context_counterexample(world, key, &answer.action, e, required) else { continue };
            let pairs: Vec<String> = required.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let message = format!(
                "assertion `{}` does not hold: `{}` can `{}` with `{}`{} without the encryption context `{}`",
                a.name,
                e.principal,
                answer.action,
                k.arn,
                assumed(world, key, &w, &e.caller),
                pairs.join(", ")
            );
            let f = at_assertion(cx, self, index, a, message)
                .with_resource(Some(k.arn.clone()))
                .with_witness(witness_json(&w, &k.arn))
                .with_help("require the pairs in the allowing statement (`StringEquals` on `kms:EncryptionContext:<key>`) or in the grant's `EncryptionContextEquals`/`EncryptionContextSubset` constraint");
            out.push(distinct(label_allower(cx, f, key, &w, &e.caller), &format!("{}\u{0}context", e.principal)));
        }
    }
}

/// A finding on the assertion's table in the config file (without a location when the
/// settings were not read from a file).
fn at_assertion(cx: &RuleContext<'_>, rule: &dyn RuleMeta, index: usize, a: &Assertion, message: String) -> Finding {
    match cx.settings.config_source {
        Some(source) => cx.finding_in(rule, source, a.span, format!("/assert/{index}"), message),
        None => {
            let info = rule.info();
            let mut f = Finding::new(info.id, info.name, info.severity, message);
            f.pointer = format!("/assert/{index}");
            f
        }
    }
}

fn unchecked(mut f: Finding) -> Finding {
    f.severity = Severity::Note;
    f.with_help("give the inputs that hold the key and its key policy, or fix the assertion's `key`")
}

/// Several findings on one assertion: a fingerprint per principal.
fn distinct(mut f: Finding, what: &str) -> Finding {
    if !f.fingerprint.is_empty() {
        f.fingerprint = fingerprint(f.rule, &f.fingerprint, &f.pointer, what);
    }
    f
}

/// Says when the request is allowed only under the assumption that the caller's IAM policies,
/// which are not in the inputs, allow it.
fn assumed(world: &World, key: usize, w: &Witness, caller: &Caller) -> &'static str {
    if !w.assume_identity_allows {
        return "";
    }
    let without = Witness { assume_identity_allows: false, ..w.clone() };
    if replay(world, key, &without, caller).0 {
        ""
    } else {
        " (if its IAM policies, which are not in the inputs, allow it)"
    }
}

fn path_help(e: &Entry) -> String {
    let hops: Vec<String> = e.path.iter().map(|h| format!("{} -> {} via {}", h.from, h.to, h.via)).collect();
    format!(
        "remove the access (path: {}) or add the principal to `only` if it is intended",
        if hops.is_empty() { "direct".to_string() } else { hops.join("; ") }
    )
}

/// True when an `only` entry covers the who-can entry (see the rule's Options).
fn covered(only: &[String], e: &Entry) -> bool {
    let entry = classify_aws_principal(&e.principal);
    only.iter().any(|o| {
        if o == "*" || *o == e.principal {
            return true;
        }
        if is_account_id(o) {
            return e.caller.account() == Some(o.as_str());
        }
        match (classify_aws_principal(o), &entry) {
            (PrincipalRef::Role { account, name, .. }, PrincipalRef::Role { account: a2, name: n2, .. })
            | (PrincipalRef::Role { account, name, .. }, PrincipalRef::AssumedRole { account: a2, role: n2, .. }) => {
                account == *a2 && name.eq_ignore_ascii_case(n2)
            }
            (PrincipalRef::User { account, name, .. }, PrincipalRef::User { account: a2, name: n2, .. }) => {
                account == *a2 && name == *n2
            }
            _ => false,
        }
    })
}

/// The encryption-context pairs of a request (keys as written).
fn ec_of(w: &Witness) -> BTreeMap<&str, &str> {
    w.context
        .iter()
        .filter_map(|(k, v)| {
            let name = k.get(EC_PREFIX.len()..).filter(|_| k.get(..EC_PREFIX.len()).is_some_and(is_ec_prefix))?;
            match v {
                CtxValue::Single(s) => Some((name, s.as_str())),
                CtxValue::Multi(_) => None,
            }
        })
        .collect()
}

fn is_ec_prefix(p: &str) -> bool {
    p.eq_ignore_ascii_case(EC_PREFIX)
}

/// The request carries every required pair (key compared as KMS conditions compare it, the
/// value exactly).
fn carries(w: &Witness, required: &BTreeMap<String, String>) -> bool {
    let ec = ec_of(w);
    required.iter().all(|(k, v)| ec.iter().any(|(n, x)| n.eq_ignore_ascii_case(k) && *x == v.as_str()))
}

/// An allowed request of the entry's principal that does not carry the required pairs, proven
/// by replaying it through the evaluator. Candidates: the entry's witness; for each required
/// pair, the solver's allowed requests with the pair's value replaced by an unmentioned value
/// and by the value in another case; and each of these with the pair removed.
fn context_counterexample(
    world: &World,
    key: usize,
    action: &str,
    e: &Entry,
    required: &BTreeMap<String, String>,
) -> Option<Witness> {
    let cand = Candidate {
        name: e.principal.clone(),
        kind: e.kind,
        caller: e.caller.clone(),
        assume_identity_allows: e.witness.assume_identity_allows,
    };
    let mut seeds = vec![e.witness.clone()];
    for (k, v) in required {
        let mut values = vec![OTHER.to_string()];
        for other in [v.to_lowercase(), v.to_uppercase()] {
            if other != *v && !values.contains(&other) {
                values.push(other);
            }
        }
        for value in values {
            let fixed: BTreeMap<String, CtxValue> =
                [(format!("kms:EncryptionContext:{k}"), CtxValue::Single(value))].into();
            if let Some(found) = solve_principal_with(world, key, action, &cand, &fixed, &[]) {
                seeds.push(found.witness);
            }
        }
    }
    let allowed = |w: &Witness| replay(world, key, w, &e.caller).0;
    for seed in seeds {
        if !carries(&seed, required) && allowed(&seed) {
            return Some(seed);
        }
        for k in required.keys() {
            let mut w = seed.clone();
            w.context.retain(|name, _| {
                !(name.get(..EC_PREFIX.len()).is_some_and(is_ec_prefix)
                    && name.get(EC_PREFIX.len()..).is_some_and(|n| n.eq_ignore_ascii_case(k)))
            });
            if w.context.len() != seed.context.len() && allowed(&w) {
                return Some(w);
            }
        }
    }
    None
}

/// A request as a finding's witness: the solver's witness (principal, action, context) with
/// the key it is made on.
pub(super) fn witness_json(w: &Witness, key_arn: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(w).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("key".into(), serde_json::Value::String(key_arn.to_string()));
    }
    v
}

/// What allowed a request: a statement of a policy, or a grant.
pub(super) enum Allower<'w> {
    /// A statement of the policy table.
    Statement(PolicyId, &'w Statement),
    /// A grant of the key.
    Grant(&'w Grant),
}

/// Replays a request of `caller` through the evaluator: whether it is allowed and, if so, the
/// first statement or grant that allowed it.
pub(super) fn replay<'w>(world: &'w World, key: usize, w: &Witness, caller: &Caller) -> (bool, Option<Allower<'w>>) {
    let resp = authorize(world, &w.request(world, key, caller));
    if resp.decision != Decision::Allow {
        return (false, None);
    }
    let allower = resp.reasons.iter().filter(|r| r.effect == crate::policy::model::Effect::Allow).find_map(|r| {
        if let Some(id) = &r.grant {
            let g = world.keys.get(key)?.grants.as_ref()?.iter().find(|g| &g.id == id)?;
            return Some(Allower::Grant(g));
        }
        let pid = r.policy?;
        let st = world.policy(pid)?.policy.statements.iter().find(|s| Some(s.index) == r.index)?;
        Some(Allower::Statement(pid, st))
    });
    (true, allower)
}

/// A finding on what allowed a request (the statement or grant), when there is one.
pub(super) fn finding_at_allower(
    cx: &RuleContext<'_>,
    rule: &dyn RuleMeta,
    key: usize,
    w: &Witness,
    caller: &Caller,
    message: String,
) -> Option<Finding> {
    match replay(cx.world, key, w, caller).1? {
        Allower::Statement(pid, st) => Some(cx.finding(rule, pid, st.span, st.pointer.clone(), message)),
        Allower::Grant(g) => Some(cx.finding_at_origin(rule, &g.origin, message)),
    }
}

/// Adds a label on what allowed a request.
pub(super) fn label_allower(cx: &RuleContext<'_>, f: Finding, key: usize, w: &Witness, caller: &Caller) -> Finding {
    match allower_label(cx, key, w, caller) {
        Some(l) => f.with_label(l),
        None => f,
    }
}

fn allower_label(cx: &RuleContext<'_>, key: usize, w: &Witness, caller: &Caller) -> Option<Label> {
    match replay(cx.world, key, w, caller).1? {
        Allower::Statement(pid, st) => {
            let source = cx.world.policy(pid)?.policy.source;
            Some(cx.label(source, st.span, format!("statement `{}` allows the request", st.label())))
        }
        Allower::Grant(g) => {
            Some(cx.label(g.origin.source?, g.origin.span, format!("grant `{}` allows the request", g.id)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::PrincipalKind;

    fn entry(principal: &str, kind: PrincipalKind, caller: Caller) -> Entry {
        Entry {
            principal: principal.into(),
            kind,
            unconditional: true,
            conditions: vec![Vec::new()],
            condition_text: "always".into(),
            path: Vec::new(),
            witness: Witness {
                principal: caller.arn(),
                action: "kms:Decrypt".into(),
                context: BTreeMap::new(),
                assume_identity_allows: false,
            },
            counter_example: None,
            transitive: false,
            caller,
        }
    }

    fn session(role: &str, name: &str) -> Caller {
        Caller::AssumedRole {
            account: "111122223333".into(),
            path: "/".into(),
            role: role.into(),
            session: name.into(),
        }
    }

    #[test]
    fn only_covers_roles_sessions_accounts_and_anyone() {
        let only = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let role = entry(
            "arn:aws:iam::111122223333:role/app/payments-app",
            PrincipalKind::Role,
            session("payments-app", "keyproof"),
        );
        let sess = entry(
            "arn:aws:sts::111122223333:assumed-role/payments-app/batch",
            PrincipalKind::Role,
            session("payments-app", "batch"),
        );
        let other =
            entry("arn:aws:iam::111122223333:role/analytics", PrincipalKind::Role, session("analytics", "keyproof"));
        let root = entry(
            "arn:aws:iam::111122223333:root",
            PrincipalKind::Root,
            Caller::Root { account: "111122223333".into() },
        );
        let listed = only(&["arn:aws:iam::111122223333:role/payments-app"]);
        assert!(covered(&listed, &role), "a role ARN without the path names the role");
        assert!(covered(&listed, &sess), "a role covers its sessions");
        assert!(!covered(&listed, &other));
        assert!(!covered(&listed, &root));
        assert!(covered(&only(&["arn:aws:iam::111122223333:root"]), &root));
        assert!(!covered(&only(&["arn:aws:iam::111122223333:root"]), &other));
        assert!(covered(&only(&["111122223333"]), &other), "an account id covers its principals");
        assert!(!covered(&only(&["444455556666"]), &other));
        assert!(covered(&only(&["*"]), &other));
    }

    #[test]
    fn carries_compares_keys_like_conditions_and_values_exactly() {
        let w = |pairs: &[(&str, &str)]| Witness {
            principal: "p".into(),
            action: "kms:Decrypt".into(),
            context: pairs
                .iter()
                .map(|(k, v)| (format!("kms:EncryptionContext:{k}"), CtxValue::Single((*v).to_string())))
                .collect(),
            assume_identity_allows: false,
        };
        let required: BTreeMap<String, String> = [("tenant".to_string(), "acme".to_string())].into();
        assert!(carries(&w(&[("tenant", "acme")]), &required));
        assert!(carries(&w(&[("Tenant", "acme"), ("order", "1")]), &required));
        assert!(!carries(&w(&[("tenant", "ACME")]), &required));
        assert!(!carries(&w(&[]), &required));
    }
}
