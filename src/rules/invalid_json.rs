use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a policy document that is not valid JSON, at the position where reading stopped.
    ///
    /// ## Why is this bad?
    /// AWS rejects the document (`MalformedPolicyDocumentException`), so the change that carries
    /// it fails to deploy, and nothing else about the document can be analysed: every other rule
    /// is blind to it. Trailing commas, comments and single quotes are the usual causes; many
    /// editors and template engines accept them.
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
    ///       "Resource": "*",
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
    /// - [IAM JSON policy grammar](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html)
    /// - [PutKeyPolicy errors](https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html)
    pub InvalidJson {
        id: "KP150",
        name: "invalid-json",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for InvalidJson {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
