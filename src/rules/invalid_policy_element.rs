use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a policy element that AWS does not accept: a missing or unknown element (element
    /// names are case-sensitive), a value of the wrong type, a bad `Version` or `Effect`, a
    /// `Principal` in an identity policy or a key-policy statement without one, an empty
    /// `Statement`, an unknown condition operator.
    ///
    /// ## Why is this bad?
    /// AWS rejects the document, or the statement does not do what it says. keyproof keeps such a
    /// statement but treats it as never applying, so the analysis of the rest of the document
    /// stays meaningful.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
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
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy element reference](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html)
    /// - [Key policies in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html)
    pub InvalidPolicyElement {
        id: "KP152",
        name: "invalid-policy-element",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for InvalidPolicyElement {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
