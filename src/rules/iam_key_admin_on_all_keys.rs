use super::iam_decrypt_on_all_keys::every_key_findings;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an identity policy statement that allows `kms:PutKeyPolicy`,
    /// `kms:ScheduleKeyDeletion` or `kms:CreateGrant` on every key (`"Resource": "*"`,
    /// `arn:aws:kms:*:*:key/*`, or any pattern or `NotResource` that a key nobody named still
    /// matches) with no condition narrowing the keys.
    ///
    /// The rule asks the evaluator whether the statement applies to a fresh key that no policy
    /// names, with no tags and no aliases, in two Regions of the policy's account, as for
    /// `KP203`. Conditions on the key or its use (`aws:ResourceTag/…`, `kms:ResourceAliases`,
    /// `kms:ViaService`, `kms:GrantIsForAWSResource`…) are evaluated for that key; conditions on
    /// the caller are taken as satisfied. Actions without a key resource (`kms:CreateKey`,
    /// `kms:ListKeys`, `kms:ListAliases`) need `"Resource": "*"` and are not concerned.
    ///
    /// ## Why is this bad?
    /// `kms:PutKeyPolicy` lets the holder rewrite the policy of any key that delegates to the
    /// account and grant itself everything; `kms:CreateGrant` lets it hand out decryption rights
    /// to itself or anyone; `kms:ScheduleKeyDeletion` can destroy every key and with it all data
    /// encrypted under them. Key administration should be limited to named keys or to keys
    /// tagged for the administrator's team.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "KeyAdmin",
    ///       "Effect": "Allow",
    ///       "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateKey"],
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
    ///       "Sid": "CreateKeys",
    ///       "Effect": "Allow",
    ///       "Action": "kms:CreateKey",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "AdministerTeamKeys",
    ///       "Effect": "Allow",
    ///       "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
    ///       "Resource": "arn:aws:kms:*:111122223333:key/*",
    ///       "Condition": { "StringEquals": { "aws:ResourceTag/team": "payments" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only the statements of one document are combined; a `Deny` in another policy of the same
    /// principal, a permissions boundary or an SCP is not considered.
    ///
    /// ## References
    /// - [Best practices for IAM policies](https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies-best-practices.html)
    /// - [Key administrators](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators)
    /// - [Grants in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html)
    pub IamKeyAdminOnAllKeys {
        id: "KP204",
        name: "iam-key-admin-on-all-keys",
        category: PrivilegeEscalation,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for IamKeyAdminOnAllKeys {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        every_key_findings(
            self,
            cx,
            &["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant"],
            "its holders can rewrite the policy of, delete, or grant access to every key whose policy delegates to the account",
            out,
        );
    }
}
