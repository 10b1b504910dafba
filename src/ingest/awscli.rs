//! AWS CLI outputs (semantics.md §9): KMS, IAM authorization details, Organizations, and the
//! S3 / DynamoDB / EC2 outputs of the snapshot layout. Unknown fields are ignored, absent
//! optional fields tolerated; a wrong type is a `KP152` diagnostic and the field is read as
//! absent.

use super::part::{child, DocSpec, IamPage, Part};
use super::recognize::{recognize, Shape};
use super::snapshot::{key_arn, PathContext};
use crate::policy::arn::{is_account_id, Arn};
use crate::policy::json::Json;
use crate::policy::model::DocKind;
use crate::world::{
    Alias, Bucket, Grant, Group, KeyMetadata, ManagedPolicy, OrgPolicy, Origin, PolicySlot, Role, Rotation, Snapshot,
    Table, Tags, User,
};

/// Loads a recognised CLI output (anything but a bare policy or a Terraform file).
pub(crate) fn load(p: &mut Part, shape: Shape, v: &Json, cx: &PathContext, ptr: &str) {
    match shape {
        Shape::GetKeyPolicy => get_key_policy(p, v, ptr),
        Shape::DescribeKey => describe_key(p, v, ptr),
        Shape::ListGrants => list_grants(p, v, ptr),
        Shape::ListAliases => list_aliases(p, v, ptr),
        Shape::RotationStatus => rotation_status(p, v, ptr),
        Shape::ListKeys => list_keys(p, v, ptr),
        Shape::ListResourceTags => list_resource_tags(p, v, ptr),
        Shape::AuthorizationDetails => authorization_details(p, v, ptr),
        Shape::OrgDescribePolicy => describe_policy(p, v, cx, ptr),
        Shape::OrgListPolicies => list_policies(p, v, cx, ptr),
        Shape::OrgDescribeOrganization => describe_organization(p, v, ptr),
        Shape::OrgListAccounts => list_accounts(p, v, cx, ptr),
        Shape::OrgListRoots => list_roots(p, v, ptr),
        Shape::OrgListOus => list_ous(p, v, cx, ptr),
        Shape::OrgListTargets => list_targets(p, v, cx, ptr),
        Shape::OrgListParents => list_parents(p, v, cx, ptr),
        Shape::OrgListChildren => list_children(p, v, cx, ptr),
        Shape::OrgHierarchy => hierarchy(p, v, cx, ptr),
        Shape::S3Encryption => bucket_encryption(p, v, ptr),
        Shape::S3Replication => bucket_replication(p, v, ptr),
        Shape::DynamoTable => describe_table(p, v, ptr),
        Shape::Ec2Snapshots => describe_snapshots(p, v, ptr),
        Shape::Ec2SnapshotAttribute => snapshot_attribute(p, v, ptr),
        Shape::Policy { .. } | Shape::Terraform => {}
    }
}

fn origin(p: &Part, v: &Json, ptr: &str) -> Origin {
    Origin { source: Some(p.src), span: v.span, pointer: ptr.to_string(), tf_address: None }
}

fn account_of(arn: &str) -> Option<String> {
    Arn::parse(arn).map(|a| a.account).filter(|a| is_account_id(a)).map(str::to_string)
}

fn region_of(arn: &str) -> Option<String> {
    Arn::parse(arn).map(|a| a.region).filter(|r| !r.is_empty()).map(str::to_string)
}

/// `o-…` from an Organizations ARN (`…:root/o-abc/r-1`, `…:policy/o-abc/…`, `…:account/o-abc/…`).
fn org_id_of(arn: &str) -> Option<String> {
    let a = Arn::parse(arn)?;
    a.resource.split('/').find(|s| s.starts_with("o-")).map(str::to_string)
}

/// Items of an array member as (pointer, element) pairs, objects only; other elements are
/// reported.
fn objects<'t>(p: &mut Part, v: &'t Json, key: &str, ptr: &str) -> Vec<(String, &'t Json)> {
    let base = child(ptr, key);
    let mut out = Vec::new();
    for (i, it) in p.array_at(v, key, ptr).iter().enumerate() {
        let ip = format!("{base}/{i}");
        if it.is_object() {
            out.push((ip, it));
        } else {
            p.diag("KP152", it.span, &ip, format!("an element of `{key}` must be an object, not {}", it.kind_name()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// KMS

fn get_key_policy(p: &mut Part, v: &Json, ptr: &str) {
    let Some(pv) = v.get("Policy") else { return };
    let start = p.w.diagnostics.len();
    let policy = p.read_policy(pv, &child(ptr, "Policy"), "Policy");
    p.touch_context_account();
    p.attach_key_policy(policy, start);
}

fn describe_key(p: &mut Part, v: &Json, ptr: &str) {
    let mp = child(ptr, "KeyMetadata");
    let Some(md) = p.obj_at(v, "KeyMetadata", ptr) else { return };
    let account = p.str_at(md, "AWSAccountId", &mp);
    let key_id = p.str_at(md, "KeyId", &mp);
    let arn_field = p.str_at(md, "Arn", &mp);
    let enabled = p.bool_at(md, "Enabled", &mp);
    let state = p.str_at(md, "KeyState", &mp);
    let spec = p.str_at(md, "KeySpec", &mp);
    let cmk_spec = p.str_at(md, "CustomerMasterKeySpec", &mp);
    let usage = p.str_at(md, "KeyUsage", &mp);
    let key_origin = p.str_at(md, "Origin", &mp);
    let manager = p.str_at(md, "KeyManager", &mp);
    let multi_region = p.bool_at(md, "MultiRegion", &mp);
    let description = p.str_at(md, "Description", &mp);
    let deletion_date = p.time_at(md, "DeletionDate", &mp);
    let _ = p.time_at(md, "CreationDate", &mp);
    let mut meta = KeyMetadata::default();
    if let Some(s) = state {
        meta.state = s;
    } else if enabled == Some(false) {
        meta.state = "Disabled".into();
    }
    if let Some(s) = spec.or(cmk_spec) {
        meta.spec = s;
    }
    if let Some(u) = usage {
        meta.usage = u;
    }
    if let Some(o) = key_origin {
        meta.origin = o;
    }
    if let Some(m) = manager {
        meta.manager = m;
    }
    meta.multi_region = multi_region.unwrap_or(false);
    meta.description = description.filter(|d| !d.is_empty());
    meta.deletion_date = deletion_date;
    let cp = child(&mp, "MultiRegionConfiguration");
    if let Some(mrc) = p.obj_at(md, "MultiRegionConfiguration", &mp) {
        meta.multi_region_type = p.str_at(mrc, "MultiRegionKeyType", &cp);
        if let Some(pk) = p.obj_at(mrc, "PrimaryKey", &cp) {
            meta.primary_arn = p.str_at(pk, "Arn", &child(&cp, "PrimaryKey"));
        }
        for (rp, r) in objects(p, mrc, "ReplicaKeys", &cp) {
            if let Some(a) = p.str_at(r, "Arn", &rp) {
                meta.replica_arns.push(a);
            }
        }
    }
    let arn = match (p.ctx.key_arn(), arn_field) {
        (Some(c), Some(a)) => {
            if c != a {
                let msg = format!("`{}` describes `{a}` but sits in the directory of `{c}`: read as `{c}`", p.path);
                p.assume(msg);
            }
            c
        }
        (Some(c), None) => c,
        (None, Some(a)) => a,
        (None, None) => match (account, key_id) {
            (Some(a), Some(k)) => key_arn(&p.region.clone(), &a, &k),
            _ => {
                p.diag("KP152", md.span, &mp, "`KeyMetadata` has no `Arn` (nor `AWSAccountId` and `KeyId`)".into());
                return;
            }
        },
    };
    p.touch_context_account();
    let o = origin(p, md, &mp);
    let key = p.key_mut(&arn);
    key.metadata = Some(meta);
    if key.origin.source.is_none() {
        key.origin = o;
    }
    let acct = key.account.clone();
    if is_account_id(&acct) {
        p.w.touch_account(&acct);
    }
}

fn list_grants(p: &mut Part, v: &Json, ptr: &str) {
    let ctx_arn = p.ctx.key_arn();
    let mut keys: Vec<String> = Vec::new();
    if let Some(a) = &ctx_arn {
        p.key_mut(a).grants.get_or_insert_with(Vec::new);
        keys.push(a.clone());
    }
    for (gp, g) in objects(p, v, "Grants", ptr) {
        let key_field = p.str_at(g, "KeyId", &gp);
        let Some(arn) = ctx_arn.clone().or_else(|| key_field.clone().filter(|k| k.starts_with("arn:"))) else {
            p.diag("KP152", g.span, &gp, "grant names no key ARN in `KeyId` and is not in a key directory".into());
            continue;
        };
        let id = p.str_at(g, "GrantId", &gp).unwrap_or_default();
        let name = p.str_at(g, "Name", &gp).filter(|n| !n.is_empty());
        let grantee = p.str_at(g, "GranteePrincipal", &gp);
        let retiring = p.str_at(g, "RetiringPrincipal", &gp);
        let issuing_account = p.str_at(g, "IssuingAccount", &gp);
        let operations = p.str_list_at(g, "Operations", &gp);
        let _ = p.time_at(g, "CreationDate", &gp);
        let cp = child(&gp, "Constraints");
        let (mut ec_equals, mut ec_subset, mut source_arn) = (None, None, None);
        if let Some(c) = p.obj_at(g, "Constraints", &gp) {
            ec_equals = p.str_map_at(c, "EncryptionContextEquals", &cp);
            ec_subset = p.str_map_at(c, "EncryptionContextSubset", &cp);
            source_arn = p.str_at(c, "SourceArn", &cp);
        }
        let Some(grantee) = grantee else {
            if g.get("GranteePrincipal").is_none() {
                p.diag("KP152", g.span, &gp, format!("grant `{id}` has no `GranteePrincipal`"));
            }
            p.key_mut(&arn).grants.get_or_insert_with(Vec::new);
            let msg = format!("a grant of `{arn}` in `{}` could not be read: its grants are incomplete", p.path);
            p.assume(msg);
            continue;
        };
        let grant = Grant {
            id,
            name,
            key_arn: arn.clone(),
            grantee,
            retiring,
            issuing_account,
            operations,
            ec_equals,
            ec_subset,
            source_arn,
            origin: origin(p, g, &gp),
        };
        p.key_mut(&arn).grants.get_or_insert_with(Vec::new).push(grant);
        if !keys.contains(&arn) {
            keys.push(arn);
        }
    }
    if p.bool_at(v, "Truncated", ptr) == Some(true) {
        let path = p.path.clone();
        if keys.is_empty() {
            p.assume(format!("`{path}` is truncated (`Truncated: true`): its grants may be incomplete"));
        }
        for k in keys {
            p.assume(format!("grants of `{k}` may be incomplete: `{path}` is truncated (`Truncated: true`)"));
        }
    }
    p.touch_context_account();
}

fn list_aliases(p: &mut Part, v: &Json, ptr: &str) {
    for (ap, a) in objects(p, v, "Aliases", ptr) {
        let Some(name) = p.str_at(a, "AliasName", &ap) else {
            p.diag("KP152", a.span, &ap, "alias has no `AliasName`".into());
            continue;
        };
        let arn = p.str_at(a, "AliasArn", &ap);
        let target_key_id = p.str_at(a, "TargetKeyId", &ap);
        let account = arn
            .as_deref()
            .and_then(account_of)
            .or_else(|| p.ctx.account.clone())
            .or_else(|| p.account_opt.clone())
            .unwrap_or_default();
        let region =
            arn.as_deref().and_then(region_of).or_else(|| p.ctx.region.clone()).unwrap_or_else(|| p.region.clone());
        let arn = arn
            .unwrap_or_else(|| format!("arn:{}:kms:{region}:{account}:{name}", super::snapshot::partition_of(&region)));
        let o = origin(p, a, &ap);
        p.w.aliases.push(Alias { name, arn, account, region, target_key_id, origin: o });
    }
    p.touch_context_account();
}

fn rotation_status(p: &mut Part, v: &Json, ptr: &str) {
    let enabled = p.bool_at(v, "KeyRotationEnabled", ptr);
    let period_days = p.u32_at(v, "RotationPeriodInDays", ptr);
    let key_field = p.str_at(v, "KeyId", ptr);
    let _ = p.time_at(v, "NextRotationDate", ptr);
    let Some(enabled) = enabled else { return };
    let Some(arn) = p.ctx.key_arn().or_else(|| key_field.filter(|k| k.starts_with("arn:"))) else {
        let msg = format!("`{}` gives a rotation status but names no key ARN: ignored", p.path);
        p.assume(msg);
        return;
    };
    p.touch_context_account();
    p.key_mut(&arn).rotation = Some(Rotation { enabled, period_days });
}

fn list_keys(p: &mut Part, v: &Json, ptr: &str) {
    for (kp, k) in objects(p, v, "Keys", ptr) {
        let id = p.str_at(k, "KeyId", &kp);
        let arn = p.str_at(k, "KeyArn", &kp);
        let arn = match (arn, id, &p.ctx.account) {
            (Some(a), _, _) => a,
            (None, Some(id), Some(acct)) => {
                key_arn(&p.ctx.region.clone().unwrap_or_else(|| p.region.clone()), &acct.clone(), &id)
            }
            _ => {
                p.diag("KP152", k.span, &kp, "key entry has no `KeyArn`".into());
                continue;
            }
        };
        let o = origin(p, k, &kp);
        let key = p.key_mut(&arn);
        if key.origin.source.is_none() {
            key.origin = o;
        }
        let acct = key.account.clone();
        if is_account_id(&acct) {
            p.w.touch_account(&acct);
        }
    }
    p.touch_context_account();
}

fn list_resource_tags(p: &mut Part, v: &Json, ptr: &str) {
    let mut tags = Tags::new();
    for (tp, t) in objects(p, v, "Tags", ptr) {
        if let (Some(k), Some(val)) = (p.str_at(t, "TagKey", &tp), p.str_at(t, "TagValue", &tp)) {
            tags.insert(k, val);
        }
    }
    let Some(arn) = p.ctx.key_arn() else {
        let msg =
            format!("`{}` lists key tags outside a key directory (`kms/<region>/keys/<key-id>/`): ignored", p.path);
        p.assume(msg);
        return;
    };
    p.touch_context_account();
    p.key_mut(&arn).tags = Some(tags);
}

// ---------------------------------------------------------------------------------------
// IAM

fn iam_tags(p: &mut Part, v: &Json, ptr: &str) -> Tags {
    let mut tags = Tags::new();
    for (tp, t) in objects(p, v, "Tags", ptr) {
        if let (Some(k), Some(val)) = (p.str_at(t, "Key", &tp), p.str_at(t, "Value", &tp)) {
            tags.insert(k, val);
        }
    }
    tags
}

fn attached(p: &mut Part, v: &Json, ptr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (ap, a) in objects(p, v, "AttachedManagedPolicies", ptr) {
        if let Some(arn) = p.str_at(a, "PolicyArn", &ap) {
            out.push(arn);
        }
    }
    out
}

fn boundary(p: &mut Part, v: &Json, ptr: &str) -> Option<String> {
    let b = p.obj_at(v, "PermissionsBoundary", ptr)?;
    p.str_at(b, "PermissionsBoundaryArn", &child(ptr, "PermissionsBoundary"))
}

fn inline_policies(p: &mut Part, v: &Json, key: &str, ptr: &str, account: &str, holder: &str) -> Vec<PolicySlot> {
    let mut out = Vec::new();
    for (ip, entry) in objects(p, v, key, ptr) {
        out.extend(inline_policy(p, entry, &ip, account, holder));
    }
    out
}

/// One `{"PolicyName", "PolicyDocument"}` entry at `ptr`: the document as an identity policy of
/// `holder` (the AWS CLI's and iam-collect's shape).
pub(super) fn inline_policy(p: &mut Part, entry: &Json, ptr: &str, account: &str, holder: &str) -> Option<PolicySlot> {
    let name = p.str_at(entry, "PolicyName", ptr).unwrap_or_default();
    let Some(doc) = entry.get("PolicyDocument") else {
        p.diag("KP152", entry.span, ptr, format!("inline policy `{name}` has no `PolicyDocument`"));
        return None;
    };
    let spec = DocSpec {
        kind: DocKind::Identity,
        name,
        account: Some(account.to_string()).filter(|a| !a.is_empty()),
        managed_name: None,
        resource: Some(holder.to_string()),
    };
    Some(p.policy_slot(doc, &child(ptr, "PolicyDocument"), "PolicyDocument", spec))
}

/// The account an authorization-details listing belongs to, from the first ARN in it.
fn listing_account(v: &Json) -> Option<String> {
    ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"]
        .iter()
        .filter_map(|k| v.get(k).and_then(Json::as_array))
        .flatten()
        .filter_map(|e| e.get("Arn").and_then(Json::as_str))
        .find_map(account_of)
}

fn authorization_details(p: &mut Part, v: &Json, ptr: &str) {
    let account = p.ctx.account.clone().or_else(|| listing_account(v)).or_else(|| p.account_opt.clone());
    let truncated = p.bool_at(v, "IsTruncated", ptr) == Some(true);
    match &account {
        Some(a) => {
            p.w.touch_account(a);
            p.iam_pages.push(IamPage { account: a.clone(), truncated });
        }
        None => {
            let msg = format!("the account of the IAM listing `{}` is not known: give it with `--account`", p.path);
            p.assume(msg);
        }
    }
    let account = account.unwrap_or_default();
    let arn_account = |arn: &str| account_of(arn).unwrap_or_else(|| account.clone());

    for (up, u) in objects(p, v, "UserDetailList", ptr) {
        let name = p.str_at(u, "UserName", &up).unwrap_or_default();
        let path = p.str_at(u, "Path", &up).unwrap_or_else(|| "/".into());
        let arn = p.str_at(u, "Arn", &up).unwrap_or_else(|| format!("arn:aws:iam::{account}:user{path}{name}"));
        let acct = arn_account(&arn);
        let id = p.str_at(u, "UserId", &up);
        let _ = p.time_at(u, "CreateDate", &up);
        let inline = inline_policies(p, u, "UserPolicyList", &up, &acct, &arn);
        let managed = attached(p, u, &up);
        let groups = p.str_list_at(u, "GroupList", &up);
        let boundary = boundary(p, u, &up);
        let tags = iam_tags(p, u, &up);
        let origin = origin(p, u, &up);
        p.w.users.push(User { arn, account: acct, name, path, id, inline, managed, groups, boundary, tags, origin });
    }
    for (gp, g) in objects(p, v, "GroupDetailList", ptr) {
        let name = p.str_at(g, "GroupName", &gp).unwrap_or_default();
        let path = p.str_at(g, "Path", &gp).unwrap_or_else(|| "/".into());
        let arn = p.str_at(g, "Arn", &gp).unwrap_or_else(|| format!("arn:aws:iam::{account}:group{path}{name}"));
        let acct = arn_account(&arn);
        let inline = inline_policies(p, g, "GroupPolicyList", &gp, &acct, &arn);
        let managed = attached(p, g, &gp);
        p.w.groups.push(Group { arn, account: acct, name, inline, managed });
    }
    for (rp, r) in objects(p, v, "RoleDetailList", ptr) {
        let name = p.str_at(r, "RoleName", &rp).unwrap_or_default();
        let path = p.str_at(r, "Path", &rp).unwrap_or_else(|| "/".into());
        let arn = p.str_at(r, "Arn", &rp).unwrap_or_else(|| format!("arn:aws:iam::{account}:role{path}{name}"));
        let acct = arn_account(&arn);
        let id = p.str_at(r, "RoleId", &rp);
        let _ = p.time_at(r, "CreateDate", &rp);
        let trust = r.get("AssumeRolePolicyDocument").map(|doc| {
            let spec = DocSpec {
                kind: DocKind::Trust,
                name: "trust-policy".into(),
                account: Some(acct.clone()).filter(|a| !a.is_empty()),
                managed_name: None,
                resource: Some(arn.clone()),
            };
            p.policy_slot(doc, &child(&rp, "AssumeRolePolicyDocument"), "AssumeRolePolicyDocument", spec)
        });
        let inline = inline_policies(p, r, "RolePolicyList", &rp, &acct, &arn);
        let managed = attached(p, r, &rp);
        let boundary = boundary(p, r, &rp);
        let tags = iam_tags(p, r, &rp);
        let origin = origin(p, r, &rp);
        p.w.roles.push(Role { arn, account: acct, name, path, id, trust, inline, managed, boundary, tags, origin });
    }
    for (mp, m) in objects(p, v, "Policies", ptr) {
        let Some(arn) = p.str_at(m, "Arn", &mp) else {
            p.diag("KP152", m.span, &mp, "managed policy has no `Arn`".into());
            continue;
        };
        let name = p.str_at(m, "PolicyName", &mp).unwrap_or_default();
        let default_version = p.str_at(m, "DefaultVersionId", &mp);
        let mut chosen = None;
        for (vp, ver) in objects(p, m, "PolicyVersionList", &mp) {
            let is_default = p.bool_at(ver, "IsDefaultVersion", &vp);
            let version_id = p.str_at(ver, "VersionId", &vp);
            let by_flag = is_default == Some(true);
            let by_id = is_default.is_none() && version_id.is_some() && version_id == default_version;
            if chosen.is_none() && (by_flag || by_id) {
                chosen = Some((vp, ver));
            }
        }
        let slot = match chosen.and_then(|(vp, ver)| ver.get("Document").map(|d| (vp, d))) {
            Some((vp, doc)) => {
                let spec = DocSpec {
                    kind: DocKind::Identity,
                    name: arn.clone(),
                    account: account_of(&arn),
                    managed_name: Some(name.clone()),
                    resource: Some(arn.clone()),
                };
                p.policy_slot(doc, &child(&vp, "Document"), "Document", spec)
            }
            None => PolicySlot::Unknown(format!("the default version of `{arn}` is not in the listing")),
        };
        p.w.managed_policies.entry(arn.clone()).or_insert(ManagedPolicy { arn, name, policy: slot });
    }
}

// ---------------------------------------------------------------------------------------
// Organizations

fn set_org_id(p: &mut Part, arn: Option<&str>) {
    if let Some(id) = arn.and_then(org_id_of) {
        let org = p.org();
        if org.id.is_empty() {
            org.id = id;
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn org_kind(kind: Option<&str>, arn: Option<&str>) -> Option<Result<DocKind, String>> {
    match kind {
        Some("SERVICE_CONTROL_POLICY") => Some(Ok(DocKind::Scp)),
        Some("RESOURCE_CONTROL_POLICY") => Some(Ok(DocKind::Rcp)),
        Some(other) => Some(Err(other.to_string())),
        None => match arn {
            Some(a) if a.contains("/service_control_policy/") => Some(Ok(DocKind::Scp)),
            Some(a) if a.contains("/resource_control_policy/") => Some(Ok(DocKind::Rcp)),
            _ => None,
        },
    }
}

fn describe_policy(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let pp = child(ptr, "Policy");
    let Some(pol) = p.obj_at(v, "Policy", ptr) else { return };
    let sp = child(&pp, "PolicySummary");
    let (mut id, mut arn, mut name, mut kind, mut aws_managed) = (None, None, None, None, None);
    if let Some(s) = p.obj_at(pol, "PolicySummary", &pp) {
        id = p.str_at(s, "Id", &sp);
        arn = p.str_at(s, "Arn", &sp);
        name = p.str_at(s, "Name", &sp);
        kind = p.str_at(s, "Type", &sp);
        aws_managed = p.bool_at(s, "AwsManaged", &sp);
    }
    let Some(id) = id.or_else(|| cx.org_policy.clone()) else {
        p.diag("KP152", pol.span, &pp, "`PolicySummary` has no `Id`".into());
        return;
    };
    set_org_id(p, arn.as_deref());
    let doc_kind = match org_kind(kind.as_deref(), arn.as_deref()) {
        Some(Ok(k)) => k,
        Some(Err(other)) => {
            let msg = format!(
                "policy `{id}` in `{}` is a `{other}`: ignored (only service and resource control policies affect access)",
                p.path
            );
            p.assume(msg);
            return;
        }
        None => {
            let msg = format!("the type of policy `{id}` in `{}` is not given: ignored", p.path);
            p.assume(msg);
            return;
        }
    };
    let name = name.unwrap_or_else(|| id.clone());
    let slot = match pol.get("Content") {
        Some(c) => {
            let spec = DocSpec {
                kind: doc_kind,
                name: name.clone(),
                account: arn.as_deref().and_then(account_of),
                managed_name: if aws_managed == Some(true) { Some(name.clone()) } else { None },
                resource: Some(arn.clone().unwrap_or_else(|| id.clone())),
            };
            p.policy_slot(c, &child(&pp, "Content"), "Content", spec)
        }
        None => PolicySlot::Unknown(format!("the content of `{id}` was not collected")),
    };
    let origin = origin(p, pol, &pp);
    p.w.org_policies.insert(id.clone(), OrgPolicy { id, name, policy: slot, kind: doc_kind, origin });
}

fn list_policies(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let mut ids = Vec::new();
    for (ep, e) in objects(p, v, "Policies", ptr) {
        let Some(id) = p.str_at(e, "Id", &ep) else {
            p.diag("KP152", e.span, &ep, "policy summary has no `Id`".into());
            continue;
        };
        let arn = p.str_at(e, "Arn", &ep);
        let name = p.str_at(e, "Name", &ep).unwrap_or_else(|| id.clone());
        let kind = p.str_at(e, "Type", &ep);
        set_org_id(p, arn.as_deref());
        if let Some(Ok(k)) = org_kind(kind.as_deref(), arn.as_deref()) {
            let origin = origin(p, e, &ep);
            p.w.org_policies.entry(id.clone()).or_insert_with(|| OrgPolicy {
                id: id.clone(),
                name,
                policy: PolicySlot::Unknown(format!("the content of `{id}` was not collected")),
                kind: k,
                origin,
            });
        }
        ids.push(id);
    }
    if let Some(target) = cx.target_id.clone() {
        let org = p.org();
        org.attachments_complete = true;
        let list = org.attachments.entry(target).or_default();
        for id in &ids {
            push_unique(list, id);
        }
    }
}

fn describe_organization(p: &mut Part, v: &Json, ptr: &str) {
    let op = child(ptr, "Organization");
    let Some(o) = p.obj_at(v, "Organization", ptr) else { return };
    let id = p.str_at(o, "Id", &op);
    let master = p.str_at(o, "MasterAccountId", &op);
    let org = p.org();
    if let Some(id) = id {
        org.id = id;
    }
    if let Some(m) = master {
        org.management_account = Some(m.clone());
        push_unique(&mut org.accounts, &m);
        p.w.touch_account(&m);
    }
}

fn list_accounts(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    for (ap, a) in objects(p, v, "Accounts", ptr) {
        let Some(id) = p.str_at(a, "Id", &ap) else {
            p.diag("KP152", a.span, &ap, "account entry has no `Id`".into());
            continue;
        };
        let arn = p.str_at(a, "Arn", &ap);
        set_org_id(p, arn.as_deref());
        let org = p.org();
        push_unique(&mut org.accounts, &id);
        if let Some(parent) = &cx.org_parent {
            org.parents.insert(id.clone(), parent.clone());
        }
        p.w.touch_account(&id);
    }
}

fn list_roots(p: &mut Part, v: &Json, ptr: &str) {
    for (rp, r) in objects(p, v, "Roots", ptr) {
        let Some(id) = p.str_at(r, "Id", &rp) else {
            p.diag("KP152", r.span, &rp, "root entry has no `Id`".into());
            continue;
        };
        let arn = p.str_at(r, "Arn", &rp);
        set_org_id(p, arn.as_deref());
        let has_types = r.get("PolicyTypes").is_some();
        let (mut scp, mut rcp) = (false, false);
        for (tp, t) in objects(p, r, "PolicyTypes", &rp) {
            let kind = p.str_at(t, "Type", &tp);
            let enabled = p.str_at(t, "Status", &tp).as_deref() == Some("ENABLED");
            match kind.as_deref() {
                Some("SERVICE_CONTROL_POLICY") => scp |= enabled,
                Some("RESOURCE_CONTROL_POLICY") => rcp |= enabled,
                _ => {}
            }
        }
        let org = p.org();
        push_unique(&mut org.roots, &id);
        if has_types {
            org.scp_enabled = Some(scp);
            org.rcp_enabled = Some(rcp);
        }
    }
}

fn place(p: &mut Part, cx: &PathContext, children: Vec<(String, bool)>, what: &str) {
    let Some(parent) = cx.org_parent.clone() else {
        if !children.is_empty() {
            let msg = format!(
                "`{}` lists {what} but not their parent (expected under `organization/parents/<id>/`): their place is unknown",
                p.path
            );
            p.assume(msg);
        }
        return;
    };
    let org = p.org();
    for (c, is_account) in children {
        if is_account {
            push_unique(&mut org.accounts, &c);
        }
        org.parents.insert(c, parent.clone());
    }
}

fn list_ous(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let mut children = Vec::new();
    for (op, o) in objects(p, v, "OrganizationalUnits", ptr) {
        let id = p.str_at(o, "Id", &op);
        let arn = p.str_at(o, "Arn", &op);
        set_org_id(p, arn.as_deref());
        if let Some(id) = id {
            children.push((id, false));
        }
    }
    place(p, cx, children, "organizational units");
}

fn list_children(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let mut children = Vec::new();
    for (cp, c) in objects(p, v, "Children", ptr) {
        let id = p.str_at(c, "Id", &cp);
        let kind = p.str_at(c, "Type", &cp);
        if let Some(id) = id {
            let is_account = kind.as_deref() == Some("ACCOUNT") || is_account_id(&id);
            children.push((id, is_account));
        }
    }
    place(p, cx, children, "children");
}

fn list_targets(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let mut targets = Vec::new();
    for (tp, t) in objects(p, v, "Targets", ptr) {
        if let Some(id) = p.str_at(t, "TargetId", &tp) {
            targets.push(id);
        }
    }
    let Some(policy) = cx.org_policy.clone() else {
        let msg = format!(
            "`{}` lists policy targets but not the policy (expected under `organization/policies/<id>/`): ignored",
            p.path
        );
        p.assume(msg);
        return;
    };
    let org = p.org();
    for t in targets {
        push_unique(org.attachments.entry(t).or_default(), &policy);
    }
}

fn list_parents(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    let mut parent = None;
    for (pp, e) in objects(p, v, "Parents", ptr) {
        let id = p.str_at(e, "Id", &pp);
        parent = parent.or(id);
    }
    let (Some(child_id), Some(parent)) = (cx.child_id.clone(), parent) else {
        if cx.child_id.is_none() {
            let msg = format!("`{}` lists parents but not of which child (`--child-id`): ignored", p.path);
            p.assume(msg);
        }
        return;
    };
    let org = p.org();
    if is_account_id(&child_id) {
        push_unique(&mut org.accounts, &child_id);
    }
    org.parents.insert(child_id, parent);
}

fn hierarchy(p: &mut Part, v: &Json, cx: &PathContext, ptr: &str) {
    p.org();
    for m in v.members() {
        if m.key.starts_with('_') {
            continue;
        }
        let mp = child(ptr, &m.key);
        let sub = cx.with_command_args(&m.key);
        let org_shape =
            recognize(&m.value).filter(|s| s.kind().starts_with("organizations-") && *s != Shape::OrgHierarchy);
        match org_shape {
            Some(shape) => load(p, shape, &m.value, &sub, &mp),
            None => p.diag(
                "KP152",
                m.value.span,
                &mp,
                format!("the output of `{}` is not a recognised Organizations output", m.key),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// S3, DynamoDB, EC2

fn bucket_mut(p: &mut Part) -> &mut Bucket {
    let name = match p.ctx.bucket.clone() {
        Some(b) => b,
        None => {
            let stem = p.stem();
            let msg = format!("`{}` is outside `s3/<bucket>/`: bucket name taken from the file name `{stem}`", p.path);
            p.assume(msg);
            stem
        }
    };
    let account = p.ctx.account.clone().or_else(|| p.account_opt.clone()).unwrap_or_default();
    p.touch_context_account();
    let i = match p.w.buckets.iter().position(|b| b.name == name && b.account == account) {
        Some(i) => i,
        None => {
            let o = Origin { source: Some(p.src), ..Origin::default() };
            p.w.buckets.push(Bucket { name, account, origin: o, ..Bucket::default() });
            p.w.buckets.len() - 1
        }
    };
    &mut p.w.buckets[i]
}

fn bucket_encryption(p: &mut Part, v: &Json, ptr: &str) {
    let cp = child(ptr, "ServerSideEncryptionConfiguration");
    let Some(c) = p.obj_at(v, "ServerSideEncryptionConfiguration", ptr) else { return };
    let (mut alg, mut key, mut bucket_key) = (None, None, None);
    if let Some((rp, r)) = objects(p, c, "Rules", &cp).into_iter().next() {
        let dp = child(&rp, "ApplyServerSideEncryptionByDefault");
        if let Some(d) = p.obj_at(r, "ApplyServerSideEncryptionByDefault", &rp) {
            alg = p.str_at(d, "SSEAlgorithm", &dp);
            key = p.str_at(d, "KMSMasterKeyID", &dp);
        }
        bucket_key = p.bool_at(r, "BucketKeyEnabled", &rp);
    }
    let b = bucket_mut(p);
    b.sse_algorithm = alg;
    b.kms_key = key;
    b.bucket_key_enabled = bucket_key;
}

fn bucket_replication(p: &mut Part, v: &Json, ptr: &str) {
    let cp = child(ptr, "ReplicationConfiguration");
    let Some(c) = p.obj_at(v, "ReplicationConfiguration", ptr) else { return };
    let mut dests = Vec::new();
    for (rp, r) in objects(p, c, "Rules", &cp) {
        if p.str_at(r, "Status", &rp).as_deref() == Some("Disabled") {
            continue;
        }
        let dp = child(&rp, "Destination");
        let Some(d) = p.obj_at(r, "Destination", &rp) else { continue };
        let Some(bucket) = p.str_at(d, "Bucket", &dp) else { continue };
        let ep = child(&dp, "EncryptionConfiguration");
        let key = match p.obj_at(d, "EncryptionConfiguration", &dp) {
            Some(e) => p.str_at(e, "ReplicaKmsKeyID", &ep),
            None => None,
        };
        dests.push((bucket, key));
    }
    let b = bucket_mut(p);
    for d in dests {
        if !b.replication.contains(&d) {
            b.replication.push(d);
        }
    }
}

fn describe_table(p: &mut Part, v: &Json, ptr: &str) {
    let tp = child(ptr, "Table");
    let Some(t) = p.obj_at(v, "Table", ptr) else { return };
    let name = p.str_at(t, "TableName", &tp).or_else(|| p.ctx.table.clone()).unwrap_or_else(|| p.stem());
    let arn = p.str_at(t, "TableArn", &tp).unwrap_or_else(|| name.clone());
    let account = account_of(&arn).or_else(|| p.ctx.account.clone()).or_else(|| p.account_opt.clone());
    let region = region_of(&arn).or_else(|| p.ctx.region.clone()).unwrap_or_else(|| p.region.clone());
    let sp = child(&tp, "SSEDescription");
    let mut kms_key = None;
    if let Some(s) = p.obj_at(t, "SSEDescription", &tp) {
        let status = p.str_at(s, "Status", &sp);
        let kind = p.str_at(s, "SSEType", &sp);
        let key = p.str_at(s, "KMSMasterKeyArn", &sp);
        if kind.as_deref() == Some("KMS") && status.as_deref() != Some("DISABLED") {
            kms_key = key;
        }
    }
    let mut replicas = Vec::new();
    for (rp, r) in objects(p, t, "Replicas", &tp) {
        if let Some(region) = p.str_at(r, "RegionName", &rp) {
            let key = p.str_at(r, "KMSMasterKeyId", &rp);
            replicas.push((region, key));
        }
    }
    p.touch_context_account();
    let origin = origin(p, t, &tp);
    p.w.tables.push(Table { arn, account: account.unwrap_or_default(), region, kms_key, replicas, origin });
}

fn describe_snapshots(p: &mut Part, v: &Json, ptr: &str) {
    for (sp, s) in objects(p, v, "Snapshots", ptr) {
        let Some(id) = p.str_at(s, "SnapshotId", &sp).or_else(|| p.ctx.snapshot_id.clone()) else {
            p.diag("KP152", s.span, &sp, "snapshot has no `SnapshotId`".into());
            continue;
        };
        let owner = p.str_at(s, "OwnerId", &sp);
        let encrypted = p.bool_at(s, "Encrypted", &sp).unwrap_or(false);
        let kms_key = p.str_at(s, "KmsKeyId", &sp);
        let account = owner.or_else(|| p.ctx.account.clone()).unwrap_or_default();
        let region =
            p.ctx.region.clone().or_else(|| kms_key.as_deref().and_then(region_of)).unwrap_or_else(|| p.region.clone());
        let origin = origin(p, s, &sp);
        p.w.snapshots.push(Snapshot { id, account, region, encrypted, kms_key, shared_with: Vec::new(), origin });
    }
    p.touch_context_account();
}

fn snapshot_attribute(p: &mut Part, v: &Json, ptr: &str) {
    let Some(id) = p.str_at(v, "SnapshotId", ptr).or_else(|| p.ctx.snapshot_id.clone()) else {
        p.diag("KP152", v.span, ptr, "snapshot attribute names no `SnapshotId`".into());
        return;
    };
    let mut shared_with = Vec::new();
    for (cp, c) in objects(p, v, "CreateVolumePermissions", ptr) {
        if let Some(u) = p.str_at(c, "UserId", &cp) {
            shared_with.push(u);
        }
        if let Some(g) = p.str_at(c, "Group", &cp) {
            shared_with.push(g);
        }
    }
    let account = p.ctx.account.clone().unwrap_or_default();
    let region = p.ctx.region.clone().unwrap_or_else(|| p.region.clone());
    p.touch_context_account();
    let origin = origin(p, v, ptr);
    p.w.snapshots.push(Snapshot { id, account, region, encrypted: false, kms_key: None, shared_with, origin });
}
