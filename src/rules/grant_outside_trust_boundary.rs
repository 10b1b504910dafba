use std::collections::BTreeSet;

use super::grant_without_constraints::{grant_finding, grant_label, grants};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::arn::{is_account_id, Arn};
use crate::report::finding::Finding;
use crate::world::Key;

declare_rule! {
    /// ## What it does
    /// Flags a grant whose grantee belongs to an account outside the trust boundary: not the
    /// key's own account, not an account of the key's organization (when the organization is in
    /// the inputs), and not an account listed in `trusted_accounts` in `keyproof.toml`.
    ///
    /// Service principals (`dynamodb.amazonaws.com`…) are not accounts and are not concerned.
    ///
    /// ## Why is this bad?
    /// A grant is a standing permission that does not appear in the key policy; a grant to a
    /// foreign account's principal shares the key with that account outside the reviewed policy,
    /// and with no condition of the key policy applying to it. Cross-account use should go
    /// through the key policy, or the account should be declared trusted.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::444455556666:role/Analytics",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextEquals": { "Department": "IT" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/Analytics",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextEquals": { "Department": "IT" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Options
    /// `trusted_accounts = ["444455556666"]` in `keyproof.toml` widens the trust boundary.
    ///
    /// ## References
    /// - [Grants: cross-account grantees](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grantee-principal)
    /// - [Allowing users in other accounts to use a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)
    pub GrantOutsideTrustBoundary {
        id: "KP305",
        name: "grant-outside-trust-boundary",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for GrantOutsideTrustBoundary {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let org = org_accounts(cx);
        for (key, g) in grants(cx) {
            let Some(account) = Arn::parse(&g.grantee).map(|a| a.account).filter(|a| is_account_id(a)) else {
                continue;
            };
            if inside_boundary(cx, &org, key, account) {
                continue;
            }
            let ops = g.operations.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
            let message = format!(
                "{} on `{}` lets `{}` of account `{account}`, outside the trust boundary, use the key ({ops})",
                grant_label(g),
                key.arn,
                g.grantee
            );
            out.push(
                grant_finding(cx, self, key, g, &["GranteePrincipal", "grantee_principal"], message).with_help(format!(
                    "revoke the grant, or add `{account}` to `trusted_accounts` in `keyproof.toml` if the account is trusted"
                )),
            );
        }
    }
}

/// The accounts of the known organization, its management account included.
fn org_accounts<'a>(cx: &'a RuleContext<'_>) -> BTreeSet<&'a str> {
    let org = cx.world.org.iter();
    org.flat_map(|o| o.accounts.iter().map(String::as_str).chain(o.management_account.as_deref())).collect()
}

/// Is `account` inside the key's trust boundary: the key's account, its organization's
/// accounts (when the key's account is in the known organization, `org`), and the configured
/// trusted accounts?
fn inside_boundary(cx: &RuleContext<'_>, org: &BTreeSet<&str>, key: &Key, account: &str) -> bool {
    account == key.account
        || (org.contains(key.account.as_str()) && org.contains(account))
        || cx.settings.trusted_accounts.iter().any(|a| a == account)
}
