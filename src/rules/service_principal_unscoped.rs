use super::public_key_access::{
    action_list, key_policy, name_list, outsider_statements, statement_finding, statement_of, usage_actions,
    witness_json, OutsiderKeys, OutsiderValue,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::solve::{PrincipalKind, OUTSIDE_ACCOUNT};

/// Service principals documented to send `aws:SourceAccount` / `aws:SourceArn` with the KMS
/// requests they make for a customer's resource (name before `.amazonaws.com`; Regional forms
/// such as `guardduty.af-south-1.amazonaws.com` are included).
const SENDS_SOURCE: &[&str] = &[
    "cloudtrail",
    "config",
    "delivery.logs",
    "events",
    "guardduty",
    "logging.s3",
    "macie",
    "s3",
    "ses",
    "sns",
    "ssm",
    "storage-lens.s3",
];

/// The source keys, with the values a request made for another account's resource carries.
const SOURCE_KEYS: OutsiderKeys = &[
    ("aws:SourceAccount", OutsiderValue::Single(OUTSIDE_ACCOUNT)),
    ("aws:SourceOwner", OutsiderValue::Single(OUTSIDE_ACCOUNT)),
    ("aws:SourceArn", OutsiderValue::SourceArn),
    ("aws:SourceOrgID", OutsiderValue::Single("o-keyproofother")),
    ("aws:SourceOrgPaths", OutsiderValue::Multi("o-keyproofother/r-keyproof/")),
];

declare_rule! {
    /// ## What it does
    /// Flags a key-policy statement that lets an AWS service principal use the key with no
    /// `aws:SourceAccount` or `aws:SourceArn` condition, for services that send those keys
    /// (CloudTrail, Config, EventBridge, GuardDuty, Macie, S3, SES, SNS, Systems Manager, VPC
    /// Flow Logs delivery).
    ///
    /// The rule asks the solver which service principals can perform the key's cryptographic
    /// operations or `kms:CreateGrant` directly, and asks again with `aws:SourceAccount`,
    /// `aws:SourceArn` (and `aws:SourceOrgID`, `aws:SourceOrgPaths`) carrying the values of a
    /// resource in another account: when that request is still allowed, the service would use
    /// the key for anyone's resource. Only statements that name the service count; a `"*"`
    /// statement is `KP104`'s concern.
    ///
    /// ## Why is this bad?
    /// This is the confused-deputy problem: the service acts for every customer, so a statement
    /// that trusts the service alone lets any AWS account point its own trail, topic or bucket
    /// at your key and have the service encrypt or decrypt with it on their behalf. Pinning
    /// the source account or resource limits the service to work done for you.
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
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "SnsUsesTheKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "Service": "sns.amazonaws.com" },
    ///       "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
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
    ///     },
    ///     {
    ///       "Sid": "SnsUsesTheKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "Service": "sns.amazonaws.com" },
    ///       "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "aws:SourceAccount": "111122223333" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Services not in the list above are not judged (they may not send the keys, and a
    /// condition on them would then deny every request). An encryption-context condition that
    /// names the source resource (`kms:EncryptionContext:aws:cloudtrail:arn`) is not counted as
    /// a source condition; AWS recommends `aws:SourceArn` or `aws:SourceAccount` in addition.
    ///
    /// ## References
    /// - [The confused deputy problem](https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html)
    /// - [AWS global condition keys: aws:SourceAccount and aws:SourceArn](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount)
    /// - [Configure AWS KMS key policies for CloudTrail](https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)
    pub ServicePrincipalUnscoped {
        id: "KP111",
        name: "service-principal-unscoped",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

/// True for a service principal of [`SENDS_SOURCE`] (global or Regional form).
fn sends_source(service: &str) -> bool {
    let Some(name) = service.strip_suffix(".amazonaws.com") else { return false };
    SENDS_SOURCE.iter().any(|s| {
        name == *s
            || name.strip_prefix(s).and_then(|rest| rest.strip_prefix('.')).is_some_and(|region| {
                !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    })
}

impl Rule for ServicePrincipalUnscoped {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            if key_policy(cx, key).is_none() {
                continue;
            }
            let actions = usage_actions(key).iter().copied().chain(std::iter::once("kms:CreateGrant"));
            let subject = |c: &crate::solve::Candidate| {
                (c.kind == PrincipalKind::Service && sends_source(&c.name)).then(|| c.name.clone())
            };
            let by_statement = outsider_statements(cx, ki, actions, SOURCE_KEYS, &subject, &|_| false);
            for ((pid, index), (services, actions, witness)) in by_statement {
                let Some(st) = statement_of(cx, pid, index) else { continue };
                let message = format!(
                    "statement `{}` lets {} call {} on `{}` for any account's resources: no `aws:SourceAccount` or `aws:SourceArn` condition",
                    st.label(),
                    name_list(&services),
                    action_list(&actions),
                    key.arn
                );
                out.push(
                    statement_finding(cx, self, pid, st, message)
                        .with_resource(Some(key.arn.clone()))
                        .with_witness(witness_json(&witness))
                        .with_help(
                            "add `aws:SourceAccount` (your account) or `aws:SourceArn` (the trail, topic or bucket) to the statement's conditions",
                        ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sends_source;

    #[test]
    fn services_that_send_source_keys() {
        assert!(sends_source("cloudtrail.amazonaws.com"));
        assert!(sends_source("guardduty.af-south-1.amazonaws.com"));
        assert!(sends_source("storage-lens.s3.amazonaws.com"));
        assert!(!sends_source("lambda.amazonaws.com"));
        assert!(!sends_source("s3"));
        assert!(!sends_source("logs.us-east-1.amazonaws.com"));
    }
}
