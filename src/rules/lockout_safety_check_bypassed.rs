use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key whose policy is set with the policy lockout safety check bypassed
    /// (`BypassPolicyLockoutSafetyCheck`, Terraform `bypass_policy_lockout_safety_check = true`).
    ///
    /// ## Why is this bad?
    /// The safety check makes KMS refuse a key policy that would stop the caller from changing
    /// the policy again. With it bypassed, one mistaken policy can make the key unmanageable:
    /// only AWS Support can restore access, and data encrypted under the key may be unreadable
    /// until then. AWS recommends bypassing it only with a reason and a tested policy.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.payments",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "payments",
    ///           "values": {
    ///             "bypass_policy_lockout_safety_check": true,
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.payments",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "payments",
    ///           "values": {
    ///             "bypass_policy_lockout_safety_check": false,
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## References
    /// - [PutKeyPolicy: BypassPolicyLockoutSafetyCheck](https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html#KMS-PutKeyPolicy-request-BypassPolicyLockoutSafetyCheck)
    /// - [Default key policy: allows access to the AWS account](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam)
    /// - [Terraform `aws_kms_key`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_key#bypass_policy_lockout_safety_check)
    pub LockoutSafetyCheckBypassed {
        id: "KP103",
        name: "lockout-safety-check-bypassed",
        category: Resilience,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for LockoutSafetyCheckBypassed {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for key in cx.world.keys.iter().filter(|k| k.bypass_lockout_check) {
            let message = format!("key `{}` bypasses the policy lockout safety check", key.arn);
            let attribute = key.origin.source.and_then(|source| {
                ["bypass_policy_lockout_safety_check", "BypassPolicyLockoutSafetyCheck"]
                    .iter()
                    .find_map(|name| cx.member_in(source, key.origin.span, name))
                    .map(|(span, pointer)| (source, span, pointer))
            });
            let finding = match attribute {
                Some((source, span, pointer)) => cx.finding_in(self, source, span, pointer, message),
                None => cx.finding_at_origin(self, &key.origin, message),
            };
            out.push(
                finding
                    .with_resource(Some(key.arn.clone()))
                    .with_help("remove `bypass_policy_lockout_safety_check`, or keep it only with a reviewed reason"),
            );
        }
    }
}
