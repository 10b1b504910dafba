use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::OpBase;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags encryption-context conditions that hide a case pitfall: two
    /// `kms:EncryptionContext:<k>` conditions in one statement whose `<k>` differ only by case,
    /// and `StringEqualsIgnoreCase`/`StringNotEqualsIgnoreCase` on a `kms:EncryptionContext:*`
    /// key.
    ///
    /// ## Why is this bad?
    /// Condition key names are case-insensitive, so `kms:EncryptionContext:Tenant` and
    /// `kms:EncryptionContext:tenant` test the same pair, while the encryption context itself is
    /// case-sensitive: `{"Tenant": "acme"}` and `{"tenant": "acme"}` are different contexts that
    /// decrypt different ciphertexts. Two spellings in one statement suggest the author expected
    /// them to differ. Ignoring case in the value lets `ACME` and `Acme` through although the
    /// cryptographic binding requires the exact bytes.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "TenantDecrypt",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEqualsIgnoreCase": { "kms:EncryptionContext:tenant": "acme" } }
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
    ///       "Sid": "TenantDecrypt",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": "acme" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Encryption context in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html)
    /// - [kms:EncryptionContext:context-key](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context)
    pub AmbiguousEncryptionContextKey {
        id: "KP157",
        name: "ambiguous-encryption-context-key",
        category: Correctness,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for AmbiguousEncryptionContextKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            let source = entry.policy.source;
            let ec: Vec<_> = st.conditions.iter().filter_map(|c| c.encryption_context_key().map(|k| (c, k))).collect();
            for (i, (c, k)) in ec.iter().enumerate() {
                let earlier = ec.iter().take(i).find(|(_, other)| other.eq_ignore_ascii_case(k) && other != k);
                if let Some((first, _)) = earlier {
                    let pointer = cx.pointer_at(source, c.key.span).unwrap_or_else(|| st.pointer.clone());
                    out.push(
                        cx.finding(
                            self,
                            pid,
                            c.key.span,
                            pointer,
                            format!(
                                "`{}` and `{}` differ only in case: both test the same encryption-context pair",
                                first.key.value, c.key.value
                            ),
                        )
                        .with_label(cx.label(source, first.key.span, "the other spelling"))
                        .with_help("encryption-context keys are case-sensitive but condition key names are not; use one spelling"),
                    );
                }
                if c.op.is_some_and(|o| {
                    matches!(o.base, OpBase::StringEqualsIgnoreCase | OpBase::StringNotEqualsIgnoreCase)
                }) {
                    let pointer = cx.pointer_at(source, c.op_text.span).unwrap_or_else(|| st.pointer.clone());
                    out.push(
                        cx.finding(
                            self,
                            pid,
                            c.op_text.span,
                            pointer,
                            format!(
                                "`{}` on `{}` ignores case although encryption-context values must match exactly",
                                c.op_text.value, c.key.value
                            ),
                        )
                        .with_help("use `StringEquals` (or `StringNotEquals`) so the condition tests the exact bytes"),
                    );
                }
            }
        }
    }
}
