use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a JSON object that repeats a key: `"Effect"` twice in a statement, an operator twice
    /// in one `Condition`, a context key twice under one operator.
    ///
    /// ## Why is this bad?
    /// AWS rejects such documents, but most JSON tools silently keep only the last occurrence, so
    /// what a reviewer reads, what a template renders and what a linter built on a plain JSON
    /// library sees can all differ. `{"Effect": "Deny", "Effect": "Allow"}` reads as a deny and
    /// parses as an allow.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "DenyOutsideOrg",
    ///       "Effect": "Deny",
    ///       "Effect": "Allow",
    ///       "Principal": "*",
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
    ///       "Sid": "DenyOutsideOrg",
    ///       "Effect": "Deny",
    ///       "Principal": "*",
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringNotEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy grammar](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html)
    /// - [RFC 8259 §4: names within an object should be unique](https://www.rfc-editor.org/rfc/rfc8259#section-4)
    pub DuplicateKey {
        id: "KP151",
        name: "duplicate-key",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for DuplicateKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
