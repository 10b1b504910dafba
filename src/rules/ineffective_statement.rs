use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a statement that can never apply, such as a key-policy statement without a
    /// `Resource` element.
    ///
    /// ## Why is this bad?
    /// KMS accepts the document, so the statement looks like it grants or denies something, but
    /// it never matches a request. An intended `Deny` guard that never applies is a silent hole;
    /// an intended `Allow` leads to "access denied" that is hard to trace.
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
    ///       "Action": "kms:*"
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
    /// - [Key policies in AWS KMS: elements of a key policy](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
    /// - [IAM JSON policy elements: Resource](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)
    pub IneffectiveStatement {
        id: "KP161",
        name: "ineffective-statement",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for IneffectiveStatement {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
