use super::key_pending_deletion::{describe_uses, grants_note, key_uses, state_finding, with_use_labels};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a disabled key (`KeyState: Disabled`, Terraform `is_enabled = false` or, for a
    /// replica, `enabled = false`) that aliases, grants, resources (S3 default encryption and
    /// replication, DynamoDB tables and replicas, EBS snapshots) or `[[envelope]]` stores in
    /// the inputs still use.
    ///
    /// ## Why is this bad?
    /// Every cryptographic request with a disabled key fails with `DisabledException`: the
    /// bucket cannot store or read SSE-KMS objects, the table becomes inaccessible, volumes
    /// cannot be created from the snapshot, and applications cannot decrypt their data until
    /// the key is enabled again. Disabling a key that is still in use is an outage; if it was
    /// meant as a step before deletion, the users have to move first.
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
    ///           "address": "aws_kms_key.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": { "is_enabled": false, "enable_key_rotation": true, "region": "us-east-1" }
    ///         },
    ///         {
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "values": { "name": "alias/orders", "region": "us-east-1" }
    ///         }
    ///       ]
    ///     }
    ///   },
    ///   "configuration": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "expressions": {
    ///             "name": { "constant_value": "alias/orders" },
    ///             "target_key_id": { "references": ["aws_kms_key.orders.key_id", "aws_kms_key.orders"] }
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
    ///           "address": "aws_kms_key.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": { "is_enabled": true, "enable_key_rotation": true, "region": "us-east-1" }
    ///         },
    ///         {
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "values": { "name": "alias/orders", "region": "us-east-1" }
    ///         }
    ///       ]
    ///     }
    ///   },
    ///   "configuration": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "expressions": {
    ///             "name": { "constant_value": "alias/orders" },
    ///             "target_key_id": { "references": ["aws_kms_key.orders.key_id", "aws_kms_key.orders"] }
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only uses recorded in the inputs are seen: an application that calls KMS with the key
    /// id is invisible, and a disabled key with no recorded use is not reported. Grants that
    /// were not collected (no `list-grants.json`) are not counted.
    ///
    /// ## References
    /// - [Enabling and disabling keys](https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html)
    /// - [Key states of AWS KMS keys](https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html)
    /// - [Terraform `aws_kms_key`: `is_enabled`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_key#is_enabled)
    pub KeyDisabledInUse {
        id: "KP405",
        name: "key-disabled-in-use",
        category: Resilience,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for KeyDisabledInUse {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (i, key) in cx.world.keys.iter().enumerate() {
            if key.metadata.as_ref().is_none_or(|m| m.state != "Disabled") {
                continue;
            }
            let uses = key_uses(cx, i);
            if uses.is_empty() {
                continue;
            }
            let message = format!("key `{}` is disabled but is still used by {}", key.arn, describe_uses(&uses));
            let help = format!(
                "enable the key again, or move these users to another key: every request with a disabled key fails with `DisabledException`{}",
                grants_note(key)
            );
            out.push(with_use_labels(cx, state_finding(cx, self, key, message), &uses).with_help(help));
        }
    }
}
