use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::PrincipalRef;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a principal entry that can never name a caller: a partial wildcard
    /// (`arn:aws:iam::111122223333:role/*`), a malformed ARN, an IAM group, or a bare unique id
    /// (`AROA…`, `AIDA…`), which is what AWS shows once the role or user it named was deleted.
    ///
    /// ## Why is this bad?
    /// `Principal` accepts `*` only as the whole value, and groups are not principals; KMS and IAM
    /// reject such policies (`MalformedPolicyDocumentException`: "invalid principals"). A unique
    /// id matches nobody, not even a re-created principal of the same name, so the access the
    /// statement was written for is silently gone; if that statement held the key's
    /// administrators, the key may be locked out.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/*" },
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
    ///       "Sid": "AppDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "ArnLike": { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/*" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy elements: Principal](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)
    /// - [IAM identifiers: unique identifiers](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids)
    /// - [Troubleshooting key access](https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html)
    pub InvalidPrincipal {
        id: "KP160",
        name: "invalid-principal",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for InvalidPrincipal {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            let Some(principals) = &st.principal else { continue };
            for e in &principals.entries {
                let (message, help) = match &e.principal {
                    // An unknown principal type is already an invalid element (KP152).
                    PrincipalRef::Invalid(reason) if reason.starts_with("unknown principal type") => continue,
                    // A template placeholder is an unknown value (KP158), not a malformed principal.
                    PrincipalRef::Invalid(_) if crate::policy::parse::is_template_placeholder(&e.raw) => continue,
                    PrincipalRef::Invalid(reason) => (
                        format!("principal {reason}"),
                        "name a whole principal ARN, an account, or `*` with a condition such as `aws:PrincipalArn`",
                    ),
                    PrincipalRef::UniqueId(id) => (
                        format!("principal `{id}` is a unique id: the role or user it named was deleted and it matches no one"),
                        "replace the id with the ARN of the principal that should have access",
                    ),
                    _ => continue,
                };
                let pointer = cx.pointer_at(entry.policy.source, e.span).unwrap_or_else(|| st.pointer.clone());
                out.push(cx.finding(self, pid, e.span, pointer, message).with_help(help));
            }
        }
    }
}
