use std::collections::{BTreeMap, BTreeSet};

use super::public_key_access::{
    allow_elements, among_named, assumed_account_note, key_policy, names_everyone, public_statement, statement_finding,
    statement_of, usage_actions, via, witness_json, Via,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::PolicyId;
use crate::report::finding::Finding;
use crate::solve::{PrincipalKind, Witness};

/// Actions that administer a key: whoever may call one controls the key's existence or policy.
const ADMIN_ACTIONS: &[&str] = &["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"];

declare_rule! {
    /// ## What it does
    /// Flags a principal that may both use the key for cryptography and administer it
    /// (`kms:PutKeyPolicy`, `kms:ScheduleKeyDeletion`, `kms:DisableKey`) through statements of
    /// the key policy other than the account delegation.
    ///
    /// The rule asks the solver who can perform each administrative action and each
    /// cryptographic action of the key directly, replays each principal's allowed request to
    /// find the statement that allowed it, and keeps the principals that get both kinds of
    /// access from statements that name them (not from IAM through the "Enable IAM policies"
    /// statement, which is `KP204`'s concern). Access open to everyone is `KP104`; a statement
    /// that names everyone under conditions (`"*"` with `kms:CallerAccount`) is reported once.
    ///
    /// ## Why is this bad?
    /// Separation of duties: key administrators manage the key, key users use it. A principal
    /// that can do both can read the data and also change who else can, or delete the key to
    /// cover its tracks; a single compromised role then defeats every control on the key.
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
    ///       "Sid": "AppTeam",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/AppTeam" },
    ///       "Action": "kms:*",
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
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "KeyAdministrators",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/KeyAdmin" },
    ///       "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    ///                  "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion",
    ///                  "kms:CancelKeyDeletion"],
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "KeyUsers",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/AppTeam" },
    ///       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Default key policy: key administrators and key users](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)
    /// - [Security best practices for AWS KMS: least privilege](https://docs.aws.amazon.com/kms/latest/developerguide/least-privilege.html)
    pub KeyUsageAndAdminCombined {
        id: "KP107",
        name: "key-usage-and-admin-combined",
        category: PrivilegeEscalation,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

/// Per principal: the first action it gets this way, the statement and the request.
type Access = BTreeMap<String, (String, PolicyId, usize, Witness)>;

/// Principals (of those `among` keeps) allowed one of `actions` directly through a key-policy
/// statement other than the account delegation.
fn named_access(cx: &RuleContext<'_>, ki: usize, actions: &[&str], among: crate::solve::Among<'_>) -> Access {
    let mut out = Access::new();
    for action in actions {
        let answer = cx.who_can_among(ki, action, among);
        for e in &answer.principals {
            if e.transitive || e.kind == PrincipalKind::Public || out.contains_key(&e.principal) {
                continue;
            }
            if let Some(Via::KeyPolicy { policy, statement, delegation: false, .. }) =
                via(cx, ki, &e.caller, &e.witness)
            {
                out.insert(e.principal.clone(), ((*action).to_string(), policy, statement.index, e.witness.clone()));
            }
        }
    }
    out
}

impl Rule for KeyUsageAndAdminCombined {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            let Some(kp) = key_policy(cx, key) else { continue };
            // Only principals an `Allow` statement for an administrative action names (or
            // admits through `*` or `NotPrincipal`) can get one other than by the delegation.
            let elements = allow_elements(cx, key, ADMIN_ACTIONS, |_| true);
            let admins = among_named(cx, &elements, |_| true, |among| named_access(cx, ki, ADMIN_ACTIONS, among));
            if admins.is_empty() {
                continue;
            }
            // The usage side only for the administrators.
            let accounts: BTreeSet<&str> = admins
                .values()
                .filter_map(|(_, _, _, w)| crate::policy::arn::Arn::parse(&w.principal))
                .map(|a| a.account)
                .collect();
            let among = crate::solve::Among {
                keep: &|c| admins.contains_key(&c.name),
                accounts: Some(&|a| accounts.contains(a)),
            };
            let users = named_access(cx, ki, usage_actions(key), among);
            // Statements open to every account are KP104's.
            let public: Vec<(PolicyId, usize)> =
                usage_actions(key).iter().filter_map(|a| public_statement(cx, ki, a)).collect();
            // A statement that names everyone is reported once, not per principal it admits.
            let mut reported: BTreeSet<(PolicyId, usize)> = BTreeSet::new();
            for (principal, (admin_action, apid, aindex, witness)) in &admins {
                let Some((use_action, upid, uindex, _)) = users.get(principal) else { continue };
                let (Some(ast), Some(ust)) = (statement_of(cx, *apid, *aindex), statement_of(cx, *upid, *uindex))
                else {
                    continue;
                };
                // Access through a statement open to every account is KP104's finding.
                if public.contains(&(*apid, *aindex)) || public.contains(&(*upid, *uindex)) {
                    continue;
                }
                let who = if names_everyone(cx, ast) {
                    if !reported.insert((*apid, *aindex)) {
                        continue;
                    }
                    "any principal its conditions admit".to_string()
                } else {
                    format!("`{principal}`")
                };
                let message = format!(
                    "{who} can both administer `{}` (`{admin_action}`, statement `{}`) and use it (`{use_action}`, statement `{}`){}",
                    key.arn,
                    ast.label(),
                    ust.label(),
                    assumed_account_note(cx, key, kp)
                );
                let mut f = statement_finding(cx, self, *apid, ast, message)
                    .with_resource(Some(key.arn.clone()))
                    .with_witness(witness_json(witness))
                    .with_help("give administration and cryptographic use to different principals");
                if (upid, uindex) != (apid, aindex) {
                    if let Some(e) = cx.world.policy(*upid) {
                        f = f.with_label(cx.label(
                            e.policy.source,
                            ust.span,
                            format!("{who} may use the key through this statement"),
                        ));
                    }
                }
                out.push(f);
            }
        }
    }
}
