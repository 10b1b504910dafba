use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key that holds at least 40,000 grants: 80% of the quota of 50,000 grants per key.
    ///
    /// Keys whose grants were not collected are not judged. A truncated `list-grants` page only
    /// gives a lower bound, which is enough to report but not to clear a key.
    ///
    /// ## Why is this bad?
    /// When the quota is reached, `CreateGrant` fails with `LimitExceededException`, and with it
    /// every integrated service that creates grants on the fly (EBS volumes, RDS instances,
    /// DynamoDB tables…). A key near the quota usually leaks grants that are never retired.
    ///
    /// ## Example
    /// ```json no-run
    /// { "Grants": [ "…40,000 grants on one key…" ] }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/BatchJob",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Batch" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [AWS KMS resource quotas: grants per KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html#grants-per-key)
    /// - [Retiring and revoking grants](https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html)
    pub GrantQuotaPressure {
        id: "KP306",
        name: "grant-quota-pressure",
        category: Resilience,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

/// Grants per key (AWS KMS quota).
const QUOTA: usize = 50_000;
/// 80% of the quota.
const THRESHOLD: usize = QUOTA / 5 * 4;

impl Rule for GrantQuotaPressure {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for key in &cx.world.keys {
            let Some(grants) = &key.grants else { continue };
            if grants.len() < THRESHOLD {
                continue;
            }
            let message = format!(
                "key `{}` holds `{}` grants, {}% of the quota of {QUOTA} grants per key",
                key.arn,
                grants.len(),
                grants.len() * 100 / QUOTA
            );
            // On the key when it was read from somewhere, else on the first grant's file.
            let origin = if key.origin.source.is_some() {
                key.origin.clone()
            } else {
                grants.first().map(|g| g.origin.clone()).unwrap_or_default()
            };
            out.push(
                cx.finding_at_origin(self, &origin, message)
                    .with_resource(Some(key.arn.clone()))
                    .with_help("retire grants that are no longer used (`RetireGrant`, `RevokeGrant`); integrated services fail to create grants at the quota"),
            );
        }
    }
}
