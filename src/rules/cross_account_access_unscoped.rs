use std::collections::BTreeSet;

use super::public_key_access::{
    action_list, assumed_account_note, key_policy, name_list, outsider_statements, statement_finding, statement_of,
    usage_actions, witness_json, ORG_KEYS,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::solve::PrincipalKind;

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

impl Rule for CrossAccountAccessUnscoped {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        // The organization's accounts and the trusted ones.
        let mut trusted: BTreeSet<&str> = cx.settings.trusted_accounts.iter().map(String::as_str).collect();
        if let Some(o) = &cx.world.org {
            trusted.extend(o.accounts.iter().map(String::as_str));
            trusted.extend(o.management_account.as_deref());
        }
        for (ki, key) in cx.keys() {
            let Some(kp) = key_policy(cx, key) else { continue };
            let inside = |account: &str| account == key.account || trusted.contains(account);
            let subject = |c: &crate::solve::Candidate| {
                if c.kind == PrincipalKind::Public {
                    return None;
                }
                c.caller.account().filter(|a| !inside(a)).map(str::to_string)
            };
            let by_statement =
                outsider_statements(cx, ki, usage_actions(key).iter().copied(), ORG_KEYS, &subject, &|a| !inside(a));
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
