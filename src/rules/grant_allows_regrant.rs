use super::grant_without_constraints::{grant_finding, grant_label, grants};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a grant whose operations include `CreateGrant`.
    ///
    /// ## Why is this bad?
    /// A grantee that may create grants can pass its access on to any principal, in any
    /// account, and the new grants outlive the review of the original one. Grant chains are hard
    /// to audit: `ListGrants` shows each grant, not who created it from which. Only integrated
    /// AWS services that need to delegate (and then with `kms:GrantIsForAWSResource`) should
    /// hold such grants.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/Pipeline",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt", "CreateGrant"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Pipeline" } }
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
    ///       "GrantId": "8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/Pipeline",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Pipeline" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Grant operations: CreateGrant](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations)
    /// - [Best practices for AWS KMS grants](https://docs.aws.amazon.com/kms/latest/developerguide/grant-best-practices.html)
    pub GrantAllowsRegrant {
        id: "KP302",
        name: "grant-allows-regrant",
        category: PrivilegeEscalation,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for GrantAllowsRegrant {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (key, g) in grants(cx) {
            if !g.operations.iter().any(|o| o == "CreateGrant") {
                continue;
            }
            let message = format!(
                "{} on `{}` lets `{}` create further grants (`CreateGrant`)",
                grant_label(g),
                key.arn,
                g.grantee
            );
            out.push(grant_finding(cx, self, key, g, &["Operations", "operations"], message).with_help(
                "remove `CreateGrant` from the grant's operations; create the grants the grantee needs directly",
            ));
        }
    }
}
