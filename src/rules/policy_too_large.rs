use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key policy larger than 32 KB (32,768 bytes), and a service or resource control
    /// policy longer than 5,120 characters. Any policy document over 64 KiB (twice the largest
    /// policy AWS accepts) is also flagged: keyproof reads and validates it but does not
    /// evaluate it, and treats it as unknown (granting nothing), so that a hostile document
    /// cannot make an analysis run unboundedly (docs/limits.md).
    ///
    /// ## Why is this bad?
    /// The quota is not adjustable: `CreateKey` and `PutKeyPolicy` fail with
    /// `LimitExceededException`, so the policy in the repository is not the policy in the
    /// account. Large key policies usually list many principals one by one; grants, IAM
    /// delegation or organization conditions scale better.
    ///
    /// ## Example
    /// A key policy whose text is over 32 KB, for example one statement listing four hundred
    /// role ARNs (abridged here):
    /// ```json no-run
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppRoles",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": ["arn:aws:iam::111122223333:role/app-0001", "…", "arn:aws:iam::111122223333:role/app-0400"] },
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
    ///       "Sid": "AppRoles",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "ArnLike": { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/app-*" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [AWS KMS resource quotas: key policy document size](https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html)
    /// - [AWS Organizations quotas: maximum policy size](https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html)
    pub PolicyTooLarge {
        id: "KP159",
        name: "policy-too-large",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for PolicyTooLarge {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
