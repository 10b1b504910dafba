use super::rule::{declare_rule, Rule, RuleContext, RuleMeta};
use crate::policy::arn::Arn;
use crate::report::finding::Finding;
use crate::source::{SourceId, Span};
use crate::world::{Key, Origin, World};

declare_rule! {
    /// ## What it does
    /// Flags a key that is scheduled for deletion (`PendingDeletion`, or
    /// `PendingReplicaDeletion` for a multi-Region primary waiting for its replicas) while
    /// aliases, grants, resources (S3 default encryption and replication, DynamoDB tables and
    /// replicas, EBS snapshots) or `[[envelope]]` stores in the inputs still use it, and gives
    /// the deletion date.
    ///
    /// ## Why is this bad?
    /// When the waiting period ends, KMS deletes the key material for good: everything still
    /// encrypted under the key (objects, items, snapshots, data keys wrapped by an
    /// application) can never be decrypted again, and the aliases and grants go with it.
    /// Already now every cryptographic request with the key fails with
    /// `KMSInvalidStateException`. A deletion scheduled while the key is in use is almost
    /// always a mistake (or an attack) that can still be cancelled.
    ///
    /// ## Example
    /// `111122223333/kms/us-east-1/keys/1234abcd-12ab-34cd-56ef-1234567890ab/describe-key.json`,
    /// while `111122223333/kms/us-east-1/list-aliases.json` lists `alias/orders` for the key:
    /// ```json no-run
    /// {
    ///   "KeyMetadata": {
    ///     "AWSAccountId": "111122223333",
    ///     "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    ///     "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///     "Enabled": false,
    ///     "KeyState": "PendingDeletion",
    ///     "DeletionDate": "2024-04-02T00:00:00+00:00",
    ///     "KeyManager": "CUSTOMER",
    ///     "KeySpec": "SYMMETRIC_DEFAULT",
    ///     "KeyUsage": "ENCRYPT_DECRYPT",
    ///     "Origin": "AWS_KMS",
    ///     "MultiRegion": false
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "KeyMetadata": {
    ///     "AWSAccountId": "111122223333",
    ///     "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    ///     "Arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///     "Enabled": true,
    ///     "KeyState": "Enabled",
    ///     "KeyManager": "CUSTOMER",
    ///     "KeySpec": "SYMMETRIC_DEFAULT",
    ///     "KeyUsage": "ENCRYPT_DECRYPT",
    ///     "Origin": "AWS_KMS",
    ///     "MultiRegion": false
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only uses recorded in the inputs are seen: an application that calls KMS with the key
    /// id is invisible. Grants that were not collected (no `list-grants.json`) are not
    /// counted, and a key with no recorded use is not reported.
    ///
    /// ## References
    /// - [Deleting AWS KMS keys](https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html)
    /// - [Determining past usage of a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-determining-usage.html)
    /// - [CancelKeyDeletion](https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html)
    pub KeyPendingDeletion {
        id: "KP404",
        name: "key-pending-deletion",
        category: Resilience,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for KeyPendingDeletion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (i, key) in cx.world.keys.iter().enumerate() {
            let Some(meta) = &key.metadata else { continue };
            let when = match meta.state.as_str() {
                "PendingDeletion" => match &meta.deletion_date {
                    Some(d) => format!("is pending deletion on `{d}`"),
                    None => "is pending deletion (deletion date not known)".to_string(),
                },
                "PendingReplicaDeletion" => {
                    "is pending deletion once its replicas are deleted (`PendingReplicaDeletion`)".to_string()
                }
                _ => continue,
            };
            let uses = key_uses(cx, i);
            if uses.is_empty() {
                continue;
            }
            let message = format!("key `{}` {when} but is still used by {}", key.arn, describe_uses(&uses));
            let help = format!(
                "cancel the deletion (`aws kms cancel-key-deletion`) or move these users to another key before the date: once the key is deleted, data encrypted under it can never be decrypted{}",
                grants_note(key)
            );
            out.push(with_use_labels(cx, state_finding(cx, self, key, message), &uses).with_help(help));
        }
    }
}

/// Something in the inputs that uses a key.
pub(super) struct KeyUse {
    /// What, for messages: "alias `alias/orders`".
    pub what: String,
    /// Where it is written.
    pub origin: Origin,
}

/// The key a reference from a resource names (a key ARN, a key id, an alias name or an alias
/// ARN), resolved in the resource's account (any when empty) and Region (any when `None`).
pub(super) fn resolve_key_ref(world: &World, reference: &str, account: &str, region: Option<&str>) -> Option<usize> {
    let in_scope = |k: &Key| (account.is_empty() || k.account == account) && region.is_none_or(|r| k.region == r);
    if let Some(arn) = Arn::parse(reference) {
        if arn.resource.starts_with("key/") {
            return world.keys.iter().position(|k| k.arn == reference);
        }
        if arn.resource.starts_with("alias/") {
            let alias = world.aliases.iter().find(|a| a.arn == reference).or_else(|| {
                world
                    .aliases
                    .iter()
                    .find(|a| a.name == arn.resource && a.account == arn.account && a.region == arn.region)
            })?;
            return alias_target(world, alias);
        }
        return None;
    }
    if reference.starts_with("alias/") {
        let alias = world.aliases.iter().find(|a| {
            a.name == reference && (account.is_empty() || a.account == account) && region.is_none_or(|r| a.region == r)
        })?;
        return alias_target(world, alias);
    }
    let found: Vec<usize> =
        world.keys.iter().enumerate().filter(|(_, k)| k.id == reference && in_scope(k)).map(|(i, _)| i).collect();
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The key an alias points to, when it is in the world.
pub(super) fn alias_target(world: &World, alias: &crate::world::Alias) -> Option<usize> {
    let target = alias.target_key_id.as_deref()?;
    world
        .keys
        .iter()
        .position(|k| k.arn == target || (k.id == target && k.account == alias.account && k.region == alias.region))
}

/// Everything in the inputs that uses `world.keys[key]`: aliases, grants, S3 buckets (default
/// encryption, replica encryption), DynamoDB tables and replicas, EBS snapshots, and the
/// `[[envelope]]` stores of the settings.
pub(super) fn key_uses(cx: &RuleContext<'_>, key: usize) -> Vec<KeyUse> {
    let w = cx.world;
    let Some(k) = w.keys.get(key) else { return Vec::new() };
    let mut out = Vec::new();
    let mut push = |what: String, origin: &Origin| out.push(KeyUse { what, origin: origin.clone() });
    // Only a reference that holds the key's id, or an alias, can name it (checked before the
    // exact resolution, which searches the world).
    let names = |r: Option<&String>, account: &str, region: Option<&str>| {
        r.is_some_and(|r| {
            (r.contains(k.id.as_str()) || r.contains("alias/")) && resolve_key_ref(w, r, account, region) == Some(key)
        })
    };
    for a in &w.aliases {
        if a.target_key_id.as_deref().is_some_and(|t| t.contains(k.id.as_str())) && alias_target(w, a) == Some(key) {
            push(format!("alias `{}`", a.name), &a.origin);
        }
    }
    for g in k.grants.iter().flatten() {
        let name = g.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&g.id);
        push(format!("grant `{name}`"), &g.origin);
    }
    for b in &w.buckets {
        if names(b.kms_key.as_ref(), &b.account, None) {
            push(format!("the default encryption of bucket `{}`", b.name), &b.origin);
        }
        for (dest, rk) in &b.replication {
            if names(rk.as_ref(), "", None) {
                push(format!("the replication of bucket `{}` to `{dest}`", b.name), &b.origin);
            }
        }
    }
    for t in &w.tables {
        if names(t.kms_key.as_ref(), &t.account, Some(&t.region)) {
            push(format!("table `{}`", t.arn), &t.origin);
        }
        for (region, rk) in &t.replicas {
            if names(rk.as_ref(), &t.account, Some(region)) {
                push(format!("the `{region}` replica of table `{}`", t.arn), &t.origin);
            }
        }
    }
    for s in &w.snapshots {
        if names(s.kms_key.as_ref(), &s.account, Some(&s.region)) {
            push(format!("snapshot `{}`", s.id), &s.origin);
        }
    }
    for e in &cx.settings.envelopes {
        if w.find_key_index(&e.key) == Some(key) {
            let origin = Origin { source: cx.settings.config_source, span: e.span, ..Origin::default() };
            push(format!("the client-side encrypted store `{}`", e.store), &origin);
        }
    }
    out
}

/// A note for the help text when the key's grants were not collected.
pub(super) fn grants_note(key: &Key) -> &'static str {
    if key.grants.is_none() {
        " (its grants were not collected: there may be more users)"
    } else {
        ""
    }
}

/// "alias `a`, grant `g` and 3 more".
pub(super) fn describe_uses(uses: &[KeyUse]) -> String {
    const SHOWN: usize = 3;
    let names: Vec<&str> = uses.iter().map(|u| u.what.as_str()).collect();
    match names.len() {
        0 => String::new(),
        1 => names.join(""),
        n if n <= SHOWN => {
            let (last, rest) = names.split_last().map_or(("", &[][..]), |(l, r)| (*l, r));
            format!("{} and {last}", rest.join(", "))
        }
        n => format!("{} and {} more", names.get(..SHOWN).unwrap_or(&[]).join(", "), n - SHOWN),
    }
}

/// A finding on a key's state (`KeyState` of describe-key, else where the key is written).
pub(super) fn state_finding(cx: &RuleContext<'_>, rule: &dyn RuleMeta, key: &Key, message: String) -> Finding {
    attribute_finding(cx, rule, &key.origin, &["KeyState", "is_enabled", "enabled"], message)
        .with_resource(Some(key.arn.clone()))
}

/// A finding on the first of `names` written inside the element at `origin` (a Terraform
/// attribute, a describe-key field), else on the element itself.
pub(super) fn attribute_finding(
    cx: &RuleContext<'_>,
    rule: &dyn RuleMeta,
    origin: &Origin,
    names: &[&str],
    message: String,
) -> Finding {
    let attribute = origin.source.and_then(|source| {
        // An object read from a whole file (an AWS CLI output) records no span: search the file.
        let within = if origin.span == Span::default() { whole(cx, source)? } else { origin.span };
        names.iter().find_map(|name| cx.member_in(source, within, name)).map(|(span, pointer)| (source, span, pointer))
    });
    match attribute {
        Some((source, span, pointer)) => cx.finding_in(rule, source, span, pointer, message),
        None => cx.finding_at_origin(rule, origin, message),
    }
}

/// The span of a source's text without surrounding white space.
fn whole(cx: &RuleContext<'_>, source: SourceId) -> Option<Span> {
    let src = cx.world.sources.get(source)?;
    let text: &str = &src.text;
    let start = text.len() - text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}').len();
    let end = text.trim_end().len();
    (start < end).then(|| Span::new(start, end))
}

/// Adds a secondary label on each use that has a location.
pub(super) fn with_use_labels(cx: &RuleContext<'_>, mut f: Finding, uses: &[KeyUse]) -> Finding {
    for u in uses {
        if let Some(source) = u.origin.source {
            f = f.with_label(cx.label(source, u.origin.span, format!("used by {}", u.what)));
        }
    }
    f
}
