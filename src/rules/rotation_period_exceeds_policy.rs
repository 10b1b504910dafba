use super::key_pending_deletion::attribute_finding;
use super::rotation_disabled::{can_rotate, rotation_set_elsewhere};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key with automatic rotation on whose rotation period (`RotationPeriodInDays`,
    /// Terraform `rotation_period_in_days`) is longer than `max_rotation_days` in
    /// `keyproof.toml` (365 when not set).
    ///
    /// ## Why is this bad?
    /// KMS accepts rotation periods from 90 to 2560 days. A period longer than your policy
    /// allows means the same key material protects new data for longer than intended, which
    /// an audit against the policy (or a control such as PCI DSS 3.6.4 "cryptoperiod") flags.
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
    ///           "values": {
    ///             "enable_key_rotation": true,
    ///             "rotation_period_in_days": 730,
    ///             "region": "us-east-1"
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
    ///           "values": {
    ///             "enable_key_rotation": true,
    ///             "rotation_period_in_days": 365,
    ///             "region": "us-east-1"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Options
    /// `max_rotation_days` in `keyproof.toml` (90 to 2560, default 365).
    ///
    /// ## Known limitations
    /// A period that is not in the inputs (rotation status without `RotationPeriodInDays`, a
    /// Terraform value unknown until apply) is not compared, even though KMS then uses 365
    /// days. AWS managed keys (rotated yearly by AWS) and replicas whose primary is in the
    /// inputs (the period is the primary's) are not reported.
    ///
    /// ## References
    /// - [Rotating AWS KMS keys: rotation period](https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html#rotation-period)
    /// - [EnableKeyRotation: RotationPeriodInDays](https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html#KMS-EnableKeyRotation-request-RotationPeriodInDays)
    /// - [Terraform `aws_kms_key`: `rotation_period_in_days`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_key#rotation_period_in_days)
    pub RotationPeriodExceedsPolicy {
        id: "KP402",
        name: "rotation-period-exceeds-policy",
        category: Resilience,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for RotationPeriodExceedsPolicy {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let max = cx.settings.max_rotation_days;
        for key in &cx.world.keys {
            let Some(rotation) = &key.rotation else { continue };
            let Some(days) = rotation.period_days.filter(|d| rotation.enabled && *d > max) else { continue };
            if !can_rotate(key) || rotation_set_elsewhere(cx.world, key) {
                continue;
            }
            let message = format!(
                "key `{}` rotates every `{days}` days, longer than the `{max}` days of `max_rotation_days`",
                key.arn
            );
            let f = attribute_finding(cx, self, &key.origin, &["rotation_period_in_days"], message);
            out.push(f.with_resource(Some(key.arn.clone())).with_help(format!(
                "set the rotation period to at most {max} days (`rotation_period_in_days`, `aws kms enable-key-rotation --rotation-period-in-days`)"
            )));
        }
    }
}
