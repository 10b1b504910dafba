use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a value the analysis depends on but cannot know: an unresolved CloudFormation
    /// intrinsic (`{"Ref": …}`, `{"Fn::Sub": …}`, `{"Fn::GetAtt": …}`) where a policy needs a
    /// string, or a Terraform attribute that is unknown until apply. The finding says what could
    /// not be decided.
    ///
    /// ## Why is this bad?
    /// A principal, resource or condition value that is only known after deployment cannot be
    /// checked before it: keyproof treats it as matching nothing and never concludes from a
    /// guessed value, so a policy whose meaning hides behind intrinsics is only partly analysed.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppUse",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": { "Fn::GetAtt": ["AppRole", "Arn"] } },
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
    ///       "Sid": "AppUse",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/App" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Check the rendered template (`cdk synth`, `aws cloudformation get-template` after
    /// deployment) or the applied Terraform state instead of the source.
    ///
    /// ## References
    /// - [CloudFormation intrinsic function reference](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html)
    /// - [Terraform JSON output format: `after_unknown`](https://developer.hashicorp.com/terraform/internals/json-format)
    pub UnresolvedValue {
        id: "KP158",
        name: "unresolved-value",
        category: Correctness,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnresolvedValue {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        cx.diagnostics_of(self, out);
    }
}
