//! `aws_kms_key`, `aws_kms_external_key`, `aws_kms_replica_key`, `aws_kms_replica_external_key`,
//! `aws_kms_key_policy`, `aws_kms_alias`, `aws_kms_grant`.

use std::collections::{BTreeMap, BTreeSet};

use super::{origin, policy_slot, tags, unknown_note, DocRole, Res, Tf, Val};
use crate::ingest::part::{DocSpec, Part};
use crate::ingest::snapshot::key_arn;
use crate::policy::arn::is_account_id;
use crate::policy::json::Json;
use crate::policy::model::DocKind;
use crate::policy::parse::parse_policy_text;
use crate::world::{Alias, Grant, KeyMetadata, PolicySlot, Rotation};

pub(super) fn load(p: &mut Part, tf: &Tf<'_>) {
    let mut own_policy: BTreeSet<String> = BTreeSet::new();
    for r in tf.of(&["aws_kms_key", "aws_kms_external_key"]) {
        key(p, tf, r, &mut own_policy);
    }
    for r in tf.of(&["aws_kms_replica_key", "aws_kms_replica_external_key"]) {
        key(p, tf, r, &mut own_policy);
    }
    for r in tf.of(&["aws_kms_key_policy"]) {
        key_policy(p, tf, r, &own_policy);
    }
    for r in tf.of(&["aws_kms_alias"]) {
        alias(p, tf, r);
    }
    for r in tf.of(&["aws_kms_grant"]) {
        grant(p, tf, r);
    }
}

/// A key named by an attribute.
pub(super) enum KeyRef {
    /// A key ARN, an alias name or an alias ARN.
    Arn(String),
    /// Unknown until apply.
    Unknown,
    /// Not set.
    Unset,
}

/// A key named by an attribute (`key_id`, `target_key_id`, `kms_key_id`, …): a key of the
/// plan (by its ARN, id or address), or the value as given (an ARN or an alias; a bare key
/// id becomes an ARN in the resource's account and Region).
pub(super) fn key_ref(p: &Part, tf: &Tf<'_>, r: &Res<'_>, path: &[&str]) -> KeyRef {
    match tf.val(r, path) {
        Val::Known(s) => KeyRef::Arn(known_key(p, r, &s)),
        Val::Ref(t, attr) => {
            let whole = matches!(attr.as_str(), "" | "arn" | "id" | "key_id" | "name");
            match tf.ident(&t).arn {
                Some(a) if whole => KeyRef::Arn(a),
                _ => KeyRef::Unknown,
            }
        }
        Val::Unknown => KeyRef::Unknown,
        Val::Unset => KeyRef::Unset,
    }
}

fn known_key(p: &Part, r: &Res<'_>, s: &str) -> String {
    if s.starts_with("arn:") || s.starts_with("alias/") {
        return s.to_string();
    }
    let same = p.w.keys.iter().find(|k| k.id == s && k.region == r.region && k.account == r.account);
    match same {
        Some(k) => k.arn.clone(),
        None => key_arn(&r.region, &r.account, s),
    }
}

/// The programmatic default key policy (semantics.md §5.1), as KMS stores it.
fn default_policy_text(partition: &str, account: &str) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{ \"AWS\" : \"arn:{partition}:iam::{account}:root\" }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}\n"
    )
}

/// The default key policy AWS attaches to a key created without one, read as an in-memory
/// source of its own (`<plan>#default-policy(<address>)`).
fn default_policy(p: &mut Part, r: &Res<'_>, arn: &str, account: &str) -> PolicySlot {
    // The account is written into the policy text: anything but an account id (a malformed
    // `arn` in the plan) would make that text something else than the default policy.
    if !is_account_id(account) {
        let reason = format!("the key ARN of `{}` names no account: its default key policy is unknown", r.address);
        p.assume(reason.clone());
        return PolicySlot::Unknown(reason);
    }
    let text = default_policy_text(r.partition(), account);
    let name = format!("{}#default-policy({})", p.path, r.address);
    let src = p.w.sources.add_file(name, text.clone());
    let start = p.w.diagnostics.len();
    let slot = match parse_policy_text(src, &text, &mut p.w.diagnostics) {
        Some(policy) => {
            let spec = DocSpec {
                kind: DocKind::KeyPolicy,
                name: "key-policy".into(),
                account: Some(account.to_string()),
                managed_name: None,
                resource: Some(arn.to_string()),
            };
            p.register(policy, spec, start)
        }
        None => PolicySlot::Unknown(format!("the default key policy of `{}` could not be read", r.address)),
    };
    p.assume(format!("AWS attaches the default key policy to `{}`", r.address));
    slot
}

/// Notes metadata attributes that are unknown until apply (the defaults are used).
fn unknown_metadata(p: &mut Part, r: &Res<'_>, attrs: &[&str]) {
    for a in attrs {
        if r.is_unknown(&[a]) && r.configured(&[a]) != Some(false) {
            p.assume(format!("`{a}` of `{}` is unknown until apply: read as the AWS default", r.address));
        }
    }
}

fn key(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, own_policy: &mut BTreeSet<String>) {
    let Some(arn) = tf.ident(&r.address).arn else { return };
    let replica = r.rtype.starts_with("aws_kms_replica");
    let external = r.rtype.ends_with("external_key");
    let mut meta = KeyMetadata::default();
    let mut rotation = None;
    if external {
        meta.origin = "EXTERNAL".into();
    }
    if replica {
        let primary = match tf.val(r, &["primary_key_arn"]) {
            Val::Known(a) => Some(a),
            Val::Ref(t, _) => tf.ident(&t).arn,
            Val::Unknown | Val::Unset => None,
        };
        meta.multi_region = true;
        meta.multi_region_type = Some("REPLICA".into());
        meta.primary_arn.clone_from(&primary);
        match primary.as_deref().and_then(|a| p.w.keys.iter_mut().find(|k| k.arn == a)) {
            Some(pk) => {
                if let Some(pm) = &mut pk.metadata {
                    meta.spec.clone_from(&pm.spec);
                    meta.usage.clone_from(&pm.usage);
                    if !pm.replica_arns.contains(&arn) {
                        pm.replica_arns.push(arn.clone());
                    }
                }
                rotation.clone_from(&pk.rotation);
            }
            None => p.assume(format!(
                "the primary key of `{}` is not in the plan: its key spec, usage and rotation are not known",
                r.address
            )),
        }
        if r.known_bool(&["enabled"]) == Some(false) {
            meta.state = "Disabled".into();
        }
        unknown_metadata(p, r, &["enabled"]);
    } else {
        if r.known_bool(&["is_enabled"]) == Some(false) || r.known_bool(&["enabled"]) == Some(false) {
            meta.state = "Disabled".into();
        }
        if let Some(s) = r.known(&["customer_master_key_spec"]).or_else(|| r.known(&["key_spec"])) {
            meta.spec = s;
        }
        if let Some(u) = r.known(&["key_usage"]) {
            meta.usage = u;
        }
        if r.known_bool(&["multi_region"]) == Some(true) {
            meta.multi_region = true;
            meta.multi_region_type = Some("PRIMARY".into());
        }
        if r.known(&["xks_key_id"]).is_some() {
            meta.origin = "EXTERNAL_KEY_STORE".into();
        } else if r.known(&["custom_key_store_id"]).is_some() {
            meta.origin = "AWS_CLOUDHSM".into();
        }
        if let Some(enabled) = r.known_bool(&["enable_key_rotation"]) {
            let period_days = if enabled { r.known_u32(&["rotation_period_in_days"]) } else { None };
            rotation = Some(Rotation { enabled, period_days });
        }
        unknown_metadata(
            p,
            r,
            &["is_enabled", "key_usage", "customer_master_key_spec", "multi_region", "enable_key_rotation"],
        );
    }
    meta.description = r.known(&["description"]);

    let account = crate::ingest::part::split_key_arn(&arn).0;
    if r.known(&["policy"]).is_some() || r.configured(&["policy"]) == Some(true) {
        own_policy.insert(arn.clone());
    }
    let role = DocRole {
        kind: DocKind::KeyPolicy,
        attr: "policy",
        name: "key-policy".into(),
        undecided: "who may use and manage the key".into(),
        resource: arn.clone(),
        managed_name: None,
        required: false,
    };
    let slot = match policy_slot(p, tf, r, &["policy"], role) {
        Some(s) => s,
        None => default_policy(p, r, &arn, &account),
    };
    let o = origin(p, r);
    let key = p.key_mut(&arn);
    key.metadata = Some(meta);
    key.rotation = rotation;
    key.tags = Some(tags(r));
    key.grants.get_or_insert_with(Vec::new);
    key.bypass_lockout_check |= r.known_bool(&["bypass_policy_lockout_safety_check"]) == Some(true);
    key.deletion_window_days = r.known_u32(&["deletion_window_in_days"]);
    key.policy = Some(slot);
    key.origin = o;
}

fn key_policy(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, own_policy: &BTreeSet<String>) {
    let arn = match key_ref(p, tf, r, &["key_id"]) {
        KeyRef::Arn(a) => a,
        KeyRef::Unknown | KeyRef::Unset => {
            let msg = format!(
                "the key of `{}` is unknown until apply{}: which key its policy replaces cannot be decided",
                r.address,
                r.depends(&["key_id"])
            );
            unknown_note(p, r, None, msg);
            return;
        }
    };
    if own_policy.contains(&arn) {
        let key_addr =
            p.w.keys
                .iter()
                .find(|k| k.arn == arn)
                .and_then(|k| k.origin.tf_address.clone())
                .unwrap_or_else(|| arn.clone());
        p.assume(format!(
            "`{key_addr}` sets its own `policy` and `{}` replaces it: both write the one key policy (the last apply wins); read as the policy of `{}`",
            r.address, r.address
        ));
    }
    let role = DocRole {
        kind: DocKind::KeyPolicy,
        attr: "policy",
        name: "key-policy".into(),
        undecided: "who may use and manage the key".into(),
        resource: arn.clone(),
        managed_name: None,
        required: true,
    };
    let Some(slot) = policy_slot(p, tf, r, &["policy"], role) else { return };
    let o = origin(p, r);
    let key = p.key_mut(&arn);
    key.policy = Some(slot);
    key.bypass_lockout_check |= r.known_bool(&["bypass_policy_lockout_safety_check"]) == Some(true);
    if key.origin.source.is_none() {
        key.origin = o;
    }
}

fn alias(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(name), Some(arn)) = (id.name, id.arn) else { return };
    if r.known(&["name"]).is_none() {
        let msg = format!(
            "the name of `{}` is unknown until apply: conditions on the key's aliases cannot be decided",
            r.address
        );
        unknown_note(p, r, Some(&arn), msg);
    }
    let target_key_id = match key_ref(p, tf, r, &["target_key_id"]) {
        KeyRef::Arn(a) => Some(a),
        KeyRef::Unknown => {
            let msg = format!(
                "the key of `{}` is unknown until apply{}: which key `{name}` names cannot be decided",
                r.address,
                r.depends(&["target_key_id"])
            );
            unknown_note(p, r, Some(&arn), msg);
            None
        }
        KeyRef::Unset => None,
    };
    let origin = origin(p, r);
    p.w.aliases.push(Alias { name, arn, account: r.account.clone(), region: r.region.clone(), target_key_id, origin });
}

fn context_map(v: Option<&Json>) -> Option<BTreeMap<String, String>> {
    let v = v.filter(|v| v.is_object())?;
    Some(v.members().iter().filter_map(|m| m.value.scalar_text().map(|s| (m.key.to_string(), s))).collect())
}

fn grant(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let key = match key_ref(p, tf, r, &["key_id"]) {
        KeyRef::Arn(a) => a,
        KeyRef::Unknown | KeyRef::Unset => {
            let msg = format!(
                "the key of grant `{}` is unknown until apply{}: which key it lets its grantee use cannot be decided",
                r.address,
                r.depends(&["key_id"])
            );
            unknown_note(p, r, None, msg);
            return;
        }
    };
    let skip = |p: &mut Part, what: &str, attr: &str| {
        let msg = format!(
            "the {what} of grant `{}` is unknown until apply{}: who may use `{key}` through it cannot be decided",
            r.address,
            r.depends(&[attr])
        );
        unknown_note(p, r, Some(&key), msg);
        p.assume(format!("grant `{}` of `{key}` is left out: its {what} is unknown until apply", r.address));
    };
    let grantee = match tf.arn_val(r, &["grantee_principal"]) {
        Val::Known(g) => g,
        _ => return skip(p, "grantee", "grantee_principal"),
    };
    let (operations, ops_unknown) = r.known_list(&["operations"]);
    if ops_unknown {
        return skip(p, "operations", "operations");
    }
    if r.is_unknown(&["constraints"]) {
        return skip(p, "constraints", "constraints");
    }
    let retiring = match tf.arn_val(r, &["retiring_principal"]) {
        Val::Known(s) => Some(s),
        Val::Unset => None,
        Val::Ref(..) | Val::Unknown => {
            let msg = format!(
                "the retiring principal of grant `{}` is unknown until apply{}: who may retire it cannot be decided",
                r.address,
                r.depends(&["retiring_principal"])
            );
            unknown_note(p, r, Some(&key), msg);
            None
        }
    };
    let (mut ec_equals, mut ec_subset) = (None, None);
    for c in r.value(&["constraints"]).and_then(Json::as_array).unwrap_or(&[]) {
        ec_equals = ec_equals.or_else(|| context_map(c.get("encryption_context_equals")));
        ec_subset = ec_subset.or_else(|| context_map(c.get("encryption_context_subset")));
    }
    let g = Grant {
        id: r.known(&["grant_id"]).unwrap_or_else(|| r.placeholder()),
        name: r.known(&["name"]),
        key_arn: key.clone(),
        grantee,
        retiring,
        issuing_account: Some(r.account.clone()),
        operations,
        ec_equals,
        ec_subset,
        source_arn: None,
        origin: origin(p, r),
    };
    p.key_mut(&key).grants.get_or_insert_with(Vec::new).push(g);
}
