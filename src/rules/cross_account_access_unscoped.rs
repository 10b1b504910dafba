use std::collections::{BTreeMap, BTreeSet};

use super::public_key_access::{
    action_list, assumed_account_note, candidate_of, key_policy, name_list, names_everyone, outsider_entry,
    statement_finding, statement_of, usage_actions, via, witness_json, Via, ORG_KEYS,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::PolicyId;
use crate::report::finding::Finding;
use crate::solve::{PrincipalKind, Witness};

declare_rule! {
    /// ## What it does
    /// Flags a key-policy statement that lets a named account outside the trust boundary, or
    /// principals of such an account, use the key with no organization scope, and lists the
    /// accounts. Outside the trust boundary means: not the key's account, not an account of
    /// the key's organization (when the organization is in the inputs), and not an account in
    /// `trusted_accounts` of `keyproof.toml`.
    ///
    /// The rule asks the solver who can perform each cryptographic action of the key directly,
    /// keeps the entries of foreign accounts (kind `account`, and roles, users and root users
    /// of those accounts), and asks again with `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`
    /// carrying an outsider's values: when the request is still allowed, the access does not
    /// depend on the organization. Statements that name everyone (`"*"`) do not name the
    /// account and are left to `KP104`; grants to foreign accounts are `KP305`. When the key's
    /// account is not in the inputs (a loose policy naming several accounts) the message says
    /// which account was assumed.
    ///
    /// ## Why is this bad?
    /// Whoever controls the foreign account decides which of its principals get the access
    /// (cross-account access only needs their own IAM allow), and the access survives the
    /// account leaving your organization or changing hands. An organization condition keeps
    /// the sharing inside accounts you govern; an account you deliberately trust belongs in
    /// `trusted_accounts`.
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
    ///       "Sid": "PartnerDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::444455556666:root" },
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
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "PartnerDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::444455556666:root" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only accounts named in the key policy, in grants or in the inputs are candidates: an
    /// account that appears only in a condition value (`kms:CallerAccount` under
    /// `"Principal": "*"`) is not listed.
    ///
    /// ## References
    /// - [Allowing users in other accounts to use a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)
    /// - [AWS global condition keys: aws:PrincipalOrgID](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid)
    /// - [Data perimeters on AWS](https://docs.aws.amazon.com/whitepapers/latest/building-a-data-perimeter-on-aws/perimeter-implementation.html)
    pub CrossAccountAccessUnscoped {
        id: "KP105",
        name: "cross-account-access-unscoped",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

/// Accounts, actions and the first outsider witness of one statement.
type Found = (BTreeSet<String>, Vec<String>, Witness);

impl Rule for CrossAccountAccessUnscoped {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.world.keys.iter().enumerate() {
            let Some(kp) = key_policy(cx, key) else { continue };
            let inside = |account: &str| {
                account == key.account
                    || cx.settings.trusted_accounts.iter().any(|a| a == account)
                    || cx.world.org.as_ref().is_some_and(|o| {
                        o.accounts.iter().any(|a| a == account) || o.management_account.as_deref() == Some(account)
                    })
            };
            let mut by_statement: BTreeMap<(PolicyId, usize), Found> = BTreeMap::new();
            for action in usage_actions(key) {
                let answer = cx.who_can(ki, action, true);
                for entry in &answer.principals {
                    if entry.kind == PrincipalKind::Public || entry.transitive {
                        continue;
                    }
                    let Some(account) = entry.caller.account().filter(|a| !inside(a)) else { continue };
                    let cand = candidate_of(entry);
                    let Some(e) = outsider_entry(cx, ki, action, &cand, ORG_KEYS) else { continue };
                    let Some(Via::KeyPolicy { policy, statement, .. }) = via(cx, ki, &cand.caller, &e.witness) else {
                        continue;
                    };
                    // A statement that names everyone does not name the account (public access is KP104's).
                    if names_everyone(cx, statement) {
                        continue;
                    }
                    let found = by_statement
                        .entry((policy, statement.index))
                        .or_insert_with(|| (BTreeSet::new(), Vec::new(), e.witness.clone()));
                    found.0.insert(account.to_string());
                    if !found.1.iter().any(|a| a == action) {
                        found.1.push((*action).to_string());
                    }
                }
            }
            for ((pid, index), (accounts, actions, witness)) in by_statement {
                let Some(st) = statement_of(cx, pid, index) else { continue };
                let noun = if accounts.len() == 1 { "account" } else { "accounts" };
                let message = format!(
                    "statement `{}` lets {noun} {} outside the trust boundary call {} on `{}` with no organization condition{}",
                    st.label(),
                    name_list(&accounts),
                    action_list(&actions),
                    key.arn,
                    assumed_account_note(cx, key, kp)
                );
                out.push(
                    statement_finding(cx, self, pid, st, message)
                        .with_resource(Some(key.arn.clone()))
                        .with_witness(witness_json(&witness))
                        .with_help(
                            "add an `aws:PrincipalOrgID` or `aws:PrincipalOrgPaths` condition, or list the account in `trusted_accounts` of `keyproof.toml`",
                        ),
                );
            }
        }
    }
}
