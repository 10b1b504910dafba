use super::key_pending_deletion::{alias_target, attribute_finding};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::arn::Arn;
use crate::report::finding::Finding;
use crate::world::{Alias, World};

/// The prefix KMS reserves for the aliases of AWS managed keys.
const RESERVED_PREFIX: &str = "alias/aws/";

/// Longest alias name KMS accepts, `alias/` included.
const MAX_NAME_LEN: usize = 256;

declare_rule! {
    /// ## What it does
    /// Flags an alias that cannot work as written: it names a key of another account or
    /// Region, a customer alias uses the `alias/aws/` prefix reserved for AWS managed keys, or
    /// the name is invalid (it does not start with `alias/`, has nothing after it, is longer
    /// than 256 characters, or holds a character other than letters, digits, `/`, `_`, `-`
    /// and `:`).
    ///
    /// ## Why is this bad?
    /// An alias can only point to a key of its own account and Region, and KMS rejects the
    /// other cases with `InvalidAliasNameException` or `NotFoundException`. In Terraform the
    /// mistake surfaces only at apply time, usually after other resources of the change were
    /// created; applications that name the key by alias then fail.
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
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "values": {
    ///             "name": "alias/aws/orders",
    ///             "target_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
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
    ///           "address": "aws_kms_alias.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_alias",
    ///           "name": "orders",
    ///           "values": {
    ///             "name": "alias/orders",
    ///             "target_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "region": "us-east-1"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// An alias that names a key id of its own account and Region that is not in the inputs
    /// is not reported: the key may simply not have been collected (AWS deletes the aliases
    /// of a deleted key, so a live alias never names a deleted key). Whether KMS tests the
    /// reserved prefix case-insensitively is not documented; only `alias/aws/` is reported.
    ///
    /// ## References
    /// - [CreateAlias](https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html)
    /// - [Aliases in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html)
    /// - [Terraform `aws_kms_alias`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_alias)
    pub AliasMisconfigured {
        id: "KP406",
        name: "alias-misconfigured",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for AliasMisconfigured {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for alias in &cx.world.aliases {
            if alias.name.contains("<unknown:") {
                continue;
            }
            let resource = Some(alias.arn.clone());
            if let Some(why) = invalid_name(&alias.name) {
                let message = format!("alias name `{}` is invalid: it {why}", alias.name);
                let f = attribute_finding(cx, self, &alias.origin, &["name", "AliasName"], message);
                out.push(
                    f.with_resource(resource.clone())
                        .with_help("alias names are `alias/` followed by 1 to 250 letters, digits, `/`, `_` or `-`"),
                );
            } else if alias.name.starts_with(RESERVED_PREFIX) && is_customer_alias(cx.world, alias) {
                let message = format!(
                    "alias `{}` uses the `alias/aws/` prefix, which is reserved for AWS managed keys",
                    alias.name
                );
                let f = attribute_finding(cx, self, &alias.origin, &["name", "AliasName"], message);
                out.push(f.with_resource(resource.clone()).with_help(
                    "choose a name outside `alias/aws/`: KMS refuses to create it (`InvalidAliasNameException`)",
                ));
            }
            if let Some(elsewhere) = foreign_target(alias) {
                let message = format!("alias `{}` names {elsewhere}, which it cannot point to", alias.name);
                let f = attribute_finding(cx, self, &alias.origin, &["target_key_id", "TargetKeyId"], message);
                out.push(f.with_resource(resource).with_help(format!(
                    "an alias can only point to a key of its own account (`{}`) and Region (`{}`): create the alias there, or point it to a key of this Region",
                    alias.account, alias.region
                )));
            }
        }
    }
}

/// Why a name is not a valid alias name, if it is not.
fn invalid_name(name: &str) -> Option<String> {
    let Some(rest) = name.strip_prefix("alias/") else { return Some("does not start with `alias/`".into()) };
    if rest.is_empty() {
        return Some("has nothing after `alias/`".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Some(format!("is longer than {MAX_NAME_LEN} characters"));
    }
    let bad = rest.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | ':')))?;
    if bad.is_whitespace() {
        Some("holds white space, which alias names cannot contain".into())
    } else {
        Some(format!("holds `{bad}`, which alias names cannot contain"))
    }
}

/// An alias the customer created: written in Terraform, or pointing to a customer managed key.
fn is_customer_alias(world: &World, alias: &Alias) -> bool {
    alias.origin.tf_address.is_some()
        || alias_target(world, alias)
            .and_then(|i| world.keys.get(i))
            .and_then(|k| k.metadata.as_ref())
            .is_some_and(|m| m.manager == "CUSTOMER")
}

/// "key `arn` of account `a`" when the alias names a key by an ARN of another account or Region.
fn foreign_target(alias: &Alias) -> Option<String> {
    let target = alias.target_key_id.as_deref()?;
    let arn = Arn::parse(target)?;
    if !arn.resource.starts_with("key/") || target.contains("<unknown:") {
        return None;
    }
    if !arn.account.is_empty() && !alias.account.is_empty() && arn.account != alias.account {
        Some(format!("key `{target}` of account `{}`", arn.account))
    } else if !arn.region.is_empty() && !alias.region.is_empty() && arn.region != alias.region {
        Some(format!("key `{target}` in Region `{}`", arn.region))
    } else {
        None
    }
}
