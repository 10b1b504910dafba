use super::key_pending_deletion::attribute_finding;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an S3 bucket whose default encryption is SSE-KMS (`aws:kms`) with S3 Bucket Keys
    /// explicitly off (`BucketKeyEnabled: false`, Terraform `bucket_key_enabled = false`).
    ///
    /// ## Why is this bad?
    /// Without a bucket key, S3 calls KMS for every object it writes and for every object it
    /// reads: one `GenerateDataKey` or `Decrypt` request per object. That costs KMS request
    /// fees, counts against the KMS request quota of the account and Region (throttling
    /// busy buckets and everything else using KMS there), and fills CloudTrail. A bucket key
    /// cuts these requests by up to 99 % without weakening the encryption.
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
    ///           "address": "aws_s3_bucket_server_side_encryption_configuration.logs",
    ///           "mode": "managed",
    ///           "type": "aws_s3_bucket_server_side_encryption_configuration",
    ///           "name": "logs",
    ///           "values": {
    ///             "bucket": "example-logs",
    ///             "rule": [
    ///               {
    ///                 "apply_server_side_encryption_by_default": [
    ///                   { "sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    ///                 ],
    ///                 "bucket_key_enabled": false
    ///               }
    ///             ]
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
    ///           "address": "aws_s3_bucket_server_side_encryption_configuration.logs",
    ///           "mode": "managed",
    ///           "type": "aws_s3_bucket_server_side_encryption_configuration",
    ///           "name": "logs",
    ///           "values": {
    ///             "bucket": "example-logs",
    ///             "rule": [
    ///               {
    ///                 "apply_server_side_encryption_by_default": [
    ///                   { "sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    ///                 ],
    ///                 "bucket_key_enabled": true
    ///               }
    ///             ]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// A bucket whose `BucketKeyEnabled` is not in the inputs is not reported, although S3
    /// then does not use a bucket key. Dual-layer encryption (`aws:kms:dsse`) does not support
    /// bucket keys and is not reported.
    ///
    /// ## References
    /// - [Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys](https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html)
    /// - [AWS KMS request quotas](https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html)
    /// - [Terraform `aws_s3_bucket_server_side_encryption_configuration`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_server_side_encryption_configuration#bucket_key_enabled)
    pub S3BucketKeyDisabled {
        id: "KP504",
        name: "s3-bucket-key-disabled",
        category: Resilience,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for S3BucketKeyDisabled {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for b in &cx.world.buckets {
            if b.sse_algorithm.as_deref() != Some("aws:kms") || b.bucket_key_enabled != Some(false) {
                continue;
            }
            let key =
                b.kms_key.as_deref().map_or_else(|| "the AWS managed key `aws/s3`".to_string(), |k| format!("`{k}`"));
            let message = format!(
                "bucket `{}` encrypts objects with SSE-KMS under {key} without a bucket key: one KMS request per object",
                b.name
            );
            let f = attribute_finding(cx, self, &b.origin, &["bucket_key_enabled", "BucketKeyEnabled"], message);
            out.push(
                f.with_resource(Some(format!("arn:aws:s3:::{}", b.name)))
                    .with_help("enable S3 Bucket Keys (`bucket_key_enabled = true`, `BucketKeyEnabled: true`)"),
            );
        }
    }
}
