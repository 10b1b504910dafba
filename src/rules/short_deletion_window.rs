use super::key_pending_deletion::attribute_finding;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::world::Key;

/// The longest waiting period KMS allows, and its default.
const FULL_WINDOW_DAYS: u32 = 30;

declare_rule! {
    /// ## What it does
    /// Flags a key whose deletion waiting period is shorter than 30 days: Terraform
    /// `deletion_window_in_days`, or `PendingDeletionWindowInDays` of a key being deleted.
    ///
    /// ## Why is this bad?
    /// Deleting a KMS key destroys its key material and makes every ciphertext under it
    /// unreadable for good. The waiting period (7 to 30 days, default 30) is the only time in
    /// which an accidental or malicious deletion can be noticed (CloudTrail, the CloudWatch
    /// alarm AWS suggests for `ScheduleKeyDeletion`) and cancelled. A shorter window buys
    /// nothing in return.
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
    ///           "values": { "deletion_window_in_days": 7, "enable_key_rotation": true, "region": "us-east-1" }
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
    ///           "values": { "deletion_window_in_days": 30, "enable_key_rotation": true, "region": "us-east-1" }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// The waiting period of a key scheduled for deletion through the API is only known when
    /// `describe-key` shows `PendingDeletionWindowInDays` (a primary waiting for its
    /// replicas); a `DeletionDate` alone does not tell when the deletion was scheduled.
    ///
    /// ## References
    /// - [Deleting AWS KMS keys: waiting period](https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html#deleting-keys-how-it-works)
    /// - [Creating an alarm that detects use of a KMS key pending deletion](https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-creating-cloudwatch-alarm.html)
    /// - [Terraform `aws_kms_key`: `deletion_window_in_days`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_key#deletion_window_in_days)
    pub ShortDeletionWindow {
        id: "KP403",
        name: "short-deletion-window",
        category: Resilience,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for ShortDeletionWindow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for key in &cx.world.keys {
            let Some(days) = key.deletion_window_days.or_else(|| described_window(cx, key)) else { continue };
            if days >= FULL_WINDOW_DAYS {
                continue;
            }
            let message = format!("key `{}` has a deletion waiting period of `{days}` days, shorter than 30", key.arn);
            let f = attribute_finding(
                cx,
                self,
                &key.origin,
                &["deletion_window_in_days", "PendingDeletionWindowInDays"],
                message,
            );
            out.push(f.with_resource(Some(key.arn.clone())).with_help(
                "use the full 30 days (`deletion_window_in_days = 30`, the default): it is the only time in which a mistaken deletion can be cancelled",
            ));
        }
    }
}

/// `PendingDeletionWindowInDays` written in the key's describe-key output.
fn described_window(cx: &RuleContext<'_>, key: &Key) -> Option<u32> {
    let source = key.origin.source?;
    let (span, _) = cx.member_in(source, key.origin.span, "PendingDeletionWindowInDays")?;
    cx.world.sources.get(source)?.slice(span)?.trim().parse().ok()
}
